"""Conformance at the edges, engine alone: exact bytes in, the exact alert out (issue 11).

Each test hand-builds the records or hellos of one edge case and checks the alert the
RFC names: plaintext alerts byte for byte, protected ones by letting our other side
decrypt them. The same cases over real sockets against ``tlsbench serve`` and
``openssl s_server`` are in tests/conformance.
"""

from __future__ import annotations

import os
from dataclasses import replace

import pytest
from tls_peers import alert_record, alerts, closed, pump, records

from tlsbench.crypto import get_provider
from tlsbench.tls import (
    AlertDescription,
    ApplicationData,
    ClientConfig,
    ClientConnection,
    Event,
    HandshakeComplete,
    NamedGroup,
    ServerConfig,
    ServerConnection,
)
from tlsbench.tls import extensions as ext
from tlsbench.tls.certs import CredentialFiles
from tlsbench.tls.constants import (
    MAX_CLIENT_HELLO,
    MAX_EMPTY_RECORDS,
    MAX_SKIPPED_EARLY_DATA,
    TLS12,
    TLS13,
    CipherSuite,
    ContentType,
    ExtensionType,
    HandshakeType,
)
from tlsbench.tls.messages import ClientHello, ServerHello

PROVIDERS = ("rust", "python", "cryptography")
A = AlertDescription
ECDHE_ECDSA = CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
ECDHE_ECDSA_CHACHA = CipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256


def record(content_type: int, body: bytes, version: int = 0x0303) -> bytes:
    """One record header and body, as given (no fragmenting, no checks)."""
    return bytes((content_type,)) + version.to_bytes(2, "big") + len(body).to_bytes(2, "big") + body


def fragments(content_type: int, body: bytes, version: int = 0x0303) -> bytes:
    """``body`` as records of at most 2^14 bytes."""
    size = 1 << 14
    return b"".join(
        record(content_type, body[i : i + size], version) for i in range(0, len(body), size)
    )


def handshake_message(msg_type: int, length: int, body: bytes = b"") -> bytes:
    """A handshake header claiming ``length`` and whatever part of the body is given."""
    return bytes((msg_type,)) + length.to_bytes(3, "big") + body


def client_config(
    files: CredentialFiles, versions: tuple[int, ...] = (TLS13,), **changes: object
) -> ClientConfig:
    config = ClientConfig(
        server_name="localhost", ca_file=files.ca_file, versions=versions, provider="rust"
    )
    return replace(config, **changes)


def server_config(files: CredentialFiles, **changes: object) -> ServerConfig:
    config = ServerConfig.from_files(files.cert_file, files.key_file, provider="rust")
    return replace(config, **changes)


def established(
    files: CredentialFiles, version: int, provider: str = "rust", suite: CipherSuite | None = None
) -> tuple[ClientConnection, ServerConnection]:
    suites = (
        (suite,)
        if suite is not None
        else ((CipherSuite.TLS_AES_128_GCM_SHA256,) if version == TLS13 else (ECDHE_ECDSA,))
    )
    client = ClientConnection(
        client_config(files, (version,), cipher_suites=suites, provider=provider)
    )
    server = ServerConnection(server_config(files, provider=provider))
    client_events, server_events = pump(client, server)
    assert client.handshake_complete and server.handshake_complete, (client_events, server_events)
    return client, server


def seal(conn: ClientConnection | ServerConnection, content_type: int, body: bytes) -> bytes:
    """One record under ``conn``'s current write key, empty bodies included.

    The record layer's own API never writes an empty protected record, so the test
    reaches its cipher (sequence numbers stay right for what ``conn`` sends next).
    """
    direction = conn.records._write
    assert direction is not None
    return direction.cipher.seal(content_type, body)


def hello_of(config: ClientConfig) -> ClientHello:
    return ClientConnection(config).hello


def send_hello(hello: ClientHello, files: CredentialFiles, record_version: int = 0x0301) -> bytes:
    server = ServerConnection(server_config(files))
    server.receive_data(fragments(ContentType.HANDSHAKE, hello.encode(), record_version))
    return server.data_to_send()


