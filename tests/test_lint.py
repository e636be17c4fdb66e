"""``claimx lint``: located problems for editors and CI — paths relative to the working
directory, rule examples and annotated test files checked too, and JSON and SARIF 2.1.0
output (issue 14)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import pytest

from claimx.cli.lint import to_sarif
from claimx.errors import CODES, PackProblem

META = "name: esg\nversion: '1'\nlanguage: zh\nclaim_types: {esg_commitment: {polarity: positive}}\n"
# Line 7, column 5 holds a misspelt key (the example: `esg.yaml:7:5`).
ESG_YAML = """\
rules:
  - id: esg.goal
    kind: lexicon
    type: esg_commitment
    cues: [碳中和]
    prior: 0.6
    exeptions: [伪碳中和]
"""


def _lint(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "claimx", "lint", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def _pack(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def test_paths_are_relative_to_the_working_directory(tmp_path: Path) -> None:
    pack = _pack(tmp_path / "esg", {"pack.yaml": META, "esg.yaml": ESG_YAML})
    inside = _lint(pack, ".")
    assert inside.returncode == 1
    assert inside.stdout.startswith("esg.yaml:7:5: CX110 unknown key 'exeptions'"), inside.stdout
    above = _lint(tmp_path, "esg")
    assert above.stdout.startswith("esg/esg.yaml:7:5: CX110"), above.stdout
    elsewhere = _lint(tmp_path / "esg" / ".." / "..", str(pack))
    assert f"{tmp_path.name}/esg/esg.yaml:7:5: CX110" in elsewhere.stdout


def test_rule_examples_and_annotated_files_are_checked(tmp_path: Path) -> None:
    rules = """\
rules:
  - id: esg.goal
    kind: lexicon
    type: esg_commitment
    cues: [碳中和]
    exceptions: [伪碳中和]
    examples:
      match:
        - 公司承诺实现净零排放。
        - 所谓伪碳中和不过是营销话术。
      no_match:
        - 星河能源承诺实现碳中和。
