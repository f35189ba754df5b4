//! Read-only views of the input batch (spec §4, §5.1).
//!
//! The host lends the input for the duration of one `wasinfer_transform`
//! call: every view here borrows it for `'a`, so the borrow checker keeps a
//! UDF from holding on to it. Views honour the `offset` of every array: index
//! `i` of a view is slot `offset + i` of the underlying buffers.
//!
//! Constructing a view checks the structure (pointers, counts, formats); the
//! sizes of the buffers themselves are not described by the C Data Interface
//! and are trusted to be as spec §4.3 requires (the host allocates them).
//! Variable-length offsets are checked before they are used to slice data.

use std::ffi::c_void;
use std::fmt;
use std::os::raw::c_char;

use crate::error::{Error, Status};
use crate::ffi::{FFI_ArrowArray, FFI_ArrowSchema, FLAG_NULLABLE};
use crate::format::{layout, Layout, Native};
use crate::metadata::Metadata;
use crate::values::{BinaryView, Bitmap, FixedSizeListView, ListView, Offsets};

fn bad_input(path: &str, message: impl fmt::Display) -> Error {
    if path.is_empty() {
        Error::error(format!("input batch: {}", message))
    } else {
        Error::error(format!("column {:?}: {}", path, message))
    }
}

fn to_usize(v: i64) -> Option<usize> {
    if v < 0 {
        None
    } else {
        usize::try_from(v).ok()
    }
}

/// Reads a NUL-terminated string as UTF-8.
unsafe fn c_str<'a>(p: *const c_char) -> Result<&'a str, std::str::Utf8Error> {
    if p.is_null() {
        return Ok("");
    }
    std::ffi::CStr::from_ptr(p).to_str()
}

/// A batch lent by the host: a struct array whose children are the columns
/// (spec §4.1).
pub struct Batch<'a> {
    schema: &'a FFI_ArrowSchema,
    array: &'a FFI_ArrowArray,
    rows: usize,
    columns: Vec<Column<'a>>,
}

impl<'a> Batch<'a> {
    /// Views a batch given as C Data Interface structures.
    ///
    /// # Errors
    /// `ERROR` when the structures are malformed: not a `+s` struct, counts
    /// that disagree, NULL pointers where the spec requires one, formats
    /// outside spec §4.2, names that are not UTF-8.
    ///
    /// # Safety
    /// Both structures, everything they point to, and every buffer (of the
    /// size its array's format, length and offset imply, spec §4.3) must be
    /// valid and unmodified for `'a`.
    pub unsafe fn from_ffi(schema: &'a FFI_ArrowSchema, array: &'a FFI_ArrowArray) -> Result<Batch<'a>, Error> {
        let format = c_str(schema.format).map_err(|_| bad_input("", "format is not UTF-8"))?;
        if format != "+s" {
            return Err(bad_input("", format!("format {:?}, want \"+s\"", format)));
        }
        let rows = to_usize(array.length).ok_or_else(|| bad_input("", format!("length {}", array.length)))?;
        let offset = to_usize(array.offset).ok_or_else(|| bad_input("", format!("offset {}", array.offset)))?;
        let top = Column::new(schema, array, rows, offset, true, Some(""))?;
        if let Some(v) = top.validity() {
            if v.count_unset() != 0 {
                return Err(bad_input("", "the top-level struct has null rows"));
            }
        }
        let n = top.num_children();
        let mut columns = Vec::with_capacity(n);
        for i in 0..n {
            columns.push(top.field(i)?);
        }
        Ok(Batch {
            schema,
            array,
            rows,
            columns,
        })
    }

    /// The number of rows.
    pub fn num_rows(&self) -> usize {
        self.rows
    }

    /// The number of columns.
    pub fn num_columns(&self) -> usize {
        self.columns.len()
    }

    /// The columns, in order.
    pub fn columns(&self) -> &[Column<'a>] {
        &self.columns
    }

    /// Column `i`, if there is one.
    pub fn column(&self, i: usize) -> Option<Column<'a>> {
        self.columns.get(i).copied()
    }

    /// The first column named `name`, if there is one.
    pub fn column_by_name(&self, name: &str) -> Option<Column<'a>> {
        self.columns.iter().find(|c| c.name() == name).copied()
    }

    /// The first column named `name`, or an `UNSUPPORTED_INPUT` error that
    /// names it and lists the columns the batch has.
    pub fn require(&self, name: &str) -> Result<Column<'a>, Error> {
        self.column_by_name(name).ok_or_else(|| {
            let names: Vec<String> = self.columns.iter().map(|c| format!("{:?}", c.name())).collect();
            Error::in_column(
                Status::UnsupportedInput,
                name,
                format!(
                    "not found in the input (columns: {})",
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(", ")
                    }
                ),
            )
        })
    }

    /// The schema-level metadata.
    pub fn metadata(&self) -> Metadata<'a> {
        // SAFETY: from_ffi's contract covers the metadata pointer.
        unsafe { Metadata::from_ptr(self.schema.metadata) }
    }

    /// The underlying schema structure.
    pub fn ffi_schema(&self) -> &'a FFI_ArrowSchema {
        self.schema
    }

    /// The underlying array structure.
    pub fn ffi_array(&self) -> &'a FFI_ArrowArray {
        self.array
    }
}

