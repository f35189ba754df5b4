//! Native tests: image batches built by hand (nulls, offsets at every level),
//! run through the exported entry points and compared bit for bit with a
//! direct transcription of the formula.

use wasinfer_sdk::ffi::{FFI_ArrowArray, FFI_ArrowSchema, FLAG_NULLABLE};
use wasinfer_sdk::testing::{self, child_mut, CountingAllocator};
use wasinfer_sdk::{Array, BitmapBuilder, Field, OutBatch, Status, Udf};
use wasinfer_sdk::{EXTENSION_METADATA_KEY, EXTENSION_NAME_KEY, FIXED_SHAPE_TENSOR};

use crate::{Normalize, DEFAULT_MEAN, DEFAULT_STD};

#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator;

/// How to lay out an image batch.
#[derive(Clone, Copy)]
struct Shape {
    h: usize,
    w: usize,
    c: usize,
    rows: usize,
    /// Offset of the fixed_size_list column (in rows).
    list_offset: usize,
    /// Offset of its uint8 child (in values).
    child_offset: usize,
}

impl Shape {
    fn n(&self) -> usize {
        self.h * self.w * self.c
    }
}

/// Pixel value of logical row r, element j: varied, covering 0 and 255.
fn pixel(r: usize, j: usize) -> u8 {
    ((r * 7919 + j * 31 + (j * j) % 97) % 256) as u8
}

/// Columns "id" (int32), the image column, "note" (utf8); rows in `nulls`
/// are null images. Offsets as in `s`; the metadata shape is `shape_json`.
fn image_batch(s: Shape, nulls: &[usize], shape_json: &str) -> (FFI_ArrowSchema, FFI_ArrowArray) {
    let n = s.n();
    let total_rows = s.list_offset + s.rows;
    // Child values: child_offset junk bytes, then list_offset junk rows,
    // then the real rows.
    let mut values = vec![0xAAu8; s.child_offset + s.list_offset * n];
    for r in 0..s.rows {
        for j in 0..n {
            values.push(if nulls.contains(&r) { 0x55 } else { pixel(r, j) });
        }
    }
    let child_len = values.len();
    let child = Field::new("item", Array::from_values(values)).nullable(false);
    let validity = if nulls.is_empty() {
        None
    } else {
        Some(
            (0..total_rows)
                .map(|i| i < s.list_offset || !nulls.contains(&(i - s.list_offset)))
                .collect::<BitmapBuilder>(),
        )
    };
    let list = Array::from_parts(&format!("+w:{}", n), total_rows, validity, vec![], vec![child]).unwrap();

    let mut b = OutBatch::new(total_rows);
    b.push(Field::new(
        "id",
        Array::from_values((0..total_rows as i32).collect::<Vec<_>>()),
    ))
    .unwrap();
    b.push(
        Field::new("image", list)
            .with_metadata(EXTENSION_NAME_KEY, FIXED_SHAPE_TENSOR)
            .with_metadata(EXTENSION_METADATA_KEY, shape_json),
    )
    .unwrap();
    let mut notes = wasinfer_sdk::BinaryBuilder::utf8();
    for i in 0..total_rows {
        notes.push_str(&format!("row {}", i));
    }
    b.push(Field::new("note", notes.finish().unwrap())).unwrap();
    let (schema, mut array) = b.into_ffi().unwrap();
    array.length = s.rows as i64;
    // SAFETY: three children, from into_ffi.
    unsafe {
        for i in [0, 2] {
            let c = child_mut(&mut array, i);
            c.offset = s.list_offset as i64;
            c.length = s.rows as i64;
        }
        let img = child_mut(&mut array, 1);
        img.offset = s.list_offset as i64;
        img.length = s.rows as i64;
        let px = child_mut(img, 0);
        px.offset = s.child_offset as i64;
        px.length = (child_len - s.child_offset) as i64;
    }
    (schema, array)
}

fn hwc(s: Shape) -> String {
    format!(
        "{{\"shape\": [{}, {}, {}], \"dim_names\": [\"H\", \"W\", \"C\"]}}",
        s.h, s.w, s.c
    )
}

/// The formula of the brief, transcribed without any optimisation.
fn reference(s: Shape, row: usize, mean: &[f64], std: &[f64]) -> Vec<f32> {
    let (h, w, c) = (s.h, s.w, s.c);
    let mut out = vec![0f32; s.n()];
    for ch in 0..c {
        let m = mean[ch.min(mean.len() - 1)];
        let sd = std[ch.min(std.len() - 1)];
        let scale = (1.0f64 / (255.0 * sd)) as f32;
        let bias = (-m / sd) as f32;
        for y in 0..h {
            for x in 0..w {
                let v = pixel(row, y * w * c + x * c + ch) as f32;
                let prod = v * scale; // rounded to f32
                out[ch * h * w + y * w + x] = prod + bias;
            }
        }
    }
    out
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|f| f.to_bits()).collect()
}

