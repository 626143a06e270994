//! Reading documents from text and Markdown files, directories, JSON Lines,
//! CSV (any of them gzip- or Zstandard-compressed), Parquet and standard input.
//!
//! Inputs are read in a fixed order (the order given; directory entries
//! sorted by name, depth first), so a run, its resumption and its shards all
//! see the same sequence of records. Hidden entries (names starting with `.`)
//! are passed over, and files with other extensions inside directories are
//! skipped and listed ([`CorpusReader::skipped_files`]); symbolic
//! links to files are followed, links to directories are not (they can loop:
//! listed with the skipped files, as links), and a link that leads nowhere, or a FIFO,
//! socket or device under a name that would be read, is an [`ErrorKind::Io`]
//! record. Output
//! directories of runs and merges (those holding `stance.lock` together with
//! `checkpoint.json` or `run.json`) are never walked, so a run inside its own
//! input tree does not read its own rows; each one skipped is listed
//! ([`CorpusReader::skipped_run_dirs`]), never skipped silently.
//!
//! | input | format | one document per | default id |
//! |---|---|---|---|
//! | `*.txt`, `*.text`, `*.md`, `*.markdown` | text | file | the path (relative to the directory given) |
//! | `*.jsonl`, `*.ndjson` | JSON Lines | non-blank line (an object) | `FILE:LINE` |
//! | `*.csv` | CSV with a header row | row | `FILE:LINE` |
//! | `-` | standard input, [`ReadOptions::stdin_format`] (text by default) | as above | `-` or `-:LINE` |
//! | `*.parquet` | Parquet, its top-level columns the fields (not from standard input, nor compressed) | row | `FILE:ROW` |
//! | `*.jsonl.gz`, `*.csv.zst`, ... | the format before `.gz` (gzip) or `.zst` (Zstandard), decompressed as read | as above | `FILE:LINE` with `FILE` the compressed file's name |
//!
//! JSON and CSV records take their fields from [`Fields`]; a record's own id
//! field wins over the default id. A field given a name of its own that no record
//! holds is most likely misspelled: [`CorpusReader::unmatched_fields`] names it.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::analyzer::Document;
use crate::error::{Error, Result};

use super::compressed::{self, Compression};
use super::output::{
    CHECKPOINT, DOCUMENTS, DOCUMENTS_JSONL, DOCUMENTS_PARQUET, ERRORS, RUN_JSON, SENTENCES, SENTENCES_PARQUET,
    SUMMARY_CSV,
};

/// How an input is laid out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Format {
    /// The whole file (or standard input) is one document.
    #[default]
    Text,
    /// JSON Lines: one JSON object per line.
    Jsonl,
    /// CSV with a header row: one document per row.
    Csv,
    /// Parquet: one document per row, fields from its top-level columns (not from standard
    /// input, which cannot seek; builds with the `parquet` feature, the default).
    Parquet,
}

impl Format {
    /// The extensions [`Format::from_extension`] knows, as messages about unread files name them.
    pub const EXTENSIONS_READ: &'static str = ".txt, .text, .md, .markdown, .jsonl, .ndjson, .csv and .parquet";

    /// The format a file's extension stands for, if it is one this module reads.
    ///
    /// ```
    /// use stance::corpus::Format;
    /// assert_eq!(Format::from_extension("a/b.ndjson".as_ref()), Some(Format::Jsonl));
    /// assert_eq!(Format::from_extension("notes.MD".as_ref()), Some(Format::Text));
    /// assert_eq!(Format::from_extension("image.png".as_ref()), None);
    /// // A compressed file's format is the one before `.gz` or `.zst`.
    /// assert_eq!(Format::from_extension("dump.jsonl.gz".as_ref()), Some(Format::Jsonl));
    /// assert_eq!(Format::from_extension("notes.gz".as_ref()), None);
    /// ```
    #[must_use]
    pub fn from_extension(path: &Path) -> Option<Format> {
        // `dump.jsonl.gz` is JSON Lines: the compression's own extension is looked through.
        let path = compressed::uncompressed_name(path).unwrap_or(path);
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "txt" | "text" | "md" | "markdown" => Some(Format::Text),
            "jsonl" | "ndjson" => Some(Format::Jsonl),
            "csv" => Some(Format::Csv),
            "parquet" => Some(Format::Parquet),
            _ => None,
        }
    }

    /// The format's name as the CLI spells it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Jsonl => "jsonl",
            Format::Csv => "csv",
            Format::Parquet => "parquet",
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = Error;

    /// Parses `text` (or `txt`, `md`), `jsonl` (or `ndjson`), `csv` and `parquet`.
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "text" | "txt" | "md" | "markdown" => Ok(Format::Text),
            "jsonl" | "ndjson" => Ok(Format::Jsonl),
            "csv" => Ok(Format::Csv),
            "parquet" => Ok(Format::Parquet),
            other => Err(Error::Config(format!(
                "unknown input format {other:?}: expected text, jsonl, csv or parquet"
            ))),
        }
    }
}

/// Refuses field names of their own (`--text-field body`) when every input is read as plain
/// text, which has no fields: JSON Lines saved as `dump.txt` and read with `--text-field body`
/// would otherwise be scored as one document of raw JSON. A directory may hold JSON Lines or
/// CSV files, so with one among the inputs the fields are checked as the records are read
/// ([`CorpusReader::unmatched_fields`]).
fn check_fields_can_apply(pending: &[Pending], options: &ReadOptions) -> Result<()> {
    let named = options.fields.named();
    let Some((option, name)) = named.first() else {
        return Ok(());
    };
    let as_text = |p: &Pending| match p {
        Pending::File { format, .. } => *format == Format::Text,
        Pending::Stdin => options.stdin_format == Format::Text,
        _ => false,
    };
    if pending.is_empty() || !pending.iter().all(as_text) {
        return Ok(());
    }
    let first = match &pending[0] {
        Pending::File { label, .. } => format!("{label} is read as text by its extension"),
        _ => "standard input is read as text (--stdin-format)".to_owned(),
    };
    Err(Error::Config(format!(
        "{option} {name:?} names a JSON key or CSV column, but every input is read as plain text, which has \
         no fields ({first}): pass --input-format jsonl or csv (--stdin-format for -), or leave the option out"
    )))
}

/// Names of the fields (JSON keys, CSV columns) that hold each part of a document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Fields {
    /// The document's text (required).
    pub text: String,
    /// Its id (optional; the default id is `FILE:LINE`).
    pub id: String,
    /// Its publication date (optional; `YYYY-MM...` gives the month in summaries).
    pub date: String,
    /// Its outlet or source (optional).
    pub source: String,
    /// Its title (optional).
    pub title: String,
}

impl Fields {
    /// The optional fields (id, date, source, title) as the command line option that names
    /// each and its name here, in that order.
    /// Every field given a name other than its default, as the option that names it and the
    /// name (`("--text-field", "body")`), text first.
    fn named(&self) -> Vec<(&'static str, &str)> {
        let defaults = Fields::default();
        std::iter::once(("--text-field", self.text.as_str()))
            .chain(self.optional())
            .zip(std::iter::once(("", defaults.text.as_str())).chain(defaults.optional()))
            .filter(|((_, name), (_, default))| name != default)
            .map(|(named, _)| named)
            .collect()
    }

    fn optional(&self) -> [(&'static str, &str); 4] {
        [
            ("--id-field", &self.id),
            ("--date-field", &self.date),
            ("--source-field", &self.source),
            ("--title-field", &self.title),
        ]
    }
}

/// Which optional fields (in [`Fields::optional`]'s order) the JSON Lines objects and CSV
/// headers read so far held, and whether one was read at all. A field given a name of its own
/// that none of them holds is most likely misspelled.
#[derive(Clone, Copy, Default)]
pub(super) struct FieldsFound {
    read: bool,
    found: [bool; 4],
    /// Whether a plain text document was read (it has no fields).
    plain_text: bool,
}

impl FieldsFound {
    /// Records one object or header, where `holds` says whether it has a field of that name.
    pub(super) fn see(&mut self, fields: &Fields, holds: impl Fn(&str) -> bool) {
        self.read = true;
        for (found, (_, name)) in self.found.iter_mut().zip(fields.optional()) {
            *found |= holds(name);
        }
    }

    fn add(&mut self, other: FieldsFound) {
        self.read |= other.read;
        self.plain_text |= other.plain_text;
        for (found, other) in self.found.iter_mut().zip(other.found) {
            *found |= other;
        }
    }
}

impl Default for Fields {
    /// `text`, `id`, `date`, `source`, `title`.
    fn default() -> Self {
        Fields {
            text: "text".into(),
            id: "id".into(),
            date: "date".into(),
            source: "source".into(),
            title: "title".into(),
        }
    }
}

/// How to read inputs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ReadOptions {
    /// Field names in JSON and CSV records.
    pub fields: Fields,
    /// What standard input (`-`) holds. Text by default, so that
    /// `echo "..." | stance score -` scores one document; pipe a corpus as JSON Lines.
    pub stdin_format: Format,
    /// Forces the format of files named explicitly (not of directory contents,
    /// which go by extension). Without it a named file goes by its extension,
    /// and a file with an unknown extension is read as text.
    pub format: Option<Format>,
    /// The largest record read, in bytes: a text file, a JSON Lines line or a
    /// CSV row. A larger one is an [`ErrorKind::TooLarge`] error and reading
    /// goes on after it (at the next file, line or row; after a CSV header
    /// row, or a row whose quote never closes, at the next file), so memory
    /// stays bounded whatever the input (`/dev/zero` included).
    #[serde(default = "default_max_record_bytes")]
    pub max_record_bytes: u64,
}

/// 64 MiB: far above any article, far below a machine's memory.
pub const DEFAULT_MAX_RECORD_BYTES: u64 = 64 << 20;

fn default_max_record_bytes() -> u64 {
    DEFAULT_MAX_RECORD_BYTES
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            fields: Fields::default(),
            stdin_format: Format::default(),
            format: None,
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
        }
    }
}

impl ReadOptions {
    /// Names the first option that differs from `other`, as the command line spells it.
    #[must_use]
    pub fn difference(&self, other: &ReadOptions) -> Option<String> {
        let (a, b) = (&self.fields, &other.fields);
        let fields = [
            ("--text-field", &a.text, &b.text),
            ("--id-field", &a.id, &b.id),
            ("--date-field", &a.date, &b.date),
            ("--source-field", &a.source, &b.source),
            ("--title-field", &a.title, &b.title),
        ];
        if let Some((name, x, y)) = fields.into_iter().find(|(_, x, y)| x != y) {
            return Some(format!("{name}: the run used {x:?}, now {y:?}"));
        }
        let format = |f: Option<Format>| f.map_or_else(|| "by extension".to_owned(), |f| f.to_string());
        if self.stdin_format != other.stdin_format {
            return Some(format!(
                "--stdin-format: the run used {}, now {}",
                self.stdin_format, other.stdin_format
            ));
        }
        if self.format != other.format {
            return Some(format!(
                "--input-format: the run used {}, now {}",
                format(self.format),
                format(other.format)
            ));
        }
        if self.max_record_bytes != other.max_record_bytes {
            return Some(format!(
                "--max-record-size: the run used {} bytes, now {}",
                self.max_record_bytes, other.max_record_bytes
            ));
        }
        None
    }
}

/// Where a record came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// The file (as given, or joined to the directory given), or `-` for standard input.
    pub file: String,
    /// The 1-based line where the record starts, for JSON Lines and CSV.
    pub line: Option<u64>,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}, line {line}", self.file),
            None => f.write_str(&self.file),
        }
    }
}

/// Why a record did not become a document (or a document was not scored).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// The bytes are not UTF-8.
    InvalidUtf8,
    /// A JSON Lines line is not a JSON object.
    MalformedJson,
    /// A CSV row cannot be parsed (for example, it has the wrong number of fields).
    MalformedCsv,
    /// The text field is absent or null.
    MissingText,
    /// A field has the wrong type (a number where text belongs, an object as an id...).
    InvalidField,
    /// The text is empty or only whitespace.
    EmptyText,
    /// The file or directory could not be read (a broken or looping link included).
    Io,
    /// The record is larger than [`ReadOptions::max_record_bytes`].
    TooLarge,
    /// The model failed on the document.
    Scoring,
}

/// The reason of an [`ErrorKind::EmptyText`] failure, given by the reader for a blank record and
/// by the analyzer for a blank document, and by which the analyzer's error is told from others.
pub(crate) const EMPTY_TEXT: &str = "empty text";

impl ErrorKind {
    /// The name written in `errors.jsonl`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidUtf8 => "invalid_utf8",
            ErrorKind::MalformedJson => "malformed_json",
            ErrorKind::MalformedCsv => "malformed_csv",
            ErrorKind::MissingText => "missing_text",
            ErrorKind::InvalidField => "invalid_field",
            ErrorKind::EmptyText => "empty_text",
            ErrorKind::Io => "io",
            ErrorKind::TooLarge => "too_large",
            ErrorKind::Scoring => "scoring",
        }
    }
}

/// A record that is not a usable document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordError {
    /// The document's id if the record gave one, else its default id (`FILE:LINE`, or the path).
    pub id: String,
    /// The kind of problem.
    pub kind: ErrorKind,
    /// What exactly is wrong, for people.
    pub reason: String,
}

/// One record of the input stream: a document, or the reason there is none.
#[derive(Clone, Debug)]
pub struct Record {
    /// Where it came from.
    pub location: Location,
    /// The document, or why it is unusable.
    pub document: std::result::Result<Document, RecordError>,
}

impl Record {
    /// The id of the document or of the failed record; shards are chosen by it.
    #[must_use]
    pub fn id(&self) -> &str {
        match &self.document {
            Ok(doc) => &doc.id,
            Err(e) => &e.id,
        }
    }
}

/// A stream of [`Record`]s from files, directories and standard input, in a
/// fixed order. Memory is bounded by the largest single record (and the
/// largest directory listing), not by the corpus.
///
/// ```
/// use stance::corpus::{CorpusReader, ReadOptions};
/// let dir = tempfile::tempdir()?;
/// std::fs::write(dir.path().join("a.jsonl"), "{\"id\": \"x\", \"text\": \"China spoke.\"}\n\nnot json\n")?;
/// let records: Vec<_> = CorpusReader::new(&[dir.path().to_path_buf()], ReadOptions::default())?.collect();
/// assert_eq!(records.len(), 2);
/// assert_eq!(records[0].id(), "x");
/// assert_eq!(records[1].location.line, Some(3));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct CorpusReader {
    fields: Arc<Fields>,
    options: ReadOptions,
    /// Inputs still to open; the next one is at the end.
    pending: Vec<Pending>,
    current: Option<Box<dyn Source>>,
    /// Bytes of the sources already finished.
    finished_bytes: u64,
    /// A directory never walked (canonical path): the run's own output directory.
    excluded: Option<PathBuf>,
    /// Output directories of other runs met by the walk and not read.
    skipped: Vec<PathBuf>,
    /// Files in walked directories whose extension names no format we read, and links to directories.
    skipped_files: SkippedFiles,
    /// The optional fields that the sources already finished held.
    found: FieldsFound,
    /// Records the current source has given so far.
    current_records: u64,
    /// Files (and standard input) that gave no record at all.
    empty_files: EmptyFiles,
    /// What the inputs read anyway, so that a link to one of those files is not read twice.
    read_anyway: ReadAnyway,
}

/// The files that the inputs read under their own names, as canonical paths: the files named
/// and what the walks of the directories named reach. A link inside a walked directory to one
/// of them is not read, so that no document is scored twice under two names; nor is a second
/// link to a file outside them that an earlier link led to; nor a second hard link to a file
/// (one name of several for the same data, as `ln` or `cp -l` make): the first name met is read.
#[derive(Default)]
struct ReadAnyway {
    files: HashSet<PathBuf>,
    roots: Vec<PathBuf>,
    /// Where the links read so far led (only links: memory stays flat for plain files).
    linked: HashSet<PathBuf>,
    /// The name read of each file with several hard links (only those: plain files cost nothing).
    hard_linked: HashMap<FileIdentity, PathBuf>,
}

/// A file's device and inode, the same for every hard link to it.
type FileIdentity = (u64, u64);

/// `path`'s identity when it has more than one hard link (following a symbolic link); `None`
/// for a file with one name, or where the platform does not say.
fn hard_link_identity(meta: &std::fs::Metadata) -> Option<FileIdentity> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        (meta.is_file() && meta.nlink() > 1).then(|| (meta.dev(), meta.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        None
    }
}

impl ReadAnyway {
    fn of(inputs: &[PathBuf]) -> ReadAnyway {
        let mut read = ReadAnyway::default();
        for input in inputs.iter().filter(|input| input.as_os_str() != "-") {
            let Ok(canonical) = std::fs::canonicalize(input) else {
                continue;
            };
            if canonical.is_dir() {
                read.roots.push(canonical);
            } else {
                if let Some(identity) = std::fs::metadata(input).ok().as_ref().and_then(hard_link_identity) {
                    read.hard_linked.insert(identity, input.clone());
                }
                read.files.insert(canonical);
            }
        }
        read
    }

    /// Where the walked file at `path` is read under another name: for a symbolic link (`link`),
    /// see [`ReadAnyway::target_of`]; for a file of several hard links (`identity`), the name
    /// read first. `None` when `path` is the name to read (and noted as such).
    fn read_elsewhere(
        &mut self,
        path: &Path,
        link: bool,
        identity: Option<FileIdentity>,
        excluded: Option<&Path>,
    ) -> Option<PathBuf> {
        if link {
            if let Some(target) = self.target_of(path, excluded) {
                return Some(target);
            }
        }
        let identity = identity?;
        match self.hard_linked.get(&identity) {
            Some(first) => Some(first.clone()),
            None => {
                self.hard_linked.insert(identity, path.to_path_buf());
                None
            }
        }
    }

    /// Where the link at `link` leads when that file is read anyway: named, reached by a walk
    /// (inside a walked directory, under a name of a format read, with no hidden directory, run
    /// directory or `excluded` output directory on the way), or led to by a link read before.
    /// A link to a file read nowhere else is noted, so that the next link to it is not read.
    fn target_of(&mut self, link: &Path, excluded: Option<&Path>) -> Option<PathBuf> {
        let target = std::fs::canonicalize(link).ok()?;
        if self.files.contains(&target) || self.linked.contains(&target) || self.walks_to(&target, excluded) {
            return Some(target);
        }
        self.linked.insert(target);
        None
    }

    fn walks_to(&self, target: &Path, excluded: Option<&Path>) -> bool {
        let walked = |root: &PathBuf| {
            let Ok(inside) = target.strip_prefix(root) else {
                return false;
            };
            let hidden = inside
                .components()
                .any(|c| c.as_os_str().to_string_lossy().starts_with('.'));
            let skipped_dir = target
                .ancestors()
                .skip(1)
                .take_while(|dir| dir != root)
                .any(|dir| Some(dir) == excluded || is_run_dir(dir));
            Format::from_extension(target).is_some() && !hidden && !skipped_dir
        };
        self.roots.iter().any(walked)
    }
}

/// An input not yet opened.
enum Pending {
    File {
        path: PathBuf,
        label: String,
        id: String,
        format: Format,
    },
    Dir {
        path: PathBuf,
        rel: String,
    },
    Stdin,
    /// An entry that could not be planned (a broken link), reported in its turn.
    Failed(Box<Record>),
}

