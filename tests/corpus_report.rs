//! `stance report DIR`: the page is well-formed and holds every chart and the evidence.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use quick_xml::events::Event;
use quick_xml::Reader;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn run_stance(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_stance"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn stance(args: &[&str]) {
    let out = run_stance(args);
    assert!(
        out.status.success(),
        "stance {args:?}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs a command that must fail, and returns what it said.
fn stance_fails(args: &[&str]) -> String {
    let out = run_stance(args);
    assert!(!out.status.success(), "stance {args:?} must fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn score(inputs: &[&str], out: &Path) {
    let inputs: Vec<PathBuf> = inputs
        .iter()
        .map(|i| root().join("tests/data/corpus").join(i))
        .collect();
    score_paths(&inputs, out);
}

fn score_paths(inputs: &[PathBuf], out: &Path) {
    let model = root().join("tests/data/tiny-model");
    let mut args = vec!["score"];
    args.extend(inputs.iter().map(|i| i.to_str().unwrap()));
    args.extend([
        "--out",
        out.to_str().unwrap(),
        "--quiet",
        "--model",
        model.to_str().unwrap(),
        "--threads",
        "2",
    ]);
    stance(&args);
}

/// Scores `docs` (JSON objects with at least `id` and `text`) into `dir/run`.
fn score_docs(dir: &Path, docs: &[serde_json::Value]) -> PathBuf {
    let input = dir.join("docs.jsonl");
    let lines: Vec<String> = docs.iter().map(ToString::to_string).collect();
    std::fs::write(&input, lines.join("\n")).unwrap();
    let run = dir.join("run");
    score_paths(&[input], &run);
    run
}

/// Writes the report of `run` with `extra` options and parses it.
fn report(run: &Path, extra: &[&str]) -> (String, Page) {
    let mut args = vec!["report", run.to_str().unwrap()];
    args.extend(extra);
    stance(&args);
    let html = std::fs::read_to_string(run.join("report.html")).unwrap();
    let page = parse(&html);
    (html, page)
}

/// What the page holds: elements counted by `tag.class` (and by tag), and section ids.
#[derive(Default, Debug)]
struct Page {
    counts: BTreeMap<String, usize>,
    sections: Vec<String>,
    text: String,
}

/// Parses the page as XML: any unclosed or mismatched element, or bad entity, fails the test.
fn parse(html: &str) -> Page {
    if let Some((at, c)) = html.char_indices().find(|&(_, c)| !xml_allows(c)) {
        panic!(
            "report.html has U+{:04X} at byte {at}, which XML does not allow",
            u32::from(c)
        );
    }
    let mut reader = Reader::from_str(html);
    reader.config_mut().check_end_names = true;
    let mut page = Page::default();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => {
                let tag = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                *page.counts.entry(tag.clone()).or_default() += 1;
                for attr in e.attributes() {
                    let attr = attr.expect("a well-formed attribute");
                    let value = attr.unescape_value().expect("a valid attribute value").into_owned();
                    match attr.key.as_ref() {
                        b"class" => value
                            .split_whitespace()
                            .for_each(|c| *page.counts.entry(format!("{tag}.{c}")).or_default() += 1),
                        b"id" if tag == "section" => page.sections.push(value),
                        b"href" | b"src" => panic!("the page must not load anything: {tag} {value}"),
                        _ => {}
                    }
                }
            }
            Ok(Event::Text(t)) => page.text.push_str(&t.decode().expect("UTF-8 text")),
            Ok(Event::GeneralRef(r)) => {
                // Only XML's own entities (and character references) are allowed: HTML's others break XML tools.
                let name = r.decode().expect("UTF-8 entity").into_owned();
                let c = match name.as_str() {
                    "amp" => '&',
                    "lt" => '<',
                    "gt" => '>',
                    "quot" => '"',
                    "apos" => '\'',
                    _ => r
                        .resolve_char_ref()
                        .ok()
                        .flatten()
                        .unwrap_or_else(|| panic!("entity &{name}; is not XML")),
                };
                page.text.push(c);
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!(
                "report.html is not well-formed at byte {}: {e}",
                reader.buffer_position()
            ),
        }
    }
    page
}

/// XML 1.0's characters, less those it discourages: C1 controls and noncharacters.
fn xml_allows(c: char) -> bool {
    let n = u32::from(c);
    let control = c.is_control() && !matches!(c, '\t' | '\n' | '\r');
    let noncharacter = (0xFDD0..=0xFDEF).contains(&n) || n & 0xFFFE == 0xFFFE;
    !control && !noncharacter
}

#[test]
fn the_report_has_every_chart_and_the_evidence() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    score(&["good/articles", "good/wire.jsonl", "good/opinion.csv"], &run);
    stance(&["report", run.to_str().unwrap()]);
    let html = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    let page = parse(&html);
    let count = |key: &str| page.counts.get(key).copied().unwrap_or(0);
    assert_eq!(
        page.sections,
        ["overview", "distribution", "timeline", "sources", "evidence"]
    );
    assert_eq!(count("svg.chart-distribution"), 1);
    assert_eq!(count("svg.chart-histogram"), 1);
    assert_eq!(
        count("svg.chart-timeline"),
        3,
        "one time series per actor (us, china, india)"
    );
    assert_eq!(count("svg.chart-sources"), 1);
    assert!(count("rect") >= 9, "bars are drawn");
    assert!(
        count("polyline") >= 3 && count("polygon") >= 3,
        "lines and confidence bands are drawn"
    );
    assert!(count("li") >= 6, "evidence sentences are listed");
    assert!(count("mark") >= 6, "mentions are highlighted in the evidence");
    assert!(page.text.contains("Most favorable") && page.text.contains("Most unfavorable"));
    assert!(page.text.contains("random-weight test model"));
}

/// `--out /dev/stdout` with standard output sent to a file (`> page.html`, `> page.txt`) writes
/// the page there, as it does into a pipe.
#[cfg(unix)]
#[test]
fn the_page_goes_to_standard_output_redirected_to_a_file() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    score(&["good/articles"], &run);
    for name in ["page.html", "page.txt"] {
        let page = tmp.path().join(name);
        std::fs::write(&page, "old").unwrap();
        let status = Command::new(env!("CARGO_BIN_EXE_stance"))
            .args(["report", run.to_str().unwrap(), "--out", "/dev/stdout"])
            .stdout(std::fs::File::create(&page).unwrap())
            .status()
            .unwrap();
        assert!(status.success(), "{name}");
        parse(&std::fs::read_to_string(&page).unwrap());
    }
}

