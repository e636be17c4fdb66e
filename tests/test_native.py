"""The modules compiled with mypyc (setup.py) and the guard against stale ones
(claimx/_native.py): a compiled module is used only while every source its build record
lists is unchanged; otherwise all of them run from their .py, with a warning."""

from __future__ import annotations

import hashlib
import importlib.machinery
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import claimx
from claimx import _native

REPO = Path(__file__).resolve().parent.parent
PACKAGE = Path(claimx.__file__).resolve().parent
_SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]


def _fake_build(tmp_path: Path, modules: tuple[str, ...] = ("match", "assemble"),
                record: bool = True) -> Path:
    """A package folder ``pkg`` whose ``modules`` have a (dummy) binary beside their .py,
    a shared library, a dependency, and the build record of those sources."""
    folder = tmp_path / "pkg"
    folder.mkdir()
    for name in (*modules, "types"):
        (folder / f"{name}.py").write_text(f"NAME = {name!r}\n", encoding="utf-8")
    for name in modules:
        (folder / f"{name}{_SUFFIX}").write_bytes(b"")
    (folder / f"_native__mypyc{_SUFFIX}").write_bytes(b"")
    if record:
        sources = {f"pkg/{name}.py": hashlib.sha256((folder / f"{name}.py").read_bytes())
                   .hexdigest() for name in (*modules, "types")}
        (folder / _native.RECORD).write_text(json.dumps({
            "group": "pkg._native", "modules": [f"pkg.{name}" for name in modules],
            "sources": sources}), encoding="utf-8")
    return folder


def test_a_package_without_binaries_runs_as_it_is(tmp_path: Path) -> None:
    folder = tmp_path / "pkg"
    folder.mkdir()
    (folder / "match.py").write_text("", encoding="utf-8")
    assert _native.plan(folder, {}) == ((), (), None)


def test_a_shared_library_without_its_modules_is_ignored(tmp_path: Path) -> None:
    folder = _fake_build(tmp_path)
    for name in ("match", "assemble"):
        (folder / f"{name}{_SUFFIX}").unlink()
    assert _native.plan(folder, {}) == ((), (), None)


def test_binaries_built_from_the_sources_there_are_used(tmp_path: Path) -> None:
    folder = _fake_build(tmp_path)
    assert _native.plan(folder, {}) == (("pkg.assemble", "pkg.match"), (), None)
    assert _native.plan(folder, {_native.ENV: "0"}) == (("pkg.assemble", "pkg.match"), (), None)


def test_an_edited_compiled_module_sends_every_module_to_its_source(tmp_path: Path) -> None:
    folder = _fake_build(tmp_path)
    with (folder / "match.py").open("a", encoding="utf-8") as f:
        f.write("# edited\n")
    use, avoid, problem = _native.plan(folder, {})
    assert use == ()
    assert avoid == ("pkg.assemble", "pkg.match")  # assemble too: it calls match natively
    assert problem is not None
    assert problem.startswith("pkg/match.py changed since")
    assert "pip install -e ." in problem and _native.ENV in problem


def test_an_edited_dependency_sends_them_to_their_source_too(tmp_path: Path) -> None:
    # The compiled code was typed against the modules it imports (and may have copied
    # their Final constants).
    folder = _fake_build(tmp_path)
    (folder / "types.py").write_text("NAME = 'changed'\n", encoding="utf-8")
    use, avoid, problem = _native.plan(folder, {})
    assert (use, avoid) == ((), ("pkg.assemble", "pkg.match"))
    assert problem is not None and problem.startswith("pkg/types.py changed")
    (folder / "types.py").unlink()
    assert _native.plan(folder, {})[2].startswith("pkg/types.py changed")  # type: ignore[union-attr]


@pytest.mark.parametrize("damage", ["no record", "unreadable", "other modules", "extra binary"])
def test_binaries_the_record_does_not_vouch_for_are_not_used(tmp_path: Path,
                                                             damage: str) -> None:
    folder = _fake_build(tmp_path, record=damage != "no record")
    if damage == "unreadable":
        (folder / _native.RECORD).write_text("{", encoding="utf-8")
    elif damage == "other modules":
        record = json.loads((folder / _native.RECORD).read_text(encoding="utf-8"))
        record["modules"] = ["pkg.match"]
        (folder / _native.RECORD).write_text(json.dumps(record), encoding="utf-8")
    elif damage == "extra binary":  # left by an older build that compiled more modules
        (folder / "types.py").write_text("NAME = 'types'\n", encoding="utf-8")
        (folder / f"types{_SUFFIX}").write_bytes(b"")
    use, avoid, problem = _native.plan(folder, {})
    assert use == ()
    assert "pkg.match" in avoid and "pkg.assemble" in avoid
    assert problem is not None and "compiled modules" in problem


def test_the_environment_variable_asks_for_pure_python_without_a_warning(
        tmp_path: Path) -> None:
    folder = _fake_build(tmp_path)
    assert _native.plan(folder, {_native.ENV: "1"}) == ((), ("pkg.assemble", "pkg.match"),
                                                       None)
    (folder / "match.py").write_text("# edited\n", encoding="utf-8")
    assert _native.plan(folder, {_native.ENV: "1"})[2] is None


# -- the real binaries, when this claimx has them ---------------------------------------

