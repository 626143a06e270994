//! Combining the outputs of several runs (typically the shards of one corpus) into one.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::ops::Bound;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

use super::checkpoint::Checkpoint;
use super::input::{EmptyFiles, SkippedFiles};
use super::meta::{new_run_id, DirLock, InputHash, RunInfo, RunStatus};
use super::output::{
    create_temporary, remove_stale_temporaries, write_parquet, OutputFormat, DOCUMENTS, DOCUMENTS_JSONL, ERRORS,
    RESULTS, RUN_JSON, SENTENCES, SUMMARY_JSON,
};
use super::run::write_summaries;
use super::shard::Shard;
use super::summary::Summary;

/// Merges finished runs into `out`: their summaries exactly (the merge of
/// shards `1/N` ... `N/N` equals, byte for byte, the `summary.json` of one run
/// over the whole corpus), and their `sentences.jsonl`, `documents.csv` and
/// `errors.jsonl` by concatenation, in the order given. Runs made with
/// [`OutputFormat::Parquet`] merge into one too: `documents.jsonl` is
/// concatenated as well, and `sentences.parquet` and `documents.parquet` are
/// converted from the merged journals.
///
/// Each run has an id (drawn when it starts, kept by every resume and by
/// copies of its directory), so a run given twice, or a copy of one, or a
/// merge together with a run it holds, is refused rather than counted twice.
/// The merge holds `out`'s lock ([`DirLock`]) while it writes.
///
/// # Errors
/// A run that is unfinished or unreadable, a run given twice, two whole
/// (unsharded) runs over the same inputs, a whole run with shards of the same
/// corpus, runs with
/// different models (by name or by content), actors, input options, output
/// formats or shard counts, shards of different inputs, whole runs over the same
/// documents (however their files are named), a shard given twice, a run whose
/// row files are not the lengths it committed, an `out` that already holds
/// outputs or documents or that another process is working in,
/// or Parquet runs when the library was built without its `parquet` feature.
/// A merge into `out` that was stopped before it finished is replaced.
pub fn merge_runs(dirs: &[PathBuf], out: &Path) -> Result<RunInfo> {
    merge_runs_recording(dirs, out, &[])
}

/// [`merge_runs`], recording `command` (the merge's command line) in the merged `run.json`; the
/// commands that scored the runs merged stay in their own `run.json`.
///
/// # Errors
/// As [`merge_runs`].
pub fn merge_runs_recording(dirs: &[PathBuf], out: &Path, command: &[String]) -> Result<RunInfo> {
    let runs = dirs.iter().map(|dir| load_run(dir)).collect::<Result<Vec<_>>>()?;
    let (first_dir, first) = match (dirs.first(), runs.first()) {
        (Some(dir), Some(info)) => (dir, info),
        _ => {
            return Err(Error::Config(
                "nothing to merge: give at least one run directory".into(),
            ))
        }
    };
    check_distinct_runs(dirs, &runs)?;
    check_distinct_inputs(dirs, &runs)?;
    for (dir, info) in dirs.iter().zip(&runs).skip(1) {
        check_compatible(first_dir, first, dir, info)?;
    }
    check_actor_definitions(dirs, &runs)?;
    check_disjoint_shards(dirs, &runs)?;
    first.format.check_available()?;
    let summary = merged_summary(dirs)?;
    // Before anything is created in `out` (a refused merge leaves nothing), and again under the lock.
    super::run::check_out_is_no_file(out)?;
    super::input::check_out_holds_no_documents(out)?;
    check_empty(out)?;
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let _lock = DirLock::acquire(out, "stance merge")?;
    remove_stale_temporaries(out)?;
    clear_unfinished_merge(out)?;
    check_empty(out)?;
    let mut info = merged_info(first.clone(), dirs, &runs, &summary);
    info.command = command.to_vec();
    // The first run's lengths until the merge's own are known.
    info.row_files.clear();
    // `run.json` comes first, saying the merge has not finished: a merge stopped midway (killed,
    // interrupted) is a run's directory that no walk reads as a corpus, no merge takes as a run,
    // and the same merge, run again, replaces.
    info.status = RunStatus::Running;
    info.save(out)?;
    let mut row_files = vec![SENTENCES, DOCUMENTS, ERRORS];
    if first.format == OutputFormat::Parquet {
        row_files.push(DOCUMENTS_JSONL);
    }
    for name in row_files {
        info.row_files
            .insert(name.to_owned(), concatenate(dirs, out, name, name == DOCUMENTS)?);
    }
    if first.format == OutputFormat::Parquet {
        write_parquet(out, false)?;
    }
    write_summaries(out, &summary)?;
    info.status = RunStatus::Complete;
    info.save(out)?;
    Ok(info)
}

