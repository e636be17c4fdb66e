"""``claimx explain``: show how one text was read, stage by stage.

Prints the packs in use (what each extends, and the inherited rules it disabled or
overrode), the normalised text, the sentences and their clauses, every cue, modifier and
sentiment word that matched (with its rule id) and, for a cue that yields no claim, what
cancelled it (a veto word in the sentence, a not_after word before it …), each claim with
the cues and modifiers it rests on, and how its confidence was reached. Offsets of hits are into the normalised text
(``n``), offsets of claims into the text as given.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from claimx.cli import EXIT_FAILURES, EXIT_OK, report_pack_error
from claimx.errors import PackLoadError, RuleTimeoutError
from claimx.testing.diagnose import cancel_reason

__all__ = ["EXPLAINED_CHARS", "describe_pack_changes", "explain_text", "register", "run"]

#: A longer text is explained up to the last sentence end within this many characters.
EXPLAINED_CHARS = 50_000


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``explain`` subcommand."""
    p = subparsers.add_parser(
        "explain", help="show how one text was read: sentences, matches, confidence",
        description="Explain how claimx read one text.",
        epilog="example:\n  claimx explain '公司计划明年扩产，但可能面临原材料涨价风险。'",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("text", metavar="TEXT|-", help="the text, or '-' to read it from stdin")
    p.add_argument("--pack", action="append", metavar="NAME|DIR", dest="packs",
                   help="rule pack to use; repeat for several (default: zh-business)")
    p.add_argument("--json", action="store_true", help="print the claims with their evidence "
                                                       "as JSON instead of the text report")
    p.add_argument("--on-rule-timeout", choices=("raise", "skip"), default="raise",
                   help="when a rule's regular expression runs past its time: stop with an "
                        "error naming the rule (raise, the default) or skip the sentence and "
                        "explain what the other rules found (skip)")
    p.set_defaults(handler=run)


def _quote(text: str) -> str:
    return "“" + text.replace("\n", "⏎") + "”"


def describe_pack_changes(packs: Any) -> list[str]:
    """The ``packs`` section of the report: each pack, what it extends, and each inherited
    rule it disabled or overrode (with where the rule and the change are written)."""
    from claimx._pack_io import display_path

    out = [f"packs ({len(packs)}):"]
    for pack in packs:
        extends = f", extends {', '.join(pack.extends)}" if pack.extends else ""
        out.append(f"  {pack.name} {pack.version} ({display_path(pack.path)}){extends}: "
                   f"{len(pack.rules)} rules, {len(pack.own_rules)} its own")
        for change in pack.changes:
            out.append(f"     {change.action:<10} {change.rule_id} of {change.inherited_from} "
                       f"({change.original}) by {change.pack} at {change.by}")
    out.append("")
    return out


def explain_text(extractor: Any, text: str) -> str:
    """The explanation of ``text`` as printed by ``claimx explain``."""
    a = extractor.analyze(text)
    norm = a.normalized.text
    out: list[str] = describe_pack_changes(extractor.packs)
    changed = "unchanged" if norm == text else "changed by normalisation"
    out.append(f"normalised text ({len(norm)} chars, original {len(text)} chars, {changed}):")
    out.append(f"  {_quote(norm)}")
    out.append("")
    out.append(f"sentences ({len(a.sentences)}):")
    for i, s in enumerate(a.sentences, 1):
        flag = "  [question]" if s.is_question else ""
        out.append(f"  S{i} n{s.start}-{s.end}{flag}: {_quote(norm[s.start:s.end])}")
        for j, c in enumerate(s.clauses, 1):
            head = "  [heading]" if c.heading else ""
            out.append(f"     clause {j} n{c.start}-{c.end}{head}: {_quote(norm[c.start:c.end])}")
    out.append("")
    out.append(f"claim cues ({len(a.matches.claim_cues)}):")
    why = {id(h): reason for h, reason in a.cancelled}
    for h in a.matches.claim_cues:
        kind = type(h.rule).__name__.removesuffix("Rule").lower()
        out.append(f"  {h.rule_id:<28} {kind:<8} {getattr(h.rule, 'type', ''):<16} "
                   f"n{h.start}-{h.end} {_quote(norm[h.start:h.end])}")
        if id(h) in why:
            out.append(f"     cancelled: {cancel_reason(h, why[id(h)], norm, a.sentences)}")
    out.append("")
    out.append(f"modifiers ({len(a.scopes)}):")
    for sc in a.scopes:
        h = sc.hit
        out.append(f"  {h.rule_id:<28} {sc.category:<8} n{h.start}-{h.end} {_quote(norm[h.start:h.end])}"
                   f" reaches n{sc.start}-{sc.end} {_quote(norm[sc.start:sc.end])}")
    out.append("")
    out.append(f"sentiment words ({len(a.matches.sentiment)}):")
    for h in a.matches.sentiment:
        out.append(f"  {h.rule_id:<28} {h.rule.polarity.value:<8} n{h.start}-{h.end} "
                   f"{_quote(norm[h.start:h.end])}")
    out.append("")
    out.append(f"claims ({len(a.claims)}):")
    for i, c in enumerate(a.claims, 1):
        out.append(f"  C{i} {c.type} [{c.start}:{c.end}] {_quote(c.text)}")
        out.append(f"     polarity {c.polarity.value}, modality {c.modality.value}, "
                   f"subject {c.subject or '—'}, confidence {c.confidence:.3f}")
        out.append(f"     rules: {', '.join(c.rules)}")
        for cue in c.evidence.cues:
            out.append(f"     cue      {cue.rule or cue.label} [{cue.start}:{cue.end}] {_quote(cue.text)}")
        for m in c.evidence.modifiers:
            out.append(f"     modifier {m.label} ({m.rule}) [{m.start}:{m.end}] {_quote(m.text)}")
        out.append("     confidence:")
        for k, step in enumerate(c.evidence.confidence_steps, 1):
            out.append(f"       {k}. {step}")
    out.append("")
    out.append(f"sentiment: {a.sentiment.label.value} ({a.sentiment.score:+.3f})")
    return "\n".join(out) + "\n"


def run(args: argparse.Namespace) -> int:
    """Explain one text (argument or stdin)."""
    text = sys.stdin.read() if args.text == "-" else args.text
    try:
        from claimx.pipeline import Extractor

        extractor = Extractor(packs=args.packs or ["zh-business"],
                              on_rule_timeout=args.on_rule_timeout)
    except PackLoadError as exc:
        return report_pack_error("explain", exc)
    if len(text) > EXPLAINED_CHARS:
        # An explanation is some 20 times the text: a whole book would take gigabytes.
        from claimx.cli.tag import windows

        end = next(windows(text, EXPLAINED_CHARS))[1]
        note = (f"claimx explain: the text has {len(text):,} characters; explaining the "
                f"first {end:,} (whole sentences). Use claimx tag for the whole text.")
        print(note, file=sys.stderr if args.json else sys.stdout)
        text = text[:end]
    try:
        if args.json:
            claims = [c.to_dict(with_evidence=True) for c in extractor.extract(text)]
            report = json.dumps(claims, ensure_ascii=False, indent=2) + "\n"
        else:
            report = explain_text(extractor, text)
    except RuleTimeoutError as exc:  # a pack's regex that backtracks: its author's to fix
        print(f"claimx explain: {exc}", file=sys.stderr)
        return EXIT_FAILURES
    sys.stdout.write(report)
    return EXIT_OK
