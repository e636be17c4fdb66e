"""Fitting a pack's confidence mapping on a gold file.

Two steps, both stored in the pack's ``calibration.yaml``:

1. **per-rule priors**: each claim rule's prior becomes its precision on the gold file,
   smoothed towards the hand-set prior with ``PRIOR_WEIGHT`` pseudo-observations
   (``(correct + w·prior) / (hits + w)``), so a rule seen twice does not jump to 0 or 1;
2. **monotone calibration**: with the new priors, the raw noisy-OR confidences of all
   predicted claims are paired with whether each claim matched a gold claim, and isotonic
   regression (pool adjacent violators) turns them into a non-decreasing step curve; its
   blocks become the ``points`` of a piecewise-linear map (``claimx.assemble.calibrate``).

``claimx eval GOLD.jsonl --pack DIR --fit-calibration DIR/calibration.yaml`` runs both and
writes the file; ``pack.yaml`` names it under ``calibration:``.

``--fit-curve DIR/calibration.yaml`` runs only step 2 (:func:`fit_curve`): the pack keeps
the priors it has (for the default pack, precisions judged on unlabelled news) and the
curve is fitted on the given gold file(s). That is how to calibrate on text the rules were
not written from: gold the pack's authors never tuned on, of the kinds the pack will meet.

A calibration judged on the sentences it was fitted on looks better than it is. With
``--folds K``, :func:`out_of_fold` fits K times, each time on all records but one fold
(folds fixed by a hash of the record id) and scores the left-out fold, so every claim is
scored by a fit that never saw its sentence: the expected calibration error it reports is
what to expect on new text of the same kind.
"""

from __future__ import annotations

import copy
import datetime
import hashlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import attrs
import yaml

from claimx.evaluate import PRF, GoldRecord, evaluate, expected_calibration_error
from claimx.packs import ClaimRule
from claimx.pipeline import Extractor

__all__ = ["Fit", "FittedCalibration", "OutOfFold", "PRIOR_WEIGHT", "fit_calibration",
           "fit_curve", "isotonic_points", "out_of_fold", "priors_from_audit",
           "write_calibration"]

#: Pseudo-observations that pull a rule's fitted prior towards its hand-set prior.
PRIOR_WEIGHT = 4.0


@attrs.frozen(slots=True)
class FittedCalibration:
    """Per-rule priors and calibration points, ready to be written to a pack."""

    priors: dict[str, float]
    points: tuple[tuple[float, float], ...]
    claims: int


#: A fitting function: :func:`fit_calibration` or :func:`fit_curve`.
Fit = Callable[[Extractor, Sequence[GoldRecord]], FittedCalibration]


def isotonic_points(pairs: Sequence[tuple[float, bool]]) -> tuple[tuple[float, float], ...]:
    """Pool-adjacent-violators fit of P(correct | raw); each block gives two points (its
    lowest and highest raw score, both at the block's smoothed accuracy)."""
    grouped: dict[float, list[float]] = {}
    for raw, is_correct in pairs:  # equal raw scores form one starting block
        entry = grouped.setdefault(round(raw, 6), [0.0, 0.0])
        entry[0] += float(is_correct)
        entry[1] += 1.0
    blocks: list[list[float]] = []  # [sum_correct, count, min_raw, max_raw, sum_raw]
    for raw, (correct, count) in sorted(grouped.items()):
        blocks.append([correct, count, raw, raw, raw * count])
        while len(blocks) > 1 and (blocks[-2][0] / blocks[-2][1]) >= (blocks[-1][0] / blocks[-1][1]):
            last = blocks.pop()
            blocks[-1][0] += last[0]
            blocks[-1][1] += last[1]
            blocks[-1][3] = last[3]
            blocks[-1][4] += last[4]
    points: list[tuple[float, float]] = []
    for correct, count, low, high, raw_sum in blocks:
        # One pseudo-observation at the block's own raw score keeps a block of three right
        # answers from claiming certainty, without pulling every block towards 0.5.
        accuracy = (correct + raw_sum / count) / (count + 1.0)
        for x in (low, high):
            point = (round(x, 4), round(accuracy, 4))
            if not points or point[0] > points[-1][0]:
                points.append(point)
            else:  # same raw value: keep the higher (later) block's accuracy
                points[-1] = (points[-1][0], max(points[-1][1], point[1]))
    fixed: list[tuple[float, float]] = []
    for x, y in points:  # enforce monotone y after smoothing and merging
        fixed.append((x, max(y, fixed[-1][1]) if fixed else y))
    return tuple(fixed)


def fit_calibration(extractor: Extractor, records: Sequence[GoldRecord]) -> FittedCalibration:
    """Fit priors on ``records``, then the monotone curve on the raw confidences that the
    new priors give (the pipeline is run again with them, so the contrast factor and every
    other step of :func:`claimx.assemble.confidence` are part of what is calibrated).

    ``extractor`` should run uncalibrated (``Extractor(..., use_calibration=False)``) so the
    fit starts from the hand-set priors.
    """
    first = evaluate(extractor, records)
    hand_set = {r.id: r.prior for pack in extractor.packs for r in pack.rules
                if isinstance(r, ClaimRule)}
    priors: dict[str, float] = {}
    for rule_id, prf in first.per_rule.items():
        hits = prf.tp + prf.fp
        base = hand_set.get(rule_id, 0.5)
        priors[rule_id] = round((prf.tp + PRIOR_WEIGHT * base) / (hits + PRIOR_WEIGHT), 4)
    second = evaluate(calibrated(extractor, FittedCalibration(priors, (), 0)), records)
    pairs = [(raw, correct) for raw, correct, _ in second.calibration_pairs]
    return FittedCalibration(priors=priors, points=isotonic_points(pairs), claims=len(pairs))


