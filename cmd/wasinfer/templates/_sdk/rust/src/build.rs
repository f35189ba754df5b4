//! The output batch (spec §5.2): columns passed through from the input, and
//! new columns the UDF owns.
//!
//! An [`OutBatch`] holds [`Field`]s. A field either aliases an input column
//! ([`Field::from_column`], zero-copy: the output points at the input's
//! structures and buffers, which the host copies before it reuses them) or
//! owns an [`Array`](crate::Array). Owned memory is freed exactly once, when the
//! host calls `wasinfer_release` (or at once, when the transform fails).

use std::fmt;

use crate::array::Array;
use crate::error::Error;
use crate::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use crate::metadata::Metadata;
use crate::view::{Batch, Column};

/// Output metadata: none, the input's bytes as they are, or owned pairs.
pub(crate) enum MetadataOut<'a> {
    Borrowed(Metadata<'a>),
    Owned(Vec<(Vec<u8>, Vec<u8>)>),
}

impl<'a> MetadataOut<'a> {
    fn set(&mut self, key: String, value: Vec<u8>) {
        if let MetadataOut::Borrowed(md) = self {
            *self = MetadataOut::Owned(md.iter().map(|(k, v)| (k.to_vec(), v.to_vec())).collect());
        }
        if let MetadataOut::Owned(pairs) = self {
            match pairs.iter_mut().find(|(k, _)| *k == key.as_bytes()) {
                Some(pair) => pair.1 = value,
                None => pairs.push((key.into_bytes(), value)),
            }
        }
    }

    fn is_unchanged(&self) -> bool {
        matches!(self, MetadataOut::Borrowed(_))
    }

    /// The spec §4 encoding; `None` for no pairs.
    pub(crate) fn encode(&self) -> Result<Option<Vec<u8>>, Error> {
        let pairs = match self {
            MetadataOut::Borrowed(_) => return Ok(None), // not called for borrowed
            MetadataOut::Owned(p) if p.is_empty() => return Ok(None),
            MetadataOut::Owned(p) => p,
        };
        let too_long = || Error::error("metadata larger than 2 GiB");
        let mut out = Vec::new();
        out.extend_from_slice(&i32::try_from(pairs.len()).map_err(|_| too_long())?.to_ne_bytes());
        for (k, v) in pairs {
            for part in [k, v] {
                out.extend_from_slice(&i32::try_from(part.len()).map_err(|_| too_long())?.to_ne_bytes());
                out.extend_from_slice(part);
            }
        }
        Ok(Some(out))
    }
}

pub(crate) enum FieldData<'a> {
    Owned(Array<'a>),
    Alias(Column<'a>),
    /// Structures made by another producer, owned from now on.
    Adopted(Box<FFI_ArrowSchema>, Box<FFI_ArrowArray>),
}

/// A named output column (or child): an owned [`Array`] or an input column
/// passed through, with its nullability and metadata.
pub struct Field<'a> {
    pub(crate) name: String,
    pub(crate) nullable: bool,
    pub(crate) metadata: MetadataOut<'a>,
    pub(crate) data: FieldData<'a>,
    /// For an alias: whether name, nullability and metadata are the input's.
    pub(crate) schema_unchanged: bool,
}

impl<'a> Field<'a> {
    /// A nullable field owning `array`, with no metadata.
    pub fn new(name: impl Into<String>, array: Array<'a>) -> Field<'a> {
        Field {
            name: name.into(),
            nullable: true,
            metadata: MetadataOut::Owned(Vec::new()),
            data: FieldData::Owned(array),
            schema_unchanged: false,
        }
    }

    /// A field that passes `column` through unchanged: same name, flags,
    /// metadata and data, aliasing the input's structures (spec §5.2).
    ///
    /// # Errors
    /// `ERROR` when the view does not start where its array does (a field of
    /// a struct read through a non-zero struct offset): copy it instead.
    pub fn from_column(column: &Column<'a>) -> Result<Field<'a>, Error> {
        if !column.is_passthrough_compatible() {
            return Err(Error::in_column(
                crate::Status::Error,
                column.path(),
                "cannot pass this view through: it does not start at its array's offset",
            ));
        }
        Ok(Field {
            name: column.name().to_string(),
            nullable: column.is_nullable(),
            metadata: MetadataOut::Borrowed(column.metadata()),
            data: FieldData::Alias(*column),
            schema_unchanged: true,
        })
    }

    /// Adopts a column exported by another producer as C Data Interface
    /// structures, for example by `arrow::ffi::to_ffi` in arrow-rs (whose
    /// structures have the same layout, see [`crate::ffi`]). The output owns
    /// them from now on and calls their release callbacks when the host
    /// releases it. Name, nullability and metadata are the schema's; such a
    /// field cannot be renamed or re-annotated (exporting it then fails).
    ///
    /// # Errors
    /// `ERROR` when a structure is already released, its length negative or
    /// its name not UTF-8.
    ///
    /// # Safety
    /// The structures must be valid per the C Data Interface and own their
    /// data (release callbacks set); the host validates the rest.
    pub unsafe fn from_ffi(schema: FFI_ArrowSchema, array: FFI_ArrowArray) -> Result<Field<'static>, Error> {
        if schema.is_released() || array.is_released() {
            return Err(Error::error("Field::from_ffi: structure already released"));
        }
        let name = match schema.name_cstr().map(|n| n.to_str()) {
            None => String::new(),
            Some(Ok(n)) => n.to_string(),
            Some(Err(_)) => return Err(Error::error("Field::from_ffi: name is not UTF-8")),
        };
        if array.length < 0 || usize::try_from(array.length).is_err() {
            return Err(Error::in_column(
                crate::Status::Error,
                &name,
                format!("length {}", array.length),
            ));
        }
        let nullable = schema.flags & crate::ffi::FLAG_NULLABLE != 0;
        let (schema, array) = (Box::new(schema), Box::new(array));
        Ok(Field {
            name,
            nullable,
            metadata: MetadataOut::Borrowed(Metadata::from_ptr(std::ptr::null())),
            data: FieldData::Adopted(schema, array),
            schema_unchanged: true,
        })
    }

    /// The same field under another name.
    pub fn with_name(mut self, name: impl Into<String>) -> Field<'a> {
        self.name = name.into();
        self.schema_unchanged = false;
        self
    }

