//! Turning an [`OutBatch`] into C Data Interface structures, and releasing
//! them (spec §5.2, §5.3).
//!
//! Ownership follows the C Data Interface: every structure the guest builds
//! has a `release` callback and a `private_data` that owns everything the
//! structure points to that the guest allocated (strings, metadata, buffer
//! and child pointer arrays, buffers, child structures). Releasing a parent
//! releases its owned children that were not moved out, then frees them.
//! Structures passed through from the input are pointed at, not owned: they
//! have no release callback and are never freed by the guest.
//!
//! While a tree is being built, children are held as [`Node`]s, whose drop
//! releases them: a failure part-way frees everything made so far.

use std::any::Any;
use std::ffi::{c_void, CString};
use std::os::raw::c_char;
use std::ptr;

use crate::array::Array;
use crate::buffer::Buffer;
use crate::build::{Field, FieldData, MetadataOut, OutBatch};
use crate::error::Error;
use crate::ffi::{FFI_ArrowArray, FFI_ArrowSchema, FLAG_NULLABLE};

struct SchemaPrivate {
    _format: Option<CString>,
    _name: Option<CString>,
    _metadata: Option<Vec<u8>>,
    /// Child pointers; `owned[i]` says whether child `i` is a `Box` of ours.
    children: Vec<*mut FFI_ArrowSchema>,
    owned: Vec<bool>,
}

struct ArrayPrivate {
    _owners: Vec<Box<dyn Any>>,
    _buffers: Vec<*const c_void>,
    children: Vec<*mut FFI_ArrowArray>,
    owned: Vec<bool>,
}

unsafe extern "C" fn release_schema(s: *mut FFI_ArrowSchema) {
    if s.is_null() || (*s).release.is_none() {
        return;
    }
    let private = Box::from_raw((*s).private_data as *mut SchemaPrivate);
    for (&child, &owned) in private.children.iter().zip(&private.owned) {
        if owned {
            // Dropping the Box calls the child's release unless the consumer
            // moved it out (release NULL), then frees the structure.
            drop(Box::from_raw(child));
        }
    }
    drop(private);
    (*s).release = None;
    (*s).private_data = ptr::null_mut();
}

unsafe extern "C" fn release_array(a: *mut FFI_ArrowArray) {
    if a.is_null() || (*a).release.is_none() {
        return;
    }
    let private = Box::from_raw((*a).private_data as *mut ArrayPrivate);
    for (&child, &owned) in private.children.iter().zip(&private.owned) {
        if owned {
            drop(Box::from_raw(child));
        }
    }
    drop(private);
    (*a).release = None;
    (*a).private_data = ptr::null_mut();
}

/// A structure of the output tree: ours (released and freed by its parent,
/// or by dropping the node) or the input's (only pointed at).
enum Node<T> {
    Owned(Box<T>),
    Alias(*const T),
}

/// Child pointers ready for a private-data struct.
fn into_raw<T>(nodes: Vec<Node<T>>) -> (Vec<*mut T>, Vec<bool>) {
    nodes
        .into_iter()
        .map(|n| match n {
            Node::Owned(b) => (Box::into_raw(b), true),
            Node::Alias(p) => (p as *mut T, false),
        })
        .unzip()
}

fn cstring(what: &str, s: &str) -> Result<CString, Error> {
    CString::new(s).map_err(|_| Error::error(format!("output {} {:?} contains a NUL byte", what, s)))
}

fn nullable_flag(flags: i64, nullable: bool) -> i64 {
    if nullable {
        flags | FLAG_NULLABLE
    } else {
        flags & !FLAG_NULLABLE
    }
}

/// The encoded metadata to own (if any) and the pointer to put in the schema.
fn metadata(md: &MetadataOut<'_>) -> Result<(Option<Vec<u8>>, *const c_char), Error> {
    match md {
        MetadataOut::Borrowed(m) => Ok((None, m.as_ptr())),
        owned => {
            let bytes = owned.encode()?;
            let p = bytes.as_ref().map_or(ptr::null(), |b| b.as_ptr() as *const c_char);
            Ok((bytes, p))
        }
    }
}

