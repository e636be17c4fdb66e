"""``claimx hits``: the reservoir sample, the concordance, its JSON shapes, the tally of
judged samples, and the command line driven for real over files written here.

The corpus runs use a small pack written by these tests (``hits-demo``), so the counts
they assert do not move when the bundled pack's rules change.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from claimx.cli.hits import (
    Reservoir,
    Tally,
    display_width,
    read_judgements,
    tally,
    wilson_interval,
)
from claimx.pipeline import Extractor

# Sentences written for these tests (not from any corpus).
EXPAND = ["蓝海食品今年扩建冷库。", "北辰化纤决定在越南扩产。", "ABC公司在Q3扩产，产能达到500万吨。",
          "宏远机械明年扩建二期厂房。", "该厂拟用新资金扩产ICU耗材。"]
LOSS = ["受原料涨价拖累，北辰化纤上半年亏损。", "星河电子第三季度亏损扩大至2亿元。"]

PACK_YAML = """\
name: hits-demo
version: "0.1"
language: zh
description: A small pack written for the claimx hits tests.
claim_types:
  strategic_intent: {polarity: positive}
  risk: {polarity: negative}
"""
RULES_YAML = """\
rules:
  - id: demo.expand
    kind: lexicon
    type: strategic_intent
    cues: [扩产, 扩建]
    prior: 0.7
  - id: demo.loss
    kind: lexicon
    type: risk
    cues: [亏损]
    prior: 0.7
  - id: demo.hedge
    kind: modifier
    category: hedge
    cues: [或将]
    direction: forward
    scope: sentence
"""

HIT_KEYS = {"rule", "doc", "source", "line", "start", "end", "left", "keyword", "right",
            "claim", "type", "modality", "polarity", "confidence", "subject", "rules"}


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hits-demo")
    (folder / "pack.yaml").write_text(PACK_YAML, encoding="utf-8")
    (folder / "rules.yaml").write_text(RULES_YAML, encoding="utf-8")
    return folder


def run_hits(*args: str, pack: Path | None = None, stdin: bytes | None = None,
             timeout: float = 300) -> subprocess.CompletedProcess[bytes]:
    """The real command line, with the test pack unless told otherwise."""
    packs = ["--pack", str(pack)] if pack is not None else []
    return subprocess.run([sys.executable, "-m", "claimx", "hits", *args, *packs],
                          input=stdin, capture_output=True, timeout=timeout, check=False)


def corpus_of(folder: Path, documents: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, text in enumerate(documents):
        (folder / f"doc{i:03d}.txt").write_text(text, encoding="utf-8")
    return folder


def columns(text: str) -> int:
    """Display columns by the East Asian Width property alone — independent of the code
    under test, and right for the characters these tests use (no combining marks)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


# --------------------------------------------------------------------------- the sample


def test_reservoir_keeps_each_item_with_equal_probability() -> None:
    """20 items, samples of 5, 2,000 seeds: each item should be kept about 500 times. A
    sampler that favours early or late items fails the chi-square bound (19 degrees of
    freedom: 43.8 is the 0.1 % critical value)."""
    kept: Counter[int] = Counter()
    seeds = 2000
    for seed in range(seeds):
        reservoir: Reservoir[int] = Reservoir(5, seed=seed, key="uniform")
        for item in range(20):
            reservoir.offer(lambda item=item: item)
        sample = reservoir.items
        assert len(sample) == len(set(sample)) == 5
        kept.update(sample)
    expected = seeds * 5 / 20
    chi_square = sum((kept[i] - expected) ** 2 / expected for i in range(20))
    assert chi_square < 43.8, (chi_square, sorted(kept.items()))
    # The first and the last items in particular (where a wrong bound shows first).
    assert abs(kept[0] - expected) < 4 * math.sqrt(expected)
    assert abs(kept[19] - expected) < 4 * math.sqrt(expected)


@settings(max_examples=200, deadline=None)
@given(total=st.integers(0, 300), size=st.integers(0, 40), seed=st.integers(0, 2**32),
       key=st.text(max_size=12))
