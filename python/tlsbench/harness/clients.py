"""The client side of ``tlsbench connect``: our engine, Python ``ssl`` or tlslite-ng on a socket.

Each takes the same :class:`ClientSetup` (a whole profile, a trust file or None for
``--insecure``, the name to verify) and reports the same :class:`Negotiated` fields, as
far as the stack tells them. A failed verification raises :class:`VerificationFailed`
naming the alert sent.
"""

from __future__ import annotations

import functools
import os
import socket
import ssl
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import click

from tlsbench.tls.alerts import ProtocolError

from .impls import SslSession, TlsliteSession, tlslite_api
from .params import OUR_IMPLS, TLS12_SUITES, suite_version
from .standalone import Negotiated, Profile, describe_leaf

_IANA_BY_OPENSSL = {v: k for k, v in TLS12_SUITES.items()}
# OpenSSL's alert for its commonest verification errors (X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT,
# _SELF_SIGNED_CERT_IN_CHAIN, _UNABLE_TO_GET_ISSUER_CERT_LOCALLY: unknown_ca).
_OPENSSL_VERIFY_ALERT = {18: 48, 19: 48, 20: 48}
_TLSLITE_CIPHER = {"AES_128_GCM": "aes128gcm", "AES_256_GCM": "aes256gcm"}


class VerificationFailed(ConnectionError):
    """The server's certificate was refused; ``alert`` is what we sent (or None)."""

    def __init__(self, message: str, alert: int | None) -> None:
        super().__init__(message)
        self.alert = alert
        self.by_peer = False


@dataclass(frozen=True)
class ClientSetup:
    """What ``connect`` asks of any client."""

    impl: str
    profile: Profile
    trust: str | None
    """PEM file of trusted certificates; None: no verification (``--insecure``)."""
    server_name: str
    timeout: float
    cert_file: str | None = None
    """PEM chain (leaf first) to present when the server asks; None: none."""
    key_file: str | None = None
    resumption: str = "tickets"
    """TLS 1.2: ``tickets`` asks for an RFC 5077 ticket; ``session-id`` resumes by ID only."""


class Client(Protocol):
    """One client connection over a connected socket."""

    def handshake(self) -> Negotiated:
        """Complete the handshake and say what was negotiated."""

    def send(self, data: bytes) -> None:
        """Send all of ``data``."""

    def recv(self, size: int) -> bytes:
        """Up to ``size`` bytes; b"" at close."""

    def close(self) -> None:
        """close_notify, then close."""

    def abort(self) -> None:
        """Close at once after a failure."""

    def resumed(self) -> bool:
        """Whether the handshake resumed the session offered."""

    def session(self) -> Any:
        """The newest session to offer the next connection (None if none); TLS 1.3 waits
        up to a second for the server's ticket (sent after the handshake)."""


def prepare(setup: ClientSetup) -> None:
    """What must happen before the socket exists (``ssl`` may start this command again)."""
    if setup.impl == "ssl":
        ensure_openssl_conf(setup.profile)


def open_client(setup: ClientSetup, sock: socket.socket, session: Any = None) -> Client:
    """The client of ``setup.impl`` on ``sock`` (after :func:`prepare`), offering
    ``session`` (what an earlier client's :meth:`Client.session` gave) if not None."""
    if setup.impl in OUR_IMPLS:
        return OurClient(setup, sock, session)
    if setup.impl == "ssl":
        return SslClient(setup, sock, session)
    return TlsliteClient(setup, sock, session)


TICKET_WAIT = 1.0
"""Seconds a TLS 1.3 client waits after the handshake for the server's first ticket."""


def _wait_for_ticket(sock: socket.socket, has_ticket: Callable[[], bool], read: Any) -> None:
    """Read (discarding nothing: only called when no data is expected) until
    ``has_ticket()`` or :data:`TICKET_WAIT` has passed."""
    deadline = time.monotonic() + TICKET_WAIT
    previous = sock.gettimeout()
    try:
        while not has_ticket() and time.monotonic() < deadline:
            sock.settimeout(max(0.01, min(0.2, deadline - time.monotonic())))
            try:
                if not read():
                    break  # the peer closed
            except (TimeoutError, ssl.SSLWantReadError):
                continue
    finally:
        sock.settimeout(previous)


def _is_ip(name: str) -> bool:
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in name else socket.AF_INET, name)
    except OSError:
        return False
    return True


