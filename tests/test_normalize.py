"""Tests for claimx.normalize: the rules one by one, the offset map, and properties."""

from __future__ import annotations

import opencc
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from claimx.normalize import _EDITS, NormalizedText, OffsetMap, _may_have_edits, normalize

_S2T = opencc.OpenCC("s2t")
_T2S = opencc.OpenCC("t2s")


# --------------------------------------------------------------------------- annotations


def test_annotation_after_han_removed() -> None:
    n = normalize("微(wēi)信将推出新(xīn)产品")
    assert n.text == "微信将推出新产品"


def test_full_width_parens_and_letters() -> None:
    assert normalize("腾（téng）讯").text == "腾讯"
    assert normalize("腾(ｔéｎｇ)讯").text == "腾讯"


def test_several_annotations_in_a_row() -> None:
    assert normalize("平(píng)(píng)台").text == "平台"


def test_annotation_with_u_umlaut_only() -> None:
    assert normalize("绿(lü)色").text == "绿色"


def test_annotation_after_lost_character_mark() -> None:
    assert normalize("小程序?(qū)将协同").text == "小程序?将协同"
    assert normalize("小程序？(qū)将").text == "小程序?将"
    assert normalize("小程序\ufffd(qū)将").text == "小程序\ufffd将"


def test_annotation_with_invisible_characters() -> None:
    assert normalize("网\u200b(wǎ\u200bng)\ufeff经").text == "网经"


def test_neutral_tone_annotations_after_their_characters() -> None:
    # Pinyin writes the neutral tone with no mark (的(de), 了(le)); the noisy corpora annotate
    # them so, and a cue word must not be split by one (形成了(le)…竞争力).
    assert normalize("形成了(le)足够的(de)竞争力").text == "形成了足够的竞争力"
    assert normalize("我們(men)的\u200b(d\u200be)產品").text == "我们的产品"
    assert normalize("?(de)").text == "?"


@pytest.mark.parametrize(
    "kept",
    ["零售台(DR.100EC.CN)查询", "使用(AI)工具", "代码(300800)上涨", "好(de)", "好(abcdefghǎ)",
     "abc(wǎng)", "网 (wǎng)"],
)
def test_non_annotations_kept(kept: str) -> None:
    assert normalize(kept).text == kept


# --------------------------------------------------------------------------- other rules


def test_invisible_and_control_removed() -> None:
    assert normalize("一\u200b二\ufeff三\x00四\x7f五\u2060六").text == "一二三四五六"
    assert normalize("甲\ud800乙\ufffe丙\U0010ffff").text == "甲乙丙"


def test_whitespace_runs() -> None:
    assert normalize("甲 乙").text == "甲 乙"
    assert normalize("甲  \t乙").text == "甲 乙"
    assert normalize("甲\u3000乙").text == "甲 乙"
    assert normalize("甲 \r\n\n 乙").text == "甲\n乙"
    assert normalize("甲\t乙").text == "甲 乙"
    assert normalize("甲 \u200b 乙").text == "甲 乙"


def test_full_width_ascii() -> None:
    assert normalize("营收１２亿，同比增长？（预计）ＡＩ").text == "营收12亿,同比增长?(预计)AI"


def test_cjk_punctuation_kept() -> None:
    s = "他说:“很好。”《报告》、——……"
    assert normalize(s).text == s


def test_traditional_to_simplified() -> None:
    n = normalize("騰訊宣佈微信事業羣組織架構進行調整")
    assert n.text == "腾讯宣布微信事业群组织架构进行调整"
    assert len(n.text) == len(n.original)


@pytest.mark.parametrize(("traditional", "read_as"), [
    ("隨著市場擴大", "随着市场扩大"),
    ("面臨著挑戰", "面临着挑战"),
    ("這意味著公司將轉型", "这意味着公司将转型"),
    ("平臺有著龐大的用戶", "平台有着庞大的用户"),
    ("集團著手佈局海外", "集团着手布局海外"),
    ("著力提升毛利率", "着力提升毛利率"),
    ("意味著", "意味着"),  # simplified text written with the traditional particle
])
def test_particle_zhe_read_as_simplified(traditional: str, read_as: str) -> None:
    n = normalize(traditional)
    assert n.text == read_as
    assert n.offsets.is_identity  # one character for one: offsets map to themselves


