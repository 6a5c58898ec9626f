"""TLS 1.3 (RFC 8446) and TLS 1.2 (RFC 5246) protocol engine: sans-I/O client and server."""

from __future__ import annotations

from .alerts import ProtocolError
from .client import ClientConfig, ClientConnection
from .connection import TlsUsageError
from .constants import AlertDescription, CipherSuite, NamedGroup, SignatureScheme
from .events import (
    AlertReceived,
    ApplicationData,
    ConnectionClosed,
    Event,
    HandshakeComplete,
    KeyUpdateReceived,
    SessionTicketReceived,
)
from .server import ServerCertificate, ServerConfig, ServerConnection

__all__ = [
    "AlertDescription",
    "AlertReceived",
    "ApplicationData",
    "CipherSuite",
    "ClientConfig",
    "ClientConnection",
    "ConnectionClosed",
    "Event",
    "HandshakeComplete",
    "KeyUpdateReceived",
    "NamedGroup",
    "ProtocolError",
    "ServerCertificate",
    "ServerConfig",
    "ServerConnection",
    "SessionTicketReceived",
    "SignatureScheme",
    "TlsUsageError",
]
