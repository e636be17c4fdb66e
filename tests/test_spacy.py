"""The ``claimx`` spaCy component (claimx/spacy_component.py): spans and extensions on
``spacy.blank("zh")``, parity with ``claimx.extract``, ``n_process=2``, the disk round trip,
displacy, token rules inside spaCy, and the entry point."""

from __future__ import annotations

import json
import pickle
from importlib.metadata import entry_points
from pathlib import Path

import pytest
import spacy
from spacy import displacy
from spacy.tokens import Doc, DocBin

from conftest import TOKEN_PACK

import claimx
from claimx.spacy_component import ClaimxComponent, claim_from_data, claim_to_data
from claimx.tokens import TokenRulesInactiveWarning

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"

# Sentences written for these tests: plans, strengths, risks, hedges, negation, questions,
# traditional script and full-width punctuation.
OWN_TEXTS = [
    "星河科技计划明年在东南亚新建两座数据中心，但汇率波动可能导致汇兑损失。",
    "该行正加速布局县域普惠金融市场。",
    "这家车企拥有领先的电池技术和完整的供应链。",
    "公司并未放弃海外扩张计划吗？",
    "受原材料涨价影响，下游家电厂商的利润空间被进一步压缩。",
    "市場擔心該集團的債務風險會繼續擴大。",
    "平台希望借助直播业务吸引更多年轻用户；不过，监管趋严或将抑制其增长。",
    "今天天气晴朗。",
    "",
]


def _dev_texts() -> list[str]:
    texts: list[str] = []
    for name in ("claims-dev.jsonl", "claims-dev-noisy.jsonl"):
        path = SHARED / "corpora" / name
        if path.is_file():
            with path.open(encoding="utf-8") as fh:
                texts.extend(json.loads(line)["text"] for line in fh if line.strip())
    return texts


@pytest.fixture(scope="module")
def nlp() -> spacy.Language:
    pipeline = spacy.blank("zh")
    pipeline.add_pipe("claimx", config={"packs": ["zh-business"]})
    return pipeline


def _claims_of(doc: Doc, key: str = "claims") -> list[claimx.Claim]:
    return [span._.claim for span in doc.spans[key]]


# --------------------------------------------------------------------------- the component


def test_component_on_blank_zh(nlp: spacy.Language) -> None:
    text = OWN_TEXTS[0]
    doc = nlp(text)
    spans = list(doc.spans["claims"])
    assert [s.label_ for s in spans] == ["strategic_intent", "risk"]
    for span in spans:
        claim = span._.claim
        assert isinstance(claim, claimx.Claim)
        assert span.label_ == claim.type
        assert span.start_char <= claim.start and claim.end <= span.end_char
        assert text[claim.start:claim.end] == claim.text
    assert spans[1]._.claim.modality == claimx.Modality.HEDGED
    assert doc._.claimx_sentiment == claimx.sentiment(text)


def test_spans_key_is_configurable() -> None:
    pipeline = spacy.blank("zh")
    pipeline.add_pipe("claimx", config={"spans_key": "cx"})
    doc = pipeline(OWN_TEXTS[1])
    assert "claims" not in doc.spans
    assert _claims_of(doc, "cx") == claimx.extract(OWN_TEXTS[1])


@pytest.mark.parametrize(("config", "message"), [
    ({"segmenter": "thulac"}, "segmenter must be one of"),
    ({"spans_key": ""}, "spans_key"),
    ({"packs": ["no-such-pack"]}, "no-such-pack"),
])
def test_bad_config_fails_when_the_component_is_added(config: dict, message: str) -> None:
    with pytest.raises(Exception, match=message):
        spacy.blank("zh").add_pipe("claimx", config=config)


