//! `stance eval --predictions` and the `aggregate` object, run as a user would,
//! on the tiny test model: its stances mean nothing, so the checks are about
//! bookkeeping (order, ids, consistency of the aggregates with the per-pair
//! file), never about accuracy.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn tiny_model() -> PathBuf {
    root().join("tests/data/tiny-model")
}

fn articles_fixture() -> PathBuf {
    root().join("tests/data/eval_articles.jsonl")
}

fn stance(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stance"))
        .args(args)
        .output()
        .expect("binary runs")
}

/// Runs `stance eval` with `--predictions` and returns (the printed object, the predictions).
fn eval_with_predictions(data: &Path) -> (Value, Vec<Value>) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("predictions.jsonl");
    let run = stance(&[
        "eval",
        "--data",
        data.to_str().unwrap(),
        "--model",
        tiny_model().to_str().unwrap(),
        "--predictions",
        out.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let printed: Value = serde_json::from_slice(&run.stdout).unwrap();
    let predictions = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (printed, predictions)
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn close(a: f64, b: f64) -> bool {
    // The predictions file holds f32 values; the binary averaged the same f32s.
    (a - b).abs() < 1e-5
}

fn gold_label(polarity: f64) -> &'static str {
    match polarity as i64 {
        2 => "unfavorable",
        4 => "neutral",
        6 => "favorable",
        _ => panic!("polarity {polarity}"),
    }
}

fn label_score(label: &str) -> f64 {
    match label {
        "unfavorable" => -1.0,
        "neutral" => 0.0,
        "favorable" => 1.0,
        _ => panic!("label {label}"),
    }
}

#[test]
fn predictions_file_has_one_line_per_pair_in_input_order() {
    let data = articles_fixture();
    let (printed, predictions) = eval_with_predictions(&data);

    // What each line must say, read from the fixture independently of the library.
    let mut expected = Vec::new();
    for (i, line) in std::fs::read_to_string(&data).unwrap().lines().enumerate() {
        let row: Value = serde_json::from_str(line).unwrap();
        for (t, target) in row["targets"].as_array().unwrap().iter().enumerate() {
            let sentence_id = row["primary_gid"]
                .as_str()
                .or(target["Input.gid"].as_str())
                .map_or_else(|| format!("{}:{}", data.display(), i + 1), str::to_string);
            let actor = target["actor"].as_str().or(target["mention"].as_str()).unwrap();
            let article = row
                .get("source_url")
                .or(row.get("primary_gid"))
                .cloned()
                .unwrap_or(Value::Null);
            expected.push((
                i + 1,
                t,
                sentence_id,
                actor.to_string(),
                article,
                gold_label(f(&target["polarity"])),
            ));
        }
    }
    assert_eq!(predictions.len(), expected.len());
    assert_eq!(printed["n"].as_u64().unwrap(), expected.len() as u64);

    for (p, (line, target_index, sentence_id, actor, article, gold)) in predictions.iter().zip(&expected) {
        assert_eq!(p["line"].as_u64().unwrap(), *line as u64, "{p}");
        assert_eq!(p["target_index"].as_u64().unwrap(), *target_index as u64, "{p}");
        assert_eq!(p["sentence_id"].as_str().unwrap(), sentence_id, "{p}");
        assert_eq!(p["actor"].as_str().unwrap(), actor, "{p}");
        assert_eq!(&p["article"], article, "{p}");
        assert_eq!(p["gold"].as_str().unwrap(), *gold, "{p}");

        let probabilities = [f(&p["p_unfavorable"]), f(&p["p_neutral"]), f(&p["p_favorable"])];
        assert!(close(probabilities.iter().sum::<f64>(), 1.0), "{p}");
        assert!(close(f(&p["score"]), probabilities[2] - probabilities[0]), "{p}");
        let argmax = (0..3)
            .max_by(|&a, &b| probabilities[a].total_cmp(&probabilities[b]))
            .unwrap();
        let predicted = p["predicted"].as_str().unwrap();
        assert_eq!(predicted, ["unfavorable", "neutral", "favorable"][argmax], "{p}");
    }

    // The file's (gold, predicted) pairs are the ones the metrics counted.
    let mut confusion = [[0u64; 3]; 3];
    for p in &predictions {
        let index = |key: &str| (label_score(p[key].as_str().unwrap()) + 1.0) as usize;
        confusion[index("gold")][index("predicted")] += 1;
    }
    let printed_confusion: Vec<Vec<u64>> = serde_json::from_value(printed["confusion"].clone()).unwrap();
    assert_eq!(printed_confusion, confusion.map(Vec::from).to_vec());
}

/// Each actor's `difference_ci95`, recomputed from the predictions file: the
/// cluster-robust interval of the mean of predicted - gold, an article (or a
/// pair without one) per cluster.
fn check_difference_intervals(predictions: &[Value], per_actor: &serde_json::Map<String, Value>) {
    let mut clusters: BTreeMap<String, BTreeMap<String, (f64, f64)>> = BTreeMap::new();
    for (index, p) in predictions.iter().enumerate() {
        let key = p["article"]
            .as_str()
            .map_or(format!("pair {index}"), |a| format!("article {a}"));
        let error = f(&p["score"]) - label_score(p["gold"].as_str().unwrap());
        let sums = clusters
            .entry(p["actor"].as_str().unwrap().into())
            .or_default()
            .entry(key)
            .or_default();
        sums.0 += 1.0;
        sums.1 += error;
    }
    // Student's t, 97.5% quantile, for the few degrees of freedom of the fixture.
    let t_975 = [12.706, 4.303, 3.182, 2.776, 2.571];
    for (actor, articles) in &clusters {
        let a = &per_actor[actor];
        assert_eq!(a["articles"].as_u64(), Some(articles.len() as u64), "{actor}: {a}");
        if articles.len() < 2 {
            assert!(a["difference_ci95"].is_null(), "{actor}: {a}");
            continue;
        }
        let n: f64 = articles.values().map(|c| c.0).sum();
        let mean = articles.values().map(|c| c.1).sum::<f64>() / n;
        let c = articles.len() as f64;
        let residual: f64 = articles.values().map(|(k, e)| (e - mean * k).powi(2)).sum();
        let half = t_975[articles.len() - 2] * (c / (c - 1.0) * residual / (n * n)).sqrt();
        let interval = a["difference_ci95"].as_array().unwrap();
        assert!(close(f(&interval[0]), mean - half), "{actor}: {a}");
        assert!(close(f(&interval[1]), mean + half), "{actor}: {a}");
    }
}

#[test]
fn aggregate_is_consistent_with_the_predictions_file() {
    let (printed, predictions) = eval_with_predictions(&articles_fixture());
    for key in ["n", "f1_macro", "accuracy", "f1_pn", "per_class", "confusion"] {
        assert!(printed.get(key).is_some(), "missing {key}: {printed}");
    }
    let aggregate = &printed["aggregate"];
    assert!(aggregate.is_object(), "{printed}");

    let n = predictions.len() as f64;
    let opposite = predictions
        .iter()
        .filter(|p| {
            let (g, q) = (
                label_score(p["gold"].as_str().unwrap()),
                label_score(p["predicted"].as_str().unwrap()),
            );
            g * q < 0.0
        })
        .count() as f64;
    assert!(
        close(f(&aggregate["opposite_polarity_rate"]), opposite / n),
        "{aggregate}"
    );

    // Per actor, recomputed from the file.
    let mut actors: BTreeMap<String, (f64, f64, f64)> = BTreeMap::new();
    let mut groups: BTreeMap<(String, String), (f64, f64, f64)> = BTreeMap::new();
    for p in &predictions {
        let actor = p["actor"].as_str().unwrap().to_string();
        let (gold, score) = (label_score(p["gold"].as_str().unwrap()), f(&p["score"]));
        let add = |sums: &mut (f64, f64, f64)| {
            sums.0 += 1.0;
            sums.1 += gold;
            sums.2 += score;
        };
        add(actors.entry(actor.clone()).or_default());
        if let Some(article) = p["article"].as_str() {
            add(groups.entry((article.to_string(), actor)).or_default());
        }
    }
    let per_actor = aggregate["per_actor"].as_object().unwrap();
    assert_eq!(per_actor.keys().collect::<Vec<_>>(), actors.keys().collect::<Vec<_>>());
    for (actor, (count, gold, predicted)) in &actors {
        let a = &per_actor[actor];
        assert_eq!(a["n"].as_u64().unwrap(), *count as u64, "{actor}: {a}");
        assert!(close(f(&a["gold_mean"]), gold / count), "{actor}: {a}");
        assert!(close(f(&a["predicted_mean"]), predicted / count), "{actor}: {a}");
        assert!(
            close(f(&a["difference"]), predicted / count - gold / count),
            "{actor}: {a}"
        );
    }
    check_difference_intervals(&predictions, per_actor);
    // Gold means do not depend on the model: check them by hand too.
    // china: + + 0 - 0 0; us: - 0 - - - 0 0; india: + + + 0 0; Moscow has no actor field.
    assert!(close(f(&per_actor["china"]["gold_mean"]), 1.0 / 6.0));
    assert!(close(f(&per_actor["us"]["gold_mean"]), -4.0 / 7.0));
    assert!(close(f(&per_actor["india"]["gold_mean"]), 3.0 / 5.0));
    assert_eq!(per_actor["Moscow"]["n"].as_u64(), Some(1));

    // (article, actor) groups of at least three pairs, and Pearson's r over them.
    let means: Vec<(f64, f64)> = groups
        .values()
        .filter(|(count, _, _)| *count >= 3.0)
        .map(|(count, gold, predicted)| (gold / count, predicted / count))
        .collect();
    // ports/china, ports/us, summit/india, chips/us; summit/china has two pairs only.
    assert_eq!(means.len(), 4);
    let pearson = &aggregate["article_actor_pearson"];
    assert_eq!(pearson["groups"].as_u64(), Some(4), "{pearson}");
    let k = means.len() as f64;
    let (mx, my) = (
        means.iter().map(|m| m.0).sum::<f64>() / k,
        means.iter().map(|m| m.1).sum::<f64>() / k,
    );
    let sxy: f64 = means.iter().map(|m| (m.0 - mx) * (m.1 - my)).sum();
    let sxx: f64 = means.iter().map(|m| (m.0 - mx).powi(2)).sum();
    let syy: f64 = means.iter().map(|m| (m.1 - my).powi(2)).sum();
    let r = f(&pearson["r"]);
    assert!((-1.0..=1.0).contains(&r), "{pearson}");
    assert!(close(r, sxy / (sxx * syy).sqrt()), "{pearson}");
}

#[test]
fn without_article_ids_aggregate_is_null_and_sentence_ids_are_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("plain.jsonl");
    std::fs::write(
        &data,
        concat!(
            r#"{"sentence_normalized": "China and India met.", "targets": ["#,
            r#"{"from": 0, "to": 5, "mention": "China", "polarity": 4.0},"#,
            r#"{"from": 10, "to": 15, "mention": "India", "polarity": 6.0}]}"#,
            "\n",
            r#"{"sentence_normalized": "Washington objected.", "targets": [{"from": 0, "to": 10, "polarity": 2.0}]}"#,
            "\n",
        ),
    )
    .unwrap();
    let (printed, predictions) = eval_with_predictions(&data);
    assert_eq!(printed["aggregate"], Value::Null, "{printed}");
    assert_eq!(printed["n"].as_u64(), Some(3));
    let ids: Vec<(&str, &str, u64)> = predictions
        .iter()
        .map(|p| {
            assert_eq!(p["article"], Value::Null);
            (
                p["sentence_id"].as_str().unwrap(),
                p["actor"].as_str().unwrap(),
                p["target_index"].as_u64().unwrap(),
            )
        })
        .collect();
    let at = |line: usize| format!("{}:{line}", data.display());
    assert_eq!(
        ids,
        [
            (at(1).as_str(), "China", 0),
            (at(1).as_str(), "India", 1),
            // No mention field: the text at the offsets.
            (at(2).as_str(), "Washington", 0),
        ]
    );
}

