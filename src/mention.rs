//! Finding mentions of actors in text.
//!
//! [`MentionFinder`] matches every alias of an [`ActorSet`] at once with
//! Aho-Corasick and keeps the matches that pass these rules:
//!
//! * **Case.** An alias with two or fewer letters, or with no lowercase letter
//!   ("US", "U.S.", "USA", "PRC", "CCP", "Xi"), matches case-sensitively, so
//!   the pronoun "us" and the numeral "XI" are never hits. (A known limit: the
//!   "US" of an all-caps headline such as "JOIN US" is a hit.) Any other alias
//!   matches case-insensitively, except that when the alias starts with a
//!   capital the match must too: "china" the porcelain and lowercase
//!   "american" are not hits, while "CHINA" in a headline is. Case-insensitive
//!   here means ASCII letters; other letters must match as written.
//! * **Word boundaries.** The characters just before and after a match must
//!   not be letters, digits or combining marks. Hyphens and apostrophes are
//!   boundaries, so "Sino-US", "US-China", "India-Pakistan" and possessives
//!   ("China's", "America’s") all match.
//! * **Combining forms.** An alias ending in `-` ("Sino-") matches only when
//!   that hyphen (or an en dash, or a non-breaking hyphen) follows; the mention
//!   covers the word without it, so "Sino-Indian" gives a China and an India
//!   mention.
//! * **Currency codes.** An alias right before `$` is not a mention: "US$3
//!   billion".
//! * **Datelines.** A built-in capital that opens a news story as its place
//!   of writing is not a mention: at the start of a line in a document's first
//!   400 bytes (not after a list or quote marker), followed by a dash or colon,
//!   after an optional date and agencies in brackets (`WASHINGTON (Reuters) -
//!   …`, `WASHINGTON/BEIJING (Reuters) - …`, `BEIJING, March 5 (Xinhua) -- …`,
//!   `New Delhi [India], May 5 (ANI): …`),
//!   written in capitals, with a date, with brackets, or before a colon
//!   (`New Delhi: …`). Nor is what the dateline's brackets name.
//! * **Overlaps.** Of overlapping matches that pass the rules, the leftmost
//!   wins, then the longest ("United States" over "States"), then the actor
//!   that comes first in the set.
//! * **Short names** ([`crate::Actor::short_names`]) follow the same case and
//!   boundary rules, and count only after a mention of the same actor whose
//!   alias contains them as a word, earlier in the same text or, with
//!   [`MentionFinder::find_in_document`], in an earlier sentence: "Khan" after
//!   "Imran Khan". A short name next to another capitalized word is part of
//!   another name and does not count ("Sadiq Khan", "A.Q. Khan", "Khan Academy"), unless that
//!   word is a title ("Mr Khan", "Prime Minister Khan") or a common word that
//!   opens the sentence ("But Khan").
//!
//! In aliases and exclusions a straight apostrophe also matches a curly one
//! ("People's" / "People’s"), and in text any run of spaces, tabs, line
//! breaks and Unicode spaces matches a space ("United\nStates", "United\r\nStates",
//! "United  States", "United\u{a0}States", "United\u{200b}States"), and the invisible characters
//! web pages put inside words (soft hyphens, word joiners) are read past ("Paki\u{ad}stan"). An exclusion's capitalized words must be
//! capitalized in the text ("India Today" is not "India today"); its other words may be either.

use std::borrow::Cow;
use std::collections::HashMap;

use aho_corasick::{AhoCorasick, MatchKind};
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use crate::actor::ActorSet;
use crate::error::{Error, Result};
use crate::segment::{Span, MONTH_NAMES};

/// One mention of an actor: which actor, and where in the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mention {
    /// Index of the actor in the [`ActorSet`] the finder was built from.
    pub actor: usize,
    /// Byte span of the alias in the searched text.
    pub span: Span,
}

/// Finds mentions of a set's actors in text. Build once, use from many
/// threads (`Send + Sync`).
///
/// ```
/// use stance::{ActorSet, MentionFinder};
/// let actors = ActorSet::default();
/// let finder = MentionFinder::new(&actors)?;
/// let text = "Let us read the Washington Post: Sino-Indian talks and America's role.";
/// let found: Vec<(&str, &str)> = finder
///     .find(text)
///     .iter()
///     .map(|m| (actors.actors()[m.actor].id.as_str(), m.span.slice(text)))
///     .collect();
/// assert_eq!(found, [("china", "Sino"), ("india", "Indian"), ("us", "America")]);
/// # Ok::<(), stance::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct MentionFinder {
    matcher: AhoCorasick,
    /// The pattern strings, by aho-corasick pattern id.
    patterns: Vec<String>,
    /// What each pattern means; one pattern can serve several actors.
    roles: Vec<Vec<Role>>,
    /// Every actor's short names, indexed by `Role::ShortName::short`.
    short_names: Vec<ShortName>,
    actor_count: usize,
}

/// A short name and the actor it belongs to.
#[derive(Clone, Debug)]
struct ShortName {
    actor: usize,
    word: String,
}

/// Which short names a document has introduced so far (by full alias).
#[derive(Clone, Debug)]
struct Introduced(Vec<bool>);

/// How an alias's letter case must match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CaseRule {
    Exact,
    Capitalized,
    Any,
}

#[derive(Clone, Copy, Debug)]
enum Role {
    Alias {
        actor: usize,
        case: CaseRule,
        /// A combining form such as "Sino-": the trailing hyphen is required
        /// but not part of the mention.
        combining: bool,
    },
    Exclusion {
        actor: usize,
    },
    ShortName {
        short: usize,
        case: CaseRule,
    },
}

/// A match that passed the case and boundary rules.
#[derive(Clone, Copy)]
struct Hit {
    start: usize,
    end: usize,
    actor: usize,
    /// The short name matched (an index into `short_names`), or `None` for an alias.
    short: Option<usize>,
}

impl MentionFinder {
    /// A finder for the aliases and exclusions of `actors`.
    ///
    /// # Errors
    ///
    /// [`Error::Actors`] when an alias names two actors, or is an exclusion of its own
    /// actor (one of them would never be found); [`Error::Config`] when the automaton cannot
    /// be built (far more alias text than any real actor set has).
    pub fn new(actors: &ActorSet) -> Result<MentionFinder> {
        Self::build(actors, true)
    }

    /// A finder that marks where any known actor is named, for a model that reads the other
    /// actors of a sentence: there an alias that two actors share marks a mention all the same,
    /// and the actors the user scores are checked by [`MentionFinder::new`].
    pub(crate) fn marking(actors: &ActorSet) -> Result<MentionFinder> {
        Self::build(actors, false)
    }

    fn build(actors: &ActorSet, check: bool) -> Result<MentionFinder> {
        let (table, short_names) = pattern_table(actors);
        if let (true, Some((_, _, reason))) = (check, first_ambiguity(&table, actors)) {
            return Err(Error::Actors {
                origin: "<actor set>".to_owned(),
                line: None,
                reason,
            });
        }
        // Overlapping search reports every candidate, so that one failing the
        // case or boundary rules cannot hide a shorter valid one; the
        // leftmost-longest choice is made afterwards among valid candidates.
        let matcher = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .ascii_case_insensitive(true)
            .build(&table.patterns)
            .map_err(|e| Error::Config(format!("cannot build the alias matcher: {e}")))?;
        Ok(Self {
            matcher,
            patterns: table.patterns,
            roles: table.roles,
            short_names,
            actor_count: actors.len(),
        })
    }

    /// All mentions in `text`, sorted by start, non-overlapping
    /// (leftmost-longest), exclusions removed; short names after their full
    /// alias in `text`.
    #[must_use]
    pub fn find(&self, text: &str) -> Vec<Mention> {
        self.find_after(text, &mut self.nothing_introduced(), DatelineScope::document())
    }

    /// The mentions of each sentence of a document, in order, with spans
    /// relative to `text`: what [`MentionFinder::find_in`] gives for each, except
    /// that a short name also counts after its full alias in an earlier sentence.
    ///
    /// ```
    /// use stance::{split_sentences, ActorSet, MentionFinder};
    /// let actors = ActorSet::select(&["pakistan"])?;
    /// let finder = MentionFinder::new(&actors)?;
    /// let text = "Khan spoke first. Then Imran Khan arrived. Khan's speech was long.";
    /// let found = finder.find_in_document(text, &split_sentences(text));
    /// let words: Vec<Vec<&str>> = found.iter().map(|s| s.iter().map(|m| m.span.slice(text)).collect()).collect();
    /// assert_eq!(words, [vec![], vec!["Imran Khan"], vec!["Khan"]]);
    /// # Ok::<(), stance::Error>(())
    /// ```
    #[must_use]
    pub fn find_in_document(&self, text: &str, sentences: &[Span]) -> Vec<Vec<Mention>> {
        let mut found = self.find_per_sentence(text, sentences);
        for (mentions, within) in found.iter_mut().zip(sentences) {
            for mention in mentions {
                mention.span = mention.span.offset(within.start);
            }
        }
        found
    }

    /// [`MentionFinder::find_in_document`] with spans relative to each
    /// sentence, as [`MentionFinder::find`] gives them for the sentence alone;
    /// an invalid span of `text` has no mentions.
    #[must_use]
    pub fn find_per_sentence(&self, text: &str, sentences: &[Span]) -> Vec<Vec<Mention>> {
        let mut introduced = self.nothing_introduced();
        sentences
            .iter()
            .map(|within| {
                text.get(within.start..within.end).map_or_else(Vec::new, |piece| {
                    self.find_after(piece, &mut introduced, DatelineScope::within(text, within.start))
                })
            })
            .collect()
    }

    fn nothing_introduced(&self) -> Introduced {
        Introduced(vec![false; self.short_names.len()])
    }

