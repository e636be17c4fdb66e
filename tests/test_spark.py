"""The Spark UDFs on a real local Spark session (``local[2]``, Java from the machine).

Every check compares the UDF output with the in-process API row for row: a Spark row's
claims must equal ``[c.to_dict() for c in extractor.extract(text)]``.
"""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pyspark")
pytest.importorskip("pyarrow")
pytest.importorskip("pandas")

#: PySpark 4 runs on Java 17 or later.
MIN_JAVA = 17


def java_runtime() -> tuple[str | None, str]:
    """The ``java`` PySpark will start ($JAVA_HOME/bin/java, else the first on PATH) if
    it is at least :data:`MIN_JAVA`; else None and why not, to skip with."""
    import re
    import subprocess

    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not java or not os.access(java, os.X_OK):
        return None, (f"needs a Java {MIN_JAVA}+ runtime for PySpark (none on PATH or in "
                      f"JAVA_HOME); .ci/run installs default-jre-headless")
    try:
        banner = subprocess.run([java, "-version"], capture_output=True, text=True,
                                timeout=60).stderr
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"{java} -version failed ({exc}); PySpark needs a Java {MIN_JAVA}+ runtime"
    found = re.search(r'version "(\d+)(?:\.(\d+))?', banner)
    major = int(found.group(1)) if found else 0
    if major == 1 and found and found.group(2):  # "1.8.0" is Java 8
        major = int(found.group(2))
    if major < MIN_JAVA:
        return None, (f"{java} is Java {major or '?'}; PySpark needs Java {MIN_JAVA}+ "
                      f"(.ci/run installs default-jre-headless)")
    return java, ""


_JAVA, _NO_JAVA = java_runtime()
if _JAVA is None:
    pytest.skip(_NO_JAVA, allow_module_level=True)

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from pyspark.sql import Row, SparkSession  # noqa: E402
from pyspark.sql.types import _parse_datatype_string  # noqa: E402

import claimx  # noqa: E402
from claimx import spark as cxspark  # noqa: E402
from claimx.spark import (  # noqa: E402
    CLAIMS_DDL,
    SENTIMENT_DDL,
    claims_udf,
    claims_with_errors_udf,
    sentiment_udf,
    with_claims,
)

pytestmark = [
    pytest.mark.slow,  # a JVM starts once for the module (~10-20 s)
    # PySpark 4 warns that pandas 3 is not fully supported; these tests are what checks it.
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
]

# Sentences written for these tests: an intent with a hedged risk, an advantage, a negated
# risk, a question, traditional script with full-width marks, and plain filler.
SENTENCES = [
    "星河科技计划明年在东南亚新建两座数据中心，但汇率波动可能导致汇兑损失。",
    "这家物流企业拥有覆盖全国的仓储网络，市场份额持续领先。",
    "管理层表示公司并未出现流动性风险。",
    "新品牌能否在三年内收回渠道投入？",
    "該集團計劃擴大產能，但原材料價格上漲帶來成本壓力。",
    "今天天气不错，大家去公园散步。",
]
# A hostile row: 100k code points of emoji, control characters, bidi marks and NULs.
HOSTILE = ("😀\x00\x07\u202e\u200b🀄\x1b\ufeff" * 12_500)[:100_000]


def _write_pack(root: Path, rules: str, name: str = "demo-pack") -> Path:
    root.mkdir(parents=True)
    (root / "pack.yaml").write_text(textwrap.dedent(f"""\
        name: {name}
        version: "0.1"
        language: zh
        requires_claimx: ">=0.1"
        description: a pack written by the Spark tests
        claim_types:
          esg_commitment:
            polarity: positive
            description: a public environmental commitment
        """), encoding="utf-8")
    (root / "rules.yaml").write_text(textwrap.dedent(rules), encoding="utf-8")
    return root


