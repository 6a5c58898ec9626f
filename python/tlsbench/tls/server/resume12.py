"""TLS 1.2 session resumption on the server (RFC 5246 §7.3, RFC 5077, RFC 7627 §5.3).

:func:`find_session` picks the session a ClientHello offers (a ticket first, then a
cached session ID) or None for a full handshake; :func:`remember` caches and seals
a full handshake's session.
"""

from __future__ import annotations

import time

from .. import messages12 as m12
from ..alerts import ProtocolError
from ..constants import TLS12, AlertDescription
from ..messages import ClientHello
from ..sessions import ServerSession
from .base import ServerBase


def find_session(
    conn: ServerBase,
    hello: ClientHello,
    ticket: bytes | None,
    extended_master_secret: bool,
    server_name: str | None,
) -> ServerSession | None:
    """The session to resume, or None (nothing usable offered: a full handshake).

    A ticket that does not open, a session of another version, suite or server name,
    or one without RFC 7627 when this handshake would use it, is a full handshake; a
    session with the extended master secret offered without it is handshake_failure
    (§5.3). ``conn.extended_master_secret`` must be set first.
    """
    config = conn.config
    session = None
    if ticket and config.tickets > 0:
        session = config.ticket_keys.open(ticket, conn.provider_name)
    if session is None and hello.legacy_session_id and config.session_ids:
        session = config.session_cache.get(hello.legacy_session_id)
    if session is None or session.version != TLS12:
        return None
    suite = session.cipher_suite
    if suite not in hello.cipher_suites or suite not in config.cipher_suites:
        return None
    if session.server_name != (server_name or ""):  # RFC 6066 §3
        return None
    if session.extended_master_secret and not extended_master_secret:
        raise ProtocolError(
            AlertDescription.HANDSHAKE_FAILURE, "session used the extended master secret"
        )
    if conn.extended_master_secret != session.extended_master_secret:
        return None  # RFC 7627 §5.3: an old-style session is not resumed with EMS
    return session


def new_session(conn: ServerBase, master_secret: bytes) -> ServerSession:
    """The server's record of the session this full handshake made."""
    return ServerSession(
        TLS12,
        int(conn.suite),
        master_secret,
        time.time(),
        extended_master_secret=conn.extended_master_secret,
        server_name=conn.server_name or "",
        alpn_protocol=conn.alpn_protocol or b"",
    )


def remember(conn: ServerBase, session: ServerSession, session_id: bytes, ticket: bool) -> None:
    """Cache ``session`` under ``session_id`` (if any); send its NewSessionTicket if ``ticket``.

    RFC 5077 §3.3: the ticket goes before our ChangeCipherSpec, in the clear.
    """
    config = conn.config
    if session_id:
        config.session_cache.put(session_id, session)
    if ticket:
        sealed = config.ticket_keys.seal(session, conn.provider_name)
        conn.send_handshake(m12.NewSessionTicket(config.ticket_keys.lifetime, sealed).encode())
