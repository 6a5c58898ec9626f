"""The client (RFC 8446 §2, §4): one state per message it expects.

ExpectServerHello -> ExpectEncryptedExtensions -> ExpectCertificate
-> ExpectCertificateVerify -> ExpectFinished -> ExpectTraffic; a
HelloRetryRequest sends a second ClientHello and returns to ExpectServerHello.
A TLS 1.2 ServerHello continues in ``client12``.
"""

from __future__ import annotations

import datetime
import hmac
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes

from . import client12
from . import extensions as ext
from .alerts import ProtocolError
from .certs import server_public_key
from .connection import Connection, ExpectTraffic, State
from .constants import (
    DEFAULT_GROUPS,
    DEFAULT_SUITES,
    DEFAULT_VERSIONS,
    TLS12,
    TLS13,
    AlertDescription,
    CipherSuite,
    ExtensionType,
    HandshakeType,
    NamedGroup,
    PskKeyExchangeMode,
    SignatureScheme,
    suite_version,
)
from .keyexchange import KeyShare, rsa_encrypt_pre_master_secret
from .messages import (
    Certificate,
    CertificateRequest,
    CertificateVerify,
    ClientHello,
    EncryptedExtensions,
    Finished,
    Handshake,
    ServerHello,
)
from .signatures import CERTIFICATE_VERIFY_SCHEMES, verify

# The RSASSA-PKCS1-v1_5 schemes are offered for certificate signatures only (§4.2.3).
DEFAULT_SIGNATURE_SCHEMES = (
    SignatureScheme.ECDSA_SECP256R1_SHA256,
    SignatureScheme.ECDSA_SECP384R1_SHA384,
    SignatureScheme.RSA_PSS_RSAE_SHA256,
    SignatureScheme.RSA_PSS_RSAE_SHA384,
    SignatureScheme.RSA_PSS_RSAE_SHA512,
    SignatureScheme.RSA_PKCS1_SHA256,
    SignatureScheme.RSA_PKCS1_SHA384,
    SignatureScheme.RSA_PKCS1_SHA512,
)
# §4.2: extensions a server may put in EncryptedExtensions.
_ENCRYPTED_EXTENSIONS_ALLOWED = frozenset(
    {
        ExtensionType.SERVER_NAME,
        ExtensionType.MAX_FRAGMENT_LENGTH,
        ExtensionType.SUPPORTED_GROUPS,
        ExtensionType.USE_SRTP,
        ExtensionType.HEARTBEAT,
        ExtensionType.APPLICATION_LAYER_PROTOCOL_NEGOTIATION,
        ExtensionType.CLIENT_CERTIFICATE_TYPE,
        ExtensionType.SERVER_CERTIFICATE_TYPE,
        ExtensionType.EARLY_DATA,
        ExtensionType.RECORD_SIZE_LIMIT,
    }
)


