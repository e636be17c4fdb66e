"""Reading documents from files and writing output files safely: the command line's I/O.

The core library never does I/O; this module is what ``claimx tag`` stands on:

- :func:`decode_bytes` turns a file's bytes into text: BOM sniffing, then a strict UTF-8
  try (the common case, and the one detectors get wrong on short texts), then a strict
  GB18030/Big5 reading that must look like Chinese, then charset-normalizer only where it
  is confident; UTF-8 with stray bytes is an error, never a guessed codepage;
- :func:`expand_paths` turns command-line paths (files, folders, ``-``) into input paths;
- :data:`READERS` maps an input format name to a reader that streams :class:`Document`\\ s
  (a document that could not be read comes out with ``error`` set, never silently
  dropped); a new format is one more entry;
- :class:`AtomicOutput` writes ``-o FILE`` through a temporary file in the same folder and
  renames it into place only on success.
"""

from __future__ import annotations

import codecs
import functools
import json
import os
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import IO, Any

import attrs

__all__ = [
    "READERS",
    "STDIN",
    "AtomicOutput",
    "DecodeError",
    "Document",
    "JsonLines",
    "ReadOptions",
    "decode_bytes",
    "expand_paths",
    "infer_input_format",
    "parse_jsonl_lines",
    "read_jsonl",
    "read_jsonl_lines",
    "read_text",
]

#: The command-line spelling of standard input.
STDIN = "-"

# Longest BOMs first: the UTF-32 LE BOM starts with the UTF-16 LE one.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

# Codecs whose names charset-normalizer reports for Chinese text, mapped to the superset we
# decode with: GB2312 and GBK text is GB18030 text, and GB18030 decodes characters GBK lacks.
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "gb18030": "gb18030", "big5": "big5hkscs",
              "cp950": "big5hkscs", "big5hkscs": "big5hkscs"}

# How much of a JSON Lines file is sampled to pick its encoding when none is forced.
_SNIFF_BYTES = 1 << 16


class DecodeError(ValueError):
    """The bytes could not be decoded as text; the message says what to try."""


def _bom_encoding(data: bytes) -> str | None:
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    return None


def _looks_binary(data: bytes) -> bool:
    """NUL bytes without a UTF-16/32 BOM (checked before) mean an image, archive, …"""
    return b"\x00" in data[:_SNIFF_BYTES]


def decode_bytes(data: bytes, encoding: str = "auto") -> tuple[str, str]:
    """Decode ``data`` to text; returns ``(text, encoding used)``.

    ``encoding="auto"`` sniffs a BOM, then tries strict UTF-8. Bytes that are not UTF-8
    are read as GB18030 or Big5-HKSCS when that reading is strict and made of common
    Chinese characters (and reads better than UTF-8 with stray bytes), else with
    charset-normalizer's guess only when it recognised a language or the reading is CJK.
    Anything else (UTF-8 text with a stray byte, say) raises :class:`DecodeError`: a guessed
    codepage would turn the whole text into mojibake. Any other ``encoding`` is a codec
    name used strictly.

    >>> decode_bytes("公司计划扩产".encode("gb18030"))[1]   # doctest: +SKIP
    'gb18030'
    """
    if encoding != "auto":
        try:
            return data.decode(encoding), encoding
        except LookupError:
            raise DecodeError(f"unknown encoding '{encoding}' (try utf-8, gb18030, big5, utf-16)") from None
        except UnicodeDecodeError as exc:
            raise DecodeError(f"not valid {encoding} at byte {exc.start}; "
                              f"try --encoding auto or another --encoding") from None
    if not data:
        return "", "utf-8"
    bom = _bom_encoding(data)
    if bom is not None:
        try:
            return data.decode(bom), bom
        except UnicodeDecodeError as exc:
            # FF FE 00 00 is the UTF-32 LE BOM, or the UTF-16 LE BOM before a NUL.
            if bom == "utf-32" and data.startswith(codecs.BOM_UTF16_LE):
                try:
                    return data.decode("utf-16"), "utf-16"
                except UnicodeDecodeError:
                    pass
            raise DecodeError(f"starts with a {bom} byte-order mark but is not valid {bom} "
                              f"at byte {exc.start}") from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    if _looks_binary(data):
        if not _utf16_without_bom(data):
            raise DecodeError("looks binary (it holds NUL bytes), not text; "
                              "pass text files, or --encoding NAME if it really is text")
        return _detect(data)
    sample = data[:_SNIFF_BYTES]
    valid, invalid = _utf8_bytes(sample)
    # Stray bytes in UTF-8 make few runs of bad bytes among valid characters that read as
    # ordinary text (a stray byte inside a character spoils it too: one run); in GB18030 or
    # Big5 text the bad bytes are scattered, and what happens to form UTF-8 reads as rare
    # characters.
    runs, characters = _utf8_damage(sample)
    stray_bytes = (runs * _STRAY_RATIO <= characters
                   and _stray_plausibility(sample) >= _MIN_STRAY_PLAUSIBILITY
                   and not _private_or_astral(sample))
    mostly_utf8 = valid >= invalid
    # A strict GB18030 or Big5 reading made of common Chinese characters is a confident
    # answer, unless the bytes are UTF-8 with stray bytes, or mostly UTF-8 whose valid part
    # reads as well: UTF-8 Chinese read as GB18030 often gives common characters too.
    chinese = _chinese_reading(data)
    if chinese is not None and not stray_bytes and (
            not mostly_utf8 or _cjk_score(chinese[0]) >= _utf8_plausibility(sample)):
        return chinese
    if not mostly_utf8:
        from charset_normalizer import from_bytes  # imported late: only off the UTF-8 path

        best = from_bytes(data).best()
        if best is not None and best.encoding is not None:
            name = _SUPERSETS.get(best.encoding.lower().replace("-", "").replace("_", ""),
                                  best.encoding)
            text = str(best)
            # A detector names *some* codec for any bytes; only a reading in which it
            # recognised a language, or that reads as CJK, is taken.
            if (best.coherence > 0 and best.chaos <= _MAX_CHAOS) or _plausible_cjk(text):
                return text, name
    stray = (f"{invalid} byte{'s that are' if invalid != 1 else ' that is'} not UTF-8"
             if mostly_utf8 else "no encoding that reads it as plausible text")
    raise DecodeError(f"not valid UTF-8 at byte {first_bad} ({stray}); fix the file or "
                      f"pass --encoding NAME (utf-8, gb18030, big5, utf-16)")


