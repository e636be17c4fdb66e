"""The HTML report: highlighting in process (a property over random overlapping claims),
and end to end — ``claimx tag --format html`` opened in headless Chromium, asserting on
the page its scripts produced."""

from __future__ import annotations

import html
import io
import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claimx.io import Document
from claimx.writers import HtmlWriter, Result, highlight

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

# Texts written for these tests; the last one is hostile markup around a real claim.
TEXTS = {
    "intent.txt": "远航物流计划今年开设三个海外仓，并将扩大在东南亚的配送网络。",
    "mixed.txt": ("光明电子计划明年在越南新建两座工厂。但原材料价格上涨可能导致毛利率下降，"
                  "公司面临较大的经营风险。凭借领先的电池技术，公司在储能市场位居行业第一。"),
    "hostile.txt": ('<script>document.title="pwned"</script><img src=x onerror="document.body.id=\'pwned\'">'
                    "公司计划扩大产能</script><!-- 。该厂商面临库存积压的风险。&amp; ]]>"),
    "plain.txt": "本季度销售平稳。",
}


class _Page(HTMLParser):
    """Collects what the tests look at in a dumped DOM."""

    def __init__(self) -> None:
        super().__init__()
        self.legend: dict[str, str] = {}
        self.highlights: list[dict[str, str]] = []
        self.details = ""
        self.body: dict[str, str] = {}
        self.images = 0
        self.title = ""
        self._in: list[str] = []
        self._legend_type: str | None = None
        self._in_count = False
        self._in_details = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "body":
            self.body = a
        if tag == "img":
            self.images += 1
        if tag == "title" and not self.title:  # the page's title, not an SVG <title>
            self._in_title = True
        if tag == "li" and "data-type" in a:
            self._legend_type = a["data-type"]
        if tag == "b" and "count" in a.get("class", "").split():
            self._in_count = True
        if tag == "span" and "hl" in a.get("class", "").split():
            self.highlights.append(a)
        if a.get("id") == "details":
            self._in_details = 1
        elif self._in_details and tag not in ("br",):
            self._in_details += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "b":
            self._in_count = False
        if tag == "title":
            self._in_title = False
        if self._in_details and tag != "br":
            self._in_details -= 1

    def handle_data(self, data: str) -> None:
        if self._in_count and self._legend_type is not None:
            self.legend[self._legend_type] = self.legend.get(self._legend_type, "") + data
        if self._in_details:
            self.details += data
        if self._in_title:
            self.title += data


def _chromium_dom(url: str, profile: Path) -> _Page:
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         f"--user-data-dir={profile}", "--dump-dom", url],
        capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    page = _Page()
    page.feed(done.stdout.decode("utf-8"))
    return page