def test_reservoir_is_a_deterministic_subset_in_stream_order(total: int, size: int,
                                                              seed: int, key: str) -> None:
    def draw() -> tuple[int, list[int]]:
        reservoir: Reservoir[int] = Reservoir(size, seed=seed, key=key)
        for item in range(total):
            reservoir.offer(lambda item=item: item)
        return reservoir.seen, reservoir.items

    seen, sample = draw()
    assert seen == total
    assert len(sample) == min(size, total)
    assert sample == sorted(set(sample)) and all(0 <= i < total for i in sample)
    assert draw() == (seen, sample)  # same seed and key, same sample


def test_reservoir_builds_only_the_items_it_keeps() -> None:
    built: list[int] = []
    reservoir: Reservoir[int] = Reservoir(3, seed=1, key="lazy")
    for item in range(10_000):
        reservoir.offer(lambda item=item: built.append(item) or item)
    # About size * (1 + ln(total / size)) builds, not one per item.
    assert len(built) < 3 * (1 + math.log(10_000 / 3)) * 3
    assert set(reservoir.items) <= set(built)


def test_reservoir_refuses_a_negative_size() -> None:
    with pytest.raises(ValueError, match="size must be >= 0"):
        Reservoir(-1, seed=0, key="x")


# --------------------------------------------------------------------------- display


def test_display_width_counts_cjk_as_two_columns_and_marks_as_none() -> None:
    assert display_width("营收abc") == 7
    assert display_width("，。（）") == 8  # full-width punctuation
    assert display_width("e\u0301") == 1  # a combining accent takes no column
    assert display_width("a\u200bb") == 2  # nor does a zero-width space
    assert display_width("上\n下") == 5  # the line break is shown as one ⏎


# --------------------------------------------------------------------------- tally


def test_wilson_interval_matches_the_textbook_values() -> None:
    # Computed by hand from (p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n), z = 1.96.
    low, high = wilson_interval(8, 10)
    assert (round(low, 3), round(high, 3)) == (0.490, 0.943)
    low, high = wilson_interval(0, 10)
    assert (low, round(high, 4)) == (0.0, 0.2775)
    low, high = wilson_interval(10, 10)
    assert (round(low, 4), high) == (0.7225, 1.0)
    # 5 of 7, from the other closed form: (2np + z² ± z·sqrt(z² + 4np(1-p))) / 2(n + z²).
    n, p, z = 7, 5 / 7, 1.959963984540054
    root = z * math.sqrt(z * z + 4 * n * p * (1 - p))
    expect = ((2 * n * p + z * z - root) / (2 * (n + z * z)),
              (2 * n * p + z * z + root) / (2 * (n + z * z)))
    assert wilson_interval(5, 7) == pytest.approx(expect, abs=1e-12)
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_tally_counts_judged_correct_and_open_and_sorts_worst_first() -> None:
    judgements = ([("a", True)] * 5 + [("a", False)] * 2 + [("a", None)] * 3
                  + [("b", True)] * 10 + [("c", None)] * 4 + [("d", False)])
    rows = tally(judgements)
    assert [r.group for r in rows] == ["d", "a", "b", "c"]
    by_group = {r.group: r for r in rows}
    assert by_group["a"] == Tally("a", judged=7, correct=5, not_judged=3)
    assert by_group["a"].precision == pytest.approx(5 / 7)
    assert by_group["c"].precision is None
    assert by_group["a"].to_dict()["wilson95"] == [round(x, 4) for x in wilson_interval(5, 7)]
    assert by_group["c"].to_dict()["wilson95"] is None


