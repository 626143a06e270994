//! (sentence, target mention spans) -> model input ids, following the bundle's input format.
//!
//! The steps mirror `training/stance_format.py` exactly (a parity test checks
//! the ids against a fixture written by the Python code):
//! 1. wrap every mention in the marker tokens: `... [TGT]Beijing[/TGT] has ...`;
//! 2. segment A = the marked sentence, segment B = the first mention's text,
//!    both tokenized without special tokens, B cut to `max_target_tokens`;
//! 3. if A does not fit, keep the window of A that starts a quarter of the
//!    budget before the first marker, so the target stays in view;
//! 4. `[CLS] A [SEP] B [SEP]`, token type 0 up to the first `[SEP]`, 1 after.
//!
//! A model that reads the sentence before (its format names `context_tokens`
//! N) gets a third part, `[CLS] A [SEP] B [SEP] C [SEP]` with token type 1 for
//! C: the last tokens of that sentence, at most N and at most what A and B
//! leave of `max_length`. A and B are encoded as without it.
//!
//! A model trained to see the sentence's other actors (its format names
//! `other_open`/`other_close`) also gets their mentions wrapped in step 1:
//! `... [TGT]Beijing[/TGT] and [OTH]Delhi[/OTH] ...`; those overlapping a
//! target mention are left unmarked.

use tokenizers::Tokenizer;

use crate::error::{Error, Result};
use crate::model::ModelConfig;
use crate::segment::Span;

/// Sentences longer than this many bytes are cut, between words, to a window
/// around the target before tokenizing, so a pathological 1 MB "sentence"
/// costs no more than a paragraph. The window is far wider than what the model
/// keeps; when it is not (words of hundreds of letters, each one token), the
/// whole sentence is tokenized, so results are unchanged.
const LONG_SENTENCE_BYTES: usize = 12_000;
const WINDOW_BEFORE_BYTES: usize = 3_000;
const WINDOW_AFTER_BYTES: usize = 9_000;
/// Tokens kept clear of a window's cut edge: there a multi-word alias may be
/// cut, and read unmarked, where the whole sentence would mark it.
const WINDOW_EDGE_TOKENS: usize = 16;
/// Only the end of the sentence before is read, so a long one is tokenized
/// from a word boundary this many bytes per token kept before its end; when
/// that tail holds too few tokens (very long words), the whole sentence is.
const CONTEXT_BYTES_PER_TOKEN: usize = 400;

/// Model input for one (sentence, target) pair, unpadded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Encoded {
    pub ids: Vec<i64>,
    pub type_ids: Vec<i64>,
    /// Whether part of the sentence was cut to fit `max_length`.
    pub truncated: bool,
}

impl Encoded {
    pub fn len(&self) -> usize {
        self.ids.len()
    }
}

/// Encodes pairs with the bundle's tokenizer. Only this module touches `tokenizers`.
pub(crate) struct Encoder {
    tokenizer: Tokenizer,
    marker_open: String,
    marker_close: String,
    /// (open, close) for other actors' mentions, when the model reads them.
    other_markers: Option<(String, String)>,
    open_id: i64,
    cls: i64,
    sep: i64,
    max_length: usize,
    max_target_tokens: usize,
    /// Tokens of the sentence before that the model reads (0: none).
    context_tokens: usize,
}

impl Encoder {
    pub fn new(tokenizer_json: &[u8], config: &ModelConfig, origin: &std::path::Path) -> Result<Self> {
        let tokenizer = Tokenizer::from_bytes(tokenizer_json)
            .map_err(|e| Error::model(origin.join("tokenizer.json"), format!("invalid tokenizer: {e}")))?;
        let fmt = &config.input_format;
        let open_id = tokenizer.token_to_id(&fmt.marker_open).ok_or_else(|| {
            Error::model(
                origin.join("tokenizer.json"),
                format!("marker token {:?} is not in the vocabulary", fmt.marker_open),
            )
        })?;
        let other_markers = other_markers(&tokenizer, fmt, origin)?;
        Ok(Encoder {
            tokenizer,
            marker_open: fmt.marker_open.clone(),
            marker_close: fmt.marker_close.clone(),
            other_markers,
            open_id: i64::from(open_id),
            cls: i64::from(config.tokens.cls),
            sep: i64::from(config.tokens.sep),
            max_length: fmt.max_length,
            max_target_tokens: fmt.max_target_tokens,
            context_tokens: fmt.context_tokens,
        })
    }

