"""The five implementations behind one client/server interface.

``client_factory(impl, tls)`` / ``server_factory(impl, tls)`` build, once per process,
what wraps a connected TCP socket into a :class:`Session` (blocking: handshake, send,
recv, close with close_notify). ``memory_endpoint`` gives the same implementation as a
:class:`Endpoint` with no socket, bytes pumped by the caller (``memory.py``).

Our engine runs on the provider of its name (``rust``, ``python``, ``cryptography``);
``ssl`` is Python's stdlib module (OpenSSL), with ``num_tickets = 0`` on servers so that
full handshakes are compared; ``tlslite`` is tlslite-ng (sockets only).
TLS 1.3 suites and the group for ``ssl`` come from ``OPENSSL_CONF`` (see
:func:`openssl_conf`), which must be set in the process environment before ``ssl`` is used.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import ssl
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from tlsbench.tls import (
    ApplicationData,
    CipherSuite,
    ClientConfig,
    ClientConnection,
    ConnectionClosed,
    HandshakeComplete,
    NamedGroup,
    ServerConfig,
    ServerConnection,
)
from tlsbench.tls.certs import load_certificate_chain, load_private_key
from tlsbench.tls.driver import TlsStream, half_close, kernel_timeouts, recv_timed, sendall_timed

from .params import OUR_IMPLS, TLS12_SUITES, Tls

OPENSSL_GROUP = {"x25519": "X25519", "secp256r1": "P-256", "secp384r1": "P-384"}
TLSLITE_CIPHER = {"AES_128_GCM": "aes128gcm", "AES_256_GCM": "aes256gcm"}


class Unsupported(Exception):
    """This implementation cannot run this case (the reason is the message)."""


class Session(Protocol):
    """A TLS connection over a blocking socket."""

    def handshake(self) -> None:
        """Complete the handshake."""

    def send(self, data: bytes) -> None:
        """Send all of ``data``."""

    def recv(self, size: int) -> bytes:
        """Up to ``size`` bytes of application data; ``b""`` at close."""

    def close(self) -> None:
        """Send close_notify, wait briefly for the peer's, close the socket."""

    def negotiated(self) -> dict[str, str]:
        """Version, suite and group actually negotiated (as far as the stack tells)."""

    def resumed(self) -> bool:
        """Whether the handshake resumed a session."""

    def saved(self) -> Any:
        """The stack's own object for the newest session it can resume (None if none);
        for TLS 1.3, only once the server's ticket has been read (after a round trip)."""

    def client_certified(self) -> bool:
        """Server side: whether the client presented a certificate (in this handshake or,
        resumed, in the session's)."""


Factory = Callable[[socket.socket], Session]


class Endpoint(Protocol):
    """One side of a connection with no socket: the caller moves the bytes."""

    handshake_done: bool
    closed: bool

    def feed(self, data: bytes) -> None:
        """Bytes from the peer."""

    def take(self) -> bytes:
        """Bytes for the peer (once)."""

    def write(self, data: bytes) -> None:
        """Queue application data."""

    def read(self) -> bytes:
        """Application data received so far (once)."""

    def close(self) -> None:
        """Queue close_notify."""


def openssl_conf(tls: Tls) -> str:
    """An OpenSSL config forcing the case's TLS 1.3 suite and group on ``ssl`` (PEERS.md)."""
    from tlsbench.server.foreign import ssl_openssl_conf

    return ssl_openssl_conf([tls.suite] if tls.version == "1.3" else [], offered_groups(tls))


def offered_groups(tls: Tls) -> list[str]:
    """The case's group, plus P-256 for a TLS 1.2 ECDSA certificate (RFC 8422 needs its curve)."""
    groups = [tls.group]
    if tls.version == "1.2" and tls.cert == "ecdsa-p256" and "secp256r1" not in groups:
        groups.append("secp256r1")
    return groups


