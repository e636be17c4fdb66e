"""Modifier stage: ConText-style scopes for negation, hedging, intensity, contrast and
questions, and for the categories a pack declares itself (``target_past`` …), which label
the claims they reach. A modifier with ``allowed_types`` reaches only claims of those types
(the assembly stage applies that).

A modifier cue reaches forward, backward or both ways from where it stands, up to the end
of its clause or sentence (``scope``), at most ``max_scope`` characters, and never past one
of its terminators. A claim cue inside that reach is modified — unless the two overlap
(``不确定性`` is a risk cue, not a negated ``确定性``).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

import attrs

from claimx.match import Hit, MatchResult
from claimx.segment import Sentence

__all__ = ["ModifierScope", "scopes", "modifiers_for"]


@attrs.frozen(slots=True)
class ModifierScope:
    """A modifier hit and the normalised range ``[start, end)`` it reaches."""

    hit: Hit
    start: int
    end: int

    @property
    def category(self) -> str:
        """negation, hedge, intensity, contrast, question, or a category the pack declares."""
        return self.hit.rule.category


def _unit(sentence: Sentence, position: int, scope: str) -> tuple[int, int]:
    if scope == "clause":
        clause_starts, clause_ends, _ = sentence.clause_bounds
        for start, end in zip(clause_starts, clause_ends):
            if start <= position < end:
                return start, end
    return sentence.start, sentence.end


def scopes(result: MatchResult, sentences: Sequence[Sentence], *,
           claim_sentences_only: bool = False) -> tuple[ModifierScope, ...]:
    """Compute the reach of every modifier hit.

    With ``claim_sentences_only`` only the modifiers standing in a sentence that holds a
    claim cue get one: a scope never leaves its sentence, so the others can touch no claim
    (the pipeline asks for this when no sentiment is scored; most modifier words of a news
    article stand in sentences without a cue, and their clauses need not be split).
    """
    starts = [s.start for s in sentences]
    wanted: set[int] | None = None
    if claim_sentences_only:
        wanted = {bisect.bisect_right(starts, hit.start) - 1 for hit in result.claim_cues}
    out: list[ModifierScope] = []
    for hit in result.modifiers:
        si = bisect.bisect_right(starts, hit.start) - 1
        if si < 0 or hit.start >= sentences[si].end or (wanted is not None and si not in wanted):
            continue
        rule = hit.rule
        unit_start, unit_end = _unit(sentences[si], hit.start, rule.scope)
        terms = result.terminators.get(rule.id, ())
        lo, hi = hit.start, hit.end
        if rule.direction in ("forward", "both"):
            hi = unit_end
            if rule.max_scope is not None:
                hi = min(hi, hit.end + rule.max_scope)
            k = bisect.bisect_left(terms, hit.end)
            if k < len(terms) and terms[k] < hi:
                hi = terms[k]
        if rule.direction in ("backward", "both"):
            lo = unit_start
            if rule.max_scope is not None:
                lo = max(lo, hit.start - rule.max_scope)
            k = bisect.bisect_left(terms, hit.start) - 1
            if k >= 0 and terms[k] >= lo:
                lo = terms[k] + 1
        out.append(ModifierScope(hit, min(lo, hit.start), max(hi, hit.end)))
    return tuple(out)


def modifiers_for(start: int, end: int, all_scopes: Sequence[ModifierScope],
                  gaps: Sequence[tuple[int, int]] = ()) -> list[ModifierScope]:
    """The modifiers whose reach touches the cue ``[start, end)`` without their word
    overlapping it, or whose word lies in one of the cue's ``gaps`` (the text between a
    sequence rule's steps: 营收|并未|下滑 is a negated fall)."""
    found = []
    for scope in all_scopes:
        if scope.start >= end or scope.end <= start:
            continue
        word_start, word_end = scope.hit.start, scope.hit.end
        if word_start < end and start < word_end and not any(
                gap_start <= word_start and word_end <= gap_end for gap_start, gap_end in gaps):
            continue  # the modifier word is part of the cue itself
        found.append(scope)
    return found
