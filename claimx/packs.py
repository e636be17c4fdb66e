"""Rule packs: finding them, loading their YAML in stages, and the compiled rule model.

A pack is a folder holding ``pack.yaml`` (name, version, language, minimum claimx version,
claim types, settings) and any number of rule files (``*.yaml``; ``tests/`` is skipped).
Loading runs in three stages, and every stage collects all of its problems before the
loader gives up, so a pack author sees each problem once, located as ``file:line:col``:

1. *read*: each file is composed into a YAML node tree that keeps line/column marks;
2. *schema*: keys, types and allowed values are checked against the rule kind's schema;
3. *compile*: vars are expanded, regexes compiled, ids and claim types cross-checked.

See ``docs/rule-packs.md`` for the format.
"""

from __future__ import annotations

import math
import os
import sys
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TypedDict, TypeVar

import attrs
import regex
import yaml

from claimx import __version__, _pack_io
from claimx._deferred_regex import DeferredPattern
from claimx._gc_pause import no_full_collections
from claimx._regex_guard import pattern_problem
from claimx.errors import CODES, PackLoadError, PackProblem, problem_order
from claimx.types import Modality, Polarity

__all__ = [
    "ClaimRule",
    "ClaimTypeInfo",
    "LexiconRule",
    "ModifierRule",
    "Pack",
    "PatternRule",
    "Rule",
    "RuleChange",
    "SentimentRule",
    "SequenceRule",
    "SourceLocation",
    "TokenRule",
    "active_rules",
    "available_packs",
    "find_pack",
    "load_pack",
    "load_packs",
    "merged_calibrations",
    "merged_claim_types",
    "merged_settings",
]

RULE_KINDS = ("lexicon", "pattern", "sequence", "modifier", "sentiment", "tokens")
#: The modifier categories claimx itself acts on (modality, polarity, confidence, sentiment).
#: A pack may declare more under ``modifier_categories:`` (ConText's own categories, such
#: as ``target_past``): they label the claims they reach, and change a claim's polarity or a
#: sentiment word only when the pack's settings name them (``neutral_polarity_categories``,
#: ``sentiment_reversal_categories``).
MODIFIER_CATEGORIES = ("negation", "hedge", "intensity", "contrast", "question")
_CATEGORY_NAME = regex.compile(r"[a-z][a-z0-9_]*")
DIRECTIONS = ("forward", "backward", "both")
SCOPES = ("clause", "sentence")
SPAN_MODES = ("clause", "sentence", "to_end", "from_start", "match")
MATCH_AT = ("anywhere", "anchors", "clauses")
#: Where a claim rule's ``veto`` words count: anywhere in the hit's sentence or the one
#: before it, or only in the hit's own clause.
VETO_SCOPES = ("sentence", "clause")
_VAR_NAME = regex.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


# --------------------------------------------------------------------------- model


@attrs.frozen(slots=True)
class SourceLocation:
    """Where a rule was written: ``path:line:col`` (1-based). ``path`` is the file's
    absolute path; printed, it is relative to the working directory when it lies below it
    (see :func:`claimx._pack_io.display_path`)."""

    path: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{_pack_io.display_path(self.path)}:{self.line}:{self.column}"


@attrs.frozen(slots=True)
class Example:
    """One inline rule example: the text, and for a ``match`` example what is expected."""

    text: str
    should_match: bool
    expect: dict[str, str] = attrs.field(factory=dict)
    source: SourceLocation | None = None


@attrs.frozen(slots=True)
class _RuleBase:
    id: str
    pack: str
    source: SourceLocation
    description: str
    examples: tuple[Example, ...]
    #: ``override: true``: the rule replaces the rule of the same id of an extended pack.
    override: bool = attrs.field(default=False, kw_only=True)


@attrs.frozen(slots=True, kw_only=True)
class ClaimRule(_RuleBase):
    """What every rule that produces claims has: the claim type, its polarity (None: the
    type's default), a prior, how far its claim's span reaches, and the words that cancel a
    hit (``veto`` anywhere in the sentence — unless one of ``veto_unless`` is there too —,
    ``not_after`` just before it, ``not_before`` just after it), and the words one of which
    its sentence must hold (``requires``); ``veto_always`` words cancel a hit in its sentence
    whatever ``veto_unless`` says (力争 makes a record a target even where a company is named). With ``not_clause_initial`` a hit that opens its
    clause (or a list item after 、) is dropped: in directive prose a subjectless 推动/促进
    is an order to act, not an effect an actor had.

    ``veto_scope`` says where ``veto`` words count: ``"sentence"`` (the hit's sentence or
    the one before) or ``"clause"`` (only the hit's own clause: a risk to a supplier is not
    cancelled by the economy named in another clause). A rule that does not set it takes
    its claim type's (``claim_types: {risk: {veto_scope: clause}}`` in pack.yaml), else
    ``"sentence"``.

    ``veto_always`` holds the rule's own words and its claim type's
    (``claim_types: {strategic_intent: {veto_always: [...]}}`` in pack.yaml);
    ``own_veto_always`` the rule's own alone, so that a pack extending it can put its own
    version of the type's list in place of the one the rule was loaded with.

    ``modality`` is the modality the rule's own cue states, for a cue that carries it (a
    denial such as 不存在…的情形 is a negated risk; a negation modifier never reaches a cue
    it overlaps). None: the modifiers decide, and ``asserted`` when none reaches."""

    type: str
    polarity: Polarity | None
    prior: float
    span: str
    veto: tuple[str, ...] = ()
    veto_unless: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    veto_always: tuple[str, ...] = ()
    not_after: tuple[str, ...] = ()
    not_before: tuple[str, ...] = ()
    not_clause_initial: bool = False
    veto_scope: str = "sentence"
    modality: Modality | None = None
    own_veto_always: tuple[str, ...] = attrs.field(default=(), repr=False)


@attrs.frozen(slots=True, kw_only=True)
class LexiconRule(ClaimRule):
    """Cue words that signal a claim type. A cue inside one of ``exceptions`` does not count;
    with ``context`` set, a cue counts only when a context word occurs in the same clause."""

    cues: tuple[str, ...]
    exceptions: tuple[str, ...]
    context: tuple[str, ...]


@attrs.frozen(slots=True, kw_only=True)
class PatternRule(ClaimRule):
    """A regular expression run per sentence (``regex`` module, with a timeout). It runs
    only on sentences holding one of ``anchors`` when anchors are given; a match that
    overlaps one of ``exceptions`` (规模以上 for a growth pattern over 规模, 资本市场 for a
    pattern that starts at 市场) does not count."""

    #: The expanded pattern, compiled on first use (see :mod:`claimx._deferred_regex`);
    #: None when it did not pass the load-time check (the pack then fails to load).
    pattern: DeferredPattern | None
    pattern_text: str
    anchors: tuple[str, ...]
    exceptions: tuple[str, ...] = ()
    #: Where a match may start: ``anywhere`` in the sentence (searched), only at one of the
    #: rule's ``anchors`` (``anchors``: tried at each anchor, left to right), or only at the
    #: start of a clause (``clauses``). The last two are much faster for patterns that open
    #: with a long word class, since the engine does not try the class at every character.
    match_at: str = "anywhere"
    #: With ``match_at: clauses`` and anchors: a clause is tried only when one of the
    #: anchors starts within this many characters of its start (None: anywhere in it).
    lead: int | None = None


@attrs.frozen(slots=True, kw_only=True)
class SequenceRule(ClaimRule):
    """Word classes in order within one clause: a word of the first step, then within
    ``max_gap`` characters (no clause punctuation between) a word of the next, and so on
    (a business metric, then a word of growth: 营收…同比增长). ``sequences`` holds one or
    more such step lists, any of which makes a hit; each step is a list of words.

    Found from the one automaton pass, with no regular expression: a pack's compositional
    rules over large word classes cost about as much as its lexicon rules. A hit that
    overlaps one of ``exceptions`` does not count (as for pattern rules)."""

    sequences: tuple[tuple[tuple[str, ...], ...], ...]
    max_gap: tuple[int, ...]  # one gap, or one per step after the first
    exceptions: tuple[str, ...] = ()

    def gap_before(self, step: int) -> int:
        """Characters allowed between step ``step - 1`` and step ``step`` (1-based steps
        after the first)."""
        gaps = self.max_gap
        return gaps[0] if len(gaps) == 1 else gaps[min(step, len(gaps)) - 1]


@attrs.frozen(slots=True)
class ModifierRule(_RuleBase):
    """A ConText-style modifier: its cues change claims within their scope. ``category`` is
    one of :data:`MODIFIER_CATEGORIES` or a category the pack declares; with
    ``allowed_types`` the modifier touches only claims of those types (ConText's
    ``allowed_types``)."""

    category: str
    cues: tuple[str, ...]
    direction: str
    max_scope: int | None
    scope: str
    terminators: tuple[str, ...]
    pseudo: tuple[str, ...]
    weight: float
    allowed_types: tuple[str, ...] = attrs.field(default=(), kw_only=True)


@attrs.frozen(slots=True)
class SentimentRule(_RuleBase):
    """Sentiment-bearing words for sentence sentiment."""

    polarity: Polarity
    cues: tuple[str, ...]
    exceptions: tuple[str, ...]
    weight: float


@attrs.frozen(slots=True, kw_only=True)
class TokenRule(ClaimRule):
    """spaCy Matcher patterns over words (needs a word segmenter: jieba or pkuseg).

    Sentences are segmented only when one of ``anchors`` occurs in them, so the default
    character path stays as fast without token rules."""

    patterns: tuple[tuple[dict[str, Any], ...], ...]
    anchors: tuple[str, ...]


Rule = LexiconRule | PatternRule | SequenceRule | ModifierRule | SentimentRule | TokenRule


@attrs.frozen(slots=True)
class ClaimTypeInfo:
    """A claim type declared by a pack, with its default polarity, the default
    ``veto_scope`` of its rules (see :class:`ClaimRule`) and the ``veto_always`` words every
    rule of the type carries besides its own.

    ``veto_always`` holds the words, its vars expanded with the vars of the pack loaded
    (an extending pack that redefines one of them changes the type's list too);
    ``veto_always_source`` the list as written, ``$var`` items and all."""

    name: str
    polarity: Polarity
    description: str = ""
    veto_scope: str = "sentence"
    veto_always: tuple[str, ...] = ()
    veto_always_source: tuple[str, ...] = attrs.field(default=(), repr=False)


@attrs.frozen(slots=True)
class RuleChange:
    """A rule of an extended pack that the extending pack turned off (``disable:``) or
    replaced (a rule of the same id with ``override: true``)."""

    rule_id: str
    action: str  # "disabled" or "overridden"
    pack: str  # the pack that made the change
    inherited_from: str  # the pack the original rule belongs to
    original: SourceLocation  # where the original rule is written
    by: SourceLocation  # the `disable:` item, or the overriding rule

    def to_dict(self) -> dict[str, str]:
        """Plain data for JSON output (paths as printed)."""
        return {"rule": self.rule_id, "action": self.action, "pack": self.pack,
                "inherited_from": self.inherited_from, "original": str(self.original),
                "by": str(self.by)}


#: A pack's calibration: the curve ``((raw, calibrated), …)`` and fitted priors by rule id.
Calibration = tuple[tuple[tuple[float, float], ...], dict[str, float]]


@attrs.frozen(slots=True)
class Pack:
    """A loaded, validated and compiled rule pack.

    For a pack that ``extends:`` others, ``rules``, ``vars``, ``settings`` and
    ``claim_types`` are the composed ones (what the extended packs give, minus what this
    pack disabled, plus or replaced by its own); ``own_rules`` are the pack's own.
    ``calibration`` and ``calibration_priors`` are the pack's own calibration, which
    applies to the claims of its own rules; ``calibrations`` holds every composed pack's,
    by pack name.
    """

    name: str
    version: str
    language: str
    description: str
    requires_claimx: str
    path: str
    claim_types: dict[str, ClaimTypeInfo]
    rules: tuple[Rule, ...]
    vars: dict[str, tuple[str, ...]]
    settings: dict[str, Any]
    calibration: tuple[tuple[float, float], ...] = ()
    calibration_priors: dict[str, float] = attrs.field(factory=dict)
    #: Names of the packs this pack extends, as resolved (in ``extends:`` order).
    extends: tuple[str, ...] = ()
    #: Inherited rules this pack (or a pack it extends) disabled or overrode.
    changes: tuple[RuleChange, ...] = ()
    #: Resolved folders of this pack and of every pack it extends, itself first.
    roots: tuple[str, ...] = ()
    calibrations: dict[str, Calibration] = attrs.field(factory=dict)
    #: Declared modifier categories beyond the built-in ones: name -> description.
    modifier_categories: dict[str, str] = attrs.field(factory=dict)
    #: Warnings: what loads but likely is not what the author meant (``claimx lint``
    #: prints them; they never stop a pack from loading).
    notes: tuple[PackProblem, ...] = ()
    #: Real paths of every file read to build the pack (its own, and those of the packs
    #: it extends or imports): what a saved spaCy pipeline copies.
    files: tuple[str, ...] = ()

    def rules_of(self, kind: type) -> tuple[Any, ...]:
        """The pack's rules of one class, e.g. ``pack.rules_of(LexiconRule)``."""
        return tuple(r for r in self.rules if isinstance(r, kind))

    @property
    def own_rules(self) -> tuple[Rule, ...]:
        """The rules written in this pack's own files (overriding rules included)."""
        return tuple(r for r in self.rules if r.pack == self.name)


