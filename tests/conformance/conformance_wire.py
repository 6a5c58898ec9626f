"""A raw TLS peer for the conformance tests: exact bytes out, records and alerts back.

Builds records of any content type and record version, ClientHellos with any
legacy_version, suites and extensions, and reads what a server answers until it
closes (``eof``), resets (``reset``) or goes quiet (``timeout``). Where a test needs
a real handshake after hand-made bytes, :class:`SplicedClient` drives our own
``tlsbench.tls.ClientConnection`` over the socket.
"""

from __future__ import annotations

import os
import select
import socket
import ssl
import struct
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric import ec, x25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tlsbench.tls import ClientConfig, ClientConnection, Event
from tlsbench.tls.constants import TLS13, AlertDescription
from tlsbench.tls.events import AlertReceived, ConnectionClosed, HandshakeComplete
from tlsbench.tls.messages import ClientHello

# Content types (RFC 8446 §5.1).
CCS, ALERT, HANDSHAKE, APPDATA = 20, 21, 22, 23
# Extension code points used here (RFC 8446 §4.2, RFC 7685 for padding).
EXT_SERVER_NAME = 0
EXT_SUPPORTED_GROUPS = 10
EXT_EC_POINT_FORMATS = 11
EXT_SIGNATURE_ALGORITHMS = 13
EXT_PADDING = 21
EXT_EARLY_DATA = 42
EXT_SUPPORTED_VERSIONS = 43
EXT_PSK_MODES = 45
EXT_KEY_SHARE = 51
X25519, SECP256R1 = 0x001D, 0x0017
# Signature schemes every server here can use (ECDSA P-256, RSA-PSS, PKCS#1 for 1.2).
SIG_SCHEMES = (0x0403, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601)
TLS13_SUITES = (0x1301, 0x1302, 0x1303)
TLS12_ECDHE_SUITES = (0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8)


def u8(v: int) -> bytes:
    return struct.pack("!B", v)


def u16(v: int) -> bytes:
    return struct.pack("!H", v)


def u24(v: int) -> bytes:
    return struct.pack("!I", v)[1:]


def vec(data: bytes, width: int) -> bytes:
    """``data`` behind its ``width``-byte length."""
    return len(data).to_bytes(width, "big") + data


def record(content_type: int, payload: bytes, version: int = 0x0303) -> bytes:
    """One TLSPlaintext/TLSCiphertext record as it goes on the wire (no size check)."""
    return u8(content_type) + u16(version) + u16(len(payload)) + payload


def records(content_type: int, data: bytes, size: int = 1 << 14, version: int = 0x0303) -> bytes:
    """``data`` split into records of at most ``size`` bytes."""
    return b"".join(
        record(content_type, data[i : i + size], version) for i in range(0, len(data), size)
    )


def handshake(msg_type: int, body: bytes) -> bytes:
    """A handshake message: type, uint24 length, body."""
    return u8(msg_type) + u24(len(body)) + body


def extension(ext_type: int, data: bytes) -> bytes:
    return u16(ext_type) + vec(data, 2)


def supported_versions(versions: Sequence[int]) -> bytes:
    return extension(EXT_SUPPORTED_VERSIONS, vec(b"".join(map(u16, versions)), 1))


def supported_groups(groups: Sequence[int]) -> bytes:
    return extension(EXT_SUPPORTED_GROUPS, vec(b"".join(map(u16, groups)), 2))


def signature_algorithms(schemes: Sequence[int]) -> bytes:
    return extension(EXT_SIGNATURE_ALGORITHMS, vec(b"".join(map(u16, schemes)), 2))


def key_share(shares: Sequence[tuple[int, bytes]]) -> bytes:
    """key_share with these (group, key_exchange bytes) entries, whatever their length."""
    entries = b"".join(u16(g) + vec(k, 2) for g, k in shares)
    return extension(EXT_KEY_SHARE, vec(entries, 2))


def padding(length: int) -> bytes:
    return extension(EXT_PADDING, bytes(length))


def early_data() -> bytes:
    return extension(EXT_EARLY_DATA, b"")


def psk_modes(modes: Sequence[int] = (1,)) -> bytes:
    return extension(EXT_PSK_MODES, vec(bytes(modes), 1))


