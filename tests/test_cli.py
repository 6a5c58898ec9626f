"""The command line, run for real on tiny workloads."""

from __future__ import annotations

import subprocess
import sys

import pytest


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


def test_speed_columns_stay_apart_at_any_size(monkeypatch: pytest.MonkeyPatch) -> None:
    # A run of 1.011e+04..1.027e+04 per s once filled its column and ran into the ratio
    # ('1.011e+04..1.027e+040.0993'): every figure, small or large, keeps its own field.
    from click.testing import CliRunner

    from tlsbench import cli, speed
    from tlsbench.speed import Measurement

    figures = [0.004321, 8.235, 99.99, 10110.0, 1.23456e7, 9.87654e9]
    fake = [
        Measurement(p, f"op{i}", "per s", x, x * 0.99, x * 1.01)
        for p in ("rust", "python")
        for i, x in enumerate(figures)
    ]
    monkeypatch.setattr(speed, "measure", lambda *args: fake)
    r = CliRunner().invoke(cli.main, ["speed", "--repeat", "2"])
    assert r.exit_code == 0, r.output
    rows = [line.split() for line in r.output.splitlines()[1:-1]]
    assert len(rows) == len(fake)
    for row, m in zip(rows, fake, strict=True):
        low, high = (float(v) for v in row[-2].split(".."))
        assert abs(low / m.low - 1) < 1e-3 and abs(high / m.high - 1) < 1e-3, row
        assert float(row[-1].rstrip("x")) == 1.0, row  # both providers have the same figures
        assert "e+" not in " ".join(row), row
