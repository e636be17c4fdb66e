"""Shared test configuration: Hypothesis profiles and paths."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, settings

# The default profile runs every property with at least 500 examples (issue: core library).
settings.register_profile("default", max_examples=500, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
# `HYPOTHESIS_PROFILE=dev pytest` for a quick local loop.
settings.register_profile("dev", max_examples=50, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
