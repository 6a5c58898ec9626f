"""Resumption on the command line against OpenSSL: ``openssl s_client -sess_out/-sess_in``
resumes with ``tlsbench serve`` (TLS 1.3 tickets, TLS 1.2 tickets and session IDs), and
``tlsbench connect --reconnect`` resumes with ``openssl s_server``; usage errors are one
line."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from cli_peers import Served, tlsbench
from session_peers import gnutls_cli_resume, gnutls_serv, make_creds, s_client, s_server

# (version flag, extra s_client flags, what resumes)
MODES = {
    "tls13-tickets": ("-tls1_3", ()),
    "tls12-tickets": ("-tls1_2", ()),
    "tls12-session-id": ("-tls1_2", ("-no_ticket",)),
}


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("impl", ["rust", "ssl", "tlslite"])
def test_s_client_resumes_with_serve(tmp_path: Path, impl: str, mode: str) -> None:
    version, extra = MODES[mode]
    served = Served(tmp_path, "--impl", impl)
    session = tmp_path / "session.pem"
    try:
        first = s_client(served.port, served.ca_file, version, *extra, "-sess_out", str(session))
        assert "New, TLSv1." in first and "ping-resume" in first, first
        assert session.is_file(), first
        # The server logs from a thread: the first handshake's line can come after
        # s_client has returned, so it is awaited before the mark, not taken for the second's.
        served.wait_for(" handshake ")
        mark = served.mark()
        second = s_client(served.port, served.ca_file, version, *extra, "-sess_in", str(session))
        assert "Reused, TLSv1." in second, second
        assert "ping-resume" in second, second
        line = served.wait_for(" handshake ", since=mark)
        assert line.split(" ms")[-1].strip().startswith("resumed"), line
    finally:
        lines = served.stop()
    assert "of the handshakes resumed" in lines[-1], lines[-1]


@pytest.mark.parametrize("impl", ["rust", "ssl"])
def test_tickets_zero_means_no_tls13_resumption(tmp_path: Path, impl: str) -> None:
    served = Served(tmp_path, "--impl", impl, "--tickets", "0", "--tls", "1.3")
    session = tmp_path / "session.pem"
    try:
        first = s_client(served.port, served.ca_file, "-sess_out", str(session))
        assert "New, TLSv1.3" in first and "ping-resume" in first, first
        # No ticket came, so OpenSSL has no resumable session: the next one is full.
        if session.is_file():
            second = s_client(served.port, served.ca_file, "-sess_in", str(session))
            assert "New, TLSv1.3" in second and "Reused" not in second, second
    finally:
        lines = served.stop()
    assert not any(line.endswith(" resumed") for line in lines), lines


LINE = re.compile(r"^reconnect (\d): resumed, TLS (1\.[23]), handshake [\d.]+ ms$", re.M)


@pytest.mark.parametrize("version", ["1.3", "1.2"])
@pytest.mark.parametrize("impl", ["rust", "ssl", "tlslite"])
def test_connect_reconnect_resumes_with_s_server(tmp_path: Path, impl: str, version: str) -> None:
    creds = make_creds(tmp_path)
    with s_server(creds) as (_, port):
        r = tlsbench(
            "connect", f"127.0.0.1:{port}", "--impl", impl, "--tls", version,
            "--ca-file", creds.ca, "--server-name", "localhost", "--reconnect", "2",
        )  # fmt: skip
    assert r.returncode == 0, r.stderr
    found = LINE.findall(r.stdout)
    assert found == [("1", version), ("2", version)], r.stdout


@pytest.mark.parametrize("impl", ["rust", "ssl"])
def test_connect_reconnect_by_session_id(tmp_path: Path, impl: str) -> None:
    creds = make_creds(tmp_path)
    with s_server(creds, "-no_ticket") as (_, port):
        r = tlsbench(
            "connect", f"127.0.0.1:{port}", "--impl", impl, "--tls", "1.2",
            "--ca-file", creds.ca, "--server-name", "localhost", "--reconnect", "1",
            "--resumption", "session-id",
        )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert LINE.findall(r.stdout) == [("1", "1.2")], r.stdout


def test_connect_reconnect_with_serve_of_another_key_is_full(tmp_path: Path) -> None:
    """Our serve against our connect, both TLS 1.2 and 1.3; and a server with tickets off
    still resumes TLS 1.2 by session ID."""
    served = Served(tmp_path, "--tickets", "0")
    try:
        for version in ("1.3", "1.2"):
            r = tlsbench(
                "connect", f"127.0.0.1:{served.port}", "--tls", version,
                "--ca-file", served.ca_file, "--server-name", "localhost", "--reconnect", "1",
            )  # fmt: skip
            if version == "1.3":
                assert r.returncode == 1, r.stdout
                assert "no session to offer" in r.stderr, r.stderr
            else:
                assert r.returncode == 0, r.stderr
                assert LINE.findall(r.stdout) == [("1", "1.2")], r.stdout
    finally:
        served.stop()


def _one_line_usage(r: subprocess.CompletedProcess[str], needle: str) -> None:
    assert r.returncode == 2, r
    err = r.stderr
    assert err.count("\n") == 1 and needle in err and "Traceback" not in err, err


def test_usage_errors_are_one_line(tmp_path: Path) -> None:
    creds = make_creds(tmp_path)
    r = tlsbench("serve", "--port", "0", "--client-auth", "require")
    _one_line_usage(r, "--client-auth needs --client-ca FILE")
    r = tlsbench("serve", "--port", "0", "--client-ca", creds.ca)
    _one_line_usage(r, "--client-ca is used with --client-auth")
    r = tlsbench("connect", "127.0.0.1:1", "--cert-file", creds.client_cert)
    _one_line_usage(r, "give --cert-file and --key-file together")
    r = tlsbench("connect", "127.0.0.1:1", "--reconnect", "-1")
    _one_line_usage(r, "--reconnect")
    r = tlsbench("run", "--workload", "resume", "--metric", "instructions")
    _one_line_usage(r, "no resume workload, no --client-auth")
    r = tlsbench("run", "--workload", "resumed")
    _one_line_usage(r, "unknown workload 'resumed' (choose from handshake, bulk, resume)")
    r = tlsbench("run", "--resumption", "psk")
    _one_line_usage(r, "--resumption")
    r = tlsbench("trace", "--resumption", "session-id")
    _one_line_usage(r, "--resumption goes with --resume")


GNUTLS_PRIORITY = {
    "1.3": "NORMAL:-VERS-ALL:+VERS-TLS1.3",
    "1.2": "NORMAL:-VERS-ALL:+VERS-TLS1.2",
}


@pytest.mark.parametrize("version", ["1.3", "1.2"])
@pytest.mark.parametrize("impl", ["rust", "ssl", "tlslite"])
def test_gnutls_cli_resumes_with_serve(tmp_path: Path, impl: str, version: str) -> None:
    served = Served(tmp_path, "--impl", impl)
    try:
        out = gnutls_cli_resume(served.port, served.ca_file, GNUTLS_PRIORITY[version])
        assert "*** This is a resumed session" in out, out
    finally:
        lines = served.stop()
    assert any(line.endswith(" resumed") for line in lines), lines


@pytest.mark.parametrize("version", ["1.3", "1.2"])
@pytest.mark.parametrize("impl", ["rust", "ssl"])
def test_connect_reconnect_resumes_with_gnutls_serv(
    tmp_path: Path, impl: str, version: str
) -> None:
    creds = make_creds(tmp_path)
    with gnutls_serv(creds) as port:
        r = tlsbench(
            "connect", f"127.0.0.1:{port}", "--impl", impl, "--tls", version,
            "--ca-file", creds.ca, "--server-name", "localhost", "--reconnect", "2",
        )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert LINE.findall(r.stdout) == [("1", version), ("2", version)], r.stdout
