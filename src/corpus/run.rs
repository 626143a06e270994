//! A corpus run: reader thread -> scoring -> writer thread, with bounded queues.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::analyzer::{Analyzer, AnalyzerInfo, Document, DocumentStances};
use crate::error::{Error, Result};

use super::checkpoint::{Checkpoint, RunConfig, Session};
use super::input::{CorpusReader, ErrorKind, ReadOptions, Record, RecordError};
use super::output::{write_atomic, DOCUMENTS, ERRORS, RUN_JSON, SENTENCES, SUMMARY_CSV, SUMMARY_JSON};
use super::shard::Shard;
use super::summary::Summary;
use super::writer::{ScoredChunk, ScoredItem, Writer};

/// Version of the output schema (`sentences.jsonl`, `documents.csv`, `errors.jsonl`, summaries).
pub const SCHEMA_VERSION: u32 = 1;

/// How to run over a corpus.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RunOptions {
    /// How to read the inputs.
    pub read: ReadOptions,
    /// Score only this share of the documents.
    pub shard: Option<Shard>,
    /// Continue the run in the output directory instead of refusing to touch it.
    pub resume: bool,
    /// Documents per scoring chunk (more batch across documents better; fewer commit more often).
    pub chunk_documents: usize,
    /// Text bytes per scoring chunk, whatever the number of documents: bounds memory.
    pub chunk_bytes: usize,
    /// Chunks that may wait in each queue between the threads.
    pub queue_chunks: usize,
    /// Least time between two commits. A commit also waits ten times its own
    /// cost, so that a large checkpoint cannot dominate the run.
    pub commit_interval: Duration,
    /// Batch (sentence, actor) pairs of different documents together: faster,
    /// on GPUs especially, but scores then vary in their last bits with the
    /// company a document keeps, so a resumed or sharded run matches an
    /// uninterrupted one to about 1e-6 instead of exactly. Off by default.
    pub batch_across_documents: bool,
    /// The command line, recorded in `run.json`.
    pub command: Vec<String>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            read: ReadOptions::default(),
            shard: None,
            resume: false,
            chunk_documents: 256,
            chunk_bytes: 4 << 20,
            queue_chunks: 2,
            commit_interval: Duration::from_secs(2),
            batch_across_documents: false,
            command: Vec::new(),
        }
    }
}

/// Live counters of a run, for progress displays: read them from another thread.
#[derive(Debug, Default)]
pub struct Progress {
    documents: AtomicU64,
    failed: AtomicU64,
    sentences: AtomicU64,
    pairs: AtomicU64,
    input_bytes: AtomicU64,
    total_bytes: AtomicU64,
    total_known: AtomicBool,
}

impl Progress {
    /// Documents scored so far (including those of earlier sessions of a resumed run).
    pub fn documents(&self) -> u64 {
        self.documents.load(Ordering::Relaxed)
    }

    /// Documents failed so far.
    pub fn failed(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }

    /// Sentences of the scored documents.
    pub fn sentences(&self) -> u64 {
        self.sentences.load(Ordering::Relaxed)
    }

    /// Scored (sentence, actor) pairs.
    pub fn pairs(&self) -> u64 {
        self.pairs.load(Ordering::Relaxed)
    }

    /// Input bytes behind the documents written so far.
    pub fn input_bytes(&self) -> u64 {
        self.input_bytes.load(Ordering::Relaxed)
    }

    /// Total input bytes, when known (see [`super::input::input_size`]).
    pub fn total_bytes(&self) -> Option<u64> {
        self.total_known
            .load(Ordering::Relaxed)
            .then(|| self.total_bytes.load(Ordering::Relaxed))
    }

    /// Sets the total input size, for a percentage and an ETA.
    pub fn set_total_bytes(&self, bytes: u64) {
        self.total_bytes.store(bytes, Ordering::Relaxed);
        self.total_known.store(true, Ordering::Relaxed);
    }

    pub(crate) fn set(&self, summary: &Summary, input_bytes: u64) {
        self.documents.store(summary.documents, Ordering::Relaxed);
        self.failed.store(summary.failed, Ordering::Relaxed);
        self.sentences.store(summary.sentences, Ordering::Relaxed);
        self.pairs.store(summary.pairs, Ordering::Relaxed);
        self.input_bytes.store(input_bytes, Ordering::Relaxed);
    }
}

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
    /// Version of `stance`.
    pub stance_version: String,
    /// Version of ONNX Runtime it loads.
    pub onnxruntime_version: String,
    /// The command line, when given.
    pub command: Vec<String>,
    /// Inputs, as given.
    pub inputs: Vec<String>,
    /// How they were read.
    pub read: ReadOptions,
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
    /// The first session, then one per resume.
    pub sessions: Vec<Session>,
    /// For a merge: the run directories merged.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_from: Vec<String>,
}

