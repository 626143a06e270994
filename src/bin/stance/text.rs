//! `stance score` to the terminal: per-sentence stances and a per-actor summary.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use stance::{Analyzer, CorpusReport, Document, DocumentStances};

use crate::ModelArgs;

#[derive(Args)]
// Fields are pub(crate) so that `stance score --out` (corpus.rs) can flatten these
// arguments and fall back to this module's stdout output when `--out` is absent.
pub struct ScoreArgs {
    /// Text or Markdown files (one document each), or `-` for standard input; with
    /// --out also directories, JSON Lines (.jsonl) and CSV (.csv) files.
    #[arg(required = true, value_name = "INPUT")]
    pub(crate) inputs: Vec<PathBuf>,
    /// Print JSON lines (one per document, then the summary) instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
    #[command(flatten)]
    pub(crate) model: ModelArgs,
}

pub fn run(args: &ScoreArgs) -> Result<ExitCode> {
    let analyzer = args.model.analyzer()?;
    let mut out = std::io::stdout().lock();
    if !args.json {
        print_header(&mut out, &analyzer)?;
    }
    let mut report = CorpusReport::new(analyzer.actors());
    for path in &args.inputs {
        let result = read_document(path).and_then(|doc| Ok(analyzer.score_document(&doc)?));
        match result {
            Ok(doc) => {
                report.add(&doc);
                if args.json {
                    writeln!(out, "{}", serde_json::to_string(&doc)?)?;
                } else {
                    print_document(&mut out, &doc)?;
                }
            }
            Err(error) => {
                report.failed += 1;
                eprintln!("error: {}: {error:#}", path.display());
            }
        }
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

fn read_document(path: &PathBuf) -> Result<Document> {
    let id = path.display().to_string();
    let mut bytes = Vec::new();
    if id == "-" {
        std::io::stdin()
            .read_to_end(&mut bytes)
            .context("cannot read standard input")?;
    } else {
        bytes = std::fs::read(path).with_context(|| format!("cannot read {id}"))?;
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "invalid UTF-8 at byte {} (is this a text file?)",
            e.utf8_error().valid_up_to()
        )
    })?;
    Ok(Document::new(id, text))
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
