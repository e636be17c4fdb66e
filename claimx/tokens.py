"""Token-level rules: spaCy ``Matcher`` patterns run over words from a Chinese segmenter.

A ``tokens`` rule states a construction over words (``[{"ORTH": "拟"}, {"ORTH": {"IN":
["收购", "并购"]}}]``) instead of characters. Words come from one of three segmenters:

``char``
    No word segmenter (the default). Token rules cannot run; :func:`build_token_matcher`
    warns once, naming them (:class:`TokenRulesInactiveWarning`), and they never fire.
``jieba``
    jieba's dictionary ships inside the ``jieba`` wheel, so it works offline. One jieba
    tokenizer is shared by the process; it is initialised on first use, without jieba's
    "Building prefix dict" chatter.
``pkuseg``
    spacy-pkuseg with a model directory the caller supplies (``pkuseg_model=``). The
    pre-trained models (``spacy_ontonotes``, ``mixed`` …) are downloaded by spacy-pkuseg
    from its GitHub releases; download one where you have network, unpack it, and pass the
    folder (it holds ``features.msgpack`` and ``weights.npz``). ``spacy_pkuseg.train`` writes
    the same layout for a model trained on your own segmented text.

Segmentation is lazy: only sentences in which an anchor of some token rule occurs are
segmented, and a rule's matches count only in sentences holding one of *its* anchors, so
adding token rules leaves the cost of every other sentence unchanged.

Words are put into a spaCy ``Doc`` built on the vocabulary of ``spacy.blank("zh")``: lexical
attributes (ORTH, LOWER, LENGTH, IS_PUNCT, LIKE_NUM, REGEX, IN …) work; POS, TAG, LEMMA, DEP
and ENT_TYPE are never set (there is no tagger) and patterns using them cannot match.

A ``REGEX`` predicate is not left to spaCy, whose ``re`` has no timeout (a catastrophic
pattern took 9 s on one 30-character word, doubling per character): it runs with the
``regex`` module under the same per-call timeout and per-document budget as pattern rules
(:class:`claimx.match.RegexBudget`), through a token extension attribute standing in for it.
"""

from __future__ import annotations

import bisect
import hashlib
import logging
import os
import threading
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs
import regex

from claimx.errors import PackLoadError, PackProblem, RuleTimeoutError
from claimx.match import CompiledRules, Hit, MatchResult, RegexBudget
from claimx.normalize import NormalizedText
from claimx.packs import TokenRule
from claimx.segment import Sentence

__all__ = [
    "SEGMENTERS",
    "TokenMatcher",
    "TokenRulesInactiveWarning",
    "build_token_matcher",
    "segment_words",
]

SEGMENTERS: tuple[str, ...] = ("char", "jieba", "pkuseg")

# Token attributes that only a tagger / parser / NER would set; blank("zh") has none.
_UNSET_ATTRS = frozenset({"POS", "TAG", "LEMMA", "DEP", "ENT_TYPE", "MORPH"})


class TokenRulesInactiveWarning(UserWarning):
    """Token rules were loaded but no word segmenter is configured, so they never fire."""


# --------------------------------------------------------------------------- segmenters

WordCutter = Callable[[str], list[str]]

_jieba_tokenizer: Any = None
_jieba_lock = threading.Lock()


def _jieba_cutter() -> WordCutter:
    """jieba's ``lcut`` on a process-wide tokenizer, initialised once and quietly."""
    global _jieba_tokenizer
    if _jieba_tokenizer is None:
        with _jieba_lock:
            if _jieba_tokenizer is None:
                import jieba

                tokenizer = jieba.Tokenizer()
                # jieba logs "Building prefix dict …" at DEBUG to stderr on initialisation;
                # a library must not print, so silence its logger for this call only.
                logger = logging.getLogger("jieba")
                level = logger.level
                logger.setLevel(logging.WARNING)
                try:
                    tokenizer.initialize()
                finally:
                    logger.setLevel(level)
                _jieba_tokenizer = tokenizer
    tokenizer = _jieba_tokenizer
    return lambda text: tokenizer.lcut(text, HMM=True)


_pkuseg_cache: dict[str, Any] = {}
_pkuseg_lock = threading.Lock()


