"""TLS 1.2 against tlslite-ng 0.8.2 (pure Python), in a thread of this process.

tlslite-ng moves well under 1 MB/s here, so the matrix deals its cases out to the
providers in turn and sends 64 KiB each way; one case per role moves 1 MiB.
"""

from __future__ import annotations

import os
import socket
from typing import Any

import pytest
from tls_peers import (
    MIB,
    PROVIDERS,
    TLSLITE_GROUP,
    TLSLITE_KEY_EXCHANGE,
    PeerThread,
    listener,
    matrix12,
    tls12_client_groups,
    tlslite,
    tlslite_cipher,
)

from tlsbench.tls import CipherSuite, ClientConfig, NamedGroup, ServerConfig
from tlsbench.tls.certs import CredentialFiles
from tlsbench.tls.constants import TLS12, key_exchange
from tlsbench.tls.driver import accept, connect

MATRIX_BYTES = 64 << 10


def _settings(suite: CipherSuite, groups: tuple[NamedGroup, ...]) -> Any:
    """TLS 1.2 only, one cipher and key exchange, the given curves; EMS on (its default)."""
    settings = tlslite().HandshakeSettings()
    settings.minVersion = settings.maxVersion = (3, 3)
    settings.cipherNames = [tlslite_cipher(suite)]
    settings.keyExchangeNames = [TLSLITE_KEY_EXCHANGE[key_exchange(suite)]]
    settings.eccCurves = [TLSLITE_GROUP[g] for g in groups]
    settings.keyShares = []  # TLS 1.3 only
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
    files: CredentialFiles, provider: str, suite: CipherSuite, group: NamedGroup | None, size: int
) -> None:
    api = tlslite()
    data = os.urandom(size)
    chain = api.X509CertChain()
    chain.parsePemList(files.cert_file.read_text())
    key = api.parsePEMKey(files.key_file.read_text(), private=True)
    settings = _settings(suite, (group,) if group is not None else (NamedGroup.X25519,))
    with listener() as sock:

        def echo_server() -> tuple[bool, bytes]:
            raw, _ = sock.accept()
            raw.settimeout(60)
            conn = api.TLSConnection(raw)
            conn.handshakeServer(certChain=chain, privateKey=key, settings=settings)
            received = _read_exactly(conn, len(data))
            conn.write(received)
            assert conn.read() == b""  # our close_notify
            conn.close()
            return bool(conn.session.extendedMasterSecret), received

        peer = PeerThread(echo_server)
        config = ClientConfig(
            server_name="localhost",
            ca_file=files.ca_file,
            cipher_suites=(suite,),
            groups=tls12_client_groups(suite, group),
            provider=provider,
            versions=(TLS12,),
        )
        stream = connect("127.0.0.1", sock.getsockname()[1], config, timeout=60)
        hs = stream.handshake
        assert hs is not None
        assert (hs.version, hs.cipher_suite, hs.group) == (TLS12, suite, group)
        assert hs.extended_master_secret
        stream.send(data)
        assert stream.recv_exactly(len(data)) == data
        stream.close()
        assert peer.outcome(120) == (True, data)


def _server_case(
    files: CredentialFiles, provider: str, suite: CipherSuite, group: NamedGroup | None, size: int
) -> None:
    api = tlslite()
    data = os.urandom(size)
    config = ServerConfig.from_files(
        files.cert_file,
        files.key_file,
        cipher_suites=(suite,),
        groups=(group or NamedGroup.X25519,),
        provider=provider,
    )
    settings = _settings(suite, tls12_client_groups(suite, group))
    with listener() as sock:
        port = sock.getsockname()[1]

        def client() -> tuple[bool, bytes]:
            raw = socket.create_connection(("127.0.0.1", port), timeout=60)
            conn = api.TLSConnection(raw)
            conn.handshakeClientCert(settings=settings, serverName="localhost")
            conn.write(data)
            echoed = _read_exactly(conn, len(data))
            conn.close()
            return bool(conn.session.extendedMasterSecret), echoed

        peer = PeerThread(client)
        stream = accept(sock, config, timeout=60)
        hs = stream.handshake
        assert hs is not None
        assert (hs.version, hs.cipher_suite, hs.group) == (TLS12, suite, group)
        assert hs.extended_master_secret
        received = stream.recv_exactly(len(data))
        assert received == data
        stream.send(received)
        assert stream.recv() == b""  # tlslite's close_notify
        stream.close()
        assert peer.outcome(120) == (True, data)


@pytest.mark.parametrize(("provider", "suite", "group", "cert"), matrix12(PROVIDERS))
def test_client_against_tlslite_server(
    credentials: dict[str, CredentialFiles],
    provider: str,
    suite: CipherSuite,
    group: NamedGroup | None,
    cert: str,
) -> None:
    _client_case(credentials[cert], provider, suite, group, MATRIX_BYTES)


@pytest.mark.parametrize(("provider", "suite", "group", "cert"), matrix12(PROVIDERS[::-1]))
def test_server_against_tlslite_client(
    credentials: dict[str, CredentialFiles],
    provider: str,
    suite: CipherSuite,
    group: NamedGroup | None,
    cert: str,
) -> None:
    _server_case(credentials[cert], provider, suite, group, MATRIX_BYTES)


def test_client_against_tlslite_server_one_mib(credentials: dict[str, CredentialFiles]) -> None:
    _client_case(
        credentials["rsa2048"],
        "python",
        CipherSuite.TLS_RSA_WITH_AES_128_GCM_SHA256,
        None,
        MIB,
    )


def test_server_against_tlslite_client_one_mib(credentials: dict[str, CredentialFiles]) -> None:
    _server_case(
        credentials["ecdsa-p256"],
        "rust",
        CipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        NamedGroup.SECP256R1,
        MIB,
    )