fn check(s: Shape, nulls: &[usize], config: &str, mean: &[f64], std: &[f64]) {
    testing::init(config).unwrap();
    let (schema, array) = image_batch(s, nulls, &hwc(s));
    let out = testing::transform(&schema, &array).unwrap();
    let b = out.batch();
    assert_eq!(b.num_rows(), s.rows);
    let names: Vec<&str> = b.columns().iter().map(|c| c.name()).collect();
    assert_eq!(names, vec!["id", "note", "tensor"]);
    // The other columns alias the input's structures.
    // SAFETY: the trees have 3 children each.
    unsafe {
        assert_eq!(
            *out.array().children.add(0) as *const FFI_ArrowArray,
            *array.children.add(0) as *const _
        );
        assert_eq!(
            *out.array().children.add(1) as *const FFI_ArrowArray,
            *array.children.add(2) as *const _
        );
        assert_eq!(
            *out.schema().children.add(1) as *const FFI_ArrowSchema,
            *schema.children.add(2) as *const _
        );
    }
    assert_eq!(
        b.column(0).unwrap().primitive::<i32>().unwrap()[0],
        s.list_offset as i32
    );
    assert_eq!(
        b.column(1).unwrap().binary().unwrap().str(0),
        Some(format!("row {}", s.list_offset).as_str())
    );

    let t = b.column(2).unwrap();
    let m = s.n();
    assert_eq!(t.format(), format!("+w:{}", m));
    assert_eq!(t.flags(), FLAG_NULLABLE);
    let md: Vec<(&[u8], &[u8])> = t.metadata().iter().collect();
    let shape = format!("{{\"shape\":[{},{},{}]}}", s.c, s.h, s.w);
    assert_eq!(
        md,
        vec![
            (EXTENSION_NAME_KEY.as_bytes(), FIXED_SHAPE_TENSOR.as_bytes()),
            (EXTENSION_METADATA_KEY.as_bytes(), shape.as_bytes())
        ]
    );
    let list = t.fixed_size_list().unwrap();
    let item = list.child();
    assert_eq!((item.name(), item.format(), item.flags()), ("item", "f", 0));
    assert_eq!(item.null_count(), 0);
    let values = list.primitive::<f32>().unwrap();
    assert_eq!(values.len(), s.rows * m);
    for r in 0..s.rows {
        let got = &values[r * m..(r + 1) * m];
        if nulls.contains(&r) {
            assert!(t.is_null(r), "row {} should be null", r);
            assert!(got.iter().all(|v| v.to_bits() == 0), "null row {} should be +0.0", r);
        } else {
            assert!(t.is_valid(r), "row {} should be valid", r);
            assert_eq!(bits(got), bits(&reference(s, r, mean, std)), "row {}", r);
        }
    }
    if nulls.is_empty() {
        assert!(t.validity().is_none());
    }
}

const fn shape(h: usize, w: usize, c: usize, rows: usize) -> Shape {
    Shape {
        h,
        w,
        c,
        rows,
        list_offset: 0,
        child_offset: 0,
    }
}

#[test]
fn every_channel_count() {
    for c in 1..=4 {
        // 5×7 pixels: not a multiple of 16, so a SIMD build runs its tail.
        check(shape(5, 7, c, 3), &[], "", &DEFAULT_MEAN, &DEFAULT_STD);
        // 8×6 = 48 pixels: whole SIMD blocks.
        check(shape(8, 6, c, 2), &[], "", &DEFAULT_MEAN, &DEFAULT_STD);
    }
}

#[test]
fn null_rows_are_null_and_zero() {
    check(shape(4, 5, 3, 6), &[0, 3, 5], "", &DEFAULT_MEAN, &DEFAULT_STD);
    check(shape(4, 5, 3, 11), &[10], "", &DEFAULT_MEAN, &DEFAULT_STD);
}

#[test]
fn honours_offsets_at_every_level() {
    for (list_offset, child_offset) in [(2, 0), (0, 5), (3, 7), (9, 1)] {
        let s = Shape {
            list_offset,
            child_offset,
            ..shape(3, 6, 3, 5)
        };
        check(s, &[], "", &DEFAULT_MEAN, &DEFAULT_STD);
        check(s, &[1, 4], "", &DEFAULT_MEAN, &DEFAULT_STD);
    }
}