def _pkuseg_cutter(model: str | os.PathLike[str] | None) -> WordCutter:
    """spacy-pkuseg's ``cut`` with the model in the folder ``model`` (loaded once per folder)."""
    if model is None:
        raise ValueError(
            "segmenter='pkuseg' needs pkuseg_model=<model folder>: spacy-pkuseg downloads its "
            "pre-trained models from GitHub releases, which claimx never does for you; "
            "download one (e.g. spacy_ontonotes), unpack it and pass the folder")
    folder = Path(model).expanduser()
    if not (folder / "features.msgpack").is_file():
        raise ValueError(f"pkuseg_model {str(folder)!r} is not a spacy-pkuseg model folder "
                         "(it must hold features.msgpack and weights.npz)")
    key = str(folder.resolve())
    with _pkuseg_lock:
        segmenter = _pkuseg_cache.get(key)
        if segmenter is None:
            import spacy_pkuseg

            # spacy-pkuseg keeps the model folder in a module-global config while loading;
            # the lock keeps two loads from interleaving.
            segmenter = spacy_pkuseg.pkuseg(model_name=key)
            _pkuseg_cache[key] = segmenter
    return segmenter.cut


def _cutter(segmenter: str, pkuseg_model: str | os.PathLike[str] | None) -> WordCutter | None:
    if segmenter == "char":
        return None
    if segmenter == "jieba":
        return _jieba_cutter()
    if segmenter == "pkuseg":
        return _pkuseg_cutter(pkuseg_model)
    raise ValueError(f"segmenter must be one of {', '.join(SEGMENTERS)}; got {segmenter!r}")


def segment_words(text: str, segmenter: str = "jieba",
                  pkuseg_model: str | os.PathLike[str] | None = None) -> list[tuple[int, int]]:
    """Word spans ``(start, end)`` of ``text`` as cut by ``segmenter``; whitespace is skipped.

    >>> segment_words("公司拟收购工厂")   # doctest: +SKIP
    [(0, 2), (2, 3), (3, 5), (5, 7)]
    """
    cut = _cutter(segmenter, pkuseg_model)
    if cut is None:
        return [(i, i + 1) for i, ch in enumerate(text) if not ch.isspace()]
    return _align(text, cut(text))


def _align(text: str, words: Sequence[str]) -> list[tuple[int, int]]:
    """Character spans of ``words`` in ``text``.

    Segmenters may drop whitespace (pkuseg strips and splits on it) but never reorder or
    rewrite characters; a word that cannot be found (it should not happen) is skipped
    rather than allowed to shift every later offset.
    """
    spans: list[tuple[int, int]] = []
    cursor = 0
    for word in words:
        word = word.strip()
        if not word:
            continue
        if text.startswith(word, cursor):
            start = cursor
        else:
            start = text.find(word, cursor)
            if start < 0 or text[cursor:start].strip():
                continue
        spans.append((start, start + len(word)))
        cursor = start + len(word)
    return spans


# --------------------------------------------------------------------------- matcher


# A spaCy vocabulary keeps every word it has seen; over an endless stream of text that is
# unbounded memory. Past this many strings the matcher starts over with a fresh vocabulary.
MAX_VOCAB_STRINGS = 200_000


def _zh_vocab() -> Any:
    """A fresh vocabulary of ``spacy.blank("zh")`` (Chinese lexical attributes)."""
    import spacy

    return spacy.blank("zh").vocab


