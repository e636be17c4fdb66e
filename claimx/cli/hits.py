"""``claimx hits``: audit rules on unlabelled text — a random sample of a rule's hits, shown
as a keyword-in-context concordance, and the tally of the author's judgements of them.

A *hit* of a rule is a claim the rule took part in; its keyword is that rule's cue inside
the claim (the claim itself when the rule left no cue span). With ``--type`` the hits are
the claims of that type and the keyword is the whole claim. Each rule (or type) keeps a
uniform random sample of its hits by reservoir sampling, so memory stays bounded however
large the corpus; the sample depends only on ``--seed``, the rule id and the corpus.

The audit loop: ``claimx hits CORPUS --format jsonl > audit.jsonl``, set each ``"correct"``
to ``true`` or ``false`` by hand, then ``claimx hits --tally audit.jsonl`` prints each rule's
precision with a Wilson 95 % interval.
"""

from __future__ import annotations

import argparse
import difflib
import functools
import io
import json
import math
import os
import random
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import IO, Any, Generic, TypeVar

import attrs
import wcwidth

from claimx.cli import EXIT_FAILURES, EXIT_OK, EXIT_USAGE, report_pack_error
from claimx.cli._inputs import add_input_options, glob_pattern, input_problem, read_options
from claimx.errors import ClaimxError, PackLoadError
from claimx.io import READERS, STDIN, Document, ReadOptions, expand_paths
from claimx.types import CLAIM_TYPES, Claim

__all__ = [
    "Hit",
    "Reservoir",
    "Tally",
    "display_width",
    "hits_in",
    "kwic_line",
    "read_judgements",
    "register",
    "run",
    "tally",
    "wilson_interval",
]

_T = TypeVar("_T")

