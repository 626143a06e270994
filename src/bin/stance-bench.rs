//! `stance-bench`: end-to-end throughput of the whole pipeline on a corpus.
//!
//! Reads a JSONL corpus (one `{"id", "text"}` object a line, read as `stance
//! score` reads JSON Lines; default: the committed fixture), scores it `--repeat` times after one warm-up pass, and
//! prints one JSON line: device, model, threads, documents/s, sentences/s,
//! (sentence, actor) pairs/s, tokens/s, p50/p95 batch latency and peak RSS.
//!
//! Device checks (scripts/gpu-check.sh): `--scores-out FILE` writes the score
//! of every pair of the warm-up pass, and `--compare-with FILE` checks this
//! run's warm-up scores against such a file (say, a CPU run's) within
//! `--tolerance`, adds a `compare` object to the JSON line and exits with an
//! error when they disagree.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Parser;
use serde::{Deserialize, Serialize};
use stance::corpus::{CorpusReader, Format, ReadOptions};
use stance::{ActorSet, Analyzer, AnalyzerBuilder, BatchTiming, Device, Document, Label, ModelSource};

// Errors are printed as `stance` prints them: each cause once.
#[path = "stance/message.rs"]
mod message;

#[derive(Parser)]
#[command(
    name = "stance-bench",
    version,
    about = "End-to-end throughput of the stance pipeline"
)]
struct Args {
    /// JSONL corpus with `text` (and optionally `id`) fields, read as `stance score` reads JSON
    /// Lines (default id: `line-N`, N its line, however the path is spelled); a record it cannot
    /// read stops the benchmark; `-` reads it from standard input.
    #[arg(default_value = "benches/data/fixture.jsonl")]
    corpus: PathBuf,
    /// Model: `mini` (default), `mid` or `base` (builds with `--features embedded-mid` /
    /// `embedded-base`) or a bundle directory.
    #[arg(long, value_name = "NAME|DIR")]
    model: Option<String>,
    /// Device: cpu, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Total threads (default: all cores; at most four per core).
    #[arg(long, value_parser = parse_threads, allow_negative_numbers = true)]
    threads: Option<usize>,
    /// ONNX Runtime sessions (default: one per thread on CPU).
    #[arg(long, allow_negative_numbers = true)]
    sessions: Option<usize>,
    /// Token budget per batch.
    #[arg(long, allow_negative_numbers = true)]
    token_budget: Option<usize>,
    /// Maximum rows per batch.
    #[arg(long, allow_negative_numbers = true)]
    max_rows: Option<usize>,
    /// Documents scored per call (the streaming chunk).
    #[arg(long, default_value = "512", value_parser = parse_count, allow_negative_numbers = true)]
    chunk: NonZeroUsize,
    /// Timed passes over the corpus (after one warm-up pass).
    #[arg(long, default_value = "1", value_parser = parse_count, allow_negative_numbers = true)]
    repeat: NonZeroUsize,
    /// Stop reading the corpus after this many documents.
    #[arg(long, value_parser = parse_count, allow_negative_numbers = true)]
    limit: Option<NonZeroUsize>,
    /// Write every (sentence, actor) pair the pipeline scores to this JSONL file
    /// (`sentence`, `spans` as character offsets) and exit, for the side-by-side baselines.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["scores_out", "compare_with"])]
    dump_pairs: Option<PathBuf>,
    /// Built-in actors, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "us,china,india")]
    actors: Vec<String>,
    /// Write the score of every pair of the warm-up pass to this JSONL file
    /// (`doc` = 0-based place in the corpus, `id`, `sentence`, `actor`, `score`, `label`), then
    /// a closing line `{"documents": N, "pairs": N}` by which a file cut short is told.
    #[arg(long, value_name = "FILE")]
    scores_out: Option<PathBuf>,
    /// Compare the warm-up pass's scores with a `--scores-out` file of another run
    /// (same corpus; documents beyond either run's `--limit` are not compared, and their pairs
    /// are counted as `skipped` and `beyond_reference`): adds `compare` to the JSON line, and
    /// fails when a pair is missing or extra, a score differs by more than `--tolerance`, or the
    /// file is cut short.
    #[arg(long, value_name = "FILE")]
    compare_with: Option<PathBuf>,
    /// Largest allowed |score difference| for `--compare-with`.
    #[arg(long, default_value = "0.01", value_parser = parse_tolerance, requires = "compare_with", allow_negative_numbers = true)]
    tolerance: f64,
    /// A name copied into the JSON line as `tag` (to tell runs apart in a log).
    #[arg(long)]
    tag: Option<String>,
}

