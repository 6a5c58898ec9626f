"""The server: its first state picks the version from the ClientHello (§4.2.1).

A TLS 1.3 ClientHello goes to ``tls13`` (coming back here after a
HelloRetryRequest), a TLS 1.2 one to ``tls12``.
"""

from __future__ import annotations

from collections.abc import Set

from .. import extensions as ext
from ..alerts import ProtocolError
from ..connection import State
from ..constants import SSL3, TLS12, TLS13, AlertDescription, ExtensionType, HandshakeType
from ..messages import ClientHello, Handshake
from . import tls12, tls13
from .base import ServerBase
from .config import ServerConfig


def _fail(alert: AlertDescription, message: str) -> ProtocolError:
    return ProtocolError(alert, message)


def select_version(ours: Set[int], hello: ClientHello) -> int:
    """The highest of ``ours`` the client speaks (§4.2.1; RFC 5246 Appendix E.1 without it)."""
    if hello.legacy_version < SSL3:  # not even SSL 3.0: refused whatever else it offers
        shown = f"{hello.legacy_version:#06x}"
        raise _fail(AlertDescription.PROTOCOL_VERSION, f"legacy_version {shown}")
    versions = hello.extensions.get(ExtensionType.SUPPORTED_VERSIONS)
    if versions is not None:  # §4.2.1: then legacy_version is otherwise ignored
        offered = ext.decode_supported_versions_client(versions)
    else:
        offered = [TLS12] if hello.legacy_version >= TLS12 else []
    for version in (TLS13, TLS12):
        if version in ours and version in offered:
            return version
    raise _fail(AlertDescription.PROTOCOL_VERSION, "no version in common")


class ExpectClientHello(State):
    """Waits for a ClientHello (§4.1.2), or the second one after a HelloRetryRequest."""

    def __init__(self, conn: ServerBase, retry: tls13.Retry | None = None) -> None:
        self.conn = conn
        self.retry = retry

    def handle(self, message: Handshake) -> State:
        """Negotiate, then send ServerHello through Finished (or a HelloRetryRequest)."""
        if message.msg_type != HandshakeType.CLIENT_HELLO:
            return super().handle(message)
        conn = self.conn
        hello = ClientHello.decode(message.body)
        version = select_version(conn.spoken_versions, hello)
        if version == TLS12:
            if self.retry is not None:  # §4.1.4: ClientHello2 must still offer TLS 1.3
                raise _fail(AlertDescription.ILLEGAL_PARAMETER, "ClientHello2 without TLS 1.3")
            return tls12.client_hello(conn, hello, message)
        answer = tls13.client_hello(conn, hello, message, self.retry)
        if isinstance(answer, tls13.Retry):
            return ExpectClientHello(conn, answer)
        return answer


class ServerConnection(ServerBase):
    """Sans-I/O TLS server (1.3 and 1.2); it waits for a ClientHello."""

    def __init__(self, config: ServerConfig) -> None:
        super().__init__(config)
        self._state = ExpectClientHello(self)
