"""Tests for claimx.testing: the annotated test-file format, the runner and its confusion
table, and that a broken rule fails both `claimx test` and pytest with a located diff."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claimx.testing import (
    AnnotationError,
    Runner,
    mark_spans,
    overlaps_enough,
    parse_annotated,
)

# --------------------------------------------------------------------------- parser


def test_marker_gives_type_span_and_attributes() -> None:
    (line,) = parse_annotated("星河科技【risk|hedged|negative|subject=星河科技: 可能面临亏损】。")
    assert line.sentence == "星河科技可能面临亏损。"
    (exp,) = line.expected
    assert (exp.type, exp.modality, exp.polarity, exp.subject, exp.todo) == (
        "risk", "hedged", "negative", "星河科技", False)
    assert line.sentence[exp.start:exp.end] == exp.text == "可能面临亏损"
    assert not line.partial and not line.todo


def test_full_width_colon_and_several_markers() -> None:
    (line,) = parse_annotated("【advantage：品牌优势明显】，但【risk|todo: 渠道仍面临挑战】。")
    assert line.sentence == "品牌优势明显，但渠道仍面临挑战。"
    assert [(e.type, e.text, e.todo) for e in line.expected] == [
        ("advantage", "品牌优势明显", False), ("risk", "渠道仍面临挑战", True)]
    assert [line.sentence[e.start:e.end] for e in line.expected] == ["品牌优势明显", "渠道仍面临挑战"]


def test_comments_blank_lines_prefixes_and_line_numbers() -> None:
    text = "# comment\n\n  公司召开股东大会。\n~【risk: 利润下滑】，其他不管。\ntodo: 【risk: 现金流紧张】。\n"
    lines = parse_annotated(text, "t.txt")
    assert [(l.line, l.sentence, l.partial, l.todo) for l in lines] == [
        (3, "公司召开股东大会。", False, False),
        (4, "利润下滑，其他不管。", True, False),
        (5, "现金流紧张。", False, True)]
    assert lines[0].expected == ()


def test_escapes_keep_literal_brackets_hash_and_tilde() -> None:
    lines = parse_annotated("\\【快讯\\】【risk: 股价\\\\下跌】\n\\# 开头的句子\n\\~波浪开头\n")
    assert [l.sentence for l in lines] == ["【快讯】股价\\下跌", "# 开头的句子", "~波浪开头"]
    exp = lines[0].expected[0]
    assert lines[0].sentence[exp.start:exp.end] == "股价\\下跌"


@pytest.mark.parametrize(("text", "column", "words"), [
    ("公司【risk 亏损】。", 3, "lacks ':'"),
    ("公司【risk: 亏损。", 3, "never closed"),
    ("公司亏损】。", 5, "without an opening"),
    ("公司【risk|maybe: 亏损】。", 3, "unknown marker attribute 'maybe'"),
    ("公司【risk: 亏【advantage: 损】】。", 11, "do not nest"),
    ("公司【: 亏损】。", 3, "needs a claim type"),
    ("公司【risk:   】。", 3, "empty span"),
    ("公司【risk|hedged|question: 亏损】。", 3, "modality twice"),
    ("~公司没有标记。", 1, "marks none"),
])
def test_malformed_markers_raise_located_errors(text: str, column: int, words: str) -> None:
    with pytest.raises(AnnotationError) as info:
        parse_annotated("# header\n" + text, "pack/tests/x.txt")
    err = info.value
    assert (err.path, err.line, err.column) == ("pack/tests/x.txt", 2, column)
    assert words in str(err)
    assert str(err).startswith(f"pack/tests/x.txt:2:{column}: ")


_PLAIN = st.text(alphabet=st.characters(blacklist_characters="【】\\\n\r:：|#~",
                                        blacklist_categories=("Cs", "Zl", "Zp", "Cc")),
                 min_size=1, max_size=12).filter(lambda s: s.strip() == s and s.strip())
_SPECIAL = st.sampled_from(["【", "】", "\\", "#", "~", "，", "。", "："])


@settings(max_examples=300)
@given(pieces=st.lists(st.tuples(_PLAIN, st.booleans()), min_size=1, max_size=5),
       lead=_PLAIN)
def test_marked_spans_round_trip(pieces: list[tuple[str, bool]], lead: str) -> None:
    """Whatever the prose, each marker's span is exactly the marked stretch of the sentence."""
    text = lead + "".join(f"【risk: {p}】" if marked else p for p, marked in pieces)
    (line,) = parse_annotated(text)
    assert line.sentence == lead + "".join(p for p, _ in pieces)
    assert [e.text for e in line.expected] == [p for p, marked in pieces if marked]
    for exp in line.expected:
        assert line.sentence[exp.start:exp.end] == exp.text