class TokenMatcher:
    """Runs the token rules of a set of compiled packs over segmented sentences.

    Built by :func:`build_token_matcher`; :class:`claimx.Extractor` calls :meth:`add_hits`
    after the character-level matching stage.
    """

    def __init__(self, rules: Sequence[TokenRule], segmenter: str,
                 pkuseg_model: str | os.PathLike[str] | None = None) -> None:
        self.rules: tuple[TokenRule, ...] = tuple(rules)
        self.segmenter = segmenter
        self.pkuseg_model = pkuseg_model
        self._cut = _cutter(segmenter, pkuseg_model)
        self.active = self._cut is not None
        self._by_id = {r.id: r for r in self.rules}
        # spaCy's vocabulary and string store are not thread-safe; Extractor.extract is.
        self._lock = threading.Lock()
        self._matcher: Any = None
        self._vocab: Any = None
        if self.active:
            self._renew(warn=True)

    def _renew(self, warn: bool = False) -> None:
        self._vocab = _zh_vocab()
        self._matcher = _compile_patterns(self._vocab, self.rules, warn=warn)

    def __repr__(self) -> str:
        state = "active" if self.active else "inactive"
        return f"TokenMatcher({len(self.rules)} rules, segmenter={self.segmenter!r}, {state})"

    def add_hits(self, found: MatchResult, doc: NormalizedText,
                 sentences: Sequence[Sentence], *,
                 budget: RegexBudget | None = None) -> MatchResult:
        """``found`` with the token rules' hits added to ``claim_cues`` (normalised offsets).

        Only sentences holding an anchor of some token rule are segmented. ``budget``
        bounds the time of the rules' REGEX predicates on this document.
        """
        if not self.active or not found.token_anchors:
            return found
        hits = self.hits(doc.text, sentences, found.token_anchors, budget=budget)
        if not hits:
            return found
        cues = sorted((*found.claim_cues, *hits), key=lambda h: (h.start, h.end, h.rule.id))
        return attrs.evolve(found, claim_cues=tuple(cues))

    def hits(self, text: str, sentences: Sequence[Sentence],
             anchors: dict[str, tuple[int, ...]], *,
             budget: RegexBudget | None = None) -> list[Hit]:
        """Token-rule hits in ``text`` (normalised); ``anchors`` maps rule id → anchor starts."""
        from spacy.tokens import Doc

        if budget is None:
            budget = RegexBudget(len(text))

        anchor_lists = {rid: list(pos) for rid, pos in anchors.items() if rid in self._by_id}
        if not anchor_lists:
            return []
        hits: list[Hit] = []
        for sentence in sentences:
            # Rules with an anchor inside this sentence; the others may not fire here.
            live = {rid for rid, pos in anchor_lists.items() if _any_in(pos, sentence.start, sentence.end)}
            if not live:
                continue
            piece = text[sentence.start:sentence.end]
            spans = _align(piece, self._cut(piece))  # type: ignore[misc]
            if not spans:
                continue
            words = [piece[s:e] for s, e in spans]
            # spaces: does whitespace follow the word? Doc.text then reproduces the piece
            # up to runs of whitespace, which we never read back: offsets come from `spans`.
            spaces = [spans[i][1] < (spans[i + 1][0] if i + 1 < len(spans) else len(piece))
                      for i in range(len(spans))]
            with self._lock:
                if len(self._vocab.strings) > MAX_VOCAB_STRINGS:
                    self._renew()
                words_doc = Doc(self._vocab, words=words, spaces=spaces)
                _regex_context.budget = budget
                _regex_context.offset = sentence.start
                try:
                    matches = self._matcher(words_doc)
                finally:
                    _regex_context.budget = None
                names = [(self._vocab.strings[key], start, end) for key, start, end in matches]
            for rid, first, last in names:
                if rid not in live or last <= first:
                    continue
                start = sentence.start + spans[first][0]
                end = sentence.start + spans[last - 1][1]
                hits.append(Hit(start, end, self._by_id[rid]))
        return hits


def _any_in(positions: list[int], start: int, end: int) -> bool:
    k = bisect.bisect_left(positions, start)
    return k < len(positions) and positions[k] < end


# The budget of the document being matched, for the REGEX getters (spaCy calls them from
# inside the Matcher, which takes no extra arguments); set around each Matcher call.
_regex_context = threading.local()

# Token attributes a REGEX predicate may test, and the Token property holding each as text.
_TEXT_ATTRS = {"ORTH": "text", "TEXT": "text", "LOWER": "lower_", "NORM": "norm_",
               "SHAPE": "shape_", "LEMMA": "lemma_", "POS": "pos_", "TAG": "tag_",
               "DEP": "dep_", "ENT_TYPE": "ent_type_", "MORPH": "morph"}


def _timed_regex(rule: TokenRule, patterns: Sequence[Sequence[dict[str, Any]]]
                 ) -> list[list[dict[str, Any]]]:
    """``patterns`` with each string ``REGEX`` predicate replaced by a token extension
    attribute whose getter runs the expression with the ``regex`` module, under the
    document's :class:`RegexBudget`. Other predicates (and a REGEX that is not a string,
    which spaCy's validator then reports) stay as they are."""
    from spacy.tokens import Token

    out: list[list[dict[str, Any]]] = []
    for pi, pattern in enumerate(patterns):
        tokens: list[dict[str, Any]] = []
        for ti, token in enumerate(pattern):
            token = dict(token)
            for key, value in list(token.items()):
                if not (isinstance(value, dict) and isinstance(value.get("REGEX"), str)
                        and key.upper() in _TEXT_ATTRS):
                    continue
                rest = {k: v for k, v in value.items() if k != "REGEX"}
                if rest:
                    token[key] = rest
                else:
                    del token[key]
                digest = hashlib.sha1(f"{rule.id}\0{pi}\0{ti}\0{key}\0{value['REGEX']}"
                                      .encode("utf-8", "surrogatepass")).hexdigest()[:16]
                name = f"claimx_regex_{digest}"
                getter = _regex_getter(rule, regex.compile(value["REGEX"]),
                                       _TEXT_ATTRS[key.upper()])
                Token.set_extension(name, getter=getter, force=True)
                underscore = token.get("_")
                extra = underscore if isinstance(underscore, dict) else {}
                token["_"] = {**extra, name: True}
            tokens.append(token)
        out.append(tokens)
    return out


