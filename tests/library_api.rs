//! The library as an embedding program uses it: documented guarantees of the
//! public API at its edges, on the tiny random-weight model (tests/data/tiny-model).

use stance::corpus::{score_records, CorpusReader, ErrorKind, ErrorRow, Location, ReadOptions, Record};
use stance::{Analyzer, Document, DocumentError, Error};

mod common;
use common::{tiny_analyzer, tiny_model_dir};

#[test]
fn a_byte_order_mark_and_blanks_are_an_empty_text() {
    let analyzer = tiny_analyzer();
    for text in [
        "\u{feff}",
        "\u{feff} \n\u{3000}",
        " \t\r\n",
        "\u{200b}",
        "\u{feff}\u{feff}",
    ] {
        let err = analyzer.score_text(text).unwrap_err();
        assert!(matches!(err, Error::Input { .. }), "{text:?}: {err}");
        assert_eq!(err.to_string(), "<text>: empty text", "{text:?}");
    }
    let results = analyzer.score_documents(&[Document::new("a", "China."), Document::new("b", "\u{feff}\n")]);
    assert!(results[0].is_ok());
    assert_eq!(results[1].as_ref().unwrap_err().to_string(), "b: empty text");
    // The mark stays part of a text with more in it: offsets count it.
    let marked = analyzer.score_text("\u{feff}China is bad.").unwrap();
    assert_eq!((marked.stances[0].start, marked.stances[0].mentions[0].start), (1, 1));
}

/// The message of `build()`'s error for a builder on the tiny model.
fn build_error(configure: impl FnOnce(stance::AnalyzerBuilder) -> stance::AnalyzerBuilder) -> String {
    let builder = Analyzer::builder().model_dir(tiny_model_dir()).threads(1);
    match configure(builder).build() {
        Ok(_) => panic!("the settings were accepted"),
        Err(err) => err.to_string(),
    }
}

#[test]
fn each_batch_limit_is_refused_by_its_own_name() {
    let rows = build_error(|b| b.max_batch_rows(0));
    assert_eq!(rows, "invalid configuration: max batch rows (0) must be at least 1");
    let budget = build_error(|b| b.token_budget(100));
    assert_eq!(
        budget,
        "invalid configuration: token budget (100) must be at least the model's max length (128)"
    );
}

/// The tiny model in a temporary directory, its `[CLS]` id past the graph's
/// embedding table (a token of the tokenizer, so that loading accepts it):
/// every run of the model fails in ONNX Runtime.
fn tiny_model_failing_at_run_time() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(tiny_model_dir().join("model.onnx"), dir.path().join("model.onnx")).unwrap();
    let tokenizer = std::fs::read_to_string(tiny_model_dir().join("tokenizer.json")).unwrap();
    let mut tokenizer: serde_json::Value = serde_json::from_str(&tokenizer).unwrap();
    tokenizer["model"]["vocab"]["[FAR]"] = 1_000_000.into();
    std::fs::write(dir.path().join("tokenizer.json"), tokenizer.to_string()).unwrap();
    let config = std::fs::read_to_string(tiny_model_dir().join("config.json")).unwrap();
    let mut config: serde_json::Value = serde_json::from_str(&config).unwrap();
    config["tokens"]["cls"] = 1_000_000.into();
    std::fs::write(dir.path().join("config.json"), config.to_string()).unwrap();
    dir
}

#[test]
fn a_failed_batch_keeps_the_runtimes_reason() {
    let model = tiny_model_failing_at_run_time();
    let analyzer = Analyzer::builder().model_dir(model.path()).threads(1).build().unwrap();
    let err = analyzer.score_text("China spoke.").unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, Error::Inference { .. }), "{message}");
    // The batch that failed, then ONNX Runtime's reason: the node and the index out of range.
    assert!(
        message.starts_with("inference failed: running a batch of 1 rows x "),
        "{message}"
    );
    assert!(message.contains("Gather") && message.contains("1000000"), "{message}");
}

#[test]
#[should_panic(expected = "Analyzer::score_stream: chunk_size must be at least 1")]
fn a_stream_chunk_size_of_zero_panics_naming_it() {
    let analyzer = tiny_analyzer();
    // The call itself panics, before the stream is read.
    let _stream = analyzer.score_stream(vec![Document::new("a", "China spoke.")], 0);
}

#[test]
fn a_stream_chunk_size_of_one_scores_every_document() {
    let analyzer = tiny_analyzer();
    let docs = vec![Document::new("a", "China spoke."), Document::new("b", "India spoke.")];
    let ids: Vec<String> = analyzer.score_stream(docs, 1).map(|r| r.unwrap().id).collect();
    assert_eq!(ids, ["a", "b"]);
}

