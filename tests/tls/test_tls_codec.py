"""Strict decoders: bounds, trailing bytes, duplicates and forbidden empty lists are refused."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest

from tlsbench.crypto import Provider
from tlsbench.tls import extensions as ext
from tlsbench.tls.alerts import Alert, ProtocolError
from tlsbench.tls.codec import Reader
from tlsbench.tls.constants import (
    AlertDescription,
    CipherSuite,
    ExtensionType,
    KeyUpdateRequest,
    NamedGroup,
)
from tlsbench.tls.keyexchange import KeyShare
from tlsbench.tls.messages import (
    Certificate,
    CertificateEntry,
    CertificateRequest,
    CertificateVerify,
    ClientHello,
    EncryptedExtensions,
    Finished,
    KeyUpdate,
    NewSessionTicket,
    ServerHello,
)

DECODE = AlertDescription.DECODE_ERROR
ILLEGAL = AlertDescription.ILLEGAL_PARAMETER


def refuses(alert: AlertDescription, decode: Callable[..., Any], *args: Any) -> None:
    with pytest.raises(ProtocolError) as exc:
        decode(*args)
    assert exc.value.alert == alert


def client_hello() -> ClientHello:
    exts: ext.Extensions = {
        ExtensionType.SUPPORTED_VERSIONS: ext.encode_supported_versions_client([0x0304]),
        ExtensionType.SUPPORTED_GROUPS: ext.encode_supported_groups([NamedGroup.X25519]),
        ExtensionType.KEY_SHARE: ext.encode_key_share_client(
            [ext.KeyShareEntry(NamedGroup.X25519, bytes(32))]
        ),
    }
    return ClientHello(os.urandom(32), os.urandom(32), [CipherSuite.TLS_AES_128_GCM_SHA256], exts)


def body(raw: bytes) -> bytes:
    assert int.from_bytes(raw[1:4], "big") == len(raw) - 4
    return raw[4:]


MESSAGES: list[tuple[Any, Callable[[bytes], Any]]] = [
    (client_hello(), ClientHello.decode),
    (
        ServerHello(os.urandom(32), b"", 0x1301, {ExtensionType.SUPPORTED_VERSIONS: b"\x03\x04"}),
        ServerHello.decode,
    ),
    (EncryptedExtensions({ExtensionType.SERVER_NAME: b""}), EncryptedExtensions.decode),
    (
        CertificateRequest(b"", {ExtensionType.SIGNATURE_ALGORITHMS: b"\x00\x02\x08\x04"}),
        CertificateRequest.decode,
    ),
    (
        Certificate(b"", [CertificateEntry(b"\x30\x00"), CertificateEntry(b"x", {5: b""})]),
        Certificate.decode,
    ),
    (CertificateVerify(0x0804, b"sig"), CertificateVerify.decode),
    (NewSessionTicket(7200, 1, b"n", b"ticket", {}), NewSessionTicket.decode),
    (KeyUpdate(KeyUpdateRequest.UPDATE_REQUESTED), KeyUpdate.decode),
]


@pytest.mark.parametrize(("message", "decode"), MESSAGES, ids=lambda m: type(m).__name__)
def test_round_trip_and_trailing_byte(message: Any, decode: Callable[[bytes], Any]) -> None:
    raw = message.encode()
    assert decode(body(raw)) == message
    refuses(DECODE, decode, body(raw) + b"\x00")
    refuses(DECODE, decode, body(raw)[:-1])


def test_finished_length() -> None:
    assert Finished.decode(bytes(32), 32) == Finished(bytes(32))
    refuses(DECODE, Finished.decode, bytes(31), 32)
    refuses(DECODE, Finished.decode, bytes(48), 32)


def test_duplicate_extension() -> None:
    block = b"\x00\x0a\x00\x00" * 2
    refuses(ILLEGAL, ext.decode_extensions, block)


@pytest.mark.parametrize(
    ("decode", "data", "alert"),
    [
        (ext.decode_supported_groups, b"\x00\x00", DECODE),  # empty list: <2..2^16-1>
        (ext.decode_supported_groups, b"\x00\x03\x00\x1d\x00", DECODE),  # odd length
        (ext.decode_signature_algorithms, b"\x00\x00", DECODE),
        (ext.decode_supported_versions_client, b"\x00", DECODE),
        (ext.decode_alpn, b"\x00\x00", DECODE),
        (ext.decode_alpn, b"\x00\x02\x00\x00", DECODE),  # an empty protocol name
        (ext.decode_server_name, b"\x00\x00", DECODE),
        (ext.decode_cookie, b"\x00\x00", DECODE),
        (ext.decode_psk_key_exchange_modes, b"\x00", DECODE),
        # An empty key_exchange is a malformed share (§4.2.8), as OpenSSL answers it.
        (ext.decode_key_share_server, b"\x00\x1d\x00\x00", ILLEGAL),
        (ext.decode_key_share_client, b"\x00\x04\x00\x1d\x00\x00", ILLEGAL),
        (ext.decode_key_share_client, b"\x00\x0a\x00\x1d\x00\x01\x01\x00\x1d\x00\x01\x02", ILLEGAL),
        (ext.decode_supported_groups, b"\x00\x02\x00\x1d\x00", DECODE),  # trailing byte
    ],
)
def test_extension_bounds(
    decode: Callable[[bytes], Any], data: bytes, alert: AlertDescription
) -> None:
    refuses(alert, decode, data)


def test_key_update_value() -> None:
    refuses(ILLEGAL, KeyUpdate.decode, b"\x02")


def test_ticket_lifetime() -> None:
    raw = NewSessionTicket(604801, 0, b"", b"t", {}).encode()
    refuses(ILLEGAL, NewSessionTicket.decode, body(raw))


def test_alert_decoding() -> None:
    assert Alert.decode(b"\x02\x28") == Alert(2, 40)
    refuses(DECODE, Alert.decode, b"\x02")
    refuses(ILLEGAL, Alert.decode, b"\x03\x28")


def test_reader_vector_bounds() -> None:
    refuses(DECODE, Reader(b"\x00\x05abc").vector, 2, 0, 10)  # longer than the data
    refuses(DECODE, Reader(b"\x00\x05abcde").vector, 2, 0, 4)  # over the maximum
    refuses(DECODE, Reader(b"\x00\x00").vector, 2, 1, 4)  # under the minimum


def test_x25519_all_zero_and_short_shares(provider: Provider) -> None:
    crypto = provider
    share = KeyShare(NamedGroup.X25519, crypto)
    refuses(ILLEGAL, share.exchange, bytes(32))  # a low-order point gives an all-zero secret
    refuses(ILLEGAL, share.exchange, bytes(31))
    assert len(share.exchange(KeyShare(NamedGroup.X25519, crypto).public)) == 32


@pytest.mark.parametrize("group", [NamedGroup.SECP256R1, NamedGroup.SECP384R1])
def test_ec_shares(group: NamedGroup, provider: Provider) -> None:
    crypto = provider
    share = KeyShare(group, crypto)
    peer = KeyShare(group, crypto)
    assert share.exchange(peer.public) == peer.exchange(share.public)
    off_curve = peer.public[:-1] + bytes((peer.public[-1] ^ 1,))
    refuses(ILLEGAL, share.exchange, off_curve)
    refuses(ILLEGAL, share.exchange, b"\x02" + peer.public[1 : 1 + (len(peer.public) - 1) // 2])
