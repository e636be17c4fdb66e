"""Core values of claimx: frozen, slotted attrs classes shared by every pipeline stage.

Every offset in these values is a code-point offset into the caller's **original** text
(end exclusive), never into the normalised text the rules matched on.
"""

from __future__ import annotations

import enum
from typing import Any

import attrs

__all__ = [
    "CLAIM_TYPES",
    "Claim",
    "ClaimType",
    "Evidence",
    "Modality",
    "Polarity",
    "Sentiment",
    "SentimentLabel",
    "Span",
]


class _StrEnum(str, enum.Enum):
    """A ``str``-valued enum (``enum.StrEnum`` needs Python 3.11; we support 3.10)."""

    def __str__(self) -> str:
        return str(self.value)


class ClaimType(_StrEnum):
    """The four claim types of the annotation guidelines. Packs may declare more, as plain str."""

    STRATEGIC_INTENT = "strategic_intent"
    ADVANTAGE = "advantage"
    RISK = "risk"
    INDUSTRY_IMPACT = "industry_impact"


CLAIM_TYPES: tuple[str, ...] = tuple(t.value for t in ClaimType)


class Polarity(_StrEnum):
    """How the claim reads for its subject."""

    POSITIVE = "positive"
    NEGATIVE = "negative"
    NEUTRAL = "neutral"
    MIXED = "mixed"


class Modality(_StrEnum):
    """How firmly the claim is put forward."""

    ASSERTED = "asserted"
    HEDGED = "hedged"
    NEGATED = "negated"
    QUESTION = "question"


class SentimentLabel(_StrEnum):
    """Sentence-level sentiment label."""

    POSITIVE = "positive"
    NEGATIVE = "negative"
    NEUTRAL = "neutral"


def _to_polarity(value: Any) -> Polarity:
    # A member passes through without Enum's lookup (the pipeline always passes members).
    return value if type(value) is Polarity else Polarity(value)


def _to_modality(value: Any) -> Modality:
    return value if type(value) is Modality else Modality(value)


def _non_negative(instance: Any, attribute: attrs.Attribute, value: int) -> None:
    if value < 0:
        raise ValueError(f"{attribute.name} must be >= 0, got {value!r}")


def _end_not_before_start(instance: Any, attribute: attrs.Attribute, value: int) -> None:
    if value < instance.start:
        raise ValueError(f"end ({value}) must not be before start ({instance.start})")


@attrs.frozen(slots=True)
class Span:
    """A stretch of the original text: ``original[start:end] == text``.

    ``label`` says what the span is evidence of: a rule id for a cue, a modifier category
    (``negation``, ``hedge`` …) for a modifier.
    """

    start: int = attrs.field(validator=_non_negative)
    end: int = attrs.field(validator=_end_not_before_start)
    text: str
    label: str = ""
    rule: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {"start": self.start, "end": self.end, "text": self.text,
                "label": self.label, "rule": self.rule}


@attrs.frozen(slots=True)
class Evidence:
    """Why a claim was made: the cues that fired, the modifiers that touched them, and how
    the confidence was reached (``confidence_steps`` holds human-readable steps)."""

    cues: tuple[Span, ...] = ()
    modifiers: tuple[Span, ...] = ()
    confidence_steps: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {"cues": [c.to_dict() for c in self.cues],
                "modifiers": [m.to_dict() for m in self.modifiers],
                "confidence_steps": list(self.confidence_steps)}


def _unit_interval(instance: Any, attribute: attrs.Attribute, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{attribute.name} must be in [0, 1], got {value!r}")


@attrs.frozen(slots=True)
class Claim:
    """One typed claim found in a text.

    ``text == original[start:end]`` always holds, where ``original`` is the string that was
    passed to :func:`claimx.extract`.

    >>> c = claimx.extract("公司计划明年进军海外市场。")[0]   # doctest: +SKIP
    >>> (c.type, c.modality)                                  # doctest: +SKIP
    ('strategic_intent', 'asserted')
    """

    type: str
    start: int = attrs.field(validator=_non_negative)
    end: int = attrs.field(validator=_end_not_before_start)
    text: str
    polarity: Polarity = attrs.field(converter=_to_polarity)
    modality: Modality = attrs.field(converter=_to_modality)
    subject: str | None
    confidence: float = attrs.field(validator=_unit_interval)
    rules: tuple[str, ...] = ()
    evidence: Evidence = attrs.field(factory=Evidence)

    def to_dict(self, *, with_evidence: bool = False) -> dict[str, Any]:
        """Plain-JSON form with the field names of the gold format."""
        out: dict[str, Any] = {
            "type": str(self.type), "start": self.start, "end": self.end, "text": self.text,
            "polarity": self.polarity.value, "modality": self.modality.value,
            "subject": self.subject, "confidence": round(self.confidence, 4),
            "rules": list(self.rules),
        }
        if with_evidence:
            out["evidence"] = self.evidence.to_dict()
        return out


@attrs.frozen(slots=True)
class Sentiment:
    """Sentence- or document-level sentiment: a label, a score in [-1, 1] and its evidence."""

    label: SentimentLabel = attrs.field(converter=SentimentLabel)
    score: float = attrs.field()
    evidence: tuple[Span, ...] = ()

    @score.validator
    def _check_score(self, attribute: attrs.Attribute, value: float) -> None:
        if not -1.0 <= value <= 1.0:
            raise ValueError(f"score must be in [-1, 1], got {value!r}")

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {"label": self.label.value, "score": round(self.score, 4),
                "evidence": [e.to_dict() for e in self.evidence]}
