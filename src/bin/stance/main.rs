//! `stance`: score op-eds and news for how they portray actors.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use stance::{ActorSet, Analyzer, Device};

mod corpus;
mod eval;
mod mentions;
mod merge;
mod report;
mod text;

#[derive(Parser)]
#[command(
    name = "stance",
    version,
    about = "How op-eds and news portray the US, China, India and other actors"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Score documents: per-sentence stances and a per-actor summary (to files with --out DIR).
    Score(corpus::CorpusArgs),
    /// Merge the output directories of shards (`score --shard I/N`) into one.
    Merge(merge::MergeArgs),
    /// Write report.html (charts and evidence) for a `score --out` directory.
    Report(report::ReportArgs),
    /// Evaluate a model on NewsMTSC-format JSONL; prints one JSON object.
    Eval(eval::EvalArgs),
    /// List the (sentence, actor) pairs the mention detector finds, as JSONL, without a model.
    Mentions(mentions::MentionsArgs),
}

/// Options shared by every command that runs the model.
#[derive(Args, Clone, Debug)]
pub struct ModelArgs {
    /// Model bundle directory (default: the embedded stance-mini model).
    #[arg(long, value_name = "DIR")]
    pub model: Option<PathBuf>,
    /// Device: cpu, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Which actors to look for.
    #[command(flatten)]
    pub actors: ActorArgs,
}

/// Which actors to look for.
#[derive(Args, Clone, Debug)]
pub struct ActorArgs {
    /// Built-in actors, comma-separated (us, china, india, pakistan, russia).
    #[arg(long, value_delimiter = ',', default_value = "us,china,india")]
    pub actors: Vec<String>,
    /// A TOML or JSON file of actors, added to (or extending) the built-in selection.
    #[arg(long, value_name = "FILE")]
    pub actor_file: Option<PathBuf>,
}

impl ActorArgs {
    /// The selected built-in actors plus those of `--actor-file`.
    pub fn actor_set(&self) -> Result<ActorSet> {
        let ids: Vec<&str> = self
            .actors
            .iter()
            .map(String::as_str)
            .filter(|s| !s.is_empty())
            .collect();
        let mut set = ActorSet::select(&ids)?;
        if let Some(path) = &self.actor_file {
            set = set.extend(ActorSet::from_path(path)?);
        }
        Ok(set)
    }
}

impl ModelArgs {
    /// Configures rayon's global pool (binaries only) and builds the analyzer.
    pub fn analyzer(&self) -> Result<Analyzer> {
        let threads = self
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        // Ignore the error if the pool is already initialised: only the first call counts.
        let _ = rayon::ThreadPoolBuilder::new().num_threads(threads).build_global();
        let device: Device = self.device.parse()?;
        let mut builder = Analyzer::builder()
            .actors(self.actors.actor_set()?)
            .device(device)
            .threads(threads);
        if let Some(dir) = &self.model {
            builder = builder.model_dir(dir);
        }
        builder.build().context("cannot start the analyzer")
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Score(args) => corpus::run(&args),
        Command::Merge(args) => merge::run(&args),
        Command::Report(args) => report::run(&args),
        Command::Eval(args) => eval::run(&args),
        Command::Mentions(args) => mentions::run(&args),
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