def test_read_judgements_reports_every_bad_line_and_keeps_the_rest() -> None:
    lines = [
        json.dumps({"rule": "demo.expand", "correct": True}),
        "",
        json.dumps({"rule": "demo.expand", "correct": None}),
        json.dumps({"rule": None, "type": "risk", "correct": False}),
        json.dumps({"rule": "demo.loss", "correct": "yes"}),
        json.dumps({"rule": "demo.loss"}),
        "{not json",
        "[1, 2]",
        json.dumps({"correct": True}),
    ]
    found, problems = read_judgements(lines, "audit.jsonl")
    assert found == [("demo.expand", True), ("demo.expand", None), ("type:risk", False)]
    assert [p.split(": ")[0] for p in problems] == [
        "audit.jsonl:5", "audit.jsonl:6", "audit.jsonl:7", "audit.jsonl:8", "audit.jsonl:9"]
    assert 'write true, false or leave null' in problems[0]


# --------------------------------------------------------------------------- the command


def test_total_is_every_hit_and_a_large_n_shows_them_all(tmp_path: Path, pack: Path) -> None:
    # Document i holds i % 4 expansion sentences and one loss every third document.
    documents = []
    for i in range(30):
        text = "".join(EXPAND[(i + k) % len(EXPAND)] for k in range(i % 4))
        documents.append(text + (LOSS[i % 2] if i % 3 == 0 else ""))
    folder = corpus_of(tmp_path / "news", documents)
    expected = {"demo.expand": sum(i % 4 for i in range(30)), "demo.loss": 10}
    # The extractor agrees with the way the corpus was built.
    extractor = Extractor(packs=[str(pack)])
    counted = Counter(r for text in documents for c in extractor.extract(text) for r in c.rules)
    assert dict(counted) == expected

    done = run_hits(str(folder), "-n", "1000", "--format", "json", pack=pack)
    assert done.returncode == 0, done.stderr.decode()
    report = json.loads(done.stdout)
    assert report["documents"] == 30 and report["failed"] == 0 and report["by"] == "rule"
    groups = {g["rule"]: g for g in report["groups"]}
    assert list(groups) == ["demo.expand", "demo.loss"]  # every claim rule, pack order
    for rule, total in expected.items():
        assert groups[rule]["total"] == groups[rule]["shown"] == total
        assert len(groups[rule]["sample"]) == total
    # The text view says so in each header.
    text = run_hits(str(folder), "-n", "1000", pack=pack).stdout.decode()
    assert f"== demo.expand (strategic_intent): {expected['demo.expand']} hits in 30 " \
           f"documents, all shown ==" in text
    assert "== demo.loss (risk): 10 hits in 30 documents, all shown ==" in text


def test_the_sample_depends_on_the_seed_only(tmp_path: Path, pack: Path) -> None:
    folder = corpus_of(tmp_path / "c", [f"第{i}家工厂扩产。" for i in range(60)])

    def sample(*extra: str) -> list[str]:
        done = run_hits(str(folder), "--rule", "demo.expand", "-n", "5", "--format", "json",
                        *extra, pack=pack)
        assert done.returncode == 0, done.stderr.decode()
        group = json.loads(done.stdout)["groups"][0]
        assert (group["total"], group["shown"]) == (60, 5)
        return [h["doc"] for h in group["sample"]]

    first = sample("--seed", "11")
    assert sample("--seed", "11") == first
    assert sample("--seed", "12") != first
    # One rule's sample does not change when another rule is sampled alongside it.
    both = run_hits(str(folder), "--rule", "demo.loss", "--rule", "demo.expand", "-n", "5",
                    "--seed", "11", "--format", "json", pack=pack)
    groups = {g["rule"]: g for g in json.loads(both.stdout)["groups"]}
    assert [h["doc"] for h in groups["demo.expand"]["sample"]] == first
    assert sorted(first) == first  # shown in corpus order


