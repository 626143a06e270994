//! `stance report DIR`: one self-contained HTML file with inline SVG charts.
//!
//! The page is written as well-formed XHTML-compatible HTML (every element
//! closed, only XML entities) so that any XML parser can check it, and it
//! needs nothing from the network: no scripts, fonts or stylesheets. Text
//! from the corpus is escaped, and characters XML forbids or discourages
//! (controls, noncharacters such as U+FFFF) become spaces.
//!
//! The page is written through a temporary file renamed into place, and never
//! over one of the run's own files (see [`check_out`]).

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use stance::corpus::output::{create_temporary, is_run_file, is_written_in_place, SENTENCES, SUMMARY_JSON};
use stance::corpus::{is_run_dir, write_atomic, DirLock, RunInfo, RunStatus, SentenceRow, Slice, Summary};
use stance::ActorStats;

use crate::text::figure;

#[derive(Args)]
pub struct ReportArgs {
    /// Output directory of `stance score --out` or `stance merge`.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// Where to write the page (default: DIR/report.html).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Evidence sentences per actor and direction; 0 leaves the evidence out.
    #[arg(long, value_name = "N", default_value_t = 5, allow_negative_numbers = true)]
    top: usize,
    /// Sources shown in the per-source chart (those with the most sentences); 0 leaves the chart out.
    #[arg(long, value_name = "N", default_value_t = 15, allow_negative_numbers = true)]
    max_sources: usize,
}

pub fn run(args: &ReportArgs) -> Result<ExitCode> {
    anyhow::ensure!(
        args.dir.is_dir(),
        "{} is not a directory: give one written by `stance score --out` or `stance merge`",
        args.dir.display()
    );
    let summary_path = args.dir.join(SUMMARY_JSON);
    let info = run_info(&args.dir)?;
    let running = info.as_ref().is_some_and(|info| info.status == RunStatus::Running);
    if let Some(holder) = DirLock::holder(&args.dir).filter(|_| running) {
        anyhow::bail!(
            "{} is still being written by another process ({holder}): report it when that has finished",
            args.dir.display()
        );
    }
    anyhow::ensure!(
        !info.as_ref().is_some_and(|info| info.is_unfinished_merge(&args.dir)),
        "{} holds a merge that did not finish (it was stopped): run the same `stance merge` again, then report it",
        args.dir.display()
    );
    anyhow::ensure!(
        summary_path.is_file() || !running,
        "{} holds a run that has not finished (run.json says \"running\"; summary.json is written at its end): \
         if it is no longer scoring, continue it with the same `stance score` command and --resume, then report it",
        args.dir.display()
    );
    anyhow::ensure!(
        summary_path.is_file(),
        "{} has no summary.json: give a directory written by `stance score --out` or `stance merge` \
         (a run still scoring writes it at the end)",
        args.dir.display()
    );
    let out = args.out.clone().unwrap_or_else(|| args.dir.join("report.html"));
    check_out(&args.dir, &out)?;
    check_writable(&out)?;
    let _lock = lock(args)?;
    let summary: Summary = read_json(&args.dir.join(SUMMARY_JSON))?;
    let Some(info) = run_info(&args.dir)? else {
        anyhow::bail!(
            "{} has summary.json but no run.json, which names the model that scored the run (and says when its \
             stances mean nothing): report the directory as `stance score --out` or `stance merge` wrote it, \
             run.json included",
            args.dir.display()
        );
    };
    let scan = Scan::read(&args.dir.join(SENTENCES), args.top)?;
    // summary.json counts the rows of sentences.jsonl: a page drawn from fewer
    // (a file cut short at a line's end, emptied, or from another run) would
    // show the summary's numbers beside evidence and histograms of a part.
    anyhow::ensure!(
        scan.rows == summary.pairs,
        "{} holds {} rows where {} counts {} (sentence, actor) pairs: the two are not of one finished run \
         (sentences.jsonl cut short or replaced?); score the corpus again",
        args.dir.join(SENTENCES).display(),
        scan.rows,
        summary_path.display(),
        summary.pairs
    );
    let html = render(&args.dir, &summary, &info, &scan, args);
    write_atomic(&out, html.as_bytes()).with_context(|| format!("cannot write the report to {}", out.display()))?;
    note!("wrote {}", out.display());
    Ok(ExitCode::SUCCESS)
}

/// Refuses to write the page over a file of the run, or of another run: one a run writes, or
/// any other existing file that is not an HTML page (notes, an actor file,
/// the corpus). Paths are compared resolved, so `DIR/./summary.json`, a link to DIR
/// and a link to one of its files are all caught.
fn check_out(dir: &Path, out: &Path) -> Result<()> {
    anyhow::ensure!(
        !out.is_dir(),
        "cannot write the report to {}: it is a directory; give a file, such as {}",
        out.display(),
        out.join("report.html").display()
    );
    let run_dir = dir
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", dir.display()))?;
    // `--out /dev/stdout` is written into, wherever the shell sent standard output: to a file
    // the shell has already opened (and emptied) for it, `> page.html` or not.
    let redirected = is_written_in_place(out);
    for target in resolved(out) {
        let name = target.file_name().and_then(OsStr::to_str).unwrap_or_default();
        let in_this_run = target.parent() == Some(run_dir.as_path());
        let in_a_run = in_this_run || target.parent().is_some_and(is_run_dir);
        let what = if in_a_run && is_run_file(name) {
            format!("the run's own {name}")
        } else if in_this_run && target.exists() && !is_html(&target) {
            format!("{name}, a file in the run's directory that is not an HTML page")
        } else if target.is_file() && !is_html(&target) && !redirected {
            // A mistyped --out (the corpus, an actor file) is never replaced by the page;
            // a device or FIFO (/dev/stdout) is no file and is written into.
            format!("{}, an existing file that is not an HTML page", target.display())
        } else {
            continue;
        };
        anyhow::bail!(
            "refusing to write the report to {}: it is {what}, which the page would replace; \
             give --out another file (default: {})",
            out.display(),
            dir.join("report.html").display()
        );
    }
    Ok(())
}

/// Shows, before sentences.jsonl is read (minutes, on a large corpus), that
/// the page can be written: by making and removing the temporary file it will
/// be written through. A device or FIFO (`/dev/stdout`) is written into, and
/// not opened before.
fn check_writable(out: &Path) -> Result<()> {
    if is_written_in_place(out) {
        return Ok(());
    }
    let (temporary, file) =
        create_temporary(out).with_context(|| format!("cannot write the report to {}", out.display()))?;
    drop(file);
    std::fs::remove_file(&temporary).with_context(|| format!("cannot remove {}", temporary.display()))
}

