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
//! The text itself never yields a control token: a special token's string in
//! it (`[TGT]`, `[SEP]`, `<s>`) gets a space after its opening bracket first.
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

use std::borrow::Cow;

use tokenizers::{NormalizedString, Normalizer, NormalizerWrapper, Tokenizer};

use crate::error::{Error, Result};
use crate::model::ModelConfig;
use crate::segment::Span;

/// Sentences longer than this many bytes are tokenized from a window around
/// the target, so a pathological 1 MB "sentence" costs about what a paragraph
/// does. The window's edges are token boundaries ([`Breaks`]), and they are
/// moved out, `WINDOW_GROWTH` times further at each step, until the window
/// holds every token the model reads of the whole sentence
/// ([`Window::holds`]), an edge stopping at the sentence's start or end: with
/// both edges at token boundaries (or those ends), the ids are then exactly
/// the whole sentence's. They can differ only when an edge has no token
/// boundary within `BREAK_SEARCH_BYTES` of where it is looked for (one "word"
/// of more than 1 KB: a script other than CJK ideographs written without
/// spaces, or, with a tokenizer other than BERT's, any text without ASCII
/// blanks). Rather than tokenize megabytes, such an edge is cut inside that
/// word, at a character boundary, and stays there while the other edge is
/// moved out as above: the model reads that word's part in the window instead
/// of the whole word (for BERT's WordPiece both are one unknown token when the
/// part keeps more than 100 characters after normalization), and nothing of
/// the sentence past that edge, even where the whole sentence would have
/// given it more to read. Such an encoding is always flagged
/// [`Encoded::truncated`], as text past the cut is left unread; that includes
/// the few where the whole sentence would have given the model nothing more
/// (the word runs to the sentence's end, and is one unknown token read whole
/// or cut).
const LONG_SENTENCE_BYTES: usize = 12_000;
const WINDOW_BEFORE_BYTES: usize = 3_000;
const WINDOW_AFTER_BYTES: usize = 9_000;
/// How many times wider each try of a window (or of the tail of the sentence
/// before) is than the last, when the last held too few tokens.
const WINDOW_GROWTH: usize = 4;
/// How far past a window's nominal edge a token boundary is looked for.
const BREAK_SEARCH_BYTES: usize = 1_024;
/// How much text on each side of a cut is normalized to look for an added
/// token matched after normalization across it (see `Breaks::in_normalized_token`).
const NORMALIZED_NEAR_BYTES: usize = 64;
/// Tokens kept clear of a window's cut edge: there a multi-word alias may be
/// cut, and read unmarked, where the whole sentence would mark it.
const WINDOW_EDGE_TOKENS: usize = 16;
/// Only the end of the sentence before is read, so a long one is tokenized
/// from a token boundary this many bytes per token kept before its end
/// (further, as a window is widened, when that tail holds too few tokens).
const CONTEXT_BYTES_PER_TOKEN: usize = 400;

/// Model input for one (sentence, target) pair, unpadded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Encoded {
    pub ids: Vec<i64>,
    pub type_ids: Vec<i64>,
    /// Whether part of the sentence was left unread: its tokens did not fit
    /// `max_length` (the model reads those around the target), or it was
    /// tokenized from a window with an edge cut inside a word, leaving out the
    /// text past that edge (see `LONG_SENTENCE_BYTES`).
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
    /// Where the tokenizer always ends a word, so a long text may be cut there.
    breaks: Breaks,
    /// The tokenizer's control tokens as user text may spell them.
    specials: Specials,
}

/// The strings of the tokenizer's added tokens (`[TGT]`, `[SEP]`, `<s>`, ...), found in user text
/// to be broken up: the tokenizer reads them as control tokens wherever text holds them, so a
/// sentence quoting `[TGT]` would mark a target of its own and move the window the model reads
/// (it opens at the first target marker), and one quoting `[SEP]` would end its part early.
/// Only strings that open with ASCII punctuation are found: a space after that character changes
/// no token of the text read as words (the pre-tokenizer splits punctuation off anyway), so the
/// text is read as a tokenizer without the added token would read it.
struct Specials(Option<aho_corasick::AhoCorasick>);

impl Specials {
    fn new(tokenizer: &Tokenizer) -> Self {
        let strings: Vec<String> = tokenizer
            .get_added_tokens_decoder()
            .into_values()
            .map(|token| token.content)
            .filter(|s| s.len() > 1 && s.starts_with(|c: char| c.is_ascii_punctuation()))
            .collect();
        if strings.is_empty() {
            return Specials(None);
        }
        // Case-blind: a token the tokenizer matches after lowercasing (MPNet's `<unk>`) is
        // found as `<UNK>` too, and breaking up a string it would not match changes nothing.
        let finder = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(aho_corasick::MatchKind::LeftmostLongest)
            .build(&strings)
            .ok();
        Specials(finder)
    }

    /// `text` with a space after the first character of each special string in it
    /// (`[TGT]` -> `[ TGT]`).
    fn defuse<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let Some(finder) = &self.0 else {
            return Cow::Borrowed(text);
        };
        let mut found = finder.find_iter(text).peekable();
        if found.peek().is_none() {
            return Cow::Borrowed(text);
        }
        let mut out = String::with_capacity(text.len() + 8);
        let mut pos = 0;
        for m in found {
            // The first character is ASCII punctuation: one byte.
            let split = m.start() + 1;
            out.push_str(&text[pos..split]);
            out.push(' ');
            pos = split;
        }
        out.push_str(&text[pos..]);
        Cow::Owned(out)
    }
}