def first_message(output: bytes) -> tuple[int, bytes]:
    """Content type of the first record, and (for handshake) its first message's type + body."""
    first = records(output)[0]
    return first[0], first[5:]


# -- 2. how big a ClientHello may be --------------------------------------------------
class BigHelloClient(ClientConnection):
    """A real client whose ClientHello is as big as the test asks."""

    filler_suites = 0
    padding = 0
    signature_schemes = 0

    def make_client_hello(self, cookie: bytes | None = None) -> ClientHello:
        hello = super().make_client_hello(cookie)
        suites = list(hello.cipher_suites) + [0xFE00 + i % 0x100 for i in range(self.filler_suites)]
        exts = dict(hello.extensions)
        if self.signature_schemes:
            real = ext.decode_signature_algorithms(exts[ExtensionType.SIGNATURE_ALGORITHMS])
            filler = [0x0A00 + i for i in range(self.signature_schemes - len(real))]
            exts[ExtensionType.SIGNATURE_ALGORITHMS] = ext.encode_signature_algorithms(
                real + filler
            )
            for name in (ExtensionType.SERVER_NAME, ExtensionType.PSK_KEY_EXCHANGE_MODES):
                exts.pop(name, None)
        if self.padding:
            exts[ExtensionType.PADDING] = bytes(self.padding)
        return replace(hello, cipher_suites=suites, extensions=exts)


def test_client_hello_of_131_kib_completes(credentials: dict[str, CredentialFiles]) -> None:
    files = credentials["ecdsa-p256"]

    config = client_config(files, cipher_suites=(CipherSuite.TLS_AES_128_GCM_SHA256,))
    probe = ClientConnection(config).hello

    class Biggest(BigHelloClient):
        # A cipher_suites vector of 2^16 - 2 bytes, an extension block of 2^16 - 1 bytes
        # (the padding extension's own header is 4 bytes).
        filler_suites = 0x7FFF - len(probe.cipher_suites)
        padding = 0xFFFF - len(ext.encode_extensions(probe.extensions)) - 4

    client = Biggest(config)
    size = len(client.hello.encode()) - 4
    assert size == MAX_CLIENT_HELLO - 254  # all but the compression methods at their maximum
    server = ServerConnection(server_config(files))
    pump(client, server)
    assert client.handshake_complete and server.handshake_complete


def test_signature_algorithms_of_32715_entries(credentials: dict[str, CredentialFiles]) -> None:
    files = credentials["ecdsa-p256"]

    class ManySchemes(BigHelloClient):
        signature_schemes = 32715

    client = ManySchemes(client_config(files))
    assert len(client.hello.encode()) > 1 << 16
    server = ServerConnection(server_config(files))
    pump(client, server)
    assert client.handshake_complete and server.handshake_complete


def test_client_hello_past_the_syntax_maximum_is_decode_error(
    credentials: dict[str, CredentialFiles],
) -> None:
    server = ServerConnection(server_config(credentials["ecdsa-p256"]))
    header = handshake_message(HandshakeType.CLIENT_HELLO, MAX_CLIENT_HELLO + 1, bytes(100))
    events = server.receive_data(record(ContentType.HANDSHAKE, header))
    assert server.data_to_send() == alert_record(A.DECODE_ERROR)
    assert closed(events).error == A.DECODE_ERROR


