//! `ctc_decode`: greedy CTC decoding of a recognizer's output into text,
//! over a dictionary passed in the configuration (PaddleOCR's recognition
//! post-processing).
//!
//! Input: a float32 tensor [T, C] (or [1, T, C]) per row: T time steps of C
//! class scores, class `blank` (0) the CTC blank. At each step the best
//! class wins (the lowest index on a tie; NaN never wins); repeats of the
//! same class are merged, blanks dropped; class k stands for
//! `dictionary[k - 1]` when blank is 0 (in general, the dictionary lists
//! the classes other than the blank, in order). A class past the end of
//! the dictionary is dropped, unless `strict` (false) is set: then a tensor
//! whose C is not the dictionary's length + 1 (the blank) is refused,
//! before any row is decoded, with a message that says how to fix the
//! dictionary.
//!
//! Output, after every other input column: the scores column itself
//! (passed through unchanged, left out with `drop_input`, false), then
//! `text` (utf8) and `confidence` (float32): the mean of the winning scores
//! of the kept characters (0 for an empty text), as probabilities: the
//! scores themselves, or with `softmax` (false) their softmax over the C
//! classes. A null row gives nulls.
//!
//! Config: `dictionary` (required, one string per class), `blank` (0),
//! `softmax` (false), `strict` (false), `drop_input` (false), `column`
//! ("logits"), `text` ("text"), `confidence` ("confidence").

#[path = "../../rust/common.rs"]
mod common;

use wasinfer_sdk::{export_udf, Array, Batch, BinaryBuilder, BitmapBuilder, Config, Error, Field, OutBatch, Udf};

struct Ctc {
    column: String,
    dictionary: Vec<String>,
    blank: usize,
    softmax: bool,
    strict: bool,
    drop_input: bool,
    text: String,
    confidence: String,
}

impl Udf for Ctc {
    const DESCRIPTION: &'static str = r#"{"name":"ctc_decode","version":"1.0.0","language":"rust"}"#;

    fn init(config: &str) -> Result<Self, Error> {
        let c = Config::parse(config)?;
        c.check_keys(&["dictionary", "blank", "softmax", "strict", "drop_input", "column", "text", "confidence"])?;
        let dictionary = common::strings(&c, "dictionary")?.ok_or_else(|| {
            Error::invalid_config("config: \"dictionary\" (one string per class, the blank left out) is required")
        })?;
        let t = Ctc {
            column: common::name(&c, "column", "logits")?,
            blank: common::int_in(&c, "blank", 0, 0, dictionary.len() as i64)? as usize,
            dictionary,
            softmax: c.boolean("softmax")?.unwrap_or(false),
            strict: c.boolean("strict")?.unwrap_or(false),
            drop_input: c.boolean("drop_input")?.unwrap_or(false),
            text: common::name(&c, "text", "text")?,
            confidence: common::name(&c, "confidence", "confidence")?,
        };
        if t.text == t.confidence {
            return Err(Error::invalid_config("config: \"text\" and \"confidence\" must differ"));
        }
        Ok(t)
    }

    fn transform<'a>(&mut self, input: &Batch<'a>) -> Result<OutBatch<'a>, Error> {
        let col = input.require(&self.column)?;
        let shape = common::tensor_shape(&col)?;
        let (steps, classes) = match shape.as_slice() {
            [t, c] | [1, t, c] => (*t, *c),
            _ => {
                return Err(Error::unsupported_input(format!(
                    "column {:?}: tensor shape {:?}; want [T, C] or [1, T, C]",
                    self.column, shape
                )))
            }
        };
        if self.strict && classes != self.dictionary.len() + 1 {
            return Err(Error::unsupported_input(format!(
                "column {:?}: {} classes per step, but the dictionary lists {} (+ the blank = {}): list every class \
                 but the blank, in order (PaddleOCR: the lines of its keys file, then \" \")",
                self.column,
                classes,
                self.dictionary.len(),
                self.dictionary.len() + 1
            )));
        }
        let fl = col.fixed_size_list()?;
        let values = fl.primitive::<f32>().map_err(|_| {
            Error::unsupported_input(format!("column {:?}: a float32 tensor is required", self.column))
        })?;
        let n = col.len();
        let mut text = BinaryBuilder::utf8();
        let mut conf = Vec::with_capacity(n);
        let mut valid = BitmapBuilder::with_capacity(n);
        let mut nulls = false;
        let mut s = String::new();
        for r in 0..n {
            if col.is_null(r) {
                text.push_null();
                conf.push(0f32);
                valid.push(false);
                nulls = true;
                continue;
            }
            let row = &values[r * steps * classes..(r + 1) * steps * classes];
            s.clear();
            let (mut sum, mut kept) = (0f64, 0usize);
            let mut prev = usize::MAX;
            for t in 0..steps {
                let step = &row[t * classes..(t + 1) * classes];
                let mut best = usize::MAX;
                for (k, &v) in step.iter().enumerate() {
                    if !v.is_nan() && (best == usize::MAX || v > step[best]) {
                        best = k;
                    }
                }
                if best == usize::MAX || best == prev {
                    prev = best;
                    continue;
                }
                prev = best;
                if best == self.blank {
                    continue;
                }
                let k = if best > self.blank { best - 1 } else { best };
                let ch = match self.dictionary.get(k) {
                    Some(ch) => ch,
                    None => continue,
                };
                s.push_str(ch);
                let p = if self.softmax {
                    let m = step[best] as f64;
                    let z: f64 = step.iter().filter(|v| !v.is_nan()).map(|&v| (v as f64 - m).exp()).sum();
                    1.0 / z
                } else {
                    step[best] as f64
                };
                sum += p;
                kept += 1;
            }
            text.push_str(&s);
            conf.push(if kept == 0 { 0.0 } else { (sum / kept as f64) as f32 });
            valid.push(true);
        }
        let v = if nulls { Some(valid) } else { None };
        let mut out = if self.drop_input {
            let mut out = OutBatch::new(n);
            out.keep_metadata(input);
            let decoded = input.columns().iter().position(|c| c.name() == self.column);
            for (i, c) in input.columns().iter().enumerate() {
                if Some(i) != decoded {
                    out.pass_through(c)?;
                }
            }
            out
        } else {
            OutBatch::from_input(input)?
        };
        out.push(Field::new(self.text.clone(), text.finish()?).nullable(true))?;
        out.push(Field::new(self.confidence.clone(), Array::primitive(conf, v)?).nullable(true))?;
        Ok(out)
    }
}

export_udf!(Ctc);
