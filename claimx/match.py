"""Matching stage: every lexicon cue of every loaded pack in one Aho-Corasick automaton,
scanned once per document; pattern rules run per sentence with a timeout, and all the
regular expressions of one document share a time budget (:class:`RegexBudget`).

No word segmentation happens here: cues are matched on characters of the normalised text.
"""

from __future__ import annotations

import bisect
import math
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import ahocorasick_rs

from claimx._deferred_regex import DeferredPattern
from claimx._first_chars import FirstChars
# The data classes live in claimx._match_types and the word searches in
# claimx._word_search (see their docstrings); this module is still where the rest of the
# package and the tests import them from.
from claimx._match_types import (
    _ANCHOR,
    _CONTEXT,
    _CONTEXT_LISTS,
    _CUE,
    _EXCEPTION,
    _MODIFIER,
    _PSEUDO,
    _SENTIMENT,
    _SENTIMENT_EXC,
    _STEP,
    _TERMINATOR,
    CompiledRules,
    Hit,
    MatchResult,
    _one_of_each,
)
from claimx._word_search import (
    _FIRST_SURROGATE,
    _LAST_SURROGATE,
    SHADOWABLE,
    PseudoWords,
    _alternation,
    _scanned_exactly,
    _Search,
    inside_pseudo_word,
)
from claimx.errors import RuleTimeoutError
from claimx.packs import (
    LexiconRule,
    ModifierRule,
    Pack,
    PatternRule,
    Rule,
    SentimentRule,
    SequenceRule,
    TokenRule,
    active_rules,
    merged_calibrations,
    merged_claim_types,
    merged_settings,
)
from claimx.segment import Sentence

__all__ = ["CompiledRules", "Hit", "MatchResult", "RegexBudget", "compile_rules", "match",
           "run_on_own_clock"]

_Result = TypeVar("_Result")

#: What may not stand between two steps of a sequence rule: the end of a clause.
_CLAUSE_BREAKS = frozenset(",，;；:：。！？!?\n—")


def compile_rules(packs: Sequence[Pack]) -> CompiledRules:
    """Build the single automaton over the cue words of all packs.

    Each automaton key maps to the list of ``(role, rule position)`` it plays, so one word
    that is a cue of one rule and an exception of another is still found in one pass. A
    rule's position is its index in ``by_id`` (the rules sorted by id).
    """
    # Packs loaded together: one extended by another counts once, disabled and overridden
    # rules are gone (see packs.active_rules).
    rules: list[Rule] = list(active_rules(packs))
    order = sorted(range(len(rules)), key=lambda i: (rules[i].id, i))
    position_of = {i: k for k, i in enumerate(order)}
    entries: dict[str, list[tuple[int, int]]] = defaultdict(list)

    def add(words: Sequence[str], role: int, index: int) -> None:
        entry = (role, position_of[index])  # one tuple for every word of the list
        for word in words:
            entries[word].append(entry)

    step_users: dict[tuple[str, ...], list[tuple[int, int, int]]] = {}
    for index, rule in enumerate(rules):
        if isinstance(rule, SequenceRule):
            add(rule.exceptions, _EXCEPTION, index)
            for si, steps in enumerate(rule.sequences):
                for ti, step in enumerate(steps):
                    step_users.setdefault(step, []).append((position_of[index], si, ti))
        elif isinstance(rule, LexiconRule):
            add(rule.cues, _CUE, index)
            add(rule.exceptions, _EXCEPTION, index)
            add(rule.context, _CONTEXT, index)
        elif isinstance(rule, (PatternRule, TokenRule)):
            add(rule.anchors, _ANCHOR, index)
            if isinstance(rule, PatternRule):
                add(rule.exceptions, _EXCEPTION, index)
        elif isinstance(rule, ModifierRule):
            add(rule.cues, _MODIFIER, index)
            add(rule.pseudo, _PSEUDO, index)
            add(rule.terminators, _TERMINATOR, index)
        elif isinstance(rule, SentimentRule):
            add(rule.cues, _SENTIMENT, index)
            add(rule.exceptions, _SENTIMENT_EXC, index)
    sequence_steps = tuple(tuple(users) for users in step_users.values())
    key_of = {step: key for key, step in enumerate(step_users)}
    for key, step in enumerate(step_users):
        step_entry = (_STEP, key)
        for word in step:
            entries[word].append(step_entry)
    by_first: dict[int, list[tuple[int, tuple[int, ...]]]] = defaultdict(list)
    for index, rule in enumerate(rules):
        if isinstance(rule, SequenceRule):
            for steps in rule.sequences:
                keys = tuple(key_of[step] for step in steps)
                by_first[keys[0]].append((position_of[index], keys))
    sequence_keys = {first: tuple(found) for first, found in by_first.items()}
    # The context words of the claim rules (veto, requires, not_after …) join the automaton
    # with no role: the matching loop passes over them, and the assembly stage reads from
    # the document's hits which lists occur in a sentence (see CompiledRules.context_masks)
    # instead of searching each list in each sentence it tests. After every other word, so
    # the others keep their indexes.
    context_words: set[str] = set().union(*(getattr(rule, field, ()) for rule in rules
                                             for field in _CONTEXT_LISTS))
    for word in sorted(context_words - entries.keys()):  # sorted: the same automaton each run
        if _scanned_exactly(word):
            entries[word] = []
    # The Rust aho-corasick automaton (ahocorasick_rs): its scan time does not grow with the
    # number of cue words, where pyahocorasick's trie slowed 16x with 20,000 extra Chinese
    # cues (it searches the children of a node one by one, and CJK nodes have many).
    words = [w for w in entries if w]
    automaton = _WordAutomaton(words) if words else None
    roles_of = _one_of_each(tuple(entries[w]) for w in words)
    claim_types: dict[str, Any] = dict(merged_claim_types(packs))
    settings: dict[str, Any] = merged_settings(packs)
    curves = merged_calibrations(packs)
    main_pack = packs[0].name if packs else ""
    calibration = curves[main_pack][0] if main_pack in curves else ()
    # A rule's fitted prior comes from its own pack's calibration: an overriding rule does
    # not take the fitted prior of the rule it replaced.
    priors: dict[str, float] = {}
    for rule in rules:
        fitted = curves.get(rule.pack, ((), {}))[1]
        if rule.id in fitted:
            priors[rule.id] = fitted[rule.id]
    # The rules with a compiled pattern, each with its position in ``rules``.
    patterned = [(i, r) for i, r in enumerate(rules)
                 if isinstance(r, PatternRule) and r.pattern is not None]
    return CompiledRules(
        packs=tuple(packs), automaton=automaton, roles_of=roles_of, rules=tuple(rules),
        pattern_rules=tuple(r for _, r in patterned),
        pattern_indexes=tuple(position_of[i] for i, _ in patterned),
        by_id=tuple(rules[i] for i in order), sequence_steps=sequence_steps,
        sequence_keys=sequence_keys,
        claim_types=claim_types, settings=settings, calibration=calibration, priors=priors,
        main_pack=main_pack,
        calibrations={name: curve for name, (curve, _) in curves.items() if name != main_pack})