    /// Sets whether the field is nullable (`FLAG_NULLABLE`).
    pub fn nullable(mut self, nullable: bool) -> Field<'a> {
        if nullable != self.nullable {
            self.nullable = nullable;
            self.schema_unchanged = false;
        }
        self
    }

    /// Adds a metadata pair, or replaces the value of an existing key (in
    /// place). Pairs keep the order they were first added in.
    pub fn with_metadata(mut self, key: impl Into<String>, value: impl Into<Vec<u8>>) -> Field<'a> {
        self.metadata.set(key.into(), value.into());
        self.schema_unchanged = false;
        self
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the field is nullable.
    pub fn is_nullable(&self) -> bool {
        self.nullable
    }

    /// The number of slots.
    pub fn len(&self) -> usize {
        match &self.data {
            FieldData::Owned(a) => a.len(),
            FieldData::Alias(c) => c.len(),
            FieldData::Adopted(_, a) => a.length as usize,
        }
    }

    /// Whether there are no slots.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn schema_is_alias(&self) -> bool {
        self.schema_unchanged && self.metadata.is_unchanged()
    }
}

impl fmt::Debug for Field<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Field");
        d.field("name", &self.name).field("nullable", &self.nullable);
        match &self.data {
            FieldData::Owned(a) => d.field("array", a),
            FieldData::Alias(c) => d.field("alias", c),
            FieldData::Adopted(s, _) => d.field("adopted", s),
        };
        d.finish()
    }
}

/// The output of one transform: a row count and columns in order, plus
/// schema-level metadata.
///
/// Every column must have exactly `num_rows()` slots; [`OutBatch::push`]
/// checks it.
pub struct OutBatch<'a> {
    pub(crate) rows: usize,
    pub(crate) fields: Vec<Field<'a>>,
    pub(crate) metadata: MetadataOut<'a>,
}

impl<'a> OutBatch<'a> {
    /// An output of `rows` rows, no columns, no metadata.
    pub fn new(rows: usize) -> OutBatch<'a> {
        OutBatch {
            rows,
            fields: Vec::new(),
            metadata: MetadataOut::Owned(Vec::new()),
        }
    }

    /// The input as it is: every column passed through, schema metadata
    /// kept. Nothing is copied.
    pub fn from_input(input: &Batch<'a>) -> Result<OutBatch<'a>, Error> {
        let mut out = OutBatch::new(input.num_rows());
        for c in input.columns() {
            out.pass_through(c)?;
        }
        out.metadata = MetadataOut::Borrowed(input.metadata());
        Ok(out)
    }

    /// Appends `column` unchanged, aliasing the input (see
    /// [`Field::from_column`]).
    pub fn pass_through(&mut self, column: &Column<'a>) -> Result<&mut OutBatch<'a>, Error> {
        self.push(Field::from_column(column)?)
    }

    /// Appends a column.
    ///
    /// # Errors
    /// `ERROR` naming the column when its length is not the row count.
    pub fn push(&mut self, field: Field<'a>) -> Result<&mut OutBatch<'a>, Error> {
        if field.len() != self.rows {
            return Err(Error::in_column(
                crate::Status::Error,
                &field.name,
                format!("has {} slots, the output batch {} rows", field.len(), self.rows),
            ));
        }
        self.fields.push(field);
        Ok(self)
    }

    /// Appends a new nullable column owning `array`, with no metadata.
    pub fn push_array(&mut self, name: impl Into<String>, array: Array<'a>) -> Result<&mut OutBatch<'a>, Error> {
        self.push(Field::new(name, array))
    }

    /// Keeps the input's schema-level metadata.
    pub fn keep_metadata(&mut self, input: &Batch<'a>) -> &mut OutBatch<'a> {
        self.metadata = MetadataOut::Borrowed(input.metadata());
        self
    }

    /// Adds or replaces a schema-level metadata pair.
    pub fn set_metadata(&mut self, key: impl Into<String>, value: impl Into<Vec<u8>>) -> &mut OutBatch<'a> {
        self.metadata.set(key.into(), value.into());
        self
    }

    /// The row count.
    pub fn num_rows(&self) -> usize {
        self.rows
    }

    /// The number of columns.
    pub fn num_columns(&self) -> usize {
        self.fields.len()
    }

    /// The columns.
    pub fn fields(&self) -> &[Field<'a>] {
        &self.fields
    }
}

impl fmt::Debug for OutBatch<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutBatch")
            .field("rows", &self.rows)
            .field("fields", &self.fields)
            .finish()
    }
}
