//! Helpers shared by the Rust modules of the UDF library: include with
//! `#[path = "../../rust/common.rs"] mod common;`. Not every module uses
//! every helper.
#![allow(dead_code)]

use wasinfer_sdk::json::{self, Value};
use wasinfer_sdk::{
    Array, BitmapBuilder, Column, Config, Error, Field, EXTENSION_METADATA_KEY, EXTENSION_NAME_KEY, FIXED_SHAPE_TENSOR,
};

/// The shape of a tensor column (row-major), from its extension metadata.
pub fn tensor_shape(col: &Column) -> Result<Vec<usize>, Error> {
    let md = col.metadata();
    if md.get(EXTENSION_NAME_KEY) != Some(FIXED_SHAPE_TENSOR.as_bytes()) {
        return Err(Error::unsupported_input(format!(
            "column {:?}: not an arrow.fixed_shape_tensor",
            col.name()
        )));
    }
    let meta = md
        .get(EXTENSION_METADATA_KEY)
        .and_then(|m| std::str::from_utf8(m).ok())
        .ok_or_else(|| Error::unsupported_input(format!("column {:?}: tensor has no shape metadata", col.name())))?;
    let bad = || Error::unsupported_input(format!("column {:?}: bad tensor metadata {}", col.name(), meta));
    let v = json::parse(meta).map_err(|_| bad())?;
    let obj = v.as_object().ok_or_else(bad)?;
    if let Some(p) = obj.get("permutation") {
        let identity = p
            .as_array()
            .map(|a| a.iter().enumerate().all(|(i, x)| x.as_i64() == Some(i as i64)))
            .unwrap_or(false);
        if !identity {
            return Err(Error::unsupported_input(format!(
                "column {:?}: tensor permutations are not supported",
                col.name()
            )));
        }
    }
    let shape = obj.get("shape").and_then(Value::as_array).ok_or_else(bad)?;
    let mut out = Vec::with_capacity(shape.len());
    for d in shape {
        match d.as_i64() {
            Some(n) if n >= 1 => out.push(n as usize),
            _ => return Err(bad()),
        }
    }
    Ok(out)
}

/// Rows of float32 vectors: a `list<float32>` column, or a float32 tensor
/// whose rows are split into vectors of its last dimension.
pub struct Vectors<'a> {
    col: Column<'a>,
    values: &'a [f32],
    offsets: Vec<(usize, usize)>, // per row: (start, end) in values
    /// Values per vector for a tensor (its last dimension); 0 for a list.
    pub width: usize,
    /// The tensor's shape, for a tensor.
    pub shape: Option<Vec<usize>>,
}

impl<'a> Vectors<'a> {
    /// Reads `col` as list<float32> or tensor<float32>[..., K].
    pub fn read(col: Column<'a>) -> Result<Vectors<'a>, Error> {
        let n = col.len();
        if col.format().starts_with("+w:") {
            let shape = tensor_shape(&col)?;
            let fl = col.fixed_size_list()?;
            let values = fl.primitive::<f32>().map_err(|_| {
                Error::unsupported_input(format!("column {:?}: a tensor of float32 is required", col.name()))
            })?;
            let size = fl.size();
            let offsets = (0..n).map(|i| (i * size, (i + 1) * size)).collect();
            return Ok(Vectors { col, values, offsets, width: *shape.last().unwrap_or(&size), shape: Some(shape) });
        }
        let list = col.list().map_err(|_| {
            Error::unsupported_input(format!(
                "column {:?}: format {:?}; want list<float32> or a float32 tensor",
                col.name(),
                col.format()
            ))
        })?;
        let values = list.child().primitive::<f32>().map_err(|_| {
            Error::unsupported_input(format!("column {:?}: a list of float32 is required", col.name()))
        })?;
        let offsets = (0..n)
            .map(|i| {
                let r = list.range(i);
                (r.start, r.end)
            })
            .collect();
        Ok(Vectors { col, values, offsets, width: 0, shape: None })
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.offsets.len()
    }

    /// Whether row `i` is null.
    pub fn is_null(&self, i: usize) -> bool {
        self.col.is_null(i)
    }

    /// Row `i`'s values (all of a tensor row; one list).
    pub fn row(&self, i: usize) -> &'a [f32] {
        let (s, e) = self.offsets[i];
        &self.values[s..e]
    }

    /// Row `i` as vectors: one for a list, shape product / K for a tensor.
    pub fn vectors(&self, i: usize) -> Vec<&'a [f32]> {
        let row = self.row(i);
        if self.width == 0 {
            return vec![row];
        }
        row.chunks(self.width).collect()
    }

    /// The column's validity as a builder, or None without nulls.
    pub fn validity(&self) -> Option<BitmapBuilder> {
        self.col.validity().filter(|v| v.count_unset() > 0).map(|v| v.to_builder())
    }

    /// The input column.
    pub fn column(&self) -> Column<'a> {
        self.col
    }
}

