"""``claimx tag``: tag files, folders or stdin and write JSON Lines, CSV, text or HTML.

Documents stream through in bounded memory: they are read lazily, cut into small chunks,
tagged (in this process, or by ``--jobs N`` worker processes with a bounded number of
chunks in flight) and written in input order as they come back. A document that cannot be
read or tagged is reported and becomes an error record; it never stops the run.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import math
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import attrs

from claimx.cli import EXIT_FAILURES, EXIT_OK, EXIT_USAGE, report_pack_error
from claimx.cli._inputs import add_input_options, glob_pattern, input_problem, read_options
from claimx.cli.pool import OrderedPool, TaskFailed, WorkerDied
from claimx.errors import ClaimxError, PackLoadError
from claimx.io import (
    READERS,
    STDIN,
    AtomicOutput,
    Document,
    JsonLines,
    ReadOptions,
    expand_paths,
    parse_jsonl_lines,
    read_jsonl_lines,
)
from claimx.parquet_io import (
    ParquetUnavailableError,
    ParquetWriter,
    require_pyarrow,
)
from claimx.types import CLAIM_TYPES, Claim, Span
from claimx.writers import WRITERS, HtmlWriter, Result, render_jsonl

if TYPE_CHECKING:  # ForkContext does not exist on Windows; annotations are not evaluated
    from multiprocessing.context import ForkContext, SpawnContext

# Parquet (pyarrow, imported only when used): the files ``claimx.spark`` jobs read and write.
WRITERS.setdefault("parquet", ParquetWriter)

__all__ = ["register", "run", "windows"]

# A chunk is the unit sent to a worker: large enough to amortise pickling, small enough to
# keep memory bounded and the progress bar moving.
_CHUNK_DOCS = 64
_CHUNK_CHARS = 1 << 18
# Chunks sent to a worker ahead of its answers (one tagged, one waiting), and chunks held
# per worker in all (sent, or tagged and waiting for an earlier one to be written).
_SENT_PER_JOB = 2
_HELD_PER_JOB = 3
# Failures are listed one per line on stderr up to this many; the summary counts them all.
_MAX_REPORTED = 20

_SUFFIX_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv",
                   ".html": "html", ".htm": "html", ".txt": "text",
                   ".parquet": "parquet"}

# Output formats --bom applies to: text a spreadsheet or editor opens (Excel reads a CSV
# without a byte-order mark in the system's codepage, which garbles Chinese).
_BOM_FORMATS = ("csv", "text")

# (claims as dicts, sentiment dict, error message) for one document.
_Tagged = tuple[list[dict[str, Any]], "dict[str, Any] | None", str]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``tag`` subcommand."""
    p = subparsers.add_parser(
        "tag", help="tag files, folders or stdin with claims",
        description="Tag documents with typed claims. Inputs are files, folders (searched "
                    "recursively for --glob) or '-' for stdin.",
        epilog="examples:\n  claimx tag news/ --glob '*.txt' -o claims.jsonl\n"
               "  claimx tag articles.jsonl --input-format jsonl --jobs 2 --format csv\n"
               "  echo '公司计划扩产。' | claimx tag - --format text",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("paths", nargs="+", metavar="PATH", help="file, folder, or '-' for stdin")
    p.add_argument("-o", "--output", metavar="OUT",
                   help="write here (atomically) instead of stdout")
    p.add_argument("--format", choices=sorted(WRITERS), default=None,
                   help="output format (default: from OUT's suffix, else jsonl)")
    p.add_argument("--pack", action="append", metavar="NAME|DIR", dest="packs",
                   help="rule pack to use; repeat for several (default: zh-business)")
    p.add_argument("--jobs", "-j", type=int, default=1, metavar="N",
                   help="worker processes (default 1; 0 = one per CPU)")
    add_input_options(p)
    p.add_argument("--on-rule-timeout", choices=("raise", "skip"), default="raise",
                   help="when a rule's regular expression runs past its time on a document: "
                        "fail that document (raise, the default) or skip the sentence, and "
                        "the document's remaining regexes once its budget is spent (skip)")
    p.add_argument("--bom", action="store_true",
                   help="start a csv or text output with a UTF-8 byte-order mark, so that "
                        "Excel opens Chinese text correctly")
    p.add_argument("--evidence", action="store_true",
                   help="include each claim's evidence (cues, modifiers, confidence steps)")
    p.add_argument("--quiet", "-q", action="store_true",
                   help="no progress bar, failure lines or summary on stderr")
    p.set_defaults(handler=run)


# --------------------------------------------------------------------------- workers

_extractor: Any = None
_with_evidence = False
_read_options = ReadOptions()

# A chunk holds documents, or (``--jobs`` with JSON Lines in and out) batches of lines the
# worker parses itself, with the documents that failed before parsing between them.
_Item = Document | JsonLines
# (id, bytes read, claim types, the rendered JSON Lines line, error) for one document.
_Rendered = tuple[str, int, list[str], str, str]


def _init_worker(packs: Sequence[str], with_evidence: bool, options: ReadOptions,
                 on_rule_timeout: str = "raise") -> None:
    """Build the Extractor once per worker process (a forked worker has it already).
    Ctrl-C is the parent's to handle: it stops the pool, so workers ignore SIGINT instead
    of each printing a traceback. SIGTERM gets its default back: a forked worker inherits
    the parent's handler, which would turn a terminate into a KeyboardInterrupt."""
    global _read_options
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if (_extractor is None or _extractor.pack_names != tuple(packs)
            or _extractor.on_rule_timeout != on_rule_timeout):
        _setup(packs, with_evidence, on_rule_timeout)
    _read_options = options


def _tag_and_render(chunk: Sequence[_Item]) -> list[_Rendered]:
    """Worker side of ``--jobs`` with JSON Lines output: parse the chunk's lines, tag
    each document and render its record there, so the parent (which reads and writes for
    every worker) only splits lines and writes."""
    docs = list(_documents_of(chunk, _read_options))
    out: list[_Rendered] = []
    for result in _results(docs, _tag_chunk(_texts(docs))):
        out.append((result.doc.id, result.doc.size, [str(c["type"]) for c in result.claims],
                    render_jsonl(result), result.error))
    return out


def _documents_of(chunk: Iterable[_Item], options: ReadOptions) -> Iterator[Document]:
    for item in chunk:
        if isinstance(item, JsonLines):
            yield from parse_jsonl_lines(item, options)
        else:
            yield item


def _setup(packs: Sequence[str], with_evidence: bool, on_rule_timeout: str = "raise") -> None:
    global _extractor, _with_evidence
    from claimx.pipeline import Extractor

    _extractor = Extractor(packs=list(packs), on_rule_timeout=on_rule_timeout)
    _with_evidence = with_evidence


def _tag_chunk(texts: Sequence[str | None]) -> list[_Tagged]:
    """Tag a chunk of texts (``None`` for a document that already failed to read)."""
    out: list[_Tagged] = []
    for text in texts:
        if text is None:
            out.append(([], None, ""))
            continue
        try:
            claims, mood = _tag_text(text)
        except ClaimxError as exc:  # e.g. a rule timing out on this text: fail it alone
            out.append(([], None, f"tagging failed: {exc}"))
            continue
        except Exception as exc:  # a bug must not lose the rest of the run; report it
            out.append(([], None, f"tagging failed ({type(exc).__name__}: {exc}); "
                                  f"please report this with the document"))
            continue
        out.append((claims, mood, ""))
    return out


# A document longer than this is tagged one window of whole sentences at a time, each with
# the sentence before it as context (a veto word there counts): every stage works within a
# sentence or looks back one, so the claims are the same as from one pass over the whole
# text, and memory follows the window, not the document (a 5 MB line took 140 MB).
_WINDOW_CHARS = 1 << 16
# How far back the context of a window may reach for the start of the sentence before it.
_CONTEXT_CHARS = 2_000
# Where a window may end: after a 。 that a Chinese character follows (no closing quote,
# bracket or whitespace that could still belong to the sentence, no ? that may stand for
# a lost character).
_CUT_AFTER = "。"


def _is_cut(text: str, index: int) -> bool:
    """May a window end just before ``text[index]``?"""
    return text[index - 1] == _CUT_AFTER and "\u4e00" <= text[index] <= "\u9fff"


def windows(text: str, size: int = _WINDOW_CHARS) -> Iterator[tuple[int, int]]:
    """``(start, end)`` of consecutive windows covering ``text``: one when it is at most
    ``size`` characters long, else windows of at most ``size`` characters ending at the
    last sentence end they hold, and longer only where no sentence ends."""
    start = 0
    while len(text) - start > size:
        cut = text.rfind(_CUT_AFTER, start, start + size - 1)
        while cut >= start and not _is_cut(text, cut + 1):
            cut = text.rfind(_CUT_AFTER, start, cut)
        if cut < start:  # no sentence end in the window: the first one after it
            cut = text.find(_CUT_AFTER, start + size - 1)
            while cut >= 0 and cut + 1 < len(text) and not _is_cut(text, cut + 1):
                cut = text.find(_CUT_AFTER, cut + 1)
            if cut < 0 or cut + 1 >= len(text):
                break
        yield start, cut + 1
        start = cut + 1
    yield start, len(text)


def _tag_text(text: str, window: int = _WINDOW_CHARS) -> tuple[list[dict[str, Any]],
                                                               dict[str, Any]]:
    """The claims (as dicts) and the sentiment dict of one document, window by window.

    The document's sentiment is the squashed sum of the windows' sums: each window's
    score ``s = t / (|t| + k)`` gives back its sum ``t = s k / (1 - |s|)`` (``k`` the
    pack's ``sentiment_softness``), so a long document scores as it would in one pass.
    """
    claims: list[dict[str, Any]] = []
    total = 0.0
    softness = float(_extractor._settings.get("sentiment_softness", 1.0))
    threshold = float(_extractor._settings.get("sentiment_threshold", 0.2))
    for start, end in windows(text, window):
        # The sentence before the window is read as context, not tagged again.
        context = text.rfind(_CUT_AFTER, max(0, start - _CONTEXT_CHARS), start - 1) + 1 \
            if start else 0
        if start and context == 0:
            context = max(0, start - _CONTEXT_CHARS)
        analysis = _extractor.analyze(text if end - start == len(text) else text[context:end],
                                      lead_in=start - context)
        for claim in analysis.claims:
            if context:
                claim = _shifted(claim, context)
            claims.append(claim.to_dict(with_evidence=_with_evidence))
        score = analysis.sentiment.score
        if start == 0 and end == len(text):  # one window: the pipeline's own result
            mood = analysis.sentiment
            return claims, {"label": mood.label.value, "score": round(mood.score, 4)}
        # |s| rounds to 1 only for sums beyond 1e15 k; capped, such a window still
        # outweighs any other.
        magnitude = min(abs(score), 1.0 - 1e-12)
        total += math.copysign(magnitude * softness / (1.0 - magnitude), score)
        del analysis  # before the next window is analysed
    score = total / (abs(total) + softness) if total else 0.0
    label = "positive" if score > threshold else "negative" if score < -threshold else "neutral"
    return claims, {"label": label, "score": round(max(-1.0, min(1.0, score)), 4)}


def _shifted(claim: Claim, by: int) -> Claim:
    """``claim`` of a window starting at ``by``, with offsets into the whole document."""
    def move(span: Span) -> Span:
        return attrs.evolve(span, start=span.start + by, end=span.end + by)

    evidence = claim.evidence
    return attrs.evolve(
        claim, start=claim.start + by, end=claim.end + by,
        evidence=attrs.evolve(evidence, cues=tuple(map(move, evidence.cues)),
                              modifiers=tuple(map(move, evidence.modifiers))))


def _chunks(items: Iterable[_Item]) -> Iterator[list[_Item]]:
    chunk: list[_Item] = []
    docs = chars = 0
    for item in items:
        chunk.append(item)
        if isinstance(item, JsonLines):
            # Bytes stand in for characters: the limit only bounds a chunk's memory.
            docs += len(item.lines)
            chars += sum(map(len, item.lines))
        else:
            docs += 1
            chars += len(item.text)
        if docs >= _CHUNK_DOCS or chars >= _CHUNK_CHARS:
            yield chunk
            chunk, docs, chars = [], 0, 0
    if chunk:
        yield chunk


def _texts(chunk: Sequence[Document]) -> list[str | None]:
    return [None if d.error else d.text for d in chunk]


def _results(chunk: Sequence[Document], tagged: Sequence[_Tagged]) -> Iterator[Result]:
    for doc, (claims, mood, error) in zip(chunk, tagged):
        yield Result(doc=doc, claims=tuple(claims), sentiment=mood, error=doc.error or error)


def _tag_serial(docs: Iterable[Document]) -> Iterator[Result]:
    for chunk in _chunks(docs):
        yield from _results(chunk, _tag_chunk(_texts(chunk)))  # type: ignore[arg-type]


_WORKER_DIED = ("a worker process died while tagging this document's chunk (out of memory? "
                "try fewer --jobs); the chunk was not tagged")


def _worker_context(packs: Sequence[str], with_evidence: bool,
                    on_rule_timeout: str = "raise") -> ForkContext | SpawnContext:
    """How to start workers: fork on Linux when this process runs a single thread, spawn
    otherwise.

    A forked worker starts with claimx imported and the packs loaded and compiled (they are
    loaded here first), which saves each worker the 0.3 s of CPU a spawned one spends on
    that: on two CPUs that time is taken from the tagging. Forking a process that holds
    other threads (a caller's, when ``main`` runs inside a threaded program) can deadlock
    the child, so that case, and platforms where fork is not the safe default, spawn.
    """
    if sys.platform.startswith("linux") and threading.active_count() == 1:
        _setup(packs, with_evidence, on_rule_timeout)
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _tag_texts(chunk: Sequence[Document]) -> list[_Tagged]:
    """Worker side of ``--jobs`` with other output formats: claims for each document."""
    return _tag_chunk(_texts(chunk))


def _tag_parallel(items: Iterable[_Item], jobs: int, packs: Sequence[str],
                  with_evidence: bool, options: ReadOptions,
                  render: bool = False, on_rule_timeout: str = "raise") -> Iterator[Result]:
    """Tag with ``jobs`` processes, in input order, with a bounded number of chunks held
    (see :class:`claimx.cli.pool.OrderedPool`).

    With ``render`` the workers parse the chunks' :class:`JsonLines` and render each
    record; otherwise the items are documents and the workers return claims. If a worker
    dies (killed, out of memory), the chunk it was tagging becomes error records, a new
    worker takes its place, and the run goes on.
    """
    task: Any = _tag_and_render if render else _tag_texts
    pool: OrderedPool[list[_Item]] = OrderedPool(
        jobs, _worker_context(packs, with_evidence, on_rule_timeout), _init_worker,
        (list(packs), with_evidence, options, on_rule_timeout), task, per_worker=_SENT_PER_JOB,
        ahead=_HELD_PER_JOB)
    # Leaving the block on Ctrl-C, SIGTERM or the consumer stopping terminates the
    # workers at once: nothing waits on their pipes any more, so that cannot hang.
    with pool:
        for chunk, answer in pool.imap(_chunks(items)):
            if isinstance(answer, (WorkerDied, TaskFailed)):
                problem = _WORKER_DIED if isinstance(answer, WorkerDied) else (
                    f"tagging failed ({answer}); please report this with the document")
                yield from (Result(doc=d, error=d.error or problem)
                            for d in _documents_of(chunk, options))
            elif render:
                # Claim types stand in for the claims: the summary counts them, and the
                # line the worker rendered holds the rest.
                for doc_id, size, types, line, error in answer:
                    yield Result(doc=Document(id=doc_id, size=size),
                                 claims=tuple({"type": t} for t in types),
                                 error=error, rendered=line)
            else:
                yield from _results(chunk, answer)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- running


def _documents(paths: Sequence[tuple[str, str | None]], reader: Any,
               options: ReadOptions) -> Iterator[Any]:
    """What ``reader`` reads from each input, with an error document for a path that
    could not be used (documents, or batches of lines for ``read_jsonl_lines``)."""
    for path, problem in paths:
        if problem is not None:
            yield Document(id=path, source=path, error=problem)
        else:
            yield from reader(path, options)


def _usage(message: str) -> int:
    print(f"claimx tag: error: {message}", file=sys.stderr)
    return EXIT_USAGE


class _Progress:
    """A rich progress bar on stderr with documents, docs/s and an ETA (by bytes read) —
    only when stderr is a terminal; otherwise it does nothing.

    It redraws from :meth:`advance` (at most ten times a second) rather than from rich's
    refresh thread: a process with one thread can fork its ``--jobs`` workers.
    """

    _REDRAW_EVERY = 0.1  # seconds

    def __init__(self, total_bytes: int | None, enabled: bool) -> None:
        self._bar: Any = None
        self.docs = 0
        self._started = time.monotonic()
        self._drawn = 0.0
        if not enabled:
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._bar = Progress(
            TextColumn("[bold]tagging"), BarColumn(),
            TextColumn("{task.fields[docs]} docs · {task.fields[rate]:.0f} docs/s"),
            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
            console=Console(stderr=True), transient=True, auto_refresh=False)
        self._task = self._bar.add_task("tag", total=total_bytes, docs=0, rate=0.0)

    def __enter__(self) -> _Progress:
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def advance(self, doc: Document) -> None:
        self.docs += 1
        if self._bar is not None:
            now = time.monotonic()
            rate = self.docs / max(now - self._started, 1e-6)
            redraw = now - self._drawn >= self._REDRAW_EVERY
            self._bar.update(self._task, advance=doc.size, docs=self.docs, rate=rate,
                             refresh=redraw)
            if redraw:
                self._drawn = now

    def print(self, message: str) -> None:
        if self._bar is not None:
            self._bar.console.print(message, markup=False, highlight=False)
        else:
            print(message, file=sys.stderr)


@contextlib.contextmanager
def _stdout() -> Iterator[IO[str]]:
    """sys.stdout as UTF-8 whatever the locale, and with newline="" so the CSV writer
    controls line ends; flushed on a clean exit and let go of (not closed) either way."""
    stream = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="",
                              line_buffering=False, write_through=False)
    try:
        yield stream
        stream.flush()
    finally:
        try:
            stream.detach()  # flushes what an interrupted run wrote so far
        except (OSError, ValueError):
            _drop_stdout()


