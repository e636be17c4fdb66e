"""Sequence rules (kind: sequence) and the faster pattern modes (match_at: anchors | clauses):
behaviour on hand-made sentences, and properties against plain reference implementations."""

from __future__ import annotations

from pathlib import Path

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from claimx.errors import PackLoadError
from claimx.match import _CLAUSE_BREAKS, compile_rules, match
from claimx.normalize import normalize
from claimx.packs import load_pack
from claimx.pipeline import Extractor
from claimx.segment import segment

PACK_YAML = """\
name: seq-test
version: "0.1.0"
language: zh
claim_types:
  advantage: {polarity: positive}
  risk: {polarity: negative}
"""

RULES_YAML = """\
vars:
  metrics: [营收, 收入, 市场份额, 份额]
  ups: [增长, 大增, 提升]
rules:
  - id: adv.metric-up
    kind: sequence
    type: advantage
    sequences:
      - [[$metrics], [$ups]]
    max_gap: 4
    exceptions: [规模以上]
  - id: adv.shared
    kind: sequence
    type: advantage
    description: uses the same word list as adv.metric-up, to check shared steps
    sequences:
      - [[$metrics], [$ups], [明显, 显著]]
    max_gap: [4, 0]
  - id: risk.three
    kind: sequence
    type: risk
    sequences:
      - [[可能, 或将], [导致, 引发], [损失, 亏损]]
    max_gap: [1, 6]
"""


