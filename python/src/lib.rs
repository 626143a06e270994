//! `stance._stance`: the native half of the `stance` Python package.
//!
//! The Python modules in `python/stance/` wrap these classes in the public API
//! (dataclasses, pandas / pyarrow frames, chunked iteration). This module keeps
//! to three jobs: building a [`stance::Analyzer`] from plain arguments, scoring
//! one chunk of documents with the GIL released, and turning results and
//! errors into Python objects. `ActorStats` is exposed as is, since its exact
//! merging is the point of it.

use std::path::PathBuf;
use std::sync::Arc;

use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyList, PyMapping};
use pyo3::{intern, IntoPyObjectExt};
use stance::{Actor, ActorSet, Analyzer, Device, Document, DocumentStances, SentenceStance};

/// Python module `stance._errors`, where the exception classes live (they need
/// two bases, e.g. `StanceError` and `ValueError`, which is plain in Python).
const ERRORS_MODULE: &str = "stance._errors";

/// The Python exception for a library error, with the library's message.
///
/// Files that cannot be read become the matching `OSError` subclass
/// (`FileNotFoundError`, `PermissionError`, ...); everything else a subclass of
/// `stance.StanceError` named after the error's kind.
fn to_py_err(py: Python<'_>, error: &stance::Error) -> PyErr {
    let message = message_with_causes(error);
    let class = match error {
        stance::Error::Io { source, .. } => return PyErr::from(std::io::Error::new(source.kind(), message)),
        stance::Error::Runtime { .. } => "RuntimeLibraryError",
        stance::Error::Model { .. } => "ModelError",
        stance::Error::Inference { .. } | stance::Error::Tokenizer { .. } => "InferenceError",
        stance::Error::Actors { .. } => "ActorError",
        stance::Error::Input { .. } => "InputError",
        stance::Error::Config(_) => "ConfigError",
        stance::Error::Device { .. } => "DeviceError",
        _ => "StanceError",
    };
    exception(py, class, message)
}

/// An instance of `stance._errors.<class>` as a `PyErr`; a `RuntimeError` if
/// that module cannot be imported (a broken installation).
fn exception(py: Python<'_>, class: &str, message: String) -> PyErr {
    let made = py
        .import(ERRORS_MODULE)
        .and_then(|module| module.getattr(class))
        .and_then(|class| class.call1((message.clone(),)));
    match made {
        Ok(instance) => PyErr::from_value(instance),
        Err(import_error) => PyRuntimeError::new_err(format!(
            "{message} (and {ERRORS_MODULE}.{class} failed: {import_error})"
        )),
    }
}

/// The error's message followed by those of its causes not already in it.
fn message_with_causes(error: &stance::Error) -> String {
    let mut message = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(inner) = cause {
        let text = inner.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        cause = inner.source();
    }
    message
}

