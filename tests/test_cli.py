"""The command line, driven for real: ``python -m claimx ...`` in a subprocess over files
written here (mixed encodings, binary, empty, broken JSON Lines, missing paths), plus the
reader/writer helpers it stands on."""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from claimx.io import AtomicOutput, DecodeError, decode_bytes
from conftest import BACKTRACKING_RULES, BACKTRACKING_TEXT

# Text written for these tests (not from any corpus): an intent, then a hedged risk.
SIMPLIFIED = ("光明电子计划明年在越南新建两座工厂，并将加大在电池技术上的研发投入。"
              "但原材料价格上涨可能导致毛利率下降，公司面临较大的经营风险。")
TRADITIONAL = ("光明電子計劃明年在越南新建兩座工廠，並將加大在電池技術上的研發投入。"
               "但原材料價格上漲可能導致毛利率下降，公司面臨較大的經營風險。")
SHORT = ["远航物流计划今年开设三个海外仓。", "受需求疲软影响，该厂商面临库存积压的风险。",
         "本季度销售平稳。", "新政策或将推动整个储能行业加速洗牌。"]


def run_cli(*args: str, stdin: bytes | None = None, cwd: Path | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess[bytes]:
    """Run the real command line and capture its output (bytes)."""
    return subprocess.run([sys.executable, "-m", "claimx", *args], input=stdin,
                          capture_output=True, cwd=cwd, timeout=timeout)


def records(out: bytes) -> list[dict]:
    return [json.loads(line) for line in out.decode("utf-8").splitlines() if line.strip()]


def shape(claims: list[dict]) -> list[tuple]:
    """What must not depend on the file's encoding: type, span, polarity, modality."""
    return [(c["type"], c["start"], c["end"], c["polarity"], c["modality"]) for c in claims]


# --------------------------------------------------------------------------- tag: inputs


def test_tag_detects_each_encoding_and_tags_the_same_claims(tmp_path: Path) -> None:
    files = {
        "a-utf8.txt": SIMPLIFIED.encode("utf-8"),
        "b-utf8-bom.txt": SIMPLIFIED.encode("utf-8-sig"),
        "c-gbk.txt": SIMPLIFIED.encode("gbk"),
        "d-utf16.txt": SIMPLIFIED.encode("utf-16"),
        "e-big5.txt": TRADITIONAL.encode("big5"),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    done = run_cli("tag", str(tmp_path), "--format", "jsonl")
    assert done.returncode == 0, done.stderr.decode()
    out = records(done.stdout)
    assert [Path(r["id"]).name for r in out] == sorted(files)  # folder walked in sorted order
    by_name = {Path(r["id"]).name: r for r in out}
    reference = shape(by_name["a-utf8.txt"]["claims"])
    assert {c[0] for c in reference} >= {"strategic_intent", "risk"}
    for name in files:
        record = by_name[name]
        assert shape(record["claims"]) == reference, name
        # Offsets index the decoded original text, whatever the bytes were.
        text = TRADITIONAL if name == "e-big5.txt" else SIMPLIFIED
        assert all(text[c["start"]:c["end"]] == c["text"] for c in record["claims"])
    assert by_name["c-gbk.txt"]["encoding"] == "gb18030"
    assert by_name["e-big5.txt"]["encoding"].startswith("big5")
    assert by_name["d-utf16.txt"]["encoding"] == "utf-16"
    assert by_name["b-utf8-bom.txt"]["encoding"] == "utf-8-sig"
    # The one-line summary on stderr.
    assert "5 documents" in done.stderr.decode() and "0 failed" in done.stderr.decode()


def test_forced_encoding_is_used_and_a_wrong_one_fails_that_file(tmp_path: Path) -> None:
    (tmp_path / "gbk.txt").write_bytes(SIMPLIFIED.encode("gbk"))
    good = run_cli("tag", str(tmp_path / "gbk.txt"), "--encoding", "gb18030")
    assert good.returncode == 0
    assert records(good.stdout)[0]["claims"]
    bad = run_cli("tag", str(tmp_path / "gbk.txt"), "--encoding", "utf-8")
    assert bad.returncode == 1
    assert "gbk.txt" in bad.stderr.decode() and "--encoding" in bad.stderr.decode()
    assert "error" in records(bad.stdout)[0]


def test_binary_empty_and_missing_inputs_are_reported_and_the_rest_is_tagged(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text(SIMPLIFIED, encoding="utf-8")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8)
    missing = tmp_path / "nowhere.txt"
    done = run_cli("tag", str(tmp_path), str(missing))
    assert done.returncode == 1
    err = done.stderr.decode()
    assert "image.txt" in err and "binary" in err
    assert "nowhere.txt" in err and "check the path" in err
    assert "4 documents" in err and "2 failed" in err
    out = {Path(r["id"]).name: r for r in records(done.stdout)}
    assert out["good.txt"]["claims"]
    assert out["empty.txt"]["claims"] == [] and "error" not in out["empty.txt"]
    assert "error" in out["image.txt"] and "error" in out["nowhere.txt"]


def test_glob_selects_files_in_folders(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "keep.md").write_text(SHORT[0], encoding="utf-8")
    (tmp_path / "skip.txt").write_text(SHORT[1], encoding="utf-8")
    done = run_cli("tag", str(tmp_path), "--glob", "*.md")
    assert done.returncode == 0
    assert [Path(r["id"]).name for r in records(done.stdout)] == ["keep.md"]
    none = run_cli("tag", str(tmp_path), "--glob", "*.docx")
    assert none.returncode == 1 and "--glob" in none.stderr.decode()


def test_jsonl_keeps_every_record_in_order_with_errors_in_place(tmp_path: Path) -> None:
    lines = []
    for i in range(12):
        lines.append(json.dumps({"id": f"n{i}", "text": SHORT[i % 4], "source": "wire",
                                 "meta": {"page": i}}, ensure_ascii=False).encode("utf-8"))
    # Invalid UTF-8 in the middle of record 5, a non-JSON line, a record without text.
    lines[5] = b'{"id": "n5", "text": "\xe5\x85\xac\xff\xfe\xe5\x8f\xb8"}'
    lines[7] = b"{this is not json"
    lines[9] = json.dumps({"id": "n9", "body": SHORT[0]}, ensure_ascii=False).encode("utf-8")
    path = tmp_path / "docs.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n\n")  # a trailing blank line is not a record
    done = run_cli("tag", str(path), "--input-format", "jsonl")
    assert done.returncode == 1
    out = records(done.stdout)
    assert len(out) == 12  # records out == records in
    assert [r["id"] for r in out] == [f"n{i}" if i != 7 else f"{path}:8" for i in range(12)]
    failed = {r["id"]: r["error"] for r in out if "error" in r}
    assert set(failed) == {"n5", f"{path}:8", "n9"}
    assert "utf-8" in failed["n5"] and "line 6" in failed["n5"]
    assert "--text-field" in failed["n9"]
    for r in out:
        if "error" not in r:
            assert r["source"] == "wire" and r["meta"]["page"] == int(r["id"][1:])  # carried
            assert all(r["text"][c["start"]:c["end"]] == c["text"] for c in r["claims"])
    assert "3 failed" in done.stderr.decode()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "utf-16"])
