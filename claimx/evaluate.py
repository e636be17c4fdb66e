"""Scoring an extractor against gold files in the format of the annotation guidelines.

* **sentence level** (primary): for each record, the *set* of claim types present; precision,
  recall and F1 per type and micro-averaged;
* **span level**: a predicted claim matches a gold claim of the same type when their spans
  overlap by at least half of the shorter one (one-to-one, greedy by overlap); precision,
  recall, F1, and polarity / modality accuracy over matched pairs;
* **calibration**: expected calibration error of ``confidence`` over 10 equal-width bins,
  a predicted claim counting as correct when it matches a gold claim;
* **per rule**: claims each rule took part in, and their precision;
* **sentiment**: accuracy and macro-F1 over positive / negative / neutral.

A gold file can be split in two by :func:`holdout_part`, a hash of each record's id: a
*read* part (about 70%) that rule authors look at, and a *scored* part that they only
score. The gap between the two is how much the rules fit the sentences they were written
against rather than the language.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import attrs

from claimx.normalize import normalize
from claimx.packs import ClaimRule
from claimx.pipeline import Extractor
from claimx.types import Claim

__all__ = [
    "EvalReport",
    "GoldClaim",
    "GoldRecord",
    "PRF",
    "SentimentReport",
    "evaluate",
    "evaluate_sentiment",
    "holdout_part",
    "load_gold",
    "match_spans",
    "overlaps_enough",
]


@attrs.frozen(slots=True)
class GoldClaim:
    """One gold claim of a record."""

    type: str
    start: int
    end: int
    polarity: str = ""
    modality: str = ""
    subject: str | None = None


@attrs.frozen(slots=True)
class GoldRecord:
    """One gold record: an id, the text, and its gold claims (possibly none)."""

    id: str
    text: str
    claims: tuple[GoldClaim, ...] = ()
    polarity: str | None = None  # sentiment gold files carry a record-level polarity


def load_gold(path: str | Path) -> list[GoldRecord]:
    """Read a JSON Lines gold file (claims or sentiment). Raises ValueError naming the line
    of a malformed record."""
    records: list[GoldRecord] = []
    with open(path, encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                claims = tuple(
                    GoldClaim(str(c["type"]), int(c["start"]), int(c["end"]),
                              str(c.get("polarity", "")), str(c.get("modality", "")),
                              c.get("subject"))
                    for c in raw.get("claims", []) or [])
                records.append(GoldRecord(str(raw.get("id", number)), str(raw["text"]), claims,
                                          raw.get("polarity")))
            except (KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"{path}:{number}: not a gold record ({exc})") from None
    return records


#: Share of records (percent) that :func:`holdout_part` puts in the read part.
READ_SHARE = 70
#: Salt of the split's hash, so it does not coincide with other id-hash splits.
_HOLDOUT_SALT = "claimx-holdout:"


def holdout_part(record_id: str) -> str:
    """``"read"`` or ``"scored"``: the part of a gold file a record belongs to.

    The part is fixed by a SHA-256 hash of the id (about 70% read), so it never depends on
    the order or the size of the file, and a record added later falls into the same part
    on every machine. Rules are written by reading errors on the read part only; the scored
    part measures how well they carry over to text nobody tuned them on.
    """
    digest = hashlib.sha256((_HOLDOUT_SALT + record_id).encode("utf-8")).digest()
    return "read" if int.from_bytes(digest[:4], "big") % 100 < READ_SHARE else "scored"


@attrs.frozen(slots=True)
class PRF:
    """Counts and the precision / recall / F1 they give."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        """tp / (tp + fp); 0 when nothing was predicted."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        """tp / (tp + fn); 0 when there is no gold."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def __add__(self, other: PRF) -> PRF:
        return PRF(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)

    def to_dict(self) -> dict[str, float]:
        """Plain-JSON form."""
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn, "precision": round(self.precision, 4),
                "recall": round(self.recall, 4), "f1": round(self.f1, 4)}