/// Sentence-row columns of a chunk, and `(position in the chunk, exception)` per failed document.
type ChunkColumns<'py> = (Bound<'py, PyDict>, Vec<(usize, Bound<'py, PyAny>)>);

/// A custom actor as passed from Python: id, name, aliases, exclusions, short names.
type ActorSpec = (String, String, Vec<String>, Vec<String>, Vec<String>);

/// The actor set the arguments describe, as the CLI builds it: the built-in
/// selection (`None`: US, China, India), extended by custom actors, then by the
/// actor file. An actor whose id is already in the set adds its aliases,
/// exclusions and short names to it.
fn actor_set(
    builtin: Option<Vec<String>>,
    custom: Vec<ActorSpec>,
    actor_file: Option<PathBuf>,
) -> stance::Result<ActorSet> {
    let mut set = match builtin {
        None => Some(ActorSet::default()),
        Some(ids) if ids.is_empty() && (!custom.is_empty() || actor_file.is_some()) => None,
        Some(ids) => {
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            Some(ActorSet::select(&ids)?)
        }
    };
    // Each addition is checked against what is already there, so that an alias it shares with
    // an actor of the set is reported as its own (`origin`), not the combined set's.
    let mut add = |extra: ActorSet, origin: &str| -> stance::Result<()> {
        set = Some(match set.take() {
            Some(base) => base.extend_checked(extra, origin)?,
            None => ActorSet::with_builtins(extra),
        });
        Ok(())
    };
    if !custom.is_empty() {
        let actors = custom
            .into_iter()
            .map(|(id, name, aliases, exclusions, short_names)| {
                Actor::new(id, name, aliases)
                    .with_exclusions(exclusions)
                    .with_short_names(short_names)
            })
            .collect();
        // A built-in id extends the built-in actor, checked as such, as in an actor file.
        add(ActorSet::extending_builtins(actors)?, "<in-memory>")?;
    }
    if let Some(path) = actor_file {
        add(ActorSet::from_path(&path)?, &path.display().to_string())?;
    }
    set.ok_or_else(|| stance::Error::Config("no actors given".into()))
}

/// The native analyzer behind `stance.Analyzer`. Immutable and shared: Python
/// threads may call it concurrently, and it scores with the GIL released.
#[pyclass(module = "stance._stance", name = "NativeAnalyzer", frozen)]
struct NativeAnalyzer {
    inner: Arc<Analyzer>,
}

#[pymethods]
impl NativeAnalyzer {
    /// Builds the analyzer (loads the model and starts ONNX Runtime) with the GIL released.
    #[new]
    #[pyo3(signature = (*, builtin, custom, actor_file, model, device, threads, sessions, token_budget, max_batch_rows, document_context))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        builtin: Option<Vec<String>>,
        custom: Vec<ActorSpec>,
        actor_file: Option<PathBuf>,
        model: Option<PathBuf>,
        device: &str,
        threads: Option<usize>,
        sessions: Option<usize>,
        token_budget: Option<usize>,
        max_batch_rows: Option<usize>,
        document_context: Option<f32>,
    ) -> PyResult<Self> {
        let device = device.to_owned();
        let built = py.detach(move || -> stance::Result<Analyzer> {
            let device: Device = device.parse()?;
            let mut builder = Analyzer::builder()
                .actors(actor_set(builtin, custom, actor_file)?)
                .device(device);
            if let Some(dir) = model {
                builder = builder.model_dir(dir);
            }
            if let Some(threads) = threads {
                builder = builder.threads(threads);
            }
            if let Some(sessions) = sessions {
                builder = builder.sessions(sessions);
            }
            if let Some(tokens) = token_budget {
                builder = builder.token_budget(tokens);
            }
            if let Some(rows) = max_batch_rows {
                builder = builder.max_batch_rows(rows);
            }
            if let Some(weight) = document_context {
                builder = builder.document_context(weight);
            }
            builder.build()
        });
        match built {
            Ok(analyzer) => Ok(NativeAnalyzer {
                inner: Arc::new(analyzer),
            }),
            Err(error) => Err(to_py_err(py, &error)),
        }
    }

    /// What runs: model, device actually used, sessions, threads, batching, actors.
    fn info<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let info = self.inner.info();
        let dict = PyDict::new(py);
        dict.set_item("model", &info.model)?;
        dict.set_item("model_origin", &info.model_origin)?;
        dict.set_item("precision", &info.precision)?;
        dict.set_item("batch_invariant", info.batch_invariant)?;
        dict.set_item("int8_sums_saturate", info.int8_sums_saturate)?;
        dict.set_item("int8_saturation_warning", info.int8_saturation_warning())?;
        dict.set_item("device", info.device.to_string())?;
        dict.set_item("sessions", info.sessions)?;
        dict.set_item("intra_threads", info.intra_threads)?;
        dict.set_item("token_budget", info.token_budget)?;
        dict.set_item("max_batch_rows", info.max_batch_rows)?;
        dict.set_item("max_length", info.max_length)?;
        dict.set_item("actors", &info.actors)?;
        dict.set_item("document_context", info.document_context)?;
        dict.set_item("onnxruntime", stance::ORT_VERSION)?;
        dict.set_item("stance", env!("CARGO_PKG_VERSION"))?;
        Ok(dict)
    }

    /// The actors looked for, as `(id, name, aliases, exclusions, short_names)` tuples in order.
    fn actors(&self) -> Vec<ActorSpec> {
        self.inner
            .actors()
            .actors()
            .iter()
            .map(|a| {
                (
                    a.id.clone(),
                    a.name.clone(),
                    a.aliases.clone(),
                    a.exclusions.clone(),
                    a.short_names.clone(),
                )
            })
            .collect()
    }

    /// Scores one chunk of documents with the GIL released. One entry per
    /// document, in order: a result dict, or the exception it failed with.
    ///
    /// `separately`: no batch mixes two documents, so each document's scores are
    /// bit for bit those it gets alone (as `stance score --out` does).
    fn score_chunk<'py>(
        &self,
        py: Python<'py>,
        ids: Vec<String>,
        texts: Vec<String>,
        separately: bool,
    ) -> PyResult<Vec<Bound<'py, PyAny>>> {
        let results = self.run(py, ids, texts, separately)?;
        results
            .into_iter()
            .map(|result| match result {
                Ok(doc) => document_dict(py, doc).map(Bound::into_any),
                Err(error) => Ok(to_py_err(py, &error).into_value(py).into_bound(py).into_any()),
            })
            .collect()
    }

    /// Like `score_chunk`, as sentence-row columns (the fields of
    /// `sentences.jsonl`) plus `(position, exception)` for failed documents.
    fn score_chunk_columns<'py>(
        &self,
        py: Python<'py>,
        ids: Vec<String>,
        texts: Vec<String>,
        separately: bool,
    ) -> PyResult<ChunkColumns<'py>> {
        let results = self.run(py, ids, texts, separately)?;
        let mut columns = Columns::default();
        let mut errors = Vec::new();
        for (position, result) in results.into_iter().enumerate() {
            match result {
                Ok(doc) => columns.push(doc),
                Err(error) => errors.push((position, to_py_err(py, &error).into_value(py).into_bound(py).into_any())),
            }
        }
        Ok((columns.into_dict(py)?, errors))
    }

    /// Scores sentences as given, without segmentation; one dict per (sentence,
    /// actor mentioned), `sentence_index` being the position in `sentences`.
    fn score_sentences<'py>(&self, py: Python<'py>, sentences: Vec<String>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        let analyzer = Arc::clone(&self.inner);
        let scored = py.detach(move || {
            let refs: Vec<&str> = sentences.iter().map(String::as_str).collect();
            analyzer.score_sentences(&refs)
        });
        let stances = scored.map_err(|error| to_py_err(py, &error))?;
        stances.into_iter().map(|s| stance_dict(py, s)).collect()
    }
}

