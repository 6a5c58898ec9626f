"""The event loop: one thread, non-blocking sockets, a sans-I/O server connection per socket.

The connection is our engine's ServerConnection, or anything else with the same
:class:`ServerSide` interface (``foreign.py`` wraps Python ``ssl`` and tlslite-ng in it), so
limits, timeouts, stats and log lines are the same whatever stack serves.

Each connection moves through three phases: handshake (deadline from accept),
open (idle deadline, refreshed by progress either way), closing (our last bytes
flushed, write side shut, the peer drained until it closes or ``linger`` runs out,
so that it reads our alert rather than a TCP reset). Anything a connection raises
is caught around that connection alone: it is logged, counted and closed; the
accept loop and the other connections go on.
"""

from __future__ import annotations

import errno
import re
import selectors
import socket
import time
from collections.abc import Callable
from typing import Protocol

from tlsbench.tls import (
    ApplicationData,
    ConnectionClosed,
    Event,
    HandshakeComplete,
    ServerConfig,
    ServerConnection,
)
from tlsbench.tls.alerts import describe
from tlsbench.tls.constants import TLS12_SUITES, KeyExchange, key_exchange

from .limits import ServerLimits, Stats

HTTP_BODY = b"tlsbench\n"
_ACCEPT_BATCH = 64
_TICK = 0.05
_ACCEPT_PAUSE = 0.1
_OUT_OF_RESOURCES = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}

HANDSHAKE, OPEN, CLOSING = "handshake", "open", "closing"


class ServerSide(Protocol):
    """What the loop uses of a server connection; our ``ServerConnection`` is one.

    ``receive_data(b"")`` means the peer ended the stream. The events that matter are
    HandshakeComplete (once, before any ApplicationData), ApplicationData and
    ConnectionClosed (once; ``error`` None for close_notify or end of stream, else the
    alert, ``by_peer`` telling who sent it). Whatever the connection wants sent, a fatal
    alert or close_notify included, is in ``data_to_send()`` after each call.
    """

    @property
    def closed(self) -> bool:
        """True once nothing more will be read."""

    def receive_data(self, data: bytes) -> list[Event]:
        """Bytes from the peer; the events they caused."""

    def data_to_send(self) -> bytes:
        """Bytes for the peer, once."""

    def send_data(self, data: bytes) -> None:
        """Queue application data (only after HandshakeComplete)."""

    def close(self) -> None:
        """Queue close_notify."""


ConnectionFactory = Callable[[], ServerSide]
"""Makes the connection object of each accepted socket."""


class Handler(Protocol):
    """What the server does with application data: a reply, and whether to close after it."""

    def on_data(self, data: bytes) -> tuple[bytes, bool]:
        """Bytes to send back, and True to close the connection after them."""


class EchoHandler:
    """Send every byte back."""

    def on_data(self, data: bytes) -> tuple[bytes, bool]:
        """The data itself; never closes."""
        return data, False


class RequestTooLarge(Exception):
    """An HTTP request head grew past ``ServerLimits.max_request``."""


_HEAD_END = re.compile(rb"\r?\n\r?\n")
"""The blank line ending a request head; a bare LF ends a line too (RFC 9112 §2.2)."""


def _keeps_alive(head: bytes) -> bool:
    """Whether a request head asks for a persistent connection (RFC 9112 §9.3)."""
    lines = [line.rstrip(b"\r") for line in head.split(b"\n")]
    version = lines[0].rsplit(b" ", 1)[-1].upper() if lines else b""
    tokens: set[bytes] = set()
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if colon and name.strip().lower() == b"connection":
            tokens.update(t.strip().lower() for t in value.split(b","))
    if b"close" in tokens:
        return False
    if version == b"HTTP/1.0":
        return b"keep-alive" in tokens
    return True


class HttpHandler:
    """Answer each HTTP request head with a small 200, and close when the request asks.

    HTTP/1.1 keeps the connection unless ``connection: close``; HTTP/1.0 closes after
    the response unless ``connection: keep-alive``. The close is a close_notify.
    """

    def __init__(self, max_request: int) -> None:
        self._buffer = b""
        self._max_request = max_request

    def on_data(self, data: bytes) -> tuple[bytes, bool]:
        """One response per complete request head received so far."""
        self._buffer += data
        replies: list[bytes] = []
        while (end := _HEAD_END.search(self._buffer)) is not None:
            head, self._buffer = self._buffer[: end.start()], self._buffer[end.end() :]
            keep = _keeps_alive(head.lstrip(b"\r\n"))
            replies.append(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: "
                + str(len(HTTP_BODY)).encode()
                + (b"\r\n\r\n" if keep else b"\r\nconnection: close\r\n\r\n")
                + HTTP_BODY
            )
            if not keep:
                return b"".join(replies), True
        if len(self._buffer) > self._max_request:
            raise RequestTooLarge(f"request head over {self._max_request} bytes")
        return b"".join(replies), False


