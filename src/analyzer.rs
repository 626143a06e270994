//! The [`Analyzer`]: runs the whole pipeline, from text to per-actor statistics.

use std::collections::BTreeMap;
use std::path::PathBuf;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::actor::ActorSet;
use crate::aggregate::ActorStats;
use crate::backend::ort::{OrtBackend, SessionSettings};
use crate::backend::{Backend, Device};
use crate::batch::{plan_batches, plan_batches_by_group, BatchLimits, BatchTensors};
use crate::context::{is_valid_weight, read_in_context, ContextKey, DEFAULT_DOCUMENT_CONTEXT};
use crate::corpus::input::EMPTY_TEXT;
use crate::corpus::{ErrorKind, ErrorRow};
use crate::encode::{Encoded, Encoder};
use crate::error::{Error, Result};
use crate::mention::MentionFinder;
use crate::model::{EmbeddedModel, ModelBundle, ModelSource};
use crate::score::{Scorer, Stance};
use crate::segment::{split_sentences, Span};

/// One input document.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Document {
    /// Stable identifier, used in outputs and error reports.
    pub id: String,
    /// The full text.
    pub text: String,
    /// Publication date (ISO 8601 preferred), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// Outlet or source, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Title, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

impl Document {
    /// A document with an id and text and no metadata.
    pub fn new(id: impl Into<String>, text: impl Into<String>) -> Self {
        Document {
            id: id.into(),
            text: text.into(),
            ..Document::default()
        }
    }

    /// Sets the date.
    #[must_use]
    pub fn with_date(mut self, date: impl Into<String>) -> Self {
        self.date = Some(date.into());
        self
    }

    /// Sets the source.
    #[must_use]
    pub fn with_source(mut self, source: impl Into<String>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// Sets the title.
    #[must_use]
    pub fn with_title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }
}

/// One mention of an actor, in character offsets (Unicode scalar values, as
/// Python's `str` indexes) into the document text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MentionSpan {
    /// First character.
    pub start: usize,
    /// One past the last character.
    pub end: usize,
    /// The mention as written.
    pub text: String,
}

/// The stance of one sentence toward one actor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SentenceStance {
    /// Position of the sentence in its document, from 0.
    pub sentence_index: usize,
    /// Character offset of the sentence's start in the document.
    pub start: usize,
    /// Character offset one past the sentence's end.
    pub end: usize,
    /// The sentence.
    pub text: String,
    /// Id of the actor (`us`, `china`, ...).
    pub actor: String,
    /// Where the actor is mentioned in the sentence.
    pub mentions: Vec<MentionSpan>,
    /// The model's verdict.
    #[serde(flatten)]
    pub stance: Stance,
    /// Whether the sentence was longer than the model's input and was cut around the mention.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

/// All stances found in one document, and its per-actor statistics.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DocumentStances {
    /// The document's id.
    pub id: String,
    /// Number of sentences in the document (with or without mentions).
    pub sentences: usize,
    /// One entry per (sentence, actor) pair, in sentence order then actor order.
    pub stances: Vec<SentenceStance>,
    /// Statistics per actor id, for actors mentioned in the document.
    pub actors: BTreeMap<String, ActorStats>,
}

impl DocumentStances {
    /// Statistics of one actor in this document.
    #[must_use]
    pub fn actor(&self, id: &str) -> Option<&ActorStats> {
        self.actors.get(id)
    }
}

/// A document that could not be scored, and why.
///
/// It serializes as the line a corpus run writes to `errors.jsonl` for the
/// same failure, so that both can be read together (as
/// [`ErrorRow`](crate::corpus::ErrorRow)s): `id`, `file` (empty: the document
/// was given in memory), `line` (null), `kind` and `reason`. A blank text is
/// `"empty_text"`, with the reason `"empty text"`; any other failure is
/// `"scoring"`, with the error's message as the reason. It does not
/// deserialize: the error's source (an ONNX Runtime or I/O error) cannot be
/// rebuilt from its message.
///
/// Its message is the id and that reason, which says what the [`Error`]'s
/// message says; so its source is not the [`Error`] (whose message a chain of
/// causes would repeat) but the [`Error`]'s own source, if any (an ONNX Runtime
/// or I/O error): the chain reads as the [`Error`]'s, the id in front. The
/// [`Error`] itself is [`DocumentError::error`].
///
/// ```
/// use stance::{Analyzer, Document};
/// let analyzer = Analyzer::builder().build()?;
/// let failed = analyzer
///     .score_stream(vec![Document::new("d1", " ")], 1)
///     .find_map(Result::err)
///     .expect("a blank text fails");
/// assert_eq!(failed.to_string(), "d1: empty text");
/// assert_eq!(
///     serde_json::to_string(&failed).unwrap(),
///     r#"{"id":"d1","file":"","line":null,"kind":"empty_text","reason":"empty text"}"#
/// );
/// # Ok::<(), stance::Error>(())
/// ```
#[derive(Debug)]
pub struct DocumentError {
    /// The document's id.
    pub id: String,
    /// What went wrong.
    pub error: Error,
}

impl DocumentError {
    /// The kind and reason of the `errors.jsonl` line of a run for this
    /// failure: its reader, not the analyzer, finds a blank text there.
    pub(crate) fn kind_and_reason(&self) -> (ErrorKind, String) {
        match &self.error {
            Error::Input { reason, .. } if reason == EMPTY_TEXT => (ErrorKind::EmptyText, EMPTY_TEXT.to_owned()),
            error => (ErrorKind::Scoring, error.to_string()),
        }
    }
}

impl Serialize for DocumentError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let (kind, reason) = self.kind_and_reason();
        let row = ErrorRow {
            id: self.id.clone(),
            file: String::new(),
            line: None,
            kind,
            reason,
        };
        row.serialize(serializer)
    }
}

impl std::fmt::Display for DocumentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.id, self.kind_and_reason().1)
    }
}

impl std::error::Error for DocumentError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        // The message holds the Error's already: as its source, it would be said twice.
        std::error::Error::source(&self.error)
    }
}

/// Per-actor statistics over many documents; merge reports of shards with [`CorpusReport::merge`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CorpusReport {
    /// Documents scored.
    pub documents: u64,
    /// Documents that failed.
    pub failed: u64,
    /// Sentences in the scored documents.
    pub sentences: u64,
    /// Statistics per actor id (every actor of the set, mentioned or not).
    pub actors: BTreeMap<String, ActorStats>,
}