/// Refuses special token ids outside the vocabulary: the model's embedding table has no row for
/// them, and every document would fail at inference with a message that names no file.
fn check_special_tokens(tokenizer: &Tokenizer, config: &ModelConfig, origin: &std::path::Path) -> Result<()> {
    // The largest id, not the count: a vocabulary may have gaps in its ids.
    let largest = tokenizer.get_vocab(true).into_values().max().unwrap_or(0);
    let tokens = config.tokens;
    let outside = [("cls", tokens.cls), ("sep", tokens.sep), ("pad", tokens.pad)]
        .into_iter()
        .find(|&(_, id)| id > largest);
    match outside {
        Some((name, id)) => Err(Error::model(
            origin.join("config.json"),
            format!("tokens.{name} is {id}, past the tokenizer's largest token id ({largest})"),
        )),
        None => Ok(()),
    }
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
        check_special_tokens(&tokenizer, config, origin)?;
        let breaks = Breaks::new(&tokenizer);
        let specials = Specials::new(&tokenizer);
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
            breaks,
            specials,
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
        self.encode_within(sentence, spans, others, context, LONG_SENTENCE_BYTES)
            .map(|(encoded, _)| encoded)
    }

    /// `encode`, tokenizing a sentence longer than `long_bytes` from a window
    /// around its target; also gives that window (the part of the sentence tokenized).
    fn encode_within<'s>(
        &self,
        sentence: &'s str,
        spans: &[Span],
        others: &[Span],
        context: &str,
        long_bytes: usize,
    ) -> Result<(Encoded, &'s str)> {
        let spans = clean_spans(sentence, spans)?;
        let others = match self.other_markers {
            Some(_) => clean_others(sentence, others, &spans)?,
            None => Vec::new(),
        };
        let mut b = self.token_ids(&self.specials.defuse(spans[0].slice(sentence)))?;
        b.truncate(self.max_target_tokens);
        let budget = self.max_length - 3 - b.len();
        // How far the window's start, its end, reaches from the target, in
        // units of the first window's.
        let mut reach = (1, 1);
        let (mut a, window) = loop {
            let window = Window::around_target(sentence, &spans, &others, long_bytes, reach, &self.breaks);
            let a = self.token_ids(&self.mark(window.text, &window.spans, &window.others))?;
            if window.holds(a.len(), self.kept_from(&a, budget), budget) {
                break (a, window);
            }
            // An edge cut inside a word stays where it is: moving it out
            // would tokenize more of that word, however long.
            if window.open_before() {
                reach.0 = reach.0.saturating_mul(WINDOW_GROWTH);
            }
            if window.open_after() {
                reach.1 = reach.1.saturating_mul(WINDOW_GROWTH);
            }
        };
        let truncated = a.len() > budget || window.forced();
        if a.len() > budget {
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
        let encoded = Encoded {
            ids,
            type_ids,
            truncated,
        };
        Ok((encoded, window.text))
    }

    /// Where the `budget` tokens of the marked sentence `a` that the model reads
    /// begin when `a` is longer: a quarter of the budget before the first
    /// target marker, so the target stays in view.
    fn kept_from(&self, a: &[i64], budget: usize) -> usize {
        let marker = a.iter().position(|&id| id == self.open_id).unwrap_or(0);
        marker.saturating_sub(budget / 4).min(a.len().saturating_sub(budget))
    }

    /// The last tokens of `context` that fit after `used` tokens: at most
    /// `context_tokens`, leaving one for the closing separator. They are
    /// tokenized from a tail of `context` cut at a token boundary, so they are
    /// its last tokens, unless no boundary lies within `BREAK_SEARCH_BYTES`
    /// of the cut (see `LONG_SENTENCE_BYTES` for what that changes).
    fn context_ids(&self, context: &str, used: usize) -> Result<Vec<i64>> {
        let room = self.context_tokens.min(self.max_length.saturating_sub(used + 1));
        if room == 0 || context.is_empty() {
            return Ok(Vec::new());
        }
        let mut reach = (room + 1) * CONTEXT_BYTES_PER_TOKEN;
        let mut ids = loop {
            let cut = match context.len().checked_sub(reach) {
                Some(at) => self.breaks.cut_before(context, at),
                None => Cut::NONE,
            };
            let ids = self.token_ids(&self.specials.defuse(&context[cut.at..]))?;
            if cut.at == 0 || cut.forced || ids.len() >= room {
                break ids;
            }
            reach = reach.saturating_mul(WINDOW_GROWTH);
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
            out.push_str(&self.specials.defuse(&sentence[pos..span.start]));
            out.push_str(open);
            out.push_str(&self.specials.defuse(span.slice(sentence)));
            out.push_str(close);
            pos = span.end;
        }
        out.push_str(&self.specials.defuse(&sentence[pos..]));
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
    /// The window's start, its end, is cut inside a word (no token boundary
    /// near it).
    forced_before: bool,
    forced_after: bool,
}

impl<'a> Window<'a> {
    /// The window of a sentence longer than `long_bytes`, its start and end
    /// `reach` (before, after) times as far from the target as the first
    /// window's, with edges at token boundaries where `breaks` finds one near
    /// them. The same reach gives the same edge.
    fn around_target(
        sentence: &'a str,
        spans: &[Span],
        others: &[Span],
        long_bytes: usize,
        reach: (usize, usize),
        breaks: &Breaks,
    ) -> Self {
        let first = spans[0];
        let long = sentence.len() > long_bytes;
        let start = match first.start.checked_sub(WINDOW_BEFORE_BYTES.saturating_mul(reach.0)) {
            Some(at) if long && at > 0 => breaks.cut_before(sentence, at),
            _ => Cut::NONE,
        };
        let end = match first.end.checked_add(WINDOW_AFTER_BYTES.saturating_mul(reach.1)) {
            Some(at) if long && at < sentence.len() => breaks.cut_after(sentence, at),
            _ => Cut {
                at: sentence.len(),
                forced: false,
            },
        };
        let shift = |spans: &[Span]| -> Vec<Span> {
            spans
                .iter()
                .filter(|s| s.start >= start.at && s.end <= end.at)
                .map(|s| Span::new(s.start - start.at, s.end - start.at))
                .collect()
        };
        Window {
            text: &sentence[start.at..end.at],
            spans: shift(spans),
            others: shift(others),
            cut_before: start.at > 0,
            cut_after: end.at < sentence.len(),
            forced_before: start.forced,
            forced_after: end.forced,
        }
    }

    /// Whether an edge is cut inside a word: the text past it is not read.
    fn forced(&self) -> bool {
        self.forced_before || self.forced_after
    }

    /// Whether the start is cut at a token boundary, so moving it out could
    /// give the model more to read.
    fn open_before(&self) -> bool {
        self.cut_before && !self.forced_before
    }

    /// Whether the end is cut at a token boundary, as `open_before`.
    fn open_after(&self) -> bool {
        self.cut_after && !self.forced_after
    }

    /// Whether moving the window's open edges (those cut at a token
    /// boundary) out would not change what the model reads: the window holds
    /// more than `budget` tokens, and neither an open edge nor the clamp at
    /// one moves the `budget` from `kept_from` that the model reads. Unless an
    /// edge is cut inside a word, those are then every token the model reads
    /// of the whole sentence, at the same place relative to the target. An
    /// edge cut inside a word is not counted: the window never moves past it.
    fn holds(&self, tokens: usize, kept_from: usize, budget: usize) -> bool {
        let (before, after) = (self.open_before(), self.open_after());
        if !before && !after {
            return true;
        }
        tokens > budget
            && (!before || kept_from >= WINDOW_EDGE_TOKENS)
            && (!after || kept_from + budget + WINDOW_EDGE_TOKENS <= tokens)
    }
}

/// Where a text is cut: a byte offset, and whether it lies inside a word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Cut {
    at: usize,
    forced: bool,
}

