"""Fuzzing the pack loader and the compiled modules with hostile packs and texts.

The modules compiled with mypyc (match, assemble, _word_search; docs/performance.md,
"Compiled modules (mypyc)") check argument and attribute types at run time, where the
pure-Python modules duck-type: an int where a str is hinted, a tuple for a list, None.
So any value the loader lets through with the wrong type is a crash of the compiled
build only. These properties start from a small valid pack using every rule kind, vars,
settings and calibration, mutate it (a value of another YAML type, a key dropped,
duplicated, renamed or added, a value wrapped in a list or `{extend: …}`), and check:

- loading ends in the pack or in a :class:`~claimx.PackLoadError` whose problems all
  carry a CX code: never another exception;
- when it loads, ``extract``, ``analyze`` and the ``claimx test`` runner give the same
  output here (compiled, when the build is) and in a child process running the pure
  modules (``CLAIMX_PURE_PYTHON=1``), and neither raises.

Texts are fuzzed the same way against the bundled pack.

The suite runs a bounded number of examples, derandomized. For a long run outside CI::

    CLAIMX_FUZZ_EXAMPLES=5000 CLAIMX_FUZZ_LOG=/tmp/fuzz.log pytest tests/test_pack_fuzz.py

``CLAIMX_FUZZ_LOG`` makes the properties record each failing example (pack files, texts,
what went wrong) in that file and go on, instead of stopping at the first and shrinking
it; without it the run is randomized and fails like any property test.
"""

from __future__ import annotations

import copy
import json
import math
import os
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis.control import currently_in_test_context
from hypothesis import strategies as st

import claimx
from claimx import _native, packs
from claimx.errors import CODES, PackLoadError, RuleTimeoutError
from conftest import write_files

TESTS = Path(__file__).resolve().parent
_LONG = int(os.environ.get("CLAIMX_FUZZ_EXAMPLES", "0") or 0)
_LOG = os.environ.get("CLAIMX_FUZZ_LOG")
_FUZZ = settings(max_examples=_LONG or 150, derandomize=not _LONG, deadline=None,
                 database=None, suppress_health_check=list(HealthCheck))
_TEXT_FUZZ = settings(max_examples=_LONG or 100, derandomize=not _LONG, deadline=None,
                      database=None, suppress_health_check=list(HealthCheck))

# --------------------------------------------------------------------------- YAML text


class Raw(str):
    """YAML written as it is (a plain scalar YAML resolves itself, a tag, an anchor)."""


class Pairs(list):
    """A mapping written from (key, value) pairs: a key may be given twice."""


def emit(value: Any) -> str:
    """``value`` as one line of flow-style YAML."""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, Pairs):
        return "{" + ", ".join(f"{emit(k)}: {emit(v)}" for k, v in value) + "}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{emit(k)}: {emit(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(emit(v) for v in value) + "]"
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        text = repr(value)
        if "e" in text and "." not in text.split("e")[0]:  # YAML 1.1 floats need a dot
            mantissa, exponent = text.split("e")
            text = f"{mantissa}.0e{exponent}"
        if "e" in text and exponent_unsigned(text):
            head, tail = text.split("e")
            text = f"{head}e+{tail}"
        return text
    text = str(value)
    try:
        text.encode("utf-8")
        return json.dumps(text, ensure_ascii=False)
    except UnicodeEncodeError:  # a lone surrogate: escaped
        return json.dumps(text)


def exponent_unsigned(text: str) -> bool:
    return text.split("e")[1][:1] not in ("+", "-")


def write_pack(files: dict[str, Any], folder: Path) -> Path:
    """The pack ``files`` (name -> YAML value, or bytes) written under ``folder``."""
    return write_files(folder, {name: content if isinstance(content, bytes)
                                else emit(content) + "\n" for name, content in files.items()})


# --------------------------------------------------------------------------- the base pack

# Words the base pack's rules use, so that texts built from them (and values drawn from
# them) make rules fire.
WORDS = ["风险", "亏损", "违约", "风险投资", "计划", "拟", "进军", "扩张", "收购", "营收",
         "利润", "下降", "下滑", "成本", "上涨", "债务", "不", "未", "没有", "不断", "未来",
         "可能", "曾经", "但", "增长", "良好", "增长乏力", "公司", "集团", "华能", "在", "将",
         "应对", "较低", "力争", "增加值", "对", "倒逼", "海外", "市场", "明年", "大幅",
         "，", "。", "？", "、", "；", "!", " ", "\n", "2023年", "12%", "“", "”"]

