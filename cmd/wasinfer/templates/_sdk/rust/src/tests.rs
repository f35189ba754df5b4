//! Native unit tests of the views, the builders, export and release.

use std::ffi::CString;
use std::ptr;

use crate::export::export_batch;
use crate::ffi::{FFI_ArrowArray, FFI_ArrowSchema, FLAG_NULLABLE};
use crate::testing::{child_mut, live_bytes, CountingAllocator};
use crate::*;

#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator;

fn view(s: &(FFI_ArrowSchema, FFI_ArrowArray)) -> Batch<'_> {
    // SAFETY: built by into_ffi.
    unsafe { Batch::from_ffi(&s.0, &s.1) }.unwrap()
}

/// One column of every builder kind, 4 rows.
fn all_kinds() -> OutBatch<'static> {
    let mut b = OutBatch::new(4);
    b.push(Field::new(
        "i8",
        Array::from_options(vec![Some(-1i8), None, Some(3), Some(4)]),
    ))
    .unwrap();
    b.push(Field::new("u64", Array::from_values(vec![1u64, 2, 3, u64::MAX])).nullable(false))
        .unwrap();
    b.push(Field::new(
        "f64",
        Array::primitive(
            vec![0.5f64, 1.5, 2.5, 3.5],
            Some([true, true, false, true].iter().copied().collect()),
        )
        .unwrap(),
    ))
    .unwrap();
    let mut s = BinaryBuilder::utf8();
    s.push_str("héllo");
    s.push_null();
    s.push_str("");
    s.push_str("wörld");
    b.push(Field::new("s", s.finish().unwrap()).with_metadata("k", "v"))
        .unwrap();
    let mut z = BinaryBuilder::binary();
    for v in [&[0u8, 255][..], b"", b"\xff\xfe", b"x"] {
        z.push_bytes(v);
    }
    b.push(Field::new("z", z.finish().unwrap())).unwrap();
    let bools: BitmapBuilder = [true, false, false, true].iter().copied().collect();
    b.push(Field::new("b", Array::boolean(bools, None).unwrap())).unwrap();
    let child = Field::new("item", Array::from_values((0..8).map(|v| v as i16).collect())).nullable(false);
    b.push(Field::new(
        "fsl",
        Array::fixed_size_list(2, child, Some([true, false, true, true].iter().copied().collect())).unwrap(),
    ))
    .unwrap();
    let child = Field::new("item", Array::from_values(vec![1u32, 2, 3, 4, 5]));
    b.push(Field::new(
        "list",
        Array::list(vec![0, 2, 2, 5, 5], child, None).unwrap(),
    ))
    .unwrap();
    let fields = vec![
        Field::new("x", Array::from_values(vec![1i32, 2, 3, 4])),
        Field::new(
            "d",
            Array::from_values(vec![10i32, 11, 12, 13]).with_format("tdD").unwrap(),
        ),
    ];
    b.push(Field::new("st", Array::struct_of(fields, 4, None).unwrap()))
        .unwrap();
    b.push(Field::new("null", Array::nulls(4))).unwrap();
    b.set_metadata("batch", "meta");
    b
}

