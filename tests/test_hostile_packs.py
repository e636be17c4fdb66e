"""Hostile rule packs (issue 16, items 7-10): a pack is data from anyone, so loading one
must end in located errors or clean refusals - never a traceback, a hang, an unbounded
read, code run from a YAML tag, or a file read outside the pack.

Each case below builds a pack in a temporary folder and loads it in a fresh process that
records, through a Python audit hook, every file it opens and every folder it lists. The
test then checks the problems reported, that the process finished within 5 s and 500 MB,
and that nothing outside the pack (and Python's and claimx's own files) was opened.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import claimx
from conftest import write_files

SECONDS = 5.0
MEGABYTES = 500
META = "name: hostile\nversion: '1'\nlanguage: zh\nclaim_types: {risk: {polarity: negative}}\n"
RULE = "rules:\n  - id: r.one\n    kind: lexicon\n    type: risk\n    cues: [风险]\n"

# Runs in the child: record what is opened and listed, load the pack, report as JSON.
_DRIVER = textwrap.dedent("""
    import json, os, sys, traceback
    seen = {"opened": [], "listed": []}
    def hook(event, args):
        if event == "open" and isinstance(args[0], (str, bytes)):
            seen["opened"].append(os.fsdecode(args[0]))
        elif event in ("os.scandir", "os.listdir") and args and isinstance(args[0], (str, bytes)):
            seen["listed"].append(os.fsdecode(args[0]))
    recording = [True]
    def hook(event, args, _hook=hook):
        if recording[0]:
            _hook(event, args)
    sys.addaudithook(hook)
    from claimx.errors import PackLoadError
    from claimx.packs import load_packs
    result = {"problems": [], "traceback": None}
    try:
        load_packs([sys.argv[1]])
    except PackLoadError as exc:
        result["problems"] = [[p.code, p.path, p.line, p.column, str(p)] for p in exc.problems]
    except BaseException:
        result["traceback"] = traceback.format_exc()
    recording[0] = False
    result.update(seen)
    # Peak memory of this process image: VmHWM starts afresh at exec, while ru_maxrss
    # of a child on Linux also counts the parent's memory it was forked from.
    result["megabytes"] = None
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    result["megabytes"] = int(line.split()[1]) / 1024
    except OSError:
        pass
    with open(sys.argv[2], "w", encoding="utf-8") as out:
        json.dump(result, out)
