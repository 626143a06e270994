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
///
/// Unknown fields are an error, not ignored: a field this library does not know
/// changes how the model reads its input, and scoring such a model with the
/// format it knows would give wrong scores without a word.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
    /// Token inserted before each mention of an actor other than the target,
    /// when the model was trained to see them (`[OTH]`); absent: others are
    /// left unmarked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_open: Option<String>,
    /// Token inserted after each mention of another actor (`[/OTH]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_close: Option<String>,
    /// At most this many tokens of the sentence before the pair's sentence in
    /// its document are appended as a third part, `[CLS] A [SEP] B [SEP] C
    /// [SEP]`: the end of that sentence, in whatever room A and B leave. 0 (or
    /// absent): the model reads each sentence alone.
    #[serde(default, skip_serializing_if = "crate::is_zero")]
    pub context_tokens: usize,
}

impl InputFormat {
    /// The (open, close) markers of other actors' mentions, when the model reads them.
    #[must_use]
    pub fn other_markers(&self) -> Option<(&str, &str)> {
        self.other_open.as_deref().zip(self.other_close.as_deref())
    }
}

/// Ids of the special tokens the encoder inserts itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
#[serde(deny_unknown_fields)]
pub struct OnnxNames {
    /// Input names, in the order input ids, attention mask and, for backbones
    /// with segment embeddings (BERT, MiniLM), token type ids. MPNet and
    /// RoBERTa-style graphs take only the first two.
    pub inputs: Vec<String>,
    /// Name of the logits output, `[batch, labels]`.
    pub output: String,
}

/// A model bundle's `config.json`. A field the library does not know is an error (a misspelled
/// `"temperture"` would silently score at temperature 1), except the ones written for people.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
    /// The graph multiplies uint8 activations by int8 weights that use the
    /// full int8 range. ONNX Runtime's x86 kernel for CPUs without VNNI sums
    /// pairs of those products in 16 bits and saturates some of them, so
    /// there scores differ a little from the ones the model card reports
    /// (still batch-invariant). See [`crate::AnalyzerInfo::int8_sums_saturate`].
    #[serde(default)]
    pub int8_needs_vnni: bool,
    /// The weight of document context ([`crate::context`]) chosen for this
    /// model by cross-validation: an analyzer built on it uses this weight
    /// unless told another. A model that reads single sentences less surely
    /// gains from more of its document. Absent:
    /// [`crate::context::DEFAULT_DOCUMENT_CONTEXT`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_context: Option<f32>,
    /// The pretrained encoder the model was made from: written for people, not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backbone: Option<serde_json::Value>,
    /// How it was trained: written for people, not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training: Option<serde_json::Value>,
    /// How its weights were quantized: written for people, not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantization: Option<serde_json::Value>,
    /// What it scored where it was measured: written for people, not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<serde_json::Value>,
    /// Anything else a person should know: not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<serde_json::Value>,
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
        if fmt.other_open.is_some() != fmt.other_close.is_some() {
            return bad("input_format names only one of other_open and other_close".into());
        }
        if fmt.max_length < fmt.max_target_tokens + 8 {
            return bad(format!("max_length {} leaves no room for the sentence", fmt.max_length));
        }
        if fmt.context_tokens >= fmt.max_length {
            return bad(format!(
                "context_tokens {} must be below max_length {}",
                fmt.context_tokens, fmt.max_length
            ));
        }
        if !(self.temperature.is_finite() && self.temperature > 0.0) {
            return bad(format!("temperature must be positive, got {}", self.temperature));
        }
        if let Some(weight) = self.document_context {
            if !crate::context::is_valid_weight(weight) {
                return bad(format!("document_context must be a number of at least 0, got {weight}"));
            }
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

    /// A bundle compiled into the library: stance-mini with feature
    /// `embedded-model` (on by default), stance-mid with `embedded-mid`,
    /// stance-base with `embedded-base`.
    pub fn embedded(which: EmbeddedModel) -> Result<Self> {
        let Some((config, tokenizer, onnx)) = embedded_files(which) else {
            return Err(Error::model(
                which.origin(),
                format!(
                    "this build of stance has no embedded {name} model (feature `{feature}` off, or models/{name} \
                     was missing at build time); rebuild with `--features {feature}`, or pass the bundle \
                     directory (models/{name} in the source repository) with `.model_dir(..)` / `--model DIR`",
                    name = which.name(),
                    feature = which.feature(),
                ),
            ));
        };
        let origin = which.origin();
        Ok(ModelBundle {
            config: ModelConfig::from_json(config, &origin)?,
            tokenizer_json: Cow::Borrowed(tokenizer),
            onnx: Cow::Borrowed(onnx),
            origin,
        })
    }
}

