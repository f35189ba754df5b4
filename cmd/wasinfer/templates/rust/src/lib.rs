//! `__NAME__`: a wasinfer UDF (ABI v1) written with the Rust SDK.
//!
//! It appends the float64 column `<column>_out` = `<column>` × `factor` to
//! every batch; the input columns pass through without a copy. A null stays
//! null.
//!
//! Configuration (a JSON object; every key is optional):
//!
//! - `column`: the int64 or float64 column to scale (default `"value"`)
//! - `factor`: the number to multiply by (default 2)
//!
//! Errors, as the host reports them: `INVALID_CONFIG` for an unknown key or a
//! key of the wrong type; `UNSUPPORTED_INPUT` when the column is missing or
//! not int64/float64, or the output column is already in the input; `ERROR`
//! for a product that is not finite, naming the column and the row.
//!
//! Build: `make` (or `wasinfer udf build`). Test: `make test`.

use wasinfer_sdk::{export_udf, Array, Batch, Config, Error, Field, OutBatch, Status, Udf};

/// The UDF: one per instance, made by `init` from the configuration.
pub struct Scale {
    column: String,
    output: String,
    factor: f64,
}

impl Udf for Scale {
    const DESCRIPTION: &'static str = r#"{"name":"__NAME__","version":"0.1.0","language":"rust","description":"appends <column>_out = <column> * factor (float64)"}"#;

    fn init(config: &str) -> Result<Self, Error> {
        let c = Config::parse(config)?; // "" (no configuration) is {}
        c.check_keys(&["column", "factor"])?;
        let column = c.string("column")?.unwrap_or("value").to_string();
        if column.is_empty() {
            return Err(Error::invalid_config("config: \"column\" must not be empty"));
        }
        let factor = c.number("factor")?.unwrap_or(2.0);
        Ok(Scale {
            output: format!("{}_out", column),
            column,
            factor,
        })
    }

    fn transform<'a>(&mut self, input: &Batch<'a>) -> Result<OutBatch<'a>, Error> {
        let col = input.require(&self.column)?; // missing: UNSUPPORTED_INPUT listing the columns
        if input.column_by_name(&self.output).is_some() {
            return Err(Error::in_column(
                Status::UnsupportedInput,
                &self.output,
                "already in the input",
            ));
        }
        // Views honour every offset: element i of a slice is row i.
        let values: Vec<f64> = match (col.format(), col.dictionary()?.is_some()) {
            ("l", false) => col.primitive::<i64>()?.iter().map(|&v| v as f64).collect(),
            ("g", false) => col.primitive::<f64>()?.to_vec(),
            (f, _) => {
                return Err(Error::in_column(
                    Status::UnsupportedInput,
                    &self.column,
                    format!("want int64 or float64, got format {:?}", f),
                ))
            }
        };
        let mut scaled = Vec::with_capacity(values.len());
        for (row, v) in values.into_iter().enumerate() {
            if col.is_null(row) {
                scaled.push(None);
                continue;
            }
            let y = v * self.factor;
            if !y.is_finite() {
                return Err(Error::error(format!(
                    "column {:?}: row {}: value * factor is not finite",
                    self.column, row
                )));
            }
            scaled.push(Some(y));
        }
        let mut out = OutBatch::from_input(input)?; // every input column, not copied
        out.push(Field::new(self.output.clone(), Array::from_options(scaled)))?;
        Ok(out)
    }
}

export_udf!(Scale);

#[cfg(test)]
mod tests;