/// A count of passes or documents: 0 would measure nothing.
fn parse_count(text: &str) -> std::result::Result<NonZeroUsize, String> {
    let count: usize = text.parse().map_err(|e| format!("{e}"))?;
    NonZeroUsize::new(count).ok_or_else(|| "must be at least 1".into())
}

/// A thread count from 1 to [`AnalyzerBuilder::max_threads`] of this machine's cores, checked
/// while parsing: rayon's pool is sized from it before the analyzer could refuse it, and a
/// count far past the cores would start that many threads first.
fn parse_threads(text: &str) -> std::result::Result<usize, String> {
    let threads: usize = text.parse().map_err(|e| format!("{e}"))?;
    let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
    let max = AnalyzerBuilder::max_threads(cores);
    if (1..=max).contains(&threads) {
        Ok(threads)
    } else {
        Err(format!(
            "must be from 1 to {max} ({} per core, {cores} cores)",
            AnalyzerBuilder::MAX_THREADS_PER_CORE
        ))
    }
}

/// A score difference: a number of at least 0 (NaN would fail every comparison).
fn parse_tolerance(text: &str) -> std::result::Result<f64, String> {
    let tolerance: f64 = text.parse().map_err(|e| format!("{e}"))?;
    if tolerance >= 0.0 && tolerance.is_finite() {
        Ok(tolerance)
    } else {
        Err("must be a number of at least 0".into())
    }
}

/// Refuses an output file that is an input: --scores-out or --dump-pairs naming the corpus
/// would overwrite it, and --scores-out naming the --compare-with file would replace the
/// reference with this run's scores before the comparison, which would then always agree.
fn refuse_outputs_that_are_inputs(args: &Args) -> Result<()> {
    let outputs = [("--scores-out", &args.scores_out), ("--dump-pairs", &args.dump_pairs)];
    let inputs = [
        ("the corpus", Some(&args.corpus)),
        ("the --compare-with file", args.compare_with.as_ref()),
    ];
    for (option, output) in outputs {
        let Some(output) = output else { continue };
        for (input_name, input) in inputs {
            if input.is_some_and(|input| same_file(output, input)) {
                bail!("{option} {} is {input_name}: name another file", output.display());
            }
        }
    }
    Ok(())
}

/// Whether two paths lead to one existing file (however spelled, links followed).
fn same_file(a: &Path, b: &Path) -> bool {
    matches!((a.canonicalize(), b.canonicalize()), (Ok(a), Ok(b)) if a == b)
}

/// The first `limit` documents of the corpus, read as `stance score` reads JSON Lines (a
/// byte-order mark skipped, number ids kept as written); a record it cannot read is an error
/// naming its line, since the figures would leave it out.
fn read_corpus(path: &Path, limit: Option<NonZeroUsize>) -> Result<Vec<Document>> {
    let mut read = ReadOptions::default();
    // JSON Lines, from a file or from standard input (`-`).
    read.format = Some(Format::Jsonl);
    read.stdin_format = Format::Jsonl;
    let reader = CorpusReader::new(&[path.to_path_buf()], read)?;
    let mut docs = Vec::new();
    for record in reader.take(limit.map_or(usize::MAX, NonZeroUsize::get)) {
        // The reader's default id, `FILE:LINE`, holds the path as it was spelled on the command
        // line: a --compare-with reference written by a run given `./c.jsonl`, an absolute path,
        // or a copy of the corpus on another machine would share no id with this run, and its
        // documents would not be taken for the same. The line alone names the document in the
        // one corpus a run reads, whatever the path, directory or file name; `line-N` is also
        // what references written before the corpus was read as `stance score` reads it hold.
        let bench_id = |id: &str| match record.location.line {
            Some(line) if id == format!("{}:{line}", record.location.file) => format!("line-{line}"),
            _ => id.to_owned(),
        };
        match record.document {
            Ok(mut doc) => {
                doc.id = bench_id(&doc.id);
                docs.push(doc);
            }
            Err(e) => bail!(
                "{} ({}, document {}): {}",
                record.location,
                e.kind.as_str(),
                bench_id(&e.id),
                e.reason
            ),
        }
    }
    if docs.is_empty() {
        bail!("{} holds no documents", path.display());
    }
    Ok(docs)
}

