"""Rule-pack loading: located errors for malformed packs, and packs that work end to end.

Every folder under ``tests/fixtures/packs/`` except ``good_*`` is a broken pack whose
``expected.txt`` lists, one a line, ``<file:line:col> <CODE> <fragment> | <fragment> …``:
each fragment must occur in the rendered problem (message or hint).
One parametrized test collects them (adding a case never means writing Python). The folder
is loaded as the pack unless a ``load.txt`` names sub-folders to load together.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claimx import Extractor, PackLoadError, PackProblem
from claimx.errors import CODES
from claimx.packs import RULE_KINDS, _PACK_SCHEMA, _SCHEMAS, load_packs

FIXTURES = Path(__file__).parent / "fixtures" / "packs"
BROKEN = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir() and not p.name.startswith("good"))


def _expected(case: Path) -> list[tuple[str, str, str]]:
    rows = []
    for line in (case / "expected.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            where, code, *words = line.split(" ", 2)
            rows.append((where, code, words[0] if words else ""))
    return rows


def _where(problem: PackProblem) -> str:
    return f"{problem.path}:{problem.line}:{problem.column}" if problem.line else problem.path


def _load_case(case: Path) -> PackLoadError:
    # Problems name files relative to the working directory: load from the fixtures folder
    # so expected.txt reads `every_problem/b_rules.yaml:7:12`.
    os.chdir(FIXTURES)
    load = case / "load.txt"
    targets = [case / name for name in load.read_text().split()] if load.exists() else [case]
    with pytest.raises(PackLoadError) as info:
        load_packs(targets)
    return info.value


@pytest.fixture(autouse=True)
def _keep_cwd(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(os.getcwd())  # restored after each test, whatever it changed


@pytest.mark.parametrize("name", BROKEN)
def test_broken_pack_reports_every_problem_located(name: str) -> None:
    case = FIXTURES / name
    error = _load_case(case)
    expected = _expected(case)
    got = sorted((_where(p), p.code) for p in error.problems)
    # Exactly the expected problems: every one reported, none twice, no follow-on noise.
    assert got == sorted((where, code) for where, code, _ in expected), str(error)
    for where, code, words in expected:
        rendered = [str(p) for p in error.problems if (_where(p), p.code) == (where, code)]
        fragments = [w.strip() for w in words.split(" | ")]
        assert any(all(f in r for f in fragments) for r in rendered), (fragments, rendered)
    for problem in error.problems:
        assert problem.code in CODES
        assert problem.hint, f"{problem} has no hint"
        assert str(problem).startswith(f"{_where(problem)}: {problem.code} ")
    # The exception's message carries every problem, one per line, for a terminal.
    assert str(error).splitlines()[1:] == [str(p) for p in error.problems]


def test_every_problem_case_covers_all_stages_at_once() -> None:
    error = _load_case(FIXTURES / "every_problem")
    codes = [p.code for p in error.problems]
    # read (YAML), schema (keys, values) and compile (regex, types, ids) together ...
    assert {"CX101", "CX110", "CX113", "CX120", "CX122", "CX123"} <= set(codes)
    # ... root causes first: the file that does not parse, then schema, then compile.
    stages = [int(code[2:4]) for code in codes]
    assert codes[0] == "CX101" and stages == sorted(stages)
    # The unknown var is not reported: the file that does not parse may define it.
    assert "CX121" not in codes and "skipped (unknown var)" in str(error.problems[0])


def test_unknown_vars_are_reported_when_every_file_reads() -> None:
    # The same var mistakes as in yaml_error_in_vars, with vars.yaml fixed and one var
    # misspelt: now each unknown var is a problem of its own.
    import shutil

    with tempfile.TemporaryDirectory() as tmp:
        pack = Path(tmp) / "fixed"
        shutil.copytree(FIXTURES / "yaml_error_in_vars", pack)
        (pack / "vars.yaml").write_text("vars:\n  green_goals: [碳中和]\n  pledge: [承诺]\n"
                                        "  deadlines: [年前]\n", encoding="utf-8")
        os.chdir(tmp)
        with pytest.raises(PackLoadError) as info:
            load_packs([pack])
    assert [(p.code, p.line, p.column, p.hint) for p in info.value.problems] == [
        ("CX121", 5, 26, "did you mean '$pledge'?"), ("CX121", 9, 17, "did you mean '$pledge'?")]


def test_unreadable_rule_file_is_located_not_raised(tmp_path: Path) -> None:
    os.chdir(tmp_path)
    pack = tmp_path / "unreadable"
    pack.mkdir()
    (pack / "pack.yaml").write_text("name: unreadable\nversion: '1'\nlanguage: zh\n",
                                    encoding="utf-8")
    (pack / "rules.yaml").mkdir()  # a folder where a rule file should be: read() fails
    (pack / "dangling.yaml").symlink_to(tmp_path / "missing-target.yaml")
    with pytest.raises(PackLoadError) as info:
        load_packs([pack])
    problems = sorted(info.value.problems, key=lambda p: p.path)
    assert [(p.path, p.code) for p in problems] == [
        ("unreadable/dangling.yaml", "CX100"), ("unreadable/rules.yaml", "CX100")]


def test_pack_yaml_that_is_not_a_mapping(tmp_path: Path) -> None:
    (tmp_path / "pack.yaml").write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(PackLoadError) as info:
        load_packs([tmp_path])
    assert [(p.code, p.line, p.column) for p in info.value.problems] == [("CX112", 1, 1)]


# --------------------------------------------------------------------------- working packs


def test_user_pack_with_its_own_claim_type_works_end_to_end() -> None:
    ex = Extractor(packs=[FIXTURES / "good_user_type"])
    # Two sentences: claims of one type on touching clauses would merge into one claim.
    text = "星河能源承诺2030年前实现碳中和。新工厂有望提前完成减排目标。"
    claims = ex.extract(text)
    assert [c.type for c in claims] == ["esg_commitment", "esg_commitment"]
    first, second = claims
    assert first.text == "星河能源承诺2030年前实现碳中和"
    assert second.text == "新工厂有望提前完成减排目标"
    assert set(first.rules) == {"esg.goal", "esg.pledge"}
    assert first.polarity == "positive"  # the declared type's default polarity
    assert first.modality == "asserted" and second.modality == "hedged"
    for c in claims:
        assert text[c.start:c.end] == c.text
    # An exception word stops its cue; the default pack's types are not known here.
    assert ex.extract("所谓伪碳中和不过是营销话术。") == []
    assert {p.name for p in ex.packs} == {"esg-demo"}


def test_user_pack_runs_alongside_the_default_pack() -> None:
    ex = Extractor(packs=["zh-business", FIXTURES / "good_user_type"])
    types = {c.type for c in ex.extract("该集团计划明年进军东南亚市场，并承诺2030年实现碳中和。")}
    assert {"strategic_intent", "esg_commitment"} <= types


def test_imported_vars_and_claim_types_resolve() -> None:
    ex = Extractor(packs=[FIXTURES / "good_imports" / "user"])
    (pack,) = ex.packs
    # Vars from a folder import and from a bundled pack by name are both visible ...
    assert "缺芯" in pack.vars["shortage_words"] and "计划" in pack.vars["plan_words"]
    # ... but only the importing pack's own rules are loaded.
    assert {r.id for r in pack.rules} == {"user.supply", "user.plan"}
    text = "受缺芯影响，该车企计划自建晶圆厂。"
    got = [(c.type, c.text) for c in ex.extract(text)]
    assert got == [("supply_risk", "受缺芯影响"), ("strategic_intent", "该车企计划自建晶圆厂")]


def test_bundled_pack_loads_cleanly_and_is_cached() -> None:
    first = load_packs(["zh-business"])
    assert load_packs(["zh-business"])[0] is first[0]
    kinds = {type(r).__name__ for r in first[0].rules}
    assert {"LexiconRule", "PatternRule", "ModifierRule", "SentimentRule"} <= kinds


# --------------------------------------------------------------------------- fuzzing

_HOLE = "HOLE-FOR-A-SNIPPET"  # replaced by a raw YAML snippet after dumping
_KEYS = sorted({k for schema in _SCHEMAS.values() for k in schema} | {"vars", "rules", "cuse"})
_WORDS = st.sampled_from(["风险", "$plan_words", "$nope", "", " ", "(a+)+$", "[", "(?P<claim>x)",
                          "lexicon", "pattern", "hedge", "forward", "positive", "risk", "0.5",
                          "clause", "!!int", "\\", "${", "$", _HOLE])
_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=True),
    _WORDS, st.text(st.characters(blacklist_categories=("Cs",)), max_size=8))
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.one_of(st.sampled_from(_KEYS), _WORDS,
                                                      st.integers(0, 3)), inner,
                                            max_size=4)),
    max_leaves=12)
_FIELD_VALUE = st.one_of(st.just(_HOLE), _SCALARS, st.lists(_WORDS, max_size=3), _VALUES)


@st.composite
def _rule(draw: st.DrawFn) -> dict:
    """A rule-like mapping: mostly a valid id and kind, with fields of that kind's schema
    (so the code behind each field is reached), each holding an odd or a valid value."""
    kind = draw(st.one_of(st.sampled_from(RULE_KINDS), _SCALARS))
    rule = {"id": draw(st.one_of(st.sampled_from(["r1", "r2"]), _SCALARS)), "kind": kind}
    keys = sorted(_SCHEMAS.get(kind, _SCHEMAS["lexicon"]) if isinstance(kind, str) else _KEYS)
    for key in draw(st.lists(st.sampled_from(keys), max_size=6, unique=True)):
        rule[key] = draw(_FIELD_VALUE)
    return rule


_RULE = _rule()
_STRUCTURED = st.fixed_dictionaries(
    {"rules": st.lists(_RULE, min_size=1, max_size=3)},
    optional={"vars": st.dictionaries(st.sampled_from(["plan_words", "a", "b"]), _VALUES,
                                      max_size=3)})
_DOC = st.one_of(_STRUCTURED, _STRUCTURED, _STRUCTURED, _VALUES)  # mostly rule-shaped
# YAML-level oddities a dumped document never contains: tags, aliases, bad escapes, tabs.
_SNIPPETS = st.sampled_from(["!!float x", "!!int y", "!custom 1", "!!binary ???", "*nope",
                             "&a [*a]", "? [k]\n: v", "\t", '"\\q"', "!!timestamp 2020-99-99",
                             "!!python/object:os.system ls", "{", "]", "- ", ": ", "%YAML 9",
                             "!!set {a, b}", "!!omap [x]", "1_0", "0x1g", ".nan", "<<: *a"])


@st.composite
def _rule_file_text(draw: st.DrawFn) -> str:
    text = yaml.safe_dump(draw(_DOC), allow_unicode=True, sort_keys=False)
    while _HOLE in text:  # a tagged or odd value exactly where a field's value goes
        text = text.replace(_HOLE, draw(_SNIPPETS).replace("\n", " "), 1)
    for _ in range(draw(st.integers(0, 3))):  # splice snippets in at random places
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(_SNIPPETS) + text[at:]
    return text


_VALID = {"lexicon": "type: risk\n  cues: [风险]", "pattern": "type: risk\n  pattern: 风险",
          "sequence": "type: risk\n  sequences: [[[面临], [风险]]]\n  max_gap: [4]",
          "modifier": "category: hedge\n  cues: [可能]",
          "sentiment": "polarity: negative\n  cues: [下跌]",
          "tokens": "type: risk\n  anchors: [风险]\n  patterns: [[{ORTH: 风险}]]"}


@st.composite
def _one_odd_field(draw: st.DrawFn) -> str:
    """A valid rule of some kind with one field (of its schema) set to an odd value: every
    field's checking and compiling code gets a raw YAML oddity in turn."""
    kind = draw(st.sampled_from(RULE_KINDS))
    field = draw(st.sampled_from(sorted(_SCHEMAS[kind])))
    value = draw(st.one_of(_SNIPPETS, _WORDS.filter(lambda w: w != _HOLE)))
    value = value.replace("\n", " ")
    lines = [f"rules:\n- id: r1\n  kind: {kind}\n  {_VALID[kind]}"]
    return "\n".join(lines) + f"\n  {field}: {value}\n"


