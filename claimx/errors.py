"""Errors claimx raises, and the catalogue of stable codes used for rule-pack problems.

Pack problems are collected, never raised one at a time: a :class:`PackLoadError` carries
every :class:`PackProblem` found, each printable as ``file:line:col: CODE message``.
"""

from __future__ import annotations

import attrs

__all__ = [
    "CODES",
    "ClaimxError",
    "PackLoadError",
    "PackProblem",
    "RuleTimeoutError",
    "WARNINGS",
    "problem_order",
]

#: Stable problem codes: code -> (short title, hint shown to the pack author).
CODES: dict[str, tuple[str, str]] = {
    "CX100": ("file cannot be read", "check the path and that the file is UTF-8 text"),
    "CX101": ("YAML syntax error", "fix the YAML near the marked position (indentation, quotes, colons)"),
    "CX102": ("pack.yaml missing", "a pack is a folder holding pack.yaml and rule files"),
    "CX103": ("pack not found", "give a bundled pack name (see `claimx packs`) or a folder path"),
    "CX104": ("pack needs a newer claimx", "upgrade claimx or lower `requires_claimx`"),
    "CX105": ("outside the pack", ("a pack reads only files inside its own folder; imports "
                                   "name a bundled pack or a pack folder next to this one")),
    "CX106": ("not a regular file", "rule files must be regular files, not FIFOs, devices or folders"),
    "CX107": ("too large", "split the file or the pack (limits: docs/rule-packs.md, 'What a pack may read')"),
    "CX110": ("unknown key", "remove the key or fix its spelling"),
    "CX111": ("missing required key", "add the key"),
    "CX112": ("wrong type", "give a value of the expected type"),
    "CX113": ("bad value", "use one of the allowed values"),
    "CX120": ("duplicate rule id", "rule ids must be unique across all loaded packs"),
    "CX121": ("unknown var", "define it under `vars:` in this pack or an imported pack"),
    "CX122": ("unknown claim type", "declare it under `claim_types:` in pack.yaml"),
    "CX123": ("bad regular expression", "fix the pattern; it is compiled with the `regex` module"),
    "CX124": ("empty cue list", "give at least one non-empty cue"),
    "CX125": ("unknown import", "imports and extends name bundled or installed packs, or folders relative to pack.yaml"),
    "CX126": ("duplicate var", "var names must be unique within a pack"),
    "CX127": ("bad calibration", "calibration points must be [raw, calibrated] pairs in [0, 1], raw increasing"),
    "CX128": ("duplicate key", "a key may appear once per mapping; merge the two entries"),
    "CX129": ("extends cycle", "packs that build on each other must form a chain, not a loop, and have different names"),
    "CX130": ("example does not hold", "fix the rule or the example"),
    "CX131": ("bad disable", "`disable:` lists rule ids of the packs in `extends:`"),
    "CX132": ("nothing to override", "`override: true` replaces a rule of the same id of an extended pack"),
    "CX140": ("bad test-file marker", "write 【TYPE: span】 or 【TYPE|hedged: span】; a literal 【 is written \\【"),
    "CX141": ("unknown claim type in a test file", "use a claim type the packs declare"),
    "CX150": ("import is not extends", "`imports:` shares vars and claim types only; `extends:` builds on a whole pack"),
    "CX151": ("var shadows an imported var", "extend it with `name: {extend: [...]}`, or rename it"),
    "CX152": ("pattern rule without anchors", "give `anchors:` words every match holds, so the pattern is searched only in sentences that hold one"),
    "CX153": ("cue word of another rule of the type", "list each word in one lexicon rule of a claim type; to change how a shared word is read, edit that rule (or `override:` it)"),
    "CX154": ("cue word that normalised text never holds", "write cue words as rules read text: simplified script, half-width letters, digits and punctuation, 着 for the particle (see docs/rule-authoring.md)"),
}

#: Codes of problems that are warnings: reported by ``claimx lint``, never a load failure.
WARNINGS = frozenset({"CX150", "CX151", "CX152", "CX153", "CX154"})


class ClaimxError(Exception):
    """Base class of every error claimx raises on purpose."""


@attrs.frozen(slots=True)
class PackProblem:
    """One located problem in a rule pack."""

    code: str
    message: str
    path: str
    line: int = 0  # 1-based; 0 when the problem has no position (a missing file)
    column: int = 0  # 1-based
    hint: str = ""
    severity: str = "error"  # or "warning": reported, but the pack still loads

    def __str__(self) -> str:
        where = self.path if not self.line else f"{self.path}:{self.line}:{self.column}"
        hint = self.hint or CODES.get(self.code, ("", ""))[1]
        kind = "warning: " if self.severity == "warning" else ""
        return f"{where}: {self.code} {kind}{self.message}" + (f" (hint: {hint})" if hint else "")

    def to_dict(self) -> dict[str, object]:
        """Plain data (``claimx lint --format json``)."""
        return {"path": self.path, "line": self.line, "column": self.column, "code": self.code,
                "severity": self.severity, "message": self.message,
                "hint": self.hint or CODES.get(self.code, ("", ""))[1]}


def problem_order(problem: PackProblem) -> tuple[int, str, int, int]:
    """Sort key of problems: root causes first — reading (CX10x), then schema (CX11x),
    compile (CX12x), then the rest — and within a stage by file and position."""
    stage = {"CX10": 0, "CX11": 1, "CX12": 2}.get(problem.code[:4], 3)
    return (stage, problem.path, problem.line, problem.column)


class PackLoadError(ClaimxError):
    """A pack could not be loaded; ``problems`` lists every problem found, all at once."""

    def __init__(self, problems: list[PackProblem] | tuple[PackProblem, ...]) -> None:
        # Root causes first (a file that cannot be read or parsed, then schema problems,
        # then what compiling found), each stage by file and position, like a linter.
        self.problems: tuple[PackProblem, ...] = tuple(sorted(problems, key=problem_order))
        count = len(self.problems)
        lines = "\n".join(str(p) for p in self.problems)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} in rule pack(s):\n{lines}")


class RuleTimeoutError(ClaimxError):
    """A rule's regular expression (a pattern rule's, or a token rule's REGEX) ran past its
    timeout, or past the document's regex budget, on some text."""

    def __init__(self, rule_id: str, where: str, timeout: float, offset: int, *,
                 budget: float | None = None) -> None:
        self.rule_id = rule_id
        self.where = where
        self.timeout = timeout
        self.offset = offset
        #: Set when the document's whole regex budget (seconds) ran out, not one call.
        self.budget = budget
        what = (f"used up the document's regex budget of {budget:g}s" if budget is not None
                else f"gave up after {timeout:g}s")
        super().__init__(
            f"rule '{rule_id}' ({where}) {what} on the sentence at offset {offset}; the "
            f"pattern backtracks catastrophically (nested quantifiers such as (a+)+); rewrite "
            f"it, or skip such text: on_rule_timeout='skip' in Python, "
            f"--on-rule-timeout skip for claimx tag and explain"
        )
