//! `stance score --out`, `--resume`, `--shard` and `stance merge`, run as a user
//! would, on the tiny test model and the fixtures in tests/data/corpus.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

mod common;
use common::*;

/// (document_id, sentence_index, actor) of every row of sentences.jsonl, with duplicates kept.
fn row_keys(dir: &Path) -> Vec<(String, u64, String)> {
    let mut keys: Vec<_> = json_lines(&dir.join("sentences.jsonl"))
        .iter()
        .map(|r| {
            (
                r["document_id"].as_str().unwrap().to_owned(),
                r["sentence_index"].as_u64().unwrap(),
                r["actor"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    keys.sort();
    keys
}

fn document_ids(dir: &Path) -> BTreeSet<String> {
    let mut reader = csv::Reader::from_path(dir.join("documents.csv")).unwrap();
    reader.records().map(|r| r.unwrap()[0].to_owned()).collect()
}

/// Runs `stance merge DIRS --out OUT` to the end.
fn merge(dirs: &[&Path], out: &Path) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_stance"));
    command.arg("merge").args(dirs).arg("--out").arg(out);
    command.output().expect("the binary runs")
}

#[test]
fn every_input_format_is_read_and_every_output_written() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    run_ok(&score_args(&good_inputs(), &out, &[]));
    let expected: BTreeSet<String> = [
        "a-trade.txt",
        "b-border.md",
        "sub/c-summit.txt", // a directory of .txt / .md, ids relative to it
        "w-001",
        "w-002",
        "w-003",
        "4",
        "w-005",
        "w-006",
        "w-007", // JSON Lines, a numeric id, a blank line skipped
        "op-1",
        "op-2",
        "op-3",
        "op-4", // CSV, with a quoted multi-line text
    ]
    .map(String::from)
    .into();
    assert_eq!(document_ids(&out), expected);
    assert_eq!(read(&out.join("errors.jsonl")), "");

    let rows = json_lines(&out.join("sentences.jsonl"));
    let summary = json(&out.join("summary.json"));
    assert_eq!(summary["documents"], 14);
    assert_eq!(summary["failed"], 0);
    assert_eq!(summary["pairs"].as_u64().unwrap(), rows.len() as u64);
    for row in &rows {
        for key in [
            "document_id",
            "sentence_index",
            "start",
            "end",
            "text",
            "actor",
            "mentions",
            "p_unfavorable",
            "p_neutral",
            "p_favorable",
            "score",
            "label",
        ] {
            assert!(row.get(key).is_some(), "{key} missing from {row}");
        }
        let p: f64 = ["p_unfavorable", "p_neutral", "p_favorable"]
            .iter()
            .map(|k| row[k].as_f64().unwrap())
            .sum();
        assert!((p - 1.0).abs() < 1e-5, "{row}");
        assert!(row["mentions"].as_array().is_some_and(|m| !m.is_empty()), "{row}");
    }
    // The multi-line CSV text is one document; "4" got its date and source from JSON.
    assert!(rows
        .iter()
        .any(|r| r["document_id"] == "op-2" && r["text"].as_str().unwrap().contains("Modi's visit")));
    let months: Vec<&str> = summary["by_month"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(months, ["2024-01", "2024-02", "2024-03"]);
    let sources: Vec<&str> = summary["by_source"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(sources, ["Daily Op", "Weekly View", "Wire A", "Wire B", "Wire C"]);
    for actor in ["us", "china", "india"] {
        let a = &summary["actors"][actor];
        for key in [
            "sentences",
            "documents",
            "mean",
            "std",
            "ci95_low",
            "ci95_high",
            "share_unfavorable",
            "share_neutral",
            "share_favorable",
        ] {
            assert!(a.get(key).is_some(), "{key} missing for {actor}");
        }
    }
    let summary_csv = read(&out.join("summary.csv"));
    assert!(
        summary_csv.starts_with("scope,key,actor,sentences,documents,"),
        "{summary_csv}"
    );
    assert!(summary_csv.lines().any(|l| l.starts_with("month,2024-02,")));
    assert!(summary_csv.lines().any(|l| l.starts_with("source,Wire A,")));
    let run = json(&out.join("run.json"));
    assert_eq!(run["status"], "complete");
    assert_eq!(run["documents"], 14);
    assert!(run["onnxruntime_version"].as_str().is_some_and(|v| !v.is_empty()));
    assert_eq!(run["analyzer"]["model"], "tiny-random-test-model");
    assert!(run["sessions"][0]["wall_secs"].as_f64().is_some());
}

/// A corpus dump is scored compressed as it would be uncompressed: the same rows, under the
/// compressed files' names.
#[test]
fn compressed_inputs_give_the_rows_of_the_files_uncompressed() {
    let tmp = tempfile::tempdir().unwrap();
    let (plain, packed) = (tmp.path().join("plain"), tmp.path().join("packed"));
    std::fs::create_dir_all(&plain).unwrap();
    std::fs::create_dir_all(&packed).unwrap();
    std::fs::copy(fixture("good/opinion.csv"), plain.join("opinion.csv")).unwrap();
    // A line with no id of its own, so that one id is the file's name and line.
    let mut wire = std::fs::read(fixture("good/wire.jsonl")).unwrap();
    wire.extend_from_slice(b"{\"text\": \"India and China agreed to talk again.\"}\n");
    std::fs::write(plain.join("wire.jsonl"), &wire).unwrap();
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gzip.write_all(&wire).unwrap();
    std::fs::write(packed.join("wire.jsonl.gz"), gzip.finish().unwrap()).unwrap();
    let opinion = std::fs::read(plain.join("opinion.csv")).unwrap();
    std::fs::write(
        packed.join("opinion.csv.zst"),
        zstd::encode_all(&opinion[..], 19).unwrap(),
    )
    .unwrap();

    let dir_arg = |dir: &Path| vec![dir.to_str().unwrap().to_owned()];
    let (plain_run, packed_run) = (tmp.path().join("plain-run"), tmp.path().join("packed-run"));
    run_ok(&score_args(&dir_arg(&plain), &plain_run, &[]));
    run_ok(&score_args(&dir_arg(&packed), &packed_run, &[]));
    assert!(row_keys(&packed_run)
        .iter()
        .any(|(id, _, _)| id.starts_with("wire.jsonl.gz:")));
    let unpacked = |name: &str| read(&packed_run.join(name)).replace(".jsonl.gz:", ".jsonl:");
    for name in ["sentences.jsonl", "documents.csv", "errors.jsonl"] {
        assert_eq!(unpacked(name), read(&plain_run.join(name)), "{name}");
    }
    let summary = |dir: &Path| json(&dir.join("summary.json"))["actors"].clone();
    assert_eq!(summary(&packed_run), summary(&plain_run));

    // Compressed data on standard input is decompressed too.
    let stdin_run = tmp.path().join("stdin-run");
    let mut child = Command::new(env!("CARGO_BIN_EXE_stance"))
        .args(score_args(&["-".to_owned()], &stdin_run, &["--stdin-format", "jsonl"]))
        .args(["--model", &tiny_model(), "--threads", "2"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let packed = std::fs::read(packed.join("wire.jsonl.gz")).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || stdin.write_all(&packed));
    let output = child.wait_with_output().unwrap();
    feeder.join().unwrap().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let wire_run = tmp.path().join("wire-run");
    run_ok(&score_args(
        &[plain.join("wire.jsonl").display().to_string()],
        &wire_run,
        &[],
    ));
    assert_eq!(summary(&stdin_run), summary(&wire_run));
}

/// A dump that came out empty is no failure (no document is lost) but is said, and a merge of
/// shards lists it once.
#[test]
fn files_that_hold_no_record_are_warned_of_and_recorded() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("2024-03.jsonl");
    std::fs::write(&empty, "").unwrap();
    let inputs = vec![fixture("good/wire.jsonl"), empty.to_str().unwrap().to_owned()];
    let mut shards = Vec::new();
    for shard in ["1/2", "2/2"] {
        let out = tmp.path().join(format!("shard-{}", &shard[..1]));
        let output = run_ok(&score_args(&inputs, &out, &["--shard", shard]));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("1 input file(s) held no record") && stderr.contains("2024-03.jsonl"),
            "{stderr}"
        );
        let listed = &json(&out.join("run.json"))["empty_files"];
        assert_eq!(
            (listed["count"].as_u64(), listed["first"][0].as_str()),
            (Some(1), empty.to_str())
        );
        shards.push(out);
    }
    let merged = tmp.path().join("merged");
    let output = merge(&[&shards[0], &shards[1]], &merged);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let run = json(&merged.join("run.json"));
    assert_eq!(run["empty_files"]["count"], 1);
    // What ran is the merge.
    assert_eq!(run["command"][1], "merge", "{}", run["command"]);
}

#[test]
fn field_names_are_configurable_and_stdin_is_read() {
    let tmp = tempfile::tempdir().unwrap();
    let custom = tmp.path().join("custom");
    let inputs = [fixture("good/custom-fields.jsonl")];
    run_ok(&score_args(
        &inputs,
        &custom,
        &["--text-field", "body", "--id-field", "doc_id"],
    ));
    assert_eq!(document_ids(&custom), ["c-1", "c-2"].map(String::from).into());

    let piped = |format: &str, input: &[u8], out: &Path| {
        let inputs = ["-".to_owned()];
        let mut child = stance_command(&score_args(&inputs, out, &["--stdin-format", format]))
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input).unwrap();
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    };
    let jsonl = tmp.path().join("stdin-jsonl");
    piped("jsonl", read(Path::new(&fixture("good/wire.jsonl"))).as_bytes(), &jsonl);
    assert_eq!(document_ids(&jsonl).len(), 7);
    let text = tmp.path().join("stdin-text");
    piped("text", b"China and India met. The U.S. was absent.", &text);
    assert_eq!(document_ids(&text), ["-".to_owned()].into());
    let csv = tmp.path().join("stdin-csv");
    piped("csv", read(Path::new(&fixture("good/opinion.csv"))).as_bytes(), &csv);
    assert_eq!(
        document_ids(&csv),
        ["op-1", "op-2", "op-3", "op-4"].map(String::from).into()
    );
}

/// A field named by an option that no record holds (a misspelling) is warned of, by the run, by
/// the terminal output and by a merge, and recorded in run.json; a default name is not.
#[test]
fn a_field_no_record_holds_is_warned_of_and_recorded() {
    let tmp = tempfile::tempdir().unwrap();
    let inputs = [fixture("good/wire.jsonl"), fixture("good/opinion.csv")];
    let misspelled = ["--date-field", "pubdate", "--source-field", "source"];
    let warning = "has the field --date-field \"pubdate\" (plain text files have no fields): is it misspelled?";
    let shards: Vec<PathBuf> = (1..=2).map(|i| tmp.path().join(format!("shard-{i}"))).collect();
    for (i, dir) in shards.iter().enumerate() {
        let shard = format!("{}/2", i + 1);
        let mut extra = misspelled.to_vec();
        extra.extend(["--shard", &shard]);
        let output = run_ok(&score_args(&inputs, dir, &extra));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(warning), "{stderr}");
        assert_eq!(
            json(&dir.join("run.json"))["unmatched_fields"],
            serde_json::json!(["--date-field \"pubdate\""])
        );
    }
    let merged = tmp.path().join("merged");
    let output = merge(&shards.iter().map(PathBuf::as_path).collect::<Vec<_>>(), &merged);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(
        json(&merged.join("run.json"))["unmatched_fields"],
        serde_json::json!(["--date-field \"pubdate\""])
    );
    // The per-month figures are gone, as the warning says.
    assert_eq!(json(&merged.join("summary.json"))["by_month"], serde_json::json!({}));

    let mut args = vec!["score"];
    args.extend(inputs.iter().map(String::as_str));
    args.extend(misspelled);
    let output = stance(&args);
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains(warning));

    let spelled = tmp.path().join("spelled");
    let output = run_ok(&score_args(&inputs, &spelled, &[]));
    assert!(!String::from_utf8_lossy(&output.stderr).contains("misspelled"));
    assert!(json(&spelled.join("run.json")).get("unmatched_fields").is_none());
}

