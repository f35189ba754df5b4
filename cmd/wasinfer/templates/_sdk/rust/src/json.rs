//! A small, strict JSON reader for stage configuration (spec §9) and for
//! JSON-valued field metadata such as `ARROW:extension:metadata`.
//!
//! It reads all of RFC 8259 (objects, arrays, strings with every escape,
//! numbers, `true`, `false`, `null`), nests at most [`MAX_DEPTH`] levels, keeps
//! object keys in document order and refuses duplicate keys. Numbers are read
//! with Rust's correctly rounding `f64` parser; a number too large for `f64`
//! is an error rather than infinity. [`Config`] adds the checks a UDF needs on
//! a flat configuration object, with errors of status `INVALID_CONFIG`.

use std::fmt;

use crate::error::Error;

/// The deepest nesting of arrays and objects [`parse`] accepts.
pub const MAX_DEPTH: usize = 64;

/// A JSON value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number.
    Number(Number),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Value>),
    /// An object.
    Object(Object),
}

/// A JSON number: its `f64` value, and its integer value when it was written
/// as an integer (no fraction, no exponent) that fits `i64`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Number {
    value: f64,
    integer: Option<i64>,
}

impl Number {
    /// The value as the nearest `f64`.
    pub fn as_f64(self) -> f64 {
        self.value
    }

    /// The value when it was written as an integer in `i64` range: `3` is
    /// `Some(3)`, `3.0` and `3e0` are `None`.
    pub fn as_i64(self) -> Option<i64> {
        self.integer
    }
}

/// A JSON object: its members in document order, keys unique.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Object {
    members: Vec<(String, Value)>,
}

impl Object {
    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.members.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The members in document order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.members.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The number of members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether the object has no members.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }
}

impl Value {
    /// A short name of the value's JSON type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        }
    }

    /// The string, if the value is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The number as `f64`, if the value is one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(n.as_f64()),
            _ => None,
        }
    }

    /// The number as `i64`, if the value is a number written as an integer.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    /// The boolean, if the value is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The elements, if the value is an array.
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The object, if the value is one.
    pub fn as_object(&self) -> Option<&Object> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }
}

/// A syntax error: what was wrong and the byte offset where it was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonError {
    /// What was wrong.
    pub message: String,
    /// Byte offset in the text.
    pub offset: usize,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.message, self.offset)
    }
}

impl std::error::Error for JsonError {}

/// Parses one JSON value; only whitespace may surround it.
pub fn parse(text: &str) -> Result<Value, JsonError> {
    let mut p = Parser {
        s: text.as_bytes(),
        pos: 0,
        depth: 0,
    };
    p.ws();
    let v = p.value()?;
    p.ws();
    if p.pos != p.s.len() {
        return Err(p.err("unexpected text after the value"));
    }
    Ok(v)
}

struct Parser<'s> {
    s: &'s [u8],
    pos: usize,
    depth: usize,
}