# Failures are listed one per line on stderr up to this many (as ``claimx tag`` does).
_MAX_REPORTED = 20
# z for a two-sided 95 % interval.
_Z95 = 1.959963984540054
# Where a line break was, in the one-line concordance view.
_NEWLINE_MARK = "⏎"
_LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")
_KEYWORD_OPEN, _KEYWORD_CLOSE = "【", "】"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``hits`` subcommand."""
    p = subparsers.add_parser(
        "hits", help="sample a rule's hits in a corpus as a concordance, to audit precision",
        description="Run the extractor over a corpus and show a uniform random sample of "
                    "the hits of each rule (claims it took part in, keyword = its cue) or of "
                    "each claim type, as a keyword-in-context concordance. Without --rule or "
                    "--type: every claim rule of the loaded packs. --tally FILE… reads "
                    "judged --format jsonl samples and prints each rule's precision.",
        epilog="examples:\n"
               "  claimx hits news/ --rule intent.plan-word -n 20\n"
               "  claimx hits articles.jsonl --input-format jsonl --type risk --seed 7\n"
               "  claimx hits articles.jsonl --input-format jsonl -n 30 --format jsonl "
               "> audit.jsonl\n"
               "  claimx hits --tally audit.jsonl      # after setting each \"correct\"",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("paths", nargs="*", metavar="CORPUS", help="file, folder, or '-' for stdin")
    p.add_argument("--rule", action="append", dest="rules", metavar="ID", default=[],
                   help="claim rule to sample; repeat for several (default: every claim rule)")
    p.add_argument("--type", action="append", dest="types", metavar="TYPE", default=[],
                   help="sample the claims of this type (with --rule: keep only the rule's "
                        "hits of this type); repeatable")
    p.add_argument("-n", type=int, default=50, metavar="N",
                   help="hits to show per rule or type (default 50; 0 = counts only)")
    p.add_argument("--seed", type=int, default=0, metavar="N",
                   help="random seed of the sample (default 0: the same sample each run)")
    p.add_argument("--pack", action="append", metavar="NAME|DIR", dest="packs",
                   help="rule pack to use; repeat for several (default: zh-business)")
    add_input_options(p)
    p.add_argument("--width", type=int, default=30, metavar="CHARS",
                   help="context on each side of the keyword, in characters and in display "
                        "columns (a CJK character is two columns; default 30)")
    p.add_argument("--format", choices=("text", "json", "jsonl"), default="text",
                   help="text: a concordance; json: one document; jsonl: one hit per line "
                        "with \"correct\": null to fill in (default: text)")
    p.add_argument("--tally", nargs="+", metavar="FILE",
                   help="instead of sampling: read judged JSON Lines samples ('-' for "
                        "stdin) and print each rule's precision with a Wilson 95%% interval")
    p.add_argument("--write-priors", metavar="CALIBRATION.yaml", default=None,
                   help="with --tally: write each judged rule's precision (smoothed towards "
                        "its hand-set prior) as the priors of a pack calibration file")
    p.add_argument("--quiet", "-q", action="store_true",
                   help="no failure lines or summary on stderr")
    p.set_defaults(handler=run)


# --------------------------------------------------------------------------- sampling


class Reservoir(Generic[_T]):
    """A uniform random sample of at most ``size`` items from a stream of unknown length
    (Algorithm R): after ``n`` offers every item has been kept with probability
    ``size / n``, in memory for ``size`` items only.

    ``key`` seeds the generator together with ``seed`` (a string seed is hashed the same
    way on every run and platform), so one rule's sample does not change when other rules
    are sampled alongside it. Items are built only when kept: ``offer`` takes a function.

    >>> r = Reservoir(2, seed=0, key="demo")
    >>> for i in range(10):
    ...     r.offer(lambda i=i: i)
    >>> (r.seen, len(r.items))
    (10, 2)
    """

    def __init__(self, size: int, *, seed: int, key: str) -> None:
        if size < 0:
            raise ValueError(f"size must be >= 0, got {size!r}")
        self.size = size
        self.seen = 0
        self._rng = random.Random(f"{seed}:{key}")
        self._kept: list[tuple[int, _T]] = []

    def offer(self, build: Callable[[], _T]) -> None:
        """Count one more item of the stream and keep ``build()`` if it is drawn."""
        index = self.seen
        self.seen += 1
        if index < self.size:
            self._kept.append((index, build()))
            return
        slot = self._rng.randrange(index + 1)
        if slot < self.size:
            self._kept[slot] = (index, build())

    @property
    def items(self) -> list[_T]:
        """The sample, in stream order."""
        return [item for _, item in sorted(self._kept, key=lambda pair: pair[0])]


# --------------------------------------------------------------------------- hits


@attrs.frozen(slots=True)
class Hit:
    """One hit: the keyword ``text[start:end]`` of a claim in a document, with up to
    ``width`` characters of context on each side (``left`` ends at ``start``, ``right``
    starts at ``end``; offsets are code points into the document's text)."""

    group: str  # the rule id, or the claim type with --type
    doc: str
    source: str
    line: int  # line of the document's text where the keyword starts (1-based)
    start: int
    end: int
    left: str
    keyword: str
    right: str
    claim: Claim

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (without the group, which the caller places)."""
        c = self.claim
        return {"doc": self.doc, "source": self.source, "line": self.line,
                "start": self.start, "end": self.end, "left": self.left,
                "keyword": self.keyword, "right": self.right,
                "claim": {"text": c.text, "start": c.start, "end": c.end},
                "type": str(c.type), "modality": c.modality.value,
                "polarity": c.polarity.value, "confidence": round(c.confidence, 4),
                "subject": c.subject, "rules": list(c.rules)}


def _keyword_span(claim: Claim, rule: str | None) -> tuple[int, int]:
    """Where the keyword is: the rule's first cue span in the claim, else the claim."""
    if rule is not None:
        cues = [cue for cue in claim.evidence.cues if cue.rule == rule]
        if cues:
            first = min(cues, key=lambda cue: (cue.start, cue.end))
            return first.start, first.end
    return claim.start, claim.end


def hits_in(claims: Iterable[Claim], rules: Sequence[str], types: Sequence[str]
            ) -> Iterator[tuple[str, Claim, int, int]]:
    """The hits among one document's claims as ``(group, claim, start, end)``.

    With ``rules``: one hit per claim and listed rule that took part in it (``group`` is
    the rule id, the keyword its cue), kept only if the claim's type is in ``types`` when
    types are given. With ``types`` alone: one hit per claim of those types (``group`` is
    the type, the keyword the whole claim).
    """
    wanted_rules = set(rules)
    wanted_types = set(types)
    for claim in claims:
        if wanted_types and str(claim.type) not in wanted_types:
            continue
        if rules:
            for rule in dict.fromkeys(claim.rules):
                if rule in wanted_rules:
                    yield (rule, claim, *_keyword_span(claim, rule))
        else:
            yield (str(claim.type), claim, claim.start, claim.end)


def _make_hit(group: str, doc: Document, claim: Claim, start: int, end: int,
              width: int) -> Hit:
    text = doc.text
    return Hit(group=group, doc=doc.id, source=doc.source or doc.id,
               line=text.count("\n", 0, start) + 1, start=start, end=end,
               left=_fit_left(text[max(0, start - width):start], width),
               keyword=text[start:end],
               right=_fit_right(text[end:end + width], width), claim=claim)


# --------------------------------------------------------------------------- display


def _shown(text: str) -> str:
    """``text`` as one terminal line: line breaks become ⏎ (CR LF one ⏎), tabs and other
    control characters a space — which also keeps escape sequences in a document from
    reaching the terminal."""
    out: list[str] = []
    for i, ch in enumerate(text):
        if ch in _LINE_BREAKS:
            if not (ch == "\r" and text[i + 1:i + 2] == "\n"):
                out.append(_NEWLINE_MARK)
        elif ch < " " or "\x7f" <= ch <= "\x9f":
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def display_width(text: str) -> int:
    """Terminal columns ``text`` takes once shown on one line (see :func:`_shown`): CJK and
    full-width characters take two, combining and zero-width characters none.

    >>> display_width("营收abc")
    7
    """
    return max(wcwidth.wcswidth(_shown(text)), 0)


def _char_width(ch: str) -> int:
    return max(wcwidth.wcwidth(_shown(ch) or " "), 0)


def _fit_left(text: str, columns: int) -> str:
    """The longest end of ``text`` that fits in ``columns`` display columns."""
    used = 0
    cut = len(text)
    while cut > 0:
        width = _char_width(text[cut - 1])
        if used + width > columns:
            break
        used += width
        cut -= 1
    return text[cut:]


def _fit_right(text: str, columns: int) -> str:
    """The longest start of ``text`` that fits in ``columns`` display columns."""
    used = 0
    for cut, ch in enumerate(text):
        width = _char_width(ch)
        if used + width > columns:
            return text[:cut]
        used += width
    return text


def _pad_left(text: str, columns: int) -> str:
    return " " * max(columns - display_width(text), 0) + _shown(text)


def _pad_right(text: str, columns: int) -> str:
    return _shown(text) + " " * max(columns - display_width(text), 0)


def _where(hit: Hit) -> str:
    return f"{hit.doc}:{hit.line}"


def _kind(hit: Hit) -> str:
    return f"{hit.claim.type}/{hit.claim.modality.value}"


def kwic_line(hit: Hit, width: int, where_width: int = 0, kind_width: int = 0) -> str:
    """One concordance line: the location (document id and line) and the claim's
    type/modality, padded to ``where_width`` and ``kind_width`` columns; the left context
    right-aligned in ``width`` columns; the keyword in 【】; the right context. The
    keywords of lines with the same widths all start in the same column."""
    return (f"{_pad_right(_where(hit), where_width)}  {_pad_right(_kind(hit), kind_width)}  "
            f"{_pad_left(hit.left, width)}{_KEYWORD_OPEN}{_shown(hit.keyword)}"
            f"{_KEYWORD_CLOSE}{_shown(hit.right)}").rstrip()


# --------------------------------------------------------------------------- tally


def wilson_interval(correct: int, judged: int, z: float = _Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion ``correct / judged`` (95 % by default):
    unlike the normal approximation it stays inside [0, 1] and is usable for the small
    samples a hand audit gives. ``(0.0, 1.0)`` when nothing was judged.

    >>> [round(x, 3) for x in wilson_interval(8, 10)]
    [0.49, 0.943]
    """
    if judged <= 0:
        return 0.0, 1.0
    p = correct / judged
    denominator = 1 + z * z / judged
    centre = (p + z * z / (2 * judged)) / denominator
    half = z * math.sqrt(p * (1 - p) / judged + z * z / (4 * judged * judged)) / denominator
    # At p = 0 and p = 1 the bound is exactly 0 or 1; rounding must not move it off.
    low = 0.0 if correct == 0 else max(0.0, centre - half)
    high = 1.0 if correct == judged else min(1.0, centre + half)
    return low, high


@attrs.frozen(slots=True)
class Tally:
    """The judgements of one rule (or type): ``correct`` of ``judged`` hits were right;
    ``not_judged`` hits still had ``"correct": null``."""

    group: str
    judged: int
    correct: int
    not_judged: int

    @property
    def precision(self) -> float | None:
        """``correct / judged``, or ``None`` when nothing was judged."""
        return self.correct / self.judged if self.judged else None

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form, with the Wilson 95 % interval (``null`` if nothing was judged)."""
        low, high = wilson_interval(self.correct, self.judged)
        return {"rule": self.group, "judged": self.judged, "correct": self.correct,
                "precision": None if self.precision is None else round(self.precision, 4),
                "wilson95": None if not self.judged else [round(low, 4), round(high, 4)],
                "not_judged": self.not_judged}


def _judged_group(record: dict[str, Any]) -> str | None:
    """What a judged record audits: its rule, or ``type:NAME`` for a --type sample."""
    if isinstance(record.get("rule"), str):
        return str(record["rule"])
    if isinstance(record.get("type"), str):
        return f"type:{record['type']}"
    return None


def read_judgements(lines: Iterable[str], where: str
                    ) -> tuple[list[tuple[str, bool | None]], list[str]]:
    """``(group, correct)`` for each judged line of a ``--format jsonl`` sample, and one
    ``where:LINE: problem`` message per line that is not such a record (blank lines are
    skipped). ``correct`` is ``True``, ``False`` or ``None`` (not judged yet)."""
    found: list[tuple[str, bool | None]] = []
    problems: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{where}:{number}: not JSON ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(record, dict):
            problems.append(f"{where}:{number}: a JSON {type(record).__name__}, not an object")
            continue
        group = _judged_group(record)
        if group is None:
            problems.append(f"{where}:{number}: no \"rule\" or \"type\"; is this a "
                            f"'claimx hits --format jsonl' sample?")
            continue
        if "correct" not in record:
            problems.append(f"{where}:{number}: no \"correct\" field; is this a "
                            f"'claimx hits --format jsonl' sample?")
            continue
        correct = record["correct"]
        if correct is not None and not isinstance(correct, bool):
            problems.append(f"{where}:{number}: \"correct\" is {json.dumps(correct)}; "
                            f"write true, false or leave null")
            continue
        found.append((group, correct))
    return found, problems


def tally(judgements: Iterable[tuple[str, bool | None]]) -> list[Tally]:
    """One :class:`Tally` per rule, lowest precision first (the rules to fix lead); rules
    with nothing judged come last. Ties go by rule id."""
    judged: Counter[str] = Counter()
    correct: Counter[str] = Counter()
    not_judged: Counter[str] = Counter()
    for group, verdict in judgements:
        if verdict is None:
            not_judged[group] += 1
        else:
            judged[group] += 1
            correct[group] += verdict
    groups = dict.fromkeys([*judged, *not_judged])
    rows = [Tally(g, judged[g], correct[g], not_judged[g]) for g in groups]
    return sorted(rows, key=lambda t: (t.precision is None, t.precision or 0.0, t.group))


# --------------------------------------------------------------------------- running


def _usage(message: str) -> int:
    print(f"claimx hits: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _unknown(kind: str, name: str, known: Sequence[str]) -> str:
    """``unknown rule 'x' (did you mean 'y'?)``, or a few of the known names when none is
    close (a pack may hold hundreds of rules: list those of the same family first)."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    if close:
        return f"unknown {kind} '{name}' (did you mean '{close[0]}'?)"
    family = [k for k in known if k.split(".")[0] == name.split(".")[0]]
    shown = (family or list(known))[:8]
    more = " …" if len(family or known) > len(shown) else ""
    return (f"unknown {kind} '{name}' (the loaded packs have {len(known)} {kind}s: "
            f"{', '.join(shown)}{more})")


def _emit(write: Callable[[IO[str]], object]) -> None:
    """Run ``write`` on stdout as UTF-8 whatever the locale (as ``claimx tag`` writes). A
    reader that goes away (``| head``) ends the output quietly: stdout is pointed at
    /dev/null so the interpreter's last flush does not complain either."""
    stream = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", line_buffering=False,
                              write_through=False)
    try:
        write(stream)
        stream.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    finally:
        try:
            stream.detach()  # let go of sys.stdout.buffer without closing it
        except ValueError:
            pass


def _option_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with the sampling options before any pack is loaded, if anything."""
    if not args.paths:
        return "give a CORPUS (file, folder or '-'), or --tally FILE…"
    if args.n < 0:
        return "-n must be 0 (counts only) or more"
    if args.width < 1:
        return "--width must be 1 or more"
    problem = input_problem(args)
    if problem is not None:
        return problem
    return None


@attrs.frozen(slots=True)
class _Selection:
    """What to sample: ``rules`` (each a group; their claims filtered by ``types`` when
    given), or else ``types`` (each a group); ``rule_types`` gives each rule's type."""

    rules: list[str]
    types: list[str]
    rule_types: dict[str, str]

    @property
    def groups(self) -> list[str]:
        return self.rules or self.types


def _select(extractor: Any, rules: Sequence[str], types: Sequence[str]) -> _Selection | str:
    """Check ``--rule`` and ``--type`` against the loaded packs: the selection, or the
    usage error to print."""
    from claimx.packs import ClaimRule

    all_rules = [r for pack in extractor.packs for r in pack.rules]
    claim_rules = {r.id: str(r.type) for r in all_rules if isinstance(r, ClaimRule)}
    other_rules = {r.id: type(r).__name__.removesuffix("Rule").lower() for r in all_rules
                   if not isinstance(r, ClaimRule)}
    for rule in rules:
        if rule in other_rules:
            return (f"'{rule}' is a {other_rules[rule]} rule; it makes no claims of its own, "
                    f"so it has no hits (give a claim rule)")
        if rule not in claim_rules:
            return _unknown("rule", rule, list(claim_rules))
    known_types = list(dict.fromkeys(
        [*CLAIM_TYPES, *(t for pack in extractor.packs for t in pack.claim_types)]))
    for claim_type in types:
        if claim_type not in known_types:
            return _unknown("claim type", claim_type, known_types)
    chosen_rules = list(dict.fromkeys(rules))
    chosen_types = list(dict.fromkeys(types))
    if not chosen_rules and not chosen_types:
        chosen_rules = list(claim_rules)  # audit the whole pack, in pack order
    return _Selection(chosen_rules, chosen_types, claim_rules)


def run(args: argparse.Namespace) -> int:
    """Sample hits (or tally judgements); exit 0 when every input was read, 1 when some
    failed, 2 on usage errors."""
    if args.tally:
        if args.paths or args.rules or args.types:
            return _usage("--tally reads judged samples only; give no CORPUS, --rule or "
                          "--type with it")
        if args.format == "jsonl":
            return _usage("--tally prints a table (--format text) or JSON (--format json)")
        return _run_tally(args)
    if args.write_priors:
        return _usage("--write-priors goes with --tally FILE…")
    problem = _option_problem(args)
    if problem is not None:
        return _usage(problem)
    try:
        from claimx.pipeline import Extractor

        extractor = Extractor(packs=args.packs or ["zh-business"])
    except PackLoadError as exc:
        return report_pack_error("hits", exc)
    selection = _select(extractor, args.rules, args.types)
    if isinstance(selection, str):
        return _usage(selection)
    rules, types = selection.rules, selection.types
    rule_types = selection.rule_types
    reservoirs = {g: Reservoir[Hit](args.n, seed=args.seed, key=g) for g in selection.groups}

    pattern = glob_pattern(args)
    options = read_options(args)
    documents = failures = 0
    show = not args.quiet
    paths = list(expand_paths(args.paths, pattern))
    for doc in _documents(paths, READERS[args.input_format], options):
        documents += 1
        claims, error = _claims_of(extractor, doc)
        if error:
            failures += 1
            if show and failures <= _MAX_REPORTED:
                print(f"claimx hits: failed {doc.id}: {error}", file=sys.stderr)
            continue
        for group, claim, start, end in hits_in(claims, rules, types):
            reservoirs[group].offer(
                functools.partial(_make_hit, group, doc, claim, start, end, args.width))

    meta = {"documents": documents, "failed": failures, "seed": args.seed, "n": args.n,
            "by": "rule" if rules else "type"}
    if args.format == "json":
        _emit(lambda out: _write_json(out, reservoirs, rule_types if rules else {}, meta))
    elif args.format == "jsonl":
        _emit(lambda out: _write_jsonl(out, reservoirs, by_rule=bool(rules)))
    else:
        _emit(lambda out: _write_text(out, reservoirs, rule_types if rules else {},
                                      args.width, documents))
    if show:
        if failures > _MAX_REPORTED:
            print(f"claimx hits: … {failures - _MAX_REPORTED} more failures", file=sys.stderr)
        total = sum(r.seen for r in reservoirs.values())
        groups = len(reservoirs)
        print(f"claimx hits: {documents} document{'s' if documents != 1 else ''}, "
              f"{total} hit{'s' if total != 1 else ''} of {groups} "
              f"{'rule' if rules else 'type'}{'s' if groups != 1 else ''}, "
              f"{failures} failed", file=sys.stderr)
    return EXIT_FAILURES if failures else EXIT_OK


def _claims_of(extractor: Any, doc: Document) -> tuple[list[Claim], str]:
    """The claims of a document, or why it failed (unreadable, or tagging failed)."""
    if doc.error:
        return [], doc.error
    try:
        return extractor.extract(doc.text), ""
    except ClaimxError as exc:  # e.g. a rule timing out on this text: fail it alone
        return [], f"tagging failed: {exc}"
    except Exception as exc:  # noqa: BLE001 — a bug must not lose the rest of the run
        return [], (f"tagging failed ({type(exc).__name__}: {exc}); "
                    f"please report this with the document")


def _documents(paths: Sequence[tuple[str, str | None]], reader: Any,
               options: ReadOptions) -> Iterator[Document]:
    """The documents of every input, with an error document for a path that could not be
    used (the loop ``claimx tag`` runs, so inputs fail the same way)."""
    for path, problem in paths:
        if problem is not None:
            yield Document(id=path, source=path, error=problem)
        else:
            yield from reader(path, options)


def _header(group: str, rule_types: dict[str, str], reservoir: Reservoir[Hit],
            documents: int) -> str:
    kind = f" ({rule_types[group]})" if group in rule_types else ""
    seen, shown = reservoir.seen, len(reservoir.items)
    head = (f"== {group}{kind}: {seen} hit{'s' if seen != 1 else ''} in {documents} "
            f"document{'s' if documents != 1 else ''}")
    if seen:
        head += ", all shown" if shown == seen else f", {shown} shown"
    return head + " =="


def _write_text(stream: IO[str], reservoirs: dict[str, Reservoir[Hit]],
                rule_types: dict[str, str], width: int, documents: int) -> None:
    for number, (group, reservoir) in enumerate(reservoirs.items()):
        if number:
            stream.write("\n")
        stream.write(_header(group, rule_types, reservoir, documents) + "\n")
        sample = reservoir.items
        where_width = max((display_width(_where(h)) for h in sample), default=0)
        kind_width = max((display_width(_kind(h)) for h in sample), default=0)
        for hit in sample:
            stream.write(kwic_line(hit, width, where_width, kind_width) + "\n")


def _write_json(stream: IO[str], reservoirs: dict[str, Reservoir[Hit]],
                rule_types: dict[str, str], meta: dict[str, Any]) -> None:
    groups = []
    for group, reservoir in reservoirs.items():
        entry: dict[str, Any] = {meta["by"]: group}
        if group in rule_types:
            entry["type"] = rule_types[group]
        entry.update(total=reservoir.seen, shown=len(reservoir.items),
                     sample=[h.to_dict() for h in reservoir.items])
        groups.append(entry)
    json.dump({**meta, "groups": groups}, stream, ensure_ascii=False, indent=2)
    stream.write("\n")


def _write_jsonl(stream: IO[str], reservoirs: dict[str, Reservoir[Hit]], *,
                 by_rule: bool) -> None:
    for group, reservoir in reservoirs.items():
        for hit in reservoir.items:
            record = {"rule": group if by_rule else None, **hit.to_dict(), "correct": None}
            stream.write(json.dumps(record, ensure_ascii=False) + "\n")


def _run_tally(args: argparse.Namespace) -> int:
    if args.tally.count(STDIN) > 1:
        return _usage("'-' (stdin) can be given only once")
    judgements: list[tuple[str, bool | None]] = []
    problems: list[str] = []
    for path in args.tally:
        try:
            if path == STDIN:
                found, bad = read_judgements(
                    io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig"), "<stdin>")
            else:
                with open(path, encoding="utf-8-sig") as handle:
                    found, bad = read_judgements(handle, path)
        except OSError as exc:
            problems.append(f"{path}: cannot read: {exc.strerror or exc}")
            continue
        except UnicodeDecodeError as exc:
            problems.append(f"{path}: not UTF-8 at byte {exc.start}; save it as UTF-8")
            continue
        judgements.extend(found)
        problems.extend(bad)
    for problem in problems[:_MAX_REPORTED]:
        print(f"claimx hits: {problem}", file=sys.stderr)
    if len(problems) > _MAX_REPORTED:
        print(f"claimx hits: … {len(problems) - _MAX_REPORTED} more problems", file=sys.stderr)
    rows = tally(judgements)
    if args.write_priors:
        if problems:
            print(f"claimx hits: {args.write_priors} not written: fix the lines above first",
                  file=sys.stderr)
            return EXIT_FAILURES
        written = _write_priors(args, rows)
        if written is not None:
            return written
    if args.format == "json":
        judged = sum(r.judged for r in rows)
        correct = sum(r.correct for r in rows)
        overall = Tally("all", judged, correct, sum(r.not_judged for r in rows))
        document = {"rules": [r.to_dict() for r in rows], "all": overall.to_dict(),
                    "problems": problems}
        _emit(lambda out: out.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n"))
    else:
        _emit(lambda out: out.write(_tally_table(rows)))
    return EXIT_FAILURES if problems else EXIT_OK


def _write_priors(args: argparse.Namespace, rows: Sequence[Tally]) -> int | None:
    """Write the judged rules' priors to ``args.write_priors`` (see
    :func:`claimx.calibration.priors_from_audit`); an exit code on failure, else None."""
    from claimx.calibration import priors_from_audit, write_calibration
    from claimx.packs import ClaimRule
    from claimx.pipeline import Extractor

    try:
        extractor = Extractor(packs=args.packs or ["zh-business"], use_calibration=False)
    except PackLoadError as exc:
        return report_pack_error("hits", exc)
    hand_set = {r.id: r.prior for pack in extractor.packs for r in pack.rules
                if isinstance(r, ClaimRule)}
    judged = {t.group: (t.judged, t.correct) for t in rows if not t.group.startswith("type:")}
    unknown = sorted(set(judged) - set(hand_set))
    for rule_id in unknown:
        print(f"claimx hits: {_unknown('rule', rule_id, list(hand_set))}: its judgements "
              f"are not used", file=sys.stderr)
    fitted = priors_from_audit(hand_set, judged)
    try:
        write_calibration(fitted, args.write_priors,
                          method="per-rule priors from a judged audit of unlabelled text "
                                 "(precision smoothed with 4 pseudo-observations of the "
                                 "hand-set prior); no curve",
                          written_by="claimx hits --tally … --write-priors")
    except OSError as exc:
        print(f"claimx hits: cannot write {args.write_priors}: {exc.strerror or exc}",
              file=sys.stderr)
        return EXIT_FAILURES
    if not args.quiet:
        print(f"claimx hits: wrote priors of {len(fitted.priors)} rules ({fitted.claims} "
              f"judged hits) to {args.write_priors}", file=sys.stderr)
    return None


def _tally_table(rows: Sequence[Tally]) -> str:
    name_width = max([display_width(r.group) for r in rows] + [len("rule"), len("all")])
    out = [(f"{'rule':<{name_width}}  {'judged':>6}  {'correct':>7}  {'precision':>9}  "
            f"{'95% interval':<13}  {'not judged':>10}")]

    def row(t: Tally) -> str:
        low, high = wilson_interval(t.correct, t.judged)
        precision = "—" if t.precision is None else f"{t.precision:.2f}"
        interval = "—" if not t.judged else f"{low:.2f}–{high:.2f}"
        return (f"{_pad_right(t.group, name_width)}  {t.judged:>6}  {t.correct:>7}  "
                f"{precision:>9}  {interval:<13}  {t.not_judged:>10}")

    out.extend(row(t) for t in rows)
    judged = sum(r.judged for r in rows)
    out.append(row(Tally("all", judged, sum(r.correct for r in rows),
                         sum(r.not_judged for r in rows))))
    waiting = sum(r.not_judged for r in rows)
    if waiting:
        out.append(f"{waiting} hit{'s' if waiting != 1 else ''} not judged yet "
                   f"(\"correct\": null) {'is' if waiting == 1 else 'are'} left out of "
                   f"the precision")
    return "\n".join(out) + "\n"
