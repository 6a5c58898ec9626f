"""`tlsbench serve` with no version, suite or group option accepts what a real server does:
OpenSSL's s_client, GnuTLS's gnutls-cli and Python's ssl, each version, suite and group,
all against one server process."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_peers import (
    OPENSSL_GROUP,
    SUITES12,
    Served,
    binary,
    client_groups,
    profile_cases,
    run_peer,
)

CASES = profile_cases()
IDS = [f"{v}-{s}-{g}" for v, s, g in CASES]
# What each client prints of the key exchange group.
OPENSSL_TEMP_KEY = {
    "x25519": "X25519, 253 bits",
    "secp256r1": "ECDH, prime256v1, 256 bits",
    "secp384r1": "ECDH, secp384r1, 384 bits",
}
GNUTLS_GROUP = {"x25519": "X25519", "secp256r1": "SECP256R1", "secp384r1": "SECP384R1"}
GNUTLS_CIPHER = {"AES_128_GCM": "AES-128-GCM", "AES_256_GCM": "AES-256-GCM"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    served = Served(tmp_path_factory.mktemp("serve-defaults"))
    yield served
    lines = served.stop()
    # Every client of this module completed its handshake: not one failed connection.
    assert lines and lines[-1].startswith("summary: ") and " 0 failed" in lines[-1], lines[-5:]


def _cipher(suite: str) -> str:
    if "CHACHA20" in suite:
        return "CHACHA20-POLY1305"
    return GNUTLS_CIPHER["AES_256_GCM" if "AES_256" in suite else "AES_128_GCM"]


def test_the_banner_lists_the_whole_profile(server: Served) -> None:
    for needle in (
        "TLS 1.3, 1.2",
        *SUITES12,
        "x25519, secp256r1, secp384r1",
        "ecdsa-p256",
        "rsa2048",
    ):
        assert needle in server.banner, needle
    assert Path(server.ca_file).is_file()


@pytest.mark.parametrize(("version", "suite", "group"), CASES, ids=IDS)
def test_openssl_s_client(server: Served, version: str, suite: str, group: str) -> None:
    openssl = binary("openssl", "openssl")
    groups = ":".join(OPENSSL_GROUP[g] for g in client_groups(version, suite, group))
    if version == "1.3":
        pick = ["-tls1_3", "-ciphersuites", suite]
    else:
        pick = ["-tls1_2", "-cipher", SUITES12[suite]]
    payload = f"ping {version} {suite} {group}\n".encode()
    run = run_peer(
        [
            openssl,
            "s_client",
            "-connect",
            f"127.0.0.1:{server.port}",
            "-servername",
            "localhost",
            "-CAfile",
            server.ca_file,
            "-verify_return_error",
            "-brief",
            "-groups",
            groups,
            *pick,
        ],
        payload,
    )
    assert run.echoed, run.output
    assert f"Protocol version: TLSv{version}" in run.output
    assert "Verification: OK" in run.output
    name = suite if version == "1.3" else SUITES12[suite]
    assert f"Ciphersuite: {name}" in run.output
    if group == "-":
        assert "Server Temp Key" not in run.output
    else:
        assert f"Server Temp Key: {OPENSSL_TEMP_KEY[group]}" in run.output


@pytest.mark.parametrize(("version", "suite", "group"), CASES, ids=IDS)
def test_gnutls_cli(server: Served, version: str, suite: str, group: str) -> None:
    gnutls = binary("gnutls-cli", "gnutls-bin")
    if version == "1.3":
        kx = ""
    elif suite.startswith("TLS_RSA_"):
        kx = ":-KX-ALL:+RSA"
    else:
        kx = ":-KX-ALL:+ECDHE-ECDSA" if "_ECDSA_" in suite else ":-KX-ALL:+ECDHE-RSA"
    groups = "".join(f":+GROUP-{GNUTLS_GROUP[g]}" for g in client_groups(version, suite, group))
    priority = (
        f"NORMAL:-VERS-ALL:+VERS-TLS{version}:-CIPHER-ALL:+{_cipher(suite)}{kx}:-GROUP-ALL{groups}"
    )
    payload = f"ping {version} {suite} {group}\n".encode()
    run = run_peer(
        [
            gnutls,
            "--x509cafile",
            server.ca_file,
            "-p",
            str(server.port),
            "--priority",
            priority,
            "localhost",
        ],
        payload,
    )
    assert run.echoed, run.output
    assert "Handshake was completed" in run.output
    description = next(line for line in run.output.splitlines() if "- Description:" in line)
    assert f"(TLS{version}" in description and f"({_cipher(suite)})" in description, description
    if group != "-":
        assert f"-{GNUTLS_GROUP[group]})" in description, description


def _ssl_exchange(port: int, ca_file: str, version: str, suite: str) -> tuple[str, str, bytes]:
    ctx = ssl.create_default_context(cafile=ca_file)
    tls = ssl.TLSVersion.TLSv1_3 if version == "1.3" else ssl.TLSVersion.TLSv1_2
    ctx.minimum_version = ctx.maximum_version = tls
    if version == "1.2":
        ctx.set_ciphers(SUITES12[suite])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as tls_sock:
            tls_sock.sendall(b"ping ssl\n")
            reply = tls_sock.recv(100)
            cipher = tls_sock.cipher()
            assert cipher is not None
            return str(tls_sock.version()), cipher[0], reply


@pytest.mark.parametrize("suite", list(SUITES12))
def test_python_ssl_tls12(server: Served, suite: str) -> None:
    version, cipher, reply = _ssl_exchange(server.port, server.ca_file, "1.2", suite)
    assert (version, cipher, reply) == ("TLSv1.2", SUITES12[suite], b"ping ssl\n")


_SSL13 = """
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
ctx.minimum_version = ssl.TLSVersion.TLSv1_3
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10) as raw:
    with ctx.wrap_socket(raw, server_hostname="localhost") as s:
        s.sendall(b"ping ssl\\n")
        print(s.version(), s.cipher()[0], s.recv(100))
"""


@pytest.mark.parametrize(
    ("suite", "group"),
    [(s, g) for v, s, g in CASES if v == "1.3"],
    ids=[i for i in IDS if i.startswith("1.3")],
)
def test_python_ssl_tls13(server: Served, suite: str, group: str, tmp_path: Path) -> None:
    # Python 3.11's ssl takes TLS 1.3 suites and groups only from OPENSSL_CONF at start-up.
    conf = tmp_path / "openssl.cnf"
    conf.write_text(
        "openssl_conf = openssl_init\n[openssl_init]\nssl_conf = ssl_sect\n[ssl_sect]\n"
        "system_default = sd\n[sd]\n"
        f"Ciphersuites = {suite}\nGroups = {OPENSSL_GROUP[group]}\n"
    )
    since = server.mark()
    r = subprocess.run(
        [sys.executable, "-c", _SSL13, str(server.port), server.ca_file],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "OPENSSL_CONF": str(conf)},
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["TLSv1.3", suite, "b'ping", "ssl\\n'"]
    # The group is only in our server's log line for that connection. The previous test's
    # last connection (another suite or group) may log after ``since``, so wait for ours
    # by its content: a wrong group never writes it and the wait fails.
    server.wait_for(f"TLS 1.3 {suite} {group} handshake", since)
