"""The annotated test-file format: prose with the expected claims marked inline.

A test file (``rules/<pack>/tests/*.txt``, UTF-8) holds one test sentence per line::

    # a comment line
    星河科技【strategic_intent: 计划明年在东南亚新建两座数据中心】。
    【risk|hedged: 汇率波动可能导致汇兑损失】。
    ~该行【advantage: 零售业务优势明显】，利润率却连续下滑。
    今天上午，公司召开了年度股东大会。
    todo: 年报显示，公司的客户集中度仍然偏高。

* ``【TYPE|ATTR|…: SPAN】`` (full-width brackets; the colon may be ``:`` or ``：``) marks an
  expected claim of type ``TYPE`` over ``SPAN``. ``ATTR`` may be a modality (``asserted``,
  ``hedged``, ``negated``, ``question``), a polarity (``positive``, ``negative``,
  ``neutral``, ``mixed``), ``subject=NAME``, or ``todo`` (a known gap: reported, never a
  failure). Markers do not nest.
* A line without markers asserts that the pack finds **no claim at all** in it.
* A line with markers asserts exactly those claims: any other claim is a false positive.
  Start the line with ``~`` to check only the marked claims and ignore any others.
* Start a line with ``todo:`` to mark the whole line as a known gap (a false positive the
  pack still makes, say): its failures are reported as todo and do not fail.
* ``#`` starts a comment line (only at the start of a line); blank lines are ignored.
* Escapes: ``\\【``, ``\\】``, ``\\\\`` stand for the literal characters, and ``\\#``,
  ``\\~`` at the start of a line keep a sentence that begins with ``#`` or ``~``.

An expected claim and a produced claim correspond when they have the same type and their
spans overlap by at least half of the shorter span (the annotation guidelines' rule).
"""

from __future__ import annotations

import attrs
import regex

from claimx.errors import ClaimxError
from claimx.types import Modality, Polarity

__all__ = [
    "AnnotatedLine",
    "AnnotationError",
    "ExpectedClaim",
    "parse_annotated",
    "parse_annotated_lines",
]

OPEN, CLOSE, ESCAPE = "【", "】", "\\"
PARTIAL_PREFIX = "~"
TODO_PREFIX = "todo:"
_TYPE_NAME = regex.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")
_MODALITIES = {m.value for m in Modality}
_POLARITIES = {p.value for p in Polarity}


class AnnotationError(ClaimxError):
    """A malformed annotated test file, located as ``path:line:column`` (1-based)."""

    def __init__(self, path: str, line: int, column: int, message: str, hint: str = "") -> None:
        self.path = path
        self.line = line
        self.column = column
        self.message = message
        self.hint = hint
        super().__init__(f"{path}:{line}:{column}: {message}" + (f" (hint: {hint})" if hint else ""))


@attrs.frozen(slots=True)
class ExpectedClaim:
    """One marked span: ``sentence[start:end] == text``; empty fields are not checked."""

    type: str
    start: int
    end: int
    text: str
    modality: str = ""
    polarity: str = ""
    subject: str = ""
    todo: bool = False
    column: int = 0  # 1-based column of the opening 【 in the file line

    def label(self) -> str:
        """``type|attr|…`` as written in a marker, for messages."""
        parts = [self.type, self.modality, self.polarity]
        if self.subject:
            parts.append(f"subject={self.subject}")
        return "|".join(p for p in parts if p)


@attrs.frozen(slots=True)
class AnnotatedLine:
    """One test sentence: the plain text (markers and escapes removed) and its expectations.

    ``partial`` lines check only the marked claims; ``todo`` lines never fail.
    """

    path: str
    line: int
    sentence: str
    expected: tuple[ExpectedClaim, ...]
    partial: bool = False
    todo: bool = False
    raw: str = ""


def _parse_header(header: str, path: str, line_no: int, column: int) -> dict[str, object]:
    """``TYPE|ATTR|…`` → fields of :class:`ExpectedClaim`; raises a located error."""
    parts = [p.strip() for p in header.split("|")]
    type_name = parts[0]
    if not _TYPE_NAME.fullmatch(type_name):
        raise AnnotationError(
            path, line_no, column, f"marker needs a claim type before ':', got {header!r}",
            hint="write 【TYPE: span】 or 【TYPE|hedged: span】; a literal 【 is written \\【")
    fields: dict[str, object] = {"type": type_name}
    for attr in parts[1:]:
        if attr in _MODALITIES:
            key = "modality"
        elif attr in _POLARITIES:
            key = "polarity"
        elif attr == "todo":
            key = "todo"
        elif attr.startswith("subject=") and len(attr) > len("subject="):
            fields["subject"] = attr[len("subject="):]
            continue
        else:
            import difflib

            close = difflib.get_close_matches(attr, [*_MODALITIES, *_POLARITIES, "todo"], n=1,
                                              cutoff=0.6)
            raise AnnotationError(
                path, line_no, column, f"unknown marker attribute {attr!r}",
                hint=(f"did you mean {close[0]!r}? " if close else "") +
                     "attributes are a modality (asserted, hedged, negated, question), a "
                     "polarity (positive, negative, neutral, mixed), subject=NAME or todo")
        if key in fields:
            raise AnnotationError(path, line_no, column, f"marker gives its {key} twice")
        fields[key] = True if key == "todo" else attr
    return fields


