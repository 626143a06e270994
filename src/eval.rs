//! Evaluation on annotated data in the NewsMTSC format.
//!
//! One JSON object per line: `sentence_normalized` and `targets[]`, each target
//! with `from` / `to` (character offsets, `to` exclusive), `mention` and
//! `polarity` 2.0 / 4.0 / 6.0 = unfavorable / neutral / favorable;
//! `further_mentions` (same shape) are marked too, as in training.

use std::io::BufRead;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::analyzer::{Analyzer, TargetedSentence};
use crate::error::{Error, Result};
use crate::score::Label;
use crate::segment::Span;

/// One annotated (sentence, target) pair.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Example {
    /// The sentence and the target's mention spans.
    pub target: TargetedSentence,
    /// The gold label.
    pub gold: Label,
    /// 1-based line in the source file.
    pub line: usize,
}

#[derive(Deserialize)]
struct Row {
    sentence_normalized: String,
    targets: Vec<Target>,
}

#[derive(Deserialize)]
struct Target {
    from: usize,
    to: usize,
    polarity: f64,
    #[serde(default)]
    further_mentions: Vec<FurtherMention>,
}

#[derive(Deserialize)]
struct FurtherMention {
    from: usize,
    to: usize,
}

/// Reads a NewsMTSC-format JSONL file into examples.
///
/// # Errors
/// [`Error::Input`] naming the file and line for malformed JSON, a bad polarity
/// or offsets outside the sentence; [`Error::Io`] when the file cannot be read.
pub fn read_newsmtsc(path: &Path) -> Result<Vec<Example>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    parse_newsmtsc(std::io::BufReader::new(file), &path.display().to_string())
}

/// Parses NewsMTSC-format JSONL from a reader; `origin` names it in errors.
///
/// # Errors
/// As [`read_newsmtsc`].
pub fn parse_newsmtsc(reader: impl BufRead, origin: &str) -> Result<Vec<Example>> {
    let mut examples = Vec::new();
    for (index, line) in reader.lines().enumerate() {
        let number = index + 1;
        let line = line.map_err(|e| Error::input(origin, Some(number), format!("cannot read line: {e}")))?;
        if line.trim().is_empty() {
            continue;
        }
        let row: Row = serde_json::from_str(&line)
            .map_err(|e| Error::input(origin, Some(number), format!("malformed JSON: {e}")))?;
        for target in row.targets {
            examples.push(example(&row.sentence_normalized, &target, origin, number)?);
        }
    }
    Ok(examples)
}

fn example(sentence: &str, target: &Target, origin: &str, line: usize) -> Result<Example> {
    let gold = match target.polarity {
        p if (p - 2.0).abs() < 1e-9 => Label::Unfavorable,
        p if (p - 4.0).abs() < 1e-9 => Label::Neutral,
        p if (p - 6.0).abs() < 1e-9 => Label::Favorable,
        p => {
            return Err(Error::input(
                origin,
                Some(line),
                format!("polarity {p} is not 2.0, 4.0 or 6.0"),
            ))
        }
    };
    let chars = std::iter::once((target.from, target.to)).chain(target.further_mentions.iter().map(|m| (m.from, m.to)));
    let spans = chars
        .map(|(from, to)| char_span_to_bytes(sentence, from, to))
        .collect::<Option<Vec<Span>>>()
        .ok_or_else(|| {
            Error::input(
                origin,
                Some(line),
                format!("target offsets {}..{} are outside the sentence", target.from, target.to),
            )
        })?;
    Ok(Example {
        target: TargetedSentence {
            text: sentence.to_string(),
            spans,
        },
        gold,
        line,
    })
}

/// Byte span of the characters `from..to`; `None` if out of range or reversed.
fn char_span_to_bytes(text: &str, from: usize, to: usize) -> Option<Span> {
    if from > to {
        return None;
    }
    let byte_at = |c: usize| {
        text.char_indices()
            .map(|(b, _)| b)
            .chain(std::iter::once(text.len()))
            .nth(c)
    };
    Some(Span::new(byte_at(from)?, byte_at(to)?))
}

/// Precision, recall, F1 and support of one label.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassMetrics {
    /// Precision.
    pub precision: f64,
    /// Recall.
    pub recall: f64,
    /// F1.
    pub f1: f64,
    /// Gold examples of this label.
    pub support: u64,
}

