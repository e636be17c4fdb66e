"""Dirty input never costs a record: stray bytes, lone surrogates, JSON that Python cannot
read, and folders holding things that are not files (issue 16, items 1-4).

Every case here once lost data: a whole file misread, a run ended by a traceback with no
output, or an input dropped without a word. The texts are written for these tests.
"""

from __future__ import annotations

import codecs
import contextlib
import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claimx.cli import main
from claimx.io import DecodeError, ReadOptions, decode_bytes, expand_paths, read_jsonl

# Characters of ordinary Chinese business prose, and of the English and Latin-1 noise
# scraped text carries; none of them is a surrogate.
CHINESE = "公司计划明年扩大产能但原材料价格上涨可能导致利润下降面临风险，。、市场"
NOISE = "abcxyzABC 0123456789.,;:!?-()éüñß"
INTENT = "远航物流计划今年开设三个海外仓。"
RISK = "受需求疲软影响，该厂商面临库存积压的风险。"


def run_tag(*args: str, quiet: bool = True) -> tuple[int, str]:
    """``claimx tag ARGS`` in this process: (exit code, stderr). Output goes to ``-o``."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["tag", *(["--quiet"] if quiet else []), *args])
    return code, err.getvalue()


def read_records(path: Path) -> list[dict]:
    # Split on "\n" only: a record's text may hold U+0085 or U+2028, which splitlines
    # would cut at.
    return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n")
            if line]


# --------------------------------------------------------------------------- 1. stray bytes

texts = st.text(alphabet=CHINESE + NOISE, max_size=30)


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(texts, min_size=1, max_size=12), data=st.data())
def test_one_stray_byte_fails_its_line_and_no_other(
        tmp_path_factory: pytest.TempPathFactory, lines: list[str], data: st.DataObject) -> None:
    # The reader once guessed a single-byte codepage for the whole file from one bad byte
    # when its first 64 KiB held little Chinese, and misread every line.
    encoded = [json.dumps({"id": i, "text": t}, ensure_ascii=False).encode("utf-8")
               for i, t in enumerate(lines)]
    bad = data.draw(st.integers(0, len(lines) - 1), label="damaged line")
    at = data.draw(st.integers(0, len(encoded[bad])), label="position")
    stray = data.draw(st.integers(0x80, 0xFF), label="stray byte")
    encoded[bad] = encoded[bad][:at] + bytes([stray]) + encoded[bad][at:]
    path = tmp_path_factory.mktemp("stray") / "in.jsonl"
    path.write_bytes(b"\n".join(encoded) + b"\n")
    docs = list(read_jsonl(str(path), ReadOptions()))
    assert len(docs) == len(lines)
    for i, (doc, text) in enumerate(zip(docs, lines)):
        if i == bad:
            assert doc.error and "utf-8" in doc.error, doc
        else:
            assert (doc.error, doc.text, doc.encoding) == ("", text, "utf-8")


def test_a_whole_gb18030_jsonl_file_is_still_read_as_gb18030(tmp_path: Path) -> None:
    path = tmp_path / "gbk.jsonl"
    path.write_bytes("".join(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n"
                             for i, t in enumerate([INTENT, RISK] * 3)).encode("gb18030"))
    docs = list(read_jsonl(str(path), ReadOptions()))
    assert [d.text for d in docs] == [INTENT, RISK] * 3
    assert {d.encoding for d in docs} == {"gb18030"}


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=CHINESE + NOISE, max_size=60)
       .filter(lambda t: sum(ch in CHINESE for ch in t) >= 3), data=st.data())
def test_plain_text_with_a_stray_byte_is_reported_never_misread(text: str,
                                                                data: st.DataObject) -> None:
    # `printf 'caf\xe9 \xff 风险' | claimx tag -` was read as cp869 and reported as success.
    raw = text.encode("utf-8")
    at = data.draw(st.integers(0, len(raw)), label="position")
    damaged = raw[:at] + bytes([data.draw(st.integers(0x80, 0xFF), label="byte")]) + raw[at:]
    with pytest.raises(DecodeError, match="--encoding"):
        decode_bytes(damaged)


def test_a_stray_lead_byte_that_forms_a_private_use_character_is_still_reported() -> None:
    # Found by the property above: a stray EE inside 原 (E5 [EE] 8E 9F) takes that
    # character's continuation bytes and decodes as a private-use character (U+E39F), which
    # GB18030 bytes read as UTF-8 also give; the bytes read as GB18030 only by accident.
    raw = "原临润".encode()
    with pytest.raises(DecodeError, match="--encoding"):
        decode_bytes(raw[:1] + b"\xee" + raw[1:])


@pytest.mark.parametrize(("text", "at", "byte"), [("临致险", 1, 0xC2), ("临下原", 4, 0xC4),
                                                  ("产临产", 1, 0xD3), ("4格面大", 8, 0xC6)])
def test_a_stray_byte_that_makes_the_whole_text_valid_gb18030_is_still_reported(
        text: str, at: int, byte: int) -> None:
    # Found by the property above: with the stray byte every pair of bytes of these short
    # texts is valid GB18030 and reads as CJK (临致险 → 渎复鑷撮櫓), but as characters of
    # GB2312's second level, GBK's extension or traditional script, which simplified text in
    # GB does not use: a GB18030 reading must be made of GB2312's frequent characters.
    raw = text.encode()
    with pytest.raises(DecodeError, match="--encoding"):
        decode_bytes(raw[:at] + bytes([byte]) + raw[at:])


def test_gb18030_text_with_a_few_rare_characters_is_still_read() -> None:
    # 蔺 and 琨 are of GB2312's second level: a name or two in a sentence is fine.
    text = "蔺琨表示，公司计划明年扩大产能，但原材料价格上涨可能导致利润下降。"
    assert decode_bytes(text.encode("gb18030")) == (text, "gb18030")


def test_the_reported_stray_byte_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                         ) -> None:
    stdin = io.TextIOWrapper(io.BytesIO(b"caf\xe9 \xff " + "风险".encode()))
    monkeypatch.setattr(sys, "stdin", stdin)
    out = tmp_path / "out.jsonl"
    code, _ = run_tag("-", "-o", str(out))
    assert code == 1
    (record,) = read_records(out)
    assert "not valid UTF-8" in record["error"] and "--encoding" in record["error"]


def test_legacy_encodings_the_detector_is_sure_of_still_decode() -> None:
    assert decode_bytes("风险".encode("gbk")) == ("风险", "gb18030")
    french = "Le café est très bon, merci beaucoup à vous. Élève à l'école."
    assert decode_bytes(french.encode("cp1252"))[0] == french


# --------------------------------------------------------------------------- 2. surrogates

SURROGATE_LINES = ('{"id": "a\\udc00", "text": "\\ud83d' + RISK + '"}\n'
                   + json.dumps({"id": "b", "text": INTENT}, ensure_ascii=False) + "\n")


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "text", "html"])
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_lone_surrogate_is_written_safely_and_the_run_goes_on(tmp_path: Path, fmt: str,
                                                                jobs: str) -> None:
    # Half an emoji used to raise UnicodeEncodeError while writing: no -o file at all.
    source = tmp_path / "in.jsonl"
    source.write_text(SURROGATE_LINES, encoding="utf-8")
    out = tmp_path / f"out.{fmt}"
    code, err = run_tag(str(source), "--input-format", "jsonl", "-o", str(out),
                        "--format", fmt, "--jobs", jobs)
    assert code == 0, err
    written = out.read_text(encoding="utf-8")  # valid UTF-8 throughout
    if fmt == "jsonl":
        first, second = read_records(out)
        assert first["text"] == "\ud83d" + RISK  # escaped, so it reads back exactly
        assert first["id"] == "a\udc00"
        assert [c["type"] for c in first["claims"]] == ["risk"]
        start, end = first["claims"][0]["start"], first["claims"][0]["end"]
        assert first["text"][start:end] == first["claims"][0]["text"]
        assert second["claims"]
    else:
        assert "a\ufffd" in written  # the id, replaced
        assert "风险" in written and "海外仓" in written


# --------------------------------------------------------------------------- 3. bad JSON


def _deep(levels: int) -> str:
    return '{"id": "deep", "text": "x", "n": ' + "[" * levels + "]" * levels + "}"


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_json_that_python_cannot_read_is_that_lines_error(tmp_path: Path, jobs: str) -> None:
    lines = [
        json.dumps({"id": "first", "text": INTENT}, ensure_ascii=False),
        '{"id": "huge", "text": "x", "n": ' + "7" * 5000 + "}",  # ValueError, not JSONDecodeError
        "[" * 100_000,  # RecursionError
        _deep(950),  # reads, but could not be written back
        '{"id": "big-but-fine", "text": "x", "n": ' + "7" * 4000 + "}",
        json.dumps({"id": "last", "text": RISK}, ensure_ascii=False),
    ]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    code, err = run_tag(str(source), "--input-format", "jsonl", "-o", str(out), "--jobs", jobs)
    assert code == 1 and "Traceback" not in err
    got = read_records(out)
    assert len(got) == len(lines)
    assert [("error" in r) for r in got] == [False, True, True, True, False, False]
    assert got[0]["claims"] and got[-1]["claims"]
    assert "line 2" in got[1]["error"] and "line 3" in got[2]["error"]
    assert "nested" in got[2]["error"] and "nested" in got[3]["error"]
    assert got[4]["n"] == int("7" * 4000)


# --------------------------------------------------------------------------- the property

LINE_KINDS = st.one_of(
    st.builds(lambda i, t: json.dumps({"id": f"k{i}", "text": t}, ensure_ascii=False).encode(),
              st.integers(0, 999), st.text(max_size=12)),  # any code point, surrogates too
    st.builds(lambda t: ('{"text": "' + t + '"}').encode(),
              st.sampled_from(["\\ud83d", "\\udfff风险", "a\\ud800\\ud800b"])),
    st.binary(min_size=1, max_size=20).filter(lambda b: b"\n" not in b and b.strip()),
    st.sampled_from([b"{bad", b"[]", b"3", b'{"text": 3}', b'{"body": "x"}', b"\xff\xfe{",
                     ('{"n": ' + "9" * 4400 + "}").encode(), b"[" * 5000,
                     _deep(300).encode()]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(LINE_KINDS, min_size=1, max_size=15), jobs=st.sampled_from(["1", "2"]))
def test_any_jsonl_file_gives_one_record_per_line_in_order(
        tmp_path_factory: pytest.TempPathFactory, lines: list[bytes], jobs: str) -> None:
    folder = tmp_path_factory.mktemp("prop")
    source = folder / "in.jsonl"
    # Lines that are only whitespace are not records. A file opening with a UTF-16/32
    # byte-order mark is declared UTF-16/32 (docs/cli.md), so its lines are not these.
    lines = [line if line.strip() else b"{" for line in lines]
    if lines[0].startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        lines[0] = b"#" + lines[0]
    source.write_bytes(b"\n".join(lines) + b"\n")
    out = folder / "out.jsonl"
    code, err = run_tag(str(source), "--input-format", "jsonl", "-o", str(out),
                        "--jobs", jobs, quiet=False)
    assert "Traceback" not in err
    got = read_records(out)
    assert len(got) == len(lines)
    failed = ["error" in r for r in got]
    assert code == (1 if any(failed) else 0)
    assert f"{sum(failed)} failed" in err.splitlines()[-1]
    for number, (line, record) in enumerate(zip(lines, got), start=1):
        # Each record is its own line's: the line's fields when it parsed to an object,
        # else an id naming the line.
        try:
            parsed = json.loads(line.decode("utf-8"))
        except (ValueError, RecursionError):
            parsed = None
        if line.count(b"[") > 200:  # refused: nested deeper than claimx writes back
            parsed = None
        if isinstance(parsed, dict) and parsed:
            assert {k: v for k, v in record.items()
                    if k not in ("claims", "sentiment", "error")} == parsed
        elif "error" in record:
            assert record == {"id": f"{source}:{number}", "error": record["error"]}
        if "error" not in record:
            assert isinstance(parsed, dict) and isinstance(parsed.get("text"), str)


# --------------------------------------------------------------------------- 4. folder walk

ENTRY_KINDS = ("file", "hidden", "other-suffix", "broken-link", "fifo", "linked-folder",
               "folder", "file-link")


def _make(folder: Path, name: str, kind: str, target_folder: Path) -> tuple[set[str], set[str]]:
    """Create one entry; return (paths that must be tagged, paths that must be reported)."""
    path = folder / f"{name}.txt"
    if kind == "file":
        path.write_text(INTENT, encoding="utf-8")
        return {str(path)}, set()
    if kind == "hidden":
        (folder / f".{name}.txt").write_text(INTENT, encoding="utf-8")
        return set(), set()
    if kind == "other-suffix":
        (folder / f"{name}.md").write_text(INTENT, encoding="utf-8")
        return set(), set()
    if kind == "broken-link":
        path.symlink_to(folder / "nowhere")
        return set(), {str(path)}
    if kind == "fifo":
        os.mkfifo(path)
        return set(), {str(path)}
    if kind == "file-link":
        path.symlink_to(target_folder / "target.txt")
        return {str(path)}, set()
    sub = folder / name
    if kind == "linked-folder":
        sub.symlink_to(target_folder, target_is_directory=True)
        return {str(sub / "target.txt")}, set()
    sub.mkdir()
    (sub / "inner.txt").write_text(RISK, encoding="utf-8")
    return {str(sub / "inner.txt")}, set()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs and symlinks")
@settings(max_examples=150, deadline=None)
@given(kinds=st.lists(st.sampled_from(ENTRY_KINDS), min_size=1, max_size=10))
def test_the_folder_walk_tags_or_reports_every_entry(tmp_path_factory: pytest.TempPathFactory,
                                                     kinds: list[str]) -> None:
    base = tmp_path_factory.mktemp("walk")
    outside = base / "outside"
    outside.mkdir()
    (outside / "target.txt").write_text(RISK, encoding="utf-8")
    folder = base / "in"
    folder.mkdir()
    tagged: set[str] = set()
    reported: set[str] = set()
    for i, kind in enumerate(kinds):
        good, bad = _make(folder, f"e{i}", kind, outside)
        tagged |= good
        reported |= bad
    found = list(expand_paths([str(folder)], "*.txt"))  # never opens, so a FIFO cannot block
    files = [p for p, problem in found if problem is None]
    problems = {p: problem for p, problem in found if problem is not None}
    assert set(files) == tagged and len(files) == len(tagged)
    if tagged:
        assert set(problems) == reported
    assert files == sorted(files, key=lambda p: Path(p).parts)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs and symlinks")
def test_tag_reports_skipped_entries_by_name_and_exits_1(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text(INTENT, encoding="utf-8")
    (folder / "sub" / "b.txt").write_text(RISK, encoding="utf-8")
    (folder / "broken.txt").symlink_to(tmp_path / "gone.txt")
    os.mkfifo(folder / "pipe.txt")
    (folder / "linked").symlink_to(folder / "sub", target_is_directory=True)
    (folder / "sub" / "loop").symlink_to(folder, target_is_directory=True)
    out = tmp_path / "out.jsonl"
    code, err = run_tag(str(folder), "-o", str(out), quiet=False)
    assert code == 1
    got = {Path(r["id"]).relative_to(folder).as_posix(): r for r in read_records(out)}
    assert {k for k, r in got.items() if "error" not in r} == {"a.txt", "sub/b.txt",
                                                                "linked/b.txt"}
    # The loop is met twice: under sub/ and under linked/ (the same folder).
    for name in ("broken.txt", "pipe.txt", "sub/loop", "linked/loop"):
        assert "error" in got[name] and f"{folder / name}:" in err
    assert "4 failed" in err


# --------------------------------------------------------------------------- 5. output failures


def _many_records(path: Path, count: int = 400) -> Path:
    path.write_text("".join(json.dumps({"id": i, "text": INTENT + RISK}, ensure_ascii=False)
                            + "\n" for i in range(count)), encoding="utf-8")
    return path


def _cli(*args: str, **kwargs: object) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "claimx", *args], capture_output=True,
                          timeout=300, **kwargs)  # type: ignore[call-overload]


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs a read-only /proc")
def test_an_output_folder_that_takes_no_file_is_a_usage_error(tmp_path: Path) -> None:
    # /proc takes no new file even for root (who may write any read-only folder).
    done = _cli("tag", str(_many_records(tmp_path / "in.jsonl", 3)), "--input-format", "jsonl",
                "-o", "/proc/claimx-out.jsonl")
    assert done.returncode == 2
    err = done.stderr.decode()
    assert "cannot write /proc/claimx-out.jsonl" in err and "Traceback" not in err


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root writes read-only folders")
def test_a_read_only_output_folder_is_a_usage_error(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        done = _cli("tag", str(_many_records(tmp_path / "in.jsonl", 3)), "--input-format",
                    "jsonl", "-o", str(folder / "out.jsonl"))
    finally:
        folder.chmod(0o755)
    assert done.returncode == 2 and "Traceback" not in done.stderr.decode()
    assert "cannot write" in done.stderr.decode()


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_full_disk_on_stdout_is_a_clear_error(tmp_path: Path, jobs: str) -> None:
    source = _many_records(tmp_path / "in.jsonl")
    with open("/dev/full", "wb") as full:
        done = subprocess.run([sys.executable, "-m", "claimx", "tag", str(source),
                               "--input-format", "jsonl", "--jobs", jobs], stdout=full,
                              stderr=subprocess.PIPE, timeout=300)
    err = done.stderr.decode()
    assert done.returncode == 2, err
    assert "writing to stdout failed: No space left on device" in err
    assert "Traceback" not in err and "Exception ignored" not in err


def _file_size_limit(limit: int) -> Callable[[], None]:
    def apply() -> None:
        import resource

        # Writes past `limit` bytes fail with EFBIG, as a full disk fails them with ENOSPC;
        # Python already ignores SIGXFSZ, so the write returns an error.
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


@pytest.mark.skipif(os.name != "posix", reason="needs RLIMIT_FSIZE")
@pytest.mark.parametrize("fmt", ["jsonl", "html"])
def test_a_write_failing_midway_keeps_the_previous_output(tmp_path: Path, fmt: str) -> None:
    source = _many_records(tmp_path / "in.jsonl")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / f"claims.{fmt}"
    target.write_text("previous run\n", encoding="utf-8")
    done = _cli("tag", str(source), "--input-format", "jsonl", "-o", str(target),
                preexec_fn=_file_size_limit(32 * 1024))
    err = done.stderr.decode()
    assert done.returncode == 2, err
    assert f"writing {target} failed" in err and "left as it was" in err
    assert "Traceback" not in err
    assert target.read_text(encoding="utf-8") == "previous run\n"
    assert [p.name for p in out_dir.iterdir()] == [target.name]  # no temporary file left


def test_a_rewritten_output_keeps_its_mode(tmp_path: Path) -> None:
    source = _many_records(tmp_path / "in.jsonl", 3)
    target = tmp_path / "out.jsonl"
    target.write_text("old\n", encoding="utf-8")
    target.chmod(0o640)
    code, _ = run_tag(str(source), "--input-format", "jsonl", "-o", str(target))
    assert code == 0 and len(read_records(target)) == 3
    assert target.stat().st_mode & 0o777 == 0o640


def test_an_output_symlink_is_written_through_to_its_target(tmp_path: Path) -> None:
    source = _many_records(tmp_path / "in.jsonl", 3)
    (tmp_path / "real").mkdir()
    real = tmp_path / "real" / "claims.jsonl"
    real.write_text("old\n", encoding="utf-8")
    link = tmp_path / "claims.jsonl"
    link.symlink_to(real)
    code, _ = run_tag(str(source), "--input-format", "jsonl", "-o", str(link))
    assert code == 0
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert len(read_records(real)) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["claims.jsonl", "in.jsonl", "real"]


@pytest.mark.skipif(os.name != "posix", reason="needs SIGKILL")
def test_a_temporary_file_left_by_sigkill_is_removed_by_the_next_run(tmp_path: Path) -> None:
    source = _many_records(tmp_path / "in.jsonl", 20_000)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "claims.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "claimx", "tag", str(source),
                             "--input-format", "jsonl", "-o", str(target)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not list(out_dir.glob(".claims.jsonl.*.tmp")):
            assert proc.poll() is None and time.monotonic() < deadline, "never started writing"
            time.sleep(0.05)
        proc.kill()  # SIGKILL: no handler runs, the temporary file stays
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert len(list(out_dir.glob(".claims.jsonl.*.tmp"))) == 1
    # A temporary file of a process that still runs (this one) is another run's: kept.
    live = out_dir / f".claims.jsonl.{os.getpid()}.abcdefgh.tmp"
    live.write_text("busy", encoding="utf-8")
    code, _ = run_tag(str(_many_records(tmp_path / "small.jsonl", 3)), "--input-format",
                      "jsonl", "-o", str(target))
    assert code == 0
    assert sorted(p.name for p in out_dir.iterdir()) == sorted([target.name, live.name])


# --------------------------------------------------------------------------- 6. HTML memory


class _Sink:
    """A text stream that only counts what it is given."""

    def __init__(self) -> None:
        self.chars = 0

    def write(self, text: str) -> int:
        self.chars += len(text)
        return len(text)

    def flush(self) -> None:
        pass


def test_the_html_report_memory_does_not_grow_with_the_documents() -> None:
    import tracemalloc

    from claimx.io import Document
    from claimx.writers import HtmlWriter, Result

    claim = {"type": "risk", "start": 0, "end": 4, "text": "面临风险", "polarity": "negative",
             "modality": "asserted", "subject": None, "confidence": 0.8, "rules": ["r"]}
    sink = _Sink()
    tracemalloc.start()
    try:
        writer = HtmlWriter(sink)  # type: ignore[arg-type]
        for i in range(8_000):  # summary rows alone: about 16 MB of text
            writer.write(Result(doc=Document(id=f"news/2024/{i:08d}-" + "x" * 2000,
                                             text="面临风险。"),
                                claims=(claim,), sentiment={"label": "negative", "score": -0.5}))
        writer.close()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sink.chars > 32_000_000  # each id is written twice: its section and its row
    assert peak < 10_000_000, f"peak {peak / 1e6:.1f} MB"


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.text(alphabet="公司计划扩产风险𠀋😀ab \t", max_size=12), min_size=1,
                max_size=12),
       st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-32", "utf-32-be"]))
def test_jsonl_document_sizes_add_up_to_the_file(tmp_path: Path,
                                                 records: list[str],
                                                 encoding: str) -> None:
    # The progress bar of `claimx tag` advances by each document's size against the file's
    # size: in UTF-16/32 a size counted in characters stopped it near half way.
    lines = [json.dumps({"id": str(number), "text": text}, ensure_ascii=False) + "\n"
             for number, text in enumerate(records)]
    path = tmp_path / f"sizes-{encoding}.jsonl"
    path.write_bytes("".join(lines).encode(encoding))
    docs = list(read_jsonl(str(path), ReadOptions(encoding="auto" if encoding in (
        "utf-8", "utf-8-sig", "utf-16", "utf-32") else encoding)))
    assert [doc.text for doc in docs] == records
    assert sum(doc.size for doc in docs) == path.stat().st_size
