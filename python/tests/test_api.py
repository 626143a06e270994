"""The Python API: results, actors, statistics, pickling, and errors with the library's messages."""

from __future__ import annotations

import copy
import math
import os
import pickle
import re
import subprocess
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import DATA, REPO, THREADS, TINY_MODEL

import stance

TEXT = "Beijing has been a reliable partner. Washington keeps breaking its promises."


def test_score_returns_sentence_stances_and_actor_stats(analyzer):
    doc = analyzer.score(TEXT, id="op-ed 1")
    assert isinstance(doc, stance.DocumentStances)
    assert doc.id == "op-ed 1" and doc.sentences == 2
    assert [(s.sentence_index, s.actor) for s in doc.stances] == [(0, "china"), (1, "us")]
    china, us = doc.stances
    assert china.text == "Beijing has been a reliable partner." and china.mentions == [stance.Mention(0, 7, "Beijing")]
    assert china.label == "favorable" and china.score > 0.5
    assert us.label == "unfavorable" and us.score < -0.5
    assert set(doc.actors) == {"china", "us"}
    assert doc.actor("china").sentences == 1 and doc.actor("india") is None
    assert doc.actors["china"].mean() == pytest.approx(china.score, abs=1e-6)


def test_score_default_id_and_a_text_without_mentions(analyzer):
    doc = analyzer.score("The weather was mild. Markets were calm.")
    assert doc.id == "<text>" and doc.sentences == 2 and doc.stances == [] and doc.actors == {}


def test_score_many_matches_score_exactly_and_keeps_order(analyzer, articles):
    texts = [a["text"] for a in articles]
    many = analyzer.score_many(texts, batch_size=3)
    assert [d.id for d in many] == [str(i) for i in range(len(texts))]
    for i, (doc, text) in enumerate(zip(many, texts)):
        assert doc == analyzer.score(text, id=str(i))


def test_iter_scores_is_lazy_over_a_generator(analyzer):
    consumed = []

    def texts():
        for i in range(10):
            consumed.append(i)
            yield f"China said something on day {i}."

    results = analyzer.iter_scores(texts(), batch_size=4)
    first = next(results)
    assert first.stances[0].actor == "china"
    assert consumed == [0, 1, 2, 3]
    assert len(list(results)) == 9


def test_score_many_checks_ids_and_options(analyzer):
    with pytest.raises(ValueError, match="fewer ids than texts"):
        analyzer.score_many(["China.", "India."], ids=["a"])
    with pytest.raises(ValueError, match="more ids than texts"):
        analyzer.score_many(["China."], ids=["a", "b"])
    with pytest.raises(ValueError, match="batch_size"):
        analyzer.score_many(["China."], batch_size=0)
    with pytest.raises(ValueError, match="batch_size"):
        analyzer.score_many(["China."], batch_size=True)
    with pytest.raises(ValueError, match="errors must be one of"):
        analyzer.score_many(["China."], errors="ignore")
    with pytest.raises(TypeError, match="text must be str, not int"):
        analyzer.score_many(["China.", 42])


def test_empty_text_raises_input_error_with_the_library_message(analyzer):
    with pytest.raises(stance.InputError) as raised:
        analyzer.score("   ")
    assert str(raised.value) == "<text>: empty text"
    assert isinstance(raised.value, ValueError) and isinstance(raised.value, stance.StanceError)
    with pytest.raises(stance.InputError, match="^b: empty text$"):
        analyzer.score_many(["China.", "", "India."], ids=["a", "b", "c"])


def test_score_of_a_missing_text_is_an_input_error_as_in_score_many(analyzer):
    for missing in [None, float("nan")]:
        with pytest.raises(stance.InputError, match="^<text>: missing text$"):
            analyzer.score(missing)
    with pytest.raises(TypeError, match="^d: text must be str, not int$"):
        analyzer.score(42, id="d")


def test_errors_skip_returns_none_and_warns(analyzer):
    with pytest.warns(
        stance.SkippedDocumentsWarning, match=r"2 document\(s\) not scored: b: empty text; c: missing text"
    ):
        docs = analyzer.score_many(["China.", "", None, "India."], ids=list("abcd"), errors="skip")
    assert [d is None for d in docs] == [False, True, True, False]
    assert docs[3].stances[0].actor == "india"


def test_score_sentences_does_not_split(analyzer):
    rows = analyzer.score_sentences(["Dr. Smith said China and the U.S. agree. India too.", "Nothing.", "India."])
    assert [(r.sentence_index, r.actor) for r in rows] == [(0, "us"), (0, "china"), (0, "india"), (2, "india")]
    assert rows[0].text == "Dr. Smith said China and the U.S. agree. India too." and (rows[0].start, rows[0].end) == (
        0,
        51,
    )
    assert rows[0].mentions == [stance.Mention(29, 33, "U.S.")]