impl CorpusReport {
    /// An empty report listing every actor of `actors`.
    #[must_use]
    pub fn new(actors: &ActorSet) -> Self {
        CorpusReport {
            actors: actors
                .actors()
                .iter()
                .map(|a| (a.id.clone(), ActorStats::default()))
                .collect(),
            ..CorpusReport::default()
        }
    }

    /// Adds one scored document.
    pub fn add(&mut self, doc: &DocumentStances) {
        self.documents += 1;
        self.sentences += doc.sentences as u64;
        for (id, stats) in &doc.actors {
            self.actors.entry(id.clone()).or_default().merge(stats);
        }
    }

    /// Counts a document that could not be scored, so that the report accounts for every one.
    pub fn add_failure(&mut self) {
        self.failed += 1;
    }

    /// Adds one result of [`Analyzer::score_stream`] (or of `score_documents`, its error named
    /// by the document): a scored document, or a failure.
    ///
    /// ```
    /// use stance::{Analyzer, CorpusReport, Document};
    /// let analyzer = Analyzer::builder().build()?;
    /// let docs = [Document::new("a", "China and India met."), Document::new("b", " ")];
    /// let mut report = CorpusReport::new(analyzer.actors());
    /// for result in analyzer.score_stream(docs, 256) {
    ///     report.add_result(&result);
    /// }
    /// assert_eq!((report.documents, report.failed), (1, 1));
    /// # Ok::<(), stance::Error>(())
    /// ```
    pub fn add_result(&mut self, result: &std::result::Result<DocumentStances, DocumentError>) {
        match result {
            Ok(doc) => self.add(doc),
            Err(_) => self.add_failure(),
        }
    }

    /// Adds another report (for example another shard's). Exact and order-independent.
    pub fn merge(&mut self, other: &CorpusReport) {
        self.documents += other.documents;
        self.failed += other.failed;
        self.sentences += other.sentences;
        for (id, stats) in &other.actors {
            self.actors.entry(id.clone()).or_default().merge(stats);
        }
    }

    /// Statistics of one actor.
    #[must_use]
    pub fn actor(&self, id: &str) -> Option<&ActorStats> {
        self.actors.get(id)
    }
}

/// A sentence with a target given by explicit spans, for scoring annotated data.
///
/// ```
/// use stance::{Span, TargetedSentence};
/// let pair = TargetedSentence {
///     text: "Beijing backed the plan.".into(),
///     spans: vec![Span::new(0, 7)],
///     context: "The summit had stalled for two days.".into(),
///     ..TargetedSentence::default()
/// };
/// assert!(pair.others.is_empty());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TargetedSentence {
    /// The sentence.
    pub text: String,
    /// Byte spans of the target's mentions in `text`.
    pub spans: Vec<Span>,
    /// Byte spans of other actors' mentions in `text`. Only a model trained to
    /// see them (its input format names other-actor markers) reads them.
    pub others: Vec<Span>,
    /// The sentence before `text` in its document, "" if none. Only a model
    /// trained to read it (its input format names `context_tokens`) does;
    /// documents scored whole get it from their own sentences.
    pub context: String,
}

/// What an analyzer runs on, for reports and run metadata.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AnalyzerInfo {
    /// Model name from the bundle's config.
    pub model: String,
    /// Where the model came from (a directory or the embedded copy).
    pub model_origin: String,
    /// Weight precision, when the bundle states it.
    pub precision: Option<String>,
    /// A pair's scores do not depend on its batch in any bit: the bundle says
    /// so and the device is the CPU (GPU kernels are chosen by batch shape).
    /// Documents then share batches even when scored "separately".
    #[serde(default)]
    pub batch_invariant: bool,
    /// This CPU lacks VNNI and the model needs it for exact int8 sums
    /// ([`crate::ModelConfig::int8_needs_vnni`]): ONNX Runtime saturates some
    /// 16-bit pair sums, so labels agree with the model's fp32 weights a little
    /// less often than its model card reports (about 98.3-98.9% of dev pairs
    /// instead of 99-100%). Scores stay batch-invariant.
    #[serde(default)]
    pub int8_sums_saturate: bool,
    /// The device actually in use.
    pub device: Device,
    /// ONNX Runtime sessions in the pool.
    pub sessions: usize,
    /// Intra-op threads per session.
    pub intra_threads: usize,
    /// Token budget per batch.
    pub token_budget: usize,
    /// Maximum rows per batch.
    pub max_batch_rows: usize,
    /// Maximum model input length in tokens.
    pub max_length: usize,
    /// Actor ids, in order.
    pub actors: Vec<String>,
    /// Weight of the document's reading of an actor in each of its sentences'
    /// stances ([`crate::context`]); 0 reads every sentence alone. Absent (0)
    /// in the run metadata of runs made before sentences were read in context.
    #[serde(default)]
    pub document_context: f32,
}

impl AnalyzerInfo {
    /// The warning to show a user when [`AnalyzerInfo::int8_sums_saturate`], else `None`.
    #[must_use]
    pub fn int8_saturation_warning(&self) -> Option<String> {
        self.int8_sums_saturate.then(|| {
            format!(
                "{} needs a CPU with VNNI for exact int8 sums; on this one a few scores differ \
                 slightly from the model card's (labels agree with its fp32 weights on ~98-99% of pairs)",
                self.model
            )
        })
    }
}

/// Whether ONNX Runtime's int8 matmul kernels on this CPU sum u8 x s8 products
/// in 32 bits (VNNI: `vpdpbusd`). Its x86 kernels without VNNI use
/// `vpmaddubsw`, whose 16-bit pair sums saturate; other architectures'
/// kernels widen before adding.
fn cpu_has_vnni() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512vnni") || std::arch::is_x86_feature_detected!("avxvnni")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        true
    }
}

/// [`AnalyzerInfo::int8_sums_saturate`]: a model whose int8 sums need VNNI,
/// run by ONNX Runtime's CPU kernels on a CPU without it (GPU kernels are
/// another matter).
fn int8_sums_saturate(model_needs_vnni: bool, device: Device, cpu_has_vnni: bool) -> bool {
    model_needs_vnni && device == Device::Cpu && !cpu_has_vnni
}

/// Configures and builds an [`Analyzer`]; everything is checked in [`AnalyzerBuilder::build`].
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct AnalyzerBuilder {
    actors: Option<ActorSet>,
    device: Device,
    model: ModelSource,
    threads: Option<usize>,
    sessions: Option<usize>,
    /// Set by the caller; each one left unset takes its device's default in `build()`.
    token_budget: Option<usize>,
    max_batch_rows: Option<usize>,
    record_timings: bool,
    document_context: Option<f32>,
}

