"""``claimx eval``: score the extractor against a gold file (see :mod:`claimx.evaluate`)."""

from __future__ import annotations

import argparse
import difflib
import json
import math
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from claimx.cli import EXIT_FAILURES, EXIT_OK, EXIT_USAGE
from claimx.errors import PackLoadError, RuleTimeoutError
from claimx.evaluate import (
    EvalReport,
    GoldRecord,
    SentimentReport,
    evaluate,
    evaluate_sentiment,
    holdout_part,
    load_gold,
)
from claimx.pipeline import DEFAULT_PACKS, Extractor

if TYPE_CHECKING:  # the calibration module is imported only when fitting
    from claimx.calibration import OutOfFold

__all__ = ["FLOOR_FIGURES", "FloorsError", "load_floors", "register"]


def register(subparsers: Any) -> None:
    """Add the ``eval`` subcommand."""
    parser = subparsers.add_parser(
        "eval", help="score the extractor against a gold file",
        description="Score claims against a gold JSON Lines file (annotation-guidelines format), "
                    "or sentence sentiment against a polarity file with --sentiment.")
    parser.add_argument("gold", nargs="*", help="gold claims file(s) (JSON Lines); several are "
                        "scored as one")
    parser.add_argument("--pack", action="append", dest="packs", metavar="NAME|DIR",
                        help="rule pack to use (repeatable; default: zh-business)")
    parser.add_argument("--sentiment", metavar="FILE", help="score claimx.sentiment on a polarity file")
    parser.add_argument("--per-rule", action="store_true", help="show each rule's hits and precision")
    parser.add_argument("--errors", action="store_true", help="list false positives, misses and attribute errors")
    parser.add_argument("--part", choices=("read", "scored"),
                        help="score only one part of the gold files (claims and --sentiment), split by a hash of each "
                             "record's id (about 70%% read, 30%% scored; see docs/quality.md); "
                             "--errors is refused on the scored part")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--check-floors", metavar="YAML",
                        help="exit 1 when a score is below the floors in this file")
    parser.add_argument("--fit-calibration", metavar="OUT.yaml",
                        help="fit per-rule priors and a monotone calibration on the gold file(s) "
                             "and write them to OUT.yaml (see docs/quality.md)")
    parser.add_argument("--fit-curve", metavar="OUT.yaml",
                        help="keep the pack's rule priors and fit only the monotone calibration "
                             "curve on the gold file(s); write priors and curve to OUT.yaml")
    parser.add_argument("--folds", type=int, metavar="K",
                        help="with --fit-calibration or --fit-curve: also fit K times on all "
                             "folds but one and report the calibration error and scores on the "
                             "folds left out")
    parser.set_defaults(handler=run)


def _print_claims(report: EvalReport, per_rule: bool) -> None:
    micro, span = report.sentence_micro, report.span_micro
    print(f"records: {report.records}")
    print(f"{'sentence level':<22}{'P':>7}{'R':>7}{'F1':>7}{'tp':>6}{'fp':>5}{'fn':>5}")
    for name, prf in [("micro", micro)] + sorted(report.sentence.items()):
        print(f"  {name:<20}{prf.precision:7.3f}{prf.recall:7.3f}{prf.f1:7.3f}{prf.tp:6d}{prf.fp:5d}{prf.fn:5d}")
    print(f"{'span level':<22}{'P':>7}{'R':>7}{'F1':>7}")
    for name, prf in [("micro", span)] + sorted(report.span.items()):
        print(f"  {name:<20}{prf.precision:7.3f}{prf.recall:7.3f}{prf.f1:7.3f}")
    print(f"polarity accuracy: {report.polarity_accuracy:.3f}   modality accuracy: "
          f"{report.modality_accuracy:.3f}   subject agreement: {report.subject_accuracy:.3f}   "
          f"(on {report.matched} matched claims)")
    print(f"expected calibration error: {report.ece:.3f}")
    if per_rule:
        print("per rule (claims the rule took part in):")
        for rule, prf in sorted(report.per_rule.items(), key=lambda kv: -(kv[1].tp + kv[1].fp)):
            print(f"  {rule:<36}{prf.tp + prf.fp:5d} hits  precision {prf.precision:.2f}")
        if report.silent_rules:
            print("rules that never fired: " + ", ".join(report.silent_rules))


def _print_sentiment(report: SentimentReport) -> None:
    print(f"sentiment records: {report.records}")
    print(f"accuracy: {report.accuracy:.3f}   macro-F1: {report.macro_f1:.3f}")
    for label, prf in report.per_label.items():
        print(f"  {label:<10} P {prf.precision:.3f}  R {prf.recall:.3f}  F1 {prf.f1:.3f}")


