"""``tlsbench compare``: per-case verdicts between two runs, regressions, requirements.

Wall clock (``rate``): each case's change median(new) / median(base) - 1 is judged by
its 95% percentile-bootstrap interval over the repeats (each side resampled on its
own, seeded by ``seed`` and the case, so the same files give the same verdict). An
A/B run pairs its repeats instead (:func:`paired_verdicts`). Instruction counts are
deterministic and compared directly, per side, default limit 1%.

Verdicts: the interval holds 0 -> "not significant"; it lies on the good side ->
"faster" / "fewer instructions"; on the bad side -> "slower" / "more instructions",
and "REGRESSION" (the compare fails) when the whole interval is past the limit.

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

from .metrics import bootstrap_change, bootstrap_paired
from .report import grouped, scenario, scenario_title

INSTRUCTIONS_LIMIT = 1.0
"""Default --max-regression (percent) on instruction counts."""
INSTRUCTIONS_FLOOR = 0.002
"""An instruction count change smaller than this fraction is not significant (reruns agree
to 0.1%)."""

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
class Verdict:
    """One case (one side, for instruction counts) of NEW judged against BASE."""

    title: str
    label: str
    metric: str
    unit: str
    base: float | None
    new: float | None
    change: float | None
    low: float | None
    high: float | None
    significant: bool
    regression: bool
    verdict: str


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


def metric_of(data: dict[str, Any]) -> str:
    """``instructions`` or ``wall``: what a results document measured."""
    return str(data.get("config", {}).get("metric", "wall"))


def _judge(
    worse: float, low: float, high: float, limit: float | None, words: tuple[str, str]
) -> tuple[bool, bool, str]:
    """(significant, regression, verdict) from the interval of ``worse`` (+ is worse)."""
    if low <= 0 <= high:
        return False, False, "not significant"
    if high < 0:
        return True, False, words[0]
    if limit is not None and low > limit:
        return True, True, "REGRESSION"
    return True, False, words[1]


def _missing(case: dict[str, Any], metric: str, unit: str, base: float | None) -> Verdict:
    return Verdict(
        scenario_title(case),
        case["label"],
        metric,
        unit,
        base,
        None,
        None,
        None,
        None,
        False,
        False,
        "missing",
    )


def _rate_verdict(
    b: dict[str, Any] | None,
    c: dict[str, Any],
    limit: float | None,
    seed: int,
    paired: bool,
) -> Verdict:
    if paired and b is not None and "paired" in c and "paired" in b:
        b, c = {**b, "rate": b["paired"]}, {**c, "rate": c["paired"]}
    rate = c.get("rate") or {}
    unit = rate.get("unit", "")
    if b is None or b.get("status") != "ok" or not (b.get("rate") or {}).get("median"):
        v = _missing(c, "rate", unit, None)
        return v if c["status"] != "ok" else _replace_new(v, rate.get("median"))
    base_med = float(b["rate"]["median"])
    if c["status"] != "ok" or not rate:
        return _missing(c, "rate", unit, base_med)
    new_med = float(rate["median"])
    key = f"{seed}:{'|'.join(_key(c))}"
    bs, ns = b["rate"]["samples"], rate["samples"]
    if paired:
        n = min(len(bs), len(ns))
        got = bootstrap_paired([ns[i] / bs[i] for i in range(n) if bs[i] > 0], key)
    else:
        got = bootstrap_change(bs, ns, key)
    change = new_med / base_med - 1
    if got is None:
        return Verdict(
            scenario_title(c),
            c["label"],
            "rate",
            unit,
            base_med,
            new_med,
            change,
            None,
            None,
            False,
            False,
            "not significant",
        )
    point, low, high = got
    lim = None if limit is None else limit / 100
    # For a rate, lower is worse: worse = -change, its interval [-high, -low].
    sig, reg, word = _judge(-point, -high, -low, lim, ("faster", "slower"))
    return Verdict(
        scenario_title(c),
        c["label"],
        "rate",
        unit,
        base_med,
        new_med,
        point,
        low,
        high,
        sig,
        reg,
        word,
    )


def _replace_new(v: Verdict, new: float | None) -> Verdict:
    return Verdict(
        v.title, v.label, v.metric, v.unit, v.base, new, None, None, None, False, False, "missing"
    )


def _instruction_verdicts(
    b: dict[str, Any] | None, c: dict[str, Any], limit: float | None
) -> list[Verdict]:
    block = c.get("instructions") or {}
    base_block = (b or {}).get("instructions") or {}
    unit = block.get("unit") or base_block.get("unit", "instructions")
    lim = (INSTRUCTIONS_LIMIT if limit is None else limit) / 100
    out = []
    for side in ("client", "server"):
        metric = f"instructions:{side}"
        new = block.get(side) if c["status"] == "ok" else None
        old = base_block.get(side) if b is not None and b.get("status") == "ok" else None
        if not new or not old:
            out.append(
                Verdict(
                    scenario_title(c),
                    c["label"],
                    metric,
                    unit,
                    float(old) if old else None,
                    float(new) if new else None,
                    None,
                    None,
                    None,
                    False,
                    False,
                    "missing",
                )
            )
            continue
        change = float(new) / float(old) - 1
        # Counts do not scatter: a change within the noise floor is not significant.
        sig = abs(change) > INSTRUCTIONS_FLOOR
        reg = sig and change > lim
        word = (
            "not significant"
            if not sig
            else "REGRESSION"
            if reg
            else "more instructions"
            if change > 0
            else "fewer instructions"
        )
        out.append(
            Verdict(
                scenario_title(c),
                c["label"],
                metric,
                unit,
                float(old),
                float(new),
                change,
                None,
                None,
                sig,
                reg,
                word,
            )
        )
    return out


def _badness(v: Verdict) -> float:
    if v.change is None:
        return 0.0
    return -v.change if v.metric == "rate" else v.change


def _order(found: list[Verdict]) -> list[Verdict]:
    """Regressions first, worst first; the rest in table order."""
    bad = sorted((v for v in found if v.regression), key=_badness, reverse=True)
    return bad + [v for v in found if not v.regression]


def verdicts(
    base: dict[str, Any], new: dict[str, Any], max_regression: float | None = None, seed: int = 0
) -> list[Verdict]:
    """Every case of NEW against BASE (results JSON dicts), worst regressions first.

    Both documents must measure the same metric (ValueError otherwise). Cases of BASE
    that NEW lacks come last, as "missing".
    """
    kinds = metric_of(base), metric_of(new)
    if kinds[0] != kinds[1]:
        name = {"wall": "a wall-clock", "instructions": "an instructions"}
        raise ValueError(
            f"cannot compare {name.get(kinds[0], kinds[0])} run with "
            f"{name.get(kinds[1], kinds[1])} run (config.metric differs)"
        )
    old = {_key(c): c for c in base["cases"]}
    seen = set()
    found: list[Verdict] = []
    for group in grouped(new["cases"]):
        for c in group:
            seen.add(_key(c))
            b = old.get(_key(c))
            if kinds[1] == "instructions":
                found += _instruction_verdicts(b, c, max_regression)
            else:
                found.append(_rate_verdict(b, c, max_regression, seed, paired=False))
    for key, b in old.items():
        if key not in seen:
            metric = "instructions:client" if kinds[1] == "instructions" else "rate"
            med = (b.get("rate") or {}).get("median") if metric == "rate" else None
            v = _missing(b, metric, (b.get("rate") or {}).get("unit", ""), med)
            found.append(v)
    return _order(found)


def paired_verdicts(
    base: dict[str, Any], new: dict[str, Any], max_regression: float | None = None, seed: int = 0
) -> list[Verdict]:
    """Like :func:`verdicts` for an A/B run: repeat i of BASE and of NEW were measured side
    by side, so the interval is of the median of the per-repeat ratios new/base. A case's
    ``paired`` rate summary (the A/B mode's robust per-repeat rates), where both have one,
    is judged instead of its ``rate``."""
    old = {_key(c): c for c in base["cases"]}
    found = [
        _rate_verdict(old.get(_key(c)), c, max_regression, seed, paired=True)
        for group in grouped(new["cases"])
        for c in group
    ]
    return _order(found)


def _pct(x: float | None) -> str:
    return "" if x is None else f"{x:+.1%}"


def _num(x: float | None) -> str:
    if x is None:
        return "-"
    if x >= 1e6:
        return f"{x / 1e6:,.3f}M"
    return f"{x:,.0f}" if x >= 100 else f"{x:.3g}"


def interval(v: Verdict) -> str:
    """``[-4.1%, +2.0%]``, or ``±0.2% floor`` for instruction counts, or empty."""
    if v.low is not None and v.high is not None:
        return f"[{v.low:+.1%}, {v.high:+.1%}]"
    if v.metric.startswith("instructions") and v.change is not None:
        return f"±{INSTRUCTIONS_FLOOR:.1%} floor"
    return ""


def headline(v: Verdict) -> str:
    """One line: ``rust client +3.1% instructions per handshake [TLS 1.2 ...]: REGRESSION``."""
    if v.metric.startswith("instructions"):
        per = v.unit.split("/", 1)[1] if "/" in v.unit else "op"
        side = v.metric.split(":", 1)[1]
        what = f"{v.label} {side} {_pct(v.change)} instructions per {per}"
    else:
        what = f"{v.label} {_pct(v.change)} {v.unit} {interval(v)}".rstrip()
    return f"{what} [{v.title}]: {v.verdict}"


def lines(found: list[Verdict], max_regression: float | None) -> list[str]:
    """The terminal comparison: sections in table order, one line per verdict."""
    out: list[str] = []
    title = None
    for v in found:
        if v.title != title:
            title = v.title
            out.append(title)
        name = v.label if v.metric == "rate" else f"{v.label} {v.metric.split(':')[1]}"
        note = v.verdict
        if v.verdict in ("slower", "more instructions") and max_regression is not None:
            note += f" (not surely past -{max_regression:g}%)"
        out.append(
            f"  {name:<24} {_num(v.base):>12} -> {_num(v.new):<12} {v.unit:<22}"
            f" {_pct(v.change):>7} {interval(v):<18} {note}"
        )
    return out


def markdown(found: list[Verdict], heading: str = "tlsbench compare") -> str:
    """The comparison as Markdown (for ``$GITHUB_STEP_SUMMARY``), regressions first."""
    bad = sum(v.regression for v in found)
    out = [
        f"## {heading}",
        "",
        f"**{bad} regression{'s' if bad != 1 else ''}** in {len(found)} comparisons"
        if bad
        else f"No regression in {len(found)} comparisons.",
        "",
        "| case | impl | metric | base | new | change | interval | verdict |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for v in found:
        verdict = f"**{v.verdict}**" if v.regression else v.verdict
        cells = [
            v.title,
            v.label,
            f"{v.metric} ({v.unit})",
            _num(v.base),
            _num(v.new),
            _pct(v.change),
            interval(v),
            verdict,
        ]
        out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    out += [
        "",
        "Wall clock: change of the median rate, 95% bootstrap interval over the repeats "
        "(+ is faster). Instructions: change per side (+ is more work).",
    ]
    return "\n".join(out) + "\n"


def check(new: dict[str, Any], req: Requirement) -> tuple[list[str], bool]:
    """Lines describing each matched scenario and whether the requirement holds everywhere."""
    lines, matched, ok = [], 0, True
    for group in grouped(new["cases"]):
        a = [c for c in group if c["label"] == req.numerator and c["status"] == "ok"]
        b = [c for c in group if c["label"] == req.denominator and c["status"] == "ok"]
        if not a or not b or not (b[0].get("rate") or {}).get("median"):
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