impl RunInfo {
    pub(crate) fn from_checkpoint(state: &Checkpoint, analyzer: Option<&AnalyzerInfo>, command: &[String]) -> RunInfo {
        let s = &state.summary;
        let wall_secs: f64 = state.sessions.iter().map(|s| s.wall_secs).sum();
        let rate = |n: u64| if wall_secs > 0.0 { n as f64 / wall_secs } else { 0.0 };
        let done_in_sessions: u64 = state.sessions.iter().map(|s| s.documents).sum();
        RunInfo {
            schema: SCHEMA_VERSION,
            status: if state.complete {
                RunStatus::Complete
            } else {
                RunStatus::Running
            },
            stance_version: env!("CARGO_PKG_VERSION").to_owned(),
            onnxruntime_version: crate::ORT_VERSION.to_owned(),
            command: command.to_vec(),
            inputs: state.config.inputs.clone(),
            read: state.config.read.clone(),
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
            sessions: state.sessions.clone(),
            merged_from: Vec::new(),
        }
    }

    /// Writes `run.json` atomically.
    pub(crate) fn save(&self, dir: &Path) -> Result<()> {
        let mut bytes =
            serde_json::to_vec_pretty(self).map_err(|e| Error::Config(format!("cannot serialize run.json: {e}")))?;
        bytes.push(b'\n');
        write_atomic(&dir.join(RUN_JSON), &bytes)
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

/// The result of [`score_corpus`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RunOutcome {
    /// The aggregates, as written to `summary.json`.
    pub summary: Summary,
    /// What was written to `run.json`.
    pub info: RunInfo,
    /// Whether the run had already finished before this call (`resume` on a complete run).
    pub already_complete: bool,
}

/// Scores every document of `inputs` into `out`: see the [module docs](super)
/// for the files, and [`RunOptions`] for the knobs.
///
/// The pipeline is a reader thread, the scoring loop (this thread, using
/// rayon's pool through [`Analyzer::score_documents`]) and a writer thread,
/// joined by queues of at most [`RunOptions::queue_chunks`] chunks, so memory
/// stays flat whatever the corpus size. The writer appends rows, and commits
/// every [`RunOptions::commit_interval`]: it syncs the files, then atomically
/// replaces `checkpoint.json` with the number of input records done, the
/// files' lengths and the aggregates. With `resume`, a killed run (even by
/// `kill -9` or a power cut) cuts the files back to the last commit, skips the
/// records done and goes on, so no document is lost, scored twice or counted
/// twice, and the result equals an uninterrupted run's.
///
/// # Errors
/// A directory that holds another run (without `resume`), a checkpoint whose
/// settings differ from these, unreadable inputs ([`Error::Io`]) and output
/// failures. Documents that cannot be read or scored are not errors: they go
/// to `errors.jsonl` and [`Summary::failed`].
pub fn score_corpus(
    analyzer: &Analyzer,
    inputs: &[PathBuf],
    out: &Path,
    options: &RunOptions,
    progress: &Progress,
) -> Result<RunOutcome> {
    let config = RunConfig::new(inputs, &options.read, options.shard, analyzer);
    let reader = CorpusReader::new(inputs, options.read.clone())?;
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let mut state = initial_state(out, config, options.resume, analyzer)?;
    progress.set(&state.summary, state.input_bytes);
    if state.complete {
        // Finished before: the summaries may not have been written if the end was interrupted; writing is idempotent.
        let info = write_final(out, &state, Some(analyzer.info()), &options.command)?;
        return Ok(RunOutcome {
            summary: state.summary,
            info,
            already_complete: true,
        });
    }
    state.sessions.push(Session {
        started_at: timestamp(SystemTime::now()),
        start_records: state.records,
        ..Session::default()
    });
    let writer = Writer::open(out, state, options, analyzer.info().clone())?;
    let state = pipeline(analyzer, reader, writer, options, progress)?;
    let info = write_final(out, &state, Some(analyzer.info()), &options.command)?;
    Ok(RunOutcome {
        summary: state.summary,
        info,
        already_complete: false,
    })
}

/// The fresh or resumed state; refuses to overwrite a run it was not asked to resume.
fn initial_state(out: &Path, config: RunConfig, resume: bool, analyzer: &Analyzer) -> Result<Checkpoint> {
    let existing = Checkpoint::load(out)?;
    match existing {
        Some(state) if resume => match state.config.difference(&config) {
            Some(difference) => Err(Error::Config(format!(
                "cannot resume the run in {}: {difference}; resume with the same settings, or start a new run elsewhere",
                out.display()
            ))),
            None => Ok(state),
        },
        Some(_) => Err(Error::Config(format!(
            "{} holds a run (checkpoint.json): pass --resume to continue it, or choose another directory",
            out.display()
        ))),
        None => {
            let taken = [SENTENCES, DOCUMENTS, ERRORS, SUMMARY_JSON, RUN_JSON]
                .into_iter()
                .find(|name| out.join(name).exists() && (*name == SUMMARY_JSON || !resume));
            if let Some(name) = taken {
                return Err(Error::Config(format!(
                    "{} already holds {name} but no checkpoint of a run to resume: choose another directory",
                    out.display()
                )));
            }
            Ok(Checkpoint::fresh(config, Summary::new(analyzer.actors())))
        }
    }
}

/// Writes `summary.json`, `summary.csv` and `run.json` of a finished run.
fn write_final(out: &Path, state: &Checkpoint, analyzer: Option<&AnalyzerInfo>, command: &[String]) -> Result<RunInfo> {
    write_summaries(out, &state.summary)?;
    let info = RunInfo::from_checkpoint(state, analyzer, command);
    info.save(out)?;
    Ok(info)
}

/// Writes `summary.json` and `summary.csv` atomically.
pub(crate) fn write_summaries(out: &Path, summary: &Summary) -> Result<()> {
    let mut json =
        serde_json::to_vec_pretty(summary).map_err(|e| Error::Config(format!("cannot serialize the summary: {e}")))?;
    json.push(b'\n');
    write_atomic(&out.join(SUMMARY_JSON), &json)?;
    let mut csv = Vec::new();
    summary.write_csv(&mut csv, SUMMARY_CSV)?;
    write_atomic(&out.join(SUMMARY_CSV), &csv)
}

/// Input records read for scoring, with the reader's position after the last one.
pub(crate) struct ReadChunk {
    pub records: Vec<Record>,
    /// Records consumed from the start of the input, up to and including this chunk.
    pub end_records: u64,
    pub input_bytes: u64,
    pub other_shards: u64,
    /// The input is exhausted.
    pub last: bool,
}

/// Seconds spent by each stage, shared between the threads (nanoseconds).
#[derive(Default)]
pub(crate) struct StageClock {
    pub read: AtomicU64,
    pub score: AtomicU64,
}

impl StageClock {
    fn add(counter: &AtomicU64, since: Instant) {
        let nanos = u64::try_from(since.elapsed().as_nanos()).unwrap_or(u64::MAX);
        counter.fetch_add(nanos, Ordering::Relaxed);
    }

