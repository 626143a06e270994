//! The files a corpus run writes, their row types, and durable writing.
//!
//! | file | one row per | written |
//! |---|---|---|
//! | `sentences.jsonl` | scored (sentence, actor) pair: [`SentenceRow`] | appended, committed with the checkpoint |
//! | `documents.csv` | (scored document, actor mentioned): [`DocumentRow`]; one row with an empty actor for a document that mentions none | appended, committed with the checkpoint |
//! | `errors.jsonl` | document not scored: [`ErrorRow`] | appended, committed with the checkpoint |
//! | `documents.jsonl` | ([`OutputFormat::Parquet`] only) the rows of `documents.csv`, text exact | appended, committed with the checkpoint |
//! | `sentences.parquet`, `documents.parquet` | ([`OutputFormat::Parquet`] only) the rows of `sentences.jsonl` and `documents.jsonl` | converted from them, atomically, when the run is complete |
//! | `summary.json`, `summary.csv` | the [`Summary`](super::Summary) | replaced atomically at the end |
//! | `run.json` | the [`RunInfo`](super::RunInfo) | replaced atomically at start and end |
//! | `checkpoint.json` | resume state | replaced atomically at each commit |
//! | `stance.lock` | the process that owns the directory | locked for the whole run (see [`DirLock`](super::DirLock)) |
//!
//! Nothing is written through a link: a temporary file is created under a
//! fresh name, exclusively, and renamed into place, and a file appended to
//! (or the lock file) that turns out to be a symbolic or hard link is refused.
//! In CSV files, text that came from the input (ids, dates, sources, titles)
//! or from actor files is written so that spreadsheets do not evaluate it
//! (see [`csv_text`]); JSON Lines and Parquet keep it exact.
//!
//! Rows of one document are contiguous and documents appear in input order.
//! The schemas are stable: fields may be added at the end, never renamed or removed.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::analyzer::{Document, DocumentStances, MentionSpan};
use crate::error::{Error, Result};
use crate::score::Label;

use super::input::{ErrorKind, Location, RecordError};

/// `sentences.jsonl`.
pub const SENTENCES: &str = "sentences.jsonl";
/// `documents.csv`.
pub const DOCUMENTS: &str = "documents.csv";
/// `errors.jsonl`.
pub const ERRORS: &str = "errors.jsonl";
/// `documents.jsonl`: the rows of `documents.csv` with their text exact, the
/// journal `documents.parquet` is made from ([`OutputFormat::Parquet`] only).
pub const DOCUMENTS_JSONL: &str = "documents.jsonl";
/// `sentences.parquet` ([`OutputFormat::Parquet`] only).
pub const SENTENCES_PARQUET: &str = "sentences.parquet";
/// `documents.parquet` ([`OutputFormat::Parquet`] only).
pub const DOCUMENTS_PARQUET: &str = "documents.parquet";
/// `summary.json`.
pub const SUMMARY_JSON: &str = "summary.json";
/// `summary.csv`.
pub const SUMMARY_CSV: &str = "summary.csv";
/// `run.json`.
pub const RUN_JSON: &str = "run.json";
/// `checkpoint.json`.
pub const CHECKPOINT: &str = "checkpoint.json";
/// `stance.lock`.
pub const LOCK: &str = "stance.lock";

/// The files that hold a run's results: a directory with one of them holds a
/// run (or what is left of one), and is never written over by another.
pub(crate) const RESULTS: [&str; 9] = [
    SENTENCES,
    DOCUMENTS,
    ERRORS,
    DOCUMENTS_JSONL,
    SENTENCES_PARQUET,
    DOCUMENTS_PARQUET,
    SUMMARY_JSON,
    SUMMARY_CSV,
    RUN_JSON,
];

/// The files a run replaces atomically, whose temporaries a killed run may
/// leave behind: its [`RESULTS`] and `checkpoint.json`.
fn replaced() -> impl Iterator<Item = &'static str> {
    RESULTS.into_iter().chain([CHECKPOINT])
}

