"""Which characters a pattern rule's match can begin with, read from the pattern's text.

A rule matched only at clause starts (``match_at: clauses``) is tried at every clause start
that holds one of its anchors, and most tries fail: ``intent.directive`` fails at 58 of
every 100 clause starts it tries over the benchmark corpus, most of them at the first
character (在…, 对…, 2023年…). Each try is a ``regex`` call with a timeout, whose cost is
mostly the call itself (the timeout reads the process CPU clock twice), so a try whose first
character no match can begin with is skipped before the call.

:func:`first_chars` reads the pattern as the ``regex`` module does (VERSION1 syntax) far
enough to collect the atoms a non-empty match may start with, and gives up (None: every try
is made) on anything it does not follow: inline flags, backreferences, conditionals,
fuzzy matching, named lists. Lookarounds, anchors and other zero-width items are skipped
as if absent, so the characters found are a superset of the true ones: a try the check
refuses could not have matched, and the output is the same with and without it.
"""

from __future__ import annotations

from collections.abc import Iterable

import regex

from claimx._pattern_syntax import (UNSUPPORTED_ESCAPES, ZERO_WIDTH_ESCAPES, GiveUp, escape_end,
                                    group_head, quantifier, set_end)

__all__ = ["FirstChars", "first_chars"]


class FirstChars:
    """Answers "can a match begin with this character?" for one pattern, remembering each
    character's answer (a compiled alternation of the possible first atoms decides it the
    first time)."""

    __slots__ = ("_atoms", "_known")

    def __init__(self, atoms: Iterable[str]) -> None:
        self._atoms = regex.compile("(?:" + "|".join(atoms) + ")", regex.VERSION1)
        self._known: dict[str, bool] = {}

    def allows(self, char: str) -> bool:
        """Whether a non-empty match may begin with ``char``."""
        known = self._known.get(char)
        if known is None:
            known = self._known[char] = self._atoms.match(char) is not None
        return known


def first_chars(pattern: str) -> FirstChars | None:
    """The first-character check of ``pattern`` (a ``regex`` VERSION1 pattern), or None
    when the pattern uses syntax this reader does not follow or its first character can be
    anything."""
    try:
        atoms, _nullable, end = _Reader(pattern).alternation(0)
    except (GiveUp, IndexError, ValueError):
        return None
    if end != len(pattern) or not atoms or "." in atoms:
        return None
    try:
        return FirstChars(sorted(atoms))
    except (regex.error, RecursionError, MemoryError, OverflowError, ValueError):
        return None


class _Reader:
    """A recursive reader of pattern text: each method returns the source fragments of the
    atoms a match of what it read may begin with, whether that can match the empty string,
    and where it stopped."""

    def __init__(self, text: str) -> None:
        self.text = text

    def alternation(self, i: int) -> tuple[set[str], bool, int]:
        """Branches separated by ``|``, up to an unmatched ``)`` or the end."""
        atoms, nullable, i = self.sequence(i)
        while i < len(self.text) and self.text[i] == "|":
            more, more_nullable, i = self.sequence(i + 1)
            atoms |= more
            nullable = nullable or more_nullable
        return atoms, nullable, i

    def sequence(self, i: int) -> tuple[set[str], bool, int]:
        """Items up to ``|``, ``)`` or the end: the first atoms of each item until one that
        cannot match empty."""
        text = self.text
        atoms: set[str] = set()
        nullable = True
        while i < len(text) and text[i] not in "|)":
            item_atoms, item_nullable, i = self.item(i)
            if nullable:
                atoms |= item_atoms
                nullable = item_nullable
        return atoms, nullable, i

    def item(self, i: int) -> tuple[set[str], bool, int]:
        """An atom and its quantifier, if any."""
        atoms, nullable, i = self.atom(i)
        counted = quantifier(self.text, i)
        if counted is not None:
            lowest, _, i = counted
            nullable = nullable or lowest == 0
        return atoms, nullable, i

    def atom(self, i: int) -> tuple[set[str], bool, int]:
        text = self.text
        ch = text[i]
        if ch == "(":
            return self.group(i)
        if ch == "[":
            end = set_end(self.text, i)
            return {text[i:end]}, False, end
        if ch == "\\":
            return self.escape(i)
        if ch in "^$":
            return set(), True, i + 1
        if ch == ".":
            return {"."}, False, i + 1
        if ch in "*+?{":
            raise GiveUp  # nothing to repeat
        return {regex.escape(ch)}, False, i + 1

    def group(self, i: int) -> tuple[set[str], bool, int]:
        text = self.text
        if text.startswith("(?#", i):
            end = text.index(")", i)
            return set(), True, end + 1
        inner, zero_width = group_head(text, i)
        atoms, nullable, end = self.alternation(inner)
        if end >= len(text) or text[end] != ")":
            raise GiveUp
        if zero_width:  # a lookaround consumes nothing: skipped (a superset results)
            return set(), True, end + 1
        return atoms, nullable, end + 1

    def escape(self, i: int) -> tuple[set[str], bool, int]:
        text = self.text
        kind = text[i + 1]
        if kind in ZERO_WIDTH_ESCAPES:
            return set(), True, i + 2
        if kind in UNSUPPORTED_ESCAPES:
            raise GiveUp
        end = escape_end(text, i)
        return {text[i:end]}, False, end