def check_supported(impl: str, tls: Tls, transport: str) -> None:
    """Raise :class:`Unsupported` when ``impl`` cannot run this case."""
    if impl == "tcp":
        if transport == "memory":
            raise Unsupported("tcp is the plain-TCP reference: over tcp only")
        if tls.resumption or tls.client_auth:
            raise Unsupported("tcp is the plain-TCP reference: nothing to resume or certify")
    if impl == "tlslite":
        if transport == "memory":
            raise Unsupported("tlslite cannot run in memory (it drives its own socket)")
    if tls.resumption and transport == "memory":
        raise Unsupported("resume runs over tcp only")
    if impl in OUR_IMPLS and tls.version == "1.2" and not _engine_has_tls12():
        raise Unsupported("our engine does not speak TLS 1.2 yet")


# -- our engine -----------------------------------------------------------------------


def _engine_has_tls12() -> bool:
    """True once ClientConfig/ServerConfig take a TLS version setting."""
    names = {f.name for f in dataclasses.fields(ClientConfig)}
    return bool(names & {"versions", "version", "tls_versions", "max_version"})


def _version_kwargs(tls: Tls) -> dict[str, Any]:
    """The version field of our configs, whatever name the engine gives it."""
    names = {f.name for f in dataclasses.fields(ClientConfig)}
    code = 0x0304 if tls.version == "1.3" else 0x0303
    if "versions" in names:
        return {"versions": (code,)}
    if "tls_versions" in names:
        return {"tls_versions": (code,)}
    if "version" in names:
        return {"version": code}
    return {}


def _suite_code(name: str) -> Any:
    """The engine's code point for an IANA suite name (TLS 1.2 ones once it has them)."""
    if name in CipherSuite.__members__:
        return CipherSuite[name]
    raise Unsupported(f"our engine does not know {name}")


def our_client_config(tls: Tls, provider: str) -> ClientConfig:
    """Our client configured for the case, verifying the chain against the case's CA;
    with the case's client certificate, and asking for a TLS 1.2 ticket unless the case
    resumes by session ID."""
    kwargs: dict[str, Any] = _version_kwargs(tls)
    if tls.client_auth:
        kwargs["certificate_chain"] = tuple(load_certificate_chain(tls.client_cert_file))
        kwargs["private_key"] = load_private_key(tls.client_key_file)
    kwargs["session_tickets"] = tls.resumption != "session-id"
    return ClientConfig(
        server_name="localhost",
        ca_file=tls.ca_file,
        cipher_suites=(_suite_code(tls.suite),),
        groups=tuple(NamedGroup[g.upper()] for g in offered_groups(tls)),
        provider=provider,
        **kwargs,
    )


def our_server_config(tls: Tls, provider: str) -> ServerConfig:
    """Our server with the case's certificate, suite and group."""
    config = ServerConfig.from_files(
        tls.cert_file,
        tls.key_file,
        cipher_suites=(_suite_code(tls.suite),),
        groups=tuple(NamedGroup[g.upper()] for g in offered_groups(tls)),
        provider=provider,
    )
    # Full-handshake cases issue no tickets (as ``ssl``'s num_tickets = 0); a resume case
    # issues what it resumes with. One config per process: every connection shares its
    # ticket keys and session cache.
    extra: dict[str, Any] = {"tickets": 2 if tls.resumption == "tickets" else 0}
    if tls.client_auth:
        extra.update(client_auth="require", client_ca_file=tls.ca_file)
    return dataclasses.replace(config, **_version_kwargs(tls), **extra)


