//! Evaluation on annotated data in the NewsMTSC format.
//!
//! One JSON object per line: `sentence_normalized` and `targets[]`, each target
//! with `from` / `to` (character offsets, `to` exclusive), `mention` and
//! `polarity` 2.0 / 4.0 / 6.0 = unfavorable / neutral / favorable;
//! `further_mentions` (same shape) are marked too, as in training.
//!
//! Optional identifiers are kept for per-pair output and article-level
//! aggregates: the row's `primary_gid` and `source_url`, and each target's
//! `Input.gid` and `actor`. Every other field is ignored.
//!
//! Two kinds of results: [`Metrics`] judge the label of each pair;
//! [`AggregateMetrics`] judge what a corpus study reads off the scores (mean
//! stance per actor, and per article and actor), where errors that cancel out
//! per pair can still add up to a bias.

use std::collections::BTreeMap;
use std::io::{BufRead, Read};
use std::path::Path;

use serde::{Deserialize, Deserializer, Serialize};

use crate::analyzer::{Analyzer, TargetedSentence};
use crate::context::{read_in_context, ContextKey};
use crate::error::{Error, Result};
use crate::score::{Label, Stance};
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
    /// 0-based position of the target in its row's `targets`.
    pub target_index: usize,
    /// The row's `primary_gid`, else the target's `Input.gid`, else `FILE:LINE`.
    pub sentence_id: String,
    /// The target's `actor` field, else its `mention`, else the text at its offsets.
    pub actor: String,
    /// The row's `source_url`, else its `primary_gid`; `None` when the row has neither.
    pub article: Option<String>,
}

#[derive(Deserialize)]
struct Row {
    sentence_normalized: String,
    targets: Vec<Target>,
    #[serde(default, deserialize_with = "identifier")]
    primary_gid: Option<String>,
    #[serde(default, deserialize_with = "identifier")]
    source_url: Option<String>,
    /// The sentence before in its article (opeds/natural.jsonl): read by a model
    /// that reads context, as it reads a document's previous sentence.
    #[serde(default)]
    context_before: Option<String>,
}

#[derive(Deserialize)]
struct Target {
    from: usize,
    to: usize,
    polarity: f64,
    #[serde(default)]
    further_mentions: Vec<FurtherMention>,
    #[serde(default, deserialize_with = "identifier")]
    actor: Option<String>,
    #[serde(default, deserialize_with = "identifier")]
    mention: Option<String>,
    #[serde(default, rename = "Input.gid", deserialize_with = "identifier")]
    input_gid: Option<String>,
}

#[derive(Deserialize)]
struct FurtherMention {
    from: usize,
    to: usize,
    #[serde(default, deserialize_with = "identifier")]
    mention: Option<String>,
}

/// An optional identifier or name: a string, or a number (some exports write
/// numeric ids). Blank strings count as absent, so that `"source_url": ""`
/// does not lump unrelated rows into one article.
fn identifier<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    use serde::de::Error as _;
    use serde_json::Value;
    // The raw text first: a number is a name here, kept as written (`1e2`, `1.50`, or two long
    // ids that a float would round into one), as `stance score` keeps numeric ids. Then a Value
    // rather than an untagged enum, whose error ("data did not match any variant of untagged
    // enum") would not say what was wrong.
    let raw = Box::<serde_json::value::RawValue>::deserialize(deserializer)?;
    let value: Value = serde_json::from_str(raw.get()).map_err(D::Error::custom)?;
    match value {
        Value::String(text) => Ok(Some(text.trim().to_string()).filter(|t| !t.is_empty())),
        Value::Number(_) => Ok(Some(raw.get().trim().to_owned())),
        Value::Null => Ok(None),
        other => {
            let kind = match other {
                Value::Bool(_) => "a boolean",
                Value::Array(_) => "an array",
                _ => "an object",
            };
            Err(D::Error::custom(format!(
                "an id, actor or mention must be a string or a number, not {kind}"
            )))
        }
    }
}

/// The pairs of a NewsMTSC-format file, and the rows that had none.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Dataset {
    /// One example per (row, target), in file order.
    pub examples: Vec<Example>,
    /// Rows whose `targets` is empty: read and counted, with no pair to score.
    pub sentences_without_targets: u64,
}

/// The longest line read: `stance score`'s default `--max-record-size`, far
/// above any annotated sentence, so that a file that is no JSON Lines (a
/// device such as `/dev/zero`) is an error rather than unbounded memory.
pub const MAX_LINE_BYTES: u64 = crate::corpus::input::DEFAULT_MAX_RECORD_BYTES;

/// Reads a NewsMTSC-format JSONL file.
///
/// # Errors
/// As [`parse_newsmtsc`]; [`Error::Io`] when the file cannot be opened or is a directory.
pub fn read_newsmtsc(path: &Path) -> Result<Dataset> {
    if path.is_dir() {
        let is_dir = std::io::Error::other("it is a directory: give a NewsMTSC-format JSON Lines file");
        return Err(Error::io(path, is_dir));
    }
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    parse_newsmtsc(std::io::BufReader::new(file), &path.display().to_string())
}

/// Parses NewsMTSC-format JSONL from a reader; `origin` names it in errors and
/// in the fallback sentence ids (`origin:line`). Blank lines are skipped and a
/// byte-order mark is ignored, as `stance score` reads JSON Lines.
///
/// # Errors
/// [`Error::Input`] naming `origin` and the line for a line that cannot be
/// read, is not UTF-8, is longer than [`MAX_LINE_BYTES`], is malformed JSON or not a row,
/// a bad polarity, a mention span that is empty, reversed, outside the
/// sentence or not on its mention, and a row with targets that repeats an
/// earlier one word for word; naming `origin` alone when there is no (sentence, target) pair to
/// evaluate.
///
/// # Example
/// ```
/// let line = concat!(
///     r#"{"source_url": "https://example.org/a", "sentence_normalized": "China helped.", "#,
///     r#""targets": [{"from": 0, "to": 5, "mention": "China", "polarity": 6.0}]}"#,
/// );
/// let examples = stance::eval::parse_newsmtsc(line.as_bytes(), "mine.jsonl")?.examples;
/// assert_eq!(examples[0].actor, "China");
/// assert_eq!(examples[0].sentence_id, "mine.jsonl:1");
/// assert_eq!(examples[0].article.as_deref(), Some("https://example.org/a"));
/// # Ok::<(), stance::Error>(())
/// ```
pub fn parse_newsmtsc(mut reader: impl BufRead, origin: &str) -> Result<Dataset> {
    let mut data = Dataset::default();
    let mut buf = Vec::new();
    // Each row with targets, by its text: a row given twice is refused.
    let mut rows_seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for number in 1.. {
        let Some(line) = next_line(&mut reader, &mut buf, origin, number)? else {
            break;
        };
        if line.trim().is_empty() {
            continue;
        }
        let row: Row =
            serde_json::from_str(line).map_err(|e| Error::input(origin, Some(number), row_error(&e, line)))?;
        if row.targets.is_empty() {
            data.sentences_without_targets += 1;
            continue;
        }
        if let Some(first) = rows_seen.insert(line.trim().to_string(), number) {
            return Err(Error::input(
                origin,
                Some(number),
                format!(
                    "the row repeats line {first} word for word: its pairs would be scored and counted twice \
                     (is the file, or part of it, in it twice?); remove one"
                ),
            ));
        }
        data.examples.extend(row_examples(&row, origin, number)?);
    }
    if data.examples.is_empty() {
        return Err(Error::input(
            origin,
            None,
            no_pairs_reason(data.sentences_without_targets),
        ));
    }
    Ok(data)
}

