"""The TLS 1.2 server (RFC 5246 §7.3): the walkthrough's ladder, one state per message.

ClientHello (answered by :func:`client_hello` with ServerHello, Certificate,
ServerKeyExchange for ECDHE suites, [CertificateRequest], ServerHelloDone) ->
[ExpectClientCertificate] -> ExpectClientKeyExchange -> [ExpectCertificateVerify] ->
ExpectChangeCipherSpec -> ExpectFinished, which sends [NewSessionTicket],
ChangeCipherSpec and Finished -> ExpectTraffic.

A ClientHello offering a session we can resume (``resume12``) is answered with
ServerHello, ChangeCipherSpec and Finished at once -> ExpectChangeCipherSpec ->
ExpectFinished -> ExpectTraffic.
"""

from __future__ import annotations

import functools
import hmac
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes

from .. import extensions as ext
from .. import messages12 as m12
from ..alerts import ProtocolError
from ..certs import client_public_key
from ..connection import ExpectTraffic, State
from ..constants import (
    DOWNGRADE_TLS12,
    TLS12,
    TLS13,
    TLS_EMPTY_RENEGOTIATION_INFO_SCSV,
    AlertDescription,
    CipherSuite,
    ExtensionType,
    HandshakeType,
    KeyExchange,
    NamedGroup,
    SignatureScheme,
    key_exchange,
    suite_of,
    suite_version,
)
from ..keyexchange import KeyShare, rsa_decrypt_pre_master_secret
from ..messages import CertificateVerify, ClientHello, Finished, Handshake, ServerHello
from ..sessions import ServerSession
from ..signatures import verify_tls12
from ..tls12 import Tls12Secrets
from . import resume12
from .base import ServerBase
from .config import ServerCertificate, ServerConfig

# §7.4.4: rsa_sign and ecdsa_sign (RFC 8422 §5.5) client certificates.
CLIENT_CERTIFICATE_TYPES = bytes([1, 64])
# What a client may sign its CertificateVerify with: the hash of the suite first.
CLIENT_SCHEMES = (
    SignatureScheme.ECDSA_SECP256R1_SHA256,
    SignatureScheme.RSA_PSS_RSAE_SHA256,
    SignatureScheme.RSA_PKCS1_SHA256,
    SignatureScheme.ECDSA_SECP384R1_SHA384,
    SignatureScheme.RSA_PSS_RSAE_SHA384,
    SignatureScheme.RSA_PKCS1_SHA384,
    SignatureScheme.RSA_PSS_RSAE_SHA512,
    SignatureScheme.RSA_PKCS1_SHA512,
)


def _fail(alert: AlertDescription, message: str) -> ProtocolError:
    return ProtocolError(alert, message)


@dataclass(frozen=True)
class _Offer:
    """The parts of a TLS 1.2 ClientHello the server negotiates from, checked."""

    groups: list[int] | None
    schemes: list[int] | None
    point_formats: bool
    extended_master_secret: bool
    secure_renegotiation: bool
    server_name: str | None
    alpn: list[bytes] | None
    ticket: bytes | None
    """RFC 5077: the ticket offered; empty asks for one; None: the extension is absent."""


