"""Issue 11 over real sockets: ``tlsbench serve`` answers each edge case with the alert
the RFC names, once, then closes cleanly (FIN, no RST) and goes on serving a good
client (Python's ssl). Where the RFCs leave a choice, the same bytes go to
``openssl s_server`` and both answers are asserted (equal, or a comment says why not).

TLS 1.3 alerts after the ServerHello are encrypted: these tests finish the handshake
with our engine's real keys (``SplicedClient``) and so read the alert's description.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from cli_peers import Served
from conformance_probes import (
    MAX_CLIENT_HELLO,
    MAX_EMPTY_RECORDS,
    MAX_SKIPPED_EARLY_DATA,
    Flood,
    Outcome,
    big_hello_hook,
    early_data_in_second_hello,
    early_data_run,
    empty_plaintext_handshake,
    empty_records,
    engine_config,
    fake_early_records,
    hello_too_big,
    hello_version,
    http_request,
    many_sigalgs_hook,
    oversized_finished,
    spliced_run,
    tls12_client_message,
    tls12_key_exchange,
    tls12_sealed_oversized_finished,
    tls12_short_record,
    tls13_ccs_version,
    tls13_key_share,
    tls13_oversized_finished,
    tls13_short_record,
)
from conformance_servers import OpenSSLServer
from conformance_wire import CCS, SECP256R1, X25519, good_client, p256_public, record

from tlsbench.tls import ClientConnection, NamedGroup
from tlsbench.tls.constants import TLS12, TLS13, AlertDescription, CipherSuite

A = AlertDescription


def fails_once(outcome: Outcome, alert: int, what: str) -> None:
    """Exactly one alert, ``alert``; nothing after it; the stream ends with FIN."""
    assert outcome.alerts == [alert], f"{what}: wanted {A(alert).name} once; got {outcome}"
    assert outcome.extra_records == 0, f"{what}: records after the alert: {outcome}"
    assert outcome.end == "eof", f"{what}: not a clean close (FIN): {outcome}"


def serves(server: Served, http: bool = False) -> None:
    """A good client (Python ssl, TLS 1.3 and 1.2) still gets a full handshake and a reply."""
    for version in ("1.3", "1.2"):
        reply = good_client(server.port, server.ca_file, version, http)
        wanted = "HTTP/1.1 200" if http else "ping"
        assert wanted in reply, f"good client after the bad one ({version}): {reply}"


def completes(outcome: Outcome, what: str, reply: bytes = b"ping\n") -> None:
    """The handshake completed and ``ping`` came back (``gnip`` from ``s_server -rev``)."""
    assert outcome.completed and not outcome.alerts, f"{what}: {outcome}"
    assert outcome.reply == reply, f"{what}: no echo: {outcome}"


GNIP = b"gnip\n"


# -- item 1: an HTTP request head ended by bare LF (RFC 9112 §2.2) ---------------------
@pytest.mark.parametrize("head", [b"GET / HTTP/1.0\n\n", b"GET / HTTP/1.0\r\n\r\n"])
def test_http10_bare_lf_answered_then_close_notify(
    serve_http: Served, openssl_www: OpenSSLServer, head: bytes
) -> None:
    ours = http_request(serve_http.port, head)
    assert ours.reply.startswith(b"HTTP/1.1 200 OK\r\n"), f"no reply to {head!r}: {ours}"
    assert ours.completed, f"HTTP/1.0 must close with close_notify first: {ours}"
    assert ours.end == "eof", ours
    # OpenSSL's -www answers the same bytes (as HTTP/1.0) and closes the same way.
    theirs = http_request(openssl_www.port, head)
    assert theirs.reply.startswith(b"HTTP/1.0 200 ok\r\n") and theirs.completed, theirs
    serves(serve_http, http=True)


def test_http11_bare_lf_answered_and_kept_alive(serve_http: Served) -> None:
    ours = http_request(serve_http.port, b"GET / HTTP/1.1\nhost: x\n\n", wait=1.5)
    assert ours.reply.startswith(b"HTTP/1.1 200 OK\r\n"), ours
    assert not ours.completed and ours.end in ("", "open", "timeout"), f"closed: {ours}"


# -- item 2: a ClientHello as big as the RFC allows ------------------------------------
def test_biggest_client_hello_completes(serve: Served, openssl: OpenSSLServer) -> None:
    size = len(big_hello_hook(ClientConnection(engine_config()).hello).encode())
    assert size > 131_000, size  # 2^16-2 bytes of suites + 2^16-1 of extensions
    completes(spliced_run(serve.port, engine_config(), big_hello_hook), f"{size}-byte hello")
    theirs = spliced_run(openssl.port, engine_config(), big_hello_hook)
    completes(theirs, "OpenSSL, same hello", GNIP)


def test_32715_signature_algorithms_complete(serve: Served, openssl: OpenSSLServer) -> None:
    completes(spliced_run(serve.port, engine_config(), many_sigalgs_hook), "32,715 schemes")
    completes(spliced_run(openssl.port, engine_config(), many_sigalgs_hook), "OpenSSL", GNIP)


def test_hello_past_the_syntax_maximum_refused(serve: Served, openssl: OpenSSLServer) -> None:
    assert MAX_CLIENT_HELLO == 131_396
    # RFC 8446 §6: a length out of range is decode_error; OpenSSL says illegal_parameter
    # (its "excessive message size"). We keep the RFC's name.
    fails_once(hello_too_big(serve.port), A.DECODE_ERROR, "131,397-byte ClientHello")
    fails_once(hello_too_big(openssl.port), A.ILLEGAL_PARAMETER, "OpenSSL")
    serves(serve)


def test_other_messages_keep_their_limit(serve: Served, openssl: OpenSSLServer) -> None:
    """A 70 KiB Certificate from a TLS 1.2 client (64 KiB is the limit) is refused at its
    header; OpenSSL refuses it for its type first (it asked for no certificate)."""
    fails_once(tls12_client_message(serve.port, 11, 70 << 10), A.DECODE_ERROR, "70 KiB cert")
    fails_once(tls12_client_message(serve.port, 20, 70 << 10), A.DECODE_ERROR, "70 KiB Fin")
    fails_once(tls12_client_message(openssl.port, 11, 70 << 10), A.UNEXPECTED_MESSAGE, "OpenSSL")
    serves(serve)


def test_max_handshake_message_knob(serve: Served, serve_knob: Served) -> None:
    """--max-handshake-message 8192: a 10,000-byte message is refused at its header
    (decode_error); by default the same message arrives whole and is refused for its type."""
    fails_once(tls12_client_message(serve_knob.port, 11, 10_000), A.DECODE_ERROR, "knob 8192")
    fails_once(tls12_client_message(serve.port, 11, 10_000), A.UNEXPECTED_MESSAGE, "default")
    # The knob bounds the other messages; a ClientHello's bound stays the syntax's.
    completes(spliced_run(serve_knob.port, engine_config(), big_hello_hook), "big hello, knob")
    serves(serve_knob)


# -- item 3: records too short for their tag ------------------------------------------
@pytest.mark.parametrize("length", [0, 1, 15, 16])
@pytest.mark.parametrize(
    "suite",
    [
        CipherSuite.TLS_AES_128_GCM_SHA256,
        CipherSuite.TLS_AES_256_GCM_SHA384,
        CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
    ],
    ids=["aes128", "aes256", "chacha"],
)
def test_tls13_short_record_is_bad_record_mac(
    serve: Served, openssl: OpenSSLServer, suite: CipherSuite, length: int
) -> None:
    """RFC 8446 §5.2 (16 bytes: a tag and no inner type, which cannot decrypt either)."""
    ours = tls13_short_record(serve.port, length, suite)
    fails_once(ours, A.BAD_RECORD_MAC, f"{length} bytes")
    fails_once(tls13_short_record(openssl.port, length, suite), A.BAD_RECORD_MAC, "OpenSSL")
    serves(serve)


@pytest.mark.parametrize(
    ("suite", "length"),
    [(0xC02F, 0), (0xC02F, 23), (0xC030, 8), (0xCCA8, 0), (0xCCA8, 15)],
    ids=["gcm-0", "gcm-23", "gcm256-8", "chacha-0", "chacha-15"],
)
def test_tls12_short_record_is_bad_record_mac(
    serve: Served, openssl: OpenSSLServer, suite: int, length: int
) -> None:
    """RFC 5246 §6.2.3.3: shorter than explicit nonce (8, GCM) + tag (16) is bad_record_mac.
    OpenSSL 3.0 answers internal_error here; we keep the RFC's alert."""
    fails_once(tls12_short_record(serve.port, suite, length), A.BAD_RECORD_MAC, "ours")
    fails_once(tls12_short_record(openssl.port, suite, length), A.INTERNAL_ERROR, "OpenSSL")
    serves(serve)


