"""The code blocks of README.md and docs/*.md run here, so the docs cannot drift from the
code (issue 15). Blocks are found and Python run by Sybil; the fence's language decides
what "run" means:

- ``python``: executed, in order, one namespace per file (``claimx`` imported); a block
  written as a doctest (``>>>``) has its outputs compared (``...`` matches anything, so
  numbers that depend on the pack's calibration are written ``0...``).
- ``sh``: every ``claimx`` command is parsed by claimx's own argument parser (synopsis
  brackets ``[--json]`` dropped), and run when its inputs exist in the docs sandbox: it
  must exit 0 or 1 without a traceback. Other programs (pip, pytest …) are not run.
- a block whose first line starts with ``$ `` (a terminal session): the commands run in the
  sandbox and their output (stdout, then stderr) is compared, ``...`` matching anything.
- ``yaml`` and ``json``: parsed.
- ``text`` or no language: output or a folder layout, shown and not run.

A block of those languages that must not run is marked just above its fence with
``<!-- skip: next "why" -->`` (Sybil's syntax); it shows up as a skipped test with the
reason. Blocks in docs this test may not edit (their owners' files) are listed in
:data:`ILLUSTRATIVE_ELSEWHERE` instead. Commands run with the working folder set to a
sandbox holding the files the docs name (``articles/``, ``news.jsonl``, ``path/to/my-pack``
…), written here, plus the repository's ``examples/``, ``corpora/``, ``rules/`` and
``tests/``.
"""

from __future__ import annotations

import doctest
import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from unittest import SkipTest

import pytest
import yaml

pytest.importorskip("sybil")

from sybil import Document, Example  # noqa: E402
from sybil.parsers.markdown import CodeBlockParser, PythonCodeBlockParser, SkipParser  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
DOCS = sorted([REPO / "README.md", *(REPO / "docs").glob("*.md")])

#: Blocks of docs owned elsewhere that cannot run as written, by (file, first line):
#: why. An entry that no longer matches a block fails the suite, so the list shrinks as
#: those docs are fixed.
ILLUSTRATIVE_ELSEWHERE: dict[tuple[str, str], str] = {
    ("docs/spacy.md", "docs = list(nlp.pipe(texts, n_process=2, batch_size=64))"):
        "a fragment: `texts` is not defined in the doc",
    ("docs/spacy.md", 'nlp = spacy.blank("zh")'):
        "names a pack folder (/opt/packs/my-pack) that exists only on the reader's machine",
    ("docs/spacy.md", 'claimx.Extractor(packs=[...], segmenter="jieba")'):
        "a fragment: `packs=[...]` stands for the reader's packs",
}

_OUTPUT_FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


# --------------------------------------------------------------------------- sandbox

# Texts written for these docs checks.
_TEXTS = [
    "星河科技计划明年在东南亚新建两座数据中心，但汇率波动可能导致汇兑损失。",
    "远航物流计划今年开设三个海外仓。受需求疲软影响，该厂商面临库存积压的风险。",
    "凭借领先的电池技术，光明电子在储能市场位居行业第一。",
    "本季度销售平稳。",
]
# A judged audit sample for `claimx hits --tally` (docs/cli.md): demo.expand 3 of 5
# right, demo.loss 1 of 1 with one hit not judged.
_AUDIT = ([("demo.expand", True)] * 3 + [("demo.expand", False)] * 2
          + [("demo.loss", True), ("demo.loss", None)])
# A draft pack with a misspelt key, for the `claimx lint` example.
_DRAFT_PACK = {
    "pack.yaml": 'name: draft-pack\nversion: "0.1"\nlanguage: zh\n',
    "rules.yaml": ("rules:\n  - id: tiny.risk\n    kind: lexicon\n    type: risk\n"
                   "    cuez: [风险]\n"),
}


