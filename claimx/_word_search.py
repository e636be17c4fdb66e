"""The word searches of the matching and assembly stages: a search for any word of a
list (compiled on first use), and the pseudo words that hide a context word.

Split from :mod:`claimx.match` so that :mod:`claimx._match_types` (interpreted) and the
compiled stage modules can share it (see docs/performance.md, "Compiled modules").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

#: A compiled word search: ``re.Pattern.search`` bound to its pattern (text, pos, endpos).
_Search = Callable[[str, int, int], re.Match[str] | None]


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

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # An Extractor is pickled to reach worker processes. Rebuilt from its fields: the
        # class compiled with mypyc cannot be made without calling __init__.
        return (_restored_search, (self.words, self.shadows, self.bit, self._compiled))

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

    def spans(self, text: str, pos: int, endpos: int) -> list[tuple[int, int]]:
        """Every place ``(start, end)`` inside ``text[pos:endpos]`` where one of ``words``
        stands and not inside a pseudo word, overlapping and nested ones included (the
        automaton's view of the list, for when its hits are not at hand)."""
        found: list[tuple[int, int]] = []
        shadows = self.shadows
        for word in self.words:
            if not word:
                continue
            at = text.find(word, pos, endpos)
            while at != -1:
                pairs = shadows.get(word) if shadows else None
                if pairs is None or not inside_pseudo_word(text, at, pairs):
                    found.append((at, at + len(word)))
                at = text.find(word, at + 1, endpos)
        return found


def _restored_search(words: tuple[str, ...], shadows: dict[str, PseudoWords], bit: int,
                     compiled: re.Pattern[str] | None) -> _WordSearch:
    """The :class:`_WordSearch` that ``__reduce__`` pickled."""
    search = _WordSearch(words, shadows)
    search.bit = bit
    search._compiled = compiled
    return search


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
    :meth:`claimx.match._WordAutomaton.find_all`): a word holding neither occurs at the
    same places in both texts. The empty word is never in the automaton."""
    return all(words) and _UNSCANNABLE.search("".join(words)) is None


# The surrogate code points, as chr() values: mypyc compiles no surrogate in a str literal.
_FIRST_SURROGATE, _LAST_SURROGATE = chr(0xD800), chr(0xDFFF)
#: A lone surrogate or U+FFFD (see :func:`_scanned_exactly`).
_UNSCANNABLE = re.compile(f"[{_FIRST_SURROGATE}-{_LAST_SURROGATE}\ufffd]")


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