def test_spans_not_on_token_boundaries_are_expanded(nlp: spacy.Language) -> None:
    # Words that cut through the claim boundaries: the claim starts at 星 (the leading
    # connective 此外 is left out) and ends before the comma, but the first token is 此外星河
    # and the last 中心，但.
    component = nlp.get_pipe("claimx")
    words = ["此外星河", "科技", "计划", "明年", "新建", "数据", "中心，但", "汇率", "平稳", "。"]
    doc = Doc(nlp.vocab, words=words, spaces=[False] * len(words))
    expected = claimx.extract(doc.text)
    assert expected and expected[0].start == 2
    doc = component(doc)
    first = doc.spans["claims"][0]
    assert (first.start, first.start_char) == (0, 0)  # widened to the covering token
    assert first.text.startswith("此外星河") and first.text.endswith("中心，但")
    assert first._.claim == expected[0]  # exact offsets kept on the claim
    assert doc.text[first._.claim.start:first._.claim.end] == expected[0].text


def test_component_on_a_jieba_tokenized_pipeline() -> None:
    pipeline = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    pipeline.add_pipe("claimx")
    for text in OWN_TEXTS:
        doc = pipeline(text)
        assert _claims_of(doc) == claimx.extract(text)
        for span, claim in zip(doc.spans["claims"], _claims_of(doc)):
            assert span.start_char <= claim.start and claim.end <= span.end_char


def test_spans_outside_a_claimx_group_have_no_claim(nlp: spacy.Language) -> None:
    doc = nlp(OWN_TEXTS[1])
    assert doc[0:2]._.claim is None
    assert spacy.blank("zh")("没有组件。")._.claimx_sentiment is None


# --------------------------------------------------------------------------- parity


@pytest.mark.parametrize("text", OWN_TEXTS)
def test_parity_with_extract_on_own_sentences(nlp: spacy.Language, text: str) -> None:
    doc = nlp(text)
    assert _claims_of(doc) == claimx.extract(text)
    assert doc._.claimx_sentiment == claimx.sentiment(text)


def test_parity_with_extract_on_the_dev_corpus(nlp: spacy.Language) -> None:
    texts = _dev_texts()
    if not texts:
        pytest.skip("../shared/corpora/claims-dev.jsonl not present")
    mismatched = [t[:30] for t, doc in zip(texts, nlp.pipe(texts))
                  if _claims_of(doc) != claimx.extract(t)]
    assert mismatched == []
    assert sum(len(doc.spans["claims"]) for doc in nlp.pipe(texts)) > 0


# --------------------------------------------------------------------------- serialisation


def test_claims_survive_plain_data_and_pickle() -> None:
    for claim in claimx.extract(OWN_TEXTS[0] + OWN_TEXTS[6]):
        assert claim_from_data(claim_to_data(claim)) == claim
        assert pickle.loads(pickle.dumps(claim)) == claim


def test_component_pickles_by_its_config(nlp: spacy.Language) -> None:
    component = pickle.loads(pickle.dumps(nlp.get_pipe("claimx")))
    assert isinstance(component, ClaimxComponent)
    assert component.packs == ["zh-business"] and component.spans_key == "claims"
    doc = component(nlp.make_doc(OWN_TEXTS[0]))
    assert _claims_of(doc) == claimx.extract(OWN_TEXTS[0])


def test_docbin_round_trip_keeps_claims(nlp: spacy.Language) -> None:
    docs = list(nlp.pipe(OWN_TEXTS))
    data = DocBin(docs=docs, store_user_data=True).to_bytes()
    back = list(DocBin().from_bytes(data).get_docs(nlp.vocab))
    for text, doc in zip(OWN_TEXTS, back):
        assert _claims_of(doc) == claimx.extract(text)
        assert doc._.claimx_sentiment == claimx.sentiment(text)


def test_pipe_with_two_processes(nlp: spacy.Language) -> None:
    texts = OWN_TEXTS * 3
    docs = list(nlp.pipe(texts, n_process=2, batch_size=4))
    assert [d.text for d in docs] == texts
    for text, doc in zip(texts, docs):
        assert _claims_of(doc) == claimx.extract(text)
        assert [s.label_ for s in doc.spans["claims"]] == [c.type for c in claimx.extract(text)]
        assert doc._.claimx_sentiment == claimx.sentiment(text)


