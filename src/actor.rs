//! Actors (the US, China, India, ...) and the sets of them that get scored.
//!
//! An [`Actor`] is an id, a display name, the surface forms (aliases) that
//! refer to it in text, and exclusions: phrases whose alias matches are not
//! mentions of it ("Washington Post" is not Washington). An [`ActorSet`] is a
//! validated, ordered list of actors; [`crate::MentionFinder`] matches it
//! against text. How aliases are matched (case, word boundaries, combining
//! forms such as `Sino-`) is described in [`crate::mention`].
//!
//! # Built-in actors
//!
//! [`ActorSet::builtin`] holds `us`, `china`, `india`, `pakistan` and
//! `russia`; [`ActorSet::default`] holds the first three. Leaders' names are
//! aliases because op-eds use them for their governments ("Trump's tariffs",
//! "Modi's visit"). The judgement calls:
//!
//! * **Exclusions: places, peoples and brands that share a name.** "Latin /
//!   South / Central / North America(n)" (other parts of the Americas;
//!   "North America" includes Canada and Mexico), "Native / African / Asian
//!   American(s)" and "American Indian(s)" (groups of people, not the state),
//!   "Indian / Chinese / Pakistani / Russian American(s)" (diaspora, excluded
//!   on both sides), "American Samoa", "American Express", "American
//!   Airlines", "Bank of America", "Pan American"; "Washington Post / Times /
//!   State", "George / Denzel Washington", "University of Washington" and
//!   Washington sports teams; "US Open" and "U.S. Open"; relatives and businesses that share a
//!   leader's surname ("Melania Trump", "Trump Tower", "Hunter Biden", "Nirav
//!   Modi", "Omar Sharif").
//! * **Seas and oceans are not states**: "South China Sea", "East China Sea",
//!   "China Sea", "Indian Ocean", "Indian subcontinent" (also "South China
//!   sea", "the East and South China Seas", "Indian ocean").
//! * **"Republic of China" is Taiwan** and is excluded for `china`, as is
//!   "Chinese Taipei"; "People's Republic of China" is an alias and, being
//!   longer, still wins.
//! * **Newspapers and think tanks are sources, not actors**: "Washington Post /
//!   Times / Examiner / Free Beacon", "USA Today", "The American Conservative",
//!   "American Enterprise Institute", "South China Morning Post", "Times of
//!   India", "Indian Express", "India Today", "Pakistan Today", "Moscow Times".
//! * **State media are kept**: "Voice of America" and "China Daily" speak for
//!   their governments, and op-eds that attack them attack those governments.
//! * **Parties are not the state**: "Indian National Congress", "Bharat Jodo",
//!   "Pakistan Muslim League", "Pakistan Peoples Party", "Pakistan
//!   Tehreek-e-Insaf". "Congress" alone is not a US alias because in Indian
//!   op-eds it is mostly the Indian party.
//! * **"Indo-China" means India and China.** Modern op-eds use it for the
//!   bilateral relation ("the Indo-China border"); the region is spelled
//!   "Indochina", which no alias matches. "Indo-Pacific", "Indo-European",
//!   "Indo-Aryan" and "Indo-Gangetic" are excluded for `india`.
//! * **"Delhi" alone is an alias, as "New Delhi" is.** Op-eds use both for
//!   India's government ("Delhi should hold its ground"), and a summit or visit
//!   "in Delhi" is labelled India as one "in Washington" is the US: all 33
//!   bare "Delhi" sentences of the annotated op-ed files are labelled India.
//!   The IPL team ("Delhi Capitals / Daredevils") is excluded.
//! * **"East India Company" and "West Indies / West Indian(s)" are
//!   excluded**: a colonial company and a Caribbean cricket team are not India.
//! * **Idioms**: "Indian summer", "Russian roulette", "Russian doll(s)".
//! * **"Xi'an" is a city** and is excluded for `china`; "Xi" itself is matched
//!   case-sensitively so "XI" (a Roman numeral) is not a hit.
//! * **Articles are not part of names**: "White House", "Pentagon" and
//!   "Kremlin" are aliases without "the", so mention spans cover the name.
//! * **Names with another bearer, kept for what op-eds mean by them**: "Imran
//!   Khan" (Pakistan's prime minister 2018-2022; a Bollywood actor shares the
//!   name), "ISI" (Pakistan's intelligence service; also the Indian Statistical
//!   Institute), "Pak" ("Indo-Pak", "Pak army"; also a Korean surname),
//!   "Munir" (the army chief). In the annotated op-ed files every sentence with
//!   "Imran Khan" (87) or "ISI" (7) is labelled Pakistan, 19 of 20 with "Pak";
//!   leaving them out lost 43 + 12 annotated pairs. Like "Trump" after 2021,
//!   "Imran Khan" keeps meaning Pakistan after he left office: a known limit.
//!   "Pak choi / choy" is excluded. Bare "Imran" and "Khan" are not aliases:
//!   too many others bear them.
//! * **The Federal Reserve speaks for the US; the Soviet Union is not
//!   Russia.** Op-eds blame "the Fed" for a strong dollar as they blame
//!   Washington, and annotators label it the US ("Fed up" and the "Fed Cup"
//!   are excluded). They label the Soviet Union an actor of its own in most
//!   sentences ("the Soviet occupation of Afghanistan"), so "Soviet(s)" and
//!   "USSR" are no alias of `russia`: add a custom actor for them.
//! * **Short names follow the full name**: "Khan" and "Imran" (of "Imran
//!   Khan") and "Dar" (of "Ishaq Dar") are Pakistan's short names: they count
//!   only after the full alias in the same document, and not inside another
//!   name ("Sadiq Khan"); "Dar es Salaam" is excluded. In the natural-distribution op-ed file, 30 of the 57
//!   annotated (sentence, actor) pairs the aliases miss sentence by sentence are these.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// One actor: an id, a display name, the aliases that refer to it and the
/// phrases whose alias matches are not mentions of it.
///
/// An alias ending in `-` is a combining form: `Sino-` matches "Sino" only
/// when a hyphen follows ("Sino-Indian"), and the mention covers "Sino".
///
/// ```
/// use stance::Actor;
/// let eu = Actor::new("eu", "European Union", ["European Union", "EU", "Brussels"])
///     .with_exclusions(["Brussels sprouts"]);
/// assert_eq!(eu.aliases.len(), 3);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Actor {
    /// Short key, unique within a set (compared case-insensitively): "us", "china".
    pub id: String,
    /// Display name, "United States"; files may omit it and get the id.
    #[serde(default)]
    pub name: String,
    /// Surface forms matched in text. A file's actor with a built-in id extends the built-in
    /// actor, so it may leave them out and add only exclusions or short names.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Phrases whose alias matches are not mentions ("Washington Post").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclusions: Vec<String>,
    /// Words of its aliases that name the actor on their own only later in a
    /// document that used the full alias: "Khan" after "Imran Khan". See
    /// [`crate::mention`] for the rules.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub short_names: Vec<String>,
}

