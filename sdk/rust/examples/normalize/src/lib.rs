//! `normalize`: image normalisation, uint8 HWC → float32 CHW, the classic
//! model preprocessing step (the shared example every SDK implements
//! bit-identically).
//!
//! Input: a column (config `"column"`, default `"image"`) of the canonical
//! extension type `arrow.fixed_shape_tensor` over uint8: storage
//! `fixed_size_list<uint8>[H*W*C]`, shape `[H, W, C]` in the extension
//! metadata, 1 ≤ C ≤ 4.
//!
//! Output: every other input column passed through unchanged (zero-copy),
//! then a nullable column (config `"output"`, default `"tensor"`) of
//! `arrow.fixed_shape_tensor` over float32 with shape `[C, H, W]`:
//!
//! ```text
//! out[r][c*H*W + y*W + x] = (float)in[r][y*W*C + x*C + c] * scale[c] + bias[c]
//! scale[c] = (float)(1 / (255 * std[c])),  bias[c] = (float)(-mean[c] / std[c])
//! ```
//!
//! computed in float64 and rounded once to float32 for the constants, then a
//! float32 multiply and a float32 add, each rounded (no fused multiply-add).
//! A null input row gives a null output row of zeros.
//!
//! Config: `"mean"`, `"std"` (1 to 4 numbers each; channel `c` uses element
//! `c`, or the last; defaults are ImageNet's), `"column"`, `"output"`.

use std::mem::MaybeUninit;

use wasinfer_sdk::json::{self, Value};
use wasinfer_sdk::{
    export_udf, Array, Batch, Bitmap, Column, Config, Error, Field, OutBatch, Status, Udf, EXTENSION_METADATA_KEY,
    EXTENSION_NAME_KEY, FIXED_SHAPE_TENSOR,
};

/// ImageNet channel means.
pub const DEFAULT_MEAN: [f64; 3] = [0.485, 0.456, 0.406];
/// ImageNet channel standard deviations.
pub const DEFAULT_STD: [f64; 3] = [0.229, 0.224, 0.225];

/// The normalize transform, configured.
#[derive(Debug)]
pub struct Normalize {
    column: String,
    output: String,
    scale: [f32; 4],
    bias: [f32; 4],
}

/// Reads `key` as 1 to 4 numbers, or `default`.
fn channel_values(c: &Config, key: &str, default: &[f64]) -> Result<Vec<f64>, Error> {
    match c.numbers(key)? {
        None => Ok(default.to_vec()),
        Some(v) if v.is_empty() || v.len() > 4 => Err(Error::invalid_config(format!(
            "config: {:?} must have 1 to 4 values (one per channel), got {}",
            key,
            v.len()
        ))),
        Some(v) => Ok(v),
    }
}

impl Normalize {
    /// The per-channel constants for `mean` and `std` (each 1 to 4 values;
    /// channel `c` uses element `c`, or the last one).
    pub fn constants(mean: &[f64], std: &[f64]) -> ([f32; 4], [f32; 4]) {
        let (mut scale, mut bias) = ([0f32; 4], [0f32; 4]);
        for c in 0..4 {
            let m = mean[c.min(mean.len() - 1)];
            let s = std[c.min(std.len() - 1)];
            scale[c] = (1.0 / (255.0 * s)) as f32;
            bias[c] = (-m / s) as f32;
        }
        (scale, bias)
    }
}