#[test]
fn round_trips_every_builder() {
    let ffi = all_kinds().into_ffi().unwrap();
    let b = view(&ffi);
    assert_eq!((b.num_rows(), b.num_columns()), (4, 10));
    assert_eq!(b.metadata().get_str("batch"), Some("meta"));

    let c = b.column_by_name("i8").unwrap();
    assert_eq!((c.format(), c.flags(), c.null_count()), ("c", FLAG_NULLABLE, 1));
    assert_eq!(c.primitive::<i8>().unwrap(), &[-1, 0, 3, 4]);
    let err = c.primitive::<u8>().unwrap_err();
    assert_eq!(
        (err.status(), err.message()),
        (Status::UnsupportedInput, "column \"i8\": type \"c\" is not \"C\" (u8)")
    );

    let c = b.column_by_name("u64").unwrap();
    assert!(!c.is_nullable() && c.validity().is_none());
    assert_eq!(c.primitive::<u64>().unwrap()[3], u64::MAX);

    let c = b.column_by_name("f64").unwrap();
    assert_eq!(
        c.validity().unwrap().iter().collect::<Vec<_>>(),
        vec![true, true, false, true]
    );
    let (bytes, width) = c.fixed_bytes().unwrap();
    assert_eq!((bytes.len(), width), (32, 8));

    let c = b.column_by_name("s").unwrap();
    assert_eq!(c.metadata().get_str("k"), Some("v"));
    assert_eq!(c.metadata().len(), 1);
    let s = c.binary().unwrap();
    assert_eq!(
        (0..4).map(|i| s.get_str(i)).collect::<Vec<_>>(),
        vec![Some("héllo"), None, Some(""), Some("wörld")]
    );

    let z = b.column_by_name("z").unwrap().binary().unwrap();
    assert_eq!(z.value(2), b"\xff\xfe");
    assert_eq!(z.str(2), None);

    let bools = b.column_by_name("b").unwrap().booleans().unwrap();
    assert_eq!((bools.count_set(), bools.count_unset()), (2, 2));

    let c = b.column_by_name("fsl").unwrap();
    let l = c.fixed_size_list().unwrap();
    assert_eq!((l.size(), l.len(), c.null_count()), (2, 4, 1));
    assert_eq!(l.primitive::<i16>().unwrap(), &[0, 1, 2, 3, 4, 5, 6, 7]);

    let l = b.column_by_name("list").unwrap().list().unwrap();
    assert_eq!(
        (0..4).map(|i| l.range(i)).collect::<Vec<_>>(),
        vec![0..2, 2..2, 2..5, 5..5]
    );
    assert_eq!(l.child().primitive::<u32>().unwrap(), &[1, 2, 3, 4, 5]);

    let st = b.column_by_name("st").unwrap();
    assert_eq!(st.num_children(), 2);
    assert_eq!(st.field(1).unwrap().format(), "tdD");
    assert_eq!(st.field(1).unwrap().primitive::<i32>().unwrap(), &[10, 11, 12, 13]);

    let n = b.column_by_name("null").unwrap();
    assert_eq!(
        (n.format(), n.null_count(), n.is_null(0), n.ffi_array().n_buffers),
        ("n", 4, true, 0)
    );
}

/// Moves the window of column `i` of an exported batch to
/// `offset..offset + len` of its own slots.
fn slice(a: &mut FFI_ArrowArray, i: usize, offset: i64, len: i64) {
    // SAFETY: from into_ffi, with more than i children.
    let c = unsafe { child_mut(a, i) };
    c.offset = offset;
    c.length = len;
}

#[test]
fn views_honour_offsets() {
    let mut b = OutBatch::new(20);
    let vals: Vec<Option<i32>> = (0..20).map(|i| if i % 3 == 0 { None } else { Some(i) }).collect();
    b.push(Field::new("i", Array::from_options(vals))).unwrap();
    let mut s = BinaryBuilder::utf8();
    for i in 0..20 {
        s.push_str(&"é".repeat(i % 4));
    }
    b.push(Field::new("s", s.finish().unwrap())).unwrap();
    let bools: BitmapBuilder = (0..20).map(|i| i % 5 == 0).collect();
    b.push(Field::new("b", Array::boolean(bools, None).unwrap())).unwrap();
    let mut ffi = b.into_ffi().unwrap();
    ffi.1.length = 9;
    for i in 0..3 {
        slice(&mut ffi.1, i, 11, 9);
    }
    let b = view(&ffi);
    let c = b.column(0).unwrap();
    assert_eq!(c.offset(), 11);
    assert_eq!(c.primitive::<i32>().unwrap(), &[11, 0, 13, 14, 0, 16, 17, 0, 19]);
    assert_eq!(
        (0..9).map(|i| c.is_valid(i)).collect::<Vec<_>>(),
        vec![true, false, true, true, false, true, true, false, true]
    );
    assert_eq!(c.null_count(), 3);
    let v = c.validity().unwrap();
    // A copy starting at bit 0 (11 is not a multiple of 8).
    let copy = v.to_builder();
    assert_eq!(
        (0..9).map(|i| copy.get(i)).collect::<Vec<_>>(),
        v.iter().collect::<Vec<_>>()
    );
    assert_eq!(copy.count_unset(), 3);
    let s = b.column(1).unwrap().binary().unwrap();
    assert_eq!(s.str(0), Some("ééé"));
    assert_eq!(s.str(1), Some(""));
    let bools = b.column(2).unwrap().booleans().unwrap();
    assert_eq!(
        bools.iter().collect::<Vec<_>>(),
        (11..20).map(|i| i % 5 == 0).collect::<Vec<_>>()
    );
}