# --------------------------------------------------------------------------- finding packs


def _bundled_root() -> Path:
    # Packs are read as folders, so claimx is installed as files (not zipped) and its
    # bundled packs sit next to this module.
    return Path(__file__).resolve().parent / "rules"


def available_packs() -> dict[str, Path]:
    """Bundled packs and packs installed by other distributions (entry point group
    ``claimx.packs``, each naming a folder or a module whose folder holds the pack)."""
    import importlib.metadata  # ~20 ms, and scanning the entry points costs more: on demand

    found: dict[str, Path] = {}
    root = _bundled_root()
    if root.is_dir():
        for child in sorted(root.iterdir()):
            if (child / "pack.yaml").is_file():
                found[child.name] = child
    for entry in importlib.metadata.entry_points(group="claimx.packs"):
        try:
            target = entry.load()
        except Exception:  # a broken third-party pack must not hide the others
            continue
        path = Path(getattr(target, "__path__", [str(target)])[0]) if not isinstance(target, (str, os.PathLike)) else Path(target)
        if (path / "pack.yaml").is_file():
            found.setdefault(entry.name, path)
    return found


def find_pack(name_or_path: str | os.PathLike[str]) -> Path:
    """Resolve a pack name (bundled or installed) or a folder path to the pack's folder."""
    candidate = Path(name_or_path)
    if candidate.is_dir():
        return candidate
    # A bundled pack wins over an installed one of the same name (see available_packs), so
    # it is found without scanning the entry points of every installed distribution.
    if candidate.name == str(name_or_path):
        bundled = _bundled_root() / candidate.name
        if (bundled / "pack.yaml").is_file():
            return bundled
    packs = available_packs()
    if str(name_or_path) in packs:
        return packs[str(name_or_path)]
    known = ", ".join(sorted(packs)) or "none"
    raise PackLoadError([PackProblem(
        "CX103", f"no pack named or at '{name_or_path}' (known packs: {known})", str(name_or_path))])


# --------------------------------------------------------------------------- stage 1: read


@attrs.define
class _Problems:
    """Collects problems across stages; ``add`` takes a YAML node for its position."""

    items: list[PackProblem] = attrs.field(factory=list)
    reads: _pack_io.Reads = attrs.field(factory=_pack_io.Reads)
    #: The text of each file read, by its display path: a regex error points into it.
    texts: dict[str, str] = attrs.field(factory=dict)

    def add(self, code: str, message: str, path: str, node: yaml.Node | None = None,
            hint: str = "") -> None:
        line = node.start_mark.line + 1 if node is not None else 0
        column = node.start_mark.column + 1 if node is not None else 0
        self.add_at(code, message, path, line, column, hint)

    def add_at(self, code: str, message: str, path: str, line: int, column: int,
               hint: str = "") -> None:
        """``add`` for a position kept without its node (1-based ``line`` and ``column``)."""
        self.items.append(PackProblem(code, message, path, line, column, hint or CODES[code][1]))


def _compose(path: Path, display: str, problems: _Problems, root: Path) -> yaml.Node | None:
    """The node tree of one file of the pack folder ``root``; see :mod:`claimx._pack_io`
    for what is refused (files outside the pack, FIFOs, oversized or over-deep YAML,
    duplicate keys, control characters) — each a located problem."""
    return _pack_io.compose(path, root, display, problems.items, problems.reads, problems.texts)


def _constructor() -> yaml.SafeLoader:
    """A safe loader ready to construct values from nodes, without the reader, scanner,
    parser and composer that ``yaml.SafeLoader("")`` also sets up (none of them takes part
    in constructing; a fresh one each time, as construction keeps state while it runs).
    Loading the bundled pack constructs a few thousand values: 3.7 µs each saved."""
    loader = yaml.SafeLoader.__new__(yaml.SafeLoader)
    yaml.constructor.BaseConstructor.__init__(loader)
    return loader


def _scalar(node: yaml.Node) -> Any:
    """The Python value of a scalar node, with YAML 1.1 resolution (ints, floats, bools)."""
    return _constructor().construct_object(node) if isinstance(node, yaml.ScalarNode) else None


# --------------------------------------------------------------------------- stage 2: schema

# field -> (expected python type(s) name, required). "strlist" accepts a list of strings.
_COMMON = {"id": ("str", True), "kind": ("str", True), "description": ("str", False),
           "examples": ("examples", False), "enabled": ("bool", False), "tags": ("strlist", False),
           "override": ("bool", False)}
# Keys of every rule that produces claims (the fields of ClaimRule).
_CLAIM = {"type": ("str", True), "polarity": ("str", False), "prior": ("prob", False),
          "span": ("str", False), "veto": ("strlist", False), "veto_unless": ("strlist", False),
          "requires": ("strlist", False), "veto_always": ("strlist", False),
          "not_after": ("strlist", False),
          "not_before": ("strlist", False), "not_clause_initial": ("bool", False),
          "veto_scope": ("str", False), "modality": ("str", False)}
_SCHEMAS: dict[str, dict[str, tuple[str, bool]]] = {
    "lexicon": {**_COMMON, **_CLAIM, "cues": ("strlist", True),
                "exceptions": ("strlist", False), "context": ("strlist", False)},
    "pattern": {**_COMMON, **_CLAIM, "pattern": ("str", True), "anchors": ("strlist", False),
                "exceptions": ("strlist", False), "match_at": ("str", False),
                "lead": ("int", False)},
    "sequence": {**_COMMON, **_CLAIM, "sequences": ("any", True), "max_gap": ("any", False),
                 "exceptions": ("strlist", False)},
    "tokens": {**_COMMON, **_CLAIM, "patterns": ("any", True), "anchors": ("strlist", True)},
    "modifier": {**_COMMON, "category": ("str", True), "cues": ("strlist", True),
                 "direction": ("str", False), "max_scope": ("int", False), "scope": ("str", False),
                 "terminators": ("strlist", False), "pseudo": ("strlist", False),
                 "weight": ("number", False), "allowed_types": ("strlist", False)},
    "sentiment": {**_COMMON, "polarity": ("str", True), "cues": ("strlist", True),
                  "exceptions": ("strlist", False), "weight": ("number", False)},
}
_PACK_SCHEMA: dict[str, tuple[str, bool]] = {
    "name": ("str", True), "version": ("str", True), "language": ("str", True),
    "requires_claimx": ("str", False), "description": ("str", False),
    "claim_types": ("mapping", False), "imports": ("strlist", False),
    "extends": ("strlist", False), "disable": ("strlist", False),
    "modifier_categories": ("mapping", False),
    "settings": ("mapping", False), "calibration": ("any", False), "files": ("strlist", False),
}
_FILE_KEYS = ("vars", "rules")


_MAP_TAG = "tag:yaml.org,2002:map"


def _finite(value: Any) -> bool:
    """Whether the YAML number ``value`` is a finite float, once made one: not .nan or
    .inf, nor a whole number too large for a float (``float(10**400)`` raises)."""
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _shorten(text: str, most: int = 24) -> str:
    return text if len(text) <= most else f"{text[:most - 1]}…"


def _mapping_items(node: yaml.MappingNode) -> list[tuple[str, yaml.Node, yaml.Node]]:
    return [(str(k.value), k, v) for k, v in node.value]


def _check_value(kind: str, node: yaml.Node, field: str, display: str, problems: _Problems) -> bool:
    """Check one field's node against its expected kind; report and return False if wrong."""
    ok = True
    if kind in ("bool", "int", "number", "prob", "mapping", "any", "examples"):
        # A node that YAML itself cannot turn into a value (`!!float x`, `!custom 1`, an
        # unhashable key) must become a located problem here, not a traceback later.
        try:
            _constructor().construct_document(node)
        except Exception as exc:  # noqa: BLE001 - PyYAML's constructors raise ValueError,
            # IndexError (`!!int` with no digits), KeyError (`!!bool maybe`) and more
            problems.add("CX112", f"'{field}' cannot be read as a YAML value: "
                         f"{getattr(exc, 'problem', None) or exc}", display, node)
            return False
    if kind == "str":
        ok = isinstance(node, yaml.ScalarNode) and node.tag in ("tag:yaml.org,2002:str",) or (
            isinstance(node, yaml.ScalarNode) and field in ("version", "requires_claimx"))
        expected = "a string"
    elif kind == "bool":
        ok = isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:bool"
        expected = "true or false"
    elif kind == "int":
        ok = isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:int"
        expected = "a whole number"
    elif kind in ("number", "prob"):
        ok = isinstance(node, yaml.ScalarNode) and node.tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
        expected = "a number" if kind == "number" else "a number between 0 and 1"
        if ok and not _finite(_scalar(node)):
            # .nan compares false with everything and .inf swamps every sum: both give
            # contradictory scores downstream. A whole number past a float's range
            # (10**400) would raise OverflowError where it is turned into one.
            problems.add("CX113", f"'{field}' must be a finite number, got "
                         f"{_shorten(str(node.value))}", display, node)
            return False
        if ok and kind == "prob" and not 0.0 <= float(_scalar(node)) <= 1.0:
            problems.add("CX113", f"'{field}' must be between 0 and 1, got {node.value}", display, node)
            return False
    elif kind == "strlist":
        ok = isinstance(node, yaml.SequenceNode) and all(
            isinstance(item, yaml.ScalarNode) for item in node.value)
        expected = "a list of strings"
    elif kind == "mapping":
        # A plain mapping: `!!set {a, b}` is a mapping node too, but it is read as a set.
        ok = isinstance(node, yaml.MappingNode) and node.tag == _MAP_TAG
        expected = "a mapping"
    elif kind == "examples":
        ok = isinstance(node, yaml.MappingNode) and node.tag == _MAP_TAG
        expected = "a mapping with `match:` and `no_match:` lists"
    else:
        return True
    if not ok:
        problems.add("CX112", f"'{field}' must be {expected}", display, node)
    return ok


def _check_keys(node: yaml.MappingNode, schema: dict[str, tuple[str, bool]], what: str,
                display: str, problems: _Problems) -> dict[str, yaml.Node]:
    """Check keys against a schema; return the fields whose values have the right type."""
    good: dict[str, yaml.Node] = {}
    seen: set[str] = set()
    for key, key_node, value in _mapping_items(node):
        if key not in schema:
            close = _closest(key, schema)
            problems.add("CX110", f"unknown key '{key}' in {what}", display, key_node,
                         hint=f"did you mean '{close}'?" if close else f"allowed keys: {', '.join(schema)}")
            continue
        seen.add(key)
        if _check_value(schema[key][0], value, key, display, problems):
            good[key] = value
    for key, (_, required) in schema.items():
        if required and key not in seen:
            problems.add("CX111", f"{what} lacks required key '{key}'", display, node)
    return good


def _closest(word: str, options: Iterable[str]) -> str | None:
    import difflib

    matches = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return matches[0] if matches else None


# --------------------------------------------------------------------------- stage 3: compile


@attrs.define
class _PackBuilder:
    """Holds one pack's parsed parts while it is compiled."""

    root: Path
    name: str
    display_root: str
    problems: _Problems
    vars: dict[str, tuple[str, ...]] = attrs.field(factory=dict)
    files: dict[str, str] = attrs.field(factory=dict)  # display path -> absolute path

    def display(self, path: Path) -> str:
        """How problems name ``path`` (relative to the working directory when below it)."""
        shown = _pack_io.display_path(path)
        self.files[shown] = os.path.abspath(path)
        return shown

    def file_of(self, display: str) -> str:
        """The absolute path of a file shown as ``display``."""
        return self.files.get(display, os.path.abspath(display))


