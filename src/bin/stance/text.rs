//! `stance score` to the terminal: per-sentence stances and a per-actor summary.

use std::borrow::Cow;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use serde::Serialize;
use stance::corpus::{
    score_records, CorpusReader, EmptyFiles, Format, Location, ReadOptions, Record, RecordError, ScoredItem,
    SkippedFiles, Summary,
};
use stance::{Analyzer, DocumentStances};

use crate::ModelArgs;

#[derive(Args)]
// Fields are pub(crate) so that `stance score --out` (corpus.rs) can flatten these
// arguments and fall back to this module's stdout output when `--out` is absent.
pub struct ScoreArgs {
    /// Text or Markdown files (one document each), directories, JSON Lines (.jsonl), CSV
    /// (.csv) and Parquet (.parquet) files (a document per line or row), the first three also
    /// compressed (.jsonl.gz, .csv.zst), or `-` for standard input.
    #[arg(required = true, value_name = "INPUT")]
    pub(crate) inputs: Vec<PathBuf>,
    /// Print JSON lines instead of a table: one per document (with its date, source and title
    /// when it has them), then {"summary": ...} holding what summary.json would.
    #[arg(long)]
    pub(crate) json: bool,
    #[command(flatten)]
    pub(crate) model: ModelArgs,
}

/// Documents scored per call (output stays in input order).
const CHUNK_DOCUMENTS: usize = 64;

/// Scores every record the inputs hold (files, directories, JSON Lines, CSV, standard
/// input: read as `--out` reads them) and prints it; a record that cannot be read or
/// scored is named on stderr and counted as failed (exit status 1).
pub fn run(args: &ScoreArgs, read: ReadOptions) -> Result<ExitCode> {
    let analyzer = args.model.analyzer()?;
    let mut reader = CorpusReader::new(&args.inputs, read)?;
    let mut summary = Summary::new(analyzer.actors());
    until_the_reader_stops(print_all(args, &analyzer, &mut reader, &mut summary))?;
    warn_unread(&reader);
    warn_dates_without_month(&summary, "");
    Ok(status(summary.failed))
}

/// Warns, on stderr, of the scored documents whose date names no month: they are in no
/// per-month statistics, which a reader of them would not know.
pub fn warn_dates_without_month(summary: &Summary, listed: &str) {
    let Some(first) = &summary.date_without_month else {
        return;
    };
    note!(
        "warning: {} document(s) have a date that names no month (e.g. \"{}\") and are in no per-month statistics: \
         write dates as YYYY-MM-DD (day/month/year and month/day/year cannot be told apart){listed}",
        summary.dates_without_month,
        printable(first)
    );
}

/// The outcome of printing records to stdout, where a reader that stopped reading (`stance ...
/// | head`) is no error: the output ends there, quietly, and the run's status is that of the
/// records read until then ([`status`]).
pub fn until_the_reader_stops(printed: Result<()>) -> Result<()> {
    match printed {
        Err(error) if crate::is_broken_pipe(&error) => Ok(()),
        other => other,
    }
}

/// The exit status of a command that reads records: 1 when `failed` of them could not be read
/// or scored (each named on stderr), else success.
pub fn status(failed: u64) -> ExitCode {
    if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Scores what `reader` reads into `summary`, printing the header, every document and the summary.
fn print_all(args: &ScoreArgs, analyzer: &Analyzer, reader: &mut CorpusReader, summary: &mut Summary) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if !args.json {
        print_header(&mut out, analyzer)?;
    }
    loop {
        let chunk: Vec<Record> = reader.by_ref().take(CHUNK_DOCUMENTS).collect();
        if chunk.is_empty() {
            break;
        }
        score_chunk(analyzer, chunk, summary, args.json, &mut out)?;
    }
    if args.json {
        writeln!(
            out,
            "{}",
            serde_json::to_string(&serde_json::json!({ "summary": summary }))?
        )?;
    } else {
        print_summary(&mut out, summary)?;
    }
    Ok(())
}

/// Warns, on stderr, of what `reader`'s directory walk did not read and of the fields no record
/// held (see [`warn_skipped`]), once the reading is done.
pub fn warn_unread(reader: &CorpusReader) {
    let run_dirs: Vec<String> = reader
        .skipped_run_dirs()
        .iter()
        .map(|d| d.display().to_string())
        .collect();
    warn_skipped(
        &run_dirs,
        reader.skipped_files(),
        reader.empty_files(),
        &reader.unmatched_fields(),
        "",
    );
}

