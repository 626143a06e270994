//! `sentences.parquet` and `documents.parquet`: the rows of the JSON Lines
//! journals (`sentences.jsonl`, `documents.jsonl`), converted when a run or a
//! merge is complete.
//!
//! The journals stay the durable record (they are appended to, committed,
//! resumed and merged); a Parquet file cannot be appended to once its footer
//! is written, so it is made in one pass at the end, from the journal:
//!
//! - **streaming**: a line at a time, into row groups of at most
//!   [`ROW_GROUP_ROWS`] rows or about [`ROW_GROUP_BYTES`] bytes of text, so
//!   memory stays flat whatever the run's size;
//! - **atomic**: written to a fresh temporary file, synced and renamed into
//!   place ([`replace_with`]), so a reader, or a conversion killed halfway,
//!   never leaves a partial file; the next run in the directory removes the
//!   temporary file, and `--resume` converts again;
//! - **exact**: the numbers are parsed from the text the journal holds, with
//!   the float type they were written from (`f32` probabilities and scores,
//!   `f64` means), so every value is the one the JSON Lines hold, bit for bit.
//!
//! The schemas (the columns of `sentences.jsonl` and `documents.csv`, in
//! order) are [`SENTENCES_SCHEMA`] and [`DOCUMENTS_SCHEMA`]. Files are written
//! with the `parquet` crate's column writer (its arrow writer costs four times
//! the build) and Snappy compression.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::sync::Arc;

use ::parquet::basic::Compression;
use ::parquet::data_type::{BoolType, ByteArray, ByteArrayType, DataType, DoubleType, FloatType, Int64Type};
use ::parquet::errors::ParquetError;
use ::parquet::file::properties::WriterProperties;
use ::parquet::file::writer::{SerializedFileWriter, SerializedRowGroupWriter};
use ::parquet::schema::parser::parse_message_type;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::{Error, Result};

use super::output::{replace_with, DOCUMENTS_JSONL, DOCUMENTS_PARQUET, SENTENCES, SENTENCES_PARQUET};

/// Rows per row group, at most.
pub(crate) const ROW_GROUP_ROWS: usize = 64 * 1024;
/// Bytes of buffered text (and 8 per number) after which a row group is written,
/// whatever its rows: bounds memory when sentences are long.
pub(crate) const ROW_GROUP_BYTES: usize = 64 << 20;

/// `sentences.parquet`: the fields of `sentences.jsonl`, with their JSON types.
pub(crate) const SENTENCES_SCHEMA: &str = "
message sentences {
  required binary document_id (STRING);
  required int64 sentence_index;
  required int64 start;
  required int64 end;
  required binary text (STRING);
  required binary actor (STRING);
  required group mentions (LIST) {
    repeated group list {
      required group element {
        required int64 start;
        required int64 end;
        required binary text (STRING);
      }
    }
  }
  required float p_unfavorable;
  required float p_neutral;
  required float p_favorable;
  required float score;
  required binary label (STRING);
  required boolean truncated;
}";

/// `documents.parquet`: the columns of `documents.csv`; null where the CSV
/// has an empty cell (no date, source, title or mean; no actor).
pub(crate) const DOCUMENTS_SCHEMA: &str = "
message documents {
  required binary document_id (STRING);
  optional binary date (STRING);
  optional binary source (STRING);
  optional binary title (STRING);
  required int64 document_sentences;
  optional binary actor (STRING);
  required int64 actor_sentences;
  required int64 mentions;
  optional double mean_score;
  required int64 unfavorable;
  required int64 neutral;
  required int64 favorable;
}";

/// Writes `sentences.parquet` and `documents.parquet` in `dir` from its
/// `sentences.jsonl` and `documents.jsonl`. With `keep_existing`, a file that
/// is there already is kept: it was written once the run was complete, from
/// journals that no longer change.
pub(crate) fn write_files(dir: &Path, keep_existing: bool) -> Result<()> {
    let target = dir.join(SENTENCES_PARQUET);
    if !(keep_existing && target.exists()) {
        convert::<SentenceColumns>(&dir.join(SENTENCES), &target)?;
    }
    let target = dir.join(DOCUMENTS_PARQUET);
    if !(keep_existing && target.exists()) {
        convert::<DocumentColumns>(&dir.join(DOCUMENTS_JSONL), &target)?;
    }
    Ok(())
}

/// The buffered columns of one row group of a table.
trait Table: Default {
    const SCHEMA: &'static str;
    /// Adds the row of one journal line; returns about how many bytes it buffered.
    fn push(&mut self, line: &str) -> std::result::Result<usize, String>;
    /// Writes the columns, in schema order, and empties them.
    fn write(&mut self, group: &mut Group<'_, '_>) -> Result<()>;
}