def _expand_list(node: yaml.Node, variables: dict[str, tuple[str, ...]], field: str,
                 display: str, problems: _Problems) -> tuple[str, ...]:
    """Expand ``$var`` items of a cue list; keep order, drop duplicates and empty strings.

    ``node`` holds a list: a rule's fields come typed as plain nodes from
    :func:`_check_keys`, whose schema check made sure of it."""
    items = [sys.intern(str(item.value)) for item in node.value]  # see _var_def
    for item, value in zip(node.value, items):
        if value.startswith("$") and _VAR_NAME.fullmatch(value) and value[1:] not in variables:
            problems.add("CX121", f"unknown var '{value}' in '{field}'", display, item,
                         hint=_var_hint(value[1:], variables))
    return _expand_words(items, variables)


def _names_unknown_var(node: yaml.Node, variables: dict[str, tuple[str, ...]]) -> bool:
    """True when a cue list refers to an undefined var: its emptiness is then a consequence
    of the CX121 already reported, not a second problem."""
    return any(str(item.value).startswith("$") and _VAR_NAME.fullmatch(str(item.value))
               and str(item.value)[1:] not in variables for item in node.value)


def _var_hint(name: str, variables: dict[str, tuple[str, ...]]) -> str:
    close = _closest(name, variables)
    return f"did you mean '${close}'?" if close else CODES["CX121"][1]


@attrs.frozen(slots=True)
class _Piece:
    """A stretch of an expanded pattern: ``[start, end)`` of the expanded text came from
    ``[source_start, source_end)`` of the pattern as written (a ``$var`` when ``var``)."""

    start: int
    end: int
    source_start: int
    source_end: int
    var: str = ""


def _one_word_vars(text: str, variables: dict[str, tuple[str, ...]]
                   ) -> dict[str, tuple[str, ...]]:
    """The vars ``text`` names, each cut to its longest word (its first in an expansion):
    the load-time check of a pattern compiles this expansion, not the full one."""
    short: dict[str, tuple[str, ...]] = {}
    for match in _VAR_NAME.finditer(text):
        words = variables.get(match.group(1))
        if words is not None:
            short[match.group(1)] = (max(words, key=len),) if words else ()
    return short


#: The pieces of pattern syntax :func:`_literal_groups` follows, one token each: escapes of
#: one character, of a class (``\d``, ``\pL``, ``\p{Han}``) or of a character by its code;
#: a character set holding no ``[`` and no set operation (``--``, ``&&``, ``~~``, ``||``:
#: the standard library's parser, which places an unclosed group's error, warns about them
#: with a position); the openers of plain, non-capturing, atomic, named and lookaround
#: groups; counted and plain repeats; anchors, the dot, ``|`` and ``)``; and runs of
#: characters that stand for themselves. Anything else (comments, inline flags,
#: conditionals, backreferences, named lists, nested sets, a brace that is no count) ends
#: the reading: the pattern is then checked as written.
_PATTERN_TOKEN = regex.compile(
    r"\\(?:[pP]\{[A-Za-z0-9_=:&. -]*\}|[pP][A-Za-z]|x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}"
    r"|U[0-9A-Fa-f]{8}|[dDsSwWbBAZzntrfv]|[^\w\s])"
    r"|\[\^?\]?(?:\\[^\w\s]|\\[dDsSwWntrfv]|(?!--|&&|~~|\|\|)[^\[\]\\])*\]"
    r"|(?P<open>\(\?:)|\(\?(?:[=!>]|<[=!]|P?<\w+>)|\((?!\?)"
    r"|(?:[?*+]|\{\d+(?:,\d*)?\}|\{,\d+\})[?+]?"
    r"|[|^$.)]"
    r"|(?P<literal>[^\\\[\]()?*+{}|^$.\s#]+)")


def _literal_groups(text: str) -> list[tuple[int, int]]:
    """Where ``text`` (a pattern as written) may be shortened for its load-time check: for
    each group ``(?:w1|w2|…|wn)`` of plain words (characters that stand for themselves,
    nothing else), the stretch ``|w2|…|wn`` after its first word. Empty when the pattern
    uses syntax the reading does not follow (see :data:`_PATTERN_TOKEN`).

    Such a group parses as one group of literal branches whatever its words are: a word
    holds no group, no repeat, no set, no flag, so dropping all but the first leaves every
    other part of the pattern, its groups, their numbers and names, and every syntax error
    the same, the errors only nearer the start by the dropped length (the pieces of the
    check's expansion map them back). The bundled pack's patterns write many word classes
    inline: this halves the text the check compiles (36,500 -> 20,600 characters)."""
    cuts: list[tuple[int, int]] = []
    tokens: list[tuple[str, int, int]] = []  # (kind, start, end): open, literal, |, ) or ""
    at, n = 0, len(text)
    while at < n:
        found = _PATTERN_TOKEN.match(text, at)
        if found is None:
            return []
        kind = found.lastgroup or ""
        if not kind and found.group() in ("|", ")"):
            kind = found.group()
        tokens.append((kind, at, found.end()))
        at = found.end()
    for i, (kind, _, _) in enumerate(tokens):
        if kind != "open":
            continue
        j = i + 1
        branches = 0
        while (j + 1 < len(tokens) and tokens[j][0] == "literal"
               and tokens[j + 1][0] in ("|", ")")):
            branches += 1
            if tokens[j + 1][0] == ")":
                break
            j += 2
        else:
            continue
        if branches >= 2:
            cuts.append((tokens[i + 2][1], tokens[j + 1][1]))
    return cuts


def _expand_pattern(text: str, variables: dict[str, tuple[str, ...]], node: yaml.Node | None,
                    display: str, problems: _Problems, cuts: Sequence[tuple[int, int]] = ()
                    ) -> tuple[str, tuple[_Piece, ...]] | None:
    """Replace ``$name`` in a pattern by an alternation of the var's words (escaped, longest
    first so the regex prefers the longer cue). Returns the expanded text and where each
    stretch of it came from (so a regex error points into the pattern as written), or None
    when a var is unknown (each one reported, at its column). ``cuts`` are stretches of
    ``text`` to leave out (see :func:`_literal_groups`; sorted, none holding a var)."""
    failed = False
    # Inline flags (case-insensitive, POSIX, reverse …) and fuzzy constraints may let
    # words of different first characters match at one position, or change what the
    # grouping would leave equal: the plain alternation is kept then.
    factor = _FLAGS_OR_FUZZY.search(text) is None
    behind = _lookbehinds(text) if factor else []
    out: list[str] = []
    pieces: list[_Piece] = []
    at = 0  # position in `text`
    length = 0  # length of the expanded text so far

    def literal(upto: int) -> None:
        start = at
        for cut_start, cut_end in cuts:
            if start <= cut_start and cut_end <= upto:
                stretch(start, cut_start)
                start = cut_end
        stretch(start, upto)

    def stretch(start: int, upto: int) -> None:
        nonlocal length
        if upto > start:
            out.append(text[start:upto])
            pieces.append(_Piece(length, length + upto - start, start, upto))
            length += upto - start

    for match in _VAR_NAME.finditer(text):
        literal(match.start())
        at = match.end()
        name = match.group(1)
        if name not in variables:
            failed = True
            line, column = _scalar_position(node, match.start(), problems.texts.get(display))
            problems.items.append(PackProblem(
                "CX121", f"unknown var '${name}' in 'pattern'", display, line, column,
                _var_hint(name, variables)))
            continue
        words = sorted(variables[name], key=len, reverse=True)
        if not factor:
            alternation = "(?:" + "|".join(_escape(w) for w in words) + ")"
        elif any(a < match.start() < b for a, b in behind):
            alternation = "(?:" + _word_alternation_backward(words) + ")"
        else:
            alternation = "(?:" + _word_alternation(words) + ")"
        out.append(alternation)
        pieces.append(_Piece(length, length + len(alternation), match.start(), match.end(), name))
        length += len(alternation)
    literal(len(text))
    return None if failed else ("".join(out), tuple(pieces))


def _escape(word: str) -> str:
    """``regex.escape(word)``, which walks the word in Python a character at a time: a word
    of letters and digits only (most of a Chinese pack's) holds none of the characters it
    escapes (ASCII punctuation, whitespace) and comes back as it is."""
    return word if word.isalnum() else regex.escape(word)


#: Inline flags (``(?i)``, ``(?i:…)``, ``(?V0)`` …, but not the named groups ``(?P<…>``,
#: ``(?P=…)``, ``(?P>…)``) and fuzzy constraints (``{e<=1}``, ``{i,d}`` …) in a pattern.
_FLAGS_OR_FUZZY = regex.compile(r"\(\?(?!P[<=>])-?[A-Za-z]|\{[^}]*[A-Za-z]")
#: How many leading characters :func:`_word_alternation` groups words by.
_FACTOR_DEPTH = 2


def _word_alternation(words: Sequence[str], depth: int = _FACTOR_DEPTH) -> str:
    """The alternation of ``words`` (sorted longest first) for a pattern, with the words
    that share a first character grouped under it, and within a group by the second
    (经济|经营|经 becomes 经(?:济|营)?).

    The ``regex`` engine tries a plain alternation word after word at every position it
    reaches; grouped, a position whose character starts no word costs one test, and one
    that does tries only that group: a tenth less time over the bundled pack's pattern
    rules. The matches are the same, tried in the same order: words that start with
    different characters never both match at one position, so the order of the groups
    does not matter, and inside a group the words keep their longest-first order (the
    group of a word that is also a prefix of the others is optional, and greedy, so it is
    tried after every longer word, as in the plain alternation). Two levels keep the
    nesting shallow (the pack check limits the depth of groups)."""
    if depth == 0 or len(words) < 2 or "" in words:
        return "|".join(_escape(w) for w in words)
    rests_of: dict[str, list[str]] = {}
    for word in dict.fromkeys(words):  # a word listed twice is tried once
        rests_of.setdefault(word[0], []).append(word[1:])
    branches = []
    for first, rests in rests_of.items():
        if len(rests) == 1:
            branches.append(_escape(first + rests[0]))
            continue
        longer = [rest for rest in rests if rest]
        branches.append(_escape(first) + "(?:" + _word_alternation(longer, depth - 1)
                        + ")" + ("?" if len(longer) < len(rests) else ""))
    return "|".join(branches)


def _word_alternation_backward(words: Sequence[str], depth: int = _FACTOR_DEPTH) -> str:
    """The alternation of ``words`` for a lookbehind, with the words that share a last
    character grouped under it, and within a group by the one before (经济|救济|济 becomes
    (?:(?:经|救)?济)).

    ``regex`` matches a lookbehind backwards, from its end: there a group of words with a
    common first character (:func:`_word_alternation`) is entered at every position and
    left only after its last characters fail, while a group with a common last character
    is left after one test. A lookbehind only asks whether some word ends where it looks,
    so the order of the words does not matter inside it: the same words, the same
    answer, and the pattern rules whose lookbehinds hold a var run several times faster."""
    if depth == 0 or len(words) < 2 or "" in words:
        return "|".join(_escape(w) for w in words)
    heads_of: dict[str, list[str]] = {}
    for word in dict.fromkeys(words):  # a word listed twice is tried once
        heads_of.setdefault(word[-1], []).append(word[:-1])
    branches = []
    for last, heads in heads_of.items():
        if len(heads) == 1:
            branches.append(_escape(heads[0] + last))
            continue
        longer = [head for head in heads if head]
        branches.append("(?:" + _word_alternation_backward(longer, depth - 1) + ")"
                        + ("?" if len(longer) < len(heads) else "") + _escape(last))
    return "|".join(branches)


def _lookbehinds(pattern: str) -> list[tuple[int, int]]:
    """Where the lookbehinds (``(?<=…)``, ``(?<!…)``) of ``pattern`` start and end: a
    scan that skips escapes and character classes and pairs the parentheses."""
    spans: list[tuple[int, int]] = []
    open_groups: list[tuple[bool, int]] = []
    in_class = False
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            if pattern.startswith("^", i + 1):
                i += 1
            if pattern.startswith("]", i + 1):
                i += 1  # a ] right after [ or [^ is a literal
        elif c == "(":
            open_groups.append((pattern.startswith(("(?<=", "(?<!"), i), i))
        elif c == ")" and open_groups:
            is_behind, start = open_groups.pop()
            if is_behind:
                spans.append((start, i))
        i += 1
    return spans