@dataclass(frozen=True)
class ClientConfig:
    """What the client offers and how it checks the server."""

    server_name: str | None = None
    """Sent as SNI (unless an IP address) and checked against the certificate."""
    ca_file: Path | str | None = None
    verify: bool = True
    """False switches certificate verification off (the signature is still checked)."""
    cipher_suites: tuple[CipherSuite, ...] = DEFAULT_SUITES
    groups: tuple[NamedGroup, ...] = DEFAULT_GROUPS
    key_share_groups: tuple[NamedGroup, ...] | None = None
    """Groups to send key shares for in the first ClientHello; default: the first group."""
    signature_schemes: tuple[SignatureScheme, ...] = DEFAULT_SIGNATURE_SCHEMES
    alpn_protocols: tuple[bytes, ...] = ()
    provider: str = "cryptography"
    middlebox_compat: bool = True
    """Send a legacy_session_id and a dummy ChangeCipherSpec, as OpenSSL does (Appendix D.4)."""
    verify_time: datetime.datetime | None = None
    """Time for certificate validity; None lets the verifier use the current time."""
    versions: tuple[int, ...] = DEFAULT_VERSIONS
    """Versions to offer: TLS13 (0x0304) and/or TLS12 (0x0303); TLS 1.3 only by default."""
    extended_master_secret: bool = True
    """TLS 1.2: offer the RFC 7627 extended master secret."""
    max_handshake_message: int = 1 << 17
    """Longest handshake message accepted (128 KiB, room for a full chain); else decode_error."""
    max_certificate_chain: int = 1 << 16
    """Most certificate bytes (DER, summed) the server may send; else bad_certificate."""
    max_certificates: int = 10
    """Most certificates in the server's chain; else bad_certificate."""


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class ClientConnection(Connection):
    """Sans-I/O TLS 1.3 client; the first ClientHello is queued on construction."""

    is_client = True

    def __init__(self, config: ClientConfig) -> None:
        super().__init__(config.provider, config.middlebox_compat, config.max_handshake_message)
        if config.verify and (config.ca_file is None or config.server_name is None):
            raise ValueError("verification needs ca_file and server_name (or verify=False)")
        if not config.versions or not set(config.versions) <= {TLS12, TLS13}:
            raise ValueError("versions must be a non-empty choice of TLS12 and TLS13")
        self.suites = [s for s in config.cipher_suites if suite_version(s) in config.versions]
        """The suites offered: those of the versions offered."""
        if not self.suites or not config.groups:
            raise ValueError("at least one cipher suite (of a version offered) and one group")
        self.versions = tuple(v for v in config.versions if v in map(suite_version, self.suites))
        """The versions offered: those of the config that have a suite offered."""
        self.config = config
        self.offers_tls13 = TLS13 in self.versions
        self.random = os.urandom(32)
        # Appendix D.4's session id is a TLS 1.3 device; a TLS 1.2-only client resumes nothing.
        compat = config.middlebox_compat and self.offers_tls13
        self.session_id = os.urandom(32) if compat else b""
        share_groups = (config.key_share_groups or config.groups[:1]) if self.offers_tls13 else ()
        self.shares = {g: KeyShare(g) for g in share_groups}
        self.server_name = config.server_name
        self.ccs_sent = False
        self.certificate_request: CertificateRequest | None = None
        self.hello = self.make_client_hello()
        self.sent_extensions = frozenset(self.hello.extensions)
        self.records.legacy_version = 0x0301  # §5.1: allowed for an initial ClientHello
        self.send_handshake(self.hello.encode())
        self.records.legacy_version = 0x0303
        self.ccs_allowed = self.offers_tls13
        self._state = ExpectServerHello(self)

    def make_client_hello(self, cookie: bytes | None = None) -> ClientHello:
        """ClientHello (§4.1.2) with the current key shares (and a cookie after HRR)."""
        c = self.config
        exts: ext.Extensions = {}
        if c.server_name and not _is_ip(c.server_name):  # RFC 6066 §3: no IP literals
            exts[ExtensionType.SERVER_NAME] = ext.encode_server_name(c.server_name)
        exts[ExtensionType.SUPPORTED_GROUPS] = ext.encode_supported_groups(
            [int(g) for g in c.groups]
        )
        tls12 = TLS12 in self.versions
        if tls12:  # RFC 8422 §5.1.2: only uncompressed points
            exts[ExtensionType.EC_POINT_FORMATS] = ext.encode_ec_point_formats([0])
        exts[ExtensionType.SIGNATURE_ALGORITHMS] = ext.encode_signature_algorithms(
            [int(s) for s in c.signature_schemes]
        )
        if c.alpn_protocols:
            exts[ExtensionType.APPLICATION_LAYER_PROTOCOL_NEGOTIATION] = ext.encode_alpn(
                list(c.alpn_protocols)
            )
        if tls12:
            if c.extended_master_secret:  # RFC 7627 §5.1
                exts[ExtensionType.EXTENDED_MASTER_SECRET] = b""
            exts[ExtensionType.RENEGOTIATION_INFO] = ext.encode_renegotiation_info()  # RFC 5746
        if not self.offers_tls13:  # a TLS 1.2 ClientHello, as OpenSSL -tls1_2 sends it
            return ClientHello(self.random, self.session_id, [int(s) for s in self.suites], exts)
        offered = [v for v in (TLS13, TLS12) if v in self.versions]
        exts[ExtensionType.SUPPORTED_VERSIONS] = ext.encode_supported_versions_client(offered)
        # Offering psk_dhe_ke lets servers send tickets, which are accepted and ignored.
        exts[ExtensionType.PSK_KEY_EXCHANGE_MODES] = ext.encode_psk_key_exchange_modes(
            [PskKeyExchangeMode.PSK_DHE_KE]
        )
        if cookie is not None:
            exts[ExtensionType.COOKIE] = ext.encode_cookie(cookie)
        exts[ExtensionType.KEY_SHARE] = ext.encode_key_share_client(
            [ext.KeyShareEntry(g, s.public) for g, s in self.shares.items()]
        )
        return ClientHello(self.random, self.session_id, [int(s) for s in self.suites], exts)

    def finished_verify_data(self, finished_key: bytes) -> bytes:
        """verify_data of our Finished (§4.4.4); tests override it to inject faults."""
        return self.crypto.tls13_verify_data(self.hash_name, finished_key, self.transcript.digest())

    def finished_verify_data_tls12(self, master_secret: bytes) -> bytes:
        """verify_data of our TLS 1.2 Finished (RFC 5246 §7.4.9); tests override it."""
        return self.crypto.tls12_verify_data(
            self.hash_name, master_secret, b"client finished", self.transcript.digest()
        )

    def encrypt_pre_master_secret(
        self, public_key: rsa.RSAPublicKey, pre_master_secret: bytes
    ) -> bytes:
        """The RSA ClientKeyExchange's content (RFC 5246 §7.4.7.1); tests override it."""
        return rsa_encrypt_pre_master_secret(public_key, pre_master_secret)