/// JSON Lines saved as `.txt` and read with `--text-field` would be one document of raw JSON:
/// named inputs that are all plain text refuse field names, and a walk that found only plain
/// text warns of them.
#[test]
fn fields_named_for_plain_text_are_refused_or_warned_of() {
    let tmp = tempfile::tempdir().unwrap();
    let dump = tmp.path().join("dump.txt");
    std::fs::write(&dump, "{\"body\": \"China is bad.\"}\n{\"body\": \"India is good.\"}\n").unwrap();
    let inputs = [dump.display().to_string()];
    let out = tmp.path().join("run");
    let refused = stance(&score_args(&inputs, &out, &["--text-field", "body"]));
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("dump.txt is read as text by its extension") && stderr.contains("--input-format"),
        "{stderr}"
    );
    assert!(!out.exists());
    // Read as what it is, it is two documents.
    let read = run_ok(&score_args(
        &inputs,
        &out,
        &["--text-field", "body", "--input-format", "jsonl"],
    ));
    assert!(!String::from_utf8_lossy(&read.stderr).contains("warning"));
    assert_eq!(json(&out.join("summary.json"))["documents"], 2);

    let texts = tmp.path().join("texts");
    std::fs::create_dir(&texts).unwrap();
    std::fs::copy(&dump, texts.join("dump.txt")).unwrap();
    let walked = tmp.path().join("walked");
    let output = run_ok(&score_args(
        &[texts.display().to_string()],
        &walked,
        &["--text-field", "body"],
    ));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--text-field \"body\" (plain text files have no fields)"));
    assert_eq!(
        json(&walked.join("run.json"))["unmatched_fields"],
        serde_json::json!(["--text-field \"body\""])
    );
}

#[test]
fn bad_inputs_are_listed_with_their_reason_and_the_run_finishes() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let inputs = [fixture("bad")];
    let output = stance(&score_args(&inputs, &out, &[]));
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let errors: BTreeSet<(String, String, Option<u64>)> = json_lines(&out.join("errors.jsonl"))
        .iter()
        .map(|e| {
            assert!(e["reason"].as_str().is_some_and(|r| !r.is_empty()), "{e}");
            // A blank text read from a file, a line or a row reads as the library's own refusal
            // of a blank document (tests/library_api.rs).
            if e["kind"] == "empty_text" {
                assert_eq!(e["reason"], "empty text", "{e}");
            }
            assert!(
                e["file"].as_str().is_some_and(|f| f.ends_with(".jsonl")
                    || f.ends_with(".csv")
                    || f.ends_with(".txt")
                    || f.ends_with(".md")),
                "{e}"
            );
            (
                e["id"].as_str().unwrap().to_owned(),
                e["kind"].as_str().unwrap().to_owned(),
                e["line"].as_u64(),
            )
        })
        .collect();
    let expected: BTreeSet<(String, String, Option<u64>)> = [
        ("bad.csv:3", "malformed_csv", Some(3)),
        ("r-3", "empty_text", Some(4)),
        ("r-4", "invalid_utf8", Some(5)),
        ("bad.jsonl:2", "malformed_json", Some(2)),
        ("no-text", "missing_text", Some(3)),
        ("blank", "empty_text", Some(4)),
        ("number", "invalid_field", Some(5)),
        ("bad.jsonl:6", "malformed_json", Some(6)),
        ("bad.jsonl:7", "invalid_utf8", Some(7)),
        ("empty.md", "empty_text", None),
        ("latin1.txt", "invalid_utf8", None),
    ]
    .into_iter()
    .map(|(id, kind, line)| (id.to_owned(), kind.to_owned(), line))
    .collect();
    assert_eq!(errors, expected);
    assert_eq!(document_ids(&out), ["r-1", "ok-1", "ok-2"].map(String::from).into());
    let summary = json(&out.join("summary.json"));
    assert_eq!(
        (summary["documents"].as_u64(), summary["failed"].as_u64()),
        (Some(3), Some(11))
    );
    assert_eq!(json(&out.join("run.json"))["status"], "complete");
}

#[test]
fn a_run_is_never_overwritten_and_resume_checks_its_settings() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let inputs = [fixture("good/wire.jsonl")];
    run_ok(&score_args(&inputs, &out, &[]));
    let again = stance(&score_args(&inputs, &out, &[]));
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--resume"));
    let other = [fixture("good/opinion.csv")];
    let mismatch = stance(&score_args(&other, &out, &["--resume"]));
    assert_eq!(mismatch.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&mismatch.stderr).contains("inputs"),
        "{}",
        String::from_utf8_lossy(&mismatch.stderr)
    );
    // A difference is named as the command line spells it, not as a Rust structure.
    let field = stance(&score_args(&inputs, &out, &["--resume", "--text-field", "body"]));
    assert_eq!(field.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&field.stderr);
    assert!(
        stderr.contains("--text-field") && !stderr.contains("ReadOptions"),
        "{stderr}"
    );
    // Stances read in context with another weight would mix two readings in one run.
    let context = stance(&score_args(&inputs, &out, &["--resume", "--document-context", "0"]));
    assert_eq!(context.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&context.stderr);
    assert!(
        stderr.contains("--document-context: the run used 0.5, now 0"),
        "{stderr}"
    );
    // Resuming a finished run changes nothing, run.json's record of what scored it included.
    let before = read(&out.join("sentences.jsonl"));
    let provenance = |run: &Value| {
        let fields = ["command", "analyzer", "stance_version", "onnxruntime_version"];
        fields.map(|field| run[field].clone())
    };
    // As if an earlier version had scored it: the version is part of what is kept.
    let mut run = json(&out.join("run.json"));
    run["stance_version"] = "0.0.0-earlier".into();
    std::fs::write(out.join("run.json"), serde_json::to_string_pretty(&run).unwrap()).unwrap();
    let scored_by = provenance(&run);
    run_ok(&score_args(&inputs, &out, &["--resume", "--chunk-docs", "3"]));
    assert_eq!(read(&out.join("sentences.jsonl")), before);
    assert_eq!(provenance(&json(&out.join("run.json"))), scored_by);
}

/// A JSON Lines corpus big enough that a run takes a few seconds on the tiny model, as its lines.
fn generated_corpus(documents: usize) -> Vec<String> {
    let sentences = [
        "China warned the United States against new export controls.",
        "India and Pakistan traded accusations at the United Nations.",
        "Washington has been a reliable partner, officials in New Delhi said.",
        "Beijing keeps breaking its promises on market access.",
        "The weather was fine and the markets were calm.",
        "Modi met Biden and Xi Jinping on the sidelines of the summit.",
        "Critics say America lectures others while ignoring its own problems.",
        "Chinese diplomats praised India's restraint during the crisis.",
    ];
    let mut lines = Vec::new();
    for d in 0..documents {
        let text: Vec<&str> = (0..(3 + d % 9))
            .map(|s| sentences[(d * 7 + s * 3) % sentences.len()])
            .collect();
        let doc = serde_json::json!({
            "id": format!("g-{d:04}"),
            "date": format!("2023-{:02}-{:02}", 1 + d % 12, 1 + d % 28),
            "source": format!("Outlet {}", d % 5),
            "text": text.join(" "),
        });
        lines.push(format!("{doc}\n"));
        if d % 97 == 0 {
            lines.push("{\"id\": \"broken\n".to_owned()); // a malformed line, to check errors.jsonl after a resume too
        }
    }
    lines
}

const COMPARED: [&str; 5] = [
    "sentences.jsonl",
    "documents.csv",
    "errors.jsonl",
    "summary.json",
    "summary.csv",
];

/// A run killed with SIGKILL mid-run, then resumed, writes what an uninterrupted run writes.
///
/// The corpus comes through standard input, fed a line at a time and never to
/// its end, so the killed run cannot finish before the kill, however fast or
/// slow the machine (a run given a file would race the kill to the end).
#[test]
fn resume_after_kill_gives_the_outputs_of_an_uninterrupted_run() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = generated_corpus(160);
    let knobs = ["--chunk-docs", "4", "--commit-secs", "0", "--stdin-format", "jsonl"];
    let reference = tmp.path().join("reference");
    let output = score_stdin(&corpus, &reference, &knobs);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    ); // the malformed lines

    // Killed at once (before its first commit, most likely), then after some commits.
    for (round, min_records) in [(0, 0u64), (1, 40)] {
        let out = tmp.path().join(format!("killed-{round}"));
        kill_after_commits(&corpus, &out, &knobs, min_records);
        if min_records > 0 {
            let checkpoint = json(&out.join("checkpoint.json"));
            assert_eq!(checkpoint["complete"], false);
            assert!(checkpoint["records"].as_u64() < Some(corpus.len() as u64));
            assert_eq!(json(&out.join("run.json"))["status"], "running");
            // A kill between a commit's flush and its checkpoint leaves rows past the committed
            // lengths (here rarely: the rows wait in a buffer until the commit); resume cuts them.
            for name in ["sentences.jsonl", "documents.csv", "errors.jsonl"] {
                let mut file = std::fs::OpenOptions::new().append(true).open(out.join(name)).unwrap();
                file.write_all(b"{\"uncommitted\": ").unwrap();
            }
        }
        let resumed = score_stdin(&corpus, &out, &[&knobs[..], &["--resume"]].concat());
        assert_eq!(
            resumed.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&resumed.stderr)
        ); // the malformed lines
        for name in COMPARED {
            assert!(
                read(&out.join(name)) == read(&reference.join(name)),
                "round {round}: {name} differs from the uninterrupted run"
            );
        }
        assert_eq!(temporaries(&out), Vec::<String>::new(), "round {round}");
        let run = json(&out.join("run.json"));
        assert_eq!(run["status"], "complete");
        // Killed before its first commit, a run has nothing to resume and starts afresh.
        let sessions = run["sessions"].as_array().map_or(0, Vec::len);
        assert!(
            sessions == 2 || (min_records == 0 && sessions == 1),
            "round {round}: {sessions} sessions"
        );
    }
}

