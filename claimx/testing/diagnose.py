"""Why a rule did not fire on a text: the reason a failing ``match`` example (CX130) gives.

:func:`why_missed` replays what the pipeline did with the text and names the first step at
which the rule dropped out, in the pipeline's order:

1. its words are not in the text (no cue, no anchor, a step of a sequence missing);
2. they are, but inside an exception or a pseudo-cue (which one);
3. the pattern does not match, or matches only where ``match_at`` does not try it;
4. it matched, but a context word cancelled the hit: a ``veto`` or ``veto_always`` word,
   a missing ``requires`` word, a ``not_after`` or ``not_before`` word, or it opened its
   clause (``not_clause_initial``) — the field the assembly stage reports, with the word;
5. it matched, but another rule's claim type took the clause (one type per clause);
6. a modifier: its reach ends before any claim cue, or the claim there is of a type its
   ``allowed_types`` leave out.

The messages quote text after normalisation (simplified script, half-width punctuation),
which is what rules see.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from claimx.packs import (
    LexiconRule,
    ModifierRule,
    PatternRule,
    Rule,
    SentimentRule,
    SequenceRule,
    TokenRule,
)

__all__ = ["cancel_reason", "why_missed"]

#: How many of a rule's words a message lists before "…".
_SHOWN = 5


def _some(words: Sequence[str]) -> str:
    shown = ", ".join(words[:_SHOWN])
    return shown + (", …" if len(words) > _SHOWN else "")


def _holding(words: Sequence[str], text: str) -> list[str]:
    return [w for w in words if w and w in text]


def _inside(word: str, containers: Sequence[str], text: str) -> str | None:
    """A container word (exception, pseudo-cue) in ``text`` that holds every occurrence
    of ``word``, if one does."""
    for container in containers:
        if word in container and container in text:
            spans = [(m.start(), m.start() + len(container))
                     for m in re.finditer(re.escape(container), text)]
            if all(any(s <= m.start() and m.start() + len(word) <= e for s, e in spans)
                   for m in re.finditer(re.escape(word), text)):
                return container
    return None


def why_missed(extractor: Any, rule: Rule, text: str) -> str:
    """Why ``rule`` made no claim (or, for a modifier, touched none; for a sentiment rule,
    scored nothing) in ``text``, run with ``extractor``'s packs."""
    analysis = extractor.analyze(text)
    norm = analysis.normalized.text
    if isinstance(rule, ModifierRule):
        return _modifier_reason(rule, analysis, norm)
    if isinstance(rule, SentimentRule):
        found = _holding(rule.cues, norm)
        if not found:
            return f"none of its cues ({_some(rule.cues)}) occurs in the text"
        held = _inside(found[0], rule.exceptions, norm)
        if held:
            return f"its cue '{found[0]}' stands inside the exception '{held}'"
        return f"its cue '{found[0]}' is there, but the sentence's sentiment does not use it"
    hits = [h for h in analysis.matches.claim_cues if h.rule.id == rule.id]
    if not hits:
        return _no_hit_reason(rule, norm, extractor)
    cancelled = {id(h): reason for h, reason in analysis.cancelled}
    for hit in hits:
        reason = cancelled.get(id(hit))
        if reason is not None and reason != "one_type_per_clause":
            return (f"it matched {{{norm[hit.start:hit.end]}}}, but "
                    + cancel_reason(hit, reason, norm, analysis.sentences))
    hit = hits[0]
    start, end = analysis.normalized.to_original(hit.start, hit.end)
    taking = [c for c in analysis.claims if c.start < end and start < c.end]
    if taking:
        claim = taking[0]
        return (f"it matched {{{norm[hit.start:hit.end]}}}, but the clause went to "
                f"{claim.type} ({'+'.join(claim.rules)}): another rule's claim type took the "
                f"span (a clause carries one claim type)")
    return f"it matched {{{norm[hit.start:hit.end]}}}, but no claim was made from it"


def _no_hit_reason(rule: Rule, norm: str, extractor: Any) -> str:
    if isinstance(rule, LexiconRule):
        found = _holding(rule.cues, norm)
        if not found:
            return f"none of its cues ({_some(rule.cues)}) occurs in the text"
        held = _inside(found[0], rule.exceptions, norm)
        if held:
            return f"its cue '{found[0]}' stands inside the exception '{held}'"
        if rule.context:
            return (f"its cue '{found[0]}' has no context word ({_some(rule.context)}) in "
                    f"its clause")
        return f"its cue '{found[0]}' is there but did not count"
    if isinstance(rule, SequenceRule):
        best: tuple[int, int, tuple[tuple[str, ...], ...]] | None = None
        for index, steps in enumerate(rule.sequences):
            present = sum(bool(_holding(step, norm)) for step in steps)
            if best is None or present > best[0]:
                best = (present, index, steps)
        assert best is not None
        present, index, steps = best
        which = f" of sequence {index + 1}" if len(rule.sequences) > 1 else ""
        for number, step in enumerate(steps, start=1):
            if not _holding(step, norm):
                return f"step {number}{which} ({_some(step)}) has no word in the text"
        exceptions = _holding(rule.exceptions, norm)
        if exceptions:
            return (f"its steps occur, but the match would overlap the exception "
                    f"'{exceptions[0]}'")
        gaps = ", ".join(str(g) for g in rule.max_gap)
        return (f"its steps{which} occur, but not in order within {gaps} characters of each "
                f"other in one clause")
    if isinstance(rule, (PatternRule, TokenRule)):
        if rule.anchors and not _holding(rule.anchors, norm):
            tried = ("pattern was" if isinstance(rule, PatternRule) else "token patterns were")
            return (f"none of its anchors ({_some(rule.anchors)}) occurs in the text, so the "
                    f"{tried} not tried")
        if isinstance(rule, TokenRule):
            return "its token patterns do not match the segmented words"
        if rule.pattern is None:
            return "its pattern did not compile"
        try:
            found = rule.pattern.search(norm, timeout=extractor.regex_timeout)
        except TimeoutError:
            return "its pattern ran past its timeout on the text"
        if found is None:
            return f"the pattern does not match (/{rule.pattern_text}/)"
        exceptions = [w for w in rule.exceptions if w in norm]
        if exceptions:
            return f"the pattern matches {{{found.group()}}}, but it overlaps the exception " \
                   f"'{exceptions[0]}'"
        if rule.match_at != "anywhere":
            return (f"the pattern matches {{{found.group()}}}, but not where "
                    f"`match_at: {rule.match_at}` tries it"
                    + (f" (within {rule.lead} characters of a clause start)"
                       if rule.lead is not None else ""))
        return f"the pattern matches {{{found.group()}}} only across a sentence boundary"
    return "it did not match"


