"""Text normalisation with an offset map back to the caller's original text.

Rules match on :attr:`NormalizedText.text`; every span they find is mapped back with
:meth:`NormalizedText.to_original`, so reported offsets always point into the original.

What :func:`normalize` does, in one pass that already reaches its fixpoint:

1. drops inline pinyin annotations after a Han character or a lost-character mark
   (``網(wǎng)經(jīng)社`` → ``网经社``, ``小程序?(qū)將`` → ``小程序?将``);
2. drops zero-width / control characters, lone surrogates and noncharacters;
3. collapses whitespace runs (incl. U+3000) to ``"\\n"`` if they hold a line break, else ``" "``;
4. folds full-width ASCII (U+FF01–U+FF5E) to half-width (``，`` → ``,``, ``Ａ１`` → ``A1``);
5. converts traditional to simplified Chinese with OpenCC ``t2s`` (not called for a text
   holding no character it can change, see claimx._t2s_chars), and reads the particle
   著 as 着 (``隨著`` → ``随着``; ``显著`` and ``著名`` keep it).

>>> n = normalize("微(wēi)信將推出新產品，")
>>> n.text
'微信将推出新产品,'
>>> n.original_slice(0, 2)
'微(wēi)信'
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_right
from typing import Any

import attrs
import regex

__all__ = ["NormalizedText", "OffsetMap", "normalize"]


# --------------------------------------------------------------------------- patterns

# Invisible characters: controls that are not whitespace, format characters (ZWSP, BOM,
# bidi marks, soft hyphen …), lone surrogates and noncharacters.  They are removed.
_INVISIBLE = r"[[\p{Cc}\p{Cf}\p{Cs}\p{Noncharacter_Code_Point}]--\p{White_Space}]"
_WS = r"\p{White_Space}"
_LINE_BREAKS = "\n\x0b\x0c\r\x85\u2028\u2029"

_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ"
# Pinyin letters: plain a–z, tone-marked vowels / consonants, and full-width ａ–ｚ (which the
# full-width fold would turn into a–z, so both spellings must be annotations already).
_PINYIN = f"[a-z{_TONED}\uff41-\uff5a]"

# Neutral-tone syllables, which pinyin writes with no tone mark (的(de), 了(le), 们(men)),
# each with the characters it is read for: with no tone-marked letter to tell it from a
# Latin word in brackets, such an annotation counts only right after one of them or after
# another annotation (好(de) is kept, 好(hǎo)(de) is not: one pass must leave nothing a
# second would remove; a lost-character mark may stand for any of them).
_NEUTRAL_SYLLABLES: dict[str, str] = {
    "de": "的地得底", "le": "了", "me": "么麼嘛", "ne": "呢", "ma": "吗嗎嘛麻", "ba": "吧罢",
    "men": "们們", "zi": "子", "zhe": "着著", "guo": "过過", "ge": "个個", "ya": "呀",
    "la": "啦", "li": "里裏裡", "tou": "头頭", "wa": "哇", "na": "哪那",
}

# One annotation: an opening paren, 1–8 pinyin letters with at least one tone mark or ü
# (or a neutral-tone syllable after its character), and a closing paren.  Invisible
# characters may sit anywhere inside: if they did not, the removal of an invisible
# character would turn text into an annotation and a second pass would change it again
# (idempotence).
_NEUTRAL_ANNOTATION = "|".join(
    rf"(?<=(?:[{chars}?？\ufffd]|[)）]){_INVISIBLE}*)[(（]{_INVISIBLE}*"
    + f"{_INVISIBLE}*".join(syllable) + rf"{_INVISIBLE}*[)）]"
    for syllable, chars in _NEUTRAL_SYLLABLES.items())
_ANNOTATION = (
    rf"(?:[(（](?={_INVISIBLE}*(?:{_PINYIN}{_INVISIBLE}*){{0,7}}[{_TONED}])"
    rf"{_INVISIBLE}*(?:{_PINYIN}{_INVISIBLE}*){{1,8}}[)）]|{_NEUTRAL_ANNOTATION})"
)

# The single pattern of length-changing edits, alternatives tried in this order:
#   ann – annotations (with the invisible characters around them) right after a Han
#         character or a lost-character mark; several in a row go in one match;
#   ws  – whitespace runs that are not already a lone " " or "\n" (invisible characters
#         inside the run are swallowed, so one pass leaves a single character);
#   inv – any other run of invisible characters.
# What a printable text must hold for an annotation to be in it: a tone-marked letter, or a
# neutral-tone syllable in brackets (a printable text has no invisible character inside one).
_ANNOTATION_HINT = re.compile(f"[{_TONED}]|[(（](?:{'|'.join(_NEUTRAL_SYLLABLES)})[)）]")

_EDITS = regex.compile(
    rf"(?P<ann>(?<=[\p{{Han}}?？\ufffd]){_INVISIBLE}*(?:{_ANNOTATION}{_INVISIBLE}*)+)"
    rf"|(?P<ws>[ \n](?:{_WS}|{_INVISIBLE})+|[{_WS}--[ \n]](?:{_WS}|{_INVISIBLE})*)"
    rf"|(?P<inv>{_INVISIBLE}+)",
    regex.V1,
)

# The standard library's engine scans a plain character range faster than ``regex`` (10 ms
# against 13 ms over the benchmark corpus); nothing here needs ``regex``'s features.
_FULLWIDTH = re.compile("[\uff01-\uff5e]")
_HAN_RUN = regex.compile(r"\p{Han}+")


# --------------------------------------------------------------------------- OpenCC

_converter: Any = None
#: A search for a character ``t2s`` can change (see claimx._t2s_chars), or None when the
#: installed OpenCC is not the version that list was derived from; set with _converter.
_may_change: re.Pattern[str] | None = None
_converter_lock = threading.Lock()


def _t2s() -> tuple[Any, re.Pattern[str] | None]:
    """Return the shared OpenCC ``t2s`` converter and the search for a character it can
    change, creating them once (thread-safe)."""
    global _converter, _may_change
    conv = _converter
    if conv is None:
        with _converter_lock:
            conv = _converter
            if conv is None:
                import opencc  # imported lazily: loading the dictionaries is not free

                from claimx._t2s_chars import CHANGED_BY_T2S, OPENCC_VERSION

                if getattr(opencc, "__version__", None) == OPENCC_VERSION:
                    _may_change = re.compile(_char_class(CHANGED_BY_T2S))
                conv = opencc.OpenCC("t2s")
                _converter = conv
    return conv, _may_change


def _char_class(chars: str) -> str:
    """A character class of ``chars`` (sorted) written as ranges, plus
    every character outside the BMP and every surrogate, which the check does not list
    one by one (so a text holding one is always converted)."""
    ranges: list[list[int]] = []
    for code in map(ord, chars):
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    parts = [re.escape(chr(low)) + ("-" + re.escape(chr(high)) if high > low else "")
             for low, high in ranges if high < 0x10000]
    return "[" + "".join(parts) + "\ud800-\udfff\U00010000-\U0010ffff]"


def _convert_fixpoint(conv: Any, text: str) -> str:
    """Apply ``t2s`` until nothing changes (a few mappings chain, e.g. 薴 → 苧 → 苎)."""
    out = conv.convert(text)
    for _ in range(4):
        if out == text:
            break
        text, out = out, conv.convert(out)
    return out


# The aspect particle 着 (随着, 面临着, 意味着) and the verb 着 (着手, 着力, 着眼) are written
# 著 in traditional text, and OpenCC's ``t2s`` keeps 著 outside the few phrases it lists
# (隨著 → 随著), because simplified Chinese keeps 著 too where it means "notable" or
# "write" (显著, 著名, 著作). Rules and cue words use 着, so every other 著 is read as 着.
# Simplified text written with 意味著 is read the same way.
_ZHE_AS_PARTICLE = re.compile(
    "(?<![显卓昭土原名专编巨遗论译合新拙所撰宏])著(?![名作称述录书有者文])")


def _read_zhe(text: str) -> str:
    """Write the particle and verb 着 that traditional text spells 著 as 着 (same length)."""
    if "著" not in text:
        return text
    return _ZHE_AS_PARTICLE.sub("着", text)


def _to_simplified(text: str) -> str:
    """Traditional → simplified with the result exactly as long as ``text``; the particle
    著 is read as 着 (see _ZHE_AS_PARTICLE)."""
    return _read_zhe(_t2s_same_length(text))


def _t2s_same_length(text: str) -> str:
    """Traditional → simplified with the result exactly as long as ``text``.

    The common path is one OpenCC call on the whole text.  Phrase conversion may in rare
    cases change the length; then each Han run is converted alone, and a run whose
    length still changes is converted character by character (a character whose own
    conversion changes length is kept), so the offset map stays 1:1.
    """
    if not text:
        return text
    conv, may_change = _t2s()
    if may_change is not None and may_change.search(text) is None:
        # No character the conversion could change (most simplified text): the search
        # costs a few percent of the conversion.
        return text
    out = _convert_fixpoint(conv, text)
    if len(out) == len(text):
        return out
    pieces: list[str] = []
    pos = 0
    for m in _HAN_RUN.finditer(text):
        pieces.append(text[pos:m.start()])
        run = m.group()
        conv_run = _convert_fixpoint(conv, run)
        if len(conv_run) != len(run):
            chars = []
            for ch in run:  # rare fallback only: the common path has no per-char loop
                c = _convert_fixpoint(conv, ch)
                chars.append(c if len(c) == 1 else ch)
            conv_run = "".join(chars)
        pieces.append(conv_run)
        pos = m.end()
    pieces.append(text[pos:])
    return "".join(pieces)


# --------------------------------------------------------------------------- offset map


@attrs.frozen(slots=True)
class OffsetMap:
    """Maps offsets in normalised text back to code-point offsets in the original.

    The map is a sorted list of breakpoints: piece ``k`` starts at normalised offset
    ``norm_starts[k]`` and original offset ``orig_starts[k]``; each of its characters
    covers ``widths[k]`` original characters (1 for copied text; a whitespace run collapsed
    to one character is a one-character piece covering the whole run).  Removed text
    (annotations, invisible characters) lies between pieces and is covered by no
    normalised character.

    >>> m = normalize("網(wǎng)經社").offsets
    >>> m.to_original(0, 1), m.to_original(1, 3)
    ((0, 1), (7, 9))
    """

    norm_len: int
    orig_len: int
    norm_starts: tuple[int, ...] = (0,)
    orig_starts: tuple[int, ...] = (0,)
    widths: tuple[int, ...] = (1,)
    # True when nothing was removed or collapsed (most news text): every offset maps to
    # itself and :meth:`to_original` skips the search.
    _unchanged: bool = attrs.field(init=False, eq=False, repr=False)

    @_unchanged.default
    def _is_unchanged(self) -> bool:
        return (self.norm_len == self.orig_len and self.norm_starts == (0,)
                and self.orig_starts == (0,) and self.widths == (1,))

    @property
    def is_identity(self) -> bool:
        """Whether every normalised offset maps to itself (nothing was removed or
        collapsed): then a span inside the text needs no mapping."""
        return self._unchanged

    @classmethod
    def identity(cls, length: int) -> OffsetMap:
        """The map of a text that normalisation did not change in length or position."""
        return cls(length, length)

    def _clamp(self, index: int) -> int:
        return 0 if index < 0 else (self.norm_len if index > self.norm_len else index)

    def original_start(self, index: int) -> int:
        """Original offset where the normalised character at ``index`` begins.

        ``index == len(normalised)`` maps to ``len(original)``.
        """
        index = self._clamp(index)
        if index >= self.norm_len:
            return self.orig_len
        k = bisect_right(self.norm_starts, index) - 1
        return self.orig_starts[k] + (index - self.norm_starts[k]) * self.widths[k]

    def original_end(self, index: int) -> int:
        """Original end (exclusive) of the normalised character at ``index - 1``.

        ``index == 0`` maps to ``original_start(0)``.
        """
        index = self._clamp(index)
        if index == 0:
            return self.original_start(0)
        j = index - 1
        k = bisect_right(self.norm_starts, j) - 1
        w = self.widths[k]
        return self.orig_starts[k] + (j - self.norm_starts[k]) * w + w

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map the normalised span ``[start, end)`` to an original span.

        An empty span maps to the empty span at ``original_start(start)``; offsets out of
        range are clamped, so the result always satisfies ``0 <= s <= e <= len(original)``.
        """
        start = self._clamp(start)
        end = self._clamp(end)
        if self._unchanged:
            return (start, end) if end > start else (start, start)
        if end <= start:
            s = self.original_start(start)
            return (s, s)
        return (self.original_start(start), self.original_end(end))