/// The files of an embedded bundle: config.json, tokenizer.json, model.onnx.
pub(crate) type EmbeddedFiles = (&'static str, &'static [u8], &'static [u8]);

pub(crate) fn embedded_files(which: EmbeddedModel) -> Option<EmbeddedFiles> {
    match which {
        #[cfg(stance_embedded_model)]
        EmbeddedModel::Mini => Some((
            include_str!("../models/stance-mini/config.json"),
            include_bytes!("../models/stance-mini/tokenizer.json"),
            include_bytes!("../models/stance-mini/model.onnx"),
        )),
        #[cfg(stance_embedded_mid)]
        EmbeddedModel::Mid => Some((
            include_str!("../models/stance-mid/config.json"),
            include_bytes!("../models/stance-mid/tokenizer.json"),
            include_bytes!("../models/stance-mid/model.onnx"),
        )),
        #[cfg(stance_embedded_base)]
        EmbeddedModel::Base => Some((
            include_str!("../models/stance-base/config.json"),
            include_bytes!("../models/stance-base/tokenizer.json"),
            include_bytes!("../models/stance-base/model.onnx"),
        )),
        #[allow(unreachable_patterns)] // when all are compiled in
        _ => None,
    }
}

/// The model bundles the library can carry inside it, by tier.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EmbeddedModel {
    /// stance-mini: MiniLM-L6, int8, 24 MB; fast. Embedded by default.
    #[default]
    Mini,
    /// stance-mid: the bottom six layers of the accurate tier's MPNet, int8,
    /// 68 MB; about a third of stance-mini's speed, most of stance-base's
    /// accuracy. Embedded with the `embedded-mid` feature.
    Mid,
    /// stance-base: all-mpnet-base-v2, 4-bit weights; about six times
    /// slower than stance-mid and the most accurate. Embedded with the
    /// `embedded-base` feature.
    Base,
}

impl EmbeddedModel {
    /// Every tier.
    pub const ALL: [EmbeddedModel; 3] = [EmbeddedModel::Mini, EmbeddedModel::Mid, EmbeddedModel::Base];

    /// The bundle's name (its directory under `models/`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            EmbeddedModel::Mini => "stance-mini",
            EmbeddedModel::Mid => "stance-mid",
            EmbeddedModel::Base => "stance-base",
        }
    }

    /// Where its bundle says it comes from (`<embedded stance-mini>`), as
    /// [`crate::AnalyzerInfo::model_origin`] and run.json record it.
    #[must_use]
    pub fn origin(self) -> PathBuf {
        PathBuf::from(format!("<embedded {}>", self.name()))
    }

    /// The cargo feature that embeds it.
    #[must_use]
    pub fn feature(self) -> &'static str {
        match self {
            EmbeddedModel::Mini => "embedded-model",
            EmbeddedModel::Mid => "embedded-mid",
            EmbeddedModel::Base => "embedded-base",
        }
    }

    /// Whether this build carries it.
    #[must_use]
    pub fn is_available(self) -> bool {
        embedded_files(self).is_some()
    }

    /// The tier named `name`: `mini` or `stance-mini`, `mid` or `stance-mid`,
    /// `base` or `stance-base`.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|m| name == m.name() || Some(name) == m.name().strip_prefix("stance-"))
    }
}

/// Where an analyzer's model comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModelSource {
    /// A bundle compiled into the library.
    Embedded(EmbeddedModel),
    /// A bundle directory (model.onnx, tokenizer.json, config.json).
    Dir(PathBuf),
}

impl Default for ModelSource {
    fn default() -> Self {
        ModelSource::Embedded(EmbeddedModel::Mini)
    }
}

impl ModelSource {
    /// Reads a command-line value: a tier name (`mini`, `mid`, `base`, `stance-base`, ...)
    /// unless a directory of that name exists, else a bundle directory.
    #[must_use]
    pub fn from_arg(value: &str) -> Self {
        match EmbeddedModel::from_name(value) {
            Some(tier) if !Path::new(value).is_dir() => ModelSource::Embedded(tier),
            _ => ModelSource::Dir(PathBuf::from(value)),
        }
    }

