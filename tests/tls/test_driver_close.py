"""TlsStream.close: at once after close_notify both ways; drained when the peer never answers."""

from __future__ import annotations

import socket
import threading
import time

from tlsbench.tls import ClientConfig, ServerConfig
from tlsbench.tls.certs import CredentialFiles
from tlsbench.tls.driver import accept, connect


def _config(files: CredentialFiles) -> tuple[ServerConfig, ClientConfig]:
    server = ServerConfig.from_files(files.cert_file, files.key_file, provider="rust")
    client = ClientConfig(server_name="localhost", ca_file=files.ca_file, provider="rust")
    return server, client


def test_close_after_two_way_close_notify_does_not_wait_for_the_fin(
    credentials: dict[str, CredentialFiles],
) -> None:
    """The server answers close_notify but keeps its socket open for 1.5 s: the client's
    close returns at once, and the server reads the client's end of stream, not a reset."""
    server_config, client_config = _config(credentials["ecdsa-p256"])
    listener = socket.create_server(("127.0.0.1", 0))
    seen: list[bytes] = []

    def serve() -> None:
        stream = accept(listener, server_config)
        assert stream.recv(10) == b""  # the client's close_notify, answered by the engine
        time.sleep(1.5)  # our FIN comes late
        seen.append(stream.sock.recv(10))  # the client's FIN: b"", no ConnectionResetError
        stream.sock.close()

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        stream = connect("127.0.0.1", listener.getsockname()[1], client_config)
        start = time.monotonic()
        stream.close()
        took = time.monotonic() - start
    finally:
        thread.join(10)
        listener.close()
    assert took < 1.0, f"close waited {took:.2f} s for the server's FIN"
    assert stream.sock.fileno() == -1
    assert seen == [b""]


def test_close_drains_when_the_peer_sends_no_close_notify(
    credentials: dict[str, CredentialFiles],
) -> None:
    """A peer that only shuts down its TCP side: the stream half-closes and reads to its
    end of stream before closing (the peer sees our close_notify, then our FIN)."""
    server_config, client_config = _config(credentials["ecdsa-p256"])
    listener = socket.create_server(("127.0.0.1", 0))
    seen: list[bytes] = []

    def serve() -> None:
        stream = accept(listener, server_config)
        stream.send(b"go")  # the client closes after this, so accept() read no further
        raw = stream.sock
        seen.append(raw.recv(100))  # our client's close_notify record, read raw
        raw.shutdown(socket.SHUT_WR)  # no close_notify back, just a FIN
        seen.append(raw.recv(100))  # then the client's FIN
        raw.close()

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        stream = connect("127.0.0.1", listener.getsockname()[1], client_config)
        assert stream.recv_exactly(2) == b"go"
        stream.close()
    finally:
        thread.join(10)
        listener.close()
    assert not thread.is_alive()
    assert seen[0][:1] == b"\x17" and seen[1] == b""  # a protected alert, then end of stream
    assert stream.closed is not None and stream.closed.error is None
    assert stream.sock.fileno() == -1
