//! Native tests (`make native-test`): batches built by hand, run through the
//! exported entry points as the host calls them.

use wasinfer_sdk::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use wasinfer_sdk::testing::{self, child_mut, CountingAllocator};
use wasinfer_sdk::{Array, Field, OutBatch, Status};

#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator;

/// A batch of "id" (int64) and `name` = `values`, whose columns start at
/// offset 1, as the host may send them.
fn batch(name: &str, values: Array<'static>) -> (FFI_ArrowSchema, FFI_ArrowArray) {
    let n = values.len();
    let mut b = OutBatch::new(n);
    b.push(Field::new("id", Array::from_values((0..n as i64).collect::<Vec<_>>())))
        .unwrap();
    b.push(Field::new(name, values)).unwrap();
    let (schema, mut array) = b.into_ffi().unwrap();
    array.length = n as i64 - 1;
    for i in 0..2 {
        // SAFETY: the batch has two children.
        let c = unsafe { child_mut(&mut array, i) };
        c.offset = 1;
        c.length = n as i64 - 1;
    }
    (schema, array)
}

/// Runs the UDF and returns the new column, None for a null.
fn scaled(config: &str, name: &str, values: Array<'static>) -> Vec<Option<f64>> {
    testing::init(config).unwrap();
    let (schema, array) = batch(name, values);
    let want_name = format!("{}_out", name);
    let mut got = Vec::with_capacity(array.length as usize);
    let before = testing::live_bytes();
    let out = testing::transform(&schema, &array).unwrap();
    {
        let b = out.batch();
        assert_eq!(b.num_columns(), 3);
        assert_eq!(b.column(1).unwrap().name(), name);
        let col = b.column(2).unwrap();
        assert_eq!((col.name(), col.format()), (want_name.as_str(), "g"));
        let v = col.primitive::<f64>().unwrap();
        got.extend((0..col.len()).map(|i| if col.is_null(i) { None } else { Some(v[i]) }));
    }
    drop(out); // wasinfer_release
    assert_eq!(testing::live_bytes(), before, "the output was not freed exactly");
    got
}

#[test]
fn scales_int64_with_nulls() {
    let values = Array::from_options(vec![Some(99i64), Some(3), Some(-2), None, Some(1500)]);
    assert_eq!(
        scaled(r#"{"factor": 2.5}"#, "value", values),
        vec![Some(7.5), Some(-5.0), None, Some(3750.0)]
    );
}

#[test]
fn scales_float64_by_default_factor() {
    let values = Array::from_values(vec![9.0f64, 0.5, -1.25]);
    assert_eq!(
        scaled(r#"{"column": "score"}"#, "score", values),
        vec![Some(1.0), Some(-2.5)]
    );
}

#[test]
fn transform_errors() {
    let cases = [
        (
            r#"{"factor": 1e306}"#,
            "value",
            Status::Error,
            "column \"value\": row 2: value * factor is not finite",
        ),
        (
            r#"{"column": "nope"}"#,
            "value",
            Status::UnsupportedInput,
            "column \"nope\": not found in the input (columns: \"id\", \"value\")",
        ),
        (
            r#"{"column": "id"}"#,
            "id_out",
            Status::UnsupportedInput,
            "column \"id_out\": already in the input",
        ),
    ];
    for (config, name, status, message) in cases {
        testing::init(config).unwrap();
        let (schema, array) = batch(name, Array::from_values(vec![0i64, 1, 2, 1000]));
        let err = testing::transform(&schema, &array).unwrap_err();
        assert_eq!((err.status(), err.message()), (status, message), "config {}", config);
    }
    testing::init("").unwrap();
    let (schema, array) = batch("value", Array::from_values(vec![1i32, 2]));
    let err = testing::transform(&schema, &array).unwrap_err();
    assert_eq!(
        (err.status(), err.message()),
        (
            Status::UnsupportedInput,
            "column \"value\": want int64 or float64, got format \"i\""
        )
    );
}

#[test]
fn config_errors() {
    let cases = [
        (
            r#"{"factr": 2}"#,
            "config: unknown key \"factr\" (known keys: column, factor)",
        ),
        (
            r#"{"factor": "2"}"#,
            "config: \"factor\" must be a number, got a string",
        ),
        (r#"{"column": 7}"#, "config: \"column\" must be a string, got a number"),
        (r#"{"column": ""}"#, "config: \"column\" must not be empty"),
    ];
    for (config, message) in cases {
        let err = testing::init(config).unwrap_err();
        assert_eq!(
            (err.status(), err.message()),
            (Status::InvalidConfig, message),
            "config {}",
            config
        );
    }
}
