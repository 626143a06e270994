//! `stance score` to the terminal: per-sentence stances and a per-actor summary.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use stance::corpus::{CorpusReader, ErrorKind, ReadOptions, Record, SkippedFiles};
use stance::{Analyzer, CorpusReport, Document, DocumentStances};

use crate::ModelArgs;

#[derive(Args)]
// Fields are pub(crate) so that `stance score --out` (corpus.rs) can flatten these
// arguments and fall back to this module's stdout output when `--out` is absent.
pub struct ScoreArgs {
    /// Text or Markdown files (one document each), directories, JSON Lines (.jsonl) and
    /// CSV (.csv) files (a document per line or row), or `-` for standard input.
    #[arg(required = true, value_name = "INPUT")]
    pub(crate) inputs: Vec<PathBuf>,
    /// Print JSON lines (one per document, then the summary) instead of a table.
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
    let mut out = std::io::stdout().lock();
    if !args.json {
        print_header(&mut out, &analyzer)?;
    }
    let mut report = CorpusReport::new(analyzer.actors());
    let mut chunk: Vec<Record> = Vec::with_capacity(CHUNK_DOCUMENTS);
    loop {
        chunk.extend(reader.by_ref().take(CHUNK_DOCUMENTS));
        if chunk.is_empty() {
            break;
        }
        score_chunk(&analyzer, &mut chunk, &mut report, args.json, &mut out)?;
    }
    for dir in reader.skipped_run_dirs() {
        eprintln!(
            "warning: skipped {}: it holds the outputs of a stance run",
            dir.display()
        );
    }
    if let Some(warning) = skipped_files_warning(reader.skipped_files()) {
        eprintln!("{warning}");
    }
    if args.json {
        writeln!(
            out,
            "{}",
            serde_json::to_string(&serde_json::json!({ "summary": report }))?
        )?;
    } else {
        print_summary(&mut out, &report)?;
    }
    Ok(if report.failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Says how many files the directory walk did not read, with their extensions and the
/// first few names; `None` when it read them all.
pub fn skipped_files_warning(skipped: &SkippedFiles) -> Option<String> {
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
         .jsonl, .ndjson and .csv files are (extensions: {}{}; e.g. {})",
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

/// Scores the documents of `chunk` (emptying it) and prints them and its failures in order.
fn score_chunk(
    analyzer: &Analyzer,
    chunk: &mut Vec<Record>,
    report: &mut CorpusReport,
    json: bool,
    out: &mut impl Write,
) -> Result<()> {
    let documents: Vec<Document> = chunk.iter().filter_map(|r| r.document.as_ref().ok().cloned()).collect();
    // Separately: a document's scores do not depend on the documents read with it (a
    // batch-invariant model still shares batches across them), as with --out.
    let mut scored = analyzer.score_documents_separately(&documents).into_iter();
    for record in chunk.drain(..) {
        let id = record.id().to_owned();
        let result = match record.document {
            Ok(_) => scored
                .next()
                .expect("one result per document")
                .map_err(|e| (ErrorKind::Scoring, e.to_string())),
            Err(e) => Err((e.kind, e.reason)),
        };
        match result {
            Ok(doc) => {
                report.add(&doc);
                if json {
                    writeln!(out, "{}", serde_json::to_string(&doc)?)?;
                } else {
                    print_document(out, &doc)?;
                }
            }
            Err((kind, reason)) => {
                report.failed += 1;
                eprintln!(
                    "error: {} ({}, document {id}): {reason}",
                    record.location,
                    kind.as_str()
                );
            }
        }
    }
    Ok(())
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
    if info.model.contains("tiny") || info.model.contains("test") {
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
        doc.id,
        doc.sentences,
        doc.stances.len()
    )?;
    for s in &doc.stances {
        let mentions: Vec<&str> = s.mentions.iter().map(|m| m.text.as_str()).collect();
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

fn print_summary(out: &mut impl Write, report: &CorpusReport) -> Result<()> {
    writeln!(
        out,
        "\n== per-actor summary: {} document(s), {} failed",
        report.documents, report.failed
    )?;
    writeln!(
        out,
        "{:<10} {:>9} {:>9} {:>7} {:>17} {:>7} {:>7} {:>7}",
        "actor", "sentences", "documents", "mean", "95% CI", "unfav", "neutral", "fav"
    )?;
    for (id, s) in &report.actors {
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

fn shorten(text: &str, max_chars: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(max_chars) {
        Some((i, _)) => format!("{}…", &flat[..i]),
        None => flat,
    }
}
