"""Synthetic results documents for the statistics tests (no measurement involved)."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from tlsbench.harness.metrics import is_noisy, noisy_reason, rate_summary, spread


def case(label: str, samples: list[float], workload: str = "handshake") -> dict[str, Any]:
    """A results case of one implementation with these per-repeat rates."""
    return {
        "client_impl": label,
        "server_impl": label,
        "label": label,
        "tls": "1.3",
        "suite": "TLS_AES_128_GCM_SHA256",
        "group": "x25519",
        "cert": "ecdsa-p256",
        "workload": workload,
        "transport": "tcp",
        "bulk_bytes": 0,
        "record_size": 0,
        "rate": rate_summary(samples, "MB/s" if workload == "bulk" else "handshakes/s"),
        "spread": spread(samples),
        "noisy": is_noisy(samples),
        "noisy_reason": noisy_reason(samples),
        "status": "ok",
        "reason": "",
    }


def doc(*cases: dict[str, Any], metric: str = "wall") -> dict[str, Any]:
    """A results document holding ``cases``."""
    return {"schema": 1, "environment": {}, "config": {"metric": metric}, "cases": list(cases)}


def icount_case(label: str, client: float, server: float) -> dict[str, Any]:
    """A case of an instructions run (rate null), in the icount agent's block shape."""
    c = case(label, [1.0])
    c["rate"] = None
    c["instructions"] = {
        "tool": "callgrind",
        "valgrind": "valgrind-3.19.0",
        "unit": "instructions/handshake",
        "n": 20,
        "n_subtracted": 10,
        "client": client,
        "server": server,
        "reruns": 1,
    }
    return c


def median(xs: list[float]) -> float:
    """The median."""
    return statistics.median(xs)


def write(path: Path, data: dict[str, Any]) -> str:
    """Save a document; its path as a string."""
    path.write_text(json.dumps(data))
    return str(path)


def cli(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """The real ``tlsbench`` command in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "tlsbench", *args], capture_output=True, text=True, timeout=timeout
    )
