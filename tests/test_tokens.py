"""Token-level rules (claimx/tokens.py): segmenters, lazy segmentation, the inactive warning,
spaCy pattern validation, and offsets back into the caller's text."""

from __future__ import annotations

import functools
import os
import warnings
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import TOKEN_PACK

import claimx
from claimx.errors import PackLoadError
from claimx.tokens import TokenRulesInactiveWarning, segment_words

PKUSEG_MODEL = os.environ.get("CLAIMX_PKUSEG_MODEL")


@pytest.fixture(scope="module")
def jieba_extractor() -> claimx.Extractor:
    return claimx.Extractor(packs=[TOKEN_PACK], segmenter="jieba")


def _summary(claims: list[claimx.Claim]) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(str(c.type), c.text, c.rules) for c in claims]


# --------------------------------------------------------------------------- jieba


def test_token_rule_fires_under_jieba(jieba_extractor: claimx.Extractor) -> None:
    claims = jieba_extractor.extract("公司拟收购一家电池工厂。")
    assert _summary(claims) == [("strategic_intent", "公司拟收购一家电池工厂", ("tok.deal-intent",))]
    assert claims[0].polarity == claimx.Polarity.POSITIVE


def test_planning_word_may_sit_up_to_three_words_before_the_deal_verb(
        jieba_extractor: claimx.Extractor) -> None:
    near = jieba_extractor.extract("集团计划明年剥离亏损业务。")
    assert [c.rules for c in near] == [("tok.deal-intent",)]
    # Separated by punctuation: IS_PUNCT: false stops the gap.
    assert jieba_extractor.extract("集团计划，明年剥离亏损业务。") == []


@pytest.mark.parametrize("text", [
    "工程师模拟了出售流程。",      # 拟 inside the word 模拟
    "研究人员拟合了回购数据。",    # 拟 inside the word 拟合
    "公司拟在明年扩大产能。",      # planning word, no deal verb
])
def test_token_rule_needs_the_words_not_just_the_characters(
        jieba_extractor: claimx.Extractor, text: str) -> None:
    assert jieba_extractor.extract(text) == []


def test_two_token_rules_in_one_text(jieba_extractor: claimx.Extractor) -> None:
    claims = jieba_extractor.extract("该厂计划明年剥离亏损业务，并将裁员两百人。")
    assert _summary(claims) == [
        ("strategic_intent", "该厂计划明年剥离亏损业务", ("tok.deal-intent",)),
        ("risk", "并将裁员两百人", ("tok.capacity-cut",)),
    ]


def test_offsets_index_the_original_text(jieba_extractor: claimx.Extractor) -> None:
    # Traditional script, full-width punctuation and inline pinyin are normalised before
    # matching; the claim must still point into the string as given.
    text = "（新華社）某集團擬(nǐ)收購一家電池廠。　另一家工廠將裁員。"
    claims = jieba_extractor.extract(text)
    assert {c.rules[0] for c in claims} == {"tok.deal-intent", "tok.capacity-cut"}
    for c in claims:
        assert text[c.start:c.end] == c.text
    assert "收購" in claims[0].text and claims[0].evidence.cues[0].text.startswith("擬")


def test_token_hits_join_the_character_rules() -> None:
    both = claimx.Extractor(packs=["zh-business", TOKEN_PACK], segmenter="jieba")
    plain = claimx.Extractor(packs=["zh-business"])
    text = "公司拟收购一家电池工厂。"
    rules = {r for c in both.extract(text) for r in c.rules}
    assert "tok.deal-intent" in rules
    assert rules - {"tok.deal-intent"} == {r for c in plain.extract(text) for r in c.rules}


@pytest.mark.parametrize("text", [
    "星河科技明年在东南亚新建两座数据中心，但汇率波动可能导致汇兑损失。",
    "该银行的净息差持续收窄，资产质量承压。",
    "",
])
def test_texts_without_anchors_are_unchanged(text: str) -> None:
    both = claimx.Extractor(packs=["zh-business", TOKEN_PACK], segmenter="jieba")
    plain = claimx.Extractor(packs=["zh-business"])
    assert both.extract(text) == plain.extract(text)


# --------------------------------------------------------------------------- laziness


