"""The required words of pattern rules (claimx._required_words): every match of a pattern
contains a word of each list found for it, so a sentence holding none is skipped without
changing what the rule finds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from claimx import Extractor, RuleTimeoutError
from claimx.match import CompiledRules
from claimx._required_words import required_words
from conftest import regex_patterns

_SAMPLE = Path(__file__).resolve().parent.parent / "corpora" / "claims-sample.jsonl"


def _lists(pattern: str, anchors: tuple[str, ...] = ()) -> list[list[str]]:
    return sorted(sorted(words) for words in required_words(pattern, anchors))


def test_a_word_alternation_and_plain_runs() -> None:
    assert _lists("(?:公司|集团)将") == [["公司将", "集团将"]]
    assert _lists("使得?[^,]{0,9}受益") == [["使", "使得"], ["受益"]]


def test_items_in_a_row_join_into_longer_words() -> None:
    assert _lists("(?:同比|环比)(?:了)?(?:增长|下降)") == [
        ["同比下降", "同比了下降", "同比了增长", "同比增长",
         "环比下降", "环比了下降", "环比了增长", "环比增长"]]


def test_optional_items_and_lookarounds_require_nothing() -> None:
    assert _lists("(?:甲乙)?丙") == [["丙", "甲乙丙"]]
    assert _lists("a*b") == [["b"]]
    assert _lists("(?=甲乙)丙") == [["丙"]]
    assert _lists(r"(?<!不)\d+%") == [["%"]]


def test_branches_give_unions_of_one_list_of_each() -> None:
    # The first union takes each branch's likeliest list, the next its second one.
    assert required_words("甲[^,]{0,3}乙丙|丁") == (frozenset({"丁", "乙丙"}),
                                                 frozenset({"丁", "甲"}))
    assert _lists(r"甲|\d") == []


def test_lists_every_anchor_holds_are_left_out() -> None:
    assert _lists("(?:使|令)[^,]{0,9}(?:受益|受损)", ("使", "令得")) == [["受损", "受益"]]


def test_what_the_reader_does_not_follow_gives_no_lists() -> None:
    for pattern in ("(?i)abc", r"(a)\1", "(?:ab){e<=1}", "(?(1)a|b)", r"\L<words>",
                    "a(", "[abc", "", "a**"):
        assert required_words(pattern) == (), pattern


_ALPHABET = "ab,1 "
_PATTERNS = regex_patterns(["a", "b", "ab", ",", "1", r"\d", r"\s", "[ab]", "[^a]", r"\b", "^",
                            "$", r"\,"],
                           ["", "?", "*", "+", "{0,2}", "{1,2}", "{2}", "??", "*?", "++"],
                           claim_group=True)


@settings(max_examples=500, deadline=None)
@given(_PATTERNS, st.lists(st.text(_ALPHABET, min_size=1, max_size=10), min_size=1, max_size=5))
def test_every_match_holds_a_word_of_each_list(pattern: str, texts: list[str]) -> None:
    try:
        compiled = regex.compile(pattern, regex.VERSION1)
    except regex.error:
        return
    lists = required_words(pattern)
    for text in texts:
        for at in range(len(text) + 1):
            found = compiled.match(text, at, len(text))
            if found is None:
                continue
            for words in lists:
                assert any(word in found.group() for word in words), (pattern, text, words)


def test_the_pipeline_finds_the_same_claims_without_the_word_test(
        monkeypatch: pytest.MonkeyPatch) -> None:
    texts = [json.loads(line)["text"] for line in _SAMPLE.read_text("utf-8").splitlines()
             if line.strip()]
    extractor = Extractor()
    assert any(extractor.compiled.required_searches(i)
               for i in extractor.compiled.anchored_patterns)
    with_test = [[c.to_dict() for c in extractor.extract(t)] for t in texts]
    monkeypatch.setattr(CompiledRules, "required_searches", lambda self, index: ())
    assert [[c.to_dict() for c in extractor.extract(t)] for t in texts] == with_test


def test_a_sentence_without_a_required_word_is_not_tried(tmp_path: Path) -> None:
    # (?:哈|哈哈)+亏 backtracks exponentially on a run of 哈 not followed by 亏. Without any
    # 亏 in the sentence the pattern is not run at all: no timeout, and no claim either
    # way. With a 亏 before the run it is run, and times out.
    (tmp_path / "pack.yaml").write_text(
        "name: slow\nversion: '1'\nlanguage: zh\nclaim_types: {risk: {polarity: negative}}\n",
        encoding="utf-8")
    (tmp_path / "rules.yaml").write_text(
        "rules:\n  - id: slow.backtracks\n    kind: pattern\n    type: risk\n"
        "    pattern: (?:哈|哈哈)+亏\n    anchors: [哈]\n", encoding="utf-8")
    extractor = Extractor(packs=[tmp_path], regex_timeout=0.05)
    assert extractor.extract("哈" * 60 + "。") == []
    with pytest.raises(RuleTimeoutError):
        extractor.extract("亏" + "哈" * 60 + "。")


def test_branch_unions_skip_the_lists_the_anchors_imply() -> None:
    # Each branch names the anchor class (重心 is in both anchors), at a different rank of
    # its lists, so every union of same-rank lists but the last holds an anchor word: the
    # union of what the branches need besides it (转移到, 集中于 | 转向) is made as well.
    pattern = "将[^,]{0,9}(?:重点|重心)[^,]{0,4}(?:转移到|集中于)|(?:战略重心|业务重心)[^,]{0,2}转向"
    anchors = ("战略重心", "业务重心")
    assert frozenset({"转移到", "集中于", "转向"}) in required_words(pattern, anchors)
    assert frozenset({"转移到", "集中于", "转向"}) not in required_words(pattern)
