"""An ordered process pool for ``claimx tag --jobs``.

Tasks go to worker processes; their answers come back in the order the tasks were given;
a worker that dies costs only the task it was working on, and the tasks it held besides
go to the other workers.

Why not :class:`concurrent.futures.ProcessPoolExecutor`: its workers share one result
pipe, and the parent holds that pipe's write end too. A worker killed while it sends an
answer (out of memory, ``kill -9``) therefore leaves half a message that never ends, and
the executor's reader thread waits for the rest forever. Here each worker has a pipe of
its own that only it writes to, so its death is an end of file on that pipe; and the
parent runs no threads at all, so it can fork its workers.
"""

from __future__ import annotations

import multiprocessing.connection
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs

if TYPE_CHECKING:  # ForkContext does not exist on Windows; annotations are not evaluated
    from multiprocessing.context import ForkContext, SpawnContext

__all__ = ["OrderedPool", "TaskFailed", "WorkerDied"]

Task = TypeVar("Task")


@attrs.frozen
class WorkerDied:
    """The answer for a task whose worker process died while working on it."""

    exitcode: int | None

    def __str__(self) -> str:
        return f"a worker process died (exit code {self.exitcode})"


@attrs.frozen
class TaskFailed:
    """The answer for a task that raised in the worker: the exception, as text."""

    message: str

    def __str__(self) -> str:
        return self.message


@attrs.define(eq=False)
class _Worker:
    process: Any  # multiprocessing.process.BaseProcess
    conn: Connection  # the parent's end of this worker's own pipe
    held: deque[int] = attrs.field(factory=deque)  # task numbers sent, not answered


def _serve(conn: Connection, inherited: Sequence[Connection],
           initializer: Callable[..., None], initargs: tuple[Any, ...],
           task: Callable[[Any], Any]) -> None:
    """A worker process: answer tasks from ``conn`` until told to stop or the pipe ends."""
    # A forked worker inherits the parent's ends of its own pipe and of the other workers'
    # pipes; holding them would keep those pipes from ever reaching end of file.
    for other in inherited:
        other.close()
    initializer(*initargs)
    # A thread takes tasks off the pipe while this one works, so the parent's send never
    # waits on a busy worker (no deadlock with two large messages in flight each way).
    inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()

    def receive() -> None:
        try:
            while True:
                message = conn.recv()
                inbox.put(message)
                if message is None:
                    return
        except (EOFError, OSError):
            inbox.put(None)

    threading.Thread(target=receive, name="claimx-receive", daemon=True).start()
    while True:
        message = inbox.get()
        if message is None:
            return
        number, payload = message
        try:
            answer = (number, True, task(payload))
        except Exception as exc:  # the parent reports it with the task; the worker goes on
            answer = (number, False, f"{type(exc).__name__}: {exc}")
        try:
            try:
                conn.send(answer)
            except OSError:  # the parent is gone
                return
            except Exception as exc:  # the answer does not pickle: nothing was written yet
                conn.send((number, False, f"the answer could not be sent back "
                                          f"({type(exc).__name__}: {exc})"))
        except OSError:
            return


