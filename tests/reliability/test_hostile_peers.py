"""Hostile peers end in the right alert and a closed connection; nothing reaches the others."""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Callable

import pytest
from reliability_helpers import (
    Running,
    client_hello,
    plaintext_alert,
    raw_connect,
    read_until_closed,
)

from tlsbench.server import ServerLimits
from tlsbench.tls import AlertDescription, ClientConfig
from tlsbench.tls.driver import connect


def _wait_for_failure(run: object, reason: str, count: int = 1) -> None:
    end = time.monotonic() + 3
    while time.monotonic() < end:
        if run.failures().get(reason, 0) >= count:  # type: ignore[attr-defined]
            return
        time.sleep(0.01)
    raise AssertionError(f"no {reason!r} in {run.failures()}")  # type: ignore[attr-defined]


def _echo_works(port: int, config: ClientConfig) -> None:
    with connect("127.0.0.1", port, config) as stream:
        stream.send(b"still here")
        assert stream.recv_exactly(10) == b"still here"


@pytest.mark.parametrize(
    ("data", "alert"),
    [
        (b"GET / HTTP/1.1\r\nhost: x\r\n\r\n", AlertDescription.UNEXPECTED_MESSAGE),
        (b"\x16\x02\x00\x00\x05hello", AlertDescription.PROTOCOL_VERSION),
        (b"\x16\x03\x01\x00\x00", AlertDescription.UNEXPECTED_MESSAGE),  # empty record
        (b"\x16\x03\x01\x00\x08\x01\x00\x00\x04\x03\x03\xff\xff", AlertDescription.DECODE_ERROR),
        (b"\x15\x03\x01\x00\x02\x02\x28", AlertDescription.HANDSHAKE_FAILURE),  # theirs
    ],
    ids=["http", "not-tls", "empty-record", "short-hello", "peer-alert"],
)
def test_garbage_gets_an_alert_and_the_server_goes_on(
    start_server: Callable[..., Running], client_config: ClientConfig, data: bytes, alert: int
) -> None:
    run = start_server()
    with raw_connect(run.port) as sock:
        sock.sendall(data)
        received, how = read_until_closed(sock)
    if data[0] == 0x15:  # the peer's own fatal alert: we close without answering
        assert received == b"" and how == "eof"
        _wait_for_failure(run, "received handshake_failure")
    else:
        assert plaintext_alert(received) == alert and how == "eof"
        _wait_for_failure(run, f"sent {AlertDescription(alert).name.lower()}")
    _echo_works(run.port, client_config)


def test_truncated_and_reset_connections_are_counted(
    start_server: Callable[..., Running], client_config: ClientConfig
) -> None:
    run = start_server()
    hello = client_hello(client_config)
    with raw_connect(run.port) as sock:  # a truncated record, then end of stream
        sock.sendall(hello[:50])
        sock.shutdown(socket.SHUT_WR)
        assert read_until_closed(sock) == (b"", "eof")
    _wait_for_failure(run, "eof in handshake")
    sock = raw_connect(run.port)  # a whole ClientHello, the reply read, then a TCP reset
    sock.sendall(hello)
    assert sock.recv(5)[:1] == b"\x16"
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
    _wait_for_failure(run, "reset")
    assert run.server.stats.connections == 2 and run.server.active == 0
    _echo_works(run.port, client_config)


class _Boom:
    """A handler that fails on its first data."""

    def on_data(self, data: bytes) -> tuple[bytes, bool]:
        if data.startswith(b"boom"):
            raise RuntimeError("boom")
        return data, False


def test_an_exception_stays_inside_its_connection(
    start_server: Callable[..., Running], client_config: ClientConfig
) -> None:
    run = start_server(handler=_Boom)
    bystander = connect("127.0.0.1", run.port, client_config)
    victim = connect("127.0.0.1", run.port, client_config)
    victim.send(b"boom")
    assert victim.recv() == b""  # closed; the bug did not reach the loop
    _wait_for_failure(run, "internal error")
    assert any("failed: internal error (RuntimeError: boom)" in line for line in run.log)
    bystander.send(b"fine")  # the other connection is untouched
    assert bystander.recv_exactly(4) == b"fine"
    bystander.close()
    _echo_works(run.port, client_config)


def test_shutdown_closes_what_is_left_and_counts_it(
    start_server: Callable[..., Running], client_config: ClientConfig
) -> None:
    run = start_server(ServerLimits(handshake_timeout=30))
    stream = connect("127.0.0.1", run.port, client_config)
    with raw_connect(run.port) as sock:
        sock.sendall(client_hello(client_config)[:20])
        while run.server.active < 2:
            time.sleep(0.01)
        run.server.stop()
        assert stream.recv() == b""  # the established one gets close_notify
        assert stream.closed is not None and stream.closed.error is None
        stream.close()
        assert read_until_closed(sock)[0] == b""  # the half-open one is closed at the end
    run.thread.join(3)
    assert not run.thread.is_alive()
    assert run.failures() == {"server shutdown": 1}
