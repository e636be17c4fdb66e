"""Run a pack's rule examples and annotated test files; tally a per-rule confusion table.

Every example and every annotated sentence is one :class:`Case`. :class:`Runner` runs a
case with an :class:`~claimx.Extractor` over the packs under test and returns an
:class:`Outcome`: its failures (``file:line: expected … got …`` with the expected span
marked ``[…]`` and the produced span ``{…}`` in the sentence) and its contribution to the
confusion table (true positives, false positives, false negatives and todo per rule).

What "a rule fires" means depends on the rule kind: a claim rule (lexicon, pattern,
tokens) fires when a produced claim lists it in ``claim.rules``; a modifier rule fires when
one of its cues touches a produced claim (``claim.evidence.modifiers``); a sentiment rule
fires when its cue is in the sentence sentiment's evidence.
"""

from __future__ import annotations

import difflib
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import attrs

from claimx import _pack_io
from claimx.evaluate import overlaps_enough
from claimx.modifiers import modifiers_for
from claimx.packs import Example, ModifierRule, Pack, Rule, SentimentRule
from claimx.pipeline import Extractor
from claimx.testing.annotated import AnnotatedLine, ExpectedClaim, parse_annotated_lines
from claimx.testing.diagnose import why_missed
from claimx.types import Claim

__all__ = [
    "Case",
    "Failure",
    "Outcome",
    "Report",
    "Runner",
    "collect_cases",
    "display_path",
    "mark_spans",
    "overlaps_enough",
    "rule_coverage",
]

#: Code of a rule example that does not hold.
EXAMPLE_CODE = "CX130"


#: Confusion-table key for an expected claim no rule produced: ``(risk)``.
def _type_key(claim_type: str) -> str:
    return f"({claim_type})"


def display_path(path: Path | str) -> str:
    """``path`` relative to the working directory when it lies below it (clickable in an
    editor and in CI logs), else absolute."""
    return _pack_io.display_path(path)


def mark_spans(sentence: str, expected: Iterable[tuple[int, int]] = (),
               got: Iterable[tuple[int, int]] = ()) -> str:
    """``sentence`` with expected spans bracketed ``[…]`` and produced spans braced ``{…}``.

    >>> mark_spans("公司面临亏损风险。", [(2, 8)], [(4, 8)])
    '公司[面临{亏损风险]}。'
    """
    inserts: list[tuple[int, int, str]] = []  # (position, order, mark): closes before opens
    for start, end in expected:
        inserts += [(start, 2, "["), (end, 1, "]")]
    for start, end in got:
        inserts += [(start, 3, "{"), (end, 0, "}")]
    out: list[str] = []
    last = 0
    for position, _, mark in sorted(inserts):
        out.append(sentence[last:position])
        out.append(mark)
        last = position
    out.append(sentence[last:])
    return "".join(out)


@attrs.frozen(slots=True)
class Case:
    """One test item: a rule example (``rule`` and ``example`` set) or an annotated sentence
    (``line`` set); ``error`` holds a located problem found while collecting it."""

    id: str
    pack: str
    path: str
    lineno: int
    rule: Rule | None = None
    example: Example | None = None
    line: AnnotatedLine | None = None
    error: str = ""
    column: int = 0  # 1-based column of a rule example's text; 0 for annotated lines
    code: str = ""  # the problem code of ``error`` (CX140 for a malformed marker)
    test_file: str = ""  # the pytest file an annotated case is collected from

    @property
    def location(self) -> str:
        """``path:line`` of the case (``path:line:col`` for a rule example)."""
        where = f"{self.path}:{self.lineno}"
        return f"{where}:{self.column}" if self.column else where

    @property
    def pytest_id(self) -> str:
        """The node id under which the pytest plugin collects this case: pasted back as
        ``pytest "ID"`` it runs exactly this case (paths relative to the working
        directory, run from the project root)."""
        file = self.test_file or self.path
        return f"{file}::{self.id}"


