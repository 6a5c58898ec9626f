"""The TLS 1.2 server (RFC 5246 §7.3): the walkthrough's ladder, one state per message.

ClientHello (answered by :func:`client_hello` with ServerHello, Certificate,
ServerKeyExchange for ECDHE suites, ServerHelloDone) -> ExpectClientKeyExchange ->
ExpectChangeCipherSpec -> ExpectFinished, which sends ChangeCipherSpec and
Finished -> ExpectTraffic.
"""

from __future__ import annotations

import hmac
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from .. import extensions as ext
from .. import messages12 as m12
from ..alerts import ProtocolError
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
    suite_version,
)
from ..keyexchange import KeyShare, rsa_decrypt_pre_master_secret
from ..messages import ClientHello, Finished, Handshake, ServerHello
from ..signatures import schemes_for_key_tls12
from ..tls12 import Tls12Secrets
from .base import ServerBase
from .config import ServerCertificate, ServerConfig

_CERT_CURVE = {"secp256r1": NamedGroup.SECP256R1, "secp384r1": NamedGroup.SECP384R1}


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
    return _Offer(groups, schemes, point_formats, ems, secure, server_name, alpn)


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
    key = certificate.key
    kx = key_exchange(suite)
    if kx == KeyExchange.RSA:
        return (
            _Choice(suite, certificate, None, None) if isinstance(key, rsa.RSAPrivateKey) else None
        )
    # RFC 5246 §7.4.1.4.1: without signature_algorithms the client means SHA-1, which we
    # do not sign with; only RSA key transport (no signature) is left.
    usable = [
        s
        for s in schemes_for_key_tls12(key)
        if not config.signature_schemes or s in config.signature_schemes
    ]
    scheme = next((s for s in usable if s in (offer.schemes or ())), None)
    if scheme is None or group is None:
        return None
    if kx == KeyExchange.ECDHE_RSA and isinstance(key, rsa.RSAPrivateKey):
        return _Choice(suite, certificate, group, scheme)
    # RFC 8422 §5.1: the certificate's curve must be one the client supports.
    if isinstance(key, ec.EllipticCurvePrivateKey) and kx == KeyExchange.ECDHE_ECDSA:
        curve = _CERT_CURVE.get(key.curve.name)
        if curve is not None and curve in client_groups:
            return _Choice(suite, certificate, group, scheme)
    return None


def client_hello(conn: ServerBase, hello: ClientHello, message: Handshake) -> State:
    """Negotiate TLS 1.2 and send ServerHello through ServerHelloDone (§7.3)."""
    config = conn.config
    offer = _read_offer(hello)
    choice = _choose(conn, hello, offer)
    alpn = None
    if offer.alpn is not None and config.alpn_protocols:
        alpn = next((p for p in config.alpn_protocols if p in offer.alpn), None)
        if alpn is None:  # RFC 7301 §3.2
            raise _fail(AlertDescription.NO_APPLICATION_PROTOCOL, "no common ALPN protocol")
    conn.version = TLS12
    conn.ccs_allowed = False
    conn.set_suite(choice.suite)
    conn.certificate = choice.certificate
    conn.group = choice.group
    conn.signature_scheme = choice.scheme
    conn.server_name = offer.server_name
    conn.alpn_protocol = alpn
    conn.extended_master_secret = offer.extended_master_secret and config.extended_master_secret
    conn.transcript.start(conn.hash_name)
    conn.transcript.add(message.raw)

    # RFC 8446 §4.1.3: a server that speaks TLS 1.3 marks a TLS 1.2 answer.
    speaks_tls13 = TLS13 in conn.spoken_versions
    random = os.urandom(24) + DOWNGRADE_TLS12 if speaks_tls13 else os.urandom(32)
    exts: ext.Extensions = {}
    if offer.secure_renegotiation:  # RFC 5746 §3.6
        exts[ExtensionType.RENEGOTIATION_INFO] = ext.encode_renegotiation_info()
    if conn.extended_master_secret:  # RFC 7627 §5.2
        exts[ExtensionType.EXTENDED_MASTER_SECRET] = b""
    if choice.group is not None and offer.point_formats:  # RFC 8422 §5.2
        exts[ExtensionType.EC_POINT_FORMATS] = ext.encode_ec_point_formats([0])
    if conn.server_name is not None:
        exts[ExtensionType.SERVER_NAME] = b""  # RFC 6066 §3: empty answer
    if alpn is not None:
        exts[ExtensionType.APPLICATION_LAYER_PROTOCOL_NEGOTIATION] = ext.encode_alpn([alpn])
    # An empty session id: this server caches no sessions (§7.4.1.3).
    conn.send_handshake(ServerHello(random, b"", int(choice.suite), exts).encode())
    conn.send_handshake(m12.Certificate(choice.certificate.chain).encode())
    secrets = Tls12Secrets(hello.random, random)
    share = None
    if choice.group is not None:
        assert choice.scheme is not None
        share = KeyShare(choice.group)
        params = m12.ServerECDHParams(int(choice.group), share.public)
        content = m12.signed_params(secrets.client_random, secrets.server_random, params)
        signature = conn.server_key_exchange_signature(choice.scheme, content)
        conn.send_handshake(m12.ServerKeyExchange(params, int(choice.scheme), signature).encode())
    conn.send_handshake(m12.ServerHelloDone().encode())
    return ExpectClientKeyExchange(conn, secrets, share, hello.legacy_version)