impl AnalyzerBuilder {
    /// More inference threads per core than this only add memory: on the CPU
    /// each thread gets a session (a copy of the model's working memory), and
    /// thread counts far past the cores exhaust the process's thread limit.
    pub const MAX_THREADS_PER_CORE: usize = 4;

    /// The most threads [`AnalyzerBuilder::build`] accepts on a machine with `cores` cores.
    #[must_use]
    pub fn max_threads(cores: usize) -> usize {
        cores.saturating_mul(Self::MAX_THREADS_PER_CORE)
    }

    /// The actors to look for (default: US, China, India).
    pub fn actors(mut self, actors: ActorSet) -> Self {
        self.actors = Some(actors);
        self
    }

    /// The device to run on (default CPU). A device that cannot be had is an error at `build()`.
    pub fn device(mut self, device: Device) -> Self {
        self.device = device;
        self
    }

    /// Use the model bundle in `dir` instead of the embedded one.
    pub fn model_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.model = ModelSource::Dir(dir.into());
        self
    }

    /// Use an embedded tier (default [`EmbeddedModel::Mini`]); [`EmbeddedModel::Mid`]
    /// and [`EmbeddedModel::Base`] need the `embedded-mid` and `embedded-base`
    /// features, else `build()` says how to get them.
    pub fn embedded_model(mut self, which: EmbeddedModel) -> Self {
        self.model = ModelSource::Embedded(which);
        self
    }

    /// Use the model from `source`: an embedded tier or a bundle directory.
    pub fn model(mut self, source: ModelSource) -> Self {
        self.model = source;
        self
    }

    /// Total threads for inference (sessions x intra-op threads); default:
    /// rayon's pool size, up to [`AnalyzerBuilder::max_threads`] of the cores
    /// this process may use. A count above that is refused by `build()`.
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = Some(threads);
        self
    }

    /// Number of ONNX Runtime sessions (default: one per thread on CPU, one on a GPU).
    pub fn sessions(mut self, sessions: usize) -> Self {
        self.sessions = Some(sessions);
        self
    }

    /// Maximum padded tokens per batch (default 2048 on CPU, 32768 on a GPU).
    pub fn token_budget(mut self, tokens: usize) -> Self {
        self.token_budget = Some(tokens);
        self
    }

    /// Maximum rows per batch (default 128 on CPU, 512 on a GPU).
    pub fn max_batch_rows(mut self, rows: usize) -> Self {
        self.max_batch_rows = Some(rows);
        self
    }

    /// How much a document's other sentences about an actor weigh in each
    /// sentence's stance toward it ([`crate::context`]; default: the weight
    /// chosen for the model, [`crate::ModelConfig::document_context`], else
    /// [`crate::context::DEFAULT_DOCUMENT_CONTEXT`]). 0 reads every sentence
    /// alone, as [`Analyzer::score_sentences`] always does.
    pub fn document_context(mut self, weight: f32) -> Self {
        self.document_context = Some(weight);
        self
    }

    /// Record size and wall time of every batch, read with [`Analyzer::take_batch_timings`].
    pub fn record_batch_timings(mut self, record: bool) -> Self {
        self.record_timings = record;
        self
    }

    /// The limits the caller set, the rest the defaults of the device, whichever
    /// order the settings were given in.
    fn batch_limits(&self) -> BatchLimits {
        let defaults = default_limits(self.device);
        BatchLimits {
            token_budget: self.token_budget.unwrap_or(defaults.token_budget),
            max_rows: self.max_batch_rows.unwrap_or(defaults.max_rows),
        }
    }

    /// Checks the configuration, loads the model and starts the runtime.
    ///
    /// # Errors
    /// Invalid settings ([`Error::Config`]), an unreadable or inconsistent model
    /// bundle ([`Error::Model`]), a missing ONNX Runtime ([`Error::Runtime`]) or
    /// an unavailable device ([`Error::Device`]).
    pub fn build(self) -> Result<Analyzer> {
        let cores = available_cores();
        let threads = match self.threads {
            Some(threads) => {
                check_threads(threads, cores)?;
                threads
            }
            // Rayon's pool may be sized past what the cores can use (RAYON_NUM_THREADS, a pool
            // of the caller's): the default takes the most that helps instead of refusing a
            // setting the caller never gave.
            None => rayon::current_num_threads().min(Self::max_threads(cores)),
        };
        let sessions = self
            .sessions
            .unwrap_or(if self.device == Device::Cpu { threads } else { 1 });
        if sessions == 0 || (self.device == Device::Cpu && sessions > threads) {
            return Err(Error::Config(format!(
                "sessions ({sessions}) must be between 1 and threads ({threads})"
            )));
        }
        let limits = self.batch_limits();
        if limits.max_rows == 0 {
            return Err(Error::Config("max batch rows (0) must be at least 1".into()));
        }
        if let Some(weight) = self.document_context {
            if !is_valid_weight(weight) {
                return Err(Error::Config(format!(
                    "document context weight ({weight}) must be a number of at least 0"
                )));
            }
        }
        let bundle = self.model.load()?;
        let document_context = self
            .document_context
            .or(bundle.config.document_context)
            .unwrap_or(DEFAULT_DOCUMENT_CONTEXT);
        let max_length = bundle.config.input_format.max_length;
        if limits.token_budget < max_length {
            return Err(Error::Config(format!(
                "token budget ({}) must be at least the model's max length ({max_length})",
                limits.token_budget
            )));
        }
        let actors = self.actors.unwrap_or_default();
        let settings = SessionSettings {
            device: self.device,
            sessions,
            intra_threads: (threads / sessions).max(1),
        };
        let backend = OrtBackend::new(&bundle, settings)?;
        let reading = Reading {
            limits,
            document_context,
            record_timings: self.record_timings,
        };
        Analyzer::assemble(bundle, actors, Box::new(backend), settings, reading)
    }
}

