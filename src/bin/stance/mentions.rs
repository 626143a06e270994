//! `stance mentions`: the (sentence, actor) pairs the mention detector finds, without a model.
//!
//! Useful to check an actor file before a long run, and to build the unlabelled
//! in-domain pairs that the training pipeline distils a teacher's labels onto.
//! Output is NewsMTSC-shaped JSON Lines, one line per sentence that mentions an
//! actor, with character (not byte) offsets so that Python can slice with them.
//! Inputs are read as `stance score` reads them (files, directories, JSON Lines,
//! CSV, standard input), so that a check sees what a run would.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use serde_json::{json, Value};
use stance::corpus::{CorpusReader, Fields, Format, Location};
use stance::{split_sentences, ActorSet, Mention, MentionFinder, Span};

use crate::corpus::InputArgs;
use crate::{text, ActorArgs};

#[derive(Args)]
pub struct MentionsArgs {
    /// Text or Markdown files (one document each), directories, JSON Lines (.jsonl), CSV (.csv)
    /// and Parquet (.parquet) files (a document per line or row), the first three also
    /// compressed (.jsonl.gz, .csv.zst), or `-` for standard input: read as `stance score`
    /// reads them.
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<PathBuf>,
    /// JSON key / CSV column of the text (e.g. sentence_normalized), as score's --text-field
    /// [default: text].
    #[arg(long, visible_alias = "text-field", value_name = "NAME")]
    field: Option<String>,
    /// Treat each text as one sentence instead of splitting it into sentences.
    #[arg(long)]
    no_split: bool,
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    actors: ActorArgs,
}

/// With --field the user means records with fields: a file named that would be read as text
/// (by its extension) is refused rather than listed as one document of JSON or CSV syntax.
fn refuse_text_files(inputs: &[PathBuf], input: &InputArgs) -> Result<()> {
    if input.input_format().is_some() {
        return Ok(());
    }
    let as_text = inputs.iter().find(|path| {
        path.is_file()
            && !matches!(
                Format::from_extension(path),
                Some(Format::Jsonl | Format::Csv | Format::Parquet)
            )
    });
    match as_text {
        Some(path) => anyhow::bail!(
            "--field names a JSON key or CSV column, but {} is read as text (by its extension): pass \
             --input-format jsonl, csv or parquet",
            path.display()
        ),
        None => Ok(()),
    }
}

/// Lists every record the inputs hold; a record that cannot be read is named on
/// stderr, as score names it, the others are still listed, and the exit status is then 1.
pub fn run(args: &MentionsArgs) -> Result<ExitCode> {
    let actors = args.actors.actor_set()?;
    let finder = MentionFinder::new(&actors)?;
    let lister = Lister {
        actors: &actors,
        finder: &finder,
        split: !args.no_split,
    };
    let mut fields = Fields::default();
    if let Some(field) = &args.field {
        refuse_text_files(&args.inputs, &args.input)?;
        fields.text.clone_from(field);
    }
    let mut reader = CorpusReader::new(&args.inputs, args.input.read_options(fields))?;
    let mut failed = 0u64;
    text::until_the_reader_stops(lister.all(&mut reader, &mut failed))?;
    text::warn_unread(&reader);
    Ok(text::status(failed))
}

/// The `source` of a record's rows: `FILE:LINE` for a line or row, `FILE` for a whole text.
fn source_name(location: &Location) -> String {
    match location.line {
        Some(line) => format!("{}:{line}", location.file),
        None => location.file.clone(),
    }
}

struct Lister<'a> {
    actors: &'a ActorSet,
    finder: &'a MentionFinder,
    split: bool,
}

impl Lister<'_> {
    /// Lists what `reader` reads to stdout, counting into `failed` (and naming on stderr) the
    /// records that cannot be read.
    fn all(&self, reader: &mut CorpusReader, failed: &mut u64) -> Result<()> {
        let mut out = std::io::stdout().lock();
        for record in reader.by_ref() {
            match &record.document {
                Ok(document) => self.text(&source_name(&record.location), &document.text, &mut out)?,
                Err(error) => {
                    *failed += 1;
                    text::report_failed(&record.location, error);
                }
            }
        }
        out.flush()?;
        Ok(())
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