#[test]
fn a_run_without_dates_or_sources_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    score(&["good/articles"], &run);
    let out = tmp.path().join("page.html");
    stance(&["report", run.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    let page = parse(&std::fs::read_to_string(out).unwrap());
    assert_eq!(page.counts.get("svg.chart-timeline"), None);
    assert_eq!(page.counts.get("svg.chart-sources"), None);
    assert_eq!(page.counts.get("svg.chart-distribution"), Some(&1));
    assert!(page.text.contains("no time series") && page.text.contains("no comparison"));
}

/// The run's summary.json.
fn summary_of(run: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap()).unwrap()
}

/// Dates that name no month are counted and named by the run and the page, not read as no date.
#[test]
fn dates_that_name_no_month_are_counted_and_said() {
    let tmp = tempfile::tempdir().unwrap();
    let run = score_docs(
        tmp.path(),
        &[
            serde_json::json!({"id": "a", "date": "15/03/2024", "text": "China signed the treaty."}),
            serde_json::json!({"id": "b", "date": "2024-02-30", "text": "China praised the deal."}),
        ],
    );
    let summary = summary_of(&run);
    assert_eq!(summary["dates_without_month"], 2);
    assert_eq!(summary["date_without_month"], "15/03/2024");
    let (_, page) = report(&run, &[]);
    assert!(
        page.text
            .contains("2 document(s) have a date that names no month (e.g. 15/03/2024)")
            && !page.text.contains("No document has a date"),
        "{}",
        page.text
    );
    // Read as RSS feeds write them, they are in a month.
    let rss = tmp.path().join("rss");
    std::fs::create_dir(&rss).unwrap();
    let run = score_docs(
        &rss,
        &[serde_json::json!({"id": "c", "date": "Mon, 02 Sep 2024 10:00:00 +0000", "text": "China spoke."})],
    );
    let summary = summary_of(&run);
    assert_eq!(summary["by_month"]["2024-09"]["documents"], 1);
    assert!(summary.get("dates_without_month").is_none());
}

