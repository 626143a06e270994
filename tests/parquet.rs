//! `stance score --out DIR --format parquet` and `stance merge` of such runs:
//! sentences.parquet and documents.parquet, read back with the `parquet`
//! crate's reader, hold exactly the rows of sentences.jsonl and documents.csv,
//! and survive a kill, a resume and a shard merge as the JSON Lines do.

mod common;
use common::*;

#[cfg(not(feature = "parquet"))]
#[test]
fn without_the_feature_parquet_is_refused_before_anything_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let inputs = [fixture("good/wire.jsonl")];
    let output = stance(&score_args(&inputs, &out, &["--format", "parquet"]));
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("`parquet` feature"), "{stderr}");
    assert!(!out.exists());
}

#[cfg(not(feature = "parquet"))]
#[test]
fn without_the_feature_a_parquet_input_fails_naming_the_feature() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("articles.parquet");
    std::fs::write(&input, b"PAR1").unwrap();
    let out = tmp.path().join("run");
    let output = stance(&score_args(&[input.to_str().unwrap().to_owned()], &out, &[]));
    assert_eq!(output.status.code(), Some(1));
    let errors = read(&out.join("errors.jsonl"));
    assert!(errors.contains("`parquet` feature"), "{errors}");
}

#[cfg(feature = "parquet")]
mod with_parquet {
    use super::*;

    use std::io::Write;
    use std::path::{Path, PathBuf};
    use std::process::{Command, Output};

    use parquet::file::reader::FileReader;
    use parquet::file::serialized_reader::SerializedFileReader;
    use parquet::record::{Field, Row};

    /// The columns of sentences.parquet, in order, and the type each value must read as.
    const SENTENCE_COLUMNS: [(&str, &str); 13] = [
        ("document_id", "string"),
        ("sentence_index", "int64"),
        ("start", "int64"),
        ("end", "int64"),
        ("text", "string"),
        ("actor", "string"),
        ("mentions", "list"),
        ("p_unfavorable", "float"),
        ("p_neutral", "float"),
        ("p_favorable", "float"),
        ("score", "float"),
        ("label", "string"),
        ("truncated", "bool"),
    ];

    /// The columns of documents.parquet (those of documents.csv), each of one type or null.
    const DOCUMENT_COLUMNS: [(&str, &str); 12] = [
        ("document_id", "string"),
        ("date", "string|null"),
        ("source", "string|null"),
        ("title", "string|null"),
        ("document_sentences", "int64"),
        ("actor", "string|null"),
        ("actor_sentences", "int64"),
        ("mentions", "int64"),
        ("mean_score", "double|null"),
        ("unfavorable", "int64"),
        ("neutral", "int64"),
        ("favorable", "int64"),
    ];

    fn bytes(path: &Path) -> Vec<u8> {
        std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// Every row of a Parquet file, with the parquet crate's record reader.
    fn parquet_rows(path: &Path) -> Vec<Row> {
        let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let reader = SerializedFileReader::new(file).unwrap();
        reader.get_row_iter(None).unwrap().map(|row| row.unwrap()).collect()
    }

    fn kind(field: &Field) -> &'static str {
        match field {
            Field::Str(_) => "string",
            Field::Long(_) => "int64",
            Field::Float(_) => "float",
            Field::Double(_) => "double",
            Field::Bool(_) => "bool",
            Field::Null => "null",
            Field::ListInternal(_) => "list",
            Field::Group(_) => "struct",
            other => panic!("unexpected Parquet value {other:?}"),
        }
    }

    /// A Parquet value as serde_json writes the JSON value it stands for.
    fn json_of(field: &Field) -> String {
        match field {
            Field::Str(s) => serde_json::to_string(s).unwrap(),
            Field::Long(i) => i.to_string(),
            Field::Float(x) => serde_json::to_string(x).unwrap(),
            Field::Double(x) => serde_json::to_string(x).unwrap(),
            Field::Bool(b) => b.to_string(),
            Field::Null => "null".to_owned(),
            Field::ListInternal(list) => {
                let items: Vec<String> = list.elements().iter().map(json_of).collect();
                format!("[{}]", items.join(","))
            }
            Field::Group(row) => json_of_row(row, |_, field| json_of(field)),
            other => panic!("unexpected Parquet value {other:?}"),
        }
    }

    fn json_of_row(row: &Row, value: impl Fn(&str, &Field) -> String) -> String {
        let fields: Vec<String> = row
            .get_column_iter()
            .map(|(name, field)| format!("{}:{}", serde_json::to_string(name).unwrap(), value(name, field)))
            .collect();
        format!("{{{}}}", fields.join(","))
    }