fn build(args: &Args, threads: usize) -> Result<Analyzer> {
    let device: Device = args.device.parse()?;
    // Empty entries (`us,,china`) are passed over, as `stance` does.
    let ids: Vec<&str> = args
        .actors
        .iter()
        .map(String::as_str)
        .filter(|s| !s.is_empty())
        .collect();
    let mut builder = Analyzer::builder()
        .actors(ActorSet::select(&ids)?)
        .device(device)
        .threads(threads)
        .record_batch_timings(true);
    if let Some(model) = &args.model {
        builder = builder.model(ModelSource::from_arg(model));
    }
    if let Some(s) = args.sessions {
        builder = builder.sessions(s);
    }
    if let Some(t) = args.token_budget {
        builder = builder.token_budget(t);
    }
    if let Some(r) = args.max_rows {
        builder = builder.max_batch_rows(r);
    }
    Ok(builder.build()?)
}

/// Counts of one pass over the corpus.
#[derive(Default)]
struct Pass {
    documents: usize,
    sentences: usize,
    pairs: usize,
    failed: usize,
}

/// The score of one pair, keyed by its document's place in the corpus.
#[derive(Serialize, Deserialize)]
struct PairScore {
    doc: usize,
    id: String,
    sentence: usize,
    actor: String,
    score: f32,
    label: Label,
}

/// Scores the corpus once; with `scores`, keeps every pair's score.
fn score_pass(analyzer: &Analyzer, docs: &[Document], chunk: usize, mut scores: Option<&mut Vec<PairScore>>) -> Pass {
    let mut pass = Pass::default();
    for (c, part) in docs.chunks(chunk).enumerate() {
        for (i, result) in analyzer.score_documents(part).into_iter().enumerate() {
            match result {
                Ok(d) => {
                    pass.documents += 1;
                    pass.sentences += d.sentences;
                    pass.pairs += d.stances.len();
                    if let Some(out) = scores.as_deref_mut() {
                        out.extend(d.stances.iter().map(|s| PairScore {
                            doc: c * chunk + i,
                            id: d.id.clone(),
                            sentence: s.sentence_index,
                            actor: s.actor.clone(),
                            score: s.stance.score,
                            label: s.stance.label,
                        }));
                    }
                }
                Err(_) => pass.failed += 1,
            }
        }
    }
    pass
}

/// The last line of a `--scores-out` file: how many documents were scored and how many pair
/// lines come before it, so that a file cut short (or a part of one) is told from a whole one.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScoresEnd {
    documents: usize,
    pairs: usize,
}

/// A line of a `--scores-out` file.
#[derive(Deserialize)]
#[serde(untagged)]
enum ScoresLine {
    Pair(PairScore),
    End(ScoresEnd),
}

/// Writes the pairs, then their [`ScoresEnd`], to a temporary file renamed into place: a
/// reference is whole or absent.
fn write_scores(path: &Path, scores: &[PairScore], documents: usize) -> Result<()> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let file = std::fs::File::create(&partial).with_context(|| format!("cannot create {}", partial.display()))?;
    let mut out = std::io::BufWriter::new(file);
    for s in scores {
        serde_json::to_writer(&mut out, s)?;
        out.write_all(b"\n")?;
    }
    let end = ScoresEnd {
        documents,
        pairs: scores.len(),
    };
    serde_json::to_writer(&mut out, &end)?;
    out.write_all(b"\n")?;
    out.flush()?;
    drop(out);
    std::fs::rename(&partial, path)
        .with_context(|| format!("cannot rename {} to {}", partial.display(), path.display()))?;
    Ok(())
}