@given(_one_odd_field())
def test_a_rule_with_one_odd_field_loads_or_gives_pack_load_error(text: str) -> None:
    _load_text_pack(_PACK_META, text)


_PACK_META = "name: fuzz\nversion: '1'\nlanguage: zh\nclaim_types: {risk: {polarity: negative}}\n"


def _load_text_pack(meta: str, rules: str | bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "pack.yaml").write_text(meta, encoding="utf-8")
        data = rules if isinstance(rules, bytes) else rules.encode("utf-8")
        (root / "rules.yaml").write_bytes(data)
        try:
            load_packs([root])
        except PackLoadError as exc:  # the only error a broken pack may surface as
            assert exc.problems
            for p in exc.problems:
                assert p.code in CODES and p.line >= 0 and p.column >= 0


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(_rule_file_text())
def test_any_yamlish_rule_file_loads_or_gives_pack_load_error(text: str) -> None:
    _load_text_pack(_PACK_META, text)


@settings(max_examples=100)
@given(st.binary(max_size=200))
def test_any_bytes_as_rule_file_load_or_give_pack_load_error(data: bytes) -> None:
    _load_text_pack(_PACK_META, data)


_META_VALUES = st.one_of(_VALUES, st.sampled_from(["zh-business", "no-such-pack", ">=99", "0.0.1"]))
# imports: only names that cannot reach outside the temp folder ('..' would scan its parent).
_IMPORTS = st.lists(st.sampled_from(["zh-business", "no-such-pack", "sub", "", "$x"]), max_size=2)