def _check_server_extensions(
    conn: ClientConnection, exts: ext.Extensions, allowed: frozenset[int]
) -> None:
    """§4.2: unsolicited is unsupported_extension; solicited but misplaced is illegal_parameter."""
    for ext_type in exts:
        if ext_type not in conn.sent_extensions and ext_type != ExtensionType.COOKIE:
            raise ProtocolError(
                AlertDescription.UNSUPPORTED_EXTENSION, f"unsolicited extension {ext_type}"
            )
        if ext_type not in allowed:
            raise ProtocolError(
                AlertDescription.ILLEGAL_PARAMETER, f"extension {ext_type} not allowed here"
            )


class ExpectServerHello(State):
    """Waits for ServerHello or HelloRetryRequest (§4.1.3, §4.1.4)."""

    def __init__(self, conn: ClientConnection, retry_group: NamedGroup | None = None) -> None:
        self.conn = conn
        self.retry_group = retry_group

    def handle(self, message: Handshake) -> State:
        """Check the hello, derive handshake keys (or answer the retry request)."""
        if message.msg_type != HandshakeType.SERVER_HELLO:
            return super().handle(message)
        conn = self.conn
        hello = ServerHello.decode(message.body)
        if ExtensionType.SUPPORTED_VERSIONS not in hello.extensions or not conn.offers_tls13:
            if TLS12 in conn.versions and self.retry_group is None:
                return client12.server_hello(conn, hello, message)  # the TLS 1.2 ladder
            raise ProtocolError(AlertDescription.PROTOCOL_VERSION, "server does not speak TLS 1.3")
        version = ext.decode_supported_versions_server(
            hello.extensions[ExtensionType.SUPPORTED_VERSIONS]
        )
        if version != TLS13 or hello.legacy_version != 0x0303:  # §4.2.1
            raise ProtocolError(
                AlertDescription.ILLEGAL_PARAMETER, "server selected a version not offered"
            )
        conn.records.ignore_record_version = True  # §5.1, from here on
        if hello.legacy_session_id_echo != conn.session_id:
            raise ProtocolError(
                AlertDescription.ILLEGAL_PARAMETER, "legacy_session_id_echo differs"
            )
        if hello.cipher_suite not in conn.suites or suite_version(hello.cipher_suite) != TLS13:
            raise ProtocolError(AlertDescription.ILLEGAL_PARAMETER, "cipher suite not offered")
        if hello.legacy_compression_method != 0:
            raise ProtocolError(
                AlertDescription.ILLEGAL_PARAMETER, "compression method is not null"
            )
        if hello.is_hello_retry_request:
            return self._retry(hello, message)
        _check_server_extensions(
            conn,
            hello.extensions,
            frozenset({ExtensionType.SUPPORTED_VERSIONS, ExtensionType.KEY_SHARE}),
        )
        suite = CipherSuite(hello.cipher_suite)
        if self.retry_group is not None and suite != conn.suite:  # §4.1.4
            raise ProtocolError(
                AlertDescription.ILLEGAL_PARAMETER, "suite differs from the retry request"
            )
        if ExtensionType.KEY_SHARE not in hello.extensions:
            raise ProtocolError(AlertDescription.MISSING_EXTENSION, "ServerHello without key_share")
        share = ext.decode_key_share_server(hello.extensions[ExtensionType.KEY_SHARE])
        if share.group not in {int(g) for g in conn.shares}:
            raise ProtocolError(
                AlertDescription.ILLEGAL_PARAMETER, "key share for a group not offered"
            )
        group = NamedGroup(share.group)
        shared_secret = conn.shares[group].exchange(share.key_exchange)
        conn.version = TLS13
        conn.group = group
        conn.set_suite(suite)
        if not conn.hello_retry_request:
            conn.transcript.start(conn.hash_name)
        conn.transcript.add(message.raw)
        conn.key_schedule = conn.crypto.KeySchedule(int(suite))
        stage = conn.key_schedule.handshake_stage(shared_secret, conn.transcript.digest())
        conn.handshake_stage = stage
        conn.set_read_secret(stage.server_secret)
        conn.set_write_secret(stage.client_secret)
        # Appendix D.4: the dummy ChangeCipherSpec goes just before our first protected record.
        conn.records.ccs_pending = conn.middlebox_compat and not conn.ccs_sent
        conn.ccs_sent = True
        conn.shares = {}
        return ExpectEncryptedExtensions(conn)

    def _retry(self, hello: ServerHello, message: Handshake) -> State:
        conn = self.conn
        if conn.hello_retry_request:
            raise ProtocolError(AlertDescription.UNEXPECTED_MESSAGE, "second HelloRetryRequest")
        _check_server_extensions(
            conn,
            hello.extensions,
            frozenset(
                {ExtensionType.SUPPORTED_VERSIONS, ExtensionType.KEY_SHARE, ExtensionType.COOKIE}
            ),
        )
        cookie = None
        if ExtensionType.COOKIE in hello.extensions:
            cookie = ext.decode_cookie(hello.extensions[ExtensionType.COOKIE])
        group: NamedGroup | None = None
        if ExtensionType.KEY_SHARE in hello.extensions:
            selected = ext.decode_key_share_hrr(hello.extensions[ExtensionType.KEY_SHARE])
            # §4.2.8: a group we support and did not already send a share for.
            if selected not in {int(g) for g in conn.config.groups} or selected in {
                int(g) for g in conn.shares
            }:
                raise ProtocolError(
                    AlertDescription.ILLEGAL_PARAMETER, "retry request for a bad group"
                )
            group = NamedGroup(selected)
            conn.shares = {group: KeyShare(group)}
        elif cookie is None:
            raise ProtocolError(
                AlertDescription.ILLEGAL_PARAMETER, "retry request that changes nothing"
            )
        conn.hello_retry_request = True
        conn.set_suite(CipherSuite(hello.cipher_suite))
        conn.transcript.restart_for_retry(conn.hash_name)  # §4.4.1 message_hash
        conn.transcript.add(message.raw)
        if conn.middlebox_compat:
            conn.records.write_change_cipher_spec()  # before the second ClientHello, like OpenSSL
            conn.ccs_sent = True
        conn.hello = conn.make_client_hello(cookie)
        conn.send_handshake(conn.hello.encode())
        return ExpectServerHello(conn, group or next(iter(conn.shares)))


