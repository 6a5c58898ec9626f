"""The TLS 1.2 client (RFC 5246 §7.3): the walkthrough's ladder, one state per message.

ServerHello (checked by :func:`server_hello`) -> ExpectCertificate ->
ExpectServerKeyExchange (ECDHE suites only) -> ExpectServerHelloDone (after a
CertificateRequest too), which sends [Certificate], ClientKeyExchange,
[CertificateVerify], ChangeCipherSpec and Finished -> [ExpectNewSessionTicket] ->
ExpectChangeCipherSpec -> ExpectFinished -> ExpectTraffic.

A ServerHello that echoes the session ID of the session we offered resumes it (§7.3):
[ExpectNewSessionTicket] -> ExpectChangeCipherSpec -> ExpectFinished, which sends our
ChangeCipherSpec and Finished -> ExpectTraffic.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes

from .. import extensions as ext
from .. import messages12 as m12
from ..alerts import ProtocolError
from ..certs import server_public_key
from ..connection import ExpectTraffic, State
from ..constants import (
    DOWNGRADE_TLS11,
    DOWNGRADE_TLS12,
    TLS12,
    AlertDescription,
    ExtensionType,
    HandshakeType,
    KeyExchange,
    SignatureScheme,
    group_of,
    key_exchange,
    scheme_of,
    suite_of,
    suite_version,
)
from ..keyexchange import KeyShare, rsa_pre_master_secret
from ..messages import CertificateVerify, Finished, Handshake, ServerHello
from ..sessions import TICKET_LIFETIME, Session
from ..signatures import TLS12_SCHEMES, schemes_for_key_tls12, sign_tls12, verify_tls12
from ..tls12 import Tls12Secrets
from .base import ClientBase

# Extensions a TLS 1.2 ServerHello may answer ours with (RFC 5246 §7.4.1.4).
_SERVER_HELLO_ALLOWED = frozenset(
    {
        ExtensionType.SERVER_NAME,
        ExtensionType.EC_POINT_FORMATS,
        ExtensionType.APPLICATION_LAYER_PROTOCOL_NEGOTIATION,
        ExtensionType.EXTENDED_MASTER_SECRET,
        ExtensionType.RENEGOTIATION_INFO,
        ExtensionType.SESSION_TICKET,
    }
)
# §7.4.4 certificate types: rsa_sign, ecdsa_sign (RFC 8422 §5.5).
_RSA_SIGN = 1
_ECDSA_SIGN = 64


def _fail(alert: AlertDescription, message: str) -> ProtocolError:
    return ProtocolError(alert, message)


@dataclass
class _Plan:
    """What the states of one handshake carry: the secrets and the session to keep."""

    secrets: Tls12Secrets
    session_id: bytes
    """The server's session ID (ServerHello)."""
    ticket_expected: bool
    """The ServerHello answered session_ticket: a NewSessionTicket comes (RFC 5077 §3.3)."""
    resumed: Session | None = None
    """The session this handshake resumes."""
    ticket: bytes = b""
    lifetime: int = 0


def _keep_session(conn: ClientBase, plan: _Plan) -> None:
    """``conn.session``: what this handshake can be resumed with (None: nothing)."""
    if plan.resumed is not None and not plan.ticket:
        conn.session = plan.resumed  # the same session, its clock unchanged
        return
    if not plan.ticket and not plan.session_id:
        return
    conn.session = Session(
        TLS12,
        conn.suite,
        plan.secrets.master_secret,
        time.time(),
        plan.lifetime or TICKET_LIFETIME,  # RFC 5077 §3.3: 0 means unspecified
        ticket=plan.ticket,
        session_id=plan.session_id if not plan.resumed else plan.resumed.session_id,
        extended_master_secret=conn.extended_master_secret,
        server_name=conn.server_name,
        alpn_protocol=conn.alpn_protocol,
    )