/// The cores this process may use (1 when the system cannot say).
fn available_cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// Refuses a thread count that would spend memory (or crash the process at its
/// thread limit) for nothing, before anything is started.
fn check_threads(threads: usize, cores: usize) -> Result<()> {
    if threads == 0 {
        return Err(Error::Config("threads must be at least 1".into()));
    }
    let max = AnalyzerBuilder::max_threads(cores);
    if threads > max {
        return Err(Error::Config(format!(
            "threads ({threads}) is more than this machine can use: at most {max} ({} per core, {cores} cores); \
             each thread holds its own model session, so more only costs memory",
            AnalyzerBuilder::MAX_THREADS_PER_CORE
        )));
    }
    Ok(())
}

/// How an analyzer reads, besides its model and actors: batching, the weight of
/// document context, and whether batch timings are kept.
struct Reading {
    limits: BatchLimits,
    document_context: f32,
    record_timings: bool,
}

fn default_limits(device: Device) -> BatchLimits {
    match device {
        Device::Cpu => BatchLimits::default(),
        Device::Cuda(_) => BatchLimits {
            token_budget: 32_768,
            max_rows: 512,
        },
    }
}

/// Scores how sentences portray actors. `Send + Sync`: share one across threads.
///
/// ```
/// use stance::Analyzer;
/// let analyzer = Analyzer::builder().build()?;
/// let doc = analyzer.score_text("Beijing has been a reliable partner. Washington keeps breaking its promises.")?;
/// assert_eq!(doc.stances.len(), 2);
/// let china = doc.actor("china").expect("China is mentioned");
/// assert_eq!(china.sentences(), 1);
/// # Ok::<(), stance::Error>(())
/// ```
pub struct Analyzer {
    actors: ActorSet,
    finder: MentionFinder,
    /// Set when the model reads the other actors of a sentence.
    others: Option<OtherActors>,
    encoder: Encoder,
    backend: Box<dyn Backend>,
    scorer: Scorer,
    limits: BatchLimits,
    pad: i64,
    info: AnalyzerInfo,
    /// Per-batch timings, recorded only when asked for (benchmarks).
    timings: Option<std::sync::Mutex<Vec<BatchTiming>>>,
}

/// Size and wall time of one inference batch, recorded with
/// [`AnalyzerBuilder::record_batch_timings`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct BatchTiming {
    /// Rows (pairs) in the batch.
    pub rows: usize,
    /// Real tokens in the batch.
    pub tokens: usize,
    /// Tokens including padding (`rows x longest`).
    pub padded_tokens: usize,
    /// Wall time of tensor building, inference and scoring, in seconds.
    pub seconds: f64,
}

/// Encoded pairs, opaque: for the benchmark hooks only.
#[doc(hidden)]
pub struct EncodedPairs(Vec<Encoded>);

impl EncodedPairs {
    /// Total tokens, without padding.
    #[must_use]
    pub fn tokens(&self) -> usize {
        self.0.iter().map(Encoded::len).sum()
    }

    /// Token length of each pair.
    #[must_use]
    pub fn lengths(&self) -> Vec<usize> {
        self.0.iter().map(Encoded::len).collect()
    }
}

/// A (sentence, actor) pair waiting for a score, with its place in the input.
struct Pair {
    doc: usize,
    sentence: usize,
    actor: usize,
}

/// A segmented document: its sentences and, per sentence, the mentions found.
struct Prepared {
    sentences: Vec<Span>,
    mentions: Vec<Vec<crate::mention::Mention>>,
    /// Per sentence, the mentions of every known actor (`OtherActors`); empty
    /// when the model does not read other actors.
    others: Vec<Vec<crate::mention::Mention>>,
}

/// The stance of each pair of a batch, in its rows' order; a pair whose logits
/// cannot be read fails alone.
type BatchStances = Vec<Result<Stance>>;

/// Every actor the library knows (built-in and the analyzer's own), found in a
/// sentence so that a model trained to see the *other* actors of a sentence
/// gets them marked, whichever actors the user asked to score.
struct OtherActors {
    actors: ActorSet,
    finder: MentionFinder,
}

impl OtherActors {
    fn new(scored: &ActorSet) -> Result<OtherActors> {
        let actors = ActorSet::builtin().extend(scored.clone());
        let finder = MentionFinder::marking(&actors)?;
        Ok(OtherActors { actors, finder })
    }

    /// The spans of mentions in `found` of actors other than `target_id`.
    fn spans_besides(&self, found: &[crate::mention::Mention], target_id: &str) -> Vec<Span> {
        found
            .iter()
            .filter(|m| self.actors.get(m.actor).is_some_and(|a| a.id != target_id))
            .map(|m| m.span)
            .collect()
    }
}

impl Analyzer {
    /// A builder with defaults: embedded model, CPU, US / China / India.
    pub fn builder() -> AnalyzerBuilder {
        AnalyzerBuilder::default()
    }

    fn assemble(
        bundle: ModelBundle,
        actors: ActorSet,
        backend: Box<dyn Backend>,
        settings: SessionSettings,
        reading: Reading,
    ) -> Result<Analyzer> {
        let Reading {
            limits,
            document_context,
            record_timings,
        } = reading;
        let config = &bundle.config;
        let order = config
            .label_order()
            .ok_or_else(|| Error::model(&bundle.origin, "labels are not unfavorable / neutral / favorable"))?;
        let info = AnalyzerInfo {
            model: config.name.clone(),
            model_origin: bundle.origin.display().to_string(),
            precision: config.precision.clone(),
            batch_invariant: config.batch_invariant && backend.device() == Device::Cpu,
            int8_sums_saturate: int8_sums_saturate(config.int8_needs_vnni, backend.device(), cpu_has_vnni()),
            device: backend.device(),
            sessions: settings.sessions,
            intra_threads: settings.intra_threads,
            token_budget: limits.token_budget,
            max_batch_rows: limits.max_rows,
            max_length: config.input_format.max_length,
            actors: actors.actors().iter().map(|a| a.id.clone()).collect(),
            document_context,
        };
        let encoder = Encoder::new(&bundle.tokenizer_json, config, &bundle.origin)?;
        Ok(Analyzer {
            finder: MentionFinder::new(&actors)?,
            others: encoder.marks_others().then(|| OtherActors::new(&actors)).transpose()?,
            encoder,
            scorer: Scorer {
                order,
                temperature: config.temperature,
            },
            pad: i64::from(config.tokens.pad),
            actors,
            backend,
            limits,
            info,
            timings: record_timings.then(|| std::sync::Mutex::new(Vec::new())),
        })
    }

    /// What this analyzer runs: model, device actually used, threads, batching.
    #[must_use]
    pub fn info(&self) -> &AnalyzerInfo {
        &self.info
    }