"""
    tests = ("【esg_commitment: 星河能源承诺实现碳中和】。\n"
             "【esg_commitmnt: 公司承诺实现碳中和】。\n"
             "【esg_commitment|hedgd: 公司或将实现碳中和】。\n"
             "公司【esg_commitment 没有冒号】。\n")
    pack = _pack(tmp_path / "esg", {"pack.yaml": META, "esg.yaml": rules, "tests/esg.txt": tests})
    out = _lint(tmp_path, "esg", "--format", "json")
    assert out.returncode == 1, out.stderr
    got = [(p["path"], p["line"], p["column"], p["code"]) for p in json.loads(out.stdout)]
    assert got == [
        ("esg/esg.yaml", 9, 11, "CX130"), ("esg/esg.yaml", 10, 11, "CX130"),
        ("esg/esg.yaml", 12, 11, "CX130"),
        ("esg/tests/esg.txt", 2, 1, "CX141"), ("esg/tests/esg.txt", 3, 1, "CX140"),
        ("esg/tests/esg.txt", 4, 3, "CX140")]
    messages = {(p["line"], p["code"]): p for p in json.loads(out.stdout)}
    assert "why: none of its cues (碳中和) occurs in the text" in messages[(9, "CX130")]["message"]
    assert ("why: its cue '碳中和' stands inside the exception '伪碳中和'"
            in messages[(10, "CX130")]["message"])
    assert messages[(12, "CX130")]["message"].startswith("expected esg.goal not to fire")
    assert messages[(2, "CX141")]["hint"] == "did you mean 'esg_commitment'?"
    assert "did you mean 'hedged'?" in messages[(3, "CX140")]["hint"]
    assert "marker lacks ':'" in messages[(4, "CX140")]["message"]
    assert set(json.loads(out.stdout)[0]) == {"path", "line", "column", "code", "severity",
                                             "message", "hint"}
    skipped = _lint(tmp_path, "esg", "--no-examples", "--format", "json")
    assert {p["code"] for p in json.loads(skipped.stdout)} == {"CX140", "CX141"}
    assert pack.is_dir()


def _the_one_problem(tmp_path: Path, files: dict[str, str]) -> dict[str, Any]:
    """Lint a pack ``esg`` made of ``files``: it must pass and report exactly one problem."""
    _pack(tmp_path / "esg", files)
    out = _lint(tmp_path, "esg", "--format", "json")
    assert out.returncode == 0, out.stdout + out.stderr
    (problem,) = json.loads(out.stdout)
    return cast("dict[str, Any]", problem)


def _bundled_codes(tmp_path: Path) -> set[str]:
    """The problem codes lint reports for the bundled pack (schema checks only)."""
    bundled = _lint(tmp_path, "zh-business", "--no-examples", "--format", "json")
    return {p["code"] for p in json.loads(bundled.stdout)}


def test_a_pattern_rule_without_anchors_is_a_warning(tmp_path: Path) -> None:
    # Searched in every sentence of every document, it slows the whole pack; with anchors it
    # runs only where one of them occurs. The bundled pack has none left.
    rules = ("rules:\n"
             "  - id: esg.loose\n    kind: pattern\n    type: esg_commitment\n"
             "    pattern: 到20[0-9]{2}年实现碳中和\n"
             "  - id: esg.anchored\n    kind: pattern\n    type: esg_commitment\n"
             "    pattern: 到20[0-9]{2}年实现碳达峰\n    anchors: [碳达峰]\n")
    problem = _the_one_problem(tmp_path, {"pack.yaml": META, "esg.yaml": rules})
    assert (problem["code"], problem["severity"], problem["path"], problem["line"]) == (
        "CX152", "warning", "esg/esg.yaml", 2)
    assert "'esg.loose' has no anchors" in problem["message"] and "anchors:" in problem["hint"]
    assert "CX152" not in _bundled_codes(tmp_path)


def test_a_cue_word_shared_by_two_lexicon_rules_of_a_type_is_a_warning(tmp_path: Path) -> None:
    # The later rule would add its prior to the word's confidence and let the word past the
    # earlier rule's guards. One warning per pair, at the later rule, naming the words; a
    # word shared with a rule of another type is no overlap. The bundled pack has none left.
    rules = ("rules:\n"
             "  - id: esg.goal\n    kind: lexicon\n    type: esg_commitment\n"
             "    cues: [碳中和, 碳达峰, 绿电]\n"
             "  - id: esg.power\n    kind: lexicon\n    type: esg_commitment\n"
             "    cues: [绿电, 光伏, 碳中和]\n"
             "  - id: esg.risk\n    kind: lexicon\n    type: esg_risk\n"
             "    cues: [碳中和]\n")
    meta = META.replace("{esg_commitment: {polarity: positive}}",
                        "{esg_commitment: {polarity: positive}, esg_risk: {polarity: negative}}")
    problem = _the_one_problem(tmp_path, {"pack.yaml": meta, "esg.yaml": rules})
    assert (problem["code"], problem["severity"], problem["path"], problem["line"]) == (
        "CX153", "warning", "esg/esg.yaml", 6)
    assert problem["message"] == ("rule 'esg.power' cues 2 words that 'esg.goal' of type "
                                  "'esg_commitment' already cues: 碳中和, 绿电")
    # a pack that extends the bundled one is told when it re-lists the bundled pack's words
    _pack(tmp_path / "mine", {"pack.yaml": META.replace("name: esg", "name: mine")
                              + "extends: [zh-business]\n",
                              "r.yaml": "rules:\n  - id: mine.merit\n    kind: lexicon\n"
                                        "    type: advantage\n    cues: [一骑绝尘, 量子跃迁]\n"})
    extended = json.loads(_lint(tmp_path, "mine", "--no-examples", "--format", "json").stdout)
    assert [(p["code"], p["path"]) for p in extended] == [("CX153", "mine/r.yaml")]
    assert "'mine.merit' cues 1 word that 'advantage.praise'" in extended[0]["message"]
    assert "CX153" not in _bundled_codes(tmp_path)


def test_a_cue_word_normalised_text_never_holds_is_a_warning(tmp_path: Path) -> None:
    # Rules match on normalised text (simplified script, half-width ASCII, 着 for the
    # particle), so a cue written in traditional script or with a full-width colon can never
    # match. One warning per line of the pack's own files, naming each word with the form the
    # text holds; a var's words count too. The bundled pack has none left.
    rules = ("vars:\n"
             "  esg_targets: [碳中和, 碳達峰, \"净零：\"]\n"
             "rules:\n"
             "  - id: esg.goal\n    kind: lexicon\n    type: esg_commitment\n"
             "    cues: [绿电, 綠電]\n")
    _pack(tmp_path / "esg", {"pack.yaml": META, "esg.yaml": rules})
    out = _lint(tmp_path, "esg", "--no-examples", "--format", "json")
    assert out.returncode == 0, out.stdout + out.stderr
    problems = json.loads(out.stdout)
    assert [(p["code"], p["severity"], p["path"], p["line"]) for p in problems] == [
        ("CX154", "warning", "esg/esg.yaml", 2), ("CX154", "warning", "esg/esg.yaml", 7)]
    assert problems[0]["message"] == ("2 cue words that normalised text never holds: "
                                      "碳達峰 (read as 碳达峰), 净零： (read as 净零:)")
    assert problems[0]["column"] == 22  # where 碳達峰 begins
    assert problems[1]["message"] == ("1 cue word that normalised text never holds: "
                                      "綠電 (read as 绿电)")
    assert "simplified script" in problems[0]["hint"]
    assert "CX154" not in _bundled_codes(tmp_path)


def test_warnings_are_reported_and_do_not_fail(tmp_path: Path) -> None:
    _pack(tmp_path / "user", {"pack.yaml": META + "imports: [zh-business]\n",
                              "vars.yaml": "vars:\n  plan_words: [立誓]\n"})
    out = _lint(tmp_path, "user")
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("user: ok (esg 1, 0 rules)")
    assert lines[1].startswith("user/pack.yaml:5:11: CX150 warning: imports 'zh-business'")
    assert lines[2].startswith("user/vars.yaml:2:3: CX151 warning: var 'plan_words' replaces")
    sarif = json.loads(_lint(tmp_path, "user", "--format", "sarif").stdout)
    _check_sarif(sarif)
    assert [r["level"] for r in sarif["runs"][0]["results"]] == ["warning", "warning"]


def test_the_bundled_pack_lints_clean_with_its_examples() -> None:
    out = _lint(Path(__file__).resolve().parent.parent, "rules/zh-business", "--format", "json")
    assert out.returncode == 0 and json.loads(out.stdout) == [], out.stdout


# --------------------------------------------------------------------------- SARIF 2.1.0

# What SARIF 2.1.0 (OASIS standard, sarif-schema-2.1.0.json) allows on each object this
# writer emits; the official schema sets additionalProperties to false on all of them.
_ALLOWED = {
    "log": {"$schema", "version", "runs", "inlineExternalProperties", "properties"},
    "run": {"tool", "invocations", "conversion", "language", "versionControlProvenance",
            "originalUriBaseIds", "artifacts", "logicalLocations", "graphs", "results",
            "automationDetails", "runAggregates", "baselineGuid", "redactionTokens",
            "defaultEncoding", "defaultSourceLanguage", "newlineSequences", "columnKind",
            "externalPropertyFileReferences", "threadFlowLocations", "taxonomies", "addresses",
            "translations", "policies", "webRequests", "webResponses", "specialLocations",
            "properties"},
    "driver": {"guid", "name", "organization", "product", "productSuite", "shortDescription",
               "fullDescription", "fullName", "version", "semanticVersion", "dottedQuadFileVersion",
               "releaseDateUtc", "downloadUri", "informationUri", "globalMessageStrings",
               "notifications", "rules", "taxa", "locations", "language", "contents",
               "isComprehensive", "localizedDataSemanticVersion", "minimumRequiredLocalizedDataSemanticVersion",
               "associatedComponent", "translationMetadata", "supportedTaxonomies", "properties"},
    "rule": {"id", "deprecatedIds", "guid", "deprecatedGuids", "name", "deprecatedNames",
             "shortDescription", "fullDescription", "messageStrings", "defaultConfiguration",
             "helpUri", "help", "relationships", "properties"},
    "result": {"ruleId", "ruleIndex", "rule", "kind", "level", "message", "analysisTarget",
               "locations", "guid", "correlationGuid", "occurrenceCount", "partialFingerprints",
               "fingerprints", "stacks", "codeFlows", "graphs", "graphTraversals",
               "relatedLocations", "suppressions", "baselineState", "rank", "attachments",
               "hostedViewerUri", "workItemUris", "provenance", "fixes", "taxa",
               "webRequest", "webResponse", "properties"},
    "physicalLocation": {"address", "artifactLocation", "region", "contextRegion", "properties"},
    "artifactLocation": {"uri", "uriBaseId", "index", "description", "properties"},
    "region": {"startLine", "startColumn", "endLine", "endColumn", "charOffset", "charLength",
               "byteOffset", "byteLength", "snippet", "sourceLanguage", "message", "properties"},
}
_URI = re.compile(r"^[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*$")  # RFC 3986 characters only


def _keys(obj: dict, kind: str) -> None:
    extra = set(obj) - _ALLOWED[kind]
    assert not extra, f"{kind} has properties SARIF 2.1.0 does not define: {extra}"


def _check_sarif(log: dict) -> None:
    """The constraints of the SARIF 2.1.0 schema on what claimx writes: required
    properties, types, enums, minimums, URI references, rule indexes, no extra keys."""
    _keys(log, "log")
    assert log["version"] == "2.1.0" and isinstance(log["runs"], list) and log["runs"]
    for run in log["runs"]:
        _keys(run, "run")
        driver = run["tool"]["driver"]
        _keys(driver, "driver")
        assert isinstance(driver["name"], str) and driver["name"]
        rules = driver.get("rules", [])
        ids = [r["id"] for r in rules]
        assert len(ids) == len(set(ids))
        for rule in rules:
            _keys(rule, "rule")
            assert isinstance(rule["shortDescription"]["text"], str)
            assert rule["defaultConfiguration"]["level"] in ("none", "note", "warning", "error")
        for base in run.get("originalUriBaseIds", {}).values():
            assert urlsplit(base["uri"]).scheme == "file" and base["uri"].endswith("/")
        assert run.get("columnKind") in (None, "utf16CodeUnits", "unicodeCodePoints")
        for result in run["results"]:
            _keys(result, "result")
            assert isinstance(result["message"]["text"], str) and result["message"]["text"]
            assert result["level"] in ("none", "note", "warning", "error")
            assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
            for location in result["locations"]:
                physical = location["physicalLocation"]
                _keys(physical, "physicalLocation")
                artifact = physical["artifactLocation"]
                _keys(artifact, "artifactLocation")
                assert _URI.match(artifact["uri"]), artifact["uri"]
                if "uriBaseId" in artifact:
                    assert artifact["uriBaseId"] in run["originalUriBaseIds"]
                    assert not urlsplit(artifact["uri"]).scheme
                else:
                    assert urlsplit(artifact["uri"]).scheme == "file"
                region = physical.get("region")
                if region is not None:
                    _keys(region, "region")
                    assert isinstance(region["startLine"], int) and region["startLine"] >= 1
                    assert region.get("startColumn", 1) >= 1


def test_sarif_of_a_broken_pack_is_valid_and_complete(tmp_path: Path) -> None:
    pack = _pack(tmp_path / "空 格", {"pack.yaml": META, "esg.yaml": ESG_YAML,
                                      "bad.yaml": "rules: [\n"})
    out = _lint(tmp_path, pack.name, "--format", "sarif")
    assert out.returncode == 1
    log = json.loads(out.stdout)
    _check_sarif(log)
    results = log["runs"][0]["results"]
    located = [(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in results]
    # A folder name with a space and CJK characters is percent-encoded in the URI.
    assert located == [("CX101", "%E7%A9%BA%20%E6%A0%BC/bad.yaml", 2),
                       ("CX110", "%E7%A9%BA%20%E6%A0%BC/esg.yaml", 7)]
    assert log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.as_uri() + "/"


@pytest.mark.parametrize("problem", [
    PackProblem("CX102", "no pack.yaml in 'x'", "x"),  # no position
    PackProblem("CX100", "cannot read", "/abs/path/r.yaml", 3, 0),  # absolute, no column
    PackProblem("CX150", "imports is not extends", "p/pack.yaml", 4, 2, "", "warning"),
])
def test_sarif_of_any_problem_shape_is_valid(problem: PackProblem) -> None:
    log = to_sarif([problem])
    _check_sarif(log)
    (result,) = log["runs"][0]["results"]
    assert result["ruleId"] == problem.code and CODES[problem.code][1] in result["message"]["text"]
    physical = result["locations"][0]["physicalLocation"]
    assert ("region" in physical) == (problem.line > 0)
    if problem.path.startswith("/"):
        assert physical["artifactLocation"]["uri"] == "file:///abs/path/r.yaml"