def _detect(data: bytes) -> tuple[str, str]:
    """What charset-normalizer makes of ``data`` (UTF-16 without a BOM, here)."""
    from charset_normalizer import from_bytes  # imported late: only off the UTF-8 path

    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        raise DecodeError("encoding not recognised; pass --encoding NAME "
                          "(utf-8, gb18030, big5, utf-16)")
    name = _SUPERSETS.get(best.encoding.lower().replace("-", "").replace("_", ""), best.encoding)
    return _pick_reading(data, name)


# Bytes are taken as UTF-8 with stray bytes when there are at least this many valid
# non-ASCII characters per run of bad bytes, and at least this share of what UTF-8 decodes
# is ordinary text.
_STRAY_RATIO = 2
_MIN_STRAY_PLAUSIBILITY = 0.6
# A detector reading is taken only below this share of "mess" (charset-normalizer's chaos).
_MAX_CHAOS = 0.1
# A legacy Chinese reading needs at least this many characters that are not ASCII, and
# this share of them common (see _common): fewer is too little to tell from stray bytes.
_MIN_CJK = 2
_MIN_CJK_SHARE = 0.9


def _utf8_bytes(data: bytes) -> tuple[int, int]:
    """(non-ASCII bytes in valid UTF-8 sequences, bytes UTF-8 rejects) of ``data``; a
    character cut by the end of a sample does not count against it."""
    valid = invalid = 0
    text = data.decode("utf-8", errors="surrogateescape")
    for ch in text:
        o = ord(ch)
        if 0xDC80 <= o <= 0xDCFF:
            invalid += 1
        elif o >= 0x80:
            valid += len(ch.encode("utf-8"))
    return valid, invalid


def _cjk_score(text: str, encoding: str = "") -> float:
    """The share of a text's non-ASCII characters that ordinary Chinese (or Japanese,
    Korean) prose is made of; 0 when there are none. U+FFFD counts against it. For a
    reading in ``encoding`` ("gb18030", "big5hkscs") an ideograph is common only in that
    encoding's frequent level (see :func:`_common`)."""
    sample = [ch for ch in text[:_SCORE_SAMPLE] if ord(ch) >= 0x80]
    if not sample:
        return 0.0
    return sum(_common_cjk(ch, encoding) for ch in sample) / len(sample)


