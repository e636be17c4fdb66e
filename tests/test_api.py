"""The public facade: what ``import claimx`` promises, and the value classes' contracts."""

from __future__ import annotations

import attrs
import pytest

import claimx
from claimx import Claim, Evidence, Extractor, Modality, Polarity, Sentiment, SentimentLabel, Span

TEXTS = [
    "星河科技计划明年在东南亚新建两座数据中心，但汇率波动可能导致汇兑损失。",
    "这家初创公司能否撑过资本寒冬？",
    "该平台的核心优势在于庞大的用户基础。",
    "",
    "今天天气不错。",
]


def test_all_is_sorted_and_every_name_resolves() -> None:
    assert claimx.__all__ == sorted(claimx.__all__)
    assert len(set(claimx.__all__)) == len(claimx.__all__)
    for name in claimx.__all__:
        assert getattr(claimx, name) is not None, name


def test_public_symbols_have_docstrings() -> None:
    for name in claimx.__all__:
        obj = getattr(claimx, name)
        if callable(obj) and not isinstance(obj, str):
            assert obj.__doc__ and obj.__doc__.strip(), f"{name} has no docstring"


def _claim(**changes: object) -> Claim:
    fields: dict[str, object] = dict(type="risk", start=0, end=2, text="风险", polarity="negative",
                                     modality="asserted", subject=None, confidence=0.5)
    fields.update(changes)
    return Claim(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [
    _claim(), Span(0, 2, "风险", "risk", "r1"), Sentiment("negative", -0.5),
    Evidence(cues=(Span(0, 1, "a"),)),
])
def test_values_are_frozen(value: object) -> None:
    field = attrs.fields(type(value))[0].name
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        setattr(value, field, getattr(value, field))
    # Slotted: no stray attributes can be attached to a value either.
    with pytest.raises((AttributeError, attrs.exceptions.FrozenInstanceError)):
        value.extra = 1  # type: ignore[attr-defined]


@pytest.mark.parametrize("bad", [-0.01, 1.01, float("nan")])
def test_claim_rejects_confidence_outside_unit_interval(bad: float) -> None:
    with pytest.raises(ValueError, match="confidence"):
        _claim(confidence=bad)


def test_claim_and_span_reject_end_before_start_and_negative_start() -> None:
    with pytest.raises(ValueError, match="end"):
        _claim(start=3, end=2)
    with pytest.raises(ValueError, match="start"):
        _claim(start=-1)
    with pytest.raises(ValueError, match="end"):
        Span(5, 4, "")


def test_claim_rejects_unknown_polarity_and_modality() -> None:
    with pytest.raises(ValueError):
        _claim(polarity="sad")
    with pytest.raises(ValueError):
        _claim(modality="maybe")


def test_claim_converts_strings_to_enums() -> None:
    c = _claim(polarity="mixed", modality="hedged")
    assert c.polarity is Polarity.MIXED and c.modality is Modality.HEDGED
    assert str(c.polarity) == "mixed"


@pytest.mark.parametrize("bad", [1.5, -1.01, float("nan")])
def test_sentiment_rejects_score_outside_range(bad: float) -> None:
    with pytest.raises(ValueError, match="score"):
        Sentiment("neutral", bad)
    with pytest.raises(ValueError):
        Sentiment("happy", 0.0)


def _claim_from_dict(d: dict) -> Claim:
    evidence = d.get("evidence")
    ev = Evidence(
        cues=tuple(Span(**s) for s in evidence["cues"]),
        modifiers=tuple(Span(**s) for s in evidence["modifiers"]),
        confidence_steps=tuple(evidence["confidence_steps"])) if evidence else Evidence()
    return Claim(type=d["type"], start=d["start"], end=d["end"], text=d["text"],
                 polarity=d["polarity"], modality=d["modality"], subject=d["subject"],
                 confidence=d["confidence"], rules=tuple(d["rules"]), evidence=ev)


