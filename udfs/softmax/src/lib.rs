//! `softmax`: the softmax of each row of a float32 list, or of each vector
//! along the last dimension of a float32 tensor:
//!
//! ```text
//! p[i] = exp((x[i] - max) / T) / sum_j exp((x[j] - max) / T)
//! ```
//!
//! computed in float64 and rounded once to float32. The output has the
//! input's type (a list with the same lengths, or a tensor of the same
//! shape). A null row gives a null row; an empty list an empty list. A row
//! with a NaN or infinite value is refused (status ERROR, "not finite"),
//! since its softmax is not defined.
//!
//! Config: `column` ("logits"), `output` ("probs"), `temperature` (1, > 0).

#[path = "../../rust/common.rs"]
mod common;

use common::Vectors;
use wasinfer_sdk::{export_udf, Batch, Config, Error, OutBatch, Udf};

struct Softmax {
    column: String,
    output: String,
    temperature: f64,
}

impl Udf for Softmax {
    const DESCRIPTION: &'static str = r#"{"name":"softmax","version":"1.0.0","language":"rust"}"#;

    fn init(config: &str) -> Result<Self, Error> {
        let c = Config::parse(config)?;
        c.check_keys(&["column", "output", "temperature"])?;
        Ok(Softmax {
            column: common::name(&c, "column", "logits")?,
            output: common::name(&c, "output", "probs")?,
            temperature: common::number_in(&c, "temperature", 1.0, 1e-6, 1e6)?,
        })
    }

    fn transform<'a>(&mut self, input: &Batch<'a>) -> Result<OutBatch<'a>, Error> {
        let v = Vectors::read(input.require(&self.column)?)?;
        let mut values: Vec<f32> = Vec::new();
        let mut lens = Vec::with_capacity(v.len());
        for r in 0..v.len() {
            let row = v.row(r);
            lens.push(if v.is_null(r) { 0 } else { row.len() });
            values.try_reserve(row.len())?;
            if v.is_null(r) {
                if v.shape.is_some() {
                    values.extend(std::iter::repeat(0f32).take(row.len()));
                }
                continue;
            }
            for vec in v.vectors(r) {
                if let Some(i) = vec.iter().position(|x| !x.is_finite()) {
                    return Err(Error::at(&self.column, r, format!("value {} is {}: not finite", i, vec[i])));
                }
                let max = vec.iter().fold(f64::NEG_INFINITY, |m, &x| m.max(x as f64));
                let e: Vec<f64> = vec.iter().map(|&x| ((x as f64 - max) / self.temperature).exp()).collect();
                let sum: f64 = e.iter().sum();
                values.extend(e.iter().map(|x| (x / sum) as f32));
            }
        }
        let mut out = OutBatch::from_input(input)?;
        out.push(common::f32_like(&self.output, &v, values, &lens)?)?;
        Ok(out)
    }
}

export_udf!(Softmax);
