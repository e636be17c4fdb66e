"""What a new user meets first (issue 15): clear one-line errors instead of tracebacks,
outputs an analyst can open, and command-line edges (``claimx packs`` in a pipe, the
summary line, a text given where a path belongs)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# Text written for these tests: an intent, then a hedged risk.
TEXT = "光明电子计划明年在越南新建两座工厂。但原材料价格上涨可能导致毛利率下降。"

# Runs the command line with pyarrow unimportable, as on a machine without the spark extra.
_WITHOUT_PYARROW = ("import sys; sys.modules['pyarrow'] = None; "
                    "from claimx.cli import main; sys.exit(main(sys.argv[1:]))")


def run_cli(*args: str, stdin: bytes | None = None, cwd: Path | None = None,
            without_pyarrow: bool = False) -> subprocess.CompletedProcess[str]:
    command = ([sys.executable, "-c", _WITHOUT_PYARROW] if without_pyarrow
               else [sys.executable, "-m", "claimx"])
    return subprocess.run([*command, *args], input=stdin, capture_output=True, cwd=cwd,
                          timeout=300, text=stdin is None)


def assert_one_line_usage_error(done: subprocess.CompletedProcess[str], *expected: str) -> None:
    """Exit 2, no traceback, one line on stderr holding every expected piece."""
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    for piece in expected:
        assert piece in lines[0], done.stderr


# --------------------------------------------------------------------------- 1. errors


@pytest.mark.parametrize("option", ["--format", "--input-format"])
def test_parquet_without_pyarrow_is_a_usage_error(tmp_path: Path, option: str) -> None:
    doc = tmp_path / "a.txt"
    doc.write_text(TEXT, encoding="utf-8")
    out = tmp_path / ("out.parquet" if option == "--format" else "out.jsonl")
    done = run_cli("tag", str(doc), option, "parquet", "-o", str(out), without_pyarrow=True)
    assert_one_line_usage_error(done, f"{option} parquet", "pyarrow", 'pip install "claimx[spark]"')
    assert not out.exists()


def test_hits_on_parquet_without_pyarrow_is_a_usage_error(tmp_path: Path) -> None:
    corpus = tmp_path / "news.parquet"
    corpus.write_bytes(b"PAR1")
    done = run_cli("hits", str(corpus), "--input-format", "parquet", without_pyarrow=True)
    assert_one_line_usage_error(done, "--input-format parquet", "pyarrow",
                                'pip install "claimx[spark]"')


def test_parquet_with_pyarrow_still_works(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    doc = tmp_path / "a.txt"
    doc.write_text(TEXT, encoding="utf-8")
    done = run_cli("tag", str(doc), "-o", str(tmp_path / "out.parquet"), "-q")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out.parquet").read_bytes()[:4] == b"PAR1"


@pytest.fixture(scope="module")
def gold(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("gold") / "gold.jsonl"
    path.write_text('{"id": "g1", "text": "公司计划扩产。", "claims": []}\n', encoding="utf-8")
    return path


@pytest.mark.parametrize(("content", "expected"), [
    (None, ["missing.yaml", "cannot read the floors file", "No such file"]),
    ("sentence_micro_f1: [0.5\n", ["floors.yaml:2:1", "not valid YAML"]),
    ("sentence_micro_f1: 0.5\n  span: :\n", ["floors.yaml:2", "not valid YAML"]),
    ("- 0.5\n", ["floors.yaml:1", "must be a mapping"]),
    ("sentence_micro_f1: 0.5\nspan_micro_f1: high\n",
     ["floors.yaml:2", "span_micro_f1 must be a number, not 'high'"]),
    ("span_micro_f1: .nan\n", ["floors.yaml:1", "must be a number"]),
    ("sentence_micro_f1: 0.5\n\nspan_mikro_f1: 0.3\n",
     ["floors.yaml:3", "'span_mikro_f1' is not a figure", "did you mean 'span_micro_f1'"]),
    ("sentence_f1.opportunity: 0.5\n", ["floors.yaml:1", "'sentence_f1.opportunity'"]),
    ("\xff\xfe", ["floors.yaml", "not UTF-8"]),
])
def test_a_bad_floors_file_is_one_located_line_and_exit_2(
        gold: Path, tmp_path: Path, content: str | None, expected: list[str]) -> None:
    floors = tmp_path / ("missing.yaml" if content is None else "floors.yaml")
    if content is not None:
        floors.write_bytes(content.encode("latin-1") if content.startswith("\xff")
                           else content.encode("utf-8"))
    done = run_cli("eval", str(gold), "--check-floors", str(floors))
    assert_one_line_usage_error(done, *expected)
    assert done.stdout == ""  # refused before scoring


def test_floors_of_figures_not_computed_in_this_run_are_not_errors(gold: Path,
                                                                    tmp_path: Path) -> None:
    """.ci/run checks one floors file against a claims run and a sentiment run."""
    floors = tmp_path / "floors.yaml"
    floors.write_text("sentence_micro_f1: 0.0\nsentiment_macro_f1: 0.99\n"
                      "sentence_f1.risk: 0\n", encoding="utf-8")
    done = run_cli("eval", str(gold), "--check-floors", str(floors))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr


def test_the_repository_floors_file_loads() -> None:
    from claimx.cli.eval import load_floors

    repo = Path(__file__).resolve().parent.parent
    floors = load_floors(str(repo / ".ci" / "quality-floors.yaml"),
                         ["strategic_intent", "advantage", "risk", "industry_impact"])
    assert floors["sentence_micro_f1"] > 0.5 and "ece_max" in floors


# --------------------------------------------------------------------------- 9. CLI edges

REPO = Path(__file__).resolve().parent.parent
USER_PACK = REPO / "tests" / "fixtures" / "packs" / "good_user_type"


def test_packs_piped_prints_whole_paths(tmp_path: Path) -> None:
    """An installed pack at a long path: piped to a file, its path is printed whole, on
    one line, however wide the terminal would have been."""
    import shutil

    deep = tmp_path.joinpath(*[f"a-rather-long-folder-name-{i}" for i in range(8)], "esg-pack")
    shutil.copytree(USER_PACK, deep)
    site = tmp_path / "site"
    (site / "longpack-0.dist-info").mkdir(parents=True)
    (site / "longpack-0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: longpack\nVersion: 0\n", encoding="utf-8")
    (site / "longpack-0.dist-info" / "entry_points.txt").write_text(
        "[claimx.packs]\nesg-demo = longpack_mod:PACK\n", encoding="utf-8")
    (site / "longpack_mod.py").write_text(f"PACK = {str(deep)!r}\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(site), "COLUMNS": "80"}
    done = subprocess.run([sys.executable, "-m", "claimx", "packs"], capture_output=True,
                          text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert len(str(deep)) > 200
    line = next(line for line in done.stdout.splitlines() if "esg-demo" in line)
    assert str(deep) in line
    assert "installed" in line and "esg_commitment" in line


def test_summary_lists_the_claim_types_of_the_loaded_packs(tmp_path: Path) -> None:
    doc = tmp_path / "a.txt"
    doc.write_text("公司承诺2030年前实现碳中和。", encoding="utf-8")
    done = run_cli("tag", str(doc), "--pack", str(USER_PACK))
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        "claimx tag: 1 document, 1 claim (esg_commitment 1), 0 failed")
    both = run_cli("tag", str(doc), "--pack", "zh-business", "--pack", str(USER_PACK))
    summary = both.stderr.strip().splitlines()[-1]
    assert "strategic_intent" in summary and summary.index("risk") < summary.index("esg_commitment")


def test_a_text_given_as_a_path_gets_a_hint(tmp_path: Path) -> None:
    done = run_cli("tag", "公司计划明年在越南新建两座工厂。", cwd=tmp_path)
    assert done.returncode == 1
    assert "looks like text, not a path" in done.stderr
    assert "| claimx tag -" in done.stderr and "claimx explain '" in done.stderr
    missing = run_cli("tag", "reports/missing.txt", cwd=tmp_path)
    assert "no such file or folder: reports/missing.txt (check the path)" in missing.stderr
    assert "looks like text" not in missing.stderr


# --------------------------------------------------------------------------- 8. outputs


@pytest.mark.parametrize("command", ["tag", "hits"])
def test_a_json_lines_file_is_read_as_records_without_being_told(tmp_path: Path,
                                                                  command: str) -> None:
    # A .jsonl file read as text would be one document whose text is JSON: ids, keys and
    # escapes in the claims, offsets into the file instead of into each record.
    records = tmp_path / "news.jsonl"
    records.write_text(json.dumps({"id": "n1", "text": TEXT}, ensure_ascii=False) + "\n"
                       + json.dumps({"id": "n2", "text": "今天天气很好。"}, ensure_ascii=False)
                       + "\n", encoding="utf-8")
    if command == "tag":
        done = run_cli("tag", str(records))
        assert done.returncode == 0, done.stderr
        rows = [json.loads(line) for line in done.stdout.splitlines()]
        assert [row["id"] for row in rows] == ["n1", "n2"]
        assert rows[0]["claims"][0]["text"] == "光明电子计划明年在越南新建两座工厂"
        assert rows[0]["claims"][0]["start"] == 0
    else:
        done = run_cli("hits", str(records), "--type", "strategic_intent", "-n", "5",
                       "--format", "jsonl")
        assert done.returncode == 0, done.stderr
        (hit,) = [json.loads(line) for line in done.stdout.splitlines()]
        assert (hit["doc"], hit["start"]) == ("n1", 0) and "\"text\"" not in hit["right"]
    assert "2 documents" in done.stderr


def test_files_of_different_formats_need_input_format(tmp_path: Path) -> None:
    records = tmp_path / "news.jsonl"
    records.write_text(json.dumps({"id": "n1", "text": TEXT}, ensure_ascii=False) + "\n",
                       encoding="utf-8")
    page = tmp_path / "page.txt"
    page.write_text(TEXT, encoding="utf-8")
    done = run_cli("tag", str(records), str(page))
    assert_one_line_usage_error(done, "news.jsonl reads as jsonl", "page.txt as text",
                                "--input-format")
    told = run_cli("tag", str(records), str(page), "--input-format", "text")
    assert told.returncode == 0, told.stderr
    assert "2 documents" in told.stderr


def test_csv_has_a_row_for_every_document_even_without_claims(tmp_path: Path) -> None:
    import csv
    import io

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text(TEXT, encoding="utf-8")
    (folder / "b.txt").write_text("本季度销售平稳。", encoding="utf-8")  # no claim
    (folder / "c.txt").write_bytes(b"\x00\x01\x02binary\xff\xfe" * 50)
    done = run_cli("tag", str(folder), "--format", "csv")
    assert done.returncode == 1
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    ids = [Path(r["id"]).name for r in rows]
    assert ids[0] == "a.txt" and ids.count("b.txt") == 1 and ids[-1] == "c.txt"
    (quiet,) = [r for r in rows if r["id"].endswith("b.txt")]
    assert all(value == "" for key, value in quiet.items() if key != "id")
    assert sum(1 for r in rows if r["id"].endswith("a.txt") and r["type"]) >= 2


def test_bom_makes_csv_that_excel_reads_as_utf8(tmp_path: Path) -> None:
    doc = tmp_path / "a.txt"
    doc.write_text(TEXT, encoding="utf-8")
    out = tmp_path / "claims.csv"
    done = run_cli("tag", str(doc), "-o", str(out), "--bom")
    assert done.returncode == 0, done.stderr
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfid,type,start")
    assert data.decode("utf-8-sig").count("光明电子") >= 1
    piped = subprocess.run([sys.executable, "-m", "claimx", "tag", str(doc), "--format", "csv",
                            "--bom"], capture_output=True, timeout=300)
    assert piped.stdout.startswith(b"\xef\xbb\xbfid,")
    plain = run_cli("tag", str(doc), "--format", "csv")
    assert not plain.stdout.startswith("\ufeff")


def test_bom_is_refused_for_formats_it_would_break(tmp_path: Path) -> None:
    doc = tmp_path / "a.txt"
    doc.write_text(TEXT, encoding="utf-8")
    done = run_cli("tag", str(doc), "--bom")
    assert_one_line_usage_error(done, "--bom is for csv and text output, not jsonl")
