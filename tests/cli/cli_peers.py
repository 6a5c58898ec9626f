"""Real peers for the command-line tests: ``tlsbench serve`` as a process, OpenSSL's and
GnuTLS's clients, and ``tlsbench connect``; a missing peer fails the test, never skips it."""

from __future__ import annotations

import os
import re
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

SUITES13 = ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256")
# TLS 1.2 suites: IANA name -> OpenSSL name.
SUITES12 = {
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-ECDSA-CHACHA20-POLY1305",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": "ECDHE-RSA-AES128-GCM-SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": "ECDHE-RSA-AES256-GCM-SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-RSA-CHACHA20-POLY1305",
    "TLS_RSA_WITH_AES_128_GCM_SHA256": "AES128-GCM-SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384": "AES256-GCM-SHA384",
}
GROUPS = ("x25519", "secp256r1", "secp384r1")
OPENSSL_GROUP = {"x25519": "X25519", "secp256r1": "P-256", "secp384r1": "P-384"}


def binary(name: str, package: str) -> str:
    """The path of a peer program; the test fails when it is missing."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed (apt-get install {package}); it is a test peer")
    return path


def profile_cases() -> list[tuple[str, str, str]]:
    """(version, suite, group) for every suite and every group a client can use with it.

    RFC 8422 §5.1: a TLS 1.2 ECDSA certificate's curve (P-256 here) must be among the
    client's groups, so an ECDHE-ECDSA client offers P-256 beside the group under test, and
    the server, preferring P-256 to P-384, never picks P-384 then: those pairs are left out.
    RSA key exchange uses no group ("-").
    """
    cases = [("1.3", s, g) for s in SUITES13 for g in GROUPS]
    for suite in SUITES12:
        if suite.startswith("TLS_RSA_"):
            cases.append(("1.2", suite, "-"))
            continue
        for group in GROUPS:
            if "_ECDSA_" in suite and group == "secp384r1":
                continue
            cases.append(("1.2", suite, group))
    return cases


def client_groups(version: str, suite: str, group: str) -> list[str]:
    """The groups a client offers for a case (see :func:`profile_cases`)."""
    if group == "-":
        return ["x25519"]
    if version == "1.2" and "_ECDSA_" in suite and group != "secp256r1":
        return [group, "secp256r1"]
    return [group]


def tlsbench(
    *args: str, timeout: float = 60, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m tlsbench ARGS``."""
    return subprocess.run(
        [sys.executable, "-m", "tlsbench", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        env=env,
    )


class Served:
    """``tlsbench serve`` in its own process; its stdout lines are collected as they come."""

    def __init__(self, directory: Path, *args: str) -> None:
        self.directory = directory
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tlsbench",
                "serve",
                "--port",
                "0",
                "--cert-dir",
                str(directory),
                *args,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        first = self.proc.stdout.readline()
        if "listening on" not in first:
            self.proc.kill()
            err = self.proc.stderr.read() if self.proc.stderr else ""
            pytest.fail(f"tlsbench serve did not start: {first}{err}")
        self.banner = first
        self.port = int(first.split()[2].rpartition(":")[2])
        match = re.search(r"CA file (\S+)", first)
        self.ca_file = match.group(1) if match else ""
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def mark(self) -> int:
        """How many lines so far: give it to :meth:`wait_for` to look only at later ones."""
        return len(self.lines)

    def wait_for(self, needle: str, since: int = 0, timeout: float = 10.0) -> str:
        """The first log line from ``since`` on containing ``needle``; fails after ``timeout``."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for line in self.lines[since:]:
                if needle in line:
                    return line
            time.sleep(0.02)
        pytest.fail(f"no server line with {needle!r} in {timeout} s; lines: {self.lines[-10:]}")

    def stop(self) -> list[str]:
        """SIGTERM, then every line it printed (the summary last)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
        self._reader.join(timeout=5)
        return self.lines


@dataclass
class PeerRun:
    """What a peer client printed and how it ended."""

    output: str
    echoed: bool
    returncode: int | None


def run_peer(
    command: list[str], payload: bytes, timeout: float = 15.0, env: dict[str, str] | None = None
) -> PeerRun:
    """Start a client that reads stdin and prints what the server sends; write ``payload``,
    keep stdin open until it comes back (PEERS.md: a closed stdin may close the
    connection before the reply), then close stdin and collect everything."""
    proc = subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {})},
    )
    assert proc.stdin is not None and proc.stdout is not None
    out = b""
    echoed = False
    try:
        proc.stdin.write(payload)
        proc.stdin.flush()
        end = time.monotonic() + timeout
        fd = proc.stdout.fileno()
        while time.monotonic() < end:
            ready, _, _ = select.select([fd], [], [], 0.1)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            out += chunk
            if payload.strip() in out:
                echoed = True
                break
        proc.stdin.close()
        killer = threading.Timer(timeout, proc.kill)  # a peer that never exits cannot hang us
        killer.start()
        try:
            out += proc.stdout.read()
            proc.wait()
        finally:
            killer.cancel()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return PeerRun(out.decode("utf-8", "replace"), echoed, proc.returncode)