/// Removes the outputs of a merge into `out` that did not finish (its `run.json` says so, and a
/// merge has no checkpoint), so that the merge can run again there.
fn clear_unfinished_merge(out: &Path) -> Result<()> {
    if !holds_unfinished_merge(out) {
        return Ok(());
    }
    // run.json last: until it goes, the directory stays marked as a merge's.
    let mut names: Vec<&str> = RESULTS.into_iter().filter(|&name| name != RUN_JSON).collect();
    names.push(RUN_JSON);
    for name in names {
        match std::fs::remove_file(out.join(name)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(Error::io(out.join(name), e)),
            _ => {}
        }
    }
    Ok(())
}

fn holds_unfinished_merge(out: &Path) -> bool {
    out.join(RUN_JSON).exists() && RunInfo::load(out).is_ok_and(|info| info.is_unfinished_merge(out))
}

/// Refuses an `out` that holds outputs already, other than those of a merge that did not finish.
fn check_empty(out: &Path) -> Result<()> {
    if holds_unfinished_merge(out) {
        return Ok(());
    }
    match RESULTS.into_iter().find(|n| out.join(n).exists()) {
        Some(name) => Err(Error::Config(format!(
            "{} already holds {name}: merge into an empty directory",
            out.display()
        ))),
        None => Ok(()),
    }
}

fn load_run(dir: &Path) -> Result<RunInfo> {
    let mut info = RunInfo::load(dir)?;
    let checkpoint = Checkpoint::load(dir)?;
    if info.status != RunStatus::Complete {
        let why = if let Some(holder) = DirLock::holder(dir) {
            format!("another process is still writing it ({holder}): merge it when that has finished")
        } else if info.is_unfinished_merge(dir) {
            "the merge into it did not finish (it was stopped): run that merge again".to_owned()
        } else {
            "the run has not finished; finish it with --resume first".to_owned()
        };
        return Err(Error::Config(format!("{}: {why}", dir.display())));
    }
    match checkpoint {
        // A scoring run's checkpoint says how long its journals are.
        Some(state) => {
            state.check_journals(dir)?;
            // Its checkpoint holds the actor definitions where run.json predates them.
            info.actor_definitions.get_or_insert(state.config.actors);
        }
        // A merge, or a run whose checkpoint was deleted: run.json says.
        None => info.check_row_files(dir)?,
    }
    Ok(info)
}

/// Refuses runs with the same actor ids but other definitions (names, aliases, short names,
/// exclusions): they find other mentions, so their sum matches no run over the corpus. Each
/// is compared with the first that records them (only a merge written before they were
/// recorded lacks them).
fn check_actor_definitions(dirs: &[PathBuf], runs: &[RunInfo]) -> Result<()> {
    let mut recorded = dirs
        .iter()
        .zip(runs)
        .filter_map(|(dir, info)| Some((dir, info.actor_definitions.as_ref()?)));
    let Some((first_dir, first)) = recorded.next() else {
        return Ok(());
    };
    match recorded.find(|(_, definitions)| definitions != &first) {
        Some((dir, _)) => Err(Error::Config(format!(
            "{} and {} differ in their actor definitions (names, aliases, short names or exclusions: \
             --actor-file): only runs of the same settings merge",
            first_dir.display(),
            dir.display()
        ))),
        None => Ok(()),
    }
}

/// The summaries of the runs in `dirs`, merged. Each is read and added in turn, so that memory
/// holds the merged summary and one run's, not every run's: a summary grows with the sources and
/// months of its corpus, and a merge may take dozens of shards.
fn merged_summary(dirs: &[PathBuf]) -> Result<Summary> {
    let mut merged = Summary::default();
    for dir in dirs {
        merged.merge(&load_summary(dir)?);
    }
    Ok(merged)
}

