//! Run metadata: what `run.json` records (identity, fingerprints, counts,
//! sessions), the lock that makes one process at a time own a run directory,
//! and the content hashes that resume and merge check.

mod fingerprint;
mod lock;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::analyzer::AnalyzerInfo;
use crate::error::{Error, Result};

use super::checkpoint::{Checkpoint, Session};
use super::input::{EmptyFiles, ReadOptions, SkippedFiles};
use super::output::{write_atomic, OutputFormat, CHECKPOINT, RUN_JSON};
use super::shard::Shard;

pub use fingerprint::{model_hash, InputHash};
pub use lock::DirLock;

/// Version of the output schema (`sentences.jsonl`, `documents.csv`, `errors.jsonl`, summaries).
pub const SCHEMA_VERSION: u32 = 1;

/// Whether a run has finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum RunStatus {
    /// Started and not finished (or interrupted: resume it).
    Running,
    /// Every input record is accounted for.
    Complete,
}

/// What `run.json` holds: what ran, on what, how much and how long.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RunInfo {
    /// Output schema version.
    pub schema: u32,
    /// Whether the run has finished.
    pub status: RunStatus,
    /// A random id given to the run when it starts, kept by every resume: a
    /// run (or a copy of its directory) merged twice is recognised by it.
    #[serde(default)]
    pub run_id: String,
    /// Version of `stance`.
    pub stance_version: String,
    /// Version of ONNX Runtime it loads.
    pub onnxruntime_version: String,
    /// [`SCORING_RULES_VERSION`](crate::SCORING_RULES_VERSION) of the build that started the
    /// run: merge refuses runs of different versions (absent, so 0, from `run.json` of runs
    /// made before it was recorded).
    #[serde(default)]
    pub scoring_rules: u32,
    /// The command line, when given.
    pub command: Vec<String>,
    /// Inputs, as given.
    pub inputs: Vec<String>,
    /// How they were read.
    pub read: ReadOptions,
    /// The output files besides the journals (`run.json` of runs made before
    /// it was recorded: JSON Lines and CSV).
    #[serde(default)]
    pub format: OutputFormat,
    /// The share of the corpus (for a merge: the shards merged).
    pub shards: Vec<Shard>,
    /// Model, device, threads and batching of the (last) session.
    pub analyzer: Option<AnalyzerInfo>,
    /// Input records seen (scored, failed, or left to other shards).
    pub records: u64,
    /// Records left to other shards.
    pub other_shards: u64,
    /// Documents scored.
    pub documents: u64,
    /// Documents not scored (see `errors.jsonl`).
    pub failed: u64,
    /// Sentences in the scored documents.
    pub sentences: u64,
    /// Scored (sentence, actor) pairs (rows of `sentences.jsonl`).
    pub pairs: u64,
    /// Wall-clock seconds over all sessions.
    pub wall_secs: f64,
    /// Documents (scored or failed) per wall-clock second.
    pub documents_per_sec: f64,
    /// Sentences per wall-clock second.
    pub sentences_per_sec: f64,
    /// Content hash of the input records read so far (all of them once the
    /// run is complete; see [`InputHash`]). Shards of one corpus agree on it.
    #[serde(default)]
    pub input_hash: String,
    /// Content hash of the model bundle's files (see [`model_hash`]).
    #[serde(default)]
    pub model_hash: String,
    /// The inputs as absolute paths with links resolved (standard input left out; for a merge,
    /// every run's), written when the run finishes: merge refuses two whole runs over one file
    /// named in two ways.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub input_paths: Vec<String>,
    /// The actor definitions in full (names, aliases, exclusions), as a resume compares them:
    /// runs with the same actor ids but other aliases find other mentions, so merge compares
    /// these too. Absent from `run.json` of runs made before they were recorded (merge then
    /// compares the ids).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_definitions: Option<serde_json::Value>,
    /// The first session, then one per resume.
    pub sessions: Vec<Session>,
    /// The length in bytes of each row file (`sentences.jsonl`, `documents.csv`,
    /// `errors.jsonl`, and `documents.jsonl` of a Parquet run) when the run or merge finished:
    /// a merge checks them where there is no checkpoint (a merge's directory has none, and a
    /// checkpoint may be deleted), so that rows cut or added since are refused, not merged.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub row_files: BTreeMap<String, u64>,
    /// For a merge: the run directories merged.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_from: Vec<String>,
    /// For a merge: the ids of every run it holds, so that merging it again with one of them is refused.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_run_ids: Vec<String>,
    /// For a merge of whole runs (unsharded, or merges of every shard of a corpus): each one's
    /// `input_hash`, so that merging it again with a run over the same inputs is refused.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_input_hashes: Vec<String>,
    /// [`InputHash::documents_hex`] of every record read: the documents alone, whatever their
    /// files' names, so that merge refuses two whole runs over the same documents (a corpus and
    /// its copy, a hard link, its files joined into one). Empty for a merge of whole runs and for
    /// runs made before it was recorded.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub documents_hash: String,
    /// For a merge of whole runs: each one's `documents_hash`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_documents_hashes: Vec<String>,
    /// Output directories of other runs inside the inputs, skipped by the walk
    /// (their rows are results, not documents). Listed by the session that
    /// finished the run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped_run_dirs: Vec<String>,
    /// Entries inside walked directories that were not read: their extension names no
    /// format, or they link to a directory (how many, how many of them are links, and the first
    /// of them). For a merge of whole runs, every run's added up; of shards, one shard's (each
    /// walked the same inputs).
    #[serde(default, skip_serializing_if = "SkippedFiles::is_empty")]
    pub skipped_files: SkippedFiles,
    /// Input files (and standard input) that held no record: empty, only blank lines, or a CSV
    /// header with no row. For a merge of whole runs, every run's added up; of shards, one
    /// shard's (each read the same inputs).
    #[serde(default, skip_serializing_if = "EmptyFiles::is_empty")]
    pub empty_files: EmptyFiles,
    /// The fields given a name of their own that no record held, most likely misspelled
    /// (`--id-field "doc_id"`: see [`CorpusReader::unmatched_fields`](crate::corpus::CorpusReader::unmatched_fields)).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unmatched_fields: Vec<String>,
}

