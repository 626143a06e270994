//! A corpus run: reader thread -> scoring -> writer thread, with bounded queues.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::time::{Duration, Instant, SystemTime};

use crate::actor::ActorSet;
use crate::analyzer::{Analyzer, AnalyzerInfo, Document, DocumentError, DocumentStances};
use crate::error::{Error, Result};

use super::checkpoint::{Checkpoint, RunConfig, Session};
use super::input::{
    check_out_holds_no_documents, CorpusReader, EmptyFiles, ReadOptions, Record, RecordError, SkippedFiles,
};
use super::meta::{timestamp, DirLock, InputHash, RunInfo};
use super::output::{
    remove_parquet, remove_stale_temporaries, write_atomic, write_parquet, OutputFormat, RESULTS, SUMMARY_CSV,
    SUMMARY_JSON,
};
use super::progress::{Progress, StageClock};
use super::shard::Shard;
use super::summary::Summary;
use super::writer::{ScoredChunk, ScoredItem, Writer};

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
    /// Documents per scoring chunk (more batch across documents better; fewer commit more often;
    /// 0 reads as 1).
    pub chunk_documents: usize,
    /// Text bytes per scoring chunk, whatever the number of documents: bounds memory (a chunk
    /// holds one document at least, so 0 reads as 1).
    pub chunk_bytes: usize,
    /// Chunks that may wait in each queue between the threads: 1 to [`MAX_QUEUE_CHUNKS`], values
    /// outside are clamped (each queued chunk holds up to `chunk_bytes` of text).
    pub queue_chunks: usize,
    /// Least time between two commits. A commit also waits ten times its own
    /// cost, so that a large checkpoint cannot dominate the run.
    pub commit_interval: Duration,
    /// Batch (sentence, actor) pairs of different documents together even when
    /// the model is not batch-invariant ([`crate::AnalyzerInfo::batch_invariant`]:
    /// a bundle that does not say so, or a GPU). Faster there, but scores then
    /// vary in their last bits with the company a document keeps, so a resumed
    /// or sharded run matches an uninterrupted one to about 1e-6 instead of
    /// exactly. Off by default; a batch-invariant model batches across
    /// documents anyway, exactly.
    pub batch_across_documents: bool,
    /// The command line, recorded in `run.json`.
    pub command: Vec<String>,
    /// The output files besides the journals: [`OutputFormat::Parquet`] adds
    /// `sentences.parquet` and `documents.parquet`. Recorded in the
    /// checkpoint: a resume must ask for the same.
    pub format: OutputFormat,
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
            format: OutputFormat::Jsonl,
        }
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
/// The run holds `out`'s lock ([`DirLock`]) from start to end, and never
/// reads its own outputs: a walked input directory skips `out`, and an input
/// inside `out` is refused, as is an `out` inside an input directory that
/// already holds documents (they would be skipped). These checks come before
/// anything is created. Other runs' directories met by the walk are skipped
/// and listed in [`RunInfo::skipped_run_dirs`]; files of other extensions and
/// links to directories in [`RunInfo::skipped_files`].
///
/// # Errors
/// A directory that another process is working in, or that holds another run
/// (without `resume`), a checkpoint whose settings, model files or input
/// records differ from these, unreadable inputs ([`Error::Io`]) and output
/// failures. Documents that cannot be read or scored are not errors: they go
/// to `errors.jsonl` and [`Summary::failed`].
pub fn score_corpus(
    analyzer: &Analyzer,
    inputs: &[PathBuf],
    out: &Path,
    options: &RunOptions,
    progress: &Progress,
) -> Result<RunOutcome> {
    // Checked before anything is created in `out`, so that a refused run leaves nothing behind.
    options.format.check_available()?;
    let reader = CorpusReader::new(inputs, options.read.clone())?.excluding_output(out)?;
    check_out_is_no_file(out)?;
    check_out_holds_no_documents(out)?;
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let holder = if options.command.is_empty() {
        "stance score".to_owned()
    } else {
        options.command.join(" ")
    };
    let _lock = DirLock::acquire(out, &holder)?;
    remove_stale_temporaries(out)?;
    let config = RunConfig::new(inputs, &options.read, options.shard, options.format, analyzer)?;
    let mut state = initial_state(out, config, options.resume, analyzer)?;
    progress.set(&state.summary, state.input_bytes);
    if state.complete {
        // Finished before: the summaries and Parquet files may not have been written if the end was
        // interrupted. Summaries are rewritten (that is idempotent); Parquet files there are kept.
        // They are made from the journals and the inputs as they are now, so both are checked first.
        state.check_journals(out)?;
        let skipped = check_finished_inputs(reader, &state)?;
        // Nothing is scored now: run.json keeps what scored the run (command, settings,
        // versions), unless the end was cut before it was written.
        let scored_by = RunInfo::load(out).ok();
        let ending = Ending::FinishedBefore(scored_by.as_ref());
        let info = write_final(out, &state, analyzer.info(), &options.command, skipped, ending)?;
        return Ok(RunOutcome {
            summary: state.summary,
            info,
            already_complete: true,
        });
    }
    remove_parquet(out)?;
    state.sessions.push(Session {
        started_at: timestamp(SystemTime::now()),
        start_records: state.records,
        ..Session::default()
    });
    let skip = (state.records, state.input_hash.clone());
    let writer = Writer::open(
        out,
        state,
        &options.command,
        options.commit_interval,
        analyzer.info().clone(),
    )?;
    let (state, skipped) = pipeline(analyzer, reader, writer, skip, options, progress)?;
    let info = write_final(
        out,
        &state,
        analyzer.info(),
        &options.command,
        skipped,
        Ending::ScoredNow,
    )?;
    Ok(RunOutcome {
        summary: state.summary,
        info,
        already_complete: false,
    })
}

