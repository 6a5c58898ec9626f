"""Our client against ``openssl s_server -tls1_3`` and our server against ``openssl s_client``."""

from __future__ import annotations

import os

import pytest
from tls_peers import OPENSSL_GROUP, listener, matrix, openssl_client, openssl_server, payload_size

from tlsbench.tls import AlertDescription, CipherSuite, ClientConfig, NamedGroup, ServerConfig
from tlsbench.tls.certs import CredentialFiles
from tlsbench.tls.constants import SignatureScheme
from tlsbench.tls.driver import TlsConnectionError, accept, connect
from tlsbench.tls.events import KeyUpdateReceived

EXPECTED_SCHEME = {
    "rsa2048": SignatureScheme.RSA_PSS_RSAE_SHA256,
    "ecdsa-p256": SignatureScheme.ECDSA_SECP256R1_SHA256,
}


@pytest.mark.parametrize(("provider", "suite", "group", "cert"), matrix())
def test_client_against_openssl_server(
    credentials: dict[str, CredentialFiles],
    provider: str,
    suite: CipherSuite,
    group: NamedGroup,
    cert: str,
) -> None:
    files = credentials[cert]
    up, down = os.urandom(payload_size(provider)), os.urandom(payload_size(provider))
    with openssl_server(files.cert_file, files.key_file) as (server, port):
        config = ClientConfig(
            server_name="localhost",
            ca_file=files.ca_file,
            cipher_suites=(suite,),
            groups=(group,),
            provider=provider,
        )
        stream = connect("127.0.0.1", port, config)
        hs = stream.handshake
        assert hs is not None
        assert (hs.cipher_suite, hs.group) == (suite, group)
        assert hs.signature_scheme == EXPECTED_SCHEME[cert]
        stream.send(up)
        assert server.stdout.wait_for(len(up)) == up, server.output()
        server.write(down)
        assert stream.recv_exactly(len(down)) == down
        stream.close()
        assert stream.closed is not None and stream.closed.error is None, stream.events
        assert server.wait() == 0, server.output()


@pytest.mark.parametrize(("provider", "suite", "group", "cert"), matrix())
def test_server_against_openssl_client(
    credentials: dict[str, CredentialFiles],
    provider: str,
    suite: CipherSuite,
    group: NamedGroup,
    cert: str,
) -> None:
    files = credentials[cert]
    up, down = os.urandom(payload_size(provider)), os.urandom(payload_size(provider))
    config = ServerConfig.from_files(files.cert_file, files.key_file, provider=provider)
    with listener() as sock:
        port = sock.getsockname()[1]
        args = ["-ciphersuites", suite.name, "-groups", OPENSSL_GROUP[group]]
        args += [
            "-CAfile",
            str(files.ca_file),
            "-verify_return_error",
            "-verify_hostname",
            "localhost",
        ]
        args += ["-servername", "localhost"]
        with openssl_client(port, args) as client:
            stream = accept(sock, config)
            hs = stream.handshake
            assert hs is not None
            assert (hs.cipher_suite, hs.group, hs.server_name) == (suite, group, "localhost")
            assert hs.signature_scheme == EXPECTED_SCHEME[cert]
            assert not hs.hello_retry_request
            client.write(up)
            assert stream.recv_exactly(len(up)) == up
            stream.send(down)
            assert client.stdout.wait_for(len(down)) == down, client.output()
            stream.close()
            client.close_stdin()
            assert client.wait() == 0, client.output()
            assert stream.closed is not None and stream.closed.error is None, stream.events


@pytest.mark.parametrize("provider", ["rust", "cryptography", "python"])
def test_hello_retry_request_client(credentials: dict[str, CredentialFiles], provider: str) -> None:
    """We offer an x25519 share; s_server accepts only P-256 and asks for it again."""
    files = credentials["ecdsa-p256"]
    with openssl_server(files.cert_file, files.key_file, ["-groups", "P-256"]) as (server, port):
        config = ClientConfig(
            server_name="localhost",
            ca_file=files.ca_file,
            groups=(NamedGroup.X25519, NamedGroup.SECP256R1),
            provider=provider,
        )
        stream = connect("127.0.0.1", port, config)
        assert stream.handshake is not None
        assert stream.handshake.hello_retry_request
        assert stream.handshake.group == NamedGroup.SECP256R1
        stream.send(b"after retry\n")
        assert server.stdout.wait_for(12) == b"after retry\n"
        stream.close()


@pytest.mark.parametrize("provider", ["rust", "cryptography", "python"])
def test_hello_retry_request_server(credentials: dict[str, CredentialFiles], provider: str) -> None:
    """s_client sends an x25519 share; we accept only secp384r1 and ask for it."""
    files = credentials["rsa2048"]
    config = ServerConfig.from_files(
        files.cert_file, files.key_file, groups=(NamedGroup.SECP384R1,), provider=provider
    )
    with listener() as sock:
        args = ["-groups", "X25519:P-384", "-CAfile", str(files.ca_file), "-verify_return_error"]
        with openssl_client(sock.getsockname()[1], args) as client:
            stream = accept(sock, config)
            assert stream.handshake is not None
            assert stream.handshake.hello_retry_request
            assert stream.handshake.group == NamedGroup.SECP384R1
            client.write(b"ping\n")
            assert stream.recv_exactly(5) == b"ping\n"
            stream.close()
            client.close_stdin()
            assert client.wait() == 0, client.output()