def _tag(folder: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "claimx", "tag", str(folder), *args],
                          capture_output=True, timeout=300)


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, text in TEXTS.items():
        (folder / name).write_text(text, encoding="utf-8")
    (folder / "broken.txt").write_bytes(b"\x00\x01\x02binary\xff\xfe" * 50)
    return folder


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (installed by .ci/run)")
def test_report_in_chromium_shows_the_claims_of_the_json_output(corpus: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    as_html = _tag(corpus, "-o", str(report))  # the format follows the suffix
    as_json = _tag(corpus, "--format", "jsonl")
    assert as_html.returncode == as_json.returncode == 1  # broken.txt failed, the rest tagged
    records = [json.loads(line) for line in as_json.stdout.decode("utf-8").splitlines()]
    expected = Counter(c["type"] for r in records for c in r.get("claims", []))
    assert expected["strategic_intent"] and expected["risk"] and expected["advantage"]

    page = _chromium_dom(report.as_uri(), tmp_path / "profile")
    assert page.body.get("data-ready") == "1"  # the report's script ran to the end
    # Legend counts are computed in the page from the highlights it shows.
    shown = {t: int(n) for t, n in page.legend.items()}
    assert shown == {t: expected.get(t, 0) for t in shown}
    assert set(expected) <= set(shown)
    # Every claim of the JSON output is highlighted, its text under its highlights.
    keys = {k for h in page.highlights for k in h["data-c"].split()}
    assert len(keys) == sum(expected.values())
    for doc_index, record in enumerate(records):
        for claim_index, claim in enumerate(record.get("claims", [])):
            key = f"{doc_index}:{claim_index}"
            assert key in keys
            tips = [h["title"] for h in page.highlights if key in h["data-c"].split()]
            assert all(claim["type"] in tip and claim["modality"] in tip for tip in tips)
    # Hostile text is shown as text: nothing injected ran or became an element.
    assert page.title == "claimx report"
    assert page.body.get("id") != "pwned" and page.images == 0


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (installed by .ci/run)")
def test_report_opens_on_a_claims_details(corpus: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    assert _tag(corpus, "-o", str(report)).returncode == 1
    records = [json.loads(line) for line in _tag(corpus).stdout.decode("utf-8").splitlines()]
    doc = next(i for i, r in enumerate(records) if r["id"].endswith("mixed.txt"))
    claim = records[doc]["claims"][1]
    page = _chromium_dom(f"{report.as_uri()}#claim={doc}:1", tmp_path / "profile")
    # The details panel shows what a click shows: type, polarity, modality, confidence,
    # subject and rules of the claim.
    for value in (claim["type"], claim["polarity"], claim["modality"], str(claim["confidence"]),
                  claim["subject"] or "—", ", ".join(claim["rules"]), claim["text"]):
        assert value in page.details, (value, page.details)


# --------------------------------------------------------------------------- in process


def _claim(start: int, end: int, kind: str, text: str) -> dict:
    return {"type": kind, "start": start, "end": end, "text": text[start:end],
            "polarity": "negative", "modality": "hedged", "subject": None,
            "confidence": 0.5, "rules": ["r.x"]}


@st.composite
def _text_and_claims(draw: st.DrawFn) -> tuple[str, list[dict]]:
    text = draw(st.text(alphabet="风险<>&\"'公司计划。\n ", max_size=40))
    n = len(text)
    spans = draw(st.lists(st.tuples(st.integers(0, n), st.integers(0, n)), max_size=6))
    kinds = ["risk", "advantage", "strategic_intent", "industry_impact", "custom_type"]
    claims = [_claim(min(a, b), max(a, b), kinds[i % len(kinds)], text)
              for i, (a, b) in enumerate(spans)]
    return text, sorted(claims, key=lambda c: (c["start"], c["end"]))


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text = ""
        self.covered: dict[str, set[int]] = {}
        self._stack: list[list[str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._stack.append((dict(attrs).get("data-c") or "").split())

    def handle_endtag(self, tag: str) -> None:
        self._stack.pop()

    def handle_data(self, data: str) -> None:
        for key in (self._stack[-1] if self._stack else []):
            self.covered.setdefault(key, set()).update(range(len(self.text), len(self.text) + len(data)))
        self.text += data


@settings(max_examples=300)
@given(_text_and_claims())
def test_highlight_keeps_the_text_and_covers_each_claim_exactly(case: tuple[str, list[dict]]) -> None:
    text, claims = case
    out = highlight(text, claims, 7)
    assert "<script" not in out and "<img" not in out  # everything from the text is escaped
    parsed = _Text()
    parsed.feed(out)
    parsed.close()
    assert parsed.text == text
    for i, c in enumerate(claims):
        assert parsed.covered.get(f"7:{i}", set()) == set(range(c["start"], c["end"]))


def test_overlapping_claims_get_distinct_underline_layers() -> None:
    text = "公司计划扩产但面临原材料涨价风险。"
    outer, inner = _claim(0, 16, "strategic_intent", text), _claim(7, 16, "risk", text)
    out = highlight(text, [outer, inner], 0)
    both = re.search(r'<span class="hl"[^>]*data-c="0:0 0:1"[^>]*style="([^"]*)"', out)
    assert both, out
    style = both.group(1)
    # One band per claim, at different depths, in each claim's own colour.
    assert "transparent 0px,#2f6fde 0px,#2f6fde 3px" in style
    assert "transparent 3px,#d64545 3px,#d64545 6px" in style
    assert "padding-bottom:6px" in style


def test_report_streams_documents_and_escapes_embedded_data() -> None:
    buffer = io.StringIO()
    writer = HtmlWriter(buffer)
    evil = "</script><script>alert(1)</script>风险"
    writer.write(Result(doc=Document(id="<b>id</b>", text=evil),
                        claims=(_claim(len(evil) - 2, len(evil), "risk", evil),),
                        sentiment={"label": "negative", "score": -0.5}))
    written_so_far = buffer.getvalue()
    assert 'class="doc"' in written_so_far  # written before the run ends
    writer.write(Result(doc=Document(id="bad.txt"), error="looks binary"))
    writer.close()
    page = buffer.getvalue()
    # Only our own scripts: the main one and one JSON data block per tagged document.
    assert page.count("<script") == 2
    assert "<script>alert" not in page and "</script><script>" not in page
    assert "&lt;b&gt;id&lt;/b&gt;" in page and "looks binary" in page
    assert "1 failed" in page
    data = re.search(r'<script type="application/json"[^>]*>(.*?)</script>', page, re.DOTALL).group(1)
    assert json.loads(data)[0]["text"] == "风险"
    assert html.escape(evil[:-2]) in page  # the text before the claim, escaped