def server_hello(conn: ClientBase, hello: ServerHello, message: Handshake) -> State:
    """Check a TLS 1.2 ServerHello (§7.4.1.3) and its extensions; ExpectCertificate next."""
    if hello.legacy_version != TLS12:
        raise _fail(AlertDescription.PROTOCOL_VERSION, "server version is not TLS 1.2")
    # RFC 8446 §4.1.3: a TLS 1.3 server that answers our 1.3 offer with 1.2 is a downgrade.
    if conn.offers_tls13 and hello.random[-8:] in (DOWNGRADE_TLS12, DOWNGRADE_TLS11):
        raise _fail(AlertDescription.ILLEGAL_PARAMETER, "downgrade sentinel in ServerHello.random")
    if hello.cipher_suite not in conn.suites or suite_version(hello.cipher_suite) != TLS12:
        raise _fail(AlertDescription.ILLEGAL_PARAMETER, "cipher suite not offered")
    if hello.legacy_compression_method != 0:
        raise _fail(AlertDescription.ILLEGAL_PARAMETER, "compression method is not null")
    session = conn.session12
    resumed = bool(conn.session_id) and hello.legacy_session_id_echo == conn.session_id
    if resumed and session is None:
        raise _fail(AlertDescription.ILLEGAL_PARAMETER, "server resumes a session never made")
    exts = hello.extensions
    for ext_type in exts:
        if ext_type not in conn.sent_extensions:  # §7.4.1.4
            raise _fail(AlertDescription.UNSUPPORTED_EXTENSION, f"unsolicited extension {ext_type}")
        if ext_type not in _SERVER_HELLO_ALLOWED:
            raise _fail(AlertDescription.ILLEGAL_PARAMETER, f"extension {ext_type} not allowed")
    # RFC 5746 §3.4: a server that does not answer renegotiation_info may be vulnerable.
    info = exts.get(ExtensionType.RENEGOTIATION_INFO)
    if info is None or ext.decode_renegotiation_info(info):
        raise _fail(AlertDescription.HANDSHAKE_FAILURE, "no secure renegotiation indication")
    if ExtensionType.EXTENDED_MASTER_SECRET in exts:  # RFC 7627 §5.2
        ext.decode_empty(exts[ExtensionType.EXTENDED_MASTER_SECRET], "extended_master_secret")
        conn.extended_master_secret = True
    if ExtensionType.EC_POINT_FORMATS in exts:  # RFC 8422 §5.2
        if 0 not in ext.decode_ec_point_formats(exts[ExtensionType.EC_POINT_FORMATS]):
            raise _fail(AlertDescription.ILLEGAL_PARAMETER, "no uncompressed point format")
    if exts.get(ExtensionType.SERVER_NAME):  # RFC 6066 §3: the answer is empty
        raise _fail(AlertDescription.DECODE_ERROR, "server_name answer is not empty")
    alpn = ExtensionType.APPLICATION_LAYER_PROTOCOL_NEGOTIATION
    if alpn in exts:
        names = ext.decode_alpn(exts[alpn])
        if len(names) != 1 or names[0] not in conn.config.alpn_protocols:  # RFC 7301 §3.1
            raise _fail(AlertDescription.ILLEGAL_PARAMETER, "ALPN answer not offered")
        conn.alpn_protocol = names[0]
    ticket_expected = ExtensionType.SESSION_TICKET in exts
    if ticket_expected:  # RFC 5077 §3.2: the server's answer is empty
        ext.decode_empty(exts[ExtensionType.SESSION_TICKET], "session_ticket")
    conn.version = TLS12
    conn.ccs_allowed = False
    conn.shares = {}  # TLS 1.3 key shares are of no use now
    conn.set_suite(suite_of(hello.cipher_suite))
    conn.transcript.start(conn.hash_name)
    secrets = Tls12Secrets(conn.random, hello.random)
    secrets.add(conn, message.raw)
    plan = _Plan(secrets, hello.legacy_session_id_echo, ticket_expected)
    if not resumed:
        return ExpectCertificate(conn, plan)
    assert session is not None
    if hello.cipher_suite != session.cipher_suite:
        raise _fail(AlertDescription.ILLEGAL_PARAMETER, "resumed with another cipher suite")
    if conn.extended_master_secret != session.extended_master_secret:  # RFC 7627 §5.3
        raise _fail(AlertDescription.HANDSHAKE_FAILURE, "extended master secret changed")
    conn.resumed = True
    plan.resumed = session
    secrets.resume(conn, session.secret)
    if ticket_expected:
        return ExpectNewSessionTicket(conn, plan)
    return ExpectChangeCipherSpec(conn, plan)