impl NativeAnalyzer {
    fn run(
        &self,
        py: Python<'_>,
        ids: Vec<String>,
        texts: Vec<String>,
        separately: bool,
    ) -> PyResult<Vec<stance::Result<DocumentStances>>> {
        if ids.len() != texts.len() {
            return Err(PyValueError::new_err(format!(
                "{} ids for {} texts: give one id per text",
                ids.len(),
                texts.len()
            )));
        }
        let analyzer = Arc::clone(&self.inner);
        Ok(py.detach(move || {
            let docs: Vec<Document> = ids
                .into_iter()
                .zip(texts)
                .map(|(id, text)| Document::new(id, text))
                .collect();
            if separately {
                analyzer.score_documents_separately(&docs)
            } else {
                analyzer.score_documents(&docs)
            }
        }))
    }
}

fn document_dict(py: Python<'_>, doc: DocumentStances) -> PyResult<Bound<'_, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item(intern!(py, "id"), doc.id)?;
    dict.set_item(intern!(py, "sentences"), doc.sentences)?;
    let stances = doc
        .stances
        .into_iter()
        .map(|s| stance_dict(py, s))
        .collect::<PyResult<Vec<_>>>()?;
    dict.set_item(intern!(py, "stances"), PyList::new(py, stances)?)?;
    let actors = PyDict::new(py);
    for (actor, stats) in doc.actors {
        actors.set_item(actor, ActorStats { inner: stats })?;
    }
    dict.set_item(intern!(py, "actors"), actors)?;
    Ok(dict)
}

fn stance_dict(py: Python<'_>, s: SentenceStance) -> PyResult<Bound<'_, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item(intern!(py, "sentence_index"), s.sentence_index)?;
    dict.set_item(intern!(py, "start"), s.start)?;
    dict.set_item(intern!(py, "end"), s.end)?;
    dict.set_item(intern!(py, "text"), s.text)?;
    dict.set_item(intern!(py, "actor"), s.actor)?;
    dict.set_item(intern!(py, "mentions"), mention_list(py, s.mentions)?)?;
    dict.set_item(intern!(py, "p_unfavorable"), f64::from(s.stance.p_unfavorable))?;
    dict.set_item(intern!(py, "p_neutral"), f64::from(s.stance.p_neutral))?;
    dict.set_item(intern!(py, "p_favorable"), f64::from(s.stance.p_favorable))?;
    dict.set_item(intern!(py, "score"), f64::from(s.stance.score))?;
    dict.set_item(intern!(py, "label"), s.stance.label.as_str())?;
    dict.set_item(intern!(py, "truncated"), s.truncated)?;
    Ok(dict)
}

