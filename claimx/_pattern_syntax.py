"""Pieces of ``regex`` VERSION1 pattern syntax shared by the pattern readers
(:mod:`claimx._first_chars`: which characters a match can begin with;
:mod:`claimx._required_words`: which words every match contains;
:mod:`claimx._lookahead_guard`: a leading lookahead that can be left out). Each reads a
pattern far enough to prove something about its matches and gives up on anything it does
not follow."""

from __future__ import annotations

import re

__all__ = ["QUANTIFIER", "UNSUPPORTED_ESCAPES", "ZERO_WIDTH_ESCAPES", "GiveUp", "escape_end",
           "group_head", "quantifier", "set_end"]

#: Escapes that match no character (word boundaries, string anchors, \K keep).
ZERO_WIDTH_ESCAPES = frozenset("bBAZzGmMK")
#: Escapes whose meaning the readers do not follow: backreferences, named lists.
UNSUPPORTED_ESCAPES = frozenset("0123456789gL")
#: A counted repeat, ``{m}``, ``{m,}``, ``{,n}`` or ``{m,n}``.
QUANTIFIER = re.compile(r"\{(\d*)(?:(,)(\d*))?\}")


class GiveUp(Exception):
    """The pattern uses something the reader does not follow."""


def group_head(text: str, i: int) -> tuple[int, bool]:
    """For the group opening at ``text[i]`` (not a ``(?#…)`` comment): where its content
    starts, and whether it is a lookaround (it consumes nothing). Named and atomic groups
    and branch resets read like plain groups; inline flags, conditionals and recursion
    raise :class:`GiveUp`."""
    if text.startswith(("(?:", "(?>", "(?|", "(?=", "(?!"), i):
        return i + 3, text[i + 2] in "=!"
    if text.startswith(("(?<=", "(?<!"), i):
        return i + 4, True
    if text.startswith(("(?P<", "(?<"), i):
        close = text.index(">", i)
        if not re.fullmatch(r"\w+", text[text.index("<", i) + 1:close]):
            raise GiveUp
        return close + 1, False
    if text.startswith("(?", i):
        raise GiveUp  # inline flags, conditionals, recursion …
    return i + 1, False


def quantifier(text: str, i: int) -> tuple[int, int | None, int] | None:
    """The quantifier at ``text[i]``, if there is one: its least and greatest count (None:
    no limit) and where it ends, lazy or possessive mark included. Fuzzy constraints, a
    brace that is no count, and a quantifier on a quantifier raise :class:`GiveUp`."""
    if i >= len(text) or text[i] not in "?*+{":
        return None
    highest: int | None
    if text[i] == "{":
        found = QUANTIFIER.match(text, i)
        if found is None or found.group() in ("{}", "{,}"):
            raise GiveUp  # fuzzy constraints, or a brace this reader does not know
        lowest = int(found.group(1) or 0)
        if found.group(2) is None:
            highest = lowest
        else:
            highest = int(found.group(3)) if found.group(3) else None
        i = found.end()
    else:
        lowest = 1 if text[i] == "+" else 0
        highest = 1 if text[i] == "?" else None
        i += 1
    if i < len(text) and text[i] in "?+":  # lazy or possessive
        i += 1
    if i < len(text) and text[i] in "?*+{":
        raise GiveUp  # a quantifier on a quantifier
    return lowest, highest, i


def set_end(text: str, i: int, nested: bool = True) -> int:
    """The end of the character set opening at ``text[i]`` (VERSION1 sets nest; with
    ``nested=False``, VERSION0's reading, a ``[`` inside a set is a member). Raises
    IndexError when the set does not close."""
    depth = 0
    j = i
    while True:
        ch = text[j]
        if ch == "\\":
            j += 2
            continue
        if ch == "[" and (nested or depth == 0):
            depth += 1
            j += 1
            if text[j] == "^":
                j += 1
            if text[j] == "]":  # a leading ] is a member, not the end
                j += 1
            continue
        if ch == "]":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1


def escape_end(text: str, i: int) -> int:
    """The end of the escape opening at ``text[i]`` (a backslash): a class (\\d,
    \\p{Han}, \\pL) or a character written by its code (\\x41, \\x{4E00}, \\u4E00,
    \\U0001F600); other escapes are two characters long."""
    kind = text[i + 1]
    end = i + 2
    if kind in "pPN" and text[end:end + 1] == "{":
        return text.index("}", end) + 1
    if kind in "pP":
        return end + 1  # \pL
    if kind == "x":
        return text.index("}", end) + 1 if text[end:end + 1] == "{" else end + 2
    if kind == "u":
        return end + 4
    if kind == "U":
        return end + 8
    return end
