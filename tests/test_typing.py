"""The package's type hints are true: mypy, configured in pyproject.toml ([tool.mypy]),
finds no error in ``claimx``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow  # a fresh mypy run over the package: about 15 s
def test_mypy_finds_no_type_error_in_the_package(tmp_path: Path) -> None:
    # The cache goes to a temporary folder: the suite leaves nothing in the checkout.
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"),
         "--cache-dir", str(tmp_path / "mypy-cache")],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"mypy exited {done.returncode}:\n{done.stdout}{done.stderr}"
