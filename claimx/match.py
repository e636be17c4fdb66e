"""Matching stage: every lexicon cue of every loaded pack in one Aho-Corasick automaton,
scanned once per document; pattern rules run per sentence with a timeout, and all the
regular expressions of one document share a time budget (:class:`RegexBudget`).

No word segmentation happens here: cues are matched on characters of the normalised text.
"""

from __future__ import annotations

import bisect
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import ahocorasick_rs
import attrs

from claimx._deferred_regex import DeferredPattern
from claimx._first_chars import FirstChars, first_chars
from claimx._lookahead_guard import split_leading_guard
from claimx._required_words import required_words
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

__all__ = ["CompiledRules", "Hit", "MatchResult", "RegexBudget", "compile_rules", "match"]

# Roles a lexicon entry can play in the automaton.
(_CUE, _EXCEPTION, _CONTEXT, _ANCHOR, _MODIFIER, _PSEUDO, _TERMINATOR, _SENTIMENT, _SENTIMENT_EXC,
 _STEP) = range(10)
#: A compiled word search: ``re.Pattern.search`` bound to its pattern (text, pos, endpos).
_Search = Callable[[str, int, int], re.Match[str] | None]
#: The context word lists of a claim rule, in the order of ``CompiledRules.context_words``.
_CONTEXT_LISTS = ("veto", "veto_unless", "not_after", "not_before", "requires", "veto_always")
#: What may not stand between two steps of a sequence rule: the end of a clause.
_CLAUSE_BREAKS = frozenset(",，;；:：。！？!?\n—")


@attrs.frozen(slots=True)
class Hit:
    """A rule that fired on ``[start, end)`` of the normalised text."""

    start: int
    end: int
    rule: Any  # Rule; Any keeps attrs from checking a union at runtime
    #: For a sequence rule's hit, the stretches of text between its steps' words: a
    #: modifier word there is not part of the cue and still reaches it (营收|并未|下滑).
    gaps: tuple[tuple[int, int], ...] = ()

    @property
    def rule_id(self) -> str:
        """Id of the rule that fired."""
        return self.rule.id


@attrs.frozen(slots=True)
class MatchResult:
    """What the matching stage found in one document (normalised offsets)."""

    claim_cues: tuple[Hit, ...]
    modifiers: tuple[Hit, ...]
    sentiment: tuple[Hit, ...]
    terminators: dict[str, tuple[int, ...]]  # modifier rule id -> sorted start offsets
    token_anchors: dict[str, tuple[int, ...]] = attrs.field(factory=dict)  # token rule id -> anchor starts
    #: Every word the automaton found, as ``(word index, start, end)`` ordered by end (the
    #: order the automaton reports them in); None when the text was not scanned as is.
    #: The assembly stage reads the rules' context words from it (see
    #: :meth:`CompiledRules.context_masks`).
    words_found: Sequence[tuple[int, int, int]] | None = attrs.field(
        default=None, eq=False, repr=False)


