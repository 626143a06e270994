//! Parquet input files (`*.parquet`): one document per row, its fields the file's top-level
//! columns named by [`Fields`], as a pandas, polars, Spark or Hugging Face datasets export has
//! them.
//!
//! Only the columns named are read (a projection), a batch of rows at a time, so memory follows
//! the row group's pages, not the file. A row's "line" (in ids, `FILE:ROW`, and in errors) is its
//! number in the file, from 1.

use std::fs::File;
use std::sync::Arc;

use ::parquet::basic::{LogicalType, TimeUnit, TimestampType};
use ::parquet::file::reader::{FileReader, SerializedFileReader};
use ::parquet::record::reader::RowIter;
use ::parquet::record::{Field, Row};
use ::parquet::schema::types::Type;

use crate::analyzer::Document;

use super::input::{
    document_of, error_record, ErrorKind, FieldNames, Fields, FieldsFound, Location, Record, RecordError, Source,
};
use super::meta::{utc_date, utc_timestamp};

/// Rows decoded at a time: a few hundred articles' text.
const BATCH_ROWS: usize = 128;

/// A Parquet file's rows as records.
pub(super) struct ParquetSource {
    rows: Option<RowIter<'static>>,
    label: String,
    id_base: String,
    fields: Arc<Fields>,
    /// Whether the file has a top-level column of the text's name: without one each row fails.
    has_text: bool,
    /// Columns of nanosecond timestamps (pandas' and polars' `datetime64[ns]`), which the record
    /// reader gives as plain integers.
    nanos: Vec<String>,
    row: u64,
    rows_total: u64,
    file_bytes: u64,
    limit: u64,
    found: FieldsFound,
    /// The error that ends reading (a file that is no Parquet), given once.
    failure: Option<Record>,
    /// Why reading stopped at a row (a corrupt page, a codec this build lacks): each row left
    /// fails with it, so that every row of the file is accounted for.
    stopped: Option<(u64, String)>,
    /// Whether the one error of a file with no rows and no text column was given.
    said_missing_text: bool,
}

impl ParquetSource {
    pub(super) fn new(file: File, label: String, id_base: String, fields: Arc<Fields>, limit: u64) -> Self {
        let file_bytes = file.metadata().map_or(0, |m| m.len());
        let mut source = ParquetSource {
            rows: None,
            label,
            id_base,
            fields,
            has_text: false,
            nanos: Vec::new(),
            row: 0,
            rows_total: 0,
            file_bytes,
            limit,
            found: FieldsFound::default(),
            failure: None,
            stopped: None,
            said_missing_text: false,
        };
        if let Err(e) = source.open(file) {
            let reason = format!("cannot read the Parquet file, so none of its rows: {e}");
            source.failure = Some(error_record(
                &source.label,
                None,
                source.id_base.clone(),
                ErrorKind::Io,
                reason,
            ));
        }
        source
    }

    fn open(&mut self, file: File) -> ::parquet::errors::Result<()> {
        let reader = SerializedFileReader::new(file)?;
        // The rows of the file's row groups, which the reader steps through: rows past a page that
        // cannot be read fail one by one up to this count.
        let groups = (reader.metadata().row_groups().iter()).fold(0i64, |sum, g| sum.saturating_add(g.num_rows()));
        let metadata = reader.metadata().file_metadata();
        self.rows_total = u64::try_from(groups).unwrap_or(0);
        let schema = metadata.schema();
        let names: Vec<&str> = schema.get_fields().iter().map(|f| f.name()).collect();
        self.has_text = names.contains(&self.fields.text.as_str());
        self.found.see(&self.fields, |name| names.contains(&name));
        // Only the columns named are decoded, in the file's order.
        let wanted = [
            &self.fields.text,
            &self.fields.id,
            &self.fields.date,
            &self.fields.source,
            &self.fields.title,
        ];
        let columns: Vec<Arc<Type>> = schema
            .get_fields()
            .iter()
            .filter(|f| wanted.iter().any(|name| name.as_str() == f.name()))
            .cloned()
            .collect();
        self.nanos = columns
            .iter()
            .filter(|c| is_nanosecond_timestamp(c.get_basic_info().logical_type_ref()))
            .map(|c| c.name().to_owned())
            .collect();
        let projection = Type::group_type_builder(schema.name()).with_fields(columns).build()?;
        let rows = RowIter::from_file_into(Box::new(reader))
            .project(Some(projection))?
            .with_batch_size(BATCH_ROWS);
        self.rows = Some(rows);
        Ok(())
    }