fn mention_list(py: Python<'_>, mentions: Vec<stance::MentionSpan>) -> PyResult<Bound<'_, PyList>> {
    let dicts = mentions
        .into_iter()
        .map(|m| {
            let dict = PyDict::new(py);
            dict.set_item(intern!(py, "start"), m.start)?;
            dict.set_item(intern!(py, "end"), m.end)?;
            dict.set_item(intern!(py, "text"), m.text)?;
            Ok(dict)
        })
        .collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, dicts)
}

/// Sentence rows as columns, in the order and with the names of `sentences.jsonl`.
#[derive(Default)]
struct Columns {
    document_id: Vec<String>,
    sentence_index: Vec<usize>,
    start: Vec<usize>,
    end: Vec<usize>,
    text: Vec<String>,
    actor: Vec<String>,
    mentions: Vec<Vec<stance::MentionSpan>>,
    p_unfavorable: Vec<f64>,
    p_neutral: Vec<f64>,
    p_favorable: Vec<f64>,
    score: Vec<f64>,
    label: Vec<&'static str>,
    truncated: Vec<bool>,
}

impl Columns {
    fn push(&mut self, doc: DocumentStances) {
        for s in doc.stances {
            self.document_id.push(doc.id.clone());
            self.sentence_index.push(s.sentence_index);
            self.start.push(s.start);
            self.end.push(s.end);
            self.text.push(s.text);
            self.actor.push(s.actor);
            self.mentions.push(s.mentions);
            self.p_unfavorable.push(f64::from(s.stance.p_unfavorable));
            self.p_neutral.push(f64::from(s.stance.p_neutral));
            self.p_favorable.push(f64::from(s.stance.p_favorable));
            self.score.push(f64::from(s.stance.score));
            self.label.push(s.stance.label.as_str());
            self.truncated.push(s.truncated);
        }
    }

    fn into_dict(self, py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
        let dict = PyDict::new(py);
        dict.set_item("document_id", self.document_id)?;
        dict.set_item("sentence_index", self.sentence_index)?;
        dict.set_item("start", self.start)?;
        dict.set_item("end", self.end)?;
        dict.set_item("text", self.text)?;
        dict.set_item("actor", self.actor)?;
        let mentions = self
            .mentions
            .into_iter()
            .map(|m| mention_list(py, m))
            .collect::<PyResult<Vec<_>>>()?;
        dict.set_item("mentions", mentions)?;
        dict.set_item("p_unfavorable", self.p_unfavorable)?;
        dict.set_item("p_neutral", self.p_neutral)?;
        dict.set_item("p_favorable", self.p_favorable)?;
        dict.set_item("score", self.score)?;
        dict.set_item("label", self.label)?;
        dict.set_item("truncated", self.truncated)?;
        Ok(dict)
    }
}

/// Statistics of one actor over a document or a corpus: sentence, mention and
/// document counts, label counts, mean score, standard deviation and 95%
/// confidence interval.
///
/// Scores are summed as exact integers (score x 2^32), so merging is exact and
/// order-independent: the statistics of shards, threads or worker processes
/// merged in any order equal those of one run, bit for bit.
#[pyclass(module = "stance", name = "ActorStats", eq, from_py_object)]
#[derive(Clone, Default, PartialEq)]
struct ActorStats {
    inner: stance::ActorStats,
}

#[pymethods]
impl ActorStats {
    /// Empty statistics (no sentences).
    #[new]
    fn new() -> Self {
        Self::default()
    }

