//! `stance eval`: metrics of a model on annotated NewsMTSC-format data.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use serde::Serialize;
use stance::corpus::output::{create_temporary, is_written_in_place};
use stance::corpus::write_atomic;
use stance::eval::{Evaluation, Prediction};

use crate::ModelArgs;

/// What `--actors` and `--actor-file` do here: eval scores the targets the data
/// annotates, so the model options shared with `score` find no actors of their own.
const ACTORS_UNUSED: &str = "Not used by eval, which scores the targets annotated in the data (each pair's \
                             actor is its `actor`, else its `mention`); accepted so that score's model options \
                             can be passed unchanged";
const ACTOR_FILE_UNUSED: &str = "Not used by eval (see --actors); the file is still read and checked";

#[derive(Args)]
#[command(
    mut_arg("actors", |arg| arg.help(ACTORS_UNUSED)),
    mut_arg("actor_file", |arg| arg.help(ACTOR_FILE_UNUSED))
)]
pub struct EvalArgs {
    /// NewsMTSC-format JSONL file (sentence_normalized, targets with from/to/polarity), or `-`
    /// for standard input (named `-` in errors and in the fallback sentence ids, as score names it).
    #[arg(long, value_name = "FILE.jsonl")]
    data: PathBuf,
    /// Also write one JSON line per (sentence, target) pair, in input order: gold and
    /// predicted labels, probabilities and score. Written whole once every pair is
    /// scored: a failed eval leaves an existing file as it was. A device or FIFO
    /// (/dev/null) is written into, and standard output (`-` or /dev/stdout) gets the
    /// predictions before the metrics.
    #[arg(long, value_name = "OUT.jsonl")]
    predictions: Option<PathBuf>,
    #[command(flatten)]
    model: ModelArgs,
}

/// What eval prints: the metrics, and which reading they judge.
#[derive(Serialize)]
struct Output {
    #[serde(flatten)]
    evaluation: Evaluation,
    /// The weight pairs of one article were read in context with (0: each alone).
    document_context: f32,
    /// Rows of the data with empty `targets`: read, with nothing to score.
    sentences_without_targets: u64,
}

pub fn run(args: &EvalArgs) -> Result<ExitCode> {
    // Read once, whole, before the model loads: standard input serves as well as a file.
    let data = if args.data.as_os_str() == "-" {
        stance::eval::parse_newsmtsc(std::io::stdin().lock(), "-")?
    } else {
        stance::eval::read_newsmtsc(&args.data)?
    };
    if let Some(path) = &args.predictions {
        check_predictions_path(path, &args.data)?;
    }
    let analyzer = args.model.analyzer()?;
    let predictions = stance::eval::predict(&analyzer, &data.examples)?;
    if let Some(path) = &args.predictions {
        write_predictions(path, &predictions)?;
    }
    let output = Output {
        evaluation: Evaluation::from_predictions(&predictions),
        document_context: analyzer.info().document_context,
        sentences_without_targets: data.sentences_without_targets,
    };
    // Not println!, which panics when stdout is closed (`stance eval ... | head -c 100`).
    writeln!(std::io::stdout().lock(), "{}", serde_json::to_string(&output)?)?;
    Ok(ExitCode::SUCCESS)
}

/// Refuses, before the model runs, a predictions path that would replace the
/// gold data or cannot be written, rather than after the whole data set has been scored.
fn check_predictions_path(path: &Path, data: &Path) -> Result<()> {
    if path.as_os_str() == "-" {
        return Ok(());
    }
    // /dev/stdout resolves to where standard output goes: the data file, when it is
    // redirected there, is refused here.
    let same_file = match (std::fs::canonicalize(path), std::fs::canonicalize(data)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    anyhow::ensure!(
        !same_file,
        "--predictions {} is the --data file: writing it would replace the gold data; name another file",
        path.display()
    );
    anyhow::ensure!(
        !path.is_dir(),
        "--predictions {} is a directory: name a file",
        path.display()
    );
    if is_standard_output(path) {
        return Ok(());
    }
    if is_written_in_place(path) {
        match std::fs::metadata(path) {
            // A device or FIFO (/dev/null, /dev/stdout on a pipe) is written into
            // at the end and not opened now: a FIFO's opening waits for its reader.
            Ok(meta) if !meta.is_file() => return Ok(()),
            // /dev/stdout on a regular file: opened, and left as it is.
            Ok(_) => {
                return std::fs::OpenOptions::new()
                    .write(true)
                    .open(path)
                    .map(drop)
                    .with_context(|| format!("cannot write the predictions to {}", path.display()))
            }
            Err(_) => {}
        }
    }
    // The file itself is written at the end, through a temporary file beside
    // it: making (and removing) one now shows that it can be.
    let (temporary, file) =
        create_temporary(path).with_context(|| format!("cannot create the predictions file {}", path.display()))?;
    drop(file);
    std::fs::remove_file(&temporary).with_context(|| format!("cannot remove {}", temporary.display()))
}

/// Replaces the predictions file whole: an existing file is never left
/// truncated or half written.
fn write_predictions(path: &Path, predictions: &[Prediction]) -> Result<()> {
    let mut lines = Vec::new();
    for prediction in predictions {
        serde_json::to_writer(&mut lines, prediction)?;
        lines.push(b'\n');
    }
    if is_standard_output(path) {
        // Through the handle the metrics are then printed on, in that order:
        // the file opened again would be written from its start, and the
        // metrics over it (or a file replaced would take them nowhere).
        let mut stdout = std::io::stdout().lock();
        return stdout
            .write_all(&lines)
            .and_then(|()| stdout.flush())
            .with_context(|| format!("cannot write the predictions to {}", path.display()));
    }
    write_atomic(path, &lines).with_context(|| format!("cannot write the predictions file {}", path.display()))
}

/// Whether `path` is the file (or pipe, or terminal) standard output writes
/// to: `-` (as `--data -` is standard input), `/dev/stdout`, or the file it is
/// redirected to.
fn is_standard_output(path: &Path) -> bool {
    if path.as_os_str() == "-" {
        return true;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (std::fs::metadata(path), std::fs::metadata("/dev/stdout")) {
            (Ok(a), Ok(b)) => (a.dev(), a.ino()) == (b.dev(), b.ino()),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}