def _read_offer(hello: ClientHello) -> _Offer:
    """Check compression and decode the extensions TLS 1.2 uses (§7.4.1.2, §7.4.1.4)."""
    if 0 not in hello.legacy_compression_methods:
        raise _fail(AlertDescription.ILLEGAL_PARAMETER, "null compression not offered")
    exts = hello.extensions
    groups = schemes = None
    if ExtensionType.SUPPORTED_GROUPS in exts:
        groups = ext.decode_supported_groups(exts[ExtensionType.SUPPORTED_GROUPS])
    if ExtensionType.SIGNATURE_ALGORITHMS in exts:
        schemes = ext.decode_signature_algorithms(exts[ExtensionType.SIGNATURE_ALGORITHMS])
    point_formats = ExtensionType.EC_POINT_FORMATS in exts
    if point_formats:  # RFC 8422 §5.1.2: uncompressed must be there
        if 0 not in ext.decode_ec_point_formats(exts[ExtensionType.EC_POINT_FORMATS]):
            raise _fail(AlertDescription.ILLEGAL_PARAMETER, "no uncompressed point format")
    ems = ExtensionType.EXTENDED_MASTER_SECRET in exts
    if ems:
        ext.decode_empty(exts[ExtensionType.EXTENDED_MASTER_SECRET], "extended_master_secret")
    secure = TLS_EMPTY_RENEGOTIATION_INFO_SCSV in hello.cipher_suites
    if ExtensionType.RENEGOTIATION_INFO in exts:
        # RFC 5746 §3.6: on an initial handshake renegotiated_connection is empty.
        if ext.decode_renegotiation_info(exts[ExtensionType.RENEGOTIATION_INFO]):
            raise _fail(AlertDescription.HANDSHAKE_FAILURE, "renegotiation_info not empty")
        secure = True
    server_name = None
    if ExtensionType.SERVER_NAME in exts:
        server_name = ext.decode_server_name(exts[ExtensionType.SERVER_NAME])
    alpn = None
    if ExtensionType.APPLICATION_LAYER_PROTOCOL_NEGOTIATION in exts:
        alpn = ext.decode_alpn(exts[ExtensionType.APPLICATION_LAYER_PROTOCOL_NEGOTIATION])
    ticket = None
    if ExtensionType.SESSION_TICKET in exts:
        ticket = ext.decode_session_ticket(exts[ExtensionType.SESSION_TICKET])
    return _Offer(groups, schemes, point_formats, ems, secure, server_name, alpn, ticket)


@dataclass(frozen=True)
class _Choice:
    suite: CipherSuite
    certificate: ServerCertificate
    group: NamedGroup | None
    scheme: SignatureScheme | None


def _choose(conn: ServerBase, hello: ClientHello, offer: _Offer) -> _Choice:
    """Our most preferred suite the client offers that one of our keys, its groups and its
    schemes allow, with the first such certificate."""
    config = conn.config
    client_groups = offer.groups if offer.groups is not None else [int(g) for g in config.groups]
    group = next((g for g in config.groups if g in client_groups), None)
    for suite in config.cipher_suites:
        if suite not in hello.cipher_suites or suite_version(suite) != TLS12:
            continue
        for certificate in config.certificates:
            choice = _fits(config, suite, certificate, offer, client_groups, group)
            if choice is not None:
                return choice
    raise _fail(AlertDescription.HANDSHAKE_FAILURE, "no TLS 1.2 suite in common")


def _fits(
    config: ServerConfig,
    suite: CipherSuite,
    certificate: ServerCertificate,
    offer: _Offer,
    client_groups: list[int],
    group: NamedGroup | None,
) -> _Choice | None:
    """The choice of ``suite`` with ``certificate``, or None when they cannot go together."""
    kx = key_exchange(suite)
    if kx == KeyExchange.RSA:
        return _Choice(suite, certificate, None, None) if certificate.is_rsa else None
    # RFC 5246 §7.4.1.4.1: without signature_algorithms the client means SHA-1, which we
    # do not sign with; only RSA key transport (no signature) is left.
    offered = offer.schemes or ()
    ours = config.signature_schemes
    scheme = next(
        (s for s in certificate.schemes_tls12 if s in offered and (not ours or s in ours)), None
    )
    if scheme is None or group is None:
        return None
    if kx == KeyExchange.ECDHE_RSA and certificate.is_rsa:
        return _Choice(suite, certificate, group, scheme)
    # RFC 8422 §5.1: the certificate's curve must be one the client supports.
    if kx == KeyExchange.ECDHE_ECDSA:
        curve = certificate.curve_group
        if curve is not None and curve in client_groups:
            return _Choice(suite, certificate, group, scheme)
    return None


