"""The first-character check of pattern rules matched at clause starts (claimx._first_chars):
it may let through a character no match begins with, never refuse one a match begins with."""

from __future__ import annotations

import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from claimx._first_chars import first_chars
from conftest import regex_patterns


def _allowed(pattern: str, chars: str) -> str:
    check = first_chars(pattern)
    assert check is not None, pattern
    return "".join(ch for ch in chars if check.allows(ch))


def test_the_first_atoms_of_a_word_alternation() -> None:
    assert _allowed("(?:公司|集团)将", "公司集团将在") == "公集"


def test_optional_and_repeated_prefixes_let_their_successors_begin() -> None:
    assert _allowed(r"(?:[\s“]*)(?:本|该)?(?:持续|积极){0,3}(?:推进|加强)", " “本该持积推加在") == " “本该持积推加"
    assert _allowed("a*b+c", "abcd") == "ab"
    assert _allowed("(?:a|)b", "abc") == "ab"


def test_lookarounds_and_anchors_are_skipped() -> None:
    assert _allowed(r"(?<![的对])(?=[\p{Han}])(?!研发项目)\b^依赖", "依研的") == "依"
    assert _allowed(r"(?#a comment)(?<=x)y", "xy") == "y"


def test_escapes_classes_and_named_groups() -> None:
    assert _allowed(r"\d+%", "1a%") == "1"
    assert _allowed(r"\p{Han}x", "中a") == "中"
    assert _allowed(r"[]a]b|\x41|\u4e2d", "]ab A中") == "]aA中"
    assert _allowed(r"(?P<claim>甲)|(?<name>乙)", "甲乙丙") == "甲乙"
    assert _allowed(r"[[a-z]--[aeiou]]", "abe") == "b"


def test_what_the_reader_does_not_follow_gives_no_check() -> None:
    for pattern in ("(?i)abc", r"(a)\1", "(?:ab){e<=1}", "(?(1)a|b)", r"\L<words>", ".abc",
                    "a(", "[abc", "", "(?=a)", "a**"):
        assert first_chars(pattern) is None, pattern


_ALPHABET = "ab,1 "
_PATTERNS = regex_patterns(["a", "b", ",", "1", r"\d", r"\s", "[ab]", "[^a]", r"\b", "^", "$"],
                           ["", "?", "*", "+", "{0,2}", "{1,2}", "??", "*?"])


@settings(max_examples=400, deadline=None)
@given(_PATTERNS, st.lists(st.text(_ALPHABET, min_size=1, max_size=8), min_size=1, max_size=5))
def test_no_match_begins_with_a_refused_character(pattern: str, texts: list[str]) -> None:
    try:
        compiled = regex.compile(pattern, regex.VERSION1)
    except regex.error:
        return
    check = first_chars(pattern)
    if check is None:
        return
    for text in texts:
        for at in range(len(text)):
            found = compiled.match(text, at, len(text))
            if found is not None and found.end() > found.start():
                assert check.allows(text[at]), (pattern, text, at)
