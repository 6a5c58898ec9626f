"""`tlsbench connect` as a client a person can trust: it verifies by default, says what it
negotiated and how long each step took, and fails in one line naming the alert it sent."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_peers import Served, binary, tlsbench


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    served = Served(tmp_path_factory.mktemp("connect"))
    yield served
    served.stop()


def _fields(stdout: str) -> dict[str, str]:
    out = {}
    for line in stdout.splitlines():
        match = re.match(r"(\w[\w ]*?)\s{2,}(.*)$", line)
        if match:
            out[match.group(1)] = match.group(2)
    return out


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A certificate made as people make them, `openssl req -x509` (CA:TRUE on the leaf)."""
    directory = tmp_path_factory.mktemp("self-signed")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            binary("openssl", "openssl"),
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    text = subprocess.run(
        ["openssl", "x509", "-in", str(cert), "-noout", "-text"], capture_output=True, text=True
    ).stdout
    assert "CA:TRUE" in text  # the case this test is about
    return str(cert), str(key)


def test_default_verification_refuses_an_untrusted_ca(server: Served) -> None:
    since = server.mark()
    r = tlsbench("connect", f"127.0.0.1:{server.port}")
    assert r.returncode == 1
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("tlsbench: error: certificate verification failed")
    assert "sent unknown_ca" in lines[0]
    assert r.stdout == ""
    # The alert really reached the server.
    assert "received unknown_ca" in server.wait_for(" failed: ", since)


@pytest.mark.parametrize("impl", ["rust", "python", "cryptography", "ssl", "tlslite"])
def test_ca_file_accepts_and_the_output_says_what_was_negotiated(server: Served, impl: str) -> None:
    r = tlsbench(
        "connect",
        f"localhost:{server.port}",
        "--impl",
        impl,
        "--ca-file",
        server.ca_file,
        "--data",
        "hello",
    )
    assert r.returncode == 0, r.stderr
    f = _fields(r.stdout)
    assert f["connected"] == f"localhost:{server.port} ({impl})"
    assert f["version"] == "TLS 1.3"
    assert f["suite"] == "TLS_AES_128_GCM_SHA256"  # the server's first choice
    assert f["certificate"].startswith("CN=localhost (issuer CN=tlsbench test CA")
    assert f["trust"] == f"verified against {server.ca_file}"
    if impl not in ("ssl", "tlslite"):  # what those two stacks do not tell
        assert f["group"] == "x25519"
        assert f["signature"] == "ecdsa_secp256r1_sha256"
    for step in ("tcp connect", "handshake", "first byte"):
        value = float(f[step].removesuffix(" ms"))
        assert 0 < value < 10_000, (step, f[step])
    assert r.stdout.splitlines()[-1] == "hello"


@pytest.mark.parametrize("impl", ["rust", "ssl", "tlslite"])
def test_verification_failure_names_the_alert_for_every_stack(server: Served, impl: str) -> None:
    r = tlsbench("connect", f"localhost:{server.port}", "--impl", impl)
    assert r.returncode == 1
    assert len(r.stderr.splitlines()) == 1, r.stderr
    assert "certificate verification failed" in r.stderr and "sent unknown_ca" in r.stderr


def test_insecure_connects_and_warns(server: Served) -> None:
    r = tlsbench("connect", f"127.0.0.1:{server.port}", "--insecure", "--data", "x")
    assert r.returncode == 0, r.stderr
    assert "warning: --insecure: the server's certificate is not verified" in r.stderr
    assert _fields(r.stdout)["trust"] == "not verified (--insecure)"


def test_an_rsa_suite_needs_no_cert_option(server: Served) -> None:
    r = tlsbench(
        "connect",
        f"localhost:{server.port}",
        "--suite",
        "TLS_RSA_WITH_AES_128_GCM_SHA256",
        "--ca-file",
        server.ca_file,
    )
    assert r.returncode == 0, r.stderr
    f = _fields(r.stdout)
    assert (f["version"], f["suite"]) == ("TLS 1.2", "TLS_RSA_WITH_AES_128_GCM_SHA256")
    assert f["group"] == "none (RSA key exchange)"
    assert f["certificate"].endswith("(issuer CN=tlsbench test CA (rsa2048))")


def test_lists_restrict_what_is_offered(server: Served) -> None:
    r = tlsbench(
        "connect",
        f"localhost:{server.port}",
        "--ca-file",
        server.ca_file,
        "--tls",
        "1.2",
        "--group",
        "secp384r1,x25519",
        "--suite",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,TLS_AES_128_GCM_SHA256",
    )
    assert r.returncode == 0, r.stderr
    f = _fields(r.stdout)
    # The server prefers x25519 to secp384r1; the 1.3 suite is not of --tls 1.2.
    assert (f["version"], f["suite"], f["group"]) == (
        "TLS 1.2",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        "x25519",
    )


def test_a_self_signed_certificate_is_trusted_as_itself(self_signed: tuple[str, str]) -> None:
    cert, key = self_signed
    openssl = binary("openssl", "openssl")
    port = _free_port()
    server = subprocess.Popen(
        [openssl, "s_server", "-accept", f"127.0.0.1:{port}", "-cert", cert, "-key", key, "-quiet"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_port(port)
        r = tlsbench("connect", f"localhost:{port}", "--ca-file", cert)
        assert r.returncode == 0, r.stderr
        assert _fields(r.stdout)["certificate"] == "CN=localhost (issuer CN=localhost)"
        # Trusted as itself, but still only for its own names.
        r = tlsbench(
            "connect", f"127.0.0.1:{port}", "--ca-file", cert, "--server-name", "example.org"
        )
        assert r.returncode == 1
        assert "sent bad_certificate" in r.stderr and "example.org" in r.stderr
        # And not trusted at all without --ca-file.
        r = tlsbench("connect", f"localhost:{port}")
        assert r.returncode == 1 and "sent unknown_ca" in r.stderr
    finally:
        server.kill()
        server.wait()


def test_serve_a_users_own_certificate(tmp_path: Path, self_signed: tuple[str, str]) -> None:
    cert, key = self_signed
    served = Served(tmp_path, "--cert-file", cert, "--key-file", key)
    try:
        assert "CA file" not in served.banner  # nothing generated
        assert "TLS_ECDHE_RSA_" not in served.banner  # an EC key serves no RSA suite
        r = tlsbench("connect", f"localhost:{served.port}", "--ca-file", cert, "--tls", "1.2")
        assert r.returncode == 0, r.stderr
        f = _fields(r.stdout)
        assert f["suite"] == "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
        assert f["certificate"] == "CN=localhost (issuer CN=localhost)"
    finally:
        served.stop()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int) -> None:
    import socket

    end = time.monotonic() + 10
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"nothing listens on {port}")


@pytest.mark.parametrize("impl", ["rust", "ssl", "tlslite"])
def test_a_tls13_suite_and_group_restriction_holds_for_every_stack(
    server: Served, impl: str
) -> None:
    # For ssl this runs through OPENSSL_CONF (Python 3.11 has no set_ciphersuites).
    since = server.mark()
    r = tlsbench(
        "connect",
        f"localhost:{server.port}",
        "--impl",
        impl,
        "--ca-file",
        server.ca_file,
        "--tls",
        "1.3",
        "--suite",
        "TLS_AES_256_GCM_SHA384",
        "--group",
        "secp256r1",
    )
    assert r.returncode == 0, r.stderr
    assert _fields(r.stdout)["suite"] == "TLS_AES_256_GCM_SHA384"
    assert "TLS 1.3 TLS_AES_256_GCM_SHA384 secp256r1 handshake" in server.wait_for(
        " handshake ", since
    )