/// The pairs of a `--scores-out` file and its closing line; an error for a file cut short (no
/// closing line, or fewer pairs than it says), lines after it, or a pair given twice.
fn read_scores(path: &Path) -> Result<(Vec<PairScore>, ScoresEnd)> {
    let file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let (mut pairs, mut end) = (Vec::new(), None);
    let mut seen = std::collections::HashSet::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let at = || format!("{}, line {}", path.display(), i + 1);
        let line = line.with_context(at)?;
        if line.trim().is_empty() {
            continue;
        }
        if end.is_some() {
            bail!("{}: a line after the closing line", at());
        }
        match serde_json::from_str(&line)
            .with_context(|| format!("{}: not a pair or closing line of --scores-out", at()))?
        {
            ScoresLine::Pair(pair) => {
                if !seen.insert((pair.doc, pair.sentence, pair.actor.clone())) {
                    bail!(
                        "{}: the pair (document {}, sentence {}, {}) comes twice",
                        at(),
                        pair.doc,
                        pair.sentence,
                        pair.actor
                    );
                }
                pairs.push(pair);
            }
            ScoresLine::End(closing) => end = Some(closing),
        }
    }
    let Some(end) = end else {
        bail!(
            "{} ends without its closing line ({{\"documents\": N, \"pairs\": N}}): cut short, or not written by --scores-out",
            path.display()
        );
    };
    if end.pairs != pairs.len() {
        bail!(
            "{} holds {} pairs where its closing line says {}: lines are missing",
            path.display(),
            pairs.len(),
            end.pairs
        );
    }
    if let Some(pair) = pairs.iter().find(|p| p.doc >= end.documents) {
        bail!(
            "{}: a pair of document {}, past the {} documents its closing line says it scored",
            path.display(),
            pair.doc,
            end.documents
        );
    }
    Ok((pairs, end))
}

/// Agreement of this run's scores with a reference file's.
#[derive(Serialize)]
struct Comparison {
    reference: String,
    compared: usize,
    /// Documents the reference scored (its `--limit`).
    reference_documents: usize,
    /// Reference pairs of documents this run did not score (beyond its `--limit`).
    skipped: usize,
    /// Pairs of this run in documents the reference did not score (beyond its `--limit`).
    beyond_reference: usize,
    /// Reference pairs of documents this run scored that it did not produce.
    missing: usize,
    /// Pairs this run produced, in documents both scored, that the reference lacks.
    extra: usize,
    max_abs_diff: f64,
    mean_abs_diff: f64,
    /// Share of compared pairs with the same label.
    label_agreement: f64,
    tolerance: f64,
    /// The pair with the largest difference: `doc`, `sentence`, `actor`, this run's and the reference's score.
    worst: Option<(usize, usize, String, f32, f32)>,
    ok: bool,
}

