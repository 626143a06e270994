//! Per-actor statistics of a corpus: overall, per month and per source.
//!
//! Everything here is built from [`ActorStats`], whose sums are exact
//! integers, so [`Summary::merge`] is exact and order-independent: shards
//! merged in any order give the summary, byte for byte, of one run over the
//! whole corpus.

use std::collections::BTreeMap;
use std::io::Write;

use serde::{Deserialize, Serialize};

use crate::actor::ActorSet;
use crate::aggregate::ActorStats;
use crate::analyzer::DocumentStances;
use crate::error::{Error, Result};

use super::output::csv_text;

/// Statistics of the documents of one month or one source.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Slice {
    /// Documents scored.
    pub documents: u64,
    /// Sentences in them.
    pub sentences: u64,
    /// Per actor id, for the actors mentioned in them.
    pub actors: BTreeMap<String, ActorStats>,
}

impl Slice {
    fn add(&mut self, doc: &DocumentStances) {
        self.documents += 1;
        self.sentences += doc.sentences as u64;
        merge_actors(&mut self.actors, &doc.actors);
    }

    fn merge(&mut self, other: &Slice) {
        self.documents += other.documents;
        self.sentences += other.sentences;
        merge_actors(&mut self.actors, &other.actors);
    }
}

fn merge_actors(into: &mut BTreeMap<String, ActorStats>, from: &BTreeMap<String, ActorStats>) {
    for (id, stats) in from {
        into.entry(id.clone()).or_default().merge(stats);
    }
}

/// The statistics of a run (or of merged runs): what `summary.json` holds.
///
/// ```
/// use stance::corpus::Summary;
/// use stance::ActorSet;
/// let mut whole = Summary::new(&ActorSet::default());
/// let mut shard = Summary::new(&ActorSet::default());
/// shard.add_failure();
/// whole.merge(&shard);
/// assert_eq!(whole.failed, 1);
/// assert!(whole.actors.contains_key("india"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Summary {
    /// Documents scored.
    pub documents: u64,
    /// Documents not scored (each is listed in `errors.jsonl`).
    pub failed: u64,
    /// Sentences in the scored documents.
    pub sentences: u64,
    /// Scored (sentence, actor) pairs: the rows of `sentences.jsonl`.
    pub pairs: u64,
    /// Per actor id, every actor of the run (mentioned or not).
    pub actors: BTreeMap<String, ActorStats>,
    /// Per month (`YYYY-MM`, from documents whose date starts that way), then per actor.
    #[serde(default)]
    pub by_month: BTreeMap<String, Slice>,
    /// Per source, then per actor.
    #[serde(default)]
    pub by_source: BTreeMap<String, Slice>,
}

impl Summary {
    /// An empty summary listing every actor of `actors`.
    #[must_use]
    pub fn new(actors: &ActorSet) -> Summary {
        Summary {
            actors: actors
                .actors()
                .iter()
                .map(|a| (a.id.clone(), ActorStats::default()))
                .collect(),
            ..Summary::default()
        }
    }

    /// Adds a scored document, with its date and source when known.
    pub fn add(&mut self, doc: &DocumentStances, date: Option<&str>, source: Option<&str>) {
        self.documents += 1;
        self.sentences += doc.sentences as u64;
        self.pairs += doc.stances.len() as u64;
        merge_actors(&mut self.actors, &doc.actors);
        if let Some(month) = date.and_then(month_of) {
            self.by_month.entry(month).or_default().add(doc);
        }
        if let Some(source) = source.map(str::trim).filter(|s| !s.is_empty()) {
            self.by_source.entry(source.to_owned()).or_default().add(doc);
        }
    }

    /// Counts a document that could not be scored.
    pub fn add_failure(&mut self) {
        self.failed += 1;
    }