def test_jobs_2_reads_jsonl_lines_in_the_workers_with_the_same_output(tmp_path: Path,
                                                                      encoding: str) -> None:
    # With --jobs and JSON Lines in and out, workers decode and parse the lines; errors,
    # blank lines, ids and line numbers must come out exactly as a single process gives them.
    lines = [json.dumps({"id": f"d{i}", "text": SHORT[i % 4]}, ensure_ascii=False)
             for i in range(150)]
    lines[3] = "{not json"
    lines[70] = ""  # blank: not a record, but it counts for the line numbers after it
    lines[71] = "[1, 2]"
    lines[130] = json.dumps({"id": "d130", "body": SHORT[1]}, ensure_ascii=False)
    data = ("\n".join(lines) + "\n").encode(encoding)
    if encoding == "utf-8":
        data = data.replace(b'"d100", "text": "', b'"d100", "text": "\xff')  # invalid bytes
    path = tmp_path / "docs.jsonl"
    path.write_bytes(data)
    serial = run_cli("tag", str(path), "--input-format", "jsonl")
    parallel = run_cli("tag", str(path), "--input-format", "jsonl", "--jobs", "2")
    assert parallel.stdout == serial.stdout
    assert parallel.returncode == serial.returncode == 1
    assert parallel.stderr.decode().splitlines()[-1] == serial.stderr.decode().splitlines()[-1]
    out = records(parallel.stdout)
    assert len(out) == 149
    assert out[3]["id"] == f"{path}:4" and "line 4" in out[3]["error"]
    assert out[70]["id"] == f"{path}:72" and "line 72" in out[70]["error"]
    assert "--text-field" in out[129]["error"]
    if encoding == "utf-8":
        assert "line 101" in out[99]["error"] and out[99]["id"] == "d100"