@settings(max_examples=300)
@given(st.lists(st.one_of(_PLAIN, _SPECIAL), min_size=1, max_size=8))
def test_escaped_text_parses_back_to_itself(parts: list[str]) -> None:
    """Escaping 【 】 \\ (and a leading # or ~) makes any text a plain, marker-free line."""
    raw = "".join(parts).strip()
    if not raw:
        return
    escaped = "".join("\\" + ch if ch in "【】\\" else ch for ch in raw)
    if escaped[0] in "#~":
        escaped = "\\" + escaped
    (line,) = parse_annotated(escaped)
    assert line.sentence == raw and line.expected == ()


# --------------------------------------------------------------------------- helpers


def test_overlap_rule_is_half_of_the_shorter_span() -> None:
    assert overlaps_enough(0, 10, 5, 9)          # the shorter span lies inside
    assert overlaps_enough(0, 4, 2, 20)          # 2 of the shorter 4
    assert not overlaps_enough(0, 5, 3, 20)      # 2 of the shorter 5
    assert not overlaps_enough(0, 3, 3, 6)       # touching is no overlap


def test_mark_spans_brackets_expected_and_braces_got() -> None:
    assert mark_spans("abcdef", [(1, 3)], [(2, 5)]) == "a[b{c]de}f"
    assert mark_spans("abcdef", [(1, 3)], [(1, 3)]) == "a[{bc}]def"
    assert mark_spans("abc", [], []) == "abc"


# --------------------------------------------------------------------------- runner

PACK_YAML = """\
name: guidance-test
version: "0.1.0"
language: zh
claim_types:
  guidance:
    polarity: neutral
    description: an earnings forecast
"""

RULES_YAML = """\
rules:
  - id: guidance.forecast
    kind: lexicon
    type: guidance
    cues: [业绩预告, 预计全年净利润]
    span: clause
    examples:
      match:
        - text: 公司发布业绩预告，上半年利润增长。
          expect: {{type: guidance}}
      no_match:
        - 公司召开股东大会。
  - id: mod.hedge
    kind: modifier
    category: hedge
    cues: [{hedge}]
    direction: forward
    scope: sentence
    examples:
      match:
        - text: 公司可能预计全年净利润下降。
          expect: {{modality: hedged}}
      no_match:
        - 公司预计全年净利润下降。
"""

TESTS_TXT = """\
# guidance tests
【guidance: 公司发布业绩预告】。
公司今天召开股东大会。
【guidance|hedged: 公司可能预计全年净利润翻番】。
【guidance|todo: 管理层给出了明年的营收指引】。
【guidance: 集团称订单饱满】。
"""


def _make_pack(root: Path, hedge: str = "可能", tests: str = TESTS_TXT) -> Path:
    pack = root / "guidance-test"
    (pack / "tests").mkdir(parents=True)
    (pack / "pack.yaml").write_text(PACK_YAML, encoding="utf-8")
    (pack / "guidance.yaml").write_text(RULES_YAML.format(hedge=hedge), encoding="utf-8")
    (pack / "tests" / "guidance.txt").write_text(tests, encoding="utf-8")
    return pack


