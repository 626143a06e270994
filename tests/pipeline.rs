//! End-to-end pipeline tests on the tiny random-weight model (tests/data/tiny-model).

use std::path::Path;

use stance::{ActorSet, Analyzer, Document, Error, Label, Span, TargetedSentence};

mod common;
use common::{tiny_analyzer, tiny_model_dir};

const OPED: &str = "Washington's renewed outreach to Islamabad offers short-term gains. \
Beijing has been a reliable partner, Dr. Khan said on Jan. 5 at 10 a.m. in New Delhi.\n\n\
The U.S. Army and the Pentagon disagree. India and China traded barbs over the border.\n\
- Modi met Xi Jinping.\n- Nobody mentioned anyone here";

#[test]
fn scores_every_mentioned_actor_with_consistent_fields() {
    let doc = tiny_analyzer().score_text(OPED).unwrap();
    assert!(doc.sentences >= 5, "{} sentences", doc.sentences);
    let pairs: Vec<(usize, &str)> = doc
        .stances
        .iter()
        .map(|s| (s.sentence_index, s.actor.as_str()))
        .collect();
    assert!(pairs.contains(&(0, "us")), "{pairs:?}");
    assert!(pairs.iter().any(|(_, a)| *a == "china"));
    assert!(pairs.iter().any(|(_, a)| *a == "india"));
    let chars: Vec<char> = OPED.chars().collect();
    for s in &doc.stances {
        let sum = s.stance.p_unfavorable + s.stance.p_neutral + s.stance.p_favorable;
        assert!((sum - 1.0).abs() < 1e-5);
        assert!((s.stance.score - (s.stance.p_favorable - s.stance.p_unfavorable)).abs() < 1e-6);
        let sentence: String = chars[s.start..s.end].iter().collect();
        assert_eq!(sentence, s.text);
        for m in &s.mentions {
            let mention: String = chars[m.start..m.end].iter().collect();
            assert_eq!(mention, m.text);
        }
    }
    let total: u64 = doc.actors.values().map(|a| a.sentences()).sum();
    assert_eq!(total as usize, doc.stances.len());
}

#[test]
fn sentences_without_actors_produce_no_pairs() {
    let doc = tiny_analyzer().score_text("It rained all day. Nobody came.").unwrap();
    assert_eq!(doc.sentences, 2);
    assert!(doc.stances.is_empty());
    assert!(doc.actors.is_empty());
}

#[test]
fn scores_do_not_depend_on_batching_threads_or_order() {
    let docs: Vec<Document> = (0..12)
        .map(|i| {
            let filler = "and the talks went on ".repeat(i % 5);
            Document::new(
                format!("d{i}"),
                format!("China warned the US {filler}today. India stayed quiet {i}. {OPED}"),
            )
        })
        .collect();
    let reference = score_all(&docs, 4096, 128, 2, false);
    for (budget, rows, threads, reverse) in [
        (128, 1, 1, false),
        (300, 3, 2, true),
        (1000, 7, 1, true),
        (100_000, 512, 2, false),
    ] {
        let other = score_all(&docs, budget, rows, threads, reverse);
        assert_eq!(reference.len(), other.len());
        for (a, b) in reference.iter().zip(&other) {
            assert_eq!((&a.0, a.1, &a.2), (&b.0, b.1, &b.2));
            assert!(
                (a.3 - b.3).abs() < 1e-5,
                "budget {budget} rows {rows} threads {threads}: {a:?} vs {b:?}"
            );
        }
    }
}

/// (doc id, sentence index, actor, score) for every pair, sorted.
fn score_all(
    docs: &[Document],
    budget: usize,
    rows: usize,
    threads: usize,
    reverse: bool,
) -> Vec<(String, usize, String, f32)> {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    pool.install(|| {
        let analyzer = Analyzer::builder()
            .model_dir(tiny_model_dir())
            .threads(threads)
            .token_budget(budget)
            .max_batch_rows(rows)
            .build()
            .unwrap();
        let mut input = docs.to_vec();
        if reverse {
            input.reverse();
        }
        let mut out: Vec<_> = analyzer
            .score_documents(&input)
            .into_iter()
            .flat_map(|r| {
                let doc = r.unwrap();
                doc.stances
                    .into_iter()
                    .map(move |s| (doc.id.clone(), s.sentence_index, s.actor, s.stance.score))
            })
            .collect();
        out.sort_by(|a, b| (&a.0, a.1, &a.2).cmp(&(&b.0, b.1, &b.2)));
        out
    })
}

