"""The results JSON (schema 1 of DESIGN.md): environment, config and one object per case."""

from __future__ import annotations

import datetime
import json
import os
import platform
import ssl
import subprocess
import sys
from pathlib import Path
from typing import Any

from tlsbench import __version__

from .metrics import is_noisy, latency_summary, noisy_reason, rate_summary, spread
from .params import Case
from .runner import CaseRun

SCHEMA = 1
LATENCY_SAMPLES = 500
"""Latencies (connect, handshake, ttfb) kept per case, evenly spaced after sorting, for plots."""


def cpu_info() -> tuple[str, list[str]]:
    """CPU model and the flags that matter to TLS (AES-NI, carry-less multiply, AVX...)."""
    model, flags = platform.processor() or "unknown", []
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    model = value.strip()
                elif key.strip() == "flags":
                    flags = value.split()
                    break
    except OSError:
        pass
    wanted = (
        "aes",
        "pclmulqdq",
        "avx",
        "avx2",
        "avx512f",
        "vaes",
        "vpclmulqdq",
        "sha_ni",
        "bmi2",
        "adx",
    )
    return model, [f for f in flags if f in wanted]


def _commit() -> str:
    root = Path(__file__).resolve().parents[3]
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "describe", "--always", "--dirty", "--abbrev=40"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() or "unknown"


def environment() -> dict[str, Any]:
    """Where and with what the run was measured."""
    from tlsbench import core

    model, flags = cpu_info()
    env: dict[str, Any] = {
        "cpu": model,
        "cpu_flags": flags,
        "cores": os.cpu_count() or 0,
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "openssl": ssl.OPENSSL_VERSION,
        "tlsbench": __version__,
        "core_build": {k: str(v) for k, v in core.build_info().items()},
        "commit": _commit(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }
    try:
        import cryptography
        from cryptography.hazmat.backends.openssl.backend import backend

        env["cryptography"] = f"{cryptography.__version__} ({backend.openssl_version_text()})"
    except ImportError:  # pragma: no cover - a dependency
        pass
    try:
        from importlib.metadata import version

        env["tlslite"] = version("tlslite-ng")
    except Exception:
        env["tlslite"] = "not installed"
    return env


def case_json(run: CaseRun) -> dict[str, Any]:
    """One case of the results: parameters, rate, latency, CPU, memory, errors, noisy."""
    c = run.case
    reps = run.repeats
    bulk = c.workload == "bulk"
    samples = [r.rate for r in reps]
    ops = sum(r.ops for r in reps)
    mb = sum(r.bytes for r in reps) / 1e6
    per = mb if bulk else ops
    latency: dict[str, Any] = {}
    kept: dict[str, list[float]] = {}
    for key in ("connect", "handshake", "ttfb"):
        values = sorted(v for r in reps for v in r.latency_ms[key])
        latency[key] = latency_summary(values)
        kept[key] = values[:: max(1, len(values) // LATENCY_SAMPLES)]
    out: dict[str, Any] = {
        "client_impl": c.client_impl,
        "server_impl": c.server_impl,
        "label": c.label,
        "tls": c.tls,
        "suite": c.suite,
        "group": c.group,
        "cert": c.cert,
        "workload": c.workload,
        "transport": c.transport,
        "bulk_bytes": c.bulk_bytes if bulk else 0,
        "record_size": c.record_size if bulk else 0,
        "rate": rate_summary(
            samples,
            "MB/s"
            if bulk
            else "resumed handshakes/s"
            if c.workload == "resume"
            else "handshakes/s",
        ),
        "spread": spread(samples),
        "latency_ms": latency,
        "latency_samples_ms": kept,
        "cpu_us_per_op": {
            "client": sum(r.cpu_client for r in reps) / per * 1e6 if per else 0.0,
            "server": sum(r.cpu_server for r in reps) / per * 1e6 if per else 0.0,
        },
        "cpu_per": "MB" if bulk else "handshake",
        "peak_rss_mb": {
            "client": max((r.rss_client for r in reps), default=0.0),
            "server": max((r.rss_server for r in reps), default=0.0),
        },
        "ops": ops,
        **_resume_fields(run),
        "errors": sum(r.errors for r in reps),
        "timeouts": sum(r.timeouts for r in reps),
        "server_errors": sum(r.server_errors for r in reps),
        "noisy": is_noisy(samples),
        "noisy_reason": noisy_reason(samples),
        "status": "unsupported" if run.unsupported else "failed" if run.failed else "ok",
        "reason": run.unsupported or run.failed or (reps[-1].last_error if reps else ""),
    }
    return out


def _resume_fields(run: CaseRun) -> dict[str, Any]:
    """A resume case's ``resumed`` and ``connections`` (measured connections, all repeats),
    and what each case asked for: ``resumption`` and ``client_auth``."""
    c = run.case
    out: dict[str, Any] = {"resumption": c.resumption, "client_auth": c.client_auth}
    if c.workload == "resume":
        out["resumed"] = sum(r.resumed for r in run.repeats)
        out["connections"] = sum(r.ops for r in run.repeats)
    return out


def instructions_case_json(
    case: Case, instructions: dict[str, Any] | None, status: str, reason: str
) -> dict[str, Any]:
    """One case of an instructions run: no rate (null), its ``instructions`` block."""
    bulk = case.workload == "bulk"
    return {
        "client_impl": case.client_impl,
        "server_impl": case.server_impl,
        "label": case.label,
        "tls": case.tls,
        "suite": case.suite,
        "group": case.group,
        "cert": case.cert,
        "workload": case.workload,
        "transport": case.transport,
        "bulk_bytes": case.bulk_bytes if bulk else 0,
        "record_size": case.record_size if bulk else 0,
        "rate": None,
        "spread": 0.0,
        "latency_ms": {},
        "latency_samples_ms": {},
        "ops": instructions["n"] if instructions else 0,
        "errors": 0,
        "timeouts": 0,
        "server_errors": 0,
        "noisy": False,
        "status": status,
        "reason": reason,
        "instructions": instructions,
    }


def instructions_json(config: dict[str, Any], cases: list[dict[str, Any]]) -> dict[str, Any]:
    """The results document of an instructions run (``config["metric"]`` says so)."""
    return {"schema": SCHEMA, "environment": environment(), "config": config, "cases": cases}


def results_json(config: dict[str, Any], runs: list[CaseRun]) -> dict[str, Any]:
    """The whole results document."""
    return {
        "schema": SCHEMA,
        "environment": environment(),
        "config": config,
        "cases": [case_json(r) for r in runs],
    }


def load(path: str | Path) -> dict[str, Any]:
    """A results file; ValueError when it is not one this version reads."""
    try:
        data = json.loads(Path(path).read_text())
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA or "cases" not in data:
        raise ValueError(f"{path} is not a tlsbench results file (schema {SCHEMA})")
    return data


def save(path: str | Path, data: dict[str, Any]) -> None:
    """Write the results document."""
    Path(path).write_text(json.dumps(data, indent=1) + "\n")