@attrs.frozen(slots=True)
class Failure:
    """One expectation that does not hold; ``todo`` failures are known gaps, not failures."""

    location: str
    expected: str
    got: str
    marked: str = ""
    todo: bool = False
    code: str = ""  # CX130 for a rule example that does not hold, CX14x for a test file
    reason: str = ""  # why the rule missed, when it can be told

    def __str__(self) -> str:
        code = f"{self.code} " if self.code else ""
        head = (f"{self.location}: {code}{'todo: ' if self.todo else ''}expected "
                f"{self.expected} got {self.got}")
        why = f"\n    why: {self.reason}" if self.reason else ""
        return head + why + (f"\n    {self.marked}" if self.marked else "")

    def to_dict(self) -> dict[str, object]:
        """Plain data (``claimx test --format json``)."""
        return {"location": self.location, "code": self.code, "expected": self.expected,
                "got": self.got, "reason": self.reason, "marked": self.marked,
                "todo": self.todo}


@attrs.frozen(slots=True)
class Outcome:
    """What running one case gave: failures, notes (a todo that now passes) and counts."""

    case: Case
    failures: tuple[Failure, ...] = ()
    notes: tuple[str, ...] = ()
    counts: tuple[tuple[str, str], ...] = ()  # (rule id or "(type)", "tp" | "fp" | "fn" | "todo")
    rules_seen: frozenset[str] = frozenset()

    @property
    def passed(self) -> bool:
        """True when every failure is a todo."""
        return all(f.todo for f in self.failures)

    def render(self) -> str:
        """The failures and notes, one block each."""
        return "\n".join([str(f) for f in self.failures] + list(self.notes))


def _claim_label(claim: Claim) -> str:
    return f"{claim.type}|{claim.modality.value}|{claim.polarity.value}"


def _claims_text(claims: Sequence[Claim]) -> str:
    if not claims:
        return "no claim"
    return ", ".join(f"{_claim_label(c)} {{{c.text}}} by {'+'.join(c.rules) or '?'}"
                     for c in claims)


def _test_files(pack: Pack) -> list[Path]:
    folder = Path(pack.path) / "tests"
    return sorted(folder.rglob("*.txt")) if folder.is_dir() else []


def collect_cases(packs: Sequence[Pack]) -> list[Case]:
    """Every rule example and annotated sentence of ``packs``, in file order.

    Ids read ``PACK::RULE#N`` (N counts the rule's examples from 1) and
    ``PACK::tests/FILE.txt:LINE``. A test file that does not parse gives one failing case.
    """
    cases: list[Case] = []
    for pack in packs:
        # A pack's own rules: the rules it inherits (``extends:``) are tested with the
        # pack that wrote them.
        for rule in pack.own_rules:
            for number, example in enumerate(rule.examples, start=1):
                loc = example.source or rule.source
                cases.append(Case(id=f"{pack.name}::{rule.id}#{number}", pack=pack.name,
                                  path=display_path(loc.path), lineno=loc.line,
                                  rule=rule, example=example, column=loc.column,
                                  test_file=display_path(Path(pack.path) / "pack.yaml")))
        for file in _test_files(pack):
            cases.extend(annotated_cases(pack, file))
    return cases


def annotated_cases(pack: Pack, file: Path) -> list[Case]:
    """The cases of one annotated test file of ``pack``: one per test sentence, and one
    failing case per malformed line (the file's other lines still run)."""
    root = Path(pack.path)
    try:
        relative = file.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        relative = file.name
    shown = display_path(file)
    try:
        lines, errors = parse_annotated_lines(file.read_text(encoding="utf-8"), shown)
    except (OSError, UnicodeDecodeError) as exc:
        return [Case(id=f"{pack.name}::{relative}", pack=pack.name, path=shown, lineno=0,
                     error=f"{shown}: cannot read: {exc}", code="CX100", test_file=shown)]
    cases = [Case(id=f"{pack.name}::{relative}:{line.line}", pack=pack.name, path=shown,
                  lineno=line.line, line=line, test_file=shown) for line in lines]
    cases += [Case(id=f"{pack.name}::{relative}:{error.line}", pack=pack.name, path=shown,
                   lineno=error.line, error=str(error), code="CX140", test_file=shown)
              for error in errors]
    cases.sort(key=lambda c: c.lineno)
    return cases