def cancel_reason(hit: Any, reason: str, norm: str, sentences: Sequence[Any]) -> str:
    """Why a claim cue yields no claim, said for a pack author: ``reason`` is the rule field
    that cancelled ``hit`` as the assembly stage reports it (``Analysis.cancelled``), and
    the word of that field found in the (normalised) text is quoted."""
    from claimx.assemble import NOT_AFTER_WINDOW, NOT_BEFORE_WINDOW, _clause_index

    rule = hit.rule
    index = next((i for i, s in enumerate(sentences) if s.start <= hit.start < s.end), None)
    if index is None:
        return reason
    sentence = sentences[index]
    said = norm[sentence.start:sentence.end]

    def quoted(words: Sequence[str], where: str) -> str:
        return ", ".join(f"'{w}'" for w in _holding(list(dict.fromkeys(words)), where)[:3])

    clause = sentence.clauses[_clause_index(sentence, hit.start)] if sentence.clauses else sentence
    if reason == "veto":
        unless = " (and none of its veto_unless words)" if rule.veto_unless else ""
        if getattr(rule, "veto_scope", "sentence") == "clause":
            own = norm[clause.start:max(clause.end, hit.end)]
            return f"the veto word {quoted(rule.veto, own)} is in its clause{unless}"
        if _holding(rule.veto, said):
            return f"the veto word {quoted(rule.veto, said)} is in the sentence{unless}"
        previous = sentences[index - 1] if index else sentence
        before = norm[previous.start:previous.end]
        return (f"the veto word {quoted(rule.veto, before)} is in the sentence before"
                f"{unless}")
    if reason == "veto_always":
        return f"the veto_always word {quoted(rule.veto_always, said)} is in the sentence"
    if reason == "requires":
        return f"none of its requires words ({_some(rule.requires)}) is in the sentence"
    if reason == "not_clause_initial":
        return "it opens its clause (not_clause_initial)"
    if reason == "one_type_per_clause":
        return ("its clause went to a cue of another claim type (a clause carries one claim "
                "type: the one whose cue ends its predicate)")
    if reason == "scene_clause":
        return ("its clause only sets the scene for the next one (the pack's "
                "scene_clauses: 当…时, 在…之后), so it states no claim of its own")
    if reason == "not_after":
        before = norm[max(clause.start, hit.start - NOT_AFTER_WINDOW):hit.start]
        return f"{quoted(rule.not_after, before)} stands just before it (not_after)"
    if reason == "not_before":
        after = norm[hit.end:min(max(clause.end, hit.end), hit.end + NOT_BEFORE_WINDOW)]
        return f"{quoted(rule.not_before, after)} follows it closely (not_before)"
    return reason


def _modifier_reason(rule: ModifierRule, analysis: Any, norm: str) -> str:
    found = _holding(rule.cues, norm)
    if not found:
        return f"none of its cues ({_some(rule.cues)}) occurs in the text"
    held = _inside(found[0], rule.pseudo, norm)
    own = [s for s in analysis.scopes if s.hit.rule.id == rule.id]
    if not own:
        if held:
            return f"its cue '{found[0]}' stands inside the pseudo-cue '{held}'"
        return f"its cue '{found[0]}' is there, but in no sentence that holds a claim"
    if not analysis.claims:
        return (f"its cue '{found[0]}' is there, but the text holds no claim for it to "
                f"change")
    if rule.allowed_types and not any(c.type in rule.allowed_types for c in analysis.claims):
        types = ", ".join(sorted({str(c.type) for c in analysis.claims}))
        return (f"its allowed_types ({', '.join(rule.allowed_types)}) leave out the claims "
                f"here ({types})")
    scope = own[0]
    reach = norm[scope.start:scope.end]
    return (f"its cue '{norm[scope.hit.start:scope.hit.end]}' reaches only {{{reach}}} "
            f"({rule.direction}, {rule.scope}"
            + (f", max_scope {rule.max_scope}" if rule.max_scope is not None else "")
            + "), and no claim cue stands there")
