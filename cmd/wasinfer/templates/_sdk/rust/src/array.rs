//! Output arrays the UDF owns: [`Array`] and [`BinaryBuilder`].

use std::fmt;

use crate::buffer::{BitmapBuilder, Buffer};
use crate::build::Field;
use crate::error::Error;
use crate::format::{layout, Layout, Native};

/// An output array the UDF owns: a format, a length, a validity bitmap, the
/// other buffers and the children (spec §4.2). Its offset is always 0.
pub struct Array<'a> {
    pub(crate) format: String,
    pub(crate) len: usize,
    pub(crate) null_count: usize,
    pub(crate) validity: Option<Buffer<'a>>,
    pub(crate) buffers: Vec<Buffer<'a>>,
    pub(crate) children: Vec<Field<'a>>,
}

fn check_validity(what: &str, validity: &Option<BitmapBuilder>, len: usize) -> Result<usize, Error> {
    match validity {
        Some(v) if v.len() != len => Err(Error::error(format!(
            "{}: validity has {} bits for {} slots",
            what,
            v.len(),
            len
        ))),
        Some(v) => Ok(v.count_unset()),
        None => Ok(0),
    }
}

impl Array<'static> {
    /// A fixed-width array of `values`, with optional validity (one bit per
    /// value; unset = null).
    pub fn primitive<T: Native>(values: Vec<T>, validity: Option<BitmapBuilder>) -> Result<Array<'static>, Error> {
        let len = values.len();
        let null_count = check_validity(T::FORMAT, &validity, len)?;
        Ok(Array {
            format: T::FORMAT.to_string(),
            len,
            null_count,
            validity: validity.map(BitmapBuilder::into_buffer),
            buffers: vec![Buffer::from_vec(values)],
            children: Vec::new(),
        })
    }

    /// A fixed-width array with no nulls.
    pub fn from_values<T: Native>(values: Vec<T>) -> Array<'static> {
        let len = values.len();
        Array {
            format: T::FORMAT.to_string(),
            len,
            null_count: 0,
            validity: None,
            buffers: vec![Buffer::from_vec(values)],
            children: Vec::new(),
        }
    }

    /// A fixed-width array from optional values (`None` = null, stored as
    /// `T::default()`).
    pub fn from_options<T: Native>(values: impl IntoIterator<Item = Option<T>>) -> Array<'static> {
        let mut out = Vec::new();
        let mut validity = BitmapBuilder::new();
        for v in values {
            validity.push(v.is_some());
            out.push(v.unwrap_or_default());
        }
        let null_count = validity.count_unset();
        let validity = if null_count == 0 {
            None
        } else {
            Some(validity.into_buffer())
        };
        Array {
            format: T::FORMAT.to_string(),
            len: out.len(),
            null_count,
            validity,
            buffers: vec![Buffer::from_vec(out)],
            children: Vec::new(),
        }
    }

    /// A boolean array (`b`).
    pub fn boolean(values: BitmapBuilder, validity: Option<BitmapBuilder>) -> Result<Array<'static>, Error> {
        let len = values.len();
        let null_count = check_validity("b", &validity, len)?;
        Ok(Array {
            format: "b".to_string(),
            len,
            null_count,
            validity: validity.map(BitmapBuilder::into_buffer),
            buffers: vec![values.into_buffer()],
            children: Vec::new(),
        })
    }

    /// An array of the null type (`n`): `len` nulls, no buffers.
    pub fn nulls(len: usize) -> Array<'static> {
        Array {
            format: "n".to_string(),
            len,
            null_count: len,
            validity: None,
            buffers: Vec::new(),
            children: Vec::new(),
        }
    }
}