class OurSession:
    """Our engine over a blocking socket (the engine's own driver, ``TlsStream``)."""

    def __init__(self, stream: TlsStream) -> None:
        self.stream = stream

    def handshake(self) -> None:
        """Run the handshake; TlsConnectionError on failure."""
        self.stream.do_handshake()

    def send(self, data: bytes) -> None:
        """Send all of ``data``."""
        self.stream.send(data)

    def recv(self, size: int) -> bytes:
        """Up to ``size`` bytes; b"" at close."""
        return self.stream.recv(size)

    def close(self) -> None:
        """close_notify both ways, then close."""
        self.stream.close()

    def resumed(self) -> bool:
        """The connection's ``resumed``."""
        return bool(self.stream.conn.resumed)

    def client_certified(self) -> bool:
        """The client's chain in HandshakeComplete (empty on a resumed handshake)."""
        done = self.stream.handshake
        return done is not None and bool(done.peer_certificates)

    def saved(self) -> Any:
        """The client connection's newest :class:`~tlsbench.tls.sessions.Session`."""
        conn = self.stream.conn
        return conn.session if isinstance(conn, ClientConnection) else None

    def negotiated(self) -> dict[str, str]:
        """What the HandshakeComplete event said."""
        done = self.stream.handshake
        if done is None:
            return {}
        return {
            "version": {0x0304: "1.3", 0x0303: "1.2"}.get(done.version, hex(done.version)),
            "suite": getattr(done.cipher_suite, "name", str(done.cipher_suite)),
            "group": getattr(done.group, "name", str(done.group)).lower(),
        }


# -- Python ssl -------------------------------------------------------------------------


def ssl_context(tls: Tls, server: bool) -> ssl.SSLContext:
    """An ``ssl`` context pinned to the case's version (and TLS 1.2 suite)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if server else ssl.PROTOCOL_TLS_CLIENT)
    version = ssl.TLSVersion.TLSv1_3 if tls.version == "1.3" else ssl.TLSVersion.TLSv1_2
    ctx.minimum_version = ctx.maximum_version = version
    if tls.version == "1.2":
        ctx.set_ciphers(TLS12_SUITES[tls.suite])
    if tls.resumption == "session-id":
        ctx.options |= ssl.OP_NO_TICKET
    if server:
        ctx.load_cert_chain(tls.cert_file, tls.key_file)
        # Full handshakes only (PEERS.md: tickets cost 8-15%), unless the case resumes.
        ctx.num_tickets = 2 if tls.resumption == "tickets" else 0
        if tls.client_auth:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(tls.ca_file)
    else:
        ctx.load_verify_locations(tls.ca_file)
        if tls.client_auth:
            ctx.load_cert_chain(tls.client_cert_file, tls.client_key_file)
    return ctx


class SslSession:
    """Python ``ssl`` over a blocking socket."""

    def __init__(self, sock: ssl.SSLSocket) -> None:
        self.sock = sock

    def handshake(self) -> None:
        """Run the handshake."""
        self.sock.do_handshake()

    def send(self, data: bytes) -> None:
        """Send all of ``data``."""
        self.sock.sendall(data)

    def recv(self, size: int) -> bytes:
        """Up to ``size`` bytes; b"" at close."""
        try:
            return self.sock.recv(size)
        except ssl.SSLZeroReturnError:
            return b""

    def close(self) -> None:
        """close_notify (SSL_shutdown), then close."""
        try:
            self.sock.unwrap().close()
        except (OSError, ValueError):
            self.sock.close()

    def resumed(self) -> bool:
        """OpenSSL's session_reused."""
        return bool(self.sock.session_reused)

    def saved(self) -> Any:
        """The SSLSession (TLS 1.3: the newest ticket read so far)."""
        return self.sock.session

    def client_certified(self) -> bool:
        """OpenSSL has the client's leaf."""
        return self.sock.getpeercert(binary_form=True) is not None

    def negotiated(self) -> dict[str, str]:
        """Version and suite from OpenSSL."""
        cipher = self.sock.cipher()
        out = {"version": (self.sock.version() or "").replace("TLSv", "")}
        if cipher:
            out["suite"] = cipher[0]
        return out


# -- tlslite-ng ---------------------------------------------------------------------------


