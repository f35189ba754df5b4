//! Typed views of column values: bitmaps, binary/utf8 values, lists.
//!
//! Made by [`Column`](crate::Column)'s accessors, which check the structure
//! first; every view borrows the input for `'a` and honours offsets.

use std::fmt;

use crate::buffer::BitmapBuilder;
use crate::format::Native;
use crate::view::Column;
use crate::Error;

/// A bitmap (validity or boolean values) over a window of slots, LSB first.
#[derive(Clone, Copy)]
pub struct Bitmap<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) offset: usize,
    pub(crate) len: usize,
}

impl<'a> Bitmap<'a> {
    /// # Safety
    /// `p` must point to at least `ceil((offset + len) / 8)` readable bytes.
    pub(crate) unsafe fn from_raw(p: *const u8, offset: usize, len: usize) -> Bitmap<'a> {
        let n = (offset + len + 7) / 8;
        Bitmap {
            bytes: std::slice::from_raw_parts(p, n),
            offset,
            len,
        }
    }

    /// A bitmap over `bytes` from bit `offset`, `len` bits long.
    ///
    /// # Panics
    /// When `bytes` holds fewer than `offset + len` bits.
    pub fn new(bytes: &'a [u8], offset: usize, len: usize) -> Bitmap<'a> {
        assert!(
            bytes.len() * 8 >= offset + len,
            "bitmap of {} bytes too short for {} bits",
            bytes.len(),
            offset + len
        );
        Bitmap { bytes, offset, len }
    }

    /// The number of bits.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no bits.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bit `i`.
    ///
    /// # Panics
    /// When `i >= len()`.
    #[inline]
    pub fn get(&self, i: usize) -> bool {
        assert!(i < self.len, "bit {} out of range for bitmap of length {}", i, self.len);
        let j = self.offset + i;
        self.bytes[j / 8] & (1 << (j % 8)) != 0
    }

    /// The bits in order.
    pub fn iter(&self) -> impl Iterator<Item = bool> + 'a {
        let b = *self;
        (0..b.len).map(move |i| b.get(i))
    }

    /// The number of set bits.
    pub fn count_set(&self) -> usize {
        let (start, end) = (self.offset, self.offset + self.len);
        if start == end {
            return 0;
        }
        let (first, last) = (start / 8, (end - 1) / 8);
        let mask = |lo: usize, hi: usize| -> u8 { ((0xFFu16 << lo) & (0xFFu16 >> (8 - hi))) as u8 };
        if first == last {
            return (self.bytes[first] & mask(start % 8, (end - 1) % 8 + 1)).count_ones() as usize;
        }
        let mut n = (self.bytes[first] & mask(start % 8, 8)).count_ones() as usize;
        n += self.bytes[first + 1..last]
            .iter()
            .map(|b| b.count_ones() as usize)
            .sum::<usize>();
        n + (self.bytes[last] & mask(0, (end - 1) % 8 + 1)).count_ones() as usize
    }

    /// The number of unset bits (nulls, for a validity bitmap).
    pub fn count_unset(&self) -> usize {
        self.len - self.count_set()
    }

    /// A copy starting at bit 0, for an output column.
    pub fn to_builder(&self) -> BitmapBuilder {
        let mut out = BitmapBuilder::with_capacity(self.len);
        if self.offset % 8 == 0 {
            let start = self.offset / 8;
            out.extend_from_bytes(&self.bytes[start..start + (self.len + 7) / 8], self.len);
        } else {
            for i in 0..self.len {
                out.push(self.get(i));
            }
        }
        out
    }
}

impl fmt::Debug for Bitmap<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s: String = self.iter().map(|b| if b { '1' } else { '0' }).collect();
        write!(f, "Bitmap({})", s)
    }
}