    /// Whether the model reads other actors' mentions (marked), so callers pass them.
    pub fn marks_others(&self) -> bool {
        self.other_markers.is_some()
    }

    /// Whether the model reads the sentence before, so callers pass it.
    pub fn reads_context(&self) -> bool {
        self.context_tokens > 0
    }

    /// Encodes `sentence` with the target at `spans`, the other actors' mentions
    /// at `others` (byte offsets into `sentence`; ignored unless the model reads
    /// them) and `context`, the sentence before it in its document ("" if none;
    /// ignored unless the model reads it).
    pub fn encode(&self, sentence: &str, spans: &[Span], others: &[Span], context: &str) -> Result<Encoded> {
        let spans = clean_spans(sentence, spans)?;
        let others = match self.other_markers {
            Some(_) => clean_others(sentence, others, &spans)?,
            None => Vec::new(),
        };
        let mut b = self.token_ids(spans[0].slice(sentence))?;
        b.truncate(self.max_target_tokens);
        let budget = self.max_length - 3 - b.len();
        let window = Window::around_target(sentence, &spans, &others);
        let mut a = self.token_ids(&self.mark(window.text, &window.spans, &window.others))?;
        if !window.holds(a.len(), self.kept_from(&a, budget), budget) {
            a = self.token_ids(&self.mark(sentence, &spans, &others))?;
        }
        let truncated = a.len() > budget;
        if truncated {
            let begin = self.kept_from(&a, budget);
            a = a[begin..begin + budget].to_vec();
        }
        let mut ids = Vec::with_capacity(a.len() + b.len() + 3);
        ids.push(self.cls);
        ids.extend_from_slice(&a);
        ids.push(self.sep);
        ids.extend_from_slice(&b);
        ids.push(self.sep);
        let c = self.context_ids(context, ids.len())?;
        if !c.is_empty() {
            ids.extend_from_slice(&c);
            ids.push(self.sep);
        }
        let mut type_ids = vec![0i64; a.len() + 2];
        type_ids.resize(ids.len(), 1);
        Ok(Encoded {
            ids,
            type_ids,
            truncated,
        })
    }

    /// Where the `budget` tokens of the marked sentence `a` that the model reads
    /// begin when `a` is longer: a quarter of the budget before the first
    /// target marker, so the target stays in view.
    fn kept_from(&self, a: &[i64], budget: usize) -> usize {
        let marker = a.iter().position(|&id| id == self.open_id).unwrap_or(0);
        marker.saturating_sub(budget / 4).min(a.len().saturating_sub(budget))
    }

    /// The last tokens of `context` that fit after `used` tokens: at most
    /// `context_tokens`, leaving one for the closing separator.
    fn context_ids(&self, context: &str, used: usize) -> Result<Vec<i64>> {
        let room = self.context_tokens.min(self.max_length.saturating_sub(used + 1));
        if room == 0 || context.is_empty() {
            return Ok(Vec::new());
        }
        let tail_ids = context_tail(context, (room + 1) * CONTEXT_BYTES_PER_TOKEN)
            .map(|tail| self.token_ids(tail))
            .transpose()?
            .filter(|ids| ids.len() >= room);
        let mut ids = match tail_ids {
            Some(ids) => ids,
            None => self.token_ids(context)?,
        };
        ids.drain(..ids.len().saturating_sub(room));
        Ok(ids)
    }

