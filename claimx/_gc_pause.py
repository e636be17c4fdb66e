"""No full garbage collection while a pack loads.

Loading the bundled pack keeps every rule file's ``rules:`` node tree alive until its rules
are compiled (a node and two marks per YAML value, 100,000-odd objects at the peak), and
allocates several times that in objects that live briefly. CPython starts a full
collection each time the objects that survived the young generations grow by a quarter,
and each one walks everything alive: five full collections during a cold start, about
150 ms of CPU time (a sixth of the start), collecting a few hundred objects between them.
The young generations, which free the short-lived cycles (a throwaway loader, a parser
state), keep running as before.

:func:`no_full_collections` raises the oldest generation's threshold for the time of a
load and puts it back afterwards; nested and concurrent loads share one pause, and the
threshold is put back when the last of them ends (unless someone else changed it
meanwhile). A process that turned the collector off, or set its own thresholds that
already postpone full collections, is left alone. Nothing that is loaded changes: only
when the few cycles a full collection would have found are freed.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["no_full_collections"]

#: The oldest generation's threshold during a load: no full collection in practice.
_PAUSED_THRESHOLD = 1_000_000

_lock = threading.Lock()
_depth = 0
_saved: tuple[int, ...] | None = None


@contextmanager
def no_full_collections() -> Iterator[None]:
    """Postpone full (oldest-generation) collections for the ``with`` block."""
    global _depth, _saved
    with _lock:
        _depth += 1
        if _depth == 1:
            thresholds = gc.get_threshold()
            if gc.isenabled() and thresholds[0] > 0 and thresholds[-1] < _PAUSED_THRESHOLD:
                _saved = thresholds
                gc.set_threshold(*thresholds[:-1], _PAUSED_THRESHOLD)
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _saved is not None:
                if gc.get_threshold() == (*_saved[:-1], _PAUSED_THRESHOLD):
                    gc.set_threshold(*_saved)
                _saved = None