class OrderedPool(Generic[Task]):
    """``jobs`` worker processes answering ``task(payload)``, in submission order.

    Each worker first runs ``initializer(*initargs)``. At most ``per_worker`` tasks are
    sent to a worker ahead of its answers, and at most ``jobs * max(ahead, per_worker)``
    tasks are held at once (sent, or answered and waiting for an earlier one), which
    bounds memory. Use it
    as a context manager: leaving the block stops the workers (at once if the block ends
    with an exception, such as Ctrl-C).
    """

    def __init__(self, jobs: int, context: ForkContext | SpawnContext,
                 initializer: Callable[..., None],
                 initargs: tuple[Any, ...], task: Callable[[Task], Any],
                 per_worker: int = 2, ahead: int = 4) -> None:
        self._context = context
        self._setup = (initializer, initargs, task)
        self._per_worker = per_worker
        self._max_held = jobs * max(ahead, per_worker)
        self._workers: list[_Worker] = []
        for _ in range(jobs):
            self._start_worker()

    # ----------------------------------------------------------------- workers

    def _start_worker(self) -> None:
        parent_end, child_end = self._context.Pipe(duplex=True)
        forked = self._context.get_start_method() == "fork"
        inherited = [parent_end] + [w.conn for w in self._workers] if forked else []
        process = self._context.Process(
            target=_serve, args=(child_end, inherited, *self._setup), daemon=True,
            name=f"claimx-worker-{len(self._workers) + 1}")
        process.start()
        child_end.close()  # the worker's end now lives only in the worker
        self._workers.append(_Worker(process, parent_end))

    def _retire(self, worker: _Worker) -> list[int]:
        """Forget a dead worker and start another; returns the task numbers it held."""
        self._workers.remove(worker)
        worker.conn.close()
        worker.process.join(timeout=5)
        if worker.process.is_alive():  # its pipe broke but it lives on: do not wait on it
            worker.process.kill()
            worker.process.join()
        self._start_worker()
        return list(worker.held)

    def _send(self, worker: _Worker, number: int, payload: Task) -> bool:
        try:
            worker.conn.send((number, payload))
        except OSError:  # it died; its sentinel says so on the next wait
            return False
        worker.held.append(number)
        return True

    # ----------------------------------------------------------------- running

    def imap(self, payloads: Iterable[Task]) -> Iterator[tuple[Task, Any]]:
        """Yield ``(payload, answer)`` for each payload, in order. The answer is what the
        task returned, :class:`TaskFailed` if it raised, or :class:`WorkerDied` if its
        worker died while working on it (the other tasks that worker held are sent
        again)."""
        source = iter(payloads)
        exhausted = False
        held: dict[int, Task] = {}  # number -> payload, until yielded
        answers: dict[int, Any] = {}
        unsent: deque[int] = deque()  # held by a worker that died before starting them
        given = yielded = 0
        while True:
            # Hand out work: tasks to send again first, then new ones, to the least busy.
            for worker in sorted(self._workers, key=lambda w: len(w.held)):
                while len(worker.held) < self._per_worker:
                    if unsent:
                        number = unsent.popleft()
                    elif not exhausted and len(held) < self._max_held:
                        try:
                            payload = next(source)
                        except StopIteration:
                            exhausted = True
                            break
                        number, given = given, given + 1
                        held[number] = payload
                    else:
                        break
                    if not self._send(worker, number, held[number]):
                        unsent.appendleft(number)
                        break
            progressed = yielded in answers
            while yielded in answers:
                yield held.pop(yielded), answers.pop(yielded)
                yielded += 1
            if exhausted and not held:
                return
            if not progressed:  # else room was freed: hand out more before waiting
                self._wait(answers, unsent)

    def _wait(self, answers: dict[int, Any], unsent: deque[int]) -> None:
        """Block until some worker answers or dies; record what happened."""
        ready = set(multiprocessing.connection.wait(
            [h for w in self._workers for h in (w.conn, w.process.sentinel)]))
        for worker in list(self._workers):  # a copy: _retire replaces dead workers
            if worker.conn not in ready and worker.process.sentinel not in ready:
                continue
            if self._read(worker, answers):
                continue
            # The worker is gone (its pipe ended, or mid-message). The task it was
            # working on is lost; the ones it had not started go to the others.
            lost = self._retire(worker)
            if lost:
                answers[lost[0]] = WorkerDied(worker.process.exitcode)
                unsent.extend(lost[1:])

    def _read(self, worker: _Worker, answers: dict[int, Any]) -> bool:
        """Read every answer waiting on the worker's pipe; False once the worker is gone."""
        try:
            while worker.conn.poll():
                number, ok, value = worker.conn.recv()
                worker.held.remove(number)
                answers[number] = value if ok else TaskFailed(value)
        except (EOFError, OSError):
            return False
        return True

    # ----------------------------------------------------------------- stopping

    def close(self) -> None:
        """Tell the workers to finish and wait for them."""
        for worker in self._workers:
            try:
                worker.conn.send(None)
            except OSError:
                pass
        for worker in self._workers:
            worker.process.join(timeout=30)
            if worker.process.is_alive():
                worker.process.terminate()
                worker.process.join()
            worker.conn.close()
        self._workers.clear()

    def terminate(self) -> None:
        """Stop the workers now, whatever they are doing."""
        for worker in self._workers:
            worker.process.terminate()
        for worker in self._workers:
            worker.process.join()
            worker.conn.close()
        self._workers.clear()

    def __enter__(self) -> OrderedPool[Task]:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.terminate()
