"""A small blocking-socket driver for the sans-I/O connections.

``connect``/``accept`` open a TCP connection and run the handshake;
:class:`TlsStream` then sends and receives application data and closes with
close_notify. After a fatal alert, ours or the peer's, the socket is
half-closed and drained before it is closed, so that the peer reads the alert
rather than a TCP reset.

A socket handed over with a timeout keeps it, enforced by the kernel
(``SO_RCVTIMEO``/``SO_SNDTIMEO`` on a blocking socket, on Linux) rather than by
Python, whose timeout costs a ``poll`` before every ``recv`` and ``send``. A wait
that times out raises :class:`TimeoutError` as before.
"""

from __future__ import annotations

import socket
import struct
import sys

from .alerts import describe
from .client import ClientConfig, ClientConnection
from .connection import Connection
from .constants import AlertDescription
from .events import (
    AlertReceived,
    ApplicationData,
    ConnectionClosed,
    Event,
    HandshakeComplete,
)
from .server import ServerConfig, ServerConnection

RECV_SIZE = 1 << 20
"""The most one ``recv`` asks for: the bulk workload's own read size, which the plain-TCP
reference reads with. Fewer, larger reads cost less per byte (measured: ~10% of the TLS 1.3
receive against 256 KiB); the record layer reads a received ``bytes`` in place, so a
large read is not copied again."""

SEND_PIECE = 1 << 18
"""A larger write is sealed and sent this much at a time (a multiple of 2^14, so the
records are those of one write), so the peer opens the first records while we seal
the next."""

KERNEL_TIMEOUTS = sys.platform.startswith("linux")
"""Socket timeouts are moved into the kernel (``struct timeval`` options)."""


def _timeval(seconds: float) -> bytes:
    """``struct timeval`` for ``seconds`` (never zero: zero means no timeout)."""
    whole = int(seconds)
    micro = min(999_999, round((seconds - whole) * 1e6))
    if whole == 0 and micro == 0:
        micro = 1
    return struct.pack("@ll", whole, micro)


def kernel_timeouts(sock: socket.socket) -> bool:
    """Make ``sock`` blocking with its Python timeout as the kernel's receive and send
    timeouts (no ``poll`` before each call); False (nothing changed) when it has no
    timeout or this is not Linux. A timeout then shows as ``BlockingIOError``."""
    timeout = sock.gettimeout()
    if not timeout or not KERNEL_TIMEOUTS:
        return False
    value = _timeval(timeout)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, value)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, value)
    sock.settimeout(None)
    return True


def recv_timed(sock: socket.socket, size: int) -> bytes:
    """``sock.recv(size)``; an expired kernel timeout (``BlockingIOError`` on a socket
    :func:`kernel_timeouts` made blocking) raises :class:`TimeoutError`, as Python's does."""
    try:
        return sock.recv(size)
    except BlockingIOError:  # SO_RCVTIMEO expired
        raise TimeoutError("timed out waiting for the peer") from None


def sendall_timed(sock: socket.socket, data: bytes) -> None:
    """``sock.sendall(data)``; an expired kernel timeout raises :class:`TimeoutError`."""
    try:
        sock.sendall(data)
    except BlockingIOError:  # SO_SNDTIMEO expired
        raise TimeoutError("timed out sending to the peer") from None


def half_close(sock: socket.socket) -> None:
    """Half-close, read what the peer still sends until its end of stream (2 s at most),
    then close: the peer reads everything we sent rather than a TCP reset."""
    try:
        sock.shutdown(socket.SHUT_WR)
        read_timeout(sock, 2.0)
        while sock.recv(RECV_SIZE):
            pass
    except OSError:
        pass
    finally:
        sock.close()


def read_timeout(sock: socket.socket, seconds: float) -> None:
    """Bound each further ``recv`` to ``seconds``: in the kernel if it keeps the timeouts
    (a blocking socket, see :func:`kernel_timeouts`), else as Python's timeout."""
    if KERNEL_TIMEOUTS and sock.gettimeout() is None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, _timeval(seconds))
    else:
        sock.settimeout(seconds)


class TlsConnectionError(ConnectionError):
    """The connection ended with a fatal alert (``alert``), sent or received."""

    def __init__(self, closed: ConnectionClosed) -> None:
        if closed.error is None:
            message = closed.reason
        else:
            who = "peer sent" if closed.by_peer else "we sent"
            message = f"{who} {describe(int(closed.error))}: {closed.reason}"
        super().__init__(message)
        self.alert = closed.error
        self.by_peer = closed.by_peer
        self.closed = closed