fn load_summary(dir: &Path) -> Result<Summary> {
    let path = dir.join(SUMMARY_JSON);
    let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
    serde_json::from_slice(&bytes).map_err(|e| {
        Error::input(
            path.display().to_string(),
            Some(e.line()),
            format!("invalid summary: {e}"),
        )
    })
}

/// Refuses a run given twice (or a copy of it, or a merge and a run it holds), by run id.
fn check_distinct_runs(dirs: &[PathBuf], runs: &[RunInfo]) -> Result<()> {
    let mut seen: Vec<(&str, &Path)> = Vec::new();
    for (dir, info) in dirs.iter().zip(runs) {
        if info.run_id.is_empty() {
            return Err(Error::Config(format!(
                "{}: run.json has no run id (the run was made by an older stance), so it cannot be told apart \
                 from a copy of another run: score it again to merge it",
                dir.display()
            )));
        }
        for id in info.constituent_ids() {
            if let Some((_, first)) = seen.iter().find(|(seen_id, _)| *seen_id == id) {
                return Err(Error::Config(format!(
                    "{} and {} both hold run {id} (a run given twice, a copy of one, or a run that two merges \
                     were each made from): its documents would be counted twice; give each run once",
                    first.display(),
                    dir.display()
                )));
            }
            seen.push((id, dir));
        }
    }
    Ok(())
}

/// Refuses two whole (unsharded) runs over the same inputs (by content, or one file named in two
/// ways), also when one of them is inside a merge: each holds every document of them.
fn check_distinct_inputs(dirs: &[PathBuf], runs: &[RunInfo]) -> Result<()> {
    let same = |first: &Path, dir: &Path, what: String| {
        Err(Error::Config(format!(
            "{} and {} hold runs over the same inputs ({what}), not shards of them: merged, every document \
             would be counted twice; merge the shards of one corpus (--shard), or runs over different inputs",
            first.display(),
            dir.display(),
        )))
    };
    let mut hashes: Vec<(&str, &Path)> = Vec::new();
    let mut documents: Vec<(&str, &Path)> = Vec::new();
    // Every input path read so far, with the run that read it, sorted: a run given thousands of
    // files (a shell glob) is checked by lookups, where comparing every pair took minutes.
    let mut paths: BTreeMap<&Path, &Path> = BTreeMap::new();
    // A run that read no record holds no document to count twice.
    let nothing_read = (InputHash::default().hex(), InputHash::default().documents_hex());
    let whole = |(_, info): &(&PathBuf, &RunInfo)| partial_shards(info).is_empty() && info.records > 0;
    for (dir, info) in dirs.iter().zip(runs).filter(whole) {
        if let Some((hash, first)) = seen_before(&mut hashes, info.constituent_input_hashes(), &nothing_read.0, dir) {
            return same(first, dir, format!("content hash {hash}"));
        }
        for path in info.input_paths.iter().map(Path::new) {
            if let Some((seen, first)) = overlapping_path(&paths, path) {
                let what = if seen == path {
                    format!(
                        "both read {}; if the file was replaced between the runs, score each version under a \
                         name of its own",
                        path.display()
                    )
                } else {
                    format!("{} and {}", seen.display(), path.display())
                };
                return same(first, dir, what);
            }
        }
        // Then the same documents read from other files: a copy, a hard link, files joined into one.
        let held = info.constituent_documents_hashes();
        if let Some((hash, first)) = seen_before(&mut documents, held, &nothing_read.1, dir) {
            return same(first, dir, format!("the same documents in the same order, hash {hash}"));
        }
        paths.extend(info.input_paths.iter().map(|path| (Path::new(path), dir.as_path())));
    }
    Ok(())
}

