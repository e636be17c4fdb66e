#!/usr/bin/env python
"""Check that a speed-up did not change the output, while the rules keep changing.

The stored digest (benchmarks/claims-digest.txt) changes whenever the rule pack changes, so
it cannot tell a rule edit from an optimisation that broke something. This script can: it
runs the working tree and a copy of it whose pipeline-stage modules are taken from a git
revision, both with the SAME rule pack (the working tree's), over the same corpus, and
compares every claim (``Claim.to_dict()``) and the sentiment of every document.

    python benchmarks/compare_output.py               # stage modules as in HEAD
    python benchmarks/compare_output.py e41a902       # ... as in that commit
    python benchmarks/compare_output.py HEAD --modules claimx/match.py
    python benchmarks/compare_output.py --pure        # compiled modules vs their .py

With ``--pure`` both sides are the working tree, and the reference runs it as pure Python
(``CLAIMX_PURE_PYTHON=1``) while the other side uses the modules compiled with mypyc
(see docs/performance.md, "Compiled modules"); it fails when there are none to compare.
Each side prints which modules it ran compiled.

Exit status 0 when the outputs are identical, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_CORPUS = REPO.parent / "shared" / "corpora" / "bench-news.jsonl"
STAGE_MODULES = ("claimx/normalize.py", "claimx/segment.py", "claimx/match.py",
                 "claimx/modifiers.py")

# Run in a child interpreter so each side imports its own claimx.
_CHILD = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
import claimx
assert claimx.__file__.startswith(sys.argv[1]), claimx.__file__
import claimx._native
print("compiled:", ", ".join(claimx._native.compiled_modules) or "none (pure Python)")
ex = claimx.Extractor(packs=[sys.argv[2]])
with open(sys.argv[3], encoding="utf-8") as f, open(sys.argv[4], "w", encoding="utf-8") as out:
    for line in f:
        if line.strip():
            a = ex.analyze(json.loads(line)["text"])
            out.write(json.dumps([[c.to_dict() for c in a.claims], str(a.sentiment.label),
                                  round(a.sentiment.score, 9)], ensure_ascii=False) + "\n")
"""


def _run(tree: Path, pack: Path, corpus: Path, out: Path, *, pure: bool = False
         ) -> tuple[list[str], str]:
    """The output lines of ``tree`` on ``corpus``, and what it ran compiled."""
    env = {"CLAIMX_NO_CACHE": "1", "PATH": "/usr/bin:/bin"}
    if pure:
        env["CLAIMX_PURE_PYTHON"] = "1"
    done = subprocess.run([sys.executable, "-c", _CHILD, str(tree), str(pack), str(corpus),
                           str(out)], check=True, env=env, stdout=subprocess.PIPE, text=True)
    return out.read_text(encoding="utf-8").splitlines(), done.stdout.strip()


def main(argv: Sequence[str] | None = None) -> int:
    """Compare the working tree against ``rev``'s stage modules; 0 when identical."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("rev", nargs="?", default="HEAD", help="git revision of the reference modules")
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--modules", nargs="+", default=list(STAGE_MODULES),
                    help="files taken from REV for the reference side")
    ap.add_argument("--pure", action="store_true",
                    help="reference: the working tree itself, as pure Python (no REV)")
    args = ap.parse_args(argv)
    pack = (REPO / "rules" / "zh-business").resolve()
    with tempfile.TemporaryDirectory(prefix="claimx-compare-") as tmp:
        base = Path(tmp)
        new_tree, ref_tree = base / "new", base / "ref"
        for tree in (new_tree, ref_tree):
            shutil.copytree(REPO / "claimx", tree / "claimx", symlinks=True,
                            ignore=shutil.ignore_patterns("__pycache__"))
        for module in ([] if args.pure else args.modules):
            source = subprocess.run(["git", "-C", str(REPO), "show", f"{args.rev}:{module}"],
                                    capture_output=True, text=True, check=True).stdout
            (ref_tree / module).write_text(source, encoding="utf-8")
        new, new_ran = _run(new_tree, pack, args.corpus, base / "new.jsonl")
        ref, ref_ran = _run(ref_tree, pack, args.corpus, base / "ref.jsonl", pure=args.pure)
    diffs = [i for i, (a, b) in enumerate(zip(new, ref)) if a != b]
    if args.pure:
        print(f"{len(new)} documents; reference = the working tree as pure Python")
    else:
        print(f"{len(new)} documents; reference = {', '.join(args.modules)} at {args.rev}")
    print(f"this side {new_ran}; reference {ref_ran}")
    if args.pure and new_ran.startswith("compiled: none"):
        print("NOTHING TO COMPARE: the working tree has no compiled modules in use (build them "
              "with `pip install -e .` or `python setup.py build_ext --inplace`)")
        return 1
    if len(new) != len(ref):
        print(f"DIFFERENT number of documents: {len(new)} vs {len(ref)}")
        return 1
    if not diffs:
        print("IDENTICAL output (claims with all fields, sentiment)")
        return 0
    print(f"DIFFERENT output in {len(diffs)} documents; first ones:")
    for i in diffs[:3]:
        print(f"-- doc {i}\n   now: {new[i][:600]}\n   ref: {ref[i][:600]}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
