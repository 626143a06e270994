//! Sentence segmentation for English op-ed and news text.
//!
//! [`split_sentences`] cuts text into sentences and returns their byte
//! [`Span`]s. It is a rule-based splitter tuned for the prose this crate
//! scores, where a wrong cut changes which actor a clause is attributed to:
//!
//! 1. **Blocks.** Blank lines (and U+2029, form feed) always end a sentence, as
//!    do single newlines that start a list item (`- `, `* `, `+ `, `• `, `1. `,
//!    `2) `), a quote line (`> `) or a Markdown heading (`# `). So a headline
//!    without final punctuation followed by a blank line is a sentence of its
//!    own. A numbered line other than `1.` starts an item only after a line that
//!    ends a sentence (or with a colon) or another item, since hard-wrapped text
//!    puts numbers at line starts ("on May\n10. India said"); a quote line
//!    continues a quote line that did not end its sentence. In text of one
//!    paragraph per line, as scraped pages hold it (more lines of prose over
//!    200 characters than lines of 60-80 that a hard wrap cut mid-sentence),
//!    every line break ends a sentence, so a headline or byline line stands
//!    alone. Otherwise other single newlines are hard wraps and count as
//!    spaces. List, quote and heading markers are not part of the sentence span.
//! 2. **Quotes and brackets.** Within a block, matched `“…”`, `"…"`, `«…»`,
//!    `(…)`, `[…]` and `{…}` are protected: a `.` inside them followed by more
//!    quoted text does not end the sentence. A sentence that ends with `."`,
//!    `.”` or `?)` ends after the closing mark. Unmatched marks protect nothing,
//!    so one stray quote cannot swallow a paragraph.
//! 3. **Terminators.** `!` and `?` end a sentence unless the next word starts
//!    in lowercase (`“Why?” he asked`) or a closing quote is followed by a
//!    speaker and a speech verb (`“Why?” Sharif asked`). `。`,
//!    `！`, `？` and the danda `।` always end one. Ellipses (`...`, `…`,
//!    `. . .`) never end one; a lone ` . ` does. A `.` ends one when followed by
//!    whitespace and a word that can start a sentence (capital letter, digit,
//!    opening quote), except after:
//!    * titles and other abbreviations that precede what they qualify
//!      (`Mr.`, `Dr.`, `Gen.`, `Sen.`, `St.`, `vs.`, `e.g.`, `i.e.`, `Jan.` …
//!      `Dec.`, `Sept.`, joined `Lt.Gen.`; capitalized `Rs.`, `Art.`, `Sec.`,
//!      `Wg.`, `Cdr.`, `Smt.`, `Adv.` of South Asian news) and `No.` (`art.`,
//!      `sec.`, `para.`) before a number;
//!    * abbreviations that may also close a sentence (`U.S.`, `U.K.`, `U.N.`,
//!      `E.U.`, `Jr.`, `Inc.`, `Corp.`, `Ltd.`, `Co.`, any dotted acronym):
//!      these end one only before a common sentence starter such as `The`,
//!      `But`, `It`, `He`, `We`, `A` (so `the U.S. Army` stays whole while
//!      `in the U.S. The next day` splits), or before any capital after a
//!      closing quote (`“… the U.S.” China`);
//!    * single-letter initials (`Narendra D. Modi`, `J. K. Rowling`), which end
//!      one only before a sentence starter of two or more letters;
//!    * `a.m.` / `p.m.` before a time zone (`5 p.m. EST`), `… time`, a weekday
//!      or a month (`6 p.m. Tuesday`), and `A.M.` / `P.M.` too, but `P.M.` with no
//!      number before it is read as an acronym (`India's P.M. Modi`).
//!
//!    Footnote markers right after a terminator (`rising.[12]`, `rising.¹`) stay
//!    with its sentence.
//!
//! Decimals (`3.5`), `U.S.-led` and URLs never split because a cut needs
//! whitespace after the terminator. Spans are trimmed of whitespace, never
//! empty, and pieces without any letter or digit (a stray `***` rule, a lone
//! `)`) are dropped. The splitter runs in linear time and never panics.

use serde::{Deserialize, Serialize};

/// Byte offsets `[start, end)` of a piece of text; always on char boundaries.
///
/// ```
/// use stance::Span;
/// let text = "Beijing said no.";
/// let span = Span::new(0, 7);
/// assert_eq!(span.slice(text), "Beijing");
/// assert_eq!(span.len(), 7);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Span {
    /// Byte offset of the first byte.
    pub start: usize,
    /// Byte offset one past the last byte.
    pub end: usize,
}

impl Span {
    /// A span from `start` (inclusive) to `end` (exclusive), in bytes.
    #[must_use]
    pub fn new(start: usize, end: usize) -> Self {
        Self { start, end }
    }

    /// Length in bytes (0 when `end <= start`).
    #[must_use]
    pub fn len(&self) -> usize {
        self.end.saturating_sub(self.start)
    }

    /// Whether the span covers no bytes.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The covered text, or `""` when the span is out of range or not on char
    /// boundaries of `text`. Never panics.
    #[must_use]
    pub fn slice<'a>(&self, text: &'a str) -> &'a str {
        text.get(self.start..self.end).unwrap_or("")
    }

    /// The same span moved `by` bytes to the right, for turning offsets
    /// relative to a sentence into offsets in its document.
    ///
    /// ```
    /// use stance::Span;
    /// assert_eq!(Span::new(2, 5).offset(10), Span::new(12, 15));
    /// ```
    #[must_use]
    pub fn offset(self, by: usize) -> Self {
        Self::new(self.start.saturating_add(by), self.end.saturating_add(by))
    }
}

/// Splits English op-ed / news text into sentences, spans trimmed of
/// surrounding whitespace, in order, never empty.
///
/// See the [module docs](crate::segment) for the rules.
///
/// ```
/// use stance::split_sentences;
/// let text = "Mr. Modi met U.S. officials on Jan. 5. The talks went well.";
/// let sentences: Vec<&str> = split_sentences(text).iter().map(|s| s.slice(text)).collect();
/// assert_eq!(sentences, ["Mr. Modi met U.S. officials on Jan. 5.", "The talks went well."]);
/// ```
#[must_use]
pub fn split_sentences(text: &str) -> Vec<Span> {
    let mut out = Vec::new();
    for block in blocks(text) {
        split_block(text, block, &mut out);
    }
    out
}

/// `text[start..end]`, or `""` where that would panic.
fn sub(text: &str, start: usize, end: usize) -> &str {
    text.get(start..end).unwrap_or("")
}

fn char_at(text: &str, at: usize) -> Option<char> {
    text.get(at..).and_then(|rest| rest.chars().next())
}

/// Whitespace for splitting and trimming; BOM and zero-width space included
/// because they arrive at the edges of scraped articles. A text of nothing else is empty.
pub(crate) fn is_space(c: char) -> bool {
    c.is_whitespace() || c == '\u{feff}' || c == '\u{200b}'
}

// ---------------------------------------------------------------- blocks ----

/// One line of input without its line terminator.
struct Line {
    start: usize,
    end: usize,
    /// The line ended in a paragraph separator (U+2029, form feed).
    paragraph_after: bool,
}

fn lines(text: &str) -> Vec<Line> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let paragraph_after = match c {
            '\n' | '\u{0b}' | '\u{85}' | '\u{2028}' => false,
            '\r' => {
                if let Some(&(_, '\n')) = chars.peek() {
                    chars.next();
                }
                false
            }
            '\u{0c}' | '\u{2029}' => true,
            _ => continue,
        };
        out.push(Line {
            start,
            end: i,
            paragraph_after,
        });
        start = chars.peek().map_or(text.len(), |&(next, _)| next);
    }
    out.push(Line {
        start,
        end: text.len(),
        paragraph_after: false,
    });
    out
}

