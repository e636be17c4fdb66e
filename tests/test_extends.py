"""A pack on top of another: ``extends:``, ``disable:``, ``override: true``, how settings,
vars, claim types and calibration merge, declared modifier categories with
``allowed_types``, and the located errors of each (issue 14).

``tests/fixtures/packs/good_esg`` is the pack docs/rule-authoring.md walks through: it
extends zh-business, disables one bundled rule, overrides another, adds a claim type with
its own ``sentiment_claim_weights`` entry, its own calibration, a var extension and a
modifier category of its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from claimx import Extractor, PackLoadError
from claimx.assemble import calibrate, confidence
from claimx.match import Hit
from claimx.packs import _merge_settings, load_pack, load_packs

FIXTURES = Path(__file__).parent / "fixtures" / "packs"
ESG = FIXTURES / "good_esg"
REPO = Path(__file__).resolve().parent.parent

# Sentences written for these tests.
PURPOSE = "该集团承诺到2028年全面淘汰燃煤锅炉，以应对气候变化带来的挑战。"
GREEN_GOAL = "该集团的目标是2030年前实现碳中和。"
HEDGED_RISK = "若原材料价格继续上涨，公司利润可能大幅下滑。"


@pytest.fixture(scope="module")
def bundled() -> Extractor:
    return Extractor(["zh-business"])


@pytest.fixture(scope="module")
def esg() -> Extractor:
    return Extractor([ESG])


@pytest.fixture(autouse=True)
def _keep_cwd(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(os.getcwd())


def _rules_of(extractor: Extractor, text: str) -> set[str]:
    return {r for c in extractor.extract(text) for r in c.rules}


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


META = "name: {name}\nversion: '1'\nlanguage: zh\n"


def _problems(*packs: Path) -> list[tuple[str, str, int, int, str]]:
    with pytest.raises(PackLoadError) as info:
        load_packs(list(packs))
    return [(p.code, p.path, p.line, p.column, str(p)) for p in info.value.problems]


# --------------------------------------------------------------------------- the done-when pack


def test_the_esg_pack_loads_cleanly_and_reports_its_changes() -> None:
    pack = load_pack(ESG)
    assert pack.extends == ("zh-business",) and not pack.notes
    ids = {r.id for r in pack.rules}
    assert "intent.purpose" not in ids and {"esg.goal", "esg.achieved", "risk.condition"} <= ids
    goal = next(r for r in pack.rules if r.id == "intent.goal")
    assert goal.override and goal.pack == "esg-demo-plus"
    assert {r.id for r in pack.own_rules} == {"esg.goal", "intent.goal", "esg.achieved"}
    changes = {(c.rule_id, c.action, c.inherited_from) for c in pack.changes}
    assert changes == {("intent.purpose", "disabled", "zh-business"),
                       ("intent.goal", "overridden", "zh-business")}
    disabled = next(c for c in pack.changes if c.action == "disabled")
    assert (disabled.by.line, disabled.original.path.endswith("strategic_intent.yaml")) == (10, True)


def test_the_disabled_rule_no_longer_fires(bundled: Extractor, esg: Extractor) -> None:
    assert "intent.purpose" in _rules_of(bundled, PURPOSE)
    assert esg.extract(PURPOSE) == []


def test_the_overriding_rule_replaces_the_bundled_one(bundled: Extractor, esg: Extractor) -> None:
    assert [c.type for c in bundled.extract(GREEN_GOAL)] == ["strategic_intent"]
    (claim,) = esg.extract(GREEN_GOAL)
    assert (claim.type, claim.rules) == ("esg_commitment", ("esg.goal",))
    # The override still does the bundled rule's job elsewhere.
    assert "intent.goal" in _rules_of(esg, "公司力争三年内进入行业前三。")


def test_bundled_weights_still_apply_next_to_the_pack_s_own(bundled: Extractor,
                                                           esg: Extractor) -> None:
    weights = esg.compiled.settings["sentiment_claim_weights"]
    assert weights == {**bundled.compiled.settings["sentiment_claim_weights"], "esg_commitment": 0.5}
    connectives = esg.compiled.settings["leading_connectives"]
    assert connectives == bundled.compiled.settings["leading_connectives"] + ["与此同时还"]
    # The other settings are zh-business's, untouched.
    for key in ("subject_suffixes", "merge_gap", "one_type_per_clause", "causative_verbs"):
        assert esg.compiled.settings[key] == bundled.compiled.settings[key]


def test_calibration_applies_per_pack_to_its_own_rules(bundled: Extractor, esg: Extractor) -> None:
    (claim,) = esg.extract("星河能源承诺2030年前实现碳中和。")
    curve = load_pack(ESG).calibration
    # The pack's own curve on its own rule's prior (0.55), not the bundled curve's.
    assert claim.confidence == pytest.approx(calibrate(0.55, curve)) == pytest.approx(0.63)
    assert claim.confidence != pytest.approx(calibrate(0.55, bundled.compiled.calibration))
    # A claim of bundled rules scores as it does in zh-business alone.
    assert [c.confidence for c in esg.extract(HEDGED_RISK)] == [
        c.confidence for c in bundled.extract(HEDGED_RISK)]
    # Fitted priors carry over, but not of the rule it disables (intent.purpose) nor of the
    # one it overrides (intent.goal): the replacement is a different rule.
    assert esg.compiled.priors == {rule_id: prior for rule_id, prior in
                                   bundled.compiled.priors.items()
                                   if rule_id not in ("intent.purpose", "intent.goal")}


def test_an_overriding_rule_does_not_take_the_replaced_rule_s_fitted_prior(
        tmp_path: Path, bundled: Extractor) -> None:
    # A text only advantage.praise reads (a trade said to thrive, r25_ar, also reads 供不应求
    # after a trade word such as 车型).
    text = "今年前三季度，这款新车一直供不应求。"
    assert _rules_of(bundled, text) == {"advantage.praise"}
    fitted = bundled.compiled.priors["advantage.praise"]
    rules = ("rules:\n  - id: advantage.praise\n    kind: lexicon\n    type: advantage\n"
             "    override: true\n    prior: 0.3\n    cues: [供不应求]\n")
    pack = _write(tmp_path / "p", {"pack.yaml": META.format(name="p") + "extends: [zh-business]\n",
                                   "rules.yaml": rules})
    overriding = Extractor([pack])
    assert "advantage.praise" not in overriding.compiled.priors
    (claim,) = overriding.extract(text)
    # Its own prior, raw: its pack has no curve, and the bundled fit was of another rule.
    assert claim.rules == ("advantage.praise",) and claim.confidence == pytest.approx(0.3)
    assert fitted != pytest.approx(0.3)


def test_a_var_the_pack_extends_reaches_the_bundled_rules(bundled: Extractor,
                                                         esg: Extractor) -> None:
    text = "该行立誓收购一家券商。"  # 立誓 is the pack's addition to $plan_words
    assert "intent.plan-word" not in _rules_of(bundled, text)
    assert "intent.plan-word" in _rules_of(esg, text)
    assert load_pack(ESG).vars["plan_words"] == load_pack("zh-business").vars["plan_words"] + (
        "矢志", "立誓")


def test_the_bundled_modifiers_apply_to_the_pack_s_claims(esg: Extractor) -> None:
    (claim,) = esg.extract("该厂可能无法实现碳中和。")
    assert claim.type == "esg_commitment" and claim.modality == "hedged"
    (claim,) = esg.extract(HEDGED_RISK)
    assert claim.modality == "hedged"


def test_the_pack_s_own_modifier_category_labels_only_allowed_types(esg: Extractor) -> None:
    (claim,) = esg.extract("该厂已提前实现碳中和。")
    assert [m.label for m in claim.evidence.modifiers] == ["target_past"]
    assert claim.modality == "asserted"  # an own category changes no modality
    # allowed_types: [esg_commitment] — a strategic claim in its reach is left alone.
    claims = esg.extract("该集团已实现计划明年在东南亚新建两座工厂。")
    assert claims and all(c.type == "strategic_intent" for c in claims)
    assert all("target_past" not in [m.label for m in c.evidence.modifiers] for c in claims)


def test_loading_the_extended_pack_alongside_changes_nothing(esg: Extractor) -> None:
    both = Extractor(["zh-business", ESG])
    for text in (PURPOSE, GREEN_GOAL, HEDGED_RISK, "该厂已提前实现碳中和。"):
        assert both.extract(text) == esg.extract(text)


def test_claimx_test_on_the_folder_alone_runs_with_the_bundled_modifiers(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "claimx", "test", str(ESG)], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    # Its own 6 examples and 5 test sentences (hedged, negated: bundled modifiers); the
    # bundled rules' own examples are zh-business's to test.
    assert "11 cases: 11 passed, 0 failed, 0 todo" in out.stdout
    table = out.stdout.split("\n\n")[0]
    assert "esg.goal" in table and "intent.purpose" not in table


def test_pytest_plugin_loads_the_extended_pack(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
                          "--claimx", str(ESG)], cwd=tmp_path, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "11 passed" in out.stdout


# --------------------------------------------------------------------------- merge rules


def test_settings_merge_rules() -> None:
    base = {"weights": {"a": 1.0, "b": 2.0}, "words": ["x", "y"], "gap": 1, "flag": True}
    own = {"weights": {"b": 5.0, "c": 3.0}, "words": {"extend": ["y", "z"]}, "gap": 2}
    assert _merge_settings(base, own) == {
        "weights": {"a": 1.0, "b": 5.0, "c": 3.0},  # key by key, the extending pack wins
        "words": ["x", "y", "z"],  # extended, duplicates dropped
        "gap": 2, "flag": True}
    assert _merge_settings(base, {"words": ["q"]})["words"] == ["q"]  # a plain list replaces
    assert _merge_settings({}, {"words": {"extend": ["q"]}})["words"] == ["q"]


_SETTING = st.one_of(st.integers(), st.lists(st.sampled_from("abcd"), max_size=3),
                     st.dictionaries(st.sampled_from("abc"), st.integers(), max_size=3))


@given(st.dictionaries(st.sampled_from("pqrs"), _SETTING),
       st.dictionaries(st.sampled_from("pqrs"), _SETTING))
def test_the_extending_pack_wins_and_loses_nothing_of_the_base(base: dict, own: dict) -> None:
    merged = _merge_settings(base, own)
    assert set(merged) == set(base) | set(own)
    for key, value in merged.items():
        if key not in own:
            assert value == base[key]
        elif isinstance(own[key], dict) and isinstance(base.get(key), dict):
            assert value == {**base[key], **own[key]}
            assert all(value[k] == v for k, v in own[key].items())
        else:
            assert value == own[key]


def test_vars_replace_or_extend_and_imports_keep_their_narrow_meaning(tmp_path: Path) -> None:
    _write(tmp_path / "base", {
        "pack.yaml": META.format(name="base") + "claim_types: {risk: {}}\n"
                     "settings: {merge_gap: 3}\n",
        "rules.yaml": "vars:\n  a: [甲]\n  b: [乙]\nrules:\n  - id: base.a\n    kind: lexicon\n"
                      "    type: risk\n    cues: [$a]\n  - id: mod.neg\n    kind: modifier\n"
                      "    category: negation\n    cues: [不]\n"})
    extending = _write(tmp_path / "ext", {
        "pack.yaml": META.format(name="ext") + "extends: [../base]\n",
        "vars.yaml": "vars:\n  a: [丙]\n  b: {extend: [丁]}\n  c: [$b, 戊]\n"})
    importing = _write(tmp_path / "imp", {
        "pack.yaml": META.format(name="imp") + "imports: [../base]\n",
        "vars.yaml": "vars:\n  a: [丙]\n  b: {extend: [丁]}\n"})
    ext = load_pack(extending)
    assert (ext.vars["a"], ext.vars["b"], ext.vars["c"]) == (("丙",), ("乙", "丁"), ("乙", "丁", "戊"))
    # A replaced var replaces it for the inherited rule too.
    assert next(r for r in ext.rules if r.id == "base.a").cues == ("丙",)
    assert ext.settings == {"merge_gap": 3} and not ext.notes
    imp = load_pack(importing)
    assert {r.id for r in imp.rules} == set() and imp.settings == {}
    assert (imp.vars["a"], imp.vars["b"]) == (("丙",), ("乙", "丁"))
    # Importing is not extending: said once, with the fix; a shadowed var is said too.
    notes = [(n.code, n.severity, n.line) for n in imp.notes]
    assert notes == [("CX150", "warning", 4), ("CX151", "warning", 2)]
    assert "extends: [../base]" in imp.notes[0].hint


def test_a_claim_type_s_veto_always_follows_the_extending_pack(tmp_path: Path) -> None:
    _write(tmp_path / "base", {
        "pack.yaml": META.format(name="base")
                     + "claim_types: {risk: {polarity: negative, veto_always: [$habits]}}\n",
        "rules.yaml": "vars:\n  habits: [一般而言]\nrules:\n  - id: base.stall\n"
                      "    kind: lexicon\n    type: risk\n    cues: [陷入停滞]\n"
                      "    veto_always: [试点]\n"})
    redefined = load_pack(_write(tmp_path / "redefined", {
        "pack.yaml": META.format(name="redefined") + "extends: [../base]\n",
        "vars.yaml": "vars:\n  habits: [按惯例]\n"}))
    redeclared = load_pack(_write(tmp_path / "redeclared", {
        "pack.yaml": META.format(name="redeclared") + "extends: [../base]\n"
                     "claim_types: {risk: {polarity: negative, description: own words}}\n"}))
    added = load_pack(_write(tmp_path / "added", {
        "pack.yaml": META.format(name="added") + "extends: [../base]\n"
                     "claim_types: {risk: {polarity: negative, veto_always: [例行]}}\n"}))

    def words(pack):  # type: ignore[no-untyped-def]
        rule = next(r for r in pack.rules if r.id == "base.stall")
        return rule.veto_always, pack.claim_types["risk"].veto_always

    # A var the extending pack redefines reaches the type's list and so the inherited rule;
    assert words(redefined) == (("试点", "按惯例"), ("按惯例",))
    # a type redeclared without the field keeps the list it had;
    assert words(redeclared) == (("试点", "一般而言"), ("一般而言",))
    assert redeclared.claim_types["risk"].description == "own words"
    # a type given a new list passes it to the rules it inherits, in place of the old one.
    assert words(added) == (("试点", "例行"), ("例行",))
    extractor = Extractor([tmp_path / "added"])
    assert not extractor.extract("工地例行检修，生产线陷入停滞。")
    assert [c.rules for c in extractor.extract("一般而言，生产线陷入停滞。")] == [("base.stall",)]


# --------------------------------------------------------------------------- located errors


def test_unknown_ids_in_disable_and_override_are_located_with_a_did_you_mean(
        tmp_path: Path) -> None:
    pack = _write(tmp_path / "p", {
        "pack.yaml": META.format(name="p") + "extends: [zh-business]\n"
                     "disable: [intent.purpse, p.own]\n",
        "rules.yaml": "rules:\n  - id: p.own\n    kind: lexicon\n    type: risk\n    cues: [x]\n"
                      "  - id: risk.conditon\n    kind: lexicon\n    type: risk\n"
                      "    override: true\n    cues: [y]\n"
                      "  - id: risk.condition\n    kind: lexicon\n    type: risk\n    cues: [z]\n"})
    os.chdir(tmp_path)
    got = _problems(pack)
    assert [(code, path, line, col) for code, path, line, col, _ in got] == [
        ("CX120", "p/rules.yaml", 11, 5), ("CX131", "p/pack.yaml", 5, 11),
        ("CX131", "p/pack.yaml", 5, 26), ("CX132", "p/rules.yaml", 6, 5)]
    text = "\n".join(t for *_, t in got)
    assert "disable: no extended pack has a rule 'intent.purpse' (hint: did you mean 'intent.purpose'?)" in text
    assert "'p.own' is a rule of this pack" in text and "enabled: false" in text
    assert "has `override: true`, but no extended pack has a rule of that id (hint: did you mean 'risk.condition'?)" in text
    assert "already a rule of extended pack 'zh-business'" in text and "override: true" in text


def test_extends_follows_the_import_safety_rules(tmp_path: Path) -> None:
    outside = _write(tmp_path / "outside", {"pack.yaml": META.format(name="outside")})
    line = f"extends: [{outside}, ../../outside, zh-busines]"
    pack = _write(tmp_path / "box" / "p", {"pack.yaml": META.format(name="p") + line + "\n"})
    os.chdir(tmp_path)
    got = [(code, col, text) for code, _, _, col, text in _problems(pack)]
    columns = [line.index(item) + 1 for item in (str(outside), "../../outside", "zh-busines")]
    assert [(code, col) for code, col, _ in got] == list(zip(("CX105", "CX105", "CX125"), columns))
    assert "did you mean 'zh-business'?" in got[2][2]


def test_an_extends_cycle_and_a_same_name_base_are_errors(tmp_path: Path) -> None:
    a = _write(tmp_path / "a", {"pack.yaml": META.format(name="a") + "extends: [../b]\n"})
    _write(tmp_path / "b", {"pack.yaml": META.format(name="b") + "extends: [../a]\n"})
    os.chdir(tmp_path)
    assert [code for code, *_ in _problems(a)] == ["CX129"]
    twin = _write(tmp_path / "twin", {"pack.yaml": META.format(name="zh-business")
                                      + "extends: [zh-business]\n"})
    assert [code for code, *_ in _problems(twin)] == ["CX129"]


def test_a_broken_base_is_one_root_cause_not_a_cascade(tmp_path: Path) -> None:
    _write(tmp_path / "base", {"pack.yaml": META.format(name="base") + "claim_types: {risk: {}}\n",
                               "rules.yaml": "rules: [\n"})
    pack = _write(tmp_path / "p", {
        "pack.yaml": META.format(name="p") + "extends: [../base]\ndisable: [base.x]\n",
        "rules.yaml": "rules:\n  - id: p.x\n    kind: lexicon\n    type: risk\n    cues: [$words]\n"})
    os.chdir(tmp_path)
    got = _problems(pack)
    # The base's YAML error only: the unknown var and disable id depend on it (its rule
    # file may define them).
    assert [(code, path) for code, path, *_ in got] == [("CX101", "base/rules.yaml")]
    assert "2 checks that depend on it were skipped (unknown var, disable)" in got[0][4]


def test_modifier_categories_and_allowed_types_are_checked(tmp_path: Path) -> None:
    pack = _write(tmp_path / "p", {
        "pack.yaml": META.format(name="p") + "claim_types: {risk: {}}\n"
                     "modifier_categories: {target_past: {description: done}, hedge: {}}\n",
        "rules.yaml": "rules:\n  - id: m.one\n    kind: modifier\n    category: negaton\n"
                      "    cues: [不]\n  - id: m.two\n    kind: modifier\n    category: target_past\n"
                      "    allowed_types: [riks]\n    cues: [已]\n"})
    os.chdir(tmp_path)
    got = [(code, line, text) for code, _, line, _, text in _problems(pack)]
    assert [(code, line) for code, line, _ in got] == [("CX113", 5), ("CX113", 4), ("CX122", 9)]
    assert "'hedge' is built in" in got[0][2]
    assert "did you mean 'negation'?" in got[1][2] and "did you mean 'risk'?" in got[2][2]


def test_allowed_types_limits_a_built_in_modifier(tmp_path: Path) -> None:
    pack = _write(tmp_path / "p", {
        "pack.yaml": META.format(name="p") + "claim_types: {plan: {}, loss: {}}\n",
        "rules.yaml": "rules:\n  - id: c.plan\n    kind: lexicon\n    type: plan\n    cues: [扩产]\n"
                      "  - id: c.loss\n    kind: lexicon\n    type: loss\n    cues: [亏损]\n"
                      "  - id: m.hedge\n    kind: modifier\n    category: hedge\n    cues: [或将]\n"
                      "    direction: forward\n    scope: sentence\n    allowed_types: [loss]\n"})
    claims = Extractor([pack]).extract("公司或将扩产，二季度或将亏损。")
    assert [(c.type, c.modality) for c in claims] == [("plan", "asserted"), ("loss", "hedged")]


def test_a_neutral_polarity_category_makes_the_claims_it_reaches_neutral(tmp_path: Path) -> None:
    # settings.neutral_polarity_categories: a claim a modifier of such a category reaches
    # states no direction (the bundled pack's `collective`: a move many actors make at once).
    pack = _write(tmp_path / "p", {
        "pack.yaml": META.format(name="p") + "claim_types: {plan: {polarity: positive}}\n"
                     "modifier_categories: {collective: {description: many at once}}\n"
                     "settings: {neutral_polarity_categories: [collective]}\n",
        "rules.yaml": "rules:\n  - id: c.plan\n    kind: lexicon\n    type: plan\n"
                      "    cues: [扩产]\n  - id: m.many\n    kind: modifier\n"
                      "    category: collective\n    cues: [纷纷]\n    direction: forward\n"
                      "    scope: clause\n"})
    claims = Extractor([pack]).extract("星河电池计划扩产。多家电池厂纷纷扩产。")
    assert [(c.text, c.polarity) for c in claims] == [("星河电池计划扩产", "positive"),
                                                     ("多家电池厂纷纷扩产", "neutral")]
    # A value that is not a list of category names is a located pack problem.
    bad = _write(tmp_path / "q", {
        "pack.yaml": META.format(name="q") + "claim_types: {plan: {}}\n"
                     "settings: {neutral_polarity_categories: 3}\n",
        "rules.yaml": "rules:\n  - id: c.plan\n    kind: lexicon\n    type: plan\n"
                      "    cues: [扩产]\n"})
    assert [code for code, *_ in _problems(bad)] == ["CX112"]


def test_speech_verbs_let_an_announcing_name_stand_for_the_self_reference(
        tmp_path: Path) -> None:
    # settings.subject_speech_verbs / subject_time_words / subject_speaker_roles: a pack
    # names how its prose announces a company's own words (星河化工晚间公告，公司拟…).
    settings = ("settings: {subject_self_refs: [公司], subject_stops: [拟],"
                " subject_speech_verbs: [公告], subject_time_words: [晚间],"
                " subject_speaker_roles: [分析师]}\n")
    rules = "rules:\n  - id: c.plan\n    kind: lexicon\n    type: plan\n    cues: [扩产]\n"
    pack = _write(tmp_path / "p", {
        "pack.yaml": META.format(name="p") + "claim_types: {plan: {}}\n" + settings,
        "rules.yaml": rules})
    extractor = Extractor([pack])
    assert [c.subject for c in extractor.extract("星河化工晚间公告，公司拟扩产。")] == ["星河化工"]
    assert [c.subject for c in extractor.extract("分析师公告，公司拟扩产。")] == ["公司"]
    # Each is a list of strings, or a located pack problem.
    bad = _write(tmp_path / "q", {
        "pack.yaml": META.format(name="q") + "claim_types: {plan: {}}\n"
                     "settings: {subject_speech_verbs: 3, subject_time_words: {a: 1}}\n",
        "rules.yaml": rules})
    assert [code for code, *_ in _problems(bad)] == ["CX112", "CX112"]


def test_claims_resting_on_two_packs_combine_their_calibrated_scores() -> None:
    from claimx.packs import LexiconRule, SourceLocation

    where = SourceLocation("x.yaml", 1, 1)

    def rule(rule_id: str, pack: str, prior: float) -> LexiconRule:
        return LexiconRule(id=rule_id, pack=pack, source=where, description="", examples=(),
                           type="t", polarity=None, prior=prior, span="clause", cues=("x",),
                           exceptions=(), context=())

    hits = [Hit(0, 1, rule("a.1", "a", 0.5)), Hit(2, 3, rule("b.1", "b", 0.4))]
    curve_a = ((0.0, 0.0), (1.0, 0.5))
    score, steps = confidence(hits, [], (), calibrations={"a": curve_a})
    # a: its curve on 0.5 = 0.25; b: no curve, 0.4 as is; packs by noisy-OR.
    assert score == pytest.approx(1 - (1 - 0.25) * (1 - 0.4))
    assert steps[-1].startswith("noisy-OR of the packs' scores 0.250, 0.400")
    # One pack: the single-pack steps, unchanged.
    assert confidence(hits[:1], [], curve_a)[1] == (
        "noisy-OR of rule priors a.1=0.50 = 0.500", "calibrated = 0.250")


def test_installed_pack_example_in_the_docs_is_the_fixture() -> None:
    # docs/rule-authoring.md shows this pack: keep them the same.
    doc = (REPO / "docs" / "rule-authoring.md").read_text(encoding="utf-8")
    for name in ("pack.yaml", "esg.yaml"):
        text = (ESG / name).read_text(encoding="utf-8")
        assert text.strip() in doc, f"docs/rule-authoring.md does not show {name} as is"


def test_explain_and_packs_json_report_what_was_disabled_and_overridden(tmp_path: Path) -> None:
    def cli(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "claimx", *args], cwd=ESG.parent,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout

    import json

    (entry,) = json.loads(cli("packs", ESG.name, "--json"))
    assert (entry["name"], entry["extends"], entry["own_rules"]) == ("esg-demo-plus",
                                                                     ["zh-business"], 3)
    (disabled,) = entry["disabled"]
    (overridden,) = entry["overridden"]
    assert disabled["rule"] == "intent.purpose" and disabled["by"] == "good_esg/pack.yaml:10:11"
    # The rule's place in the bundled pack, read from the file rather than written down,
    # so that editing the bundled pack above it does not break this test.
    bundled_file = Path(__file__).parents[1] / "claimx/rules/zh-business/strategic_intent.yaml"
    (line,) = [n for n, text in enumerate(bundled_file.read_text("utf-8").splitlines(), 1)
               if text == "  - id: intent.purpose"]
    assert disabled["original"].endswith(f"zh-business/strategic_intent.yaml:{line}:5")
    assert overridden["rule"] == "intent.goal" and overridden["by"] == "good_esg/esg.yaml:22:5"
    # The pack's own category, and those of the pack it extends.
    bundled = yaml.safe_load((bundled_file.parent / "pack.yaml").read_text("utf-8"))
    inherited = {name: spec["description"]
                 for name, spec in bundled.get("modifier_categories", {}).items()}
    assert entry["modifier_categories"] == {
        "target_past": "a green target already reached (已提前实现 …)", **inherited}
    report = cli("explain", "--pack", ESG.name, GREEN_GOAL)
    assert report.startswith("packs (1):\n  esg-demo-plus 0.1.0 (good_esg), extends zh-business")
    assert "     disabled   intent.purpose of zh-business (" in report
    assert "by esg-demo-plus at good_esg/pack.yaml:10:11" in report
    assert "     overridden intent.goal of zh-business (" in report
    # The available packs, as before: the bundled one, extending nothing.
    bundled = {p["name"]: p for p in json.loads(cli("packs", "--json"))}["zh-business"]
    assert bundled["extends"] == [] and bundled["disabled"] == [] and bundled["overridden"] == []


def test_a_rule_can_state_the_modality_its_own_cue_carries(tmp_path: Path) -> None:
    # A denial cue (不存在…的情形) is the claim's own cue, so no negation modifier can reach
    # it (a modifier never modifies a cue it overlaps): the rule says `modality: negated`.
    # Its polarity is the claim's as written (no flip); a modifier still decides where one
    # reaches (a question stays a question).
    pack = _write(tmp_path / "p", {
        "pack.yaml": META.format(name="p") + "claim_types: {risk: {polarity: negative}}\n",
        "rules.yaml": "rules:\n  - id: r.denied\n    kind: lexicon\n    type: risk\n"
                      "    cues: [不存在违规情形]\n    modality: negated\n"
                      "  - id: r.plain\n    kind: lexicon\n    type: risk\n    cues: [违规]\n"
                      "  - id: m.q\n    kind: modifier\n    category: question\n"
                      "    cues: [是否]\n    direction: forward\n    scope: clause\n"})
    claims = Extractor([pack]).extract(
        "星河股份称不存在违规情形。华辰物流存在违规。星河股份是否不存在违规情形？")
    assert [(c.text, c.modality, c.polarity) for c in claims] == [
        ("星河股份称不存在违规情形", "negated", "negative"),
        ("华辰物流存在违规", "asserted", "negative"),
        ("星河股份是否不存在违规情形", "question", "negative")]
    # A modality that does not exist is a located pack problem, with the others listed.
    bad = _write(tmp_path / "q", {
        "pack.yaml": META.format(name="q") + "claim_types: {risk: {}}\n",
        "rules.yaml": "rules:\n  - id: r.denied\n    kind: lexicon\n    type: risk\n"
                      "    cues: [不存在]\n    modality: denied\n"})
    assert [code for code, *_ in _problems(bad)] == ["CX113"]