impl RunInfo {
    pub(crate) fn from_checkpoint(state: &Checkpoint, analyzer: Option<&AnalyzerInfo>, command: &[String]) -> RunInfo {
        let s = &state.summary;
        let wall_secs: f64 = state.sessions.iter().map(|s| s.wall_secs).sum();
        let rate = |n: u64| if wall_secs > 0.0 { n as f64 / wall_secs } else { 0.0 };
        let done_in_sessions: u64 = state.sessions.iter().map(|s| s.documents).sum();
        RunInfo {
            schema: SCHEMA_VERSION,
            run_id: state.run_id.clone(),
            status: if state.complete {
                RunStatus::Complete
            } else {
                RunStatus::Running
            },
            stance_version: env!("CARGO_PKG_VERSION").to_owned(),
            onnxruntime_version: crate::ORT_VERSION.to_owned(),
            scoring_rules: state.config.scoring_rules,
            command: command.to_vec(),
            inputs: state.config.inputs.clone(),
            read: state.config.read.clone(),
            format: state.config.format,
            shards: state.config.shard.into_iter().collect(),
            analyzer: analyzer.cloned(),
            records: state.records,
            other_shards: state.other_shards,
            documents: s.documents,
            failed: s.failed,
            sentences: s.sentences,
            pairs: s.pairs,
            wall_secs,
            documents_per_sec: rate(done_in_sessions),
            sentences_per_sec: rate(s.sentences),
            input_hash: state.input_hash.clone(),
            documents_hash: String::new(),
            merged_documents_hashes: Vec::new(),
            model_hash: state.config.model_hash.clone(),
            actor_definitions: Some(state.config.actors.clone()),
            sessions: state.sessions.clone(),
            row_files: if state.complete {
                state
                    .journal_lengths()
                    .into_iter()
                    .map(|(name, len)| (name.to_owned(), len))
                    .collect()
            } else {
                BTreeMap::new()
            },
            input_paths: Vec::new(),
            merged_from: Vec::new(),
            merged_run_ids: Vec::new(),
            merged_input_hashes: Vec::new(),
            skipped_run_dirs: Vec::new(),
            skipped_files: SkippedFiles::default(),
            empty_files: EmptyFiles::default(),
            unmatched_fields: Vec::new(),
        }
    }