class TlsStream:
    """A connection driven over a blocking socket.

    A socket with a timeout is made blocking with that timeout kept by the kernel
    (:func:`kernel_timeouts`): each ``recv`` or ``send`` is one system call. A wait for
    the peer longer than the timeout raises :class:`TimeoutError`; a send that timed
    out also closes the socket, as part of a record may have gone.
    """

    def __init__(self, sock: socket.socket, conn: Connection) -> None:
        self.sock = sock
        self.conn = conn
        self.events: list[Event] = []
        """Every event seen, in order (ApplicationData excepted)."""
        self.handshake: HandshakeComplete | None = None
        self.closed: ConnectionClosed | None = None
        self._received: list[bytes] = []
        """Application data not yet read, as the events brought it (not copied)."""
        self._read_offset = 0
        """How much of the first of them was read already."""
        self._socket_open = True
        kernel_timeouts(sock)

    # -- plumbing --------------------------------------------------------------
    def _flush(self) -> None:
        data = self.conn.data_to_send()
        if data and self._socket_open:
            try:
                sendall_timed(self.sock, data)
            except TimeoutError:  # the kernel's timeout, or Python's: part of a record may be out
                self._socket_open = False
                self.sock.close()
                raise
            except OSError:
                pass  # the peer is gone; reading will tell

    def _read_once(self) -> None:
        try:
            data = recv_timed(self.sock, RECV_SIZE)
        except (ConnectionResetError, BrokenPipeError):
            data = b""
        for event in self.conn.receive_data(data):
            if isinstance(event, ApplicationData):
                if event.data:
                    self._received.append(event.data)
                continue
            self.events.append(event)
            if isinstance(event, HandshakeComplete):
                self.handshake = event
            elif isinstance(event, ConnectionClosed):
                self.closed = event
        self._flush()
        if self.closed is not None and self.closed.error is not None:
            self._shutdown()
            raise TlsConnectionError(self.closed)

    def _shutdown(self) -> None:
        """Half-close, drain what the peer still sends, then close (no TCP reset)."""
        if not self._socket_open:
            return
        self._socket_open = False
        half_close(self.sock)

    # -- API ---------------------------------------------------------------------
    def do_handshake(self) -> HandshakeComplete:
        """Run the handshake; TlsConnectionError if it fails."""
        self._flush()
        while self.handshake is None:
            if self.closed is not None:
                self._shutdown()
                raise TlsConnectionError(self.closed)
            self._read_once()
        return self.handshake

    def send(self, data: bytes) -> None:
        """Send all of ``data`` as application data, sealed and sent
        :data:`SEND_PIECE` bytes at a time."""
        if len(data) <= SEND_PIECE:
            self.conn.send_data(data)
            self._flush()
            return
        with memoryview(data) as view:
            for start in range(0, len(view), SEND_PIECE):
                # Not copied: the record layer seals it through the buffer protocol.
                self.conn.send_data(view[start : start + SEND_PIECE])
                self._flush()

    def recv(self, max_bytes: int = RECV_SIZE) -> bytes:
        """Up to ``max_bytes`` of application data; ``b""`` once the peer has closed."""
        while not self._received and self.closed is None:
            self._read_once()
        if not self._received:
            return b""
        data, start = self._received[0], self._read_offset
        end = start + max_bytes
        if end >= len(data):  # the rest of this chunk
            del self._received[0]
            self._read_offset = 0
            return data[start:] if start else data
        self._read_offset = end
        return data[start:end]

    def recv_exactly(self, size: int) -> bytes:
        """Exactly ``size`` bytes; EOFError if the peer closes first."""
        out = bytearray()
        while len(out) < size:
            chunk = self.recv(size - len(out))
            if not chunk:
                raise EOFError(f"peer closed after {len(out)} of {size} bytes")
            out += chunk
        return bytes(out)

    def key_update(self, request_peer: bool = True) -> None:
        """Send a KeyUpdate (RFC 8446 §4.6.3)."""
        self.conn.key_update(request_peer)
        self._flush()

    def close(self) -> None:
        """Send close_notify, wait for the peer's (or end of stream), close the socket.

        Once close_notify went both ways nothing more can come, and the socket is closed
        at once, as after OpenSSL's two-way shutdown; otherwise it is half-closed and
        drained first, so that the peer reads what we sent rather than a TCP reset. The
        wait for the peer's close_notify is 2 s at most.
        """
        if not self._socket_open:
            return
        self.conn.close()
        try:
            self._flush()
            if self.closed is None:  # the peer's close_notify is still to come
                read_timeout(self.sock, 2.0)
                while self.closed is None:
                    self._read_once()
        except (OSError, TlsConnectionError):
            pass
        if not self._socket_open:
            return
        if self._peer_closed_cleanly():
            self._socket_open = False
            self.sock.close()
            return
        self._shutdown()

    def _peer_closed_cleanly(self) -> bool:
        """The peer's close_notify arrived (and with it the end of its data)."""
        return any(
            isinstance(e, AlertReceived) and e.description == AlertDescription.CLOSE_NOTIFY
            for e in self.events
        )

    def __enter__(self) -> TlsStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def connect(
    host: str,
    port: int,
    config: ClientConfig,
    timeout: float | None = 10.0,
    connection_class: type[ClientConnection] = ClientConnection,
) -> TlsStream:
    """Open a TCP connection to (host, port) and complete a TLS handshake as client."""
    sock = socket.create_connection((host, port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    stream = TlsStream(sock, connection_class(config))
    try:
        stream.do_handshake()
    except BaseException:
        stream._shutdown()
        raise
    return stream


def accept(
    listener: socket.socket,
    config: ServerConfig,
    timeout: float | None = 10.0,
    connection_class: type[ServerConnection] = ServerConnection,
) -> TlsStream:
    """Accept one TCP connection on ``listener`` and complete a TLS handshake as server."""
    sock, _ = listener.accept()
    sock.settimeout(timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    stream = TlsStream(sock, connection_class(config))
    try:
        stream.do_handshake()
    except BaseException:
        stream._shutdown()
        raise
    return stream