def _hello_extensions(conn: ServerBase, offer: _Offer, ecc: bool, ticket: bool) -> ext.Extensions:
    """The ServerHello's extensions: answers to what the client offered (§7.4.1.4)."""
    exts: ext.Extensions = {}
    if offer.secure_renegotiation:  # RFC 5746 §3.6
        exts[ExtensionType.RENEGOTIATION_INFO] = ext.encode_renegotiation_info()
    if conn.extended_master_secret:  # RFC 7627 §5.2
        exts[ExtensionType.EXTENDED_MASTER_SECRET] = b""
    if ecc and offer.point_formats:  # RFC 8422 §5.2
        exts[ExtensionType.EC_POINT_FORMATS] = ext.encode_ec_point_formats([0])
    if conn.server_name is not None:
        exts[ExtensionType.SERVER_NAME] = b""  # RFC 6066 §3: empty answer
    if conn.alpn_protocol is not None:
        exts[ExtensionType.APPLICATION_LAYER_PROTOCOL_NEGOTIATION] = ext.encode_alpn(
            [conn.alpn_protocol]
        )
    if ticket:  # RFC 5077 §3.2: an empty answer promises a NewSessionTicket
        exts[ExtensionType.SESSION_TICKET] = ext.encode_session_ticket()
    return exts


@dataclass
class _Plan:
    """What the states of one handshake carry: the secrets and what was decided."""

    secrets: Tls12Secrets
    share: KeyShare | None = None
    client_version: int = TLS12
    session_id: bytes = b""
    """The new session's ID (empty: not cached)."""
    ticket: bool = False
    """A NewSessionTicket is promised (RFC 5077 §3.3)."""
    client_key: CertificatePublicKeyTypes | None = None
    """The client certificate's key, when one was sent; CertificateVerify must follow."""
    abbreviated: bool = False


def client_hello(conn: ServerBase, hello: ClientHello, message: Handshake) -> State:
    """Negotiate TLS 1.2: resume the offered session (ServerHello, ChangeCipherSpec,
    Finished), or send ServerHello through ServerHelloDone (§7.3)."""
    config = conn.config
    offer = _read_offer(hello)
    alpn = None
    if offer.alpn is not None and config.alpn_protocols:
        alpn = next((p for p in config.alpn_protocols if p in offer.alpn), None)
        if alpn is None:  # RFC 7301 §3.2
            raise _fail(AlertDescription.NO_APPLICATION_PROTOCOL, "no common ALPN protocol")
    conn.version = TLS12
    conn.ccs_allowed = False
    conn.server_name = offer.server_name
    conn.alpn_protocol = alpn
    conn.extended_master_secret = offer.extended_master_secret and config.extended_master_secret
    # RFC 8446 §4.1.3: a server that speaks TLS 1.3 marks a TLS 1.2 answer.
    speaks_tls13 = TLS13 in conn.spoken_versions
    random = os.urandom(24) + DOWNGRADE_TLS12 if speaks_tls13 else os.urandom(32)
    secrets = Tls12Secrets(hello.random, random)
    session = resume12.find_session(
        conn, hello, offer.ticket, offer.extended_master_secret, offer.server_name
    )
    if session is not None:
        return _resume(conn, hello, message, offer, secrets, session)

    choice = _choose(conn, hello, offer)
    conn.set_suite(choice.suite)
    conn.certificate = choice.certificate
    conn.group = choice.group
    conn.signature_scheme = choice.scheme
    conn.transcript.start(conn.hash_name)
    secrets.add(conn, message.raw)
    plan = _Plan(secrets, client_version=hello.legacy_version)
    plan.session_id = os.urandom(32) if config.session_ids else b""  # §7.4.1.3
    plan.ticket = offer.ticket is not None and config.tickets > 0
    exts = _hello_extensions(conn, offer, choice.group is not None, plan.ticket)
    secrets.send(conn, ServerHello(random, plan.session_id, int(choice.suite), exts).encode())
    secrets.send(conn, _certificate_message(choice.certificate.chain))
    if choice.group is not None:
        assert choice.scheme is not None
        plan.share = KeyShare(choice.group, conn.crypto)
        params = m12.ServerECDHParams(int(choice.group), plan.share.public)
        content = m12.signed_params(secrets.client_random, secrets.server_random, params)
        signature = conn.server_key_exchange_signature(choice.scheme, content)
        ske = m12.ServerKeyExchange(params, int(choice.scheme), signature)
        secrets.send(conn, ske.encode())
    if config.client_auth != "none":  # §7.4.4; no CA names: any of ours will do
        request = m12.CertificateRequest(CLIENT_CERTIFICATE_TYPES, CLIENT_SCHEMES, b"")
        secrets.send(conn, request.encode())
    secrets.send(conn, m12.ServerHelloDone().encode())
    if config.client_auth != "none":
        return ExpectClientCertificate(conn, plan)
    return ExpectClientKeyExchange(conn, plan)