    /// The actors this analyzer looks for.
    #[must_use]
    pub fn actors(&self) -> &ActorSet {
        &self.actors
    }

    /// Segments `text`, finds the actors in each sentence and scores every (sentence, actor) pair,
    /// each read in its document ([`AnalyzerBuilder::document_context`]).
    ///
    /// # Errors
    /// [`Error::Input`] for an empty text (nothing but whitespace, after a
    /// leading byte-order mark); tokenizer or inference failures.
    pub fn score_text(&self, text: &str) -> Result<DocumentStances> {
        self.score_document(&Document::new("<text>", text))
    }

    /// Like [`Analyzer::score_text`], for a [`Document`] (its id appears in results and errors).
    ///
    /// # Errors
    /// As [`Analyzer::score_text`].
    pub fn score_document(&self, doc: &Document) -> Result<DocumentStances> {
        let mut results = self.score_documents(std::slice::from_ref(doc));
        results
            .pop()
            .unwrap_or_else(|| Err(Error::input(&doc.id, None, "document was not scored")))
    }

    /// Scores sentences as given (no segmentation): one entry per (sentence, actor mentioned).
    /// Each sentence is read alone, without the sentence before it: a model that
    /// reads context does better on whole documents ([`Analyzer::score_text`]),
    /// where a short name ("Khan") also counts after its full alias in an
    /// earlier sentence.
    ///
    /// # Errors
    /// Tokenizer or inference failures.
    pub fn score_sentences(&self, sentences: &[&str]) -> Result<Vec<SentenceStance>> {
        let docs: Vec<Document> = sentences
            .iter()
            .enumerate()
            .map(|(i, s)| Document::new(i.to_string(), *s))
            .collect();
        let prepared: Vec<Result<Prepared>> = sentences
            .par_iter()
            .map(|s| {
                let span = Span::new(0, s.len());
                Ok(Prepared {
                    sentences: vec![span],
                    mentions: vec![self.finder.find(s)],
                    others: vec![self.other_mentions(s)],
                })
            })
            .collect();
        let results = self.score_prepared(&docs, prepared, false);
        let mut out = Vec::new();
        for (i, result) in results.into_iter().enumerate() {
            for mut stance in result?.stances {
                stance.sentence_index = i;
                out.push(stance);
            }
        }
        Ok(out)
    }

    /// Scores sentences whose target spans are already known (annotated data), in input order.
    ///
    /// # Errors
    /// [`Error::Input`] for a span outside its sentence, naming the target by its 0-based place
    /// in `targets` (`target 3: sentence "...": ...`); tokenizer or inference failures.
    pub fn score_targets(&self, targets: &[TargetedSentence]) -> Result<Vec<Stance>> {
        let encoded: Vec<Encoded> = targets
            .par_iter()
            .enumerate()
            .map(|(index, t)| {
                self.encoder
                    .encode(&t.text, &t.spans, &t.others, &t.context)
                    .map_err(|error| match error {
                        // Which of many targets, some with the same sentence, is at fault.
                        Error::Input { origin, line, reason } => {
                            Error::input(format!("target {index}: {origin}"), line, reason)
                        }
                        other => other,
                    })
            })
            .collect::<Result<_>>()?;
        let scored = self.infer(&encoded);
        scored.into_iter().collect()
    }

    /// Scores many documents at once, batching pairs across documents; one result
    /// per input, in input order. A failing document never hides the others.
    pub fn score_documents(&self, docs: &[Document]) -> Vec<Result<DocumentStances>> {
        let prepared: Vec<Result<Prepared>> = docs.par_iter().map(|d| self.prepare(d)).collect();
        self.score_prepared(docs, prepared, false)
    }

    /// Like [`Analyzer::score_documents`], but each document's scores are bit
    /// for bit the same whatever it is scored with. Resumed and sharded corpus
    /// runs rely on this. With a batch-invariant model on the CPU
    /// ([`AnalyzerInfo::batch_invariant`], the shipped model's case) that holds
    /// for any batching, and documents share batches as in `score_documents`;
    /// otherwise (in its last float bits a pair's score then depends on its
    /// batch: padding and kernel shapes change the order of sums) no batch
    /// holds pairs of two documents, which is slower when documents are short.
    pub fn score_documents_separately(&self, docs: &[Document]) -> Vec<Result<DocumentStances>> {
        let prepared: Vec<Result<Prepared>> = docs.par_iter().map(|d| self.prepare(d)).collect();
        self.score_prepared(docs, prepared, !self.info.batch_invariant)
    }