class Runner:
    """Runs cases with one extractor over ``packs`` (names or folders), loaded together as
    they would be in use. Raises :class:`~claimx.PackLoadError` if a pack does not load."""

    def __init__(self, packs: Sequence[str | os.PathLike[str]]) -> None:
        self.extractor = Extractor(packs=list(packs))
        self.packs: tuple[Pack, ...] = self.extractor.packs
        self.claim_types: set[str] = {t for p in self.packs for t in p.claim_types}

    def cases(self) -> list[Case]:
        """Every case of the loaded packs."""
        return collect_cases(self.packs)

    def run(self, case: Case) -> Outcome:
        """Run one case."""
        if case.error:
            return Outcome(case, (Failure(case.location, "a well-formed test file", case.error,
                                          code=case.code),))
        if case.example is not None and case.rule is not None:
            return self._run_example(case, case.rule, case.example)
        assert case.line is not None
        return self._run_line(case, case.line)

    def run_all(self, cases: Iterable[Case]) -> Report:
        """Run every case and gather a :class:`Report`."""
        return Report(tuple(self.run(c) for c in cases))

    # ------------------------------------------------------------------ examples

    def _firing(self, rule: Rule, text: str) -> tuple[list[Claim], list[Claim], list[tuple[int, int]]]:
        """(all claims, claims the rule fired in, spans of the rule's sentiment evidence)."""
        analysis = self.extractor.analyze(text)
        claims = list(analysis.claims)
        if isinstance(rule, SentimentRule):
            spans = [(s.start, s.end) for s in analysis.sentiment.evidence if s.rule == rule.id]
            return claims, [], spans
        if isinstance(rule, ModifierRule):
            hits = [c for c in claims if any(m.rule == rule.id for m in c.evidence.modifiers)]
            # A modifier also has an effect when it touches a sentiment cue (大幅下跌).
            own = [s for s in analysis.scopes if s.hit.rule.id == rule.id]
            touched = [h for h in analysis.matches.sentiment if modifiers_for(h.start, h.end, own)]
            spans = [(c.start, c.end) for c in hits] + [
                analysis.normalized.to_original(h.start, h.end) for h in touched]
            return claims, hits, spans
        hits = [c for c in claims if rule.id in c.rules]
        return claims, hits, [(c.start, c.end) for c in hits]

    def _run_example(self, case: Case, rule: Rule, example: Example) -> Outcome:
        text = example.text
        claims, hits, spans = self._firing(rule, text)
        got_spans = [(c.start, c.end) for c in claims]
        seen = frozenset({rule.id})
        if not example.should_match:
            if not spans:
                return Outcome(case, rules_seen=seen)
            return Outcome(case, (Failure(case.location, f"{rule.id} not to fire",
                                          _fired_text(rule, hits, text, spans),
                                          mark_spans(text, (), spans), code=EXAMPLE_CODE),),
                           counts=((rule.id, "fp"),), rules_seen=seen)
        if not spans:
            return Outcome(case, (Failure(case.location, f"{rule.id} to fire",
                                          _claims_text(claims), mark_spans(text, (), got_spans),
                                          code=EXAMPLE_CODE,
                                          reason=why_missed(self.extractor, rule, text)),),
                           counts=((rule.id, "fn"),), rules_seen=seen)
        expect = example.expect
        if not expect or isinstance(rule, SentimentRule):
            return Outcome(case, counts=((rule.id, "tp"),), rules_seen=seen)
        want_span = expect.get("span")
        expected_spans = []
        if want_span:
            at = text.find(want_span)
            if at < 0:
                return Outcome(case, (Failure(case.location, f"span {want_span!r}",
                                              "a span that is not in the example text",
                                              code=EXAMPLE_CODE),),
                               counts=((rule.id, "fn"),), rules_seen=seen)
            expected_spans = [(at, at + len(want_span))]
        for claim in hits:
            if not _expect_problems(expect, claim):
                return Outcome(case, counts=((rule.id, "tp"),), rules_seen=seen)
        if not hits:
            # A modifier that only touched a sentiment word: the expected claim is missing.
            return Outcome(case, (Failure(case.location, f"{rule.id} to reach a claim",
                                          _claims_text(claims), mark_spans(text, (), got_spans),
                                          code=EXAMPLE_CODE,
                                          reason=why_missed(self.extractor, rule, text)),),
                           counts=((rule.id, "fn"),), rules_seen=seen)
        best = hits[0]
        wanted = "|".join(f"{k}={v}" for k, v in expect.items() if k != "span")
        got = "; ".join(_expect_problems(expect, best))
        return Outcome(case, (Failure(case.location, f"{rule.id} to give {wanted or 'a claim'}"
                                      + (f" [{want_span}]" if want_span else ""),
                                      f"{_claim_label(best)} {{{best.text}}} ({got})",
                                      mark_spans(text, expected_spans, [(best.start, best.end)]),
                                      code=EXAMPLE_CODE),),
                       counts=((rule.id, "fn"),), rules_seen=seen)

    # ------------------------------------------------------------------ annotated lines

    def _run_line(self, case: Case, line: AnnotatedLine) -> Outcome:
        unknown = [e for e in line.expected if e.type not in self.claim_types]
        if unknown:
            e = unknown[0]
            close = difflib.get_close_matches(e.type, sorted(self.claim_types), n=1, cutoff=0.6)
            return Outcome(case, (Failure(f"{case.path}:{line.line}:{e.column}",
                                          f"a declared claim type ({', '.join(sorted(self.claim_types))})",
                                          f"'{e.type}'" + (f" (did you mean '{close[0]}'?)"
                                                           if close else ""),
                                          code="CX141"),))
        text = line.sentence
        claims = self.extractor.extract(text)
        used: set[int] = set()
        failures: list[Failure] = []
        notes: list[str] = []
        counts: list[tuple[str, str]] = []
        seen: set[str] = set()
        for c in claims:
            seen.update(c.rules)
        for exp in line.expected:
            todo = exp.todo or line.todo
            candidates = [(min(c.end, exp.end) - max(c.start, exp.start), i)
                          for i, c in enumerate(claims) if i not in used and c.type == exp.type
                          and overlaps_enough(exp.start, exp.end, c.start, c.end)]
            if not candidates:
                near = [c for c in claims if c.start < exp.end and exp.start < c.end]
                failures.append(Failure(case.location, f"{exp.label()} [{exp.text}]",
                                        _claims_text(near) if near else "nothing there",
                                        mark_spans(text, [(exp.start, exp.end)],
                                                   [(c.start, c.end) for c in near]), todo))
                counts.append((_type_key(exp.type), "todo" if todo else "fn"))
                continue
            _, index = max(candidates)
            used.add(index)
            claim = claims[index]
            wrong = _attr_problems(exp, claim)
            if wrong:
                failures.append(Failure(case.location, f"{exp.label()} [{exp.text}]",
                                        f"{_claim_label(claim)} {{{claim.text}}} ({'; '.join(wrong)})",
                                        mark_spans(text, [(exp.start, exp.end)],
                                                   [(claim.start, claim.end)]), todo))
                counts.append((_type_key(exp.type), "todo" if todo else "fn"))
                counts.extend((r, "todo" if todo else "fp") for r in claim.rules)
            else:
                counts.extend((r, "tp") for r in claim.rules)
                if exp.todo:
                    notes.append(f"{case.location}: todo now passes: {exp.label()} [{exp.text}]"
                                 " (remove the todo marker)")
        if not line.partial:
            for i, claim in enumerate(claims):
                if i in used:
                    continue
                failures.append(Failure(case.location, "no claim" if not line.expected else
                                        "no other claim", _claims_text([claim]),
                                        mark_spans(text, [(e.start, e.end) for e in line.expected],
                                                   [(claim.start, claim.end)]), line.todo))
                counts.extend((r, "todo" if line.todo else "fp") for r in claim.rules)
        if line.todo and not failures:
            notes.append(f"{case.location}: todo line now passes (remove 'todo:')")
        return Outcome(case, tuple(failures), tuple(notes), tuple(counts), frozenset(seen))


