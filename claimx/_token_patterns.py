"""Light validation of spaCy Matcher token patterns, without importing spaCy.

Pack loading must not need spaCy; the token matcher validates fully when it is built.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["validate_token_patterns"]

_ATTRS = {"ORTH", "TEXT", "NORM", "LOWER", "LENGTH", "IS_ALPHA", "IS_ASCII", "IS_DIGIT",
          "IS_PUNCT", "IS_SPACE", "IS_STOP", "LIKE_NUM", "POS", "TAG", "LEMMA", "SHAPE",
          "OP", "ENT_TYPE", "_"}
_OPS = {"!", "?", "+", "*", "{"}
_PREDICATES = {"REGEX", "IN", "NOT_IN", "==", ">=", "<=", ">", "<", "!=", "IS_SUBSET",
               "IS_SUPERSET", "INTERSECTS", "FUZZY"}


def validate_token_patterns(patterns: Sequence[Sequence[dict[str, Any]]]) -> list[str]:
    """Problems found in Matcher patterns (unknown attributes, operators, predicates)."""
    problems: list[str] = []
    for pi, pattern in enumerate(patterns, 1):
        for ti, token in enumerate(pattern, 1):
            for key, value in token.items():
                where = f"pattern {pi}, token {ti}"
                if key.upper() not in _ATTRS:
                    problems.append(f"{where}: unknown token attribute '{key}'")
                elif key.upper() == "OP" and (not isinstance(value, str) or value[:1] not in _OPS):
                    problems.append(f"{where}: OP must be one of ! ? + * or {{n,m}}, got {value!r}")
                elif key == "_" and not isinstance(value, dict):
                    # Checked here because spaCy never sees it on a token with a REGEX:
                    # claimx.tokens replaces the field with an extension of its own then.
                    problems.append(f"{where}: '_' must map extension attribute names to "
                                    f"values, got {value!r}")
                elif isinstance(value, dict):
                    for predicate in value:
                        if predicate not in _PREDICATES:
                            problems.append(f"{where}: unknown predicate '{predicate}' on {key}")
                    if isinstance(value.get("REGEX"), str):
                        problem = _regex_problem(value["REGEX"])
                        if problem:
                            problems.append(f"{where}: REGEX on {key} {problem}")
    return problems


def _regex_problem(expression: str) -> str | None:
    """Why a token REGEX cannot be used (it runs with the ``regex`` module and a timeout,
    see claimx/tokens.py), or None. A non-string REGEX is left to spaCy's validator."""
    import regex

    from claimx._regex_guard import pattern_problem

    refused = pattern_problem(expression)
    if refused is not None:
        return f"is refused: {refused}"
    try:
        regex.compile(expression)
    except (regex.error, RecursionError, MemoryError, OverflowError, ValueError) as exc:
        return f"does not compile: {exc or type(exc).__name__}"
    return None
