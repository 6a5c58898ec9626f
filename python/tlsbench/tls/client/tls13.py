"""The TLS 1.3 client's states after the ServerHello (RFC 8446 §2, §4).

:func:`check_server_hello` and :func:`server_hello` take a TLS 1.3 ServerHello
(``connection.ExpectServerHello`` picks the version; :func:`retry` answers a
HelloRetryRequest) -> ExpectEncryptedExtensions -> ExpectCertificate ->
ExpectCertificateVerify -> ExpectFinished -> ExpectTraffic.
"""

from __future__ import annotations

import hmac

from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes

from .. import extensions as ext
from ..alerts import ProtocolError
from ..certs import server_public_key
from ..connection import ExpectTraffic, State
from ..constants import (
    SUITE_HASH,
    TLS13,
    AlertDescription,
    CipherSuite,
    ExtensionType,
    HandshakeType,
    NamedGroup,
    PskKeyExchangeMode,
    group_of,
    scheme_of,
    suite_of,
    suite_version,
)
from ..keyexchange import KeyShare
from ..messages import (
    Certificate,
    CertificateEntry,
    CertificateRequest,
    CertificateVerify,
    EncryptedExtensions,
    Finished,
    Handshake,
    ServerHello,
)
from ..signatures import CERTIFICATE_VERIFY_SCHEMES, schemes_for_key, sign, verify
from .base import ClientBase, check_server_extensions

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


def check_server_hello(conn: ClientBase, hello: ServerHello) -> None:
    """The checks a TLS 1.3 ServerHello and a HelloRetryRequest share (§4.1.3, §4.2.1)."""
    version = ext.decode_supported_versions_server(
        hello.extensions[ExtensionType.SUPPORTED_VERSIONS]
    )
    if version != TLS13 or hello.legacy_version != 0x0303:  # §4.2.1
        raise ProtocolError(
            AlertDescription.ILLEGAL_PARAMETER, "server selected a version not offered"
        )
    conn.records.ignore_record_version = True  # §5.1, from here on
    if hello.legacy_session_id_echo != conn.session_id:
        raise ProtocolError(AlertDescription.ILLEGAL_PARAMETER, "legacy_session_id_echo differs")
    if hello.cipher_suite not in conn.suites or suite_version(hello.cipher_suite) != TLS13:
        raise ProtocolError(AlertDescription.ILLEGAL_PARAMETER, "cipher suite not offered")
    if hello.legacy_compression_method != 0:
        raise ProtocolError(AlertDescription.ILLEGAL_PARAMETER, "compression method is not null")


def server_hello(
    conn: ClientBase, hello: ServerHello, message: Handshake, retry_group: NamedGroup | None
) -> State:
    """Take a (checked) ServerHello: derive handshake keys (§4.1.3, §7.1).

    A pre_shared_key answer resumes the ticket offered (§4.2.11); without one the
    ticket was refused and the handshake is a full one.
    """
    exts = hello.extensions
    check_server_extensions(
        conn,
        exts,
        frozenset(
            {
                ExtensionType.SUPPORTED_VERSIONS,
                ExtensionType.KEY_SHARE,
                ExtensionType.PRE_SHARED_KEY,
            }
        ),
    )
    suite = suite_of(hello.cipher_suite)
    if retry_group is not None and suite != conn.suite:  # §4.1.4
        raise ProtocolError(
            AlertDescription.ILLEGAL_PARAMETER, "suite differs from the retry request"
        )
    psk = _accepted_psk(conn, suite, exts)
    if ExtensionType.KEY_SHARE in exts:
        if psk is not None and PskKeyExchangeMode.PSK_DHE_KE not in conn.config.psk_modes:
            raise ProtocolError(AlertDescription.ILLEGAL_PARAMETER, "key share under psk_ke")
        share = ext.decode_key_share_server(exts[ExtensionType.KEY_SHARE])
        if share.group not in {int(g) for g in conn.shares}:
            raise ProtocolError(
                AlertDescription.ILLEGAL_PARAMETER, "key share for a group not offered"
            )
        group: NamedGroup | None = group_of(share.group)
        assert group is not None
        shared_secret = conn.shares[group].exchange(share.key_exchange)
    elif psk is not None and PskKeyExchangeMode.PSK_KE in conn.config.psk_modes:
        group, shared_secret = None, bytes(len(psk))  # §7.1: no (EC)DHE, a zero input
    else:
        raise ProtocolError(AlertDescription.MISSING_EXTENSION, "ServerHello without key_share")
    conn.version = TLS13
    conn.group = group
    conn.set_suite(suite)
    if not conn.hello_retry_request:
        conn.transcript.start(conn.hash_name)
    conn.transcript.add(message.raw)
    conn.key_schedule = conn.crypto.KeySchedule(int(suite), psk=psk)
    conn.resumed = psk is not None
    stage = conn.key_schedule.handshake_stage(shared_secret, conn.transcript.digest())
    conn.handshake_stage = stage
    conn.set_read_secret(stage.server_secret, keys=(stage.server_key, stage.server_iv))
    conn.set_write_secret(stage.client_secret, (stage.client_key, stage.client_iv))
    # Appendix D.4: the dummy ChangeCipherSpec goes just before our first protected record.
    conn.records.ccs_pending = conn.middlebox_compat and not conn.ccs_sent
    conn.ccs_sent = True
    conn.shares = {}
    return ExpectEncryptedExtensions(conn)