impl fmt::Debug for Batch<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Batch")
            .field("rows", &self.rows)
            .field("columns", &self.columns)
            .finish()
    }
}

/// A column (or a nested child) of the input: a schema node, an array node
/// and the window of slots it covers.
#[derive(Clone, Copy)]
pub struct Column<'a> {
    schema: &'a FFI_ArrowSchema,
    array: &'a FFI_ArrowArray,
    name: &'a str,
    format: &'a str,
    layout: Layout,
    pub(crate) len: usize,
    pub(crate) offset: usize,
    /// The window is exactly the array's own (it starts at the array's
    /// offset), so the structures can be passed to the output as they are.
    pub(crate) exact: bool,
    /// The top-level column this view belongs to, for messages.
    top: &'a str,
}

impl<'a> Column<'a> {
    /// Views one array. `top` is the name of the top-level column it belongs
    /// to (`None`: this is one).
    ///
    /// # Safety
    /// As for [`Batch::from_ffi`].
    unsafe fn new(
        schema: &'a FFI_ArrowSchema,
        array: &'a FFI_ArrowArray,
        len: usize,
        offset: usize,
        exact: bool,
        top: Option<&'a str>,
    ) -> Result<Column<'a>, Error> {
        let name = c_str(schema.name).map_err(|_| bad_input(top.unwrap_or(""), "a field name is not UTF-8"))?;
        let p = top.unwrap_or(name);
        if schema.format.is_null() {
            return Err(bad_input(p, "format is NULL"));
        }
        let format = c_str(schema.format).map_err(|_| bad_input(p, "format is not UTF-8"))?;
        let lay =
            layout(format).ok_or_else(|| bad_input(p, format!("type {:?} is not supported by ABI v1", format)))?;
        if array.length < 0 || array.offset < 0 {
            return Err(bad_input(p, format!("length {} offset {}", array.length, array.offset)));
        }
        if schema.n_children != array.n_children || schema.n_children < 0 {
            return Err(bad_input(
                p,
                format!(
                    "schema has {} children, array has {}",
                    schema.n_children, array.n_children
                ),
            ));
        }
        if let Some(want) = lay.n_children() {
            if schema.n_children as usize != want {
                return Err(bad_input(
                    p,
                    format!("format {:?} with {} children", format, schema.n_children),
                ));
            }
        }
        if array.n_buffers != lay.n_buffers() as i64 {
            return Err(bad_input(
                p,
                format!("format {:?} with {} buffers", format, array.n_buffers),
            ));
        }
        if array.n_buffers > 0 && array.buffers.is_null() {
            return Err(bad_input(p, "buffers pointer is NULL"));
        }
        if array.n_children > 0 && (array.children.is_null() || schema.children.is_null()) {
            return Err(bad_input(p, "children pointer is NULL"));
        }
        if schema.dictionary.is_null() != array.dictionary.is_null() {
            return Err(bad_input(p, "dictionary present on one side only"));
        }
        Ok(Column {
            schema,
            array,
            name,
            format,
            layout: lay,
            len,
            offset,
            exact,
            top: p,
        })
    }

    /// The field name.
    pub fn name(&self) -> &'a str {
        self.name
    }

    /// The format string (spec §4.2).
    pub fn format(&self) -> &'a str {
        self.format
    }

    /// The number of slots.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the column has no slots.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The index of the first slot in the buffers.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The schema flags (`FLAG_*`).
    pub fn flags(&self) -> i64 {
        self.schema.flags
    }

    /// Whether the field is declared nullable.
    pub fn is_nullable(&self) -> bool {
        self.schema.flags & FLAG_NULLABLE != 0
    }

    /// The field metadata.
    pub fn metadata(&self) -> Metadata<'a> {
        // SAFETY: the constructor's contract covers the metadata pointer.
        unsafe { Metadata::from_ptr(self.schema.metadata) }
    }

    /// The underlying schema structure.
    pub fn ffi_schema(&self) -> &'a FFI_ArrowSchema {
        self.schema
    }

    /// The underlying array structure (its own `offset` and `length`, not
    /// this view's window).
    pub fn ffi_array(&self) -> &'a FFI_ArrowArray {
        self.array
    }

    /// Whether this view covers the array exactly as its structure
    /// describes it, so it can be passed through to the output.
    pub fn is_passthrough_compatible(&self) -> bool {
        self.exact
    }

    /// The name used in messages: the top-level column's name.
    pub(crate) fn path(&self) -> &'a str {
        self.top
    }

    fn err(&self, message: impl fmt::Display) -> Error {
        Error::in_column(Status::Error, self.path(), message)
    }

    fn type_err(&self, want: &str) -> Error {
        Error::in_column(
            Status::UnsupportedInput,
            self.path(),
            format!("type {:?} is not {}", self.format, want),
        )
    }

    /// Buffer `i` (validity is 0) as a raw pointer; NULL when absent.
    pub fn buffer_ptr(&self, i: usize) -> *const c_void {
        if i >= self.layout.n_buffers() {
            return std::ptr::null();
        }
        // SAFETY: n_buffers was checked against the layout; buffers is
        // non-NULL when n_buffers > 0.
        unsafe { *self.array.buffers.add(i) }
    }

    /// The validity bitmap over this view's slots; `None` when every slot is
    /// valid (a NULL validity buffer). The null type (`n`) has no validity
    /// buffer but is all nulls: use [`Column::is_valid`] for it.
    pub fn validity(&self) -> Option<Bitmap<'a>> {
        if self.layout == Layout::Null {
            return None;
        }
        let p = self.buffer_ptr(0) as *const u8;
        if p.is_null() {
            return None;
        }
        // SAFETY: a validity buffer holds offset + length bits (spec §4.3).
        Some(unsafe { Bitmap::from_raw(p, self.offset, self.len) })
    }

    /// Whether slot `i` of the view is valid (not null).
    ///
    /// # Panics
    /// When `i >= len()`.
    pub fn is_valid(&self, i: usize) -> bool {
        assert!(
            i < self.len,
            "index {} out of range for column of length {}",
            i,
            self.len
        );
        if self.layout == Layout::Null {
            return false;
        }
        self.validity().map_or(true, |v| v.get(i))
    }

    /// Whether slot `i` of the view is null.
    ///
    /// # Panics
    /// When `i >= len()`.
    pub fn is_null(&self, i: usize) -> bool {
        !self.is_valid(i)
    }

    /// The number of null slots in the view, counted from the bitmap.
    pub fn null_count(&self) -> usize {
        if self.layout == Layout::Null {
            return self.len;
        }
        self.validity().map_or(0, |v| v.count_unset())
    }

    /// The values of a fixed-width column as a slice of `T`, one per slot
    /// (null slots hold unspecified values).
    ///
    /// # Errors
    /// `UNSUPPORTED_INPUT` when the column's type is not stored as `T`
    /// ([`Native::accepts`]); `ERROR` when the buffer is NULL or misaligned.
    pub fn primitive<T: Native>(&self) -> Result<&'a [T], Error> {
        if !T::accepts(self.format) {
            return Err(self.type_err(&format!("{:?} ({})", T::FORMAT, std::any::type_name::<T>())));
        }
        // SAFETY: the values buffer holds offset + length values (spec §4.3).
        unsafe { self.typed_buffer::<T>(1, self.offset, self.len) }
    }

    unsafe fn typed_buffer<T>(&self, i: usize, start: usize, len: usize) -> Result<&'a [T], Error> {
        if len == 0 {
            return Ok(&[]);
        }
        let p = self.buffer_ptr(i) as *const T;
        if p.is_null() {
            return Err(self.err(format!("buffer {} is NULL", i)));
        }
        if (p as usize) % std::mem::align_of::<T>() != 0 {
            return Err(self.err(format!(
                "buffer {} is not aligned to {} bytes",
                i,
                std::mem::align_of::<T>()
            )));
        }
        Ok(std::slice::from_raw_parts(p.add(start), len))
    }

    /// The raw bytes of a fixed-width column (any `Fixed` format: integers,
    /// floats, temporal types, decimals, `w:N`), and the width of one value.
    /// Slot `i` of the view is `bytes[i * width..(i + 1) * width]`.
    pub fn fixed_bytes(&self) -> Result<(&'a [u8], usize), Error> {
        let width = match self.layout {
            Layout::Fixed(w) => w,
            _ => return Err(self.type_err("a fixed-width type")),
        };
        let start = self
            .offset
            .checked_mul(width)
            .ok_or_else(|| self.err("offset overflows"))?;
        let len = self
            .len
            .checked_mul(width)
            .ok_or_else(|| self.err("length overflows"))?;
        // SAFETY: the values buffer holds (offset + length) * width bytes.
        unsafe { self.typed_buffer::<u8>(1, start, len).map(|b| (b, width)) }
    }

    /// The values of a boolean column (`b`) as a bitmap over the view.
    pub fn booleans(&self) -> Result<Bitmap<'a>, Error> {
        if self.layout != Layout::Bool {
            return Err(self.type_err("boolean"));
        }
        let p = self.buffer_ptr(1) as *const u8;
        if p.is_null() {
            if self.offset + self.len == 0 {
                return Ok(Bitmap {
                    bytes: &[],
                    offset: 0,
                    len: 0,
                });
            }
            return Err(self.err("values buffer is NULL"));
        }
        // SAFETY: the values bitmap holds offset + length bits.
        Ok(unsafe { Bitmap::from_raw(p, self.offset, self.len) })
    }

    /// A binary or string column (`z u Z U`): values by index.
    ///
    /// Checks the offsets, and for `u`/`U` that the data is UTF-8 with every
    /// value on a character boundary: O(length + data), once per call.
    ///
    /// # Errors
    /// `UNSUPPORTED_INPUT` for other types; `ERROR` when offsets are
    /// negative or decreasing, or (for `u`, `U`) data is not UTF-8.
    pub fn binary(&self) -> Result<BinaryView<'a>, Error> {
        let large = match self.layout {
            Layout::Binary => false,
            Layout::LargeBinary => true,
            _ => return Err(self.type_err("binary or utf8")),
        };
        let n = self.len + 1;
        let offsets = if self.offset + self.len == 0 && self.buffer_ptr(1).is_null() {
            Offsets::Small(&[0])
        } else if large {
            // SAFETY: the offsets buffer holds offset + length + 1 entries.
            Offsets::Large(unsafe { self.typed_buffer::<i64>(1, self.offset, n)? })
        } else {
            // SAFETY: as above.
            Offsets::Small(unsafe { self.typed_buffer::<i32>(1, self.offset, n)? })
        };
        let (first, last) = offsets
            .check()
            .map_err(|i| self.err(format!("offsets negative or decreasing at index {}", i)))?;
        let data = if last == 0 {
            &[][..]
        } else {
            let p = self.buffer_ptr(2) as *const u8;
            if p.is_null() {
                return Err(self.err("data buffer is NULL"));
            }
            // SAFETY: the data buffer holds at least the last offset's bytes.
            unsafe { std::slice::from_raw_parts(p, last) }
        };
        let utf8 = matches!(self.format, "u" | "U");
        if utf8 {
            let text = std::str::from_utf8(&data[first..])
                .map_err(|e| self.err(format!("invalid UTF-8 at data byte {}", first + e.valid_up_to())))?;
            for i in 0..n {
                let o = offsets.get(i) - first;
                if !text.is_char_boundary(o) {
                    return Err(self.err(format!("offset {} splits a UTF-8 sequence", i)));
                }
            }
        }
        Ok(BinaryView {
            offsets,
            data,
            utf8,
            column: *self,
        })
    }

    /// A fixed_size_list column (`+w:N`).
    pub fn fixed_size_list(&self) -> Result<FixedSizeListView<'a>, Error> {
        let size = match self.layout {
            Layout::FixedSizeList(n) => n,
            _ => return Err(self.type_err("a fixed_size_list")),
        };
        let child = self.child(0)?;
        let need = (self.offset + self.len)
            .checked_mul(size)
            .ok_or_else(|| self.err("length overflows"))?;
        if child.len < need {
            return Err(self.err(format!(
                "child has {} values, want at least ({} + {}) × {}",
                child.len, self.offset, self.len, size
            )));
        }
        Ok(FixedSizeListView {
            list: *self,
            child,
            size,
        })
    }

    /// A list or large_list column (`+l`, `+L`).
    pub fn list(&self) -> Result<ListView<'a>, Error> {
        let large = match self.layout {
            Layout::List => false,
            Layout::LargeList => true,
            _ => return Err(self.type_err("a list")),
        };
        let child = self.child(0)?;
        let n = self.len + 1;
        let offsets = if self.offset + self.len == 0 && self.buffer_ptr(1).is_null() {
            Offsets::Small(&[0])
        } else if large {
            // SAFETY: the offsets buffer holds offset + length + 1 entries.
            Offsets::Large(unsafe { self.typed_buffer::<i64>(1, self.offset, n)? })
        } else {
            // SAFETY: as above.
            Offsets::Small(unsafe { self.typed_buffer::<i32>(1, self.offset, n)? })
        };
        let (_, last) = offsets
            .check()
            .map_err(|i| self.err(format!("offsets negative or decreasing at index {}", i)))?;
        if last > child.len {
            return Err(self.err(format!("last offset {} beyond the child's {} values", last, child.len)));
        }
        Ok(ListView { offsets, child })
    }

    /// The number of children in the schema (fields of a struct, the values
    /// of a list).
    pub fn num_children(&self) -> usize {
        self.schema.n_children as usize
    }

    /// Child `i` as its own array (its own offset and length). For the
    /// fields of a struct seen through this view's window, use
    /// [`Column::field`].
    pub fn child(&self, i: usize) -> Result<Column<'a>, Error> {
        let (s, a) = self.child_nodes(i)?;
        let len = to_usize(a.length).ok_or_else(|| self.err("child length out of range"))?;
        let offset = to_usize(a.offset).ok_or_else(|| self.err("child offset out of range"))?;
        // SAFETY: the constructor's contract extends to the children.
        unsafe { Column::new(s, a, len, offset, true, Some(self.top)) }
    }

    /// Field `i` of a struct column, windowed to this view's slots: slot `j`
    /// of the field is slot `j` of the struct (C Data Interface: a struct's
    /// offset applies to its children as well).
    pub fn field(&self, i: usize) -> Result<Column<'a>, Error> {
        if self.layout != Layout::Struct {
            return Err(self.type_err("a struct"));
        }
        let (s, a) = self.child_nodes(i)?;
        // The fields of the batch's struct are the top-level columns.
        let top = if self.top.is_empty() { None } else { Some(self.top) };
        // SAFETY: the constructor's contract extends to the children.
        let c = unsafe { Column::new(s, a, self.len, 0, self.offset == 0, top)? };
        let own_len = to_usize(a.length).ok_or_else(|| c.err("length out of range"))?;
        let own_offset = to_usize(a.offset).ok_or_else(|| c.err("offset out of range"))?;
        if own_len < self.offset + self.len {
            return Err(c.err(format!(
                "length {} does not cover the parent struct's slots {}..{}",
                own_len,
                self.offset,
                self.offset + self.len
            )));
        }
        Ok(Column {
            offset: own_offset + self.offset,
            ..c
        })
    }

    fn child_nodes(&self, i: usize) -> Result<(&'a FFI_ArrowSchema, &'a FFI_ArrowArray), Error> {
        if i >= self.num_children() {
            return Err(self.err(format!("no child {} (it has {})", i, self.num_children())));
        }
        // SAFETY: children pointers are non-NULL when n_children > 0 (checked)
        // and each holds n_children entries.
        unsafe {
            let s = *self.schema.children.add(i);
            let a = *self.array.children.add(i);
            if s.is_null() || a.is_null() {
                return Err(self.err(format!("child {} is NULL", i)));
            }
            Ok((&*s, &*a))
        }
    }

    /// The dictionary of a dictionary-encoded column: its values, as an
    /// array of their own.
    pub fn dictionary(&self) -> Result<Option<Column<'a>>, Error> {
        if self.schema.dictionary.is_null() {
            return Ok(None);
        }
        // SAFETY: non-NULL on both sides (checked in the constructor).
        let (s, a) = unsafe { (&*self.schema.dictionary, &*self.array.dictionary) };
        let len = to_usize(a.length).ok_or_else(|| self.err("dictionary length out of range"))?;
        let offset = to_usize(a.offset).ok_or_else(|| self.err("dictionary offset out of range"))?;
        // SAFETY: the constructor's contract extends to the dictionary.
        unsafe { Column::new(s, a, len, offset, true, Some(self.top)).map(Some) }
    }
}

impl fmt::Debug for Column<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Column")
            .field("name", &self.name)
            .field("format", &self.format)
            .field("len", &self.len)
            .field("offset", &self.offset)
            .field("nullable", &self.is_nullable())
            .finish()
    }
}
