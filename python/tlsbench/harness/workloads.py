"""The two workloads, one connection each, as seen by the client and by the server.

``handshake``: TCP connect, full handshake, a 1-byte echo, close_notify.
``resume``: the same, each connection offering a session one earlier full handshake got
(:func:`obtain_session`); whether it resumed is recorded.
``bulk``: handshake, then ``bulk_bytes`` from client to server in large writes, then the
server's CRC-32 of what it received sent back, which the client checks.

Times (``time.perf_counter``): ``connect`` is the TCP connect; ``handshake`` the TLS
handshake after it; ``ttfb`` from the start of the connect to the first echoed byte;
for bulk, ``transfer`` from the first write to the checked digest.
"""

from __future__ import annotations

import socket
import time
import zlib
from dataclasses import dataclass
from typing import Any

from .handicap import handicap, iterations
from .impls import Factory, Session
from .params import Case

BIG_WRITE = 1 << 20


@dataclass
class OpTimes:
    """What one client operation measured (seconds)."""

    connect: float
    handshake: float
    ttfb: float
    transfer: float = 0.0
    bytes: int = 0
    resumed: bool = False


def write_size(case: Case) -> int:
    """Bytes per write: 1 MiB for full-size records, else one record of ``record_size``."""
    return BIG_WRITE if case.record_size >= 16384 else case.record_size


def payload(case: Case) -> bytes:
    """The block the client sends repeatedly (non-zero, so a digest means something)."""
    size = min(write_size(case), case.bulk_bytes)
    return bytes((i * 7 + 13) & 0xFF for i in range(256)) * (size // 256) + b"\x5a" * (size % 256)


def expected_digest(case: Case, block: bytes) -> bytes:
    """CRC-32 of the whole stream the client sends."""
    crc, left = 0, case.bulk_bytes
    while left > 0:
        chunk = block[: min(len(block), left)]
        crc = zlib.crc32(chunk, crc)
        left -= len(chunk)
    return crc.to_bytes(4, "big")


def recv_exactly(session: Session, size: int) -> bytes:
    """Exactly ``size`` bytes; EOFError if the peer closes first."""
    out = bytearray()
    while len(out) < size:
        chunk = session.recv(size - len(out))
        if not chunk:
            raise EOFError(f"peer closed after {len(out)} of {size} bytes")
        out += chunk
    return bytes(out)


def client_op(
    factory: Factory, port: int, case: Case, timeout: float, block: bytes, digest: bytes
) -> OpTimes:
    """One connection of ``case.workload`` as the client."""
    start = time.perf_counter()
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    connected = time.perf_counter()
    session = factory(sock)
    try:
        session.handshake()
        if iterations():
            handicap()
        shaken = time.perf_counter()
        times = OpTimes(connected - start, shaken - connected, 0.0, resumed=session.resumed())
        if case.workload != "bulk":
            session.send(b"x")
            if recv_exactly(session, 1) != b"x":
                raise ValueError("echo mismatch")
            times.ttfb = time.perf_counter() - start
        else:
            left = case.bulk_bytes
            while left > 0:
                chunk = block if left >= len(block) else block[:left]
                session.send(chunk)
                left -= len(chunk)
            if recv_exactly(session, 4) != digest:
                raise ValueError("digest mismatch: the data arrived corrupted")
            end = time.perf_counter()
            times.ttfb = end - start
            times.transfer = end - shaken
            times.bytes = case.bulk_bytes
        session.close()
        return times
    except BaseException:
        sock.close()
        raise


def server_op(session: Session, case: Case) -> None:
    """Serve one connection of ``case.workload`` (the session is not yet shaken); a
    client-auth case whose full handshake brought no client certificate is an error (a
    server that did not ask would otherwise look faster)."""
    session.handshake()
    if case.client_auth and not session.resumed() and not session.client_certified():
        raise ConnectionError("the server accepted a client without a certificate")
    if case.workload != "bulk":
        data = recv_exactly(session, 1)
        session.send(data)
    else:
        crc, left = 0, case.bulk_bytes
        while left > 0:
            chunk = session.recv(min(left, 1 << 20))
            if not chunk:
                raise EOFError(f"peer closed with {left} bytes to go")
            crc = zlib.crc32(chunk, crc)
            left -= len(chunk)
        session.send(crc.to_bytes(4, "big"))
    while session.recv(1 << 16):  # until the client's close_notify
        pass
    session.close()


def obtain_session(factory: Factory, port: int, timeout: float) -> Any:
    """One full handshake and the 1-byte echo (so a TLS 1.3 ticket has arrived); the
    session it leaves to resume. RuntimeError when the server gave none."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        session = factory(sock)
        session.handshake()
        session.send(b"x")
        if recv_exactly(session, 1) != b"x":
            raise ValueError("echo mismatch")
        saved = session.saved()
        # ssl keeps a TLS 1.3 SSLSession even without a ticket; it resumes nothing.
        if getattr(saved, "has_ticket", True) is False and _tls13(session):
            saved = None
        session.close()
    finally:
        sock.close()
    if saved is None:
        raise RuntimeError("the server gave no session to resume (no ticket, no session ID)")
    return saved


def _tls13(session: Session) -> bool:
    return session.negotiated().get("version") == "1.3"