/// Cuts the text at hard breaks: blank lines, list items, headings.
fn blocks(text: &str) -> Vec<Span> {
    let mut out = Vec::new();
    let mut current: Option<Span> = None;
    let mut after_heading = false;
    // What the line before was: a list item or quote line, and whether it ended a sentence.
    let mut previous = PreviousLine::default();
    let lines = lines(text);
    // Text with one paragraph per line (as scraped pages and many JSON exports hold it) has long
    // lines; hard-wrapped text has none. In the first, a headline, byline or subheading line
    // without final punctuation is no part of the paragraph below it.
    let paragraph_per_line = holds_a_paragraph_per_line(text, &lines);
    for line in lines {
        let content = sub(text, line.start, line.end).trim_start_matches(is_space);
        if content.trim_end_matches(is_space).is_empty() {
            out.extend(current.take());
            after_heading = false;
            previous = PreviousLine::default();
            continue;
        }
        let heading = is_heading(content);
        let item = list_marker_len(content).is_some() && opens_item(content, previous);
        if heading || after_heading || item {
            out.extend(current.take());
        }
        let block = current.get_or_insert(Span::new(line.start, line.end));
        block.end = line.end;
        after_heading = heading;
        previous = PreviousLine {
            item: item || (previous.item && !is_quote_line(content)),
            quote: is_quote_line(content),
            ended: ends_sentence(content) || heading,
        };
        if line.paragraph_after || paragraph_per_line {
            out.extend(current.take());
            previous = PreviousLine::default();
        }
    }
    out.extend(current);
    out
}

/// Characters of a line longer than hard-wrapped text makes its lines (72-80).
const LONG_LINE: usize = 200;

/// Whether `line` is a paragraph of prose on one line: over [`LONG_LINE`] characters, of words
/// (a long URL or a run of digits is no sign that the text is not hard-wrapped).
fn is_paragraph_line(line: &str) -> bool {
    line.len() > LONG_LINE
        && line.chars().count() > LONG_LINE
        && line.chars().filter(|&c| c == ' ').count() >= LONG_LINE / 10
}

/// Whether the text holds a paragraph per line: more paragraphs on one line than lines that a
/// hard wrap cut in the middle of a sentence (60 to 80 characters, as wrapping at 70-80 columns
/// leaves them, and no final punctuation). A wrapped article with one long note line stays wrapped.
fn holds_a_paragraph_per_line(text: &str, lines: &[Line]) -> bool {
    let (mut paragraphs, mut wrapped) = (0usize, 0usize);
    for line in lines {
        let content = sub(text, line.start, line.end).trim_matches(is_space);
        if is_paragraph_line(content) {
            paragraphs += 1;
        } else if (60..=320).contains(&content.len())
            && (60..=80).contains(&content.chars().count())
            && !ends_sentence(content)
        {
            wrapped += 1;
        }
    }
    paragraphs > wrapped
}

/// The line before, as far as whether the next line starts a list item: at the start of a
/// block (the default) anything that looks like one does.
#[derive(Clone, Copy)]
struct PreviousLine {
    /// A list item or a line of one.
    item: bool,
    /// A `> ` quote line.
    quote: bool,
    /// It ends with a terminator or a colon, or is a heading.
    ended: bool,
}

impl Default for PreviousLine {
    fn default() -> Self {
        Self {
            item: false,
            quote: false,
            ended: true,
        }
    }
}

/// Whether a line that starts with a list marker starts a list item rather than continuing the
/// line before. Hard-wrapped text puts numbers at the start of lines ("…a ceasefire on May\n10.
/// India said…"), so a numbered line other than `1.` starts an item only after a sentence's end
/// or another item. A `> ` quote line continues a quote line that did not end its sentence (a
/// wrapped quotation).
fn opens_item(content: &str, previous: PreviousLine) -> bool {
    if is_quote_line(content) {
        return !previous.quote || previous.ended;
    }
    let number = content.bytes().take_while(u8::is_ascii_digit).count();
    number == 0 || previous.ended || previous.item || content.get(..number) == Some("1")
}

fn is_quote_line(content: &str) -> bool {
    content.starts_with('>') && list_marker_len(content).is_some()
}

/// Whether a line ends a sentence or introduces what follows: a terminator or colon last,
/// possibly before closing quotes or brackets.
fn ends_sentence(content: &str) -> bool {
    content
        .trim_end_matches(is_space)
        .trim_end_matches(is_closer)
        .ends_with(['.', '!', '?', '…', ':', '。', '！', '？', '।'])
}

fn is_heading(line: &str) -> bool {
    let hashes = line.bytes().take_while(|&b| b == b'#').count();
    (1..=6).contains(&hashes) && line.get(hashes..).is_some_and(|r| r.starts_with([' ', '\t']))
}

/// Byte length of a list or heading marker and the spaces after it at the
/// start of `line`, if there is one.
fn list_marker_len(line: &str) -> Option<usize> {
    let mut chars = line.char_indices();
    let (_, first) = chars.next()?;
    let marker_end = match first {
        '-' | '*' | '+' | '•' | '‣' | '◦' | '▪' | '●' => first.len_utf8(),
        // A Markdown or e-mail quote, nested or not (`> `, `>> `).
        '>' => line.bytes().take_while(|&b| b == b'>').count(),
        '#' if is_heading(line) => line.bytes().take_while(|&b| b == b'#').count(),
        '0'..='9' => {
            // At most three digits, so a wrapped line starting with a year
            // ("1990. The ...") is not taken for a numbered item.
            let digits = line.bytes().take_while(u8::is_ascii_digit).count();
            let punct = line.as_bytes().get(digits).copied();
            if digits > 3 || !matches!(punct, Some(b'.' | b')')) {
                return None;
            }
            digits + 1
        }
        _ => return None,
    };
    let rest = line.get(marker_end..)?;
    if !rest.starts_with([' ', '\t']) {
        return None;
    }
    let spaces = rest.len() - rest.trim_start_matches([' ', '\t']).len();
    Some(marker_end + spaces)
}

// ------------------------------------------------- quotes and brackets ----

/// A matched opening (+1) or closing (-1) quote or bracket.
struct Event {
    at: usize,
    delta: i32,
    matched: bool,
}

fn closer_for(c: char) -> Option<char> {
    match c {
        '(' => Some(')'),
        '[' => Some(']'),
        '{' => Some('}'),
        '“' => Some('”'),
        '«' => Some('»'),
        _ => None,
    }
}

const PAIRED_CLOSERS: [char; 6] = [')', ']', '}', '”', '»', '"'];

/// Positions where matched quotes and brackets open and close in
/// `text[start..end]`, in order. Unmatched ones are left out.
fn pair_events(text: &str, start: usize, end: usize) -> Vec<Event> {
    let mut events: Vec<Event> = Vec::new();
    // (expected closer, index of the opening event)
    let mut stack: Vec<(char, usize)> = Vec::new();
    // How many openers waiting for each of PAIRED_CLOSERS are on the stack, so
    // an unmatched closer costs O(1) instead of a scan of the stack.
    let mut waiting = [0usize; PAIRED_CLOSERS.len()];
    let mut prev = None;
    for (off, c) in sub(text, start, end).char_indices() {
        let at = start + off;
        let slot = PAIRED_CLOSERS.iter().position(|&k| k == c);
        let straight_open = c == '"' && slot.and_then(|s| waiting.get(s)).copied() == Some(0) && can_open_quote(prev);
        if let Some(closer) = closer_for(c).or(straight_open.then_some('"')) {
            open(&mut events, &mut stack, &mut waiting, closer, at);
        } else if let Some(slot) = slot {
            close(&mut events, &mut stack, &mut waiting, slot, c, at);
        }
        prev = Some(c);
    }
    events.retain(|e| e.matched);
    events
}

/// A straight quote opens only at the start of a word: after a space, an
/// opening bracket or a dash. After a letter it is an inch mark, after
/// punctuation a stray closer whose opener lies in an earlier paragraph.
fn can_open_quote(prev: Option<char>) -> bool {
    prev.is_none_or(|p| is_space(p) || matches!(p, '(' | '[' | '{' | '“' | '‘' | '—' | '–' | '-' | '/'))
}

fn open(events: &mut Vec<Event>, stack: &mut Vec<(char, usize)>, waiting: &mut [usize], closer: char, at: usize) {
    if let Some(slot) = PAIRED_CLOSERS.iter().position(|&k| k == closer) {
        if let Some(n) = waiting.get_mut(slot) {
            *n += 1;
        }
    }
    stack.push((closer, events.len()));
    events.push(Event {
        at,
        delta: 1,
        matched: false,
    });
}

