//! Per-actor statistics that merge exactly.
//!
//! Scores are accumulated as fixed-point integers (score x 2^32, and its
//! square), so sums are exact and independent of order: a rayon fold/reduce,
//! a sequential loop and a merge of shard outputs give bit-identical results.
//! Mean, standard deviation and the confidence interval are derived from the
//! exact sums only when read. The quantisation step (2^-32) is far below an
//! `f32` score's own precision.
//!
//! The confidence interval of a corpus mean treats documents, not sentences,
//! as the sample: an op-ed's sentences share an author and a line, so they
//! are not independent draws. On the op-ed natural data, intervals that
//! treat sentences as independent were 1.3-1.8 times too narrow, and two
//! random halves of one corpus differed "significantly" in 15-28% of draws
//! instead of 5% (`scripts/ci-calibration.py`).

use serde::{Deserialize, Serialize};

use crate::score::{Label, Stance};

const SCALE: f64 = 4_294_967_296.0; // 2^32

/// Statistics of one actor over a document or a corpus.
///
/// Build a document's stats with [`ActorStats::add`]; combine documents (or
/// shards) with [`ActorStats::merge`].
///
/// `add` extends the open document, opening one if there is none. The open
/// document ends at [`ActorStats::end_document`] and at `merge`, so statistics
/// merged from documents (or read back with serde) have none: the next `add`
/// starts a new document rather than joining everything merged so far, which
/// the document-clustered interval would read as one long document.
///
/// ```
/// use stance::{ActorStats, Stance};
/// let mut a = ActorStats::default();
/// a.add(&Stance::from_probabilities([0.7, 0.2, 0.1]), 1);
/// let mut b = ActorStats::default();
/// b.add(&Stance::from_probabilities([0.1, 0.2, 0.7]), 2);
/// a.merge(&b);
/// assert_eq!(a.sentences(), 2);
/// assert!(a.mean().abs() < 1e-6);
/// // The merge ended the document: this pair starts a third.
/// a.add(&Stance::from_probabilities([0.2, 0.6, 0.2]), 1);
/// assert_eq!(a.documents(), 3);
/// ```
///
/// Equality compares the statistics, not whether a document is open.
#[derive(Clone, Debug)]
pub struct ActorStats {
    sentences: u64,
    mentions: u64,
    documents: u64,
    labels: [u64; 3],
    sum_q: i128,
    sum_sq_q: i128,
    /// `None` once merged with statistics serialized without document sums
    /// (written by an earlier version); the interval then falls back to sentences.
    by_document: Option<DocumentSums>,
    /// The document that `add` extends; `None` when the next `add` starts one.
    open: Option<OpenDocument>,
}

impl PartialEq for ActorStats {
    fn eq(&self, other: &Self) -> bool {
        // The open document is left out: statistics equal their serialized and
        // read back copy, which has none, and the figures do not depend on it.
        self.sentences == other.sentences
            && self.mentions == other.mentions
            && self.documents == other.documents
            && self.labels == other.labels
            && self.sum_q == other.sum_q
            && self.sum_sq_q == other.sum_sq_q
            && self.by_document == other.by_document
    }
}

impl Eq for ActorStats {}

impl Default for ActorStats {
    fn default() -> Self {
        ActorStats {
            sentences: 0,
            mentions: 0,
            documents: 0,
            labels: [0; 3],
            sum_q: 0,
            sum_sq_q: 0,
            by_document: Some(DocumentSums::default()),
            open: None,
        }
    }
}

/// The quantized score sum and pair count of the document being added to, which
/// each added pair's increments of the [`DocumentSums`] depend on.
#[derive(Clone, Copy, Debug, Default)]
struct OpenDocument {
    sum_q: i128,
    pairs: i128,
}

