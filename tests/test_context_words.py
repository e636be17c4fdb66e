"""Context words (veto, veto_unless, requires, veto_always, not_after, not_before) are read
from the matching stage's automaton hits instead of being searched per list and sentence
(claimx.assemble._ContextWordsSeen, CompiledRules.context_masks). The lookup must answer
exactly as the search did: substrings, overlapping and nested words, lone surrogates, empty
and reversed windows."""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claimx import Extractor
from conftest import write_pack
from claimx.assemble import _ContextWordsSeen
from claimx.match import CompiledRules, _alternation, match
from claimx.segment import Sentence

PACK_YAML = """\
name: context-test
version: "0.1.0"
language: zh
claim_types:
  risk: {polarity: negative, description: test}
  advantage: {polarity: positive, description: test}
"""


def _yaml_list(words: list[str] | str) -> str:
    # A JSON list is a YAML list (not ASCII-escaped: YAML takes no surrogate pairs).
    return json.dumps(words, ensure_ascii=False)


def _rule(rule_id: str, claim_type: str, cues: list[str], **fields_: list[str] | str) -> str:
    # Lists and scalars alike as JSON, which YAML reads (veto_scope: "clause").
    fields = "".join(f"    {name}: {_yaml_list(value)}\n" for name, value in fields_.items())
    return (f"  - id: {rule_id}\n    kind: lexicon\n    type: {claim_type}\n"
            f"    cues: {_yaml_list(cues)}\n{fields}")


# Lists with nested, overlapping and shared words, a word that is also a cue, and one list
# holding U+FFFD (the automaton's stand-in for a lone surrogate), which must stay searched.
RULES_YAML = "rules:\n" + "".join([
    _rule("r.veto", "risk", ["风险", "压力"], veto=["汇率", "率风", "风"],
          veto_unless=["公司", "司"], not_after=["应对", "对", "应对风"],
          not_before=["可控", "较低", "控"]),
    _rule("r.requires", "risk", ["下滑"], requires=["市场", "场", "风险"],
          veto_always=["力争", "\ufffd"]),
    _rule("a.record", "advantage", ["优势", "新高"], veto=["指数", "汇率"],
          veto_unless=["公司"], veto_always=["😀优"], not_before=["势"]),
])

FRAGMENTS = ["风险", "汇率", "率", "风", "公司", "司", "应对", "对", "可控", "较低", "控",
             "市场", "场", "力争", "优势", "新高", "指数", "😀", "优", "下滑", "压力", "。",
             "，", "\ud800", "\ufffd", "a"]


def _pack_extractor(tmp_path_factory: pytest.TempPathFactory, name: str,
                    rules_yaml: str) -> Extractor:
    """An Extractor over a test pack written under a fresh temporary folder."""
    root = write_pack(tmp_path_factory.mktemp("pack") / name, PACK_YAML, rules_yaml)
    return Extractor(packs=[root])


@pytest.fixture(scope="module")
def extractor(tmp_path_factory: pytest.TempPathFactory) -> Extractor:
    return _pack_extractor(tmp_path_factory, "context-test", RULES_YAML)


def _lists(compiled: CompiledRules) -> list:  # type: ignore[type-arg]
    return list({id(s): s for searches in compiled.context_words.values()
                 for s in searches if s is not None}.values())


def test_every_list_but_the_one_with_u_fffd_is_indexed(extractor: Extractor) -> None:
    lists = _lists(extractor.compiled)
    assert {("\ufffd" in s.words) for s in lists if not s.bit} == {True}
    assert len({s.bit for s in lists if s.bit}) == len(lists) - 1  # one bit each


@settings(max_examples=400)
@given(text=st.lists(st.sampled_from(FRAGMENTS), max_size=30).map("".join),
       start=st.integers(-2, 70), length=st.integers(-3, 40))
def test_the_lookup_answers_as_the_search(extractor: Extractor, text: str, start: int,
                                          length: int) -> None:
    compiled = extractor.compiled
    found = match(compiled, text, ()).words_found
    start = max(0, start)
    end = max(0, start + length)  # a window may be empty or reversed
    for found_words in (found, None):  # indexed, and searched (no automaton hits at hand)
        seen = _ContextWordsSeen(found_words, compiled.context_masks, text,
                                 compiled.context_shadows_by_index)
        for words in _lists(compiled):
            searched = _alternation(words.words).search(text, start, end) is not None
            naive = any(text.find(w, start) != -1 and text.find(w, start) + len(w) <= end
                        for w in words.words)
            assert searched == naive
            assert seen.occurs_between(words, text, start, end) == searched, words.words
            if start <= end:
                sentence = Sentence(start, end, source=text)
                assert seen.occurs(words, text, sentence) == searched, words.words
                assert seen.occurs(words, text, sentence) == searched  # remembered