    /// Checks the columns' names, order and types; `mentions` holds structs {start, end, text}.
    fn check_types(rows: &[Row], columns: &[(&str, &str)]) {
        for row in rows {
            let names: Vec<&str> = row.get_column_iter().map(|(n, _)| n.as_str()).collect();
            let expected: Vec<&str> = columns.iter().map(|(n, _)| *n).collect();
            assert_eq!(names, expected);
            for ((name, field), (_, types)) in row.get_column_iter().zip(columns) {
                assert!(
                    types.split('|').any(|t| t == kind(field)),
                    "{name}: {field:?} is not {types}"
                );
                if let Field::ListInternal(mentions) = field {
                    for mention in mentions.elements() {
                        let Field::Group(mention) = mention else {
                            panic!("a mention is a struct: {mention:?}")
                        };
                        let kinds: Vec<(&str, &str)> =
                            mention.get_column_iter().map(|(n, f)| (n.as_str(), kind(f))).collect();
                        assert_eq!(kinds, [("start", "int64"), ("end", "int64"), ("text", "string")]);
                    }
                }
            }
        }
    }

    /// sentences.parquet holds the rows of sentences.jsonl, in order: each row,
    /// written back as JSON, is its line byte for byte (every float the same bits).
    fn check_sentences(dir: &Path) -> Vec<Row> {
        let rows = parquet_rows(&dir.join("sentences.parquet"));
        check_types(&rows, &SENTENCE_COLUMNS);
        let lines: Vec<String> = read(&dir.join("sentences.jsonl")).lines().map(String::from).collect();
        assert_eq!(rows.len(), lines.len(), "{}", dir.display());
        for (row, line) in rows.iter().zip(&lines) {
            assert_eq!(&json_of_row(row, |_, f| json_of(f)), line);
        }
        rows
    }

    /// documents.parquet holds the rows of documents.jsonl (documents.csv's rows
    /// with their text exact), in order; the CSV holds the same rows, its text guarded.
    fn check_documents(dir: &Path) -> Vec<Row> {
        let rows = parquet_rows(&dir.join("documents.parquet"));
        check_types(&rows, &DOCUMENT_COLUMNS);
        // A document that mentions no actor: a null actor here, "" in the journal, an empty cell in the CSV.
        let as_journal = |name: &str, field: &Field| match (name, field) {
            ("actor", Field::Null) => "\"\"".to_owned(),
            _ => json_of(field),
        };
        let lines: Vec<String> = read(&dir.join("documents.jsonl")).lines().map(String::from).collect();
        assert_eq!(rows.len(), lines.len());
        for (row, line) in rows.iter().zip(&lines) {
            assert_eq!(&json_of_row(row, as_journal), line);
        }
        let mut csv = csv::Reader::from_path(dir.join("documents.csv")).unwrap();
        let header: Vec<String> = csv.headers().unwrap().iter().map(String::from).collect();
        let names: Vec<&str> = DOCUMENT_COLUMNS.iter().map(|(n, _)| *n).collect();
        assert_eq!(header, names);
        let records: Vec<csv::StringRecord> = csv.records().map(Result::unwrap).collect();
        assert_eq!(records.len(), rows.len());
        for (row, record) in rows.iter().zip(&records) {
            for ((name, field), cell) in row.get_column_iter().zip(record.iter()) {
                let expected = match field {
                    Field::Null => String::new(),
                    Field::Str(s) => stance::corpus::csv_text(s),
                    Field::Long(i) => i.to_string(),
                    Field::Double(x) => serde_json::to_string(x).unwrap(),
                    other => panic!("{name}: {other:?}"),
                };
                assert_eq!(cell, expected, "{name} of {record:?}");
            }
        }
        rows
    }