    /// Adds another summary (another shard's). Exact and order-independent.
    pub fn merge(&mut self, other: &Summary) {
        self.documents += other.documents;
        self.failed += other.failed;
        self.sentences += other.sentences;
        self.pairs += other.pairs;
        merge_actors(&mut self.actors, &other.actors);
        for (month, slice) in &other.by_month {
            self.by_month.entry(month.clone()).or_default().merge(slice);
        }
        for (source, slice) in &other.by_source {
            self.by_source.entry(source.clone()).or_default().merge(slice);
        }
    }

    /// Writes `summary.csv`: one row per (scope, key, actor), scope being
    /// `all` (empty key), `month` (key `YYYY-MM`) or `source`. Sources and
    /// actor ids are written as [`csv_text`](super::csv_text), so that no cell
    /// is a formula to a spreadsheet.
    ///
    /// # Errors
    /// [`Error::Io`] (naming `origin`) when writing fails.
    pub fn write_csv(&self, out: impl Write, origin: &str) -> Result<()> {
        let mut csv = csv::Writer::from_writer(out);
        let fail = |e: csv::Error| Error::io(origin, std::io::Error::other(e));
        csv.write_record(SUMMARY_CSV_HEADER).map_err(fail)?;
        let all = std::iter::once(("all", "", &self.actors));
        let months = self.by_month.iter().map(|(k, s)| ("month", k.as_str(), &s.actors));
        let sources = self.by_source.iter().map(|(k, s)| ("source", k.as_str(), &s.actors));
        for (scope, key, actors) in all.chain(months).chain(sources) {
            for (actor, stats) in actors {
                csv.write_record(stats_row(scope, key, actor, stats)).map_err(fail)?;
            }
        }
        csv.flush().map_err(|e| Error::io(origin, e))
    }
}

/// Columns of `summary.csv`.
pub const SUMMARY_CSV_HEADER: [&str; 16] = [
    "scope",
    "key",
    "actor",
    "sentences",
    "documents",
    "mentions",
    "mean",
    "std",
    "ci95_low",
    "ci95_high",
    "unfavorable",
    "neutral",
    "favorable",
    "share_unfavorable",
    "share_neutral",
    "share_favorable",
];

fn stats_row(scope: &str, key: &str, actor: &str, s: &ActorStats) -> Vec<String> {
    let (low, high) = s.ci95();
    let [unfav, neutral, fav] = s.label_counts();
    let shares = s.label_shares();
    let mut row = vec![scope.to_owned(), csv_text(key), csv_text(actor)];
    row.extend([s.sentences(), s.documents(), s.mentions()].map(|n| n.to_string()));
    // Undefined figures are empty cells (read as missing, NaN in pandas or R),
    // never 0: an actor no sentence mentions has no mean or shares, and one
    // sentence gives no spread or interval (a zero-width one would read as certain).
    let defined = |x: f64, has_value: bool| if has_value { x.to_string() } else { String::new() };
    row.push(defined(s.mean(), s.has_mean()));
    row.extend([s.std_dev(), low, high].map(|x| defined(x, s.has_spread())));
    row.extend([unfav, neutral, fav].map(|n| n.to_string()));
    row.extend(shares.map(|x| defined(x, s.has_mean())));
    row
}