def _fired_text(rule: Rule, hits: Sequence[Claim], text: str,
                spans: Sequence[tuple[int, int]]) -> str:
    if hits:
        return f"it fired in {_claims_text(hits)}"
    return "it fired on " + ", ".join(f"{{{text[s:e]}}}" for s, e in spans)


def _expect_problems(expect: dict[str, str], claim: Claim) -> list[str]:
    """How ``claim`` differs from an example's ``expect`` mapping (empty: it meets it)."""
    problems = []
    actual = {"type": str(claim.type), "span": claim.text, "polarity": claim.polarity.value,
              "modality": claim.modality.value, "subject": claim.subject or ""}
    for key, want in expect.items():
        if actual.get(key) != want:
            problems.append(f"{key} {actual.get(key)!r}, not {want!r}")
    return problems


def _attr_problems(exp: ExpectedClaim, claim: Claim) -> list[str]:
    problems = []
    if exp.modality and claim.modality.value != exp.modality:
        problems.append(f"modality {claim.modality.value}, not {exp.modality}")
    if exp.polarity and claim.polarity.value != exp.polarity:
        problems.append(f"polarity {claim.polarity.value}, not {exp.polarity}")
    if exp.subject and (claim.subject or "") != exp.subject:
        problems.append(f"subject {claim.subject!r}, not {exp.subject!r}")
    return problems