def point_formats() -> bytes:
    return extension(EXT_EC_POINT_FORMATS, vec(b"\x00", 1))


def x25519_public() -> bytes:
    """A real X25519 public key (32 bytes)."""
    return (
        x25519.X25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    )


def p256_public() -> bytes:
    """A real uncompressed P-256 point (65 bytes)."""
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    return key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)


def client_hello_body(
    suites: Sequence[int] = TLS13_SUITES,
    extensions: Iterable[bytes] = (),
    legacy_version: int = 0x0303,
    session_id: bytes | None = None,
    suites_raw: bytes | None = None,
) -> bytes:
    """A ClientHello body; ``suites_raw`` replaces the suite list's bytes (any length)."""
    sid = os.urandom(32) if session_id is None else session_id
    raw_suites = b"".join(map(u16, suites)) if suites_raw is None else suites_raw
    exts = b"".join(extensions)
    return (
        u16(legacy_version)
        + os.urandom(32)
        + vec(sid, 1)
        + vec(raw_suites, 2)
        + vec(b"\x00", 1)
        + vec(exts, 2)
    )


def tls13_extensions(
    group: int = X25519, share: bytes | None = None, extra: Iterable[bytes] = ()
) -> list[bytes]:
    """What a TLS 1.3-only client sends: versions, groups, signatures, one key share."""
    public = share if share is not None else (x25519_public() if group == X25519 else p256_public())
    return [
        supported_versions([TLS13]),
        supported_groups([group]),
        signature_algorithms(SIG_SCHEMES),
        psk_modes(),
        key_share([(group, public)]),
        *extra,
    ]


def tls12_extensions(groups: Sequence[int] = (X25519, SECP256R1)) -> list[bytes]:
    """What a TLS 1.2-only ECDHE client sends."""
    return [supported_groups(groups), point_formats(), signature_algorithms(SIG_SCHEMES)]


def hello_record(body: bytes, version: int = 0x0301) -> bytes:
    """The ClientHello message in as many records as it needs."""
    return records(HANDSHAKE, handshake(1, body), version=version)


@dataclass
class Answer:
    """What a server sent on one connection, record by record, and how it ended."""

    records: list[tuple[int, int, bytes]] = field(default_factory=list)
    """(content type, record version, payload) for each whole record."""
    end: str = "timeout"
    """``eof`` (FIN), ``reset`` (RST) or ``timeout`` (nothing more, connection still open)."""
    trailing: bytes = b""
    """Bytes after the last whole record."""

    @property
    def alerts(self) -> list[tuple[int, int]]:
        """(level, description) of every plaintext alert record."""
        return [(p[0], p[1]) for t, _v, p in self.records if t == ALERT and len(p) == 2]

    @property
    def types(self) -> list[int]:
        return [t for t, _v, _p in self.records]

    def handshake_types(self) -> list[int]:
        """The handshake message types in the plaintext handshake records."""
        data = b"".join(p for t, _v, p in self.records if t == HANDSHAKE)
        out = []
        while len(data) >= 4:
            out.append(data[0])
            data = data[4 + int.from_bytes(data[1:4], "big") :]
        return out

    def describe(self) -> str:
        return f"records {[(t, len(p)) for t, _v, p in self.records]}, end {self.end}"


def parse_records(data: bytes) -> tuple[list[tuple[int, int, bytes]], bytes]:
    """Whole records at the start of ``data`` and the bytes left over."""
    out = []
    while len(data) >= 5:
        length = int.from_bytes(data[3:5], "big")
        if len(data) < 5 + length:
            break
        out.append((data[0], int.from_bytes(data[1:3], "big"), data[5 : 5 + length]))
        data = data[5 + length :]
    return out, data


def read_answer(sock: socket.socket, timeout: float = 4.0, quiet: float | None = None) -> Answer:
    """Read until EOF, RST, ``timeout`` in all, or ``quiet`` seconds without a byte."""
    data = bytearray()
    end = "timeout"
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        ready, _, _ = select.select([sock], [], [], min(left, quiet) if quiet else left)
        if not ready:
            if quiet:
                break
            continue
        try:
            chunk = sock.recv(1 << 16)
        except ConnectionResetError:
            end = "reset"
            break
        if not chunk:
            end = "eof"
            break
        data += chunk
    recs, rest = parse_records(bytes(data))
    return Answer(recs, end, rest)


