"""A pattern's leading negative lookahead over plain words (claimx._lookahead_guard): only
the plainest form is taken apart, and in a stretch of text holding none of its words the
pattern without the lookahead matches exactly as the pattern with it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from claimx import Extractor
from claimx._lookahead_guard import split_leading_guard
from claimx.match import CompiledRules

_SAMPLE = Path(__file__).resolve().parent.parent / "corpora" / "claims-sample.jsonl"


def test_the_plain_form_gives_its_words_and_the_rest_of_the_pattern() -> None:
    assert split_leading_guard("(?![^,]{0,9}?(?:计划|目标))加快[^,]{1,9}", 0) == (
        ("计划", "目标"), "加快[^,]{1,9}")
    # greedy or lazy, and any negated class
    assert split_leading_guard("(?![^,;。]{0,30}(?:甲乙))丙", 0) == (("甲乙",), "丙")


def test_leading_lookbehinds_stay_in_front() -> None:
    pattern = "(?<![要应需])(?<=[,，])(?![^,]{0,9}?(?:会议|报告))推进"
    assert split_leading_guard(pattern, regex.VERSION1) == (
        ("会议", "报告"), "(?<![要应需])(?<=[,，])推进")
    # a lookbehind holding a class with a ']' first, and a VERSION1 nested set
    assert split_leading_guard("(?<![]a])(?![^,]{0,3}(?:x))y", 0) == (("x",), "(?<![]a])y")
    assert split_leading_guard("(?<![[a-z]--[aeiou]])(?![^,]{0,3}(?:x))y",
                               regex.VERSION1) == (("x",), "(?<![[a-z]--[aeiou]])y")


@pytest.mark.parametrize(("pattern", "flags"), [
    ("推进(?![^,]{0,9}(?:会议))", 0),               # not at the start
    ("(?![^,]{0,9}(?:会.|报告))推进", 0),            # a word with regex syntax in it
    ("(?![^,]{0,9}(?:会议|(?:报告)))推进", 0),       # a nested group
    ("(?![^,]{1,9}(?:会议))推进", 0),               # not {0,N}
    ("(?!(?:会议))推进", 0),                        # no stretch before the words
    ("(?i)(?![^,]{0,9}(?:ab))cd", 0),               # an inline flag
    ("(?![^,]{0,9}(?:ab))(?i:cd)", 0),
    ("(?![^,]{0,9}(?:ab))cd", regex.IGNORECASE),     # flags that change how words read
    ("(?![^,]{0,9}(?:ab))cd", regex.VERBOSE),
    ("(?<![a(?![^,]{0,9}(?:ab))cd", 0),             # a lookbehind that does not close
])
def test_any_other_form_is_left_alone(pattern: str, flags: int) -> None:
    assert split_leading_guard(pattern, flags) is None


_WORDS = ["ab", "ba", "c"]
_LOOKAHEAD = "(?![^,]{0,%d}%s(?:%s))"


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 4), st.booleans(), st.lists(st.sampled_from(_WORDS), min_size=1, max_size=3,
                                                  unique=True),
       st.sampled_from(["a", "b", "a[^,]{0,3}b", "(?:ab|b)a?", "[ab]+", "b(?=a)"]),
       st.sampled_from(["", "(?<!c)", "(?<=[,a])"]),
       st.lists(st.text("abc,d", min_size=0, max_size=14), min_size=1, max_size=4))
def test_without_its_words_the_rest_matches_alike(reach: int, lazy: bool, words: list[str],
                                                   body: str, behind: str,
                                                   texts: list[str]) -> None:
    pattern = behind + _LOOKAHEAD % (reach, "?" if lazy else "", "|".join(words)) + body
    split = split_leading_guard(pattern, regex.VERSION1)
    assert split is not None and split[0] == tuple(words)
    full, rest = regex.compile(pattern, regex.VERSION1), regex.compile(split[1], regex.VERSION1)
    for text in texts:
        # the pipeline searches a sentence: from its start, with its end as endpos
        for start in range(len(text) + 1):
            for end in range(start, len(text) + 1):
                if any(word in text[start:end] for word in words):
                    continue
                assert ([m.span() for m in full.finditer(text, start, end)]
                        == [m.span() for m in rest.finditer(text, start, end)]), (pattern, text)


def test_the_pipeline_finds_the_same_claims_without_the_guard(
        monkeypatch: pytest.MonkeyPatch) -> None:
    texts = [json.loads(line)["text"] for line in _SAMPLE.read_text("utf-8").splitlines()
             if line.strip()]
    # sentences that hold one of intent.directive's lookahead words and sentences that
    # do not, so both patterns of the guarded rule run
    texts += ["加快推进数字化转型，这一点尤为重要。", "加快推进数字化转型，提升服务能力。"]
    extractor = Extractor()
    guarded = [i for i in extractor.compiled.pattern_indexes
               if extractor.compiled.lookahead_guard(i)]
    assert guarded, "the default pack has a rule with a leading lookahead over words"
    with_guard = [[c.to_dict() for c in extractor.extract(t)] for t in texts]
    monkeypatch.setattr(CompiledRules, "lookahead_guard", lambda self, index: None)
    assert [[c.to_dict() for c in extractor.extract(t)] for t in texts] == with_guard