/// The tiny model in a temporary directory, its config's `batch_invariant` set as given.
fn tiny_model_declaring(batch_invariant: bool) -> tempfile::TempDir {
    tiny_model_with("batch_invariant", serde_json::Value::Bool(batch_invariant))
}

/// The tiny model in a temporary directory, one field of its config set as given.
fn tiny_model_with(field: &str, value: serde_json::Value) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_bundle(dir.path());
    let path = dir.path().join("config.json");
    let mut config: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    config[field] = value;
    std::fs::write(&path, config.to_string()).unwrap();
    dir
}

/// Scores `target` alone and then third among six other documents with
/// `score_documents_separately` (a budget that fits every pair in one batch);
/// returns the batches the second call ran, after checking that the target got
/// the same bits both times.
fn batches_scoring_a_document_among_others(model: &Path) -> usize {
    let analyzer = Analyzer::builder()
        .model_dir(model)
        .threads(2)
        .token_budget(1 << 20)
        .max_batch_rows(1024)
        .record_batch_timings(true)
        .build()
        .unwrap();
    let target = Document::new("target", OPED);
    let mut crowd: Vec<Document> = (0..6)
        .map(|i| {
            let text = format!(
                "China and India spoke {i} times. {}",
                "The U.S. listened. ".repeat(i + 1)
            );
            Document::new(format!("other{i}"), text)
        })
        .collect();
    crowd.insert(3, target.clone());
    let bits =
        |d: &stance::DocumentStances| -> Vec<u32> { d.stances.iter().map(|s| s.stance.score.to_bits()).collect() };

    let alone = analyzer.score_documents_separately(std::slice::from_ref(&target));
    let _ = analyzer.take_batch_timings();
    let together = analyzer.score_documents_separately(&crowd);
    let batches = analyzer.take_batch_timings().len();
    let alone = alone[0].as_ref().unwrap();
    assert!(!alone.stances.is_empty());
    assert_eq!(bits(alone), bits(together[3].as_ref().unwrap()));
    assert_eq!(together.len(), crowd.len());
    assert!(together.iter().all(Result::is_ok));

    let _ = analyzer.score_documents(&crowd);
    assert_eq!(analyzer.take_batch_timings().len(), 1, "across documents: one batch");
    batches
}

#[test]
fn scored_separately_a_document_gets_the_same_bits_whatever_its_company() {
    // A model that does not declare itself batch-invariant: one batch per document.
    let plain = tiny_model_declaring(false);
    assert!(!analyzer_on(plain.path()).info().batch_invariant);
    assert_eq!(
        batches_scoring_a_document_among_others(plain.path()),
        7,
        "one batch per document"
    );
    // The tiny model is batch-invariant (tested bit for bit below): documents share batches.
    assert!(analyzer_on(&tiny_model_dir()).info().batch_invariant);
    assert_eq!(
        batches_scoring_a_document_among_others(&tiny_model_dir()),
        1,
        "one batch for all"
    );
}

fn analyzer_on(model: &Path) -> Analyzer {
    Analyzer::builder().model_dir(model).threads(1).build().unwrap()
}

#[test]
fn a_failing_document_does_not_hide_the_others() {
    let docs = vec![
        Document::new("ok1", "China spoke."),
        Document::new("empty", "  \n "),
        Document::new("ok2", "India replied."),
    ];
    let results = tiny_analyzer().score_documents(&docs);
    assert_eq!(results.len(), 3);
    assert!(results[0].is_ok() && results[2].is_ok());
    let err = results[1].as_ref().unwrap_err().to_string();
    assert!(err.contains("empty") && err.contains("empty text"), "{err}");
}

