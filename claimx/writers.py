"""Output formats of ``claimx tag``: JSON Lines, CSV, a terminal text view and an HTML report.

Every writer streams: it gets one :class:`Result` at a time, in input order, and writes it
before the next arrives; ``close()`` writes what only the end knows (the HTML summary).
:data:`WRITERS` maps a ``--format`` name to a writer class, so a new format is one entry.

Text can hold lone surrogates (half of an emoji escaped as ``\\ud83d`` in scraped JSON),
which no UTF-8 file can hold. JSON Lines writes them as the same ``\\udXXXX`` escape, so
the record reads back exactly; CSV, text and HTML write U+FFFD (�) in their place, one
code point for one, so claim offsets still index the text.
"""

from __future__ import annotations

import csv
import html
import itertools
import json
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from typing import IO, Any

import attrs

from claimx.io import Document
from claimx.types import CLAIM_TYPES

__all__ = [
    "WRITERS",
    "CsvWriter",
    "HtmlWriter",
    "Palette",
    "JsonlWriter",
    "Result",
    "TextWriter",
    "Writer",
    "render_jsonl",
    "replace_surrogates",
]

_SURROGATE = re.compile("[\ud800-\udfff]")


def replace_surrogates(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD (same length, so offsets into
    it still hold), ready for any UTF-8 output."""
    return text if text.isascii() else _SURROGATE.sub("\ufffd", text)


def _escape_surrogates(line: str) -> str:
    """A JSON text with each lone surrogate written as its ``\\uXXXX`` escape: still the
    same JSON value, and encodable as UTF-8 (``json.dumps(ensure_ascii=False)`` leaves
    them raw, and they only ever occur inside its strings)."""
    if line.isascii():
        return line
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", line)


class _SurrogateSafe:
    """A text stream that writes lone surrogates as U+FFFD (see the module docstring)."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(replace_surrogates(text))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@attrs.frozen(slots=True)
class Result:
    """A document and what tagging it gave: claim dicts (``Claim.to_dict()``) and the
    sentiment dict, or ``error`` when reading or tagging it failed."""

    doc: Document
    claims: tuple[dict[str, Any], ...] = ()
    sentiment: dict[str, Any] | None = None
    error: str = ""
    #: The JSON Lines text of :meth:`record`, when a worker process rendered it already
    #: (``tag --jobs``): the parent then only writes it.
    rendered: str | None = None

    @property
    def failed(self) -> bool:
        """True when the document could not be read or tagged."""
        return bool(self.error)

    def record(self) -> dict[str, Any]:
        """The JSON Lines record: the input record's fields (or the id, source and
        encoding of a text file) plus ``claims`` and ``sentiment``, or ``error``."""
        out: dict[str, Any] = dict(self.doc.fields) if self.doc.fields else {"id": self.doc.id}
        if not self.doc.fields and self.doc.encoding:
            out["encoding"] = self.doc.encoding
        if self.failed:
            out["error"] = self.error
        else:
            out["claims"] = list(self.claims)
            out["sentiment"] = self.sentiment
        return out


class Writer:
    """Base of the writers: ``write`` each result in order, then ``close`` once."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def write(self, result: Result) -> None:
        """Write one document's result."""
        raise NotImplementedError

    def close(self) -> None:
        """Write anything that needs the whole run (the default writes nothing)."""


# A document with more claims than this has its line written piece by piece (see
# JsonlWriter.write); fewer, and one string is cheaper than many small writes.
_STREAMED_CLAIMS = 1_000
_ENCODER = json.JSONEncoder(ensure_ascii=False)


class JsonlWriter(Writer):
    """One JSON object per input document, in input order (errors included)."""

    def write(self, result: Result) -> None:
        """Write one record line.

        A huge document's line (a 5 MB line gives some 10,000 claims) is written as the
        encoder yields it, not built as one string first: the string, its surrogate-escaped
        copy, the newline's copy and the stream's encoded bytes were each the size of the
        whole line, and together most of what tagging it held at its peak. The text is the
        same: ``json.dumps`` joins the same pieces, and a lone surrogate only ever stands
        inside one string piece."""
        if result.rendered is not None:
            self.stream.write(result.rendered)
        elif len(result.claims) <= _STREAMED_CLAIMS:
            self.stream.write(render_jsonl(result))
        else:
            write = self.stream.write
            for piece in _ENCODER.iterencode(result.record()):
                write(_escape_surrogates(piece))
            write("\n")


def render_jsonl(result: Result) -> str:
    """The JSON Lines line (with its newline) of one result; lone surrogates are written
    as ``\\udXXXX`` escapes."""
    return _escape_surrogates(json.dumps(result.record(), ensure_ascii=False)) + "\n"


CSV_COLUMNS: tuple[str, ...] = ("id", "type", "start", "end", "text", "polarity", "modality",
                                "subject", "confidence", "rules", "error")


class CsvWriter(Writer):
    """One row per claim; a document without claims gets one row with only its ``id`` (so
    every input document is in the sheet), a failed one a row with ``id`` and ``error``.

    ``rules`` is ``;``-joined; the header row comes first even for an empty run.
    """

    def __init__(self, stream: IO[str]) -> None:
        super().__init__(_SurrogateSafe(stream))  # type: ignore[arg-type]
        self._csv = csv.writer(self.stream, lineterminator="\n")
        self._csv.writerow(CSV_COLUMNS)

    def write(self, result: Result) -> None:
        """Write the claim rows of one document."""
        if result.failed or not result.claims:
            self._csv.writerow([result.doc.id] + [""] * (len(CSV_COLUMNS) - 2) + [result.error])
            return
        for c in result.claims:
            self._csv.writerow([result.doc.id, c["type"], c["start"], c["end"], c["text"],
                                c["polarity"], c["modality"], c["subject"] or "",
                                c["confidence"], ";".join(c["rules"]), ""])


_POLARITY_MARK = {"positive": "+", "negative": "-", "neutral": "=", "mixed": "±"}


class TextWriter(Writer):
    """A readable view for terminals: a header per document, one line per claim."""

    def __init__(self, stream: IO[str]) -> None:
        super().__init__(_SurrogateSafe(stream))  # type: ignore[arg-type]

    def write(self, result: Result) -> None:
        """Write one document's block."""
        out = [f"== {result.doc.id}"]
        if result.failed:
            out.append(f"   error: {result.error}")
        elif not result.claims:
            out.append("   (no claims)")
        for c in result.claims:
            mark = _POLARITY_MARK.get(c["polarity"], "?")
            out.append(f"   {c['type']:<16} {mark} {c['modality']:<8} {c['confidence']:.2f}  "
                       f"[{c['start']}:{c['end']}] {_one_line(c['text'])}")
            details = f"subject: {c['subject']}; " if c["subject"] else ""
            out.append(f"   {'':<16}   {details}rules: {', '.join(c['rules'])}")
        if result.sentiment and not result.failed:
            out.append(f"   sentiment: {result.sentiment['label']} ({result.sentiment['score']:+.2f})")
        self.stream.write("\n".join(out) + "\n\n")


def _one_line(text: str, limit: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# --------------------------------------------------------------------------- HTML report

#: Highlight colours of the four claim types; other types get EXTRA_COLOURS (see Palette).
TYPE_COLOURS: dict[str, str] = {
    "strategic_intent": "#2f6fde",
    "advantage": "#1f9d55",
    "risk": "#d64545",
    "industry_impact": "#8e44ad",
}
#: Colours for the claim types a pack declares beyond the four, in the order they are met:
#: far from the four and from each other (after them, hues a golden angle apart).
EXTRA_COLOURS: tuple[str, ...] = ("#c77c02", "#17808a", "#b5487e", "#6b6b6b", "#7a5c00",
                                  "#0b5ea8", "#9c2b2b", "#4d7f1e")
POLARITY_COLOURS: dict[str, str] = {
    "positive": "#3aa76d", "negative": "#e05252", "neutral": "#9aa0a6", "mixed": "#e0a030",
}
#: The badge after a claim: a mark for its modality (none when asserted) and its confidence.
MODALITY_MARKS: dict[str, str] = {"asserted": "", "hedged": "~", "negated": "¬",
                                  "question": "?"}
_LAYER_PX = 3  # thickness of one underline layer of an overlapping claim


class Palette:
    """The colour of each claim type in one report: the four types keep theirs, and every
    other type gets a colour of its own, in the order the types are met."""

    def __init__(self, types: Sequence[str] = ()) -> None:
        self._extra: dict[str, str] = {}
        for claim_type in types:
            self(claim_type)

    def __call__(self, claim_type: str) -> str:
        """The colour of ``claim_type`` (assigned on first use)."""
        if claim_type in TYPE_COLOURS:
            return TYPE_COLOURS[claim_type]
        colour = self._extra.get(claim_type)
        if colour is None:
            n = len(self._extra)
            colour = (EXTRA_COLOURS[n] if n < len(EXTRA_COLOURS)
                      else f"hsl({(n * 137.508) % 360:.0f},55%,38%)")
            self._extra[claim_type] = colour
        return colour


def _colour(claim_type: str) -> str:
    """The colour of ``claim_type`` outside a report (a palette of its own)."""
    return Palette()(claim_type)


def _tint(colour: str, confidence: float) -> str:
    """The highlight's background: ``colour`` at an opacity that grows with confidence
    (from 8 % at 0 to 45 % at 1), so confident claims stand out at a glance."""
    alpha = 0.08 + 0.37 * min(max(float(confidence), 0.0), 1.0)
    if colour.startswith("#"):
        return f"{colour}{round(alpha * 255):02x}"
    return colour.replace(")", f",{alpha:.2f})").replace("hsl(", "hsla(")


def _badge(claim: dict[str, Any], key: str) -> str:
    """The badge after a claim: modality mark and confidence, drawn by CSS from data
    attributes, so it adds no characters to the document's text."""
    modality = str(claim["modality"])
    label = f"{MODALITY_MARKS.get(modality, '')}{float(claim['confidence']):.2f}"
    return (f'<span class="badge m-{html.escape(modality)}" data-c="{key}" '
            f'data-badge="{html.escape(label)}" title="{html.escape(modality)}, confidence '
            f'{float(claim["confidence"]):.2f}"></span>')


def _json_for_script(value: Any) -> str:
    """JSON that is safe inside ``<script>``: no ``<``, ``>`` or ``&`` can close the tag or
    open a comment, whatever the document text holds."""
    return (json.dumps(value, ensure_ascii=False).replace("<", "\\u003c")
            .replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _layers(claims: Sequence[dict[str, Any]]) -> list[int]:
    """Underline layer of each claim: the lowest layer free at its start (interval
    colouring), so claims that overlap never share a layer and each stays visible."""
    ends: list[int] = []  # ends[k] = end of the last claim placed on layer k
    out = [0] * len(claims)
    for i in sorted(range(len(claims)), key=lambda i: (claims[i]["start"], -claims[i]["end"])):
        c = claims[i]
        for k, end in enumerate(ends):
            if end <= c["start"]:
                ends[k] = c["end"]
                out[i] = k
                break
        else:
            out[i] = len(ends)
            ends.append(c["end"])
    return out


def highlight(text: str, claims: Sequence[dict[str, Any]], doc_index: int,
              colour: Callable[[str], str] = _colour) -> str:
    """The escaped ``text`` with every claim highlighted.

    The text is cut at every claim boundary; a piece covered by claims becomes one
    ``<span class="hl">`` whose ``data-c`` lists them (``doc:claim``). The claim on the
    lowest layer colours the background, at an opacity that follows its confidence, and
    every covering claim draws an underline at its own depth, so nested and crossing
    claims stay readable. After each claim's last piece a badge shows its modality and
    confidence. ``colour`` maps a claim type to its colour.
    """
    if not claims:
        return html.escape(text)
    layers = _layers(claims)
    cuts = sorted({0, len(text)} | {c["start"] for c in claims} | {c["end"] for c in claims})
    starts: dict[int, list[int]] = {}
    ends: dict[int, list[int]] = {}
    for i, c in enumerate(claims):
        starts.setdefault(c["start"], []).append(i)
        ends.setdefault(c["end"], []).append(i)
    active: set[int] = set()
    parts: list[str] = []
    for left, right in itertools.pairwise(cuts):
        active = {i for i in active if claims[i]["end"] > left}
        active.update(i for i in starts.get(left, ()) if claims[i]["end"] > left)
        piece = html.escape(text[left:right])
        if not active:
            parts.append(piece)
        else:
            ordered = sorted(active, key=lambda i: layers[i])
            top = claims[ordered[0]]
            # One background band per covering claim at its layer's depth, above the tint
            # of the lowest-layer claim: a band shows only where its own claim runs.
            bands = ", ".join(_band(layers[i], colour(claims[i]["type"])) for i in ordered)
            depth = (max(layers[i] for i in ordered) + 1) * _LAYER_PX
            title = "\n".join(_tooltip(claims[i]) for i in ordered)
            ids = " ".join(f"{doc_index}:{i}" for i in ordered)
            types = " ".join(sorted({str(claims[i]["type"]) for i in ordered}))
            parts.append(
                f'<span class="hl" tabindex="0" data-c="{ids}" data-types="{html.escape(types)}" '
                f'title="{html.escape(title)}" style="background:{bands},'
                f'{_tint(colour(top["type"]), top["confidence"])};'
                f'padding-bottom:{depth}px">{piece}</span>')
        for i in ends.get(right, ()):
            if claims[i]["end"] > claims[i]["start"]:
                parts.append(_badge(claims[i], f"{doc_index}:{i}"))
    return "".join(parts)


def _band(layer: int, colour: str) -> str:
    low, high = layer * _LAYER_PX, (layer + 1) * _LAYER_PX
    return (f"linear-gradient(to top,transparent {low}px,{colour} {low}px,{colour} {high}px,"
            f"transparent {high}px)")


def _tooltip(c: dict[str, Any]) -> str:
    subject = c["subject"] or "—"
    return (f"{c['type']} · {c['polarity']} · {c['modality']} · {c['confidence']:.2f} · "
            f"subject {subject} · rules {', '.join(c['rules'])}")


def chart_svg(counts: Counter[tuple[str, str]], types: Sequence[str]) -> str:
    """A small horizontal stacked bar chart: one bar per claim type, split by polarity."""
    row, label_w, bar_w = 16, 118, 220
    total_max = max([sum(n for (t, _), n in counts.items() if t == ty) for ty in types] + [1])
    rows = []
    for r, ty in enumerate(types):
        y = r * row
        x: float = label_w  # advanced by each bar's (fractional) width
        rows.append(f'<text x="0" y="{y + 12}" font-size="11">{html.escape(ty)}</text>')
        total = 0
        for pol, colour in POLARITY_COLOURS.items():
            n = counts.get((ty, pol), 0)
            if not n:
                continue
            w = bar_w * n / total_max
            rows.append(f'<rect x="{x:.1f}" y="{y + 2}" width="{w:.1f}" height="{row - 4}" '
                        f'fill="{colour}"><title>{html.escape(ty)} {pol}: {n}</title></rect>')
            x += w
            total += n
        rows.append(f'<text x="{x + 4:.1f}" y="{y + 12}" font-size="11">{total}</text>')
    height = row * len(types)
    return (f'<svg class="chart" role="img" aria-label="claims by type and polarity" '
            f'width="{label_w + bar_w + 40}" height="{height}" '
            f'viewBox="0 0 {label_w + bar_w + 40} {height}">{"".join(rows)}</svg>')


_CSS = """
body{font-family:system-ui,"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;
margin:0;color:#222;background:#fafafa}
header{padding:12px 20px;background:#263238;color:#fff}header h1{margin:0;font-size:20px}
main{display:flex;flex-direction:column;padding:0 20px 40px}
#summary{order:-1}
section.doc{background:#fff;border:1px solid #ddd;border-radius:6px;margin:14px 0;padding:10px 14px;
scroll-margin-top:calc(var(--panel,120px) + 10px)}
section.doc:target{box-shadow:0 0 0 3px #ffd54f}
section.doc h2{font-size:15px;margin:0 0 6px;word-break:break-all}
.doc-body{display:flex;gap:18px;align-items:flex-start;flex-wrap:wrap}
.text{white-space:pre-wrap;line-height:2.3;font-size:16px;flex:1 1 480px;min-width:300px}
.hl{cursor:pointer;border-radius:2px}
.hl:hover,.hl:focus,.hl.sel{outline:2px solid #333;outline-offset:1px}
.hl.off{background:none!important;padding-bottom:0!important;cursor:auto}
.badge{cursor:pointer;font-size:10px;line-height:1;vertical-align:super;margin:0 1px;
padding:1px 3px;border-radius:6px;background:#eceff1;color:#37474f;white-space:nowrap;user-select:none}
.badge::after{content:attr(data-badge)}
.badge.m-hedged{background:#fff3cd;color:#7a5c00}
.badge.m-negated{background:#fde2e2;color:#9c2b2b}
.badge.m-question{background:#e3f2fd;color:#0b5ea8}
.badge.off{display:none}
.capped{color:#7a5c00;font-size:13px;margin:4px 0}
.error{color:#b00020;font-weight:600}
#legend{list-style:none;padding:0;display:flex;gap:16px;flex-wrap:wrap;margin:8px 0}
#legend li{display:flex;align-items:center;gap:6px}
.swatch{display:inline-block;width:14px;height:14px;border-radius:3px}
table{border-collapse:collapse;font-size:13px;margin:8px 0}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}
#panel{position:sticky;top:0;z-index:2;background:#fffbe6;border:1px solid #e6d58a;
border-radius:6px;padding:6px 12px;margin:10px 0;font-size:14px}
#filters{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:13px;margin-bottom:4px}
#filters fieldset{border:0;padding:0;margin:0;display:flex;flex-wrap:wrap;gap:4px 10px;
align-items:center}
#filters legend{float:left;font-weight:600;padding:0 4px 0 0}
#filters label{display:inline-flex;align-items:center;gap:3px;cursor:pointer}
#details{min-height:1.4em}
#details .claim{margin:2px 0}
.pol{display:inline-block;width:10px;height:10px;border-radius:50%;margin:0 3px 0 10px}
"""

_JS = r"""
(function(){
  var data={};
  document.querySelectorAll('script.claims-data').forEach(function(s){
    data[s.dataset.doc]=JSON.parse(s.textContent);
  });
  function claimOf(key){var p=key.split(':');var d=data[p[0]];return d?d[+p[1]]:null;}
  // Legend counts come from the highlights actually on the page, one per distinct claim.
  var seen={},counts={};
  document.querySelectorAll('.hl').forEach(function(el){
    el.dataset.c.split(' ').forEach(function(key){
      if(seen[key])return; seen[key]=1;
      var c=claimOf(key); if(!c)return;
      counts[c.type]=(counts[c.type]||0)+1;
    });
  });
  document.querySelectorAll('#legend li').forEach(function(li){
    li.querySelector('.count').textContent=String(counts[li.dataset.type]||0);
  });
  var panel=document.getElementById('panel');
  var box=document.getElementById('details');
  // A document jumped to (summary table, #doc-N) scrolls to just below the sticky panel.
  function fitPanel(){
    document.documentElement.style.setProperty('--panel',panel.offsetHeight+'px');
  }
  function esc(s){var d=document.createElement('span');d.textContent=s==null?'—':String(s);return d.innerHTML;}
  function show(el){
    document.querySelectorAll('.hl.sel').forEach(function(x){x.classList.remove('sel');});
    el.classList.add('sel');
    box.innerHTML=el.dataset.c.split(' ').map(function(key){
      var c=claimOf(key); if(!c)return '';
      return '<div class="claim"><b>'+esc(c.type)+'</b> '+esc(c.polarity)+' · '+esc(c.modality)+
        ' · confidence '+esc(c.confidence)+' · subject '+esc(c.subject)+' · rules '+esc(c.rules.join(', '))+
        '<br>“'+esc(c.text)+'” ['+c.start+':'+c.end+']</div>';
    }).join('');
    fitPanel();
  }
  // Filters: a highlight stays coloured while one of its claims has a checked type and a
  // checked modality; a badge while its claim does.
  function applyFilters(){
    var on={type:{},modality:{}};
    document.querySelectorAll('#filters input').forEach(function(box){
      on[box.name][box.value]=box.checked;
    });
    function visible(key){
      var c=claimOf(key);
      return !!c&&on.type[c.type]!==false&&on.modality[c.modality]!==false;
    }
    document.querySelectorAll('.hl').forEach(function(el){
      el.classList.toggle('off',!el.dataset.c.split(' ').some(visible));
    });
    document.querySelectorAll('.badge').forEach(function(el){
      el.classList.toggle('off',!visible(el.dataset.c));
    });
  }
  document.getElementById('filters').addEventListener('change',applyFilters);
  document.addEventListener('click',function(e){
    var el=e.target.closest('.hl,.badge');
    if(!el||el.classList.contains('off'))return;
    if(el.classList.contains('badge')){
      el=Array.prototype.find.call(document.querySelectorAll('.hl'),function(h){
        return h.dataset.c.split(' ').indexOf(el.dataset.c)>=0;})||el;
      if(!el.classList.contains('hl'))return;
    }
    show(el);
  });
  document.addEventListener('keydown',function(e){
    if(e.key==='Enter'&&document.activeElement.classList.contains('hl'))show(document.activeElement);
  });
  window.addEventListener('resize',fitPanel);
  fitPanel();
  applyFilters();
  // A link to '#claim=DOC:CLAIM' opens on that claim's details, as a click would.
  var m=/^#claim=(\d+:\d+)$/.exec(location.hash);
  if(m){
    var hit=Array.prototype.find.call(document.querySelectorAll('.hl'),function(el){
      return el.dataset.c.split(' ').indexOf(m[1])>=0;});
    if(hit){show(hit);hit.scrollIntoView({block:'nearest'});}
  }
  document.body.dataset.ready='1';
})();
"""


# Summary rows held in memory before they spill to a temporary file, and the size of the
# pieces they are copied back in: both bound the report's memory, whatever the input.
_ROWS_IN_MEMORY = 4 << 20
_COPY_CHARS = 1 << 20
#: At most this many characters of one document are shown (with their claims): a
#: browser cannot lay out a 5 MB line of highlights, and the report's memory stays bounded.
SHOWN_CHARS = 100_000


class HtmlWriter(Writer):
    """A self-contained HTML report: no network, no external files.

    Documents are written as they arrive; the summary (legend, table, chart) needs the
    whole run, so it is written last and shown first by CSS ordering; its table's rows
    wait in a spooled temporary file (memory up to 4 MiB, then an anonymous file in the
    system's temporary folder, gone when the writer closes), so memory stays flat however
    many documents there are. A document longer than :data:`SHOWN_CHARS` characters is
    shown up to there, with the claims inside that part, and says so; its counts still
    cover all its claims. All document text is escaped, and the claim data embedded for the
    click panel is escaped for ``<script>``.

    ``claim_types`` (the types of the packs in use) fixes the legend's types, their order
    and their colours from the start; types met later are added after them.
    """

    def __init__(self, stream: IO[str], title: str = "claimx report",
                 claim_types: Sequence[str] = CLAIM_TYPES) -> None:
        super().__init__(_SurrogateSafe(stream))  # type: ignore[arg-type]
        stream = self.stream
        # One summary-table row per document, written at the end: kept in a spooled file
        # so a long run's rows go to a temporary file, not memory (surrogatepass: the
        # rows come back exactly, and the output stream replaces what UTF-8 cannot hold).
        self._rows = tempfile.SpooledTemporaryFile(max_size=_ROWS_IN_MEMORY, mode="w+",
                                                   encoding="utf-8", newline="",
                                                   errors="surrogatepass")
        self._totals: Counter[tuple[str, str]] = Counter()
        self._types: list[str] = list(dict.fromkeys(claim_types))
        self._palette = Palette(self._types)
        self._filtered = set(self._types)  # types with a check box in the panel
        self._count = 0
        self._failed = 0
        stream.write(
            f'<!DOCTYPE html>\n<html lang="zh"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
            f"<header><h1>{html.escape(title)}</h1></header>"
            f'<div id="panel"><form id="filters">{self._filters()}</form>'
            f'<div id="details" aria-live="polite">Click a highlight to see its claims.</div>'
            f'</div><main id="report"><section id="docs">\n')

    def _filters(self) -> str:
        """Check boxes for every claim type (in its colour) and every modality."""
        types = "".join(
            f'<label><input type="checkbox" name="type" value="{html.escape(t)}" checked>'
            f'<span class="swatch" style="background:{self._palette(t)}"></span>'
            f"{html.escape(t)}</label>" for t in self._types)
        modalities = "".join(
            f'<label><input type="checkbox" name="modality" value="{m}" checked>'
            f"{m}{f' ({mark})' if mark else ''}</label>" for m, mark in MODALITY_MARKS.items())
        return (f'<fieldset id="type-filter"><legend>types</legend>{types}</fieldset>'
                f'<fieldset id="modality-filter"><legend>modality</legend>{modalities}'
                f"</fieldset>")

    def write(self, result: Result) -> None:
        """Write one document's section and remember its summary row."""
        index = self._count
        self._count += 1
        doc_id = html.escape(result.doc.id)
        if result.failed:
            self._failed += 1
            self.stream.write(f'<section class="doc failed" id="doc-{index}"><h2>{doc_id}</h2>'
                              f'<p class="error">{html.escape(result.error)}</p></section>\n')
            self._rows.write(f'<tr class="failed"><td><a href="#doc-{index}">{doc_id}</a></td>'
                              f'<td colspan="{len(self._types) + 2}" class="error">'
                              f"{html.escape(result.error)}</td></tr>")
            return
        claims = result.claims
        counts: Counter[tuple[str, str]] = Counter((str(c["type"]), c["polarity"]) for c in claims)
        for ty, _ in counts:
            if ty not in self._types:
                self._types.append(ty)
                self._palette(ty)
        self._totals.update(counts)
        text, shown, note = result.doc.text, claims, ""
        if len(text) > SHOWN_CHARS:
            text = text[:SHOWN_CHARS]
            shown = tuple(c for c in claims if c["end"] <= SHOWN_CHARS)
            note = (f'<p class="capped">Showing the first {SHOWN_CHARS:,} of '
                    f"{len(result.doc.text):,} characters and {len(shown):,} of "
                    f"{len(claims):,} claims; the JSON Lines or CSV output has them all."
                    f"</p>")
        text_html = highlight(text, shown, index, self._palette)
        sentiment = result.sentiment or {}
        self.stream.write(
            f'<section class="doc" id="doc-{index}"><h2>{doc_id}</h2>{note}'
            f'<div class="doc-body"><div class="text">{text_html}</div>'
            f"{chart_svg(counts, self._types)}</div>"
            f'<script type="application/json" class="claims-data" data-doc="{index}">'
            f"{_json_for_script(list(shown))}</script></section>\n")
        by_type = Counter(str(c["type"]) for c in claims)
        cells = "".join(f"<td>{by_type.get(t, 0)}</td>" for t in self._types)
        label = html.escape(str(sentiment.get("label", "")))
        self._rows.write(f'<tr><td><a href="#doc-{index}">{doc_id}</a></td>{cells}'
                          f"<td>{len(claims)}</td><td>{label}</td></tr>")

    def close(self) -> None:
        """Write the summary (legend, chart, table), the script, and end the page."""
        types = self._types
        by_type: Counter[str] = Counter()
        for (ty, _), n in self._totals.items():
            by_type[ty] += n
        # The legend's counts are filled in by the page script from the highlights actually
        # shown, so a report whose highlighting broke shows it; data-expected keeps ours.
        legend = "".join(
            f'<li data-type="{html.escape(t)}"><span class="swatch" '
            f'style="background:{self._palette(t)}"></span>{html.escape(t)} '
            f'<b class="count" data-expected="{by_type.get(t, 0)}">'
            f"…</b></li>" for t in types)
        polarity = "".join(f'<span class="pol" style="background:{c}"></span>{p}'
                           for p, c in POLARITY_COLOURS.items())
        head = "".join(f"<th>{html.escape(t)}</th>" for t in types)
        total_claims = sum(by_type.values())
        # Types first met after the filters were written get their check boxes here.
        late = [t for t in types if t not in self._filtered]
        late_boxes = "".join(
            f'<label><input type="checkbox" name="type" value="{html.escape(t)}" checked>'
            f'<span class="swatch" style="background:{self._palette(t)}"></span>'
            f"{html.escape(t)}</label>" for t in late)
        self.stream.write(
            '</section><section id="summary"><h2>Summary</h2>'
            f'<p id="totals">{self._count} documents, {total_claims} claims, '
            f"{self._failed} failed</p>"
            f'<ul id="legend">{legend}</ul>'
            f"<p>Highlights: tint by claim type, stronger for higher confidence; the badge "
            f"after a claim shows its modality (~ hedged, ¬ negated, ? question) and "
            f"confidence.</p>"
            f"<p>Bars: claims by type, coloured by polarity {polarity}</p>"
            f"{chart_svg(self._totals, types)}"
            f'<table id="summary-table"><thead><tr><th>document</th>{head}<th>claims</th>'
            f"<th>sentiment</th></tr></thead><tbody>")
        self._rows.seek(0)
        while chunk := self._rows.read(_COPY_CHARS):
            self.stream.write(chunk)
        self._rows.close()
        # Late types' check boxes are moved into the panel's type filter by the script.
        self.stream.write(f'</tbody></table><div id="late-types" hidden>{late_boxes}</div>'
                          f"</section></main><script>{_LATE_JS}{_JS}</script>"
                          f"</body></html>\n")


# Moves the check boxes of claim types first met after the panel was written into it.
_LATE_JS = r"""
(function(){
  var late=document.getElementById('late-types'),into=document.getElementById('type-filter');
  while(late&&late.firstChild)into.appendChild(late.firstChild);
})();
"""


#: Output writers by ``--format`` name.
WRITERS: dict[str, Callable[[IO[str]], Writer]] = {
    "jsonl": JsonlWriter,
    "csv": CsvWriter,
    "text": TextWriter,
    "html": HtmlWriter,
}