@settings(max_examples=60, deadline=None)
@given(lines=st.lists(st.one_of(
           st.builds(lambda i, t: json.dumps({"id": i, "text": t}, ensure_ascii=False),
                     st.integers(0, 99), st.text(max_size=8)),
           st.sampled_from(["", "  ", "{bad", "[]", '{"text": 3}'])), max_size=40),
       batch_lines=st.integers(1, 9))
def test_jsonl_batches_parse_to_the_same_documents_whatever_their_size(
        tmp_path_factory: pytest.TempPathFactory, lines: list[str], batch_lines: int) -> None:
    from claimx.io import ReadOptions, parse_jsonl_lines, read_jsonl, read_jsonl_lines

    path = tmp_path_factory.mktemp("batches") / "in.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    options = ReadOptions()
    batched = []
    for item in read_jsonl_lines(str(path), options, batch_lines=batch_lines):
        assert not hasattr(item, "error")  # the file opens; only lines can fail
        assert len(item.lines) <= batch_lines
        batched.extend(parse_jsonl_lines(item, options))
    assert batched == list(read_jsonl(str(path), options))
    assert len(batched) == sum(1 for line in lines if line.strip())


def test_jsonl_custom_fields_and_stdin(tmp_path: Path) -> None:
    data = "".join(json.dumps({"key": k, "body": t}, ensure_ascii=False) + "\n"
                   for k, t in zip("abcd", SHORT)).encode("utf-8")
    done = run_cli("tag", "-", "--input-format", "jsonl", "--text-field", "body",
                   "--id-field", "key", stdin=data)
    assert done.returncode == 0, done.stderr.decode()
    out = records(done.stdout)
    assert [r["key"] for r in out] == list("abcd")
    assert out[0]["claims"][0]["type"] == "strategic_intent"
    assert out[1]["claims"][0]["type"] == "risk"


def test_plain_text_from_stdin_gbk(tmp_path: Path) -> None:
    done = run_cli("tag", "-", stdin=SIMPLIFIED.encode("gbk"))
    assert done.returncode == 0
    (record,) = records(done.stdout)
    assert record["id"] == "-" and record["encoding"] == "gb18030" and record["claims"]


# --------------------------------------------------------------------------- tag: outputs