def _accepted_psk(conn: ClientBase, suite: CipherSuite, exts: ext.Extensions) -> bytes | None:
    """The PSK the ServerHello selects, or None: §4.2.11, only our one identity, same hash."""
    if ExtensionType.PRE_SHARED_KEY not in exts:
        return None
    selected = ext.decode_pre_shared_key_server(exts[ExtensionType.PRE_SHARED_KEY])
    session = conn.session13
    if session is None or selected != 0:
        raise ProtocolError(AlertDescription.ILLEGAL_PARAMETER, "PSK identity not offered")
    if SUITE_HASH[suite] != SUITE_HASH[session.cipher_suite]:
        raise ProtocolError(AlertDescription.ILLEGAL_PARAMETER, "suite hash differs from the PSK")
    return session.secret


def retry(conn: ClientBase, hello: ServerHello, message: Handshake) -> NamedGroup:
    """Answer a (checked) HelloRetryRequest with a second ClientHello (§4.1.4).

    Returns the group whose share the second ClientHello carries.
    """
    if conn.hello_retry_request:
        raise ProtocolError(AlertDescription.UNEXPECTED_MESSAGE, "second HelloRetryRequest")
    check_server_extensions(
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
            raise ProtocolError(AlertDescription.ILLEGAL_PARAMETER, "retry request for a bad group")
        group = group_of(selected)
        conn.shares = {group: KeyShare(group, conn.crypto)}
    elif cookie is None:
        raise ProtocolError(
            AlertDescription.ILLEGAL_PARAMETER, "retry request that changes nothing"
        )
    conn.hello_retry_request = True
    conn.set_suite(suite_of(hello.cipher_suite))
    session = conn.session13
    if session is not None and not conn.psk_suite_fits(session.cipher_suite, [conn.suite]):
        conn.session13 = None  # §4.1.4: a PSK of another hash is dropped from ClientHello2
    conn.transcript.restart_for_retry(conn.hash_name)  # §4.4.1 message_hash
    conn.transcript.add(message.raw)
    if conn.middlebox_compat:
        conn.records.write_change_cipher_spec()  # before the second ClientHello, like OpenSSL
        conn.ccs_sent = True
    conn.hello = conn.make_client_hello(cookie)
    conn.send_handshake(conn.hello.encode())
    return group or next(iter(conn.shares))


class ExpectEncryptedExtensions(State):
    """Waits for EncryptedExtensions (§4.3.1)."""

    def __init__(self, conn: ClientBase) -> None:
        self.conn = conn

    def handle(self, message: Handshake) -> State:
        """Check each extension was asked for and may appear here; note ALPN."""
        if message.msg_type != HandshakeType.ENCRYPTED_EXTENSIONS:
            return super().handle(message)
        conn = self.conn
        exts = EncryptedExtensions.decode(message.body).extensions
        check_server_extensions(conn, exts, _ENCRYPTED_EXTENSIONS_ALLOWED)
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
        if conn.resumed:  # §2.2: no Certificate, CertificateVerify or CertificateRequest
            return ExpectFinished(conn)
        return ExpectCertificate(conn)


class ExpectCertificate(State):
    """Waits for the server's Certificate (§4.4.2), or a CertificateRequest before it (§4.3.2)."""

    def __init__(self, conn: ClientBase) -> None:
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

    def __init__(self, conn: ClientBase, public_key: CertificatePublicKeyTypes) -> None:
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
        conn.signature_scheme = scheme_of(cv.algorithm)
        conn.transcript.add(message.raw)
        return ExpectFinished(conn)


class ExpectFinished(State):
    """Waits for the server's Finished (§4.4.4), then sends ours."""

    def __init__(self, conn: ClientBase) -> None:
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
        server_keys = (application.server_key, application.server_iv)
        conn.set_read_secret(application.server_secret, application=True, keys=server_keys)
        if conn.certificate_request is not None:
            _send_client_certificate(conn, conn.certificate_request)
        conn.send_handshake(Finished(conn.finished_verify_data(stage.client_finished_key)).encode())
        conn.set_write_secret(
            application.client_secret, (application.client_key, application.client_iv)
        )
        conn.resumption_master_secret = conn.key_schedule.resumption_master_secret(
            conn.transcript.digest()
        )
        conn.complete_handshake()
        return ExpectTraffic(conn)


def _send_client_certificate(conn: ClientBase, request: CertificateRequest) -> None:
    """Our Certificate and CertificateVerify (§4.4.2, §4.4.3), or an empty Certificate
    when we have no chain or no scheme the server listed fits our key."""
    config = conn.config
    listed = request.extensions[ExtensionType.SIGNATURE_ALGORITHMS]
    offered = ext.decode_signature_algorithms(listed)
    key = config.private_key
    scheme = None
    if config.certificate_chain and key is not None:
        scheme = next((s for s in schemes_for_key(key) if s in offered), None)
    if scheme is None or key is None:
        conn.send_handshake(Certificate(request.context, []).encode())
        return
    entries = [CertificateEntry(der) for der in config.certificate_chain]
    conn.send_handshake(Certificate(request.context, entries).encode())
    signature = sign(key, scheme, conn.transcript.digest(), server=False)
    conn.send_handshake(CertificateVerify(int(scheme), signature).encode())