class ExpectEncryptedExtensions(State):
    """Waits for EncryptedExtensions (§4.3.1)."""

    def __init__(self, conn: ClientConnection) -> None:
        self.conn = conn

    def handle(self, message: Handshake) -> State:
        """Check each extension was asked for and may appear here; note ALPN."""
        if message.msg_type != HandshakeType.ENCRYPTED_EXTENSIONS:
            return super().handle(message)
        conn = self.conn
        exts = EncryptedExtensions.decode(message.body).extensions
        _check_server_extensions(conn, exts, _ENCRYPTED_EXTENSIONS_ALLOWED)
        if exts.get(ExtensionType.SERVER_NAME):  # RFC 6066 §3: the answer is empty
            raise ProtocolError(AlertDescription.DECODE_ERROR, "server_name answer is not empty")
        if ExtensionType.SUPPORTED_GROUPS in exts:
            ext.decode_supported_groups(exts[ExtensionType.SUPPORTED_GROUPS])  # checked, unused
        alpn = ExtensionType.APPLICATION_LAYER_PROTOCOL_NEGOTIATION
        if alpn in exts:
            names = ext.decode_alpn(exts[alpn])
            if len(names) != 1 or names[0] not in conn.config.alpn_protocols:  # RFC 7301 §3.1
                raise ProtocolError(AlertDescription.ILLEGAL_PARAMETER, "ALPN answer not offered")
            conn.alpn_protocol = names[0]
        conn.transcript.add(message.raw)
        return ExpectCertificate(conn)


