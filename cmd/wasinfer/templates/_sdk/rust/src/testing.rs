//! Running a UDF natively, through the entry points [`export_udf!`](crate::export_udf)
//! generated, in an ordinary `rustc --test` binary (this module exists on
//! every target but wasm32).
//!
//! ```ignore
//! use wasinfer_sdk::{testing, Array, Field, OutBatch};
//!
//! #[test]
//! fn adds_a_column() {
//!     testing::init("{}").unwrap();
//!     let mut input = OutBatch::new(2);
//!     input.push(Field::new("x", Array::from_values(vec![1i32, 2]))).unwrap();
//!     let (schema, array) = input.into_ffi().unwrap();
//!     let out = testing::transform(&schema, &array).unwrap();
//!     assert_eq!(out.batch().num_columns(), 2);
//! } // out dropped: wasinfer_release frees the output
//! ```
//!
//! The functions are `#[inline]` so that they are compiled only into a
//! binary that calls them, which is one that also invokes `export_udf!`.
//!
//! [`CountingAllocator`] lets a test check that the output is freed exactly.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use crate::error::{Error, Status};
use crate::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use crate::view::Batch;

extern "C" {
    fn wasinfer_init(config: *const u8, len: usize) -> i32;
    fn wasinfer_transform(
        in_schema: *const FFI_ArrowSchema,
        in_array: *const FFI_ArrowArray,
        out_schema: *mut FFI_ArrowSchema,
        out_array: *mut FFI_ArrowArray,
    ) -> i32;
    fn wasinfer_release(out_schema: *mut FFI_ArrowSchema, out_array: *mut FFI_ArrowArray);
    fn wasinfer_last_error() -> u64;
}

#[inline]
fn status_error(code: i32) -> Error {
    let message = crate::rt::last_error_message().unwrap_or_default();
    // The packed value's low half is the length on every target.
    // SAFETY: the entry point has no preconditions.
    let packed = unsafe { wasinfer_last_error() };
    assert_eq!(
        (packed & 0xFFFF_FFFF) as usize,
        message.len(),
        "wasinfer_last_error length"
    );
    let status = Status::from_code(code);
    if status == Status::Error && code != 1 {
        return Error::error(format!("status {}: {}", code, message));
    }
    Error::new(status, message)
}

/// Calls `wasinfer_init` with `config` (`""` for a stage without one).
#[inline]
pub fn init(config: &str) -> Result<(), Error> {
    // SAFETY: the bytes are valid for the call.
    let code = unsafe {
        wasinfer_init(
            if config.is_empty() {
                std::ptr::null()
            } else {
                config.as_ptr()
            },
            config.len(),
        )
    };
    if code == 0 {
        Ok(())
    } else {
        Err(status_error(code))
    }
}

/// The output of one [`transform`]: released through `wasinfer_release`
/// when dropped.
pub struct Output {
    schema: Box<FFI_ArrowSchema>,
    array: Box<FFI_ArrowArray>,
}

impl Output {
    /// A view of the output batch.
    pub fn batch(&self) -> Batch<'_> {
        // SAFETY: the guest filled both structures; they stay valid until
        // Output is dropped.
        unsafe { Batch::from_ffi(&self.schema, &self.array) }.expect("the output is a valid batch")
    }

    /// The output schema structure.
    pub fn schema(&self) -> &FFI_ArrowSchema {
        &self.schema
    }

    /// The output array structure.
    pub fn array(&self) -> &FFI_ArrowArray {
        &self.array
    }
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.batch().fmt(f)
    }
}

impl Drop for Output {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: the structures were filled by a successful transform and
        // are released once.
        unsafe { wasinfer_release(&mut *self.schema, &mut *self.array) };
        assert!(
            self.schema.is_released() && self.array.is_released(),
            "wasinfer_release left the output unreleased"
        );
    }
}

/// Calls `wasinfer_transform` on a batch, as the host does: the output
/// structures start zeroed; on a non-zero status they must still be.
#[inline]
pub fn transform(schema: &FFI_ArrowSchema, array: &FFI_ArrowArray) -> Result<Output, Error> {
    let mut out_schema = Box::new(FFI_ArrowSchema::empty());
    let mut out_array = Box::new(FFI_ArrowArray::empty());
    // SAFETY: valid input structures; zeroed, writable output structures.
    let code = unsafe { wasinfer_transform(schema, array, &mut *out_schema, &mut *out_array) };
    if code == 0 {
        return Ok(Output {
            schema: out_schema,
            array: out_array,
        });
    }
    assert!(
        out_schema.is_released() && out_array.is_released() && out_schema.format.is_null() && out_array.length == 0,
        "wasinfer_transform returned {} but wrote an output",
        code
    );
    Err(status_error(code))
}

/// Child `i` of an array, for tests that slice a batch by hand (set its
/// `offset` and `length`) the way the host may.
///
/// # Safety
/// `array` must be a valid structure with more than `i` children, such as
/// one from [`OutBatch::into_ffi`](crate::OutBatch::into_ffi).
pub unsafe fn child_mut(array: &mut FFI_ArrowArray, i: usize) -> &mut FFI_ArrowArray {
    assert!(i < array.n_children as usize, "child {} of {}", i, array.n_children);
    &mut **array.children.add(i)
}

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

/// A global allocator that counts the bytes live on the current thread, for
/// tests that check memory is freed exactly:
///
/// ```ignore
/// #[global_allocator]
/// static ALLOC: wasinfer_sdk::testing::CountingAllocator = wasinfer_sdk::testing::CountingAllocator;
///
/// let before = wasinfer_sdk::testing::live_bytes();
/// drop(testing::transform(&s, &a).unwrap());
/// assert_eq!(wasinfer_sdk::testing::live_bytes(), before);
/// ```
pub struct CountingAllocator;

fn add(n: isize) {
    let _ = LIVE.try_with(|c| c.set(c.get() + n));
}

// SAFETY: forwards to the system allocator and only counts.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            add(layout.size() as isize);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        add(-(layout.size() as isize));
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            add(layout.size() as isize);
        }
        p
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            add(new_size as isize - layout.size() as isize);
        }
        p
    }
}

/// Bytes allocated and not yet freed by this thread, when
/// [`CountingAllocator`] is the global allocator (otherwise 0).
pub fn live_bytes() -> isize {
    LIVE.with(|c| c.get())
}
