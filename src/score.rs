//! From logits to a stance: calibrated probabilities, a score in [-1, 1] and a label.

use serde::{Deserialize, Serialize};

/// How a sentence portrays an actor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Label {
    /// Criticism, blame, threat, failure, hypocrisy...
    Unfavorable,
    /// Factual, descriptive, or evaluating someone else.
    Neutral,
    /// Praise, reliability, success, sympathy...
    Favorable,
}

impl Label {
    /// All labels, in the canonical order used for counts and confusion matrices.
    pub const ALL: [Label; 3] = [Label::Unfavorable, Label::Neutral, Label::Favorable];

    /// Position in [`Label::ALL`].
    #[must_use]
    pub fn index(self) -> usize {
        match self {
            Label::Unfavorable => 0,
            Label::Neutral => 1,
            Label::Favorable => 2,
        }
    }

    /// The label's name as written in outputs.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Unfavorable => "unfavorable",
            Label::Neutral => "neutral",
            Label::Favorable => "favorable",
        }
    }
}

impl std::fmt::Display for Label {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The model's verdict on one (sentence, actor) pair.
///
/// `score = p_favorable - p_unfavorable`, so it lies in [-1, 1]; the label is
/// the most probable class.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stance {
    /// Probability that the sentence portrays the actor unfavorably.
    pub p_unfavorable: f32,
    /// Probability of a neutral portrayal.
    pub p_neutral: f32,
    /// Probability of a favorable portrayal.
    pub p_favorable: f32,
    /// `p_favorable - p_unfavorable`.
    pub score: f32,
    /// The most probable label.
    pub label: Label,
}

impl Stance {
    /// Builds a stance from probabilities in canonical label order.
    #[must_use]
    pub fn from_probabilities(p: [f32; 3]) -> Self {
        // Of equal maxima the first in canonical order, as numpy's argmax takes it from the
        // shipped bundles' logits in the training side's metrics.
        let label = Label::ALL.into_iter().fold(Label::ALL[0], |best, label| {
            if p[label.index()].total_cmp(&p[best.index()]).is_gt() {
                label
            } else {
                best
            }
        });
        Stance {
            p_unfavorable: p[0],
            p_neutral: p[1],
            p_favorable: p[2],
            score: p[2] - p[0],
            label,
        }
    }

    /// Probabilities in canonical label order.
    #[must_use]
    pub fn probabilities(&self) -> [f32; 3] {
        [self.p_unfavorable, self.p_neutral, self.p_favorable]
    }
}

/// Turns one row of logits into a [`Stance`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Scorer {
    /// `order[i]` is the label of logit `i`.
    pub order: [Label; 3],
    pub temperature: f32,
}

impl Scorer {
    /// The stance of one row of logits, or `None` when a logit (divided by the
    /// temperature) is not a finite number: a model that overflowed or broke
    /// has no verdict to give, and softmax would turn it into NaN probabilities.
    pub fn stance(&self, logits: &[f32]) -> Option<Stance> {
        let mut canonical = [0.0f32; 3];
        for (logit, label) in logits.iter().zip(self.order) {
            canonical[label.index()] = logit / self.temperature;
        }
        canonical
            .iter()
            .all(|v| v.is_finite())
            .then(|| Stance::from_probabilities(softmax(canonical)))
    }
}

/// Numerically stable softmax (shifts by the maximum so `exp` cannot overflow).
fn softmax(x: [f32; 3]) -> [f32; 3] {
    let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let e = x.map(|v| (v - max).exp());
    let sum: f32 = e.iter().sum();
    e.map(|v| v / sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probabilities_sum_to_one_and_score_is_difference() {
        let s = Scorer {
            order: Label::ALL,
            temperature: 1.0,
        }
        .stance(&[0.1, 2.0, -1.0])
        .unwrap();
        let sum = s.p_unfavorable + s.p_neutral + s.p_favorable;
        assert!((sum - 1.0).abs() < 1e-6);
        assert!((s.score - (s.p_favorable - s.p_unfavorable)).abs() < 1e-7);
        assert_eq!(s.label, Label::Neutral);
    }

    #[test]
    fn of_equal_probabilities_the_first_label_is_taken() {
        let label = |p| Stance::from_probabilities(p).label;
        assert_eq!(label([0.4, 0.4, 0.2]), Label::Unfavorable);
        assert_eq!(label([0.45, 0.1, 0.45]), Label::Unfavorable);
        assert_eq!(label([0.1, 0.45, 0.45]), Label::Neutral);
        assert_eq!(label([0.1, 0.2, 0.7]), Label::Favorable);
    }

    #[test]
    fn label_order_from_config_is_respected() {
        let order = [Label::Favorable, Label::Neutral, Label::Unfavorable];
        let s = Scorer {
            order,
            temperature: 1.0,
        }
        .stance(&[5.0, 0.0, 0.0])
        .unwrap();
        assert_eq!(s.label, Label::Favorable);
        assert!(s.score > 0.9);
    }

    #[test]
    fn temperature_softens_without_changing_the_label() {
        let sharp = Scorer {
            order: Label::ALL,
            temperature: 1.0,
        }
        .stance(&[3.0, 0.0, 0.0])
        .unwrap();
        let soft = Scorer {
            order: Label::ALL,
            temperature: 2.0,
        }
        .stance(&[3.0, 0.0, 0.0])
        .unwrap();
        assert_eq!(sharp.label, soft.label);
        assert!(soft.p_unfavorable < sharp.p_unfavorable);
    }

    #[test]
    fn logits_that_are_no_finite_numbers_give_no_stance() {
        let scorer = Scorer {
            order: Label::ALL,
            temperature: 1.0,
        };
        for logits in [
            [f32::NAN, 0.0, 0.0],
            [f32::INFINITY, 0.0, 0.0],
            [0.0, f32::NEG_INFINITY, 1.0],
        ] {
            assert_eq!(scorer.stance(&logits), None, "{logits:?}");
        }
        // Finite logits that overflow once divided by a tiny temperature.
        let sharp = Scorer {
            order: Label::ALL,
            temperature: 1e-38,
        };
        assert_eq!(sharp.stance(&[10.0, 0.0, 0.0]), None);
    }

    #[test]
    fn extreme_logits_do_not_overflow() {
        let s = Scorer {
            order: Label::ALL,
            temperature: 1.0,
        }
        .stance(&[1e30, -1e30, 0.0])
        .unwrap();
        assert!(s.p_unfavorable.is_finite() && (s.p_unfavorable - 1.0).abs() < 1e-6);
    }
}
