//! `stance score` to the terminal: per-sentence stances and a per-actor summary.

use std::borrow::Cow;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use serde::Serialize;
use stance::corpus::{
    score_records, CorpusReader, Location, ReadOptions, Record, RecordError, ScoredItem, SkippedFiles, Summary,
};
use stance::{Analyzer, DocumentStances};

use crate::ModelArgs;

#[derive(Args)]
// Fields are pub(crate) so that `stance score --out` (corpus.rs) can flatten these
// arguments and fall back to this module's stdout output when `--out` is absent.
pub struct ScoreArgs {
    /// Text or Markdown files (one document each), directories, JSON Lines (.jsonl) and
    /// CSV (.csv) files (a document per line or row), or `-` for standard input.
    #[arg(required = true, value_name = "INPUT")]
    pub(crate) inputs: Vec<PathBuf>,
    /// Print JSON lines instead of a table: one per document (with its date, source and title
    /// when it has them), then {"summary": ...} holding what summary.json would.
    #[arg(long)]
    pub(crate) json: bool,
    #[command(flatten)]
    pub(crate) model: ModelArgs,
}

/// Documents scored per call (output stays in input order).
const CHUNK_DOCUMENTS: usize = 64;

/// Scores every record the inputs hold (files, directories, JSON Lines, CSV, standard
/// input: read as `--out` reads them) and prints it; a record that cannot be read or
/// scored is named on stderr and counted as failed (exit status 1).
pub fn run(args: &ScoreArgs, read: ReadOptions) -> Result<ExitCode> {
    let analyzer = args.model.analyzer()?;
    let mut reader = CorpusReader::new(&args.inputs, read)?;
    let mut summary = Summary::new(analyzer.actors());
    until_the_reader_stops(print_all(args, &analyzer, &mut reader, &mut summary))?;
    warn_unread(&reader);
    Ok(status(summary.failed))
}

/// The outcome of printing records to stdout, where a reader that stopped reading (`stance ...
/// | head`) is no error: the output ends there, quietly, and the run's status is that of the
/// records read until then ([`status`]).
pub fn until_the_reader_stops(printed: Result<()>) -> Result<()> {
    match printed {
        Err(error) if crate::is_broken_pipe(&error) => Ok(()),
        other => other,
    }
}

/// The exit status of a command that reads records: 1 when `failed` of them could not be read
/// or scored (each named on stderr), else success.
pub fn status(failed: u64) -> ExitCode {
    if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Scores what `reader` reads into `summary`, printing the header, every document and the summary.
fn print_all(args: &ScoreArgs, analyzer: &Analyzer, reader: &mut CorpusReader, summary: &mut Summary) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if !args.json {
        print_header(&mut out, analyzer)?;
    }
    loop {
        let chunk: Vec<Record> = reader.by_ref().take(CHUNK_DOCUMENTS).collect();
        if chunk.is_empty() {
            break;
        }
        score_chunk(analyzer, chunk, summary, args.json, &mut out)?;
    }
    if args.json {
        writeln!(
            out,
            "{}",
            serde_json::to_string(&serde_json::json!({ "summary": summary }))?
        )?;
    } else {
        print_summary(&mut out, summary)?;
    }
    Ok(())
}

/// Warns, on stderr, of what `reader`'s directory walk did not read (see [`warn_skipped`]),
/// once the reading is done.
pub fn warn_unread(reader: &CorpusReader) {
    let run_dirs: Vec<String> = reader
        .skipped_run_dirs()
        .iter()
        .map(|d| d.display().to_string())
        .collect();
    warn_skipped(&run_dirs, reader.skipped_files(), "");
}

/// Names, on stderr, a record that could not be read or scored: file, line, kind, document id.
pub fn report_failed(location: &Location, error: &RecordError) {
    eprintln!(
        "error: {} ({}, document {}): {}",
        printable(&location.to_string()),
        error.kind.as_str(),
        printable(&error.id),
        printable(&error.reason)
    );
}

/// `text` with its control characters written as escapes (`\n`, `\u{1b}`): text from the
/// corpus shown on a terminal must not end a line, move the cursor or clear the screen.
fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            shown.extend(c.escape_default());
        } else {
            shown.push(c);
        }
    }
    Cow::Owned(shown)
}

/// Warns, on stderr, of what the directory walk did not read: other runs' output directories
/// (their rows are results, not documents) and files of other extensions. `listed` ends each
/// warning (where the run records them). Shown even with --quiet: documents there were not scored.
pub fn warn_skipped(run_dirs: &[String], files: &SkippedFiles, listed: &str) {
    for dir in run_dirs {
        eprintln!("warning: skipped {dir}: it holds the outputs of another stance run{listed}");
    }
    if let Some(warning) = skipped_files_warning(files) {
        eprintln!("{warning}{listed}");
    }
}