    /// Whether this is the `run.json` of a merge into `dir` that did not finish (a merge writes it
    /// first, as running; a merge has no checkpoint, a scoring run always has one).
    #[must_use]
    pub fn is_unfinished_merge(&self, dir: &Path) -> bool {
        self.status == RunStatus::Running && !self.merged_from.is_empty() && !dir.join(CHECKPOINT).exists()
    }

    /// Refuses row files that are not the lengths recorded when the run finished, and a finished
    /// run without a checkpoint that records none (written by a version before they were
    /// recorded): its rows cannot be checked.
    pub(crate) fn check_row_files(&self, dir: &Path) -> Result<()> {
        if self.row_files.is_empty() {
            return Err(Error::Config(format!(
                "{}: the lengths of its row files cannot be checked: it has no checkpoint.json, and its \
                 run.json records none (it was written by an earlier version of stance): score its inputs \
                 again, or merge its shards again, in a new directory",
                dir.display()
            )));
        }
        check_row_files(dir, self.row_files.iter().map(|(name, &len)| (name.as_str(), len)))
    }

    /// Writes `run.json` atomically.
    pub(crate) fn save(&self, dir: &Path) -> Result<()> {
        let mut bytes =
            serde_json::to_vec_pretty(self).map_err(|e| Error::Config(format!("cannot serialize run.json: {e}")))?;
        bytes.push(b'\n');
        write_atomic(&dir.join(RUN_JSON), &bytes)
    }
    /// The shards of the corpus that this run does not hold, as `I/N`: none for a whole run or
    /// a merge of every shard. A run of some shards only counts part of the corpus.
    #[must_use]
    pub fn missing_shards(&self) -> Vec<String> {
        let Some(count) = self.shards.first().map(|s| s.count()) else {
            return Vec::new();
        };
        let held: Vec<u32> = self.shards.iter().map(|s| s.index()).collect();
        (1..=count)
            .filter(|i| !held.contains(i))
            .map(|i| format!("{i}/{count}"))
            .collect()
    }

    /// The ids of the scoring runs this run holds: its own, or for a merge those of the runs merged.
    #[must_use]
    pub fn constituent_ids(&self) -> Vec<&str> {
        if self.merged_run_ids.is_empty() {
            vec![self.run_id.as_str()]
        } else {
            self.merged_run_ids.iter().map(String::as_str).collect()
        }
    }

    /// The input hashes of the whole corpora this run holds: its own, or for a merge of whole runs
    /// those of the runs merged; a merge of every shard of a corpus holds that corpus, whose hash
    /// each shard has. None for a part of a corpus's shards.
    #[must_use]
    pub fn constituent_input_hashes(&self) -> Vec<&str> {
        self.constituents(&self.input_hash, &self.merged_input_hashes)
    }

    /// The documents hashes of the whole corpora this run holds, as
    /// [`RunInfo::constituent_input_hashes`] gives their input hashes.
    #[must_use]
    pub fn constituent_documents_hashes(&self) -> Vec<&str> {
        self.constituents(&self.documents_hash, &self.merged_documents_hashes)
    }

    fn constituents<'a>(&self, own: &'a str, merged: &'a [String]) -> Vec<&'a str> {
        if !self.shards.is_empty() && !self.missing_shards().is_empty() {
            Vec::new()
        } else if !merged.is_empty() {
            merged.iter().map(String::as_str).collect()
        } else if own.is_empty() {
            Vec::new()
        } else {
            vec![own]
        }
    }