/// Classification metrics over three labels, as printed by `stance eval`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Examples evaluated.
    pub n: u64,
    /// Mean F1 over the three labels.
    pub f1_macro: f64,
    /// Share of correct labels.
    pub accuracy: f64,
    /// Mean F1 of the two polar labels (unfavorable, favorable).
    pub f1_pn: f64,
    /// Per label: precision, recall, F1, support.
    pub per_class: std::collections::BTreeMap<String, ClassMetrics>,
    /// Confusion matrix, rows = gold, columns = predicted, in unfavorable / neutral / favorable order.
    pub confusion: [[u64; 3]; 3],
}

impl Metrics {
    /// Computes metrics from (gold, predicted) pairs.
    #[must_use]
    pub fn compute(pairs: impl IntoIterator<Item = (Label, Label)>) -> Self {
        let mut confusion = [[0u64; 3]; 3];
        for (gold, predicted) in pairs {
            confusion[gold.index()][predicted.index()] += 1;
        }
        let n: u64 = confusion.iter().flatten().sum();
        let correct: u64 = (0..3).map(|i| confusion[i][i]).sum();
        let per: Vec<ClassMetrics> = (0..3).map(|i| class_metrics(&confusion, i)).collect();
        Metrics {
            n,
            f1_macro: per.iter().map(|c| c.f1).sum::<f64>() / 3.0,
            accuracy: ratio(correct, n),
            f1_pn: (per[0].f1 + per[2].f1) / 2.0,
            per_class: Label::ALL
                .iter()
                .map(|l| (l.as_str().to_string(), per[l.index()]))
                .collect(),
            confusion,
        }
    }
}

fn class_metrics(confusion: &[[u64; 3]; 3], i: usize) -> ClassMetrics {
    let tp = confusion[i][i];
    let predicted: u64 = (0..3).map(|g| confusion[g][i]).sum();
    let support: u64 = confusion[i].iter().sum();
    let precision = ratio(tp, predicted);
    let recall = ratio(tp, support);
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    ClassMetrics {
        precision,
        recall,
        f1,
        support,
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// Scores every example with `analyzer` and computes the metrics.
///
/// # Errors
/// Tokenizer or inference failures.
pub fn evaluate(analyzer: &Analyzer, examples: &[Example]) -> Result<Metrics> {
    let targets: Vec<TargetedSentence> = examples.iter().map(|e| e.target.clone()).collect();
    let stances = analyzer.score_targets(&targets)?;
    Ok(Metrics::compute(
        examples.iter().zip(stances).map(|(e, s)| (e.gold, s.label)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_match_hand_computation() {
        use Label::*;
        let pairs = [
            (Unfavorable, Unfavorable),
            (Unfavorable, Neutral),
            (Neutral, Neutral),
            (Favorable, Favorable),
            (Favorable, Unfavorable),
        ];
        let m = Metrics::compute(pairs);
        assert_eq!(m.n, 5);
        assert!((m.accuracy - 0.6).abs() < 1e-12);
        // unfavorable: p = 1/2, r = 1/2; neutral: p = 1/2, r = 1; favorable: p = 1, r = 1/2
        let f1 = [0.5, 2.0 / 3.0, 2.0 / 3.0];
        assert!((m.f1_macro - f1.iter().sum::<f64>() / 3.0).abs() < 1e-12);
        assert!((m.f1_pn - (f1[0] + f1[2]) / 2.0).abs() < 1e-12);
        assert_eq!(m.confusion[2], [1, 0, 1]);
    }

    #[test]
    fn char_offsets_become_byte_offsets() {
        let line = r#"{"sentence_normalized": "Über China", "targets": [{"from": 5, "to": 10, "mention": "China", "polarity": 6.0}]}"#;
        let ex = parse_newsmtsc(line.as_bytes(), "t").unwrap();
        assert_eq!(ex[0].target.spans[0].slice(&ex[0].target.text), "China");
        assert_eq!(ex[0].gold, Label::Favorable);
    }

    #[test]
    fn malformed_line_is_reported_with_its_number() {
        let text = "{\"sentence_normalized\": \"a\", \"targets\": []}\n{oops\n";
        let err = parse_newsmtsc(text.as_bytes(), "data.jsonl").unwrap_err().to_string();
        assert!(err.contains("data.jsonl") && err.contains("line 2"), "{err}");
    }

    #[test]
    fn bad_polarity_and_offsets_are_errors() {
        let bad_pol = r#"{"sentence_normalized": "China", "targets": [{"from": 0, "to": 5, "polarity": 5.0}]}"#;
        assert!(parse_newsmtsc(bad_pol.as_bytes(), "t").is_err());
        let bad_span = r#"{"sentence_normalized": "China", "targets": [{"from": 0, "to": 50, "polarity": 4.0}]}"#;
        assert!(parse_newsmtsc(bad_span.as_bytes(), "t").is_err());
    }
}