/// Ctrl-C (SIGINT), SIGTERM or SIGHUP ends a run at once, by the signal as before, with a message
/// that names the directory and `--resume`; resumed, the run writes what an uninterrupted run
/// writes.
#[cfg(unix)]
#[test]
fn a_stopped_run_says_how_to_continue_it() {
    use std::os::unix::process::ExitStatusExt;
    let tmp = tempfile::tempdir().unwrap();
    let corpus = generated_corpus(40);
    let knobs = ["--chunk-docs", "4", "--commit-secs", "0", "--stdin-format", "jsonl"];
    let reference = tmp.path().join("reference");
    score_stdin(&corpus, &reference, &knobs);
    for signal in [SIGINT, SIGTERM, SIGHUP] {
        if is_ignored_here(signal) {
            // The run inherits the ignored signal and rightly keeps ignoring it (as under nohup).
            eprintln!("signal {signal} is ignored by this test process (nohup?): not sent");
            continue;
        }
        let out = tmp.path().join(signal.to_string());
        let stopped = signal_after_commits(&corpus, &out, &knobs, 8, signal);
        let stderr = String::from_utf8_lossy(&stopped.stderr);
        assert_eq!(stopped.status.signal(), Some(signal), "{stderr}");
        let names_the_run = format!("{} keeps every document scored", out.display());
        assert!(
            stderr.contains(&names_the_run) && stderr.contains("--resume to continue"),
            "signal {signal}: {stderr}"
        );
        let resumed = score_stdin(&corpus, &out, &[&knobs[..], &["--resume"]].concat());
        assert_eq!(resumed.status.code(), Some(1)); // the malformed lines
        for name in COMPARED {
            assert!(
                read(&out.join(name)) == read(&reference.join(name)),
                "signal {signal}: {name} differs from the uninterrupted run"
            );
        }
    }
}

/// A signal ignored when the run started (as `nohup` ignores SIGHUP) stays ignored: the run goes
/// on. Linux only: elsewhere the run cannot tell (its crate forbids `unsafe`, and so `sigaction`).
#[cfg(target_os = "linux")]
#[test]
fn an_ignored_hangup_does_not_stop_a_run() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = generated_corpus(8);
    let out = tmp.path().join("nohup");
    let knobs = ["--chunk-docs", "1", "--commit-secs", "0", "--stdin-format", "jsonl"];
    let stance = stance_command(&score_args(&["-".to_owned()], &out, &knobs));
    let mut child = Command::new("nohup")
        .arg(stance.get_program())
        .args(stance.get_args())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // After a commit the run is scoring, past the point where it watches for signals.
    let (mut stdin, fed) = feed_until_committed(&mut child, &corpus, &out, 2);
    send_signal(child.id(), SIGHUP);
    std::thread::sleep(std::time::Duration::from_millis(200));
    stdin.write_all(corpus[fed..].concat().as_bytes()).unwrap();
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}"); // the malformed line
    assert!(!stderr.contains("stopped"), "{stderr}");
    assert_eq!(json(&out.join("run.json"))["status"], "complete");
}

/// A byte-order mark opening a JSON Lines field is kept, so offsets index the field (as Python's
/// do for the same string); one opening a text file is the file's encoding and is dropped.
#[test]
fn a_byte_order_mark_is_kept_in_a_field_and_dropped_from_a_file() {
    let tmp = tempfile::tempdir().unwrap();
    let field = tmp.path().join("docs.jsonl");
    std::fs::write(&field, "{\"id\": \"field\", \"text\": \"\u{feff}China rose.\"}\n").unwrap();
    let file = tmp.path().join("file.txt");
    std::fs::write(&file, "\u{feff}China rose.").unwrap();
    let out = tmp.path().join("out");
    let inputs = [field, file].map(|p| p.to_str().unwrap().to_owned());
    run_ok(&score_args(&inputs, &out, &[]));
    let rows = json_lines(&out.join("sentences.jsonl"));
    let starts: Vec<(u64, u64)> = rows
        .iter()
        .map(|row| {
            (
                row["start"].as_u64().unwrap(),
                row["mentions"][0]["start"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(starts, [(1, 1), (0, 0)], "{rows:?}");
    assert_eq!(rows[0]["text"], rows[1]["text"]);
    assert_eq!(rows[0]["score"], rows[1]["score"]);
}

/// A run killed after its last commit, before it wrote its summaries and
/// `run.json`, is finished: `--resume` writes them, identical to an
/// uninterrupted run's, and starts no new session.
/// A run whose input pauses commits what it has scored once its commit is
/// due, without waiting for more input: a killed stream loses at most one
/// commit interval of work, however long the stream was idle.
#[test]
fn a_paused_input_still_commits_what_was_scored() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = generated_corpus(8); // 9 lines, one of them malformed
    let out = tmp.path().join("paused");
    let knobs = ["--chunk-docs", "2", "--commit-secs", "1", "--stdin-format", "jsonl"];
    // Every line but the last is fed within the first commit interval; then the input stays open.
    let fed = corpus.len() as u64 - 1;
    kill_after_commits(&corpus, &out, &knobs, fed);
    let checkpoint = json(&out.join("checkpoint.json"));
    assert_eq!(checkpoint["records"].as_u64(), Some(fed));
    assert_eq!(checkpoint["complete"], false);
    // The fed lines: seven documents and the malformed line, which errors.jsonl reports.
    assert_eq!(document_ids(&out).len(), 7);
    assert_eq!(json_lines(&out.join("errors.jsonl")).len(), 1);
}

#[test]
fn resume_after_the_last_commit_only_writes_the_summaries() {
    let tmp = tempfile::tempdir().unwrap();
    let inputs = good_inputs();
    let reference = tmp.path().join("reference");
    let out = tmp.path().join("killed");
    for dir in [&reference, &out] {
        run_ok(&score_args(&inputs, dir, &[]));
    }
    // What the last commit leaves: a complete checkpoint, run.json of the commit before.
    for name in ["summary.json", "summary.csv"] {
        std::fs::remove_file(out.join(name)).unwrap();
    }
    let mut run = json(&out.join("run.json"));
    run["status"] = Value::from("running");
    std::fs::write(out.join("run.json"), run.to_string()).unwrap();

    run_ok(&score_args(&inputs, &out, &["--resume"]));
    for name in COMPARED {
        assert!(
            read(&out.join(name)) == read(&reference.join(name)),
            "{name} differs from the uninterrupted run"
        );
    }
    let run = json(&out.join("run.json"));
    assert_eq!(run["status"], "complete");
    assert_eq!(run["sessions"].as_array().map(Vec::len), Some(1));
}

#[test]
fn shards_merged_equal_one_run() {
    let tmp = tempfile::tempdir().unwrap();
    let inputs = good_inputs();
    let whole = tmp.path().join("whole");
    run_ok(&score_args(&inputs, &whole, &[]));
    let shard_dirs: Vec<PathBuf> = (1..=3).map(|i| tmp.path().join(format!("shard-{i}"))).collect();
    for (i, dir) in shard_dirs.iter().enumerate() {
        let shard = format!("{}/3", i + 1);
        run_ok(&score_args(&inputs, dir, &["--shard", &shard]));
    }
    let sizes: Vec<usize> = shard_dirs.iter().map(|d| document_ids(d).len()).collect();
    assert_eq!(sizes.iter().sum::<usize>(), 14);
    assert!(
        sizes.iter().filter(|&&n| n > 0).count() >= 2,
        "shards {sizes:?}: the hash does not spread"
    );

    // Into a file: named as such, and the file left as it was.
    let file = tmp.path().join("notes.txt");
    std::fs::write(&file, "notes").unwrap();
    let into_file = merge(&shard_dirs.iter().map(PathBuf::as_path).collect::<Vec<_>>(), &file);
    assert_eq!(into_file.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&into_file.stderr).contains("notes.txt is not a directory"));
    assert_eq!(read(&file), "notes");

    let merged = tmp.path().join("merged");
    let out = merge(&shard_dirs.iter().map(PathBuf::as_path).collect::<Vec<_>>(), &merged);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    assert_eq!(read(&merged.join("summary.json")), read(&whole.join("summary.json")));
    assert_eq!(read(&merged.join("summary.csv")), read(&whole.join("summary.csv")));
    assert_eq!(row_keys(&merged), row_keys(&whole));
    let sorted = |dir: &Path| {
        let mut lines: Vec<String> = read(&dir.join("documents.csv")).lines().map(String::from).collect();
        lines.sort();
        lines
    };
    assert_eq!(sorted(&merged), sorted(&whole));
    let run = json(&merged.join("run.json"));
    assert_eq!(run["shards"].as_array().map(Vec::len), Some(3));
    assert_eq!(run["documents"], 14);

    // The whole run beside its shards, merged or not, is the corpus twice: all of them merged are
    // a run over the same inputs, one of them a shard of the same corpus.
    for (shards, expected) in [
        (
            &merged,
            format!(
                "{} and {} hold runs over the same inputs",
                whole.display(),
                merged.display()
            ),
        ),
        (
            &shard_dirs[0],
            format!(
                "{} holds a whole corpus and {} shards of the same corpus",
                whole.display(),
                shard_dirs[0].display()
            ),
        ),
    ] {
        let twice = merge(&[&whole, shards], &tmp.path().join("whole-and-shards"));
        assert_eq!(twice.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&twice.stderr);
        assert!(stderr.contains(&expected), "{stderr}");
    }

    // The same shard twice is refused: the same run directory by its run id,
    // and another run of the same shard by the shard.
    let dup = merge(&[&shard_dirs[0], &shard_dirs[0]], &tmp.path().join("twice"));
    assert_eq!(dup.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&dup.stderr).contains("both hold run"),
        "{}",
        String::from_utf8_lossy(&dup.stderr)
    );
    let again = tmp.path().join("shard-1-again");
    run_ok(&score_args(&inputs, &again, &["--shard", "1/3"]));
    let dup = merge(&[&shard_dirs[0], &again], &tmp.path().join("twice-2"));
    assert_eq!(dup.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&dup.stderr).contains("shard 1/3"),
        "{}",
        String::from_utf8_lossy(&dup.stderr)
    );
}