    /// Scores a stream of documents in chunks of `chunk_size`, yielding results in input order.
    /// Memory stays bounded by the chunk, whatever the stream's length.
    ///
    /// ```
    /// use stance::{Analyzer, Document};
    /// let analyzer = Analyzer::builder().build()?;
    /// let docs = (0..3).map(|i| Document::new(format!("d{i}"), "China and India met."));
    /// for result in analyzer.score_stream(docs, 2) {
    ///     match result {
    ///         Ok(doc) => println!("{}: {} pairs", doc.id, doc.stances.len()),
    ///         Err(failed) => eprintln!("{}: {}", failed.id, failed.error),
    ///     }
    /// }
    /// # Ok::<(), stance::Error>(())
    /// ```
    ///
    /// # Panics
    /// When `chunk_size` is 0: no document could ever be scored.
    pub fn score_stream<'a, I>(
        &'a self,
        docs: I,
        chunk_size: usize,
    ) -> impl Iterator<Item = std::result::Result<DocumentStances, DocumentError>> + 'a
    where
        I: IntoIterator<Item = Document>,
        I::IntoIter: 'a,
    {
        assert!(chunk_size > 0, "Analyzer::score_stream: chunk_size must be at least 1");
        let mut docs = docs.into_iter();
        std::iter::from_fn(move || {
            let chunk: Vec<Document> = docs.by_ref().take(chunk_size).collect();
            if chunk.is_empty() {
                return None;
            }
            let results = self.score_documents(&chunk);
            let tagged: Vec<_> = chunk
                .into_iter()
                .zip(results)
                .map(|(doc, r)| r.map_err(|error| DocumentError { id: doc.id, error }))
                .collect();
            Some(tagged)
        })
        .flatten()
    }

    /// Benchmark hook: encodes the pairs (tokenization stage alone).
    #[doc(hidden)]
    pub fn bench_encode(&self, targets: &[TargetedSentence]) -> Result<EncodedPairs> {
        let encoded = targets
            .par_iter()
            .map(|t| self.encoder.encode(&t.text, &t.spans, &t.others, &t.context))
            .collect::<Result<_>>()?;
        Ok(EncodedPairs(encoded))
    }

    /// Benchmark hook: batches and runs already encoded pairs (inference stage alone).
    #[doc(hidden)]
    pub fn bench_infer(&self, pairs: &EncodedPairs) -> Result<Vec<Stance>> {
        self.infer(&pairs.0).into_iter().collect()
    }

    fn prepare(&self, doc: &Document) -> Result<Prepared> {
        if is_empty_text(&doc.text) {
            return Err(Error::input(&doc.id, None, EMPTY_TEXT));
        }
        let sentences = split_sentences(&doc.text);
        // Found sentence by sentence across the document, so that a short name
        // ("Khan") counts after its full alias ("Imran Khan") in an earlier sentence.
        let mentions = self.finder.find_per_sentence(&doc.text, &sentences);
        let others = match &self.others {
            Some(o) => o.finder.find_per_sentence(&doc.text, &sentences),
            None => vec![Vec::new(); sentences.len()],
        };
        Ok(Prepared {
            sentences,
            mentions,
            others,
        })
    }

    /// Every known actor's mentions in `sentence`, when the model reads other actors.
    fn other_mentions(&self, sentence: &str) -> Vec<crate::mention::Mention> {
        self.others.as_ref().map_or_else(Vec::new, |o| o.finder.find(sentence))
    }

    fn score_prepared(
        &self,
        docs: &[Document],
        prepared: Vec<Result<Prepared>>,
        batch_per_document: bool,
    ) -> Vec<Result<DocumentStances>> {
        let pairs = collect_pairs(&prepared);
        let encoded: Vec<Result<Encoded>> = pairs.par_iter().map(|p| self.encode_pair(docs, &prepared, p)).collect();
        let mut doc_errors: Vec<Option<Error>> = prepared.iter().map(|_| None).collect();
        let mut ok_pairs = Vec::with_capacity(pairs.len());
        let mut ok_encoded = Vec::with_capacity(pairs.len());
        for (pair, enc) in pairs.into_iter().zip(encoded) {
            match enc {
                Ok(e) => {
                    ok_pairs.push(pair);
                    ok_encoded.push(e);
                }
                Err(e) => {
                    doc_errors[pair.doc].get_or_insert(e);
                }
            }
        }
        let stances = if batch_per_document {
            let doc_of_pair: Vec<usize> = ok_pairs.iter().map(|p| p.doc).collect();
            self.infer_in_groups(&ok_encoded, &doc_of_pair)
        } else {
            self.infer(&ok_encoded)
        };
        let mut by_doc: Vec<Vec<(Pair, bool, Stance)>> = prepared.iter().map(|_| Vec::new()).collect();
        for ((pair, enc), stance) in ok_pairs.into_iter().zip(&ok_encoded).zip(stances) {
            match stance {
                Ok(s) => by_doc[pair.doc].push((pair, enc.truncated, s)),
                Err(e) => {
                    doc_errors[pair.doc].get_or_insert(e);
                }
            }
        }
        prepared
            .into_iter()
            .zip(by_doc)
            .zip(doc_errors)
            .enumerate()
            .map(|(i, ((prep, scored), error))| match (prep, error) {
                (Err(e), _) | (Ok(_), Some(e)) => Err(e),
                (Ok(prep), None) => Ok(self.assemble_document(&docs[i], &prep, scored)),
            })
            .collect()
    }

    fn encode_pair(&self, docs: &[Document], prepared: &[Result<Prepared>], pair: &Pair) -> Result<Encoded> {
        let Ok(prep) = &prepared[pair.doc] else {
            return Err(Error::Config("pair of a failed document".into()));
        };
        let sentence = prep.sentences[pair.sentence];
        let text = sentence.slice(&docs[pair.doc].text);
        let spans: Vec<Span> = prep.mentions[pair.sentence]
            .iter()
            .filter(|m| m.actor == pair.actor)
            .map(|m| m.span)
            .collect();
        let others = match &self.others {
            Some(o) => o.spans_besides(&prep.others[pair.sentence], &self.actors.actors()[pair.actor].id),
            None => Vec::new(),
        };
        // The sentence before, as the model was trained to read it: the article's
        // previous sentence, whether or not it mentions an actor.
        let context = match pair.sentence.checked_sub(1) {
            Some(before) if self.encoder.reads_context() => prep.sentences[before].slice(&docs[pair.doc].text),
            _ => "",
        };
        self.encoder
            .encode(text, &spans, &others, context)
            .map_err(|e| match e {
                Error::Tokenizer { message, .. } => Error::Tokenizer {
                    context: format!("document {:?}, sentence {}", docs[pair.doc].id, pair.sentence),
                    message,
                },
                other => other,
            })
    }

    /// Runs encoded pairs through the model in length-sorted batches; results in input order.
    fn infer(&self, encoded: &[Encoded]) -> Vec<Result<Stance>> {
        let lengths: Vec<usize> = encoded.iter().map(Encoded::len).collect();
        self.run_plan(encoded, plan_batches(&lengths, self.limits))
    }

    /// Like `infer`, but pair `i` is only batched with pairs of the same `groups[i]`.
    fn infer_in_groups(&self, encoded: &[Encoded], groups: &[usize]) -> Vec<Result<Stance>> {
        let lengths: Vec<usize> = encoded.iter().map(Encoded::len).collect();
        self.run_plan(encoded, plan_batches_by_group(&lengths, groups, self.limits))
    }

    /// Runs the planned batches in parallel; a failed batch fails only its own pairs.
    fn run_plan(&self, encoded: &[Encoded], plan: Vec<Vec<usize>>) -> Vec<Result<Stance>> {
        let batch_results: Vec<(Vec<usize>, Result<BatchStances>)> = plan
            .into_par_iter()
            .map(|batch| {
                let result = self.run_batch(encoded, &batch);
                (batch, result)
            })
            .collect();
        let mut out: Vec<Option<Result<Stance>>> = encoded.iter().map(|_| None).collect();
        for (batch, result) in batch_results {
            match result {
                Ok(stances) => batch.into_iter().zip(stances).for_each(|(i, s)| out[i] = Some(s)),
                Err(e) => {
                    for i in batch {
                        out[i] = Some(Err(batch_error_for_pair(&e)));
                    }
                }
            }
        }
        out.into_iter()
            .map(|s| s.unwrap_or_else(|| Err(Error::Config("pair missing from batch plan".into()))))
            .collect()
    }

    fn run_batch(&self, encoded: &[Encoded], batch: &[usize]) -> Result<BatchStances> {
        let started = std::time::Instant::now();
        let stances = self.run_batch_untimed(encoded, batch)?;
        if let Some(timings) = &self.timings {
            let timing = BatchTiming {
                rows: batch.len(),
                tokens: batch.iter().map(|&i| encoded[i].len()).sum(),
                padded_tokens: batch.len() * batch.iter().map(|&i| encoded[i].len()).max().unwrap_or(0),
                seconds: started.elapsed().as_secs_f64(),
            };
            timings
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(timing);
        }
        Ok(stances)
    }

    /// Timings recorded since the last call (empty unless enabled in the builder).
    pub fn take_batch_timings(&self) -> Vec<BatchTiming> {
        self.timings
            .as_ref()
            .map(|t| std::mem::take(&mut *t.lock().unwrap_or_else(std::sync::PoisonError::into_inner)))
            .unwrap_or_default()
    }

    fn run_batch_untimed(&self, encoded: &[Encoded], batch: &[usize]) -> Result<BatchStances> {
        let rows = batch
            .iter()
            .map(|&i| (encoded[i].ids.as_slice(), encoded[i].type_ids.as_slice()));
        let tensors = BatchTensors::build(rows, self.pad);
        let logits = self.backend.run(&tensors)?;
        stances_from_logits(&logits, &self.scorer)
    }

    fn assemble_document(
        &self,
        doc: &Document,
        prep: &Prepared,
        mut scored: Vec<(Pair, bool, Stance)>,
    ) -> DocumentStances {
        self.read_in_context(&mut scored);
        let chars = CharOffsets::new(&doc.text, &prep.sentences);
        let mut actors: BTreeMap<String, ActorStats> = BTreeMap::new();
        let stances = scored
            .into_iter()
            .map(|(pair, truncated, stance)| {
                let span = prep.sentences[pair.sentence];
                let sentence = span.slice(&doc.text);
                let mut cursor = CharCursor::new(sentence, chars.sentence_start(pair.sentence));
                let mentions: Vec<MentionSpan> = prep.mentions[pair.sentence]
                    .iter()
                    .filter(|m| m.actor == pair.actor)
                    .map(|m| MentionSpan {
                        start: cursor.at(m.span.start),
                        end: cursor.at(m.span.end),
                        text: m.span.slice(sentence).to_string(),
                    })
                    .collect();
                let actor = self.actors.get(pair.actor).map(|a| a.id.clone()).unwrap_or_default();
                actors.entry(actor.clone()).or_default().add(&stance, mentions.len());
                SentenceStance {
                    sentence_index: pair.sentence,
                    start: chars.sentence_start(pair.sentence),
                    end: cursor.at(sentence.len()),
                    text: sentence.to_string(),
                    actor,
                    mentions,
                    stance,
                    truncated,
                }
            })
            .collect();
        DocumentStances {
            id: doc.id.clone(),
            sentences: prep.sentences.len(),
            stances,
            actors,
        }
    }

    /// Gives each of a document's stances its actor's reading in the other sentences.
    fn read_in_context(&self, scored: &mut [(Pair, bool, Stance)]) {
        let keys: Vec<_> = scored
            .iter()
            .map(|(pair, _, _)| {
                Some(ContextKey {
                    group: pair.actor,
                    sentence: pair.sentence,
                })
            })
            .collect();
        let mut stances: Vec<Stance> = scored.iter().map(|(_, _, stance)| *stance).collect();
        read_in_context(&mut stances, &keys, self.info.document_context);
        for ((_, _, stance), read) in scored.iter_mut().zip(stances) {
            *stance = read;
        }
    }
}