impl Actor {
    /// An actor without exclusions.
    #[must_use]
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        aliases: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            aliases: aliases.into_iter().map(Into::into).collect(),
            exclusions: Vec::new(),
            short_names: Vec::new(),
        }
    }

    /// The same actor with `exclusions` added to its exclusions.
    #[must_use]
    pub fn with_exclusions(mut self, exclusions: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.exclusions.extend(exclusions.into_iter().map(Into::into));
        self
    }

    /// The same actor with `short_names` added to its short names.
    ///
    /// ```
    /// use stance::Actor;
    /// let pakistan = Actor::new("pakistan", "Pakistan", ["Pakistan", "Imran Khan"]).with_short_names(["Khan"]);
    /// assert_eq!(pakistan.short_names, ["Khan"]);
    /// ```
    #[must_use]
    pub fn with_short_names(mut self, short_names: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.short_names.extend(short_names.into_iter().map(Into::into));
        self
    }
}

/// A validated, ordered set of actors. Mentions refer to actors by their
/// index in it.
///
/// Serializes in the file format that [`ActorSet::from_json_str`] and
/// [`ActorSet::from_toml_str`] read (`{"actor": [...]}`).
///
/// ```
/// use stance::ActorSet;
/// let set = ActorSet::default();
/// assert_eq!(set.position("china"), Some(1));
/// assert_eq!(set.get(2).map(|a| a.name.as_str()), Some("India"));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ActorSet {
    #[serde(rename = "actor")]
    actors: Vec<Actor>,
}

/// The ids of [`ActorSet::builtin`], in order.
pub const BUILTIN_IDS: [&str; 5] = ["us", "china", "india", "pakistan", "russia"];

/// Origin named in errors about actors built in code.
const IN_MEMORY: &str = "<in-memory>";

impl Default for ActorSet {
    /// The United States, China and India, in that order.
    fn default() -> Self {
        let mut actors = builtin_actors();
        actors.truncate(3);
        Self { actors }
    }
}

impl ActorSet {
    /// All built-in actors: `us`, `china`, `india`, `pakistan`, `russia`.
    ///
    /// See the [module docs](crate::actor) for what their aliases include and exclude.
    #[must_use]
    pub fn builtin() -> ActorSet {
        Self {
            actors: builtin_actors(),
        }
    }

    /// Built-in actors by id, in the order given, duplicates dropped.
    ///
    /// Ids are case-insensitive, and a few common names are accepted too
    /// ("USA", "United States", "America", "PRC", "Bharat", "Russian
    /// Federation").
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when `ids` is empty or names an unknown actor; the
    /// message lists the known ids.
    ///
    /// ```
    /// use stance::ActorSet;
    /// let set = ActorSet::select(&["India", "usa"])?;
    /// assert_eq!(set.actors()[1].id, "us");
    /// assert!(ActorSet::select(&["atlantis"]).is_err());
    /// # Ok::<(), stance::Error>(())
    /// ```
    pub fn select(ids: &[&str]) -> Result<ActorSet> {
        let known = BUILTIN_IDS.join(", ");
        if ids.is_empty() {
            return Err(Error::Config(format!("no actor ids given; known ids: {known}")));
        }
        let builtin = builtin_actors();
        let mut actors: Vec<Actor> = Vec::new();
        for raw in ids {
            let actor = canonical_id(raw)
                .and_then(|id| builtin.iter().find(|a| a.id == id))
                .ok_or_else(|| Error::Config(format!("unknown actor id '{raw}'; known ids: {known}")))?;
            if !actors.iter().any(|a| a.id == actor.id) {
                actors.push(actor.clone());
            }
        }
        Ok(Self { actors })
    }

    /// A set of the given actors, checked and tidied: a blank name becomes the
    /// id, and repeated aliases and exclusions are dropped.
    ///
    /// # Errors
    ///
    /// [`Error::Actors`] when there are no actors, an id is empty, has
    /// surrounding whitespace, holds a control character or line separator, or repeats
    /// another (case-insensitively), an
    /// actor has no aliases, an alias, exclusion or short name is blank, has
    /// surrounding whitespace, holds no letter or digit or holds an invisible character
    /// (a zero-width space, a byte-order mark), or a short name is
    /// not one word of one of the actor's multi-word aliases.
    pub fn new(actors: Vec<Actor>) -> Result<ActorSet> {
        let mut actors = actors;
        validate(&mut actors, false).map_err(|invalid| Error::Actors {
            origin: IN_MEMORY.to_owned(),
            line: None,
            reason: invalid.reason,
        })?;
        Ok(Self { actors })
    }

    /// Reads actors from TOML: one `[[actor]]` table per actor with `id`,
    /// `name`, `aliases`, optional `exclusions` and optional `short_names`. Unknown keys are errors,
    /// so typos do not pass silently.
    ///
    /// ```
    /// use stance::ActorSet;
    /// let set = ActorSet::from_toml_str(r#"
    /// [[actor]]
    /// id = "eu"
    /// name = "European Union"
    /// aliases = ["European Union", "EU", "Brussels"]
    /// exclusions = ["Brussels sprouts"]
    /// "#, "actors.toml")?;
    /// assert_eq!(set.len(), 1);
    /// # Ok::<(), stance::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Actors`] naming `origin` and, where it can be found, the
    /// 1-based line: for syntax errors and unknown keys, for the checks of
    /// [`ActorSet::new`], and for an alias that names two of the file's actors or is an
    /// exclusion of its own (pointing at the offending actor's `id`). An actor with a built-in
    /// id extends the built-in actor ([`ActorSet::extend`]): it is checked with the built-in
    /// aliases (a short name may be a word of one of them, and aliases of its own are optional).
    pub fn from_toml_str(text: &str, origin: &str) -> Result<ActorSet> {
        let file: ActorFile = toml::from_str(text).map_err(|e| toml_error(text, origin, &e))?;
        Self::from_file_actors(file.actor, text, origin)
    }

    /// Reads actors from JSON: `{"actor": [{"id": ..., "name": ...,
    /// "aliases": [...], "exclusions": [...]}]}` or a bare array of actors.
    ///
    /// ```
    /// use stance::ActorSet;
    /// let set = ActorSet::from_json_str(
    ///     r#"[{"id": "eu", "name": "European Union", "aliases": ["EU"]}]"#,
    ///     "<string>",
    /// )?;
    /// assert_eq!(set.actors()[0].name, "European Union");
    /// # Ok::<(), stance::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As for [`ActorSet::from_toml_str`].
    pub fn from_json_str(text: &str, origin: &str) -> Result<ActorSet> {
        let body = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
        let parsed = if body.starts_with('[') {
            serde_json::from_str::<Vec<Actor>>(body)
        } else {
            serde_json::from_str::<ActorFile>(body).map(|file| file.actor)
        };
        // Line numbers count from the start of `text`, not of `body`.
        let skipped_lines = text.len() - body.len();
        let skipped_lines = text.get(..skipped_lines).map_or(0, |s| s.matches('\n').count());
        let actors = parsed.map_err(|e| json_error(origin, &e, skipped_lines))?;
        Self::from_file_actors(actors, text, origin)
    }

