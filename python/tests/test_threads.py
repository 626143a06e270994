"""One analyzer shared by Python threads: safe, and the GIL is released while scoring."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import stance


def test_threads_sharing_an_analyzer_get_the_sequential_results(analyzer, articles):
    texts = [a["text"] for a in articles] * 3
    sequential = [analyzer.score(t, id=str(i)) for i, t in enumerate(texts)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        threaded = list(pool.map(lambda item: analyzer.score(item[1], id=str(item[0])), enumerate(texts)))
    assert threaded == sequential
    with ThreadPoolExecutor(max_workers=3) as pool:
        batches = list(
            pool.map(lambda chunk: analyzer.score_many(chunk, batch_size=2), [texts[:10], texts[10:20], texts[20:]])
        )
    assert [d.stances for batch in batches for d in batch] == [d.stances for d in sequential]


def test_actor_stats_merged_from_threads_equal_one_pass(analyzer, articles):
    docs = analyzer.score_many([a["text"] for a in articles])
    expected = stance.aggregate(docs)
    totals = {actor: stance.ActorStats() for actor in expected}
    lock = threading.Lock()

    def merge(doc):
        with lock:
            for actor, stats in doc.actors.items():
                totals[actor].merge(stats)

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(merge, reversed(docs)))
    assert totals == expected


def test_score_many_releases_the_gil(analyzer, articles):
    """While one thread scores, another keeps running Python: were the GIL held
    through the native call, this thread would stall for the whole call."""
    texts = [a["text"] for a in articles] * 3
    done = threading.Event()
    elapsed = {}

    def work():
        start = time.perf_counter()
        analyzer.score_many(texts, batch_size=len(texts))  # one native call
        elapsed["call"] = time.perf_counter() - start
        done.set()

    worker = threading.Thread(target=work)
    last = time.perf_counter()
    longest_stall = 0.0
    worker.start()
    while not done.is_set():
        now = time.perf_counter()
        longest_stall = max(longest_stall, now - last)
        last = now
    worker.join()
    assert elapsed["call"] > 0.2, "the call should be long enough to tell"
    assert longest_stall < elapsed["call"] / 2, (longest_stall, elapsed["call"])