impl Cut {
    /// No cut before a text's start (or, with `at` set to its length, after its end).
    const NONE: Cut = Cut { at: 0, forced: false };
}

/// Token boundaries of a tokenizer: points of a text where it always ends a
/// word, whatever surrounds them, so that text cut there tokenizes on each
/// side of the cut as it does whole.
struct Breaks {
    /// BERT's pre-tokenizer, which splits at every Unicode space and around
    /// every punctuation character; other tokenizers are cut at ASCII blanks.
    bert: bool,
    /// BERT's normalizer puts spaces around CJK ideographs.
    cjk: bool,
    /// The tokenizer's added tokens (`[UNK]`, the markers...), ASCII
    /// lowercase, with whether their match depends on what is next to them
    /// (`single_word`, `lstrip`, `rstrip`). They are found in the text before
    /// it is split into words, so a cut may not fall inside one, nor, for
    /// those, next to one.
    added: Vec<(String, bool)>,
    /// Those of them matched in the normalized text (`normalized: true`, as
    /// `<unk>` is in MPNet's tokenizer), in their normalized form, and the
    /// normalizer: such a token is also found where the text only becomes
    /// it when normalized (`<U\u{200b}NK>`, `<ünk>`).
    normalized: Vec<(String, bool)>,
    normalizer: Option<NormalizerWrapper>,
}

impl Breaks {
    fn new(tokenizer: &Tokenizer) -> Self {
        use tokenizers::pre_tokenizers::PreTokenizerWrapper;
        let bert_words = matches!(
            tokenizer.get_pre_tokenizer(),
            Some(PreTokenizerWrapper::BertPreTokenizer(_))
        );
        // BERT's normalizer only deletes control characters (spaces among them
        // are no boundary below) and maps the other spaces to " "; another
        // normalizer could join what the pre-tokenizer would split.
        let (bert, cjk) = match tokenizer.get_normalizer() {
            _ if !bert_words => (false, false),
            None => (true, false),
            Some(NormalizerWrapper::BertNormalizer(n)) => (true, n.handle_chinese_chars),
            Some(_) => (false, false),
        };
        let tokens: Vec<_> = tokenizer
            .get_added_tokens_decoder()
            .into_values()
            .filter(|t| !t.content.is_empty())
            .collect();
        let added = tokens
            .iter()
            .map(|t| (t.content.to_ascii_lowercase(), t.single_word || t.lstrip || t.rstrip))
            .collect();
        let normalizer = tokenizer.get_normalizer().cloned();
        // Normalized as the tokenizer normalizes them to find them; one whose
        // normalized form cannot be had is left to the raw comparison.
        let normalized = match &normalizer {
            None => Vec::new(),
            Some(n) => tokens
                .iter()
                .filter(|t| t.normalized)
                .filter_map(|t| {
                    let content = normalize(n, &t.content)?;
                    (!content.is_empty()).then_some((content, t.single_word || t.lstrip || t.rstrip))
                })
                .collect(),
        };
        Breaks {
            bert,
            cjk,
            added,
            normalized,
            normalizer,
        }
    }

    /// Whether `at`, a character boundary of `text`, is a token boundary
    /// inside it.
    fn splits_at(&self, text: &str, at: usize) -> bool {
        let (Some(before), Some(after)) = (text[..at].chars().next_back(), text[at..].chars().next()) else {
            return false;
        };
        // Only before a blank for other tokenizers: a byte-level BPE reads a
        // word with the space before it.
        let splits = if self.bert {
            self.separates(before) || self.separates(after)
        } else {
            is_ascii_blank(after)
        };
        splits && !self.in_added_token(text, at) && !self.in_normalized_token(text, at)
    }