/// Machines that score with the embedded model and machines that load its bundle directory run
/// one model: their shards merge.
#[test]
fn shards_of_the_embedded_model_and_of_its_bundle_directory_merge() {
    let tmp = tempfile::tempdir().unwrap();
    let inputs = vec![fixture("good/wire.jsonl")];
    let (embedded, from_dir) = (tmp.path().join("embedded"), tmp.path().join("from-dir"));
    let bundle = concat!(env!("CARGO_MANIFEST_DIR"), "/models/stance-mini");
    for (out, shard, model) in [(&embedded, "1/2", "mini"), (&from_dir, "2/2", bundle)] {
        // The test helpers score with the tiny model: these runs name theirs.
        let mut command = Command::new(env!("CARGO_BIN_EXE_stance"));
        command.args(score_args(
            &inputs,
            out,
            &["--shard", shard, "--model", model, "--threads", "2"],
        ));
        let output = command.output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    let hash = |dir: &Path| json(&dir.join("run.json"))["model_hash"].clone();
    assert_eq!(hash(&embedded), hash(&from_dir));
    let merged = tmp.path().join("merged");
    let output = merge(&[&embedded, &from_dir], &merged);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

/// Corpora scored in shards (one year, then the next) merge into one, as runs over each would:
/// a merge of every shard of a corpus merges on as a run over the whole corpus.
#[test]
fn complete_merges_of_sharded_corpora_merge_as_whole_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let corpora = [fixture("good/wire.jsonl"), fixture("good/opinion.csv")];
    let mut complete = Vec::new();
    for (c, corpus) in corpora.iter().enumerate() {
        let inputs = vec![corpus.clone()];
        let shards: Vec<PathBuf> = (1..=2).map(|i| tmp.path().join(format!("c{c}-shard-{i}"))).collect();
        for (i, dir) in shards.iter().enumerate() {
            run_ok(&score_args(&inputs, dir, &["--shard", &format!("{}/2", i + 1)]));
        }
        let merged = tmp.path().join(format!("c{c}-merged"));
        let output = merge(&[&shards[0], &shards[1]], &merged);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        complete.push((merged, shards));
    }
    let both = tmp.path().join("both");
    let output = merge(&[&complete[0].0, &complete[1].0], &both);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let whole = tmp.path().join("whole");
    run_ok(&score_args(&corpora, &whole, &[]));
    assert_eq!(read(&both.join("summary.json")), read(&whole.join("summary.json")));
    assert_eq!(row_keys(&both), row_keys(&whole));
    assert_eq!(json(&both.join("run.json"))["shards"], serde_json::json!([]));
    // A corpus's complete merge beside one of its own shards, or beside the same corpus sharded
    // another way, would count documents twice.
    let own_shard = merge(&[&complete[0].0, &complete[0].1[0]], &tmp.path().join("own-shard"));
    assert_eq!(own_shard.status.code(), Some(2));
    let resharded: Vec<PathBuf> = (1..=3).map(|i| tmp.path().join(format!("c0-of-3-{i}"))).collect();
    for (i, dir) in resharded.iter().enumerate() {
        run_ok(&score_args(&corpora[..1], dir, &["--shard", &format!("{}/3", i + 1)]));
    }
    let dirs: Vec<&Path> = resharded.iter().map(PathBuf::as_path).collect();
    let merged_3 = tmp.path().join("c0-merged-3");
    assert!(merge(&dirs, &merged_3).status.success());
    let twice = merge(&[&complete[0].0, &merged_3], &tmp.path().join("twice"));
    assert_eq!(twice.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&twice.stderr);
    assert!(stderr.contains("the same inputs"), "{stderr}");
}

/// Standard input has no path to compare: a complete merge of its shards is told from a whole run
/// of the same stream, and from the stream sharded another way, by the content hash alone.
#[test]
fn a_complete_merge_of_a_stream_and_the_stream_again_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = generated_corpus(12);
    let scored = |name: &str, extra: &[&str]| {
        let out = tmp.path().join(name);
        let output = score_stdin(&corpus, &out, &[&["--stdin-format", "jsonl"], extra].concat());
        assert!(
            output.status.code().is_some_and(|c| c <= 1),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        out
    };
    let halves = [scored("s1", &["--shard", "1/2"]), scored("s2", &["--shard", "2/2"])];
    let complete = tmp.path().join("complete");
    assert!(merge(&[&halves[0], &halves[1]], &complete)
        .status
        .code()
        .is_some_and(|c| c <= 1));
    let whole = scored("whole", &[]);
    let thirds: Vec<PathBuf> = (1..=3)
        .map(|i| scored(&format!("t{i}"), &["--shard", &format!("{i}/3")]))
        .collect();
    let thirds_merged = tmp.path().join("thirds");
    let dirs: Vec<&Path> = thirds.iter().map(PathBuf::as_path).collect();
    assert!(merge(&dirs, &thirds_merged).status.code().is_some_and(|c| c <= 1));
    for other in [&whole, &thirds_merged, &thirds[0]] {
        let twice = merge(&[&complete, other], &tmp.path().join("twice"));
        assert_eq!(twice.status.code(), Some(2), "{}", other.display());
    }
}

#[test]
fn shards_read_through_different_paths_are_refused_with_the_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let mut dirs = Vec::new();
    for i in 1..=2 {
        let mount = tmp.path().join(format!("mount-{i}"));
        std::fs::create_dir(&mount).unwrap();
        std::fs::copy(fixture("good/wire.jsonl"), mount.join("wire.jsonl")).unwrap();
        let dir = tmp.path().join(format!("shard-{i}"));
        let shard = format!("{i}/2");
        run_ok(&score_args(&[mount.display().to_string()], &dir, &["--shard", &shard]));
        dirs.push(dir);
    }
    let merged = merge(&[&dirs[0], &dirs[1]], &tmp.path().join("merged"));
    assert_eq!(merged.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&merged.stderr);
    assert!(stderr.contains("different paths"), "{stderr}");
}

#[test]
fn without_out_the_terminal_output_is_unchanged() {
    let file = fixture("good/articles/a-trade.txt");
    let out = run_ok(&["score", &file]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("per-actor summary"), "{stdout}");
    let needs_out = stance(&["score", &file, "--resume"]);
    assert_eq!(needs_out.status.code(), Some(2));
}

#[test]
fn a_directory_in_use_is_refused_and_left_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    std::fs::create_dir(&out).unwrap();
    let inputs = [fixture("good/wire.jsonl")];
    // Another process's lock, as a run would hold it from start to end.
    let holder = stance::corpus::DirLock::acquire(&out, "stance score other --out run").unwrap();
    for extra in [&["--resume"][..], &[][..]] {
        let second = stance(&score_args(&inputs, &out, extra));
        assert_eq!(second.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&second.stderr);
        assert!(
            stderr.contains("in use") && stderr.contains("stance score other"),
            "{stderr}"
        );
    }
    assert!(!out.join("checkpoint.json").exists() && !out.join("sentences.jsonl").exists());
    drop(holder);
    run_ok(&score_args(&inputs, &out, &["--resume"]));
    assert_eq!(document_ids(&out).len(), 7);
    // A finished run in use: report refuses it too, and writes nothing.
    let report = || {
        Command::new(env!("CARGO_BIN_EXE_stance"))
            .args(["report", out.to_str().unwrap()])
            .output()
            .unwrap()
    };
    let holder = stance::corpus::DirLock::acquire(&out, "stance score other --out run").unwrap();
    let refused = report();
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("in use"), "{stderr}");
    assert!(!out.join("report.html").exists());
    drop(holder);
    assert!(report().status.success());
}

#[test]
fn a_run_inside_its_input_directory_reads_only_the_input() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    std::fs::create_dir(&corpus).unwrap();
    std::fs::copy(fixture("good/articles/a-trade.txt"), corpus.join("a.txt")).unwrap();
    std::fs::copy(fixture("good/wire.jsonl"), corpus.join("b.jsonl")).unwrap();
    let out = corpus.join("run");
    let inputs = [corpus.display().to_string()];
    let knobs = ["--chunk-docs", "1", "--commit-secs", "0"];
    run_ok(&score_args(&inputs, &out, &knobs));
    let expected: BTreeSet<String> = document_ids(&out);
    assert_eq!(expected.len(), 8, "{expected:?}");
    assert_eq!(read(&out.join("errors.jsonl")), "");
    // Its own files are never input, on a resume either (one that reads the inputs again).
    reopen(&out);
    run_ok(&score_args(&inputs, &out, &[&knobs[..], &["--resume"]].concat()));
    assert_eq!(document_ids(&out), expected);
    assert_eq!(json(&out.join("run.json"))["records"], 8);
    let again = tmp.path().join("again");
    run_ok(&score_args(&inputs, &again, &knobs));
    assert_eq!(document_ids(&again), expected);
    // An input that is the output directory, or a file in it, is refused.
    let own = [out.join("sentences.jsonl").display().to_string()];
    assert_eq!(stance(&score_args(&own, &out, &["--resume"])).status.code(), Some(2));
}

