"""The HTML report as an analyst reads it (issue 15), checked in headless Chromium on the
page its scripts produced: modality and confidence at a glance, a colour of its own for
each claim type a user pack declares, filters by type and modality, a document jumped to
from the summary table clear of the sticky panel, and a huge document shown in part."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from claimx.io import Document
from claimx.writers import SHOWN_CHARS, TYPE_COLOURS, HtmlWriter, Palette, Result

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
REPO = Path(__file__).resolve().parent.parent
USER_PACK = REPO / "tests" / "fixtures" / "packs" / "good_user_type"

# Texts written for these tests: an intent, a hedged risk, a negated advantage, a user
# pack's ESG commitment and a question.
TEXTS = {
    "a.txt": ("光明电子计划明年在越南新建两座工厂。但原材料价格上涨可能导致毛利率下降。"
              "该公司并未形成明显优势。公司承诺2030年前实现碳中和。"),
    "b.txt": "远航物流计划今年开设三个海外仓。受需求疲软影响，该厂商面临库存积压的风险。",
}
# Filler documents, so the page is tall enough for the summary table's links to scroll.
FILLER = "本季度销售平稳，门店客流与去年同期持平。\n" * 12

needs_chromium = pytest.mark.skipif(CHROMIUM is None,
                                    reason="needs Debian's chromium (installed by .ci/run)")


class _Elements(HTMLParser):
    """Every element's tag and attributes, in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}))

    def having(self, css_class: str) -> list[dict[str, str]]:
        return [a for _, a in self.elements if css_class in a.get("class", "").split()]


def _dom(report: Path, profile: Path, script: str = "", fragment: str = "") -> _Elements:
    """The DOM Chromium built from ``report`` after its scripts (and ``script``, appended
    after them, as a user's clicks) ran; timers run within a virtual 3 s."""
    page = report
    if script:
        page = report.with_name("driven-" + report.name)
        page.write_text(report.read_text(encoding="utf-8").replace(
            "</body>", f"<script>{script}</script></body>"), encoding="utf-8")
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1000,700", "--virtual-time-budget=3000",
         f"--user-data-dir={profile}", "--dump-dom", page.as_uri() + fragment],
        capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    parsed = _Elements()
    parsed.feed(done.stdout.decode("utf-8"))
    return parsed


@pytest.fixture(scope="module")
def tagged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    """The report over TEXTS and the fillers with zh-business and the ESG user pack, and
    the JSON Lines records of the same run."""
    root = tmp_path_factory.mktemp("analyst")
    folder = root / "docs"
    folder.mkdir()
    for name, text in TEXTS.items():
        (folder / name).write_text(text, encoding="utf-8")
    for i in range(12):
        (folder / f"filler-{i:02d}.txt").write_text(FILLER, encoding="utf-8")
    packs = ["--pack", "zh-business", "--pack", str(USER_PACK)]
    report = root / "report.html"
    for out in (report, root / "claims.jsonl"):
        done = subprocess.run([sys.executable, "-m", "claimx", "tag", str(folder), *packs,
                               "-o", str(out), "-q"], capture_output=True, timeout=300)
        assert done.returncode == 0, done.stderr.decode()
    records = [json.loads(line) for line in
               (root / "claims.jsonl").read_text(encoding="utf-8").splitlines()]
    return report, records


def _claims(records: list[dict]) -> dict[str, dict]:
    return {f"{d}:{c}": claim for d, r in enumerate(records)
            for c, claim in enumerate(r["claims"])}


@pytest.mark.slow
@needs_chromium
def test_every_claim_shows_its_modality_and_confidence_at_a_glance(tagged, tmp_path) -> None:
    report, records = tagged
    claims = _claims(records)
    assert {c["modality"] for c in claims.values()} >= {"asserted", "hedged", "negated"}
    page = _dom(report, tmp_path / "profile")
    badges = {b["data-c"]: b for b in page.having("badge")}
    assert set(badges) == set(claims)
    marks = {"asserted": "", "hedged": "~", "negated": "¬", "question": "?"}
    for key, claim in claims.items():
        assert badges[key]["data-badge"] == f"{marks[claim['modality']]}{claim['confidence']:.2f}"
        assert f"m-{claim['modality']}" in badges[key]["class"]
    # The tint's opacity follows the confidence of the claim it shows.
    alphas = {}
    for span in page.having("hl"):
        key = span["data-c"].split()[0]
        tint = re.search(r",(#[0-9a-f]{6})([0-9a-f]{2});", span["style"])
        alphas.setdefault(key, int(tint.group(2), 16))
    ordered = sorted(alphas, key=lambda k: claims[k]["confidence"])
    assert [alphas[k] for k in ordered] == sorted(alphas[k] for k in ordered)
    low, high = claims[ordered[0]]["confidence"], claims[ordered[-1]]["confidence"]
    if high - low > 0.1:
        assert alphas[ordered[-1]] > alphas[ordered[0]]


