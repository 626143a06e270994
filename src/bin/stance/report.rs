//! `stance report DIR`: one self-contained HTML file with inline SVG charts.
//!
//! The page is written as well-formed XHTML-compatible HTML (every element
//! closed, only XML entities) so that any XML parser can check it, and it
//! needs nothing from the network: no scripts, fonts or stylesheets.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use stance::corpus::{write_atomic, DirLock, RunInfo, SentenceRow, Slice, Summary};
use stance::ActorStats;

#[derive(Args)]
pub struct ReportArgs {
    /// Output directory of `stance score --out` or `stance merge`.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// Where to write the page (default: DIR/report.html).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Evidence sentences per actor and direction.
    #[arg(long, value_name = "N", default_value_t = 5)]
    top: usize,
    /// Sources shown in the per-source chart (those with the most sentences).
    #[arg(long, value_name = "N", default_value_t = 15)]
    max_sources: usize,
}

pub fn run(args: &ReportArgs) -> Result<ExitCode> {
    let summary_path = args.dir.join("summary.json");
    anyhow::ensure!(
        summary_path.is_file(),
        "{} has no summary.json: give a directory written by `stance score --out` or `stance merge` \
         (a run still scoring writes it at the end)",
        args.dir.display()
    );
    let _lock = lock(args)?;
    let summary: Summary = read_json(&args.dir.join("summary.json"))?;
    let info = RunInfo::load(&args.dir).ok();
    let scan = Scan::read(&args.dir.join("sentences.jsonl"), args.top)?;
    let html = render(&args.dir, &summary, info.as_ref(), &scan, args);
    let out = args.out.clone().unwrap_or_else(|| args.dir.join("report.html"));
    write_atomic(&out, html.as_bytes())?;
    eprintln!("wrote {}", out.display());
    Ok(ExitCode::SUCCESS)
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

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("{} is not a stance summary", path.display()))
}

const HIST_BINS: usize = 20;