/// An opened input that yields records.
pub(super) trait Source: Send {
    fn next_record(&mut self) -> Option<Record>;
    /// The file's path as given (`-` for standard input).
    fn label(&self) -> &str;
    /// Input bytes consumed so far.
    fn bytes(&self) -> u64;
    /// The optional fields its records held so far (text has none).
    fn fields_found(&self) -> FieldsFound {
        FieldsFound::default()
    }
}

impl CorpusReader {
    /// A reader over `inputs` (files, directories, or `-` for standard input), in that order.
    ///
    /// # Errors
    /// [`Error::Io`] when an input does not exist; [`Error::Config`] for a `.json` file
    /// (JSON arrays are not streamed: convert to JSON Lines, e.g. `jq -c '.[]'`),
    /// for an input named twice, or inside a directory also named (its
    /// documents would be read twice), and for inputs that hold nothing to read (every one an
    /// output directory of a run, or a directory a walk reads no file of).
    pub fn new(inputs: &[PathBuf], options: ReadOptions) -> Result<CorpusReader> {
        check_distinct(inputs)?;
        let mut pending = Vec::with_capacity(inputs.len());
        let mut skipped = Vec::new();
        for input in inputs {
            match Self::plan(input, &options)? {
                // Named (a glob `corpus/*` names the runs inside), a run's directory holds results
                // as it does when a walk meets it.
                Pending::Dir { path, .. } if is_run_dir(&path) => skipped.push(path),
                planned => pending.push(planned),
            }
        }
        check_fields_can_apply(&pending, &options)?;
        check_something_to_read(&pending, &skipped)?;
        pending.reverse();
        Ok(CorpusReader {
            fields: Arc::new(options.fields.clone()),
            options,
            pending,
            current: None,
            current_records: 0,
            empty_files: EmptyFiles::default(),
            finished_bytes: 0,
            excluded: None,
            skipped,
            skipped_files: SkippedFiles::default(),
            found: FieldsFound::default(),
            read_anyway: ReadAnyway::of(inputs),
        })
    }

    fn plan(input: &Path, options: &ReadOptions) -> Result<Pending> {
        if input.as_os_str() == "-" {
            if options.stdin_format == Format::Parquet {
                return Err(Error::Config(
                    "standard input is not read as Parquet (its reader must seek to the file's end): \
                     give the file itself"
                        .into(),
                ));
            }
            return Ok(Pending::Stdin);
        }
        let meta = std::fs::metadata(input).map_err(|e| Error::io(input, e))?;
        if meta.is_dir() {
            return Ok(Pending::Dir {
                path: input.to_path_buf(),
                rel: String::new(),
            });
        }
        // `dump.json.gz` as well: the compression's extension is looked through.
        let inner = compressed::uncompressed_name(input).unwrap_or(input);
        let is_json = inner.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
        if is_json && options.format.is_none() {
            return Err(Error::Config(format!(
                "{}: JSON files are not read as a stream; convert to JSON Lines (one object per line, \
                 e.g. `jq -c '.[]'`) or pass --input-format jsonl if it already is",
                input.display()
            )));
        }
        let format = options
            .format
            .or_else(|| Format::from_extension(input))
            .unwrap_or(Format::Text);
        let label = input.display().to_string();
        Ok(Pending::File {
            path: input.to_path_buf(),
            id: label.clone(),
            label,
            format,
        })
    }

    /// Never reads the output directory `out` (which need not exist yet): a
    /// walked directory skips it, and an input that is `out` or a file in it
    /// is refused, so a run never reads the rows it writes. Call it before
    /// creating anything in `out`.
    ///
    /// # Errors
    /// [`Error::Config`] for an input that is `out` or a file in it, and for
    /// an `out` inside a walked input directory that already holds files the
    /// walk would read (other than a run's own outputs): they would be
    /// skipped; [`Error::Io`] when `out` cannot be resolved.
    pub fn excluding_output(mut self, out: &Path) -> Result<CorpusReader> {
        let out = resolve(out)?;
        // A named run directory is skipped, but naming the run's own is the mistake refused below.
        if let Some(own) = self
            .skipped
            .iter()
            .find(|d| std::fs::canonicalize(d).is_ok_and(|d| d == out))
        {
            return Err(reads_its_output(own));
        }
        for pending in &self.pending {
            let (path, inside) = match pending {
                Pending::Dir { path, .. } => (path, std::fs::canonicalize(path).is_ok_and(|p| p == out)),
                Pending::File { path, .. } => (
                    path,
                    std::fs::canonicalize(path).is_ok_and(|p| p.parent() == Some(out.as_path())),
                ),
                Pending::Stdin | Pending::Failed(_) => continue,
            };
            if inside {
                return Err(reads_its_output(path));
            }
            let Pending::Dir { path, .. } = pending else { continue };
            let Ok(dir) = std::fs::canonicalize(path) else { continue };
            if !walk_reaches(&dir, &out) {
                continue;
            }
            // Files named like a run's outputs in a directory that holds no run are someone's documents.
            if let Some(file) = input_file_in(&out, is_run_dir(&out)) {
                return Err(Error::Config(format!(
                    "the output directory {} lies inside the input {} and already holds {}, which the run \
                     would skip as part of its own outputs: choose an empty or new output directory",
                    out.display(),
                    path.display(),
                    file.display()
                )));
            }
        }
        self.excluded = Some(out);
        Ok(self)
    }

    /// The output directories of other runs (and merges) that the walk met so
    /// far and did not read: their rows are results, not documents.
    #[must_use]
    pub fn skipped_run_dirs(&self) -> &[PathBuf] {
        &self.skipped
    }

    /// The entries inside walked directories that were not read because their extension names
    /// no format (a `.pdf`, a `.json`...), and links to directories (not followed: they can
    /// loop): how many, how many of them are links, and the first of them (see
    /// [`SkippedFiles`]). A FIFO, socket or device under a name that would be read is a failed
    /// record instead.
    #[must_use]
    pub fn skipped_files(&self) -> &SkippedFiles {
        &self.skipped_files
    }

    /// The JSON Lines and CSV files (and standard input) read so far that held no record: empty,
    /// only blank lines, or a CSV header with no row. Not failures (they hold no document to
    /// lose), but listed so that a dump that came out empty is seen.
    #[must_use]
    pub fn empty_files(&self) -> &EmptyFiles {
        &self.empty_files
    }

    /// The optional fields given a name other than the default (`--id-field doc_id`) that no
    /// JSON Lines object and no CSV header read so far holds, each as the option and the name
    /// (`--id-field "doc_id"`). Such a name is most likely misspelled: ids fall back to
    /// `FILE:LINE`, and documents get no date (no per-month figures), source or title. When
    /// only plain text was read (a directory of `.txt` files), every field given a name of its
    /// own, `--text-field` included: text has no fields. Empty until a record is read.
    #[must_use]
    pub fn unmatched_fields(&self) -> Vec<String> {
        let mut found = self.found;
        if let Some(source) = &self.current {
            found.add(source.fields_found());
        }
        if !found.read {
            let named = if found.plain_text {
                self.fields.named()
            } else {
                Vec::new()
            };
            return named
                .into_iter()
                .map(|(option, name)| format!("{option} {name:?}"))
                .collect();
        }
        let defaults = Fields::default();
        self.fields
            .optional()
            .into_iter()
            .zip(defaults.optional())
            .zip(found.found)
            .filter(|&(((_, name), (_, default)), found)| name != default && !found)
            .map(|(((option, name), _), _)| format!("{option} {name:?}"))
            .collect()
    }

    /// Input bytes consumed so far (for progress; standard input counts as it is read).
    #[must_use]
    pub fn bytes_read(&self) -> u64 {
        self.finished_bytes + self.current.as_ref().map_or(0, |s| s.bytes())
    }

    /// Opens the next pending input; `None` when there is none. A directory
    /// expands into its entries; an input that cannot be opened yields one error record.
    fn open_next(&mut self) -> Option<std::result::Result<Box<dyn Source>, Box<Record>>> {
        loop {
            match self.pending.pop()? {
                Pending::Dir { path, rel } => {
                    if let Err(record) = self.expand_dir(&path, &rel) {
                        return Some(Err(record));
                    }
                }
                Pending::File {
                    path,
                    label,
                    id,
                    format,
                } => {
                    let limit = self.options.max_record_bytes;
                    return Some(open_file(&path, label, id, format, &self.fields, limit));
                }
                Pending::Stdin => return Some(Ok(self.open_stdin())),
                Pending::Failed(record) => return Some(Err(record)),
            }
        }
    }

    fn open_stdin(&self) -> Box<dyn Source> {
        let label = "-".to_string();
        let (format, limit) = (self.options.stdin_format, self.options.max_record_bytes);
        // Compressed data (`cat dump.jsonl.gz | stance score -`) is decompressed: no text starts
        // with the bytes gzip and Zstandard data start with. They are looked at whatever the
        // pipe's first chunk holds, so that the same bytes are always read the same way.
        let (head, stdin) = match peek(std::io::stdin(), 4) {
            Ok(peeked) => peeked,
            Err(e) => {
                let record = error_record(&label, None, label.clone(), ErrorKind::Io, format!("cannot read: {e}"));
                return Box::new(FailedSource::new(record));
            }
        };
        let stdin = std::io::Cursor::new(head.clone()).chain(stdin);
        let reader: Box<dyn Read + Send> = match compressed::sniffed(&head) {
            Some(compression) => match compression.reader(stdin, Arc::new(AtomicU64::new(0))) {
                Ok(reader) => reader,
                Err(e) => {
                    let reason = format!("cannot start decompressing: {e}");
                    let record = error_record(&label, None, label.clone(), ErrorKind::Io, reason);
                    return Box::new(FailedSource::new(record));
                }
            },
            None => Box::new(stdin),
        };
        source_of(reader, format, label.clone(), label, &self.fields, limit)
    }

    /// Pushes a directory's entries, sorted by name, so that they are read next.
    fn expand_dir(&mut self, path: &Path, rel: &str) -> std::result::Result<(), Box<Record>> {
        let label = path.display().to_string();
        let io_error = |e: std::io::Error| {
            Box::new(error_record(
                &label,
                None,
                label.clone(),
                ErrorKind::Io,
                format!("cannot list the directory: {e}"),
            ))
        };
        let mut listed: Vec<(String, std::fs::DirEntry)> = Vec::new();
        for entry in std::fs::read_dir(path).map_err(io_error)? {
            let entry = entry.map_err(io_error)?;
            listed.push((entry_name(&entry.file_name()), entry));
        }
        // Sorted before they are classified, so that the skipped entries are listed in walk order too.
        listed.sort_by(|a, b| a.0.cmp(&b.0));
        let classified: Vec<(String, PathBuf, Entry)> = listed
            .into_iter()
            .map(|(name, entry)| {
                let entry_path = entry.path();
                let kind = Entry::of(&entry, &name, &entry_path, self.excluded.as_deref());
                (name, entry_path, kind)
            })
            .collect();
        let copies = compressed_copies(&classified);
        let mut entries: Vec<(String, PathBuf, Entry)> = Vec::new();
        for ((name, entry_path, kind), copy) in classified.into_iter().zip(copies) {
            match kind {
                Entry::Hidden { listed: true } => self.skipped_files.add_hidden(&entry_path),
                Entry::Hidden { .. } | Entry::Output => {}
                Entry::RunDir => self.skipped.push(entry_path),
                Entry::Other => self.skipped_files.add(&entry_path, false),
                Entry::LinkToDir => self.skipped_files.add(&entry_path, true),
                Entry::File { .. } if copy => self.skipped_files.add_compressed_copy(&entry_path),
                kind @ Entry::File { link, identity, .. } => {
                    let excluded = self.excluded.as_deref();
                    match self.read_anyway.read_elsewhere(&entry_path, link, identity, excluded) {
                        Some(target) => self.skipped_files.add_link_to_read_file(&entry_path, &target),
                        None => entries.push((name, entry_path, kind)),
                    }
                }
                kind => entries.push((name, entry_path, kind)),
            }
        }
        for (name, entry_path, kind) in entries.into_iter().rev() {
            let entry_rel = if rel.is_empty() { name } else { format!("{rel}/{name}") };
            match kind {
                Entry::Unreadable(reason) => {
                    let label = entry_path.display().to_string();
                    let record = error_record(&label, None, entry_rel, ErrorKind::Io, reason);
                    self.pending.push(Pending::Failed(Box::new(record)));
                }
                Entry::Dir => self.pending.push(Pending::Dir {
                    path: entry_path,
                    rel: entry_rel,
                }),
                Entry::File { format, .. } => {
                    let label = entry_path.display().to_string();
                    self.pending.push(Pending::File {
                        path: entry_path,
                        label,
                        id: entry_rel,
                        format,
                    });
                }
                Entry::Hidden { .. } | Entry::Output | Entry::RunDir | Entry::Other | Entry::LinkToDir => {}
            }
        }
        Ok(())
    }
}

/// Entries a directory walk did not read: files whose extension names no format (a `.pdf`, a
/// `.json`...), and links to directories (not followed: they can loop), each told apart when the
/// walk met it. The count, how many of them are links, and the first
/// [`SkippedFiles::MAX_LISTED`] paths, so that a directory of a million images costs no memory.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedFiles {
    /// How many, links to directories included.
    pub count: u64,
    /// How many of them are links to directories (0 in the `run.json` of runs made before the
    /// walk counted them apart).
    #[serde(default)]
    pub links: u64,
    /// The first of them, in walk order (for runs merged, each run's in turn); the path of a link
    /// to a directory ends with [`SkippedFiles::LINK_MARK`].
    pub first: Vec<String>,
    /// Links to files that the inputs read anyway under their own names (a file of a walked
    /// directory, or one named), or that an earlier link led to: not read, so that no document
    /// is scored twice. Not counted in
    /// `count` (0 in the `run.json` of runs made before they were told apart).
    #[serde(default, skip_serializing_if = "crate::is_zero")]
    pub links_to_read_files: u64,
    /// The first of those links, each as `LINK -> FILE`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub first_links_to_read_files: Vec<String>,
    /// Compressed files beside the same name uncompressed (`d.jsonl.gz` beside `d.jsonl`, as
    /// `gzip -k` leaves them): not read, so that no document is scored twice. Not counted in
    /// `count`.
    #[serde(default, skip_serializing_if = "crate::is_zero")]
    pub compressed_copies: u64,
    /// The first of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub first_compressed_copies: Vec<String>,
    /// Hidden entries (names starting with `.`) that could hold documents: directories, and files
    /// of a format read. Not read, and not counted in `count`.
    #[serde(default, skip_serializing_if = "crate::is_zero")]
    pub hidden: u64,
    /// The first of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub first_hidden: Vec<String>,
}

impl SkippedFiles {
    /// How many paths are listed at most.
    pub const MAX_LISTED: usize = 1000;

    /// What ends the listed path of a link to a directory (as `ls -p` marks directories): no
    /// name of a directory entry holds it, so no file's path ends with it.
    pub const LINK_MARK: char = '/';

    fn add(&mut self, path: &Path, link: bool) {
        if link {
            self.links += 1;
        }
        note(&mut self.count, &mut self.first, || {
            let mut name = entry_name(path.as_os_str());
            if link {
                name.push(Self::LINK_MARK);
            }
            name
        });
    }

    fn add_link_to_read_file(&mut self, link: &Path, target: &Path) {
        note(
            &mut self.links_to_read_files,
            &mut self.first_links_to_read_files,
            || format!("{} -> {}", entry_name(link.as_os_str()), entry_name(target.as_os_str())),
        );
    }

    fn add_hidden(&mut self, path: &Path) {
        note(&mut self.hidden, &mut self.first_hidden, || {
            entry_name(path.as_os_str())
        });
    }

    fn add_compressed_copy(&mut self, path: &Path) {
        note(&mut self.compressed_copies, &mut self.first_compressed_copies, || {
            entry_name(path.as_os_str())
        });
    }

    /// Adds what a walk over other inputs did not read: the counts add up, and its paths are
    /// listed after these, as long as the list has room.
    pub(crate) fn extend(&mut self, other: &SkippedFiles) {
        self.links = self.links.saturating_add(other.links);
        add_notes(&mut self.count, &mut self.first, other.count, &other.first);
        add_notes(
            &mut self.links_to_read_files,
            &mut self.first_links_to_read_files,
            other.links_to_read_files,
            &other.first_links_to_read_files,
        );
        add_notes(
            &mut self.compressed_copies,
            &mut self.first_compressed_copies,
            other.compressed_copies,
            &other.first_compressed_copies,
        );
        add_notes(
            &mut self.hidden,
            &mut self.first_hidden,
            other.hidden,
            &other.first_hidden,
        );
    }

    /// Whether a listed path (one of [`SkippedFiles::first`]) is a link to a directory.
    #[must_use]
    pub fn is_link(listed: &str) -> bool {
        listed.ends_with(Self::LINK_MARK)
    }

    /// Nothing was skipped.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.count == 0 && self.links_to_read_files == 0 && self.compressed_copies == 0 && self.hidden == 0
    }
}

/// Input files that held no record ([`CorpusReader::empty_files`]): how many, and the first
/// [`SkippedFiles::MAX_LISTED`] of them, as they were named or reached by the walk.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmptyFiles {
    /// How many.
    pub count: u64,
    /// The first of them, in reading order (for runs merged, each run's in turn).
    pub first: Vec<String>,
}

impl EmptyFiles {
    fn add(&mut self, label: &str) {
        note(&mut self.count, &mut self.first, || label.to_owned());
    }

    /// Adds the empty files of other inputs.
    pub(crate) fn extend(&mut self, other: &EmptyFiles) {
        add_notes(&mut self.count, &mut self.first, other.count, &other.first);
    }

    /// No input was empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// Counts one more path and lists it while the list holds fewer than [`SkippedFiles::MAX_LISTED`]
/// (a walk over a million images costs no memory).
fn note(count: &mut u64, first: &mut Vec<String>, listed: impl FnOnce() -> String) {
    *count += 1;
    if first.len() < SkippedFiles::MAX_LISTED {
        first.push(listed());
    }
}

/// Adds another account's count, and its paths after these as long as the list has room.
fn add_notes(count: &mut u64, first: &mut Vec<String>, other_count: u64, other_first: &[String]) {
    *count = count.saturating_add(other_count);
    let room = SkippedFiles::MAX_LISTED.saturating_sub(first.len());
    first.extend(other_first.iter().take(room).cloned());
}

/// For each of a directory's classified entries, whether it is a compressed copy (see
/// [`is_compressed_copy`]): the walk and [`input_size`] pass over the same ones.
fn compressed_copies(entries: &[(String, PathBuf, Entry)]) -> Vec<bool> {
    let plain = plain_files(entries);
    // Of two compressed forms of one file with no plain one beside them (`d.jsonl.gz` and
    // `d.jsonl.zst`), the first by name is read and the others are its copies. Chosen by name,
    // not by listing order, so that every pass over the directory skips the same ones.
    let mut first_compressed: HashMap<&str, &str> = HashMap::new();
    for (name, _, kind) in entries {
        if let Some(stem) = compressed_stem(name, kind) {
            let first = first_compressed.entry(stem).or_insert(name);
            *first = (*first).min(name.as_str());
        }
    }
    entries
        .iter()
        .map(|(name, _, kind)| {
            is_compressed_copy(name, kind, &plain)
                || compressed_stem(name, kind).is_some_and(|stem| first_compressed[stem] != name)
        })
        .collect()
}

/// The name a compressed regular file (`d.jsonl.gz`) has uncompressed (`d.jsonl`), when that
/// name is of a format the walk reads.
fn compressed_stem<'a>(name: &'a str, kind: &Entry) -> Option<&'a str> {
    let Entry::File { .. } = kind else {
        return None;
    };
    let stem = compressed::uncompressed_name(Path::new(name)).and_then(Path::to_str)?;
    Format::from_extension(Path::new(stem)).is_some().then_some(stem)
}

