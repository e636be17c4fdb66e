"""Properties of ``claimx.extract`` over arbitrary text, hostile regexes, and the seed article."""

from __future__ import annotations

import re
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import opencc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import claimx
from claimx import Claim, Extractor, RuleTimeoutError

from conftest import BACKTRACKING_RULES, BACKTRACKING_TEXT, SHARED

# Cue words of every claim type and modifier, so that claims actually fire amid the noise.
CUES = ["计划", "优势", "风险", "可能", "能否", "加剧竞争", "公司", "拟", "领先", "亏损", "下滑",
        "或将", "并未", "不", "但", "集团", "布局", "挑战", "市场份额", "推出", "？", "。", "，",
        "：", "优势：", "是否", "有望", "导致", "损失"]
NOISE = ["\u0301", "\u200b", "\ufeff", "\x00", "\x07", "\r\n", "\u3000", "😀", "👩‍👩‍👧",
         "\ud800", "\udfff", "ＡＢＣ１２", "（", "）", "(wǎng)", "網", "經", "\u2028", " ", "\t"]
TEXTS = st.lists(st.one_of(st.sampled_from(CUES), st.sampled_from(NOISE), st.text(max_size=6)),
                 max_size=40).map("".join)


def check_claims(text: str, claims: list[Claim]) -> None:
    """The span contract every caller relies on."""
    assert claims == sorted(claims, key=lambda c: c.start)
    for c in claims:
        assert 0 <= c.start <= c.end <= len(text)
        assert text[c.start:c.end] == c.text
        assert 0.0 <= c.confidence <= 1.0
        assert c.rules
        for span in c.evidence.cues + c.evidence.modifiers:
            assert text[span.start:span.end] == span.text


@given(TEXTS)
def test_extract_never_raises_and_spans_hold(text: str) -> None:
    claims = claimx.extract(text)
    check_claims(text, claims)
    assert claimx.extract(text) == claims  # deterministic
    s = claimx.sentiment(text)
    assert -1.0 <= s.score <= 1.0


@given(st.text())
def test_extract_on_any_unicode_string(text: str) -> None:
    check_claims(text, claimx.extract(text))


_OTHER = Extractor()


@given(TEXTS)
def test_two_extractors_agree(text: str) -> None:
    assert _OTHER.extract(text) == Extractor(packs=["zh-business"]).extract(text)


@settings(max_examples=300)
@given(TEXTS)
def test_extract_equals_the_claims_of_a_full_analysis(text: str) -> None:
    # extract() skips sentiment words and the scopes of modifiers far from any claim cue;
    # what it returns must be exactly what the full analysis finds.
    assert _OTHER.extract(text) == list(_OTHER.analyze(text).claims)


def test_hundred_thousand_characters_of_noise() -> None:
    text = ("😀\u0301ab \u200b網(wǎng)\ud800\x07" * 10_000)[:100_000]
    check_claims(text, claimx.extract(text))