@pytest.mark.parametrize("knob", [None, 1000])
def test_other_messages_keep_their_limit(
    credentials: dict[str, CredentialFiles], knob: int | None
) -> None:
    """TLS 1.2's plaintext ClientKeyExchange: 64 KiB by default, or the knob."""
    files = credentials["ecdsa-p256"]
    changes = {} if knob is None else {"max_handshake_message": knob}
    server = ServerConnection(server_config(files, **changes))
    client = ClientConnection(client_config(files, (TLS12,), cipher_suites=(ECDHE_ECDSA,)))
    server.receive_data(client.data_to_send())
    assert server.data_to_send()
    limit = knob or 1 << 16
    ok = handshake_message(HandshakeType.CLIENT_KEY_EXCHANGE, limit, bytes(10))
    assert server.receive_data(record(ContentType.HANDSHAKE, ok)) == []
    server = ServerConnection(server_config(files, **changes))
    client = ClientConnection(client_config(files, (TLS12,), cipher_suites=(ECDHE_ECDSA,)))
    server.receive_data(client.data_to_send())
    server.data_to_send()
    too_big = handshake_message(HandshakeType.CLIENT_KEY_EXCHANGE, limit + 1, bytes(10))
    events = server.receive_data(record(ContentType.HANDSHAKE, too_big))
    assert server.data_to_send() == alert_record(A.DECODE_ERROR)
    assert closed(events).error == A.DECODE_ERROR


# -- 3. a record too short to hold its tag ----------------------------------------------
def _short_cases() -> list[tuple[str, int, CipherSuite | None, int]]:
    cases = []
    for provider in PROVIDERS:
        for n in (0, 1, 15, 16):  # TLS 1.3: a tag of 16 bytes over at least one
            cases.append((provider, TLS13, None, n))
            cases.append((provider, TLS13, CipherSuite.TLS_CHACHA20_POLY1305_SHA256, n))
        for n in (0, 1, 15):
            cases.append((provider, TLS12, ECDHE_ECDSA_CHACHA, n))
        for n in (0, 8, 16, 23):  # AES-GCM in TLS 1.2: explicit nonce 8 + tag 16
            cases.append((provider, TLS12, ECDHE_ECDSA, n))
    return cases


@pytest.mark.parametrize(("provider", "version", "suite", "length"), _short_cases())
def test_record_shorter_than_its_tag_is_bad_record_mac(
    credentials: dict[str, CredentialFiles],
    provider: str,
    version: int,
    suite: CipherSuite | None,
    length: int,
) -> None:
    files = credentials["ecdsa-p256"]
    client, server = established(files, version, provider, suite)
    short = record(ContentType.APPLICATION_DATA, os.urandom(length))
    # The server receives it ...
    events = server.receive_data(short)
    assert closed(events).error == A.BAD_RECORD_MAC and not closed(events).by_peer
    assert alerts(client.receive_data(server.data_to_send())) == [A.BAD_RECORD_MAC]
    # ... and so does our client, from a server.
    client, server = established(files, version, provider, suite)
    events = client.receive_data(short)
    assert closed(events).error == A.BAD_RECORD_MAC
    assert alerts(server.receive_data(client.data_to_send())) == [A.BAD_RECORD_MAC]


# -- 4. version numbers ---------------------------------------------------------------------
@pytest.mark.parametrize("legacy_version", [0x0000, 0x0002, 0x0200, 0x02FF])
@pytest.mark.parametrize("with_supported_versions", [True, False])
def test_legacy_version_below_ssl3_is_protocol_version(
    credentials: dict[str, CredentialFiles], legacy_version: int, with_supported_versions: bool
) -> None:
    files = credentials["ecdsa-p256"]
    hello = hello_of(client_config(files, (TLS13, TLS12)))
    exts = dict(hello.extensions)
    if not with_supported_versions:
        del exts[ExtensionType.SUPPORTED_VERSIONS]
    hello = replace(hello, legacy_version=legacy_version, extensions=exts)
    assert send_hello(hello, files) == alert_record(A.PROTOCOL_VERSION)


@pytest.mark.parametrize("legacy_version", [0x0304, 0x0305, 0x03FF, 0x0400, 0xFFFF])
def test_legacy_version_above_tls12_without_supported_versions_is_tls12(
    credentials: dict[str, CredentialFiles], legacy_version: int
) -> None:
    files = credentials["ecdsa-p256"]
    hello = hello_of(client_config(files, (TLS12,), cipher_suites=(ECDHE_ECDSA,)))
    hello = replace(hello, legacy_version=legacy_version)
    content_type, body = first_message(send_hello(hello, files))
    assert content_type == ContentType.HANDSHAKE and body[0] == HandshakeType.SERVER_HELLO
    server_hello = ServerHello.decode(body[4 : 4 + int.from_bytes(body[1:4], "big")])
    assert server_hello.legacy_version == TLS12
    assert ExtensionType.SUPPORTED_VERSIONS not in server_hello.extensions


