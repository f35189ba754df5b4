//! Format strings (spec §4.2) and the native value types.

/// The physical layout a format string implies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Layout {
    /// `n`: no buffers.
    Null,
    /// `b`: validity, bit-packed values.
    Bool,
    /// Validity and fixed-width values of this many bytes.
    Fixed(usize),
    /// `z`, `u`: validity, int32 offsets, data.
    Binary,
    /// `Z`, `U`: validity, int64 offsets, data.
    LargeBinary,
    /// `+l`: validity, int32 offsets; one child.
    List,
    /// `+L`: validity, int64 offsets; one child.
    LargeList,
    /// `+w:N`: validity; one child with N values per row.
    FixedSizeList(usize),
    /// `+s`: validity; one child per field.
    Struct,
    /// `+m`: validity, int32 offsets; one struct child.
    Map,
}

impl Layout {
    /// The number of buffers, validity included (spec §4.2).
    pub(crate) fn n_buffers(self) -> usize {
        match self {
            Layout::Null => 0,
            Layout::FixedSizeList(_) | Layout::Struct => 1,
            Layout::Binary | Layout::LargeBinary => 3,
            _ => 2,
        }
    }

    /// The number of children, when the layout fixes it.
    pub(crate) fn n_children(self) -> Option<usize> {
        match self {
            Layout::Struct => None,
            Layout::List | Layout::LargeList | Layout::FixedSizeList(_) | Layout::Map => Some(1),
            _ => Some(0),
        }
    }
}

fn positive(s: &str) -> Option<usize> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match s.parse::<i32>() {
        Ok(n) if n > 0 => Some(n as usize),
        _ => None,
    }
}

/// The layout of a format string of a type ABI v1 supports, or `None`.
pub(crate) fn layout(format: &str) -> Option<Layout> {
    let fixed = |w| Some(Layout::Fixed(w));
    match format {
        "n" => return Some(Layout::Null),
        "b" => return Some(Layout::Bool),
        "c" | "C" => return fixed(1),
        "s" | "S" | "e" => return fixed(2),
        "i" | "I" | "f" | "tdD" | "tts" | "ttm" => return fixed(4),
        "l" | "L" | "g" | "tdm" | "ttu" | "ttn" | "tDs" | "tDm" | "tDu" | "tDn" => return fixed(8),
        "z" | "u" => return Some(Layout::Binary),
        "Z" | "U" => return Some(Layout::LargeBinary),
        "+l" => return Some(Layout::List),
        "+L" => return Some(Layout::LargeList),
        "+s" => return Some(Layout::Struct),
        "+m" => return Some(Layout::Map),
        _ => {}
    }
    if let Some(n) = format.strip_prefix("+w:") {
        return positive(n).map(Layout::FixedSizeList);
    }
    if let Some(n) = format.strip_prefix("w:") {
        return positive(n).map(Layout::Fixed);
    }
    if let Some(rest) = format.strip_prefix("d:") {
        let parts: Vec<&str> = rest.split(',').collect();
        if parts.len() < 2 || parts.len() > 3 {
            return None;
        }
        let p = positive(parts[0])?;
        let scale = parts[1].strip_prefix('-').unwrap_or(parts[1]);
        if scale.is_empty() || !scale.bytes().all(|b| b.is_ascii_digit()) || parts[1].parse::<i32>().is_err() {
            return None;
        }
        let (width, max_p) = match parts.get(2) {
            None | Some(&"128") => (16, 38),
            Some(&"256") => (32, 76),
            Some(_) => return None,
        };
        return if p <= max_p { fixed(width) } else { None };
    }
    let b = format.as_bytes();
    if b.len() >= 4 && b[0] == b't' && b[1] == b's' && b"smun".contains(&b[2]) && b[3] == b':' {
        return fixed(8);
    }
    None
}

mod sealed {
    pub trait Sealed {}
}

/// A fixed-width value type that can be read from, and written to, Arrow
/// buffers without conversion: `i8`…`u64`, `f32`, `f64`.
///
/// Sealed: every bit pattern of these types is a valid value, which is what
/// makes viewing a buffer as `&[T]` sound.
pub trait Native: sealed::Sealed + Copy + Default + PartialEq + std::fmt::Debug + 'static {
    /// The format string of the Arrow type with this representation.
    const FORMAT: &'static str;

    /// Whether an array of `format` stores its values as this type: the
    /// canonical format, plus the temporal types backed by `i32` / `i64` and
    /// float16 read as raw `u16` bits.
    fn accepts(format: &str) -> bool;
}

macro_rules! native {
    ($t:ty, $f:expr, $accepts:expr) => {
        impl sealed::Sealed for $t {}
        impl Native for $t {
            const FORMAT: &'static str = $f;
            fn accepts(format: &str) -> bool {
                let accepts: fn(&str) -> bool = $accepts;
                format == $f || accepts(format)
            }
        }
    };
}

native!(i8, "c", |_| false);
native!(u8, "C", |_| false);
native!(i16, "s", |_| false);
native!(u16, "S", |f| f == "e");
native!(i32, "i", |f| matches!(f, "tdD" | "tts" | "ttm"));
native!(u32, "I", |_| false);
native!(i64, "l", |f| {
    matches!(f, "tdm" | "ttu" | "ttn" | "tDs" | "tDm" | "tDu" | "tDn")
        || (f.len() >= 4 && f.starts_with("ts") && layout(f) == Some(Layout::Fixed(8)))
});
native!(u64, "L", |_| false);
native!(f32, "f", |_| false);
native!(f64, "g", |_| false);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts() {
        let cases: &[(&str, Option<Layout>)] = &[
            ("n", Some(Layout::Null)),
            ("b", Some(Layout::Bool)),
            ("C", Some(Layout::Fixed(1))),
            ("e", Some(Layout::Fixed(2))),
            ("tdD", Some(Layout::Fixed(4))),
            ("g", Some(Layout::Fixed(8))),
            ("tsu:", Some(Layout::Fixed(8))),
            ("tsn:Europe/Paris", Some(Layout::Fixed(8))),
            ("w:16", Some(Layout::Fixed(16))),
            ("d:10,2", Some(Layout::Fixed(16))),
            ("d:40,-2,256", Some(Layout::Fixed(32))),
            ("u", Some(Layout::Binary)),
            ("U", Some(Layout::LargeBinary)),
            ("+w:12", Some(Layout::FixedSizeList(12))),
            ("+s", Some(Layout::Struct)),
            ("+m", Some(Layout::Map)),
            ("+w:0", None),
            ("+w:-1", None),
            ("+w:x", None),
            ("d:40,2", None),
            ("d:10,2,64", None),
            ("tsx:", None),
            ("+ud:0,1", None),
            ("vu", None),
            ("", None),
        ];
        for (f, want) in cases {
            assert_eq!(layout(f), *want, "{:?}", f);
        }
    }

    #[test]
    fn native_accepts() {
        assert!(i32::accepts("i") && i32::accepts("tdD") && !i32::accepts("I"));
        assert!(i64::accepts("tsm:UTC") && i64::accepts("tDn") && !i64::accepts("ts"));
        assert!(u16::accepts("e") && !f32::accepts("g"));
    }
}