/// What is wrong with a line that is no row: its JSON, or, for valid JSON, what it holds.
fn row_error(error: &serde_json::Error, line: &str) -> String {
    use crate::corpus::input::{json_error, kind_of};
    if !error.is_data() {
        return json_error(error, line);
    }
    match serde_json::from_str::<serde_json::Value>(line) {
        Ok(value) if !value.is_object() => format!("expected a JSON object (a row), found {}", kind_of(&value)),
        _ => {
            let message = crate::corpus::input::json_message(error);
            format!("not a NewsMTSC-format row at column {}: {message}", error.column())
        }
    }
}

/// Why a file gives nothing to evaluate.
fn no_pairs_reason(sentences_without_targets: u64) -> String {
    match sentences_without_targets {
        0 => "no (sentence, target) pair to evaluate: the file holds no rows".to_string(),
        n => format!("no (sentence, target) pair to evaluate: all {n} row(s) have empty \"targets\""),
    }
}

/// Line `number` of `reader`, without its line ending or a byte-order mark;
/// `None` at the end of the input.
fn next_line<'b>(
    reader: &mut impl BufRead,
    buf: &'b mut Vec<u8>,
    origin: &str,
    number: usize,
) -> Result<Option<&'b str>> {
    let fail = |reason: String| Error::input(origin, Some(number), reason);
    buf.clear();
    // One byte past the limit tells a line too long; the rest of it is never
    // read, as the line ends the evaluation (and may never end: /dev/zero).
    let mut bounded = reader.by_ref().take(MAX_LINE_BYTES + 1);
    let limit = usize::try_from(MAX_LINE_BYTES).unwrap_or(usize::MAX);
    let (consumed, too_long) = crate::corpus::input::read_line_limited(&mut bounded, buf, limit)
        .map_err(|e| fail(format!("cannot read the line: {e}")))?;
    if consumed == 0 {
        return Ok(None);
    }
    if too_long {
        return Err(fail(format!(
            "the line is longer than {MAX_LINE_BYTES} bytes: is this a JSON Lines file?"
        )));
    }
    let line =
        std::str::from_utf8(buf).map_err(|e| fail(format!("invalid UTF-8 at byte {} of the line", e.valid_up_to())))?;
    Ok(Some(line.trim_start_matches('\u{feff}').trim_end_matches(['\n', '\r'])))
}

/// One example per target of a row with targets.
fn row_examples(row: &Row, origin: &str, line: usize) -> Result<Vec<Example>> {
    let spans_of = row
        .targets
        .iter()
        .enumerate()
        .map(|(index, target)| target_spans(&row.sentence_normalized, target, index))
        .collect::<std::result::Result<Vec<_>, String>>()
        .map_err(|reason| Error::input(origin, Some(line), reason))?;
    let mut examples = Vec::with_capacity(row.targets.len());
    for (target_index, target) in row.targets.iter().enumerate() {
        // A pair's other actors are the row's other annotated targets: the model
        // formats that mark them read them (as training/stance_format.py does).
        let others = spans_of
            .iter()
            .enumerate()
            .filter(|&(k, _)| k != target_index)
            .flat_map(|(_, spans)| spans.iter().copied())
            .collect();
        let spans = spans_of[target_index].clone();
        examples.push(example(row, target, target_index, (spans, others), origin, line)?);
    }
    Ok(examples)
}

fn example(
    row: &Row,
    target: &Target,
    target_index: usize,
    (spans, others): (Vec<Span>, Vec<Span>),
    origin: &str,
    line: usize,
) -> Result<Example> {
    let sentence = &row.sentence_normalized;
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
    let actor = match (&target.actor, &target.mention) {
        (Some(actor), _) => actor.clone(),
        (None, Some(mention)) => mention.clone(),
        // The first span is the target's own (`from`..`to`), checked above.
        (None, None) => spans.first().map(|s| s.slice(sentence).to_string()).unwrap_or_default(),
    };
    Ok(Example {
        target: TargetedSentence {
            text: sentence.clone(),
            spans,
            others,
            context: row.context_before.clone().unwrap_or_default(),
        },
        gold,
        line,
        target_index,
        sentence_id: row
            .primary_gid
            .clone()
            .or_else(|| target.input_gid.clone())
            .unwrap_or_else(|| format!("{origin}:{line}")),
        actor,
        article: row.source_url.clone().or_else(|| row.primary_gid.clone()),
    })
}

/// Byte spans of the `index`th target's own mention (`from`..`to`) and its
/// further mentions; an error names the target and the span at fault.
///
/// A span given with its `mention` must hold that text: offsets counted in
/// another unit (bytes, UTF-16 code units) or shifted by an edit of the
/// sentence would otherwise have the model mark other words than the
/// annotated ones, and the pair counted for an actor it is not about.
fn target_spans(sentence: &str, target: &Target, index: usize) -> std::result::Result<Vec<Span>, String> {
    let own = std::iter::once((
        format!("targets[{index}] from/to"),
        target.from,
        target.to,
        target.mention.as_deref(),
    ));
    let further = target.further_mentions.iter().enumerate().map(|(k, m)| {
        (
            format!("targets[{index}].further_mentions[{k}]"),
            m.from,
            m.to,
            m.mention.as_deref(),
        )
    });
    own.chain(further)
        .map(|(name, from, to, mention)| {
            let span = mention_span(sentence, from, to).map_err(|problem| format!("{name} {from}..{to} {problem}"))?;
            let text = span.slice(sentence);
            match mention {
                // Mentions are read trimmed, as identifiers are.
                Some(mention) if text.trim() != mention => Err(format!(
                    "{name} {from}..{to} holds {text:?}, not its mention {mention:?}: from/to must count \
                     characters (Unicode code points, as Python does) of sentence_normalized"
                )),
                _ => Ok(span),
            }
        })
        .collect()
}

/// Byte span of the characters `from..to` of `sentence`, or what is wrong with
/// them. An empty span is refused: the model would have nothing to mark.
fn mention_span(sentence: &str, from: usize, to: usize) -> std::result::Result<Span, String> {
    if from == to {
        return Err("is empty: a mention covers at least one character".into());
    }
    if from > to {
        return Err("is reversed: from must be below to".into());
    }
    let byte_at = |c: usize| {
        sentence
            .char_indices()
            .map(|(b, _)| b)
            .chain(std::iter::once(sentence.len()))
            .nth(c)
    };
    match (byte_at(from), byte_at(to)) {
        // The model would mark a gap between words: offsets shifted onto a
        // space, or a sentence of white space.
        (Some(start), Some(end)) if sentence[start..end].trim().is_empty() => {
            Err("holds only white space: a mention covers a word".into())
        }
        (Some(start), Some(end)) => Ok(Span::new(start, end)),
        _ => Err(format!(
            "is outside the sentence, which has {} characters",
            sentence.chars().count()
        )),
    }
}

/// Precision, recall, F1 and support of one label. A value is `None` (JSON
/// `null`) where it is undefined rather than 0: precision when the label was
/// never predicted, recall when it is never gold, F1 when it is neither.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassMetrics {
    /// Share of the pairs predicted with this label that have it as gold.
    pub precision: Option<f64>,
    /// Share of the gold pairs of this label that were predicted with it.
    pub recall: Option<f64>,
    /// Harmonic mean of precision and recall; 0 when the label occurs (as
    /// gold or predicted) but is never predicted right.
    pub f1: Option<f64>,
    /// Gold examples of this label.
    pub support: u64,
}

