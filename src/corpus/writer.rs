//! The writer thread: appends rows in input order, aggregates, and commits checkpoints.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvError, RecvTimeoutError};
use std::time::{Duration, Instant, SystemTime};

use crate::analyzer::{AnalyzerInfo, Document, DocumentStances};
use crate::error::Result;

use super::checkpoint::{Checkpoint, Offsets};
use super::input::{Location, RecordError};
use super::meta::{timestamp, RunInfo, RunStatus};
use super::output::{
    csv_bytes, csv_row, document_rows, documents_header, json_line, sentence_lines, AppendFile, ErrorRow, OutputFormat,
    DOCUMENTS, DOCUMENTS_JSONL, ERRORS, SENTENCES,
};
use super::progress::{Progress, StageClock};

/// One input record after scoring ([`crate::corpus::score_records`]).
#[derive(Debug)]
pub struct ScoredItem {
    /// Where the record came from.
    pub location: Location,
    /// The document without its text (for its metadata), when the record was one.
    pub meta: Option<Document>,
    /// Its stances, or why there are none (it could not be read, or not be scored).
    pub result: std::result::Result<DocumentStances, RecordError>,
}

/// A scored chunk, with the reader's position after it.
pub(crate) struct ScoredChunk {
    pub items: Vec<ScoredItem>,
    pub end_records: u64,
    pub input_bytes: u64,
    pub other_shards: u64,
    /// [`InputHash`](super::InputHash) of the records up to `end_records`.
    pub input_hash: String,
    pub last: bool,
}

/// Owns the output files and the run state between commits.
pub(crate) struct Writer {
    dir: PathBuf,
    sentences: AppendFile,
    documents: AppendFile,
    errors: AppendFile,
    /// `documents.jsonl`, with [`OutputFormat::Parquet`].
    documents_jsonl: Option<AppendFile>,
    state: Checkpoint,
    analyzer: AnalyzerInfo,
    command: Vec<String>,
    commit_interval: Duration,
    /// Earliest time of the next commit.
    next_commit: Instant,
    session_start: Instant,
    write_busy: Duration,
}

impl Writer {
    /// Opens the outputs at the state's committed lengths (a fresh run gets the
    /// CSV header), and commits, so that the directory is a resumable run from now on.
    /// `command` is recorded in `run.json`; commits are at least `commit_interval` apart.
    pub fn open(
        dir: &Path,
        state: Checkpoint,
        command: &[String],
        commit_interval: Duration,
        analyzer: AnalyzerInfo,
    ) -> Result<Writer> {
        // The checkpoint comes before the files: a directory with a run's files always has one,
        // so a run killed at once is resumed, and files without one are never a run's.
        state.save(dir)?;
        let o = state.offsets;
        let mut writer = Writer {
            dir: dir.to_path_buf(),
            sentences: AppendFile::open_at(&dir.join(SENTENCES), o.sentences)?,
            documents: AppendFile::open_at(&dir.join(DOCUMENTS), o.documents)?,
            errors: AppendFile::open_at(&dir.join(ERRORS), o.errors)?,
            documents_jsonl: match state.config.format {
                OutputFormat::Parquet => Some(AppendFile::open_at(&dir.join(DOCUMENTS_JSONL), o.documents_jsonl)?),
                OutputFormat::Jsonl => None,
            },
            state,
            analyzer,
            command: command.to_vec(),
            commit_interval,
            next_commit: Instant::now(),
            session_start: Instant::now(),
            write_busy: Duration::ZERO,
        };
        if o.documents == 0 {
            writer.documents.write(&documents_header()?)?;
        }
        writer.commit(&StageClock::default())?;
        Ok(writer)
    }

