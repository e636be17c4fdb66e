"""The on-disk pack cache (claimx/cache.py): hits give the same pack, any change or damage
misses, and a miss or a broken entry never stops a pack from loading."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import claimx
from claimx import cache, packs
from claimx.packs import find_pack, load_packs

TEXT = "星河科技计划明年在东南亚新建两座数据中心，但汇率波动可能导致汇兑损失。公司并未出现亏损。"


@pytest.fixture()
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("CLAIMX_CACHE_DIR", str(folder))
    monkeypatch.delenv("CLAIMX_NO_CACHE", raising=False)
    # load_packs also caches per process; these tests are about the disk, so start empty.
    monkeypatch.setattr(packs, "_cache", {})
    return folder


@pytest.fixture()
def pack_copy(tmp_path: Path) -> Path:
    root = tmp_path / "pack"
    shutil.copytree(find_pack("zh-business"), root)
    return root


def _claims(pack: object) -> list[dict]:
    ex = claimx.Extractor(packs=[pack])  # type: ignore[list-item]
    return [c.to_dict() for c in ex.extract(TEXT)]


def test_location_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLAIMX_NO_CACHE", raising=False)
    monkeypatch.setenv("CLAIMX_CACHE_DIR", str(tmp_path / "x"))
    assert cache.cache_dir() == tmp_path / "x"
    monkeypatch.delenv("CLAIMX_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.cache_dir() == tmp_path / "xdg" / "claimx"
    monkeypatch.setenv("CLAIMX_NO_CACHE", "1")
    assert cache.cache_dir() is None
    assert cache.entry_path(find_pack("zh-business")) is None


def test_load_packs_writes_an_entry_and_the_next_load_reads_no_yaml(
        cache_dir: Path, pack_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = load_packs([pack_copy])[0]
    entry = cache.entry_path(pack_copy)
    assert entry is not None and entry.is_file()
    if os.name == "posix":
        assert cache_dir.stat().st_mode & 0o077 == 0  # pickles: private to the user
    monkeypatch.setattr(packs, "_cache", {})

    def no_yaml(*args: object, **kwargs: object) -> None:
        raise AssertionError("the YAML was read although a cache entry exists")

    monkeypatch.setattr(packs, "_load_one", no_yaml)
    second = load_packs([pack_copy])[0]
    assert second is not first
    assert [r.id for r in second.rules] == [r.id for r in first.rules]
    assert second.settings == first.settings and second.claim_types == first.claim_types


def test_a_cached_pack_tags_exactly_like_a_fresh_one(cache_dir: Path, pack_copy: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAIMX_NO_CACHE", "1")
    fresh = _claims(pack_copy)
    assert fresh, "the sample text should hold claims"
    monkeypatch.delenv("CLAIMX_NO_CACHE")
    monkeypatch.setattr(packs, "_cache", {})
    load_packs([pack_copy])  # writes the entry
    monkeypatch.setattr(packs, "_cache", {})
    loaded = cache.load_pack(pack_copy)
    assert loaded is not None
    from claimx import pipeline

    monkeypatch.setattr(pipeline, "_compiled_cache", {})
    assert _claims(pack_copy) == fresh


def test_editing_a_rule_file_misses_the_cache(cache_dir: Path, pack_copy: Path) -> None:
    load_packs([pack_copy])
    assert cache.load_pack(pack_copy) is not None
    rule_file = pack_copy / "risk.yaml"
    rule_file.write_text(rule_file.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert cache.load_pack(pack_copy) is None


def test_a_new_file_in_the_pack_misses_the_cache(cache_dir: Path, pack_copy: Path) -> None:
    load_packs([pack_copy])
    (pack_copy / "extra.yaml").write_text("rules: []\n", encoding="utf-8")
    assert cache.load_pack(pack_copy) is None


@pytest.mark.parametrize("damage", [b"", b"not a pickle", b"\x80\x05garbage"])
def test_a_damaged_entry_is_ignored_and_rebuilt(cache_dir: Path, pack_copy: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                damage: bytes) -> None:
    load_packs([pack_copy])
    entry = cache.entry_path(pack_copy)
    assert entry is not None
    entry.write_bytes(damage)
    assert cache.load_pack(pack_copy) is None
    monkeypatch.setattr(packs, "_cache", {})
    pack = load_packs([pack_copy])[0]
    assert pack.rules
    assert cache.load_pack(pack_copy) is not None  # rewritten


def test_an_entry_that_is_not_a_pack_is_ignored(cache_dir: Path, pack_copy: Path) -> None:
    import pickle

    entry = cache.entry_path(pack_copy)
    assert entry is not None
    entry.parent.mkdir(parents=True)
    entry.write_bytes(pickle.dumps({"not": "a pack"}))
    assert cache.load_pack(pack_copy) is None


def test_an_unwritable_cache_folder_does_not_stop_loading(tmp_path: Path, pack_copy: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("CLAIMX_CACHE_DIR", str(blocker / "sub"))  # a folder under a file
    monkeypatch.setattr(packs, "_cache", {})
    assert load_packs([pack_copy])[0].rules
    assert cache.store_pack(pack_copy, object()) is False


def test_a_pack_with_problems_is_not_cached(cache_dir: Path, pack_copy: Path) -> None:
    (pack_copy / "broken.yaml").write_text("rules:\n  - id: x\n    kind: nonsense\n",
                                           encoding="utf-8")
    with pytest.raises(claimx.PackLoadError):
        load_packs([pack_copy])
    assert cache.load_pack(pack_copy) is None


def test_clear_removes_entries(cache_dir: Path, pack_copy: Path) -> None:
    load_packs([pack_copy])
    assert cache.clear() == 1
    assert cache.load_pack(pack_copy) is None
