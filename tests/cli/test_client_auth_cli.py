"""Client certificates on the command line: ``tlsbench serve --client-auth`` against
``openssl s_client -cert/-key`` (and without a certificate, and with one from another CA),
and ``tlsbench connect --cert-file/--key-file`` against ``openssl s_server -Verify``."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_peers import Served, tlsbench
from session_peers import Creds, make_creds, s_client, s_server

# TLS 1.3 refuses a missing certificate with certificate_required (RFC 8446 §4.4.2.4),
# TLS 1.2 with handshake_failure (RFC 5246 §7.4.6).
MISSING = {"1.3": "certificate_required", "1.2": "handshake_failure"}
FLAG = {"1.3": "-tls1_3", "1.2": "-tls1_2"}


def _serve(tmp_path: Path, creds: Creds, impl: str, how: str) -> Served:
    return Served(tmp_path / "serve", "--impl", impl, "--client-auth", how, "--client-ca", creds.ca)


@pytest.mark.parametrize("version", ["1.3", "1.2"])
@pytest.mark.parametrize("impl", ["rust", "ssl", "tlslite"])
def test_require(tmp_path: Path, impl: str, version: str) -> None:
    creds = make_creds(tmp_path)
    other = make_creds(tmp_path / "other")  # a client certificate no CA of ours issued
    served = _serve(tmp_path, creds, impl, "require")
    assert "client certificates required" in served.banner, served.banner
    flag = FLAG[version]
    try:
        mark = served.mark()
        out = s_client(
            served.port, served.ca_file, flag, "-cert", creds.client_cert, "-key", creds.client_key
        )
        assert "ping-resume" in out, out
        line = served.wait_for(" handshake ", since=mark)
        assert line.endswith("client CN=tlsbench-client"), line

        mark = served.mark()
        out = s_client(served.port, served.ca_file, flag)
        assert "ping-resume" not in out, out
        line = served.wait_for(" failed: ", since=mark)
        assert f"sent {MISSING[version]}" in line, line

        mark = served.mark()
        out = s_client(
            served.port, served.ca_file, flag, "-cert", other.client_cert, "-key", other.client_key
        )
        assert "ping-resume" not in out, out
        line = served.wait_for(" failed: ", since=mark)
        assert "sent unknown_ca" in line, line
    finally:
        lines = served.stop()
    assert "1 good handshakes, 2 failed" in lines[-1], lines[-1]


@pytest.mark.parametrize("impl", ["rust", "ssl", "tlslite"])
def test_optional_takes_a_client_without_one(tmp_path: Path, impl: str) -> None:
    creds = make_creds(tmp_path)
    served = _serve(tmp_path, creds, impl, "optional")
    try:
        for version in ("1.3", "1.2"):
            mark = served.mark()
            out = s_client(served.port, served.ca_file, FLAG[version])
            assert "ping-resume" in out, out
            line = served.wait_for(" handshake ", since=mark)
            assert f"TLS {version}" in line and " client " not in line, line
    finally:
        served.stop()


@pytest.mark.parametrize("version", ["1.3", "1.2"])
@pytest.mark.parametrize("impl", ["rust", "ssl", "tlslite"])
def test_connect_presents_a_certificate(tmp_path: Path, impl: str, version: str) -> None:
    if impl == "tlslite" and version == "1.3":
        impl = "ssl"  # tlslite-ng 0.8.2's TLS 1.3 client certificate is refused by OpenSSL
    creds = make_creds(tmp_path)
    common = (
        "--impl", impl, "--tls", version, "--ca-file", creds.ca, "--server-name", "localhost",
        "--http",
    )  # fmt: skip
    with s_server(creds, "-Verify", "1", "-CAfile", creds.ca, "-verify_return_error") as (_, port):
        r = tlsbench(
            "connect", f"127.0.0.1:{port}", *common,
            "--cert-file", creds.client_cert, "--key-file", creds.client_key,
        )  # fmt: skip
        assert r.returncode == 0, r.stderr
        assert "HTTP/1.0 200 ok" in r.stdout, r.stdout
        r = tlsbench("connect", f"127.0.0.1:{port}", *common)
        assert r.returncode == 1, r.stdout
        assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, r.stderr
        assert "HTTP/1.0 200 ok" not in r.stdout