class _Client:
    """One accepted socket and everything the loop keeps for it."""

    def __init__(
        self, sock: socket.socket, peer: str, conn: ServerSide, handler: Handler, now: float
    ) -> None:
        self.sock = sock
        self.peer = peer
        self.conn = conn
        self.handler = handler
        self.started = now
        self.phase = HANDSHAKE
        self.deadline = now
        self.out = bytearray()
        self.failure: str | None = None
        """Counting key of the first failure, if any."""
        self.detail = ""
        self.peer_eof = False
        self.write_shut = False
        self.events = 0


def _subject(der: bytes) -> str:
    """A certificate's subject as RFC 4514 text, for the log (``?`` if unparsable)."""
    from cryptography import x509

    try:
        return x509.load_der_x509_certificate(der).subject.rfc4514_string() or "(empty subject)"
    except ValueError:
        return "?"


class Server:
    """Serve TLS on a listening socket until :meth:`stop` (or ``count`` connections).

    ``config`` is our engine's ServerConfig (one ServerConnection per socket), or a
    :data:`ConnectionFactory` for any other :class:`ServerSide` (``foreign.py``).
    """

    def __init__(
        self,
        listener: socket.socket,
        config: ServerConfig | ConnectionFactory,
        limits: ServerLimits | None = None,
        *,
        http: bool = False,
        count: int | None = None,
        log: Callable[[str], None] = print,
        log_handshakes: bool = True,
        grace: float = 2.0,
        handler: Callable[[], Handler] | None = None,
    ) -> None:
        self.listener = listener
        self.config: ServerConfig | None
        self.new_connection: ConnectionFactory
        if isinstance(config, ServerConfig):
            ours = config
            self.config = ours
            self.new_connection = lambda: ServerConnection(ours)
        else:
            self.config = None
            self.new_connection = config
        self.limits = limits or ServerLimits()
        self.http = http
        self.count = count
        self.log = log
        self.log_handshakes = log_handshakes
        self.grace = grace
        self.handler = handler
        """Makes each connection's handler; default: echo, or HTTP with ``http``."""
        self.stats = Stats()
        self._clients: dict[int, _Client] = {}
        self._selector = selectors.DefaultSelector()
        self._stopping = False
        self._listening = False
        self._accept_resume = 0.0
        self._next_tick = 0.0

    # -- control ---------------------------------------------------------------------
    def stop(self) -> None:
        """Stop accepting; active connections get ``grace`` seconds, then are closed."""
        self._stopping = True

    @property
    def active(self) -> int:
        """Connections being served now."""
        return len(self._clients)

    def serve(self) -> Stats:
        """Run the loop until stopped (or ``count`` reached) and every connection is done."""
        self.listener.setblocking(False)
        self._listen(True)
        stop_at: float | None = None
        try:
            while True:
                now = time.monotonic()
                done = self.count is not None and self.stats.connections >= self.count
                if (self._stopping or done) and self._listening:
                    self._listen(False)
                if self._stopping and stop_at is None:
                    stop_at = now + self.grace
                    self._close_open_connections()
                if (self._stopping or done) and not self._clients:
                    break
                if stop_at is not None and now >= stop_at:
                    for client in list(self._clients.values()):
                        if client.phase == HANDSHAKE:
                            self._fail(client, "server shutdown", "")
                        self._finish(client)
                    break
                if (
                    not self._listening
                    and not self._stopping
                    and not done
                    and now >= self._accept_resume
                ):
                    self._listen(True)
                for key, mask in self._selector.select(_TICK):
                    if key.data is None:
                        self._accept()
                    else:
                        self._guarded(key.data, mask)
                now = time.monotonic()
                if now >= self._next_tick:
                    self._next_tick = now + _TICK
                    self._check_deadlines(now)
        finally:
            if self._listening:
                self._listen(False)
            self._selector.close()
        return self.stats

    def _close_open_connections(self) -> None:
        """On shutdown: close_notify to every established connection, then drain them."""
        for client in list(self._clients.values()):
            if client.phase != OPEN:
                continue
            try:
                client.conn.close()
                client.out += client.conn.data_to_send()
                self._closing(client)
                self._after(client)
            except Exception as exc:
                self._fail(client, "internal error", f"{type(exc).__name__}: {exc}")
                self._abort(client)

    # -- accepting -----------------------------------------------------------------------
    def _listen(self, on: bool) -> None:
        if on:
            self._selector.register(self.listener, selectors.EVENT_READ, None)
        else:
            self._selector.unregister(self.listener)
        self._listening = on

    def _accept(self) -> None:
        for _ in range(_ACCEPT_BATCH):
            if self.count is not None and self.stats.connections >= self.count:
                return
            try:
                sock, address = self.listener.accept()
            except BlockingIOError:
                return
            except OSError as exc:
                if exc.errno in _OUT_OF_RESOURCES:  # back off instead of spinning
                    self._count_failure("-", f"accept: {errno.errorcode.get(exc.errno, exc)}", "")
                    self._listen(False)
                    self._accept_resume = time.monotonic() + _ACCEPT_PAUSE
                    return
                continue  # ECONNABORTED and the like: that peer is gone already
            peer = f"{address[0]}:{address[1]}"
            self.stats.connections += 1
            if len(self._clients) >= self.limits.max_connections:
                # The cap: close at once without a byte; no ClientHello has been read,
                # so no alert version could be chosen, and the client learns at once.
                sock.close()
                self._count_failure(peer, "refused: connection cap", "")
                continue
            try:
                self._add(sock, peer)
            except Exception as exc:
                sock.close()
                self._count_failure(peer, "internal error", f"{type(exc).__name__}: {exc}")

    def _add(self, sock: socket.socket, peer: str) -> None:
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        handler: Handler
        if self.handler is not None:
            handler = self.handler()
        elif self.http:
            handler = HttpHandler(self.limits.max_request)
        else:
            handler = EchoHandler()
        now = time.monotonic()
        client = _Client(sock, peer, self.new_connection(), handler, now)
        client.deadline = now + self.limits.handshake_timeout
        self._clients[sock.fileno()] = client
        self._selector.register(sock, selectors.EVENT_READ, client)
        client.events = selectors.EVENT_READ

    # -- one connection ----------------------------------------------------------------
    def _guarded(self, client: _Client, mask: int) -> None:
        """Everything one readiness event does to one connection; nothing escapes it."""
        try:
            if mask & selectors.EVENT_WRITE:
                self._flush(client)
            if mask & selectors.EVENT_READ and client.sock.fileno() >= 0:
                self._read(client)
            if client.sock.fileno() >= 0:
                self._after(client)
        except Exception as exc:
            self._fail(client, "internal error", f"{type(exc).__name__}: {exc}")
            self._abort(client)

    def _read(self, client: _Client) -> None:
        try:
            data = client.sock.recv(self.limits.read_size)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:  # ECONNRESET above all
            reason = "reset" if isinstance(exc, ConnectionResetError) else "recv error"
            self._peer_gone(client, reason, str(exc))
            return
        if not data:
            client.peer_eof = True
        if client.phase == CLOSING:
            if not data:
                self._finish(client)
            return
        if client.phase == OPEN:
            client.deadline = time.monotonic() + self.limits.idle_timeout
        self._feed(client, data)

    def _feed(self, client: _Client, data: bytes) -> None:
        conn = client.conn
        for event in conn.receive_data(data):
            if isinstance(event, HandshakeComplete):
                self._handshake_done(client, event)
            elif isinstance(event, ApplicationData):
                if client.phase != OPEN:
                    continue
                try:
                    reply, close = client.handler.on_data(event.data)
                except RequestTooLarge as exc:
                    self._fail(client, "request too large", str(exc))
                    reply, close = b"", True
                if reply and not conn.closed:
                    conn.send_data(reply)
                if close:
                    conn.close()
                    self._closing(client)
            elif isinstance(event, ConnectionClosed):
                self._closed(client, event)
        client.out += conn.data_to_send()

    def _handshake_done(self, client: _Client, event: HandshakeComplete) -> None:
        now = time.monotonic()
        client.phase = OPEN
        client.deadline = now + self.limits.idle_timeout
        self.stats.handshakes += 1
        self.stats.resumed += bool(event.resumed)
        if self.log_handshakes:
            version = "1.3" if event.version == 0x0304 else "1.2"
            if event.group is not None:
                group = event.group.name.lower()
            elif event.resumed:
                group = "-"  # TLS 1.2 abbreviated, or TLS 1.3 psk_ke: no key exchange
            elif event.cipher_suite in TLS12_SUITES and (
                key_exchange(event.cipher_suite) == KeyExchange.RSA
            ):
                group = "rsa"  # RSA key transport: no group at all
            else:
                group = "group unknown"  # a foreign stack that did not tell
            resumed = " resumed" if event.resumed else ""
            peer_cert = ""
            if event.peer_certificates:
                peer_cert = f" client {_subject(event.peer_certificates[0])}"
            self.log(
                f"{client.peer} TLS {version} {event.cipher_suite.name} {group} "
                f"handshake {(now - client.started) * 1e3:.2f} ms{resumed}{peer_cert}"
            )

    def _closed(self, client: _Client, event: ConnectionClosed) -> None:
        if event.error is not None:
            name = describe(int(event.error))
            if event.by_peer:
                self._fail(client, f"received {name}", event.reason)
            else:
                self._fail(client, f"sent {name}", event.reason)
        elif client.phase == HANDSHAKE:
            self._fail(client, "eof in handshake", event.reason)
        elif client.peer_eof and client.phase == OPEN:
            self.stats.unclean += 1  # end of stream without close_notify
        self._closing(client)

    def _after(self, client: _Client) -> None:
        """Write what is queued, then pick the events to wait for (reading paused when full)."""
        if client.out:
            self._flush(client)
        if client.sock.fileno() < 0:
            return
        if client.phase == CLOSING and not client.out:
            if client.peer_eof:
                self._finish(client)
                return
            if not client.write_shut:
                client.write_shut = True
                client.deadline = time.monotonic() + self.limits.linger
                try:
                    client.sock.shutdown(socket.SHUT_WR)
                except OSError:
                    self._finish(client)
                    return
        events = 0
        if client.out:
            events |= selectors.EVENT_WRITE
        if len(client.out) <= self.limits.max_buffer and not client.peer_eof:
            events |= selectors.EVENT_READ
        if not events:  # the peer has closed and we wait for nothing more
            self._finish(client)
            return
        if events != client.events:
            self._selector.modify(client.sock, events, client)
            client.events = events

    def _flush(self, client: _Client) -> None:
        while client.out:
            try:
                sent = client.sock.send(client.out)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                self._peer_gone(client, "reset", str(exc))
                return
            del client.out[:sent]
            if client.phase == OPEN:
                client.deadline = time.monotonic() + self.limits.idle_timeout

    def _closing(self, client: _Client) -> None:
        client.phase = CLOSING
        client.deadline = time.monotonic() + self.limits.linger

    # -- deadlines -----------------------------------------------------------------------
    def _check_deadlines(self, now: float) -> None:
        for client in list(self._clients.values()):
            if now < client.deadline:
                continue
            try:
                if client.phase == HANDSHAKE:
                    self._fail(client, "handshake timeout", f"{self.limits.handshake_timeout} s")
                    self._finish(client)  # no alert: nothing says "too slow" before ServerHello
                elif client.phase == OPEN:
                    self._fail(client, "idle timeout", f"{self.limits.idle_timeout} s")
                    client.conn.close()
                    client.out += client.conn.data_to_send()
                    self._closing(client)
                    self._after(client)
                else:
                    self._finish(client)  # linger over
            except Exception as exc:
                self._fail(client, "internal error", f"{type(exc).__name__}: {exc}")
                self._abort(client)

    # -- endings -------------------------------------------------------------------------
    def _fail(self, client: _Client, reason: str, detail: str) -> None:
        if client.failure is None:
            client.failure = reason
            client.detail = detail

    def _count_failure(self, peer: str, reason: str, detail: str) -> None:
        self.stats.failures[reason] += 1
        self.log(f"{peer} failed: {reason}" + (f" ({detail})" if detail else ""))

    def _peer_gone(self, client: _Client, reason: str, detail: str) -> None:
        """The socket failed: a failure during the handshake, an unclean close after it."""
        if client.phase == HANDSHAKE:
            self._fail(client, reason, detail)
        elif client.phase == OPEN:
            self.stats.unclean += 1
        self._abort(client)

    def _abort(self, client: _Client) -> None:
        """Close at once, with a TCP reset if bytes are left unread."""
        self._finish(client)

    def _finish(self, client: _Client) -> None:
        """Unregister, close, and count the connection once."""
        if self._clients.pop(client.sock.fileno(), None) is None:
            return
        try:
            self._selector.unregister(client.sock)
        except (KeyError, ValueError):
            pass
        client.sock.close()
        if client.failure is not None:
            self._count_failure(client.peer, client.failure, client.detail)
