"""``claimx lint``: validate rule packs and print every problem as ``file:line:col: CODE msg``."""

from __future__ import annotations

import argparse
import sys

from claimx.cli import EXIT_FAILURES, EXIT_OK
from claimx.errors import PackLoadError

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``lint`` subcommand."""
    p = subparsers.add_parser(
        "lint", help="validate rule packs",
        description="Validate rule packs: every problem of every pack is printed as "
                    "'file:line:col: CODE message (hint: …)'. Exit 1 if any, 0 if clean.",
        epilog="example:\n  claimx lint rules/zh-business my-pack/",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("packs", nargs="+", metavar="PACK", help="pack folder or pack name")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Lint each pack on its own (so one broken pack does not hide another's problems),
    then all together (for what only shows across packs, such as a rule id used twice)."""
    from claimx.packs import load_packs

    problems: list[str] = []
    for pack in args.packs:
        try:
            loaded = load_packs([pack])
        except PackLoadError as exc:
            problems.extend(str(p) for p in exc.problems)
            continue
        rules = sum(len(p.rules) for p in loaded)
        print(f"{pack}: ok ({loaded[0].name} {loaded[0].version}, {rules} rules)")
    if not problems and len(args.packs) > 1:
        try:
            load_packs(list(args.packs))
        except PackLoadError as exc:
            problems.extend(str(p) for p in exc.problems)
    for line in dict.fromkeys(problems):  # each problem once, in order
        print(line)
    if problems:
        count = len(dict.fromkeys(problems))
        print(f"claimx lint: {count} problem{'s' if count != 1 else ''}", file=sys.stderr)
        return EXIT_FAILURES
    return EXIT_OK