class ExpectCertificate(State):
    """Waits for the server's Certificate (§7.4.2)."""

    def __init__(self, conn: ClientBase, plan: _Plan) -> None:
        self.conn = conn
        self.plan = plan

    def handle(self, message: Handshake) -> State:
        """Verify the chain (unless switched off); the key must fit the suite."""
        if message.msg_type != HandshakeType.CERTIFICATE:
            return super().handle(message)
        conn = self.conn
        chain = list(m12.Certificate.decode(message.body).certificate_list)
        if not chain:
            raise _fail(AlertDescription.DECODE_ERROR, "empty server Certificate")
        public_key = server_public_key(chain, conn.config)
        kx = key_exchange(conn.suite)
        wanted = ec.EllipticCurvePublicKey if kx == KeyExchange.ECDHE_ECDSA else rsa.RSAPublicKey
        if not isinstance(public_key, wanted):
            raise _fail(AlertDescription.UNSUPPORTED_CERTIFICATE, "key does not fit the suite")
        conn.peer_certificates = tuple(chain)
        self.plan.secrets.add(conn, message.raw)
        if kx == KeyExchange.RSA:
            return ExpectServerHelloDone(conn, self.plan, public_key, None, b"")
        return ExpectServerKeyExchange(conn, self.plan, public_key)


class ExpectServerKeyExchange(State):
    """Waits for the signed ECDH parameters (RFC 8422 §5.4) of an ECDHE suite."""

    def __init__(
        self, conn: ClientBase, plan: _Plan, public_key: CertificatePublicKeyTypes
    ) -> None:
        self.conn = conn
        self.plan = plan
        self.public_key = public_key

    def handle(self, message: Handshake) -> State:
        """Check group and scheme were offered and the signature; agree on the secret."""
        if message.msg_type != HandshakeType.SERVER_KEY_EXCHANGE:
            return super().handle(message)
        conn = self.conn
        ske = m12.ServerKeyExchange.decode(message.body)
        if ske.params.named_curve not in conn.config.groups:
            raise _fail(AlertDescription.ILLEGAL_PARAMETER, "curve not offered")
        if ske.algorithm not in conn.config.signature_schemes or ske.algorithm not in TLS12_SCHEMES:
            raise _fail(AlertDescription.ILLEGAL_PARAMETER, "signature scheme not offered")
        s = self.plan.secrets
        content = m12.signed_params(s.client_random, s.server_random, ske.params)
        verify_tls12(self.public_key, ske.algorithm, ske.signature, content)
        group = group_of(ske.params.named_curve)
        share = KeyShare(group, conn.crypto)
        pre_master_secret = share.exchange(ske.params.public)  # RFC 8422 §5.10
        conn.group = group
        conn.signature_scheme = scheme_of(ske.algorithm)
        s.add(conn, message.raw)
        return ExpectServerHelloDone(conn, self.plan, self.public_key, share, pre_master_secret)


def _credentials(
    conn: ClientBase, request: m12.CertificateRequest
) -> tuple[tuple[bytes, ...], SignatureScheme | None]:
    """Our chain and the scheme to sign with (§7.4.6): the first of ours the request
    allows for our key; none (an empty chain) without a certificate or a fit."""
    config = conn.config
    key = config.private_key
    if not config.certificate_chain or key is None:
        return (), None
    wanted = _RSA_SIGN if isinstance(key, rsa.RSAPrivateKey) else _ECDSA_SIGN
    if wanted not in request.certificate_types:
        return (), None
    for scheme in schemes_for_key_tls12(key):
        if scheme in request.signature_algorithms and scheme in config.signature_schemes:
            return config.certificate_chain, scheme
    return (), None