@st.composite
def _pack_yaml_text(draw: st.DrawFn) -> str:
    keys = sorted(k for k in _PACK_SCHEMA if k != "imports") + ["verison"]
    meta = draw(st.fixed_dictionaries({}, optional={k: _META_VALUES for k in keys}))
    if draw(st.booleans()):
        meta["imports"] = draw(_IMPORTS)
    text = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)
    while _HOLE in text:
        text = text.replace(_HOLE, draw(_SNIPPETS).replace("\n", " "), 1)
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(_SNIPPETS) + text[at:]
    return text


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(_pack_yaml_text())
def test_any_yamlish_pack_yaml_loads_or_gives_pack_load_error(meta: str) -> None:
    _load_text_pack(meta, "rules: []\n")


def test_fuzz_helpers_never_escape_the_temp_folder() -> None:
    # Guard for the strategy above: a relative import such as '..' must stay out of it.
    assert not any(".." in name or os.sep in name for name in
                   ["zh-business", "no-such-pack", "sub", "", "$x"])


# --------------------------------------------------------------------------- finding packs


class _FakeEntryPoint:
    """What ``importlib.metadata.entry_points`` yields for a distribution's pack."""

    def __init__(self, name: str, target: str) -> None:
        self.name = name
        self._target = target

    def load(self) -> str:
        return self._target


