"""TlsStream's socket I/O: large writes sealed and sent in pieces, the socket's timeout
kept by the kernel, and a peer that stops reading or writing still timing us out."""

from __future__ import annotations

import os
import socket
import struct
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tlsbench.tls import ClientConfig, ServerConfig
from tlsbench.tls.certs import CredentialFiles
from tlsbench.tls.driver import SEND_PIECE, TlsStream, accept, connect, kernel_timeouts

LINUX = sys.platform.startswith("linux")


def _configs(files: CredentialFiles, provider: str) -> tuple[ServerConfig, ClientConfig]:
    server = ServerConfig.from_files(files.cert_file, files.key_file, provider=provider)
    client = ClientConfig(server_name="localhost", ca_file=files.ca_file, provider=provider)
    return server, client


@contextmanager
def _pair(
    files: CredentialFiles, provider: str = "rust", timeout: float = 10.0
) -> Iterator[tuple[TlsStream, TlsStream]]:
    """A connected (client, server) pair of streams, both with ``timeout``."""
    server_config, client_config = _configs(files, provider)
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[TlsStream] = []
    thread = threading.Thread(
        target=lambda: accepted.append(accept(listener, server_config, timeout=timeout))
    )
    thread.start()
    try:
        client = connect("127.0.0.1", listener.getsockname()[1], client_config, timeout=timeout)
    finally:
        thread.join(10)
        listener.close()
    try:
        yield client, accepted[0]
    finally:
        client.sock.close()
        accepted[0].sock.close()


@pytest.mark.parametrize(
    ("provider", "size"), [("rust", 3 * SEND_PIECE + 1000), ("python", SEND_PIECE + 7)]
)
def test_a_large_send_arrives_whole_and_in_order(
    credentials: dict[str, CredentialFiles], provider: str, size: int
) -> None:
    """A write longer than a piece is sealed and sent piece by piece; the peer gets every
    byte, in order, and the records are those of one write (full 2^14-byte records)."""
    data = os.urandom(size)
    with _pair(credentials["ecdsa-p256"], provider) as (client, server):
        sent: list[int] = []
        real = client.sock

        class Recording:
            def sendall(self, chunk: bytes) -> None:
                sent.append(len(chunk))
                real.sendall(chunk)

        client.sock = Recording()  # type: ignore[assignment]
        got: list[bytes] = []
        reader = threading.Thread(target=lambda: got.append(server.recv_exactly(size)))
        reader.start()
        client.send(data)
        reader.join(60)
        client.sock = real
    assert got == [data]
    record = 5 + 16384 + 1 + 16  # TLS 1.3: header, plaintext, content type, tag
    pieces, rest = divmod(size, SEND_PIECE)
    tail = (rest // 16384) * record + (rest % 16384 + 5 + 1 + 16 if rest % 16384 else 0)
    assert sent == [SEND_PIECE // 16384 * record] * pieces + ([tail] if rest else [])


@pytest.mark.skipif(not LINUX, reason="the kernel keeps the timeouts on Linux only")
def test_the_socket_timeout_is_kept_by_the_kernel(credentials: dict[str, CredentialFiles]) -> None:
    """A socket handed over with a timeout is made blocking with the timeout as
    SO_RCVTIMEO/SO_SNDTIMEO: no poll before each call, the same bound."""
    with _pair(credentials["ecdsa-p256"], timeout=2.5) as (client, server):
        for stream in (client, server):
            assert stream.sock.gettimeout() is None
            for option in (socket.SO_RCVTIMEO, socket.SO_SNDTIMEO):
                raw = stream.sock.getsockopt(socket.SOL_SOCKET, option, 16)
                assert struct.unpack("@ll", raw) == (2, 500000)
        client.send(b"ping")
        assert server.recv_exactly(4) == b"ping"


def test_a_socket_without_timeout_is_left_alone() -> None:
    """No timeout, nothing to move: the socket stays as it was."""
    a, b = socket.socketpair()
    with a, b:
        assert a.gettimeout() is None
        assert not kernel_timeouts(a)
        a.settimeout(0.5)
        assert kernel_timeouts(a) == LINUX
        assert a.gettimeout() == (None if LINUX else 0.5)


def test_a_silent_peer_times_out_the_reader(credentials: dict[str, CredentialFiles]) -> None:
    """The peer completes the handshake and then sends nothing: recv raises TimeoutError."""
    with _pair(credentials["ecdsa-p256"], timeout=0.3) as (client, _server):
        with pytest.raises(TimeoutError):
            client.recv()


def test_a_peer_that_stops_reading_times_out_the_writer(
    credentials: dict[str, CredentialFiles],
) -> None:
    """The peer never reads: once the socket buffers are full the send times out
    (TimeoutError) and the stream closes its socket, as a record may be half sent."""
    with _pair(credentials["ecdsa-p256"], timeout=0.3) as (client, _server):
        with pytest.raises(TimeoutError):
            client.send(bytes(64 << 20))
        assert client.sock.fileno() == -1
        client.close()  # nothing left to do, and no error