#[test]
fn a_refused_run_leaves_nothing_behind_and_no_input_is_skipped_silently() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let corpus = data.join("corpus");
    std::fs::create_dir_all(&corpus).unwrap();
    std::fs::copy(fixture("good/articles/a-trade.txt"), corpus.join("a.txt")).unwrap();
    std::fs::copy(fixture("good/wire.jsonl"), corpus.join("b.jsonl")).unwrap();
    let all = [data.display().to_string()];
    // An output that is the input is refused before anything is created in it.
    let refused = stance(&score_args(&[corpus.display().to_string()], &corpus, &[]));
    assert_eq!(refused.status.code(), Some(2));
    assert!(!corpus.join("stance.lock").exists());
    // An output that is a file is named as such, and left as it was.
    let file = corpus.join("a.txt");
    let refused = stance(&score_args(&[corpus.join("b.jsonl").display().to_string()], &file, &[]));
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("a.txt is not a directory"), "{stderr}");
    assert_eq!(
        std::fs::read(&file).unwrap(),
        std::fs::read(fixture("good/articles/a-trade.txt")).unwrap()
    );
    let first = tmp.path().join("first");
    run_ok(&score_args(&all, &first, &[]));
    assert_eq!(document_ids(&first).len(), 8);
    // A lock file alone (left by a refused command of an older version) is no run: the folder is read.
    std::fs::write(corpus.join("stance.lock"), "pid 1 since then: stance score\n").unwrap();
    let second = tmp.path().join("second");
    run_ok(&score_args(&all, &second, &[]));
    assert_eq!(document_ids(&second), document_ids(&first));
    // An output inside the input that already holds documents is refused, naming one.
    let year = data.join("2024");
    std::fs::create_dir(&year).unwrap();
    std::fs::copy(fixture("good/articles/a-trade.txt"), year.join("c.txt")).unwrap();
    let refused = stance(&score_args(&all, &year, &[]));
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("c.txt"), "{stderr}");
    assert!(!year.join("stance.lock").exists());
    std::fs::remove_dir_all(&year).unwrap();
    // A real run inside the input is skipped, with a warning and a line in run.json.
    let inner = data.join("inner-run");
    run_ok(&score_args(&[corpus.display().to_string()], &inner, &[]));
    let third = tmp.path().join("third");
    let output = run_ok(&score_args(&all, &third, &[]));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("warning: skipped") && stderr.contains("inner-run"),
        "{stderr}"
    );
    assert_eq!(document_ids(&third), document_ids(&first));
    let skipped = json(&third.join("run.json"))["skipped_run_dirs"].clone();
    assert_eq!(skipped.as_array().map(Vec::len), Some(1), "{skipped}");
    assert!(skipped[0].as_str().unwrap().ends_with("inner-run"), "{skipped}");
}

#[test]
fn oversized_and_endless_records_are_errors_in_bounded_memory() {
    let tmp = tempfile::tempdir().unwrap();
    for format in ["text", "csv"] {
        let out = tmp.path().join(format);
        let inputs = ["/dev/zero".to_owned()];
        let output = stance(&score_args(
            &inputs,
            &out,
            &["--input-format", format, "--max-record-size", "1M"],
        ));
        assert_eq!(
            output.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let errors = json_lines(&out.join("errors.jsonl"));
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0]["kind"], "too_large");
    }
}

#[cfg(unix)]
#[test]
fn planted_links_are_never_written_through() {
    let tmp = tempfile::tempdir().unwrap();
    let victim = tmp.path().join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    let out = tmp.path().join("run");
    std::fs::create_dir(&out).unwrap();
    for name in [
        "checkpoint.json",
        "run.json",
        "summary.json",
        "summary.csv",
        "report.html",
    ] {
        std::os::unix::fs::symlink(&victim, out.join(format!("{name}.tmp"))).unwrap();
    }
    let inputs = [fixture("good/wire.jsonl")];
    run_ok(&score_args(&inputs, &out, &[]));
    let report = Command::new(env!("CARGO_BIN_EXE_stance"))
        .args(["report", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(report.status.success(), "{}", String::from_utf8_lossy(&report.stderr));
    assert_eq!(read(&victim), "precious");
    for name in ["checkpoint.json", "run.json", "summary.json", "report.html"] {
        assert!(!std::fs::symlink_metadata(out.join(name))
            .unwrap()
            .file_type()
            .is_symlink());
    }
    // An output file, or the lock, planted as a link is refused, not followed.
    for name in ["sentences.jsonl", "stance.lock"] {
        let planted = tmp.path().join(format!("planted-{name}"));
        std::fs::create_dir(&planted).unwrap();
        std::os::unix::fs::symlink(&victim, planted.join(name)).unwrap();
        let output = stance(&score_args(&inputs, &planted, &["--resume"]));
        assert_eq!(output.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&output.stderr);
        // The lock is opened first; an output file in a directory with no checkpoint is no run's.
        let refusal = if name == "stance.lock" {
            "symbolic link"
        } else {
            "no checkpoint.json"
        };
        assert!(stderr.contains(refusal), "{stderr}");
    }
    assert_eq!(read(&victim), "precious");
}

/// Shards scored with one actor id but another alias find other mentions:
/// their sum matches no run over the corpus, so merge refuses them, as resume does.
#[test]
fn shards_of_different_actor_definitions_are_not_merged() {
    let tmp = tempfile::tempdir().unwrap();
    let inputs = good_inputs();
    let actor_file = |name: &str, aliases: &str| {
        let path = tmp.path().join(name);
        let toml = format!("[[actor]]\nid = \"eu\"\nname = \"European Union\"\naliases = [{aliases}]\n");
        std::fs::write(&path, toml).unwrap();
        path.display().to_string()
    };
    let (narrow, wide) = (
        actor_file("narrow.toml", r#""EU""#),
        actor_file("wide.toml", r#""EU", "Brussels""#),
    );
    let shards = [("1/2", &narrow), ("2/2", &wide)].map(|(shard, file)| {
        let dir = tmp.path().join(shard.replace('/', "-"));
        run_ok(&score_args(&inputs, &dir, &["--shard", shard, "--actor-file", file]));
        dir
    });
    // The first as a run.json written before it recorded the definitions: its checkpoint has them.
    let mut run = json(&shards[0].join("run.json"));
    run.as_object_mut().unwrap().remove("actor_definitions").unwrap();
    std::fs::write(shards[0].join("run.json"), serde_json::to_string_pretty(&run).unwrap()).unwrap();
    let merged = merge(&[&shards[0], &shards[1]], &tmp.path().join("merged"));
    assert_eq!(merged.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&merged.stderr);
    assert!(stderr.contains("actor definitions"), "{stderr}");
    assert!(!tmp.path().join("merged").exists());
    // The same definitions merge.
    let same = tmp.path().join("2-2-narrow");
    run_ok(&score_args(
        &inputs,
        &same,
        &["--shard", "2/2", "--actor-file", &narrow],
    ));
    let merged = merge(&[&shards[0], &same], &tmp.path().join("merged"));
    assert!(merged.status.success(), "{}", String::from_utf8_lossy(&merged.stderr));
    let definitions = |dir: &Path| json(&dir.join("run.json"))["actor_definitions"].clone();
    assert_eq!(definitions(&tmp.path().join("merged")), definitions(&same));
}

/// A run made by an earlier build: its checkpoint and run.json predate the scoring rules' version.
fn as_if_made_before_scoring_rules_were_recorded(dir: &Path) {
    for (name, object) in [("checkpoint.json", "config"), ("run.json", "")] {
        let path = dir.join(name);
        let mut value = json(&path);
        let holder = if object.is_empty() {
            &mut value
        } else {
            &mut value[object]
        };
        assert!(
            holder.as_object_mut().unwrap().remove("scoring_rules").is_some(),
            "{name}"
        );
        std::fs::write(&path, value.to_string()).unwrap();
    }
}

#[test]
fn runs_of_builds_with_other_scoring_rules_are_neither_resumed_nor_merged() {
    let tmp = tempfile::tempdir().unwrap();
    let inputs = good_inputs();
    let shards = ["1/2", "2/2"].map(|shard| {
        let dir = tmp.path().join(shard.replace('/', "-"));
        run_ok(&score_args(&inputs, &dir, &["--shard", shard]));
        dir
    });
    let version = stance::SCORING_RULES_VERSION;
    assert_eq!(json(&shards[0].join("run.json"))["scoring_rules"], version);
    as_if_made_before_scoring_rules_were_recorded(&shards[0]);

    let merged = merge(&[&shards[0], &shards[1]], &tmp.path().join("merged"));
    assert_eq!(merged.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&merged.stderr);
    assert!(
        stderr.contains("scoring_rules") && stderr.contains("different builds"),
        "{stderr}"
    );
    assert!(!tmp.path().join("merged").exists());
    // Finished, the run has nothing left to score: resuming it is no change, and it keeps its
    // rules, the built-in actors' aliases and exclusions of its build included.
    let checkpoint = shards[0].join("checkpoint.json");
    let mut state = json(&checkpoint);
    state["config"]["actors"]["actor"][0]["exclusions"] = serde_json::json!([]);
    std::fs::write(&checkpoint, state.to_string()).unwrap();
    let other_actors = stance(&score_args(
        &inputs,
        &shards[0],
        &["--shard", "1/2", "--resume", "--actors", "us,china"],
    ));
    assert_eq!(other_actors.status.code(), Some(2));
    let finished = stance(&score_args(&inputs, &shards[0], &["--shard", "1/2", "--resume"]));
    assert!(
        finished.status.success(),
        "{}",
        String::from_utf8_lossy(&finished.stderr)
    );
    assert_eq!(json(&shards[0].join("run.json"))["scoring_rules"], 0);
    reopen(&shards[0]);
    let resumed = stance(&score_args(&inputs, &shards[0], &["--shard", "1/2", "--resume"]));
    assert_eq!(resumed.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&resumed.stderr);
    assert!(
        stderr.contains(&format!("scoring rules version 0, now {version}")),
        "{stderr}"
    );
}

#[test]
fn a_run_merged_with_itself_or_its_copy_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    run_ok(&score_args(&[fixture("good/wire.jsonl")], &run, &[]));
    let copy = tmp.path().join("copy");
    std::fs::create_dir(&copy).unwrap();
    for entry in std::fs::read_dir(&run).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), copy.join(entry.file_name())).unwrap();
    }
    for (b, out) in [(&run, "m1"), (&copy, "m2")] {
        let merged = merge(&[&run, b], &tmp.path().join(out));
        assert_eq!(merged.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&merged.stderr).contains("both hold run"));
    }
    // A merge holds the ids of its runs: merging it again with one of them is refused too.
    let other = tmp.path().join("other");
    run_ok(&score_args(&[fixture("good/opinion.csv")], &other, &[]));
    let merged = merge(&[&run, &other], &tmp.path().join("m3"));
    assert!(merged.status.success(), "{}", String::from_utf8_lossy(&merged.stderr));
    let again = merge(&[&tmp.path().join("m3"), &other], &tmp.path().join("m4"));
    assert_eq!(again.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(
        stderr.contains("both hold run") && stderr.contains("counted twice"),
        "{stderr}"
    );
    assert!(!tmp.path().join("m4").exists());
    // Two whole runs over the same inputs (different ids) hold every document twice.
    let rerun = tmp.path().join("rerun");
    run_ok(&score_args(&[fixture("good/wire.jsonl")], &rerun, &[]));
    let twice = merge(&[&run, &rerun], &tmp.path().join("m5"));
    assert_eq!(twice.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&twice.stderr);
    assert!(
        stderr.contains("the same inputs") && stderr.contains("counted twice"),
        "{stderr}"
    );
}