    /// The mentions of `text`, given the short names introduced before it;
    /// adds those that `text` introduces.
    /// `scope`: where in `text` a news story's dateline can stand (see [`dateline`]).
    fn find_after(&self, text: &str, introduced: &mut Introduced, scope: DatelineScope) -> Vec<Mention> {
        let (hits, exclusions) = self.candidates(text, scope);
        let hits = drop_excluded(hits, exclusions, self.actor_count);
        let (shorts, aliases): (Vec<Hit>, Vec<Hit>) = hits.into_iter().partition(|h| h.short.is_some());
        let mut mentions = leftmost_longest(aliases);
        if self.short_names.is_empty() {
            return mentions;
        }
        // Where in `text` each short name is first introduced: the end of the
        // first mention of its actor whose words include it.
        let mut introduced_at: Vec<Option<usize>> = vec![None; self.short_names.len()];
        for mention in &mentions {
            for (index, short) in self.short_names.iter().enumerate() {
                let names_it = short.actor == mention.actor
                    && introduced_at[index].is_none()
                    && words(mention.span.slice(text)).any(|w| same_word(w, &short.word));
                if names_it {
                    introduced_at[index] = Some(mention.span.end);
                }
            }
        }
        let counted: Vec<Hit> = shorts
            .into_iter()
            .filter(|h| {
                h.short
                    .is_some_and(|s| introduced.0[s] || introduced_at[s].is_some_and(|end| end <= h.start))
            })
            .filter(|h| !overlaps_any(&mentions, h.start, h.end))
            .collect();
        for (seen, here) in introduced.0.iter_mut().zip(&introduced_at) {
            *seen |= here.is_some();
        }
        if !counted.is_empty() {
            mentions.extend(leftmost_longest(counted));
            mentions.sort_by_key(|m| m.span.start);
        }
        mentions
    }

    /// The mentions inside `within` (a sentence of `text`), with spans
    /// relative to `text`. Empty when `within` is not a valid span of `text`.
    ///
    /// ```
    /// use stance::{split_sentences, ActorSet, MentionFinder};
    /// let finder = MentionFinder::new(&ActorSet::default())?;
    /// let text = "Rain fell. Then Beijing spoke.";
    /// let second = split_sentences(text)[1];
    /// let mentions = finder.find_in(text, second);
    /// assert_eq!(mentions[0].span.slice(text), "Beijing");
    /// # Ok::<(), stance::Error>(())
    /// ```
    #[must_use]
    pub fn find_in(&self, text: &str, within: Span) -> Vec<Mention> {
        let Some(piece) = text.get(within.start..within.end) else {
            return Vec::new();
        };
        let mut mentions = self.find(piece);
        for mention in &mut mentions {
            mention.span = mention.span.offset(within.start);
        }
        mentions
    }

    /// Number of actors in the set this finder was built from.
    #[must_use]
    pub fn actor_count(&self) -> usize {
        self.actor_count
    }

    /// Alias matches that pass the case and boundary rules, and the
    /// word-bounded exclusion occurrences.
    fn candidates(&self, text: &str, scope: DatelineScope) -> (Vec<Hit>, Vec<Hit>) {
        let haystack = Haystack::new(text);
        let mut hits = Vec::new();
        let mut exclusions = Vec::new();
        let mut datelines = Vec::new();
        for found in self.matcher.find_overlapping_iter(haystack.bytes.as_ref()) {
            let index = found.pattern().as_usize();
            let (Some(pattern), Some(roles)) = (self.patterns.get(index), self.roles.get(index)) else {
                continue;
            };
            // Case rules compare the matched words with the alias; spans and word boundaries are the text's.
            let Some(matched) = haystack.slice(found.start(), found.end()) else {
                continue;
            };
            let (start, end) = haystack.text_span(found.start(), found.end());
            for &role in roles {
                match role {
                    Role::Exclusion { actor } => {
                        if exclusion_case_matches(matched, pattern) && bounded(text, start, end) {
                            exclusions.push(Hit {
                                start,
                                end,
                                actor,
                                short: None,
                            });
                        }
                    }
                    Role::ShortName { short, case } => {
                        let counts = case_matches(case, matched, pattern)
                            && bounded(text, start, end)
                            && !inside_another_name(text, start, end);
                        if let (true, Some(name)) = (counts, self.short_names.get(short)) {
                            hits.push(Hit {
                                start,
                                end,
                                actor: name.actor,
                                short: Some(short),
                            });
                        }
                    }
                    Role::Alias { actor, case, combining } => {
                        if !case_matches(case, matched, pattern) {
                            continue;
                        }
                        // The mention leaves out the trailing hyphen or dash of a combining form.
                        let end = if combining {
                            end.saturating_sub(last_char_len(pattern))
                        } else {
                            end
                        };
                        let after_ok = combining || (!word_char_at(text, end) && !is_currency_code(text, end));
                        if !after_ok || word_char_before(text, start) {
                            continue;
                        }
                        // Only a match that opens a line near the document's start can be a
                        // dateline: every other match skips the parse (and its allocation).
                        let opens_line = scope.opens_line(text, start);
                        if let Some(dateline_end) = opens_line.then(|| dateline(text, start, end)).flatten() {
                            datelines.push(Span::new(start, dateline_end));
                        } else {
                            hits.push(Hit {
                                start,
                                end,
                                actor,
                                short: None,
                            });
                        }
                    }
                }
            }
        }
        // Nothing a dateline names is an actor: not the shorter alias in its place ("Delhi" of
        // "New Delhi"), nor its region in brackets ("[India]").
        hits.retain(|hit| !datelines.iter().any(|d| d.start <= hit.start && hit.end <= d.end));
        (hits, exclusions)
    }
}

/// Every alias, exclusion and short name of `actors` with its role, and the short names.
fn pattern_table(actors: &ActorSet) -> (PatternTable, Vec<ShortName>) {
    let mut table = PatternTable::default();
    let mut short_names = Vec::new();
    for (actor, definition) in actors.actors().iter().enumerate() {
        for alias in &definition.aliases {
            let role = Role::Alias {
                actor,
                case: case_rule(alias),
                combining: alias.len() > 1 && alias.ends_with('-'),
            };
            for variant in apostrophe_variants(alias)
                .iter()
                .flat_map(|v| dash_variants(v))
                .flat_map(|v| normalization_variants(&v))
            {
                table.add(variant, role);
            }
        }
        for phrase in &definition.exclusions {
            for variant in exclusion_variants(phrase)
                .iter()
                .flat_map(|v| normalization_variants(v))
            {
                table.add(variant, Role::Exclusion { actor });
            }
        }
        for word in &definition.short_names {
            let role = Role::ShortName {
                short: short_names.len(),
                case: case_rule(word),
            };
            for variant in normalization_variants(word) {
                table.add(variant, role);
            }
            short_names.push(ShortName {
                actor,
                word: word.clone(),
            });
        }
    }
    (table, short_names)
}

/// An alias of `actors` that names two of them, or that is also an exclusion of its own actor:
/// the actors concerned (in order), the pattern and why.
pub(crate) fn ambiguity(actors: &ActorSet) -> Option<(Vec<usize>, String, String)> {
    first_ambiguity(&pattern_table(actors).0, actors)
}

/// In `table`: an alias that names two actors (only one of them would ever be found), or an
/// exclusion that is one of its actor's own aliases (that alias would never be found); the
/// actors concerned (in order), the pattern and why.
fn first_ambiguity(table: &PatternTable, actors: &ActorSet) -> Option<(Vec<usize>, String, String)> {
    let id = |index: usize| actors.get(index).map_or("?", |a| a.id.as_str());
    // The matcher ignores ASCII case, so "China" and "CHINA" are one alias here.
    let mut by_key: HashMap<String, Vec<(&str, Role)>> = HashMap::new();
    for (pattern, roles) in table.patterns.iter().zip(&table.roles) {
        let entry = by_key.entry(pattern.to_ascii_lowercase()).or_default();
        entry.extend(roles.iter().map(|&role| (pattern.as_str(), role)));
    }
    // In the patterns' alphabetical order, so that the same actors always get the same refusal.
    let mut keyed: Vec<(&String, &Vec<(&str, Role)>)> = by_key.iter().collect();
    keyed.sort_unstable_by_key(|(key, _)| *key);
    for (_, roles) in keyed {
        let named: Vec<(&str, usize)> = roles
            .iter()
            .filter_map(|&(pattern, role)| match role {
                Role::Alias { actor, .. } => Some((pattern, actor)),
                _ => None,
            })
            .collect();
        let Some(&(pattern, first)) = named.first() else {
            continue;
        };
        if let Some(&(_, other)) = named.iter().find(|&&(_, actor)| actor != first) {
            let (first, other) = (first.min(other), first.max(other));
            let reason = format!(
                "the alias \"{pattern}\" names two actors, {} and {}: a mention is given to one actor, so the \
                 other would never get it; keep it in one of them",
                id(first),
                id(other)
            );
            return Some((vec![first, other], pattern.to_owned(), reason));
        }
        let excluded = roles
            .iter()
            .any(|(_, role)| matches!(role, Role::Exclusion { actor } if *actor == first));
        if excluded {
            let reason = format!(
                "\"{pattern}\" is both an alias and an exclusion of {}: it would never be found; remove one",
                id(first)
            );
            return Some((vec![first], pattern.to_owned(), reason));
        }
    }
    None
}

/// Pattern strings and their roles, one entry per distinct string.
#[derive(Default)]
struct PatternTable {
    patterns: Vec<String>,
    roles: Vec<Vec<Role>>,
    index: HashMap<String, usize>,
}

impl PatternTable {
    fn add(&mut self, pattern: String, role: Role) {
        // Text is matched with its runs of blanks collapsed, so patterns are too.
        let pattern = collapse_blanks(&pattern);
        let slot = if let Some(&slot) = self.index.get(&pattern) {
            slot
        } else {
            self.index.insert(pattern.clone(), self.patterns.len());
            self.patterns.push(pattern);
            self.roles.push(Vec::new());
            self.patterns.len() - 1
        };
        if let Some(roles) = self.roles.get_mut(slot) {
            roles.push(role);
        }
    }
}

fn case_rule(alias: &str) -> CaseRule {
    let mut letters = alias.chars().filter(|c| c.is_alphabetic()).peekable();
    let first_upper = letters.peek().is_some_and(|c| c.is_uppercase());
    let (count, has_lower) = letters.fold((0, false), |(n, lower), c| (n + 1, lower || c.is_lowercase()));
    if count <= 2 || !has_lower {
        CaseRule::Exact
    } else if first_upper {
        CaseRule::Capitalized
    } else {
        CaseRule::Any
    }
}