TEXTS = ["公司面临亏损风险。", "华能集团计划明年进军海外市场，但可能面临违约风险。",
         "公司营收大幅下降，成本上涨。", "公司未计划扩张。拟收购一家公司，曾经亏损？",
         "增长良好，但利润下滑；风险投资增长乏力。", "应对风险的能力较低。力争实现增长。"]


def base_pack() -> dict[str, Any]:
    """A small valid pack with every rule kind but tokens (that one needs spaCy), vars,
    settings, claim types, modifier categories, examples and calibration."""
    meta = {
        "name": "fz", "version": "1", "language": "zh", "requires_claimx": ">=0.1",
        "description": "fuzzing base",
        "claim_types": {"risk": {"polarity": "negative", "description": "d",
                                 "veto_scope": "clause"},
                        "intent": {"polarity": "positive"}},
        "modifier_categories": {"target_past": {"description": "a past target"},
                                "unwanted": {"description": "bad when rising"}},
        "settings": {
            "leading_connectives": ["但", "此外"], "subject_suffixes": ["公司", "集团"],
            "subject_stops": ["在", "将"], "subject_object_markers": ["对"],
            "subject_not_start": ["在"], "subject_weak_suffixes": ["方"],
            "subject_self_refs": ["公司"], "subject_name_chars": ["华"], "merge_gap": 1,
            "one_type_per_clause": True, "causative_verbs": ["倒逼"],
            "negation_factor": 0.8, "contrast_before": 0.5, "contrast_after": 1.5,
            "sentiment_softness": 1.0, "sentiment_threshold": 0.2,
            "sentiment_claim_weights": {"risk": 1.0, "intent": 0.5},
            "sentiment_reversal_categories": ["unwanted"],
            "neutral_polarity_categories": ["target_past"]},
        "calibration": [[0.0, 0.1], [0.6, 0.55], [1.0, 0.9]],
    }
    variables = {"vars": {"risk_words": ["风险", "亏损"], "plan_words": ["计划", "拟"],
                          "moves": ["$plan_words", "布局"]}}
    claims = {"rules": [
        {"id": "r.lex", "kind": "lexicon", "type": "risk", "cues": ["$risk_words", "违约"],
         "exceptions": ["风险投资"], "context": [], "prior": 0.7, "span": "clause",
         "veto": ["增加值"], "veto_unless": ["公司"], "veto_always": ["力争"], "requires": [],
         "not_after": ["应对"], "not_before": ["较低"], "not_clause_initial": False,
         "polarity": "negative", "modality": "asserted", "veto_scope": "sentence",
         "description": "a risk", "tags": ["a"], "enabled": True,
         "examples": {"match": ["公司面临亏损风险。",
                                {"text": "公司面临违约。",
                                 "expect": {"type": "risk", "span": "公司面临违约",
                                            "polarity": "negative", "modality": "asserted",
                                            "subject": "公司"}}],
                      "no_match": ["风险投资很好。"]}},
        {"id": "i.pat", "kind": "pattern", "type": "intent",
         "pattern": "(?:$plan_words)(?P<claim>进军|扩张)", "anchors": ["计划", "拟"],
         "exceptions": [], "match_at": "anywhere", "prior": 0.8,
         "examples": {"match": ["公司计划进军海外。"]}},
        {"id": "i.pat2", "kind": "pattern", "type": "intent", "pattern": "拟(?:收购|扩产)",
         "anchors": ["拟"], "match_at": "clauses", "lead": 3, "span": "sentence"},
        {"id": "r.seq", "kind": "sequence", "type": "risk",
         "sequences": [[["营收", "利润"], ["下降", "下滑"]]], "max_gap": 8, "exceptions": [],
         "examples": {"match": ["公司营收大幅下降。"]}},
        {"id": "r.seq2", "kind": "sequence", "type": "risk",
         "sequences": [[["成本"], ["上涨"]], [["债务"], ["$risk_words"], ["违约"]]],
         "max_gap": [4, 6], "span": "match", "not_clause_initial": True},
    ]}
    others = {"rules": [
        {"id": "m.neg", "kind": "modifier", "category": "negation", "cues": ["不", "未", "没有"],
         "direction": "forward", "scope": "clause", "max_scope": 10, "terminators": ["但"],
         "pseudo": ["不断", "未来"], "weight": 1.0, "allowed_types": ["risk", "intent"]},
        {"id": "m.hedge", "kind": "modifier", "category": "hedge", "cues": ["可能"],
         "direction": "both", "scope": "sentence"},
        {"id": "m.past", "kind": "modifier", "category": "target_past", "cues": ["曾经"],
         "direction": "backward"},
        {"id": "m.up", "kind": "modifier", "category": "unwanted", "cues": ["成本"]},
        {"id": "m.int", "kind": "modifier", "category": "intensity", "cues": ["大幅"],
         "weight": 2.0},
        {"id": "s.pos", "kind": "sentiment", "polarity": "positive", "cues": ["增长", "良好"],
         "exceptions": ["增长乏力"], "weight": 1.5},
        {"id": "s.neg", "kind": "sentiment", "polarity": "negative", "cues": ["$risk_words", "下滑"],
         "examples": {"match": ["利润下滑。"]}},
    ]}
    return {"pack.yaml": meta, "vars.yaml": variables, "claims.yaml": claims,
            "others.yaml": others}


