"""TLS 1.3 resumption on the server: tickets out (§4.6.1), a PSK offer in (§4.2.11).

:func:`find_psk` opens the offered identities in order and returns the first usable
one, or None for a full handshake (a ticket that does not open, has expired, is aged
wrongly, or whose hash no suite of ours shares is skipped, never an error);
:func:`check_binder` verifies its binder over the truncated ClientHello;
:func:`send_tickets` issues NewSessionTickets after the client's Finished.

Choices: a ticket lives ``ticket_keys.lifetime`` (two hours); the age the client
reports (obfuscated_ticket_age - age_add) may differ from ours by at most
:data:`AGE_TOLERANCE` s, beyond which the identity is skipped; psk_dhe_ke is preferred,
psk_ke used only when it is all the client offers; ``config.tickets`` tickets follow
a full handshake and one a resumed handshake (as OpenSSL does).
"""

from __future__ import annotations

import hmac
import os
from dataclasses import dataclass

from .. import extensions as ext
from ..alerts import ProtocolError
from ..constants import (
    SUITE_HASH,
    TLS13,
    AlertDescription,
    CipherSuite,
    ContentType,
    ExtensionType,
    PskKeyExchangeMode,
    suite_of,
    suite_version,
)
from ..messages import ClientHello, Handshake, NewSessionTicket
from ..sessions import ServerSession, resumption_binder, resumption_psk
from .base import ServerBase

AGE_TOLERANCE = 10.0
"""Seconds the client's view of a ticket's age may differ from ours (§8.3 suggests a
window; without 0-RTT a loose one costs nothing, and it absorbs clock skew and RTT)."""


@dataclass(frozen=True)
class Psk:
    """The identity chosen, its session and the suite and mode it is resumed with."""

    index: int
    session: ServerSession
    suite: CipherSuite
    dhe: bool
    binder: bytes
    binders_length: int
    """Bytes the binders vector (with its length) takes at the end of the ClientHello."""


def find_psk(conn: ServerBase, hello: ClientHello) -> Psk | None:
    """The first offered ticket we can resume, or None (a full handshake)."""
    exts = hello.extensions
    if ExtensionType.PRE_SHARED_KEY not in exts:
        return None
    identities, binders = ext.decode_pre_shared_key_client(exts[ExtensionType.PRE_SHARED_KEY])
    if ExtensionType.PSK_KEY_EXCHANGE_MODES not in exts:  # §4.2.9
        raise ProtocolError(AlertDescription.MISSING_EXTENSION, "PSK without its modes")
    modes = ext.decode_psk_key_exchange_modes(exts[ExtensionType.PSK_KEY_EXCHANGE_MODES])
    if PskKeyExchangeMode.PSK_DHE_KE in modes and ExtensionType.KEY_SHARE in exts:
        dhe = True
    elif PskKeyExchangeMode.PSK_KE in modes:
        dhe = False
    else:
        return None
    config = conn.config
    if config.tickets <= 0:
        return None
    keys = config.ticket_keys
    now = keys.now()
    server_name = ""
    if ExtensionType.SERVER_NAME in exts:
        server_name = ext.decode_server_name(exts[ExtensionType.SERVER_NAME]) or ""
    for index, identity in enumerate(identities):
        session = keys.open(identity.identity, conn.provider_name)
        if session is None or session.version != TLS13 or session.server_name != server_name:
            continue
        client_age = ((identity.obfuscated_ticket_age - session.age_add) & 0xFFFFFFFF) / 1000
        if abs(client_age - (now - session.issued)) > AGE_TOLERANCE:
            continue
        want = SUITE_HASH.get(suite_of(session.cipher_suite))
        suite = next(
            (
                s
                for s in config.cipher_suites
                if s in hello.cipher_suites and suite_version(s) == TLS13 and SUITE_HASH[s] == want
            ),
            None,
        )
        if suite is not None:
            cut = len(ext.encode_psk_binders(binders))
            return Psk(index, session, suite, dhe, binders[index], cut)
    return None


def check_binder(conn: ServerBase, psk: Psk, message: Handshake) -> None:
    """§4.2.11.2: the binder over the ClientHello up to its binders (decrypt_error if wrong).

    The transcript must hold what precedes this ClientHello (after a HelloRetryRequest:
    message_hash and the HelloRetryRequest) and nothing of it.
    """
    truncated = message.raw[: -psk.binders_length]
    digest = conn.transcript.digest_with(truncated, SUITE_HASH[psk.suite])
    expected = resumption_binder(conn.crypto, psk.suite, psk.session.secret, digest)
    if not hmac.compare_digest(expected, psk.binder):
        raise ProtocolError(AlertDescription.DECRYPT_ERROR, "PSK binder is wrong")


def wants_tickets(hello: ClientHello) -> bool:
    """§4.6.1: tickets only for a client that sent psk_key_exchange_modes."""
    return ExtensionType.PSK_KEY_EXCHANGE_MODES in hello.extensions


def send_tickets(conn: ServerBase, count: int) -> None:
    """``count`` NewSessionTickets, each with its own nonce, age_add and PSK (§4.6.1);
    post-handshake messages, so outside the transcript."""
    keys = conn.config.ticket_keys
    for number in range(count):
        nonce = number.to_bytes(8, "big")
        age_add = int.from_bytes(os.urandom(4), "big")
        psk = resumption_psk(conn.crypto, conn.suite, conn.resumption_master_secret, nonce)
        session = ServerSession(
            TLS13,
            int(conn.suite),
            psk,
            keys.now(),
            age_add,
            server_name=conn.server_name or "",
            alpn_protocol=conn.alpn_protocol or b"",
        )
        ticket = keys.seal(session, conn.provider_name)
        raw = NewSessionTicket(keys.lifetime, age_add, nonce, ticket, {}).encode()
        conn.records.write(ContentType.HANDSHAKE, raw)
