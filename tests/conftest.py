"""Shared fixtures: every provider test runs once per provider."""

from __future__ import annotations

import pytest

from tlsbench.crypto import PROVIDERS, Provider, get_provider


@pytest.fixture(params=PROVIDERS)
def provider(request: pytest.FixtureRequest) -> Provider:
    return get_provider(request.param)