/// The regular files of a directory's classified entries (not links, which may lead anywhere), by
/// name, with their identity when they have several hard links.
fn plain_files(entries: &[(String, PathBuf, Entry)]) -> HashMap<&str, Option<FileIdentity>> {
    entries
        .iter()
        .filter_map(|(name, _, kind)| match kind {
            Entry::File {
                link: false, identity, ..
            } => Some((name.as_str(), *identity)),
            _ => None,
        })
        .collect()
}

/// Whether the entry `name` (`d.jsonl.gz`) is a compressed copy of a regular file beside it that
/// the walk reads (`d.jsonl`), as `gzip -k` leaves the two: such a copy is not read, so that its
/// documents are not scored twice. Not when the two are hard links to one file (read once as such).
fn is_compressed_copy(name: &str, kind: &Entry, plain: &HashMap<&str, Option<FileIdentity>>) -> bool {
    let (Entry::File { identity, .. }, Some(stem)) = (kind, compressed_stem(name, kind)) else {
        return false;
    };
    plain
        .get(stem)
        .is_some_and(|sibling| identity.is_none() || sibling != identity)
}

/// A directory entry's name (or a path) as text, for ids, sorting and listings. A name that is
/// not UTF-8 (possible on Unix) is read all the same, its file opened by its real name: the
/// bytes that are not UTF-8 are written `\xNN`, so no two such names read alike.
fn entry_name(name: &std::ffi::OsStr) -> String {
    if let Some(text) = name.to_str() {
        return text.to_owned();
    }
    #[cfg(unix)]
    {
        use std::fmt::Write;
        use std::os::unix::ffi::OsStrExt;
        let mut text = String::new();
        for chunk in name.as_bytes().utf8_chunks() {
            text.push_str(chunk.valid());
            for byte in chunk.invalid() {
                let _ = write!(text, "\\x{byte:02X}");
            }
        }
        text
    }
    #[cfg(not(unix))]
    name.to_string_lossy().into_owned()
}

fn reads_its_output(input: &Path) -> Error {
    Error::Config(format!(
        "input {} is the output directory or a file in it: a run must not read what it writes",
        input.display()
    ))
}

/// Whether `dir` is the output directory of a run or a merge (it has stance's
/// own checkpoint or `run.json`, with or without its lock file): its rows are
/// results, never input, whoever reads the tree. A lock file alone (left by a
/// command that was refused), or another tool's `run.json`, does not make one.
#[must_use]
pub fn is_run_dir(dir: &Path) -> bool {
    // Not the lock: copies and syncs of a run may leave it behind (a `*.lock` ignore rule).
    holds_keys(dir, CHECKPOINT, &["version", "config", "offsets"])
        || holds_keys(dir, RUN_JSON, &["schema", "status", "sessions"])
}

/// Whether `dir/name` is a JSON object with these keys: stance's own file of that name, of any
/// version, not another tool's `run.json` in a folder of documents.
fn holds_keys(dir: &Path, name: &str, keys: &[&str]) -> bool {
    let Ok(bytes) = std::fs::read(dir.join(name)) else {
        return false;
    };
    serde_json::from_slice::<serde_json::Map<String, Value>>(&bytes)
        .is_ok_and(|object| keys.iter().all(|key| object.contains_key(*key)))
}

/// `path` made absolute with its links resolved, whether or not it exists:
/// the canonical form of its longest existing ancestor, then the rest.
fn resolve(path: &Path) -> Result<PathBuf> {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().map_err(|e| Error::io(path, e))?.join(path)
    };
    let mut rest = Vec::new();
    let mut base = absolute.as_path();
    loop {
        match std::fs::canonicalize(base) {
            Ok(mut resolved) => {
                resolved.extend(rest.iter().rev());
                return Ok(resolved);
            }
            Err(e) => match (base.parent(), base.file_name()) {
                (Some(parent), Some(name)) => {
                    rest.push(name);
                    base = parent;
                }
                _ => return Err(Error::io(path, e)),
            },
        }
    }
}

/// Whether walking the directory `outer` reaches the directory `inner`
/// (strictly inside it, with no hidden step on the way); both canonical.
fn walk_reaches(outer: &Path, inner: &Path) -> bool {
    inner.strip_prefix(outer).is_ok_and(|rest| {
        !rest.as_os_str().is_empty() && !rest.components().any(|c| entry_name(c.as_os_str()).starts_with('.'))
    })
}

/// Refuses an output directory that holds documents (files a walk would read, other than a run's
/// own outputs): once it holds a run, every walk would skip them as results.
pub(crate) fn check_out_holds_no_documents(out: &Path) -> Result<()> {
    // A run's directory (resumed, or a stopped merge run again) is skipped by every walk already.
    if is_run_dir(out) {
        return Ok(());
    }
    // Files named as a run's outputs are what is left of one, which the checks of resume and
    // merge refuse by name.
    match input_file_in(out, true) {
        Some(file) => Err(Error::Config(format!(
            "the output directory {} holds {}, which a walk would read as documents, and would skip \
             once the directory holds a run: choose an empty or new output directory",
            out.display(),
            file.display()
        ))),
        None => Ok(()),
    }
}

/// The first file under `dir` that a walk would read as input (or report as unreadable, as it
/// does a directory it cannot list), leaving out other runs' directories, and files of `dir`
/// named as a run's outputs with `outputs`; `None` for a `dir` that does not exist.
fn input_file_in(dir: &Path, outputs: bool) -> Option<PathBuf> {
    let listing = match std::fs::read_dir(dir) {
        Ok(listing) => listing,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        // The walk reports a directory it cannot list as a failed record.
        Err(_) => return Some(dir.to_path_buf()),
    };
    let mut entries: Vec<_> = listing.flatten().collect();
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let name = entry_name(&entry.file_name());
        if outputs
            && [
                SENTENCES,
                DOCUMENTS,
                ERRORS,
                DOCUMENTS_JSONL,
                SUMMARY_CSV,
                SENTENCES_PARQUET,
                DOCUMENTS_PARQUET,
            ]
            .contains(&name.as_str())
        {
            continue;
        }
        let path = entry.path();
        match Entry::of(&entry, &name, &path, None) {
            Entry::Dir => {
                if let Some(found) = input_file_in(&path, false) {
                    return Some(found);
                }
            }
            Entry::File { .. } | Entry::Unreadable(_) => return Some(path),
            Entry::Hidden { .. } | Entry::Output | Entry::RunDir | Entry::Other | Entry::LinkToDir => {}
        }
    }
    None
}

/// Refuses inputs that hold nothing to read, before the run starts: every input an output
/// directory of another run, or a directory whose walk would open no file (it holds only other
/// runs, hidden entries or files of other extensions). An empty result would read as "these
/// documents mention no actor" when the path or the extension was wrong. A directory is looked
/// through only up to its first file the walk reads.
fn check_something_to_read(pending: &[Pending], skipped: &[PathBuf]) -> Result<()> {
    if pending.is_empty() {
        if let Some(first) = skipped.first() {
            return Err(Error::Config(format!(
                "nothing to read: every input is the output directory of a stance run or merge (such as {}), \
                 whose rows are results, not documents; name the corpus instead",
                first.display()
            )));
        }
        return Ok(());
    }
    let walks_nothing = |p: &Pending| match p {
        Pending::Dir { path, .. } => input_file_in(path, false).is_none(),
        _ => false,
    };
    if let (true, Some(Pending::Dir { path, .. })) = (pending.iter().all(walks_nothing), pending.first()) {
        return Err(Error::Config(format!(
            "nothing to read: {} holds no file the walk reads ({} files, the first ones also compressed as .gz or \
             .zst, outside hidden entries and other runs' output directories); name files of other extensions \
             with --input-format",
            path.display(),
            Format::EXTENSIONS_READ
        )));
    }
    Ok(())
}

/// What an entry of a walked directory is to the walk. [`Entry::of`] decides it for the walk
/// itself, for the size of the input ([`input_size`]) and for the check of an output directory
/// inside the input, so that the three cannot disagree.
#[derive(Debug, PartialEq)]
enum Entry {
    /// A hidden entry (its name starts with `.`): passed over, and not listed.
    /// A name starting with `.`: not read; `listed` when it is a directory or a file of a
    /// format read, which could hold documents.
    Hidden { listed: bool },
    /// A directory, walked in its turn.
    Dir,
    /// The run's own output directory: not walked.
    Output,
    /// The output directory of another run or merge: not walked, and listed
    /// ([`CorpusReader::skipped_run_dirs`]).
    RunDir,
    /// A file read (or a link to one), its size, and whether it is a link (not read when the
    /// file it leads to is read anyway: [`ReadAnyway`]).
    File {
        format: Format,
        bytes: u64,
        link: bool,
        identity: Option<FileIdentity>,
    },
    /// An entry under a name we would read that cannot be read: reported as a failed record.
    Unreadable(String),
    /// A file (or anything else) whose extension names no format: not read, and listed.
    Other,
    /// A link to a directory: not followed (it can loop), and listed.
    LinkToDir,
}

impl Entry {
    /// What `entry` (named `name`, at `path`) is to the walk; `excluded`, the run's own output
    /// directory (canonical), is never walked.
    fn of(entry: &std::fs::DirEntry, name: &str, path: &Path, excluded: Option<&Path>) -> Entry {
        if name.starts_with('.') {
            // Listed when it could hold documents: a directory (not a run's, this one's output
            // included), or a file of a format read.
            let dir = entry.file_type().is_ok_and(|t| t.is_dir());
            let results = dir
                && (is_run_dir(path)
                    || excluded.is_some_and(|out| std::fs::canonicalize(path).is_ok_and(|p| p == out)));
            let could_hold = Format::from_extension(path).is_some() || (dir && !results);
            return Entry::Hidden { listed: could_hold };
        }
        let format = Format::from_extension(path);
        // file_type() does not follow links: a linked directory is skipped (loops), a linked file is read.
        let file_type = match entry.file_type() {
            Ok(file_type) => file_type,
            // Gone since it was listed, or unreadable: reported under a name we would read, listed otherwise.
            Err(e) if format.is_some() => return Entry::Unreadable(format!("cannot open the file: {e}")),
            Err(_) => return Entry::Other,
        };
        if file_type.is_dir() {
            if excluded.is_some_and(|out| std::fs::canonicalize(path).is_ok_and(|p| p == out)) {
                return Entry::Output;
            }
            return if is_run_dir(path) { Entry::RunDir } else { Entry::Dir };
        }
        match (std::fs::metadata(path), format) {
            (Ok(meta), _) if meta.is_dir() => Entry::LinkToDir,
            (Ok(meta), Some(format)) if meta.is_file() => Entry::File {
                format,
                bytes: meta.len(),
                link: file_type.is_symlink(),
                identity: hard_link_identity(&meta),
            },
            // A FIFO, socket or device under a name we would read is reported, not read: a FIFO
            // with no writer would hold the walk for ever.
            (Ok(_), Some(_)) => Entry::Unreadable("not a regular file (a FIFO, socket or device): not read".to_owned()),
            // A link that leads nowhere (or around in circles) under a name we would read is reported, not skipped.
            (Err(e), Some(_)) if file_type.is_symlink() => {
                Entry::Unreadable(format!("cannot open the linked file: {e}"))
            }
            (Err(e), Some(_)) => Entry::Unreadable(format!("cannot open the file: {e}")),
            (_, None) => Entry::Other,
        }
    }
}

/// Refuses an input named twice, or inside a directory also named, whose
/// documents would be scored twice.
///
/// Each input is looked up, and so are its ancestors, among the inputs given:
/// a shell glob (`articles/*.txt`) names tens of thousands of files, and
/// comparing every pair of them took minutes before the first document.
fn check_distinct(inputs: &[PathBuf]) -> Result<()> {
    let mut given: HashMap<PathBuf, &PathBuf> = HashMap::with_capacity(inputs.len());
    let mut hard_linked: HashMap<FileIdentity, &PathBuf> = HashMap::new();
    let mut resolved_inputs = Vec::with_capacity(inputs.len());
    for input in inputs {
        // Missing inputs are reported when planned.
        let Some(resolved) = resolved_input(input) else {
            continue;
        };
        if let Some(other) = given.get(&resolved) {
            return Err(Error::Config(format!(
                "{} and {} are the same input: name each input once",
                other.display(),
                input.display()
            )));
        }
        // Two names of one file (hard links) are one input too.
        if let Some(identity) = std::fs::metadata(input).ok().as_ref().and_then(hard_link_identity) {
            if let Some(other) = hard_linked.insert(identity, input) {
                return Err(Error::Config(format!(
                    "{} and {} are the same file (hard links to it): name each input once",
                    other.display(),
                    input.display()
                )));
            }
        }
        given.insert(resolved.clone(), input);
        resolved_inputs.push((input, resolved));
    }
    let mut compressed_forms: HashMap<PathBuf, &PathBuf> = HashMap::new();
    for (input, resolved) in &resolved_inputs {
        let Some(uncompressed) = compressed::uncompressed_name(resolved)
            .map(|stem| resolved.with_file_name(stem))
            .filter(|stem| Format::from_extension(stem).is_some())
        else {
            continue;
        };
        if let Some(original) = given.get(&uncompressed) {
            return Err(Error::Config(format!(
                "{} is a compressed copy of {}, also given (as `gzip -k` leaves them): its documents would be \
                 read twice; name one of them (or rename one, if they hold different documents)",
                input.display(),
                original.display()
            )));
        }
        if let Some(other) = compressed_forms.insert(uncompressed.clone(), input) {
            return Err(Error::Config(format!(
                "{} and {} are two compressed forms of {}: its documents would be read twice; name one of \
                 them (or rename one, if they hold different documents)",
                other.display(),
                input.display(),
                uncompressed.display()
            )));
        }
    }
    for (inner, resolved) in &resolved_inputs {
        let outer = resolved
            .ancestors()
            .skip(1)
            .find_map(|ancestor| given.get(ancestor).filter(|_| walked_into(ancestor, resolved)));
        if let Some(outer) = outer {
            return Err(Error::Config(format!(
                "{} is inside {}, which is also given: its documents would be read twice",
                inner.display(),
                outer.display()
            )));
        }
    }
    Ok(())
}

/// An input as [`check_distinct`] compares it: standard input by name, a
/// path resolved; `None` for a path that does not exist.
fn resolved_input(input: &Path) -> Option<PathBuf> {
    if input.as_os_str() == "-" {
        Some(input.to_path_buf())
    } else {
        std::fs::canonicalize(input).ok()
    }
}

/// Whether walking the directory `outer` reaches `inner` (no hidden step on
/// the way, and, for a file, an extension the walk reads).
fn walked_into(outer: &Path, inner: &Path) -> bool {
    let Ok(rest) = inner.strip_prefix(outer) else {
        return false;
    };
    if rest.as_os_str().is_empty() {
        return false;
    }
    let hidden = rest.components().any(|c| entry_name(c.as_os_str()).starts_with('.'));
    !hidden && (inner.is_dir() || Format::from_extension(inner).is_some())
}

impl Iterator for CorpusReader {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        loop {
            if let Some(source) = self.current.as_mut() {
                if let Some(record) = source.next_record() {
                    self.current_records += 1;
                    return Some(record);
                }
                if self.current_records == 0 {
                    self.empty_files.add(source.label());
                }
                self.current_records = 0;
                self.finished_bytes += source.bytes();
                self.found.add(source.fields_found());
                self.current = None;
            }
            match self.open_next()? {
                Ok(source) => self.current = Some(source),
                Err(record) => return Some(*record),
            }
        }
    }
}

/// The total size in bytes of the files `inputs` would read, or `None` when
/// one of them is standard input. Walks directories as [`CorpusReader`] does.
#[must_use]
pub fn input_size(inputs: &[PathBuf]) -> Option<u64> {
    let mut total = 0u64;
    let mut read_anyway = ReadAnyway::of(inputs);
    let mut stack: Vec<PathBuf> = inputs.to_vec();
    while let Some(path) = stack.pop() {
        if path.as_os_str() == "-" {
            return None;
        }
        let Ok(meta) = std::fs::metadata(&path) else { continue };
        if meta.is_file() {
            total += meta.len();
            continue;
        }
        // A run's directory named as an input is not read (CorpusReader::new).
        if is_run_dir(&path) && inputs.contains(&path) {
            continue;
        }
        let Ok(entries) = std::fs::read_dir(&path) else {
            continue;
        };
        let classified: Vec<(String, PathBuf, Entry)> = entries
            .flatten()
            .map(|entry| {
                let (name, path) = (entry_name(&entry.file_name()), entry.path());
                let kind = Entry::of(&entry, &name, &path, None);
                (name, path, kind)
            })
            .collect();
        let copies = compressed_copies(&classified);
        for ((_, path, kind), copy) in classified.into_iter().zip(copies) {
            match kind {
                Entry::Dir => stack.push(path),
                Entry::File { .. } if copy => {}
                Entry::File { link, identity, .. }
                    if read_anyway.read_elsewhere(&path, link, identity, None).is_some() => {}
                Entry::File { bytes, .. } => total += bytes,
                _ => {}
            }
        }
    }
    Some(total)
}

fn open_file(
    path: &Path,
    label: String,
    id: String,
    format: Format,
    fields: &Arc<Fields>,
    limit: u64,
) -> std::result::Result<Box<dyn Source>, Box<Record>> {
    let file = File::open(path).map_err(|e| {
        Box::new(error_record(
            &label,
            None,
            id.clone(),
            ErrorKind::Io,
            format!("cannot open: {e}"),
        ))
    })?;
    if format == Format::Parquet {
        if Compression::of(path).is_none() {
            return Ok(parquet_source(file, label, id, fields, limit));
        }
        let size = file.metadata().map_or(0, |m| m.len());
        let record = error_record(&label, None, id, ErrorKind::Io, PARQUET_NOT_STREAMED);
        return Ok(Box::new(FailedSource::new(record).counting(size)));
    }
    let mut file = file;
    if Compression::of(path).is_none() {
        if let Some(reason) = compressed_without_saying_so(&mut file) {
            // Counted as read, as input_size counts it.
            let size = file.metadata().map_or(0, |m| m.len());
            let record = error_record(&label, None, id, ErrorKind::InvalidUtf8, reason);
            return Ok(Box::new(FailedSource::new(record).counting(size)));
        }
    }
    let Some(compression) = Compression::of(path) else {
        return Ok(source_of(Box::new(file), format, label, id, fields, limit));
    };
    let consumed = Arc::new(AtomicU64::new(0));
    let reader = compression.reader(file, consumed.clone()).map_err(|e| {
        Box::new(error_record(
            &label,
            None,
            id.clone(),
            ErrorKind::Io,
            format!("cannot start decompressing: {e}"),
        ))
    })?;
    Ok(Box::new(CompressedSource {
        inner: source_of(reader, format, label, id, fields, limit),
        consumed,
    }))
}