def tlslite_api() -> Any:
    """tlslite-ng's API module (it imports the deprecated asyncore on 3.11)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import tlslite.api  # type: ignore[import-untyped]
    except ImportError:
        raise Unsupported("tlslite-ng is not installed (pip install tlslite-ng)") from None
    return tlslite.api


def tlslite_settings(tls: Tls) -> Any:
    """HandshakeSettings pinned to the case's version, cipher, key exchange and group."""
    api = tlslite_api()
    settings = api.HandshakeSettings()
    settings.minVersion = settings.maxVersion = (3, 4) if tls.version == "1.3" else (3, 3)
    if "CHACHA20" in tls.suite:
        settings.cipherNames = ["chacha20-poly1305"]
    else:
        settings.cipherNames = [
            TLSLITE_CIPHER["AES_256_GCM" if "AES_256" in tls.suite else "AES_128_GCM"]
        ]
    if tls.version == "1.2":
        if tls.suite.startswith("TLS_RSA_"):
            settings.keyExchangeNames = ["rsa"]
        elif "_ECDSA_" in tls.suite:
            settings.keyExchangeNames = ["ecdhe_ecdsa"]
        else:
            settings.keyExchangeNames = ["ecdhe_rsa"]
    settings.eccCurves = offered_groups(tls)
    settings.keyShares = [tls.group]
    return settings


class TlsliteSession:
    """tlslite-ng's TLSConnection."""

    def __init__(self, conn: Any, server: bool, handshake: Callable[[], None]) -> None:
        self.conn = conn
        self.server = server
        self._handshake = handshake

    def handshake(self) -> None:
        """Run the handshake."""
        self._handshake()

    def send(self, data: bytes) -> None:
        """Send all of ``data``."""
        self.conn.write(data)

    def recv(self, size: int) -> bytes:
        """Up to ``size`` bytes; b"" at close."""
        return bytes(self.conn.read(max=size) or b"")

    def close(self) -> None:
        """close_notify, then close."""
        try:
            self.conn.close()
        except Exception:  # tlslite raises its own types on a peer that is already gone
            self.conn.sock.close()

    def resumed(self) -> bool:
        """tlslite's own flag."""
        return bool(self.conn.resumed)

    def saved(self) -> Any:
        """tlslite's Session (TLS 1.3: with the tickets read so far)."""
        return self.conn.session

    def client_certified(self) -> bool:
        """tlslite's session holds the client's chain."""
        return self.conn.session.clientCertChain is not None

    def negotiated(self) -> dict[str, str]:
        """Version and cipher as tlslite names them."""
        version = self.conn.version
        return {
            "version": {(3, 4): "1.3", (3, 3): "1.2"}.get(version, str(version)),
            "suite": str(self.conn.getCipherName()),
        }


def tlslite_check_client(conn: Any, ca_file: str) -> None:
    """tlslite asks for a client certificate but checks no chain: ours does (on a resumed
    handshake, the session's), and the alert goes out when it fails."""
    from tlsbench.tls.alerts import ProtocolError
    from tlsbench.tls.certs import verify_client_chain
    from tlsbench.tls.constants import AlertDescription

    chain = conn.session.clientCertChain
    try:
        if chain is None or not chain.x509List:
            raise ProtocolError(AlertDescription.CERTIFICATE_REQUIRED, "no client certificate")
        verify_client_chain([bytes(c.bytes) for c in chain.x509List], ca_file)
    except ProtocolError as exc:
        try:
            for _ in conn._sendError(int(exc.alert), str(exc)):
                pass
        except Exception:  # tlslite raises the alert it sent as TLSLocalAlert
            pass
        raise ConnectionError(f"client certificate refused: {exc}") from None


# -- the plain-TCP reference ------------------------------------------------------------------


