"""Our client and server against Python's ``ssl`` (OpenSSL), in a thread of this process."""

from __future__ import annotations

import os
import socket

import pytest
from tls_peers import (
    PeerThread,
    listener,
    matrix,
    payload_size,
    recv_exactly,
    ssl_client_context,
    ssl_server_context,
)

from tlsbench.tls import CipherSuite, ClientConfig, NamedGroup, ServerConfig
from tlsbench.tls.certs import CredentialFiles
from tlsbench.tls.driver import accept, connect


@pytest.mark.parametrize(("provider", "suite", "group", "cert"), matrix())
def test_client_against_ssl_server(
    credentials: dict[str, CredentialFiles],
    provider: str,
    suite: CipherSuite,
    group: NamedGroup,
    cert: str,
) -> None:
    files = credentials[cert]
    data = os.urandom(payload_size(provider))
    ctx = ssl_server_context(files.cert_file, files.key_file)
    with listener() as sock:

        def echo_server() -> bytes:
            raw, _ = sock.accept()
            raw.settimeout(30)
            with ctx.wrap_socket(raw, server_side=True) as tls:
                received = recv_exactly(tls.recv, len(data))
                tls.sendall(received)
                assert tls.recv(1) == b""  # our close_notify
                tls.unwrap()  # answers with its own
                return received

        peer = PeerThread(echo_server)
        config = ClientConfig(
            server_name="localhost",
            ca_file=files.ca_file,
            cipher_suites=(suite,),
            groups=(group,),
            provider=provider,
        )
        stream = connect("127.0.0.1", sock.getsockname()[1], config)
        assert stream.handshake is not None
        assert (stream.handshake.cipher_suite, stream.handshake.group) == (suite, group)
        stream.send(data)
        assert stream.recv_exactly(len(data)) == data
        stream.close()
        assert peer.outcome() == data
        assert stream.closed is not None and stream.closed.error is None


@pytest.mark.parametrize(("provider", "suite", "group", "cert"), matrix())
def test_server_against_ssl_client(
    credentials: dict[str, CredentialFiles],
    provider: str,
    suite: CipherSuite,
    group: NamedGroup,
    cert: str,
) -> None:
    files = credentials[cert]
    data = os.urandom(payload_size(provider))
    ctx = ssl_client_context(files.ca_file, group)
    config = ServerConfig.from_files(
        files.cert_file, files.key_file, cipher_suites=(suite,), groups=(group,), provider=provider
    )
    with listener() as sock:
        port = sock.getsockname()[1]

        def client() -> tuple[str | None, bytes]:
            raw = socket.create_connection(("127.0.0.1", port), timeout=30)
            with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
                tls.sendall(data)
                echoed = recv_exactly(tls.recv, len(data))
                cipher = tls.cipher()
                tls.unwrap()
                return (cipher[0] if cipher else None), echoed

        peer = PeerThread(client)
        stream = accept(sock, config)
        assert stream.handshake is not None
        assert (stream.handshake.cipher_suite, stream.handshake.group) == (suite, group)
        assert stream.handshake.server_name == "localhost"
        received = stream.recv_exactly(len(data))
        assert received == data
        stream.send(received)
        assert stream.recv() == b""  # the client's close_notify
        stream.close()
        suite_name, echoed = peer.outcome()
        assert suite_name == suite.name
        assert echoed == data
        assert stream.closed is not None and stream.closed.error is None