@settings(max_examples=200)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join))
def test_claims_are_the_same_with_and_without_the_automaton_hits(extractor: Extractor,
                                                                 text: str) -> None:
    looked_up, searched = _claims_looked_up_and_searched(extractor, text)
    assert looked_up == searched


def _claims_looked_up_and_searched(extractor: Extractor, text: str) -> tuple[object, object]:
    """The claims of ``text`` assembled from the automaton hits, and assembled with every
    context list searched instead (no hits at hand)."""
    from claimx.assemble import assemble
    from claimx.modifiers import scopes
    from claimx.normalize import normalize
    from claimx.segment import segment

    compiled = extractor.compiled
    doc = normalize(text)
    sentences = segment(doc)
    found = match(compiled, doc.text, sentences, sentiment=False)
    reach = scopes(found, sentences, claim_sentences_only=True)
    settings_ = extractor._settings
    return (assemble(doc, sentences, found, reach, compiled, settings_),
            assemble(doc, sentences, attrs.evolve(found, words_found=None), reach,
                     compiled, settings_))


def test_vetoes_still_cancel_hits(extractor: Extractor) -> None:
    # One case per list kind, through the public API.
    assert [c.rules for c in extractor.extract("市场下滑。")] == [("r.requires",)]
    assert extractor.extract("需求下滑。") == []  # requires: no 市场/场
    assert extractor.extract("市场力争下滑。") == []  # veto_always
    assert extractor.extract("汇率压力。") == []  # veto
    assert extractor.extract("汇率。压力。") == []  # veto in the sentence before
    assert [c.rules for c in extractor.extract("公司汇率压力。")] == [("r.veto",)]  # unless
    assert extractor.extract("应对压力。") == []  # not_after
    assert extractor.extract("压力可控。") == []  # not_before
    assert [c.rules for c in extractor.extract("压力。可控。")] == [("r.veto",)]


def test_compiled_rules_keep_their_bits_through_pickle_and_evolve(extractor: Extractor) -> None:
    import pickle

    compiled = extractor.compiled
    for copy in (pickle.loads(pickle.dumps(compiled)), attrs.evolve(compiled, priors={})):
        assert copy.context_masks == compiled.context_masks
        assert sorted(s.bit for s in _lists(copy)) == sorted(s.bit for s in _lists(compiled))
        text = "公司汇率压力。应对风险，优势😀优。"
        assert match(copy, text, ()).words_found == match(compiled, text, ()).words_found


# A negation modifier whose pseudo words disguise its cue 不/未 (不得不 is no 不得, 未来 is no
# 未), and context lists holding words inside them: over the disguised cue (不得, 未) and
# beside it (来 in 未来 is not over 未, so it still counts).
SHADOW_RULES_YAML = "rules:\n" + "".join([
    _rule("r.loss", "risk", ["亏损"], veto=["不得"], not_after=["未"]),
    _rule("a.plan", "advantage", ["优势"], requires=["来", "未"]),
]) + """\
  - id: m.negation
    kind: modifier
    category: negation
    cues: [不, 未]
    pseudo: [不得不, 未来]
    direction: forward
    max_scope: 6
    scope: clause
"""

SHADOW_FRAGMENTS = ["不得不", "不得", "不", "得", "未来", "未", "来", "亏损", "优势", "。", "，",
                    "a", "\ud800"]


@pytest.fixture(scope="module")
def shadow_extractor(tmp_path_factory: pytest.TempPathFactory) -> Extractor:
    return _pack_extractor(tmp_path_factory, "shadow-test", SHADOW_RULES_YAML)


def test_only_context_words_over_a_disguised_cue_are_shadowed(
        shadow_extractor: Extractor) -> None:
    shadows = shadow_extractor.compiled.context_shadows
    assert shadows == {"不得": ((0, "不得不"),), "未": ((0, "未来"),)}


