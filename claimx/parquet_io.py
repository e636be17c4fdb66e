"""Parquet input and output for ``claimx tag`` (``--input-format parquet``, ``--format parquet``).

The output has the same columns and types as the Spark integration (``claimx.spark``):
``claims`` is ``array<struct<type, start, end, text, polarity, modality, subject,
confidence, rules>>`` and ``claims_error`` is null for a tagged row, so the same files move
between a laptop and a cluster. Needs ``pyarrow`` (``pip install "claimx[spark]"``).

Reading streams record batches, so a large file is never loaded whole; a folder written by
Spark (``part-*.parquet`` files) is read through ``claimx tag``'s folder walk.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import IO, Any

from claimx.errors import ClaimxError
from claimx.io import Document, ReadOptions
from claimx.writers import Result, Writer, replace_surrogates

__all__ = [
    "CLAIM_FIELDS",
    "ParquetUnavailableError",
    "ParquetWriter",
    "arrow_schema",
    "read_parquet",
    "require_pyarrow",
]

#: The claim fields written to Parquet, in order (``Claim.to_dict()`` without evidence).
CLAIM_FIELDS: tuple[str, ...] = ("type", "start", "end", "text", "polarity", "modality",
                                 "subject", "confidence", "rules")

# Rows read per Arrow batch, and rows buffered before a row group is written: large enough
# for Parquet's columnar compression, small enough to keep memory bounded.
_READ_BATCH = 1024
_ROW_GROUP = 4096


class ParquetUnavailableError(ClaimxError, RuntimeError):
    """pyarrow is not installed, so Parquet can be neither read nor written."""


def require_pyarrow() -> Any:
    """The ``pyarrow`` module (with ``pyarrow.parquet`` loaded), or
    :class:`ParquetUnavailableError` saying how to install it."""
    try:
        import pyarrow
        import pyarrow.parquet  # noqa: F401  (registers pyarrow.parquet)
    except ImportError:  # a clear message instead of a traceback deep in the CLI
        raise ParquetUnavailableError(
            'Parquet needs pyarrow, which is not installed: pip install "claimx[spark]" '
            '(or pip install pyarrow)') from None
    return pyarrow


_pyarrow = require_pyarrow


def arrow_schema() -> Any:
    """The Arrow schema of ``claimx tag --format parquet`` output: ``id``, ``text``,
    ``claims``, ``claims_error`` and ``sentiment`` (null for a failed row)."""
    pa = _pyarrow()
    claim = pa.struct([
        ("type", pa.string()), ("start", pa.int32()), ("end", pa.int32()),
        ("text", pa.string()), ("polarity", pa.string()), ("modality", pa.string()),
        ("subject", pa.string()), ("confidence", pa.float64()),
        ("rules", pa.list_(pa.string())),
    ])
    return pa.schema([
        ("id", pa.string()),
        ("text", pa.string()),
        ("claims", pa.list_(claim)),
        ("claims_error", pa.string()),
        ("sentiment", pa.struct([("label", pa.string()), ("score", pa.float64())])),
    ])


def _json_safe(value: Any) -> bool:
    # Input columns carried into Document.fields must survive json.dumps (JSON Lines output).
    if value is None or isinstance(value, (str, bool, int, float)):
        return True
    if isinstance(value, list):
        return all(_json_safe(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_safe(v) for k, v in value.items())
    return False


def read_parquet(path: str, options: ReadOptions) -> Iterator[Document]:
    """A Parquet input: one document per row, streamed batch by batch.

    ``options.text_field`` names the text column and ``options.id_field`` the id column
    (a row without one is ``path:row``, 1-based). The row's other JSON-representable
    columns are kept in ``fields``. A file that is not Parquet or lacks the text column
    gives one failed document; a null text gives a failed document for that row.
    """
    pa = _pyarrow()
    try:
        parquet = pa.parquet.ParquetFile(path)
    except (OSError, pa.ArrowException) as exc:
        yield Document(id=path, source=path, error=f"not a readable Parquet file: {exc}")
        return
    schema = parquet.schema_arrow
    if options.text_field not in schema.names:
        yield Document(id=path, source=path, error=(
            f"no column '{options.text_field}' (columns: {', '.join(schema.names)}); "
            f"pick the text column with --text-field NAME"))
        return
    text_type = schema.field(options.text_field).type
    if not (pa.types.is_string(text_type) or pa.types.is_large_string(text_type)
            or pa.types.is_dictionary(text_type)):
        yield Document(id=path, source=path, error=(
            f"column '{options.text_field}' holds {text_type}, not strings; "
            f"pick the text column with --text-field NAME"))
        return
    rows = max(parquet.metadata.num_rows, 1)
    per_row = max(os.path.getsize(path) // rows, 1)  # bytes per row, for the progress bar
    number = 0
    try:
        for batch in parquet.iter_batches(batch_size=_READ_BATCH):
            for record in batch.to_pylist():
                number += 1
                yield _document(record, path, number, options, per_row)
    except (OSError, pa.ArrowException) as exc:  # a corrupt row group further down
        yield Document(id=f"{path}:{number + 1}", source=path,
                       error=f"Parquet file unreadable after row {number}: {exc}")


def _document(record: dict[str, Any], path: str, number: int, options: ReadOptions,
              size: int) -> Document:
    where = f"{path}:{number}"
    raw_id = record.get(options.id_field)
    doc_id = where if raw_id is None else str(raw_id)
    fields = {k: v for k, v in record.items() if _json_safe(v)}
    text = record.get(options.text_field)
    if not isinstance(text, str):
        return Document(id=doc_id, fields=fields, source=where, size=size,
                        error=f"row {number}: column '{options.text_field}' is null")
    return Document(id=doc_id, text=text, fields=fields, source=where, encoding="parquet",
                    size=size)


class ParquetWriter(Writer):
    """Writes results as Parquet rows (:func:`arrow_schema`), a row group at a time.

    Parquet is binary: the writer writes to the binary buffer under the text stream
    ``claimx tag`` hands every writer (``-o FILE`` or stdout). Evidence is not written.
    """

    def __init__(self, stream: IO[str]) -> None:
        super().__init__(stream)
        pa = _pyarrow()
        self._schema = arrow_schema()
        binary = getattr(stream, "buffer", stream)
        stream.flush()  # nothing may sit in the text layer ahead of the binary data
        self._writer = pa.parquet.ParquetWriter(binary, self._schema, compression="zstd")
        self._rows: list[dict[str, Any]] = []

    def write(self, result: Result) -> None:
        """Buffer one document's row; a full buffer is written as a row group. Lone
        surrogates (which Parquet's UTF-8 strings cannot hold) become U+FFFD."""
        self._rows.append({
            "id": replace_surrogates(result.doc.id),
            "text": None if result.doc.error else replace_surrogates(result.doc.text),
            "claims": [{k: _safe(c[k]) for k in CLAIM_FIELDS} for c in result.claims],
            "claims_error": replace_surrogates(result.error) or None,
            "sentiment": None if result.failed or result.sentiment is None else {
                "label": result.sentiment["label"], "score": float(result.sentiment["score"])},
        })
        if len(self._rows) >= _ROW_GROUP:
            self._flush()

    def _flush(self) -> None:
        if self._rows:
            pa = _pyarrow()
            self._writer.write_table(pa.Table.from_pylist(self._rows, schema=self._schema))
            self._rows = []

    def close(self) -> None:
        """Write the last row group and the Parquet footer."""
        self._flush()
        self._writer.close()


def _safe(value: Any) -> Any:
    return replace_surrogates(value) if isinstance(value, str) else value
