"""Sentence sentiment of the default pack: modifiers that reach sentiment words (negation
counted once for nested negators, and quantities whose rise is bad news). The sentences are
written for these tests."""

from __future__ import annotations

import pytest

import claimx
from claimx import Extractor


@pytest.mark.parametrize(("text", "label"), [
    ("该公司今年的业绩并不乐观。", "negative"),   # 并不 and the 不 inside it: one negation
    ("该公司今年的业绩不乐观。", "negative"),
    ("这家工厂的利润并未下滑。", "positive"),
    ("这家工厂的利润未下滑。", "positive"),
])
def test_a_negator_inside_a_longer_one_negates_once(text: str, label: str) -> None:
    assert claimx.sentiment(text).label.value == label


@pytest.mark.parametrize(("text", "label"), [
    ("受上游影响，该厂原材料成本大幅上涨。", "negative"),
    ("今年以来该行的不良贷款率持续下降。", "positive"),
    ("上月全市城镇调查失业率回落。", "positive"),
    ("该国上季度贸易逆差明显扩大并创下新高。", "negative"),
    ("这家乳企的营业收入稳步增长。", "positive"),       # no unwanted quantity: as before
])
def test_a_rise_in_an_unwanted_quantity_reads_badly(text: str, label: str) -> None:
    assert claimx.sentiment(text).label.value == label


def test_the_reversal_stops_at_a_causal_verb() -> None:
    # 成本上涨 is bad, and so is the fall in profit it causes: the reversal reaches 上涨
    # only, not 下滑 after 导致.
    evidence = claimx.sentiment("运输成本上涨导致利润下滑。").evidence
    assert ("上涨", "negative") in [(e.text, e.label) for e in evidence]
    assert any(e.text.endswith("下滑") for e in evidence)
    assert {e.label for e in evidence} == {"negative"}


def test_sentiment_only_modifiers_touch_no_claim() -> None:
    text = "星河物流的运输成本具有明显优势。"  # 运输成本 reaches the cue 具有明显优势
    claims = Extractor().analyze(text).claims
    assert claims
    for claim in claims:
        assert all(m.label != "unwanted_quantity" for m in claim.evidence.modifiers)