#[test]
fn a_placeholder_date_does_not_hide_the_later_months() {
    let tmp = tempfile::tempdir().unwrap();
    let run = score_docs(
        tmp.path(),
        &[
            serde_json::json!({"id": "old", "date": "1900-01-01", "text": "China signed the treaty."}),
            serde_json::json!({"id": "new", "date": "2024-05-01", "text": "China praised the deal."}),
            serde_json::json!({"id": "next", "date": "2024-06-03", "text": "China rejected the plan."}),
        ],
    );
    let (_, page) = report(&run, &[]);
    // Each month's point carries its date in a tooltip.
    for month in ["1900-01:", "2024-05:", "2024-06:"] {
        assert!(page.text.contains(month), "{month} is plotted");
    }
    assert!(
        page.text.contains("left out of the axis") && page.text.contains("1900-02 to 2024-04"),
        "the page says which stretch the axis leaves out"
    );
    assert_eq!(page.counts.get("line.gap"), Some(&1), "the gap is marked on the chart");
}

#[test]
fn the_report_never_replaces_a_file_of_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    score(&["good/wire.jsonl"], &run);
    std::fs::write(run.join("notes.txt"), "mine").unwrap();
    let before = |name: &str| std::fs::read(run.join(name)).unwrap();
    let kept: Vec<(&str, Vec<u8>)> = ["summary.json", "sentences.jsonl", "run.json", "notes.txt"]
        .into_iter()
        .map(|name| (name, before(name)))
        .collect();
    let names = [
        "summary.json",
        "sentences.jsonl",
        "./summary.json",
        "stance.lock",
        "summary.csv",
        "sentences.parquet",
        "notes.txt",
    ];
    let outs = names
        .map(|name| run.join(name))
        .into_iter()
        .chain(links_into(&run, tmp.path()));
    for out in outs {
        let err = stance_fails(&["report", run.to_str().unwrap(), "--out", out.to_str().unwrap()]);
        assert!(
            err.contains("refusing to write the report"),
            "--out {}: {err}",
            out.display()
        );
    }
    for (name, bytes) in kept {
        assert_eq!(before(name), bytes, "{name} is unchanged");
    }
    assert!(!run.join("sentences.parquet").exists());
    stance(&[
        "report",
        run.to_str().unwrap(),
        "--out",
        run.join("other.html").to_str().unwrap(),
    ]);
    // Nor a file of another run.
    let other = tmp.path().join("other");
    score(&["good/wire.jsonl"], &other);
    let summary = std::fs::read(other.join("summary.json")).unwrap();
    let target = other.join("summary.json");
    let err = stance_fails(&["report", run.to_str().unwrap(), "--out", target.to_str().unwrap()]);
    assert!(err.contains("refusing to write the report"), "{err}");
    assert_eq!(std::fs::read(&target).unwrap(), summary);
    // Nor any other file that is not a page, such as the corpus; a page is replaced.
    let corpus = tmp.path().join("corpus.jsonl");
    std::fs::write(&corpus, "{\"id\": \"a\", \"text\": \"China\"}\n").unwrap();
    let err = stance_fails(&["report", run.to_str().unwrap(), "--out", corpus.to_str().unwrap()]);
    assert!(err.contains("an existing file that is not an HTML page"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&corpus).unwrap(),
        "{\"id\": \"a\", \"text\": \"China\"}\n"
    );
    let page = tmp.path().join("page.HTML");
    std::fs::write(&page, "old").unwrap();
    stance(&["report", run.to_str().unwrap(), "--out", page.to_str().unwrap()]);
    assert!(std::fs::read_to_string(&page).unwrap().starts_with("<!DOCTYPE html>"));
}

/// Paths in `dir` that reach files of `run` through links: one through a link
/// to the run's directory, one a link to its summary.json.
fn links_into(run: &Path, dir: &Path) -> Vec<PathBuf> {
    #[cfg(unix)]
    {
        let alias = dir.join("alias");
        std::os::unix::fs::symlink(run, &alias).unwrap();
        let link = dir.join("link.json");
        std::os::unix::fs::symlink(run.join("summary.json"), &link).unwrap();
        vec![alias.join("run.json"), link]
    }
    #[cfg(not(unix))]
    {
        let _ = (run, dir);
        Vec::new()
    }
}

#[cfg(unix)]
#[test]
fn the_page_is_written_through_a_temporary_file() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    score(&["good/wire.jsonl"], &run);
    // A link where the page goes is replaced, never written through.
    let elsewhere = tmp.path().join("elsewhere.html");
    std::fs::write(&elsewhere, "mine").unwrap();
    std::os::unix::fs::symlink(&elsewhere, run.join("report.html")).unwrap();
    report(&run, &[]);
    assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "mine");
    let meta = std::fs::symlink_metadata(run.join("report.html")).unwrap();
    assert!(meta.file_type().is_file());
    let names: Vec<String> = std::fs::read_dir(&run)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names.iter().any(|n| n.ends_with(".tmp")),
        "no temporary file is left: {names:?}"
    );
}

