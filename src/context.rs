//! Reading each sentence in its document.
//!
//! An op-ed keeps a line: an article that criticises Pakistan in one sentence
//! mostly does so in the next, and a reader takes a borderline sentence the way
//! the article leans. A model that reads one sentence at a time misses this: on
//! the op-ed natural data its most common error is a criticised or praised
//! actor read neutral. [`read_in_context`] adds the document's reading of the
//! same actor to each pair's:
//!
//! `log p'(label) = log p(label) + weight x mean over the actor's pairs in the
//! document's other sentences of log p(label)`, renormalised.
//!
//! The mean, not the sum, so that a long article does not drown a sentence's
//! own reading; a pair whose actor appears in no other sentence is unchanged.
//! With the weight chosen for it, on held-out op-eds of the natural
//! distribution, every shipped tier labels more pairs right and its
//! per-article means follow the annotators' more closely (see the README's
//! "Reading a sentence in its document"). A model that reads single sentences
//! less surely gains from more of its document, so a bundle may carry its own
//! weight ([`crate::ModelConfig::document_context`]), chosen by
//! cross-validation (`training/choose_context.py`).

use std::collections::HashMap;
use std::hash::Hash;

use crate::score::Stance;

/// The weight of the document's reading that [`crate::Analyzer`] uses when
/// neither the builder ([`crate::AnalyzerBuilder::document_context`]) nor the
/// model's bundle ([`crate::ModelConfig::document_context`]) chooses one.
/// Chosen by cross-fitting over two halves of a held-out op-ed fold with all
/// three shipped tiers together (0.5 and 0.75 were chosen; the smaller is
/// kept); each shipped bundle carries a weight chosen for it alone.
pub const DEFAULT_DOCUMENT_CONTEXT: f32 = 0.5;

/// Whether `weight` can weigh a document's reading: a finite number of at least 0.
pub(crate) fn is_valid_weight(weight: f32) -> bool {
    weight.is_finite() && weight >= 0.0
}

/// Where a pair sits: pairs with the same `group` (one actor in one document)
/// and a different `sentence` inform each other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ContextKey<G, S> {
    /// The actor in its document, e.g. `(document, actor)`.
    pub group: G,
    /// The pair's sentence within the document.
    pub sentence: S,
}

/// Rewrites each stance with its actor's reading in the document's other
/// sentences (module docs). `keys[i]` places `stances[i]`; `None` leaves a pair
/// alone and out of the others' context. A `weight` of 0 changes nothing.
///
/// Deterministic: sums run in input order, so the result depends on the
/// stances and keys only, never on how they were batched.
///
/// ```
/// use stance::context::{read_in_context, ContextKey};
/// use stance::{Label, Stance};
///
/// let mut stances = [
///     Stance::from_probabilities([0.40, 0.45, 0.15]), // borderline
///     Stance::from_probabilities([0.80, 0.15, 0.05]), // clearly unfavorable
/// ];
/// let keys = [Some(ContextKey { group: "pakistan", sentence: 0 }), Some(ContextKey { group: "pakistan", sentence: 1 })];
/// read_in_context(&mut stances, &keys, 0.5);
/// assert_eq!(stances[0].label, Label::Unfavorable);
/// ```
///
/// # Panics
/// If `keys` and `stances` differ in length, or `weight` is not a finite number of at least 0
/// (it would make every stance NaN; the builder refuses such weights with an error).
pub fn read_in_context<G, S>(stances: &mut [Stance], keys: &[Option<ContextKey<G, S>>], weight: f32)
where
    G: Hash + Eq,
    S: Hash + Eq,
{
    assert_eq!(stances.len(), keys.len(), "one key per stance");
    assert!(
        is_valid_weight(weight),
        "document context weight {weight} is not a finite number of at least 0"
    );
    if weight == 0.0 {
        return;
    }
    let logs: Vec<[f64; 3]> = stances.iter().map(log_probabilities).collect();
    // Sums per actor in the document, and per actor in one sentence: the
    // difference is what the other sentences say.
    let mut by_group: HashMap<&G, LogSum> = HashMap::new();
    let mut by_sentence: HashMap<&ContextKey<G, S>, LogSum> = HashMap::new();
    for (key, log) in keys.iter().zip(&logs) {
        if let Some(key) = key {
            by_group.entry(&key.group).or_default().add(log);
            by_sentence.entry(key).or_default().add(log);
        }
    }
    for ((stance, key), log) in stances.iter_mut().zip(keys).zip(&logs) {
        let Some(key) = key else { continue };
        let (Some(group), Some(own)) = (by_group.get(&key.group), by_sentence.get(key)) else {
            continue;
        };
        let others = group.count - own.count;
        if others == 0 {
            continue;
        }
        let mut shifted = [0.0f64; 3];
        for (label, value) in shifted.iter_mut().enumerate() {
            let mean_other = (group.sum[label] - own.sum[label]) / others as f64;
            *value = log[label] + f64::from(weight) * mean_other;
        }
        *stance = Stance::from_probabilities(softmax(shifted));
    }
}

#[derive(Default)]
struct LogSum {
    sum: [f64; 3],
    count: usize,
}

impl LogSum {
    fn add(&mut self, log: &[f64; 3]) {
        for (total, value) in self.sum.iter_mut().zip(log) {
            *total += value;
        }
        self.count += 1;
    }
}