#[test]
fn stream_yields_every_document_in_order() {
    let docs = (0..25).map(|i| {
        if i % 7 == 3 {
            Document::new(format!("d{i}"), "")
        } else {
            Document::new(format!("d{i}"), "The US and China met.")
        }
    });
    let a = tiny_analyzer();
    let ids: Vec<(String, bool)> = a
        .score_stream(docs, 4)
        .map(|r| match r {
            Ok(d) => (d.id, true),
            Err(e) => (e.id, false),
        })
        .collect();
    assert_eq!(ids.len(), 25);
    assert!(ids.iter().enumerate().all(|(i, (id, _))| *id == format!("d{i}")));
    assert_eq!(ids.iter().filter(|(_, ok)| !ok).count(), 4);
}

#[test]
fn empty_text_is_an_error() {
    let err = tiny_analyzer().score_text("").unwrap_err();
    assert!(matches!(err, Error::Input { .. }), "{err}");
}

#[test]
fn a_fifty_thousand_character_sentence_is_scored_and_flagged_truncated() {
    let long = format!("{} China {}", "word ".repeat(5_000), "more ".repeat(5_000));
    assert!(long.len() >= 50_000);
    let doc = tiny_analyzer().score_text(&long).unwrap();
    assert_eq!(doc.stances.len(), 1);
    assert!(doc.stances[0].truncated);
    assert_eq!(doc.stances[0].mentions[0].text, "China");
}

#[test]
fn explicit_targets_score_in_input_order() {
    let a = tiny_analyzer();
    let targets = vec![
        TargetedSentence {
            text: "Judge Gorsuch wrote for the majority.".into(),
            spans: vec![Span::new(0, 13)],
            ..TargetedSentence::default()
        },
        TargetedSentence {
            text: "Beijing objected.".into(),
            spans: vec![Span::new(0, 7)],
            ..TargetedSentence::default()
        },
    ];
    let both = a.score_targets(&targets).unwrap();
    let second = a.score_targets(&targets[1..]).unwrap();
    assert_eq!(both.len(), 2);
    assert!((both[1].score - second[0].score).abs() < 1e-6);
    let bad = TargetedSentence {
        text: "short".into(),
        spans: vec![Span::new(0, 50)],
        ..TargetedSentence::default()
    };
    // Among many, the bad one is named by its place.
    let error = a
        .score_targets(&[targets[0].clone(), targets[1].clone(), bad])
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("target 2: ") && error.contains("\"short\""),
        "{error}"
    );
}

#[test]
fn a_short_name_is_scored_after_its_full_alias_in_an_earlier_sentence() {
    let a = Analyzer::builder()
        .model_dir(tiny_model_dir())
        .actors(ActorSet::select(&["pakistan"]).unwrap())
        .threads(1)
        .build()
        .unwrap();
    let text = "Khan was absent. Imran Khan spoke. Mr Khan left.";
    let doc = a.score_text(text).unwrap();
    let found: Vec<(usize, Vec<(usize, &str)>)> = doc
        .stances
        .iter()
        .map(|s| {
            (
                s.sentence_index,
                s.mentions.iter().map(|m| (m.start, m.text.as_str())).collect(),
            )
        })
        .collect();
    assert_eq!(found, [(1, vec![(17, "Imran Khan")]), (2, vec![(38, "Khan")])]);
    // Each sentence on its own: only the full name is a mention.
    let alone = a.score_sentences(&["Mr Khan left.", "Imran Khan spoke."]).unwrap();
    assert_eq!(alone.iter().map(|s| s.sentence_index).collect::<Vec<_>>(), [1]);
}