class _WordAutomaton:
    """The ``ahocorasick_rs`` automaton over a word list, picklable as that list (the Rust
    object itself does not pickle, and an Extractor may be sent to worker processes)."""

    __slots__ = ("_automaton", "words")

    def __init__(self, words: Sequence[str]) -> None:
        self.words: tuple[str, ...] = tuple(words)
        self._automaton = ahocorasick_rs.AhoCorasick(self.words)

    def __reduce__(self) -> tuple[Any, tuple[tuple[str, ...]]]:
        return (_WordAutomaton, (self.words,))

    def find_all(self, text: str) -> list[tuple[int, int, int]]:
        """Every (word index, start, end) in ``text``, overlaps included, ordered by end
        (the order the automaton meets them in); offsets are code points."""
        try:
            return self._automaton.find_matches_as_indexes(text, overlapping=True)
        except UnicodeEncodeError:
            # Lone surrogates cannot be UTF-8 encoded; normalize() removes them, but match()
            # may be called on any str. U+FFFD has the same length, so offsets stay valid.
            clean = "".join("\ufffd" if _FIRST_SURROGATE <= ch <= _LAST_SURROGATE else ch
                            for ch in text)
            return self._automaton.find_matches_as_indexes(clean, overlapping=True)


class _Cover:
    """Answers "does one of these spans contain ``[start, end)``?" in O(log n).

    Spans sorted by start, plus the running maximum of their ends: among the spans that
    start at or before ``start``, the one reaching furthest decides. A per-hit scan of all
    the spans of a rule would make long documents quadratic (one exception word repeated
    through a 20 MB file).
    """

    __slots__ = ("_reach", "_starts")

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        ordered = sorted(spans)
        self._starts = [s for s, _ in ordered]
        reach: list[int] = []
        furthest = -1
        for _, e in ordered:
            furthest = e if e > furthest else furthest
            reach.append(furthest)
        self._reach = reach

    def covers(self, start: int, end: int) -> bool:
        k = bisect.bisect_right(self._starts, start) - 1
        return k >= 0 and self._reach[k] >= end

    def overlaps(self, start: int, end: int) -> bool:
        """Whether one of the spans shares a character with ``[start, end)``: among those
        starting before ``end``, the one reaching furthest decides."""
        k = bisect.bisect_left(self._starts, end) - 1
        return k >= 0 and self._reach[k] > start


def _covers(spans_of: dict[int, list[tuple[int, int]]]) -> dict[int, _Cover]:
    return {index: _Cover(spans) for index, spans in spans_of.items()}


def _bounds_of(sentences: Sequence[Sentence]) -> list[int]:
    return [s.start for s in sentences]


def _clause_key(sentences: Sequence[Sentence], starts: list[int], position: int) -> tuple[int, int]:
    """(sentence index, clause index) holding ``position``; clause -1 if between clauses."""
    si = bisect.bisect_right(starts, position) - 1
    if si < 0:
        return (-1, -1)
    clause_starts, clause_ends, _ = sentences[si].clause_bounds
    ci = bisect.bisect_right(clause_starts, position) - 1  # clauses are sorted and disjoint
    return (si, ci) if ci >= 0 and position < clause_ends[ci] else (si, -1)