    fn default_id(&self) -> String {
        format!("{}:{}", self.id_base, self.row)
    }

    fn record(&self, document: std::result::Result<Document, RecordError>) -> Record {
        Record {
            location: Location {
                file: self.label.clone(),
                line: Some(self.row),
            },
            document,
        }
    }

    fn document(&self, row: &Row) -> std::result::Result<Document, RecordError> {
        let field = |name: &str| {
            let column = row.get_column_iter().find(|(column, _)| column.as_str() == name);
            column.map(|(_, value)| value)
        };
        let value = |name: &str| match field(name) {
            Some(Field::Long(nanos)) if self.nanos.iter().any(|c| c == name) => Value::Nanos(*nanos),
            value => Value::Field(value),
        };
        let text = || match field(&self.fields.text) {
            Some(Field::Str(text)) => Ok(text.clone()),
            Some(Field::Bytes(bytes)) => std::str::from_utf8(bytes.data()).map(str::to_owned).map_err(|e| {
                let reason = format!("invalid UTF-8 at byte {} of the text", e.valid_up_to());
                (ErrorKind::InvalidUtf8, reason)
            }),
            Some(Field::Null) | None => Err((
                ErrorKind::MissingText,
                format!("the {:?} column is null", self.fields.text),
            )),
            Some(other) => Err((
                ErrorKind::InvalidField,
                format!(
                    "column {:?} must be a string, found {}",
                    self.fields.text,
                    kind_of(other)
                ),
            )),
        };
        // Checked before the text is: a text that large is not looked at further.
        let text = || {
            text().and_then(|text| match text.len() as u64 > self.limit {
                true => Err((
                    ErrorKind::TooLarge,
                    format!(
                        "the text is larger than {} bytes (--max-record-size); it is skipped",
                        self.limit
                    ),
                )),
                false => Ok(text),
            })
        };
        let named = FieldNames {
            field: "column",
            scalars: "a string, a number or a date",
        };
        document_of(
            &self.fields,
            self.default_id(),
            &named,
            |name| scalar(value(name)),
            text,
        )
    }

    /// Every row fails when the file has no text column, as a CSV's rows do: so the count of
    /// failed documents is the file's rows, and a misspelled `--text-field` is never silent.
    fn missing_text(&self) -> Record {
        let reason = format!("the file has no column {:?} (the text)", self.fields.text);
        let id = self.default_id();
        self.record(Err(RecordError {
            id,
            kind: ErrorKind::MissingText,
            reason,
        }))
    }
}

impl Source for ParquetSource {
    fn next_record(&mut self) -> Option<Record> {
        if let Some(failure) = self.failure.take() {
            self.rows = None;
            return Some(failure);
        }
        if let Some((at, reason)) = &self.stopped {
            if self.row >= self.rows_total {
                return None;
            }
            self.row += 1;
            let reason = format!("not read: reading stopped at row {at}: {reason}");
            return Some(error_record(
                &self.label,
                Some(self.row),
                self.default_id(),
                ErrorKind::Io,
                reason,
            ));
        }
        let Some(next) = self.rows.as_mut()?.next() else {
            // No rows, and no text column: said once, as for a CSV header without it.
            if !self.has_text && self.row == 0 && !self.said_missing_text {
                self.said_missing_text = true;
                self.row = 1;
                return Some(self.missing_text());
            }
            return None;
        };
        self.row += 1;
        match next {
            Ok(_) if !self.has_text => Some(self.missing_text()),
            Ok(row) => Some(self.record(self.document(&row))),
            Err(e) => {
                // The record reader cannot go on past a value it cannot decode (a page that is
                // corrupt or compressed with a codec this build lacks, a string that is not UTF-8):
                // this row and each after it fail.
                self.rows = None;
                let message = e.to_string();
                let reason = if message.contains("as String") {
                    "a value of a string column is not UTF-8, which breaks the Parquet format".to_owned()
                } else {
                    short(&message)
                };
                let record = format!("read failed: {reason}");
                self.stopped = Some((self.row, reason));
                Some(error_record(
                    &self.label,
                    Some(self.row),
                    self.default_id(),
                    ErrorKind::Io,
                    record,
                ))
            }
        }
    }

