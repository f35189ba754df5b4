//! `topk`: the k largest scores of each row, with their indices and labels.
//!
//! Input: a float32 list, or a float32 tensor row (all its elements,
//! row-major). Output, after every input column: `topk_indices`
//! (list<int32>), `topk_scores` (list<float32>) and, when labels are
//! configured, `topk_labels` (list<utf8>; an index past the labels gets
//! ""). Scores are sorted in decreasing order; ties keep the lower index
//! first; NaN ranks below every number and is never returned. A row with
//! fewer than k numbers returns them all; a null row gives nulls.
//!
//! Config: `column` ("scores"), `k` (5, 1 to 100000), `labels` (none),
//! `min_score` (none: scores below it are dropped), output names
//! `indices` ("topk_indices"), `scores` ("topk_scores"), `labels_output`
//! ("topk_labels").

#[path = "../../rust/common.rs"]
mod common;

use common::Vectors;
use wasinfer_sdk::{export_udf, Batch, Config, Error, OutBatch, Udf};

struct TopK {
    column: String,
    k: usize,
    labels: Option<Vec<String>>,
    min_score: Option<f32>,
    indices: String,
    scores: String,
    labels_output: String,
}

impl Udf for TopK {
    const DESCRIPTION: &'static str = r#"{"name":"topk","version":"1.0.0","language":"rust"}"#;

    fn init(config: &str) -> Result<Self, Error> {
        let c = Config::parse(config)?;
        c.check_keys(&["column", "k", "labels", "min_score", "indices", "scores", "labels_output"])?;
        let min_score = match c.number("min_score")? {
            None => None,
            Some(v) => Some(v as f32),
        };
        Ok(TopK {
            column: common::name(&c, "column", "scores")?,
            k: common::int_in(&c, "k", 5, 1, 100_000)? as usize,
            labels: common::strings(&c, "labels")?,
            min_score,
            indices: common::name(&c, "indices", "topk_indices")?,
            scores: common::name(&c, "scores", "topk_scores")?,
            labels_output: common::name(&c, "labels_output", "topk_labels")?,
        })
    }

    fn transform<'a>(&mut self, input: &Batch<'a>) -> Result<OutBatch<'a>, Error> {
        let v = Vectors::read(input.require(&self.column)?)?;
        let mut idx_rows = Vec::with_capacity(v.len());
        let mut score_rows = Vec::with_capacity(v.len());
        let mut label_rows = Vec::with_capacity(v.len());
        let mut order: Vec<u32> = Vec::new();
        for r in 0..v.len() {
            if v.is_null(r) {
                idx_rows.push(None);
                score_rows.push(None);
                label_rows.push(None);
                continue;
            }
            let row = v.row(r);
            order.clear();
            order.extend((0..row.len() as u32).filter(|&i| {
                let x = row[i as usize];
                !x.is_nan() && self.min_score.map_or(true, |m| x >= m)
            }));
            // Decreasing score, then increasing index: a total order.
            let cmp = |a: &u32, b: &u32| {
                let (x, y) = (row[*a as usize], row[*b as usize]);
                y.partial_cmp(&x).unwrap().then(a.cmp(b))
            };
            if order.len() > self.k {
                order.select_nth_unstable_by(self.k - 1, cmp);
                order.truncate(self.k);
            }
            order.sort_unstable_by(cmp);
            idx_rows.push(Some(order.iter().map(|&i| i as i32).collect::<Vec<i32>>()));
            score_rows.push(Some(order.iter().map(|&i| row[i as usize]).collect::<Vec<f32>>()));
            if let Some(labels) = &self.labels {
                label_rows.push(Some(
                    order.iter().map(|&i| labels.get(i as usize).cloned().unwrap_or_default()).collect(),
                ));
            }
        }
        let mut out = OutBatch::from_input(input)?;
        out.push(common::list_field(&self.indices, idx_rows)?)?;
        out.push(common::list_field(&self.scores, score_rows)?)?;
        if self.labels.is_some() {
            out.push(common::list_utf8_field(&self.labels_output, label_rows)?)?;
        }
        Ok(out)
    }
}

export_udf!(TopK);