def _source_offset(pieces: Sequence[_Piece], position: int) -> tuple[int, str]:
    """Where ``position`` of an expanded pattern was written: (offset in the pattern as
    written, the var it lies in or "")."""
    for piece in pieces:
        if piece.start <= position < piece.end:
            if piece.var:
                return piece.source_start, piece.var
            return piece.source_start + position - piece.start, ""
    last = pieces[-1] if pieces else None
    return (last.source_end if last else 0), ""


def _scalar_position(node: yaml.Node | None, offset: int, text: str | None) -> tuple[int, int]:
    """(line, column), 1-based, of character ``offset`` of a scalar's value in its file.

    Exact for one-line plain and quoted scalars (escapes and doubled quotes counted) and
    for literal blocks (``|``); elsewhere (folded or wrapped scalars) the scalar's start."""
    if node is None:
        return 0, 0
    start, end = node.start_mark, node.end_mark
    fallback = (start.line + 1, start.column + 1)
    if text is None or not isinstance(node, yaml.ScalarNode):
        return fallback
    value = str(node.value)
    raw = text[start.index:end.index]
    style = node.style
    if style in (None, "", "'", '"') and start.line == end.line:
        i = 0 if style in (None, "") else 1  # position in `raw`
        for _ in range(offset):
            if i >= len(raw):
                return fallback
            if style == "'" and raw.startswith("''", i):
                i += 2
            elif style == '"' and raw[i] == "\\":
                escape = raw[i + 1:i + 2]
                i += {"x": 4, "u": 6, "U": 10}.get(escape, 2)
            else:
                i += 1
        return start.line + 1, start.column + 1 + i
    if style == "|":
        lines = raw.split("\n")
        body = [line for line in lines[1:] if line.strip()]
        indent = min((len(line) - len(line.lstrip(" ")) for line in body), default=0)
        row = value.count("\n", 0, offset)
        column = offset - (value.rfind("\n", 0, offset) + 1)
        return start.line + 2 + row, indent + column + 1
    return fallback


_Member = TypeVar("_Member", Polarity, Modality)


def _member(node: yaml.Node | None, kind: type[_Member], field: str, display: str,
            problems: _Problems) -> _Member | None:
    """The ``kind`` value a rule field names (``polarity: negative``, ``modality: negated``);
    None when the field is absent, and a CX113 listing the values when it names none."""
    if node is None:
        return None
    try:
        return kind(str(node.value))
    except ValueError:
        problems.add("CX113", f"{field} '{node.value}' is not one of "
                     f"{', '.join(m.value for m in kind)}", display, node)
        return None


def _category(node: yaml.Node | None, categories: Sequence[str], display: str,
              problems: _Problems) -> str:
    """A modifier's category: a built-in one or one the pack (or a pack it extends)
    declares under ``modifier_categories:``; anything else is a CX113 with a did-you-mean."""
    if node is None:
        return "hedge"
    value = str(node.value)
    if value in categories:
        return value
    close = _closest(value, categories)
    hint = (f"did you mean '{close}'?" if close else
            "declare it under `modifier_categories:` in pack.yaml")
    problems.add("CX113", f"modifier category '{value}' is neither built in "
                 f"({', '.join(MODIFIER_CATEGORIES)}) nor declared by the pack", display, node,
                 hint=hint)
    return "hedge"


def _choice(node: yaml.Node | None, allowed: Sequence[str], default: str, field: str,
            display: str, problems: _Problems) -> str:
    if node is None:
        return default
    value = str(node.value)
    if value not in allowed:
        problems.add("CX113", f"'{field}' is '{value}', not one of {', '.join(allowed)}",
                     display, node)
        return default
    return value


def _examples(node: yaml.Node | None, display: str, problems: _Problems, builder: _PackBuilder,
              known_types: set[str]) -> tuple[Example, ...]:
    """A rule's ``examples:``, each checked as far as it can be without running it: keys,
    ``expect`` values (a declared type, a modality, a polarity, a span inside the text)."""
    if node is None:
        return ()
    out: list[Example] = []
    for key, key_node, value in _mapping_items(node):  # type: ignore[arg-type]
        if key not in ("match", "no_match"):
            problems.add("CX110", f"unknown key '{key}' in examples", display, key_node,
                         hint="examples take `match:` and `no_match:` lists")
            continue
        if not isinstance(value, yaml.SequenceNode):
            problems.add("CX112", f"'examples.{key}' must be a list", display, value)
            continue
        for item in value.value:
            where = SourceLocation(builder.file_of(display), item.start_mark.line + 1,
                                   item.start_mark.column + 1)
            if isinstance(item, yaml.ScalarNode):
                out.append(Example(str(item.value), key == "match", {}, where))
            elif isinstance(item, yaml.MappingNode) and key == "match":
                fields = {k: v for k, _, v in _mapping_items(item)}
                unknown = [k for k in fields if k not in ("text", "expect")]
                for k in unknown:
                    problems.add("CX110", f"unknown key '{k}' in a match example", display, item,
                                 hint="a match example has `text:` and `expect:`")
                text_node = fields.get("text")
                if not isinstance(text_node, yaml.ScalarNode):
                    problems.add("CX111", "a match example needs `text:`", display, item)
                    continue
                expect: dict[str, str] = {}
                expect_node = fields.get("expect")
                if isinstance(expect_node, yaml.MappingNode):
                    for ek, ek_node, ev in _mapping_items(expect_node):
                        if ek not in _EXPECT_KEYS:
                            close = _closest(ek, _EXPECT_KEYS)
                            problems.add("CX110", f"unknown key '{ek}' in expect", display, ek_node,
                                         hint=f"did you mean '{close}'?" if close else
                                         "expect takes type, span, polarity, modality, subject")
                        elif isinstance(ev, yaml.ScalarNode):
                            if _expect_value_ok(ek, ev, str(text_node.value), known_types,
                                                display, problems):
                                expect[ek] = str(ev.value)
                        else:
                            problems.add("CX112", f"'expect.{ek}' must be a string", display, ev)
                elif expect_node is not None:
                    problems.add("CX112", "`expect:` must be a mapping", display, expect_node)
                out.append(Example(str(text_node.value), True, expect, where))
            else:
                problems.add("CX112", f"each '{key}' example must be a string"
                             + (" or a mapping with text/expect" if key == "match" else ""),
                             display, item)
    return tuple(out)


_EXPECT_KEYS = ("type", "span", "polarity", "modality", "subject")


def _expect_value_ok(key: str, node: yaml.ScalarNode, text: str, known_types: set[str],
                     display: str, problems: _Problems) -> bool:
    """Check one ``expect`` value that can be checked without running the example."""
    from claimx.types import Modality

    value = str(node.value)
    allowed: Sequence[str] = ()
    if key == "type" and value not in known_types:
        close = _closest(value, known_types)
        problems.add("CX122", f"claim type '{value}' in an example's expect is not declared",
                     display, node, hint=f"did you mean '{close}'?" if close else CODES["CX122"][1])
        return False
    if key == "modality":
        allowed = [m.value for m in Modality]
    elif key == "polarity":
        allowed = [p.value for p in Polarity]
    if allowed and value not in allowed:
        close = _closest(value, allowed)
        problems.add("CX113", f"expect.{key} '{value}' is not one of {', '.join(allowed)}",
                     display, node, hint=f"did you mean '{close}'?" if close else "")
        return False
    if key == "span" and value not in text:
        problems.add("CX113", f"expect.span '{value}' is not part of the example's text",
                     display, node, hint="copy the span from the example text")
        return False
    return True


class _RuleBaseFields(TypedDict):
    """The :class:`_RuleBase` fields :func:`_compile_rule` reads once for every rule kind."""

    id: str
    pack: str
    source: SourceLocation
    description: str
    examples: tuple[Example, ...]
    override: bool


def _compile_rule(node: yaml.MappingNode, display: str, builder: _PackBuilder,
                  claim_types: dict[str, ClaimTypeInfo], known_types: set[str],
                  categories: Sequence[str] = MODIFIER_CATEGORIES) -> Rule | None:
    problems = builder.problems
    fields_raw = {k: v for k, _, v in _mapping_items(node)}
    kind_node = fields_raw.get("kind")
    kind = str(kind_node.value) if isinstance(kind_node, yaml.ScalarNode) else None
    if kind is None:
        problems.add("CX111", "rule lacks required key 'kind'", display, node,
                     hint=f"kind is one of {', '.join(RULE_KINDS)}")
        return None
    if kind not in _SCHEMAS:
        problems.add("CX113", f"rule kind '{kind}' is not one of {', '.join(RULE_KINDS)}",
                     display, kind_node)
        return None
    rule_id = str(fields_raw["id"].value) if isinstance(fields_raw.get("id"), yaml.ScalarNode) else "?"
    fields = _check_keys(node, _SCHEMAS[kind], f"{kind} rule '{rule_id}'", display, problems)
    if "id" not in fields:
        return None
    if "enabled" in fields and _scalar(fields["enabled"]) is False:
        return None
    where = SourceLocation(builder.file_of(display), node.start_mark.line + 1,
                           node.start_mark.column + 1)
    description = str(fields["description"].value) if "description" in fields else ""
    examples = _examples(fields.get("examples"), display, problems, builder, known_types)
    base: _RuleBaseFields = dict(
        id=rule_id, pack=builder.name, source=where, description=description,
        examples=examples, override="override" in fields and _scalar(fields["override"]) is True)

    def cues(field: str) -> tuple[str, ...]:
        return _expand_list(fields[field], builder.vars, field, display, problems) if field in fields else ()

    def claim_type() -> str:
        type_node = fields.get("type")
        value = str(type_node.value) if type_node is not None else ""
        if type_node is not None and value not in known_types:
            close = _closest(value, known_types)
            problems.add("CX122", f"claim type '{value}' is not declared", display, type_node,
                         hint=f"did you mean '{close}'?" if close else CODES["CX122"][1])
        return value

    prior = float(_scalar(fields["prior"])) if "prior" in fields else 0.6

    def claim_fields() -> dict[str, Any]:
        """The fields every claim rule shares (see ClaimRule)."""
        type_name = claim_type()
        declared = claim_types.get(type_name)
        own_veto_always = cues("veto_always")
        return dict(type=type_name,
                    polarity=_member(fields.get("polarity"), Polarity, "polarity", display,
                                     problems),
                    prior=prior,
                    span=_choice(fields.get("span"), SPAN_MODES, "clause", "span", display,
                                 problems),
                    veto=cues("veto"), veto_unless=cues("veto_unless"),
                    requires=cues("requires"),
                    veto_always=tuple(dict.fromkeys((*own_veto_always,
                                                     *(declared.veto_always if declared
                                                       else ())))),
                    own_veto_always=own_veto_always,
                    not_after=cues("not_after"),
                    not_before=cues("not_before"),
                    not_clause_initial=bool(_scalar(fields["not_clause_initial"]))
                    if "not_clause_initial" in fields else False,
                    veto_scope=_choice(fields.get("veto_scope"), VETO_SCOPES,
                                       declared.veto_scope if declared else "sentence",
                                       "veto_scope", display, problems),
                    modality=_member(fields.get("modality"), Modality, "modality", display,
                                     problems))

    if kind == "lexicon":
        cue_list = cues("cues")
        if "cues" in fields and not cue_list and not _names_unknown_var(fields["cues"], builder.vars):
            problems.add("CX124", "lexicon rule has no cues", display, fields["cues"])
        return LexiconRule(**base, **claim_fields(), cues=cue_list,
                           exceptions=cues("exceptions"), context=cues("context"))
    if kind == "pattern":
        common = claim_fields()
        text = str(fields["pattern"].value) if "pattern" in fields else ""
        expansion = _expand_pattern(text, builder.vars, fields.get("pattern"), display, problems)
        compiled = None
        if expansion is not None and "pattern" in fields:
            expanded, pieces = expansion
            refused = pattern_problem(expanded)
            if refused is not None:  # it would exhaust memory or the stack compiling
                problems.add("CX123", f"pattern of rule '{rule_id}' is refused: {refused}",
                             display, fields["pattern"])
            else:
                # Checked with each var cut to one word (a var's words are escaped literals,
                # so what can be wrong is the pattern as written); the full alternation is
                # compiled on first use (claimx._deferred_regex: a third of a cold start).
                check = _expand_pattern(text, _one_word_vars(text, builder.vars),
                                        fields.get("pattern"), display, problems,
                                        _literal_groups(text))
                if check is not None:
                    check_text, check_pieces = check
                    try:
                        checked = regex.compile(check_text, regex.VERSION1)
                    except (regex.error, RecursionError, MemoryError, OverflowError,
                            ValueError) as exc:
                        _regex_problem(exc, rule_id, fields["pattern"], check_pieces, display,
                                       problems, check_text)
                    else:
                        compiled = DeferredPattern(expanded, regex.VERSION1,
                                                   checked.groupindex)
        anchor_words = cues("anchors")
        match_at = _choice(fields.get("match_at"), MATCH_AT, "anywhere", "match_at", display,
                           problems)
        if match_at == "anchors" and not anchor_words and "match_at" in fields:
            problems.add("CX113", "'match_at: anchors' needs the rule's `anchors:`", display,
                         fields["match_at"])
        lead = int(_scalar(fields["lead"])) if "lead" in fields else None
        if lead is not None and (match_at != "clauses" or not anchor_words or lead < 0):
            problems.add("CX113", "'lead' needs 'match_at: clauses', anchors and a number of 0 "
                         "or more", display, fields["lead"])
            lead = None
        return PatternRule(**base, **common, pattern=compiled, pattern_text=text,
                           anchors=anchor_words, exceptions=cues("exceptions"),
                           match_at=match_at, lead=lead)
    if kind == "modifier":
        cue_list = cues("cues")
        if "cues" in fields and not cue_list and not _names_unknown_var(fields["cues"], builder.vars):
            problems.add("CX124", "modifier rule has no cues", display, fields["cues"])
        max_scope = int(_scalar(fields["max_scope"])) if "max_scope" in fields else None
        allowed = cues("allowed_types")
        for item in (fields["allowed_types"].value if "allowed_types" in fields else []):
            if str(item.value) not in known_types:
                close = _closest(str(item.value), known_types)
                problems.add("CX122", f"claim type '{item.value}' in 'allowed_types' is not "
                             f"declared", display, item,
                             hint=f"did you mean '{close}'?" if close else CODES["CX122"][1])
        return ModifierRule(
            **base,
            category=_category(fields.get("category"), categories, display, problems),
            cues=cue_list,
            direction=_choice(fields.get("direction"), DIRECTIONS, "forward", "direction",
                              display, problems),
            max_scope=max_scope,
            scope=_choice(fields.get("scope"), SCOPES, "clause", "scope", display, problems),
            terminators=cues("terminators"), pseudo=cues("pseudo"),
            weight=float(_scalar(fields["weight"])) if "weight" in fields else 1.0,
            allowed_types=allowed)
    if kind == "sequence":
        common = claim_fields()
        sequences = _sequences(fields.get("sequences"), builder.vars, display, problems)
        gaps = _gaps(fields.get("max_gap"), sequences, display, problems)
        return SequenceRule(**base, **common, sequences=sequences, max_gap=gaps,
                            exceptions=cues("exceptions"))
    if kind == "tokens":
        common = claim_fields()
        patterns: list[tuple[dict[str, Any], ...]] = []
        patterns_node = fields.get("patterns")
        value = _plain(patterns_node) if patterns_node is not None else None
        if not (isinstance(value, list) and value and all(
                isinstance(p, list) and p and all(
                    isinstance(t, dict) and all(isinstance(k, str) for k in t) for t in p)
                for p in value)):
            if patterns_node is not None:
                problems.add("CX112", "'patterns' must be a list of spaCy Matcher patterns "
                             "(each a list of token dicts)", display, patterns_node)
        else:
            patterns = [tuple(p) for p in value]
            from claimx._token_patterns import validate_token_patterns  # no spaCy needed

            for message in validate_token_patterns(patterns):
                problems.add("CX113", message, display, patterns_node,
                             hint="see spaCy's Matcher token attributes (ORTH, LOWER, REGEX, IN, OP)")
        return TokenRule(**base, **common, patterns=tuple(patterns), anchors=cues("anchors"))
    cue_list = cues("cues")
    if "cues" in fields and not cue_list and not _names_unknown_var(fields["cues"], builder.vars):
        problems.add("CX124", "sentiment rule has no cues", display, fields["cues"])
    polarity = (_member(fields.get("polarity"), Polarity, "polarity", display, problems)
                or Polarity.NEUTRAL)
    return SentimentRule(**base, polarity=polarity, cues=cue_list, exceptions=cues("exceptions"),
                         weight=float(_scalar(fields["weight"])) if "weight" in fields else 1.0)


