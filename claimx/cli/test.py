"""``claimx test [PACK…] [--rule ID] [-k PATTERN] [--coverage CORPUS]``: run a pack's rule
examples and annotated test files, print the per-rule confusion table, then each failure
as ``file:line: expected … got …``; exit 1 when a case fails or a pack does not load.

With ``--coverage CORPUS`` (a text file with one document per line, or JSONL with a
``text`` field) it also shows which rules never fire on the corpus and which fire most.
``--format json`` prints the same as one JSON document; ``--junitxml FILE`` also writes a
JUnit XML report (one test case per example or test sentence) for CI.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

from claimx.cli import EXIT_FAILURES, EXIT_OK, EXIT_USAGE
from claimx.errors import PackLoadError
from claimx.testing.runner import Outcome, Report, Runner, rule_coverage

__all__ = ["register", "report_data", "run", "write_junit"]


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
    parser.add_argument("--format", choices=("text", "json"), default="text",
                        help="text (default) or one JSON document: summary, per-rule counts, "
                             "every case with its outcome, failures and pytest id")
    parser.add_argument("--junitxml", metavar="FILE", type=Path,
                        help="also write a JUnit XML report to FILE (written whole or not at all)")
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
    for pack in runner.packs:
        for note in pack.notes:
            print(f"claimx test: {note}", file=sys.stderr)
    cases = runner.cases()
    # The rules under test are the packs' own: rules a pack inherits (`extends:`) run with
    # it but are tested with the pack that wrote them.
    own = sorted({r.id for p in runner.packs for r in p.own_rules})
    known = {r.id for r in runner.extractor.compiled.rules}
    for rule_id in args.rule:
        if rule_id not in known:
            print(f"claimx test: no rule '{rule_id}' in {', '.join(packs)}", file=sys.stderr)
            return EXIT_USAGE
    if args.pattern:
        cases = [c for c in cases if args.pattern.lower() in c.id.lower()]
    selected = set(args.rule)
    started = time.monotonic()
    outcomes = [runner.run(c) for c in cases
                if not selected or c.rule is None or c.rule.id in selected]
    seconds = time.monotonic() - started
    if selected:
        # Keep a sentence only when a chosen rule fired in it, or it is that rule's example.
        outcomes = [o for o in outcomes if o.rules_seen & selected]
        outcomes = [_only_rules(o, selected) for o in outcomes]
    report = Report(tuple(outcomes))
    # A full run gives every own rule a row, so a rule no case exercises shows up as all
    # zeros; a focused run (-k, --rule) shows only the rules it touched.
    rows = sorted(selected) if selected else ([] if args.pattern else own)
    counts: dict[str, int] | None = None
    if args.coverage is not None:
        try:
            counts = rule_coverage(runner.extractor, _corpus_texts(args.coverage))
        except (OSError, ValueError) as exc:
            print(f"claimx test: cannot read corpus: {exc}", file=sys.stderr)
            return EXIT_FAILURES
    if args.junitxml is not None:
        try:
            write_junit(report, args.junitxml, seconds)
        except OSError as exc:
            print(f"claimx test: cannot write {args.junitxml}: {exc.strerror or exc}",
                  file=sys.stderr)
            return EXIT_USAGE
    if args.format == "json":
        data = report_data(report, rows, runner.packs)
        if counts is not None:
            data["coverage"] = dict(sorted(counts.items()))
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    else:
        print(report.format_table(rows))
        details = report.format_failures(with_todos=not args.quiet)
        if details:
            print()
            print(details)
        if counts is not None:
            print()
            print(_format_coverage(counts, args.top, args.coverage))
    if not cases:
        print("claimx test: no examples or test files found", file=sys.stderr)
    return EXIT_FAILURES if report.failed else EXIT_OK


def _outcome_name(outcome: Outcome) -> str:
    if not outcome.passed:
        return "failed"
    return "todo" if outcome.failures else "passed"


def report_data(report: Report, rows: list[str], packs: Any = ()) -> dict[str, Any]:
    """``claimx test --format json``: the packs, a summary, per-rule counts and every case
    (its pytest id, location, outcome, failures with their reasons, notes)."""
    table = report.confusion(rows)
    return {
        "packs": [{"name": p.name, "path": p.path} for p in packs],
        "summary": {"cases": len(report.outcomes), "passed": len(report.outcomes) - len(report.failed),
                    "failed": len(report.failed), "todo": len(report.todos)},
        "rules": {key: {k: table[key][k] for k in ("tp", "fp", "fn", "todo")}
                  for key in sorted(table, key=lambda k: (k.startswith("("), k))},
        "cases": [{"id": o.case.id, "pytest_id": o.case.pytest_id, "path": o.case.path,
                   "line": o.case.lineno, "column": o.case.column,
                   "kind": "example" if o.case.example is not None else "sentence",
                   "outcome": _outcome_name(o),
                   "failures": [f.to_dict() for f in o.failures], "notes": list(o.notes)}
                  for o in report.outcomes],
    }


def write_junit(report: Report, path: Path, seconds: float = 0.0) -> None:
    """Write ``report`` as JUnit XML (the format CI services read): one ``testsuite`` per
    pack, one ``testcase`` per case, ``failure`` for a failing case and ``skipped`` for a
    case whose only failures are todo gaps. Written to a temporary file, then renamed."""
    import xml.etree.ElementTree as ET

    by_pack: dict[str, list[Outcome]] = {}
    for outcome in report.outcomes:
        by_pack.setdefault(outcome.case.pack, []).append(outcome)
    root = ET.Element("testsuites", name="claimx test", tests=str(len(report.outcomes)),
                      failures=str(len(report.failed)), errors="0",
                      skipped=str(sum(1 for o in report.outcomes if o.passed and o.failures)),
                      time=f"{seconds:.3f}")
    for pack, outcomes in by_pack.items():
        failed = [o for o in outcomes if not o.passed]
        skipped = [o for o in outcomes if o.passed and o.failures]
        suite = ET.SubElement(root, "testsuite", name=pack, tests=str(len(outcomes)),
                              failures=str(len(failed)), errors="0", skipped=str(len(skipped)))
        for outcome in outcomes:
            case = outcome.case
            element = ET.SubElement(suite, "testcase", classname=pack,
                                    name=case.id.split("::", 1)[1], file=case.path,
                                    line=str(case.lineno))
            if not outcome.passed:
                first = next(f for f in outcome.failures if not f.todo)
                failure = ET.SubElement(element, "failure", type=first.code or "failure",
                                        message=f"expected {first.expected} got {first.got}")
                failure.text = outcome.render()
            elif outcome.failures:
                ET.SubElement(element, "skipped", message="todo: " + "; ".join(
                    f.expected for f in outcome.failures))
    data = ET.tostring(root, encoding="unicode", xml_declaration=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temp.write_text(data + "\n", encoding="utf-8")
        os.replace(temp, path)
    finally:
        if temp.exists():
            temp.unlink()


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
