//! `stance-bench`: end-to-end throughput of the whole pipeline on a corpus.
//!
//! Reads a JSONL corpus (one `{"id", "text"}` object a line; default: the
//! committed fixture), scores it `--repeat` times after one warm-up pass, and
//! prints one JSON line: device, model, threads, documents/s, sentences/s,
//! (sentence, actor) pairs/s, tokens/s, p50/p95 batch latency and peak RSS.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Parser;
use serde::Deserialize;
use stance::{ActorSet, Analyzer, BatchTiming, Device, Document};

#[derive(Parser)]
#[command(
    name = "stance-bench",
    version,
    about = "End-to-end throughput of the stance pipeline"
)]
struct Args {
    /// JSONL corpus with `text` (and optionally `id`) fields.
    #[arg(default_value = "benches/data/fixture.jsonl")]
    corpus: PathBuf,
    /// Model bundle directory (default: the embedded model).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Device: cpu, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Total threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// ONNX Runtime sessions (default: one per thread on CPU).
    #[arg(long)]
    sessions: Option<usize>,
    /// Token budget per batch.
    #[arg(long)]
    token_budget: Option<usize>,
    /// Maximum rows per batch.
    #[arg(long)]
    max_rows: Option<usize>,
    /// Documents scored per call (the streaming chunk).
    #[arg(long, default_value_t = 512)]
    chunk: usize,
    /// Timed passes over the corpus (after one warm-up pass).
    #[arg(long, default_value_t = 1)]
    repeat: usize,
    /// Stop reading the corpus after this many documents.
    #[arg(long)]
    limit: Option<usize>,
    /// Write every (sentence, actor) pair the pipeline scores to this JSONL file
    /// (`sentence`, `spans` as character offsets) and exit, for the side-by-side baselines.
    #[arg(long, value_name = "FILE")]
    dump_pairs: Option<PathBuf>,
    /// Built-in actors, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "us,china,india")]
    actors: Vec<String>,
}

#[derive(Deserialize)]
struct Line {
    #[serde(default)]
    id: Option<String>,
    text: String,
}

fn read_corpus(path: &PathBuf, limit: Option<usize>) -> Result<Vec<Document>> {
    let file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut docs = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        if limit.is_some_and(|l| docs.len() >= l) {
            break;
        }
        let line = line.with_context(|| format!("{}, line {}", path.display(), i + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let row: Line = serde_json::from_str(&line).with_context(|| format!("{}, line {}", path.display(), i + 1))?;
        docs.push(Document::new(
            row.id.unwrap_or_else(|| format!("line-{}", i + 1)),
            row.text,
        ));
    }
    if docs.is_empty() {
        bail!("{} holds no documents", path.display());
    }
    Ok(docs)
}

fn build(args: &Args, threads: usize) -> Result<Analyzer> {
    let device: Device = args.device.parse()?;
    let ids: Vec<&str> = args.actors.iter().map(String::as_str).collect();
    let mut builder = Analyzer::builder()
        .actors(ActorSet::select(&ids)?)
        .device(device)
        .threads(threads)
        .record_batch_timings(true);
    if let Some(dir) = &args.model {
        builder = builder.model_dir(dir);
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

fn score_pass(analyzer: &Analyzer, docs: &[Document], chunk: usize) -> Pass {
    let mut pass = Pass::default();
    for part in docs.chunks(chunk.max(1)) {
        for result in analyzer.score_documents(part) {
            match result {
                Ok(d) => {
                    pass.documents += 1;
                    pass.sentences += d.sentences;
                    pass.pairs += d.stances.len();
                }
                Err(_) => pass.failed += 1,
            }
        }
    }
    pass
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
fn dump_pairs(analyzer: &Analyzer, docs: &[Document], path: &PathBuf) -> Result<()> {
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

fn main() -> Result<()> {
    let args = Args::parse();
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    rayon::ThreadPoolBuilder::new().num_threads(threads).build_global()?;
    let docs = read_corpus(&args.corpus, args.limit)?;
    let analyzer = build(&args, threads)?;
    if let Some(path) = &args.dump_pairs {
        return dump_pairs(&analyzer, &docs, path);
    }
    score_pass(&analyzer, &docs, args.chunk); // warm-up: first-run allocations and kernel selection
    analyzer.take_batch_timings();
    let started = Instant::now();
    let mut total = Pass::default();
    for _ in 0..args.repeat.max(1) {
        let pass = score_pass(&analyzer, &docs, args.chunk);
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
    let report = serde_json::json!({
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
    println!("{report}");
    Ok(())
}
