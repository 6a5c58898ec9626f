"""The sans-I/O engine alone: our client and server in memory, bytes rewritten at will."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from tls_peers import alerts, closed, pump, records

from tlsbench.crypto import get_provider
from tlsbench.tls import (
    AlertDescription,
    ApplicationData,
    ClientConfig,
    ClientConnection,
    Event,
    HandshakeComplete,
    KeyUpdateReceived,
    NamedGroup,
    ServerConfig,
    ServerConnection,
    SignatureScheme,
    TlsUsageError,
)
from tlsbench.tls import extensions as ext
from tlsbench.tls.certs import CredentialFiles, load_certificate_chain
from tlsbench.tls.constants import ContentType, ExtensionType, HandshakeType
from tlsbench.tls.messages import ClientHello, ServerHello

PROVIDERS = ("rust", "python", "cryptography")


def make_pair(
    files: CredentialFiles,
    provider: str = "cryptography",
    client_class: type[ClientConnection] = ClientConnection,
    server_class: type[ServerConnection] = ServerConnection,
    ca_file: Path | None = None,
    client_groups: tuple[NamedGroup, ...] = (NamedGroup.X25519,),
    server_groups: tuple[NamedGroup, ...] = (NamedGroup.X25519, NamedGroup.SECP256R1),
) -> tuple[ClientConnection, ServerConnection]:
    client = client_class(
        ClientConfig(
            server_name="localhost",
            ca_file=ca_file or files.ca_file,
            groups=client_groups,
            provider=provider,
        )
    )
    server = server_class(
        ServerConfig.from_files(
            files.cert_file, files.key_file, groups=server_groups, provider=provider
        )
    )
    return client, server


def assert_alert_exchanged(
    detector_events: list[Event], peer_events: list[Event], alert: AlertDescription
) -> None:
    """The detecting side closed with ``alert`` and the other side received it."""
    assert closed(detector_events).error == alert and not closed(detector_events).by_peer
    assert alerts(peer_events) == [alert]
    assert closed(peer_events).by_peer


@pytest.fixture
def files(credentials: dict[str, CredentialFiles]) -> CredentialFiles:
    return credentials["ecdsa-p256"]


# -- complete handshakes -----------------------------------------------------------------
@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("kind", ["rsa2048", "ecdsa-p256"])
def test_handshake_data_key_update_close(
    credentials: dict[str, CredentialFiles], provider: str, kind: str
) -> None:
    client, server = make_pair(credentials[kind], provider)
    client_events, server_events = pump(client, server)
    done = [e for e in client_events if isinstance(e, HandshakeComplete)]
    on_server = [e for e in server_events if isinstance(e, HandshakeComplete)]
    assert done and on_server and replace(done[0], peer_certificates=()) == on_server[0]
    assert done[0].peer_certificates[0] == load_certificate_chain(credentials[kind].cert_file)[0]
    expected = (
        SignatureScheme.RSA_PSS_RSAE_SHA256
        if kind == "rsa2048"
        else SignatureScheme.ECDSA_SECP256R1_SHA256
    )
    assert done[0].signature_scheme == expected
    # Data, a KeyUpdate and more data in one flight: the batch opener must stop at the update.
    client.send_data(b"a" * 40000)
    client.key_update(request_peer=True)
    client.send_data(b"b" * 40000)
    events = server.receive_data(client.data_to_send())
    data = b"".join(e.data for e in events if isinstance(e, ApplicationData))
    assert data == b"a" * 40000 + b"b" * 40000
    assert [e for e in events if isinstance(e, KeyUpdateReceived)] == [KeyUpdateReceived(True)]
    server.send_data(b"reply")
    events = client.receive_data(server.data_to_send())
    assert KeyUpdateReceived(False) in events and ApplicationData(b"reply") in events
    client.close()
    client_events, server_events = pump(client, server)
    assert closed(server_events).error is None and closed(client_events).error is None
    assert client.closed and server.closed


def test_hello_retry_request(files: CredentialFiles) -> None:
    client, server = make_pair(
        files,
        client_groups=(NamedGroup.X25519, NamedGroup.SECP384R1),
        server_groups=(NamedGroup.SECP384R1,),
    )
    client_events, _ = pump(client, server)
    done = next(e for e in client_events if isinstance(e, HandshakeComplete))
    assert done.hello_retry_request and done.group == NamedGroup.SECP384R1


def test_second_hello_retry_request_is_unexpected(files: CredentialFiles) -> None:
    client, server = make_pair(
        files,
        client_groups=(NamedGroup.X25519, NamedGroup.SECP384R1),
        server_groups=(NamedGroup.SECP384R1,),
    )
    server.receive_data(client.data_to_send())
    hrr = server.data_to_send()
    client.receive_data(hrr)
    events = client.receive_data(records(hrr)[0])
    assert closed(events).error == AlertDescription.UNEXPECTED_MESSAGE


def test_bytes_one_at_a_time(files: CredentialFiles) -> None:
    """Records split across reads, in both directions."""
    client, server = make_pair(files)
    for byte in client.data_to_send():
        assert server.receive_data(bytes((byte,))) == []
    events: list[Event] = []
    for byte in server.data_to_send():
        events += client.receive_data(bytes((byte,)))
    assert any(isinstance(e, HandshakeComplete) for e in events)
    _, server_events = pump(client, server)
    assert any(isinstance(e, HandshakeComplete) for e in server_events)


def _server_flight(
    files: CredentialFiles,
) -> tuple[ClientConnection, ServerConnection, list[bytes], bytes]:
    """A client and server after the server's first flight; returns its records and
    the handshake bytes of its protected part (EncryptedExtensions .. Finished)."""
    client, server = make_pair(files)
    server.receive_data(client.data_to_send())
    flight = records(server.data_to_send())
    stage = server.handshake_stage
    opener = get_provider("cryptography").RecordCipher(
        "1.3", int(server.suite), stage.server_key, stage.server_iv
    )
    protected = b""
    for record in flight[2:]:
        content_type, plaintext = opener.open(record)
        assert content_type == ContentType.HANDSHAKE
        protected += plaintext
    return client, server, flight, protected


def _seal(server: ServerConnection, pieces: list[tuple[ContentType, bytes]]) -> bytes:
    stage = server.handshake_stage
    sealer = get_provider("cryptography").RecordCipher(
        "1.3", int(server.suite), stage.server_key, stage.server_iv
    )
    return b"".join(sealer.seal(t, data) for t, data in pieces)


def _messages(handshake: bytes) -> list[bytes]:
    out = []
    while handshake:
        size = 4 + int.from_bytes(handshake[1:4], "big")
        out.append(handshake[:size])
        handshake = handshake[size:]
    return out


def test_messages_coalesced_and_fragmented(files: CredentialFiles) -> None:
    """All protected messages in one record, or cut into 7-byte records: same result."""
    for chunking in (None, 7):
        client, server, flight, protected = _server_flight(files)
        if chunking is None:
            pieces = [(ContentType.HANDSHAKE, protected)]
        else:
            pieces = [
                (ContentType.HANDSHAKE, protected[i : i + chunking])
                for i in range(0, len(protected), chunking)
            ]
        # The plaintext ServerHello is cut in two records as well.
        hello = flight[0]
        first = hello[:3] + (20).to_bytes(2, "big") + hello[5:25]
        second = hello[:3] + (len(hello) - 25).to_bytes(2, "big") + hello[25:]
        events = client.receive_data(first + second + flight[1] + _seal(server, pieces))
        assert any(isinstance(e, HandshakeComplete) for e in events), events


def test_out_of_order_certificate_before_encrypted_extensions(files: CredentialFiles) -> None:
    client, server, flight, protected = _server_flight(files)
    ee, cert, *rest = _messages(protected)
    assert ee[0] == HandshakeType.ENCRYPTED_EXTENSIONS
    reordered = [(ContentType.HANDSHAKE, m) for m in (cert, ee, *rest)]
    client_events = client.receive_data(flight[0] + flight[1] + _seal(server, reordered))
    server_events = server.receive_data(client.data_to_send())
    assert_alert_exchanged(client_events, server_events, AlertDescription.UNEXPECTED_MESSAGE)


def test_unknown_handshake_type(files: CredentialFiles) -> None:
    client, server, flight, _protected = _server_flight(files)
    bogus = [(ContentType.HANDSHAKE, bytes((99, 0, 0, 0)))]
    client_events = client.receive_data(flight[0] + flight[1] + _seal(server, bogus))
    server_events = server.receive_data(client.data_to_send())
    assert_alert_exchanged(client_events, server_events, AlertDescription.UNEXPECTED_MESSAGE)


def test_key_change_inside_a_record(files: CredentialFiles) -> None:
    """§5.1: ServerHello must end its record, since the keys change after it."""
    client, _server, flight, _ = _server_flight(files)
    hello = flight[0]
    extra = bytes((HandshakeType.ENCRYPTED_EXTENSIONS, 0, 0, 2, 0, 0))
    merged = hello[:3] + (len(hello) - 5 + len(extra)).to_bytes(2, "big") + hello[5:] + extra
    events = client.receive_data(merged)
    assert closed(events).error == AlertDescription.UNEXPECTED_MESSAGE


def test_finished_first_is_unexpected(files: CredentialFiles) -> None:
    _, server = make_pair(files)
    events = server.receive_data(bytes((22, 3, 3, 0, 36, 20, 0, 0, 32)) + bytes(32))
    assert closed(events).error == AlertDescription.UNEXPECTED_MESSAGE
    assert server.data_to_send() == bytes((21, 3, 3, 0, 2, 2, 10))  # a plaintext fatal alert


# -- faults in our own messages, seen by our own peer --------------------------------------
class WrongFinishedClient(ClientConnection):
    def finished_verify_data(self, finished_key: bytes) -> bytes:
        good = super().finished_verify_data(finished_key)
        return good[:-1] + bytes((good[-1] ^ 1,))


class BadSignatureServer(ServerConnection):
    def certificate_verify_signature(
        self, scheme: SignatureScheme, transcript_hash: bytes
    ) -> bytes:
        good = super().certificate_verify_signature(scheme, transcript_hash)
        return good[:-1] + bytes((good[-1] ^ 1,))


def test_wrong_finished(files: CredentialFiles) -> None:
    client, server = make_pair(files, client_class=WrongFinishedClient)
    client_events, server_events = pump(client, server)
    assert_alert_exchanged(server_events, client_events, AlertDescription.DECRYPT_ERROR)


@pytest.mark.parametrize("kind", ["rsa2048", "ecdsa-p256"])
def test_bad_signature(credentials: dict[str, CredentialFiles], kind: str) -> None:
    client, server = make_pair(credentials[kind], server_class=BadSignatureServer)
    client_events, server_events = pump(client, server)
    assert_alert_exchanged(client_events, server_events, AlertDescription.DECRYPT_ERROR)


def test_unknown_ca(files: CredentialFiles, other_ca: Path) -> None:
    client, server = make_pair(files, ca_file=other_ca)
    client_events, server_events = pump(client, server)
    assert_alert_exchanged(client_events, server_events, AlertDescription.UNKNOWN_CA)


def test_tampered_application_record(files: CredentialFiles) -> None:
    client, server = make_pair(files)
    pump(client, server)
    client.send_data(b"payload")
    record = bytearray(client.data_to_send())
    record[10] ^= 0x80
    server_events = server.receive_data(bytes(record))
    client_events = client.receive_data(server.data_to_send())
    assert_alert_exchanged(server_events, client_events, AlertDescription.BAD_RECORD_MAC)


# -- record layer rules -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "alert"),
    [
        (bytes((22, 3, 3, 0x40, 1)), AlertDescription.RECORD_OVERFLOW),  # 2^14 + 1 plaintext
        (bytes((99, 3, 3, 0, 1, 0)), AlertDescription.UNEXPECTED_MESSAGE),  # unknown type
        (bytes((22, 3, 3, 0, 0)), AlertDescription.UNEXPECTED_MESSAGE),  # empty handshake record
        (
            bytes((23, 3, 3, 0, 20)) + bytes(20),
            AlertDescription.UNEXPECTED_MESSAGE,
        ),  # data before keys
        (bytes((20, 3, 3, 0, 1, 1)), AlertDescription.UNEXPECTED_MESSAGE),  # CCS before ClientHello
        (b"GET / HTTP/1.1\r\n\r\n", AlertDescription.UNEXPECTED_MESSAGE),
    ],
)
def test_bad_records_to_server(
    files: CredentialFiles, data: bytes, alert: AlertDescription
) -> None:
    _, server = make_pair(files)
    assert closed(server.receive_data(data)).error == alert


def test_alert_record_must_be_two_bytes(files: CredentialFiles) -> None:
    client, _ = make_pair(files)
    assert (
        closed(client.receive_data(bytes((21, 3, 3, 0, 3, 2, 40, 0)))).error
        == AlertDescription.DECODE_ERROR
    )


def test_change_cipher_spec_rules(files: CredentialFiles) -> None:
    client, server = make_pair(files)
    server.receive_data(client.data_to_send())
    # A CCS with the wrong byte during the handshake.
    assert (
        closed(server.receive_data(bytes((20, 3, 3, 0, 1, 2)))).error
        == AlertDescription.UNEXPECTED_MESSAGE
    )
    # A correct CCS after the handshake.
    client, server = make_pair(files)
    pump(client, server)
    assert (
        closed(server.receive_data(bytes((20, 3, 3, 0, 1, 1)))).error
        == AlertDescription.UNEXPECTED_MESSAGE
    )


def test_eof_without_close_notify(files: CredentialFiles) -> None:
    client, server = make_pair(files)
    pump(client, server)
    event = closed(server.receive_data(b""))
    assert event.error is None and event.by_peer and "close_notify" in event.reason


def test_api_misuse_raises(files: CredentialFiles) -> None:
    client, server = make_pair(files)
    with pytest.raises(TlsUsageError):
        client.send_data(b"too early")
    with pytest.raises(TlsUsageError):
        server.key_update()
    pump(client, server)
    client.close()
    with pytest.raises(TlsUsageError):
        client.send_data(b"too late")
    with pytest.raises(ValueError):
        ClientConnection(ClientConfig(server_name="localhost"))  # verification without a CA


def test_large_records_are_fragmented(files: CredentialFiles) -> None:
    client, server = make_pair(files)
    pump(client, server)
    data = os.urandom(3 * (1 << 14) + 5)
    client.send_data(data)
    wire = client.data_to_send()
    assert [len(r) - 5 for r in records(wire)] == [(1 << 14) + 17] * 3 + [5 + 17]
    events = server.receive_data(wire)
    assert b"".join(e.data for e in events if isinstance(e, ApplicationData)) == data


def _hello_record(hello: ClientHello) -> bytes:
    raw = hello.encode()
    return bytes((22, 3, 1)) + len(raw).to_bytes(2, "big") + raw


def _our_client_hello(files: CredentialFiles) -> ClientHello:
    client, _ = make_pair(files)
    return client.hello


def _without(hello: ClientHello, ext_type: int) -> ClientHello:
    exts = {k: v for k, v in hello.extensions.items() if k != ext_type}
    return replace(hello, extensions=exts)


@pytest.mark.parametrize(
    ("change", "alert"),
    [
        (
            lambda h: _without(h, ExtensionType.SUPPORTED_VERSIONS),
            AlertDescription.PROTOCOL_VERSION,
        ),
        (
            lambda h: replace(
                h,
                extensions={
                    **h.extensions,
                    ExtensionType.SUPPORTED_VERSIONS: ext.encode_supported_versions_client(
                        [0x0303]
                    ),
                },
            ),
            AlertDescription.PROTOCOL_VERSION,
        ),
        (
            lambda h: _without(h, ExtensionType.SIGNATURE_ALGORITHMS),
            AlertDescription.MISSING_EXTENSION,
        ),
        (lambda h: _without(h, ExtensionType.KEY_SHARE), AlertDescription.MISSING_EXTENSION),
        (lambda h: _without(h, ExtensionType.SUPPORTED_GROUPS), AlertDescription.MISSING_EXTENSION),
        (
            lambda h: replace(h, legacy_compression_methods=b"\x01\x00"),
            AlertDescription.ILLEGAL_PARAMETER,
        ),
        (lambda h: replace(h, cipher_suites=[0x1304]), AlertDescription.HANDSHAKE_FAILURE),
        (
            lambda h: replace(
                h,
                extensions={
                    **h.extensions,
                    ExtensionType.SUPPORTED_GROUPS: ext.encode_supported_groups(
                        [NamedGroup.SECP256R1]
                    ),
                },
            ),
            AlertDescription.ILLEGAL_PARAMETER,  # x25519 share, but x25519 not in supported_groups
        ),
        (
            lambda h: replace(
                h,
                extensions={ExtensionType.PRE_SHARED_KEY: b"\x00\x00\x00\x00", **h.extensions},
            ),
            AlertDescription.ILLEGAL_PARAMETER,  # pre_shared_key must be the last extension
        ),
        (
            lambda h: replace(
                h,
                extensions={
                    **h.extensions,
                    ExtensionType.KEY_SHARE: ext.encode_key_share_client(
                        [ext.KeyShareEntry(NamedGroup.X25519, bytes(32))]
                    ),
                },
            ),
            AlertDescription.ILLEGAL_PARAMETER,  # an all-zero x25519 secret
        ),
    ],
    ids=[
        "no supported_versions",
        "only TLS 1.2",
        "no signature_algorithms",
        "no key_share",
        "no supported_groups",
        "compression",
        "no common suite",
        "share for a group not offered",
        "pre_shared_key not last",
        "all-zero x25519 share",
    ],
)
def test_client_hello_checks(
    files: CredentialFiles, change: Callable[[ClientHello], ClientHello], alert: AlertDescription
) -> None:
    _, both = make_pair(files)
    server = ServerConnection(replace(both.config, versions=(0x0304,)))  # TLS 1.3 only
    events = server.receive_data(_hello_record(change(_our_client_hello(files))))
    assert closed(events).error == alert
    assert server.data_to_send() == bytes((21, 3, 3, 0, 2, 2, alert))


def _server_hello_variant(
    files: CredentialFiles, change: Callable[[ServerHello], ServerHello]
) -> list[Event]:
    client, server = make_pair(files)
    server.receive_data(client.data_to_send())
    hello_record = records(server.data_to_send())[0]
    hello = ServerHello.decode(hello_record[9:])
    raw = change(hello).encode()
    return client.receive_data(bytes((22, 3, 3)) + len(raw).to_bytes(2, "big") + raw)


@pytest.mark.parametrize(
    ("change", "alert"),
    [
        (
            lambda h: replace(h, legacy_session_id_echo=bytes(32)),
            AlertDescription.ILLEGAL_PARAMETER,
        ),
        (lambda h: replace(h, cipher_suite=0x1304), AlertDescription.ILLEGAL_PARAMETER),
        (lambda h: replace(h, legacy_compression_method=1), AlertDescription.ILLEGAL_PARAMETER),
        (
            lambda h: replace(
                h, extensions={**h.extensions, ExtensionType.SUPPORTED_VERSIONS: b"\x03\x03"}
            ),
            AlertDescription.ILLEGAL_PARAMETER,
        ),
        (
            lambda h: replace(
                h, extensions={ExtensionType.KEY_SHARE: h.extensions[ExtensionType.KEY_SHARE]}
            ),
            AlertDescription.PROTOCOL_VERSION,
        ),
        (
            lambda h: replace(h, extensions={**h.extensions, ExtensionType.EARLY_DATA: b""}),
            AlertDescription.UNSUPPORTED_EXTENSION,
        ),
        (
            lambda h: replace(
                h, extensions={**h.extensions, ExtensionType.SIGNATURE_ALGORITHMS: b""}
            ),
            AlertDescription.ILLEGAL_PARAMETER,  # ours, but not allowed in a ServerHello
        ),
        (
            lambda h: replace(
                h,
                extensions={
                    **h.extensions,
                    ExtensionType.KEY_SHARE: ext.KeyShareEntry(
                        NamedGroup.SECP256R1, b"\x04" + bytes(64)
                    ).encode(),
                },
            ),
            AlertDescription.ILLEGAL_PARAMETER,  # a group we sent no share for
        ),
    ],
    ids=[
        "session id",
        "suite not offered",
        "compression",
        "TLS 1.2 selected",
        "no supported_versions",
        "unsolicited extension",
        "misplaced extension",
        "share group",
    ],
)
def test_server_hello_checks(
    files: CredentialFiles, change: Callable[[ServerHello], ServerHello], alert: AlertDescription
) -> None:
    assert closed(_server_hello_variant(files, change)).error == alert