def _write_pack(root: Path, rules: str, meta: str = PACK_YAML) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pack.yaml").write_text(meta, encoding="utf-8")
    (root / "rules.yaml").write_text(rules, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    root = _write_pack(tmp_path_factory.mktemp("pack") / "seq-test", RULES_YAML)
    return compile_rules([load_pack(root)])


def _hits(compiled, text: str) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    doc = normalize(text)
    found = match(compiled, doc.text, segment(doc), sentiment=False)
    return [(h.rule_id, doc.text[h.start:h.end]) for h in found.claim_cues]


def test_a_chain_of_steps_within_the_gap_is_a_hit(compiled) -> None:  # type: ignore[no-untyped-def]
    assert ("adv.metric-up", "营收同比增长") in _hits(compiled, "公司营收同比增长三成。")


def test_a_step_beyond_the_gap_or_across_a_clause_break_is_no_hit(compiled) -> None:  # type: ignore[no-untyped-def]
    assert _hits(compiled, "公司营收在过去的一年里增长。") == []  # 8 characters between
    assert _hits(compiled, "营收，增长。") == []  # a comma ends the clause


def test_the_longest_word_of_a_step_starts_the_chain(compiled) -> None:  # type: ignore[no-untyped-def]
    # 市场份额 and 份额 both occur; the chain takes the longer word that starts first.
    assert ("adv.metric-up", "市场份额大增") in _hits(compiled, "公司市场份额大增。")


def test_chains_do_not_overlap_and_run_left_to_right(compiled) -> None:  # type: ignore[no-untyped-def]
    hits = [h for h in _hits(compiled, "营收增长，收入增长，份额提升。") if h[0] == "adv.metric-up"]
    assert hits == [("adv.metric-up", "营收增长"), ("adv.metric-up", "收入增长"),
                    ("adv.metric-up", "份额提升")]


def test_a_word_list_shared_by_two_rules_serves_both(compiled) -> None:  # type: ignore[no-untyped-def]
    hits = _hits(compiled, "公司营收增长明显。")
    assert ("adv.metric-up", "营收增长") in hits
    assert ("adv.shared", "营收增长明显") in hits


def test_each_step_has_its_own_gap(compiled) -> None:  # type: ignore[no-untyped-def]
    assert ("risk.three", "可能会导致较大损失") in _hits(compiled, "这可能会导致较大损失。")
    # two characters between the first and the second step: more than its gap of 1
    assert [h for h in _hits(compiled, "这可能还会导致损失。") if h[0] == "risk.three"] == []


def test_a_hit_overlapping_an_exception_does_not_count(compiled) -> None:  # type: ignore[no-untyped-def]
    assert _hits(compiled, "规模以上收入增长。") == [("adv.metric-up", "收入增长")]
    # (规模以上 does not overlap 收入增长, so that hit stays; a metric inside it would not)


@pytest.mark.parametrize("fields, code", [
    ("sequences: [[[面临], [风险]]]\n    max_gap: 41", "CX113"),
    ("sequences: [[[面临], [风险]]]\n    max_gap: [1, 2]", "CX113"),
    ("sequences: [[[面临]]]", "CX112"),
    ("sequences: [[[面临], []]]", "CX124"),
    ("sequences: [[[$nope], [风险]]]", "CX121"),
    ("sequences: 面临", "CX112"),
])
def test_malformed_sequences_are_located_problems(tmp_path: Path, fields: str, code: str) -> None:
    rules = f"rules:\n  - id: r1\n    kind: sequence\n    type: risk\n    {fields}\n"
    root = _write_pack(tmp_path / "bad", rules)
    with pytest.raises(PackLoadError) as info:
        load_pack(root)
    assert [p.code for p in info.value.problems] == [code]
    assert info.value.problems[0].line >= 5


# ----------------------------------------------------------------- reference property

FRAGMENTS = ["营收", "收入", "市场", "份额", "市场份额", "增长", "大增", "提升", "明显", "，", "。",
             "的", "公司", "规模以上", "可能", "导致", "损失", "a"]


def _reference(text: str, steps: list[list[str]], gaps: list[int]) -> list[tuple[int, int]]:
    """The documented semantics, by brute force: the longest first-step word at each start,
    left to right; then for each later step the nearest word starting within its gap after
    the previous one with no clause break between (the longest of those starting there)."""

    def longest_at(words: list[str], start: int) -> int:
        ends = [start + len(w) for w in words if text.startswith(w, start)]
        return max(ends, default=-1)

    hits: list[tuple[int, int]] = []
    reached = -1
    for start in range(len(text)):
        end = longest_at(steps[0], start)
        if end < 0 or start < reached:
            continue
        for words, gap in zip(steps[1:], gaps):
            nxt = next((s for s in range(end, len(text)) if longest_at(words, s) >= 0), None)
            if (nxt is None or nxt - end > gap
                    or any(ch in _CLAUSE_BREAKS for ch in text[end:nxt])):
                end = -1
                break
            end = longest_at(words, nxt)
        if end >= 0:
            hits.append((start, end))
            reached = end
    return hits


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=14))
def test_sequence_hits_follow_the_reference(compiled, parts: list[str]) -> None:  # type: ignore[no-untyped-def]
    text = "".join(parts)
    doc = normalize(text)
    found = match(compiled, doc.text, segment(doc), sentiment=False)
    got = sorted((h.start, h.end) for h in found.claim_cues if h.rule_id == "adv.metric-up")
    want = [(s, e) for s, e in _reference(doc.text, [["营收", "收入", "市场份额", "份额"],
                                                      ["增长", "大增", "提升"]], [4])
            if not any(s < x + 4 and x < e for x in _find_all(doc.text, "规模以上"))]
    assert got == want


def _find_all(text: str, word: str) -> list[int]:
    return [m.start() for m in regex.finditer(regex.escape(word), text, overlapped=True)]


# ----------------------------------------------------------------- pattern match_at modes

MODES_YAML = """\
rules:
  - id: p.anywhere
    kind: pattern
    type: risk
    pattern: (?:面临|遭遇)[^,;。，；]{0,6}?(?:风险|挑战)
    anchors: [面临, 遭遇]
  - id: p.anchors
    kind: pattern
    type: risk
    pattern: (?:面临|遭遇)[^,;。，；]{0,6}?(?:风险|挑战)
    anchors: [面临, 遭遇]
    match_at: anchors
  - id: p.clauses
    kind: pattern
    type: advantage
    pattern: (?:持续|积极)?(?:推进|加强)
    anchors: [推进, 加强]
    match_at: clauses
    lead: 2
"""


@pytest.fixture(scope="module")
def modes(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return compile_rules([load_pack(_write_pack(tmp_path_factory.mktemp("m") / "modes",
                                                MODES_YAML))])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["面临", "遭遇", "风险", "挑战", "的", "较大", "，", "。", "公司"]),
                max_size=12))
