"""The server (RFC 8446 §2, §4): one state per message it expects.

ExpectClientHello -> (sends ServerHello ... Finished) -> ExpectFinished ->
ExpectTraffic; when no offered key share is acceptable a HelloRetryRequest is
sent and ExpectClientHello waits for the second ClientHello. ExpectClientHello
picks the version (§4.2.1); a TLS 1.2 handshake continues in ``server12``.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from . import extensions as ext
from . import server12
from .alerts import ProtocolError
from .certs import PrivateKey, load_certificate_chain, load_private_key
from .connection import Connection, ExpectTraffic, State
from .constants import (
    DEFAULT_GROUPS,
    DEFAULT_SERVER_VERSIONS,
    DEFAULT_SUITES,
    HELLO_RETRY_REQUEST_RANDOM,
    MAX_CLIENT_HELLO,
    SSL3,
    TLS12,
    TLS13,
    AlertDescription,
    CipherSuite,
    ExtensionType,
    HandshakeType,
    NamedGroup,
    SignatureScheme,
    suite_version,
)
from .keyexchange import KeyShare
from .messages import (
    Certificate,
    CertificateEntry,
    CertificateVerify,
    ClientHello,
    EncryptedExtensions,
    Finished,
    Handshake,
    ServerHello,
)
from .record import MAX_HANDSHAKE_MESSAGE
from .signatures import schemes_for_key, sign, sign_tls12


@dataclass(frozen=True)
class ServerCertificate:
    """One certificate chain (DER, leaf first) with its private key."""

    chain: tuple[bytes, ...]
    key: PrivateKey

    @classmethod
    def from_files(cls, cert_file: Path | str, key_file: Path | str) -> ServerCertificate:
        """Load a PEM chain (leaf first) and a PEM private key."""
        return cls(tuple(load_certificate_chain(cert_file)), load_private_key(key_file))


@dataclass(frozen=True)
class ServerConfig:
    """The server's certificate chain and key, and what it accepts, in preference order."""

    certificate_chain: tuple[bytes, ...]
    """DER certificates, leaf first."""
    private_key: PrivateKey
    cipher_suites: tuple[CipherSuite, ...] = DEFAULT_SUITES
    groups: tuple[NamedGroup, ...] = DEFAULT_GROUPS
    alpn_protocols: tuple[bytes, ...] = ()
    provider: str = "cryptography"
    middlebox_compat: bool = True
    """Answer a client's legacy_session_id with a dummy ChangeCipherSpec (Appendix D.4)."""
    signature_schemes: tuple[SignatureScheme, ...] = ()
    """Schemes we may sign with; empty means every scheme the key allows."""
    versions: tuple[int, ...] = DEFAULT_SERVER_VERSIONS
    """Versions accepted: TLS13 (0x0304) and/or TLS12 (0x0303); the highest offered wins."""
    extended_master_secret: bool = True
    """TLS 1.2: use the RFC 7627 extended master secret when the client offers it."""
    max_handshake_message: int = MAX_HANDSHAKE_MESSAGE
    """Longest handshake message accepted (64 KiB); a longer one is decode_error."""
    more_certificates: tuple[ServerCertificate, ...] = ()
    """Further certificates (say RSA beside ECDSA), as OpenSSL's ``-dcert``: each handshake
    uses the first, in this order after the main one, that the negotiation allows."""

    @property
    def certificates(self) -> tuple[ServerCertificate, ...]:
        """Every certificate, the main one first."""
        return (
            ServerCertificate(self.certificate_chain, self.private_key),
            *self.more_certificates,
        )

    @classmethod
    def from_files(
        cls,
        cert_file: Path | str,
        key_file: Path | str,
        *,
        cipher_suites: Sequence[CipherSuite] = DEFAULT_SUITES,
        groups: Sequence[NamedGroup] = DEFAULT_GROUPS,
        alpn_protocols: Sequence[bytes] = (),
        provider: str = "cryptography",
        middlebox_compat: bool = True,
        versions: Sequence[int] = DEFAULT_SERVER_VERSIONS,
        more: Sequence[tuple[Path | str, Path | str]] = (),
    ) -> ServerConfig:
        """Load a PEM chain (leaf first) and a PEM private key, and ``more`` such pairs."""
        main = ServerCertificate.from_files(cert_file, key_file)
        return cls(
            main.chain,
            main.key,
            tuple(cipher_suites),
            tuple(groups),
            tuple(alpn_protocols),
            provider,
            middlebox_compat,
            versions=tuple(versions),
            more_certificates=tuple(ServerCertificate.from_files(c, k) for c, k in more),
        )