/// The stance of each row of a batch's logits. A model whose rows are not one
/// logit per label fails the batch; a row with a logit that is not a finite
/// number fails its own pair only.
fn stances_from_logits(logits: &ndarray::Array2<f32>, scorer: &Scorer) -> Result<BatchStances> {
    let labels = crate::score::Label::ALL.len();
    if logits.ncols() != labels {
        return Err(Error::Inference {
            context: "scoring a batch".into(),
            source: format!(
                "the model gave {} logits per row, one per label was expected ({labels})",
                logits.ncols()
            )
            .into(),
        });
    }
    let stances = logits
        .rows()
        .into_iter()
        .map(|row| {
            let row: [f32; 3] = [row[0], row[1], row[2]];
            scorer.stance(&row).ok_or_else(|| Error::Inference {
                context: "scoring a pair".into(),
                source: format!("the model gave logits {row:?}, a logit that is not a finite number").into(),
            })
        })
        .collect();
    Ok(stances)
}

/// The error of a failed batch, for one of its pairs (errors are not `Clone`):
/// the batch's context and the runtime's reason, whatever kind of error it was.
fn batch_error_for_pair(error: &Error) -> Error {
    match error {
        Error::Inference { context, source } => Error::Inference {
            context: context.clone(),
            source: source.to_string().into(),
        },
        other => Error::Inference {
            context: "scoring a batch".into(),
            source: other.to_string().into(),
        },
    }
}

/// Whether `text` holds nothing to score: only whitespace as the splitter reads it (byte-order
/// marks and zero-width spaces included). A file saved with a mark and no text reads as
/// "\u{feff}"; that is as empty as a blank file, and the CLI (which drops the mark) says so.
fn is_empty_text(text: &str) -> bool {
    text.chars().all(crate::segment::is_space)
}

/// Every (sentence, actor) pair of the successfully prepared documents, in
/// document, sentence, actor order: that order is what results follow.
fn collect_pairs(prepared: &[Result<Prepared>]) -> Vec<Pair> {
    let mut pairs = Vec::new();
    for (doc, prep) in prepared.iter().enumerate() {
        let Ok(prep) = prep else { continue };
        for (sentence, mentions) in prep.mentions.iter().enumerate() {
            let mut actors: Vec<usize> = mentions.iter().map(|m| m.actor).collect();
            actors.sort_unstable();
            actors.dedup();
            pairs.extend(actors.into_iter().map(|actor| Pair { doc, sentence, actor }));
        }
    }
    pairs
}

/// Character offsets of sentence starts, computed in one pass over the text.
struct CharOffsets {
    starts: Vec<usize>,
}