# -- item 4: versions ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("legacy", "versions"),
    [(0x0000, None), (0x0002, None), (0x0200, None), (0x02FF, None), (0x0200, [TLS13, TLS12])],
)
def test_legacy_version_below_ssl3_is_protocol_version(
    serve: Served, openssl: OpenSSLServer, legacy: int, versions: list[int] | None
) -> None:
    ours, _ = hello_version(serve.port, legacy, versions)
    fails_once(ours, A.PROTOCOL_VERSION, f"legacy_version {legacy:#06x}")
    theirs, _ = hello_version(openssl.port, legacy, versions)
    fails_once(theirs, A.PROTOCOL_VERSION, "OpenSSL")
    serves(serve)


@pytest.mark.parametrize("legacy", [0x0304, 0x0305, 0x0400, 0xFFFF])
def test_legacy_version_above_tls12_negotiates_tls12(
    serve: Served, openssl: OpenSSLServer, legacy: int
) -> None:
    """RFC 8446 Appendix D, RFC 5246 Appendix E.1: no supported_versions, a higher
    legacy_version: the server answers with the highest it speaks below it, TLS 1.2."""
    for port in (serve.port, openssl.port):
        outcome, hello = hello_version(port, legacy, None)
        assert hello is not None, outcome
        assert hello[0] == TLS12 and hello[2] is None, f"{legacy:#06x} -> {hello}"