#[test]
fn csv_outputs_hold_no_formulas_and_json_keeps_the_text() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("evil.csv");
    std::fs::write(
        &corpus,
        "id,source,title,text\n\
         \"=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",+cmd,@SUM(1),China praised India.\n\
         -2+3,\"\tTab\",\"\rCR\",The US warned China.\n",
    )
    .unwrap();
    let out = tmp.path().join("run");
    run_ok(&score_args(&[corpus.display().to_string()], &out, &[]));
    let formula = |cell: &str| cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    for name in ["documents.csv", "summary.csv"] {
        let mut reader = csv::Reader::from_path(out.join(name)).unwrap();
        let headers = reader.headers().unwrap().clone();
        for row in reader.records() {
            for (header, cell) in headers.iter().zip(row.unwrap().iter()) {
                if cell.parse::<f64>().is_ok() {
                    continue; // numbers we wrote, negative scores included, stay numbers
                }
                assert!(!formula(cell), "{name}, column {header}: {cell:?}");
            }
        }
    }
    let documents = read(&out.join("documents.csv"));
    assert!(
        documents.contains("'=HYPERLINK") && documents.contains("'-2+3"),
        "{documents}"
    );
    let ids: BTreeSet<String> = json_lines(&out.join("sentences.jsonl"))
        .iter()
        .map(|r| r["document_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, ["=HYPERLINK(\"http://x\",\"y\")", "-2+3"].map(String::from).into());
}

/// Marks a finished run as interrupted after all its records, so that `--resume` re-reads and checks them.
fn reopen(dir: &Path) {
    let path = dir.join("checkpoint.json");
    let mut checkpoint = json(&path);
    checkpoint["complete"] = Value::Bool(false);
    std::fs::write(&path, checkpoint.to_string()).unwrap();
}

#[test]
fn resume_refuses_other_inputs_and_a_replaced_model() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("corpus.jsonl");
    std::fs::write(
        &corpus,
        "{\"text\": \"China praised India.\"}\n{\"text\": \"The US spoke.\"}\n",
    )
    .unwrap();
    let inputs = [corpus.display().to_string()];
    let out = tmp.path().join("run");
    run_ok(&score_args(&inputs, &out, &[]));
    reopen(&out);
    run_ok(&score_args(&inputs, &out, &["--resume"]));
    // The same number of records, other content.
    std::fs::write(
        &corpus,
        "{\"text\": \"India praised China.\"}\n{\"text\": \"The US spoke.\"}\n",
    )
    .unwrap();
    reopen(&out);
    let resumed = stance(&score_args(&inputs, &out, &["--resume"]));
    assert_eq!(resumed.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&resumed.stderr);
    assert!(stderr.contains("inputs changed"), "{stderr}");

    // A model bundle replaced in place, under the same name.
    let model = tmp.path().join("model");
    std::fs::create_dir(&model).unwrap();
    for name in ["config.json", "tokenizer.json", "model.onnx"] {
        std::fs::copy(Path::new(&tiny_model()).join(name), model.join(name)).unwrap();
    }
    let model_run = tmp.path().join("model-run");
    let with_model_at = |extra: &[&str], path: &str| {
        let mut args = score_args(&inputs, &model_run, extra)
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>();
        args.extend(["--model".to_owned(), path.to_owned()]);
        Command::new(env!("CARGO_BIN_EXE_stance"))
            .args(&args)
            .arg("--threads")
            .arg("2")
            .output()
            .unwrap()
    };
    let with_model = |extra: &[&str]| with_model_at(extra, &model.display().to_string());
    assert!(with_model(&[]).status.success());
    // The same files by another path are the same model.
    reopen(&model_run);
    let resumed = with_model_at(&["--resume"], &format!("{}/", model.display()));
    assert!(resumed.status.success(), "{}", String::from_utf8_lossy(&resumed.stderr));
    reopen(&model_run);
    let mut tokenizer = std::fs::read(model.join("tokenizer.json")).unwrap();
    tokenizer.push(b'\n');
    std::fs::write(model.join("tokenizer.json"), tokenizer).unwrap();
    let resumed = with_model(&["--resume"]);
    assert_eq!(resumed.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&resumed.stderr);
    assert!(
        stderr.contains("the files of") && stderr.contains("changed since the run started"),
        "{stderr}"
    );
}

#[test]
fn threads_beyond_the_machine_are_refused() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let file = fixture("good/articles/a-trade.txt");
    for threads in [(cores * 4 + 1).to_string(), "100000".to_owned()] {
        let output = Command::new(env!("CARGO_BIN_EXE_stance"))
            .args(["score", &file, "--model", &tiny_model(), "--threads", &threads])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&output.stderr).contains("--threads"));
    }
}

/// The sentence rows of `document` in `dir`, as written: every bit of every score.
fn rows_of(dir: &Path, document: &str) -> Vec<String> {
    read(&dir.join("sentences.jsonl"))
        .lines()
        .filter(|l| serde_json::from_str::<Value>(l).unwrap()["document_id"] == document)
        .map(String::from)
        .collect()
}

#[test]
fn with_the_shipped_model_a_document_scores_the_same_bits_alone_and_among_39_others() {
    // The shipped model is batch-invariant, so documents share batches by
    // default; that must not move a single bit of any document's scores.
    let tmp = tempfile::tempdir().unwrap();
    let fixture = read(&root().join("benches/data/fixture.jsonl"));
    let forty: Vec<&str> = fixture.lines().take(40).collect();
    let (together_file, alone_file) = (tmp.path().join("forty.jsonl"), tmp.path().join("one.jsonl"));
    std::fs::write(&together_file, forty.join("\n") + "\n").unwrap();
    let picked = 17;
    std::fs::write(&alone_file, format!("{}\n", forty[picked])).unwrap();
    let id = serde_json::from_str::<Value>(forty[picked]).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let score = |input: &Path, out: &Path| {
        let args = [
            "score",
            input.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ];
        let run = Command::new(env!("CARGO_BIN_EXE_stance")).args(args).output().unwrap();
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    };
    let (together, alone) = (tmp.path().join("together"), tmp.path().join("alone"));
    score(&together_file, &together);
    score(&alone_file, &alone);

    let analyzer = &json(&together.join("run.json"))["analyzer"];
    assert_eq!(analyzer["batch_invariant"], true, "{analyzer}");
    let rows = rows_of(&alone, &id);
    assert!(
        rows.len() >= 3,
        "document {id} has too few pairs to test: {}",
        rows.len()
    );
    assert_eq!(rows_of(&together, &id), rows);
    let all_rows = json_lines(&together.join("sentences.jsonl")).len();
    assert!(
        all_rows > 10 * rows.len(),
        "the other documents gave only {all_rows} rows"
    );
}

/// Files named like a run's outputs in a directory that holds no run are someone's: `--resume`
/// refuses to write over them, and an output directory inside the input that holds them is
/// refused too (the walk would skip them as the run's own).
#[test]
fn resume_never_writes_over_files_that_are_not_a_run() {
    let tmp = tempfile::tempdir().unwrap();
    let inputs = [fixture("good/wire.jsonl")];
    let mine = tmp.path().join("mine");
    std::fs::create_dir(&mine).unwrap();
    std::fs::write(mine.join("documents.csv"), "id,note\n1,precious\n").unwrap();
    let output = stance(&score_args(&inputs, &mine, &["--resume"]));
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no checkpoint.json"));
    assert_eq!(read(&mine.join("documents.csv")), "id,note\n1,precious\n");

    let corpus = tmp.path().join("corpus");
    let nested = corpus.join("x");
    std::fs::create_dir_all(&nested).unwrap();
    std::fs::copy(fixture("good/wire.jsonl"), corpus.join("a.jsonl")).unwrap();
    std::fs::copy(fixture("good/wire.jsonl"), nested.join("sentences.jsonl")).unwrap();
    let inputs = [corpus.display().to_string()];
    for extra in [&["--resume"][..], &[][..]] {
        let output = stance(&score_args(&inputs, &nested, extra));
        assert_eq!(output.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&output.stderr).contains("sentences.jsonl"));
    }
    assert_eq!(
        read(&nested.join("sentences.jsonl")),
        read(Path::new(&fixture("good/wire.jsonl")))
    );
}

/// A finished run resumed is finished again only over the records it read and the journals it
/// wrote: other inputs, or a journal cut since, are refused (by merge too), and the walk's
/// account of skipped files is written again.
#[test]
fn a_finished_run_is_checked_before_it_is_finished_again() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    std::fs::create_dir(&corpus).unwrap();
    std::fs::copy(fixture("good/wire.jsonl"), corpus.join("a.jsonl")).unwrap();
    std::fs::write(corpus.join("notes.pdf"), "not read").unwrap();
    let inputs = [corpus.display().to_string()];
    let out = tmp.path().join("run");
    run_ok(&score_args(&inputs, &out, &[]));
    assert_eq!(json(&out.join("run.json"))["skipped_files"]["count"], 1);

    // What a kill after the last commit leaves: a complete checkpoint, no summaries, and the
    // run.json of that commit, which says running and lists no skipped files.
    std::fs::remove_file(out.join("summary.json")).unwrap();
    let mut run = json(&out.join("run.json"));
    run["status"] = Value::from("running");
    run.as_object_mut().unwrap().remove("skipped_files");
    std::fs::write(out.join("run.json"), run.to_string()).unwrap();
    let merged = merge(&[&out], &tmp.path().join("m"));
    assert_eq!(merged.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&merged.stderr);
    assert!(stderr.contains("has not finished"), "{stderr}");
    run_ok(&score_args(&inputs, &out, &["--resume"]));
    let run = json(&out.join("run.json"));
    assert_eq!(run["status"], "complete");
    assert_eq!(run["skipped_files"]["count"], 1);

    // Another input under the same name.
    let original = read(&corpus.join("a.jsonl"));
    std::fs::write(corpus.join("a.jsonl"), "{\"text\": \"China spoke.\"}\n").unwrap();
    let resumed = stance(&score_args(&inputs, &out, &["--resume"]));
    assert_eq!(resumed.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&resumed.stderr).contains("changed"));
    std::fs::write(
        corpus.join("a.jsonl"),
        format!("{original}{{\"text\": \"India spoke.\"}}\n"),
    )
    .unwrap();
    let resumed = stance(&score_args(&inputs, &out, &["--resume"]));
    assert_eq!(resumed.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&resumed.stderr).contains("now hold more"));
    std::fs::write(corpus.join("a.jsonl"), &original).unwrap();

    // A journal cut after the run.
    let sentences = read(&out.join("sentences.jsonl"));
    std::fs::write(out.join("sentences.jsonl"), sentences.lines().next().unwrap()).unwrap();
    for output in [
        stance(&score_args(&inputs, &out, &["--resume"])),
        merge(&[&out], &tmp.path().join("m")),
    ] {
        assert_eq!(output.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("sentences.jsonl") && stderr.contains("finished run or merge wrote"),
            "{stderr}"
        );
    }
}

