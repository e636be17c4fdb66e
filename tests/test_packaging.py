"""The sdist runs its own test suite (issue 15): it carries the tests with their conftest
and fixtures, and everything they read (the pack's folder, gold samples, example, docs).
Built for real with ``python -m build --sdist`` and collected with pytest in the
unpacked tree, against a collection of the repository itself."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _collected(folder: Path) -> list[str]:
    """The test ids pytest collects in ``folder`` (run as ``python -m pytest`` there, so
    the ``claimx`` package of that tree is the one imported)."""
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q",
                           "-p", "no:cacheprovider"],
                          cwd=folder, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return sorted(line for line in done.stdout.splitlines() if "::" in line)


def _source_files() -> list[str]:
    """The repository's files as a fresh clone has them (tracked, or new and not
    ignored); outside a git checkout (an unpacked sdist), every file but build output."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO,
                            capture_output=True, text=True)
    if listed.returncode == 0 and listed.stdout.strip():
        return [f for f in listed.stdout.splitlines()
                if (REPO / f).is_file() or (REPO / f).is_symlink()]
    skip = (".venv", ".ci-venv", "build", "dist", "__pycache__", ".hypothesis", ".pytest_cache")
    return [str(p.relative_to(REPO)) for p in REPO.rglob("*") if p.is_file()
            and not any(part in skip or part.endswith(".egg-info")
                        for part in p.relative_to(REPO).parts)]


@pytest.fixture(scope="module")
def sdist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("build")
    # Built from a clean copy: setuptools also ships whatever a stale claimx.egg-info of
    # the working tree lists, which would hide a file MANIFEST.in no longer takes.
    clean = tmp_path_factory.mktemp("clean")
    for name in _source_files():
        target = clean / name
        target.parent.mkdir(parents=True, exist_ok=True)
        source = REPO / name
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        else:
            shutil.copy2(source, target)
    out = tmp_path_factory.mktemp("dist")
    # --no-isolation: the build backend of the test environment (no download).
    done = subprocess.run([sys.executable, "-m", "build", "--sdist", "--no-isolation",
                           "--outdir", str(out), str(clean)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (archive,) = out.glob("claimx-*.tar.gz")
    with tarfile.open(archive) as tar:
        tar.extractall(out / "unpacked", filter="data")
    (root,) = (out / "unpacked").iterdir()
    return root


@pytest.mark.slow
def test_the_sdist_holds_what_the_tests_read(sdist: Path) -> None:
    for needed in ("tests/conftest.py", "tests/fixtures/packs/good_user_type/pack.yaml",
                   "tests/fixtures/token-pack/pack.yaml", "corpora/claims-sample.jsonl",
                   "examples/sample.txt", "docs/api.md", "README.md", "rules/zh-business/pack.yaml",
                   "claimx/rules/zh-business/pack.yaml", ".ci/quality-floors.yaml"):
        assert (sdist / needed).is_file(), needed
    assert not list(sdist.rglob("__pycache__")) and not list(sdist.rglob(".hypothesis"))


@pytest.mark.slow
def test_pytest_collects_the_same_tests_in_the_sdist_as_in_the_repository(sdist: Path) -> None:
    in_sdist = _collected(sdist)
    in_repo = _collected(REPO)
    assert len(in_sdist) > 400
    assert in_sdist == in_repo
    # And a few of them run there, reading the sdist's own files.
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "tests/test_evaluate.py", "-k", "bundled_sample",
                           "tests/test_packs.py"], cwd=sdist, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout[-3000:]
    assert re.search(r"\d+ passed", done.stdout)