#[derive(Clone, Copy)]
pub(crate) enum Offsets<'a> {
    Small(&'a [i32]),
    Large(&'a [i64]),
}

impl<'a> Offsets<'a> {
    pub(crate) fn len(&self) -> usize {
        match self {
            Offsets::Small(o) => o.len(),
            Offsets::Large(o) => o.len(),
        }
    }

    #[inline]
    pub(crate) fn get(&self, i: usize) -> usize {
        // Checked non-negative and in range by `check`.
        match self {
            Offsets::Small(o) => o[i] as usize,
            Offsets::Large(o) => o[i] as usize,
        }
    }

    /// Checks the offsets are non-negative, fit usize and do not decrease;
    /// returns the first and last, or the index of the first bad entry.
    pub(crate) fn check(&self) -> Result<(usize, usize), usize> {
        fn run<T: Copy + Into<i64>>(o: &[T]) -> Result<(usize, usize), usize> {
            let mut prev = 0i64;
            for (i, &v) in o.iter().enumerate() {
                let v: i64 = v.into();
                if v < 0 || (i > 0 && v < prev) || usize::try_from(v).is_err() {
                    return Err(i);
                }
                prev = v;
            }
            Ok((o[0].into() as usize, prev as usize))
        }
        match self {
            Offsets::Small(o) => run(o),
            Offsets::Large(o) => run(o),
        }
    }
}

/// The values of a binary or string column.
#[derive(Clone, Copy)]
pub struct BinaryView<'a> {
    pub(crate) offsets: Offsets<'a>,
    pub(crate) data: &'a [u8],
    pub(crate) utf8: bool,
    pub(crate) column: Column<'a>,
}

impl<'a> BinaryView<'a> {
    /// The number of values.
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes of value `i` (empty for a null slot, usually).
    ///
    /// # Panics
    /// When `i >= len()`.
    #[inline]
    pub fn value(&self, i: usize) -> &'a [u8] {
        &self.data[self.offsets.get(i)..self.offsets.get(i + 1)]
    }

    /// Value `i` as text, or `None` when the column is binary, not utf8.
    ///
    /// # Panics
    /// When `i >= len()`.
    #[inline]
    pub fn str(&self, i: usize) -> Option<&'a str> {
        if !self.utf8 {
            return None;
        }
        let b = self.value(i);
        // SAFETY: the data was checked to be UTF-8 with every offset on a
        // character boundary when the view was made.
        Some(unsafe { std::str::from_utf8_unchecked(b) })
    }

    /// Value `i`, or `None` when the slot is null.
    pub fn get(&self, i: usize) -> Option<&'a [u8]> {
        if self.column.is_valid(i) {
            Some(self.value(i))
        } else {
            None
        }
    }

    /// Text value `i`, or `None` when the slot is null or the column binary.
    pub fn get_str(&self, i: usize) -> Option<&'a str> {
        if self.column.is_valid(i) {
            self.str(i)
        } else {
            None
        }
    }
}

/// The values of a fixed_size_list column: `size()` child values per slot.
#[derive(Clone, Copy)]
pub struct FixedSizeListView<'a> {
    pub(crate) list: Column<'a>,
    pub(crate) child: Column<'a>,
    pub(crate) size: usize,
}

impl<'a> FixedSizeListView<'a> {
    /// The number of values per slot (`N` of `+w:N`).
    pub fn size(&self) -> usize {
        self.size
    }

    /// The number of slots.
    pub fn len(&self) -> usize {
        self.list.len
    }

    /// Whether there are no slots.
    pub fn is_empty(&self) -> bool {
        self.list.len == 0
    }

    /// The child array as it is (its own offset and length).
    pub fn child(&self) -> Column<'a> {
        self.child
    }

    /// The child values of this view's slots, in order: `len() × size()`
    /// values starting at child slot `list.offset × size`.
    pub fn values(&self) -> Column<'a> {
        let mut c = self.child;
        c.offset = self.child.offset + self.list.offset * self.size;
        c.len = self.list.len * self.size;
        c.exact = false;
        c
    }

    /// The child values as a slice of `T`: slot `i` is
    /// `slice[i * size()..(i + 1) * size()]`.
    pub fn primitive<T: Native>(&self) -> Result<&'a [T], Error> {
        self.values().primitive::<T>()
    }
}

/// The values of a list column.
#[derive(Clone, Copy)]
pub struct ListView<'a> {
    pub(crate) offsets: Offsets<'a>,
    pub(crate) child: Column<'a>,
}

impl<'a> ListView<'a> {
    /// The number of slots.
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Whether there are no slots.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The child array (its own offset and length); slot `i` covers its
    /// slots `range(i)`.
    pub fn child(&self) -> Column<'a> {
        self.child
    }

    /// The child slots of slot `i`.
    pub fn range(&self, i: usize) -> std::ops::Range<usize> {
        self.offsets.get(i)..self.offsets.get(i + 1)
    }
}