# --------------------------------------------------------------------------- mutations

# Plain scalars, tags and anchors that YAML resolves in its own ways.
RAW = [Raw(s) for s in (
    "yes", "No", "on", "~", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "0o17", "0x1F",
    "017", "1_000", "12:30:00", "-0", "+1", ".inf", "-.Inf", ".NaN", "1.0e+400", "1e3",
    "!!binary aGk=", "!!str 12", "!!int '12'", "!!float x", "!!int ''", "!!bool maybe",
    "!!set {a, b}", "!!omap [{a: 1}]", "!!pairs [{a: 1}]", "!custom 1", "!!null ''",
    "!!python/object:os.system x", "&anchor [风险, 1]", "!!str", "!!seq []", "!!map {}",
    "!!timestamp 2001-12-14", "''", '""', "=", "<<")]

ODD_STRINGS = ["", " ", "\t", "\u200b", "\ufeff", "\u0301", "\u202e风险", "ｆｕｌｌ",
               "𠮷", "\u2028", "\x85", "\x07", "\x00", "\ud800", "\U0010ffff", "$", "$nope",
               "$risk_words", "$plan_words", "$ risk", "(", "[", "\\", "(?P<claim>风险)",
               "(?P<claim>)", "a{99999}", ".*", "(?=)", "风险" * 3000, "x" * 20_000,
               "风险\n违约", "#", "risk", "intent", "negation", "target_past", "match",
               "clause", "sentence", "true", "1"]

BIG = [-(10 ** 30), 10 ** 30, 10 ** 400, -(10 ** 400), 2 ** 63, -(2 ** 63) - 1, 2 ** 31]
ints = st.one_of(st.integers(-3, 20), st.sampled_from(BIG))
floats = st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                   st.sampled_from([0.5, -1.5, 1e300, 1e-320, 0.0, -0.0, 1.0]))
strings = st.one_of(st.sampled_from(WORDS), st.sampled_from(ODD_STRINGS),
                    st.text(max_size=8))
scalars = st.one_of(ints, floats, st.booleans(), st.none(), strings, st.sampled_from(RAW))
# Values of other kinds now and then; scalars mostly, since a wrong scalar is what passes
# a loose check.


def _deep(depth: int) -> Any:
    value: Any = "风险"
    for _ in range(depth):
        value = [value]
    return value


values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(strings, ints, st.none()), inner, max_size=3),
        st.builds(lambda k, v: Pairs([(k, v), (k, v)]), strings, inner)),
    max_leaves=8) | st.sampled_from([_deep(70), [], {}, [[]], [{}], [None], {"extend": []}])
values = st.one_of(scalars, st.sampled_from(BIG), values)

KEYS = sorted({key for schema in packs._SCHEMAS.values() for key in schema}
              | set(packs._PACK_SCHEMA) | set(packs._SETTINGS_SCHEMA)
              | {"vars", "rules", "points", "priors", "extend", "match", "no_match", "text",
                 "expect", "subject", "polarity", "description", "veto_scope",
                 # what assembly compiles from the settings, kept under these names
                 "_subject_self_regex", "_subject_stop_regex", "_subject_stop_reach",
                 "_subject_suffix_regex", "_connectives", "_causatives"})
