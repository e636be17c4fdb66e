"""The pipeline object: wires normalise → segment → match → modifiers → assemble (and
sentiment) for a fixed set of compiled packs.

The command line, the spaCy component and the Spark UDFs all wrap :class:`Extractor`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator, Sequence

import attrs

from claimx._gc_pause import no_full_collections
from claimx.assemble import assemble, prepare_settings
from claimx.match import CompiledRules, Hit, MatchResult, RegexBudget, compile_rules, match
from claimx.modifiers import ModifierScope, scopes
from claimx.normalize import NormalizedText, normalize
from claimx.packs import Pack, TokenRule, load_packs
from claimx.segment import Sentence, segment
from claimx.sentiment import score_sentiment
from claimx.types import Claim, Sentiment

__all__ = ["Analysis", "DEFAULT_PACKS", "Extractor"]

DEFAULT_PACKS: tuple[str, ...] = ("zh-business",)

# Placeholder sentiment of an analysis run for claims only (never returned to users).
_NOT_SCORED = Sentiment(label="neutral", score=0.0)

_compiled_cache: dict[tuple[int, ...], tuple[tuple[Pack, ...], CompiledRules, dict]] = {}
_compiled_lock = threading.Lock()


def _compiled_for(packs: tuple[Pack, ...]) -> tuple[CompiledRules, dict]:
    """Compile a set of packs once per process: the same packs share one automaton."""
    key = tuple(id(p) for p in packs)
    with _compiled_lock:
        hit = _compiled_cache.get(key)
        if hit is None:
            with no_full_collections():  # see claimx._gc_pause
                compiled = compile_rules(packs)
            hit = (packs, compiled, prepare_settings(compiled.settings))
            _compiled_cache[key] = hit
    return hit[1], hit[2]


@attrs.frozen(slots=True)
class Analysis:
    """Everything the pipeline saw in one text: the input of ``claimx explain``."""

    normalized: NormalizedText
    sentences: tuple[Sentence, ...]
    matches: MatchResult
    scopes: tuple[ModifierScope, ...]
    claims: tuple[Claim, ...]
    sentiment: Sentiment
    #: The claim cues that yielded no claim, each with the reason (see ``assemble``).
    cancelled: tuple[tuple[Hit, str], ...] = ()


class Extractor:
    """Tags text with the claims defined by a set of rule packs.

    ``packs`` are bundled or installed pack names (``"zh-business"``) or folder paths; they
    are loaded, validated and compiled once. ``extract`` and ``pipe`` are deterministic and
    safe to call from several threads.

    Regular expressions are bounded twice: each call by ``regex_timeout`` seconds, and all
    of one document's (pattern rules and token rules' REGEX) by ``regex_budget`` seconds
    per 100,000 characters (at least ``regex_budget``). Past either, ``on_rule_timeout``
    decides: ``"raise"`` raises :class:`~claimx.errors.RuleTimeoutError`, ``"skip"`` skips
    the sentence (the rest of the document's regexes once the budget is spent).

    >>> ex = Extractor(packs=["zh-business"])              # doctest: +SKIP
    >>> [c.type for c in ex.extract("该公司计划进军海外市场。")]  # doctest: +SKIP
    ['strategic_intent']
    """

    def __init__(self, packs: Sequence[str | os.PathLike[str]] = DEFAULT_PACKS, *,
                 regex_timeout: float = 0.25, on_rule_timeout: str = "raise",
                 segmenter: str = "char", pkuseg_model: str | os.PathLike[str] | None = None,
                 use_calibration: bool = True, regex_budget: float = 1.0) -> None:
        if isinstance(packs, (str, os.PathLike)):
            packs = [packs]
        if on_rule_timeout not in ("raise", "skip"):
            raise ValueError(f"on_rule_timeout must be 'raise' or 'skip', got {on_rule_timeout!r}")
        self.pack_names: tuple[str, ...] = tuple(str(p) for p in packs)
        self.packs: tuple[Pack, ...] = load_packs(list(packs))
        self.regex_timeout = regex_timeout
        self.on_rule_timeout = on_rule_timeout
        self.regex_budget = regex_budget
        self.compiled, self._settings = _compiled_for(self.packs)
        if not use_calibration:  # raw confidences, e.g. to fit a new calibration
            self.compiled = attrs.evolve(self.compiled, calibration=(), priors={},
                                         calibrations={})
        self.segmenter = segmenter
        self.pkuseg_model = pkuseg_model
        # Token rules (spaCy Matcher patterns) need a word segmenter; see claimx/tokens.py.
        self._token_matcher = None
        if any(isinstance(r, TokenRule) for r in self.compiled.rules):
            from claimx.tokens import build_token_matcher

            self._token_matcher = build_token_matcher(self.compiled, segmenter, pkuseg_model)

    def __repr__(self) -> str:
        return f"Extractor(packs={list(self.pack_names)!r})"

    def analyze(self, text: str, *, lead_in: int = 0) -> Analysis:
        """Run every stage on ``text`` and keep what each stage produced.

        The first ``lead_in`` characters are context only: rules that look back a sentence
        (a ``veto`` word in the sentence before a hit) read them, but they yield no claims
        and add nothing to the sentiment. A long text tagged window by window passes the
        sentence before each window this way, and its claims and sentiment come out as
        from one pass over the whole text.
        """
        return self._run(text, with_sentiment=True, lead_in=lead_in)

    def _stages(self, text: str, *, with_sentiment: bool,
                cancelled: list[tuple[Hit, str]] | None = None
                ) -> tuple[NormalizedText, tuple[Sentence, ...], MatchResult,
                           tuple[ModifierScope, ...], list[Claim]]:
        """Normalise, segment, match, scope and assemble ``text``: what both ``analyze``
        and ``extract`` run (``cancelled`` collects the cues that yield no claim)."""
        if not isinstance(text, str):
            raise TypeError(f"claimx reads str, got {type(text).__name__}; decode bytes first")
        doc = normalize(text)
        sentences = segment(doc)
        budget = RegexBudget(len(doc.text), timeout=self.regex_timeout,
                             on_timeout=self.on_rule_timeout, seconds=self.regex_budget)
        found = match(self.compiled, doc.text, sentences, sentiment=with_sentiment,
                      budget=budget)
        if self._token_matcher is not None:
            found = self._token_matcher.add_hits(found, doc, sentences, budget=budget)
        # Without sentiment, only the modifiers near a claim cue matter.
        reach = scopes(found, sentences, claim_sentences_only=not with_sentiment)
        claims = assemble(doc, sentences, found, reach, self.compiled, self._settings,
                          cancelled)
        return doc, sentences, found, reach, claims

    def _run(self, text: str, *, with_sentiment: bool, lead_in: int = 0) -> Analysis:
        cancelled: list[tuple[Hit, str]] = []
        doc, sentences, found, reach, claim_list = self._stages(
            text, with_sentiment=with_sentiment, cancelled=cancelled)
        claims = tuple(claim_list)
        scored = found
        if lead_in > 0:  # context only: no claims, no sentiment from it
            claims = tuple(c for c in claims if c.start >= lead_in)
            cancelled = [(h, why) for h, why in cancelled
                         if doc.to_original(h.start, h.end)[0] >= lead_in]
            scored = attrs.evolve(found, sentiment=tuple(
                h for h in found.sentiment if doc.to_original(h.start, h.end)[0] >= lead_in))
        # Sentiment is a tenth of the work: skipped when only the claims are asked for.
        mood = (score_sentiment(doc, sentences, scored, reach, claims, self._settings)
                if with_sentiment else _NOT_SCORED)
        return Analysis(doc, tuple(sentences), found, reach, claims, mood, tuple(cancelled))

    def extract(self, text: str) -> list[Claim]:
        """The claims in ``text``, sorted by start; offsets index ``text`` itself."""
        # Straight from the stages: no Analysis is built for claims alone.
        return self._stages(text, with_sentiment=False)[4]

    def sentiment(self, text: str) -> Sentiment:
        """Sentence or document sentiment of ``text``."""
        return self.analyze(text).sentiment

    def pipe(self, texts: Iterable[str]) -> Iterator[list[Claim]]:
        """Extract from many texts lazily, in order."""
        for text in texts:
            yield self.extract(text)


_default: Extractor | None = None
_default_lock = threading.Lock()


def default_extractor() -> Extractor:
    """The process-wide extractor with the default packs, built on first use."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = Extractor()
    return _default