    /// Adds one scored (sentence, actor) pair of the open document, from its
    /// probabilities (as in the `p_*` fields of a sentence row) and its number of
    /// mentions. With no document open (new, merged, ended, copied or unpickled
    /// statistics) the pair starts a new document, which is counted: build one
    /// `ActorStats` per document and `merge` them, as the library does, or call
    /// `end_document` between documents.
    ///
    /// A `ValueError` when the probabilities are not a distribution: each in
    /// [0, 1] and summing to 1 within `PROBABILITY_SUM_TOLERANCE`.
    #[pyo3(signature = (p_unfavorable, p_neutral, p_favorable, mentions = MentionCount(1)))]
    fn add(&mut self, p_unfavorable: f64, p_neutral: f64, p_favorable: f64, mentions: MentionCount) -> PyResult<()> {
        let probabilities = [p_unfavorable, p_neutral, p_favorable];
        check_probabilities(probabilities)?;
        // The library's probabilities are f32: the values of a sentence row, read back exactly.
        let stance = stance::Stance::from_probabilities(probabilities.map(|p| p as f32));
        self.inner.add(&stance, mentions.0);
        Ok(())
    }

    /// Ends the open document, if any: the next `add` starts a new one.
    fn end_document(&mut self) {
        self.inner.end_document();
    }

    /// Adds another document's, shard's or worker's statistics, in place. Exact and order-independent.
    /// The result has no open document: the next `add` starts a new one.
    fn merge(slf: &Bound<'_, Self>, other: &Bound<'_, Self>) {
        let theirs = other.borrow().inner.clone();
        slf.borrow_mut().inner.merge(&theirs);
    }

    /// A new `ActorStats` holding both (`a + b`); `a += b` merges in place.
    fn __add__(&self, other: &Bound<'_, Self>) -> Self {
        let mut sum = self.clone();
        sum.inner.merge(&other.borrow().inner);
        sum
    }

    fn __iadd__(slf: &Bound<'_, Self>, other: &Bound<'_, Self>) {
        Self::merge(slf, other);
    }

    /// Scored (sentence, actor) pairs.
    #[getter]
    fn sentences(&self) -> u64 {
        self.inner.sentences()
    }

    /// Mentions of the actor in those sentences.
    #[getter]
    fn mentions(&self) -> u64 {
        self.inner.mentions()
    }

    /// Documents in which the actor was scored at least once.
    #[getter]
    fn documents(&self) -> u64 {
        self.inner.documents()
    }

    /// Sentences labelled unfavorable.
    #[getter]
    fn unfavorable(&self) -> u64 {
        self.inner.count(stance::Label::Unfavorable)
    }

    /// Sentences labelled neutral.
    #[getter]
    fn neutral(&self) -> u64 {
        self.inner.count(stance::Label::Neutral)
    }

    /// Sentences labelled favorable.
    #[getter]
    fn favorable(&self) -> u64 {
        self.inner.count(stance::Label::Favorable)
    }

    /// Mean stance score in [-1, 1] (0.0 when empty).
    fn mean(&self) -> f64 {
        self.inner.mean()
    }

    /// Sample standard deviation of the score (0.0 with fewer than two sentences).
    fn std(&self) -> f64 {
        self.inner.std_dev()
    }

    /// 95% confidence interval of the mean, `(low, high)`, clipped to [-1, 1]:
    /// clustered by document over two or more documents, over sentences within
    /// one; `(mean, mean)` with fewer than two sentences.
    fn ci95(&self) -> (f64, f64) {
        self.inner.ci95()
    }