def test_concordance_aligns_keywords_by_display_width(tmp_path: Path, pack: Path) -> None:
    documents = ["ABC公司在Q3扩产，产能达到500万吨。",
                 "第一段说明。\n蓝海食品今年扩建冷库，投资约3亿元。",
                 "Acme Corp. will 扩产 next year, says CEO.",
                 "长江北岸的宏远机械与星河电子合资，在重庆扩产锂电池隔膜。",
                 "x扩产"]
    folder = corpus_of(tmp_path / "mixed", documents)
    done = run_hits(str(folder), "--rule", "demo.expand", "--width", "16", pack=pack)
    assert done.returncode == 0, done.stderr.decode()
    lines = done.stdout.decode("utf-8").splitlines()
    assert lines[0] == "== demo.expand (strategic_intent): 5 hits in 5 documents, all shown =="
    rows = lines[1:]
    assert len(rows) == 5
    keyword_columns = {columns(row[:row.index("【")]) for row in rows}
    assert len(keyword_columns) == 1, rows  # every keyword starts in the same column
    # ... which code-point counting would not give: the lines differ in wide characters.
    assert len({row.index("【") for row in rows}) > 1
    for row in rows:
        left = row[:row.index("【")].rsplit("  ", 1)[-1]
        assert columns(left) <= 16
        assert "\n" not in row
    by_doc = {row.split()[0]: row for row in rows}
    assert "⏎蓝海食品今年【扩建】冷库" in by_doc[f"{folder / 'doc001.txt'}:2"]  # line 2
    assert "strategic_intent/asserted" in by_doc[f"{folder / 'doc000.txt'}:1"]
    assert "ABC公司在Q3【扩产】，产能" in by_doc[f"{folder / 'doc000.txt'}:1"]


def test_control_characters_never_reach_the_terminal(tmp_path: Path, pack: Path) -> None:
    folder = corpus_of(tmp_path / "ctl", ["\x1b[2J\x1b[31m红字\t公司扩产\r\n下一行"])
    done = run_hits(str(folder), pack=pack)
    out = done.stdout.decode("utf-8")
    assert "\x1b" not in out and "\t" not in out and "\r" not in out
    assert "公司【扩产】⏎下一行" in out  # CR LF is one ⏎


def test_json_and_jsonl_shapes_and_offsets(tmp_path: Path, pack: Path) -> None:
    documents = ["蓝海食品今年扩建冷库。\n受原料涨价拖累，北辰化纤上半年亏损。", "宏远机械明年扩建二期厂房。"]
    folder = corpus_of(tmp_path / "shapes", documents)
    texts = {str(folder / f"doc{i:03d}.txt"): t for i, t in enumerate(documents)}
    done = run_hits(str(folder), "--format", "json", "--seed", "3", "-n", "7", pack=pack)
    assert done.returncode == 0, done.stderr.decode()
    report = json.loads(done.stdout)
    assert set(report) == {"documents", "failed", "seed", "n", "by", "groups"}
    assert (report["seed"], report["n"]) == (3, 7)
    for group in report["groups"]:
        assert set(group) == {"rule", "type", "total", "shown", "sample"}
        for hit in group["sample"]:
            assert set(hit) == HIT_KEYS - {"rule"}
            text = texts[hit["doc"]]
            assert text[hit["start"]:hit["end"]] == hit["keyword"]
            assert text[:hit["start"]].endswith(hit["left"])
            assert text[hit["end"]:].startswith(hit["right"])
            claim = hit["claim"]
            assert text[claim["start"]:claim["end"]] == claim["text"]
            assert claim["start"] <= hit["start"] < hit["end"] <= claim["end"]
            assert group["rule"] in hit["rules"] and hit["type"] == group["type"]
            assert hit["modality"] == "asserted" and 0 <= hit["confidence"] <= 1
    loss = next(g for g in report["groups"] if g["rule"] == "demo.loss")["sample"][0]
    assert (loss["keyword"], loss["line"], loss["polarity"]) == ("亏损", 2, "negative")

    lines = run_hits(str(folder), "--format", "jsonl", pack=pack).stdout.decode().splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == 3
    for record in records:
        assert set(record) == HIT_KEYS | {"correct"}
        assert record["correct"] is None
    assert [r["rule"] for r in records] == ["demo.expand", "demo.expand", "demo.loss"]

    by_type = run_hits(str(folder), "--type", "risk", "--format", "json", pack=pack)
    group = json.loads(by_type.stdout)["groups"][0]
    assert json.loads(by_type.stdout)["by"] == "type"
    assert set(group) == {"type", "total", "shown", "sample"} and group["type"] == "risk"
    # With --type the keyword is the whole claim.
    assert group["sample"][0]["keyword"] == group["sample"][0]["claim"]["text"]


