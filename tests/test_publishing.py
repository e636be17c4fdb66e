"""Publishing a pack as its own pip package (issue 14): the template in
docs/rule-authoring.md, section 9, is built and installed as is, and the installed pack is
then found through its ``claimx.packs`` entry point — listed, tested, used for tagging and
extended by name."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "rule-authoring.md"


def _template() -> dict[str, str]:
    """The files of the template: each fenced block of section 9 whose first line is a
    comment naming its path."""
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("## 9. Publishing a pack as a pip package"):]
    section = section[:section.index("\n## ", 5)]
    files: dict[str, str] = {}
    for body in re.findall(r"```[a-z]*\n(.*?)```", section, re.S):
        first = body.splitlines()[0]
        named = re.fullmatch(r"# (\S+)", first)
        if named:
            files[named.group(1)] = body
    return files


def test_the_template_holds_a_package_and_its_entry_point() -> None:
    files = _template()
    assert set(files) == {"pyproject.toml", "src/claimx_esg/__init__.py",
                          "src/claimx_esg/pack.yaml", "src/claimx_esg/esg.yaml",
                          "src/claimx_esg/tests/esg.txt"}
    assert '[project.entry-points."claimx.packs"]\nesg = "claimx_esg"' in files["pyproject.toml"]


@pytest.mark.slow
def test_the_template_installs_and_the_pack_is_used_by_name(tmp_path: Path) -> None:
    project = tmp_path / "claimx-esg"
    for name, body in _template().items():
        target = project / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body, encoding="utf-8")
    site = tmp_path / "site"
    # A real build and install (setuptools through pip's build isolation, as a user's
    # `pip install .` does), into a folder of its own rather than this environment.
    # The build runs with a home folder of its own: build back-ends probe for compilers, and
    # a rustup proxy answering `rustc --version` writes ~/.rustup/settings.toml.
    build_home = tmp_path / "build-home"
    build_home.mkdir()
    built = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                            "--target", str(site), str(project)], capture_output=True,
                           text=True, timeout=600, env={**os.environ, "HOME": str(build_home)})
    assert built.returncode == 0, built.stdout + built.stderr
    assert (site / "claimx_esg" / "pack.yaml").is_file()
    assert (site / "claimx_esg" / "tests" / "esg.txt").is_file()
    env = {**os.environ, "PYTHONPATH": str(site)}

    def claimx(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "claimx", *args], cwd=tmp_path, env=env,
                              input=stdin, capture_output=True, text=True, timeout=300)

    listed = {p["name"]: p for p in json.loads(claimx("packs", "--json").stdout)}
    assert listed["esg"]["origin"] == "installed" and listed["esg"]["extends"] == ["zh-business"]
    assert listed["zh-business"]["origin"] == "bundled"
    tested = claimx("test", "esg")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "4 cases: 4 passed, 0 failed, 0 todo" in tested.stdout
    tagged = claimx("tag", "-", "--pack", "esg", stdin="星河能源承诺2030年前实现碳中和。")
    assert tagged.returncode == 0, tagged.stderr
    (record,) = [json.loads(line) for line in tagged.stdout.splitlines()]
    assert [c["type"] for c in record["claims"]] == ["esg_commitment"]
    user = tmp_path / "user-pack"
    user.mkdir()
    (user / "pack.yaml").write_text("name: user\nversion: '1'\nlanguage: zh\nextends: [esg]\n",
                                    encoding="utf-8")
    linted = claimx("lint", "user-pack")
    assert linted.returncode == 0, linted.stdout + linted.stderr
    assert "user-pack: ok (user 1, 0 rules" in linted.stdout