    pub fn secs(counter: &AtomicU64) -> f64 {
        counter.load(Ordering::Relaxed) as f64 / 1e9
    }
}

fn pipeline(
    analyzer: &Analyzer,
    reader: CorpusReader,
    writer: Writer,
    options: &RunOptions,
    progress: &Progress,
) -> Result<Checkpoint> {
    let clock = StageClock::default();
    let skip = writer.records_done();
    let (read_tx, read_rx) = sync_channel::<ReadChunk>(options.queue_chunks.max(1));
    let (scored_tx, scored_rx) = sync_channel::<ScoredChunk>(options.queue_chunks.max(1));
    std::thread::scope(|scope| {
        let clock = &clock;
        let read = scope.spawn(move || read_loop(reader, skip, options, read_tx, clock));
        let write = scope.spawn(move || writer.run(scored_rx, progress, clock));
        score_loop(analyzer, read_rx, scored_tx, clock, options.batch_across_documents);
        let written = write
            .join()
            .map_err(|_| Error::Config("internal error: the writer thread panicked".into()))?;
        let read = read
            .join()
            .map_err(|_| Error::Config("internal error: the reader thread panicked".into()))?;
        // A reader error explains an unfinished writer better than the writer can.
        read?;
        let state = written?;
        if state.complete {
            Ok(state)
        } else {
            Err(Error::Config(
                "the run stopped before the end of the input; resume it with --resume".into(),
            ))
        }
    })
}

/// Reads records in chunks, skipping those already done and those of other shards.
fn read_loop(
    mut reader: CorpusReader,
    skip: u64,
    options: &RunOptions,
    tx: SyncSender<ReadChunk>,
    clock: &StageClock,
) -> Result<()> {
    let start = Instant::now();
    let mut position = 0u64;
    while position < skip {
        if reader.next().is_none() {
            return Err(Error::Config(format!(
                "the inputs hold {position} records but the checkpoint says {skip} were done: \
                 they changed since the run started, so it cannot be resumed"
            )));
        }
        position += 1;
    }
    StageClock::add(&clock.read, start);
    loop {
        let started = Instant::now();
        let chunk = next_chunk(&mut reader, &mut position, options);
        StageClock::add(&clock.read, started);
        let last = chunk.last;
        if tx.send(chunk).is_err() || last {
            return Ok(());
        }
    }
}

/// Records scanned per chunk at most, so that a shard that keeps few documents still commits progress.
const MAX_SCANNED_PER_CHUNK: u64 = 10_000;

fn next_chunk(reader: &mut CorpusReader, position: &mut u64, options: &RunOptions) -> ReadChunk {
    let mut chunk = ReadChunk {
        records: Vec::new(),
        end_records: 0,
        input_bytes: 0,
        other_shards: 0,
        last: false,
    };
    let (mut text_bytes, mut scanned) = (0usize, 0u64);
    while chunk.records.len() < options.chunk_documents.max(1)
        && text_bytes < options.chunk_bytes
        && scanned < MAX_SCANNED_PER_CHUNK
    {
        let Some(record) = reader.next() else {
            chunk.last = true;
            break;
        };
        *position += 1;
        scanned += 1;
        if options.shard.is_some_and(|shard| !shard.contains(record.id())) {
            chunk.other_shards += 1;
            continue;
        }
        text_bytes += record.document.as_ref().map_or(0, |d| d.text.len());
        chunk.records.push(record);
    }
    chunk.end_records = *position;
    chunk.input_bytes = reader.bytes_read();
    chunk
}

/// Scores chunks in order; stops when the input ends or the writer has stopped.
fn score_loop(
    analyzer: &Analyzer,
    rx: Receiver<ReadChunk>,
    tx: SyncSender<ScoredChunk>,
    clock: &StageClock,
    across: bool,
) {
    for chunk in rx {
        let started = Instant::now();
        let scored = score_chunk(analyzer, chunk, across);
        StageClock::add(&clock.score, started);
        if tx.send(scored).is_err() {
            return;
        }
    }
}

/// Scores documents; unless `across`, each in batches of its own pairs only.
///
/// Batching pairs of different documents together is faster (fuller batches),
/// but a pair's score then depends, in its last bits, on the batch it ran in
/// (padding and kernel shapes change the order of floating-point sums). Scored
/// alone, a document gets the same bits whatever it is read with, so resumed
/// and sharded runs reproduce one uninterrupted run exactly.
fn score_documents(analyzer: &Analyzer, docs: &[Document], across: bool) -> Vec<Result<DocumentStances>> {
    if across {
        analyzer.score_documents(docs)
    } else {
        analyzer.score_documents_separately(docs)
    }
}

fn score_chunk(analyzer: &Analyzer, chunk: ReadChunk, across: bool) -> ScoredChunk {
    let mut docs: Vec<Document> = Vec::new();
    let mut slots = Vec::with_capacity(chunk.records.len());
    for record in chunk.records {
        match record.document {
            Ok(doc) => {
                slots.push((record.location, None));
                docs.push(doc);
            }
            Err(e) => slots.push((record.location, Some(e))),
        }
    }
    let mut results = score_documents(analyzer, &docs, across).into_iter();
    let mut docs = docs.into_iter();
    let items = slots
        .into_iter()
        .map(|(location, error)| match error {
            Some(error) => ScoredItem {
                location,
                meta: None,
                result: Err(error),
            },
            None => {
                let mut meta = docs.next().unwrap_or_default();
                // The writer needs the metadata only; the text can go now.
                meta.text = String::new();
                let result = results
                    .next()
                    .unwrap_or_else(|| Err(Error::Config("document was not scored".into())));
                let result = result.map_err(|e| RecordError {
                    id: meta.id.clone(),
                    kind: ErrorKind::Scoring,
                    reason: e.to_string(),
                });
                ScoredItem {
                    location,
                    meta: Some(meta),
                    result,
                }
            }
        })
        .collect();
    ScoredChunk {
        items,
        end_records: chunk.end_records,
        input_bytes: chunk.input_bytes,
        other_shards: chunk.other_shards,
        last: chunk.last,
    }
}

/// RFC 3339 in UTC, to the second.
pub(crate) fn timestamp(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

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
