"""``claimx packs``: list the bundled and installed rule packs."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from claimx.cli import EXIT_FAILURES, EXIT_OK
from claimx.errors import PackLoadError

__all__ = ["describe_packs", "register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``packs`` subcommand."""
    p = subparsers.add_parser(
        "packs", help="list bundled and installed rule packs",
        description="List the rule packs claimx can use by name, with version, claim types "
                    "and rule counts.",
        epilog="example:\n  claimx packs\n  claimx packs --json",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(handler=run)


def describe_packs() -> list[dict[str, Any]]:
    """One dict per available pack: name, version, path, claim types, rule counts by kind,
    bundled or installed — or the load error of a pack that does not load."""
    from claimx.packs import _bundled_root, available_packs, load_pack

    bundled = _bundled_root().resolve()
    out: list[dict[str, Any]] = []
    for name, path in available_packs().items():
        entry: dict[str, Any] = {"name": name, "path": str(path),
                                 "origin": "bundled" if Path(path).resolve().parent == bundled
                                 else "installed"}
        try:
            pack = load_pack(path)
        except PackLoadError as exc:
            entry["error"] = f"{len(exc.problems)} problem(s); run 'claimx lint {path}'"
            out.append(entry)
            continue
        kinds = Counter(type(r).__name__.removesuffix("Rule").lower() for r in pack.rules)
        entry.update(version=pack.version, language=pack.language,
                     claim_types=sorted(pack.claim_types), rules=dict(sorted(kinds.items())),
                     description=pack.description)
        out.append(entry)
    return out


def run(args: argparse.Namespace) -> int:
    """Print the packs; exit 1 if one of them does not load."""
    packs = describe_packs()
    if args.json:
        sys.stdout.write(json.dumps(packs, ensure_ascii=False, indent=2) + "\n")
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(title="claimx rule packs", title_justify="left")
        for column in ("name", "version", "origin", "claim types", "rules", "path"):
            table.add_column(column)
        for p in packs:
            if "error" in p:
                table.add_row(p["name"], "-", p["origin"], f"[red]{p['error']}", "-", p["path"])
                continue
            rules = ", ".join(f"{k} {n}" for k, n in p["rules"].items())
            table.add_row(p["name"], p["version"], p["origin"], ", ".join(p["claim_types"]),
                          f"{sum(p['rules'].values())} ({rules})", p["path"])
        # Piped, the table gets the width its content needs: a path cut at some terminal
        # width is useless in a file.
        console = Console()
        if not sys.stdout.isatty():
            console = Console(width=Console(width=1 << 20).measure(table).maximum)
        console.print(table)
        if not packs:
            print("no packs found; install one or pass a folder with --pack", file=sys.stderr)
    return EXIT_FAILURES if any("error" in p for p in packs) else EXIT_OK