keys = st.one_of(st.sampled_from(KEYS), strings, ints, st.none(), st.sampled_from(RAW))


def _paths(tree: Any, here: tuple = ()) -> Iterator[tuple]:
    """Every position in ``tree``: mapping keys and list indexes, outermost first."""
    yield here
    if isinstance(tree, Pairs):
        return
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from _paths(value, here + (key,))
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            yield from _paths(value, here + (index,))


def _get(tree: Any, path: tuple) -> Any:
    for step in path:
        tree = tree[step]
    return tree


NUMBER_LIKE = [Raw(s) for s in ("0x1F", "0o17", "1_000", "12:30:00", "-0", "+1", ".inf",
                                 "-.Inf", ".NaN", "1.0e+400", "1e3", "!!float 1", "!!int 3",
                                 "yes", "on", "~", "'1'")]
numbers = st.one_of(ints, floats, st.booleans(), st.sampled_from(NUMBER_LIKE))
words = st.one_of(st.sampled_from(WORDS), st.sampled_from(ODD_STRINGS), ints, floats,
                  st.booleans(), st.none(), st.sampled_from(RAW))


def alike(current: Any) -> st.SearchStrategy:
    """Values near the kind of ``current``: those a loose check could let through."""
    if isinstance(current, bool) or isinstance(current, (int, float)):
        return numbers
    if isinstance(current, str):
        return words
    if isinstance(current, list):
        return st.one_of(st.lists(words, min_size=1, max_size=4),
                         st.lists(st.lists(words, max_size=3), min_size=1, max_size=3),
                         st.lists(numbers, min_size=1, max_size=3))
    if isinstance(current, dict):
        return st.dictionaries(st.one_of(st.sampled_from(KEYS), words), st.one_of(words, numbers),
                               max_size=3)
    return values


def core_pack() -> dict[str, Any]:
    """A pack the base pack extends, beside it: inherited rules, vars and settings."""
    return {
        "../core/pack.yaml": {
            "name": "core", "version": "1", "language": "zh",
            "claim_types": {"risk": {"polarity": "negative"}},
            "settings": {"subject_suffixes": ["集团"], "merge_gap": 2,
                         "sentiment_claim_weights": {"risk": 0.5}}},
        "../core/rules.yaml": {
            "vars": {"core_words": ["债务", "违约"]},
            "rules": [{"id": "c.debt", "kind": "lexicon", "type": "risk",
                       "cues": ["$core_words"], "prior": 0.5},
                      {"id": "c.seq", "kind": "sequence", "type": "risk",
                       "sequences": [[["成本"], ["上涨"]]]}]}}


def extending_pack() -> dict[str, Any]:
    """The base pack, extending the core pack: settings and vars extended, a rule
    overridden, another disabled."""
    files = base_pack()
    meta = files["pack.yaml"]
    meta["extends"] = ["../core"]
    meta["disable"] = ["c.seq"]
    meta["settings"]["subject_suffixes"] = {"extend": ["公司"]}
    files["vars.yaml"]["vars"]["core_words"] = {"extend": ["欠款"]}
    files["claims.yaml"]["rules"].append(
        {"id": "c.debt", "kind": "lexicon", "type": "risk", "override": True,
         "cues": ["$core_words", "欠款"]})
    return {**files, **core_pack()}