class RegexBudget:
    """The time the regular expressions of one document may take, in all.

    A per-call timeout alone bounds one sentence, not a document: 200 short sentences
    against a catastrophic pattern took 50 s with ``on_rule_timeout="skip"``. The budget is
    ``seconds`` for every ``per_chars`` characters of the document (at least ``seconds``),
    shared by pattern rules and the REGEX of token rules. Each call gets the smaller of
    ``timeout`` and what is left; once nothing is left, ``on_timeout="raise"`` raises and
    ``"skip"`` skips every regular expression still to run on the document.

    The budget bounds the patterns' own work, as ``regex``'s per-call timeout does (it
    counts the calling thread's CPU time): when the wall-clock deadline is reached, the
    time this thread did not run since the budget began (other processes or threads held
    the CPU) is added to it first (:meth:`reclaim`). Otherwise a busy machine ran out the
    budget of ordinary text and ``extract`` raised :class:`~claimx.errors.RuleTimeoutError`
    blaming a pattern that had done nothing wrong. Checking the deadline stays a read of
    the monotonic clock; the thread's CPU clock (a system call) is read only when the
    deadline is reached, and once when the budget begins.

    The clock starts when the document's first regular expression is about to run
    (:meth:`begin`), not when the budget is made: the automaton pass and the sequence rules
    before the patterns are claimx's own work (a 64,000-character window of a huge line
    spent a third of its one second there on a slow machine before any pattern ran).

    ``regex`` itself times a call by the *process* CPU clock, which counts every thread's
    CPU: with other threads matching at once (regex releases the GIL), a call that did a
    tenth of its own work timed out. :meth:`run_again` runs such a call again
    (:func:`run_on_own_clock`).
    """

    __slots__ = ("_began", "_began_cpu", "_reclaimed", "deadline", "on_timeout", "seconds",
                 "timeout")

    def __init__(self, text_length: int, *, timeout: float = 0.25, on_timeout: str = "raise",
                 seconds: float = 1.0, per_chars: int = 100_000) -> None:
        self.timeout = timeout
        self.on_timeout = on_timeout
        self.seconds = seconds * max(1.0, text_length / per_chars)
        self._began = -1.0  # not begun (see begin)
        self._began_cpu = 0.0
        self._reclaimed = 0.0
        self.deadline = math.inf

    def begin(self) -> None:
        """Start the budget's clock, if it has not started: called before the document's
        first regular expression runs."""
        if self._began < 0.0:
            self._began_cpu = time.thread_time()
            self._began = time.monotonic()
            self.deadline = self._began + self.seconds

    def credit(self, seconds: float) -> None:
        """Add ``seconds`` of claimx's own work done inside the budget's time (a rule's
        searches built on first use) to the deadline; nothing before the clock started."""
        if self._began >= 0.0:
            self.deadline += seconds

    def reclaim(self) -> float:
        """Move the deadline on by the wall-clock time this thread has not run since the
        budget began and that no earlier call moved it by; return the seconds added."""
        self.begin()
        lost = ((time.monotonic() - self._began) - (time.thread_time() - self._began_cpu)
                - self._reclaimed)
        if lost <= 0.0:
            return 0.0
        self._reclaimed += lost
        self.deadline += lost
        return lost

    def run_again(self, run: Callable[[float], _Result], timeout: float) -> _Result:
        """``run(t)`` again after a regex call with ``timeout`` timed out, when the time was
        mostly other threads' (:func:`run_on_own_clock`); raises TimeoutError otherwise.

        ``regex`` stopped the call when the process had used ``timeout`` of CPU, so the
        thread's own share of it is at most its CPU time since the budget began over
        ``timeout`` (the document's earlier regex work, small beside a timeout, counts as
        the call's: the estimate errs towards a real timeout). No clock is read before a
        call for it."""
        self.begin()
        own = time.thread_time() - self._began_cpu
        return run_on_own_clock(run, timeout, min(1.0, own / timeout) if timeout > 0 else 1.0)

    def next_timeout(self) -> float:
        """The timeout for the next regex call; 0 when the budget is spent."""
        self.begin()
        left = self.deadline - time.monotonic()
        if left < self.timeout:
            self.reclaim()
            left = self.deadline - time.monotonic()
        return max(0.0, min(self.timeout, left))

    def spent(self) -> bool:
        """Is the document's budget used up (by the patterns' own time, see the class)?"""
        self.begin()
        if time.monotonic() < self.deadline:
            return False
        self.reclaim()
        return time.monotonic() >= self.deadline

    def compiled(self, deferred: DeferredPattern) -> Any:
        """``deferred``'s compiled pattern; a first compile's time is added to the deadline.

        A pattern is compiled the first time a text needs it: in a fresh process the first
        long document compiles most of the pack's patterns (a third of a second, more on a
        loaded machine) inside its own budget, and a 64,000-character window of a huge line
        ran out of its one second before its regexes had run much at all. Compiling is
        claimx's own work, not the text's, so it does not count. (Its CPU time is added
        here; wall-clock time lost while compiling is added by :meth:`reclaim`.)"""
        if deferred.ready:
            return deferred.compiled
        began = time.thread_time()
        pattern = deferred.compiled
        self.credit(time.thread_time() - began)
        return pattern


#: A timed-out call is run again while its thread had less than this share of its own
#: timeout in CPU time (see run_on_own_clock).
_OWN_TIME_SHARE = 0.8
#: At most this many runs again, each with a timeout at most this many times the call's.
_MAX_RERUNS = 3
_MAX_STRETCH = 64.0