/// `matched` differs from `pattern` only in ASCII case (the automaton is
/// ASCII case-insensitive); this applies the stricter rules.
fn case_matches(rule: CaseRule, matched: &str, pattern: &str) -> bool {
    match rule {
        CaseRule::Exact => matched == pattern,
        CaseRule::Capitalized => matched
            .chars()
            .find(|c| c.is_alphabetic())
            .is_some_and(char::is_uppercase),
        CaseRule::Any => true,
    }
}

/// An exclusion's capitalized words must be capitalized in the text too, its other words may be
/// either ("Indian Subcontinent" as "Indian subcontinent"), so that a name excluded is not read
/// into prose: "India today is", "the US open to criticism", "Washington times its sanctions"
/// keep their mention. `matched` differs from `pattern` only in ASCII case.
fn exclusion_case_matches(matched: &str, pattern: &str) -> bool {
    let mut in_word = false;
    matched.chars().zip(pattern.chars()).all(|(m, p)| {
        let word_start = !in_word;
        in_word = is_word_char(p);
        !(word_start && p.is_uppercase()) || m.is_uppercase()
    })
}

/// Letters, digits and combining marks continue a word; apostrophes,
/// hyphens and everything else end it.
fn is_word_char(c: char) -> bool {
    if matches!(c, '\'' | '’' | 'ʼ' | '`') {
        return false;
    }
    c.is_alphanumeric()
        || matches!(c,
            '\u{0300}'..='\u{036f}'
            | '\u{1ab0}'..='\u{1aff}'
            | '\u{1dc0}'..='\u{1dff}'
            | '\u{20d0}'..='\u{20ff}'
            | '\u{fe20}'..='\u{fe2f}'
            | '\u{200d}')
}

/// Whether `outside`, next to a match whose edge character is `edge`, continues its word. A
/// letter of a script written without spaces between words (Chinese, Japanese kana, Thai, Lao,
/// Khmer, Myanmar) does not continue a word of a spaced script, nor the other way round:
/// "美国和China的关系" mentions China, as "US(美国)" mentions the US. Nor does Hangul, whose
/// particles join the word before them: "China는" mentions China. Within such a script a
/// neighbour continues the word, so that an alias "印度" (India) is not read in "印度尼西亚"
/// (Indonesia), nor "인도" (India) in "인도네시아".
fn continues_word(outside: char, edge: Option<char>) -> bool {
    is_word_char(outside) && edge.is_none_or(|edge| joined_script(edge) == joined_script(outside))
}

/// The scripts whose letters join a neighbouring word with no space: `Some` of one of them
/// (unspaced scripts, Hangul), `None` for the others.
fn joined_script(c: char) -> Option<u8> {
    if is_unspaced_script(c) {
        Some(0)
    } else if matches!(c, '\u{1100}'..='\u{11ff}' | '\u{3130}'..='\u{318f}' | '\u{a960}'..='\u{a97f}' | '\u{ac00}'..='\u{d7af}' | '\u{d7b0}'..='\u{d7ff}')
    {
        Some(1)
    } else {
        None
    }
}

fn is_unspaced_script(c: char) -> bool {
    matches!(c,
        '\u{0e00}'..='\u{0eff}'       // Thai, Lao
        | '\u{1000}'..='\u{109f}'     // Myanmar
        | '\u{1780}'..='\u{17ff}'     // Khmer
        | '\u{3040}'..='\u{30ff}'     // Hiragana, Katakana
        | '\u{31f0}'..='\u{31ff}'     // Katakana phonetic extensions
        | '\u{3400}'..='\u{4dbf}'     // CJK extension A
        | '\u{4e00}'..='\u{9fff}'     // CJK unified ideographs
        | '\u{f900}'..='\u{faff}'     // CJK compatibility ideographs
        | '\u{ff66}'..='\u{ff9f}'     // halfwidth Katakana
        | '\u{20000}'..='\u{3134f}') // CJK extensions B-G
}

/// Whether the visible character before `at` continues the word that starts there (invisible
/// characters are read past).
fn word_char_before(text: &str, at: usize) -> bool {
    let edge = text.get(at..).and_then(|s| s.chars().find(|&c| !is_invisible(c)));
    text.get(..at)
        .and_then(|s| s.chars().rev().find(|&c| !is_invisible(c)))
        .is_some_and(|c| continues_word(c, edge))
}

/// Whether the visible character at `at` continues the word that ends there: "India\u{ad}napolis"
/// is one word, so it holds no mention of India.
fn word_char_at(text: &str, at: usize) -> bool {
    let edge = text.get(..at).and_then(|s| s.chars().rev().find(|&c| !is_invisible(c)));
    text.get(at..)
        .and_then(|s| s.chars().find(|&c| !is_invisible(c)))
        .is_some_and(|c| continues_word(c, edge))
}

fn bounded(text: &str, start: usize, end: usize) -> bool {
    !word_char_before(text, start) && !word_char_at(text, end)
}

/// Words before a name that do not make it another person's name.
const TITLES: &[&str] = &[
    "Mr",
    "Mrs",
    "Ms",
    "Dr",
    "Sir",
    "President",
    "Minister",
    "Premier",
    "PM",
    "General",
    "Gen",
    "Marshal",
    "Chairman",
    "Chief",
    "Secretary",
    "Senator",
    "Ambassador",
    "Governor",
    "Former",
];

/// Words that open sentences (function words, auxiliaries, common adverbs): capitalized there,
/// they are not the first part of a name. A list, not a rule such as "-ly", which would take
/// "Emily" and "Kelly" too.
const SENTENCE_OPENERS: &[&str] = &[
    "a",
    "about",
    "above",
    "across",
    "actually",
    "after",
    "afterwards",
    "again",
    "against",
    "all",
    "along",
    "already",
    "also",
    "although",
    "amid",
    "among",
    "an",
    "and",
    "another",
    "any",
    "apparently",
    "are",
    "as",
    "at",
    "because",
    "before",
    "behind",
    "below",
    "besides",
    "between",
    "both",
    "but",
    "by",
    "certainly",
    "clearly",
    "consequently",
    "could",
    "currently",
    "despite",
    "did",
    "do",
    "does",
    "during",
    "each",
    "earlier",
    "either",
    "especially",
    "even",
    "eventually",
    "every",
    "evidently",
    "few",
    "finally",
    "first",
    "for",
    "fortunately",
    "from",
    "further",
    "had",
    "has",
    "have",
    "he",
    "hence",
    "her",
    "here",
    "his",
    "how",
    "however",
    "i",
    "if",
    "in",
    "indeed",
    "initially",
    "instead",
    "interestingly",
    "ironically",
    "is",
    "it",
    "its",
    "last",
    "later",
    "like",
    "likewise",
    "many",
    "meanwhile",
    "more",
    "moreover",
    "most",
    "much",
    "my",
    "naturally",
    "neither",
    "never",
    "nevertheless",
    "next",
    "no",
    "nonetheless",
    "nor",
    "not",
    "notably",
    "now",
    "obviously",
    "occasionally",
    "oddly",
    "of",
    "officially",
    "on",
    "once",
    "one",
    "only",
    "or",
    "ostensibly",
    "other",
    "our",
    "over",
    "particularly",
    "perhaps",
    "previously",
    "probably",
    "publicly",
    "quickly",
    "rather",
    "reportedly",
    "should",
    "since",
    "so",
    "some",
    "soon",
    "still",
    "such",
    "that",
    "the",
    "their",
    "then",
    "there",
    "therefore",
    "these",
    "they",
    "this",
    "those",
    "though",
    "through",
    "thus",
    "to",
    "today",
    "tomorrow",
    "too",
    "ultimately",
    "under",
    "unfortunately",
    "unless",
    "unlike",
    "until",
    "upon",
    "usually",
    "was",
    "we",
    "were",
    "what",
    "when",
    "where",
    "whether",
    "which",
    "while",
    "who",
    "whose",
    "why",
    "with",
    "within",
    "without",
    "would",
    "yesterday",
    "yet",
    "you",
    "your",
];

/// Whether the word at `start..end` is part of a longer name: the word just
/// before it (across blanks and line breaks only) is capitalized and not a title,
/// nor a common word that opens the sentence ("But Khan said", not "Sadiq Khan
/// said"), or is a person's initials ("A.Q. Khan"); or the word just after it is capitalized.
fn inside_another_name(text: &str, start: usize, end: usize) -> bool {
    let capitalized = |w: &str| w.chars().next().is_some_and(char::is_uppercase);
    let before = text[..start].trim_end_matches(is_blank_or_invisible);
    if ends_with_initials(before) {
        return true;
    }
    let previous = (before.len() < start)
        .then(|| before.rsplit(|c: char| !is_word_char(c)).next())
        .flatten()
        .filter(|w| !w.is_empty());
    let names_before = previous.is_some_and(|w| {
        let ahead =
            before[..before.len() - w.len()].trim_end_matches(|c: char| c.is_whitespace() || "\"'“‘([".contains(c));
        let sentence_start = ahead.is_empty() || ahead.ends_with(['.', '!', '?', ':', ';']);
        let opener = || SENTENCE_OPENERS.contains(&w.to_lowercase().as_str());
        capitalized(w) && !TITLES.contains(&w) && !(sentence_start && opener())
    });
    let after = text[end..].trim_start_matches(is_blank_or_invisible);
    let next = (after.len() < text.len() - end)
        .then(|| after.split(|c: char| !is_word_char(c)).next())
        .flatten()
        .filter(|w| !w.is_empty());
    names_before || next.is_some_and(capitalized)
}