/// The first of `hashes` (other than `nothing`, the hash of no record) that an earlier run holds,
/// with that run's directory; otherwise notes them as `dir`'s.
fn seen_before<'a>(
    seen: &mut Vec<(&'a str, &'a Path)>,
    hashes: Vec<&'a str>,
    nothing: &str,
    dir: &'a Path,
) -> Option<(&'a str, &'a Path)> {
    for hash in hashes.into_iter().filter(|h| *h != nothing) {
        if let Some(&(_, first)) = seen.iter().find(|(earlier, _)| *earlier == hash) {
            return Some((hash, first));
        }
        seen.push((hash, dir));
    }
    None
}

/// A path of `paths` that is `path`, holds it or lies inside it (a file, or a directory that
/// holds it), with its value. Paths sort component by component, so those inside `path`
/// follow it at once.
fn overlapping_path<'a>(paths: &BTreeMap<&'a Path, &'a Path>, path: &Path) -> Option<(&'a Path, &'a Path)> {
    let holder = path.ancestors().find_map(|ancestor| paths.get_key_value(ancestor));
    let inside = || {
        paths
            .range::<Path, _>((Bound::Excluded(path), Bound::Unbounded))
            .next()
            .filter(|(seen, _)| seen.starts_with(path))
    };
    holder.or_else(inside).map(|(seen, first)| (*seen, *first))
}

/// The shards `info` holds when they are part of a corpus; none when it holds every shard of its
/// corpus (a merge of 1/N ... N/N), which merges on as one run over the whole corpus would: so
/// corpora scored in shards (2024, 2025) merge into one.
fn partial_shards(info: &RunInfo) -> &[Shard] {
    if info.missing_shards().is_empty() {
        &[]
    } else {
        &info.shards
    }
}

fn check_compatible(a_dir: &Path, a: &RunInfo, b_dir: &Path, b: &RunInfo) -> Result<()> {
    check_not_whole_and_shards(a_dir, a, b_dir, b)?;
    let model = |i: &RunInfo| i.analyzer.as_ref().map(|x| (x.model.clone(), x.actors.clone()));
    let context = |i: &RunInfo| i.analyzer.as_ref().map(|x| x.document_context);
    let shard_count = |i: &RunInfo| partial_shards(i).first().map(|s| s.count());
    let read_difference: String;
    let differs = if a.scoring_rules != b.scoring_rules {
        Some(
            "the version of their sentence splitting, mention matching, model input and reading of dates \
             (scoring_rules): made by different builds of stance",
        )
    } else if model(a) != model(b) {
        Some("model or actors")
    } else if a.model_hash != b.model_hash {
        Some("model files (content hash)")
    } else if context(a) != context(b) {
        Some("the weight of document context (--document-context)")
    } else if a.read != b.read {
        // The first option that differs, in the words of a resume ("the run used …, now …").
        let which = a.read.difference(&b.read).unwrap_or_default();
        let which = which
            .replace("the run used", "the first used")
            .replace(", now ", ", the other ");
        read_difference = format!("input options ({which})");
        Some(read_difference.as_str())
    } else if a.format != b.format {
        Some("output format (--format)")
    } else if shard_count(a) != shard_count(b) {
        Some("shard count")
    } else if shard_count(a).is_some() && a.input_hash != b.input_hash {
        // Every shard reads the whole input, so shards of one corpus hash it alike.
        Some(
            "inputs (content hash): they are shards of different corpora, or of one corpus named by different \
             paths (the hash covers the paths as given: name the inputs the same way in every shard)",
        )
    } else {
        None
    };
    match differs {
        Some(what) => Err(Error::Config(format!(
            "{} and {} differ in {what}: only runs of the same settings merge",
            a_dir.display(),
            b_dir.display()
        ))),
        None => Ok(()),
    }
}

/// Refuses a run over a whole corpus with shards (or a merge of shards) of the same corpus: every
/// shard hashes the whole input, as the run that read it whole does.
fn check_not_whole_and_shards(a_dir: &Path, a: &RunInfo, b_dir: &Path, b: &RunInfo) -> Result<()> {
    if a.input_hash.is_empty() || a.input_hash != b.input_hash {
        return Ok(());
    }
    let (whole_dir, sharded) = match (partial_shards(a).is_empty(), partial_shards(b).is_empty()) {
        (true, false) => (a_dir, b_dir),
        (false, true) => (b_dir, a_dir),
        _ => return Ok(()),
    };
    Err(Error::Config(format!(
        "{} holds a whole corpus and {} shards of the same corpus (the same content hash): merged, their \
         documents would be counted twice; merge the shards alone",
        whole_dir.display(),
        sharded.display()
    )))
}

