"""A pattern rule's regex, compiled the first time a text needs it.

A pattern rule's ``$vars`` expand to alternations of hundreds of words, and the ``regex``
module parses a pattern in Python: compiling the bundled pack's 82 pattern rules takes about
a third of a second, a third of a cold start, while a short first text needs a few of them
or none. The pack loader therefore checks each pattern by compiling it with every var cut
down to one word (the pattern as written is what can be wrong: var words are escaped
literals), which reports a syntax error with its place at load time, and hands the rule a
:class:`DeferredPattern` of the full expansion, compiled on first use and kept.
"""

from __future__ import annotations

__all__ = ["DeferredPattern"]

from collections.abc import Iterator, Mapping
from typing import Any

import regex


class DeferredPattern:
    """The full expansion of a pattern rule's regex, compiled on first use.

    It answers the calls claimx makes of a compiled pattern (:meth:`search`, :meth:`match`,
    :meth:`finditer`; the matcher takes :attr:`compiled` once per rule) and holds the
    pattern's text, flags and named groups without compiling it. Two threads that reach it
    first may both compile it; they get equal patterns and one is kept.
    """

    __slots__ = ("pattern", "flags", "groupindex", "_compiled")

    def __init__(self, pattern: str, flags: int, groupindex: Mapping[str, int]) -> None:
        self.pattern = pattern
        self.flags = flags
        #: The named groups, from the check compile at load (the same groups as the full one).
        self.groupindex = dict(groupindex)
        self._compiled: Any = None

    @property
    def ready(self) -> bool:
        """Has the pattern been compiled (a use of :attr:`compiled` costs no compile)?"""
        return self._compiled is not None

    @property
    def compiled(self) -> Any:
        """The compiled ``regex`` pattern (compiled now if this is its first use)."""
        found = self._compiled
        if found is None:
            found = self._compiled = regex.compile(self.pattern, self.flags)
        return found

    def search(self, *args: Any, **kwargs: Any) -> Any:
        """``regex.Pattern.search`` of the compiled pattern."""
        return self.compiled.search(*args, **kwargs)

    def match(self, *args: Any, **kwargs: Any) -> Any:
        """``regex.Pattern.match`` of the compiled pattern."""
        return self.compiled.match(*args, **kwargs)

    def finditer(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        """``regex.Pattern.finditer`` of the compiled pattern."""
        return self.compiled.finditer(*args, **kwargs)  # type: ignore[no-any-return]

    def __reduce__(self) -> tuple[Any, tuple[str, int, dict[str, int]]]:
        # Worker processes get the text and compile on their own first use.
        return (DeferredPattern, (self.pattern, self.flags, self.groupindex))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DeferredPattern):
            return NotImplemented
        return (self.pattern, self.flags) == (other.pattern, other.flags)

    def __hash__(self) -> int:
        return hash((self.pattern, self.flags))

    def __repr__(self) -> str:
        state = "compiled" if self._compiled is not None else "not compiled yet"
        return f"DeferredPattern({self.pattern[:40]!r}…, {state})"