def test_actors_builtin_custom_and_file():
    analyzer = stance.Analyzer(
        actors=["India", "usa", stance.Actor("eu", "European Union", ["EU", "Brussels"], ["Brussels sprouts"])],
        actor_file=DATA / "actors.toml",
        threads=THREADS,
    )
    actors = analyzer.actors
    assert [a.id for a in actors] == ["india", "us", "eu"]
    assert "Bharat" in actors[0].aliases
    assert actors[2].exclusions == ("Brussels sprouts",)
    assert analyzer.info["actors"] == ["india", "us", "eu"]
    doc = analyzer.score("Brussels criticised Bharat. Brussels sprouts are green.")
    assert [(s.actor, s.mentions[0].text) for s in doc.stances] == [("india", "Bharat"), ("eu", "Brussels")]


def test_custom_short_names_count_after_the_full_name():
    leyen = stance.Actor("vdl", "Ursula von der Leyen", ["Ursula von der Leyen"], short_names=["Leyen"])
    analyzer = stance.Analyzer(actors=[leyen], model=TINY_MODEL, threads=1)
    assert analyzer.actors == [leyen]
    # Frozen, so usable as a key; equal actors hash alike.
    assert {leyen: 1}[stance.Actor("vdl", "Ursula von der Leyen", ("Ursula von der Leyen",), short_names=["Leyen"])]
    doc = analyzer.score("Ursula von der Leyen spoke. Later that day Leyen left. They met Anna Leyen.")
    assert [s.mentions[0].text for s in doc.stances] == ["Ursula von der Leyen", "Leyen"]
    alone = analyzer.score("Leyen left.")
    assert alone.stances == []
    with pytest.raises(stance.ActorError, match="short name 'Leyen' of actor 'vdl' is not a word"):
        stance.Analyzer(actors=[stance.Actor("vdl", "VDL", ["VDL"], short_names=["Leyen"])], model=TINY_MODEL)
    # A built-in id extends the built-in actor, as in an actor file: a short name of "Xi Jinping".
    china = stance.Actor("china", "China", [], short_names=["Jinping"])
    doc = stance.Analyzer(actors=[china], model=TINY_MODEL, threads=1).score("Xi Jinping spoke. Later Jinping left.")
    assert [s.mentions[0].text for s in doc.stances] == ["Xi Jinping", "Jinping"]
    # Two actors claiming one alias are an actor error, not a configuration error.
    with pytest.raises(stance.ActorError, match='"Beijing" names two actors'):
        stance.Analyzer(actors=["china", stance.Actor("mk", "MK", ["Beijing"])], model=TINY_MODEL)


def test_sentences_are_read_in_their_document():
    first, second = "China broke its promise.", "China signed the deal."
    alone = stance.Analyzer(actors=["china"], model=TINY_MODEL, threads=1, document_context=0)
    read = stance.Analyzer(actors=["china"], model=TINY_MODEL, threads=1)
    assert (alone.info["document_context"], read.info["document_context"]) == (0.0, 0.5)
    probs = [[s.p_unfavorable, s.p_neutral, s.p_favorable] for s in alone.score_sentences([first, second])]
    assert [[s.p_unfavorable, s.p_neutral, s.p_favorable] for s in alone.score(f"{first} {second}").stances] == probs
    # Each sentence's log-probabilities plus half the other sentence's, renormalised.
    for own, other, got in zip(probs, probs[::-1], read.score(f"{first} {second}").stances):
        shifted = [math.exp(math.log(a) + 0.5 * math.log(b)) for a, b in zip(own, other)]
        expected = [x / sum(shifted) for x in shifted]
        assert [got.p_unfavorable, got.p_neutral, got.p_favorable] == pytest.approx(expected, abs=1e-6)
    with pytest.raises(stance.ConfigError, match="document context weight"):
        stance.Analyzer(model=TINY_MODEL, document_context=-1)


def test_only_custom_actors():
    analyzer = stance.Analyzer(actors=[stance.Actor("eu", "EU", ["EU"])], threads=THREADS)
    assert [a.id for a in analyzer.actors] == ["eu"]
    assert [s.actor for s in analyzer.score("The EU and China met.").stances] == ["eu"]


def test_info_reports_what_runs(analyzer):
    info = analyzer.info
    assert info["model"] == "stance-mini" and info["device"] == "cpu"
    assert info["batch_invariant"] is True
    assert isinstance(info["int8_sums_saturate"], bool)
    assert info["onnxruntime"] == stance.ORT_VERSION == "1.31.1"
    assert info["sessions"] * info["intra_threads"] <= THREADS
    assert info["actors"] == ["us", "china", "india"]
    assert "stance-mini" in repr(analyzer)