    fn field<'r>(row: &'r Row, name: &str) -> &'r Field {
        row.get_column_iter()
            .find(|(n, _)| n.as_str() == name)
            .map(|(_, f)| f)
            .unwrap_or_else(|| panic!("no column {name}"))
    }

    #[test]
    fn parquet_files_hold_every_row_of_the_jsonl_and_the_csv() {
        let tmp = tempfile::tempdir().unwrap();
        let extra = tmp.path().join("extra.jsonl");
        let docs = [
            serde_json::json!({"id": "=1+2", "source": "Zürcher Zeitung", "title": "Pékin 🇨🇳",
                "text": "Beijing’s envoy — 北京 — praised India’s “restraint”. Ça va, said the U.S. delegate."}),
            serde_json::json!({"id": "calm", "date": "2024-05-01", "text": "The weather was calm. Markets were quiet."}),
            serde_json::json!({"id": "-7x", "text": "Washington and New Delhi signed a deal."}),
        ];
        let lines: String = docs.iter().map(|d| format!("{d}\n")).collect();
        std::fs::write(&extra, lines).unwrap();
        let mut inputs = good_inputs();
        inputs.push(extra.display().to_string());
        let out = tmp.path().join("run");
        run_ok(&score_args(&inputs, &out, &["--format", "parquet"]));

        let sentences = check_sentences(&out);
        let documents = check_documents(&out);
        let summary = json(&out.join("summary.json"));
        assert_eq!(summary["pairs"].as_u64(), Some(sentences.len() as u64));
        let run = json(&out.join("run.json"));
        assert_eq!(run["format"], "parquet");

        // Non-ASCII text, exact, with offsets in characters.
        let envoy = sentences
            .iter()
            .find(|r| matches!(field(r, "text"), Field::Str(t) if t.contains("北京")))
            .expect("the non-ASCII sentence is scored");
        assert!(matches!(field(envoy, "document_id"), Field::Str(id) if id == "=1+2"));
        assert!(matches!(field(envoy, "start"), Field::Long(0)));
        let chars = "Beijing’s envoy — 北京 — praised India’s “restraint”.".chars().count() as i64;
        assert!(
            matches!(field(envoy, "end"), Field::Long(end) if *end == chars),
            "{envoy:?}"
        );
        // A document without actors: one row, no actor, no mean; no sentence rows.
        let calm: Vec<&Row> = documents
            .iter()
            .filter(|r| matches!(field(r, "document_id"), Field::Str(id) if id == "calm"))
            .collect();
        assert_eq!(calm.len(), 1);
        for name in ["actor", "mean_score", "source", "title"] {
            assert_eq!(field(calm[0], name), &Field::Null, "{name}");
        }
        assert_eq!(field(calm[0], "date"), &Field::Str("2024-05-01".into()));
        assert_eq!(field(calm[0], "document_sentences"), &Field::Long(2));
        assert!(!sentences
            .iter()
            .any(|r| matches!(field(r, "document_id"), Field::Str(id) if id == "calm")));
        // Ids and text are exact in Parquet; only the CSV guards them against spreadsheet formulas.
        let ids: Vec<&Field> = documents.iter().map(|r| field(r, "document_id")).collect();
        for id in ["=1+2", "-7x"] {
            assert!(ids.contains(&&Field::Str(id.into())), "{id}");
        }
        let csv = read(&out.join("documents.csv"));
        assert!(csv.contains("'=1+2,") && csv.contains("'-7x,"), "{csv}");
        assert!(documents
            .iter()
            .any(|r| field(r, "title") == &Field::Str("Pékin 🇨🇳".into())));
    }

    /// A JSON Lines corpus big enough that a run takes a few seconds on the tiny model, as its lines,
    /// every line well-formed (so that a run of it succeeds) and some of its text not ASCII.
    fn generated_corpus(documents: usize) -> Vec<String> {
        let sentences = [
            "China warned the United States against new export controls.",
            "India and Pakistan traded accusations at the United Nations.",
            "Washington has been a reliable partner, officials in New Delhi said.",
            "Beijing keeps breaking its promises on market access.",
            "The weather was fine and the markets were calm.",
            "Modi met Biden and Xi Jinping — à Genève — on the sidelines of the summit.",
        ];
        (0..documents)
            .map(|d| {
                let text: Vec<&str> = (0..(3 + d % 9))
                    .map(|s| sentences[(d * 7 + s * 3) % sentences.len()])
                    .collect();
                let doc = serde_json::json!({
                    "id": format!("g-{d:04}"),
                    "date": format!("2023-{:02}-01", 1 + d % 12),
                    "source": format!("Outlet {}", d % 3),
                    "text": text.join(" "),
                });
                format!("{doc}\n")
            })
            .collect()
    }

    /// Every file a Parquet run writes that must not depend on how the run went.
    const COMPARED: [&str; 8] = [
        "sentences.jsonl",
        "documents.csv",
        "documents.jsonl",
        "errors.jsonl",
        "summary.json",
        "summary.csv",
        "sentences.parquet",
        "documents.parquet",
    ];

    /// Killed with SIGKILL after some commits (its input is fed a line at a
    /// time and never ended, so it cannot finish first), then resumed: the
    /// Parquet files, like every other output, are byte for byte those of an
    /// uninterrupted run, and none appears before the run is complete.
    #[test]
    fn resume_after_kill_gives_the_parquet_files_of_an_uninterrupted_run() {
        let tmp = tempfile::tempdir().unwrap();
        // Enough documents that chunks keep coming while the run is fed (commits happen between chunks).
        let corpus = generated_corpus(240);
        let knobs = [
            "--chunk-docs",
            "4",
            "--commit-secs",
            "0",
            "--stdin-format",
            "jsonl",
            "--format",
            "parquet",
        ];
        let reference = tmp.path().join("reference");
        let output = score_stdin(&corpus, &reference, &knobs);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        check_sentences(&reference);
        check_documents(&reference);

        let out = tmp.path().join("killed");
        kill_after_commits(&corpus, &out, &knobs, 30);
        for name in ["sentences.parquet", "documents.parquet"] {
            assert!(!out.join(name).exists(), "{name} written before the run is complete");
        }
        // Rows past the last commit (a kill between a flush and its checkpoint) are cut by resume.
        for name in ["sentences.jsonl", "documents.jsonl"] {
            let mut file = std::fs::OpenOptions::new().append(true).open(out.join(name)).unwrap();
            file.write_all(b"{\"uncommitted\": ").unwrap();
        }
        // The format is part of the run's settings.
        let other = score_stdin(&corpus, &out, &[&knobs[..6], &["--resume"]].concat());
        assert_eq!(other.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&other.stderr);
        assert!(stderr.contains("--format: the run used parquet, now jsonl"), "{stderr}");

        let resumed = score_stdin(&corpus, &out, &[&knobs[..], &["--resume"]].concat());
        assert!(resumed.status.success(), "{}", String::from_utf8_lossy(&resumed.stderr));
        for name in COMPARED {
            assert!(
                bytes(&out.join(name)) == bytes(&reference.join(name)),
                "{name} differs from the uninterrupted run's"
            );
        }
        assert_eq!(temporaries(&out), Vec::<String>::new());
        let run = json(&out.join("run.json"));
        assert_eq!(run["sessions"].as_array().map(Vec::len), Some(2));
    }

    /// A run killed while converting leaves its temporary file and no Parquet
    /// file; `--resume` on the complete run converts again, and only what is missing.
    #[test]
    fn a_conversion_cut_short_is_redone_by_resume() {
        let tmp = tempfile::tempdir().unwrap();
        let inputs = [fixture("good/wire.jsonl"), fixture("good/opinion.csv")];
        let reference = tmp.path().join("reference");
        let out = tmp.path().join("cut");
        for dir in [&reference, &out] {
            run_ok(&score_args(&inputs, dir, &["--format", "parquet"]));
        }
        std::fs::remove_file(out.join("sentences.parquet")).unwrap();
        std::fs::remove_file(out.join("documents.parquet")).unwrap();
        let partial = out.join(format!(".sentences.parquet.{}-0.tmp", u32::MAX));
        std::fs::write(&partial, &bytes(&reference.join("sentences.parquet"))[..100]).unwrap();

        run_ok(&score_args(&inputs, &out, &["--format", "parquet", "--resume"]));
        for name in COMPARED {
            assert!(bytes(&out.join(name)) == bytes(&reference.join(name)), "{name}");
        }
        assert_eq!(temporaries(&out), Vec::<String>::new());
        let run = json(&out.join("run.json"));
        assert_eq!(run["sessions"].as_array().map(Vec::len), Some(1));
        // A file that is there is the complete run's: kept as it is.
        let kept = std::fs::metadata(out.join("documents.parquet"))
            .unwrap()
            .modified()
            .unwrap();
        std::fs::remove_file(out.join("sentences.parquet")).unwrap();
        run_ok(&score_args(&inputs, &out, &["--format", "parquet", "--resume"]));
        let after = std::fs::metadata(out.join("documents.parquet"))
            .unwrap()
            .modified()
            .unwrap();
        assert_eq!(kept, after);
        assert!(bytes(&out.join("sentences.parquet")) == bytes(&reference.join("sentences.parquet")));
    }

    fn merge(dirs: &[&Path], out: &Path) -> Output {
        let mut args = vec!["merge"];
        args.extend(dirs.iter().map(|d| d.to_str().unwrap()));
        args.extend(["--out", out.to_str().unwrap()]);
        Command::new(env!("CARGO_BIN_EXE_stance")).args(&args).output().unwrap()
    }

    /// Rows as sorted JSON strings, to compare row sets whatever their order.
    fn sorted(rows: &[Row]) -> Vec<String> {
        let mut rows: Vec<String> = rows.iter().map(|r| json_of_row(r, |_, f| json_of(f))).collect();
        rows.sort();
        rows
    }

    /// Writes `wire.jsonl`'s records as a Parquet file of string columns (the numeric id as
    /// written), as a pandas or polars export of the same data would hold them.
    fn wire_as_parquet(path: &Path) {
        use parquet::data_type::{ByteArray, ByteArrayType};
        use parquet::file::properties::WriterProperties;
        use parquet::file::writer::SerializedFileWriter;
        use std::sync::Arc;

        let wire = read(Path::new(&fixture("good/wire.jsonl")));
        let records: Vec<serde_json::Value> = wire
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        let names = ["id", "date", "source", "title", "text"];
        let schema = "message wire { optional binary id (STRING); optional binary date (STRING); \
            optional binary source (STRING); optional binary title (STRING); optional binary text (STRING); }";
        let schema = Arc::new(parquet::schema::parser::parse_message_type(schema).unwrap());
        let file = std::fs::File::create(path).unwrap();
        let mut writer = SerializedFileWriter::new(file, schema, Arc::new(WriterProperties::default())).unwrap();
        let mut group = writer.next_row_group().unwrap();
        for name in names {
            let values: Vec<Option<String>> = records
                .iter()
                .map(|r| match &r[name] {
                    serde_json::Value::Null => None,
                    serde_json::Value::String(s) => Some(s.clone()),
                    other => Some(other.to_string()),
                })
                .collect();
            let present: Vec<ByteArray> = values.iter().flatten().map(|v| ByteArray::from(v.as_str())).collect();
            let levels: Vec<i16> = values.iter().map(|v| i16::from(v.is_some())).collect();
            let mut column = group.next_column().unwrap().unwrap();
            column
                .typed::<ByteArrayType>()
                .write_batch(&present, Some(&levels), None)
                .unwrap();
            column.close().unwrap();
        }
        group.close().unwrap();
        writer.close().unwrap();
    }

    #[test]
    fn a_parquet_corpus_scores_as_its_json_lines() {
        let tmp = tempfile::tempdir().unwrap();
        let input = tmp.path().join("wire.parquet");
        wire_as_parquet(&input);
        let (from_parquet, from_jsonl) = (tmp.path().join("parquet-run"), tmp.path().join("jsonl-run"));
        run_ok(&score_args(&[input.to_str().unwrap().to_owned()], &from_parquet, &[]));
        run_ok(&score_args(&[fixture("good/wire.jsonl")], &from_jsonl, &[]));
        for name in ["sentences.jsonl", "documents.csv", "summary.json"] {
            assert_eq!(read(&from_parquet.join(name)), read(&from_jsonl.join(name)), "{name}");
        }
        assert!(read(&from_parquet.join("documents.csv")).contains("w-001"));
    }

    #[test]
    fn shards_merged_into_parquet_equal_one_run() {
        let tmp = tempfile::tempdir().unwrap();
        let inputs = good_inputs();
        let whole = tmp.path().join("whole");
        run_ok(&score_args(&inputs, &whole, &["--format", "parquet"]));
        let shards: Vec<PathBuf> = (1..=3).map(|i| tmp.path().join(format!("shard-{i}"))).collect();
        for (i, dir) in shards.iter().enumerate() {
            let shard = format!("{}/3", i + 1);
            run_ok(&score_args(&inputs, dir, &["--shard", &shard, "--format", "parquet"]));
        }
        let merged = tmp.path().join("merged");
        let dirs: Vec<&Path> = shards.iter().map(PathBuf::as_path).collect();
        let output = merge(&dirs, &merged);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

        // The merge's Parquet files hold its journals' rows, in order (the shards' one after the other) ...
        let (sentences, documents) = (check_sentences(&merged), check_documents(&merged));
        // ... which are the unsharded run's rows.
        assert_eq!(sorted(&sentences), sorted(&check_sentences(&whole)));
        assert_eq!(sorted(&documents), sorted(&check_documents(&whole)));
        assert_eq!(documents.len(), read(&whole.join("documents.csv")).lines().count() - 1);
        assert_eq!(read(&merged.join("summary.json")), read(&whole.join("summary.json")));
        let run = json(&merged.join("run.json"));
        assert_eq!(run["format"], "parquet");

        // Runs of different formats do not merge.
        let plain = tmp.path().join("plain-3");
        run_ok(&score_args(&inputs, &plain, &["--shard", "3/3"]));
        let mixed = merge(&[&shards[0], &shards[1], &plain], &tmp.path().join("mixed"));
        assert_eq!(mixed.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&mixed.stderr);
        assert!(stderr.contains("output format"), "{stderr}");
        assert!(!tmp.path().join("mixed").exists());
    }
}