def _drop_stdout() -> None:
    """After a failed write to stdout nothing more can reach it: point file descriptor 1
    at /dev/null, so what is still buffered is dropped at exit instead of failing again
    with a second traceback."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, io.UnsupportedOperation):
        pass


def run(args: argparse.Namespace) -> int:
    """Tag the inputs; exit 0 when all were tagged, 1 when some failed, 2 on usage errors."""
    packs = args.packs or ["zh-business"]
    jobs = args.jobs if args.jobs > 0 else (os.cpu_count() or 1)
    if args.jobs < 0:
        return _usage("--jobs must be 0 (one per CPU) or more")
    fmt = args.format
    if fmt is None:
        fmt = _SUFFIX_FORMATS.get(Path(args.output).suffix.lower(), "jsonl") if args.output else "jsonl"
    if args.bom and fmt not in _BOM_FORMATS:
        return _usage(f"--bom is for {' and '.join(_BOM_FORMATS)} output, not {fmt} "
                      f"(a byte-order mark would break {fmt} readers)")
    problem = input_problem(args)
    if problem is not None:
        return _usage(problem)
    if args.output:
        folder = Path(args.output).parent
        if not folder.is_dir():
            return _usage(f"cannot write {args.output}: folder {folder} does not exist")
        if Path(args.output).is_dir():
            return _usage(f"-o {args.output} is a folder; give a file name")
    if fmt == "parquet":
        try:
            require_pyarrow()
        except ParquetUnavailableError as exc:
            return _usage(f"--format parquet: {exc}")
    # Load the packs here even with --jobs: a broken pack is one clear message, not N.
    try:
        from claimx.packs import load_packs

        loaded = load_packs(packs)
    except PackLoadError as exc:
        return report_pack_error("tag", exc)
    # The summary line counts the claim types of the packs in use, in their order.
    claim_types = list(dict.fromkeys(t for pack in loaded for t in pack.claim_types))

    pattern = glob_pattern(args)
    paths = [(path, _hint_text(path, problem))
             for path, problem in expand_paths(args.paths, pattern)]
    total = None if any(p == STDIN for p, _ in paths) else sum(
        _size(p) for p, problem in paths if problem is None)
    options = read_options(args)
    docs = _documents(paths, READERS[args.input_format], options)
    results: Iterator[Result]
    if jobs == 1:
        _setup(packs, args.evidence, args.on_rule_timeout)
        results = _tag_serial(docs)
    elif fmt == "jsonl" and args.input_format == "jsonl":
        # JSON Lines in and out: the workers parse, tag and render; this process only
        # splits the input into lines and writes what comes back.
        batches = functools.partial(read_jsonl_lines, batch_lines=_CHUNK_DOCS,
                                    batch_bytes=_CHUNK_CHARS)
        results = _tag_parallel(_documents(paths, batches, options), jobs, packs,
                                args.evidence, options, render=True,
                                on_rule_timeout=args.on_rule_timeout)
    else:
        results = _tag_parallel(docs, jobs, packs, args.evidence, options,
                                render=fmt == "jsonl", on_rule_timeout=args.on_rule_timeout)

    # SIGTERM (a killed job, a closed CI step) unwinds like Ctrl-C, so -o cleans up.
    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    by_type: Counter[str] = Counter()
    failures = 0
    show = not args.quiet
    committing = False  # an OSError from here on is the output's (fsync, rename, flush)
    try:
        with ExitStack() as stack:
            if args.output:
                try:
                    stream = stack.enter_context(AtomicOutput(args.output))
                except OSError as exc:
                    return _usage(f"cannot write {args.output}: {exc.strerror or exc} "
                                  f"(choose a file in a folder you can write to)")
            else:
                stream = stack.enter_context(_stdout())
            with _output_errors():
                if args.bom:
                    stream.write("\ufeff")
                writer = (HtmlWriter(stream, claim_types=claim_types) if fmt == "html"
                          else WRITERS[fmt](stream))
            progress = stack.enter_context(_Progress(total, show and sys.stderr.isatty()))
            for result in results:
                with _output_errors():
                    writer.write(result)
                progress.advance(result.doc)
                if result.failed:
                    failures += 1
                    if show and failures <= _MAX_REPORTED:
                        progress.print(f"claimx tag: failed {result.doc.id}: {result.error}")
                else:
                    by_type.update(str(c["type"]) for c in result.claims)
            with _output_errors():
                writer.close()
                stream.flush()
            documents = progress.docs
            committing = True
    except _OutputFailed as failed:
        return _output_failed(args.output, failed.cause)
    except OSError as exc:
        if not committing:
            raise
        return _output_failed(args.output, exc)
    finally:
        signal.signal(signal.SIGTERM, previous)
        if hasattr(results, "close"):
            results.close()  # stops --jobs workers now, whatever ended the run
    if show:
        if failures > _MAX_REPORTED:
            print(f"claimx tag: … {failures - _MAX_REPORTED} more failures (see the output's "
                  f"error records)", file=sys.stderr)
        print(_summary(documents, by_type, failures, claim_types), file=sys.stderr)
    return EXIT_FAILURES if failures else EXIT_OK


class _OutputFailed(Exception):
    """Writing the output failed (full disk, closed pipe …); ``cause`` says how."""

    def __init__(self, cause: OSError) -> None:
        super().__init__(str(cause))
        self.cause = cause


@contextlib.contextmanager
def _output_errors() -> Iterator[None]:
    """Turn an OSError raised while writing into :class:`_OutputFailed`, so it cannot be
    taken for a failure to read or tag. A closed pipe (``| head``) stays what it is."""
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise _OutputFailed(exc) from exc


def _output_failed(output: str | None, exc: OSError) -> int:
    reason = exc.strerror or str(exc)
    if output:
        print(f"claimx tag: error: writing {output} failed: {reason}; {output} was left as "
              f"it was and no temporary file remains", file=sys.stderr)
    else:
        print(f"claimx tag: error: writing to stdout failed: {reason}", file=sys.stderr)
    return EXIT_USAGE


def _size(path: str) -> int:
    """A file's size for the progress bar; 0 if it went away since the folder walk (its
    read then reports it)."""
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _summary(documents: int, by_type: Counter[str], failures: int,
             claim_types: Sequence[str] = CLAIM_TYPES) -> str:
    """The closing line: documents, claims by type (every type of the loaded packs, then
    any other type found), failures."""
    types = list(claim_types) + sorted(t for t in by_type if t not in claim_types)
    detail = ", ".join(f"{t} {by_type.get(t, 0)}" for t in types)
    claims = sum(by_type.values())
    return (f"claimx tag: {documents} document{'s' if documents != 1 else ''}, "
            f"{claims} claim{'s' if claims != 1 else ''} ({detail}), "
            f"{failures} failed")


def _looks_like_text(path: str) -> bool:
    """Does a missing path look like prose given where a path belongs (``claimx tag
    '公司计划…'``)? Chinese characters or sentence punctuation, and no path separator."""
    return "/" not in path and any(
        "\u3000" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef" for ch in path)


def _hint_text(path: str, problem: str | None) -> str | None:
    """``problem`` with a hint when the path that does not exist is really a text."""
    if problem is None or not problem.startswith("no such file") or not _looks_like_text(path):
        return problem
    shown = path if len(path) <= 20 else path[:19] + "…"
    return (f"no such file or folder: '{shown}' looks like text, not a path; tag a text "
            f"from stdin with: echo '{shown}' | claimx tag - --format text, or see how it "
            f"is read with: claimx explain '{shown}'")