/// The `errors.jsonl` line a corpus run writes for the one document of a
/// JSON Lines file holding `{"id": id, "text": text}`.
fn run_error_line(analyzer: &Analyzer, id: &str, text: &str) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("docs.jsonl");
    std::fs::write(&input, format!("{}\n", serde_json::json!({"id": id, "text": text}))).unwrap();
    let records: Vec<_> = CorpusReader::new(&[input], ReadOptions::default()).unwrap().collect();
    let items = score_records(analyzer, records, false);
    let [item] = &items[..] else { panic!("one record") };
    let error = item.result.as_ref().expect_err("the document fails");
    serde_json::to_value(ErrorRow::new(&item.location, error)).unwrap()
}

/// `line` as a document given in memory has it: no file and no line.
fn in_memory(mut line: serde_json::Value) -> serde_json::Value {
    assert!(
        line["file"].as_str().unwrap().ends_with("docs.jsonl") && line["line"] == 1,
        "{line}"
    );
    line["file"] = "".into();
    line["line"] = serde_json::Value::Null;
    line
}

#[test]
fn a_document_error_serializes_as_the_line_of_errors_jsonl_a_run_writes() {
    let analyzer = tiny_analyzer();
    let docs = vec![Document::new("a", "China spoke."), Document::new("b", " \u{3000}\n")];
    let failed = analyzer
        .score_stream(docs, 2)
        .find_map(Result::err)
        .expect("the blank document fails");
    let run_line = run_error_line(&analyzer, "b", " \u{3000}\n");
    assert_eq!(run_line["kind"], "empty_text");
    assert_eq!(serde_json::to_value(&failed).unwrap(), in_memory(run_line));
    assert_eq!(
        serde_json::to_string(&failed).unwrap(),
        r#"{"id":"b","file":"","line":null,"kind":"empty_text","reason":"empty text"}"#
    );
    // A failure of the model itself.
    let model = tiny_model_failing_at_run_time();
    let failing = Analyzer::builder().model_dir(model.path()).threads(1).build().unwrap();
    let failed = failure(&failing, "c", "China spoke.");
    let run_line = run_error_line(&failing, "c", "China spoke.");
    assert_eq!(run_line["kind"], "scoring");
    assert!(
        run_line["reason"].as_str().unwrap().starts_with("inference failed: "),
        "{run_line}"
    );
    assert_eq!(serde_json::to_value(&failed).unwrap(), in_memory(run_line));
}

/// A record built in memory with a blank text fails as the reader's blank records do.
#[test]
fn a_blank_document_of_a_record_built_in_memory_is_an_empty_text() {
    let analyzer = tiny_analyzer();
    let record = |id: &str, text: &str| Record {
        location: Location {
            file: "mem".into(),
            line: Some(1),
        },
        document: Ok(Document::new(id, text)),
    };
    let items = score_records(
        &analyzer,
        vec![record("1", "   "), record("2", "\u{200b}"), record("3", "China.")],
        false,
    );
    for item in &items[..2] {
        let error = item.result.as_ref().expect_err("a blank text fails");
        assert_eq!(
            (error.kind, error.reason.as_str()),
            (ErrorKind::EmptyText, "empty text")
        );
    }
    assert!(items[2].result.is_ok());
}

/// The failure of the document `id` of `text`, scored as a stream.
fn failure(analyzer: &Analyzer, id: &str, text: &str) -> DocumentError {
    analyzer
        .score_stream(vec![Document::new(id, text)], 1)
        .next()
        .expect("one result")
        .expect_err("the document fails")
}

/// The messages of `error` and of its chain of sources, in order.
fn chain(error: &dyn std::error::Error) -> Vec<String> {
    std::iter::successors(Some(error), |e| e.source())
        .map(ToString::to_string)
        .collect()
}

/// A document's failure reads as the library's error with the id in front: its message holds
/// the error's, so its source is the error's own source, and no message of the chain is said
/// again by a later one (as anyhow's "Caused by:" would show it).
#[test]
fn a_document_error_names_the_document_and_says_its_cause_once() {
    let analyzer = tiny_analyzer();
    let failed = failure(&analyzer, "b", "\u{feff} ");
    assert!(matches!(failed.error, Error::Input { .. }));
    assert_eq!(chain(&failed), ["b: empty text"]);
    let shown = format!("{:?}", anyhow::Error::new(failed));
    assert_eq!(shown.matches("empty text").count(), 1, "{shown}");

    let model = tiny_model_failing_at_run_time();
    let failing = Analyzer::builder().model_dir(model.path()).threads(1).build().unwrap();
    let failed = failure(&failing, "c", "China spoke.");
    assert_eq!(failed.to_string(), format!("c: {}", failed.error));
    assert!(failed.to_string().starts_with("c: inference failed: "), "{failed}");
    let messages = chain(&failed);
    let mut expected = chain(&failed.error);
    expected[0] = format!("c: {}", expected[0]);
    assert_eq!(messages, expected);
    assert!(
        messages.len() > 1,
        "the runtime's error is kept as the source: {messages:?}"
    );
    for (i, earlier) in messages.iter().enumerate() {
        for later in &messages[i + 1..] {
            assert!(!later.contains(earlier.as_str()), "{earlier:?} said again in {later:?}");
        }
    }
}