_PROBE = r"""
import json, sys, warnings
sys.path.insert(0, sys.argv[1])
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import claimx
import claimx._native, claimx.assemble, claimx.match
assert claimx.__file__.startswith(sys.argv[1]), claimx.__file__
claims = [c.to_dict() for c in claimx.extract("公司计划明年进军东南亚市场，但面临汇率风险。")]
print(json.dumps({
    "compiled": list(claimx._native.compiled_modules),
    "files": [claimx.match.__spec__.origin, claimx.assemble.__spec__.origin],
    "probe": getattr(claimx.match, "STALE_GUARD_PROBE", None),
    "warnings": [f"{w.category.__name__}: {w.message}" for w in caught],
    "claims": claims}, ensure_ascii=False))
"""


def _probe(root: Path, **env: str) -> dict[str, object]:
    environ = {k: v for k, v in os.environ.items() if k != _native.ENV}
    done = subprocess.run([sys.executable, "-c", _PROBE, str(root)], capture_output=True,
                          text=True, env={**environ, **env}, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, object] = json.loads(done.stdout)
    return result


@pytest.fixture
def compiled_copy(tmp_path: Path) -> Path:
    """A copy of this claimx package with its compiled modules and build record."""
    if not any(name.startswith("claimx.") for name in _native._binaries(PACKAGE)):
        pytest.skip("this claimx has no compiled modules (a pure-Python build)")
    shutil.copytree(PACKAGE, tmp_path / "claimx", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def test_the_compiled_modules_of_this_build_match_their_sources(compiled_copy: Path) -> None:
    if os.environ.get(_native.ENV, "") not in ("", "0"):
        pytest.skip(f"{_native.ENV} is set")
    # The package under test (not a copy) uses its binaries: a suite run on compiled
    # modules tests them, not their sources.
    assert "claimx.match" in _native.compiled_modules
    assert claimx.match.__spec__.origin.endswith(_SUFFIX)  # type: ignore[attr-defined,union-attr]
    ran = _probe(compiled_copy)
    assert ran["warnings"] == []
    assert "claimx.match" in ran["compiled"] and "claimx.assemble" in ran["compiled"]  # type: ignore[operator]
    assert all(str(f).endswith(_SUFFIX) for f in ran["files"])  # type: ignore[attr-defined]


def test_an_edited_module_runs_from_its_source_with_a_warning(compiled_copy: Path) -> None:
    before = _probe(compiled_copy, **{_native.ENV: "1"})
    assert before["compiled"] == [] and before["warnings"] == []
    assert all(str(f).endswith(".py") for f in before["files"])  # type: ignore[attr-defined]
    with (compiled_copy / "claimx" / "match.py").open("a", encoding="utf-8") as f:
        f.write("\nSTALE_GUARD_PROBE = 1\n")
    after = _probe(compiled_copy)
    assert after["probe"] == 1  # the edit runs, not the binary built before it
    assert after["compiled"] == []
    assert all(str(f).endswith(".py") for f in after["files"])  # type: ignore[attr-defined]
    (warning,) = after["warnings"]  # type: ignore[misc]
    assert warning.startswith("StaleCompiledModulesWarning: claimx/match.py changed since")
    assert after["claims"] == before["claims"]


def test_an_edited_dependency_runs_from_source_too(compiled_copy: Path) -> None:
    with (compiled_copy / "claimx" / "segment.py").open("a", encoding="utf-8") as f:
        f.write("\n# edited\n")
    after = _probe(compiled_copy)
    assert after["compiled"] == []
    assert all(str(f).endswith(".py") for f in after["files"])  # type: ignore[attr-defined]
    (warning,) = after["warnings"]  # type: ignore[misc]
    assert "claimx/segment.py changed since" in warning


# -- the build ---------------------------------------------------------------------------

def _build(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """setup.py build_ext of this repository into ``tmp_path`` (not in place)."""
    return subprocess.run(
        [sys.executable, str(REPO / "setup.py"), "-q", "build_ext",
         "--build-lib", str(tmp_path / "lib"), "--build-temp", str(tmp_path / "temp")],
        cwd=REPO, capture_output=True, text=True, timeout=600,
        env={**os.environ, "MYPY_CACHE_DIR": str(tmp_path / "mypy-cache"), **env})


@pytest.mark.slow
def test_the_build_installs_pure_python_when_compiling_fails(tmp_path: Path) -> None:
    pytest.importorskip("mypyc")
    # A stale binary from an earlier build is not left behind either.
    (tmp_path / "lib" / "claimx").mkdir(parents=True)
    (tmp_path / "lib" / "claimx" / f"match{_SUFFIX}").write_bytes(b"")
    (tmp_path / "lib" / "claimx" / "match.py").write_text("", encoding="utf-8")
    done = _build(tmp_path, CC=str(tmp_path / "no-such-compiler"), **{_native.ENV: ""})
    assert done.returncode == 0, done.stderr[-3000:]
    assert "with mypyc failed" in done.stderr and "pure Python" in done.stderr
    assert not list((tmp_path / "lib").rglob(f"*{_SUFFIX}"))
    # The reason is kept for claimx._native.build_note (pip hides the build's output).
    note = _native.build_note(tmp_path / "lib" / "claimx")
    assert note is not None and note.startswith("compiling with mypyc failed: ")
    assert "no-such-compiler" in note


def test_the_environment_variable_skips_compiling(tmp_path: Path) -> None:
    done = _build(tmp_path, **{_native.ENV: "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"{_native.ENV} is set: not compiling" in done.stderr
    assert not list(tmp_path.rglob(f"*{_SUFFIX}"))
    assert _native.build_note(tmp_path / "lib" / "claimx") == f"{_native.ENV} was set at build time"


def test_a_compiled_build_leaves_no_note(tmp_path: Path) -> None:
    assert _native.build_note(_fake_build(tmp_path)) is None
    assert _native.build_note(tmp_path / "nowhere") is None