@attrs.frozen(slots=True)
class CompiledRules:
    """All loaded packs compiled for matching: one automaton plus the pattern rules."""

    packs: tuple[Pack, ...]
    # The automaton over every cue word (a picklable ``ahocorasick_rs`` wrapper; None if
    # there are none);
    # ``roles_of[k]`` lists the ``(role, rule position)`` pairs of its k-th word.
    automaton: Any
    roles_of: tuple[tuple[tuple[int, int], ...], ...]
    rules: tuple[Rule, ...]
    pattern_rules: tuple[PatternRule, ...]
    claim_types: dict[str, Any]
    settings: dict[str, Any]
    #: The calibration curve of the rules of ``main_pack`` (the first pack loaded).
    calibration: tuple[tuple[float, float], ...]
    priors: dict[str, float] = attrs.field(factory=dict)  # fitted per-rule priors
    #: The pack whose rules ``calibration`` applies to; the other packs' curves are in
    #: ``calibrations`` (pack name -> curve): calibration applies per pack, to the claims
    #: of that pack's own rules (see assemble.confidence).
    main_pack: str = ""
    calibrations: dict[str, tuple[tuple[float, float], ...]] = attrs.field(factory=dict)
    # Position in ``by_id`` of each of ``pattern_rules``: matching looks up a pattern rule's
    # anchor hits by it, in every document.
    pattern_indexes: tuple[int, ...] = ()
    # The rules sorted by id. The automaton refers to rules by their position here, so
    # hits kept as ``(start, end, position)`` tuples sort in C into the documented order
    # (start, end, rule id) without a Python key function.
    by_id: tuple[Rule, ...] = ()
    # Confidence of each (rules fired, before a contrast) combination seen so far, filled
    # by the assembly stage. Not an init argument, so ``attrs.evolve`` (an uncalibrated
    # copy, say) starts with an empty memo of its own.
    confidence_memo: dict[tuple[tuple[str, ...], bool], tuple[float, tuple[str, ...]]] = attrs.field(
        init=False, factory=dict, eq=False, repr=False)
    # Derived once from the fields above, for lookups made in every document: the roles
    # without sentiment (what claims need when no sentiment is scored), the pattern rules
    # with anchors by position in ``by_id``, those without, and the token rules' positions.
    claim_roles_of: tuple[tuple[tuple[int, int], ...], ...] = attrs.field(
        init=False, eq=False, repr=False)
    anchored_patterns: dict[int, PatternRule] = attrs.field(init=False, eq=False, repr=False)
    unanchored_patterns: tuple[tuple[int, PatternRule], ...] = attrs.field(
        init=False, eq=False, repr=False)
    token_rule_positions: frozenset[int] = attrs.field(init=False, eq=False, repr=False)
    # For each pattern rule, by position in ``by_id``: searches for the word lists every
    # match of it contains (see claimx._required_words), filled the first time the rule
    # runs (reading a pattern costs about 0.4 ms; a document meets a few rules).
    _required_searches: dict[int, tuple[_Search, ...]] = attrs.field(
        init=False, factory=dict, eq=False, repr=False)
    # For each pattern rule, by position in ``by_id``: the search for the words of its
    # leading negative lookahead and the pattern without it, or None (see
    # claimx._lookahead_guard), filled the first time the rule runs.
    _lookahead_guards: dict[int, tuple[_Search, DeferredPattern] | None] = attrs.field(
        init=False, factory=dict, eq=False, repr=False)
    # For the pattern rules matched at clause starts, by position in ``by_id``: which
    # characters a match can begin with (see claimx._first_chars), so that a clause start
    # no match can begin at costs no regex call.
    first_char_checks: dict[int, FirstChars] = attrs.field(init=False, eq=False, repr=False)
    # For the anchored pattern rules whose matches begin at or shortly before an anchor, by
    # position in ``by_id``: at most how many characters before its first anchor in a
    # sentence a match can begin (0 for ``match_at: anchors``, ``lead`` for a rule matched
    # at the clause starts within ``lead`` of an anchor). A match holds its required words
    # (see :meth:`required_searches`), so they are searched from there, not from the
    # sentence's start: a word of the list earlier in the sentence cannot be part of it.
    match_reach: dict[int, int] = attrs.field(init=False, eq=False, repr=False)
    # For each pattern rule, by position in ``by_id``: "claim" when its pattern has a group
    # of that name (the claim is that group's span), else None. ``regex`` builds a new dict
    # for every read of ``Pattern.groupindex``, and a document runs a dozen rules.
    claim_groups: dict[int, str | None] = attrs.field(init=False, eq=False, repr=False)
    # The steps a ``_STEP`` automaton entry stands for: a word list shared by several steps
    # (one var used by several rules) is one entry, so each of its words is one role.
    # Each entry lists its steps as (rule position in by_id, sequence, step).
    sequence_steps: tuple[tuple[tuple[int, int, int], ...], ...] = ()
    # The sequences by the key of their first step, each as (rule position, the keys of its
    # steps in order): a document looks only at sequences whose first step occurred.
    sequence_keys: dict[int, tuple[tuple[int, tuple[int, ...]], ...]] = attrs.field(
        factory=dict)
    # The modifiers' pseudo words that hold a context word inside them, over the modifier
    # cue they disguise (未来 holds 未, 不得不 holds 不得), by that word, each as (the
    # word's offset in it, the pseudo word): a pack lists them as words that look like a
    # modifier and are not one, and a context word found inside one in the text is not
    # that word either (see :func:`inside_pseudo_word`). Before ``context_words``, whose
    # searches use it.
    context_shadows: dict[str, tuple[tuple[int, str], ...]] = attrs.field(
        init=False, eq=False, repr=False)
    # ``context_shadows`` grouped by offset (see :func:`by_offset`), the form the searches
    # and the assembly stage test: grouped once here for both.
    context_pseudo_words: dict[str, PseudoWords] = attrs.field(
        init=False, eq=False, repr=False)
    # Each claim rule's context words (veto, veto_unless, not_after, not_before, requires,
    # veto_always) as one search per list (a ``_WordSearch``, compiled on first use), by
    # rule id: the assembly stage tests them for every hit, and a pack's word classes make
    # these lists hundreds of words long.
    context_words: dict[str, tuple[Any, Any, Any, Any, Any, Any]] = attrs.field(
        init=False, eq=False, repr=False)
    # Those lists as bits: ``context_masks[k]`` has the ``bit`` of every list holding the
    # automaton's k-th word (0 for a word of no list), plus ``SHADOWABLE`` when the word
    # lies inside a pseudo word (``context_shadows``). The automaton holds every context
    # word, so the words a sentence holds are among the document's ``words_found``, and a
    # list's test over a sentence is a bit of the OR of their masks instead of a search.
    context_masks: tuple[int, ...] = attrs.field(init=False, eq=False, repr=False)
    # ``context_shadows`` by the automaton's word index (None for a word inside no pseudo
    # word), for the words whose mask has ``SHADOWABLE``, grouped by offset (see
    # :func:`inside_pseudo_word`).
    context_shadows_by_index: tuple[PseudoWords | None, ...] = attrs.field(
        init=False, eq=False, repr=False)
    # ``sequence_keys`` ready to run: by first key, each sequence as (rule position, keys of
    # its steps, those keys as a set, the gap allowed before each later step). A document
    # tests the set against the keys it holds in one C-level comparison, and the gaps are
    # not looked up again for every document.
    sequence_plans: dict[int, tuple[tuple[int, tuple[int, ...], frozenset[int],
                                          tuple[int, ...]], ...]] = attrs.field(
        init=False, eq=False, repr=False)

    @claim_roles_of.default
    def _claim_roles(self) -> tuple[tuple[tuple[int, int], ...], ...]:
        # Modifiers of a category that only sentiment reads (the pack's
        # ``sentiment_reversal_categories``) are left out with the sentiment words.
        sentiment_only = set(self.settings.get("sentiment_reversal_categories") or ())
        rules = self.by_id or self.rules
        skipped = {position for position, rule in enumerate(rules)
                   if isinstance(rule, ModifierRule) and rule.category in sentiment_only}
        claim_roles = []
        for roles in self.roles_of:
            kept = tuple(r for r in roles if r[0] not in (_SENTIMENT, _SENTIMENT_EXC)
                         and not (r[0] in (_MODIFIER, _PSEUDO, _TERMINATOR)
                                  and r[1] in skipped))
            claim_roles.append(roles if len(kept) == len(roles) else kept)
        return _one_of_each(claim_roles)

    @anchored_patterns.default
    def _anchored(self) -> dict[int, PatternRule]:
        return {i: r for i, r in zip(self.pattern_indexes, self.pattern_rules) if r.anchors}

    @unanchored_patterns.default
    def _unanchored(self) -> tuple[tuple[int, PatternRule], ...]:
        return tuple((i, r) for i, r in zip(self.pattern_indexes, self.pattern_rules)
                     if not r.anchors)

    @context_shadows.default
    def _context_shadows(self) -> dict[str, tuple[tuple[int, str], ...]]:
        context = {word for rule in self.rules for field in _CONTEXT_LISTS
                   for word in getattr(rule, field, ())}
        found: dict[str, set[tuple[int, str]]] = defaultdict(set)
        for rule in self.rules:
            if not isinstance(rule, ModifierRule):
                continue
            for pseudo in rule.pseudo:
                # The characters of the modifier's cue that the pseudo word disguises (未
                # in 未来, 可能 in 可能性较低): a context word is shadowed only where it
                # takes part of them, so 较低 in 可能性较低 still counts.
                disguised = [(at, at + len(cue)) for cue in rule.cues if cue
                             for at in range(len(pseudo)) if pseudo.startswith(cue, at)]
                # Every shorter piece of the pseudo word (a few characters long) looked up
                # among the context words, rather than thousands of context words searched
                # in each pseudo word.
                for offset in range(len(pseudo)):
                    for end in range(offset + 1, len(pseudo) + 1):
                        piece = pseudo[offset:end]
                        if (len(piece) < len(pseudo) and piece in context
                                and any(a < end and offset < b for a, b in disguised)):
                            found[piece].add((offset, pseudo))
        return {word: tuple(sorted(pairs)) for word, pairs in found.items()}

    @context_pseudo_words.default
    def _context_pseudo_words(self) -> dict[str, PseudoWords]:
        return {word: by_offset(pairs) for word, pairs in self.context_shadows.items()}

    @context_words.default
    def _context_words(self) -> dict[str, tuple[Any, Any, Any, Any, Any, Any]]:
        out: dict[str, tuple[Any, Any, Any, Any, Any, Any]] = {}
        # One compiled search per distinct word list: rules that share a var (veto:
        # [$macro_topics]) share the search, so a sentence's answer can be remembered.
        shared: dict[tuple[str, ...], Any] = {}

        def search_for(words: tuple[str, ...]) -> Any:
            if not words:
                return None
            found = shared.get(words)
            if found is None:  # one search per distinct list, not one per rule using it
                found = shared[words] = _WordSearch(words, self.context_pseudo_words)
            return found

        for rule in self.by_id or self.rules:
            lists = tuple(getattr(rule, field, ()) for field in _CONTEXT_LISTS)
            if any(lists):
                out[rule.id] = tuple(search_for(words) for words in lists)  # type: ignore[assignment]
        return out

    @context_masks.default
    def _context_masks(self) -> tuple[int, ...]:
        words = self.automaton.words if self.automaton is not None else ()
        index_of = {word: k for k, word in enumerate(words)}
        masks = [0] * len(words)
        lists = {id(search): search for searches in self.context_words.values()
                 for search in searches if search is not None}
        bit = SHADOWABLE << 1  # the lowest bit flags a word that may be inside a pseudo word
        for search in lists.values():
            # Only a list the automaton finds exactly as its search would is indexed; the
            # others (a word missing from the automaton, or one the automaton's scan of a
            # text with lone surrogates could find where the search does not) keep bit 0
            # and are searched.
            if not (all(map(index_of.__contains__, search.words))
                    and _scanned_exactly(*search.words)):
                continue
            search.bit = bit
            for word in search.words:
                masks[index_of[word]] |= bit
            bit <<= 1
        for word in self.context_shadows:
            if word in index_of:
                masks[index_of[word]] |= SHADOWABLE
        return tuple(masks)

    @context_shadows_by_index.default
    def _context_shadows_by_index(self) -> tuple[PseudoWords | None, ...]:
        words = self.automaton.words if self.automaton is not None else ()
        return tuple(self.context_pseudo_words.get(word) for word in words)

    @sequence_plans.default
    def _sequence_plans(self) -> dict[int, tuple[tuple[int, tuple[int, ...], frozenset[int],
                                                       tuple[int, ...]], ...]]:
        return {first: tuple((position, keys, frozenset(keys),
                              tuple(self.by_id[position].gap_before(step)  # type: ignore[union-attr]
                                    for step in range(1, len(keys))))
                             for position, keys in found)
                for first, found in self.sequence_keys.items()}

    @first_char_checks.default
    def _first_char_checks(self) -> dict[int, FirstChars]:
        checks: dict[int, FirstChars] = {}
        for index, rule in zip(self.pattern_indexes, self.pattern_rules):
            if rule.match_at == "clauses":
                check = first_chars(rule.pattern.pattern)  # type: ignore[union-attr]
                if check is not None:
                    checks[index] = check
        return checks

    @match_reach.default
    def _match_reach(self) -> dict[int, int]:
        reach: dict[int, int] = {}
        for index, rule in self.anchored_patterns.items():
            if rule.match_at == "anchors":
                reach[index] = 0
            elif rule.match_at == "clauses" and rule.lead is not None:
                reach[index] = rule.lead
        return reach

    @claim_groups.default
    def _claim_groups(self) -> dict[int, str | None]:
        # (pattern_rules holds only rules whose pattern passed the load-time check)
        return {index: "claim" if "claim" in rule.pattern.groupindex else None  # type: ignore[union-attr]
                for index, rule in zip(self.pattern_indexes, self.pattern_rules)}

    @token_rule_positions.default
    def _token_positions(self) -> frozenset[int]:
        return frozenset(i for i, r in enumerate(self.by_id) if isinstance(r, TokenRule))

    def required_searches(self, index: int) -> tuple[_Search, ...]:
        """Searches (bound ``re.Pattern.search`` methods) for the word lists every match of
        the pattern rule at ``index`` (in ``by_id``) contains, at most the
        :data:`_MAX_REQUIRED_SEARCHES` likeliest to rule a sentence out first. A sentence
        where one finds nothing cannot hold a match. Empty when nothing is known.

        Bound methods rather than :class:`_WordSearch` objects: a rule that runs needs its
        searches at once, and calling the compiled pattern directly spares a Python call
        per search (about 44,000 over the benchmark corpus)."""
        found = self._required_searches.get(index)
        if found is None:
            rule = self.by_id[index]
            lists = required_words(rule.pattern.pattern, rule.anchors)  # type: ignore[union-attr]
            compiled = [_alternation(tuple(sorted(words)))
                        for words in lists[:_MAX_REQUIRED_SEARCHES]]
            found = self._required_searches[index] = tuple(
                pattern.search for pattern in compiled if pattern is not None)
        return found

    def lookahead_guard(self, index: int) -> tuple[_Search, DeferredPattern] | None:
        """For the pattern rule at ``index`` (in ``by_id``) that opens with a negative
        lookahead over plain words: a search for those words, and the pattern without the
        lookahead, which matches as the rule's own does in a sentence where the search finds
        nothing (see claimx._lookahead_guard). None for other rules."""
        try:
            return self._lookahead_guards[index]
        except KeyError:
            pass
        pattern = getattr(self.by_id[index], "pattern", None)
        split = (split_leading_guard(pattern.pattern, pattern.flags)
                 if pattern is not None else None)
        guard = None
        if pattern is not None and split is not None:
            search = _alternation(split[0])
            if search is not None:
                guard = (search.search, DeferredPattern(split[1], pattern.flags,
                                                        pattern.groupindex))
        self._lookahead_guards[index] = guard
        return guard

    def rule(self, index: int) -> Rule:
        """Rule by its index in ``rules``."""
        return self.rules[index]