    /// A character BERT reads as a word of its own, or not at all.
    fn separates(&self, c: char) -> bool {
        // BERT's normalizer deletes control characters, spaces among them (a
        // form feed), joining the words around them; it keeps tabs and line breaks.
        is_ascii_blank(c)
            || (c.is_whitespace() && !c.is_control())
            || c.is_ascii_punctuation()
            || is_unicode_punctuation(c)
            || (self.cjk && is_cjk_ideograph(c))
    }

    /// Whether `at` lies inside an added token as the text has it (ASCII
    /// case aside), or next to one of those whose match depends on that.
    fn in_added_token(&self, text: &str, at: usize) -> bool {
        self.added.iter().any(|(token, beside)| {
            (at.saturating_sub(token.len())..=at).any(|from| {
                let inside = from < at && at < from + token.len();
                (inside || *beside)
                    && text
                        .get(from..from + token.len())
                        .is_some_and(|found| found.eq_ignore_ascii_case(token))
            })
        })
    }

    /// Whether an added token matched in the normalized text (`normalized`)
    /// could span `at`: whether its normalized form splits into a head and a
    /// tail, neither empty (either may be, for one whose match depends on what
    /// is next to it), such that the text before `at` normalizes to something
    /// ending in the head and the text after it to something starting with
    /// the tail. Only `NORMALIZED_NEAR_BYTES` on each side are normalized;
    /// where those normalize to less than the head (the tail) and all of it
    /// matches, the rest is taken to lie past them, so the answer errs only
    /// towards yes. Thus, for a normalizer that normalizes each character on
    /// its own, as BERT's does (it deletes control and format characters such
    /// as U+200B, strips accents and lowercases), no cut falls inside a
    /// stretch of text, however long, that normalizes to such a token, nor,
    /// for one whose match depends on what is next to it, at either end of
    /// one. A cut refused for a match that is not there moves to another
    /// token boundary nearby.
    fn in_normalized_token(&self, text: &str, at: usize) -> bool {
        let Some(normalizer) = self.normalizer.as_ref().filter(|_| !self.normalized.is_empty()) else {
            return false;
        };
        let lo = text.floor_char_boundary(at.saturating_sub(NORMALIZED_NEAR_BYTES));
        let hi = text.ceil_char_boundary(at.saturating_add(NORMALIZED_NEAR_BYTES).min(text.len()));
        let (Some(before), Some(after)) = (
            normalize(normalizer, &text[lo..at]),
            normalize(normalizer, &text[at..hi]),
        ) else {
            return true;
        };
        self.normalized.iter().any(|(token, beside)| {
            let splits = token.char_indices().map(|(i, _)| i).chain([token.len()]);
            splits.filter(|&k| *beside || (k > 0 && k < token.len())).any(|k| {
                let (head, tail) = token.split_at(k);
                (before.ends_with(head) || (lo > 0 && head.ends_with(before.as_str())))
                    && (after.starts_with(tail) || (hi < text.len() && tail.starts_with(after.as_str())))
            })
        })
    }

    /// The start of a window reaching back to `at`: the nearest token
    /// boundary at or before it, if one is within `BREAK_SEARCH_BYTES`, else a
    /// character boundary about that far back, inside a word (forced).
    fn cut_before(&self, text: &str, at: usize) -> Cut {
        let limit = at.saturating_sub(BREAK_SEARCH_BYTES);
        let mut i = text.floor_char_boundary(at);
        loop {
            if i == 0 || self.splits_at(text, i) {
                return Cut { at: i, forced: false };
            }
            if i <= limit {
                return Cut { at: i, forced: true };
            }
            i = text.floor_char_boundary(i - 1);
        }
    }

    /// The end of a window reaching to `at`, as `cut_before` finds its start.
    fn cut_after(&self, text: &str, at: usize) -> Cut {
        let limit = at.saturating_add(BREAK_SEARCH_BYTES);
        let mut i = text.ceil_char_boundary(at);
        loop {
            if i == text.len() || self.splits_at(text, i) {
                return Cut { at: i, forced: false };
            }
            if i >= limit {
                return Cut { at: i, forced: true };
            }
            i = text.ceil_char_boundary(i + 1);
        }
    }
}

/// `text` as `normalizer` leaves it (`None` if it fails).
fn normalize(normalizer: &NormalizerWrapper, text: &str) -> Option<String> {
    let mut normalized = NormalizedString::from(text);
    normalizer.normalize(&mut normalized).ok()?;
    Some(normalized.get().to_string())
}