def _opening_position(pattern: str, message: str) -> tuple[int, str] | None:
    """For an unclosed group or character set, ``regex`` reports the end of the pattern;
    the standard library's parser names where it opened, which is what the author must
    fix. Used only when both engines fail the same way."""
    import re
    import warnings

    try:
        with warnings.catch_warnings():
            # Only its error position is wanted: its FutureWarnings (a nested set in a
            # pattern written for `regex`) would reach the pack's user as noise.
            warnings.simplefilter("ignore", FutureWarning)
            re.compile(pattern)
    except re.error as exc:
        head = exc.msg.split(",")[0]
        if exc.pos is not None and head in ("missing )", "unterminated character set") and (
                message.startswith(head)):
            return exc.pos, exc.msg
    except (RecursionError, MemoryError, OverflowError, ValueError):
        return None
    return None


def _regex_problem(exc: BaseException, rule_id: str, node: yaml.Node, pieces: Sequence[_Piece],
                   display: str, problems: _Problems, expanded: str = "") -> None:
    """A CX123 for a pattern that does not compile, at the column of the pattern as written
    (before ``$var`` expansion) where the regex engine stopped."""
    position = getattr(exc, "pos", None)
    message = getattr(exc, "msg", None) or str(exc) or type(exc).__name__
    if position is None:
        problems.add("CX123", f"pattern of rule '{rule_id}' does not compile: {message}",
                     display, node)
        return
    opening = _opening_position(expanded, message)
    if opening is not None:
        position, message = opening
    offset, var = _source_offset(pieces, position)
    where = f" (in the words of ${var})" if var else f" at character {offset + 1} of the pattern"
    line, column = _scalar_position(node, offset, problems.texts.get(display))
    problems.items.append(PackProblem(
        "CX123", f"pattern of rule '{rule_id}' does not compile: {message}{where}", display,
        line, column, CODES["CX123"][1]))


#: Characters allowed between two steps of a sequence rule when it does not say.
DEFAULT_MAX_GAP = 8
#: The largest ``max_gap`` a sequence rule may ask for (a step further off is another clause).
MAX_SEQUENCE_GAP = 40


def _sequences(node: yaml.Node | None, variables: dict[str, tuple[str, ...]], display: str,
               problems: _Problems) -> tuple[tuple[tuple[str, ...], ...], ...]:
    """Read ``sequences:`` — a list of sequences, each a list of at least two steps, each step
    a list of words (``$var`` items expand). Every malformed part is reported."""
    if node is None:
        return ()
    hint = "sequences: [[[word, $var], [word, …]], …] — each sequence a list of steps"
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        problems.add("CX112", "'sequences' must be a list of sequences", display, node,
                     hint=hint)
        return ()
    out: list[tuple[tuple[str, ...], ...]] = []
    for sequence in node.value:
        if not isinstance(sequence, yaml.SequenceNode) or len(sequence.value) < 2:
            problems.add("CX112", "each sequence must be a list of at least two steps",
                         display, sequence, hint=hint)
            continue
        steps: list[tuple[str, ...]] = []
        for step in sequence.value:
            if not _check_value("strlist", step, "sequences step", display, problems):
                continue
            words = _expand_list(step, variables, "sequences", display, problems)
            if not words and not _names_unknown_var(step, variables):
                problems.add("CX124", "a step of a sequence has no words", display, step)
            steps.append(words)
        if len(steps) == len(sequence.value) and all(steps):
            out.append(tuple(steps))
    return tuple(out)


def _gaps(node: yaml.Node | None, sequences: tuple[tuple[tuple[str, ...], ...], ...],
          display: str, problems: _Problems) -> tuple[int, ...]:
    """``max_gap``: one whole number for every step, or a list with the gap before the
    second, third … step (as long as the rule's longest sequence needs; a shorter sequence
    uses the first of them)."""
    if node is None:
        return (DEFAULT_MAX_GAP,)
    value = _plain(node)
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, int) and not isinstance(v, bool)
                             and 0 <= v <= MAX_SEQUENCE_GAP for v in values):
        problems.add("CX113", f"'max_gap' must be a whole number from 0 to {MAX_SEQUENCE_GAP}, "
                     "or a list of them (one per step after the first)", display, node)
        return (DEFAULT_MAX_GAP,)
    longest = max((len(s) for s in sequences), default=2)
    if len(values) > 1 and len(values) != longest - 1:
        problems.add("CX113", f"'max_gap' lists {len(values)} gaps, but the rule's longest "
                     f"sequence has {longest - 1} steps after its first", display, node)
        return (DEFAULT_MAX_GAP,)
    return tuple(values)


def _version_tuple(text: str) -> tuple[int, ...]:
    parts = regex.findall(r"\d+", text)
    return tuple(int(p) for p in parts[:3])


def _import_root(root: Path, target: str, display: str, node: yaml.Node,
                 problems: _Problems, key: str = "imports") -> Path | None:
    """The folder of the pack that ``root``'s pack.yaml names as ``target`` under ``key``
    (``imports`` or ``extends``): a folder relative to pack.yaml that stays inside the
    folder holding the pack (this pack's own sub-folders and the packs next to it), or else
    a bundled or installed pack's name. An absolute path, ``~`` or a path climbing higher
    is refused without looking at it."""
    what = "import" if key == "imports" else "extended pack"
    if os.path.isabs(target) or target.startswith("~") or "\\" in target:
        problems.add("CX105", f"{what} '{target}' is not a pack name or a folder relative "
                     f"to pack.yaml", display, node)
        return None
    local = root / target
    if target and local.is_dir() and not local.samefile(root):
        if not _pack_io.inside(local, root.resolve().parent):
            problems.add("CX105", f"{what} '{target}' leads outside the folder that holds "
                         f"this pack", display, node)
            return None
        return local
    if "/" not in target and target not in ("", ".", ".."):
        named = _named_pack(target)
        if named is not None:
            return named
    if ".." in Path(target).parts:
        problems.add("CX105", f"{what} '{target}' leads outside the folder that holds this "
                     f"pack", display, node)
        return None
    known = sorted(available_packs())
    close = _closest(target, known)
    problems.add("CX125", f"cannot find {'imported' if key == 'imports' else 'extended'} "
                 f"pack '{target}'", display, node,
                 hint=(f"did you mean '{close}'?" if close else
                       f"name a bundled or installed pack ({', '.join(known) or 'none'}) or a "
                       f"pack folder relative to pack.yaml"))
    return None


def _named_pack(name: str) -> Path | None:
    """A bundled or installed pack by name (never a folder of the current directory)."""
    bundled = _bundled_root() / name
    if (bundled / "pack.yaml").is_file():
        return bundled
    return available_packs().get(name)


#: Checks whose answer depends on what another file or pack defines: skipped (and said so)
#: when that file or pack could not be read, instead of reporting a cascade.
_NEEDS_VARS = frozenset({"CX121"})
_NEEDS_INHERITED = frozenset({"CX121", "CX122", "CX131", "CX132"})
_DEPENDENT_WHAT = {"CX121": "unknown var", "CX122": "unknown claim type",
                   "CX131": "disable", "CX132": "override"}


@attrs.define
class _Memo:
    """Packs already loaded (unchanged by an extending pack's vars) during one load, by
    resolved folder, with the first problem that kept one from loading cleanly."""

    packs: dict[str, tuple[Pack | None, PackProblem | None]] = attrs.field(factory=dict)


def _load_ref(root: Path, problems: _Problems, loading: tuple[str, ...], memo: _Memo
              ) -> tuple[Pack | None, PackProblem | None]:
    """Load an imported or extended pack once per load; (the pack, its first problem)."""
    key = str(root.resolve())
    if key not in memo.packs:
        before = len(problems.items)
        pack = _load_one(root, problems, loading + (key,), memo)
        errors = [p for p in problems.items[before:] if p.severity == "error"]
        memo.packs[key] = (pack, min(errors, key=problem_order) if errors else None)
    return memo.packs[key]