/// Whether `name` is a file that a run writes into its directory (its lock included),
/// whether or not a given run has written it yet.
#[must_use]
pub fn is_run_file(name: &str) -> bool {
    replaced().chain([LOCK]).any(|file| file == name)
}

/// Which files a run writes besides its journals, summaries and `run.json`.
///
/// `sentences.jsonl`, `documents.csv` and `errors.jsonl` are always written:
/// they are the journals that make a run durable, resumable and mergeable.
/// [`OutputFormat::Parquet`] adds `documents.jsonl` (the rows of
/// `documents.csv` with their text exact) and, once the run (or a merge) is
/// complete, `sentences.parquet` and `documents.parquet`, converted from the
/// JSON Lines journals. It needs the `parquet` feature (on by default).
///
/// ```
/// use stance::corpus::OutputFormat;
/// assert_eq!("parquet".parse::<OutputFormat>().unwrap(), OutputFormat::Parquet);
/// assert_eq!(OutputFormat::default().to_string(), "jsonl");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum OutputFormat {
    /// `sentences.jsonl` and `documents.csv` (and the other files every run writes).
    #[default]
    Jsonl,
    /// Those, and `sentences.parquet` and `documents.parquet`.
    Parquet,
}

impl OutputFormat {
    /// The format's name as the CLI spells it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            OutputFormat::Jsonl => "jsonl",
            OutputFormat::Parquet => "parquet",
        }
    }

    /// Whether this build can write the format.
    ///
    /// # Errors
    /// [`Error::Config`] for [`OutputFormat::Parquet`] when the library was
    /// built without its `parquet` feature.
    pub fn check_available(self) -> Result<()> {
        if self == OutputFormat::Parquet && !cfg!(feature = "parquet") {
            return Err(Error::Config(
                "--format parquet: this stance was built without Parquet support; build it with the `parquet` \
                 feature (on by default, e.g. `cargo install stance`), or use --format jsonl"
                    .into(),
            ));
        }
        Ok(())
    }
}

impl std::fmt::Display for OutputFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for OutputFormat {
    type Err = Error;

    /// Parses `jsonl` and `parquet`.
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "jsonl" => Ok(OutputFormat::Jsonl),
            "parquet" => Ok(OutputFormat::Parquet),
            other => Err(Error::Config(format!(
                "unknown output format {other:?}: expected jsonl or parquet"
            ))),
        }
    }
}

/// One line of `sentences.jsonl`: the stance of one sentence toward one actor.
///
/// Offsets are in characters (Unicode scalar values) into the document's text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SentenceRow {
    /// The document's id.
    pub document_id: String,
    /// Position of the sentence in the document, from 0.
    pub sentence_index: usize,
    /// First character of the sentence in the document.
    pub start: usize,
    /// One past its last character.
    pub end: usize,
    /// The sentence.
    pub text: String,
    /// The actor's id.
    pub actor: String,
    /// The actor's mentions in the sentence (character offsets into the document, and the text).
    pub mentions: Vec<MentionSpan>,
    /// P(unfavorable).
    pub p_unfavorable: f32,
    /// P(neutral).
    pub p_neutral: f32,
    /// P(favorable).
    pub p_favorable: f32,
    /// `p_favorable - p_unfavorable`, in [-1, 1].
    pub score: f32,
    /// The most probable label.
    pub label: Label,
    /// Whether the sentence was cut to the model's input length around the mention.
    pub truncated: bool,
}

/// What is written for a [`SentenceRow`], borrowed from the scored document;
/// the fields and their order must match `SentenceRow` (a test checks).
#[derive(Serialize)]
struct SentenceRowRef<'a> {
    document_id: &'a str,
    sentence_index: usize,
    start: usize,
    end: usize,
    text: &'a str,
    actor: &'a str,
    mentions: &'a [MentionSpan],
    p_unfavorable: f32,
    p_neutral: f32,
    p_favorable: f32,
    score: f32,
    label: Label,
    truncated: bool,
}