def test_to_dict_round_trips_real_claims() -> None:
    import json

    claims = [c for t in TEXTS for c in claimx.extract(t)]
    assert claims, "the sample texts should yield claims"
    for c in claims:
        d = json.loads(json.dumps(c.to_dict(with_evidence=True), ensure_ascii=False))
        back = _claim_from_dict(d)
        # to_dict rounds confidence to 4 places; everything else survives exactly.
        assert back == attrs.evolve(c, confidence=round(c.confidence, 4))
        assert set(c.to_dict()) == {"type", "start", "end", "text", "polarity", "modality",
                                    "subject", "confidence", "rules"}


def test_sentiment_to_dict_and_facade() -> None:
    s = claimx.sentiment("公司业绩大幅下滑，股价暴跌。")
    assert isinstance(s, Sentiment)
    assert s.label is SentimentLabel.NEGATIVE and -1.0 <= s.score < 0
    d = s.to_dict()
    assert d["label"] == "negative" and isinstance(d["evidence"], list)


def test_extractor_accepts_a_single_pack_name_string() -> None:
    ex = Extractor(packs="zh-business")
    assert ex.pack_names == ("zh-business",)
    assert [p.name for p in ex.packs] == ["zh-business"]
    assert ex.extract(TEXTS[0]) == claimx.extract(TEXTS[0])


@pytest.mark.parametrize("bad", [b"\xe9\xa3\x8e\xe9\x99\xa9", bytearray(b"abc"), None, 42])
def test_non_str_input_raises_type_error(bad: object) -> None:
    with pytest.raises(TypeError, match="str"):
        claimx.extract(bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        claimx.sentiment(bad)  # type: ignore[arg-type]


def test_pipe_equals_extract_per_text_and_is_lazy() -> None:
    ex = Extractor()
    assert list(ex.pipe(TEXTS)) == [ex.extract(t) for t in TEXTS]
    consumed: list[str] = []

    def source():
        for t in TEXTS:
            consumed.append(t)
            yield t

    stream = ex.pipe(source())
    next(stream)
    assert consumed == TEXTS[:1]


def test_bad_on_rule_timeout_value_is_rejected() -> None:
    with pytest.raises(ValueError, match="on_rule_timeout"):
        Extractor(on_rule_timeout="ignore")


def test_unknown_pack_name_is_a_located_pack_error() -> None:
    with pytest.raises(claimx.PackLoadError) as info:
        Extractor(packs=["no-such-pack-xyz"])
    assert [p.code for p in info.value.problems] == ["CX103"]
    assert "no-such-pack-xyz" in str(info.value)


def test_analyze_exposes_each_stage() -> None:
    a = Extractor().analyze(TEXTS[0])
    assert a.normalized.original == TEXTS[0]
    assert a.sentences and a.matches.claim_cues
    assert list(a.claims) == claimx.extract(TEXTS[0])
    assert a.sentiment == claimx.sentiment(TEXTS[0])


def test_available_packs_lists_the_bundled_pack() -> None:
    packs = claimx.available_packs()
    assert "zh-business" in packs
    assert (packs["zh-business"] / "pack.yaml").is_file()
    pack = claimx.load_pack("zh-business")
    assert set(claimx.CLAIM_TYPES) <= set(pack.claim_types)


def test_lead_in_text_is_context_only() -> None:
    # Written for this test: a first sentence that is tagged and scored on its own, then a
    # window after it.
    before = "星河科技营收同比大增，业绩亮眼。"
    window = "受需求疲软影响，远航物流面临库存积压的风险。"
    extractor = claimx.default_extractor()
    whole = extractor.analyze(before + window)
    part = extractor.analyze(before + window, lead_in=len(before))
    alone = extractor.analyze(window)
    # no claim from the context, the window's claims as in one pass …
    assert [c.start for c in part.claims] == [c.start for c in whole.claims
                                              if c.start >= len(before)]
    assert all(c.start >= len(before) for c in part.claims) and part.claims
    # … and the sentiment of the window alone: the context's positive words add nothing
    assert whole.sentiment.score > part.sentiment.score
    assert part.sentiment.score == pytest.approx(alone.sentiment.score)