def _regex_getter(rule: TokenRule, expression: Any, attr: str) -> Callable[[Any], bool]:
    def search(token: Any) -> bool:
        budget: RegexBudget | None = getattr(_regex_context, "budget", None)
        timeout = budget.next_timeout() if budget is not None else 0.25
        value = str(getattr(token, attr))
        try:
            if timeout <= 0:
                raise TimeoutError
            try:
                return expression.search(value, timeout=timeout) is not None
            except TimeoutError:
                if budget is None:
                    raise
                # Timed out on other threads' CPU time, perhaps (see run_on_own_clock).
                return budget.run_again(
                    lambda allowed: expression.search(value, timeout=allowed) is not None,
                    timeout)
        except TimeoutError:
            on_timeout = budget.on_timeout if budget is not None else "raise"
            if on_timeout == "raise":
                spent_budget = (budget.seconds if budget is not None and budget.spent()
                                else None)
                raise RuleTimeoutError(rule.id, str(rule.source), timeout,
                                       getattr(_regex_context, "offset", 0) + token.idx,
                                       budget=spent_budget) from None
            return False
    return search


def _compile_patterns(vocab: Any, rules: Sequence[TokenRule], warn: bool = True) -> Any:
    """One spaCy Matcher holding every rule's patterns under the rule id.

    spaCy validates each pattern fully here; its complaints become located pack problems.
    ``greedy="LONGEST"`` keeps the longest of overlapping matches of one rule, so an
    ``OP: "+"`` token yields one hit, not one per possible length.
    """
    from spacy.matcher import Matcher

    matcher = Matcher(vocab, validate=True)
    problems: list[PackProblem] = []
    for rule in rules:
        where = rule.source
        try:
            matcher.add(rule.id, _timed_regex(rule, rule.patterns), greedy="LONGEST")
        except (ValueError, KeyError, TypeError, regex.error) as exc:  # spaCy raises MatchPatternError (a ValueError)
            problems.append(PackProblem(
                "CX113", f"token patterns of rule '{rule.id}' rejected by spaCy: "
                f"{' '.join(str(exc).split())}", str(where.path) if where else rule.pack,
                where.line if where else 0, where.column if where else 0,
                "see spaCy's Matcher token attributes (ORTH, LOWER, REGEX, IN, OP)"))
            continue
        unset = sorted({key.upper() for p in rule.patterns for t in p for key in t}
                       & _UNSET_ATTRS)
        if unset and warn:
            warnings.warn(f"token rule '{rule.id}' uses {', '.join(unset)}, which claimx's "
                          "segmenters never set (no tagger); those tokens cannot match",
                          stacklevel=2)
    if problems:
        raise PackLoadError(problems)
    return matcher


def build_token_matcher(compiled: CompiledRules, segmenter: str = "char",
                        pkuseg_model: str | os.PathLike[str] | None = None) -> TokenMatcher:
    """The token matcher for the token rules in ``compiled``.

    With ``segmenter="char"`` the matcher is inactive: it warns once, now, with
    :class:`TokenRulesInactiveWarning` naming the rules, and adds no hits. ``jieba`` and
    ``pkuseg`` (with ``pkuseg_model``) activate it. spaCy is imported only when active.
    """
    if segmenter not in SEGMENTERS:
        raise ValueError(f"segmenter must be one of {', '.join(SEGMENTERS)}; got {segmenter!r}")
    rules = [r for r in compiled.rules if isinstance(r, TokenRule)]
    matcher = TokenMatcher(rules, segmenter, pkuseg_model)
    if not matcher.active and rules:
        names = ", ".join(r.id for r in rules)
        warnings.warn(
            f"{len(rules)} token rule(s) inactive without a word segmenter: {names}. "
            "Pass segmenter='jieba' (or 'pkuseg' with pkuseg_model=<folder>) to use them.",
            TokenRulesInactiveWarning, stacklevel=3)
    return matcher
