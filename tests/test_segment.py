"""Tests for claimx.segment: sentences, clauses, lost `?`, headings, questions."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from claimx.normalize import normalize
from claimx.segment import Clause, Sentence, segment


def _sentences(raw: str) -> list[str]:
    doc = normalize(raw)
    return [doc.text[s.start:s.end] for s in segment(doc)]


def _clauses(raw: str) -> list[list[str]]:
    doc = normalize(raw)
    return [[doc.text[c.start:c.end] for c in s.clauses] for s in segment(doc)]


def test_sentence_stops() -> None:
    assert _sentences("公司扩张。利润下滑！前景如何？好!真的?") == [
        "公司扩张。", "利润下滑!", "前景如何?", "好!", "真的?"]


def test_line_breaks_and_spaces() -> None:
    assert _sentences("  标题一\n\n  正文开始,继续 \n结尾") == ["标题一", "正文开始,继续", "结尾"]


def test_closing_quotes_stay() -> None:
    assert _sentences("他说:“明年会涨。”随后离开。（完）") == ["他说:“明年会涨。”", "随后离开。", "(完)"]
    assert _sentences("《报告》称「增长放缓！」下一句") == ["《报告》称「增长放缓!」", "下一句"]


def test_empty_and_blank() -> None:
    assert segment(normalize("")) == ()
    assert segment(normalize(" \n\u3000\n ")) == ()


def test_lost_question_mark_inside_word() -> None:
    assert _sentences("调整后,公众号和小程序?将更紧密协同。") == ["调整后,公众号和小程序?将更紧密协同。"]


def test_lost_question_mark_before_annotation() -> None:
    doc = normalize("小程序?(qū)將協同。真的吗? 好")
    sents = segment(doc)
    assert [doc.text[s.start:s.end] for s in sents] == ["小程序?将协同。", "真的吗?", "好"]
    assert [s.is_question for s in sents] == [False, True, False]


def test_full_width_question_mark_always_ends() -> None:
    assert _sentences("这是真的吗？将来会怎样") == ["这是真的吗?", "将来会怎样"]


def test_ascii_question_mark_not_between_han_ends() -> None:
    assert _sentences("增长了吗? 将来呢") == ["增长了吗?", "将来呢"]
    assert _sentences("AI?将来") == ["AI?", "将来"]


def test_question_detection() -> None:
    doc = normalize("市场会回暖吗?“真的会吗？”是吗?!确定。")
    assert [s.is_question for s in segment(doc)] == [True, True, True, False]


def test_clauses_split_and_trimmed() -> None:
    assert _clauses("首先,成本下降;其次:效率提升——利润增长--前景向好。") == [
        ["首先", "成本下降", "其次", "效率提升", "利润增长", "前景向好"]]
    assert _clauses("公司表示， 将继续投入 。") == [["公司表示", "将继续投入"]]


def test_digit_comma_and_colon_do_not_split() -> None:
    assert _clauses("营收达1,900亿元,会议10:30开始。") == [["营收达1,900亿元", "会议10:30开始"]]
    assert _clauses("营收１，２００亿元") == [["营收1,200亿元"]]


def test_quote_closing_inside_clause_kept() -> None:
    assert _clauses("他称其为“龙头”,并说:“会涨。”") == [["他称其为“龙头”", "并说", "“会涨"]]


def test_heading_clause() -> None:
    doc = normalize("优势:成本低,效率高。行业影响：格局重塑。他说,风险:较高。")
    sents = segment(doc)
    heads = [[(doc.text[c.start:c.end], c.heading) for c in s.clauses] for s in sents]
    assert heads == [
        [("优势", True), ("成本低", False), ("效率高", False)],
        [("行业影响", True), ("格局重塑", False)],
        [("他说", False), ("风险", False), ("较高", False)],
    ]


def test_heading_too_long() -> None:
    doc = normalize("这是一个非常非常长的开头部分而且还在继续:内容。")
    assert not segment(doc)[0].clauses[0].heading


def test_heading_on_its_own_line() -> None:
    doc = normalize("风险提示:\n市场波动较大。")
    sents = segment(doc)
    assert sents[0].clauses == (Clause(0, 4, True),)


def test_offsets_map_back_to_original() -> None:
    doc = normalize("網(wǎng)經(jīng)社訊：騰訊調整架構。")
    sent = segment(doc)[0]
    head = sent.clauses[0]
    assert head.heading
    assert doc.original_slice(head.start, head.end) == "網(wǎng)經(jīng)社訊"


def test_values() -> None:
    s = segment(normalize("好。"))[0]
    assert s == Sentence(0, 2, False)
    assert s.clauses == (Clause(0, 1, False),)
    assert s.source == "好。"


# --------------------------------------------------------------------------- property

_ALPHABET = list("公司增长风险市场吗将好1 2,，;；:：—-。！？!?”」)）】》\"“(（\n\u3000\u200b")
_texts = st.lists(
    st.one_of(st.sampled_from(_ALPHABET), st.sampled_from(["(qū)", "?(jiāng)", "1,9", "10:30"]),
              st.characters(codec=None, categories=None)),
    max_size=60,
).map("".join)


@settings(max_examples=500, deadline=None)
@given(_texts)
def test_sentences_ordered_and_clauses_inside(raw: str) -> None:
    doc = normalize(raw)
    text = doc.text
    prev_end = 0
    for s in segment(doc):
        assert prev_end <= s.start < s.end <= len(text)
        assert not text[s.start].isspace()
        assert not text[s.end - 1].isspace()
        prev_end = s.end
        last = s.start
        for i, c in enumerate(s.clauses):
            assert s.start <= c.start < c.end <= s.end
            assert last <= c.start
            assert not text[c.start].isspace() and not text[c.end - 1].isspace()
            assert not c.heading or (i == 0 and c.start == s.start and c.end - c.start <= 12)
            last = c.end
        os_, oe = doc.to_original(s.start, s.end)
        assert 0 <= os_ < oe <= len(raw)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["公司", "推进", "，", ",", "；", ":", "。", " ", "1,900", "——",
                                 "好", "？", "”", "\n"]), max_size=14))
def test_clause_starts_are_the_starts_of_the_clauses(parts: list[str]) -> None:
    for sentence in segment(normalize("".join(parts))):
        assert sentence.clause_starts == tuple(c.start for c in sentence.clauses)