/// A space, tab or line break: where every tokenizer we know splits words.
fn is_ascii_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// Common punctuation outside ASCII (Latin-1, Arabic, Devanagari, general,
/// CJK and full-width punctuation): characters of Unicode's punctuation
/// categories, which BERT's pre-tokenizer splits at. A subset is enough: one
/// left out only moves a cut to another boundary nearby, where a character
/// that is not punctuation would put it inside a word.
fn is_unicode_punctuation(c: char) -> bool {
    matches!(c,
        '\u{a1}' | '\u{a7}' | '\u{ab}' | '\u{b6}' | '\u{b7}' | '\u{bb}' | '\u{bf}'
        | '\u{60c}' | '\u{61b}' | '\u{61f}' | '\u{66a}'..='\u{66d}' | '\u{6d4}'
        | '\u{964}' | '\u{965}' | '\u{970}'
        | '\u{2010}'..='\u{2027}' | '\u{2030}'..='\u{2043}' | '\u{2045}'..='\u{2051}' | '\u{2053}'..='\u{205e}'
        | '\u{3001}'..='\u{3003}' | '\u{3008}'..='\u{3011}' | '\u{3014}'..='\u{301f}' | '\u{30fb}'
        | '\u{ff01}'..='\u{ff03}' | '\u{ff05}'..='\u{ff0a}' | '\u{ff0c}'..='\u{ff0f}' | '\u{ff1a}' | '\u{ff1b}'
        | '\u{ff1f}' | '\u{ff20}' | '\u{ff3b}'..='\u{ff3d}' | '\u{ff3f}' | '\u{ff5b}' | '\u{ff5d}'
        | '\u{ff5f}'..='\u{ff65}')
}