#[test]
fn a_model_chooses_its_document_context_weight_and_the_builder_overrides_it() {
    let model = tiny_model_with("document_context", serde_json::json!(0.25));
    let build = |builder: stance::AnalyzerBuilder| builder.model_dir(model.path()).threads(1).build().unwrap();
    assert_eq!(build(Analyzer::builder()).info().document_context, 0.25);
    let alone = build(Analyzer::builder().document_context(0.0));
    assert_eq!(alone.info().document_context, 0.0);
    // The weight is used, not only reported: China's three sentences read
    // differently at 0.25 than alone.
    let text = "China broke its promise. China signed the deal. China kept quiet.";
    let probabilities = |a: &Analyzer| {
        a.score_text(text)
            .unwrap()
            .stances
            .iter()
            .map(|s| s.stance.probabilities())
            .collect::<Vec<_>>()
    };
    assert_ne!(probabilities(&build(Analyzer::builder())), probabilities(&alone));
    let bad = tiny_model_with("document_context", serde_json::json!(-1.0));
    let message = Analyzer::builder()
        .model_dir(bad.path())
        .build()
        .err()
        .expect("refused")
        .to_string();
    assert!(
        message.contains("document_context") && message.contains("config.json"),
        "{message}"
    );
}

#[test]
fn a_sentence_is_read_in_its_document_and_alone_with_weight_zero() {
    let build = |weight: Option<f32>| {
        let builder = Analyzer::builder()
            .model_dir(tiny_model_dir())
            .actors(ActorSet::select(&["china", "india"]).unwrap())
            .threads(1);
        match weight {
            Some(w) => builder.document_context(w),
            None => builder,
        }
        .build()
        .unwrap()
    };
    let sentences = [
        "China broke its promise.",
        "India and China signed the deal.",
        "China kept quiet.",
    ];
    let text = sentences.join(" ");
    let alone = build(Some(0.0)).score_sentences(&sentences).unwrap();
    let probabilities = |s: &stance::SentenceStance| s.stance.probabilities();
    let read_alone = build(Some(0.0)).score_text(&text).unwrap();
    assert_eq!(
        read_alone.stances.iter().map(probabilities).collect::<Vec<_>>(),
        alone.iter().map(probabilities).collect::<Vec<_>>()
    );
    let default = build(None);
    assert_eq!(
        default.info().document_context,
        stance::context::DEFAULT_DOCUMENT_CONTEXT
    );
    let read = default.score_text(&text).unwrap();
    // China: each sentence plus half the mean log-probabilities of its other two.
    // India appears once: read alone.
    let china: Vec<usize> = (0..alone.len()).filter(|&i| alone[i].actor == "china").collect();
    assert_eq!(china.len(), 3);
    for (i, got) in read.stances.iter().enumerate() {
        assert_eq!(
            (got.sentence_index, &got.actor),
            (alone[i].sentence_index, &alone[i].actor)
        );
        if got.actor == "india" {
            assert_eq!(got.stance, alone[i].stance);
            continue;
        }
        let log = |j: usize| alone[j].stance.probabilities().map(|p| f64::from(p).ln());
        let shifted: Vec<f64> = (0..3)
            .map(|l| {
                let others: f64 = china.iter().filter(|&&j| j != i).map(|&j| log(j)[l]).sum();
                log(i)[l] + 0.5 * others / 2.0
            })
            .collect();
        let z: f64 = shifted.iter().map(|v| v.exp()).sum();
        for (l, p) in got.stance.probabilities().iter().enumerate() {
            assert!(
                (f64::from(*p) - shifted[l].exp() / z).abs() < 1e-6,
                "pair {i}: {:?}",
                got.stance
            );
        }
    }
    let negative = Analyzer::builder()
        .model_dir(tiny_model_dir())
        .document_context(-0.5)
        .build()
        .err()
        .expect("a negative weight is refused");
    assert!(
        negative.to_string().contains("document context weight (-0.5)"),
        "{negative}"
    );
}

#[test]
fn custom_actor_sets_are_used() {
    let actors = ActorSet::from_toml_str(
        "[[actor]]\nid = \"eu\"\nname = \"European Union\"\naliases = [\"EU\", \"Brussels\"]\n",
        "test",
    )
    .unwrap();
    let a = Analyzer::builder()
        .model_dir(tiny_model_dir())
        .actors(actors)
        .threads(1)
        .build()
        .unwrap();
    let doc = a.score_text("Brussels fined the firm. China said nothing.").unwrap();
    assert_eq!(doc.stances.len(), 1);
    assert_eq!(doc.stances[0].actor, "eu");
    assert_eq!(a.info().actors, vec!["eu"]);
}

