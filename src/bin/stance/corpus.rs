//! `stance score ... --out DIR`: scores a corpus into files, resumably, with progress.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use stance::corpus::{
    input_size, score_corpus, Fields, Format, OutputFormat, Progress, ReadOptions, RunOptions, Shard,
};

use crate::text;

#[derive(Args)]
pub struct CorpusArgs {
    #[command(flatten)]
    pub base: text::ScoreArgs,
    /// Write sentences.jsonl, documents.csv, errors.jsonl, summary.json, summary.csv and
    /// run.json to DIR (see the README, "Scoring a corpus") instead of printing.
    // Not `conflicts_with = "json"`: clap then drops the `requires = "out"` checks of the
    // options below whenever --json is given; `run` refuses the pair instead.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// jsonl: those files only; parquet: also sentences.parquet and documents.parquet (the
    /// same rows, written when the run is complete) and their journal documents.jsonl.
    #[arg(long, value_name = "FORMAT", default_value = "jsonl", requires = "out")]
    format: OutputFormat,
    /// Continue the interrupted run in --out DIR, with the same inputs and settings.
    #[arg(long, requires = "out")]
    resume: bool,
    /// Score only share I of N of the documents (by a fixed hash of their id); merge with `stance merge`.
    #[arg(long, value_name = "I/N", requires = "out", allow_hyphen_values = true)]
    shard: Option<Shard>,
    /// JSON key / CSV column of the document text.
    #[arg(long, value_name = "NAME", default_value = "text")]
    text_field: String,
    /// JSON key / CSV column of the document id (default id: FILE:LINE).
    #[arg(long, value_name = "NAME", default_value = "id")]
    id_field: String,
    /// JSON key / CSV column of the date (YYYY-MM... gives per-month statistics).
    #[arg(long, value_name = "NAME", default_value = "date")]
    date_field: String,
    /// JSON key / CSV column of the source (gives per-source statistics).
    #[arg(long, value_name = "NAME", default_value = "source")]
    source_field: String,
    /// JSON key / CSV column of the title.
    #[arg(long, value_name = "NAME", default_value = "title")]
    title_field: String,
    #[command(flatten)]
    input: InputArgs,
    /// No progress display.
    #[arg(long, short)]
    quiet: bool,
    /// Documents per scoring chunk.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 256,
        requires = "out",
        allow_negative_numbers = true,
        value_parser = at_least_one
    )]
    chunk_docs: usize,
    /// Batch sentences of different documents together even when the model is not
    /// batch-invariant (a GPU, or a bundle that does not say so; the shipped model on the CPU
    /// is, and is batched across documents exactly without this): faster there, but scores
    /// then vary in their last bits with batch company, so --resume and --shard reproduce an
    /// uninterrupted run to ~1e-6 rather than exactly.
    #[arg(long, requires = "out")]
    batch_across_documents: bool,
    /// Least seconds between two commits of the outputs (0: after every chunk).
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 2.0,
        requires = "out",
        allow_negative_numbers = true
    )]
    commit_secs: f64,
}

/// How inputs are read, besides their field names: shared by `score` and
/// `mentions`, so that mentions reads a corpus as score would.
#[derive(Args)]
pub struct InputArgs {
    /// What `-` (standard input) holds: text (one document), jsonl or csv.
    #[arg(long, value_name = "FORMAT", default_value = "text")]
    stdin_format: Format,
    /// Read the files named (not directory contents) as this format: text, jsonl, csv or parquet.
    #[arg(long, value_name = "FORMAT")]
    input_format: Option<Format>,
    /// The largest record read: a text file, a JSON Lines line or a CSV row (bytes, or with
    /// K, M or G). A larger one is listed as too_large (in errors.jsonl with --out, else on
    /// stderr) and reading goes on after it (a too-large CSV header row skips its file).
    #[arg(long, value_name = "SIZE", default_value = "64M", value_parser = parse_size, allow_hyphen_values = true)]
    max_record_size: u64,
}

impl InputArgs {
    /// The format given for the files named, if any.
    pub fn input_format(&self) -> Option<Format> {
        self.input_format
    }

    /// These settings, reading the document fields `fields`.
    pub fn read_options(&self, fields: Fields) -> ReadOptions {
        let mut read = ReadOptions::default();
        read.fields = fields;
        read.stdin_format = self.stdin_format;
        read.format = self.input_format;
        read.max_record_bytes = self.max_record_size;
        read
    }
}