def _write_sandbox(root: Path) -> None:
    """The files the docs' commands and examples name, under ``root``."""
    # Copies, not links: a documented command that writes (a pack's calibration file, an
    # output next to its input) must never change the repository.
    for name in ("examples", "corpora", "rules", "tests", "docs"):
        shutil.copytree(REPO / name, root / name,
                        ignore=shutil.ignore_patterns("__pycache__", ".hypothesis"))
    records = [{"id": f"n{i}", "text": t, "body": t, "doc_id": f"d{i}"}
               for i, t in enumerate(_TEXTS)]
    jsonl = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    for name in ("news.jsonl", "articles.jsonl", "dump.jsonl", "corpus.jsonl"):
        (root / name).write_text(jsonl, encoding="utf-8")
    for folder in ("articles", "news", "reports", "my-corpus", "notes"):
        (root / folder).mkdir()
        for i, text in enumerate(_TEXTS):
            (root / folder / f"{i}.txt").write_text(text, encoding="utf-8")
    (root / "big5-archive").mkdir()
    (root / "big5-archive" / "a.txt").write_bytes("該集團計劃擴大產能。".encode("big5"))
    for name in ("note.txt", "my.txt"):
        (root / name).write_text(_TEXTS[0], encoding="utf-8")
    gold = [{"id": "g1", "text": _TEXTS[2], "claims": []}]
    (root / "gold.jsonl").write_text(json.dumps(gold[0], ensure_ascii=False) + "\n",
                                     encoding="utf-8")
    (root / "audit.jsonl").write_text("".join(
        json.dumps({"rule": rule, "doc": f"notes/{i}.txt", "correct": correct}) + "\n"
        for i, (rule, correct) in enumerate(_AUDIT)), encoding="utf-8")
    user_pack = REPO / "tests" / "fixtures" / "packs" / "good_user_type"
    shutil.copytree(user_pack, root / "my-pack")
    shutil.copytree(user_pack, root / "path" / "to" / "my-pack")
    (root / "draft-pack").mkdir()
    for name, content in _DRAFT_PACK.items():
        (root / "draft-pack" / name).write_text(content, encoding="utf-8")


@pytest.fixture(scope="module", autouse=True)
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The working folder of every block of this module."""
    root = tmp_path_factory.mktemp("docs-sandbox")
    _write_sandbox(root)
    before = os.getcwd()
    os.chdir(root)
    try:
        yield root
    finally:
        os.chdir(before)


# --------------------------------------------------------------------------- shell

# Commands a documented line may use besides claimx for it to be run.
_HARMLESS = {"cat", "echo", "printf"}
# Arguments of claimx commands that name inputs (a missing one means: parse only).
_INPUT_ARGS = ("paths", "gold", "sentiment", "check_floors", "tally", "text")


def _commands(source: str) -> Iterator[tuple[str, list[list[str]]]]:
    """Each line of a shell block (continuations joined) with its commands, split at
    ``|``, ``&&``, ``||`` and ``;``; comments and redirections (``> file``) dropped."""
    for line in source.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars="|&;<>")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        tokens = list(lexer)
        if not tokens:
            continue
        commands: list[list[str]] = [[]]
        redirected = False
        for token in tokens:
            if redirected:  # the file of a redirection is no argument
                redirected = False
            elif token in ("|", "&&", "||", ";"):
                commands.append([])
            elif token in (">", ">>", "<", ">&", "&>"):
                redirected = True
            else:
                commands[-1].append(token)
        yield line, [c for c in commands if c]


def _parse_claimx(argv: list[str]) -> object:
    """``argv`` parsed by claimx's own parser, or a failure naming the problem."""
    from claimx.cli import build_parser

    argv = [a.strip("[]") if a.startswith("[") or a.endswith("]") else a for a in argv]
    argv = [a for a in argv if a]
    parser = build_parser()
    try:
        return parser.parse_args(argv)
    except SystemExit as exc:
        if exc.code:
            raise AssertionError(f"`claimx {shlex.join(argv)}` is not a valid command "
                                 f"(claimx's parser exits {exc.code})") from None
        return None  # --help, --version


def _inputs_exist(args: object) -> bool:
    for name in _INPUT_ARGS:
        value = getattr(args, name, None)
        if name == "text":  # explain's TEXT is the text itself, or '-'
            continue
        values = value if isinstance(value, list) else [value] if value else []
        if any(v != "-" and not Path(v).exists() for v in values):
            return False
    packs = getattr(args, "packs", None) or []
    return all(Path(p).exists() or "/" not in p for p in packs)


