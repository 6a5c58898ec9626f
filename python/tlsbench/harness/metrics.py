"""Statistics of samples and what the kernel says about a process (psutil, /proc)."""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Iterable, Sequence

import psutil  # type: ignore[import-untyped]

NOISY_SPREAD = 0.20
"""A case whose repeats spread more than this fraction of the median is noisy: with 5
repeats the 95% interval of ``compare`` is then about ±spread/2, wider than the ±10% a
wall-clock gate needs (docs/ci.md has the calibration)."""

NOISY_REMEDY = (
    "more repeats (--repeat 10), longer repeats (--duration 1), an A/B run (--ab BASE_PY), "
    "or a count that does not drift (--metric instructions)"
)
"""What to do about a noisy case (printed under a table that has one)."""

BOOTSTRAP_RESAMPLES = 4000
"""Resamples per bootstrap interval."""
CONFIDENCE = 0.95
"""Coverage of the intervals ``compare`` and the A/B mode judge by."""

# Two-sided 95% Student t quantiles for n-1 degrees of freedom (n = 2..30).
_T95 = [
    12.706,
    4.303,
    3.182,
    2.776,
    2.571,
    2.447,
    2.365,
    2.306,
    2.262,
    2.228,
    2.201,
    2.179,
    2.160,
    2.145,
    2.131,
    2.120,
    2.110,
    2.101,
    2.093,
    2.086,
    2.080,
    2.074,
    2.069,
    2.064,
    2.060,
    2.056,
    2.052,
    2.048,
    2.045,
]


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) of sorted values, linearly interpolated."""
    if not sorted_values:
        return 0.0
    pos = (len(sorted_values) - 1) * q / 100
    low = math.floor(pos)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (pos - low)


def latency_summary(values: Iterable[float]) -> dict[str, float]:
    """p50, p90, p99 and max of a list of latencies."""
    v = sorted(values)
    return {
        "p50": percentile(v, 50),
        "p90": percentile(v, 90),
        "p99": percentile(v, 99),
        "max": v[-1] if v else 0.0,
    }


def ci95(samples: Sequence[float]) -> tuple[float, float]:
    """95% confidence interval of the mean (Student t); the sample itself when n < 2."""
    n = len(samples)
    if n == 0:
        return (0.0, 0.0)
    mean = statistics.fmean(samples)
    if n < 2:
        return (mean, mean)
    t = _T95[n - 2] if n - 2 < len(_T95) else 1.96
    half = t * statistics.stdev(samples) / math.sqrt(n)
    return (mean - half, mean + half)


def spread(samples: Sequence[float]) -> float:
    """(max - min) / median; 0 for fewer than two samples."""
    if len(samples) < 2:
        return 0.0
    mid = statistics.median(samples)
    return (max(samples) - min(samples)) / mid if mid else 0.0


def is_noisy(samples: Sequence[float]) -> bool:
    """True when the repeats spread more than :data:`NOISY_SPREAD` of the median."""
    return spread(samples) > NOISY_SPREAD


def noisy_reason(samples: Sequence[float]) -> str:
    """Why a case is noisy, e.g. ``spread 18% > 10%``; empty when it is not."""
    s = spread(samples)
    return f"spread {s:.0%} > {NOISY_SPREAD:.0%}" if s > NOISY_SPREAD else ""


def _interval(stats: list[float]) -> tuple[float, float]:
    stats.sort()
    tail = (1 - CONFIDENCE) / 2 * 100
    return percentile(stats, tail), percentile(stats, 100 - tail)


def bootstrap_change(
    base: Sequence[float], new: Sequence[float], seed: str
) -> tuple[float, float, float] | None:
    """median(new) / median(base) - 1 and its percentile-bootstrap interval.

    Each side is resampled on its own (unpaired repeats); None with fewer than two
    samples on a side or a non-positive median. ``seed`` makes the interval repeatable.
    """
    if len(base) < 2 or len(new) < 2 or statistics.median(base) <= 0:
        return None
    rng = random.Random(seed)
    point = statistics.median(new) / statistics.median(base) - 1
    stats = []
    for _ in range(BOOTSTRAP_RESAMPLES):
        b = statistics.median(rng.choices(base, k=len(base)))
        if b > 0:
            stats.append(statistics.median(rng.choices(new, k=len(new))) / b - 1)
    low, high = _interval(stats)
    return point, low, high


def bootstrap_paired(ratios: Sequence[float], seed: str) -> tuple[float, float, float] | None:
    """median(ratios) - 1 and its percentile-bootstrap interval (pairs resampled whole).

    ``ratios`` are new/base of repeats measured side by side; None with fewer than two.
    """
    if len(ratios) < 2:
        return None
    rng = random.Random(seed)
    stats = [
        statistics.median(rng.choices(ratios, k=len(ratios))) - 1
        for _ in range(BOOTSTRAP_RESAMPLES)
    ]
    low, high = _interval(stats)
    return statistics.median(ratios) - 1, low, high


def rate_summary(samples: Sequence[float], unit: str) -> dict[str, object]:
    """The ``rate`` object of the results JSON."""
    low, high = ci95(samples)
    return {
        "unit": unit,
        "median": statistics.median(samples) if samples else 0.0,
        "min": min(samples) if samples else 0.0,
        "max": max(samples) if samples else 0.0,
        "ci95": [low, high],
        "samples": list(samples),
    }


def cpu_seconds(pids: Iterable[int]) -> float:
    """User + system CPU seconds of the processes (0 for one that is gone)."""
    total = 0.0
    for pid in pids:
        try:
            t = psutil.Process(pid).cpu_times()
        except psutil.Error:
            continue
        total += t.user + t.system
    return total


def peak_rss_mb(pid: int) -> float:
    """Peak resident set size (VmHWM) of a process in MB; 0 if unknown."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    try:
        return float(psutil.Process(pid).memory_info().rss) / (1 << 20)
    except psutil.Error:
        return 0.0
