//! Compressed input files: `.gz` (gzip, members concatenated as `bgzip` and `pigz` write them)
//! and `.zst` (Zstandard, long windows included), decompressed as they are read, so that a
//! corpus dump is scored without unpacking it first.

use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// How an input file is compressed, told by its last extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Compression {
    Gzip,
    Zstd,
}

/// The largest Zstandard window accepted: 2 GiB, what `zstd --long=31` writes (large dumps
/// are often made so); the decoder allocates the window a file asks for, up to this.
const ZSTD_WINDOW_LOG_MAX: u32 = 31;

impl Compression {
    /// `Gzip` for `*.gz`, `Zstd` for `*.zst` (any case), `None` otherwise.
    pub(crate) fn of(path: &Path) -> Option<Compression> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "gz" => Some(Compression::Gzip),
            "zst" => Some(Compression::Zstd),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }

    /// The decompressed bytes of `file`. `consumed` counts the compressed bytes read, so that
    /// progress is measured against the files' sizes on disk.
    pub(crate) fn reader(
        self,
        file: impl Read + Send + 'static,
        consumed: Arc<AtomicU64>,
    ) -> std::io::Result<Box<dyn Read + Send>> {
        let counted = Counted { inner: file, consumed };
        let inner: Box<dyn Read + Send> = match self {
            Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(counted)),
            Compression::Zstd => {
                let mut decoder = zstd::stream::read::Decoder::new(counted)?;
                decoder.window_log_max(ZSTD_WINDOW_LOG_MAX)?;
                Box::new(decoder)
            }
        };
        Ok(Box::new(Decompressed {
            inner,
            compression: self,
        }))
    }
}

/// The name `path` has uncompressed, the file name alone (`dump.jsonl` of `a/dump.jsonl.gz`);
/// `None` when its name says no compression.
pub(crate) fn uncompressed_name(path: &Path) -> Option<&Path> {
    Compression::of(path)?;
    path.file_stem().map(Path::new)
}

/// The compression a file's first bytes show, for the hint of an error on text that is not UTF-8.
pub(crate) fn sniffed(bytes: &[u8]) -> Option<Compression> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        Some(Compression::Gzip)
    } else if bytes.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Some(Compression::Zstd)
    } else {
        None
    }
}

/// The words an invalid-UTF-8 error adds for a file that starts like compressed data.
pub(crate) fn hint(bytes: &[u8]) -> String {
    match sniffed(bytes) {
        Some(compression) => format!(
            " (it looks {}-compressed: name the file with .{} at the end to have it decompressed)",
            compression.name(),
            match compression {
                Compression::Gzip => "gz",
                Compression::Zstd => "zst",
            }
        ),
        None => String::new(),
    }
}

/// Counts the bytes read through it.
struct Counted<R> {
    inner: R,
    consumed: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.consumed.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// A decoder whose errors say they come from decompressing (a file cut short, corrupt data, a
/// file named `.gz` that is not gzip), which the decoders' own messages ("corrupt deflate
/// stream", "Unknown frame descriptor") leave to guess.
struct Decompressed {
    inner: Box<dyn Read + Send>,
    compression: Compression,
}

impl Read for Decompressed {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buf).map_err(|e| {
            let what = self.compression.name();
            std::io::Error::new(e.kind(), format!("cannot decompress the {what} data: {e}"))
        })
    }
}