def run_on_own_clock(run: Callable[[float], _Result], timeout: float, share: float) -> _Result:
    """Run a regex call again that timed out on time that was not its thread's own.

    ``regex`` stops a call once the *process* has used ``timeout`` seconds of CPU since the
    call began, and it releases the GIL while matching: in a process where other threads
    match at once, a call that did a fraction of its own work timed out, and ``extract``
    raised :class:`~claimx.errors.RuleTimeoutError` on a 15-character sentence. ``share`` is
    the thread's share of the process's CPU while the call ran (estimated by
    :meth:`RegexBudget.run_again`).
    While the last run got less than ``_OWN_TIME_SHARE`` of ``timeout`` in the thread's own
    CPU time, ``run(t)`` is called again with ``t`` stretched by that share (so that it gets
    about ``timeout`` of its own), at most ``_MAX_RERUNS`` times; its result is returned.
    Raises :class:`TimeoutError` when a run did use its own ``timeout``: a pattern that
    backtracks still stops, after at most about twice its time."""
    allowed = timeout
    for _ in range(_MAX_RERUNS):
        if share * allowed >= _OWN_TIME_SHARE * timeout:
            break
        allowed = timeout / max(share, 1.0 / _MAX_STRETCH)
        began_thread, began_process = time.thread_time(), time.process_time()
        try:
            return run(allowed)
        except TimeoutError:
            used = time.process_time() - began_process
            share = min(1.0, (time.thread_time() - began_thread) / used) if used > 0.0 else 1.0
    raise TimeoutError