#[test]
fn an_unwritable_predictions_path_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("no-such-dir").join("predictions.jsonl");
    let run = stance(&[
        "eval",
        "--data",
        articles_fixture().to_str().unwrap(),
        "--model",
        tiny_model().to_str().unwrap(),
        "--predictions",
        out.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&*out.to_string_lossy()), "{stderr}");
    assert!(run.stdout.is_empty());
}

/// `stance eval --data DATA` on the tiny model, with more arguments.
fn eval(data: &Path, more: &[&str]) -> Output {
    let model = tiny_model();
    let mut args = vec![
        "eval",
        "--data",
        data.to_str().unwrap(),
        "--model",
        model.to_str().unwrap(),
        "--threads",
        "1",
    ];
    args.extend_from_slice(more);
    stance(&args)
}

/// The names in `dir`, sorted.
fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn predictions_are_never_written_over_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d.jsonl");
    std::fs::copy(articles_fixture(), &data).unwrap();
    let gold = std::fs::read(&data).unwrap();
    // The same file, however spelled.
    let spelled = dir.path().join("sub").join("..").join("d.jsonl");
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    for predictions in [&data, &spelled] {
        let run = eval(&data, &["--predictions", predictions.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("is the --data file"), "{stderr}");
        assert_eq!(std::fs::read(&data).unwrap(), gold);
    }
    // Standard output appended to the data file: /dev/stdout is that file.
    #[cfg(unix)]
    {
        let appended = std::fs::OpenOptions::new().append(true).open(&data).unwrap();
        let run = eval_with_predictions_to(&data, "/dev/stdout")
            .stdout(appended)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("is the --data file"), "{stderr}");
        assert_eq!(std::fs::read(&data).unwrap(), gold);
    }
}