def test_only_sentences_with_an_anchor_are_segmented(jieba_extractor: claimx.Extractor,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    matcher = jieba_extractor._token_matcher
    assert matcher is not None and matcher.active
    seen: list[str] = []
    real_cut = matcher._cut

    def spy(text: str) -> list[str]:
        seen.append(text)
        return real_cut(text)

    monkeypatch.setattr(matcher, "_cut", spy)
    text = "今年营收增长了一成。公司拟收购一家电池工厂。员工人数保持稳定。"
    claims = jieba_extractor.extract(text)
    assert seen == ["公司拟收购一家电池工厂。"]
    assert [c.rules for c in claims] == [("tok.deal-intent",)]
    seen.clear()
    jieba_extractor.extract("今年营收增长了一成。员工人数保持稳定。")
    assert seen == []


def test_vocabulary_starts_over_when_it_grows_too_large(monkeypatch: pytest.MonkeyPatch) -> None:
    ex = claimx.Extractor(packs=[TOKEN_PACK], segmenter="jieba")
    matcher = ex._token_matcher
    assert matcher is not None
    text = "公司拟收购一家电池工厂。该厂将裁员两百人。"
    before = ex.extract(text)
    first_vocab = matcher._vocab
    monkeypatch.setattr("claimx.tokens.MAX_VOCAB_STRINGS", 1)
    assert ex.extract(text) == before  # same hits from the fresh vocabulary
    assert matcher._vocab is not first_vocab


def test_attributes_without_a_tagger_are_warned_about(tmp_path: Path) -> None:
    pack = _write_pack(tmp_path, "{POS: VERB}")
    with pytest.warns(UserWarning, match="tok.bad.*POS"):
        claimx.Extractor(packs=[pack], segmenter="jieba")


def test_token_matching_is_safe_from_several_threads(jieba_extractor: claimx.Extractor) -> None:
    from concurrent.futures import ThreadPoolExecutor

    texts = [f"第{i}家公司拟收购一家电池工厂，另一家工厂将裁员{i}人。" for i in range(40)]
    serial = [jieba_extractor.extract(t) for t in texts]
    with ThreadPoolExecutor(max_workers=4) as pool:
        parallel = list(pool.map(jieba_extractor.extract, texts))
    assert parallel == serial
    assert all(len(claims) == 2 for claims in serial)


# --------------------------------------------------------------------------- char: inactive


def test_char_segmenter_reports_token_rules_inactive_once() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ex = claimx.Extractor(packs=[TOKEN_PACK])  # segmenter="char" is the default
        claims = [ex.extract("公司拟收购一家电池工厂。") for _ in range(3)]
    inactive = [w for w in caught if issubclass(w.category, TokenRulesInactiveWarning)]
    assert len(inactive) == 1
    message = str(inactive[0].message)
    assert "tok.deal-intent" in message and "tok.capacity-cut" in message
    assert "jieba" in message
    assert claims == [[], [], []]
    assert ex._token_matcher is not None and not ex._token_matcher.active


def test_no_warning_without_token_rules() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", TokenRulesInactiveWarning)
        claimx.Extractor(packs=["zh-business"])


def test_unknown_segmenter_is_rejected() -> None:
    with pytest.raises(ValueError, match="segmenter must be one of char, jieba, pkuseg"):
        claimx.Extractor(packs=[TOKEN_PACK], segmenter="thulac")


# --------------------------------------------------------------------------- validation


def _write_pack(root: Path, token: str) -> Path:
    (root / "pack.yaml").write_text(
        "name: bad-tokens\nversion: '0.1'\nlanguage: zh\n"
        "claim_types:\n  risk: {polarity: negative}\n", encoding="utf-8")
    (root / "rules.yaml").write_text(
        "rules:\n"
        "  - id: tok.bad\n"
        "    kind: tokens\n"
        "    type: risk\n"
        "    anchors: [裁员]\n"
        "    patterns:\n"
        f"      - [{token}]\n", encoding="utf-8")
    return root


def test_pattern_rejected_by_spacy_is_a_located_pack_problem(tmp_path: Path) -> None:
    # Passes the light, spaCy-free check at load time (REGEX is a known predicate) but
    # spaCy's validator rejects a non-string regular expression.
    pack = _write_pack(tmp_path, "{ORTH: {REGEX: 5}}")
    claimx.load_pack(pack)  # loading alone does not need spaCy
    with pytest.raises(PackLoadError) as info:
        claimx.Extractor(packs=[pack], segmenter="jieba")
    problem = info.value.problems[0]
    assert problem.code == "CX113" and "tok.bad" in problem.message
    assert problem.path.endswith("rules.yaml") and problem.line == 2


def test_pattern_error_caught_at_load_time(tmp_path: Path) -> None:
    pack = _write_pack(tmp_path, "{SPELLING: 裁员}")
    with pytest.raises(PackLoadError, match="unknown token attribute"):
        claimx.load_pack(pack)


@pytest.mark.parametrize("token", ["{LOWER: {REGEX: '^a'}, _: junk}", "{LOWER: a, _: junk}"])
def test_an_extension_field_that_is_no_mapping_is_a_pack_problem(tmp_path: Path,
                                                                 token: str) -> None:
    # spaCy rejects `_: junk`; with a REGEX on the same token it never saw it, because the
    # REGEX moves into an extension attribute of claimx's own that replaced the `_` field.
    pack = _write_pack(tmp_path, token)
    with pytest.raises(PackLoadError) as info:
        claimx.load_pack(pack)
    problem = info.value.problems[0]
    assert problem.code == "CX113" and "'_' must map" in problem.message
    assert problem.path.endswith("rules.yaml")


# --------------------------------------------------------------------------- pkuseg


def test_pkuseg_without_a_model_folder_says_where_models_come_from() -> None:
    with pytest.raises(ValueError, match="pkuseg_model"):
        claimx.Extractor(packs=[TOKEN_PACK], segmenter="pkuseg")


def test_pkuseg_rejects_a_folder_that_is_not_a_model(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="features.msgpack"):
        claimx.Extractor(packs=[TOKEN_PACK], segmenter="pkuseg", pkuseg_model=tmp_path)


def test_token_rule_fires_under_a_toy_pkuseg_model(toy_pkuseg_model: Path) -> None:
    ex = claimx.Extractor(packs=[TOKEN_PACK], segmenter="pkuseg", pkuseg_model=toy_pkuseg_model)
    assert ex._token_matcher is not None and ex._token_matcher.active
    assert [c.rules for c in ex.extract("公司拟收购一家电池工厂。")] == [("tok.deal-intent",)]
    assert ex.extract("工程师模拟了出售流程。") == []
    text = "该厂将裁员两百人。"
    words = [(s, e) for s, e in segment_words(text, "pkuseg", toy_pkuseg_model)]
    # The words tile the sentence in order (how a toy model cuts them is not the point).
    assert words[0][0] == 0 and words[-1][1] == len(text)
    assert all(a[1] == b[0] for a, b in zip(words, words[1:]))
    assert 2 <= len(words) < len(text)


@pytest.mark.skipif(not PKUSEG_MODEL, reason=(
    "set CLAIMX_PKUSEG_MODEL to a spacy-pkuseg model folder (e.g. an unpacked spacy_ontonotes "
    "release); spacy-pkuseg downloads models from GitHub releases, unreachable here"))
def test_token_rule_fires_under_pkuseg() -> None:
    ex = claimx.Extractor(packs=[TOKEN_PACK], segmenter="pkuseg", pkuseg_model=PKUSEG_MODEL)
    claims = ex.extract("公司拟收购一家电池工厂。")
    assert [c.rules for c in claims] == [("tok.deal-intent",)]
    assert ex.extract("工程师模拟了出售流程。") == []


# --------------------------------------------------------------------------- properties

_PIECES = st.sampled_from(["公司", "拟", "收购", "模拟", "出售", "计划", "裁员", "工厂", "明年",
                           "。", "，", " ", "　", "\n", "A股", "3", "擬", "收購", "(nǐ)", "？"])


@functools.lru_cache(maxsize=1)
def _shared_jieba_extractor() -> claimx.Extractor:
    # Built once: Hypothesis runs the property hundreds of times.
    return claimx.Extractor(packs=[TOKEN_PACK], segmenter="jieba")


@given(st.lists(_PIECES, max_size=25).map("".join))
def test_claims_from_token_rules_point_into_the_original(text: str) -> None:
    ex = _shared_jieba_extractor()
    for c in ex.extract(text):
        assert text[c.start:c.end] == c.text
        assert c.rules and all(r.startswith("tok.") for r in c.rules)


@given(st.text(alphabet=st.sampled_from(list("公司拟收购工厂明年计划裁员 \t\n　A1,。，")), max_size=40))
def test_jieba_word_spans_cover_every_non_space_character_once(text: str) -> None:
    spans = segment_words(text, "jieba")
    covered = [i for s, e in spans for i in range(s, e)]
    assert covered == sorted(set(covered))  # in order, no overlap
    assert covered == [i for i, ch in enumerate(text) if not ch.isspace()]


@given(text=st.text(alphabet=st.sampled_from(list("公司拟收购工厂明年计划裁员 \t\n　A1,。，")),
                    max_size=40))
def test_pkuseg_word_spans_cover_every_non_space_character_once(
        toy_pkuseg_model: Path, text: str) -> None:
    # pkuseg strips the text and splits it on whitespace itself; offsets must still line up.
    spans = segment_words(text, "pkuseg", toy_pkuseg_model)
    covered = [i for s, e in spans for i in range(s, e)]
    assert covered == [i for i, ch in enumerate(text) if not ch.isspace()]
