//! The implementation behind the exports of spec §2. Not public API: the
//! [`export_udf!`](crate::export_udf) macro calls these functions from the
//! `#[no_mangle]` entry points it generates.

use std::alloc::{self, Layout};
use std::cell::RefCell;

use crate::build::OutBatch;
use crate::error::Error;
use crate::export::export_batch;
use crate::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use crate::view::Batch;
use crate::Udf;

thread_local! {
    /// The message of the last non-zero status (spec §8). One per thread:
    /// on wasm32 that is one per instance; natively, one per test thread.
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Records `e` as the last error and returns its status code.
pub fn fail(e: &Error) -> i32 {
    LAST_ERROR.with(|m| {
        let mut m = m.borrow_mut();
        m.clear();
        m.push_str(e.message());
    });
    e.status() as i32
}

/// The last error message, if any (what `wasinfer_last_error` points at).
pub fn last_error_message() -> Option<String> {
    LAST_ERROR.with(|m| {
        let m = m.borrow();
        if m.is_empty() {
            None
        } else {
            Some(m.clone())
        }
    })
}

/// `(ptr << 32) | len` of a string that stays put (spec §2). Pointers are
/// 32-bit on wasm32; natively the value is only meaningful in its low half.
fn pack(ptr: *const u8, len: usize) -> u64 {
    ((ptr as usize as u64) << 32) | (len as u64 & 0xFFFF_FFFF)
}

/// `wasinfer_last_error`.
pub fn last_error() -> u64 {
    LAST_ERROR.with(|m| {
        let m = m.borrow();
        if m.is_empty() {
            0
        } else {
            // The String is not touched until the next error, so the pointer
            // stays valid while the host copies the message.
            pack(m.as_ptr(), m.len())
        }
    })
}

/// `wasinfer_describe`: the UDF's description JSON.
pub fn describe(json: &'static str) -> u64 {
    pack(json.as_ptr(), json.len())
}

/// `wasinfer_alloc(size, align)`: `align` must be a power of two. Size 0
/// gives the non-NULL, aligned, never-dereferenced address `align`.
///
/// # Safety
/// Always safe to call; unsafe because it hands out raw memory.
pub unsafe fn alloc(size: usize, align: usize) -> *mut u8 {
    if align == 0 || !align.is_power_of_two() {
        return std::ptr::null_mut();
    }
    if size == 0 {
        return align as *mut u8;
    }
    match Layout::from_size_align(size, align) {
        Ok(layout) => alloc::alloc(layout),
        Err(_) => std::ptr::null_mut(),
    }
}

/// `wasinfer_free(ptr, size, align)`.
///
/// # Safety
/// `ptr` must be NULL or come from [`alloc()`] with the same size and align.
pub unsafe fn free(ptr: *mut u8, size: usize, align: usize) {
    if ptr.is_null() || size == 0 {
        return;
    }
    if let Ok(layout) = Layout::from_size_align(size, align) {
        alloc::dealloc(ptr, layout)
    }
}

/// `wasinfer_release`: calls the release callbacks of both structures.
///
/// # Safety
/// Each pointer must be NULL or point to a structure that is released or
/// was filled by [`Instance::transform`].
pub unsafe fn release(schema: *mut FFI_ArrowSchema, array: *mut FFI_ArrowArray) {
    if !array.is_null() {
        if let Some(r) = (*array).release {
            r(array);
        }
    }
    if !schema.is_null() {
        if let Some(r) = (*schema).release {
            r(schema);
        }
    }
}

/// `_initialize`: runs the module's static constructors once, as WASI
/// libc's reactor start file does.
#[cfg(target_arch = "wasm32")]
pub fn initialize() {
    use std::sync::atomic::{AtomicBool, Ordering};
    static DONE: AtomicBool = AtomicBool::new(false);
    extern "C" {
        fn __wasm_call_ctors();
    }
    if DONE.swap(true, Ordering::Relaxed) {
        // Called twice: the host broke spec §2 ("called once").
        std::process::abort();
    }
    // SAFETY: the linker-generated constructor runner, called once.
    unsafe { __wasm_call_ctors() }
}

/// The state of one instance: the UDF once initialised.
pub struct Instance<U> {
    udf: Option<U>,
    init_error: Option<Error>,
}

impl<U: Udf> Default for Instance<U> {
    fn default() -> Self {
        Instance {
            udf: None,
            init_error: None,
        }
    }
}

impl<U: Udf> Instance<U> {
    /// `wasinfer_init(ptr, len)`.
    ///
    /// # Safety
    /// `ptr` must point to `len` readable bytes (or `len` be 0).
    pub unsafe fn init(&mut self, ptr: *const u8, len: usize) -> i32 {
        let bytes: &[u8] = if len == 0 {
            &[]
        } else if ptr.is_null() {
            return fail(&Error::invalid_config("config pointer is NULL"));
        } else {
            std::slice::from_raw_parts(ptr, len)
        };
        let text = match std::str::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                return fail(&Error::invalid_config(format!(
                    "config is not UTF-8 (bad byte at {})",
                    e.valid_up_to()
                )))
            }
        };
        self.udf = None;
        match U::init(text) {
            Ok(u) => {
                self.udf = Some(u);
                self.init_error = None;
                0
            }
            Err(e) => {
                let code = fail(&e);
                self.init_error = Some(e);
                code
            }
        }
    }

    /// `wasinfer_transform(in_schema, in_array, out_schema, out_array)`.
    ///
    /// # Safety
    /// The input pointers must describe a valid batch (spec §5.1); the
    /// output pointers must point to writable structures, which are
    /// overwritten without being released.
    pub unsafe fn transform(
        &mut self,
        in_schema: *const FFI_ArrowSchema,
        in_array: *const FFI_ArrowArray,
        out_schema: *mut FFI_ArrowSchema,
        out_array: *mut FFI_ArrowArray,
    ) -> i32 {
        if in_schema.is_null() || in_array.is_null() || out_schema.is_null() || out_array.is_null() {
            return fail(&Error::error("wasinfer_transform: NULL structure pointer"));
        }
        if self.udf.is_none() {
            if let Some(e) = &self.init_error {
                return fail(e);
            }
            // A host that never called wasinfer_init: no configuration.
            let code = self.init(std::ptr::null(), 0);
            if code != 0 {
                return code;
            }
        }
        let udf = match self.udf.as_mut() {
            Some(u) => u,
            None => return fail(&Error::error("UDF not initialised")),
        };
        let batch = match Batch::from_ffi(&*in_schema, &*in_array) {
            Ok(b) => b,
            Err(e) => return fail(&e),
        };
        let out: OutBatch<'_> = match udf.transform(&batch) {
            Ok(o) => o,
            Err(e) => return fail(&e),
        };
        match export_batch(out) {
            Ok((s, a)) => {
                // The host zeroed the output structures: overwrite them
                // without dropping (there is nothing to release).
                std::ptr::write(out_schema, s);
                std::ptr::write(out_array, a);
                0
            }
            Err(e) => fail(&e),
        }
    }
}