@pytest.mark.slow
@needs_chromium
def test_a_user_packs_claim_type_has_a_colour_of_its_own(tagged, tmp_path) -> None:
    report, records = tagged
    assert any(c["type"] == "esg_commitment" for r in records for c in r["claims"])
    page = _dom(report, tmp_path / "profile")
    legend = {a["data-type"]: a for _, a in page.elements if "data-type" in a}
    assert list(legend) == [*TYPE_COLOURS, "esg_commitment"]
    swatches = [a["style"] for a in page.having("swatch")]
    colours = set(re.findall(r"background:(#[0-9a-f]{6}|hsl\([^)]*\))", " ".join(swatches)))
    assert len(colours) == 5  # four defaults and the user's type, all different
    boxes = [a["value"] for t, a in page.elements if t == "input" and a.get("name") == "type"]
    assert boxes == [*TYPE_COLOURS, "esg_commitment"]


def test_extra_types_get_distinct_colours_in_the_order_they_are_met() -> None:
    palette = Palette()
    extra = [palette(f"type_{i}") for i in range(20)]
    assert len(set(extra)) == 20
    assert not set(extra) & set(TYPE_COLOURS.values())
    assert palette("type_3") == extra[3] and palette("risk") == TYPE_COLOURS["risk"]


@pytest.mark.slow
@needs_chromium
def test_filters_hide_the_claims_of_unchecked_types_and_modalities(tagged, tmp_path) -> None:
    report, records = tagged
    claims = _claims(records)
    untick = ("document.querySelector('#filters input[name=type][value=risk]').click();"
              "document.querySelector('#filters input[name=modality][value=negated]').click();")
    page = _dom(report, tmp_path / "profile", untick)

    def visible(key: str) -> bool:
        return claims[key]["type"] != "risk" and claims[key]["modality"] != "negated"

    assert any(not visible(k) for k in claims) and any(visible(k) for k in claims)
    for span in page.having("hl"):
        keys = span["data-c"].split()
        assert ("off" in span["class"].split()) == (not any(map(visible, keys))), keys
    for badge in page.having("badge"):
        assert ("off" in badge["class"].split()) == (not visible(badge["data-c"]))
    # Nothing is hidden before a box is unticked.
    assert not _dom(report, tmp_path / "profile2").having("off")


@pytest.mark.slow
@needs_chromium
def test_a_document_jumped_to_from_the_summary_is_not_under_the_panel(tagged, tmp_path) -> None:
    report, records = tagged
    target = 2  # with documents below it, so the page can scroll it to the top
    measure = (f"document.querySelector('#summary-table a[href=\"#doc-{target}\"]').click();"
               "setTimeout(function(){"
               f"var doc=document.getElementById('doc-{target}').getBoundingClientRect();"
               "var panel=document.getElementById('panel').getBoundingClientRect();"
               "document.body.dataset.doc=doc.top;"
               "document.body.dataset.panel=panel.bottom;"
               "document.body.dataset.scrolled=window.scrollY;},500);")
    page = _dom(report, tmp_path / "profile", measure)
    body = next(a for t, a in page.elements if t == "body")
    assert float(body["data-scrolled"]) > 0, body  # the jump did scroll the page
    # The document's heading sits just below the sticky panel, not under it.
    panel, doc = float(body["data-panel"]), float(body["data-doc"])
    assert panel <= doc <= panel + 40, body


def test_a_huge_document_is_shown_in_part_and_says_so() -> None:
    import io

    sentence = "公司计划扩产。"
    text = sentence * (SHOWN_CHARS // len(sentence) + 500)
    claims = tuple({"type": "strategic_intent", "start": i, "end": i + 6,
                    "text": text[i:i + 6], "polarity": "positive", "modality": "asserted",
                    "subject": "公司", "confidence": 0.8, "rules": ["r"]}
                   for i in range(0, len(text), len(sentence)))
    buffer = io.StringIO()
    writer = HtmlWriter(buffer)
    writer.write(Result(doc=Document(id="big", text=text), claims=claims,
                        sentiment={"label": "positive", "score": 0.9}))
    writer.close()
    page = buffer.getvalue()
    shown = sum(1 for c in claims if c["end"] <= SHOWN_CHARS)
    assert f"Showing the first {SHOWN_CHARS:,} of {len(text):,} characters" in page
    assert f"{shown:,} of {len(claims):,} claims" in page
    assert page.count('class="badge') == shown < len(claims)
    # What is shown does not grow with the document: twice the text, the same page but
    # for the counts.
    double = io.StringIO()
    writer = HtmlWriter(double)
    writer.write(Result(doc=Document(id="big", text=text * 2), claims=claims,
                        sentiment={"label": "positive", "score": 0.9}))
    writer.close()
    assert abs(len(double.getvalue()) - len(page)) < 100
    # The summary still counts every claim of the document.
    assert f"<td>{len(claims)}</td>" in page