/// Names, on stderr, a record that could not be read or scored: file, line, kind, document id.
pub fn report_failed(location: &Location, error: &RecordError) {
    note!(
        "error: {} ({}, document {}): {}",
        printable(&location.to_string()),
        error.kind.as_str(),
        printable(&error.id),
        printable(&error.reason)
    );
}

/// `text` as it may be shown on a terminal: its control characters (`\n`, `\u{1b}`) and Unicode's
/// bidi controls (`\u{202e}`: they reorder what the terminal shows after them) written as
/// escapes, and `\` as `\\`, so that an escape reads differently from the same characters
/// written in the corpus. Text from the corpus shown on a terminal must not end a line, move the
/// cursor, clear the screen or show its characters in another order than they have.
fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        push_printable(&mut shown, c);
    }
    Cow::Owned(shown)
}

/// Whether [`printable`] writes `c` as an escape.
fn needs_escape(c: char) -> bool {
    // Bidi_Control: ALM, LRM, RLM, the embeddings and overrides (LRE..RLO, PDF) and the isolates
    // (LRI..PDI).
    let bidi = matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    c.is_control() || bidi || c == '\\'
}

/// Pushes `c` onto `shown` as [`printable`] shows it.
fn push_printable(shown: &mut String, c: char) {
    if needs_escape(c) {
        shown.extend(c.escape_default());
    } else {
        shown.push(c);
    }
}

/// Warns, on stderr, of what the directory walk did not read: other runs' output directories
/// (their rows are results, not documents) and files of other extensions; and of the fields
/// named by an option that no record held (`--id-field "doc_id"`: likely misspelled); and of
/// the files that held no record (a dump that came out empty). `listed` ends each warning (where
/// the run records them). Shown even with --quiet: documents there were not scored, or not as
/// asked, or may be missing.
pub fn warn_skipped(
    run_dirs: &[String],
    files: &SkippedFiles,
    empty: &EmptyFiles,
    unmatched_fields: &[String],
    listed: &str,
) {
    for dir in run_dirs {
        let dir = printable(dir);
        note!("warning: skipped {dir}: it holds the outputs of another stance run{listed}");
    }
    if let Some(warning) = skipped_files_warning(files) {
        note!("{warning}{listed}");
    }
    if let Some(warning) = links_to_read_files_warning(files) {
        note!("{warning}{listed}");
    }
    if let Some(warning) = compressed_copies_warning(files) {
        note!("{warning}{listed}");
    }
    let hidden = "hidden file(s) or directories (names starting with `.`) that could hold documents were not read; \
                  name them as inputs to read them";
    if let Some(warning) = listed_warning(files.hidden, &files.first_hidden, hidden) {
        note!("{warning}{listed}");
    }
    if let Some(warning) = empty_files_warning(empty) {
        note!("{warning}{listed}");
    }
    for field in unmatched_fields {
        let field = printable(field);
        note!(
            "warning: no JSON Lines object, CSV header or Parquet column of the inputs has the field {field} (plain text files \
             have no fields): is it misspelled? No document got one{listed}"
        );
    }
}

/// Says how many files and links to directories the directory walk did not read, with the
/// extensions of the files listed and the first few names; `None` when it read them all. What is
/// a link the walk recorded (the disk is not looked at again: the entry may be gone, or the
/// account read from an old run.json).
fn skipped_files_warning(skipped: &SkippedFiles) -> Option<String> {
    if skipped.count == 0 {
        return None;
    }
    let mut extensions = std::collections::BTreeMap::<String, u64>::new();
    let mut files_listed = 0u64;
    for path in skipped.first.iter().filter(|path| !SkippedFiles::is_link(path)) {
        files_listed += 1;
        let extension = Path::new(path)
            .extension()
            .map_or_else(|| "(none)".to_owned(), |e| format!(".{}", e.to_string_lossy()));
        *extensions.entry(printable(&extension).into_owned()).or_default() += 1;
    }
    let links = skipped.links.min(skipped.count);
    let files = skipped.count - links;
    let what = match (files, links) {
        (_, 0) => "file(s)",
        (0, _) => "link(s) to directories",
        _ => "files and links to directories",
    };
    let mut kinds = Vec::new();
    if files > 0 && files_listed > 0 {
        let counts: Vec<String> = extensions.iter().map(|(e, n)| format!("{e} {n}")).collect();
        let among = if files > files_listed {
            ", among the first listed"
        } else {
            ""
        };
        kinds.push(format!("extensions: {}{among}", counts.join(", ")));
    }
    if links > 0 {
        kinds.push(format!("links to directories: {links}"));
    }
    if !skipped.first.is_empty() {
        let examples: Vec<Cow<str>> = skipped.first.iter().take(3).map(|name| printable(name)).collect();
        kinds.push(format!("e.g. {}", examples.join(", ")));
    }
    Some(format!(
        "warning: {} {what} in the input directories were not read: only {} files are (and the first ones \
         compressed, .gz or .zst), and links to directories are not followed ({})",
        skipped.count,
        Format::EXTENSIONS_READ,
        kinds.join("; "),
    ))
}

