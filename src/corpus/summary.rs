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
    /// Scored documents with a date that names no month ([`month_of`]: `15/03/2024`, `2024-02-30`):
    /// they are in no per-month statistics.
    #[serde(default, skip_serializing_if = "crate::is_zero")]
    pub dates_without_month: u64,
    /// The first of those dates in byte order (so that merged shards agree with one run), cut to
    /// its first 80 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_without_month: Option<String>,
}

/// The most characters of [`Summary::date_without_month`].
const DATE_EXAMPLE_CHARS: usize = 80;

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
        if let Some(date) = date.map(str::trim).filter(|d| !d.is_empty()) {
            match month_of(date) {
                Some(month) => self.by_month.entry(month).or_default().add(doc),
                None => self.add_date_without_month(1, date),
            }
        }
        if let Some(source) = source.map(str::trim).filter(|s| !s.is_empty()) {
            self.by_source.entry(source.to_owned()).or_default().add(doc);
        }
    }

    fn add_date_without_month(&mut self, documents: u64, date: &str) {
        self.dates_without_month += documents;
        // An example, not a copy of whatever a date field holds: its first 80 characters.
        let date = match date.char_indices().nth(DATE_EXAMPLE_CHARS) {
            Some((end, _)) => &date[..end],
            None => date,
        };
        if self.date_without_month.as_deref().is_none_or(|first| date < first) {
            self.date_without_month = Some(date.to_owned());
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
        if let Some(date) = &other.date_without_month {
            self.add_date_without_month(other.dates_without_month, date);
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

/// The month (`YYYY-MM`) of a date, or `None` when it names none for certain:
///
/// - `YYYY-MM`, `YYYY/MM` or `YYYY.MM`, then the same separator and a day of that month, then
///   the end or a time (ISO 8601 and its common variants: `2024-03-15T10:00:00Z`, `2024/3/5`);
/// - `YYYYMMDD`, then the end or a time (ISO 8601's basic form);
/// - a month's English name (or its abbreviation) and a four-digit year, in any order and with
///   any day and time (`Mon, 02 Sep 2024 10:00:00 +0000` as RSS feeds write it, `March 3, 2024`,
///   `3 March 2024`, `Sept. 2024`).
///
/// All-number dates that do not start with the year (`15/03/2024`, `03/15/2024`) are `None`:
/// day and month cannot be told apart. So are dates with a day the month does not have and
/// dates followed by something that is no time.
///
/// ```
/// use stance::corpus::month_of;
/// assert_eq!(month_of("2024-03-15T10:00:00Z").as_deref(), Some("2024-03"));
/// assert_eq!(month_of("2024/3/5").as_deref(), Some("2024-03"));
/// assert_eq!(month_of("20240801").as_deref(), Some("2024-08"));
/// assert_eq!(month_of("Mon, 02 Sep 2024 10:00:00 +0000").as_deref(), Some("2024-09"));
/// assert_eq!(month_of("March 2024").as_deref(), Some("2024-03"));
/// assert_eq!(month_of("15/03/2024"), None);
/// assert_eq!(month_of("2024-13-01"), None);
/// assert_eq!(month_of("2024-02-30"), None);
/// ```
#[must_use]
pub fn month_of(date: &str) -> Option<String> {
    let date = date.trim();
    let (year, month) = numeric_month(date).or_else(|| named_month(date))?;
    Some(format!("{year:04}-{month:02}"))
}

/// (year, month) of `YYYY-MM[-DD]...` (or `/`, `.`) and `YYYYMMDD...`.
fn numeric_month(date: &str) -> Option<(u32, u32)> {
    let year = digits(date.get(..4)?)?;
    let rest = &date[4..];
    if let Some(compact) = rest.get(..4).and_then(digits) {
        let (month, day) = (compact / 100, compact % 100);
        return (is_day_of(year, month, day) && ends_date(&rest[4..])).then_some((year, month));
    }
    let separator = rest.chars().next().filter(|c| matches!(c, '-' | '/' | '.'))?;
    let (month, rest) = leading_number(&rest[1..])?;
    if !(1..=12).contains(&month) {
        return None;
    }
    let Some(day_part) = rest.strip_prefix(separator) else {
        return ends_date(rest).then_some((year, month));
    };
    let (day, rest) = leading_number(day_part)?;
    (is_day_of(year, month, day) && ends_date(rest)).then_some((year, month))
}

/// The value of `text` when it is all ASCII digits.
fn digits(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// A number of one or two digits at the start of `text`, and what follows it.
fn leading_number(text: &str) -> Option<(u32, &str)> {
    let len = text.bytes().take_while(u8::is_ascii_digit).count();
    if !matches!(len, 1 | 2) {
        return None;
    }
    Some((digits(&text[..len])?, &text[len..]))
}

/// What may follow a date: nothing, a time (`T10:00`, ` 10:00`) or UTC's `Z`; not another
/// date (`2024-03 to 2024-05` names no one month).
fn ends_date(rest: &str) -> bool {
    let time = rest
        .strip_prefix(['T', 't', ' '])
        .is_some_and(|time| time.starts_with(|c: char| c.is_ascii_digit()));
    rest.is_empty() || rest == "Z" || time
}

fn is_day_of(year: u32, month: u32, day: u32) -> bool {
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// (year, month) of a date with one English month name and one four-digit year (1800-2199).
fn named_month(date: &str) -> Option<(u32, u32)> {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let mut months = Vec::new();
    let mut years = Vec::new();
    for word in date
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let lower = word.to_ascii_lowercase();
        // The full name, or its first three or four letters ("Sep", "Sept").
        let abbreviation = (3..=4).contains(&lower.len());
        let named = MONTHS
            .iter()
            .position(|name| *name == lower || (abbreviation && name.starts_with(lower.as_str())));
        if let Some(index) = named {
            months.push(index as u32 + 1);
        } else if word.len() == 4 {
            years.extend(digits(word).filter(|y| (1800..=2199).contains(y)));
        }
    }
    match (months.as_slice(), years.as_slice()) {
        ([month], [year]) => Some((*year, *month)),
        _ => None,
    }
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
            (doc(&[("china", 0.5)]), Some("2024-02-30"), None),
            (doc(&[("us", 0.5)]), Some("15/03/2024"), None),
            (doc(&[("us", 0.5)]), Some("  "), None),
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
        // Dates that name no month are counted, a blank one is no date.
        assert_eq!(
            (whole.dates_without_month, whole.date_without_month.as_deref()),
            (2, Some("15/03/2024"))
        );
        assert_eq!(whole.by_source["A"].actors["china"].sentences(), 2);
        let back: Summary = serde_json::from_str(&serde_json::to_string(&whole).unwrap()).unwrap();
        assert_eq!(back, whole);
    }

    #[test]
    fn months_are_read_from_the_forms_dates_take_and_only_for_certain() {
        let cases = [
            ("2024-03-15T10:00:00Z", Some("2024-03")),
            ("2024-03-15 10:00", Some("2024-03")),
            ("2024.3", Some("2024-03")),
            ("2024-02-29", Some("2024-02")),
            ("20240801", Some("2024-08")),
            ("20240801T101500Z", Some("2024-08")),
            ("Mon, 02 Sep 2024 10:00:00 +0000", Some("2024-09")),
            ("March 3, 2024", Some("2024-03")),
            ("3 MARCH 2024", Some("2024-03")),
            ("Sept. 2024", Some("2024-09")),
            ("2023-02-29", None),
            ("2024-02x", None),
            ("2024-13-01", None),
            ("2024-03/15", None),
            ("2024-03-15Z", Some("2024-03")),
            ("2024-03 to 2024-05", None),
            ("2024-03-15 (approx.)", None),
            ("202401", None),
            ("15/03/2024", None),
            ("2024\u{2013}11-01", None),
            ("March 2024 to April 2024", None),
            ("Monday 2024", None),
            ("", None),
        ];
        for (date, month) in cases {
            assert_eq!(month_of(date).as_deref(), month, "{date:?}");
        }
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