def _utf8_plausibility(data: bytes) -> float:
    """The share of the non-ASCII characters UTF-8 decodes from ``data`` (skipping the
    bytes it rejects) that ordinary text is made of: common CJK, Latin letters with
    accents, general punctuation and currency signs."""
    sample = [ch for ch in data.decode("utf-8", errors="ignore")[:_SCORE_SAMPLE]
              if ord(ch) >= 0x80]
    ordinary = sum(1 for ch in sample if _common_cjk(ch) or 0xA0 <= ord(ch) <= 0x24F
                   or 0x2000 <= ord(ch) <= 0x20CF)
    return ordinary / len(sample) if sample else 0.0


def _utf8_damage(data: bytes) -> tuple[int, int]:
    """(runs of bytes UTF-8 rejects, valid non-ASCII characters) in ``data``."""
    runs = characters = 0
    bad = False
    for ch in data.decode("utf-8", errors="surrogateescape"):
        if 0xDC80 <= ord(ch) <= 0xDCFF:
            runs += not bad
            bad = True
        else:
            bad = False
            characters += ord(ch) >= 0x80
    return runs, characters


def _stray_plausibility(data: bytes) -> float:
    """The share of the non-ASCII characters UTF-8 decodes from ``data`` that are common
    Chinese characters, Latin-1 letters or general punctuation: what text damaged by a stray
    byte is made of. GB18030 or Big5 bytes read as UTF-8 give mostly two-byte characters
    (Greek, Cyrillic, Arabic, Latin Extended) instead."""
    sample = [ch for ch in data.decode("utf-8", errors="ignore")[:_SCORE_SAMPLE]
              if ord(ch) >= 0x80]
    usual = sum(1 for ch in sample if _common(ch) or 0xA0 <= ord(ch) <= 0xFF
                or 0x2000 <= ord(ch) <= 0x206F or 0x3000 <= ord(ch) <= 0x303F
                or 0xFF00 <= ord(ch) <= 0xFFEF)
    return usual / len(sample) if sample else 0.0


def _private_or_astral(data: bytes) -> bool:
    """Whether what UTF-8 decodes from ``data`` holds a private-use or supplementary-plane
    character: real text almost never does, GB18030 bytes read as UTF-8 often do.

    One right after a rejected byte does not count: a stray lead byte takes the
    continuation bytes of the character after it (E5 [EE] 8E 9F: EE 8E 9F is U+E39F), so
    damage alone makes one."""
    after_bad = False
    for ch in data.decode("utf-8", errors="surrogateescape"):
        o = ord(ch)
        if 0xDC80 <= o <= 0xDCFF:
            after_bad = True
            continue
        if (o > 0xFFFF or 0xE000 <= o <= 0xF8FF) and not after_bad:
            return True
        after_bad = False
    return False


def _plausible_cjk(text: str) -> bool:
    sample = [ch for ch in text[:_SCORE_SAMPLE] if ord(ch) >= 0x80]
    return len(sample) >= _MIN_CJK and _cjk_score(text) >= _MIN_CJK_SHARE


def _common_cjk(ch: str, encoding: str = "") -> bool:
    return _common(ch, encoding) or 0xAC00 <= ord(ch) <= 0xD7A3  # Hangul syllables


def _chinese_reading(data: bytes, min_chars: int = _MIN_CJK) -> tuple[str, str] | None:
    """The strict GB18030 or Big5-HKSCS reading of ``data`` that looks most like Chinese
    prose, if one reads as plausible Chinese (``min_chars`` non-ASCII characters or more,
    almost all of them common); None otherwise."""
    try:
        text, name = _pick_reading(data, _CHINESE[0])
    except DecodeError:
        return None
    non_ascii = sum(1 for ch in text[:_SCORE_SAMPLE] if ord(ch) >= 0x80)
    if non_ascii >= min_chars and _cjk_score(text, name) >= _MIN_CJK_SHARE:
        return text, name
    return None


def _utf16_without_bom(data: bytes) -> bool:
    """UTF-16 text without a BOM holds NULs (every other byte of ASCII), like binary
    files do; tell them apart by a strict decode of a prefix that is mostly printable."""
    sample = data[: _SNIFF_BYTES & ~1]
    if len(sample) % 2:
        sample = sample[:-1]
    for name in ("utf-16-le", "utf-16-be"):
        try:
            text = sample.decode(name)
        except UnicodeDecodeError:
            continue
        printable = sum(1 for ch in text if ch.isprintable() or ch in "\r\n\t")
        if text and printable / len(text) > 0.95:
            return True
    return False


# Tried before the detector's own guess, in this order, on equal scores: claimx reads
# Chinese, and GB/Big5 share their byte ranges with each other and with EUC-JP/KR.
_CHINESE = ("gb18030", "big5hkscs")
_SCORE_SAMPLE = 1 << 16


