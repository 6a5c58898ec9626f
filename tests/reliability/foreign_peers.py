"""Helpers of test_foreign_serve: peer processes (openssl s_client, gnutls-cli) and the
loop serving a foreign stack, in a thread or in a process of its own (``serve_main``).

A missing peer command fails the test with a clear message; it is never skipped.
Processes are always reaped and threads joined, whatever the test's outcome.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tlsbench.server import ServerLimits
from tlsbench.server.foreign import factory
from tlsbench.server.loop import Server

HERE = Path(__file__).parent
PACKAGES = {"openssl": "openssl", "gnutls-cli": "gnutls-bin"}


class PeerProcess:
    """A command line TLS client with its stdin open and its output (stdout and stderr)
    collected by a thread."""

    def __init__(self, args: list[str]) -> None:
        path = shutil.which(args[0])
        if path is None:
            pytest.fail(
                f"the {args[0]} command is not installed (apt-get install "
                f"{PACKAGES.get(args[0], args[0])}); it is a test peer"
            )
        self.args = [path, *args[1:]]
        self.proc = subprocess.Popen(
            self.args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        self._output = bytearray()
        self._cond = threading.Condition()
        self._ended = False
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        while True:
            try:
                chunk = self.proc.stdout.read1(1 << 16)
            except ValueError:  # closed under us at teardown
                chunk = b""
            with self._cond:
                if not chunk:
                    self._ended = True
                    self._cond.notify_all()
                    return
                self._output += chunk
                self._cond.notify_all()

    def send(self, data: bytes) -> None:
        """Write ``data`` to its stdin."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def wait_for(self, text: bytes, timeout: float = 30.0) -> bool:
        """True once ``text`` is in its output; False at its end or after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while text not in self._output and not self._ended:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            return text in self._output

    def finish(self, timeout: float = 30.0) -> int:
        """Close its stdin (the client then closes the connection) and wait for its exit."""
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        except OSError:
            pass
        code = self.proc.wait(timeout)
        self._reader.join(timeout)
        return code

    def output(self) -> str:
        """Everything it wrote so far."""
        with self._cond:
            return self._output.decode("utf-8", "replace")

    def reap(self) -> None:
        """Stop it if it still runs, and collect it."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                try:
                    pipe.close()
                except OSError:
                    pass
        self._reader.join(10)

    def __enter__(self) -> PeerProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.reap()


def s_client(port: int, *args: str) -> PeerProcess:
    """``openssl s_client`` to 127.0.0.1:port (no interactive commands: data is data)."""
    return PeerProcess(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-nocommands", *args]
    )


def gnutls_cli(port: int, *args: str) -> PeerProcess:
    """``gnutls-cli`` to 127.0.0.1:port without chain verification."""
    return PeerProcess(["gnutls-cli", "--no-ca-verification", "-p", str(port), *args, "127.0.0.1"])


class ThreadServer:
    """The loop serving one foreign stack in a thread of this process; ``log`` its lines."""

    def __init__(self, server: Server, log: list[str]) -> None:
        self.server = server
        self.log = log
        self.port = int(server.listener.getsockname()[1])
        self.thread = threading.Thread(target=server.serve, daemon=True)
        self.thread.start()

    def settle(self, timeout: float = 10.0) -> None:
        """Wait until it serves no connection, then stop it: every connection is counted
        (the loop counts a failure just after the connection leaves ``active``)."""
        deadline = time.monotonic() + timeout
        while self.server.active and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not self.server.active, f"still {self.server.active} connections"
        self.stop()

    def failures(self) -> dict[str, int]:
        """Failure counts so far."""
        return dict(self.server.stats.failures)

    def stop(self) -> None:
        """Stop it and wait for its thread (again: nothing more)."""
        self.server.stop()
        self.thread.join(10)
        assert not self.thread.is_alive(), "the server thread did not stop"
        self.server.listener.close()


def listener() -> socket.socket:
    """A listening socket on 127.0.0.1 with a port of the kernel's choice."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    return sock


def start_thread_server(
    impl: str,
    certificates: list[tuple[Path, Path]],
    limits: ServerLimits | None = None,
    http: bool = False,
    **profile: Any,
) -> ThreadServer:
    """The loop with ``factory(impl, certificates, **profile)`` on a fresh port."""
    log: list[str] = []
    make = factory(impl, certificates, **profile)
    server = Server(listener(), make, limits, log=log.append, grace=0.5, http=http)
    return ThreadServer(server, log)


def serve_main(spec: str) -> None:
    """Entry point of a server process: JSON ``spec`` (impl, certificates, profile,
    count). Prints ``listening PORT``, the log lines, and at the end ``stats JSON``."""
    args = json.loads(spec)
    make = factory(
        args["impl"],
        [(Path(c), Path(k)) for c, k in args["certificates"]],
        **args.get("profile", {}),
    )
    sock = listener()
    server = Server(
        sock,
        make,
        ServerLimits(handshake_timeout=10.0),
        count=int(args["count"]),
        log=lambda line: print(line, flush=True),
        grace=0.5,
    )
    print(f"listening {sock.getsockname()[1]}", flush=True)
    stats = server.serve()
    sock.close()
    print("stats " + json.dumps(stats.to_dict()), flush=True)


def start_process_server(
    spec: dict[str, Any], env: dict[str, str]
) -> tuple[subprocess.Popen[str], int]:
    """``serve_main(spec)`` in a new Python process with ``env``; the process and its port."""
    code = "import sys, foreign_peers; foreign_peers.serve_main(sys.argv[1])"
    proc = subprocess.Popen(
        [sys.executable, "-W", "ignore::DeprecationWarning", "-c", code, json.dumps(spec)],
        cwd=HERE,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("listening "):
        proc.kill()
        _, err = proc.communicate(timeout=10)
        raise AssertionError(f"the server process did not start: {line}{err}")
    return proc, int(line.split()[1])