/// Converts the JSON Lines `journal` into the Parquet file `target`, atomically.
fn convert<T: Table>(journal: &Path, target: &Path) -> Result<()> {
    let file = File::open(journal).map_err(|e| Error::io(journal, e))?;
    let mut lines = BufReader::with_capacity(1 << 20, file);
    replace_with(target, |tmp, file| {
        let failed = |e: ParquetError| Error::io(tmp, std::io::Error::other(e));
        let schema = parse_message_type(T::SCHEMA).map_err(failed)?;
        let properties = WriterProperties::builder().set_compression(Compression::SNAPPY).build();
        let mut writer = SerializedFileWriter::new(file, Arc::new(schema), Arc::new(properties)).map_err(failed)?;
        let (mut table, mut rows, mut buffered) = (T::default(), 0usize, 0usize);
        let (mut line, mut number) = (String::new(), 0usize);
        loop {
            line.clear();
            if lines.read_line(&mut line).map_err(|e| Error::io(journal, e))? == 0 {
                break;
            }
            number += 1;
            buffered += table.push(line.trim_end_matches('\n')).map_err(|reason| {
                Error::input(
                    journal.display().to_string(),
                    Some(number),
                    format!("cannot convert the row: {reason}"),
                )
            })?;
            rows += 1;
            if rows >= ROW_GROUP_ROWS || buffered >= ROW_GROUP_BYTES {
                write_group(&mut writer, &mut table, tmp)?;
                (rows, buffered) = (0, 0);
            }
        }
        if rows > 0 {
            write_group(&mut writer, &mut table, tmp)?;
        }
        writer.into_inner().map_err(failed)?;
        Ok(())
    })
}

fn write_group<T: Table>(writer: &mut SerializedFileWriter<&mut File>, table: &mut T, tmp: &Path) -> Result<()> {
    let failed = |e: ParquetError| Error::io(tmp, std::io::Error::other(e));
    let mut group = Group {
        writer: writer.next_row_group().map_err(failed)?,
        path: tmp,
    };
    table.write(&mut group)?;
    group.writer.close().map_err(failed)?;
    Ok(())
}

/// A row group being written, column after column.
struct Group<'a, 'f> {
    writer: SerializedRowGroupWriter<'a, &'f mut File>,
    path: &'a Path,
}

impl Group<'_, '_> {
    /// Writes the next column: `values` (the non-null ones), with their
    /// definition and repetition levels where the column is optional or repeated.
    fn column<T: DataType>(&mut self, values: &[T::T], def: Option<&[i16]>, rep: Option<&[i16]>) -> Result<()> {
        let failed = |e: ParquetError| Error::io(self.path, std::io::Error::other(e));
        let mut column = self
            .writer
            .next_column()
            .map_err(failed)?
            .ok_or_else(|| failed(ParquetError::General("more columns than the schema has".into())))?;
        column.typed::<T>().write_batch(values, def, rep).map_err(failed)?;
        column.close().map_err(failed)
    }

    /// A required column.
    fn required<T: DataType>(&mut self, values: &[T::T]) -> Result<()> {
        self.column::<T>(values, None, None)
    }

    /// An optional column.
    fn optional<T: DataType>(&mut self, column: &Optional<T::T>) -> Result<()> {
        self.column::<T>(&column.values, Some(&column.def), None)
    }
}

/// A float as the journal writes it: its shortest decimal form, or `null`
/// for what JSON cannot hold (serde_json writes NaN and infinities so).
/// Parsed straight to `T`: through `f64` first, a few `f32` values could round twice.
fn number<T: std::str::FromStr + From<f32>>(raw: &RawValue) -> std::result::Result<T, String> {
    match raw.get() {
        "null" => Ok(T::from(f32::NAN)),
        text => text.parse().map_err(|_| format!("{text} is not a number")),
    }
}

fn bytes(text: String) -> ByteArray {
    ByteArray::from(text.into_bytes())
}

/// A line of `sentences.jsonl`, as written (fields added later are ignored).
#[derive(Deserialize)]
struct SentenceLine<'a> {
    document_id: String,
    sentence_index: i64,
    start: i64,
    end: i64,
    text: String,
    actor: String,
    mentions: Vec<MentionLine>,
    #[serde(borrow)]
    p_unfavorable: &'a RawValue,
    #[serde(borrow)]
    p_neutral: &'a RawValue,
    #[serde(borrow)]
    p_favorable: &'a RawValue,
    #[serde(borrow)]
    score: &'a RawValue,
    label: String,
    truncated: bool,
}