@functools.lru_cache(maxsize=1 << 16)
def _common(ch: str, encoding: str = "") -> bool:
    """Is ``ch`` what ordinary Chinese prose is made of: ASCII, CJK and full-width
    punctuation, kana, or an ideograph of GB2312 or of Big5's frequent-character level?
    Decoding GB bytes as Big5 (or back, or as EUC-JP) mostly gives rare characters.

    For a reading in ``encoding`` only that encoding's frequent characters count: GB2312's
    3,755 of level 1 (lead bytes B0–D7) for "gb18030", Big5's level 1 for "big5hkscs".
    Simplified text in GB keeps to GB2312's first level, while UTF-8 read as GB18030 gives
    its second level, GBK's extension and traditional characters (临 with a stray byte
    reads 涓翠母嬪師): the lead bytes E4–E9 of UTF-8 fall outside the first level."""
    o = ord(ch)
    if o < 0x80 or 0x3000 <= o <= 0x30FF or 0xFF01 <= o <= 0xFF5E:
        return True
    if not 0x4E00 <= o <= 0x9FFF:
        return False
    if encoding == "gb18030":
        try:
            return 0xB0 <= ch.encode("gb2312")[0] <= 0xD7
        except UnicodeEncodeError:
            return False
    if encoding != "big5hkscs":
        try:
            ch.encode("gb2312")
            return True
        except UnicodeEncodeError:
            pass
    try:
        return 0xA4 <= ch.encode("big5")[0] <= 0xC6  # Big5 level 1: A440-C67E
    except UnicodeEncodeError:
        return False


def _score(text: str) -> float:
    sample = text[:_SCORE_SAMPLE]
    return sum(map(_common, sample)) / len(sample) if sample else 0.0


def _pick_reading(data: bytes, detected: str) -> tuple[str, str]:
    """Decode with GB18030, Big5-HKSCS and the detector's guess, and keep the reading
    that looks most like Chinese prose; detectors guess between these on short text."""
    readings: list[tuple[float, int, str, str]] = []
    candidates = list(dict.fromkeys((*_CHINESE, detected)))
    for rank, name in enumerate(candidates):
        try:
            text = data.decode(name)
        except (UnicodeDecodeError, LookupError):
            continue
        readings.append((_score(text), -rank, text, name))
    if not readings:
        raise DecodeError(f"not valid {detected} throughout; pass --encoding NAME")
    _, _, text, name = max(readings)
    return text, name


# --------------------------------------------------------------------------- documents


@attrs.frozen(slots=True)
class Document:
    """One input document, or the failure to read one.

    ``id`` names it in the output (a file path, a record's id field, or ``path:line``);
    ``fields`` are the other fields of a JSON Lines record, carried through to the output.
    ``error`` is set (and ``text`` empty) when the document could not be read.
    """

    id: str
    text: str = ""
    fields: dict[str, Any] = attrs.field(factory=dict)
    source: str = ""
    encoding: str = ""
    error: str = ""
    size: int = 0  # bytes read for it, for the progress bar


@attrs.frozen(slots=True)
class ReadOptions:
    """How to read inputs: the encoding (``auto`` or a codec), and for JSON Lines which
    field holds the text and which the id."""

    encoding: str = "auto"
    text_field: str = "text"
    id_field: str = "id"


def _open_binary(path: str) -> IO[bytes]:
    return sys.stdin.buffer if path == STDIN else open(path, "rb")


def read_text(path: str, options: ReadOptions) -> Iterator[Document]:
    """A plain-text input: the whole file (or stdin) is one document."""
    try:
        if path == STDIN:
            data = sys.stdin.buffer.read()
        else:
            data = Path(path).read_bytes()
    except OSError as exc:
        yield Document(id=path, source=path, error=f"cannot read: {exc.strerror or exc}")
        return
    try:
        text, used = decode_bytes(data, options.encoding)
    except DecodeError as exc:
        yield Document(id=path, source=path, error=str(exc), size=len(data))
        return
    yield Document(id=path, text=text, source=path, encoding=used, size=len(data))


def _jsonl_encoding(head: bytes, forced: str) -> str:
    """The encoding of a JSON Lines stream from its first bytes.

    JSON Lines is UTF-8 by definition, so UTF-8 is assumed unless a BOM or a forced
    encoding says otherwise. The one exception is a file written whole in GB18030 or Big5:
    its sample must not be mostly UTF-8, and must read strictly as at least
    ``_MIN_JSONL_CJK`` common Chinese characters (a few stray bytes never do). Each line is
    then decoded on its own, so a bad line is that line's error, not the whole file's.
    """
    if forced != "auto":
        return forced
    bom = _bom_encoding(head)
    if bom is not None:
        return bom
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:  # a character cut by the sample's end
            return "utf-8"
    sample = head[: head.rfind(b"\n") + 1] or head
    valid, invalid = _utf8_bytes(sample)
    if valid < invalid:
        chinese = _chinese_reading(sample, min_chars=_MIN_JSONL_CJK)
        if chinese is not None:
            return chinese[1]
    return "utf-8"