def connect(port: int) -> socket.socket:
    """A TCP connection to 127.0.0.1:port, Nagle off (so split writes stay split)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def send_quietly(sock: socket.socket, data: bytes) -> bool:
    """Send ``data``; False when the peer has closed or reset (it stopped listening)."""
    try:
        sock.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        return False
    return True


def exchange(port: int, data: bytes, timeout: float = 4.0) -> Answer:
    """Connect, send ``data``, half-close nothing, read the answer to its end."""
    with connect(port) as sock:
        send_quietly(sock, data)
        return read_answer(sock, timeout)


def alert_name(description: int) -> str:
    try:
        return AlertDescription(description).name.lower()
    except ValueError:
        return str(description)


def good_client(port: int, ca_file: str, version: str = "1.3", http: bool = False) -> str:
    """A full handshake with Python's ssl (another stack), one round trip; returns the reply."""
    ctx = ssl.create_default_context(cafile=ca_file)
    if version == "1.2":
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            tls.sendall(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n" if http else b"ping\n")
            reply = tls.recv(4096)
            return f"{tls.version()} {reply[:40]!r}"


Hook = Callable[[ClientHello], ClientHello]


class _HookedClient(ClientConnection):
    """Our client whose first ClientHello passes through ``hook`` before it is sent."""

    hook: Hook | None = None
    every_hello = False
    _hellos = 0

    def make_client_hello(self, cookie: bytes | None = None) -> ClientHello:
        hello = super().make_client_hello(cookie)
        self._hellos += 1
        if (self._hellos > 1 and not self.every_hello) or self.hook is None:
            return hello
        return type(self).hook(hello)  # type: ignore[misc]


def add_extensions(extra: dict[int, bytes]) -> Hook:
    """A hook adding (or replacing) extensions, appended in this order."""

    def hook(hello: ClientHello) -> ClientHello:
        exts = {k: v for k, v in hello.extensions.items() if k not in extra}
        return ClientHello(
            hello.random, hello.legacy_session_id, hello.cipher_suites, {**exts, **extra}
        )

    return hook


class SplicedClient:
    """Our engine's real TLS 1.3 client over a socket, with hand-made records spliced in."""

    def __init__(
        self, port: int, config: ClientConfig, hook: Hook | None = None, every_hello: bool = False
    ) -> None:
        attrs = {"hook": staticmethod(hook) if hook else None, "every_hello": every_hello}
        cls = type("Client", (_HookedClient,), attrs)
        self.conn: ClientConnection = cls(config)
        self.sock = connect(port)
        self.events: list[Event] = []
        self.end = ""

    def send_hello(self) -> None:
        self.sock.sendall(self.conn.data_to_send())

    def send_raw(self, data: bytes) -> bool:
        return send_quietly(self.sock, data)

    def run(
        self,
        timeout: float = 5.0,
        until_complete: bool = True,
        until: Callable[[], bool] | None = None,
    ) -> None:
        """Pump bytes both ways until the handshake completes (or ``until()``), or the
        connection ends."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            # Our last flight (CCS, Finished) stays queued: the caller sends it, or not.
            if until_complete and self.completed is not None:
                return
            if until is not None and until():
                return
            out = self.conn.data_to_send()
            if out and not send_quietly(self.sock, out):
                self.end = "reset"
                return
            if self.conn.closed:
                return
            ready, _, _ = select.select([self.sock], [], [], 0.2)
            if not ready:
                continue
            try:
                chunk = self.sock.recv(1 << 16)
            except ConnectionResetError:
                self.end = "reset"
                return
            if not chunk:
                self.end = "eof"
            self.events += self.conn.receive_data(chunk)
            if not chunk:
                return

    @property
    def completed(self) -> HandshakeComplete | None:
        for e in self.events:
            if isinstance(e, HandshakeComplete):
                return e
        return None

    @property
    def alerts_received(self) -> list[int]:
        return [e.description for e in self.events if isinstance(e, AlertReceived)]

    def round_trip(self, data: bytes = b"ping\n") -> bytes:
        """Send application data and return the first reply."""
        self.conn.send_data(data)
        self.sock.sendall(self.conn.data_to_send())
        got = b""
        deadline = time.monotonic() + 5
        while not got and not self.conn.closed and time.monotonic() < deadline:
            ready, _, _ = select.select([self.sock], [], [], 0.2)
            if ready:
                chunk = self.sock.recv(1 << 16)
                for e in self.conn.receive_data(chunk):
                    self.events.append(e)
                    if hasattr(e, "data"):
                        got += e.data
                if not chunk:
                    break
        return got

    def closed_by(self) -> ConnectionClosed | None:
        for e in self.events:
            if isinstance(e, ConnectionClosed):
                return e
        return None

    def drain(self, timeout: float = 3.0) -> Answer:
        """Raw reads after the engine stopped: any further records, and how it ended."""
        return read_answer(self.sock, timeout)

    def close(self) -> None:
        self.sock.close()


def read_flight(sock: socket.socket, last_type: int, timeout: float = 4.0) -> Answer:
    """Read plaintext records until a handshake message of ``last_type`` (e.g. 14,
    ServerHelloDone) has arrived, or an alert, or the connection ends."""
    data = bytearray()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        recs, _rest = parse_records(bytes(data))
        answer = Answer(recs, "timeout", _rest)
        if last_type in answer.handshake_types() or ALERT in answer.types:
            return answer
        ready, _, _ = select.select([sock], [], [], 0.2)
        if not ready:
            continue
        try:
            chunk = sock.recv(1 << 16)
        except ConnectionResetError:
            answer.end = "reset"
            return answer
        if not chunk:
            answer.end = "eof"
            return answer
        data += chunk
    recs, rest = parse_records(bytes(data))
    return Answer(recs, "timeout", rest)


def server_hello(answer: Answer) -> tuple[int, int, int | None]:
    """(legacy_version, cipher suite, supported_versions or None) of the ServerHello."""
    data = b"".join(p for t, _v, p in answer.records if t == HANDSHAKE)
    if not data or data[0] != 2:
        raise AssertionError(f"no ServerHello first: {answer.describe()}")
    body = data[4 : 4 + int.from_bytes(data[1:4], "big")]
    legacy = int.from_bytes(body[0:2], "big")
    at = 34 + 1 + body[34]
    suite = int.from_bytes(body[at : at + 2], "big")
    at += 3
    exts = body[at + 2 :]
    chosen = None
    while len(exts) >= 4:
        ext_type = int.from_bytes(exts[0:2], "big")
        length = int.from_bytes(exts[2:4], "big")
        if ext_type == EXT_SUPPORTED_VERSIONS:
            chosen = int.from_bytes(exts[4:6], "big")
        exts = exts[4 + length :]
    return legacy, suite, chosen


def tls12_hello(suites: Sequence[int] = TLS12_ECDHE_SUITES, group: int = X25519) -> bytes:
    """A TLS 1.2-only ClientHello record offering one group."""
    return hello_record(client_hello_body(suites, tls12_extensions((group,)), session_id=b""))


def client_key_exchange(point: bytes) -> bytes:
    """An ECDHE ClientKeyExchange record (RFC 8422 §5.7) with ``point`` as it is."""
    return record(HANDSHAKE, handshake(16, vec(point, 1)))


def tls12_to_finished(port: int, suites: Sequence[int]) -> socket.socket:
    """A TLS 1.2 connection whose server waits for our Finished: hello, its flight,
    a real X25519 ClientKeyExchange and ChangeCipherSpec sent (the keys are wrong
    for the server only from the Finished on, which it cannot know before)."""
    sock = connect(port)
    sock.sendall(tls12_hello(suites))
    flight = read_flight(sock, 14)
    if 14 not in flight.handshake_types():
        sock.close()
        raise AssertionError(f"no ServerHelloDone: {flight.describe()}")
    sock.sendall(client_key_exchange(x25519_public()) + record(CCS, b"\x01"))
    return sock