#[test]
fn struct_fields_follow_the_struct_offset() {
    let fields = vec![Field::new("x", Array::from_values((0..10).collect::<Vec<i64>>()))];
    let mut b = OutBatch::new(10);
    b.push(Field::new("st", Array::struct_of(fields, 10, None).unwrap()))
        .unwrap();
    let mut ffi = b.into_ffi().unwrap();
    ffi.1.length = 4;
    slice(&mut ffi.1, 0, 3, 4);
    // SAFETY: the struct's only child.
    unsafe { child_mut(child_mut(&mut ffi.1, 0), 0).offset = 2 };
    let b = view(&ffi);
    let st = b.column(0).unwrap();
    let x = st.field(0).unwrap();
    // Slot j of the field is child slot 2 + 3 + j.
    assert_eq!(x.primitive::<i64>().unwrap(), &[5, 6, 7, 8]);
    assert!(!x.is_passthrough_compatible());
    let err = OutBatch::new(4).pass_through(&x).map(|_| ()).unwrap_err();
    assert_eq!(
        err.message(),
        "column \"st\": cannot pass this view through: it does not start at its array's offset"
    );
    // The raw child keeps its own window.
    assert_eq!(st.child(0).unwrap().primitive::<i64>().unwrap()[0], 2);
}

#[test]
fn bitmap_counts_match_a_naive_count() {
    let bytes: Vec<u8> = (0..9u32).map(|i| (i.wrapping_mul(0x9E) ^ 0x5A) as u8).collect();
    for offset in 0..20 {
        for len in 0..(72 - offset) {
            let b = Bitmap::new(&bytes, offset, len);
            let naive = (0..len)
                .filter(|&i| bytes[(offset + i) / 8] >> ((offset + i) % 8) & 1 == 1)
                .count();
            assert_eq!(b.count_set(), naive, "offset {} len {}", offset, len);
            assert_eq!(b.to_builder().count_unset(), len - naive);
        }
    }
}

#[test]
fn pass_through_renamed_and_re_annotated() {
    let input = all_kinds().into_ffi().unwrap();
    let b = view(&input);
    let s = b.column_by_name("s").unwrap();
    let mut out = OutBatch::new(4);
    out.pass_through(&s).unwrap();
    out.push(
        Field::from_column(&s)
            .unwrap()
            .with_name("s2")
            .nullable(false)
            .with_metadata("k", "w")
            .with_metadata("n", "1"),
    )
    .unwrap();
    out.keep_metadata(&b);
    let exported = export_batch(out).unwrap();
    let o = view(&exported);
    // SAFETY: two children each.
    unsafe {
        let (os, oa) = (o.ffi_schema(), o.ffi_array());
        assert_eq!(
            *os.children.add(0) as *const FFI_ArrowSchema,
            s.ffi_schema() as *const _
        );
        assert_ne!(
            *os.children.add(1) as *const FFI_ArrowSchema,
            s.ffi_schema() as *const _
        );
        assert_eq!(*oa.children.add(1) as *const FFI_ArrowArray, s.ffi_array() as *const _);
        assert_eq!(os.metadata, b.ffi_schema().metadata);
    }
    let c = o.column(1).unwrap();
    assert_eq!((c.name(), c.is_nullable(), c.format()), ("s2", false, "u"));
    assert_eq!(
        c.metadata().iter().collect::<Vec<_>>(),
        vec![(&b"k"[..], &b"w"[..]), (&b"n"[..], &b"1"[..])]
    );
    assert_eq!(c.binary().unwrap().str(3), Some("wörld"));
}

