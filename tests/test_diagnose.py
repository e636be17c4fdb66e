"""Why a rule missed (the ``why:`` of CX130): each step at which a rule can drop out is
named, with the word or span that made it (issue 14)."""

from __future__ import annotations


import pytest

from claimx import Extractor
from conftest import write_pack
from claimx.testing.diagnose import why_missed

PACK = "name: why\nversion: '1'\nlanguage: zh\nclaim_types: {plan: {}, loss: {}}\n" \
       "settings: {one_type_per_clause: true}\n"
RULES = """\
rules:
  - id: plan.word
    kind: lexicon
    type: plan
    cues: [扩产, 投资]
    exceptions: [投资者]
    veto: [传闻]
    veto_unless: [公告]
    not_after: [暂停]
  - id: plan.pattern
    kind: pattern
    type: plan
    pattern: 计划(?:明年|今年)新建
    anchors: [计划]
    match_at: anchors
  - id: plan.clause-start
    kind: pattern
    type: plan
    pattern: 将在
    anchors: [将在]
    match_at: clauses
  - id: plan.guarded
    kind: lexicon
    type: plan
    cues: [增资]
    veto_always: [拟议中]
    requires: [董事会, 股东会]
  - id: plan.mid-clause
    kind: lexicon
    type: plan
    cues: [回购]
    not_clause_initial: true
  - id: loss.seq
    kind: sequence
    type: loss
    sequences: [[[利润, 营收], [下滑, 下降]]]
    max_gap: 4
  - id: loss.word
    kind: lexicon
    type: loss
    cues: [亏损]
    prior: 0.9
  - id: mod.hedge
    kind: modifier
    category: hedge
    cues: [或将]
    direction: forward
    max_scope: 2
    scope: clause
  - id: mod.only-loss
    kind: modifier
    category: negation
    cues: [未]
    direction: forward
    scope: sentence
    allowed_types: [loss]
"""


@pytest.fixture(scope="module")
def extractor(tmp_path_factory: pytest.TempPathFactory) -> Extractor:
    return Extractor([write_pack(tmp_path_factory.mktemp("why") / "why", PACK, RULES)])


def _why(extractor: Extractor, rule_id: str, text: str) -> str:
    rule = next(r for r in extractor.compiled.rules if r.id == rule_id)
    return why_missed(extractor, rule, text)


@pytest.mark.parametrize(("rule_id", "text", "reason"), [
    ("plan.word", "公司今天召开股东大会。", "none of its cues (扩产, 投资) occurs in the text"),
    ("plan.word", "投资者对此反应平淡。", "its cue '投资' stands inside the exception '投资者'"),
    ("plan.word", "据传闻该公司将扩产。",
     "it matched {扩产}, but the veto word '传闻' is in the sentence (and none of its "
     "veto_unless words)"),
    ("plan.word", "公司决定暂停扩产。", "it matched {扩产}, but '暂停' stands just before it (not_after)"),
    ("plan.word", "市场传闻不断。公司将扩产。",
     "it matched {扩产}, but the veto word '传闻' is in the sentence before (and none of its "
     "veto_unless words)"),
    ("plan.guarded", "董事会通过拟议中的增资方案。",
     "it matched {增资}, but the veto_always word '拟议中' is in the sentence"),
    ("plan.guarded", "公司宣布增资。",
     "it matched {增资}, but none of its requires words (董事会, 股东会) is in the sentence"),
    ("plan.mid-clause", "回购完成。",
     "it matched {回购}, but it opens its clause (not_clause_initial)"),
    ("plan.pattern", "公司决定明年新建工厂。",
     "none of its anchors (计划) occurs in the text, so the pattern was not tried"),
    ("plan.pattern", "公司计划后年新建工厂。", "the pattern does not match (/计划(?:明年|今年)新建/)"),
    ("plan.clause-start", "公司将在明年投产。",
     "the pattern matches {将在}, but not where `match_at: clauses` tries it"),
    ("loss.seq", "公司利润大幅提升。", "step 2 (下滑, 下降) has no word in the text"),
    ("loss.seq", "公司利润在过去三个季度持续下滑。",
     "its steps occur, but not in order within 4 characters of each other in one clause"),
    ("plan.word", "扩产带来亏损。",
     "it matched {扩产}, but the clause went to loss (loss.word): another rule's claim type "
     "took the span (a clause carries one claim type)"),
    ("mod.hedge", "公司今天召开股东大会。", "none of its cues (或将) occurs in the text"),
    ("mod.hedge", "或将召开大会。", "its cue '或将' is there, but the text holds no claim for it to "
     "change"),
    ("mod.hedge", "公司或将于明年第三季度扩产。",
     "its cue '或将' reaches only {或将于明} (forward, clause, max_scope 2), and no claim cue "
     "stands there"),
    ("mod.only-loss", "公司未扩产。",
     "its allowed_types (loss) leave out the claims here (plan)"),
])
def test_each_reason_names_the_step_and_the_word(extractor: Extractor, rule_id: str, text: str,
                                                 reason: str) -> None:
    assert _why(extractor, rule_id, text) == reason
