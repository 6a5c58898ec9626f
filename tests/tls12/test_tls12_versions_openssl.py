"""Version negotiation against OpenSSL, both ways: one server for TLS 1.2 and 1.3, and
the RFC 8446 §4.1.3 downgrade sentinel set by each server and checked by each client."""

from __future__ import annotations

from dataclasses import replace

import pytest
from tls_peers import Proxy, listener, openssl_client, openssl_server

from tlsbench.tls import AlertDescription, ClientConfig, ServerConfig
from tlsbench.tls.certs import CredentialFiles
from tlsbench.tls.constants import TLS12, TLS13, ExtensionType
from tlsbench.tls.driver import TlsConnectionError, accept, connect
from tlsbench.tls.messages import ClientHello


def strip_supported_versions(index: int, record: bytes) -> list[bytes]:
    """A middlebox that removes supported_versions from the ClientHello (record 0)."""
    if index != 0:
        return [record]
    hello = ClientHello.decode(record[9:])
    exts = {k: v for k, v in hello.extensions.items() if k != ExtensionType.SUPPORTED_VERSIONS}
    raw = replace(hello, extensions=exts).encode()
    return [record[:3] + len(raw).to_bytes(2, "big") + raw]


@pytest.mark.parametrize(
    ("client_version", "expected"),
    [("-tls1_2", TLS12), ("", TLS13), ("-tls1_3", TLS13)],
    ids=["1.2-only client", "1.2+1.3 client", "1.3-only client"],
)
def test_our_server_against_openssl_clients(
    credentials: dict[str, CredentialFiles], client_version: str, expected: int
) -> None:
    files = credentials["ecdsa-p256"]
    config = ServerConfig.from_files(files.cert_file, files.key_file)  # both versions
    with listener() as sock:
        args = ["-CAfile", str(files.ca_file), "-verify_return_error"]
        with openssl_client(
            sock.getsockname()[1], args, quiet=False, version=client_version
        ) as client:
            stream = accept(sock, config)
            assert stream.handshake is not None and stream.handshake.version == expected
            name = {TLS12: b"TLSv1.2", TLS13: b"TLSv1.3"}[expected]
            assert client.stdout.wait_contains(b"New, " + name), client.output()
            client.write(b"ping\n")
            assert stream.recv_exactly(5) == b"ping\n"
            stream.close()
            client.close_stdin()


@pytest.mark.parametrize(
    ("versions", "server_version", "expected"),
    [
        ((TLS13, TLS12), "-tls1_2", TLS12),
        ((TLS13, TLS12), "", TLS13),
        ((TLS12,), "", TLS12),
    ],
    ids=["1.2+1.3 client, server capped at 1.2", "1.2+1.3 both", "1.2-only client"],
)
def test_our_client_against_openssl_servers(
    credentials: dict[str, CredentialFiles],
    versions: tuple[int, ...],
    server_version: str,
    expected: int,
) -> None:
    files = credentials["rsa2048"]
    with openssl_server(files.cert_file, files.key_file, version=server_version) as (server, port):
        config = ClientConfig(server_name="localhost", ca_file=files.ca_file, versions=versions)
        stream = connect("127.0.0.1", port, config)
        assert stream.handshake is not None and stream.handshake.version == expected
        stream.send(b"pong\n")
        assert server.stdout.wait_for(5) == b"pong\n", server.output()
        stream.close()


def test_our_client_sees_openssl_downgrade_sentinel(
    credentials: dict[str, CredentialFiles],
) -> None:
    files = credentials["rsa2048"]
    with openssl_server(files.cert_file, files.key_file, version="") as (server, port):
        proxy = Proxy(port, to_server=strip_supported_versions)
        try:
            config = ClientConfig(
                server_name="localhost", ca_file=files.ca_file, versions=(TLS13, TLS12)
            )
            with pytest.raises(TlsConnectionError) as exc:
                connect("127.0.0.1", proxy.port, config)
            assert exc.value.alert == AlertDescription.ILLEGAL_PARAMETER
            assert not exc.value.by_peer and "downgrade" in str(exc.value)
            assert server.stderr.wait_contains(b"SSL alert number 47"), server.output()
        finally:
            proxy.close()


def test_openssl_client_sees_our_downgrade_sentinel(
    credentials: dict[str, CredentialFiles],
) -> None:
    files = credentials["rsa2048"]
    config = ServerConfig.from_files(files.cert_file, files.key_file)
    with listener() as sock:
        proxy = Proxy(sock.getsockname()[1], to_server=strip_supported_versions)
        try:
            args = ["-CAfile", str(files.ca_file)]
            with openssl_client(proxy.port, args, version="") as client:
                with pytest.raises(TlsConnectionError) as exc:
                    accept(sock, config)
                assert exc.value.by_peer, str(exc.value)
                assert exc.value.alert == AlertDescription.ILLEGAL_PARAMETER, str(exc.value)
                assert client.stderr.wait_contains(b"fallback"), client.output()
                client.wait()
        finally:
            proxy.close()
