"""benchmarks/bench.py in a fresh clone (issue 15): without the shared corpora beside the
repository it falls back to the repository's own sample and says so, and it measures the
peak memory of one huge single-line document."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The benchmark and the sample corpus in a folder with no ../shared beside it."""
    root = tmp_path_factory.mktemp("fresh") / "clone"
    (root / "benchmarks").mkdir(parents=True)
    shutil.copy2(REPO / "benchmarks" / "bench.py", root / "benchmarks")
    shutil.copytree(REPO / "corpora", root / "corpora")
    assert not (root.parent / "shared").exists()
    return root


def _bench(clone: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # Run from the clone's parent: the installed claimx is measured, not a copy of it.
    return subprocess.run([sys.executable, str(clone / "benchmarks" / "bench.py"), *args],
                          capture_output=True, text=True, cwd=clone.parent, timeout=600)


@pytest.mark.slow
def test_bench_falls_back_to_the_repository_sample(clone: Path) -> None:
    done = _bench(clone, "--quick", "--only", "cold,memory")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    assert "using the repository's corpora/claims-sample.jsonl" in done.stdout
    assert "--corpus FILE" in done.stdout
    assert "peak RSS:" in done.stdout and "import + first extract" in done.stdout


@pytest.mark.slow
def test_bench_names_a_missing_corpus_instead_of_a_traceback(clone: Path) -> None:
    done = _bench(clone, "--corpus", str(clone / "nowhere.jsonl"), "--only", "memory")
    assert done.returncode == 2
    assert "no corpus at" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.slow
def test_bench_measures_a_huge_single_line_document(clone: Path) -> None:
    done = _bench(clone, "--quick", "--only", "huge")
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "input: 1.0 MB" in out and "one line" in out
    for label in ("python -c pass", "claimx tag (JSON Lines)", "claimx tag --format html",
                  "claimx explain -"):
        assert label in out
    # The budget is printed and judged (the numbers themselves are the benchmark's).
    assert "budget: baseline + 50 MB + 10 x input" in out
    assert out.count(" MB  OK") + out.count(" MB  ABOVE BUDGET") == 3