/// The first `n` bytes of `reader` (fewer at its end), read however many reads they take, and
/// the reader; an error other than an interruption is returned, not guessed past.
fn peek<R: Read>(mut reader: R, n: usize) -> std::io::Result<(Vec<u8>, R)> {
    let mut head = vec![0u8; n];
    let mut filled = 0;
    while filled < n {
        match reader.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    head.truncate(filled);
    Ok((head, reader))
}

/// Why a regular file whose name says nothing of compression cannot be read: it starts as gzip
/// or Zstandard data do (bytes no UTF-8 text starts with), so every format would read garbage.
/// `None` otherwise, the file rewound; a pipe (`<(zcat ...)`) is not looked at, as it cannot rewind.
fn compressed_without_saying_so(file: &mut File) -> Option<String> {
    use std::io::{Seek, SeekFrom};
    if !file.metadata().is_ok_and(|m| m.is_file()) {
        return None;
    }
    let mut head = [0u8; 4];
    let read = file.read(&mut head).ok()?;
    file.seek(SeekFrom::Start(0)).ok()?;
    let hint = compressed::hint(&head[..read]);
    (!hint.is_empty()).then(|| format!("the file is not text{hint}"))
}

/// A Parquet file's rows (in builds without the `parquet` feature, one error that says so).
fn parquet_source(file: File, label: String, id: String, fields: &Arc<Fields>, limit: u64) -> Box<dyn Source> {
    #[cfg(feature = "parquet")]
    return Box::new(super::parquet_input::ParquetSource::new(
        file,
        label,
        id,
        fields.clone(),
        limit,
    ));
    #[cfg(not(feature = "parquet"))]
    {
        let _ = (file, fields, limit);
        let reason = "this build of stance reads no Parquet: build it with the `parquet` feature (a default)";
        Box::new(FailedSource::new(error_record(&label, None, id, ErrorKind::Io, reason)))
    }
}

/// A source that gives one error and ends: an input that cannot be read in the format asked.
struct FailedSource {
    record: Option<Record>,
    label: String,
    /// The input's size, counted as read: progress is measured against it.
    bytes: u64,
}

impl FailedSource {
    fn new(record: Record) -> Self {
        FailedSource {
            label: record.location.file.clone(),
            record: Some(record),
            bytes: 0,
        }
    }

    fn counting(self, bytes: u64) -> Self {
        FailedSource { bytes, ..self }
    }
}

/// Why a Parquet input given as a stream is not read.
const PARQUET_NOT_STREAMED: &str = "Parquet is not read from a compressed file or standard input (its reader must \
    seek; Parquet compresses its own pages): give the file itself";

impl Source for FailedSource {
    fn next_record(&mut self) -> Option<Record> {
        self.record.take()
    }

    fn label(&self) -> &str {
        &self.label
    }

    fn bytes(&self) -> u64 {
        self.bytes
    }
}

fn source_of(
    reader: Box<dyn Read + Send>,
    format: Format,
    label: String,
    id: String,
    fields: &Arc<Fields>,
    limit: u64,
) -> Box<dyn Source> {
    match format {
        Format::Text => Box::new(TextSource::new(reader, label, id, limit)),
        Format::Jsonl => Box::new(JsonlSource::new(
            BufReader::with_capacity(1 << 16, reader),
            label,
            id,
            fields.clone(),
            limit,
        )),
        Format::Csv => Box::new(CsvSource::new(reader, label, id, fields, limit)),
        // Parquet must seek to its footer: a stream (a compressed file, standard input) is no use.
        Format::Parquet => Box::new(FailedSource::new(error_record(
            &label,
            None,
            id,
            ErrorKind::Io,
            PARQUET_NOT_STREAMED,
        ))),
    }
}

/// A compressed file's records, its progress counted in the compressed bytes read, as
/// [`input_size`] counts the files on disk.
struct CompressedSource {
    inner: Box<dyn Source>,
    consumed: Arc<AtomicU64>,
}

impl Source for CompressedSource {
    fn next_record(&mut self) -> Option<Record> {
        self.inner.next_record()
    }

    fn label(&self) -> &str {
        self.inner.label()
    }

    fn bytes(&self) -> u64 {
        self.consumed.load(Ordering::Relaxed)
    }

    fn fields_found(&self) -> FieldsFound {
        self.inner.fields_found()
    }
}

pub(super) fn error_record(
    file: &str,
    line: Option<u64>,
    id: String,
    kind: ErrorKind,
    reason: impl Into<String>,
) -> Record {
    Record {
        location: Location {
            file: file.to_owned(),
            line,
        },
        document: Err(RecordError {
            id,
            kind,
            reason: reason.into(),
        }),
    }
}

/// Checks a document's text: blank text (byte-order marks count as blanks) is an error.
///
/// A record field keeps a leading byte-order mark, so that offsets index the field as the user
/// has it (and as Python, given that string, reports them); a whole file's mark is its encoding's
/// and is dropped before (`without_byte_order_mark`). Either way the mark is read as a blank.
pub(super) fn checked_text(text: String) -> std::result::Result<String, (ErrorKind, String)> {
    if text.chars().all(crate::segment::is_space) {
        return Err((ErrorKind::EmptyText, EMPTY_TEXT.into()));
    }
    Ok(text)
}

/// A whole file's text without the byte-order mark its encoding may open with.
fn without_byte_order_mark(mut text: String) -> String {
    if text.starts_with('\u{feff}') {
        text.drain(..'\u{feff}'.len_utf8());
    }
    text
}

/// A whole file (or standard input) as one document.
struct TextSource {
    reader: Option<Box<dyn Read + Send>>,
    label: String,
    id: String,
    bytes: u64,
    limit: u64,
}

impl TextSource {
    fn new(reader: Box<dyn Read + Send>, label: String, id: String, limit: u64) -> Self {
        TextSource {
            reader: Some(reader),
            label,
            id,
            bytes: 0,
            limit,
        }
    }
}

impl Source for TextSource {
    fn fields_found(&self) -> FieldsFound {
        FieldsFound {
            plain_text: self.reader.is_none(),
            ..FieldsFound::default()
        }
    }

    fn next_record(&mut self) -> Option<Record> {
        let reader = self.reader.take()?;
        let mut bytes = Vec::new();
        // One byte past the limit tells a file of exactly `limit` bytes from a larger one.
        if let Err(e) = reader.take(self.limit.saturating_add(1)).read_to_end(&mut bytes) {
            return Some(error_record(
                &self.label,
                None,
                self.id.clone(),
                ErrorKind::Io,
                format!("cannot read: {e}"),
            ));
        }
        self.bytes = bytes.len() as u64;
        if self.bytes > self.limit {
            // The rest is not read: it may never end (a device, an endless pipe).
            let reason = format!(
                "the document is larger than {} bytes (--max-record-size); it is skipped",
                self.limit
            );
            return Some(error_record(
                &self.label,
                None,
                self.id.clone(),
                ErrorKind::TooLarge,
                reason,
            ));
        }
        let text = match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                let reason = format!("invalid UTF-8 at byte {at} (is this a text file?)");
                return Some(error_record(
                    &self.label,
                    None,
                    self.id.clone(),
                    ErrorKind::InvalidUtf8,
                    reason,
                ));
            }
        };
        let location = Location {
            file: self.label.clone(),
            line: None,
        };
        let document = match checked_text(without_byte_order_mark(text)) {
            Ok(text) => Ok(Document::new(self.id.clone(), text)),
            Err((kind, reason)) => Err(RecordError {
                id: self.id.clone(),
                kind,
                reason,
            }),
        };
        Some(Record { location, document })
    }

    fn bytes(&self) -> u64 {
        self.bytes
    }

    fn label(&self) -> &str {
        &self.label
    }
}

/// JSON Lines: one object per non-blank line.
struct JsonlSource<R> {
    reader: R,
    label: String,
    id_base: String,
    fields: Arc<Fields>,
    line: u64,
    bytes: u64,
    buf: Vec<u8>,
    failed: bool,
    limit: usize,
    found: FieldsFound,
}

impl<R: BufRead + Send> JsonlSource<R> {
    fn new(reader: R, label: String, id_base: String, fields: Arc<Fields>, limit: u64) -> Self {
        JsonlSource {
            reader,
            label,
            id_base,
            fields,
            line: 0,
            bytes: 0,
            buf: Vec::new(),
            failed: false,
            limit: usize::try_from(limit).unwrap_or(usize::MAX),
            found: FieldsFound::default(),
        }
    }

    fn default_id(&self) -> String {
        format!("{}:{}", self.id_base, self.line)
    }

    fn parse_line(&mut self) -> Record {
        let id = self.default_id();
        let fail = |kind, reason: String| error_record(&self.label, Some(self.line), id.clone(), kind, reason);
        let line = match std::str::from_utf8(&self.buf) {
            Ok(line) => line,
            Err(e) => {
                return fail(
                    ErrorKind::InvalidUtf8,
                    format!("invalid UTF-8 at byte {} of the line", e.valid_up_to()),
                );
            }
        };
        let line = line.trim_start_matches('\u{feff}').trim_end_matches(['\n', '\r']);
        let object = match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(object)) => object,
            Ok(other) => {
                return fail(
                    ErrorKind::MalformedJson,
                    format!("expected a JSON object, found {}", kind_of(&other)),
                )
            }
            Err(e) => return fail(ErrorKind::MalformedJson, json_error(&e, line)),
        };
        self.found.see(&self.fields, |name| object.contains_key(name));
        let document = document_from_object(&object, line, &self.fields, id);
        Record {
            location: Location {
                file: self.label.clone(),
                line: Some(self.line),
            },
            document,
        }
    }
}

impl<R: BufRead + Send> Source for JsonlSource<R> {
    fn next_record(&mut self) -> Option<Record> {
        if self.failed {
            return None;
        }
        loop {
            self.buf.clear();
            match read_line_limited(&mut self.reader, &mut self.buf, self.limit) {
                Ok((0, _)) => return None,
                Ok((n, too_large)) => {
                    self.bytes += n;
                    self.line += 1;
                    if too_large {
                        let reason = format!(
                            "the line is longer than {} bytes (--max-record-size); it is skipped",
                            self.limit
                        );
                        let id = self.default_id();
                        return Some(error_record(
                            &self.label,
                            Some(self.line),
                            id,
                            ErrorKind::TooLarge,
                            reason,
                        ));
                    }
                    // A line of only a byte-order mark (an empty file saved by an editor that
                    // writes one) is blank too: parse_line strips the mark from any line.
                    let content = self.buf.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&self.buf);
                    if content.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    return Some(self.parse_line());
                }
                Err(e) => {
                    // The rest of the file is unreachable: say where reading stopped, once.
                    self.failed = true;
                    self.line += 1;
                    let reason = format!("read failed, the rest of the file is skipped: {e}");
                    return Some(error_record(
                        &self.label,
                        Some(self.line),
                        self.default_id(),
                        ErrorKind::Io,
                        reason,
                    ));
                }
            }
        }
    }

    fn bytes(&self) -> u64 {
        self.bytes
    }

    fn label(&self) -> &str {
        &self.label
    }

    fn fields_found(&self) -> FieldsFound {
        self.found
    }
}

/// Reads one line (with its `\n`) into `buf`, keeping at most `limit` bytes
/// besides the `\n`: the rest of a longer line is read and dropped, so memory
/// stays bounded even on a line that never ends. Returns the bytes consumed
/// and whether the line was too long (`buf` is then empty).
pub(crate) fn read_line_limited(
    reader: &mut impl BufRead,
    buf: &mut Vec<u8>,
    limit: usize,
) -> std::io::Result<(u64, bool)> {
    let (mut consumed, mut too_large) = (0u64, false);
    loop {
        let available = match reader.fill_buf() {
            Ok(available) => available,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok((consumed, too_large));
        }
        let newline = available.iter().position(|&b| b == b'\n');
        let piece = &available[..newline.map_or(available.len(), |i| i + 1)];
        // The line's end is no part of the record, `\r\n` as little as `\n` (CSV rows are
        // measured so too). Its `\r` may have come in the previous buffer, and a `\r` that ends
        // this one is not counted until the next one shows whether a `\n` follows it.
        let line_end = match newline {
            Some(i) => {
                let before = if i > 0 { available.get(i - 1) } else { buf.last() };
                1 + usize::from(before == Some(&b'\r'))
            }
            None => usize::from(piece.last() == Some(&b'\r')),
        };
        let content = buf.len() + piece.len() - line_end;
        if !too_large && content > limit {
            too_large = true;
            buf.clear();
            buf.shrink_to_fit();
        }
        if !too_large {
            buf.extend_from_slice(piece);
        }
        let n = piece.len();
        reader.consume(n);
        consumed += n as u64;
        if newline.is_some() {
            return Ok((consumed, too_large));
        }
    }
}

/// serde_json's message with the column, and without its "line 1" (the line is the file's, given separately).
pub(crate) fn json_error(e: &serde_json::Error, line: &str) -> String {
    // Named only when it is the first thing wrong on the line, not after another error.
    if let Some((column, escape)) = lone_surrogate(line).filter(|&(column, _)| column <= e.column()) {
        return format!(
            "malformed JSON at column {column}: `{escape}` is half of a UTF-16 surrogate pair with no \
             other half, so it is no Unicode character (Python's json.dumps writes these for text \
             decoded with errors=\"surrogateescape\"; decode or clean it before writing)"
        );
    }
    let message = json_message(e);
    if message == "recursion limit exceeded" {
        // Valid JSON, maybe: serde_json stops at 128 levels, so that a line cannot overflow the stack.
        return format!(
            "unreadable JSON at column {}: arrays or objects nested more than 128 levels deep, more than \
             the JSON reader takes (even in a field not read); flatten or drop that field",
            e.column()
        );
    }
    format!("malformed JSON at column {}: {message}", e.column())
}

/// serde_json's message without the position it ends with (" at line L column C"), which is
/// wrong for a line read on its own; cut from the end, as the text quoted may hold those words.
pub(crate) fn json_message(e: &serde_json::Error) -> String {
    let message = e.to_string();
    match message.rsplit_once(" at line ") {
        Some((message, _)) => message.to_owned(),
        None => message,
    }
}

/// The first `\uD800`-`\uDFFF` escape in a JSON string of `line` that is not a high surrogate
/// followed by a low one, with its column (in characters, from 1). serde_json refuses these with
/// a message about hex escapes that does not say what is wrong with the text.
fn lone_surrogate(line: &str) -> Option<(usize, &str)> {
    let bytes = line.as_bytes();
    let unit_at = |i: usize| -> Option<u16> {
        let hex = line.get(i + 2..i + 6).filter(|_| bytes[i + 1] == b'u')?;
        u16::from_str_radix(hex, 16).ok()
    };
    let (mut i, mut in_string) = (0, false);
    while i < bytes.len() {
        match bytes[i] {
            b'"' => in_string = !in_string,
            b'\\' if in_string => match unit_at(i) {
                Some(0xD800..=0xDBFF) if matches!(unit_at(i + 6), Some(0xDC00..=0xDFFF)) => i += 11,
                Some(0xD800..=0xDFFF) => return Some((line[..i].chars().count() + 1, &line[i..i + 6])),
                Some(_) => i += 5,
                None => i += 1,
            },
            _ => {}
        }
        i += 1;
    }
    None
}

pub(crate) fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Builds a document from a JSON object's fields (`line`: the object's text). Fields are read,
/// not taken, so that two options naming one key (`--id-field text`) both get its value.
fn document_from_object(
    object: &serde_json::Map<String, Value>,
    line: &str,
    fields: &Fields,
    default_id: String,
) -> std::result::Result<Document, RecordError> {
    let text = || match object.get(&fields.text) {
        Some(Value::String(text)) => Ok(text.clone()),
        None => Err((ErrorKind::MissingText, format!("no {:?} field", fields.text))),
        Some(Value::Null) => Err((ErrorKind::MissingText, format!("the {:?} field is null", fields.text))),
        Some(other) => Err((
            ErrorKind::InvalidField,
            format!("field {:?} must be a string, found {}", fields.text, kind_of(other)),
        )),
    };
    let named = FieldNames {
        field: "field",
        scalars: "a string or a number",
    };
    document_of(
        fields,
        default_id,
        &named,
        |name| scalar_field(object, line, name),
        text,
    )
}

/// How a record's fields are named in errors: `field` ("field", "column") and the kinds of
/// value an optional field may hold.
pub(super) struct FieldNames {
    pub field: &'static str,
    pub scalars: &'static str,
}

/// A document from a record's fields, as JSON Lines and Parquet hold them: `scalar` reads an
/// optional field (id, date, source, title) as text (`Err` names what it found instead), `text`
/// the text field. An id that is absent or blank falls back to `default_id`; blank metadata is
/// none; the text is checked by [`checked_text`].
pub(super) fn document_of(
    fields: &Fields,
    default_id: String,
    named: &FieldNames,
    scalar: impl Fn(&str) -> std::result::Result<Option<String>, &'static str>,
    text: impl FnOnce() -> std::result::Result<String, (ErrorKind, String)>,
) -> std::result::Result<Document, RecordError> {
    let FieldNames { field, scalars } = named;
    let id = match scalar(&fields.id) {
        Ok(Some(id)) if !id.trim().is_empty() => id,
        Ok(_) => default_id,
        Err(found) => {
            return Err(RecordError {
                id: default_id,
                kind: ErrorKind::InvalidField,
                reason: format!("{field} {:?} must be a string or a number, found {found}", fields.id),
            });
        }
    };
    let fail = |(kind, reason): (ErrorKind, String)| {
        Err(RecordError {
            id: id.clone(),
            kind,
            reason,
        })
    };
    let text = match text().and_then(checked_text) {
        Ok(text) => text,
        Err(error) => return fail(error),
    };
    let mut doc = Document::new(id.clone(), text);
    for (name, slot) in [
        (&fields.date, &mut doc.date),
        (&fields.source, &mut doc.source),
        (&fields.title, &mut doc.title),
    ] {
        match scalar(name) {
            Ok(value) => *slot = value.filter(|v| !v.trim().is_empty()),
            Err(found) => {
                let reason = format!("{field} {name:?} must be {scalars}, found {found}");
                return fail((ErrorKind::InvalidField, reason));
            }
        }
    }
    Ok(doc)
}

/// A string or number field as text, a number as written on `line` (an id is a name, not a
/// quantity: 1e2, -0 or 12345678901234567890123 stay as they are, where a float would read
/// 100.0, -0.0, or round two ids into one); `Ok(None)` when absent or null, `Err(kind)` for a
/// boolean, an array or an object.
fn scalar_field(
    object: &serde_json::Map<String, Value>,
    line: &str,
    name: &str,
) -> std::result::Result<Option<String>, &'static str> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(number_as_written(line, name).unwrap_or_else(|| n.to_string()))),
        Some(other) => Err(kind_of(other)),
    }
}

/// The JSON text of field `name` of the object on `line`, exactly as written (the last of
/// duplicate keys, as serde_json keeps).
fn number_as_written(line: &str, name: &str) -> Option<String> {
    let raw: std::collections::HashMap<String, &serde_json::value::RawValue> = serde_json::from_str(line).ok()?;
    raw.get(name).map(|value| value.get().trim().to_owned())
}

/// Column positions of the document fields in a CSV header.
#[derive(Clone, Copy, Default)]
struct Columns {
    /// `None`: every row is a failed record, named by its id, as a JSON Lines object without
    /// the text field is (see `missing_text`).
    text: Option<usize>,
    id: Option<usize>,
    date: Option<usize>,
    source: Option<usize>,
    title: Option<usize>,
}