fn check_disjoint_shards(dirs: &[PathBuf], runs: &[RunInfo]) -> Result<()> {
    let mut seen = BTreeSet::new();
    for (dir, info) in dirs.iter().zip(runs) {
        for shard in partial_shards(info) {
            if !seen.insert(shard.index()) {
                return Err(Error::Config(format!(
                    "{}: shard {shard} is already among the runs merged; each shard must be given once",
                    dir.display()
                )));
            }
        }
    }
    Ok(())
}

/// Concatenates `name` from every run into `out/name`, through a temporary file
/// renamed at the end; with `header`, keeps only the first file's first line. Returns the
/// length written.
fn concatenate(dirs: &[PathBuf], out: &Path, name: &str, header: bool) -> Result<u64> {
    let target = out.join(name);
    let (tmp, file) = create_temporary(&target)?;
    let mut writer = BufWriter::with_capacity(1 << 20, file);
    let mut written = 0;
    for (i, dir) in dirs.iter().enumerate() {
        let path = dir.join(name);
        let mut reader = BufReader::new(File::open(&path).map_err(|e| Error::io(&path, e))?);
        if header && i > 0 {
            let mut first = Vec::new();
            reader.read_until(b'\n', &mut first).map_err(|e| Error::io(&path, e))?;
        }
        written += copy_rows(&mut reader, &path, &mut writer, &tmp)?;
    }
    let file = writer.into_inner().map_err(|e| Error::io(&tmp, e.into_error()))?;
    file.sync_all().map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, &target).map_err(|e| Error::io(&target, e))?;
    // The rename is made durable by the atomic writes of the summaries that follow in the same directory.
    Ok(written)
}

/// Copies `reader` (the file `from`) to `writer` (the file `to`), an error naming the file that
/// failed: a full disk is the output's, not the input's.
fn copy_rows(reader: &mut impl BufRead, from: &Path, writer: &mut impl Write, to: &Path) -> Result<u64> {
    let mut copied = 0;
    loop {
        let chunk = reader.fill_buf().map_err(|e| Error::io(from, e))?;
        if chunk.is_empty() {
            return Ok(copied);
        }
        writer.write_all(chunk).map_err(|e| Error::io(to, e))?;
        let len = chunk.len();
        copied += len as u64;
        reader.consume(len);
    }
}