/// Says how many files the directory walk did not read, with their extensions and the
/// first few names; `None` when it read them all.
fn skipped_files_warning(skipped: &SkippedFiles) -> Option<String> {
    if skipped.is_empty() {
        return None;
    }
    let mut extensions = std::collections::BTreeMap::<String, u64>::new();
    for path in &skipped.first {
        let extension = std::path::Path::new(path)
            .extension()
            .map_or_else(|| "(none)".to_owned(), |e| format!(".{}", e.to_string_lossy()));
        *extensions.entry(extension).or_default() += 1;
    }
    let kinds: Vec<String> = extensions.iter().map(|(e, n)| format!("{e} {n}")).collect();
    let examples: Vec<&str> = skipped.first.iter().take(3).map(String::as_str).collect();
    Some(format!(
        "warning: {} file(s) in the input directories were not read: only .txt, .text, .md, .markdown, \
         .jsonl, .ndjson and .csv files are, and links to directories are not followed (extensions: {}{}; \
         e.g. {})",
        skipped.count,
        kinds.join(", "),
        if skipped.count > skipped.first.len() as u64 {
            ", among the first listed"
        } else {
            ""
        },
        examples.join(", ")
    ))
}

/// Scores the documents of `chunk` and prints them and its failures in order.
fn score_chunk(
    analyzer: &Analyzer,
    chunk: Vec<Record>,
    summary: &mut Summary,
    json: bool,
    out: &mut impl Write,
) -> Result<()> {
    // Not across documents: a document's scores do not depend on the documents read with it
    // (a batch-invariant model still shares batches across them), as with --out.
    for item in score_records(analyzer, chunk, false) {
        let ScoredItem { location, meta, result } = item;
        match result {
            Ok(doc) => {
                let meta = meta.unwrap_or_default();
                summary.add(&doc, meta.date.as_deref(), meta.source.as_deref());
                if json {
                    let line = DocumentLine {
                        stances: &doc,
                        date: meta.date.as_deref(),
                        source: meta.source.as_deref(),
                        title: meta.title.as_deref(),
                    };
                    writeln!(out, "{}", serde_json::to_string(&line)?)?;
                } else {
                    print_document(out, &doc)?;
                }
            }
            Err(e) => {
                summary.add_failure();
                report_failed(&location, &e);
            }
        }
    }
    Ok(())
}

/// A document's `--json` line: its stances, and the fields read with it that its id does not
/// tell (the fields --date-field, --source-field and --title-field name).
#[derive(Serialize)]
struct DocumentLine<'a> {
    #[serde(flatten)]
    stances: &'a DocumentStances,
    #[serde(skip_serializing_if = "Option::is_none")]
    date: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
}

fn print_header(out: &mut impl Write, analyzer: &Analyzer) -> Result<()> {
    let info = analyzer.info();
    writeln!(
        out,
        "model {} ({}, {}) on {}, {} session(s) x {} thread(s); actors: {}",
        info.model,
        info.precision.as_deref().unwrap_or("?"),
        info.model_origin,
        info.device,
        info.sessions,
        info.intra_threads,
        info.actors.join(", ")
    )?;
    if info.document_context > 0.0 {
        writeln!(
            out,
            "each sentence read in its document (--document-context {})",
            info.document_context
        )?;
    }
    if crate::is_random_weight_model(&info.model) {
        writeln!(
            out,
            "NOTE: this is a random-weight test model: its stances mean nothing"
        )?;
    }
    Ok(())
}

fn print_document(out: &mut impl Write, doc: &DocumentStances) -> Result<()> {
    writeln!(
        out,
        "\n== {} ({} sentences, {} sentence-actor pairs)",
        printable(&doc.id),
        doc.sentences,
        doc.stances.len()
    )?;
    for s in &doc.stances {
        let mentions: Vec<Cow<str>> = s.mentions.iter().map(|m| printable(&m.text)).collect();
        writeln!(
            out,
            "[{:>3}] {:<9} {:<11} {:+.2}  ({})  {}",
            s.sentence_index,
            s.actor,
            s.stance.label.as_str(),
            s.stance.score,
            mentions.join(", "),
            shorten(&s.text, 110)
        )?;
    }
    Ok(())
}

fn print_summary(out: &mut impl Write, summary: &Summary) -> Result<()> {
    writeln!(
        out,
        "\n== per-actor summary: {} document(s), {} failed",
        summary.documents, summary.failed
    )?;
    writeln!(
        out,
        "{:<10} {:>9} {:>9} {:>7} {:>17} {:>7} {:>7} {:>7}",
        "actor", "sentences", "documents", "mean", "95% CI", "unfav", "neutral", "fav"
    )?;
    for (id, s) in &summary.actors {
        let (lo, hi) = s.ci95();
        let shares = s.label_shares();
        writeln!(
            out,
            "{:<10} {:>9} {:>9} {:>+7.3} {:>17} {:>6.0}% {:>6.0}% {:>6.0}%",
            id,
            s.sentences(),
            s.documents(),
            s.mean(),
            format!("[{lo:+.3}, {hi:+.3}]"),
            shares[0] * 100.0,
            shares[1] * 100.0,
            shares[2] * 100.0
        )?;
    }
    Ok(())
}

/// `text` on one line (its blanks collapsed, its control characters escaped), cut after
/// `max_chars` characters.
fn shorten(text: &str, max_chars: usize) -> String {
    let flat = printable(&text.split_whitespace().collect::<Vec<_>>().join(" ")).into_owned();
    match flat.char_indices().nth(max_chars) {
        Some((i, _)) => format!("{}…", &flat[..i]),
        None => flat,
    }
}