/// CSV with a header row: one document per row.
struct CsvSource<R: Read> {
    reader: csv::Reader<QuoteWatch<R>>,
    label: String,
    id_base: String,
    columns: Option<Columns>,
    /// Why each row fails when the header has no usable text column: it names the columns there
    /// are, or the column named twice.
    missing_text: String,
    /// The kind of those failures: `MissingText`, or `InvalidField` for a column named twice.
    missing_kind: ErrorKind,
    /// Row reads so far, the one that met the end of the file included (a file of no rows and
    /// no text column is still one error).
    reads: u64,
    record: csv::ByteRecord,
    /// An error about the whole file (a header row that cannot be read), reported once.
    header_error: Option<Record>,
    done: bool,
}

impl<R: Read + Send> CsvSource<R> {
    fn new(input: R, label: String, id_base: String, fields: &Fields, limit: u64) -> Self {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(QuoteWatch::new(input, limit));
        let mut missing_text = String::new();
        let mut missing_kind = ErrorKind::MissingText;
        let columns = Self::columns(&mut reader, fields, &mut missing_text, &mut missing_kind);
        let end = reader.position().byte();
        // Blank lines may come before the header: errors name the line it is on.
        let header_line = reader.get_mut().take_row_line(0, end).unwrap_or(1);
        let columns = if reader.get_mut().take_truncated(0, end).is_some() {
            // Only the header's first bytes were read: nothing after it can be trusted.
            Err((
                ErrorKind::TooLarge,
                format!("the header row is larger than {limit} bytes (--max-record-size); the file is skipped"),
            ))
        } else {
            columns.and_then(|columns| match reader.get_mut().take_anomaly(0, end) {
                // A stray quote inside the header's own line garbles only that line's names,
                // which the columns found (or each row's missing-column error) show: the rows,
                // read one by one as ever, are not lost with it.
                Some(anomaly) if anomaly.shows == Some(anomaly.opened) => Ok(columns),
                // A quote that never closes swallows the whole file into the header, and one
                // closed on a later line merged rows into it: no column can be trusted.
                Some(anomaly) => Err((
                    ErrorKind::MalformedCsv,
                    format!("{anomaly}; that row is the header, so no row of the file is read"),
                )),
                None => Ok(columns),
            })
        };
        let (columns, header_error) = match columns {
            Ok(columns) => (columns, None),
            Err((kind, reason)) => (
                None,
                Some(error_record(&label, Some(header_line), id_base.clone(), kind, reason)),
            ),
        };
        CsvSource {
            reader,
            label,
            id_base,
            columns,
            missing_text,
            missing_kind,
            reads: 0,
            record: csv::ByteRecord::new(),
            header_error,
            done: false,
        }
    }

    /// The header's columns; `missing_text` gets the reason rows fail when the text column is
    /// not among them.
    fn columns(
        reader: &mut csv::Reader<QuoteWatch<R>>,
        fields: &Fields,
        missing_text: &mut String,
        missing_kind: &mut ErrorKind,
    ) -> std::result::Result<Option<Columns>, (ErrorKind, String)> {
        let headers = reader
            .byte_headers()
            .map_err(|e| (csv_error_kind(&e), format!("cannot read the header row: {e}")))?;
        let names: Vec<String> = headers
            .iter()
            .map(|h| {
                String::from_utf8_lossy(h)
                    .trim()
                    .trim_start_matches('\u{feff}')
                    .to_string()
            })
            .collect();
        // No field, or one blank one: an empty file, blank lines or a byte-order mark alone. It
        // holds no row, so no document, and is listed with the files that held no record.
        if names.len() <= 1 && names.iter().all(String::is_empty) {
            return Ok(None);
        }
        let find = |name: &str| names.iter().position(|n| n == name);
        let mut text = find(&fields.text);
        if text.is_none() {
            *missing_text = format!(
                "no {:?} column in the header row (columns: {})",
                fields.text,
                names.join(", ")
            );
        }
        // The text column named twice: which one is the document cannot be told, so no row is
        // read (the first alone would drop the other's text without a word). Of an optional
        // field's, the first is read, as before.
        let at: Vec<String> = (names.iter().enumerate())
            .filter(|(_, n)| **n == fields.text)
            .map(|(i, _)| (i + 1).to_string())
            .collect();
        if at.len() > 1 {
            let name = &fields.text;
            text = None;
            *missing_kind = ErrorKind::InvalidField;
            *missing_text = format!(
                "the header row names {} columns {name:?} (columns {}): which one to read cannot be told; \
                 rename all but one",
                at.len(),
                at.join(", ")
            );
        }
        Ok(Some(Columns {
            text,
            id: find(&fields.id),
            date: find(&fields.date),
            source: find(&fields.source),
            title: find(&fields.title),
        }))
    }

    fn document(&self, columns: &Columns, line: u64) -> std::result::Result<Document, RecordError> {
        let default_id = format!("{}:{line}", self.id_base);
        let field = |index: Option<usize>, name: &str| -> std::result::Result<Option<String>, String> {
            let Some(bytes) = index.and_then(|i| self.record.get(i)) else {
                return Ok(None);
            };
            match std::str::from_utf8(bytes) {
                Ok(s) if s.trim().is_empty() => Ok(None),
                Ok(s) => Ok(Some(s.to_owned())),
                Err(e) => Err(format!("invalid UTF-8 at byte {} of column {name:?}", e.valid_up_to())),
            }
        };
        let utf8 = |id: &str, reason| RecordError {
            id: id.to_owned(),
            kind: ErrorKind::InvalidUtf8,
            reason,
        };
        let id = field(columns.id, "id")
            .map_err(|r| utf8(&default_id, r))?
            .unwrap_or(default_id);
        let Some(text_column) = columns.text else {
            return Err(RecordError {
                id,
                kind: self.missing_kind,
                reason: self.missing_text.clone(),
            });
        };
        let text = field(Some(text_column), "text").map_err(|r| utf8(&id, r))?;
        let text = text.ok_or_else(|| RecordError {
            id: id.clone(),
            kind: ErrorKind::EmptyText,
            reason: EMPTY_TEXT.into(),
        })?;
        let text = checked_text(text).map_err(|(kind, reason)| RecordError {
            id: id.clone(),
            kind,
            reason,
        })?;
        let mut doc = Document::new(id.clone(), text);
        doc.date = field(columns.date, "date").map_err(|r| utf8(&id, r))?;
        doc.source = field(columns.source, "source").map_err(|r| utf8(&id, r))?;
        doc.title = field(columns.title, "title").map_err(|r| utf8(&id, r))?;
        Ok(doc)
    }
}

/// What is wrong with a row, without the `csv` crate's own position (its line is wrong after
/// `\r\n` and blank lines; the error's `line` is the right one).
fn csv_error_text(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("the row has {len} field(s) where the rows before it have {expected_len}")
        }
        csv::ErrorKind::Utf8 { err, .. } => format!(
            "field {} is not UTF-8 (from byte {})",
            err.field() + 1,
            err.valid_up_to()
        ),
        csv::ErrorKind::Io(io) => format!("read failed: {io}"),
        _ => e.to_string(),
    }
}

fn csv_error_kind(e: &csv::Error) -> ErrorKind {
    match e.kind() {
        csv::ErrorKind::Io(_) => ErrorKind::Io,
        csv::ErrorKind::Utf8 { .. } => ErrorKind::InvalidUtf8,
        _ => ErrorKind::MalformedCsv,
    }
}

impl<R: Read + Send> Source for CsvSource<R> {
    fn next_record(&mut self) -> Option<Record> {
        if let Some(record) = self.header_error.take() {
            self.done = true;
            return Some(record);
        }
        if self.done {
            return None;
        }
        let columns = self.columns?;
        let (start, start_line) = (self.reader.position().byte(), self.reader.position().line());
        let read = self.reader.read_byte_record(&mut self.record);
        self.reads += 1;
        match read {
            Ok(false) => {
                self.done = true;
                // No rows to fail: the missing column (a misspelled --text-field) is said once.
                let silent = columns.text.is_none() && self.reads == 1;
                silent.then(|| {
                    let reason = self.missing_text.clone();
                    error_record(&self.label, Some(1), self.id_base.clone(), self.missing_kind, reason)
                })
            }
            Ok(true) => {
                let end = self.reader.position().byte();
                let line = self.row_line(start, end, self.record.position().map(csv::Position::line));
                if let Some(record) = self.too_large(start, end) {
                    return Some(record);
                }
                let document = match self.reader.get_mut().take_anomaly(start, end) {
                    Some(anomaly) => Err(RecordError {
                        id: format!("{}:{line}", self.id_base),
                        kind: ErrorKind::MalformedCsv,
                        reason: anomaly.to_string(),
                    }),
                    None => self.document(&columns, line),
                };
                Some(Record {
                    location: Location {
                        file: self.label.clone(),
                        line: Some(line),
                    },
                    document,
                })
            }
            Err(e) => {
                let end = self.reader.position().byte();
                // An I/O error (a compressed file cut short) has no position: the row starts where the last ended.
                let csv_line = e.position().map(csv::Position::line).or(Some(start_line));
                let line = self.row_line(start, end, csv_line);
                let kind = csv_error_kind(&e);
                if kind != ErrorKind::Io {
                    // A row cut at the limit may lack fields: it is too large, not malformed.
                    if let Some(record) = self.too_large(start, end) {
                        return Some(record);
                    }
                }
                let anomaly = self.reader.get_mut().take_anomaly(start, end);
                // After an I/O error the reader cannot go on; after a malformed row it can.
                self.done = kind == ErrorKind::Io;
                let id = format!("{}:{line}", self.id_base);
                let (kind, reason) = match anomaly {
                    // A quote left open explains the row and names the rows it swallowed; the
                    // field count or the bytes the merged row then gets wrong follow from it.
                    Some(anomaly) if kind != ErrorKind::Io => (ErrorKind::MalformedCsv, anomaly.to_string()),
                    // csv_error_text says "read failed: ...".
                    _ if kind == ErrorKind::Io => {
                        (kind, format!("{}; the rest of the file is skipped", csv_error_text(&e)))
                    }
                    _ => (kind, format!("malformed CSV row: {}", csv_error_text(&e))),
                };
                Some(error_record(&self.label, Some(line), id, kind, reason))
            }
        }
    }

    fn label(&self) -> &str {
        &self.label
    }

    fn bytes(&self) -> u64 {
        let watch = self.reader.get_ref();
        (self.reader.position().byte() + watch.dropped).saturating_sub(watch.injected)
    }

    fn fields_found(&self) -> FieldsFound {
        let mut found = FieldsFound::default();
        if let Some(columns) = &self.columns {
            let held = [columns.id, columns.date, columns.source, columns.title];
            found.read = true;
            found.found = held.map(|column| column.is_some());
        }
        found
    }
}

impl<R: Read + Send> CsvSource<R> {
    /// The 1-based line where the row read in `start..end` starts.
    fn row_line(&mut self, start: u64, end: u64, csv_line: Option<u64>) -> u64 {
        let watched = self.reader.get_mut().take_row_line(start, end);
        watched.or(csv_line).unwrap_or(0)
    }

    /// The error for the row read in `start..end` if it is one the watch cut at the limit.
    fn too_large(&mut self, start: u64, end: u64) -> Option<Record> {
        let watch = self.reader.get_mut();
        let cut = watch.take_truncated(start, end)?;
        let _ = watch.take_anomaly(start, end);
        let reason = match cut.end_line {
            Some(end_line) if end_line > cut.line => format!(
                "the row at lines {}-{end_line} is larger than {} bytes (--max-record-size); it is skipped",
                cut.line, watch.limit
            ),
            Some(_) => format!(
                "the row at line {} is larger than {} bytes (--max-record-size); it is skipped",
                cut.line, watch.limit
            ),
            None => format!(
                "the row starting at line {} is larger than {} bytes (--max-record-size) and runs to the end of \
                 the file (a quote left open?); the rest of the file is skipped",
                cut.line, watch.limit
            ),
        };
        let id = format!("{}:{}", self.id_base, cut.line);
        Some(error_record(
            &self.label,
            Some(cut.line),
            id,
            ErrorKind::TooLarge,
            reason,
        ))
    }
}

/// Where a CSV reader is, quote-wise: the states of RFC 4180 quoting as the
/// `csv` crate reads it (a quote opens a field only at its start; `""` in a
/// quoted field is a quote).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum QuoteState {
    FieldStart,
    Unquoted,
    Quoted,
    /// A quote inside a quoted field: it closes the field unless another quote follows.
    QuoteInQuoted,
    /// Spaces after a closing quote.
    AfterQuote,
}

/// A quote that does not pair up as CSV means it to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct QuoteAnomaly {
    /// Byte offset where it shows, inside the row it spoils.
    offset: u64,
    /// Line of the quote that opened the field.
    opened: u64,
    /// Line where it shows; `None` when the file ended inside the quotes.
    shows: Option<u64>,
}

impl std::fmt::Display for QuoteAnomaly {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.shows {
            None => write!(
                f,
                "malformed CSV row: the quote opened at line {} is never closed, so the field runs to the end \
                 of the file and swallows every row after it",
                self.opened
            ),
            Some(line) if line == self.opened => write!(
                f,
                "malformed CSV row: at line {line}, the quoted field is closed by a quote that text follows \
                 (a quote inside a quoted field is written \"\")"
            ),
            Some(line) => write!(
                f,
                "malformed CSV row: the quote opened at line {} is closed at line {line} by a quote that text \
                 follows, so the rows in between were probably merged into this one by a quote left open",
                self.opened
            ),
        }
    }
}

/// Passes a CSV input through to the `csv` reader, watching what it cannot
/// report: quotes that never close (the crate ends the field at the end of
/// the file), quotes closed by a quote that text follows (the crate reads
/// on, silently merging rows), and rows longer than the limit (it would
/// buffer them whole).
struct QuoteWatch<R> {
    inner: R,
    limit: u64,
    state: QuoteState,
    /// Bytes passed on, and the line they end on (a line ends at `\n`, `\r\n` or a lone `\r`).
    offset: u64,
    line: u64,
    /// The last byte was `\r` (so a `\n` after it ends no further line).
    after_cr: bool,
    /// The last byte ended a line.
    ended_line: bool,
    /// The next byte passed on that is not a line end starts a row (blank lines are no rows).
    at_row_start: bool,
    /// Where rows start (offset in the bytes passed on) and on which line, not yet matched to a row.
    row_lines: std::collections::VecDeque<(u64, u64)>,
    /// Where the raw row being passed on began.
    row_start: u64,
    row_line: u64,
    /// Line of the quote that opened the current quoted field.
    opened: u64,
    /// Anomalies not yet matched to a row (the `csv` reader reads ahead).
    anomalies: std::collections::VecDeque<QuoteAnomaly>,
    /// Input read from `inner` and not yet passed on.
    raw: Box<[u8]>,
    raw_pos: usize,
    raw_len: usize,
    /// Bytes to pass on before any more input: the end of a row cut at the limit.
    inject: std::collections::VecDeque<u8>,
    /// The rest of a row past the limit, being dropped.
    skipping: Option<Skip>,
    /// Rows cut at the limit, not yet matched to a row.
    truncated: std::collections::VecDeque<Truncated>,
    /// Input bytes dropped, and bytes passed on that were not input.
    dropped: u64,
    injected: u64,
    /// The input has ended (or must not be read further): only `inject` is left.
    ended: bool,
}

/// A row past the limit whose rest is being dropped.
struct Skip {
    /// Where the `csv` reader was left, quote-wise.
    state: QuoteState,
    /// Line ends dropped inside the row, given back so that later rows keep their line numbers.
    newlines: u64,
}

/// A row cut at the limit: the `csv` reader gets its first bytes, then an
/// end of row, then the rows after it.
#[derive(Clone, Copy, Debug)]
struct Truncated {
    /// Offset (in the bytes passed on) of the injected end of row.
    offset: u64,
    /// Its first line, and the last one (`None` when the file ended inside it).
    line: u64,
    end_line: Option<u64>,
}

impl<R: Read> QuoteWatch<R> {
    fn new(inner: R, limit: u64) -> Self {
        QuoteWatch {
            inner,
            limit,
            state: QuoteState::FieldStart,
            offset: 0,
            line: 1,
            after_cr: false,
            ended_line: false,
            at_row_start: true,
            row_lines: std::collections::VecDeque::new(),
            row_start: 0,
            row_line: 1,
            opened: 0,
            anomalies: std::collections::VecDeque::new(),
            raw: vec![0; 1 << 16].into_boxed_slice(),
            raw_pos: 0,
            raw_len: 0,
            inject: std::collections::VecDeque::new(),
            skipping: None,
            truncated: std::collections::VecDeque::new(),
            dropped: 0,
            injected: 0,
            ended: false,
        }
    }

    /// The first cut row inside the bytes `start..end` (a row), dropping those before `end`.
    fn take_truncated(&mut self, start: u64, end: u64) -> Option<Truncated> {
        let mut found = None;
        while let Some(cut) = self.truncated.front().copied() {
            if cut.offset >= end {
                break;
            }
            self.truncated.pop_front();
            if cut.offset >= start && found.is_none() {
                found = Some(cut);
            }
        }
        found
    }

    /// Ends the row cut at the limit for the `csv` reader with `terminator`
    /// (the row's own end), giving back the line ends dropped inside it in a
    /// quoted field, so that the rows after it keep their line numbers.
    fn end_cut_row(&mut self, skip: &Skip, end_line: Option<u64>, terminator: u8) {
        if let Some(cut) = self.truncated.back_mut() {
            cut.end_line = end_line;
        }
        let before = self.inject.len();
        let newlines = usize::try_from(skip.newlines).unwrap_or(usize::MAX);
        if newlines > 0 {
            match skip.state {
                QuoteState::Quoted => {}
                QuoteState::FieldStart => self.inject.push_back(b'"'),
                _ => self.inject.extend(*b",\""),
            }
            self.inject.extend(std::iter::repeat_n(b'\n', newlines));
            self.inject.push_back(b'"');
        } else if skip.state == QuoteState::Quoted {
            self.inject.push_back(b'"');
        }
        self.inject.push_back(terminator);
        self.injected += (self.inject.len() - before) as u64;
        // The next row starts after what is injected.
        self.row_start = self.offset + self.inject.len() as u64;
        self.row_line = self.line;
        self.at_row_start = true;
    }

    /// Input is over: ends a row being dropped, or reports a quote left open.
    fn end_of_input(&mut self) {
        self.ended = true;
        if let Some(skip) = self.skipping.take() {
            self.end_cut_row(&skip, None, b'\n');
        } else if self.state == QuoteState::Quoted {
            self.anomalies.push_back(QuoteAnomaly {
                offset: self.offset.saturating_sub(1),
                opened: self.opened,
                shows: None,
            });
            // Reported once: the quote is over as far as the watch is concerned.
            self.state = QuoteState::FieldStart;
        }
    }

    /// The first anomaly inside the bytes `start..end` (a row), dropping those before `end`.
    fn take_anomaly(&mut self, start: u64, end: u64) -> Option<QuoteAnomaly> {
        let mut found = None;
        while let Some(anomaly) = self.anomalies.front().copied() {
            if anomaly.offset >= end {
                break;
            }
            self.anomalies.pop_front();
            if anomaly.offset >= start && found.is_none() {
                found = Some(anomaly);
            }
        }
        found
    }