@pytest.mark.parametrize("record_version", [0x0300, 0x0301, 0x0303, 0x0304, 0x03FF])
def test_client_hello_record_version_03xx_is_accepted(
    credentials: dict[str, CredentialFiles], record_version: int
) -> None:
    """RFC 5246 Appendix E.1: any {03,XX} for the ClientHello record."""
    files = credentials["ecdsa-p256"]
    content_type, body = first_message(
        send_hello(hello_of(client_config(files)), files, record_version)
    )
    assert content_type == ContentType.HANDSHAKE and body[0] == HandshakeType.SERVER_HELLO


def test_client_hello_record_that_is_not_tls_is_protocol_version(
    credentials: dict[str, CredentialFiles],
) -> None:
    files = credentials["ecdsa-p256"]
    assert send_hello(hello_of(client_config(files)), files, 0x0000) == alert_record(
        A.PROTOCOL_VERSION
    )


def _rewrite_record_versions(data: bytes, version: int, content_type: int) -> bytes:
    return b"".join(
        r[:1] + version.to_bytes(2, "big") + r[3:] if r[0] == content_type else r
        for r in records(data)
    )


@pytest.mark.parametrize("version", [0x0000, 0x0301, 0x1234, 0xFFFF])
def test_tls13_ignores_record_versions(
    credentials: dict[str, CredentialFiles], version: int
) -> None:
    """RFC 8446 §5.1: once TLS 1.3 is chosen, legacy_record_version is ignored both ways.

    In plaintext records (ChangeCipherSpec, a ClientHello after HelloRetryRequest), that
    is; a protected record's header is its AEAD's additional data (§5.2), so one whose
    version was changed on the way does not decrypt.
    """
    files = credentials["ecdsa-p256"]
    ccs, handshake = ContentType.CHANGE_CIPHER_SPEC, ContentType.HANDSHAKE
    client = ClientConnection(
        client_config(files, groups=(NamedGroup.X25519, NamedGroup.SECP256R1))
    )
    server = ServerConnection(server_config(files, groups=(NamedGroup.SECP256R1,)))
    server.receive_data(client.data_to_send())
    retry, *rest = records(server.data_to_send())  # the HelloRetryRequest's record is 03xx
    client.receive_data(retry + _rewrite_record_versions(b"".join(rest), version, ccs))
    assert client.hello_retry_request
    second = _rewrite_record_versions(client.data_to_send(), version, handshake)
    server.receive_data(_rewrite_record_versions(second, version, ccs))
    client_events = client.receive_data(server.data_to_send())
    server_events = server.receive_data(client.data_to_send())
    assert client.handshake_complete and server.handshake_complete, (client_events, server_events)
    client.send_data(b"ping")
    protected = _rewrite_record_versions(
        client.data_to_send(), version, ContentType.APPLICATION_DATA
    )
    assert closed(server.receive_data(protected)).error == A.BAD_RECORD_MAC


# -- 5. a malformed key share -------------------------------------------------------------
def _key_share(group: int, value: bytes) -> bytes:
    entry = group.to_bytes(2, "big") + len(value).to_bytes(2, "big") + value
    return len(entry).to_bytes(2, "big") + entry


_X25519 = int(NamedGroup.X25519)
_P256 = int(NamedGroup.SECP256R1)
_POINT = b"\x04" + bytes(64)