    /// The sentence with markers around the target's and the others' spans (all
    /// sorted and disjoint together, as `clean_others` leaves them).
    fn mark(&self, sentence: &str, spans: &[Span], others: &[Span]) -> String {
        let target = (self.marker_open.as_str(), self.marker_close.as_str());
        let mut tagged: Vec<(Span, (&str, &str))> = spans.iter().map(|&s| (s, target)).collect();
        if let Some((open, close)) = &self.other_markers {
            tagged.extend(others.iter().map(|&s| (s, (open.as_str(), close.as_str()))));
        }
        tagged.sort_unstable_by_key(|(span, _)| *span);
        let extra: usize = tagged.iter().map(|(_, (open, close))| open.len() + close.len()).sum();
        let mut out = String::with_capacity(sentence.len() + extra);
        let mut pos = 0;
        for (span, (open, close)) in tagged {
            out.push_str(&sentence[pos..span.start]);
            out.push_str(open);
            out.push_str(span.slice(sentence));
            out.push_str(close);
            pos = span.end;
        }
        out.push_str(&sentence[pos..]);
        out
    }

    /// `encode_fast` skips the char-offset bookkeeping we never read: same ids, less work.
    fn token_ids(&self, text: &str) -> Result<Vec<i64>> {
        let encoding = self.tokenizer.encode_fast(text, false).map_err(|e| Error::Tokenizer {
            context: format!("{:?}", truncate_for_message(text)),
            message: e.to_string(),
        })?;
        Ok(encoding.get_ids().iter().map(|&id| i64::from(id)).collect())
    }
}

/// The other-actor markers of a format that has them, checked against the vocabulary.
fn other_markers(
    tokenizer: &Tokenizer,
    fmt: &crate::model::InputFormat,
    origin: &std::path::Path,
) -> Result<Option<(String, String)>> {
    let Some((open, close)) = fmt.other_markers() else {
        return Ok(None);
    };
    for marker in [open, close] {
        if tokenizer.token_to_id(marker).is_none() {
            return Err(Error::model(
                origin.join("tokenizer.json"),
                format!("marker token {marker:?} is not in the vocabulary"),
            ));
        }
    }
    Ok(Some((open.to_string(), close.to_string())))
}

/// Sorted, non-empty, non-overlapping spans on char boundaries (the first of two overlapping wins).
fn clean_spans(sentence: &str, spans: &[Span]) -> Result<Vec<Span>> {
    let kept = disjoint_spans(sentence, spans)?;
    if kept.is_empty() {
        return Err(Error::input(
            format!("sentence {:?}", truncate_for_message(sentence)),
            None,
            "no non-empty target span to score",
        ));
    }
    Ok(kept)
}

/// The other actors' spans, cleaned like the target's, without those that overlap a target span.
fn clean_others(sentence: &str, others: &[Span], target: &[Span]) -> Result<Vec<Span>> {
    let mut kept = disjoint_spans(sentence, others)?;
    kept.retain(|o| !target.iter().any(|t| o.start < t.end && t.start < o.end));
    Ok(kept)
}

/// Sorted, non-empty, non-overlapping spans on char boundaries (the first of two overlapping wins).
fn disjoint_spans(sentence: &str, spans: &[Span]) -> Result<Vec<Span>> {
    let mut sorted: Vec<Span> = spans.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut kept: Vec<Span> = Vec::with_capacity(sorted.len());
    for span in sorted {
        let valid =
            span.end <= sentence.len() && sentence.is_char_boundary(span.start) && sentence.is_char_boundary(span.end);
        if !valid {
            return Err(Error::input(
                format!("sentence {:?}", truncate_for_message(sentence)),
                None,
                format!(
                    "target span {}..{} is outside the sentence or not on a character boundary",
                    span.start, span.end
                ),
            ));
        }
        if span.is_empty() || kept.last().is_some_and(|last| span.start < last.end) {
            continue;
        }
        kept.push(span);
    }
    Ok(kept)
}

/// The part of a sentence that is tokenized: all of it, or for a very long
/// one the words around its first target mention, with the target's and the
/// others' spans shifted into it.
struct Window<'a> {
    text: &'a str,
    spans: Vec<Span>,
    others: Vec<Span>,
    /// Words of the sentence were left out before the window, after it.
    cut_before: bool,
    cut_after: bool,
}

