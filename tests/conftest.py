"""Shared test configuration: Hypothesis profiles, paths, and a private home for the
programs the tests start.

claimx itself writes nothing but the outputs it is asked for. The programs some tests
drive for real do: Chromium keeps ``$XDG_CONFIG_HOME/chromium/Crash Reports`` and GLib's
``$XDG_CACHE_HOME/dconf``, whatever ``--user-data-dir`` says. So the session points every
XDG base folder at a temporary folder of its own, removed when the session ends: a plain
``pytest`` leaves nothing in ``~/.cache``, ``~/.config`` or ``$XDG_CACHE_HOME``. (jieba,
used by the spaCy tests, keeps its dictionary cache in the system's temporary folder.)
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# The default profile runs every property with at least 500 examples (issue: core library).
settings.register_profile("default", max_examples=500, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
# `HYPOTHESIS_PROFILE=dev pytest` for a quick local loop.
settings.register_profile("dev", max_examples=50, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"

#: The XDG base folders the session redirects (the spec's names, in its order).
XDG_FOLDERS = ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME")

_saved_environment: dict[str, str | None] = {}
_private_home: str | None = None


def pytest_configure(config: pytest.Config) -> None:
    """Point the XDG base folders at a fresh temporary folder before any test runs, so
    the test processes and every program they start write there."""
    global _private_home
    _private_home = tempfile.mkdtemp(prefix="claimx-tests-home-")
    for name in XDG_FOLDERS:
        _saved_environment[name] = os.environ.get(name)
        folder = Path(_private_home) / name.removeprefix("XDG_").removesuffix("_HOME").lower()
        folder.mkdir()
        os.environ[name] = str(folder)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Give the environment back and remove what the programs wrote."""
    for name, value in _saved_environment.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    if _private_home is not None:
        shutil.rmtree(_private_home, ignore_errors=True)


def write_pack(root: Path, pack_yaml: str, rules_yaml: str) -> Path:
    """A pack folder ``root`` holding ``pack.yaml`` and one ``rules.yaml`` (the small test
    packs that several test modules build in a temporary folder)."""
    root.mkdir(parents=True)
    (root / "pack.yaml").write_text(pack_yaml, encoding="utf-8")
    (root / "rules.yaml").write_text(rules_yaml, encoding="utf-8")
    return root


def write_files(folder: Path, files: dict[str, str | bytes]) -> Path:
    """Write ``files`` (relative name -> text, or bytes written as they are) under
    ``folder``, creating folders as needed; text is UTF-8, lone surrogates kept as their
    bytes (the hostile and fuzzed packs write them on purpose)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", errors="surrogatepass")
    return folder


@pytest.fixture(scope="session")
def private_home() -> Path:
    """The session's private folder holding the XDG base folders."""
    assert _private_home is not None
    return Path(_private_home)


def regex_patterns(atoms: list[str], quantifiers: list[str], *, claim_group: bool = False
                   ) -> st.SearchStrategy[str]:
    """Small ``regex`` patterns built from ``atoms``: sequences, alternations, groups,
    lookarounds and the given ``quantifiers`` (and a ``(?P<claim>…)`` group when
    ``claim_group``), for properties of the pattern readers (first characters, required
    words) checked against the engine itself."""
    def quantified(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.tuples(inner, st.sampled_from(quantifiers)).map(lambda t: t[0] + t[1])

    def grown(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        shapes = [
            st.lists(inner, min_size=1, max_size=4).map("".join),
            st.lists(inner, min_size=1, max_size=3).map(lambda xs: "(?:" + "|".join(xs) + ")"),
            quantified(inner.map(lambda x: "(?:" + x + ")")),
            st.tuples(st.sampled_from(["(?=", "(?!", "(?<=", "(?<!"]), inner).map(
                lambda t: t[0] + t[1] + ")"),
        ]
        if claim_group:
            shapes.append(inner.map(lambda x: "(?P<claim>" + x + ")"))
        return st.one_of(*shapes)

    return st.recursive(quantified(st.sampled_from(atoms)), grown, max_leaves=8)


#: A pack with a regex that backtracks catastrophically on BACKTRACKING_TEXT (900 a's then a b:
#: (a+)+$ tries 2^900 ways of splitting the run) and a plain lexicon rule beside it — for
#: what the API and the commands do when a rule's regex runs out of time.
BACKTRACKING_RULES = """rules:
  - id: user.catastrophic
    kind: pattern
    type: risk
    pattern: (a+)+$
  - id: user.fine
    kind: lexicon
    type: risk
    cues: [风险]
"""
BACKTRACKING_TEXT = "存在风险。" + "a" * 900 + "b。"


#: The token-rule fixture pack (its ``pkuseg-train.txt`` trains the toy segmenter below).
TOKEN_PACK = Path(__file__).parent / "fixtures" / "token-pack"


@pytest.fixture(scope="session")
def toy_pkuseg_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A toy spacy-pkuseg model trained on the token pack's hand-segmented sentences (< 1 s),
    once per session for the token and spaCy tests alike."""
    import random

    import numpy
    import spacy_pkuseg

    # spacy-pkuseg shuffles its training data with the global generators, whose state
    # depends on every test run before: seed them, so the toy model is the same on every
    # run and in every order, and put back the state the other tests had.
    saved = random.getstate(), numpy.random.get_state()
    random.seed(0)
    numpy.random.seed(0)
    try:
        folder = tmp_path_factory.mktemp("pkuseg-model")
        corpus = str(TOKEN_PACK / "pkuseg-train.txt")
        spacy_pkuseg.train(corpus, corpus, str(folder), train_iter=5)
    finally:
        random.setstate(saved[0])
        numpy.random.set_state(saved[1])
    return folder
