//! `stance`: score op-eds and news for how they portray actors.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use stance::{ActorSet, Analyzer, AnalyzerBuilder, Device, ModelSource};

/// `eprintln!` that never panics: a closed standard error (a pipe whose reader has left, `2>&-`)
/// loses the message, not the exit status of a run that finished.
macro_rules! note {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

mod corpus;
mod eval;
mod mentions;
mod merge;
mod message;
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
    /// Model: `mini` (the default, embedded), `mid` (the middle tier, embedded in builds with
    /// `--features embedded-mid`), `base` (the accurate tier, `--features embedded-base`) or a
    /// bundle directory such as models/stance-base.
    #[arg(long, value_name = "NAME|DIR")]
    pub model: Option<String>,
    /// Device: cpu, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Threads (default: all cores; at most four per core).
    #[arg(long, allow_negative_numbers = true)]
    pub threads: Option<usize>,
    /// How much a document's other sentences about an actor weigh in each sentence's
    /// stance toward it; 0 reads every sentence alone [default: the weight chosen
    /// for the model (its config.json), else 0.5].
    #[arg(long, value_name = "WEIGHT", allow_negative_numbers = true)]
    pub document_context: Option<f32>,
    /// Which actors to look for.
    #[command(flatten)]
    pub actors: ActorArgs,
}

/// Which actors to look for.
#[derive(Args, Clone, Debug)]
pub struct ActorArgs {
    /// Built-in actors, comma-separated (us, china, india, pakistan, russia); with
    /// --actor-file, `--actors ""` looks for the file's actors only.
    #[arg(long, value_delimiter = ',', default_value = "us,china,india")]
    pub actors: Vec<String>,
    /// A TOML or JSON file of actors, added to (or extending) the built-in selection.
    #[arg(long, value_name = "FILE")]
    pub actor_file: Option<PathBuf>,
}

impl ActorArgs {
    /// The selected built-in actors plus those of `--actor-file`; none selected and a file given,
    /// the file's actors alone (an id that is built in still extends the built-in actor), as the
    /// Python package's `actors=[]` with an `actor_file` gives.
    pub fn actor_set(&self) -> Result<ActorSet> {
        let ids: Vec<&str> = self
            .actors
            .iter()
            .map(String::as_str)
            .filter(|s| !s.is_empty())
            .collect();
        match &self.actor_file {
            Some(path) if ids.is_empty() => Ok(ActorSet::with_builtins(ActorSet::from_path(path)?)),
            Some(path) => {
                Ok(ActorSet::select(&ids)?.extend_checked(ActorSet::from_path(path)?, &path.display().to_string())?)
            }
            None => Ok(ActorSet::select(&ids)?),
        }
    }
}

impl ModelArgs {
    /// Configures rayon's global pool (binaries only) and builds the analyzer.
    pub fn analyzer(&self) -> Result<Analyzer> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let threads = self.threads.unwrap_or(cores);
        check_threads(threads, cores)?;
        // Ignore the error if the pool is already initialised: only the first call counts.
        let _ = rayon::ThreadPoolBuilder::new().num_threads(threads).build_global();
        let device: Device = self.device.parse()?;
        let mut builder = Analyzer::builder()
            .actors(self.actors.actor_set()?)
            .device(device)
            .threads(threads);
        if let Some(model) = &self.model {
            builder = builder.model(ModelSource::from_arg(model));
        }
        if let Some(weight) = self.document_context {
            builder = builder.document_context(weight);
        }
        let analyzer = builder.build().context("cannot start the analyzer")?;
        if let Some(warning) = analyzer.info().int8_saturation_warning() {
            note!("warning: {warning}");
        }
        Ok(analyzer)
    }
}

/// Whether the model named `name` (its config.json's) is a random-weight test bundle, such as
/// tests/data/tiny-model: its stances mean nothing, which the output must say. By the word
/// "random", so that a trained bundle named "stance-latest" or "stance-tiny" is not taken for one.
pub fn is_random_weight_model(name: &str) -> bool {
    name.split(|c: char| !c.is_alphanumeric())
        .any(|word| word.eq_ignore_ascii_case("random"))
}

/// Refuses a thread count that would spend memory (or the process's thread
/// limit) for nothing, before anything is started: the library's rule
/// ([`AnalyzerBuilder::max_threads`]), checked before rayon's pool is sized, in
/// the terms of the command line.
fn check_threads(threads: usize, cores: usize) -> Result<()> {
    let max = AnalyzerBuilder::max_threads(cores);
    let per_core = AnalyzerBuilder::MAX_THREADS_PER_CORE;
    anyhow::ensure!(threads >= 1, "--threads must be at least 1");
    anyhow::ensure!(
        threads <= max,
        "--threads {threads} is more than this machine can use: at most {max} ({per_core} per core, \
         {cores} cores); each thread holds its own model session, so more only costs memory"
    );
    Ok(())
}

/// Whether `error` comes from writing to a pipe whose reader has gone (`stance ... | head`):
/// the end of the output, not a failure to report.
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error
        .chain()
        .filter_map(|cause| cause.downcast_ref::<std::io::Error>())
        .any(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
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
        // The output's reader stopped reading: nothing went wrong that it wants to hear of. The
        // commands that read records (score, mentions) end on it themselves, with status 1 when
        // a record failed before (text::until_the_reader_stops).
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            note!("error: {}", message::message(&error));
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_random_weight_bundles_are_test_models() {
        assert!(is_random_weight_model("tiny-random-test-model"));
        assert!(is_random_weight_model("tiny-random-test-model-two-inputs"));
        for trained in [
            "stance-mini",
            "stance-latest",
            "stance-tiny",
            "contest-2024",
            "randomized-init-free",
        ] {
            assert!(!is_random_weight_model(trained), "{trained}");
        }
    }

    #[test]
    fn thread_counts_are_bounded_by_the_cores() {
        assert!(check_threads(8, 2).is_ok());
        assert!(check_threads(9, 2).is_err());
        assert!(check_threads(0, 2).is_err());
        assert!(check_threads(100_000, 64).is_err());
    }
}