/// One row of `documents.csv`: one actor in one scored document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DocumentRow {
    /// The document's id.
    pub document_id: String,
    /// Its date, as given.
    pub date: Option<String>,
    /// Its source.
    pub source: Option<String>,
    /// Its title.
    pub title: Option<String>,
    /// Sentences in the document.
    pub document_sentences: u64,
    /// The actor's id; empty on the one row of a document that mentions no actor.
    pub actor: String,
    /// Sentences that mention the actor (scored pairs).
    pub actor_sentences: u64,
    /// Mentions of the actor.
    pub mentions: u64,
    /// Mean score over those sentences; empty when there are none.
    pub mean_score: Option<f64>,
    /// Sentences labelled unfavorable.
    pub unfavorable: u64,
    /// Sentences labelled neutral.
    pub neutral: u64,
    /// Sentences labelled favorable.
    pub favorable: u64,
}

/// One line of `errors.jsonl`: a document (or record) that was not scored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ErrorRow {
    /// The document's id, or its default id (`FILE:LINE`, or the path) when it has none.
    pub id: String,
    /// The file it came from (`-` for standard input).
    pub file: String,
    /// The 1-based line, for JSON Lines and CSV.
    pub line: Option<u64>,
    /// The kind of problem.
    pub kind: ErrorKind,
    /// What exactly is wrong.
    pub reason: String,
}

impl ErrorRow {
    /// The row for a record error at `location`.
    #[must_use]
    pub fn new(location: &Location, error: &RecordError) -> ErrorRow {
        ErrorRow {
            id: error.id.clone(),
            file: location.file.clone(),
            line: location.line,
            kind: error.kind,
            reason: error.reason.clone(),
        }
    }
}

/// Appends one `sentences.jsonl` line per pair of `doc`.
pub(crate) fn sentence_lines(out: &mut Vec<u8>, doc: &DocumentStances) -> Result<()> {
    for s in &doc.stances {
        let row = SentenceRowRef {
            document_id: &doc.id,
            sentence_index: s.sentence_index,
            start: s.start,
            end: s.end,
            text: &s.text,
            actor: &s.actor,
            mentions: &s.mentions,
            p_unfavorable: s.stance.p_unfavorable,
            p_neutral: s.stance.p_neutral,
            p_favorable: s.stance.p_favorable,
            score: s.stance.score,
            label: s.stance.label,
            truncated: s.truncated,
        };
        json_line(out, &row)?;
    }
    Ok(())
}

/// Appends one JSON line.
pub(crate) fn json_line(out: &mut Vec<u8>, value: &impl Serialize) -> Result<()> {
    serde_json::to_writer(&mut *out, value)
        .map_err(|e| Error::Config(format!("cannot serialize an output row: {e}")))?;
    out.push(b'\n');
    Ok(())
}

/// Text from the input (or from actor files) as a CSV cell that spreadsheets
/// show as text: a leading `'` is added when it starts with `=`, `+`, `-`,
/// `@`, a tab or a carriage return, which Excel, LibreOffice and Google Sheets
/// would otherwise evaluate as a formula (OWASP's advice on CSV injection).
/// A plain number (an optional sign, digits, at most one `.`, such as an id
/// `-12`) is no formula and stays as it is. Only text is passed through here,
/// never the numbers we write.
///
/// ```
/// use stance::corpus::csv_text;
/// assert_eq!(csv_text("=HYPERLINK(\"http://x\")"), "'=HYPERLINK(\"http://x\")");
/// assert_eq!(csv_text("-2+3"), "'-2+3");
/// assert_eq!(csv_text("-12"), "-12");
/// assert_eq!(csv_text("-:7"), "'-:7");
/// assert_eq!(csv_text("Reuters"), "Reuters");
/// ```
#[must_use]
pub fn csv_text(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) && !is_plain_number(text) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// A document id as a CSV cell: [`csv_text`], except that the default ids of
/// standard input, `-` and `-:LINE`, stay as they are (no spreadsheet reads
/// them as a formula).
fn csv_document_id(id: &str) -> String {
    let line = id.strip_prefix("-:");
    let stdin_id = id == "-" || line.is_some_and(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit()));
    if stdin_id {
        id.to_owned()
    } else {
        csv_text(id)
    }
}

