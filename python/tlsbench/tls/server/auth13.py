"""The TLS 1.3 server's states after its Finished: the client's flight (§4.4).

With ``client_auth`` optional or require the server's flight carries a
CertificateRequest (:func:`certificate_request`, §4.3.2) and the client answers
Certificate -> [CertificateVerify] -> Finished; otherwise Finished alone. After the
Finished the server issues its NewSessionTickets (``psk13.send_tickets``).
"""

from __future__ import annotations

import hmac
from typing import NamedTuple

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes

from .. import extensions as ext
from ..alerts import ProtocolError
from ..certs import client_public_key
from ..connection import ExpectTraffic, State
from ..constants import AlertDescription, ExtensionType, HandshakeType
from ..messages import Certificate, CertificateRequest, CertificateVerify, Finished, Handshake
from ..signatures import CERTIFICATE_VERIFY_SCHEMES, verify
from .base import ServerBase
from .psk13 import send_tickets

CLIENT_SCHEMES = tuple(sorted(CERTIFICATE_VERIFY_SCHEMES))
"""What a CertificateRequest lists: every scheme a TLS 1.3 CertificateVerify may use."""


def certificate_request(conn: ServerBase) -> bytes:
    """A CertificateRequest (empty context, signature_algorithms, the CA names we trust)."""
    exts: ext.Extensions = {
        ExtensionType.SIGNATURE_ALGORITHMS: ext.encode_signature_algorithms(
            [int(s) for s in CLIENT_SCHEMES]
        )
    }
    ca_file = conn.config.client_ca_file
    if ca_file is not None:
        with open(ca_file, "rb") as pem:
            names = [c.subject.public_bytes() for c in x509.load_pem_x509_certificates(pem.read())]
        if names:  # §4.2.4: lets the client choose a certificate we can verify
            exts[ExtensionType.CERTIFICATE_AUTHORITIES] = ext.encode_certificate_authorities(names)
    return CertificateRequest(b"", exts).encode()


class ClientTraffic(NamedTuple):
    """What the server's states after its flight carry to the client's Finished."""

    secret: bytes
    """The client's application traffic secret (§7.1)."""
    keys: tuple[bytes, bytes] | None
    """Its (key, iv), as the key schedule's application stage derived them."""
    tickets: int
    """NewSessionTickets to send once the client's Finished is in."""


class ExpectClientCertificate(State):
    """Waits for the client's Certificate (§4.4.2), which we asked for."""

    def __init__(self, conn: ServerBase, after: ClientTraffic) -> None:
        self.conn = conn
        self.after = after

    def handle(self, message: Handshake) -> State:
        """Empty: certificate_required under ``require``; else the chain must reach our CA."""
        if message.msg_type != HandshakeType.CERTIFICATE:
            return super().handle(message)
        conn = self.conn
        config = conn.config
        certificate = Certificate.decode(message.body)
        if certificate.context:  # §4.4.2: the CertificateRequest's, which was empty
            raise ProtocolError(
                AlertDescription.ILLEGAL_PARAMETER, "certificate_request_context set"
            )
        chain = [entry.cert_data for entry in certificate.entries]
        if not chain:
            if config.client_auth == "require":  # §4.4.2.4
                raise ProtocolError(AlertDescription.CERTIFICATE_REQUIRED, "no client certificate")
            conn.transcript.add(message.raw)
            return ExpectFinished(conn, self.after)
        if config.client_ca_file is None:
            raise ProtocolError(AlertDescription.INTERNAL_ERROR, "client_auth without a CA file")
        key = client_public_key(chain, config.client_ca_file)
        if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
            raise ProtocolError(AlertDescription.UNSUPPORTED_CERTIFICATE, "client key cannot sign")
        conn.peer_certificates = tuple(chain)
        conn.transcript.add(message.raw)
        return ExpectClientCertificateVerify(conn, key, self.after)


class ExpectClientCertificateVerify(State):
    """Waits for the client's CertificateVerify (§4.4.3, the client context string)."""

    def __init__(
        self,
        conn: ServerBase,
        public_key: CertificatePublicKeyTypes,
        after: ClientTraffic,
    ) -> None:
        self.conn = conn
        self.public_key = public_key
        self.after = after

    def handle(self, message: Handshake) -> State:
        """A scheme we listed, and a signature over the transcript (decrypt_error if wrong)."""
        if message.msg_type != HandshakeType.CERTIFICATE_VERIFY:
            return super().handle(message)
        conn = self.conn
        cv = CertificateVerify.decode(message.body)
        if cv.algorithm not in CLIENT_SCHEMES:
            raise ProtocolError(AlertDescription.ILLEGAL_PARAMETER, "signature scheme not listed")
        verify(self.public_key, cv.algorithm, cv.signature, conn.transcript.digest(), server=False)
        conn.transcript.add(message.raw)
        return ExpectFinished(conn, self.after)


class ExpectFinished(State):
    """Waits for the client's Finished (§4.4.4), then issues ``after.tickets`` tickets."""

    def __init__(self, conn: ServerBase, after: ClientTraffic) -> None:
        self.conn = conn
        self.after = after

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
        after = self.after
        conn.set_read_secret(after.secret, application=True, keys=after.keys)
        conn.resumption_master_secret = conn.key_schedule.resumption_master_secret(
            conn.transcript.digest()
        )
        conn.complete_handshake()
        send_tickets(conn, after.tickets)
        return ExpectTraffic(conn)