    /// Reads a `.toml` or `.json` actor file, chosen by extension.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the file cannot be read, [`Error::Actors`] when its
    /// extension is neither or its content is invalid.
    pub fn from_path(path: impl AsRef<Path>) -> Result<ActorSet> {
        let path = path.as_ref();
        let origin = path.display().to_string();
        let extension = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        let parse: fn(&str, &str) -> Result<ActorSet> = match extension.as_deref() {
            Some("toml") => Self::from_toml_str,
            Some("json") => Self::from_json_str,
            _ => {
                return Err(Error::Actors {
                    origin,
                    line: None,
                    reason: "unsupported file extension: expected .toml or .json".to_owned(),
                })
            }
        };
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        parse(&text, &origin)
    }

    /// Merges `other` into this set. An actor of `other` whose id is already
    /// here (case-insensitively) adds its new aliases and exclusions to that
    /// actor, keeping its name and index; any other actor is appended, and one
    /// with a built-in id extends the built-in actor (whose name it keeps).
    ///
    /// ```
    /// use stance::{Actor, ActorSet};
    /// let extra = ActorSet::new(vec![
    ///     Actor::new("china", "China", ["Middle Kingdom"]),
    ///     Actor::new("eu", "European Union", ["EU"]),
    ///     Actor::new("pakistan", "Pakistan", ["Islamic Republic"]),
    /// ])?;
    /// let set = ActorSet::default().extend(extra);
    /// assert_eq!(set.len(), 5);
    /// assert!(set.actors()[1].aliases.iter().any(|a| a == "Middle Kingdom"));
    /// // Pakistan was not in the set: it is the built-in actor (its name too), with one alias more.
    /// let pakistan = &set.actors()[4].aliases;
    /// assert!(pakistan.iter().any(|a| a == "Islamabad") && pakistan.iter().any(|a| a == "Islamic Republic"));
    /// # Ok::<(), stance::Error>(())
    /// ```
    #[must_use]
    pub fn extend(mut self, other: ActorSet) -> ActorSet {
        for actor in other.actors {
            match self.position(&actor.id).and_then(|i| self.actors.get_mut(i)) {
                Some(existing) => {
                    push_new(&mut existing.aliases, actor.aliases);
                    push_new(&mut existing.exclusions, actor.exclusions);
                    push_new(&mut existing.short_names, actor.short_names);
                }
                None => self.actors.push(with_builtin(actor)),
            }
        }
        self
    }

    /// [`ActorSet::extend`], checked as a whole: an alias of `other` that an actor of this set also
    /// names, or excludes, is an error that names `origin`, where `other` came from (an actor file's
    /// path), where [`crate::MentionFinder::new`] could only name the combined set.
    ///
    /// ```
    /// use stance::{Actor, ActorSet};
    /// let eu = ActorSet::new(vec![Actor::new("eu", "EU", ["Brussels", "Beijing"])])?;
    /// let error = ActorSet::default().extend_checked(eu, "actors.toml").unwrap_err();
    /// assert!(error.to_string().starts_with("actor definitions actors.toml: the alias \"Beijing\""));
    /// # Ok::<(), stance::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Actors`] naming `origin`, when this set was unambiguous and the two together
    /// are not.
    pub fn extend_checked(self, other: ActorSet, origin: &str) -> Result<ActorSet> {
        let was_unambiguous = crate::mention::ambiguity(&self).is_none();
        let set = self.extend(other);
        match crate::mention::ambiguity(&set) {
            Some((_, _, reason)) if was_unambiguous => Err(Error::Actors {
                origin: origin.to_owned(),
                line: None,
                reason,
            }),
            _ => Ok(set),
        }
    }

    /// `other` on its own, each actor with a built-in id extending the built-in actor, as
    /// [`ActorSet::extend`] adds it to a set without that actor.
    ///
    /// ```
    /// use stance::{Actor, ActorSet};
    /// let set = ActorSet::with_builtins(ActorSet::new(vec![Actor::new("india", "India", ["Bharat"])])?);
    /// assert!(set.actors()[0].aliases.iter().any(|a| a == "New Delhi"));
    /// # Ok::<(), stance::Error>(())
    /// ```
    #[must_use]
    pub fn with_builtins(other: ActorSet) -> ActorSet {
        ActorSet { actors: Vec::new() }.extend(other)
    }

    /// The actors, in order.
    #[must_use]
    pub fn actors(&self) -> &[Actor] {
        &self.actors
    }

    /// Number of actors.
    #[must_use]
    pub fn len(&self) -> usize {
        self.actors.len()
    }

    /// Whether the set has no actors (never true for a set built by this
    /// module's constructors, which reject empty sets).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.actors.is_empty()
    }

    /// The actor at `index`, as used by [`crate::Mention::actor`].
    #[must_use]
    pub fn get(&self, index: usize) -> Option<&Actor> {
        self.actors.get(index)
    }

    /// Index of the actor with this id, compared case-insensitively.
    #[must_use]
    pub fn position(&self, id: &str) -> Option<usize> {
        self.actors.iter().position(|a| same_id(&a.id, id))
    }

    /// A set of the given actors in which an actor with a built-in id extends the built-in actor,
    /// as an actor file's actors do ([`ActorSet::from_toml_str`]): checked as the built-in actor
    /// extended, and holding its aliases, exclusions and short names.
    ///
    /// ```
    /// use stance::{Actor, ActorSet};
    /// // Exclusions alone, and a short name of a built-in alias ("Xi Jinping").
    /// let china = Actor::new("china", "China", Vec::<String>::new())
    ///     .with_exclusions(["China Daily"])
    ///     .with_short_names(["Jinping"]);
    /// let set = ActorSet::extending_builtins(vec![china])?;
    /// assert!(set.actors()[0].aliases.iter().any(|a| a == "Beijing"));
    /// # Ok::<(), stance::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`ActorSet::new`], and [`Error::Actors`] for an alias that names two of the actors
    /// or is an exclusion of its own.
    pub fn extending_builtins(actors: Vec<Actor>) -> Result<ActorSet> {
        Self::checked_extending_builtins(actors).map_err(|(_, invalid)| Error::Actors {
            origin: IN_MEMORY.to_owned(),
            line: None,
            reason: invalid.reason,
        })
    }

    /// [`ActorSet::extending_builtins`]; a failed check comes with the actors as given, whose
    /// index it names.
    fn checked_extending_builtins(mut actors: Vec<Actor>) -> std::result::Result<ActorSet, (Vec<Actor>, Invalid)> {
        if let Err(invalid) = validate(&mut actors, true) {
            return Err((actors, invalid));
        }
        let set = Self {
            actors: actors.iter().cloned().map(with_builtin).collect(),
        };
        if let Some((involved, pattern, reason)) = crate::mention::ambiguity(&set) {
            // The actor that wrote the pattern, rather than one that has it from the built-in actor.
            let writer = involved
                .iter()
                .rev()
                .find(|&&i| actors.get(i).is_some_and(|a| writes(a, &pattern)));
            let actor = writer.or(involved.last()).copied();
            return Err((actors, Invalid { actor, reason }));
        }
        Ok(set)
    }

    fn from_file_actors(actors: Vec<Actor>, text: &str, origin: &str) -> Result<ActorSet> {
        Self::checked_extending_builtins(actors).map_err(|(actors, invalid)| {
            let line = invalid.actor.and_then(|index| {
                let id = &actors.get(index)?.id;
                let nth = actors.iter().take(index).filter(|a| &a.id == id).count();
                id_line(text, id, nth)
            });
            Error::Actors {
                origin: origin.to_owned(),
                line,
                reason: invalid.reason,
            }
        })
    }
}