/// `… A.Q.`, `… A. Q.`: text that ends with a person's initials: a word of two or more capital
/// letters each with its stop (not an acronym such as "U.S." or "P.M."), or two single initials.
/// "Plan B." and "Vitamin C." end in one capital only.
fn ends_with_initials(text: &str) -> bool {
    const ACRONYMS: &[&str] = &[
        "U.S.", "U.S.A.", "U.K.", "U.N.", "E.U.", "U.A.E.", "D.C.", "P.M.", "F.M.", "N.Y.", "L.A.",
    ];
    let mut words = text
        .rsplit(is_blank)
        .map(|w| w.trim_start_matches(['(', '[', '"', '“', '‘']));
    let initials = |word: &str| {
        word.strip_suffix('.').is_some_and(|body| {
            body.split('.').all(|part| {
                let mut chars = part.chars();
                matches!((chars.next(), chars.next()), (Some(c), None) if c.is_uppercase())
            })
        })
    };
    let Some(last) = words.next().filter(|w| initials(w)) else {
        return false;
    };
    if last.matches('.').count() >= 2 {
        return !ACRONYMS.contains(&last);
    }
    words.next().is_some_and(|w| initials(w) && w.matches('.').count() == 1)
}

/// A space, tab or line break, or a Unicode space (the no-break space of text taken from HTML,
/// thin and narrow spaces, the zero-width space...): what separates the words of an alias in text.
fn is_blank(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t' | '\n' | '\r' | '\u{0b}' | '\u{0c}' | '\u{85}' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200b}' | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}'
    )
}

/// A character that web pages put inside words and that a reader does not see: a soft hyphen
/// (`Paki\u{ad}stan`), a word joiner, a byte-order mark. The matcher reads past it, as if it were
/// not there. A zero-width space is not one of them: it separates words (Thai and Khmer text, long
/// hashtags), so it is a blank.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{ad}' | '\u{2060}' | '\u{feff}')
}

/// What lies between words without being one: a blank or an invisible character.
fn is_blank_or_invisible(c: char) -> bool {
    is_blank(c) || is_invisible(c)
}

/// `phrase` with each run of blanks as one space, as the matcher reads text.
fn collapse_blanks(phrase: &str) -> String {
    phrase
        .split(is_blank)
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The text as the alias matcher reads it: each run of blanks ([`is_blank`]: spaces, tabs, line
/// breaks, Unicode spaces) as one space, so that a multi-word alias matches across hard wraps
/// (`\r\n` too), doubled spaces and the no-break spaces of text taken from HTML; and without
/// the invisible characters ([`is_invisible`]) that web pages put inside words.
struct Haystack<'a> {
    bytes: Cow<'a, [u8]>,
    /// Where in the text each byte of `bytes` is, when runs were collapsed.
    origin: Option<Vec<u32>>,
}

impl<'a> Haystack<'a> {
    fn new(text: &'a str) -> Self {
        // One pass: an invisible character, a blank other than a space, or a space right after a
        // blank.
        let mut after_blank = false;
        let collapses = text.chars().any(|c| {
            let blank = is_blank(c);
            let changes = is_invisible(c) || (blank && (c != ' ' || after_blank));
            after_blank = blank;
            changes
        });
        // Offsets are kept in 32 bits (a record is 64 MiB at most by default); a longer text is
        // matched as it is.
        if !collapses || u32::try_from(text.len()).is_err() {
            return Haystack {
                bytes: Cow::Borrowed(text.as_bytes()),
                origin: None,
            };
        }
        let (mut bytes, mut origin) = (Vec::with_capacity(text.len()), Vec::with_capacity(text.len()));
        let mut after_space = false;
        for (position, c) in text.char_indices() {
            if is_invisible(c) {
                continue; // neither a character of the match nor a break in a run of blanks
            }
            let space = is_blank(c);
            if space && !after_space {
                bytes.push(b' ');
                origin.push(position as u32); // below u32::MAX: checked above
            } else if !space {
                let mut utf8 = [0; 4];
                for (i, &byte) in c.encode_utf8(&mut utf8).as_bytes().iter().enumerate() {
                    bytes.push(byte);
                    origin.push((position + i) as u32);
                }
            }
            after_space = space;
        }
        Haystack {
            bytes: Cow::Owned(bytes),
            origin: Some(origin),
        }
    }

    /// The matched bytes `start..end` as text (runs collapsed).
    fn slice(&self, start: usize, end: usize) -> Option<&str> {
        std::str::from_utf8(self.bytes.get(start..end)?).ok()
    }

    /// The span of the text that the bytes `start..end` (not empty) came from. A match starts and
    /// ends on a character (patterns are whole strings) and never on a blank (patterns are
    /// trimmed), so its last byte is the last byte of a character of the text.
    fn text_span(&self, start: usize, end: usize) -> (usize, usize) {
        match &self.origin {
            Some(origin) => (origin[start] as usize, origin[end - 1] as usize + 1),
            None => (start, end),
        }
    }
}

/// The words of a mention: combining accents stay in their word (decomposed text).
fn words(mention: &str) -> impl Iterator<Item = &str> {
    mention.split(|c: char| !is_word_char(c)).filter(|w| !w.is_empty())
}

/// Whether `a` and `b` are one word, whatever their ASCII case and however their accents are
/// written (composed or decomposed).
fn same_word(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        return a.eq_ignore_ascii_case(b);
    }
    let folded = |s: &str| s.nfc().map(|c| c.to_ascii_lowercase()).collect::<String>();
    folded(a) == folded(b)
}

/// `phrase` as written, composed (NFC) and decomposed (NFD): text copied from macOS or some web
/// pages writes "é" as "e" and a combining accent, and an alias "Türkiye" must match it either
/// way. The same phrase when it has nothing to compose or decompose.
fn normalization_variants(phrase: &str) -> Vec<String> {
    let mut out = vec![phrase.to_owned()];
    for variant in [phrase.nfc().collect::<String>(), phrase.nfd().collect::<String>()] {
        if !out.contains(&variant) {
            out.push(variant);
        }
    }
    out
}

/// A combining form (`Sino-`) as typeset too: with an en dash (`Sino–Indian`) or a non-breaking
/// hyphen (U+2011).
fn dash_variants(phrase: &str) -> Vec<String> {
    match phrase.strip_suffix('-') {
        Some(stem) if !stem.is_empty() => vec![phrase.to_owned(), format!("{stem}–"), format!("{stem}\u{2011}")],
        _ => vec![phrase.to_owned()],
    }
}

fn last_char_len(pattern: &str) -> usize {
    pattern.chars().next_back().map_or(0, char::len_utf8)
}

/// `US$3 billion`, `HK$`: an alias right before a dollar sign is a currency's code.
fn is_currency_code(text: &str, end: usize) -> bool {
    text.get(end..)
        .is_some_and(|rest| rest.trim_start_matches(is_invisible).starts_with('$'))
}

/// Capitals of the built-in actors, which open news stories as their place of writing.
const DATELINE_CITIES: &[&str] = &[
    "Washington",
    "Beijing",
    "New Delhi",
    "Delhi",
    "Islamabad",
    "Rawalpindi",
    "Moscow",
];

/// Wire agencies whose datelines need no dash: `New Delhi, Dec 5 (PTI) The…`.
const WIRE_AGENCIES: &[&str] = &["PTI", "IANS", "ANI", "UNI", "APP", "NNI", "PPI"];

/// How far into a document a dateline can open a line: past its headline and byline, not in its body.
const DATELINE_REACH: usize = 400;

/// Where in a text a dateline can stand: at the start of a line (no list or quote marker before
/// it) near the start of the document.
#[derive(Clone, Copy)]
struct DatelineScope {
    /// The text opens a line of its document.
    opens_line: bool,
    /// How far into the text a dateline can start; `None` past [`DATELINE_REACH`].
    reach: Option<usize>,
}

impl DatelineScope {
    /// A whole document.
    fn document() -> Self {
        DatelineScope {
            opens_line: true,
            reach: Some(DATELINE_REACH),
        }
    }

    /// The part of `document` that starts at `start` (a sentence). A dateline can also open a line
    /// inside it: a headline without a full stop runs on into the dateline below it.
    fn within(document: &str, start: usize) -> Self {
        DatelineScope {
            opens_line: document.get(..start).is_some_and(ends_a_line),
            reach: DATELINE_REACH.checked_sub(start),
        }
    }

    /// Whether a match at `start` of `text` opens a line within reach.
    fn opens_line(self, text: &str, start: usize) -> bool {
        self.reach.is_some_and(|reach| start <= reach)
            && text.get(..start).is_some_and(|before| {
                let before = before.trim_end_matches(is_indent);
                if before.is_empty() {
                    self.opens_line
                } else {
                    before.ends_with(is_line_break)
                }
            })
    }
}

/// Whether `before` ends where a line starts: it is empty, or its last line holds only indent.
fn ends_a_line(before: &str) -> bool {
    let before = before.trim_end_matches(is_indent);
    before.is_empty() || before.ends_with(is_line_break)
}

fn is_line_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r' | '\u{0b}' | '\u{0c}' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

/// What may indent a line, or stand between the parts of a dateline on one line: blanks other
/// than line breaks (a no-break space of HTML, a tab), and invisible characters.
fn is_indent(c: char) -> bool {
    (is_blank(c) && !is_line_break(c)) || is_invisible(c)
}

/// Where the dateline ends that the match `start..end` opens, if it is one: a news story's place
/// of writing, not an actor (nor is what its brackets name). A built-in capital, then an optional
/// place or date after a comma, optional agencies or regions in brackets, and a dash or colon:
/// `WASHINGTON (Reuters) - …`, `BEIJING, March 5 (Xinhua) -- …`, `New Delhi [India], May 5
/// (ANI): …`, `New Delhi: …`. Without a date or brackets, the capital must be written in
/// capitals or followed by a colon, since "Washington — not Beijing — sets the rules" opens a
/// sentence about the state. Without a dash or colon, a wire agency's initials in brackets end it
/// (`New Delhi, Dec 5 (PTI) The…`), or the end of its line (`NEW DELHI` on a line of its own).
/// The caller checks that the match opens a line near a document's start.
fn dateline(text: &str, start: usize, end: usize) -> Option<usize> {
    let matched = text.get(start..end)?;
    let place = collapse_blanks(&matched.replace(is_invisible, ""));
    if !DATELINE_CITIES.iter().any(|city| city.eq_ignore_ascii_case(&place)) {
        return None;
    }
    let tail = DatelineTail::read(text.get(end..)?)?;
    let capitals = !matched.chars().any(char::is_lowercase);
    // "New Delhi: The war in Gaza…" is a dateline; "Washington: A Superpower Adrift", a headline
    // without a full stop, names the state.
    let colon = tail.colon
        && text
            .trim_end_matches(|c: char| is_blank(c) || matches!(c, '"' | '”' | '’' | ')'))
            .ends_with(['.', '!', '?']);
    let opens_text = text[..start].chars().all(is_blank_or_invisible);
    if !opens_text {
        // A line inside the text (a headline without a full stop ran on into it): only a
        // dateline no prose reads like, in capitals or dated, with its dash, colon or agency.
        let marked = !tail.ends_line && !tail.ends_text;
        return ((capitals || tail.dated) && marked).then_some(end + tail.len);
    }
    // A place alone on its line, or alone in its text (a sentence of its own).
    let alone = tail.ends_line || tail.ends_text;
    (capitals || tail.dated || tail.bracketed || colon || alone).then_some(end + tail.len)
}

