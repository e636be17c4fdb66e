"""What running the test suite leaves on the machine (issue 15): nothing in the user's
cache or configuration folders, even from the programs the tests drive for real."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import XDG_FOLDERS

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def test_the_session_points_the_xdg_folders_at_a_private_home(private_home: Path) -> None:
    for name in XDG_FOLDERS:
        folder = Path(os.environ[name])
        assert folder.is_dir() and folder.is_relative_to(private_home), name
        assert not folder.is_relative_to(Path.home() / ".cache")
    # Processes the tests start see the same folders.
    seen = subprocess.run([sys.executable, "-c", "import os; print(os.environ['XDG_CACHE_HOME'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    assert seen == os.environ["XDG_CACHE_HOME"]


def test_claimx_itself_writes_no_cache(tmp_path: Path, private_home: Path) -> None:
    (tmp_path / "a.txt").write_text("公司计划扩产。", encoding="utf-8")
    before = sorted(private_home.rglob("*"))
    done = subprocess.run([sys.executable, "-m", "claimx", "tag", str(tmp_path / "a.txt"), "-q"],
                          capture_output=True, timeout=300)
    assert done.returncode == 0
    assert sorted(private_home.rglob("*")) == before


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (installed by .ci/run)")
def test_chromium_started_by_the_tests_writes_into_the_private_home(tmp_path: Path,
                                                                    private_home: Path) -> None:
    """Chromium writes crash-report settings under $XDG_CONFIG_HOME whatever its
    --user-data-dir: with the redirect they land in the session's folder."""
    page = tmp_path / "page.html"
    page.write_text("<p>ok</p>", encoding="utf-8")
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri()],
        capture_output=True, timeout=120)
    assert done.returncode == 0 and b"ok" in done.stdout
    written = [p for p in private_home.rglob("*") if p.is_file()]
    assert written, "Chromium wrote nothing under the redirected XDG folders"


def test_spark_tests_skip_with_a_reason_without_java(tmp_path: Path) -> None:
    """No Java runtime: the Spark tests are skipped, saying what they need, instead of
    erroring when the JVM fails to start."""
    pytest.importorskip("pyspark")
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("JAVA_HOME", "SPARK_HOME")}
    env["PATH"] = str(empty_bin)
    repo = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                           str(repo / "tests" / "test_spark.py")],
                          capture_output=True, text=True, env=env, cwd=repo, timeout=300)
    assert done.returncode == 5 or done.returncode == 0, done.stdout[-3000:]
    assert "error" not in done.stdout.splitlines()[-1], done.stdout[-3000:]
    assert "skipped" in done.stdout and "needs a Java 17+ runtime" in done.stdout
