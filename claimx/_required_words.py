"""Which words every match of a pattern rule must contain, read from the pattern's text.

Most pattern rules are run on a sentence because one of their anchors occurs in it, and most
of those runs find nothing: ``impact.causes-party`` (anchored on 使, 让, 导致 …) is tried on
555 sentences of the benchmark corpus and matches none, because the outcome it needs after
the party (受益, 承压, 被迫 …) is not there. A ``regex`` call with a timeout costs a few
microseconds whatever it finds; a plain-word search of the sentence (the standard library's
engine, which skips ahead on the words' first characters) costs far less. So a rule whose
pattern cannot match unless one word of a list occurs is run only on the sentences that
hold one.

:func:`required_words` reads the pattern as the ``regex`` module does (VERSION1 syntax) and
collects, for the items every match must pass through (not optional, not inside a
lookaround), the literal words they can match: a run of plain characters, an alternation
of such runs (an expanded var), several such items in a row joined into longer words.
It gives up on what it does not follow (inline flags, backreferences, conditionals, fuzzy
matching, named lists) and returns no list then, so the test is only ever made with word
lists that every match really contains: the output is the same with and without it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from claimx._pattern_syntax import (UNSUPPORTED_ESCAPES, ZERO_WIDTH_ESCAPES, GiveUp, escape_end,
                                    group_head, quantifier, set_end)

__all__ = ["required_words"]

#: Characters with a meaning of their own outside a character set (VERSION1).
_SPECIAL = frozenset("\\^$.|?*+()[]{}")
#: Characters that stand for themselves, several in a row.
_PLAIN_RUN = re.compile(r"[^\\^$.|?*+()\[\]{}]+")
#: Plain words separated by ``|``.
_PLAIN_ALTERNATION = re.compile(r"[^\\^$.|?*+()\[\]{}]+(?:\|[^\\^$.|?*+()\[\]{}]+)*")
#: At most this many words stand for one item: a longer product of alternations in a row
#: is cut into shorter runs instead.
_MAX_WORDS = 256
#: At most this many lists come out of one alternation (see _Reader.alternation).
_MAX_UNIONS = 3


#: What the reader knows of a piece of pattern: the finite set of strings it matches, when
#: it is one (None otherwise; "" when it can match nothing, as a lookaround), and word
#: lists every match of it contains one word of (each list on its own).
_Summary = tuple[frozenset[str] | None, list[frozenset[str]]]


def required_words(pattern: str, anchors: Iterable[str] = ()) -> tuple[frozenset[str], ...]:
    """Word lists such that every match of ``pattern`` (a ``regex`` VERSION1 pattern)
    contains a word of each, likeliest to rule text out first (the longest shortest word,
    then the fewest words), leaving out the lists every one of ``anchors`` already
    contains a word of (the rule runs only where an anchor is, so they tell nothing).
    Empty when the pattern uses syntax the reader does not follow.

    >>> sorted(map(sorted, required_words("(?:使|令)得?[^,]{0,9}(?:受益|受损)", ["使", "令"])))
    [['受损', '受益']]
    """
    try:
        (exact, lists), end = _Reader(pattern).alternation(0, tuple(anchors))
    except (GiveUp, IndexError, ValueError):
        return ()
    if end != len(pattern):
        return ()
    if exact is not None and "" not in exact:
        lists = [exact, *lists]
    anchor_list = tuple(anchors)
    # Lists every anchor holds a word of are true in every sentence the rule runs on.
    return tuple(words for words in _ranked(lists)
                 if not anchor_list or not _implied(words, anchor_list))


def _ranked(lists: Sequence[frozenset[str]]) -> list[frozenset[str]]:
    """``lists`` that are requirements (no empty word), likeliest to rule out text first:
    the longest shortest word, then the fewest words (then by content, for a fixed order)."""
    usable = {words for words in lists if words and "" not in words}
    return sorted(usable, key=lambda words: (-min(map(len, words)), len(words), sorted(words)))


def _unions(ranked: Sequence[Sequence[frozenset[str]]]) -> set[frozenset[str]]:
    """Unions taking one list of every branch (``ranked``: each branch's lists, likeliest to
    rule text out first): the k-th takes each branch's k-th list (its last when it has
    fewer), so a branch whose first list is weak (its anchors and a common word) still
    lets a second union test what follows them."""
    return {frozenset().union(*(usable[min(k, len(usable) - 1)] for usable in ranked))
            for k in range(min(_MAX_UNIONS, max(map(len, ranked))))}


def _implied(words: frozenset[str], anchors: Sequence[str]) -> bool:
    """Whether every one of ``anchors`` holds a word of ``words`` (so a sentence holding an
    anchor holds one of them too)."""
    return all(any(w in anchor for w in words) for anchor in anchors)


class _Reader:
    """A recursive reader of pattern text: each method returns a :data:`_Summary` of what it
    read and where it stopped."""

    def __init__(self, text: str) -> None:
        self.text = text

    def alternation(self, i: int, anchors: tuple[str, ...] = ()) -> tuple[_Summary, int]:
        """Branches separated by ``|``, up to an unmatched ``)`` or the end. Each branch
        must contain a word of its own list, so every match contains a word of their union.
        With ``anchors`` (the pattern's top level), unions are also made of the branches'
        lists that the anchors do not already imply (see :func:`_implied`)."""
        text = self.text
        words = _PLAIN_ALTERNATION.match(text, i)
        if words is not None and (words.end() == len(text) or text[words.end()] == ")"):
            # Plain words only (an expanded var, or one group of it): the set itself.
            found = frozenset(words.group().split("|"))
            if len(found) == 1:
                return (found, []), words.end()
            return (found if len(found) <= _MAX_WORDS else None, [found]), words.end()
        branches: list[_Summary] = []
        while True:
            plain = _PLAIN_RUN.match(text, i)
            if plain is not None and (plain.end() == len(text) or text[plain.end()] in "|)"):
                # A branch that is one plain word (most branches: an expanded var's words).
                branches.append((frozenset({plain.group()}), []))
                i = plain.end()
            else:
                summary, i = self.sequence(i)
                branches.append(summary)
            if i >= len(text) or text[i] != "|":
                break
            i += 1
        if len(branches) == 1:
            return branches[0], i
        exacts = [exact for exact, _ in branches]
        exact = (frozenset().union(*exacts)  # type: ignore[arg-type]
                 if all(e is not None for e in exacts) else None)
        if exact is not None and len(exact) > _MAX_WORDS:
            exact = None
        # Each branch's lists, likeliest to rule text out first. A union taking one list
        # of every branch is required; the k-th union takes each branch's k-th list (its
        # last when it has fewer), so a branch whose first list is weak (its anchors and
        # a common word) still lets a second union test what follows them.
        ranked: list[list[frozenset[str]]] = []
        for branch_exact, lists in branches:
            usable = _ranked(([branch_exact] if branch_exact is not None else []) + lists)
            if not usable:
                return (exact, []), i
            ranked.append(usable)
        unions = _unions(ranked)
        if anchors:
            # A list every anchor holds a word of is true wherever the rule runs, and so is
            # any union holding it: where the anchors are a word class that every branch
            # names (重点|重心 in both 将…重心转向 and 重心…转向), the unions above all hold
            # one, and the lists after it in each branch (转向, 集中于 …) would go unused.
            telling = [[words for words in usable if not _implied(words, anchors)]
                       for usable in ranked]
            if all(telling):
                unions |= _unions(telling)
        return (exact, list(unions)), i

    def sequence(self, i: int) -> tuple[_Summary, int]:
        """Items up to ``|``, ``)`` or the end. Items with a known set of strings in a row
        join into one set of longer words (as long as it stays small)."""
        text = self.text
        lists: list[frozenset[str]] = []
        run: set[str] = {""}  # the strings the items since the last break match
        whole: set[str] | None = {""}  # ... and all items of the sequence, if known
        exact: frozenset[str] | None  # the strings the next item matches, if known
        item_lists: list[frozenset[str]]
        while i < len(text) and text[i] not in "|)":
            plain = _PLAIN_RUN.match(text, i)
            if plain is not None and plain.end() - i > 1:
                # A run of plain characters is one string (one step, not one per
                # character); its last character is left to item() when a quantifier
                # follows it.
                end = plain.end()
                if end < len(text) and text[end] in "?*+{":
                    end -= 1
                exact, item_lists, i = frozenset({text[i:end]}), [], end
            else:
                (exact, item_lists), i = self.item(i)
            if exact is None:
                lists.extend(item_lists)
                lists.append(frozenset(run))
                run, whole = {""}, None
                continue
            # An item of known strings: the lists inside it add nothing, each of its
            # strings (and so each word of the run) holds a word of them.
            if len(run) * len(exact) <= _MAX_WORDS:
                run = {a + b for a in run for b in exact}
            else:
                lists.append(frozenset(run))
                run = set(exact)
            if whole is not None:
                whole = ({a + b for a in whole for b in exact}
                         if len(whole) * len(exact) <= _MAX_WORDS else None)
        lists.append(frozenset(run))
        return (frozenset(whole) if whole is not None else None, lists), i

    def item(self, i: int) -> tuple[_Summary, int]:
        """An atom and its quantifier, if any."""
        (exact, lists), i = self.atom(i)
        counted = quantifier(self.text, i)
        if counted is not None:
            lowest, highest, i = counted
            if lowest == 0:
                # Optional: requires nothing, but `(?:了)?` still matches a known set.
                return ((exact | {""} if exact is not None and highest == 1 else None), []), i
            if highest != 1:
                # Repeated: each repetition holds a word of the item's lists.
                if exact is not None and "" not in exact:
                    lists = [exact, *lists]
                exact = None
        return (exact, lists), i

    def atom(self, i: int) -> tuple[_Summary, int]:
        text = self.text
        ch = text[i]
        if ch == "(":
            return self.group(i)
        if ch == "[":
            return (None, []), set_end(self.text, i)
        if ch == "\\":
            return self.escape(i)
        if ch in "^$":
            return (frozenset({""}), []), i + 1
        if ch in "*+?{":
            raise GiveUp  # nothing to repeat
        if ch in _SPECIAL:  # `.`, or a stray `]` / `}` this reader leaves alone
            return (None, []), i + 1
        return (frozenset({ch}), []), i + 1

    def group(self, i: int) -> tuple[_Summary, int]:
        text = self.text
        if text.startswith("(?#", i):
            return (frozenset({""}), []), text.index(")", i) + 1
        inner, zero_width = group_head(text, i)
        summary, end = self.alternation(inner)
        if end >= len(text) or text[end] != ")":
            raise GiveUp
        if zero_width:  # a lookaround consumes nothing (what it reads may lie outside)
            return (frozenset({""}), []), end + 1
        return summary, end + 1

    def escape(self, i: int) -> tuple[_Summary, int]:
        text = self.text
        kind = text[i + 1]
        if kind in ZERO_WIDTH_ESCAPES:
            return (frozenset({""}), []), i + 2
        if kind in UNSUPPORTED_ESCAPES:
            raise GiveUp
        if kind.isascii() and not kind.isalnum() and kind != "_":
            return (frozenset({kind}), []), i + 2  # an escaped punctuation mark is itself
        # A class (\d, \p{Han} …) or a character written by its code: not followed as a
        # literal, only stepped over.
        end = escape_end(text, i)
        return (None, []), end