#[test]
fn release_frees_everything_once() {
    let before = live_bytes();
    let (s, mut a) = all_kinds().into_ffi().unwrap();
    assert!(live_bytes() > before);
    // A consumer may move a child out and release it on its own.
    // SAFETY: s and a have children; the moved copies own their data.
    let (moved_s, moved_a) = unsafe {
        let cs = &mut **s.children.add(3);
        let ca = child_mut(&mut a, 3);
        let moved = (ptr::read(cs), ptr::read(ca));
        cs.release = None;
        ca.release = None;
        moved
    };
    drop((s, a));
    assert!(live_bytes() > before);
    drop((moved_s, moved_a));
    assert_eq!(live_bytes(), before);
}

#[test]
fn failed_export_frees_what_it_built() {
    let before = live_bytes();
    let mut out = all_kinds();
    out.push(Field::new("bad\0name", Array::from_values(vec![0u8; 4])))
        .unwrap();
    let err = out.into_ffi().unwrap_err();
    assert_eq!(err.message(), "output column name \"bad\\0name\" contains a NUL byte");
    drop(err);
    assert_eq!(live_bytes(), before);
}

#[test]
fn adopts_foreign_structures() {
    let before = live_bytes();
    // Another producer's column: exported on its own, then moved out of its
    // batch the C Data Interface way (copy, then mark the original released).
    let mut producer = OutBatch::new(3);
    producer
        .push(Field::new("x", Array::from_values(vec![7u16, 8, 9])).with_metadata("m", "1"))
        .unwrap();
    let (ps, mut pa) = producer.into_ffi().unwrap();
    // SAFETY: one child each; moved out, then the originals marked released.
    let (cs, ca) = unsafe {
        let (s, a) = (&mut **ps.children, child_mut(&mut pa, 0));
        let moved = (ptr::read(s), ptr::read(a));
        s.release = None;
        a.release = None;
        moved
    };
    drop((ps, pa));
    // SAFETY: valid, owned structures.
    let field = unsafe { Field::from_ffi(cs, ca) }.unwrap();
    assert_eq!((field.name(), field.len(), field.is_nullable()), ("x", 3, true));
    let mut out = OutBatch::new(3);
    out.push(field).unwrap();
    let ffi = out.into_ffi().unwrap();
    let c = view(&ffi).column(0).unwrap();
    assert_eq!(c.primitive::<u16>().unwrap(), &[7, 8, 9]);
    assert_eq!(c.metadata().get_str("m"), Some("1"));
    drop(ffi);
    assert_eq!(live_bytes(), before);

    // Renaming an adopted field fails at export, and frees it.
    let (ps, mut pa) = all_kinds().into_ffi().unwrap();
    // SAFETY: as above.
    let (cs, ca) = unsafe {
        let (s, a) = (&mut **ps.children, child_mut(&mut pa, 0));
        let moved = (ptr::read(s), ptr::read(a));
        s.release = None;
        a.release = None;
        moved
    };
    drop((ps, pa));
    let mut out = OutBatch::new(4);
    out.push(unsafe { Field::from_ffi(cs, ca) }.unwrap().with_name("y"))
        .unwrap();
    let err = out.into_ffi().unwrap_err();
    assert_eq!(
        err.message(),
        "column \"y\": a field adopted from C Data Interface structures cannot be renamed or re-annotated"
    );
    drop(err);
    assert_eq!(live_bytes(), before);
}