class OurClient:
    """Our engine on the provider of the implementation's name."""

    def __init__(self, setup: ClientSetup, sock: socket.socket, session: Any = None) -> None:
        from tlsbench.tls import CipherSuite, ClientConfig, ClientConnection, NamedGroup
        from tlsbench.tls.certs import load_certificate_chain, load_private_key
        from tlsbench.tls.driver import TlsStream

        p = setup.profile
        auth: dict[str, Any] = {}
        if setup.cert_file and setup.key_file:
            auth["certificate_chain"] = tuple(load_certificate_chain(setup.cert_file))
            auth["private_key"] = load_private_key(setup.key_file)
        config = ClientConfig(
            server_name=setup.server_name,
            ca_file=setup.trust,
            verify=setup.trust is not None,
            cipher_suites=tuple(CipherSuite[s] for s in p.suites),
            groups=tuple(NamedGroup[g.upper()] for g in p.groups),
            alpn_protocols=tuple(a.encode() for a in p.alpn),
            provider=setup.impl,
            versions=tuple(0x0304 if v == "1.3" else 0x0303 for v in p.versions),
            session=session,
            session_tickets=setup.resumption == "tickets",
            **auth,
        )
        self.conn = ClientConnection(config)
        self.stream = TlsStream(sock, self.conn)

    def handshake(self) -> Negotiated:
        """Run it; TlsConnectionError (a ConnectionError with the alert) on failure."""
        done = self.stream.do_handshake()
        return Negotiated(
            version="TLS 1.3" if done.version == 0x0304 else "TLS 1.2",
            suite=done.cipher_suite.name,
            group=done.group.name.lower() if done.group is not None else "none (RSA key exchange)",
            signature=done.signature_scheme.name.lower()
            if done.signature_scheme is not None
            else "none (RSA key exchange)",
            certificate=describe_leaf(done.peer_certificates[0])
            if done.peer_certificates
            else "- (resumed: checked when the session was made)",
            alpn=done.alpn_protocol.decode("latin-1") if done.alpn_protocol else "-",
        )

    def send(self, data: bytes) -> None:
        """Send all of ``data``."""
        self.stream.send(data)

    def recv(self, size: int) -> bytes:
        """Up to ``size`` bytes."""
        return self.stream.recv(size)

    def close(self) -> None:
        """close_notify both ways."""
        self.stream.close()

    def abort(self) -> None:
        """The stream already sent its alert and closed."""
        self.stream.sock.close()

    def resumed(self) -> bool:
        """The connection's ``resumed``."""
        return bool(self.stream.conn.resumed)

    def session(self) -> Any:
        """The connection's newest Session (TLS 1.3: once a NewSessionTicket is read)."""
        conn = self.conn
        done = self.stream.handshake
        if done is not None and done.version == 0x0304:
            _wait_for_ticket(
                self.stream.sock,
                lambda: conn.session is not None,
                lambda: self.stream.recv(1 << 16) if self.stream.closed is None else b"",
            )
        return conn.session


def ensure_openssl_conf(profile: Profile) -> None:
    """Python 3.11's ``ssl`` takes TLS 1.3 suites and groups only from ``OPENSSL_CONF``, read
    at start-up: run this command again with one that says the profile's (once)."""
    from tlsbench.server.foreign import ssl_openssl_conf

    text = ssl_openssl_conf(profile.suites, profile.groups)
    current = os.environ.get("OPENSSL_CONF")
    if current and Path(current).is_file() and Path(current).read_text() == text:
        return
    if os.environ.get("TLSBENCH_OPENSSL_CONF_SET"):
        raise click.ClickException("ssl: OPENSSL_CONF was set but did not match the profile")
    if Path(sys.argv[0]).name not in ("tlsbench", "__main__.py"):
        raise click.UsageError(
            "ssl needs OPENSSL_CONF set before start for TLS 1.3 suites and groups; "
            "run the tlsbench command"
        )
    fd, path = tempfile.mkstemp(prefix="tlsbench-openssl-", suffix=".cnf")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    env = {**os.environ, "OPENSSL_CONF": path, "TLSBENCH_OPENSSL_CONF_SET": "1"}
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, "-m", "tlsbench", *sys.argv[1:]], env)