/// The month (`YYYY-MM`) of a date written `YYYY-MM...`, `YYYY/MM...` or
/// `YYYY.MM...` (ISO 8601 and its common variants); `None` otherwise.
///
/// ```
/// use stance::corpus::month_of;
/// assert_eq!(month_of("2024-03-15T10:00:00Z").as_deref(), Some("2024-03"));
/// assert_eq!(month_of("2024/3/5").as_deref(), Some("2024-03"));
/// assert_eq!(month_of("March 2024"), None);
/// assert_eq!(month_of("2024-13-01"), None);
/// ```
#[must_use]
pub fn month_of(date: &str) -> Option<String> {
    let date = date.trim();
    let year = date.get(..4).filter(|y| y.bytes().all(|b| b.is_ascii_digit()))?;
    let rest = date.get(4..)?;
    let rest = rest.strip_prefix(['-', '/', '.'])?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).take(3).collect();
    let month: u32 = match digits.len() {
        1 | 2 => digits.parse().ok()?,
        _ => return None,
    };
    (1..=12).contains(&month).then(|| format!("{year}-{month:02}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::Stance;

    fn doc(scores: &[(&str, f32)]) -> DocumentStances {
        let mut actors: BTreeMap<String, ActorStats> = BTreeMap::new();
        for (actor, score) in scores {
            let p = (1.0 + score) / 2.0;
            actors
                .entry((*actor).to_owned())
                .or_default()
                .add(&Stance::from_probabilities([1.0 - p, 0.0, p]), 1);
        }
        DocumentStances {
            id: "d".into(),
            sentences: 3,
            stances: Vec::new(),
            actors,
        }
    }

    #[test]
    fn merge_of_parts_equals_the_whole_in_any_order() {
        let docs = [
            (doc(&[("us", 0.5), ("china", -0.25)]), Some("2024-01-02"), Some("A")),
            (doc(&[("us", -1.0)]), Some("2024-02"), None),
            (doc(&[("india", 0.125), ("us", 0.75)]), None, Some("B")),
            (doc(&[("china", 1.0)]), Some("2024/01/30"), Some("A")),
        ];
        let actors = ActorSet::default();
        let mut whole = Summary::new(&actors);
        docs.iter().for_each(|(d, date, src)| whole.add(d, *date, *src));
        whole.add_failure();
        let mut parts = [Summary::new(&actors), Summary::new(&actors)];
        for (i, (d, date, src)) in docs.iter().enumerate() {
            parts[i % 2].add(d, *date, *src);
        }
        parts[1].add_failure();
        let mut merged = Summary::new(&actors);
        merged.merge(&parts[1]);
        merged.merge(&parts[0]);
        assert_eq!(merged, whole);
        assert_eq!(
            serde_json::to_string(&merged).unwrap(),
            serde_json::to_string(&whole).unwrap()
        );
        assert_eq!(whole.by_month["2024-01"].documents, 2);
        assert_eq!(whole.by_source["A"].actors["china"].sentences(), 2);
        let back: Summary = serde_json::from_str(&serde_json::to_string(&whole).unwrap()).unwrap();
        assert_eq!(back, whole);
    }

    #[test]
    fn csv_has_a_row_per_scope_key_and_actor() {
        let mut s = Summary::new(&ActorSet::default());
        s.add(&doc(&[("us", 0.5)]), Some("2024-01"), Some("A, Inc."));
        let mut out = Vec::new();
        s.write_csv(&mut out, "summary.csv").unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count(), 1 + 3 + 1 + 1, "{text}");
        assert!(text.contains("source,\"A, Inc.\",us,1,1,1,0.5"), "{text}");
    }

    #[test]
    fn csv_cells_without_a_value_are_empty_not_zero() {
        let mut s = Summary::new(&ActorSet::default());
        s.add(&doc(&[("us", 0.5)]), None, None);
        s.add(&doc(&[("china", 0.5), ("china", -0.25)]), None, None);
        let mut out = Vec::new();
        s.write_csv(&mut out, "summary.csv").unwrap();
        let text = String::from_utf8(out).unwrap();
        let row = |actor: &str| {
            let start = format!("all,,{actor},");
            let line = text.lines().find(|l| l.starts_with(&start)).unwrap();
            line.split(',').skip(3).map(str::to_string).collect::<Vec<_>>()
        };
        // sentences, documents, mentions, mean, std, ci95_low, ci95_high, counts, shares
        assert_eq!(row("india"), ["0", "0", "0", "", "", "", "", "0", "0", "0", "", "", ""]);
        assert_eq!(row("us")[3..7], ["0.5", "", "", ""]);
        assert_eq!(row("us")[10..], ["0", "0", "1"]);
        let china = row("china");
        assert!(china[3..7].iter().all(|cell| !cell.is_empty()), "{china:?}");
    }
}
