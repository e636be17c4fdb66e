"""Sentence and clause segmentation of normalised text.

All offsets are into :attr:`claimx.normalize.NormalizedText.text` (the normalised text);
map them back with :meth:`~claimx.normalize.NormalizedText.to_original`.

>>> from claimx.normalize import normalize
>>> [s.clauses[0].heading for s in segment(normalize("优势:成本低。你怎么看?"))]
[True, False]
"""

from __future__ import annotations

import functools

import attrs
import regex

from claimx.normalize import NormalizedText

__all__ = ["Clause", "Sentence", "segment"]

_TERMINALS = "。！？!?"
_QUESTION_MARKS = frozenset("?？")
# Closing quotes/brackets that belong to the sentence they directly follow: `他说:“好。”`.
_CLOSERS = "”’」』)）】》\""
_LINE_BREAKS = "\n\r\x0b\x0c\x85\u2028\u2029"
_COLONS = ":："
_TRIM_CHARS = frozenset(_TERMINALS + _CLOSERS)

# A sentence ends after a run of terminal punctuation plus any closers, or at a line break.
_STOP = regex.compile(
    rf"[{regex.escape(_TERMINALS)}]+[{regex.escape(_CLOSERS)}]*|[{_LINE_BREAKS}]"
)
# Clause separators.  A comma or colon between two digits (`1,900亿`, `10:30`) is part of a
# number or time, not a separator.
_SEPARATOR = regex.compile(r"(?<!\d)[,，:：]|[,，:：](?!\d)|[;；]|—+|-{2,}")
_HAN = regex.compile(r"\p{Han}")
_OPEN_PAREN = regex.compile(r"[(（]")
_HEADING_MAX = 12
#: A "sentence" longer than this (a table dump, a page with no punctuation) is cut into
#: pieces at clause separators, or hard if it has none, so that the per-sentence work of the
#: later stages stays bounded and the pipeline stays linear in the size of the input.
MAX_SENTENCE_CHARS = 1000


@attrs.frozen(slots=True)
class Clause:
    """A clause of a sentence: ``text[start:end]`` in the normalised text.

    Trimmed: no leading whitespace, no trailing whitespace or sentence punctuation, and the
    separator that closed it is not included.  ``heading`` marks a short lead clause closed
    by a colon (at most 12 characters, at the start of its sentence), e.g. ``优势:`` or
    ``行业影响:``.
    """

    start: int
    end: int
    heading: bool = False


@attrs.frozen(slots=True)
class Sentence:
    """A sentence: ``text[start:end]`` in the normalised text.

    Runs from its first non-space character to after its terminal punctuation and any
    closing quotes/brackets (``他说:“会涨。”``); a sentence ended by a line break or the end
    of the text excludes trailing whitespace.  ``is_question`` is true when its terminal
    run (before any closers) holds ``?`` / ``？``.  ``source`` is the whole normalised text
    the offsets index (not part of equality or the repr).

    ``clauses`` are split on first use: most sentences of a news article hold no cue, and
    then no later stage asks for them.
    """

    start: int
    end: int
    is_question: bool = False
    source: str = attrs.field(default="", kw_only=True, eq=False, repr=False)

    @functools.cached_property
    def clause_bounds(self) -> tuple[tuple[int, ...], tuple[int, ...], bool]:
        """The clauses as plain offsets: their starts, their ends, and whether the first is
        a heading (only the first can be). What the pipeline's own stages read: a
        :class:`Clause` object per clause cost more than splitting the sentence did."""
        return _clause_bounds(self.source, self.start, self.end)

    @functools.cached_property
    def clauses(self) -> tuple[Clause, ...]:
        """The clauses of the sentence, in order (see :class:`Clause`)."""
        starts, ends, heading = self.clause_bounds
        return tuple([Clause(start, end, heading and k == 0)
                      for k, (start, end) in enumerate(zip(starts, ends))])

    @functools.cached_property
    def clause_starts(self) -> tuple[int, ...]:
        """Where the clauses start (``[c.start for c in clauses]``)."""
        return self.clause_bounds[0]


def _is_lost_mark(doc: NormalizedText, i: int) -> bool:
    """Whether the ``?`` at normalised offset ``i`` stands for a lost character.

    True when it was an ASCII ``?`` in the original (a full-width ``？`` always ends a
    sentence), a Han character precedes it, and a Han character or a (removed) pinyin
    annotation follows it directly: ``公众号和小程序?将更紧密协同``.
    """
    text = doc.text
    if i == 0 or _HAN.match(text, i - 1) is None:
        return False
    o = doc.offsets.original_start(i)
    if o >= len(doc.original) or doc.original[o] != "?":
        return False
    if i + 1 < len(text) and _HAN.match(text, i + 1) is not None:
        return True
    # Something was removed right after the `?`; if it opened a parenthesis it was an
    # annotation such as `?(qū)`.
    o_next = doc.offsets.original_start(i + 1)
    return o_next > o + 1 and _OPEN_PAREN.search(doc.original, o + 1, o_next) is not None


