//! The shipped bundles in `models/` read through the library as they read in the
//! Python pipeline that measured their model cards: `stance eval --predictions`
//! on a small article fixture against `tests/data/reference_<bundle>.jsonl`
//! (written by `training/bundle_reference.py` with onnxruntime). A wrong pad id,
//! input, special token or temperature for a tier shows up here.

mod common;

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use common::{json_lines, root};

/// `stance eval --predictions` with the bundle in `bundle`, one line per pair,
/// each sentence read alone as the Python pipeline reads it (no document context).
/// (common's runner always names the tiny model, so this one builds its own command.)
fn rust_predictions(bundle: &Path, data: &Path) -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("predictions.jsonl");
    let run = Command::new(env!("CARGO_BIN_EXE_stance"))
        .args([
            "eval",
            "--document-context",
            "0",
            "--data",
            data.to_str().unwrap(),
            "--model",
        ])
        .arg(bundle)
        .arg("--predictions")
        .arg(&out)
        .output()
        .expect("binary runs");
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    json_lines(&out)
}

fn assert_reads_as_its_reference(name: &str) {
    let bundle = root().join("models").join(name);
    let data = root().join("tests/data/eval_articles.jsonl");
    let reference = json_lines(&root().join(format!("tests/data/reference_{name}.jsonl")));
    let ours = rust_predictions(&bundle, &data);
    assert_eq!(ours.len(), reference.len(), "{name}: pairs");
    for (i, (a, b)) in ours.iter().zip(&reference).enumerate() {
        assert_eq!(a["actor"], b["actor"], "{name}: pair {i}");
        for p in ["p_unfavorable", "p_neutral", "p_favorable"] {
            let (x, y) = (a[p].as_f64().unwrap(), b[p].as_f64().unwrap());
            // Different padding (Rust batches by token budget) moves only the last bits.
            assert!((x - y).abs() < 1e-4, "{name}: pair {i} {p}: rust {x}, python {y}");
        }
        assert_eq!(a["predicted"], b["label"], "{name}: pair {i}");
    }
}

#[test]
fn stance_mini_reads_as_in_the_python_pipeline() {
    assert_reads_as_its_reference("stance-mini");
}

#[test]
fn stance_mid_reads_as_in_the_python_pipeline() {
    assert_reads_as_its_reference("stance-mid");
}

#[test]
fn stance_base_reads_as_in_the_python_pipeline() {
    assert_reads_as_its_reference("stance-base");
}

/// Every bundle's model card carries the README's table of tiers (copied by
/// `training/tiers.py` and `write_bundle.py`), so a card read on its own is not out of date.
#[test]
fn model_cards_repeat_the_readme_table_of_tiers() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let (begin, end) = ("<!-- tiers:begin -->", "<!-- tiers:end -->");
    let start = readme.find(begin).expect("README marks its table of tiers") + begin.len();
    let table = readme[start..readme.find(end).unwrap()].trim_matches('\n');
    let mut cards = 0;
    for entry in std::fs::read_dir(root().join("models")).unwrap() {
        let card_path = entry.unwrap().path().join("MODEL_CARD.md");
        let Ok(card) = std::fs::read_to_string(&card_path) else {
            continue;
        };
        assert!(
            card.contains(&format!("## Tiers\n\n{table}\n\n")),
            "{} does not carry the README's table of tiers: run `python training/tiers.py`",
            card_path.display()
        );
        cards += 1;
    }
    assert_eq!(cards, stance::EmbeddedModel::ALL.len(), "a model card per tier");
}