#[test]
fn configuration() {
    let mean = [0.5, 0.25];
    let std = [0.125];
    let config = r#"{"mean": [0.5, 0.25], "std": [0.125], "column": "image", "output": "tensor"}"#;
    check(shape(3, 3, 4, 2), &[1], config, &mean, &std);
    check(shape(2, 2, 1, 2), &[], r#"{"mean":[0],"std":[1]}"#, &[0.0], &[1.0]);
}

#[test]
fn renames_columns() {
    testing::init(r#"{"column":"image","output":"pixels"}"#).unwrap();
    let s = shape(2, 2, 3, 2);
    let (schema, array) = image_batch(s, &[], &hwc(s));
    let out = testing::transform(&schema, &array).unwrap();
    assert_eq!(out.batch().column(2).unwrap().name(), "pixels");

    testing::init(r#"{"column":"img"}"#).unwrap();
    let err = testing::transform(&schema, &array).unwrap_err();
    assert_eq!(err.status(), Status::UnsupportedInput);
    assert_eq!(
        err.message(),
        "column \"img\": not found in the input (columns: \"id\", \"image\", \"note\")"
    );
}

#[test]
fn empty_batch_keeps_the_schema() {
    testing::init("").unwrap();
    let s = shape(4, 4, 3, 0);
    let (schema, array) = image_batch(s, &[], &hwc(s));
    let out = testing::transform(&schema, &array).unwrap();
    let b = out.batch();
    assert_eq!(b.num_rows(), 0);
    let t = b.column(2).unwrap();
    assert_eq!((t.name(), t.format(), t.len()), ("tensor", "+w:48", 0));
    assert_eq!(t.fixed_size_list().unwrap().child().len(), 0);
    assert!(!t.ffi_array().children.is_null());
}

#[test]
fn rejects_bad_configuration() {
    let cases = [
        (
            r#"{"scale": 1}"#,
            "config: unknown key \"scale\" (known keys: column, output, mean, std)",
        ),
        (r#"{"std": [0.2, 0]}"#, "config: \"std\"[1] must be > 0, got 0"),
        (r#"{"std": [-1]}"#, "config: \"std\"[0] must be > 0, got -1"),
        (
            r#"{"mean": []}"#,
            "config: \"mean\" must have 1 to 4 values (one per channel), got 0",
        ),
        (
            r#"{"mean": [1,2,3,4,5]}"#,
            "config: \"mean\" must have 1 to 4 values (one per channel), got 5",
        ),
        (
            r#"{"mean": 0.5}"#,
            "config: \"mean\" must be an array of numbers, got a number",
        ),
        (
            r#"{"mean": ["a"]}"#,
            "config: \"mean\"[0] must be a number, got a string",
        ),
        (r#"{"column": 3}"#, "config: \"column\" must be a string, got a number"),
        (
            r#"{"std": [1e999]}"#,
            "config: invalid JSON: number 1e999 out of range at byte 9",
        ),
        ("[]", "config: want a JSON object, got an array"),
    ];
    for (config, want) in cases {
        let err = testing::init(config).unwrap_err();
        assert_eq!(
            (err.status(), err.message()),
            (Status::InvalidConfig, want),
            "{}",
            config
        );
    }
}

/// A batch whose "image" column is `array` with the given metadata.
fn one_column(array: Array<'static>, md: &[(&str, &str)]) -> (FFI_ArrowSchema, FFI_ArrowArray) {
    let mut f = Field::new("image", array);
    for (k, v) in md {
        f = f.with_metadata(*k, *v);
    }
    let mut b = OutBatch::new(f.len());
    b.push(f).unwrap();
    b.into_ffi().unwrap()
}

fn tensor_u8(n: usize) -> Array<'static> {
    let child = Field::new("item", Array::from_values(vec![0u8; n * 2])).nullable(false);
    Array::fixed_size_list(n, child, None).unwrap()
}

#[test]
fn rejects_unsupported_input() {
    let ext = (EXTENSION_NAME_KEY, FIXED_SHAPE_TENSOR);
    let f32_child = Field::new("item", Array::from_values(vec![0f32; 24])).nullable(false);
    let cases: Vec<((FFI_ArrowSchema, FFI_ArrowArray), &str)> = vec![
        (
            one_column(Array::from_values(vec![1i32, 2]), &[ext]),
            "column \"image\": type \"i\" is not fixed_size_list<uint8> (an arrow.fixed_shape_tensor of uint8)",
        ),
        (
            one_column(Array::fixed_size_list(12, f32_child, None).unwrap(), &[ext, (EXTENSION_METADATA_KEY, r#"{"shape":[2,2,3]}"#)]),
            "column \"image\": tensor value type \"f\" is not uint8 (\"C\")",
        ),
        (
            one_column(tensor_u8(12), &[(EXTENSION_METADATA_KEY, r#"{"shape":[2,2,3]}"#)]),
            "column \"image\": not an arrow.fixed_shape_tensor (ARROW:extension:name is missing)",
        ),
        (
            one_column(tensor_u8(12), &[(EXTENSION_NAME_KEY, "my.tensor")]),
            "column \"image\": extension type \"my.tensor\" is not arrow.fixed_shape_tensor",
        ),
        (
            one_column(tensor_u8(12), &[ext]),
            "column \"image\": ARROW:extension:metadata is missing (want {\"shape\":[H,W,C]})",
        ),
        (
            one_column(tensor_u8(12), &[ext, (EXTENSION_METADATA_KEY, "{\"shape\":[2,2")]),
            "column \"image\": bad tensor shape in ARROW:extension:metadata \"{\\\"shape\\\":[2,2\": invalid JSON: expected ',' or ']' at byte 13",
        ),
        (
            one_column(tensor_u8(12), &[ext, (EXTENSION_METADATA_KEY, r#"{"dims":[2,2,3]}"#)]),
            "column \"image\": bad tensor shape in ARROW:extension:metadata \"{\\\"dims\\\":[2,2,3]}\": no \"shape\" array",
        ),
        (
            one_column(tensor_u8(12), &[ext, (EXTENSION_METADATA_KEY, r#"{"shape":[4,3]}"#)]),
            "column \"image\": bad tensor shape in ARROW:extension:metadata \"{\\\"shape\\\":[4,3]}\": 2 dimensions, want 3 (H, W, C)",
        ),
        (
            one_column(tensor_u8(12), &[ext, (EXTENSION_METADATA_KEY, r#"{"shape":[2,2.0,3]}"#)]),
            "column \"image\": bad tensor shape in ARROW:extension:metadata \"{\\\"shape\\\":[2,2.0,3]}\": dimensions must be positive integers",
        ),
        (
            one_column(tensor_u8(12), &[ext, (EXTENSION_METADATA_KEY, r#"{"shape":[2,0,3]}"#)]),
            "column \"image\": bad tensor shape in ARROW:extension:metadata \"{\\\"shape\\\":[2,0,3]}\": dimensions must be positive integers",
        ),
        (
            one_column(tensor_u8(10), &[ext, (EXTENSION_METADATA_KEY, r#"{"shape":[1,2,5]}"#)]),
            "column \"image\": bad tensor shape in ARROW:extension:metadata \"{\\\"shape\\\":[1,2,5]}\": 5 channels, want 1 to 4",
        ),
        (
            one_column(tensor_u8(12), &[ext, (EXTENSION_METADATA_KEY, r#"{"shape":[2,3,3]}"#)]),
            "column \"image\": bad tensor shape in ARROW:extension:metadata \"{\\\"shape\\\":[2,3,3]}\": H×W×C = 2×3×3 is not the list size 12",
        ),
    ];
    testing::init("").unwrap();
    for ((schema, array), want) in cases {
        let err = testing::transform(&schema, &array).unwrap_err();
        assert_eq!((err.status(), err.message()), (Status::UnsupportedInput, want));
    }
}

#[test]
fn frees_exactly_on_success_and_on_error() {
    testing::init("").unwrap();
    let s = Shape {
        list_offset: 1,
        child_offset: 3,
        ..shape(6, 5, 3, 4)
    };
    let (schema, array) = image_batch(s, &[2], &hwc(s));
    drop(testing::transform(&schema, &array).unwrap());
    let before = testing::live_bytes();
    let out = testing::transform(&schema, &array).unwrap();
    assert!(testing::live_bytes() >= before + (s.rows * s.n() * 4) as isize);
    drop(out);
    assert_eq!(testing::live_bytes(), before);

    // An error after the output was partly built frees it: a bad output
    // name fails when the structures are made.
    testing::init(r#"{"output":"a\u0000b"}"#).unwrap();
    let _ = testing::transform(&schema, &array).unwrap_err();
    let before = testing::live_bytes();
    let err = testing::transform(&schema, &array).unwrap_err();
    assert_eq!(err.message(), "output column name \"a\\0b\" contains a NUL byte");
    drop(err);
    assert_eq!(testing::live_bytes(), before);
}

#[test]
fn constants_round_once_from_float64() {
    let (scale, bias) = Normalize::constants(&DEFAULT_MEAN, &DEFAULT_STD);
    for c in 0..4 {
        let k = c.min(2);
        assert_eq!(scale[c], (1.0 / (255.0 * DEFAULT_STD[k])) as f32);
        assert_eq!(bias[c], (-DEFAULT_MEAN[k] / DEFAULT_STD[k]) as f32);
    }
}

#[test]
fn description_is_json() {
    let v = wasinfer_sdk::json::parse(<Normalize as Udf>::DESCRIPTION).unwrap();
    assert_eq!(
        v.as_object().unwrap().get("name").and_then(|n| n.as_str()),
        Some("normalize")
    );
}
