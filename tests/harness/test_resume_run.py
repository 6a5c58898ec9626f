"""``tlsbench run --workload resume`` and ``--client-auth`` for real: every measured
connection resumes (the JSON says how many did), a case where fewer resumed fails, and a
server of a --client-auth case refuses a client without a certificate."""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path
from typing import Any

import pytest

from conftest import TINY, tlsbench
from tlsbench.harness.credentials import write_harness_credentials
from tlsbench.harness.impls import client_factory, server_factory
from tlsbench.harness.params import Tls
from tlsbench.harness.workloads import obtain_session

SECTION = "resume | TLS 1.2 ECDHE | TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"


def _run(tmp_path: Path, *args: str) -> tuple[Any, dict[str, Any]]:
    path = tmp_path / "results.json"
    r = tlsbench("run", *TINY, "--handshakes", "12", "--json", str(path), *args, timeout=300)
    data = json.loads(path.read_text()) if path.exists() else {}
    return r, data


def _ok_resumed(data: dict[str, Any]) -> list[dict[str, Any]]:
    cases = [c for c in data["cases"] if c["workload"] == "resume"]
    assert cases
    for c in cases:
        assert c["status"] == "ok", c["reason"]
        assert c["rate"]["unit"] == "resumed handshakes/s"
        assert c["connections"] == c["ops"] >= 12
        assert c["resumed"] == c["connections"], c
    return cases


