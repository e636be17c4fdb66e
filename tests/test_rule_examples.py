"""Every rule of the bundled packs is documented by at least one `match` and one `no_match`
example (issue 5). The examples themselves run through the pytest plugin (`pytest rules/`)."""

from __future__ import annotations

import pytest

from claimx.packs import available_packs, load_pack

BUNDLED = sorted(available_packs())


@pytest.mark.parametrize("pack_name", BUNDLED)
def test_every_rule_has_match_and_no_match_examples(pack_name: str) -> None:
    pack = load_pack(pack_name)
    assert pack.rules, f"pack {pack_name} has no rules"
    lacking = [f"{r.source}: {r.id} ("
               + ", ".join(k for k, ok in (("match", any(e.should_match for e in r.examples)),
                                           ("no_match", any(not e.should_match for e in r.examples)))
                           if not ok) + ")"
               for r in pack.rules
               if not (any(e.should_match for e in r.examples)
                       and any(not e.should_match for e in r.examples))]
    assert not lacking, "rules lacking examples:\n" + "\n".join(lacking)


def test_bundled_pack_is_found() -> None:
    assert "zh-business" in BUNDLED