/// The layout of actor files: `[[actor]]` tables / `{"actor": [...]}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActorFile {
    #[serde(default)]
    actor: Vec<Actor>,
}

fn toml_error(text: &str, origin: &str, error: &toml::de::Error) -> Error {
    let line = error
        .span()
        .and_then(|span| text.get(..span.start))
        .map(|before| before.matches('\n').count() + 1);
    Error::Actors {
        origin: origin.to_owned(),
        line,
        reason: error.message().trim_end().to_owned(),
    }
}

fn json_error(origin: &str, error: &serde_json::Error, skipped_lines: usize) -> Error {
    let full = error.to_string();
    // serde_json appends the position to its message; it goes in `line` instead.
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    let message = full.strip_suffix(&suffix).unwrap_or(&full);
    let (line, reason) = if error.line() == 0 {
        (None, message.to_owned())
    } else {
        (
            Some(error.line() + skipped_lines),
            format!("{message} (column {})", error.column()),
        )
    };
    Error::Actors {
        origin: origin.to_owned(),
        line,
        reason,
    }
}

/// `actor` added to the built-in actor of its id, if there is one (keeping that actor's name):
/// a file that gives India the alias "Bharat" means India, also when India was not selected.
fn with_builtin(actor: Actor) -> Actor {
    let builtin = ActorSet::builtin();
    let Some(mut base) = builtin
        .position(&actor.id)
        .and_then(|i| builtin.actors.into_iter().nth(i))
    else {
        return actor;
    };
    push_new(&mut base.aliases, actor.aliases);
    push_new(&mut base.exclusions, actor.exclusions);
    push_new(&mut base.short_names, actor.short_names);
    base
}

/// The 1-based line of the `nth` (0-based) `id = "…"` / `"id": "…"` entry
/// whose value is `id`.
fn id_line(text: &str, id: &str, nth: usize) -> Option<usize> {
    let mut seen = 0;
    for (number, line) in text.lines().enumerate() {
        seen += id_entries(line, id);
        if seen > nth {
            return Some(number + 1);
        }
    }
    None
}

/// How many `id` keys with value `id` the line holds.
fn id_entries(line: &str, id: &str) -> usize {
    if line.trim_start().starts_with('#') {
        return 0; // a TOML comment
    }
    let mut count = 0;
    for (pos, _) in line.match_indices("id") {
        let before = line.get(..pos).and_then(|s| s.chars().next_back());
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let rest = line.get(pos + 2..).unwrap_or("");
        let rest = rest.strip_prefix(['"', '\'']).unwrap_or(rest).trim_start();
        let Some(value) = rest.strip_prefix(['=', ':']).map(str::trim_start) else {
            continue;
        };
        let quoted = |q: char| {
            value
                .strip_prefix(q)
                .and_then(|v| v.split(q).next())
                .is_some_and(|v| v == id)
        };
        if quoted('"') || quoted('\'') {
            count += 1;
        }
    }
    count
}

/// A failed check: what is wrong and which actor (by index) it concerns.
struct Invalid {
    actor: Option<usize>,
    reason: String,
}

fn same_id(a: &str, b: &str) -> bool {
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

/// Checks the rules of [`ActorSet::new`] and tidies names and duplicates; with `builtins`, an
/// actor with a built-in id is checked as the extension of the built-in actor it is.
fn validate(actors: &mut [Actor], builtins: bool) -> std::result::Result<(), Invalid> {
    if actors.is_empty() {
        return Err(Invalid {
            actor: None,
            reason: "no actors defined (expected at least one [[actor]] / \"actor\" entry)".to_owned(),
        });
    }
    for index in 0..actors.len() {
        let (earlier, rest) = actors.split_at_mut(index);
        let Some(actor) = rest.first_mut() else {
            break;
        };
        let fail = |reason: String| Invalid {
            actor: Some(index),
            reason,
        };
        check_id(&actor.id, index).map_err(fail)?;
        if let Some(other) = earlier.iter().position(|a| same_id(&a.id, &actor.id)) {
            return Err(fail(format!(
                "duplicate actor id '{}' (actor #{} has it too)",
                actor.id,
                other + 1
            )));
        }
        if builtins {
            check_not_a_builtin_name(&actor.id).map_err(fail)?;
        }
        let inherited = if builtins {
            builtin_aliases(&actor.id)
        } else {
            Vec::new()
        };
        check_actor(actor, &inherited).map_err(fail)?;
        tidy(actor);
    }
    Ok(())
}

fn check_id(id: &str, index: usize) -> std::result::Result<(), String> {
    if id.trim().is_empty() {
        Err(format!("actor #{} has an empty id", index + 1))
    } else if id.trim() != id {
        Err(format!("actor id '{id}' has leading or trailing whitespace"))
    } else if id
        .chars()
        .any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}'))
    {
        // It would break the lines of the terminal table and of every file that names it.
        Err(format!(
            "actor id {id:?} holds a control character (a line break, a tab...)"
        ))
    } else {
        Ok(())
    }
}

/// Whether `actor` lists `pattern` (as the mention matcher holds it) among its own aliases or
/// exclusions: the same words, whatever the ASCII case, apostrophes, hyphens and blanks.
fn writes(actor: &Actor, pattern: &str) -> bool {
    let key = |phrase: &str| {
        let phrase = phrase.replace('’', "'").replace('-', " ").to_ascii_lowercase();
        phrase.split_whitespace().collect::<Vec<_>>().join(" ")
    };
    let pattern = key(pattern);
    actor.aliases.iter().chain(&actor.exclusions).any(|p| key(p) == pattern)
}

/// Refuses an id that is another name of a built-in actor (`USA`, `PRC`): `--actors USA` selects
/// the US, so the same id in a file would be taken to extend it, yet it would make a new actor
/// beside it.
fn check_not_a_builtin_name(id: &str) -> std::result::Result<(), String> {
    match canonical_id(id) {
        Some(builtin) if !same_id(id, builtin) => Err(format!(
            "actor id '{id}' is another name of the built-in actor {builtin}: write id = \"{builtin}\" to \
             extend it, or give a new actor an id of its own"
        )),
        _ => Ok(()),
    }
}

/// The aliases of the built-in actor with this id; none for another id.
fn builtin_aliases(id: &str) -> Vec<String> {
    let builtin = ActorSet::builtin();
    builtin
        .position(id)
        .and_then(|i| builtin.actors.into_iter().nth(i))
        .map(|actor| actor.aliases)
        .unwrap_or_default()
}

