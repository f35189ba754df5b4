//! Field and schema metadata of the input (spec §4).

use std::fmt;
use std::marker::PhantomData;
use std::os::raw::c_char;

/// Field or schema metadata (spec §4): key/value pairs of bytes.
#[derive(Clone, Copy)]
pub struct Metadata<'a> {
    ptr: *const u8,
    _life: PhantomData<&'a [u8]>,
}

impl<'a> Metadata<'a> {
    /// # Safety
    /// `p` must be NULL or point to metadata in the encoding of spec §4,
    /// valid for `'a`.
    pub unsafe fn from_ptr(p: *const c_char) -> Metadata<'a> {
        Metadata {
            ptr: p as *const u8,
            _life: PhantomData,
        }
    }

    /// The encoded bytes' pointer (NULL when there is no metadata).
    pub fn as_ptr(&self) -> *const c_char {
        self.ptr as *const c_char
    }

    fn read_i32(&self, at: usize) -> usize {
        // SAFETY: within the encoding (from_ptr's contract); unaligned read.
        let v = unsafe { std::ptr::read_unaligned(self.ptr.add(at) as *const i32) };
        v.max(0) as usize
    }

    /// The number of pairs.
    pub fn len(&self) -> usize {
        if self.ptr.is_null() {
            0
        } else {
            self.read_i32(0)
        }
    }

    /// Whether there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The pairs in order.
    pub fn iter(&self) -> MetadataIter<'a> {
        MetadataIter {
            md: *self,
            left: self.len(),
            at: 4,
        }
    }

    /// The value of the first pair whose key is `key`.
    pub fn get(&self, key: &str) -> Option<&'a [u8]> {
        self.iter().find(|(k, _)| *k == key.as_bytes()).map(|(_, v)| v)
    }

    /// The value of `key` as text; `None` when absent or not UTF-8.
    pub fn get_str(&self, key: &str) -> Option<&'a str> {
        self.get(key).and_then(|v| std::str::from_utf8(v).ok())
    }
}

impl fmt::Debug for Metadata<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(
                self.iter()
                    .map(|(k, v)| (String::from_utf8_lossy(k), String::from_utf8_lossy(v))),
            )
            .finish()
    }
}

/// Iterator over metadata pairs, `(key, value)`.
pub struct MetadataIter<'a> {
    md: Metadata<'a>,
    left: usize,
    at: usize,
}

impl<'a> Iterator for MetadataIter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let mut field = || {
            let n = self.md.read_i32(self.at);
            // SAFETY: the encoding holds n bytes after the length.
            let s = unsafe { std::slice::from_raw_parts(self.md.ptr.add(self.at + 4), n) };
            self.at += 4 + n;
            s
        };
        let k = field();
        let v = field();
        Some((k, v))
    }
}
