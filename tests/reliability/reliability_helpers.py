"""Raw-socket helpers of the reliability tests (a misbehaving peer's tools)."""

from __future__ import annotations

import socket
from typing import Any, Protocol

from tlsbench.tls import ClientConfig


class Running(Protocol):
    """What the ``start_server`` fixture returns."""

    port: int
    log: list[str]
    server: Any
    thread: Any

    def failures(self) -> dict[str, int]: ...


def read_until_closed(sock: socket.socket, timeout: float = 5.0) -> tuple[bytes, str]:
    """Everything the server sends until it closes: the bytes, and ``eof`` or ``reset``."""
    sock.settimeout(timeout)
    data = bytearray()
    while True:
        try:
            chunk = sock.recv(1 << 16)
        except ConnectionResetError:
            return bytes(data), "reset"
        if not chunk:
            return bytes(data), "eof"
        data += chunk


def plaintext_alert(data: bytes) -> int | None:
    """The description of a plaintext alert record at the start of ``data``, else None."""
    if len(data) >= 7 and data[0] == 21 and data[3:5] == b"\x00\x02":
        return data[6]
    return None


def raw_connect(port: int) -> socket.socket:
    """A plain TCP connection to our server."""
    return socket.create_connection(("127.0.0.1", port), timeout=5)


def client_hello(config: ClientConfig) -> bytes:
    """A real ClientHello record from our client."""
    from tlsbench.tls import ClientConnection

    return ClientConnection(config).data_to_send()