class ExpectServerHelloDone(State):
    """Waits for ServerHelloDone (§7.4.5), or a CertificateRequest before it (§7.4.4)."""

    def __init__(
        self,
        conn: ClientBase,
        plan: _Plan,
        public_key: CertificatePublicKeyTypes,
        share: KeyShare | None,
        pre_master_secret: bytes,
    ) -> None:
        self.conn = conn
        self.plan = plan
        self.public_key = public_key
        self.share = share
        self.pre_master_secret = pre_master_secret
        self.request: m12.CertificateRequest | None = None

    def handle(self, message: Handshake) -> State:
        """Send [Certificate], ClientKeyExchange, [CertificateVerify], CCS and Finished."""
        conn = self.conn
        secrets = self.plan.secrets
        if message.msg_type == HandshakeType.CERTIFICATE_REQUEST and self.request is None:
            self.request = m12.CertificateRequest.decode(message.body)
            secrets.add(conn, message.raw)
            return self
        if message.msg_type != HandshakeType.SERVER_HELLO_DONE:
            return super().handle(message)
        m12.ServerHelloDone.decode(message.body)
        secrets.add(conn, message.raw)
        scheme = None
        if self.request is not None:  # §7.4.6: our chain, or an empty list
            chain, scheme = _credentials(conn, self.request)
            secrets.send(conn, m12.Certificate(chain).encode())
        if self.share is not None:
            cke = m12.ClientKeyExchange(self.share.public, ecdhe=True)
            pre_master_secret = self.pre_master_secret
        else:
            assert isinstance(self.public_key, rsa.RSAPublicKey)
            pre_master_secret = rsa_pre_master_secret(conn.hello.legacy_version)
            encrypted = conn.encrypt_pre_master_secret(self.public_key, pre_master_secret)
            cke = m12.ClientKeyExchange(encrypted, ecdhe=False)
        secrets.send(conn, cke.encode())
        secrets.derive(conn, pre_master_secret)
        if scheme is not None:  # §7.4.8: over every message so far, ClientHello first
            assert conn.config.private_key is not None
            content = conn.hello.encode() + b"".join(secrets.messages)
            signature = sign_tls12(conn.config.private_key, scheme, content)
            conn.send_handshake(CertificateVerify(int(scheme), signature).encode())
        secrets.messages.clear()
        conn.records.write_change_cipher_spec()  # §7.1: then our keys change
        conn.set_tls12_keys(write=secrets.client_write, read=None)
        verify_data = conn.finished_verify_data_tls12(secrets.master_secret)
        conn.send_handshake(Finished(verify_data).encode())
        if self.plan.ticket_expected:
            return ExpectNewSessionTicket(conn, self.plan)
        return ExpectChangeCipherSpec(conn, self.plan)


class ExpectNewSessionTicket(State):
    """Waits for the NewSessionTicket the ServerHello promised (RFC 5077 §3.3)."""

    def __init__(self, conn: ClientBase, plan: _Plan) -> None:
        self.conn = conn
        self.plan = plan

    def handle(self, message: Handshake) -> State:
        """Keep the ticket (an empty one means none after all)."""
        if message.msg_type != HandshakeType.NEW_SESSION_TICKET:
            return super().handle(message)
        ticket = m12.NewSessionTicket.decode(message.body)
        self.plan.ticket = ticket.ticket
        self.plan.lifetime = ticket.lifetime_hint
        self.conn.transcript.add(message.raw)
        return ExpectChangeCipherSpec(self.conn, self.plan)


class ExpectChangeCipherSpec(State):
    """Waits for the server's ChangeCipherSpec (§7.1): its records are protected after it."""

    def __init__(self, conn: ClientBase, plan: _Plan) -> None:
        self.conn = conn
        self.plan = plan

    def change_cipher_spec(self) -> State:
        """Read with the server's keys from the next record on."""
        self.conn.set_tls12_keys(write=None, read=self.plan.secrets.server_write)
        return ExpectFinished(self.conn, self.plan)


class ExpectFinished(State):
    """Waits for the server's Finished (§7.4.9); when resuming, answers with ours."""

    def __init__(self, conn: ClientBase, plan: _Plan) -> None:
        self.conn = conn
        self.plan = plan

    def handle(self, message: Handshake) -> State:
        """Verify it; the handshake is complete (once ours is sent, when resuming)."""
        if message.msg_type != HandshakeType.FINISHED:
            return super().handle(message)
        conn = self.conn
        secrets = self.plan.secrets
        finished = Finished.decode(message.body, m12.VERIFY_DATA_LENGTH)
        expected = secrets.expected_verify_data(conn, b"server finished")
        if not hmac.compare_digest(expected, finished.verify_data):
            raise _fail(AlertDescription.DECRYPT_ERROR, "server Finished is wrong")
        conn.transcript.add(message.raw)
        if self.plan.resumed is not None:  # §7.3: the client's Finished comes second
            conn.records.write_change_cipher_spec()
            conn.set_tls12_keys(write=secrets.client_write, read=None)
            verify_data = conn.finished_verify_data_tls12(secrets.master_secret)
            conn.send_handshake(Finished(verify_data).encode())
        _keep_session(conn, self.plan)
        conn.complete_handshake()
        return ExpectTraffic(conn)