@pytest.mark.parametrize(
    ("group", "value"),
    [
        (_X25519, b""),
        (_X25519, bytes(31)),
        (_X25519, bytes(33)),
        (_P256, b""),
        (_P256, _POINT[:-1]),
        (_P256, _POINT + b"\x00"),
        (_P256, b"\x02" + bytes(32)),  # compressed: TLS 1.3 allows only uncompressed
        (_P256, b"\x04" + bytes(31) + b"\x01" + bytes(31) + b"\x01"),  # not on the curve
    ],
    ids=[
        "x25519-empty",
        "x25519-31",
        "x25519-33",
        "p256-empty",
        "p256-64",
        "p256-66",
        "p256-compressed",
        "p256-off-curve",
    ],
)
def test_malformed_key_share_in_client_hello_is_illegal_parameter(
    credentials: dict[str, CredentialFiles], group: int, value: bytes
) -> None:
    files = credentials["ecdsa-p256"]
    hello = hello_of(client_config(files, groups=(NamedGroup(group),)))
    exts = dict(hello.extensions)
    exts[ExtensionType.KEY_SHARE] = _key_share(group, value)
    assert send_hello(replace(hello, extensions=exts), files) == alert_record(A.ILLEGAL_PARAMETER)


@pytest.mark.parametrize("point", [b"", bytes(31), bytes(33)], ids=["empty", "31", "33"])
def test_malformed_client_key_exchange_is_illegal_parameter(
    credentials: dict[str, CredentialFiles], point: bytes
) -> None:
    """RFC 8422 §5.11 for TLS 1.2 (x25519 negotiated)."""
    files = credentials["ecdsa-p256"]
    client = ClientConnection(
        client_config(
            files,
            (TLS12,),
            cipher_suites=(ECDHE_ECDSA,),
            groups=(NamedGroup.X25519, NamedGroup.SECP256R1),  # P-256 for the certificate
        )
    )
    server = ServerConnection(server_config(files))
    server.receive_data(client.data_to_send())
    assert server.data_to_send()
    body = bytes((len(point),)) + point
    message = handshake_message(HandshakeType.CLIENT_KEY_EXCHANGE, len(body), body)
    events = server.receive_data(record(ContentType.HANDSHAKE, message))
    assert server.data_to_send() == alert_record(A.ILLEGAL_PARAMETER)
    assert closed(events).error == A.ILLEGAL_PARAMETER


@pytest.mark.parametrize("value", [b"", bytes(31), bytes(33)], ids=["empty", "31", "33"])
def test_malformed_key_share_in_server_hello_is_illegal_parameter(
    credentials: dict[str, CredentialFiles], value: bytes
) -> None:
    files = credentials["ecdsa-p256"]
    client = ClientConnection(client_config(files, groups=(NamedGroup.X25519,)))
    server = ServerConnection(server_config(files))
    server.receive_data(client.data_to_send())
    first = records(server.data_to_send())[0]
    body = first[5:]
    hello = ServerHello.decode(body[4:])
    exts = dict(hello.extensions)
    exts[ExtensionType.KEY_SHARE] = (
        _X25519.to_bytes(2, "big") + len(value).to_bytes(2, "big") + value
    )
    raw = replace(hello, extensions=exts).encode()
    events = client.receive_data(record(ContentType.HANDSHAKE, raw))
    assert closed(events).error == A.ILLEGAL_PARAMETER
    assert client.data_to_send() == alert_record(A.ILLEGAL_PARAMETER)


# -- 6. one fatal alert, then silence ------------------------------------------------------
def test_nothing_after_the_alert_while_an_oversized_hello_keeps_coming(
    credentials: dict[str, CredentialFiles],
) -> None:
    server = ServerConnection(server_config(credentials["ecdsa-p256"]))
    header = handshake_message(HandshakeType.CLIENT_HELLO, 0xFFFFFF, bytes(1000))
    server.receive_data(record(ContentType.HANDSHAKE, header))
    assert server.data_to_send() == alert_record(A.DECODE_ERROR)
    for _ in range(200):  # the rest of a 16 MB message, and then some
        assert server.receive_data(record(ContentType.HANDSHAKE, bytes(1 << 14))) == []
        assert server.data_to_send() == b""