ESG_RULES = """\
    rules:
      - id: esg.goal
        kind: lexicon
        type: esg_commitment
        cues: [碳中和, 减排目标]
        prior: 0.7
    """

# (?:哈|哈哈)+亏 backtracks exponentially on a long run of 哈 not followed by 亏: a row that
# raises. The row holds a 亏 before the run: a sentence with no 亏 at all is never tried
# (no match could hold one, see claimx._required_words).
SLOW_RULES = """\
    rules:
      - id: esg.goal
        kind: lexicon
        type: esg_commitment
        cues: [碳中和]
        prior: 0.7
      - id: esg.backtracks
        kind: pattern
        type: esg_commitment
        pattern: (?:哈|哈哈)+亏
        anchors: [哈]
        prior: 0.6
    """


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    # Workers run this interpreter (with claimx, pandas, pyarrow), not whatever `python3`
    # is first on PATH when the venv is not activated; PySpark reads it at context start.
    previous = os.environ.get("PYSPARK_PYTHON")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (SparkSession.builder.master("local[2]")
               .appName("claimx-tests")
               .config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", "2")
               .config("spark.default.parallelism", "2")
               .config("spark.driver.memory", "1g")
               .config("spark.sql.execution.pyspark.udf.faulthandler.enabled", "true")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
    if previous is None:
        os.environ.pop("PYSPARK_PYTHON", None)


def _frame(spark: SparkSession, texts: list[str | None]) -> Any:
    return spark.createDataFrame([(i, t) for i, t in enumerate(texts)], "id int, text string")


def _claims(row_claims: list[Row]) -> list[dict[str, Any]]:
    return [c.asDict(recursive=True) for c in row_claims]


def test_udfs_equal_extract_row_for_row(spark: SparkSession) -> None:
    texts: list[str | None] = [*SENTENCES, None, "", HOSTILE, " ".join(SENTENCES) * 20]
    df = _frame(spark, texts).repartition(2)  # rows cross partitions and Arrow batches
    out = (with_claims(df, "text")
           .withColumn("plain", claims_udf()("text"))
           .withColumn("mood", sentiment_udf()("text"))
           .orderBy("id").collect())

    assert [r.id for r in out] == list(range(len(texts)))  # no row dropped or duplicated
    found_any = False
    for row in out:
        text = texts[row.id]
        if text is None:
            assert row.claims == [] and row.plain == []
            assert row.claims_error == "text is null"
            assert row.mood.label is None and row.mood.score is None
            continue
        expected = [c.to_dict() for c in claimx.extract(text)]
        found_any = found_any or bool(expected)
        assert _claims(row.claims) == expected, (row.id, row.claims_error)
        assert _claims(row.plain) == expected, row.id
        assert row.claims_error is None
        for claim in expected:  # offsets index the caller's text, through Spark too
            assert text[claim["start"]:claim["end"]] == claim["text"]
        mood = claimx.sentiment(text)
        assert (row.mood.label, row.mood.score) == (mood.label.value, mood.score)
    assert found_any, "the sentences were written to hold claims"


def test_declared_schema(spark: SparkSession) -> None:
    df = with_claims(_frame(spark, ["公司计划扩产。"]), "text").withColumn(
        "mood", sentiment_udf()("text"))
    schema = {f.name: f.dataType for f in df.schema.fields}
    assert schema["claims"] == _parse_datatype_string(CLAIMS_DDL)
    assert schema["claims_error"].simpleString() == "string"
    assert schema["mood"] == _parse_datatype_string(SENTIMENT_DDL)
    assert [f.name for f in df.schema.fields] == ["id", "text", "claims", "claims_error", "mood"]


def test_row_that_raises_gives_empty_claims_and_error(spark: SparkSession, tmp_path: Path) -> None:
    pack = _write_pack(tmp_path / "slow-pack", SLOW_RULES)
    options = {"regex_timeout": 0.05, "on_rule_timeout": "raise"}
    texts: list[str | None] = ["公司承诺2030年前实现碳中和。", "亏" + "哈" * 60 + "。", None,
                               "碳中和。"]
    out = with_claims(_frame(spark, texts), "text", packs=[str(pack)], **options)
    rows = out.orderBy("id").collect()
    assert len(rows) == len(texts)
    extractor = claimx.Extractor(packs=[pack], **options)
    for row in rows:
        text = texts[row.id]
        if row.id == 1:  # the backtracking row: no claims, the reason kept
            assert row.claims == []
            assert row.claims_error.startswith("RuleTimeoutError: ")
            assert "esg.backtracks" in row.claims_error
        elif text is None:
            assert row.claims == [] and row.claims_error == "text is null"
        else:
            assert row.claims_error is None
            assert _claims(row.claims) == [c.to_dict() for c in extractor.extract(text)]
            assert row.claims  # 碳中和 is a cue of the pack
    # The same row through the plain UDF: an empty array, not a failed task.
    plain = _frame(spark, texts).select(
        "id", claims_udf(packs=[str(pack)], **options)("text").alias("c")).orderBy("id").collect()
    assert plain[1].c == [] and len(plain[0].c) == 1


def test_broken_pack_fails_on_the_driver_with_located_problems(tmp_path: Path) -> None:
    pack = _write_pack(tmp_path / "broken", """\
        rules:
          - id: esg.goal
            kind: lexicon
            type: esg_commitment
            cuez: [碳中和]
            prior: 0.7
          - id: esg.bad-regex
            kind: pattern
            type: esg_commitment
            pattern: (?:碳中和
            prior: 0.6
        """)
    # No Spark session or DataFrame is needed to fail: validation runs at UDF creation.
    for make in (claims_udf, claims_with_errors_udf, sentiment_udf):
        with pytest.raises(claimx.PackLoadError) as info:
            make(packs=[str(pack)])
        codes = {p.code for p in info.value.problems}
        assert {"CX110", "CX123"} <= codes, codes
        for problem in info.value.problems:
            assert problem.path.endswith("rules.yaml") and problem.line > 0
        assert "rules.yaml:" in str(info.value)
    with pytest.raises(claimx.PackLoadError) as missing:
        claims_udf(packs=[str(tmp_path / "no-such-pack")])
    assert missing.value.problems[0].code == "CX103"


def test_bad_extractor_option_fails_on_the_driver() -> None:
    with pytest.raises(ValueError, match="on_rule_timeout"):
        claims_udf(on_rule_timeout="sometimes")


def test_packs_compiled_once_per_worker_process(spark: SparkSession) -> None:
    import pandas as pd
    from pyspark.sql.functions import pandas_udf

    udf = claims_udf(packs=["zh-business"])
    spec = cxspark._spec(["zh-business"], {})

    def builds(texts: pd.Series) -> pd.DataFrame:
        from claimx import spark as worker_side

        return pd.DataFrame({"pid": [os.getpid()] * len(texts),
                             "n": [worker_side._builds.get(spec, 0)] * len(texts)},
                            index=texts.index)

    builds.__annotations__ = {"texts": pd.Series, "return": pd.DataFrame}
    probe = pandas_udf(builds, "struct<pid:long,n:int>")
    previous = spark.conf.get("spark.sql.execution.arrow.maxRecordsPerBatch")
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", "2")  # many batches
    try:
        texts = [SENTENCES[i % len(SENTENCES)] for i in range(40)]
        rows = (_frame(spark, texts).repartition(2)
                .withColumn("c", udf("text")).withColumn("p", probe("text")).collect())
    finally:
        spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", previous)
    assert all(len(r.c) == len(claimx.extract(texts[r.id])) for r in rows)
    counts = {r.p.n for r in rows}
    # Built on first use in each worker and reused by every later batch: 20 batches of 2
    # rows would show counts up to 20 if packs were compiled per batch.
    assert counts <= {0, 1} and 1 in counts, counts


@pytest.mark.parametrize("how", ["addFile", "addArchive"])
def test_pack_folder_shipped_to_workers(spark: SparkSession, tmp_path: Path, how: str) -> None:
    name = f"esg-{how.lower()}"
    original = _write_pack(tmp_path / "build" / name, ESG_RULES, name=name)
    if how == "addFile":
        spark.sparkContext.addFile(str(original), recursive=True)
    else:
        archive = shutil.make_archive(str(tmp_path / name), "zip", root_dir=original)
        spark.sparkContext.addArchive(archive)
    # The path the caller names exists neither on the driver nor in the workers (as on a
    # cluster where the pack sits on the caller's laptop): only the shipped copy, found by
    # the folder's name, can serve it, both for validation and for tagging.
    elsewhere = str(tmp_path / "on-my-laptop" / name)
    udf = claims_udf(packs=["zh-business", elsewhere])
    texts = ["公司承诺2030年前实现碳中和，但转型成本可能拖累利润。", "星河科技计划扩产。"]
    rows = _frame(spark, texts).withColumn("c", udf("text")).orderBy("id").collect()
    extractor = claimx.Extractor(packs=["zh-business", original])
    for row in rows:
        assert _claims(row.c) == [c.to_dict() for c in extractor.extract(texts[row.id])]
    assert any(c.type == "esg_commitment" for c in rows[0].c)


def test_batch_function_keeps_index_and_reports_non_strings(spark: SparkSession) -> None:
    """The function inside the UDF, on a pandas batch as Spark hands it over: rows stay
    aligned with the batch's index, and a value that is not a string is an error row."""
    import pandas as pd

    batch = pd.Series(["公司计划扩产，但面临汇率风险。", None, 42, float("nan")],
                      index=[7, 8, 9, 10], dtype=object)
    out = claims_with_errors_udf().func(batch)
    assert list(out.index) == [7, 8, 9, 10]
    assert out["claims"][7] == [c.to_dict() for c in claimx.extract(batch[7])]
    assert out["error"][7] is None
    assert list(out["error"].loc[8:]) == ["text is null", "text is a int, not a string",
                                      "text is null"]
    assert all(claims == [] for claims in out["claims"].loc[8:])
    plain = claims_udf().func(batch)
    assert list(plain.index) == [7, 8, 9, 10] and list(plain.loc[8:]) == [[], [], []]
    mood = sentiment_udf().func(batch)
    assert mood["label"][7] == claimx.sentiment(batch[7]).label.value
    assert mood["label"][9] is None and mood["score"].isna().loc[8:].all()


# A small alphabet of cue-bearing fragments so random texts actually produce claims.
_PIECES = ["公司", "计划", "扩产", "风险", "可能", "不", "领先", "亏损", "，", "。", "？",
           "碳中和", "市场份额", "但", "該集團", "ＡＢＣ", "😀", "\x00", " ", "下滑"]


@settings(max_examples=15, deadline=None)  # each example is a Spark job (~0.3 s)
@given(st.lists(st.one_of(st.none(), st.lists(st.sampled_from(_PIECES), max_size=30)
                          .map("".join)), min_size=1, max_size=12))
def test_property_spark_equals_extract(spark: SparkSession, texts: list[str | None]) -> None:
    rows = with_claims(_frame(spark, texts), "text").orderBy("id").collect()
    assert len(rows) == len(texts)
    for row in rows:
        text = texts[row.id]
        if text is None:
            assert row.claims == [] and row.claims_error == "text is null"
        else:
            assert row.claims_error is None
            assert _claims(row.claims) == [c.to_dict() for c in claimx.extract(text)]


# --------------------------------------------------------------------------- Parquet CLI


def _write_input(path: Path, rows: list[dict[str, Any]]) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(rows, schema=pa.schema(
        [("id", pa.string()), ("text", pa.string()), ("views", pa.int64())])), path)
    return path


