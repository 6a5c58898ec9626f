"""The TLS 1.3 server's ClientHello answer (RFC 8446 §2, §4).

:func:`client_hello` answers a TLS 1.3 ClientHello (``connection.ExpectClientHello``
picks the version) with ServerHello ... Finished -> ``auth13`` (the client's flight)
-> ExpectTraffic; when no offered key share is acceptable it sends a
HelloRetryRequest and returns the :class:`Retry` the second ClientHello must agree
with. A PSK offer ``psk13`` can resume makes the flight ServerHello (pre_shared_key),
EncryptedExtensions, Finished.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass

from .. import extensions as ext
from ..alerts import ProtocolError
from ..connection import State
from ..constants import (
    HELLO_RETRY_REQUEST_RANDOM,
    TLS13,
    AlertDescription,
    CipherSuite,
    ExtensionType,
    NamedGroup,
    SignatureScheme,
    suite_version,
)
from ..keyexchange import KeyShare
from ..messages import (
    Certificate,
    CertificateEntry,
    CertificateVerify,
    ClientHello,
    EncryptedExtensions,
    Finished,
    Handshake,
    ServerHello,
)
from .auth13 import ClientTraffic, ExpectClientCertificate, ExpectFinished, certificate_request
from .base import ServerBase
from .config import ServerCertificate, ServerConfig
from .psk13 import Psk, check_binder, find_psk, wants_tickets


@dataclass(frozen=True)
class Retry:
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


def _read_offer(hello: ClientHello) -> _Offer:
    """Check a TLS 1.3 ClientHello's compression and extensions (§4.1.2, §4.2, §9.2)."""
    exts = hello.extensions
    if hello.legacy_compression_methods != b"\x00":
        raise _fail(AlertDescription.ILLEGAL_PARAMETER, "compression methods other than null")
    if ExtensionType.PRE_SHARED_KEY in exts and list(exts)[-1] != ExtensionType.PRE_SHARED_KEY:
        raise _fail(AlertDescription.ILLEGAL_PARAMETER, "pre_shared_key is not last")  # §4.2.11
    # §9.2: certificate authentication needs signature_algorithms; (EC)DHE needs the other
    # two, which a PSK offer (psk_ke) may leave out.
    needs = [ExtensionType.SIGNATURE_ALGORITHMS]
    if ExtensionType.PRE_SHARED_KEY not in exts or ExtensionType.SUPPORTED_GROUPS in exts:
        needs += [ExtensionType.SUPPORTED_GROUPS, ExtensionType.KEY_SHARE]
    for needed in needs:
        if needed not in exts:
            raise _fail(AlertDescription.MISSING_EXTENSION, f"no {needed.name.lower()}")
    groups: list[int] = []
    shares: list[ext.KeyShareEntry] = []
    if ExtensionType.SUPPORTED_GROUPS in exts:
        groups = ext.decode_supported_groups(exts[ExtensionType.SUPPORTED_GROUPS])
    if ExtensionType.KEY_SHARE in exts:
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
        for scheme in certificate.schemes:
            if config.signature_schemes and scheme not in config.signature_schemes:
                continue
            if scheme in offered:
                return certificate, scheme
    raise _fail(AlertDescription.HANDSHAKE_FAILURE, "no common signature scheme")


def client_hello(
    conn: ServerBase, hello: ClientHello, message: Handshake, retry: Retry | None
) -> State | Retry:
    """Negotiate from a TLS 1.3 ClientHello; send ServerHello through Finished.

    Returns the next state, or the Retry that a HelloRetryRequest just sent asks for.
    """
    config = conn.config
    conn.ccs_allowed = True
    conn.records.ignore_record_version = True  # §5.1, from here on
    offer = _read_offer(hello)
    if ExtensionType.COOKIE in hello.extensions and retry is None:
        raise _fail(AlertDescription.ILLEGAL_PARAMETER, "cookie we did not send")
    # §4.2.10: early data is never accepted; its records are skipped (record.py).
    # ClientHello2 must not offer it, and its arrival ends what was sent before it.
    if retry is None:
        conn.records.skip_early_data = ExtensionType.EARLY_DATA in hello.extensions
    elif ExtensionType.EARLY_DATA in hello.extensions:
        raise _fail(AlertDescription.ILLEGAL_PARAMETER, "early_data in ClientHello2")
    else:
        conn.records.skip_early_data = False

    # The server's preference decides (suite, scheme, group, ALPN); a PSK fixes the hash.
    psk = find_psk(conn, hello)
    suite = next(
        (s for s in config.cipher_suites if s in hello.cipher_suites and suite_version(s) == TLS13),
        None,
    )
    if psk is not None:
        suite = psk.suite
    if suite is None:
        raise _fail(AlertDescription.HANDSHAKE_FAILURE, "no common cipher suite")
    certificate, scheme = conn.certificate, None
    if psk is None:
        certificate, scheme = _choose_certificate(config, offer.schemes)
    alpn = None
    if offer.alpn is not None and config.alpn_protocols:
        alpn = next((p for p in config.alpn_protocols if p in offer.alpn), None)
        if alpn is None:  # RFC 7301 §3.2
            raise _fail(AlertDescription.NO_APPLICATION_PROTOCOL, "no common ALPN protocol")
    group = next((g for g in config.groups if g in offer.shares), None)
    if psk is not None and not psk.dhe:
        group = None  # psk_ke: no (EC)DHE
    elif retry is not None:
        # §4.1.4: the second ClientHello has one share, for the group we asked for.
        if len(offer.shares) != 1 or group != retry.group:
            raise _fail(AlertDescription.ILLEGAL_PARAMETER, "ClientHello2 ignores the retry")
        if suite != retry.suite or hello.legacy_session_id != retry.session_id:
            raise _fail(AlertDescription.ILLEGAL_PARAMETER, "ClientHello2 changed")
    elif group is None:
        retry_group = next((g for g in config.groups if g in offer.groups), None)
        if retry_group is None:
            raise _fail(AlertDescription.HANDSHAKE_FAILURE, "no common group")
        return _hello_retry_request(conn, hello, message, suite, retry_group)

    conn.version = TLS13
    conn.server_name = offer.server_name
    conn.alpn_protocol = alpn
    conn.signature_scheme = scheme
    conn.certificate = certificate
    conn.group = group
    conn.set_suite(suite)
    if psk is not None:
        check_binder(conn, psk, message)  # before this ClientHello enters the transcript
        conn.resumed = True
    if retry is None:
        conn.transcript.start(conn.hash_name)
    conn.transcript.add(message.raw)
    client_share = offer.shares[group] if group is not None else None
    return _send_flight(conn, hello, client_share, psk)


