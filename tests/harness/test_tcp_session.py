"""The plain-TCP reference session keeps the socket's timeout in the kernel, as our
driver does, and still times out on a silent peer."""

from __future__ import annotations

import socket
import sys

import pytest

from tlsbench.harness.impls import TcpSession


def test_tcp_session_bytes_through_and_timeouts() -> None:
    a, b = socket.socketpair()
    a.settimeout(0.3)
    with b:
        session = TcpSession(a)
        if sys.platform.startswith("linux"):
            assert a.gettimeout() is None  # blocking, SO_RCVTIMEO/SO_SNDTIMEO set
        session.send(b"ping")
        assert b.recv(4) == b"ping"
        b.sendall(b"pong")
        assert session.recv(4) == b"pong"
        with pytest.raises(TimeoutError):
            session.recv(4)  # the peer sends nothing more
        b.shutdown(socket.SHUT_WR)
        session.close()
        assert a.fileno() == -1