class TcpSession:
    """No TLS at all (``--impl tcp``): the workloads' bytes straight through the socket, the
    reference a TLS stack's bulk rate is held against. The socket's timeout is kept by the
    kernel, as our driver keeps it (one system call per ``recv``/``send``, no ``poll``).
    Closing half-closes and waits for the peer's end of stream, as close_notify both ways
    does."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        kernel_timeouts(sock)

    def handshake(self) -> None:
        """Nothing to do: the TCP connection is all there is."""

    def send(self, data: bytes) -> None:
        """Send all of ``data``."""
        sendall_timed(self.sock, data)

    def recv(self, size: int) -> bytes:
        """Up to ``size`` bytes; b"" at the peer's end of stream."""
        return recv_timed(self.sock, size)

    def close(self) -> None:
        """Half-close, read to the peer's end of stream (2 s at most), close."""
        half_close(self.sock)

    def negotiated(self) -> dict[str, str]:
        """No TLS, nothing negotiated."""
        return {}

    def resumed(self) -> bool:
        """Never."""
        return False

    def saved(self) -> Any:
        """No session."""
        return None

    def client_certified(self) -> bool:
        """No certificates."""
        return False


# -- factories -------------------------------------------------------------------------------


def client_factory(impl: str, tls: Tls, offer: Callable[[], Any] = lambda: None) -> Factory:
    """What turns a connected socket into a client :class:`Session` of ``impl``; each
    connection offers ``offer()`` (what :meth:`Session.saved` gave, or None). One
    context per factory: OpenSSL resumes a session only through the context that made it."""
    if impl in OUR_IMPLS:
        base = our_client_config(tls, impl)
        configs: dict[int, ClientConfig] = {}

        def ours(sock: socket.socket) -> Session:
            session = offer()
            if session is None:
                return OurSession(TlsStream(sock, ClientConnection(base)))
            config = configs.get(id(session))
            if config is None or config.session is not session:
                configs.clear()
                config = configs[id(session)] = dataclasses.replace(base, session=session)
            return OurSession(TlsStream(sock, ClientConnection(config)))

        return ours
    if impl == "ssl":
        ctx = ssl_context(tls, server=False)
        return lambda sock: SslSession(
            ctx.wrap_socket(
                sock, server_hostname="localhost", do_handshake_on_connect=False, session=offer()
            )
        )
    if impl == "tlslite":
        api = tlslite_api()
        settings = tlslite_settings(tls)
        chain = key = None
        if tls.client_auth:
            chain = api.X509CertChain()
            chain.parsePemList(Path(tls.client_cert_file).read_text())
            key = api.parsePEMKey(Path(tls.client_key_file).read_text(), private=True)

        def make(sock: socket.socket) -> Session:
            conn = api.TLSConnection(sock)
            return TlsliteSession(
                conn,
                False,
                lambda: conn.handshakeClientCert(
                    certChain=chain,
                    privateKey=key,
                    session=offer(),
                    settings=settings,
                    serverName="localhost",
                ),
            )

        return make
    if impl == "tcp":
        return TcpSession
    raise Unsupported(f"unknown implementation {impl!r}")


def server_factory(impl: str, tls: Tls) -> Factory:
    """What turns an accepted socket into a server :class:`Session` of ``impl``."""
    if impl in OUR_IMPLS:
        config = our_server_config(tls, impl)
        return lambda sock: OurSession(TlsStream(sock, ServerConnection(config)))
    if impl == "ssl":
        ctx = ssl_context(tls, server=True)
        return lambda sock: SslSession(
            ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        )
    if impl == "tlslite":
        api = tlslite_api()
        settings = tlslite_settings(tls)
        chain = api.X509CertChain()
        chain.parsePemList(Path(tls.cert_file).read_text())
        key = api.parsePEMKey(Path(tls.key_file).read_text(), private=True)
        cache = api.SessionCache() if tls.resumption else None
        if tls.resumption == "tickets":
            settings.ticketKeys = [bytearray(os.urandom(32))]
            settings.ticket_count = 2

        def make(sock: socket.socket) -> Session:
            conn = api.TLSConnection(sock)

            def handshake() -> None:
                conn.handshakeServer(
                    certChain=chain,
                    privateKey=key,
                    settings=settings,
                    sessionCache=cache,
                    reqCert=tls.client_auth,
                )
                if tls.client_auth:
                    tlslite_check_client(conn, tls.ca_file)

            return TlsliteSession(conn, True, handshake)

        return make
    if impl == "tcp":
        return TcpSession
    raise Unsupported(f"unknown implementation {impl!r}")