#[test]
fn a_failed_eval_leaves_an_existing_predictions_file_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let predictions = dir.path().join("p.jsonl");
    std::fs::write(&predictions, "earlier predictions\n").unwrap();
    let bad_actors = dir.path().join("actors.toml");
    std::fs::write(&bad_actors, "not toml").unwrap();
    let run = eval(
        &articles_fixture(),
        &[
            "--predictions",
            predictions.to_str().unwrap(),
            "--actor-file",
            bad_actors.to_str().unwrap(),
        ],
    );
    assert_eq!(run.status.code(), Some(2), "{}", String::from_utf8_lossy(&run.stderr));
    assert_eq!(std::fs::read_to_string(&predictions).unwrap(), "earlier predictions\n");
    // No temporary file is left beside it.
    assert_eq!(names_in(dir.path()), ["actors.toml", "p.jsonl"]);

    // A run that succeeds replaces it whole.
    let run = eval(&articles_fixture(), &["--predictions", predictions.to_str().unwrap()]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let printed: Value = serde_json::from_slice(&run.stdout).unwrap();
    let lines = std::fs::read_to_string(&predictions).unwrap().lines().count();
    assert_eq!(Some(lines as u64), printed["n"].as_u64());
    assert_eq!(names_in(dir.path()), ["actors.toml", "p.jsonl"]);
}