@pytest.mark.parametrize("kept", ["營收顯著增長", "著名企業", "他著有三本書", "業績卓著", "名著改編"])
def test_zhe_of_notable_and_written_works_kept(kept: str) -> None:
    assert "著" in normalize(kept).text


def test_mixed_noise() -> None:
    n = normalize("（網(wǎng)經(jīng)社訊）　電商產(chǎn)品")
    assert n.text == "(网经社讯) 电商产品"


def test_empty_and_clean_text() -> None:
    assert normalize("").text == ""
    n = normalize("公司计划明年扩张。")
    assert n.text == n.original
    assert n.to_original(2, 4) == (2, 4)


# --------------------------------------------------------------------------- offsets


def test_span_around_annotation() -> None:
    n = normalize("网(wǎng)经(jīng)社")
    assert n.text == "网经社"
    assert n.to_original(0, 1) == (0, 1)  # ends right after 网, before (wǎng)
    assert n.to_original(1, 2) == (7, 8)
    assert n.to_original(0, 3) == (0, 15)
    assert n.original_slice(0, 2) == "网(wǎng)经"
    assert n.original_slice(1, 3) == "经(jīng)社"


def test_empty_span_and_ends() -> None:
    n = normalize("网(wǎng)经")
    assert n.to_original(1, 1) == (7, 7)
    assert n.offsets.original_start(2) == len(n.original)
    assert n.offsets.original_end(0) == 0
    assert n.offsets.original_end(1) == 1


def test_leading_removed_text() -> None:
    n = normalize("\u200b\u200b甲")
    assert n.text == "甲"
    assert n.to_original(0, 1) == (2, 3)
    assert n.offsets.original_end(0) == 2


def test_whitespace_run_maps_to_whole_run() -> None:
    n = normalize("甲 \t \n乙")
    assert n.text == "甲\n乙"
    assert n.to_original(1, 2) == (1, 5)
    assert n.to_original(2, 3) == (5, 6)


def test_out_of_range_is_clamped() -> None:
    n = normalize("网(wǎng)经")
    assert n.to_original(-5, 99) == (0, len(n.original))
    assert n.to_original(2, 1) == (8, 8)


def test_values_are_frozen() -> None:
    n = normalize("甲")
    assert isinstance(n, NormalizedText) and isinstance(n.offsets, OffsetMap)
    with pytest.raises(AttributeError):
        n.text = "乙"  # type: ignore[misc]


# --------------------------------------------------------------------------- properties

_TRICKY = [
    "\ud800", "\udfff", "\u200b", "\u200d", "\ufeff", "\x00", "\x1f", "\x7f", "\x85",
    "\u3000", "\u00a0", "\n", "\r", " ", "\t", "\ufffe", "\U0010ffff", "\ufffd", "?", "？",
    "(", ")", "（", "）", "ǎ", "ü", "ń", "ｗ", "a", "g", "Ａ", "１", "\u0301", "😀", "網",
    "经", "薴", "苧", "。", "，", ",", "1",
]
_ANNOTATIONS = ["(wǎng)", "（jīng）", "(ｗǎｎｇ)", "(de)", "(AI)", "(lü)", "(\u200bxī\u200b)"]

_noisy_text = st.lists(
    st.one_of(
        st.characters(codec=None, categories=None),
        st.sampled_from(_TRICKY),
        st.sampled_from(_ANNOTATIONS),
    ),
    max_size=40,
).map("".join)


@settings(max_examples=500, deadline=None)
@given(_noisy_text)
def test_never_raises_and_idempotent(s: str) -> None:
    once = normalize(s).text
    assert normalize(once).text == once


_EDIT_PARTS = ["網", "经", "?", " ", "\n", "\u3000", "\u200b", "a", "，", "(", "（", ")",
               "(wǎng)", "（jīng）", "(AI)"]