#[test]
fn missing_model_directory_is_a_clear_error() {
    let err = build_error(Path::new("/nonexistent/model"));
    assert!(err.contains("/nonexistent/model"), "{err}");
}

/// The message of the error that building an analyzer on the bundle in `dir` gives.
fn build_error(dir: &Path) -> String {
    Analyzer::builder().model_dir(dir).build().err().unwrap().to_string()
}

fn copy_bundle(dir: &Path) {
    for f in ["model.onnx", "tokenizer.json", "config.json"] {
        std::fs::copy(tiny_model_dir().join(f), dir.join(f)).unwrap();
    }
}

/// A graph without token type ids, over MPNet's tokenizer (the interface of
/// `models/stance-base`), scores like any other, and documents share its batches exactly as they do
/// the three-input model's.
#[test]
fn a_model_without_token_type_ids_scores_and_keeps_batch_invariance() {
    let two_inputs = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tiny-model-two-inputs");
    let doc = analyzer_on(&two_inputs).score_text(OPED).unwrap();
    let three = tiny_analyzer().score_text(OPED).unwrap();
    assert_eq!(doc.stances.len(), three.stances.len(), "the same pairs");
    for s in &doc.stances {
        let p = s.stance.probabilities();
        let sum: f32 = p.iter().sum();
        assert!((sum - 1.0).abs() < 1e-5, "{p:?}");
    }
    // Another vocabulary (MPNet's) and no type embedding: other scores, from the same pairs.
    assert_ne!(
        doc.stances.iter().map(|s| stance_bits(&s.stance)).collect::<Vec<_>>(),
        three.stances.iter().map(|s| stance_bits(&s.stance)).collect::<Vec<_>>()
    );
    assert_eq!(batches_scoring_a_document_among_others(&two_inputs), 1);
}

/// A config.json that names other inputs than its graph takes is refused with both lists.
#[test]
fn config_inputs_that_differ_from_the_graph_are_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    copy_bundle(dir.path());
    let path = dir.path().join("config.json");
    let mut config: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    config["onnx"]["inputs"] = serde_json::json!(["input_ids", "attention_mask"]);
    std::fs::write(&path, config.to_string()).unwrap();
    let err = build_error(dir.path());
    assert!(err.contains("model.onnx") && err.contains("token_type_ids"), "{err}");

    config["onnx"]["inputs"] = serde_json::json!(["input_ids"]);
    std::fs::write(&path, config.to_string()).unwrap();
    let err = build_error(dir.path());
    assert!(err.contains("config.json") && err.contains("2 or 3 inputs"), "{err}");
}

#[test]
fn corrupt_model_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    copy_bundle(dir.path());
    std::fs::write(dir.path().join("model.onnx"), b"this is not an onnx graph").unwrap();
    let err = Analyzer::builder().model_dir(dir.path()).build().err().unwrap();
    assert!(matches!(err, Error::Model { .. }), "{err}");
    assert!(err.to_string().contains("model.onnx"), "{err}");
}

#[test]
fn missing_tokenizer_and_bad_config_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    copy_bundle(dir.path());
    std::fs::remove_file(dir.path().join("tokenizer.json")).unwrap();
    let err = build_error(dir.path());
    assert!(err.contains("tokenizer.json"), "{err}");

    copy_bundle(dir.path());
    std::fs::write(
        dir.path().join("config.json"),
        "{\"name\": \"x\",\n \"labels\": [1, 2]}",
    )
    .unwrap();
    let err = build_error(dir.path());
    assert!(err.contains("config.json") && err.contains("line"), "{err}");
}

#[test]
fn invalid_builder_settings_are_rejected() {
    let err = Analyzer::builder()
        .model_dir(tiny_model_dir())
        .token_budget(10)
        .build()
        .err()
        .unwrap();
    assert!(matches!(err, Error::Config(_)), "{err}");
    let err = Analyzer::builder()
        .model_dir(tiny_model_dir())
        .threads(0)
        .build()
        .err()
        .unwrap();
    assert!(matches!(err, Error::Config(_)), "{err}");
}