def _trim_end(text: str, start: int, end: int) -> int:
    """New end of ``text[start:end]`` without trailing whitespace and sentence punctuation.

    Closers go only together with the punctuation before them (``好。”`` → ``好``), so a
    quote that closes a quotation inside the clause stays: ``称其为“龙头”``.
    """
    if end > start:
        last = text[end - 1]
        # Fast path: most clauses end in a Han character, and then there is nothing to trim.
        if not last.isspace() and last not in _TRIM_CHARS:
            return end
    seg = text[start:end]
    while True:
        t = seg.rstrip()
        t = t.rstrip(_TERMINALS)
        bare = t.rstrip(_CLOSERS)
        if bare and bare[-1] in _TERMINALS:
            t = bare.rstrip(_TERMINALS)
        if t == seg:
            return start + len(seg)
        seg = t


def _clause_bounds(text: str, start: int, end: int
                   ) -> tuple[tuple[int, ...], tuple[int, ...], bool]:
    """Starts and ends of the clauses of ``text[start:end]`` and whether the first is a
    heading (see :class:`Clause`)."""
    starts: list[int] = []
    ends: list[int] = []
    heading = False
    cs = start
    seps = [m.span() for m in _SEPARATOR.finditer(text, start, end)]
    seps.append((end, end))
    for a, b in seps:
        if cs < a and not text[cs].isspace():
            s = cs  # the common case: no leading whitespace, no slice to strip
        else:
            seg = text[cs:a]
            s = cs + (len(seg) - len(seg.lstrip()))
        last = text[a - 1] if a > s else " "
        # Most clauses end in a Han character: nothing to trim, no call.
        e = a if not last.isspace() and last not in _TRIM_CHARS else _trim_end(text, s, a)
        if e > s:
            if not starts:
                heading = (s == start and a < end and text[a] in _COLONS
                           and e - s <= _HEADING_MAX)
            starts.append(s)
            ends.append(e)
        cs = b
    return tuple(starts), tuple(ends), heading


def _sentence(text: str, start: int, end: int) -> Sentence | None:
    if start >= end:
        return None
    if text[start].isspace() or text[end - 1].isspace():
        seg = text[start:end]
        stripped = seg.strip()
        if not stripped:
            return None
        start += len(seg) - len(seg.lstrip())
        end = start + len(stripped)
    # `是吗?!` is still a question: look at the whole terminal run before the closers.
    bare_end = end
    while bare_end > start and text[bare_end - 1] in _CLOSERS:
        bare_end -= 1
    run_start = bare_end
    while run_start > start and text[run_start - 1] in _TERMINALS:
        run_start -= 1
    tail = text[run_start:bare_end]
    is_question = not _QUESTION_MARKS.isdisjoint(tail)
    return Sentence(start, end, is_question, source=text)


def segment(doc: NormalizedText) -> tuple[Sentence, ...]:
    """Split normalised text into sentences and clauses.

    Sentences end at ``。！？!?`` (plus closing quotes/brackets) and at line breaks; a ``?``
    that stands for a lost character inside a word does not end one.  Clauses split on
    ``，,；;：:`` and dashes, but not on a comma or colon between digits.

    >>> from claimx.normalize import normalize
    >>> doc = normalize("营收1,900亿元,同比增长。前景如何？")
    >>> [(doc.text[c.start:c.end]) for s in segment(doc) for c in s.clauses]
    ['营收1,900亿元', '同比增长', '前景如何']
    """
    text = doc.text
    out: list[Sentence] = []
    start = 0
    for m in _STOP.finditer(text):
        stop = m.group()
        if stop == "?" and _is_lost_mark(doc, m.start()):
            continue
        if stop in _LINE_BREAKS:
            end = m.start()
        else:
            end = m.end()
            if end - start <= MAX_SENTENCE_CHARS:
                # The common case, without a call: the sentence ends with this terminal run
                # (and its closers), so it has no trailing space and the run is its tail.
                if text[start].isspace():
                    seg = text[start:end]
                    start += len(seg) - len(seg.lstrip())
                out.append(Sentence(start, end, not _QUESTION_MARKS.isdisjoint(
                    stop.rstrip(_CLOSERS)), source=text))
                start = end
                continue
        if end - start <= MAX_SENTENCE_CHARS:
            sentence = _sentence(text, start, end)
            if sentence is not None:
                out.append(sentence)
        else:
            _append_bounded(out, text, start, end)
        start = m.end()
    _append_bounded(out, text, start, len(text))
    return tuple(out)


def _append_bounded(out: list[Sentence], text: str, start: int, end: int) -> None:
    """Append the sentence ``[start, end)``, cut into pieces of at most
    ``MAX_SENTENCE_CHARS`` (at the last clause separator inside the limit, else hard)."""
    while end - start > MAX_SENTENCE_CHARS:
        limit = start + MAX_SENTENCE_CHARS
        cut = None
        for m in _SEPARATOR.finditer(text, start + MAX_SENTENCE_CHARS // 2, limit):
            cut = m.end()
        if cut is None:
            cut = limit
        sent = _sentence(text, start, cut)
        if sent is not None:
            out.append(sent)
        start = cut
    sent = _sentence(text, start, end)
    if sent is not None:
        out.append(sent)
