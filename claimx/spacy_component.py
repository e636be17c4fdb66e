"""The ``claimx`` spaCy pipeline component.

>>> import spacy                                                  # doctest: +SKIP
>>> nlp = spacy.blank("zh")                                       # doctest: +SKIP
>>> nlp.add_pipe("claimx", config={"packs": ["zh-business"]})    # doctest: +SKIP
>>> doc = nlp("星河科技计划明年新建两座数据中心。")                  # doctest: +SKIP
>>> [(s.label_, s.text, s._.claim.modality) for s in doc.spans["claims"]]  # doctest: +SKIP

The component wraps :class:`claimx.Extractor` and runs it on ``doc.text``, so it finds
exactly the claims :func:`claimx.extract` finds, whatever tokenizer the pipeline uses.
Each claim becomes a span of ``doc.spans[spans_key]`` labelled with its type; a claim's
character span is widened to the tokens covering it, and the exact offsets stay on
``span._.claim``. ``doc._.claimx_sentiment`` holds the sentiment of the text.

Claims are stored in ``doc.user_data`` as plain data (via the ``doc._.claimx_data``
extension) and rebuilt into :class:`~claimx.Claim` values by the ``span._.claim`` getter:
``Doc.to_bytes`` — used by ``nlp.pipe(n_process=2)`` and ``DocBin`` — serialises user data
with msgpack, which cannot hold arbitrary Python objects.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc, Span

from claimx.pipeline import DEFAULT_PACKS, Extractor
from claimx.tokens import SEGMENTERS
from claimx.types import Claim, Evidence, Sentiment
from claimx.types import Span as ClaimSpan

__all__ = ["ClaimxComponent", "claim_from_data", "claim_to_data", "make_claimx_component"]

_ID_PREFIX = "claimx/"

DEFAULT_CONFIG: dict[str, Any] = {
    "packs": list(DEFAULT_PACKS),
    "spans_key": "claims",
    "segmenter": "char",
    "pkuseg_model": None,
}


# --------------------------------------------------------------------------- plain data


def _span_data(span: ClaimSpan) -> list[Any]:
    return [span.start, span.end, span.text, span.label, span.rule]


def _span_value(data: Sequence[Any]) -> ClaimSpan:
    start, end, text, label, rule = data
    return ClaimSpan(start, end, text, label, rule)


def claim_to_data(claim: Claim) -> dict[str, Any]:
    """``claim`` as msgpack-safe plain data, exact (unlike ``to_dict``, nothing is rounded)."""
    ev = claim.evidence
    return {"type": str(claim.type), "start": claim.start, "end": claim.end, "text": claim.text,
            "polarity": claim.polarity.value, "modality": claim.modality.value,
            "subject": claim.subject, "confidence": claim.confidence,
            "rules": list(claim.rules),
            "cues": [_span_data(s) for s in ev.cues],
            "modifiers": [_span_data(s) for s in ev.modifiers],
            "steps": list(ev.confidence_steps)}


def claim_from_data(data: dict[str, Any]) -> Claim:
    """The :class:`~claimx.Claim` that :func:`claim_to_data` turned into ``data``."""
    evidence = Evidence(cues=tuple(_span_value(s) for s in data["cues"]),
                        modifiers=tuple(_span_value(s) for s in data["modifiers"]),
                        confidence_steps=tuple(data["steps"]))
    return Claim(type=data["type"], start=data["start"], end=data["end"], text=data["text"],
                 polarity=data["polarity"], modality=data["modality"], subject=data["subject"],
                 confidence=data["confidence"], rules=tuple(data["rules"]), evidence=evidence)


def _sentiment_to_data(mood: Sentiment) -> dict[str, Any]:
    return {"label": mood.label.value, "score": mood.score,
            "evidence": [_span_data(s) for s in mood.evidence]}


def _sentiment_from_data(data: dict[str, Any]) -> Sentiment:
    return Sentiment(label=data["label"], score=data["score"],
                     evidence=tuple(_span_value(s) for s in data["evidence"]))


# --------------------------------------------------------------------------- extensions


def _claim_of_span(span: Span) -> Claim | None:
    """Getter of ``span._.claim``: the claim a span of a claimx span group stands for."""
    ident = span.id_
    if not ident.startswith(_ID_PREFIX):
        return None
    key, _, index = ident[len(_ID_PREFIX):].rpartition("/")
    data = span.doc._.claimx_data
    if not data or key not in data["claims"]:
        return None
    return claim_from_data(data["claims"][key][int(index)])


def _sentiment_of_doc(doc: Doc) -> Sentiment | None:
    """Getter of ``doc._.claimx_sentiment``."""
    data = doc._.claimx_data
    if not data or data.get("sentiment") is None:
        return None
    return _sentiment_from_data(data["sentiment"])


def _register_extensions() -> None:
    """Register the extensions once per process (idempotent; called by the factory)."""
    if not Doc.has_extension("claimx_data"):
        Doc.set_extension("claimx_data", default=None)
    if not Doc.has_extension("claimx_sentiment"):
        Doc.set_extension("claimx_sentiment", getter=_sentiment_of_doc)
    if not Span.has_extension("claim"):
        Span.set_extension("claim", getter=_claim_of_span)


# --------------------------------------------------------------------------- component


class ClaimxComponent:
    """Adds claimx claims to ``doc.spans[spans_key]`` and sentiment to ``doc._.claimx_sentiment``.

    Built by the ``claimx`` factory; see the module docstring. Rebuilt from its
    configuration when pickled (``nlp.pipe(n_process=…)`` with the spawn start method).
    """

    def __init__(self, nlp: Language | None = None, name: str = "claimx", *,
                 packs: Sequence[str | os.PathLike[str]] = DEFAULT_PACKS,
                 spans_key: str = "claims", segmenter: str = "char",
                 pkuseg_model: str | os.PathLike[str] | None = None) -> None:
        if not spans_key:
            raise ValueError("spans_key must be a non-empty string")
        # Checked here too: the extractor only looks at the segmenter when a pack has token
        # rules, and a typo in a saved config.cfg should fail when the pipeline is loaded.
        if segmenter not in SEGMENTERS:
            raise ValueError(f"segmenter must be one of {', '.join(SEGMENTERS)}; got {segmenter!r}")
        self.name = name
        self.packs: list[str] = [str(p) for p in ([packs] if isinstance(packs, (str, os.PathLike))
                                                  else packs)]
        self.spans_key = spans_key
        self.segmenter = segmenter
        self.pkuseg_model = None if pkuseg_model is None else str(pkuseg_model)
        self.extractor = Extractor(self.packs, segmenter=segmenter, pkuseg_model=self.pkuseg_model)
        _register_extensions()

    def __repr__(self) -> str:
        return f"ClaimxComponent(packs={self.packs!r}, spans_key={self.spans_key!r})"

    def __call__(self, doc: Doc) -> Doc:
        """Tag ``doc``: claims into its span group, sentiment into ``doc._.claimx_sentiment``."""
        analysis = self.extractor.analyze(doc.text)
        spans: list[Span] = []
        for i, claim in enumerate(analysis.claims):
            span = doc.char_span(claim.start, claim.end, label=str(claim.type),
                                 alignment_mode="expand",
                                 span_id=f"{_ID_PREFIX}{self.spans_key}/{i}")
            if span is not None:  # None only for a claim over no token at all
                spans.append(span)
        doc.spans[self.spans_key] = spans
        data = doc._.claimx_data or {"claims": {}, "sentiment": None}
        data["claims"][self.spans_key] = [claim_to_data(c) for c in analysis.claims]
        data["sentiment"] = _sentiment_to_data(analysis.sentiment)
        doc._.claimx_data = data
        return doc

    def __getstate__(self) -> dict[str, Any]:
        # The extractor is rebuilt from data rather than pickled with its automaton.
        return {"name": self.name, "packs": self.packs, "spans_key": self.spans_key,
                "segmenter": self.segmenter, "pkuseg_model": self.pkuseg_model}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(None, state["name"], packs=state["packs"],  # type: ignore[misc]
                      spans_key=state["spans_key"], segmenter=state["segmenter"],
                      pkuseg_model=state["pkuseg_model"])


@Language.factory(
    "claimx",
    default_config=DEFAULT_CONFIG,
    assigns=["doc.spans", "doc._.claimx_data", "doc._.claimx_sentiment"],
)
def make_claimx_component(nlp: Language, name: str, packs: list[str], spans_key: str,
                          segmenter: str, pkuseg_model: str | None) -> ClaimxComponent:
    """Factory of the ``claimx`` component (``nlp.add_pipe("claimx", config={...})``).

    Config: ``packs`` (pack names or folders, default ``["zh-business"]``), ``spans_key``
    (default ``"claims"``), ``segmenter`` (``char`` / ``jieba`` / ``pkuseg``) and
    ``pkuseg_model`` (a spacy-pkuseg model folder, for ``segmenter="pkuseg"``).
    """
    return ClaimxComponent(nlp, name, packs=packs, spans_key=spans_key, segmenter=segmenter,
                           pkuseg_model=pkuseg_model)