    fn label(&self) -> &str {
        &self.label
    }

    /// The file's size in proportion to the rows read: the bytes behind each row are not known.
    fn bytes(&self) -> u64 {
        if self.rows_total == 0 {
            return self.file_bytes;
        }
        let share = self.row.min(self.rows_total) as f64 / self.rows_total as f64;
        (self.file_bytes as f64 * share) as u64
    }

    fn fields_found(&self) -> FieldsFound {
        self.found
    }
}

/// A reader's message cut to 300 characters: a failed value may be quoted whole, byte by byte.
fn short(message: &str) -> String {
    const MAX_CHARS: usize = 300;
    match message.char_indices().nth(MAX_CHARS) {
        Some((cut, _)) => format!("{}...", &message[..cut]),
        None => message.to_owned(),
    }
}

/// A row's value of a column.
enum Value<'a> {
    Field(Option<&'a Field>),
    /// A nanosecond timestamp.
    Nanos(i64),
}

fn is_nanosecond_timestamp(logical: Option<&LogicalType>) -> bool {
    matches!(
        logical,
        Some(LogicalType::Timestamp(TimestampType {
            unit: TimeUnit::NANOS,
            ..
        }))
    )
}

/// An optional field's value as text: a string, a number as Parquet holds it, a date as
/// `YYYY-MM-DD` and a timestamp in UTC as `YYYY-MM-DDTHH:MM:SS[.fraction]Z` (so that its month
/// is read); `Ok(None)` when the column is absent or the value null; `Err(kind)` for other types.
fn scalar(value: Value<'_>) -> std::result::Result<Option<String>, &'static str> {
    let value = match value {
        Value::Nanos(ns) => {
            let (seconds, nanos) = (ns.div_euclid(1_000_000_000), ns.rem_euclid(1_000_000_000));
            return Ok(Some(utc_timestamp(seconds, nanos, 9)));
        }
        Value::Field(value) => value,
    };
    let text = match value {
        None | Some(Field::Null) => return Ok(None),
        Some(Field::Str(s)) => s.clone(),
        Some(Field::Bytes(bytes)) => match std::str::from_utf8(bytes.data()) {
            Ok(s) => s.to_owned(),
            Err(_) => return Err("binary data that is not UTF-8"),
        },
        Some(Field::Byte(n)) => n.to_string(),
        Some(Field::Short(n)) => n.to_string(),
        Some(Field::Int(n)) => n.to_string(),
        Some(Field::Long(n)) => n.to_string(),
        Some(Field::UByte(n)) => n.to_string(),
        Some(Field::UShort(n)) => n.to_string(),
        Some(Field::UInt(n)) => n.to_string(),
        Some(Field::ULong(n)) => n.to_string(),
        // pandas writes an integer column with a gap as floats: 1.0 is the id 1.
        // NaN is pandas' missing value.
        Some(Field::Float(x)) if x.is_nan() => return Ok(None),
        Some(Field::Double(x)) if x.is_nan() => return Ok(None),
        // Each in its own precision: 0.1 as an f32 is 0.1, not 0.10000000149011612.
        Some(Field::Float(x)) => float_text(f64::from(*x), x.to_string()),
        Some(Field::Double(x)) => float_text(*x, x.to_string()),
        // As written: 12.50 stays 12.50 (Spark writes integer ids as decimals too).
        // The parquet crate writes a decimal of scale 0 with a trailing point ("12345.").
        Some(decimal @ Field::Decimal(_)) => decimal.to_string().trim_end_matches('.').to_owned(),
        Some(Field::Date(days)) => utc_date(i64::from(*days)),
        Some(Field::TimestampMillis(ms)) => utc_timestamp(ms.div_euclid(1000), ms.rem_euclid(1000) * 1_000_000, 3),
        Some(Field::TimestampMicros(us)) => utc_timestamp(us.div_euclid(1_000_000), us.rem_euclid(1_000_000) * 1000, 6),
        Some(other) => return Err(kind_of(other)),
    };
    Ok(Some(text))
}

/// A float as text: a whole number without its `.0` (as the Python package writes ids), others
/// as `written` in their own precision.
fn float_text(x: f64, written: String) -> String {
    if x == 0.0 {
        "0".to_owned() // -0.0 too
    } else if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        written
    }
}

