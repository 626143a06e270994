//! The resume state of a run (`checkpoint.json`) and the settings it must be resumed with.
//!
//! The invariant that makes resuming exact: a checkpoint saying "`records`
//! input records are done, the output files are `offsets` long, the
//! aggregates are `summary`" is written (atomically) only after the output
//! files have been flushed and synced to at least `offsets`, and every part of
//! it is a deterministic function of the first `records` records. So after a
//! crash at any instant, the last checkpoint on disk describes a prefix of the
//! uninterrupted run exactly: cutting the files to `offsets`, skipping
//! `records` records and going on from `summary` reproduces that run.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::analyzer::Analyzer;
use crate::error::{Error, Result};

use super::input::ReadOptions;
use super::meta::{check_row_files, model_hash, new_run_id, InputHash};
use super::output::{write_atomic, OutputFormat, CHECKPOINT, DOCUMENTS, DOCUMENTS_JSONL, ERRORS, SENTENCES};
use super::shard::Shard;
use super::summary::Summary;

/// Version of the checkpoint layout; a different one is refused on resume.
const CHECKPOINT_VERSION: u32 = 2;

/// Everything that decides which rows a run writes; a resumed run must match it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct RunConfig {
    pub inputs: Vec<String>,
    pub read: ReadOptions,
    pub shard: Option<Shard>,
    /// The actor definitions, in full (aliases decide the mentions).
    pub actors: serde_json::Value,
    pub model: String,
    pub model_origin: String,
    /// Content hash of the model bundle's files: a model replaced in place is another model.
    pub model_hash: String,
    /// The output files besides the journals (absent from checkpoints of
    /// runs made before it was recorded: those wrote JSON Lines and CSV only).
    #[serde(default)]
    pub format: OutputFormat,
    /// The weight of a document's other sentences in each stance (absent, so
    /// 0, from checkpoints of runs that read every sentence alone).
    #[serde(default)]
    pub document_context: f32,
    /// [`crate::SCORING_RULES_VERSION`] of the build that started the run (absent, so 0,
    /// from checkpoints written before it was recorded).
    #[serde(default)]
    pub scoring_rules: u32,
}

impl RunConfig {
    /// The settings of a run of `analyzer` over `inputs`.
    ///
    /// # Errors
    /// [`Error::Model`] when the model's files cannot be read to hash them.
    pub fn new(
        inputs: &[std::path::PathBuf],
        read: &ReadOptions,
        shard: Option<Shard>,
        format: OutputFormat,
        analyzer: &Analyzer,
    ) -> Result<Self> {
        let info = analyzer.info();
        Ok(RunConfig {
            inputs: inputs.iter().map(|p| p.display().to_string()).collect(),
            read: read.clone(),
            shard,
            actors: serde_json::to_value(analyzer.actors()).unwrap_or(serde_json::Value::Null),
            model: info.model.clone(),
            model_origin: info.model_origin.clone(),
            model_hash: model_hash(info)?,
            format,
            document_context: info.document_context,
            scoring_rules: crate::SCORING_RULES_VERSION,
        })
    }

    /// Names the first setting that differs from `other`, if any, in the
    /// words of the command line.
    pub fn difference(&self, other: &RunConfig) -> Option<String> {
        if self.scoring_rules != other.scoring_rules {
            return Some(format!(
                "the run was started by a build of stance whose sentence splitting, mention matching, model \
                 input or reading of dates differ from this one's (scoring rules version {}, now {}): finish it with the build that \
                 started it",
                self.scoring_rules, other.scoring_rules
            ));
        }
        if self.inputs != other.inputs {
            return Some(format!(
                "inputs: the run read {}, now {}",
                self.inputs.join(" "),
                other.inputs.join(" ")
            ));
        }
        if let Some(difference) = self.read.difference(&other.read) {
            return Some(difference);
        }
        if self.shard != other.shard {
            let name = |s: Option<Shard>| s.map_or_else(|| "no --shard".to_owned(), |s| format!("--shard {s}"));
            return Some(format!(
                "shard: the run used {}, now {}",
                name(self.shard),
                name(other.shard)
            ));
        }
        if self.actors != other.actors {
            return Some("actors: the actor definitions differ".into());
        }
        // The same files are the same model however they are reached: the embedded bundle or its
        // directory, a relative or absolute path, a trailing slash, a link.
        let same_files = !self.model_hash.is_empty() && self.model_hash == other.model_hash;
        if !same_files && (&self.model, &self.model_origin) != (&other.model, &other.model_origin) {
            return Some(format!(
                "model: the run used {} ({}), now {} ({})",
                self.model, self.model_origin, other.model, other.model_origin
            ));
        }
        if self.model_hash != other.model_hash {
            return Some(format!(
                "model: the files of {} changed since the run started (content hash {}, now {})",
                other.model_origin, self.model_hash, other.model_hash
            ));
        }
        if self.format != other.format {
            // A run's Parquet files are made from a journal (documents.jsonl) written from its start.
            return Some(format!("--format: the run used {}, now {}", self.format, other.format));
        }
        if self.document_context != other.document_context {
            return Some(format!(
                "--document-context: the run used {}, now {}",
                self.document_context, other.document_context
            ));
        }
        None
    }
}