/// The ids of recorded actor definitions, in order.
fn actor_ids(actors: &serde_json::Value) -> Vec<&str> {
    // As an `ActorSet` serializes: `{"actor": [{"id": …}, …]}`.
    let list = actors["actor"].as_array().map_or(&[][..], Vec::as_slice);
    list.iter().map(|actor| actor["id"].as_str().unwrap_or("")).collect()
}

/// The fresh or resumed state; refuses to overwrite a run it was not asked to resume.
fn initial_state(out: &Path, mut config: RunConfig, resume: bool, analyzer: &Analyzer) -> Result<Checkpoint> {
    let existing = Checkpoint::load(out)?;
    if let Some(state) = existing
        .as_ref()
        .filter(|state| state.complete && state.config.scoring_rules != config.scoring_rules)
    {
        // A finished run scores nothing more, so a build with other scoring rules may "resume" it
        // (and the command that scored a corpus serves every later restart, upgrades too); what
        // it writes still records the rules that scored it. The built-in actors' aliases and
        // exclusions are part of those rules, so a built-in actor is the same actor by its id;
        // an actor of the user's file is still compared in full.
        config.scoring_rules = state.config.scoring_rules;
        if actor_ids(&state.config.actors) == actor_ids(&config.actors) {
            let builtin = ActorSet::builtin();
            let (old, new) = (&state.config.actors["actor"], &mut config.actors["actor"]);
            for (then, now) in old
                .as_array()
                .into_iter()
                .flatten()
                .zip(new.as_array_mut().into_iter().flatten())
            {
                if then["id"].as_str().is_some_and(|id| builtin.position(id).is_some()) {
                    now.clone_from(then);
                }
            }
        }
    }
    match existing {
        Some(state) if resume => match state.config.difference(&config) {
            Some(difference) => Err(Error::Config(format!(
                "cannot resume the run in {}: {difference}; resume with the same settings, or start a new run elsewhere",
                out.display()
            ))),
            None => {
                check_identity(out, &state)?;
                Ok(state)
            }
        },
        Some(_) => Err(Error::Config(format!(
            "{} holds a run (checkpoint.json): pass --resume to continue it, or choose another directory",
            out.display()
        ))),
        None => {
            // A run saves its checkpoint before it creates any file (`Writer::open`): these files
            // are not a run's, and --resume must not write over them either.
            if let Some(name) = RESULTS.into_iter().find(|name| out.join(name).exists()) {
                return Err(Error::Config(format!(
                    "{} already holds {name} but no checkpoint.json, so it is not a run that --resume can \
                     continue: choose another directory",
                    out.display()
                )));
            }
            Ok(Checkpoint::fresh(config, Summary::new(analyzer.actors())))
        }
    }
}

/// Refuses a checkpoint and a `run.json` of two different runs (files copied between directories).
fn check_identity(out: &Path, state: &Checkpoint) -> Result<()> {
    let Ok(info) = RunInfo::load(out) else {
        // run.json is rewritten from the checkpoint at the next commit.
        return Ok(());
    };
    if info.run_id == state.run_id {
        return Ok(());
    }
    Err(Error::Config(format!(
        "cannot resume the run in {}: checkpoint.json belongs to run {} but run.json to run {}; \
         the directory mixes the files of two runs: start a new run elsewhere",
        out.display(),
        state.run_id,
        info.run_id
    )))
}

/// Reads the inputs of a finished run again, to check that they are still the records it read
/// (no more, no other); returns what the walk skipped, for `run.json`.
fn check_finished_inputs(mut reader: CorpusReader, state: &Checkpoint) -> Result<Skipped> {
    let hash = skip_done(&mut reader, (state.records, state.input_hash.clone()))?;
    if reader.next().is_some() {
        return Err(Error::Config(format!(
            "the run finished after {} input records, and the inputs now hold more: they changed since; \
             score them in a new run elsewhere",
            state.records
        )));
    }
    Ok(skipped_by(&reader, &hash))
}