/// Two whole runs over one file, named two ways, or a merge and a run over one of its parts,
/// would count documents twice: merge refuses them. A merge of whole runs lists every input and
/// adds up their records.
#[test]
fn merge_refuses_one_input_in_two_runs_however_it_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let wire = fixture("good/wire.jsonl");
    let csv = fixture("good/opinion.csv");
    let run = |inputs: &[String], name: &str| {
        let out = tmp.path().join(name);
        run_ok(&score_args(inputs, &out, &[]));
        out
    };
    let wire_dotted = format!("{}/./{}", Path::new(&wire).parent().unwrap().display(), "wire.jsonl");
    let (a, b) = (run(std::slice::from_ref(&wire), "a"), run(&[wire_dotted], "b"));
    let output = merge(&[&a, &b], &tmp.path().join("ab"));
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("both read"), "{stderr}");

    let c = run(std::slice::from_ref(&csv), "c");
    let ac = tmp.path().join("ac");
    let output = merge(&[&a, &c], &ac);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let info = json(&ac.join("run.json"));
    assert_eq!(info["inputs"], serde_json::json!([wire, csv]));
    let records = |dir: &Path| json(&dir.join("run.json"))["records"].as_u64().unwrap();
    assert_eq!(info["records"].as_u64().unwrap(), records(&a) + records(&c));
    assert_eq!(info["other_shards"], 0);

    // Runs that read nothing merge, whatever they were over: there is nothing to count twice.
    let (empty_a, empty_b) = (tmp.path().join("a.jsonl"), tmp.path().join("b.jsonl"));
    std::fs::write(&empty_a, "").unwrap();
    std::fs::write(&empty_b, "").unwrap();
    let (ea, eb) = (
        run(&[empty_a.display().to_string()], "ea"),
        run(&[empty_b.display().to_string()], "eb"),
    );
    let output = merge(&[&ea, &eb], &tmp.path().join("eab"));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    // A merge and a run over one of its parts again.
    let c2 = run(&[csv], "c2");
    let output = merge(&[&ac, &c2], &tmp.path().join("acc"));
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("runs over the same inputs"));
}

/// Whole runs over different inputs each skipped their own entries: their merge lists what every
/// one of them did not read, files and links to directories; shards, which walked the same
/// inputs, list it once.
#[cfg(unix)]
#[test]
fn a_merge_of_whole_runs_lists_what_each_run_did_not_read() {
    let tmp = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    std::fs::create_dir(&a).unwrap();
    std::fs::create_dir(&b).unwrap();
    std::fs::copy(fixture("good/wire.jsonl"), a.join("wire.jsonl")).unwrap();
    std::fs::copy(fixture("good/opinion.csv"), b.join("opinion.csv")).unwrap();
    for i in 1..=3 {
        std::fs::write(a.join(format!("{i}.pdf")), "not read").unwrap();
    }
    for i in 1..=2 {
        std::fs::write(b.join(format!("{i}.docx")), "not read").unwrap();
    }
    std::os::unix::fs::symlink(elsewhere.path(), b.join("photos")).unwrap();
    let run = |input: &Path, name: &str, extra: &[&str]| {
        let out = tmp.path().join(name);
        run_ok(&score_args(&[input.display().to_string()], &out, extra));
        out
    };
    let (run_a, run_b) = (run(&a, "run-a", &[]), run(&b, "run-b", &[]));
    let skipped = |dir: &Path| json(&dir.join("run.json"))["skipped_files"].clone();
    let names = |dir: &Path, names: &[&str]| -> Vec<String> {
        names.iter().map(|n| format!("{}/{n}", dir.display())).collect()
    };
    assert_eq!(
        skipped(&run_b),
        serde_json::json!({"count": 3, "links": 1, "first": names(&b, &["1.docx", "2.docx", "photos/"])})
    );
    let merged = tmp.path().join("ab");
    let output = merge(&[&run_a, &run_b], &merged);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let mut first = names(&a, &["1.pdf", "2.pdf", "3.pdf"]);
    first.extend(names(&b, &["1.docx", "2.docx", "photos/"]));
    assert_eq!(
        skipped(&merged),
        serde_json::json!({"count": 6, "links": 1, "first": first})
    );

    let shards: Vec<PathBuf> = (1..=2)
        .map(|i| run(&a, &format!("shard-{i}"), &["--shard", &format!("{i}/2")]))
        .collect();
    let merged = tmp.path().join("shards");
    let output = merge(&[&shards[0], &shards[1]], &merged);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(skipped(&merged), skipped(&run_a));
    assert_eq!(skipped(&merged)["count"], 3);
}

/// A commit interval longer than the clock can count is refused before anything is written; one
/// that the clock can count but never reaches means: commit at the end.
#[test]
fn a_commit_interval_is_any_duration_the_clock_can_hold() {
    let tmp = tempfile::tempdir().unwrap();
    let inputs = [fixture("good/wire.jsonl")];
    let refused = tmp.path().join("refused");
    let output = stance(&score_args(&inputs, &refused, &["--commit-secs", "1e20"]));
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--commit-secs"));
    assert!(!refused.exists());
    let out = tmp.path().join("run");
    run_ok(&score_args(&inputs, &out, &["--commit-secs", "1e19"]));
    assert_eq!(json(&out.join("run.json"))["status"], "complete");
}

/// A run or merge directory named as an input (as `corpus/*` names one) holds results, as it does
/// when a walk meets it: it is skipped and listed, not read as documents.
#[test]
fn a_run_directory_named_as_an_input_is_skipped_and_listed() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    std::fs::create_dir(&corpus).unwrap();
    std::fs::copy(fixture("good/wire.jsonl"), corpus.join("b.jsonl")).unwrap();
    let first = corpus.join("run1");
    run_ok(&score_args(
        &[corpus.join("b.jsonl").display().to_string()],
        &first,
        &[],
    ));
    let inputs = [fixture("good/opinion.csv"), first.display().to_string()];
    let second = tmp.path().join("run2");
    let output = run_ok(&score_args(&inputs, &second, &[]));
    let alone = tmp.path().join("alone");
    run_ok(&score_args(&[fixture("good/opinion.csv")], &alone, &[]));
    assert_eq!(document_ids(&second), document_ids(&alone));
    let info = json(&second.join("run.json"));
    assert_eq!(
        info["skipped_run_dirs"],
        serde_json::json!([first.display().to_string()])
    );
    assert_eq!(info["input_paths"].as_array().unwrap().len(), 1, "{info}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("run1"));
    // What it skipped is no input of its own: it merges with the run it skipped.
    let merged = merge(&[&first, &second], &tmp.path().join("merged"));
    assert!(merged.status.success(), "{}", String::from_utf8_lossy(&merged.stderr));
    // Every input skipped: nothing to score is an error, not an empty run.
    let nothing = stance(&score_args(
        &[first.display().to_string()],
        &tmp.path().join("empty"),
        &[],
    ));
    assert_eq!(
        nothing.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&nothing.stderr)
    );
}

/// A walked folder that holds no file to read (only other runs, hidden files, files of other
/// extensions, or nothing) is refused before the run starts, naming it: an empty run would read
/// as a corpus that mentions no actor. Beside an input that holds documents it is only walked.
#[test]
fn a_folder_with_nothing_to_read_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().join("runs");
    run_ok(&score_args(&[fixture("good/wire.jsonl")], &runs.join("run1"), &[]));
    let other = tmp.path().join("other");
    std::fs::create_dir_all(other.join("sub")).unwrap();
    std::fs::write(other.join("sub/article.docx"), "China and India signed a deal.").unwrap();
    std::fs::write(other.join(".hidden.txt"), "China and India signed a deal.").unwrap();
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    for folder in [&runs, &other, &empty] {
        let out = tmp.path().join("out");
        let refused = stance(&score_args(&[folder.display().to_string()], &out, &[]));
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert_eq!(refused.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("nothing to read"), "{stderr}");
        assert!(stderr.contains(&folder.display().to_string()), "{stderr}");
        assert!(!out.exists(), "{}", out.display());
    }
    let both = [empty.display().to_string(), fixture("good/wire.jsonl")];
    let out = tmp.path().join("both");
    run_ok(&score_args(&both, &out, &[]));
    let alone = tmp.path().join("alone");
    run_ok(&score_args(&[fixture("good/wire.jsonl")], &alone, &[]));
    assert_eq!(document_ids(&out), document_ids(&alone));
    assert!(!document_ids(&out).is_empty());
}

/// Rows cut after a run finished are refused by a merge where no checkpoint says how long they
/// were: a run whose checkpoint was deleted, and a merge (which has none).
#[test]
fn merge_checks_the_row_files_of_runs_and_merges_without_a_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let inputs = vec![fixture("good/wire.jsonl")];
    let shards: Vec<PathBuf> = (1..=2).map(|i| tmp.path().join(format!("shard-{i}"))).collect();
    for (i, dir) in shards.iter().enumerate() {
        run_ok(&score_args(&inputs, dir, &["--shard", &format!("{}/2", i + 1)]));
    }
    let merged = tmp.path().join("merged");
    assert!(merge(&[&shards[0], &shards[1]], &merged).status.success());
    let other = tmp.path().join("other");
    run_ok(&score_args(&[fixture("good/opinion.csv")], &other, &[]));
    let cut_last_row = |path: &Path| {
        let text = read(path);
        let kept = text.trim_end_matches('\n').rsplit_once('\n').unwrap().0;
        std::fs::write(path, format!("{kept}\n")).unwrap();
    };
    let refused = |dirs: &[&Path], out: &str, file: &str| {
        let output = merge(dirs, &tmp.path().join(out));
        assert_eq!(output.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(file) && stderr.contains("changed since"), "{stderr}");
    };
    // A merge's rows, cut, and then merged with another run.
    let merged_documents = merged.join("documents.csv");
    let intact = std::fs::read(&merged_documents).unwrap();
    cut_last_row(&merged_documents);
    refused(&[&merged, &other], "m1", "documents.csv");
    std::fs::write(&merged_documents, intact).unwrap();
    assert!(merge(&[&merged, &other], &tmp.path().join("m2")).status.success());
    // A shard whose checkpoint is gone: run.json says how long its rows were.
    std::fs::remove_file(shards[1].join("checkpoint.json")).unwrap();
    assert!(merge(&[&shards[0], &shards[1]], &tmp.path().join("m3"))
        .status
        .success());
    cut_last_row(&shards[1].join("sentences.jsonl"));
    refused(&[&shards[0], &shards[1]], "m4", "sentences.jsonl");
}

