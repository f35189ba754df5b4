//! The Arrow C Data Interface structures (spec §4).
//!
//! [`FFI_ArrowSchema`] and [`FFI_ArrowArray`] have the same fields, in the same
//! order, with the same `#[repr(C)]` layout as `arrow_schema::ffi::FFI_ArrowSchema`
//! and `arrow_data::ffi::FFI_ArrowArray` (re-exported by `arrow::ffi`), so a guest
//! that depends on arrow-rs may reinterpret a pointer to one as a pointer to the
//! other. On wasm32 the layout is the one spec §4 fixes (checked at compile time
//! below); natively it is the platform's C layout, which is what the native tests
//! use.
//!
//! The fields are public so that code which needs to can build or inspect the
//! structures by hand; ordinary UDFs go through [`crate::Batch`] and
//! [`crate::OutBatch`] instead.

use std::ffi::{c_void, CStr};
use std::os::raw::c_char;

/// `ARROW_FLAG_DICTIONARY_ORDERED`: the dictionary of this field is ordered.
pub const FLAG_DICTIONARY_ORDERED: i64 = 1;
/// `ARROW_FLAG_NULLABLE`: the field may hold nulls.
pub const FLAG_NULLABLE: i64 = 2;
/// `ARROW_FLAG_MAP_KEYS_SORTED`: the keys of each map entry are sorted.
pub const FLAG_MAP_KEYS_SORTED: i64 = 4;

/// `struct ArrowSchema` of the Arrow C Data Interface.
///
/// Size 48 and alignment 8 on wasm32 (spec §4).
#[repr(C)]
#[derive(Debug)]
#[allow(non_camel_case_types)]
pub struct FFI_ArrowSchema {
    /// NUL-terminated format string (spec §4.2).
    pub format: *const c_char,
    /// NUL-terminated field name; may be NULL.
    pub name: *const c_char,
    /// Binary metadata (spec §4), or NULL.
    pub metadata: *const c_char,
    /// `FLAG_*` bits.
    pub flags: i64,
    /// Number of children.
    pub n_children: i64,
    /// `n_children` pointers to the children.
    pub children: *mut *mut FFI_ArrowSchema,
    /// The dictionary's value type, for a dictionary-encoded field.
    pub dictionary: *mut FFI_ArrowSchema,
    /// Release callback; `None` marks a released (or borrowed) structure.
    pub release: Option<unsafe extern "C" fn(arg1: *mut FFI_ArrowSchema)>,
    /// Producer-owned data.
    pub private_data: *mut c_void,
}

/// `struct ArrowArray` of the Arrow C Data Interface.
///
/// Size 64 and alignment 8 on wasm32 (spec §4).
#[repr(C)]
#[derive(Debug)]
#[allow(non_camel_case_types)]
pub struct FFI_ArrowArray {
    /// Logical length (rows after `offset`).
    pub length: i64,
    /// Number of nulls, or -1 when unknown.
    pub null_count: i64,
    /// Number of slots to skip at the start of every buffer.
    pub offset: i64,
    /// Number of buffers.
    pub n_buffers: i64,
    /// Number of children.
    pub n_children: i64,
    /// `n_buffers` pointers to the buffers (validity first).
    pub buffers: *mut *const c_void,
    /// `n_children` pointers to the children.
    pub children: *mut *mut FFI_ArrowArray,
    /// The dictionary's values, for a dictionary-encoded array.
    pub dictionary: *mut FFI_ArrowArray,
    /// Release callback; `None` marks a released (or borrowed) structure.
    pub release: Option<unsafe extern "C" fn(arg1: *mut FFI_ArrowArray)>,
    /// Producer-owned data.
    pub private_data: *mut c_void,
}

impl FFI_ArrowSchema {
    /// An all-zero structure: NULL pointers, no release callback (released).
    pub const fn empty() -> Self {
        FFI_ArrowSchema {
            format: std::ptr::null(),
            name: std::ptr::null(),
            metadata: std::ptr::null(),
            flags: 0,
            n_children: 0,
            children: std::ptr::null_mut(),
            dictionary: std::ptr::null_mut(),
            release: None,
            private_data: std::ptr::null_mut(),
        }
    }

    /// Whether the structure has been released (its `release` is NULL).
    /// Borrowed input structures (spec §5.1) also read as released.
    pub fn is_released(&self) -> bool {
        self.release.is_none()
    }

    /// The format string, or `None` when it is NULL.
    ///
    /// # Safety
    /// `format` must be NULL or point to a NUL-terminated string that outlives
    /// the returned reference.
    pub unsafe fn format_cstr(&self) -> Option<&CStr> {
        cstr(self.format)
    }

    /// The field name, or `None` when it is NULL.
    ///
    /// # Safety
    /// As for [`FFI_ArrowSchema::format_cstr`].
    pub unsafe fn name_cstr(&self) -> Option<&CStr> {
        cstr(self.name)
    }
}