@settings(max_examples=1000, deadline=None)
@given(st.one_of(_noisy_text, st.lists(st.sampled_from(_EDIT_PARTS), max_size=8).map("".join)))
def test_fast_path_skips_only_texts_without_edits(s: str) -> None:
    # normalize() skips the edit scan when _may_have_edits says no; it must never say no
    # to a text the scan would change.
    if not _may_have_edits(s):
        assert list(_EDITS.finditer(s)) == []


@settings(max_examples=500, deadline=None)
@given(_noisy_text)
def test_map_is_monotonic_and_valid(s: str) -> None:
    n = normalize(s)
    m = n.offsets
    size = len(n.text)
    starts = [m.original_start(i) for i in range(size + 1)]
    ends = [m.original_end(i) for i in range(size + 1)]
    assert starts == sorted(starts)
    assert ends == sorted(ends)
    assert starts[-1] == len(s)
    for i in range(size):
        # each normalised character covers a non-empty original stretch, before the next
        assert starts[i] < ends[i + 1] <= starts[i + 1]
    for i in range(size + 1):
        for j in range(i, min(size, i + 6) + 1):
            os_, oe = n.to_original(i, j)
            assert 0 <= os_ <= oe <= len(s)
            if j > i:
                assert oe > os_


# Common simplified characters whose s2t → t2s round trip is exact one by one.
_COMMON = [
    c for c in "腾讯微信电商产品部门负责交易模式探索发展基建生态运营开放平台础公众号程序"
    "策划研发工作组织架构调整宣布计划市场风险优势行业影响增长收入利润销售"
    if _T2S.convert(_S2T.convert(c)) == c
]
_clean_text = st.lists(
    st.sampled_from(_COMMON + [",", "。", " ", "1", "?"]), min_size=1, max_size=30
).map("".join)


@st.composite
def _annotated(draw: st.DrawFn) -> tuple[str, str, list[int]]:
    """A clean text, a noisy copy with annotations after Han chars, and the noisy offset of
    every clean character."""
    clean = draw(_clean_text)
    parts: list[str] = []
    where: list[int] = []
    pos = 0
    for ch in clean:
        where.append(pos)
        parts.append(ch)
        pos += 1
        if "\u4e00" <= ch <= "\u9fff" and draw(st.booleans()):
            ann = draw(st.sampled_from(["(wǎng)", "（jīng）", "(ｘī)(ｎǚ)", "(\u200bǎ)"]))
            parts.append(ann)
            pos += len(ann)
    return clean, "".join(parts), where


@settings(max_examples=500, deadline=None)
@given(_annotated(), st.data())
def test_annotations_do_not_change_text_and_spans_land_on_words(
    sample: tuple[str, str, list[int]], data: st.DataObject
) -> None:
    clean, noisy, where = sample
    n = normalize(noisy)
    assert n.text == normalize(clean).text
    assume(n.text == clean)  # no whitespace collapsing in this sample
    i = data.draw(st.integers(0, len(clean) - 1))
    j = data.draw(st.integers(i + 1, len(clean)))
    os_, oe = n.to_original(i, j)
    assert os_ == where[i]
    assert oe == where[j - 1] + 1  # ends on the word's last char, before any annotation
    assert normalize(noisy[os_:oe]).text == clean[i:j]


@settings(max_examples=500, deadline=None)
@given(_clean_text, st.data())
def test_traditional_script_normalises_back(clean: str, data: st.DataObject) -> None:
    trad = _S2T.convert(clean)
    assume(len(trad) == len(clean))
    n = normalize(trad)
    ref = normalize(clean).text
    assert len(n.text) == len(ref)
    # near-equal: phrase-level conversion may pick another variant for a rare char
    assert sum(a != b for a, b in zip(n.text, ref)) <= max(1, len(ref) // 10)
    i = data.draw(st.integers(0, len(n.text) - 1))
    j = data.draw(st.integers(i + 1, len(n.text)))
    os_, oe = n.to_original(i, j)
    assert normalize(trad[os_:oe]).text == n.text[i:j]


def test_long_line_does_not_raise() -> None:
    s = ("网(wǎng)经社\u200b，　" * 12000)[:100_000]
    n = normalize(s)
    assert n.offsets.original_start(len(n.text)) == len(s)
    assert normalize(n.text).text == n.text