def test_to_disk_and_spacy_load_round_trip(tmp_path: Path) -> None:
    pipeline = spacy.blank("zh")
    config = {"packs": ["zh-business", str(TOKEN_PACK)], "spans_key": "found",
              "segmenter": "jieba"}
    pipeline.add_pipe("claimx", config=config)
    pipeline.to_disk(tmp_path / "pipeline")
    loaded = spacy.load(tmp_path / "pipeline")
    assert loaded.pipe_names == ["claimx"]
    component = loaded.get_pipe("claimx")
    assert component.packs == config["packs"] and component.segmenter == "jieba"
    assert component.spans_key == "found" and component.pkuseg_model is None
    text = "公司拟收购一家电池工厂。" + OWN_TEXTS[0]
    assert _claims_of(loaded(text), "found") == _claims_of(pipeline(text), "found")
    assert "tok.deal-intent" in {r for c in _claims_of(loaded(text), "found") for r in c.rules}


# --------------------------------------------------------------------------- displacy


def test_displacy_renders_the_claim_spans(nlp: spacy.Language) -> None:
    doc = nlp(OWN_TEXTS[0])
    html = displacy.render(doc, style="span", options={"spans_key": "claims"}, jupyter=False)
    # One label per span, at its first token; every covered token is drawn in bold.
    assert html.count("strategic_intent") == 1 and html.count(">\n        risk\n") == 1
    covered = {i for span in doc.spans["claims"] for i in range(span.start, span.end)}
    assert html.count("font-weight: bold; display: inline-block") == len(covered) > 0
    # Every character of the text is there, in order.
    positions = [html.index(ch) for ch in ("星", "河", "汇", "兑", "损", "失")]
    assert positions == sorted(positions)
    colored = displacy.render(doc, style="span", jupyter=False, options={
        "spans_key": "claims", "colors": {"risk": "#f4a4a4"}})
    assert "#f4a4a4" in colored


# --------------------------------------------------------------------------- token rules


def test_token_rules_in_the_component_with_jieba() -> None:
    pipeline = spacy.blank("zh")
    pipeline.add_pipe("claimx", config={"packs": [str(TOKEN_PACK)], "segmenter": "jieba"})
    text = "该厂计划明年剥离亏损业务，并将裁员两百人。"
    doc = pipeline(text)
    assert [(s.label_, s._.claim.rules) for s in doc.spans["claims"]] == [
        ("strategic_intent", ("tok.deal-intent",)), ("risk", ("tok.capacity-cut",))]
    ex = claimx.Extractor(packs=[TOKEN_PACK], segmenter="jieba")
    assert _claims_of(doc) == ex.extract(text)


def test_token_rules_reported_inactive_in_a_char_component() -> None:
    pipeline = spacy.blank("zh")
    with pytest.warns(TokenRulesInactiveWarning, match="tok.deal-intent"):
        pipeline.add_pipe("claimx", config={"packs": [str(TOKEN_PACK)]})
    assert list(pipeline("公司拟收购一家电池工厂。").spans["claims"]) == []


def test_token_rules_with_a_toy_pkuseg_model(toy_pkuseg_model: Path) -> None:
    pipeline = spacy.blank("zh")
    pipeline.add_pipe("claimx", config={"packs": [str(TOKEN_PACK)], "segmenter": "pkuseg",
                                        "pkuseg_model": str(toy_pkuseg_model)})
    doc = pipeline("公司拟收购一家电池工厂。")
    assert [s._.claim.rules for s in doc.spans["claims"]] == [("tok.deal-intent",)]


# --------------------------------------------------------------------------- registration


def test_factory_is_declared_as_a_spacy_entry_point() -> None:
    points = {ep.name: ep.value for ep in entry_points(group="spacy_factories")}
    assert points.get("claimx") == "claimx.spacy_component:make_claimx_component"
    assert "claimx" in spacy.Language.factories