#: How many required word lists of a pattern rule are searched before it runs: a search
#: costs a few percent of the ``regex`` call with a timeout it can spare.
_MAX_REQUIRED_SEARCHES = 3


class _WordSearch:
    """A search for any of ``words`` (see :func:`_alternation`), compiled on its first use.

    A pack declares many more context word lists than one text meets (the bundled one 84,
    of which the benchmark corpus asks for 36), and compiling them all would add to every
    cold start; a list nobody asks for is never compiled. Two threads that meet a list
    first together both compile it, and one of the equal results is kept.
    """

    __slots__ = ("_compiled", "bit", "shadows", "words")

    def __init__(self, words: tuple[str, ...],
                 shadows: dict[str, PseudoWords] | None = None) -> None:
        self.words = words
        #: This list's bit in :attr:`CompiledRules.context_masks` (0: not indexed; set by
        #: the compiled rules the search belongs to).
        self.bit = 0
        #: The pseudo words around each of ``words`` that has some, grouped by offset (see
        #: :attr:`CompiledRules.context_pseudo_words`).
        self.shadows = {w: shadows[w] for w in words if w in shadows} if shadows else {}
        self._compiled: re.Pattern[str] | None = None

    def search(self, text: str, pos: int, endpos: int) -> re.Match[str] | None:
        """``re.Pattern.search`` of the compiled alternation."""
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = _alternation(self.words)
        return compiled.search(text, pos, endpos)  # type: ignore[union-attr]

    def occurs(self, text: str, pos: int, endpos: int) -> bool:
        """Whether one of ``words`` lies inside ``text[pos:endpos]`` and not inside a
        pseudo word of ``text`` (未 in 未来).

        Where the search finds a word inside a pseudo word, every shorter word of the list
        starting there lies inside it as well (the search finds the longest word at the
        leftmost position), so the search goes on from the next position."""
        found = self.search(text, pos, endpos)
        shadows = self.shadows
        while found is not None and shadows:
            pairs = shadows.get(found.group())
            if pairs is None or not inside_pseudo_word(text, found.start(), pairs):
                return True
            found = self.search(text, found.start() + 1, endpos)
        return found is not None


