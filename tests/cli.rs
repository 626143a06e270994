//! The `stance` binary, run as a user would, on the tiny test model.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn tiny_model() -> PathBuf {
    root().join("tests/data/tiny-model")
}

fn stance(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stance"))
        .args(args)
        .output()
        .expect("binary runs")
}

/// What `stance score` prints for a text file holding `text`, on the tiny model; it must succeed.
fn score_text_file(text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a.txt");
    std::fs::write(&file, text).unwrap();
    let out = stance(&[
        "score",
        "--model",
        tiny_model().to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn score_prints_sentences_and_summary_and_says_the_model_is_a_test_model() {
    let stdout = score_text_file("China and India met. The U.S. was absent.");
    assert!(stdout.contains("random-weight test model"), "{stdout}");
    assert!(
        stdout.contains("read in its document (--document-context 0.5)"),
        "{stdout}"
    );
    assert!(stdout.contains("per-actor summary"), "{stdout}");
    assert!(
        stdout.lines().any(|l| l.starts_with("china") && l.contains(" 1 ")),
        "{stdout}"
    );
}

#[test]
fn the_terminal_summary_shows_no_figure_an_actor_has_no_value_for() {
    let stdout = score_text_file("China rose. The US watched.");
    let summary = stdout.split("per-actor summary").nth(1).expect("a summary");
    let row = |actor: &str| -> Vec<String> {
        let line = summary
            .lines()
            .find(|l| l.starts_with(actor))
            .unwrap_or_else(|| panic!("{stdout}"));
        line.split_whitespace().map(str::to_owned).collect()
    };
    // actor, sentences, documents, mean, 95% CI, unfav, neutral, fav
    assert_eq!(row("india"), ["india", "0", "0", "–", "–", "–", "–", "–"], "{stdout}");
    for actor in ["china", "us"] {
        let cells = row(actor);
        assert_eq!(cells[1..3], ["1", "1"], "{stdout}");
        assert!(cells[3].parse::<f64>().is_ok(), "{stdout}");
        assert_eq!(cells[4], "–", "a single sentence has no interval: {stdout}");
        assert!(cells[5..].iter().all(|c| c.ends_with('%')), "{stdout}");
    }
}

#[test]
fn invalid_utf8_is_reported_and_the_other_files_still_scored() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.txt");
    let bad = dir.path().join("bad.txt");
    std::fs::write(&good, "China spoke.").unwrap();
    std::fs::write(&bad, b"India \xff\xfe replied.").unwrap();
    let out = stance(&[
        "score",
        "--json",
        "--model",
        tiny_model().to_str().unwrap(),
        bad.to_str().unwrap(),
        good.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("bad.txt") && stderr.contains("UTF-8"), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("good.txt"), "{stdout}");
}

#[test]
fn without_out_json_lines_and_csv_are_read_record_by_record() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("feed.jsonl"),
        "{\"id\": \"a\", \"body\": \"China spoke.\"}\n{\"id\": \"b\"}\n{\"id\": \"c\", \"body\": \"India spoke.\"}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("rows.csv"), "body\r\nThe US spoke.\r\n").unwrap();
    std::fs::write(dir.path().join("notes.pdf"), "not read").unwrap();
    // The outputs of a run inside the inputs are results, not documents: skipped, and said so.
    let run = dir.path().join("old-run");
    std::fs::create_dir(&run).unwrap();
    for name in ["stance.lock", "sentences.jsonl"] {
        std::fs::write(run.join(name), "{}\n").unwrap();
    }
    // stance's own run.json (these keys), not another tool's.
    let run_json = "{\"schema\": 1, \"status\": \"complete\", \"sessions\": []}\n";
    std::fs::write(run.join("run.json"), run_json).unwrap();
    let model = tiny_model();
    let out = stance(&[
        "score",
        "--json",
        "--text-field",
        "body",
        "--model",
        model.to_str().unwrap(),
        dir.path().to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("feed.jsonl, line 2 (missing_text, document b)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("1 file(s) in the input directories were not read") && stderr.contains("notes.pdf"),
        "{stderr}"
    );
    assert!(stderr.contains("skipped") && stderr.contains("old-run"), "{stderr}");
    let ids: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["id"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(ids, ["a", "c", "rows.csv:2"]);
}

#[test]
fn json_and_out_are_refused_together_and_run_options_need_out() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a.txt");
    std::fs::write(&file, "China spoke.").unwrap();
    let model = tiny_model();
    let (file, model) = (file.to_str().unwrap(), model.to_str().unwrap());
    let out_dir = dir.path().join("out");
    let both = stance(&[
        "score",
        "--json",
        "--out",
        out_dir.to_str().unwrap(),
        "--model",
        model,
        file,
    ]);
    assert_eq!(both.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&both.stderr).contains("give one of them"));
    assert!(!out_dir.exists());
    let resume = stance(&["score", "--json", "--resume", "--model", model, file]);
    assert_eq!(resume.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&resume.stderr).contains("--out"));
}

#[cfg(unix)]
#[test]
fn a_file_named_in_bytes_that_are_not_utf8_is_scored_into_files() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(std::ffi::OsStr::from_bytes(b"caf\xe9.txt"));
    std::fs::write(&file, "China spoke.").unwrap();
    let out_dir = dir.path().join("out");
    let out = Command::new(env!("CARGO_BIN_EXE_stance"))
        .args(["score", "-q", "--model", tiny_model().to_str().unwrap(), "--out"])
        .arg(&out_dir)
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let documents = std::fs::read_to_string(out_dir.join("documents.csv")).unwrap();
    assert_eq!(documents.lines().count(), 2, "{documents}");
}

#[test]
fn bad_actor_file_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let actors = dir.path().join("actors.toml");
    std::fs::write(
        &actors,
        "[[actor]]\nid = \"eu\"\nname = \"EU\"\naliases = [\"EU\"\nbroken = 1\n",
    )
    .unwrap();
    let input = dir.path().join("a.txt");
    std::fs::write(&input, "The EU spoke.").unwrap();
    let out = stance(&[
        "score",
        "--model",
        tiny_model().to_str().unwrap(),
        "--actor-file",
        actors.to_str().unwrap(),
        input.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("actors.toml") && stderr.contains("line"), "{stderr}");
}

#[test]
fn an_actor_file_alias_that_a_selected_actor_has_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let actors = dir.path().join("actors.toml");
    std::fs::write(
        &actors,
        "[[actor]]\nid = \"eu\"\naliases = [\"Brussels\", \"Beijing\"]\n",
    )
    .unwrap();
    let out = stance(&[
        "mentions",
        "--actors",
        "us,china",
        "--actor-file",
        actors.to_str().unwrap(),
        "-",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains("actors.toml") && stderr.contains("\"Beijing\"") && stderr.contains("china"),
        "{stderr}"
    );
}

#[test]
fn eval_prints_the_metrics_object() {
    let data = root().join("tests/data/eval_fixture.jsonl");
    let out = stance(&[
        "eval",
        "--data",
        data.to_str().unwrap(),
        "--model",
        tiny_model().to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in ["n", "f1_macro", "accuracy", "f1_pn", "per_class", "confusion"] {
        assert!(v.get(key).is_some(), "missing {key}: {v}");
    }
    assert!(v["n"].as_u64().unwrap() >= 10);
    assert_eq!(
        v["document_context"], 0.5,
        "the weight pairs of one article were read with"
    );
    let confusion_total: u64 = v["confusion"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap())
        .map(|x| x.as_u64().unwrap())
        .sum();
    assert_eq!(confusion_total, v["n"].as_u64().unwrap());
}

#[test]
fn eval_names_a_malformed_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("bad.jsonl");
    std::fs::write(
        &data,
        "{\"sentence_normalized\": \"China\", \"targets\": [{\"from\": 0, \"to\": 5, \"polarity\": 4.0}]}\nnot json\n",
    )
    .unwrap();
    let out = stance(&[
        "eval",
        "--data",
        data.to_str().unwrap(),
        "--model",
        tiny_model().to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("bad.jsonl") && stderr.contains("line 2"), "{stderr}");
}

#[test]
fn eval_reads_standard_input_for_a_dash() {
    let data = root().join("tests/data/eval_fixture.jsonl");
    let model = tiny_model();
    let model = model.to_str().unwrap();
    let from_file = stance(&["eval", "--data", data.to_str().unwrap(), "--model", model]);
    assert!(
        from_file.status.success(),
        "{}",
        String::from_utf8_lossy(&from_file.stderr)
    );
    let text = std::fs::read_to_string(&data).unwrap();
    let from_stdin = stance_with_stdin(&["eval", "--data", "-", "--model", model], &text);
    assert!(
        from_stdin.status.success(),
        "{}",
        String::from_utf8_lossy(&from_stdin.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&from_stdin.stdout),
        String::from_utf8_lossy(&from_file.stdout),
        "the same metrics"
    );
    // Errors name standard input as score does, with the line.
    let first = text.lines().next().unwrap();
    let out = stance_with_stdin(
        &["eval", "--data", "-", "--model", model],
        &format!("{first}\nnot json\n"),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.starts_with("error: -, line 2: "), "{stderr}");
}

#[test]
fn a_negative_value_after_a_space_gets_the_options_own_message() {
    let dir = tempfile::tempdir().unwrap();
    let data = root().join("tests/data/eval_fixture.jsonl");
    let model = tiny_model();
    let (data, model, run) = (
        data.to_str().unwrap(),
        model.to_str().unwrap(),
        dir.path().to_str().unwrap(),
    );
    let cases: [(&[&str], &str, &str); 4] = [
        (
            &["eval", "--data", data, "--model", model],
            "--document-context",
            "document context weight (-1) must be a number of at least 0",
        ),
        (&["report", run], "--top", "invalid value '-1' for '--top <N>'"),
        (
            &["score", data],
            "--threads",
            "invalid value '-1' for '--threads <THREADS>'",
        ),
        (&["mentions", data], "--max-record-size", "\"-1\" is not a size"),
    ];
    for (command, option, message) in cases {
        let apart = stance(&[command, &[option, "-1"]].concat());
        let joined = stance(&[command, &[format!("{option}=-1").as_str()]].concat());
        let stderr = String::from_utf8_lossy(&apart.stderr);
        assert_eq!(apart.status.code(), Some(2), "{option} -1: {stderr}");
        assert!(stderr.contains(message), "{option} -1: {stderr}");
        assert_eq!(
            stderr,
            String::from_utf8_lossy(&joined.stderr),
            "{option} -1 and {option}=-1"
        );
    }
    let out = bench(&["--compare-with", "scores.jsonl", "--tolerance", "-0.5"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("invalid value '-0.5' for '--tolerance <TOLERANCE>': must be a number of at least 0"),
        "{stderr}"
    );
}

/// The shipped model on hand-written, clear-cut sentences: a regression guard, not a benchmark
/// (the dev-set figures are in models/stance-mini/MODEL_CARD.md).
#[cfg(feature = "embedded-model")]
#[test]
fn the_embedded_model_reads_clear_cases() {
    let data = root().join("tests/data/eval_fixture.jsonl");
    let out = stance(&["eval", "--data", data.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let accuracy = v["accuracy"].as_f64().unwrap();
    assert!(
        accuracy >= 0.7,
        "embedded model accuracy {accuracy} on the clear-cut fixture: {v}"
    );
}

#[test]
fn mentions_lists_pairs_with_character_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a.txt");
    // "Ré" makes byte and character offsets differ before the mentions.
    std::fs::write(&file, "Ré: China and the U.S. met. Beijing spoke. Nothing here.").unwrap();
    let out = stance(&["mentions", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2, "{rows:?}");
    let first = &rows[0];
    let sentence: Vec<char> = first["sentence_normalized"].as_str().unwrap().chars().collect();
    let actors: Vec<(&str, String)> = first["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let (from, to) = (t["from"].as_u64().unwrap() as usize, t["to"].as_u64().unwrap() as usize);
            (t["actor"].as_str().unwrap(), sentence[from..to].iter().collect())
        })
        .collect();
    assert_eq!(actors, [("us", "U.S.".to_string()), ("china", "China".to_string())]);
    assert_eq!(rows[1]["sentence"], 1);
    assert_eq!(rows[1]["targets"][0]["mention"], "Beijing");
}

#[test]
fn mentions_read_a_text_as_one_document_for_short_names() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a.txt");
    std::fs::write(&file, "Khan is absent. Ré: Imran Khan spoke. Then Mr Khan left.").unwrap();
    let out = stance(&["mentions", "--actors", "pakistan", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // The first "Khan" comes before the full name: no row for sentence 0.
    let found: Vec<(u64, &str, u64)> = rows
        .iter()
        .map(|r| {
            let t = &r["targets"][0];
            (
                r["sentence"].as_u64().unwrap(),
                t["mention"].as_str().unwrap(),
                t["from"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(found, [(1, "Imran Khan", 4), (2, "Khan", 8)], "{rows:?}");
}

#[test]
fn mentions_reads_a_jsonl_field_and_names_a_bad_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.jsonl");
    std::fs::write(
        &file,
        "{\"text\": \"India votes. Pakistan waits.\"}\nnot json\n{\"text\": \"Moscow replied.\"}\n",
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let out = stance(&[
        "mentions",
        "--field",
        "text",
        "--no-split",
        "--actors",
        "india,pakistan,russia",
        path,
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&format!("{path}, line 2 (malformed_json")), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    // --no-split: the first line is one sentence with two actors; line 3 is still read.
    assert_eq!(rows.len(), 2, "{stdout}");
    assert_eq!(rows[0]["targets"].as_array().unwrap().len(), 2);
    assert_eq!(rows[1]["source"], format!("{path}:3"));
    assert_eq!(rows[1]["targets"][0]["actor"], "russia");
}

/// `stance mentions ARGS` with `stdin` on standard input.
fn mentions_with_stdin(args: &[&str], stdin: &str) -> Output {
    stance_with_stdin(&[&["mentions"], args].concat(), stdin)
}

/// `stance ARGS` with `stdin` on standard input.
fn stance_with_stdin(args: &[&str], stdin: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_stance"))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("binary runs");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

/// The `source` of each row `mentions` printed.
fn sources(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["source"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

#[test]
fn mentions_names_a_line_that_is_not_utf8_and_lists_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("u.jsonl");
    std::fs::write(
        &file,
        b"{\"text\": \"China rose.\"}\n{\"text\": \"India \xff rose.\"}\n{\"text\": \"China fell.\"}\n",
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let out = stance(&["mentions", "--field", "text", path]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&format!("{path}, line 2 (invalid_utf8")), "{stderr}");
    assert_eq!(sources(&out), [format!("{path}:1"), format!("{path}:3")]);
}

#[test]
fn mentions_reads_a_byte_order_mark_as_score_does() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bom.jsonl");
    std::fs::write(&file, "\u{feff}{\"text\": \"China rose.\"}\n").unwrap();
    let out = stance(&["mentions", "--field", "text", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(sources(&out).len(), 1);
}

#[cfg(unix)]
#[test]
fn mentions_reports_a_record_over_the_size_limit_and_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let after = dir.path().join("after.txt");
    std::fs::write(&after, "China rose.").unwrap();
    let out = stance(&["mentions", "/dev/zero", after.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("/dev/zero (too_large"), "{stderr}");
    assert_eq!(sources(&out), [after.to_str().unwrap()]);

    let long = dir.path().join("long.jsonl");
    let line = format!("{{\"text\": \"China {}\"}}\n", "x".repeat(2000));
    std::fs::write(&long, format!("{line}{{\"text\": \"India rose.\"}}\n")).unwrap();
    let path = long.to_str().unwrap();
    let out = stance(&["mentions", "--max-record-size", "1K", path]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&format!("{path}, line 1 (too_large")), "{stderr}");
    assert_eq!(sources(&out), [format!("{path}:2")]);
}

#[test]
fn mentions_reads_the_inputs_score_reads() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus");
    std::fs::create_dir(&corpus).unwrap();
    std::fs::write(corpus.join("a.txt"), "China rose.").unwrap();
    std::fs::write(corpus.join("b.jsonl"), "{\"text\": \"India rose.\"}\n").unwrap();
    std::fs::write(corpus.join("c.csv"), "id,body\n1,Russia rose.\n").unwrap();
    let dir_path = corpus.to_str().unwrap();
    // JSON Lines without --field: the `text` field, as score reads it, not the JSON as prose.
    let out = stance(&["mentions", &format!("{dir_path}/b.jsonl")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let row: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(row["sentence_normalized"], "India rose.");
    // A directory: every file by its extension, in name order; --field names the CSV column
    // (a JSON Lines line without it is named, and the rest still listed).
    let out = stance(&[
        "mentions",
        "--actors",
        "china,india,russia",
        "--field",
        "body",
        dir_path,
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("b.jsonl, line 1 (missing_text"), "{stderr}");
    assert_eq!(
        sources(&out),
        [format!("{dir_path}/a.txt"), format!("{dir_path}/c.csv:2")]
    );
    // Standard input, as text or as JSON Lines.
    let out = mentions_with_stdin(&["-"], "China rose.");
    assert_eq!(sources(&out), ["-"]);
    let out = mentions_with_stdin(&["--stdin-format", "jsonl", "-"], "{\"text\": \"China rose.\"}\n");
    assert_eq!(sources(&out), ["-:1"]);
    // --field with a file read as text by its extension is refused, not listed as JSON prose.
    let named = dir.path().join("rows.txt");
    std::fs::write(&named, "{\"body\": \"India rose.\"}\n").unwrap();
    let named = named.to_str().unwrap();
    let out = stance(&["mentions", "--field", "body", named]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--input-format jsonl"), "{stderr}");
    let out = stance(&["mentions", "--field", "body", "--input-format", "jsonl", named]);
    assert_eq!(sources(&out), [format!("{named}:1")]);
}

/// `--model mini` is the default model; `--model mid` and `--model base` are the
/// larger tiers where the build carries them, else an error that says how to get them.
#[test]
fn models_are_chosen_by_tier_name() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a.txt");
    std::fs::write(&file, "China criticised India. The U.S. praised both.").unwrap();
    let file = file.to_str().unwrap();
    let default = stance(&["score", file]);
    let mini = stance(&["score", "--model", "mini", file]);
    assert!(default.status.success(), "{}", String::from_utf8_lossy(&default.stderr));
    assert_eq!(default.stdout, mini.stdout);

    for (tier, which) in [
        ("mid", stance::EmbeddedModel::Mid),
        ("base", stance::EmbeddedModel::Base),
    ] {
        let run = stance(&["score", "--model", tier, file]);
        if which.is_available() {
            let stdout = String::from_utf8_lossy(&run.stdout);
            assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
            assert!(stdout.contains(which.name()), "{stdout}");
            assert_ne!(run.stdout, mini.stdout, "--model {tier} printed stance-mini's output");
        } else {
            let stderr = String::from_utf8_lossy(&run.stderr);
            assert!(!run.status.success());
            let hint = format!("--features {}", which.feature());
            assert!(
                stderr.contains(&hint) && stderr.contains(&format!("models/{}", which.name())),
                "{stderr}"
            );
        }
    }
}

/// Runs `stance ARGS... FILE` on JSON Lines of `documents` documents after `first_line`, with
/// stdout to a pipe that is closed after its first line, and returns the exit status and stderr.
fn run_into_a_pipe_closed_after_one_line(args: &[&str], first_line: &str, documents: usize) -> (Option<i32>, String) {
    use std::io::{BufRead, BufReader, Read};
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("many.jsonl");
    let lines: String = (0..documents)
        .map(|i| format!("{{\"id\": \"d{i}\", \"text\": \"China spoke {i} times. India replied.\"}}\n"))
        .collect();
    std::fs::write(&corpus, format!("{first_line}\n{lines}")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_stance"))
        .args(args)
        .arg(&corpus)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary runs");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(!first.is_empty());
    // The output is far larger than a pipe holds, so the binary is still writing when the pipe closes.
    drop(stdout);
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    (child.wait().unwrap().code(), stderr)
}

#[test]
fn a_reader_that_stops_reading_ends_the_output_quietly() {
    let model = tiny_model();
    let model = model.to_str().unwrap();
    let good = "{\"id\": \"first\", \"text\": \"The US spoke.\"}";
    let commands = [
        &["score", "--json", "--model", model][..],
        &["score", "--model", model],
        &["mentions"],
    ];
    for args in commands {
        let (code, stderr) = run_into_a_pipe_closed_after_one_line(args, good, 4000);
        assert_eq!(code, Some(0), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
    }
    // A record that failed before the pipe closed was named, and still sets the status.
    for args in [&["score", "--json", "--model", model][..], &["mentions"]] {
        let (code, stderr) = run_into_a_pipe_closed_after_one_line(args, "{\"id\": ", 4000);
        assert_eq!(code, Some(1), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains("line 1 (malformed_json"), "{args:?}: {stderr}");
    }
}

fn bench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stance-bench"))
        .args(args)
        .output()
        .expect("binary runs")
}

#[test]
fn score_refuses_a_chunk_of_zero_documents_as_it_refuses_zero_threads() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let run = stance(&["score", "-", "--out", out.to_str().unwrap(), "--chunk-docs", "0"]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--chunk-docs") && stderr.contains("at least 1"),
        "{stderr}"
    );
    assert!(!out.exists());
}

#[test]
fn bench_refuses_zero_counts_and_threads_past_the_cores_before_starting() {
    let model = tiny_model();
    let model = model.to_str().unwrap();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let too_many = (4 * cores + 1).to_string();
    let refused = [
        ["--repeat", "0"],
        ["--chunk", "0"],
        ["--limit", "0"],
        ["--threads", "0"],
        ["--threads", too_many.as_str()],
        ["--tolerance=NaN", "--compare-with=scores.jsonl"],
        ["--tolerance=-1", "--compare-with=scores.jsonl"],
        // Without a comparison, a tolerance is a mistake.
        ["--tolerance", "0.1"],
    ];
    for args in refused {
        let out = bench(&[&["--model", model][..], &args].concat());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        let option = args[0].split('=').next().unwrap();
        assert!(stderr.contains(option), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn bench_reads_its_corpus_as_score_reads_json_lines_and_counts_every_pass() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("c.jsonl");
    // A byte-order mark and a number id, as `stance score` reads them.
    std::fs::write(
        &corpus,
        "\u{feff}{\"id\": 7, \"text\": \"China spoke. India replied.\"}\n\n{\"text\": \"The US spoke.\"}\n",
    )
    .unwrap();
    let model = tiny_model();
    let (corpus, model) = (corpus.to_str().unwrap(), model.to_str().unwrap());
    let scores = dir.path().join("scores.jsonl");
    let out = bench(&[
        corpus,
        "--model",
        model,
        "--repeat",
        "3",
        "--scores-out",
        scores.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Three timed passes over two documents; the warm-up pass is not counted.
    assert_eq!(line["documents"], 6, "{line}");
    assert_eq!(line["sentences"], 9, "{line}");
    assert_eq!(line["pairs"], 9, "{line}");
    let seconds = line["seconds"].as_f64().unwrap();
    assert!(
        (line["pairs_per_s"].as_f64().unwrap() * seconds - 9.0).abs() < 1e-6,
        "{line}"
    );
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&scores)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let (closing, pairs) = lines.split_last().unwrap();
    let ids: Vec<String> = pairs.iter().map(|pair| pair["id"].to_string()).collect();
    assert_eq!(ids, ["\"7\"", "\"7\"", "\"line-3\""], "{ids:?}");
    // The closing line, by which a file cut short is told from a whole one.
    assert_eq!(*closing, serde_json::json!({"documents": 2, "pairs": 3}));
    // A record it cannot read is named with its line, not left out of the figures.
    std::fs::write(
        dir.path().join("bad.jsonl"),
        "{\"text\": \"China spoke.\"}\n{\"text\": \n",
    )
    .unwrap();
    let bad = dir.path().join("bad.jsonl");
    let out = bench(&[bad.to_str().unwrap(), "--model", model]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    // By the id its rows would have had.
    assert!(
        stderr.contains("bad.jsonl, line 2 (malformed_json, document line-2)"),
        "{stderr}"
    );
}

#[test]
fn json_lines_carry_the_dates_and_sources_read_and_the_summary_of_a_run() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("feed.jsonl");
    std::fs::write(
        &feed,
        "{\"id\": \"x\", \"text\": \"China spoke.\", \"published\": \"2024-03-01\", \"outlet\": \"Dawn\", \"title\": \"T\"}\n\
         {\"id\": \"y\", \"text\": \"India spoke. The US agreed.\"}\n",
    )
    .unwrap();
    let model = tiny_model();
    let (feed, model) = (feed.to_str().unwrap(), model.to_str().unwrap());
    let fields = ["--date-field", "published", "--source-field", "outlet"];
    let printed = stance(&[&["score", "--json", "--model", model, feed][..], &fields].concat());
    assert!(printed.status.success(), "{}", String::from_utf8_lossy(&printed.stderr));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&printed.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(
        (
            &lines[0]["id"],
            &lines[0]["date"],
            &lines[0]["source"],
            &lines[0]["title"]
        ),
        (&"x".into(), &"2024-03-01".into(), &"Dawn".into(), &"T".into())
    );
    assert!(lines[1].get("date").is_none(), "{}", lines[1]);
    let run = dir.path().join("run");
    let scored = stance(
        &[
            &["score", "-q", "--model", model, feed, "--out", run.to_str().unwrap()][..],
            &fields,
        ]
        .concat(),
    );
    assert!(scored.status.success(), "{}", String::from_utf8_lossy(&scored.stderr));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap()).unwrap();
    assert_eq!(lines[2]["summary"], summary);
    assert_eq!(summary["by_month"]["2024-03"]["documents"], 1);
}

#[test]
fn a_trained_bundle_whose_name_holds_test_is_not_called_a_test_model() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("stance-latest");
    std::fs::create_dir(&bundle).unwrap();
    for file in ["model.onnx", "tokenizer.json"] {
        std::fs::copy(tiny_model().join(file), bundle.join(file)).unwrap();
    }
    let config = std::fs::read_to_string(tiny_model().join("config.json")).unwrap();
    let config = config.replace("\"tiny-random-test-model\"", "\"stance-latest\"");
    std::fs::write(bundle.join("config.json"), config).unwrap();
    let file = dir.path().join("a.txt");
    std::fs::write(&file, "China spoke.").unwrap();
    let out = stance(&["score", "--model", bundle.to_str().unwrap(), file.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.starts_with("model stance-latest"), "{stdout}");
    assert!(!stdout.contains("test model"), "{stdout}");
}

#[test]
fn control_characters_of_the_corpus_reach_the_terminal_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("feed.jsonl");
    std::fs::write(
        &feed,
        "{\"id\": \"a\\nfake line\", \"text\": \"China \\u001b[31mred\\u001b[0m spoke.\"}\n\
         {\"id\": \"b\\u001b[2J\", \"text\": \"\"}\n",
    )
    .unwrap();
    let model = tiny_model();
    let out = stance(&["score", "--model", model.to_str().unwrap(), feed.to_str().unwrap()]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stdout.contains("\n== a\\nfake line (1 sentences"), "{stdout}");
    assert!(stdout.contains("China \\u{1b}[31mred\\u{1b}[0m spoke."), "{stdout}");
    assert!(stderr.contains("(empty_text, document b\\u{1b}[2J)"), "{stderr}");
    assert!(!stdout.contains('\u{1b}') && !stderr.contains('\u{1b}'));
}

#[test]
fn bench_refuses_to_write_over_its_corpus_or_its_reference() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("c.jsonl");
    let corpus_text = "{\"text\": \"China spoke.\"}\n";
    std::fs::write(&corpus, corpus_text).unwrap();
    let reference = dir.path().join("reference.jsonl");
    let reference_text =
        "{\"doc\":0,\"id\":\"x\",\"sentence\":0,\"actor\":\"china\",\"score\":0.5,\"label\":\"favorable\"}\n";
    std::fs::write(&reference, reference_text).unwrap();
    let model = tiny_model();
    let (corpus, reference, model) = (
        corpus.to_str().unwrap(),
        reference.to_str().unwrap(),
        model.to_str().unwrap(),
    );
    let same_corpus = format!("{}/./c.jsonl", dir.path().display());
    let refused = [
        vec!["--scores-out", &same_corpus],
        vec!["--dump-pairs", corpus],
        vec!["--scores-out", reference, "--compare-with", reference],
    ];
    for args in refused {
        let out = bench(&[&[corpus, "--model", model][..], &args].concat());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(
            stderr.contains(&format!("{} {}", args[0], args[1])),
            "{args:?}: {stderr}"
        );
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    assert_eq!(std::fs::read_to_string(corpus).unwrap(), corpus_text);
    assert_eq!(std::fs::read_to_string(reference).unwrap(), reference_text);
    // --dump-pairs writes the pairs and exits: with scores to write or compare, one would be ignored.
    let pairs = dir.path().join("pairs.jsonl");
    let pairs = pairs.to_str().unwrap();
    let both = bench(&[
        corpus,
        "--model",
        model,
        "--dump-pairs",
        pairs,
        "--compare-with",
        reference,
    ]);
    assert_eq!(both.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&both.stderr).contains("cannot be used with"));
}

#[cfg(unix)]
#[test]
fn names_and_text_reach_the_terminal_escaped_and_cut_between_escapes() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus");
    std::fs::create_dir(&corpus).unwrap();
    // An id of a backslash-n and a right-to-left override, and a text with an escape across the cut.
    let text = format!("China {} \\u001b[31m spoke.", "a".repeat(101));
    std::fs::write(
        corpus.join("feed.jsonl"),
        format!("{{\"id\": \"a\\\\nb\\u202ec\", \"text\": \"{text}\"}}\n"),
    )
    .unwrap();
    // A skipped file whose name would end the warning's line and clear the screen.
    std::fs::write(corpus.join("x\nwarning: fake\u{1b}[2J.pdf"), "").unwrap();
    // A link to a directory, named as a file the walk would read.
    let elsewhere = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), corpus.join("linked.jsonl")).unwrap();
    let model = tiny_model();
    let out = stance(&["score", "--model", model.to_str().unwrap(), corpus.to_str().unwrap()]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("\n== a\\\\nb\\u{202e}c (1 sentences"), "{stdout}");
    // The sentence is cut before `\u{1b}` (110 characters would end inside it).
    assert!(stdout.contains(&format!("China {} …\n", "a".repeat(101))), "{stdout}");
    let warning: Vec<&str> = stderr.lines().filter(|l| l.starts_with("warning:")).collect();
    assert_eq!(warning.len(), 1, "{stderr}");
    assert!(
        warning[0].starts_with("warning: 2 files and links to directories in the input directories"),
        "{stderr}"
    );
    assert!(
        warning[0].contains("(extensions: .pdf 1; links to directories: 1;"),
        "{stderr}"
    );
    assert!(warning[0].contains("x\\nwarning: fake\\u{1b}[2J.pdf"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(!stdout.contains(['\u{1b}', '\u{202e}']) && !stderr.contains('\u{1b}'));
}

#[test]
fn bench_errors_say_each_cause_once() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("c.jsonl");
    std::fs::write(&corpus, "{\"text\": \"China spoke.\"}\n").unwrap();
    let missing = dir.path().join("missing.jsonl");
    let not_found = std::fs::metadata(&missing).unwrap_err().to_string();
    let model = tiny_model();
    let (corpus, missing, model) = (
        corpus.to_str().unwrap(),
        missing.to_str().unwrap(),
        model.to_str().unwrap(),
    );
    for args in [
        vec![missing, "--model", model],
        vec![corpus, "--model", model, "--compare-with", missing],
    ] {
        let out = bench(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        let error = stderr.lines().find(|l| l.starts_with("error: ")).unwrap_or_default();
        assert!(error.contains(missing), "{args:?}: {stderr}");
        assert_eq!(stderr.matches(&not_found).count(), 1, "{args:?}: {stderr}");
        assert!(error.ends_with(&not_found), "{args:?}: {stderr}");
    }
}

/// A reference written by a run given the corpus under one path compares clean with a run given
/// it under another, or a copy of it elsewhere: documents without an id are named by their line.
#[test]
fn bench_compares_with_a_reference_made_from_another_spelling_of_the_corpus() {
    let dir = tempfile::tempdir().unwrap();
    let text = "{\"text\": \"China spoke. India replied.\"}\n\n{\"text\": \"The US spoke.\"}\n";
    std::fs::write(dir.path().join("c.jsonl"), text).unwrap();
    let copy = dir.path().join("elsewhere");
    std::fs::create_dir(&copy).unwrap();
    std::fs::write(copy.join("renamed.jsonl"), text).unwrap();
    let model = tiny_model();
    let run = |corpus: &str, scores: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_stance-bench"))
            .current_dir(dir.path())
            .args([corpus, "--model", model.to_str().unwrap()])
            .args(scores)
            .output()
            .expect("binary runs");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{corpus} {scores:?}: {stderr}");
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    run("c.jsonl", &["--scores-out", "reference.jsonl"]);
    let absolute = dir.path().join("c.jsonl");
    for corpus in ["./c.jsonl", absolute.to_str().unwrap(), "elsewhere/renamed.jsonl"] {
        let line = run(corpus, &["--compare-with", "reference.jsonl"]);
        let compare = &line["compare"];
        assert_eq!(compare["ok"], true, "{corpus}: {line}");
        assert_eq!(compare["compared"], 3, "{corpus}: {line}");
    }
}

#[test]
fn bench_reads_standard_input_as_json_lines() {
    use std::io::Write;
    let model = tiny_model();
    let mut child = Command::new(env!("CARGO_BIN_EXE_stance-bench"))
        .args(["-", "--model", model.to_str().unwrap()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("binary runs");
    let corpus = "{\"text\": \"China spoke. India replied.\"}\n{\"text\": \"The US spoke.\"}\n";
    child.stdin.take().unwrap().write_all(corpus.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(line["documents"], 2, "{line}");
}

#[test]
fn bench_passes_over_empty_actor_entries_as_stance_does() {
    let model = tiny_model();
    let out = bench(&[
        "--model",
        model.to_str().unwrap(),
        "--limit",
        "2",
        "--actors",
        "us,,china",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn an_empty_actor_selection_with_an_actor_file_looks_for_the_file_actors_only() {
    let dir = tempfile::tempdir().unwrap();
    let actors = dir.path().join("actors.toml");
    let file = "[[actor]]\nid = \"eu\"\nname = \"EU\"\naliases = [\"EU\"]\n\n\
                [[actor]]\nid = \"india\"\nname = \"India\"\naliases = [\"Hindustan\"]\n";
    std::fs::write(&actors, file).unwrap();
    let text = "The EU and China met. India spoke. Hindustan replied.";
    let found = |selection: &[&str]| {
        let mut args = vec!["mentions", "--actor-file", actors.to_str().unwrap(), "-"];
        args.extend(selection);
        let out = stance_with_stdin(&args, text);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let mut found: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .flat_map(|l| {
                let row: serde_json::Value = serde_json::from_str(l).unwrap();
                let targets = row["targets"].as_array().unwrap().clone();
                targets.into_iter().map(|t| t["mention"].as_str().unwrap().to_owned())
            })
            .collect();
        found.sort();
        found
    };
    // India keeps its built-in aliases, extended by the file; China is not looked for.
    assert_eq!(found(&["--actors", ""]), ["EU", "Hindustan", "India"]);
    assert_eq!(found(&[]), ["China", "EU", "Hindustan", "India"]);
    // Without a file an empty selection is still refused (before reading any input).
    let input = dir.path().join("a.txt");
    std::fs::write(&input, text).unwrap();
    let out = stance(&["mentions", "--actors", "", input.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
}
