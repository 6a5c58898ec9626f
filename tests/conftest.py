"""Shared fixtures: every provider test runs once per provider."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from tlsbench.crypto import PROVIDERS, Provider, get_provider

# CI feeds Hypothesis the same examples every run (repeatable); elsewhere it explores anew.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(params=PROVIDERS)
def provider(request: pytest.FixtureRequest) -> Provider:
    return get_provider(request.param)