/// Classification metrics over three labels, as printed by `stance eval`.
///
/// The averages of F1 take the labels whose F1 is defined, those that occur
/// as gold or as a prediction, as scikit-learn's `f1_score` does when it is
/// not given a list of labels. With all three labels in the gold data (any
/// real evaluation set) they are plain means over the three, the numbers of
/// `training/metrics.py`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Examples evaluated.
    pub n: u64,
    /// Mean F1 over the labels that occur; `None` without examples.
    pub f1_macro: Option<f64>,
    /// Share of correct labels; `None` without examples.
    pub accuracy: Option<f64>,
    /// Mean F1 of the two polar labels (unfavorable, favorable) among those
    /// that occur; `None` when neither does.
    pub f1_pn: Option<f64>,
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
            f1_macro: mean_defined(per.iter().map(|c| c.f1)),
            accuracy: defined_ratio(correct, n),
            f1_pn: mean_defined([per[0].f1, per[2].f1]),
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
    let precision = defined_ratio(tp, predicted);
    let recall = defined_ratio(tp, support);
    let f1 = match (precision, recall) {
        // 2pr/(p+r) as training/metrics.py computes it, so that the two
        // agree to the last bit.
        (Some(p), Some(r)) if p + r > 0.0 => Some(2.0 * p * r / (p + r)),
        _ if predicted + support > 0 => Some(0.0),
        _ => None,
    };
    ClassMetrics {
        precision,
        recall,
        f1,
        support,
    }
}

/// `a / b`, undefined when `b` is 0.
fn defined_ratio(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

/// The mean of the defined values; `None` when none is.
fn mean_defined(values: impl IntoIterator<Item = Option<f64>>) -> Option<f64> {
    let defined: Vec<f64> = values.into_iter().flatten().collect();
    (!defined.is_empty()).then(|| defined.iter().sum::<f64>() / defined.len() as f64)
}

fn ratio(a: u64, b: u64) -> f64 {
    defined_ratio(a, b).unwrap_or(0.0)
}

/// The model's verdict on one annotated pair, next to the gold label: one
/// line of `stance eval --predictions`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// 1-based line of the pair's row in the input file.
    pub line: usize,
    /// The row's `primary_gid`, else the target's `Input.gid`, else `FILE:LINE`.
    pub sentence_id: String,
    /// 0-based position of the target in its row's `targets`.
    pub target_index: usize,
    /// The target's `actor` field, else its `mention`.
    pub actor: String,
    /// The row's `source_url`, else its `primary_gid`; `None` (JSON `null`) when absent.
    pub article: Option<String>,
    /// The annotated label.
    pub gold: Label,
    /// The model's most probable label.
    pub predicted: Label,
    /// Probability of an unfavorable portrayal.
    pub p_unfavorable: f32,
    /// Probability of a neutral portrayal.
    pub p_neutral: f32,
    /// Probability of a favorable portrayal.
    pub p_favorable: f32,
    /// `p_favorable - p_unfavorable`, as in [`Stance::score`].
    pub score: f32,
}

impl Prediction {
    /// Pairs an example with the model's stance on it.
    #[must_use]
    pub fn new(example: &Example, stance: &Stance) -> Self {
        Prediction {
            line: example.line,
            sentence_id: example.sentence_id.clone(),
            target_index: example.target_index,
            actor: example.actor.clone(),
            article: example.article.clone(),
            gold: example.gold,
            predicted: stance.label,
            p_unfavorable: stance.p_unfavorable,
            p_neutral: stance.p_neutral,
            p_favorable: stance.p_favorable,
            score: stance.score,
        }
    }

    /// The gold label on the scale of [`Prediction::score`]: -1 unfavorable, 0
    /// neutral, +1 favorable, so that gold and predicted means compare directly.
    #[must_use]
    pub fn gold_score(&self) -> f64 {
        label_score(self.gold)
    }

    /// Whether gold and prediction are opposite polar labels (unfavorable vs favorable).
    #[must_use]
    pub fn is_opposite_polarity(&self) -> bool {
        matches!(
            (self.gold, self.predicted),
            (Label::Unfavorable, Label::Favorable) | (Label::Favorable, Label::Unfavorable)
        )
    }
}

fn label_score(label: Label) -> f64 {
    match label {
        Label::Unfavorable => -1.0,
        Label::Neutral => 0.0,
        Label::Favorable => 1.0,
    }
}

/// Gold and predicted mean score of one actor over all its pairs.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActorAggregate {
    /// Pairs with this actor.
    pub n: u64,
    /// Mean gold score (-1 / 0 / +1 per pair).
    pub gold_mean: f64,
    /// Mean predicted score (`p_favorable - p_unfavorable` per pair).
    pub predicted_mean: f64,
    /// `predicted_mean - gold_mean`: the model's bias for this actor, in score units.
    pub difference: f64,
    /// Articles among this actor's pairs; a pair without an article counts as one.
    pub articles: u64,
    /// 95% confidence interval of `difference`, clustered by article (a bias
    /// the interval does not separate from 0 is within the noise of the
    /// articles sampled); `None` with fewer than two articles.
    pub difference_ci95: Option<(f64, f64)>,
}

/// Agreement of gold and predicted mean scores per (article, actor) group.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupCorrelation {
    /// (article, actor) groups with at least [`AggregateMetrics::MIN_GROUP_PAIRS`] pairs.
    pub groups: u64,
    /// Pearson correlation between the groups' gold and predicted mean scores;
    /// `None` with fewer than 3 groups or when either side has zero variance.
    pub r: Option<f64>,
}

/// What a corpus study reads off the scores, gold against predicted: the
/// `aggregate` object of `stance eval`.
///
/// # Example
/// ```
/// use stance::eval::{AggregateMetrics, Prediction};
/// use stance::Label;
///
/// let pair = |article: &str, gold, score: f32, predicted| Prediction {
///     line: 1,
///     sentence_id: "s".into(),
///     target_index: 0,
///     actor: "china".into(),
///     article: Some(article.into()),
///     gold,
///     predicted,
///     p_unfavorable: (1.0 - score) / 2.0,
///     p_neutral: 0.0,
///     p_favorable: (1.0 + score) / 2.0,
///     score,
/// };
/// let predictions = [
///     pair("a", Label::Favorable, 0.5, Label::Favorable),
///     pair("a", Label::Unfavorable, 0.5, Label::Favorable),
/// ];
/// let aggregate = AggregateMetrics::compute(&predictions);
/// assert_eq!(aggregate.opposite_polarity_rate, 0.5);
/// assert_eq!(aggregate.per_actor["china"].gold_mean, 0.0);
/// assert_eq!(aggregate.article_actor_pearson.groups, 0); // 2 pairs < 3
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AggregateMetrics {
    /// Share of all pairs whose gold and predicted labels are opposite polar
    /// labels (unfavorable vs favorable): the errors that flip a reading. 0 when there are no
    /// pairs (`stance eval` refuses data with none).
    pub opposite_polarity_rate: f64,
    /// Per actor key (the target's `actor`, else its `mention`), sorted.
    pub per_actor: BTreeMap<String, ActorAggregate>,
    /// Correlation of gold and predicted mean scores over (article, actor)
    /// groups; pairs without an article are left out of it.
    pub article_actor_pearson: GroupCorrelation,
}

