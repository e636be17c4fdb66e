"""How a claim's subject is found (claimx.assemble.find_subject): the name right before the
claim's cue (step 5), the company's self-reference, the announcing name, the topic of the
claim or its sentence — and what never passes for a name there (dates, time words, list
markers, pronouns, metrics, time clauses, officers' roles). The sentences are written for
these tests."""

from __future__ import annotations

import pytest

from claimx import extract


def assert_every_subject(text: str, subject: str | None) -> None:
    """``text`` yields at least one claim, and every claim's subject is ``subject``."""
    claims = extract(text)
    assert claims and [c.subject for c in claims] == [subject] * len(claims)


@pytest.mark.parametrize(("text", "subject"), [
    ("星河云购非法集资八亿元。", "星河云购"),       # name|cue
    ("云帆2023年净利润同比增长18%。", "云帆"),     # the name ends at a figure
])
def test_the_name_before_the_cue_is_the_subject(text: str, subject: str) -> None:
    claims = extract(text)
    assert [c.subject for c in claims] == [subject]


@pytest.mark.parametrize("text", [
    "2020年5月至今拖欠货款三千万元。",  # a date, not a name
    "有赞启动了新一轮裁员。",           # 了: a verb phrase, not a name
])
def test_no_subject_from_a_date_or_a_verb_phrase(text: str) -> None:
    assert_every_subject(text, None)


def test_a_subject_in_noisy_text_is_as_written_without_inline_pinyin() -> None:
    # Traditional script with inline pinyin: the subject keeps its script and loses the
    # annotation (the claim's own text and offsets stay those of the original).
    text = "星(xīng)河科技計劃明年在東南亞新建兩座數據中心。"
    (claim,) = extract(text)
    assert claim.subject == "星河科技"
    assert text[claim.start:claim.end] == claim.text


def test_original_words_drop_only_what_normalisation_removed() -> None:
    from claimx.normalize import normalize

    doc = normalize("騰(téng)訊\u200b公司  的")
    assert doc.original_words(0, 4) == "騰訊公司"
    assert doc.original_slice(0, 4) == "騰(téng)訊\u200b公司"
    assert normalize("腾讯公司").original_words(0, 2) == "腾讯"


@pytest.mark.parametrize(("text", "subject"), [
    # Annual-report prose: the company the risk falls on, named only after the cue.
    ("受原材料价格上涨影响，导致公司产品毛利率下降。", "公司"),
    # A time phrase opens the claim and the company follows it.
    ("重组完成后，公司将成为华辰电子的控股股东。", "公司"),
])
def test_the_company_named_inside_the_claim_after_its_cue(text: str, subject: str) -> None:
    assert_every_subject(text, subject)


@pytest.mark.parametrize("text", [
    "推动信托公司加快转型发展。",  # 信托公司: another name's tail, not the company itself
    "加强法人机构公司治理。",      # 公司治理: a compound, no actor
])
def test_a_self_reference_inside_a_longer_word_names_no_one(text: str) -> None:
    claims = extract(text)
    assert claims and all(c.subject != "公司" for c in claims)


@pytest.mark.parametrize(("text", "subject"), [
    # A name that opens the sentence and announces the claim: the claim's 公司 is that name.
    ("星河化工公告，公司拟投资五亿元建设新能源材料项目。", "星河化工"),
    ("云帆电子在官网宣布，公司已与三家车企签署战略合作协议。", "云帆电子"),
    ("蓝海生物在互动平台表示，公司计划明年在东南亚新建生产基地。", "蓝海生物"),
    ("星河化工1月18日晚间公告，公司拟投资五亿元建设新能源材料项目。", "星河化工"),
    ("远山银行公告称，该行拟发行三百亿元绿色金融债券。", "远山银行"),
])
def test_the_company_that_announces_the_claim_is_its_subject(text: str, subject: str) -> None:
    assert_every_subject(text, subject)


@pytest.mark.parametrize(("text", "subject"), [
    # An analyst speaks about a company but is not it: 公司 stays the subject. (An officer
    # speaks for the company named before the role: see the officer test below.)
    ("分析师表示，公司计划明年在东南亚新建生产基地。", "公司"),
    # A name followed by more than a place and a verb does not announce the claim.
    ("星河化工去年业绩承压，公司计划明年在东南亚新建生产基地。", "公司"),
])
def test_a_speaker_who_is_not_the_company_leaves_it_the_subject(text: str,
                                                                 subject: str) -> None:
    claims = [c for c in extract(text) if c.type == "strategic_intent"]
    assert claims and [c.subject for c in claims] == [subject] * len(claims)


def test_a_time_word_ends_a_topic_and_a_date_alone_is_no_subject() -> None:
    # 今日 and 晚间 end the name before them; a topic that is only a date names no one.
    (claim,) = extract("星河银行今日宣布将在海南设立一家金融科技子公司。")
    assert claim.subject == "星河银行"
    assert all(c.subject != "2月8日" for c in extract("2月8日晚间，计划在海南设立一家金融科技子公司。"))


@pytest.mark.parametrize(("text", "subject"), [
    ("星河电子确实面临较大的库存压力。", "星河电子"),                   # an adverb of certainty
    ("星河物流此次调整组织架构，意在加快海外扩张。", "星河物流"),       # a time adverb; 意在 opens its clause
    ("云帆科技指望新工厂带来三成的利润率。", "云帆科技"),               # a verb of intent
])
def test_adverbs_and_verbs_of_intent_end_a_topic(text: str, subject: str) -> None:
    assert_every_subject(text, subject)


