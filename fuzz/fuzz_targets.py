"""Fuzz targets of the TLS engine, shared by the hypothesis tests and the atheris harnesses.

Each ``fuzz_*`` function takes arbitrary bytes and checks the engine's contract on them:

- a decoder returns a message or raises ``ProtocolError`` carrying a real alert, never
  another exception; a message it returns encodes back to the same bytes;
- the record layer and the core's ``open``/``open_many`` raise only ``TlsError``s with a
  real alert; records it returns are within the RFC's limits;
- a connection never raises from ``receive_data``; when it rejects input it ends with a
  ``ConnectionClosed`` carrying an alert other than ``internal_error`` (which the engine
  only sends when a bug raised something that is not a ``TlsError``).

A violation is an ``AssertionError`` (or the stray exception itself), so both hypothesis
and libFuzzer report it with the input.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding

from tlsbench.crypto import get_provider
from tlsbench.errors import TlsError
from tlsbench.tls import extensions as ext
from tlsbench.tls import messages as m13
from tlsbench.tls import messages12 as m12
from tlsbench.tls.alerts import Alert, ProtocolError
from tlsbench.tls.certs import CertKind, make_credentials
from tlsbench.tls.client import ClientConfig, ClientConnection
from tlsbench.tls.connection import Connection
from tlsbench.tls.constants import (
    MAX_FRAGMENT,
    TLS12,
    TLS13,
    AlertDescription,
    CipherSuite,
    ContentType,
    ExtensionType,
    HandshakeType,
)
from tlsbench.tls.events import ConnectionClosed, Event
from tlsbench.tls.record import HandshakeBuffer, RecordLayer
from tlsbench.tls.server import ServerConfig, ServerConnection

CORPUS = Path(__file__).resolve().parent / "corpus"
"""Seed inputs, one directory per target (written by ``make_corpus.py``)."""

_ALERTS = frozenset(int(a) for a in AlertDescription)
_CONTENT_TYPES = frozenset(int(t) for t in ContentType)


def _check_alert(exc: TlsError) -> None:
    assert int(exc.alert) in _ALERTS, f"{type(exc).__name__} with unknown alert {exc.alert}"
    assert exc.alert != AlertDescription.INTERNAL_ERROR, f"internal_error: {exc}"


# -- decoders -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decoder:
    """One decode entry point and, when the encoders can say it, how to re-encode its result.

    ``encode`` returns the bytes the decoder should have been given, or None when the
    value has no unique encoding (e.g. a ServerHello whose extension block is empty).
    """

    decode: Callable[[bytes], Any]
    encode: Callable[[Any], bytes | None] | None = None


def _body(message: Any) -> bytes:
    """A whole encoded handshake message, without its 4-byte header."""
    return bytes(message.encode()[4:])


def _client_hello_body(hello: m13.ClientHello) -> bytes | None:
    # Decoding accepts TLS 1.2's absent or short extension block; encoding writes <8..>.
    if len(ext.encode_extensions(hello.extensions)) < 8:
        return None
    return _body(hello)


def _server_hello_body(hello: m13.ServerHello) -> bytes | None:
    return _body(hello) if hello.extensions else None  # no block is written for none


def _server_name(host: str | None) -> bytes | None:
    # The decoder keeps the host_name alone; check it survives its own encoding.
    if host is not None:
        assert host.isascii()
        assert ext.decode_server_name(ext.encode_server_name(host)) == host
    return None


DECODERS: dict[str, Decoder] = {
    # Handshake bodies (RFC 8446 §4, RFC 5246 §7.4).
    "client_hello": Decoder(m13.ClientHello.decode, _client_hello_body),
    "server_hello": Decoder(m13.ServerHello.decode, _server_hello_body),
    "encrypted_extensions": Decoder(m13.EncryptedExtensions.decode, _body),
    "certificate_request13": Decoder(m13.CertificateRequest.decode, _body),
    "certificate13": Decoder(m13.Certificate.decode, _body),
    "certificate_verify": Decoder(m13.CertificateVerify.decode, _body),
    "finished12": Decoder(lambda b: m13.Finished.decode(b, 12), _body),
    "finished32": Decoder(lambda b: m13.Finished.decode(b, 32), _body),
    "finished48": Decoder(lambda b: m13.Finished.decode(b, 48), _body),
    "new_session_ticket": Decoder(m13.NewSessionTicket.decode, _body),
    "key_update": Decoder(m13.KeyUpdate.decode, _body),
    "hello_request": Decoder(m12.HelloRequest.decode, _body),
    "certificate12": Decoder(m12.Certificate.decode, _body),
    "server_key_exchange": Decoder(m12.ServerKeyExchange.decode, _body),
    "certificate_request12": Decoder(m12.CertificateRequest.decode, _body),
    "server_hello_done": Decoder(m12.ServerHelloDone.decode, _body),
    "client_key_exchange_rsa": Decoder(lambda b: m12.ClientKeyExchange.decode(b, False), _body),
    "client_key_exchange_ecdhe": Decoder(lambda b: m12.ClientKeyExchange.decode(b, True), _body),
    # The extension block and every extension body (RFC 8446 §4.2 and the RFCs named there).
    "extensions": Decoder(ext.decode_extensions, ext.encode_extensions),
    "supported_versions_client": Decoder(
        ext.decode_supported_versions_client, ext.encode_supported_versions_client
    ),
    "supported_versions_server": Decoder(
        ext.decode_supported_versions_server, ext.encode_supported_versions_server
    ),
    "supported_groups": Decoder(ext.decode_supported_groups, ext.encode_supported_groups),
    "signature_algorithms": Decoder(
        ext.decode_signature_algorithms, ext.encode_signature_algorithms
    ),
    "key_share_client": Decoder(ext.decode_key_share_client, ext.encode_key_share_client),
    "key_share_server": Decoder(ext.decode_key_share_server, lambda e: e.encode()),
    "key_share_hrr": Decoder(ext.decode_key_share_hrr, ext.encode_key_share_hrr),
    "server_name": Decoder(ext.decode_server_name, _server_name),
    "alpn": Decoder(ext.decode_alpn, ext.encode_alpn),
    "cookie": Decoder(ext.decode_cookie, ext.encode_cookie),
    "psk_key_exchange_modes": Decoder(
        ext.decode_psk_key_exchange_modes, ext.encode_psk_key_exchange_modes
    ),
    "ec_point_formats": Decoder(ext.decode_ec_point_formats, ext.encode_ec_point_formats),
    "renegotiation_info": Decoder(ext.decode_renegotiation_info, ext.encode_renegotiation_info),
    "extended_master_secret": Decoder(lambda b: ext.decode_empty(b, "extended_master_secret")),
    "alert": Decoder(Alert.decode, lambda a: a.encode()),
}
"""Every decode entry point of the engine, by target name."""

# Which decoders a handshake message of each type goes to (both versions where they differ).
BY_HANDSHAKE_TYPE: dict[int, tuple[str, ...]] = {
    HandshakeType.HELLO_REQUEST: ("hello_request",),
    HandshakeType.CLIENT_HELLO: ("client_hello",),
    HandshakeType.SERVER_HELLO: ("server_hello",),
    HandshakeType.NEW_SESSION_TICKET: ("new_session_ticket",),
    HandshakeType.ENCRYPTED_EXTENSIONS: ("encrypted_extensions",),
    HandshakeType.CERTIFICATE: ("certificate13", "certificate12"),
    HandshakeType.SERVER_KEY_EXCHANGE: ("server_key_exchange",),
    HandshakeType.CERTIFICATE_REQUEST: ("certificate_request13", "certificate_request12"),
    HandshakeType.SERVER_HELLO_DONE: ("server_hello_done",),
    HandshakeType.CERTIFICATE_VERIFY: ("certificate_verify",),
    HandshakeType.CLIENT_KEY_EXCHANGE: ("client_key_exchange_rsa", "client_key_exchange_ecdhe"),
    HandshakeType.FINISHED: ("finished12", "finished32", "finished48"),
    HandshakeType.KEY_UPDATE: ("key_update",),
}

# Which decoders an extension body of each type goes to (ClientHello and server forms).
BY_EXTENSION_TYPE: dict[int, tuple[str, ...]] = {
    ExtensionType.SERVER_NAME: ("server_name",),
    ExtensionType.SUPPORTED_GROUPS: ("supported_groups",),
    ExtensionType.EC_POINT_FORMATS: ("ec_point_formats",),
    ExtensionType.SIGNATURE_ALGORITHMS: ("signature_algorithms",),
    ExtensionType.APPLICATION_LAYER_PROTOCOL_NEGOTIATION: ("alpn",),
    ExtensionType.EXTENDED_MASTER_SECRET: ("extended_master_secret",),
    ExtensionType.SUPPORTED_VERSIONS: ("supported_versions_client", "supported_versions_server"),
    ExtensionType.COOKIE: ("cookie",),
    ExtensionType.PSK_KEY_EXCHANGE_MODES: ("psk_key_exchange_modes",),
    ExtensionType.KEY_SHARE: ("key_share_client", "key_share_server", "key_share_hrr"),
    ExtensionType.RENEGOTIATION_INFO: ("renegotiation_info",),
}


def fuzz_decoder(name: str, data: bytes) -> Any:
    """Decode ``data`` with one decoder; check the contract and the round trip."""
    decoder = DECODERS[name]
    try:
        value = decoder.decode(data)
    except ProtocolError as exc:
        _check_alert(exc)
        return None
    if decoder.encode is not None:
        again = decoder.encode(value)
        assert again is None or again == data, f"{name}: {data.hex()} re-encodes as {again!r}"
    return value


def fuzz_handshake(data: bytes) -> None:
    """Handshake messages in a byte stream: reassembly, then every decoder for each type."""
    buffer = HandshakeBuffer()
    seen = 0
    # Feed in two pieces, so that messages split over records are reassembled too.
    cut = data[0] % (len(data) + 1) if data else 0
    for piece in (data[:cut], data[cut:]):
        buffer.append(piece)
        while True:
            try:
                message = buffer.pop()
            except ProtocolError as exc:
                _check_alert(exc)
                return
            if message is None:
                break
            assert message.raw == data[seen : seen + len(message.raw)]
            assert message.raw == m13.frame(message.msg_type, message.body)
            seen += len(message.raw)
            for name in BY_HANDSHAKE_TYPE.get(message.msg_type, ()):
                fuzz_decoder(name, message.body)
    assert buffer.empty == (seen == len(data))


def fuzz_extensions(data: bytes) -> None:
    """An extension block, then every body by its type."""
    block = fuzz_decoder("extensions", data)
    for ext_type, body in (block or {}).items():
        for name in BY_EXTENSION_TYPE.get(ext_type, ()):
            fuzz_decoder(name, body)


# -- record layer -----------------------------------------------------------------------

RECORD_SUITES: tuple[tuple[int, CipherSuite], ...] = (
    (TLS13, CipherSuite.TLS_AES_128_GCM_SHA256),
    (TLS13, CipherSuite.TLS_CHACHA20_POLY1305_SHA256),
    (TLS12, CipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384),
)
RECORD_KEY = bytes(range(32))
RECORD_IV = bytes(range(100, 112))


def record_keys(version: int, suite: CipherSuite) -> tuple[bytes, bytes]:
    """The fixed key and IV the record targets read with (their lengths fit ``suite``)."""
    key = RECORD_KEY[:16] if "AES_128" in suite.name else RECORD_KEY
    implicit_nonce = version == TLS12 and "GCM" in suite.name  # RFC 5288 §3: 4-byte salt
    return key, RECORD_IV[:4] if implicit_nonce else RECORD_IV


def fuzz_record(data: bytes, provider: str = "cryptography") -> None:
    """Framing and opening: ``data[0]`` picks plaintext or a keyed reader, the rest is fed.

    Returned records must respect §5.1/§5.2: a known type, at most 2^14 bytes of plaintext,
    no empty unprotected record.
    """
    if not data:
        return
    mode, stream = data[0] % 4, data[1:]
    layer = RecordLayer(get_provider(provider))
    if mode:  # 1..3: read with RECORD_SUITES[mode - 1]
        version, suite = RECORD_SUITES[mode - 1]
        layer.set_read_key(suite, *record_keys(version, suite), version)
    cut = data[0] // 4 * 8 % (len(stream) + 1)
    for piece in (stream[:cut], stream[cut:]):
        layer.feed(piece)
        while True:
            try:
                records = layer.read_records(batch=bool(data[0] & 0x80))
            except TlsError as exc:
                _check_alert(exc)
                return
            if not records:
                break
            for content_type, payload, protected in records:
                assert content_type in _CONTENT_TYPES
                assert len(payload) <= MAX_FRAGMENT
                assert protected or payload
                assert protected or mode != 3  # TLS 1.2 protects every record


def fuzz_core_open(data: bytes) -> None:
    """The core's ``open``, ``open_many`` and (bit 0x40) ``open_many_packed`` against the
    ``cryptography`` provider's, on any bytes.

    Both must accept the same input with the same result, or both refuse it with a
    ``TlsError``: of the same class for ``open``, which must also leave the sequence
    number alone. (``open_many`` may have opened some records before refusing one, and
    the two check framing and tags in a different order; the record layer rewinds.)
    """
    if not data:
        return
    version, suite = RECORD_SUITES[max(data[0] & 3, 1) - 1]  # the record target's modes
    key, iv = record_keys(version, suite)
    many, packed = bool(data[0] & 0x80), bool(data[0] & 0x40)
    results = []
    for name in ("rust", "cryptography"):
        cipher = get_provider(name).RecordCipher(version, int(suite), key, iv)
        try:
            if many:
                opened = cipher.open_many_packed if packed else cipher.open_many
                result: object = opened(data[1:])
            else:
                result = cipher.open(data[1:])
        except TlsError as exc:
            assert int(exc.alert) in _ALERTS
            assert many or cipher.sequence == 0, f"{name}: a refused record moved the sequence"
            result = TlsError if many else type(exc)
        results.append(result)
    assert results[0] == results[1], f"rust {results[0]!r} != cryptography {results[1]!r}"


# -- whole connections ----------------------------------------------------------------------


@cache
def server_config(kind: CertKind = "ecdsa-p256", provider: str = "cryptography") -> ServerConfig:
    """A server for both versions with a fresh CA and leaf of ``kind`` (made once)."""
    _, leaf = make_credentials(kind)
    der = leaf.certificate.public_bytes(Encoding.DER)
    return ServerConfig((der,), leaf.key, provider=provider, versions=(TLS13, TLS12))


def client_config(
    provider: str = "cryptography", versions: tuple[int, ...] = (TLS13, TLS12)
) -> ClientConfig:
    """A client offering both versions, not checking the chain (so any server can be fed)."""
    return ClientConfig(verify=False, provider=provider, versions=versions)


def check_events(conn: Connection, events: Iterable[Event]) -> None:
    """Events after ``receive_data``: a ConnectionClosed we caused names a real alert."""
    for event in events:
        if isinstance(event, ConnectionClosed):
            assert conn.closed
            if event.error is not None and not event.by_peer:
                assert int(event.error) in _ALERTS, event
                assert event.error != AlertDescription.INTERNAL_ERROR, (
                    f"uncaught exception in the engine: {event.reason}"
                )


def feed(conn: Connection, chunks: Iterable[bytes]) -> list[Event]:
    """Feed ``chunks`` one by one, then the end of the stream; check every step."""
    seen: list[Event] = []
    for chunk in chunks:
        if not chunk:
            continue
        events = conn.receive_data(chunk)
        conn.data_to_send()
        check_events(conn, events)
        seen += events
        if conn.closed:
            break
    if not conn.closed:
        events = conn.receive_data(b"")
        check_events(conn, events)
        seen += events
    assert conn.closed
    assert sum(isinstance(e, ConnectionClosed) for e in seen) == 1, seen
    assert conn.receive_data(b"more") == []
    return seen


def split(data: bytes, seed: int) -> list[bytes]:
    """``data`` cut into pieces at places chosen by ``seed`` (one piece for seed 0)."""
    if not seed:
        return [data]
    pieces, start = [], 0
    while start < len(data):
        step = 1 + (seed * 2654435761 + start) % 97
        pieces.append(data[start : start + step])
        start += step
    return pieces


def fuzz_server(data: bytes, provider: str = "cryptography") -> None:
    """A fresh ServerConnection fed ``data[1:]``, cut by ``data[0]``."""
    if not data:
        return
    feed(ServerConnection(server_config(provider=provider)), split(data[1:], data[0] % 4))


def fuzz_client(data: bytes, provider: str = "cryptography") -> None:
    """A ClientConnection, its ClientHello sent, fed ``data[1:]`` cut by ``data[0]``.

    ``data[0] & 4`` offers TLS 1.2 only (else 1.3 and 1.2).
    """
    if not data:
        return
    versions = (TLS12,) if data[0] & 4 else (TLS13, TLS12)
    conn = ClientConnection(client_config(provider, versions))
    assert conn.data_to_send()
    feed(conn, split(data[1:], data[0] % 4))


def records(stream: bytes) -> list[bytes]:
    """``stream`` split into whole records by their headers (a partial tail is dropped)."""
    out, pos = [], 0
    while pos + 5 <= len(stream):
        end = pos + 5 + int.from_bytes(stream[pos + 3 : pos + 5], "big")
        if end > len(stream):
            break
        out.append(stream[pos:end])
        pos = end
    return out


def digest(data: bytes) -> str:
    """A short name for a corpus file."""
    return hashlib.sha256(data).hexdigest()[:16]


TARGETS: dict[str, Callable[[bytes], None]] = {
    "handshake": fuzz_handshake,
    "extensions": fuzz_extensions,
    "record": fuzz_record,
    "core_open": fuzz_core_open,
    "server": fuzz_server,
    "client": fuzz_client,
}
"""The byte-level targets, by the name of their corpus directory."""


def corpus(target: str) -> list[bytes]:
    """The seed inputs of ``target``, sorted by file name."""
    directory = CORPUS / target
    return [p.read_bytes() for p in sorted(directory.glob("*"))] if directory.is_dir() else []