def test_another_model_directory():
    tiny = stance.Analyzer(model=TINY_MODEL, threads=1)
    assert tiny.info["model_origin"] == str(TINY_MODEL)
    assert tiny.score(TEXT).stances[0].actor == "china"


def test_analyzer_pickles_as_its_settings(analyzer):
    custom = stance.Analyzer(actors=["china", stance.Actor("eu", "EU", ["EU"])], model=TINY_MODEL, threads=1)
    clone = pickle.loads(pickle.dumps(custom))
    assert clone is not custom
    assert clone.info == custom.info and clone.actors == custom.actors
    assert clone.score(TEXT) == custom.score(TEXT)
    assert pickle.loads(pickle.dumps(analyzer)).score(TEXT) == analyzer.score(TEXT)
    # Unpickling in a process reuses that process's analyzer of the same settings.
    assert pickle.loads(pickle.dumps(custom)) is clone


def test_a_pickled_analyzer_finds_its_files_from_another_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(DATA)
    analyzer = stance.Analyzer(actor_file="actors.toml", model=os.path.relpath(TINY_MODEL), threads=1)
    rebuild, (settings,) = analyzer.__reduce__()
    monkeypatch.chdir(tmp_path)
    # What a worker process unpickles: the settings alone, read from here.
    assert rebuild(settings).actors == analyzer.actors
    assert os.path.isabs(settings["actor_file"]) and os.path.isabs(settings["model"])


def test_shared_analyzer_is_one_per_process_and_settings():
    first = stance.Analyzer.shared(actors=["china"], model=TINY_MODEL, threads=1)
    assert stance.Analyzer.shared(actors="china", model=str(TINY_MODEL), threads=1) is first
    assert stance.Analyzer.shared(actors=["india"], model=TINY_MODEL, threads=1) is not first
    with ThreadPoolExecutor(max_workers=4) as pool:
        built = set(
            map(id, pool.map(lambda _: stance.Analyzer.shared(actors=["us"], model=TINY_MODEL, threads=1), range(8)))
        )
    assert len(built) == 1


def test_actor_stats_merge_mean_ci_exactly():
    a, b = stance.ActorStats(), stance.ActorStats()
    a.add(0.3, 0.2, 0.5)  # score 0.2
    b.add(0.2, 0.2, 0.6, mentions=2)  # 0.4
    b.add(0.1, 0.7, 0.2)  # 0.1, neutral
    assert (a.sentences, a.documents, a.mentions, a.favorable) == (1, 1, 1, 1)
    with pytest.raises(ValueError, match="mentions must be at least 0, got -1"):
        a.add(0.3, 0.2, 0.5, mentions=-1)
    with pytest.raises(TypeError, match="not a bool"):
        a.add(0.3, 0.2, 0.5, mentions=True)
    with pytest.raises(TypeError, match="not None"):
        a.add(0.3, 0.2, 0.5, mentions=None)
    total = a + b
    assert (total.sentences, total.documents, total.mentions) == (3, 2, 4)
    assert (total.unfavorable, total.neutral, total.favorable) == (0, 1, 2)
    mean = (0.2 + 0.4 + 0.1) / 3
    std = (((0.2 - mean) ** 2 + (0.4 - mean) ** 2 + (0.1 - mean) ** 2) / 2) ** 0.5
    assert total.mean() == pytest.approx(mean, abs=1e-7)
    assert total.std() == pytest.approx(std, abs=1e-7)
    # Two documents: the interval is clustered by document (sums 0.2 of 1 pair and 0.5 of 2),
    # D/(D-1) * sum_d (S_d - mean n_d)^2 / N^2, and Student's t with 1 degree of freedom.
    residual = (0.2 - mean) ** 2 + (0.5 - 2 * mean) ** 2
    half = 12.706 * (2 * residual / 9) ** 0.5
    assert total.ci95() == pytest.approx((mean - half, mean + half), abs=1e-6)
    assert total.label_shares() == pytest.approx({"unfavorable": 0, "neutral": 1 / 3, "favorable": 2 / 3})
    # merge is in place, exact and order-independent.
    merged = stance.ActorStats()
    merged.merge(b)
    merged.merge(a)
    assert merged == total and merged is not total
    merged += a
    assert merged.sentences == 4
    merged.merge(merged)
    assert merged.sentences == 8
    empty = stance.ActorStats()
    assert (empty.sentences, empty.mean(), empty.ci95()) == (0, 0.0, (0.0, 0.0))


