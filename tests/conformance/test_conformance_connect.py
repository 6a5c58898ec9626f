"""Issue 11 on the client side: ``tlsbench connect`` (our engine) against a raw server
that answers with a too-short record, a malformed key share or a bad version sends
the alert the RFC names (read, and for TLS 1.3 decrypted, on the raw server) and
exits 1 with one line naming it."""

from __future__ import annotations

import os

import pytest
from cli_peers import Served, tlsbench
from conformance_rawserver import (
    Hello,
    RawServer,
    server_hello,
    tls12_flight,
    tls12_keys,
    tls13_keys,
    tls13_server_hello,
    x25519_pair,
)
from conformance_wire import (
    APPDATA,
    EXT_SUPPORTED_VERSIONS,
    SECP256R1,
    X25519,
    extension,
    p256_public,
    record,
    u16,
)

from tlsbench.tls.constants import AlertDescription

A = AlertDescription


def _sv(version: int) -> bytes:
    return extension(EXT_SUPPORTED_VERSIONS, u16(version))


def connect(server: RawServer, serve: Served, *args: str) -> tuple[int, str, str]:
    run = tlsbench(
        "connect",
        f"127.0.0.1:{server.port}",
        "--ca-file",
        serve.ca_file,
        "--server-name",
        "localhost",
        "--timeout",
        "5",
        *args,
        timeout=30,
    )
    return run.returncode, run.stdout, run.stderr


def refused(server: RawServer, serve: Served, alert: AlertDescription, *args: str) -> None:
    """connect exits 1 with one line naming ``alert``; the raw server got that alert once."""
    code, out, err = connect(server, serve, *args)
    name = alert.name.lower()
    lines = [line for line in (out + err).splitlines() if line.strip()]
    assert code == 1, f"exit {code}: {out}{err}"
    assert len(lines) == 1 and name in lines[0], f"wanted one line naming {name}: {lines}"
    assert "Traceback" not in err
    assert server.alerts() == [int(alert)], f"on the wire: {server.result().describe()}"


def test_connect_works_against_serve(serve: Served) -> None:
    """The baseline: the same command line completes against the real server."""
    run = tlsbench("connect", f"127.0.0.1:{serve.port}", "--ca-file", serve.ca_file, "--data", "hi")
    assert run.returncode == 0, run.stdout + run.stderr


# -- item 5 (client): a malformed key share in the ServerHello ------------------------
@pytest.mark.parametrize(
    ("group", "share", "args"),
    [
        (X25519, b"", ()),
        (X25519, bytes(31), ()),
        (X25519, os.urandom(33), ()),
        (SECP256R1, p256_public()[:64], ("--group", "secp256r1")),
        (SECP256R1, b"\x04" + bytes(64), ("--group", "secp256r1")),
    ],
    ids=["x25519-0", "x25519-31", "x25519-33", "p256-64", "p256-off"],
)
def test_tls13_server_key_share_malformed(
    serve: Served, group: int, share: bytes, args: tuple[str, ...]
) -> None:
    """RFC 8446 §4.2.8: illegal_parameter (sent in the clear: no keys yet)."""
    server = RawServer(lambda hello, _s: record(22, tls13_server_hello(hello, (group, share))))
    refused(server, serve, A.ILLEGAL_PARAMETER, *args)


@pytest.mark.parametrize(
    ("curve", "point", "args"),
    [
        (X25519, bytes(31), ()),
        (X25519, os.urandom(33), ()),
        (SECP256R1, p256_public()[:64], ()),
        (SECP256R1, b"\x04" + bytes(64), ()),
    ],
    ids=["x25519-31", "x25519-33", "p256-64", "p256-off"],
)
def test_tls12_server_key_exchange_point_malformed(
    serve: Served, curve: int, point: bytes, args: tuple[str, ...]
) -> None:
    """RFC 8422 §5.11: a correctly signed ServerKeyExchange whose point has the wrong
    length (or is off the curve) is illegal_parameter."""
    server = RawServer(lambda hello, _s: tls12_flight(hello, serve.directory, curve, point))
    refused(server, serve, A.ILLEGAL_PARAMETER, "--tls", "1.2", *args)


# -- item 3 (client): a record too short for its tag ----------------------------------
@pytest.mark.parametrize("length", [0, 5, 15, 16])
def test_tls13_short_record_from_server(serve: Served, length: int) -> None:
    """A real ServerHello, then an application_data record of ``length`` bytes: the
    client's (encrypted) bad_record_mac, decrypted here with the handshake key."""

    def respond(hello: Hello, server: RawServer) -> bytes:
        private, public = x25519_pair()
        sh = tls13_server_hello(hello, (X25519, public))
        tls13_keys(hello, server, sh, private)
        return record(22, sh) + record(20, b"\x01") + record(APPDATA, os.urandom(length))

    refused(RawServer(respond), serve, A.BAD_RECORD_MAC, "--tls", "1.3")


@pytest.mark.parametrize("length", [0, 8, 23])
def test_tls12_short_record_from_server(serve: Served, length: int) -> None:
    """TLS 1.2 AES-128-GCM: a real flight, then after our Finished the server's CCS and a
    Finished record shorter than explicit nonce + tag (24): the client's bad_record_mac,
    decrypted here with the client key the raw server derives (RFC 5246 §6.2.3.3)."""
    private, public = x25519_pair()
    random = os.urandom(32)

    def respond(hello: Hello, _server: RawServer) -> bytes:
        return tls12_flight(hello, serve.directory, X25519, public, random=random)

    def second(flight2: bytes, server: RawServer) -> bytes:
        tls12_keys(flight2, server, private, random)
        return record(20, b"\x01") + record(22, os.urandom(length))

    server = RawServer(respond, second=second)
    refused(
        server,
        serve,
        A.BAD_RECORD_MAC,
        "--tls",
        "1.2",
        "--suite",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    )


# -- item 4 (client): version numbers ------------------------------------------------
def _hello_with(version_ext: bytes | None, legacy: int = 0x0303) -> object:
    def respond(hello: Hello, _server: RawServer) -> bytes:
        _private, public = x25519_pair()
        share = extension(51, u16(X25519) + len(public).to_bytes(2, "big") + public)
        exts = (version_ext or b"") + share
        sid = hello.session_id
        return record(22, server_hello(sid, 0x1301, exts, legacy_version=legacy))

    return respond


@pytest.mark.parametrize(
    ("name", "version_ext", "legacy", "alert"),
    [
        # RFC 8446 §4.2.1: a version not offered, or one before TLS 1.3, in supported_versions
        ("sv 0x0305", _sv(0x0305), 0x0303, A.ILLEGAL_PARAMETER),
        ("sv 0x0303", _sv(0x0303), 0x0303, A.ILLEGAL_PARAMETER),
        # §4.1.3: legacy_version must be 0x0303 beside supported_versions
        (
            "legacy 0x0304",
            _sv(0x0304),
            0x0304,
            A.ILLEGAL_PARAMETER,
        ),
        # a TLS 1.1 server (no supported_versions): protocol_version
        ("legacy 0x0302", None, 0x0302, A.PROTOCOL_VERSION),
    ],
    ids=["sv-0305", "sv-0303", "legacy-0304", "legacy-0302"],
)
def test_server_version_numbers(
    serve: Served, name: str, version_ext: bytes | None, legacy: int, alert: AlertDescription
) -> None:
    server = RawServer(_hello_with(version_ext, legacy))  # type: ignore[arg-type]
    refused(server, serve, alert)
