"""One huge document (issue 15): ``claimx tag`` reads it a window of whole sentences at a
time, with exactly the claims and sentiment of one pass over the whole text, and
``claimx explain`` explains the start of it and says so. Peak memory is measured in
benchmarks/bench.py (the ``huge`` section), not here."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claimx.cli import tag

# Sentences written for these tests: intents, hedged and negated risks, an advantage, a
# question, a quote that closes after 。, traditional script with an inline pinyin note,
# a heading clause, full-width marks, and plain facts.
SENTENCES = [
    "光明电子计划明年在越南新建两座工厂。",
    "但原材料价格上涨可能导致毛利率下降。",
    "该公司并未出现流动性风险。",
    "凭借领先的电池技术，公司在储能市场位居行业第一。",
    "新政策能否推动整个储能行业加速洗牌？",
    "董事长表示：“公司将加大研发投入。”",
    "該集團計劃擴大產能，網(wǎng)店業務則面臨較大壓力。",
    "优势：远航物流拥有覆盖全国的仓储网络。",
    "受需求疲软影响，该厂商面临库存积压的风险！",
    "本季度销售平稳。",
    "ＡＢＣ公司宣布，2026年推出三款新车型。",
    "公司承诺继续降本增效\n",
]


@pytest.fixture(scope="module", autouse=True)
def extractor() -> None:
    tag._setup(["zh-business"], with_evidence=True)


def _whole(text: str) -> tuple[list[dict], dict]:
    analysis = tag._extractor.analyze(text)
    mood = analysis.sentiment
    return ([c.to_dict(with_evidence=True) for c in analysis.claims],
            {"label": mood.label.value, "score": round(mood.score, 4)})


def test_windows_cover_the_text_and_end_at_sentence_ends() -> None:
    text = "".join(SENTENCES * 40)
    spans = list(tag.windows(text, 300))
    assert spans[0][0] == 0 and spans[-1][1] == len(text) and len(spans) > 5
    for (_, end), (start, _) in zip(spans, spans[1:]):
        assert end == start and text[end - 1] == "。" and "\u4e00" <= text[end] <= "\u9fff"
    assert all(end - start <= 300 for start, end in spans[:-1])
    assert list(tag.windows(text[:200], 300)) == [(0, 200)]


def test_a_text_without_sentence_ends_is_one_window() -> None:
    text = "公司计划扩产，" * 100
    assert list(tag.windows(text, 50)) == [(0, len(text))]
    # A window with no sentence end runs on to the first one after it.
    longer = text + "。公司面临风险。" + "公司计划扩产。" * 20
    spans = list(tag.windows(longer, 50))
    assert spans[0] == (0, len(text) + 1)
    assert spans[-1][1] == len(longer) and all(b - a <= 50 for a, b in spans[1:])


def test_windowed_claims_and_sentiment_equal_one_pass_over_the_whole_text() -> None:
    text = "".join(SENTENCES * 30)
    claims, mood = tag._tag_text(text, window=400)
    whole_claims, whole_mood = _whole(text)
    assert len(list(tag.windows(text, 400))) > 10
    assert claims == whole_claims and len(claims) > 60
    assert mood == whole_mood
    assert all(text[c["start"]:c["end"]] == c["text"] for c in claims)
    for c in claims:  # evidence offsets moved with their windows too
        assert all(text[s["start"]:s["end"]] == s["text"]
                   for s in c["evidence"]["cues"] + c["evidence"]["modifiers"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(SENTENCES), min_size=1, max_size=60),
       st.integers(min_value=20, max_value=400))
def test_any_document_tags_the_same_in_windows(picked: list[str], window: int) -> None:
    text = "".join(picked)
    assert tag._tag_text(text, window=window) == _whole(text)


def test_explain_on_a_huge_text_explains_its_start_and_says_so() -> None:
    text = "".join(SENTENCES * 2000)  # 24,000 sentences, 434,000 characters
    done = subprocess.run([sys.executable, "-m", "claimx", "explain", "-"],
                          input=text.encode("utf-8"), capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr.decode()
    out = done.stdout.decode("utf-8")
    first = out.splitlines()[0]
    assert first.startswith("claimx explain: the text has ") and f"{len(text):,}" in first
    assert "explaining the first" in first and "claimx tag" in first
    assert len(out) < 4_000_000
    short = subprocess.run([sys.executable, "-m", "claimx", "explain", SENTENCES[0]],
                           capture_output=True, timeout=300).stdout.decode("utf-8")
    assert not short.startswith("claimx explain: the text has")