/// What follows the place of a dateline, up to its dash or colon.
struct DatelineTail {
    /// `, March 5` or `, 5 March 2025`.
    dated: bool,
    /// `(Reuters)`, `[India]`.
    bracketed: bool,
    /// It ends in a colon rather than a dash.
    colon: bool,
    /// A line break follows it, with no dash or colon.
    ends_line: bool,
    /// The text ends after it, with no dash or colon.
    ends_text: bool,
    /// Its length in bytes, up to the dash or colon.
    len: usize,
}

impl DatelineTail {
    /// The tail at the start of `rest`: comma parts that are a date or a capitalized place
    /// (`, D.C.`), bracketed capitalized names, then a dash or colon. `None` when `rest` goes on
    /// otherwise ("Beijing, in March 2023, brokered…", "Beijing (and Moscow) –…").
    fn read(rest: &str) -> Option<DatelineTail> {
        let mut tail = DatelineTail {
            dated: false,
            bracketed: false,
            colon: false,
            ends_line: false,
            ends_text: false,
            len: 0,
        };
        let mut agency = false;
        let mut at = rest;
        for _ in 0..4 {
            if let Some(part) = at.strip_prefix(',') {
                let (words, after) = Self::words_until(part, [',', '(', '[', ':', '—', '–', '-']);
                let date = Self::is_date(&words);
                tail.dated |= date;
                // A place of its own (", D.C."), not a list of capitals ("BEIJING, MOSCOW AND
                // ISLAMABAD — THE NEW AXIS" is a headline that names three).
                let place = words.iter().all(|w| w.starts_with(|c: char| c.is_uppercase()))
                    && !words.iter().any(|w| w.eq_ignore_ascii_case("and") || *w == "&")
                    && !DATELINE_CITIES
                        .iter()
                        .any(|city| city.eq_ignore_ascii_case(&words.join(" ")));
                if !date && !place {
                    return None;
                }
                at = after;
            } else if let Some(part) = at.strip_prefix('/') {
                // A story filed from two capitals: `WASHINGTON/BEIJING (Reuters) -`.
                let (words, after) = Self::words_until(part, ['/', ',', '(', '[', ':', '—', '–', '-']);
                let joined = words.join(" ");
                if !DATELINE_CITIES.iter().any(|city| city.eq_ignore_ascii_case(&joined)) {
                    return None;
                }
                at = after;
            } else if let Some(close) = at
                .trim_start_matches(is_indent)
                .strip_prefix(['(', '['])
                .and_then(|b| b.find([')', ']']))
            {
                let open = at.len() - at.trim_start_matches(is_indent).len() + 1;
                let inside = &at[open..open + close];
                let names = !inside.is_empty()
                    && inside.len() <= 40
                    && inside.split(is_indent).filter(|w| !w.is_empty()).all(|w| {
                        w.starts_with(|c: char| c.is_uppercase()) && !w.contains(|c: char| c.is_ascii_digit())
                    });
                if !names {
                    return None;
                }
                tail.bracketed = true;
                // `(PTI)`, `(IANS)`: a South Asian wire agency, whose copy starts its sentence with
                // no dash.
                agency = WIRE_AGENCIES.contains(&inside);
                at = &at[open + close + 1..];
            } else {
                break;
            }
        }
        let before_mark = at.trim_start_matches(is_indent);
        let spaced_before = before_mark.len() < at.len();
        let spaced_after = |after: &str| after.starts_with(is_blank_or_invisible);
        tail.ends_line = before_mark.starts_with(is_blank);
        tail.ends_text = before_mark.is_empty();
        if tail.ends_line || tail.ends_text || (agency && before_mark.starts_with(char::is_uppercase)) {
            tail.len = rest.len() - before_mark.len();
            return Some(tail);
        }
        // `:` and `-` / `--` stand between spaces (a hyphen without them joins words: "Washington-based");
        // a dash may touch the words around it ("WASHINGTON—The").
        let colon = if let Some(after) = before_mark.strip_prefix(':') {
            spaced_after(after).then_some(true)?
        } else if before_mark.starts_with(['—', '–']) {
            false
        } else {
            let after = before_mark
                .strip_prefix("--")
                .or_else(|| before_mark.strip_prefix('-'))?;
            (spaced_before && spaced_after(after)).then_some(false)?
        };
        tail.colon = colon;
        tail.len = rest.len() - before_mark.len();
        Some(tail)
    }

    /// The words of `part` up to the first of `stops`, and what follows them.
    fn words_until<const N: usize>(part: &str, stops: [char; N]) -> (Vec<&str>, &str) {
        let cut = part.find(stops).unwrap_or(part.len()).min(40);
        let cut = (0..=cut).rev().find(|&i| part.is_char_boundary(i)).unwrap_or(0);
        let (words, after) = part.split_at(cut);
        (words.split_whitespace().collect(), after)
    }

    /// `March 5`, `5 March`, `March 5 2025`, `Mar. 5`: a month and a day.
    fn is_date(words: &[&str]) -> bool {
        let month = words.iter().any(|w| MONTH_NAMES.contains(&w.trim_end_matches('.')));
        let day = words
            .iter()
            .any(|w| (1..=2).contains(&w.len()) && w.bytes().all(|b| b.is_ascii_digit()));
        month && day && words.len() <= 3
    }
}

fn apostrophe_variants(phrase: &str) -> Vec<String> {
    let mut out = vec![phrase.to_owned()];
    if phrase.contains('\'') {
        out.push(phrase.replace('\'', "’"));
    }
    if phrase.contains('’') {
        out.push(phrase.replace('’', "'"));
    }
    out
}

fn exclusion_variants(phrase: &str) -> Vec<String> {
    let mut out = Vec::new();
    for variant in apostrophe_variants(phrase) {
        let hyphenated = variant.replace(' ', "-");
        let spaced = variant.replace('-', " ");
        // Typeset: "Indo–Pacific" with an en dash or a non-breaking hyphen.
        let dashed = variant.replace('-', "–");
        let unbroken = variant.replace('-', "\u{2011}");
        for v in [variant, hyphenated, spaced, dashed, unbroken] {
            if !out.contains(&v) {
                out.push(v);
            }
        }
    }
    out
}

/// Drops hits that lie inside an exclusion occurrence of their own actor.
fn drop_excluded(mut hits: Vec<Hit>, mut exclusions: Vec<Hit>, actors: usize) -> Vec<Hit> {
    if exclusions.is_empty() {
        return hits;
    }
    hits.sort_by_key(|h| h.start);
    exclusions.sort_by_key(|e| e.start);
    // For each actor, the furthest end of its exclusions that start at or
    // before the current hit: the hit is covered iff that reaches its end.
    let mut reach: Vec<Option<usize>> = vec![None; actors];
    let mut pending = exclusions.iter().peekable();
    hits.retain(|hit| {
        while let Some(e) = pending.next_if(|e| e.start <= hit.start) {
            if let Some(slot) = reach.get_mut(e.actor) {
                *slot = Some(slot.map_or(e.end, |r| r.max(e.end)));
            }
        }
        reach.get(hit.actor).copied().flatten().is_none_or(|r| r < hit.end)
    });
    hits
}

/// Whether `start..end` overlaps one of `mentions`, which are sorted by start
/// and disjoint (as `leftmost_longest` leaves them), so their ends are sorted
/// too: a binary search, as a long sentence may hold thousands of mentions.
fn overlaps_any(mentions: &[Mention], start: usize, end: usize) -> bool {
    let first_ending_after = mentions.partition_point(|m| m.span.end <= start);
    mentions.get(first_ending_after).is_some_and(|m| m.span.start < end)
}

