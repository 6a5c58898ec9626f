"""Real TLS peers for the interop tests: OpenSSL processes, Python ssl and tlslite-ng threads.

A missing peer makes the test fail with a clear message; it is never skipped.
Processes are always reaped and threads joined, whatever the test's outcome.
"""

from __future__ import annotations

import queue
import shutil
import socket
import ssl
import subprocess
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tlsbench.tls import AlertReceived, ConnectionClosed, Event
from tlsbench.tls.connection import Connection
from tlsbench.tls.constants import (
    TLS12_SUITES,
    TLS13_SUITES,
    CipherSuite,
    KeyExchange,
    NamedGroup,
    key_exchange,
)

OPENSSL_GROUP = {
    NamedGroup.X25519: "X25519",
    NamedGroup.SECP256R1: "P-256",
    NamedGroup.SECP384R1: "P-384",
}
SSL_CURVE = {
    NamedGroup.X25519: "X25519",
    NamedGroup.SECP256R1: "prime256v1",
    NamedGroup.SECP384R1: "secp384r1",
}
TLSLITE_GROUP = {
    NamedGroup.X25519: "x25519",
    NamedGroup.SECP256R1: "secp256r1",
    NamedGroup.SECP384R1: "secp384r1",
}
TLSLITE_SUITE = {
    CipherSuite.TLS_AES_128_GCM_SHA256: "aes128gcm",
    CipherSuite.TLS_AES_256_GCM_SHA384: "aes256gcm",
    CipherSuite.TLS_CHACHA20_POLY1305_SHA256: "chacha20-poly1305",
}
# TLS 1.2 suites by their OpenSSL names (also what Python ssl's set_ciphers takes).
OPENSSL_CIPHER = {
    CipherSuite.TLS_RSA_WITH_AES_128_GCM_SHA256: "AES128-GCM-SHA256",
    CipherSuite.TLS_RSA_WITH_AES_256_GCM_SHA384: "AES256-GCM-SHA384",
    CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: "ECDHE-RSA-AES128-GCM-SHA256",
    CipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: "ECDHE-RSA-AES256-GCM-SHA384",
    CipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: "ECDHE-RSA-CHACHA20-POLY1305",
    CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: "ECDHE-ECDSA-AES128-GCM-SHA256",
    CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: "ECDHE-ECDSA-AES256-GCM-SHA384",
    CipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: "ECDHE-ECDSA-CHACHA20-POLY1305",
}
TLSLITE_KEY_EXCHANGE = {
    KeyExchange.RSA: "rsa",
    KeyExchange.ECDHE_RSA: "ecdhe_rsa",
    KeyExchange.ECDHE_ECDSA: "ecdhe_ecdsa",
}


def tlslite_cipher(suite: CipherSuite) -> str:
    """tlslite-ng's name of a suite's AEAD (TLS 1.2 or 1.3)."""
    if "CHACHA20" in suite.name:
        return "chacha20-poly1305"
    return "aes256gcm" if "AES_256" in suite.name else "aes128gcm"


def openssl_binary() -> str:
    """Path of the openssl command; the test fails if there is none."""
    path = shutil.which("openssl")
    if path is None:
        pytest.fail(
            "the openssl command is not installed (apt-get install openssl); it is a test peer"
        )
    return path


