//! Model bundles: a directory (or the embedded copy) holding `model.onnx`,
//! `tokenizer.json` and `config.json`.
//!
//! `config.json` is the contract between the training pipeline and this library:
//! it records the label order, how a (sentence, target) pair is turned into
//! model input, the maximum length and the calibration temperature.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::score::Label;

/// How a (sentence, target mentions) pair becomes model input.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InputFormat {
    /// The encoding scheme; only `"marked_pair"` exists: mentions wrapped in
    /// markers in segment A, the first mention's text as segment B.
    pub kind: String,
    /// Token inserted before each mention.
    pub marker_open: String,
    /// Token inserted after each mention.
    pub marker_close: String,
    /// Maximum model input length in tokens, special tokens included.
    pub max_length: usize,
    /// Maximum length of segment B (the target text) in tokens.
    pub max_target_tokens: usize,
}

/// Ids of the special tokens the encoder inserts itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecialTokens {
    /// Sequence start (`[CLS]`).
    pub cls: u32,
    /// Segment separator (`[SEP]`).
    pub sep: u32,
    /// Padding.
    pub pad: u32,
}

/// Names of the ONNX graph's inputs and output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OnnxNames {
    /// Input names, in the order input ids, attention mask and, for backbones
    /// with segment embeddings (BERT, MiniLM), token type ids. MPNet and
    /// RoBERTa-style graphs take only the first two.
    pub inputs: Vec<String>,
    /// Name of the logits output, `[batch, labels]`.
    pub output: String,
}

/// A model bundle's `config.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ModelConfig {
    /// Model name, reported in results and run metadata.
    pub name: String,
    /// Label of each logit, in output order.
    pub labels: Vec<String>,
    /// The input format.
    pub input_format: InputFormat,
    /// Special token ids.
    pub tokens: SpecialTokens,
    /// Graph input and output names.
    pub onnx: OnnxNames,
    /// Calibration temperature: probabilities are `softmax(logits / temperature)`.
    #[serde(default = "one")]
    pub temperature: f32,
    /// Weight precision of `model.onnx` (`int8`, `fp32`, `fp16`).
    #[serde(default)]
    pub precision: Option<String>,
    /// A pair's logits are the same bits whatever the batch it is run in (its
    /// batch-mates, padding, position), as checked when the bundle was exported.
    /// Documents may then share batches and still score exactly as alone.
    #[serde(default)]
    pub batch_invariant: bool,
}

fn one() -> f32 {
    1.0
}

impl ModelConfig {
    /// Parses and checks a `config.json`.
    ///
    /// # Errors
    /// [`Error::Model`] naming `origin` when the JSON is malformed or inconsistent.
    pub fn from_json(text: &str, origin: &Path) -> Result<Self> {
        let config: ModelConfig = serde_json::from_str(text)
            .map_err(|e| Error::model(origin, format!("invalid config.json (line {}): {e}", e.line())))?;
        config.validate(origin)?;
        Ok(config)
    }

    fn validate(&self, origin: &Path) -> Result<()> {
        let bad = |reason: String| Err(Error::model(origin, reason));
        if self.input_format.kind != "marked_pair" {
            return bad(format!(
                "unsupported input_format.kind {:?} (this library reads \"marked_pair\")",
                self.input_format.kind
            ));
        }
        if self.labels.len() != 3 || self.label_order().is_none() {
            return bad(format!(
                "labels must be unfavorable, neutral and favorable in some order, got {:?}",
                self.labels
            ));
        }
        if !(2..=3).contains(&self.onnx.inputs.len()) {
            return bad(format!(
                "onnx.inputs must name 2 or 3 inputs (ids, mask and optionally type ids), got {}",
                self.onnx.inputs.len()
            ));
        }
        let fmt = &self.input_format;
        if fmt.max_length < fmt.max_target_tokens + 8 {
            return bad(format!("max_length {} leaves no room for the sentence", fmt.max_length));
        }
        if !(self.temperature.is_finite() && self.temperature > 0.0) {
            return bad(format!("temperature must be positive, got {}", self.temperature));
        }
        Ok(())
    }

    /// For each logit position, its [`Label`]; `None` if the labels are not the three known ones.
    pub(crate) fn label_order(&self) -> Option<[Label; 3]> {
        let parse = |s: &str| match s {
            "unfavorable" | "negative" => Some(Label::Unfavorable),
            "neutral" => Some(Label::Neutral),
            "favorable" | "positive" => Some(Label::Favorable),
            _ => None,
        };
        let order = [
            parse(&self.labels[0])?,
            parse(&self.labels[1])?,
            parse(&self.labels[2])?,
        ];
        let distinct = order[0] != order[1] && order[1] != order[2] && order[0] != order[2];
        distinct.then_some(order)
    }
}

/// A loaded model bundle: config, tokenizer JSON and ONNX bytes.
#[derive(Clone)]
pub(crate) struct ModelBundle {
    pub config: ModelConfig,
    pub tokenizer_json: Cow<'static, [u8]>,
    pub onnx: Cow<'static, [u8]>,
    /// Where the bundle came from (a directory, or `<embedded>`), for messages.
    pub origin: PathBuf,
}

impl ModelBundle {
    /// Reads a bundle directory.
    pub fn from_dir(dir: &Path) -> Result<Self> {
        if !dir.is_dir() {
            return Err(Error::model(
                dir,
                "not a directory (a model bundle holds model.onnx, tokenizer.json and config.json)",
            ));
        }
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read(&path).map_err(|e| Error::model(&path, format!("cannot read: {e}")))
        };
        let config_bytes = read("config.json")?;
        let config_path = dir.join("config.json");
        let config_text = std::str::from_utf8(&config_bytes).map_err(|_| Error::model(&config_path, "not UTF-8"))?;
        Ok(ModelBundle {
            config: ModelConfig::from_json(config_text, &config_path)?,
            tokenizer_json: Cow::Owned(read("tokenizer.json")?),
            onnx: Cow::Owned(read("model.onnx")?),
            origin: dir.to_path_buf(),
        })
    }

    /// The bundle compiled into the library (feature `embedded-model`).
    #[cfg(stance_embedded_model)]
    pub fn embedded() -> Result<Self> {
        static CONFIG: &str = include_str!("../models/stance-mini/config.json");
        static TOKENIZER: &[u8] = include_bytes!("../models/stance-mini/tokenizer.json");
        static ONNX: &[u8] = include_bytes!("../models/stance-mini/model.onnx");
        let origin = PathBuf::from("<embedded stance-mini>");
        Ok(ModelBundle {
            config: ModelConfig::from_json(CONFIG, &origin)?,
            tokenizer_json: Cow::Borrowed(TOKENIZER),
            onnx: Cow::Borrowed(ONNX),
            origin,
        })
    }

    /// Without the embedded model, asking for it is an error that says how to get one.
    #[cfg(not(stance_embedded_model))]
    pub fn embedded() -> Result<Self> {
        Err(Error::model(
            "<embedded>",
            "this build of stance has no embedded model (feature `embedded-model` off, or models/stance-mini \
             was missing at build time); pass a bundle directory with `.model_dir(..)` / `--model DIR`",
        ))
    }
}