/// How a run comes to its end.
enum Ending<'a> {
    /// Its last documents were scored now.
    ScoredNow,
    /// An earlier session finished it; the run.json it wrote, when it can be read, says what
    /// scored the rows (command, analyzer settings, versions), and is kept.
    FinishedBefore(Option<&'a RunInfo>),
}

/// Writes the Parquet files (with [`OutputFormat::Parquet`]; for a run finished
/// before, those there are kept), `summary.json`, `summary.csv` and `run.json`
/// of a finished run.
fn write_final(
    out: &Path,
    state: &Checkpoint,
    analyzer: &AnalyzerInfo,
    command: &[String],
    skipped: Skipped,
    ending: Ending<'_>,
) -> Result<RunInfo> {
    if state.config.format == OutputFormat::Parquet {
        write_parquet(out, matches!(ending, Ending::FinishedBefore(_)))?;
    }
    write_summaries(out, &state.summary)?;
    let mut info = RunInfo::from_checkpoint(state, Some(analyzer), command);
    if let Ending::FinishedBefore(Some(scored_by)) = ending {
        info.command.clone_from(&scored_by.command);
        info.analyzer.clone_from(&scored_by.analyzer);
        info.stance_version.clone_from(&scored_by.stance_version);
        info.onnxruntime_version.clone_from(&scored_by.onnxruntime_version);
    }
    // A run directory named as an input was not read: merge must not take it for one of the inputs.
    let read: Vec<String> = state
        .config
        .inputs
        .iter()
        .filter(|input| !skipped.run_dirs.contains(input))
        .cloned()
        .collect();
    info.input_paths = resolved_inputs(&read);
    info.documents_hash = skipped.documents_hash;
    info.skipped_run_dirs = skipped.run_dirs;
    info.skipped_files = skipped.files;
    info.empty_files = skipped.empty_files;
    info.unmatched_fields = skipped.unmatched_fields;
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
    /// [`InputHash`] of the records up to `end_records`.
    pub input_hash: String,
    /// The input is exhausted.
    pub last: bool,
}

/// What a directory walk met and did not read, and the fields no record held (listed in run.json).
#[derive(Default)]
struct Skipped {
    run_dirs: Vec<String>,
    files: SkippedFiles,
    empty_files: EmptyFiles,
    unmatched_fields: Vec<String>,
    /// [`InputHash::documents_hex`] of every record read, when the input was read to its end.
    documents_hash: String,
}

fn pipeline(
    analyzer: &Analyzer,
    reader: CorpusReader,
    writer: Writer,
    skip: (u64, String),
    options: &RunOptions,
    progress: &Progress,
) -> Result<(Checkpoint, Skipped)> {
    let clock = StageClock::default();
    let queue = options.queue_chunks.clamp(1, MAX_QUEUE_CHUNKS);
    let (read_tx, read_rx) = sync_channel::<ReadChunk>(queue);
    let (scored_tx, scored_rx) = sync_channel::<ScoredChunk>(queue);
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
        let skipped = read?;
        let state = written?;
        if state.complete {
            Ok((state, skipped))
        } else {
            Err(Error::Config(
                "the run stopped before the end of the input; resume it with --resume".into(),
            ))
        }
    })
}

/// Reads records in chunks, skipping those already done (`skip`: how many,
/// and their [`InputHash`]) and those of other shards; returns what the walk
/// skipped.
fn read_loop(
    mut reader: CorpusReader,
    skip: (u64, String),
    options: &RunOptions,
    tx: SyncSender<ReadChunk>,
    clock: &StageClock,
) -> Result<Skipped> {
    let start = Instant::now();
    let mut position = skip.0;
    let mut hash = skip_done(&mut reader, skip)?;
    StageClock::add(&clock.read, start);
    loop {
        let started = Instant::now();
        let chunk = next_chunk(&mut reader, &mut position, &mut hash, options);
        StageClock::add(&clock.read, started);
        let last = chunk.last;
        if tx.send(chunk).is_err() || last {
            return Ok(skipped_by(&reader, &hash));
        }
    }
}

/// What `reader`'s walk met and did not read, so far.
fn skipped_by(reader: &CorpusReader, hash: &InputHash) -> Skipped {
    Skipped {
        documents_hash: hash.documents_hex(),
        run_dirs: reader
            .skipped_run_dirs()
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        files: reader.skipped_files().clone(),
        empty_files: reader.empty_files().clone(),
        unmatched_fields: reader.unmatched_fields(),
    }
}