    /// Share of each label among the scored sentences, `{"unfavorable": ..., "neutral": ..., "favorable": ...}`.
    fn label_shares<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for (label, share) in stance::Label::ALL.into_iter().zip(self.inner.label_shares()) {
            dict.set_item(label.as_str(), share)?;
        }
        Ok(dict)
    }

    /// The statistics as in `summary.json`: counts, `mean`, `std`, `ci95_low`,
    /// `ci95_high`, label counts and `share_*`, and the exact sums `sum_q32`,
    /// `sum_sq_q64` and the per-document `doc_*` sums (strings) that `from_dict`
    /// reads back. A figure without a value is `None`: `mean` and `share_*`
    /// without a sentence, `std` and the interval with fewer than two.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let value = serde_json::to_value(&self.inner)
            .map_err(|e| PyValueError::new_err(format!("cannot serialize ActorStats: {e}")))?;
        let dict = PyDict::new(py);
        // In the order of summary.json's actor entries.
        // Statistics read from an older summary.json lack the doc_* sums: their keys are left out.
        for key in STATS_FIELDS {
            let Some(field) = value.get(key) else { continue };
            dict.set_item(key, json_to_py(py, field)?)?;
        }
        Ok(dict)
    }

    /// Reads statistics written by `to_dict` (or an actor entry of a run's `summary.json`).
    #[staticmethod]
    fn from_dict(data: &Bound<'_, PyAny>) -> PyResult<Self> {
        // A row of a pandas frame of statistics (a Series) is no Mapping, but says what it holds.
        let converted;
        let data = if data.cast::<PyMapping>().is_err() && data.hasattr(intern!(data.py(), "to_dict"))? {
            converted = data.call_method0(intern!(data.py(), "to_dict"))?;
            &converted
        } else {
            data
        };
        let mapping = data.cast::<PyMapping>().map_err(|_| {
            let kind = data
                .get_type()
                .name()
                .map_or_else(|_| "?".to_owned(), |n| n.to_string());
            PyTypeError::new_err(format!("from_dict takes a mapping (as to_dict gives), got {kind}"))
        })?;
        let mut object = serde_json::Map::new();
        for item in mapping.items()?.iter() {
            let (key, value): (String, Bound<'_, PyAny>) = item.extract()?;
            let value = json_scalar(&key, &value)?;
            object.insert(key, value);
        }
        let inner = serde_json::from_value(serde_json::Value::Object(object))
            .map_err(|e| PyValueError::new_err(format!("not ActorStats data (as written by to_dict): {e}")))?;
        Ok(Self { inner })
    }

    /// Pickling: the `to_dict` form, read back by `__setstate__`.
    fn __getstate__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        self.to_dict(py)
    }

    fn __setstate__(&mut self, state: &Bound<'_, PyAny>) -> PyResult<()> {
        self.inner = Self::from_dict(state)?.inner;
        Ok(())
    }

    /// A copy without the open document, as an unpickled one (pickling goes
    /// through `to_dict`, which holds the sums only, as `summary.json` does): equal
    /// to the original, and the next `add` to it starts a new document, however the
    /// statistics were duplicated (copied in a thread, pickled to a worker). Kept
    /// open, a pair added to the copy would be counted as part of the document that
    /// the original is still building, so that a total started from a document's
    /// copy would join its next document's pairs to that one, and the
    /// document-clustered interval would read them as one longer document.
    fn __copy__(&self) -> Self {
        let mut copy = self.clone();
        copy.inner.end_document();
        copy
    }

    /// As `__copy__`: no open document in the copy.
    fn __deepcopy__(&self, _memo: &Bound<'_, PyAny>) -> Self {
        self.__copy__()
    }

    fn __repr__(&self) -> String {
        let (low, high) = self.inner.ci95();
        format!(
            "ActorStats(sentences={}, documents={}, mean={:+.4}, ci95=({:+.4}, {:+.4}), unfavorable={}, neutral={}, favorable={})",
            self.inner.sentences(),
            self.inner.documents(),
            self.inner.mean(),
            low,
            high,
            self.unfavorable(),
            self.neutral(),
            self.favorable()
        )
    }
}

/// How far from 1 the probabilities given to `ActorStats.add` may sum: the
/// model's are f32 (off by ~1e-7), and rows written with four decimals are off
/// by at most 1.5e-4.
const PROBABILITY_SUM_TOLERANCE: f64 = 1e-3;

/// A value of an `ActorStats` dict as JSON: `None`, a bool, a str, an int (numpy's too: anything
/// with `__index__`) or a finite float (numpy's too); NaN is `None`, as pandas writes a missing
/// figure (the spread of one pair).
fn json_scalar(key: &str, value: &Bound<'_, PyAny>) -> PyResult<serde_json::Value> {
    use serde_json::Value;
    if value.is_none() {
        return Ok(Value::Null);
    }
    if value.is_instance_of::<PyBool>() {
        return Ok(Value::Bool(value.extract()?));
    }
    if let Ok(text) = value.extract::<String>() {
        return Ok(Value::String(text));
    }
    if value.hasattr(intern!(value.py(), "__index__"))? {
        let number: i128 = value.extract()?;
        let out_of_range = || PyValueError::new_err(format!("ActorStats field {key:?}: {number} is out of range"));
        return match (u64::try_from(number), i64::try_from(number)) {
            (Ok(n), _) => Ok(Value::from(n)),
            (_, Ok(n)) => Ok(Value::from(n)),
            _ => Err(out_of_range()),
        };
    }
    if let Ok(number) = value.extract::<f64>() {
        if number.is_nan() {
            return Ok(Value::Null);
        }
        return serde_json::Number::from_f64(number)
            .map(Value::Number)
            .ok_or_else(|| PyValueError::new_err(format!("ActorStats field {key:?}: {number} is not finite")));
    }
    let kind = value
        .get_type()
        .name()
        .map_or_else(|_| "?".to_owned(), |n| n.to_string());
    Err(PyTypeError::new_err(format!(
        "ActorStats field {key:?}: expected a number, a str or None, got {kind}"
    )))
}