# See _jsonl_encoding: one stray byte can make at most three such characters.
_MIN_JSONL_CJK = 8


@attrs.frozen(slots=True, eq=False)
class JsonLines:
    """Consecutive lines of one JSON Lines input, not yet decoded or parsed: line
    ``first + i`` of ``path`` is ``lines[i]`` (bytes, or text for a UTF-16/32 file).

    :func:`read_jsonl` is :func:`read_jsonl_lines` followed by :func:`parse_jsonl_lines`;
    ``tag --jobs`` runs the second half in its worker processes, so the one process that
    reads the file only splits it into lines.
    """

    path: str
    encoding: str
    first: int
    lines: list[bytes] | list[str]
    #: Bytes of a UTF-16/32 byte-order mark the decoder took off line 1 (0 otherwise),
    #: counted into that line's size so the sizes of a file's lines add up to the file.
    bom_bytes: int = 0


def read_jsonl_lines(path: str, options: ReadOptions, *, batch_lines: int = 64,
                     batch_bytes: int = 1 << 18) -> Iterator[JsonLines | Document]:
    """Stream a JSON Lines input as batches of at most ``batch_lines`` lines (and about
    ``batch_bytes``), picking the file's encoding once. A file that cannot be opened, or
    an unknown forced encoding, comes out as one :class:`Document` with ``error`` set."""
    try:
        stream = _open_binary(path)
    except OSError as exc:
        yield Document(id=path, source=path, error=f"cannot read: {exc.strerror or exc}")
        return
    try:
        head = stream.peek(_SNIFF_BYTES)[:_SNIFF_BYTES] if hasattr(stream, "peek") else b""
        encoding = _jsonl_encoding(head, options.encoding)
        try:
            codecs.lookup(encoding)
        except LookupError:
            yield Document(id=path, source=path, error=f"unknown encoding '{encoding}'")
            return
        lines: Iterator[bytes] | Iterator[str]
        bom_bytes = 0
        if _is_wide(encoding):
            # UTF-16/32 lines cannot be split on b"\n"; decode the stream incrementally.
            lines = _decoded_lines(stream, encoding)
            if encoding.lower() in ("utf-16", "utf-32"):  # these decoders eat a BOM
                bom_bytes = next((len(bom) for bom, _ in _BOMS if head.startswith(bom)), 0)
        else:
            lines = iter(stream)
        batch: list[Any] = []
        size = 0
        first = 1
        for raw in lines:
            batch.append(raw)
            size += len(raw)
            if len(batch) >= batch_lines or size >= batch_bytes:
                yield JsonLines(path=path, encoding=encoding, first=first, lines=batch,
                                bom_bytes=bom_bytes)
                first += len(batch)
                batch, size, bom_bytes = [], 0, 0  # the BOM belongs to the first batch
        if batch:
            yield JsonLines(path=path, encoding=encoding, first=first, lines=batch,
                            bom_bytes=bom_bytes)
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()


def _is_wide(encoding: str) -> bool:
    """Whether ``encoding`` is UTF-16 or UTF-32 (any byte order), whose lines are decoded
    as a stream rather than split on newline bytes."""
    return encoding.replace("-", "").replace("_", "").lower().startswith(("utf16", "utf32"))


def _wide_size(line: str, encoding: str) -> int:
    """Bytes a decoded UTF-16/32 line took in its file: 4 per character in UTF-32; 2 per
    code unit in UTF-16, so 4 for a character outside the BMP."""
    if "32" in encoding:
        return 4 * len(line)
    return 2 * len(line) + 2 * sum(1 for char in line if char > "\uffff")