#: The bit of :attr:`CompiledRules.context_masks` that marks a context word which may lie
#: inside a pseudo word: a mask with it is worked out again word by word.
SHADOWABLE = 1


#: The pseudo words that hold a context word, by the word's offset in them:
#: ``((offset, (pseudo word, ...)), ...)``.
PseudoWords = tuple[tuple[int, tuple[str, ...]], ...]


def by_offset(pairs: Iterable[tuple[int, str]]) -> PseudoWords:
    """``(offset, pseudo word)`` pairs (a :attr:`CompiledRules.context_shadows` value) as
    the pseudo words at each offset, ascending: one ``str.startswith`` call tests them all
    (不 lies inside some 60 pseudo words of the bundled pack, at two offsets)."""
    grouped: dict[int, list[str]] = {}
    for offset, pseudo in sorted(pairs):
        grouped.setdefault(offset, []).append(pseudo)
    return tuple((offset, tuple(pseudos)) for offset, pseudos in grouped.items())


def inside_pseudo_word(text: str, start: int, pseudo_words: PseudoWords) -> bool:
    """Whether the context word found at ``start`` of ``text`` is part of one of the pseudo
    words that hold it (``pseudo_words``: see :func:`by_offset`; 不得 at ``start`` is part
    of 不得不 when the text holds 不得不 from ``start - 0``)."""
    for offset, pseudos in pseudo_words:
        begin = start - offset
        if begin >= 0 and text.startswith(pseudos, begin):
            return True
    return False


