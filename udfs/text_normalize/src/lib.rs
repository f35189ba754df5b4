//! `text_normalize`: cleans up a utf8 column, character by character:
//!
//! 1. `remove_control` (true): drop control characters (Unicode Cc) other
//!    than whitespace;
//! 2. `lowercase` (true): Unicode lowercase of each character
//!    (`char::to_lowercase`, Rust 1.63's Unicode tables; no context rules);
//! 3. `remove_punctuation` (false): drop ASCII punctuation;
//! 4. `collapse_whitespace` (true): every run of Unicode whitespace becomes
//!    one space, and leading and trailing whitespace is removed;
//! 5. `max_chars` (0 = no limit): keep at most this many characters.
//!
//! The output is utf8; it replaces the input column when `output` is not
//! set (the default), else it is added after every input column. A null
//! value stays null. Input utf8 or large_utf8.

#[path = "../../rust/common.rs"]
mod common;

use wasinfer_sdk::{export_udf, Batch, BinaryBuilder, Config, Error, Field, OutBatch, Udf};

struct Normalize {
    column: String,
    output: Option<String>,
    lowercase: bool,
    remove_control: bool,
    remove_punctuation: bool,
    collapse: bool,
    max_chars: usize,
}

fn flag(c: &Config, key: &str, default: bool) -> Result<bool, Error> {
    Ok(c.boolean(key)?.unwrap_or(default))
}

impl Normalize {
    fn apply(&self, s: &str, out: &mut String) {
        out.clear();
        let mut chars = 0usize;
        let mut pending_space = false;
        let limit = if self.max_chars == 0 { usize::MAX } else { self.max_chars };
        let push = |out: &mut String, c: char, chars: &mut usize| -> bool {
            if *chars >= limit {
                return false;
            }
            out.push(c);
            *chars += 1;
            true
        };
        for c in s.chars() {
            if self.remove_control && c.is_control() && !c.is_whitespace() {
                continue;
            }
            if self.remove_punctuation && c.is_ascii_punctuation() {
                continue;
            }
            if self.collapse && c.is_whitespace() {
                pending_space = chars > 0;
                continue;
            }
            if pending_space {
                pending_space = false;
                if !push(out, ' ', &mut chars) {
                    break;
                }
            }
            if self.lowercase {
                let mut full = true;
                for l in c.to_lowercase() {
                    if !push(out, l, &mut chars) {
                        full = false;
                        break;
                    }
                }
                if !full {
                    break;
                }
            } else if !push(out, c, &mut chars) {
                break;
            }
        }
        if self.collapse {
            // A space pushed just before the limit cut the text is trailing.
            while out.ends_with(' ') && chars > 0 {
                out.pop();
                chars -= 1;
            }
        }
    }
}

impl Udf for Normalize {
    const DESCRIPTION: &'static str = r#"{"name":"text_normalize","version":"1.0.0","language":"rust"}"#;

    fn init(config: &str) -> Result<Self, Error> {
        let c = Config::parse(config)?;
        c.check_keys(&["column", "output", "lowercase", "remove_control", "remove_punctuation", "collapse_whitespace", "max_chars"])?;
        let output = match c.string("output")? {
            Some("") => return Err(Error::invalid_config("config: \"output\" must be a non-empty string")),
            o => o.map(str::to_string),
        };
        Ok(Normalize {
            column: common::name(&c, "column", "text")?,
            output,
            lowercase: flag(&c, "lowercase", true)?,
            remove_control: flag(&c, "remove_control", true)?,
            remove_punctuation: flag(&c, "remove_punctuation", false)?,
            collapse: flag(&c, "collapse_whitespace", true)?,
            max_chars: common::int_in(&c, "max_chars", 0, 0, 1 << 30)? as usize,
        })
    }

    fn transform<'a>(&mut self, input: &Batch<'a>) -> Result<OutBatch<'a>, Error> {
        let col = input.require(&self.column)?;
        if !matches!(col.format(), "u" | "U") {
            return Err(Error::unsupported_input(format!(
                "column {:?}: format {:?}; want utf8 or large_utf8",
                self.column,
                col.format()
            )));
        }
        let text = col.binary()?;
        let mut b = BinaryBuilder::utf8();
        let mut buf = String::new();
        for i in 0..col.len() {
            match text.get_str(i) {
                None => b.push_null(),
                Some(s) => {
                    self.apply(s, &mut buf);
                    b.push_str(&buf);
                }
            }
        }
        let name = self.output.clone().unwrap_or_else(|| self.column.clone());
        let field = Field::new(name, b.finish()?).nullable(true);
        let mut out = OutBatch::new(input.num_rows());
        out.keep_metadata(input);
        let mut field = Some(field);
        for c in input.columns() {
            if self.output.is_none() && c.name() == self.column {
                out.push(field.take().unwrap())?;
            } else {
                out.pass_through(c)?;
            }
        }
        if let Some(f) = field {
            out.push(f)?;
        }
        Ok(out)
    }
}

export_udf!(Normalize);