/// Checks one actor; `inherited`: the aliases of the built-in actor it extends.
fn check_actor(actor: &Actor, inherited: &[String]) -> std::result::Result<(), String> {
    if actor.aliases.is_empty() && inherited.is_empty() {
        return Err(format!("actor '{}' has no aliases", actor.id));
    }
    for (kind, phrase) in actor
        .aliases
        .iter()
        .map(|a| ("alias", a))
        .chain(actor.exclusions.iter().map(|e| ("exclusion", e)))
        .chain(actor.short_names.iter().map(|s| ("short name", s)))
    {
        let id = &actor.id;
        if phrase.trim().is_empty() {
            return Err(format!("actor '{id}' has an empty {kind}"));
        }
        if phrase.trim() != phrase {
            return Err(format!(
                "{kind} '{phrase}' of actor '{id}' has leading or trailing whitespace"
            ));
        }
        if !phrase.chars().any(char::is_alphanumeric) {
            return Err(format!("{kind} '{phrase}' of actor '{id}' holds no letter or digit"));
        }
        // Pasted from the web, these are invisible in the file and in no text the matcher reads.
        if let Some(c) = phrase.chars().find(|c| INVISIBLE.contains(c)) {
            return Err(format!(
                "{kind} {phrase:?} of actor '{id}' holds the invisible character U+{:04X}: remove it",
                u32::from(c)
            ));
        }
    }
    for short in &actor.short_names {
        check_short_name(actor, inherited, short)?;
    }
    Ok(())
}

/// Characters an alias may not hold: zero-width space, word joiner, byte-order mark and soft hyphen.
/// Text taken from web pages holds them inside words (`Paki\u{ad}stan`); the matcher reads past them.
pub(crate) const INVISIBLE: [char; 4] = ['\u{200b}', '\u{2060}', '\u{feff}', '\u{ad}'];

/// A short name must be a whole word of a longer alias (its actor's own, or `inherited`), whose
/// mention is what lets it count: "Khan" of "Imran Khan".
fn check_short_name(actor: &Actor, inherited: &[String], short: &str) -> std::result::Result<(), String> {
    let id = &actor.id;
    let aliases = || actor.aliases.iter().chain(inherited);
    if aliases().any(|a| a == short) {
        return Err(format!(
            "short name '{short}' of actor '{id}' is also an alias; an alias is matched everywhere, so drop one of them"
        ));
    }
    if !aliases().any(|alias| alias_words(alias).any(|w| w == short)) {
        return Err(format!(
            "short name '{short}' of actor '{id}' is not a word of any of its aliases (it counts only after such an alias, as \"Khan\" after \"Imran Khan\")"
        ));
    }
    Ok(())
}

/// The words of an alias (split at anything but letters and digits).
pub(crate) fn alias_words(alias: &str) -> impl Iterator<Item = &str> {
    alias.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty())
}

fn tidy(actor: &mut Actor) {
    if actor.name.trim().is_empty() {
        actor.name.clone_from(&actor.id);
    }
    let aliases = std::mem::take(&mut actor.aliases);
    push_new(&mut actor.aliases, aliases);
    let exclusions = std::mem::take(&mut actor.exclusions);
    push_new(&mut actor.exclusions, exclusions);
    let short_names = std::mem::take(&mut actor.short_names);
    push_new(&mut actor.short_names, short_names);
}

/// Appends the items of `more` that `list` lacks, in order. Quadratic, but
/// alias lists are short and order matters for reading files back.
fn push_new(list: &mut Vec<String>, more: Vec<String>) {
    for item in more {
        if !list.contains(&item) {
            list.push(item);
        }
    }
}

/// Maps ids and common names accepted by [`ActorSet::select`] to built-in ids.
fn canonical_id(raw: &str) -> Option<&'static str> {
    let key = raw.trim().to_lowercase().replace('’', "'");
    let id = match key.as_str() {
        "us" | "u.s." | "usa" | "u.s.a." | "united states" | "united states of america" | "america" => "us",
        "china" | "prc" | "people's republic of china" => "china",
        "india" | "bharat" | "republic of india" => "india",
        "pakistan" | "islamic republic of pakistan" => "pakistan",
        "russia" | "russian federation" => "russia",
        _ => return None,
    };
    Some(id)
}

/// A built-in actor as static data.
struct Builtin {
    id: &'static str,
    name: &'static str,
    aliases: &'static [&'static str],
    exclusions: &'static [&'static str],
    short_names: &'static [&'static str],
}

/// Groups of people and diaspora named with "American": not the US state,
/// and for the diaspora not the other country either.
const HYPHENATED_AMERICANS: &[&str] = &[
    "Indian American",
    "Indian Americans",
    "Chinese American",
    "Chinese Americans",
    "Pakistani American",
    "Pakistani Americans",
    "Russian American",
    "Russian Americans",
];

const US: Builtin = Builtin {
    id: "us",
    name: "United States",
    aliases: &[
        "United States",
        "United States of America",
        "U.S.",
        "U.S.A.",
        "U.S.A",
        "US",
        "USA",
        "America",
        "American",
        "Americans",
        "Washington",
        "White House",
        "Pentagon",
        "State Department",
        "Capitol Hill",
        "Oval Office",
        "Uncle Sam",
        "Trump administration",
        "Biden administration",
        "Obama administration",
        "Bush administration",
        "Trump",
        "Biden",
        "Obama",
        "Blinken",
        "Rubio",
        "Pompeo",
        "USAID",
        "CIA",
        "Federal Reserve",
        "Fed",
    ],
    short_names: &[],
    exclusions: &[
        "Washington Post",
        "Washington Times",
        "Washington Examiner",
        "Washington Free Beacon",
        "USA Today",
        "American Conservative",
        "American Enterprise Institute",
        // Exclusions match their lowercase words in either case ("Washington State" too), their
        // capitalized ones only capitalized: these are written lowercase where prose has them so.
        "Washington state",
        "George Washington",
        "Denzel Washington",
        "University of Washington",
        "Washington Nationals",
        "Washington Commanders",
        "Washington Capitals",
        "Washington Wizards",
        "American Express",
        "American Airlines",
        "American Samoa",
        "Bank of America",
        "Pan American",
        "Latin America",
        "Latin American",
        "Latin Americans",
        "South America",
        "South American",
        "South Americans",
        "Central America",
        "Central American",
        "Central Americans",
        "North America",
        "North American",
        "North Americans",
        "native American",
        "native Americans",
        "African American",
        "African Americans",
        "Asian American",
        "Asian Americans",
        "American Indian",
        "American Indians",
        "US Open",
        "U.S. Open",
        "Melania Trump",
        "Ivanka Trump",
        "Eric Trump",
        "Donald Trump Jr.",
        "Trump Jr.",
        "Trump Tower",
        "Trump Organization",
        "Hunter Biden",
        "Jill Biden",
        "Michelle Obama",
        "Fed up",
        "Fed Cup",
    ],
};