@attrs.frozen(slots=True)
class NormalizedText:
    """The result of :func:`normalize`: original and normalised text plus the offset map.

    >>> n = normalize("新(xīn)產品")
    >>> n.text, n.to_original(0, 3), n.original_slice(1, 3)
    ('新产品', (0, 8), '產品')
    """

    original: str
    text: str
    offsets: OffsetMap

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map the normalised span ``[start, end)`` to the original (see :class:`OffsetMap`)."""
        return self.offsets.to_original(start, end)

    def original_slice(self, start: int, end: int) -> str:
        """The original text behind the normalised span ``[start, end)``."""
        s, e = self.offsets.to_original(start, end)
        return self.original[s:e]

    def original_words(self, start: int, end: int) -> str:
        """The original characters behind each normalised character of ``[start, end)``,
        without what normalisation removed between them (inline pinyin annotations,
        invisible characters): a name as written, in its own script, without the noise.

        >>> normalize("騰(téng)訊公司").original_words(0, 2)
        '騰訊'
        """
        m = self.offsets
        start, end = m._clamp(start), m._clamp(end)
        if m.is_identity or end <= start:
            return self.original_slice(start, end)
        out = []
        k = bisect_right(m.norm_starts, start) - 1
        while k < len(m.norm_starts) and m.norm_starts[k] < end:
            piece_end = m.norm_starts[k + 1] if k + 1 < len(m.norm_starts) else m.norm_len
            a, b = max(start, m.norm_starts[k]), min(end, piece_end)
            if a < b:
                w = m.widths[k]
                base = m.orig_starts[k] - m.norm_starts[k] * w
                out.append(self.original[base + a * w:base + b * w])
            k += 1
        return "".join(out)


# --------------------------------------------------------------------------- normalize


def _fold_full_width(text: str) -> str:
    """Full-width ASCII (U+FF01–U+FF5E) → half-width: ``，`` → ``,``, ``Ａ１`` → ``A1``.

    ``str.translate`` with a dict costs a lookup per character; Chinese prose holds only a
    handful of distinct full-width marks (``，（）：``), so one C-level ``str.replace`` per
    distinct mark is several times faster.
    """
    for ch in set(_FULLWIDTH.findall(text)):
        # Full-width ASCII sits at a fixed offset of 0xFEE0 from ASCII.
        text = text.replace(ch, chr(ord(ch) - 0xFEE0))
    return text


def _may_have_edits(text: str) -> bool:
    """False only when ``_EDITS`` cannot match ``text``: the common clean news text.

    ``str.isprintable`` is false for every control, format, surrogate, unassigned and
    whitespace character except the ASCII space, so a printable text holds no invisible
    character and no whitespace but spaces; then only a double space or an annotation
    could be edited, and an annotation needs a parenthesis and a tone-marked letter (or
    ü), or a neutral-tone syllable in brackets.  Over the benchmark corpus 1,493 of 3,470
    articles hold a parenthesis (stock codes, bylines), but only 43 fail this test.
    """
    return (not text.isprintable() or "  " in text
            or (("(" in text or "（" in text) and _ANNOTATION_HINT.search(text) is not None))


def _ws_replacement(run: str) -> str:
    for ch in _LINE_BREAKS:
        if ch in run:
            return "\n"
    return " "


def normalize(text: str) -> NormalizedText:
    """Normalise ``text`` for rule matching and keep a map back to it.

    Never raises for any ``str`` and is idempotent:
    ``normalize(normalize(x).text).text == normalize(x).text``.

    >>> normalize("騰訊(xùn)宣佈\\u200b：　成立（新）部門").text
    '腾讯宣布: 成立(新)部门'
    """
    if not isinstance(text, str):
        raise TypeError(f"normalize() expects str, got {type(text).__name__}")
    n = len(text)
    if not _may_have_edits(text):
        # Clean text (most news): only one-for-one folds, so offsets map to themselves
        # unless the traditional-to-simplified step changed the length.
        out = _to_simplified(_fold_full_width(text))
        if len(out) == n:
            return NormalizedText(original=text, text=out, offsets=OffsetMap.identity(n))
        return NormalizedText(original=text, text=out,
                              offsets=OffsetMap(len(out), n, (0,), (0,), (1,)))
    pieces: list[str] = []
    norm_starts = [0]
    orig_starts = [0]
    widths = [1]
    pos = 0   # original offset copied up to
    npos = 0  # normalised length produced so far

    def push(ns: int, os: int, w: int) -> None:
        # A breakpoint at the same normalised offset replaces the previous one (nothing
        # of the earlier piece was produced); one that continues a 1:1 piece is skipped.
        if norm_starts[-1] == ns:
            norm_starts[-1], orig_starts[-1], widths[-1] = ns, os, w
        elif w == 1 and widths[-1] == 1 and orig_starts[-1] + (ns - norm_starts[-1]) == os:
            return
        else:
            norm_starts.append(ns)
            orig_starts.append(os)
            widths.append(w)

    for m in _EDITS.finditer(text):
        a, b = m.span()
        if a > pos:
            pieces.append(text[pos:a])
            npos += a - pos
        if m.lastgroup != "ws":
            # Removal: the next normalised character starts after the removed text.
            push(npos, b, 1)
        else:
            pieces.append(_ws_replacement(m.group()))
            push(npos, a, b - a)
            npos += 1
            push(npos, b, 1)
        pos = b

    if pos == 0:
        out = text  # no edits: the common clean-text path is nearly free
    else:
        pieces.append(text[pos:])
        npos += n - pos
        out = "".join(pieces)

    out = _fold_full_width(out)
    out = _to_simplified(out)

    if len(norm_starts) == 1 and orig_starts[0] == 0 and widths[0] == 1 and len(out) == n:
        offsets = OffsetMap.identity(n)
    else:
        offsets = OffsetMap(len(out), n, tuple(norm_starts), tuple(orig_starts), tuple(widths))
    return NormalizedText(original=text, text=out, offsets=offsets)
