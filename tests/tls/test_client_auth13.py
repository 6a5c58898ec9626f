"""TLS 1.3 client certificates (§4.3.2, §4.4.2-4.4.3): in memory on every provider, and
against ``openssl s_server -Verify 1``, ``openssl s_client -cert -key`` and a Python
``ssl`` server with ``CERT_REQUIRED``. The test leaves carry clientAuth, so each
kind's leaf serves as the client's certificate too."""

from __future__ import annotations

import socket
import ssl
from dataclasses import replace
from pathlib import Path

import pytest
from tls_peers import PeerThread, alerts, closed, listener, openssl_client, openssl_server, pump

from tlsbench.tls import (
    AlertDescription,
    ClientConfig,
    ClientConnection,
    HandshakeComplete,
    ServerConfig,
    ServerConnection,
)
from tlsbench.tls.certs import (
    CredentialFiles,
    load_certificate_chain,
    load_private_key,
    write_credentials,
)
from tlsbench.tls.driver import accept, connect
from tlsbench.tls.events import Event

PROVIDERS = ("rust", "python", "cryptography")
KINDS = ("rsa2048", "ecdsa-p256")


def _client(files: CredentialFiles, provider: str, with_cert: bool = True) -> ClientConfig:
    config = ClientConfig(server_name="localhost", ca_file=files.ca_file, provider=provider)
    if not with_cert:
        return config
    chain = tuple(load_certificate_chain(files.cert_file))
    return replace(config, certificate_chain=chain, private_key=load_private_key(files.key_file))


def _server(
    files: CredentialFiles, provider: str, client_auth: str, ca: Path | None = None
) -> ServerConfig:
    config = ServerConfig.from_files(files.cert_file, files.key_file, provider=provider)
    return replace(config, client_auth=client_auth, client_ca_file=ca or files.ca_file)  # type: ignore[arg-type]


def _complete(events: list[Event]) -> HandshakeComplete:
    return next(e for e in events if isinstance(e, HandshakeComplete))


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("kind", KINDS)
def test_required_certificate_is_sent_and_checked(
    credentials: dict[str, CredentialFiles], provider: str, kind: str
) -> None:
    files = credentials[kind]
    server = _server(files, provider, "require")
    c = ClientConnection(_client(files, provider))
    s = ServerConnection(server)
    client_events, server_events = pump(c, s)
    chain = tuple(load_certificate_chain(files.cert_file))
    assert _complete(server_events).peer_certificates == chain
    assert _complete(client_events).peer_certificates == chain
    # a resumed handshake asks for no certificate (§4.3.2) and reports none
    c2 = ClientConnection(replace(_client(files, provider), session=c.session))
    s2 = ServerConnection(server)  # the same ticket keys
    _, server_events2 = pump(c2, s2)
    assert s2.resumed and _complete(server_events2).peer_certificates == ()
    assert c2.certificate_request is None


def test_optional_accepts_none(credentials: dict[str, CredentialFiles]) -> None:
    files = credentials["ecdsa-p256"]
    c = ClientConnection(_client(files, "cryptography", with_cert=False))
    s = ServerConnection(_server(files, "cryptography", "optional"))
    _, server_events = pump(c, s)
    assert c.certificate_request is not None
    assert _complete(server_events).peer_certificates == ()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_none_under_require_is_certificate_required(
    credentials: dict[str, CredentialFiles], provider: str
) -> None:
    files = credentials["ecdsa-p256"]
    c = ClientConnection(_client(files, provider, with_cert=False))
    s = ServerConnection(_server(files, provider, "require"))
    client_events, server_events = pump(c, s)
    assert closed(server_events).error == AlertDescription.CERTIFICATE_REQUIRED
    assert alerts(client_events) == [AlertDescription.CERTIFICATE_REQUIRED]


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
def test_signature_by_another_key_is_decrypt_error(
    credentials: dict[str, CredentialFiles], tmp_path: Path, provider: str
) -> None:
    files = credentials["ecdsa-p256"]
    stranger = write_credentials(tmp_path, "ecdsa-p256")
    config = replace(_client(files, provider), private_key=load_private_key(stranger.key_file))
    c = ClientConnection(config)
    s = ServerConnection(_server(files, provider, "require"))
    client_events, server_events = pump(c, s)
    assert closed(server_events).error == AlertDescription.DECRYPT_ERROR
    assert alerts(client_events) == [AlertDescription.DECRYPT_ERROR]


# -- real peers ------------------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("kind", KINDS)
def test_our_client_certificate_at_openssl_server(
    credentials: dict[str, CredentialFiles], provider: str, kind: str
) -> None:
    """``s_server -Verify 1`` checks our chain and CertificateVerify."""
    files = credentials[kind]
    extra = ["-Verify", "1", "-CAfile", str(files.ca_file)]
    with openssl_server(files.cert_file, files.key_file, extra, quiet=False) as (srv, port):
        stream = connect("127.0.0.1", port, _client(files, provider))
        stream.send(b"mutual\n")
        assert srv.stdout.wait_contains(b"mutual\n"), srv.output()
        stream.close()
    assert "verify return:1" in srv.stderr.text() + srv.stdout.text(), srv.output()
    assert "Client certificate" in srv.stdout.text(), srv.output()


def test_no_certificate_at_openssl_server_is_its_alert(
    credentials: dict[str, CredentialFiles],
) -> None:
    """Without a certificate ``s_server -Verify 1`` ends the handshake with an alert."""
    files = credentials["ecdsa-p256"]
    extra = ["-Verify", "1", "-CAfile", str(files.ca_file)]
    with openssl_server(files.cert_file, files.key_file, extra) as (_, port):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            conn = ClientConnection(_client(files, "cryptography", with_cert=False))
            events: list[Event] = []
            while not conn.closed:
                out = conn.data_to_send()
                if out:
                    sock.sendall(out)
                events += conn.receive_data(sock.recv(65536))
    assert alerts(events) == [AlertDescription.CERTIFICATE_REQUIRED], events


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("kind", KINDS)
def test_openssl_client_certificate_at_our_server(
    credentials: dict[str, CredentialFiles], provider: str, kind: str
) -> None:
    """``s_client -cert -key`` against our server with client_auth=require."""
    files = credentials[kind]
    config = _server(files, provider, "require")
    with listener() as sock:
        extra = ["-cert", str(files.cert_file), "-key", str(files.key_file)]
        extra += ["-CAfile", str(files.ca_file), "-servername", "localhost"]
        with openssl_client(sock.getsockname()[1], extra) as client:
            stream = accept(sock, config)
            assert stream.handshake is not None
            leaf = load_certificate_chain(files.cert_file)[0]
            assert stream.handshake.peer_certificates[0] == leaf  # s_client adds the CA
            client.write(b"from s_client\n")
            assert stream.recv_exactly(14) == b"from s_client\n"
            stream.close()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_python_ssl_cert_required_server(
    credentials: dict[str, CredentialFiles], provider: str
) -> None:
    files = credentials["rsa2048"]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(str(files.cert_file), str(files.key_file))
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(str(files.ca_file))
    with listener() as sock:

        def run() -> str:
            raw, _ = sock.accept()
            with ctx.wrap_socket(raw, server_side=True) as s:
                assert s.recv(1) == b"x"
                peer = s.getpeercert()
                s.sendall(b"y")
                return str(peer["subject"])

        peer = PeerThread(run)
        stream = connect("127.0.0.1", sock.getsockname()[1], _client(files, provider))
        stream.send(b"x")
        assert stream.recv_exactly(1) == b"y"
        stream.close()
        assert "localhost" in peer.outcome()