@pytest.mark.parametrize("impl", ["rust", "ssl"])
def test_resume_tickets_both_versions(tmp_path: Path, impl: str) -> None:
    r, data = _run(
        tmp_path, "--impl", impl, "--workload", "resume", "--tls", "1.2,1.3",
        "--suite", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_AES_128_GCM_SHA256",
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    cases = _ok_resumed(data)
    assert {(c["tls"], c["resumption"]) for c in cases} == {("1.2", "tickets"), ("1.3", "tickets")}
    assert f"{SECTION} | x25519 | ecdsa-p256 | tcp | resumed by tickets" in r.stdout, r.stdout


@pytest.mark.parametrize("impl", ["rust", "ssl", "tlslite"])
def test_resume_by_session_id(tmp_path: Path, impl: str) -> None:
    r, data = _run(
        tmp_path, "--impl", impl, "--workload", "resume", "--tls", "1.2",
        "--suite", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "--resumption", "session-id",
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    (case,) = _ok_resumed(data)
    assert case["resumption"] == "session-id"
    assert "resumed by session-id" in r.stdout


def test_fewer_resumed_is_a_failed_case(tmp_path: Path) -> None:
    """Two server processes each with their own session cache: a session made on one
    is not resumed on the other, and the case fails rather than report a faster rate."""
    r, data = _run(
        tmp_path, "--impl", "ssl", "--workload", "resume", "--tls", "1.2",
        "--suite", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "--resumption", "session-id",
        "--server-workers", "2", "--concurrency", "2", "--handshakes", "60",
    )  # fmt: skip
    assert r.returncode == 1, r.stdout
    (case,) = data["cases"]
    assert case["status"] == "failed"
    assert "connections resumed (a full handshake is not a resumed one)" in case["reason"]
    assert "failed: only " in r.stderr and r.stderr.count("\n") == 1, r.stderr


@pytest.mark.parametrize("impl", ["rust", "ssl", "tlslite"])
def test_client_auth_handshakes(tmp_path: Path, impl: str) -> None:
    r, data = _run(
        tmp_path, "--impl", impl, "--workload", "handshake", "--client-auth", "--tls", "1.2",
        "--suite", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    (case,) = data["cases"]
    assert case["status"] == "ok" and case["client_auth"] is True, case["reason"]
    assert case["errors"] == case["server_errors"] == 0
    assert "client certificate required" in r.stdout


def _tls(directory: Path, client_auth: bool, **kwargs: Any) -> Tls:
    f = write_harness_credentials(directory, "ecdsa-p256")
    return Tls(
        "1.2", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "x25519", "ecdsa-p256",
        str(f.ca_file), str(f.cert_file), str(f.key_file),
        str(f.client_cert_file), str(f.client_key_file), client_auth=client_auth, **kwargs,
    )  # fmt: skip


@pytest.mark.parametrize("impl", ["rust", "ssl", "tlslite"])
def test_client_auth_servers_refuse_a_client_without_one(tmp_path: Path, impl: str) -> None:
    import dataclasses

    required = _tls(tmp_path, True)
    plain = dataclasses.replace(required, client_auth=False)
    make_server = server_factory(impl, required)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    outcome: list[str] = []

    def serve() -> None:
        sock, _ = listener.accept()
        sock.settimeout(10)
        try:
            make_server(sock).handshake()
            outcome.append("accepted")
        except Exception as exc:
            outcome.append(f"refused: {exc}")
        finally:
            sock.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    sock = socket.create_connection(listener.getsockname(), timeout=10)
    client = client_factory("ssl", plain)(sock)
    with pytest.raises(Exception):  # noqa: B017 - each stack raises its own alert type
        client.handshake()
        client.send(b"x")
        client.recv(1)
    sock.close()
    thread.join(10)
    listener.close()
    assert outcome and outcome[0].startswith("refused"), outcome


def test_obtain_session_needs_a_server_that_gives_one(tmp_path: Path) -> None:
    """Full-handshake cases issue no TLS 1.3 ticket: there is nothing to resume."""
    tls = dataclasses_replace(_tls(tmp_path, False), "1.3")
    make_server = server_factory("ssl", tls)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)

    def serve() -> None:
        sock, _ = listener.accept()
        sock.settimeout(10)
        try:
            session = make_server(sock)
            session.handshake()
            session.send(session.recv(1))
            while session.recv(1 << 16):
                pass
            session.close()
        finally:
            sock.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    with pytest.raises(RuntimeError, match="the server gave no session to resume"):
        obtain_session(client_factory("ssl", tls), listener.getsockname()[1], 10)
    thread.join(10)
    listener.close()


def dataclasses_replace(tls: Tls, version: str) -> Tls:
    import dataclasses

    return dataclasses.replace(tls, version=version, suite="TLS_AES_128_GCM_SHA256")


def _ladder(tmp_path: Path, *args: str) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    path = tmp_path / "trace.json"
    r = tlsbench("trace", "--warmup", "1", "--json", str(path), *args)
    assert r.returncode == 0, r.stderr
    data = json.loads(path.read_text())
    rows = [(m["from"], m["name"]) for m in data["ladder"] if m["kind"] != "application_data"]
    return data, rows[1:]  # after the TCP connect


C, S = "client", "server"


@pytest.mark.parametrize("resumption", ["tickets", "session-id"])
def test_trace_resumed_tls12(tmp_path: Path, resumption: str) -> None:
    data, rows = _ladder(tmp_path, "--tls", "1.2", "--resume", "--resumption", resumption)
    assert data["resumed"] is True
    # RFC 5246 §7.3 abbreviated handshake: the server's Finished first, no certificate,
    # no key exchange.
    assert rows == [
        (C, "ClientHello"),
        (S, "ServerHello"),
        (S, "ChangeCipherSpec"),
        (S, "Finished"),
        (C, "ChangeCipherSpec"),
        (C, "Finished"),
    ], rows


def test_trace_client_auth_tls12(tmp_path: Path) -> None:
    data, rows = _ladder(tmp_path, "--tls", "1.2", "--client-auth")
    assert data["client_auth"] is True and data["resumed"] is False
    names = [f"{who} {name}" for who, name in rows]
    at = names.index("server CertificateRequest")
    assert names[at : at + 5] == [
        "server CertificateRequest",
        "server ServerHelloDone",
        "client Certificate",
        "client ClientKeyExchange",
        "client CertificateVerify",
    ], names


def test_trace_resumed_tls13(tmp_path: Path) -> None:
    data, rows = _ladder(tmp_path, "--tls", "1.3", "--resume")
    assert data["resumed"] is True
    hellos = {m["name"]: m["detail"] for m in data["messages"] if m["name"].endswith("Hello")}
    assert hellos == {"ClientHello": "pre_shared_key", "ServerHello": "pre_shared_key"}
    names = [name for _, name in rows]
    assert "Certificate" not in names and "CertificateVerify" not in names, names
    assert (S, "EncryptedExtensions") in rows and (C, "Finished") in rows


def test_trace_client_auth_tls13(tmp_path: Path) -> None:
    _, rows = _ladder(tmp_path, "--tls", "1.3", "--client-auth")
    at = rows.index((S, "CertificateRequest"))
    assert rows[at + 1 : at + 4] == [(S, "Certificate"), (S, "CertificateVerify"), (S, "Finished")]
    tail = [r for r in rows[at + 4 :] if r[1] != "ChangeCipherSpec"]
    assert tail == [(C, "Certificate"), (C, "CertificateVerify"), (C, "Finished")], rows


@pytest.mark.parametrize("impl", ["rust", "ssl", "tlslite"])
def test_a_server_that_did_not_ask_fails_a_client_auth_case(tmp_path: Path, impl: str) -> None:
    """server_op refuses a client-auth case's connection that brought no certificate, so a
    server that does not ask cannot pass for a faster mutually authenticated one."""
    import dataclasses

    from tlsbench.harness.params import Case
    from tlsbench.harness.workloads import server_op

    tls = _tls(tmp_path, False)
    case = Case(impl, impl, "1.2", tls.suite, "x25519", "ecdsa-p256", "handshake", client_auth=True)
    make_server = server_factory(impl, tls)  # its servers do not ask for a certificate
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    outcome: list[str] = []

    def serve() -> None:
        sock, _ = listener.accept()
        sock.settimeout(10)
        try:
            server_op(make_server(sock), case)
            outcome.append("served")
        except ConnectionError as exc:
            outcome.append(str(exc))
        finally:
            sock.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    sock = socket.create_connection(listener.getsockname(), timeout=10)
    client = client_factory("ssl", dataclasses.replace(tls, client_auth=True))(sock)
    client.handshake()
    client.send(b"x")
    with pytest.raises((EOFError, OSError)):
        if not client.recv(1):
            raise EOFError("closed")
    sock.close()
    thread.join(10)
    listener.close()
    assert outcome == ["the server accepted a client without a certificate"], outcome