@pytest.mark.parametrize("text", [
    "巩固了星河建工在中东承包市场的领先地位。",  # 巩固了…: a verb phrase with 了
    "积极推进数字化转型，提升服务效率。",        # 积极…: a directive opens with its predicate
])
def test_a_clause_that_opens_with_its_predicate_has_no_topic(text: str) -> None:
    assert_every_subject(text, None)


@pytest.mark.parametrize(("text", "subject"), [
    ("云帆汽车3月5日宣布，将在泰国新建一座整车工厂。", "云帆汽车"),  # a date after the name
    ("华辰手机连续三年位居国内市场第一。", "华辰手机"),              # 连续 ends the name
    ("星河家电截至6月底的订单同比翻倍。", "星河家电"),               # 截至 ends the name
    ("行业之所以出现亏损潮，是因为产能严重过剩。", "行业"),          # 之所以 ends the topic
])
def test_dates_and_time_phrases_after_a_name_are_not_part_of_it(text: str, subject: str) -> None:
    assert_every_subject(text, subject)


@pytest.mark.parametrize("text", [
    "其新工厂将于明年投产。",                          # a pronoun opens the topic
    "营收的增长主要得益于海外业务的快速扩张。",          # a metric is no actor
    "云帆物流新仓库建成后将成为华东最大的冷链中心。",    # …建成后: a time clause, not a name
])
def test_a_pronoun_a_metric_or_a_time_clause_names_no_one(text: str) -> None:
    assert_every_subject(text, None)


def test_a_name_before_a_suffix_begins_after_the_verb_that_precedes_it() -> None:
    # 导致了|华辰纺织公司: the 了 that ends the verb starts the name, which once came out
    # as 率波动导致了华辰纺织公司.
    (claim,) = extract("汇率波动导致了华辰纺织公司出现汇兑损失。")
    assert claim.type == "risk" and claim.subject == "华辰纺织公司"


@pytest.mark.parametrize(("text", "subject"), [
    ("去年10月星河音乐宣布与华辰影业达成版权合作。", "星河音乐"),   # a year word and a month
    ("昨日云帆航空宣布将在成都新建一座维修基地。", "云帆航空"),     # a time word
    ("2021年华辰电池在储能市场的占有率位居第一。", "华辰电池"),     # a year
    ("上半年公司实现营业收入21亿元，同比增长20%。", "公司"),        # a half year
    ("近期星河地产出现资金链紧张的传闻。", "星河地产"),             # 出现 ends the name
])
def test_a_date_or_time_word_that_opens_the_clause_is_not_the_subject(text: str,
                                                                     subject: str) -> None:
    # News dates a clause first and names its actor second.
    assert_every_subject(text, subject)


@pytest.mark.parametrize("text", [
    "4、星河电子持续加大研发投入。",      # a numbered paragraph of a report
    "（二）星河电子持续加大研发投入。",    # a numbered section
    "② 星河电子持续加大研发投入。",       # a circled number in a news digest
])
def test_a_list_marker_before_the_actor_is_not_part_of_the_subject(text: str) -> None:
    assert_every_subject(text, "星河电子")


@pytest.mark.parametrize(("text", "subject"), [
    ("星河科技董事长张三表示，公司将加大研发投入。", "星河科技"),
    ("星河化工董事长张明表示，公司计划明年在东南亚新建生产基地。", "星河化工"),
    ("华辰银行行长王五在发布会上表示，该行将加快数字化转型。", "华辰银行"),
    ("云帆汽车相关负责人称，将在年内新开三十家门店。", "云帆汽车"),
    ("市场监管总局副局长表示，将加快完善质量基础设施。", "市场监管总局"),
])
def test_an_officer_speaks_for_the_body_named_before_the_role(text: str, subject: str) -> None:
    assert_every_subject(text, subject)


def test_an_analyst_speaks_about_a_company_not_for_the_firm_named_before_the_role() -> None:
    claims = extract("中信证券分析师张三表示，公司将加大研发投入。")
    assert claims and all(c.subject != "中信证券" for c in claims)


@pytest.mark.parametrize("text", [
    "报告显示，营收同比增长三成，创历史新高。",            # a report tells of an actor
    "行业数据显示，市场份额持续提升，位居行业第一。",      # data, then a metric
])
def test_a_source_of_news_or_a_metric_is_no_subject(text: str) -> None:
    assert_every_subject(text, None)


@pytest.mark.parametrize(("text", "subject"), [
    ("如果监管收紧，小型网贷平台恐怕难逃出局的命运。", "小型网贷平台"),  # a hedge ends it
        ("远山电器即将推出新一代空调。", "远山电器"),            # a time adverb
    ("星河手机一经上市便供不应求。", "星河手机"),
])
def test_a_hedge_or_time_adverb_after_the_name_is_not_part_of_it(text: str, subject: str) -> None:
    assert_every_subject(text, subject)


def test_a_metric_opening_the_clause_is_not_the_subject() -> None:
    # The company named before the speech verb is the actor, not the profit figure after it.
    assert_every_subject("远山电力披露2024年业绩预告，2024年归母净利润预计亏损3亿元。", "远山电力")