def test_runner_confusion_failures_and_todos(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    runner = Runner([_make_pack(tmp_path)])
    cases = runner.cases()
    assert [c.id for c in cases] == [
        "guidance-test::guidance.forecast#1", "guidance-test::guidance.forecast#2",
        "guidance-test::mod.hedge#1", "guidance-test::mod.hedge#2",
        "guidance-test::tests/guidance.txt:2", "guidance-test::tests/guidance.txt:3",
        "guidance-test::tests/guidance.txt:4", "guidance-test::tests/guidance.txt:5",
        "guidance-test::tests/guidance.txt:6"]
    report = runner.run_all(cases)
    # Only line 6 fails: nothing in it says guidance.
    assert [o.case.id for o in report.failed] == ["guidance-test::tests/guidance.txt:6"]
    assert len(report.todos) == 1 and "营收指引" in str(report.todos[0])
    table = report.confusion()
    assert table["guidance.forecast"]["tp"] == 3      # example 1 and lines 2, 4
    assert table["mod.hedge"]["tp"] == 1
    assert table["(guidance)"]["fn"] == 1 and table["(guidance)"]["todo"] == 1
    assert "guidance.forecast" in report.format_table()
    assert "9 cases: 8 passed, 1 failed, 1 todo" in report.summary()
    failure = report.format_failures()
    assert ("guidance-test/tests/guidance.txt:6: expected guidance [集团称订单饱满] got nothing there\n"
            "    [集团称订单饱满]。") in failure


def test_false_positive_and_wrong_modality_are_reported(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    tests = "公司发布业绩预告。\n【guidance|question: 公司发布业绩预告】。\n~【guidance: 公司发布业绩预告】。\n"
    runner = Runner([_make_pack(tmp_path, tests=tests)])
    report = runner.run_all(c for c in runner.cases() if c.line is not None)
    texts = [str(f) for o in report.failed for f in o.failures]
    assert texts == [
        "guidance-test/tests/guidance.txt:1: expected no claim got guidance|asserted|neutral "
        "{公司发布业绩预告} by guidance.forecast\n    {公司发布业绩预告}。",
        "guidance-test/tests/guidance.txt:2: expected guidance|question [公司发布业绩预告] got "
        "guidance|asserted|neutral {公司发布业绩预告} (modality asserted, not question)\n"
        "    [{公司发布业绩预告}]。"]
    assert report.confusion()["guidance.forecast"]["fp"] == 2


def test_undeclared_type_in_a_test_file_fails_located(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    runner = Runner([_make_pack(tmp_path, tests="公司【guidence: 发布业绩预告】。\n")])
    (outcome,) = [runner.run(c) for c in runner.cases() if c.line is not None]
    assert not outcome.passed
    assert str(outcome.failures[0]) == (
        "guidance-test/tests/guidance.txt:1:3: CX141 expected a declared claim type (guidance) "
        "got 'guidence' (did you mean 'guidance'?)")


def test_malformed_test_file_is_one_failing_case(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    tests = "好句子。\n公司【guidance 发布】。\n【guidance: 公司发布业绩预告】。\n【guidance|hedgd: 预计全年净利润】。\n"
    runner = Runner([_make_pack(tmp_path, tests=tests)])
    cases = [c for c in runner.cases() if c.example is None]
    # A bad marker fails its own line; the other lines of the file still run.
    assert [c.id for c in cases] == [f"guidance-test::tests/guidance.txt:{n}" for n in (1, 2, 3, 4)]
    outcomes = [runner.run(c) for c in cases]
    assert [o.passed for o in outcomes] == [True, False, True, False]
    assert outcomes[1].render().startswith(
        "guidance-test/tests/guidance.txt:2: CX140 expected a well-formed test file got "
        "guidance-test/tests/guidance.txt:2:3: marker lacks ':'")
    assert "unknown marker attribute 'hedgd' (hint: did you mean 'hedged'?" in outcomes[3].render()


# --------------------------------------------------------------------------- a broken rule fails


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def test_claimx_test_passes_then_fails_on_a_broken_rule(tmp_path: Path) -> None:
    good = _make_pack(tmp_path / "good", tests="【guidance: 公司发布业绩预告】。\n")
    ok = _run(["-m", "claimx", "test", str(good)], tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "guidance.forecast" in ok.stdout and "0 failed" in ok.stdout

    # Break the hedge modifier: its cue no longer occurs in its match example.
    broken = _make_pack(tmp_path / "broken", hedge="或许",
                        tests="【guidance: 公司发布业绩预告】。\n")
    bad = _run(["-m", "claimx", "test", str(broken)], tmp_path)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    line = RULES_YAML.splitlines().index("        - text: 公司可能预计全年净利润下降。") + 1
    # Located at the example itself (line and column of `text:`), with the code and why.
    assert (f"broken/guidance-test/guidance.yaml:{line}:11: CX130 expected mod.hedge to fire got "
            "guidance|asserted|neutral {公司可能预计全年净利润下降} by guidance.forecast\n"
            "    why: none of its cues (或许) occurs in the text\n"
            "    {公司可能预计全年净利润下降}。") in bad.stdout


def test_claimx_test_reports_a_pack_that_does_not_load(tmp_path: Path) -> None:
    pack = _make_pack(tmp_path)
    rules = (pack / "guidance.yaml").read_text(encoding="utf-8")
    (pack / "guidance.yaml").write_text(rules.replace("kind: lexicon", "kind: lexicon\n    cuess: [x]"),
                                        encoding="utf-8")
    bad = _run(["-m", "claimx", "test", str(pack)], tmp_path)
    assert bad.returncode == 1
    assert "guidance-test/guidance.yaml:4:5: CX110 unknown key 'cuess'" in bad.stderr


def test_claimx_test_focus_and_coverage(tmp_path: Path) -> None:
    pack = _make_pack(tmp_path)
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text('{"text": "公司发布业绩预告。"}\n{"text": "公司可能发布业绩预告。"}\n',
                      encoding="utf-8")
    out = _run(["-m", "claimx", "test", str(pack), "--rule", "mod.hedge", "--coverage",
                str(corpus)], tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    table = out.stdout.split("\n\n")[0]
    assert "mod.hedge" in table and "guidance.forecast" not in table
    assert "2 of 2 rules fire" in out.stdout
    assert "       2  guidance.forecast" in out.stdout
    only = _run(["-m", "claimx", "test", str(pack), "-k", "txt:6"], tmp_path)
    assert only.returncode == 1 and "1 cases: 0 passed, 1 failed" in only.stdout
    unknown = _run(["-m", "claimx", "test", str(pack), "--rule", "nope"], tmp_path)
    assert unknown.returncode == 2 and "no rule 'nope'" in unknown.stderr


def test_pytest_plugin_collects_items_and_fails_on_a_broken_rule(tmp_path: Path) -> None:
    pack = _make_pack(tmp_path, hedge="或许")
    out = _run(["-m", "pytest", "-p", "no:cacheprovider", "-q", "-rA", "--claimx", str(pack)],
               tmp_path)
    assert out.returncode == 1, out.stdout + out.stderr
    text = out.stdout
    # Every example and every annotated sentence is an item, each collected once.
    assert "3 failed, 5 passed, 1 xfailed" in text, text
    assert "guidance-test/pack.yaml::guidance-test::mod.hedge#1" in text
    assert "guidance-test/tests/guidance.txt::guidance-test::tests/guidance.txt:6" in text
    line = RULES_YAML.splitlines().index("        - text: 公司可能预计全年净利润下降。") + 1
    assert f"guidance-test/guidance.yaml:{line}:11: CX130 expected mod.hedge to fire got guidance" in text
    assert ("guidance-test/tests/guidance.txt:4: expected guidance|hedged [公司可能预计全年净利润翻番] "
            "got guidance|asserted|neutral {公司可能预计全年净利润翻番} (modality asserted, not hedged)\n"
            "    [{公司可能预计全年净利润翻番}]。") in text
    assert "guidance-test/tests/guidance.txt:6: expected guidance [集团称订单饱满] got nothing" in text
    assert "    [集团称订单饱满]。" in text


def test_pytest_plugin_reports_a_pack_that_does_not_load(tmp_path: Path) -> None:
    pack = _make_pack(tmp_path)
    (pack / "guidance.yaml").write_text("rules:\n  - id: x\n    kind: pattern\n    type: guidance\n"
                                        "    pattern: '(unclosed'\n", encoding="utf-8")
    out = _run(["-m", "pytest", "-p", "no:cacheprovider", "-q", "--claimx", str(pack)], tmp_path)
    assert out.returncode == 1, out.stdout + out.stderr
    # The column of the unclosed parenthesis itself, inside the quoted pattern.
    assert "guidance-test/guidance.yaml:5:15: CX123" in out.stdout


# --------------------------------------------------------------------------- CI and editors


def test_plugin_leaves_packs_of_a_project_that_did_not_opt_in_alone(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "data").mkdir(parents=True)
    (project / "test_x.py").write_text("def test_x():\n    assert 1 + 1 == 2\n", encoding="utf-8")
    (project / "data" / "pack.yaml").write_text("name: foo\n", encoding="utf-8")
    (project / "data" / "tests").mkdir()
    (project / "data" / "tests" / "t.txt").write_text("【risk 坏标记】\n", encoding="utf-8")
    out = _run(["-m", "pytest", "-p", "no:cacheprovider", "-q"], project)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 passed" in out.stdout
    # Opting in (an ini option naming the folder, or --claimx) collects the pack.
    (project / "pytest.ini").write_text("[pytest]\nclaimx_packs = data\n", encoding="utf-8")
    opted = _run(["-m", "pytest", "-p", "no:cacheprovider", "-q"], project)
    assert opted.returncode == 1 and "data/pack.yaml" in opted.stdout
    (project / "pytest.ini").unlink()
    flagged = _run(["-m", "pytest", "-p", "no:cacheprovider", "-q", "--claimx"], project)
    assert flagged.returncode == 1 and "CX111" in flagged.stdout


def test_pytest_ids_can_be_pasted_back(tmp_path: Path) -> None:
    pack = _make_pack(tmp_path, hedge="或许")
    listed = _run(["-m", "pytest", "-p", "no:cacheprovider", "-q", "--co", "--claimx",
                   pack.name], tmp_path)
    ids = [line for line in listed.stdout.splitlines() if "::" in line]
    assert len(ids) == 9, listed.stdout
    for node_id in (ids[2], ids[-1]):  # an example and an annotated sentence
        one = _run(["-m", "pytest", "-p", "no:cacheprovider", "-q", "-rA", "--claimx", node_id],
                   tmp_path)
        assert ("1 failed" in one.stdout or "1 passed" in one.stdout), one.stdout
        assert one.stdout.count(" in ") >= 1 and node_id in one.stdout
    # A failure is headed by its id, and claimx test --format json gives the same id.
    failed = _run(["-m", "pytest", "-p", "no:cacheprovider", "-q", "--claimx", ids[2]], tmp_path)
    assert f"_ {ids[2]} _" in failed.stdout
    report = json.loads(_run(["-m", "claimx", "test", pack.name, "--format", "json"],
                             tmp_path).stdout)
    assert [c["pytest_id"] for c in report["cases"]] == ids


def test_claimx_test_json_and_junit_reports(tmp_path: Path) -> None:
    import xml.etree.ElementTree as ET

    pack = _make_pack(tmp_path, hedge="或许")
    junit = tmp_path / "out" / "junit.xml"
    junit.parent.mkdir()
    out = _run(["-m", "claimx", "test", pack.name, "--format", "json", "--junitxml", str(junit)],
               tmp_path)
    assert out.returncode == 1
    report = json.loads(out.stdout)
    # As the text summary counts: a case whose only failures are todo gaps passed.
    assert report["summary"] == {"cases": 9, "passed": 6, "failed": 3, "todo": 1}
    assert report["rules"]["mod.hedge"] == {"tp": 0, "fp": 0, "fn": 1, "todo": 0}
    by_id = {c["id"]: c for c in report["cases"]}
    hedge = by_id["guidance-test::mod.hedge#1"]
    assert hedge["outcome"] == "failed" and hedge["kind"] == "example" and hedge["column"] == 11
    (failure,) = hedge["failures"]
    assert failure["code"] == "CX130" and failure["reason"] == "none of its cues (或许) occurs in the text"
    assert by_id["guidance-test::tests/guidance.txt:5"]["outcome"] == "todo"
    suites = ET.parse(junit).getroot()
    assert suites.tag == "testsuites" and suites.get("tests") == "9" and suites.get("failures") == "3"
    (suite,) = suites
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert len(cases) == 9 and suite.get("skipped") == "1"
    failing = cases["mod.hedge#1"].find("failure")
    assert failing is not None and failing.get("type") == "CX130"
    assert "why: none of its cues (或许)" in (failing.text or "")
    assert cases["tests/guidance.txt:5"].find("skipped") is not None
    assert cases["guidance.forecast#1"].find("failure") is None
    assert not [p for p in junit.parent.iterdir() if p.name != "junit.xml"]  # no temp left
    unwritable = _run(["-m", "claimx", "test", pack.name, "--junitxml",
                       str(tmp_path / "missing" / "j.xml")], tmp_path)
    assert unwritable.returncode == 2 and "cannot write" in unwritable.stderr