impl<'s> Parser<'s> {
    fn err(&self, message: &str) -> JsonError {
        JsonError {
            message: message.to_string(),
            offset: self.pos,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn literal(&mut self, word: &str, v: Value) -> Result<Value, JsonError> {
        if self.s[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(v)
        } else {
            Err(self.err("invalid literal"))
        }
    }

    fn value(&mut self) -> Result<Value, JsonError> {
        match self.peek() {
            None => Err(self.err("unexpected end of text")),
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(b'"') => self.string().map(Value::String),
            Some(b't') => self.literal("true", Value::Bool(true)),
            Some(b'f') => self.literal("false", Value::Bool(false)),
            Some(b'n') => self.literal("null", Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.err("unexpected character")),
        }
    }

    fn enter(&mut self) -> Result<(), JsonError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err("nested too deeply"));
        }
        self.pos += 1;
        self.ws();
        Ok(())
    }

    fn object(&mut self) -> Result<Value, JsonError> {
        self.enter()?;
        let mut members: Vec<(String, Value)> = Vec::new();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(Value::Object(Object { members }));
        }
        loop {
            if self.peek() != Some(b'"') {
                return Err(self.err("expected a string key"));
            }
            let at = self.pos;
            let key = self.string()?;
            if members.iter().any(|(k, _)| *k == key) {
                return Err(JsonError {
                    message: format!("duplicate key {:?}", key),
                    offset: at,
                });
            }
            self.ws();
            if self.peek() != Some(b':') {
                return Err(self.err("expected ':'"));
            }
            self.pos += 1;
            self.ws();
            let v = self.value()?;
            members.push((key, v));
            self.ws();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.ws();
                }
                Some(b'}') => {
                    self.pos += 1;
                    self.depth -= 1;
                    return Ok(Value::Object(Object { members }));
                }
                _ => return Err(self.err("expected ',' or '}'")),
            }
        }
    }

    fn array(&mut self) -> Result<Value, JsonError> {
        self.enter()?;
        let mut items = Vec::new();
        if self.peek() == Some(b']') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(Value::Array(items));
        }
        loop {
            items.push(self.value()?);
            self.ws();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.ws();
                }
                Some(b']') => {
                    self.pos += 1;
                    self.depth -= 1;
                    return Ok(Value::Array(items));
                }
                _ => return Err(self.err("expected ',' or ']'")),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let digits = self
            .s
            .get(self.pos..self.pos + 4)
            .ok_or_else(|| self.err("truncated \\u escape"))?;
        let mut v = 0u32;
        for &d in digits {
            let x = (d as char).to_digit(16).ok_or_else(|| self.err("invalid \\u escape"))?;
            v = v * 16 + x;
        }
        self.pos += 4;
        Ok(v)
    }

    fn string(&mut self) -> Result<String, JsonError> {
        self.pos += 1; // opening quote
        let mut out = String::new();
        loop {
            // Copy the run of plain bytes up to the next quote, backslash or
            // control character. The input is a &str, so the run is UTF-8.
            let start = self.pos;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            // The run ends at an ASCII byte or at the end, both char boundaries.
            out.push_str(std::str::from_utf8(&self.s[start..self.pos]).map_err(|_| self.err("invalid UTF-8"))?);
            match self.peek() {
                None => return Err(self.err("unterminated string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let c = self.peek().ok_or_else(|| self.err("unterminated string"))?;
                    self.pos += 1;
                    match c {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&hi) {
                                if !self.s[self.pos..].starts_with(b"\\u") {
                                    return Err(self.err("unpaired surrogate in \\u escape"));
                                }
                                self.pos += 2;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(self.err("unpaired surrogate in \\u escape"));
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            out.push(char::from_u32(code).ok_or_else(|| self.err("unpaired surrogate in \\u escape"))?);
                        }
                        _ => {
                            self.pos -= 1;
                            return Err(self.err("invalid escape"));
                        }
                    }
                }
                Some(_) => return Err(self.err("control character in string")),
            }
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<Value, JsonError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        let int_start = self.pos;
        match self.digits() {
            0 => return Err(self.err("expected a digit")),
            n if n > 1 && self.s[int_start] == b'0' => {
                self.pos = int_start + 1;
                return Err(self.err("leading zero in number"));
            }
            _ => {}
        }
        let mut integral = true;
        if self.peek() == Some(b'.') {
            integral = false;
            self.pos += 1;
            if self.digits() == 0 {
                return Err(self.err("expected a digit after '.'"));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            integral = false;
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.err("expected a digit in the exponent"));
            }
        }
        // The grammar above admits only ASCII, which Rust's parser accepts.
        let text = std::str::from_utf8(&self.s[start..self.pos]).map_err(|_| self.err("invalid number"))?;
        let value: f64 = text.parse().map_err(|_| self.err("invalid number"))?;
        if !value.is_finite() {
            return Err(JsonError {
                message: format!("number {} out of range", text),
                offset: start,
            });
        }
        let integer = if integral { text.parse::<i64>().ok() } else { None };
        Ok(Value::Number(Number { value, integer }))
    }
}

/// A stage configuration: the JSON object the host passes to `wasinfer_init`
/// (spec §9). Every error is `INVALID_CONFIG` and names the key.
///
/// ```
/// # use wasinfer_sdk::Config;
/// let c = Config::parse(r#"{"mean": [0.5, 0.5], "column": "img"}"#).unwrap();
/// c.check_keys(&["mean", "std", "column"]).unwrap();
/// assert_eq!(c.numbers("mean").unwrap(), Some(vec![0.5, 0.5]));
/// assert_eq!(c.string("column").unwrap(), Some("img"));
/// assert_eq!(c.numbers("std").unwrap(), None);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Config {
    object: Object,
}

impl Config {
    /// Parses a configuration. Empty text (a stage without configuration)
    /// is an empty object; anything else must be a JSON object.
    pub fn parse(text: &str) -> Result<Config, Error> {
        if text.trim().is_empty() {
            return Ok(Config::default());
        }
        match parse(text) {
            Ok(Value::Object(object)) => Ok(Config { object }),
            Ok(v) => Err(Error::invalid_config(format!(
                "config: want a JSON object, got {}",
                v.type_name()
            ))),
            Err(e) => Err(Error::invalid_config(format!("config: invalid JSON: {}", e))),
        }
    }