@pytest.mark.parametrize("provider", ["rust", "cryptography", "python"])
def test_key_update_client(credentials: dict[str, CredentialFiles], provider: str) -> None:
    """We update (requesting one back); s_server updates with and without a request ('k'/'K')."""
    files = credentials["ecdsa-p256"]
    with openssl_server(files.cert_file, files.key_file, quiet=False) as (server, port):
        config = ClientConfig(server_name="localhost", ca_file=files.ca_file, provider=provider)
        stream = connect("127.0.0.1", port, config)
        stream.key_update(request_peer=True)
        stream.send(b"one\n")
        assert server.stdout.wait_contains(b"one\n"), server.output()
        server.write(b"k\n", pause=0.2)
        server.write(b"K\n", pause=0.2)
        server.write(b"two\n")
        assert stream.recv_exactly(4) == b"two\n"
        stream.key_update(request_peer=False)
        stream.send(b"three\n")
        assert server.stdout.wait_contains(b"three\n"), server.output()
        updates = [e.update_requested for e in stream.events if isinstance(e, KeyUpdateReceived)]
        # OpenSSL folds its answer to our request into its next update ('k'); 'K' requests ours,
        # and "three" is read by s_server only if we answered it.
        assert updates[-1] is True and False in updates, stream.events
        stream.close()


@pytest.mark.parametrize("provider", ["rust", "cryptography", "python"])
def test_key_update_server(credentials: dict[str, CredentialFiles], provider: str) -> None:
    """s_client updates ('k', 'K'); we update too; data keeps flowing both ways."""
    files = credentials["rsa2048"]
    config = ServerConfig.from_files(files.cert_file, files.key_file, provider=provider)
    with listener() as sock:
        with openssl_client(
            sock.getsockname()[1], ["-CAfile", str(files.ca_file)], quiet=False
        ) as client:
            stream = accept(sock, config)
            client.write(b"k\n", pause=0.2)
            client.write(b"K\n", pause=0.2)
            client.write(b"one\n")
            assert stream.recv_exactly(4) == b"one\n"
            stream.key_update(request_peer=True)
            stream.send(b"two\n")
            assert client.stdout.wait_contains(b"two\n"), client.output()
            client.write(b"three\n")
            assert stream.recv_exactly(6) == b"three\n"
            updates = [
                e.update_requested for e in stream.events if isinstance(e, KeyUpdateReceived)
            ]
            assert updates == [False, True, False], stream.events
            stream.close()
            client.close_stdin()


def test_alpn_client(credentials: dict[str, CredentialFiles]) -> None:
    files = credentials["ecdsa-p256"]
    with openssl_server(files.cert_file, files.key_file, ["-alpn", "http/1.1"]) as (_server, port):
        config = ClientConfig(
            server_name="localhost", ca_file=files.ca_file, alpn_protocols=(b"h2", b"http/1.1")
        )
        stream = connect("127.0.0.1", port, config)
        assert stream.handshake is not None
        assert stream.handshake.alpn_protocol == b"http/1.1"
        stream.close()


def test_alpn_server(credentials: dict[str, CredentialFiles]) -> None:
    files = credentials["ecdsa-p256"]
    config = ServerConfig.from_files(files.cert_file, files.key_file, alpn_protocols=(b"h2",))
    with listener() as sock:
        args = ["-alpn", "http/1.1,h2", "-CAfile", str(files.ca_file)]
        with openssl_client(sock.getsockname()[1], args, quiet=False) as client:
            stream = accept(sock, config)
            assert stream.handshake is not None
            assert stream.handshake.alpn_protocol == b"h2"
            assert client.stdout.wait_contains(b"ALPN protocol: h2"), client.output()
            stream.close()
            client.close_stdin()


def test_certificate_request_answered_with_empty_certificate(
    credentials: dict[str, CredentialFiles],
) -> None:
    """s_server -verify asks for a client certificate; we have none and say so (§4.4.2)."""
    files = credentials["rsa2048"]
    with openssl_server(files.cert_file, files.key_file, ["-verify", "1"]) as (server, port):
        config = ClientConfig(server_name="localhost", ca_file=files.ca_file)
        stream = connect("127.0.0.1", port, config)
        stream.send(b"anonymous\n")
        assert server.stdout.wait_for(10) == b"anonymous\n", server.output()
        stream.close()
        assert server.wait() == 0, server.output()


def test_required_client_certificate(credentials: dict[str, CredentialFiles]) -> None:
    """s_server -Verify requires one: it ends the connection with certificate_required."""
    files = credentials["rsa2048"]
    with openssl_server(files.cert_file, files.key_file, ["-Verify", "1"]) as (_server, port):
        config = ClientConfig(server_name="localhost", ca_file=files.ca_file)
        stream = connect("127.0.0.1", port, config)
        with pytest.raises(TlsConnectionError) as exc:
            stream.recv()
        assert exc.value.alert == AlertDescription.CERTIFICATE_REQUIRED and exc.value.by_peer
