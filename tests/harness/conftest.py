"""Helpers of the harness tests: the real ``tlsbench`` command in a subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

TINY = ("--duration", "0.1", "--warmup", "0", "--repeat", "1", "--bytes", "32K", "--no-progress")


def tlsbench(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    """Run ``python -m tlsbench ARGS`` for real and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "tlsbench", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def mixed_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Results of a tiny real run: our rust client against every server, TLS 1.2 and 1.3."""
    path = tmp_path_factory.mktemp("results") / "mixed.json"
    r = tlsbench(
        "run",
        *TINY,
        "--client-impl",
        "rust",
        "--server-impl",
        "rust,ssl,python,tlslite",
        "--tls",
        "1.2,1.3",
        "--workload",
        "handshake,bulk",
        "--json",
        str(path),
    )
    assert r.returncode == 0, r.stdout + r.stderr
    return path