#[test]
fn noncharacters_in_the_corpus_keep_the_page_well_formed() {
    let tmp = tempfile::tempdir().unwrap();
    let odd = "\u{FFFF}\u{FFFE}\u{FDD0}\u{1FFFF}\u{7}";
    let run = score_docs(
        tmp.path(),
        &[serde_json::json!({
            "id": format!("doc{odd}"),
            "date": "2024-01-02",
            "source": format!("Wire{odd}"),
            "text": format!("China{odd} signed the treaty. India{odd} objected."),
        })],
    );
    let (html, page) = report(&run, &[]);
    assert!(page.text.contains("China"));
    assert!(html.contains("doc     "), "each is replaced by a space");
}

#[test]
fn long_evidence_is_cut_around_the_mention() {
    let tmp = tempfile::tempdir().unwrap();
    let filler = "word ".repeat(100_000);
    let run = score_docs(
        tmp.path(),
        &[serde_json::json!({"id": "long", "text": format!("{filler}China {filler}")})],
    );
    let sentences = std::fs::read_to_string(run.join("sentences.jsonl")).unwrap();
    assert!(sentences.len() > 1_000_000, "the sentence is scored whole");
    let (html, page) = report(&run, &[]);
    assert!(html.len() < 100_000, "the page is {} bytes", html.len());
    assert!(html.contains("<mark>China</mark> word"), "the mention stays visible");
    assert!(
        page.text.contains("word…") && page.text.contains("…word"),
        "the cuts are marked"
    );
}

/// The evidence lists of the page, in order: (class, [(score, sentence)]), as shown.
fn evidence_lists(html: &str) -> Vec<(String, Vec<(String, String)>)> {
    let evidence = &html[html.find("<section id=\"evidence\">").unwrap()..];
    let mut lists = Vec::new();
    for (at, _) in evidence.match_indices("<div class=\"") {
        let rest = &evidence[at + 12..];
        let class = &rest[..rest.find('"').unwrap()];
        if class != "fav" && class != "unfav" {
            continue;
        }
        let list = &rest[..rest.find("</div>").unwrap()];
        let items = list
            .split("<li>")
            .skip(1)
            .map(|li| {
                let score = li.split("<span class=\"score\">").nth(1).unwrap();
                let (score, sentence) = score.split_once("</span>").unwrap();
                (score.to_owned(), sentence.split("</li>").next().unwrap().to_owned())
            })
            .collect();
        lists.push((class.to_owned(), items));
    }
    lists
}

#[test]
fn a_sentence_is_evidence_for_one_direction_at_most() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    score(&["good/articles", "good/wire.jsonl", "good/opinion.csv"], &run);
    let (html, page) = report(&run, &["--top", "50"]);
    let lists = evidence_lists(&html);
    assert_eq!(lists.len(), 6, "two lists for each of us, china, india");
    let mut shown = std::collections::BTreeSet::new();
    for (class, items) in &lists {
        for (score, sentence) in items {
            // The sign, as shown: a score of -0.004 shows as -0.00.
            let sign = if class == "fav" { '+' } else { '-' };
            assert!(score.starts_with(sign), "{class} evidence scored {score}");
            assert!(shown.insert(sentence.clone()), "listed twice: {sentence}");
        }
    }
    assert!(lists.iter().any(|(class, items)| class == "fav" && !items.is_empty()));
    assert!(lists.iter().any(|(class, items)| class == "unfav" && !items.is_empty()));
    assert!(
        page.text.contains("scored above 0"),
        "the page says what counts as favorable"
    );
}

#[test]
fn max_sources_0_leaves_the_source_chart_out() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    score(&["good/wire.jsonl", "good/opinion.csv"], &run);
    let (_, page) = report(&run, &["--max-sources", "0"]);
    assert_eq!(page.counts.get("svg.chart-sources"), None);
    assert!(page.text.contains("left out (--max-sources 0)"));
    let (_, page) = report(&run, &["--max-sources", "1"]);
    assert_eq!(page.counts.get("svg.chart-sources"), Some(&1));
    assert!(page.text.contains("(1 of "));
    let (_, page) = report(&run, &["--top", "0"]);
    assert_eq!(page.counts.get("li"), None);
    assert!(page.text.contains("left out (--top 0)"));
}

