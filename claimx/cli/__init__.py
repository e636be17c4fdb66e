"""The ``claimx`` command line: one entry point, one module per subcommand.

Each subcommand module in :data:`COMMANDS` exposes ``register(subparsers)``, which adds its
parser and sets ``handler`` (a function taking the parsed arguments and returning the exit
code). Exit codes: 0 all done, 1 some inputs failed (and were reported), 2 usage error.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from claimx import __version__
from claimx.errors import PackLoadError

__all__ = ["COMMANDS", "EXIT_FAILURES", "EXIT_OK", "EXIT_USAGE", "main"]

EXIT_OK = 0
EXIT_FAILURES = 1
EXIT_USAGE = 2

#: Subcommand modules under ``claimx.cli``, in the order ``claimx --help`` lists them.
COMMANDS: tuple[str, ...] = ("tag", "explain", "hits", "lint", "packs", "eval", "test")


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors exiting 2 and saying what to do."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n"
                              f"Run '{self.prog} --help' for the options.\n")


def report_pack_error(command: str, exc: PackLoadError) -> int:
    """Print every problem of a pack that failed to load, located, on stderr; return the
    usage exit code (a broken pack is the caller's input to fix)."""
    print(f"claimx {command}: cannot load the rule pack(s):", file=sys.stderr)
    for problem in exc.problems:
        print(f"  {problem}", file=sys.stderr)
    print("Check --pack (see 'claimx packs' and 'claimx lint PACK').", file=sys.stderr)
    return EXIT_USAGE


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every subcommand registered."""
    parser = _Parser(prog="claimx", description="Tag Chinese business prose with typed claims.")
    parser.add_argument("--version", action="version", version=f"claimx {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        importlib.import_module(f"claimx.cli.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(handler(args))
    except KeyboardInterrupt:
        print("claimx: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
