"""How the commands that read a corpus (``claimx tag``, ``claimx hits``) read it: one set of
options (``--glob``, ``--input-format``, ``--text-field``, ``--id-field``, ``--encoding``)
and one check of them, so that both commands read the same inputs the same way."""

from __future__ import annotations

import argparse
import codecs

from claimx.io import READERS, STDIN, ReadOptions, infer_input_format
from claimx.parquet_io import ParquetUnavailableError, read_parquet, require_pyarrow

__all__ = ["add_input_options", "glob_pattern", "input_problem", "read_options"]

# Parquet (pyarrow, imported only when used): the files ``claimx.spark`` jobs read and write.
READERS.setdefault("parquet", read_parquet)

#: Default file-name pattern inside folders, by input format.
_GLOB_BY_FORMAT = {"jsonl": "*.jsonl", "parquet": "*.parquet"}


def add_input_options(parser: argparse.ArgumentParser) -> None:
    """Add the options that say how inputs are read to a command's ``parser``."""
    parser.add_argument("--glob", default=None, metavar="PATTERN",
                        help="file-name pattern inside folders (default: *.txt for text "
                             "input, *.jsonl for jsonl input)")
    parser.add_argument("--input-format", choices=sorted(READERS), default=None,
                        help="text: one document per file; jsonl: one record per line "
                             "(default: by the files' ending: .jsonl and .ndjson are jsonl, "
                             ".parquet parquet, the rest, folders and stdin text)")
    parser.add_argument("--text-field", default="text", metavar="NAME",
                        help="JSON Lines field holding the text (default: text)")
    parser.add_argument("--id-field", default="id", metavar="NAME",
                        help="JSON Lines field holding the id (default: id)")
    parser.add_argument("--encoding", default="auto", metavar="auto|NAME",
                        help="input encoding: auto-detect (default) or a codec such as "
                             "gb18030")


def input_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with how ``args`` say to read the inputs, as one line, or None. Settles
    ``args.input_format`` from the files' endings when it was not given."""
    if args.paths.count(STDIN) > 1:
        return "'-' (stdin) can be given only once"
    if args.input_format is None:
        try:
            args.input_format = infer_input_format(args.paths)
        except ValueError as exc:
            return str(exc)
    if args.encoding != "auto":
        try:
            codecs.lookup(args.encoding)
        except LookupError:
            return (f"unknown encoding '{args.encoding}' "
                    f"(try auto, utf-8, gb18030, big5, utf-16)")
    if args.input_format == "parquet":
        try:
            require_pyarrow()
        except ParquetUnavailableError as exc:
            return f"--input-format parquet: {exc}"
    return None


def glob_pattern(args: argparse.Namespace) -> str:
    """The file-name pattern that picks files inside folders."""
    return str(args.glob or _GLOB_BY_FORMAT.get(args.input_format, "*.txt"))


def read_options(args: argparse.Namespace) -> ReadOptions:
    """The reader options ``args`` give."""
    return ReadOptions(encoding=args.encoding, text_field=args.text_field,
                       id_field=args.id_field)