/// Sums over documents d, with S_d a document's quantized score sum and n_d its
/// pair count: sum of S_d^2, of S_d * n_d and of n_d^2. They give the spread of
/// document sums around the corpus mean, which a document-clustered interval needs,
/// and they merge exactly like the other sums.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct DocumentSums {
    sum_sq: i128,
    cross: i128,
    n_sq: i128,
}

impl DocumentSums {
    /// Extends the open document (score sum `s`, `n` pairs so far) by one pair
    /// scored `q`: the increments of S^2, S * n and n^2, so that ended documents
    /// need no state of their own.
    fn add_pair(&mut self, s: i128, n: i128, q: i128) {
        self.sum_sq += 2 * s * q + q * q;
        self.cross += s + q * (n + 1);
        self.n_sq += 2 * n + 1;
    }

    fn merge(&mut self, other: &DocumentSums) {
        self.sum_sq += other.sum_sq;
        self.cross += other.cross;
        self.n_sq += other.n_sq;
    }
}

impl ActorStats {
    /// Adds one scored (sentence, actor) pair of the open document, with its mention count.
    /// With no document open (new, merged, ended or deserialized statistics) the
    /// pair starts a new document, which is counted.
    pub fn add(&mut self, stance: &Stance, mentions: usize) {
        let q = i128::from(quantize(stance.score));
        if self.open.is_none() {
            self.documents += 1;
        }
        let open = self.open.get_or_insert_with(OpenDocument::default);
        if let Some(sums) = &mut self.by_document {
            sums.add_pair(open.sum_q, open.pairs, q);
        }
        open.sum_q += q;
        open.pairs += 1;
        self.sentences += 1;
        // Saturating: a count read back from a file may be any u64, and wrapping would shrink it.
        self.mentions = self.mentions.saturating_add(mentions as u64);
        self.labels[stance.label.index()] += 1;
        self.sum_q += q;
        self.sum_sq_q += q * q;
    }

    /// Ends the open document, if any: the next [`ActorStats::add`] starts a new one.
    /// For building the statistics of several documents with `add` alone.
    ///
    /// ```
    /// use stance::{ActorStats, Stance};
    /// let mut s = ActorStats::default();
    /// s.add(&Stance::from_probabilities([0.7, 0.2, 0.1]), 1);
    /// s.end_document();
    /// s.add(&Stance::from_probabilities([0.1, 0.2, 0.7]), 1);
    /// assert_eq!(s.documents(), 2);
    /// ```
    pub fn end_document(&mut self) {
        self.open = None;
    }

    /// Adds another document's or shard's statistics. Exact and order-independent.
    /// The result has no open document: the next [`ActorStats::add`] starts a new one.
    pub fn merge(&mut self, other: &ActorStats) {
        self.open = None;
        self.sentences += other.sentences;
        self.mentions = self.mentions.saturating_add(other.mentions);
        self.documents += other.documents;
        for (mine, theirs) in self.labels.iter_mut().zip(other.labels) {
            *mine += theirs;
        }
        self.sum_q += other.sum_q;
        self.sum_sq_q += other.sum_sq_q;
        self.by_document = match (self.by_document, other.by_document) {
            (Some(mut mine), Some(theirs)) => {
                mine.merge(&theirs);
                Some(mine)
            }
            _ => None,
        };
    }

    /// Scored (sentence, actor) pairs.
    #[must_use]
    pub fn sentences(&self) -> u64 {
        self.sentences
    }

    /// Mentions of the actor in those sentences.
    #[must_use]
    pub fn mentions(&self) -> u64 {
        self.mentions
    }

    /// Documents in which the actor was scored at least once.
    #[must_use]
    pub fn documents(&self) -> u64 {
        self.documents
    }

    /// Whether the mean and the label shares have a value: at least one sentence
    /// ([`ActorStats::mean`] and [`ActorStats::label_shares`] give 0 without one, a
    /// placeholder that must not be shown or read as a measured neutral).
    #[must_use]
    pub fn has_mean(&self) -> bool {
        self.sentences >= 1
    }