@st.composite
def mutated_packs(raw_draw: st.DrawFn) -> dict[str, Any]:
    """The base pack (or the one extending the core pack) with one to four mutations."""

    def draw(strategy: st.SearchStrategy) -> Any:
        # Drawn values are mutated later: never one shared between examples.
        return copy.deepcopy(raw_draw(strategy))

    files = draw(st.sampled_from([base_pack, extending_pack]))()

    for _ in range(draw(st.sampled_from([1, 1, 1, 2, 2, 3, 4]))):
        name = draw(st.sampled_from(sorted(files)))
        if isinstance(files[name], bytes):
            continue
        tree = {"file": files[name]}
        path = draw(st.sampled_from(list(_paths(tree))[1:] or [("file",)]))
        parent, last = _get(tree, path[:-1]), path[-1]
        if isinstance(parent, Pairs):
            continue
        op = draw(st.sampled_from(["replace", "alike", "alike", "alike", "drop", "duplicate",
                                   "rename", "add", "known", "wrap", "extend", "unwrap"]))
        if len(path) == 1 and op in ("drop", "duplicate", "rename"):
            op = "replace"  # the whole file
        current = parent[last]
        if op == "replace":
            parent[last] = draw(values)
        elif op == "alike":
            parent[last] = draw(alike(current))
        elif op == "known" and isinstance(current, dict):  # a key of the schemas
            current[draw(st.sampled_from(KEYS))] = draw(st.one_of(words, numbers, alike([])))
        elif op == "drop" and isinstance(parent, dict):
            del parent[last]
        elif op == "drop" and isinstance(parent, list):
            del parent[last]
        elif op == "duplicate" and isinstance(parent, dict):
            pairs = Pairs(parent.items())
            pairs.append((last, draw(st.one_of(st.just(current), values))))
            _put(tree, path[:-1], pairs)
        elif op == "duplicate" and isinstance(parent, list):
            parent.append(current)
        elif op == "rename" and isinstance(parent, dict):
            new_key = draw(keys)
            parent[new_key] = parent.pop(last)
        elif op == "add" and isinstance(current, dict):
            current[draw(keys)] = draw(values)
        elif op == "add" and isinstance(current, list) and not isinstance(current, Pairs):
            current.append(draw(st.one_of(values, st.just(current[:1]))))
        elif op == "wrap":
            parent[last] = [current]
        elif op == "extend":
            parent[last] = {"extend": current}
        elif op == "unwrap" and isinstance(current, (list, dict)) and current and not isinstance(
                current, Pairs):
            parent[last] = (current[0] if isinstance(current, list)
                            else next(iter(current.values())))
        files[name] = tree["file"]
    if draw(st.integers(0, 9)) == 0:  # now and then a file whole: empty, a scalar, bytes
        name = draw(st.sampled_from(sorted(files) + ["extra.yaml", "sub/deep.yml"]))
        files[name] = draw(st.one_of(values, st.sampled_from(
            [b"", b"\xff\xfe", b"rules: [\n", b"\x00", b"---\n---\n", b"- a\n- b\n"])))
    return files


def _put(tree: Any, path: tuple, value: Any) -> None:
    parent = _get(tree, path[:-1])
    parent[path[-1]] = value


texts = st.one_of(
    st.sampled_from(TEXTS),
    st.lists(st.sampled_from(WORDS), max_size=30).map("".join),
    st.text(alphabet=st.sampled_from("".join(WORDS) + "風險虧損ＡＢ１２３，。！？\u3000\u200b\r\x00é"),
            max_size=60),
    st.text(max_size=30))

_EXAMPLES: list[str] = []


def bundled_examples() -> list[str]:
    """The texts of the bundled pack's rule examples: each makes some rule fire."""
    if not _EXAMPLES:
        pack = claimx.load_pack("zh-business")
        _EXAMPLES.extend(sorted({e.text for rule in pack.rules for e in rule.examples}))
    return _EXAMPLES


# Characters normalisation rewrites or that sit oddly in Chinese text.
ODD_CHARS = ["\u3000", "\u200b", "\ufeff", "\r\n", "\r", "é", "e\u0301", "ｆ", "１２％", "（",
             "）", "\x00", "\ud800", "\U0001f600", "風險", "虧損", "計劃", "“", "”", "……", "——",
             "<b>", "&amp;", "\t", " ", "\n\n", "？！", "...", "%", "2023年", "-", "·"]


@st.composite
def spliced_examples(draw: st.DrawFn) -> str:
    """A bundled example with words, odd characters or another example spliced in, or a
    stretch cut out."""
    text = draw(st.sampled_from(bundled_examples()))
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["word", "char", "cut", "join"]))
        if op == "word":
            text = text[:at] + draw(st.sampled_from(WORDS)) + text[at:]
        elif op == "char":
            text = text[:at] + draw(st.sampled_from(ODD_CHARS)) + text[at:]
        elif op == "cut":
            text = text[:at] + text[at + draw(st.integers(1, 4)):]
        else:
            text = text[:at] + draw(st.sampled_from(bundled_examples())) + text[at:]
    return text