impl Udf for Normalize {
    const DESCRIPTION: &'static str = concat!(
        r#"{"name":"normalize","version":"1.0.0","language":"rust","#,
        r#""description":"uint8 HWC image tensor to normalized float32 CHW tensor: (x/255 - mean) / std per channel","#,
        r#""input":[{"name":"image","type":"arrow.fixed_shape_tensor<uint8>[H,W,C]"}],"#,
        r#""output":[{"name":"tensor","type":"arrow.fixed_shape_tensor<float>[C,H,W]"}]}"#
    );

    fn init(config: &str) -> Result<Self, Error> {
        let c = Config::parse(config)?;
        c.check_keys(&["column", "output", "mean", "std"])?;
        let mean = channel_values(&c, "mean", &DEFAULT_MEAN)?;
        let std = channel_values(&c, "std", &DEFAULT_STD)?;
        for (i, s) in std.iter().enumerate() {
            // The JSON reader yields finite numbers only.
            if *s <= 0.0 {
                return Err(Error::invalid_config(format!(
                    "config: \"std\"[{}] must be > 0, got {}",
                    i, s
                )));
            }
        }
        let (scale, bias) = Normalize::constants(&mean, &std);
        Ok(Normalize {
            column: c.string("column")?.unwrap_or("image").to_string(),
            output: c.string("output")?.unwrap_or("tensor").to_string(),
            scale,
            bias,
        })
    }

    fn transform<'a>(&mut self, input: &Batch<'a>) -> Result<OutBatch<'a>, Error> {
        let image = input.require(&self.column)?;
        let (h, w, c) = tensor_shape(&image)?;
        let list = image.fixed_size_list()?;
        let m = list.size();
        let rows = image.len();
        let pixels = list.primitive::<u8>()?;

        let total = rows.checked_mul(m).ok_or_else(|| {
            Error::out_of_memory(format!(
                "column {:?}: {} rows × {} values overflow",
                self.column, rows, m
            ))
        })?;
        let mut values: Vec<f32> = Vec::new();
        values.try_reserve_exact(total).map_err(|_| {
            Error::out_of_memory(format!(
                "column {:?}: no memory for {} float32 output values",
                self.column, total
            ))
        })?;
        let validity = image.validity().filter(|v| v.count_unset() > 0);
        let dst = &mut values.spare_capacity_mut()[..total];
        let k = Kernel {
            hw: h * w,
            scale: self.scale,
            bias: self.bias,
        };
        match c {
            1 => k.rows::<1>(pixels, validity, dst),
            2 => k.rows::<2>(pixels, validity, dst),
            3 => k.rows::<3>(pixels, validity, dst),
            _ => k.rows::<4>(pixels, validity, dst),
        }
        // SAFETY: Kernel::rows wrote every one of the `total` values.
        unsafe { values.set_len(total) };

        let child = Field::new("item", Array::from_values(values)).nullable(false);
        let tensor = Array::fixed_size_list(m, child, validity.map(|v| v.to_builder()))?;
        let field = Field::new(self.output.clone(), tensor)
            .nullable(true)
            .with_metadata(EXTENSION_NAME_KEY, FIXED_SHAPE_TENSOR)
            .with_metadata(EXTENSION_METADATA_KEY, format!("{{\"shape\":[{},{},{}]}}", c, h, w));

        let mut out = OutBatch::new(rows);
        for col in input.columns() {
            if !std::ptr::eq(col.ffi_schema(), image.ffi_schema()) {
                out.pass_through(col)?;
            }
        }
        out.push(field)?;
        Ok(out)
    }
}

/// Checks that `col` is an `arrow.fixed_shape_tensor` over uint8 and returns
/// its shape `(H, W, C)`. Every failure is `UNSUPPORTED_INPUT`.
fn tensor_shape(col: &Column<'_>) -> Result<(usize, usize, usize), Error> {
    let unsupported = |msg: String| Error::in_column(Status::UnsupportedInput, col.name(), msg);
    let size = match col.format().strip_prefix("+w:").and_then(|n| n.parse::<usize>().ok()) {
        Some(n) => n,
        None => {
            return Err(unsupported(format!(
                "type {:?} is not fixed_size_list<uint8> (an arrow.fixed_shape_tensor of uint8)",
                col.format()
            )))
        }
    };
    let child = col.child(0)?;
    if child.format() != "C" {
        return Err(unsupported(format!(
            "tensor value type {:?} is not uint8 (\"C\")",
            child.format()
        )));
    }
    let md = col.metadata();
    match md.get_str(EXTENSION_NAME_KEY) {
        Some(FIXED_SHAPE_TENSOR) => {}
        Some(other) => {
            return Err(unsupported(format!(
                "extension type {:?} is not {}",
                other, FIXED_SHAPE_TENSOR
            )))
        }
        None => {
            return Err(unsupported(format!(
                "not an {} ({} is missing)",
                FIXED_SHAPE_TENSOR, EXTENSION_NAME_KEY
            )))
        }
    }
    let text = md.get_str(EXTENSION_METADATA_KEY).ok_or_else(|| {
        unsupported(format!(
            "{} is missing (want {{\"shape\":[H,W,C]}})",
            EXTENSION_METADATA_KEY
        ))
    })?;
    let bad_shape = |why: &str| {
        unsupported(format!(
            "bad tensor shape in {} {:?}: {}",
            EXTENSION_METADATA_KEY, text, why
        ))
    };
    let v = json::parse(text).map_err(|e| bad_shape(&format!("invalid JSON: {}", e)))?;
    let dims = v
        .as_object()
        .and_then(|o| o.get("shape"))
        .and_then(Value::as_array)
        .ok_or_else(|| bad_shape("no \"shape\" array"))?;
    if dims.len() != 3 {
        return Err(bad_shape(&format!("{} dimensions, want 3 (H, W, C)", dims.len())));
    }
    let mut hwc = [0usize; 3];
    for (i, d) in dims.iter().enumerate() {
        hwc[i] = match d.as_i64() {
            Some(n) if n > 0 && n <= i32::MAX as i64 => n as usize,
            _ => return Err(bad_shape("dimensions must be positive integers")),
        };
    }
    let [h, w, c] = hwc;
    if c > 4 {
        return Err(bad_shape(&format!("{} channels, want 1 to 4", c)));
    }
    match h.checked_mul(w).and_then(|hw| hw.checked_mul(c)) {
        Some(n) if n == size => Ok((h, w, c)),
        _ => Err(bad_shape(&format!(
            "H×W×C = {}×{}×{} is not the list size {}",
            h, w, c, size
        ))),
    }
}