    /// Whether the spread and the interval have a value: at least two sentences
    /// ([`ActorStats::std_dev`] gives 0 and [`ActorStats::ci95`] a zero-width interval with
    /// fewer, which would read as a certain mean).
    #[must_use]
    pub fn has_spread(&self) -> bool {
        self.sentences >= 2
    }

    /// Count of each label, in [`Label::ALL`] order.
    #[must_use]
    pub fn label_counts(&self) -> [u64; 3] {
        self.labels
    }

    /// Share of each label among the scored sentences (zeros when there are none).
    #[must_use]
    pub fn label_shares(&self) -> [f64; 3] {
        if self.sentences == 0 {
            return [0.0; 3];
        }
        self.labels.map(|c| c as f64 / self.sentences as f64)
    }

    /// Count of one label.
    #[must_use]
    pub fn count(&self, label: Label) -> u64 {
        self.labels[label.index()]
    }

    /// Mean stance score in [-1, 1] (0 when empty).
    #[must_use]
    pub fn mean(&self) -> f64 {
        if self.sentences == 0 {
            return 0.0;
        }
        self.sum_q as f64 / SCALE / self.sentences as f64
    }

    /// Sample standard deviation of the score (0 with fewer than two sentences).
    #[must_use]
    pub fn std_dev(&self) -> f64 {
        let n = i128::from(self.sentences);
        if n < 2 {
            return 0.0;
        }
        // n * sum(q^2) - sum(q)^2 is exact in i128 for any realistic corpus; fall back to f64 beyond.
        let spread = n
            .checked_mul(self.sum_sq_q)
            .and_then(|a| self.sum_q.checked_mul(self.sum_q).and_then(|b| a.checked_sub(b)))
            .map_or_else(
                || n as f64 * self.sum_sq_q as f64 - (self.sum_q as f64).powi(2),
                |exact| exact as f64,
            );
        let variance = spread.max(0.0) / (SCALE * SCALE) / (n as f64 * (n - 1) as f64);
        variance.sqrt()
    }

    /// 95% confidence interval of the mean, clipped to [-1, 1].
    ///
    /// Over two or more documents it is clustered by document (the variance of
    /// a ratio mean from the spread of document sums, with a D/(D-1) small-sample
    /// factor and Student's t with D-1 degrees of freedom), so it holds for a corpus
    /// whose sentences are correlated within articles. Within one document it
    /// treats the sentences as the sample (Student's t with n-1). `(mean, mean)`
    /// with fewer than two sentences.
    #[must_use]
    pub fn ci95(&self) -> (f64, f64) {
        let mean = self.mean();
        let half = match self.by_document {
            Some(sums) if self.documents >= 2 => self.document_half_width(&sums),
            _ if self.sentences >= 2 => t_975(self.sentences - 1) * self.std_dev() / (self.sentences as f64).sqrt(),
            _ => return (mean, mean),
        };
        // Scores live in [-1, 1]; an interval reaching past that (tiny samples) says no more than the bound.
        ((mean - half).max(-1.0), (mean + half).min(1.0))
    }

    /// Half width of the document-clustered 95% interval.
    fn document_half_width(&self, sums: &DocumentSums) -> f64 {
        let n = self.sentences as f64;
        let mean_q = self.sum_q as f64 / n;
        // Sum over documents of (S_d - mean * n_d)^2, expanded into the exact sums.
        let residual = sums.sum_sq as f64 - 2.0 * mean_q * sums.cross as f64 + mean_q * mean_q * sums.n_sq as f64;
        clustered_half_width(residual.max(0.0) / (SCALE * SCALE), self.documents, n)
    }
}

fn quantize(score: f32) -> i64 {
    // Clamped so that a NaN or out-of-range score from a broken model cannot overflow the sums.
    let clamped = if score.is_nan() {
        0.0
    } else {
        f64::from(score).clamp(-1.0, 1.0)
    };
    (clamped * SCALE).round() as i64
}