class ExpectCertificate(State):
    """Waits for the server's Certificate (§4.4.2), or a CertificateRequest before it (§4.3.2)."""

    def __init__(self, conn: ClientConnection) -> None:
        self.conn = conn

    def handle(self, message: Handshake) -> State:
        """Verify the chain (unless switched off) and keep the leaf's key."""
        conn = self.conn
        if (
            message.msg_type == HandshakeType.CERTIFICATE_REQUEST
            and conn.certificate_request is None
        ):
            request = CertificateRequest.decode(message.body)
            if request.context:  # §4.3.2: empty during the handshake
                raise ProtocolError(
                    AlertDescription.ILLEGAL_PARAMETER, "certificate_request_context set"
                )
            if ExtensionType.SIGNATURE_ALGORITHMS not in request.extensions:
                raise ProtocolError(
                    AlertDescription.MISSING_EXTENSION,
                    "CertificateRequest without signature_algorithms",
                )
            conn.certificate_request = request
            conn.transcript.add(message.raw)
            return self
        if message.msg_type != HandshakeType.CERTIFICATE:
            return super().handle(message)
        certificate = Certificate.decode(message.body)
        if certificate.context:
            raise ProtocolError(
                AlertDescription.ILLEGAL_PARAMETER, "certificate_request_context set"
            )
        if not certificate.entries:  # §4.4.2.4
            raise ProtocolError(AlertDescription.DECODE_ERROR, "empty server Certificate")
        for entry in certificate.entries:
            if entry.extensions:  # we asked for no status_request or SCT
                raise ProtocolError(
                    AlertDescription.UNSUPPORTED_EXTENSION, "certificate entry extension"
                )
        chain = [entry.cert_data for entry in certificate.entries]
        public_key = server_public_key(chain, conn.config)
        conn.peer_certificates = tuple(chain)
        conn.transcript.add(message.raw)
        return ExpectCertificateVerify(conn, public_key)


class ExpectCertificateVerify(State):
    """Waits for the server's CertificateVerify (§4.4.3)."""

    def __init__(self, conn: ClientConnection, public_key: CertificatePublicKeyTypes) -> None:
        self.conn = conn
        self.public_key = public_key

    def handle(self, message: Handshake) -> State:
        """Check the scheme was offered and the signature over the transcript."""
        if message.msg_type != HandshakeType.CERTIFICATE_VERIFY:
            return super().handle(message)
        conn = self.conn
        cv = CertificateVerify.decode(message.body)
        if (
            cv.algorithm not in conn.config.signature_schemes
            or cv.algorithm not in CERTIFICATE_VERIFY_SCHEMES
        ):
            raise ProtocolError(AlertDescription.ILLEGAL_PARAMETER, "signature scheme not offered")
        verify(self.public_key, cv.algorithm, cv.signature, conn.transcript.digest(), server=True)
        conn.signature_scheme = SignatureScheme(cv.algorithm)
        conn.transcript.add(message.raw)
        return ExpectFinished(conn)


class ExpectFinished(State):
    """Waits for the server's Finished (§4.4.4), then sends ours."""

    def __init__(self, conn: ClientConnection) -> None:
        self.conn = conn

    def handle(self, message: Handshake) -> State:
        """Verify the server's Finished, switch to application keys, send our flight."""
        if message.msg_type != HandshakeType.FINISHED:
            return super().handle(message)
        conn = self.conn
        finished = Finished.decode(message.body, conn.hash_length)
        stage = conn.handshake_stage
        expected = conn.crypto.tls13_verify_data(
            conn.hash_name, stage.server_finished_key, conn.transcript.digest()
        )
        if not hmac.compare_digest(expected, finished.verify_data):
            raise ProtocolError(AlertDescription.DECRYPT_ERROR, "server Finished is wrong")
        conn.transcript.add(message.raw)
        application = conn.key_schedule.application_stage(conn.transcript.digest())
        conn.set_read_secret(application.server_secret, application=True)
        if conn.certificate_request is not None:  # §4.4.2: we have none, so an empty list
            conn.send_handshake(Certificate(conn.certificate_request.context, []).encode())
        conn.send_handshake(Finished(conn.finished_verify_data(stage.client_finished_key)).encode())
        conn.set_write_secret(application.client_secret)
        conn.complete_handshake()
        return ExpectTraffic(conn)
