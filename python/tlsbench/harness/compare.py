"""``tlsbench compare``: per-case ratios between two runs, regressions, requirements.

A requirement reads ``A/B>=X`` (or ``>``, ``<=``, ``<``): in the NEW results, every
scenario that has both label ``A`` and label ``B`` (an implementation name, or
``client:server`` for a mixed pair) must have median(A) / median(B) satisfy it;
a requirement that matches no scenario fails too.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .report import grouped, scenario, scenario_title

_REQUIRE = re.compile(
    r"^\s*([a-z0-9_:-]+)\s*/\s*([a-z0-9_:-]+)\s*(>=|<=|>|<)\s*([0-9]*\.?[0-9]+)\s*$"
)
_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
}


@dataclass(frozen=True)
class Requirement:
    """``numerator/denominator OP bound``."""

    numerator: str
    denominator: str
    op: str
    bound: float
    text: str


def parse_requirement(text: str) -> Requirement:
    """Parse ``rust/python>=20``; ValueError with the expected form otherwise."""
    m = _REQUIRE.match(text)
    if not m:
        raise ValueError(f"bad --require {text!r}: expected IMPL/IMPL>=NUMBER, e.g. rust/ssl>=0.8")
    return Requirement(m[1], m[2], m[3], float(m[4]), text.strip())


def _key(case: dict[str, Any]) -> tuple[str, ...]:
    return (case["client_impl"], case["server_impl"], *scenario(case))


def compare(
    base: dict[str, Any], new: dict[str, Any], max_regression: float | None
) -> tuple[list[str], list[str]]:
    """Lines of per-case ratios (new/base) and the list of regressions past the limit (%)."""
    old = {_key(c): c for c in base["cases"] if c["status"] == "ok"}
    lines, failures = [], []
    for group in grouped(new["cases"]):
        lines.append(scenario_title(group[0]))
        for c in group:
            b = old.get(_key(c))
            if c["status"] != "ok" or b is None or not b["rate"]["median"]:
                why = "not in base" if b is None else c["status"]
                lines.append(f"  {c['label']:<24} {why}")
                continue
            r = c["rate"]["median"] / b["rate"]["median"]
            flag = ""
            if max_regression is not None and r < 1 - max_regression / 100:
                flag = f"  REGRESSION (limit -{max_regression:g}%)"
                failures.append(f"{c['label']} {scenario_title(c)}: {r:.3f}x")
            noisy = " (noisy)" if c["noisy"] or b["noisy"] else ""
            lines.append(
                f"  {c['label']:<24} {b['rate']['median']:>12.4g} -> {c['rate']['median']:<12.4g}"
                f" {c['rate']['unit']:<13} {r:6.3f}x{noisy}{flag}"
            )
    return lines, failures


def check(new: dict[str, Any], req: Requirement) -> tuple[list[str], bool]:
    """Lines describing each matched scenario and whether the requirement holds everywhere."""
    lines, matched, ok = [], 0, True
    for group in grouped(new["cases"]):
        a = [c for c in group if c["label"] == req.numerator and c["status"] == "ok"]
        b = [c for c in group if c["label"] == req.denominator and c["status"] == "ok"]
        if not a or not b or not b[0]["rate"]["median"]:
            continue
        matched += 1
        value = a[0]["rate"]["median"] / b[0]["rate"]["median"]
        good = _OPS[req.op](value, req.bound)
        ok = ok and good
        verdict = "ok" if good else "FAILED"
        lines.append(f"  {req.text}: {value:.3f} {verdict}  [{scenario_title(a[0])}]")
    if not matched:
        lines.append(
            f"  {req.text}: FAILED, no scenario has both {req.numerator} and {req.denominator}"
        )
        ok = False
    return lines, ok
