"""Our client and server against tlslite-ng 0.8.2 (pure Python), in a thread of this process.

tlslite-ng runs its own pure-Python AES-GCM/ChaCha20 (well under 1 MB/s here), so the
matrix sends 64 KiB each way; one case per role moves 1 MiB.
"""

from __future__ import annotations

import os
import socket
from typing import Any

import pytest
from tls_peers import (
    MIB,
    TLSLITE_GROUP,
    TLSLITE_SUITE,
    PeerThread,
    listener,
    matrix,
    tlslite,
)

from tlsbench.tls import CipherSuite, ClientConfig, NamedGroup, ServerConfig
from tlsbench.tls.certs import CredentialFiles
from tlsbench.tls.driver import accept, connect

MATRIX_BYTES = 64 << 10


def _settings(suite: CipherSuite | None = None, group: NamedGroup | None = None) -> Any:
    api = tlslite()
    settings = api.HandshakeSettings()
    settings.minVersion = (3, 4)
    settings.maxVersion = (3, 4)
    if suite is not None:
        settings.cipherNames = [TLSLITE_SUITE[suite]]
    if group is not None:
        settings.eccCurves = [TLSLITE_GROUP[group]]
        settings.keyShares = [TLSLITE_GROUP[group]]
    return settings


def _read_exactly(conn: Any, size: int) -> bytes:
    out = bytearray()
    while len(out) < size:
        chunk = conn.read(max=size - len(out))
        if not chunk:
            raise EOFError(f"stream ended after {len(out)} of {size} bytes")
        out += chunk
    return bytes(out)


def _client_case(
    files: CredentialFiles, provider: str, suite: CipherSuite, group: NamedGroup, size: int
) -> None:
    api = tlslite()
    data = os.urandom(size)
    chain = api.X509CertChain()
    chain.parsePemList(files.cert_file.read_text())
    key = api.parsePEMKey(files.key_file.read_text(), private=True)
    with listener() as sock:

        def echo_server() -> bytes:
            raw, _ = sock.accept()
            raw.settimeout(60)
            conn = api.TLSConnection(raw)
            conn.handshakeServer(certChain=chain, privateKey=key, settings=_settings())
            received = _read_exactly(conn, len(data))
            conn.write(received)
            assert conn.read() == b""  # our close_notify
            conn.close()
            return received

        peer = PeerThread(echo_server)
        config = ClientConfig(
            server_name="localhost",
            ca_file=files.ca_file,
            cipher_suites=(suite,),
            groups=(group,),
            provider=provider,
        )
        stream = connect("127.0.0.1", sock.getsockname()[1], config, timeout=60)
        assert stream.handshake is not None
        assert (stream.handshake.cipher_suite, stream.handshake.group) == (suite, group)
        stream.send(data)
        assert stream.recv_exactly(len(data)) == data
        stream.close()
        assert peer.outcome(120) == data


def _server_case(
    files: CredentialFiles, provider: str, suite: CipherSuite, group: NamedGroup, size: int
) -> None:
    api = tlslite()
    data = os.urandom(size)
    config = ServerConfig.from_files(
        files.cert_file, files.key_file, cipher_suites=(suite,), groups=(group,), provider=provider
    )
    with listener() as sock:
        port = sock.getsockname()[1]

        def client() -> bytes:
            raw = socket.create_connection(("127.0.0.1", port), timeout=60)
            conn = api.TLSConnection(raw)
            conn.handshakeClientCert(settings=_settings(suite, group), serverName="localhost")
            conn.write(data)
            echoed = _read_exactly(conn, len(data))
            conn.close()
            return echoed

        peer = PeerThread(client)
        stream = accept(sock, config, timeout=60)
        assert stream.handshake is not None
        assert (stream.handshake.cipher_suite, stream.handshake.group) == (suite, group)
        received = stream.recv_exactly(len(data))
        assert received == data
        stream.send(received)
        assert stream.recv() == b""  # tlslite's close_notify
        stream.close()
        assert peer.outcome(120) == data


@pytest.mark.parametrize(("provider", "suite", "group", "cert"), matrix())
def test_client_against_tlslite_server(
    credentials: dict[str, CredentialFiles],
    provider: str,
    suite: CipherSuite,
    group: NamedGroup,
    cert: str,
) -> None:
    _client_case(credentials[cert], provider, suite, group, MATRIX_BYTES)


@pytest.mark.parametrize(("provider", "suite", "group", "cert"), matrix())
def test_server_against_tlslite_client(
    credentials: dict[str, CredentialFiles],
    provider: str,
    suite: CipherSuite,
    group: NamedGroup,
    cert: str,
) -> None:
    _server_case(credentials[cert], provider, suite, group, MATRIX_BYTES)


def test_client_against_tlslite_server_one_mib(credentials: dict[str, CredentialFiles]) -> None:
    _client_case(
        credentials["ecdsa-p256"],
        "rust",
        CipherSuite.TLS_AES_128_GCM_SHA256,
        NamedGroup.X25519,
        MIB,
    )


def test_server_against_tlslite_client_one_mib(credentials: dict[str, CredentialFiles]) -> None:
    _server_case(
        credentials["rsa2048"],
        "cryptography",
        CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
        NamedGroup.SECP256R1,
        MIB,
    )
