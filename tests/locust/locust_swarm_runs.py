"""Run ``tlsbench locust`` as a real master and workers (or one local process) and read
what Locust wrote: the stats, failures and per-worker CSV files and the master's log."""

from __future__ import annotations

import csv
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

BOUND = ["-u", "4", "-r", "4", "-t", "5s", "--stop-timeout", "5"]
"""Every run: 4 users, spawned at 4 a second, for 5 s; a user ends its connection at stop."""


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_listening(port: int, proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """Until something accepts on ``port``; fails if ``proc`` exits or time runs out."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            pytest.fail(f"the server exited ({proc.returncode}) before listening on {port}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"nothing listening on {port} after {timeout} s")


@dataclass
class SwarmRun:
    """What one run left: CSV rows by file and the master's (or lone process's) output."""

    stats: list[dict[str, str]]
    failures: list[dict[str, str]]
    workers: list[dict[str, str]]
    log: str
    returncode: int

    def rows(self, request_type: str) -> list[dict[str, str]]:
        """The stats rows of one request type."""
        return [r for r in self.stats if r["Type"] == request_type]

    def count(self, request_type: str) -> int:
        """Requests of one type, every name."""
        return sum(int(r["Request Count"]) for r in self.rows(request_type))

    def aggregated(self) -> dict[str, str]:
        """The Aggregated row."""
        return next(r for r in self.stats if r["Name"] == "Aggregated")


def _csv(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def _tlsbench_locust(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("w") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "tlsbench", "locust", *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )


def _finish(proc: subprocess.Popen[bytes], timeout: float) -> int:
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        pytest.fail(f"tlsbench locust (pid {proc.pid}) did not end in {timeout} s")


def _result(directory: Path, log: Path, returncode: int) -> SwarmRun:
    prefix = directory / "out"
    return SwarmRun(
        _csv(Path(f"{prefix}_stats.csv")),
        _csv(Path(f"{prefix}_failures.csv")),
        _csv(Path(f"{prefix}_workers.csv")),
        log.read_text(),
        returncode,
    )


def run_distributed(
    directory: Path, options: list[str], users: list[str], worker_options: tuple[str, ...] = ()
) -> SwarmRun:
    """A headless master expecting two workers, and the two workers, each its own process."""
    port = free_port()
    master_log = directory / "master.log"
    master = _tlsbench_locust(
        [
            "--master",
            "--headless",
            "--expect-workers",
            "2",
            "--master-bind-host",
            "127.0.0.1",
            "--master-bind-port",
            str(port),
            *BOUND,
            "--csv",
            str(directory / "out"),
            *options,
            *users,
        ],
        master_log,
    )
    workers = [
        _tlsbench_locust(
            ["--worker", "--master-host", "127.0.0.1", "--master-port", str(port), *worker_options],
            directory / f"worker{i}.log",
        )
        for i in (1, 2)
    ]
    try:
        code = _finish(master, 60)
    finally:
        for worker in workers:
            _finish(worker, 20)
    return _result(directory, master_log, code)


def run_local(directory: Path, options: list[str], users: list[str]) -> SwarmRun:
    """One headless Locust process, no workers."""
    log = directory / "local.log"
    proc = _tlsbench_locust(
        ["--headless", *BOUND, "--csv", str(directory / "out"), *options, *users], log
    )
    return _result(directory, log, _finish(proc, 60))
