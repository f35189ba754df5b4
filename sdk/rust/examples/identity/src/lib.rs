//! `identity`: returns its input unchanged, without copying anything.
//!
//! Every output column points at the input column's structures and buffers,
//! and the schema-level metadata is the input's (spec §5.2), so the guest
//! does no work per row: this module measures the cost of the boundary.

use wasinfer_sdk::{export_udf, Batch, Config, Error, OutBatch, Udf};

/// The identity transform. It takes no configuration.
pub struct Identity;

impl Udf for Identity {
    const DESCRIPTION: &'static str = r#"{"name":"identity","version":"1.0.0","language":"rust","description":"returns its input unchanged (zero-copy)"}"#;

    fn init(config: &str) -> Result<Self, Error> {
        Config::parse(config)?.check_keys(&[])?;
        Ok(Identity)
    }

    fn transform<'a>(&mut self, input: &Batch<'a>) -> Result<OutBatch<'a>, Error> {
        OutBatch::from_input(input)
    }
}

export_udf!(Identity);

#[cfg(test)]
mod tests;
