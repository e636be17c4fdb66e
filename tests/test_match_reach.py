"""Required words searched only where a pattern rule's match can begin (claimx.match,
``CompiledRules.match_reach``): a match of a rule matched at its anchors begins at one, and
one matched at clause starts within ``lead`` of an anchor begins at most ``lead`` before
it, so a required word earlier in the sentence cannot be part of a match. Only calls that
could not match are skipped: the claims are the same."""

from __future__ import annotations

import json
from pathlib import Path

from claimx import Extractor

_SAMPLE = Path(__file__).resolve().parent.parent / "corpora" / "claims-sample.jsonl"


def _pack(tmp_path: Path, rule: str) -> Path:
    (tmp_path / "pack.yaml").write_text(
        "name: reach\nversion: '1'\nlanguage: zh\n"
        "claim_types: {strategic_intent: {polarity: positive}}\n", encoding="utf-8")
    (tmp_path / "rules.yaml").write_text("rules:\n" + rule, encoding="utf-8")
    return tmp_path


def test_a_required_word_before_the_anchor_does_not_count(tmp_path: Path) -> None:
    # 扩产 is required after the anchor 将; the rule is not run where it only stands before.
    pack = _pack(tmp_path, "  - id: reach.plan\n    kind: pattern\n    type: strategic_intent\n"
                           "    pattern: 将[^,，。]{0,6}扩产\n    anchors: [将]\n"
                           "    match_at: anchors\n")
    extractor = Extractor(packs=[pack])
    index = next(iter(extractor.compiled.anchored_patterns))
    assert extractor.compiled.match_reach == {index: 0}
    assert [c.text for c in extractor.extract("公司将于明年扩产。")] == ["公司将于明年扩产"]
    assert extractor.extract("扩产之后公司将观望。") == []


def test_the_pipeline_finds_the_same_claims_without_the_reach() -> None:
    texts = [json.loads(line)["text"] for line in _SAMPLE.read_text("utf-8").splitlines()
             if line.strip()]
    extractor = Extractor()
    compiled = extractor.compiled
    assert compiled.match_reach
    with_reach = [[c.to_dict() for c in extractor.extract(t)] for t in texts]
    reach = compiled.match_reach  # the compiled rules are shared by the process: put back
    object.__setattr__(compiled, "match_reach", {})
    try:
        assert [[c.to_dict() for c in extractor.extract(t)] for t in texts] == with_reach
    finally:
        object.__setattr__(compiled, "match_reach", reach)