    /// The underlying object.
    pub fn object(&self) -> &Object {
        &self.object
    }

    /// The raw value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.object.get(key)
    }

    /// Fails on the first key not in `known`, naming it and the known keys.
    pub fn check_keys(&self, known: &[&str]) -> Result<(), Error> {
        for (k, _) in self.object.iter() {
            if !known.contains(&k) {
                let hint = if known.is_empty() {
                    "this UDF takes no configuration".to_string()
                } else {
                    format!("known keys: {}", known.join(", "))
                };
                return Err(Error::invalid_config(format!("config: unknown key {:?} ({})", k, hint)));
            }
        }
        Ok(())
    }

    fn wrong(key: &str, want: &str, got: &Value) -> Error {
        Error::invalid_config(format!("config: {:?} must be {}, got {}", key, want, got.type_name()))
    }

    /// The string value of `key`; `None` when absent.
    pub fn string(&self, key: &str) -> Result<Option<&str>, Error> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(v) => Err(Self::wrong(key, "a string", v)),
        }
    }

    /// The numeric value of `key`; `None` when absent.
    pub fn number(&self, key: &str) -> Result<Option<f64>, Error> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => Ok(Some(n.as_f64())),
            Some(v) => Err(Self::wrong(key, "a number", v)),
        }
    }

    /// The integer value of `key` (written without fraction or exponent);
    /// `None` when absent.
    pub fn integer(&self, key: &str) -> Result<Option<i64>, Error> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => match n.as_i64() {
                Some(i) => Ok(Some(i)),
                None => Err(Error::invalid_config(format!("config: {:?} must be an integer", key))),
            },
            Some(v) => Err(Self::wrong(key, "an integer", v)),
        }
    }

    /// The boolean value of `key`; `None` when absent.
    pub fn boolean(&self, key: &str) -> Result<Option<bool>, Error> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(v) => Err(Self::wrong(key, "a boolean", v)),
        }
    }

    /// The value of `key` as an array of numbers; `None` when absent.
    pub fn numbers(&self, key: &str) -> Result<Option<Vec<f64>>, Error> {
        let items = match self.get(key) {
            None => return Ok(None),
            Some(Value::Array(items)) => items,
            Some(v) => return Err(Self::wrong(key, "an array of numbers", v)),
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            match item {
                Value::Number(n) => out.push(n.as_f64()),
                v => {
                    return Err(Error::invalid_config(format!(
                        "config: {:?}[{}] must be a number, got {}",
                        key,
                        i,
                        v.type_name()
                    )))
                }
            }
        }
        Ok(Some(out))
    }

    /// The value of `key` as an array of strings; `None` when absent.
    pub fn strings(&self, key: &str) -> Result<Option<Vec<&str>>, Error> {
        let items = match self.get(key) {
            None => return Ok(None),
            Some(Value::Array(items)) => items,
            Some(v) => return Err(Self::wrong(key, "an array of strings", v)),
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            match item {
                Value::String(s) => out.push(s.as_str()),
                v => {
                    return Err(Error::invalid_config(format!(
                        "config: {:?}[{}] must be a string, got {}",
                        key,
                        i,
                        v.type_name()
                    )))
                }
            }
        }
        Ok(Some(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Status;

    fn num(v: f64) -> Value {
        Value::Number(Number {
            value: v,
            integer: None,
        })
    }

    fn int(v: i64) -> Value {
        Value::Number(Number {
            value: v as f64,
            integer: Some(v),
        })
    }

    #[test]
    fn parses_values() {
        let cases: Vec<(&str, Value)> = vec![
            ("null", Value::Null),
            (" true ", Value::Bool(true)),
            ("false", Value::Bool(false)),
            ("0", int(0)),
            ("-12", int(-12)),
            ("3.0", num(3.0)),
            ("1e2", num(100.0)),
            ("0.229", num(0.229)),
            ("-0.5E-1", num(-0.05)),
            (
                r#""a\"b\\c\/\n\u00e9\ud83d\ude00""#,
                Value::String("a\"b\\c/\né😀".to_string()),
            ),
            ("\"é\"", Value::String("é".to_string())),
            ("[]", Value::Array(vec![])),
            (
                "[1, [2], {}]",
                Value::Array(vec![
                    int(1),
                    Value::Array(vec![int(2)]),
                    Value::Object(Object::default()),
                ]),
            ),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text), Ok(want), "{}", text);
        }
        let v = parse(r#"{"shape": [2, 3, 4], "dim_names": ["H","W","C"]}"#).unwrap();
        let o = v.as_object().unwrap();
        let shape: Vec<i64> = o
            .get("shape")
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        assert_eq!(shape, vec![2, 3, 4]);
        assert_eq!(o.iter().map(|(k, _)| k).collect::<Vec<_>>(), vec!["shape", "dim_names"]);
    }

    #[test]
    fn rounds_correctly() {
        // Values whose nearest double a naive parser gets wrong.
        for text in [
            "0.1",
            "2.2250738585072011e-308",
            "9007199254740993",
            "0.485",
            "0.406",
            "1.7976931348623157e308",
        ] {
            let v = parse(text).unwrap().as_f64().unwrap();
            assert_eq!(v, text.parse::<f64>().unwrap(), "{}", text);
        }
        assert_eq!(parse("9223372036854775808").unwrap().as_i64(), None);
        assert_eq!(parse("-9223372036854775808").unwrap().as_i64(), Some(i64::MIN));
    }

    #[test]
    fn rejects_bad_json() {
        let cases = [
            ("", "unexpected end of text at byte 0"),
            ("{", "expected a string key at byte 1"),
            ("{\"a\" 1}", "expected ':' at byte 5"),
            ("{\"a\":1,}", "expected a string key at byte 7"),
            ("{\"a\":1,\"a\":2}", "duplicate key \"a\" at byte 7"),
            ("[1 2]", "expected ',' or ']' at byte 3"),
            ("01", "leading zero in number at byte 1"),
            ("1.", "expected a digit after '.' at byte 2"),
            ("1e", "expected a digit in the exponent at byte 2"),
            ("-", "expected a digit at byte 1"),
            ("1e999", "number 1e999 out of range at byte 0"),
            ("\"a", "unterminated string at byte 2"),
            ("\"\\x\"", "invalid escape at byte 2"),
            ("\"\\ud800\"", "unpaired surrogate in \\u escape at byte 7"),
            ("\"\u{1}\"", "control character in string at byte 1"),
            ("tru", "invalid literal at byte 0"),
            ("1 2", "unexpected text after the value at byte 2"),
            ("NaN", "unexpected character at byte 0"),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text).unwrap_err().to_string(), want, "{:?}", text);
        }
        let deep = "[".repeat(MAX_DEPTH + 1);
        assert_eq!(parse(&deep).unwrap_err().message, "nested too deeply");
    }

    #[test]
    fn config_accessors() {
        let c = Config::parse(r#"{"s":"x","n":1.5,"i":7,"b":true,"ns":[1,2.5],"ss":["a"]}"#).unwrap();
        assert_eq!(c.string("s").unwrap(), Some("x"));
        assert_eq!(c.number("n").unwrap(), Some(1.5));
        assert_eq!(c.integer("i").unwrap(), Some(7));
        assert_eq!(c.boolean("b").unwrap(), Some(true));
        assert_eq!(c.numbers("ns").unwrap(), Some(vec![1.0, 2.5]));
        assert_eq!(c.strings("ss").unwrap(), Some(vec!["a"]));
        assert_eq!(c.string("missing").unwrap(), None);
        assert!(c.check_keys(&["s", "n", "i", "b", "ns", "ss"]).is_ok());
        assert_eq!(Config::parse("").unwrap(), Config::default());
        assert_eq!(Config::parse(" \n").unwrap(), Config::default());
    }

    #[test]
    fn config_errors() {
        let c = Config::parse(r#"{"s":1,"n":"x","i":1.5,"ns":[1,"a"],"zz":0}"#).unwrap();
        let cases: Vec<(Error, &str)> = vec![
            (
                c.string("s").unwrap_err(),
                "config: \"s\" must be a string, got a number",
            ),
            (
                c.number("n").unwrap_err(),
                "config: \"n\" must be a number, got a string",
            ),
            (c.integer("i").unwrap_err(), "config: \"i\" must be an integer"),
            (
                c.numbers("ns").unwrap_err(),
                "config: \"ns\"[1] must be a number, got a string",
            ),
            (
                c.check_keys(&["s", "n", "i", "ns"]).unwrap_err(),
                "config: unknown key \"zz\" (known keys: s, n, i, ns)",
            ),
            (
                Config::parse("[1]").unwrap_err(),
                "config: want a JSON object, got an array",
            ),
            (
                Config::parse("{").unwrap_err(),
                "config: invalid JSON: expected a string key at byte 1",
            ),
        ];
        for (err, want) in cases {
            assert_eq!(err.status(), Status::InvalidConfig);
            assert_eq!(err.message(), want);
        }
    }
}
