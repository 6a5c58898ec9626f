"""Handshakes per second with N Locust workers against one ``tlsbench serve``, and the CPU
each process used (docs/load.md): ``python -m tlsbench.swarm.measure --workers 1 2``.

Per worker count: a fresh server (rust, quiet), a headless master and N workers on
127.0.0.1; the CPU of every process is read over the middle of the run (from 1.5 s after the
master sends the spawn jobs to one second before the end), with the whole
machine's busy time beside it (100% is one core).
"""

from __future__ import annotations

import argparse
import csv
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]

from tlsbench.harness.load import spawn_server, stop_server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cpu(pids: dict[str, int]) -> dict[str, float]:
    """CPU seconds so far of each named process, and of the whole machine (``machine``)."""
    out = {}
    for name, pid in pids.items():
        times = psutil.Process(pid).cpu_times()
        out[name] = float(times.user + times.system)
    machine = psutil.cpu_times()
    out["machine"] = float(machine.user + machine.nice + machine.system + machine.softirq)
    return out


def measure(workers: int, users: int, seconds: int, impl: str, directory: Path) -> dict[str, Any]:
    """One run; handshakes/s (Locust's and the server's), and each process's CPU share."""
    server, port = spawn_server(directory, 10.0)
    master_port = _free_port()
    tlsbench = [sys.executable, "-m", "tlsbench", "locust"]
    log = (directory / "master.log").open("w")
    master = subprocess.Popen(
        [
            *tlsbench,
            "--master",
            "--headless",
            "--expect-workers",
            str(workers),
            "--master-bind-host",
            "127.0.0.1",
            "--master-bind-port",
            str(master_port),
            "-u",
            str(users),
            "-r",
            str(users),
            "-t",
            f"{seconds}s",
            "--stop-timeout",
            "5",
            "--csv",
            str(directory / "out"),
            "--target",
            f"127.0.0.1:{port}",
            "--ca-file",
            str(directory / "ca.pem"),
            "--impl",
            impl,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    procs = [
        subprocess.Popen(
            [
                *tlsbench,
                "--worker",
                "--master-host",
                "127.0.0.1",
                "--master-port",
                str(master_port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    pids = {"server": server.pid, "master": master.pid}
    pids.update({f"worker {i + 1}": p.pid for i, p in enumerate(procs)})
    try:
        end = time.monotonic() + 60
        while "Sending spawn jobs" not in (directory / "master.log").read_text():
            if time.monotonic() > end or master.poll() is not None:
                raise RuntimeError((directory / "master.log").read_text()[-1000:])
            time.sleep(0.05)
        time.sleep(1.5)  # every user spawned (-r is -u) and connecting
        first, start = _cpu(pids), time.monotonic()
        time.sleep(seconds - 2.5)
        last, wall = _cpu(pids), time.monotonic() - start
        master.wait(timeout=60)
    finally:
        for proc in (master, *procs):
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        log.close()
        served = stop_server(server, directory / "server-stats.json")
    with open(directory / "out_stats.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["Type"] == "tls handshake"]
    return {
        "workers": workers,
        "handshakes": sum(int(r["Request Count"]) for r in rows),
        "handshakes_per_s": sum(float(r["Requests/s"]) for r in rows),
        "server_handshakes": served.get("handshakes"),
        "cpu_percent": {k: round((last[k] - first[k]) / wall * 100) for k in last},
    }


def main() -> None:
    """Run each worker count in turn and print one line per run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--impl", default="rust")
    options = parser.parse_args()
    if options.seconds < 4:
        parser.error("--seconds must be at least 4")
    for workers in options.workers:
        with tempfile.TemporaryDirectory(prefix="tlsbench-measure-") as directory:
            result = measure(workers, options.users, options.seconds, options.impl, Path(directory))
        cpu = ", ".join(f"{k} {v}%" for k, v in result["cpu_percent"].items())
        cpu += f" (of {psutil.cpu_count()} cores)"
        rate = result["handshakes_per_s"]
        cost = ", ".join(
            f"{k} {v * 10 / rate:.2f}"
            for k, v in result["cpu_percent"].items()
            if k.startswith(("server", "worker"))
        )
        print(
            f"{workers} worker(s), {options.users} users, {options.impl}: "
            f"{result['handshakes_per_s']:.0f} handshakes/s "
            f"({result['handshakes']} in Locust, {result['server_handshakes']} at the server); "
            f"CPU: {cpu}; CPU ms a handshake: {cost}",
            flush=True,
        )


if __name__ == "__main__":
    main()
