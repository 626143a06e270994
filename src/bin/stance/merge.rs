//! `stance merge DIR... --out DIR`: combines the outputs of shards (or of any runs).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;

#[derive(Args)]
pub struct MergeArgs {
    /// Output directories of finished runs, typically `--shard 1/N` ... `--shard N/N`.
    #[arg(required = true, value_name = "RUN_DIR")]
    runs: Vec<PathBuf>,
    /// Where to write the merged outputs (an empty or new directory).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

pub fn run(args: &MergeArgs) -> Result<ExitCode> {
    let command: Vec<String> = std::env::args_os().map(|a| a.to_string_lossy().into_owned()).collect();
    let info = stance::corpus::merge_runs_recording(&args.runs, &args.out, &command)
        .with_context(|| format!("merging into {}", args.out.display()))?;
    let missing = info.missing_shards();
    if !missing.is_empty() {
        note!(
            "warning: shards {} are missing: the merge covers part of the corpus",
            missing.join(", ")
        );
    }
    note!(
        "merged {} runs: {} documents, {} failed, {} sentence-actor pairs, into {}",
        args.runs.len(),
        info.documents,
        info.failed,
        info.pairs,
        args.out.display()
    );
    Ok(if info.failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
