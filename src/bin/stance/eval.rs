//! `stance eval`: metrics of a model on annotated NewsMTSC-format data.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use crate::ModelArgs;

#[derive(Args)]
pub struct EvalArgs {
    /// NewsMTSC-format JSONL file (sentence_normalized, targets with from/to/polarity).
    #[arg(long, value_name = "FILE.jsonl")]
    data: PathBuf,
    #[command(flatten)]
    model: ModelArgs,
}

pub fn run(args: &EvalArgs) -> Result<ExitCode> {
    let examples = stance::eval::read_newsmtsc(&args.data)?;
    let analyzer = args.model.analyzer()?;
    let metrics = stance::eval::evaluate(&analyzer, &examples)?;
    println!("{}", serde_json::to_string(&metrics)?);
    Ok(ExitCode::SUCCESS)
}