/// An optional sign, then digits with at most one `.` (no exponent, no `inf`).
fn is_plain_number(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    digits.bytes().any(|b| b.is_ascii_digit())
        && digits.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && digits.bytes().filter(|&b| b == b'.').count() <= 1
}

/// The `documents.csv` rows of a scored document (metadata from `meta`, whose
/// text may be empty), with their text exact: [`csv_row`] guards it for the CSV file.
pub(crate) fn document_rows(meta: &Document, doc: &DocumentStances) -> Vec<DocumentRow> {
    let row = |actor: &str| DocumentRow {
        document_id: doc.id.clone(),
        date: meta.date.clone(),
        source: meta.source.clone(),
        title: meta.title.clone(),
        document_sentences: doc.sentences as u64,
        actor: actor.to_owned(),
        actor_sentences: 0,
        mentions: 0,
        mean_score: None,
        unfavorable: 0,
        neutral: 0,
        favorable: 0,
    };
    if doc.actors.is_empty() {
        return vec![row("")];
    }
    doc.actors
        .iter()
        .map(|(actor, stats)| {
            let [unfavorable, neutral, favorable] = stats.label_counts();
            DocumentRow {
                actor_sentences: stats.sentences(),
                mentions: stats.mentions(),
                mean_score: Some(stats.mean()),
                unfavorable,
                neutral,
                favorable,
                ..row(actor)
            }
        })
        .collect()
}

/// `row` as `documents.csv` holds it: its text from the input and actor
/// files guarded against spreadsheet formulas ([`csv_text`]).
pub(crate) fn csv_row(row: &DocumentRow) -> DocumentRow {
    let text = |value: &Option<String>| value.as_deref().map(csv_text);
    DocumentRow {
        document_id: csv_document_id(&row.document_id),
        date: text(&row.date),
        source: text(&row.source),
        title: text(&row.title),
        actor: csv_text(&row.actor),
        ..row.clone()
    }
}

/// Writes `sentences.parquet` and `documents.parquet` in `dir`, a complete
/// run's (or merge's) directory, from its journals (see `parquet.rs`); with
/// `keep_existing`, a file already there is kept.
///
/// # Errors
/// Without the `parquet` feature, always (see [`OutputFormat::check_available`]).
pub(crate) fn write_parquet(dir: &Path, keep_existing: bool) -> Result<()> {
    #[cfg(feature = "parquet")]
    {
        super::parquet::write_files(dir, keep_existing)
    }
    #[cfg(not(feature = "parquet"))]
    {
        let _ = (dir, keep_existing);
        OutputFormat::Parquet.check_available()
    }
}

/// Removes Parquet files from an unfinished run's directory: they are not the
/// run's (it writes them when it is complete), and would look like its results.
pub(crate) fn remove_parquet(dir: &Path) -> Result<()> {
    for name in [SENTENCES_PARQUET, DOCUMENTS_PARQUET] {
        let path = dir.join(name);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(Error::io(&path, e)),
            _ => {}
        }
    }
    Ok(())
}

/// CSV bytes for `rows`, with the header row first when `header` is set.
pub(crate) fn csv_bytes<T: Serialize>(rows: &[T], header: bool) -> Result<Vec<u8>> {
    let mut writer = csv::WriterBuilder::new().has_headers(header).from_writer(Vec::new());
    for row in rows {
        writer
            .serialize(row)
            .map_err(|e| Error::Config(format!("cannot serialize a CSV row: {e}")))?;
    }
    writer
        .into_inner()
        .map_err(|e| Error::Config(format!("cannot serialize CSV rows: {}", e.error())))
}

/// The header row of `documents.csv`.
pub(crate) fn documents_header() -> Result<Vec<u8>> {
    let names = [
        "document_id",
        "date",
        "source",
        "title",
        "document_sentences",
        "actor",
        "actor_sentences",
        "mentions",
        "mean_score",
        "unfavorable",
        "neutral",
        "favorable",
    ];
    csv_bytes(&[names], false)
}

/// An output file that is only appended to, and whose committed length is
/// known: everything past it is discarded when a run resumes.
pub(crate) struct AppendFile {
    path: PathBuf,
    writer: BufWriter<File>,
    len: u64,
}