    /// Reads `dir/run.json`.
    ///
    /// # Errors
    /// [`Error::Io`] or [`Error::Input`] naming the file.
    pub fn load(dir: &Path) -> Result<RunInfo> {
        let path = dir.join(RUN_JSON);
        let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        serde_json::from_slice(&bytes).map_err(|e| {
            Error::input(
                path.display().to_string(),
                Some(e.line()),
                format!("invalid run.json: {e}"),
            )
        })
    }
}

/// Refuses a row file of a finished run or merge that is not the `expected` length: it was cut,
/// appended to or replaced since, and what is made from it (Parquet files, a merge) would
/// disagree with the summary.
pub(crate) fn check_row_files<'a>(dir: &Path, expected: impl IntoIterator<Item = (&'a str, u64)>) -> Result<()> {
    for (name, committed) in expected {
        let path = dir.join(name);
        let len = std::fs::metadata(&path).map_err(|e| Error::io(&path, e))?.len();
        if len != committed {
            return Err(Error::io(
                &path,
                std::io::Error::other(format!(
                    "the file has {len} bytes but the finished run or merge wrote {committed}: it was \
                     changed since; make it again in another directory (score the inputs, or merge the runs)"
                )),
            ));
        }
    }
    Ok(())
}

/// A new run id: 128 random bits as hex.
///
/// Drawn from the standard library's randomly seeded hasher (no extra
/// dependency), mixed with the time and the process id, so that two runs
/// started at once on different machines still differ.
pub(crate) fn new_run_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let half = |salt: u64| {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(salt);
        hasher.write_u128(nanos);
        hasher.write_u32(std::process::id());
        hasher.finish()
    };
    format!("{:016x}{:016x}", half(1), half(2))
}

/// RFC 3339 in UTC, to the second.
pub(crate) fn timestamp(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    utc_timestamp(i64::try_from(secs).unwrap_or(i64::MAX), 0, 0)
}

/// `YYYY-MM-DD` of a count of days since 1970-01-01 (the proleptic Gregorian calendar).
pub(crate) fn utc_date(days: i64) -> String {
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}")
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction]Z` of seconds since the epoch and nanoseconds past them, the
/// fraction in `digits` digits (at most 9), left out when zero.
pub(crate) fn utc_timestamp(seconds: i64, nanos: i64, digits: u32) -> String {
    let (days, second_of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (h, m, s) = (second_of_day / 3600, second_of_day % 3600 / 60, second_of_day % 60);
    let fraction = match nanos {
        0 => String::new(),
        _ => format!(
            ".{:0width$}",
            nanos / 10_i64.pow(9 - digits.min(9)),
            width = digits as usize
        ),
    };
    format!("{}T{h:02}:{m:02}:{s:02}{fraction}Z", utc_date(days))
}

/// Year, month and day of a day count since 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_timestamps_read_as_iso_8601() {
        assert_eq!(utc_date(0), "1970-01-01");
        assert_eq!(utc_date(19_783), "2024-03-01");
        assert_eq!(utc_date(19_782), "2024-02-29");
        assert_eq!(utc_date(-1), "1969-12-31");
        assert_eq!(utc_timestamp(1_709_251_200, 0, 3), "2024-03-01T00:00:00Z");
        assert_eq!(utc_timestamp(1_709_337_599, 5_000_000, 3), "2024-03-01T23:59:59.005Z");
        assert_eq!(utc_timestamp(-1, 999_999_000, 6), "1969-12-31T23:59:59.999999Z");
    }

    use std::time::Duration;

    #[test]
    fn run_ids_are_distinct_hex() {
        let (a, b) = (new_run_id(), new_run_id());
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn timestamps_are_rfc3339() {
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            timestamp(UNIX_EPOCH + Duration::from_secs(1_709_251_199)),
            "2024-02-29T23:59:59Z"
        );
        assert_eq!(
            timestamp(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00Z"
        );
    }
}
