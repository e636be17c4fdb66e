"""The bundled pack's examples and test lines are sentences its authors wrote, not corpus
sentences.

The shared corpora are for measuring. A rule example or an annotated test line copied from one
of them, even with the company's name swapped, ties the pack to the sentences it is scored on.
These tests find every rule example, and every sentence of the packs' annotated test files
(``rules/<pack>/tests/*.txt``, read with the test runner's own parser, markers stripped), that
shares a run of characters with a corpus text and fail when the sentence as a whole is close to
the corpus passage around that run. They run where ``../shared/corpora`` is present (as in CI)
and are skipped elsewhere.
"""

from __future__ import annotations

import difflib
import functools
import json
from pathlib import Path

import ahocorasick_rs
import pytest

from conftest import SHARED
from claimx.packs import Example, available_packs, load_packs
from claimx.testing.annotated import parse_annotated
from claimx.testing.runner import collect_cases

CORPORA = SHARED / "corpora"
#: Length of the character runs looked up in the corpora: long enough that a shared run is
#: rarely a stock phrase of business Chinese (同比增长, 有限公司), short enough to catch a
#: sentence whose names were swapped.
RUN = 12
#: How close (difflib ratio) an example may come to the corpus passage around a shared run.
#: Written sentences that share a stock phrase with a corpus sentence come out under 0.6;
#: corpus sentences with the names swapped come out at 0.7 and above.
MAX_RATIO = 0.66


@functools.cache
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


def _bundled_test_lines() -> list[tuple[str, str]]:
    """(location, plain sentence) of every annotated test line of the bundled packs, as the
    test runner collects them (``【TYPE…: …】`` markers and escapes removed)."""
    packs = load_packs(sorted(available_packs()))
    return [(case.location, case.line.sentence) for case in collect_cases(packs)
            if case.line is not None]


def _copies(sentences: list[tuple[str, str]], texts: list[str]) -> list[str]:
    """The sentences (location, text) whose closest corpus passage around a shared run of
    ``RUN`` characters is at least ``MAX_RATIO`` alike."""
    runs_of = {text: [(i, text[i:i + RUN]) for i in range(len(text) - RUN + 1)]
               for _, text in sentences}
    # One automaton over every run of every sentence, one pass over each corpus text.
    all_runs = sorted({run for runs in runs_of.values() for _, run in runs})
    if not all_runs:
        return []
    automaton = ahocorasick_rs.AhoCorasick(all_runs)
    found: dict[str, tuple[int, int]] = {}
    for text_index, text in enumerate(texts):
        for run_index, start, _ in automaton.find_matches_as_indexes(text, overlapping=True):
            found.setdefault(all_runs[run_index], (text_index, start))
    copies = []
    for where, text in sentences:
        ratio, passage = _closest_passage(text, texts, runs_of[text], found)
        if ratio >= MAX_RATIO:
            copies.append(f"{where}: {text!r} is {ratio:.2f} close to "
                          f"the corpus passage {passage!r}")
    return copies


needs_corpora = pytest.mark.skipif(not CORPORA.is_dir(), reason="../shared/corpora not present")


@needs_corpora
def test_no_rule_example_is_a_corpus_sentence() -> None:
    corpus_texts = _corpus_texts()
    assert corpus_texts, "the shared corpora hold no text"
    examples = _bundled_examples()
    assert len(examples) > 500  # the bundled pack's examples were all read
    copies = _copies([(str(example.source), example.text) for example in examples],
                     corpus_texts)
    assert not copies, "rule examples too close to corpus sentences:\n" + "\n".join(copies)


@needs_corpora
def test_no_annotated_test_line_is_a_corpus_sentence() -> None:
    lines = _bundled_test_lines()
    assert len(lines) > 200  # the bundled pack's test files were all read
    copies = _copies(lines, _corpus_texts())
    assert not copies, ("annotated test lines too close to corpus sentences:\n"
                        + "\n".join(copies))


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


def test_a_copied_test_line_is_caught() -> None:
    """An annotated test line is measured as its plain sentence: the markers that split a
    copied sentence do not hide it, and a line of our own around a stock phrase passes."""
    corpus = "据公告，甲乙科技预计上半年实现净利润九亿元，同比增长四成，主要受益于海外订单放量。"
    copied = "据公告，【advantage: 丙丁科技预计上半年实现净利润九亿元，同比增长四成】，主要受益于海外订单放量。"
    written = "【advantage: 星河乳业的低温奶产能将翻倍】，主要受益于海外订单放量。"
    for line, over in ((copied, True), (written, False)):
        (parsed,) = parse_annotated(line)
        assert "【" not in parsed.sentence and parsed.expected
        assert bool(_copies([("t.txt:1", parsed.sentence)], [corpus])) is over, parsed.sentence