def _send_flight(
    conn: ServerBase, hello: ClientHello, client_share: bytes | None, psk: Psk | None
) -> State:
    """ServerHello, CCS, EncryptedExtensions, [CertificateRequest, Certificate,
    CertificateVerify] (a full handshake), Finished."""
    exts: ext.Extensions = {
        ExtensionType.SUPPORTED_VERSIONS: ext.encode_supported_versions_server(TLS13)
    }
    if conn.group is not None and client_share is not None:
        ours = KeyShare(conn.group, conn.crypto)
        shared_secret = ours.exchange(client_share)
        exts[ExtensionType.KEY_SHARE] = ext.KeyShareEntry(int(conn.group), ours.public).encode()
    else:
        shared_secret = bytes(conn.hash_length)  # psk_ke: §7.1's zero input
    if psk is not None:
        exts[ExtensionType.PRE_SHARED_KEY] = ext.encode_pre_shared_key_server(psk.index)
    server_hello = ServerHello(os.urandom(32), hello.legacy_session_id, int(conn.suite), exts)
    conn.send_handshake(server_hello.encode())
    _compat_change_cipher_spec(conn, hello)
    secret = psk.session.secret if psk is not None else None
    conn.key_schedule = conn.crypto.KeySchedule(int(conn.suite), psk=secret)
    stage = conn.key_schedule.handshake_stage(shared_secret, conn.transcript.digest())
    conn.handshake_stage = stage
    conn.set_write_secret(stage.server_secret, (stage.server_key, stage.server_iv))

    encrypted: ext.Extensions = {}
    if conn.server_name is not None:
        encrypted[ExtensionType.SERVER_NAME] = b""  # RFC 6066 §3: empty answer
    if conn.alpn_protocol is not None:
        alpn_type = ExtensionType.APPLICATION_LAYER_PROTOCOL_NEGOTIATION
        encrypted[alpn_type] = ext.encode_alpn([conn.alpn_protocol])
    conn.send_handshake(EncryptedExtensions(encrypted).encode())
    client_auth = psk is None and conn.config.client_auth != "none"
    if psk is None:
        if client_auth:  # §4.3.2: after EncryptedExtensions, never when resuming
            conn.send_handshake(certificate_request(conn))
        conn.send_handshake(_certificate_message(conn.certificate.chain))
        scheme = conn.signature_scheme
        assert scheme is not None
        signature = conn.certificate_verify_signature(scheme, conn.transcript.digest())
        conn.send_handshake(CertificateVerify(int(scheme), signature).encode())
    verify_data = conn.finished_verify_data(stage.server_finished_key)
    conn.send_handshake(Finished(verify_data).encode())
    application = conn.key_schedule.application_stage(conn.transcript.digest())
    conn.set_write_secret(
        application.server_secret, (application.server_key, application.server_iv)
    )
    # §5.1: ClientHello must end its record
    conn.set_read_secret(stage.client_secret, keys=(stage.client_key, stage.client_iv))
    tickets = 0
    if wants_tickets(hello):
        tickets = conn.config.tickets if psk is None else min(1, conn.config.tickets)
    after = ClientTraffic(
        application.client_secret, (application.client_key, application.client_iv), tickets
    )
    if client_auth:
        return ExpectClientCertificate(conn, after)
    return ExpectFinished(conn, after)


@functools.lru_cache(maxsize=64)
def _certificate_message(chain: tuple[bytes, ...]) -> bytes:
    """The Certificate message of a chain (no request context, no entry extensions):
    constant for a server, so encoded once per chain."""
    return Certificate(b"", [CertificateEntry(der) for der in chain]).encode()


def _compat_change_cipher_spec(conn: ServerBase, hello: ClientHello) -> None:
    # Appendix D.4: after our first handshake message, when the client used a session id.
    if conn.middlebox_compat and hello.legacy_session_id and not conn.ccs_sent:
        conn.records.write_change_cipher_spec()
        conn.ccs_sent = True


def _hello_retry_request(
    conn: ServerBase, hello: ClientHello, message: Handshake, suite: CipherSuite, group: NamedGroup
) -> Retry:
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
    _compat_change_cipher_spec(conn, hello)
    return Retry(suite, group, hello.legacy_session_id)
