//! `stance report DIR`: the page is well-formed and holds every chart and the evidence.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use quick_xml::events::Event;
use quick_xml::Reader;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn stance(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_stance"))
        .args(args)
        .output()
        .expect("the binary runs");
    assert!(
        out.status.success(),
        "stance {args:?}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn score(inputs: &[&str], out: &Path) {
    let model = root().join("tests/data/tiny-model");
    let mut args = vec!["score"];
    let inputs: Vec<String> = inputs
        .iter()
        .map(|i| root().join("tests/data/corpus").join(i).display().to_string())
        .collect();
    args.extend(inputs.iter().map(String::as_str));
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

/// What the page holds: elements counted by `tag.class` (and by tag), and section ids.
#[derive(Default, Debug)]
struct Page {
    counts: BTreeMap<String, usize>,
    sections: Vec<String>,
    text: String,
}

/// Parses the page as XML: any unclosed or mismatched element, or bad entity, fails the test.
fn parse(html: &str) -> Page {
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