/// The files `out` names: itself with its directory resolved (what is
/// replaced), and, when it is a link, the file it points to.
fn resolved(out: &Path) -> Vec<PathBuf> {
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut paths = Vec::new();
    if let (Ok(parent), Some(name)) = (parent.canonicalize(), out.file_name()) {
        paths.push(parent.join(name));
    }
    paths.extend(out.canonicalize().ok());
    paths
}

fn is_html(path: &Path) -> bool {
    path.extension()
        .and_then(OsStr::to_str)
        .is_some_and(|e| e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm"))
}

/// Holds DIR's lock while reading and writing, so that a run still being
/// scored or merged into it is refused rather than reported half-written. A
/// read-only DIR can still be reported elsewhere (`--out`): nothing can be
/// written into it then.
fn lock(args: &ReportArgs) -> Result<Option<DirLock>> {
    match DirLock::acquire(&args.dir, "stance report") {
        Ok(lock) => Ok(Some(lock)),
        Err(stance::Error::Io { source, .. })
            if args.out.is_some()
                && matches!(
                    source.kind(),
                    std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem
                ) =>
        {
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// DIR's `run.json`, or `None` where there is none (a directory that holds no run). One that
/// exists but cannot be read or is no run.json is an error naming it: the page would otherwise
/// lose, unsaid, the model's name and the warning that a random-weight model's stances mean nothing.
fn run_info(dir: &Path) -> Result<Option<RunInfo>> {
    match RunInfo::load(dir) {
        Ok(info) => Ok(Some(info)),
        Err(stance::Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("{} is not a stance summary", path.display()))
}

const HIST_BINS: usize = 20;

/// What the report needs from `sentences.jsonl`, gathered in one streaming pass.
#[derive(Default)]
struct Scan {
    /// Per actor: the most favorable rows (score above 0), best first.
    favorable: BTreeMap<String, Vec<SentenceRow>>,
    /// Per actor: the most unfavorable rows (score below 0), worst first.
    unfavorable: BTreeMap<String, Vec<SentenceRow>>,
    histogram: BTreeMap<String, [u64; HIST_BINS]>,
    /// Rows read.
    rows: u64,
}

impl Scan {
    fn read(path: &Path, top: usize) -> Result<Scan> {
        let file = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
        let mut scan = Scan::default();
        for (i, line) in BufReader::new(file).lines().enumerate() {
            let line = line.with_context(|| format!("{}, line {}", path.display(), i + 1))?;
            if line.trim().is_empty() {
                continue;
            }
            let row: SentenceRow = serde_json::from_str(&line).map_err(|e| row_error(path, i + 1, &e))?;
            scan.add(row, top);
        }
        Ok(scan)
    }

    fn add(&mut self, row: SentenceRow, top: usize) {
        self.rows += 1;
        let bin = (((row.score + 1.0) / 2.0 * HIST_BINS as f32) as usize).min(HIST_BINS - 1);
        self.histogram.entry(row.actor.clone()).or_insert([0; HIST_BINS])[bin] += 1;
        // A list holds only sentences that lean its way, so none is in both
        // and a sentence is never shown as "favorable" for lack of better ones.
        // Ties are broken by document id and sentence, not by row order, so that the evidence
        // is the same on every run and for shards merged in any order.
        let place = |r: &SentenceRow| (r.document_id.clone(), r.sentence_index);
        if row.score > 0.0 {
            let rows = self.favorable.entry(row.actor.clone()).or_default();
            keep_top(rows, row, top, |a, b| {
                b.score.total_cmp(&a.score).then_with(|| place(a).cmp(&place(b)))
            });
        } else if row.score < 0.0 {
            let rows = self.unfavorable.entry(row.actor.clone()).or_default();
            keep_top(rows, row, top, |a, b| {
                a.score.total_cmp(&b.score).then_with(|| place(a).cmp(&place(b)))
            });
        }
    }

    /// The sentences that mention `actor`.
    fn sentences(&self, actor: &str) -> u64 {
        self.histogram.get(actor).map_or(0, |bins| bins.iter().sum())
    }
}

/// Why line `line` of sentences.jsonl is no row: serde_json's reason, placed
/// by column (its own "line 1" is the one line it was given), and for a row
/// the file ends inside, that the file is cut short.
fn row_error(path: &Path, line: usize, e: &serde_json::Error) -> anyhow::Error {
    let reason = e.to_string();
    let reason = reason.split(" at line ").next().unwrap_or(&reason);
    if e.is_eof() {
        anyhow::anyhow!(
            "{}, line {line}: the row ends at column {} before it is complete ({reason}): the file is cut short; \
             score the corpus again",
            path.display(),
            e.column()
        )
    } else {
        anyhow::anyhow!(
            "{}, line {line}: not a row of sentences.jsonl, at column {}: {reason}",
            path.display(),
            e.column()
        )
    }
}

/// Keeps the `top` first rows of `rows` in `order`; a later row wins no tie.
fn keep_top(
    rows: &mut Vec<SentenceRow>,
    row: SentenceRow,
    top: usize,
    order: impl Fn(&SentenceRow, &SentenceRow) -> std::cmp::Ordering,
) {
    if rows.len() == top && rows.last().is_none_or(|last| order(&row, last).is_ge()) {
        return;
    }
    let at = rows.partition_point(|r| order(r, &row).is_le());
    rows.insert(at, row);
    rows.truncate(top);
}

const UNFAVORABLE: &str = "#c0392b";
const NEUTRAL: &str = "#a0a4a8";
const FAVORABLE: &str = "#2471a3";
/// Actor colors (ColorBrewer Dark2): none is the red or blue of the labels.
const PALETTE: [&str; 8] = [
    "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666",
];

fn actor_color(index: usize) -> &'static str {
    PALETTE[index % PALETTE.len()]
}

fn render(dir: &Path, summary: &Summary, info: &RunInfo, scan: &Scan, args: &ReportArgs) -> String {
    let actors: Vec<&String> = summary.actors.keys().collect();
    let mut html = String::with_capacity(64 * 1024);
    html.push_str("<!DOCTYPE html>\n<html lang=\"en\" xmlns=\"http://www.w3.org/1999/xhtml\">\n<head>\n");
    html.push_str(
        "<meta charset=\"utf-8\"/>\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n",
    );
    let _ = writeln!(
        html,
        "<title>stance report: {}</title>\n<style>{CSS}</style>\n</head>\n<body>",
        esc(&dir.display().to_string())
    );
    header(&mut html, dir, summary, info);
    overview(&mut html, summary);
    let _ = write!(html, "<section id=\"distribution\"><h2>Stance distribution</h2>");
    html.push_str("<p class=\"note\">Share of each label among the sentences that mention the actor.</p>");
    html.push_str(&distribution_chart(summary));
    html.push_str("<p class=\"note\">Scores (P(favorable) − P(unfavorable)) of those sentences, from −1 to +1.</p>");
    html.push_str(&histogram_chart(&actors, scan));
    html.push_str("</section>\n");
    timeline(&mut html, &actors, summary);
    sources(&mut html, &actors, &summary.by_source, args.max_sources);
    evidence(&mut html, &actors, scan, args.top);
    html.push_str("</body>\n</html>\n");
    html
}

const CSS: &str = "
body { font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; margin: 24px auto; max-width: 1100px; color: #222; padding: 0 16px; }
h1 { font-size: 26px; margin-bottom: 4px; } h2 { font-size: 20px; border-bottom: 1px solid #ddd; padding-bottom: 4px; margin-top: 32px; }
h3 { font-size: 16px; margin: 18px 0 6px; }
.meta { color: #555; font-size: 14px; } .note { color: #666; font-size: 13px; margin: 6px 0; }
.warning { background: #fff3cd; border: 1px solid #e0c060; padding: 8px 12px; border-radius: 4px; font-size: 14px; }
table { border-collapse: collapse; font-size: 14px; } th, td { padding: 4px 10px; text-align: right; border-bottom: 1px solid #eee; }
th:first-child, td:first-child { text-align: left; }
svg.chart { display: block; margin: 8px 0 16px; font-size: 12px; }
svg text { fill: #333; } .axis { stroke: #999; stroke-width: 1; } .grid { stroke: #e6e6e6; stroke-width: 1; }
.gap { stroke: #888; stroke-width: 1; stroke-dasharray: 4 3; }
.evidence { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.evidence ol { padding-left: 22px; margin: 4px 0; font-size: 14px; } .evidence li { margin-bottom: 8px; }
.score { font-weight: 600; font-variant-numeric: tabular-nums; } .doc { color: #777; font-size: 12px; }
.fav .score { color: #2471a3; } .unfav .score { color: #c0392b; }
mark { background: #fde68a; padding: 0 1px; }
";

fn header(html: &mut String, dir: &Path, summary: &Summary, info: &RunInfo) {
    html.push_str("<header><h1>How the corpus portrays each actor</h1>");
    let _ = write!(
        html,
        "<p class=\"meta\">{} · {} documents scored, {} failed · {} sentences · {} sentence–actor pairs",
        esc(&dir.display().to_string()),
        summary.documents,
        summary.failed,
        summary.sentences,
        summary.pairs
    );
    if let Some(analyzer) = &info.analyzer {
        let _ = write!(
            html,
            " · model {} on {}",
            esc(&analyzer.model),
            esc(&analyzer.device.to_string())
        );
    }
    if !info.shards.is_empty() {
        let shards: Vec<String> = info.shards.iter().map(ToString::to_string).collect();
        let _ = write!(html, " · shards {}", esc(&shards.join(", ")));
    }
    html.push_str("</p>");
    let model = info.analyzer.as_ref().map_or("", |a| a.model.as_str());
    let missing = info.missing_shards();
    if !missing.is_empty() {
        let _ = write!(
            html,
            "<p class=\"warning\">Part of the corpus: shards {} are not in this run, so every number and \
             chart here is of the shards it holds only. Merge every shard's run with <code>stance merge</code> \
             and report that.</p>",
            esc(&missing.join(", "))
        );
    }
    if crate::is_random_weight_model(model) {
        html.push_str("<p class=\"warning\">This run used a random-weight test model: its stances mean nothing.</p>");
    }
    html.push_str("</header>\n");
}

fn overview(html: &mut String, summary: &Summary) {
    html.push_str("<section id=\"overview\"><h2>Overview</h2><table><thead><tr><th>actor</th><th>sentences</th><th>documents</th>");
    html.push_str("<th>mean score</th><th>95% CI</th><th>std</th><th>unfavorable</th><th>neutral</th><th>favorable</th></tr></thead><tbody>");
    for (actor, s) in &summary.actors {
        let n = s.sentences();
        let (lo, hi) = s.ci95();
        let mean = figure(s.has_mean(), || format!("{:+.3}", s.mean()));
        let ci = figure(s.has_spread(), || format!("[{lo:+.3}, {hi:+.3}]"));
        let std = figure(s.has_spread(), || format!("{:.3}", s.std_dev()));
        let shares = s
            .label_shares()
            .map(|share| figure(s.has_mean(), || format!("{:.0}%", share * 100.0)));
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{n}</td><td>{}</td><td>{mean}</td><td>{ci}</td><td>{std}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(actor),
            s.documents(),
            shares[0],
            shares[1],
            shares[2]
        );
    }
    html.push_str("</tbody></table></section>\n");
}

/// Stacked horizontal bars of label shares, one per actor.
fn distribution_chart(summary: &Summary) -> String {
    let (left, width, row) = (110.0, 720.0, 34.0);
    let height = 40.0 + row * summary.actors.len() as f64;
    let mut svg = svg_open("chart chart-distribution", 960.0, height, "Label shares per actor");
    legend(
        &mut svg,
        left,
        14.0,
        &[
            ("unfavorable", UNFAVORABLE),
            ("neutral", NEUTRAL),
            ("favorable", FAVORABLE),
        ],
    );
    for (i, (actor, s)) in summary.actors.iter().enumerate() {
        let y = 30.0 + row * i as f64;
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            left - 8.0,
            y + 16.0,
            esc(actor)
        );
        let mut x = left;
        let colors = [UNFAVORABLE, NEUTRAL, FAVORABLE];
        for (share, color) in s.label_shares().into_iter().zip(colors) {
            let w = share * width;
            let _ = write!(
                svg,
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"22\" fill=\"{color}\"/>"
            );
            if w >= 34.0 {
                let _ = write!(
                    svg,
                    "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" style=\"fill:#fff\">{:.0}%</text>",
                    x + w / 2.0,
                    y + 15.5,
                    share * 100.0
                );
            }
            x += w;
        }
        if s.sentences() == 0 {
            let _ = write!(
                svg,
                "<rect x=\"{left}\" y=\"{y:.1}\" width=\"{width}\" height=\"22\" fill=\"#f3f3f3\"/>"
            );
        }
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\">n = {}</text>",
            left + width + 8.0,
            y + 16.0,
            s.sentences()
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Small multiples: the distribution of scores for each actor.
fn histogram_chart(actors: &[&String], scan: &Scan) -> String {
    let (panel_w, panel_h, per_row) = (300.0, 150.0, 3usize);
    let rows = actors.len().div_ceil(per_row).max(1);
    let mut svg = svg_open(
        "chart chart-histogram",
        960.0,
        rows as f64 * (panel_h + 20.0),
        "Score histograms per actor",
    );
    for (i, actor) in actors.iter().enumerate() {
        let (x0, y0) = (
            (i % per_row) as f64 * (panel_w + 20.0),
            (i / per_row) as f64 * (panel_h + 20.0),
        );
        let bins = scan.histogram.get(*actor).copied().unwrap_or([0; HIST_BINS]);
        let max = bins.iter().copied().max().unwrap_or(0).max(1) as f64;
        let (plot_h, bar_w) = (panel_h - 44.0, (panel_w - 20.0) / HIST_BINS as f64);
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-weight=\"600\">{}</text>",
            x0 + 10.0,
            y0 + 14.0,
            esc(actor)
        );
        for (b, &count) in bins.iter().enumerate() {
            let h = count as f64 / max * plot_h;
            let center = -1.0 + (b as f64 + 0.5) * 2.0 / HIST_BINS as f64;
            let color = if center < -0.1 {
                UNFAVORABLE
            } else if center > 0.1 {
                FAVORABLE
            } else {
                NEUTRAL
            };
            let (x, y) = (x0 + 10.0 + b as f64 * bar_w, y0 + 22.0 + plot_h - h);
            let _ = write!(svg, "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{h:.1}\" fill=\"{color}\"><title>{count}</title></rect>", bar_w - 1.0);
        }
        let base = y0 + 22.0 + plot_h;
        let _ = write!(
            svg,
            "<line class=\"axis\" x1=\"{:.1}\" y1=\"{base:.1}\" x2=\"{:.1}\" y2=\"{base:.1}\"/>",
            x0 + 10.0,
            x0 + panel_w - 10.0
        );
        for (label, frac) in [("−1", 0.0), ("0", 0.5), ("+1", 1.0)] {
            let x = x0 + 10.0 + frac * (panel_w - 20.0);
            let _ = write!(
                svg,
                "<text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{label}</text>",
                base + 14.0
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

fn timeline(html: &mut String, actors: &[&String], summary: &Summary) {
    let by_month = &summary.by_month;
    html.push_str("<section id=\"timeline\"><h2>Mean score over time</h2>");
    // Documents dated in a way that names no month are in no slot: say so, not "no date".
    let undated_note = summary.date_without_month.as_ref().map(|first| {
        format!(
            "<p class=\"note\">{} document(s) have a date that names no month (e.g. {}) and are not in the \
             time series: write dates as YYYY-MM-DD.</p>",
            summary.dates_without_month,
            esc(first)
        )
    });
    if by_month.is_empty() {
        if undated_note.is_none() {
            html.push_str("<p class=\"note\">No document has a date (YYYY-MM...), so there is no time series.</p>");
        }
        html.push_str(undated_note.as_deref().unwrap_or_default());
        html.push_str("</section>\n");
        return;
    }
    html.push_str(undated_note.as_deref().unwrap_or_default());
    let axis = time_axis(by_month);
    timeline_notes(html, &axis);
    for (i, actor) in actors.iter().enumerate() {
        let points: Vec<Option<&ActorStats>> = axis.slots.iter().map(|slot| slot.stats(actor)).collect();
        if points.iter().all(Option::is_none) {
            continue;
        }
        let _ = write!(html, "<h3>{}</h3>", esc(actor));
        html.push_str(&timeline_chart(actor, &axis, &points, actor_color(i)));
    }
    html.push_str("</section>\n");
}

/// What the timeline's reader must know about its axis: the unit, the
/// stretches left out, and any month of the summary that could not be drawn.
fn timeline_notes(html: &mut String, axis: &TimeAxis) {
    let _ = write!(
        html,
        "<p class=\"note\">{} mean score per actor; the band is its 95% confidence interval (clustered by document, clipped to the chart).</p>",
        axis.unit.adjective()
    );
    if axis.unit == Unit::Year {
        let _ = write!(
            html,
            "<p class=\"note\">The documents span too many months to draw one by one (more than {MAX_MONTHLY_SLOTS}), so each point is a year.</p>"
        );
    }
    let gaps: Vec<String> = axis
        .slots
        .iter()
        .filter_map(|slot| match slot {
            Slot::Gap { from, to } => Some(format!("{from} to {to}")),
            Slot::Period { .. } => None,
        })
        .collect();
    if !gaps.is_empty() {
        let _ = write!(
            html,
            "<p class=\"note\">Stretches of more than {} {}s without a dated document are left out of the axis, each marked by a dashed line: {}. An isolated early date is often a placeholder (1900-01-01, 1970-01-01).</p>",
            axis.unit.max_gap(),
            axis.unit.name(),
            esc(&gaps.join("; "))
        );
    }
    if !axis.unplaced.is_empty() {
        let names: Vec<String> = axis.unplaced.iter().map(|m| shorten(m, 40)).collect();
        let _ = write!(
            html,
            "<p class=\"warning\">summary.json has {} month(s) that are not YYYY-MM and are not drawn: {}.</p>",
            names.len(),
            esc(&names.join(", "))
        );
    }
}

/// Most places on a monthly axis (30 years): beyond that a month would be
/// under 3 px wide, and the axis counts years instead.
const MAX_MONTHLY_SLOTS: usize = 360;

/// A place on the time axis.
enum Slot {
    /// A month or a year, with its per-actor statistics (none when no document has that date).
    Period {
        label: String,
        actors: BTreeMap<String, ActorStats>,
    },
    /// A long stretch without data, left out of the axis: its first and last period.
    Gap { from: String, to: String },
}

impl Slot {
    fn stats(&self, actor: &str) -> Option<&ActorStats> {
        match self {
            Slot::Period { actors, .. } => actors.get(actor).filter(|s| s.sentences() > 0),
            Slot::Gap { .. } => None,
        }
    }

    fn label(&self) -> &str {
        match self {
            Slot::Period { label, .. } => label,
            Slot::Gap { .. } => "",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Unit {
    Month,
    Year,
}

impl Unit {
    fn name(self) -> &'static str {
        match self {
            Unit::Month => "month",
            Unit::Year => "year",
        }
    }

    fn adjective(self) -> &'static str {
        match self {
            Unit::Month => "Monthly",
            Unit::Year => "Yearly",
        }
    }

    /// Longest empty stretch drawn to scale; a longer one is cut out and
    /// marked, so that one placeholder date (1900-01-01) does not squeeze
    /// years of real data into a corner of the chart.
    fn max_gap(self) -> i64 {
        match self {
            Unit::Month => 24,
            Unit::Year => 10,
        }
    }
}

/// The time axis: every month (or year) that has data, in order.
struct TimeAxis {
    unit: Unit,
    slots: Vec<Slot>,
    /// Keys of `by_month` that name no month (a summary edited by hand).
    unplaced: Vec<String>,
}

/// Months from the first to the last with data, long empty stretches cut
/// out; years instead when that is still too many months to draw.
fn time_axis(by_month: &BTreeMap<String, Slice>) -> TimeAxis {
    let mut months = BTreeMap::new();
    let mut unplaced = Vec::new();
    for (key, slice) in by_month {
        match month_number(key) {
            Some(n) => {
                months.insert(n, slice.actors.clone());
            }
            None => unplaced.push(key.clone()),
        }
    }
    let slots = axis_slots(&months, Unit::Month.max_gap(), |n| {
        format!("{:04}-{:02}", n.div_euclid(12), n.rem_euclid(12) + 1)
    });
    if slots.len() <= MAX_MONTHLY_SLOTS {
        return TimeAxis {
            unit: Unit::Month,
            slots,
            unplaced,
        };
    }
    let mut years: BTreeMap<i64, BTreeMap<String, ActorStats>> = BTreeMap::new();
    for (n, actors) in months {
        let year = years.entry(n.div_euclid(12)).or_default();
        for (actor, stats) in actors {
            year.entry(actor).or_default().merge(&stats);
        }
    }
    TimeAxis {
        unit: Unit::Year,
        slots: axis_slots(&years, Unit::Year.max_gap(), |y| format!("{y:04}")),
        unplaced,
    }
}

/// `YYYY-MM` as a count of months since year 0.
fn month_number(key: &str) -> Option<i64> {
    let (year, month) = key.split_once('-')?;
    let valid = year.len() == 4 && month.len() == 2 && key.bytes().filter(u8::is_ascii_digit).count() == 6;
    let (year, month): (i64, i64) = (year.parse().ok()?, month.parse().ok()?);
    (valid && (1..=12).contains(&month)).then_some(year * 12 + month - 1)
}

/// One slot per period with data, the empty periods between two of them
/// (so that short gaps show as gaps), or one `Gap` for more than `max_gap`.
fn axis_slots(
    periods: &BTreeMap<i64, BTreeMap<String, ActorStats>>,
    max_gap: i64,
    label: impl Fn(i64) -> String,
) -> Vec<Slot> {
    let empty = |n: i64| Slot::Period {
        label: label(n),
        actors: BTreeMap::new(),
    };
    let mut slots = Vec::new();
    let mut previous: Option<i64> = None;
    for (&n, actors) in periods {
        if let Some(p) = previous {
            if n - p - 1 > max_gap {
                slots.push(Slot::Gap {
                    from: label(p + 1),
                    to: label(n - 1),
                });
            } else {
                slots.extend((p + 1..n).map(empty));
            }
        }
        slots.push(Slot::Period {
            label: label(n),
            actors: actors.clone(),
        });
        previous = Some(n);
    }
    slots
}

/// The y range of a chart: the data's means and intervals, within [-1, 1], always showing 0.
fn y_domain<'a>(stats: impl Iterator<Item = &'a ActorStats>) -> (f64, f64) {
    let (mut lo, mut hi) = (0.0f64, 0.0f64);
    for s in stats {
        let (l, h) = s.ci95();
        lo = lo.min(l.max(-1.0)).min(s.mean());
        hi = hi.max(h.min(1.0)).max(s.mean());
    }
    let pad = ((hi - lo) * 0.08).max(0.05);
    let lo = (((lo - pad) * 10.0).floor() / 10.0).max(-1.0);
    let hi = (((hi + pad) * 10.0).ceil() / 10.0).min(1.0);
    (lo, hi)
}

fn timeline_chart(actor: &str, axis: &TimeAxis, points: &[Option<&ActorStats>], color: &str) -> String {
    let (left, top, w, h) = (60.0, 10.0, 860.0, 180.0);
    let slots = &axis.slots;
    let (lo, hi) = y_domain(points.iter().flatten().copied());
    // Inset by 12 px so that the first and last points clear the axes.
    let x = |i: usize| {
        left + 12.0
            + if slots.len() > 1 {
                i as f64 * (w - 24.0) / (slots.len() - 1) as f64
            } else {
                w / 2.0 - 12.0
            }
    };
    let y = |v: f64| top + (hi - v.clamp(lo, hi)) / (hi - lo) * h;
    let mut svg = svg_open(
        "chart chart-timeline",
        960.0,
        h + 50.0,
        &format!("{} mean score for {actor}", axis.unit.adjective()),
    );
    y_axis(&mut svg, left, w, lo, hi, &y);
    for (i, slot) in slots.iter().enumerate() {
        if let Slot::Gap { from, to } = slot {
            let _ = write!(
                svg,
                "<line class=\"gap\" x1=\"{0:.1}\" y1=\"{top}\" x2=\"{0:.1}\" y2=\"{1:.1}\"><title>no dated document from {2} to {3}</title></line>",
                x(i),
                top + h,
                esc(from),
                esc(to)
            );
        }
    }
    // The band spans runs of months with an interval: a month of one sentence has none, so
    // the band stops there rather than narrowing to nothing (which would read as certain).
    let intervals: Vec<Option<&ActorStats>> = points.iter().map(|p| p.filter(|s| s.has_spread())).collect();
    for segment in segments(&intervals) {
        let upper: Vec<String> = segment
            .iter()
            .map(|&(i, s)| format!("{:.1},{:.1}", x(i), y(s.ci95().1)))
            .collect();
        let lower: Vec<String> = segment
            .iter()
            .rev()
            .map(|&(i, s)| format!("{:.1},{:.1}", x(i), y(s.ci95().0)))
            .collect();
        let _ = write!(
            svg,
            "<polygon points=\"{} {}\" fill=\"{color}\" fill-opacity=\"0.15\" stroke=\"none\"/>",
            upper.join(" "),
            lower.join(" ")
        );
    }
    for segment in segments(points) {
        let line: Vec<String> = segment
            .iter()
            .map(|&(i, s)| format!("{:.1},{:.1}", x(i), y(s.mean())))
            .collect();
        let _ = write!(
            svg,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\"/>",
            line.join(" ")
        );
    }
    for (i, s) in points.iter().enumerate().filter_map(|(i, p)| p.map(|s| (i, s))) {
        // A whisker too, so that a month without neighbours still shows its interval;
        // none for a single sentence, which has no interval (a zero-width one would read as certain).
        if s.has_spread() {
            let (low, high) = s.ci95();
            let _ = write!(
                svg,
                "<line x1=\"{0:.1}\" y1=\"{1:.1}\" x2=\"{0:.1}\" y2=\"{2:.1}\" stroke=\"{color}\" stroke-opacity=\"0.5\"/>",
                x(i),
                y(low),
                y(high)
            );
        }
        let _ = write!(
            svg,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{color}\"><title>{}: {:+.3} (n = {})</title></circle>",
            x(i),
            y(s.mean()),
            esc(slots[i].label()),
            s.mean(),
            s.sentences()
        );
    }
    for i in labelled(slots, &x) {
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            x(i),
            top + h + 18.0,
            esc(slots[i].label())
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Least distance between two dates under the axis, in px ("2024-05" is about 50).
const LABEL_SPACING: f64 = 64.0;

/// The slots dated under the axis: first the first slot and each that follows
/// a gap (so the reader sees where the axis resumes), then about twelve
/// evenly spaced, leaving out any that would crowd another.
fn labelled(slots: &[Slot], x: &impl Fn(usize) -> f64) -> Vec<usize> {
    let resumes = (0..slots.len()).filter(|&i| i == 0 || matches!(slots[i - 1], Slot::Gap { .. }));
    let regular = (0..slots.len()).step_by(slots.len().div_ceil(12).max(1));
    let mut chosen: Vec<usize> = Vec::new();
    for i in resumes.chain(regular) {
        let free = chosen.iter().all(|&j| (x(i) - x(j)).abs() >= LABEL_SPACING);
        if free && matches!(slots[i], Slot::Period { .. }) {
            chosen.push(i);
        }
    }
    chosen
}

/// Runs of consecutive slots that have data: a line never crosses a gap.
fn segments<'a>(points: &[Option<&'a ActorStats>]) -> Vec<Vec<(usize, &'a ActorStats)>> {
    let mut out: Vec<Vec<(usize, &ActorStats)>> = vec![Vec::new()];
    for (i, p) in points.iter().enumerate() {
        match (p, out.last_mut()) {
            (Some(s), Some(run)) => run.push((i, s)),
            (None, Some(run)) if !run.is_empty() => out.push(Vec::new()),
            _ => {}
        }
    }
    out.retain(|run| !run.is_empty());
    out
}

/// Tick values on a score axis: steps of 0.5, 0.2 or 0.1, whichever suits the range.
fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    let step = if hi - lo > 1.0 {
        0.5
    } else if hi - lo > 0.4 {
        0.2
    } else {
        0.1
    };
    let first = (lo / step).ceil() as i64;
    (first..)
        .map(|i| i as f64 * step)
        .take_while(|v| *v <= hi + 1e-9)
        .collect()
}

fn y_axis(svg: &mut String, left: f64, w: f64, lo: f64, hi: f64, y: &impl Fn(f64) -> f64) {
    for v in ticks(lo, hi) {
        let class = if v.abs() < 1e-9 { "axis" } else { "grid" };
        let _ = write!(
            svg,
            "<line class=\"{class}\" x1=\"{left}\" y1=\"{0:.1}\" x2=\"{1}\" y2=\"{0:.1}\"/>",
            y(v),
            left + w
        );
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{:+.1}</text>",
            left - 6.0,
            y(v) + 4.0,
            v
        );
    }
}

fn sources(html: &mut String, actors: &[&String], by_source: &BTreeMap<String, Slice>, max: usize) {
    html.push_str("<section id=\"sources\"><h2>By source</h2>");
    if by_source.is_empty() {
        html.push_str("<p class=\"note\">No document names its source, so there is no comparison.</p></section>\n");
        return;
    }
    if max == 0 {
        let _ = writeln!(
            html,
            "<p class=\"note\">The per-source chart is left out (--max-sources 0); the run has {} sources.</p></section>",
            by_source.len()
        );
        return;
    }
    let mut ranked: Vec<(&String, &Slice)> = by_source.iter().collect();
    ranked.sort_by_key(|(name, s)| {
        (
            std::cmp::Reverse(s.actors.values().map(ActorStats::sentences).sum::<u64>()),
            *name,
        )
    });
    ranked.truncate(max);
    let _ = write!(
        html,
        "<p class=\"note\">Mean score with its 95% confidence interval, per source and actor ({} of {} sources, those \
         with the most (sentence, actor) pairs; a sentence that names two actors counts for each).</p>",
        ranked.len(),
        by_source.len()
    );
    html.push_str(&source_chart(actors, &ranked));
    html.push_str("</section>\n");
}

fn source_chart(actors: &[&String], ranked: &[(&String, &Slice)]) -> String {
    let (left, top, w) = (200.0, 30.0, 680.0);
    let band = 10.0 + 12.0 * actors.len() as f64;
    let h = band * ranked.len() as f64;
    let (lo, hi) = y_domain(
        ranked
            .iter()
            .flat_map(|(_, s)| s.actors.values())
            .filter(|s| s.sentences() > 0),
    );
    let x = |v: f64| left + (v.clamp(lo, hi) - lo) / (hi - lo) * w;
    let mut svg = svg_open(
        "chart chart-sources",
        960.0,
        top + h + 30.0,
        "Mean score per source and actor",
    );
    let items: Vec<(&str, &str)> = actors
        .iter()
        .enumerate()
        .map(|(i, a)| (a.as_str(), actor_color(i)))
        .collect();
    legend(&mut svg, left, 14.0, &items);
    x_axis(&mut svg, top, h, lo, hi, &x);
    for (r, (name, slice)) in ranked.iter().enumerate() {
        let y0 = top + band * r as f64;
        let n: u64 = slice.actors.values().map(ActorStats::sentences).sum();
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{} ({n} pairs)</text>",
            left - 8.0,
            y0 + band / 2.0 + 4.0,
            esc(&shorten(name, 26))
        );
        for (i, actor) in actors.iter().enumerate() {
            let Some(s) = slice.actors.get(*actor).filter(|s| s.sentences() > 0) else {
                continue;
            };
            let (cy, color, (l, u)) = (y0 + 9.0 + 12.0 * i as f64, actor_color(i), s.ci95());
            // No whisker for a single sentence: it has no interval.
            if s.has_spread() {
                let _ = write!(
                    svg,
                    "<line x1=\"{:.1}\" y1=\"{cy:.1}\" x2=\"{:.1}\" y2=\"{cy:.1}\" stroke=\"{color}\" stroke-width=\"2\"/>",
                    x(l),
                    x(u)
                );
            }
            let _ = write!(
                svg,
                "<circle cx=\"{:.1}\" cy=\"{cy:.1}\" r=\"4\" fill=\"{color}\"><title>{} · {}: {:+.3} (n = {})</title></circle>",
                x(s.mean()),
                esc(&shorten(name, 200)),
                esc(actor),
                s.mean(),
                s.sentences()
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

fn x_axis(svg: &mut String, top: f64, h: f64, lo: f64, hi: f64, x: &impl Fn(f64) -> f64) {
    for v in ticks(lo, hi) {
        let class = if v.abs() < 1e-9 { "axis" } else { "grid" };
        let _ = write!(
            svg,
            "<line class=\"{class}\" x1=\"{0:.1}\" y1=\"{top}\" x2=\"{0:.1}\" y2=\"{1:.1}\"/>",
            x(v),
            top + h
        );
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{:+.1}</text>",
            x(v),
            top + h + 16.0,
            v
        );
    }
}

fn evidence(html: &mut String, actors: &[&String], scan: &Scan, top: usize) {
    html.push_str("<section id=\"evidence\"><h2>Evidence</h2>");
    if top == 0 {
        html.push_str("<p class=\"note\">The evidence sentences are left out (--top 0).</p></section>\n");
        return;
    }
    let _ = write!(
        html,
        "<p class=\"note\">Per actor, the {top} sentences the model scored most favorable (of those scored above 0: \
         more favorable than unfavorable) and the {top} most unfavorable (of those below 0); a sentence is in at most \
         one list. Mentions are highlighted; a sentence longer than {MAX_EVIDENCE_CHARS} characters is shown around \
         its first mention, the cut marked by an ellipsis (…).</p>"
    );
    for actor in actors {
        let _ = write!(html, "<h3>{}</h3><div class=\"evidence\">", esc(actor));
        for (title, class, rows, none) in [
            ("Most favorable", "fav", scan.favorable.get(*actor), "above"),
            ("Most unfavorable", "unfav", scan.unfavorable.get(*actor), "below"),
        ] {
            let _ = write!(html, "<div class=\"{class}\"><strong>{title}</strong>");
            match rows.filter(|r| !r.is_empty()) {
                None if scan.sentences(actor) == 0 => {
                    html.push_str("<p class=\"note\">No sentence mentions this actor.</p>");
                }
                None => {
                    let _ = write!(
                        html,
                        "<p class=\"note\">No sentence about this actor scores {none} 0.</p>"
                    );
                }
                Some(rows) => evidence_list(html, rows),
            }
            html.push_str("</div>");
        }
        html.push_str("</div>");
    }
    html.push_str("</section>\n");
}

fn evidence_list(html: &mut String, rows: &[SentenceRow]) {
    html.push_str("<ol>");
    for row in rows {
        let _ = write!(
            html,
            "<li><span class=\"score\">{:+.2}</span> {} <span class=\"doc\">({}, sentence {})</span></li>",
            row.score,
            highlighted(row),
            esc(&shorten(&row.document_id, 120)),
            row.sentence_index
        );
    }
    html.push_str("</ol>");
}

/// Longest evidence text shown, in characters: a longer sentence (an
/// unpunctuated page, a table read as one sentence) would swamp the page.
const MAX_EVIDENCE_CHARS: usize = 400;

/// The sentence, escaped, with the actor's mentions in `<mark>`; a long one
/// cut to [`MAX_EVIDENCE_CHARS`] around its first mention, with ellipses.
fn highlighted(row: &SentenceRow) -> String {
    let chars: Vec<char> = row.text.chars().collect();
    let mut spans: Vec<(usize, usize)> = row
        .mentions
        .iter()
        .filter_map(|m| Some((m.start.checked_sub(row.start)?, m.end.checked_sub(row.start)?)))
        .filter(|&(s, e)| s < e && e <= chars.len())
        .collect();
    spans.sort_unstable();
    let (lo, hi) = excerpt(&chars, spans.first().copied(), MAX_EVIDENCE_CHARS);
    let text = |from: usize, to: usize| esc(&chars[from..to].iter().collect::<String>());
    let mut out = String::from(if lo > 0 { "…" } else { "" });
    let mut at = lo;
    for (s, e) in spans {
        let (s, e) = (s.max(lo), e.min(hi));
        if s < at || s >= e {
            continue;
        }
        let _ = write!(out, "{}<mark>{}</mark>", text(at, s), text(s, e));
        at = e;
    }
    out.push_str(&text(at, hi));
    if hi < chars.len() {
        out.push('…');
    }
    out
}

/// The character range shown of `chars`: all of it, or about `max`
/// characters centred on `mention` (from the start when there is none), cut
/// between words where a space is near.
fn excerpt(chars: &[char], mention: Option<(usize, usize)>, max: usize) -> (usize, usize) {
    let len = chars.len();
    if len <= max {
        return (0, len);
    }
    let (start, end) = mention.unwrap_or((0, 0));
    let context = max.saturating_sub(end - start) / 2;
    let lo = start.saturating_sub(context).min(len - max);
    let hi = lo + max;
    // Move each cut inward to a space at most 20 characters off, never into the mention.
    let word_start = (lo..(lo + 20).min(start)).find(|&i| i > 0 && chars[i - 1].is_whitespace());
    let word_end = (end.max(hi.saturating_sub(20))..hi)
        .rev()
        .find(|&i| chars[i].is_whitespace());
    (
        if lo == 0 { 0 } else { word_start.unwrap_or(lo) },
        if hi == len { len } else { word_end.unwrap_or(hi) },
    )
}

fn svg_open(class: &str, width: f64, height: f64, label: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"{class}\" width=\"{width}\" height=\"{height:.0}\" viewBox=\"0 0 {width} {height:.0}\" role=\"img\" aria-label=\"{}\">",
        esc(label)
    )
}

fn legend(svg: &mut String, x: f64, y: f64, items: &[(&str, &str)]) {
    let mut at = x;
    for (label, color) in items {
        let _ = write!(
            svg,
            "<rect x=\"{at:.1}\" y=\"{:.1}\" width=\"12\" height=\"12\" fill=\"{color}\"/>",
            y - 10.0
        );
        let _ = write!(svg, "<text x=\"{:.1}\" y=\"{y:.1}\">{}</text>", at + 16.0, esc(label));
        at += 30.0 + 7.0 * label.chars().count() as f64;
    }
}

fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

/// Escapes text for HTML and XML alike.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters and noncharacters are not allowed (or are
            // discouraged) in XML: the page must stay well-formed.
            c if (c.is_control() && c != '\n' && c != '\t') || is_noncharacter(c) => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Unicode's noncharacters: U+FDD0..U+FDEF and the last two code points of
/// every plane (U+FFFE, U+FFFF, U+1FFFE...). XML forbids U+FFFE and U+FFFF and
/// discourages the rest.
fn is_noncharacter(c: char) -> bool {
    let n = u32::from(c);
    (0xFDD0..=0xFDEF).contains(&n) || n & 0xFFFE == 0xFFFE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_highlights() {
        assert_eq!(esc("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
        let row: SentenceRow = serde_json::from_value(serde_json::json!({
            "document_id": "d", "sentence_index": 0, "start": 10, "end": 24, "text": "Ça <China> won",
            "actor": "china", "mentions": [{"start": 14, "end": 19, "text": "China"}],
            "p_unfavorable": 0.1, "p_neutral": 0.2, "p_favorable": 0.7, "score": 0.6, "label": "favorable", "truncated": false
        }))
        .unwrap();
        assert_eq!(highlighted(&row), "Ça &lt;<mark>China</mark>&gt; won");
    }

    #[test]
    fn noncharacters_and_controls_become_spaces() {
        assert_eq!(esc("a\u{FFFF}b\u{FFFE}c\u{FDD0}d\u{1FFFF}e\u{10FFFE}f"), "a b c d e f");
        assert_eq!(esc("a\u{0}b\u{85}c\td\ne"), "a b c\td\ne");
        assert_eq!(
            esc("\u{FFFD}\u{FDCF}\u{FDF0}\u{1F600}"),
            "\u{FFFD}\u{FDCF}\u{FDF0}\u{1F600}"
        );
    }

    #[test]
    fn evidence_ties_are_ordered_by_document_not_by_row_order() {
        let tied = |id: &str| {
            let mut tied = row("China lied.", (0, 5), -0.5);
            tied.document_id = id.to_owned();
            tied
        };
        let chosen = |ids: &[&str]| {
            let mut scan = Scan::default();
            ids.iter().for_each(|id| scan.add(tied(id), 2));
            scan.unfavorable["china"]
                .iter()
                .map(|r| r.document_id.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(chosen(&["c", "a", "b"]), ["a", "b"]);
        assert_eq!(chosen(&["b", "c", "a"]), ["a", "b"]);
    }

    fn row(text: &str, mention: (usize, usize), score: f32) -> SentenceRow {
        let mention_text: String = text.chars().skip(mention.0).take(mention.1 - mention.0).collect();
        serde_json::from_value(serde_json::json!({
            "document_id": "d", "sentence_index": 0, "start": 0, "end": text.chars().count(), "text": text,
            "actor": "china", "mentions": [{"start": mention.0, "end": mention.1, "text": mention_text}],
            "p_unfavorable": 0.2, "p_neutral": 0.2, "p_favorable": 0.6, "score": score, "label": "favorable",
            "truncated": false
        }))
        .unwrap()
    }

    #[test]
    fn a_long_sentence_is_cut_around_its_first_mention() {
        let filler = "x ".repeat(5_000);
        let text = format!("{filler}China{filler}");
        let shown = highlighted(&row(&text, (10_000, 10_005), 0.5));
        assert!(shown.starts_with('…') && shown.ends_with('…'), "both cuts are marked");
        assert!(shown.contains("<mark>China</mark>"));
        let length = shown.replace("<mark>", "").replace("</mark>", "").chars().count();
        assert!(
            (MAX_EVIDENCE_CHARS - 40..=MAX_EVIDENCE_CHARS + 2).contains(&length),
            "{length} characters"
        );
        assert!(
            shown.starts_with("…x ") && shown.ends_with(" x…"),
            "no word is cut in two: {shown}"
        );
        let at_start = highlighted(&row(&format!("China{filler}"), (0, 5), 0.5));
        assert!(at_start.starts_with("<mark>China</mark>") && at_start.ends_with('…'));
        let at_end = highlighted(&row(&format!("{filler}China"), (10_000, 10_005), 0.5));
        assert!(at_end.starts_with('…') && at_end.ends_with("<mark>China</mark>"));
        let short: Vec<char> = "a short one".chars().collect();
        assert_eq!(
            excerpt(&short, Some((2, 7)), 400),
            (0, 11),
            "a short sentence is shown whole"
        );
        let word: Vec<char> = "y".repeat(1_000).chars().collect();
        assert_eq!(
            excerpt(&word, Some((500, 505)), 400),
            (303, 703),
            "no space near: cut inside the word"
        );
    }

    fn by_month(months: &[&str]) -> BTreeMap<String, Slice> {
        let mut stats = ActorStats::default();
        stats.add(&stance::Stance::from_probabilities([0.2, 0.2, 0.6]), 1);
        months
            .iter()
            .map(|m| {
                let mut slice = Slice::default();
                slice.actors.insert("china".into(), stats.clone());
                ((*m).to_owned(), slice)
            })
            .collect()
    }

    fn labels(axis: &TimeAxis) -> Vec<String> {
        axis.slots
            .iter()
            .map(|slot| match slot {
                Slot::Period { label, actors } if actors.is_empty() => format!("({label})"),
                Slot::Period { label, .. } => label.clone(),
                Slot::Gap { from, to } => format!("{from}..{to}"),
            })
            .collect()
    }

    #[test]
    fn a_placeholder_date_leaves_a_marked_gap_not_a_cut_axis() {
        let axis = time_axis(&by_month(&["1900-01", "2024-05", "2024-07"]));
        assert_eq!(axis.unit, Unit::Month);
        assert_eq!(
            labels(&axis),
            ["1900-01", "1900-02..2024-04", "2024-05", "(2024-06)", "2024-07"]
        );
        let within = time_axis(&by_month(&["2020-01", "2022-01"]));
        assert_eq!(within.slots.len(), 25, "a gap of up to two years is drawn to scale");
        let wide = |i: usize| i as f64 * 100.0;
        assert_eq!(
            labelled(&axis.slots, &wide),
            [0, 2, 3, 4],
            "every period is dated, the gap is not"
        );
        let narrow = |i: usize| i as f64 * 40.0;
        assert_eq!(
            labelled(&axis.slots, &narrow),
            [0, 2, 4],
            "where the axis resumes is dated first"
        );
    }

    #[test]
    fn too_many_months_are_drawn_as_years() {
        let months: Vec<String> = (1950..2025)
            .flat_map(|y| (1..=12).map(move |m| format!("{y}-{m:02}")))
            .collect();
        let months: Vec<&str> = months.iter().map(String::as_str).chain(["0001-01"]).collect();
        let axis = time_axis(&by_month(&months));
        assert_eq!(axis.unit, Unit::Year);
        assert_eq!(axis.slots.len(), 77, "0001, a gap, then 1950 to 2024");
        assert_eq!(labels(&axis)[..3], ["0001", "0002..1949", "1950"]);
        assert_eq!(
            axis.slots[2].stats("china").unwrap().sentences(),
            12,
            "a year holds its months"
        );
    }

    #[test]
    fn a_key_that_is_no_month_is_named() {
        let axis = time_axis(&by_month(&["2024-01", "2024-13", "24-01", "2024-1x"]));
        assert_eq!(labels(&axis), ["2024-01"]);
        assert_eq!(axis.unplaced, ["2024-13", "2024-1x", "24-01"]);
    }

    #[test]
    fn evidence_lists_hold_only_sentences_that_lean_their_way() {
        let mut scan = Scan::default();
        for (i, score) in [-0.5, 0.0, 0.25, -0.125].into_iter().enumerate() {
            let mut r = row("China", (0, 5), score);
            r.sentence_index = i;
            scan.add(r, 5);
        }
        let indices = |rows: Option<&Vec<SentenceRow>>| -> Vec<usize> {
            rows.unwrap().iter().map(|r| r.sentence_index).collect()
        };
        assert_eq!(indices(scan.favorable.get("china")), [2]);
        assert_eq!(indices(scan.unfavorable.get("china")), [0, 3]);
        assert_eq!(scan.sentences("china"), 4);
    }
}
