"""Markdown of a `tlsbench run --ab BASE_PY --json FILE` run: per case, each build's rate
of one implementation against another's (``rust`` against ``ssl`` unless told), and how
the first moved from the base build to this one.

python3 bench/ab_ratios.py r.json [IMPL [BASELINE]]

Rates are the medians of the repeats; "per repeat" pairs an implementation's repeat i
with the baseline's repeat i of the same build, the median of those ratios.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any


def title(case: dict[str, Any]) -> str:
    """The row's name: workload, version, suite (key exchange), transport."""
    return f"{case['workload']} {case['tls']} {case['suite']} ({case['transport']})"


def index(cases: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """Cases of one build by (title, implementation), ok ones only."""
    return {(title(c), c["label"]): c for c in cases if c.get("status") == "ok"}


def ratio(cases: dict[tuple[str, str], dict[str, Any]], row: str, impl: str, base: str) -> str:
    """Median rate of ``impl`` over ``base``, and the median of the per-repeat ratios."""
    a, b = cases.get((row, impl)), cases.get((row, base))
    if a is None or b is None:
        return "-"
    medians = a["rate"]["median"] / b["rate"]["median"]
    paired = statistics.median(
        x / y for x, y in zip(a["rate"]["samples"], b["rate"]["samples"], strict=False)
    )
    return f"{medians:.2f}x ({paired:.2f}x)"


def main(path: str, impl: str = "rust", baseline: str = "ssl") -> None:
    """Print the table."""
    doc = json.loads(Path(path).read_text())
    new, old = index(doc["cases"]), index(doc["ab"]["base_cases"])
    rows = list(dict.fromkeys(t for t, _ in new))
    print(f"| case | {impl} rate, base → new | {impl}/{baseline} base | {impl}/{baseline} new |")
    print("|---|---|---|---|")
    for row in rows:
        a, b = old.get((row, impl)), new.get((row, impl))
        if a is None or b is None:
            continue
        unit = b["rate"]["unit"]
        rates = f"{a['rate']['median']:,.0f} → {b['rate']['median']:,.0f} {unit}"
        print(
            f"| {row} | {rates} | {ratio(old, row, impl, baseline)} | "
            f"{ratio(new, row, impl, baseline)} |"
        )


if __name__ == "__main__":
    main(*sys.argv[1:])