def _shell_env() -> dict[str, str]:
    # `claimx` and `python` are this interpreter's; no colour, a wide terminal.
    bindir = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": bindir + os.pathsep + os.environ.get("PATH", ""),
            "NO_COLOR": "1", "COLUMNS": "200"}


def _run(line: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", line], capture_output=True, text=True,
                          timeout=600, env=_shell_env(), stdin=subprocess.DEVNULL)


def check_shell(example: Example) -> None:
    """Parse every claimx command of the block; run the lines whose inputs exist."""
    lines = list(_commands(example.parsed))
    if not any(c[0] == "claimx" for _, commands in lines for c in commands):
        raise SkipTest("no claimx command (other programs are not run)")
    for line, commands in lines:
        runnable = True
        for command in commands:
            if command[0] == "claimx":
                args = _parse_claimx(command[1:])
                runnable = runnable and args is not None and _inputs_exist(args)
            elif command[0] not in _HARMLESS:
                runnable = False
        if runnable and any(c[0] == "claimx" for c in commands):
            done = _run(line)
            assert done.returncode in (0, 1) and "Traceback" not in done.stderr, (
                f"`{line.strip()}` exited {done.returncode}:\n{done.stderr[-2000:]}")


def check_session(example: Example) -> None:
    """Run each ``$ command`` and compare its output with the lines after it."""
    text = example.parsed
    pieces = re.split(r"^\$ (.*)\n", text, flags=re.M)
    checker = doctest.OutputChecker()
    for command, expected in zip(pieces[1::2], pieces[2::2]):
        for _, commands in _commands(command):
            for argv in commands:
                if argv[0] == "claimx":
                    _parse_claimx(argv[1:])
        done = _run(command)
        got = "\n".join(line.rstrip() for line in (done.stdout + done.stderr).splitlines())
        want = "\n".join(line.rstrip() for line in expected.splitlines())
        assert "Traceback" not in done.stderr, done.stderr[-2000:]
        assert checker.check_output(want + "\n", got + "\n", doctest.ELLIPSIS), (
            f"`$ {command}` printed:\n{got}\n--- the doc shows:\n{want}")


def check_yaml(example: Example) -> None:
    yaml.safe_load(example.parsed)


def check_json(example: Example) -> None:
    try:
        json.loads(example.parsed)
    except json.JSONDecodeError:
        for line in example.parsed.splitlines():
            if line.strip():
                json.loads(line)


def check_toml(example: Example) -> None:
    import tomllib

    tomllib.loads(example.parsed)


def shown_not_run(example: Example) -> None:
    if example.parsed.startswith("$ "):
        check_session(example)
        return
    raise SkipTest("output or a folder layout: shown, not run")


class _BareBlocks:
    """A parser for fenced blocks with no language: output or a layout (Sybil's code-block
    parsers want a language)."""

    def __init__(self) -> None:
        from sybil.parsers.markdown.lexers import FencedCodeBlockLexer

        self.lexer = FencedCodeBlockLexer(language="", mapping={"source": "source"})

    def __call__(self, document: Document) -> Iterator[object]:
        for region in self.lexer(document):
            region.parsed = region.lexemes["source"]
            region.evaluator = shown_not_run
            yield region


_PARSERS = [
    SkipParser(),
    PythonCodeBlockParser(doctest_optionflags=_OUTPUT_FLAGS),
    CodeBlockParser(language="sh", evaluator=check_shell),
    CodeBlockParser(language="yaml", evaluator=check_yaml),
    CodeBlockParser(language="json", evaluator=check_json),
    CodeBlockParser(language="toml", evaluator=check_toml),
    CodeBlockParser(language="text", evaluator=shown_not_run),
    _BareBlocks(),
]

_FENCE = re.compile(r"^[ \t]*(```+|~~~+)(.*)$", re.M)


def _fences(text: str) -> list[int]:
    """Offsets of the opening fences of ``text``'s code blocks."""
    opened: str | None = None
    starts: list[int] = []
    for m in _FENCE.finditer(text):
        if opened is None:
            opened = m.group(1)
            starts.append(m.start())
        elif m.group(1).startswith(opened) and not m.group(2).strip():
            opened = None
    return starts