# --------------------------------------------------------------------------- running a pack


_bundled: dict[str, Any] = {}


def outputs(pack_paths: list[str], texts: list[str]) -> dict[str, Any]:
    """Everything claimx says about ``texts`` with the packs: the load's problems, or
    ``extract``, ``analyze`` and the ``claimx test`` report; as plain JSON. An exception
    other than a pack error is recorded as ``crash``. The bundled pack is loaded once,
    and its examples are not run (test_rule_examples.py does)."""
    from claimx.cli.test import report_data
    from claimx.testing.runner import Runner

    out: dict[str, Any] = {}
    stage = "load"
    try:
        bundled = pack_paths == ["zh-business"]
        if bundled:
            runner = _bundled.get("runner") or _bundled.setdefault("runner", Runner(pack_paths))
        else:
            packs._cache.clear()  # fresh folders each time: no use keeping old ones
            try:
                runner = Runner(pack_paths)
            except PackLoadError as error:
                out["problems"] = [[p.code, p.path, p.line, p.column, p.severity, str(p)]
                                   for p in error.problems]
                return out
        extractor = runner.extractor
        stage = "extract"
        out["extract"] = [[c.to_dict(with_evidence=True) | {"exact": repr(c.confidence)}
                           for c in extractor.extract(text)] for text in texts]
        stage = "analyze"
        out["analyze"] = []
        for text in texts:
            analysis = extractor.analyze(text)
            out["analyze"].append({
                "claims": [c.to_dict(with_evidence=True) for c in analysis.claims],
                "sentiment": analysis.sentiment.to_dict() | {
                    "exact": repr(analysis.sentiment.score)},
                "hits": [[h.rule_id, h.start, h.end, [list(g) for g in h.gaps]]
                         for group in (analysis.matches.claim_cues, analysis.matches.modifiers,
                                       analysis.matches.sentiment) for h in group],
                "cancelled": [[h.rule_id, h.start, h.end, why] for h, why in analysis.cancelled],
            })
        if bundled:
            return out
        stage = "claimx test"
        cases = runner.cases()
        report = runner.run_all(cases)
        out["test"] = report_data(report, [], runner.packs)
    except RuleTimeoutError as error:  # allowed: a pattern too slow for its timeout
        out["timeout"] = [stage, str(error)]
    except Exception as error:  # noqa: BLE001 - what the fuzzing looks for
        out["crash"] = [stage, f"{type(error).__name__}: {error}",
                        traceback.format_exc(limit=-6)]
    return out


def _serve() -> None:
    """The pure-Python side: one JSON request a line on stdin, one answer a line out."""
    for line in sys.stdin:
        request = json.loads(line)
        if "texts_only" in request:
            answer = outputs(request["packs"], request["texts_only"])
        else:
            answer = outputs(request["packs"], request["texts"])
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


class PureChild:
    """A child process running claimx's pure-Python modules (``CLAIMX_PURE_PYTHON=1``)."""

    def __init__(self) -> None:
        env = dict(os.environ, **{_native.ENV: "1"})
        env["PYTHONPATH"] = os.pathsep.join(
            [str(Path(claimx.__file__).resolve().parent.parent), str(TESTS),
             env.get("PYTHONPATH", "")])
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "import test_pack_fuzz; test_pack_fuzz._serve()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True,
            encoding="utf-8", cwd=os.getcwd())

    def outputs(self, pack_paths: list[str], texts: list[str]) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"packs": pack_paths, "texts": texts}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, "the pure-Python child died"
        return json.loads(line)

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def pure() -> Iterator[PureChild]:
    child = PureChild()
    yield child
    child.close()


def _round_trip(value: Any) -> Any:
    return json.loads(json.dumps(value))


