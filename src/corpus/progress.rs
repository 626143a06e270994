//! Live counters of a run, read from other threads: documents done for a
//! progress display, and the time each pipeline stage spent.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use super::summary::Summary;

/// Live counters of a run, for progress displays: read them from another thread.
#[derive(Debug, Default)]
pub struct Progress {
    documents: AtomicU64,
    failed: AtomicU64,
    sentences: AtomicU64,
    pairs: AtomicU64,
    input_bytes: AtomicU64,
    total_bytes: AtomicU64,
    total_known: AtomicBool,
}

impl Progress {
    /// Documents scored so far (including those of earlier sessions of a resumed run).
    pub fn documents(&self) -> u64 {
        self.documents.load(Ordering::Relaxed)
    }

    /// Documents failed so far.
    pub fn failed(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }

    /// Sentences of the scored documents.
    pub fn sentences(&self) -> u64 {
        self.sentences.load(Ordering::Relaxed)
    }

    /// Scored (sentence, actor) pairs.
    pub fn pairs(&self) -> u64 {
        self.pairs.load(Ordering::Relaxed)
    }

    /// Input bytes behind the documents written so far.
    pub fn input_bytes(&self) -> u64 {
        self.input_bytes.load(Ordering::Relaxed)
    }

    /// Total input bytes, when known (see [`super::input::input_size`]).
    pub fn total_bytes(&self) -> Option<u64> {
        self.total_known
            .load(Ordering::Relaxed)
            .then(|| self.total_bytes.load(Ordering::Relaxed))
    }

    /// Sets the total input size, for a percentage and an ETA.
    pub fn set_total_bytes(&self, bytes: u64) {
        self.total_bytes.store(bytes, Ordering::Relaxed);
        self.total_known.store(true, Ordering::Relaxed);
    }

    pub(crate) fn set(&self, summary: &Summary, input_bytes: u64) {
        self.documents.store(summary.documents, Ordering::Relaxed);
        self.failed.store(summary.failed, Ordering::Relaxed);
        self.sentences.store(summary.sentences, Ordering::Relaxed);
        self.pairs.store(summary.pairs, Ordering::Relaxed);
        self.input_bytes.store(input_bytes, Ordering::Relaxed);
    }
}

/// Seconds spent by each stage, shared between the threads (nanoseconds).
#[derive(Default)]
pub(crate) struct StageClock {
    pub read: AtomicU64,
    pub score: AtomicU64,
}

impl StageClock {
    pub fn add(counter: &AtomicU64, since: Instant) {
        let nanos = u64::try_from(since.elapsed().as_nanos()).unwrap_or(u64::MAX);
        counter.fetch_add(nanos, Ordering::Relaxed);
    }

    pub fn secs(counter: &AtomicU64) -> f64 {
        counter.load(Ordering::Relaxed) as f64 / 1e9
    }
}