class ExpectClientKeyExchange(State):
    """Waits for the client's pre-master secret (§7.4.7) or ECDH point (RFC 8422 §5.7)."""

    def __init__(
        self,
        conn: ServerBase,
        secrets: Tls12Secrets,
        share: KeyShare | None,
        client_version: int,
    ) -> None:
        self.conn = conn
        self.secrets = secrets
        self.share = share
        self.client_version = client_version

    def handle(self, message: Handshake) -> State:
        """Recover the pre-master secret and derive the master secret and keys."""
        if message.msg_type != HandshakeType.CLIENT_KEY_EXCHANGE:
            return super().handle(message)
        conn = self.conn
        cke = m12.ClientKeyExchange.decode(message.body, ecdhe=self.share is not None)
        if self.share is not None:
            pre_master_secret = self.share.exchange(cke.exchange_keys)
        else:
            key = conn.certificate.key
            assert isinstance(key, rsa.RSAPrivateKey)
            # §7.4.7.1: a bad secret is replaced, never reported; Finished fails instead.
            pre_master_secret = rsa_decrypt_pre_master_secret(
                key, cke.exchange_keys, self.client_version
            )
        conn.transcript.add(message.raw)
        self.secrets.derive(conn, pre_master_secret)
        return ExpectChangeCipherSpec(conn, self.secrets)


class ExpectChangeCipherSpec(State):
    """Waits for the client's ChangeCipherSpec (§7.1): its records are protected after it."""

    def __init__(self, conn: ServerBase, secrets: Tls12Secrets) -> None:
        self.conn = conn
        self.secrets = secrets

    def change_cipher_spec(self) -> State:
        """Read with the client's keys from the next record on."""
        self.conn.set_tls12_keys(write=None, read=self.secrets.client_write)
        return ExpectFinished(self.conn, self.secrets)


class ExpectFinished(State):
    """Waits for the client's Finished (§7.4.9), then sends ChangeCipherSpec and ours."""

    def __init__(self, conn: ServerBase, secrets: Tls12Secrets) -> None:
        self.conn = conn
        self.secrets = secrets

    def handle(self, message: Handshake) -> State:
        """Verify it, answer with our ChangeCipherSpec and Finished; the handshake is complete."""
        if message.msg_type != HandshakeType.FINISHED:
            return super().handle(message)
        conn = self.conn
        finished = Finished.decode(message.body, m12.VERIFY_DATA_LENGTH)
        expected = self.secrets.expected_verify_data(conn, b"client finished")
        if not hmac.compare_digest(expected, finished.verify_data):
            raise _fail(AlertDescription.DECRYPT_ERROR, "client Finished is wrong")
        conn.transcript.add(message.raw)
        conn.records.write_change_cipher_spec()
        conn.set_tls12_keys(write=self.secrets.server_write, read=None)
        verify_data = conn.finished_verify_data_tls12(self.secrets.master_secret)
        conn.send_handshake(Finished(verify_data).encode())
        conn.complete_handshake()
        return ExpectTraffic(conn)