/// Says how many input files held no record, with the first few; `None` when none was empty.
fn empty_files_warning(empty: &EmptyFiles) -> Option<String> {
    let what = "input file(s) held no record (empty, only blank lines, or a CSV header with no row)";
    listed_warning(empty.count, &empty.first, what)
}

/// Says how many links to files read anyway under their own names the walk did not read, with
/// the first few; `None` when there were none.
fn links_to_read_files_warning(skipped: &SkippedFiles) -> Option<String> {
    let what = "link(s) in the input directories lead to files read anyway under their own names and were \
                not read, so that no document is scored twice";
    listed_warning(skipped.links_to_read_files, &skipped.first_links_to_read_files, what)
}

/// Says how many compressed files lie beside the same name uncompressed and were not read, with
/// the first few; `None` when there were none.
fn compressed_copies_warning(skipped: &SkippedFiles) -> Option<String> {
    let what = "compressed file(s) lie beside the same file uncompressed (as `gzip -k` leaves them) and were \
                not read, so that no document is scored twice; rename one if they hold different documents";
    listed_warning(skipped.compressed_copies, &skipped.first_compressed_copies, what)
}

/// "warning: COUNT WHAT (e.g. the first three listed)"; `None` when `count` is 0.
fn listed_warning(count: u64, listed: &[String], what: &str) -> Option<String> {
    if count == 0 {
        return None;
    }
    let examples: Vec<Cow<str>> = listed.iter().take(3).map(|name| printable(name)).collect();
    Some(format!("warning: {count} {what} (e.g. {})", examples.join(", ")))
}

/// Scores the documents of `chunk` and prints them and its failures in order.
fn score_chunk(
    analyzer: &Analyzer,
    chunk: Vec<Record>,
    summary: &mut Summary,
    json: bool,
    out: &mut impl Write,
) -> Result<()> {
    // Not across documents: a document's scores do not depend on the documents read with it
    // (a batch-invariant model still shares batches across them), as with --out.
    for item in score_records(analyzer, chunk, false) {
        let ScoredItem { location, meta, result } = item;
        match result {
            Ok(doc) => {
                let meta = meta.unwrap_or_default();
                summary.add(&doc, meta.date.as_deref(), meta.source.as_deref());
                if json {
                    let line = DocumentLine {
                        stances: &doc,
                        date: meta.date.as_deref(),
                        source: meta.source.as_deref(),
                        title: meta.title.as_deref(),
                    };
                    writeln!(out, "{}", serde_json::to_string(&line)?)?;
                } else {
                    print_document(out, &doc)?;
                }
            }
            Err(e) => {
                summary.add_failure();
                report_failed(&location, &e);
            }
        }
    }
    Ok(())
}

/// A document's `--json` line: its stances, and the fields read with it that its id does not
/// tell (the fields --date-field, --source-field and --title-field name).
#[derive(Serialize)]
struct DocumentLine<'a> {
    #[serde(flatten)]
    stances: &'a DocumentStances,
    #[serde(skip_serializing_if = "Option::is_none")]
    date: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
}

fn print_header(out: &mut impl Write, analyzer: &Analyzer) -> Result<()> {
    let info = analyzer.info();
    writeln!(
        out,
        "model {} ({}, {}) on {}, {} session(s) x {} thread(s); actors: {}",
        info.model,
        info.precision.as_deref().unwrap_or("?"),
        info.model_origin,
        info.device,
        info.sessions,
        info.intra_threads,
        info.actors.join(", ")
    )?;
    if info.document_context > 0.0 {
        writeln!(
            out,
            "each sentence read in its document (--document-context {})",
            info.document_context
        )?;
    }
    if crate::is_random_weight_model(&info.model) {
        writeln!(
            out,
            "NOTE: this is a random-weight test model: its stances mean nothing"
        )?;
    }
    Ok(())
}