/// The inner loops, with the per-channel constants hoisted.
struct Kernel {
    hw: usize,
    scale: [f32; 4],
    bias: [f32; 4],
}

impl Kernel {
    /// Normalises every row: `src` holds `rows × C·hw` pixels (HWC), `dst`
    /// receives as many floats (CHW). Null rows become zeros.
    fn rows<const C: usize>(&self, src: &[u8], validity: Option<Bitmap<'_>>, dst: &mut [MaybeUninit<f32>]) {
        let m = C * self.hw;
        if m == 0 {
            return;
        }
        assert_eq!(src.len(), dst.len());
        for (r, (s, d)) in src.chunks_exact(m).zip(dst.chunks_exact_mut(m)).enumerate() {
            if validity.map_or(true, |v| v.get(r)) {
                self.row::<C>(s, d);
            } else {
                for x in d {
                    x.write(0.0);
                }
            }
        }
    }

    /// One row: HWC bytes to CHW floats.
    #[inline(always)]
    fn row<const C: usize>(&self, src: &[u8], dst: &mut [MaybeUninit<f32>]) {
        let hw = self.hw;
        // Plane c of the output is dst[c*hw..(c+1)*hw]; pixel p of the input
        // is src[p*C..(p+1)*C].
        let mut planes: [&mut [MaybeUninit<f32>]; C] = split_planes(dst, hw);
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        let done = simd::row::<C>(src, &mut planes, &self.scale, &self.bias);
        #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
        let done = 0;
        // The scalar loop: every pixel without SIMD (natively, or a wasm32
        // build without +simd128), the last hw % 16 with it.
        for (c, plane) in planes.iter_mut().enumerate() {
            let (s, b) = (self.scale[c], self.bias[c]);
            for (d, px) in plane[done..].iter_mut().zip(src[done * C..].chunks_exact(C)) {
                d.write(px[c] as f32 * s + b);
            }
        }
    }
}

/// Splits a row's output into its C planes of `hw` values.
fn split_planes<const C: usize>(dst: &mut [MaybeUninit<f32>], hw: usize) -> [&mut [MaybeUninit<f32>]; C] {
    let mut rest = dst;
    [(); C].map(|_| {
        let (plane, tail) = std::mem::take(&mut rest).split_at_mut(hw);
        rest = tail;
        plane
    })
}

