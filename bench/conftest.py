"""Benchmarks are run on purpose: ``pytest bench/ --benchmark-only`` (see docs/benchmarks.md);
``--benchmark-save``/``--benchmark-compare``/``--benchmark-compare-fail`` as docs/ci.md shows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tlsbench.crypto import PROVIDERS, Provider, get_provider
from tlsbench.heap import steady_heap

steady_heap()  # results must not depend on which benchmarks ran before
SLOW = {"python"}  # pure Python: a few rounds are enough to see its rate


@pytest.fixture(params=PROVIDERS)
def provider(request: pytest.FixtureRequest) -> Provider:
    return get_provider(request.param)


@pytest.fixture
def run(benchmark: Any, provider: Provider) -> Callable[..., Any]:
    """Time ``fn(*args)``; few rounds for the slow provider, many for the rest."""

    def go(fn: Callable[..., Any], *args: Any, heavy: bool = False) -> Any:
        if provider.NAME in SLOW:
            rounds = 2 if heavy else 20
            return benchmark.pedantic(fn, args=args, rounds=rounds, iterations=1, warmup_rounds=1)
        return benchmark(fn, *args)

    return go