@functools.cache
def _ssl_client_context(setup: ClientSetup) -> ssl.SSLContext:
    """One context per setup: OpenSSL resumes a session only through the context that
    made it, so every connection of one ``connect`` shares this."""
    p = setup.profile
    ensure_openssl_conf(p)  # a no-op by now: open_client's caller ran it before connecting
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    order = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}
    chosen = sorted(order[v] for v in p.versions)
    ctx.minimum_version, ctx.maximum_version = chosen[0], chosen[-1]
    tls12 = [TLS12_SUITES[s] for s in p.suites if suite_version(s) == "1.2"]
    if tls12:
        ctx.set_ciphers(":".join(tls12))
    if setup.trust is None:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    else:
        ctx.load_verify_locations(setup.trust)
    if p.alpn:
        ctx.set_alpn_protocols(list(p.alpn))
    if setup.cert_file and setup.key_file:
        ctx.load_cert_chain(setup.cert_file, setup.key_file)
    if setup.resumption == "session-id":
        ctx.options |= ssl.OP_NO_TICKET
    return ctx


class SslClient:
    """Python's ``ssl`` (OpenSSL); it verifies as OpenSSL does, name included."""

    def __init__(self, setup: ClientSetup, sock: socket.socket, session: Any = None) -> None:
        ctx = _ssl_client_context(setup)
        self.sock = ctx.wrap_socket(
            sock, server_hostname=setup.server_name, do_handshake_on_connect=False, session=session
        )
        self.ssl_session = SslSession(self.sock)

    def handshake(self) -> Negotiated:
        """Run it; VerificationFailed or ssl.SSLError on failure."""
        try:
            self.sock.do_handshake()
        except ssl.SSLCertVerificationError as exc:
            alert = _OPENSSL_VERIFY_ALERT.get(exc.verify_code)
            raise VerificationFailed(f"{exc.verify_message} (OpenSSL's verdict)", alert) from None
        except ssl.SSLError as exc:
            raise ConnectionError(f"OpenSSL: {exc.reason or exc}") from None
        cipher = self.sock.cipher()
        name = cipher[0] if cipher else "-"
        der = self.sock.getpeercert(binary_form=True)
        return Negotiated(
            version=(self.sock.version() or "-").replace("TLSv", "TLS "),
            suite=_IANA_BY_OPENSSL.get(name, name),
            group="- (Python ssl does not tell)",
            signature="- (Python ssl does not tell)",
            certificate=describe_leaf(der) if der else "-",
            alpn=self.sock.selected_alpn_protocol() or "-",
        )

    def send(self, data: bytes) -> None:
        """Send all of ``data``."""
        self.ssl_session.send(data)

    def recv(self, size: int) -> bytes:
        """Up to ``size`` bytes."""
        return self.ssl_session.recv(size)

    def close(self) -> None:
        """SSL_shutdown, then close."""
        self.ssl_session.close()

    def abort(self) -> None:
        """Close the socket."""
        self.sock.close()

    def resumed(self) -> bool:
        """OpenSSL's session_reused."""
        return bool(self.sock.session_reused)

    def session(self) -> Any:
        """The SSLSession; TLS 1.3: once it holds a ticket."""
        if self.sock.version() == "TLSv1.3":
            _wait_for_ticket(
                self.sock,
                lambda: self.sock.session is not None and self.sock.session.has_ticket,
                lambda: self.ssl_session.recv(1 << 16),
            )
        return self.sock.session