def _claim_types_of(meta: dict[str, yaml.Node], display: str, problems: _Problems
                    ) -> tuple[dict[str, ClaimTypeInfo], dict[str, yaml.Node]]:
    """The claim types pack.yaml declares, and the ``veto_always`` list node of each type
    that has one: its vars are expanded once the pack's vars are known (see
    :func:`_with_type_vetoes`)."""
    claim_types: dict[str, ClaimTypeInfo] = {}
    veto_nodes: dict[str, yaml.Node] = {}
    for type_name, _, value in _mapping_items(meta["claim_types"]) if "claim_types" in meta else []:  # type: ignore[arg-type]
        polarity = Polarity.NEUTRAL
        description = ""
        veto_scope = "sentence"
        if isinstance(value, yaml.MappingNode):
            sub = _check_keys(value, {"polarity": ("str", False), "description": ("str", False),
                                      "veto_scope": ("str", False),
                                      "veto_always": ("strlist", False)},
                              f"claim type '{type_name}'", display, problems)
            polarity = (_member(sub.get("polarity"), Polarity, "polarity", display, problems)
                        or Polarity.NEUTRAL)
            description = str(sub["description"].value) if "description" in sub else ""
            veto_scope = _choice(sub.get("veto_scope"), VETO_SCOPES, "sentence", "veto_scope",
                                 display, problems)
            if "veto_always" in sub:
                veto_nodes[type_name] = sub["veto_always"]
        elif not (isinstance(value, yaml.ScalarNode) and value.value in ("", "null", "~")):
            problems.add("CX112", f"claim type '{type_name}' must map to polarity/description"
                         f"/veto_scope/veto_always",
                         display, value)
        claim_types[type_name] = ClaimTypeInfo(type_name, polarity, description, veto_scope)
    return claim_types, veto_nodes


def _with_type_vetoes(claim_types: dict[str, ClaimTypeInfo], own_types: set[str],
                      veto_nodes: dict[str, yaml.Node], variables: dict[str, tuple[str, ...]],
                      display: str, problems: _Problems,
                      inherited: dict[str, ClaimTypeInfo]) -> dict[str, ClaimTypeInfo]:
    """The claim types with their ``veto_always`` words expanded with the pack's vars.

    A type this pack declares with a ``veto_always`` list gets that list (an unknown var is
    reported at its place in pack.yaml); one it declares without the field keeps the list of
    the type it redeclares; an inherited type's list, as written, is expanded again with
    this pack's vars, so a var the pack redefines reaches the type's list as it reaches the
    inherited rules."""
    out: dict[str, ClaimTypeInfo] = {}
    for name, info in claim_types.items():
        if name in veto_nodes:
            node = veto_nodes[name]
            source = tuple(str(item.value) for item in node.value)
            words = _expand_list(node, variables, "veto_always", display, problems)
        else:
            source = (info.veto_always_source if name not in own_types
                      else inherited[name].veto_always_source if name in inherited else ())
            words = _expand_words(source, variables)
        out[name] = attrs.evolve(info, veto_always=words, veto_always_source=source)
    return out


def _expand_words(items: Sequence[str], variables: dict[str, tuple[str, ...]]
                  ) -> tuple[str, ...]:
    """``items`` with their ``$var`` items expanded; order kept, duplicates and empty
    strings dropped, an unknown var skipped (:func:`_expand_list` reports it where it is
    written; an inherited claim type's ``veto_always`` was checked in its own pack)."""
    out: list[str] = []
    for value in items:
        if value.startswith("$") and _VAR_NAME.fullmatch(value):
            out.extend(variables.get(value[1:], ()))
        elif value.strip():
            out.append(value)
    return tuple(dict.fromkeys(out))


def _with_type_words(rule: Rule, claim_types: dict[str, ClaimTypeInfo]) -> Rule:
    """``rule`` with its own ``veto_always`` words and its claim type's as the extending
    pack has the type (in place of the list the extended pack gave it)."""
    if not isinstance(rule, ClaimRule):
        return rule
    info = claim_types.get(rule.type)
    type_words = info.veto_always if info is not None else ()
    words = tuple(dict.fromkeys((*rule.own_veto_always, *type_words)))
    return rule if words == rule.veto_always else attrs.evolve(rule, veto_always=words)


def _categories_of(meta: dict[str, yaml.Node], display: str, problems: _Problems
                   ) -> dict[str, str]:
    """``modifier_categories:`` — name: {description: …} (or a description, or nothing)."""
    out: dict[str, str] = {}
    node = meta.get("modifier_categories")
    for name, key_node, value in _mapping_items(node) if node is not None else []:  # type: ignore[arg-type]
        if name in MODIFIER_CATEGORIES:
            problems.add("CX113", f"modifier category '{name}' is built in; declare only new "
                         f"ones", display, key_node, hint="remove it from modifier_categories")
            continue
        if not _CATEGORY_NAME.fullmatch(name):
            problems.add("CX113", f"modifier category '{name}' must be lower-case letters, "
                         f"digits and _", display, key_node, hint="e.g. target_past")
            continue
        description = ""
        if isinstance(value, yaml.MappingNode):
            sub = _check_keys(value, {"description": ("str", False)},
                              f"modifier category '{name}'", display, problems)
            description = str(sub["description"].value) if "description" in sub else ""
        elif isinstance(value, yaml.ScalarNode):
            description = "" if value.value in ("", "null", "~") else str(value.value)
        else:
            problems.add("CX112", f"modifier category '{name}' must map to a description",
                         display, value)
        out[name] = description
    return out


@attrs.frozen(slots=True)
class _VarDef:
    """One ``vars:`` entry of a rule file, as plain data. A pack's files are read one at a
    time and each file's node tree is let go as soon as its vars are taken out: the trees
    of a large lexicon (a node and two marks per word) cost far more memory than the words.
    Positions are 1-based."""

    display: str
    line: int  # of the var's name
    column: int
    mode: str  # "set" (a list of words) or "extend" ({extend: [words]})
    items: tuple[str, ...]  # as written: words and ``$var`` references
    #: Where each ``$…`` item was written, by its index in ``items``: only a reference can
    #: be reported (CX121), so words keep no position.
    ref_positions: dict[int, tuple[int, int]]


def _var_def(display: str, key_node: yaml.Node, mode: str, words: yaml.Node) -> _VarDef:
    """The plain data of a var whose ``words`` node ``_check_value`` found to be a list of
    strings."""
    # Interned: YAML gives each occurrence of a word its own string, and a pack that writes
    # a word in several lists would keep every copy in its vars and rules.
    items = tuple(sys.intern(str(item.value)) for item in words.value)
    ref_positions = {index: (item.start_mark.line + 1, item.start_mark.column + 1)
                     for index, item in enumerate(words.value) if items[index].startswith("$")}
    return _VarDef(display, key_node.start_mark.line + 1, key_node.start_mark.column + 1,
                   mode, items, ref_positions)


def _take_file_parts(display: str, node: yaml.MappingNode, defs: dict[str, _VarDef],
                     rule_lists: list[tuple[str, yaml.Node]], problems: _Problems) -> None:
    """Take from one composed rule file what the later stages need, so that its node tree
    can go: its ``vars:`` into ``defs`` (a list of words defines the var, or replaces an
    inherited one; ``{extend: [words]}`` adds to an inherited one) and its ``rules:`` node,
    with the file's display path, onto ``rule_lists``."""
    for key, key_node, value in _mapping_items(node):
        if key not in _FILE_KEYS:
            problems.add("CX110", f"unknown top-level key '{key}'", display, key_node,
                         hint="a rule file holds `vars:` and `rules:`")
            continue
        if key == "rules":
            rule_lists.append((display, value))
            continue
        if not isinstance(value, yaml.MappingNode):
            problems.add("CX112", "'vars' must be a mapping of name -> list of words",
                         display, value)
            continue
        for var_name, var_key, words in _mapping_items(value):
            if var_name in defs:
                first = defs[var_name]
                problems.add("CX126", f"var '{var_name}' is defined twice (first at "
                             f"{first.display}:{first.line})", display, var_key)
                continue
            mode = "set"
            if isinstance(words, yaml.MappingNode):
                parts = _mapping_items(words)
                if len(parts) != 1 or parts[0][0] != "extend":
                    problems.add("CX112", f"var '{var_name}' must be a list of words, or "
                                 f"{{extend: [words]}} to add to an inherited var",
                                 display, words)
                    continue
                mode, words = "extend", parts[0][2]
            if not _check_value("strlist", words, var_name, display, problems):
                continue
            defs[var_name] = _var_def(display, var_key, mode, words)


def _resolve_vars(defs: dict[str, _VarDef], inherited: dict[str, tuple[str, ...]],
                  problems: _Problems) -> dict[str, tuple[str, ...]]:
    """Each var's words, ``$var`` items expanded (recursively, in any file order), duplicate
    and blank words dropped. ``{extend: […]}`` (or ``$name`` inside the definition of
    ``name``) stands for the inherited var's words; a var that includes itself is CX113."""
    resolved: dict[str, tuple[str, ...]] = {}
    known = {**inherited, **{name: () for name in defs}}

    def resolve(name: str, stack: tuple[str, ...]) -> tuple[str, ...]:
        if name in resolved:
            return resolved[name]
        var = defs[name]
        if name in stack:
            cycle = " -> ".join(stack[stack.index(name):] + (name,))
            problems.add_at("CX113", f"var '{name}' includes itself ({cycle})", var.display,
                            var.line, var.column, hint="remove one of the references")
            return ()
        words: list[str] = []
        if var.mode == "extend":
            if name in inherited:
                words.extend(inherited[name])
            else:
                close = _closest(name, inherited)
                problems.add_at("CX121", f"var '{name}' extends no var of an imported or "
                                f"extended pack", var.display, var.line, var.column,
                                hint=f"did you mean '{close}'?" if close else
                                "write a plain list to define a new var")
        for index, value in enumerate(var.items):
            if value.startswith("$") and _VAR_NAME.fullmatch(value):
                ref = value[1:]
                if ref == name and name in inherited:
                    words.extend(inherited[name])
                elif ref in defs:
                    words.extend(resolve(ref, stack + (name,)))
                elif ref in inherited:
                    words.extend(inherited[ref])
                else:
                    line, column = var.ref_positions[index]
                    problems.add_at("CX121", f"unknown var '${ref}' in '{name}'", var.display,
                                    line, column, hint=_var_hint(ref, known))
            elif value.strip():
                words.append(value)
        resolved[name] = tuple(dict.fromkeys(words))
        return resolved[name]

    for name in defs:
        resolve(name, ())
    return resolved