def _scanned_exactly(*words: str) -> bool:
    """Whether the automaton finds each of ``words`` exactly where a search finds it, in
    any text.

    The automaton scans a text with lone surrogates with U+FFFD in their place (see
    :meth:`_WordAutomaton.find_all`): a word holding neither occurs at the same places in
    both texts. The empty word is never in the automaton."""
    return all(words) and _UNSCANNABLE.search("".join(words)) is None


#: A lone surrogate or U+FFFD (see :func:`_scanned_exactly`).
_UNSCANNABLE = re.compile("[\ud800-\udfff\ufffd]")


def _alternation(words: Sequence[str]) -> re.Pattern[str] | None:
    """One compiled search for any of ``words`` (None for no words). The standard library's
    engine: it skips ahead on the first characters of a plain word alternation.

    The words are grouped by their first character (经济|经营|经 as 经(?:济|营)?): at a
    position whose first character fits, the engine tries one group's words instead of
    every word in turn (a third less time on the veto lists of the bundled pack). It finds
    a word at the same leftmost position as the plain alternation, and there the same
    longest word, since each group keeps the longest-first order."""
    if not words:
        return None
    unique = sorted(set(words), key=len, reverse=True)
    if "" in unique:  # an empty word matches everywhere; keep the plain form's meaning
        return re.compile("|".join(re.escape(w) for w in unique))
    rests_of: dict[str, list[str]] = {}
    for word in unique:
        rests_of.setdefault(word[0], []).append(word[1:])
    branches = []
    for first, rests in rests_of.items():
        tails = [re.escape(rest) for rest in rests if rest]
        if not tails:
            branches.append(re.escape(first))
            continue
        group = "(?:" + "|".join(tails) + ")"
        # A one-character word of the group is the shortest: tried after every longer one.
        branches.append(re.escape(first) + group + ("?" if "" in rests else ""))
    return re.compile("|".join(branches))


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