""")


def _load_in_child(pack: Path, tmp_path: Path) -> dict:
    """Load ``pack`` in a fresh process; its report plus wall time and peak memory."""
    report = tmp_path / "report.json"
    driver = tmp_path / "driver.py"
    driver.write_text(_DRIVER, encoding="utf-8")
    started = time.monotonic()
    with open(tmp_path / "child-err.txt", "wb") as err:
        proc = subprocess.Popen([sys.executable, str(driver), str(pack), str(report)],
                                stdout=err, stderr=err, cwd=tmp_path)
    killer = threading.Timer(60, proc.kill)  # a hang fails the test, not the run
    killer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        killer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, (tmp_path / "child-err.txt").read_text(errors="replace")
    result = json.loads(report.read_text(encoding="utf-8"))
    result["seconds"] = elapsed
    if result["megabytes"] is None:  # no /proc: the child's own count, an upper bound
        result["megabytes"] = usage.ru_maxrss / (1024 if sys.platform != "darwin" else 1 << 20)
    return result


_ALLOWED_ROOTS = tuple(os.path.realpath(p) for p in {
    sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(claimx.__file__),
    os.path.dirname(os.__file__)})


def _outside(paths: list[str], pack: Path) -> list[str]:
    """The paths, of those given, that are neither in the pack nor Python's or claimx's
    own files (modules imported on the way, the bundled packs)."""
    own = os.path.realpath(pack)
    out = []
    for path in paths:
        real = os.path.realpath(path)
        if real == own or real.startswith(own + os.sep):
            continue
        if any(real == root or real.startswith(root + os.sep) for root in _ALLOWED_ROOTS):
            continue
        out.append(path)
    return out


# --------------------------------------------------------------------------- the cases
# Each case: (name, build(tmp_path) -> pack folder, [(code, where-or-None, fragment), ...]).
# `where` is "file:line:col", "file" (no position), or None (any place).


def _secret(tmp_path: Path) -> Path:
    """A file outside the pack that no case may open."""
    secret = tmp_path / "secret.yaml"
    secret.write_text("points: [[0, 0], [1, 1]]\nprivate_key: do-not-echo\n", encoding="utf-8")
    return secret


def _calibration_absolute(tmp_path: Path) -> Path:
    secret = _secret(tmp_path)
    return write_files(tmp_path / "pack", {"pack.yaml": META + f"calibration: {secret}\n",
                                      "r.yaml": RULE})


def _calibration_dotdot(tmp_path: Path) -> Path:
    _secret(tmp_path)
    return write_files(tmp_path / "pack", {"pack.yaml": META + "calibration: ../secret.yaml\n",
                                      "r.yaml": RULE})


def _calibration_etc_passwd(tmp_path: Path) -> Path:
    return write_files(tmp_path / "pack", {"pack.yaml": META + "calibration: /etc/passwd\n",
                                      "r.yaml": RULE})


def _calibration_dev_zero(tmp_path: Path) -> Path:
    return write_files(tmp_path / "pack", {"pack.yaml": META + "calibration: /dev/zero\n",
                                      "r.yaml": RULE})


def _calibration_symlink_to_dev_zero(tmp_path: Path) -> Path:
    pack = write_files(tmp_path / "pack", {"pack.yaml": META + "calibration: zero.yaml\n",
                                      "r.yaml": RULE})
    (pack / "zero.yaml").symlink_to("/dev/zero")
    return pack


def _calibration_python_tag(tmp_path: Path) -> Path:
    marker = tmp_path / "ran"
    return write_files(tmp_path / "pack", {
        "pack.yaml": META + "calibration: calibration.yaml\n", "r.yaml": RULE,
        "calibration.yaml": f"points: !!python/object/apply:os.system ['touch {marker}']\n"})


def _imports_outside(target: str) -> Callable[[Path], Path]:
    def build(tmp_path: Path) -> Path:
        return write_files(tmp_path / "pack", {"pack.yaml": META + f"imports: [{target}]\n",
                                          "r.yaml": RULE})
    return build


def _imports_two_up(tmp_path: Path) -> Path:
    write_files(tmp_path / "elsewhere", {"pack.yaml": META.replace("hostile", "other")})
    return write_files(tmp_path / "a" / "pack", {"pack.yaml": META + "imports: [../../elsewhere]\n",
                                            "r.yaml": RULE})


def _symlinked_rule_file(tmp_path: Path) -> Path:
    secret = _secret(tmp_path)
    pack = write_files(tmp_path / "pack", {"pack.yaml": META, "r.yaml": RULE})
    (pack / "stolen.yaml").symlink_to(secret)
    return pack


def _symlinked_pack_yaml(tmp_path: Path) -> Path:
    outside = write_files(tmp_path / "real", {"pack.yaml": META})
    pack = write_files(tmp_path / "pack", {"r.yaml": RULE})
    (pack / "pack.yaml").symlink_to(outside / "pack.yaml")
    return pack


def _symlinked_folder(tmp_path: Path) -> Path:
    _secret(tmp_path)
    pack = write_files(tmp_path / "pack", {"pack.yaml": META, "r.yaml": RULE})
    (pack / "more").symlink_to(tmp_path, target_is_directory=True)
    return pack


def _fifo_rule_file(tmp_path: Path) -> Path:
    pack = write_files(tmp_path / "pack", {"pack.yaml": META, "r.yaml": RULE})
    os.mkfifo(pack / "x.yaml")
    return pack


def _fifo_pack_yaml(tmp_path: Path) -> Path:
    pack = write_files(tmp_path / "pack", {"r.yaml": RULE})
    os.mkfifo(pack / "pack.yaml")
    return pack


def _huge_rule_file(tmp_path: Path) -> Path:
    pack = write_files(tmp_path / "pack", {"pack.yaml": META, "r.yaml": RULE})
    with open(pack / "big.yaml", "w", encoding="utf-8") as out:
        out.write("vars:\n  words: [")
        out.write("词语, " * 2_000_000)  # ~16 MB
        out.write("]\n")
    return pack


def _many_nodes(tmp_path: Path) -> Path:
    pack = write_files(tmp_path / "pack", {"pack.yaml": META, "r.yaml": RULE})
    (pack / "dense.yaml").write_text("vars:\n  words: [" + "a," * 4_000_000 + "]\n",
                                     encoding="utf-8")  # 8 MB: under the size limit
    return pack


def _deep_yaml(tmp_path: Path) -> Path:
    return write_files(tmp_path / "pack", {"pack.yaml": META,
                                      "r.yaml": "rules: " + "[" * 500 + "]" * 500 + "\n"})


def _deep_block_yaml(tmp_path: Path) -> Path:
    deep = "rules:\n" + "".join("  " * (i + 1) + f"- k{i}:\n" for i in range(300))
    return write_files(tmp_path / "pack", {"pack.yaml": META, "r.yaml": deep})


def _billion_laughs(tmp_path: Path) -> Path:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    text = "settings:\n" + "".join(f"  {line}\n" for line in lines)
    return write_files(tmp_path / "pack", {"pack.yaml": META + text, "r.yaml": RULE})


def _recursive_alias(tmp_path: Path) -> Path:
    return write_files(tmp_path / "pack", {"pack.yaml": META,
                                      "r.yaml": "vars:\n  loop: &a [x, *a]\n" + RULE[:0]})


def _nested_groups(tmp_path: Path) -> Path:
    pattern = "(" * 330 + "风险" + ")" * 330
    return write_files(tmp_path / "pack", {"pack.yaml": META, "r.yaml": (
        f"rules:\n  - id: r.deep\n    kind: pattern\n    type: risk\n    pattern: '{pattern}'\n")})


def _exploding_pattern(tmp_path: Path) -> Path:
    return write_files(tmp_path / "pack", {"pack.yaml": META, "r.yaml": (
        "rules:\n  - id: r.boom\n    kind: pattern\n    type: risk\n"
        "    pattern: '(?:(?:a{1000}){1000}){1000}'\n")})


def _python_tag_in_rule(tmp_path: Path) -> Path:
    marker = tmp_path / "ran"
    return write_files(tmp_path / "pack", {"pack.yaml": META, "r.yaml": (
        "rules:\n  - id: r.tag\n    kind: lexicon\n    type: risk\n    cues: [风险]\n"
        f"    prior: !!python/object/apply:os.system ['touch {marker}']\n"
        "  - id: r.tag2\n    kind: lexicon\n    type: risk\n"
        f"    cues: !!python/object/apply:os.system ['touch {marker}']\n")})


def _wrong_setting_type(tmp_path: Path) -> Path:
    return write_files(tmp_path / "pack", {"pack.yaml": META + "settings:\n  subject_object_markers: 5\n"
                                      "  subject_stops: [的, 7]\n", "r.yaml": RULE})


def _nan_and_inf(tmp_path: Path) -> Path:
    return write_files(tmp_path / "pack", {
        "pack.yaml": META + "settings:\n  negation_factor: .nan\n"
                            "  sentiment_claim_weights: {risk: .inf}\n",
        "r.yaml": RULE.replace("cues: [风险]", "cues: [风险]\n    prior: .nan")
        + "  - id: r.mood\n    kind: sentiment\n    polarity: negative\n    cues: [跌]\n"
          "    weight: -.inf\n"})


_HUGE = "1" + "0" * 400  # a whole number past a float's range: float() raises OverflowError


def _huge_numbers(tmp_path: Path) -> Path:
    # Found by fuzzing (tests/test_pack_fuzz.py): these were tracebacks at load.
    return write_files(tmp_path / "pack", {
        "pack.yaml": META + f"settings:\n  negation_factor: {_HUGE}\n"
                            f"  sentiment_claim_weights: {{risk: -{_HUGE}}}\n",
        "r.yaml": RULE.replace("cues: [风险]", f"cues: [风险]\n    prior: {_HUGE}")
        + "  - id: r.mood\n    kind: sentiment\n    polarity: negative\n    cues: [跌]\n"
          f"    weight: {_HUGE}\n"})


def _huge_calibration(tmp_path: Path) -> Path:
    return write_files(tmp_path / "pack", {
        "pack.yaml": META + f"calibration: {{points: [[0, 0], [1, 1]], priors: {{r.one: {_HUGE}}}}}\n",
        "r.yaml": RULE})


def _set_for_a_mapping(tmp_path: Path) -> Path:
    # `!!set {a, b}` is a mapping node that YAML reads as a Python set: settings of one
    # were an AttributeError at load, where they merge (found by fuzzing).
    return write_files(tmp_path / "pack", {
        "pack.yaml": META + "settings: !!set {merge_gap, subject_stops}\n",
        "r.yaml": RULE.replace("cues: [风险]", "cues: [风险]\n    examples: !!set {match}")})


def _reserved_settings(tmp_path: Path) -> Path:
    # Assembly keeps the regexes it compiles from the settings under `_` names; a pack's
    # own reached it as a regex: an int or a string crashed extract (found by fuzzing).
    return write_files(tmp_path / "pack", {
        "pack.yaml": META + "settings:\n  _subject_self_regex: 1\n  _subject_stop_regex: x\n",
        "r.yaml": RULE})


def _scene_frames_without_an_ellipsis(tmp_path: Path) -> Path:
    # scene_clauses are opening…closing pairs; a frame without its … would read as a word
    # that every clause "opens and closes" with.
    return write_files(tmp_path / "pack", {
        "pack.yaml": META + "settings:\n  scene_clauses: [当…时, 当时, …后]\n",
        "r.yaml": RULE})


def _settings_not_named_by_strings(tmp_path: Path) -> Path:
    # Compiled, assembly checks that each setting's name is a str (found by fuzzing).
    return write_files(tmp_path / "pack", {
        "pack.yaml": META + "settings: {null: 1, 12: [a], true: x, merge_gap: 2}\n",
        "r.yaml": RULE})


def _empty_pack_yaml_extended(tmp_path: Path) -> Path:
    # An empty pack.yaml loaded as no pack at all, with no problem; extended, it was an
    # IndexError looking for the problem that kept it from loading (found by fuzzing).
    return write_files(tmp_path / "pack", {"pack.yaml": META + "extends: [base]\n", "r.yaml": RULE,
                                      "base/pack.yaml": "# nothing yet\n"})


def _duplicate_keys(tmp_path: Path) -> Path:
    return write_files(tmp_path / "pack", {"pack.yaml": META + "version: '2'\n", "r.yaml": (
        RULE + "rules:\n  - id: r.two\n    kind: lexicon\n    type: risk\n    cues: [亏损]\n"
        "    cues: [下跌]\n")})


def _control_characters(tmp_path: Path) -> Path:
    return write_files(tmp_path / "pack", {"pack.yaml": META,
                                      "r.yaml": RULE.replace("风险", "风\x00险"),
                                      "s.yaml": "vars:\n  w: [a\x07b]\n"})


def _too_many_rule_files(tmp_path: Path) -> Path:
    files: dict[str, str | bytes] = {"pack.yaml": META}
    files.update({f"r{i:04d}.yaml": "vars: {}\n" for i in range(1_005)})
    return write_files(tmp_path / "pack", files)


def _not_a_pack(tmp_path: Path) -> Path:
    folder = tmp_path / "pack"
    for i in range(2_000):  # a big folder without pack.yaml: no walk at all
        (folder / f"d{i % 20}").mkdir(parents=True, exist_ok=True)
        (folder / f"d{i % 20}" / f"f{i}.yaml").write_text("x: 1\n", encoding="utf-8")
    return folder


CASES: list[tuple[str, Callable[[Path], Path], list[tuple[str, str | None, str]]]] = [
    ("calibration: an absolute path", _calibration_absolute,
     [("CX105", "pack/pack.yaml:5:14", "not inside the pack")]),
    ("calibration: ../", _calibration_dotdot, [("CX105", "pack/pack.yaml:5:14", "")]),
    ("calibration: /etc/passwd", _calibration_etc_passwd, [("CX105", "pack/pack.yaml:5:14", "")]),
    ("calibration: /dev/zero", _calibration_dev_zero, [("CX105", "pack/pack.yaml:5:14", "")]),
    ("calibration: a symlink to /dev/zero", _calibration_symlink_to_dev_zero,
     [("CX105", None, "zero.yaml")]),
    ("calibration file with a !!python tag", _calibration_python_tag,
     [("CX127", "pack/calibration.yaml:1:1", "")]),
    ("imports: /etc", _imports_outside("/etc"), [("CX105", "pack/pack.yaml:5:11", "/etc")]),
    ("imports: /root", _imports_outside("/root"), [("CX105", "pack/pack.yaml:5:11", "")]),
    ("imports: /proc/self", _imports_outside("/proc/self"), [("CX105", None, "")]),
    ("imports: ~", _imports_outside("~"), [("CX105", None, "")]),
    ("imports: ../../elsewhere", _imports_two_up, [("CX105", None, "outside")]),
    ("a rule file symlinked outside", _symlinked_rule_file,
     [("CX105", "pack/stolen.yaml", "outside")]),
    ("pack.yaml symlinked outside", _symlinked_pack_yaml, [("CX105", "pack/pack.yaml", "")]),
    ("a folder symlinked outside", _symlinked_folder, [("CX105", "pack/more", "")]),
    ("a FIFO named x.yaml", _fifo_rule_file, [("CX106", "pack/x.yaml", "regular file")]),
    ("a FIFO named pack.yaml", _fifo_pack_yaml, [("CX102", None, "")]),
    ("a 16 MB rule file", _huge_rule_file, [("CX107", "pack/big.yaml", "bytes")]),
    ("4 million YAML values", _many_nodes, [("CX107", None, "values")]),
    ("YAML nested 500 deep", _deep_yaml, [("CX107", "pack/r.yaml:1:", "levels deep")]),
    ("block YAML nested 300 deep", _deep_block_yaml, [("CX107", "pack/r.yaml:", "levels")]),
    ("a billion laughs", _billion_laughs, [("CX107", "pack/pack.yaml:", "aliases")]),
    ("a recursive alias", _recursive_alias, [("CX107", "pack/r.yaml:", "recursive")]),
    ("330 nested groups", _nested_groups, [("CX123", "pack/r.yaml:5:14", "nested")]),
    ("(?:(?:a{1000}){1000}){1000}", _exploding_pattern, [("CX123", "pack/r.yaml:5:14", "unroll")]),
    ("a !!python tag in a rule", _python_tag_in_rule, [("CX112", "pack/r.yaml:6:12", "prior")]),
    ("subject_object_markers: 5", _wrong_setting_type,
     [("CX112", "pack/pack.yaml:6:27", "subject_object_markers"),
      ("CX112", "pack/pack.yaml:7:18", "subject_stops")]),
    (".nan and .inf", _nan_and_inf,
     [("CX113", "pack/pack.yaml:6:20", "finite"), ("CX112", "pack/pack.yaml:7:28", "finite"),
      ("CX113", "pack/r.yaml:6:12", "finite"), ("CX113", "pack/r.yaml:11:13", "finite")]),
    ("whole numbers past a float's range", _huge_numbers,
     [("CX113", "pack/pack.yaml:6:20", "finite"), ("CX112", "pack/pack.yaml:7:28", "finite"),
      ("CX113", "pack/r.yaml:6:12", "finite"), ("CX113", "pack/r.yaml:11:13", "finite")]),
    ("calibration priors past a float's range", _huge_calibration,
     [("CX127", "pack/pack.yaml:5:14", "calibration must hold")]),
    ("!!set for a mapping", _set_for_a_mapping,
     [("CX112", "pack/pack.yaml:5:11", "'settings' must be a mapping"),
      ("CX112", "pack/r.yaml:6:15", "'examples' must be a mapping")]),
    ("settings named like assembly's own", _reserved_settings,
     [("CX110", "pack/pack.yaml:6:3", "reserved"), ("CX110", "pack/pack.yaml:7:3", "reserved")]),
    ("scene frames without an opening, a closing or the … between", _scene_frames_without_an_ellipsis,
     [("CX112", "pack/pack.yaml:6:24", "scene_clauses"),
      ("CX112", "pack/pack.yaml:6:28", "scene_clauses")]),
    ("settings named by null, a number, a bool", _settings_not_named_by_strings,
     [("CX112", "pack/pack.yaml:5:12", "name must be a string"),
      ("CX112", "pack/pack.yaml:5:21", "name must be a string"),
      ("CX112", "pack/pack.yaml:5:30", "name must be a string")]),
    ("an empty pack.yaml, extended", _empty_pack_yaml_extended,
     [("CX111", "pack/base/pack.yaml", "pack.yaml is empty")]),
    ("duplicate keys", _duplicate_keys,
     [("CX128", "pack/pack.yaml:5:1", "'version'"), ("CX128", "pack/r.yaml:6:1", "'rules'"),
      ("CX128", "pack/r.yaml:11:5", "'cues'")]),
    ("NUL and control characters", _control_characters,
     [("CX101", "pack/r.yaml:5:13", "U+0000"), ("CX101", "pack/s.yaml:2:8", "U+0007")]),
    ("1,005 rule files", _too_many_rule_files, [("CX107", "pack", "rule files")]),
    ("a big folder that is not a pack", _not_a_pack, [("CX102", "pack", "")]),
]


@pytest.mark.skipif(os.name != "posix", reason="FIFOs, symlinks and os.wait4")
@pytest.mark.parametrize("name, build, expected", CASES, ids=[c[0] for c in CASES])
def test_a_hostile_pack_gives_located_errors_within_bounds_and_reads_nothing_outside(
        tmp_path: Path, name: str, build: Callable[[Path], Path],
        expected: list[tuple[str, str | None, str]]) -> None:
    pack = build(tmp_path)
    result = _load_in_child(pack, tmp_path)
    assert result["traceback"] is None, result["traceback"]
    problems = result["problems"]
    assert problems, "a hostile pack must not load"
    for code, where, fragment in expected:
        matching = [p for p in problems if p[0] == code and fragment in p[4]
                    and (where is None or _where(p).startswith(where))]
        assert matching, f"no {code} at {where} with {fragment!r} in {problems}"
    assert result["seconds"] < SECONDS, f"{result['seconds']:.1f} s"
    assert result["megabytes"] < MEGABYTES, f"{result['megabytes']:.0f} MB"
    assert _outside(result["opened"], pack) == [], "opened outside the pack"
    assert _outside(result["listed"], pack) == [], "listed outside the pack"
    assert not (tmp_path / "ran").exists(), "a YAML tag ran code"
    assert all("do-not-echo" not in p[4] for p in problems)


def _where(problem: list) -> str:
    _, path, line, column, _ = problem
    return f"{path}:{line}:{column}" if line else path


@pytest.mark.skipif(os.name != "posix", reason="os.wait4")
def test_lint_of_a_system_folder_stops_at_the_missing_pack_yaml(tmp_path: Path) -> None:
    # `claimx lint /usr` walked 140k files; `claimx lint /` died of a PermissionError.
    for folder in ("/usr", "/"):
        result = _load_in_child(Path(folder), tmp_path)
        assert result["traceback"] is None
        assert [p[0] for p in result["problems"]] == ["CX102"]
        assert result["seconds"] < SECONDS
        # Only the import machinery lists folders (its own); never the folder given.
        assert folder not in [os.path.realpath(p) for p in result["listed"]]
        assert len(result["listed"]) < 50


def test_assembly_compiles_its_own_regexes_whatever_the_settings_hold() -> None:
    from claimx.assemble import prepare_settings

    prepared = prepare_settings({"_subject_self_regex": 1, "_subject_stop_regex": "x",
                                 "_subject_stop_reach": None, "merge_gap": 2})
    assert "_subject_self_regex" not in prepared and "_subject_stop_regex" not in prepared
    assert "_subject_stop_reach" not in prepared and prepared["merge_gap"] == 2
    assert prepare_settings({"subject_stops": ["在"], "_subject_stop_reach": "far"})[
        "_subject_stop_reach"] != "far"
    assert prepare_settings({None: 1, 12: "x", "merge_gap": 2})["merge_gap"] == 2  # type: ignore[dict-item]


def test_a_pack_with_a_bad_setting_never_reaches_tagging(tmp_path: Path) -> None:
    pack = _wrong_setting_type(tmp_path)
    with pytest.raises(claimx.PackLoadError):
        claimx.Extractor(packs=[pack])


# --------------------------------------------------------------------------- item 7: no cache


def test_no_pickle_is_ever_read_or_written(tmp_path: Path) -> None:
    # claimx used to unpickle cache entries from $CLAIMX_CACHE_DIR or ~/.cache/claimx: a
    # pickle planted in a world-writable cache folder ran on `claimx lint zh-business`.
    import pickle

    cache = tmp_path / "cache"
    cache.mkdir()
    marker = tmp_path / "ran"

    class Planted:
        def __reduce__(self) -> tuple:
            return (open, (str(marker), "w"))

    for name in ("pack-" + "0" * 40 + ".pickle", "planted.pickle"):
        (cache / name).write_bytes(pickle.dumps(Planted()))
    home = tmp_path / "home"
    env = {**os.environ, "CLAIMX_CACHE_DIR": str(cache), "HOME": str(home),
           "XDG_CACHE_HOME": str(home / ".cache")}
    env.pop("CLAIMX_NO_CACHE", None)
    for _ in range(2):
        done = subprocess.run([sys.executable, "-m", "claimx", "lint", "zh-business"], env=env,
                              capture_output=True, timeout=120)
        assert done.returncode == 0, done.stderr.decode()
    assert not marker.exists()
    assert sorted(p.name for p in cache.iterdir()) == sorted(
        ["pack-" + "0" * 40 + ".pickle", "planted.pickle"])  # nothing added
    assert not home.exists()  # nothing written under the home folder either


def test_an_edit_to_an_imported_pack_or_a_calibration_file_is_seen(tmp_path: Path) -> None:
    # The cache key covered only the pack's own folder: an edited import stayed in use,
    # and `claimx lint` said "ok" for an imported pack that no longer parsed.
    import shutil

    from claimx.packs import load_packs

    fixtures = Path(__file__).parent / "fixtures" / "packs" / "good_imports"
    shutil.copytree(fixtures, tmp_path / "packs")
    user = tmp_path / "packs" / "user"
    (user / "calibration.yaml").write_text("points: [[0, 0], [1, 1]]\n", encoding="utf-8")
    meta = user / "pack.yaml"
    meta.write_text(meta.read_text(encoding="utf-8") + "calibration: calibration.yaml\n",
                    encoding="utf-8")
    first = load_packs([user])[0]
    assert load_packs([user])[0] is first  # unchanged: kept
    assert first.calibration == ((0.0, 0.0), (1.0, 1.0))
    (user / "calibration.yaml").write_text("points: [[0, 0.1], [1, 0.9]]\n", encoding="utf-8")
    assert load_packs([user])[0].calibration == ((0.0, 0.1), (1.0, 0.9))
    base_rules = next(p for p in (tmp_path / "packs" / "base").glob("*.yaml")
                      if p.name != "pack.yaml")
    base_rules.write_text("vars: [this is: not, valid\n", encoding="utf-8")
    with pytest.raises(claimx.PackLoadError) as info:
        load_packs([user])
    assert any(p.code == "CX101" and "base" in p.path for p in info.value.problems)