/// What a value that does not belong is, for an error.
fn kind_of(value: &Field) -> &'static str {
    match value {
        Field::Bool(_) => "a boolean",
        Field::Float16(_) => "a half-precision number",
        Field::Group(_) => "a struct",
        Field::ListInternal(_) => "a list",
        Field::MapInternal(_) => "a map",
        Field::TimeMillis(_) | Field::TimeMicros(_) => "a time of day",
        Field::Str(_) | Field::Bytes(_) => "a string",
        Field::Null => "null",
        _ => "a number or date",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use ::parquet::basic::{Compression, ZstdLevel};
    use ::parquet::data_type::{ByteArray, ByteArrayType, DataType, DoubleType, FloatType, Int32Type, Int64Type};
    use ::parquet::file::properties::WriterProperties;
    use ::parquet::file::writer::{SerializedColumnWriter, SerializedFileWriter};
    use ::parquet::schema::parser::parse_message_type;

    use crate::corpus::{CorpusReader, ReadOptions};

    /// One optional column's values, `None` for null.
    enum Column {
        Strings(Vec<Option<&'static str>>),
        /// Strings that need not be UTF-8.
        Bytes(Vec<Option<&'static [u8]>>),
        Longs(Vec<Option<i64>>),
        /// DATE (days since 1970) or any other int32.
        Ints(Vec<Option<i32>>),
        Doubles(Vec<Option<f64>>),
        Floats(Vec<Option<f32>>),
    }

    /// Writes one optional column: the values present, and a definition level for each row.
    fn write_optional<T: DataType>(writer: &mut SerializedColumnWriter<'_>, values: &[Option<T::T>]) {
        let present: Vec<T::T> = values.iter().flatten().cloned().collect();
        let def: Vec<i16> = values.iter().map(|v| i16::from(v.is_some())).collect();
        writer.typed::<T>().write_batch(&present, Some(&def), None).unwrap();
    }

    /// Writes a Parquet file of one row group with `schema` (every column optional) and `columns`.
    fn write(path: &std::path::Path, schema: &str, columns: &[Column], compression: Compression) {
        write_groups(path, schema, &[columns], compression);
    }

    /// Writes a Parquet file of a row group for each of `groups`.
    fn write_groups(path: &std::path::Path, schema: &str, groups: &[&[Column]], compression: Compression) {
        let schema = Arc::new(parse_message_type(schema).unwrap());
        let props = Arc::new(WriterProperties::builder().set_compression(compression).build());
        let mut writer = SerializedFileWriter::new(File::create(path).unwrap(), schema, props).unwrap();
        for columns in groups {
            write_group(&mut writer, columns);
        }
        writer.close().unwrap();
    }

    fn write_group(writer: &mut SerializedFileWriter<File>, columns: &[Column]) {
        let mut group = writer.next_row_group().unwrap();
        for column in columns {
            let mut writer = group.next_column().unwrap().unwrap();
            let bytes = |values: Vec<Option<&[u8]>>| -> Vec<Option<ByteArray>> {
                values
                    .into_iter()
                    .map(|v| v.map(|b| ByteArray::from(b.to_vec())))
                    .collect()
            };
            match column {
                Column::Strings(values) => {
                    write_optional::<ByteArrayType>(
                        &mut writer,
                        &bytes(values.iter().map(|v| v.map(str::as_bytes)).collect()),
                    );
                }
                Column::Bytes(values) => write_optional::<ByteArrayType>(&mut writer, &bytes(values.clone())),
                Column::Longs(values) => write_optional::<Int64Type>(&mut writer, values),
                Column::Floats(values) => write_optional::<FloatType>(&mut writer, values),
                Column::Doubles(values) => write_optional::<DoubleType>(&mut writer, values),
                Column::Ints(values) => write_optional::<Int32Type>(&mut writer, values),
            }
            writer.close().unwrap();
        }
        group.close().unwrap();
    }

    fn read(path: &std::path::Path, options: ReadOptions) -> (Vec<Record>, CorpusReader) {
        let mut reader = CorpusReader::new(&[path.to_path_buf()], options).unwrap();
        let records = reader.by_ref().collect();
        (records, reader)
    }

    const ARTICLES: &str = "message articles {
        optional int64 id;
        optional binary body (STRING);
        optional int32 published (DATE);
        optional binary title (STRING);
    }";

    fn articles(dir: &std::path::Path, compression: Compression) -> std::path::PathBuf {
        let path = dir.join("articles.parquet");
        let columns = [
            Column::Longs(vec![Some(12_345_678_901), None, Some(7), Some(8)]),
            Column::Strings(vec![
                Some("China and India met."),
                Some("The US spoke."),
                None,
                Some(" "),
            ]),
            // 2024-03-01, null, 2024-02-29, 1970-01-01
            Column::Ints(vec![Some(19_783), None, Some(19_782), Some(0)]),
            Column::Strings(vec![Some("Talks"), None, None, None]),
        ];
        write(&path, ARTICLES, &columns, compression);
        path
    }

    fn body_options() -> ReadOptions {
        let mut options = ReadOptions::default();
        options.fields.text = "body".into();
        options.fields.date = "published".into();
        options
    }

    #[test]
    fn rows_are_documents_with_their_columns() {
        let dir = tempfile::tempdir().unwrap();
        for compression in [
            Compression::SNAPPY,
            Compression::ZSTD(ZstdLevel::default()),
            Compression::UNCOMPRESSED,
        ] {
            let path = articles(dir.path(), compression);
            let (records, reader) = read(&path, body_options());
            assert_eq!(records.len(), 4, "{compression:?}");
            let first = records[0].document.as_ref().unwrap();
            assert_eq!(
                (
                    first.id.as_str(),
                    first.text.as_str(),
                    first.date.as_deref(),
                    first.title.as_deref()
                ),
                ("12345678901", "China and India met.", Some("2024-03-01"), Some("Talks"))
            );
            let second = records[1].document.as_ref().unwrap();
            let label = path.display().to_string();
            assert_eq!((second.id.clone(), second.date.clone()), (format!("{label}:2"), None));
            let third = records[2].document.as_ref().unwrap_err();
            assert_eq!(
                (third.id.as_str(), third.kind, records[2].location.line),
                ("7", ErrorKind::MissingText, Some(3))
            );
            assert_eq!(records[3].document.as_ref().unwrap_err().kind, ErrorKind::EmptyText);
            assert!(reader.unmatched_fields().is_empty(), "{:?}", reader.unmatched_fields());
            assert_eq!(reader.bytes_read(), std::fs::metadata(&path).unwrap().len());
        }
    }

    /// The record reader stops at a string that is not UTF-8 (pyarrow and polars never write
    /// one): that row and the ones after it fail, each named.
    #[test]
    fn a_value_that_is_not_utf8_stops_the_file_and_whole_float_ids_are_integers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.parquet");
        let schema = "message m { optional double id; optional binary text (STRING); }";
        let columns = [
            Column::Doubles(vec![Some(1.0), Some(2.5), Some(3.0)]),
            Column::Bytes(vec![
                Some(b"China spoke."),
                Some(b"India \xff spoke."),
                Some(b"The US spoke."),
            ]),
        ];
        write(&path, schema, &columns, Compression::SNAPPY);
        let (records, _) = read(&path, ReadOptions::default());
        let summary: Vec<(String, Option<ErrorKind>)> = records
            .iter()
            .map(|r| (r.id().to_owned(), r.document.as_ref().err().map(|e| e.kind)))
            .collect();
        let label = path.display().to_string();
        let expected = [
            ("1".to_owned(), None),
            (format!("{label}:2"), Some(ErrorKind::Io)),
            (format!("{label}:3"), Some(ErrorKind::Io)),
        ];
        assert_eq!(summary, expected);
        let reason = &records[1].document.as_ref().unwrap_err().reason;
        assert!(reason.contains("a value of a string column is not UTF-8"), "{reason}");
    }

    /// A page that cannot be decoded stops the reader: the rows from there on each fail, so the
    /// file's every row is accounted for.
    #[test]
    fn rows_past_a_page_that_cannot_be_read_each_fail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("corrupt.parquet");
        let schema = "message m { optional binary text (STRING); }";
        let first = [Column::Strings(vec![Some("China spoke."), Some("India spoke.")])];
        let second = [Column::Strings(vec![
            Some("The US spoke."),
            Some("China again."),
            Some("India again."),
        ])];
        write_groups(&path, schema, &[&first, &second], Compression::SNAPPY);
        // Garble the second row group's data page (its header included).
        let metadata = SerializedFileReader::new(File::open(&path).unwrap())
            .unwrap()
            .metadata()
            .clone();
        let (start, length) = metadata.row_group(1).column(0).byte_range();
        let mut bytes = std::fs::read(&path).unwrap();
        for b in &mut bytes[start as usize..(start + length) as usize] {
            *b = 0xAB;
        }
        std::fs::write(&path, bytes).unwrap();
        let (records, reader) = read(&path, ReadOptions::default());
        let kinds: Vec<Option<ErrorKind>> = records
            .iter()
            .map(|r| r.document.as_ref().err().map(|e| e.kind))
            .collect();
        assert_eq!(
            kinds,
            [
                None,
                None,
                Some(ErrorKind::Io),
                Some(ErrorKind::Io),
                Some(ErrorKind::Io)
            ]
        );
        let last = records[4].document.as_ref().unwrap_err();
        assert!(
            last.reason.starts_with("not read: reading stopped at row 3: "),
            "{}",
            last.reason
        );
        assert!(last.reason.len() < 400, "{}", last.reason);
        assert_eq!(records[4].location.line, Some(5));
        assert_eq!(reader.bytes_read(), std::fs::metadata(&path).unwrap().len());
    }

    #[test]
    fn a_file_with_no_rows_and_no_text_column_is_one_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.parquet");
        write(
            &path,
            "message m { optional binary body (STRING); }",
            &[Column::Strings(vec![])],
            Compression::SNAPPY,
        );
        let (records, reader) = read(&path, ReadOptions::default());
        let kinds: Vec<_> = records.iter().map(|r| r.document.as_ref().unwrap_err().kind).collect();
        assert_eq!(kinds, [ErrorKind::MissingText]);
        assert!(reader.empty_files().is_empty());
        // With its text column, a file of no rows is an empty file.
        write(
            &path,
            "message m { optional binary text (STRING); }",
            &[Column::Strings(vec![])],
            Compression::SNAPPY,
        );
        let (records, reader) = read(&path, ReadOptions::default());
        assert!(records.is_empty());
        assert_eq!(reader.empty_files().count, 1);
    }

    #[test]
    fn decimal_ids_read_as_written_and_nan_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("decimals.parquet");
        let schema =
            "message m { optional int64 id (DECIMAL(10,2)); optional binary text (STRING); optional double date; }";
        let columns = [
            Column::Longs(vec![Some(1250), Some(700)]),
            Column::Strings(vec![Some("China spoke."), Some("India spoke.")]),
            Column::Doubles(vec![Some(f64::NAN), Some(20_240_305.0)]),
        ];
        write(&path, schema, &columns, Compression::SNAPPY);
        let (records, _) = read(&path, ReadOptions::default());
        let docs: Vec<(String, Option<String>)> = records
            .iter()
            .map(|r| r.document.as_ref().map(|d| (d.id.clone(), d.date.clone())).unwrap())
            .collect();
        assert_eq!(
            docs,
            [
                ("12.50".to_owned(), None),
                ("7.00".to_owned(), Some("20240305".to_owned()))
            ]
        );
        // Scale 0, as Spark writes integer ids; and a source of -0.0 and a title of f32 0.1.
        let schema = "message m { optional int64 id (DECIMAL(18,0)); optional binary text (STRING); \
                      optional double source; optional float title; }";
        let columns = [
            Column::Longs(vec![Some(12_345)]),
            Column::Strings(vec![Some("China spoke.")]),
            Column::Doubles(vec![Some(-0.0)]),
            Column::Floats(vec![Some(0.1)]),
        ];
        write(&path, schema, &columns, Compression::SNAPPY);
        let (records, _) = read(&path, ReadOptions::default());
        let doc = records[0].document.as_ref().unwrap();
        assert_eq!(
            (doc.id.as_str(), doc.source.as_deref(), doc.title.as_deref()),
            ("12345", Some("0"), Some("0.1"))
        );
    }

    /// pandas and polars write `datetime64[ns]` as nanosecond timestamps, which the record reader
    /// gives as plain integers.
    #[test]
    fn nanosecond_timestamps_are_dates_with_their_month() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ns.parquet");
        let schema = "message m { optional binary text (STRING); optional int64 date (TIMESTAMP(NANOS,false)); }";
        let columns = [
            Column::Strings(vec![Some("China spoke."), Some("India spoke.")]),
            Column::Longs(vec![Some(1_704_067_199_123_456_789), Some(-1)]),
        ];
        write(&path, schema, &columns, Compression::SNAPPY);
        let (records, _) = read(&path, ReadOptions::default());
        let dates: Vec<String> = records
            .iter()
            .map(|r| r.document.as_ref().unwrap().date.clone().unwrap())
            .collect();
        assert_eq!(
            dates,
            ["2023-12-31T23:59:59.123456789Z", "1969-12-31T23:59:59.999999999Z"]
        );
        assert_eq!(crate::corpus::month_of(&dates[0]).as_deref(), Some("2023-12"));
    }

    #[test]
    fn a_missing_text_column_fails_every_row_and_a_misnamed_field_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = articles(dir.path(), Compression::SNAPPY);
        let mut options = ReadOptions::default();
        options.fields.source = "outlet".into();
        let (records, reader) = read(&path, options);
        let failures: Vec<_> = records.iter().map(|r| r.document.as_ref().unwrap_err()).collect();
        assert_eq!(failures.len(), 4);
        assert!(failures
            .iter()
            .all(|e| e.kind == ErrorKind::MissingText && e.reason.contains("no column \"text\"")));
        assert_eq!(reader.unmatched_fields(), ["--source-field \"outlet\""]);
    }

    #[test]
    fn a_text_of_another_type_or_a_file_that_is_no_parquet_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("numbers.parquet");
        write(
            &path,
            "message m { optional int32 text; }",
            &[Column::Ints(vec![Some(3)])],
            Compression::SNAPPY,
        );
        let (records, _) = read(&path, ReadOptions::default());
        let error = records[0].document.as_ref().unwrap_err();
        assert_eq!(error.kind, ErrorKind::InvalidField);
        assert!(error.reason.contains("must be a string"), "{}", error.reason);

        let fake = dir.path().join("fake.parquet");
        std::fs::write(&fake, "id,text\n1,China\n").unwrap();
        let (records, _) = read(&fake, ReadOptions::default());
        assert_eq!(records.len(), 1);
        let error = records[0].document.as_ref().unwrap_err();
        assert_eq!((error.kind, records[0].location.line), (ErrorKind::Io, None));
        assert!(
            error.reason.contains("cannot read the Parquet file"),
            "{}",
            error.reason
        );
        // Compressed, it cannot seek.
        let packed = dir.path().join("a.parquet.gz");
        std::fs::write(&packed, b"").unwrap();
        let (records, _) = read(&packed, ReadOptions::default());
        assert!(records[0]
            .document
            .as_ref()
            .unwrap_err()
            .reason
            .contains("not read from a compressed file"));
    }

    #[test]
    fn standard_input_is_not_read_as_parquet() {
        let options = ReadOptions {
            stdin_format: crate::corpus::Format::Parquet,
            ..ReadOptions::default()
        };
        let refused = CorpusReader::new(&["-".into()], options).err().unwrap().to_string();
        assert!(refused.contains("standard input is not read as Parquet"), "{refused}");
    }
}
