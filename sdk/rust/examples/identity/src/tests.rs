//! Native tests: batches built by hand, run through the exported entry
//! points (`wasinfer_init`, `wasinfer_transform`, `wasinfer_release`).

use wasinfer_sdk::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use wasinfer_sdk::testing::{self, child_mut, CountingAllocator};
use wasinfer_sdk::{Array, BinaryBuilder, BitmapBuilder, Field, OutBatch, Status, Udf};

#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator;

/// Four columns with nulls, metadata, and offsets set the way the host may
/// leave them after trimming a slice (spec §5.1): 5 rows.
fn batch() -> (FFI_ArrowSchema, FFI_ArrowArray) {
    let mut out = OutBatch::new(6);
    let ids = Array::from_options(vec![Some(10i64), None, Some(12), Some(13), None, Some(15)]);
    out.push(Field::new("id", ids).with_metadata("unit", "count")).unwrap();
    let mut names = BinaryBuilder::utf8();
    for v in [Some("zero"), Some("a"), None, Some("ccc"), Some("é"), Some("")] {
        match v {
            Some(s) => names.push_str(s),
            None => names.push_null(),
        }
    }
    out.push(Field::new("name", names.finish().unwrap())).unwrap();
    let vecs = Array::from_values((0..12).map(|i| i as f32).collect::<Vec<_>>());
    let list = Array::fixed_size_list(2, Field::new("item", vecs).nullable(false), None).unwrap();
    out.push(Field::new("vec", list).nullable(false)).unwrap();
    let flags: BitmapBuilder = [true, false, true, true, false, false].iter().copied().collect();
    out.push(Field::new("flag", Array::boolean(flags, None).unwrap()))
        .unwrap();
    out.set_metadata("source", "hand-built");
    let (schema, mut array) = out.into_ffi().unwrap();
    // Rows 1..6 of every column: the batch has 5 rows, columns offset 1.
    array.length = 5;
    for i in 0..4 {
        // SAFETY: array came from into_ffi and has four children.
        let c = unsafe { child_mut(&mut array, i) };
        c.offset = 1;
        c.length = 5;
    }
    (schema, array)
}

#[test]
fn passes_every_column_through_without_copying() {
    testing::init("").unwrap();
    let (schema, array) = batch();
    let out = testing::transform(&schema, &array).unwrap();
    let b = out.batch();
    assert_eq!(b.num_rows(), 5);
    assert_eq!(b.num_columns(), 4);
    // Zero-copy: the output's children are the input's structures.
    for i in 0..4 {
        // SAFETY: both trees have four children.
        unsafe {
            assert_eq!(
                *out.schema().children.add(i) as *const FFI_ArrowSchema,
                *schema.children.add(i) as *const _
            );
            assert_eq!(
                *out.array().children.add(i) as *const FFI_ArrowArray,
                *array.children.add(i) as *const _
            );
        }
    }
    assert_eq!(out.schema().metadata, schema.metadata);
    assert_eq!(b.metadata().get_str("source"), Some("hand-built"));

    let id = b.column_by_name("id").unwrap();
    assert_eq!(id.metadata().get_str("unit"), Some("count"));
    assert!(id.is_nullable());
    assert_eq!(id.primitive::<i64>().unwrap(), &[0, 12, 13, 0, 15]);
    assert_eq!(
        (0..5).map(|i| id.is_valid(i)).collect::<Vec<_>>(),
        vec![false, true, true, false, true]
    );
    assert_eq!(id.null_count(), 2);

    let name = b.column(1).unwrap();
    let text = name.binary().unwrap();
    let got: Vec<Option<&str>> = (0..5).map(|i| text.get_str(i)).collect();
    assert_eq!(got, vec![Some("a"), None, Some("ccc"), Some("é"), Some("")]);

    let vec = b.column(2).unwrap();
    assert!(!vec.is_nullable());
    let fsl = vec.fixed_size_list().unwrap();
    assert_eq!(fsl.size(), 2);
    assert_eq!(
        fsl.primitive::<f32>().unwrap(),
        &[2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0]
    );

    let flag = b.column(3).unwrap().booleans().unwrap();
    assert_eq!(flag.iter().collect::<Vec<_>>(), vec![false, true, true, false, false]);
}

#[test]
fn releases_exactly_what_it_allocated() {
    testing::init("").unwrap();
    let (schema, array) = batch();
    // Warm up thread-locals and the instance.
    drop(testing::transform(&schema, &array).unwrap());
    let before = testing::live_bytes();
    for _ in 0..3 {
        let out = testing::transform(&schema, &array).unwrap();
        assert!(
            testing::live_bytes() > before,
            "the output owns its top-level private data"
        );
        drop(out); // wasinfer_release
        assert_eq!(testing::live_bytes(), before);
    }
}

#[test]
fn empty_batches() {
    testing::init("").unwrap();
    // No rows.
    let mut zero = OutBatch::new(0);
    zero.push(Field::new("x", Array::from_values(Vec::<u8>::new())))
        .unwrap();
    let (schema, array) = zero.into_ffi().unwrap();
    let out = testing::transform(&schema, &array).unwrap();
    assert_eq!(out.batch().num_rows(), 0);
    assert_eq!(out.batch().column(0).unwrap().name(), "x");
    // No columns.
    let (schema, array) = OutBatch::new(3).into_ffi().unwrap();
    let out = testing::transform(&schema, &array).unwrap();
    assert_eq!((out.batch().num_rows(), out.batch().num_columns()), (3, 0));
}

#[test]
fn rejects_configuration() {
    let err = testing::init(r#"{"k": 1}"#).unwrap_err();
    assert_eq!(err.status(), Status::InvalidConfig);
    assert_eq!(
        err.message(),
        "config: unknown key \"k\" (this UDF takes no configuration)"
    );
    // The instance stays unusable until a good init.
    let (schema, array) = batch();
    let err = testing::transform(&schema, &array).unwrap_err();
    assert_eq!(err.status(), Status::InvalidConfig);
    testing::init("{}").unwrap();
    drop(testing::transform(&schema, &array).unwrap());
}

#[test]
fn rejects_a_malformed_input() {
    testing::init("").unwrap();
    let (mut schema, array) = batch();
    schema.n_children = 3; // disagrees with the array
    let err = testing::transform(&schema, &array).unwrap_err();
    assert_eq!(err.status(), Status::Error);
    assert_eq!(err.message(), "input batch: schema has 3 children, array has 4");
    schema.n_children = 4;
}

#[test]
fn description_is_json() {
    let v = wasinfer_sdk::json::parse(<crate::Identity as Udf>::DESCRIPTION).unwrap();
    assert_eq!(
        v.as_object().unwrap().get("name").and_then(|n| n.as_str()),
        Some("identity")
    );
}
