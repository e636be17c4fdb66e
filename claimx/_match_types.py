"""The data of the matching stage: the compiled rules (:class:`CompiledRules`), a rule's
hit (:class:`Hit`) and what matching found in a document (:class:`MatchResult`).

attrs classes, kept out of the modules compiled with mypyc (see docs/performance.md,
"Compiled modules"): mypyc compiles an attrs class's body as plain Python with each
field's declared type checked, and ``attrs.field(...)`` is no such value. They are
imported from :mod:`claimx.match`, their public home.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any, Final

import attrs

from claimx._deferred_regex import DeferredPattern
from claimx._first_chars import FirstChars, first_chars
from claimx._lookahead_guard import split_leading_guard
from claimx._required_words import required_words
from claimx._word_search import (
    SHADOWABLE,
    PseudoWords,
    _alternation,
    _scanned_exactly,
    _Search,
    _WordSearch,
    by_offset,
)
from claimx.packs import ModifierRule, Pack, PatternRule, Rule, TokenRule

# Roles a lexicon entry can play in the automaton. Final: the compiled matching loop
# (claimx.match) compares every hit's roles with them, as constants rather than as
# lookups of this module's globals.
_CUE: Final = 0
_EXCEPTION: Final = 1
_CONTEXT: Final = 2
_ANCHOR: Final = 3
_MODIFIER: Final = 4
_PSEUDO: Final = 5
_TERMINATOR: Final = 6
_SENTIMENT: Final = 7
_SENTIMENT_EXC: Final = 8
_STEP: Final = 9
#: The context word lists of a claim rule, in the order of ``CompiledRules.context_words``.
_CONTEXT_LISTS = ("veto", "veto_unless", "not_after", "not_before", "requires", "veto_always")



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
    # The required word lists behind ``_required_searches``, by the same positions.
    _required_lists: dict[int, tuple[tuple[str, ...], ...]] = attrs.field(
        init=False, factory=dict, eq=False, repr=False)
    # The document-level test of the required words (see :meth:`required_words_index`):
    # one snapshot, replaced whole as rules are added (the class is frozen: it sits in a
    # one-item list), of (a bit mask for each automaton word, each rule's mask by position
    # in ``by_id``, the bit of each word list).
    _required_index: list[tuple[list[int], dict[int, int], dict[tuple[str, ...], int]]] = (
        attrs.field(init=False, eq=False, repr=False, default=attrs.Factory(
            lambda self: [([0] * len(self.automaton.words) if self.automaton is not None
                           else [], {}, {})], takes_self=True)))
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
    # its steps, the distinct keys of its later steps, the gap allowed before each later
    # step). A document looks up the later keys among those it holds (typed as objects:
    # compiled code passes them to the lookup as they are), and the gaps are not looked up
    # again for every document.
    sequence_plans: dict[int, tuple[tuple[int, tuple[int, ...], tuple[Any, ...],
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
        # roles_of holds one object for equal role tuples (_one_of_each): a few thousand
        # distinct ones for the bundled pack's 35,000 words, each filtered once.
        done: dict[int, tuple[tuple[int, int], ...]] = {}
        for roles in self.roles_of:
            found = done.get(id(roles))
            if found is None:
                kept = tuple(r for r in roles if r[0] not in (_SENTIMENT, _SENTIMENT_EXC)
                             and not (r[0] in (_MODIFIER, _PSEUDO, _TERMINATOR)
                                      and r[1] in skipped))
                found = done[id(roles)] = roles if len(kept) == len(roles) else kept
            claim_roles.append(found)
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
    def _sequence_plans(self) -> dict[int, tuple[tuple[int, tuple[int, ...], tuple[Any, ...],
                                                       tuple[int, ...]], ...]]:
        return {first: tuple((position, keys,
                              tuple(dict.fromkeys(k for k in keys[1:] if k != first)),
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
            used = [tuple(sorted(words)) for words in lists[:_MAX_REQUIRED_SEARCHES]]
            compiled = [_alternation(words) for words in used]
            self._required_lists[index] = tuple(
                words for words, pattern in zip(used, compiled) if pattern is not None)
            found = self._required_searches[index] = tuple(
                pattern.search for pattern in compiled if pattern is not None)
        return found

    @property
    def required_words_index(self) -> tuple[list[int], dict[int, int], dict[tuple[str, ...], int]]:
        """What a document needs to rule a pattern rule out before searching its sentences:
        ``(masks, rule_masks, _)``. ``masks[k]`` has the bit of every required word list
        (see :meth:`required_searches`) that the automaton's k-th word stands for, and
        ``rule_masks[index]`` the bits of the lists of the pattern rule at ``index`` (in
        ``by_id``) that are indexed (0: none is). A rule missing from ``rule_masks`` is not
        indexed yet (:meth:`index_required_words` adds it).

        A list stands for a word of the automaton when each of its words holds one (the
        longest): where none of those occurs in a document, no word of the list does, and
        no match of the rule can lie in it. The OR of the masks of the words the automaton
        found in a document has every list that may occur in it.

        One immutable snapshot, replaced whole: a document reads it once, and threads that
        add rules at the same time lose at most an addition, never mix two snapshots."""
        return self._required_index[0]

    def index_required_words(self, index: int) -> None:
        """Add the required word lists of the pattern rule at ``index`` (in ``by_id``) to
        :attr:`required_words_index`, for the documents that follow."""
        masks, rule_masks, bits = self._required_index[0]
        if index in rule_masks:
            return
        self.required_searches(index)
        masks = list(masks)
        bits = dict(bits)
        need = 0
        for words in self._required_lists.get(index, ()):
            bit = bits.get(words)
            if bit is None and len(bits) == _REQUIRED_BITS:
                continue  # no bit left: the list is searched
            cores = [_core_word(word, self.automaton) for word in words]
            if not cores or None in cores:
                continue  # a word with no automaton word inside: the list is searched
            if bit is None:
                bit = bits[words] = 1 << len(bits)
                for core in cores:
                    masks[core] |= bit  # type: ignore[index]
            need |= bit
        self._required_index[0] = (masks, {**rule_masks, index: need}, bits)

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

#: How many required word lists get a bit in :attr:`CompiledRules.required_words_index`
#: (the first ones met; the bundled pack's rules have 143 lists): masks that fit in a
#: machine word are ORed and tested in compiled code without making an int object, where
#: 143 bits made every OR a big-int operation.
_REQUIRED_BITS = 62


def _core_word(word: str, automaton: Any) -> int | None:
    """The automaton's index of the longest word inside ``word`` (``word`` itself if it is
    one; the first of the longest), which the automaton finds exactly where a search does
    (see :func:`claimx._word_search._scanned_exactly`); None if there is none. The
    automaton itself finds the words inside ``word``: a word-to-index dict of its tens of
    thousands of words would cost megabytes for the life of the extractor."""
    if automaton is None:
        return None
    best: tuple[int, int, int] | None = None  # (-size, start, -index): the smallest wins
    for k, start, end in automaton.find_all(word):
        key = (start - end, start, -k)
        if (best is None or key < best) and _scanned_exactly(word[start:end]):
            best = key
    return None if best is None else -best[2]


def _one_of_each(roles: Iterable[tuple[tuple[int, int], ...]]
                 ) -> tuple[tuple[tuple[int, int], ...], ...]:
    """``tuple(roles)`` with equal items made one object. Most words of the automaton play
    exactly the roles of other words (every cue of a rule, every word of a var that rules
    share), so a few thousand tuples serve tens of thousands of words."""
    distinct: dict[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]] = {}
    return tuple(distinct.setdefault(item, item) for item in roles)
