"""serve, connect, trace, certs, info: the companion commands for real."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import tlsbench


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_listening(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert "listening on" in line, line
    return line


@pytest.mark.parametrize(
    ("tls", "suite"), [("1.3", None), ("1.2", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256")]
)
def test_serve_and_connect_echo_and_http(tmp_path: Path, tls: str, suite: str | None) -> None:
    port = _free_port()
    extra = ["--suite", suite] if suite else []
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tlsbench",
            "serve",
            "--port",
            str(port),
            "--count",
            "2",
            "--provider",
            "cryptography",
            "--tls",
            tls,
            "--cert-dir",
            str(tmp_path),
            "--http",
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_listening(server)
        ca = str(tmp_path / "ecdsa-p256-ca.pem")
        r = tlsbench(
            "connect",
            f"127.0.0.1:{port}",
            "--ca-file",
            ca,
            "--tls",
            tls,
            "--provider",
            "rust",
            "--http",
            *extra,
        )
        assert r.returncode == 0, r.stderr
        assert f"TLS {tls}" in r.stdout and "HTTP/1.1 200 OK" in r.stdout
        assert "x25519" in r.stdout and "handshake" in r.stdout
        r = tlsbench(
            "connect", f"localhost:{port}", "--ca-file", ca, "--tls", tls, *extra, "--http"
        )
        assert r.returncode == 0, r.stderr
        out, _ = server.communicate(timeout=20)
        assert server.returncode == 0
        lines = out.splitlines()
        assert sum(" handshake " in line and line.endswith(" ms") for line in lines) == 2
        assert lines[-1] == "summary: 2 connections, 2 good handshakes, 0 failed"
    finally:
        server.kill()
        server.wait()


def test_connect_to_nothing_is_one_line_error() -> None:
    r = tlsbench("connect", f"127.0.0.1:{_free_port()}")
    assert r.returncode == 1
    assert r.stderr.startswith("tlsbench: error: cannot connect") and "Traceback" not in r.stderr


def test_serve_against_openssl_s_client(tmp_path: Path) -> None:
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tlsbench",
            "serve",
            "--port",
            str(port),
            "--count",
            "1",
            "--cert-dir",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_listening(server)
        client = subprocess.Popen(
            [
                "openssl",
                "s_client",
                "-connect",
                f"127.0.0.1:{port}",
                "-tls1_3",
                "-quiet",
                "-no_ign_eof",
                "-CAfile",
                str(tmp_path / "ecdsa-p256-ca.pem"),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert client.stdin is not None and client.stdout is not None
        client.stdin.write(b"hello\n")
        client.stdin.flush()
        assert client.stdout.readline() == b"hello\n"
        time.sleep(0.2)
        client.stdin.close()
        client.wait(10)
        server.wait(10)
    finally:
        server.kill()
        server.wait()


@pytest.mark.parametrize(
    ("provider", "tls", "suite", "cert"),
    [
        ("rust", "1.3", "TLS_AES_128_GCM_SHA256", "ecdsa-p256"),
        ("python", "1.2", "TLS_RSA_WITH_AES_128_GCM_SHA256", "rsa2048"),
        ("cryptography", "1.2", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "rsa2048"),
    ],
)
def test_trace_draws_the_ladder_and_the_split(
    tmp_path: Path, provider: str, tls: str, suite: str, cert: str
) -> None:
    out = tmp_path / "trace.json"
    r = tlsbench(
        "trace",
        "--provider",
        provider,
        "--tls",
        tls,
        "--suite",
        suite,
        "--cert",
        cert,
        "--warmup",
        "1",
        "--json",
        str(out),
    )
    assert r.returncode == 0, r.stderr
    data = json.loads(out.read_text())
    names = [m["name"] for m in data["messages"]]
    assert names[0] == "ClientHello" and names[1] == "ServerHello" and names[-1] == "Finished"
    ladder = [(m["from"], m["name"]) for m in data["messages"]]
    if tls == "1.2":
        assert "ClientKeyExchange" in names and "ServerHelloDone" in names
        assert ("ServerKeyExchange" in names) == ("ECDHE" in suite)
        # The walkthrough's ending: CCS and Finished each way, in that order.
        assert ladder[-4:] == [
            ("client", "ChangeCipherSpec"),
            ("client", "Finished"),
            ("server", "ChangeCipherSpec"),
            ("server", "Finished"),
        ]
    else:
        assert "EncryptedExtensions" in names and "CertificateVerify" in names
        # Middlebox compatibility: the dummy CCS after ServerHello and before our Finished.
        assert ladder[2] == ("server", "ChangeCipherSpec")
        assert ladder[-2:] == [("client", "ChangeCipherSpec"), ("client", "Finished")]
    assert data["messages"][0]["from"] == "client" and data["messages"][1]["from"] == "server"
    for m in data["messages"]:
        assert m["size"] > 0 and m["received_ms"] >= m["sent_ms"] >= 0
    for side in ("client", "server"):
        split = data["cpu_ms"][side]
        assert split["total"] > 0 and split["key derivation"] > 0
        assert split["record protection"] > 0 and split["asymmetric crypto"] > 0
    assert "TCP connect" in r.stdout and "ClientHello" in r.stdout and "the rest" in r.stdout
    # The ladder goes on past the handshake: the first request and its response.
    ends = [(m["kind"], m["from"]) for m in data["ladder"][-2:]]
    assert ends == [("application_data", "client"), ("application_data", "server")]


def test_certs_and_info(tmp_path: Path) -> None:
    r = tlsbench("certs", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    for kind in ("rsa2048", "ecdsa-p256"):
        for part in ("ca", "cert", "key"):
            assert (tmp_path / f"{kind}-{part}.pem").read_text().startswith("-----BEGIN")
    r = tlsbench("info")
    assert r.returncode == 0 and "core.aws_lc_rs" in r.stdout
