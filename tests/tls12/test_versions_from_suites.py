"""A version with no suite configured is neither offered (client) nor negotiated (server)."""

from __future__ import annotations

from tls_peers import pump

from tlsbench.tls import (
    CipherSuite,
    ClientConfig,
    ClientConnection,
    HandshakeComplete,
    ServerConfig,
    ServerConnection,
)
from tlsbench.tls.certs import CredentialFiles
from tlsbench.tls.constants import DOWNGRADE_TLS12, TLS12, TLS13, ExtensionType
from tlsbench.tls.messages import ClientHello, ServerHello

RSA_KX = CipherSuite.TLS_RSA_WITH_AES_128_GCM_SHA256


def _hello_body(data: bytes) -> bytes:
    """The first handshake message's body in the first record (a flight may share it)."""
    return data[5 + 4 : 5 + 4 + int.from_bytes(data[6:9], "big")]


def test_client_with_only_tls12_suites_sends_a_tls12_hello() -> None:
    client = ClientConnection(
        ClientConfig(verify=False, cipher_suites=(RSA_KX,), versions=(TLS13, TLS12))
    )
    hello = ClientHello.decode(_hello_body(client.data_to_send()))
    assert client.versions == (TLS12,)
    assert ExtensionType.SUPPORTED_VERSIONS not in hello.extensions
    assert ExtensionType.KEY_SHARE not in hello.extensions


def test_server_with_only_tls12_suites_negotiates_tls12_without_the_sentinel(
    credentials: dict[str, CredentialFiles],
) -> None:
    files = credentials["rsa2048"]
    server = ServerConnection(
        ServerConfig.from_files(files.cert_file, files.key_file, cipher_suites=(RSA_KX,))
    )
    # A client that offers both versions, as openssl s_client does by default.
    client = ClientConnection(
        ClientConfig(
            server_name="localhost",
            ca_file=files.ca_file,
            cipher_suites=(CipherSuite.TLS_AES_128_GCM_SHA256, RSA_KX),
            versions=(TLS13, TLS12),
        )
    )
    server.receive_data(client.data_to_send())
    flight = server.data_to_send()
    server_hello = ServerHello.decode(_hello_body(flight))
    assert server_hello.random[-8:] != DOWNGRADE_TLS12  # it does not speak TLS 1.3 here
    client_events = client.receive_data(flight)
    client_events += pump(client, server)[0]
    done = [e for e in client_events if isinstance(e, HandshakeComplete)]
    assert [(d.version, d.cipher_suite) for d in done] == [(TLS12, RSA_KX)]