@settings(max_examples=20)
@given(st.lists(st.sampled_from(CUES + NOISE), min_size=1, max_size=10).map("".join))
def test_hundred_thousand_character_lines(unit: str) -> None:
    # One "sentence" with no stop at all, as a scraped page can be.
    text = (unit.replace("。", "").replace("？", "").replace("\r\n", "") * (100_000 // len(unit) + 1))[:100_000]
    claims = claimx.extract(text)
    check_claims(text, claims)


def test_long_line_of_real_cues_gives_claims() -> None:
    text = ("该公司计划进军海外市场，但面临汇率风险，" * 5000)[:100_000]
    claims = claimx.extract(text)
    check_claims(text, claims)
    assert {c.type for c in claims} >= {"strategic_intent", "risk"}


# --------------------------------------------------------------------------- robustness to noise

CLEAN = ["星河科技计划明年在东南亚新建两座数据中心。",
         "汇率波动可能导致该集团出现汇兑损失。",
         "该平台的核心优势在于庞大的用户基础。",
         "这家初创公司能否撑过资本寒冬？",
         "行业整合将加剧竞争，中小厂商面临出清压力。"]
PINYIN = {"网": "wǎng", "经": "jīng", "计": "jì", "划": "huà", "风": "fēng", "险": "xiǎn",
          "优": "yōu", "势": "shì", "竞": "jìng", "争": "zhēng", "平": "píng", "台": "tái"}
_ANNOTATION = re.compile(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)")


def _claim_view(claims: list[Claim], unmap=lambda s: s) -> list[tuple]:
    return [(str(c.type), unmap(c.text), str(c.modality), str(c.polarity)) for c in claims]


@given(st.sampled_from(CLEAN), st.lists(st.booleans(), min_size=40, max_size=40))
def test_pinyin_annotations_do_not_move_claims(clean: str, where: list[bool]) -> None:
    noisy = "".join(ch + (f"({PINYIN[ch]})" if ch in PINYIN and where[i % 40] else "")
                    for i, ch in enumerate(clean))
    got = claimx.extract(noisy)
    check_claims(noisy, got)
    for c in got:  # never starts or ends inside an annotation
        assert not c.text.startswith("(") and not re.search(r"\([a-zǎāáà]*$", c.text)
    assert _claim_view(got, lambda s: _ANNOTATION.sub("", s)) == _claim_view(claimx.extract(clean))


_S2T = opencc.OpenCC("s2t")
_T2S = opencc.OpenCC("t2s")


@pytest.mark.parametrize("clean", CLEAN)
def test_traditional_script_gives_the_same_claims(clean: str) -> None:
    traditional = _S2T.convert(clean)
    assert traditional != clean or clean == _T2S.convert(clean)
    got = claimx.extract(traditional)
    check_claims(traditional, got)
    expected = claimx.extract(clean)
    assert expected, clean
    assert _claim_view(got, _T2S.convert) == _claim_view(expected)
    # s2t keeps one character per character, so spans coincide exactly.
    assert [(c.start, c.end) for c in got] == [(c.start, c.end) for c in expected]


def test_thread_safety_equals_sequential() -> None:
    texts = [t * k for t in CLEAN for k in (1, 3, 7)] + [_S2T.convert(t) for t in CLEAN]
    texts = texts * 8
    # `regex` times a call by the process CPU clock, which counts every thread's CPU (a
    # RuleTimeoutError seen once in CI, eight threads on a loaded machine). claimx now runs
    # such a call again with room (test_regex_budget: threads matching at once); this test
    # is about shared state, not timeouts, so it gives each call room as well, and the
    # outputs must be equal.
    ex = Extractor(regex_timeout=5.0)
    sequential = [ex.extract(t) for t in texts]
    with ThreadPoolExecutor(max_workers=8) as pool:
        parallel = list(pool.map(ex.extract, texts))
    assert parallel == sequential
    with ThreadPoolExecutor(max_workers=4) as pool:  # fresh extractors built concurrently
        built = list(pool.map(lambda t: Extractor(regex_timeout=5.0).extract(t), texts[:20]))
    assert built == sequential[:20]


# --------------------------------------------------------------------------- hostile regexes

@pytest.fixture(scope="module")
def hostile_pack() -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "hostile"
        root.mkdir()
        (root / "pack.yaml").write_text(
            "name: hostile\nversion: '1'\nlanguage: zh\nclaim_types: {risk: {polarity: negative}}\n",
            encoding="utf-8")
        (root / "rules.yaml").write_text(BACKTRACKING_RULES, encoding="utf-8")
        yield root


def test_catastrophic_regex_times_out_naming_the_rule(hostile_pack: Path) -> None:
    ex = Extractor(packs=[hostile_pack], regex_timeout=0.05)
    # 900 a's then a b: one sentence (longer ones are cut at 1,000 characters), and
    # (a+)+$ backtracks through 2^900 ways of splitting the run before giving up.
    text = BACKTRACKING_TEXT
    began = time.perf_counter()
    with pytest.raises(RuleTimeoutError) as info:
        ex.extract(text)
    assert time.perf_counter() - began < 5  # the timeout, not the backtracking, decided
    assert info.value.rule_id == "user.catastrophic"
    assert "user.catastrophic" in str(info.value) and "rules.yaml:2:" in str(info.value)
    assert "on_rule_timeout='skip'" in str(info.value)


def test_catastrophic_regex_skipped_when_asked(hostile_pack: Path) -> None:
    ex = Extractor(packs=[hostile_pack], regex_timeout=0.05, on_rule_timeout="skip")
    text = BACKTRACKING_TEXT + "后来风险加大。"
    claims = ex.extract(text)
    check_claims(text, claims)
    # The other sentences are still tagged by the well-behaved rule.
    assert [c.text for c in claims] == ["存在风险", "后来风险加大"]


# --------------------------------------------------------------------------- the seed article

SEED = SHARED / "corpora" / "seed-article.txt"


@pytest.mark.skipif(not SEED.is_file(), reason="../shared corpora not present")
def test_seed_article_acceptance() -> None:
    raw = SEED.read_text(encoding="utf-8")
    claims = claimx.extract(raw)
    check_claims(raw, claims)
    assert {str(c.type) for c in claims} == set(claimx.CLAIM_TYPES)
    hedged = [c for c in claims if c.modality == "hedged"]
    questions = [c for c in claims if c.modality == "question"]
    assert hedged and questions
    # Hedged where the text hedges: each hedged claim's evidence holds a hedge cue.
    hedge_cues = {"可能", "或", "或将", "或迎", "或加剧", "有望", "预示", "若", "如果"}
    assert any(any(m.label == "hedge" for m in c.evidence.modifiers) for c in hedged)
    assert sum(any(h in _T2S.convert(c.text) for h in hedge_cues) for c in hedged) >= len(hedged) // 2
    # Questions on its questions: the sentence ends in a question mark or asks 能否/是否/如何.
    for c in questions:
        tail = raw[c.end:c.end + 40]
        assert "？" in tail or "?" in tail or re.search("能否|是否|如何", _T2S.convert(c.text))