#[cfg(not(feature = "cuda"))]
#[test]
fn cuda_without_the_feature_is_an_error_not_a_fallback() {
    let err = Analyzer::builder()
        .model_dir(tiny_model_dir())
        .device(stance::Device::Cuda(0))
        .build()
        .err()
        .unwrap();
    assert!(matches!(err, Error::Device { .. }), "{err}");
}

#[test]
fn labels_follow_the_highest_probability() {
    let doc = tiny_analyzer().score_text(OPED).unwrap();
    for s in &doc.stances {
        let p = s.stance.probabilities();
        let best = Label::ALL
            .into_iter()
            .max_by(|a, b| p[a.index()].total_cmp(&p[b.index()]))
            .unwrap();
        assert_eq!(s.stance.label, best);
    }
}

/// The bits of everything a pair's logits determine.
fn stance_bits(s: &stance::Stance) -> [u32; 4] {
    [
        s.p_unfavorable.to_bits(),
        s.p_neutral.to_bits(),
        s.p_favorable.to_bits(),
        s.score.to_bits(),
    ]
}

fn target(text: &str, mention: &str) -> TargetedSentence {
    let start = text.find(mention).unwrap();
    TargetedSentence {
        text: text.to_string(),
        spans: vec![Span::new(start, start + mention.len())],
        ..TargetedSentence::default()
    }
}

#[test]
fn the_tiny_model_runs_its_matmuls_in_per_row_int8() {
    // Without these ops the bit-identity test below would not exercise the int8 path
    // (tests/data/make_tiny_model.py builds them with training/per_row_quant.py).
    let graph = std::fs::read(tiny_model_dir().join("model.onnx")).unwrap();
    let has = |op: &str| graph.windows(op.len()).any(|w| w == op.as_bytes());
    assert!(has("MatMulIntegerToFloat") && has("QuantizeLinear") && has("com.microsoft"));
}

#[test]
fn a_pairs_logits_are_bit_identical_alone_in_a_batch_of_64_padded_to_128_at_any_row_offset() {
    // 64 batch-mates of 8 to 45 tokens, in an order unrelated to their lengths.
    let crowd: Vec<TargetedSentence> = (0..64)
        .map(|i| {
            let text = format!("{}India{}.", "so ".repeat((i * 7) % 32), " said no".repeat(i % 3));
            target(&text, "India")
        })
        .collect();
    let long = target(
        &format!("{} China {}", "word ".repeat(300), "more ".repeat(50)),
        "China",
    );
    let pairs = [
        target(
            "Beijing objected to the plan, which it called a provocation by its neighbours.",
            "Beijing",
        ),
        target(
            "Critics say Washington has squandered its credibility in the region.",
            "Washington",
        ),
    ];
    for threads in [1, 2] {
        let limits = stance::BatchLimits {
            token_budget: 1 << 20,
            max_rows: 1024,
        };
        let analyzer = Analyzer::builder()
            .model_dir(tiny_model_dir())
            .threads(threads)
            .token_budget(limits.token_budget)
            .max_batch_rows(limits.max_rows)
            .record_batch_timings(true)
            .build()
            .unwrap();
        let long_len = analyzer.bench_encode(std::slice::from_ref(&long)).unwrap().lengths()[0];
        assert_eq!(long_len, 128, "the long sentence fills the 128-token window");
        for pair in &pairs {
            let alone = analyzer.score_targets(std::slice::from_ref(pair)).unwrap();
            let _ = analyzer.take_batch_timings();
            let mut offsets = std::collections::BTreeSet::new();
            for k in [1, 5, 13, 29, 47, 64] {
                for padded in [false, true] {
                    // the pair in the middle of the input, k batch-mates, optionally a 128-token row
                    let mut input: Vec<TargetedSentence> = crowd[..k].to_vec();
                    let at = k / 2;
                    input.insert(at, pair.clone());
                    if padded {
                        input.push(long.clone());
                    }
                    let scored = analyzer.score_targets(&input).unwrap();
                    let timings = analyzer.take_batch_timings();
                    assert_eq!(timings.len(), 1, "one batch");
                    assert_eq!(timings[0].rows, input.len());
                    if padded {
                        assert_eq!(timings[0].padded_tokens, input.len() * 128, "padded to 128");
                    }
                    // the pair's row in the batch tensor: the batch is sorted by (length, input index)
                    let lengths = analyzer.bench_encode(&input).unwrap().lengths();
                    let plan = stance::plan_batches(&lengths, limits);
                    let offset = plan[0].iter().position(|&i| i == at).unwrap();
                    offsets.insert(offset);
                    assert_eq!(
                        stance_bits(&scored[at]),
                        stance_bits(&alone[0]),
                        "threads {threads}, {k} batch-mates, padded {padded}, row {offset}: {:?} vs {:?}",
                        scored[at],
                        alone[0]
                    );
                }
            }
            assert!(offsets.len() >= 5, "row offsets {offsets:?}");
        }
    }
}

