"""Reading a rule pack's files, safely and within bounds: stage 1 of pack loading.

:mod:`claimx.packs` validates and compiles what this module reads. A pack is data that may
come from anyone, so reading it must neither reach outside the pack nor run away:

- only **regular files inside the pack's own folder** are read: a path or a symlink that
  leads outside it, and anything that is not a regular file (a FIFO, a device, a folder),
  is a located problem, and such a file is never opened for reading (a FIFO is opened
  non-blocking and let go at once);
- a file may hold at most :data:`MAX_FILE_BYTES` bytes and :data:`MAX_NODES` YAML nodes,
  nested at most :data:`MAX_DEPTH` deep and at most :data:`MAX_EXPANDED` nodes once its
  aliases are followed (a "billion laughs" file is refused before anything expands it);
- a pack folder is listed for at most :data:`MAX_LISTED` entries and
  :data:`MAX_RULE_FILES` rule files;
- YAML is read with the safe loader (libyaml's C one when PyYAML has it): no tag runs
  code; a duplicate key, a control character, a file that is not UTF-8 are located
  problems, never tracebacks.

:class:`Reads` records every file read and every folder listed, so a pack kept in memory
can tell whether anything it was built from has changed since.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import attrs
import regex
import yaml

from claimx.errors import CODES, PackProblem

__all__ = [
    "MAX_DEPTH",
    "MAX_EXPANDED",
    "MAX_FILE_BYTES",
    "MAX_LISTED",
    "MAX_NODES",
    "MAX_RULE_FILES",
    "Reads",
    "compose",
    "display_path",
    "inside",
    "rule_files",
]

#: Largest file (pack.yaml, rule file, calibration file) a pack may hold, in bytes.
MAX_FILE_BYTES = 10 * 1024 * 1024
#: Most YAML nodes (scalars, lists, mappings, aliases) in one file.
MAX_NODES = 200_000
#: Deepest nesting of lists and mappings in one file, aliases followed.
MAX_DEPTH = 64
#: Most nodes one file may stand for once its aliases are followed.
MAX_EXPANDED = 1_000_000
#: Most rule files in one pack, and most entries listed while looking for them.
MAX_RULE_FILES = 1_000
MAX_LISTED = 20_000

# libyaml's parser when PyYAML was built with it: 15-40x faster than the pure-Python one,
# so a pack loads fast enough that claimx keeps no cache of loaded packs on disk.
_SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SAFE_LOADER):  # type: ignore[misc,valid-type]
    """The safe loader, with a shorter way to the tag of a plain scalar no implicit
    resolver can claim.

    The composer asks :meth:`resolve` for the tag of every untagged value: 100,000 times
    for the bundled pack, whose values are mostly lexicon words. YAML 1.1's implicit
    resolvers (bool, int, float, null, timestamp, merge, value) are looked up by the
    value's first character, and a word starting with a character none of them lists (a
    Chinese word, most words) is a string; so is a quoted value. Those get the string tag
    here at once; everything else (an empty value, a first character some resolver
    lists, a resolver registered for any first character or by path) goes through
    PyYAML's own :meth:`resolve`, so every tag is the one the safe loader gives."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is yaml.ScalarNode and not self.yaml_path_resolvers:
            resolvers = self.yaml_implicit_resolvers
            if None not in resolvers and (not implicit[0]
                                          or (value and value[0] not in resolvers)):
                return self.DEFAULT_SCALAR_TAG
        return super().resolve(kind, value, implicit)


_LOADER: Any = _Loader