def test_a_context_word_inside_a_pseudo_word_does_not_count(
        shadow_extractor: Extractor) -> None:
    ex = shadow_extractor
    assert ex.extract("公司不得亏损。") == []  # veto 不得
    assert [c.rules for c in ex.extract("公司将不得不承担亏损。")] == [("r.loss",)]
    assert ex.extract("公司未亏损。") == []  # not_after 未
    assert [c.rules for c in ex.extract("公司未来亏损。")] == [("r.loss",)]
    # requires: 来 beside the disguised 未 still counts; 未 inside 未来 does not.
    assert [c.rules for c in ex.extract("未来优势。")] == [("a.plan",)]
    assert [c.rules for c in ex.extract("未优势。")] == [("a.plan",)]
    assert ex.extract("得优势。") == []


def _outside_pseudo_words(text: str, word: str, start: int, end: int) -> bool:
    """The oracle: ``word`` occurs in ``text[start:end]`` at a place that is not the first
    character(s) of 不得不 / 未来 (the test pack's shadows)."""
    at = text.find(word, start)
    while at != -1 and at + len(word) <= end:
        if not ((word == "不得" and text.startswith("不得不", at))
                or (word == "未" and text.startswith("未来", at))):
            return True
        at = text.find(word, at + 1)
    return False


@settings(max_examples=400)
@given(text=st.lists(st.sampled_from(SHADOW_FRAGMENTS), max_size=30).map("".join),
       start=st.integers(-2, 70), length=st.integers(-3, 40))
def test_the_lookup_and_the_search_skip_the_same_shadowed_words(
        shadow_extractor: Extractor, text: str, start: int, length: int) -> None:
    compiled = shadow_extractor.compiled
    found = match(compiled, text, ()).words_found
    start = max(0, start)
    end = max(0, start + length)
    for found_words in (found, None):
        seen = _ContextWordsSeen(found_words, compiled.context_masks, text,
                                 compiled.context_shadows_by_index)
        for words in _lists(compiled):
            expected = any(_outside_pseudo_words(text, w, start, end) for w in words.words)
            assert seen.occurs_between(words, text, start, end) == expected, words.words
            if start <= end:
                sentence = Sentence(start, end, source=text)
                assert seen.occurs(words, text, sentence) == expected, words.words


def test_shadows_survive_pickling(shadow_extractor: Extractor) -> None:
    import pickle

    copy = pickle.loads(pickle.dumps(shadow_extractor))
    assert copy.compiled.context_shadows == shadow_extractor.compiled.context_shadows
    assert [c.rules for c in copy.extract("公司将不得不承担亏损。")] == [("r.loss",)]


# risk's rules read their vetoes in the hit's clause unless a rule says otherwise.
SCOPED_PACK = PACK_YAML.replace("risk: {polarity: negative, description: test}",
                                "risk: {polarity: negative, veto_scope: clause}")
SCOPED_RULES = "rules:\n" + "".join([
    _rule("r.squeezed", "risk", ["利润被侵蚀"], veto=["经济"]),
    _rule("a.growing", "advantage", ["销量大增"], veto=["经济"], veto_scope="clause"),
    _rule("r.stalled", "risk", ["陷入停滞"], veto=["经济"], veto_scope="sentence"),
])


@pytest.fixture(scope="module")
def scoped(tmp_path_factory: pytest.TempPathFactory) -> Extractor:
    return Extractor([write_pack(tmp_path_factory.mktemp("scope") / "scope", SCOPED_PACK,
                                 SCOPED_RULES)])


def _rules_of(extractor: Extractor, text: str) -> set[str]:
    return {rule for claim in extractor.extract(text) for rule in claim.rules}


def test_a_clause_scoped_veto_counts_only_in_the_hit_s_clause(scoped: Extractor) -> None:
    # risk declares veto_scope: clause, so r.squeezed takes it; a.growing sets it itself.
    by_id = {rule.id: rule for rule in scoped.compiled.rules}
    assert by_id["r.squeezed"].veto_scope == "clause"
    assert by_id["a.growing"].veto_scope == "clause"
    assert by_id["r.stalled"].veto_scope == "sentence"  # the rule's own word wins
    # The economy in another clause (or the sentence before) no longer cancels the hit …
    assert "r.squeezed" in _rules_of(scoped, "受经济放缓拖累，供货商利润被侵蚀。")
    assert "r.squeezed" in _rules_of(scoped, "经济放缓。供货商利润被侵蚀。")
    assert "a.growing" in _rules_of(scoped, "经济回暖，星河汽车销量大增。")
    # … in the hit's own clause it still does,
    assert "r.squeezed" not in _rules_of(scoped, "经济下行使利润被侵蚀。")
    # and a sentence-scoped rule is cancelled from anywhere in its sentence.
    assert "r.stalled" not in _rules_of(scoped, "受经济放缓影响，项目陷入停滞。")
    assert "r.stalled" in _rules_of(scoped, "受资金短缺影响，项目陷入停滞。")