fn compare_scores(ours: &[PairScore], documents: usize, path: &Path, tolerance: f64) -> Result<Comparison> {
    let (reference, end) = read_scores(path)?;
    let by_key: HashMap<(usize, usize, &str), &PairScore> = ours
        .iter()
        .map(|s| ((s.doc, s.sentence, s.actor.as_str()), s))
        .collect();
    let mut c = Comparison {
        reference: path.display().to_string(),
        compared: 0,
        reference_documents: end.documents,
        skipped: 0,
        beyond_reference: 0,
        missing: 0,
        extra: 0,
        max_abs_diff: 0.0,
        mean_abs_diff: 0.0,
        label_agreement: 0.0,
        tolerance,
        worst: None,
        ok: false,
    };
    let (mut sum, mut same_label) = (0.0f64, 0usize);
    for r in &reference {
        if r.doc >= documents {
            c.skipped += 1;
            continue;
        }
        let Some(s) = by_key.get(&(r.doc, r.sentence, r.actor.as_str())) else {
            c.missing += 1;
            continue;
        };
        if s.id != r.id {
            bail!(
                "{} is not a run over this corpus: document {} is {:?} there, {:?} here",
                path.display(),
                r.doc,
                r.id,
                s.id
            );
        }
        c.compared += 1;
        let diff = f64::from((s.score - r.score).abs());
        sum += diff;
        if diff > c.max_abs_diff || c.worst.is_none() {
            c.max_abs_diff = diff;
            c.worst = Some((r.doc, r.sentence, r.actor.clone(), s.score, r.score));
        }
        same_label += usize::from(s.label == r.label);
    }
    // Both runs read the same corpus from its start; either may stop earlier (its own --limit).
    let ours_in_common = ours.iter().filter(|s| s.doc < end.documents).count();
    c.beyond_reference = ours.len() - ours_in_common;
    c.extra = ours_in_common.saturating_sub(c.compared);
    if c.compared > 0 {
        c.mean_abs_diff = sum / c.compared as f64;
        c.label_agreement = same_label as f64 / c.compared as f64;
    }
    c.ok = c.compared > 0 && c.missing == 0 && c.extra == 0 && c.max_abs_diff <= tolerance;
    Ok(c)
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Peak resident set size of this process in MiB (Linux `VmHWM`), if known.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Writes the scored pairs with spans relative to their sentence, in pipeline order.
fn dump_pairs(analyzer: &Analyzer, docs: &[Document], path: &Path) -> Result<()> {
    let file = std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    let mut pairs = 0usize;
    for result in analyzer.score_documents(docs) {
        for s in result?.stances {
            let spans: Vec<[usize; 2]> = s
                .mentions
                .iter()
                .map(|m| [m.start - s.start, m.end - s.start])
                .collect();
            writeln!(out, "{}", serde_json::json!({ "sentence": s.text, "spans": spans }))?;
            pairs += 1;
        }
    }
    out.flush()?;
    eprintln!("wrote {pairs} pairs to {}", path.display());
    Ok(())
}

fn main() -> ExitCode {
    match run(&Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", message::message(&error));
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<()> {
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    rayon::ThreadPoolBuilder::new().num_threads(threads).build_global()?;
    refuse_outputs_that_are_inputs(args)?;
    let docs = read_corpus(&args.corpus, args.limit)?;
    let analyzer = build(args, threads)?;
    if let Some(path) = &args.dump_pairs {
        return dump_pairs(&analyzer, &docs, path);
    }
    // Warm-up: first-run allocations and kernel selection; its scores feed --scores-out / --compare-with.
    let keep_scores = args.scores_out.is_some() || args.compare_with.is_some();
    let mut scores = Vec::new();
    let warm_started = Instant::now();
    score_pass(&analyzer, &docs, args.chunk.get(), keep_scores.then_some(&mut scores));
    let warmup_seconds = warm_started.elapsed().as_secs_f64();
    analyzer.take_batch_timings();
    if let Some(path) = &args.scores_out {
        write_scores(path, &scores, docs.len())?;
    }
    let comparison = match &args.compare_with {
        Some(path) => Some(compare_scores(&scores, docs.len(), path, args.tolerance)?),
        None => None,
    };
    drop(scores);
    let started = Instant::now();
    let mut total = Pass::default();
    for _ in 0..args.repeat.get() {
        let pass = score_pass(&analyzer, &docs, args.chunk.get(), None);
        total.documents += pass.documents;
        total.sentences += pass.sentences;
        total.pairs += pass.pairs;
        total.failed += pass.failed;
    }
    let seconds = started.elapsed().as_secs_f64();
    let timings: Vec<BatchTiming> = analyzer.take_batch_timings();
    let mut latencies: Vec<f64> = timings.iter().map(|t| t.seconds * 1000.0).collect();
    latencies.sort_by(f64::total_cmp);
    let tokens: usize = timings.iter().map(|t| t.tokens).sum();
    let padded: usize = timings.iter().map(|t| t.padded_tokens).sum();
    let info = analyzer.info();
    let mut report = serde_json::json!({
        "tag": args.tag,
        "device": info.device.to_string(),
        "model": info.model,
        "precision": info.precision,
        "corpus": args.corpus.display().to_string(),
        "threads": threads,
        "sessions": info.sessions,
        "intra_threads": info.intra_threads,
        "token_budget": info.token_budget,
        "max_batch_rows": info.max_batch_rows,
        "documents": total.documents,
        "failed": total.failed,
        "sentences": total.sentences,
        "pairs": total.pairs,
        "seconds": seconds,
        "warmup_seconds": warmup_seconds,
        "documents_per_s": total.documents as f64 / seconds,
        "sentences_per_s": total.sentences as f64 / seconds,
        "pairs_per_s": total.pairs as f64 / seconds,
        "tokens_per_s": tokens as f64 / seconds,
        "padding_share": if padded > 0 { 1.0 - tokens as f64 / padded as f64 } else { 0.0 },
        "batches": timings.len(),
        "batch_ms_p50": percentile(&latencies, 0.5),
        "batch_ms_p95": percentile(&latencies, 0.95),
        "peak_rss_mib": peak_rss_mib(),
    });
    if let Some(c) = &comparison {
        report["compare"] = serde_json::to_value(c)?;
    }
    println!("{report}");
    match comparison {
        Some(c) if !c.ok => bail!(
            "scores disagree with {}: {} compared, {} missing, {} extra, max |diff| {:.3e} (tolerance {:.0e})",
            c.reference,
            c.compared,
            c.missing,
            c.extra,
            c.max_abs_diff,
            c.tolerance
        ),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(doc: usize, sentence: usize, actor: &str, score: f32) -> PairScore {
        let label = if score > 0.3 {
            Label::Favorable
        } else if score < -0.3 {
            Label::Unfavorable
        } else {
            Label::Neutral
        };
        PairScore {
            doc,
            id: format!("doc-{doc}"),
            sentence,
            actor: actor.into(),
            score,
            label,
        }
    }

    fn reference(pairs: &[PairScore], documents: usize) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        write_scores(file.path(), pairs, documents).unwrap();
        file
    }

    #[test]
    fn scores_within_tolerance_agree_and_later_documents_are_skipped() {
        let file = reference(
            &[
                pair(0, 0, "us", 0.5),
                pair(0, 1, "china", -0.5),
                pair(2, 0, "india", 0.0),
            ],
            3,
        );
        let ours = [pair(0, 0, "us", 0.505), pair(0, 1, "china", -0.5)];
        let c = compare_scores(&ours, 2, file.path(), 1e-2).unwrap();
        assert!(c.ok);
        assert_eq!((c.compared, c.skipped, c.missing, c.extra), (2, 1, 0, 0));
        assert!((c.max_abs_diff - 0.005).abs() < 1e-6, "{}", c.max_abs_diff);
        assert_eq!(c.worst.as_ref().map(|w| (w.0, w.1)), Some((0, 0)));
        assert_eq!(c.label_agreement, 1.0);
    }

    #[test]
    fn a_large_difference_a_missing_or_an_extra_pair_fails() {
        let file = reference(&[pair(0, 0, "us", 0.5), pair(1, 0, "china", -0.5)], 2);
        let far = compare_scores(
            &[pair(0, 0, "us", 0.1), pair(1, 0, "china", -0.5)],
            2,
            file.path(),
            1e-2,
        )
        .unwrap();
        assert!(!far.ok && far.label_agreement == 0.5);
        let missing = compare_scores(&[pair(0, 0, "us", 0.5)], 2, file.path(), 1e-2).unwrap();
        assert!(!missing.ok && missing.missing == 1);
        let extra = [pair(0, 0, "us", 0.5), pair(0, 1, "us", 0.5), pair(1, 0, "china", -0.5)];
        let extra = compare_scores(&extra, 2, file.path(), 1e-2).unwrap();
        assert!(!extra.ok && extra.extra == 1);
        let other_corpus = [
            pair(0, 0, "us", 0.5),
            PairScore {
                id: "other".into(),
                ..pair(1, 0, "china", -0.5)
            },
        ];
        assert!(compare_scores(&other_corpus, 2, file.path(), 1e-2).is_err());
    }

    /// A reference cut short, or only part of one, is no evidence that the runs agree.
    #[test]
    fn a_reference_cut_short_or_with_a_pair_twice_is_an_error() {
        let pairs = [
            pair(0, 0, "us", 0.5),
            pair(1, 0, "china", -0.5),
            pair(2, 0, "india", 0.1),
        ];
        let whole = std::fs::read_to_string(reference(&pairs, 3).path()).unwrap();
        let lines: Vec<&str> = whole.lines().collect();
        let check = |content: String, expected: &str| {
            let file = tempfile::NamedTempFile::new().unwrap();
            std::fs::write(file.path(), content).unwrap();
            let error = compare_scores(&pairs, 3, file.path(), 1e-2)
                .err()
                .map(|e| format!("{e:#}"));
            assert!(error.as_deref().is_some_and(|e| e.contains(expected)), "{error:?}");
        };
        check(lines[..2].join("\n"), "ends without its closing line");
        check(
            format!("{}\n{}\n", lines[0], lines[3]),
            "holds 1 pairs where its closing line says 3",
        );
        check(format!("{}\n{}\n", lines[0], whole), "comes twice");
        check(String::new(), "ends without its closing line");
        // A reference over fewer documents (its own --limit) compares those; the rest are counted.
        let limited = reference(&pairs[..2], 2);
        let c = compare_scores(&pairs, 3, limited.path(), 1e-2).unwrap();
        assert!(c.ok);
        assert_eq!((c.compared, c.beyond_reference, c.reference_documents), (2, 1, 2));
    }
}
