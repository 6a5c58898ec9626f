"""The client's common part: the ClientHello it offers and the hooks tests override."""

from __future__ import annotations

import os
from dataclasses import replace

from cryptography.hazmat.primitives.asymmetric import rsa

from .. import extensions as ext
from ..alerts import ProtocolError
from ..connection import Connection
from ..constants import (
    SUITE_HASH,
    TLS12,
    TLS13,
    AlertDescription,
    CipherSuite,
    ExtensionType,
    suite_version,
)
from ..keyexchange import KeyShare, rsa_encrypt_pre_master_secret
from ..messages import CertificateRequest, ClientHello
from ..sessions import Session, resumption_binder
from .config import ClientConfig


class ClientBase(Connection):
    """What every client state sees: the config, the offer and the hooks tests override.

    The first ClientHello is queued on construction; ``connection.ClientConnection``
    adds the first state.
    """

    is_client = True

    def __init__(self, config: ClientConfig) -> None:
        super().__init__(config.provider, config.middlebox_compat, config.max_handshake_message)
        if config.verify and (config.ca_file is None or config.server_name is None):
            raise ValueError("verification needs ca_file and server_name (or verify=False)")
        if not config.versions or not set(config.versions) <= {TLS12, TLS13}:
            raise ValueError("versions must be a non-empty choice of TLS12 and TLS13")
        self.suites = config.offered_suites
        """The suites offered: those of the versions offered."""
        if not self.suites or not config.groups:
            raise ValueError("at least one cipher suite (of a version offered) and one group")
        self.versions = config.offered_versions
        """The versions offered: those of the config that have a suite offered."""
        self.config = config
        self.offers_tls13 = TLS13 in self.versions
        self.random = os.urandom(32)
        # Appendix D.4's session id is a TLS 1.3 device; TLS 1.2 sends one to resume.
        compat = config.middlebox_compat and self.offers_tls13
        self.session_id = os.urandom(32) if compat else b""
        session = config.session
        self.session12: Session | None = None
        """The TLS 1.2 session offered (its session ID and/or RFC 5077 ticket), if any."""
        if session and session.version == TLS12 and session.cipher_suite in self.suites:
            if not session.expired():
                self.session12 = session
                # RFC 5077 §3.4: beside a ticket a fresh ID, which the server echoes to resume.
                self.session_id = session.session_id or os.urandom(32)
        self.session13: Session | None = None
        """The TLS 1.3 ticket offered in pre_shared_key, if any (§4.2.11)."""
        if session and session.version == TLS13 and self.offers_tls13 and not session.expired():
            if self.psk_suite_fits(session.cipher_suite):
                self.session13 = session
        share_groups = (config.key_share_groups or config.groups[:1]) if self.offers_tls13 else ()
        self.shares = {g: KeyShare(g, self.crypto) for g in share_groups}
        self.server_name = config.server_name
        self.ccs_sent = False
        self.certificate_request: CertificateRequest | None = None
        self.session: Session | None = None
        """The newest session this connection can be resumed with (``ClientConfig.session``)."""
        self.hello = self.make_client_hello()
        self.sent_extensions = frozenset(self.hello.extensions)
        self.records.legacy_version = 0x0301  # §5.1: allowed for an initial ClientHello
        self.send_handshake(self.hello.encode())
        self.records.legacy_version = 0x0303
        self.ccs_allowed = self.offers_tls13

    def make_client_hello(self, cookie: bytes | None = None) -> ClientHello:
        """ClientHello (§4.1.2) with the current key shares (and a cookie after HRR)."""
        c = self.config
        head, tail = c.hello_extensions  # what the config fixes, encoded once
        exts: ext.Extensions = dict(head)
        if TLS12 in self.versions:
            ticket = self.session12.ticket if self.session12 else b""
            if c.session_tickets or ticket:  # RFC 5077 §3.2: empty asks for a ticket
                exts[ExtensionType.SESSION_TICKET] = ext.encode_session_ticket(ticket)
        if not self.offers_tls13:  # a TLS 1.2 ClientHello, as OpenSSL -tls1_2 sends it
            return ClientHello(self.random, self.session_id, [int(s) for s in self.suites], exts)
        exts.update(tail)
        if cookie is not None:
            exts[ExtensionType.COOKIE] = ext.encode_cookie(cookie)
        exts[ExtensionType.KEY_SHARE] = ext.encode_key_share_client(
            [ext.KeyShareEntry(g, s.public) for g, s in self.shares.items()]
        )
        hello = ClientHello(self.random, self.session_id, [int(s) for s in self.suites], exts)
        return self._bind_psk(hello) if self.session13 is not None and c.psk_modes else hello

    def psk_suite_fits(self, suite: CipherSuite, among: list[CipherSuite] | None = None) -> bool:
        """A TLS 1.3 suite of ours (or of ``among``) has the hash of ``suite`` (§4.2.11)."""
        suites = self.suites if among is None else among
        return any(suite_version(s) == TLS13 and SUITE_HASH[s] == SUITE_HASH[suite] for s in suites)

    def _bind_psk(self, hello: ClientHello) -> ClientHello:
        """Add pre_shared_key (last) with its binder over the truncated hello (§4.2.11.2)."""
        session = self.session13
        assert session is not None
        identity = ext.PskIdentity(session.ticket, session.obfuscated_age())
        placeholder = [bytes(len(session.secret))]
        exts = dict(hello.extensions)
        exts[ExtensionType.PRE_SHARED_KEY] = ext.encode_pre_shared_key_client(
            [identity], placeholder
        )
        raw = replace(hello, extensions=exts).encode()
        truncated = raw[: -len(ext.encode_psk_binders(placeholder))]
        digest = self.transcript.digest_with(truncated, SUITE_HASH[session.cipher_suite])
        binder = self.psk_binder(session, digest)
        exts[ExtensionType.PRE_SHARED_KEY] = ext.encode_pre_shared_key_client([identity], [binder])
        return replace(hello, extensions=exts)

    def psk_binder(self, session: Session, transcript_hash: bytes) -> bytes:
        """The binder of ``session``'s PSK (§4.2.11.2); tests override it to inject faults."""
        return resumption_binder(self.crypto, session.cipher_suite, session.secret, transcript_hash)

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


def check_server_extensions(
    conn: ClientBase, exts: ext.Extensions, allowed: frozenset[int]
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