#[test]
fn sentences_cut_short_or_emptied_are_refused_not_reported_in_part() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    score(&["good/wire.jsonl"], &run);
    let sentences = run.join("sentences.jsonl");
    let whole = std::fs::read_to_string(&sentences).unwrap();
    let rows = whole.lines().count();
    assert!(rows > 1);
    // Cut at the end of a line (as a copy stopped short leaves it), and emptied.
    let first_line = format!("{}\n", whole.lines().next().unwrap());
    for (kept, part) in [(1, first_line.as_str()), (0, "")] {
        std::fs::write(&sentences, part).unwrap();
        let err = stance_fails(&["report", run.to_str().unwrap()]);
        assert!(
            err.contains(&format!("holds {kept} rows where"))
                && err.contains(&format!("counts {rows} (sentence, actor) pairs")),
            "{err}"
        );
        assert!(!run.join("report.html").exists());
    }
    // Cut inside its last row: named as such, with the file's line, not serde_json's "line 1".
    let cut = &whole[..whole.trim_end().len() - 20];
    std::fs::write(&sentences, cut).unwrap();
    let err = stance_fails(&["report", run.to_str().unwrap()]);
    assert!(
        err.contains(&format!("sentences.jsonl, line {rows}: the row ends at column"))
            && err.contains("the file is cut short"),
        "{err}"
    );
    assert!(!err.contains("line 1 column"), "{err}");
    // The whole file, its last line without a newline, is reported.
    std::fs::write(&sentences, whole.trim_end()).unwrap();
    report(&run, &[]);
}

#[test]
fn a_run_of_some_shards_only_says_which_are_missing() {
    let tmp = tempfile::tempdir().unwrap();
    let input = root().join("tests/data/corpus/good/wire.jsonl");
    let model = root().join("tests/data/tiny-model");
    let shard = |i: &str| {
        let out = tmp.path().join(format!("shard-{}", &i[..1]));
        let (input, model, out_s) = (input.to_str().unwrap(), model.to_str().unwrap(), out.to_str().unwrap());
        stance(&[
            "score", input, "--out", out_s, "--quiet", "--model", model, "--shard", i,
        ]);
        out
    };
    let (one, two) = (shard("1/3"), shard("2/3"));
    let merged = tmp.path().join("merged");
    let out = run_stance(&[
        "merge",
        one.to_str().unwrap(),
        two.to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("warning: shards 3/3 are missing"), "{stderr}");
    for (run, missing) in [
        (&one, "shards 2/3, 3/3 are not in this run"),
        (&merged, "shards 3/3 are not in this run"),
    ] {
        let (html, _) = report(run, &[]);
        assert!(html.contains(missing), "{missing}: {html}");
    }
    let three = shard("3/3");
    let all = tmp.path().join("all");
    let dirs = [&one, &two, &three].map(|d| d.to_str().unwrap().to_string());
    stance(&["merge", &dirs[0], &dirs[1], &dirs[2], "--out", all.to_str().unwrap()]);
    let (html, _) = report(&all, &[]);
    assert!(!html.contains("are not in this run"), "{html}");
}

#[test]
fn an_unfinished_run_is_named_as_such_with_how_to_finish_it() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    score(&["good/wire.jsonl"], &run);
    // What a run stopped before its end leaves: run.json "running", no summary.json.
    std::fs::remove_file(run.join("summary.json")).unwrap();
    let info = std::fs::read_to_string(run.join("run.json")).unwrap();
    let running = info.replace("\"status\": \"complete\"", "\"status\": \"running\"");
    assert_ne!(running, info);
    std::fs::write(run.join("run.json"), running).unwrap();
    let err = stance_fails(&["report", run.to_str().unwrap()]);
    assert!(
        err.contains("holds a run that has not finished") && err.contains("--resume"),
        "{err}"
    );
    // A directory that is no run is told what to give.
    let err = stance_fails(&["report", tmp.path().to_str().unwrap()]);
    assert!(err.contains("has no summary.json"), "{err}");
    // A path that is no directory is named as such, not as a run without a summary.
    let missing = tmp.path().join("missing");
    let err = stance_fails(&["report", missing.to_str().unwrap()]);
    assert!(err.contains("is not a directory"), "{err}");
}

