"""Apache Spark integration: vectorised (Arrow) UDFs that tag a column of text.

Install with ``pip install "claimx[spark]"``. Typical use::

    from claimx.spark import claims_udf
    df = spark.read.parquet("articles/")
    out = df.withColumn("claims", claims_udf(packs=["zh-business"])("text"))
    out.write.parquet("tagged/")

To keep the error of each row as well, use :func:`with_claims`, which adds a ``claims``
column and a ``claims_error`` column (null when the row was tagged)::

    out = with_claims(df, "text", packs=["zh-business"])

Guarantees:

- **Fail early.** The packs are loaded, validated and compiled on the driver when a UDF is
  created, so a broken pack raises :class:`~claimx.errors.PackLoadError` listing every
  located problem before any data is read.
- **Compile once per worker.** The UDF carries only the pack *spec* (names/paths and
  extractor options); each Python worker process builds its :class:`~claimx.Extractor`
  on first use and keeps it in a module-level cache, so packs are compiled once per
  process, not per row or per Arrow batch (Spark reuses Python workers across tasks).
- **No lost rows.** A null text, a value that is not a string, or a text that raises while
  being tagged gives an empty claims array and a message in ``claims_error``; it never
  fails the job and is never dropped.
- **Packs on executors.** A pack is a bundled or installed name (found on every executor
  where claimx is installed) or a folder path. A folder that does not exist at that path on
  an executor is looked up under the same folder name among the files shipped with
  ``spark.sparkContext.addFile(folder, recursive=True)`` (``SparkFiles.get``), so the same
  path works on the driver and the executors. See ``docs/spark.md``.

The column values are :meth:`claimx.Claim.to_dict` dictionaries, so a row of the output
equals ``[c.to_dict() for c in claimx.extract(text)]``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from claimx.packs import available_packs
from claimx.pipeline import DEFAULT_PACKS, Extractor

if TYPE_CHECKING:  # pyspark and pandas are optional: imported only when a UDF is built
    import pandas as pd
    from pyspark.sql import Column, DataFrame

    # What the factories return: call it on a column (name) to get the result column.
    UserDefinedFunction = Callable[..., Column]

__all__ = [
    "CLAIM_DDL",
    "CLAIMS_DDL",
    "CLAIMS_WITH_ERROR_DDL",
    "SENTIMENT_DDL",
    "claims_udf",
    "claims_with_errors_udf",
    "sentiment_udf",
    "with_claims",
]

#: One claim, as a Spark struct; the fields and their order are those of ``Claim.to_dict()``.
CLAIM_DDL = ("struct<type:string,start:int,end:int,text:string,polarity:string,"
             "modality:string,subject:string,confidence:double,rules:array<string>>")
#: The return type of :func:`claims_udf`.
CLAIMS_DDL = f"array<{CLAIM_DDL}>"
#: The return type of :func:`claims_with_errors_udf`: the claims and the row's error (or null).
CLAIMS_WITH_ERROR_DDL = f"struct<claims:{CLAIMS_DDL},error:string>"
#: The return type of :func:`sentiment_udf`; both fields are null for a row that failed.
SENTIMENT_DDL = "struct<label:string,score:double>"

# What a UDF ships to the executors: pack specs and extractor options, all hashable, so the
# same spec finds the same compiled Extractor in a worker's cache.
_Spec = tuple[tuple[str, ...], tuple[tuple[str, Any], ...]]

_extractors: dict[_Spec, Extractor] = {}
_builds: dict[_Spec, int] = {}  # how often each spec was compiled in this process (tests)
_extractors_lock = threading.Lock()


def _spec(packs: Sequence[str | os.PathLike[str]] | str | os.PathLike[str],
          extractor_kwargs: dict[str, Any]) -> _Spec:
    if isinstance(packs, (str, os.PathLike)):
        packs = [packs]
    options = tuple(sorted((k, os.fspath(v) if isinstance(v, os.PathLike) else v)
                           for k, v in extractor_kwargs.items()))
    for key, value in options:
        try:
            hash(value)
        except TypeError:
            raise TypeError(f"extractor option {key}={value!r} must be a plain value "
                            f"(str, number, bool or None)") from None
    return tuple(os.fspath(p) for p in packs), options


# Names under which a pack folder ``NAME`` may have been shipped: the folder itself
# (``addFile(folder, recursive=True)``) or an archive (``addArchive("NAME.zip")``) that Spark
# unpacks into a folder of the archive's name.
_SHIPPED_SUFFIXES = ("", ".zip", ".tar.gz", ".tgz", ".tar")


def _shipped_copy(spec: str) -> str | None:
    """The copy of pack folder ``spec`` shipped to this process through ``SparkFiles``
    (looked up by the folder's name), if any."""
    try:
        from pyspark import SparkFiles

        root = Path(SparkFiles.getRootDirectory())
    except Exception:  # no Spark context or SparkFiles root here: nothing was shipped
        return None
    name = Path(spec).name
    for suffix in _SHIPPED_SUFFIXES:
        shipped = root / f"{name}{suffix}"
        # An archive may hold the pack at its top or in a folder of the pack's name.
        for candidate in (shipped, shipped / name):
            if (candidate / "pack.yaml").is_file():
                return str(candidate)
    return None


def _resolve_pack(spec: str) -> str:
    """Where pack ``spec`` lives in this process: the path itself when it is a folder here,
    the name when it is a bundled or installed pack, else the ``addFile`` copy."""
    if Path(spec).is_dir() or spec in available_packs():
        return spec
    return _shipped_copy(spec) or spec  # unresolved: the loader reports CX103 with the spec


def _extractor_for(spec: _Spec) -> Extractor:
    """The process-wide Extractor for ``spec``, built (packs loaded and compiled) once."""
    hit = _extractors.get(spec)
    if hit is not None:
        return hit
    with _extractors_lock:
        hit = _extractors.get(spec)
        if hit is None:
            packs, options = spec
            hit = Extractor(packs=[_resolve_pack(p) for p in packs], **dict(options))
            _extractors[spec] = hit
            _builds[spec] = _builds.get(spec, 0) + 1
    return hit


def _row_error(text: object, exc: BaseException | None = None) -> str:
    if exc is not None:
        return f"{type(exc).__name__}: {exc}"
    if text is None:
        return "text is null"
    return f"text is a {type(text).__name__}, not a string"


def _tag_one(extractor: Extractor, text: object) -> tuple[list[dict[str, Any]], str | None]:
    """Claims of one row as dicts, and the row's error (None when it was tagged)."""
    if not isinstance(text, str):
        return [], _row_error(text)
    try:
        return [c.to_dict() for c in extractor.extract(text)], None
    except Exception as exc:  # one bad row must never fail the task and lose the others
        return [], _row_error(text, exc)


def _is_missing(value: object) -> bool:
    # pandas hands nulls of a string column over as None or NaN, depending on version.
    return value is None or (isinstance(value, float) and value != value)


def _hinted(fn: Any, returns: str) -> Any:
    """Give ``fn`` real pandas type hints: pandas_udf infers the UDF kind (Series to Series,
    or Series to DataFrame for a struct) from them, and the string hints this module's
    ``from __future__ import annotations`` writes cannot be resolved (pandas is optional)."""
    import pandas as pd

    fn.__annotations__ = {"texts": pd.Series,
                          "return": pd.Series if returns == "series" else pd.DataFrame}
    return fn


def _prepare(packs: Sequence[str | os.PathLike[str]] | str | os.PathLike[str],
             extractor_kwargs: dict[str, Any]) -> _Spec:
    """Validate the packs on the driver (raising PackLoadError now) and return the spec."""
    spec = _spec(packs, extractor_kwargs)
    _extractor_for(spec)
    return spec


def claims_udf(packs: Sequence[str | os.PathLike[str]] = DEFAULT_PACKS,
               **extractor_kwargs: Any) -> UserDefinedFunction:
    """A vectorised UDF mapping a string column to an array of claim structs (:data:`CLAIMS_DDL`).

    ``packs`` and ``extractor_kwargs`` are those of :class:`claimx.Extractor`. The packs are
    validated here, on the driver: a broken pack raises
    :class:`~claimx.errors.PackLoadError` before any data is read. A null, non-string or
    failing row gives an empty array; use :func:`with_claims` to keep the error message.

    >>> df.withColumn("claims", claims_udf(packs=["zh-business"])("text"))   # doctest: +SKIP
    """
    from pyspark.sql.functions import pandas_udf

    spec = _prepare(packs, extractor_kwargs)

    def claims(texts: pd.Series) -> pd.Series:
        import pandas as pd

        extractor = _extractor_for(spec)
        out = [[] if _is_missing(t) else _tag_one(extractor, t)[0] for t in texts]
        return pd.Series(out, index=texts.index, dtype=object)

    return pandas_udf(_hinted(claims, "series"), CLAIMS_DDL)  # type: ignore[call-overload]


def claims_with_errors_udf(packs: Sequence[str | os.PathLike[str]] = DEFAULT_PACKS,
                           **extractor_kwargs: Any) -> UserDefinedFunction:
    """A vectorised UDF mapping a string column to ``struct<claims, error>``
    (:data:`CLAIMS_WITH_ERROR_DDL`); ``error`` is null for a row that was tagged.

    Most callers want :func:`with_claims`, which splits the struct into the ``claims`` and
    ``claims_error`` columns. Packs are validated on the driver, as in :func:`claims_udf`.
    """
    from pyspark.sql.functions import pandas_udf

    spec = _prepare(packs, extractor_kwargs)

    def claims_with_error(texts: pd.Series) -> pd.DataFrame:
        import pandas as pd

        extractor = _extractor_for(spec)
        claims: list[list[dict[str, Any]]] = []
        errors: list[str | None] = []
        for text in texts:
            found, error = _tag_one(extractor, None if _is_missing(text) else text)
            claims.append(found)
            errors.append(error)
        index = texts.index  # the columns must share the batch's index, or rows misalign
        return pd.DataFrame({"claims": pd.Series(claims, index=index, dtype=object),
                             "error": pd.Series(errors, index=index, dtype=object)})

    return pandas_udf(_hinted(claims_with_error, "frame"),  # type: ignore[call-overload]
                      CLAIMS_WITH_ERROR_DDL)


def sentiment_udf(packs: Sequence[str | os.PathLike[str]] = DEFAULT_PACKS,
                  **extractor_kwargs: Any) -> UserDefinedFunction:
    """A vectorised UDF mapping a string column to ``struct<label, score>``
    (:data:`SENTIMENT_DDL`), as :meth:`claimx.Extractor.sentiment` gives them.

    A null, non-string or failing row gives null ``label`` and ``score`` rather than a
    failed job. Packs are validated on the driver, as in :func:`claims_udf`.
    """
    from pyspark.sql.functions import pandas_udf

    spec = _prepare(packs, extractor_kwargs)

    def sentiment(texts: pd.Series) -> pd.DataFrame:
        import pandas as pd

        extractor = _extractor_for(spec)
        labels: list[str | None] = []
        scores: list[float | None] = []
        for text in texts:
            label: str | None = None
            score: float | None = None
            if isinstance(text, str):
                try:
                    mood = extractor.sentiment(text)
                    label, score = mood.label.value, float(mood.score)
                except Exception:  # a bad row gives nulls, never a failed task
                    pass
            labels.append(label)
            scores.append(score)
        index = texts.index
        return pd.DataFrame({"label": pd.Series(labels, index=index, dtype=object),
                             "score": pd.Series(scores, index=index, dtype="float64")})

    return pandas_udf(_hinted(sentiment, "frame"), SENTIMENT_DDL)  # type: ignore[call-overload]


def with_claims(df: DataFrame, text_column: str | Column = "text", *,
                packs: Sequence[str | os.PathLike[str]] = DEFAULT_PACKS,
                claims_column: str = "claims", error_column: str = "claims_error",
                **extractor_kwargs: Any) -> DataFrame:
    """``df`` with two more columns: ``claims`` (:data:`CLAIMS_DDL`) and ``claims_error``
    (null, or why that row has no claims). Every input row is kept.

    >>> out = with_claims(spark.read.parquet("articles/"), "text")      # doctest: +SKIP
    >>> out.where("claims_error is not null").count()                   # doctest: +SKIP
    0
    """
    udf = claims_with_errors_udf(packs=packs, **extractor_kwargs)
    # A temporary struct column, split into two; the UDF runs once per row, not twice.
    tmp = f"__claimx_{claims_column}_{error_column}"
    return (df.withColumn(tmp, udf(text_column))
              .withColumn(claims_column, _field(tmp, "claims"))
              .withColumn(error_column, _field(tmp, "error"))
              .drop(tmp))


def _field(column: str, name: str) -> Column:
    from pyspark.sql.functions import col

    return col(column).getField(name)