/// The CJK ideographs BERT's normalizer puts spaces around (its `is_chinese_char`).
fn is_cjk_ideograph(c: char) -> bool {
    matches!(u32::from(c),
        0x4E00..=0x9FFF
        | 0x3400..=0x4DBF
        | 0x20000..=0x2A6DF
        | 0x2A700..=0x2B73F
        | 0x2B740..=0x2B81F
        | 0x2B920..=0x2CEAF
        | 0xF900..=0xFAFF
        | 0x2F800..=0x2FA1F)
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
    fn special_token_ids_outside_the_vocabulary_are_refused() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut bundle = crate::model::ModelBundle::from_dir(&root.join("tests/data/tiny-model")).unwrap();
        bundle.config.tokens.pad = 99_999_999;
        let error = Encoder::new(&bundle.tokenizer_json, &bundle.config, &bundle.origin)
            .err()
            .unwrap()
            .to_string();
        assert!(
            error.contains("config.json")
                && error.contains("tokens.pad is 99999999, past the tokenizer's largest token id"),
            "{error}"
        );
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
        // Text without ASCII spaces too: CJK ideographs, words joined by other spaces.
        for (word, joint) in [("中", ""), ("déclarèrent", "\u{a0}"), ("delegates", "\u{3000}")] {
            let text = |n: usize| format!("{}{ending}", vec![word; n].join(joint));
            let from_long = encoder.encode(sentence, &spans, &[], &text(40_000)).unwrap();
            assert_eq!(from_long, encoder.encode(sentence, &spans, &[], &text(60)).unwrap());
            assert_eq!(from_long.len(), alone.len() + 48 + 1);
        }
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
    fn control_tokens_spelled_in_the_text_are_read_as_words() {
        let encoder = tiny_encoder(0);
        let specials = &encoder.specials;
        assert_eq!(specials.defuse("no brackets here"), "no brackets here");
        assert_eq!(specials.defuse("a [TGT]b[/TGT] [sep]"), "a [ TGT]b[ /TGT] [ sep]");
        // Read as words, as the tokenizer reads a spelling it has no control token for
        // (its added tokens match their exact case).
        let ids = |text: &str| encoder.token_ids(text).unwrap();
        assert_eq!(ids(&specials.defuse("[CLS] China [TGT]")), ids("[cls] China [tgt]"));
        assert!(!ids(&specials.defuse("[TGT] [SEP] [CLS]")).contains(&encoder.open_id));
        assert!(ids("[TGT]").contains(&encoder.open_id));
    }

    #[test]
    fn a_long_sentence_of_long_words_encodes_as_the_whole_sentence() {
        // A word of more than 100 letters is one unknown token, however long, as a
        // snowman (U+2603, not in the vocabulary) is: a sentence of such words far past
        // the byte window gives the model what the same sentence of snowmen, within the
        // window, gives it.
        let encoder = tiny_encoder(0);
        let long_word = "x".repeat(150);
        for (before, after) in [(0, 81), (0, 200), (100, 0), (200, 3), (70, 70), (5, 300), (300, 300)] {
            let (long, long_span) = china_among(before, after, &long_word);
            let (short, short_span) = china_among(before, after, "\u{2603}");
            assert!(long.len() > LONG_SENTENCE_BYTES && short.len() <= LONG_SENTENCE_BYTES);
            let from_long = encoder.encode(&long, &[long_span], &[], "").unwrap();
            let from_short = encoder.encode(&short, &[short_span], &[], "").unwrap();
            assert_eq!(from_long, from_short, "{before} words before, {after} after");
        }
    }

    /// Where `part`, a slice of `whole`, starts in it.
    fn offset_in(whole: &str, part: &str) -> usize {
        part.as_ptr() as usize - whole.as_ptr() as usize
    }

    #[test]
    fn long_sentence_window_keeps_the_target() {
        let encoder = tiny_encoder(0);
        let filler = "word ".repeat(5_000);
        let s = format!("{filler}China acted.{filler}");
        let at = filler.len();
        let window = Window::around_target(
            &s,
            &[Span::new(at, at + 5)],
            &[],
            LONG_SENTENCE_BYTES,
            (1, 1),
            &encoder.breaks,
        );
        assert!(window.text.len() < s.len() && window.cut_before && window.cut_after && !window.forced());
        assert_eq!(window.spans[0].slice(window.text), "China");
        // Between words: each edge is next to a space.
        let (start, end) = (
            offset_in(&s, window.text),
            offset_in(&s, window.text) + window.text.len(),
        );
        assert!(s[..start].ends_with(' ') || s[start..].starts_with(' '), "{start}");
        assert!(s[..end].ends_with(' ') || s[end..].starts_with(' '), "{end}");
    }

    /// The encoding of `sentence` (target at `span`) from its window, the
    /// whole sentence's, and the window.
    fn windowed_and_whole<'s>(encoder: &Encoder, sentence: &'s str, span: Span) -> (Encoded, Encoded, &'s str) {
        let (windowed, window) = encoder
            .encode_within(sentence, &[span], &[], "", LONG_SENTENCE_BYTES)
            .unwrap();
        let (whole, all) = encoder.encode_within(sentence, &[span], &[], "", usize::MAX).unwrap();
        assert_eq!(all.len(), sentence.len());
        (windowed, whole, window)
    }

    /// Whether both edges of `window`, a slice of `sentence`, are token boundaries (or its ends).
    fn cut_between_tokens(encoder: &Encoder, sentence: &str, window: &str) -> bool {
        let start = offset_in(sentence, window);
        let end = start + window.len();
        (start == 0 || encoder.breaks.splits_at(sentence, start))
            && (end == sentence.len() || encoder.breaks.splits_at(sentence, end))
    }

    /// `n` deterministic CJK ideographs.
    fn ideographs(n: usize, seed: u32) -> String {
        (0..n as u32)
            .map(|i| char::from_u32(0x4E00 + (i * 7_919 + seed) % 20_000).unwrap())
            .collect()
    }

    #[test]
    fn a_long_sentence_without_ascii_spaces_is_read_from_a_window_as_whole() {
        let encoder = tiny_encoder(0);
        let words = |joint: &str, n: usize| -> String {
            let vocabulary = ["talks", "déclarèrent", "border", "trade", "x", "région", "officials"];
            (0..n).map(|i| vocabulary[i * 5 % 7]).collect::<Vec<_>>().join(joint)
        };
        let punctuation: String = (0..30_000)
            .map(|i| [',', ';', '-', '(', ')', '/', '«', '»'][i * 3 % 8])
            .collect();
        let specials = "x[UNK]y[MASK]-[SEP]z".repeat(2_000);
        let cases = [
            ("ASCII spaces", words(" ", 5_000), " "),
            ("no-break spaces", words("\u{a0}", 5_000), "\u{a0}"),
            ("ideographic spaces", words("\u{3000}", 5_000), "\u{3000}"),
            (
                "thin spaces and line separators",
                words("\u{2009}\u{2028}", 5_000),
                "\u{2009}",
            ),
            ("hyphens", words("-", 5_000), "-"),
            ("CJK ideographs", ideographs(12_000, 1), "，"),
            ("punctuation", punctuation, "，"),
            ("added tokens", specials, ""),
        ];
        for (name, filler, joint) in &cases {
            for cut in [filler.len() / 40, filler.len() / 2, filler.len() - filler.len() / 40] {
                let cut = filler.floor_char_boundary(cut);
                let (before, after) = filler.split_at(cut);
                let sentence = format!("{before}{joint}China{joint}{after}");
                let at = before.len() + joint.len();
                let (windowed, whole, window) = windowed_and_whole(&encoder, &sentence, Span::new(at, at + 5));
                assert!(
                    window.len() < sentence.len() / 2,
                    "{name}, target at {at}: {} bytes of {} tokenized",
                    window.len(),
                    sentence.len()
                );
                assert!(
                    cut_between_tokens(&encoder, &sentence, window),
                    "{name}, target at {at}"
                );
                assert_eq!(windowed, whole, "{name}, target at {at}");
                assert!(windowed.truncated && windowed.len() == 128, "{name}");
            }
        }
    }

    #[test]
    fn a_window_without_a_boundary_near_its_edge_is_cut_inside_a_word_and_flagged_truncated() {
        let encoder = tiny_encoder(0);
        // One word on each side: read whole or cut, it is one unknown token,
        // but what lies past a cut inside a word is not looked at.
        let word = "x".repeat(30_000);
        let sentence = format!("{word}，China，{word}");
        let at = word.len() + "，".len();
        let span = Span::new(at, at + 5);
        let window = Window::around_target(&sentence, &[span], &[], LONG_SENTENCE_BYTES, (1, 1), &encoder.breaks);
        assert!(window.forced_before && window.forced_after && window.cut_before && window.cut_after);
        assert!(window.text.len() <= WINDOW_BEFORE_BYTES + WINDOW_AFTER_BYTES + 2 * BREAK_SEARCH_BYTES + 20);
        let (windowed, whole, tokenized) = windowed_and_whole(&encoder, &sentence, span);
        assert_eq!(tokenized, window.text);
        assert_eq!(windowed.ids, whole.ids);
        assert_eq!(windowed.type_ids, whole.type_ids);
        assert_eq!(windowed.len(), 1 + 7 + 1 + 1 + 1);
        assert!(windowed.truncated && !whole.truncated);
        // What lies beyond such a word is not read, though the whole sentence
        // gives it: the model reads fewer tokens, and is told so.
        let sentence = format!("China said {word} and then the talks went on for a while");
        let (windowed, whole, tokenized) = windowed_and_whole(&encoder, &sentence, Span::new(0, 5));
        assert!(tokenized.len() < sentence.len() / 2);
        assert_eq!(windowed.len() + 9, whole.len());
        assert_eq!(windowed.ids[..6], whole.ids[..6]);
        assert!(windowed.truncated && !whole.truncated);
    }

    /// The marked sentence's ids of `encoded` before the target's first
    /// marker, and from it on.
    fn around_marker<'e>(encoder: &Encoder, encoded: &'e Encoded) -> (&'e [i64], &'e [i64]) {
        let marker = encoded.ids.iter().position(|&id| id == encoder.open_id).unwrap();
        let sep = encoded.ids.iter().position(|&id| id == encoder.sep).unwrap();
        (&encoded.ids[1..marker], &encoded.ids[marker..sep])
    }

    #[test]
    fn a_window_cut_inside_a_word_on_one_side_is_widened_on_the_other() {
        // Words of 150 letters (one unknown token each) between known ones,
        // so that a window's few kilobytes hold few tokens.
        let encoder = tiny_encoder(0);
        let words = |n: usize, seed: usize| -> String {
            let known = ["talks", "border", "trade", "officials", "region", "minister", "water"];
            let long = "y".repeat(150);
            (0..n)
                .map(|i| if i % 2 == 0 { known[(i / 2 + seed) % 7] } else { &long })
                .collect::<Vec<_>>()
                .join(" ")
        };
        let giant = "x".repeat(20_000);
        // The start falls inside a 20 KB word: the window keeps its part of it
        // and no more, and reaches as far after the target as it takes.
        let before = format!("{} {giant} ", words(60, 0));
        let sentence = format!("{before}China {}", words(1_200, 3));
        let span = Span::new(before.len(), before.len() + 5);
        let (windowed, whole, window) = windowed_and_whole(&encoder, &sentence, span);
        let start = offset_in(&sentence, window);
        assert!(
            start > 60 * 100 && start < before.len() - WINDOW_BEFORE_BYTES,
            "{start}"
        );
        assert!(window.len() > WINDOW_BEFORE_BYTES + WINDOW_AFTER_BYTES + 2 * BREAK_SEARCH_BYTES);
        assert!(window.len() < sentence.len() / 2);
        assert_eq!((windowed.len(), whole.len()), (128, 128));
        let ((w_before, w_after), (before_ids, after_ids)) =
            (around_marker(&encoder, &windowed), around_marker(&encoder, &whole));
        // Before the target, only the unknown token of the cut word; after
        // it, what the whole sentence gives and more, as its start is not read.
        assert_eq!(w_before, [100]);
        assert!(before_ids.len() > 20 && before_ids.ends_with(&[100]));
        assert!(w_after.len() > after_ids.len() && w_after.starts_with(after_ids));
        assert!(windowed.truncated && whole.truncated);
        // The same with the word after the target: the start is moved back.
        let after = format!(" {giant} {}", words(20, 1));
        let sentence = format!("{}China{after}", words(1_000, 2));
        let at = sentence.len() - after.len() - 5;
        let (windowed, whole, window) = windowed_and_whole(&encoder, &sentence, Span::new(at, at + 5));
        let end = offset_in(&sentence, window) + window.len();
        assert!(end > at + WINDOW_AFTER_BYTES && end < at + giant.len(), "{end}");
        assert!(at - offset_in(&sentence, window) >= WINDOW_GROWTH * WINDOW_BEFORE_BYTES);
        assert!(window.len() < sentence.len() / 2);
        assert_eq!((windowed.len(), whole.len()), (128, 128));
        let ((w_before, w_after), (before_ids, after_ids)) =
            (around_marker(&encoder, &windowed), around_marker(&encoder, &whole));
        assert!(w_before.len() > before_ids.len() && w_before.ends_with(before_ids));
        assert!(after_ids.len() > w_after.len() && after_ids.starts_with(w_after));
        assert_eq!(w_after[w_after.len() - 1], 100);
        assert!(windowed.truncated && whole.truncated);
    }

    #[test]
    fn a_window_is_widened_until_it_holds_what_the_model_reads() {
        // Long words (one token each) around the target, many short ones further on.
        let encoder = tiny_encoder(0);
        let long_words = vec!["x".repeat(150); 150].join(" ");
        let short_words = ideographs(30_000, 7);
        let sentence = format!("{short_words} {long_words} China {long_words} {short_words}");
        let at = sentence.find("China").unwrap();
        let (windowed, whole, window) = windowed_and_whole(&encoder, &sentence, Span::new(at, at + 5));
        assert_eq!(windowed, whole);
        assert!(window.len() > LONG_SENTENCE_BYTES && window.len() < sentence.len() / 2);
        assert!(cut_between_tokens(&encoder, &sentence, window));
    }

    /// An encoder with the tokenizer of models/stance-mid and stance-base:
    /// MPNet's, BERT's normalizer and pre-tokenizer with `<unk>` matched
    /// after normalization.
    fn mid_encoder() -> Encoder {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let bundle = crate::model::ModelBundle::from_dir(&root.join("tests/data/tiny-model-two-inputs")).unwrap();
        let tokenizer = std::fs::read(root.join("models/stance-mid/tokenizer.json")).unwrap();
        Encoder::new(&tokenizer, &bundle.config, &bundle.origin).unwrap()
    }

    /// Checks that `text` cut at each of its token boundaries tokenizes as
    /// it does whole; gives those boundaries.
    fn cuts_keep_the_ids(encoder: &Encoder, text: &str) -> Vec<usize> {
        let ids = |text: &str| encoder.token_ids(text).unwrap();
        let whole = ids(text);
        let cuts: Vec<usize> = (0..=text.len())
            .filter(|&at| text.is_char_boundary(at) && encoder.breaks.splits_at(text, at))
            .collect();
        for &at in &cuts {
            assert_eq!(
                [ids(&text[..at]), ids(&text[at..])].concat(),
                whole,
                "{text:?} cut at {at}"
            );
        }
        cuts
    }

    #[test]
    fn cuts_leave_every_token_as_the_whole_text_has_it() {
        for encoder in [tiny_encoder(0), mid_encoder()] {
            let breaks = &encoder.breaks;
            assert!(breaks.bert && breaks.cjk);
            let ids = |text: &str| encoder.token_ids(text).unwrap();
            let mut separators = 0;
            for c in (0..=0x10_FFFF).filter_map(char::from_u32) {
                // Every 97th ideograph: all of them would take long unoptimized.
                if !breaks.separates(c) || (is_cjk_ideograph(c) && u32::from(c) % 97 != 0) {
                    continue;
                }
                let text = format!("ab{c}cd");
                for at in [2, 2 + c.len_utf8()] {
                    assert!(breaks.splits_at(&text, at), "{c:?}");
                }
                assert_eq!(cuts_keep_the_ids(&encoder, &text), [2, 2 + c.len_utf8()], "{c:?}");
                separators += 1;
            }
            assert!(separators > 1_000, "{separators}");
            // A form feed is deleted, joining the words around it; a cut inside
            // an added token would read its pieces as text.
            let text = "ab\u{c}cd [UNK]";
            assert_ne!([ids("ab"), ids("\u{c}cd")].concat(), ids("ab\u{c}cd"));
            assert!(!breaks.splits_at(text, 2) && !breaks.splits_at(text, 3));
            assert!(breaks.splits_at(text, 5) && breaks.splits_at(text, 6));
            assert!((7..text.len()).all(|at| !breaks.splits_at(text, at)));
            assert!(!breaks.splits_at(text, 0) && !breaks.splits_at(text, text.len()));
            // MPNet's `<mask>` is matched with the spaces before it (`lstrip`):
            // not cut next to it either, nor, ASCII case aside, next to `<MASK>`.
            let cuts = cuts_keep_the_ids(&encoder, "a <MASK>, b<mask>c [TGT]d");
            if breaks.added.contains(&("<mask>".to_string(), true)) {
                assert_eq!(cuts, [1, 9, 10, 18, 19, 24]);
            } else {
                assert_eq!(cuts, [1, 2, 3, 7, 8, 9, 10, 11, 12, 16, 17, 18, 19, 24]);
            }
        }
    }

    #[test]
    fn cuts_leave_whole_an_added_token_matched_after_normalization() {
        let encoder = mid_encoder();
        let breaks = &encoder.breaks;
        assert_eq!(breaks.normalized, [("<unk>".to_string(), false)]);
        let ids = |text: &str| encoder.token_ids(text).unwrap();
        let unk = 3;
        // The tokenizer of stance-mini has no such token.
        let mini = tiny_encoder(0);
        assert!(mini.breaks.normalized.is_empty());
        // Characters the normalizer deletes (a zero-width space, combining
        // accents, however many) or folds (case, accents).
        let zero_widths = format!("<{}u{}nk>", "\u{200b}".repeat(100), "\u{200b}".repeat(100));
        let odd = [
            "<UNK>",
            "<U\u{200b}NK>",
            "<\u{200b}unk>",
            "<ünk>",
            "<u\u{308}nk>",
            "<unk\u{301}>",
            "<Ùñķ>",
            &zero_widths,
        ];
        for token in odd {
            for text in [format!("a {token} b"), format!("a,{token}.b"), token.to_string()] {
                let whole = ids(&text);
                assert_eq!(whole.iter().filter(|&&id| id == unk).count(), 1, "{text:?}: {whole:?}");
                // Cut after `<` or before `>`, the pieces would be read as text.
                let (open, close) = (text.find('<').unwrap(), text.find('>').unwrap());
                for at in [open + 1, close] {
                    assert!(!breaks.splits_at(&text, at), "{text:?} at {at}");
                    assert_ne!([ids(&text[..at]), ids(&text[at..])].concat(), whole, "{text:?} at {at}");
                }
                // It is cut next to the token, and nowhere inside it.
                assert!(open == 0 || breaks.splits_at(&text, open), "{text:?}");
                assert!(
                    close + 1 == text.len() || breaks.splits_at(&text, close + 1),
                    "{text:?}"
                );
                let mut inside = ((open + 1)..=close).filter(|&at| text.is_char_boundary(at));
                assert!(inside.all(|at| !breaks.splits_at(&text, at)), "{text:?}");
                cuts_keep_the_ids(&encoder, &text);
                // Without it, the text is cut there.
                let mini_cuts = cuts_keep_the_ids(&mini, &text);
                assert!(
                    mini_cuts.contains(&(open + 1)) && mini_cuts.contains(&close),
                    "{text:?}"
                );
            }
        }
    }

    #[test]
    fn a_cut_is_looked_for_near_its_point_only() {
        let encoder = tiny_encoder(0);
        let breaks = &encoder.breaks;
        let text = format!("{} {}", "x".repeat(3_000), "中".repeat(1_000));
        let forward = |at| breaks.cut_after(&text, at);
        assert_eq!(
            forward(2_500),
            Cut {
                at: 3_000,
                forced: false
            }
        );
        assert_eq!(
            forward(3_004),
            Cut {
                at: 3_004,
                forced: false
            }
        );
        assert_eq!(
            breaks.cut_before(&text, 3_005),
            Cut {
                at: 3_004,
                forced: false
            }
        );
        assert_eq!(
            breaks.cut_before(&text, 2_900),
            Cut {
                at: 2_900 - BREAK_SEARCH_BYTES,
                forced: true
            }
        );
        assert_eq!(breaks.cut_before(&text, 900), Cut { at: 0, forced: false });
        let forced = forward(100);
        assert_eq!(
            forced,
            Cut {
                at: 100 + BREAK_SEARCH_BYTES,
                forced: true
            }
        );
        assert_eq!(
            breaks.cut_after(&text, text.len() - 2),
            Cut {
                at: text.len(),
                forced: false
            }
        );
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