impl AggregateMetrics {
    /// Smallest (article, actor) group that enters the correlation: a mean of
    /// one or two pairs is mostly the noise of those pairs.
    pub const MIN_GROUP_PAIRS: u64 = 3;

    /// Computes the aggregates of `predictions` (all of them; the article
    /// correlation uses those that have an article).
    #[must_use]
    pub fn compute(predictions: &[Prediction]) -> Self {
        let opposite = predictions.iter().filter(|p| p.is_opposite_polarity()).count();

        let mut actors: BTreeMap<&str, Sums> = BTreeMap::new();
        let mut groups: BTreeMap<(&str, &str), Sums> = BTreeMap::new();
        // Each actor's pairs by article, for the clustered interval; a pair
        // without an article is a cluster of its own (keyed by its index).
        let mut clusters: BTreeMap<&str, BTreeMap<Cluster, Sums>> = BTreeMap::new();
        for (index, p) in predictions.iter().enumerate() {
            actors.entry(&p.actor).or_default().add(p);
            let cluster = match &p.article {
                Some(article) => {
                    groups.entry((article, &p.actor)).or_default().add(p);
                    Cluster::Article(article)
                }
                None => Cluster::Pair(index),
            };
            clusters.entry(&p.actor).or_default().entry(cluster).or_default().add(p);
        }

        let per_actor = actors
            .into_iter()
            .map(|(actor, sums)| {
                let (gold_mean, predicted_mean) = sums.means();
                let difference = predicted_mean - gold_mean;
                let articles = &clusters[actor];
                let half_width = difference_half_width(articles.values(), difference, sums.n);
                let aggregate = ActorAggregate {
                    n: sums.n,
                    gold_mean,
                    predicted_mean,
                    difference,
                    articles: articles.len() as u64,
                    difference_ci95: half_width.map(|h| (difference - h, difference + h)),
                };
                (actor.to_string(), aggregate)
            })
            .collect();

        let means: Vec<(f64, f64)> = groups
            .values()
            .filter(|sums| sums.n >= Self::MIN_GROUP_PAIRS)
            .map(Sums::means)
            .collect();

        AggregateMetrics {
            opposite_polarity_rate: ratio(opposite as u64, predictions.len() as u64),
            per_actor,
            article_actor_pearson: GroupCorrelation {
                groups: means.len() as u64,
                r: pearson(&means),
            },
        }
    }
}

/// Running sums of gold and predicted scores for one actor or group.
#[derive(Default)]
struct Sums {
    n: u64,
    gold: f64,
    predicted: f64,
}

impl Sums {
    fn add(&mut self, p: &Prediction) {
        self.n += 1;
        self.gold += p.gold_score();
        self.predicted += f64::from(p.score);
    }

    /// (gold mean, predicted mean); only called on non-empty sums.
    fn means(&self) -> (f64, f64) {
        let n = self.n.max(1) as f64;
        (self.gold / n, self.predicted / n)
    }
}

/// The unit of the clustered interval: an article, or a pair without one.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Cluster<'a> {
    Article(&'a str),
    Pair(usize),
}

/// Half width of the 95% interval of the mean difference `predicted - gold`
/// over `n` pairs grouped in `clusters`: the cluster-robust variance of a ratio
/// mean (as for corpus means, see `ActorStats::ci95`), since one article's
/// errors go together. `None` with fewer than two clusters.
fn difference_half_width<'s>(clusters: impl ExactSizeIterator<Item = &'s Sums>, mean: f64, n: u64) -> Option<f64> {
    let count = clusters.len() as u64;
    if count < 2 {
        return None;
    }
    let residual: f64 = clusters
        .map(|c| (c.predicted - c.gold) - mean * c.n as f64)
        .map(|r| r * r)
        .sum();
    Some(crate::aggregate::clustered_half_width(residual, count, n as f64))
}

/// Pearson correlation of the pairs; `None` for fewer than three points or a
/// constant side, where it is undefined (or, with two points, always ±1).
fn pearson(points: &[(f64, f64)]) -> Option<f64> {
    if points.len() < 3 {
        return None;
    }
    // Zero variance is tested on the values themselves: the sums of squares of
    // equal means can come out as tiny non-zero numbers after rounding.
    let constant = |side: fn(&(f64, f64)) -> f64| points.iter().all(|p| side(p) == side(&points[0]));
    if constant(|p| p.0) || constant(|p| p.1) {
        return None;
    }
    let n = points.len() as f64;
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in points {
        let (dx, dy) = (x - mean_x, y - mean_y);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    let r = sxy / (sxx * syy).sqrt();
    // Rounding can push a perfect correlation a hair past ±1.
    r.is_finite().then(|| r.clamp(-1.0, 1.0))
}

/// How well the model tells apart the actors of one sentence: the `attribution`
/// object of `stance eval`.
///
/// Its dominant error is giving a sentence's overall tone to whichever actor is
/// marked. That shows on *contrast sentences*, those whose annotated actors do
/// not all share one gold label: a model that reads only the tone predicts the
/// same label for all of them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AttributionMetrics {
    /// Input rows with two or more pairs whose gold labels differ.
    pub contrast_sentences: u64,
    /// The pairs of those rows.
    pub contrast_pairs: u64,
    /// Accuracy over the contrast pairs (`None`, null in JSON, without contrast sentences:
    /// data with one actor per sentence has none, and 0 would read as every pair wrong).
    pub contrast_accuracy: Option<f64>,
    /// Share of contrast sentences whose actors all got one predicted label.
    pub uniform_prediction_rate: Option<f64>,
    /// Share of contrast sentences whose actors were all predicted neutral: the
    /// uniform predictions that miss the polar actor rather than spread the
    /// sentence's tone to the others (`uniform_prediction_rate` counts both).
    #[serde(default)]
    pub uniform_neutral_rate: Option<f64>,
}

impl AttributionMetrics {
    /// Computes the metrics; a sentence is an input row (the predictions' `line`).
    #[must_use]
    pub fn compute(predictions: &[Prediction]) -> Self {
        let mut rows: BTreeMap<usize, Vec<&Prediction>> = BTreeMap::new();
        for p in predictions {
            rows.entry(p.line).or_default().push(p);
        }
        let mut m = AttributionMetrics::default();
        let (mut correct, mut uniform, mut all_neutral) = (0u64, 0u64, 0u64);
        for pairs in rows.values() {
            if pairs.iter().all(|p| p.gold == pairs[0].gold) {
                continue;
            }
            m.contrast_sentences += 1;
            m.contrast_pairs += pairs.len() as u64;
            correct += pairs.iter().filter(|p| p.gold == p.predicted).count() as u64;
            uniform += u64::from(pairs.iter().all(|p| p.predicted == pairs[0].predicted));
            all_neutral += u64::from(pairs.iter().all(|p| p.predicted == Label::Neutral));
        }
        m.contrast_accuracy = defined_ratio(correct, m.contrast_pairs);
        m.uniform_prediction_rate = defined_ratio(uniform, m.contrast_sentences);
        m.uniform_neutral_rate = defined_ratio(all_neutral, m.contrast_sentences);
        m
    }
}

/// The result of `stance eval`: the per-pair [`Metrics`] (flattened into the
/// same JSON object) and, when the data identifies articles, [`AggregateMetrics`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Label metrics over all pairs.
    #[serde(flatten)]
    pub metrics: Metrics,
    /// Score aggregates; `None` (JSON `null`) when no pair has an article
    /// (`source_url` or `primary_gid`), as the article correlation is then empty.
    pub aggregate: Option<AggregateMetrics>,
    /// Target attribution within sentences of several actors.
    pub attribution: AttributionMetrics,
}

