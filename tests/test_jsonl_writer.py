"""The JSON Lines writer writes a huge document's line piece by piece, byte for byte the
line it would have built as one string (the texts here are written for these tests)."""

from __future__ import annotations

import io
import json

import pytest

from claimx.io import Document
from claimx.writers import JsonlWriter, Result, render_jsonl


def _claims(count: int) -> tuple[dict[str, object], ...]:
    # A lone surrogate in a claim's text (from a broken input) must come out escaped.
    return tuple({"type": "risk", "start": i, "end": i + 4, "text": f"星河亏损{i}\ud800",
                  "polarity": "negative", "confidence": 0.5, "rules": ["r.x"]}
                 for i in range(count))


@pytest.mark.parametrize("count", [3, 1_001, 5_000])
def test_a_line_is_the_same_written_whole_or_in_pieces(count: int) -> None:
    result = Result(Document(id="huge.txt", encoding="utf-8"), claims=_claims(count),
                    sentiment={"label": "negative", "score": -0.5})
    out = io.StringIO()
    JsonlWriter(out).write(result)
    written = out.getvalue()
    assert written == render_jsonl(result)
    assert written.endswith("\n") and written.count("\n") == 1
    assert "\\ud800" in written and "\ud800" not in written
    written.encode("utf-8")  # no raw surrogate left
    assert len(json.loads(written)["claims"]) == count


def test_a_huge_line_is_written_in_pieces() -> None:
    class Counting(io.StringIO):
        writes = 0

        def write(self, text: str) -> int:
            Counting.writes += 1
            return super().write(text)

    out = Counting()
    JsonlWriter(out).write(Result(Document(id="huge.txt"), claims=_claims(2_000)))
    assert Counting.writes > 100  # not one string the size of the line
