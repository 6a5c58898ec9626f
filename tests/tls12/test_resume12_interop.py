"""TLS 1.2 resumption against real peers, every provider: OpenSSL (``s_client -sess_out /
-sess_in``, ``s_server``), Python ``ssl`` and GnuTLS (``gnutls-cli --resume``,
``gnutls-serv``), by session ID and by RFC 5077 ticket, each way."""

from __future__ import annotations

import dataclasses
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from tls_peers import (
    PeerThread,
    free_port,
    listener,
    openssl_binary,
    openssl_client,
    openssl_server,
)

from tlsbench.tls import ClientConfig, ServerConfig
from tlsbench.tls.certs import CredentialFiles
from tlsbench.tls.constants import TLS12
from tlsbench.tls.driver import accept, connect
from tlsbench.tls.sessions import Session

PROVIDERS = ("rust", "python", "cryptography")
MODES = ("session-id", "ticket")
GNUTLS_TLS12 = "NORMAL:-VERS-ALL:+VERS-TLS1.2"


def our_server(files: CredentialFiles, provider: str, mode: str) -> ServerConfig:
    """Session IDs only (no tickets), or tickets only (no session IDs)."""
    config = ServerConfig.from_files(files.cert_file, files.key_file, provider=provider)
    if mode == "ticket":
        return dataclasses.replace(config, session_ids=False)
    return dataclasses.replace(config, tickets=0)


def our_client(
    files: CredentialFiles, provider: str, mode: str, session: Session | None
) -> ClientConfig:
    return ClientConfig(
        server_name="localhost",
        ca_file=files.ca_file,
        provider=provider,
        versions=(TLS12,),
        session=session,
        session_tickets=mode == "ticket",
    )


def check_session(session: Session | None, mode: str) -> Session:
    """The session our client kept holds what ``mode`` resumes by."""
    assert session is not None and session.version == TLS12
    if mode == "ticket":
        assert session.ticket, session
    else:
        assert session.session_id and not session.ticket, session
    return session


def gnutls(command: str) -> str:
    path = shutil.which(command)
    if path is None:
        pytest.fail(f"{command} is not installed (apt-get install gnutls-bin); it is a test peer")
    return path


# -- OpenSSL -------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_openssl_client_reuses_our_session(
    credentials: dict[str, CredentialFiles], tmp_path: Path, provider: str, mode: str
) -> None:
    """``s_client -sess_out F`` then ``-sess_in F``: "Reused" the second time."""
    files = credentials["rsa2048"]
    config = our_server(files, provider, mode)
    sess_file = tmp_path / "session.pem"
    outputs = []
    for step, args in enumerate((["-sess_out"], ["-sess_in"])):
        with listener() as sock:
            extra = [
                *args,
                str(sess_file),
                "-CAfile",
                str(files.ca_file),
                "-servername",
                "localhost",
            ]
            extra += ["-no_ticket"] if mode == "session-id" else []
            with openssl_client(sock.getsockname()[1], extra, quiet=False, version="-tls1_2") as c:
                stream = accept(sock, config)
                assert stream.handshake is not None
                assert stream.handshake.resumed == (step == 1)
                stream.close()
                c.close_stdin()
                assert c.wait() == 0, c.output()
                c.stdout.join(10)
                outputs.append(c.stdout.text())
    assert "New, TLSv1.2" in outputs[0], outputs[0]
    assert "Reused, TLSv1.2" in outputs[1], outputs[1]
    assert ("TLS session ticket:" in outputs[0]) == (mode == "ticket")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_we_resume_with_openssl_server(
    credentials: dict[str, CredentialFiles], provider: str, mode: str
) -> None:
    """Our client reconnects to ``s_server -tls1_2`` offering the session it kept."""
    files = credentials["rsa2048"]
    # Tickets only (-no_cache: no session ID cache), or session IDs only (-no_ticket).
    extra = ["-naccept", "3", "-no_cache" if mode == "ticket" else "-no_ticket"]
    with openssl_server(files.cert_file, files.key_file, extra, version="-tls1_2") as (srv, port):
        session = None
        for step in range(3):
            stream = connect("127.0.0.1", port, our_client(files, provider, mode, session))
            assert stream.handshake is not None
            assert stream.handshake.resumed == (step > 0), step
            assert stream.conn.resumed == (step > 0)
            session = check_session(stream.conn.session, mode)  # type: ignore[attr-defined]
            stream.send(b"hello")
            assert srv.stdout.wait_for(5 * (step + 1))[-5:] == b"hello", srv.output()
            stream.close()
        assert srv.wait() == 0, srv.output()


