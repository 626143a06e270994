//! Scoring whole corpora: streaming, durable, resumable and shardable.
//!
//! The pieces, in the order data flows through them:
//!
//! 1. **Read** ([`CorpusReader`]): text and Markdown files (one document each),
//!    directories of them (walked in sorted order), JSON Lines and CSV files
//!    (one document per line or row) and standard input, as a stream of
//!    [`Record`]s. A record that cannot become a document (invalid UTF-8, a
//!    malformed line, a missing or empty text field) is a [`RecordError`] that
//!    says which file and line, and the stream goes on.
//! 2. **Select** ([`Shard`]): `--shard I/N` keeps the documents whose id
//!    hashes to share `I`, with a fixed hash, so N machines split a corpus
//!    without talking to each other.
//! 3. **Score** ([`score_corpus`]): a reader thread, the scoring loop
//!    ([`crate::Analyzer::score_documents`] on chunks) and a writer thread,
//!    joined by bounded queues, so memory does not grow with the corpus.
//! 4. **Write** ([`output`]): `sentences.jsonl`, `documents.csv` and
//!    `errors.jsonl` are appended to and committed with a checkpoint (see
//!    [`score_corpus`] for why a killed run resumes exactly), then
//!    `summary.json`, `summary.csv` and `run.json` are replaced atomically.
//!    With [`OutputFormat::Parquet`], `sentences.parquet` and
//!    `documents.parquet` are converted from the journals once the run is complete.
//!    The run holds the directory's lock ([`DirLock`]) throughout, and
//!    [`RunInfo`] records its identity and the content hashes of its inputs
//!    ([`InputHash`]) and model ([`model_hash`]), which resume and merge check.
//! 5. **Aggregate** ([`Summary`]): per actor, per month and per source, with
//!    [`crate::ActorStats`]' exact sums, so shards merge ([`merge_runs`]) into
//!    exactly the summary of one run.
//!
//! ```no_run
//! use std::path::PathBuf;
//! use stance::corpus::{score_corpus, Progress, RunOptions};
//! use stance::Analyzer;
//!
//! let analyzer = Analyzer::builder().build()?;
//! let inputs = [PathBuf::from("articles/"), PathBuf::from("wire.jsonl")];
//! let outcome = score_corpus(&analyzer, &inputs, "out".as_ref(), &RunOptions::default(), &Progress::default())?;
//! println!("{} documents, {} failed", outcome.summary.documents, outcome.summary.failed);
//! # Ok::<(), stance::Error>(())
//! ```

mod checkpoint;
mod compressed;
pub mod input;
mod merge;
mod meta;
pub mod output;
#[cfg(feature = "parquet")]
mod parquet;
#[cfg(feature = "parquet")]
mod parquet_input;
mod progress;
mod run;
pub mod shard;
pub mod summary;
mod writer;

pub use checkpoint::Session;
pub use input::{
    input_size, is_run_dir, CorpusReader, EmptyFiles, ErrorKind, Fields, Format, Location, ReadOptions, Record,
    RecordError, SkippedFiles,
};
pub use merge::{merge_runs, merge_runs_recording};
pub use meta::{model_hash, DirLock, InputHash, RunInfo, RunStatus, SCHEMA_VERSION};
pub use output::{csv_text, write_atomic, OutputFormat};
pub use output::{DocumentRow, ErrorRow, SentenceRow};
pub use progress::Progress;
pub use run::{score_corpus, score_records, RunOptions, RunOutcome, MAX_QUEUE_CHUNKS};
pub use shard::Shard;
pub use summary::{month_of, Slice, Summary};
pub use writer::ScoredItem;
