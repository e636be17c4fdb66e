"""normalize() skips OpenCC's t2s conversion for a text holding none of the characters it
can change (claimx._t2s_chars): the list must be complete for the installed OpenCC, and the
output the same with and without the skip."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import opencc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claimx import normalize as normalize_module
from claimx._t2s_chars import CHANGED_BY_T2S, OPENCC_VERSION
from claimx.normalize import normalize

_SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "make_t2s_chars.py"
_SAME_VERSION = opencc.__version__ == OPENCC_VERSION


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("make_t2s_chars", _SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not _SAME_VERSION, reason="the list is for another OpenCC version")
def test_the_list_is_the_one_the_installed_dictionaries_give() -> None:
    generator = _generator()
    tool, _ = generator._opencc_dict_tool()
    if not tool.exists() or not sys.platform.startswith("linux"):
        pytest.skip("no opencc_dict tool in this OpenCC install")
    assert generator.changed_characters() == CHANGED_BY_T2S


def test_the_skip_is_used_only_with_its_opencc_version() -> None:
    _, may_change = normalize_module._t2s()
    assert (may_change is not None) == _SAME_VERSION


# Traditional characters, simplified ones, characters that change only inside a phrase
# (藉此 → 借此, 瞭解 → 了解, 反覆 → 反复), and ASCII.
_CHARS = "藉此瞭解反覆沈默坏打國經濟发展公司將计划乾隆著名干里後台后a1,。 "


@settings(max_examples=300, deadline=None)
@given(st.text(_CHARS, max_size=12))
def test_the_same_text_with_and_without_the_skip(text: str) -> None:
    _, may_change = normalize_module._t2s()
    with_skip = normalize_module._to_simplified(text)
    normalize_module._may_change = None  # what _t2s gives for another OpenCC version
    try:
        assert normalize_module._to_simplified(text) == with_skip
    finally:
        normalize_module._may_change = may_change


def test_a_phrase_of_unchanged_characters_is_still_converted() -> None:
    assert all(ch in CHANGED_BY_T2S for ch in "藉瞭覆")
    assert normalize("藉此瞭解").text == "借此了解"
    assert normalize("公司计划明年扩产。").text == "公司计划明年扩产。"


def test_the_skip_changes_nothing() -> None:
    texts = ["藉此瞭解反覆", "國經濟發展", "公司计划明年扩产。", "打坏了", "𠀀𡈼國", ""]
    with_skip = [normalize(t) for t in texts]
    _, may_change = normalize_module._t2s()
    normalize_module._may_change = None
    try:
        assert [normalize(t) for t in texts] == with_skip
    finally:
        normalize_module._may_change = may_change