def test_matching_at_anchors_finds_what_searching_finds(modes, parts: list[str]) -> None:  # type: ignore[no-untyped-def]
    """For a pattern that opens with its anchors, trying it only at the anchors loses
    nothing against searching the whole sentence."""
    doc = normalize("".join(parts))
    found = match(modes, doc.text, segment(doc), sentiment=False)
    anywhere = [(h.start, h.end) for h in found.claim_cues if h.rule_id == "p.anywhere"]
    anchored = [(h.start, h.end) for h in found.claim_cues if h.rule_id == "p.anchors"]
    assert anchored == anywhere


def test_matching_at_clauses_tries_clause_starts_only(modes) -> None:  # type: ignore[no-untyped-def]
    doc = normalize("持续推进改革，积极加强合作，公司将推进上市。")
    found = match(modes, doc.text, segment(doc), sentiment=False)
    got = [doc.text[h.start:h.end] for h in found.claim_cues if h.rule_id == "p.clauses"]
    # the third clause holds 推进 too, but not at its start (lead 2 keeps it from being tried)
    assert got == ["持续推进", "积极加强"]


@pytest.mark.parametrize("fields", ["match_at: somewhere", "lead: 3",
                                    "match_at: anywhere\n    lead: 3"])
def test_bad_match_at_or_lead_is_a_located_problem(tmp_path: Path, fields: str) -> None:
    rules = (f"rules:\n  - id: r1\n    kind: pattern\n    type: risk\n    pattern: 风险\n"
             f"    anchors: [风险]\n    {fields}\n")
    with pytest.raises(PackLoadError) as info:
        load_pack(_write_pack(tmp_path / "bad", rules))
    assert all(p.code == "CX113" and p.line > 0 for p in info.value.problems)


# ----------------------------------------------------------------- veto_unless, settling

VETO_YAML = """\
rules:
  - id: r.weak
    kind: lexicon
    type: risk
    cues: [压力较大]
    veto: [经济, 通胀]
    veto_unless: [公司, 集团]
  - id: a.strong
    kind: lexicon
    type: advantage
    cues: [优势明显]
  - id: a.contained
    kind: lexicon
    type: advantage
    cues: [既是挑战也是机遇]
  - id: r.challenge
    kind: lexicon
    type: risk
    cues: [挑战]
  - id: r.effect
    kind: lexicon
    type: risk
    cues: [转型]
  - id: a.push
    kind: lexicon
    type: advantage
    cues: [倒逼]
  - id: r.squeezed
    kind: lexicon
    type: risk
    cues: [政策倒逼零售商]
  - id: a.lies-in
    kind: lexicon
    type: advantage
    cues: [优势在于]
  - id: r.lawsuit
    kind: lexicon
    type: risk
    cues: [起诉]
    requires: [公司, 集团]
  - id: a.lift
    kind: lexicon
    type: advantage
    cues: [带动]
    not_clause_initial: true
  - id: a.record
    kind: lexicon
    type: advantage
    cues: [创新高]
    veto: [指数]
    veto_unless: [公司]
    veto_always: [力争]
"""


@pytest.fixture(scope="module")
def settled(tmp_path_factory: pytest.TempPathFactory) -> Extractor:
    meta = (PACK_YAML + "settings:\n  one_type_per_clause: true\n  causative_verbs: [倒逼]\n"
            "  complement_frames: [在于]\n"
            "  scene_clauses: [当…时]\n")
    root = _write_pack(tmp_path_factory.mktemp("v") / "veto", VETO_YAML, meta)
    return Extractor(packs=[root])


def test_a_veto_word_cancels_a_hit_unless_a_veto_unless_word_is_there_too(
        settled: Extractor) -> None:
    assert settled.extract("经济下行压力较大。") == []
    assert [c.rules for c in settled.extract("经济下行，集团经营压力较大。")] == [("r.weak",)]
    assert [c.rules for c in settled.extract("公司资金压力较大。")] == [("r.weak",)]


def test_veto_always_words_cancel_a_hit_whatever_veto_unless_says(settled: Extractor) -> None:
    assert settled.extract("指数创新高。") == []
    assert [c.rules for c in settled.extract("指数走强，公司营收创新高。")] == [("a.record",)]
    assert settled.extract("公司力争营收创新高。") == []