    pub(crate) fn load(&self) -> Result<ModelBundle> {
        match self {
            ModelSource::Embedded(which) => ModelBundle::embedded(*which),
            ModelSource::Dir(dir) => ModelBundle::from_dir(dir),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_field_the_library_does_not_know_is_an_error() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tiny-model");
        let text = std::fs::read_to_string(root.join("config.json")).unwrap();
        assert!(ModelConfig::from_json(&text, &root).is_ok());
        let misspelled = text.replacen("\"temperature\"", "\"temperture\"", 1);
        let error = ModelConfig::from_json(&misspelled, &root).unwrap_err().to_string();
        assert!(error.contains("unknown field `temperture`"), "{error}");
        let in_tokens = text.replacen("\"pad\"", "\"padding\": 0, \"pad\"", 1);
        let error = ModelConfig::from_json(&in_tokens, &root).unwrap_err().to_string();
        assert!(error.contains("unknown field `padding`"), "{error}");
    }

    #[test]
    fn tier_names_read_as_embedded_models_and_anything_else_as_a_directory() {
        assert_eq!(
            ModelSource::from_arg("mini"),
            ModelSource::Embedded(EmbeddedModel::Mini)
        );
        assert_eq!(
            ModelSource::from_arg("stance-base"),
            ModelSource::Embedded(EmbeddedModel::Base)
        );
        assert_eq!(
            ModelSource::from_arg("base"),
            ModelSource::Embedded(EmbeddedModel::Base)
        );
        assert_eq!(ModelSource::from_arg("mid"), ModelSource::Embedded(EmbeddedModel::Mid));
        assert_eq!(
            ModelSource::from_arg("stance-mid"),
            ModelSource::Embedded(EmbeddedModel::Mid)
        );
        assert_eq!(
            ModelSource::from_arg("models/stance-base"),
            ModelSource::Dir("models/stance-base".into())
        );
        assert_eq!(ModelSource::from_arg("large"), ModelSource::Dir("large".into()));
        assert_eq!(ModelSource::from_arg("./base"), ModelSource::Dir("./base".into()));
    }

    #[test]
    fn the_shipped_mini_config_says_its_int8_sums_need_vnni() {
        // Its weights use the full int8 range (training/EXPERIMENTS.md); an absent field reads as false.
        let shipped = include_str!("../models/stance-mini/config.json");
        let origin = Path::new("bundle/config.json");
        assert!(ModelConfig::from_json(shipped, origin).unwrap().int8_needs_vnni);
        let without = shipped.replacen("\"int8_needs_vnni\": true,", "", 1);
        assert_ne!(without, shipped);
        assert!(!ModelConfig::from_json(&without, origin).unwrap().int8_needs_vnni);
    }

    #[test]
    fn a_bundle_may_choose_its_document_context_weight() {
        let shipped: serde_json::Value =
            serde_json::from_str(include_str!("../models/stance-mini/config.json")).unwrap();
        let origin = Path::new("bundle/config.json");
        let with = |weight: Option<f64>| {
            let mut config = shipped.clone();
            let fields = config.as_object_mut().unwrap();
            fields.remove("document_context");
            if let Some(weight) = weight {
                fields.insert("document_context".into(), weight.into());
            }
            ModelConfig::from_json(&config.to_string(), origin)
        };
        assert_eq!(with(None).unwrap().document_context, None);
        assert_eq!(with(Some(0.25)).unwrap().document_context, Some(0.25));
        let message = with(Some(-1.0)).unwrap_err().to_string();
        assert!(
            message.contains("document_context") && message.contains("bundle/config.json"),
            "{message}"
        );
    }

    #[test]
    fn an_input_format_field_this_library_does_not_read_is_an_error() {
        let shipped = include_str!("../models/stance-mini/config.json");
        let origin = Path::new("bundle/config.json");
        assert!(ModelConfig::from_json(shipped, origin).is_ok());
        let extended = shipped.replacen("\"kind\"", "\"context_segment\": true, \"kind\"", 1);
        assert_ne!(extended, shipped);
        let message = ModelConfig::from_json(&extended, origin).unwrap_err().to_string();
        assert!(
            message.contains("context_segment") && message.contains("bundle/config.json"),
            "{message}"
        );
        let reads_context = shipped.replacen("\"kind\"", "\"context_tokens\": 48, \"kind\"", 1);
        let config = ModelConfig::from_json(&reads_context, origin).unwrap();
        assert_eq!(config.input_format.context_tokens, 48);
        let too_long = shipped.replacen("\"kind\"", "\"context_tokens\": 128, \"kind\"", 1);
        let message = ModelConfig::from_json(&too_long, origin).unwrap_err().to_string();
        assert!(message.contains("context_tokens 128"), "{message}");
        let half = shipped.replacen("\"kind\"", "\"other_open\": \"[OTH]\", \"kind\"", 1);
        let message = ModelConfig::from_json(&half, origin).unwrap_err().to_string();
        assert!(message.contains("other_close"), "{message}");
    }

    #[test]
    fn an_embedded_tier_this_build_lacks_is_an_error_naming_its_feature() {
        for which in EmbeddedModel::ALL {
            match ModelBundle::embedded(which) {
                Ok(bundle) => assert_eq!(bundle.config.name, which.name()),
                Err(e) => {
                    let message = e.to_string();
                    assert!(!which.is_available());
                    assert!(
                        message.contains(which.feature()) && message.contains(which.name()),
                        "{message}"
                    );
                }
            }
        }
    }
}