def test_actor_stats_add_after_merge_starts_a_new_document():
    # Scores 0.5, 0.3 | -0.2 | 0.4, 0.0 as (p_unfavorable, 0, p_favorable).
    def pair(score):
        return (1 - score) / 2, 0.0, (1 + score) / 2

    first, second = stance.ActorStats(), stance.ActorStats()
    first.add(*pair(0.5))
    first.add(*pair(0.3))
    second.add(*pair(-0.2))
    merged = first + second
    merged.add(*pair(0.4))
    merged.add(*pair(0.0))
    assert (merged.documents, merged.sentences) == (3, 5)
    # By hand: document sums 0.8 (2 pairs), -0.2 (1), 0.4 (2); mean 0.2;
    # D/(D-1) * sum_d (S_d - mean n_d)^2 / N^2 = 1.5 * 0.32 / 25, and t with 2 degrees of freedom.
    half = 4.303 * (1.5 * 0.32 / 25) ** 0.5
    assert merged.ci95() == pytest.approx((0.2 - half, 0.2 + half), abs=1e-6)
    ended = stance.ActorStats()
    for document in ([0.5, 0.3], [-0.2], [0.4, 0.0]):
        for score in document:
            ended.add(*pair(score))
        ended.end_document()
    assert ended == merged


def _pair(score):
    """``add``'s probabilities for a pair scored ``score``: (p_unfavorable, 0, p_favorable)."""
    return (1 - score) / 2, 0.0, (1 + score) / 2


def test_copies_and_pickles_of_actor_stats_with_an_open_document_count_alike():
    """A copy, a deep copy and an unpickled copy are equal to the original and, as statistics
    read with from_dict, have no open document: the next pair starts a new one in each."""
    original = stance.ActorStats()
    original.add(*_pair(0.5))
    original.add(*_pair(0.3))
    duplicates = {
        "copy": copy.copy(original),
        "deepcopy": copy.deepcopy(original),
        "pickle": pickle.loads(pickle.dumps(original)),
        "deepcopy in a list": copy.deepcopy([original])[0],
        "from_dict": stance.ActorStats.from_dict(original.to_dict()),
    }
    expected = stance.ActorStats()
    for document in ([0.5, 0.3], [-0.2]):
        for score in document:
            expected.add(*_pair(score))
        expected.end_document()
    for how, duplicate in duplicates.items():
        assert duplicate == original and duplicate.to_dict() == original.to_dict(), how
        duplicate.add(*_pair(-0.2))
        assert (duplicate.documents, duplicate.sentences) == (2, 3), how
        assert duplicate.to_dict() == expected.to_dict(), how
    # The original is untouched, its document still open: the next pair joins it.
    assert (original.documents, original.sentences) == (1, 2)
    original.add(*_pair(-0.2))
    assert (original.documents, original.sentences) == (1, 3)


def test_aggregate_leaves_the_given_stats_as_they_are_and_totals_closed():
    """A total starts empty and merges the documents' statistics in: adding to the total neither
    changes them nor joins the pair to the document whose statistics were given (still open)."""
    only = stance.ActorStats()
    only.add(*_pair(0.5))
    document = stance.DocumentStances(id="a", sentences=1, stances=[], actors={"china": only})
    before = only.to_dict()
    total = stance.aggregate([document, None])["china"]
    assert total == only and total is not only
    total.add(*_pair(-0.2))
    assert (total.documents, total.sentences) == (2, 2)
    assert only.to_dict() == before
    only.add(*_pair(0.1))
    assert (only.documents, only.sentences) == (1, 2)


def test_actor_stats_round_trip_through_dict_pickle_and_copy(analyzer):
    stats = stance.aggregate(analyzer.score_many([TEXT, "China lies. China helps."]))["china"]
    data = stats.to_dict()
    assert list(data) == [
        "sentences", "mentions", "documents", "mean", "std", "ci95_low", "ci95_high", "unfavorable", "neutral",
        "favorable", "share_unfavorable", "share_neutral", "share_favorable", "sum_q32", "sum_sq_q64",
        "doc_sum_sq_q64", "doc_cross_q32", "doc_n_sq",
    ]  # fmt: skip
    assert stance.ActorStats.from_dict(data) == stats
    assert pickle.loads(pickle.dumps(stats)) == stats
    assert copy.deepcopy(stats) == stats and copy.copy(stats) is not stats
    assert "sentences=3" in repr(stats)
    with pytest.raises(ValueError, match="not ActorStats data"):
        stance.ActorStats.from_dict({"sentences": 1})
    # Any mapping, numpy's numbers too (a row of a pandas frame of statistics).
    import collections
    import types

    import numpy as np

    assert stance.ActorStats.from_dict(types.MappingProxyType(data)) == stats
    assert stance.ActorStats.from_dict(collections.UserDict(data)) == stats
    numpy_data = {k: np.int64(v) if isinstance(v, int) else np.float64(v) if isinstance(v, float) else v
                  for k, v in data.items()}  # fmt: skip
    assert stance.ActorStats.from_dict(numpy_data) == stats
    # A row of a pandas frame of statistics: a Series, its missing figures NaN.
    import pandas as pd

    single = stance.aggregate(analyzer.score_many(["China lies."]))["china"]
    frame = pd.DataFrame([single.to_dict(), data])
    assert math.isnan(frame.iloc[0]["std"])
    assert stance.ActorStats.from_dict(frame.iloc[0]) == single
    assert stance.ActorStats.from_dict(frame.iloc[1]) == stats
    with pytest.raises(TypeError, match="takes a mapping .* got list"):
        stance.ActorStats.from_dict([("sentences", 1)])
    with pytest.raises(TypeError, match='field "mean": expected a number, a str or None, got object'):
        stance.ActorStats.from_dict({**data, "mean": object()})
    # Counts no pairs give: merged, they would read as shares that do not add up.
    with pytest.raises(ValueError, match="label counts add up to 4, not to sentences \\(3\\)"):
        stance.ActorStats.from_dict({**data, "neutral": data["neutral"] + 1})


