"""The ordered process pool behind ``claimx tag --jobs``: answers in order, failures in
place, and no hang whatever a worker dies of, even halfway through sending an answer."""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import struct
import sys
import time
from multiprocessing.connection import Connection

import pytest

from claimx.cli.pool import OrderedPool, TaskFailed, WorkerDied

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the tasks below are this module's functions: fork only")

FORK = multiprocessing.get_context("fork") if sys.platform.startswith("linux") else None


def _nothing() -> None:
    pass


def _pool(task, jobs: int = 2, **kwargs) -> OrderedPool:
    return OrderedPool(jobs, FORK, _nothing, (), task, **kwargs)


def _slow_square(n: int) -> int:
    time.sleep(0.002 * (n * 7 % 5))  # uneven durations: answers arrive out of order
    return n * n


def _fails_on_seven(n: int) -> int:
    if n == 7:
        raise ValueError("seven is not allowed")
    return n


def _dies_on_five(n: int) -> int:
    if n == 5:
        os._exit(3)
    return n


def _unpicklable_on_three(n: int) -> object:
    return (lambda: n) if n == 3 else n


def _dies_halfway_through_answering(n: int) -> int:
    if n == 4:
        # Stand-in for a kill that lands while the worker sends: announce a 1 MB answer on
        # this worker's pipe, write ten bytes of it, and die.
        conn = next(c for c in gc.get_objects() if isinstance(c, Connection) and not c.closed)
        os.write(conn.fileno(), struct.pack("!i", 1_000_000) + b"0123456789")
        os._exit(9)
    return n


def test_answers_come_back_in_submission_order() -> None:
    with _pool(_slow_square, jobs=3) as pool:
        out = list(pool.imap(range(60)))
    assert out == [(n, n * n) for n in range(60)]


def test_a_task_that_raises_is_answered_in_place() -> None:
    with _pool(_fails_on_seven) as pool:
        out = dict(pool.imap(range(12)))
    assert isinstance(out[7], TaskFailed) and "ValueError: seven is not allowed" in str(out[7])
    assert all(out[n] == n for n in range(12) if n != 7)


def test_an_answer_that_cannot_be_sent_back_fails_its_task_only() -> None:
    with _pool(_unpicklable_on_three) as pool:
        out = dict(pool.imap(range(8)))
        assert all(w.process.is_alive() for w in pool._workers)
    assert isinstance(out[3], TaskFailed) and "could not be sent back" in str(out[3])
    assert all(out[n] == n for n in range(8) if n != 3)


def test_a_dead_worker_costs_only_its_task_and_is_replaced() -> None:
    with _pool(_dies_on_five, per_worker=3) as pool:
        out = list(pool.imap(range(40)))
        assert len(pool._workers) == 2  # a new worker took the dead one's place
    assert [n for n, _ in out] == list(range(40))
    assert out[5][1] == WorkerDied(3)
    assert all(answer == n for n, answer in out if n != 5)  # held tasks were sent again


def test_half_an_answer_from_a_dying_worker_does_not_hang_the_pool() -> None:
    started = time.monotonic()
    with _pool(_dies_halfway_through_answering) as pool:
        out = list(pool.imap(range(10)))
    assert time.monotonic() - started < 30
    assert isinstance(out[4][1], WorkerDied)
    assert [answer for n, answer in out if n != 4] == [n for n in range(10) if n != 4]


def test_leaving_the_block_with_an_exception_stops_the_workers_at_once() -> None:
    with pytest.raises(KeyboardInterrupt):
        with _pool(_slow_square) as pool:
            processes = [w.process for w in pool._workers]
            for n, _ in pool.imap(range(10_000)):
                if n == 3:
                    raise KeyboardInterrupt
    assert not any(p.is_alive() for p in processes)


def test_a_worker_killed_from_outside_is_replaced_and_the_run_ends() -> None:
    with _pool(_slow_square) as pool:
        out = []
        for n, answer in pool.imap(range(200)):
            out.append((n, answer))
            if n == 10:
                os.kill(pool._workers[0].process.pid, signal.SIGKILL)
    assert [n for n, _ in out] == list(range(200))
    died = [n for n, answer in out if isinstance(answer, WorkerDied)]
    assert len(died) <= 1  # the task it was working on, if it was working
    assert all(answer == n * n for n, answer in out if n not in died)


def test_spawned_workers_answer_the_same_way() -> None:
    # Spawned workers (other platforms, or a process running threads) get their end of
    # the pipe by pickling; builtins stand in for the tasks, as they pickle by name.
    spawn = multiprocessing.get_context("spawn")
    with OrderedPool(2, spawn, int, (), abs) as pool:
        assert list(pool.imap(range(-20, 0))) == [(n, -n) for n in range(-20, 0)]