/// Log-probabilities, floored so that a probability rounded to 0 stays finite.
fn log_probabilities(stance: &Stance) -> [f64; 3] {
    stance.probabilities().map(|p| f64::from(p.max(f32::MIN_POSITIVE)).ln())
}

fn softmax(x: [f64; 3]) -> [f32; 3] {
    let max = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e = x.map(|v| (v - max).exp());
    let sum: f64 = e.iter().sum();
    e.map(|v| (v / sum) as f32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::Label;

    fn key(group: &'static str, sentence: usize) -> Option<ContextKey<&'static str, usize>> {
        Some(ContextKey { group, sentence })
    }

    fn close(a: [f32; 3], b: [f64; 3]) -> bool {
        a.iter().zip(b).all(|(x, y)| (f64::from(*x) - y).abs() < 1e-6)
    }

    #[test]
    #[should_panic(expected = "document context weight NaN is not a finite number of at least 0")]
    fn a_weight_that_is_no_number_is_refused_not_spread() {
        let mut stances = [Stance::from_probabilities([0.2, 0.5, 0.3]); 2];
        read_in_context(&mut stances, &[key("a", 0), key("a", 1)], f32::NAN);
    }

    #[test]
    fn matches_the_formula_by_hand() {
        let p: [[f32; 3]; 3] = [[0.2, 0.5, 0.3], [0.6, 0.3, 0.1], [0.1, 0.1, 0.8]];
        let mut stances = p.map(Stance::from_probabilities);
        read_in_context(&mut stances, &[key("a", 0), key("a", 1), key("a", 2)], 0.5);
        let expected = |i: usize| {
            let others: Vec<usize> = (0..3).filter(|&j| j != i).collect();
            let shifted: Vec<f64> = (0..3)
                .map(|l| {
                    let mean = others.iter().map(|&j| f64::from(p[j][l]).ln()).sum::<f64>() / 2.0;
                    f64::from(p[i][l]).ln() + 0.5 * mean
                })
                .collect();
            let z: f64 = shifted.iter().map(|v| v.exp()).sum();
            [0, 1, 2].map(|l| shifted[l].exp() / z)
        };
        for (i, stance) in stances.iter().enumerate() {
            assert!(close(stance.probabilities(), expected(i)), "pair {i}: {stance:?}");
            assert!((stance.score - (stance.p_favorable - stance.p_unfavorable)).abs() < 1e-7);
        }
    }

    #[test]
    fn a_borderline_pair_follows_the_document_and_a_clear_one_keeps_its_label() {
        let mut stances = [
            Stance::from_probabilities([0.40, 0.45, 0.15]),
            Stance::from_probabilities([0.80, 0.15, 0.05]),
            Stance::from_probabilities([0.05, 0.15, 0.80]),
        ];
        read_in_context(&mut stances, &[key("us", 0), key("us", 1), key("china", 1)], 0.5);
        assert_eq!(stances[0].label, Label::Unfavorable);
        assert_eq!(stances[1].label, Label::Unfavorable);
        // China is alone in the document: unchanged, and the US pairs did not move it.
        assert_eq!(stances[2], Stance::from_probabilities([0.05, 0.15, 0.80]));
    }

    #[test]
    fn the_same_sentence_other_groups_and_unkeyed_pairs_give_no_context() {
        let original = [
            Stance::from_probabilities([0.40, 0.45, 0.15]),
            Stance::from_probabilities([0.90, 0.05, 0.05]),
            Stance::from_probabilities([0.90, 0.05, 0.05]),
            Stance::from_probabilities([0.90, 0.05, 0.05]),
        ];
        let mut stances = original;
        // Pair 1 shares pair 0's sentence, pair 2 is another actor, pair 3 has no key.
        read_in_context(&mut stances, &[key("us", 0), key("us", 0), key("china", 1), None], 0.5);
        assert_eq!(stances, original);
    }

    #[test]
    fn weight_zero_changes_nothing_and_order_does_not_matter() {
        let original = [
            Stance::from_probabilities([0.40, 0.45, 0.15]),
            Stance::from_probabilities([0.30, 0.30, 0.40]),
            Stance::from_probabilities([0.80, 0.15, 0.05]),
        ];
        let keys = [key("us", 0), key("us", 1), key("us", 2)];
        let mut unchanged = original;
        read_in_context(&mut unchanged, &keys, 0.0);
        assert_eq!(unchanged, original);

        let mut forward = original;
        read_in_context(&mut forward, &keys, 0.5);
        let mut reversed = [original[2], original[1], original[0]];
        read_in_context(&mut reversed, &[keys[2], keys[1], keys[0]], 0.5);
        for (a, b) in forward.iter().zip(reversed.iter().rev()) {
            assert!(close(a.probabilities(), b.probabilities().map(f64::from)));
        }
    }

    #[test]
    fn a_probability_of_zero_stays_finite() {
        let mut stances = [
            Stance::from_probabilities([0.0, 1.0, 0.0]),
            Stance::from_probabilities([1.0, 0.0, 0.0]),
        ];
        read_in_context(&mut stances, &[key("us", 0), key("us", 1)], 0.5);
        for stance in stances {
            assert!(stance.probabilities().iter().all(|p| p.is_finite()));
            assert!((stance.probabilities().iter().sum::<f32>() - 1.0).abs() < 1e-6);
        }
    }
}