def test_nothing_after_the_alert_while_an_oversized_finished_keeps_coming(
    credentials: dict[str, CredentialFiles],
) -> None:
    """TLS 1.3: a 16 MB Finished under the handshake key draws one (encrypted) decode_error."""
    files = credentials["ecdsa-p256"]
    client = ClientConnection(client_config(files))
    server = ServerConnection(server_config(files))
    server.receive_data(client.data_to_send())
    flight = server.data_to_send()
    crypto = get_provider("rust")
    suite = int(server.suite)
    key, iv = crypto.tls13_traffic_keys(suite, server.handshake_stage.client_secret)
    cipher = crypto.RecordCipher(TLS13, suite, key, iv)
    start = handshake_message(HandshakeType.FINISHED, 0xFFFFFF, bytes(1 << 13))
    events = server.receive_data(cipher.seal(ContentType.HANDSHAKE, start))
    assert closed(events).error == A.DECODE_ERROR
    alert = server.data_to_send()
    assert len(records(alert)) == 1
    client.receive_data(flight)
    client.data_to_send()
    assert alerts(client.receive_data(alert)) == [A.DECODE_ERROR]
    for _ in range(200):
        assert server.receive_data(cipher.seal(ContentType.HANDSHAKE, bytes(1 << 14))) == []
        assert server.data_to_send() == b""


# -- 7. early data the server does not accept ----------------------------------------------
class EarlyDataClient(ClientConnection):
    """Offers early_data in its first ClientHello (never in a second one, §4.2.10)."""

    def make_client_hello(self, cookie: bytes | None = None) -> ClientHello:
        hello = super().make_client_hello(cookie)
        if cookie is not None or getattr(self, "hello", None) is not None:
            return hello
        exts = dict(hello.extensions)
        key_share = exts.pop(ExtensionType.KEY_SHARE)
        exts[ExtensionType.EARLY_DATA] = b""
        exts[ExtensionType.KEY_SHARE] = key_share
        return replace(hello, extensions=exts)


def zero_rtt(sizes: list[int]) -> bytes:
    """Records that look like 0-RTT data: application_data of random bytes."""
    return b"".join(record(ContentType.APPLICATION_DATA, os.urandom(n)) for n in sizes)


CCS = record(ContentType.CHANGE_CIPHER_SPEC, b"\x01")


def _finish(client: ClientConnection, server: ServerConnection) -> list[Event]:
    """Run the rest of the handshake and one echo; the server's events."""
    client_events, server_events = pump(client, server)
    assert client.handshake_complete and server.handshake_complete, (client_events, server_events)
    client.send_data(b"after early data")
    events = server.receive_data(client.data_to_send())
    assert [e.data for e in events if isinstance(e, ApplicationData)] == [b"after early data"]
    return server_events


@pytest.mark.parametrize("arrival", ["whole", "byte-by-byte", "with-ccs", "at-the-bound"])
def test_early_data_is_skipped(credentials: dict[str, CredentialFiles], arrival: str) -> None:
    files = credentials["ecdsa-p256"]
    client = EarlyDataClient(client_config(files))
    assert ExtensionType.EARLY_DATA in client.hello.extensions
    server = ServerConnection(server_config(files))
    hello = client.data_to_send()
    early = zero_rtt([300, 1200, 17])
    if arrival == "with-ccs":
        early = CCS + zero_rtt([300]) + zero_rtt([40])
    if arrival == "at-the-bound":
        early = zero_rtt([MAX_SKIPPED_EARLY_DATA - 100, 100])
    if arrival == "byte-by-byte":
        server.receive_data(hello)
        for i in range(len(early)):
            assert server.receive_data(early[i : i + 1]) == []
    else:
        server.receive_data(hello + early)
    # The flight went out, the early data was skipped, the client's Finished starts over.
    client.receive_data(server.data_to_send())
    server_events = server.receive_data(client.data_to_send())
    assert any(isinstance(e, HandshakeComplete) for e in server_events), server_events
    _finish(client, server)


def test_early_data_after_hello_retry_request_is_skipped_unread(
    credentials: dict[str, CredentialFiles],
) -> None:
    files = credentials["ecdsa-p256"]
    client = EarlyDataClient(client_config(files, groups=(NamedGroup.X25519, NamedGroup.SECP256R1)))
    server = ServerConnection(server_config(files, groups=(NamedGroup.SECP256R1,)))
    server.receive_data(client.data_to_send() + zero_rtt([500, 16, 0]) + CCS)
    retry = server.data_to_send()
    client.receive_data(retry)
    assert client.hello_retry_request
    assert ExtensionType.EARLY_DATA not in client.hello.extensions
    _finish(client, server)