@pytest.mark.parametrize("record_version", [0x0300, 0x0301, 0x0302, 0x0303, 0x03FF])
def test_client_hello_record_version_ignored(
    serve: Served, openssl: OpenSSLServer, record_version: int
) -> None:
    """RFC 8446 §5.1, RFC 5246 Appendix E.1: any {03,XX} on the ClientHello's record."""
    for port in (serve.port, openssl.port):
        outcome, hello = hello_version(port, 0x0303, [TLS13, TLS12], record_version)
        assert hello is not None and hello[2] == TLS13, f"{record_version:#06x}: {outcome}"


@pytest.mark.parametrize("record_version", [0x0000, 0x0200])
def test_client_hello_record_not_tls(
    serve: Served, openssl: OpenSSLServer, record_version: int
) -> None:
    """A first record whose version is not {03,XX} is not TLS: we say protocol_version;
    OpenSSL closes without an alert (it takes the bytes for SSLv2 or garbage)."""
    ours, _ = hello_version(serve.port, 0x0303, [TLS13, TLS12], record_version)
    fails_once(ours, A.PROTOCOL_VERSION, f"record {record_version:#06x}")
    theirs, _ = hello_version(openssl.port, 0x0303, [TLS13, TLS12], record_version)
    assert theirs.alerts == [] and theirs.end == "eof", theirs
    serves(serve)