@functools.lru_cache(maxsize=64)
def _certificate_message(chain: tuple[bytes, ...]) -> bytes:
    """RFC 5246 §7.4.2's Certificate of a chain: constant for a server, encoded once."""
    return m12.Certificate(chain).encode()


def _resume(
    conn: ServerBase,
    hello: ClientHello,
    message: Handshake,
    offer: _Offer,
    secrets: Tls12Secrets,
    session: ServerSession,
) -> State:
    """§7.3 abbreviated handshake: ServerHello (the client's session ID echoed, RFC 5077
    §3.4 for a ticket), ChangeCipherSpec and Finished; the client's come next."""
    suite = suite_of(session.cipher_suite)
    conn.resumed = True
    conn.set_suite(suite)
    conn.transcript.start(conn.hash_name)
    secrets.add(conn, message.raw)
    exts = _hello_extensions(conn, offer, key_exchange(suite) != KeyExchange.RSA, False)
    conn.send_handshake(
        ServerHello(secrets.server_random, hello.legacy_session_id, suite, exts).encode()
    )
    secrets.resume(conn, session.secret)
    conn.records.write_change_cipher_spec()
    conn.set_tls12_keys(write=secrets.server_write, read=None)
    verify_data = conn.finished_verify_data_tls12(secrets.master_secret)
    conn.send_handshake(Finished(verify_data).encode())
    return ExpectChangeCipherSpec(conn, _Plan(secrets, abbreviated=True))


class ExpectClientCertificate(State):
    """Waits for the client's Certificate (§7.4.6), which we asked for."""

    def __init__(self, conn: ServerBase, plan: _Plan) -> None:
        self.conn = conn
        self.plan = plan

    def handle(self, message: Handshake) -> State:
        """An empty list is refused under ``require``; a chain must lead to our client CA."""
        if message.msg_type != HandshakeType.CERTIFICATE:
            return super().handle(message)
        conn = self.conn
        config = conn.config
        chain = m12.Certificate.decode(message.body).certificate_list
        if chain:
            if config.client_ca_file is None:
                raise _fail(AlertDescription.INTERNAL_ERROR, "client_auth without client_ca_file")
            key = client_public_key(chain, config.client_ca_file)
            if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
                raise _fail(AlertDescription.UNSUPPORTED_CERTIFICATE, "client key cannot sign")
            self.plan.client_key = key
            conn.peer_certificates = tuple(chain)
        elif config.client_auth == "require":  # RFC 5246 §7.4.6
            raise _fail(AlertDescription.HANDSHAKE_FAILURE, "no client certificate")
        self.plan.secrets.add(conn, message.raw)
        return ExpectClientKeyExchange(conn, self.plan)


