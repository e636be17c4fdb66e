"""The bundled pack's examples are sentences its authors wrote, not corpus sentences.

The shared corpora are for measuring. A rule example copied from one of them, even with the
company's name swapped, ties the pack to the sentences it is scored on. This test finds every
example that shares a run of characters with a corpus text and fails when the example as a
whole is close to the corpus passage around that run. It runs where ``../shared/corpora`` is
present (as in CI) and is skipped elsewhere.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import ahocorasick_rs
import pytest

from conftest import SHARED
from claimx.packs import Example, load_packs

CORPORA = SHARED / "corpora"
#: Length of the character runs looked up in the corpora: long enough that a shared run is
#: rarely a stock phrase of business Chinese (同比增长, 有限公司), short enough to catch a
#: sentence whose names were swapped.
RUN = 12
#: How close (difflib ratio) an example may come to the corpus passage around a shared run.
#: Written sentences that share a stock phrase with a corpus sentence come out under 0.6;
#: corpus sentences with the names swapped come out at 0.7 and above.
MAX_RATIO = 0.66


def _corpus_texts() -> list[str]:
    texts: list[str] = []
    for path in sorted(CORPORA.glob("*.jsonl")):
        with path.open(encoding="utf-8") as lines:
            texts.extend(json.loads(line)["text"] for line in lines if line.strip())
    for path in sorted(CORPORA.glob("*.txt")):
        texts.append(path.read_text(encoding="utf-8"))
    return texts


def _bundled_examples() -> list[Example]:
    packs = load_packs(["zh-business"])
    return [example for pack in packs for rule in pack.rules
            for example in getattr(rule, "examples", ())]


def _closest_passage(example: str, texts: list[str], runs: list[tuple[int, str]],
                     found: dict[str, tuple[int, int]]) -> tuple[float, str]:
    """The best difflib ratio of ``example`` against the corpus passage around each of its
    runs that occurs in a corpus text (``found``: run -> (text index, offset))."""
    best, passage = 0.0, ""
    for offset_in_example, run in runs:
        if run not in found:
            continue
        text_index, at = found[run]
        text = texts[text_index]
        start = max(0, at - offset_in_example - 3)
        candidate = text[start:at - offset_in_example + len(example) + 3]
        ratio = difflib.SequenceMatcher(None, example, candidate).ratio()
        if ratio > best:
            best, passage = ratio, candidate
    return best, passage


@pytest.mark.skipif(not CORPORA.is_dir(), reason="../shared/corpora not present")
def test_no_rule_example_is_a_corpus_sentence() -> None:
    texts = _corpus_texts()
    assert texts, "the shared corpora hold no text"
    examples = _bundled_examples()
    assert len(examples) > 500  # the bundled pack's examples were all read
    runs_of = {example.text: [(i, example.text[i:i + RUN])
                              for i in range(len(example.text) - RUN + 1)]
               for example in examples}
    # One automaton over every run of every example, one pass over each corpus text.
    all_runs = sorted({run for runs in runs_of.values() for _, run in runs})
    automaton = ahocorasick_rs.AhoCorasick(all_runs)
    found: dict[str, tuple[int, int]] = {}
    for text_index, text in enumerate(texts):
        for run_index, start, _ in automaton.find_matches_as_indexes(text, overlapping=True):
            found.setdefault(all_runs[run_index], (text_index, start))
    copies = []
    for example in examples:
        ratio, passage = _closest_passage(example.text, texts, runs_of[example.text], found)
        if ratio >= MAX_RATIO:
            copies.append(f"{example.source}: {example.text!r} is {ratio:.2f} close to "
                          f"the corpus passage {passage!r}")
    assert not copies, "rule examples too close to corpus sentences:\n" + "\n".join(copies)


def test_a_copied_sentence_is_caught() -> None:
    """The measure itself: a sentence with its names swapped is over the line, a sentence
    written around the same stock phrase is under it."""
    corpus = "据公告，甲乙科技预计上半年实现净利润九亿元，同比增长四成，主要受益于海外订单放量。"
    copied = "据公告，丙丁科技预计上半年实现净利润九亿元，同比增长四成，主要受益于海外订单放量。"
    written = "星河乳业在年报中提到，主要受益于海外订单放量，低温奶产能将翻倍。"
    texts = [corpus]
    for example, over in ((copied, True), (written, False)):
        runs = [(i, example[i:i + RUN]) for i in range(len(example) - RUN + 1)]
        found = {run: (0, corpus.find(run)) for _, run in runs if run in corpus}
        ratio, _ = _closest_passage(example, texts, runs, found)
        assert (ratio >= MAX_RATIO) is over, (example, ratio)
