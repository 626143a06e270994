//! `stance mentions`: the (sentence, actor) pairs the mention detector finds, without a model.
//!
//! Useful to check an actor file before a long run, and to build the unlabelled
//! in-domain pairs that the training pipeline distils a teacher's labels onto.
//! Output is NewsMTSC-shaped JSON Lines, one line per sentence that mentions an
//! actor, with character (not byte) offsets so that Python can slice with them.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, Context, Result};
use clap::Args;
use serde_json::{json, Value};
use stance::{split_sentences, ActorSet, Mention, MentionFinder, Span};

use crate::ActorArgs;

#[derive(Args)]
pub struct MentionsArgs {
    /// Text files (one document each) or, with --field, JSON Lines files.
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<PathBuf>,
    /// Read JSON Lines: the text of each line is this string field (e.g. sentence_normalized).
    #[arg(long, value_name = "NAME")]
    field: Option<String>,
    /// Treat each text as one sentence instead of splitting it into sentences.
    #[arg(long)]
    no_split: bool,
    #[command(flatten)]
    actors: ActorArgs,
}

pub fn run(args: &MentionsArgs) -> Result<ExitCode> {
    let actors = args.actors.actor_set()?;
    let finder = MentionFinder::new(&actors)?;
    let lister = Lister {
        actors: &actors,
        finder: &finder,
        split: !args.no_split,
    };
    let mut out = std::io::stdout().lock();
    let mut failed = 0usize;
    for path in &args.inputs {
        let outcome = match &args.field {
            Some(field) => lister.jsonl_file(path, field, &mut out),
            None => lister.text_file(path, &mut out),
        };
        if let Err(error) = outcome {
            failed += 1;
            eprintln!("error: {error:#}");
        }
    }
    out.flush()?;
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

struct Lister<'a> {
    actors: &'a ActorSet,
    finder: &'a MentionFinder,
    split: bool,
}

impl Lister<'_> {
    fn text_file(&self, path: &Path, out: &mut impl Write) -> Result<()> {
        let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            anyhow!(
                "{}: invalid UTF-8 at byte {}",
                path.display(),
                e.utf8_error().valid_up_to()
            )
        })?;
        self.text(&path.display().to_string(), &text, out)
    }

    /// Every line must parse: a bad line is an error naming its line, and the
    /// rest of the file is still listed (the file then counts as failed).
    fn jsonl_file(&self, path: &Path, field: &str, out: &mut impl Write) -> Result<()> {
        let file = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
        let mut bad_lines = Vec::new();
        for (index, line) in BufReader::new(file).lines().enumerate() {
            let source = format!("{}:{}", path.display(), index + 1);
            let line = line.with_context(|| format!("{source}: cannot read the line"))?;
            if line.trim().is_empty() {
                continue;
            }
            let text = serde_json::from_str::<Value>(&line)
                .map_err(|e| anyhow!("{source}: not JSON: {e}"))
                .and_then(|row| match row.get(field).and_then(Value::as_str) {
                    Some(text) => Ok(text.to_owned()),
                    None => Err(anyhow!("{source}: no string field \"{field}\"")),
                });
            match text {
                Ok(text) => self.text(&source, &text, out)?,
                Err(error) => {
                    eprintln!("error: {error:#}");
                    bad_lines.push(index + 1);
                }
            }
        }
        match bad_lines.len() {
            0 => Ok(()),
            n => Err(anyhow!(
                "{}: {n} bad line(s), first at line {}",
                path.display(),
                bad_lines[0]
            )),
        }
    }

    fn text(&self, source: &str, text: &str, out: &mut impl Write) -> Result<()> {
        let sentences = if self.split {
            split_sentences(text)
        } else {
            vec![Span::new(0, text.len())]
        };
        // One document: a short name counts after its full alias in an earlier sentence.
        let found = self.finder.find_per_sentence(text, &sentences);
        for (index, (span, mentions)) in sentences.into_iter().zip(found).enumerate() {
            if let Some(row) = self.sentence_row(source, index, span.slice(text), &mentions) {
                writeln!(out, "{row}")?;
            }
        }
        Ok(())
    }

    /// One NewsMTSC-shaped row: a target per mentioned actor (its first mention
    /// as from/to, the others as further_mentions), or None without mentions.
    fn sentence_row(&self, source: &str, index: usize, sentence: &str, mentions: &[Mention]) -> Option<Value> {
        let mut targets = Vec::new();
        for (actor_index, actor) in self.actors.actors().iter().enumerate() {
            let spans: Vec<Value> = mentions
                .iter()
                .filter(|m| m.actor == actor_index)
                .map(|m| {
                    let from = sentence[..m.span.start].chars().count();
                    let to = from + m.span.slice(sentence).chars().count();
                    json!({ "from": from, "to": to, "mention": m.span.slice(sentence) })
                })
                .collect();
            let Some((first, further)) = spans.split_first() else {
                continue;
            };
            targets.push(json!({
                "actor": actor.id,
                "from": first["from"],
                "to": first["to"],
                "mention": first["mention"],
                "further_mentions": further,
            }));
        }
        (!targets.is_empty()).then(
            || json!({ "source": source, "sentence": index, "sentence_normalized": sentence, "targets": targets }),
        )
    }
}