def test_an_unknown_veto_scope_is_a_located_problem(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from claimx import PackLoadError

    rules = "rules:\n" + _rule("r.x", "risk", ["风险"], veto=["经济"], veto_scope="paragraph")
    pack = PACK_YAML.replace("risk: {polarity: negative, description: test}",
                             "risk: {polarity: negative, veto_scope: everywhere}")
    with pytest.raises(PackLoadError) as info:
        Extractor([write_pack(tmp_path / "bad", pack, rules)])
    messages = [(p.code, p.message) for p in info.value.problems]
    assert ("CX113", "'veto_scope' is 'paragraph', not one of sentence, clause") in messages
    assert ("CX113", "'veto_scope' is 'everywhere', not one of sentence, clause") in messages


# risk's rules all carry the type's veto_always words besides their own (a var, expanded).
TYPE_VETO_PACK = PACK_YAML.replace(
    "risk: {polarity: negative, description: test}",
    "risk: {polarity: negative, veto_always: [$habit_frames, 惯例]}")
TYPE_VETO_RULES = "vars:\n  habit_frames: [一般而言, 通常情况下]\nrules:\n" + "".join([
    _rule("r.squeezed", "risk", ["利润被侵蚀"]),
    _rule("r.stalled", "risk", ["陷入停滞"], veto_always=["试点"]),
    _rule("a.growing", "advantage", ["销量大增"]),
])


def test_a_claim_type_s_veto_always_cancels_every_rule_of_the_type(tmp_path: Path) -> None:
    extractor = Extractor([write_pack(tmp_path / "typeveto", TYPE_VETO_PACK, TYPE_VETO_RULES)])
    by_id = {rule.id: rule for rule in extractor.compiled.rules}
    assert by_id["r.squeezed"].veto_always == ("一般而言", "通常情况下", "惯例")
    assert by_id["r.stalled"].veto_always == ("试点", "一般而言", "通常情况下", "惯例")
    assert by_id["a.growing"].veto_always == ()
    info = extractor.compiled.claim_types["risk"]
    assert info.veto_always_source == ("$habit_frames", "惯例")
    # A general truth about the trade is no claim, for either rule of the type …
    assert not _rules_of(extractor, "一般而言，原料涨价时加工厂的利润被侵蚀。")
    assert not _rules_of(extractor, "按惯例，雨季工地陷入停滞。")
    # … the rule's own word still counts, the other type is untouched,
    assert not _rules_of(extractor, "试点项目陷入停滞。")
    assert _rules_of(extractor, "一般而言，节前销量大增。") == {"a.growing"}
    # and without the words both rules fire.
    assert _rules_of(extractor, "星河化工利润被侵蚀，扩产项目陷入停滞。") == {
        "r.squeezed", "r.stalled"}


def test_an_unknown_var_in_a_type_s_veto_always_is_located_in_pack_yaml(
        tmp_path: Path) -> None:
    from claimx import PackLoadError

    line = "  risk: {polarity: negative, veto_always: [$habit_frame]}"
    pack = PACK_YAML.replace("  risk: {polarity: negative, description: test}", line)
    with pytest.raises(PackLoadError) as info:
        Extractor([write_pack(tmp_path / "bad", pack, TYPE_VETO_RULES)])
    got = [(p.code, Path(p.path).name, p.line, p.column, p.message, p.hint)
           for p in info.value.problems]
    assert got == [("CX121", "pack.yaml", 5, line.index("$") + 1,
                    "unknown var '$habit_frame' in 'veto_always'",
                    "did you mean '$habit_frames'?")]


def test_the_shadowable_flag_marks_exactly_the_words_with_pseudo_words(
        extractor: Extractor, shadow_extractor: Extractor) -> None:
    # _ContextWordsSeen._mask checks a word's pseudo words only when its mask has
    # SHADOWABLE: that is right only if no other word has any.
    from claimx.match import SHADOWABLE

    for ex in (extractor, shadow_extractor, Extractor()):
        compiled = ex.compiled
        flagged = [bool(mask & SHADOWABLE) for mask in compiled.context_masks]
        assert flagged == [pairs is not None for pairs in compiled.context_shadows_by_index]
    assert any(bool(m & SHADOWABLE) for m in shadow_extractor.compiled.context_masks)


@settings(max_examples=300)
@given(text=st.lists(st.sampled_from(FRAGMENTS + SHADOW_FRAGMENTS), max_size=30).map("".join),
       start=st.integers(0, 40), length=st.integers(0, 40), cut=st.tuples(
           st.integers(-3, 45), st.integers(-3, 45)))
def test_a_window_inside_a_sentence_answers_as_without_the_sentence(
        extractor: Extractor, shadow_extractor: Extractor, text: str, start: int, length: int,
        cut: tuple[int, int]) -> None:
    # A window's answer may come from its sentence's mask (a list absent from the sentence
    # is absent from any window inside it); it must be the window's own answer, also for
    # shadowed words, empty and reversed windows, and windows that leave the sentence.
    end = start + length
    a, b = start + cut[0], start + cut[1]
    for ex in (extractor, shadow_extractor):
        compiled = ex.compiled
        found = match(compiled, text, ()).words_found
        sentence = Sentence(start, end, source=text)
        plain = _ContextWordsSeen(found, compiled.context_masks, text,
                                  compiled.context_shadows_by_index)
        seen = _ContextWordsSeen(found, compiled.context_masks, text,
                                 compiled.context_shadows_by_index)
        for words in _lists(compiled):
            seen.occurs(words, text, sentence)  # the sentence's mask made first
            expected = plain.occurs_between(words, text, max(0, a), max(0, b))
            assert seen.occurs_between(words, text, max(0, a), max(0, b),
                                       sentence) == expected, words.words


UNINDEXED_RULES_YAML = "rules:\n" + _rule(
    "r.windows", "risk", ["压力"], veto=["汇率"], not_after=["应对", "\ufffd"],
    not_before=["可控", "\ufffd"])


def test_searched_window_lists_are_not_answered_from_the_sentence_mask(
        tmp_path: Path) -> None:
    # The veto check makes the sentence's mask; the window lists hold U+FFFD, have no bit
    # and must still be searched (a mask without their bit says nothing about them).
    root = write_pack(tmp_path / "unindexed", PACK_YAML, UNINDEXED_RULES_YAML)
    ex = Extractor(packs=[root])
    assert {s.bit for s in _lists(ex.compiled) if "\ufffd" in s.words} == {0}
    assert [c.rules for c in ex.extract("公司压力。")] == [("r.windows",)]
    assert ex.extract("公司应对压力。") == []  # not_after
    assert ex.extract("公司压力可控。") == []  # not_before
    assert ex.extract("汇率压力。") == []  # veto


# A veto_unless word that stands inside a veto word (控股 in 国有控股, 公司 in 保险公司)
# names no company of its own: it does not lift the veto; one standing elsewhere does.
HELD_RULES_YAML = "rules:\n" + _rule("r.held", "risk", ["风险"],
                                     veto=["国有控股", "保险公司", "指数"],
                                     veto_unless=["控股", "公司"])
HELD_FRAGMENTS = ["国有控股", "国有", "控股", "保险公司", "保险", "公司", "指数", "风险", "。",
                  "，", "星河"]


@pytest.fixture(scope="module")
def held_extractor(tmp_path_factory: pytest.TempPathFactory) -> Extractor:
    return _pack_extractor(tmp_path_factory, "held-test", HELD_RULES_YAML)


@pytest.mark.parametrize(("text", "claimed"), [
    ("国有控股企业的风险上升。", False),     # 控股 only inside the veto word
    ("保险公司的风险敞口扩大。", False),     # 公司 only inside the veto word
    ("星河控股旗下国有控股企业的风险上升。", True),  # 控股 of a name, outside it
    ("指数下跌，星河公司风险加大。", True),   # the plain case: a company named
    ("指数下跌，风险加大。", False),
])
def test_a_veto_unless_word_inside_a_veto_word_does_not_lift_the_veto(
        held_extractor: Extractor, text: str, claimed: bool) -> None:
    assert bool(held_extractor.extract(text)) is claimed


@settings(max_examples=200)
@given(st.lists(st.sampled_from(HELD_FRAGMENTS), max_size=30).map("".join))
def test_a_held_unless_word_is_judged_alike_with_and_without_the_automaton_hits(
        held_extractor: Extractor, text: str) -> None:
    looked_up, searched = _claims_looked_up_and_searched(held_extractor, text)
    assert looked_up == searched