def fit_curve(extractor: Extractor, records: Sequence[GoldRecord]) -> FittedCalibration:
    """Fit only the monotone curve on ``records``; the priors stay those ``extractor`` uses.

    ``extractor`` runs with its pack's calibration (priors and any curve); the curve is
    dropped for the fit, so the points map the raw confidences the priors give.
    """
    priors = dict(extractor.compiled.priors)
    raw = calibrated(extractor, FittedCalibration(priors, (), 0))
    pairs = [(confidence, correct) for confidence, correct, _ in
             evaluate(raw, records).calibration_pairs]
    return FittedCalibration(priors=priors, points=isotonic_points(pairs), claims=len(pairs))


def priors_from_audit(hand_set: dict[str, float], judged: dict[str, tuple[int, int]]
                      ) -> FittedCalibration:
    """Per-rule priors from a precision audit on text with no gold (``claimx hits``
    samples judged by hand): ``judged`` maps a rule id to ``(hits judged, correct)``, and
    each rule's prior becomes ``(correct + w·prior) / (judged + w)`` with ``w =
    PRIOR_WEIGHT`` pseudo-observations of its hand-set prior. No curve is fitted.

    The audit text is text the rules were not tuned against and that holds no gold
    sentence, so confidences from these priors can be judged on every gold file without
    the optimism of a fit on the same sentences (docs/quality.md). Rules of ``judged``
    that ``hand_set`` does not know are left out; rules without judgements keep their
    hand-set prior (they are not written).
    """
    priors = {rule_id: round((correct + PRIOR_WEIGHT * hand_set[rule_id])
                             / (hits + PRIOR_WEIGHT), 4)
              for rule_id, (hits, correct) in judged.items()
              if rule_id in hand_set and hits > 0}
    return FittedCalibration(priors=priors, points=(),
                             claims=sum(judged[r][0] for r in priors))


def calibrated(extractor: Extractor, fitted: FittedCalibration) -> Extractor:
    """A copy of ``extractor`` whose confidences use ``fitted`` priors and curve."""
    copied = copy.copy(extractor)
    copied.compiled = attrs.evolve(extractor.compiled, priors=dict(fitted.priors),
                                   calibration=fitted.points)
    return copied


@attrs.frozen(slots=True)
class OutOfFold:
    """Scores of a K-fold fit: each fold scored by the calibration fitted on the others."""

    folds: int
    claims: int
    ece: float
    sentence_micro: PRF


def _fold_of(record_id: str, folds: int) -> int:
    digest = hashlib.sha256(("claimx-fold:" + record_id).encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % folds


def out_of_fold(extractor: Extractor, records: Sequence[GoldRecord], folds: int = 5, *,
                fit: Fit | None = None) -> OutOfFold:
    """Fit on all folds but one, score the one left out, K times (see the module docstring).

    ``fit`` is :func:`fit_calibration` (the default) or :func:`fit_curve`. Fitted priors
    also settle which type keeps a clause (``one_type_per_clause``), so the sentence-level
    score is reported out of fold too. ``extractor`` runs as ``fit`` wants it:
    uncalibrated for :func:`fit_calibration`, with the pack's priors for :func:`fit_curve`.
    """
    fit = fit or fit_calibration
    if folds < 2:
        raise ValueError("out-of-fold scoring needs at least 2 folds")
    pairs: list[tuple[float, bool]] = []
    micro = PRF()
    for fold in range(folds):
        train = [r for r in records if _fold_of(r.id, folds) != fold]
        test = [r for r in records if _fold_of(r.id, folds) == fold]
        if not train or not test:
            continue
        report = evaluate(calibrated(extractor, fit(extractor, train)), test)
        pairs.extend((confidence, correct) for confidence, correct, _ in report.calibration_pairs)
        micro = micro + report.sentence_micro
    return OutOfFold(folds=folds, claims=len(pairs), ece=expected_calibration_error(pairs),
                     sentence_micro=micro)


def write_calibration(fitted: FittedCalibration, path: str | os.PathLike[str], *,
                      method: str | None = None,
                      written_by: str = "claimx eval --fit-calibration") -> None:
    """Write the fitted calibration as YAML (atomically: temp file, then rename).
    ``method`` describes the fit (default: the gold fit of :func:`fit_calibration`)."""
    target = Path(path)
    document = {
        "method": method or ("per-rule priors (precision smoothed with "
                             f"{PRIOR_WEIGHT:g} pseudo-observations) + isotonic regression "
                             "(PAV)"),
        "fitted": datetime.date.today().isoformat(),
        "claims": fitted.claims,
        "priors": dict(sorted(fitted.priors.items())),
        "points": [list(p) for p in fitted.points],
    }
    temp = target.with_name(f".{target.name}.tmp")
    temp.write_text(f"# Written by `{written_by}`; see docs/quality.md.\n"
                    + yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    os.replace(temp, target)
