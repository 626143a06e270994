//! The library's one error type.

use std::path::PathBuf;

/// Everything that can go wrong in `stance`, each variant saying what and where.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The ONNX Runtime shared library could not be found or loaded.
    #[error("ONNX Runtime could not be loaded: {reason}\n  looked for: {looked_for}\n  fix: {fix}")]
    Runtime {
        /// What failed.
        reason: String,
        /// The places that were searched, in order.
        looked_for: String,
        /// How to fix it.
        fix: String,
    },

    /// A model bundle is missing a file, or a file in it is unreadable or corrupt.
    #[error("model bundle {path}: {reason}")]
    Model {
        /// The file or directory at fault.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// ONNX Runtime failed while building a session or running the model.
    /// The message ends with the runtime's own, as most readers of errors
    /// show the message alone (an I/O error's names its cause the same way).
    #[error("inference failed: {context}: {source}")]
    Inference {
        /// What was being done.
        context: String,
        /// The runtime's own error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// The tokenizer failed on an input.
    #[error("tokenizer failed on {context}: {message}")]
    Tokenizer {
        /// Which input (document id, sentence index) failed.
        context: String,
        /// The tokenizer's message.
        message: String,
    },

    /// An actor definition file or string is invalid.
    #[error("actor definitions {origin}{}: {reason}", line.map(|l| format!(", line {l}")).unwrap_or_default())]
    Actors {
        /// The file path, or `<string>` for in-memory input.
        origin: String,
        /// The 1-based line of the problem, when known.
        line: Option<usize>,
        /// What is wrong.
        reason: String,
    },

    /// An input document or record is unusable.
    #[error("{origin}{}: {reason}", line.map(|l| format!(", line {l}")).unwrap_or_default())]
    Input {
        /// File path and/or document id.
        origin: String,
        /// The 1-based line of the problem, when known.
        line: Option<usize>,
        /// What is wrong.
        reason: String,
    },

    /// A builder or option was given an impossible value.
    #[error("invalid configuration: {0}")]
    Config(String),

    /// A requested device (for example a CUDA GPU) cannot be used.
    #[error("device {device} is not available: {reason}")]
    Device {
        /// The device that was requested.
        device: String,
        /// Why it cannot be used.
        reason: String,
    },

    /// Another process holds the lock of a directory (a corpus run being scored, merged or reported).
    #[error("{path} is in use by another stance process ({holder}): wait for it to end, or use another directory")]
    InUse {
        /// The directory.
        path: PathBuf,
        /// The holder, as it recorded itself (process id, start time, command line).
        holder: String,
    },

    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn model(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Error::Model {
            path: path.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn input(origin: impl Into<String>, line: Option<usize>, reason: impl Into<String>) -> Self {
        Error::Input {
            origin: origin.into(),
            line,
            reason: reason.into(),
        }
    }
}