def test_installed_packs_are_found_through_entry_points(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.metadata

    from claimx.packs import available_packs, find_pack

    installed = FIXTURES / "good_user_type"
    shadowing = FIXTURES / "good_imports"
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group: [
        _FakeEntryPoint("acme-pack", str(installed)), _FakeEntryPoint("zh-business", str(shadowing))])
    assert find_pack("acme-pack") == installed
    # A bundled pack keeps its name: an installed pack cannot take it over.
    assert available_packs()["zh-business"].parent.name == "rules"
    assert find_pack("zh-business") == available_packs()["zh-business"]


def test_a_bundled_pack_is_found_without_scanning_installed_distributions(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.metadata

    from claimx.packs import find_pack

    def scan(group: str) -> list[_FakeEntryPoint]:
        raise AssertionError("scanned the entry points for a bundled pack")

    monkeypatch.setattr(importlib.metadata, "entry_points", scan)
    assert (find_pack("zh-business") / "pack.yaml").is_file()
    with pytest.raises(AssertionError):  # any other name still looks at installed packs
        find_pack("no-such-pack")


def test_regex_errors_point_into_the_pattern_as_written(tmp_path: Path) -> None:
    # Errors after a long $var, in a quoted pattern with escapes, and in a literal block:
    # each column is the one in the file, before the var was expanded.
    rules = ("vars:\n  moves: [扩产, 新建工厂, 收购, 进军海外市场]\n"
             "rules:\n"
             "  - id: r.after-var\n    kind: pattern\n    type: risk\n"
             "    pattern: $moves(?:扩产\n"
             "  - id: r.quoted\n    kind: pattern\n    type: risk\n"
             "    pattern: \"\\\\d+年[前后\"\n"
             "  - id: r.block\n    kind: pattern\n    type: risk\n"
             "    pattern: |\n      风险\n      (?:加大|上升){2,1}\n")
    pack = tmp_path / "p"
    pack.mkdir()
    (pack / "pack.yaml").write_text(_PACK_META, encoding="utf-8")
    (pack / "rules.yaml").write_text(rules, encoding="utf-8")
    os.chdir(tmp_path)
    with pytest.raises(PackLoadError) as info:
        load_packs([pack])
    lines = rules.splitlines()
    got = [(p.line, p.column) for p in info.value.problems]
    after_var = lines[6].index("(?:扩产") + 1
    quoted = lines[10].index("[前后") + 1
    assert got[:2] == [(7, after_var), (11, quoted)], [str(p) for p in info.value.problems]
    # The block's bad repeat, on its own line of the file: where the engine stopped, the
    # first bound of {2,1}.
    assert got[2] == (17, lines[16].index("{2,1}") + 2)
    assert all(p.code == "CX123" for p in info.value.problems)


_WORD = st.text(alphabet="经济营市场a", min_size=1, max_size=4)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(words=st.lists(_WORD, min_size=1, max_size=8),
       text=st.text(alphabet="经济营市场ab", max_size=12))
def test_grouped_var_alternation_matches_as_the_plain_one(words: list[str], text: str) -> None:
    """A var in a pattern is compiled with its words grouped by their first characters
    (packs._word_alternation, for speed): at every position, with backtracking into the
    var (a longer word that leaves no room for what follows gives way to a shorter one),
    it finds what the plain longest-first alternation finds."""
    import regex

    from claimx.packs import _word_alternation

    ordered = sorted(words, key=len, reverse=True)
    plain = "|".join(regex.escape(w) for w in ordered)
    grouped = _word_alternation(ordered)
    for shape in ("(?:{})", "(?:{})(?P<rest>场|a)", "(?<=(?:{}))b", "(?:{}){{2}}"):
        a = regex.compile(shape.format(plain), regex.VERSION1)
        b = regex.compile(shape.format(grouped), regex.VERSION1)
        for at in range(len(text) + 1):
            found_a, found_b = a.match(text, at), b.match(text, at)
            assert (found_a and found_a.regs) == (found_b and found_b.regs), (shape, at)
        assert [m.regs for m in a.finditer(text)] == [m.regs for m in b.finditer(text)]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(words=st.lists(_WORD, min_size=1, max_size=8),
       text=st.text(alphabet="经济营市场ab", max_size=12))
def test_a_var_in_a_lookbehind_is_grouped_by_last_characters_and_asks_the_same(
        words: list[str], text: str) -> None:
    """Inside a lookbehind a var's words are grouped by their last characters
    (packs._word_alternation_backward: the engine reads a lookbehind backwards), and the
    lookbehind holds at exactly the positions where it held with the plain alternation,
    alone or with a gap before it as the pack's rules write it."""
    import regex

    from claimx.packs import _word_alternation_backward

    ordered = sorted(words, key=len, reverse=True)
    plain = "|".join(regex.escape(w) for w in ordered)
    grouped = _word_alternation_backward(ordered)
    for shape in ("(?<=(?:{}))", "(?<!(?:{}))b", "(?<=(?:{})[^a]{{0,3}}?)(?:场|b)"):
        a = regex.compile(shape.format(plain))
        b = regex.compile(shape.format(grouped))
        for at in range(len(text) + 1):
            found_a, found_b = a.match(text, at), b.match(text, at)
            assert (found_a and found_a.regs) == (found_b and found_b.regs), (shape, at)


def test_a_pattern_compiles_vars_in_lookbehinds_backward_and_the_rest_forward() -> None:
    """Where a var stands decides how it is grouped: inside ``(?<=…)`` / ``(?<!…)`` by last
    characters, elsewhere (a lookahead, a named group ``(?<name>…)``, a class holding
    a parenthesis) by first characters."""
    from claimx.packs import _lookbehinds

    pattern = r"(?<=(?:$a|b)[^(]{0,6}?)x(?<name>$c)(?=$d)[(（]?(?<!y\(z)"
    spans = [pattern[start:end + 1] for start, end in _lookbehinds(pattern)]
    assert spans == ["(?<=(?:$a|b)[^(]{0,6}?)", r"(?<!y\(z)"]
    vars_ = {"a": ("经济", "救济"), "c": ("经济", "经营"), "d": ("经济", "救济")}
    from claimx.packs import _expand_pattern, _Problems

    expanded = _expand_pattern(pattern, vars_, None, "test", _Problems())
    assert expanded is not None
    compiled = expanded[0]
    assert "(?:(?:经|救)济)" in compiled  # $a, in the lookbehind
    assert "(?:经(?:济|营))" in compiled  # $c, in a named group
    assert "(?:经济|救济)" in compiled  # $d, in a lookahead: first characters differ