/// The row kernel with wasm SIMD: 16 pixels (16·C bytes) per step,
/// de-interleaved with byte swizzles, widened to f32, then a separate
/// multiply and add per lane, which is bit-identical to the scalar code.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use std::arch::wasm32::*;
    use std::mem::MaybeUninit;
    use std::ptr::{read_unaligned, write_unaligned};

    /// The swizzle that moves channel `ch` of 16 pixels of C channels out of
    /// input vector `v` (bytes 16v..16v+16 of the block): output byte i is
    /// block byte C*i + ch when that lies in vector v, else 0 (index 0x80).
    const fn mask(c: usize, ch: usize, v: usize) -> [u8; 16] {
        let mut m = [0x80u8; 16];
        let mut i = 0;
        while i < 16 {
            let j = c * i + ch;
            if j / 16 == v {
                m[i] = (j % 16) as u8;
            }
            i += 1;
        }
        m
    }

    /// `MASKS[C][ch][v]`: the masks for C channels.
    const MASKS: [[[[u8; 16]; 4]; 4]; 5] = {
        let mut out = [[[[0x80u8; 16]; 4]; 4]; 5];
        let mut c = 1;
        while c <= 4 {
            let mut ch = 0;
            while ch < c {
                let mut v = 0;
                while v < c {
                    out[c][ch][v] = mask(c, ch, v);
                    v += 1;
                }
                ch += 1;
            }
            c += 1;
        }
        out
    };

    #[inline(always)]
    fn to_v128(b: &[u8; 16]) -> v128 {
        // SAFETY: 16 readable bytes; unaligned read.
        unsafe { read_unaligned(b.as_ptr() as *const v128) }
    }

    /// Channel `ch` of one block of 16 pixels: gather, widen, scale, store
    /// 16 floats at `dst`.
    ///
    /// # Safety
    /// `dst` must be valid for writing 16 floats.
    #[inline(always)]
    unsafe fn channel<const C: usize>(input: &[v128; C], ch: usize, scale: f32, bias: f32, dst: *mut v128) {
        let bytes = if C == 1 {
            input[0]
        } else {
            let m = &MASKS[C][ch];
            let mut acc = i8x16_swizzle(input[0], to_v128(&m[0]));
            for v in 1..C {
                acc = v128_or(acc, i8x16_swizzle(input[v], to_v128(&m[v])));
            }
            acc
        };
        let (s, b) = (f32x4_splat(scale), f32x4_splat(bias));
        let lo = u16x8_extend_low_u8x16(bytes);
        let hi = u16x8_extend_high_u8x16(bytes);
        let quarters = [
            i32x4_extend_low_u16x8(lo),
            i32x4_extend_high_u16x8(lo),
            i32x4_extend_low_u16x8(hi),
            i32x4_extend_high_u16x8(hi),
        ];
        // u32 → f32 without a conversion instruction (LLVM 14 scalarises the
        // one it would pick here): 2^23 + u has the bits 0x4B000000 | u for
        // u < 2^23, and subtracting 2^23 gives u exactly.
        let magic_bits = i32x4_splat(0x4B00_0000);
        let magic = f32x4_splat(8_388_608.0);
        for (k, q) in quarters.iter().enumerate() {
            let x = f32x4_sub(v128_or(*q, magic_bits), magic);
            let f = f32x4_add(f32x4_mul(x, s), b);
            write_unaligned(dst.add(k), f);
        }
    }

    /// Normalises the first `hw / 16 * 16` pixels of a row; returns how many.
    #[inline(always)]
    pub(super) fn row<const C: usize>(
        src: &[u8],
        planes: &mut [&mut [MaybeUninit<f32>]; C],
        scale: &[f32; 4],
        bias: &[f32; 4],
    ) -> usize {
        let hw = planes[0].len();
        assert!(src.len() == C * hw && planes.iter().all(|p| p.len() == hw));
        let blocks = hw / 16;
        let out: [*mut v128; C] = [(); C].map(|_| std::ptr::null_mut());
        let mut out = out;
        for (o, p) in out.iter_mut().zip(planes.iter_mut()) {
            *o = p.as_mut_ptr() as *mut v128;
        }
        for i in 0..blocks {
            // SAFETY: block i reads src[16Ci..16C(i+1)] and writes floats
            // 16i..16i+16 of each plane, all in bounds (blocks = hw / 16).
            unsafe {
                let p = src.as_ptr().add(16 * C * i);
                let mut input = [i8x16_splat(0); C];
                for (v, x) in input.iter_mut().enumerate() {
                    *x = read_unaligned(p.add(16 * v) as *const v128);
                }
                // Unrolled over the channels so that every mask is a constant.
                channel::<C>(&input, 0, scale[0], bias[0], out[0].add(4 * i));
                if C > 1 {
                    channel::<C>(&input, 1, scale[1], bias[1], out[1 % C].add(4 * i));
                }
                if C > 2 {
                    channel::<C>(&input, 2, scale[2], bias[2], out[2 % C].add(4 * i));
                }
                if C > 3 {
                    channel::<C>(&input, 3, scale[3], bias[3], out[3 % C].add(4 * i));
                }
            }
        }
        blocks * 16
    }
}

export_udf!(Normalize);

#[cfg(test)]
mod tests;