impl Evaluation {
    /// Computes the metrics, and the aggregates if any prediction has an article.
    #[must_use]
    pub fn from_predictions(predictions: &[Prediction]) -> Self {
        Evaluation {
            metrics: Metrics::compute(predictions.iter().map(|p| (p.gold, p.predicted))),
            aggregate: predictions
                .iter()
                .any(|p| p.article.is_some())
                .then(|| AggregateMetrics::compute(predictions)),
            attribution: AttributionMetrics::compute(predictions),
        }
    }
}

/// Scores every example with `analyzer`: one [`Prediction`] per example, in order.
///
/// Examples of one article are read as the library reads a document: each
/// pair's stance takes in the article's other sentences about the same actor
/// ([`crate::context`], with the analyzer's weight). Examples without an
/// article are read alone.
///
/// # Errors
/// Tokenizer or inference failures.
pub fn predict(analyzer: &Analyzer, examples: &[Example]) -> Result<Vec<Prediction>> {
    let targets: Vec<TargetedSentence> = examples.iter().map(|e| e.target.clone()).collect();
    let mut stances = analyzer.score_targets(&targets)?;
    let keys: Vec<_> = examples
        .iter()
        .map(|e| {
            e.article.as_ref().map(|article| ContextKey {
                group: (article, &e.actor),
                sentence: e.line,
            })
        })
        .collect();
    read_in_context(&mut stances, &keys, analyzer.info().document_context);
    Ok(examples
        .iter()
        .zip(&stances)
        .map(|(example, stance)| Prediction::new(example, stance))
        .collect())
}