def test_a_veto_word_in_the_sentence_before_cancels_a_hit_too(settled: Extractor) -> None:
    # the topic carries over a sentence end (a quote after a report on the economy) …
    assert settled.extract("通胀仍在上升。他说：“压力较大。”") == []
    # … but not two sentences on, and a veto_unless word must stand in the hit's sentence
    assert [c.rules for c in settled.extract("通胀仍在上升。天气转冷。压力较大。")] == [("r.weak",)]
    assert [c.rules for c in settled.extract("通胀仍在上升。集团压力较大。")] == [("r.weak",)]


def test_a_rule_with_requires_stands_only_when_one_of_its_words_is_in_the_sentence(
        settled: Extractor) -> None:
    assert settled.extract("球迷起诉了裁判。") == []
    assert [c.rules for c in settled.extract("供应商起诉了公司。")] == [("r.lawsuit",)]
    # the word may sit anywhere in the sentence, before or after the cue
    assert [c.rules for c in settled.extract("起诉书已送达集团总部。")] == [("r.lawsuit",)]


def test_a_not_clause_initial_rule_needs_something_before_its_cue_in_the_clause(
        settled: Extractor) -> None:
    # a subjectless verb opening a clause or a list item is a directive, not an effect
    assert settled.extract("要扩大内需，带动消费。") == []
    assert settled.extract("稳就业、“带动消费”。") == []
    assert [c.rules for c in settled.extract("新车热销带动上游电池厂。")] == [("a.lift",)]
    # with 了 the effect is reported; its subject stands in the clause before
    assert [c.rules for c in settled.extract("新车热销，带动了上游电池厂。")] == [("a.lift",)]


def test_one_type_per_clause_gives_a_clause_to_its_last_cue(settled: Extractor) -> None:
    claims = settled.extract("品牌优势明显却面临挑战。")
    assert [str(c.type) for c in claims] == ["risk"]
    # in separate clauses both types stay
    claims = settled.extract("品牌优势明显，但仍面临挑战。")
    assert sorted(str(c.type) for c in claims) == ["advantage", "risk"]


def test_a_cue_inside_a_longer_cue_of_another_type_gives_way(settled: Extractor) -> None:
    claims = settled.extract("新规对行业既是挑战也是机遇。")
    assert [c.rules for c in claims] == [("a.contained",)]


def test_a_causative_takes_the_rest_of_its_clause(settled: Extractor) -> None:
    claims = settled.extract("低价策略倒逼零售商加快转型。")
    assert [c.rules for c in claims] == [("a.push",)]


def test_a_causative_keeps_its_clause_even_inside_a_longer_cue_of_another_type(
        settled: Extractor) -> None:
    # 政策|倒逼零售商…: the effect on others, not the retailers' own risk the longer cue names
    claims = settled.extract("新政策倒逼零售商加快转型。")
    assert [str(c.type) for c in claims] == ["advantage"]
    assert claims[0].rules == ("a.push",)


def test_a_scene_setting_clause_carries_no_claim_of_its_own(settled: Extractor) -> None:
    # 当…时 sets the time of the main clause: its cue is no claim …
    assert [c.rules for c in settled.extract("当公司压力较大时，品牌优势明显。")] == [("a.strong",)]
    # … but the same words as the main clause, or in a one-clause sentence, still are
    assert [c.rules for c in settled.extract("公司压力较大。")] == [("r.weak",)]
    assert [c.rules for c in settled.extract("品牌优势明显，当公司压力较大时")] == [
        ("a.strong",), ("r.weak",)]


def test_a_complement_frame_names_what_the_rest_of_its_clause_is(settled: Extractor) -> None:
    # without the frame the last cue (转型, a risk here) would keep the clause
    claims = settled.extract("公司的优势在于快速转型。")
    assert [c.rules for c in claims] == [("a.lies-in",)]
    # a cue of another type before the frame is not in its complement: the last cue rule holds
    claims = settled.extract("品牌优势明显却面临挑战。")
    assert [str(c.type) for c in claims] == ["risk"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(["优势明显", "挑战", "既是挑战也是机遇", "转型", "倒逼", "，", "优势在于", "政策倒逼零售商",
                                 "。", "公司", "却"]), max_size=10))
