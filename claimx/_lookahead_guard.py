"""A pattern's leading negative lookahead over plain words, left out where none of them occurs.

A pattern rule may open with a veto on what follows its start, written as a negative
lookahead over a bounded stretch and a list of words::

    (?<!…)(?![^,;。，；]{0,30}?(?:尤为重要|至关重要|…|意味着))…

``regex`` tests it at every position it tries: a lazy walk of up to 30 characters with the
word list tried at each one. In ``intent.directive`` that is half of the rule's time on the
benchmark corpus (15 of 30 ms). The lookahead can only fail where one of its words occurs
after the position tried, and a match is tried only inside one sentence (the engine is
given the sentence's end as ``endpos``, so the lookahead cannot read past it): in a sentence
holding none of the words, the pattern without the lookahead finds exactly the same
matches. One search of the standard ``re`` module for the words over the sentence (about a
microsecond) decides which of the two patterns runs.

Only the plainest form is recognised (anything else keeps the pattern as it is): after any
number of leading lookbehinds (zero-width, so the lookahead is still tested at the position
tried), ``(?!`` + one negated character class + ``{0,N}`` or ``{0,N}?`` + ``(?:`` + words
with no regex syntax in them, joined by ``|`` + ``))``; no case-insensitive or verbose
flags (set or inline). (What the class holds does not matter: whatever stretch it allows,
the lookahead needs one of its words after the position tried.)
"""

from __future__ import annotations

import re

import regex

from claimx._pattern_syntax import set_end

__all__ = ["split_leading_guard"]

#: The lookahead itself, at the position after the leading lookbehinds.
_GUARD = re.compile(
    r"\(\?!\[\^(?:[^\[\]\\]|\\.)*\]\{0,\d+\}\??"
    r"\(\?:(?P<words>[^()\[\]{}\\|.*+?^$\s#]+(?:\|[^()\[\]{}\\|.*+?^$\s#]+)*)\)\)")
#: An inline flag group ((?i), (?x), (?i:…)): any of them could change how the words read.
_INLINE_FLAGS = re.compile(r"\(\?(?!P)[a-zA-Z]")
_UNSAFE_FLAGS = regex.IGNORECASE | regex.VERBOSE


def _group_end(pattern: str, start: int, nested_sets: bool) -> int | None:
    """The index just past the group opening at ``pattern[start]`` (a ``(``), reading
    escapes and character sets (with ``nested_sets``, ``VERSION1``'s sets inside a set:
    ``[[a-z]--[aeiou]]``); None if it does not close."""
    depth = 0
    i, n = start, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":
            try:
                i = set_end(pattern, i, nested_sets)
            except IndexError:  # a set that never closes
                return None
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return None


def split_leading_guard(pattern: str, flags: int) -> tuple[tuple[str, ...], str] | None:
    """``(words, pattern without the lookahead)`` for a pattern that opens (after any
    lookbehinds) with a negative lookahead of the plain form described above; None for
    any other pattern. Where none of ``words`` occurs in ``text[pos:endpos]``, the second
    pattern matches exactly as ``pattern`` does from any position in that range."""
    if flags & _UNSAFE_FLAGS or _INLINE_FLAGS.search(pattern):
        return None
    i = 0
    while pattern.startswith(("(?<!", "(?<="), i):
        end = _group_end(pattern, i, bool(flags & regex.VERSION1))
        if end is None:
            return None
        i = end
    found = _GUARD.match(pattern, i)
    if found is None:
        return None
    return tuple(found.group("words").split("|")), pattern[:i] + pattern[found.end():]