def _figures(claims: EvalReport | None, mood: SentimentReport | None) -> dict[str, float]:
    out: dict[str, float] = {}
    if claims is not None:
        out["sentence_micro_f1"] = claims.sentence_micro.f1
        out["span_micro_f1"] = claims.span_micro.f1
        out["polarity_accuracy"] = claims.polarity_accuracy
        out["modality_accuracy"] = claims.modality_accuracy
        out["ece_max"] = claims.ece
        for t, prf in claims.sentence.items():
            out[f"sentence_f1.{t}"] = prf.f1
    if mood is not None:
        out["sentiment_macro_f1"] = mood.macro_f1
        out["sentiment_accuracy"] = mood.accuracy
    return out


#: Figures a floors file may name besides ``sentence_f1.TYPE`` (one per claim type of the
#: loaded packs); keys ending in ``_max`` are ceilings.
FLOOR_FIGURES: tuple[str, ...] = (
    "sentence_micro_f1", "span_micro_f1", "polarity_accuracy", "modality_accuracy", "ece_max",
    "sentiment_macro_f1", "sentiment_accuracy")


class FloorsError(Exception):
    """A floors file that cannot be used; the message names the file (and line)."""


def load_floors(path: str, claim_types: Iterable[str]) -> dict[str, float]:
    """The floors in ``path``: a YAML mapping of figure name to a finite number.

    Raises :class:`FloorsError` naming ``path`` and the line for a missing or unreadable
    file, YAML that does not parse, a document that is not a mapping, a value that is not
    a number, and a key that names no figure (a typo would otherwise check nothing).
    """
    known = set(FLOOR_FIGURES) | {f"sentence_f1.{t}" for t in claim_types}
    try:
        with open(path, encoding="utf-8") as handle:
            root = yaml.compose(handle, Loader=yaml.SafeLoader)
    except OSError as exc:
        raise FloorsError(f"{path}: cannot read the floors file: "
                          f"{exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise FloorsError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else path
        raise FloorsError(f"{where}: not valid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise FloorsError(f"{path}: not valid YAML: {exc}") from None
    if root is None:
        return {}
    if not isinstance(root, yaml.MappingNode):
        raise FloorsError(f"{path}:{root.start_mark.line + 1}: the floors file must be a "
                          f"mapping of figure names to numbers (sentence_micro_f1: 0.85)")
    floors: dict[str, float] = {}
    for key_node, value_node in root.value:
        line = f"{path}:{key_node.start_mark.line + 1}"
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        if not isinstance(key, str) or key not in known:
            close = difflib.get_close_matches(str(key), sorted(known), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else (
                f" (figures: {', '.join(sorted(known))})")
            raise FloorsError(f"{line}: '{key}' is not a figure claimx eval reports{hint}")
        number = _number(value_node)
        if number is None:
            shown = value_node.value if isinstance(value_node, yaml.ScalarNode) else "…"
            raise FloorsError(f"{line}: the floor of {key} must be a number, not '{shown}'")
        floors[key] = number
    return floors


def _number(node: yaml.Node) -> float | None:
    if not isinstance(node, yaml.ScalarNode) or node.tag not in (
            "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"):
        return None
    try:
        value = float(node.value.replace("_", ""))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _check_floors(floors: dict[str, float], figures: dict[str, float]) -> list[str]:
    """The figures of this run that miss their floor or exceed their ceiling; floors of
    figures this run did not compute (sentiment in a claims run) are not checked."""
    failures = []
    for key, floor in floors.items():
        if key not in figures:
            continue
        value = figures[key]
        if key.endswith("_max") and value > floor:
            failures.append(f"{key} = {value:.3f} is above its ceiling {floor:g}")
        elif not key.endswith("_max") and value < floor:
            failures.append(f"{key} = {value:.3f} is below its floor {floor:g}")
    return failures


def _priors_method(path: str) -> str:
    """How the kept priors were made, as the calibration file being replaced says."""
    try:
        method = yaml.safe_load(Path(path).read_text(encoding="utf-8")).get("method", "")
    except (OSError, yaml.YAMLError, AttributeError):
        method = ""
    # A file written by an earlier --fit-curve: its priors part is what still holds.
    method = str(method).split("; curve: ")[0].removeprefix("priors: ")
    return method or "the pack's rule priors, unchanged"


def _print_out_of_fold(oof: OutOfFold) -> None:
    print(f"out of fold ({oof.folds} folds, {oof.claims} claims): expected calibration "
          f"error {oof.ece:.3f}, sentence micro-F1 {oof.sentence_micro.f1:.3f} "
          f"(P {oof.sentence_micro.precision:.3f}, R {oof.sentence_micro.recall:.3f})",
          file=sys.stderr)


def _select_part(records: list[GoldRecord], part: str | None) -> list[GoldRecord]:
    return records if part is None else [r for r in records if holdout_part(r.id) == part]


def run(args: argparse.Namespace) -> int:
    """Handle ``claimx eval``."""
    if args.fit_calibration and args.fit_curve:
        print("claimx eval: give --fit-calibration or --fit-curve, not both", file=sys.stderr)
        return EXIT_USAGE
    fitting = args.fit_calibration or args.fit_curve
    if args.folds is not None and (not fitting or args.folds < 2):
        print("claimx eval: --folds K needs --fit-calibration or --fit-curve and K of at "
              "least 2", file=sys.stderr)
        return EXIT_USAGE
    if not args.gold and not args.sentiment:
        print("claimx eval: give a gold file, or --sentiment FILE; see 'claimx eval --help'",
              file=sys.stderr)
        return EXIT_USAGE
    if args.part == "scored" and (args.errors or fitting):
        # The scored part measures rules on sentences their authors never read: listing its
        # errors, or fitting on it, would make it one more part that was read.
        print("claimx eval: the scored part is for scoring only (no --errors, "
              "--fit-calibration or --fit-curve on it); use --part read", file=sys.stderr)
        return EXIT_USAGE
    try:
        # Fitting priors starts from the hand-set priors, not from an earlier fit; fitting
        # only the curve keeps the priors the pack has.
        extractor = Extractor(packs=args.packs or list(DEFAULT_PACKS),
                              use_calibration=not args.fit_calibration)
    except PackLoadError as exc:
        print(exc, file=sys.stderr)
        return EXIT_FAILURES
    floors: dict[str, float] = {}
    if args.check_floors:
        # Checked before scoring: a typo in the floors file should not cost a full run.
        types = {t for pack in extractor.packs for t in pack.claim_types}
        try:
            floors = load_floors(args.check_floors, types)
        except FloorsError as exc:
            print(f"claimx eval: error: {exc}", file=sys.stderr)
            return EXIT_USAGE
    try:
        gold = _select_part([r for path in args.gold for r in load_gold(path)],
                            args.part) if args.gold else None
        claims = evaluate(extractor, gold) if gold is not None else None
        # The split applies to the sentiment file too: its scored part is read by no one either.
        mood = (evaluate_sentiment(extractor, _select_part(load_gold(args.sentiment), args.part))
                if args.sentiment else None)
    except (OSError, ValueError, RuleTimeoutError) as exc:  # a timeout: a pack's regex to fix
        print(f"claimx eval: {exc}", file=sys.stderr)
        return EXIT_FAILURES
    if args.fit_calibration and claims is not None:
        from claimx.calibration import fit_calibration, write_calibration

        fitted = fit_calibration(extractor, gold or [])
        write_calibration(fitted, args.fit_calibration)
        print(f"wrote {args.fit_calibration}: {len(fitted.priors)} rule priors, "
              f"{len(fitted.points)} calibration points", file=sys.stderr)
        if args.folds:
            from claimx.calibration import out_of_fold

            oof = out_of_fold(extractor, gold or [], args.folds)
            _print_out_of_fold(oof)
    if args.fit_curve and claims is not None:
        from claimx.calibration import fit_curve, out_of_fold, write_calibration

        fitted = fit_curve(extractor, gold or [])
        sources = ", ".join(Path(p).name for p in args.gold)
        curve = f"isotonic regression (PAV) curve on {fitted.claims} claims of {sources}"
        write_calibration(fitted, args.fit_curve, written_by="claimx eval --fit-curve",
                          method=f"priors: {_priors_method(args.fit_curve)}; curve: {curve}")
        print(f"wrote {args.fit_curve}: {len(fitted.priors)} rule priors (kept), "
              f"{len(fitted.points)} calibration points", file=sys.stderr)
        if args.folds:
            _print_out_of_fold(out_of_fold(extractor, gold or [], args.folds, fit=fit_curve))
    if args.json:
        print(json.dumps({"claims": claims.to_dict() if claims else None,
                          "sentiment": mood.to_dict() if mood else None,
                          **({"errors": list(claims.errors)} if args.errors and claims else {})},
                         ensure_ascii=False, indent=2))
    else:
        if claims is not None:
            _print_claims(claims, args.per_rule)
            if args.errors:
                for error in claims.errors:
                    print(json.dumps(error, ensure_ascii=False))
        if mood is not None:
            _print_sentiment(mood)
    if args.check_floors:
        failures = _check_floors(floors, _figures(claims, mood))
        for failure in failures:
            print(f"claimx eval: {failure}", file=sys.stderr)
        if failures:
            return EXIT_FAILURES
    return EXIT_OK