const CHINA: Builtin = Builtin {
    id: "china",
    name: "China",
    aliases: &[
        "China",
        "Chinese",
        "Beijing",
        "PRC",
        "P.R.C.",
        "People's Republic of China",
        // As op-eds misspell it; without these, the exclusion "Republic of China" takes the mention.
        "Peoples' Republic of China",
        "Peoples Republic of China",
        "CPC",
        "CCP",
        "Communist Party of China",
        "Chinese Communist Party",
        "Xi Jinping",
        "Xi",
        "Zhongnanhai",
        "Wang Yi",
        "Li Qiang",
        "Sino-",
    ],
    short_names: &[],
    exclusions: &[
        // "sea" lowercase matches "Sea" too: prose and some outlets write "the South China sea(s)".
        "South China sea",
        "East China sea",
        "South China seas",
        "East China seas",
        "China Sea",
        "China Seas",
        "South China Morning Post",
        "Republic of China",
        "Chinese Taipei",
        "Xi'an",
    ],
};

const INDIA: Builtin = Builtin {
    id: "india",
    name: "India",
    aliases: &[
        "India",
        "Indian",
        "Indians",
        "New Delhi",
        "Modi",
        "Narendra Modi",
        "Bharat",
        "Government of India",
        "Republic of India",
        "Jaishankar",
        "Indo-",
        // Op-eds name the government by its seat without "New" as often as with it.
        "Delhi",
        "Border Security Force",
        "BSF",
    ],
    short_names: &[],
    exclusions: &[
        "Indian ocean",
        "Indian subcontinent",
        "West Indies",
        "West Indian",
        "West Indians",
        "American Indian",
        "American Indians",
        "Indian Premier League",
        "East India Company",
        "Indian summer",
        "Indian National Congress",
        "Indian Express",
        "Times of India",
        "India Today",
        "Indian Wells",
        "Cleveland Indians",
        "Bharat Jodo",
        "Nirav Modi",
        "Lalit Modi",
        "Indo-Pacific",
        "Indo-European",
        "Indo-Aryan",
        "Indo-Gangetic",
        "Delhi Capitals",
        "Delhi Daredevils",
    ],
};

const PAKISTAN: Builtin = Builtin {
    id: "pakistan",
    name: "Pakistan",
    aliases: &[
        "Pakistan",
        "Pakistani",
        "Pakistanis",
        "Islamabad",
        "Rawalpindi",
        "Sharif",
        "Shehbaz Sharif",
        "Nawaz Sharif",
        "Asim Munir",
        "Munir",
        "Imran Khan",
        "Bilawal",
        "Zardari",
        "Bajwa",
        "Ishaq Dar",
        "Inter-Services Intelligence",
        "ISI",
        // "Indo-Pak", "Pak army": the short form, as a word of its own.
        "Pak",
    ],
    // Op-eds name him in full once, then "Khan" / "Mr Khan" / "Imran"; on their own
    // these names belong to too many others to be aliases.
    short_names: &["Khan", "Imran", "Dar"],
    exclusions: &[
        "Omar Sharif",
        "Sharif University",
        "Pakistan Super League",
        "Pakistan Muslim League",
        "Pakistan Peoples Party",
        "Pakistan Tehreek-e-Insaf",
        "Pak choi",
        "Pak choy",
        "Pakistan Today",
        "Dar es Salaam",
    ],
};

const RUSSIA: Builtin = Builtin {
    id: "russia",
    name: "Russia",
    aliases: &[
        "Russia",
        "Russian",
        "Russians",
        "Russian Federation",
        "Moscow",
        "Kremlin",
        "Putin",
        "Vladimir Putin",
        "Lavrov",
        "Peskov",
        "Medvedev",
        "Russo-",
    ],
    short_names: &[],
    exclusions: &["Russian roulette", "Russian doll", "Russian dolls", "Moscow Times"],
};

fn builtin_actors() -> Vec<Actor> {
    [US, CHINA, INDIA, PAKISTAN, RUSSIA]
        .iter()
        .map(|b| {
            // Each actor gets the diaspora phrases that name it; the US gets all.
            let diaspora = HYPHENATED_AMERICANS
                .iter()
                .filter(|phrase| b.id == "us" || b.aliases.iter().any(|alias| phrase.starts_with(alias)));
            Actor::new(b.id, b.name, b.aliases.iter().copied())
                .with_exclusions(b.exclusions.iter().chain(diaspora).copied())
                .with_short_names(b.short_names.iter().copied())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eu() -> Actor {
        Actor::new("eu", "European Union", ["European Union", "EU"])
    }

    fn reason(error: &Error) -> String {
        error.to_string()
    }

    #[test]
    fn builtin_is_valid_and_ordered() {
        let set = ActorSet::builtin();
        let ids: Vec<&str> = set.actors().iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, BUILTIN_IDS);
        let revalidated = ActorSet::new(set.actors().to_vec());
        assert_eq!(revalidated.ok(), Some(set));
    }

    #[test]
    fn default_is_us_china_india() {
        let set = ActorSet::default();
        let names: Vec<&str> = set.actors().iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["United States", "China", "India"]);
        assert!(!set.is_empty());
        assert_eq!(set.len(), 3);
    }

    #[test]
    fn diaspora_exclusions_go_to_both_sides() {
        let set = ActorSet::builtin();
        let has = |id: &str, phrase: &str| {
            set.position(id)
                .and_then(|i| set.get(i))
                .is_some_and(|a| a.exclusions.iter().any(|e| e == phrase))
        };
        assert!(has("us", "Indian Americans"));
        assert!(has("india", "Indian Americans"));
        assert!(has("china", "Chinese American"));
        assert!(!has("china", "Indian American"));
        assert!(has("russia", "Russian Americans"));
    }

    #[test]
    fn select_by_id_and_name() {
        let set = ActorSet::select(&["RUSSIA", "usa", "United States", "Pakistan"]);
        let set = set.unwrap_or_else(|e| panic!("{e}"));
        let ids: Vec<&str> = set.actors().iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["russia", "us", "pakistan"]);
    }

    #[test]
    fn select_rejects_unknown_and_empty() {
        let Err(error) = ActorSet::select(&["china", "atlantis"]) else {
            panic!("atlantis accepted");
        };
        assert!(matches!(error, Error::Config(_)));
        let message = reason(&error);
        assert!(message.contains("'atlantis'"), "{message}");
        assert!(message.contains("us, china, india, pakistan, russia"), "{message}");
        assert!(ActorSet::select(&[]).is_err());
    }

    #[test]
    fn new_validates() {
        let cases: Vec<(Vec<Actor>, &str)> = vec![
            (vec![], "no actors"),
            (vec![Actor::new("", "X", ["X"])], "empty id"),
            (vec![Actor::new(" eu", "X", ["X"])], "whitespace"),
            (vec![Actor::new("e\nu", "X", ["X"])], "control character"),
            (
                vec![eu(), Actor::new("EU", "Europe", ["Europe"])],
                "duplicate actor id 'EU'",
            ),
            (vec![Actor::new("eu", "X", Vec::<String>::new())], "no aliases"),
            (vec![Actor::new("eu", "X", ["EU", ""])], "empty alias"),
            (vec![Actor::new("eu", "X", ["EU", " EU"])], "whitespace"),
            (vec![Actor::new("eu", "X", ["--"])], "no letter"),
            (
                vec![Actor::new("eu", "X", ["\u{200b}EU"])],
                "invisible character U+200B",
            ),
            (
                vec![eu().with_exclusions(["EU\u{feff}rope"])],
                "invisible character U+FEFF",
            ),
            (vec![eu().with_exclusions(["  "])], "empty exclusion"),
            (vec![eu().with_short_names([""])], "empty short name"),
            (
                vec![Actor::new("eu", "X", ["Ursula von der Leyen"]).with_short_names(["Leyen "])],
                "whitespace",
            ),
            (
                vec![eu().with_short_names(["Sprouts"])],
                "not a word of any of its aliases",
            ),
            (vec![eu().with_short_names(["EU"])], "is also an alias"),
        ];
        for (actors, expected) in cases {
            match ActorSet::new(actors) {
                Err(error @ Error::Actors { line: None, .. }) => {
                    let message = reason(&error);
                    assert!(message.contains(expected), "{message} lacks {expected}");
                    assert!(message.contains(IN_MEMORY));
                }
                other => panic!("expected an Actors error with {expected}, got {other:?}"),
            }
        }
    }

    #[test]
    fn new_tidies() {
        let actor = Actor::new("eu", "", ["EU", "EU", "Brussels", "Ursula von der Leyen"])
            .with_exclusions(["a b", "a b"])
            .with_short_names(["Leyen", "Leyen"]);
        let set = ActorSet::new(vec![actor]);
        let actor = set.ok().and_then(|s| s.get(0).cloned());
        let actor = actor.unwrap_or_else(|| panic!("valid actor rejected"));
        assert_eq!(actor.name, "eu");
        assert_eq!(actor.aliases, ["EU", "Brussels", "Ursula von der Leyen"]);
        assert_eq!(actor.exclusions, ["a b"]);
        assert_eq!(actor.short_names, ["Leyen"]);
    }

    const GOOD_TOML: &str = r#"