impl CharOffsets {
    fn new(text: &str, sentences: &[Span]) -> Self {
        let mut starts = Vec::with_capacity(sentences.len());
        let (mut byte, mut chars) = (0usize, 0usize);
        for span in sentences {
            chars += text.get(byte..span.start).map_or(0, |s| s.chars().count());
            byte = span.start;
            starts.push(chars);
        }
        CharOffsets { starts }
    }

    fn sentence_start(&self, sentence: usize) -> usize {
        self.starts.get(sentence).copied().unwrap_or(0)
    }
}

/// Character offsets in the document of byte offsets within one sentence.
/// Offsets asked in ascending order (a sentence's mentions, then its end)
/// walk the sentence once, so a long sentence with many mentions costs its
/// length, not its length per mention.
struct CharCursor<'a> {
    sentence: &'a str,
    /// Character offset of the sentence's start in the document.
    sentence_start: usize,
    /// The last byte offset reached within the sentence, and its character offset in the document.
    byte: usize,
    chars: usize,
}

impl<'a> CharCursor<'a> {
    fn new(sentence: &'a str, sentence_start: usize) -> Self {
        CharCursor {
            sentence,
            sentence_start,
            byte: 0,
            chars: sentence_start,
        }
    }

    /// The character offset of byte `offset` of the sentence (of the nearest
    /// offset reached before it when `offset` is no char boundary within it).
    fn at(&mut self, offset: usize) -> usize {
        if offset < self.byte {
            self.byte = 0;
            self.chars = self.sentence_start;
        }
        if let Some(between) = self.sentence.get(self.byte..offset) {
            self.chars += between.chars().count();
            self.byte = offset;
        }
        self.chars
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_counts_are_bounded_by_the_cores() {
        assert!(check_threads(8, 2).is_ok());
        assert!(check_threads(1, 1).is_ok());
        assert!(check_threads(0, 2).is_err());
        let error = check_threads(9, 2).unwrap_err().to_string();
        assert!(error.contains("threads (9) is more than this machine can use: at most 8 (4 per core, 2 cores)"));
        assert!(check_threads(1_000_000, 64).is_err());
    }

    #[test]
    fn logits_are_scored_row_by_row_and_a_row_of_no_finite_numbers_fails_alone() {
        let scorer = Scorer {
            order: crate::score::Label::ALL,
            temperature: 1.0,
        };
        let logits = ndarray::array![[0.1, 2.0, -1.0], [f32::NAN, 0.0, 0.0], [1.0, 0.0, 0.0]];
        let stances = stances_from_logits(&logits, &scorer).unwrap();
        assert_eq!(stances.len(), 3);
        assert_eq!(stances[0].as_ref().unwrap(), &scorer.stance(&[0.1, 2.0, -1.0]).unwrap());
        let error = stances[1].as_ref().unwrap_err().to_string();
        assert!(error.contains("not a finite number"), "{error}");
        assert!(stances[2].is_ok());
    }

    #[test]
    fn logits_of_another_width_than_the_three_labels_fail_the_batch() {
        let scorer = Scorer {
            order: crate::score::Label::ALL,
            temperature: 1.0,
        };
        for logits in [
            ndarray::Array2::zeros((2, 2)),
            ndarray::Array2::zeros((2, 4)),
            ndarray::Array2::zeros((2, 0)),
        ] {
            let error = stances_from_logits(&logits, &scorer).unwrap_err().to_string();
            assert!(error.contains(&format!("{} logits per row", logits.ncols())), "{error}");
        }
    }

    #[test]
    fn char_cursor_gives_the_character_offset_of_every_byte_offset_in_any_order() {
        let document = "Intro. «Ça va», 北京 said 🇨🇳 e\u{301} China.";
        let start_byte = document.find('«').unwrap();
        let sentence = &document[start_byte..];
        let start_chars = document[..start_byte].chars().count();
        let boundaries: Vec<usize> = (0..=sentence.len()).filter(|&b| sentence.is_char_boundary(b)).collect();
        let expected = |b: usize| start_chars + sentence[..b].chars().count();
        let mut cursor = CharCursor::new(sentence, start_chars);
        for &b in &boundaries {
            assert_eq!(cursor.at(b), expected(b), "ascending, byte {b}");
        }
        for &b in boundaries.iter().rev() {
            assert_eq!(cursor.at(b), expected(b), "descending, byte {b}");
        }
    }

    #[test]
    fn each_batch_limit_left_unset_takes_the_default_of_the_device_set_in_any_order() {
        let gpu = default_limits(Device::Cuda(0));
        let rows_first = Analyzer::builder().max_batch_rows(64).device(Device::Cuda(0));
        assert_eq!(rows_first.batch_limits(), BatchLimits { max_rows: 64, ..gpu });
        let budget_first = Analyzer::builder().token_budget(4096).device(Device::Cuda(0));
        assert_eq!(
            budget_first.batch_limits(),
            BatchLimits {
                token_budget: 4096,
                ..gpu
            }
        );
        let back_to_cpu = Analyzer::builder()
            .device(Device::Cuda(0))
            .token_budget(4096)
            .device(Device::Cpu);
        assert_eq!(
            back_to_cpu.batch_limits(),
            BatchLimits {
                token_budget: 4096,
                ..BatchLimits::default()
            }
        );
    }

    #[test]
    fn other_actors_include_built_in_ones_the_user_did_not_select() {
        let others = OtherActors::new(&ActorSet::default()).unwrap();
        let sentence = "Pakistan blamed India, while Washington and India's neighbours watched.";
        let found = others.finder.find(sentence);
        let besides_india: Vec<&str> = others
            .spans_besides(&found, "india")
            .iter()
            .map(|s| s.slice(sentence))
            .collect();
        assert_eq!(besides_india, ["Pakistan", "Washington"]);
        let besides_us: Vec<&str> = others
            .spans_besides(&found, "us")
            .iter()
            .map(|s| s.slice(sentence))
            .collect();
        assert_eq!(besides_us, ["Pakistan", "India", "India"]);
    }

    #[test]
    fn int8_sums_saturate_only_for_a_model_that_needs_vnni_on_a_cpu_without_it() {
        assert!(int8_sums_saturate(true, Device::Cpu, false));
        assert!(!int8_sums_saturate(true, Device::Cpu, true));
        assert!(!int8_sums_saturate(false, Device::Cpu, false));
        assert!(!int8_sums_saturate(true, Device::Cuda(0), false));
    }
}