def overlaps_enough(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    """The guidelines' span rule: two spans match when their overlap is at least half of
    the shorter one. Shared by the scorer and by ``claimx test``."""
    overlap = min(a_end, b_end) - max(a_start, b_start)
    shorter = min(a_end - a_start, b_end - b_start)
    return overlap > 0 and 2 * overlap >= shorter


def match_spans(predicted: Sequence[Any], gold: Sequence[Any]) -> list[tuple[int, int]]:
    """One-to-one matching of predicted and gold claims (objects with type/start/end):
    same type, overlap ≥ half of the shorter span; largest overlaps are paired first.
    Returns ``(predicted index, gold index)`` pairs."""
    candidates = []
    for pi, p in enumerate(predicted):
        for gi, g in enumerate(gold):
            if str(p.type) == str(g.type) and overlaps_enough(p.start, p.end, g.start, g.end):
                overlap = min(p.end, g.end) - max(p.start, g.start)
                candidates.append((-overlap, pi, gi))
    candidates.sort()
    used_p: set[int] = set()
    used_g: set[int] = set()
    pairs = []
    for _, pi, gi in candidates:
        if pi not in used_p and gi not in used_g:
            used_p.add(pi)
            used_g.add(gi)
            pairs.append((pi, gi))
    return sorted(pairs)


@attrs.frozen(slots=True)
class EvalReport:
    """Everything ``claimx eval`` prints, as numbers."""

    records: int
    sentence: dict[str, PRF]
    span: dict[str, PRF]
    polarity_accuracy: float
    modality_accuracy: float
    matched: int
    ece: float
    per_rule: dict[str, PRF]
    silent_rules: tuple[str, ...]
    calibration_pairs: tuple[tuple[float, bool, tuple[str, ...]], ...] = ()
    errors: tuple[dict[str, Any], ...] = ()
    subject_accuracy: float = 0.0  # matched pairs whose subjects agree (equal, or one holds the other)

    @property
    def sentence_micro(self) -> PRF:
        """Sentence-level counts summed over types."""
        return sum(self.sentence.values(), PRF())

    @property
    def span_micro(self) -> PRF:
        """Span-level counts summed over types."""
        return sum(self.span.values(), PRF())

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (what ``claimx eval --json`` prints)."""
        return {
            "records": self.records,
            "sentence": {"micro": self.sentence_micro.to_dict(),
                         **{t: v.to_dict() for t, v in sorted(self.sentence.items())}},
            "span": {"micro": self.span_micro.to_dict(),
                     **{t: v.to_dict() for t, v in sorted(self.span.items())}},
            "matched": self.matched,
            "polarity_accuracy": round(self.polarity_accuracy, 4),
            "modality_accuracy": round(self.modality_accuracy, 4),
            "subject_accuracy": round(self.subject_accuracy, 4),
            "ece": round(self.ece, 4),
            "per_rule": {r: {"hits": v.tp + v.fp, "correct": v.tp,
                             "precision": round(v.precision, 4)}
                         for r, v in sorted(self.per_rule.items())},
            "silent_rules": list(self.silent_rules),
        }


def _same_subject(predicted: str | None, gold: str | None) -> bool:
    """Subjects agree when both are empty, or equal, or one contains the other
    (该公司 / 公司, 腾讯控股有限公司 / 腾讯控股), compared as the rules read text
    (normalised: simplified script, half-width, no inline pinyin), so that 比亞迪 written in
    a traditional text agrees with a gold 比亚迪."""
    p, g = (predicted or "").strip(), (gold or "").strip()
    if not p or not g:
        return not p and not g
    if p == g or p in g or g in p:
        return True
    p, g = normalize(p).text.strip(), normalize(g).text.strip()
    return bool(p and g) and (p == g or p in g or g in p)


def expected_calibration_error(pairs: Iterable[tuple[float, bool]], bins: int = 10) -> float:
    """ECE over ``bins`` equal-width confidence bins: Σ (n_b / N) · |accuracy_b − confidence_b|."""
    buckets: dict[int, list[tuple[float, bool]]] = defaultdict(list)
    total = 0
    for confidence, correct in pairs:
        buckets[min(bins - 1, int(confidence * bins))].append((confidence, correct))
        total += 1
    if not total:
        return 0.0
    ece = 0.0
    for items in buckets.values():
        accuracy = sum(c for _, c in items) / len(items)
        mean_conf = sum(p for p, _ in items) / len(items)
        ece += len(items) / total * abs(accuracy - mean_conf)
    return ece


def evaluate(extractor: Extractor, records: Sequence[GoldRecord], *,
             types: Sequence[str] | None = None) -> EvalReport:
    """Score ``extractor`` on gold ``records``. ``types`` limits the claim types scored
    (default: every type seen in gold or predictions)."""
    sentence: dict[str, Counter[str]] = defaultdict(Counter)
    span: dict[str, Counter[str]] = defaultdict(Counter)
    per_rule: dict[str, Counter[str]] = defaultdict(Counter)
    polarity_ok = modality_ok = subject_ok = matched = 0
    pairs_for_ece: list[tuple[float, bool, tuple[str, ...]]] = []
    errors: list[dict[str, Any]] = []
    allowed = set(types) if types else None
    for record in records:
        predicted: list[Claim] = extractor.extract(record.text)
        gold = list(record.claims)
        if allowed is not None:
            predicted = [c for c in predicted if str(c.type) in allowed]
            gold = [g for g in gold if g.type in allowed]
        gold_types = {g.type for g in gold}
        pred_types = {str(c.type) for c in predicted}
        for t in gold_types | pred_types:
            key = "tp" if t in gold_types and t in pred_types else ("fp" if t in pred_types else "fn")
            sentence[t][key] += 1
        pairs = match_spans(predicted, gold)
        matched_p = {p for p, _ in pairs}
        matched_g = {g for _, g in pairs}
        for pi, gi in pairs:
            c, g = predicted[pi], gold[gi]
            span[str(c.type)]["tp"] += 1
            matched += 1
            polarity_ok += c.polarity.value == g.polarity
            modality_ok += c.modality.value == g.modality
            subject_ok += _same_subject(c.subject, g.subject)
            if c.polarity.value != g.polarity or c.modality.value != g.modality:
                errors.append({"id": record.id, "kind": "attribute", "type": str(c.type),
                               "text": c.text, "polarity": [c.polarity.value, g.polarity],
                               "modality": [c.modality.value, g.modality]})
        for pi, c in enumerate(predicted):
            correct = pi in matched_p
            if not correct:
                span[str(c.type)]["fp"] += 1
                errors.append({"id": record.id, "kind": "false_positive", "type": str(c.type),
                               "text": c.text, "rules": list(c.rules)})
            pairs_for_ece.append((c.confidence, correct, tuple(c.rules)))
            for rule in c.rules:
                per_rule[rule]["tp" if correct else "fp"] += 1
        for gi, g in enumerate(gold):
            if gi not in matched_g:
                span[g.type]["fn"] += 1
                errors.append({"id": record.id, "kind": "false_negative", "type": g.type,
                               "text": record.text[g.start:g.end]})
    all_rules = [r.id for pack in extractor.packs for r in pack.rules
                 if isinstance(r, ClaimRule)]
    silent = tuple(r for r in all_rules if r not in per_rule)

    def prf(counter: dict[str, Counter[str]]) -> dict[str, PRF]:
        return {t: PRF(c["tp"], c["fp"], c["fn"]) for t, c in counter.items()}

    return EvalReport(
        records=len(records), sentence=prf(sentence), span=prf(span),
        polarity_accuracy=polarity_ok / matched if matched else 0.0,
        modality_accuracy=modality_ok / matched if matched else 0.0, matched=matched,
        subject_accuracy=subject_ok / matched if matched else 0.0,
        ece=expected_calibration_error((p, c) for p, c, _ in pairs_for_ece),
        per_rule={r: PRF(c["tp"], c["fp"], 0) for r, c in per_rule.items()},
        silent_rules=silent, calibration_pairs=tuple(pairs_for_ece), errors=tuple(errors))


@attrs.frozen(slots=True)
class SentimentReport:
    """Sentiment scores on a polarity gold file."""

    records: int
    accuracy: float
    macro_f1: float
    per_label: dict[str, PRF]
    confusion: dict[str, dict[str, int]]

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {"records": self.records, "accuracy": round(self.accuracy, 4),
                "macro_f1": round(self.macro_f1, 4),
                "per_label": {k: v.to_dict() for k, v in self.per_label.items()},
                "confusion": self.confusion}


SENTIMENT_LABELS = ("positive", "negative", "neutral")


def evaluate_sentiment(extractor: Extractor, records: Sequence[GoldRecord]) -> SentimentReport:
    """Accuracy and macro-F1 (over positive / negative / neutral) of ``extractor.sentiment``."""
    confusion = {g: {p: 0 for p in SENTIMENT_LABELS} for g in SENTIMENT_LABELS}
    correct = 0
    scored = 0
    for record in records:
        if record.polarity not in SENTIMENT_LABELS:
            continue
        predicted = extractor.sentiment(record.text).label.value
        confusion[record.polarity][predicted] += 1
        correct += predicted == record.polarity
        scored += 1
    per_label = {}
    for label in SENTIMENT_LABELS:
        tp = confusion[label][label]
        fp = sum(confusion[g][label] for g in SENTIMENT_LABELS if g != label)
        fn = sum(confusion[label][p] for p in SENTIMENT_LABELS if p != label)
        per_label[label] = PRF(tp, fp, fn)
    macro = sum(v.f1 for v in per_label.values()) / len(per_label)
    return SentimentReport(scored, correct / scored if scored else 0.0, macro, per_label, confusion)
