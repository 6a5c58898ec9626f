"""Peers for the resumption and client-certificate command-line tests: ``openssl s_server``
on a free port, ``openssl s_client`` with a session file, and the credentials (a CA, a
server leaf and a client leaf under it) that ``tlsbench certs`` writes."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from cli_peers import binary, run_peer, tlsbench


@dataclass(frozen=True)
class Creds:
    """What ``tlsbench certs --kind ecdsa-p256`` wrote."""

    ca: str
    cert: str
    key: str
    client_cert: str
    client_key: str


def make_creds(directory: Path) -> Creds:
    """``tlsbench certs`` into ``directory`` (ECDSA P-256), checked."""
    r = tlsbench("certs", "--out", str(directory), "--kind", "ecdsa-p256")
    assert r.returncode == 0, r.stderr
    assert "client certificate (CN tlsbench-client, same CA)" in r.stdout, r.stdout
    d = directory / "ecdsa-p256"
    return Creds(
        *(f"{d}-{part}.pem" for part in ("ca", "cert", "key", "client-cert", "client-key"))
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return False
    return True


@contextmanager
def s_server(creds: Creds, *args: str) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """``openssl s_server -www`` with the server leaf and ARGS on a free port; its stdin
    stays open (a closed one stops it). Yields the process and the port."""
    for _attempt in range(5):
        port = _free_port()
        proc = subprocess.Popen(
            [
                binary("openssl", "openssl"),
                "s_server",
                "-accept",
                f"127.0.0.1:{port}",
                "-cert",
                creds.cert,
                "-key",
                creds.key,
                "-www",
                *args,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            deadline = time.monotonic() + 10
            while not _listening(port) and proc.poll() is None:
                if time.monotonic() > deadline:
                    pytest.fail("openssl s_server did not start listening")
                time.sleep(0.02)
            if proc.poll() is not None:
                out = proc.stdout.read() if proc.stdout else ""
                if "in use" in out:
                    continue
                pytest.fail(f"openssl s_server exited: {out}")
            yield proc, port
            return
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
    pytest.fail("no free port for openssl s_server")


def s_client(port: int, ca_file: str, *args: str) -> str:
    """``openssl s_client`` to ``port`` verifying against ``ca_file``: sends a line, waits
    for its echo (so a TLS 1.3 ticket has arrived before it exits), returns the output."""
    run = run_peer(
        [
            binary("openssl", "openssl"),
            "s_client",
            "-connect",
            f"127.0.0.1:{port}",
            "-servername",
            "localhost",
            "-CAfile",
            ca_file,
            "-verify_return_error",
            *args,
        ],
        b"ping-resume\n",
    )
    return run.output


@contextmanager
def gnutls_serv(creds: Creds) -> Iterator[int]:
    """``gnutls-serv --echo`` with the server leaf on a free port (GnuTLS resumes by
    session ID and, in TLS 1.3, by ticket by default). Yields the port."""
    for _attempt in range(5):
        port = _free_port()
        proc = subprocess.Popen(
            [
                binary("gnutls-serv", "gnutls-bin"),
                "--x509certfile",
                creds.cert,
                "--x509keyfile",
                creds.key,
                "-p",
                str(port),
                "--echo",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            deadline = time.monotonic() + 10
            while not _listening(port) and proc.poll() is None:
                if time.monotonic() > deadline:
                    pytest.fail("gnutls-serv did not start listening")
                time.sleep(0.02)
            if proc.poll() is not None:
                continue  # most likely lost the race for the port
            yield port
            return
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
    pytest.fail("no free port for gnutls-serv")


def gnutls_cli_resume(port: int, ca_file: str, priority: str) -> str:
    """``gnutls-cli --resume`` (a second connection resuming the first's session)."""
    run = run_peer(
        [
            binary("gnutls-cli", "gnutls-bin"),
            "--resume",
            "--x509cafile",
            ca_file,
            "--priority",
            priority,
            "-p",
            str(port),
            "localhost",
        ],
        b"ping-resume\n",
    )
    return run.output