def test_early_data_in_client_hello2_is_illegal_parameter(
    credentials: dict[str, CredentialFiles],
) -> None:
    files = credentials["ecdsa-p256"]

    class Stubborn(ClientConnection):
        def make_client_hello(self, cookie: bytes | None = None) -> ClientHello:
            hello = super().make_client_hello(cookie)
            return replace(hello, extensions={**hello.extensions, ExtensionType.EARLY_DATA: b""})

    client = Stubborn(client_config(files, groups=(NamedGroup.X25519, NamedGroup.SECP256R1)))
    server = ServerConnection(server_config(files, groups=(NamedGroup.SECP256R1,)))
    client_events, server_events = pump(client, server)
    assert closed(server_events).error == A.ILLEGAL_PARAMETER
    assert alerts(client_events) == [A.ILLEGAL_PARAMETER]


@pytest.mark.parametrize("retry", [False, True])
def test_early_data_past_the_bound_is_bad_record_mac(
    credentials: dict[str, CredentialFiles], retry: bool
) -> None:
    files = credentials["ecdsa-p256"]
    groups = (NamedGroup.SECP256R1,) if retry else (NamedGroup.X25519,)
    client = EarlyDataClient(client_config(files, groups=(NamedGroup.X25519, NamedGroup.SECP256R1)))
    server = ServerConnection(server_config(files, groups=groups))
    events = server.receive_data(
        client.data_to_send() + zero_rtt([MAX_SKIPPED_EARLY_DATA - 100, 101])
    )
    assert closed(events).error == A.BAD_RECORD_MAC
    output = server.data_to_send()
    if retry:  # no keys yet: the alert is in the clear, after the HelloRetryRequest
        assert records(output)[-1] == alert_record(A.BAD_RECORD_MAC)
    assert alerts(client.receive_data(output)) == [A.BAD_RECORD_MAC]


def test_undecryptable_record_without_early_data_is_bad_record_mac(
    credentials: dict[str, CredentialFiles],
) -> None:
    files = credentials["ecdsa-p256"]
    client = ClientConnection(client_config(files))
    server = ServerConnection(server_config(files))
    events = server.receive_data(client.data_to_send() + zero_rtt([100]))
    assert closed(events).error == A.BAD_RECORD_MAC


# -- 8. empty records ------------------------------------------------------------------------
@pytest.mark.parametrize("version", [TLS13, TLS12])
def test_empty_records_are_bounded(credentials: dict[str, CredentialFiles], version: int) -> None:
    files = credentials["ecdsa-p256"]
    client, server = established(files, version)

    def empties(count: int) -> bytes:
        return b"".join(seal(client, ContentType.APPLICATION_DATA, b"") for _ in range(count))

    assert server.receive_data(empties(MAX_EMPTY_RECORDS)) == []
    # A record with data resets the count ...
    events = server.receive_data(seal(client, ContentType.APPLICATION_DATA, b"x"))
    assert [e.data for e in events if isinstance(e, ApplicationData)] == [b"x"]
    assert server.receive_data(empties(MAX_EMPTY_RECORDS)) == []
    # ... and one more empty record in a row is one too many.
    events = server.receive_data(empties(1))
    assert closed(events).error == A.UNEXPECTED_MESSAGE
    assert alerts(client.receive_data(server.data_to_send())) == [A.UNEXPECTED_MESSAGE]


def test_empty_plaintext_handshake_record_is_unexpected_message(
    credentials: dict[str, CredentialFiles],
) -> None:
    server = ServerConnection(server_config(credentials["ecdsa-p256"]))
    server.receive_data(record(ContentType.HANDSHAKE, b""))
    assert server.data_to_send() == alert_record(A.UNEXPECTED_MESSAGE)
