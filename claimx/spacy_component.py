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

A saved pipeline is self-contained, as spaCy's ``SpanRuler`` writes its patterns:
``nlp.to_disk`` (and ``nlp.to_bytes``) writes the files of every pack given as a folder —
with the folders they extend or import, in the same layout — into the component's
directory, and ``spacy.load`` builds the component from those copies, from any working
directory, after the original folders are gone. Packs named by name (the bundled
``zh-business``, a pack installed as a package) are referred to by name.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc, Span

from claimx.errors import PackLoadError
from claimx.pipeline import DEFAULT_PACKS, Extractor
from claimx.tokens import SEGMENTERS
from claimx.types import Claim, Evidence, Sentiment
from claimx.types import Span as ClaimSpan

__all__ = ["ClaimxComponent", "claim_from_data", "claim_to_data", "make_claimx_component"]

_ID_PREFIX = "claimx/"
#: The component's files in a saved pipeline: which pack was saved where, and the copies.
_MANIFEST = "packs.json"
_PACKS_DIR = "packs"
#: Set in ``nlp.meta`` by the factory: a pipeline loaded from disk carries its packs, so a
#: pack folder missing at construction is looked for in the saved copies instead.
_META_KEY = "claimx"

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
        # The pack files a saved pipeline carried (relative path -> bytes) and where each
        # configured pack is among them; None until from_disk / from_bytes.
        self._saved: dict[str, Any] | None = None
        self._missing: PackLoadError | None = None
        try:
            self.extractor: Extractor | None = self._extractor_for(self.packs)
        except PackLoadError as exc:
            # spacy.load builds the component before from_disk hands it the saved packs:
            # a pack folder that is gone is then found in the pipeline's own copies.
            if nlp is None or not nlp.meta.get(_META_KEY, {}).get("packs_saved") or not all(
                    p.code == "CX103" for p in exc.problems):
                raise
            self.extractor, self._missing = None, exc
        if nlp is not None:
            nlp.meta.setdefault(_META_KEY, {})["packs_saved"] = True
        _register_extensions()

    def _extractor_for(self, packs: Sequence[str]) -> Extractor:
        return Extractor(list(packs), segmenter=self.segmenter, pkuseg_model=self.pkuseg_model)

    def __repr__(self) -> str:
        return f"ClaimxComponent(packs={self.packs!r}, spans_key={self.spans_key!r})"

    def __call__(self, doc: Doc) -> Doc:
        """Tag ``doc``: claims into its span group, sentiment into ``doc._.claimx_sentiment``."""
        if self.extractor is None:
            assert self._missing is not None
            raise self._missing
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

    # ------------------------------------------------------------------ serialisation

    def _payload(self) -> dict[str, Any]:
        """The packs as data: for each configured pack, its name (a bundled or installed
        pack) or where its copy sits among ``files`` (relative path -> bytes), which hold
        every file its loading read, in the folders' own layout."""
        if self._saved is not None:
            return self._saved
        assert self.extractor is not None
        from claimx.packs import _bundled_root, available_packs

        named_roots = [os.path.realpath(_bundled_root())]
        named_roots += [os.path.realpath(p) for p in available_packs().values()]

        def by_name(path: str) -> bool:
            return any(Path(path).is_relative_to(root) for root in named_roots)

        loaded = list(self.extractor.packs)
        folders = [os.path.realpath(p.path) for p in loaded]
        files = sorted({f for p in loaded for f in p.files if not by_name(f)})
        copied = [f for f in folders if not by_name(f)]
        common = os.path.commonpath([os.path.dirname(f) for f in files] + copied) if copied else ""
        entries = []
        for ref, pack, folder in zip(self.packs, loaded, folders):
            if by_name(folder):
                entries.append({"given": ref, "name": pack.name})
            else:
                entries.append({"given": ref, "name": pack.name,
                                "saved": Path(os.path.relpath(folder, common)).as_posix()})
        data = {os.path.relpath(f, common): Path(f).read_bytes() for f in files}
        return {"packs": entries, "files": data}

    def _restore(self, payload: dict[str, Any]) -> None:
        """Build the extractor from saved pack files (written to a temporary folder, read,
        then removed: the extractor keeps everything it needs in memory)."""
        with tempfile.TemporaryDirectory(prefix="claimx-packs-") as tmp:
            root = Path(tmp)
            for relative, data in payload["files"].items():
                target = root / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            refs = [str(root / e["saved"]) if "saved" in e else e["name"]
                    for e in payload["packs"]]
            self.extractor = self._extractor_for(refs)
        self._saved, self._missing = payload, None

    def to_disk(self, path: str | os.PathLike[str], *, exclude: Iterable[str] = ()) -> None:
        """Write the packs into ``path`` (see the module docstring): ``packs.json`` says
        which configured pack is where, ``packs/`` holds the copies."""
        payload = self._payload()
        folder = Path(path)
        if folder.exists():
            shutil.rmtree(folder)
        (folder / _PACKS_DIR).mkdir(parents=True)
        for relative, data in payload["files"].items():
            target = folder / _PACKS_DIR / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        manifest = {"packs": payload["packs"], "files": sorted(payload["files"])}
        (folder / _MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2),
                                        encoding="utf-8")

    def from_disk(self, path: str | os.PathLike[str], *, exclude: Iterable[str] = ()
                  ) -> ClaimxComponent:
        """Load the packs :meth:`to_disk` wrote (a pipeline saved before claimx wrote them
        keeps the packs it was built with)."""
        folder = Path(path)
        manifest_path = folder / _MANIFEST
        if not manifest_path.is_file():
            return self
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        files = {name: (folder / _PACKS_DIR / name).read_bytes() for name in manifest["files"]}
        self._restore({"packs": manifest["packs"], "files": files})
        return self

    def to_bytes(self, *, exclude: Iterable[str] = ()) -> bytes:
        """The packs as bytes (``nlp.to_bytes``), as :meth:`to_disk` writes them."""
        import srsly

        return srsly.msgpack_dumps(self._payload())

    def from_bytes(self, data: bytes, *, exclude: Iterable[str] = ()) -> ClaimxComponent:
        """Load the packs :meth:`to_bytes` wrote."""
        import srsly

        self._restore(srsly.msgpack_loads(data))
        return self

    def __getstate__(self) -> dict[str, Any]:
        # The extractor is rebuilt from data rather than pickled with its automaton; a
        # component loaded from a saved pipeline carries the saved pack files along.
        return {"name": self.name, "packs": self.packs, "spans_key": self.spans_key,
                "segmenter": self.segmenter, "pkuseg_model": self.pkuseg_model,
                "saved": self._saved}

    def __setstate__(self, state: dict[str, Any]) -> None:
        if state.get("saved") is None:
            self.__init__(None, state["name"], packs=state["packs"],  # type: ignore[misc]
                          spans_key=state["spans_key"], segmenter=state["segmenter"],
                          pkuseg_model=state["pkuseg_model"])
            return
        self.name, self.packs = state["name"], state["packs"]
        self.spans_key, self.segmenter = state["spans_key"], state["segmenter"]
        self.pkuseg_model = state["pkuseg_model"]
        self._saved, self._missing, self.extractor = None, None, None
        _register_extensions()
        self._restore(state["saved"])


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