impl<'a> Window<'a> {
    fn around_target(sentence: &'a str, spans: &[Span], others: &[Span]) -> Self {
        let whole = Window {
            text: sentence,
            spans: spans.to_vec(),
            others: others.to_vec(),
            cut_before: false,
            cut_after: false,
        };
        if sentence.len() <= LONG_SENTENCE_BYTES {
            return whole;
        }
        // Cut at spaces and line breaks only: the tokenizer splits words there, so the
        // window's tokens are the sentence's (a word cut in two would read as other tokens).
        let first = spans[0];
        let bytes = sentence.as_bytes();
        let start = bytes[..first.start.saturating_sub(WINDOW_BEFORE_BYTES)]
            .iter()
            .rposition(is_word_break)
            .unwrap_or(0);
        let after = (first.end + WINDOW_AFTER_BYTES).min(sentence.len());
        let end = bytes[after..]
            .iter()
            .position(is_word_break)
            .map_or(sentence.len(), |at| after + at);
        let shift = |spans: &[Span]| -> Vec<Span> {
            spans
                .iter()
                .filter(|s| s.start >= start && s.end <= end)
                .map(|s| Span::new(s.start - start, s.end - start))
                .collect()
        };
        Window {
            text: &sentence[start..end],
            spans: shift(spans),
            others: shift(others),
            cut_before: start > 0,
            cut_after: end < sentence.len(),
        }
    }

    /// Whether the window's `tokens` hold every token the model reads of the
    /// whole sentence, the `budget` from `kept_from`, and at the same place
    /// relative to the target: the window is truncated too, and neither a cut
    /// edge nor the clamp at an edge of the window moves what is kept.
    fn holds(&self, tokens: usize, kept_from: usize, budget: usize) -> bool {
        if !self.cut_before && !self.cut_after {
            return true;
        }
        tokens > budget
            && (!self.cut_before || kept_from >= WINDOW_EDGE_TOKENS)
            && (!self.cut_after || kept_from + budget + WINDOW_EDGE_TOKENS <= tokens)
    }
}

/// A space, tab or line break: where the tokenizer always splits words
/// (see `context_tail` on why not other spaces).
fn is_word_break(byte: &u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r')
}

/// The end of `text` from the last ASCII space, tab or line break at least
/// `min_bytes` before its end; `None` when `text` is shorter or has no such
/// break. Tokenizers split words there and normalize within words, so the
/// tail's tokens are the text's last tokens (as many as the tail has).
/// Other Unicode spaces are not used: BERT's normalizer deletes some (form
/// feed), joining the words around them.
fn context_tail(text: &str, min_bytes: usize) -> Option<&str> {
    let cut = text.len().checked_sub(min_bytes)?;
    let at = text.as_bytes()[..=cut]
        .iter()
        .rposition(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))?;
    Some(&text[at..])
}