def _one_of_each(roles: Iterable[tuple[tuple[int, int], ...]]
                 ) -> tuple[tuple[tuple[int, int], ...], ...]:
    """``tuple(roles)`` with equal items made one object. Most words of the automaton play
    exactly the roles of other words (every cue of a rule, every word of a var that rules
    share), so a few thousand tuples serve tens of thousands of words."""
    distinct: dict[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]] = {}
    return tuple(distinct.setdefault(item, item) for item in roles)


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
            clean = "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in text)
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
    """

    __slots__ = ("deadline", "on_timeout", "seconds", "timeout")

    def __init__(self, text_length: int, *, timeout: float = 0.25, on_timeout: str = "raise",
                 seconds: float = 1.0, per_chars: int = 100_000) -> None:
        self.timeout = timeout
        self.on_timeout = on_timeout
        self.seconds = seconds * max(1.0, text_length / per_chars)
        self.deadline = time.monotonic() + self.seconds

    def next_timeout(self) -> float:
        """The timeout for the next regex call; 0 when the budget is spent."""
        return max(0.0, min(self.timeout, self.deadline - time.monotonic()))

    def spent(self) -> bool:
        """Is the document's budget used up?"""
        return time.monotonic() >= self.deadline


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
    exceptions: dict[int, list[tuple[int, int]]] = defaultdict(list)
    pseudo: dict[int, list[tuple[int, int]]] = defaultdict(list)
    sentiment_exc: dict[int, list[tuple[int, int]]] = defaultdict(list)
    context: dict[int, list[int]] = defaultdict(list)
    anchors: dict[int, list[int]] = defaultdict(list)
    terminators: dict[int, list[int]] = defaultdict(list)
    # The automaton's hits (word index, start, end) of each sequence step, kept as the
    # automaton's own tuples (see _longest_first).
    steps: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    if compiled.automaton is not None and text:
        # The hot loop of the stage: one iteration per automaton hit (about 170 per 1,000
        # characters of news). Bound methods and an if-chain ordered by how often each role
        # occurs in news text (sequence steps, anchors, sentiment, modifiers, cues …) keep
        # it cheap.
        add_cue, add_mod, add_sent = cue_spans.append, modifier_spans.append, sentiment_spans.append
        roles_of = compiled.roles_of if sentiment else compiled.claim_roles_of
        words_found = compiled.automaton.find_all(text)
        # A sequence step records the automaton's hit tuple itself: a step word plays four
        # step roles on average (650,000 a pass over the benchmark corpus), and a new
        # (start, end) tuple for each cost more than the rest of the step's work here.
        for hit in words_found:
            for role, index in roles_of[hit[0]]:
                if role == _STEP:
                    steps[index].append(hit)
                elif role == _ANCHOR:
                    anchors[index].append(hit[1])
                elif role == _SENTIMENT:
                    add_sent((hit[1], hit[2], index))
                elif role == _MODIFIER:
                    add_mod((hit[1], hit[2], index))
                elif role == _CUE:
                    add_cue((hit[1], hit[2], index))
                elif role == _TERMINATOR:
                    terminators[index].append(hit[1])
                elif role == _PSEUDO:
                    pseudo[index].append((hit[1], hit[2]))
                elif role == _SENTIMENT_EXC:
                    sentiment_exc[index].append((hit[1], hit[2]))
                elif role == _EXCEPTION:
                    exceptions[index].append((hit[1], hit[2]))
                else:
                    context[index].append(hit[1])
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
        found = _run_patterns(compiled, text, sentences, anchors, budget)
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