/// A merge writes run.json first, as running: stopped midway, its directory is no corpus to a
/// walk and no run to a merge, and the same merge run again replaces what it left.
#[test]
fn a_merge_stopped_midway_is_neither_read_nor_merged_and_can_run_again() {
    let tmp = tempfile::tempdir().unwrap();
    let inputs = vec![fixture("good/wire.jsonl")];
    let shards: Vec<PathBuf> = (1..=2).map(|i| tmp.path().join(format!("shard-{i}"))).collect();
    for (i, dir) in shards.iter().enumerate() {
        run_ok(&score_args(&inputs, dir, &["--shard", &format!("{}/2", i + 1)]));
    }
    let corpus = tmp.path().join("corpus");
    std::fs::create_dir(&corpus).unwrap();
    std::fs::copy(fixture("good/articles/a-trade.txt"), corpus.join("a.txt")).unwrap();
    let merged = corpus.join("merged");
    assert!(merge(&[&shards[0], &shards[1]], &merged).status.success());
    let complete = std::fs::read(merged.join("summary.json")).unwrap();
    // As a merge killed after its rows: run.json says running, summary.json is not written yet.
    let mut info = json(&merged.join("run.json"));
    info["status"] = Value::String("running".into());
    std::fs::write(merged.join("run.json"), info.to_string()).unwrap();
    std::fs::remove_file(merged.join("summary.json")).unwrap();

    let walked = tmp.path().join("walked");
    run_ok(&score_args(&[corpus.display().to_string()], &walked, &[]));
    assert_eq!(json(&walked.join("run.json"))["records"], 1);
    let output = merge(&[&merged, &walked], &tmp.path().join("m"));
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("did not finish"));

    let again = merge(&[&shards[0], &shards[1]], &merged);
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    assert_eq!(std::fs::read(merged.join("summary.json")).unwrap(), complete);
    assert_eq!(json(&merged.join("run.json"))["status"], "complete");
}

#[test]
fn merge_names_the_input_option_that_differs() {
    let tmp = tempfile::tempdir().unwrap();
    let inputs = vec![fixture("good/wire.jsonl")];
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    run_ok(&score_args(&inputs, &a, &["--shard", "1/2"]));
    run_ok(&score_args(
        &inputs,
        &b,
        &["--shard", "2/2", "--date-field", "published"],
    ));
    let output = merge(&[&a, &b], &tmp.path().join("m"));
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("input options (--date-field: the first used \"date\", the other \"published\")"),
        "{stderr}"
    );
}

/// Merging a run that another process is still scoring names that process, rather than asking
/// for a resume that its lock would refuse.
#[test]
fn merge_of_a_run_still_scoring_names_its_process() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    run_ok(&score_args(&[fixture("good/wire.jsonl")], &run, &[]));
    let mut info = json(&run.join("run.json"));
    info["status"] = Value::String("running".into());
    std::fs::write(run.join("run.json"), info.to_string()).unwrap();
    let lock = stance::corpus::DirLock::acquire(&run, "stance score corpus --out run").unwrap();
    let output = merge(&[&run], &tmp.path().join("m"));
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("still writing it") && stderr.contains("stance score corpus --out run"),
        "{stderr}"
    );
    drop(lock);
    let output = merge(&[&run], &tmp.path().join("m"));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--resume"));
}

/// Hidden entries are not read, but those that could hold documents are counted and warned of.
#[test]
fn hidden_entries_that_could_hold_documents_are_listed() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    std::fs::create_dir_all(corpus.join(".git")).unwrap();
    std::fs::copy(fixture("good/articles/a-trade.txt"), corpus.join("a.txt")).unwrap();
    std::fs::copy(fixture("good/wire.jsonl"), corpus.join(".draft.jsonl")).unwrap();
    std::fs::write(corpus.join(".DS_Store"), b"\0\0").unwrap();
    let out = tmp.path().join("run");
    let output = run_ok(&score_args(&[corpus.display().to_string()], &out, &[]));
    let info = json(&out.join("run.json"));
    assert_eq!(info["records"], 1);
    let skipped = &info["skipped_files"];
    assert_eq!(skipped["hidden"], 2, "{skipped}");
    let listed: Vec<&str> = skipped["first_hidden"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        listed[0].ends_with(".draft.jsonl") && listed[1].ends_with(".git"),
        "{listed:?}"
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("2 hidden file(s) or directories"));
}

/// An output directory that holds documents is refused, by a run and by a merge: once it held a
/// run, walks would skip its documents as results. A folder with another tool's run.json and a
/// stance.lock left by a refused command is still a folder of documents.
#[test]
fn an_output_directory_holding_documents_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let news = tmp.path().join("news");
    std::fs::create_dir(&news).unwrap();
    std::fs::copy(fixture("good/wire.jsonl"), news.join("wire.jsonl")).unwrap();
    std::fs::write(news.join("run.json"), "{\"scraper\": \"v1\"}").unwrap();
    let scored = stance(&score_args(&[fixture("good/opinion.csv")], &news, &[]));
    assert_eq!(scored.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&scored.stderr).contains("wire.jsonl"));
    let run = tmp.path().join("run");
    run_ok(&score_args(&[fixture("good/opinion.csv")], &run, &[]));
    let merged = merge(&[&run], &news);
    assert_eq!(merged.status.code(), Some(2));
    // Even with a stance.lock beside that run.json, the folder is read as documents.
    std::fs::write(news.join("stance.lock"), "").unwrap();
    let (read, wire) = (tmp.path().join("read"), tmp.path().join("wire"));
    run_ok(&score_args(&[news.display().to_string()], &read, &[]));
    run_ok(&score_args(&[fixture("good/wire.jsonl")], &wire, &[]));
    assert_eq!(document_ids(&read).len(), document_ids(&wire).len());
    assert!(json(&read.join("run.json"))["skipped_run_dirs"].is_null());
}

/// Whole runs over the same documents read from other files (a copy under another name, a hard
/// link, the files joined into one) would count every document twice: merge refuses them.
#[test]
fn merge_refuses_whole_runs_over_the_same_documents_in_other_files() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a.jsonl"), tmp.path().join("b.jsonl"));
    std::fs::write(
        &a,
        "{\"text\": \"China praised India.\"}\n{\"text\": \"The US spoke.\"}\n",
    )
    .unwrap();
    std::fs::write(&b, "{\"text\": \"Pakistan met Russia.\"}\n").unwrap();
    let copy = tmp.path().join("copy.jsonl");
    std::fs::copy(&a, &copy).unwrap();
    let joined = tmp.path().join("joined.jsonl");
    std::fs::write(&joined, format!("{}{}", read(&a), read(&b))).unwrap();
    let score = |inputs: &[&Path], name: &str| {
        let out = tmp.path().join(name);
        let inputs: Vec<String> = inputs.iter().map(|p| p.display().to_string()).collect();
        run_ok(&score_args(&inputs, &out, &[]));
        out
    };
    let (run_a, run_copy) = (score(&[&a], "run-a"), score(&[&copy], "run-copy"));
    let (run_ab, run_joined) = (score(&[&a, &b], "run-ab"), score(&[&joined], "run-joined"));
    let run_b = score(&[&b], "run-b");
    let mut pairs = vec![(&run_a, &run_copy, "m1"), (&run_ab, &run_joined, "m2")];
    #[cfg(unix)]
    let linked = {
        let link = tmp.path().join("link.jsonl");
        std::fs::hard_link(&a, &link).unwrap();
        score(&[&link], "run-link")
    };
    #[cfg(unix)]
    pairs.push((&run_a, &linked, "m3"));
    for (first, second, out) in pairs {
        let output = merge(&[first, second], &tmp.path().join(out));
        assert_eq!(output.status.code(), Some(2), "{out}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("the same documents"), "{stderr}");
    }
    // Different documents merge, and the merge holds both runs' documents hashes.
    let merged = tmp.path().join("m4");
    assert!(merge(&[&run_a, &run_b], &merged).status.success());
    assert_eq!(
        json(&merged.join("run.json"))["merged_documents_hashes"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let again = merge(&[&merged, &run_copy], &tmp.path().join("m5"));
    assert_eq!(again.status.code(), Some(2));
}

/// Across scoring rules a finished run resumes with its built-in actors as its build defined
/// them, but an actor of the user's file must still be the one it scored with.
#[test]
fn a_finished_run_of_other_rules_still_compares_the_users_actors() {
    let tmp = tempfile::tempdir().unwrap();
    let (first, second) = (tmp.path().join("a1.toml"), tmp.path().join("a2.toml"));
    std::fs::write(
        &first,
        "[[actor]]\nid = \"tr\"\nname = \"Trade\"\naliases = [\"trade\"]\n",
    )
    .unwrap();
    std::fs::write(
        &second,
        "[[actor]]\nid = \"tr\"\nname = \"Trade\"\naliases = [\"border\"]\n",
    )
    .unwrap();
    let inputs = vec![fixture("good/wire.jsonl")];
    let out = tmp.path().join("run");
    let with = |file: &Path, extra: &[&str]| {
        let file = file.display().to_string();
        let mut args = vec!["--actor-file", file.as_str()];
        args.extend_from_slice(extra);
        stance(&score_args(&inputs, &out, &args))
    };
    assert!(with(&first, &[]).status.success());
    as_if_made_before_scoring_rules_were_recorded(&out);
    assert_eq!(with(&second, &["--resume"]).status.code(), Some(2));
    let resumed = with(&first, &["--resume"]);
    assert!(resumed.status.success(), "{}", String::from_utf8_lossy(&resumed.stderr));
}