# -- in memory -------------------------------------------------------------------------------


class OurEndpoint:
    """Our sans-I/O connection as an :class:`Endpoint`."""

    def __init__(self, conn: ClientConnection | ServerConnection) -> None:
        self.conn = conn
        self.handshake_done = False
        self.closed = False
        self.error = ""
        self._data: list[bytes] = []

    def feed(self, data: bytes) -> None:
        """Hand ``data`` to the engine and note its events."""
        for event in self.conn.receive_data(data):
            if isinstance(event, ApplicationData):
                self._data.append(event.data)
            elif isinstance(event, HandshakeComplete):
                self.handshake_done = True
            elif isinstance(event, ConnectionClosed):
                self.closed = True
                if event.error is not None:
                    raise ConnectionError(f"alert {int(event.error)}: {event.reason}")

    def take(self) -> bytes:
        """What the engine queued."""
        return self.conn.data_to_send()

    def write(self, data: bytes) -> None:
        """Queue application data."""
        self.conn.send_data(data)

    def read(self) -> bytes:
        """Application data so far."""
        data = b"".join(self._data)
        self._data.clear()
        return data

    def close(self) -> None:
        """Queue close_notify."""
        self.conn.close()


class SslEndpoint:
    """Python ``ssl`` over two ``MemoryBIO`` objects."""

    def __init__(self, ctx: ssl.SSLContext, server: bool) -> None:
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.obj = ctx.wrap_bio(
            self.incoming,
            self.outgoing,
            server_side=server,
            server_hostname=None if server else "localhost",
        )
        self.handshake_done = False
        self.closed = False
        self._step()

    def _step(self) -> None:
        if self.handshake_done:
            return
        try:
            self.obj.do_handshake()
            self.handshake_done = True
        except ssl.SSLWantReadError:
            pass

    def feed(self, data: bytes) -> None:
        """Give OpenSSL the bytes and let it progress."""
        if data:
            self.incoming.write(data)
        self._step()

    def take(self) -> bytes:
        """What OpenSSL wrote."""
        return self.outgoing.read()

    def write(self, data: bytes) -> None:
        """Encrypt application data."""
        self.obj.write(data)

    def read(self) -> bytes:
        """Decrypt whatever whole records have arrived."""
        out = []
        while True:
            try:
                chunk = self.obj.read(1 << 20)
            except ssl.SSLWantReadError:
                break
            except ssl.SSLZeroReturnError:
                self.closed = True
                break
            if not chunk:
                break
            out.append(chunk)
        return b"".join(out)

    def close(self) -> None:
        """Queue close_notify."""
        try:
            self.obj.unwrap()
        except (ssl.SSLWantReadError, ssl.SSLError):
            pass


def memory_endpoint_factory(impl: str, tls: Tls, server: bool) -> Callable[[], Endpoint]:
    """What makes a fresh in-memory endpoint of ``impl`` for each connection."""
    check_supported(impl, tls, "memory")
    if impl in OUR_IMPLS:
        if server:
            sconfig = our_server_config(tls, impl)
            return lambda: OurEndpoint(ServerConnection(sconfig))
        cconfig = our_client_config(tls, impl)
        return lambda: OurEndpoint(ClientConnection(cconfig))
    if impl == "ssl":
        ctx = ssl_context(tls, server)
        return lambda: SslEndpoint(ctx, server)
    raise Unsupported(f"{impl} cannot run in memory")