    /// Advances the quote state by one byte (at `self.offset` of the bytes
    /// passed on); returns whether it ends a row.
    fn step(&mut self, byte: u8) -> bool {
        use QuoteState::{AfterQuote, FieldStart, QuoteInQuoted, Quoted, Unquoted};
        let row_end = matches!(byte, b'\n' | b'\r');
        self.state = match (self.state, byte) {
            (FieldStart, b'"') => {
                self.opened = self.line;
                Quoted
            }
            (Quoted, b'"') => QuoteInQuoted,
            (Quoted, _) => Quoted,
            (QuoteInQuoted, b'"') => Quoted,
            (FieldStart | Unquoted | QuoteInQuoted | AfterQuote, b',') => FieldStart,
            (FieldStart | Unquoted | QuoteInQuoted | AfterQuote, _) if row_end => FieldStart,
            (QuoteInQuoted | AfterQuote, b' ' | b'\t') => AfterQuote,
            (QuoteInQuoted | AfterQuote, _) => {
                // Inside a row being dropped, the row is reported as too large instead.
                if self.skipping.is_none() {
                    self.anomalies.push_back(QuoteAnomaly {
                        offset: self.offset,
                        opened: self.opened,
                        shows: Some(self.line),
                    });
                }
                Unquoted
            }
            (FieldStart | Unquoted, _) => Unquoted,
        };
        self.ended_line = byte == b'\r' || (byte == b'\n' && !self.after_cr);
        self.after_cr = byte == b'\r';
        self.line += u64::from(self.ended_line);
        row_end && self.state == QuoteState::FieldStart
    }

    /// The line of the row read in `start..end` (the first row starting there), dropping
    /// those before `end`. The `csv` reader's own line is wrong after `\r\n` or lone `\r`
    /// line ends and after blank lines: ids and errors say the line a user's editor shows.
    fn take_row_line(&mut self, start: u64, end: u64) -> Option<u64> {
        let mut found = None;
        while let Some((offset, line)) = self.row_lines.front().copied() {
            if offset >= end {
                break;
            }
            self.row_lines.pop_front();
            if offset >= start && found.is_none() {
                found = Some(line);
            }
        }
        found
    }

    /// Takes one byte of input: passes it on (`Some`) or drops it, with the
    /// rest of its row, when the row passes the limit.
    fn take(&mut self, byte: u8) -> Option<u8> {
        if self.skipping.is_some() {
            self.dropped += 1;
            let row_ended = self.step(byte);
            if let Some(skip) = self.skipping.take_if(|_| row_ended) {
                let end_line = self.line - u64::from(self.ended_line);
                self.end_cut_row(&skip, Some(end_line), byte);
            } else if let Some(skip) = self.skipping.as_mut() {
                skip.newlines += u64::from(byte == b'\n');
            }
            return None;
        }
        let before = self.state;
        let row_line = self.row_line;
        let row_ended = self.step(byte);
        if !row_ended && self.offset + 1 - self.row_start > self.limit {
            // Cut here: the `csv` reader would buffer the whole row.
            self.dropped += 1;
            self.truncated.push_back(Truncated {
                offset: self.offset,
                line: row_line,
                end_line: None,
            });
            let skip = Skip {
                state: before,
                newlines: u64::from(byte == b'\n'),
            };
            if self.row_start == 0 {
                // The header: without it no row can be read, so reading stops here.
                self.end_cut_row(&skip, None, b'\n');
                self.ended = true;
            } else {
                self.skipping = Some(skip);
            }
            return None;
        }
        if self.at_row_start && !matches!(byte, b'\n' | b'\r') {
            self.row_lines.push_back((self.offset, row_line));
            self.at_row_start = false;
        }
        self.offset += 1;
        if row_ended {
            self.row_start = self.offset;
            self.row_line = self.line;
            self.at_row_start = true;
        }
        Some(byte)
    }
}