/// Exports one field as its schema and array structures.
fn export_field(field: Field<'_>) -> Result<(Node<FFI_ArrowSchema>, Node<FFI_ArrowArray>), Error> {
    let unchanged = field.schema_is_alias();
    let Field {
        name,
        nullable,
        metadata: md,
        data,
        ..
    } = field;
    match data {
        FieldData::Alias(col) if unchanged => Ok((Node::Alias(col.ffi_schema()), Node::Alias(col.ffi_array()))),
        FieldData::Alias(col) => {
            // Renamed, re-flagged or with new metadata: a schema node of ours
            // over the input's format, children and dictionary.
            let s = col.ffi_schema();
            let name = cstring("column name", &name)?;
            let (md_bytes, md_ptr) = metadata(&md)?;
            let name_ptr = name.as_ptr();
            let private = Box::new(SchemaPrivate {
                _format: None,
                _name: Some(name),
                _metadata: md_bytes,
                children: Vec::new(),
                owned: Vec::new(),
            });
            let schema = FFI_ArrowSchema {
                format: s.format,
                name: name_ptr,
                metadata: md_ptr,
                flags: nullable_flag(s.flags, nullable),
                n_children: s.n_children,
                children: s.children,
                dictionary: s.dictionary,
                release: Some(release_schema),
                private_data: Box::into_raw(private) as *mut c_void,
            };
            Ok((Node::Owned(Box::new(schema)), Node::Alias(col.ffi_array())))
        }
        FieldData::Adopted(s, a) if unchanged => Ok((Node::Owned(s), Node::Owned(a))),
        FieldData::Adopted(..) => Err(Error::error(format!(
            "column {:?}: a field adopted from C Data Interface structures cannot be renamed or re-annotated",
            name
        ))),
        FieldData::Owned(array) => {
            let name = cstring("column name", &name)?;
            let (md_bytes, md_ptr) = metadata(&md)?;
            export_owned(array, name, nullable, md_bytes, md_ptr)
        }
    }
}

fn export_owned(
    array: Array<'_>,
    name: CString,
    nullable: bool,
    md_bytes: Option<Vec<u8>>,
    md_ptr: *const c_char,
) -> Result<(Node<FFI_ArrowSchema>, Node<FFI_ArrowArray>), Error> {
    let Array {
        format,
        len,
        null_count,
        validity,
        buffers,
        children,
    } = array;
    let length = i64::try_from(len).map_err(|_| Error::error("array length out of range"))?;
    let format = cstring("format", &format)?;
    let (mut schema_children, mut array_children) = (Vec::new(), Vec::new());
    for child in children {
        let (s, a) = export_field(child)?;
        schema_children.push(s);
        array_children.push(a);
    }
    // Nothing below can fail: move everything into private data.

    // The null type has no buffers at all; every other type starts with
    // validity.
    let mut buffer_ptrs = Vec::with_capacity(1 + buffers.len());
    if format.as_bytes() != b"n" {
        buffer_ptrs.push(validity.as_ref().map_or(ptr::null(), |v| v.as_ptr() as *const c_void));
    }
    buffer_ptrs.extend(buffers.iter().map(|b| b.as_ptr() as *const c_void));
    // Keep every owned allocation alive until release.
    let owners: Vec<Box<dyn Any>> = validity
        .into_iter()
        .chain(buffers)
        .filter_map(Buffer::into_owner)
        .collect();
    let (children, owned) = into_raw(array_children);
    let mut ap = Box::new(ArrayPrivate {
        _owners: owners,
        _buffers: buffer_ptrs,
        children,
        owned,
    });
    let n_buffers = ap._buffers.len() as i64;
    let n_children = ap.children.len() as i64;
    let array = FFI_ArrowArray {
        length,
        null_count: null_count as i64,
        offset: 0,
        n_buffers,
        n_children,
        buffers: if n_buffers == 0 {
            ptr::null_mut()
        } else {
            ap._buffers.as_mut_ptr()
        },
        children: if n_children == 0 {
            ptr::null_mut()
        } else {
            ap.children.as_mut_ptr()
        },
        dictionary: ptr::null_mut(),
        release: Some(release_array),
        private_data: Box::into_raw(ap) as *mut c_void,
    };

    let (children, owned) = into_raw(schema_children);
    let (format_ptr, name_ptr) = (format.as_ptr(), name.as_ptr());
    let mut sp = Box::new(SchemaPrivate {
        _format: Some(format),
        _name: Some(name),
        _metadata: md_bytes,
        children,
        owned,
    });
    let schema = FFI_ArrowSchema {
        format: format_ptr,
        name: name_ptr,
        metadata: md_ptr,
        flags: if nullable { FLAG_NULLABLE } else { 0 },
        n_children,
        children: if n_children == 0 {
            ptr::null_mut()
        } else {
            sp.children.as_mut_ptr()
        },
        dictionary: ptr::null_mut(),
        release: Some(release_schema),
        private_data: Box::into_raw(sp) as *mut c_void,
    };
    Ok((Node::Owned(Box::new(schema)), Node::Owned(Box::new(array))))
}

