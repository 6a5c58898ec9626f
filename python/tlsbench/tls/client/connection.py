"""The client: its first state picks the version from the ServerHello.

ExpectServerHello hands a TLS 1.3 ServerHello to ``tls13`` (returning here after a
HelloRetryRequest) and a TLS 1.2 one to ``tls12``.
"""

from __future__ import annotations

from ..alerts import ProtocolError
from ..connection import State
from ..constants import TLS12, AlertDescription, ExtensionType, HandshakeType, NamedGroup
from ..messages import Handshake, ServerHello
from . import tls12, tls13
from .base import ClientBase
from .config import ClientConfig


class ExpectServerHello(State):
    """Waits for ServerHello or HelloRetryRequest (§4.1.3, §4.1.4; RFC 5246 §7.4.1.3)."""

    def __init__(self, conn: ClientBase, retry_group: NamedGroup | None = None) -> None:
        self.conn = conn
        self.retry_group = retry_group

    def handle(self, message: Handshake) -> State:
        """Pick the version; check the hello, derive keys (or answer the retry request)."""
        if message.msg_type != HandshakeType.SERVER_HELLO:
            return super().handle(message)
        conn = self.conn
        hello = ServerHello.decode(message.body)
        if ExtensionType.SUPPORTED_VERSIONS not in hello.extensions or not conn.offers_tls13:
            if TLS12 in conn.versions and self.retry_group is None:
                return tls12.server_hello(conn, hello, message)  # the TLS 1.2 ladder
            raise ProtocolError(AlertDescription.PROTOCOL_VERSION, "server does not speak TLS 1.3")
        tls13.check_server_hello(conn, hello)
        if hello.is_hello_retry_request:
            return ExpectServerHello(conn, tls13.retry(conn, hello, message))
        return tls13.server_hello(conn, hello, message, self.retry_group)


class ClientConnection(ClientBase):
    """Sans-I/O TLS client (1.3 and 1.2); the first ClientHello is queued on construction."""

    def __init__(self, config: ClientConfig) -> None:
        super().__init__(config)
        self._state = ExpectServerHello(self)