/// The `mentions` argument of `ActorStats.add`: an int of at least 0. A bool (an int to Python:
/// `mentions=True`, meant as a flag) and `None` are refused rather than counted as one mention.
struct MentionCount(usize);

impl<'a, 'py> FromPyObject<'a, 'py> for MentionCount {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if obj.is_instance_of::<PyBool>() || obj.is_none() {
            let what = if obj.is_none() { "None" } else { "a bool" };
            return Err(PyTypeError::new_err(format!(
                "mentions must be an int (a count of mentions), not {what}"
            )));
        }
        // Taken signed so that a negative count is named, not a bare OverflowError.
        let count: i64 = obj.extract()?;
        let count = usize::try_from(count)
            .map_err(|_| PyValueError::new_err(format!("mentions must be at least 0, got {count}")))?;
        Ok(MentionCount(count))
    }
}

/// Refuses what would make statistics meaningless without a word: NaN, values
/// outside [0, 1], or three that are no distribution (all zero, say).
fn check_probabilities(p: [f64; 3]) -> PyResult<()> {
    let each_valid = p.iter().all(|x| (0.0..=1.0).contains(x));
    if each_valid && (p.iter().sum::<f64>() - 1.0).abs() <= PROBABILITY_SUM_TOLERANCE {
        return Ok(());
    }
    Err(PyValueError::new_err(format!(
        "p_unfavorable={}, p_neutral={}, p_favorable={} are not probabilities: each must be in [0, 1] and \
         they must sum to 1 (within {PROBABILITY_SUM_TOLERANCE})",
        p[0], p[1], p[2]
    )))
}

/// The fields of `ActorStats::to_dict`, as `summary.json` orders them.
const STATS_FIELDS: [&str; 18] = [
    "sentences",
    "mentions",
    "documents",
    "mean",
    "std",
    "ci95_low",
    "ci95_high",
    "unfavorable",
    "neutral",
    "favorable",
    "share_unfavorable",
    "share_neutral",
    "share_favorable",
    "sum_q32",
    "sum_sq_q64",
    "doc_sum_sq_q64",
    "doc_cross_q32",
    "doc_n_sq",
];

/// A scalar of `ActorStats`' serialized form as a Python value.
fn json_to_py<'py>(py: Python<'py>, value: &serde_json::Value) -> PyResult<Bound<'py, PyAny>> {
    use serde_json::Value;
    match value {
        Value::Number(n) => match (n.as_u64(), n.as_f64()) {
            (Some(u), _) => u.into_bound_py_any(py),
            (None, Some(f)) => f.into_bound_py_any(py),
            (None, None) => Err(PyValueError::new_err(format!("ActorStats field out of range: {n}"))),
        },
        Value::String(s) => s.into_bound_py_any(py),
        // A figure without a value (the mean of no sentence, the spread of one).
        Value::Null => Ok(py.None().into_bound(py)),
        other => Err(PyValueError::new_err(format!("unexpected ActorStats field: {other}"))),
    }
}

/// The ONNX Runtime shared-library file name this platform's `onnxruntime` wheel ships.
fn runtime_library_name() -> String {
    let version = stance::ORT_VERSION;
    if cfg!(target_os = "macos") {
        format!("libonnxruntime.{version}.dylib")
    } else if cfg!(windows) {
        "onnxruntime.dll".to_owned()
    } else {
        format!("libonnxruntime.so.{version}")
    }
}

#[pymodule]
fn _stance(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<NativeAnalyzer>()?;
    m.add_class::<ActorStats>()?;
    m.add("ORT_VERSION", stance::ORT_VERSION)?;
    m.add("ORT_LIBRARY_NAME", runtime_library_name())?;
    m.add("VERSION", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