/// The inputs as absolute paths with links resolved (standard input and inputs that are gone
/// left out), so that merge can tell that two runs read one file named two ways.
fn resolved_inputs(inputs: &[String]) -> Vec<String> {
    inputs
        .iter()
        .filter(|input| input.as_str() != "-")
        .filter_map(|input| std::fs::canonicalize(input).ok())
        .map(|path| path.display().to_string())
        .collect()
}

/// Reads past the `done` records of an earlier session, checking that they
/// are the records it read: the same number, with the same content hash.
fn skip_done(reader: &mut CorpusReader, (done, expected): (u64, String)) -> Result<InputHash> {
    let mut hash = InputHash::default();
    for position in 0..done {
        let Some(record) = reader.next() else {
            return Err(Error::Config(format!(
                "the inputs hold {position} records but the checkpoint says {done} were done: \
                 they changed since the run read them; score them in a new run elsewhere"
            )));
        };
        hash.add(&record);
    }
    if hash.hex() != expected {
        return Err(Error::Config(format!(
            "the first {done} input records are not those the run read (content hash {}, the checkpoint \
             says {expected}): the inputs changed since the run read them; score them in a new run elsewhere",
            hash.hex()
        )));
    }
    Ok(hash)
}

/// Refuses an output directory that is an existing file, by name (creating it said "File
/// exists").
pub(crate) fn check_out_is_no_file(out: &Path) -> Result<()> {
    if out.exists() && !out.is_dir() {
        return Err(Error::Config(format!(
            "{} is not a directory: a run writes its files into one; give a new or empty directory",
            out.display()
        )));
    }
    Ok(())
}

/// The most chunks [`RunOptions::queue_chunks`] lets wait in a queue: more would only hold
/// memory (the queues' slots are allocated up front), not speed.
pub const MAX_QUEUE_CHUNKS: usize = 64;

/// Records scanned per chunk at most, so that a shard that keeps few documents still commits progress.
const MAX_SCANNED_PER_CHUNK: u64 = 10_000;

fn next_chunk(reader: &mut CorpusReader, position: &mut u64, hash: &mut InputHash, options: &RunOptions) -> ReadChunk {
    let mut chunk = ReadChunk {
        records: Vec::new(),
        end_records: 0,
        input_bytes: 0,
        other_shards: 0,
        input_hash: String::new(),
        last: false,
    };
    let (mut text_bytes, mut scanned) = (0usize, 0u64);
    while chunk.records.len() < options.chunk_documents.max(1)
        && text_bytes < options.chunk_bytes.max(1)
        && scanned < MAX_SCANNED_PER_CHUNK
    {
        let Some(record) = reader.next() else {
            chunk.last = true;
            break;
        };
        *position += 1;
        scanned += 1;
        hash.add(&record);
        if options.shard.is_some_and(|shard| !shard.contains(record.id())) {
            chunk.other_shards += 1;
            continue;
        }
        text_bytes += record.document.as_ref().map_or(0, |d| d.text.len());
        chunk.records.push(record);
    }
    chunk.end_records = *position;
    chunk.input_bytes = reader.bytes_read();
    chunk.input_hash = hash.hex();
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

/// Scores the documents among `records` (unless `across`, each in batches of its own pairs
/// only, as [`Analyzer::score_documents_separately`]); every record comes back, in order, with
/// the metadata of its document (its text dropped) and its stances or why there are none.
pub fn score_records(analyzer: &Analyzer, records: Vec<Record>, across: bool) -> Vec<ScoredItem> {
    let mut docs: Vec<Document> = Vec::new();
    let mut slots = Vec::with_capacity(records.len());
    for record in records {
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
    slots
        .into_iter()
        .map(|(location, error)| match error {
            Some(error) => ScoredItem {
                location,
                meta: None,
                result: Err(error),
            },
            None => {
                let mut meta = docs.next().unwrap_or_default();
                // Output needs the metadata only; the text can go now.
                meta.text = String::new();
                let result = results
                    .next()
                    .unwrap_or_else(|| Err(Error::Config("document was not scored".into())));
                // As a document's error reads everywhere: a blank text is `empty_text`, and the
                // reason does not repeat the id.
                let result = result.map_err(|error| {
                    let (kind, reason) = DocumentError {
                        id: meta.id.clone(),
                        error,
                    }
                    .kind_and_reason();
                    RecordError {
                        id: meta.id.clone(),
                        kind,
                        reason,
                    }
                });
                ScoredItem {
                    location,
                    meta: Some(meta),
                    result,
                }
            }
        })
        .collect()
}

fn score_chunk(analyzer: &Analyzer, chunk: ReadChunk, across: bool) -> ScoredChunk {
    let items = score_records(analyzer, chunk.records, across);
    ScoredChunk {
        items,
        end_records: chunk.end_records,
        input_bytes: chunk.input_bytes,
        other_shards: chunk.other_shards,
        input_hash: chunk.input_hash,
        last: chunk.last,
    }
}