/// Scores every example with `analyzer` and computes the metrics.
///
/// # Errors
/// Tokenizer or inference failures.
pub fn evaluate(analyzer: &Analyzer, examples: &[Example]) -> Result<Metrics> {
    let predictions = predict(analyzer, examples)?;
    Ok(Metrics::compute(predictions.iter().map(|p| (p.gold, p.predicted))))
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
        assert_eq!(m.accuracy, Some(0.6));
        // unfavorable: p = 1/2, r = 1/2; neutral: p = 1/2, r = 1; favorable: p = 1, r = 1/2
        let pr = [(0.5, 0.5), (0.5, 1.0), (1.0, 0.5)];
        // Bit for bit the numbers of training/metrics.py: 2pr/(p+r), plain means over three.
        let f1 = pr.map(|(p, r): (f64, f64)| 2.0 * p * r / (p + r));
        assert_eq!(m.f1_macro, Some((f1[0] + f1[1] + f1[2]) / 3.0));
        assert_eq!(m.f1_pn, Some((f1[0] + f1[2]) / 2.0));
        assert_eq!(m.per_class["neutral"].f1, Some(f1[1]));
        assert_eq!(m.confusion[2], [1, 0, 1]);
    }

    #[test]
    fn undefined_metrics_are_none_and_left_out_of_the_averages() {
        use Label::*;
        // One neutral pair: the polar labels occur neither as gold nor predicted.
        let one = Metrics::compute([(Neutral, Neutral)]);
        assert_eq!((one.accuracy, one.f1_macro, one.f1_pn), (Some(1.0), Some(1.0), None));
        let favorable = one.per_class["favorable"];
        assert_eq!(
            (favorable.precision, favorable.recall, favorable.f1),
            (None, None, None)
        );
        // Never predicted: no precision, yet an F1 of 0 that counts; predicted but never
        // gold: no recall, an F1 of 0 that counts.
        let m = Metrics::compute([(Unfavorable, Neutral), (Neutral, Neutral), (Neutral, Favorable)]);
        let unfavorable = m.per_class["unfavorable"];
        assert_eq!(
            (unfavorable.precision, unfavorable.recall, unfavorable.f1),
            (None, Some(0.0), Some(0.0))
        );
        let favorable = m.per_class["favorable"];
        assert_eq!(
            (favorable.precision, favorable.recall, favorable.f1),
            (Some(0.0), None, Some(0.0))
        );
        let neutral_f1 = m.per_class["neutral"].f1.unwrap();
        assert_eq!(m.f1_macro, Some(neutral_f1 / 3.0));
        assert_eq!(m.f1_pn, Some(0.0));
        let empty = Metrics::compute([]);
        assert_eq!((empty.n, empty.accuracy, empty.f1_macro), (0, None, None));
        let json = serde_json::to_value(&one).unwrap();
        assert_eq!(json["per_class"]["unfavorable"]["recall"], serde_json::Value::Null);
        assert_eq!(json["f1_pn"], serde_json::Value::Null);
    }

    #[test]
    fn char_offsets_become_byte_offsets() {
        let line = r#"{"sentence_normalized": "Über China", "targets": [{"from": 5, "to": 10, "mention": "China", "polarity": 6.0}]}"#;
        let ex = parse_newsmtsc(line.as_bytes(), "t").unwrap().examples;
        assert_eq!(ex[0].target.spans[0].slice(&ex[0].target.text), "China");
        assert_eq!(ex[0].gold, Label::Favorable);
    }

    #[test]
    fn the_sentence_before_is_read_when_the_row_has_one() {
        let text = concat!(
            r#"{"sentence_normalized": "China", "context_before": "Talks failed.", "#,
            r#""targets": [{"from": 0, "to": 5, "polarity": 4.0}]}"#,
            "\n",
            r#"{"sentence_normalized": "India", "context_before": null, "#,
            r#""targets": [{"from": 0, "to": 5, "polarity": 4.0}]}"#,
        );
        let examples = parse_newsmtsc(text.as_bytes(), "t").unwrap().examples;
        let contexts: Vec<&str> = examples.iter().map(|e| e.target.context.as_str()).collect();
        assert_eq!(contexts, ["Talks failed.", ""]);
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

    /// The error of parsing `text` as the file d.jsonl.
    fn parse_error(text: &str) -> String {
        parse_newsmtsc(text.as_bytes(), "d.jsonl").unwrap_err().to_string()
    }

    #[test]
    fn empty_spans_are_refused_with_file_line_and_target() {
        let empty = r#"{"sentence_normalized": "China rose.", "targets": [{"from": 3, "to": 3, "polarity": 4.0}]}"#;
        let err = parse_error(empty);
        assert!(
            err.starts_with("d.jsonl, line 1: targets[0] from/to 3..3 is empty"),
            "{err}"
        );
        // A further mention does not make up for an empty span of the target's own.
        let with_further = concat!(
            r#"{"sentence_normalized": "China rose.", "targets": [{"from": 3, "to": 3, "polarity": 4.0, "#,
            r#""further_mentions": [{"from": 0, "to": 5}]}]}"#,
        );
        assert!(parse_error(with_further).contains("targets[0] from/to 3..3 is empty"));
        let empty_further = concat!(
            r#"{"sentence_normalized": "China rose.", "targets": [{"from": 0, "to": 5, "polarity": 4.0, "#,
            r#""further_mentions": [{"from": 6, "to": 6}]}]}"#,
        );
        assert!(parse_error(empty_further).contains("targets[0].further_mentions[0] 6..6 is empty"));
    }

    #[test]
    fn a_span_that_does_not_hold_its_mention_is_refused() {
        // Offsets of "India" given as "China"'s: the model would mark China and the
        // pair would count for India.
        let shifted = r#"{"sentence_normalized": "China helped India.", "targets": [{"from": 0, "to": 5, "mention": "India", "polarity": 6.0}]}"#;
        let err = parse_error(shifted);
        assert!(
            err.starts_with(r#"d.jsonl, line 1: targets[0] from/to 0..5 holds "China", not its mention "India""#),
            "{err}"
        );
        // UTF-16 offsets (as JavaScript counts) past an emoji are one character off.
        let utf16 = r#"{"sentence_normalized": "🙂 China rose.", "targets": [{"from": 0, "to": 5, "mention": "China", "polarity": 4.0, "further_mentions": []}, {"from": 3, "to": 8, "mention": "China", "polarity": 4.0}]}"#;
        assert!(parse_error(utf16).contains("targets[0] from/to 0..5 holds \"🙂 Chi\""));
        let further = concat!(
            r#"{"sentence_normalized": "China and China", "targets": [{"from": 0, "to": 5, "mention": "China", "#,
            r#""polarity": 4.0, "further_mentions": [{"from": 9, "to": 14, "mention": "China"}]}]}"#,
        );
        assert!(parse_error(further).contains(r#"targets[0].further_mentions[0] 9..14 holds " Chin""#));
        // Right offsets are read, with or without a mention, and a mention is compared trimmed.
        let right = concat!(
            r#"{"sentence_normalized": "🙂 China and China", "targets": [{"from": 2, "to": 7, "mention": " China ", "#,
            r#""polarity": 4.0, "further_mentions": [{"from": 12, "to": 17, "mention": "China"}, {"from": 2, "to": 7}]}]}"#,
        );
        assert_eq!(parse_newsmtsc(right.as_bytes(), "d.jsonl").unwrap().examples.len(), 1);
    }

    #[test]
    fn malformed_json_is_placed_by_column_not_by_a_line_of_its_own() {
        let text = concat!(
            r#"{"sentence_normalized": "a", "targets": []}"#,
            "\n",
            r#"{"sentence_normalized": "China", "targets": [{"from": 0, "to": 5}]}"#,
        );
        let err = parse_error(text);
        // serde_json counts the line it was given as line 1; the file's line is 2.
        assert_eq!(
            err,
            "d.jsonl, line 2: not a NewsMTSC-format row at column 65: missing field `polarity`"
        );
        assert_eq!(
            parse_error(r#"["China"]"#),
            "d.jsonl, line 1: expected a JSON object (a row), found an array"
        );
        assert!(parse_error(r#"{"sentence_normalized": "#).contains("malformed JSON at column"));
        // The value is quoted whole, even when it holds the words serde_json ends its message with.
        let words =
            r#"{"sentence_normalized": "China", "targets": [{"from": 0, "to": 5, "polarity": "x at line 9 y"}]}"#;
        assert!(
            parse_error(words).contains(r#""x at line 9 y""#),
            "{}",
            parse_error(words)
        );
        let surrogate =
            r#"{"sentence_normalized": "China \udc9f", "targets": [{"from": 0, "to": 5, "polarity": 4.0}]}"#;
        assert!(parse_error(surrogate).contains("is half of a UTF-16 surrogate pair"));
    }

    #[test]
    fn a_directory_is_named_as_one() {
        let dir = tempfile::tempdir().unwrap();
        let error = read_newsmtsc(dir.path()).unwrap_err().to_string();
        assert!(error.contains("it is a directory"), "{error}");
    }

    #[test]
    fn an_identifier_of_another_type_is_named_by_its_type() {
        let boolean = r#"{"source_url": true, "sentence_normalized": "China", "targets": [{"from": 0, "to": 5, "polarity": 4.0}]}"#;
        assert_eq!(
            parse_error(boolean),
            "d.jsonl, line 1: not a NewsMTSC-format row at column 19: an id, actor or mention must be a string or a number, not a boolean"
        );
        let array = r#"{"sentence_normalized": "China", "targets": [{"from": 0, "to": 5, "polarity": 4.0, "actor": ["China"]}]}"#;
        assert!(parse_error(array).contains("must be a string or a number, not an array"));
        let object =
            r#"{"sentence_normalized": "China", "targets": [{"from": 0, "to": 5, "polarity": 4.0, "mention": {}}]}"#;
        assert!(parse_error(object).contains("not an object"));
        let null = r#"{"primary_gid": null, "sentence_normalized": "China", "targets": [{"from": 0, "to": 5, "polarity": 4.0}]}"#;
        assert_eq!(
            parse_newsmtsc(null.as_bytes(), "d.jsonl").unwrap().examples[0].sentence_id,
            "d.jsonl:1"
        );
    }

    #[test]
    fn a_row_given_twice_is_refused_naming_both_lines() {
        let row = r#"{"primary_gid": "p1", "sentence_normalized": "China", "targets": [{"from": 0, "to": 5, "polarity": 4.0}]}"#;
        let empty = r#"{"sentence_normalized": "Nothing.", "targets": []}"#;
        // As `cat dev.jsonl dev.jsonl` gives it, with CRLF on one copy.
        let twice = format!("{row}\n{empty}\n{empty}\n{row}\r\n");
        assert_eq!(
            parse_error(&twice),
            "d.jsonl, line 4: the row repeats line 1 word for word: its pairs would be scored and counted twice \
             (is the file, or part of it, in it twice?); remove one"
        );
        // The same sentence with other annotations (another target, another id) is another row.
        let other = row.replace("\"p1\"", "\"p2\"");
        let data = parse_newsmtsc(format!("{row}\n{other}\n").as_bytes(), "d.jsonl").unwrap();
        assert_eq!(data.examples.len(), 2);
    }

    #[test]
    fn a_span_of_white_space_is_refused() {
        let space = r#"{"sentence_normalized": "China helped.", "targets": [{"from": 5, "to": 6, "polarity": 4.0}]}"#;
        assert_eq!(
            parse_error(space),
            "d.jsonl, line 1: targets[0] from/to 5..6 holds only white space: a mention covers a word"
        );
        let blank = r#"{"sentence_normalized": "   ", "targets": [{"from": 0, "to": 2, "polarity": 4.0}]}"#;
        assert!(parse_error(blank).contains("targets[0] from/to 0..2 holds only white space"));
    }

    #[test]
    fn a_further_mention_outside_the_sentence_is_the_one_named() {
        let text = concat!(
            r#"{"sentence_normalized": "China rose.", "targets": [{"from": 0, "to": 5, "polarity": 4.0}, "#,
            r#"{"from": 6, "to": 10, "polarity": 4.0, "further_mentions": [{"from": 0, "to": 5}, {"from": 40, "to": 45}]}]}"#,
        );
        let err = parse_error(text);
        assert!(
            err.contains("targets[1].further_mentions[1] 40..45 is outside the sentence, which has 11 characters"),
            "{err}"
        );
        assert!(!err.contains("0..5"), "{err}");
    }

    #[test]
    fn rows_without_targets_are_counted_and_a_file_without_pairs_is_an_error() {
        let text = concat!(
            r#"{"sentence_normalized": "Nothing here.", "targets": []}"#,
            "\n\n",
            r#"{"sentence_normalized": "China", "targets": [{"from": 0, "to": 5, "polarity": 4.0}]}"#,
        );
        let data = parse_newsmtsc(text.as_bytes(), "d.jsonl").unwrap();
        assert_eq!((data.examples.len(), data.sentences_without_targets), (1, 1));
        assert_eq!(data.examples[0].line, 3);
        assert_eq!(
            parse_error(""),
            "d.jsonl: no (sentence, target) pair to evaluate: the file holds no rows"
        );
        let no_targets = "{\"sentence_normalized\": \"a\", \"targets\": []}\n".repeat(2);
        assert!(parse_error(&no_targets).contains("all 2 row(s) have empty \"targets\""));
    }

    #[test]
    fn a_byte_order_mark_is_read_as_score_reads_it() {
        let text = "\u{feff}{\"sentence_normalized\": \"China\", \"targets\": [{\"from\": 0, \"to\": 5, \"polarity\": 4.0}]}\r\n";
        let data = parse_newsmtsc(text.as_bytes(), "d.jsonl").unwrap();
        assert_eq!(data.examples[0].actor, "China");
    }

    #[test]
    fn invalid_utf8_and_endless_lines_are_errors_naming_the_line() {
        let invalid = b"{\"sentence_normalized\": \"China\", \"targets\": []}\n{\"x\": \"\xff\"}\n";
        let err = parse_newsmtsc(&invalid[..], "d.jsonl").unwrap_err().to_string();
        assert!(err.starts_with("d.jsonl, line 2: invalid UTF-8"), "{err}");
        // A line that never ends (a device such as /dev/zero) is read only to the limit.
        let endless = std::io::BufReader::new(std::io::repeat(b' '));
        let err = parse_newsmtsc(endless, "/dev/zero").unwrap_err().to_string();
        assert!(err.starts_with("/dev/zero, line 1: the line is longer than"), "{err}");
    }

    #[test]
    fn identifiers_actor_and_article_fall_back_in_order() {
        let text = concat!(
            r#"{"primary_gid": "p1", "source_url": "https://x.org/1", "sentence_normalized": "China and India", "#,
            r#""extra": {"ignored": true}, "targets": ["#,
            r#"{"Input.gid": "g1", "from": 0, "to": 5, "mention": "China", "actor": "china", "polarity": 6.0, "x": 1},"#,
            r#"{"Input.gid": "g2", "from": 10, "to": 15, "mention": "India", "polarity": 2.0}]}"#,
            "\n\n",
            r#"{"primary_gid": 42, "source_url": 123456789012345678901234, "sentence_normalized": "Delhi", "targets": [{"from": 0, "to": 5, "actor": 1.50, "polarity": 4.0}]}"#,
            "\n",
            r#"{"source_url": " ", "sentence_normalized": "Beijing", "targets": [{"Input.gid": "g4", "from": 0, "to": 7, "polarity": 4.0}]}"#,
            "\n",
            r#"{"sentence_normalized": "Moscow", "targets": [{"from": 0, "to": 6, "mention": "Moscow", "polarity": 4.0}]}"#,
        );
        let ex = parse_newsmtsc(text.as_bytes(), "d.jsonl").unwrap().examples;
        let got: Vec<_> = ex
            .iter()
            .map(|e| {
                (
                    e.line,
                    e.target_index,
                    e.sentence_id.as_str(),
                    e.actor.as_str(),
                    e.article.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (1, 0, "p1", "china", Some("https://x.org/1")),
                (1, 1, "p1", "India", Some("https://x.org/1")),
                // Line 2 is blank: lines count as in the file.
                // Numbers stay as written: a float would round this long id, and read 1.50 as 1.5.
                (3, 0, "42", "1.50", Some("123456789012345678901234")),
                // A blank source_url is no article; no mention: the text at the offsets.
                (4, 0, "g4", "Beijing", None),
                (5, 0, "d.jsonl:5", "Moscow", None),
            ]
        );
    }

    fn pair(article: Option<&str>, actor: &str, gold: Label, score: f32, predicted: Label) -> Prediction {
        Prediction {
            line: 1,
            sentence_id: "s".into(),
            target_index: 0,
            actor: actor.into(),
            article: article.map(str::to_string),
            gold,
            predicted,
            p_unfavorable: (1.0 - score) / 2.0,
            p_neutral: 0.0,
            p_favorable: (1.0 + score) / 2.0,
            score,
        }
    }

    /// Four (article, actor) groups, one of only two pairs, and one pair without an article.
    fn hand_set() -> Vec<Prediction> {
        use Label::*;
        let a = Some("a1");
        let b = Some("a2");
        vec![
            // (a1, china): gold mean 2/3, predicted mean 0.3
            pair(a, "china", Favorable, 0.5, Favorable),
            pair(a, "china", Favorable, 0.3, Favorable),
            pair(a, "china", Neutral, 0.1, Neutral),
            // (a1, us): gold mean -1, predicted mean -0.4
            pair(a, "us", Unfavorable, -0.6, Unfavorable),
            pair(a, "us", Unfavorable, -0.2, Neutral),
            pair(a, "us", Unfavorable, -0.4, Unfavorable),
            // (a2, china): gold mean 0, predicted mean 0.1
            pair(b, "china", Neutral, 0.1, Neutral),
            pair(b, "china", Neutral, -0.1, Neutral),
            pair(b, "china", Neutral, 0.3, Neutral),
            // (a2, us): two pairs, below the group minimum; both opposite polarity
            pair(b, "us", Favorable, -0.9, Unfavorable),
            pair(b, "us", Favorable, -0.9, Unfavorable),
            // no article; opposite polarity
            pair(None, "india", Unfavorable, 0.7, Favorable),
        ]
    }

    fn close(a: f64, b: f64) -> bool {
        // Scores are f32: allow their rounding.
        (a - b).abs() < 1e-6
    }

    #[test]
    fn opposite_polarity_counts_all_pairs() {
        let agg = AggregateMetrics::compute(&hand_set());
        // 3 of 12 pairs: the two (a2, us) pairs and the india pair.
        assert!(close(agg.opposite_polarity_rate, 3.0 / 12.0), "{agg:?}");
    }

    #[test]
    fn per_actor_means_match_hand_computation() {
        let agg = AggregateMetrics::compute(&hand_set());
        assert_eq!(agg.per_actor.keys().collect::<Vec<_>>(), ["china", "india", "us"]);
        let china = agg.per_actor["china"];
        assert_eq!(china.n, 6);
        assert!(close(china.gold_mean, 2.0 / 6.0), "{china:?}");
        assert!(close(china.predicted_mean, 1.2 / 6.0), "{china:?}");
        assert!(close(china.difference, 1.2 / 6.0 - 2.0 / 6.0), "{china:?}");
        let us = agg.per_actor["us"];
        assert_eq!(us.n, 5);
        assert!(close(us.gold_mean, -1.0 / 5.0), "{us:?}");
        assert!(close(us.predicted_mean, -3.0 / 5.0), "{us:?}");
        assert!(close(us.difference, -0.4), "{us:?}");
        let india = agg.per_actor["india"];
        assert_eq!(india.n, 1);
        assert!(close(india.difference, 1.7), "{india:?}");
    }

    #[test]
    fn bias_interval_is_clustered_by_article() {
        let agg = AggregateMetrics::compute(&hand_set());
        // china: per article predicted - gold sums -1.1 (a1) and 0.3 (a2), 3 pairs each; mean -0.8/6.
        // Residuals -0.7 and 0.7: variance 2/1 * 0.98 / 36, t with 1 df 12.706.
        let china = agg.per_actor["china"];
        assert_eq!(china.articles, 2);
        let (low, high) = china.difference_ci95.unwrap();
        let half = 12.706 * (2.0 * 0.98 / 36.0f64).sqrt();
        assert!(
            close(low, china.difference - half) && close(high, china.difference + half),
            "{china:?}"
        );
        // us: sums 1.8 (3 pairs) and -3.8 (2 pairs), mean -0.4; residuals 3.0 and -3.0.
        let us = agg.per_actor["us"];
        let (low, high) = us.difference_ci95.unwrap();
        assert!(
            close(high - low, 2.0 * 12.706 * (2.0 * 18.0 / 25.0f64).sqrt()),
            "{us:?}"
        );
        // india: one pair, so one cluster and no interval.
        assert_eq!(
            (agg.per_actor["india"].articles, agg.per_actor["india"].difference_ci95),
            (1, None)
        );
    }

    #[test]
    fn pairs_without_an_article_are_clusters_of_their_own() {
        use Label::*;
        // The same six errors: spread over six lone pairs they average out; in two articles
        // whose errors go together (all +0.5, all -0.3) they do not, and the interval widens.
        let scores = [0.5f32, 0.5, 0.5, -0.3, -0.3, -0.3];
        let lone: Vec<Prediction> = scores.iter().map(|&s| pair(None, "us", Neutral, s, Neutral)).collect();
        let articles: Vec<Prediction> = scores
            .iter()
            .zip(["a", "a", "a", "b", "b", "b"])
            .map(|(&s, art)| pair(Some(art), "us", Neutral, s, Neutral))
            .collect();
        let width = |predictions: &[Prediction]| {
            let us = AggregateMetrics::compute(predictions).per_actor["us"];
            let (low, high) = us.difference_ci95.unwrap();
            (us.articles, high - low)
        };
        let (lone_clusters, lone_width) = width(&lone);
        let (article_clusters, article_width) = width(&articles);
        assert_eq!((lone_clusters, article_clusters), (6, 2));
        assert!(article_width > 5.0 * lone_width, "{article_width} vs {lone_width}");
    }

    #[test]
    fn pearson_uses_groups_of_three_or_more_pairs() {
        let agg = AggregateMetrics::compute(&hand_set());
        assert_eq!(agg.article_actor_pearson.groups, 3);
        // x = gold means (2/3, -1, 0), y = predicted means (0.3, -0.4, 0.1):
        // dx = (7, -8, 1)/9, dy = (0.3, -0.4, 0.1), sxy = 5.4/9, sxx = 114/81, syy = 0.26,
        // r = 5.4 / sqrt(114 * 0.26).
        let r = agg.article_actor_pearson.r.unwrap();
        assert!(close(r, 5.4 / (114.0f64 * 0.26).sqrt()), "r = {r}");
        // With the two-pair group (gold 1, predicted -0.9) it would be far lower.
        let all: Vec<(f64, f64)> = vec![(2.0 / 3.0, 0.3), (-1.0, -0.4), (0.0, 0.1), (1.0, -0.9)];
        assert!(pearson(&all).unwrap() < 0.0);
    }

    #[test]
    fn pearson_is_none_when_undefined() {
        use Label::*;
        assert_eq!(pearson(&[(0.0, 1.0), (1.0, 2.0)]), None);
        assert_eq!(pearson(&[(1.0, 0.1), (1.0, 0.2), (1.0, 0.3)]), None);
        assert_eq!(pearson(&[(0.1, 1.0), (0.2, 1.0), (0.3, 1.0)]), None);
        assert!(close(pearson(&[(0.0, 1.0), (1.0, 3.0), (2.0, 5.0)]).unwrap(), 1.0));
        // Two groups of three pairs: counted, but too few for r.
        let two: Vec<Prediction> = ["a", "a", "a", "b", "b", "b"]
            .iter()
            .zip([1.0f32, 0.5, 0.0, -1.0, -0.5, 0.0])
            .map(|(art, score)| pair(Some(art), "china", Neutral, score, Neutral))
            .collect();
        let agg = AggregateMetrics::compute(&two);
        assert_eq!(agg.article_actor_pearson, GroupCorrelation { groups: 2, r: None });
    }

    #[test]
    fn evaluation_has_aggregates_only_with_articles_and_keeps_the_metric_fields() {
        let set = hand_set();
        let with = Evaluation::from_predictions(&set);
        assert_eq!(with.metrics.n, 12);
        assert!(with.aggregate.is_some());
        let json = serde_json::to_value(&with).unwrap();
        for key in [
            "n",
            "f1_macro",
            "accuracy",
            "f1_pn",
            "per_class",
            "confusion",
            "aggregate",
        ] {
            assert!(json.get(key).is_some(), "missing {key}: {json}");
        }
        let back: Evaluation = serde_json::from_value(json).unwrap();
        assert_eq!(back, with);

        let no_articles: Vec<Prediction> = set.into_iter().filter(|p| p.article.is_none()).collect();
        let without = Evaluation::from_predictions(&no_articles);
        assert_eq!(without.aggregate, None);
        assert_eq!(
            serde_json::to_value(&without).unwrap()["aggregate"],
            serde_json::Value::Null
        );
    }

    #[test]
    fn prediction_copies_the_stance() {
        let ex = parse_newsmtsc(
            r#"{"source_url": "u", "sentence_normalized": "China", "targets": [{"from": 0, "to": 5, "polarity": 2.0}]}"#
                .as_bytes(),
            "t",
        )
        .unwrap()
        .examples;
        let stance = Stance::from_probabilities([0.2, 0.3, 0.5]);
        let p = Prediction::new(&ex[0], &stance);
        assert_eq!((p.gold, p.predicted), (Label::Unfavorable, Label::Favorable));
        assert!(p.is_opposite_polarity());
        assert_eq!(p.score, stance.score);
        assert_eq!(p.gold_score(), -1.0);
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["gold"], "unfavorable");
        assert_eq!(json["article"], "u");
    }

    #[test]
    fn attribution_counts_contrast_sentences_and_uniform_predictions() {
        use Label::{Favorable as F, Neutral as N, Unfavorable as U};
        let on_line = |line, gold, predicted| Prediction {
            line,
            ..pair(None, "x", gold, 0.0, predicted)
        };
        let predictions = [
            // line 1: a contrast sentence read as one tone (the error the metric is for)
            on_line(1, U, U),
            on_line(1, N, U),
            // line 2: a contrast sentence told apart
            on_line(2, F, F),
            on_line(2, N, N),
            on_line(2, N, U),
            // line 3: several actors with one gold label; line 4: one actor: neither counts
            on_line(3, N, U),
            on_line(3, N, N),
            on_line(4, U, F),
            // line 5: a contrast sentence whose polar actor was missed
            on_line(5, F, N),
            on_line(5, N, N),
        ];
        let m = AttributionMetrics::compute(&predictions);
        assert_eq!((m.contrast_sentences, m.contrast_pairs), (3, 7));
        let rate = |r: Option<f64>| r.unwrap_or(f64::NAN);
        assert!(close(rate(m.contrast_accuracy), 4.0 / 7.0), "{m:?}");
        assert!(close(rate(m.uniform_prediction_rate), 2.0 / 3.0), "{m:?}");
        assert!(close(rate(m.uniform_neutral_rate), 1.0 / 3.0), "{m:?}");
        // Without contrast sentences the rates are undefined, not 0.
        let none = AttributionMetrics::compute(&predictions[5..7]);
        assert_eq!(none.contrast_sentences, 0);
        assert_eq!((none.contrast_accuracy, none.uniform_prediction_rate), (None, None));
        assert_eq!(AttributionMetrics::compute(&[]), AttributionMetrics::default());
    }
}