class ExpectClientKeyExchange(State):
    """Waits for the client's pre-master secret (§7.4.7) or ECDH point (RFC 8422 §5.7)."""

    def __init__(self, conn: ServerBase, plan: _Plan) -> None:
        self.conn = conn
        self.plan = plan

    def handle(self, message: Handshake) -> State:
        """Recover the pre-master secret and derive the master secret and keys."""
        if message.msg_type != HandshakeType.CLIENT_KEY_EXCHANGE:
            return super().handle(message)
        conn = self.conn
        plan = self.plan
        cke = m12.ClientKeyExchange.decode(message.body, ecdhe=plan.share is not None)
        if plan.share is not None:
            pre_master_secret = plan.share.exchange(cke.exchange_keys)
        else:
            key = conn.certificate.key
            assert isinstance(key, rsa.RSAPrivateKey)
            # §7.4.7.1: a bad secret is replaced, never reported; Finished fails instead.
            pre_master_secret = rsa_decrypt_pre_master_secret(
                key, cke.exchange_keys, plan.client_version
            )
        plan.secrets.add(conn, message.raw)
        plan.secrets.derive(conn, pre_master_secret)
        if plan.client_key is not None:
            return ExpectCertificateVerify(conn, plan)
        return ExpectChangeCipherSpec(conn, plan)


class ExpectCertificateVerify(State):
    """Waits for the client's CertificateVerify (§7.4.8): its key signs every message so far."""

    def __init__(self, conn: ServerBase, plan: _Plan) -> None:
        self.conn = conn
        self.plan = plan

    def handle(self, message: Handshake) -> State:
        """A scheme we asked for, and a signature that checks (else decrypt_error)."""
        if message.msg_type != HandshakeType.CERTIFICATE_VERIFY:
            return super().handle(message)
        plan = self.plan
        verify = CertificateVerify.decode(message.body)
        if verify.algorithm not in CLIENT_SCHEMES:
            raise _fail(AlertDescription.ILLEGAL_PARAMETER, "CertificateVerify scheme not offered")
        assert plan.client_key is not None
        content = b"".join(plan.secrets.messages)
        try:
            verify_tls12(plan.client_key, verify.algorithm, verify.signature, content)
        except ProtocolError as exc:
            if exc.alert != AlertDescription.DECRYPT_ERROR:
                raise
            raise _fail(
                AlertDescription.DECRYPT_ERROR, "client CertificateVerify is wrong"
            ) from None
        plan.secrets.add(self.conn, message.raw)
        return ExpectChangeCipherSpec(self.conn, plan)


class ExpectChangeCipherSpec(State):
    """Waits for the client's ChangeCipherSpec (§7.1): its records are protected after it."""

    def __init__(self, conn: ServerBase, plan: _Plan) -> None:
        self.conn = conn
        self.plan = plan

    def change_cipher_spec(self) -> State:
        """Read with the client's keys from the next record on."""
        self.conn.set_tls12_keys(write=None, read=self.plan.secrets.client_write)
        return ExpectFinished(self.conn, self.plan)


class ExpectFinished(State):
    """Waits for the client's Finished (§7.4.9); after a full handshake, answers with
    [NewSessionTicket], ChangeCipherSpec and ours."""

    def __init__(self, conn: ServerBase, plan: _Plan) -> None:
        self.conn = conn
        self.plan = plan

    def handle(self, message: Handshake) -> State:
        """Verify it; the handshake is complete once ours is sent (or was, when resumed)."""
        if message.msg_type != HandshakeType.FINISHED:
            return super().handle(message)
        conn = self.conn
        secrets = self.plan.secrets
        finished = Finished.decode(message.body, m12.VERIFY_DATA_LENGTH)
        expected = secrets.expected_verify_data(conn, b"client finished")
        if not hmac.compare_digest(expected, finished.verify_data):
            raise _fail(AlertDescription.DECRYPT_ERROR, "client Finished is wrong")
        conn.transcript.add(message.raw)
        if not self.plan.abbreviated:
            session = resume12.new_session(conn, secrets.master_secret)
            resume12.remember(conn, session, self.plan.session_id, self.plan.ticket)
            conn.records.write_change_cipher_spec()
            conn.set_tls12_keys(write=secrets.server_write, read=None)
            verify_data = conn.finished_verify_data_tls12(secrets.master_secret)
            conn.send_handshake(Finished(verify_data).encode())
        conn.complete_handshake()
        return ExpectTraffic(conn)
