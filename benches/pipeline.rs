#![allow(missing_docs)] // criterion_group! generates undocumented items
//! One criterion group per pipeline stage, and end to end, on the committed
//! fixture corpus (benches/data/fixture.jsonl). Throughput is in sentences
//! (for the model stages: (sentence, actor) pairs, the unit the model sees).
//!
//! The model stages use the embedded model; set `STANCE_BENCH_MODEL=DIR` to
//! benchmark another bundle.

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use stance::{
    plan_batches, split_sentences, ActorSet, ActorStats, Analyzer, BatchLimits, Document, MentionFinder,
    TargetedSentence,
};

const DOCUMENTS: usize = 120;

fn fixture() -> Vec<Document> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/data/fixture.jsonl");
    let text = std::fs::read_to_string(&path).expect("fixture exists: python3 benches/data/make_fixture.py");
    text.lines()
        .take(DOCUMENTS)
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).expect("fixture line is JSON");
            Document::new(
                v["id"].as_str().unwrap_or_default(),
                v["text"].as_str().unwrap_or_default(),
            )
        })
        .collect()
}

fn analyzer() -> Analyzer {
    let mut builder = Analyzer::builder();
    if let Some(dir) = std::env::var_os("STANCE_BENCH_MODEL") {
        builder = builder.model_dir(dir);
    }
    builder.build().expect("analyzer builds")
}

/// Every (sentence, actor) pair of the corpus with its mention spans and the sentence before.
fn targets(docs: &[Document], finder: &MentionFinder) -> Vec<TargetedSentence> {
    let mut out = Vec::new();
    for doc in docs {
        let mut before = "";
        for span in split_sentences(&doc.text) {
            let sentence = span.slice(&doc.text);
            let mentions = finder.find(sentence);
            let mut actors: Vec<usize> = mentions.iter().map(|m| m.actor).collect();
            actors.dedup();
            actors.sort_unstable();
            actors.dedup();
            for actor in actors {
                let spans = mentions.iter().filter(|m| m.actor == actor).map(|m| m.span).collect();
                let others = mentions.iter().filter(|m| m.actor != actor).map(|m| m.span).collect();
                out.push(TargetedSentence {
                    text: sentence.to_string(),
                    spans,
                    others,
                    context: before.to_string(),
                });
            }
            before = sentence;
        }
    }
    out
}

fn benches(c: &mut Criterion) {
    let docs = fixture();
    let sentences: Vec<&str> = docs
        .iter()
        .flat_map(|d| split_sentences(&d.text).into_iter().map(|s| s.slice(&d.text)))
        .collect();
    let finder = MentionFinder::new(&ActorSet::default()).expect("default actors are valid");
    let pairs = targets(&docs, &finder);
    let analyzer = analyzer();
    let encoded = analyzer.bench_encode(&pairs).expect("fixture encodes");
    let stances = analyzer.bench_infer(&encoded).expect("fixture scores");

    let mut g = c.benchmark_group("segment");
    g.throughput(Throughput::Elements(sentences.len() as u64));
    g.bench_function("split_sentences", |b| {
        b.iter(|| {
            docs.iter()
                .map(|d| split_sentences(black_box(&d.text)).len())
                .sum::<usize>()
        })
    });
    g.finish();

    let mut g = c.benchmark_group("mention");
    g.throughput(Throughput::Elements(sentences.len() as u64));
    g.bench_function("find", |b| {
        b.iter(|| sentences.iter().map(|s| finder.find(black_box(s)).len()).sum::<usize>())
    });
    g.finish();

    let mut g = c.benchmark_group("encode");
    g.throughput(Throughput::Elements(pairs.len() as u64));
    g.bench_function("pairs", |b| {
        b.iter(|| analyzer.bench_encode(black_box(&pairs)).map(|e| e.tokens()))
    });
    g.finish();

    let lengths = encoded.lengths();
    let mut g = c.benchmark_group("batch");
    g.throughput(Throughput::Elements(pairs.len() as u64));
    g.bench_function("plan", |b| {
        b.iter(|| plan_batches(black_box(&lengths), BatchLimits::default()).len())
    });
    g.finish();

    let mut g = c.benchmark_group("inference");
    g.sample_size(10);
    g.throughput(Throughput::Elements(pairs.len() as u64));
    g.bench_function("batched", |b| {
        b.iter(|| analyzer.bench_infer(black_box(&encoded)).map(|s| s.len()))
    });
    g.finish();

    let mut g = c.benchmark_group("aggregate");
    g.throughput(Throughput::Elements(stances.len() as u64));
    g.bench_function("actor_stats", |b| {
        b.iter(|| {
            let mut stats = ActorStats::default();
            for s in black_box(&stances) {
                stats.add(s, 1);
            }
            stats.mean()
        })
    });
    g.finish();

    let mut g = c.benchmark_group("end_to_end");
    g.sample_size(10);
    g.throughput(Throughput::Elements(sentences.len() as u64));
    g.bench_function("score_documents", |b| {
        b.iter(|| analyzer.score_documents(black_box(&docs)).len())
    });
    g.finish();
}

criterion_group!(pipeline, benches);
criterion_main!(pipeline);
