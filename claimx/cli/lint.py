"""``claimx lint``: validate rule packs and print every problem as ``file:line:col: CODE msg``.

Beyond loading each pack (``claimx.load_packs``: YAML, schema, compile), lint runs each of
its own rules' inline examples (a failing one is ``CX130``, with why the rule missed) and
reads its annotated test files (``tests/**/*.txt``: a malformed marker is ``CX140``, a
claim type the packs do not declare ``CX141``, each with a did-you-mean). Warnings (an
``imports:`` that was likely meant as ``extends:``, a var shadowing an imported one, a
pattern rule with no anchors, a lexicon rule re-listing cue words of an earlier rule of its
claim type, a cue word normalised text never holds) are reported but do not fail.

``--format json`` prints a list of problems (path, line, column, code, severity, message,
hint); ``--format sarif`` a SARIF 2.1.0 log, for code-scanning services and editors.
Paths are relative to the working directory when they lie below it.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from claimx import __version__
from claimx.cli import EXIT_FAILURES, EXIT_OK
from claimx.errors import CODES, PackLoadError, PackProblem, problem_order

__all__ = ["check_packs", "register", "run", "to_sarif"]

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``lint`` subcommand."""
    p = subparsers.add_parser(
        "lint", help="validate rule packs, their examples and test files",
        description="Validate rule packs: every problem of every pack (YAML, schema, "
                    "compile), every rule example that does not hold (CX130) and every "
                    "malformed line of the packs' annotated test files (CX140, CX141) is "
                    "printed as 'file:line:col: CODE message (hint: …)'. Exit 1 if any "
                    "error, 0 if clean (warnings do not count).",
        epilog="examples:\n  claimx lint rules/zh-business my-pack/\n"
               "  claimx lint . --format sarif > claimx.sarif",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("packs", nargs="+", metavar="PACK", help="pack folder or pack name")
    p.add_argument("--format", choices=("text", "json", "sarif"), default="text",
                   help="text (default), json (a list of problems) or sarif (SARIF 2.1.0)")
    p.add_argument("--no-examples", action="store_true",
                   help="do not run the rules' inline examples (faster; schema checks only)")
    p.set_defaults(handler=run)


def _example_problems(pack_ref: str) -> list[PackProblem]:
    """Run the pack's own rules' examples; each one that does not hold is a CX130."""
    from claimx.testing.runner import Runner

    runner = Runner([pack_ref])
    out: list[PackProblem] = []
    for case in runner.cases():
        if case.example is None:
            continue
        for failure in runner.run(case).failures:
            message = f"expected {failure.expected} got {failure.got}"
            if failure.reason:
                message += f"; why: {failure.reason}"
            out.append(PackProblem("CX130", message, case.path, case.lineno, case.column,
                                   CODES["CX130"][1]))
    return out


def _test_file_problems(pack: Any) -> list[PackProblem]:
    """Malformed lines (CX140) and undeclared claim types (CX141) of the pack's annotated
    test files; the other lines are ``claimx test``'s to run."""
    from claimx._pack_io import display_path
    from claimx.testing.annotated import parse_annotated_lines

    folder = Path(pack.path) / "tests"
    out: list[PackProblem] = []
    types = sorted(pack.claim_types)
    for file in sorted(folder.rglob("*.txt")) if folder.is_dir() else []:
        shown = display_path(file)
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            out.append(PackProblem("CX100", f"cannot read: {exc}", shown))
            continue
        lines, errors = parse_annotated_lines(text, shown)
        for error in errors:
            out.append(PackProblem("CX140", error.message, shown, error.line, error.column,
                                   error.hint or CODES["CX140"][1]))
        for line in lines:
            for expected in line.expected:
                if expected.type in pack.claim_types:
                    continue
                close = difflib.get_close_matches(expected.type, types, n=1, cutoff=0.6)
                out.append(PackProblem(
                    "CX141", f"claim type '{expected.type}' is not declared by the pack(s)",
                    shown, line.line, expected.column,
                    f"did you mean '{close[0]}'?" if close else
                    f"declared types: {', '.join(types) or 'none'}"))
    return out


def _speed_problems(pack: Any) -> list[PackProblem]:
    """A pattern rule of the pack's own with no anchors (CX152, a warning): it is searched in
    every sentence that holds its required words, on every document, where anchors would
    leave out the sentences that hold none (eight such rules once cost the bundled pack a
    tenth of its throughput)."""
    from claimx._pack_io import display_path
    from claimx.packs import PatternRule

    return [PackProblem("CX152", f"pattern rule '{rule.id}' has no anchors: its pattern is "
                        "searched in every sentence", display_path(rule.source.path),
                        rule.source.line, rule.source.column, CODES["CX152"][1], "warning")
            for rule in pack.own_rules
            if isinstance(rule, PatternRule) and not rule.anchors]


def _shared_cue_problems(pack: Any) -> list[PackProblem]:
    """A cue word that a lexicon rule of the pack's own shares with an earlier lexicon rule of
    the same claim type (CX153, a warning): the word's claims get two rules' priors in their
    noisy-OR confidence, and the later rule lets the word past the earlier rule's guards
    (``exceptions``, ``not_after``, ``veto``), which were written for that word. One warning per
    pair of rules, at the later rule, naming the shared words."""
    from claimx._pack_io import display_path
    from claimx.packs import LexiconRule

    own = {id(rule) for rule in pack.own_rules}
    earlier: dict[str, list[Any]] = {}  # claim type -> its lexicon rules seen so far
    problems: list[PackProblem] = []
    for rule in pack.rules:
        if not isinstance(rule, LexiconRule):
            continue
        seen = earlier.setdefault(rule.type, [])
        if id(rule) in own:
            cues = set(rule.cues)
            for first in seen:
                shared = sorted(cues.intersection(first.cues))
                if not shared:
                    continue
                listed = ", ".join(shared[:5]) + (f", … ({len(shared)} in all)"
                                                   if len(shared) > 5 else "")
                problems.append(PackProblem(
                    "CX153", f"rule '{rule.id}' cues {len(shared)} word"
                    f"{'s' if len(shared) != 1 else ''} that '{first.id}' of type "
                    f"'{rule.type}' already cues: {listed}",
                    display_path(rule.source.path), rule.source.line, rule.source.column,
                    CODES["CX153"][1], "warning"))
        seen.append(rule)
    return problems


def _unreadable_cue_problems(pack: Any) -> list[PackProblem]:
    """Cue words written in the pack's own files that normalised text never holds (CX154, a
    warning): rules match on the text :func:`claimx.normalize.normalize` gives — simplified
    script, half-width ASCII, the particle 着 — so a word in traditional script (較上年減少) or
    with full-width letters (ＡＩ) can never match, and its rule is silently deaf to it. The
    words checked are every var's and every own lexicon rule's cues; each is reported at the
    first line of the pack's own files that holds it, one warning per line, with the form the
    text would hold. Words of extended or imported packs are left to those packs."""
    from claimx._pack_io import display_path
    from claimx.normalize import normalize
    from claimx.packs import LexiconRule

    words: set[str] = set()
    for values in pack.vars.values():
        words.update(values)
    for rule in pack.own_rules:
        if isinstance(rule, LexiconRule):
            words.update(rule.cues)
    unreadable: dict[str, str] = {}
    for word in words:
        if word.strip():
            read = normalize(word).text
            if read != word:
                unreadable[word] = read
    if not unreadable or not pack.roots:
        return []
    found: dict[tuple[str, int], list[tuple[int, str]]] = {}
    # The pack's own rule files among those it was built from (the loader's list).
    root = Path(pack.roots[0])
    files = [Path(name) for name in pack.files
             if Path(name).suffix in (".yaml", ".yml") and Path(name).is_relative_to(root)]
    left = dict(unreadable)
    for path in files:
        if not left:
            break
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            continue
        for number, line in enumerate(lines, 1):
            for word in [w for w in left if w in line]:
                found.setdefault((display_path(str(path)), number), []).append(
                    (line.index(word) + 1, word))
                del left[word]
    problems = []
    for (shown, number), hits in sorted(found.items()):
        hits.sort()
        listed = ", ".join(f"{word} (read as {unreadable[word]})" for _, word in hits[:5])
        more = f", … ({len(hits)} in all)" if len(hits) > 5 else ""
        problems.append(PackProblem(
            "CX154", f"{len(hits)} cue word{'s' if len(hits) != 1 else ''} that normalised "
            f"text never holds: {listed}{more}", shown, number, hits[0][0],
            CODES["CX154"][1], "warning"))
    return problems


def check_packs(packs: Sequence[str], *, examples: bool = True
                ) -> tuple[list[PackProblem], list[str]]:
    """Every problem of ``packs`` (each on its own, then all together), in report order:
    root causes first. Returns (problems, one summary line per pack that loads)."""
    from claimx.packs import load_packs

    problems: list[PackProblem] = []
    summaries: list[str] = []
    for ref in packs:
        try:
            (pack,) = load_packs([ref])
        except PackLoadError as exc:
            problems.extend(exc.problems)
            continue
        problems.extend(pack.notes)
        problems.extend(_test_file_problems(pack))
        problems.extend(_speed_problems(pack))
        problems.extend(_shared_cue_problems(pack))
        problems.extend(_unreadable_cue_problems(pack))
        if examples:
            try:
                problems.extend(_example_problems(ref))
            except PackLoadError as exc:  # e.g. token rules whose segmenter is missing
                problems.extend(exc.problems)
        own = len(pack.own_rules)
        inherited = f", {len(pack.rules) - own} inherited" if pack.extends else ""
        summaries.append(f"{ref}: ok ({pack.name} {pack.version}, {own} rules{inherited})")
    if not any(p.severity == "error" for p in problems) and len(packs) > 1:
        try:
            load_packs(list(packs))
        except PackLoadError as exc:
            problems.extend(exc.problems)
    unique = list(dict.fromkeys(problems))  # each problem once, in order
    unique.sort(key=problem_order)
    return unique, summaries


def _uri(path: str) -> tuple[str, str | None]:
    """A SARIF artifact URI for ``path``: relative ones (to the working directory) under
    the ``%SRCROOT%`` base, absolute ones as ``file:`` URIs."""
    candidate = Path(path)
    if candidate.is_absolute():
        return candidate.as_uri(), None
    return quote(candidate.as_posix(), safe="/-._~"), "%SRCROOT%"


def to_sarif(problems: Sequence[PackProblem]) -> dict[str, Any]:
    """``problems`` as a SARIF 2.1.0 log: one run of the ``claimx`` tool, a reporting
    descriptor per code used (its title and hint), one result per problem."""
    codes = sorted({p.code for p in problems})
    index = {code: i for i, code in enumerate(codes)}
    rules = [{"id": code, "name": "".join(w.capitalize() for w in CODES.get(code, (code,))[0]
                                          .replace("-", " ").replace(".", " ").split()
                                          if w.isalnum()) or code,
              "shortDescription": {"text": CODES.get(code, (code, ""))[0]},
              "help": {"text": CODES.get(code, ("", "see docs/rule-packs.md"))[1]
                       or "see docs/rule-packs.md"},
              "defaultConfiguration": {"level": "warning" if _is_warning(code) else "error"}}
             for code in codes]
    results = []
    for problem in problems:
        uri, base = _uri(problem.path)
        artifact: dict[str, Any] = {"uri": uri}
        if base:
            artifact["uriBaseId"] = base
        physical: dict[str, Any] = {"artifactLocation": artifact}
        if problem.line > 0:
            region: dict[str, Any] = {"startLine": problem.line}
            if problem.column > 0:
                region["startColumn"] = problem.column
            physical["region"] = region
        hint = problem.hint or CODES.get(problem.code, ("", ""))[1]
        results.append({
            "ruleId": problem.code, "ruleIndex": index[problem.code],
            "level": "warning" if problem.severity == "warning" else "error",
            "message": {"text": problem.message + (f" (hint: {hint})" if hint else "")},
            "locations": [{"physicalLocation": physical}]})
    return {
        "$schema": SARIF_SCHEMA, "version": SARIF_VERSION,
        "runs": [{
            "tool": {"driver": {"name": "claimx", "version": __version__,
                                "semanticVersion": __version__,
                                "informationUri": "https://pypi.org/project/claimx/",
                                "rules": rules}},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": Path.cwd().as_uri().rstrip("/") + "/"}},
            "columnKind": "unicodeCodePoints",
            "results": results}]}


def _is_warning(code: str) -> bool:
    from claimx.errors import WARNINGS

    return code in WARNINGS


def run(args: argparse.Namespace) -> int:
    """Lint each pack on its own (so one broken pack does not hide another's problems),
    then all together (for what only shows across packs, such as a rule id used twice)."""
    problems, summaries = check_packs(args.packs, examples=not args.no_examples)
    errors = [p for p in problems if p.severity == "error"]
    if args.format == "json":
        sys.stdout.write(json.dumps([p.to_dict() for p in problems], ensure_ascii=False,
                                    indent=2) + "\n")
    elif args.format == "sarif":
        sys.stdout.write(json.dumps(to_sarif(problems), ensure_ascii=False, indent=2) + "\n")
    else:
        for line in summaries:
            print(line)
        for problem in problems:
            print(problem)
    if errors:
        count = len(errors)
        warned = len(problems) - count
        extra = f" and {warned} warning{'s' if warned != 1 else ''}" if warned else ""
        print(f"claimx lint: {count} problem{'s' if count != 1 else ''}{extra}",
              file=sys.stderr)
        return EXIT_FAILURES
    return EXIT_OK