fn print_document(out: &mut impl Write, doc: &DocumentStances) -> Result<()> {
    writeln!(
        out,
        "\n== {} ({} sentences, {} sentence-actor pairs)",
        printable(&doc.id),
        doc.sentences,
        doc.stances.len()
    )?;
    for s in &doc.stances {
        let mentions: Vec<Cow<str>> = s.mentions.iter().map(|m| printable(&m.text)).collect();
        writeln!(
            out,
            "[{:>3}] {:<9} {:<11} {:+.2}  ({})  {}",
            s.sentence_index,
            s.actor,
            s.stance.label.as_str(),
            s.stance.score,
            mentions.join(", "),
            shorten(&s.text, 110)
        )?;
    }
    Ok(())
}

/// A figure as shown, or "–" where it has no value (an actor no sentence mentions has no mean
/// or shares, one sentence no interval): never a 0 or a zero-width interval, which would read as
/// a measured, certain neutral. The report's tables show figures the same way.
pub(crate) fn figure(has_value: bool, shown: impl FnOnce() -> String) -> String {
    if has_value {
        shown()
    } else {
        "–".to_owned()
    }
}

fn print_summary(out: &mut impl Write, summary: &Summary) -> Result<()> {
    writeln!(
        out,
        "\n== per-actor summary: {} document(s), {} failed",
        summary.documents, summary.failed
    )?;
    writeln!(
        out,
        "{:<10} {:>9} {:>9} {:>7} {:>17} {:>7} {:>7} {:>7}",
        "actor", "sentences", "documents", "mean", "95% CI", "unfav", "neutral", "fav"
    )?;
    for (id, s) in &summary.actors {
        let n = s.sentences();
        let (lo, hi) = s.ci95();
        let mean = figure(s.has_mean(), || format!("{:+.3}", s.mean()));
        let ci = figure(s.has_spread(), || format!("[{lo:+.3}, {hi:+.3}]"));
        let shares = s
            .label_shares()
            .map(|share| figure(s.has_mean(), || format!("{:.0}%", share * 100.0)));
        writeln!(
            out,
            "{:<10} {:>9} {:>9} {:>7} {:>17} {:>7} {:>7} {:>7}",
            id,
            n,
            s.documents(),
            mean,
            ci,
            shares[0],
            shares[1],
            shares[2]
        )?;
    }
    Ok(())
}