impl AppendFile {
    /// Opens (creating) `path` and cuts it to `len` bytes, the length at the last commit.
    pub fn open_at(path: &Path, len: u64) -> Result<AppendFile> {
        let io = |e| Error::io(path, e);
        let mut options = OpenOptions::new();
        options.create(true).truncate(false).write(true);
        let mut file = open_checked(path, &options)?;
        let actual = file.metadata().map_err(io)?.len();
        if actual < len {
            return Err(Error::io(
                path,
                std::io::Error::other(format!(
                    "the file has {actual} bytes but its checkpoint committed {len}: it was changed after the run; \
                     start a new run in another directory"
                )),
            ));
        }
        file.set_len(len).map_err(io)?;
        file.seek(SeekFrom::Start(len)).map_err(io)?;
        Ok(AppendFile {
            path: path.to_path_buf(),
            writer: BufWriter::with_capacity(1 << 20, file),
            len,
        })
    }

    /// Appends bytes (buffered).
    pub fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.writer.write_all(bytes).map_err(|e| Error::io(&self.path, e))?;
        self.len += bytes.len() as u64;
        Ok(())
    }

    /// Flushes to the operating system and to the disk; returns the durable length.
    pub fn commit(&mut self) -> Result<u64> {
        self.writer.flush().map_err(|e| Error::io(&self.path, e))?;
        self.writer
            .get_ref()
            .sync_data()
            .map_err(|e| Error::io(&self.path, e))?;
        Ok(self.len)
    }
}

/// Replaces `path` with `bytes` so that readers, and a crash, see either the
/// old content or the new, never a mix: write a temporary file beside it,
/// sync it, rename it over `path`, sync the directory.
///
/// The temporary file gets a fresh name and is created exclusively, so a file
/// or link planted under a predictable name is never written through; the
/// rename replaces `path` itself, even when `path` is a link.
///
/// A path that [`is_written_in_place`] (`/dev/null`, `/dev/stdout`, a FIFO)
/// is opened and written instead: replacing it would put a regular file where
/// the system's device or link was (and, for a user who may write `/dev`,
/// break it for every other program), and the bytes would reach no reader.
///
/// # Errors
/// [`Error::Io`] naming the file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    if is_written_in_place(path) {
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        return file.write_all(bytes).map_err(|e| Error::io(path, e));
    }
    replace_with(path, |tmp, file| file.write_all(bytes).map_err(|e| Error::io(tmp, e)))
}

/// Whether [`write_atomic`] writes into `path` rather than replacing it: a
/// path that is (or links to) something other than a regular file or a
/// directory, such as a device or a FIFO, and any path directly in `/dev`
/// or in `/proc` (`/dev/stdout`, `/dev/fd/1`: links to the process's standard
/// output, which may be a regular file). Files in a folder of `/dev` such as
/// `/dev/shm` are replaced as anywhere else.
#[must_use]
pub fn is_written_in_place(path: &Path) -> bool {
    let special = std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir());
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    special
        || parent
            .canonicalize()
            .is_ok_and(|dir| dir == Path::new("/dev") || dir.starts_with("/proc"))
}

/// Replaces `path` with what `write` writes to a fresh temporary file (named
/// `tmp`, as [`write_atomic`] does it): synced, renamed over `path`, the
/// directory synced. On an error the temporary file is removed and `path` is
/// left as it was; a process killed meanwhile leaves only the temporary file,
/// which the next run in the directory removes.
pub(crate) fn replace_with(path: &Path, write: impl FnOnce(&Path, &mut File) -> Result<()>) -> Result<()> {
    let (tmp, mut file) = create_temporary(path)?;
    let written = write(&tmp, &mut file).and_then(|()| file.sync_all().map_err(|e| Error::io(&tmp, e)));
    drop(file);
    if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    sync_dir(path)
}