[[actor]]
id = "eu"
name = "European Union"
aliases = ["European Union", "EU", "Brussels", "Ursula von der Leyen"]
exclusions = ["Brussels sprouts"]
short_names = ["Leyen"]

[[actor]]
id = "uk"
aliases = ["United Kingdom", "UK", "Britain"]
"#;

    #[test]
    fn toml_file() {
        let set = ActorSet::from_toml_str(GOOD_TOML, "actors.toml");
        let set = set.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(set.len(), 2);
        assert_eq!(set.actors()[0].exclusions, ["Brussels sprouts"]);
        assert_eq!(set.actors()[0].short_names, ["Leyen"]);
        assert!(set.actors()[1].short_names.is_empty());
        assert_eq!(set.actors()[1].name, "uk");
        assert_eq!(set.position("UK"), Some(1));
    }

    #[test]
    fn a_file_actor_with_a_built_in_id_is_checked_as_the_built_in_actor_extended() {
        // A short name of a built-in alias ("Xi Jinping"), and exclusions alone without aliases.
        let text = "[[actor]]\nid = \"china\"\naliases = [\"Zhongnanhai\"]\nshort_names = [\"Jinping\"]\n\n\
                    [[actor]]\nid = \"india\"\nexclusions = [\"Indian Railways\"]\n";
        let set = ActorSet::from_toml_str(text, "actors.toml").unwrap_or_else(|e| panic!("{e}"));
        let (china, india) = (&set.actors()[0], &set.actors()[1]);
        assert!(china.aliases.iter().any(|a| a == "Xi Jinping") && china.aliases.iter().any(|a| a == "Zhongnanhai"));
        assert_eq!(china.short_names, ["Jinping"]);
        assert!(india.aliases.iter().any(|a| a == "New Delhi"));
        assert!(india.exclusions.iter().any(|e| e == "Indian Railways"));
        // Another name of a built-in actor is not taken for a new actor.
        let (_, line, reason) = actors_error(ActorSet::from_toml_str(
            "[[actor]]\nid = \"PRC\"\naliases = [\"Zhongnanhai\"]\n",
            "a.toml",
        ));
        assert_eq!(line, Some(2));
        assert!(reason.contains("another name of the built-in actor china"), "{reason}");
        // Another id still needs aliases of its own, and is named with its line.
        let (_, line, reason) = actors_error(ActorSet::from_toml_str("[[actor]]\nid = \"eu\"\n", "a.toml"));
        assert_eq!((line, reason.as_str()), (Some(2), "actor 'eu' has no aliases"));
    }

    #[test]
    fn an_alias_of_two_actors_of_a_file_is_named_with_its_line() {
        let text = "[[actor]]\nid = \"eu\"\naliases = [\"Europe\"]\n\n[[actor]]\nid = \"uk\"\naliases = [\"europe\"]\n";
        let (origin, line, reason) = actors_error(ActorSet::from_toml_str(text, "a.toml"));
        assert_eq!((origin.as_str(), line), ("a.toml", Some(6)));
        assert!(reason.contains("names two actors, eu and uk"), "{reason}");
        // An alias that is also an exclusion of its actor, built-in ones included.
        let text = "[[actor]]\nid = \"us\"\nexclusions = [\"America\"]\n";
        let (_, line, reason) = actors_error(ActorSet::from_toml_str(text, "a.toml"));
        assert_eq!(line, Some(2));
        assert!(reason.contains("both an alias and an exclusion of us"), "{reason}");
        // The line of the actor that wrote the alias, not of one that has it from a built-in actor.
        let text = "[[actor]]\nid = \"eu\"\naliases = [\"America\"]\n\n[[actor]]\nid = \"us\"\nexclusions = [\"Yankee Stadium\"]\n";
        let (_, line, reason) = actors_error(ActorSet::from_toml_str(text, "a.toml"));
        assert_eq!(line, Some(2), "{reason}");
    }

    #[test]
    fn actors_given_in_memory_can_extend_the_built_in_ones_as_a_file_does() {
        let china = Actor::new("china", "", Vec::<String>::new()).with_short_names(["Jinping"]);
        let set = ActorSet::extending_builtins(vec![china.clone()]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(set.actors()[0].name, "China");
        assert!(ActorSet::new(vec![china]).is_err(), "new keeps to the actors as given");
        let clash = vec![Actor::new("eu", "EU", ["Beijing"]), Actor::new("china", "", ["PRC"])];
        let (origin, line, reason) = actors_error(ActorSet::extending_builtins(clash));
        assert_eq!((origin.as_str(), line), (IN_MEMORY, None));
        assert!(reason.contains("names two actors, eu and china"), "{reason}");
    }

    fn actors_error(result: Result<ActorSet>) -> (String, Option<usize>, String) {
        match result {
            Err(Error::Actors { origin, line, reason }) => (origin, line, reason),
            other => panic!("expected an Actors error, got {other:?}"),
        }
    }

    #[test]
    fn toml_syntax_error_has_line() {
        let text = "[[actor]]\nid = \"eu\"\naliases = [\"EU\"\nname = \"x\"\n";
        let (origin, line, _) = actors_error(ActorSet::from_toml_str(text, "bad.toml"));
        assert_eq!(origin, "bad.toml");
        assert_eq!(line, Some(4));
    }

    #[test]
    fn toml_unknown_field_has_line() {
        let text = "[[actor]]\nid = \"eu\"\nname = \"EU\"\nalias = [\"EU\"]\n";
        let (_, line, reason) = actors_error(ActorSet::from_toml_str(text, "typo.toml"));
        assert_eq!(line, Some(4), "{reason}");
        assert!(reason.contains("unknown field `alias`"), "{reason}");
    }

    #[test]
    fn toml_unknown_top_level_key() {
        let text = "[[actors]]\nid = \"eu\"\naliases = [\"EU\"]\n";
        let (_, line, reason) = actors_error(ActorSet::from_toml_str(text, "typo.toml"));
        assert_eq!(line, Some(1), "{reason}");
        assert!(reason.contains("actors"), "{reason}");
    }

    #[test]
    fn toml_validation_error_points_at_the_actor() {
        let text = format!("{GOOD_TOML}\n[[actor]]\nid = \"eu\"\naliases = [\"Europe\"]\n");
        let (_, line, reason) = actors_error(ActorSet::from_toml_str(&text, "dup.toml"));
        assert!(reason.contains("duplicate actor id 'eu'"), "{reason}");
        assert_eq!(line, Some(14));
        let text = "[[actor]]\nid = 'eu'\naliases = []\n\n[[actor]]\nid = 'uk'\naliases = ['UK']\n";
        let (_, line, reason) = actors_error(ActorSet::from_toml_str(text, "x.toml"));
        assert!(reason.contains("no aliases"), "{reason}");
        assert_eq!(line, Some(2), "the first actor lacks aliases");
        let text = "# id = \"x\" is commented out\n[[actor]]\nid = \"y\"\naliases = [\"A1\"]\n[[actor]]\nid = \"x\"\naliases = [\" bad\"]\n";
        let (_, line, _) = actors_error(ActorSet::from_toml_str(text, "c.toml"));
        assert_eq!(line, Some(6), "a comment is not the entry");
    }

    #[test]
    fn empty_toml_is_an_error() {
        let (_, line, reason) = actors_error(ActorSet::from_toml_str("", "empty.toml"));
        assert_eq!(line, None);
        assert!(reason.contains("no actors"), "{reason}");
    }

    #[test]
    fn json_file_both_shapes() {
        let table = r#"{"actor": [{"id": "eu", "name": "European Union", "aliases": ["EU"]}]}"#;
        let array = r#"[{"id": "eu", "name": "European Union", "aliases": ["EU"]}]"#;
        let a = ActorSet::from_json_str(table, "t.json").unwrap_or_else(|e| panic!("{e}"));
        let b = ActorSet::from_json_str(array, "a.json").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(a, b);
        assert_eq!(a.actors()[0].aliases, ["EU"]);
    }

    #[test]
    fn json_errors_have_lines() {
        let text = "\n[\n  {\"id\": \"eu\",\n   \"aliases\": [\"EU\"],\n   \"exclude\": []}\n]\n";
        let (_, line, reason) = actors_error(ActorSet::from_json_str(text, "typo.json"));
        assert_eq!(line, Some(5), "{reason}");
        assert!(reason.contains("unknown field `exclude`"), "{reason}");
        assert!(!reason.contains(" at line "), "{reason}");

        let text =
            "{\"actor\": [\n {\"id\": \"eu\", \"aliases\": [\"EU\"]},\n {\"id\": \"EU\", \"aliases\": [\"E\"]}\n]}";
        let (_, line, reason) = actors_error(ActorSet::from_json_str(text, "dup.json"));
        assert!(reason.contains("duplicate"), "{reason}");
        assert_eq!(line, Some(3));

        let (_, line, _) = actors_error(ActorSet::from_json_str("{\"actor\": [", "cut.json"));
        assert_eq!(line, Some(1));
    }

    #[test]
    fn id_line_finds_the_nth_entry() {
        let text = "[{\"id\":\"a\"},{\"id\": \"a\"}]\nid = 'a'\nvalid = \"a\"";
        assert_eq!(id_line(text, "a", 0), Some(1));
        assert_eq!(id_line(text, "a", 1), Some(1));
        assert_eq!(id_line(text, "a", 2), Some(2));
        assert_eq!(id_line(text, "a", 3), None);
    }

    #[test]
    fn serializes_to_the_file_format() {
        let set = ActorSet::default();
        let json = serde_json::to_string(&set).unwrap_or_default();
        let back = ActorSet::from_json_str(&json, "<string>");
        assert_eq!(back.ok(), Some(set.clone()));
        let toml_text = toml::to_string(&set).unwrap_or_default();
        let back = ActorSet::from_toml_str(&toml_text, "<string>");
        assert_eq!(back.ok(), Some(set));
    }

    #[test]
    fn from_path_by_extension() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let toml_path = dir.path().join("actors.TOML");
        let json_path = dir.path().join("actors.json");
        let txt_path = dir.path().join("actors.txt");
        std::fs::write(&toml_path, GOOD_TOML).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(&json_path, r#"[{"id":"eu","aliases":["EU"]}]"#).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(&txt_path, GOOD_TOML).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ActorSet::from_path(&toml_path).map(|s| s.len()).ok(), Some(2));
        assert_eq!(ActorSet::from_path(&json_path).map(|s| s.len()).ok(), Some(1));
        let (origin, _, reason) = actors_error(ActorSet::from_path(&txt_path));
        assert!(origin.ends_with("actors.txt"));
        assert!(reason.contains(".toml or .json"));
        let missing = ActorSet::from_path(dir.path().join("missing.toml"));
        assert!(matches!(missing, Err(Error::Io { .. })));
    }

    #[test]
    fn extend_merges_and_appends() {
        let extra = ActorSet::new(vec![
            Actor::new("CHINA", "PRC", ["Middle Kingdom", "China", "Wang Yi"])
                .with_exclusions(["China Daily"])
                .with_short_names(["Wang"]),
            eu(),
        ]);
        let extra = extra.unwrap_or_else(|e| panic!("{e}"));
        let before = ActorSet::default();
        let china_aliases = before.actors()[1].aliases.len();
        let set = before.extend(extra);
        let ids: Vec<&str> = set.actors().iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["us", "china", "india", "eu"]);
        let china = &set.actors()[1];
        assert_eq!(china.name, "China", "the name of the first definition stays");
        assert_eq!(
            china.aliases.len(),
            china_aliases + 1,
            "China and Wang Yi are not repeated"
        );
        assert_eq!(china.aliases.last().map(String::as_str), Some("Middle Kingdom"));
        assert!(china.exclusions.iter().any(|e| e == "China Daily"));
        assert_eq!(china.short_names, ["Wang"]);
    }
}