fn leftmost_longest(mut hits: Vec<Hit>) -> Vec<Mention> {
    hits.sort_by(|a, b| {
        a.start
            .cmp(&b.start)
            .then(b.end.cmp(&a.end))
            .then(a.actor.cmp(&b.actor))
    });
    let mut out: Vec<Mention> = Vec::with_capacity(hits.len());
    let mut taken_to = 0;
    for hit in hits {
        if hit.start >= taken_to && hit.end > hit.start {
            out.push(Mention {
                actor: hit.actor,
                span: Span::new(hit.start, hit.end),
            });
            taken_to = hit.end;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::Actor;
    use proptest::prelude::*;

    fn finder(actors: &ActorSet) -> MentionFinder {
        MentionFinder::new(actors).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn an_alias_of_two_actors_or_excluded_by_its_own_actor_is_refused() {
        let mk = |alias: &str| ActorSet::new(vec![Actor::new("mk", "Middle Kingdom", [alias])]).unwrap();
        let error = MentionFinder::new(&ActorSet::default().extend(mk("CHINA"))).err();
        assert!(matches!(error, Some(Error::Actors { .. })), "{error:?}");
        let error = error.map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("names two actors, china and mk"), "case aside: {error}");
        let shared =
            ActorSet::default().extend(ActorSet::new(vec![Actor::new("mk", "Middle Kingdom", ["China"])]).unwrap());
        let error = MentionFinder::new(&shared)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains("\"China\" names two actors, china and mk"), "{error}");
        let mut actor = Actor::new("eu", "EU", ["EU", "Brussels"]);
        actor.exclusions = vec!["Brussels".into()];
        let error = MentionFinder::new(&ActorSet::new(vec![actor]).unwrap())
            .err()
            .map(|e| e.to_string());
        assert!(error.is_some_and(|e| e.contains("both an alias and an exclusion of eu")));
    }

    /// (actor id, matched text) pairs found by the built-in set.
    fn found(text: &str) -> Vec<(String, String)> {
        let actors = ActorSet::builtin();
        finder(&actors)
            .find(text)
            .iter()
            .map(|m| {
                let id = actors.get(m.actor).map(|a| a.id.clone()).unwrap_or_default();
                (id, m.span.slice(text).to_owned())
            })
            .collect()
    }

    fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
        expected.iter().map(|&(id, t)| (id.to_owned(), t.to_owned())).collect()
    }

    fn assert_found(text: &str, expected: &[(&str, &str)]) {
        assert_eq!(found(text), pairs(expected), "in {text:?}");
    }

    #[test]
    fn case_rules() {
        assert_eq!(case_rule("US"), CaseRule::Exact);
        assert_eq!(case_rule("U.S.A."), CaseRule::Exact);
        assert_eq!(case_rule("PRC"), CaseRule::Exact);
        assert_eq!(case_rule("Xi"), CaseRule::Exact);
        assert_eq!(case_rule("China"), CaseRule::Capitalized);
        assert_eq!(case_rule("Sino-"), CaseRule::Capitalized);
        assert_eq!(case_rule("the White House"), CaseRule::Any);
    }

    #[test]
    fn us_versus_pronoun() {
        assert_found(
            "Let us see what the US and the U.S.A. and USA do. Join us.",
            &[("us", "US"), ("us", "U.S.A."), ("us", "USA")],
        );
        assert_found("Trust US, said the ad.", &[("us", "US")]);
        assert_found("Usually the Us team wins.", &[]);
    }

    #[test]
    fn capitalized_aliases() {
        assert_found("fine china and american cheese", &[]);
        assert_found("CHINA WARNS AMERICA", &[("china", "CHINA"), ("us", "AMERICA")]);
        assert_found("China and Americans", &[("china", "China"), ("us", "Americans")]);
    }

    #[test]
    fn xi_is_case_sensitive_and_bounded() {
        assert_found("Xi met Louis XI in Xinjiang.", &[("china", "Xi")]);
        assert_found("President Xi Jinping spoke.", &[("china", "Xi Jinping")]);
        assert_found("He flew to Xi'an and Xi’an.", &[]);
    }

    #[test]
    fn each_alias_class() {
        assert_found(
            "The White House, the Pentagon and Capitol Hill backed the Biden administration.",
            &[
                ("us", "White House"),
                ("us", "Pentagon"),
                ("us", "Capitol Hill"),
                ("us", "Biden administration"),
            ],
        );
        assert_found(
            "Beijing, the CCP and the People's Republic of China.",
            &[
                ("china", "Beijing"),
                ("china", "CCP"),
                ("china", "People's Republic of China"),
            ],
        );
        assert_found(
            "The People’s Republic of China replied.",
            &[("china", "People’s Republic of China")],
        );
        assert_found(
            "New Delhi and Narendra Modi; Islamabad and Rawalpindi; the Kremlin and Putin.",
            &[
                ("india", "New Delhi"),
                ("india", "Narendra Modi"),
                ("pakistan", "Islamabad"),
                ("pakistan", "Rawalpindi"),
                ("russia", "Kremlin"),
                ("russia", "Putin"),
            ],
        );
        // Names op-eds use for a government, its leaders and agencies.
        assert_found(
            "Imran Khan and the ISI; Indo-Pak talks; Delhi and the BSF; USAID and the CIA.",
            &[
                ("pakistan", "Imran Khan"),
                ("pakistan", "ISI"),
                ("india", "Indo"),
                ("pakistan", "Pak"),
                ("india", "Delhi"),
                ("india", "BSF"),
                ("us", "USAID"),
                ("us", "CIA"),
            ],
        );
        assert_found("The Delhi Capitals won; Pak choi; the isi.", &[]);
        assert_found(
            "The Fed raised rates; the Federal Reserve's rise hit the rupee.",
            &[("us", "Fed"), ("us", "Federal Reserve")],
        );
        assert_found(
            "Fed up with tariffs, fans watched the Fed Cup; he fed the Soviets.",
            &[],
        );
    }

    #[test]
    fn word_boundaries() {
        assert_found("Chinatown, Indiana, Russiagate and the Americas.", &[]);
        assert_found("USB sticks, USDT and MUSE.", &[]);
        assert_found("Indians and Indian food", &[("india", "Indians"), ("india", "Indian")]);
        assert_found("Chinà", &[]);
        assert_found("China\u{301}", &[]);
    }

    #[test]
    fn possessives() {
        assert_found(
            "America's role, China’s rise and the U.S.'s debt.",
            &[("us", "America"), ("china", "China"), ("us", "U.S.")],
        );
    }

    #[test]
    fn hyphen_compounds() {
        assert_found(
            "US-China trade and India-Pakistan ties.",
            &[
                ("us", "US"),
                ("china", "China"),
                ("india", "India"),
                ("pakistan", "Pakistan"),
            ],
        );
        assert_found(
            "Sino-Indian and Sino-US ties, not Sino ties.",
            &[("china", "Sino"), ("india", "Indian"), ("china", "Sino"), ("us", "US")],
        );
        assert_found("the U.S.-led bloc", &[("us", "U.S.")]);
        assert_found("the Indo-China border", &[("india", "Indo"), ("china", "China")]);
        assert_found("the Indo-Pacific and Russo-Ukrainian war", &[("russia", "Russo")]);
        assert_found(
            "The Sino–Indian war and Sino\u{2011}US ties.",
            &[("china", "Sino"), ("india", "Indian"), ("china", "Sino"), ("us", "US")],
        );
        assert_found("the Indo–Pacific and Indo\u{2011}Pacific", &[]);
    }

    #[test]
    fn currency_codes_are_not_mentions() {
        assert_found("Pakistan received a US$3 billion loan.", &[("pakistan", "Pakistan")]);
        assert_found(
            "Pakistan received a US\u{2060}$3 billion loan.",
            &[("pakistan", "Pakistan")],
        );
        assert_found("worth US$ 1.2 trillion to the US economy", &[("us", "US")]);
    }

    #[test]
    fn datelines_are_not_mentions() {
        let found_in = |text: &str| found(text).into_iter().map(|(id, _)| id).collect::<Vec<_>>();
        let none = Vec::<String>::new();
        assert_eq!(
            found_in("WASHINGTON (Reuters) - India and Pakistan agreed."),
            ["india", "pakistan"]
        );
        assert_eq!(found_in("BEIJING, March 5 (Xinhua) -- India protested."), ["india"]);
        assert_eq!(found_in("MOSCOW — Talks with India ended."), ["india"]);
        assert_eq!(found_in("WASHINGTON—The talks ended."), none);
        assert_eq!(found_in("New Delhi [India], May 5 (ANI): China objected."), ["china"]);
        assert_eq!(found_in("New Delhi: The war in Gaza goes on."), none);
        assert_eq!(found_in("  ISLAMABAD: Talks ended."), none);
        assert_eq!(found_in("WASHINGTON, D.C. — The vote failed."), none);
        assert_eq!(found_in("WASHINGTON/BEIJING (Reuters) - India watched."), ["india"]);
        assert_eq!(found_in("Washington/Beijing rivalry: a primer."), ["us", "china"]);
        // Mentions of the state.
        assert_eq!(found_in("Washington — not Beijing — sets the rules."), ["us", "china"]);
        assert_eq!(found_in("US: tariffs to rise"), ["us"]);
        assert_eq!(found_in("CHINA: THE NEXT SUPERPOWER"), ["china"]);
        assert_eq!(found_in("TRUMP: We will put tariffs on China."), ["us", "china"]);
        assert_eq!(found_in("Washington-based analysts said: no."), ["us"]);
        assert_eq!(found_in("Washington and Beijing: two capitals"), ["us", "china"]);
        assert_eq!(found_in("Washington: A Superpower Adrift"), ["us"]);
        assert_eq!(
            found_in("BEIJING, MOSCOW AND ISLAMABAD — THE NEW AXIS"),
            ["china", "russia", "pakistan"]
        );
        assert_eq!(
            found_in("WASHINGTON, MOSCOW — A tale of two capitals."),
            ["us", "russia"]
        );
        assert_eq!(found_in("He met officials in New Delhi: they agreed."), ["india"]);
        // A dateline opens a line, not necessarily the text: a headline without a full stop runs
        // on into it.
        assert_eq!(found_in("Intro.\n  ISLAMABAD: Talks ended."), none);
        assert_eq!(
            found_in("India slams China over border\nNEW DELHI (Reuters) - India accused China."),
            ["india", "china", "india", "china"]
        );
        // Spaced as web pages and Windows text space it: no-break spaces, tabs, CRLF, invisible
        // characters.
        for text in [
            "WASHINGTON (Reuters) -\u{a0}The talks ended.",
            "WASHINGTON (Reuters) -\r\nThe talks ended.",
            "WASHINGTON (Reuters)\t- The talks ended.",
            "\u{a0}BEIJING (Reuters) - The talks ended.",
            "WASHINGTON\u{a0}(Reuters)\u{a0}- The talks ended.",
            "WASHINGTON\u{a0}— The talks ended.",
            "\u{feff}WASH\u{ad}INGTON (Reuters) - The talks ended.",
        ] {
            assert_eq!(found_in(text), none, "{text:?}");
        }
        // Indian wire copy: the agency's initials, then the story with no dash; a capital alone
        // on its line.
        assert_eq!(
            found_in("New Delhi, Dec 5 (PTI) The government said China erred."),
            ["china"]
        );
        assert_eq!(found_in("NEW DELHI (IANS) The talks ended."), none);
        assert_eq!(found_in("NEW DELHI\n\nThe government said talks would go on."), none);
        assert_eq!(found_in("New Delhi\r\nThe talks ended."), none);
        // Inside a text, a line that opens with a capital is a dateline only in capitals or dated,
        // with its dash, colon or agency: prose that a hard wrap put there keeps its mention.
        for (text, expected) in [
            (
                "The message sent by an anxious\nWashington: back off from Taiwan.",
                vec!["us"],
            ),
            (
                "The view from\nBeijing: the West is in decline, and India must choose.",
                vec!["china", "india"],
            ),
            ("Why the world needs\nWashington\nand why it will not last.", vec!["us"]),
            (
                "India's ties with\nMoscow [Russia] - and that is the point.",
                vec!["india", "russia", "russia"],
            ),
            (
                "INDIA WARNS\nBEIJING\n\nIndia on Monday warned China.",
                vec!["india", "china", "india", "china"],
            ),
        ] {
            assert_eq!(found_in(text), expected, "{text:?}");
        }
        // Brackets that name no agency, or a line that goes on, keep the mention.
        assert_eq!(found_in("New Delhi (Reuters) The talks ended."), ["india"]);
        assert_eq!(found_in("MOSCOW (RUS) The talks ended."), ["russia"]);
        assert_eq!(found_in("Beijing (and Moscow) The talks ended."), ["china", "russia"]);
        assert_eq!(found_in("Beijing warned India."), ["china", "india"]);
        for text in [
            "Putin, 72, has ruled Russia for a quarter-century — longer than Brezhnev.",
            "Beijing, in March 2023, brokered a deal — a coup for China.",
            "Moscow (and Beijing) – both veto powers – blocked it.",
            "Beijing, at 10:30 on Monday, announced tariffs.",
            "Delhi, in 2014–19, doubled its imports.",
        ] {
            let first = found(text).into_iter().next().map(|(_, m)| m);
            assert!(first.is_some_and(|m| text.starts_with(&m)), "{text}");
        }
    }

    #[test]
    fn datelines_open_a_line_near_a_document_start() {
        let actors = ActorSet::builtin();
        let finder = finder(&actors);
        let ids = |text: &str| -> Vec<Vec<String>> {
            finder
                .find_in_document(text, &crate::split_sentences(text))
                .iter()
                .map(|s| s.iter().map(|m| actors.get(m.actor).unwrap().id.clone()).collect())
                .collect()
        };
        // The headline, then the dateline: no mention in it.
        assert_eq!(
            ids("Ceasefire holds\n\nISLAMABAD (AP) — Talks ended."),
            [Vec::<String>::new(), vec![]]
        );
        // List items, a quote line, a sentence within a paragraph: mentions.
        let quad = "How the capitals see it:\n- Beijing: an Asian NATO.\n- Moscow: a US tool.";
        assert_eq!(
            ids(quad),
            [
                vec![],
                vec!["china".to_owned()],
                vec!["russia".to_owned(), "us".to_owned()]
            ]
        );
        assert_eq!(
            ids("> Beijing: We will never accept the ruling."),
            [vec!["china".to_owned()]]
        );
        assert_eq!(
            ids("Winners and losers. Islamabad: a loan. Moscow: nothing."),
            [vec![], vec!["pakistan".to_owned()], vec!["russia".to_owned()]]
        );
        // Far into a document, a line that opens with a capital and a colon is prose.
        let body = "The talks went on. ".repeat(30);
        assert_eq!(
            ids(&format!("{body}\nMoscow: nothing at all.")).last().unwrap(),
            &["russia"]
        );
    }

    #[test]
    fn more_newspapers_and_a_city_are_not_actors() {
        assert_found("A USA Today poll and the Washington Examiner agree.", &[]);
        assert_found("The Moscow Times and Pakistan Today reported it.", &[]);
        assert_found(
            "After meeting Ishaq Dar, he flew to Dar es Salaam. Dar said no.",
            &[("pakistan", "Ishaq Dar"), ("pakistan", "Dar")],
        );
    }

    #[test]
    fn exclusions() {
        assert_found("The Washington Post says Washington erred.", &[("us", "Washington")]);
        assert_found("Ships in the Indian Ocean and the South China Sea.", &[]);
        assert_found("Patrols in the East and South China Seas and the Indian ocean.", &[]);
        assert_found("Claims in the South China sea and the East China seas.", &[]);
        assert_found("The U.S. Open and the US Open were rained out.", &[]);
        assert_found(
            "The Peoples' Republic of China and the Peoples Republic of China.",
            &[
                ("china", "Peoples' Republic of China"),
                ("china", "Peoples Republic of China"),
            ],
        );
        assert_found("He paid with American Express.", &[]);
        assert_found("Latin America and African-American voters.", &[]);
        assert_found("African Americans in America.", &[("us", "America")]);
        assert_found(
            "Indian Americans and Indian-Americans backed India.",
            &[("india", "India")],
        );
        assert_found("Taiwan, the Republic of China, objected.", &[]);
        assert_found("An Indian summer of Russian roulette.", &[]);
        assert_found("Melania Trump and Trump.", &[("us", "Trump")]);
        // A capitalized word of an exclusion must be capitalized in the text: prose keeps its mention.
        assert_found("India today is a very different country.", &[("india", "India")]);
        assert_found("This move leaves the US open to criticism.", &[("us", "US")]);
        assert_found("Washington times its sanctions carefully.", &[("us", "Washington")]);
        assert_found("He read India Today and the Washington Times.", &[]);
        // Its other words may be capitalized or not, and a headline in capitals is excluded too.
        assert_found("The Indian Subcontinent and the Indian subcontinent.", &[]);
        assert_found("SHIPS IN THE SOUTH CHINA SEA.", &[]);
        // A lowercase word of an exclusion matches either case.
        assert_found("Fires in Washington state and Washington State.", &[]);
        assert_found("Native Americans and native Americans.", &[]);
    }

    #[test]
    fn exclusion_only_hits_its_own_actor() {
        // "Washington Post" excludes B's "Washington", not A's "Post".
        let actors = ActorSet::new(vec![
            Actor::new("a", "A", ["Post"]),
            Actor::new("b", "B", ["Washington"]).with_exclusions(["Washington Post"]),
        ]);
        let actors = actors.unwrap_or_else(|e| panic!("{e}"));
        let text = "The Washington Post.";
        let mentions = finder(&actors).find(text);
        let spans: Vec<&str> = mentions.iter().map(|m| m.span.slice(text)).collect();
        assert_eq!(spans, ["Post"]);
    }

    #[test]
    fn overlap_with_sorted_disjoint_mentions_is_found_by_search() {
        let mentions: Vec<Mention> = [(2, 5), (5, 9), (12, 20)]
            .iter()
            .map(|&(start, end)| Mention {
                actor: 0,
                span: Span::new(start, end),
            })
            .collect();
        for start in 0..24 {
            for end in start + 1..25 {
                let scanned = mentions.iter().any(|m| m.span.start < end && start < m.span.end);
                assert_eq!(overlaps_any(&mentions, start, end), scanned, "{start}..{end}");
            }
        }
        assert!(!overlaps_any(&[], 0, 5));
    }

    #[test]
    fn leftmost_longest_wins() {
        assert_found(
            "the United States of America and the United States",
            &[("us", "United States of America"), ("us", "United States")],
        );
        let actors = ActorSet::new(vec![
            Actor::new("states", "States", ["States"]),
            Actor::new("us", "US", ["United States"]),
        ]);
        let actors = actors.unwrap_or_else(|e| panic!("{e}"));
        let text = "The United States and other States.";
        let mentions = finder(&actors).find(text);
        let got: Vec<(usize, &str)> = mentions.iter().map(|m| (m.actor, m.span.slice(text))).collect();
        assert_eq!(got, [(1, "United States"), (0, "States")]);
    }

    #[test]
    fn a_failed_long_match_does_not_hide_a_short_one() {
        let actors = ActorSet::new(vec![Actor::new(
            "us",
            "US",
            ["United States", "United States of America"],
        )]);
        let actors = actors.unwrap_or_else(|e| panic!("{e}"));
        let text = "United States of Americana";
        let mentions = finder(&actors).find(text);
        let spans: Vec<&str> = mentions.iter().map(|m| m.span.slice(text)).collect();
        assert_eq!(spans, ["United States"]);
    }

    #[test]
    fn hard_wrapped_aliases() {
        assert_found(
            "the United\nStates and\r\nNew\tDelhi",
            &[("us", "United\nStates"), ("india", "New\tDelhi")],
        );
        // An alias written with a doubled space matches as the text is read.
        let doubled = ActorSet::new(vec![Actor::new("us", "US", ["United  States"])]).unwrap();
        assert_eq!(finder(&doubled).find("the United States").len(), 1);
        // A Windows line break, doubled spaces and mixed runs are one space too; spans stay the text's.
        assert_found(
            "The United\r\nStates,  the  People's \t Republic of  China and New  Delhi.",
            &[
                ("us", "United\r\nStates"),
                ("china", "People's \t Republic of  China"),
                ("india", "New  Delhi"),
            ],
        );
        // Unicode spaces (no-break, thin, narrow no-break) too, for aliases and exclusions.
        assert_found(
            "The United\u{a0}States. The Washington\u{a0}Post said. The South\u{a0}China\u{202f}Sea. \
             Indian\u{2009}Ocean waves. New\u{a0}\u{a0}Delhi.",
            &[("us", "United\u{a0}States"), ("india", "New\u{a0}\u{a0}Delhi")],
        );
    }

    #[test]
    fn invisible_characters_inside_words_are_read_past() {
        // Soft hyphens and word joiners of web pages inside an alias; a zero-width space is a blank.
        assert_found(
            "Paki\u{ad}stan and the United\u{200b} States met in Bei\u{2060}jing.",
            &[
                ("pakistan", "Paki\u{ad}stan"),
                ("us", "United\u{200b} States"),
                ("china", "Bei\u{2060}jing"),
            ],
        );
        // Next to a match they join words as the letters they stand between do.
        assert_found("Indianapolis, India\u{ad}napolis, \u{feff}China\u{ad}town.", &[]);
        assert_found(
            "India\u{200b}China ties; Paki\u{200b}stan.",
            &[("india", "India"), ("china", "China")],
        );
        assert_found(
            "\u{feff}India\u{200b}, said China\u{ad}.",
            &[("india", "India"), ("china", "China")],
        );
        // An exclusion is read past them too.
        assert_found("The Washington\u{ad} Post said.", &[]);
    }

    #[test]
    fn scripts_without_spaces_do_not_join_an_alias_to_their_words() {
        assert_found(
            "美国和China的关系。インドとIndiaの関係。ไทยกับUSA",
            &[("china", "China"), ("india", "India"), ("us", "USA")],
        );
        // Letters of spaced scripts still do: Cyrillic, accented Latin.
        assert_found("ЧChina Chinaé", &[]);
        // Hangul particles join the word before them: "China는" (China + topic particle).
        assert_found(
            "China는 India와 USA를",
            &[("china", "China"), ("india", "India"), ("us", "USA")],
        );
        let korean = ActorSet::new(vec![Actor::new("in", "India", ["인도"])]).unwrap();
        let text = "인도네시아, India인도";
        let spans: Vec<&str> = finder(&korean).find(text).iter().map(|m| m.span.slice(text)).collect();
        assert_eq!(spans, ["인도"]);
        // An alias in such a script is bounded by its own script's letters ("印度尼西亚" is
        // Indonesia), not by a spaced script's.
        let india = ActorSet::new(vec![Actor::new("in", "India", ["印度"])]).unwrap();
        let text = "印度尼西亚, India印度, 印度。";
        let spans: Vec<&str> = finder(&india).find(text).iter().map(|m| m.span.slice(text)).collect();
        assert_eq!(spans, ["印度", "印度"]);
    }

    /// Text copied from macOS or some web pages writes "ü" as "u" and a combining diaeresis.
    #[test]
    fn accented_aliases_match_composed_and_decomposed_text() {
        let turkey = ActorSet::new(vec![
            Actor::new("tr", "Türkiye", ["Türkiye", "Erdoğan"]).with_exclusions(["Türkiye Today"])
        ])
        .unwrap();
        let decomposed = "Tu\u{308}rkiye said. Erdog\u{306}an agreed. Tu\u{308}rkiye Today reported.";
        let composed = "Türkiye said. Erdoğan agreed. Türkiye Today reported.";
        for text in [decomposed, composed] {
            let spans: Vec<&str> = finder(&turkey).find(text).iter().map(|m| m.span.slice(text)).collect();
            let composed: Vec<String> = spans.iter().map(|span| span.nfc().collect()).collect();
            assert_eq!(composed, ["Türkiye", "Erdoğan"], "{text}");
        }
        // A decomposed alias matches composed text too.
        let decomposed_alias = ActorSet::new(vec![Actor::new("tr", "Türkiye", ["Tu\u{308}rkiye"])]).unwrap();
        assert_eq!(finder(&decomposed_alias).find(composed).len(), 2);
        // A short name counts after its full alias however either is written.
        let erdogan = ActorSet::new(vec![
            Actor::new("tr", "Türkiye", ["Recep Tayyip Erdoğan"]).with_short_names(["Erdoğan"])
        ])
        .unwrap();
        for text in [
            "Recep Tayyip Erdoğan spoke, then Erdoğan left.",
            "Recep Tayyip Erdog\u{306}an spoke, then Erdog\u{306}an left.",
        ] {
            let spans: Vec<&str> = finder(&erdogan).find(text).iter().map(|m| m.span.slice(text)).collect();
            assert_eq!(spans.len(), 2, "{text}: {spans:?}");
        }
        // The combining mark is part of the word: "Tu" + U+0308 is not the alias "Tu".
        let tu = ActorSet::new(vec![Actor::new("tu", "Tu", ["Tu"])]).unwrap();
        assert!(finder(&tu).find(decomposed).is_empty());
    }

    #[test]
    fn find_in_offsets_spans() {
        let f = finder(&ActorSet::default());
        let text = "Rain. China won.";
        let mentions = f.find_in(text, Span::new(6, text.len()));
        assert_eq!(mentions.len(), 1);
        assert_eq!(mentions[0].span.slice(text), "China");
        assert!(f.find_in(text, Span::new(0, 100)).is_empty());
        assert_eq!(f.actor_count(), 3);
    }

    #[test]
    fn short_names_count_after_their_full_alias_in_the_text() {
        assert_found("Khan spoke.", &[]);
        assert_found(
            "Khan spoke before Imran Khan, then Khan's aide and Mr Khan; imran and khan are lowercase.",
            &[("pakistan", "Imran Khan"), ("pakistan", "Khan"), ("pakistan", "Khan")],
        );
        // "Dar" needs "Ishaq Dar", not "Imran Khan".
        assert_found("Imran Khan and Dar.", &[("pakistan", "Imran Khan")]);
        assert_found("Ishaq Dar and Dar.", &[("pakistan", "Ishaq Dar"), ("pakistan", "Dar")]);
    }

    #[test]
    fn a_short_name_inside_another_name_does_not_count() {
        let text = "Imran Khan met Sadiq Khan at the Khan Academy. But Khan said Prime Minister Khan and Dr Khan (Khan) agreed. \
                    Sadiq Khan disagreed. \"Sadiq Khan agreed,\" he said. Later Khan left. Emily Khan stayed. \
                    Sadiq\nKhan wrote. Did Khan know?";
        let mentions = finder(&ActorSet::builtin()).find(text);
        // What comes just before each mention: the full name, then the six "Khan"s that count.
        let before: Vec<&str> = mentions.iter().map(|m| text[..m.span.start].trim_end()).collect();
        let ends: Vec<&str> = before.iter().map(|b| &b[b.len().saturating_sub(8)..]).collect();
        assert_eq!(
            ends,
            ["", "emy. But", "Minister", "n and Dr", "r Khan (", "d. Later", "ote. Did"],
            "{mentions:?}"
        );
        assert!(mentions[1..].iter().all(|m| m.span.slice(text) == "Khan"));
        // After initials, or an invisible character, another Khan; a sentence's end is no initial.
        assert_found(
            "Imran Khan spoke. A.Q. Khan built it. Dr. A. Q. Khan too. (A.Q. Khan) Then Sadiq\u{200b} Khan left. \
             They met in the US. Khan left. Khan\u{ad} Academy opened.",
            &[("pakistan", "Imran Khan"), ("us", "US"), ("pakistan", "Khan")],
        );
        // Acronyms and a single capital before a stop are not initials.
        for text in [
            "Imran Khan spoke. The P.M. Khan said no.",
            "Imran Khan spoke. It was Plan B. Khan said so.",
            "Imran Khan spoke. They met in Washington D.C. Khan said so.",
        ] {
            let found = found(text);
            assert_eq!(found.last().map(|(_, m)| m.as_str()), Some("Khan"), "{text}: {found:?}");
        }
    }

    #[test]
    fn short_names_carry_across_the_sentences_of_a_document() {
        let f = finder(&ActorSet::builtin());
        let text = "Khan was absent. Imran Khan spoke. Khan left.";
        let sentences = crate::segment::split_sentences(text);
        let words = |found: &[Vec<Mention>], base: &[usize]| -> Vec<Vec<String>> {
            found
                .iter()
                .zip(base)
                .map(|(ms, &b)| {
                    ms.iter()
                        .map(|m| text[b + m.span.start..b + m.span.end].to_owned())
                        .collect()
                })
                .collect()
        };
        let expected = [vec![], vec!["Imran Khan".to_owned()], vec!["Khan".to_owned()]];
        let document = f.find_in_document(text, &sentences);
        assert_eq!(words(&document, &[0, 0, 0]), expected);
        let starts: Vec<usize> = sentences.iter().map(|s| s.start).collect();
        assert_eq!(words(&f.find_per_sentence(text, &sentences), &starts), expected);
        // Each sentence alone: the third has no full alias before it.
        assert!(f.find_in(text, sentences[2]).is_empty());
        // A new document starts afresh.
        assert!(f.find_in_document("Khan left.", &[Span::new(0, 10)])[0].is_empty());
    }

    #[test]
    fn short_names_follow_exclusions_and_their_own_actor() {
        let actors = ActorSet::new(vec![
            Actor::new("a", "A", ["Ali Khan"])
                .with_short_names(["Khan"])
                .with_exclusions(["Khan el-Khalili"]),
            Actor::new("b", "B", ["Reza Khan"]),
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        let f = finder(&actors);
        // Reza Khan (actor b) does not introduce actor a's "Khan".
        assert_eq!(f.find("Reza Khan, then Khan.").len(), 1);
        let text = "Ali Khan shopped at Khan el-Khalili; Khan paid.";
        let got: Vec<&str> = f.find(text).iter().map(|m| m.span.slice(text)).collect();
        assert_eq!(got, ["Ali Khan", "Khan"]);
    }

    #[test]
    fn is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<MentionFinder>();
    }

    const VOCAB: &[&str] = &[
        "U.S.",
        "US",
        "us",
        "Dr.",
        "\n\n",
        "\n",
        "“",
        "”",
        "é",
        "\u{301}",
        "🇺🇸",
        "China",
        "china",
        " ",
        ".",
        "-",
        "'s",
        "’",
        "Sino",
        "Indian",
        " Ocean",
        "Washington",
        " Post",
        "Xi",
        "an",
        "America",
        "n",
        "s",
        "United",
        " States",
        "İ",
        "ß",
    ];

    fn check_mentions(text: &str, mentions: &[Mention], actors: usize) {
        let mut last_end = 0;
        for m in mentions {
            assert!(m.actor < actors);
            assert!(m.span.start >= last_end, "unsorted or overlapping: {mentions:?}");
            assert!(m.span.start < m.span.end);
            assert!(text.get(m.span.start..m.span.end).is_some(), "bad span {m:?}");
            last_end = m.span.end;
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_text_gives_valid_mentions(text in ".*") {
            let actors = ActorSet::builtin();
            let mentions = finder(&actors).find(&text);
            check_mentions(&text, &mentions, actors.len());
        }

        #[test]
        fn tricky_tokens_give_valid_mentions(
            tokens in proptest::collection::vec(proptest::sample::select(VOCAB), 0..40)
        ) {
            let actors = ActorSet::builtin();
            let text = tokens.concat();
            let mentions = finder(&actors).find(&text);
            check_mentions(&text, &mentions, actors.len());
        }
    }
}