def test_figures_without_a_value_are_none_in_to_dict_and_read_back():
    spread, location = (
        ("std", "ci95_low", "ci95_high"),
        ("mean", "share_unfavorable", "share_neutral", "share_favorable"),
    )
    empty = stance.ActorStats()
    assert all(empty.to_dict()[key] is None for key in spread + location)
    one = stance.ActorStats()
    one.add(*_pair(0.4))
    data = one.to_dict()
    assert all(data[key] is None for key in spread)
    assert data["mean"] == pytest.approx(0.4) and data["share_favorable"] == 1.0
    for stats in (empty, one):
        assert stance.ActorStats.from_dict(stats.to_dict()) == stats


def test_configuration_errors_have_the_library_messages():
    with pytest.raises(stance.ConfigError) as raised:
        stance.Analyzer(actors=["atlantis"])
    assert str(raised.value) == (
        "invalid configuration: unknown actor id 'atlantis'; known ids: us, china, india, pakistan, russia"
    )
    with pytest.raises(stance.ConfigError, match='unknown device "tpu": expected cpu, cuda or cuda:N'):
        stance.Analyzer(device="tpu")
    with pytest.raises(stance.ConfigError, match="threads must be at least 1"):
        stance.Analyzer(threads=0)
    with pytest.raises(stance.ConfigError, match="no actor ids given"):
        stance.Analyzer(actors=[])
    with pytest.raises(TypeError, match="expected actor ids"):
        stance.Analyzer(actors=[3])


def test_bad_actor_definitions_name_the_file_and_line(tmp_path):
    with pytest.raises(stance.ActorError) as raised:
        stance.Analyzer(actor_file=DATA / "bad-actors.toml")
    assert str(raised.value) == (
        f"actor definitions {DATA / 'bad-actors.toml'}, line 8: invalid type: integer `7`, expected a string"
    )
    # An alias the file gives an actor of its own that a selected built-in actor has: the file is named.
    clash = tmp_path / "clash.toml"
    clash.write_text('[[actor]]\nid = "eu"\naliases = ["Brussels", "Beijing"]\n', encoding="utf-8")
    with pytest.raises(stance.ActorError, match=f'^actor definitions {re.escape(str(clash))}: the alias "Beijing"'):
        stance.Analyzer(actor_file=clash, model=TINY_MODEL)
    with pytest.raises(stance.ActorError, match="actor 'eu' has no aliases"):
        stance.Analyzer(actors=[stance.Actor("eu", "EU", [])])
    with pytest.raises(FileNotFoundError, match="missing.toml"):
        stance.Analyzer(actor_file=DATA / "missing.toml")


def test_an_actor_text_that_is_not_unicode_is_named():
    """A lone surrogate (json.loads of "\\ud800") in an actor's entry: an error that names the
    actor and the entry, not a bare UnicodeEncodeError from the conversion to the library."""
    with pytest.raises(stance.ActorError, match=r"^actor 'eu', alias 'E\\\\ud800U': alias is not valid Unicode"):
        stance.Analyzer(actors=[stance.Actor("eu", "EU", ["EU", "E\ud800U"])])
    with pytest.raises(stance.ActorError, match=r"^actor 'e\\\\ud800u', id 'e\\\\ud800u': id is not valid"):
        stance.Analyzer(actors=[stance.Actor("e\ud800u", "EU", ["EU"])])
    with pytest.raises(stance.ActorError, match=r"^actor 'vdl', short name 'Le\\\\udc80yen'"):
        stance.Analyzer(actors=[stance.Actor("vdl", "VDL", ["von der Leyen"], short_names=["Le\udc80yen"])])
    with pytest.raises(stance.ConfigError, match=r"^actors: 'us\\\\ud800': actor id is not valid Unicode"):
        stance.Analyzer(actors=["us\ud800"])


