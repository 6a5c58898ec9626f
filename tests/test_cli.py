"""The command line, run for real on tiny workloads."""

from __future__ import annotations

import subprocess
import sys


def tlsbench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tlsbench", *args], capture_output=True, text=True, timeout=120
    )


def test_speed_compares_every_provider() -> None:
    r = tlsbench("speed", "--bytes", "4096", "--budget", "0.01", "--repeat", "2")
    assert r.returncode == 0, r.stderr
    rows = [line.split() for line in r.stdout.splitlines()[1:-1]]
    assert [row[0] for row in rows] == [p for p in ("rust", "python", "cryptography") for _ in "ab"]
    assert all(float(row[-1].rstrip("x")) > 0 for row in rows)
    assert rows[0][-1] == "1x"  # ratios are against the first provider


def test_speed_bad_suite_is_a_usage_error() -> None:
    r = tlsbench("speed", "--suite", "TLS_NOPE")
    assert r.returncode == 2
    assert "unsupported cipher suite" in r.stderr
    assert "Traceback" not in r.stderr


def test_info_names_the_core_build() -> None:
    r = tlsbench("info")
    assert r.returncode == 0, r.stderr
    assert "core.aws_lc_rs" in r.stdout and "core.pyo3" in r.stdout


def test_steady_heap_applies_on_glibc() -> None:
    import platform

    from tlsbench.heap import steady_heap

    assert platform.libc_ver()[0] == "glibc", "these tests assume a glibc Linux"
    assert steady_heap()
