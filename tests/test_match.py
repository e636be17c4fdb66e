"""The matching stage (claimx/match.py) against a naive reference: every occurrence of every
cue word, overlaps included, minus those inside an exception, in (start, end, rule id) order;
pattern rules only in sentences holding one of their anchors."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claimx.match import compile_rules, match
from claimx.normalize import normalize
from claimx.packs import load_pack
from claimx.segment import segment

PACK_YAML = """\
name: match-test
version: "0.1.0"
language: zh
claim_types:
  risk: {polarity: negative, description: test}
  advantage: {polarity: positive, description: test}
"""

RULES_YAML = """\
rules:
  - id: b.risk
    kind: lexicon
    type: risk
    description: nested and overlapping cue words
    cues: [风险, 汇率风险, 率风, 险]
    exceptions: [风险投资]
  - id: a.adv
    kind: lexicon
    type: advantage
    description: shares words with b.risk on purpose
    cues: [优势, 风险, 😀优]
  - id: c.pattern
    kind: pattern
    type: risk
    description: a pattern with anchors
    pattern: 可能(?:导致|引发)损失
    anchors: [导致, 引发]
"""

CUES = {"b.risk": ["风险", "汇率风险", "率风", "险"], "a.adv": ["优势", "风险", "😀优"]}
EXCEPTIONS = {"b.risk": ["风险投资"], "a.adv": []}
FRAGMENTS = ["风险", "汇率", "投资", "优势", "险", "率", "😀", "优", "可能", "导致", "损失", "。",
             ",", "公司", "\ud800", "a"]


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    root: Path = tmp_path_factory.mktemp("pack") / "match-test"
    root.mkdir()
    (root / "pack.yaml").write_text(PACK_YAML, encoding="utf-8")
    (root / "rules.yaml").write_text(RULES_YAML, encoding="utf-8")
    return compile_rules([load_pack(root)])


def _occurrences(text: str, word: str) -> list[tuple[int, int]]:
    out, i = [], text.find(word)
    while i >= 0:
        out.append((i, i + len(word)))
        i = text.find(word, i + 1)
    return out


def _reference_lexicon(text: str) -> list[tuple[int, int, str]]:
    found = []
    for rule_id, cues in CUES.items():
        blocked = [span for w in EXCEPTIONS[rule_id] for span in _occurrences(text, w)]
        for cue in cues:
            for s, e in _occurrences(text, cue):
                if not any(bs <= s and e <= be for bs, be in blocked):
                    found.append((s, e, rule_id))
    return sorted(found)


@settings(max_examples=300)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join))
def test_lexicon_hits_equal_the_naive_reference(compiled, text: str) -> None:  # type: ignore[no-untyped-def]
    result = match(compiled, text, segment(normalize(text)))
    got = [(h.start, h.end, h.rule.id) for h in result.claim_cues if h.rule.id != "c.pattern"]
    assert got == _reference_lexicon(text)
    # The documented order: (start, end, rule id), whatever the source of the hit.
    keys = [(h.start, h.end, h.rule.id) for h in result.claim_cues]
    assert keys == sorted(keys)


def test_offsets_are_code_points_after_astral_characters(compiled) -> None:  # type: ignore[no-untyped-def]
    text = "😀😀优势"
    hits = [(h.start, h.end, h.rule.id) for h in match(compiled, text, ()).claim_cues]
    assert (1, 3, "a.adv") in hits and (2, 4, "a.adv") in hits
    assert text[2:4] == "优势"


def test_lone_surrogates_do_not_break_matching(compiled) -> None:  # type: ignore[no-untyped-def]
    text = "\ud800风险\udfff"
    hits = [(h.start, h.end, h.rule.id) for h in match(compiled, text, ()).claim_cues]
    assert (1, 3, "a.adv") in hits and (1, 3, "b.risk") in hits


def test_pattern_rules_run_only_in_sentences_holding_an_anchor(compiled) -> None:  # type: ignore[no-untyped-def]
    text = "公司可能导致损失。公司可能引发损失。"
    doc = normalize(text)
    hits = [(h.start, h.end) for h in match(compiled, doc.text, segment(doc)).claim_cues
            if h.rule.id == "c.pattern"]
    assert hits == [(2, 8), (11, 17)]


def test_a_large_lexicon_still_finds_every_cue(tmp_path: Path) -> None:
    rng = random.Random(3)
    words = sorted({"".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(rng.randint(2, 4)))
                    for _ in range(20_000)})
    root = tmp_path / "big"
    root.mkdir()
    (root / "pack.yaml").write_text(PACK_YAML.replace("match-test", "big"), encoding="utf-8")
    (root / "rules.yaml").write_text(
        "rules:\n  - id: big\n    kind: lexicon\n    type: risk\n    description: many cues\n"
        f"    cues: [{', '.join(words)}]\n", encoding="utf-8")
    compiled = compile_rules([load_pack(root)])
    picked = rng.sample(words, 50)
    text = "。".join(picked)
    spans = {(h.start, h.end) for h in match(compiled, text, ()).claim_cues}
    pos = 0
    for w in picked:
        assert (pos, pos + len(w)) in spans
        pos += len(w) + 1


def test_compiled_rules_pickle_and_match_the_same(compiled) -> None:  # type: ignore[no-untyped-def]
    import pickle

    text = "汇率风险😀优势,风险投资。"
    again = pickle.loads(pickle.dumps(compiled))

    def key(result):  # type: ignore[no-untyped-def]
        return [(h.start, h.end, h.rule.id) for h in result.claim_cues]
    assert key(match(again, text, ())) == key(match(compiled, text, ()))


_spans = st.lists(st.tuples(st.integers(0, 60), st.integers(1, 8)).map(lambda t: (t[0], t[0] + t[1])),
                  max_size=12)


@given(spans=_spans, start=st.integers(0, 70), length=st.integers(1, 10))
def test_span_cover_answers_like_a_scan(spans: list[tuple[int, int]], start: int,
                                        length: int) -> None:
    # _Cover replaced per-match scans of all exception spans (quadratic on a document that
    # repeats one exception word); it must answer exactly as the scan did.
    from claimx.match import _Cover
    end = start + length
    cover = _Cover(spans)
    assert cover.overlaps(start, end) == any(s < end and start < e for s, e in spans)
    assert cover.covers(start, end) == any(s <= start and end <= e for s, e in spans)