def test_missing_model_raises_model_error(tmp_path):
    with pytest.raises(stance.ModelError) as raised:
        stance.Analyzer(model=tmp_path / "nowhere")
    assert str(raised.value).startswith(f"model bundle {tmp_path / 'nowhere'}: not a directory")
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "config.json").write_text("{}")
    with pytest.raises(stance.ModelError, match="half"):
        stance.Analyzer(model=tmp_path / "half")


def test_a_gpu_that_cannot_be_had_is_an_error_not_a_fallback():
    if "onnxruntime-gpu" in _installed_distributions():
        pytest.fail("this test expects the CPU onnxruntime package (as CI installs)")
    with pytest.raises(stance.DeviceError, match="device cuda:0 is not available"):
        stance.Analyzer(device="cuda:0")


def test_error_messages_match_the_cli(stance_cli, tmp_path):
    """The same mistakes give the same messages in Python and in `stance score` (after its `error: ` prefix)."""
    text = tmp_path / "a.txt"
    text.write_text(TEXT)
    cases = [
        (["--actors", "atlantis"], dict(actors=["atlantis"])),
        (["--actor-file", str(DATA / "bad-actors.toml")], dict(actor_file=DATA / "bad-actors.toml")),
        (["--model", str(tmp_path / "nowhere")], dict(model=tmp_path / "nowhere")),
        (["--device", "tpu"], dict(device="tpu")),
    ]
    for cli_args, kwargs in cases:
        done = subprocess.run([str(stance_cli), "score", *cli_args, str(text)], capture_output=True, text=True)
        assert done.returncode == 2
        with pytest.raises(stance.StanceError) as raised:
            stance.Analyzer(**kwargs)
        assert str(raised.value) in done.stderr, (cli_args, done.stderr)


def test_onnxruntime_comes_from_the_onnxruntime_package():
    library = stance.find_onnxruntime_library()
    assert library is not None and library.name == f"libonnxruntime.so.{stance.ORT_VERSION}"
    assert library.parent.name == "capi" and library.parent.parent.name == "onnxruntime"
    # Without ORT_DYLIB_PATH, importing stance points the library at that file.
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import stance, os; print(stance.runtime_library()); print(os.environ['ORT_DYLIB_PATH'])",
        ],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "ORT_DYLIB_PATH"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [str(library), str(library)]


def test_a_missing_runtime_library_is_a_clear_error():
    """ORT_DYLIB_PATH set by the user wins over the package's library, and a wrong one is reported."""
    script = (
        "import stance\n"
        "try:\n"
        "    stance.Analyzer()\n"
        "except stance.RuntimeLibraryError as e:\n"
        "    print(type(e).__name__, e)\n"
    )
    env = dict(os.environ, ORT_DYLIB_PATH="/nonexistent/libonnxruntime.so")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("RuntimeLibraryError ONNX Runtime could not be loaded")
    assert "looked for: /nonexistent/libonnxruntime.so" in done.stdout
    assert "fix: set ORT_DYLIB_PATH" in done.stdout