fn close(
    events: &mut Vec<Event>,
    stack: &mut Vec<(char, usize)>,
    waiting: &mut [usize],
    slot: usize,
    c: char,
    at: usize,
) {
    if waiting.get(slot).copied().unwrap_or(0) == 0 {
        return;
    }
    // Openers above the match are unmatched: drop them (amortised O(1)).
    while let Some((closer, index)) = stack.pop() {
        if let Some(n) = PAIRED_CLOSERS
            .iter()
            .position(|&k| k == closer)
            .and_then(|s| waiting.get_mut(s))
        {
            *n = n.saturating_sub(1);
        }
        if closer == c {
            if let Some(event) = events.get_mut(index) {
                event.matched = true;
            }
            events.push(Event {
                at,
                delta: -1,
                matched: true,
            });
            return;
        }
    }
}

/// Nesting depth of protected regions, queried at increasing positions.
struct Depth {
    events: Vec<Event>,
    next: usize,
    level: i32,
}

impl Depth {
    fn at(&mut self, pos: usize) -> i32 {
        while let Some(event) = self.events.get(self.next) {
            if event.at >= pos {
                break;
            }
            self.level += event.delta;
            self.next += 1;
        }
        self.level
    }
}

// ---------------------------------------------------------- sentences ----

/// Characters that may close a sentence after its terminator: quotes,
/// brackets and Markdown emphasis.
fn is_closer(c: char) -> bool {
    matches!(
        c,
        '"' | '\'' | '”' | '’' | '»' | '›' | ')' | ']' | '}' | '*' | '_' | '」' | '』' | '）' | '】' | '》'
    )
}