/// `text` on one line (its blanks collapsed, its control characters escaped as [`printable`]
/// does), cut after `max_chars` characters as shown: before an escape that would not fit whole.
fn shorten(text: &str, max_chars: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut shown = String::with_capacity(flat.len());
    let mut chars = 0;
    for c in flat.chars() {
        let end = shown.len();
        push_printable(&mut shown, c);
        chars += shown[end..].chars().count();
        if chars > max_chars {
            shown.truncate(end);
            shown.push('…');
            break;
        }
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_read_apart_from_the_same_characters_written_in_the_corpus() {
        assert_eq!(printable("plain text, café"), "plain text, café");
        assert!(matches!(printable("plain"), Cow::Borrowed(_)));
        assert_eq!(printable("a\nb"), "a\\nb");
        assert_eq!(printable("a\\nb"), "a\\\\nb");
        assert_eq!(printable("\u{1b}[2J"), "\\u{1b}[2J");
        for bidi in [
            '\u{61c}', '\u{200e}', '\u{200f}', '\u{202a}', '\u{202e}', '\u{2066}', '\u{2069}',
        ] {
            let shown = printable(&format!("x{bidi}y")).into_owned();
            assert_eq!(shown, format!("x\\u{{{:x}}}y", u32::from(bidi)));
        }
    }

    #[test]
    fn shortening_never_cuts_an_escape() {
        let long = "a".repeat(8);
        assert_eq!(shorten(&long, 8), long);
        assert_eq!(shorten(&long, 7), "aaaaaaa…");
        // `\u{1b}` takes six characters: with seven to show, it does not fit after two letters.
        assert_eq!(shorten("ab\u{1b}cd", 7), "ab…");
        assert_eq!(shorten("ab\u{1b}cd", 8), "ab\\u{1b}…");
        assert_eq!(shorten("ab\u{1b}cd", 10), "ab\\u{1b}cd");
        assert_eq!(shorten("a\\b", 2), "a…");
        assert_eq!(shorten("a\u{202e}b", 4), "a…");
        assert_eq!(shorten("  a \n\t b  ", 10), "a b");
    }

    /// What is a link the walk recorded: the warning does not look at the disk, where the entry
    /// may be gone (or the account was read from run.json later, elsewhere).
    #[test]
    fn links_to_directories_are_told_from_files_by_what_the_walk_recorded() {
        // None of these paths exists: a link named as a file the walk reads, one with another
        // name, and a `.pdf` file.
        let skipped = SkippedFiles {
            count: 3,
            links: 2,
            first: vec![
                "/gone/notes.pdf".into(),
                "/gone/x.jsonl/".into(),
                "/gone/photos/".into(),
            ],
            ..SkippedFiles::default()
        };
        let warning = skipped_files_warning(&skipped).unwrap();
        assert!(
            warning.starts_with("warning: 3 files and links to directories in the input directories"),
            "{warning}"
        );
        assert!(
            warning.contains("(extensions: .pdf 1; links to directories: 2; e.g. /gone/notes.pdf, /gone/x.jsonl/,"),
            "{warning}"
        );
        let only_links = SkippedFiles {
            count: 1,
            links: 1,
            first: vec!["/gone/x.jsonl/".into()],
            ..SkippedFiles::default()
        };
        let warning = skipped_files_warning(&only_links).unwrap();
        assert!(warning.starts_with("warning: 1 link(s) to directories in"), "{warning}");
        assert!(!warning.contains("extensions:"), "{warning}");
        // Past the list, the counts still tell links from files; the extensions are the listed
        // files', said to be so only where some files were not listed.
        let many = SkippedFiles {
            count: 2500,
            links: 1500,
            first: (0..1000)
                .map(|i| {
                    if i % 2 == 0 {
                        format!("d/{i}.pdf")
                    } else {
                        format!("d/{i}/")
                    }
                })
                .collect(),
            ..SkippedFiles::default()
        };
        let warning = skipped_files_warning(&many).unwrap();
        assert!(warning.starts_with("warning: 2500 files and links"), "{warning}");
        assert!(
            warning.contains("(extensions: .pdf 500, among the first listed; links to directories: 1500; e.g."),
            "{warning}"
        );
        let every_file_listed = SkippedFiles { count: 2000, ..many };
        let warning = skipped_files_warning(&every_file_listed).unwrap();
        assert!(
            warning.contains("(extensions: .pdf 500; links to directories: 1500; e.g. d/0.pdf, d/1/, d/2.pdf)"),
            "{warning}"
        );
        // A run.json of a run made before links were counted apart: every entry reads as a file.
        let old: SkippedFiles = serde_json::from_str(r#"{"count": 1, "first": ["d/photos"]}"#).unwrap();
        assert_eq!(old.links, 0);
        let warning = skipped_files_warning(&old).unwrap();
        assert!(warning.starts_with("warning: 1 file(s) in"), "{warning}");
        assert!(warning.contains("(extensions: (none) 1; e.g. d/photos)"), "{warning}");
    }

    #[test]
    fn links_to_files_read_anyway_are_warned_of_apart() {
        let skipped: SkippedFiles = serde_json::from_str(
            r#"{"count": 0, "first": [], "links_to_read_files": 4, "first_links_to_read_files": ["d/a.txt -> /c/b.txt"]}"#,
        )
        .unwrap();
        assert!(skipped_files_warning(&skipped).is_none());
        let warning = links_to_read_files_warning(&skipped).unwrap();
        assert!(
            warning.starts_with("warning: 4 link(s) in the input directories lead to files read anyway")
                && warning.ends_with("(e.g. d/a.txt -> /c/b.txt)"),
            "{warning}"
        );
        assert!(links_to_read_files_warning(&SkippedFiles::default()).is_none());
    }

    #[test]
    fn skipped_names_are_shown_escaped() {
        let skipped = SkippedFiles {
            count: 1,
            links: 0,
            first: vec!["dir/a\nwarning: fake\u{1b}[2J.p\u{202e}df".to_owned()],
            ..SkippedFiles::default()
        };
        let warning = skipped_files_warning(&skipped).unwrap();
        assert!(!warning.contains(['\n', '\u{1b}', '\u{202e}']), "{warning}");
        assert!(
            warning.contains("e.g. dir/a\\nwarning: fake\\u{1b}[2J.p\\u{202e}df"),
            "{warning}"
        );
        assert!(warning.contains("(extensions: .p\\u{202e}df 1;"), "{warning}");
    }
}