/// A FIFO (as a shell's process substitution or `/dev/stdout` on a pipe
/// gives) is written into, not replaced by a regular file that no reader sees.
#[cfg(unix)]
#[test]
fn predictions_to_a_fifo_reach_its_reader() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("predictions.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo runs");
    assert!(made.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let run = eval(&articles_fixture(), &["--predictions", fifo.to_str().unwrap()]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    // Checked before joining: a reader of a FIFO that was replaced would wait forever.
    let kind = std::fs::symlink_metadata(&fifo).unwrap().file_type();
    assert!(kind.is_fifo(), "the FIFO was replaced: {kind:?}");
    let printed: Value = serde_json::from_slice(&run.stdout).unwrap();
    let read = reader.join().unwrap();
    assert_eq!(Some(read.lines().count() as u64), printed["n"].as_u64());
    assert_eq!(names_in(dir.path()), ["predictions.fifo"]);
}

/// `stance eval --data DATA` on the tiny model, with `--predictions PREDICTIONS`.
fn eval_with_predictions_to(data: &Path, predictions: &str) -> Command {
    let model = tiny_model();
    let mut command = Command::new(env!("CARGO_BIN_EXE_stance"));
    command
        .args([
            "eval",
            "--data",
            data.to_str().unwrap(),
            "--model",
            model.to_str().unwrap(),
        ])
        .args(["--threads", "1", "--predictions", predictions]);
    command
}

/// Checks that `text` holds one prediction line per pair, then the metrics line.
fn assert_predictions_then_metrics(text: &str) {
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let (metrics, predictions) = lines.split_last().unwrap();
    assert!(!predictions.is_empty(), "{text}");
    assert_eq!(Some(predictions.len() as u64), metrics["n"].as_u64(), "{text}");
    assert!(predictions.iter().all(|p| p.get("gold").is_some()), "{text}");
}

/// `--predictions /dev/stdout > all.jsonl`, or `--predictions all.jsonl >
/// all.jsonl`: the predictions, then the metrics, in the one file.
#[cfg(unix)]
#[test]
fn predictions_to_standard_output_come_before_the_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let all = dir.path().join("all.jsonl");
    let run = eval_with_predictions_to(&articles_fixture(), all.to_str().unwrap())
        .stdout(std::fs::File::create(&all).unwrap())
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert_predictions_then_metrics(&std::fs::read_to_string(&all).unwrap());
    assert_eq!(names_in(dir.path()), ["all.jsonl"]);
}