# -- Python ssl --------------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
def test_python_ssl_client_reuses_our_session(
    credentials: dict[str, CredentialFiles], provider: str
) -> None:
    """``SSLSocket.session`` given to the next connection: ``session_reused``."""
    files = credentials["rsa2048"]
    config = ServerConfig.from_files(files.cert_file, files.key_file, provider=provider)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
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
                        assert s.recv(1) == b"y"
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


# -- GnuTLS ------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_gnutls_cli_resumes_with_our_server(
    credentials: dict[str, CredentialFiles], provider: str, mode: str
) -> None:
    """``gnutls-cli --resume`` connects twice; the second is "a resumed session"."""
    files = credentials["rsa2048"]
    config = our_server(files, provider, mode)
    priority = GNUTLS_TLS12 + (":%NO_TICKETS" if mode == "session-id" else "")
    with listener() as sock:
        args = [gnutls("gnutls-cli"), "--resume", "--x509cafile", str(files.ca_file)]
        args += ["-p", str(sock.getsockname()[1]), "--priority", priority, "localhost"]
        proc = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
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


@contextmanager
def gnutls_serv(files: CredentialFiles, mode: str) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """``gnutls-serv`` (TLS 1.2 only; tickets off for session IDs) on a free port."""
    port = free_port()
    args = [gnutls("gnutls-serv"), "--x509certfile", str(files.cert_file)]
    args += ["--x509keyfile", str(files.key_file), "-p", str(port), "--priority", GNUTLS_TLS12]
    args += ["--noticket"] if mode == "session-id" else []
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None, proc.communicate()[0].decode()
                assert time.monotonic() < deadline, "gnutls-serv did not listen"
                time.sleep(0.05)
        yield proc, port
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_we_resume_with_gnutls_serv(
    credentials: dict[str, CredentialFiles], provider: str, mode: str
) -> None:
    files = credentials["rsa2048"]
    with gnutls_serv(files, mode) as (_proc, port):
        session = None
        for step in range(3):
            stream = connect("127.0.0.1", port, our_client(files, provider, mode, session))
            assert stream.handshake is not None and stream.handshake.resumed == (step > 0)
            session = check_session(stream.conn.session, mode)  # type: ignore[attr-defined]
            stream.close()


def test_openssl_is_there() -> None:
    assert Path(openssl_binary()).exists()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_we_resume_with_python_ssl_server(
    credentials: dict[str, CredentialFiles], provider: str, mode: str
) -> None:
    """Our client reconnects to a Python ``ssl`` server (one SSLContext) with its session.

    OpenSSL drops a TLS 1.2 session from the server cache when the SSL object is freed
    without having sent close_notify (``ssl_clear_bad_session``), so the server ``unwrap()``s
    each connection; tickets need ``OP_NO_TICKET`` off, session IDs alone have it on."""
    files = credentials["rsa2048"]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(str(files.cert_file), str(files.key_file))
    if mode == "session-id":
        ctx.options |= ssl.OP_NO_TICKET
    else:
        ctx.options &= ~ssl.OP_NO_TICKET
    with listener() as sock:

        def serve() -> list[bool]:
            reused = []
            for _ in range(3):
                raw, _ = sock.accept()
                s = ctx.wrap_socket(raw, server_side=True)
                assert s.recv(5) == b"hello"
                s.sendall(b"bye")
                reused.append(s.session_reused)
                s.unwrap().close()
            return reused

        peer = PeerThread(serve)
        session = None
        for step in range(3):
            stream = connect(
                "127.0.0.1", sock.getsockname()[1], our_client(files, provider, mode, session)
            )
            assert stream.handshake is not None
            assert stream.conn.resumed == (step > 0), step  # type: ignore[attr-defined]
            session = check_session(stream.conn.session, mode)  # type: ignore[attr-defined]
            stream.send(b"hello")
            assert stream.recv_exactly(3) == b"bye"
            stream.close()
        assert peer.outcome() == [False, True, True]
