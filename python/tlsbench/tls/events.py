"""Events the engine hands back from ``receive_data`` (small frozen dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .constants import AlertDescription, CipherSuite, NamedGroup, SignatureScheme
from .sessions import Session


@dataclass(frozen=True)
class Event:
    """Base class of every event."""


@dataclass(frozen=True)
class HandshakeComplete(Event):
    """Both Finished messages are verified; application data may flow."""

    version: int
    """0x0304 (TLS 1.3) or 0x0303 (TLS 1.2)."""
    cipher_suite: CipherSuite
    group: NamedGroup | None
    """The (EC)DHE group; None for TLS 1.2 RSA key exchange."""
    signature_scheme: SignatureScheme | None
    """CertificateVerify's (1.3) or ServerKeyExchange's (1.2) scheme; None for RSA key exchange."""
    alpn_protocol: bytes | None
    server_name: str | None
    hello_retry_request: bool
    peer_certificates: tuple[bytes, ...] = field(repr=False)
    """The peer's chain (DER, leaf first): the server's on the client; on the server the
    client's certificate if it sent one. Empty on a resumed handshake."""
    extended_master_secret: bool = False
    """TLS 1.2: both sides offered RFC 7627 and the master secret is the extended one."""
    resumed: bool = False
    """The handshake resumed a session (TLS 1.3 PSK, TLS 1.2 session ID or ticket)."""


@dataclass(frozen=True)
class ApplicationData(Event):
    """Decrypted application data (possibly several records joined)."""

    data: bytes


@dataclass(frozen=True)
class AlertReceived(Event):
    """The peer sent an alert (every alert but close_notify/user_canceled is fatal)."""

    level: int
    description: int


@dataclass(frozen=True)
class KeyUpdateReceived(Event):
    """The peer moved to its next traffic secret (RFC 8446 §4.6.3)."""

    update_requested: bool


@dataclass(frozen=True)
class SessionTicketReceived(Event):
    """A TLS 1.3 NewSessionTicket arrived; ``session`` resumes it (``ClientConfig.session``)."""

    lifetime: int
    session: Session | None = field(default=None, repr=False)


@dataclass(frozen=True)
class ConnectionClosed(Event):
    """Nothing more will be read: closure alert, fatal alert (either side) or end of stream."""

    error: AlertDescription | int | None
    """None for a clean close_notify; else the alert that ended the connection."""
    by_peer: bool
    """True when the peer closed or sent the alert; False when we detected an error."""
    reason: str = ""
