"""``tlsbench speed``: each provider's record protection and key derivation, side by side.

Like ``openssl speed``, but through the provider interface the protocol engine
uses, so the figures say what a handshake and a transfer ask of each provider.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from tlsbench.crypto import Provider, get_provider
from tlsbench.crypto.suites import get_suite
from tlsbench.heap import steady_heap


@dataclass(frozen=True)
class Measurement:
    """One provider's figure for one operation: median of ``repeat`` timed runs."""

    provider: str
    operation: str
    unit: str
    median: float
    low: float
    high: float


def _time(fn: Callable[[], object], budget: float, repeat: int) -> list[float]:
    """Seconds per call of ``fn``, one sample per repeat, each run for about ``budget`` s."""
    fn()  # warm-up, also sizes the batch
    start = time.perf_counter()
    fn()
    one = max(time.perf_counter() - start, 1e-7)
    batch = max(1, int(budget / one))
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(batch):
            fn()
        samples.append((time.perf_counter() - start) / batch)
    return samples


def _cipher(p: Provider, suite: str) -> object:
    s = get_suite(suite)
    return p.RecordCipher(s.version, s.code, bytes(s.key_len), bytes(s.iv_len))


def measure(
    providers: list[str], suite: str, size: int, budget: float, repeat: int
) -> list[Measurement]:
    """Seal throughput (MB/s) and TLS 1.3 handshake-key derivations per second."""
    steady_heap()
    out = []
    s = get_suite(suite)
    data = bytes(size)
    for name in providers:
        p = get_provider(name)
        tx = p.RecordCipher(s.version, s.code, bytes(s.key_len), bytes(s.iv_len))
        secs = _time(lambda: tx.seal_many(23, data), budget, repeat)  # noqa: B023
        rates = [size / t / 1e6 for t in secs]
        out.append(
            Measurement(
                name,
                f"seal_many {size} B, {s.name}",
                "MB/s",
                statistics.median(rates),
                min(rates),
                max(rates),
            )
        )

        def stage(p: Provider = p) -> object:
            ks = p.KeySchedule(0x1301)
            ks.handshake_stage(bytes(32), bytes(32))
            return ks.application_stage(bytes(32))

        secs = _time(stage, budget, repeat)
        rates = [1 / t for t in secs]
        out.append(
            Measurement(
                name,
                "TLS 1.3 key schedule (handshake + application stages)",
                "per s",
                statistics.median(rates),
                min(rates),
                max(rates),
            )
        )
    return out