@pytest.mark.parametrize("version", [0x0301, 0x0304, 0x0000])
def test_tls13_ccs_record_version_ignored(
    serve: Served, openssl: OpenSSLServer, version: int
) -> None:
    """RFC 8446 §5.1: once TLS 1.3 is negotiated legacy_record_version is ignored."""
    completes(tls13_ccs_version(serve.port, version), f"CCS record {version:#06x}")
    theirs = tls13_ccs_version(openssl.port, version)
    assert theirs.completed, theirs


# -- item 5: malformed key shares -----------------------------------------------------
@pytest.mark.parametrize(
    ("group", "share"),
    [
        (X25519, b""),
        (X25519, bytes(31)),
        (X25519, os.urandom(33)),
        (SECP256R1, b""),
        (SECP256R1, p256_public()[:64]),
        (SECP256R1, p256_public() + b"\x00"),
        (SECP256R1, b"\x04" + bytes(64)),  # right length, not on the curve
    ],
    ids=["x25519-0", "x25519-31", "x25519-33", "p256-0", "p256-64", "p256-66", "p256-off"],
)
def test_tls13_malformed_key_share_is_illegal_parameter(
    serve: Served, openssl: OpenSSLServer, group: int, share: bytes
) -> None:
    """RFC 8446 §4.2.8. OpenSSL answers an empty share with decode_error (the field is
    <1..2^16-1>), every other with illegal_parameter; the issue asks illegal_parameter."""
    fails_once(tls13_key_share(serve.port, group, share), A.ILLEGAL_PARAMETER, "ours")
    theirs = tls13_key_share(openssl.port, group, share)
    fails_once(theirs, A.DECODE_ERROR if not share else A.ILLEGAL_PARAMETER, "OpenSSL")
    serves(serve)


@pytest.mark.parametrize(
    ("group", "point"),
    [
        (X25519, b""),
        (X25519, bytes(31)),
        (X25519, os.urandom(33)),
        (SECP256R1, b""),
        (SECP256R1, p256_public()[:64]),
        (SECP256R1, b"\x04" + bytes(64)),
    ],
    ids=["x25519-0", "x25519-31", "x25519-33", "p256-0", "p256-64", "p256-off"],
)
def test_tls12_malformed_client_key_exchange_is_illegal_parameter(
    serve: Served, openssl: OpenSSLServer, group: int, point: bytes
) -> None:
    """RFC 8422 §5.11 (and §5.7's point checks); OpenSSL agrees."""
    fails_once(tls12_key_exchange(serve.port, point, group), A.ILLEGAL_PARAMETER, "ours")
    fails_once(tls12_key_exchange(openssl.port, point, group), A.ILLEGAL_PARAMETER, "OpenSSL")
    serves(serve)


# -- item 6: one fatal alert, then silence ---------------------------------------------
@pytest.mark.parametrize(
    ("probe", "alert", "openssl_alert"),
    [
        # plaintext, where ClientKeyExchange goes: OpenSSL refuses the type first
        (oversized_finished, A.DECODE_ERROR, A.UNEXPECTED_MESSAGE),
        # sealed with the real TLS 1.2 / TLS 1.3 client keys: OpenSSL's size limit
        (tls12_sealed_oversized_finished, A.DECODE_ERROR, A.ILLEGAL_PARAMETER),
        (tls13_oversized_finished, A.DECODE_ERROR, A.ILLEGAL_PARAMETER),
    ],
    ids=["tls12-plain", "tls12-sealed", "tls13-sealed"],
)
def test_16mb_finished_one_alert_then_fin(
    serve: Served,
    openssl: OpenSSLServer,
    probe: Callable[[int], tuple[Outcome, Flood]],
    alert: AlertDescription,
    openssl_alert: AlertDescription,
) -> None:
    """The client sends the records of a 16 MB Finished and keeps sending after the alert:
    exactly one alert record, then FIN; the server reads (drains) the rest rather than
    resetting us. (TLS 1.3: the one record is the encrypted alert, decrypted here.)"""
    ours, flood = probe(serve.port)
    fails_once(ours, alert, "16 MB Finished")
    assert not flood.failed and flood.sent >= 16 << 20, f"not drained: {ours}"
    theirs, _ = probe(openssl.port)
    fails_once(theirs, openssl_alert, "OpenSSL")
    serves(serve)