/// What the report needs from `sentences.jsonl`, gathered in one streaming pass.
#[derive(Default)]
struct Scan {
    /// Per actor: the most favorable rows, best first.
    favorable: BTreeMap<String, Vec<SentenceRow>>,
    /// Per actor: the most unfavorable rows, worst first.
    unfavorable: BTreeMap<String, Vec<SentenceRow>>,
    histogram: BTreeMap<String, [u64; HIST_BINS]>,
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
            let row: SentenceRow =
                serde_json::from_str(&line).with_context(|| format!("{}, line {}", path.display(), i + 1))?;
            scan.add(row, top);
        }
        Ok(scan)
    }

    fn add(&mut self, row: SentenceRow, top: usize) {
        let bin = (((row.score + 1.0) / 2.0 * HIST_BINS as f32) as usize).min(HIST_BINS - 1);
        self.histogram.entry(row.actor.clone()).or_insert([0; HIST_BINS])[bin] += 1;
        // Ties are broken by position in the corpus, so the evidence is the same on every run.
        keep_top(
            self.unfavorable.entry(row.actor.clone()).or_default(),
            row.clone(),
            top,
            |a, b| a.score.total_cmp(&b.score),
        );
        keep_top(
            self.favorable.entry(row.actor.clone()).or_default(),
            row,
            top,
            |a, b| b.score.total_cmp(&a.score),
        );
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

fn render(dir: &Path, summary: &Summary, info: Option<&RunInfo>, scan: &Scan, args: &ReportArgs) -> String {
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
    timeline(&mut html, &actors, &summary.by_month);
    sources(&mut html, &actors, &summary.by_source, args.max_sources);
    evidence(&mut html, &actors, scan);
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
.evidence { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.evidence ol { padding-left: 22px; margin: 4px 0; font-size: 14px; } .evidence li { margin-bottom: 8px; }
.score { font-weight: 600; font-variant-numeric: tabular-nums; } .doc { color: #777; font-size: 12px; }
.fav .score { color: #2471a3; } .unfav .score { color: #c0392b; }
mark { background: #fde68a; padding: 0 1px; }
";

fn header(html: &mut String, dir: &Path, summary: &Summary, info: Option<&RunInfo>) {
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
    if let Some(analyzer) = info.and_then(|i| i.analyzer.as_ref()) {
        let _ = write!(
            html,
            " · model {} on {}",
            esc(&analyzer.model),
            esc(&analyzer.device.to_string())
        );
    }
    if let Some(info) = info.filter(|i| !i.shards.is_empty()) {
        let shards: Vec<String> = info.shards.iter().map(ToString::to_string).collect();
        let _ = write!(html, " · shards {}", esc(&shards.join(", ")));
    }
    html.push_str("</p>");
    let model = info
        .and_then(|i| i.analyzer.as_ref())
        .map(|a| a.model.as_str())
        .unwrap_or("");
    if model.contains("tiny") || model.contains("test") {
        html.push_str("<p class=\"warning\">This run used a random-weight test model: its stances mean nothing.</p>");
    }
    html.push_str("</header>\n");
}

fn overview(html: &mut String, summary: &Summary) {
    html.push_str("<section id=\"overview\"><h2>Overview</h2><table><thead><tr><th>actor</th><th>sentences</th><th>documents</th>");
    html.push_str("<th>mean score</th><th>95% CI</th><th>std</th><th>unfavorable</th><th>neutral</th><th>favorable</th></tr></thead><tbody>");
    for (actor, s) in &summary.actors {
        let (lo, hi) = s.ci95();
        let [u, n, f] = s.label_shares();
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:+.3}</td><td>[{:+.3}, {:+.3}]</td><td>{:.3}</td><td>{:.0}%</td><td>{:.0}%</td><td>{:.0}%</td></tr>",
            esc(actor),
            s.sentences(),
            s.documents(),
            s.mean(),
            lo,
            hi,
            s.std_dev(),
            u * 100.0,
            n * 100.0,
            f * 100.0
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

fn timeline(html: &mut String, actors: &[&String], by_month: &BTreeMap<String, Slice>) {
    html.push_str("<section id=\"timeline\"><h2>Mean score over time</h2>");
    if by_month.is_empty() {
        html.push_str(
            "<p class=\"note\">No document has a date (YYYY-MM...), so there is no time series.</p></section>\n",
        );
        return;
    }
    html.push_str("<p class=\"note\">Monthly mean score per actor; the band is its 95% confidence interval (clustered by document, clipped to the chart).</p>");
    let months = month_range(by_month);
    for (i, actor) in actors.iter().enumerate() {
        let points: Vec<Option<&ActorStats>> = months
            .iter()
            .map(|m| {
                by_month
                    .get(m)
                    .and_then(|s| s.actors.get(*actor))
                    .filter(|s| s.sentences() > 0)
            })
            .collect();
        if points.iter().all(Option::is_none) {
            continue;
        }
        let _ = write!(html, "<h3>{}</h3>", esc(actor));
        html.push_str(&timeline_chart(actor, &months, &points, actor_color(i)));
    }
    html.push_str("</section>\n");
}

/// Every month from the first to the last with data, so that gaps show as gaps.
fn month_range(by_month: &BTreeMap<String, Slice>) -> Vec<String> {
    let parse = |m: &str| -> Option<(i32, u32)> { Some((m.get(..4)?.parse().ok()?, m.get(5..7)?.parse().ok()?)) };
    let (Some(first), Some(last)) = (
        by_month.keys().next().and_then(|m| parse(m)),
        by_month.keys().last().and_then(|m| parse(m)),
    ) else {
        return by_month.keys().cloned().collect();
    };
    let mut months = Vec::new();
    let (mut y, mut m) = first;
    while (y, m) <= last && months.len() < 1200 {
        months.push(format!("{y:04}-{m:02}"));
        (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    }
    months
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

fn timeline_chart(actor: &str, months: &[String], points: &[Option<&ActorStats>], color: &str) -> String {
    let (left, top, w, h) = (60.0, 10.0, 860.0, 180.0);
    let (lo, hi) = y_domain(points.iter().flatten().copied());
    // Inset by 12 px so that the first and last points clear the axes.
    let x = |i: usize| {
        left + 12.0
            + if months.len() > 1 {
                i as f64 * (w - 24.0) / (months.len() - 1) as f64
            } else {
                w / 2.0 - 12.0
            }
    };
    let y = |v: f64| top + (hi - v.clamp(lo, hi)) / (hi - lo) * h;
    let mut svg = svg_open(
        "chart chart-timeline",
        960.0,
        h + 50.0,
        &format!("Monthly mean score for {actor}"),
    );
    y_axis(&mut svg, left, w, lo, hi, &y);
    for segment in segments(points) {
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
        // A whisker too, so that a month without neighbours still shows its interval.
        let (low, high) = s.ci95();
        let _ = write!(
            svg,
            "<line x1=\"{0:.1}\" y1=\"{1:.1}\" x2=\"{0:.1}\" y2=\"{2:.1}\" stroke=\"{color}\" stroke-opacity=\"0.5\"/>",
            x(i),
            y(low),
            y(high)
        );
        let _ = write!(
            svg,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{color}\"><title>{}: {:+.3} (n = {})</title></circle>",
            x(i),
            y(s.mean()),
            esc(&months[i]),
            s.mean(),
            s.sentences()
        );
    }
    let step = months.len().div_ceil(12).max(1);
    for (i, month) in months.iter().enumerate().filter(|(i, _)| i % step == 0) {
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            x(i),
            top + h + 18.0,
            esc(month)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Runs of consecutive months that have data.
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
    let mut ranked: Vec<(&String, &Slice)> = by_source.iter().collect();
    ranked.sort_by_key(|(name, s)| {
        (
            std::cmp::Reverse(s.actors.values().map(ActorStats::sentences).sum::<u64>()),
            *name,
        )
    });
    ranked.truncate(max.max(1));
    let _ = write!(
        html,
        "<p class=\"note\">Mean score with its 95% confidence interval, per source and actor ({} of {} sources, by sentences).</p>",
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
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{} (n = {n})</text>",
            left - 8.0,
            y0 + band / 2.0 + 4.0,
            esc(&shorten(name, 26))
        );
        for (i, actor) in actors.iter().enumerate() {
            let Some(s) = slice.actors.get(*actor).filter(|s| s.sentences() > 0) else {
                continue;
            };
            let (cy, color, (l, u)) = (y0 + 9.0 + 12.0 * i as f64, actor_color(i), s.ci95());
            let _ = write!(
                svg,
                "<line x1=\"{:.1}\" y1=\"{cy:.1}\" x2=\"{:.1}\" y2=\"{cy:.1}\" stroke=\"{color}\" stroke-width=\"2\"/>",
                x(l),
                x(u)
            );
            let _ = write!(
                svg,
                "<circle cx=\"{:.1}\" cy=\"{cy:.1}\" r=\"4\" fill=\"{color}\"><title>{} · {}: {:+.3} (n = {})</title></circle>",
                x(s.mean()),
                esc(name),
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

fn evidence(html: &mut String, actors: &[&String], scan: &Scan) {
    html.push_str("<section id=\"evidence\"><h2>Evidence</h2>");
    html.push_str("<p class=\"note\">The sentences the model scored most favorable and most unfavorable toward each actor; mentions are highlighted.</p>");
    for actor in actors {
        let _ = write!(html, "<h3>{}</h3><div class=\"evidence\">", esc(actor));
        for (title, class, rows) in [
            ("Most favorable", "fav", scan.favorable.get(*actor)),
            ("Most unfavorable", "unfav", scan.unfavorable.get(*actor)),
        ] {
            let _ = write!(html, "<div class=\"{class}\"><strong>{title}</strong>");
            match rows.filter(|r| !r.is_empty()) {
                None => html.push_str("<p class=\"note\">No sentence mentions this actor.</p>"),
                Some(rows) => {
                    html.push_str("<ol>");
                    for row in rows {
                        let _ = write!(
                            html,
                            "<li><span class=\"score\">{:+.2}</span> {} <span class=\"doc\">({}, sentence {})</span></li>",
                            row.score,
                            highlighted(row),
                            esc(&row.document_id),
                            row.sentence_index
                        );
                    }
                    html.push_str("</ol>");
                }
            }
            html.push_str("</div>");
        }
        html.push_str("</div>");
    }
    html.push_str("</section>\n");
}

/// The sentence, escaped, with the actor's mentions in `<mark>`.
fn highlighted(row: &SentenceRow) -> String {
    let chars: Vec<char> = row.text.chars().collect();
    let mut spans: Vec<(usize, usize)> = row
        .mentions
        .iter()
        .filter_map(|m| Some((m.start.checked_sub(row.start)?, m.end.checked_sub(row.start)?)))
        .filter(|&(s, e)| s < e && e <= chars.len())
        .collect();
    spans.sort_unstable();
    let (mut out, mut at) = (String::new(), 0usize);
    for (s, e) in spans {
        if s < at {
            continue;
        }
        out.push_str(&esc(&chars[at..s].iter().collect::<String>()));
        let _ = write!(out, "<mark>{}</mark>", esc(&chars[s..e].iter().collect::<String>()));
        at = e;
    }
    out.push_str(&esc(&chars[at..].iter().collect::<String>()));
    out
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
            // Control characters are not allowed in XML.
            c if c.is_control() && c != '\n' && c != '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
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
}