fn is_opener(c: char) -> bool {
    matches!(
        c,
        '"' | '\'' | '“' | '‘' | '«' | '‹' | '(' | '[' | '{' | '¿' | '¡' | '*' | '_'
    )
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Terminator {
    /// A single `.`.
    Stop,
    /// A run holding `!` or `?`.
    Strong,
    /// `..`, `...`, `…` and the like.
    Ellipsis,
}

fn split_block(text: &str, block: Span, out: &mut Vec<Span>) {
    let body = block.slice(text);
    let lead = body.len() - body.trim_start_matches(is_space).len();
    let first_line = body.get(lead..).unwrap_or("");
    let content_start = block.start + lead + list_marker_len(first_line).unwrap_or(0);
    let end = block.end;
    let mut depth = Depth {
        events: pair_events(text, content_start, end),
        next: 0,
        level: 0,
    };
    let mut sentence_start = content_start;
    let mut i = content_start;
    while let Some(c) = char_at(text, i).filter(|_| i < end) {
        let unspaced = is_unspaced_terminator(c);
        if !unspaced && !matches!(c, '.' | '!' | '?' | '…') {
            i += c.len_utf8();
            continue;
        }
        let run_end = skip_while(text, i, end, |c| {
            matches!(c, '.' | '!' | '?' | '…') || is_unspaced_terminator(c)
        });
        let closed = skip_while(text, run_end, end, is_closer);
        let after = skip_footnotes(text, closed, end);
        let next = skip_while(text, after, end, is_space);
        // Chinese and Japanese put no space after a full stop.
        let spaced = next > after || unspaced;
        if spaced && next < end && depth.at(after) == 0 {
            let kind = terminator_kind(sub(text, i, run_end));
            // A single quote after `.` may be a possessive (`the U.S.’ China policy`), not after `?` or
            // `!`: there it closes a British quotation (`‘Will India retaliate?’ Sharif asked`).
            let single = kind == Terminator::Strong;
            let closers = sub(text, run_end, closed);
            let quoted = closers.contains(['"', '”', '»']) || (single && closers.contains(['’', '\'']));
            let opening = sub(text, sentence_start, end);
            let opens_with_quote = opening.starts_with(['"', '“', '«']) || (single && opening.starts_with(['‘', '\'']));
            let context = Around {
                block_start: block.start,
                quoted,
                opens_with_quote,
            };
            if unspaced || is_boundary(text, context, i, next, end, kind) {
                push_trimmed(text, sentence_start, after, out);
                sentence_start = next;
            }
        }
        // Resume after the closers: they hold no terminator.
        i = after;
    }
    push_trimmed(text, sentence_start, end, out);
}

/// The full stops of scripts written without spaces (`。`, `！`, `？`) and the Devanagari danda:
/// they always end a sentence.
fn is_unspaced_terminator(c: char) -> bool {
    matches!(c, '。' | '！' | '？' | '।' | '॥')
}

/// Past the footnote markers right after a sentence's end: `[12]`, `[3][4]`, `¹²`.
fn skip_footnotes(text: &str, from: usize, end: usize) -> usize {
    let mut at = from;
    loop {
        let rest = sub(text, at, end);
        let superscripts = rest.len()
            - rest
                .trim_start_matches(['¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹', '⁰'])
                .len();
        if superscripts > 0 {
            at += superscripts;
            continue;
        }
        let Some(inside) = rest.strip_prefix('[') else {
            return at;
        };
        let digits = inside.bytes().take_while(u8::is_ascii_digit).count();
        if !(1..=3).contains(&digits) || inside.as_bytes().get(digits) != Some(&b']') {
            return at;
        }
        at += digits + 2;
    }
}

fn skip_while(text: &str, from: usize, end: usize, keep: impl Fn(char) -> bool) -> usize {
    let rest = sub(text, from, end);
    from + rest.len() - rest.trim_start_matches(keep).len()
}

fn terminator_kind(run: &str) -> Terminator {
    if run.contains(['!', '?']) {
        Terminator::Strong
    } else if run == "." {
        Terminator::Stop
    } else {
        Terminator::Ellipsis
    }
}

fn push_trimmed(text: &str, start: usize, end: usize, out: &mut Vec<Span>) {
    let piece = sub(text, start, end);
    let lead = piece.len() - piece.trim_start_matches(is_space).len();
    let trimmed = piece.trim_matches(is_space);
    if trimmed.chars().any(char::is_alphanumeric) {
        out.push(Span::new(start + lead, start + lead + trimmed.len()));
    }
}

/// What a terminator's sentence holds around it.
#[derive(Clone, Copy)]
struct Around {
    block_start: usize,
    /// A closing quote follows the terminator (a double one after `.`).
    quoted: bool,
    /// The sentence so far opens with a quotation mark.
    opens_with_quote: bool,
}

/// Whether the terminator at `at` ends the sentence, given that whitespace
/// follows it and the next sentence would start at `next`.
fn is_boundary(text: &str, around: Around, at: usize, next: usize, end: usize, kind: Terminator) -> bool {
    let following = sub(text, next, end);
    let block_start = around.block_start;
    match kind {
        Terminator::Ellipsis => false,
        // “Will India retaliate?” Sharif asked. Only a quotation that opens its sentence, and so
        // has no speaker yet (He asked: “Is the US serious?” China said…). After `.”` the
        // quotation was a sentence of its own: an attribution would have had a comma.
        Terminator::Strong => {
            let attributed = around.quoted && around.opens_with_quote && names_a_speaker(following);
            !(continues_sentence(following) || attributed)
        }
        Terminator::Stop => match previous_word(text, block_start, at) {
            // A `.` after a space: the middle of ". . .", a stray space before a full stop, or
            // text split into tokens ("Mr . Modi"), where the word before the space decides.
            Some("") => {
                let word_end = sub(text, block_start, at).trim_end_matches(is_space).len() + block_start;
                let word = previous_word(text, block_start, word_end);
                !is_spaced_ellipsis(text, block_start, at, following)
                    && stop_ends_sentence(
                        word,
                        following,
                        around.quoted,
                        number_before(text, block_start, word_end, word),
                    )
            }
            word => stop_ends_sentence(
                word,
                following,
                around.quoted,
                number_before(text, block_start, at, word),
            ),
        },
    }
}

/// Whether a number comes just before `word`, which ends at `end` (`6 P.M.`).
fn number_before(text: &str, block_start: usize, end: usize, word: Option<&str>) -> bool {
    let start = end.saturating_sub(word.map_or(0, str::len)).max(block_start);
    sub(text, block_start, start)
        .trim_end_matches(is_space)
        .ends_with(|c: char| c.is_ascii_digit())
}

/// Whether the `.` at `at`, after a space, is one dot of ". . .".
fn is_spaced_ellipsis(text: &str, block_start: usize, at: usize, following: &str) -> bool {
    let before = sub(text, block_start, at).trim_end_matches(is_space);
    before.ends_with('.') || following.starts_with('.')
}

/// Verbs that follow a quotation's speaker: `“No!” Modi told Pakistan.`
const SPEECH_VERBS: &[&str] = &[
    "said",
    "says",
    "asked",
    "asks",
    "told",
    "tells",
    "added",
    "adds",
    "replied",
    "wrote",
    "writes",
    "tweeted",
    "posted",
    "declared",
    "insisted",
    "warned",
    "remarked",
    "exclaimed",
    "shouted",
    "retorted",
    "countered",
    "argued",
    "noted",
    "stated",
    "explained",
    "responded",
    "quipped",
    "demanded",
    "wondered",
];

/// Whether `following` is a quotation's attribution: a speaker and then a speech verb, within
/// [`MAX_SPEAKER_WORDS`]. The speaker is capitalized words (a name, a title, `Secretary of
/// State`), which may go on with a short lowercase title after a possessive (`Pakistan’s prime
/// minister asked`) or with an appositive between commas (`Jaishankar, the foreign minister,
/// asked`). Not when it opens with a word that starts sentences ("He said that…", "It’s what…",
/// "The ministry said…") or a word ends a sentence before the verb.
fn names_a_speaker(following: &str) -> bool {
    let mut title_words_left = 0;
    let mut in_appositive = false;
    let mut previous_capitalized = false;
    let mut previous = "";
    let words = following.split(is_space).filter(|w| !w.is_empty());
    for (n, raw) in words.take(MAX_SPEAKER_WORDS).enumerate() {
        let word = raw.trim_end_matches([',', ';', ':', '.']);
        // A verb inside the appositive is the appositive's ("Sharif, who said little, asked").
        if n > 0 && !in_appositive && SPEECH_VERBS.contains(&word) {
            return true;
        }
        let capitalized = word.starts_with(|c: char| c.is_uppercase());
        let fits = if n == 0 {
            capitalized && !STARTERS.contains(&word) && !is_contraction(word)
        } else if in_appositive || capitalized || (word == "of" && previous_capitalized) {
            true // a name or title (Secretary of State, Sharif of Pakistan), or inside the commas
        } else if title_words_left > 0 && is_title_word(word, previous) {
            title_words_left -= 1;
            true
        } else {
            false
        };
        if !fits || ends_a_sentence(raw, word) {
            return false;
        }
        if raw.ends_with(',') {
            in_appositive = !in_appositive;
        } else if !in_appositive && is_possessive(word) {
            title_words_left = MAX_TITLE_WORDS;
        }
        previous_capitalized = capitalized;
        previous = word;
    }
    false
}

/// Most lowercase words of a title after a possessive: "India’s external affairs ministry
/// spokesperson Randhir Jaiswal asked".
const MAX_TITLE_WORDS: usize = 4;

/// Whether the lowercase `word`, after `previous`, can be part of a title (`prime minister`,
/// `ambassador to the UN`): not a word no title holds, and not an adverb (`angrily asked`).
fn is_title_word(word: &str, previous: &str) -> bool {
    if word == "the" {
        return matches!(previous, "to" | "of");
    }
    let adverb = word.ends_with("ly") && !NOUNS_IN_LY.contains(&word);
    !(adverb || NEVER_IN_A_TITLE.contains(&word))
}

/// Nouns of titles and speakers that end like adverbs.
const NOUNS_IN_LY: &[&str] = &[
    "family",
    "ally",
    "assembly",
    "daily",
    "weekly",
    "monthly",
    "rally",
    "supply",
    "fortnightly",
    "quarterly",
];

/// Most words looked at for a quotation's speaker and verb: "U.S. Secretary of State Marco
/// Rubio asked" is seven.
const MAX_SPEAKER_WORDS: usize = 8;

/// Lowercase words no title holds: after them a speech verb belongs to a sentence of its own
/// (`“Fair?” Pakistan’s leaders have said no.`, `…ministry rejected the charge and said…`).
const NEVER_IN_A_TITLE: &[&str] = &[
    "a", "an", "and", "or", "but", "that", "what", "who", "which", "has", "have", "had", "is", "are", "was", "were",
    "will", "would", "could", "should", "may", "might", "must", "can", "did", "does", "do", "also", "then", "never",
    "not", "just", "again", "often", "always", "once", "soon", "long", "still", "already", "later", "now", "too",
];

/// `Pakistan’s`, `Pakistan's`, `Democrats’`.
fn is_possessive(word: &str) -> bool {
    ["'s", "’s", "s'", "s’"].iter().any(|end| word.ends_with(end))
}

/// `It’s`, `That's`, `Let’s`: a pronoun or adverb that starts sentences, with `is` or `us`.
/// (`Today’s` and `Pakistan’s` are possessives, which speakers' titles open with.)
fn is_contraction(word: &str) -> bool {
    let stem = word.strip_suffix("'s").or_else(|| word.strip_suffix("’s"));
    stem.is_some_and(|stem| {
        [
            "It", "That", "Here", "There", "What", "Let", "He", "She", "Who", "Where", "How", "When", "This",
        ]
        .contains(&stem)
    })
}

/// Whether the speaker's word `raw` ends a sentence: a `;` or `:`, or a `.` after a word that is
/// no abbreviation (`Gen.`, `Prof.`, `Secy.`, `U.S.`) or initial (`A.`).
fn ends_a_sentence(raw: &str, word: &str) -> bool {
    let abbreviation = NEVER_FINAL.contains(&word.to_lowercase().as_str())
        || CAPITALIZED_NEVER_FINAL.contains(&word)
        || is_dotted_acronym(word)
        || word.chars().count() == 1;
    (raw.ends_with('.') && !abbreviation) || raw.ends_with([';', ':'])
}

/// After `?` or `!`: a lowercase word or a dash or comma means the sentence
/// goes on (`“Why?” he asked`, `Yes! — and`).
fn continues_sentence(following: &str) -> bool {
    let mut chars = following.chars().skip_while(|&c| is_opener(c));
    let raw = following.chars().next();
    matches!(raw, Some(',' | ';' | ':' | '-' | '–' | '—')) || chars.next().is_some_and(char::is_lowercase)
}

/// Longest word looked at on either side of a `.`: abbreviations are short,
/// and the bound keeps the splitter linear on text without spaces.
const MAX_WORD: usize = 48;

/// The word before the `.` at `at`, without leading quotes or brackets and
/// without a hyphenated prefix (`pro-U.S.` gives `U.S`). `None` when the word
/// is longer than [`MAX_WORD`].
fn previous_word(text: &str, block_start: usize, at: usize) -> Option<&str> {
    let mut lo = at.saturating_sub(MAX_WORD).max(block_start);
    while !text.is_char_boundary(lo) && lo < at {
        lo += 1;
    }
    let window = sub(text, lo, at);
    let word = match window.rfind(is_space) {
        Some(pos) => window.get(pos..)?.trim_start_matches(is_space),
        None if lo > block_start => return None,
        None => window,
    };
    let word = word.trim_start_matches(is_opener);
    Some(word.rsplit(['-', '–', '—', '/']).next().unwrap_or(word))
}

/// The leading word of `following`, without opening quotes or brackets.
fn next_word(following: &str) -> &str {
    let rest = following.trim_start_matches(is_opener);
    let len = rest
        .char_indices()
        .take_while(|&(i, c)| i < MAX_WORD && c.is_alphanumeric())
        .last()
        .map_or(0, |(i, c)| i + c.len_utf8());
    rest.get(..len).unwrap_or("")
}

/// Whether `following` begins the way a sentence does: capital or uncased
/// letter, digit or currency sign, possibly after an opening quote.
fn starts_sentence(following: &str) -> bool {
    let mut chars = following.chars().skip_while(|&c| is_opener(c));
    chars.next().is_some_and(|c| {
        (c.is_alphabetic() && !c.is_lowercase()) || c.is_numeric() || matches!(c, '$' | '€' | '£' | '¥' | '₹')
    })
}

/// Abbreviations that qualify what follows them and so never end a sentence.
const NEVER_FINAL: &[&str] = &[
    "mr", "mrs", "ms", "messrs", "dr", "prof", "gen", "sen", "sens", "rep", "reps", "gov", "lt", "col", "capt", "cmdr",
    "adm", "maj", "sgt", "cpl", "brig", "rev", "hon", "pres", "supt", "insp", "mt", "vs", "v", "e.g", "i.e", "cf",
    "viz", "a.k.a", "approx", "ca", "fig", "figs", "vol", "vols", "nos", "pp", "retd", "jan", "feb", "mar", "apr",
    "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
];

/// Abbreviations, written capitalized, of titles in South Asian and Philippine news (`Defense
/// Sec. Teodoro`, `Wg. Cdr.`, `Smt.`, `Adv.`), and `Pvt.` of `Tata Sons Pvt. Ltd.` and `Pvt. Smith`.
const CAPITALIZED_NEVER_FINAL: &[&str] = &[
    "Sec", "Secy", "Amb", "Wg", "Cdr", "Sh", "Smt", "Adv", "Ft", "Rt", "Hon'ble", "Pvt",
];

/// Abbreviations that end a sentence only when no number follows, as `No.` does (`No. 10`,
/// `Rs. 50 crore`, `Art. 370`, `under sec. 124A`, `Para. 5`), as written: "the Museum of Art.
/// India…" and "paid 500 Rs. The rest…" end there.
const BEFORE_NUMBERS: &[&str] = &["Rs", "Art", "art", "Para", "para", "sec"];

/// Abbreviations that can also be the last word of a sentence.
const MAYBE_FINAL: &[&str] = &[
    "jr", "sr", "inc", "corp", "ltd", "co", "llc", "plc", "bros", "st", "ave", "blvd", "al", "esq",
];

/// Words that start sentences far more often than they continue a name, used
/// after abbreviations that may or may not be final.
const STARTERS: &[&str] = &[
    "A",
    "About",
    "According",
    "After",
    "Against",
    "All",
    "Also",
    "Although",
    "An",
    "And",
    "Another",
    "Any",
    "As",
    "At",
    "Before",
    "Besides",
    "Both",
    "But",
    "By",
    "Despite",
    "During",
    "Each",
    "Earlier",
    "Either",
    "Even",
    "Every",
    "Few",
    "Finally",
    "First",
    "For",
    "From",
    "Furthermore",
    "He",
    "Her",
    "Here",
    "His",
    "How",
    "However",
    "I",
    "If",
    "In",
    "Indeed",
    "Instead",
    "It",
    "Its",
    "Last",
    "Later",
    "Let",
    "Likewise",
    "Many",
    "Meanwhile",
    "Moreover",
    "Most",
    "Much",
    "My",
    "Neither",
    "Nevertheless",
    "Next",
    "No",
    "None",
    "Nonetheless",
    "Nor",
    "Not",
    "Now",
    "Of",
    "On",
    "Once",
    "One",
    "Or",
    "Our",
    "Perhaps",
    "Second",
    "Several",
    "She",
    "Similarly",
    "Since",
    "So",
    "Some",
    "Still",
    "Such",
    "That",
    "The",
    "Their",
    "Then",
    "There",
    "These",
    "They",
    "This",
    "Those",
    "Though",
    "Thus",
    "To",
    "Today",
    "Under",
    "Unless",
    "Unlike",
    "Until",
    "We",
    "What",
    "When",
    "Where",
    "Whether",
    "Which",
    "While",
    "Who",
    "Why",
    "With",
    "Without",
    "Yes",
    "Yesterday",
    "Yet",
    "You",
    "Your",
];

/// Time zones that follow `a.m.` / `p.m.` inside a sentence.
const TIME_ZONES: &[&str] = &[
    "ET", "EST", "EDT", "CT", "CST", "CDT", "MT", "MST", "MDT", "PT", "PST", "PDT", "GMT", "UTC", "BST", "CET", "CEST",
    "IST", "PKT", "JST", "KST", "MSK", "HKT", "SGT", "AEST", "AEDT", "Eastern", "Central", "Mountain", "Pacific",
];

/// `quoted`: a closing quote follows the `.`, which makes an abbreviation that may close a
/// sentence close it (`“We cannot trust the U.S.” China walked out.`).
/// `number_before`: a number precedes the word (`6 P.M.`).
fn stop_ends_sentence(word: Option<&str>, following: &str, quoted: bool, number_before: bool) -> bool {
    let Some(word) = word else {
        return starts_sentence(following);
    };
    let next = next_word(following);
    let lower = word.to_lowercase();
    let lower = lower.as_str();
    // `ends_with_title`: joined titles, `Lt.Gen. Asim Munir`.
    if NEVER_FINAL.contains(&lower)
        || CAPITALIZED_NEVER_FINAL.contains(&word)
        || is_lowercase_letter(word)
        || ends_with_title(word)
    {
        false
    } else if lower == "no" || BEFORE_NUMBERS.contains(&word) {
        !following.starts_with(|c: char| c.is_ascii_digit()) && starts_sentence(following)
    } else if matches!(word, "a.m" | "p.m" | "A.M") || (word == "P.M" && number_before) {
        // Written in capitals, `P.M.` without a number before it is a prime minister (`India's
        // P.M. Modi`), read as the acronym below.
        // "at 9 p.m. Sunday’s attack" starts one: a possessive is the subject of a new sentence.
        let possessive = following
            .trim_start_matches(is_opener)
            .get(next.len()..)
            .is_some_and(|rest| rest.starts_with(['\'', '’']));
        // A month continues only before its day ("6 p.m. March 3"); "5 p.m. May was chosen" ends.
        let day_follows = following
            .split(is_space)
            .filter(|w| !w.is_empty())
            .nth(1)
            .is_some_and(|w| w.starts_with(|c: char| c.is_ascii_digit()));
        let date = is_date_word(next) && !possessive && (!MONTH_NAMES.contains(&next) || day_follows);
        starts_sentence(following) && !TIME_ZONES.contains(&next) && !date && !is_time_phrase(following)
    } else if MAYBE_FINAL.contains(&lower) || is_dotted_acronym(word) {
        if quoted {
            starts_sentence(following)
        } else {
            STARTERS.contains(&next)
        }
    } else if is_initial(word) {
        STARTERS.contains(&next) && next.chars().count() >= 2
    } else {
        starts_sentence(following)
    }
}

/// A dotted word whose last part is a capitalized title (`Lt.Gen`): not an acronym such as
/// `U.S`, nor a domain (`whitehouse.gov`, `cbc.ca`).
fn ends_with_title(word: &str) -> bool {
    word.rsplit_once('.').is_some_and(|(_, last)| {
        last.chars().count() >= 2
            && last.starts_with(|c: char| c.is_uppercase())
            && NEVER_FINAL.contains(&last.to_lowercase().as_str())
    })
}

/// Month names and their abbreviations, as written.
pub(crate) const MONTH_NAMES: &[&str] = &[
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Sept",
    "Oct",
    "Nov",
    "Dec",
];

/// A weekday or a month, which continues a sentence after `a.m.` / `p.m.` (`6 p.m. Tuesday`).
fn is_date_word(word: &str) -> bool {
    const WEEKDAYS: &[&str] = &[
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    WEEKDAYS.contains(&word) || MONTH_NAMES.contains(&word)
}

/// `5 p.m. Beijing time`: the word after the next one is "time".
fn is_time_phrase(following: &str) -> bool {
    following
        .split(is_space)
        .filter(|w| !w.is_empty())
        .nth(1)
        .is_some_and(|w| w.trim_end_matches(|c: char| !c.is_alphanumeric()) == "time")
}

fn is_lowercase_letter(word: &str) -> bool {
    let mut chars = word.chars();
    matches!((chars.next(), chars.next()), (Some(c), None) if c.is_lowercase())
}

fn is_initial(word: &str) -> bool {
    let mut chars = word.chars();
    matches!((chars.next(), chars.next()), (Some(c), None) if c.is_uppercase())
}

/// `U.S`, `E.U`, `U.S.A`, `Ph.D`: letters in groups of one or two between dots.
fn is_dotted_acronym(word: &str) -> bool {
    word.contains('.')
        && word.split('.').all(|part| {
            let n = part.chars().count();
            (1..=2).contains(&n) && part.chars().all(char::is_alphabetic)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sentences(text: &str) -> Vec<&str> {
        split_sentences(text).iter().map(|s| s.slice(text)).collect()
    }

    fn assert_one(text: &str) {
        assert_eq!(sentences(text), [text], "should be one sentence: {text:?}");
    }

    fn check_spans(text: &str, spans: &[Span]) {
        let mut last_end = 0;
        for span in spans {
            assert!(span.start >= last_end, "overlap or disorder in {spans:?}");
            assert!(span.start < span.end, "empty span {span:?}");
            assert!(span.end <= text.len());
            assert!(text.is_char_boundary(span.start) && text.is_char_boundary(span.end));
            let piece = span.slice(text);
            assert_eq!(piece, piece.trim_matches(is_space), "untrimmed {piece:?}");
            last_end = span.end;
        }
    }

    #[test]
    fn span_basics() {
        let span = Span::new(3, 7);
        assert_eq!(span.len(), 4);
        assert!(!span.is_empty());
        assert!(Span::new(5, 5).is_empty());
        assert_eq!(Span::new(7, 3).len(), 0);
        assert_eq!(Span::new(0, 5).slice("China"), "China");
    }

    #[test]
    fn span_slice_never_panics() {
        let text = "é🇺🇸";
        assert_eq!(Span::new(0, 1).slice(text), "");
        assert_eq!(Span::new(1, 2).slice(text), "");
        assert_eq!(Span::new(0, 100).slice(text), "");
        assert_eq!(Span::new(5, 2).slice(text), "");
        assert_eq!(Span::new(0, 2).slice(text), "é");
    }

    #[test]
    fn plain_sentences() {
        assert_eq!(
            sentences("China rose. India grew! Did the US fall? Yes."),
            ["China rose.", "India grew!", "Did the US fall?", "Yes."]
        );
    }

    #[test]
    fn empty_and_blank_input() {
        assert!(split_sentences("").is_empty());
        assert!(split_sentences("  \n\n \t ").is_empty());
        assert!(split_sentences("*** ... ---").is_empty());
    }

    #[test]
    fn country_abbreviations_do_not_split() {
        for abbr in ["U.S.", "U.K.", "U.N.", "E.U."] {
            assert_one(&format!("The {abbr} Army and {abbr} Congress met {abbr} officials."));
            assert_one(&format!("Talks at the {abbr} Security Council stalled."));
        }
        assert_one("The U.S.A. Olympic team and the U.S.-led coalition agreed.");
    }

    #[test]
    fn us_splits_only_before_sentence_starters() {
        assert_eq!(
            sentences("It was made in the U.S. The next day it shipped."),
            ["It was made in the U.S.", "The next day it shipped."]
        );
        assert_eq!(
            sentences("He blamed the U.K. But nobody listened."),
            ["He blamed the U.K.", "But nobody listened."]
        );
        assert_one("He flew to the U.S. Capitol on Monday.");
    }

    #[test]
    fn titles_do_not_split() {
        for title in [
            "Mr.", "Mrs.", "Ms.", "Dr.", "Prof.", "Gen.", "Sen.", "Rep.", "Gov.", "Lt.", "Col.",
        ] {
            let first = format!("Yesterday {title} Smith spoke.");
            let text = format!("{first} The crowd cheered.");
            assert_eq!(sentences(&text), [first.as_str(), "The crowd cheered."]);
        }
        assert_one("Lt. Col. Jones and Gen. Smith met Mr. and Mrs. Khan.");
    }

    #[test]
    fn saint_and_suffixes() {
        assert_one("He visited St. Petersburg with Martin Luther King Jr. last year.");
        assert_eq!(
            sentences("The speech was by Martin Luther King Jr. It moved many."),
            ["The speech was by Martin Luther King Jr.", "It moved many."]
        );
        assert_one("Sr. Advisor Khan met the Sr. Minister.");
    }

    #[test]
    fn companies() {
        assert_one("Apple Inc. Chairman Cook met Huawei Corp. Executives and Tata Co. Staff.");
        assert_one("Reliance Industries Ltd. Shares rose.");
        assert_eq!(
            sentences("He sued Apple Inc. The case failed."),
            ["He sued Apple Inc.", "The case failed."]
        );
        assert_eq!(
            sentences("Profits fell at Tata Sons Ltd. But Infosys Corp. rose."),
            ["Profits fell at Tata Sons Ltd.", "But Infosys Corp. rose."]
        );
    }

    #[test]
    fn versus_etc_eg_ie() {
        assert_one("It is India vs. Pakistan again.");
        assert_one("Rivals, e.g. China and Russia, objected.");
        assert_one("The hegemon, i.e. Washington, objected.");
        assert_one("Tariffs, quotas, etc. are the tools.");
        assert_eq!(
            sentences("Tariffs, quotas, etc. The tools are many."),
            ["Tariffs, quotas, etc.", "The tools are many."]
        );
    }

    #[test]
    fn months() {
        for month in [
            "Jan.", "Feb.", "Mar.", "Apr.", "Jun.", "Jul.", "Aug.", "Sep.", "Sept.", "Oct.", "Nov.", "Dec.",
        ] {
            assert_one(&format!("The summit on {month} 14 ended."));
            assert_one(&format!("It ended in {month} Nobody noticed."));
        }
    }

    #[test]
    fn number_abbreviation() {
        assert_one("He lives at No. 10 Downing Street.");
        assert_eq!(
            sentences("He said no. The talks ended."),
            ["He said no.", "The talks ended."]
        );
    }

    #[test]
    fn times() {
        assert_one("They met at 5 p.m. on Monday and left at 9 a.m. today.");
        assert_eq!(
            sentences("They met at 5 p.m. The next day they left."),
            ["They met at 5 p.m.", "The next day they left."]
        );
        assert_one("The vote closes at 5 p.m. EST on Tuesday.");
        assert_one("The vote closes at 5 p.m. Beijing time on Tuesday.");
    }

    #[test]
    fn decimals_and_numbers() {
        assert_one("Growth was 3.5 percent, down from 4.25 percent.");
        assert_eq!(
            sentences("Growth hit 7.2 percent in 2023. In 2024 it slowed."),
            ["Growth hit 7.2 percent in 2023.", "In 2024 it slowed."]
        );
    }

    #[test]
    fn initials() {
        assert_one("Narendra D. Modi met J. K. Rowling and J. A. Smith.");
        assert_one("George W. Bush and John F. Kennedy were presidents.");
        assert_eq!(
            sentences("They called it Plan B. The plan failed."),
            ["They called it Plan B.", "The plan failed."]
        );
    }

    #[test]
    fn ellipses() {
        assert_one("And then... the US blinked.");
        assert_one("And then… the US blinked.");
        assert_one("And then . . . the US blinked.");
        assert_one("He waited... Then he left.");
    }

    #[test]
    fn quotes() {
        assert_one("“We will not yield. They will lose,” the minister said.");
        assert_one("\"We will not yield. They will lose,\" the minister said.");
        assert_eq!(
            sentences("He said “we will win.” The crowd cheered."),
            ["He said “we will win.”", "The crowd cheered."]
        );
        assert_eq!(
            sentences("He said \"we will win.\" The crowd cheered."),
            ["He said \"we will win.\"", "The crowd cheered."]
        );
        assert_one("“Will China attack?” he asked.");
        assert_eq!(
            sentences("“Will China attack?” Nobody knows."),
            ["“Will China attack?”", "Nobody knows."]
        );
        assert_eq!(
            sentences("He called it ‘a disaster.’ Others agreed."),
            ["He called it ‘a disaster.’", "Others agreed."]
        );
    }

    #[test]
    fn brackets() {
        assert_one("The deal (signed in Jan. 2020. It was late.) held.");
        assert_eq!(
            sentences("The deal held (or did it?) Critics doubt it."),
            ["The deal held (or did it?)", "Critics doubt it."]
        );
        assert_eq!(
            sentences("Talks failed. (The US disagreed.) India left."),
            ["Talks failed.", "(The US disagreed.)", "India left."]
        );
    }

    #[test]
    fn unmatched_quote_does_not_swallow_the_paragraph() {
        assert_eq!(
            sentences("He said “no. The US left. China stayed."),
            ["He said “no.", "The US left.", "China stayed."]
        );
        assert_eq!(
            sentences("It failed.\" Later, he said \"yes.\" Then he left."),
            ["It failed.\"", "Later, he said \"yes.\"", "Then he left."]
        );
        assert_eq!(
            sentences("It fell 5\" overnight. China stayed."),
            ["It fell 5\" overnight.", "China stayed."]
        );
    }

    #[test]
    fn paragraphs_and_headlines() {
        let text = "India Rises Again\n\nThe economy grew. Exports rose\n\nFinal words";
        assert_eq!(
            sentences(text),
            ["India Rises Again", "The economy grew.", "Exports rose", "Final words"]
        );
    }

    #[test]
    fn hard_wraps_are_spaces() {
        assert_eq!(
            sentences("The U.S. and\nChina met Mr.\nModi. Then\nthey left."),
            ["The U.S. and\nChina met Mr.\nModi.", "Then\nthey left."]
        );
    }

    #[test]
    fn bullets() {
        let text = "Key points:\n- The US left\n* China stayed\n• India grew\n1. Russia lost\n2) Pakistan won.";
        assert_eq!(
            sentences(text),
            [
                "Key points:",
                "The US left",
                "China stayed",
                "India grew",
                "Russia lost",
                "Pakistan won."
            ]
        );
        assert_eq!(
            sentences("- A long item that\n  wraps.\n- Next."),
            ["A long item that\n  wraps.", "Next."]
        );
        assert_eq!(sentences("1990. It was a year."), ["1990.", "It was a year."]);
    }

    #[test]
    fn markdown_headings() {
        assert_eq!(
            sentences("# China's Rise\nBeijing grew. It boomed."),
            ["China's Rise", "Beijing grew.", "It boomed."]
        );
    }

    #[test]
    fn crlf_and_unicode_separators() {
        assert_eq!(
            sentences("Title\r\n\r\nThe US fell.\r\nIt rose."),
            ["Title", "The US fell.", "It rose."]
        );
        assert_eq!(sentences("One\u{2029}Two"), ["One", "Two"]);
        assert_eq!(sentences("\u{feff}One.\rTwo."), ["One.", "Two."]);
    }

    #[test]
    fn unicode_text() {
        let text = "Émigrés fled. Ça va? 中国崛起。 Yes… 🇺🇸 won. Ünder way.";
        let spans = split_sentences(text);
        check_spans(text, &spans);
        assert_eq!(
            sentences(text),
            ["Émigrés fled.", "Ça va?", "中国崛起。", "Yes… 🇺🇸 won.", "Ünder way."]
        );
    }

    #[test]
    fn missing_final_punctuation() {
        assert_eq!(sentences("It rose. It fell"), ["It rose.", "It fell"]);
        assert_eq!(sentences("  just words  "), ["just words"]);
    }

    #[test]
    fn strong_terminators() {
        assert_eq!(
            sentences("Shame! Is this fair?! No?? Really."),
            ["Shame!", "Is this fair?!", "No??", "Really."]
        );
        assert_one("Why? — and how — nobody asked.");
    }

    #[test]
    fn a_line_break_ends_a_sentence_in_text_of_one_paragraph_per_line() {
        let paragraph = "Officials in New Delhi said the talks with Beijing had made progress on the border, \
                         though neither side would say when troops would pull back from the valley, \
                         and analysts in Washington, who have watched three such rounds end without a deal, \
                         doubted it";
        let text = format!("India and China clash again\nBy Rajesh Kumar\n{paragraph}\nThe U.S.\nChina was absent.");
        assert_eq!(
            sentences(&text),
            [
                "India and China clash again",
                "By Rajesh Kumar",
                paragraph,
                "The U.S.",
                "China was absent."
            ]
        );
        // Hard-wrapped, the same lines read on.
        assert_one("India and China clash again\nBy Rajesh Kumar\nofficials said.");
    }

    #[test]
    fn one_long_line_that_is_no_paragraph_leaves_hard_wraps_alone() {
        let url = format!("Source: https://example.org/{}", "a".repeat(220));
        let text = format!("India and China agreed on Monday to resume border\npatrols, officials said.\n{url}");
        assert_eq!(
            sentences(&text)[0],
            "India and China agreed on Monday to resume border\npatrols, officials said."
        );
        // Devanagari wrapped at 72 characters is over 200 bytes a line.
        let line = "भारत और चीन ने सोमवार को सीमा पर गश्त फिर से शुरू करने पर सहमति जताई और";
        assert_one(&format!("{line}\n{line}।"));
    }

    #[test]
    fn review_cases_that_end_or_continue_sentences() {
        assert_eq!(
            sentences("He asked: “Is the US serious?” China said on Monday it would retaliate."),
            [
                "He asked: “Is the US serious?”",
                "China said on Monday it would retaliate."
            ]
        );
        assert_one("Critics dismissed the U.S.’ China policy as incoherent.");
        assert_eq!(
            sentences("It sits in the Museum of Art. India wants it back."),
            ["It sits in the Museum of Art.", "India wants it back."]
        );
        assert_eq!(
            sentences("Pakistan paid 500 Rs. The rest came from China."),
            ["Pakistan paid 500 Rs.", "The rest came from China."]
        );
        assert_eq!(
            sentences("The data are on whitehouse.gov. China disputes them."),
            ["The data are on whitehouse.gov.", "China disputes them."]
        );
        assert_eq!(
            sentences("It began at 9 p.m. Sunday’s attack killed 12."),
            ["It began at 9 p.m.", "Sunday’s attack killed 12."]
        );
        assert_eq!(
            sentences("Mr . Modi met Mr . Xi in Wuhan . China agreed ."),
            ["Mr . Modi met Mr . Xi in Wuhan .", "China agreed ."]
        );
    }

    #[test]
    fn a_wrapped_text_with_one_long_line_stays_wrapped() {
        let wrapped = "India and China agreed on Monday to resume border patrols in eastern\n\
                       Ladakh, ending a four-year standoff, officials said.";
        let note = format!(
            "Editor's note: {}",
            "this article was updated with comments from both sides. ".repeat(5)
        );
        let text = format!("{wrapped}\n{note}");
        assert_eq!(sentences(&text)[0], wrapped);
    }

    #[test]
    fn times_before_dates() {
        assert_one("Chinese warships arrived about 6 p.m. Tuesday, the Pentagon said.");
        assert_one("The talks begin at 10 a.m. Monday in New Delhi, officials said.");
        assert_one("It ended at 9 p.m. May 3, after a day of talks.");
        // In capitals and with no number before it, a prime minister; after one, a time.
        assert_one("India's P.M. Modi met Pakistan's P.M. Imran Khan.");
        assert_eq!(
            sentences("They met at 6 P.M. The talks failed."),
            ["They met at 6 P.M.", "The talks failed."]
        );
        assert_one("Tata Sons Pvt. Ltd. sued China, and Pvt. Singh testified.");
        // A.M. in capitals, and P.M. after a number, are times.
        assert_eq!(
            sentences("The strike came at 4 A.M. Pakistan denied it, and at 4 P.M. India replied."),
            [
                "The strike came at 4 A.M.",
                "Pakistan denied it, and at 4 P.M.",
                "India replied."
            ]
        );
        assert_eq!(
            sentences("Officials met at 5 p.m. May was chosen as the date."),
            ["Officials met at 5 p.m.", "May was chosen as the date."]
        );
    }

    #[test]
    fn south_asian_abbreviations() {
        assert_eq!(
            sentences("India allocated Rs. 2.5 lakh crore to defence. Pakistan responded."),
            ["India allocated Rs. 2.5 lakh crore to defence.", "Pakistan responded."]
        );
        assert_one("The abrogation of Art. 370 by India angered Pakistan.");
        assert_one("He was charged under sec. 124A of the IPC in India.");
        assert_one("Foreign Affairs Sec. Enrique Manalo and Defense Sec. Gilberto Teodoro met.");
        assert_one("The captured Indian pilot, Wg. Cdr. Abhinandan, would be released.");
        assert_one("Lt. Gen. (retd.) Talat Masood said Pakistan must talk to India.");
        assert_one("Pakistan appointed Lt.Gen. Asim Munir as ISI chief.");
        assert_eq!(
            sentences("It was pure art. The critics agreed."),
            ["It was pure art.", "The critics agreed."]
        );
        assert_eq!(
            sentences("The court struck down sec. The law fell."),
            ["The court struck down sec.", "The law fell."]
        );
    }

    #[test]
    fn footnote_markers_after_a_full_stop() {
        assert_eq!(
            sentences("China is rising.[12] India is not.[3][4] Russia is stuck."),
            ["China is rising.[12]", "India is not.[3][4]", "Russia is stuck."]
        );
        assert_eq!(
            sentences("China is rising.¹ India is not."),
            ["China is rising.¹", "India is not."]
        );
        assert_one("See the list.[note] It goes on.");
    }

    #[test]
    fn a_space_before_a_full_stop() {
        assert_eq!(
            sentences("The event was postponed . Pakistan objected to India."),
            ["The event was postponed .", "Pakistan objected to India."]
        );
        assert_one("And then . . . The US blinked.");
        assert_one("He waited . . . and then . . . China moved.");
    }

    #[test]
    fn a_quotation_keeps_its_named_speaker() {
        assert_one("“Will India retaliate?” Sharif asked reporters in Islamabad.");
        assert_one("\"What is America doing?\" Xi asked Biden during the call.");
        assert_one("“Enough!” Modi told Pakistan.");
        assert_one("‘Will India retaliate?’ Sharif asked.");
        assert_one("“Can India win?” Prime Minister Sharif asked.");
        assert_one("“Will India retaliate?” Pakistan’s prime minister asked.");
        assert_one("“Why now?” India's former foreign secretary asked reporters.");
        assert_one("“Is China listening?” Jaishankar, the foreign minister, asked.");
        assert_one("“Is China listening?” Jaishankar, who had said little, asked.");
        assert_eq!(
            sentences("“Is this fair?” Pakistan’s economy is failing, and the US said nothing."),
            [
                "“Is this fair?”",
                "Pakistan’s economy is failing, and the US said nothing."
            ]
        );
        assert_eq!(
            sentences("“Is this fair?” Pakistan’s leaders have said no."),
            ["“Is this fair?”", "Pakistan’s leaders have said no."]
        );
        assert_one("“Why?” U.S. Secretary of State Marco Rubio asked.");
        assert_one("“Why?” Prime Minister Shehbaz Sharif of Pakistan asked.");
        for (quotation, rest) in [
            (
                "“Will India retaliate?”",
                "Pakistan’s military spokesman dismissed the threat and said so.",
            ),
            ("“Is this fair?”", "Pakistan’s leaders long said no."),
            ("“Why?”", "That’s the question Pakistan’s prime minister asked."),
            ("“Will India retaliate?”", "It’s what everyone in Islamabad asked."),
            ("“Why not?”", "Let’s see what Washington says."),
        ] {
            assert_eq!(sentences(&format!("{quotation} {rest}")), [quotation, rest]);
        }
        for joined in [
            "“Why?” Prof. Ayesha Siddiqa asked.",
            "“Why?” Capt. Abhinandan Varthaman asked.",
            "“Why?” India’s external affairs ministry spokesperson Randhir Jaiswal asked.",
            "“Why?” Pakistan’s ambassador to the UN, Munir Akram, asked.",
            "“Why?” Pakistan’s closest ally asked.",
            "“What next?” Today’s Dawn editorial asked.",
        ] {
            assert_one(joined);
        }
        assert_eq!(
            sentences("“Is this fair?” None of Pakistan’s leaders said so."),
            ["“Is this fair?”", "None of Pakistan’s leaders said so."]
        );
        assert_eq!(
            sentences("“Who pays?” India’s tax. The finance minister said so."),
            ["“Who pays?”", "India’s tax.", "The finance minister said so."]
        );
        assert_eq!(
            sentences("“Who pays?” Pakistan’s voters. The finance minister said so."),
            ["“Who pays?”", "Pakistan’s voters.", "The finance minister said so."]
        );
        assert_eq!(
            sentences("“Why?” Washington, it seems, has no answer. China said so."),
            ["“Why?”", "Washington, it seems, has no answer.", "China said so."]
        );
        assert_eq!(
            sentences("He said “Detroit is back.” He added that Americans agree."),
            ["He said “Detroit is back.”", "He added that Americans agree."]
        );
        assert_eq!(
            sentences("“Is this fair?” The Chinese ministry said it was not."),
            ["“Is this fair?”", "The Chinese ministry said it was not."]
        );
        assert_eq!(
            sentences("“Will China attack?” Nobody Knows That. The US waits."),
            ["“Will China attack?”", "Nobody Knows That.", "The US waits."]
        );
        assert_eq!(
            sentences("“We will never trust the U.S.” China then walked out."),
            ["“We will never trust the U.S.”", "China then walked out."]
        );
        assert_one("He spoke to the U.S. China Desk officers.");
    }

    #[test]
    fn quote_lines() {
        assert_eq!(
            sentences("Intro on Russia.\n> China is a threat.\n> India is a partner.\nEnd."),
            ["Intro on Russia.", "China is a threat.", "India is a partner.", "End."]
        );
        assert_eq!(
            sentences("> A quotation that\n> wraps. And goes on.\n>> Nested."),
            ["A quotation that\n> wraps.", "And goes on.", "Nested."]
        );
    }

    #[test]
    fn numbers_at_the_start_of_a_wrapped_line() {
        assert_eq!(
            sentences("India and Pakistan agreed to a ceasefire on May\n10. India said Pakistan must act."),
            [
                "India and Pakistan agreed to a ceasefire on May\n10.",
                "India said Pakistan must act."
            ]
        );
        assert_eq!(
            sentences("Three reasons\n1. Trade\n2. Arms\n10. Water"),
            ["Three reasons", "Trade", "Arms", "Water"]
        );
        assert_eq!(sentences("Reasons:\n3. Trade\n4. Arms"), ["Reasons:", "Trade", "Arms"]);
    }

    #[test]
    fn chinese_and_hindi_full_stops() {
        assert_eq!(
            sentences("美国批评中国。印度表示关切！为什么？"),
            ["美国批评中国。", "印度表示关切！", "为什么？"]
        );
        assert_eq!(
            sentences("भारत ने कहा। पाकिस्तान चुप रहा।"),
            ["भारत ने कहा।", "पाकिस्तान चुप रहा।"]
        );
        assert_eq!(
            sentences("他说：「中国崛起。」然后离开。"),
            ["他说：「中国崛起。」", "然后离开。"]
        );
    }

    const VOCAB: &[&str] = &[
        "U.S.", "Dr.", "\n\n", "\n", "\r\n", "“", "”", "\"", "(", ")", "é", "🇺🇸", "China", " ", ".", "...", "…", "?",
        "!", "- ", "1. ", "# ", "The", "a", "p.m.", "No.", "3.5", "\u{2029}", "’", "e\u{301}", "\u{feff}", "> ", "。",
        "[1]", "¹", " . ", "said", "Rs.",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_text_gives_valid_spans(text in ".*") {
            let spans = split_sentences(&text);
            check_spans(&text, &spans);
        }

        #[test]
        fn tricky_tokens_give_valid_spans(
            tokens in proptest::collection::vec(proptest::sample::select(VOCAB), 0..60)
        ) {
            let text = tokens.concat();
            let spans = split_sentences(&text);
            check_spans(&text, &spans);
        }
    }
}
