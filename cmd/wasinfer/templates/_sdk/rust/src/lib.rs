//! Guest SDK for writing wasinfer UDFs in Rust.
//!
//! A UDF is a type that implements [`Udf`]; [`export_udf!`] turns it into a
//! WebAssembly module that follows the wasinfer guest ABI v1
//! (`abi/spec.md`): it exports `memory`, `wasinfer_abi_v1`, the allocator,
//! `wasinfer_init`, `wasinfer_transform`, `wasinfer_release`,
//! `wasinfer_last_error`, `wasinfer_describe` and, on wasm32, `_initialize`.
//!
//! ```no_run
//! use wasinfer_sdk::{export_udf, Array, Batch, Config, Error, Field, OutBatch, Udf};
//!
//! /// Adds a column "len": the byte length of each value of a utf8 column.
//! struct Lengths {
//!     column: String,
//! }
//!
//! impl Udf for Lengths {
//!     fn init(config: &str) -> Result<Self, Error> {
//!         let c = Config::parse(config)?;
//!         c.check_keys(&["column"])?;
//!         Ok(Lengths { column: c.string("column")?.unwrap_or("text").to_string() })
//!     }
//!
//!     fn transform<'a>(&mut self, input: &Batch<'a>) -> Result<OutBatch<'a>, Error> {
//!         let col = input.require(&self.column)?;
//!         let text = col.binary()?;
//!         let lens = (0..col.len()).map(|i| text.get(i).map(|v| v.len() as i32));
//!         let mut out = OutBatch::from_input(input)?; // every input column, zero-copy
//!         out.push(Field::new("len", Array::from_options(lens)))?;
//!         Ok(out)
//!     }
//! }
//!
//! export_udf!(Lengths);
//! ```
//!
//! Build it as a reactor module (a `cdylib`) for `wasm32-wasi`; see the
//! README for the exact commands.
//!
//! # Memory and ownership
//!
//! The input is lent for one call: [`Batch`] and every view borrow it for
//! `'a`, and the [`OutBatch<'a>`] a transform returns may point into it (a
//! passed-through column is not copied). Everything the output owns is freed
//! exactly once, when the host calls `wasinfer_release`, or before the
//! transform returns when it fails (spec §5.3).
//!
//! # Errors
//!
//! [`Error`] carries a [`Status`] (spec §8) and a message; the host logs the
//! message and reports it to the user. Name the column and the row
//! ([`Error::at`]). A panic aborts the instance: the host reports a trap and
//! replaces it.

#![warn(missing_docs)]

mod array;
mod buffer;
mod build;
mod error;
mod export;
pub mod ffi;
mod format;
pub mod json;
mod metadata;
mod values;
mod view;

#[doc(hidden)]
pub mod rt;

#[cfg(not(target_arch = "wasm32"))]
pub mod testing;

#[cfg(test)]
mod tests;

pub use array::{Array, BinaryBuilder};
pub use buffer::{BitmapBuilder, Buffer};
pub use build::{Field, OutBatch};
pub use error::{Error, Result, Status};
pub use format::Native;
pub use json::Config;
pub use metadata::{Metadata, MetadataIter};
pub use values::{BinaryView, Bitmap, FixedSizeListView, ListView};
pub use view::{Batch, Column};

/// The metadata key naming a field's extension type.
pub const EXTENSION_NAME_KEY: &str = "ARROW:extension:name";
/// The metadata key holding a field's extension metadata.
pub const EXTENSION_METADATA_KEY: &str = "ARROW:extension:metadata";
/// The canonical fixed-shape tensor extension type's name.
pub const FIXED_SHAPE_TENSOR: &str = "arrow.fixed_shape_tensor";