def test_rule_and_type_together_keep_the_rules_hits_of_that_type(tmp_path: Path,
                                                                  pack: Path) -> None:
    folder = corpus_of(tmp_path / "rt", ["宏远机械扩产后亏损。", "蓝海食品今年扩建冷库。"])

    def totals(*args: str) -> dict[str, int]:
        done = run_hits(str(folder), *args, "--format", "json", pack=pack)
        assert done.returncode == 0, done.stderr.decode()
        return {g.get("rule", g.get("type")): g["total"] for g in json.loads(done.stdout)["groups"]}

    assert totals("--rule", "demo.expand") == {"demo.expand": 2}
    assert totals("--rule", "demo.expand", "--type", "strategic_intent") == {"demo.expand": 2}
    assert totals("--rule", "demo.expand", "--type", "risk") == {"demo.expand": 0}
    assert totals("--type", "risk", "--type", "strategic_intent") == {
        "risk": 1, "strategic_intent": 2}


def test_reads_json_lines_and_folders_like_tag_and_reports_what_failed(tmp_path: Path,
                                                                       pack: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "a.jsonl").write_text(
        json.dumps({"doc_id": "r1", "body": "北辰化纤决定在越南扩产。"}, ensure_ascii=False) + "\n"
        + "{broken\n"
        + json.dumps({"doc_id": "r3", "body": "星河电子第三季度亏损扩大至2亿元。"},
                     ensure_ascii=False) + "\n", encoding="utf-8")
    (folder / "b.jsonl").write_bytes(
        (json.dumps({"doc_id": "r4", "body": "宏远机械明年扩建二期厂房。"}, ensure_ascii=False)
         + "\n").encode("utf-8"))
    (folder / "notes.txt").write_text("蓝海食品今年扩建冷库。", encoding="utf-8")  # not *.jsonl
    done = run_hits(str(folder), "--input-format", "jsonl", "--text-field", "body",
                    "--id-field", "doc_id", "--format", "json", pack=pack)
    assert done.returncode == 1  # one line failed
    stderr = done.stderr.decode()
    assert "claimx hits: failed" in stderr and "a.jsonl:2" in stderr and "not JSON" in stderr
    assert "Traceback" not in stderr
    report = json.loads(done.stdout)
    assert (report["documents"], report["failed"]) == (4, 1)
    groups = {g["rule"]: g for g in report["groups"]}
    assert [h["doc"] for h in groups["demo.expand"]["sample"]] == ["r1", "r4"]
    assert [h["source"] for h in groups["demo.loss"]["sample"]] == [f"{folder / 'a.jsonl'}:3"]

    # Text files in another encoding, and stdin, go through the same reader as tag.
    texts = tmp_path / "texts"
    texts.mkdir()
    (texts / "gbk.txt").write_bytes("蓝海食品今年扩建冷库。北辰化纤决定在越南扩产。".encode("gbk"))
    (texts / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00binary")
    done = run_hits(str(texts), str(tmp_path / "nope"), "--format", "json", pack=pack)
    assert done.returncode == 1
    stderr = done.stderr.decode()
    assert "no such file or folder" in stderr and "binary" in stderr
    report = json.loads(done.stdout)
    assert (report["documents"], report["failed"]) == (3, 2)
    assert report["groups"][0]["total"] == 2
    piped = run_hits("-", "--format", "json", stdin="宏远机械明年扩建二期厂房。".encode("gb18030"),
                     pack=pack)
    assert json.loads(piped.stdout)["groups"][0]["sample"][0]["doc"] == "-"


@pytest.mark.parametrize(("args", "expect"), [
    (["--rule", "demo.expnad"], "unknown rule 'demo.expnad' (did you mean 'demo.expand'?)"),
    (["--rule", "zzz"], "the loaded packs have 2 rules: demo.expand, demo.loss"),
    (["--rule", "demo.hedge"], "'demo.hedge' is a modifier rule"),
    (["--type", "rsik"], "unknown claim type 'rsik' (did you mean 'risk'?)"),
    (["-n", "-1"], "-n must be 0"),
    (["--width", "0"], "--width must be 1 or more"),
    (["--encoding", "klingon"], "unknown encoding 'klingon'"),
])
def test_usage_errors_exit_2_with_one_clear_line(tmp_path: Path, pack: Path, args: list[str],
                                                 expect: str) -> None:
    folder = corpus_of(tmp_path / "u", EXPAND)
    done = run_hits(str(folder), *args, pack=pack)
    assert done.returncode == 2
    stderr = done.stderr.decode()
    assert stderr.startswith("claimx hits: error: ") and expect in stderr, stderr
    assert "Traceback" not in stderr and done.stdout == b""


def test_usage_errors_without_a_corpus_and_with_a_broken_pack(tmp_path: Path) -> None:
    done = run_hits()
    assert done.returncode == 2 and b"give a CORPUS" in done.stderr
    done = run_hits("x.txt", "--tally", "audit.jsonl")
    assert done.returncode == 2 and b"--tally reads judged samples only" in done.stderr
    done = run_hits("x.txt", "--pack", str(tmp_path / "no-such-pack"))
    assert done.returncode == 2 and b"cannot load the rule pack" in done.stderr
    assert b"Traceback" not in done.stderr


def test_a_closed_pipe_ends_the_output_quietly(tmp_path: Path, pack: Path) -> None:
    folder = corpus_of(tmp_path / "many", [f"第{i}家工厂扩产。" * 3 for i in range(400)])
    process = subprocess.Popen(
        [sys.executable, "-m", "claimx", "hits", str(folder), "-n", "1000", "--pack", str(pack)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.readline()
    process.stdout.close()  # like `| head -1`
    stderr = process.stderr.read()
    assert process.wait(timeout=300) == 0
    assert b"Traceback" not in stderr and b"BrokenPipe" not in stderr


def test_audit_round_trip_sample_judge_tally(tmp_path: Path, pack: Path) -> None:
    folder = corpus_of(tmp_path / "audit", EXPAND + LOSS)
    sample = run_hits(str(folder), "--format", "jsonl", pack=pack)
    records = [json.loads(line) for line in sample.stdout.decode().splitlines()]
    assert len(records) == len(EXPAND) + len(LOSS)
    # The author judges: the expansion hits in ASCII-bearing sentences are called wrong,
    # the rest right, and one loss hit is left open.
    for record in records:
        if record["rule"] == "demo.expand":
            record["correct"] = not any(ch.isascii() and ch.isalpha() for ch in record["claim"]["text"])
    judged = tmp_path / "audit.jsonl"
    records[-1]["correct"] = True
    judged.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                      encoding="utf-8")
    done = run_hits("--tally", str(judged), "--format", "json")
    assert done.returncode == 0, done.stderr.decode()
    report = json.loads(done.stdout)
    rows = {r["rule"]: r for r in report["rules"]}
    assert rows["demo.expand"]["judged"] == 5 and rows["demo.expand"]["correct"] == 3
    assert rows["demo.expand"]["precision"] == 0.6
    assert rows["demo.loss"] == {"rule": "demo.loss", "judged": 1, "correct": 1,
                                 "precision": 1.0, "wilson95": [0.2065, 1.0], "not_judged": 1}
    assert [r["rule"] for r in report["rules"]] == ["demo.expand", "demo.loss"]
    assert report["all"]["judged"] == 6 and report["all"]["correct"] == 4
    assert report["problems"] == []

    table = run_hits("--tally", str(judged)).stdout.decode()
    header, expand, loss, overall, note = table.splitlines()
    assert header.split()[:4] == ["rule", "judged", "correct", "precision"]
    assert expand.split() == ["demo.expand", "5", "3", "0.60", "0.23–0.88", "0"]
    assert loss.split() == ["demo.loss", "1", "1", "1.00", "0.21–1.00", "1"]
    assert overall.split()[:4] == ["all", "6", "4", "0.67"]
    assert note == '1 hit not judged yet ("correct": null) is left out of the precision'


def test_judged_audit_becomes_the_priors_of_a_pack_calibration(tmp_path: Path,
                                                                pack: Path) -> None:
    folder = corpus_of(tmp_path / "audit", EXPAND + LOSS)
    records = [json.loads(line) for line in
               run_hits(str(folder), "--format", "jsonl", pack=pack).stdout.decode().splitlines()]
    for record in records:  # expansions: 3 of 5 right; losses: 1 of 2
        record["correct"] = (record["rule"] == "demo.expand"
                             and not any(ch.isascii() and ch.isalpha()
                                         for ch in record["claim"]["text"])) or (
            record["rule"] == "demo.loss" and "星河" in record["claim"]["text"])
    judged = tmp_path / "audit.jsonl"
    judged.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                      encoding="utf-8")
    copy = tmp_path / "pack"
    copy.mkdir()
    (copy / "pack.yaml").write_text(PACK_YAML, encoding="utf-8")
    (copy / "rules.yaml").write_text(RULES_YAML, encoding="utf-8")
    done = run_hits("--tally", str(judged), "--write-priors", str(copy / "calibration.yaml"),
                    pack=copy)
    assert done.returncode == 0, done.stderr.decode()
    # the pack names its new calibration file
    (copy / "pack.yaml").write_text(PACK_YAML + "calibration: calibration.yaml\n",
                                    encoding="utf-8")
    written = yaml.safe_load((copy / "calibration.yaml").read_text(encoding="utf-8"))
    # (correct + 4 x hand-set prior 0.7) / (judged + 4); no curve
    assert written["priors"] == {"demo.expand": round((3 + 2.8) / 9, 4),
                                 "demo.loss": round((1 + 2.8) / 6, 4)}
    assert written["points"] == [] and written["claims"] == 7
    claims = Extractor(packs=[copy]).extract("宏远机械明年扩建二期厂房。")
    assert [c.confidence for c in claims] == [pytest.approx((3 + 2.8) / 9, abs=1e-4)]


def test_write_priors_needs_a_clean_tally(tmp_path: Path, pack: Path) -> None:
    judged = tmp_path / "judged.jsonl"
    judged.write_text(json.dumps({"rule": "demo.expand", "correct": True}) + "\n"
                      + "not json\n", encoding="utf-8")
    target = tmp_path / "calibration.yaml"
    done = run_hits("--tally", str(judged), "--write-priors", str(target), pack=pack)
    assert done.returncode == 1 and not target.exists()
    assert "not written" in done.stderr.decode()
    alone = run_hits(str(tmp_path), "--write-priors", str(target), pack=pack)
    assert alone.returncode == 2 and "goes with --tally" in alone.stderr.decode()


def test_tally_reports_bad_lines_and_unreadable_files_and_exits_1(tmp_path: Path) -> None:
    judged = tmp_path / "judged.jsonl"
    judged.write_text(json.dumps({"rule": "demo.expand", "correct": True}) + "\n"
                      + json.dumps({"rule": "demo.expand", "correct": 1}) + "\n",
                      encoding="utf-8")
    done = run_hits("--tally", str(judged), str(tmp_path / "gone.jsonl"))
    assert done.returncode == 1
    stderr = done.stderr.decode()
    assert f"{judged}:2: \"correct\" is 1" in stderr
    assert "gone.jsonl: cannot read" in stderr
    assert done.stdout.decode().splitlines()[1].split()[:4] == ["demo.expand", "1", "1", "1.00"]