/// Half width of the 95% interval of a ratio mean over `n` items in `clusters`
/// (documents, articles; at least two), from `residual`, the sum over clusters
/// of (cluster sum - mean * cluster size)^2: the cluster-robust variance with a
/// D/(D-1) small-sample factor and Student's t with D-1 degrees of freedom.
pub(crate) fn clustered_half_width(residual: f64, clusters: u64, n: f64) -> f64 {
    let d = clusters as f64;
    let variance = d / (d - 1.0) * residual / (n * n);
    t_975(clusters - 1) * variance.sqrt()
}

/// Two-sided 97.5% quantile of Student's t with `df` degrees of freedom.
fn t_975(df: u64) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::NAN,
        1..=30 => TABLE[(df - 1) as usize],
        // Beyond 30, Cornish-Fisher's expansion of t in powers of 1 / df around the normal
        // quantile z; three terms are within 1e-4 of the exact quantile from df = 31 on (the
        // first term alone was 3e-3 short there, a narrower interval than the data allow).
        _ => {
            const Z: f64 = 1.959_964;
            let df = df as f64;
            Z + (Z.powi(3) + Z) / (4.0 * df)
                + (5.0 * Z.powi(5) + 16.0 * Z.powi(3) + 3.0 * Z) / (96.0 * df.powi(2))
                + (3.0 * Z.powi(7) + 19.0 * Z.powi(5) + 17.0 * Z.powi(3) - 15.0 * Z) / (384.0 * df.powi(3))
        }
    }
}

/// The serialized form: exact sums (as strings, since JSON readers lose i128
/// precision) for merging, plus the derived figures for readers. A figure
/// without a value ([`ActorStats::has_mean`], [`ActorStats::has_spread`]) is
/// `null`, never a 0 that reads as a measured neutral or a certain mean. The
/// figures are not read back (the sums and counts hold everything), so files
/// that wrote 0 there still merge.
#[derive(Serialize, Deserialize)]
struct ActorStatsRepr {
    sentences: u64,
    mentions: u64,
    documents: u64,
    #[serde(default)]
    mean: Option<f64>,
    #[serde(default)]
    std: Option<f64>,
    #[serde(default)]
    ci95_low: Option<f64>,
    #[serde(default)]
    ci95_high: Option<f64>,
    unfavorable: u64,
    neutral: u64,
    favorable: u64,
    #[serde(default)]
    share_unfavorable: Option<f64>,
    #[serde(default)]
    share_neutral: Option<f64>,
    #[serde(default)]
    share_favorable: Option<f64>,
    /// sum of round(score * 2^32)
    sum_q32: String,
    /// sum of round(score * 2^32)^2
    sum_sq_q64: String,
    /// Over documents: sum of S^2, of S * n and of n^2 (S a document's sum_q32, n its
    /// pairs); absent in statistics written before intervals were clustered by document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    doc_sum_sq_q64: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    doc_cross_q32: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    doc_n_sq: Option<String>,
}