def tlslite() -> Any:
    """The tlslite-ng package; the test fails if it is not installed."""
    try:
        with warnings.catch_warnings():  # tlslite-ng 0.8.2 imports the deprecated asyncore
            warnings.simplefilter("ignore", DeprecationWarning)
            import tlslite.api  # type: ignore[import-untyped]
    except ImportError:
        pytest.fail(
            "tlslite-ng is not installed (pip install tlslite-ng==0.8.2); it is a test peer"
        )
    return tlslite.api


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def listener() -> socket.socket:
    """A listening socket on 127.0.0.1 with a free port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)
    sock.settimeout(20)
    return sock


def _listening(port: int) -> bool:
    # /proc/net/tcp lists local address as hex ip:port, state 0A is LISTEN.
    needle = f":{port:04X} "
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[1].endswith(needle.strip()) and fields[3] == "0A":
                return True
    return False


class Collector(threading.Thread):
    """Reads a pipe to its end into a buffer that tests can wait on."""

    def __init__(self, stream: Any) -> None:
        super().__init__(daemon=True)
        self.stream = stream
        self.data = bytearray()
        self.cond = threading.Condition()
        self.done = False
        self.start()

    def run(self) -> None:
        while True:
            try:
                chunk = self.stream.read1(1 << 16)
            except ValueError:  # the pipe was closed under us at teardown: that is its end
                chunk = b""
            with self.cond:
                if not chunk:
                    self.done = True
                    self.cond.notify_all()
                    return
                self.data += chunk
                self.cond.notify_all()

    def wait_for(self, size: int, timeout: float = 30.0) -> bytes:
        """The first ``size`` bytes; AssertionError if they do not come in time."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.data) < size and not self.done:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(left)
            assert len(self.data) >= size, f"peer wrote {len(self.data)} of {size} bytes"
            return bytes(self.data[:size])

    def wait_contains(self, text: bytes, timeout: float = 10.0) -> bool:
        """True once ``text`` has appeared (or False after ``timeout``/end of stream)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while text not in self.data and not self.done:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(left)
            return text in self.data

    def text(self) -> str:
        """What was read so far, decoded leniently."""
        with self.cond:
            return self.data.decode("utf-8", "replace")


class OpenSSL:
    """An ``openssl s_server`` or ``s_client`` process with its pipes collected."""

    def __init__(self, args: list[str]) -> None:
        self.args = [openssl_binary(), *args]
        self.proc = subprocess.Popen(
            self.args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        assert self.proc.stdout is not None and self.proc.stderr is not None
        self.stdout = Collector(self.proc.stdout)
        self.stderr = Collector(self.proc.stderr)
        self._queue: queue.Queue[tuple[bytes, float] | None] = queue.Queue()
        self._writer: threading.Thread | None = None

    def write(self, data: bytes, pause: float = 0.0) -> None:
        """Queue ``data`` for its stdin; one writer thread keeps the order (writes may block)."""
        if self._writer is None:
            self._writer = threading.Thread(target=self._write_loop, daemon=True)
            self._writer.start()
        self._queue.put((data, pause))

    def _write_loop(self) -> None:
        assert self.proc.stdin is not None
        while True:
            item = self._queue.get()
            if item is None:
                break
            data, pause = item
            try:
                self.proc.stdin.write(data)
                self.proc.stdin.flush()
            except (BrokenPipeError, ValueError, OSError):
                return
            time.sleep(pause)  # lets s_server/s_client read an interactive command alone

    def close_stdin(self) -> None:
        """End its input once the queued writes have gone."""
        if self._writer is not None:
            self._queue.put(None)
            self._writer.join(30)
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        except OSError:
            pass

    def wait(self, timeout: float = 10.0) -> int:
        """Its exit code."""
        return self.proc.wait(timeout)

    def reap(self) -> None:
        """Stop it if still running and collect it."""
        if self._writer is not None:
            self._queue.put(None)
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                if pipe is not None:
                    pipe.close()
            except OSError:
                pass
        self.stdout.join(5)
        self.stderr.join(5)

    def output(self) -> str:
        """stdout and stderr so far, for assertion messages."""
        return f"--- stdout\n{self.stdout.text()[-3000:]}\n--- stderr\n{self.stderr.text()[-3000:]}"


@contextmanager
def openssl_server(
    cert: Path, key: Path, extra: Sequence[str] = (), quiet: bool = True, version: str = "-tls1_3"
) -> Iterator[tuple[OpenSSL, int]]:
    """``openssl s_server -tls1_3`` (or ``version``; ``""`` for any), listening on a free port."""
    for _attempt in range(5):
        port = free_port()
        args = ["s_server", "-accept", f"127.0.0.1:{port}", "-cert", str(cert), "-key", str(key)]
        args += [*([version] if version else []), "-naccept", "1"]
        args += [*(["-quiet"] if quiet else []), *extra]
        server = OpenSSL(args)
        try:
            deadline = time.monotonic() + 10
            while not _listening(port) and server.proc.poll() is None:
                if time.monotonic() > deadline:
                    raise AssertionError(
                        "openssl s_server did not start listening\n" + server.output()
                    )
                time.sleep(0.01)
            if server.proc.poll() is not None:
                if "in use" in server.stderr.text():
                    continue  # lost the race for the port; take another
                raise AssertionError("openssl s_server exited\n" + server.output())
            yield server, port
            return
        finally:
            server.reap()
    raise AssertionError("no free port for openssl s_server")


@contextmanager
def openssl_client(
    port: int, extra: Sequence[str] = (), quiet: bool = True, version: str = "-tls1_3"
) -> Iterator[OpenSSL]:
    """``openssl s_client -tls1_3`` (or ``version``; ``""`` for any) to 127.0.0.1:port."""
    args = ["s_client", "-connect", f"127.0.0.1:{port}", *([version] if version else [])]
    client = OpenSSL([*args, *(["-quiet"] if quiet else []), *extra])
    try:
        yield client
    finally:
        client.reap()


class PeerThread(threading.Thread):
    """Runs a peer's function in a thread and keeps its result or exception."""

    def __init__(self, target: Callable[[], Any]) -> None:
        super().__init__(daemon=True)
        self._target_fn = target
        self.result: Any = None
        self.error: BaseException | None = None
        self.start()

    def run(self) -> None:
        try:
            self.result = self._target_fn()
        except BaseException as exc:
            self.error = exc

    def outcome(self, timeout: float = 60.0) -> Any:
        """The result; re-raises the peer's exception; fails on a hang."""
        self.join(timeout)
        assert not self.is_alive(), "peer thread did not finish"
        if self.error is not None:
            raise self.error
        return self.result


