//! Helpers shared by the integration tests that run `stance` as a user would,
//! on the tiny test model and the fixtures in tests/data/corpus.

// Each test file compiles this module on its own and uses only some of it.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The crate's root directory.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The path of `name` in tests/data/corpus.
pub fn fixture(name: &str) -> String {
    root().join("tests/data/corpus").join(name).display().to_string()
}

/// The path of the tiny test model.
pub fn tiny_model() -> String {
    root().join("tests/data/tiny-model").display().to_string()
}

/// The tiny test model's directory, for the library's own builder.
pub fn tiny_model_dir() -> PathBuf {
    root().join("tests/data/tiny-model")
}

/// An analyzer on the tiny test model with two threads.
pub fn tiny_analyzer() -> stance::Analyzer {
    stance::Analyzer::builder()
        .model_dir(tiny_model_dir())
        .threads(2)
        .build()
        .expect("tiny model loads")
}

/// `stance ARGS` on the tiny model with two threads, not yet run.
pub fn stance_command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_stance"));
    command.args(args).args(["--model", &tiny_model(), "--threads", "2"]);
    command
}

/// Runs `stance ARGS` (see [`stance_command`]) to the end.
pub fn stance(args: &[&str]) -> Output {
    stance_command(args).output().expect("the binary runs")
}

/// Runs `stance ARGS` and checks that it succeeds.
pub fn run_ok(args: &[&str]) -> Output {
    let out = stance(args);
    assert!(
        out.status.success(),
        "stance {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The well-formed fixtures: a directory of text files, JSON Lines and CSV.
pub fn good_inputs() -> Vec<String> {
    ["good/articles", "good/wire.jsonl", "good/opinion.csv"]
        .iter()
        .map(|f| fixture(f))
        .collect()
}

/// The arguments of `stance score INPUTS --out OUT --quiet EXTRA`.
pub fn score_args<'a>(inputs: &'a [String], out: &'a Path, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["score"];
    args.extend(inputs.iter().map(String::as_str));
    args.extend(["--out", out.to_str().expect("utf-8 path"), "--quiet"]);
    args.extend(extra);
    args
}

/// The text of `path`.
pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The JSON values of the lines of `path`.
pub fn json_lines(path: &Path) -> Vec<Value> {
    read(path)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

/// The JSON value in `path`.
pub fn json(path: &Path) -> Value {
    serde_json::from_str(&read(path)).expect("JSON")
}

/// How many records the checkpoint in `dir` has committed (0 without one).
pub fn committed_records(dir: &Path) -> u64 {
    let text = std::fs::read_to_string(dir.join("checkpoint.json")).unwrap_or_default();
    serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|v| v["records"].as_u64())
        .unwrap_or(0)
}

/// `stance score -` on `corpus`, fed to its standard input in full, to the end.
pub fn score_stdin(corpus: &[String], out: &Path, extra: &[&str]) -> Output {
    let inputs = ["-".to_owned()];
    let mut child = stance_command(&score_args(&inputs, out, extra))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let text = corpus.concat();
    // Fed from a thread, so that a child that fills its stderr pipe cannot block the feeding.
    let feeder = std::thread::spawn(move || {
        // A run that fails early stops reading: its exit status and stderr tell why.
        let _ = stdin.write_all(text.as_bytes());
    });
    let output = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    output
}

/// Runs `stance score -` with `extra` into `out`, feeds it `corpus` until at
/// least `min_records` records are committed, then kills it with SIGKILL.
///
/// The last line is never fed: the input stays open, so the run is still
/// running when it is killed.
pub fn kill_after_commits(corpus: &[String], out: &Path, extra: &[&str], min_records: u64) {
    let mut child = stance_command(&score_args(&["-".to_owned()], out, extra))
        .stdin(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (stdin, _) = feed_until_committed(&mut child, corpus, out, min_records);
    child.kill().unwrap(); // SIGKILL: no chance to flush or clean up
    child.wait().unwrap(); // the process is gone, and with it its lock on the directory
    drop(stdin);
}

/// As [`kill_after_commits`], but stops the run with `signal` and returns how it ended. Fails
/// when the run is still running a minute after the signal.
#[cfg(unix)]
pub fn signal_after_commits(corpus: &[String], out: &Path, extra: &[&str], min_records: u64, signal: i32) -> Output {
    let mut child = stance_command(&score_args(&["-".to_owned()], out, extra))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (stdin, _) = feed_until_committed(&mut child, corpus, out, min_records);
    send_signal(child.id(), signal);
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("{}: still running a minute after signal {signal}", out.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(stdin);
    child.wait_with_output().unwrap()
}

/// Sends `signal` (a number) to the process `pid`, with the shell's `kill`.
#[cfg(unix)]
pub fn send_signal(pid: u32, signal: i32) {
    let sent = Command::new("sh")
        .args(["-c", "kill -s \"$0\" \"$1\""])
        .args([signal_name(signal), &pid.to_string()])
        .status()
        .unwrap();
    assert!(sent.success(), "kill -s {} {pid} failed", signal_name(signal));
}

/// The name `kill -s` takes for the signals the tests send.
pub fn signal_name(signal: i32) -> &'static str {
    match signal {
        SIGHUP => "HUP",
        SIGINT => "INT",
        SIGTERM => "TERM",
        _ => panic!("signal {signal} is not one the tests send"),
    }
}

/// Whether this process ignores `signal` (and so passes that on to the processes it starts), from
/// the mask Linux gives in `/proc/self/status`; false elsewhere.
pub fn is_ignored_here(signal: i32) -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let mask = status.lines().find_map(|line| line.strip_prefix("SigIgn:"))?;
            u64::from_str_radix(mask.trim(), 16).ok()
        })
        .is_some_and(|mask| mask >> (signal - 1) & 1 == 1)
}

/// The numbers of the signals the tests send, the same on Linux and macOS.
pub const SIGHUP: i32 = 1;
pub const SIGINT: i32 = 2;
pub const SIGTERM: i32 = 15;

/// Feeds `corpus` a line at a time to `child` until `out` has at least `min_records` records
/// committed, never feeding the last line; returns the still open input and the lines fed.
pub fn feed_until_committed(child: &mut Child, corpus: &[String], out: &Path, min_records: u64) -> (ChildStdin, usize) {
    let mut stdin = child.stdin.take().unwrap();
    // Writes block while the pipe is full, which keeps the feeding in step with the scoring.
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut fed = 0;
    while committed_records(out) < min_records {
        assert!(
            Instant::now() < deadline,
            "{}: {} records committed after {fed} lines fed",
            out.display(),
            committed_records(out)
        );
        if fed + 1 < corpus.len() {
            stdin
                .write_all(corpus[fed].as_bytes())
                .expect("the run reads its input until it is stopped");
            fed += 1;
        } else {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    (stdin, fed)
}

/// The names of the temporary files in `dir` (`.NAME.PID-N.tmp`).
pub fn temporaries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with('.') && name.ends_with(".tmp"))
        .collect()
}