def test_csv_has_one_row_per_claim_and_text_view_lists_them(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    path.write_text("".join(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n"
                            for i, t in enumerate(SHORT + [SIMPLIFIED])), encoding="utf-8")
    as_json = records(run_cli("tag", str(path), "--input-format", "jsonl").stdout)
    claims = [(str(r["id"]), c) for r in as_json for c in r["claims"]]
    done = run_cli("tag", str(path), "--input-format", "jsonl", "--format", "csv")
    assert done.returncode == 0
    rows = list(csv.DictReader(io.StringIO(done.stdout.decode("utf-8"))))
    # A document without claims keeps one row with its id and nothing else.
    empty = [str(r["id"]) for r in as_json if not r["claims"]]
    assert empty and [row["id"] for row in rows if not row["type"]] == empty
    assert all(not any(v for k, v in row.items() if k != "id") for row in rows if not row["type"])
    rows = [row for row in rows if row["type"]]
    assert len(rows) == len(claims) > 0
    for row, (doc_id, c) in zip(rows, claims):
        assert (row["id"], row["type"], int(row["start"]), int(row["end"]), row["text"]) == \
               (doc_id, c["type"], c["start"], c["end"], c["text"])
        assert row["rules"].split(";") == c["rules"]
    text = run_cli("tag", str(path), "--input-format", "jsonl", "--format", "text").stdout.decode()
    assert text.count("== ") == len(as_json)
    for _, c in claims:
        assert c["type"] in text and ", ".join(c["rules"]) in text


# JSON Lines out: workers parse the lines and render the records; CSV and HTML out: the
# main process reads the documents and workers return claims (HTML shows the text).
@pytest.mark.parametrize("fmt", ["jsonl", "csv", "html"])
def test_jobs_2_gives_the_same_records_in_the_same_order(tmp_path: Path, fmt: str) -> None:
    # Documents of very different lengths, so workers finish out of order.
    texts = [(SIMPLIFIED * (1 + (i * 7) % 23)) if i % 5 == 0 else SHORT[i % 4] for i in range(400)]
    path = tmp_path / "many.jsonl"
    path.write_text("".join(json.dumps({"id": f"r{i}", "text": t}, ensure_ascii=False) + "\n"
                            for i, t in enumerate(texts)), encoding="utf-8")
    serial = run_cli("tag", str(path), "--input-format", "jsonl", "--format", fmt)
    parallel = run_cli("tag", str(path), "--input-format", "jsonl", "--format", fmt, "--jobs", "2")
    assert serial.returncode == parallel.returncode == 0, parallel.stderr.decode()
    if fmt == "jsonl":
        assert [r["id"] for r in records(parallel.stdout)] == [f"r{i}" for i in range(400)]
    assert parallel.stdout == serial.stdout
    assert parallel.stdout.decode().count("r399") >= 1


def test_workers_fork_only_from_a_single_threaded_process() -> None:
    from claimx.cli.tag import _worker_context

    if sys.platform.startswith("linux"):
        assert _worker_context(["zh-business"], False).get_start_method() == "fork"
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        # Forking while another thread runs can deadlock the child: spawn instead.
        assert _worker_context(["zh-business"], False).get_start_method() == "spawn"
    finally:
        release.set()
        other.join()


def test_the_progress_bar_runs_no_thread_so_workers_can_fork(tmp_path: Path) -> None:
    from claimx.cli.tag import _Progress
    from claimx.io import Document

    before = threading.active_count()
    with _Progress(1000, enabled=True) as progress:
        for _ in range(3):
            progress.advance(Document(id="x", size=10))
        assert threading.active_count() == before
    assert progress.docs == 3


def test_output_file_is_written_whole_and_format_follows_its_suffix(tmp_path: Path) -> None:
    (tmp_path / "in.txt").write_text(SIMPLIFIED, encoding="utf-8")
    out = tmp_path / "claims.csv"
    done = run_cli("tag", str(tmp_path / "in.txt"), "-o", str(out))
    assert done.returncode == 0 and done.stdout == b""
    assert out.read_text(encoding="utf-8").startswith("id,type,start,end,text")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["claims.csv", "in.txt"]


def _default_sigint() -> None:
    # A shell starts background jobs with SIGINT ignored, and Python then keeps ignoring
    # it (as it should); give the child the default so this test can interrupt it even
    # when the test run itself is a background job.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.slow
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_interrupt_during_a_long_run_leaves_no_output_and_no_temp_file(tmp_path: Path, jobs: str) -> None:
    big = tmp_path / "big.jsonl"
    with big.open("w", encoding="utf-8") as fh:
        for i in range(60_000):
            fh.write(json.dumps({"id": i, "text": SIMPLIFIED + SHORT[i % 4]}, ensure_ascii=False) + "\n")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "claims.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "claimx", "tag", str(big), "--input-format",
                             "jsonl", "--jobs", jobs, "-o", str(target)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=_default_sigint)
    try:
        deadline = time.monotonic() + 60
        # Wait until the temporary output exists and has data: the run is under way.
        while time.monotonic() < deadline:
            temps = list(out_dir.glob(".claims.jsonl.*.tmp"))
            if temps and temps[0].stat().st_size > 0:
                break
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.05)
        else:
            pytest.fail("the run never started writing")
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err.decode()
    assert "interrupted" in err.decode()
    assert list(out_dir.iterdir()) == []  # neither OUT nor a leftover temporary file