def test_no_clause_carries_two_claim_types(settled: Extractor, parts: list[str]) -> None:
    text = "".join(parts)
    analysis = settled.analyze(text)
    # Only one-for-one folding (，→,) happens here, so cue offsets index the clauses directly.
    assert len(analysis.normalized.text) == len(text)
    owners: dict[tuple[int, int], set[str]] = {}
    for claim in analysis.claims:
        for cue in claim.evidence.cues:
            for si, sentence in enumerate(analysis.sentences):
                for ci, clause in enumerate(sentence.clauses):
                    if clause.start <= cue.start < clause.end:
                        owners.setdefault((si, ci), set()).add(str(claim.type))
    assert all(len(types) == 1 for types in owners.values())


NEGATION_RULES = RULES_YAML + """\
  - id: mod.not
    kind: modifier
    category: negation
    cues: [不, 没有, 并未]
    direction: forward
    max_scope: 8
"""


@pytest.fixture(scope="module")
def with_negation(tmp_path_factory: pytest.TempPathFactory) -> Extractor:
    return Extractor([_write_pack(tmp_path_factory.mktemp("neg") / "seq-neg", NEGATION_RULES)])


def test_a_negator_between_the_steps_negates_the_claim(with_negation: Extractor) -> None:
    (claim,) = with_negation.extract("星河科技的营收并未增长。")
    assert (str(claim.type), claim.modality.value, claim.polarity.value) == (
        "advantage", "negated", "negative")
    assert [m.text for m in claim.evidence.modifiers] == ["并未"]


def test_a_negator_in_a_clause_ending_in_de_between_the_steps_does_not(
        with_negation: Extractor) -> None:
    # 可能|导致不良的|损失: the negator sits in an attributive clause before 的.
    (claim,) = with_negation.extract("此举可能导致不达标的损失。")
    assert claim.modality.value != "negated"


WORD_IN_GAP_RULES = NEGATION_RULES + """\
  - id: risk.trapped
    kind: sequence
    type: risk
    sequences:
      - [[陷入], [困局, 困境]]
    max_gap: 8
  - id: risk.growth-without-profit
    kind: lexicon
    type: risk
    cues: [增收不增利]
"""


@pytest.fixture(scope="module")
def word_in_gap(tmp_path_factory: pytest.TempPathFactory) -> Extractor:
    return Extractor([_write_pack(tmp_path_factory.mktemp("wig") / "seq-wig", WORD_IN_GAP_RULES)])


def test_a_negator_inside_a_cue_word_of_the_claim_negates_nothing(word_in_gap: Extractor) -> None:
    # 不 stands in the gap of 陷入…困局, but it is part of the word 增收不增利, a cue of the
    # same claim: the predicament is asserted, not denied.
    (claim,) = word_in_gap.extract("星河零售陷入“增收不增利”困局。")
    assert set(claim.rules) == {"risk.trapped", "risk.growth-without-profit"}
    assert (claim.modality.value, claim.polarity.value) == ("asserted", "negative")


def test_a_negator_in_the_gap_and_in_no_cue_word_still_negates(word_in_gap: Extractor) -> None:
    (claim,) = word_in_gap.extract("星河零售并未陷入困境。")
    assert (claim.rules, claim.modality.value) == (("risk.trapped",), "negated")
    # the word's own 不 is left out, a negator outside it is not
    (claim,) = word_in_gap.extract("星河零售并未陷入增收不增利的困局。")
    assert set(claim.rules) == {"risk.trapped", "risk.growth-without-profit"}
    assert claim.modality.value == "negated"
    assert [m.text for m in claim.evidence.modifiers] == ["并未"]


def test_the_gaps_of_a_sequence_hit_are_the_text_between_its_steps(compiled) -> None:  # type: ignore[no-untyped-def]
    doc = normalize("营收同比增长。")
    (hit,) = [h for h in match(compiled, doc.text, segment(doc), sentiment=False).claim_cues
              if h.rule_id == "adv.metric-up"]
    assert [doc.text[s:e] for s, e in hit.gaps] == ["同比"]
