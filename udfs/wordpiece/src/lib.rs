//! `wordpiece`: BERT's WordPiece tokenizer over a vocabulary passed in the
//! configuration.
//!
//! 1. Basic tokenization: optional lowercase (`lowercase`, true;
//!    `char::to_lowercase` per character); control characters dropped;
//!    split on Unicode whitespace; every ASCII punctuation character and
//!    every CJK ideograph (U+4E00–9FFF, 3400–4DBF, 20000–2A6DF, 2A700–2CEAF,
//!    F900–FAFF, 2F800–2FA1F) becomes a word of its own.
//! 2. WordPiece: each word is split greedily into the longest vocabulary
//!    entries, continuations prefixed with `##`; a word longer than
//!    `max_word_chars` (100) characters, or one that cannot be split, is
//!    the unknown token.
//! 3. `add_special_tokens` (true) puts the CLS token first and the SEP token
//!    last; the ids are cut to `max_length` (128), keeping SEP.
//!
//! Output, after every input column: `input_ids` and `attention_mask`,
//! list<int32> (mask all 1), or with `pad` (false) tensors of int32
//! [max_length] padded with the PAD token's id (mask 0 there). A null text
//! gives nulls (zeros in padded mode).
//!
//! Config: `vocab` (required: the tokens, id = position), `column`
//! ("text"), `lowercase`, `max_length`, `max_word_chars`,
//! `add_special_tokens`, `pad`, `unk_token` ("[UNK]"), `cls_token`
//! ("[CLS]"), `sep_token` ("[SEP]"), `pad_token` ("[PAD]"), `ids`
//! ("input_ids"), `mask` ("attention_mask").

#[path = "../../rust/common.rs"]
mod common;

use std::collections::HashMap;

use wasinfer_sdk::{
    export_udf, Array, Batch, BitmapBuilder, Config, Error, Field, OutBatch, Udf, EXTENSION_METADATA_KEY,
    EXTENSION_NAME_KEY, FIXED_SHAPE_TENSOR,
};

struct WordPiece {
    column: String,
    vocab: HashMap<String, i32>,
    lowercase: bool,
    max_length: usize,
    max_word_chars: usize,
    special: bool,
    pad: bool,
    unk: i32,
    cls: i32,
    sep: i32,
    pad_id: i32,
    ids: String,
    mask: String,
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0x20000..=0x2A6DF | 0x2A700..=0x2CEAF | 0xF900..=0xFAFF | 0x2F800..=0x2FA1F)
}

impl WordPiece {
    fn token(&self, c: &Config, key: &str, default: &str, required: bool) -> Result<i32, Error> {
        let t = common::name(c, key, default)?;
        match self.vocab.get(&t) {
            Some(id) => Ok(*id),
            None if required => Err(Error::invalid_config(format!(
                "config: {:?} is {:?}, which is not in the vocabulary",
                key, t
            ))),
            None => Ok(-1),
        }
    }

    fn words(&self, text: &str) -> Vec<String> {
        let mut words = Vec::new();
        let mut cur = String::new();
        let flush = |cur: &mut String, words: &mut Vec<String>| {
            if !cur.is_empty() {
                words.push(std::mem::take(cur));
            }
        };
        for c in text.chars() {
            if c.is_whitespace() {
                flush(&mut cur, &mut words);
            } else if c.is_control() || c == '\u{fffd}' || c == '\0' {
                continue;
            } else if c.is_ascii_punctuation() || is_cjk(c) {
                flush(&mut cur, &mut words);
                words.push(c.to_string());
            } else if self.lowercase {
                cur.extend(c.to_lowercase());
            } else {
                cur.push(c);
            }
        }
        flush(&mut cur, &mut words);
        words
    }

    fn tokenize(&self, text: &str, ids: &mut Vec<i32>) {
        let budget = if self.special { self.max_length.saturating_sub(2) } else { self.max_length };
        ids.clear();
        let mut piece = String::new();
        'words: for w in self.words(text) {
            if ids.len() >= budget {
                break;
            }
            let chars: Vec<(usize, char)> = w.char_indices().collect();
            if chars.len() > self.max_word_chars {
                ids.push(self.unk);
                continue;
            }
            let start_len = ids.len();
            let mut start = 0;
            while start < chars.len() {
                let mut end = chars.len();
                let mut found = None;
                while start < end {
                    let (a, b) = (chars[start].0, if end == chars.len() { w.len() } else { chars[end].0 });
                    piece.clear();
                    if start > 0 {
                        piece.push_str("##");
                    }
                    piece.push_str(&w[a..b]);
                    if let Some(id) = self.vocab.get(&piece) {
                        found = Some(*id);
                        break;
                    }
                    end -= 1;
                }
                match found {
                    Some(id) => {
                        ids.push(id);
                        start = end;
                    }
                    None => {
                        ids.truncate(start_len);
                        ids.push(self.unk);
                        continue 'words;
                    }
                }
            }
        }
        ids.truncate(budget);
        if self.special {
            ids.insert(0, self.cls);
            ids.push(self.sep);
        }
    }
}