/// A float32 column shaped as `like`: a list with the same row lengths, or
/// a tensor with the same type and metadata, holding `values` (null rows
/// hold zeros or nothing).
pub fn f32_like(name: &str, like: &Vectors, values: Vec<f32>, lens: &[usize]) -> Result<Field<'static>, Error> {
    let validity = like.validity();
    match &like.shape {
        Some(shape) => {
            let size: usize = shape.iter().product();
            let child = Field::new("item", Array::from_values(values));
            let arr = Array::fixed_size_list(size, child, validity)?;
            let mut f = Field::new(name, arr).nullable(true);
            for (k, v) in like.column().metadata().iter() {
                if k == EXTENSION_NAME_KEY.as_bytes() || k == EXTENSION_METADATA_KEY.as_bytes() {
                    f = f.with_metadata(String::from_utf8_lossy(k).into_owned(), v.to_vec());
                }
            }
            Ok(f)
        }
        None => {
            let child = Field::new("item", Array::from_values(values));
            Ok(Field::new(name, Array::list(offsets(lens), child, validity)?).nullable(true))
        }
    }
}

/// List offsets for rows of these lengths.
pub fn offsets(lens: &[usize]) -> Vec<i32> {
    let mut o = Vec::with_capacity(lens.len() + 1);
    let mut n = 0i32;
    o.push(0);
    for l in lens {
        n += *l as i32;
        o.push(n);
    }
    o
}

/// A `list<T>` field from rows (None = null).
pub fn list_field<T: wasinfer_sdk::Native>(name: &str, rows: Vec<Option<Vec<T>>>) -> Result<Field<'static>, Error> {
    let mut lens = Vec::with_capacity(rows.len());
    let mut values = Vec::new();
    let mut valid = BitmapBuilder::with_capacity(rows.len());
    let mut nulls = false;
    for r in rows {
        match r {
            Some(v) => {
                lens.push(v.len());
                values.extend(v);
                valid.push(true);
            }
            None => {
                lens.push(0);
                valid.push(false);
                nulls = true;
            }
        }
    }
    let child = Field::new("item", Array::from_values(values));
    Ok(Field::new(name, Array::list(offsets(&lens), child, if nulls { Some(valid) } else { None })?).nullable(true))
}

/// A `list<utf8>` field from rows (None = null).
pub fn list_utf8_field(name: &str, rows: Vec<Option<Vec<String>>>) -> Result<Field<'static>, Error> {
    let mut lens = Vec::with_capacity(rows.len());
    let mut text = wasinfer_sdk::BinaryBuilder::utf8();
    let mut valid = BitmapBuilder::with_capacity(rows.len());
    let mut nulls = false;
    for r in rows {
        match r {
            Some(v) => {
                lens.push(v.len());
                for s in v {
                    text.push_str(&s);
                }
                valid.push(true);
            }
            None => {
                lens.push(0);
                valid.push(false);
                nulls = true;
            }
        }
    }
    let child = Field::new("item", text.finish()?);
    Ok(Field::new(name, Array::list(offsets(&lens), child, if nulls { Some(valid) } else { None })?).nullable(true))
}

/// Config helpers with uniform messages.
pub fn name(c: &Config, key: &str, default: &str) -> Result<String, Error> {
    match c.string(key)? {
        None => Ok(default.to_string()),
        Some("") => Err(Error::invalid_config(format!("config: {:?} must be a non-empty string", key))),
        Some(s) => Ok(s.to_string()),
    }
}

/// An integer config value in [lo, hi].
pub fn int_in(c: &Config, key: &str, default: i64, lo: i64, hi: i64) -> Result<i64, Error> {
    let v = c.integer(key)?.unwrap_or(default);
    if v < lo || v > hi {
        return Err(Error::invalid_config(format!("config: {:?} must be from {} to {}, got {}", key, lo, hi, v)));
    }
    Ok(v)
}

/// A number config value in [lo, hi].
pub fn number_in(c: &Config, key: &str, default: f64, lo: f64, hi: f64) -> Result<f64, Error> {
    let v = c.number(key)?.unwrap_or(default);
    if !(v >= lo && v <= hi) {
        return Err(Error::invalid_config(format!("config: {:?} must be from {} to {}, got {}", key, lo, hi, v)));
    }
    Ok(v)
}

/// Strings from config key `key` (a JSON array of strings), or `default`.
pub fn strings(c: &Config, key: &str) -> Result<Option<Vec<String>>, Error> {
    Ok(c.strings(key)?.map(|v| v.into_iter().map(|s| s.to_string()).collect()))
}