def _parse_line(body: str, offset: int, path: str, line_no: int) -> tuple[str, list[ExpectedClaim]]:
    """Strip markers and escapes from ``body`` (which starts at file column ``offset + 1``)."""
    out: list[str] = []
    expected: list[ExpectedClaim] = []
    i = 0
    n = len(body)
    while i < n:
        ch = body[i]
        if ch == ESCAPE and i + 1 < n and body[i + 1] in (OPEN, CLOSE, ESCAPE, "#", "~"):
            out.append(body[i + 1])
            i += 2
            continue
        if ch == CLOSE:
            raise AnnotationError(path, line_no, offset + i + 1, "'】' without an opening '【'",
                                  hint="a literal 】 is written \\】")
        if ch != OPEN:
            out.append(ch)
            i += 1
            continue
        column = offset + i + 1
        colon = regex.compile(r"[:：]").search(body, i + 1)
        close_at = body.find(CLOSE, i + 1)
        if close_at < 0:
            raise AnnotationError(path, line_no, column, "'【' is never closed by '】'",
                                  hint="close the marker, or write a literal 【 as \\【")
        if colon is None or colon.start() > close_at:
            raise AnnotationError(path, line_no, column, "marker lacks ':' between type and span",
                                  hint="write 【TYPE: span】; a literal 【 is written \\【")
        fields = _parse_header(body[i + 1:colon.start()], path, line_no, column)
        j = colon.end()
        if j < n and body[j] == " ":  # one space after the colon is layout, not span
            j += 1
        span_chars: list[str] = []
        while j < n and body[j] != CLOSE:
            if body[j] == ESCAPE and j + 1 < n and body[j + 1] in (OPEN, CLOSE, ESCAPE):
                span_chars.append(body[j + 1])
                j += 2
                continue
            if body[j] == OPEN:
                raise AnnotationError(path, line_no, offset + j + 1, "markers do not nest",
                                      hint="mark overlapping claims on separate lines")
            span_chars.append(body[j])
            j += 1
        if j >= n:
            raise AnnotationError(path, line_no, column, "'【' is never closed by '】'",
                                  hint="an escaped \\】 does not close a marker")
        span = "".join(span_chars)
        if not span.strip():
            raise AnnotationError(path, line_no, column, "marker has an empty span")
        start = len("".join(out))
        out.append(span)
        expected.append(ExpectedClaim(start=start, end=start + len(span), text=span,
                                      column=column, **fields))  # type: ignore[arg-type]
        i = j + 1
    return "".join(out), expected


def parse_annotated(text: str, path: str = "<string>") -> tuple[AnnotatedLine, ...]:
    """Parse an annotated test file's text into its test sentences.

    Raises :class:`AnnotationError` (``path:line:column``) on the first malformed marker;
    :func:`parse_annotated_lines` reports every malformed line and keeps the others.

    >>> [l.expected[0].type for l in parse_annotated("公司【risk: 面临亏损】。")]
    ['risk']
    """
    lines, errors = parse_annotated_lines(text, path)
    if errors:
        raise errors[0]
    return lines


def parse_annotated_lines(text: str, path: str = "<string>"
                          ) -> tuple[tuple[AnnotatedLine, ...], tuple[AnnotationError, ...]]:
    """Parse every line of an annotated test file: the well-formed test sentences, and a
    located :class:`AnnotationError` for each malformed line (the rest of the file still
    counts: one bad marker does not hide the other sentences' results).

    >>> lines, errors = parse_annotated_lines("【risk 面临亏损】。\\n公司【risk: 面临亏损】。")
    >>> [l.line for l in lines], [(e.line, e.column) for e in errors]
    ([2], [(1, 1)])
    """
    lines: list[AnnotatedLine] = []
    errors: list[AnnotationError] = []
    for line_no, raw in enumerate(text.splitlines(), start=1):
        try:
            parsed = _parse_file_line(raw, line_no, path)
        except AnnotationError as exc:
            errors.append(exc)
            continue
        if parsed is not None:
            lines.append(parsed)
    return tuple(lines), tuple(errors)


def _parse_file_line(raw: str, line_no: int, path: str) -> AnnotatedLine | None:
    stripped = raw.strip()
    if not stripped or stripped.startswith("#"):
        return None
    offset = line_start = len(raw) - len(raw.lstrip())
    body = raw.strip()
    todo = partial = False
    if body.startswith(TODO_PREFIX):
        todo = True
        cut = len(TODO_PREFIX)
        cut += len(body[cut:]) - len(body[cut:].lstrip())
        offset, body = offset + cut, body[cut:]
    if body.startswith(PARTIAL_PREFIX):
        partial = True
        cut = 1 + len(body[1:]) - len(body[1:].lstrip())
        offset, body = offset + cut, body[cut:]
    sentence, expected = _parse_line(body, offset, path, line_no)
    if not sentence.strip():
        raise AnnotationError(path, line_no, offset + 1, "test line has no sentence")
    if partial and not expected:
        raise AnnotationError(path, line_no, line_start + 1,
                              "a '~' line checks only its marked claims but marks none",
                              hint="mark a claim, or drop '~' to assert there is no claim")
    return AnnotatedLine(path, line_no, sentence, tuple(expected), partial, todo, raw)
