"""Loading a pack postpones full garbage collections and puts the collector's thresholds
back afterwards (claimx._gc_pause), whatever the load ends with."""

from __future__ import annotations

import gc
import threading

import pytest

from claimx import _gc_pause
from claimx.errors import PackLoadError
from claimx.packs import load_packs
from conftest import write_pack


@pytest.fixture
def thresholds():
    saved = gc.get_threshold()
    yield saved
    gc.set_threshold(*saved)


def test_paused_inside_restored_after(thresholds):
    gc.set_threshold(700, 10, 10)
    with _gc_pause.no_full_collections():
        assert gc.get_threshold() == (700, 10, _gc_pause._PAUSED_THRESHOLD)
        with _gc_pause.no_full_collections():  # nested: one pause
            assert gc.get_threshold()[-1] == _gc_pause._PAUSED_THRESHOLD
        assert gc.get_threshold()[-1] == _gc_pause._PAUSED_THRESHOLD
    assert gc.get_threshold() == (700, 10, 10)


def test_restored_after_an_exception(thresholds):
    gc.set_threshold(500, 5, 20)
    with pytest.raises(RuntimeError), _gc_pause.no_full_collections():
        raise RuntimeError
    assert gc.get_threshold() == (500, 5, 20)


def test_collector_turned_off_is_left_alone(thresholds):
    gc.set_threshold(700, 10, 10)
    gc.disable()
    try:
        with _gc_pause.no_full_collections():
            assert gc.get_threshold() == (700, 10, 10)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_threshold_changed_during_the_load_is_kept(thresholds):
    gc.set_threshold(700, 10, 10)
    with _gc_pause.no_full_collections():
        gc.set_threshold(1000, 20, 30)  # the process's own choice, made meanwhile
    assert gc.get_threshold() == (1000, 20, 30)


def test_concurrent_pauses_restore_once(thresholds):
    gc.set_threshold(700, 10, 10)
    inside = threading.Barrier(2)
    leave = threading.Event()

    def hold() -> None:
        with _gc_pause.no_full_collections():
            inside.wait()
            leave.wait()

    worker = threading.Thread(target=hold)
    worker.start()
    with _gc_pause.no_full_collections():
        inside.wait()
    assert gc.get_threshold()[-1] == _gc_pause._PAUSED_THRESHOLD  # the worker still loads
    leave.set()
    worker.join()
    assert gc.get_threshold() == (700, 10, 10)


def test_load_packs_restores_thresholds(tmp_path, thresholds):
    gc.set_threshold(700, 10, 10)
    load_packs(["zh-business"])
    assert gc.get_threshold() == (700, 10, 10)
    bad = write_pack(tmp_path / "bad", "name: bad\nversion: '1'\nlanguage: zh\n",
                     "rules:\n  - id: x\n    kind: lexicon\n")
    with pytest.raises(PackLoadError):
        load_packs([bad])
    assert gc.get_threshold() == (700, 10, 10)
