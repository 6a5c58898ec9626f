"""``tlsbench run --ab BASE_PY``: a base build and a new build measured in one invocation.

Repeat i of every case runs on one build and at once on the other (the order
alternating), each in fresh worker processes started with that build's interpreter
(``BASE_PY -m tlsbench.harness.worker``), so host drift hits both alike. The verdict
comes from the paired ratios new/base (:func:`compare.paired_verdicts`) of each repeat's
rate at its 10th-percentile operation time (:func:`robust_rates`).

The other build must be an installed tlsbench whose worker parses the same spec (the
field names of ``WorkerSpec``, ``Case``, ``Tls``, ``Bounds``): if they differ the run
stops before measuring; if only the version differs it warns and goes on.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

import click

from tlsbench import __version__

from .compare import Verdict, headline, interval, markdown, paired_verdicts
from .metrics import percentile, rate_summary
from .params import Case
from .runner import CaseRun, Progress, RunError, Setup, probe_build, protocol, run_ab

PAIRED_QUANTILE = 10
"""The A/B mode judges each repeat by the time of its 10th-percentile operation: load on
the host only ever slows an operation down, and the fast tenth is the least touched."""


def robust_rates(run: CaseRun) -> list[float]:
    """Per repeat: handshakes/s at its p10 handshake time (bulk: MB/s at its p10
    connection time, handshake included)."""
    out = []
    for r in run.repeats:
        bulk = run.case.workload == "bulk"
        ms = sorted(r.latency_ms["ttfb" if bulk else "handshake"])
        t = percentile(ms, PAIRED_QUANTILE) / 1e3 if ms else 0.0
        if t > 0:
            out.append(run.case.bulk_bytes / 1e6 / t if bulk else 1 / t)
    return out


def _with_paired(doc: dict[str, Any], runs: list[CaseRun]) -> None:
    for c, run in zip(doc["cases"], runs, strict=True):
        if run.repeats:
            unit = "MB/s" if run.case.workload == "bulk" else "handshakes/s"
            c["paired"] = rate_summary(robust_rates(run), f"{unit} at p{PAIRED_QUANTILE} time")


def _build(python: str | None) -> tuple[str, str]:
    if python is None:
        return __version__, protocol()
    try:
        return probe_build(python)
    except RunError as exc:
        raise click.UsageError(str(exc)) from None


def pairs(base: dict[str, Any], new: dict[str, Any]) -> dict[str, list[float]]:
    """Per case (keyed by label and title) the per-repeat ratios new/base."""
    from .report import scenario_title

    old = {(c["label"], scenario_title(c)): c for c in base["cases"]}
    out = {}
    for c in new["cases"]:
        b = old.get((c["label"], scenario_title(c)))
        if b is None or c["status"] != "ok" or b["status"] != "ok":
            continue
        key = "paired" if "paired" in b and "paired" in c else "rate"
        bs, ns = b[key]["samples"], c[key]["samples"]
        out[f"{c['label']} [{scenario_title(c)}]"] = [
            n / s for n, s in zip(ns, bs, strict=False) if s > 0
        ]
    return out


def _lines(found: list[Verdict], ratios: dict[str, list[float]]) -> list[str]:
    out, title = [], None
    for v in found:
        if v.title != title:
            title = v.title
            out.append(title)
        r = ratios.get(f"{v.label} [{v.title}]", [])
        paired = " ".join(f"{x:.3f}" for x in r)
        change = f"{v.change:+.1%}" if v.change is not None else ""
        out.append(f"  {v.label:<16} new/base per repeat: {paired:<40} {change:>7} ")
        out[-1] += f"{interval(v):<18} {v.verdict}"
    return out


def run_ab_command(
    setup: Setup,
    cases: list[Case],
    repeat: int,
    config: dict[str, Any],
    base_python: str,
    new_python: str | None,
    max_regression: float | None,
    json_path: str | None,
    md_path: str | None,
    progress: Progress | None,
) -> int:
    """Measure, print the paired verdicts, write JSON/Markdown; 1 on a regression or failure."""
    from .results import results_json, save

    base_version, base_protocol = _build(base_python)
    new_version, new_protocol = _build(new_python)
    if base_protocol != new_protocol:
        raise click.UsageError(
            f"the builds' worker protocols differ (base tlsbench {base_version}, new "
            f"{new_version}): install the same harness in both, or compare two separate runs"
        )
    if base_version != new_version:
        click.echo(
            f"tlsbench: warning: base build is tlsbench {base_version}, new is {new_version} "
            "(same worker protocol, so going on)",
            err=True,
        )
    base_setup = dataclasses.replace(setup, python=base_python, credentials={})
    new_setup = dataclasses.replace(setup, python=new_python)
    base_runs, new_runs = run_ab(base_setup, new_setup, cases, repeat, progress)
    config = {
        **config,
        "ab": {
            "base_python": base_python,
            "base_version": base_version,
            "new_python": new_python or sys.executable,
            "new_version": new_version,
            "max_regression": max_regression,
        },
    }
    base_doc, new_doc = results_json(config, base_runs), results_json(config, new_runs)
    _with_paired(base_doc, base_runs)
    _with_paired(new_doc, new_runs)
    found = paired_verdicts(base_doc, new_doc, max_regression)
    ratios = pairs(base_doc, new_doc)
    for line in _lines(found, ratios):
        click.echo(line)
    n = max((len(r.repeats) for r in base_runs), default=0)
    click.echo(
        f"A/B: {n} paired repeats per case, each judged by its p{PAIRED_QUANTILE} operation "
        "time; change: median of new/base, 95% bootstrap interval; + is faster"
    )
    if json_path:
        new_doc["ab"] = {
            **config["ab"],
            "base_cases": base_doc["cases"],
            "ratios": ratios,
            "verdicts": [dataclasses.asdict(v) for v in found],
        }
        save(json_path, new_doc)
    if md_path:
        Path(md_path).write_text(markdown(found, "tlsbench A/B"))
    failed = [r for r in base_runs + new_runs if r.failed]
    for r in failed:
        click.echo(f"tlsbench: case {r.case.label} {r.case.workload} failed: {r.failed}", err=True)
    bad = [v for v in found if v.regression]
    for v in bad:
        click.echo(f"regression: {headline(v)}", err=True)
    click.echo("A/B: " + ("FAILED" if bad or failed else "ok"))
    return 1 if bad or failed else 0