impl Udf for WordPiece {
    const DESCRIPTION: &'static str = r#"{"name":"wordpiece","version":"1.0.0","language":"rust"}"#;

    fn init(config: &str) -> Result<Self, Error> {
        let c = Config::parse(config)?;
        c.check_keys(&[
            "vocab", "column", "lowercase", "max_length", "max_word_chars", "add_special_tokens", "pad", "unk_token",
            "cls_token", "sep_token", "pad_token", "ids", "mask",
        ])?;
        let list = common::strings(&c, "vocab")?
            .ok_or_else(|| Error::invalid_config("config: \"vocab\" (the list of tokens, id = position) is required"))?;
        let mut vocab = HashMap::with_capacity(list.len());
        for (i, t) in list.into_iter().enumerate() {
            if vocab.insert(t.clone(), i as i32).is_some() {
                return Err(Error::invalid_config(format!("config: \"vocab\" lists {:?} twice", t)));
            }
        }
        let special = c.boolean("add_special_tokens")?.unwrap_or(true);
        let pad = c.boolean("pad")?.unwrap_or(false);
        let mut w = WordPiece {
            column: common::name(&c, "column", "text")?,
            vocab,
            lowercase: c.boolean("lowercase")?.unwrap_or(true),
            max_length: common::int_in(&c, "max_length", 128, if special { 2 } else { 1 }, 65536)? as usize,
            max_word_chars: common::int_in(&c, "max_word_chars", 100, 1, 1 << 20)? as usize,
            special,
            pad,
            unk: 0,
            cls: 0,
            sep: 0,
            pad_id: 0,
            ids: common::name(&c, "ids", "input_ids")?,
            mask: common::name(&c, "mask", "attention_mask")?,
        };
        w.unk = w.token(&c, "unk_token", "[UNK]", true)?;
        w.cls = w.token(&c, "cls_token", "[CLS]", special)?;
        w.sep = w.token(&c, "sep_token", "[SEP]", special)?;
        w.pad_id = w.token(&c, "pad_token", "[PAD]", pad)?;
        if w.ids == w.mask {
            return Err(Error::invalid_config("config: \"ids\" and \"mask\" must differ"));
        }
        Ok(w)
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
        let n = col.len();
        let mut out = OutBatch::from_input(input)?;
        let mut ids = Vec::new();
        if self.pad {
            let l = self.max_length;
            let mut all = Vec::new();
            let mut mask = Vec::new();
            all.try_reserve(n * l)?;
            mask.try_reserve(n * l)?;
            let mut valid = BitmapBuilder::with_capacity(n);
            let mut nulls = false;
            for i in 0..n {
                match text.get_str(i) {
                    None => {
                        all.extend(std::iter::repeat(0).take(l));
                        mask.extend(std::iter::repeat(0).take(l));
                        valid.push(false);
                        nulls = true;
                    }
                    Some(s) => {
                        self.tokenize(s, &mut ids);
                        all.extend_from_slice(&ids);
                        all.extend(std::iter::repeat(self.pad_id).take(l - ids.len()));
                        mask.extend(std::iter::repeat(1).take(ids.len()));
                        mask.extend(std::iter::repeat(0).take(l - ids.len()));
                        valid.push(true);
                    }
                }
            }
            let meta = format!("{{\"shape\":[{}]}}", l);
            for (name, values) in [(&self.ids, all), (&self.mask, mask)] {
                let v = if nulls { Some(valid.clone()) } else { None };
                let arr = Array::fixed_size_list(l, Field::new("item", Array::from_values(values)), v)?;
                out.push(
                    Field::new(name.clone(), arr)
                        .nullable(true)
                        .with_metadata(EXTENSION_NAME_KEY, FIXED_SHAPE_TENSOR)
                        .with_metadata(EXTENSION_METADATA_KEY, meta.clone()),
                )?;
            }
            return Ok(out);
        }
        let mut id_rows = Vec::with_capacity(n);
        let mut mask_rows = Vec::with_capacity(n);
        for i in 0..n {
            match text.get_str(i) {
                None => {
                    id_rows.push(None);
                    mask_rows.push(None);
                }
                Some(s) => {
                    self.tokenize(s, &mut ids);
                    mask_rows.push(Some(vec![1i32; ids.len()]));
                    id_rows.push(Some(ids.clone()));
                }
            }
        }
        out.push(common::list_field(&self.ids, id_rows)?)?;
        out.push(common::list_field(&self.mask, mask_rows)?)?;
        Ok(out)
    }
}

export_udf!(WordPiece);