/// Creates a new, empty temporary file beside `path`, named
/// `.NAME.PID-N.tmp`, exclusively (never opening an existing file or following a link).
pub fn create_temporary(path: &Path) -> Result<(PathBuf, File)> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().map(std::ffi::OsStr::to_os_string).unwrap_or_default();
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(&name);
        tmp_name.push(format!(".{}-{n}.tmp", std::process::id()));
        let tmp = path.with_file_name(tmp_name);
        match OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(file) => return Ok((tmp, file)),
            // Left by a process of the same id, or planted: take the next name.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < u64::from(u32::MAX) => {}
            // The directory is what is missing: name it rather than the temporary file.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let dir = tmp.parent().filter(|dir| !dir.as_os_str().is_empty() && !dir.is_dir());
                return Err(Error::io(dir.unwrap_or(&tmp), e));
            }
            Err(e) => return Err(Error::io(&tmp, e)),
        }
    }
}

/// Removes the temporary files that killed runs left in `dir` (see
/// [`create_temporary`]); links are removed, never followed. Call it only
/// while holding the directory's lock.
pub(crate) fn remove_stale_temporaries(dir: &Path) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let ours = name.ends_with(".tmp")
            && replaced().any(|file| {
                name.strip_prefix('.')
                    .is_some_and(|n| n.starts_with(&format!("{file}.")))
            });
        if ours {
            let path = entry.path();
            std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
        }
    }
    Ok(())
}

/// Opens `path` with `options` and checks that it is the plain file it seems:
/// not a symbolic link, and (on Unix) not a hard link to a file elsewhere.
/// Run directories may be shared; a link planted under an output's name must
/// not make a run truncate or write the file it points to. Nothing is written
/// before the check.
pub(crate) fn open_checked(path: &Path, options: &OpenOptions) -> Result<File> {
    let refuse = |what: &str| {
        Error::io(
            path,
            std::io::Error::other(format!(
                "{what}: refusing to write through it; remove it, or use another directory"
            )),
        )
    };
    // Checked before opening too: creating through a dangling link would create its target.
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(refuse("is a symbolic link"));
    }
    let file = options.open(path).map_err(|e| Error::io(path, e))?;
    let opened = file.metadata().map_err(|e| Error::io(path, e))?;
    let named = std::fs::symlink_metadata(path).map_err(|e| Error::io(path, e))?;
    if named.file_type().is_symlink() {
        return Err(refuse("is a symbolic link"));
    }
    if !opened.is_file() {
        return Err(refuse("is not a regular file"));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if (opened.dev(), opened.ino()) != (named.dev(), named.ino()) {
            return Err(refuse("was replaced while being opened"));
        }
        if opened.nlink() > 1 {
            return Err(refuse("is a hard link to another file"));
        }
    }
    Ok(file)
}