fn truncate_for_message(text: &str) -> String {
    match text.char_indices().nth(60) {
        Some((i, _)) => format!("{}...", &text[..i]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_and_empty_spans_are_dropped() {
        let s = "China and India";
        let spans = clean_spans(
            s,
            &[Span::new(10, 15), Span::new(0, 5), Span::new(2, 4), Span::new(6, 6)],
        )
        .unwrap();
        assert_eq!(spans, vec![Span::new(0, 5), Span::new(10, 15)]);
    }

    #[test]
    fn span_inside_a_character_is_an_error() {
        let s = "Québec";
        assert!(clean_spans(s, &[Span::new(0, 3)]).is_err());
        assert!(clean_spans(s, &[Span::new(0, 99)]).is_err());
    }

    pub(super) fn tiny_encoder(context_tokens: usize) -> Encoder {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut bundle = crate::model::ModelBundle::from_dir(&root.join("tests/data/tiny-model")).unwrap();
        bundle.config.input_format.context_tokens = context_tokens;
        Encoder::new(&bundle.tokenizer_json, &bundle.config, &bundle.origin).unwrap()
    }

    #[test]
    fn a_long_sentence_before_costs_only_its_end() {
        let encoder = tiny_encoder(48);
        let sentence = "China acted.";
        let spans = [Span::new(0, 5)];
        let ending = "and in the end nobody in the region believed a single word of it.";
        let long = format!("{}{ending}", "Délégués 🌏 déclarèrent ".repeat(20_000));
        let tail = format!("{}{ending}", "Délégués 🌏 déclarèrent ".repeat(30));
        let from_long = encoder.encode(sentence, &spans, &[], &long).unwrap();
        let from_tail = encoder.encode(sentence, &spans, &[], &tail).unwrap();
        assert_eq!(from_long, from_tail);
        let alone = encoder.encode(sentence, &spans, &[], "").unwrap();
        assert_eq!(from_long.len(), alone.len() + 48 + 1);
        assert_eq!(context_tail("abc def", 100), None);
        assert_eq!(context_tail("abc def ghi", 5), Some(" def ghi"));
        assert_eq!(context_tail("abc def\u{c}ghi", 5), Some(" def\u{c}ghi"));
        assert_eq!(context_tail("abcdefghi", 5), None);
    }

    #[test]
    fn a_model_that_does_not_read_context_ignores_it() {
        let encoder = tiny_encoder(0);
        let spans = [Span::new(0, 5)];
        let with = encoder
            .encode("China acted.", &spans, &[], "Before that, talks failed.")
            .unwrap();
        assert_eq!(with, encoder.encode("China acted.", &spans, &[], "").unwrap());
    }

    /// `China` between `before` and `after` copies of `word`.
    fn china_among(before: usize, after: usize, word: &str) -> (String, Span) {
        let words = |n: usize| vec![word; n].join(" ");
        let sentence = format!("{} China {}", words(before), words(after));
        let at = sentence.find("China").unwrap();
        (sentence, Span::new(at, at + 5))
    }

    #[test]
    fn a_long_sentence_of_long_words_encodes_as_the_whole_sentence() {
        // A word of more than 100 letters is one unknown token, however long, as
        // "[UNK]" is: a sentence of such words far past the byte window gives the
        // model what the same sentence of "[UNK]"s, within the window, gives it.
        let encoder = tiny_encoder(0);
        let long_word = "x".repeat(150);
        for (before, after) in [(0, 81), (0, 200), (100, 0), (200, 3), (70, 70), (5, 300), (300, 300)] {
            let (long, long_span) = china_among(before, after, &long_word);
            let (short, short_span) = china_among(before, after, "[UNK]");
            assert!(long.len() > LONG_SENTENCE_BYTES && short.len() <= LONG_SENTENCE_BYTES);
            let from_long = encoder.encode(&long, &[long_span], &[], "").unwrap();
            let from_short = encoder.encode(&short, &[short_span], &[], "").unwrap();
            assert_eq!(from_long, from_short, "{before} words before, {after} after");
        }
    }

    #[test]
    fn long_sentence_window_keeps_the_target() {
        let filler = "word ".repeat(5_000);
        let s = format!("{filler}China acted.{filler}");
        let at = filler.len();
        let window = Window::around_target(&s, &[Span::new(at, at + 5)], &[]);
        assert!(window.text.len() < s.len() && window.cut_before && window.cut_after);
        assert_eq!(window.spans[0].slice(window.text), "China");
        // Between words: the window starts at a space and ends before one.
        assert!(window.text.starts_with(' ') && window.text.ends_with("word"));
    }
}

/// The Rust encoder against ids written by the training code (`training/make_parity_fixture.py`).
#[cfg(test)]
mod parity {
    use super::*;
    use std::path::Path;

    #[derive(serde::Deserialize)]
    struct Case {
        sentence: String,
        spans: Vec<(usize, usize)>,
        #[serde(default)]
        others: Vec<(usize, usize)>,
        #[serde(default)]
        context: String,
        input_ids: Vec<i64>,
        token_type_ids: Vec<i64>,
    }

    fn byte_offset(text: &str, chars: usize) -> usize {
        text.char_indices()
            .map(|(b, _)| b)
            .chain(std::iter::once(text.len()))
            .nth(chars)
            .unwrap()
    }

    #[test]
    fn rust_and_python_encode_identically() {
        check_fixture("tests/data/tiny-model", "tests/data/encoding_parity.jsonl");
    }

    /// MPNet's tokenizer and special tokens (`<s>` 0, `</s>` 2), as in models/stance-base.
    #[test]
    fn rust_and_python_encode_identically_with_the_mpnet_tokenizer() {
        check_fixture(
            "tests/data/tiny-model-two-inputs",
            "tests/data/encoding_parity_mpnet.jsonl",
        );
    }

    /// A model that also reads the other actors' mentions: MiniLM's tokenizer with
    /// `[OTH]`/`[/OTH]` added, as `make_tokenizer.py --other-markers` adds them.
    #[test]
    fn rust_and_python_encode_identically_with_other_actors_marked() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut bundle = crate::model::ModelBundle::from_dir(&root.join("tests/data/tiny-model")).unwrap();
        let mut tokenizer = Tokenizer::from_bytes(&bundle.tokenizer_json).unwrap();
        let markers = ["[OTH]", "[/OTH]"];
        tokenizer
            .add_special_tokens(markers.map(|m| tokenizers::AddedToken::from(m, true)))
            .unwrap();
        let fmt = &mut bundle.config.input_format;
        (fmt.other_open, fmt.other_close) = (Some(markers[0].into()), Some(markers[1].into()));
        let json = tokenizer.to_string(false).unwrap();
        let encoder = Encoder::new(json.as_bytes(), &bundle.config, &bundle.origin).unwrap();
        assert!(encoder.marks_others());
        check_cases(&encoder, &root.join("tests/data/encoding_parity_others.jsonl"), 10);
    }

    /// A model that reads the sentence before: the plain format with `context_tokens` 48.
    #[test]
    fn rust_and_python_encode_identically_with_the_sentence_before() {
        let encoder = super::tests::tiny_encoder(48);
        assert!(encoder.reads_context() && !encoder.marks_others());
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        check_cases(&encoder, &root.join("tests/data/encoding_parity_context.jsonl"), 8);
    }

    fn check_fixture(bundle: &str, fixture: &str) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let bundle = crate::model::ModelBundle::from_dir(&root.join(bundle)).unwrap();
        let encoder = Encoder::new(&bundle.tokenizer_json, &bundle.config, &bundle.origin).unwrap();
        assert!(!encoder.marks_others() && !encoder.reads_context());
        check_cases(&encoder, &root.join(fixture), 20);
    }

    fn check_cases(encoder: &Encoder, fixture: &Path, min_cases: usize) {
        let fixture = std::fs::read_to_string(fixture).unwrap();
        let mut cases = 0;
        for line in fixture.lines().filter(|l| !l.trim().is_empty()) {
            let case: Case = serde_json::from_str(line).unwrap();
            let spans: Vec<Span> = case
                .spans
                .iter()
                .map(|&(a, b)| Span::new(byte_offset(&case.sentence, a), byte_offset(&case.sentence, b)))
                .collect();
            let others: Vec<Span> = case
                .others
                .iter()
                .map(|&(a, b)| Span::new(byte_offset(&case.sentence, a), byte_offset(&case.sentence, b)))
                .collect();
            let encoded = encoder.encode(&case.sentence, &spans, &others, &case.context).unwrap();
            assert_eq!(encoded.ids, case.input_ids, "ids differ for {:?}", case.sentence);
            assert_eq!(
                encoded.type_ids, case.token_type_ids,
                "type ids differ for {:?}",
                case.sentence
            );
            cases += 1;
        }
        assert!(cases >= min_cases, "fixture has only {cases} cases");
    }
}