def check(pack_paths: list[str], texts: list[str], pure: PureChild) -> list[str]:
    """What is wrong with claimx on these packs and texts (empty when nothing is)."""
    here = _round_trip(outputs(pack_paths, texts))
    if currently_in_test_context():
        event("refused" if "problems" in here else "crashed" if "crash" in here
              else "timed out" if "timeout" in here else "loaded")
        for code in sorted({p[0] for p in here.get("problems", [])}):
            event(f"refused with {code}")
    wrong = []
    if "crash" in here:
        wrong.append(f"crash ({'compiled' if _native.compiled_modules else 'pure'}) in "
                     f"{here['crash'][0]}: {here['crash'][1]}\n{here['crash'][2]}")
    for problem in here.get("problems", []):
        if problem[0] not in CODES:
            wrong.append(f"a problem without a CX code: {problem}")
    there = pure.outputs(pack_paths, texts)
    if "crash" in there and "crash" not in here:
        wrong.append(f"crash (pure only) in {there['crash'][0]}: {there['crash'][1]}\n"
                     f"{there['crash'][2]}")
    if "crash" not in here and "crash" not in there and here != there:
        keys = [k for k in sorted(set(here) | set(there)) if here.get(k) != there.get(k)]
        wrong.append(f"compiled and pure differ in {keys}: "
                     f"{json.dumps({k: here.get(k) for k in keys}, ensure_ascii=False)[:1500]}\n"
                     f"pure: {json.dumps({k: there.get(k) for k in keys}, ensure_ascii=False)[:1500]}")
    return wrong


def _report(wrong: list[str], what: dict[str, Any]) -> None:
    if not wrong:
        return
    if _LOG:
        with open(_LOG, "a", encoding="utf-8") as log:
            log.write(json.dumps({"wrong": wrong, **what}, ensure_ascii=False, default=repr)
                      + "\n")
        return
    pytest.fail("\n".join(wrong) + "\n" + json.dumps(what, ensure_ascii=False, default=repr)[:3000],
                pytrace=False)


def _shown(files: dict[str, Any]) -> dict[str, str]:
    return {name: (content.decode("utf-8", "replace") if isinstance(content, bytes)
                   else emit(content)[:50_000]) for name, content in files.items()}


# --------------------------------------------------------------------------- the properties


@_FUZZ
@given(files=mutated_packs(), text=texts)
def test_a_mutated_pack_loads_or_is_refused_and_runs_alike_compiled_and_pure(
        files: dict[str, Any], text: str, pure: PureChild) -> None:
    with tempfile.TemporaryDirectory(prefix="claimx-fuzz-") as tmp:
        folder = write_pack(files, Path(tmp) / "fz")
        _report(check([str(folder)], [*TEXTS[:3], text], pure),
                {"files": _shown(files), "text": text})


@_TEXT_FUZZ
@given(batch=st.lists(st.one_of(texts, spliced_examples(), spliced_examples()), min_size=1,
                     max_size=4))
def test_any_text_runs_alike_compiled_and_pure_with_the_bundled_pack(
        batch: list[str], pure: PureChild) -> None:
    _report(check(["zh-business"], batch, pure), {"texts": batch})


def test_the_base_pack_loads_and_its_rules_fire(pure: PureChild) -> None:
    """The fuzzing starts from a pack that works: every rule kind fires on TEXTS."""
    with tempfile.TemporaryDirectory(prefix="claimx-fuzz-") as tmp:
        folder = write_pack(base_pack(), Path(tmp) / "fz")
        result = outputs([str(folder)], TEXTS)
        assert set(result) == {"extract", "analyze", "test"}, result
        fired = {hit[0] for a in result["analyze"] for hit in a["hits"]}
        assert fired == {"r.lex", "i.pat", "i.pat2", "r.seq", "r.seq2", "m.neg", "m.hedge",
                         "m.past", "m.up", "m.int", "s.pos", "s.neg"}, fired
        assert result["test"]["summary"]["failed"] == 0, result["test"]
        assert check([str(folder)], TEXTS, pure) == []


def test_the_extending_pack_loads_and_inherits(pure: PureChild) -> None:
    with tempfile.TemporaryDirectory(prefix="claimx-fuzz-") as tmp:
        folder = write_pack(extending_pack(), Path(tmp) / "fz")
        result = outputs([str(folder)], [*TEXTS, "公司欠款违约，成本上涨。"])
        assert set(result) == {"extract", "analyze", "test"}, result
        fired = {hit[0] for a in result["analyze"] for hit in a["hits"]}
        assert "c.debt" in fired and "c.seq" not in fired, fired
        assert result["test"]["summary"]["failed"] == 0, result["test"]
        assert check([str(folder)], TEXTS, pure) == []