# -- item 7: early data the server does not accept (RFC 8446 §4.2.10) ----------------
def _split(recs: list[bytes]) -> list[bytes]:
    return [part for r in recs for part in (r[:3], r[3:9], r[9:])]


def _with_ccs(recs: list[bytes]) -> list[bytes]:
    return [record(CCS, b"\x01")] + [part for r in recs for part in (r, record(CCS, b"\x01"))]


@pytest.mark.parametrize(
    ("name", "writes", "pause"),
    [
        ("one record", fake_early_records(500), 0.0),
        ("many records to the bound", fake_early_records(MAX_SKIPPED_EARLY_DATA, 1000), 0.0),
        ("split across TCP writes", _split(fake_early_records(4000, 1000)), 0.01),
        ("interleaved with CCS", _with_ccs(fake_early_records(4000, 1000)), 0.0),
    ],
    ids=["one", "to-bound", "split", "ccs"],
)
def test_early_data_skipped_then_1rtt(
    serve: Served, openssl: OpenSSLServer, name: str, writes: list[bytes], pause: float
) -> None:
    completes(early_data_run(serve.port, writes, pause), name)
    completes(early_data_run(openssl.port, writes, pause), f"OpenSSL, {name}", GNIP)


def test_early_data_past_the_bound_is_bad_record_mac(serve: Served, openssl: OpenSSLServer) -> None:
    """One byte past MAX_SKIPPED_EARLY_DATA (ciphertext bytes skipped in all) is
    bad_record_mac. OpenSSL's bound is its own (measured: it skips while the records'
    lengths less 16 each sum to at most 16,488) and its alert is unexpected_message."""
    # One record of the whole bound: we skip it, OpenSSL's smaller bound does not.
    whole = fake_early_records(MAX_SKIPPED_EARLY_DATA, 1 << 15)
    completes(early_data_run(serve.port, whole), "one record of the whole bound")
    fails_once(early_data_run(openssl.port, whole), A.UNEXPECTED_MESSAGE, "OpenSSL, one record")
    past = fake_early_records(MAX_SKIPPED_EARLY_DATA + 1, 1000)
    fails_once(early_data_run(serve.port, past), A.BAD_RECORD_MAC, "one byte past")
    completes(early_data_run(openssl.port, past), "OpenSSL still skips these", GNIP)
    far = fake_early_records(20_000, 1000)
    fails_once(early_data_run(serve.port, far), A.BAD_RECORD_MAC, "20,000 bytes")
    fails_once(early_data_run(openssl.port, far), A.UNEXPECTED_MESSAGE, "OpenSSL, 20,000")
    serves(serve)


_RETRY = {"groups": (NamedGroup.X25519, NamedGroup.SECP256R1), "share_groups": (NamedGroup.X25519,)}


def test_early_data_after_hello_retry_request(
    serve_p256: Served, openssl_p256: OpenSSLServer
) -> None:
    """An x25519 share to a P-256-only server: HelloRetryRequest, and the 0-RTT records
    (application_data) are skipped unread until the second ClientHello."""
    writes = fake_early_records(4000, 1000)
    ours = early_data_run(serve_p256.port, writes, **_RETRY)  # type: ignore[arg-type]
    completes(ours, "after HRR")
    theirs = early_data_run(openssl_p256.port, writes, **_RETRY)  # type: ignore[arg-type]
    completes(theirs, "OpenSSL after HRR", GNIP)
    past = fake_early_records(MAX_SKIPPED_EARLY_DATA + 1, 1000)
    ours = early_data_run(serve_p256.port, past, **_RETRY)  # type: ignore[arg-type]
    fails_once(ours, A.BAD_RECORD_MAC, "after HRR, past the bound")
    serves(serve_p256)