def test_cli_parquet_round_trip(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from claimx.cli import main
    from claimx.parquet_io import arrow_schema

    texts: list[str | None] = [*SENTENCES, None, "", HOSTILE]
    source = _write_input(tmp_path / "in.parquet", [
        {"id": f"a{i}", "text": t, "views": i * 10} for i, t in enumerate(texts)])
    out = tmp_path / "out.parquet"
    # The null row is a failed document: reported, kept, and the exit code says so.
    assert main(["tag", str(source), "--input-format", "parquet", "-o", str(out), "-q"]) == 1
    table = pq.read_table(out)
    assert table.schema == arrow_schema()
    rows = table.to_pylist()
    assert [r["id"] for r in rows] == [f"a{i}" for i in range(len(texts))]
    for row, text in zip(rows, texts, strict=True):
        if text is None:
            assert row["claims"] == [] and row["sentiment"] is None
            assert "column 'text' is null" in row["claims_error"]
            continue
        assert row["claims_error"] is None and row["text"] == text
        assert row["claims"] == [c.to_dict() for c in claimx.extract(text)]
        mood = claimx.sentiment(text)
        assert row["sentiment"] == {"label": mood.label.value, "score": round(mood.score, 4)}
    # Parquet in, JSON Lines out: the input's other columns are carried through.
    jsonl = tmp_path / "out.jsonl"
    assert main(["tag", str(source), "--input-format", "parquet", "-o", str(jsonl), "-q"]) == 1
    import json

    first = json.loads(jsonl.read_text(encoding="utf-8").splitlines()[0])
    assert first["views"] == 0 and first["claims"] == rows[0]["claims"]


def test_cli_parquet_bad_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import pyarrow.parquet as pq

    from claimx.cli import main

    not_parquet = tmp_path / "notes.parquet"
    not_parquet.write_text("公司计划扩产。", encoding="utf-8")
    other = _write_input(tmp_path / "other.parquet",
                         [{"id": "x", "text": "公司计划扩产。", "views": 1}])
    out = tmp_path / "out.parquet"
    code = main(["tag", str(not_parquet), str(other), "--input-format", "parquet",
                 "--text-field", "body", "-o", str(out)])
    assert code == 1
    err = capsys.readouterr().err
    assert "not a readable Parquet file" in err
    assert "no column 'body'" in err and "--text-field" in err
    assert [r["claims_error"] is not None for r in pq.read_table(out).to_pylist()] == [True, True]


def test_spark_and_cli_read_each_others_parquet(spark: SparkSession, tmp_path: Path) -> None:
    """Laptop to cluster and back: Spark tags a DataFrame and writes Parquet, the CLI reads
    that folder; the CLI writes Parquet, Spark reads it with the UDF's claims type."""
    import pyarrow.parquet as pq

    from claimx.cli import main

    texts = SENTENCES[:4]
    spark_out = tmp_path / "tagged"
    with_claims(_frame(spark, texts).withColumn("id", _as_str("id")), "text") \
        .coalesce(2).write.parquet(str(spark_out))
    cli_out = tmp_path / "cli.parquet"
    assert main(["tag", str(spark_out), "--input-format", "parquet", "-o", str(cli_out),
                 "-q"]) == 0
    by_id = {r["id"]: r for r in pq.read_table(cli_out).to_pylist()}
    spark_rows = {r.id: r for r in spark.read.parquet(str(spark_out)).collect()}
    assert set(by_id) == set(spark_rows) == {str(i) for i in range(len(texts))}
    for key, row in spark_rows.items():
        assert _claims(row.claims) == by_id[key]["claims"]

    back = spark.read.parquet(str(cli_out))
    assert back.schema["claims"].dataType == _parse_datatype_string(CLAIMS_DDL)
    assert back.count() == len(texts)


def _as_str(name: str) -> Any:
    from pyspark.sql.functions import col

    return col(name).cast("string")
