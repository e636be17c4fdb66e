"""Pattern rules compile their full regex on first use (claimx._deferred_regex).

Loading checks each pattern with every var cut to one word; these tests pin that the check
accepts exactly the patterns whose full expansion compiles, that a rule's regex is compiled
only when a text needs it and then matches as the full pattern does, and that it crosses
to a worker process uncompiled.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import regex
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claimx._deferred_regex import DeferredPattern
from claimx.packs import (
    PatternRule,
    _expand_pattern,
    _literal_groups,
    _one_word_vars,
    _opening_position,
    _Problems,
    _source_offset,
    load_packs,
)
from claimx.pipeline import Extractor
from conftest import write_pack

_META = ("name: deferred\nversion: '1'\nlanguage: zh\n"
         "claim_types: {risk: {polarity: negative}}\n")
_RULES = ("vars:\n  shortfalls: [资金链紧张, 现金流紧张, 资金紧张, 缺口]\n"
          "rules:\n"
          "  - id: r.shortfall\n    kind: pattern\n    type: risk\n"
          "    pattern: (?P<claim>公司(?:面临|出现)$shortfalls)\n")


def _pattern_rule(pack: Path) -> PatternRule:
    (loaded,) = load_packs([pack])
    (rule,) = [r for r in loaded.rules if isinstance(r, PatternRule)]
    return rule


def test_a_pattern_is_compiled_when_a_text_first_needs_it(tmp_path: Path) -> None:
    pack = write_pack(tmp_path / "p", _META, _RULES)
    os.chdir(tmp_path)
    rule = _pattern_rule(pack)
    assert isinstance(rule.pattern, DeferredPattern)
    assert rule.pattern.groupindex == {"claim": 1}
    extractor = Extractor(packs=[pack])
    (used,) = extractor.compiled.pattern_rules
    assert used.pattern._compiled is None  # loading and building the extractor: no compile
    claims = extractor.extract("今年以来，公司面临资金链紧张的局面。")
    assert [(c.rules, [cue.text for cue in c.evidence.cues]) for c in claims] == [
        (("r.shortfall",), ["公司面临资金链紧张"])]
    assert used.pattern._compiled is not None
    # The longest word wins, as in the plain longest-first alternation.
    assert used.pattern.search("公司出现资金紧张").group() == "公司出现资金紧张"


def test_a_deferred_pattern_pickles_uncompiled_and_matches_after(tmp_path: Path) -> None:
    pack = write_pack(tmp_path / "p", _META, _RULES)
    os.chdir(tmp_path)
    pattern = _pattern_rule(pack).pattern
    assert pattern is not None
    pattern.search("公司出现缺口")  # compiled here; the copy below starts without it
    copy = pickle.loads(pickle.dumps(pattern))
    assert copy == pattern and hash(copy) == hash(pattern)
    assert copy._compiled is None
    assert [m.span() for m in copy.finditer("公司出现缺口，公司面临现金流紧张")] == [(0, 6), (7, 16)]


_ATOMS = ["$v", "$v", "a", "经", "(", ")", "(?:", "|", "*", "+", "?", "{2}", "{2,1}", "[",
          "]", "(?<=", "(?P<claim>", "\\", "\\d", "^", ".", "{"]
_VAR_WORDS = st.lists(st.text(alphabet="经济a(+*?[]{}|\\.^$", min_size=1, max_size=4),
                      min_size=0, max_size=6)


def _compiles(text: str) -> bool:
    try:
        regex.compile(text, regex.VERSION1)
    except (regex.error, RecursionError, OverflowError, ValueError):
        return False
    return True


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pieces=st.lists(st.sampled_from(_ATOMS), min_size=1, max_size=10), words=_VAR_WORDS)
def test_the_one_word_check_accepts_exactly_what_compiles_in_full(
        pieces: list[str], words: list[str]) -> None:
    """A var's words are escaped literals, so cutting each var to one word changes no
    verdict of the compiler: the load-time check refuses a pattern exactly when its full
    expansion would not compile."""
    text = "".join(pieces)
    variables = {"v": tuple(words)}
    full = _expand_pattern(text, variables, None, "rules.yaml", _Problems())
    short = _expand_pattern(text, _one_word_vars(text, variables), None, "rules.yaml",
                            _Problems())
    assert (full is None) == (short is None)  # "$va" names an unknown var for both
    if full is None or short is None:
        return
    assert _compiles(short[0]) == _compiles(full[0]), (text, words)


_GROUP_ATOMS = ["(?:", "(", ")", "|", "中国", "市场", "ab", "?", "*", "+", "{2}", "{1,3}",
                "{,2}", "[^，。]", "[a-z]", "[a--b]", "\\d", "\\p{Han}", "(?=", "(?!", "(?<=",
                "(?<!", "(?>", "(?P<claim>", "(?P<x>", ".", "^", "{", "}", "]", "[", "\\",
                "(?#c)", "(?i)", "(?:甲|乙|丙)", "(?:甲乙|丙丁)", "\\b", "($v)"]


def _verdict(text: str, variables: dict[str, tuple[str, ...]],
             cuts: list[tuple[int, int]]) -> tuple[object, ...]:
    """What the load-time check makes of ``text``: the named groups, or the error with the
    offset in the pattern as written it is reported at (as _regex_problem places it)."""
    expansion = _expand_pattern(text, variables, None, "rules.yaml", _Problems(), cuts)
    assert expansion is not None
    expanded, pieces = expansion
    try:
        compiled = regex.compile(expanded, regex.VERSION1)
    except regex.error as exc:
        position, message = exc.pos, exc.msg
        opening = _opening_position(expanded, message)
        if opening is not None:
            position, message = opening
        where = _source_offset(pieces, position) if position is not None else None
        return ("error", message, where)
    return ("groups", sorted(compiled.groupindex.items()))


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pieces=st.lists(st.sampled_from(_GROUP_ATOMS), min_size=1, max_size=12))
def test_cutting_literal_groups_keeps_the_check_s_verdict(pieces: list[str]) -> None:
    """The check leaves out all but the first word of each group of plain words: the same
    named groups when the pattern compiles, the same error at the same place of the
    pattern as written when it does not."""
    text = "".join(pieces)
    variables = {"v": ("经济",)}
    cuts = _literal_groups(text)
    assert _verdict(text, variables, cuts) == _verdict(text, variables, [])


def test_literal_groups_are_cut_only_where_the_reading_follows_the_syntax() -> None:
    assert _literal_groups("(?P<claim>(?:甲|乙丙|丁))+[^，]{0,3}?(?:x|y)") == [(14, 19), (36, 38)]
    assert _expand_pattern("a(?:甲|乙丙|丁)b", {}, None, "r.yaml", _Problems(),
                           _literal_groups("a(?:甲|乙丙|丁)b"))[0] == "a(?:甲)b"  # type: ignore[index]
    # inline flags, fuzzy constraints, comments, set operations, a group with a repeat, an
    # empty branch or a var inside, a group left open: nothing is cut
    for text in ("(?i)(?:a|b)", "(?:a|b){e<=1}", "(?#x)(?:a|b)", "[a--b](?:a|b)",
                 "(?:ab+|c)", "(?:a||b)", "(?:|a)", "(?:a|b", "(?:a|$v)"):
        assert _literal_groups(text) == [], text