def test_the_readme_one_liner_prints_a_china_stance():
    done = subprocess.run(
        [sys.executable, "-c", "import stance; print(stance.Analyzer().score('Beijing is a reliable partner.'))"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={k: v for k, v in os.environ.items() if k != "ORT_DYLIB_PATH"},
    )
    assert done.returncode == 0, done.stderr
    assert "actor='china'" in done.stdout and "label='favorable'" in done.stdout


def _installed_distributions():
    from importlib import metadata

    return {d.metadata["Name"].lower() for d in metadata.distributions()}


def test_warning_filters_apply(analyzer):
    with warnings.catch_warnings():
        warnings.simplefilter("error", stance.SkippedDocumentsWarning)
        with pytest.raises(stance.SkippedDocumentsWarning):
            analyzer.score_many([""], errors="skip")


def test_a_lone_surrogate_is_an_input_error_naming_the_document(analyzer):
    """json.loads('"\\ud800"') makes a str the library cannot take (it is no Unicode): that
    document fails with its id, and the others of the call are scored."""
    bad = "China \ud800 bad."
    with pytest.raises(stance.InputError, match=r"^b: text is not valid Unicode: character 6 is U\+D800"):
        analyzer.score_many(["China is fine.", bad], ids=["a", "b"])
    with pytest.warns(stance.SkippedDocumentsWarning, match="b: text is not valid Unicode") as caught:
        docs = analyzer.score_many(["China is fine.", bad, "India is fine."], ids=["a", "b", "c"], errors="skip")
    assert [d and d.id for d in docs] == ["a", None, "c"]
    assert caught[0].message.skipped[0][0] == "b"
    with pytest.warns(stance.SkippedDocumentsWarning):
        lazy = list(analyzer.iter_scores([bad, "China is fine."], errors="skip", batch_size=2))
    assert lazy[0] is None and lazy[1].stances[0].actor == "china"
    with pytest.raises(stance.InputError, match=r"^<text>: text is not valid Unicode"):
        analyzer.score(bad)
    with pytest.raises(stance.InputError, match=r"^sentence 1: text is not valid Unicode"):
        analyzer.score_sentences(["China is fine.", bad])
    # An id that is no Unicode is named with an escape, which can be printed.
    with pytest.raises(stance.InputError, match=r"^x\\udc80: id is not valid Unicode: character 1 is U\+DC80"):
        analyzer.score_many(["China is fine."], ids=["x\udc80"])
    with pytest.warns(stance.SkippedDocumentsWarning, match=r"x\\udc80: id is not valid Unicode") as caught:
        assert analyzer.score_many(["China is fine.", "India."], ids=["x\udc80", "y"], errors="skip")[0] is None
    assert caught[0].message.skipped == [("x\udc80", caught[0].message.skipped[0][1])]


def test_pandas_missing_values_are_missing_texts_and_ids(analyzer):
    pd = pytest.importorskip("pandas")
    with pytest.warns(stance.SkippedDocumentsWarning) as caught:
        docs = analyzer.score_many(["China.", pd.NA, pd.NaT, math.nan, None], errors="skip")
    assert [d is None for d in docs] == [False, True, True, True, True]
    assert caught[0].message.skipped == [(str(i), "missing text") for i in range(1, 5)]
    # Missing ids take the document's position, marked so that no given id is taken.
    docs = analyzer.score_many(["China.", "India.", "US."], ids=[1.0, pd.NA, None])
    assert [d.id for d in docs] == ["1", "<text 1>", "<text 2>"]


def test_skipped_documents_warning_lists_every_document(analyzer):
    texts = ["China."] + [""] * 7 + [None]
    with pytest.warns(stance.SkippedDocumentsWarning, match=r"8 document\(s\) not scored: 1: empty text;") as caught:
        analyzer.score_many(texts, errors="skip", batch_size=4)
    (warning,) = caught
    expected = [(str(i), "empty text") for i in range(1, 8)] + [("8", "missing text")]
    assert warning.message.skipped == expected
    assert "(3 more, in the warning's `skipped`)" in str(warning.message)
    assert pickle.loads(pickle.dumps(warning.message)).skipped == expected


def test_iter_scores_stopped_early_still_warns_of_the_documents_skipped(analyzer):
    results = analyzer.iter_scores(["", "China.", "India.", "US."], errors="skip", batch_size=2)
    with pytest.warns(stance.SkippedDocumentsWarning, match=r"1 document\(s\) not scored: 0: empty text") as caught:
        assert next(results) is None
        assert next(results).id == "1"
        results.close()
    assert caught[0].message.skipped == [("0", "empty text")]


def test_too_many_threads_is_a_config_error_not_a_crash():
    """The CLI's rule (4 threads per core): far more would exhaust the process's threads and kill it."""
    script = (
        "import stance\n"
        "try:\n"
        "    stance.Analyzer(threads=10**6, sessions=1)\n"
        "except stance.ConfigError as e:\n"
        "    print(e)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "threads (1000000) is more than this machine can use: at most" in done.stdout
    assert "(4 per core, " in done.stdout


def test_a_byte_order_mark_alone_is_an_empty_text(analyzer):
    """The library refuses a mark and blanks (Unicode's White_Space, as Rust's trim) as an empty text."""
    blanks = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000"
    for text in ("\ufeff", "\ufeff \n\u3000", "\ufeff" + blanks):
        with pytest.raises(stance.InputError) as raised:
            analyzer.score(text)
        assert str(raised.value) == "<text>: empty text"
    with pytest.raises(stance.InputError, match="^b: empty text$"):
        analyzer.score_many(["China.", "\ufeff"], ids=["a", "b"])
    texts = ["\ufeff\u3000", "China.", "\ufeff\n", None]
    with pytest.warns(stance.SkippedDocumentsWarning) as caught:
        assert [r is None for r in analyzer.score_many(texts, errors="skip", batch_size=2)] == [True, False, True, True]
    assert caught[0].message.skipped == [("0", "empty text"), ("2", "empty text"), ("3", "missing text")]
    # U+001F is no White_Space (though Python's str.strip() strips it): after a mark, that is a text.
    assert analyzer.score("\ufeff\x1f").stances == []
    # Otherwise the mark stays, so offsets index the caller's string; the scores are those without it.
    marked, plain = analyzer.score("\ufeffChina is bad."), analyzer.score("China is bad.")
    assert [(s.start, s.end, s.mentions[0].start) for s in marked.stances] == [(1, 14, 1)]
    assert [s.score for s in marked.stances] == [s.score for s in plain.stances]


def test_negative_and_mistyped_settings_are_config_errors_naming_them():
    for name in ("threads", "sessions", "token_budget", "max_batch_rows"):
        with pytest.raises(stance.ConfigError, match=f"^invalid configuration: {name} must be at least 1"):
            stance.Analyzer(model=TINY_MODEL, **{name: -1})
        with pytest.raises(stance.ConfigError, match=f"^invalid configuration: {name} must be an integer"):
            stance.Analyzer(model=TINY_MODEL, **{name: 2.0})
    with pytest.raises(stance.ConfigError, match="device must be 'cpu', 'cuda' or 'cuda:N', got None"):
        stance.Analyzer(model=TINY_MODEL, device=None)
    with pytest.raises(stance.ConfigError, match="document_context must be a number"):
        stance.Analyzer(model=TINY_MODEL, document_context="0.5")
    np = pytest.importorskip("numpy")
    assert stance.Analyzer(model=TINY_MODEL, threads=np.int64(1)).info["intra_threads"] == 1


def test_one_str_where_a_list_is_expected_is_refused(analyzer):
    with pytest.raises(TypeError, match="texts must be .* of texts, not one str: each character would be a document"):
        analyzer.score_many("China is bad.")
    with pytest.raises(TypeError, match="texts must be a list"):
        analyzer.iter_scores(b"China is bad.")
    with pytest.raises(TypeError, match="ids must be a list .* not one str"):
        analyzer.score_many(["China.", "India.", "US."], ids="abc")
    with pytest.raises(TypeError, match="sentences must be a list .* not one str"):
        analyzer.score_sentences("China is bad.")
    # An actor's single alias (exclusion, short name) may be given as a str.
    eu = stance.Actor("eu", "EU", "EU", exclusions="EU-style")
    assert (eu.aliases, eu.exclusions, eu.short_names) == (("EU",), ("EU-style",), ())
    assert eu == stance.Actor("eu", "EU", ("EU",), ["EU-style"])
    custom = stance.Analyzer(actors=[eu], model=TINY_MODEL, threads=1)
    assert custom.actors[0].aliases == ("EU",)
    assert [s.mentions[0].text for s in custom.score("The EU met. E and U did not.").stances] == ["EU"]


def test_an_actor_cannot_change_under_an_analyzer_and_names_a_field_of_the_wrong_type():
    eu = stance.Actor("eu", "EU", ["EU"])
    with pytest.raises(AttributeError):
        eu.aliases.append("Brussels")
    assert eu in {stance.Actor("eu", "EU", ["EU"])}
    with pytest.raises(TypeError, match="Actor 'eu': aliases must hold str, got int 5"):
        stance.Actor("eu", "EU", ["EU", 5])
    with pytest.raises(TypeError, match="Actor 'eu': name must be a str, got NoneType"):
        stance.Actor("eu", None, ["EU"])
    with pytest.raises(TypeError, match="Actor id must be a str"):
        stance.Actor(7, "EU", ["EU"])


def test_actor_stats_refuses_what_are_not_probabilities():
    stats = stance.ActorStats()
    for p in ((math.nan, math.nan, math.nan), (0, 0, 0), (-1, 2, 0), (0.5, 0.5, 0.5), (math.inf, 0, 0)):
        with pytest.raises(ValueError, match="are not probabilities: each must be in") as raised:
            stats.add(*p)
        assert f"p_unfavorable={p[0]}, p_neutral={p[1]}, p_favorable={p[2]}".lower() in str(raised.value).lower()
    assert stats.sentences == 0
    stats.add(0.2, 0.3, 0.5004)  # within the tolerance of rounded values
    assert stats.sentences == 1


def test_a_custom_actor_with_a_built_in_id_extends_the_built_in_actor_alone_too():
    bharat = stance.Actor("india", "India", ["Bharat"])
    analyzer = stance.Analyzer(actors=[bharat], model=TINY_MODEL, threads=1)
    aliases = analyzer.actors[0].aliases
    assert "Bharat" in aliases and "New Delhi" in aliases
    doc = analyzer.score("New Delhi spoke. Bharat agreed.")
    assert [s.mentions[0].text for s in doc.stances] == ["New Delhi", "Bharat"]