/// Committed lengths of the append-only outputs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Offsets {
    pub sentences: u64,
    pub documents: u64,
    pub errors: u64,
    /// `documents.jsonl`, written with [`OutputFormat::Parquet`] only.
    #[serde(default)]
    pub documents_jsonl: u64,
}

/// One invocation of the run (the first, then one per `--resume`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// When it started (RFC 3339, UTC).
    pub started_at: String,
    /// When it last committed or finished.
    pub updated_at: String,
    /// Input records already done when it started.
    pub start_records: u64,
    /// Documents it scored or failed.
    pub documents: u64,
    /// Wall-clock seconds.
    pub wall_secs: f64,
    /// Seconds the reader thread spent reading and parsing.
    pub read_secs: f64,
    /// Seconds spent scoring (segmentation to inference).
    pub score_secs: f64,
    /// Seconds the writer spent formatting, writing and committing.
    pub write_secs: f64,
}

/// The resume state, as saved in `checkpoint.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Checkpoint {
    pub version: u32,
    /// The run's identity, drawn when it starts (see [`RunInfo::run_id`](super::RunInfo::run_id)).
    pub run_id: String,
    pub config: RunConfig,
    /// Input records done: scored, failed, or left to another shard.
    pub records: u64,
    /// Input bytes read when the last of them was.
    pub input_bytes: u64,
    /// [`InputHash`](super::InputHash) of those records: a resume that reads other records is refused.
    pub input_hash: String,
    /// Records left to other shards.
    pub other_shards: u64,
    pub offsets: Offsets,
    pub summary: Summary,
    pub complete: bool,
    pub sessions: Vec<Session>,
}

impl Checkpoint {
    pub fn fresh(config: RunConfig, summary: Summary) -> Self {
        Checkpoint {
            version: CHECKPOINT_VERSION,
            run_id: new_run_id(),
            config,
            records: 0,
            input_bytes: 0,
            input_hash: InputHash::default().hex(),
            other_shards: 0,
            offsets: Offsets::default(),
            summary,
            complete: false,
            sessions: Vec::new(),
        }
    }

    /// Loads `dir/checkpoint.json`; `Ok(None)` when there is none.
    pub fn load(dir: &Path) -> Result<Option<Checkpoint>> {
        let path = dir.join(CHECKPOINT);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(&path, e)),
        };
        let checkpoint: Checkpoint = serde_json::from_slice(&bytes).map_err(|e| {
            Error::input(
                path.display().to_string(),
                Some(e.line()),
                format!("corrupt checkpoint: {e}"),
            )
        })?;
        if checkpoint.version != CHECKPOINT_VERSION {
            return Err(Error::input(
                path.display().to_string(),
                None,
                format!("checkpoint version {} is not {CHECKPOINT_VERSION}: resume with the stance version that started the run", checkpoint.version),
            ));
        }
        Ok(Some(checkpoint))
    }

    /// Refuses journals of a finished run that are not the lengths it committed: they were cut,
    /// appended to or replaced since, and what is made from them (Parquet files, a merge) would
    /// disagree with the summary.
    pub fn check_journals(&self, dir: &Path) -> Result<()> {
        check_row_files(dir, self.journal_lengths())
    }

    /// The committed length of each journal the run writes.
    pub(crate) fn journal_lengths(&self) -> Vec<(&'static str, u64)> {
        let o = self.offsets;
        let mut journals = vec![(SENTENCES, o.sentences), (DOCUMENTS, o.documents), (ERRORS, o.errors)];
        if self.config.format == OutputFormat::Parquet {
            journals.push((DOCUMENTS_JSONL, o.documents_jsonl));
        }
        journals
    }

    /// Saves atomically to `dir/checkpoint.json`.
    pub fn save(&self, dir: &Path) -> Result<()> {
        let bytes =
            serde_json::to_vec(self).map_err(|e| Error::Config(format!("cannot serialize the checkpoint: {e}")))?;
        write_atomic(&dir.join(CHECKPOINT), &bytes)
    }
}