impl FFI_ArrowArray {
    /// An all-zero structure: NULL pointers, no release callback (released).
    pub const fn empty() -> Self {
        FFI_ArrowArray {
            length: 0,
            null_count: 0,
            offset: 0,
            n_buffers: 0,
            n_children: 0,
            buffers: std::ptr::null_mut(),
            children: std::ptr::null_mut(),
            dictionary: std::ptr::null_mut(),
            release: None,
            private_data: std::ptr::null_mut(),
        }
    }

    /// Whether the structure has been released (its `release` is NULL).
    pub fn is_released(&self) -> bool {
        self.release.is_none()
    }
}

/// Dropping an owned structure calls its release callback, as arrow-rs does;
/// borrowed and released structures have none, so dropping them does nothing.
impl Drop for FFI_ArrowSchema {
    fn drop(&mut self) {
        if let Some(release) = self.release {
            // SAFETY: a structure with a release callback owns what it points
            // to; the callback is the producer's and is called at most once
            // because it sets `release` to NULL.
            unsafe { release(self) }
        }
    }
}

impl Drop for FFI_ArrowArray {
    fn drop(&mut self) {
        if let Some(release) = self.release {
            // SAFETY: as for FFI_ArrowSchema.
            unsafe { release(self) }
        }
    }
}

unsafe fn cstr<'a>(p: *const c_char) -> Option<&'a CStr> {
    if p.is_null() {
        None
    } else {
        Some(CStr::from_ptr(p))
    }
}

/// Compile-time checks of the wasm32 layout against spec §4.
///
/// A structure whose fields hold distinct values is reinterpreted as a mirror
/// made only of integers at the offsets the spec gives, so a reordered or
/// resized field fails the build.
#[cfg(target_arch = "wasm32")]
#[allow(dead_code)]
mod layout {
    use super::{FFI_ArrowArray, FFI_ArrowSchema};
    use std::mem::{align_of, size_of, transmute, MaybeUninit};

    const _: () = assert!(size_of::<FFI_ArrowSchema>() == 48);
    const _: () = assert!(align_of::<FFI_ArrowSchema>() == 8);
    const _: () = assert!(size_of::<FFI_ArrowArray>() == 64);
    const _: () = assert!(align_of::<FFI_ArrowArray>() == 8);

    #[repr(C)]
    struct SchemaMirror {
        format: u32,   // 0
        name: u32,     // 4
        metadata: u32, // 8
        _pad: MaybeUninit<u32>,
        flags: i64,        // 16
        n_children: i64,   // 24
        children: u32,     // 32
        dictionary: u32,   // 36
        release: u32,      // 40
        private_data: u32, // 44
    }

    #[repr(C)]
    struct ArrayMirror {
        length: i64,       // 0
        null_count: i64,   // 8
        offset: i64,       // 16
        n_buffers: i64,    // 24
        n_children: i64,   // 32
        buffers: u32,      // 40
        children: u32,     // 44
        dictionary: u32,   // 48
        release: u32,      // 52
        private_data: u32, // 56
        _pad: MaybeUninit<u32>,
    }

    const fn schema_ok() -> bool {
        let s = FFI_ArrowSchema {
            format: 1 as *const _,
            name: 2 as *const _,
            metadata: 3 as *const _,
            flags: 4,
            n_children: 5,
            children: 6 as *mut _,
            dictionary: 7 as *mut _,
            release: None,
            private_data: 9 as *mut _,
        };
        // SAFETY: same size (checked above); every mirror field but the
        // padding is an integer, and the source holds integer-valued pointers.
        let m: SchemaMirror = unsafe { transmute(s) };
        m.format == 1
            && m.name == 2
            && m.metadata == 3
            && m.flags == 4
            && m.n_children == 5
            && m.children == 6
            && m.dictionary == 7
            && m.release == 0
            && m.private_data == 9
    }

    const fn array_ok() -> bool {
        let a = FFI_ArrowArray {
            length: 1,
            null_count: 2,
            offset: 3,
            n_buffers: 4,
            n_children: 5,
            buffers: 6 as *mut _,
            children: 7 as *mut _,
            dictionary: 8 as *mut _,
            release: None,
            private_data: 10 as *mut _,
        };
        // SAFETY: as in schema_ok.
        let m: ArrayMirror = unsafe { transmute(a) };
        m.length == 1
            && m.null_count == 2
            && m.offset == 3
            && m.n_buffers == 4
            && m.n_children == 5
            && m.buffers == 6
            && m.children == 7
            && m.dictionary == 8
            && m.release == 0
            && m.private_data == 10
    }

    const _: () = assert!(schema_ok(), "FFI_ArrowSchema does not match spec §4");
    const _: () = assert!(array_ok(), "FFI_ArrowArray does not match spec §4");
}