#[test]
fn a_run_json_that_cannot_be_read_is_named_not_left_off_the_page() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    score(&["good/wire.jsonl"], &run);
    let (html, _) = report(&run, &[]);
    assert!(html.contains("random-weight test model"), "{html}");
    std::fs::remove_file(run.join("report.html")).unwrap();
    let run_json = run.join("run.json");
    std::fs::write(&run_json, "x\n").unwrap();
    let err = stance_fails(&["report", run.to_str().unwrap()]);
    assert!(
        err.starts_with(&format!("error: {}, line 1: invalid run.json", run_json.display())),
        "{err}"
    );
    // A directory of a run without its run.json is named too, not drawn without the model.
    std::fs::remove_file(&run_json).unwrap();
    let err = stance_fails(&["report", run.to_str().unwrap()]);
    assert!(err.contains("has summary.json but no run.json"), "{err}");
    assert!(!run.join("report.html").exists(), "no page is written");
}

#[test]
fn an_out_that_cannot_be_written_is_named_before_the_run_is_read() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    score(&["good/wire.jsonl"], &run);
    // A sentences.jsonl that cannot be read: an --out that cannot be written is told first.
    std::fs::write(run.join("sentences.jsonl"), "{oops\n").unwrap();
    let out = tmp.path().join("no-such-dir").join("page.html");
    let err = stance_fails(&["report", run.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(
        err.starts_with(&format!("error: cannot write the report to {}", out.display())),
        "{err}"
    );
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        1,
        "only the run is left"
    );
}

/// The overview table's cells of one actor, after its name.
fn overview_row(html: &str, actor: &str) -> Vec<String> {
    let table = &html[html.find("id=\"overview\"").unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    let start = table.find(&format!("<tr><td>{actor}</td>")).unwrap();
    let row = &table[start..];
    let row = &row[..row.find("</tr>").unwrap()];
    row.split("<td>")
        .skip(2)
        .map(|cell| cell.trim_end_matches("</td>").to_string())
        .collect()
}

#[test]
fn an_actor_without_sentences_or_with_one_has_no_mean_or_interval_shown_as_zero() {
    let tmp = tempfile::tempdir().unwrap();
    let run = score_docs(
        tmp.path(),
        &[
            serde_json::json!({"id": "a", "text": "China opened a port. China paid for it. The US watched."}),
            serde_json::json!({"id": "b", "text": "China spoke."}),
        ],
    );
    let (html, _) = report(&run, &[]);
    // india: never mentioned; us: one sentence; china: three.
    assert_eq!(overview_row(&html, "india"), ["0", "0", "–", "–", "–", "–", "–", "–"]);
    let us = overview_row(&html, "us");
    assert_eq!(
        (&us[..2], &us[3..5]),
        (
            &["1".to_string(), "1".to_string()][..],
            &["–".to_string(), "–".to_string()][..]
        ),
        "{us:?}"
    );
    assert!(us[2].starts_with(['+', '-']) && us[5].ends_with('%'), "{us:?}");
    let china = overview_row(&html, "china");
    assert!(
        china[3].starts_with('[') && !china.contains(&"–".to_string()),
        "{china:?}"
    );
}

/// The `<svg class="chart CLASS">` element of `html`.
fn chart<'a>(html: &'a str, class: &str) -> &'a str {
    let svg = &html[html.find(&format!("class=\"chart {class}\"")).unwrap()..];
    &svg[..svg.find("</svg>").unwrap()]
}

#[test]
fn a_month_or_source_with_one_sentence_of_an_actor_gets_a_point_but_no_whisker() {
    let tmp = tempfile::tempdir().unwrap();
    let run = score_docs(
        tmp.path(),
        &[
            serde_json::json!({"id": "a", "text": "China opened a port. China paid for it.", "date": "2024-01-05", "source": "A"}),
            serde_json::json!({"id": "b", "text": "China spoke.", "date": "2024-02-05", "source": "B"}),
        ],
    );
    let (html, _) = report(&run, &[]);
    // china: two sentences in January and in source A, one in February and in source B;
    // the other actors none, so they get no point either.
    for class in ["chart-timeline", "chart-sources"] {
        let svg = chart(&html, class);
        assert_eq!(svg.matches("<circle").count(), 2, "{class}: {svg}");
        assert_eq!(
            svg.matches("<line x1=").count(),
            1,
            "{class}: one whisker, for two sentences: {svg}"
        );
    }
    // The timeline's band covers January alone: its polygon has January's two corners only.
    let timeline = chart(&html, "chart-timeline");
    let band = &timeline[timeline.find("<polygon points=\"").unwrap() + "<polygon points=\"".len()..];
    let band = &band[..band.find('"').unwrap()];
    assert_eq!(band.split_whitespace().count(), 2, "{timeline}");
}