#[derive(Deserialize)]
struct MentionLine {
    start: i64,
    end: i64,
    text: String,
}

#[derive(Default)]
struct SentenceColumns {
    document_id: Vec<ByteArray>,
    sentence_index: Vec<i64>,
    start: Vec<i64>,
    end: Vec<i64>,
    text: Vec<ByteArray>,
    actor: Vec<ByteArray>,
    mention_start: Vec<i64>,
    mention_end: Vec<i64>,
    mention_text: Vec<ByteArray>,
    /// Levels shared by the three mention columns: per row, one entry (0, 0)
    /// for an empty list, else one per mention (definition 1; repetition 0 for
    /// the first, 1 for the next ones).
    mention_def: Vec<i16>,
    mention_rep: Vec<i16>,
    p_unfavorable: Vec<f32>,
    p_neutral: Vec<f32>,
    p_favorable: Vec<f32>,
    score: Vec<f32>,
    label: Vec<ByteArray>,
    truncated: Vec<bool>,
}

impl Table for SentenceColumns {
    const SCHEMA: &'static str = SENTENCES_SCHEMA;

    fn push(&mut self, line: &str) -> std::result::Result<usize, String> {
        let row: SentenceLine<'_> = serde_json::from_str(line).map_err(|e| e.to_string())?;
        let mut size = row.document_id.len() + row.text.len() + row.actor.len() + 64;
        self.p_unfavorable.push(number(row.p_unfavorable)?);
        self.p_neutral.push(number(row.p_neutral)?);
        self.p_favorable.push(number(row.p_favorable)?);
        self.score.push(number(row.score)?);
        self.document_id.push(bytes(row.document_id));
        self.sentence_index.push(row.sentence_index);
        self.start.push(row.start);
        self.end.push(row.end);
        self.text.push(bytes(row.text));
        self.actor.push(bytes(row.actor));
        if row.mentions.is_empty() {
            self.mention_def.push(0);
            self.mention_rep.push(0);
        }
        for (i, mention) in row.mentions.into_iter().enumerate() {
            size += mention.text.len() + 16;
            self.mention_def.push(1);
            self.mention_rep.push(i16::from(i > 0));
            self.mention_start.push(mention.start);
            self.mention_end.push(mention.end);
            self.mention_text.push(bytes(mention.text));
        }
        self.label.push(bytes(row.label));
        self.truncated.push(row.truncated);
        Ok(size)
    }

    fn write(&mut self, group: &mut Group<'_, '_>) -> Result<()> {
        group.required::<ByteArrayType>(&self.document_id)?;
        group.required::<Int64Type>(&self.sentence_index)?;
        group.required::<Int64Type>(&self.start)?;
        group.required::<Int64Type>(&self.end)?;
        group.required::<ByteArrayType>(&self.text)?;
        group.required::<ByteArrayType>(&self.actor)?;
        let (def, rep) = (Some(&self.mention_def[..]), Some(&self.mention_rep[..]));
        group.column::<Int64Type>(&self.mention_start, def, rep)?;
        group.column::<Int64Type>(&self.mention_end, def, rep)?;
        group.column::<ByteArrayType>(&self.mention_text, def, rep)?;
        group.required::<FloatType>(&self.p_unfavorable)?;
        group.required::<FloatType>(&self.p_neutral)?;
        group.required::<FloatType>(&self.p_favorable)?;
        group.required::<FloatType>(&self.score)?;
        group.required::<ByteArrayType>(&self.label)?;
        group.required::<BoolType>(&self.truncated)?;
        *self = SentenceColumns::default();
        Ok(())
    }
}

/// A line of `documents.jsonl`: a [`DocumentRow`](super::DocumentRow), text exact.
#[derive(Deserialize)]
struct DocumentLine<'a> {
    document_id: String,
    date: Option<String>,
    source: Option<String>,
    title: Option<String>,
    document_sentences: i64,
    actor: String,
    actor_sentences: i64,
    mentions: i64,
    #[serde(borrow)]
    mean_score: Option<&'a RawValue>,
    unfavorable: i64,
    neutral: i64,
    favorable: i64,
}

/// The values and definition levels of an optional column.
#[derive(Default)]
struct Optional<T> {
    values: Vec<T>,
    def: Vec<i16>,
}

impl<T> Optional<T> {
    fn push(&mut self, value: Option<T>) {
        self.def.push(i16::from(value.is_some()));
        self.values.extend(value);
    }
}