def _pin(ctx: ssl.SSLContext, tls12_suite: CipherSuite | None) -> None:
    """TLS 1.3 only, or TLS 1.2 only with one suite (which also enables RSA key exchange)."""
    if tls12_suite is None:
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        return
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(OPENSSL_CIPHER[tls12_suite])


def ssl_server_context(
    cert: Path, key: Path, tls12_suite: CipherSuite | None = None
) -> ssl.SSLContext:
    """Python ssl server context (OpenSSL underneath), TLS 1.3 only or TLS 1.2 with one suite."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    _pin(ctx, tls12_suite)
    ctx.load_cert_chain(str(cert), str(key))
    return ctx


def ssl_client_context(
    ca: Path, group: NamedGroup | None = None, tls12_suite: CipherSuite | None = None
) -> ssl.SSLContext:
    """Python ssl client context verifying against ``ca``, TLS 1.3 only or 1.2 with one suite."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    _pin(ctx, tls12_suite)
    ctx.load_verify_locations(str(ca))
    if group is not None:
        ctx.set_ecdh_curve(SSL_CURVE[group])
    return ctx


def recv_exactly(recv: Callable[[int], bytes], size: int) -> bytes:
    """Read ``size`` bytes with ``recv``; EOFError if the stream ends first."""
    out = bytearray()
    while len(out) < size:
        chunk = recv(min(size - len(out), 1 << 18))
        if not chunk:
            raise EOFError(f"stream ended after {len(out)} of {size} bytes")
        out += chunk
    return bytes(out)


PROVIDERS = ("rust", "python", "cryptography")
CERT_KINDS = ("rsa2048", "ecdsa-p256")
MIB = 1 << 20


def payload_size(provider: str) -> int:
    """Bytes sent each way: 1 MiB for every provider (the pure-Python one moves 15-30 MB/s)."""
    return MIB


def tls12_cert(suite: CipherSuite) -> str:
    """The certificate kind a TLS 1.2 suite needs."""
    return "ecdsa-p256" if key_exchange(suite) == KeyExchange.ECDHE_ECDSA else "rsa2048"


def tls12_client_groups(suite: CipherSuite, group: NamedGroup | None) -> tuple[NamedGroup, ...]:
    """The groups a client offers for ``group``: RFC 8422 §5.1 wants the P-256 certificate's
    curve among them for ECDHE_ECDSA, so x25519 cases offer secp256r1 too (the server's
    choice of x25519 is then asserted)."""
    if group is None:
        return (NamedGroup.X25519, NamedGroup.SECP256R1)
    if key_exchange(suite) == KeyExchange.ECDHE_ECDSA and group != NamedGroup.SECP256R1:
        return (group, NamedGroup.SECP256R1)
    return (group,)


TLS12_GROUPS = (NamedGroup.X25519, NamedGroup.SECP256R1)


