//! `stance eval`: metrics of a model on annotated NewsMTSC-format data.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use serde::Serialize;
use stance::eval::{Evaluation, Prediction};

use crate::ModelArgs;

#[derive(Args)]
pub struct EvalArgs {
    /// NewsMTSC-format JSONL file (sentence_normalized, targets with from/to/polarity).
    #[arg(long, value_name = "FILE.jsonl")]
    data: PathBuf,
    /// Also write one JSON line per (sentence, target) pair, in input order:
    /// gold and predicted labels, probabilities and score.
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
}

pub fn run(args: &EvalArgs) -> Result<ExitCode> {
    let examples = stance::eval::read_newsmtsc(&args.data)?;
    // Created before the model runs, so that a bad path fails at once rather
    // than after the whole data set has been scored.
    let out = args
        .predictions
        .as_deref()
        .map(|path| {
            File::create(path)
                .map(|file| (path, BufWriter::new(file)))
                .with_context(|| format!("cannot create the predictions file {}", path.display()))
        })
        .transpose()?;
    let analyzer = args.model.analyzer()?;
    let predictions = stance::eval::predict(&analyzer, &examples)?;
    if let Some((path, writer)) = out {
        write_predictions(writer, &predictions)
            .with_context(|| format!("cannot write the predictions file {}", path.display()))?;
    }
    let output = Output {
        evaluation: Evaluation::from_predictions(&predictions),
        document_context: analyzer.info().document_context,
    };
    println!("{}", serde_json::to_string(&output)?);
    Ok(ExitCode::SUCCESS)
}

fn write_predictions(mut writer: BufWriter<File>, predictions: &[Prediction]) -> Result<()> {
    for prediction in predictions {
        serde_json::to_writer(&mut writer, prediction)?;
        writer.write_all(b"\n")?;
    }
    // Flush explicitly: dropping a BufWriter swallows the error of its last write.
    writer.flush()?;
    Ok(())
}