impl<R: Read> Read for QuoteWatch<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut written = 0;
        while written < buf.len() {
            if let Some(byte) = self.inject.pop_front() {
                buf[written] = byte;
                written += 1;
                self.offset += 1;
                continue;
            }
            if self.ended {
                break;
            }
            if self.raw_pos == self.raw_len {
                if written > 0 {
                    break;
                }
                self.raw_len = self.inner.read(&mut self.raw)?;
                self.raw_pos = 0;
                if self.raw_len == 0 {
                    self.end_of_input();
                }
                continue;
            }
            let byte = self.raw[self.raw_pos];
            self.raw_pos += 1;
            if let Some(byte) = self.take(byte) {
                buf[written] = byte;
                written += 1;
            }
        }
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extensions_messages_name_are_those_read() {
        let named: Vec<&str> = Format::EXTENSIONS_READ
            .split([',', ' '])
            .filter(|word| word.starts_with('.'))
            .collect();
        assert_eq!(named.len(), 8, "{named:?}");
        for ext in named {
            assert!(Format::from_extension(format!("a{ext}").as_ref()).is_some(), "{ext}");
        }
    }

    fn read(name: &str, content: &[u8], options: ReadOptions) -> Vec<Record> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        CorpusReader::new(&[path], options).unwrap().collect()
    }

    fn summary(records: &[Record]) -> Vec<(String, Option<u64>, Option<ErrorKind>)> {
        records
            .iter()
            .map(|r| {
                // Ids of a file named explicitly start with its path: keep the file name.
                (
                    r.id().rsplit('/').next().unwrap_or_default().to_owned(),
                    r.location.line,
                    r.document.as_ref().err().map(|e| e.kind),
                )
            })
            .collect()
    }

    #[test]
    fn jsonl_lines_are_numbered_across_blank_lines_and_crlf() {
        let records = read(
            "a.jsonl",
            b"{\"text\": \"one\"}\r\n\r\n{\"text\": \"two\", \"id\": 7}\n{\"text\"",
            ReadOptions::default(),
        );
        let a = "a.jsonl".to_owned();
        assert_eq!(
            summary(&records),
            [
                (format!("{a}:1"), Some(1), None),
                ("7".to_owned(), Some(3), None),
                (format!("{a}:4"), Some(4), Some(ErrorKind::MalformedJson)),
            ]
        );
    }

    #[test]
    fn json_nested_past_the_readers_depth_is_named_so() {
        let deep = format!(
            "{{\"text\": \"China.\", \"meta\": {}{}}}\n",
            "[".repeat(200),
            "]".repeat(200)
        );
        let records = read("a.jsonl", deep.as_bytes(), ReadOptions::default());
        let error = records[0].document.as_ref().unwrap_err();
        assert_eq!(error.kind, ErrorKind::MalformedJson);
        assert!(
            error.reason.contains("nested more than 128 levels deep"),
            "{}",
            error.reason
        );
    }

    #[test]
    fn a_json_text_that_is_null_is_told_from_one_that_is_missing() {
        let records = read(
            "a.jsonl",
            b"{\"text\": null}\n{\"body\": \"x\"}\n",
            ReadOptions::default(),
        );
        let reasons: Vec<&str> = records
            .iter()
            .map(|r| r.document.as_ref().unwrap_err().reason.as_str())
            .collect();
        assert_eq!(reasons, ["the \"text\" field is null", "no \"text\" field"]);
        assert!(records
            .iter()
            .all(|r| r.document.as_ref().unwrap_err().kind == ErrorKind::MissingText));
    }

    #[test]
    fn csv_without_the_text_column_fails_every_row_naming_the_columns() {
        let records = read(
            "a.csv",
            b"id,body\n1,China spoke.\n\n2,India spoke.\n",
            ReadOptions::default(),
        );
        assert_eq!(
            summary(&records),
            [
                ("1".to_owned(), Some(2), Some(ErrorKind::MissingText)),
                ("2".to_owned(), Some(4), Some(ErrorKind::MissingText)),
            ]
        );
        let error = records[1].document.as_ref().unwrap_err();
        assert_eq!(error.reason, "no \"text\" column in the header row (columns: id, body)");
        // Without rows, the header is the one error.
        let records = read("a.csv", b"id,body\n", ReadOptions::default());
        assert_eq!(
            summary(&records),
            [("a.csv".to_owned(), Some(1), Some(ErrorKind::MissingText))]
        );
    }

    #[test]
    fn csv_with_the_text_column_named_twice_fails_every_row() {
        let records = read(
            "a.csv",
            b"id,text,text\na,China one.,India two.\nb,x,y\n",
            ReadOptions::default(),
        );
        assert_eq!(
            summary(&records),
            [
                ("a".to_owned(), Some(2), Some(ErrorKind::InvalidField)),
                ("b".to_owned(), Some(3), Some(ErrorKind::InvalidField)),
            ]
        );
        let error = records[0].document.as_ref().unwrap_err();
        assert!(
            error
                .reason
                .starts_with("the header row names 2 columns \"text\" (columns 2, 3)"),
            "{}",
            error.reason
        );
        // Of an optional field's column named twice, the first is read; one column named by two
        // options is no column named twice.
        let records = read("a.csv", b"id,text,id\n1,China.,2\n", ReadOptions::default());
        assert_eq!(summary(&records), [("1".to_owned(), Some(2), None)]);
        let mut options = ReadOptions::default();
        options.fields.id = "text".into();
        let records = read("a.csv", b"text\nChina.\n", options);
        assert!(records[0].document.is_ok());
    }

    /// The fields `reader` reports unmatched once it has read everything.
    fn unmatched(files: &[(&str, &[u8])], fields: Fields) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        for (name, content) in files {
            std::fs::write(dir.path().join(name), content).unwrap();
        }
        let options = ReadOptions {
            fields,
            ..ReadOptions::default()
        };
        let mut reader = CorpusReader::new(&[dir.path().to_path_buf()], options).unwrap();
        reader.by_ref().for_each(drop);
        reader.unmatched_fields()
    }

    #[test]
    fn fields_named_for_inputs_that_are_all_plain_text_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let dump = dir.path().join("dump.txt");
        std::fs::write(&dump, "{\"body\": \"China spoke.\"}\n").unwrap();
        let options = |format: Option<Format>| {
            let mut options = ReadOptions::default();
            options.fields.text = "body".into();
            options.format = format;
            options
        };
        let error = CorpusReader::new(std::slice::from_ref(&dump), options(None))
            .err()
            .unwrap()
            .to_string();
        assert!(
            error.contains("--text-field \"body\" names a JSON key or CSV column")
                && error.contains("dump.txt is read as text by its extension")
                && error.contains("--input-format jsonl"),
            "{error}"
        );
        let mut stdin = ReadOptions::default();
        stdin.fields.id = "doc_id".into();
        let error = CorpusReader::new(&["-".into()], stdin).err().unwrap().to_string();
        assert!(
            error.contains("--id-field \"doc_id\"") && error.contains("standard input"),
            "{error}"
        );
        // Read as JSON Lines, beside a directory that may hold some, or with the default names: read.
        assert!(CorpusReader::new(std::slice::from_ref(&dump), options(Some(Format::Jsonl))).is_ok());
        let other = tempfile::tempdir().unwrap();
        assert!(CorpusReader::new(&[dump.clone(), other.path().to_path_buf()], options(None)).is_ok());
        assert!(CorpusReader::new(&[dump], ReadOptions::default()).is_ok());
    }

    #[test]
    fn fields_given_a_name_no_record_holds_are_named() {
        let fields = Fields {
            id: "doc_id".into(),
            date: "published".into(),
            source: "outlet".into(),
            ..Fields::default()
        };
        // The id is in the second file's objects, the date in the CSV header only, the source nowhere.
        let files: [(&str, &[u8]); 3] = [
            ("a.jsonl", b"{\"text\": \"China spoke.\", \"id\": 1}\n"),
            (
                "b.jsonl",
                b"{\"text\": \"India spoke.\"}\n{\"text\": \"x\", \"doc_id\": null}\n",
            ),
            ("c.csv", b"text,published\n"),
        ];
        assert_eq!(unmatched(&files, fields.clone()), ["--source-field \"outlet\""]);
        // Default names are optional: a corpus without ids or dates is no mistake.
        assert!(unmatched(&files[..1], Fields::default()).is_empty());
        // Plain text has no fields: read alone, every name given is unmatched, the text's too.
        let text = Fields {
            text: "body".into(),
            ..fields.clone()
        };
        assert_eq!(
            unmatched(&[("a.txt", b"China spoke.")], text.clone()),
            [
                "--text-field \"body\"",
                "--id-field \"doc_id\"",
                "--date-field \"published\"",
                "--source-field \"outlet\""
            ]
        );
        assert!(unmatched(&[("a.txt", b"China spoke.")], Fields::default()).is_empty());
        // Beside a JSON Lines file, the text files say nothing of the fields.
        assert_eq!(
            unmatched(&[("a.txt", b"China spoke."), ("b.jsonl", files[1].1)], fields.clone()),
            ["--date-field \"published\"", "--source-field \"outlet\""]
        );
    }

    #[test]
    fn metadata_fields_and_byte_order_marks() {
        let mut options = ReadOptions::default();
        options.fields.text = "body".into();
        options.fields.source = "outlet".into();
        let records = read(
            "a.csv",
            "\u{feff}body,outlet,date\n\"China, again.\",Wire,2024-05-01\n".as_bytes(),
            options,
        );
        let doc = records[0].document.as_ref().unwrap();
        assert_eq!(
            (doc.text.as_str(), doc.source.as_deref(), doc.date.as_deref()),
            ("China, again.", Some("Wire"), Some("2024-05-01"))
        );
    }

    fn kinds(records: &[Record]) -> Vec<(Option<u64>, Option<ErrorKind>)> {
        records
            .iter()
            .map(|r| (r.location.line, r.document.as_ref().err().map(|e| e.kind)))
            .collect()
    }

    #[test]
    fn a_csv_quote_that_never_closes_is_a_malformed_row() {
        let records = read(
            "a.csv",
            b"id,text\nq1,\"China praised India.\nq2,India spoke.\nq3,The US spoke.\n",
            ReadOptions::default(),
        );
        assert_eq!(kinds(&records), [(Some(2), Some(ErrorKind::MalformedCsv))]);
        let reason = &records[0].document.as_ref().unwrap_err().reason;
        assert!(reason.contains("line 2") && reason.contains("never closed"), "{reason}");
    }

    #[test]
    fn a_csv_quote_closed_by_the_next_rows_quote_is_a_malformed_row() {
        let mut csv = String::from("id,text\n");
        for i in 1..=6 {
            let text = if i == 3 {
                "\"China praised India.".to_owned()
            } else {
                format!("\"Text {i}.\"")
            };
            csv.push_str(&format!("q{i},{text}\n"));
        }
        let records = read("a.csv", csv.as_bytes(), ReadOptions::default());
        assert_eq!(
            kinds(&records),
            [
                (Some(2), None),
                (Some(3), None),
                (Some(4), Some(ErrorKind::MalformedCsv)),
                (Some(6), None),
                (Some(7), None),
            ]
        );
        let reason = &records[2].document.as_ref().unwrap_err().reason;
        assert!(
            reason.contains("opened at line 4") && reason.contains("line 5"),
            "{reason}"
        );
    }

    #[test]
    fn rows_swallowed_by_an_open_quote_are_named_when_the_merged_row_has_too_many_fields() {
        // The commas of the row that closes the quote give the merged row four fields: the
        // quote that caused it, and the lines it swallowed, are what the error must say.
        let csv = b"id,text\nk1,China is a partner.\nk2,\"Beijing said the talks went well\nk3,India is a partner.\n\
                    k4,\"The US said, again, it would help.\"\nk5,The US is a partner.\n";
        let records = read("a.csv", csv, ReadOptions::default());
        assert_eq!(
            kinds(&records),
            [
                (Some(2), None),
                (Some(3), Some(ErrorKind::MalformedCsv)),
                (Some(6), None)
            ]
        );
        let reason = &records[1].document.as_ref().unwrap_err().reason;
        assert!(
            reason.contains("opened at line 3") && reason.contains("line 5") && reason.contains("merged"),
            "{reason}"
        );
    }

    #[test]
    fn a_line_end_is_no_part_of_the_limit() {
        for (input, capacity) in [
            (&b"abcd\r\nabcde\r\n"[..], 64),
            (b"abcd\r\nabcde\r\n", 5),
            (b"abcd\nabcde\n", 2),
        ] {
            let mut reader = std::io::BufReader::with_capacity(capacity, input);
            let mut buf = Vec::new();
            let lines: Vec<(u64, bool)> = (0..2)
                .map(|_| {
                    buf.clear();
                    read_line_limited(&mut reader, &mut buf, 4).unwrap()
                })
                .collect();
            let ending = if input.contains(&b'\r') { 2 } else { 1 };
            assert_eq!(
                lines,
                [(4 + ending, false), (5 + ending, true)],
                "{input:?} in buffers of {capacity}"
            );
        }
    }

    #[test]
    fn a_stray_quote_in_the_header_line_loses_no_row() {
        let records = read(
            "a.csv",
            b"\"id\"x,text\nx1,China spoke.\nx2,India spoke.\n",
            ReadOptions::default(),
        );
        assert_eq!(kinds(&records), [(Some(2), None), (Some(3), None)]);
        // A header quote closed on a later line merged rows into the header: the file is skipped,
        // saying so, at the header's line after the blank lines before it.
        let records = read(
            "a.csv",
            b"\n\n\"id,text\nx1,China spoke.\nx2,\"India spoke.\"\nx3,The US.\n",
            ReadOptions::default(),
        );
        assert_eq!(kinds(&records), [(Some(3), Some(ErrorKind::MalformedCsv))]);
        let reason = &records[0].document.as_ref().unwrap_err().reason;
        assert!(
            reason.contains("opened at line 3") && reason.contains("no row of the file is read"),
            "{reason}"
        );
    }

    #[test]
    fn a_jsonl_line_of_only_a_byte_order_mark_is_blank() {
        let records = read(
            "a.jsonl",
            b"\xef\xbb\xbf\r\n{\"text\": \"one\"}\n",
            ReadOptions::default(),
        );
        assert_eq!(summary(&records), [("a.jsonl:2".to_owned(), Some(2), None)]);
        for bytes in [&b"\xef\xbb\xbf"[..], b"\xef\xbb\xbf\n\n"] {
            assert_listed_as_empty("a.jsonl", bytes);
        }
    }

    /// A file of `bytes` named `name` holds no record, and the reader lists it as empty.
    fn assert_listed_as_empty(name: &str, bytes: &[u8]) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let mut reader = CorpusReader::new(&[path], ReadOptions::default()).unwrap();
        assert_eq!(reader.by_ref().count(), 0, "{bytes:?}");
        assert_eq!(reader.empty_files().count, 1, "{bytes:?}");
    }

    #[test]
    fn an_empty_csv_file_holds_no_record_and_is_listed_as_such() {
        for bytes in [&b""[..], b"\n\n", b"\xef\xbb\xbf"] {
            assert_listed_as_empty("a.csv", bytes);
        }
    }

    #[test]
    fn well_formed_csv_quotes_pass() {
        let records = read(
            "a.csv",
            b"id,text\n1,\"He said \"\"no\"\",\nthen left.\"\n2,\"Spaced\" ,\n",
            ReadOptions::default(),
        );
        // The second row has three fields where the header has two: the csv crate's own error.
        assert_eq!(
            kinds(&records),
            [(Some(2), None), (Some(4), Some(ErrorKind::MalformedCsv))]
        );
        assert_eq!(
            records[0].document.as_ref().unwrap().text,
            "He said \"no\",\nthen left."
        );
    }

    fn limited(limit: u64) -> ReadOptions {
        ReadOptions {
            max_record_bytes: limit,
            ..ReadOptions::default()
        }
    }

    #[test]
    fn records_over_the_limit_are_errors_and_reading_goes_on() {
        let long = "x".repeat(200);
        let jsonl = format!("{{\"text\": \"short\"}}\n{{\"text\": \"{long}\"}}\n{{\"text\": \"after\"}}\n");
        let records = read("a.jsonl", jsonl.as_bytes(), limited(100));
        assert_eq!(
            kinds(&records),
            [(Some(1), None), (Some(2), Some(ErrorKind::TooLarge)), (Some(3), None)]
        );
        let records = read("a.txt", long.as_bytes(), limited(100));
        assert_eq!(kinds(&records), [(None, Some(ErrorKind::TooLarge))]);
        assert_eq!(kinds(&read("a.txt", long.as_bytes(), limited(200))), [(None, None)]);
        let csv = format!("id,text\n1,short\n2,\"{long}\"\n3,after\n");
        let records = read("a.csv", csv.as_bytes(), limited(100));
        assert_eq!(
            kinds(&records),
            [(Some(2), None), (Some(3), Some(ErrorKind::TooLarge)), (Some(4), None)]
        );
    }

    #[test]
    fn a_stray_quote_on_one_line_is_not_called_a_merge_of_rows() {
        let records = read(
            "a.csv",
            b"id,text\n1,\"China\" praised India.\n2,ok\n",
            ReadOptions::default(),
        );
        assert_eq!(
            kinds(&records),
            [(Some(2), Some(ErrorKind::MalformedCsv)), (Some(3), None)]
        );
        let reason = &records[0].document.as_ref().unwrap_err().reason;
        assert!(reason.contains("at line 2") && !reason.contains("merged"), "{reason}");
    }

    #[test]
    fn a_csv_row_over_the_limit_is_skipped_to_its_end_and_rows_before_it_keep_their_errors() {
        let long = "x".repeat(200);
        let csv = format!("id,text\n1,a,extra\n2,fine\n3,\"{long}\"\n4,after\n");
        let records = read("a.csv", csv.as_bytes(), limited(100));
        assert_eq!(
            kinds(&records),
            [
                (Some(2), Some(ErrorKind::MalformedCsv)),
                (Some(3), None),
                (Some(4), Some(ErrorKind::TooLarge)),
                (Some(5), None)
            ]
        );
        // A long row over several lines, quoted, with quotes and commas inside: later lines keep their numbers.
        let csv = format!("id,text\n1,\"{long}\n\"\"{long}\"\",\n{long}\"\n2,after\n3,\"x\"\n");
        let records = read("a.csv", csv.as_bytes(), limited(100));
        assert_eq!(
            kinds(&records),
            [(Some(2), Some(ErrorKind::TooLarge)), (Some(5), None), (Some(6), None)]
        );
        let reason = &records[0].document.as_ref().unwrap_err().reason;
        assert!(reason.contains("lines 2-4") && reason.contains("skipped"), "{reason}");
        let ids: Vec<_> = records[1..]
            .iter()
            .map(|r| r.document.as_ref().unwrap().id.clone())
            .collect();
        assert_eq!(ids, ["2", "3"]);
        let crlf = csv.replace('\n', "\r\n");
        let records = read("a.csv", crlf.as_bytes(), limited(100));
        let unlimited = read("a.csv", crlf.as_bytes(), limited(1000));
        // The rows after it read as without a limit (line numbers included).
        assert_eq!(records[0].location.line, Some(2));
        assert_eq!(kinds(&records[1..]), kinds(&unlimited[1..]));
        // Without the text column every row fails, and one over the limit fails for that.
        let csv = format!("id,body\n1,\"{long}\"\n2,short\n");
        let records = read("a.csv", csv.as_bytes(), limited(100));
        assert_eq!(
            kinds(&records),
            [
                (Some(2), Some(ErrorKind::TooLarge)),
                (Some(3), Some(ErrorKind::MissingText))
            ]
        );
        // A header over the limit ends the file.
        let csv = format!("id,text{}\n1,after\n", ",x".repeat(100));
        let records = read("a.csv", csv.as_bytes(), limited(100));
        assert_eq!(kinds(&records), [(Some(1), Some(ErrorKind::TooLarge))]);
        // A row that runs to the end of the file.
        let csv = format!("id,text\n1,ok\n2,\"{long}\n{long}\n");
        let records = read("a.csv", csv.as_bytes(), limited(100));
        assert_eq!(kinds(&records), [(Some(2), None), (Some(3), Some(ErrorKind::TooLarge))]);
    }

    #[test]
    fn an_endless_line_is_read_in_bounded_memory() {
        let zeros = || std::io::repeat(0).take(16 << 20);
        let mut jsonl = JsonlSource::new(BufReader::new(zeros()), "z".into(), "z".into(), Arc::default(), 1 << 16);
        let record = jsonl.next_record().unwrap();
        assert_eq!(record.document.unwrap_err().kind, ErrorKind::TooLarge);
        assert!(jsonl.buf.capacity() <= 1 << 17, "{}", jsonl.buf.capacity());
        assert_eq!(jsonl.bytes, 16 << 20);
        let mut csv = CsvSource::new(zeros(), "z".into(), "z".into(), &Fields::default(), 1 << 16);
        assert_eq!(
            csv.next_record().unwrap().document.unwrap_err().kind,
            ErrorKind::TooLarge
        );
        assert!(csv.next_record().is_none());
        let mut text = TextSource::new(Box::new(zeros()), "z".into(), "z".into(), 1 << 16);
        assert_eq!(
            text.next_record().unwrap().document.unwrap_err().kind,
            ErrorKind::TooLarge
        );
        assert_eq!(text.bytes, (1 << 16) + 1);
    }

    #[test]
    fn an_input_is_read_once() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.txt");
        std::fs::write(&file, "China spoke.").unwrap();
        let twice = CorpusReader::new(
            &[file.clone(), dir.path().join(".").join("a.txt")],
            ReadOptions::default(),
        );
        assert!(twice.err().unwrap().to_string().contains("same input"));
        let nested = CorpusReader::new(&[dir.path().to_path_buf(), file.clone()], ReadOptions::default());
        assert!(nested.err().unwrap().to_string().contains("inside"));
    }

    /// Why the inputs are refused, by comparing every pair of them in order: `None`
    /// when they are not; `Some("same")`, or `Some(inner)` for an input inside another.
    fn refused_pairwise(inputs: &[PathBuf]) -> Option<String> {
        let resolved: Vec<_> = inputs.iter().map(|i| resolved_input(i)).collect();
        for (i, a) in resolved.iter().enumerate() {
            for (j, b) in resolved.iter().enumerate().take(i) {
                let (Some(a), Some(b)) = (a, b) else { continue };
                if a == b {
                    return Some("same".into());
                }
                if walked_into(a, b) {
                    return Some(inputs[j].display().to_string());
                }
                if walked_into(b, a) {
                    return Some(inputs[i].display().to_string());
                }
            }
        }
        None
    }

    #[test]
    fn inputs_are_checked_by_lookup_as_pair_by_pair() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for sub in ["corpus/sub", "corpus/.hidden", "other"] {
            std::fs::create_dir_all(root.join(sub)).unwrap();
        }
        for file in [
            "corpus/a.txt",
            "corpus/sub/b.jsonl",
            "corpus/.hidden/c.txt",
            "corpus/d.pdf",
            "other/e.csv",
        ] {
            std::fs::write(root.join(file), "China spoke.").unwrap();
        }
        let names = [
            "corpus",
            "corpus/sub",
            "corpus/a.txt",
            "corpus/./a.txt",
            "corpus/sub/b.jsonl",
            "corpus/.hidden",
            "corpus/.hidden/c.txt",
            "corpus/d.pdf",
            "other/e.csv",
            "missing.txt",
        ];
        let paths: Vec<PathBuf> = names.iter().map(|n| root.join(n)).chain([PathBuf::from("-")]).collect();
        for a in &paths {
            for b in &paths {
                // A pair holds one conflict at most: it is named alike (which input is inside which).
                let pair = [a.clone(), b.clone()];
                let message = check_distinct(&pair).err().map(|e| e.to_string());
                match refused_pairwise(&pair) {
                    None => assert_eq!(message, None, "{pair:?}"),
                    Some(why) => {
                        let expected = if why == "same" {
                            format!(": {} and {} are the same input", a.display(), b.display())
                        } else {
                            format!(": {why} is inside ")
                        };
                        let message = message.unwrap_or_default();
                        assert!(message.contains(&expected), "{pair:?}: {message}");
                    }
                }
                for c in &paths {
                    let triple = [a.clone(), b.clone(), c.clone()];
                    let refused = check_distinct(&triple).is_err();
                    assert_eq!(refused, refused_pairwise(&triple).is_some(), "{triple:?}");
                }
            }
        }
    }

    #[test]
    fn the_output_directory_is_never_read() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "China spoke.").unwrap();
        let out = dir.path().join("run");
        std::fs::create_dir(&out).unwrap();
        std::fs::write(out.join("sentences.jsonl"), "{\"text\": \"own output\"}\n").unwrap();
        let inputs = [dir.path().to_path_buf()];
        // Not a run's directory (no lock, no checkpoint): the file is someone's, and would be skipped.
        let reader = CorpusReader::new(&inputs, ReadOptions::default()).unwrap();
        assert!(reader.excluding_output(&out).is_err());
        // A run's checkpoint (stance's own: these keys, whatever their version), its lock lost.
        std::fs::write(out.join(CHECKPOINT), r#"{"version": 0, "config": {}, "offsets": {}}"#).unwrap();
        let reader = CorpusReader::new(&inputs, ReadOptions::default()).unwrap();
        let records: Vec<_> = reader.excluding_output(&out).unwrap().collect();
        assert_eq!(summary(&records), [("a.txt".to_owned(), None, None)]);
        let inside = [out.join("sentences.jsonl")];
        let reader = CorpusReader::new(&inside, ReadOptions::default()).unwrap();
        assert!(reader.excluding_output(&out).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn broken_and_looping_links_are_listed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "China spoke.").unwrap();
        std::os::unix::fs::symlink(dir.path().join("missing.txt"), dir.path().join("b.txt")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("c.txt"), dir.path().join("c.txt")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("missing"), dir.path().join("d.png")).unwrap();
        let records: Vec<_> = CorpusReader::new(&[dir.path().to_path_buf()], ReadOptions::default())
            .unwrap()
            .collect();
        assert_eq!(
            summary(&records),
            [
                ("a.txt".to_owned(), None, None),
                ("b.txt".to_owned(), None, Some(ErrorKind::Io)),
                ("c.txt".to_owned(), None, Some(ErrorKind::Io)),
            ]
        );
    }

    #[test]
    fn a_missing_input_is_an_error_before_reading() {
        let missing = PathBuf::from("/nonexistent/stance/corpus.jsonl");
        let error = CorpusReader::new(&[missing], ReadOptions::default()).err().unwrap();
        assert!(
            error.to_string().contains("/nonexistent/stance/corpus.jsonl"),
            "{error}"
        );
    }

    #[test]
    fn csv_rows_are_numbered_by_the_line_they_start_on() {
        let lines = |content: &[u8]| -> Vec<Option<u64>> {
            read("a.csv", content, ReadOptions::default())
                .iter()
                .map(|r| r.location.line)
                .collect()
        };
        // \r\n, lone \r and \n line ends; blank lines; a row whose quoted field spans two lines.
        assert_eq!(lines(b"text\r\nChina one.\r\nIndia.\r\n"), [Some(2), Some(3)]);
        assert_eq!(lines(b"text\rChina one.\rIndia two.\r"), [Some(2), Some(3)]);
        assert_eq!(
            lines(b"text\n\n\nChina one.\n\"India\ntwo.\"\nUS three.\n\n\"x\" y\n"),
            [Some(4), Some(5), Some(7), Some(9)]
        );
        let records = read("a.csv", b"text\r\n\r\nOne.\r\n\"x\" y\r\n", ReadOptions::default());
        assert_eq!(
            summary(&records),
            [
                ("a.csv:3".to_owned(), Some(3), None),
                ("a.csv:4".to_owned(), Some(4), Some(ErrorKind::MalformedCsv)),
            ]
        );
        // The message names no line of its own (the `csv` crate's would say 2 here).
        let records = read("a.csv", b"text,id\r\nChina,1\r\n\r\nIndia\r\n", ReadOptions::default());
        assert_eq!(records[1].location.line, Some(4));
        let reason = &records[1].document.as_ref().unwrap_err().reason;
        assert_eq!(
            reason,
            "malformed CSV row: the row has 1 field(s) where the rows before it have 2"
        );
    }

    #[test]
    fn json_options_naming_one_key_each_get_its_value() {
        let mut options = ReadOptions::default();
        options.fields.id = "text".into();
        options.fields.title = "text".into();
        let records = read("a.jsonl", b"{\"text\": \"China spoke.\"}\n", options);
        let doc = records[0].document.as_ref().unwrap();
        assert_eq!((doc.id.as_str(), doc.text.as_str()), ("China spoke.", "China spoke."));
        assert_eq!(doc.title.as_deref(), Some("China spoke."));
    }

    #[test]
    fn numeric_json_ids_stay_as_written_and_booleans_are_refused() {
        let records = read(
            "a.jsonl",
            b"{\"id\": 12345678901234567890123, \"text\": \"a\"}\n{\"id\": 12345678901234567890124, \"text\": \"b\"}\n\
              {\"id\": 1e2, \"text\": \"c\"}\n{\"id\":-0,\"text\":\"d\"}\n{\"id\": 7, \"id\": 8.50, \"text\": \"e\"}\n\
              {\"id\": true, \"text\": \"f\"}\n",
            ReadOptions::default(),
        );
        let ids: Vec<&str> = records.iter().map(Record::id).collect();
        assert_eq!(
            ids[..5],
            [
                "12345678901234567890123",
                "12345678901234567890124",
                "1e2",
                "-0",
                "8.50"
            ]
        );
        let error = records[5].document.as_ref().unwrap_err();
        assert_eq!(error.kind, ErrorKind::InvalidField);
        assert!(error.reason.contains("a boolean"), "{}", error.reason);
    }

    #[test]
    fn a_lone_surrogate_escape_is_named_with_its_column() {
        let records = read(
            "a.jsonl",
            b"{\"text\": \"ok \\ud83d\\ude00 \\\\ud800\"}\n{\"text\": \"x\\ud800 y\"}\n{\"text\": \"\\u00e9\\udc80\"}\n",
            ReadOptions::default(),
        );
        assert!(records[0].document.is_ok(), "a pair and an escaped backslash are fine");
        for (record, column, escape) in [(&records[1], 12, "\\ud800"), (&records[2], 17, "\\udc80")] {
            let error = record.document.as_ref().unwrap_err();
            assert_eq!(error.kind, ErrorKind::MalformedJson);
            let expected = format!("column {column}: `{escape}` is half of a UTF-16 surrogate pair");
            assert!(error.reason.contains(&expected), "{}", error.reason);
        }
    }

    #[cfg(unix)]
    #[test]
    fn names_that_are_not_utf8_are_read_under_an_escaped_id() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        let name = |bytes: &[u8]| std::ffi::OsStr::from_bytes(bytes).to_owned();
        let sub = dir.path().join(name(b"sub\xe9"));
        std::fs::create_dir(&sub).unwrap();
        std::fs::write(sub.join("ok.txt"), "India.").unwrap();
        std::fs::write(dir.path().join(name(b"caf\xe9.txt")), "China one.").unwrap();
        std::fs::write(dir.path().join(name(b"j\xff.jsonl")), "{\"text\": \"China.\"}\n").unwrap();
        let records: Vec<Record> = CorpusReader::new(&[dir.path().to_path_buf()], ReadOptions::default())
            .unwrap()
            .collect();
        let ids: Vec<&str> = records.iter().map(Record::id).collect();
        assert_eq!(ids, [r"caf\xE9.txt", r"j\xFF.jsonl:1", r"sub\xE9/ok.txt"]);
        assert!(records.iter().all(|r| r.document.is_ok()));
        // An output directory inside the input that holds such a file is refused like any other.
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        std::fs::write(out.join(name(b"caf\xe9.txt")), "China two.").unwrap();
        let reader = CorpusReader::new(&[dir.path().to_path_buf()], ReadOptions::default()).unwrap();
        assert!(reader.excluding_output(&out).is_err());
    }

    /// A link to a directory is not walked, so its files are not in the total, even under a name
    /// the walk would read as a file (one that loops back was walked round and round).
    #[cfg(unix)]
    #[test]
    fn the_input_size_counts_the_files_the_walk_reads() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "0123456789").unwrap();
        std::fs::write(dir.path().join("b.pdf"), "not read").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/c.txt"), "01234").unwrap();
        std::os::unix::fs::symlink(dir.path().join("a.txt"), dir.path().join("d.txt")).unwrap();
        let other = tempfile::tempdir().unwrap();
        std::fs::write(other.path().join("e.txt"), "not read either").unwrap();
        std::os::unix::fs::symlink(other.path(), dir.path().join("elsewhere.jsonl")).unwrap();
        std::os::unix::fs::symlink(dir.path(), dir.path().join("sub/loop.txt")).unwrap();
        // d.txt leads to a.txt, which the walk reads anyway.
        assert_eq!(input_size(&[dir.path().to_path_buf()]), Some(15));
        let read: u64 = CorpusReader::new(&[dir.path().to_path_buf()], ReadOptions::default())
            .unwrap()
            .filter_map(|record| record.document.ok())
            .map(|doc| doc.text.len() as u64)
            .sum();
        assert_eq!(read, 15);
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    fn texts(records: &[Record]) -> Vec<String> {
        records
            .iter()
            .map(|r| match &r.document {
                Ok(doc) => doc.text.clone(),
                Err(e) => format!("{:?}", e.kind),
            })
            .collect()
    }

    #[test]
    fn files_that_hold_no_record_are_listed() {
        let dir = tempfile::tempdir().unwrap();
        let files: [(&str, &[u8]); 5] = [
            ("a.jsonl", b""),
            ("b.jsonl", b"\n  \r\n"),
            ("c.csv", b"id,text\n"),
            ("d.jsonl", b"{\"text\": \"one\"}\n"),
            // One record, failed: not empty.
            ("e.jsonl", b"{\"text\"\n"),
        ];
        for (name, content) in files {
            std::fs::write(dir.path().join(name), content).unwrap();
        }
        let mut reader = CorpusReader::new(&[dir.path().to_path_buf()], ReadOptions::default()).unwrap();
        assert_eq!(reader.by_ref().count(), 2);
        let listed: Vec<String> = reader
            .empty_files()
            .first
            .iter()
            .map(|p| p.rsplit('/').next().unwrap().to_owned())
            .collect();
        assert_eq!(
            (reader.empty_files().count, listed),
            (3, vec!["a.jsonl".to_owned(), "b.jsonl".into(), "c.csv".into()])
        );
        let mut all = reader.empty_files().clone();
        all.extend(reader.empty_files());
        assert_eq!((all.count, all.first.len()), (6, 6));
    }

    /// A pipe may deliver a byte at a time: the bytes that tell compressed data are read all the same.
    #[test]
    fn peek_reads_its_bytes_across_short_reads() {
        struct Trickle(std::io::Cursor<Vec<u8>>);
        impl Read for Trickle {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let one = buf.len().min(1);
                self.0.read(&mut buf[..one])
            }
        }
        let (head, rest) = peek(Trickle(std::io::Cursor::new(gzip(b"one"))), 4).unwrap();
        assert_eq!(compressed::sniffed(&head), Some(Compression::Gzip));
        let mut text = String::new();
        let whole = std::io::Cursor::new(head).chain(rest);
        flate2::read::GzDecoder::new(whole).read_to_string(&mut text).unwrap();
        assert_eq!(text, "one");
        let (head, _) = peek(&b"ab"[..], 4).unwrap();
        assert_eq!(head, b"ab");
    }

    #[test]
    fn a_file_and_its_compressed_copy_given_together_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (plain, packed) = (dir.path().join("a.jsonl"), dir.path().join("a.jsonl.gz"));
        std::fs::write(&plain, "{\"text\": \"one\"}\n").unwrap();
        std::fs::write(&packed, gzip(b"{\"text\": \"one\"}\n")).unwrap();
        let refused = CorpusReader::new(&[packed.clone(), plain], ReadOptions::default())
            .err()
            .unwrap()
            .to_string();
        assert!(refused.contains("a.jsonl.gz is a compressed copy of"), "{refused}");
        // Two compressed forms of one file given together, with none uncompressed, are refused too.
        let zstd_form = dir.path().join("a.jsonl.zst");
        std::fs::write(&zstd_form, zstd::encode_all(&b"{\"text\": \"one\"}\n"[..], 3).unwrap()).unwrap();
        let refused = CorpusReader::new(&[packed.clone(), zstd_form], ReadOptions::default())
            .err()
            .unwrap()
            .to_string();
        assert!(refused.contains("two compressed forms of"), "{refused}");
        // A JSON file compressed is refused as one uncompressed is: it is not streamed.
        let json = dir.path().join("b.json.gz");
        std::fs::write(&json, gzip(b"[{\"text\": \"one\"}]")).unwrap();
        let refused = CorpusReader::new(&[json], ReadOptions::default())
            .err()
            .unwrap()
            .to_string();
        assert!(refused.contains("JSON files are not read as a stream"), "{refused}");
        // Alone, each is read.
        assert_eq!(
            texts(
                &CorpusReader::new(&[packed], ReadOptions::default())
                    .unwrap()
                    .collect::<Vec<_>>()
            ),
            ["one"]
        );
    }

    #[test]
    fn compressed_files_are_read_as_the_format_before_their_extension() {
        let lines = b"{\"text\": \"one\"}\n{\"text\": \"two\"}\n";
        // Two gzip members, as `bgzip` and `pigz` write large files.
        let two_members = [gzip(b"{\"text\": \"one\"}\n"), gzip(b"{\"text\": \"two\"}\n")].concat();
        let zstd = zstd::encode_all(&lines[..], 3).unwrap();
        for (name, content) in [("a.jsonl.gz", &two_members), ("a.jsonl.zst", &zstd)] {
            let records = read(name, content, ReadOptions::default());
            assert_eq!(texts(&records), ["one", "two"], "{name}");
            assert_eq!(records[1].location.line, Some(2), "{name}");
            assert!(records[1].id().ends_with(&format!("{name}:2")), "{}", records[1].id());
        }
        let csv = read("a.CSV.GZ", &gzip(b"id,text\nx,one\n"), ReadOptions::default());
        assert_eq!((texts(&csv), csv[0].id()), (vec!["one".to_owned()], "x"));
        // Named, a compressed file with no format before `.gz` is text, like any unknown extension.
        assert_eq!(texts(&read("notes.gz", &gzip(b"one"), ReadOptions::default())), ["one"]);
    }

    #[test]
    fn a_compressed_file_cut_short_keeps_its_records_and_says_where_reading_stopped() {
        let content: String = (1..=2000)
            .map(|i| format!("{{\"text\": \"document {i}\"}}\n"))
            .collect();
        let whole = gzip(content.as_bytes());
        let records = read("a.jsonl.gz", &whole[..whole.len() / 2], ReadOptions::default());
        let (last, scored) = records.split_last().unwrap();
        assert!(!scored.is_empty() && scored.iter().all(|r| r.document.is_ok()));
        let error = last.document.as_ref().unwrap_err();
        assert_eq!(
            (error.kind, last.location.line),
            (ErrorKind::Io, Some(scored.len() as u64 + 1))
        );
        assert!(
            error.reason.contains("cannot decompress the gzip data"),
            "{}",
            error.reason
        );
        // A CSV cut short names the line where reading stopped, after its last whole row.
        let rows: String = (1..=2000).map(|i| format!("{i},document {i}\n")).collect();
        let whole = gzip(format!("id,text\n{rows}").as_bytes());
        let records = read("a.csv.gz", &whole[..whole.len() / 2], ReadOptions::default());
        let (last, scored) = records.split_last().unwrap();
        assert!(!scored.is_empty() && scored.iter().all(|r| r.document.is_ok()));
        let error = last.document.as_ref().unwrap_err();
        assert_eq!(
            (error.kind, last.location.line),
            (ErrorKind::Io, Some(scored.len() as u64 + 2))
        );
        let reason = &error.reason;
        assert!(
            reason.starts_with("read failed: cannot decompress the gzip data: "),
            "{reason}"
        );
        assert!(reason.ends_with("; the rest of the file is skipped"), "{reason}");
        // Not gzip at all: the first line says so.
        let records = read("b.jsonl.gz", b"{\"text\": \"plain\"}\n", ReadOptions::default());
        let error = records[0].document.as_ref().unwrap_err();
        assert_eq!((records.len(), error.kind), (1, ErrorKind::Io));
        assert!(error.reason.contains("gzip"), "{}", error.reason);
    }

    #[test]
    fn a_compressed_file_not_named_so_is_an_error_that_says_what_it_looks_like() {
        let records = read("a.jsonl", &gzip(b"{\"text\": \"one\"}\n"), ReadOptions::default());
        let error = records[0].document.as_ref().unwrap_err();
        assert_eq!(error.kind, ErrorKind::InvalidUtf8);
        assert!(
            error.reason.contains("gzip-compressed") && error.reason.contains(".gz"),
            "{}",
            error.reason
        );
        let records = read(
            "a.txt",
            &zstd::encode_all(&b"one"[..], 3).unwrap(),
            ReadOptions::default(),
        );
        let reason = &records[0].document.as_ref().unwrap_err().reason;
        assert!(
            reason.contains("zstd-compressed") && reason.contains(".zst"),
            "{reason}"
        );
        // A CSV too: one error for the file, not rows of garbled columns; its size counts as read.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.csv");
        std::fs::write(&path, gzip(b"id,text\n1,China\n")).unwrap();
        let mut reader = CorpusReader::new(std::slice::from_ref(&path), ReadOptions::default()).unwrap();
        let records: Vec<Record> = reader.by_ref().collect();
        assert_eq!(reader.bytes_read(), std::fs::metadata(&path).unwrap().len());
        assert_eq!(records.len(), 1);
        let error = records[0].document.as_ref().unwrap_err();
        assert_eq!((error.kind, records[0].location.line), (ErrorKind::InvalidUtf8, None));
        assert!(error.reason.contains("gzip-compressed"), "{}", error.reason);
    }

    #[cfg(unix)]
    #[test]
    fn walks_read_compressed_files_and_count_their_size_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let jsonl = gzip(b"{\"text\": \"one\"}\n");
        std::fs::write(dir.path().join("a.jsonl.gz"), &jsonl).unwrap();
        std::fs::write(dir.path().join("b.txt.zst"), zstd::encode_all(&b"two"[..], 3).unwrap()).unwrap();
        // No format before `.gz`, or one not read: listed as skipped, as a `.pdf` is.
        std::fs::write(dir.path().join("c.tar.gz"), gzip(b"archive")).unwrap();
        std::fs::write(dir.path().join("d.gz"), gzip(b"unknown")).unwrap();
        // A compressed copy beside its file uncompressed (`gzip -k`): the file is read, the copy listed.
        std::fs::write(dir.path().join("e.txt"), "three").unwrap();
        std::fs::write(dir.path().join("e.txt.gz"), gzip(b"three")).unwrap();
        // Beside a link or a directory of the uncompressed name, the compressed file is no copy: read.
        std::fs::write(dir.path().join("f.txt.gz"), gzip(b"four")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("f.txt.gz"), dir.path().join("f.txt")).unwrap();
        std::fs::write(dir.path().join("g.txt.gz"), gzip(b"five")).unwrap();
        std::fs::create_dir(dir.path().join("g.txt")).unwrap();
        // Two compressed forms of one file, with none uncompressed: the first by name is read.
        std::fs::write(dir.path().join("h.txt.zst"), zstd::encode_all(&b"six"[..], 3).unwrap()).unwrap();
        std::fs::write(dir.path().join("h.txt.gz"), gzip(b"six")).unwrap();
        let inputs = [dir.path().to_path_buf()];
        let mut reader = CorpusReader::new(&inputs, ReadOptions::default()).unwrap();
        let records: Vec<Record> = reader.by_ref().collect();
        // f.txt, a link to f.txt.gz read under its own name, is not read (it is gzip).
        assert_eq!(texts(&records), ["one", "two", "three", "four", "five", "six"]);
        assert_eq!(reader.skipped_files().links_to_read_files, 1);
        assert_eq!(reader.skipped_files().count, 2);
        let copies = &reader.skipped_files().first_compressed_copies;
        assert_eq!((reader.skipped_files().compressed_copies, copies.len()), (2, 2));
        assert!(
            copies[0].ends_with("e.txt.gz") && copies[1].ends_with("h.txt.zst"),
            "{copies:?}"
        );
        let size = |name: &str| std::fs::metadata(dir.path().join(name)).unwrap().len();
        let on_disk = jsonl.len() as u64
            + size("b.txt.zst")
            + size("e.txt")
            + size("f.txt.gz")
            + size("g.txt.gz")
            + size("h.txt.gz");
        assert_eq!((input_size(&inputs), reader.bytes_read()), (Some(on_disk), on_disk));
    }

    /// A link to a file that the inputs read anyway would score its document twice; a link to a
    /// file they do not read is its only way in.
    #[cfg(unix)]
    #[test]
    fn links_to_files_read_anyway_are_listed_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let other = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        let files = [
            ("a.txt", "China one."),
            (".hidden.txt", "China two."),
            ("b.pdf", "China three."),
        ];
        for (name, text) in files {
            std::fs::write(root.join(name), text).unwrap();
        }
        std::fs::create_dir(root.join("sub")).unwrap();
        std::fs::write(other.path().join("named.txt"), "China four.").unwrap();
        std::fs::write(other.path().join("outside.txt"), "China five.").unwrap();
        let links = [
            ("sub/to-a.txt", root.join("a.txt")),
            ("to-hidden.txt", root.join(".hidden.txt")),
            ("to-pdf.txt", root.join("b.pdf")),
            ("to-named.txt", other.path().join("named.txt")),
            ("to-outside.txt", other.path().join("outside.txt")),
            // A second link to the same outside file, and one through the first link.
            ("to-outside-again.txt", other.path().join("outside.txt")),
            ("sub/via-link.txt", root.join("to-outside.txt")),
        ];
        for (link, target) in &links {
            std::os::unix::fs::symlink(target, root.join(link)).unwrap();
        }
        let inputs = [root.clone(), other.path().join("named.txt")];
        let mut reader = CorpusReader::new(&inputs, ReadOptions::default()).unwrap();
        let mut ids: Vec<String> = reader.by_ref().map(|record| record.document.unwrap().id).collect();
        ids.sort();
        let named = other.path().join("named.txt").display().to_string();
        let mut expected = vec![
            named,
            "a.txt".into(),
            "to-hidden.txt".into(),
            "to-outside-again.txt".into(),
            "to-pdf.txt".into(),
        ];
        expected.sort();
        assert_eq!(ids, expected);
        let skipped = reader.skipped_files();
        assert_eq!(skipped.links_to_read_files, 4);
        let listed: Vec<&str> = skipped
            .first_links_to_read_files
            .iter()
            .map(|l| l.split(" -> ").next().unwrap().rsplit('/').next().unwrap())
            .collect();
        // In walk order: the top directory's entries, then sub's (its to-a.txt, via-link.txt).
        assert_eq!(listed, ["to-named.txt", "to-outside.txt", "to-a.txt", "via-link.txt"]);
        assert!(skipped.first_links_to_read_files[2].ends_with(&format!(" -> {}", root.join("a.txt").display())));
    }

    /// Hard links are names of one file, as a symbolic link is a pointer to one: the first name
    /// met is read, the others listed.
    #[cfg(unix)]
    #[test]
    fn hard_links_to_one_file_are_read_once() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir(root.join("sub")).unwrap();
        std::fs::write(root.join("a.jsonl"), "{\"text\": \"China one.\"}\n").unwrap();
        std::fs::hard_link(root.join("a.jsonl"), root.join("b.jsonl")).unwrap();
        std::fs::hard_link(root.join("a.jsonl"), root.join("sub/c.jsonl")).unwrap();
        let mut reader = CorpusReader::new(std::slice::from_ref(&root), ReadOptions::default()).unwrap();
        let ids: Vec<String> = reader.by_ref().map(|record| record.document.unwrap().id).collect();
        assert_eq!(ids, ["a.jsonl:1"]);
        let skipped = reader.skipped_files();
        assert_eq!(skipped.links_to_read_files, 2);
        let first = format!("b.jsonl -> {}", root.join("a.jsonl").display());
        assert!(skipped.first_links_to_read_files[0].ends_with(&first), "{skipped:?}");
        let on_disk = std::fs::metadata(root.join("a.jsonl")).unwrap().len();
        assert_eq!(input_size(std::slice::from_ref(&root)), Some(on_disk));
        // A name given beside the directory is the one read; two names given are one input.
        let named = root.join("sub/c.jsonl");
        let mut reader = CorpusReader::new(&[root.clone(), named.clone()], ReadOptions::default());
        assert!(reader.is_err(), "sub/c.jsonl is inside the directory given");
        let elsewhere = tempfile::tempdir().unwrap();
        let outside = elsewhere.path().join("d.jsonl");
        std::fs::hard_link(root.join("a.jsonl"), &outside).unwrap();
        reader = CorpusReader::new(&[root.clone(), outside.clone()], ReadOptions::default());
        let ids: Vec<String> = reader.unwrap().map(|record| record.document.unwrap().id).collect();
        assert_eq!(ids, [format!("{}:1", outside.display())]);
        let refused = CorpusReader::new(&[named, outside], ReadOptions::default())
            .err()
            .unwrap()
            .to_string();
        assert!(refused.contains("are the same file (hard links to it)"), "{refused}");
    }

    #[test]
    fn files_of_other_extensions_in_a_directory_are_counted_and_listed() {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in [("a.txt", "China."), ("b.json", "{}"), ("c.pdf", "x"), (".hidden", "y")] {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let mut reader = CorpusReader::new(&[dir.path().to_path_buf()], ReadOptions::default()).unwrap();
        assert_eq!(reader.by_ref().count(), 1);
        let skipped = reader.skipped_files();
        assert_eq!(skipped.count, 2);
        let names: Vec<&str> = skipped.first.iter().map(|p| p.rsplit('/').next().unwrap()).collect();
        assert_eq!(names, ["b.json", "c.pdf"]);
    }

    /// A FIFO would block the walk for ever and a linked directory is not followed: neither
    /// may vanish from the account of what was read.
    #[cfg(unix)]
    #[test]
    fn entries_that_are_not_regular_files_are_reported_or_listed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "China.").unwrap();
        let sub = tempfile::tempdir().unwrap();
        std::fs::write(sub.path().join("b.txt"), "India.").unwrap();
        std::os::unix::fs::symlink(sub.path(), dir.path().join("linked")).unwrap();
        for fifo in ["pipe.jsonl", "pipe.bin"] {
            let made = std::process::Command::new("mkfifo")
                .arg(dir.path().join(fifo))
                .status()
                .unwrap();
            assert!(made.success());
        }
        let mut reader = CorpusReader::new(&[dir.path().to_path_buf()], ReadOptions::default()).unwrap();
        let records: Vec<_> = reader.by_ref().collect();
        assert_eq!(records.len(), 2);
        let failed = records[1].document.as_ref().unwrap_err();
        assert_eq!((failed.id.as_str(), failed.kind), ("pipe.jsonl", ErrorKind::Io));
        assert!(failed.reason.contains("not a regular file"), "{}", failed.reason);
        let skipped = reader.skipped_files();
        let prefix = format!("{}/", dir.path().display());
        let names: Vec<&str> = skipped.first.iter().map(|p| p.strip_prefix(&prefix).unwrap()).collect();
        assert_eq!(names, ["linked/", "pipe.bin"]);
        assert_eq!((skipped.count, skipped.links), (2, 1));
    }

    /// The walk records which entries are links to directories, whatever their names, as it meets
    /// them: a name that is not UTF-8 is listed escaped, and the account stands when the link is gone.
    #[cfg(unix)]
    #[test]
    fn links_to_directories_are_recorded_as_links_by_the_walk() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "China.").unwrap();
        std::fs::write(dir.path().join("b.pdf"), "not read").unwrap();
        let odd = std::ffi::OsStr::from_bytes(b"caf\xe9");
        for name in [odd, "x.jsonl".as_ref(), "z".as_ref()] {
            std::os::unix::fs::symlink(elsewhere.path(), dir.path().join(name)).unwrap();
        }
        // A link to a file of another extension is a file, and so is one that leads nowhere.
        std::os::unix::fs::symlink(dir.path().join("b.pdf"), dir.path().join("c.pdf")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("missing"), dir.path().join("d.bin")).unwrap();
        let mut reader = CorpusReader::new(&[dir.path().to_path_buf()], ReadOptions::default()).unwrap();
        assert_eq!(reader.by_ref().count(), 1);
        for name in [odd, "x.jsonl".as_ref(), "z".as_ref()] {
            std::fs::remove_file(dir.path().join(name)).unwrap();
        }
        let skipped = reader.skipped_files();
        let prefix = format!("{}/", dir.path().display());
        let names: Vec<&str> = skipped.first.iter().map(|p| p.strip_prefix(&prefix).unwrap()).collect();
        assert_eq!(names, ["b.pdf", "c.pdf", "caf\\xE9/", "d.bin", "x.jsonl/", "z/"]);
        assert_eq!((skipped.count, skipped.links), (6, 3));
        let links: Vec<&str> = names.iter().copied().filter(|n| SkippedFiles::is_link(n)).collect();
        assert_eq!(links, ["caf\\xE9/", "x.jsonl/", "z/"]);
    }

    /// Runs over different inputs skipped different entries: merged, the counts add up and the
    /// lists follow one another, up to the limit.
    #[test]
    fn skipped_entries_of_two_walks_add_up() {
        let mut a = SkippedFiles::default();
        for i in 0..3 {
            a.add(Path::new(&format!("/a/{i}.pdf")), false);
        }
        a.add(Path::new("/a/photos"), true);
        let mut b = SkippedFiles::default();
        for i in 0..SkippedFiles::MAX_LISTED + 5 {
            b.add(Path::new(&format!("/b/{i}.docx")), i % 100 == 0);
        }
        let mut merged = a.clone();
        merged.extend(&b);
        assert_eq!(merged.count, 4 + SkippedFiles::MAX_LISTED as u64 + 5);
        assert_eq!(merged.links, 1 + 11);
        assert_eq!(merged.first.len(), SkippedFiles::MAX_LISTED);
        assert_eq!(merged.first[..4], ["/a/0.pdf", "/a/1.pdf", "/a/2.pdf", "/a/photos/"]);
        assert_eq!(merged.first[4..], b.first[..SkippedFiles::MAX_LISTED - 4]);
        assert_eq!(merged.first[4], "/b/0.docx/");
        // An account read from an older run.json, without `links`.
        let old: SkippedFiles = serde_json::from_str(r#"{"count": 2, "first": ["/c/x.pdf", "/c/y"]}"#).unwrap();
        assert_eq!((old.count, old.links), (2, 0));
    }
}