class TlsliteClient:
    """tlslite-ng; it does not verify chains itself, so ours checks the chain it received
    and sends the alert when it fails."""

    def __init__(self, setup: ClientSetup, sock: socket.socket, session: Any = None) -> None:
        api = tlslite_api()
        p = setup.profile
        settings = api.HandshakeSettings()
        tuples = {"1.3": (3, 4), "1.2": (3, 3)}
        chosen = sorted(tuples[v] for v in p.versions)
        settings.minVersion, settings.maxVersion = chosen[0], chosen[-1]
        names: list[str] = []
        for suite in p.suites:
            cipher = "chacha20-poly1305" if "CHACHA20" in suite else None
            cipher = (
                cipher or _TLSLITE_CIPHER["AES_256_GCM" if "AES_256" in suite else "AES_128_GCM"]
            )
            if cipher not in names:
                names.append(cipher)
        settings.cipherNames = names
        kx = []
        for suite in p.suites:
            if suite_version(suite) == "1.2":
                name = "rsa" if suite.startswith("TLS_RSA_") else None
                name = name or ("ecdhe_ecdsa" if "_ECDSA_" in suite else "ecdhe_rsa")
                if name not in kx:
                    kx.append(name)
        if kx:
            settings.keyExchangeNames = kx
        settings.eccCurves = list(p.groups)
        settings.keyShares = [p.groups[0]]
        chain = key = None
        if setup.cert_file and setup.key_file:
            chain = api.X509CertChain()
            chain.parsePemList(Path(setup.cert_file).read_text())
            key = api.parsePEMKey(Path(setup.key_file).read_text(), private=True)
        self.api = api
        self.raw = sock
        self.setup = setup
        self.conn = api.TLSConnection(sock)
        server_name = None if _is_ip(setup.server_name) else setup.server_name
        alpn = [a.encode() for a in p.alpn] or None
        self.tls_session = TlsliteSession(
            self.conn,
            False,
            lambda: self.conn.handshakeClientCert(
                certChain=chain,
                privateKey=key,
                session=session,
                settings=settings,
                serverName=server_name,
                alpn=alpn,
            ),
        )

    def handshake(self) -> Negotiated:
        """Run it, then verify the chain (VerificationFailed after sending the alert)."""
        from tlsbench.tls.certs import verify_server_chain
        from tlsbench.tls.constants import CipherSuite

        setup = self.setup
        try:
            self.tls_session.handshake()
        except (self.api.TLSLocalAlert, self.api.TLSRemoteAlert) as exc:
            raise ConnectionError(f"tlslite: {exc}") from None
        session = self.conn.session
        held = session.serverCertChain
        chain = [bytes(c.bytes) for c in held.x509List] if held is not None else []
        if self.conn.resumed and not chain:
            pass  # a resumed TLS 1.3 session keeps no chain; it was checked when made
        elif setup.trust is not None:
            try:
                verify_server_chain(chain, setup.trust, setup.server_name)
            except ProtocolError as exc:
                try:
                    for _ in self.conn._sendError(int(exc.alert), str(exc)):
                        pass
                except (self.api.TLSLocalAlert, OSError):
                    pass
                raise VerificationFailed(str(exc), int(exc.alert)) from None
        try:
            suite = CipherSuite(session.cipherSuite).name
        except ValueError:
            suite = hex(session.cipherSuite)
        return Negotiated(
            version={(3, 4): "TLS 1.3", (3, 3): "TLS 1.2"}.get(self.conn.version, "-"),
            suite=suite,
            group="- (tlslite does not tell)",
            signature="- (tlslite does not tell)",
            certificate=describe_leaf(chain[0]) if chain else "- (resumed)",
            alpn=bytes(session.appProto or b"").decode("latin-1") or "-",
        )

    def send(self, data: bytes) -> None:
        """Send all of ``data``."""
        self.tls_session.send(data)

    def recv(self, size: int) -> bytes:
        """Up to ``size`` bytes."""
        return self.tls_session.recv(size)

    def close(self) -> None:
        """close_notify, then close."""
        self.tls_session.close()

    def abort(self) -> None:
        """Close the socket."""
        self.conn.sock.close()

    def resumed(self) -> bool:
        """tlslite's own flag."""
        return bool(self.conn.resumed)

    def session(self) -> Any:
        """tlslite's Session; TLS 1.3: once it holds a ticket."""
        if tuple(self.conn.version) == (3, 4) and not self.conn.session.tickets:
            self._read_tickets()
        return self.conn.session

    def _read_tickets(self) -> None:
        """Up to :data:`TICKET_WAIT` seconds of tlslite's non-blocking read (a timeout in
        its blocking one would close the connection), until a ticket is in the session."""
        import select

        raw = self.raw
        deadline = time.monotonic() + TICKET_WAIT
        raw.setblocking(False)
        reader = self.conn.readAsync()
        try:
            while not self.conn.session.tickets and time.monotonic() < deadline:
                if next(reader) == 0:  # waiting for bytes
                    select.select([raw], [], [], max(0.0, deadline - time.monotonic()))
        except (StopIteration, OSError, self.api.BaseTLSException):
            pass  # data, the end of the stream or an alert instead: nothing more to wait for
        finally:
            reader.close()
            if raw.fileno() >= 0:  # tlslite closes its socket after an error
                raw.setblocking(True)
                raw.settimeout(self.setup.timeout)