#[test]
fn builder_errors() {
    let cases: Vec<(Error, &str)> = vec![
        (
            OutBatch::new(3)
                .push(Field::new("x", Array::from_values(vec![1u8])))
                .map(|_| ())
                .unwrap_err(),
            "column \"x\": has 1 slots, the output batch 3 rows",
        ),
        (
            Array::primitive(vec![1u8, 2], Some(BitmapBuilder::new_set(3))).unwrap_err(),
            "C: validity has 3 bits for 2 slots",
        ),
        (
            Array::fixed_size_list(3, Field::new("item", Array::from_values(vec![0f32; 4])), None).unwrap_err(),
            "fixed_size_list of size 3: child \"item\" has 4 values, not a multiple",
        ),
        (
            Array::list(
                vec![0, 3, 2],
                Field::new("item", Array::from_values(vec![0u8; 3])),
                None,
            )
            .unwrap_err(),
            "list: offsets negative or decreasing at index 2",
        ),
        (
            Array::from_parts("+w:2", 1, None, vec![], vec![]).unwrap_err(),
            "format \"+w:2\" takes 1 children, got 0",
        ),
        (
            Array::from_parts("vu", 1, None, vec![], vec![]).unwrap_err(),
            "format \"vu\" is not supported by ABI v1",
        ),
        (
            Array::from_values(vec![1i32]).with_format("g").unwrap_err(),
            "format \"g\" does not share the layout of \"i\"",
        ),
    ];
    for (err, want) in cases {
        assert_eq!(err.message(), want);
    }
}

#[test]
fn require_lists_the_columns() {
    let ffi = all_kinds().into_ffi().unwrap();
    let err = view(&ffi).require("nope").unwrap_err();
    assert_eq!(err.status(), Status::UnsupportedInput);
    assert!(
        err.message()
            .starts_with("column \"nope\": not found in the input (columns: \"i8\", \"u64\", "),
        "{}",
        err.message()
    );
}

#[test]
fn rejects_malformed_input() {
    let format_i = CString::new("i").unwrap();
    type Mutation<'f> = Box<dyn Fn(&mut FFI_ArrowSchema, &mut FFI_ArrowArray) + 'f>;
    let cases: Vec<(Mutation, &str)> = vec![
        (
            Box::new(|s, _| s.format = format_i.as_ptr()),
            "input batch: format \"i\", want \"+s\"",
        ),
        (
            Box::new(|_, a| a.n_children = 2),
            "input batch: schema has 10 children, array has 2",
        ),
        (Box::new(|_, a| a.length = -1), "input batch: length -1"),
        // SAFETY (both): child 0 exists.
        (
            Box::new(|_, a| unsafe { child_mut(a, 0).n_buffers = 3 }),
            "column \"i8\": format \"c\" with 3 buffers",
        ),
        (
            Box::new(|_, a| unsafe { child_mut(a, 0).length = 2 }),
            "column \"i8\": length 2 does not cover the parent struct's slots 0..4",
        ),
    ];
    for (mutate, want) in cases {
        let (mut s, mut a) = all_kinds().into_ffi().unwrap();
        let saved = (s.format, a.n_children, a.length);
        // SAFETY: child 0 exists.
        let child = unsafe { (child_mut(&mut a, 0).n_buffers, child_mut(&mut a, 0).length) };
        mutate(&mut s, &mut a);
        // SAFETY: the structures are valid apart from the mutation.
        let err = unsafe { Batch::from_ffi(&s, &a) }.unwrap_err();
        assert_eq!(err.message(), want);
        // Undo, so that release sees what it built.
        (s.format, a.n_children, a.length) = saved;
        // SAFETY: as above.
        unsafe { (child_mut(&mut a, 0).n_buffers, child_mut(&mut a, 0).length) = child };
    }
}

#[test]
fn allocator_exports() {
    unsafe {
        assert_eq!(rt::alloc(0, 64) as usize, 64);
        assert!(rt::alloc(8, 3).is_null());
        for align in [1, 2, 8, 16, 64] {
            let p = rt::alloc(100, align);
            assert!(!p.is_null() && p as usize % align == 0);
            rt::free(p, 100, align);
        }
        rt::free(ptr::null_mut(), 10, 8);
        rt::free(64 as *mut u8, 0, 64);
    }
}

#[test]
fn last_error_packs_the_message() {
    assert_eq!(rt::last_error(), 0);
    let code = rt::fail(&Error::unsupported_input("nope"));
    assert_eq!(code, 3);
    assert_eq!(rt::last_error() & 0xFFFF_FFFF, 4);
    assert_eq!(rt::last_error_message().as_deref(), Some("nope"));
    assert_eq!(Error::new(Status::Ok, "x").status(), Status::Error);
    assert_eq!(
        Error::at("c", 7, "bad value").message(),
        "column \"c\" row 7: bad value"
    );
}
