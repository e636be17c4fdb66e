"""``claimx test [PACK…] [--rule ID] [-k PATTERN] [--coverage CORPUS]``: run a pack's rule
examples and annotated test files, print the per-rule confusion table, then each failure
as ``file:line: expected … got …``; exit 1 when a case fails or a pack does not load.

With ``--coverage CORPUS`` (a text file with one document per line, or JSONL with a
``text`` field) it also shows which rules never fire on the corpus and which fire most.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import attrs

from claimx.cli import EXIT_FAILURES, EXIT_OK, EXIT_USAGE
from claimx.errors import PackLoadError
from claimx.testing.runner import Outcome, Report, Runner, rule_coverage

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``test`` subcommand."""
    parser = subparsers.add_parser(
        "test", help="run the rule examples and annotated test files of rule packs",
        description="Run every inline rule example and every annotated sentence of "
                    "rules/<pack>/tests/*.txt; print a per-rule TP/FP/FN table and each "
                    "failure; exit 1 on a failure.")
    parser.add_argument("packs", nargs="*", metavar="PACK",
                        help="pack names or folders, loaded together (default: zh-business)")
    parser.add_argument("--rule", action="append", default=[], metavar="ID",
                        help="only this rule's examples and the sentences where it fires "
                             "(repeatable)")
    parser.add_argument("-k", dest="pattern", default="", metavar="PATTERN",
                        help="only cases whose id contains PATTERN (case-insensitive), e.g. "
                             "'risk.' or 'tests/risk.txt'")
    parser.add_argument("--coverage", metavar="CORPUS", type=Path,
                        help="also report which rules never fire on CORPUS and which fire most")
    parser.add_argument("--top", type=int, default=15, metavar="N",
                        help="with --coverage: how many of the most-firing rules to list")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="do not list todo gaps, only failures")
    parser.set_defaults(handler=run)


def _corpus_texts(path: Path) -> Iterator[str]:
    """Documents of a corpus file: JSONL objects' ``text`` field, else one per line."""
    jsonl = path.suffix.lower() in (".jsonl", ".ndjson")
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            line = line.strip()
            if not line:
                continue
            if jsonl:
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}:{number}: not JSON: {exc.msg}") from None
                text = record.get("text") if isinstance(record, dict) else None
                if not isinstance(text, str):
                    raise ValueError(f"{path}:{number}: record has no string 'text' field")
                yield text
            else:
                yield line


def run(args: argparse.Namespace) -> int:
    """Handler of ``claimx test``."""
    packs = args.packs or ["zh-business"]
    try:
        runner = Runner(packs)
    except PackLoadError as exc:
        print(f"claimx test: {exc}", file=sys.stderr)
        return EXIT_FAILURES
    cases = runner.cases()
    known = {r.id for p in runner.packs for r in p.rules}
    for rule_id in args.rule:
        if rule_id not in known:
            print(f"claimx test: no rule '{rule_id}' in {', '.join(packs)}", file=sys.stderr)
            return EXIT_USAGE
    if args.pattern:
        cases = [c for c in cases if args.pattern.lower() in c.id.lower()]
    selected = set(args.rule)
    outcomes = [runner.run(c) for c in cases
                if not selected or c.rule is None or c.rule.id in selected]
    if selected:
        # Keep a sentence only when a chosen rule fired in it, or it is that rule's example.
        outcomes = [o for o in outcomes if o.rules_seen & selected]
        outcomes = [_only_rules(o, selected) for o in outcomes]
    report = Report(tuple(outcomes))
    # A full run gives every rule a row, so a rule no case exercises shows up as all zeros;
    # a focused run (-k, --rule) shows only the rules it touched.
    rows = sorted(selected) if selected else ([] if args.pattern else sorted(known))
    print(report.format_table(rows))
    details = report.format_failures(with_todos=not args.quiet)
    if details:
        print()
        print(details)
    if args.coverage is not None:
        try:
            counts = rule_coverage(runner.extractor, _corpus_texts(args.coverage))
        except (OSError, ValueError) as exc:
            print(f"claimx test: cannot read corpus: {exc}", file=sys.stderr)
            return EXIT_FAILURES
        print()
        print(_format_coverage(counts, args.top, args.coverage))
    if not cases:
        print("claimx test: no examples or test files found", file=sys.stderr)
    return EXIT_FAILURES if report.failed else EXIT_OK


def _only_rules(outcome: Outcome, selected: set[str]) -> Outcome:
    """The outcome with confusion counts restricted to the selected rules."""
    return attrs.evolve(outcome, counts=tuple(c for c in outcome.counts if c[0] in selected))


def _format_coverage(counts: dict[str, int], top: int, corpus: Path) -> str:
    never = sorted(r for r, n in counts.items() if n == 0)
    most = sorted(((n, r) for r, n in counts.items() if n), key=lambda x: (-x[0], x[1]))[:top]
    lines = [f"coverage on {corpus}: {len(counts) - len(never)} of {len(counts)} rules fire"]
    lines.append(f"never fire ({len(never)}): " + (", ".join(never) if never else "none"))
    lines.append("fire most:")
    lines += [f"  {n:>7}  {r}" for n, r in most]
    return "\n".join(lines)