def matrix12(providers: Sequence[str] | None = None) -> list[Any]:
    """TLS 1.2: provider x suite x group (none for RSA key exchange), with the fitting
    certificate kind. Without ``providers`` every provider runs every case; with them
    the cases are dealt out to the providers in turn (each still covers every kind)."""
    cases = [
        (s, g)
        for s in TLS12_SUITES
        for g in ((None,) if key_exchange(s) == KeyExchange.RSA else TLS12_GROUPS)
    ]
    out = []
    for i, (s, g) in enumerate(cases):
        chosen = PROVIDERS if providers is None else (providers[i % len(providers)],)
        for p in chosen:
            gname = g.name.lower() if g is not None else "rsa-kx"
            out.append(pytest.param(p, s, g, tls12_cert(s), id=f"{p}-{s.name[4:]}-{gname}"))
    return out


def matrix() -> list[Any]:
    """Every provider x TLS 1.3 suite x group x certificate kind, as pytest params."""
    return [
        pytest.param(p, s, g, c, id=f"{p}-{s.name[4:]}-{g.name.lower()}-{c}")
        for p in PROVIDERS
        for s in TLS13_SUITES
        for g in NamedGroup
        for c in CERT_KINDS
    ]


RecordHook = Callable[[int, bytes], list[bytes]]
"""Given a record's index in its direction and its bytes, the records to forward instead."""


def _forward(record_index: int, record: bytes) -> list[bytes]:
    return [record]


class Proxy:
    """A TCP relay between a client and ``upstream_port`` that lets a test rewrite records."""

    def __init__(
        self, upstream_port: int, to_server: RecordHook = _forward, to_client: RecordHook = _forward
    ) -> None:
        self.listener = listener()
        self.port = int(self.listener.getsockname()[1])
        self.upstream_port = upstream_port
        self.hooks = (to_server, to_client)
        self.thread = PeerThread(self._run)

    def _run(self) -> None:
        downstream, _ = self.listener.accept()
        upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=20)
        downstream.settimeout(20)
        pumps = [
            PeerThread(lambda: self._pump(downstream, upstream, self.hooks[0])),
            PeerThread(lambda: self._pump(upstream, downstream, self.hooks[1])),
        ]
        for pump in pumps:
            pump.join(30)
        downstream.close()
        upstream.close()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket, hook: RecordHook) -> None:
        buffer = bytearray()
        index = 0
        try:
            while True:
                chunk = src.recv(1 << 16)
                if not chunk:
                    break
                buffer += chunk
                while len(buffer) >= 5:
                    size = 5 + int.from_bytes(buffer[3:5], "big")
                    if len(buffer) < size:
                        break
                    record = bytes(buffer[:size])
                    del buffer[:size]
                    for out in hook(index, record):
                        dst.sendall(out)
                    index += 1
        except OSError:
            pass
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self) -> None:
        """Stop accepting and wait for the relay to end."""
        self.thread.join(30)
        self.listener.close()


# -- in memory ---------------------------------------------------------------------
def closed(events: list[Event]) -> ConnectionClosed:
    """The one ConnectionClosed among ``events``."""
    found = [e for e in events if isinstance(e, ConnectionClosed)]
    assert len(found) == 1, events
    return found[0]


def alerts(events: list[Event]) -> list[int]:
    """The descriptions of the alerts received."""
    return [e.description for e in events if isinstance(e, AlertReceived)]


def alert_record(description: int) -> bytes:
    """A fatal plaintext alert as our server writes it before any key: record version 0x0303."""
    return bytes((21, 3, 3, 0, 2, 2, int(description)))


def pump(client: Connection, server: Connection) -> tuple[list[Event], list[Event]]:
    """Move bytes both ways until neither side has anything to send."""
    client_events: list[Event] = []
    server_events: list[Event] = []
    while True:
        to_server, to_client = client.data_to_send(), server.data_to_send()
        if not to_server and not to_client:
            return client_events, server_events
        if to_server:
            server_events += server.receive_data(to_server)
        if to_client:
            client_events += client.receive_data(to_client)


def first_body(record: bytes) -> bytes:
    """The body of the first handshake message in a plaintext record (a flight may
    coalesce several messages in one record)."""
    return record[9 : 9 + int.from_bytes(record[6:9], "big")]


def records(data: bytes) -> list[bytes]:
    """Whole records, split by their headers."""
    out = []
    while data:
        size = 5 + int.from_bytes(data[3:5], "big")
        out.append(data[:size])
        data = data[size:]
    return out
