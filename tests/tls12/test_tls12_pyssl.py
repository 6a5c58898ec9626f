"""TLS 1.2 against Python's ``ssl`` (OpenSSL), in a thread of this process."""

from __future__ import annotations

import os
import socket

import pytest
from tls_peers import (
    MIB,
    OPENSSL_CIPHER,
    SSL_CURVE,
    PeerThread,
    listener,
    matrix12,
    recv_exactly,
    ssl_client_context,
    ssl_server_context,
    tls12_client_groups,
)

from tlsbench.tls import CipherSuite, ClientConfig, NamedGroup, ServerConfig
from tlsbench.tls.certs import CredentialFiles
from tlsbench.tls.constants import TLS12
from tlsbench.tls.driver import accept, connect


@pytest.mark.parametrize(("provider", "suite", "group", "cert"), matrix12())
def test_client_against_ssl_server(
    credentials: dict[str, CredentialFiles],
    provider: str,
    suite: CipherSuite,
    group: NamedGroup | None,
    cert: str,
) -> None:
    files = credentials[cert]
    data = os.urandom(MIB)
    ctx = ssl_server_context(files.cert_file, files.key_file, tls12_suite=suite)
    if group is not None:
        ctx.set_ecdh_curve(SSL_CURVE[group])
    with listener() as sock:

        def echo_server() -> bytes:
            raw, _ = sock.accept()
            raw.settimeout(30)
            with ctx.wrap_socket(raw, server_side=True) as tls:
                received = recv_exactly(tls.recv, len(data))
                tls.sendall(received)
                assert tls.recv(1) == b""  # our close_notify
                tls.unwrap()
                return received

        peer = PeerThread(echo_server)
        config = ClientConfig(
            server_name="localhost",
            ca_file=files.ca_file,
            cipher_suites=(suite,),
            groups=tls12_client_groups(suite, group),
            provider=provider,
            versions=(TLS12,),
        )
        stream = connect("127.0.0.1", sock.getsockname()[1], config)
        hs = stream.handshake
        assert hs is not None
        assert (hs.version, hs.cipher_suite, hs.group) == (TLS12, suite, group)
        assert hs.extended_master_secret
        stream.send(data)
        assert stream.recv_exactly(len(data)) == data
        stream.close()
        assert peer.outcome() == data
        assert stream.closed is not None and stream.closed.error is None


@pytest.mark.parametrize(("provider", "suite", "group", "cert"), matrix12())
def test_server_against_ssl_client(
    credentials: dict[str, CredentialFiles],
    provider: str,
    suite: CipherSuite,
    group: NamedGroup | None,
    cert: str,
) -> None:
    files = credentials[cert]
    data = os.urandom(MIB)
    # Python ssl takes one group only; for ECDSA with x25519 its defaults (x25519 and
    # P-256 among them) are kept and our server's single group decides.
    only_group = group if tls12_client_groups(suite, group) == (group,) else None
    ctx = ssl_client_context(files.ca_file, only_group, tls12_suite=suite)
    config = ServerConfig.from_files(
        files.cert_file,
        files.key_file,
        cipher_suites=(suite,),
        groups=(group or NamedGroup.X25519,),
        provider=provider,
    )
    with listener() as sock:
        port = sock.getsockname()[1]

        def client() -> tuple[str | None, str | None, bytes]:
            raw = socket.create_connection(("127.0.0.1", port), timeout=30)
            with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
                tls.sendall(data)
                echoed = recv_exactly(tls.recv, len(data))
                cipher = tls.cipher()
                version = tls.version()
                tls.unwrap()
                return (cipher[0] if cipher else None), version, echoed

        peer = PeerThread(client)
        stream = accept(sock, config)
        hs = stream.handshake
        assert hs is not None
        assert (hs.version, hs.cipher_suite, hs.group) == (TLS12, suite, group)
        assert hs.extended_master_secret and hs.server_name == "localhost"
        received = stream.recv_exactly(len(data))
        assert received == data
        stream.send(received)
        assert stream.recv() == b""  # the client's close_notify
        stream.close()
        cipher_name, version, echoed = peer.outcome()
        assert (cipher_name, version) == (OPENSSL_CIPHER[suite], "TLSv1.2")
        assert echoed == data
        assert stream.closed is not None and stream.closed.error is None