def _merge_settings(base: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    """``own`` settings on top of ``base``: a mapping merges key by key (own wins per key),
    ``{extend: [...]}`` adds to the base list (duplicates dropped), anything else replaces."""
    out = dict(base)
    for key, value in own.items():
        if _is_extend(value):
            before = out.get(key)
            items = list(before) if isinstance(before, list) else []
            out[key] = items + [v for v in value["extend"] if v not in items]
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


def _is_extend(value: Any) -> bool:
    return isinstance(value, dict) and list(value) == ["extend"] and isinstance(
        value["extend"], list)


def _rule_key(rule: Rule) -> tuple[str, str, str, int, int]:
    return (rule.pack, rule.id, rule.source.path, rule.source.line, rule.source.column)


def _load_one(root: Path, problems: _Problems, loading: tuple[str, ...], memo: _Memo,
              overlay: dict[str, tuple[str, ...]] | None = None) -> Pack | None:
    """Load the pack in ``root`` with the packs it extends and imports. ``overlay`` holds
    vars of an extending pack that replace this pack's own (so its rules use them)."""
    display_root = _pack_io.display_path(root)
    meta_path = root / "pack.yaml"
    if not meta_path.is_file():
        problems.add("CX102", f"no pack.yaml in '{display_root}'", display_root)
        return None
    builder = _PackBuilder(root=root, name=root.name, display_root=display_root,
                           problems=problems)
    meta_display = builder.display(meta_path)
    before = len(problems.items)
    meta_node = _compose(meta_path, meta_display, problems, root)
    if meta_node is None:
        if len(problems.items) == before:
            # Empty, or comments only: not a pack (it loaded as no pack at all, and an
            # extending pack found no problem to name as the cause).
            problems.add("CX111", "pack.yaml is empty: it lacks required keys 'name', "
                         "'version' and 'language'", meta_display)
        return None
    if not isinstance(meta_node, yaml.MappingNode):
        problems.add("CX112", "pack.yaml must be a mapping", meta_display, meta_node)
        return None
    meta = _check_keys(meta_node, _PACK_SCHEMA, "pack.yaml", meta_display, problems)
    name = str(meta["name"].value) if "name" in meta else root.name
    builder.name = name
    requires = str(meta["requires_claimx"].value) if "requires_claimx" in meta else ""
    if requires and _version_tuple(requires) > _version_tuple(__version__):
        problems.add("CX104", f"pack '{name}' requires claimx {requires}, this is {__version__}",
                     meta_display, meta["requires_claimx"])
    own_types, type_veto_nodes = _claim_types_of(meta, meta_display, problems)
    own_categories = _categories_of(meta, meta_display, problems)
    notes: list[PackProblem] = []
    # Problems that leave this pack's later checks incomplete: its own unreadable files
    # (vars may be defined there) and extended or imported packs that do not load.
    file_causes: list[PackProblem] = []
    inherited_causes: list[PackProblem] = []

    # ---- the packs this one extends (everything) and imports (vars and claim types)
    bases: list[tuple[Path, Pack]] = []
    for node in meta["extends"].value if "extends" in meta else []:
        target = str(node.value)
        base_root = _import_root(root, target, meta_display, node, problems, "extends")
        if base_root is None:
            inherited_causes.append(problems.items[-1])
            continue
        key = str(base_root.resolve())
        if key in loading:
            problems.add("CX129", f"pack '{name}' extends '{target}', which extends it back "
                         f"(a cycle)", meta_display, node)
            inherited_causes.append(problems.items[-1])
            continue
        base, cause = _load_ref(base_root, problems, loading, memo)
        if cause is not None or base is None:
            inherited_causes.append(cause or problems.items[-1])
        if base is None:
            continue
        if name in base.calibrations:
            problems.add("CX129", f"pack '{name}' extends a pack of the same name "
                         f"('{target}')", meta_display, node,
                         hint="packs that build on each other need different names")
            continue
        bases.append((base_root, base))
    imported: list[Pack] = []
    for node in meta["imports"].value if "imports" in meta else []:
        target = str(node.value)
        imp_root = _import_root(root, target, meta_display, node, problems)
        if imp_root is None:
            inherited_causes.append(problems.items[-1])
            continue
        if str(imp_root.resolve()) in loading:
            continue  # an import cycle: its vars are being collected already
        sub, cause = _load_ref(imp_root, problems, loading, memo)
        if cause is not None or sub is None:
            inherited_causes.append(cause or problems.items[-1])
        if sub is None:
            continue
        imported.append(sub)
        if any(isinstance(r, ModifierRule) for r in sub.rules) or sub.settings:
            notes.append(PackProblem(
                "CX150", f"imports '{target}' makes its vars and claim types visible, not "
                f"its rules, modifiers or settings", meta_display, node.start_mark.line + 1,
                node.start_mark.column + 1,
                f"to build on '{target}' (its negation, hedging and settings too), write "
                f"`extends: [{target}]`", "warning"))

    # ---- what the pack inherits (a later pack in `extends:` wins over an earlier one)
    inherited_vars: dict[str, tuple[str, ...]] = {}
    claim_types: dict[str, ClaimTypeInfo] = {}
    for sub in imported:
        inherited_vars.update(sub.vars)
        for type_name, info in sub.claim_types.items():
            claim_types.setdefault(type_name, info)
    categories: dict[str, str] = {}
    settings: dict[str, Any] = {}
    calibrations: dict[str, Calibration] = {}
    for _, base in bases:
        inherited_vars.update(base.vars)
        claim_types.update(base.claim_types)
        categories.update(base.modifier_categories)
        settings = _merge_settings(settings, base.settings)
        calibrations.update(base.calibrations)
        notes.extend(n for n in base.notes if n not in notes)
    inherited_types = dict(claim_types)
    claim_types.update(own_types)
    categories.update(own_categories)
    own_settings = _plain(meta["settings"]) if "settings" in meta else {}
    if "settings" in meta:
        for key in _bad_settings(meta["settings"], meta_display, problems):  # type: ignore[arg-type]
            own_settings.pop(key, None)
        # Names that are not strings are reported by _bad_settings; kept out of the merge.
        own_settings = {k: v for k, v in own_settings.items() if isinstance(k, str)}
    settings = _merge_settings(settings, own_settings or {})
    calibration, calibration_priors, calibration_file = _calibration(
        meta.get("calibration"), root, meta_display, problems)
    calibrations[name] = (calibration, calibration_priors)

    # ---- the pack's own files and vars
    files = [p for p in _pack_io.rule_files(root, display_root, problems.items, problems.reads)
             if p.name != "pack.yaml" and p.relative_to(root).as_posix() != calibration_file]
    defs: dict[str, _VarDef] = {}
    rule_lists: list[tuple[str, yaml.Node]] = []
    # What the files' vars and top-level keys get wrong is reported after every file is
    # read, in file order, as a reading stage that kept all trees would report it.
    var_problems = _Problems(reads=problems.reads, texts=problems.texts)
    for path in files:
        display = builder.display(path)
        before = len(problems.items)
        node = _compose(path, display, problems, root)
        if node is None:
            file_causes.extend(problems.items[before:before + 1])
            continue
        if not isinstance(node, yaml.MappingNode):
            problems.add("CX112", "a rule file must be a mapping with `vars:` and/or `rules:`",
                         display, node)
            file_causes.append(problems.items[-1])
            continue
        _take_file_parts(display, node, defs, rule_lists, var_problems)
    node = None  # the last file's tree as well: only its `rules:` node is needed from here
    dependent_from = len(problems.items)
    problems.items.extend(var_problems.items)
    shadowing = {n for sub in imported for n in sub.vars} - {n for _, b in bases for n in b.vars}
    for var_name in defs.keys() & shadowing:
        var = defs[var_name]
        if var.mode == "set":
            notes.append(PackProblem(
                "CX151", f"var '{var_name}' replaces the var of the same name of an imported "
                f"pack", var.display, var.line, var.column,
                f"write `{var_name}: {{extend: [...]}}` to add to it, or choose another name",
                "warning"))
    own_vars = _resolve_vars(defs, inherited_vars, problems)
    builder.vars = {**inherited_vars, **own_vars, **(overlay or {})}
    claim_types = _with_type_vetoes(claim_types, set(own_types), type_veto_nodes, builder.vars,
                                    meta_display, problems, inherited_types)

    # ---- inherited rules, compiled with this pack's vars where it redefines theirs
    down = {**own_vars, **(overlay or {})}
    inherited_rules: dict[tuple[str, str, str, int, int], Rule] = {}
    changes: list[RuleChange] = []
    roots = [str(root.resolve())]
    for base_root, base in bases:
        changed = {k: v for k, v in down.items() if k in base.vars and base.vars[k] != v}
        if changed:
            base = _with_vars(base_root, base, changed, problems, loading)
        for rule in base.rules:
            inherited_rules.setdefault(_rule_key(rule), _with_type_words(rule, claim_types))
        changes.extend(c for c in base.changes if c not in changes)
        roots.extend(r for r in base.roots if r not in roots)
    by_id = {rule.id: rule for rule in inherited_rules.values()}

    # ---- own rules
    own_rules: list[Rule] = []
    known_types = set(claim_types)
    category_names = (*MODIFIER_CATEGORIES, *categories)
    while rule_lists:
        # Taken off the list so that each file's rule nodes go once its rules are built.
        display, rules_node = rule_lists.pop(0)
        if not isinstance(rules_node, yaml.SequenceNode):
            problems.add("CX112", "'rules' must be a list of rules", display, rules_node)
            continue
        for rule_node in rules_node.value:
            if not isinstance(rule_node, yaml.MappingNode):
                problems.add("CX112", "each rule must be a mapping", display, rule_node)
                continue
            own_rule = _compile_rule(rule_node, display, builder, claim_types, known_types,
                                     category_names)
            if own_rule is not None:
                own_rules.append(own_rule)

    # ---- disable: and override: true
    disabled: dict[str, SourceLocation] = {}
    own_ids = {rule.id for rule in own_rules}
    for node in meta["disable"].value if "disable" in meta else []:
        rule_id = str(node.value)
        where = SourceLocation(builder.file_of(meta_display), node.start_mark.line + 1,
                               node.start_mark.column + 1)
        if rule_id in by_id:
            disabled[rule_id] = where
        elif rule_id in own_ids:
            problems.add("CX131", f"'{rule_id}' is a rule of this pack, not of a pack it "
                         f"extends", meta_display, node,
                         hint="set `enabled: false` on the rule to turn it off")
        else:
            close = _closest(rule_id, by_id)
            problems.add("CX131", f"disable: no extended pack has a rule '{rule_id}'",
                         meta_display, node,
                         hint=f"did you mean '{close}'?" if close else
                         ("see `claimx explain --pack PACK` or `claimx packs --json` for rule ids"
                          if bases else "`disable:` turns off rules of the packs in `extends:`"))
    kept_own: list[Rule] = []
    for rule in own_rules:
        original = by_id.get(rule.id)
        if original is not None and not rule.override:
            problems.items.append(PackProblem(
                "CX120", f"rule id '{rule.id}' is already a rule of extended pack "
                f"'{original.pack}' (at {original.source})", _pack_io.display_path(
                    rule.source.path), rule.source.line, rule.source.column,
                "add `override: true` to replace that rule, or choose another id"))
            continue
        if original is None and rule.override:
            close = _closest(rule.id, by_id)
            problems.items.append(PackProblem(
                "CX132", f"rule '{rule.id}' has `override: true`, but no extended pack has a "
                f"rule of that id", _pack_io.display_path(rule.source.path), rule.source.line,
                rule.source.column,
                f"did you mean '{close}'?" if close else "remove `override: true`"))
        if original is not None:
            if rule.id in disabled:
                problems.items.append(PackProblem(
                    "CX131", f"rule '{rule.id}' is both disabled and overridden",
                    _pack_io.display_path(disabled[rule.id].path), disabled[rule.id].line,
                    disabled[rule.id].column, "keep one: remove it from `disable:` or drop "
                    "the overriding rule"))
                del disabled[rule.id]
            changes.append(RuleChange(rule.id, "overridden", name, original.pack,
                                      original.source, rule.source))
        kept_own.append(rule)
    for rule_id, where in disabled.items():
        changes.append(RuleChange(rule_id, "disabled", name, by_id[rule_id].pack,
                                  by_id[rule_id].source, where))
    replaced = {c.rule_id for c in changes if c.pack == name}
    rules = [r for r in inherited_rules.values() if r.id not in replaced] + kept_own

    _skip_dependent(problems, dependent_from, file_causes, inherited_causes)
    return Pack(
        name=name,
        version=str(meta["version"].value) if "version" in meta else "0",
        language=str(meta["language"].value) if "language" in meta else "",
        description=str(meta["description"].value) if "description" in meta else "",
        requires_claimx=requires, path=str(root), claim_types=claim_types, rules=tuple(rules),
        vars=dict(builder.vars), settings=settings, calibration=calibration,
        calibration_priors=calibration_priors, extends=tuple(b.name for _, b in bases),
        changes=tuple(changes), roots=tuple(roots), calibrations=calibrations,
        modifier_categories=categories, notes=tuple(notes))


def _with_vars(base_root: Path, base: Pack, changed: dict[str, tuple[str, ...]],
               problems: _Problems, loading: tuple[str, ...]) -> Pack:
    """``base`` loaded again with the extending pack's values of ``changed`` vars, so its
    rules use them. Its problems were reported by the first load; only new ones (from the
    changed words) are added."""
    scratch = _Problems(reads=problems.reads, texts=problems.texts)
    rebuilt = _load_one(base_root, scratch, loading + (str(base_root.resolve()),), _Memo(),
                        changed)
    seen = set(problems.items)
    problems.items.extend(p for p in scratch.items if p not in seen)
    return rebuilt if rebuilt is not None else base


def _skip_dependent(problems: _Problems, start: int, file_causes: list[PackProblem],
                    inherited_causes: list[PackProblem]) -> None:
    """Drop, from the problems found since ``start``, the checks that a root cause made
    unanswerable (an unknown var when a rule file could not be read: it may define it;
    an unknown type or rule id when an extended pack did not load), and say so on the
    root cause itself: one root cause, one message."""
    skippable = (_NEEDS_INHERITED if inherited_causes else frozenset()) | (
        _NEEDS_VARS if file_causes else frozenset())
    if not skippable:
        return
    dropped = [p for p in problems.items[start:] if p.code in skippable]
    if not dropped:
        return
    problems.items[start:] = [p for p in problems.items[start:] if p.code not in skippable]
    cause = min(file_causes + inherited_causes, key=problem_order)
    kinds = ", ".join(dict.fromkeys(_DEPENDENT_WHAT[p.code] for p in dropped))
    count = len(dropped)
    note = (f"; {count} check{'s' if count != 1 else ''} that depend{'s' if count == 1 else ''}"
            f" on it {'were' if count != 1 else 'was'} skipped ({kinds})")
    for index, problem in enumerate(problems.items):
        if problem == cause:
            problems.items[index] = attrs.evolve(problem, message=problem.message + note)
            break


# Settings read by assemble and sentiment, with the kind of value each needs. Other keys
# pass through unchecked: a later stage or a plug-in may read them.
_SETTINGS_SCHEMA: dict[str, str] = {
    "leading_connectives": "strlist", "subject_suffixes": "strlist", "subject_stops": "strlist",
    "subject_object_markers": "strlist", "subject_not_start": "strlist",
    "subject_not_end": "strlist", "subject_officer_roles": "strlist",
    "subject_weak_suffixes": "strlist", "subject_self_refs": "strlist",
    "subject_name_chars": "strlist", "subject_speech_verbs": "strlist",
    "subject_speaker_roles": "strlist", "subject_time_words": "strlist",
    "merge_gap": "int", "one_type_per_clause": "bool", "causative_verbs": "strlist",
    "complement_frames": "strlist", "scene_clauses": "strlist",
    "negation_factor": "number", "contrast_before": "number",
    "contrast_after": "number", "sentiment_softness": "number", "sentiment_threshold": "number",
    "sentiment_claim_weights": "numbermap", "sentiment_reversal_categories": "strlist",
    "neutral_polarity_categories": "strlist",
}


def _bad_settings(node: yaml.MappingNode, display: str, problems: _Problems) -> list[str]:
    """Report settings whose values the pipeline could not use (they would fail at extract
    time, far from the pack); return their keys so they can be dropped."""
    bad: list[str] = []
    for key, key_node, value in _mapping_items(node):
        if not (isinstance(key_node, yaml.ScalarNode) and key_node.tag == "tag:yaml.org,2002:str"):
            # `null:`, `1:`, `true:`: assembly reads the settings by name (compiled, it
            # checks that each name is a str).
            problems.add("CX112", f"a setting's name must be a string, got {_shorten(key)}",
                         display, key_node, hint="quote it, or remove the setting")
            continue
        if key.startswith("_"):
            # Assembly keeps what it compiles from the settings under such names
            # (`_subject_stop_regex` …): a pack's own would reach it as a regex.
            problems.add("CX110", f"setting '{key}' is reserved: names starting with _ are "
                         "claimx's own", display, key_node, hint="name it without the leading _")
            bad.append(key)
            continue
        kind = _SETTINGS_SCHEMA.get(key)
        if isinstance(value, yaml.MappingNode) and [k for k, _, _ in _mapping_items(value)] == [
                "extend"]:
            # `{extend: [...]}` adds to the list of the packs this one extends.
            value = value.value[0][1]
            if not isinstance(value, yaml.SequenceNode) or kind not in (None, "strlist"):
                problems.add("CX112", f"setting '{key}': `extend:` takes a list, and only "
                             f"list settings can be extended", display, value)
                bad.append(key)
                continue
        if kind is None:
            continue
        if kind == "numbermap":
            ok = isinstance(value, yaml.MappingNode) and all(
                isinstance(v, yaml.ScalarNode) and v.tag in (
                    "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
                and _finite(_scalar(v)) for _, v in value.value)
            if not ok:
                problems.add("CX112", f"setting '{key}' must map claim types to numbers "
                             f"(finite ones: no .nan or .inf)", display, value)
        else:
            ok = _check_value(kind, value, f"settings.{key}", display, problems)
        if ok and kind == "strlist" and not all(
                item.tag == "tag:yaml.org,2002:str" for item in value.value):
            # Assembly sorts these by length: a number or null among them would fail at
            # tagging time, far from the pack.
            problems.add("CX112", f"setting '{key}' must be a list of strings (quote numbers)",
                         display, value)
            ok = False
        if ok and key == "scene_clauses":
            for item in value.value:
                opening, sep, closing = str(item.value).partition("…")
                if not (sep and opening and closing) or "…" in closing:
                    problems.add("CX112", f"setting 'scene_clauses': '{_shorten(item.value)}' "
                                 "must be an opening and a closing word around one …",
                                 display, item, hint="write it as 当…时")
                    ok = False
        if ok and key == "sentiment_softness" and not float(_scalar(value)) > 0:
            problems.add("CX113", "setting 'sentiment_softness' must be above 0", display, value)
            ok = False
        if not ok:
            bad.append(key)
    return bad


def _plain(node: yaml.Node) -> Any:
    return _constructor().construct_document(node) if node is not None else None


def _calibration(node: yaml.Node | None, root: Path, display: str, problems: _Problems
                 ) -> tuple[tuple[tuple[float, float], ...], dict[str, float], str | None]:
    """The pack's confidence calibration: ``points`` ``[[raw, calibrated], …]`` (a monotone
    piecewise-linear map) and fitted per-rule ``priors``. ``calibration:`` in pack.yaml holds
    them inline or names a YAML file of the pack (see claimx/calibration.py).

    Returns (points, priors, file name or None)."""
    if node is None:
        return (), {}, None
    value = _plain(node)
    where, where_node, file_name = display, node, None
    if isinstance(value, str):
        file_name = value
        path = root / value
        where = f"{root.name}/{value}"
        if os.path.isabs(value) or ".." in Path(value).parts or not _pack_io.inside(path, root):
            # Never opened: its keys would otherwise be echoed in the error messages.
            problems.add("CX105", f"calibration file '{value}' is not inside the pack",
                         display, node)
            return (), {}, file_name
        loaded = _compose(path, where, problems, root)
        if loaded is None:
            return (), {}, file_name
        where_node = loaded
        try:
            value = _plain(loaded)
        except Exception as exc:  # noqa: BLE001 - a tag the safe loader refuses, and more
            problems.add("CX127", f"calibration cannot be read as YAML values: "
                         f"{getattr(exc, 'problem', None) or exc}", where, loaded)
            return (), {}, file_name
    points = value.get("points", []) if isinstance(value, dict) else value
    priors_raw = value.get("priors", {}) if isinstance(value, dict) else {}
    try:
        pairs = tuple((float(a), float(b)) for a, b in points or [])
        priors = {str(k): float(v) for k, v in (priors_raw or {}).items()}
    except (TypeError, ValueError, AttributeError, OverflowError):  # 10**400 for a number
        problems.add("CX127", "calibration must hold `points: [[raw, calibrated], …]` and "
                     "`priors: {rule: p}`", where, where_node)
        return (), {}, file_name
    raws = [a for a, _ in pairs]
    if (any(not (0 <= a <= 1 and 0 <= b <= 1) for a, b in pairs) or raws != sorted(raws)
            or any(not 0 <= p <= 1 for p in priors.values())):
        problems.add("CX127", "calibration points and priors must lie in [0, 1], raw increasing",
                     where, where_node)
        return (), {}, file_name
    return pairs, priors, file_name


# --------------------------------------------------------------------------- public loading

# Packs loaded in this process, by folder: the pack and what loading it read (its files,
# its imports' files, its calibration file, the folders listed), so an edit to any of them
# - not only to a file of the pack's own folder - loads it afresh. claimx keeps no cache
# of packs on disk: with libyaml's parser the default pack loads in ~0.07 s.
# The working directory is kept too: problems and rule locations are shown relative to it.
_cache: dict[str, tuple[Pack, _pack_io.Reads, str]] = {}
_cache_lock = threading.Lock()


def load_pack(name_or_path: str | os.PathLike[str]) -> Pack:
    """Load, validate and compile one pack (bundled name, installed name, or folder).

    Raises :class:`~claimx.errors.PackLoadError` listing every problem found. Loaded packs
    are kept per process and loaded again when any file they were read from changes.
    """
    return load_packs([name_or_path])[0]


def load_packs(names_or_paths: Sequence[str | os.PathLike[str]]) -> tuple[Pack, ...]:
    """Load several packs, collecting the problems of all of them before raising.

    Also checks what only shows across packs: a rule id used twice (see
    :func:`active_rules` for how packs loaded together combine).
    """
    with no_full_collections():  # see claimx._gc_pause: a sixth of a cold start
        return _load_packs(names_or_paths)


def _load_packs(names_or_paths: Sequence[str | os.PathLike[str]]) -> tuple[Pack, ...]:
    problems = _Problems()
    packs: list[Pack] = []
    for item in names_or_paths:
        try:
            root = find_pack(item).resolve()
        except PackLoadError as exc:
            problems.items.extend(exc.problems)
            continue
        with _cache_lock:
            cached = _cache.get(str(root))
        if cached is not None and cached[1].current() and cached[2] == os.getcwd():
            packs.append(cached[0])
            continue
        local = _Problems()
        pack = _load_one(root, local, (str(root),), _Memo())
        problems.items.extend(local.items)
        if pack is not None:
            pack = attrs.evolve(pack, files=tuple(local.reads.files))
            # A pack with problems is not kept, but its rule ids still take part in the
            # duplicate check below, so the author sees every problem in one run.
            if not local.items:
                with _cache_lock:
                    _cache[str(root)] = (pack, local.reads, os.getcwd())
            packs.append(pack)
    seen: dict[str, SourceLocation] = {}
    for rule in active_rules(packs):
        if rule.id in seen:
            first = seen[rule.id]
            problems.items.append(PackProblem(
                "CX120", f"rule id '{rule.id}' is used twice (first at {first})",
                _pack_io.display_path(rule.source.path), rule.source.line, rule.source.column,
                CODES["CX120"][1]))
        else:
            seen[rule.id] = rule.source
    if problems.items:
        raise PackLoadError(problems.items)
    return tuple(packs)


def _standalone(packs: Sequence[Pack]) -> list[Pack]:
    """The packs that no other of ``packs`` extends: a pack loaded together with a pack that
    extends it is already part of that pack, with its changes (``zh-business`` next to a
    pack that extends it and disables one of its rules does not bring the rule back)."""
    out: list[Pack] = []
    for index, pack in enumerate(packs):
        own = pack.roots[0] if pack.roots else pack.path
        if any(own in other.roots[1:] for other in packs if other is not pack):
            continue
        if any(other is pack for other in packs[:index]):
            continue  # the same pack named twice
        out.append(pack)
    return out


def active_rules(packs: Sequence[Pack]) -> tuple[Rule, ...]:
    """The rules of ``packs`` loaded together, in pack order.

    A pack that another of ``packs`` extends counts once, through the extending pack. A
    rule two packs inherit from the same pack counts once; a rule one of them disabled or
    overrode is off (or replaced) for all of them. Rule ids are not checked for duplicates
    here (:func:`load_packs` does).
    """
    chosen = _standalone(packs)
    off = {c.rule_id for p in chosen for c in p.changes if c.action == "disabled"}
    replaced = {r.id for p in chosen for r in p.rules if r.override}
    seen: set[tuple[str, str, str, int, int]] = set()
    out: list[Rule] = []
    for pack in chosen:
        for rule in pack.rules:
            key = _rule_key(rule)
            if key in seen:
                continue
            seen.add(key)
            if not rule.override and (rule.id in off or rule.id in replaced) and (
                    rule.pack != pack.name):
                continue
            out.append(rule)
    return tuple(out)


def merged_settings(packs: Sequence[Pack]) -> dict[str, Any]:
    """The settings of ``packs`` loaded together (a pack that another extends counts once,
    through it). List settings are concatenated, first pack first, duplicates dropped;
    mapping settings merge key by key; for a conflicting key or any other setting the first
    pack that sets it wins. (Within one pack that ``extends:`` others, the extending pack
    wins instead: see docs/rule-packs.md.)"""
    settings: dict[str, Any] = {}
    for pack in _standalone(packs):
        for key, value in (pack.settings or {}).items():
            have = settings.get(key)
            if isinstance(value, list) and isinstance(have, list):
                settings[key] = have + [v for v in value if v not in have]
            elif isinstance(value, dict) and isinstance(have, dict):
                settings[key] = {**value, **have}
            else:
                settings.setdefault(key, value)
    return settings


def merged_claim_types(packs: Sequence[Pack]) -> dict[str, ClaimTypeInfo]:
    """The claim types of ``packs`` loaded together; the first pack declaring one wins."""
    out: dict[str, ClaimTypeInfo] = {}
    for pack in _standalone(packs):
        for name, info in pack.claim_types.items():
            out.setdefault(name, info)
    return out


def merged_calibrations(packs: Sequence[Pack]) -> dict[str, Calibration]:
    """Every composed pack's calibration, by pack name (the first pack of a name wins)."""
    out: dict[str, Calibration] = {}
    for pack in _standalone(packs):
        for name, calibration in pack.calibrations.items():
            out.setdefault(name, calibration)
        out.setdefault(pack.name, (pack.calibration, pack.calibration_priors))
    return out
