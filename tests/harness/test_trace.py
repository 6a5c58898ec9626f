"""tlsbench trace: the whole ladder, from the TCP connect to the first request and response."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from conftest import tlsbench
from tlsbench.harness.trace import REQUEST, RESPONSE, SideLog, _tls13_key_name

C, S = "client", "server"
CHTS, SHTS = "client_handshake_traffic_secret", "server_handshake_traffic_secret"
Row = tuple[str, str, str | None]  # (from, message, key that protected its record)
TLS13: list[Row] = [
    (C, "ClientHello", None),
    (S, "ServerHello", None),
    (S, "ChangeCipherSpec", None),
    (S, "EncryptedExtensions", SHTS),
    (S, "Certificate", SHTS),
    (S, "CertificateVerify", SHTS),
    (S, "Finished", SHTS),
    (C, "ChangeCipherSpec", None),
    (C, "Finished", CHTS),
]
TLS12_START: list[Row] = [
    (C, "ClientHello", None),
    (S, "ServerHello", None),
    (S, "Certificate", None),
]
TLS12_END: list[Row] = [
    (S, "ServerHelloDone", None),
    (C, "ClientKeyExchange", None),
    (C, "ChangeCipherSpec", None),
    (C, "Finished", "client write key"),
    (S, "ChangeCipherSpec", None),
    (S, "Finished", "server write key"),
]
TLS12_RSA = [*TLS12_START, *TLS12_END]
TLS12_ECDHE = [*TLS12_START, (S, "ServerKeyExchange", None), *TLS12_END]

FLOWS = [
    pytest.param(
        ["--tls", "1.3"],
        TLS13,
        ("client_application_traffic_secret_0", "server_application_traffic_secret_0"),
        5 + 1 + 16,  # header, inner content type, GCM tag
        id="tls13",
    ),
    pytest.param(
        ["--tls", "1.2", "--cert", "ecdsa-p256"],
        TLS12_ECDHE,
        ("client write key", "server write key"),
        5 + 8 + 16,  # header, explicit nonce, GCM tag
        id="tls12-ecdhe",
    ),
    pytest.param(
        ["--tls", "1.2", "--cert", "rsa2048", "--suite", "TLS_RSA_WITH_AES_128_GCM_SHA256"],
        TLS12_RSA,
        ("client write key", "server write key"),
        5 + 8 + 16,
        id="tls12-rsa",
    ),
]


def _run(tmp_path: Path, args: list[str]) -> tuple[dict[str, Any], str]:
    out = tmp_path / "trace.json"
    r = tlsbench("trace", *args, "--warmup", "1", "--json", str(out))
    assert r.returncode == 0, r.stderr
    return json.loads(out.read_text()), r.stdout


@pytest.mark.parametrize(("args", "handshake", "app_keys", "overhead"), FLOWS)
def test_trace_ladder_from_tcp_connect_to_first_response(
    tmp_path: Path,
    args: list[str],
    handshake: list[Row],
    app_keys: tuple[str, str],
    overhead: int,
) -> None:
    data, text = _run(tmp_path, args)
    ladder = data["ladder"]

    tcp = ladder[0]
    assert tcp["kind"] == "tcp" and tcp["name"] == "TCP connect (SYN, SYN-ACK, ACK)"
    assert tcp["from"] == C and tcp["duration_ms"] > 0
    assert tcp["received_ms"] == pytest.approx(tcp["duration_ms"])

    middle = ladder[1:-2]
    assert [(m["from"], m["name"], m["key"]) for m in middle] == handshake
    assert all(m["kind"] in ("handshake", "change_cipher_spec") for m in middle)
    # The old field still holds the handshake alone, row for row.
    assert data["messages"] == middle

    request, response = ladder[-2:]
    for row, who, key, sent in (
        (request, C, app_keys[0], REQUEST),
        (response, S, app_keys[1], RESPONSE),
    ):
        assert row["kind"] == "application_data" and row["from"] == who and row["key"] == key
        assert row["plaintext"] == len(sent) and row["records"] == 1
        assert row["size"] == len(sent) + overhead
        assert row["received_ms"] >= row["sent_ms"] > 0
    assert request["content"] == "GET / HTTP/1.1" and response["content"] == "HTTP/1.1 200 OK"

    received = [m["received_ms"] for m in ladder]
    assert received == sorted(received)

    rows = [line for line in text.splitlines() if "->" in line or "<-" in line]
    assert len(rows) == len(ladder)
    assert "TCP connect (SYN, SYN-ACK, ACK)" in rows[0]
    assert rows[-2].endswith(app_keys[0]) and f"application data {request['size']} B" in rows[-2]
    assert rows[-1].endswith(app_keys[1]) and f"application data {response['size']} B" in rows[-1]


def test_tls13_key_names_follow_the_secrets() -> None:
    stage = SimpleNamespace(client_secret=b"c" * 32, server_secret=b"s" * 32)
    client = SimpleNamespace(is_client=True, handshake_stage=stage)
    server = SimpleNamespace(is_client=False, handshake_stage=stage)
    ours, theirs = SideLog(), SideLog()  # one log per side, as in a trace
    assert _tls13_key_name(ours, client, b"c" * 32) == CHTS
    assert _tls13_key_name(theirs, server, b"s" * 32) == SHTS
    # After the handshake secret, each KeyUpdate moves to the next generation.
    assert _tls13_key_name(ours, client, b"x" * 32) == "client_application_traffic_secret_0"
    assert _tls13_key_name(ours, client, b"y" * 32) == "client_application_traffic_secret_1"
    assert _tls13_key_name(theirs, server, b"z" * 32) == "server_application_traffic_secret_0"
