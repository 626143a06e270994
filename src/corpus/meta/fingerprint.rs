//! Content hashes that tie a run to its inputs and its model.
//!
//! Both are 64-bit FNV-1a, written as 16 hex digits: not a defence against
//! someone forging a collision, but ample to notice a corpus or a model
//! replaced under the same name, at a cost far below scoring's.

use std::path::Path;

use crate::analyzer::{AnalyzerInfo, Document};
use crate::error::{Error, Result};
use crate::model::EmbeddedModel;

use super::super::input::Record;

/// Streaming 64-bit FNV-1a, with length-prefixed fields so that the
/// boundaries between fields count (`"ab","c"` and `"a","bc"` differ).
#[derive(Clone, Copy, Debug)]
struct Fnv64(u64);

impl Fnv64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    fn new() -> Self {
        Fnv64(Self::OFFSET)
    }

    fn bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(Self::PRIME);
        }
    }

    fn field(&mut self, bytes: &[u8]) {
        self.bytes(&(bytes.len() as u64).to_le_bytes());
        self.bytes(bytes);
    }

    fn optional(&mut self, value: Option<&str>) {
        match value {
            Some(v) => {
                self.bytes(&[1]);
                self.field(v.as_bytes());
            }
            None => self.bytes(&[0]),
        }
    }

    fn hex(self) -> String {
        format!("{:016x}", self.0)
    }
}

/// A running hash of the input records, in reading order: where each came
/// from and what it holds (the document's fields, or the error).
///
/// It is a function of the records, not of the bytes read ahead, so the
/// checkpoint can record the hash of exactly the records done; a resumed run
/// re-hashes the records it skips and refuses to go on when the result
/// differs, which catches an input replaced by another of the same length
/// (standard input included).
///
/// ```
/// use stance::corpus::{CorpusReader, InputHash, ReadOptions};
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("a.jsonl");
/// let hash_of = |content: &str| -> Result<String, Box<dyn std::error::Error>> {
///     std::fs::write(&path, content)?;
///     let mut hash = InputHash::default();
///     CorpusReader::new(&[path.clone()], ReadOptions::default())?.for_each(|r| hash.add(&r));
///     Ok(hash.hex())
/// };
/// assert_ne!(hash_of("{\"text\": \"China spoke.\"}\n")?, hash_of("{\"text\": \"India spoke.\"}\n")?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct InputHash {
    records: Fnv64,
    /// The documents alone, without where they came from (see [`InputHash::documents_hex`]).
    documents: Fnv64,
}

impl Default for InputHash {
    fn default() -> Self {
        InputHash {
            records: Fnv64::new(),
            documents: Fnv64::new(),
        }
    }
}

impl InputHash {
    /// Adds one record.
    pub fn add(&mut self, record: &Record) {
        let h = &mut self.records;
        h.field(record.location.file.as_bytes());
        h.bytes(&record.location.line.unwrap_or(u64::MAX).to_le_bytes());
        match &record.document {
            Ok(doc) => {
                h.bytes(&[0]);
                h.field(doc.id.as_bytes());
                add_fields(h, doc);
                self.documents.bytes(&[0]);
                add_fields(&mut self.documents, doc);
            }
            Err(error) => {
                h.bytes(&[1]);
                h.field(error.id.as_bytes());
                h.field(error.kind.as_str().as_bytes());
                h.field(error.reason.as_bytes());
                // The documents hash leaves out where the record was read: its id, and the reason
                // (which names the file).
                self.documents.bytes(&[1]);
                self.documents.field(error.kind.as_str().as_bytes());
            }
        }
    }

    /// The hash so far, as 16 hex digits.
    #[must_use]
    pub fn hex(&self) -> String {
        self.records.hex()
    }

    /// The hash of the documents alone, in order, as 16 hex digits: the same for a corpus and its
    /// copy under another name, a hard link to it, or its files joined into one, so that merge can
    /// refuse two whole runs over the same documents however they were named.
    #[must_use]
    pub fn documents_hex(&self) -> String {
        self.documents.hex()
    }
}

/// What a document holds, not where it was read: its text, date, source and title.
fn add_fields(h: &mut Fnv64, doc: &Document) {
    h.field(doc.text.as_bytes());
    h.optional(doc.date.as_deref());
    h.optional(doc.source.as_deref());
    h.optional(doc.title.as_deref());
}

/// Content hash of the model bundle an analyzer runs: its `config.json`,
/// `tokenizer.json` and `model.onnx` (for the embedded model, the bytes
/// compiled in), as 16 hex digits.
///
/// The files are read again from the bundle directory, so a model replaced
/// in place under the same name gets another hash.
///
/// # Errors
/// [`Error::Model`] when a file of the bundle cannot be read.
pub fn model_hash(info: &AnalyzerInfo) -> Result<String> {
    let mut h = Fnv64::new();
    let dir = Path::new(&info.model_origin);
    if dir.is_dir() {
        for name in ["config.json", "tokenizer.json", "model.onnx"] {
            let path = dir.join(name);
            let bytes = std::fs::read(&path).map_err(|e| Error::model(&path, format!("cannot read: {e}")))?;
            h.field(&bytes);
        }
        return Ok(h.hex());
    }
    // The compiled-in bytes of the same three files: the embedded model and its bundle directory
    // (`--model models/stance-mini`) are one model, and shards scored with either merge.
    let embedded = EmbeddedModel::ALL.into_iter().find(|which| which.origin() == dir);
    let Some((config, tokenizer, onnx)) = embedded.and_then(crate::model::embedded_files) else {
        return Err(Error::model(
            dir,
            "the model's directory is gone: it cannot be hashed to check that it is the one the run uses",
        ));
    };
    for bytes in [config.as_bytes(), tokenizer, onnx] {
        h.field(bytes);
    }
    Ok(h.hex())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_matches_the_published_vector_and_fields_have_boundaries() {
        let mut h = Fnv64::new();
        h.bytes(b"foobar");
        assert_eq!(h.0, 0x8594_4171_f739_67e8);
        let fields = |a: &str, b: &str| {
            let mut h = Fnv64::new();
            h.field(a.as_bytes());
            h.field(b.as_bytes());
            h.hex()
        };
        assert_ne!(fields("ab", "c"), fields("a", "bc"));
    }
}