/// `run.json` of the merge: `first`'s settings, everyone's shards, counts and sessions.
fn merged_info(mut info: RunInfo, dirs: &[PathBuf], runs: &[RunInfo], summary: &Summary) -> RunInfo {
    let mut shards: Vec<_> = runs.iter().flat_map(|i| partial_shards(i).iter().copied()).collect();
    shards.sort_by_key(|s| s.index());
    info.status = RunStatus::Complete;
    // One definition for all (check_actor_definitions), kept even where the first run lacks it.
    info.actor_definitions = runs.iter().find_map(|i| i.actor_definitions.clone());
    info.inputs = union(runs.iter().flat_map(|i| &i.inputs));
    info.input_paths = union(runs.iter().flat_map(|i| &i.input_paths));
    let whole = shards.is_empty();
    if whole {
        // Whole runs over different inputs: their records add up, and each keeps its own hash.
        info.records = runs.iter().fold(0, |sum, i| sum.saturating_add(i.records));
        info.merged_input_hashes = runs
            .iter()
            .flat_map(|i| i.constituent_input_hashes())
            .map(str::to_owned)
            .collect();
        info.merged_documents_hashes = runs
            .iter()
            .flat_map(|i| i.constituent_documents_hashes())
            .map(str::to_owned)
            .collect();
        if runs.len() > 1 {
            info.input_hash = String::new();
            info.documents_hash = String::new();
        }
    } else {
        // Every shard reads the whole input.
        info.records = runs.iter().map(|i| i.records).max().unwrap_or(0);
    }
    info.shards = shards;
    info.other_shards = info.records.saturating_sub(summary.documents + summary.failed);
    info.documents = summary.documents;
    info.failed = summary.failed;
    info.sentences = summary.sentences;
    info.pairs = summary.pairs;
    info.sessions = runs.iter().flat_map(|i| i.sessions.iter().cloned()).collect();
    info.wall_secs = runs.iter().map(|i| i.wall_secs).sum();
    let rate = |n: u64| {
        if info.wall_secs > 0.0 {
            n as f64 / info.wall_secs
        } else {
            0.0
        }
    };
    info.documents_per_sec = rate(summary.documents + summary.failed);
    info.sentences_per_sec = rate(summary.sentences);
    info.merged_from = dirs.iter().map(|d| d.display().to_string()).collect();
    info.merged_run_ids = runs
        .iter()
        .flat_map(|i| i.constituent_ids())
        .map(str::to_owned)
        .collect();
    info.skipped_run_dirs = runs
        .iter()
        .flat_map(|i| i.skipped_run_dirs.iter().cloned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    info.skipped_files = walk_account(runs, whole, |i| &i.skipped_files, SkippedFiles::extend, |s| s.count);
    info.empty_files = walk_account(runs, whole, |i| &i.empty_files, EmptyFiles::extend, |e| e.count);
    // Every run read with the same field names (checked above), so a field is unmatched in the
    // merge when no run's records held it.
    let mut unmatched = runs.first().map(|i| i.unmatched_fields.clone()).unwrap_or_default();
    unmatched.retain(|field| runs.iter().all(|i| i.unmatched_fields.contains(field)));
    info.unmatched_fields = unmatched;
    info.run_id = new_run_id();
    info
}

/// The merge's account of what the runs' walks met (files not read, files that held no record).
/// Whole runs walked different inputs, so their accounts add up; shards walk the same inputs, so
/// each met the same files, and the fullest account is kept.
fn walk_account<T: Clone + Default>(
    runs: &[RunInfo],
    whole: bool,
    of: impl Fn(&RunInfo) -> &T,
    add: impl Fn(&mut T, &T),
    count: impl Fn(&T) -> u64,
) -> T {
    if whole {
        runs.iter().fold(T::default(), |mut all, i| {
            add(&mut all, of(i));
            all
        })
    } else {
        runs.iter()
            .map(of)
            .max_by_key(|a| count(a))
            .cloned()
            .unwrap_or_default()
    }
}

/// The distinct strings of `items`, in their first order.
fn union<'a>(items: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    items.filter(|item| seen.insert(*item)).cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_paths_are_found_by_lookup_as_by_comparing_every_pair() {
        // Names that sort between a directory and its entries byte by byte ("/c-1", "/c.txt").
        let names = [
            "/c",
            "/c/a.txt",
            "/c/sub",
            "/c/sub/b.txt",
            "/c-1/y.txt",
            "/c.txt",
            "/c2",
            "/c2/x.jsonl",
            "/d/e.csv",
            "/",
        ];
        let runs: Vec<&Path> = ["/run1", "/run2"].map(Path::new).to_vec();
        // Every set of paths read before, against every path read next.
        for mask in 0u32..1 << names.len() {
            let seen: Vec<&Path> = (0..names.len())
                .filter(|i| mask & (1 << i) != 0)
                .map(|i| Path::new(names[i]))
                .collect();
            let paths: BTreeMap<&Path, &Path> = seen.iter().map(|p| (*p, runs[p.as_os_str().len() % 2])).collect();
            for path in names.map(Path::new) {
                let pairwise = seen
                    .iter()
                    .filter(|s| path.starts_with(s) || s.starts_with(path))
                    .collect::<Vec<_>>();
                let found = overlapping_path(&paths, path);
                assert_eq!(found.is_some(), !pairwise.is_empty(), "{path:?} against {seen:?}");
                if let Some((found, run)) = found {
                    assert!(pairwise.contains(&&found), "{path:?} against {seen:?}: {found:?}");
                    assert_eq!(run, paths[found]);
                    // The same path read twice is named as such.
                    assert_eq!(found == path, seen.contains(&path), "{path:?} against {seen:?}");
                }
            }
        }
    }
}