    /// Writes chunks until the last one, then returns the final, committed state.
    /// If the queue closes early (the reader or scorer stopped), commits what it has.
    ///
    /// Rows written but not yet committed are committed once their commit is
    /// due, whether or not another chunk has come: a run whose input pauses (a
    /// stream on standard input) must not hold its progress back until it resumes.
    pub fn run(mut self, rx: Receiver<ScoredChunk>, progress: &Progress, clock: &StageClock) -> Result<Checkpoint> {
        let mut uncommitted = false;
        loop {
            let chunk = if uncommitted {
                match rx.recv_timeout(self.next_commit.saturating_duration_since(Instant::now())) {
                    Ok(chunk) => chunk,
                    Err(RecvTimeoutError::Timeout) => {
                        self.commit(clock)?;
                        uncommitted = false;
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            } else {
                match rx.recv() {
                    Ok(chunk) => chunk,
                    Err(RecvError) => break,
                }
            };
            let started = Instant::now();
            self.write_chunk(&chunk)?;
            progress.set(&self.state.summary, self.state.input_bytes);
            self.write_busy += started.elapsed();
            if chunk.last {
                self.state.complete = true;
                self.commit(clock)?;
                return Ok(self.state);
            }
            uncommitted = Instant::now() < self.next_commit;
            if !uncommitted {
                self.commit(clock)?;
            }
        }
        self.commit(clock)?;
        Ok(self.state)
    }

    fn write_chunk(&mut self, chunk: &ScoredChunk) -> Result<()> {
        let (mut sentences, mut document_rows_all, mut errors) = (Vec::new(), Vec::new(), Vec::new());
        let mut done = 0u64;
        for item in &chunk.items {
            done += 1;
            match (&item.result, &item.meta) {
                (Ok(doc), Some(meta)) => {
                    sentence_lines(&mut sentences, doc)?;
                    document_rows_all.extend(document_rows(meta, doc));
                    self.state
                        .summary
                        .add(doc, meta.date.as_deref(), meta.source.as_deref());
                }
                (Ok(doc), None) => {
                    sentence_lines(&mut sentences, doc)?;
                    document_rows_all.extend(document_rows(&Document::default(), doc));
                    self.state.summary.add(doc, None, None);
                }
                (Err(error), _) => {
                    json_line(&mut errors, &ErrorRow::new(&item.location, error))?;
                    self.state.summary.add_failure();
                }
            }
        }
        self.sentences.write(&sentences)?;
        if let Some(journal) = &mut self.documents_jsonl {
            let mut lines = Vec::new();
            for row in &document_rows_all {
                json_line(&mut lines, row)?;
            }
            journal.write(&lines)?;
        }
        let csv_rows: Vec<_> = document_rows_all.iter().map(csv_row).collect();
        self.documents.write(&csv_bytes(&csv_rows, false)?)?;
        self.errors.write(&errors)?;
        self.state.records = chunk.end_records;
        self.state.input_bytes = chunk.input_bytes;
        self.state.input_hash.clone_from(&chunk.input_hash);
        self.state.other_shards += chunk.other_shards;
        if let Some(session) = self.state.sessions.last_mut() {
            session.documents += done;
        }
        Ok(())
    }

    /// Makes everything written so far durable: files first, then the checkpoint
    /// that points at them (see the invariant in `checkpoint.rs`), then `run.json`.
    fn commit(&mut self, clock: &StageClock) -> Result<()> {
        let started = Instant::now();
        self.state.offsets = Offsets {
            sentences: self.sentences.commit()?,
            documents: self.documents.commit()?,
            errors: self.errors.commit()?,
            documents_jsonl: match &mut self.documents_jsonl {
                Some(journal) => journal.commit()?,
                None => 0,
            },
        };
        self.update_session(clock);
        self.state.save(&self.dir)?;
        let mut info = RunInfo::from_checkpoint(&self.state, Some(&self.analyzer), &self.command);
        // The last commit comes before the summaries and Parquet files: run.json says the run is
        // complete only once they are written too (`run::write_final`).
        info.status = RunStatus::Running;
        info.save(&self.dir)?;
        let cost = started.elapsed();
        self.write_busy += cost;
        let wait = self.commit_interval.max(cost * 10);
        // An interval too long for the clock (`--commit-secs 1e19`) means: commit at the end only.
        self.next_commit = Instant::now().checked_add(wait).unwrap_or_else(far_future);
        Ok(())
    }

    fn update_session(&mut self, clock: &StageClock) {
        let Some(session) = self.state.sessions.last_mut() else {
            return;
        };
        session.updated_at = timestamp(SystemTime::now());
        session.wall_secs = self.session_start.elapsed().as_secs_f64();
        session.read_secs = StageClock::secs(&clock.read);
        session.score_secs = StageClock::secs(&clock.score);
        session.write_secs = self.write_busy.as_secs_f64();
    }
}

/// An instant later than any commit is due: a year from now.
fn far_future() -> Instant {
    let now = Instant::now();
    now.checked_add(Duration::from_secs(365 * 86_400)).unwrap_or(now)
}