impl Serialize for ActorStats {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (low, high) = self.ci95();
        let shares = self.label_shares();
        let with_mean = |x: f64| self.has_mean().then_some(x);
        let with_spread = |x: f64| self.has_spread().then_some(x);
        ActorStatsRepr {
            sentences: self.sentences,
            mentions: self.mentions,
            documents: self.documents,
            mean: with_mean(self.mean()),
            std: with_spread(self.std_dev()),
            ci95_low: with_spread(low),
            ci95_high: with_spread(high),
            unfavorable: self.labels[0],
            neutral: self.labels[1],
            favorable: self.labels[2],
            share_unfavorable: with_mean(shares[0]),
            share_neutral: with_mean(shares[1]),
            share_favorable: with_mean(shares[2]),
            sum_q32: self.sum_q.to_string(),
            sum_sq_q64: self.sum_sq_q.to_string(),
            doc_sum_sq_q64: self.by_document.map(|d| d.sum_sq.to_string()),
            doc_cross_q32: self.by_document.map(|d| d.cross.to_string()),
            doc_n_sq: self.by_document.map(|d| d.n_sq.to_string()),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for ActorStats {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let repr = ActorStatsRepr::deserialize(deserializer)?;
        let parse = |s: &str| s.parse::<i128>().map_err(serde::de::Error::custom);
        let by_document = match (&repr.doc_sum_sq_q64, &repr.doc_cross_q32, &repr.doc_n_sq) {
            (Some(sum_sq), Some(cross), Some(n_sq)) => Some(DocumentSums {
                sum_sq: parse(sum_sq)?,
                cross: parse(cross)?,
                n_sq: parse(n_sq)?,
            }),
            (None, None, None) => None,
            _ => {
                return Err(serde::de::Error::custom(
                    "doc_sum_sq_q64, doc_cross_q32 and doc_n_sq must appear together",
                ))
            }
        };
        let stats = ActorStats {
            sentences: repr.sentences,
            mentions: repr.mentions,
            documents: repr.documents,
            labels: [repr.unfavorable, repr.neutral, repr.favorable],
            sum_q: parse(&repr.sum_q32)?,
            sum_sq_q: parse(&repr.sum_sq_q64)?,
            by_document,
            open: None,
        };
        stats.check_consistent().map_err(serde::de::Error::custom)?;
        Ok(stats)
    }
}

impl ActorStats {
    /// Refuses counts and sums that no sequence of pairs gives (statistics edited by hand,
    /// or fields taken from two files): merged, they would read as a mean outside [-1, 1],
    /// a negative variance or label shares that do not add up.
    fn check_consistent(&self) -> std::result::Result<(), String> {
        let n = self.sentences;
        // Summed wide: counts near u64::MAX must not wrap round to `n`.
        let labelled: u128 = self.labels.iter().map(|&c| u128::from(c)).sum();
        if labelled != u128::from(n) {
            return Err(format!("the label counts add up to {labelled}, not to sentences ({n})"));
        }
        if self.documents > n || (n > 0 && self.documents == 0) {
            return Err(format!(
                "{} documents for {n} sentences: each document holds at least one",
                self.documents
            ));
        }
        // Each pair's score is in [-1, 1]: |q| <= 2^32 and q^2 <= 2^64.
        let n_wide = i128::from(n);
        let sums_in_range = self.sum_q.unsigned_abs() <= n_wide.unsigned_abs().saturating_mul(1 << 32)
            && (0..=n_wide.saturating_mul(1 << 64)).contains(&self.sum_sq_q);
        // Cauchy-Schwarz: (sum q)^2 <= n sum q^2, a variance that is not negative (in f64,
        // since the square may leave i128 for huge counts).
        let sum_q = self.sum_q as f64;
        let spread_possible = sum_q * sum_q <= n as f64 * self.sum_sq_q as f64 * (1.0 + 1e-12);
        if !sums_in_range || !spread_possible {
            return Err(format!(
                "sum_q32 {} and sum_sq_q64 {} are not the sums of {n} scores in [-1, 1]",
                self.sum_q, self.sum_sq_q
            ));
        }
        // The per-document sums are not checked: builds before add-after-merge was mended wrote
        // some that no pairs give, and they only widen or narrow an interval.
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rayon::prelude::*;

    fn stance(score: f32) -> Stance {
        let pf = (1.0 + score) / 2.0;
        Stance::from_probabilities([1.0 - pf, 0.0, pf])
    }

    #[test]
    fn the_t_quantile_is_within_1e_4_of_the_exact_one() {
        // Exact two-sided 97.5% quantiles of Student's t (mpmath, inverse regularized beta); up
        // to 30 the table's three decimals hold them to 5e-4.
        assert!((t_975(30) - 2.042_272).abs() < 5e-4);
        let exact = [
            (31, 2.039_513),
            (40, 2.021_075),
            (50, 2.008_559),
            (60, 2.000_298),
            (120, 1.979_930),
            (1000, 1.962_339),
        ];
        for (df, t) in exact {
            assert!((t_975(df) - t).abs() < 1e-4, "df {df}: {} against {t}", t_975(df));
        }
        assert!(t_975(0).is_nan());
    }

    fn doc_stats(scores: &[f32]) -> ActorStats {
        let mut s = ActorStats::default();
        scores.iter().for_each(|&x| s.add(&stance(x), 1));
        s
    }

    #[test]
    fn mean_std_and_ci_match_textbook_values() {
        let s = doc_stats(&[0.1, 0.2, 0.3, 0.5]);
        assert!((s.mean() - 0.275).abs() < 1e-6);
        let var = (0.175f64.powi(2) + 0.075f64.powi(2) + 0.025f64.powi(2) + 0.225f64.powi(2)) / 3.0;
        assert!((s.std_dev() - var.sqrt()).abs() < 1e-6);
        let (lo, hi) = s.ci95();
        assert!((hi - lo - 2.0 * 3.182 * var.sqrt() / 2.0).abs() < 1e-6);
        assert_eq!(s.documents(), 1);
    }

    #[test]
    fn confidence_interval_is_clipped_to_the_score_range() {
        let (lo, hi) = doc_stats(&[-1.0, 1.0]).ci95();
        assert_eq!((lo, hi), (-1.0, 1.0));
    }

    #[test]
    fn empty_and_single_are_well_defined() {
        assert_eq!(ActorStats::default().mean(), 0.0);
        let one = doc_stats(&[0.3]);
        assert_eq!(one.std_dev(), 0.0);
        assert_eq!(one.ci95().0, one.ci95().1);
    }

    fn corpus(docs: &[&[f32]]) -> ActorStats {
        let mut all = ActorStats::default();
        docs.iter().for_each(|d| all.merge(&doc_stats(d)));
        all
    }

    #[test]
    fn corpus_interval_is_clustered_by_document() {
        let docs: [&[f32]; 3] = [&[0.5, 0.5, 0.3], &[-0.2], &[0.0, 0.4]];
        let s = corpus(&docs);
        // Textbook cluster-robust variance of a ratio mean: D/(D-1) * sum_d (S_d - m n_d)^2 / N^2.
        let (n, m) = (6.0, 1.5 / 6.0);
        let residual: f64 = [(1.3, 3.0), (-0.2, 1.0), (0.4, 2.0)]
            .iter()
            .map(|&(sum, count): &(f64, f64)| (sum - m * count).powi(2))
            .sum();
        let half = 4.303 * (1.5 * residual / (n * n)).sqrt();
        let (lo, hi) = s.ci95();
        assert!((s.mean() - m).abs() < 1e-6);
        assert!(
            (lo - (m - half)).abs() < 1e-6 && (hi - (m + half)).abs() < 1e-6,
            "{lo} {hi} vs +-{half}"
        );
    }

    #[test]
    fn add_after_merge_starts_a_new_document() {
        // Two documents merged, then a third added pair by pair.
        let mut s = corpus(&[&[0.5, 0.3], &[-0.2]]);
        s.add(&stance(0.4), 1);
        s.add(&stance(0.0), 1);
        assert_eq!((s.documents(), s.sentences()), (3, 5));
        // By hand: document sums 0.8 (2 pairs), -0.2 (1) and 0.4 (2); mean 1.0 / 5 = 0.2;
        // residual 0.4^2 + 0.4^2 + 0 = 0.32; variance 3/2 * 0.32 / 25 = 0.0192; t with 2 df.
        let half = 4.303 * 0.0192f64.sqrt();
        let (lo, hi) = s.ci95();
        assert!(
            (lo - (0.2 - half)).abs() < 1e-6 && (hi - (0.2 + half)).abs() < 1e-6,
            "{lo} {hi} vs 0.2 +- {half}"
        );
        assert_eq!(s, corpus(&[&[0.5, 0.3], &[-0.2], &[0.4, 0.0]]));
    }

    #[test]
    fn ending_documents_equals_merging_them() {
        let mut s = ActorStats::default();
        for doc in [&[0.5, 0.3][..], &[-0.2], &[0.4, 0.0]] {
            doc.iter().for_each(|&x| s.add(&stance(x), 1));
            s.end_document();
        }
        assert_eq!(s, corpus(&[&[0.5, 0.3], &[-0.2], &[0.4, 0.0]]));
        s.end_document(); // nothing open: no change
        assert_eq!(s.documents(), 3);
    }

    #[test]
    fn correlated_documents_widen_the_interval() {
        // Twenty documents, each saying the same thing five times: 100 sentences but 20 samples.
        let docs: Vec<Vec<f32>> = (0..20).map(|i| vec![if i % 2 == 0 { 0.8 } else { -0.6 }; 5]).collect();
        let refs: Vec<&[f32]> = docs.iter().map(Vec::as_slice).collect();
        let clustered = corpus(&refs);
        let independent = corpus(&docs.concat().iter().map(std::slice::from_ref).collect::<Vec<_>>());
        assert_eq!(
            (clustered.mean(), clustered.std_dev()),
            (independent.mean(), independent.std_dev())
        );
        let width = |s: &ActorStats| s.ci95().1 - s.ci95().0;
        let ratio = width(&clustered) / width(&independent);
        // sqrt(5) fewer effective samples, a little more from t with 19 instead of 99 df.
        assert!(ratio > 2.2 && ratio < 2.5, "ratio {ratio}");
    }

    #[test]
    fn statistics_without_document_sums_fall_back_to_sentences() {
        let mut s = corpus(&[&[0.5, 0.1], &[-0.3, 0.2, 0.0]]);
        let mut json: serde_json::Value = serde_json::to_value(&s).unwrap();
        for key in ["doc_sum_sq_q64", "doc_cross_q32", "doc_n_sq"] {
            json.as_object_mut().unwrap().remove(key).expect(key);
        }
        let old: ActorStats = serde_json::from_value(json).unwrap();
        let sentence_half = t_975(4) * s.std_dev() / 5f64.sqrt();
        assert!((old.ci95().1 - (s.mean() + sentence_half)).abs() < 1e-9);
        s.merge(&old);
        assert!(serde_json::to_value(&s).unwrap().get("doc_n_sq").is_none());
        let mut partial = serde_json::to_value(corpus(&[&[0.5], &[0.1]])).unwrap();
        partial.as_object_mut().unwrap().remove("doc_n_sq");
        let err = serde_json::from_value::<ActorStats>(partial).unwrap_err();
        assert!(err.to_string().contains("together"), "{err}");
    }

    #[test]
    fn serde_round_trip_keeps_exact_sums() {
        let s = corpus(&[&[0.1, -0.7, 0.33], &[0.9]]);
        let json = serde_json::to_string(&s).unwrap();
        let back: ActorStats = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn counts_and_sums_no_pairs_give_are_refused_when_read() {
        let good = serde_json::to_value(corpus(&[&[0.5, -0.25], &[1.0]])).unwrap();
        let refused = |edit: &dyn Fn(&mut serde_json::Value)| {
            let mut value = good.clone();
            edit(&mut value);
            serde_json::from_value::<ActorStats>(value).unwrap_err().to_string()
        };
        let labels = refused(&|v| v["neutral"] = serde_json::json!(5));
        assert!(
            labels.contains("label counts add up to 8, not to sentences (3)"),
            "{labels}"
        );
        let documents = refused(&|v| v["documents"] = serde_json::json!(4));
        assert!(documents.contains("4 documents for 3 sentences"), "{documents}");
        let none = refused(&|v| v["documents"] = serde_json::json!(0));
        assert!(none.contains("0 documents for 3 sentences"), "{none}");
        // A mean above 1.
        let mean = refused(&|v| v["sum_q32"] = serde_json::json!((4i128 << 32).to_string()));
        assert!(mean.contains("not the sums of 3 scores"), "{mean}");
        // A sum of squares too small for the sum: a negative variance.
        let variance = refused(&|v| v["sum_sq_q64"] = serde_json::json!("1"));
        assert!(variance.contains("not the sums of 3 scores"), "{variance}");
        // Counts that wrap round to `sentences` when added in u64.
        let wrapped = refused(&|v| {
            v["unfavorable"] = serde_json::json!(u64::MAX);
            v["neutral"] = serde_json::json!(4);
            v["favorable"] = serde_json::json!(0);
        });
        assert!(wrapped.contains("label counts add up to"), "{wrapped}");
        // The extremes are possible: every score at -1, or at +1.
        for score in [-1.0, 1.0] {
            let stats = doc_stats(&[score; 4]);
            let back: ActorStats = serde_json::from_value(serde_json::to_value(&stats).unwrap()).unwrap();
            assert_eq!(back, stats);
        }
    }

    #[test]
    fn figures_without_a_value_serialize_as_null_and_read_back() {
        let json = |s: &ActorStats| serde_json::to_value(s).unwrap();
        let undefined = |v: &serde_json::Value, keys: &[&str]| keys.iter().all(|k| v[*k].is_null());
        let spread = ["std", "ci95_low", "ci95_high"];
        let location = ["mean", "share_unfavorable", "share_neutral", "share_favorable"];

        let none = json(&ActorStats::default());
        assert!(undefined(&none, &location) && undefined(&none, &spread), "{none}");
        let one = json(&doc_stats(&[0.3]));
        assert!(undefined(&one, &spread), "{one}");
        assert!(location.iter().all(|k| one[*k].is_f64()), "{one}");
        let two = json(&doc_stats(&[0.3, -0.1]));
        assert!(spread.iter().chain(&location).all(|k| two[*k].is_f64()), "{two}");

        // Read back from the sums alone, with null figures or with the 0 that
        // earlier files wrote in their place.
        for stats in [ActorStats::default(), doc_stats(&[0.3])] {
            let mut value = json(&stats);
            assert_eq!(serde_json::from_value::<ActorStats>(value.clone()).unwrap(), stats);
            for key in spread.iter().chain(&location) {
                value[*key] = serde_json::json!(0.0);
            }
            assert_eq!(serde_json::from_value::<ActorStats>(value).unwrap(), stats);
        }
    }

    proptest! {
        #[test]
        fn parallel_equals_sequential_and_shards_equal_whole(
            docs in proptest::collection::vec(proptest::collection::vec(-1.0f32..=1.0, 1..20), 1..60),
            cut in 0usize..60,
        ) {
            let per_doc: Vec<ActorStats> = docs.iter().map(|d| doc_stats(d)).collect();
            let mut sequential = ActorStats::default();
            per_doc.iter().for_each(|d| sequential.merge(d));
            let parallel = per_doc
                .par_iter()
                .fold(ActorStats::default, |mut acc, d| { acc.merge(d); acc })
                .reduce(ActorStats::default, |mut a, b| { a.merge(&b); a });
            prop_assert_eq!(&parallel, &sequential);
            let cut = cut.min(per_doc.len());
            let (mut left, mut right) = (ActorStats::default(), ActorStats::default());
            per_doc[..cut].iter().for_each(|d| left.merge(d));
            per_doc[cut..].iter().rev().for_each(|d| right.merge(d));
            right.merge(&left);
            prop_assert_eq!(&right, &sequential);
            prop_assert_eq!(sequential.documents(), docs.len() as u64);
        }
    }
}