def test_early_data_in_second_hello_is_illegal_parameter(
    serve_p256: Served, openssl_p256: OpenSSLServer
) -> None:
    """RFC 8446 §4.2.10: early_data must not be offered again after a HelloRetryRequest;
    ours and OpenSSL both refuse the second ClientHello with illegal_parameter."""
    fails_once(early_data_in_second_hello(serve_p256.port), A.ILLEGAL_PARAMETER, "ours")
    fails_once(early_data_in_second_hello(openssl_p256.port), A.ILLEGAL_PARAMETER, "OpenSSL")
    serves(serve_p256)


# -- item 8: empty records --------------------------------------------------------
@pytest.mark.parametrize("version", [TLS13, TLS12], ids=["1.3", "1.2"])
def test_empty_records_bounded(serve: Served, openssl: OpenSSLServer, version: int) -> None:
    """RFC 8446 §5.4 / RFC 5246 §6.2.1 allow empty application_data records; past
    MAX_EMPTY_RECORDS in a row, unexpected_message (OpenSSL: the same, past 32)."""
    assert MAX_EMPTY_RECORDS == 32
    completes(empty_records(serve.port, MAX_EMPTY_RECORDS, version), "32 empty records")
    fails_once(
        empty_records(serve.port, MAX_EMPTY_RECORDS + 1, version), A.UNEXPECTED_MESSAGE, "33"
    )
    completes(empty_records(openssl.port, MAX_EMPTY_RECORDS, version), "OpenSSL 32", GNIP)
    fails_once(
        empty_records(openssl.port, MAX_EMPTY_RECORDS + 1, version), A.UNEXPECTED_MESSAGE, "O 33"
    )
    serves(serve)


def test_tls13_empty_handshake_record(serve: Served, openssl: OpenSSLServer) -> None:
    """RFC 8446 §5.1: zero-length handshake fragments must not be sent."""
    for port in (serve.port, openssl.port):
        fails_once(empty_records(port, 1, TLS13, 22), A.UNEXPECTED_MESSAGE, f"port {port}")
    serves(serve)


@pytest.mark.parametrize("count", [1, MAX_EMPTY_RECORDS, MAX_EMPTY_RECORDS + 1])
def test_empty_handshake_records(serve: Served, openssl: OpenSSLServer, count: int) -> None:
    """RFC 5246 §6.2.1, RFC 8446 §5.1: zero-length handshake fragments must not be sent,
    so we refuse the first (``unexpected_message``), before the ClientHello and, sealed,
    after a TLS 1.2 handshake. OpenSSL counts them with empty records and refuses only
    the 33rd: the bound of item 8 is 0 for us here, by choice."""
    ours, _ = empty_plaintext_handshake(serve.port, count)
    fails_once(ours, A.UNEXPECTED_MESSAGE, f"{count} empty handshake records")
    fails_once(empty_records(serve.port, count, TLS12, 22), A.UNEXPECTED_MESSAGE, "sealed")
    theirs, their_hello = empty_plaintext_handshake(openssl.port, count)
    sealed = empty_records(openssl.port, count, TLS12, 22)
    if count <= MAX_EMPTY_RECORDS:
        assert their_hello and not theirs.alerts, f"OpenSSL: {theirs}"
        completes(sealed, "OpenSSL, sealed", GNIP)
    else:
        fails_once(theirs, A.UNEXPECTED_MESSAGE, "OpenSSL")
        fails_once(sealed, A.UNEXPECTED_MESSAGE, "OpenSSL, sealed")
    serves(serve)
