//! Output buffers: [`Buffer`] (owned or borrowed bytes) and
//! [`BitmapBuilder`] (validity and boolean values).

use std::any::Any;
use std::fmt;
use std::marker::PhantomData;

use crate::format::Native;

/// Bytes an output array points to: owned (a `Vec` moved in) or borrowed
/// from the input for `'a`.
pub struct Buffer<'a> {
    ptr: *const u8,
    len: usize,
    owner: Option<Box<dyn Any>>,
    _life: PhantomData<&'a [u8]>,
}

impl Buffer<'static> {
    /// Takes ownership of `values`. The pointer stays valid however the
    /// buffer is moved; it is never NULL, even when `values` is empty.
    pub fn from_vec<T: Native>(values: Vec<T>) -> Buffer<'static> {
        let ptr = values.as_ptr() as *const u8;
        let len = values.len() * std::mem::size_of::<T>();
        Buffer {
            ptr,
            len,
            owner: Some(Box::new(values)),
            _life: PhantomData,
        }
    }
}

impl<'a> Buffer<'a> {
    /// Borrows bytes of the input (or any bytes that outlive the transform).
    pub fn borrowed(bytes: &'a [u8]) -> Buffer<'a> {
        Buffer {
            ptr: bytes.as_ptr(),
            len: bytes.len(),
            owner: None,
            _life: PhantomData,
        }
    }

    /// The length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the buffer is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The first byte's address.
    pub fn as_ptr(&self) -> *const u8 {
        self.ptr
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        // SAFETY: ptr/len describe a live Vec or a borrowed slice.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }

    pub(crate) fn into_owner(self) -> Option<Box<dyn Any>> {
        self.owner
    }
}

impl fmt::Debug for Buffer<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Buffer({} bytes, {})",
            self.len,
            if self.owner.is_some() { "owned" } else { "borrowed" }
        )
    }
}

/// A growable bitmap, LSB first, starting at bit 0: validity (1 = valid) or
/// boolean values.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct BitmapBuilder {
    bytes: Vec<u8>,
    len: usize,
}

impl BitmapBuilder {
    /// An empty bitmap.
    pub fn new() -> BitmapBuilder {
        BitmapBuilder::default()
    }

    /// An empty bitmap with room for `bits` bits.
    pub fn with_capacity(bits: usize) -> BitmapBuilder {
        BitmapBuilder {
            bytes: Vec::with_capacity((bits + 7) / 8),
            len: 0,
        }
    }

    /// `len` bits, all set (all valid).
    pub fn new_set(len: usize) -> BitmapBuilder {
        let mut b = BitmapBuilder {
            bytes: vec![0xFF; (len + 7) / 8],
            len,
        };
        b.clear_tail();
        b
    }

    /// `len` bits, all unset (all null).
    pub fn new_unset(len: usize) -> BitmapBuilder {
        BitmapBuilder {
            bytes: vec![0; (len + 7) / 8],
            len,
        }
    }

    fn clear_tail(&mut self) {
        if self.len % 8 != 0 {
            if let Some(last) = self.bytes.last_mut() {
                *last &= (1u8 << (self.len % 8)) - 1;
            }
        }
    }

    /// Appends one bit.
    #[inline]
    pub fn push(&mut self, bit: bool) {
        if self.len % 8 == 0 {
            self.bytes.push(0);
        }
        if bit {
            let n = self.bytes.len();
            self.bytes[n - 1] |= 1 << (self.len % 8);
        }
        self.len += 1;
    }

    /// Appends `len` bits of `bytes`, which start at bit 0 of `bytes[0]`.
    pub(crate) fn extend_from_bytes(&mut self, bytes: &[u8], len: usize) {
        if self.len % 8 == 0 {
            self.bytes.extend_from_slice(&bytes[..(len + 7) / 8]);
            self.len += len;
            self.clear_tail();
        } else {
            for i in 0..len {
                self.push(bytes[i / 8] & (1 << (i % 8)) != 0);
            }
        }
    }

    /// Sets bit `i`.
    ///
    /// # Panics
    /// When `i >= len()`.
    #[inline]
    pub fn set(&mut self, i: usize, bit: bool) {
        assert!(i < self.len, "bit {} out of range for bitmap of length {}", i, self.len);
        if bit {
            self.bytes[i / 8] |= 1 << (i % 8);
        } else {
            self.bytes[i / 8] &= !(1 << (i % 8));
        }
    }

    /// Bit `i`.
    ///
    /// # Panics
    /// When `i >= len()`.
    #[inline]
    pub fn get(&self, i: usize) -> bool {
        assert!(i < self.len, "bit {} out of range for bitmap of length {}", i, self.len);
        self.bytes[i / 8] & (1 << (i % 8)) != 0
    }

    /// The number of bits.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no bits.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The number of unset bits (nulls, for validity).
    pub fn count_unset(&self) -> usize {
        // Bits past len are kept zero, so counting whole bytes is exact.
        self.len - self.bytes.iter().map(|b| b.count_ones() as usize).sum::<usize>()
    }

    /// The packed bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub(crate) fn into_buffer(self) -> Buffer<'static> {
        Buffer::from_vec(self.bytes)
    }
}

impl fmt::Debug for BitmapBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s: String = (0..self.len).map(|i| if self.get(i) { '1' } else { '0' }).collect();
        write!(f, "BitmapBuilder({})", s)
    }
}

impl FromIterator<bool> for BitmapBuilder {
    fn from_iter<I: IntoIterator<Item = bool>>(iter: I) -> BitmapBuilder {
        let mut b = BitmapBuilder::new();
        for bit in iter {
            b.push(bit);
        }
        b
    }
}