def test_sigterm_also_cleans_up(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    # Long enough (several seconds of tagging) that a loaded machine, which may leave this
    # test unscheduled for a while, still finds the run under way: it is a race otherwise.
    big.write_text((SIMPLIFIED + "\n") * 300_000, encoding="utf-8")
    target = tmp_path / "out.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "claimx", "tag", str(big), "-o", str(target)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".out.jsonl.*.tmp")) and time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode()  # finished before the signal
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.txt"]


# --------------------------------------------------------------------------- usage errors


@pytest.mark.parametrize("args, expect", [
    (["tag"], "PATH"),
    (["tag", "x.txt", "--format", "pdf"], "invalid choice"),
    (["tag", "x.txt", "--jobs", "-1"], "--jobs"),
    (["tag", "x.txt", "--pack", "no-such-pack"], "no pack named"),
    (["tag", "x.txt", "--encoding", "klingon"], "unknown encoding"),
    (["tag", "x.txt", "-o", "/no/such/folder/out.jsonl"], "does not exist"),
    (["frobnicate"], "invalid choice"),
    ([], "COMMAND"),
])
def test_usage_errors_exit_2_and_say_what_to_do(tmp_path: Path, args: list[str], expect: str) -> None:
    (tmp_path / "x.txt").write_text(SHORT[0], encoding="utf-8")
    done = run_cli(*args, cwd=tmp_path)
    assert done.returncode == 2
    assert expect in done.stderr.decode()
    assert done.stdout == b""


# --------------------------------------------------------------------------- explain, lint, packs


def test_explain_shows_every_stage_and_the_confidence_steps() -> None:
    done = run_cli("explain", SIMPLIFIED)
    assert done.returncode == 0, done.stderr.decode()
    out = done.stdout.decode("utf-8")
    for heading in ("normalised text", "sentences (2)", "clause 1", "claim cues", "modifiers",
                    "claims (", "confidence:", "sentiment:"):
        assert heading in out
    import claimx

    for claim in claimx.extract(SIMPLIFIED):
        assert f"[{claim.start}:{claim.end}]" in out
        for rule in claim.rules:
            assert rule in out
        for step in claim.evidence.confidence_steps:
            assert step in out
    # The same through stdin, and traditional input shows its normalised form.
    piped = run_cli("explain", "-", stdin=TRADITIONAL.encode("utf-8"))
    assert piped.returncode == 0 and "计划" in piped.stdout.decode("utf-8")


def _write_pack(root: Path, rules: str) -> Path:
    root.mkdir()
    (root / "pack.yaml").write_text(
        "name: tiny\nversion: 0.3.0\nlanguage: zh\nrequires_claimx: '>=0.1'\n"
        "description: a pack written for the CLI tests\n"
        "claim_types:\n  risk:\n    polarity: negative\n", encoding="utf-8")
    (root / "rules.yaml").write_text(rules, encoding="utf-8")
    return root


GOOD_RULES = """rules:
  - id: tiny.risk
    kind: lexicon
    type: risk
    cues: [风险]
"""
BAD_RULES = """rules:
  - id: tiny.risk
    kind: lexicon
    type: risk
    cuez: [风险]
"""


def test_lint_prints_located_problems_and_exits_1(tmp_path: Path) -> None:
    good = _write_pack(tmp_path / "good", GOOD_RULES)
    bad = _write_pack(tmp_path / "bad", BAD_RULES)
    clean = run_cli("lint", str(good))
    assert clean.returncode == 0, clean.stdout.decode() + clean.stderr.decode()
    broken = run_cli("lint", str(good), str(bad))
    assert broken.returncode == 1
    lines = [line for line in broken.stdout.decode().splitlines() if "rules.yaml:" in line]
    assert lines, broken.stdout.decode()
    # file:line:col: CODE message — the unknown key is on line 5, column 5.
    assert any(":5:5: CX" in line and "cuez" in line for line in lines), lines


GUARDED_RULES = """rules:
  - id: tiny.guarded-risk
    kind: lexicon
    type: risk
    cues: [风险]
    veto: [天气]
    not_before: [较低]
"""


def test_explain_says_what_cancelled_a_cue_that_yields_no_claim(tmp_path: Path) -> None:
    pack = _write_pack(tmp_path / "guarded", GUARDED_RULES)
    # A veto word in the sentence before the cue's own counts as well.
    vetoed = run_cli("explain", "--pack", str(pack), "明天天气转阴。出行存在风险。")
    out = vetoed.stdout.decode("utf-8")
    assert vetoed.returncode == 0 and "claims (0)" in out, out
    assert "cancelled: the veto word '天气' is in the sentence before" in out
    after = run_cli("explain", "--pack", str(pack), "该笔贷款的风险较低。").stdout.decode("utf-8")
    assert "cancelled: '较低' follows it closely (not_before)" in after and "claims (0)" in after
    # A cue that becomes a claim carries no such line.
    kept = run_cli("explain", "--pack", str(pack), "该笔贷款存在违约风险。").stdout.decode("utf-8")
    assert "claims (1)" in kept and "cancelled:" not in kept


def _one_line_error(done: subprocess.CompletedProcess[bytes], command: str) -> str:
    """The stderr of a command that failed as it should on a bad pack or input: exit 1,
    nothing on stdout, one line that starts with the command's name, no traceback."""
    err = done.stderr.decode("utf-8")
    assert done.returncode == 1 and done.stdout == b"", err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert err.startswith(f"claimx {command}: "), err
    return err


def test_explain_reports_a_rule_timeout_as_one_line_not_a_traceback(tmp_path: Path) -> None:
    # A pack author's regex that backtracks catastrophically on the text being explained:
    # explain is where they look first, so it names the rule and where it is written, and
    # exits 1 — it printed a Python traceback before. --on-rule-timeout skip explains what
    # the other rules found, as it does for claimx tag.
    pack = _write_pack(tmp_path / "backtracking", BACKTRACKING_RULES)
    err = _one_line_error(run_cli("explain", "--pack", str(pack), BACKTRACKING_TEXT), "explain")
    assert "user.catastrophic" in err and "rules.yaml:2:5" in err and "--on-rule-timeout" in err
    skipped = run_cli("explain", "--pack", str(pack), "--on-rule-timeout", "skip",
                      BACKTRACKING_TEXT)
    assert skipped.returncode == 0, skipped.stderr.decode("utf-8")
    out = skipped.stdout.decode("utf-8")
    assert "claims (1)" in out and "user.fine" in out


def test_eval_reports_a_rule_timeout_as_one_line_not_a_traceback(tmp_path: Path) -> None:
    # Scoring a pack on gold whose text makes one of its regexes backtrack: one line naming
    # the rule, exit 1 (no scores: a skipped sentence would change them silently).
    pack = _write_pack(tmp_path / "backtracking", BACKTRACKING_RULES)
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"id": "g1", "text": BACKTRACKING_TEXT, "claims": []},
                               ensure_ascii=False) + "\n", encoding="utf-8")
    err = _one_line_error(run_cli("eval", "--pack", str(pack), str(gold)), "eval")
    assert "user.catastrophic" in err