def test_extensions_registered_by_the_factory_idempotently() -> None:
    from spacy.tokens import Span

    first = spacy.blank("zh")
    first.add_pipe("claimx")
    second = spacy.blank("zh")
    second.add_pipe("claimx", config={"spans_key": "other"})
    assert Span.has_extension("claim") and Doc.has_extension("claimx_sentiment")
    doc = second(first(OWN_TEXTS[0]).text)
    assert _claims_of(doc, "other") == claimx.extract(OWN_TEXTS[0])


# --------------------------------------------------------------------------- self-contained


def _esg_layout(root: Path) -> Path:
    """A pack that extends a sibling folder pack (which extends zh-business)."""
    base = root / "packs" / "base"
    user = root / "packs" / "user"
    for folder in (base, user):
        folder.mkdir(parents=True)
    (base / "pack.yaml").write_text(
        "name: base-green\nversion: '1'\nlanguage: zh\nextends: [zh-business]\n"
        "claim_types: {esg_commitment: {polarity: positive}}\n", encoding="utf-8")
    (base / "vars.yaml").write_text("vars:\n  green_goals: [碳中和, 碳达峰]\n", encoding="utf-8")
    (user / "pack.yaml").write_text(
        "name: user-green\nversion: '1'\nlanguage: zh\nextends: [../base]\n"
        "disable: [intent.purpose]\ncalibration: curve.yaml\n", encoding="utf-8")
    (user / "curve.yaml").write_text("points: [[0, 0.1], [1, 0.8]]\n", encoding="utf-8")
    (user / "esg.yaml").write_text(
        "rules:\n  - id: esg.goal\n    kind: lexicon\n    type: esg_commitment\n"
        "    cues: [$green_goals]\n    prior: 0.5\n", encoding="utf-8")
    return user


def test_saved_pipeline_loads_from_elsewhere_after_its_pack_folder_is_gone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    work = tmp_path / "work"
    _esg_layout(work)
    monkeypatch.chdir(work)
    pipeline = spacy.blank("zh")
    pipeline.add_pipe("claimx", config={"packs": ["packs/user"]})  # relative to work/
    text = "星河能源承诺2030年前实现碳中和，以应对气候变化带来的挑战。" + OWN_TEXTS[0]
    before = _claims_of(pipeline(text))
    assert "esg_commitment" in {c.type for c in before}
    pipeline.to_disk(tmp_path / "saved")
    shutil.rmtree(work / "packs")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    loaded = spacy.load(tmp_path / "saved")
    assert _claims_of(loaded(text)) == before
    assert loaded.get_pipe("claimx").packs == ["packs/user"]
    # The copies keep the folders' layout; nothing of the bundled pack is copied.
    saved = sorted(p.relative_to(tmp_path / "saved" / "claimx").as_posix()
                   for p in (tmp_path / "saved" / "claimx").rglob("*") if p.is_file())
    assert saved == ["packs.json", "packs/base/pack.yaml", "packs/base/vars.yaml",
                     "packs/user/curve.yaml", "packs/user/esg.yaml", "packs/user/pack.yaml"]
    # Bytes, and a pickled component (n_process), carry the packs too.
    again = spacy.blank("zh")
    again.add_pipe("claimx")
    again.from_bytes(loaded.to_bytes())
    assert _claims_of(again(text)) == before
    clone = pickle.loads(pickle.dumps(loaded.get_pipe("claimx")))
    assert [c.rules for c in clone.extractor.extract(text)] == [c.rules for c in before]


def test_a_missing_pack_in_a_loaded_pipeline_fails_at_first_use(tmp_path: Path) -> None:
    pipeline = spacy.blank("zh")
    pipeline.add_pipe("claimx")
    pipeline.to_disk(tmp_path / "p")
    # A pipeline that carries its packs, loaded: adding a second component with a pack
    # that exists nowhere fails at its first use, naming the pack.
    loaded = spacy.load(tmp_path / "p")
    component = loaded.add_pipe("claimx", name="second", config={"packs": ["no-such-pack"]})
    with pytest.raises(claimx.PackLoadError, match="no-such-pack"):
        component(loaded.make_doc("公司计划扩产。"))
