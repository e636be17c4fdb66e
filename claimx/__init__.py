"""claimx: tag Chinese business prose with typed claims, driven by YAML rule packs.

>>> import claimx
>>> for c in claimx.extract("公司计划明年进军东南亚市场，但面临汇率风险。"):   # doctest: +SKIP
...     print(c.type, c.text, c.modality)

The public API is what ``__all__`` lists; everything else is internal.
"""

from __future__ import annotations

__version__ = "0.1.0"

# First: whether the modules compiled with mypyc are used (not when their sources changed
# since the build, see claimx/_native.py) is settled before any of them is imported.
from claimx import _native  # noqa: E402

_native.select()

from claimx.errors import ClaimxError, PackLoadError, PackProblem, RuleTimeoutError  # noqa: E402
from claimx.packs import Pack, available_packs, load_pack  # noqa: E402
from claimx.pipeline import Analysis, Extractor, default_extractor  # noqa: E402
from claimx.types import (  # noqa: E402
    CLAIM_TYPES,
    Claim,
    ClaimType,
    Evidence,
    Modality,
    Polarity,
    Sentiment,
    SentimentLabel,
    Span,
)

__all__ = [
    "Analysis",
    "CLAIM_TYPES",
    "Claim",
    "ClaimType",
    "ClaimxError",
    "Evidence",
    "Extractor",
    "Modality",
    "Pack",
    "PackLoadError",
    "PackProblem",
    "Polarity",
    "RuleTimeoutError",
    "Sentiment",
    "SentimentLabel",
    "Span",
    "__version__",
    "available_packs",
    "default_extractor",
    "extract",
    "load_pack",
    "sentiment",
]


def extract(text: str) -> list[Claim]:
    """The claims in ``text`` found by the default ``zh-business`` pack, sorted by start.

    Offsets are code points into ``text`` as given: ``text[c.start:c.end] == c.text``.
    """
    return default_extractor().extract(text)


def sentiment(text: str) -> Sentiment:
    """Sentiment of a sentence or document with the default pack."""
    return default_extractor().sentiment(text)
