"""``tlsbench locust``: a real Locust master and two workers, each its own process, load
``tlsbench serve`` and ``openssl s_server``; a server that refuses the client's suite shows
up in Locust's failures under the alert's name."""

from __future__ import annotations

import json
import re
import socket
import ssl
import subprocess
import sys
from pathlib import Path

from cli_peers import Served, binary
from locust_swarm_runs import SwarmRun, free_port, run_distributed, run_local, wait_listening

PHASES = {"tcp connect", "tls handshake", "first byte"}


def _both_workers(run: SwarmRun) -> None:
    assert "2 workers connected" in run.log, run.log[-2000:]
    assert "tlsbench: 2 workers reported" in run.log, run.log[-2000:]
    by_worker: dict[str, int] = {}
    for row in run.workers:
        if row["Count of"] == "requests":
            by_worker[row["Worker"]] = by_worker.get(row["Worker"], 0) + int(row["Count"])
    assert len(by_worker) == 2 and all(n > 0 for n in by_worker.values()), run.workers
    # What the workers reported adds up to what the master aggregated.
    assert sum(by_worker.values()) == int(run.aggregated()["Request Count"])


def _no_failures(run: SwarmRun) -> None:
    assert run.returncode == 0, run.log[-2000:]
    assert run.failures == [], run.failures
    assert run.aggregated()["Failure Count"] == "0"


def test_master_and_two_workers_against_tlsbench_serve(tmp_path: Path) -> None:
    stats_file = tmp_path / "server-stats.json"
    server = Served(tmp_path / "serve", "--quiet", "--stats-json", str(stats_file))
    try:
        run = run_distributed(
            tmp_path,
            ["--target", f"127.0.0.1:{server.port}", "--ca-file", server.ca_file],
            ["Handshake", "Bulk", "Garbage", "Reset"],
        )
    finally:
        lines = server.stop()
    assert lines[-1].startswith("summary:"), lines[-3:]
    served = json.loads(stats_file.read_text())
    _both_workers(run)
    _no_failures(run)
    types = {r["Type"] for r in run.stats if r["Name"] != "Aggregated"}
    assert types == {*PHASES, "transfer", "hostile"}, types
    names = {r["Name"] for r in run.rows("hostile")}
    assert any(n.startswith("garbage: alert ") for n in names), names
    assert any(n.startswith("rst: ") for n in names), names
    handshakes = run.count("tls handshake")
    assert handshakes > 0
    # Every handshake Locust counted, and no other, completed at the server.
    assert handshakes == served["handshakes"], (handshakes, served)
    # Each bulk connection moved --bytes (1 MiB by default) out and back.
    assert [float(r["Average Content Size"]) for r in run.rows("transfer")] == [1 << 20]


def _finished_accepts(port: int, ca_file: str) -> int:
    """``openssl s_server -www``'s own count of completed handshakes (this one included)."""
    context = ssl.create_default_context(cafile=ca_file)
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as sock,
    ):
        sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
        page = b""
        while chunk := sock.recv(1 << 16):
            page += chunk
    match = re.search(rb"(\d+) server accepts that finished", page)
    assert match, page[:500]
    return int(match.group(1))


def test_master_and_two_workers_with_ssl_against_openssl_s_server(tmp_path: Path) -> None:
    from tlsbench.tls.certs import write_credentials

    files = write_credentials(tmp_path, "ecdsa-p256")
    port = free_port()
    openssl = binary("openssl", "openssl")
    server = subprocess.Popen(
        [
            openssl,
            "s_server",
            "-accept",
            f"127.0.0.1:{port}",
            "-cert",
            str(files.cert_file),
            "-key",
            str(files.key_file),
            "-www",
            "-quiet",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_listening(port, server)
        before = _finished_accepts(port, str(files.ca_file))
        ssl_options = ["--impl", "ssl"]
        run = run_distributed(
            tmp_path,
            [
                "--target",
                f"127.0.0.1:{port}",
                "--ca-file",
                str(files.ca_file),
                "--server-name",
                "localhost",
                *ssl_options,
            ],
            ["Handshake"],
            worker_options=tuple(ssl_options),
        )
        after = _finished_accepts(port, str(files.ca_file))
    finally:
        server.terminate()
        server.wait(timeout=10)
    _both_workers(run)
    _no_failures(run)
    assert {r["Type"] for r in run.stats if r["Name"] != "Aggregated"} == PHASES
    handshakes = run.count("tls handshake")
    assert handshakes > 0
    assert handshakes == after - before - 1, (handshakes, before, after)


def test_alerts_are_named_in_locusts_failures(tmp_path: Path) -> None:
    server = Served(
        tmp_path / "serve", "--quiet", "--tls", "1.3", "--suite", "TLS_AES_256_GCM_SHA384"
    )
    try:
        runs = {}
        for impl in ("rust", "ssl"):
            directory = tmp_path / impl
            directory.mkdir()
            runs[impl] = run_local(
                directory,
                [
                    "--target",
                    f"127.0.0.1:{server.port}",
                    "--ca-file",
                    server.ca_file,
                    "--impl",
                    impl,
                    "--tls",
                    "1.3",
                    "--suite",
                    "TLS_AES_128_GCM_SHA256",
                ],
                ["Handshake"],
            )
    finally:
        server.stop()
    for impl, run in runs.items():
        assert run.returncode == 1, (impl, run.log[-2000:])  # Locust's exit code on failures
        assert run.failures, impl
        for row in run.failures:
            assert (row["Method"], row["Name"], row["Error"]) == (
                "tls handshake",
                "handshake_failure",
                "handshake_failure",
            ), (impl, row)
        assert "Traceback" not in run.log, (impl, run.log[-2000:])
        assert run.count("first byte") == 0


def test_without_locust_one_line_and_exit_2() -> None:
    hide = (
        "import importlib.util, sys\n"
        "real = importlib.util.find_spec\n"
        "importlib.util.find_spec = lambda name, *a: None if name == 'locust' else real(name, *a)\n"
        "from tlsbench.cli import main\n"
        "sys.argv = ['tlsbench', 'locust', '--target', '127.0.0.1:1']\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, "-c", hide], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "tlsbench: error: Locust is not installed; install it with: pip install 'tlsbench[locust]'"
    ]


def test_bad_options_are_one_line_before_locust_starts() -> None:
    for args, message in (
        (["--target", "nowhere"], "expected HOST:PORT"),
        (["--target", "127.0.0.1:1", "--suite", "TLS_NOPE"], "unknown suite 'TLS_NOPE'"),
        (["--target", "127.0.0.1:1", "--ca-file", "/nonexistent.pem"], "no such file"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "tlsbench", "locust", *args],
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
        assert done.returncode == 2, (args, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], (args, lines)


def test_no_target_stops_a_headless_run_with_one_error_line() -> None:
    # Locust's config files may name --target, so Locust parses first; then one line, exit 2.
    done = subprocess.run(
        [sys.executable, "-m", "tlsbench", "locust", "--headless", "-t", "2s"],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if "error" in line.lower()]
    assert errors == ["tlsbench: error: give --target HOST:PORT (the server to load)"], errors