class _Parsed:
    """A doc file parsed by Sybil, with its examples evaluated lazily and in order (the
    Python blocks of a file share one namespace)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.document = Document.parse(str(path), *_PARSERS)
        import claimx

        self.document.namespace["claimx"] = claimx
        self.examples = list(self.document)
        self.outcomes: list[BaseException | None] = []

    def outcome(self, index: int) -> BaseException | None:
        while len(self.outcomes) <= index:
            example = self.examples[len(self.outcomes)]
            try:
                reason = _illustrative_elsewhere(self.path, example)
                if reason:
                    raise SkipTest(f"illustrative: {reason}")
                example.evaluate()
                self.outcomes.append(None)
            except BaseException as exc:  # noqa: BLE001 — each block's own failure
                self.outcomes.append(exc)
        return self.outcomes[index]


def _first_line(example: Example) -> str:
    source = example.region.lexemes.get("source") if example.region.lexemes else None
    text = str(source if source is not None else example.parsed)
    return text.strip().splitlines()[0].strip() if text.strip() else ""


def _relative(path: Path) -> str:
    return str(path.relative_to(REPO))


def _illustrative_elsewhere(path: Path, example: Example) -> str | None:
    return ILLUSTRATIVE_ELSEWHERE.get((_relative(path), _first_line(example)))


_parsed: dict[Path, _Parsed] = {}


def _parsed_doc(path: Path) -> _Parsed:
    if path not in _parsed:
        _parsed[path] = _Parsed(path)
    return _parsed[path]


def _is_skip_directive(example: Example) -> bool:
    return example.region.evaluator is _PARSERS[0].skipper


@pytest.mark.parametrize(("path", "index"), [
    pytest.param(path, index, id=f"{_relative(path)}:{example.line}")
    for path in DOCS
    for index, example in enumerate(_Parsed(path).examples)
    if not _is_skip_directive(example)])
def test_doc_block(path: Path, index: int) -> None:
    outcome = _parsed_doc(path).outcome(index)
    if isinstance(outcome, SkipTest):
        pytest.skip(str(outcome))
    if outcome is not None:
        raise outcome


@pytest.mark.parametrize("path", DOCS, ids=_relative)
def test_every_code_block_is_run_or_marked(path: Path) -> None:
    """No fenced block escapes the parsers above (a new language would)."""
    parsed = _parsed_doc(path)
    text = path.read_text(encoding="utf-8")
    found = sorted(e.region.start for e in parsed.examples if not _is_skip_directive(e))
    # A doctest block gives one example per `>>>` statement: count blocks, not examples.
    starts = _fences(text)
    covered = {s for s in starts if any(s <= f < _block_end(text, s) for f in found)}
    assert covered == set(starts), [
        f"{_relative(path)}:{text[:s].count(chr(10)) + 1}" for s in sorted(set(starts) - covered)]


def _block_end(text: str, start: int) -> int:
    fence = _FENCE.match(text, start)
    assert fence is not None
    closing = re.compile(rf"^[ \t]*{re.escape(fence.group(1))}[ \t]*$", re.M)
    end = closing.search(text, fence.end())
    return end.end() if end else len(text)


def test_illustrative_entries_match_blocks() -> None:
    """Every entry of ILLUSTRATIVE_ELSEWHERE still names a block (stale ones go)."""
    present = {(_relative(p), _first_line(e)) for p in DOCS for e in _parsed_doc(p).examples}
    assert set(ILLUSTRATIVE_ELSEWHERE) <= present, set(ILLUSTRATIVE_ELSEWHERE) - present


def test_names_the_docs_call_public_are_in_all() -> None:
    """`claimx.NAME` in README.md and docs/ is a public name (in ``claimx.__all__``) or a
    module of the package."""
    import claimx

    for path in DOCS:
        for name in set(re.findall(r"\bclaimx\.([A-Za-z]\w*)", path.read_text("utf-8"))):
            if importlib.util.find_spec(f"claimx.{name}") is None:
                assert name in claimx.__all__, f"{_relative(path)} calls claimx.{name} public"