def match(compiled: CompiledRules, text: str, sentences: Sequence[Sentence], *,
          regex_timeout: float = 0.25, on_rule_timeout: str = "raise",
          sentiment: bool = True, budget: RegexBudget | None = None) -> MatchResult:
    """Find every cue, modifier and sentiment word in ``text`` (normalised) in one automaton
    pass, then run the pattern rules on the sentences that hold one of their anchors.

    With ``sentiment=False`` sentiment words are skipped (``MatchResult.sentiment`` is
    empty): claims do not depend on them, and a news article holds about as many sentiment
    words as claim cues and modifiers together. ``budget`` bounds the pattern rules' time
    on the whole text (by default one made from ``regex_timeout`` and ``on_rule_timeout``).
    """
    cue_spans: list[tuple[int, int, int]] = []
    words_found: list[tuple[int, int, int]] | None = None
    modifier_spans: list[tuple[int, int, int]] = []
    sentiment_spans: list[tuple[int, int, int]] = []
    # Plain dicts, not defaultdicts: compiled code reads an exact dict with
    # PyDict_GetItem, a subclass through the generic subscript and a __missing__ lookup
    # (about three times the instructions, a million reads per 1,000 articles).
    exceptions: dict[int, list[tuple[int, int]]] = {}
    pseudo: dict[int, list[tuple[int, int]]] = {}
    sentiment_exc: dict[int, list[tuple[int, int]]] = {}
    context: dict[int, list[int]] = {}
    anchors: dict[int, list[int]] = {}
    terminators: dict[int, list[int]] = {}
    # The automaton's hits (word index, start, end) of each sequence step, kept as the
    # automaton's own tuples (see _longest_first): a step's one hit in the document as
    # the tuple itself, a list from its second on (half of the step keys a document holds
    # have one hit, and a list for each was about 4 % of the instructions of extract).
    steps: dict[Any, Any] = {}
    # One snapshot of the required-word index for the whole document; -1: every list may
    # occur (the text was not scanned).
    required_masks, rule_masks, _ = compiled.required_words_index
    may_occur = -1
    if compiled.automaton is not None and text:
        # The hot loop of the stage: one iteration per automaton hit (about 170 per 1,000
        # characters of news). Bound methods and an if-chain ordered by how often each role
        # occurs in news text (sequence steps, anchors, sentiment, modifiers, cues …) keep
        # it cheap.
        add_cue, add_mod, add_sent = cue_spans.append, modifier_spans.append, sentiment_spans.append
        # Typed for the compiled loop: the rule positions as objects (Any), which the
        # dicts below take as keys as they are, where an int would be unboxed from the
        # tuple and boxed again for every role (1.8 M new int objects per 1,000 articles);
        # the hits as objects too, so that a step records the automaton's tuple itself
        # (a tuple[int, int, int] would be unpacked and rebuilt at each append).
        roles_of: tuple[tuple[tuple[int, Any], ...], ...] = (
            compiled.roles_of if sentiment else compiled.claim_roles_of)
        found_here: list[Any] = compiled.automaton.find_all(text)
        words_found = found_here
        # The required word lists that may occur in the document: the OR of the masks of
        # the words found (see CompiledRules.required_words_index); short ints, ORed in C.
        may_occur = 0
        # A sequence step records the automaton's hit tuple itself: a step word plays four
        # step roles on average (650,000 a pass over the benchmark corpus), and a new
        # (start, end) tuple for each cost more than the rest of the step's work here.
        for hit in found_here:
            word: int = hit[0]
            word_bits = required_masks[word]
            if word_bits:
                may_occur |= word_bits
            for role, index in roles_of[word]:
                if role == _STEP:
                    step_hits = steps.get(index)
                    if step_hits is None:
                        steps[index] = hit
                    elif isinstance(step_hits, list):
                        step_hits.append(hit)
                    else:
                        steps[index] = [step_hits, hit]
                elif role == _ANCHOR:
                    anchor_starts = anchors.get(index)
                    if anchor_starts is None:
                        anchors[index] = [hit[1]]
                    else:
                        anchor_starts.append(hit[1])
                elif role == _SENTIMENT:
                    add_sent((hit[1], hit[2], index))
                elif role == _MODIFIER:
                    add_mod((hit[1], hit[2], index))
                elif role == _CUE:
                    add_cue((hit[1], hit[2], index))
                elif role == _TERMINATOR:
                    terminators.setdefault(index, []).append(hit[1])
                elif role == _PSEUDO:
                    pseudo.setdefault(index, []).append((hit[1], hit[2]))
                elif role == _SENTIMENT_EXC:
                    sentiment_exc.setdefault(index, []).append((hit[1], hit[2]))
                elif role == _EXCEPTION:
                    spans = exceptions.get(index)
                    if spans is None:
                        exceptions[index] = [(hit[1], hit[2])]
                    else:
                        spans.append((hit[1], hit[2]))
                else:
                    context.setdefault(index, []).append(hit[1])
    rules = compiled.by_id
    # Filter and sort (start, end, position) tuples; Hit objects are made only for what
    # survives, already in order.
    if (exceptions or context) and cue_spans:
        starts = _bounds_of(sentences)
        # Only the lexicon rules with a cue here need their exceptions as a cover (pattern
        # and sequence rules test theirs against their own matches, below).
        cued = {index for _, _, index in cue_spans}
        blocked = _covers({i: spans for i, spans in exceptions.items() if i in cued})
        # The clauses holding a context word of each rule, found once per document.
        context_clauses = {index: {_clause_key(sentences, starts, p) for p in positions}
                           for index, positions in context.items()}
        kept: list[tuple[int, int, int]] = []
        for span in cue_spans:
            start, end, index = span
            if index in blocked and blocked[index].covers(start, end):
                continue
            if rules[index].context:  # type: ignore[union-attr]
                if _clause_key(sentences, starts, start) not in context_clauses.get(index, ()):
                    continue
            kept.append(span)
        cue_spans = kept
    elif cue_spans:
        # No exception or context word in the text: only rules with context words drop cues.
        cue_spans = [span for span in cue_spans if not rules[span[2]].context]  # type: ignore[union-attr]
    if pseudo:
        pseudo_cover = _covers(pseudo)
        modifier_spans = [(s, e, i) for s, e, i in modifier_spans
                          if not (i in pseudo_cover and pseudo_cover[i].covers(s, e))]
    if sentiment_exc:
        exc_cover = _covers(sentiment_exc)
        sentiment_spans = [(s, e, i) for s, e, i in sentiment_spans
                           if not (i in exc_cover and exc_cover[i].covers(s, e))]
    # Pattern and sequence matches are tested against their rules' exception words (the
    # covers are built on first need: most documents' chains meet few of those rules).
    overlap: dict[int, _Cover] = {}
    chain_gaps: dict[tuple[int, int, int], tuple[tuple[int, int], ...]] = {}
    if steps:
        chains, chain_gaps = _run_sequences(compiled, text, steps)
        if exceptions and chains:
            chains = [hit for hit in chains if not _holds_exception(hit, exceptions, overlap)]
        cue_spans.extend(chains)
    if anchors or compiled.unanchored_patterns:
        if budget is None:
            budget = RegexBudget(len(text), timeout=regex_timeout, on_timeout=on_rule_timeout)
        found = _run_patterns(compiled, text, sentences, anchors, budget, rule_masks,
                              may_occur)
        if exceptions and found:
            found = [hit for hit in found if not _holds_exception(hit, exceptions, overlap)]
        cue_spans.extend(found)
    cue_spans.sort()
    modifier_spans.sort()
    sentiment_spans.sort()
    return MatchResult(
        claim_cues=tuple([Hit(s, e, rules[i]) for s, e, i in cue_spans] if not chain_gaps
                         else [Hit(s, e, rules[i], chain_gaps.get((s, e, i), ()))
                               for s, e, i in cue_spans]),
        modifiers=tuple([Hit(s, e, rules[i]) for s, e, i in modifier_spans]),
        sentiment=tuple([Hit(s, e, rules[i]) for s, e, i in sentiment_spans]),
        terminators={rules[i].id: tuple(sorted(p)) for i, p in terminators.items()},
        token_anchors=({rules[i].id: tuple(sorted(p)) for i, p in anchors.items()
                        if i in compiled.token_rule_positions}
                       if compiled.token_rule_positions else {}),
        words_found=words_found)