/// The tiny model's bundle with `context_tokens` set: a model that reads the sentence before.
fn tiny_model_reading_context(dir: &Path) -> Analyzer {
    for file in ["model.onnx", "tokenizer.json"] {
        std::fs::copy(tiny_model_dir().join(file), dir.join(file)).unwrap();
    }
    let config = std::fs::read_to_string(tiny_model_dir().join("config.json")).unwrap();
    let with_context = config.replacen("\"kind\"", "\"context_tokens\": 48, \"kind\"", 1);
    assert_ne!(with_context, config);
    std::fs::write(dir.join("config.json"), with_context).unwrap();
    Analyzer::builder()
        .model_dir(dir)
        .threads(2)
        .build()
        .expect("tiny model loads")
}

fn probabilities(stance: &stance::Stance) -> [f32; 3] {
    [stance.p_unfavorable, stance.p_neutral, stance.p_favorable]
}

#[test]
fn a_document_feeds_each_sentence_the_one_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let a = tiny_model_reading_context(dir.path());
    let (before, sentence) = ("Talks stalled for two days.", "Beijing backed the plan.");
    let doc = a.score_text(&format!("{before} {sentence}")).unwrap();
    let [scored] = doc.stances.as_slice() else {
        panic!("{:?}", doc.stances)
    };
    assert_eq!(scored.sentence_index, 1);
    let pair = |context: &str| TargetedSentence {
        text: sentence.into(),
        spans: vec![Span::new(0, 7)],
        context: context.into(),
        ..TargetedSentence::default()
    };
    let [in_context, alone] = a.score_targets(&[pair(before), pair("")]).unwrap()[..] else {
        panic!()
    };
    assert_eq!(probabilities(&scored.stance), probabilities(&in_context));
    assert_ne!(
        probabilities(&in_context),
        probabilities(&alone),
        "the context changed nothing"
    );

    // A document's first sentence, and sentences scored one by one, have none.
    let first = a.score_text(sentence).unwrap();
    assert_eq!(probabilities(&first.stances[0].stance), probabilities(&alone));
    let listed = a.score_sentences(&[before, sentence]).unwrap();
    assert_eq!(probabilities(&listed[0].stance), probabilities(&alone));
}

/// A thread count asked for beyond what the cores can use is refused; rayon's pool sized past
/// them (a caller's pool, RAYON_NUM_THREADS) is not the caller's request: the default takes the
/// most that helps.
#[test]
fn the_default_thread_count_stays_within_what_the_cores_can_use() {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let max = stance::AnalyzerBuilder::max_threads(cores);
    let asked = Analyzer::builder().model_dir(tiny_model_dir()).threads(max + 1).build();
    assert!(matches!(asked, Err(Error::Config(_))));
    let pool = rayon::ThreadPoolBuilder::new().num_threads(max + 1).build().unwrap();
    let analyzer = pool
        .install(|| Analyzer::builder().model_dir(tiny_model_dir()).build())
        .expect("the default is clamped, not refused");
    let info = analyzer.info();
    assert!(
        info.sessions * info.intra_threads <= max,
        "{} x {}",
        info.sessions,
        info.intra_threads
    );
}