# What YAML 1.1 calls printable (tab, line ends, and the rest of Unicode but controls,
# surrogates and U+FFFE/U+FFFF); anything else is refused by the reader.
_NOT_PRINTABLE = regex.compile(
    "[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_COLLECTION_STARTS = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_COLLECTION_ENDS = (yaml.SequenceEndEvent, yaml.MappingEndEvent)
_NODE_EVENTS = (yaml.ScalarEvent, yaml.AliasEvent, *_COLLECTION_STARTS)
_COLLECTION_START_TYPES = frozenset(_COLLECTION_STARTS)
_COLLECTION_END_TYPES = frozenset(_COLLECTION_ENDS)
_OTHER_EVENT_TYPES = frozenset((yaml.StreamStartEvent, yaml.StreamEndEvent,
                                yaml.DocumentStartEvent, yaml.DocumentEndEvent))


@attrs.define
class Reads:
    """Every file a pack load read (real path -> size and modification time) and every
    pack folder it listed (folder -> the rule files found), in the order met."""

    files: dict[str, tuple[int, int]] = attrs.field(factory=dict)
    listings: dict[str, tuple[str, ...]] = attrs.field(factory=dict)

    def current(self) -> bool:
        """True when no file read has changed and no listed folder gained or lost a rule
        file: what was built from them is still what loading would build."""
        for path, seen in self.files.items():
            try:
                info = os.stat(path)
            except OSError:
                return False
            if (info.st_size, info.st_mtime_ns) != seen:
                return False
        for folder, seen_files in self.listings.items():
            if tuple(str(p) for p in rule_files(Path(folder), "", [], None)) != seen_files:
                return False
        return True


def _problem(problems: list[PackProblem], code: str, message: str, display: str,
             line: int = 0, column: int = 0, hint: str = "") -> None:
    problems.append(PackProblem(code, message, display, line, column, hint or CODES[code][1]))


def display_path(path: Path | str) -> str:
    """``path`` as a pack problem shows it: relative to the working directory when it lies
    below it (so an editor or a CI log can jump to ``risk.yaml:7:5`` after ``claimx lint .``
    from inside the pack), else absolute."""
    absolute = Path(os.path.abspath(path))
    try:
        relative = absolute.relative_to(Path.cwd())
    except (ValueError, OSError):
        return str(absolute)
    return str(relative)


def inside(path: Path, folder: Path) -> bool:
    """Is ``path`` (resolved, symlinks followed) inside ``folder`` (resolved)?"""
    try:
        return Path(os.path.realpath(path)).is_relative_to(os.path.realpath(folder))
    except (OSError, ValueError):
        return False


def _read(path: Path, root: Path, display: str, problems: list[PackProblem],
          reads: Reads | None) -> bytes | None:
    """The bytes of ``path``, which must be a regular file inside ``root`` of at most
    :data:`MAX_FILE_BYTES`; None (with a problem added) otherwise."""
    real = os.path.realpath(path)
    if not os.path.lexists(real):  # a dangling symlink, wherever it points
        _problem(problems, "CX100", "cannot read: No such file or directory", display)
        return None
    if not inside(Path(real), root):
        _problem(problems, "CX105", f"'{display}' leads outside the pack (to a path outside "
                 f"its folder); it was not read", display)
        return None
    try:
        # Non-blocking, so that a FIFO cannot hang loading; it is refused just below.
        fd = os.open(real, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        _problem(problems, "CX100", f"cannot read: {exc.strerror or exc}", display)
        return None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            _problem(problems, "CX100", "cannot read: Is a directory", display)
            return None
        if not stat.S_ISREG(info.st_mode):
            _problem(problems, "CX106", "not a regular file (a FIFO, socket or device); "
                     "it was not read", display)
            return None
        if info.st_size > MAX_FILE_BYTES:
            _problem(problems, "CX107", f"file of {info.st_size:,} bytes; a pack file may "
                     f"hold at most {MAX_FILE_BYTES:,}", display)
            return None
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:  # it grew while being read
            _problem(problems, "CX107", f"file of more than {MAX_FILE_BYTES:,} bytes",
                     display)
            return None
        if reads is not None:
            reads.files[real] = (info.st_size, info.st_mtime_ns)
        return data
    except OSError as exc:
        _problem(problems, "CX100", f"cannot read: {exc.strerror or exc}", display)
        return None
    finally:
        os.close(fd)


def compose(path: Path, root: Path, display: str, problems: list[PackProblem],
            reads: Reads | None = None, texts: dict[str, str] | None = None
            ) -> yaml.Node | None:
    """The YAML node tree (with line/column marks) of the pack file ``path``, or None when
    it cannot be used; every reason is a located problem in ``problems``. ``texts``, when
    given, receives the decoded text under ``display`` (to point into a source line)."""
    data = _read(path, root, display, problems, reads)
    if data is None:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # Point at the first undecodable byte so the author can find it (a GBK file, say).
        before = data[:exc.start]
        line = before.count(b"\n") + 1
        column = len(before) - (before.rfind(b"\n") + 1) + 1  # 1-based byte column
        _problem(problems, "CX100", f"not UTF-8: byte 0x{data[exc.start]:02x} cannot be "
                 f"decoded", display, line, column,
                 "save the file as UTF-8 (it looks like another encoding, e.g. GBK)")
        return None
    if texts is not None:
        texts[display] = text
    bad = _NOT_PRINTABLE.search(text)
    if bad is not None:
        line = text.count("\n", 0, bad.start()) + 1
        column = bad.start() - (text.rfind("\n", 0, bad.start()) + 1) + 1
        _problem(problems, "CX101", f"control character U+{ord(bad.group()):04X} is not "
                 f"allowed in YAML", display, line, column,
                 "remove it (a NUL or control byte often means a binary or damaged file)")
        return None
    try:
        aliases = _within_bounds(text, display, problems)
        if aliases is None:
            return None
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        _problem(problems, "CX101", f"{exc.problem or exc.context}", display,
                 (mark.line + 1) if mark else 0, (mark.column + 1) if mark else 0)
        return None
    except yaml.YAMLError as exc:
        _problem(problems, "CX101", " ".join(str(exc).split()), display)
        return None
    except RecursionError:  # the pure-Python parser on deep nesting (bounded above)
        _problem(problems, "CX107", f"nested more than {MAX_DEPTH} levels deep", display)
        return None
    # Without an alias (the parse met none) every node stands for itself, and
    # _within_bounds has already bounded the count and the depth.
    if node is not None and not _tree_ok(node, display, problems,
                                         aliases_possible=aliases > 0):
        return None
    return node


def _within_bounds(text: str, display: str, problems: list[PackProblem]) -> int | None:
    """Stream the file's parse events (constant memory) and check the node count and the
    nesting depth before any node tree is built. Returns how many aliases the file holds,
    or None (with a problem added) when it is out of bounds.

    Events are told apart by their class (the parser makes no subclasses of them); a value
    of a class this loop does not name is counted through ``isinstance`` as before."""
    nodes = depth = aliases = 0
    scalar, alias = yaml.ScalarEvent, yaml.AliasEvent
    starts, ends = _COLLECTION_START_TYPES, _COLLECTION_END_TYPES
    for event in yaml.parse(text, Loader=_LOADER):
        kind = type(event)
        if kind is scalar:
            nodes += 1
        elif kind in starts:
            nodes += 1
            depth += 1
        elif kind in ends:
            depth -= 1
            continue
        elif kind is alias:
            nodes += 1
            aliases += 1
        elif kind in _OTHER_EVENT_TYPES:
            continue
        else:  # not one of PyYAML's own event classes: the general reading
            if isinstance(event, _NODE_EVENTS):
                nodes += 1
                aliases += isinstance(event, yaml.AliasEvent)
            if isinstance(event, _COLLECTION_STARTS):
                depth += 1
            elif isinstance(event, _COLLECTION_ENDS):
                depth -= 1
                continue
        if nodes > MAX_NODES:
            _problem(problems, "CX107", f"more than {MAX_NODES:,} YAML values in one "
                     f"file", display, *_position(event))
            return None
        if depth > MAX_DEPTH:
            _problem(problems, "CX107", f"nested more than {MAX_DEPTH} levels deep",
                     display, *_position(event))
            return None
    return aliases


def _position(item: Any) -> tuple[int, int]:
    mark = item.start_mark
    return (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)


def _tree_ok(top: yaml.Node, display: str, problems: list[PackProblem],
             aliases_possible: bool = True) -> bool:
    """Check the composed tree: duplicate keys (each a CX128, reported without stopping
    the load, so its other problems show too), and the size and depth the tree stands for
    once aliases are followed (False when too large). Iterative, each node visited once.

    With ``aliases_possible`` False (the parse met no alias) only the keys are checked:
    the tree is then no larger than the parse that bounded it, and skipping the size of
    every scalar saves a tenth of the default pack's cold start (20,000 lexicon words)."""
    if not aliases_possible:
        _all_keys_unique(top, display, problems)
        return True
    sizes: dict[int, tuple[int, int]] = {}  # id(node) -> (expanded nodes, expanded depth)
    in_progress: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(top, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            children = _children(node)
            size = 1 + sum(sizes[id(c)][0] for c in children)
            depth = 1 + max((sizes[id(c)][1] for c in children), default=0)
            sizes[key] = (size, depth)
            in_progress.discard(key)
            if size > MAX_EXPANDED or depth > MAX_DEPTH:
                what = (f"stands for more than {MAX_EXPANDED:,} values" if size > MAX_EXPANDED
                        else f"is nested more than {MAX_DEPTH} levels deep")
                _problem(problems, "CX107", f"this value {what} once its aliases are "
                         f"followed", display, *_position(node))
                return False
            continue
        if key in sizes:
            continue
        if key in in_progress:
            _problem(problems, "CX107", "an alias refers to a value that holds it (a "
                     "recursive alias)", display, *_position(node))
            return False
        in_progress.add(key)
        if isinstance(node, yaml.MappingNode):
            _unique_keys(node, display, problems)  # reported; the rest is still checked
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node))
    return True


def _all_keys_unique(top: yaml.Node, display: str, problems: list[PackProblem]) -> None:
    """Report the repeated keys of every mapping of a tree without aliases, in the order
    :func:`_tree_ok` reports them; scalars (most of a pack's nodes) are not visited."""
    stack = [top]
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            _unique_keys(node, display, problems)
            stack.extend(part for pair in node.value for part in pair
                         if not isinstance(part, yaml.ScalarNode))
        elif isinstance(node, yaml.SequenceNode):
            # A list of plain values (a lexicon's words: most of a pack) has nothing to
            # visit; telling so by the set of its items' classes costs no Python step each.
            if set(map(type, node.value)) - _SCALAR_ONLY:
                stack.extend(child for child in node.value
                             if not isinstance(child, yaml.ScalarNode))


_SCALAR_ONLY = frozenset((yaml.ScalarNode,))


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _unique_keys(node: yaml.MappingNode, display: str, problems: list[PackProblem]) -> None:
    """Report every key that repeats an earlier key of the same mapping (YAML would keep
    the last value silently: `rules:` twice would apply both, or lose one)."""
    seen: dict[tuple[str, str], yaml.Node] = {}
    for key, _ in node.value:
        if not isinstance(key, yaml.ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
            continue
        first = seen.setdefault((key.tag, key.value), key)
        if first is not key:
            _problem(problems, "CX128", f"key '{key.value}' is given twice in this mapping "
                     f"(first at line {first.start_mark.line + 1})", display, *_position(key))


def rule_files(root: Path, display_root: str, problems: list[PackProblem],
               reads: Reads | None) -> list[Path]:
    """The ``*.yaml`` / ``*.yml`` files of the pack folder ``root``, sorted: hidden files
    and folders and ``tests/`` folders are left out, symlinked folders are not followed
    (one that leads outside the pack is a CX105), and the walk stops, with a CX107, after
    :data:`MAX_LISTED` entries or :data:`MAX_RULE_FILES` rule files."""
    found: list[Path] = []
    listed = 0
    pending = [root]
    while pending:
        folder = pending.pop()
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            _problem(problems, "CX100", f"cannot list folder: {exc.strerror or exc}",
                     display_path(folder))
            continue
        listed += len(entries)
        if listed > MAX_LISTED:
            _problem(problems, "CX107", f"more than {MAX_LISTED:,} entries under the pack "
                     f"folder; is this a pack?", display_root or str(root))
            break
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            try:
                is_link = entry.is_symlink()
                is_dir = entry.is_dir()  # a symlink to a folder counts as one
            except OSError:
                is_link, is_dir = False, False
            if is_dir and not is_link and entry.name.endswith((".yaml", ".yml")):
                found.append(path)  # named like a rule file: reading it reports the folder
            if is_dir:
                if is_link:
                    if not inside(path, root):
                        _problem(problems, "CX105", "symlinked folder leads outside the "
                                 "pack; it was not read", display_path(path))
                    continue  # inside: its files are read where they really are
                if entry.name != "tests":
                    pending.append(path)
            elif entry.name.endswith((".yaml", ".yml")):
                found.append(path)
                if len(found) > MAX_RULE_FILES:
                    _problem(problems, "CX107", f"more than {MAX_RULE_FILES:,} rule files in "
                             f"one pack", display_root or str(root))
                    return sorted(found)
    found.sort()
    if reads is not None:
        reads.listings[str(root)] = tuple(str(p) for p in found)
    return found