#[derive(Default)]
struct DocumentColumns {
    document_id: Vec<ByteArray>,
    date: Optional<ByteArray>,
    source: Optional<ByteArray>,
    title: Optional<ByteArray>,
    document_sentences: Vec<i64>,
    actor: Optional<ByteArray>,
    actor_sentences: Vec<i64>,
    mentions: Vec<i64>,
    mean_score: Optional<f64>,
    unfavorable: Vec<i64>,
    neutral: Vec<i64>,
    favorable: Vec<i64>,
}

impl Table for DocumentColumns {
    const SCHEMA: &'static str = DOCUMENTS_SCHEMA;

    fn push(&mut self, line: &str) -> std::result::Result<usize, String> {
        let row: DocumentLine<'_> = serde_json::from_str(line).map_err(|e| e.to_string())?;
        let text = |value: &Option<String>| value.as_ref().map_or(0, String::len);
        let size = row.document_id.len() + text(&row.date) + text(&row.source) + text(&row.title) + 96;
        self.mean_score.push(row.mean_score.map(number).transpose()?);
        self.document_id.push(bytes(row.document_id));
        self.date.push(row.date.map(bytes));
        self.source.push(row.source.map(bytes));
        self.title.push(row.title.map(bytes));
        self.document_sentences.push(row.document_sentences);
        // The one row of a document that mentions no actor: an empty cell in the CSV, null here.
        self.actor.push(Some(row.actor).filter(|a| !a.is_empty()).map(bytes));
        self.actor_sentences.push(row.actor_sentences);
        self.mentions.push(row.mentions);
        self.unfavorable.push(row.unfavorable);
        self.neutral.push(row.neutral);
        self.favorable.push(row.favorable);
        Ok(size)
    }

    fn write(&mut self, group: &mut Group<'_, '_>) -> Result<()> {
        group.required::<ByteArrayType>(&self.document_id)?;
        group.optional::<ByteArrayType>(&self.date)?;
        group.optional::<ByteArrayType>(&self.source)?;
        group.optional::<ByteArrayType>(&self.title)?;
        group.required::<Int64Type>(&self.document_sentences)?;
        group.optional::<ByteArrayType>(&self.actor)?;
        group.required::<Int64Type>(&self.actor_sentences)?;
        group.required::<Int64Type>(&self.mentions)?;
        group.optional::<DoubleType>(&self.mean_score)?;
        group.required::<Int64Type>(&self.unfavorable)?;
        group.required::<Int64Type>(&self.neutral)?;
        group.required::<Int64Type>(&self.favorable)?;
        *self = DocumentColumns::default();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_are_read_as_written() {
        // Shortest forms of f32 values next to rounding boundaries, and values of every magnitude.
        let mut x = 1.0e-30f32;
        while x < 1.0 {
            for v in [x, f32::from_bits(x.to_bits() + 1), -x] {
                let text = serde_json::to_string(&v).unwrap();
                let raw: &RawValue = serde_json::from_str(&text).unwrap();
                assert_eq!(number::<f32>(raw).unwrap().to_bits(), v.to_bits(), "{text}");
            }
            x *= 1.37;
        }
        let raw: &RawValue = serde_json::from_str("null").unwrap();
        assert!(number::<f64>(raw).unwrap().is_nan());
        let raw: &RawValue = serde_json::from_str("\"x\"").unwrap();
        assert!(number::<f64>(raw).is_err());
    }

    #[test]
    fn row_groups_are_bounded_and_a_bad_line_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("documents.jsonl");
        let row = |i: usize| {
            format!(
                "{{\"document_id\":\"d{i}\",\"date\":null,\"source\":\"s\",\"title\":null,\"document_sentences\":1,\
                 \"actor\":\"\",\"actor_sentences\":0,\"mentions\":0,\"mean_score\":null,\"unfavorable\":0,\
                 \"neutral\":0,\"favorable\":0}}\n"
            )
        };
        let rows = ROW_GROUP_ROWS + 10;
        std::fs::write(&journal, (0..rows).map(row).collect::<String>()).unwrap();
        let target = dir.path().join("documents.parquet");
        convert::<DocumentColumns>(&journal, &target).unwrap();
        let reader =
            ::parquet::file::serialized_reader::SerializedFileReader::new(File::open(&target).unwrap()).unwrap();
        let groups: Vec<i64> = ::parquet::file::reader::FileReader::metadata(&reader)
            .row_groups()
            .iter()
            .map(|g| g.num_rows())
            .collect();
        assert_eq!(groups, [ROW_GROUP_ROWS as i64, 10]);

        std::fs::write(&journal, format!("{}{{\"document_id\": 3}}\n", row(0))).unwrap();
        let error = convert::<DocumentColumns>(&journal, &target).unwrap_err().to_string();
        assert!(error.contains("documents.jsonl, line 2"), "{error}");
        // The file from before stays whole, and no temporary file is left.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }
}