def _run_sequences(compiled: CompiledRules, text: str, steps: dict[int, list[tuple[int, int, int]]]
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
        for rule_position, keys, needed, gaps in plans_of[first]:
            # (The view's >= asks dict_keys directly; frozenset's <= returns
            # NotImplemented for a view first, twice the time, 140,000 times a pass.)
            if not present >= needed:
                continue  # a step with no word in the document: no chain can complete
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


def _longest_first(hits: list[tuple[int, int, int]]) -> tuple[list[int], list[int]]:
    """Starts and ends of automaton ``hits`` ``(word index, start, end)`` by start, only the
    longest of those that start together (市场份额, not 市场)."""
    if len(hits) == 1:  # the common case: one word of the step in the document
        ((_, start, end),) = hits
        return [start], [end]
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
                  anchors: dict[int, list[int]], budget: RegexBudget
                  ) -> list[tuple[int, int, int]]:
    """Run each pattern rule on the sentences holding one of its anchors (all sentences for
    a rule without anchors). Returns ``(start, end, rule position in by_id)`` tuples.

    Only the rules whose anchors occur are visited (most documents hit a few of them), and
    their sentences are found from the anchor hits (a bisect each), not by testing every
    sentence against every rule. Rules run by rule id: the same order in every run.
    """
    hits: list[tuple[int, int, int]] = []
    starts: list[int] | None = None
    anchored, groups, checks = (compiled.anchored_patterns, compiled.claim_groups,
                                compiled.first_char_checks)
    required, reach = compiled.required_searches, compiled.match_reach
    guard = compiled.lookahead_guard
    for index in sorted(anchors):
        rule = anchored.get(index)
        if rule is None:
            continue  # the anchor of a token rule
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
    pattern = rule.pattern.compiled  # type: ignore[union-attr]  # compiled rules have one
    match_at, lead = rule.match_at, rule.lead
    # RegexBudget.next_timeout inlined (the same smaller of the per-call timeout and what
    # is left, 0 when nothing is): it runs once per sentence a rule is tried on, and there
    # a method call with min() and max() costs more than the two comparisons.
    per_call, deadline, clock = budget.timeout, budget.deadline, time.monotonic
    for sentence, positions in targets:
        timeout = deadline - clock()
        if timeout > per_call:
            timeout = per_call
        try:
            if timeout <= 0:
                timeout = 0.0
                raise TimeoutError
            _match_into(hits, index,
                        guard[1].compiled if guard is not None
                        and guard[0](text, sentence.start, sentence.end) is None else pattern,
                        group, match_at, lead, text, sentence, positions, timeout, openers)
        except TimeoutError:
            if budget.on_timeout == "raise":
                raise RuleTimeoutError(rule.id, str(rule.source), timeout, sentence.start,
                                       budget=budget.seconds if budget.spent() else None
                                       ) from None
            if budget.spent():  # skip: nothing is left for this document's patterns
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
