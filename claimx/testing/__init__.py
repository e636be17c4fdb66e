"""Unit tests for rule packs: inline rule examples, annotated prose test files, a runner
with a per-rule confusion table, and a pytest plugin (``claimx.testing.plugin``).

>>> from claimx.testing import Runner                          # doctest: +SKIP
>>> runner = Runner(["zh-business"])                            # doctest: +SKIP
>>> report = runner.run_all(runner.cases())                     # doctest: +SKIP
>>> print(report.format_table())                                # doctest: +SKIP

See ``docs/rule-authoring.md`` for the formats.
"""

from __future__ import annotations

from claimx.testing.annotated import AnnotatedLine, AnnotationError, ExpectedClaim, parse_annotated
from claimx.testing.runner import (
    Case,
    Failure,
    Outcome,
    Report,
    Runner,
    collect_cases,
    mark_spans,
    overlaps_enough,
    rule_coverage,
)

__all__ = [
    "AnnotatedLine",
    "AnnotationError",
    "Case",
    "ExpectedClaim",
    "Failure",
    "Outcome",
    "Report",
    "Runner",
    "collect_cases",
    "mark_spans",
    "overlaps_enough",
    "parse_annotated",
    "rule_coverage",
]