static STRUCT_FORMAT: &[u8] = b"+s\0";
static EMPTY_NAME: &[u8] = b"\0";

/// Exports `batch` as a `+s` schema and struct array (spec §4.1). On error
/// everything built so far is freed.
pub(crate) fn export_batch(batch: OutBatch<'_>) -> Result<(FFI_ArrowSchema, FFI_ArrowArray), Error> {
    let OutBatch {
        rows,
        fields,
        metadata: md,
    } = batch;
    let length = i64::try_from(rows).map_err(|_| Error::error("row count out of range"))?;
    let (md_bytes, md_ptr) = metadata(&md)?;
    let (mut schema_children, mut array_children) = (Vec::new(), Vec::new());
    for f in fields {
        let (s, a) = export_field(f)?;
        schema_children.push(s);
        array_children.push(a);
    }
    let n = schema_children.len() as i64;

    let (children, owned) = into_raw(array_children);
    let mut ap = Box::new(ArrayPrivate {
        _owners: Vec::new(),
        _buffers: vec![ptr::null()],
        children,
        owned,
    });
    let array = FFI_ArrowArray {
        length,
        null_count: 0,
        offset: 0,
        n_buffers: 1,
        n_children: n,
        buffers: ap._buffers.as_mut_ptr(),
        children: if n == 0 {
            ptr::null_mut()
        } else {
            ap.children.as_mut_ptr()
        },
        dictionary: ptr::null_mut(),
        release: Some(release_array),
        private_data: Box::into_raw(ap) as *mut c_void,
    };

    let (children, owned) = into_raw(schema_children);
    let mut sp = Box::new(SchemaPrivate {
        _format: None,
        _name: None,
        _metadata: md_bytes,
        children,
        owned,
    });
    let schema = FFI_ArrowSchema {
        format: STRUCT_FORMAT.as_ptr() as *const c_char,
        name: EMPTY_NAME.as_ptr() as *const c_char,
        metadata: md_ptr,
        flags: 0,
        n_children: n,
        children: if n == 0 {
            ptr::null_mut()
        } else {
            sp.children.as_mut_ptr()
        },
        dictionary: ptr::null_mut(),
        release: Some(release_schema),
        private_data: Box::into_raw(sp) as *mut c_void,
    };
    Ok((schema, array))
}

impl OutBatch<'static> {
    /// Exports an output that owns all its data (or borrows only `'static`
    /// data) as C Data Interface structures that own it in turn: dropping
    /// them, or calling their `release`, frees it. Native tests use this to
    /// build input batches.
    pub fn into_ffi(self) -> Result<(FFI_ArrowSchema, FFI_ArrowArray), Error> {
        export_batch(self)
    }
}