def _run_sequences(compiled: CompiledRules, text: str, steps: dict[Any, Any]
                   ) -> tuple[list[tuple[int, int, int]],
                              dict[tuple[int, int, int], tuple[tuple[int, int], ...]]]:
    """Hits of the sequence rules from the automaton hits ``(word index, start, end)`` of
    their steps' words in the document (``steps``: by step key).

    For each sequence whose every step occurred, left to right: a word of the first step
    (the longest where several start together), then the nearest word of the next step
    that starts at most ``max_gap`` characters after it with no clause break between, and
    so on; a complete chain is a hit ``(start, end, rule position)``, and the next chain
    starts after it. Returns the hits of all sequence rules, and for each hit with text
    between its steps' words, those gaps (where a modifier word is not part of the cue).
    """
    hits: list[tuple[int, int, int]] = []
    gaps_of: dict[tuple[int, int, int], tuple[tuple[int, int], ...]] = {}
    present = steps.keys()
    plans_of = compiled.sequence_plans
    # Each step key's words as (starts, ends), sorted once however many sequences share it.
    ordered_of: dict[int, tuple[list[int], list[int]]] = {}
    # Only the keys that start a sequence (a set intersection in C). The hits are sorted
    # with the other cues, but this order still counts: where two sequences of one rule
    # chain to the same span, the gaps of the last one are kept (gaps_of).
    for first in present & plans_of.keys():
        for rule_position, keys, later_keys, gaps in plans_of[first]:
            # A step with no word in the document: no chain can complete. (A loop over
            # the later steps' keys, as objects: compiled, a dict lookup each, where
            # ``present >= frozenset(keys)`` went through the generic comparison of a
            # view, about 190 instructions, 230,000 times per 1,000 articles.)
            complete = True
            for key in later_keys:
                if key not in steps:
                    complete = False
                    break
            if not complete:
                continue
            ordered = []
            for key in keys:
                spans = ordered_of.get(key)
                if spans is None:
                    spans = ordered_of[key] = _longest_first(steps[key])
                ordered.append(spans)
            later = list(zip(ordered[1:], gaps))
            reached = -1
            for start, end in zip(*ordered[0]):
                if start < reached:
                    continue
                chain_end = end
                # The gaps crossed between steps (the plan's limits are `gaps`).
                crossed: list[tuple[int, int]] = []
                for (step_starts, step_ends), gap in later:
                    # The first word of the next step starting at or after the chain's end:
                    # it must start within the gap, with no clause break before it.
                    k = bisect.bisect_left(step_starts, chain_end)
                    if k == len(step_starts):
                        chain_end = -1
                        break
                    step_start = step_starts[k]
                    if (step_start - chain_end > gap
                            or not _CLAUSE_BREAKS.isdisjoint(text[chain_end:step_start])):
                        chain_end = -1
                        break
                    if step_start > chain_end:
                        # Only what follows the gap's last 的 bears on the next step: a
                        # negator before it sits in an attributive clause (存在|对方不
                        # 继续采购的|风险 is no negated risk).
                        crossed.append((text.rfind("的", chain_end, step_start) + 1 or chain_end,
                                     step_start))
                    chain_end = step_ends[k]
                if chain_end >= 0:
                    hits.append((start, chain_end, rule_position))
                    if crossed:
                        gaps_of[(start, chain_end, rule_position)] = tuple(crossed)
                    reached = chain_end
    return hits, gaps_of


def _longest_first(hits: Any) -> tuple[list[int], list[int]]:
    """Starts and ends of automaton ``hits`` ``(word index, start, end)`` by start, only the
    longest of those that start together (市场份额, not 市场); ``hits`` is a list of them,
    or one hit alone (see the steps of :func:`match`)."""
    if not isinstance(hits, list):  # the common case: one word of the step in the document
        return [hits[1]], [hits[2]]
    # Sorted, the longest of the spans that start together comes last, and a dict keeps
    # the last value of each key.
    longest = dict(sorted([(start, end) for _, start, end in hits]))
    return list(longest), list(longest.values())


def _holds_exception(hit: tuple[int, int, int], exceptions: dict[int, list[tuple[int, int]]],
                     covers: dict[int, _Cover]) -> bool:
    """Whether a pattern match ``(start, end, rule position)`` overlaps one of its rule's
    exception words: inside it (规模以上 in a match over 规模) or across one of its ends
    (资本市场 before a match that starts at 市场). A pattern match is long, so the test is
    wider than a lexicon cue's (the cue inside the exception). O(log n) per match: a
    document repeating one exception word must not make this quadratic. ``covers`` keeps
    the :class:`_Cover` of each rule's exception spans, built the first time it is asked."""
    start, end, index = hit
    cover = covers.get(index)
    if cover is None:
        spans = exceptions.get(index)
        if spans is None:
            return False
        cover = covers[index] = _Cover(spans)
    return cover.overlaps(start, end)