impl CorpusArgs {
    fn read_options(&self) -> ReadOptions {
        let mut fields = Fields::default();
        fields.text.clone_from(&self.text_field);
        fields.id.clone_from(&self.id_field);
        fields.date.clone_from(&self.date_field);
        fields.source.clone_from(&self.source_field);
        fields.title.clone_from(&self.title_field);
        self.input.read_options(fields)
    }

    fn run_options(&self) -> Result<RunOptions> {
        let commit_interval = Duration::try_from_secs_f64(self.commit_secs)
            .map_err(|_| anyhow::anyhow!("--commit-secs must be a number of seconds >= 0, at most about 1.8e19"))?;
        let mut options = RunOptions::default();
        options.read = self.read_options();
        options.shard = self.shard;
        options.resume = self.resume;
        options.chunk_documents = self.chunk_docs;
        options.commit_interval = commit_interval;
        options.batch_across_documents = self.batch_across_documents;
        options.format = self.format;
        // Lossy: an argument that is not UTF-8 (a file name, say) is recorded, not a panic.
        options.command = std::env::args_os().map(|a| a.to_string_lossy().into_owned()).collect();
        Ok(options)
    }
}

pub fn run(args: &CorpusArgs) -> Result<ExitCode> {
    anyhow::ensure!(
        !(args.base.json && args.out.is_some()),
        "--json prints to the terminal and --out writes files: give one of them"
    );
    let Some(out) = &args.out else {
        return text::run(&args.base, args.read_options());
    };
    let options = args.run_options()?;
    let analyzer = args.base.model.analyzer()?;
    say_how_to_continue_when_stopped(out);
    let progress = Progress::default();
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    let outcome = std::thread::scope(|scope| {
        if !args.quiet {
            let inputs = &args.base.inputs;
            let (progress, stop) = (&progress, &stop);
            scope.spawn(move || {
                if let Some(total) = input_size(inputs) {
                    progress.set_total_bytes(total);
                }
            });
            scope.spawn(move || show_progress(progress, stop));
        }
        let outcome = score_corpus(&analyzer, &args.base.inputs, out, &options, &progress);
        stop.store(true, Ordering::Relaxed);
        outcome
    })
    .with_context(|| format!("scoring into {}", out.display()))?;
    text::warn_skipped(
        &outcome.info.skipped_run_dirs,
        &outcome.info.skipped_files,
        &outcome.info.empty_files,
        &outcome.info.unmatched_fields,
        " (listed in run.json)",
    );
    text::warn_dates_without_month(&outcome.summary, " (counted in summary.json)");
    let s = &outcome.summary;
    if !args.quiet {
        let what = if outcome.already_complete {
            "the run was already complete:"
        } else {
            "scored"
        };
        note!(
            "{what} {} documents ({} sentences, {} sentence-actor pairs), {} failed{}, into {} in {:.1}s",
            s.documents,
            s.sentences,
            s.pairs,
            s.failed,
            if s.failed > 0 { " (see errors.jsonl)" } else { "" },
            out.display(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(if s.failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// On Ctrl-C, SIGTERM or SIGHUP the run ends at once, as if killed, and says how to continue it.
///
/// The run's directory is consistent at any instant (a resume cuts what its last commit did not
/// cover), so there is nothing to wait for: waiting for the next commit would only keep a user
/// who pressed Ctrl-C waiting. The message is what a kill would not give: where the work is and
/// the command that continues it. Then the signal's default action ends the process, as it would
/// have without the message: no exit handlers run beside the model's threads, and a shell loop
/// stops at Ctrl-C. On Linux a signal ignored when the run started (`nohup`, a script's
/// background job) stays ignored; elsewhere it cannot be told without `sigaction` (`unsafe`).
#[cfg(unix)]
fn say_how_to_continue_when_stopped(out: &std::path::Path) {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let watched: Vec<i32> = [SIGINT, SIGTERM, SIGHUP]
        .into_iter()
        .filter(|&signal| !is_ignored(signal))
        .collect();
    let Ok(mut signals) = signal_hook::iterator::Signals::new(&watched) else {
        return; // the default action (a silent end) still loses nothing
    };
    let out = out.to_path_buf();
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            note!("\nstance: stopped; {}", where_the_run_stands(&out));
            let _ = signal_hook::low_level::emulate_default_handler(signal);
            signal_hook::low_level::exit(128 + signal);
        }
    });
}

#[cfg(not(unix))]
fn say_how_to_continue_when_stopped(_out: &std::path::Path) {}

/// Whether `signal` was set to be ignored when the process started, as the kernel reports it in
/// `/proc/self/status` (a hexadecimal mask, bit `signal - 1`). Where there is no such file, no
/// signal counts as ignored.
#[cfg(unix)]
fn is_ignored(signal: i32) -> bool {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return false;
    };
    status
        .lines()
        .find_map(|line| line.strip_prefix("SigIgn:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .is_some_and(|mask| mask >> (signal - 1) & 1 == 1)
}

/// What a stopped run leaves in `out`, read from its checkpoint, and what to do next.
#[cfg(unix)]
fn where_the_run_stands(out: &std::path::Path) -> String {
    let checkpoint = std::fs::read_to_string(out.join("checkpoint.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok());
    match checkpoint {
        None => format!(
            "nothing was committed to {} yet: run the same command again (with or without --resume) to start",
            out.display()
        ),
        Some(checkpoint) if checkpoint["complete"] == true => format!(
            "the run in {} had scored every document; the same command with --resume writes anything left",
            out.display()
        ),
        Some(_) => format!(
            "{} keeps every document scored up to its last commit: run the same command with --resume to continue",
            out.display()
        ),
    }
}

/// A size in bytes: a number, optionally followed by K, M or G (powers of 1024).
fn parse_size(text: &str) -> std::result::Result<u64, String> {
    let text = text.trim();
    let (digits, shift) = match text.char_indices().last() {
        Some((i, 'k' | 'K')) => (&text[..i], 10),
        Some((i, 'm' | 'M')) => (&text[..i], 20),
        Some((i, 'g' | 'G')) => (&text[..i], 30),
        _ => (text, 0),
    };
    let n: u64 = digits
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a size: write a number of bytes, or one with K, M or G, e.g. 64M"))?;
    n.checked_mul(1 << shift)
        .filter(|&bytes| bytes > 0)
        .ok_or_else(|| format!("{text:?} is not a usable size: it must be above 0 and below 16 EiB"))
}

/// A progress bar on a terminal, a line every ten seconds otherwise, until `stop`.
fn show_progress(progress: &Progress, stop: &AtomicBool) {
    let start = Instant::now();
    let (start_sentences, start_bytes) = (progress.sentences(), progress.input_bytes());
    let rate =
        |sentences: u64| (sentences.saturating_sub(start_sentences)) as f64 / start.elapsed().as_secs_f64().max(1e-3);
    if std::io::stderr().is_terminal() {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        let mut sized = false;
        while !stop.load(Ordering::Relaxed) {
            if let (Some(total), false) = (progress.total_bytes(), sized) {
                bar.set_length(total);
                bar.set_style(bar_style(
                    "{elapsed_precise} [{wide_bar}] {percent:>3}% {msg} ETA {eta}",
                ));
                sized = true;
            } else if !sized {
                bar.set_style(bar_style("{spinner} {elapsed_precise} {msg}"));
            }
            bar.set_position(progress.input_bytes());
            bar.set_message(format!(
                "{} docs, {:.0} sentences/s",
                progress.documents(),
                rate(progress.sentences())
            ));
            std::thread::sleep(Duration::from_millis(200));
        }
        bar.finish_and_clear();
        return;
    }
    let mut last = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(200));
        if last.elapsed() >= Duration::from_secs(10) {
            last = Instant::now();
            note!(
                "{}",
                plain_line(progress, rate(progress.sentences()), start_bytes, start.elapsed())
            );
        }
    }
}

fn bar_style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

fn plain_line(progress: &Progress, rate: f64, start_bytes: u64, elapsed: Duration) -> String {
    let mut line = format!(
        "stance: {} documents ({} failed), {} sentences, {rate:.0} sentences/s",
        progress.documents(),
        progress.failed(),
        progress.sentences()
    );
    if let Some(total) = progress.total_bytes().filter(|&t| t > 0) {
        let bytes = progress.input_bytes().min(total);
        line.push_str(&format!(", {:.1}% of the input", bytes as f64 / total as f64 * 100.0));
        // This session's pace: a resumed run's earlier bytes took no time now.
        let (done_now, left) = (bytes.saturating_sub(start_bytes), total - bytes);
        if done_now > 0 {
            let eta = elapsed.as_secs_f64() * left as f64 / done_now as f64;
            line.push_str(&format!(
                ", ETA {}",
                indicatif::HumanDuration(Duration::from_secs_f64(eta))
            ));
        }
    }
    line
}

/// A count that must be at least 1 (`--chunk-docs 0` would score nothing per chunk).
fn at_least_one(value: &str) -> std::result::Result<usize, String> {
    match value.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_take_binary_suffixes() {
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("512k"), Ok(512 << 10));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert!(parse_size("0").is_err());
        assert!(parse_size("lots").is_err());
        assert!(parse_size("99999999999G").is_err());
    }
}
