"""TLS 1.3 resumption against real peers, every provider: OpenSSL (``s_client -sess_out /
-sess_in`` against our server, our client reconnecting to ``s_server -num_tickets``),
Python ``ssl`` both roles and ``gnutls-cli --resume`` against our server."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
from pathlib import Path

import pytest
from tls_peers import PeerThread, listener, openssl_client, openssl_server

from tlsbench.tls import ClientConfig, ServerConfig
from tlsbench.tls.certs import CredentialFiles
from tlsbench.tls.constants import TLS13
from tlsbench.tls.driver import accept, connect
from tlsbench.tls.sessions import Session

PROVIDERS = ("rust", "python", "cryptography")


def our_client(files: CredentialFiles, provider: str, session: Session | None) -> ClientConfig:
    return ClientConfig(
        server_name="localhost", ca_file=files.ca_file, provider=provider, session=session
    )


@pytest.mark.parametrize("provider", PROVIDERS)
def test_openssl_client_reuses_our_ticket(
    credentials: dict[str, CredentialFiles], tmp_path: Path, provider: str
) -> None:
    """``s_client -sess_out F`` then ``-sess_in F``: "Reused, TLSv1.3" the second time."""
    files = credentials["ecdsa-p256"]
    config = ServerConfig.from_files(files.cert_file, files.key_file, provider=provider)
    sess_file = tmp_path / "session.pem"
    outputs = []
    for step, flag in enumerate(("-sess_out", "-sess_in")):
        with listener() as sock:
            extra = [flag, str(sess_file), "-CAfile", str(files.ca_file)]
            extra += ["-servername", "localhost"]
            with openssl_client(sock.getsockname()[1], extra, quiet=False) as client:
                stream = accept(sock, config)
                assert stream.handshake is not None
                assert stream.handshake.resumed == (step == 1)
                stream.send(b"ready\n")
                assert client.stdout.wait_contains(b"ready\n"), client.output()
                stream.close()
                client.close_stdin()
                assert client.wait() == 0, client.output()
                outputs.append(client.stdout.text())
    assert "New, TLSv1.3" in outputs[0], outputs[0]
    assert "Reused, TLSv1.3" in outputs[1], outputs[1]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_we_resume_with_openssl_server(
    credentials: dict[str, CredentialFiles], provider: str
) -> None:
    """Our client reconnects to ``s_server -num_tickets 2`` with the newest ticket."""
    files = credentials["ecdsa-p256"]
    extra = ["-naccept", "3", "-num_tickets", "2"]
    with openssl_server(files.cert_file, files.key_file, extra, quiet=False) as (srv, port):
        session = None
        for step in range(3):
            stream = connect("127.0.0.1", port, our_client(files, provider, session))
            assert stream.handshake is not None
            assert stream.handshake.resumed == (step > 0) == stream.conn.resumed, step
            srv.write(b"pong\n")
            assert stream.recv_exactly(5) == b"pong\n"  # the tickets came before it
            session = stream.conn.session
            assert session is not None and session.version == TLS13
            stream.close()
        assert srv.wait() == 0, srv.output()
    # s_server's words for a resumed handshake, and its summary at exit
    assert srv.stdout.text().count("Reused session-id") == 2, srv.output()
    assert "2 session cache hits" in srv.stdout.text(), srv.output()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_python_ssl_client_reuses_our_ticket(
    credentials: dict[str, CredentialFiles], provider: str
) -> None:
    """``SSLSocket.session`` given to the next connection: ``session_reused``."""
    files = credentials["ecdsa-p256"]
    config = ServerConfig.from_files(files.cert_file, files.key_file, provider=provider)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_verify_locations(str(files.ca_file))
    with listener() as sock:
        port = sock.getsockname()[1]

        def run() -> list[bool]:
            reused = []
            session = None
            for _ in range(2):
                with socket.create_connection(("127.0.0.1", port), timeout=20) as raw:
                    with ctx.wrap_socket(raw, server_hostname="localhost", session=session) as s:
                        s.sendall(b"x")
                        assert s.recv(1) == b"y"  # read past the tickets
                        reused.append(s.session_reused)
                        session = s.session
            return reused

        peer = PeerThread(run)
        resumed = []
        for _ in range(2):
            stream = accept(sock, config)
            assert stream.recv_exactly(1) == b"x"
            stream.send(b"y")
            assert stream.handshake is not None
            resumed.append(stream.handshake.resumed)
            stream.close()
        assert peer.outcome() == [False, True]
        assert resumed == [False, True]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_we_resume_with_python_ssl_server(
    credentials: dict[str, CredentialFiles], provider: str
) -> None:
    files = credentials["ecdsa-p256"]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(str(files.cert_file), str(files.key_file))
    with listener() as sock:

        def run() -> list[bool]:
            reused = []
            for _ in range(2):
                raw, _ = sock.accept()
                with ctx.wrap_socket(raw, server_side=True) as s:
                    s.sendall(b"y")
                    assert s.recv(1) == b"x"
                    reused.append(s.session_reused)
                    s.recv(1)  # the close_notify
            return reused

        peer = PeerThread(run)
        session = None
        ours = []
        for _ in range(2):
            stream = connect(
                "127.0.0.1", sock.getsockname()[1], our_client(files, provider, session)
            )
            assert stream.recv_exactly(1) == b"y"  # after the tickets
            stream.send(b"x")
            assert stream.handshake is not None
            ours.append(stream.handshake.resumed)
            session = stream.conn.session
            stream.close()
        assert peer.outcome() == [False, True]
        assert ours == [False, True]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_gnutls_cli_resumes_with_our_server(
    credentials: dict[str, CredentialFiles], provider: str
) -> None:
    """``gnutls-cli --resume`` connects twice; the second is "a resumed session"."""
    files = credentials["ecdsa-p256"]
    config = ServerConfig.from_files(files.cert_file, files.key_file, provider=provider)
    cli = shutil.which("gnutls-cli")
    if cli is None:
        pytest.fail("gnutls-cli is not installed (apt-get install gnutls-bin); it is a test peer")
    with listener() as sock:
        args = [cli, "--resume", "--x509cafile", str(files.ca_file)]
        args += ["-p", str(sock.getsockname()[1]), "--priority", "NORMAL:-VERS-ALL:+VERS-TLS1.3"]
        proc = subprocess.Popen(
            [*args, "localhost"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            resumed = []
            for _ in range(2):
                stream = accept(sock, config)
                assert stream.handshake is not None
                resumed.append(stream.handshake.resumed)
                stream.close()
            out = proc.communicate(timeout=30)[0].decode()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert resumed == [False, True], out
    assert "*** This is a resumed session" in out, out