def _decoded_lines(stream: IO[bytes], encoding: str) -> Iterator[str]:
    """The lines of a UTF-16/32 stream, each with its line end. Undecodable code units
    become U+FFFD, and a code unit cut short by the end of the file does too, so no byte
    is dropped without a trace."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    pending = ""
    while True:
        chunk = stream.read(_SNIFF_BYTES)
        text = decoder.decode(chunk, final=not chunk)
        parts = (pending + text).split("\n")
        pending = parts.pop()
        yield from (part + "\n" for part in parts)
        if not chunk:
            break
    if pending:
        yield pending


def parse_jsonl_lines(batch: JsonLines, options: ReadOptions) -> Iterator[Document]:
    """The documents of a batch of lines: one per non-blank line, in order. A line that is
    not valid in the file's encoding, not JSON, not an object, or lacks the text field
    becomes a document with ``error`` set and the best id available (the id field if it
    parsed, else ``path:line``)."""
    encoding = batch.encoding
    codec = "utf-8" if encoding == "utf-8-sig" else encoding
    lines: Sequence[bytes | str] = batch.lines  # bytes, or text for a UTF-16/32 file
    for number, raw in enumerate(lines, start=batch.first):
        where = f"{batch.path}:{number}"
        # The bytes the line took in the file, for the progress bar (blank lines make no
        # document, so a file's blank lines are the only bytes it does not count).
        size = len(raw) if isinstance(raw, bytes) else _wide_size(raw, encoding)
        if number == 1:
            size += batch.bom_bytes
        if isinstance(raw, bytes):
            if number == 1 and encoding == "utf-8-sig":
                raw = raw.removeprefix(codecs.BOM_UTF8)
            try:
                line = raw.decode(codec)
            except UnicodeDecodeError as exc:
                yield Document(id=_salvage_id(raw, options.id_field) or where, source=where,
                               size=size, error=(
                    f"line {number} is not valid {encoding} at byte {exc.start}; "
                    f"fix the line or pass --encoding NAME"))
                continue
        else:
            line = raw
        # Blank means JSON whitespace only: str.strip() would also drop a line of control
        # characters such as \x1c, which is a broken record to report, not a blank line.
        if not line.strip(_JSON_WHITESPACE):
            continue
        yield _record(line, where, number, options, encoding, size)


#: The characters JSON allows between values (RFC 8259), plus the byte-order mark.
_JSON_WHITESPACE = " \t\r\n\ufeff"


def read_jsonl(path: str, options: ReadOptions) -> Iterator[Document]:
    """A JSON Lines input: one document per non-blank line, streamed.

    Each line becomes a :class:`Document`; a line that is not valid in the file's encoding,
    not JSON, not an object, or lacks the text field becomes a document with ``error`` set
    and the best id available (the id field if it parsed, else ``path:line``).
    """
    for item in read_jsonl_lines(path, options):
        if isinstance(item, Document):
            yield item
        else:
            yield from parse_jsonl_lines(item, options)


def _salvage_id(raw: bytes, id_field: str) -> str | None:
    """The id of a record whose bytes do not decode, read around the bad bytes, so its
    error record still names it."""
    try:
        record = json.loads(raw.decode("utf-8", errors="replace"))
    except (ValueError, RecursionError):
        return None
    if isinstance(record, dict) and record.get(id_field) is not None:
        return str(record[id_field])
    return None


def _record(line: str, where: str, number: int, options: ReadOptions, encoding: str,
            size: int) -> Document:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return Document(id=where, source=where, size=size,
                        error=f"line {number} is not JSON ({exc.msg} at column {exc.colno})")
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        return Document(id=where, source=where, size=size,
                        error=f"line {number} cannot be read as JSON ({exc})")
    except RecursionError:
        return Document(id=where, source=where, size=size, error=(
            f"line {number} is nested too deeply to read as JSON"))
    if _too_deep(record, line):
        return Document(id=where, source=where, size=size, error=(
            f"line {number} is nested more than {_MAX_DEPTH} levels deep"))
    if not isinstance(record, dict):
        return Document(id=where, source=where, size=size,
                        error=f"line {number} is a JSON {type(record).__name__}, not an object")
    raw_id = record.get(options.id_field)
    doc_id = where if raw_id is None else str(raw_id)
    fields = {k: v for k, v in record.items()}
    text = record.get(options.text_field)
    if not isinstance(text, str):
        what = "missing" if text is None else f"a {type(text).__name__}, not a string"
        return Document(id=doc_id, fields=fields, source=where, size=size, error=(
            f"line {number}: field '{options.text_field}' is {what}; "
            f"pick the text field with --text-field NAME"))
    return Document(id=doc_id, text=text, fields=fields, source=where, encoding=encoding,
                    size=size)


# Records nested deeper than this are refused: json.loads may still read them a little
# deeper, but writing them back (json.dumps, at a deeper stack) could then fail.
_MAX_DEPTH = 200


def _too_deep(value: Any, line: str) -> bool:
    """Is ``value`` (parsed from ``line``) nested more than ``_MAX_DEPTH`` levels deep?
    Walked without recursion, and only when the line has enough brackets to be."""
    if line.count("[") + line.count("{") <= _MAX_DEPTH:
        return False
    level: list[tuple[Any, int]] = [(value, 1)]
    while level:
        item, depth = level.pop()
        if isinstance(item, (dict, list)):
            if depth > _MAX_DEPTH:
                return True
            level.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict)
                                                  else item))
    return False


#: Input readers by ``--input-format`` name: ``reader(path, options)`` streams documents.
READERS: dict[str, Callable[[str, ReadOptions], Iterator[Document]]] = {
    "text": read_text,
    "jsonl": read_jsonl,
}


#: File-name endings that say which reader a named file needs when ``--input-format`` is
#: not given.
FORMAT_BY_SUFFIX: dict[str, str] = {".jsonl": "jsonl", ".ndjson": "jsonl",
                                    ".parquet": "parquet"}


def infer_input_format(paths: Sequence[str]) -> str:
    """The input format of command-line ``paths`` when the user did not name one: the
    format their files' endings say (``.jsonl``/``.ndjson``: ``jsonl``, ``.parquet``:
    ``parquet``, anything else: ``text``). Stdin and folders count as ``text``: their files
    are chosen by ``--glob``, whose default is ``*.txt``. Raises ``ValueError`` naming two
    paths when the paths say different formats, so that a JSON Lines file is never read
    as one text document by accident."""
    first: dict[str, str] = {}  # format -> the first path that says it
    for item in paths:
        if item == STDIN or Path(item).is_dir():
            kind = "text"
        else:
            kind = FORMAT_BY_SUFFIX.get(Path(item).suffix.lower(), "text")
        first.setdefault(kind, item)
    if len(first) > 1:
        (kind_a, path_a), (kind_b, path_b) = list(first.items())[:2]
        raise ValueError(f"{path_a} reads as {kind_a} and {path_b} as {kind_b}; "
                         f"name one format with --input-format")
    return next(iter(first), "text")


def expand_paths(paths: Sequence[str], pattern: str = "*") -> Iterator[tuple[str, str | None]]:
    """Command-line paths to input paths: ``(path, None)`` for each file found, in order,
    or ``(path, problem)`` for a path that cannot be used, so that nothing is skipped
    silently.

    Folders are walked recursively in sorted order, keeping regular files whose name
    matches ``pattern`` (hidden files and folders are left out on purpose). Symlinks to
    files and to folders are followed, except a symlink back to a folder above it (a
    loop). A matching entry that is not a regular file (a FIFO, a socket, a device, a
    broken symlink), a loop and a folder that cannot be listed are problems; a FIFO is
    never opened, so it cannot block the walk. ``-`` stands for stdin.
    """
    for item in paths:
        if item == STDIN:
            yield item, None
            continue
        path = Path(item)
        if path.is_dir():
            found = False
            for child, problem in _walk(path, pattern, set()):
                found = found or problem is None
                yield child, problem
            if not found:
                yield item, f"no files matching '{pattern}' in folder {item} (change --glob)"
        elif path.is_file():
            yield item, None
        elif path.exists():
            yield item, f"not a regular file: {item}"
        elif path.is_symlink():
            yield item, f"broken symlink: {item} (its target does not exist)"
        else:
            yield item, f"no such file or folder: {item} (check the path)"


def _walk(folder: Path, pattern: str, ancestors: set[tuple[int, int]],
          rel: PurePosixPath | None = None) -> Iterator[tuple[str, str | None]]:
    """The inputs under ``folder`` in sorted order (see :func:`expand_paths`);
    ``ancestors`` holds the (device, inode) of the folders above it in this walk, ``rel``
    is ``folder`` relative to the folder given (what ``pattern`` is matched against)."""
    rel = rel if rel is not None else PurePosixPath()
    try:
        info = folder.stat()
        key = (info.st_dev, info.st_ino)
        if key in ancestors:
            yield str(folder), "symlink loop skipped: this folder holds itself"
            return
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda e: e.name)
    except OSError as exc:
        yield str(folder), f"cannot list folder {folder}: {exc.strerror or exc}"
        return
    ancestors.add(key)
    try:
        yield from _entries(entries, pattern, ancestors, rel)
    finally:
        ancestors.discard(key)


def _entries(entries: list[os.DirEntry[str]], pattern: str, ancestors: set[tuple[int, int]],
             rel: PurePosixPath) -> Iterator[tuple[str, str | None]]:
    for entry in entries:
        if entry.name.startswith("."):
            continue
        child = Path(entry.path)
        problem: str | None
        try:
            is_dir = entry.is_dir()  # follows symlinks: a symlinked folder is walked too
            is_file = not is_dir and entry.is_file()
        except OSError as exc:
            is_dir = is_file = False
            problem = f"cannot read {child}: {exc.strerror or exc}"
        else:
            problem = None
        if is_dir:
            yield from _walk(child, pattern, ancestors, rel / entry.name)
        elif not (rel / entry.name).match(pattern):
            continue
        elif is_file:
            yield str(child), None
        elif problem is not None:
            yield str(child), problem
        elif entry.is_symlink() and not child.exists():
            yield str(child), f"broken symlink skipped: {child} (its target does not exist)"
        else:
            yield str(child), f"not a regular file, skipped: {child} ({_file_kind(child)})"


def _file_kind(path: Path) -> str:
    try:
        mode = path.stat().st_mode
    except OSError:
        return "unknown"
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device")):
        if test(mode):
            return name
    return "not a file"


# --------------------------------------------------------------------------- atomic output


class AtomicOutput:
    """A text file written all-or-nothing: a context manager over a temporary file in the
    target's folder (so the final rename stays on one file system) that is renamed over the
    target on a clean exit and removed on any exception, Ctrl-C included.

    - An existing target keeps its permission bits; a new one gets what a plain
      ``open()`` would give (``0o666`` less the umask), not ``mkstemp``'s ``0o600``.
    - A target that is a symlink is written through: its final target is replaced, the
      link stays (as ``open(target, "w")`` would do).
    - The temporary file is named ``.NAME.PID.XXXXXXXX.tmp``; one left behind by a process
      that no longer runs (killed with SIGKILL, say) is removed by the next
      ``AtomicOutput`` of the same target.
    - Opening raises :class:`OSError` when the folder cannot take a new file (read-only,
      no permission), before anything is written.

    >>> with AtomicOutput("out.jsonl") as fh:   # doctest: +SKIP
    ...     fh.write("{}\\n")
    """

    def __init__(self, target: str | os.PathLike[str], *, encoding: str = "utf-8",
                 newline: str | None = "") -> None:
        self.target = Path(target)
        self.encoding = encoding
        self.newline = newline
        self.temp_path: Path | None = None
        self._fh: IO[str] | None = None
        self._final: Path = self.target

    def __enter__(self) -> IO[str]:
        # Write through a symlink (chains included) to the file it names.
        self._final = Path(os.path.realpath(self.target))
        folder = self._final.parent
        _remove_stale_temps(folder, self._final.name)
        fd, name = tempfile.mkstemp(prefix=f".{self._final.name}.{os.getpid()}.",
                                    suffix=".tmp", dir=folder)
        self.temp_path = Path(name)
        self._fh = os.fdopen(fd, "w", encoding=self.encoding, newline=self.newline)
        return self._fh

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        assert self._fh is not None and self.temp_path is not None
        if exc_type is None:
            try:
                self._fh.flush()
                os.fsync(self._fh.fileno())
                self._fh.close()
                os.chmod(self.temp_path, _mode_for(self._final))
                os.replace(self.temp_path, self._final)
            except BaseException:
                self.discard()
                raise
        else:
            self.discard()

    def discard(self) -> None:
        """Close and remove the temporary file (idempotent)."""
        if self._fh is not None:
            try:
                self._fh.close()
            except OSError:  # a full disk fails the close's flush too: the file goes anyway
                pass
        if self.temp_path is not None:
            try:
                self.temp_path.unlink()
            except FileNotFoundError:
                pass


def _mode_for(target: Path) -> int:
    """The permission bits of the rewritten ``target``: its own if it exists, else those
    a plain ``open()`` gives a new file."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _remove_stale_temps(folder: Path, name: str) -> None:
    """Remove ``.NAME.PID.*.tmp`` files of ``folder`` whose process no longer runs: the
    leftovers of a run killed before it could clean up. Another live run's file stays."""
    prefix = f".{name}."
    try:
        candidates = [entry for entry in os.scandir(folder)
                      if entry.name.startswith(prefix) and entry.name.endswith(".tmp")]
    except OSError:
        return
    for entry in candidates:
        pid_text = entry.name[len(prefix):].split(".", 1)[0]
        if not pid_text.isdigit() or _process_runs(int(pid_text)):
            continue
        try:
            if entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
        except OSError:
            pass


def _process_runs(pid: int) -> bool:
    if pid == os.getpid() or os.name != "posix":  # os.kill(pid, 0) ends a Windows process
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists, but belongs to someone else
        return True
    return True