def test_packs_lists_the_bundled_pack_with_version_and_types() -> None:
    done = run_cli("packs", "--json")
    assert done.returncode == 0, done.stderr.decode()
    packs = {p["name"]: p for p in json.loads(done.stdout)}
    import claimx

    pack = claimx.load_pack("zh-business")
    entry = packs["zh-business"]
    assert entry["version"] == pack.version and entry["origin"] == "bundled"
    assert set(entry["claim_types"]) == set(pack.claim_types)
    assert sum(entry["rules"].values()) == len(pack.rules)
    table = run_cli("packs").stdout.decode("utf-8")
    assert "zh-business" in table and pack.version in table


# --------------------------------------------------------------------------- helpers, in process


@settings(max_examples=200)
# Text opening with NUL is left out: after a UTF-16 BOM it reads as a UTF-32 BOM (FF FE 00 00).
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)
       .filter(lambda t: not t.startswith("\x00")),
       st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-32"]))
def test_decode_bytes_round_trips_unicode_encodings(text: str, encoding: str) -> None:
    # Plain UTF-8 of a text opening with U+FEFF is byte for byte the UTF-8 BOM: read as one.
    assume(not (encoding == "utf-8" and text.startswith("\ufeff")))
    decoded, _ = decode_bytes(text.encode(encoding))
    assert decoded == text


SIMPLIFIED_CHARS = "公司计划明年扩大产能但原材料价格上涨可能导致利润下降面临风险，。"
TRADITIONAL_CHARS = "公司計劃明年擴大產能但原材料價格上漲可能導致利潤下降面臨風險，。"


