"""``claimx packs [PACK…]``: list the bundled and installed rule packs (or describe the
packs named), with what each extends and the inherited rules it disabled or overrode."""

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
        description="List the rule packs claimx can use by name, with version, claim types, "
                    "rule counts, the packs each extends and the inherited rules it disabled "
                    "or overrode. Name packs (names or folders) to describe those instead.",
        epilog="example:\n  claimx packs\n  claimx packs --json\n  claimx packs ./my-pack --json",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("packs", nargs="*", metavar="PACK",
                   help="describe these packs (names or folders) instead of the available ones")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(handler=run)


def describe_packs(named: list[str] | None = None) -> list[dict[str, Any]]:
    """One dict per available pack (or per pack of ``named``): name, version, path, claim
    types, rule counts by kind (of the composed pack), own rule count, the packs it
    extends, the inherited rules it disabled and overrode, bundled or installed — or the
    load error of a pack that does not load."""
    from claimx.packs import _bundled_root, available_packs, find_pack, load_pack

    bundled = _bundled_root().resolve()
    if named:
        targets: list[tuple[str, Any]] = []
        for ref in named:
            try:
                targets.append((ref, find_pack(ref)))
            except PackLoadError:
                targets.append((ref, None))
    else:
        targets = list(available_packs().items())
    out: list[dict[str, Any]] = []
    for name, path in targets:
        if path is None:
            out.append({"name": name, "path": "", "origin": "folder",
                        "error": f"no pack named or at '{name}'"})
            continue
        origin = ("bundled" if Path(path).resolve().parent == bundled else
                  "installed" if not named or name in available_packs() else "folder")
        entry: dict[str, Any] = {"name": name, "path": str(path), "origin": origin}
        try:
            pack = load_pack(path)
        except PackLoadError as exc:
            entry["error"] = f"{len(exc.problems)} problem(s); run 'claimx lint {path}'"
            out.append(entry)
            continue
        kinds = Counter(type(r).__name__.removesuffix("Rule").lower() for r in pack.rules)
        entry.update(name=pack.name, version=pack.version, language=pack.language,
                     claim_types=sorted(pack.claim_types), rules=dict(sorted(kinds.items())),
                     own_rules=len(pack.own_rules), description=pack.description,
                     extends=list(pack.extends),
                     disabled=[c.to_dict() for c in pack.changes if c.action == "disabled"],
                     overridden=[c.to_dict() for c in pack.changes if c.action == "overridden"],
                     modifier_categories=dict(pack.modifier_categories),
                     warnings=[str(n) for n in pack.notes])
        out.append(entry)
    return out


def run(args: argparse.Namespace) -> int:
    """Print the packs; exit 1 if one of them does not load."""
    packs = describe_packs(args.packs or None)
    if args.json:
        sys.stdout.write(json.dumps(packs, ensure_ascii=False, indent=2) + "\n")
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(title="claimx rule packs", title_justify="left")
        for column in ("name", "version", "origin", "claim types", "rules", "extends", "path"):
            table.add_column(column)
        for p in packs:
            if "error" in p:
                table.add_row(p["name"], "-", p["origin"], f"[red]{p['error']}", "-", "-",
                              p["path"])
                continue
            rules = ", ".join(f"{k} {n}" for k, n in p["rules"].items())
            changes = [f"{c['rule']} {c['action']}" for c in p["disabled"] + p["overridden"]]
            extends = ", ".join(p["extends"]) + (f" ({'; '.join(changes)})" if changes else "")
            table.add_row(p["name"], p["version"], p["origin"], ", ".join(p["claim_types"]),
                          f"{sum(p['rules'].values())} ({rules})", extends or "-", p["path"])
        # Piped, the table gets the width its content needs: a path cut at some terminal
        # width is useless in a file.
        console = Console()
        if not sys.stdout.isatty():
            console = Console(width=Console(width=1 << 20).measure(table).maximum)
        console.print(table)
        if not packs:
            print("no packs found; install one or pass a folder with --pack", file=sys.stderr)
    return EXIT_FAILURES if any("error" in p for p in packs) else EXIT_OK