def _run_patterns(compiled: CompiledRules, text: str, sentences: Sequence[Sentence],
                  anchors: dict[int, list[int]], budget: RegexBudget,
                  rule_masks: dict[int, int] | None = None, may_occur: int = -1
                  ) -> list[tuple[int, int, int]]:
    """Run each pattern rule on the sentences holding one of its anchors (all sentences for
    a rule without anchors). Returns ``(start, end, rule position in by_id)`` tuples.

    Only the rules whose anchors occur are visited (most documents hit a few of them), and
    their sentences are found from the anchor hits (a bisect each), not by testing every
    sentence against every rule. Rules run by rule id: the same order in every run.

    ``rule_masks`` and ``may_occur`` come from :attr:`CompiledRules.required_words_index`
    and the document's automaton hits (see :func:`match`): a rule one of whose required
    word lists has no word anywhere in the document is passed over before its sentences
    are looked for (a third of the rules whose anchors occur in a news article, each of
    which cost a bisect and one to three searches of its sentences).
    """
    hits: list[tuple[int, int, int]] = []
    starts: list[int] | None = None
    anchored, groups, checks = (compiled.anchored_patterns, compiled.claim_groups,
                                compiled.first_char_checks)
    required, reach = compiled.required_searches, compiled.match_reach
    guard = compiled.lookahead_guard
    if rule_masks is None:
        rule_masks = {}
    # The rule positions as objects (Any): compiled, the lookups below take them as keys
    # as they are, where an int would be boxed again for each (500,000 new int objects
    # per 1,000 articles).
    ordered: list[Any] = sorted(anchors)
    for index in ordered:
        rule = anchored.get(index)
        if rule is None:
            continue  # the anchor of a token rule
        need = rule_masks.get(index)
        if need is None:
            # The rule's first document in this process: its required-word index and
            # searches and its lookahead guard are built now, for the documents that follow.
            # That is claimx's own work, like compiling a pattern (RegexBudget.compiled):
            # in a fresh process it took a huge line's first window past its budget on a
            # slow machine, so its CPU time is added to the deadline.
            began = time.thread_time()
            compiled.index_required_words(index)  # builds required(index) too
            guard(index)
            budget.credit(time.thread_time() - began)
        elif need & may_occur != need:
            continue  # a required list with no word in the document
        if starts is None:
            starts = [s.start for s in sentences]
        positions = anchors[index]
        if len(positions) == 1:
            # The common case (most of the 30,000 (rule, text) pairs of the benchmark
            # corpus) inline: one anchor, so one sentence, and most often a required word
            # missing from it; spares two calls per pair.
            si = bisect.bisect_right(starts, positions[0]) - 1
            if si < 0 or positions[0] >= sentences[si].end:
                continue
            sentence = sentences[si]
            start, end = sentence.start, sentence.end
            back = reach.get(index)
            if back is not None:
                start = max(start, positions[0] - back)  # no match begins before (match_reach)
            for search in required(index):
                if search(text, start, end) is None:
                    break
            else:
                if not _run_rule(hits, index, rule, groups[index], text,
                                 [(sentence, positions)], budget, checks.get(index),
                                 guard(index)):
                    return hits
            continue
        targets = _anchor_targets(positions, sentences, starts)
        if targets:
            targets = _with_required_words(required(index), text, targets, reach.get(index))
        if targets and not _run_rule(hits, index, rule, groups[index], text, targets, budget,
                                     checks.get(index), guard(index)):
            return hits
    for index, rule in compiled.unanchored_patterns:
        targets = _with_required_words(required(index), text, [(s, []) for s in sentences])
        if targets and not _run_rule(hits, index, rule, groups[index], text, targets, budget,
                                     checks.get(index), guard(index)):
            return hits
    return hits


def _with_required_words(searches: tuple[_Search, ...], text: str,
                         targets: list[tuple[Sentence, list[int]]], back: int | None = None
                         ) -> list[tuple[Sentence, list[int]]]:
    """The ``targets`` whose sentence holds a word of each of a rule's required lists: a
    plain-word search costs a fraction of the ``regex`` call it spares where one fails.
    With ``back`` (from :attr:`CompiledRules.match_reach`), only the part of the sentence
    from ``back`` characters before its first anchor is searched.

    A plain loop: this runs for some 30,000 (rule, document) pairs of the benchmark corpus,
    most with one sentence, where a comprehension over ``all()`` of a generator paid for
    two more frames per sentence."""
    if not searches:
        return targets
    kept = []
    for target in targets:
        sentence, positions = target
        start, end = sentence.start, sentence.end
        if back is not None and positions:
            start = max(start, min(positions) - back)  # no match begins before (match_reach)
        for search in searches:
            if search(text, start, end) is None:
                break
        else:
            kept.append(target)
    return kept


def _anchor_targets(positions: list[int], sentences: Sequence[Sentence], starts: list[int]
                    ) -> list[tuple[Sentence, list[int]]]:
    """The sentences holding one of ``positions``, in order, each with its positions."""
    if len(positions) == 1:  # the common case: one anchor of the rule in the document
        p = positions[0]
        si = bisect.bisect_right(starts, p) - 1
        return [(sentences[si], positions)] if si >= 0 and p < sentences[si].end else []
    chosen: dict[int, list[int]] = {}
    for p in positions:
        si = bisect.bisect_right(starts, p) - 1
        if si >= 0 and p < sentences[si].end:
            chosen.setdefault(si, []).append(p)
    return [(sentences[si], chosen[si]) for si in sorted(chosen)]


def _run_rule(hits: list[tuple[int, int, int]], index: int, rule: PatternRule,
              group: str | None, text: str, targets: list[tuple[Sentence, list[int]]],
              budget: RegexBudget, openers: FirstChars | None = None,
              guard: tuple[_Search, DeferredPattern] | None = None) -> bool:
    """Run one pattern rule on its ``targets`` (sentences with their anchor starts), adding
    its matches to ``hits`` (``group``: the group whose span a match claims, from
    :attr:`CompiledRules.claim_groups`; ``openers``: its first-character check, for a rule
    matched at clause starts; ``guard``: from :meth:`CompiledRules.lookahead_guard`, the
    pattern run instead in a sentence without its lookahead's words). False when the document's regex budget ran out with
    ``on_timeout="skip"`` (no pattern runs on it any more); raises
    :class:`~claimx.errors.RuleTimeoutError` with ``"raise"``."""
    budget.begin()  # the budget's clock starts with the document's first pattern
    pattern = budget.compiled(rule.pattern)  # type: ignore[arg-type]  # compiled rules have one
    # The guard's own pattern is compiled now too, outside the budget (see RegexBudget.compiled).
    guarded = budget.compiled(guard[1]) if guard is not None else None
    match_at, lead = rule.match_at, rule.lead
    # RegexBudget.next_timeout inlined (the same smaller of the per-call timeout and what
    # is left, 0 when nothing is): it runs once per sentence a rule is tried on, and there
    # a method call with min() and max() costs more than the two comparisons.
    per_call, deadline, clock = budget.timeout, budget.deadline, time.monotonic
    for sentence, positions in targets:
        timeout = deadline - clock()
        if timeout >= per_call:
            timeout = per_call
        else:
            # Near the wall-clock deadline: RegexBudget.next_timeout first moves it on by the
            # time other processes held the CPU. The call's own timeout counts its CPU time
            # (regex's), so a wait during the call cannot cut it short.
            timeout = budget.next_timeout()
            deadline = budget.deadline
        chosen = (guarded if guard is not None
                  and guard[0](text, sentence.start, sentence.end) is None else pattern)
        found_before = len(hits)
        try:
            if timeout <= 0:
                timeout = 0.0
                raise TimeoutError
            _match_into(hits, index, chosen, group, match_at, lead, text, sentence,
                        positions, timeout, openers)
        except TimeoutError:
            if timeout > 0 and _rerun_sentence(hits, found_before, index, chosen, group,
                                               match_at, lead, text, sentence, positions,
                                               timeout, openers, budget):
                continue
            if budget.on_timeout == "raise":
                raise RuleTimeoutError(rule.id, str(rule.source), timeout, sentence.start,
                                       budget=budget.seconds if budget.spent() else None
                                       ) from None
            if budget.spent():  # skip: nothing is left for this document's patterns
                return False
    return True


