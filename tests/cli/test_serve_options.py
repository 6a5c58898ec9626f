"""`tlsbench serve --tls/--suite/--group` restrict and order what it accepts; what it cannot
serve is a usage error before it listens."""

from __future__ import annotations

from pathlib import Path

from cli_peers import Served, binary, run_peer, tlsbench


def _s_client(port: int, ca_file: str, *args: str) -> str:
    run = run_peer(
        [
            binary("openssl", "openssl"),
            "s_client",
            "-connect",
            f"127.0.0.1:{port}",
            "-servername",
            "localhost",
            "-CAfile",
            ca_file,
            "-verify_return_error",
            "-brief",
            *args,
        ],
        b"ping\n",
    )
    return run.output


def test_lists_restrict_and_order(tmp_path: Path) -> None:
    served = Served(
        tmp_path,
        "--tls",
        "1.2",
        "--suite",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,TLS_RSA_WITH_AES_128_GCM_SHA256",
        "--group",
        "secp384r1",
    )
    try:
        # Our order wins over the client's: it lists the RSA suite first.
        out = _s_client(
            served.port,
            served.ca_file,
            "-cipher",
            "AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384",
            "-groups",
            "X25519:P-384",
        )
        assert "Ciphersuite: ECDHE-RSA-AES256-GCM-SHA384" in out, out
        assert "Server Temp Key: ECDH, secp384r1, 384 bits" in out
        # TLS 1.3 is not accepted: protocol_version.
        out = _s_client(served.port, served.ca_file, "-tls1_3")
        assert "alert protocol version" in out, out
        # A group it does not take leaves only the RSA key exchange suite.
        out = _s_client(served.port, served.ca_file, "-groups", "X25519")
        assert "Ciphersuite: AES128-GCM-SHA256" in out, out
    finally:
        lines = served.stop()
    assert "received" not in lines[-1]
    assert "sent protocol_version: 1" in lines[-1], lines[-1]


def test_suite_order_for_tls13(tmp_path: Path) -> None:
    served = Served(tmp_path, "--suite", "TLS_CHACHA20_POLY1305_SHA256,TLS_AES_256_GCM_SHA384")
    try:
        out = _s_client(served.port, served.ca_file)
        assert "Protocol version: TLSv1.3" in out and "TLS_CHACHA20_POLY1305_SHA256" in out, out
    finally:
        served.stop()


def test_what_cannot_be_served_is_a_usage_error(tmp_path: Path) -> None:
    r = tlsbench(
        "serve",
        "--port",
        "0",
        "--cert",
        "rsa2048",
        "--cert-dir",
        str(tmp_path),
        "--suite",
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    )
    assert r.returncode == 2
    assert "needs a certificate this server does not have" in r.stderr
    r = tlsbench(
        "serve", "--port", "0", "--tls", "1.3", "--suite", "TLS_RSA_WITH_AES_128_GCM_SHA256"
    )
    assert r.returncode == 2 and "none of the suites is of the TLS versions given" in r.stderr
    r = tlsbench("serve", "--port", "0", "--group", "x448")
    assert r.returncode == 2 and "unknown group 'x448'" in r.stderr
    r = tlsbench("serve", "--port", "0", "--cert-file", str(tmp_path / "missing.pem"))
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_provider_is_an_alias_of_impl() -> None:
    for command in ("run", "serve", "connect", "trace", "load", "speed"):
        r = tlsbench(command, "--help")
        assert r.returncode == 0 and "--impl, --provider" in r.stdout, (command, r.stdout)


def test_serve_with_the_outside_stacks(tmp_path: Path) -> None:
    for impl in ("ssl", "tlslite"):
        served = Served(tmp_path / impl, "--impl", impl)
        try:
            assert f"({impl}; TLS 1.3, 1.2;" in served.banner
            out = _s_client(served.port, served.ca_file, "-tls1_3")
            assert "Protocol version: TLSv1.3" in out and "Verification: OK" in out, out
            out = _s_client(served.port, served.ca_file, "-tls1_2", "-cipher", "AES128-GCM-SHA256")
            assert "Ciphersuite: AES128-GCM-SHA256" in out, (impl, out)
        finally:
            lines = served.stop()
        assert lines[-1].startswith("summary: 2 connections, 2 good handshakes, 0 failed"), lines
