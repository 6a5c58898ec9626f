"""TLS 1.2 client certificates (RFC 5246 §7.4.4, §7.4.6, §7.4.8) in memory on every
provider, and ServerConfig/``tlsbench serve`` refusing client_auth without a CA."""

from __future__ import annotations

import socket
import ssl
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from tls_peers import PeerThread, alerts, closed, listener, openssl_client, openssl_server, pump

from tlsbench.cli import main as cli
from tlsbench.tls import (
    AlertDescription,
    ClientConfig,
    ClientConnection,
    HandshakeComplete,
    ServerConfig,
    ServerConnection,
    signatures,
)
from tlsbench.tls.certs import (
    CredentialFiles,
    load_certificate_chain,
    load_private_key,
    write_credentials,
)
from tlsbench.tls.constants import TLS12
from tlsbench.tls.driver import TlsConnectionError, accept, connect
from tlsbench.tls.events import Event

PROVIDERS = ("rust", "python", "cryptography")
KINDS = ("rsa2048", "ecdsa-p256")


@pytest.fixture(scope="module")
def other_ca(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CA file that issued none of the test certificates."""
    return write_credentials(tmp_path_factory.mktemp("other12"), "ecdsa-p256").ca_file


def _client(files: CredentialFiles, provider: str, with_cert: bool = True) -> ClientConfig:
    config = ClientConfig(
        server_name="localhost", ca_file=files.ca_file, provider=provider, versions=(TLS12,)
    )
    if not with_cert:
        return config
    chain = tuple(load_certificate_chain(files.cert_file))
    return replace(config, certificate_chain=chain, private_key=load_private_key(files.key_file))


def _server(
    files: CredentialFiles, provider: str, client_auth: str, ca: Path | None = None
) -> ServerConfig:
    config = ServerConfig.from_files(
        files.cert_file, files.key_file, provider=provider, versions=(TLS12,)
    )
    return replace(config, client_auth=client_auth, client_ca_file=ca or files.ca_file)  # type: ignore[arg-type]


def _complete(events: list[Event]) -> HandshakeComplete:
    return next(e for e in events if isinstance(e, HandshakeComplete))


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("kind", KINDS)
def test_required_certificate_is_sent_and_checked(
    credentials: dict[str, CredentialFiles], provider: str, kind: str
) -> None:
    files = credentials[kind]
    c = ClientConnection(_client(files, provider))
    s = ServerConnection(_server(files, provider, "require"))
    client_events, server_events = pump(c, s)
    chain = tuple(load_certificate_chain(files.cert_file))
    assert _complete(server_events).peer_certificates == chain
    assert _complete(client_events).peer_certificates == chain


def test_optional_accepts_none(credentials: dict[str, CredentialFiles]) -> None:
    files = credentials["ecdsa-p256"]
    c = ClientConnection(_client(files, "cryptography", with_cert=False))
    s = ServerConnection(_server(files, "cryptography", "optional"))
    _, server_events = pump(c, s)
    assert _complete(server_events).peer_certificates == ()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_none_under_require_is_handshake_failure(
    credentials: dict[str, CredentialFiles], provider: str
) -> None:
    """TLS 1.2 has no certificate_required alert: an empty Certificate is handshake_failure."""
    files = credentials["ecdsa-p256"]
    c = ClientConnection(_client(files, provider, with_cert=False))
    s = ServerConnection(_server(files, provider, "require"))
    client_events, server_events = pump(c, s)
    assert closed(server_events).error == AlertDescription.HANDSHAKE_FAILURE
    assert alerts(client_events) == [AlertDescription.HANDSHAKE_FAILURE]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_unknown_ca_is_unknown_ca(
    credentials: dict[str, CredentialFiles], other_ca: Path, provider: str
) -> None:
    files = credentials["ecdsa-p256"]
    c = ClientConnection(_client(files, provider))
    s = ServerConnection(_server(files, provider, "require", other_ca))
    client_events, server_events = pump(c, s)
    assert closed(server_events).error == AlertDescription.UNKNOWN_CA
    assert alerts(client_events) == [AlertDescription.UNKNOWN_CA]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_certificate_verify_wrong_by_one_bit_is_decrypt_error(
    credentials: dict[str, CredentialFiles], provider: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Our client's CertificateVerify signature with its last bit flipped (§7.4.8)."""
    real = signatures.sign_tls12

    def corrupted(*args: object, **kwargs: object) -> bytes:
        signature = real(*args, **kwargs)  # type: ignore[arg-type]
        return signature[:-1] + bytes([signature[-1] ^ 1])

    monkeypatch.setattr("tlsbench.tls.client.tls12.sign_tls12", corrupted)
    files = credentials["ecdsa-p256"]
    c = ClientConnection(_client(files, provider))
    s = ServerConnection(_server(files, provider, "require"))
    client_events, server_events = pump(c, s)
    assert closed(server_events).error == AlertDescription.DECRYPT_ERROR
    assert alerts(client_events) == [AlertDescription.DECRYPT_ERROR]


# -- real peers --------------------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("kind", KINDS)
def test_our_client_certificate_at_openssl_server(
    credentials: dict[str, CredentialFiles], provider: str, kind: str
) -> None:
    """``s_server -tls1_2 -Verify 1`` checks our chain and CertificateVerify."""
    files = credentials[kind]
    extra = ["-Verify", "1", "-CAfile", str(files.ca_file)]
    with openssl_server(files.cert_file, files.key_file, extra, quiet=False, version="-tls1_2") as (
        srv,
        port,
    ):
        stream = connect("127.0.0.1", port, _client(files, provider))
        stream.send(b"mutual\n")
        assert srv.stdout.wait_contains(b"mutual\n"), srv.output()
        stream.close()
    assert "verify return:1" in srv.stderr.text() + srv.stdout.text(), srv.output()
    assert "Client certificate" in srv.stdout.text(), srv.output()


def test_no_certificate_at_openssl_server_is_its_alert(
    credentials: dict[str, CredentialFiles],
) -> None:
    """Without a certificate ``s_server -tls1_2 -Verify 1`` ends with an alert, no hang."""
    files = credentials["ecdsa-p256"]
    extra = ["-Verify", "1", "-CAfile", str(files.ca_file)]
    with openssl_server(files.cert_file, files.key_file, extra, version="-tls1_2") as (_, port):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            conn = ClientConnection(_client(files, "cryptography", with_cert=False))
            events: list[Event] = []
            while not conn.closed:
                out = conn.data_to_send()
                if out:
                    sock.sendall(out)
                events += conn.receive_data(sock.recv(65536))
    assert alerts(events) == [AlertDescription.HANDSHAKE_FAILURE], events


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("kind", KINDS)
def test_openssl_client_certificate_at_our_server(
    credentials: dict[str, CredentialFiles], provider: str, kind: str
) -> None:
    """``s_client -tls1_2 -cert -key`` against our server with client_auth=require."""
    files = credentials[kind]
    config = _server(files, provider, "require")
    with listener() as sock:
        extra = ["-cert", str(files.cert_file), "-key", str(files.key_file)]
        extra += ["-CAfile", str(files.ca_file), "-servername", "localhost"]
        with openssl_client(sock.getsockname()[1], extra, version="-tls1_2") as client:
            stream = accept(sock, config)
            assert stream.handshake is not None
            leaf = load_certificate_chain(files.cert_file)[0]
            assert stream.handshake.peer_certificates[0] == leaf
            client.write(b"from s_client\n")
            assert stream.recv_exactly(14) == b"from s_client\n"
            stream.close()


def test_openssl_client_from_unknown_ca_sees_unknown_ca(
    credentials: dict[str, CredentialFiles], other_ca: Path
) -> None:
    """Our require server, a CA that did not issue s_client's certificate: unknown_ca."""
    files = credentials["ecdsa-p256"]
    config = _server(files, "cryptography", "require", other_ca)
    with listener() as sock:
        extra = ["-cert", str(files.cert_file), "-key", str(files.key_file)]
        extra += ["-CAfile", str(files.ca_file), "-servername", "localhost"]
        with openssl_client(sock.getsockname()[1], extra, quiet=False, version="-tls1_2") as client:
            with pytest.raises(TlsConnectionError) as raised:
                accept(sock, config)
            assert raised.value.alert == AlertDescription.UNKNOWN_CA, raised.value
            assert not raised.value.by_peer
            assert client.stderr.wait_contains(b"unknown ca"), client.output()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_python_ssl_cert_required_server(
    credentials: dict[str, CredentialFiles], provider: str
) -> None:
    files = credentials["rsa2048"]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(str(files.cert_file), str(files.key_file))
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(str(files.ca_file))
    with listener() as sock:

        def run() -> str:
            raw, _ = sock.accept()
            with ctx.wrap_socket(raw, server_side=True) as s:
                assert s.recv(1) == b"x"
                peer = s.getpeercert()
                assert peer is not None
                s.sendall(b"y")
                return str(peer["subject"])

        peer = PeerThread(run)
        stream = connect("127.0.0.1", sock.getsockname()[1], _client(files, provider))
        stream.send(b"x")
        assert stream.recv_exactly(1) == b"y"
        stream.close()
        assert "localhost" in peer.outcome()


def test_python_ssl_client_certificate_at_our_server(
    credentials: dict[str, CredentialFiles],
) -> None:
    files = credentials["ecdsa-p256"]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_verify_locations(str(files.ca_file))
    ctx.load_cert_chain(str(files.cert_file), str(files.key_file))
    with listener() as sock:

        def run() -> str:
            with socket.create_connection(sock.getsockname(), timeout=10) as raw:
                with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                    s.sendall(b"x")
                    return str(s.version())

        peer = PeerThread(run)
        stream = accept(sock, _server(files, "cryptography", "require"))
        assert stream.handshake is not None
        assert stream.handshake.peer_certificates[0] == load_certificate_chain(files.cert_file)[0]
        assert stream.recv_exactly(1) == b"x"
        stream.close()
        assert peer.outcome() == "TLSv1.2"


# -- configuration -----------------------------------------------------------------------


@pytest.mark.parametrize("client_auth", ["optional", "require"])
def test_client_auth_without_ca_is_refused(
    credentials: dict[str, CredentialFiles], client_auth: str
) -> None:
    files = credentials["ecdsa-p256"]
    config = ServerConfig.from_files(files.cert_file, files.key_file)
    with pytest.raises(ValueError, match="needs client_ca_file"):
        replace(config, client_auth=client_auth)  # type: ignore[arg-type]


def test_unknown_client_auth_is_refused(credentials: dict[str, CredentialFiles]) -> None:
    files = credentials["ecdsa-p256"]
    config = ServerConfig.from_files(files.cert_file, files.key_file)
    with pytest.raises(ValueError, match="client_auth must be"):
        replace(config, client_auth="always", client_ca_file=files.ca_file)  # type: ignore[arg-type]


def test_serve_client_auth_without_ca_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["serve", "--client-auth", "require"])
    assert result.exit_code == 2, result.output
    assert "--client-auth needs --client-ca" in result.output
    assert "Traceback" not in result.output


def test_python_ssl_cert_required_server_refuses_none(
    credentials: dict[str, CredentialFiles],
) -> None:
    """Without a certificate a ``CERT_REQUIRED`` ssl server sends an alert; we report it."""
    files = credentials["rsa2048"]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(str(files.cert_file), str(files.key_file))
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(str(files.ca_file))
    with listener() as sock:

        def run() -> str:
            raw, _ = sock.accept()
            try:
                ctx.wrap_socket(raw, server_side=True)
            except ssl.SSLError as error:
                return str(error.reason)
            finally:
                raw.close()
            return "completed"

        peer = PeerThread(run)
        with pytest.raises(TlsConnectionError) as raised:
            connect("127.0.0.1", sock.getsockname()[1], _client(files, "cryptography", False))
        assert raised.value.by_peer
        assert raised.value.alert == AlertDescription.HANDSHAKE_FAILURE, raised.value
        assert peer.outcome() == "PEER_DID_NOT_RETURN_A_CERTIFICATE"