def _rerun_sentence(hits: list[tuple[int, int, int]], found_before: int, index: int,
                    pattern: Any, group: str | None, match_at: str, lead: int | None,
                    text: str, sentence: Sentence, positions: list[int], timeout: float,
                    openers: FirstChars | None, budget: RegexBudget) -> bool:
    """Match one pattern rule in one sentence again after its call timed out on other
    threads' time (:func:`run_on_own_clock`); False when the time was its own. The hits the
    timed-out run added are dropped first, so none is counted twice."""
    def run(allowed: float) -> None:
        del hits[found_before:]
        _match_into(hits, index, pattern, group, match_at, lead, text, sentence, positions,
                    allowed, openers)
    try:
        budget.run_again(run, timeout)
    except TimeoutError:
        return False
    return True


#: A clause starts after one of these (a separator's last character) or after whitespace;
#: ``\s`` is ``str.isspace``, which clause splitting skips (see segment.Sentence).
_CLAUSE_OPENER = re.compile(r"[,，:：;；—\-\s]")


def _match_into(hits: list[tuple[int, int, int]], index: int, pattern: Any, group: str | None,
                match_at: str, lead: int | None, text: str, sentence: Sentence,
                positions: list[int], timeout: float, openers: FirstChars | None = None
                ) -> None:
    """Append to ``hits`` the non-empty matches ``(start, end, index)`` of one pattern rule
    in one sentence (the span of its ``group`` when it has one), left to right and not
    overlapping, as its ``match_at`` says: searched anywhere, or tried only at its anchors'
    starts, or only at the starts of clauses (of the clauses holding one of its anchors,
    when it has anchors: a match at a clause start that held none could not contain one;
    with ``lead``, of those holding one within ``lead`` characters of their start), and
    of those only the ones whose first character passes ``openers``, when given.

    Matches are appended as they are found, so the ones before a timeout are kept."""
    if match_at == "anywhere" or (match_at == "anchors" and not positions):
        for found in pattern.finditer(text, sentence.start, sentence.end, timeout=timeout):
            span = found.span(group) if group else found.span()
            if span[1] > span[0]:
                hits.append((span[0], span[1], index))
        return
    if match_at == "anchors":
        tries: Iterable[int] = sorted(set(positions)) if len(positions) > 1 else positions
    elif positions and lead is not None:
        # Only an anchor with a clause start at most `lead` characters before it can make a
        # try; such a start is the sentence's first or follows a separator or whitespace,
        # so one of the `lead + 1` characters before the anchor is one. Most anchors (为, 以
        # inside a clause) fail this and cost no clause splitting.
        first = sentence.start
        near = [p for p in positions if p - lead <= first
                or _CLAUSE_OPENER.search(text, max(first, p - lead - 1), p) is not None]
        if not near:
            return
        # The clause starts with an anchor at most `lead` characters after them: those
        # within `lead` before each anchor.
        clause_starts = sentence.clause_starts
        found_starts: set[int] = set()
        for p in near:
            k = bisect.bisect_left(clause_starts, p - lead)
            while k < len(clause_starts) and clause_starts[k] <= p:
                found_starts.add(clause_starts[k])
                k += 1
        tries = sorted(found_starts)
    elif positions:
        ordered = sorted(positions)
        tries = []
        for clause_start, clause_end in zip(*sentence.clause_bounds[:2]):
            k = bisect.bisect_left(ordered, clause_start)
            if k < len(ordered) and ordered[k] < clause_end:
                tries.append(clause_start)
    else:
        tries = sentence.clause_starts
    if openers is not None and match_at == "clauses":
        # No regex call where no match can begin: the check is a dict lookup per start.
        allows = openers.allows
        tries = [at for at in tries if allows(text[at])]
    reached = -1
    end = sentence.end
    for at in tries:
        if at < reached:
            continue  # inside the previous match, as finditer would skip it
        found = pattern.match(text, at, end, timeout=timeout)
        if found is not None:
            reached = found.end()
            span = found.span(group) if group else found.span()
            if span[1] > span[0]:
                hits.append((span[0], span[1], index))