/// A user-defined function over record batches.
///
/// The host creates one value per instance with [`Udf::init`], then calls
/// [`Udf::transform`] once per batch, from one thread at a time. The host may
/// send any batch to any instance and replace instances at any time
/// (spec §7), so state that changes answers between batches must be
/// documented.
pub trait Udf: Sized + 'static {
    /// The JSON object `wasinfer_describe` returns (spec §10): keys `name`,
    /// `version`, `description`, `language`, `input`, `output`, all optional.
    const DESCRIPTION: &'static str = r#"{"language":"rust"}"#;

    /// Creates the instance from the stage's configuration: a JSON object as
    /// UTF-8 text, or `""` when the stage has none (see [`Config::parse`]).
    ///
    /// # Errors
    /// Return [`Error::invalid_config`] for a configuration you reject; the
    /// stage fails to load with your message.
    fn init(config: &str) -> Result<Self, Error>;

    /// Transforms one batch. The output may pass input columns through
    /// without copying ([`OutBatch::pass_through`]), add columns, drop them,
    /// and have any row count, as long as its schema is the same for every
    /// batch (spec §5.2).
    ///
    /// # Errors
    /// [`Error::unsupported_input`] when the input's schema is not one this
    /// UDF handles (fatal for the stage); [`Error::error`] for bad data in
    /// this batch.
    fn transform<'a>(&mut self, input: &Batch<'a>) -> Result<OutBatch<'a>, Error>;
}

/// Exports a [`Udf`] as a wasinfer module (spec §2).
///
/// Invoke it once per `cdylib` crate, at the crate root or in any module:
///
/// ```ignore
/// wasinfer_sdk::export_udf!(MyUdf);
/// ```
///
/// It defines the `#[no_mangle]` functions `wasinfer_abi_v1`,
/// `wasinfer_alloc`, `wasinfer_free`, `wasinfer_init`, `wasinfer_transform`,
/// `wasinfer_release`, `wasinfer_last_error`, `wasinfer_describe` and, on
/// wasm32, `_initialize` (rustc's `cdylib` does not provide one; this one runs
/// the static constructors once, like WASI libc's reactor start file).
/// Natively the same functions exist, so tests can call them
/// ([`testing`](crate::testing)).
#[macro_export]
macro_rules! export_udf {
    ($udf:ty) => {
        const _: () = {
            ::std::thread_local! {
                static WASINFER_INSTANCE: ::std::cell::RefCell<$crate::rt::Instance<$udf>> =
                    ::std::cell::RefCell::new(::std::default::Default::default());
            }

            #[no_mangle]
            pub extern "C" fn wasinfer_abi_v1() {}

            #[no_mangle]
            pub unsafe extern "C" fn wasinfer_alloc(size: usize, align: usize) -> *mut u8 {
                $crate::rt::alloc(size, align)
            }

            #[no_mangle]
            pub unsafe extern "C" fn wasinfer_free(ptr: *mut u8, size: usize, align: usize) {
                $crate::rt::free(ptr, size, align)
            }

            #[no_mangle]
            pub unsafe extern "C" fn wasinfer_init(config: *const u8, len: usize) -> i32 {
                WASINFER_INSTANCE.with(|i| i.borrow_mut().init(config, len))
            }

            #[no_mangle]
            pub unsafe extern "C" fn wasinfer_transform(
                in_schema: *const $crate::ffi::FFI_ArrowSchema,
                in_array: *const $crate::ffi::FFI_ArrowArray,
                out_schema: *mut $crate::ffi::FFI_ArrowSchema,
                out_array: *mut $crate::ffi::FFI_ArrowArray,
            ) -> i32 {
                WASINFER_INSTANCE.with(|i| {
                    i.borrow_mut()
                        .transform(in_schema, in_array, out_schema, out_array)
                })
            }

            #[no_mangle]
            pub unsafe extern "C" fn wasinfer_release(
                out_schema: *mut $crate::ffi::FFI_ArrowSchema,
                out_array: *mut $crate::ffi::FFI_ArrowArray,
            ) {
                $crate::rt::release(out_schema, out_array)
            }

            #[no_mangle]
            pub extern "C" fn wasinfer_last_error() -> u64 {
                $crate::rt::last_error()
            }

            #[no_mangle]
            pub extern "C" fn wasinfer_describe() -> u64 {
                $crate::rt::describe(<$udf as $crate::Udf>::DESCRIPTION)
            }

            #[cfg(target_arch = "wasm32")]
            #[no_mangle]
            pub extern "C" fn _initialize() {
                $crate::rt::initialize()
            }
        };
    };
}
