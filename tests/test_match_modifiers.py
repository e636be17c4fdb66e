"""Modifier hits of the matching stage (claimx/match.py): every occurrence of a modifier word,
except one lying inside a longer occurrence of the same category (并不 is one negator, not
并不 plus the 不 inside it), checked against a naive reference."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claimx import extract
from claimx.match import compile_rules, match
from claimx.normalize import normalize
from claimx.packs import load_pack
from claimx.segment import segment

PACK_YAML = """\
name: modifier-test
version: "0.1.0"
language: zh
claim_types:
  risk: {polarity: negative, description: test}
"""

RULES_YAML = """\
rules:
  - id: r.risk
    kind: lexicon
    type: risk
    description: a cue for the modifiers to reach
    cues: [下滑]
  - id: m.short
    kind: modifier
    category: negation
    description: short negators
    cues: [不, 未]
    direction: forward
  - id: m.long
    kind: modifier
    category: negation
    description: longer negators holding the short ones
    cues: [并不, 并未, 不会]
    direction: forward
  - id: m.hedge
    kind: modifier
    category: hedge
    description: a hedge that holds a negator's character (another category)
    cues: [不排除, 可能]
    direction: forward
"""

WORDS = {"m.short": ("negation", ["不", "未"]), "m.long": ("negation", ["并不", "并未", "不会"]),
         "m.hedge": ("hedge", ["不排除", "可能"])}
FRAGMENTS = ["不", "未", "并", "会", "排除", "可能", "下滑", "公司", "。", "，"]


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    root: Path = tmp_path_factory.mktemp("pack") / "modifier-test"
    root.mkdir()
    (root / "pack.yaml").write_text(PACK_YAML, encoding="utf-8")
    (root / "rules.yaml").write_text(RULES_YAML, encoding="utf-8")
    return compile_rules([load_pack(root)])


def _reference(text: str) -> list[tuple[int, int, str]]:
    every = []
    for rule_id, (category, words) in WORDS.items():
        for word in words:
            i = text.find(word)
            while i >= 0:
                every.append((i, i + len(word), rule_id, category))
                i = text.find(word, i + 1)
    return sorted((s, e, r) for s, e, r, c in every
                  if not any(c2 == c and s2 <= s and e <= e2 and e2 - s2 > e - s
                             for s2, e2, _, c2 in every))


@settings(max_examples=300)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=30).map("".join))
def test_modifier_hits_are_the_outermost_of_each_category(compiled, text: str) -> None:  # type: ignore[no-untyped-def]
    result = match(compiled, text, segment(normalize(text)))
    assert [(h.start, h.end, h.rule.id) for h in result.modifiers] == _reference(text)


def test_a_claim_lists_a_nested_negator_once() -> None:
    (claim,) = extract("星河科技并不打算收购华辰医药。")
    assert claim.modality.value == "negated"
    assert [m.text for m in claim.evidence.modifiers] == ["并不"]