class ServerConnection(Connection):
    """Sans-I/O TLS 1.3 server; it waits for a ClientHello."""

    def __init__(self, config: ServerConfig) -> None:
        super().__init__(config.provider, config.middlebox_compat, config.max_handshake_message)
        if not config.certificate_chain:
            raise ValueError("a certificate chain is needed")
        if not config.versions or not set(config.versions) <= {TLS12, TLS13}:
            raise ValueError("versions must be a non-empty choice of TLS12 and TLS13")
        self.config = config
        self.ccs_sent = False
        self.spoken_versions = spoken_versions(config)
        """The versions this server negotiates: accepted, with a suite configured."""
        self.certificate = config.certificates[0]
        """The certificate this handshake presents (chosen with the suite)."""
        self._handshake.max_client_hello = MAX_CLIENT_HELLO
        self._state = ExpectClientHello(self)

    def certificate_verify_signature(
        self, scheme: SignatureScheme, transcript_hash: bytes
    ) -> bytes:
        """Our CertificateVerify signature (§4.4.3); tests override it to inject faults."""
        return sign(self.certificate.key, scheme, transcript_hash, server=True)

    def finished_verify_data(self, finished_key: bytes) -> bytes:
        """verify_data of our Finished (§4.4.4); tests override it to inject faults."""
        return self.crypto.tls13_verify_data(self.hash_name, finished_key, self.transcript.digest())

    def finished_verify_data_tls12(self, master_secret: bytes) -> bytes:
        """verify_data of our TLS 1.2 Finished (RFC 5246 §7.4.9); tests override it."""
        return self.crypto.tls12_verify_data(
            self.hash_name, master_secret, b"server finished", self.transcript.digest()
        )

    def server_key_exchange_signature(self, scheme: SignatureScheme, content: bytes) -> bytes:
        """Our TLS 1.2 ServerKeyExchange signature (RFC 8422 §5.4); tests override it."""
        return sign_tls12(self.certificate.key, scheme, content)


@dataclass(frozen=True)
class _Retry:
    """What a HelloRetryRequest fixed: the second ClientHello must agree."""

    suite: CipherSuite
    group: NamedGroup
    session_id: bytes


@dataclass(frozen=True)
class _Offer:
    """The parts of a ClientHello the server negotiates from, checked."""

    groups: list[int]
    shares: dict[int, bytes]
    schemes: list[int]
    server_name: str | None
    alpn: list[bytes] | None


def _fail(alert: AlertDescription, message: str) -> ProtocolError:
    return ProtocolError(alert, message)


def spoken_versions(config: ServerConfig) -> set[int]:
    """The versions accepted that have a suite configured."""
    return {suite_version(s) for s in config.cipher_suites} & set(config.versions)


def select_version(ours: set[int], hello: ClientHello) -> int:
    """The highest of ``ours`` the client speaks (§4.2.1; RFC 5246 Appendix E.1 without it)."""
    if hello.legacy_version < SSL3:  # not even SSL 3.0: refused whatever else it offers
        shown = f"{hello.legacy_version:#06x}"
        raise _fail(AlertDescription.PROTOCOL_VERSION, f"legacy_version {shown}")
    versions = hello.extensions.get(ExtensionType.SUPPORTED_VERSIONS)
    if versions is not None:  # §4.2.1: then legacy_version is otherwise ignored
        offered = ext.decode_supported_versions_client(versions)
    else:
        offered = [TLS12] if hello.legacy_version >= TLS12 else []
    for version in (TLS13, TLS12):
        if version in ours and version in offered:
            return version
    raise _fail(AlertDescription.PROTOCOL_VERSION, "no version in common")


def _read_offer(hello: ClientHello) -> _Offer:
    """Check a TLS 1.3 ClientHello's compression and extensions (§4.1.2, §4.2, §9.2)."""
    exts = hello.extensions
    if hello.legacy_compression_methods != b"\x00":
        raise _fail(AlertDescription.ILLEGAL_PARAMETER, "compression methods other than null")
    if ExtensionType.PRE_SHARED_KEY in exts and list(exts)[-1] != ExtensionType.PRE_SHARED_KEY:
        raise _fail(AlertDescription.ILLEGAL_PARAMETER, "pre_shared_key is not last")  # §4.2.11
    # §9.2: certificate authentication needs signature_algorithms; (EC)DHE needs the other two.
    for needed in (
        ExtensionType.SIGNATURE_ALGORITHMS,
        ExtensionType.SUPPORTED_GROUPS,
        ExtensionType.KEY_SHARE,
    ):
        if needed not in exts:
            raise _fail(AlertDescription.MISSING_EXTENSION, f"no {needed.name.lower()}")
    groups = ext.decode_supported_groups(exts[ExtensionType.SUPPORTED_GROUPS])
    shares = ext.decode_key_share_client(exts[ExtensionType.KEY_SHARE])
    if any(s.group not in groups for s in shares):  # §4.2.8
        raise _fail(AlertDescription.ILLEGAL_PARAMETER, "key share for a group not offered")
    server_name = None
    if ExtensionType.SERVER_NAME in exts:
        server_name = ext.decode_server_name(exts[ExtensionType.SERVER_NAME])
    alpn = None
    if ExtensionType.APPLICATION_LAYER_PROTOCOL_NEGOTIATION in exts:
        alpn = ext.decode_alpn(exts[ExtensionType.APPLICATION_LAYER_PROTOCOL_NEGOTIATION])
    return _Offer(
        groups,
        {s.group: s.key_exchange for s in shares},
        ext.decode_signature_algorithms(exts[ExtensionType.SIGNATURE_ALGORITHMS]),
        server_name,
        alpn,
    )


