"""Sentence and document sentiment from the packs' sentiment lexicons, the modifiers and the
claims found in the same text.

Each sentiment word adds its weight (+ for positive, - for negative); then

* a negation reaching the word turns it over (``并未下滑``) at ``negation_factor`` strength
  (once: nested negators of one category, 并不 and its 不, are one modifier),
* a modifier of one of the pack's ``sentiment_reversal_categories`` reaching it turns it
  over at full strength (成本|上涨: a rise in a quantity that is bad news),
* an intensity word reaching it multiplies it by that modifier's weight (``大幅``),
* inside a sentence with a contrast word (但, 然而, 不过), words before the contrast count
  ``contrast_before`` and after it ``contrast_after`` times,
* each claim adds the pack's ``sentiment_claim_weights`` for its type, signed by its polarity.

The sum ``s`` is squashed to ``score = s / (|s| + sentiment_softness)`` in (-1, 1); the label
is positive above ``sentiment_threshold``, negative below its negative, neutral between.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import Any

from claimx.match import MatchResult
from claimx.modifiers import ModifierScope, modifiers_for
from claimx.normalize import NormalizedText
from claimx.segment import Sentence
from claimx.types import Claim, Polarity, Sentiment, SentimentLabel, Span

__all__ = ["score_sentiment"]

_SIGN = {Polarity.POSITIVE: 1.0, Polarity.NEGATIVE: -1.0}


def score_sentiment(doc: NormalizedText, sentences: Sequence[Sentence], result: MatchResult,
                    all_scopes: Sequence[ModifierScope], claims: Sequence[Claim],
                    settings: dict[str, Any]) -> Sentiment:
    """Score one text; see the module docstring for the formula."""
    negation_factor = float(settings.get("negation_factor", 0.8))
    before = float(settings.get("contrast_before", 0.5))
    after = float(settings.get("contrast_after", 1.5))
    claim_weights: dict[str, float] = settings.get("sentiment_claim_weights", {}) or {}
    softness = float(settings.get("sentiment_softness", 1.0))
    threshold = float(settings.get("sentiment_threshold", 0.2))
    reversing = frozenset(settings.get("sentiment_reversal_categories", ()) or ())

    contrast_positions = sorted(m.hit.start for m in all_scopes if m.category == "contrast")
    starts = [s.start for s in sentences]
    scope_hits = [m.hit.start for m in all_scopes]  # sorted, like the modifier hits
    total = 0.0
    evidence: list[Span] = []
    for hit in result.sentiment:
        weight = hit.rule.weight * _SIGN.get(hit.rule.polarity, 0.0)
        if not weight:
            continue
        # Only the modifiers of the word's own sentence can reach it; looking them up by
        # sentence keeps long documents linear.
        si = bisect.bisect_right(starts, hit.start) - 1
        if si >= 0:
            lo = bisect.bisect_left(scope_hits, sentences[si].start)
            hi = bisect.bisect_left(scope_hits, sentences[si].end)
            nearby = all_scopes[lo:hi]
        else:
            nearby = ()
        applied: list[ModifierScope] = []
        for scope in modifiers_for(hit.start, hit.end, nearby):
            if any(other.category == scope.category and other.hit.start < scope.hit.end
                   and scope.hit.start < other.hit.end for other in applied):
                continue  # 并不 and the 不 inside it are one negator, not a double negation
            applied.append(scope)
            if scope.category == "negation":
                weight = -weight * negation_factor
            elif scope.category == "intensity":
                weight *= scope.hit.rule.weight
            elif scope.category in reversing:
                weight = -weight
        if si >= 0 and contrast_positions:
            sentence = sentences[si]
            k = bisect.bisect_left(contrast_positions, sentence.start)
            # The sentence's first contrast word (bisect, not a scan: stays linear).
            if k < len(contrast_positions) and contrast_positions[k] < sentence.end:
                weight *= after if hit.start > contrast_positions[k] else before
        total += weight
        o_start, o_end = doc.to_original(hit.start, hit.end)
        evidence.append(Span(o_start, o_end, doc.original[o_start:o_end],
                             "positive" if weight > 0 else "negative", hit.rule.id))
    for claim in claims:
        weight = float(claim_weights.get(str(claim.type), 0.0))
        sign = _SIGN.get(claim.polarity, 0.0)
        total += weight * sign * claim.confidence
    score = total / (abs(total) + softness) if total else 0.0
    if score > threshold:
        label = SentimentLabel.POSITIVE
    elif score < -threshold:
        label = SentimentLabel.NEGATIVE
    else:
        label = SentimentLabel.NEUTRAL
    return Sentiment(label=label, score=max(-1.0, min(1.0, score)), evidence=tuple(evidence))