@attrs.frozen(slots=True)
class Report:
    """The outcomes of a run, with the per-rule confusion table and its rendering."""

    outcomes: tuple[Outcome, ...]

    @property
    def failed(self) -> tuple[Outcome, ...]:
        """Outcomes with a failure that is not a todo."""
        return tuple(o for o in self.outcomes if not o.passed)

    @property
    def todos(self) -> tuple[Failure, ...]:
        """Every known gap (todo failure)."""
        return tuple(f for o in self.outcomes for f in o.failures if f.todo)

    def confusion(self, rules: Iterable[str] = ()) -> dict[str, Counter[str]]:
        """Rule id (or ``(type)`` for a missed claim no rule made) → counts of
        ``tp``/``fp``/``fn``/``todo``; every id in ``rules`` gets a row, even an empty one."""
        table: dict[str, Counter[str]] = {r: Counter() for r in rules}
        for outcome in self.outcomes:
            for key, what in outcome.counts:
                table.setdefault(key, Counter())[what] += 1
        return table

    def format_table(self, rules: Iterable[str] = ()) -> str:
        """The confusion table as aligned text, then a summary line."""
        table = self.confusion(rules)
        width = max([len(k) for k in table] + [4])
        lines = [f"{'rule':<{width}}  {'TP':>4} {'FP':>4} {'FN':>4} {'todo':>4}"]
        for key in sorted(table, key=lambda k: (k.startswith("("), k)):
            c = table[key]
            lines.append(f"{key:<{width}}  {c['tp']:>4} {c['fp']:>4} {c['fn']:>4} {c['todo']:>4}")
        lines.append(self.summary())
        return "\n".join(lines)

    def summary(self) -> str:
        """``N cases: P passed, F failed, T todo``."""
        total = len(self.outcomes)
        failed = len(self.failed)
        return (f"{total} cases: {total - failed} passed, {failed} failed, "
                f"{len(self.todos)} todo")

    def format_failures(self, with_todos: bool = True) -> str:
        """Each failure (then each todo and note) as ``file:line: expected … got …``."""
        blocks = [str(f) for o in self.failed for f in o.failures if not f.todo]
        if with_todos:
            blocks += [str(f) for f in self.todos]
            blocks += [n for o in self.outcomes for n in o.notes]
        return "\n".join(blocks)


def rule_coverage(extractor: Extractor, texts: Iterable[str]) -> Counter[str]:
    """How often each rule of ``extractor`` fires on ``texts`` (claims it made, claims its
    modifiers touched, sentiment evidence); rules that never fire are present with 0."""
    counts: Counter[str] = Counter({r.id: 0 for p in extractor.packs for r in p.rules})
    for text in texts:
        analysis = extractor.analyze(text)
        for claim in analysis.claims:
            for rule_id in claim.rules:
                counts[rule_id] += 1
            for rule_id in {m.rule for m in claim.evidence.modifiers}:
                counts[rule_id] += 1
        for rule_id in {s.rule for s in analysis.sentiment.evidence}:
            counts[rule_id] += 1
    return counts
