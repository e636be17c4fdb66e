"""Checks a pack's regular expression must pass before it is compiled.

The ``regex`` module compiles counted repeats by unrolling them: ``(?:a{1000}){1000}``
takes 270 MB and ``(?:(?:a{1000}){1000}){1000}`` ends in MemoryError after several GB; and
its parser recurses once per group, so a few hundred nested groups raise RecursionError.
:func:`pattern_problem` estimates both from the pattern's text, in linear time, so such a
pattern is a located pack problem instead of a process that runs out of memory.
"""

from __future__ import annotations

__all__ = ["MAX_GROUP_DEPTH", "MAX_UNROLLED", "pattern_problem"]

#: Deepest nesting of groups a pack's pattern may use.
MAX_GROUP_DEPTH = 50
#: How many more pattern items than it has characters a pattern may stand for once its
#: counted repeats are unrolled (``a{100000}`` is at the limit: ~40 MB to compile).
MAX_UNROLLED = 100_000


def pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` is refused before compiling (too deeply nested, or too large once
    its counted repeats are unrolled), or None. Syntax errors are left to the compiler."""
    # Each open group holds [size so far, size of its last item]; size counts atoms, and
    # an item repeated {n,m} times counts max(n, m) times its size.
    stack: list[list[int]] = [[0, 0]]
    i, n = 0, len(pattern)
    # A long alternation of plain words (an expanded var) is not a risk; only the growth
    # counted repeats add on top of the pattern's own length is.
    limit = MAX_UNROLLED + n
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            i = _skip_escape(pattern, i)
            _add_atom(stack, 1)
            continue
        if ch == "[":
            i = _skip_class(pattern, i)
            _add_atom(stack, 1)
            continue
        if ch == "(":
            if pattern.startswith("(?#", i):  # a comment
                end = pattern.find(")", i)
                i = n if end < 0 else end + 1
                continue
            stack.append([0, 0])
            if len(stack) - 1 > MAX_GROUP_DEPTH:
                return f"groups nested more than {MAX_GROUP_DEPTH} deep"
            i += 1
            continue
        if ch == ")":
            if len(stack) > 1:
                size = stack.pop()[0]
                _add_atom(stack, size)
            i += 1
            continue
        if ch == "{":
            count, after = _counted(pattern, i)
            if count is not None:
                top = stack[-1]
                top[0] += top[1] * (count - 1)
                top[1] *= count
                if top[0] > limit:
                    return (f"counted repeats that unroll to more than {MAX_UNROLLED:,} "
                            f"items (such as (?:a{{1000}}){{1000}}); use + or * instead")
                i = after
                continue
        if ch == "|":
            stack[-1][1] = 0
            i += 1
            continue
        if ch in "*+?":
            i += 1
            continue
        _add_atom(stack, 1)
        i += 1
    total = sum(size for size, _ in stack)
    if total > limit:
        return (f"counted repeats that unroll to more than {MAX_UNROLLED:,} items "
                f"(such as (?:a{{1000}}){{1000}}); use + or * instead")
    return None


def _add_atom(stack: list[list[int]], size: int) -> None:
    top = stack[-1]
    top[0] += size
    top[1] = size


def _skip_escape(pattern: str, i: int) -> int:
    """Index after the escape starting at ``i`` (``\\p{…}``, ``\\N{…}``, ``\\x{…}`` too)."""
    i += 2
    if i - 1 < len(pattern) and pattern[i - 1] in "pPNxuUg" and pattern.startswith("{", i):
        end = pattern.find("}", i)
        return len(pattern) if end < 0 else end + 1
    return i


def _skip_class(pattern: str, i: int) -> int:
    """Index after the character class opening at ``i`` (nested sets of VERSION1 too)."""
    depth = 0
    i += 1
    if i < len(pattern) and pattern[i] == "^":
        i += 1
    if i < len(pattern) and pattern[i] == "]":  # a literal ] first
        i += 1
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i = _skip_escape(pattern, i)
            continue
        if ch == "[":
            depth += 1
        elif ch == "]":
            if depth == 0:
                return i + 1
            depth -= 1
        i += 1
    return i


def _counted(pattern: str, i: int) -> tuple[int | None, int]:
    """``({n,m} bound, index after it)`` for a counted repeat at ``i``, else ``(None, i)``."""
    end = pattern.find("}", i)
    if end < 0:
        return None, i
    body = pattern[i + 1:end]
    low, _, high = body.partition(",")
    if not (low.strip().isdigit() or (not low.strip() and high.strip().isdigit())):
        return None, i
    bound = max(int(part) for part in (low, high) if part.strip().isdigit())
    after = end + 1
    if after < len(pattern) and pattern[after] in "?+":  # lazy or possessive
        after += 1
    return max(bound, 1), after
