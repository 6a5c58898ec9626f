"""``tlsbench run`` for real on tiny workloads: processes, transports, outputs, reaping."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from conftest import TINY, tlsbench


def _cases(path: Path) -> list[dict[str, object]]:
    data = json.loads(path.read_text())
    assert data["schema"] == 1
    return list(data["cases"])


def test_mixed_pairs_every_server_both_versions(mixed_results: Path) -> None:
    data = json.loads(mixed_results.read_text())
    env = data["environment"]
    for key in ("cpu", "cpu_flags", "cores", "os", "python", "openssl", "core_build", "commit"):
        assert key in env
    cases = data["cases"]
    pairs = {(c["client_impl"], c["server_impl"], c["tls"], c["workload"]) for c in cases}
    for server in ("rust", "ssl", "python", "tlslite"):
        for tls in ("1.2", "1.3"):
            for workload in ("handshake", "bulk"):
                assert ("rust", server, tls, workload) in pairs
    for c in cases:
        assert c["status"] == "ok", c
        assert c["ops"] >= 1 and c["errors"] == 0 and c["timeouts"] == 0
        rate = c["rate"]
        assert rate["unit"] == ("MB/s" if c["workload"] == "bulk" else "handshakes/s")
        assert rate["min"] <= rate["median"] <= rate["max"] and rate["median"] > 0
        assert len(rate["samples"]) == 1
        lat = c["latency_ms"]
        assert 0 < lat["handshake"]["p50"] <= lat["handshake"]["max"]
        assert lat["connect"]["p50"] > 0 and lat["ttfb"]["p50"] >= lat["handshake"]["p50"]
        assert c["cpu_us_per_op"]["client"] > 0 and c["cpu_us_per_op"]["server"] > 0
        assert c["peak_rss_mb"]["client"] > 10 and c["peak_rss_mb"]["server"] > 10


def test_memory_transport_and_tlslite_says_it_cannot(tmp_path: Path) -> None:
    out = tmp_path / "mem.json"
    r = tlsbench(
        "run",
        *TINY,
        "--impl",
        "rust,ssl,tlslite",
        "--client-impl",
        "ssl",
        "--tls",
        "1.3",
        "--transport",
        "memory",
        "--json",
        str(out),
        "--csv",
        str(tmp_path / "m.csv"),
    )
    assert r.returncode == 0, r.stderr
    by_pair = {(c["client_impl"], c["server_impl"], c["workload"]): c for c in _cases(out)}
    for workload in ("handshake", "bulk"):
        assert by_pair[("ssl", "rust", workload)]["status"] == "ok"
        assert by_pair[("ssl", "ssl", workload)]["status"] == "ok"
        tl = by_pair[("ssl", "tlslite", workload)]
        assert tl["status"] == "unsupported" and "memory" in str(tl["reason"])
    assert "tlslite cannot run in memory" in r.stdout
    rows = list(csv.DictReader((tmp_path / "m.csv").open()))
    assert {row["transport"] for row in rows} == {"memory"}


def test_outputs_markdown_csv_plot_and_server_workers(tmp_path: Path) -> None:
    r = tlsbench(
        "run",
        *TINY,
        "--impl",
        "rust,ssl",
        "--tls",
        "1.3",
        "--workload",
        "handshake",
        "--concurrency",
        "2",
        "--server-workers",
        "2",
        "--repeat",
        "2",
        "--handshakes",
        "6",
        "--markdown",
        str(tmp_path / "r.md"),
        "--csv",
        str(tmp_path / "r.csv"),
        "--plot",
        str(tmp_path / "r.png"),
        "--json",
        str(tmp_path / "r.json"),
    )
    assert r.returncode == 0, r.stderr
    assert "rust" in r.stdout and "1.00x" in r.stdout  # ssl against itself
    md = (tmp_path / "r.md").read_text()
    assert md.startswith("## tlsbench results") and "| rust |" in md
    assert (tmp_path / "r.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for c in _cases(tmp_path / "r.json"):
        assert c["ops"] == 12  # 6 per repeat, split over two clients
        assert len(c["rate"]["samples"]) == 2  # type: ignore[index]


def test_bad_options_are_one_line_usage_errors() -> None:
    for args in (
        ["run", "--impl", "nope"],
        ["run", "--tls", "1.1"],
        ["run", "--suite", "TLS_RSA_WITH_AES_128_GCM_SHA256", "--cert", "ecdsa-p256"],
        ["run", "--bytes", "lots"],
        ["compare", "a.json", "b.json", "--require", "rust>ssl"],
        ["report", "/nonexistent.json"],
        ["connect", "nohostport"],
    ):
        r = tlsbench(*args)
        assert r.returncode == 2, (args, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert "Traceback" not in r.stderr


def _default_sigint() -> None:
    """In the child before exec: SIGINT at its default, so Python turns it into
    KeyboardInterrupt even when this test runs in a background job, which inherits it
    ignored (a shell starts background commands so, and Python keeps an ignored SIGINT)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_sigint_reaps_every_child(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-X",
            "faulthandler",  # a run that hangs is aborted below, and dumps its threads
            "-m",
            "tlsbench",
            "run",
            "--impl",
            "python",
            "--tls",
            "1.3",
            "--duration",
            "30",
            "--repeat",
            "1",
            "--no-progress",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_sigint,
    )
    parent = psutil.Process(proc.pid)
    deadline = time.monotonic() + 30
    children: list[psutil.Process] = []
    while time.monotonic() < deadline and len(children) < 2:
        children = parent.children(recursive=True)
        time.sleep(0.1)
    assert len(children) >= 2, "the run did not start its server and client"
    time.sleep(0.5)
    os.kill(proc.pid, signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGABRT)
        _, err = proc.communicate(timeout=10)
        for child in children:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()
        pytest.fail(f"tlsbench run still ran 20 s after SIGINT; its threads:\n{err}")
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    _gone, alive = psutil.wait_procs(children, timeout=5)
    assert not alive, f"left behind: {alive}"


def test_plain_tcp_reference(tmp_path: Path) -> None:
    """--impl tcp runs the workloads with no TLS, pairs only with itself, tcp only."""
    out = tmp_path / "tcp.json"
    r = tlsbench(
        "run",
        *TINY,
        "--client-impl",
        "tcp,rust",
        "--server-impl",
        "tcp",
        "--tls",
        "1.3",
        "--transport",
        "tcp,memory",
        "--json",
        str(out),
    )
    assert r.returncode == 0, r.stderr
    by_key = {(c["client_impl"], c["transport"], c["workload"]): c for c in _cases(out)}
    for workload in ("handshake", "bulk"):
        plain = by_key[("tcp", "tcp", workload)]
        assert plain["status"] == "ok" and plain["ops"] >= 1 and plain["errors"] == 0
        mixed = by_key[("rust", "tcp", workload)]
        assert mixed["status"] == "unsupported" and "pairs only with tcp" in str(mixed["reason"])
        memory = by_key[("tcp", "memory", workload)]
        assert memory["status"] == "unsupported" and "over tcp only" in str(memory["reason"])
    assert by_key[("tcp", "tcp", "bulk")]["rate"]["unit"] == "MB/s"
    # Named only: the default matrix leaves it out.
    from tlsbench.harness.commands import build_cases

    defaults = {impl for c in build_cases() for impl in (c.client_impl, c.server_impl)}
    assert defaults == {"rust", "python", "cryptography", "ssl", "tlslite"}
