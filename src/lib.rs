//! # stance
//!
//! How do op-eds and news portray the US, China, India — or any actor you
//! define? `stance` reads text sentence by sentence, finds the actors each
//! sentence mentions, scores how the sentence portrays each of them with an
//! embedded transformer (run through ONNX Runtime, on CPU or GPU), and adds the
//! scores up per actor over documents and corpora of any size. It works
//! offline: the model ships inside the library.
//!
//! ## The pipeline
//!
//! 1. **Segment** ([`split_sentences`]): abbreviation-aware English sentence
//!    splitting ("U.S.", "Dr.", "Jan.", initials, quotations), with spans.
//! 2. **Find mentions** ([`MentionFinder`]): aliases of each [`Actor`] in an
//!    [`ActorSet`], with word boundaries, case rules and exclusions, and short
//!    names ("Khan") once a document has used the full name ("Imran Khan").
//! 3. **Encode**: each (sentence, actor) pair becomes model input with the
//!    actor's mentions marked, as the model's `config.json` prescribes.
//! 4. **Batch** ([`plan_batches`]): pairs sorted by length and packed to a
//!    token budget, not padded to a fixed length.
//! 5. **Infer**: a pool of ONNX Runtime sessions, CPU or CUDA ([`Device`]).
//! 6. **Score** ([`Stance`]): calibrated probabilities of unfavorable /
//!    neutral / favorable, and `score = p_favorable - p_unfavorable` in [-1, 1],
//!    each read in its document ([`context`]): a pair's probabilities take in
//!    how the document's other sentences read the same actor.
//! 7. **Aggregate** ([`ActorStats`], [`CorpusReport`]): counts, mean, standard
//!    deviation, 95% confidence interval (clustered by document) and label
//!    shares per actor, merging exactly across threads and shards.
//!
//! For corpora, [`corpus`] reads directories, JSON Lines and CSV as a stream,
//! writes per-sentence, per-document and per-actor outputs durably, and
//! resumes, shards and merges runs exactly (the CLI's `stance score --out`).
//!
//! ## Quick start
//!
//! ```
//! use stance::{ActorSet, Analyzer, Device};
//!
//! let analyzer = Analyzer::builder()
//!     .actors(ActorSet::default()) // US, China, India
//!     .device(Device::Cpu)
//!     .build()?; // the embedded model
//! let doc = analyzer.score_text(
//!     "Beijing has been a reliable partner. Washington keeps breaking its promises.",
//! )?;
//! for s in &doc.stances {
//!     println!("{} | {} | {:+.2} {}", s.text, s.actor, s.stance.score, s.stance.label);
//! }
//! let china = doc.actor("china").map(|stats| stats.mean());
//! assert!(china.is_some());
//! # Ok::<(), stance::Error>(())
//! ```
//!
//! The runtime: `stance` loads ONNX Runtime 1.31 at run time. The build script
//! fetches the official library from PyPI into a per-user cache; set
//! `ORT_DYLIB_PATH` to use another build (for example the CUDA one).
#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

pub mod actor;
pub mod aggregate;
mod analyzer;
mod backend;
pub mod batch;
pub mod context;
pub mod corpus;
mod encode;
pub mod error;
pub mod eval;
pub mod mention;
mod model;
pub mod score;
pub mod segment;

pub use actor::{Actor, ActorSet};
pub use aggregate::ActorStats;
pub use analyzer::{
    Analyzer, AnalyzerBuilder, AnalyzerInfo, BatchTiming, CorpusReport, Document, DocumentError, DocumentStances,
    EncodedPairs, MentionSpan, SentenceStance, TargetedSentence,
};
pub use backend::runtime::ORT_VERSION;
pub use backend::Device;
pub use batch::{plan_batches, plan_batches_by_group, BatchLimits};
pub use error::{Error, Result};
pub use mention::{Mention, MentionFinder};
pub use model::{EmbeddedModel, InputFormat, ModelConfig, ModelSource};
pub use score::{Label, Stance};
pub use segment::{split_sentences, Span};

/// Version of how a document becomes scored rows: sentence splitting, mention
/// matching (aliases, exclusions, short names), the model's input (the pair
/// encoding, the document context) and the month read from its date. Raised by
/// every change that can give a document other sentences, mentions, stances or
/// month with the same model and actors. A run records it: resuming a run, or merging runs, across versions
/// is refused, since the result would hold rows of two rule sets.
pub const SCORING_RULES_VERSION: u32 = 5;

/// Whether a count is 0, for serde's `skip_serializing_if` (which passes a reference): fields
/// added to an output leave the files of runs that have none as they were.
pub(crate) fn is_zero<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

/// The README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