/// `--predictions -` is standard output, as `--data -` is standard input: no
/// file named `-` is made.
#[test]
fn predictions_to_a_dash_go_to_standard_output() {
    let dir = tempfile::tempdir().unwrap();
    let run = eval_with_predictions_to(&articles_fixture(), "-")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert_predictions_then_metrics(&String::from_utf8(run.stdout).unwrap());
    assert!(names_in(dir.path()).is_empty(), "{:?}", names_in(dir.path()));
}

#[test]
fn bad_targets_are_named_before_the_model_loads() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d.jsonl");
    std::fs::write(
        &data,
        concat!(
            r#"{"sentence_normalized": "China rose.", "targets": [{"from": 0, "to": 5, "polarity": 4.0}]}"#,
            "\n",
            r#"{"sentence_normalized": "China rose.", "targets": [{"from": 3, "to": 3, "polarity": 4.0, "#,
            r#""further_mentions": [{"from": 0, "to": 5}]}]}"#,
            "\n",
        ),
    )
    .unwrap();
    // No such model: only an error found while reading the data can come first.
    let run = stance(&["eval", "--data", data.to_str().unwrap(), "--model", "no/such/model"]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    let expected = format!("{}, line 2: targets[0] from/to 3..3 is empty", data.display());
    assert!(stderr.contains(&expected), "{stderr}");
}

#[test]
fn rows_without_targets_are_counted_and_no_pair_at_all_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d.jsonl");
    std::fs::write(
        &data,
        concat!(
            r#"{"sentence_normalized": "Nothing to score.", "targets": []}"#,
            "\n",
            r#"{"sentence_normalized": "China rose.", "targets": [{"from": 0, "to": 5, "polarity": 4.0}]}"#,
            "\n",
        ),
    )
    .unwrap();
    let run = eval(&data, &[]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let printed: Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(
        (printed["n"].as_u64(), printed["sentences_without_targets"].as_u64()),
        (Some(1), Some(1))
    );

    for (content, why) in [
        ("", "the file holds no rows"),
        (
            "{\"sentence_normalized\": \"a\", \"targets\": []}\n",
            "all 1 row(s) have empty \"targets\"",
        ),
    ] {
        std::fs::write(&data, content).unwrap();
        let run = eval(&data, &[]);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{stderr}");
        let expected = format!("{}: no (sentence, target) pair to evaluate: {why}", data.display());
        assert!(stderr.contains(&expected), "{stderr}");
        assert!(run.stdout.is_empty());
    }
}

#[test]
fn a_byte_order_mark_is_read_as_score_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d.jsonl");
    let mut content = "\u{feff}".to_string();
    content.push_str(&std::fs::read_to_string(articles_fixture()).unwrap());
    std::fs::write(&data, content).unwrap();
    let run = eval(&data, &[]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
}

#[cfg(unix)]
#[test]
fn an_endless_line_is_an_error_naming_file_and_line() {
    let run = eval(Path::new("/dev/zero"), &[]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("/dev/zero, line 1: the line is longer than"),
        "{stderr}"
    );
}

#[test]
fn help_says_the_actor_options_are_not_used() {
    let help = String::from_utf8(stance(&["eval", "--help"]).stdout).unwrap();
    let lines: Vec<&str> = help.lines().filter(|l| l.contains("--actor")).collect();
    assert_eq!(lines.len(), 2, "{help}");
    assert!(lines.iter().all(|l| l.contains("Not used by eval")), "{help}");
}