def _choose_certificate(
    config: ServerConfig, offered: Sequence[int]
) -> tuple[ServerCertificate, SignatureScheme]:
    """The first certificate with a scheme the client offered, and that scheme (§4.4.2.2)."""
    for certificate in config.certificates:
        for scheme in schemes_for_key(certificate.key):
            if config.signature_schemes and scheme not in config.signature_schemes:
                continue
            if scheme in offered:
                return certificate, scheme
    raise _fail(AlertDescription.HANDSHAKE_FAILURE, "no common signature scheme")


class ExpectClientHello(State):
    """Waits for a ClientHello (§4.1.2), or the second one after a HelloRetryRequest."""

    def __init__(self, conn: ServerConnection, retry: _Retry | None = None) -> None:
        self.conn = conn
        self.retry = retry

    def handle(self, message: Handshake) -> State:
        """Negotiate, then send ServerHello through Finished (or a HelloRetryRequest)."""
        if message.msg_type != HandshakeType.CLIENT_HELLO:
            return super().handle(message)
        conn = self.conn
        config = conn.config
        hello = ClientHello.decode(message.body)
        version = select_version(conn.spoken_versions, hello)
        if version == TLS12:
            if self.retry is not None:  # §4.1.4: ClientHello2 must still offer TLS 1.3
                raise _fail(AlertDescription.ILLEGAL_PARAMETER, "ClientHello2 without TLS 1.3")
            return server12.client_hello(conn, hello, message)
        conn.ccs_allowed = True
        conn.records.ignore_record_version = True  # §5.1, from here on
        offer = _read_offer(hello)
        if ExtensionType.COOKIE in hello.extensions and self.retry is None:
            raise _fail(AlertDescription.ILLEGAL_PARAMETER, "cookie we did not send")
        # §4.2.10: early data is never accepted; its records are skipped (record.py).
        # ClientHello2 must not offer it, and its arrival ends what was sent before it.
        if self.retry is None:
            conn.records.skip_early_data = ExtensionType.EARLY_DATA in hello.extensions
        elif ExtensionType.EARLY_DATA in hello.extensions:
            raise _fail(AlertDescription.ILLEGAL_PARAMETER, "early_data in ClientHello2")
        else:
            conn.records.skip_early_data = False

        # The server's preference decides (suite, scheme, group, ALPN).
        suite = next(
            (
                s
                for s in config.cipher_suites
                if s in hello.cipher_suites and suite_version(s) == TLS13
            ),
            None,
        )
        if suite is None:
            raise _fail(AlertDescription.HANDSHAKE_FAILURE, "no common cipher suite")
        certificate, scheme = _choose_certificate(config, offer.schemes)
        alpn = None
        if offer.alpn is not None and config.alpn_protocols:
            alpn = next((p for p in config.alpn_protocols if p in offer.alpn), None)
            if alpn is None:  # RFC 7301 §3.2
                raise _fail(AlertDescription.NO_APPLICATION_PROTOCOL, "no common ALPN protocol")
        group = next((g for g in config.groups if g in offer.shares), None)
        if self.retry is not None:
            # §4.1.4: the second ClientHello has one share, for the group we asked for.
            if len(offer.shares) != 1 or group != self.retry.group:
                raise _fail(AlertDescription.ILLEGAL_PARAMETER, "ClientHello2 ignores the retry")
            if suite != self.retry.suite or hello.legacy_session_id != self.retry.session_id:
                raise _fail(AlertDescription.ILLEGAL_PARAMETER, "ClientHello2 changed")
        elif group is None:
            retry_group = next((g for g in config.groups if g in offer.groups), None)
            if retry_group is None:
                raise _fail(AlertDescription.HANDSHAKE_FAILURE, "no common group")
            return self._hello_retry_request(hello, message, suite, retry_group)
        assert group is not None

        conn.version = TLS13
        conn.server_name = offer.server_name
        conn.alpn_protocol = alpn
        conn.signature_scheme = scheme
        conn.certificate = certificate
        conn.group = group
        conn.set_suite(suite)
        if self.retry is None:
            conn.transcript.start(conn.hash_name)
        conn.transcript.add(message.raw)
        return self._send_flight(hello, offer.shares[group])

    def _send_flight(self, hello: ClientHello, client_share: bytes) -> State:
        """ServerHello, CCS, EncryptedExtensions, Certificate, CertificateVerify, Finished."""
        conn = self.conn
        assert conn.group is not None and conn.signature_scheme is not None
        ours = KeyShare(conn.group)
        shared_secret = ours.exchange(client_share)
        server_hello = ServerHello(
            os.urandom(32),
            hello.legacy_session_id,
            int(conn.suite),
            {
                ExtensionType.SUPPORTED_VERSIONS: ext.encode_supported_versions_server(TLS13),
                ExtensionType.KEY_SHARE: ext.KeyShareEntry(int(conn.group), ours.public).encode(),
            },
        )
        conn.send_handshake(server_hello.encode())
        self._compat_change_cipher_spec(hello)
        conn.key_schedule = conn.crypto.KeySchedule(int(conn.suite))
        stage = conn.key_schedule.handshake_stage(shared_secret, conn.transcript.digest())
        conn.handshake_stage = stage
        conn.set_write_secret(stage.server_secret)

        encrypted: ext.Extensions = {}
        if conn.server_name is not None:
            encrypted[ExtensionType.SERVER_NAME] = b""  # RFC 6066 §3: empty answer
        if conn.alpn_protocol is not None:
            alpn_type = ExtensionType.APPLICATION_LAYER_PROTOCOL_NEGOTIATION
            encrypted[alpn_type] = ext.encode_alpn([conn.alpn_protocol])
        conn.send_handshake(EncryptedExtensions(encrypted).encode())
        entries = [CertificateEntry(der) for der in conn.certificate.chain]
        conn.send_handshake(Certificate(b"", entries).encode())
        scheme = conn.signature_scheme
        signature = conn.certificate_verify_signature(scheme, conn.transcript.digest())
        conn.send_handshake(CertificateVerify(int(scheme), signature).encode())
        verify_data = conn.finished_verify_data(stage.server_finished_key)
        conn.send_handshake(Finished(verify_data).encode())
        application = conn.key_schedule.application_stage(conn.transcript.digest())
        conn.set_write_secret(application.server_secret)
        conn.set_read_secret(stage.client_secret)  # §5.1: ClientHello must end its record
        return ExpectFinished(conn, application.client_secret)

    def _compat_change_cipher_spec(self, hello: ClientHello) -> None:
        # Appendix D.4: after our first handshake message, when the client used a session id.
        conn = self.conn
        if conn.middlebox_compat and hello.legacy_session_id and not conn.ccs_sent:
            conn.records.write_change_cipher_spec()
            conn.ccs_sent = True

    def _hello_retry_request(
        self, hello: ClientHello, message: Handshake, suite: CipherSuite, group: NamedGroup
    ) -> State:
        conn = self.conn
        conn.hello_retry_request = True
        conn.set_suite(suite)
        conn.transcript.add(message.raw)
        conn.transcript.restart_for_retry(conn.hash_name)  # §4.4.1 message_hash
        retry = ServerHello(
            HELLO_RETRY_REQUEST_RANDOM,
            hello.legacy_session_id,
            int(suite),
            {
                ExtensionType.SUPPORTED_VERSIONS: ext.encode_supported_versions_server(TLS13),
                ExtensionType.KEY_SHARE: ext.encode_key_share_hrr(int(group)),
            },
        )
        conn.send_handshake(retry.encode())
        self._compat_change_cipher_spec(hello)
        return ExpectClientHello(conn, _Retry(suite, group, hello.legacy_session_id))


class ExpectFinished(State):
    """Waits for the client's Finished (§4.4.4)."""

    def __init__(self, conn: ServerConnection, client_application_secret: bytes) -> None:
        self.conn = conn
        self.client_application_secret = client_application_secret

    def handle(self, message: Handshake) -> State:
        """Verify the client's Finished and switch to its application keys."""
        if message.msg_type != HandshakeType.FINISHED:
            return super().handle(message)
        conn = self.conn
        finished = Finished.decode(message.body, conn.hash_length)
        expected = conn.crypto.tls13_verify_data(
            conn.hash_name, conn.handshake_stage.client_finished_key, conn.transcript.digest()
        )
        if not hmac.compare_digest(expected, finished.verify_data):
            raise ProtocolError(AlertDescription.DECRYPT_ERROR, "client Finished is wrong")
        conn.transcript.add(message.raw)
        conn.set_read_secret(self.client_application_secret, application=True)
        conn.complete_handshake()
        return ExpectTraffic(conn)