@settings(max_examples=100)
@given(st.text(alphabet=SIMPLIFIED_CHARS, min_size=8, max_size=80))
def test_decode_bytes_reads_simplified_chinese_in_gb18030(text: str) -> None:
    decoded, used = decode_bytes(text.encode("gb18030"))
    assert (decoded, used) == (text, "gb18030")


@settings(max_examples=100)
@given(st.text(alphabet=TRADITIONAL_CHARS, min_size=8, max_size=80))
def test_decode_bytes_reads_traditional_chinese_in_big5(text: str) -> None:
    decoded, used = decode_bytes(text.encode("big5"))
    assert decoded == text
    assert used in ("big5hkscs", "gb18030")  # the same characters read the same either way


def test_decode_bytes_refuses_binary_and_names_the_fix() -> None:
    with pytest.raises(DecodeError, match="--encoding"):
        decode_bytes(b"\x00\x01\x02\xff\xfe\xfd" * 100)
    assert decode_bytes(b"") == ("", "utf-8")
    assert decode_bytes(codecs.BOM_UTF8 + "风险".encode()) == ("风险", "utf-8-sig")


def test_atomic_output_replaces_on_success_and_removes_temp_on_error(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError), AtomicOutput(target) as fh:
        fh.write("half")
        raise RuntimeError("crash")
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]
    with AtomicOutput(target) as fh:
        fh.write("new")
        assert target.read_text(encoding="utf-8") == "old"  # not visible until done
    assert target.read_text(encoding="utf-8") == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]
    assert oct(target.stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_progress_bar_only_on_a_terminal(tmp_path: Path) -> None:
    import pty

    path = tmp_path / "docs.jsonl"
    path.write_text("".join(json.dumps({"id": i, "text": SHORT[i % 4]}, ensure_ascii=False) + "\n"
                            for i in range(3000)), encoding="utf-8")
    parent, child = pty.openpty()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "claimx", "tag", str(path), "--input-format",
                                 "jsonl", "-o", str(tmp_path / "out.jsonl")],
                                stdout=subprocess.DEVNULL, stderr=child,
                                env={**os.environ, "COLUMNS": "120", "TERM": "xterm"})
        os.close(child)
        chunks = []
        while True:
            try:
                data = os.read(parent, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        assert proc.wait(timeout=120) == 0
    finally:
        os.close(parent)
    shown = b"".join(chunks).decode("utf-8", errors="replace")
    assert "docs/s" in shown and "3000 documents" in shown
    piped = run_cli("tag", str(path), "--input-format", "jsonl", "-o", str(tmp_path / "o2.jsonl"))
    assert "docs/s" not in piped.stderr.decode() and "3000 documents" in piped.stderr.decode()


def _children(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (from /proc; Linux only)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds workers through /proc")
def test_a_killed_worker_fails_its_chunk_and_the_run_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    n = 20_000
    path.write_text("".join(json.dumps({"id": i, "text": SHORT[i % 4]}, ensure_ascii=False) + "\n"
                            for i in range(n)), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "claimx", "tag", str(path), "--input-format",
                             "jsonl", "--jobs", "2", "-o", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        temp = None
        while time.monotonic() < deadline and proc.poll() is None:
            temps = list(tmp_path.glob(".out.jsonl.*.tmp"))
            if temps and temps[0].stat().st_size > 0:
                temp = temps[0]
                break
            time.sleep(0.02)
        assert temp is not None, "the run never started writing"
        # The workers are forked copies of the command (same command line) or, where it
        # spawns them, spawned Python processes (the resource tracker is one too; killing
        # it does no harm to the run).
        own = Path(f"/proc/{proc.pid}/cmdline").read_bytes()
        workers = [p for p in _children(proc.pid)
                   if Path(f"/proc/{p}/cmdline").read_bytes() == own
                   or b"spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes()]
        assert workers
        os.kill(workers[0], signal.SIGKILL)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert out.exists(), err.decode()[-3000:]
    out_records = records(out.read_bytes())
    assert [r["id"] for r in out_records] == list(range(n))  # nothing lost, order kept
    died = [r for r in out_records if "worker process died" in r.get("error", "")]
    assert 0 < len(died) <= 64  # one chunk became error records ...
    assert proc.returncode == 1 and "worker process died" in err.decode()
    assert sum(1 for r in out_records if "claims" in r) == n - len(died)  # ... the rest tagged