impl<'a> Array<'a> {
    /// A fixed_size_list array (`+w:size`) over `child`, which holds
    /// `size` values per slot.
    pub fn fixed_size_list(size: usize, child: Field<'a>, validity: Option<BitmapBuilder>) -> Result<Array<'a>, Error> {
        if size == 0 || size > i32::MAX as usize {
            return Err(Error::error(format!("fixed_size_list size {} out of range", size)));
        }
        let child_len = child.len();
        if child_len % size != 0 {
            return Err(Error::error(format!(
                "fixed_size_list of size {}: child {:?} has {} values, not a multiple",
                size,
                child.name(),
                child_len
            )));
        }
        let len = child_len / size;
        let null_count = check_validity("fixed_size_list", &validity, len)?;
        Ok(Array {
            format: format!("+w:{}", size),
            len,
            null_count,
            validity: validity.map(BitmapBuilder::into_buffer),
            buffers: Vec::new(),
            children: vec![child],
        })
    }

    /// A list array (`+l`): slot `i` holds child slots
    /// `offsets[i]..offsets[i + 1]`.
    pub fn list(offsets: Vec<i32>, child: Field<'a>, validity: Option<BitmapBuilder>) -> Result<Array<'a>, Error> {
        if offsets.is_empty() {
            return Err(Error::error("list: offsets must hold len + 1 entries"));
        }
        for i in 0..offsets.len() {
            if offsets[i] < 0 || (i > 0 && offsets[i] < offsets[i - 1]) {
                return Err(Error::error(format!(
                    "list: offsets negative or decreasing at index {}",
                    i
                )));
            }
        }
        let last = *offsets.last().unwrap_or(&0) as usize;
        if last > child.len() {
            return Err(Error::error(format!(
                "list: last offset {} beyond the child's {} values",
                last,
                child.len()
            )));
        }
        let len = offsets.len() - 1;
        let null_count = check_validity("list", &validity, len)?;
        Ok(Array {
            format: "+l".to_string(),
            len,
            null_count,
            validity: validity.map(BitmapBuilder::into_buffer),
            buffers: vec![Buffer::from_vec(offsets)],
            children: vec![child],
        })
    }

    /// A struct array (`+s`) of `fields`, each `len` slots long.
    pub fn struct_of(fields: Vec<Field<'a>>, len: usize, validity: Option<BitmapBuilder>) -> Result<Array<'a>, Error> {
        for f in &fields {
            if f.len() != len {
                return Err(Error::error(format!(
                    "struct: field {:?} has {} slots, want {}",
                    f.name(),
                    f.len(),
                    len
                )));
            }
        }
        let null_count = check_validity("struct", &validity, len)?;
        Ok(Array {
            format: "+s".to_string(),
            len,
            null_count,
            validity: validity.map(BitmapBuilder::into_buffer),
            buffers: Vec::new(),
            children: fields,
        })
    }

    /// Any array of spec §4.2 from its parts: the buffers after validity,
    /// in the format's order. The parts are checked for number, not size:
    /// the host validates sizes and rejects the batch if they are short.
    pub fn from_parts(
        format: &str,
        len: usize,
        validity: Option<BitmapBuilder>,
        buffers: Vec<Buffer<'a>>,
        children: Vec<Field<'a>>,
    ) -> Result<Array<'a>, Error> {
        let lay =
            layout(format).ok_or_else(|| Error::error(format!("format {:?} is not supported by ABI v1", format)))?;
        let want = lay.n_buffers().saturating_sub(1);
        if buffers.len() != want {
            return Err(Error::error(format!(
                "format {:?} takes {} buffers after validity, got {}",
                format,
                want,
                buffers.len()
            )));
        }
        if let Some(n) = lay.n_children() {
            if children.len() != n {
                return Err(Error::error(format!(
                    "format {:?} takes {} children, got {}",
                    format,
                    n,
                    children.len()
                )));
            }
        }
        let null_count = if lay == Layout::Null {
            len
        } else {
            check_validity(format, &validity, len)?
        };
        Ok(Array {
            format: format.to_string(),
            len,
            null_count,
            validity: validity.map(BitmapBuilder::into_buffer),
            buffers,
            children,
        })
    }

    /// The same buffers under another format of the same physical layout,
    /// e.g. an `i32` array as `date32` (`tdD`), or `i64` as a timestamp.
    pub fn with_format(mut self, format: &str) -> Result<Array<'a>, Error> {
        let (old, new) = (layout(&self.format), layout(format));
        if new.is_none() || old != new {
            return Err(Error::error(format!(
                "format {:?} does not share the layout of {:?}",
                format, self.format
            )));
        }
        self.format = format.to_string();
        Ok(self)
    }

    /// The number of slots.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no slots.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The format string.
    pub fn format(&self) -> &str {
        &self.format
    }

    /// The number of nulls.
    pub fn null_count(&self) -> usize {
        self.null_count
    }
}

impl fmt::Debug for Array<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Array")
            .field("format", &self.format)
            .field("len", &self.len)
            .field("null_count", &self.null_count)
            .field("children", &self.children)
            .finish()
    }
}

/// Builds a `utf8` (`u`) or `binary` (`z`) array.
#[derive(Debug)]
pub struct BinaryBuilder {
    utf8: bool,
    offsets: Vec<i32>,
    data: Vec<u8>,
    validity: BitmapBuilder,
    nulls: usize,
    overflow: bool,
}

impl BinaryBuilder {
    /// A builder of utf8 values.
    pub fn utf8() -> BinaryBuilder {
        BinaryBuilder {
            utf8: true,
            offsets: vec![0],
            data: Vec::new(),
            validity: BitmapBuilder::new(),
            nulls: 0,
            overflow: false,
        }
    }

    /// A builder of binary values.
    pub fn binary() -> BinaryBuilder {
        BinaryBuilder {
            utf8: false,
            ..BinaryBuilder::utf8()
        }
    }

    fn end(&mut self) {
        match i32::try_from(self.data.len()) {
            Ok(n) => self.offsets.push(n),
            Err(_) => {
                self.overflow = true;
                self.offsets.push(i32::MAX);
            }
        }
    }

    /// Appends a text value.
    pub fn push_str(&mut self, value: &str) {
        self.push_bytes_unchecked(value.as_bytes());
    }

    /// Appends a byte value.
    ///
    /// # Panics
    /// On a utf8 builder, when `value` is not UTF-8 (use
    /// [`BinaryBuilder::push_str`]).
    pub fn push_bytes(&mut self, value: &[u8]) {
        if self.utf8 {
            assert!(
                std::str::from_utf8(value).is_ok(),
                "BinaryBuilder::push_bytes: utf8 column value is not UTF-8"
            );
        }
        self.push_bytes_unchecked(value);
    }

    fn push_bytes_unchecked(&mut self, value: &[u8]) {
        self.data.extend_from_slice(value);
        self.validity.push(true);
        self.end();
    }

    /// Appends a null.
    pub fn push_null(&mut self) {
        self.validity.push(false);
        self.nulls += 1;
        self.end();
    }

    /// The number of values so far.
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Whether no value was appended.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The array.
    ///
    /// # Errors
    /// `ERROR` when the data passed 2 GiB (the limit of int32 offsets).
    pub fn finish(self) -> Result<Array<'static>, Error> {
        if self.overflow {
            return Err(Error::error("utf8/binary column data exceeds 2 GiB (int32 offsets)"));
        }
        let len = self.len();
        Ok(Array {
            format: if self.utf8 { "u" } else { "z" }.to_string(),
            len,
            null_count: self.nulls,
            validity: if self.nulls == 0 {
                None
            } else {
                Some(self.validity.into_buffer())
            },
            buffers: vec![Buffer::from_vec(self.offsets), Buffer::from_vec(self.data)],
            children: Vec::new(),
        })
    }
}