/// Makes a rename in `path`'s directory durable.
fn sync_dir(path: &Path) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    // Directories can be opened read-only and synced on Unix; elsewhere this is best effort.
    match File::open(dir).and_then(|d| d.sync_all()) {
        Ok(()) => Ok(()),
        Err(e) if cfg!(unix) => Err(Error::io(dir, e)),
        Err(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_stdin_ids_and_plain_numbers_skip_the_formula_guard() {
        assert_eq!(csv_document_id("-"), "-");
        assert_eq!(csv_document_id("-:12"), "-:12");
        assert_eq!(csv_document_id("-:=1+2"), "'-:=1+2");
        assert_eq!(csv_document_id("-:"), "'-:");
        assert_eq!(csv_document_id("-12"), "-12");
        assert_eq!(csv_text("-:12"), "'-:12");
        assert_eq!(csv_text("-1.5"), "-1.5");
        assert_eq!(csv_text("+3"), "+3");
        for formula in ["-inf", "-1e5", "-1.2.3", "-", "+", "-1+1", "=1"] {
            assert_eq!(csv_text(formula), format!("'{formula}"), "{formula}");
        }
    }

    #[test]
    fn a_missing_directory_is_named_rather_than_the_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        let message = create_temporary(&missing.join("report.html")).unwrap_err().to_string();
        assert!(message.starts_with(&format!("{}: ", missing.display())), "{message}");
        assert!(!message.contains("report.html"), "{message}");
    }

    #[cfg(unix)]
    #[test]
    fn temporaries_are_created_exclusively_past_planted_links() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim.txt");
        std::fs::write(&victim, "precious").unwrap();
        let nowhere = dir.path().join("nowhere");
        let target = dir.path().join("run.json");
        // Links at the names create_temporary tries first, to a file and to nowhere.
        let mut planted = std::collections::BTreeSet::new();
        for n in 0..4096 {
            let name = format!(".run.json.{}-{n}.tmp", std::process::id());
            let to = if n % 2 == 0 { &victim } else { &nowhere };
            std::os::unix::fs::symlink(to, dir.path().join(&name)).unwrap();
            planted.insert(name);
        }
        let (tmp, mut file) = create_temporary(&target).unwrap();
        let name = tmp.file_name().unwrap().to_str().unwrap().to_owned();
        assert!(!planted.contains(&name), "{name}");
        assert!(std::fs::symlink_metadata(&tmp).unwrap().file_type().is_file());
        std::io::Write::write_all(&mut file, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        assert!(!nowhere.exists());
        // Stale temporaries, planted links included, are removed, never followed.
        remove_stale_temporaries(dir.path()).unwrap();
        assert!(!tmp.exists() && std::fs::read_dir(dir.path()).unwrap().count() == 1);
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    }

    use super::*;

    #[cfg(unix)]
    #[test]
    fn devices_and_paths_in_dev_are_written_into_not_replaced() {
        use std::os::unix::fs::FileTypeExt;
        assert!(is_written_in_place(Path::new("/dev/null")));
        assert!(is_written_in_place(Path::new("/dev/stdout")));
        assert!(is_written_in_place(Path::new("/dev/../dev/null")));
        assert!(is_written_in_place(Path::new("/dev/fd/1")));
        // A run or a page in /dev/shm is replaced whole, as anywhere else.
        if let Ok(shm) = tempfile::tempdir_in("/dev/shm") {
            assert!(!is_written_in_place(&shm.path().join("checkpoint.json")));
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("p.jsonl");
        assert!(!is_written_in_place(&file));
        std::fs::write(&file, "x").unwrap();
        assert!(!is_written_in_place(&file));
        assert!(!is_written_in_place(dir.path()));
        write_atomic(Path::new("/dev/null"), b"nothing\n").unwrap();
        assert!(std::fs::metadata("/dev/null").unwrap().file_type().is_char_device());
    }
    use crate::analyzer::SentenceStance;
    use crate::score::Stance;

    #[test]
    fn written_rows_read_back_as_sentence_rows() {
        let stance = Stance::from_probabilities([0.2, 0.3, 0.5]);
        let doc = DocumentStances {
            id: "d\"1".into(),
            sentences: 4,
            stances: vec![SentenceStance {
                sentence_index: 2,
                start: 10,
                end: 20,
                text: "China, again.".into(),
                actor: "china".into(),
                mentions: vec![MentionSpan {
                    start: 10,
                    end: 15,
                    text: "China".into(),
                }],
                stance,
                truncated: false,
            }],
            actors: Default::default(),
        };
        let mut out = Vec::new();
        sentence_lines(&mut out, &doc).unwrap();
        let row: SentenceRow = serde_json::from_slice(&out).unwrap();
        assert_eq!(row.document_id, "d\"1");
        assert_eq!((row.sentence_index, row.start, row.end), (2, 10, 20));
        assert_eq!(
            (row.score, row.label, row.truncated),
            (stance.score, stance.label, false)
        );
        let keys: Vec<String> = serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&out)
            .unwrap()
            .keys()
            .cloned()
            .collect();
        let expected = serde_json::to_value(&row).unwrap();
        let expected: Vec<String> = expected.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, expected);
    }

    #[test]
    fn append_file_cuts_uncommitted_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x");
        let mut f = AppendFile::open_at(&path, 0).unwrap();
        f.write(b"committed\n").unwrap();
        let len = f.commit().unwrap();
        f.write(b"lost").unwrap();
        f.commit().unwrap();
        drop(f);
        let mut f = AppendFile::open_at(&path, len).unwrap();
        f.write(b"next\n").unwrap();
        f.commit().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"committed\nnext\n");
        assert!(AppendFile::open_at(&path, 1000).is_err());
    }
}
