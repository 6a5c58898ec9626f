"""Handshake messages (RFC 8446 §4): strict decoders and encoders.

``encode()`` returns the whole handshake message (type, uint24 length, body),
ready for the transcript and the record layer; ``decode(body)`` parses the body
and refuses trailing bytes and out-of-bounds vectors with ``decode_error``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from .alerts import ProtocolError
from .codec import Reader, Writer, u16_values
from .constants import (
    HELLO_RETRY_REQUEST_RANDOM,
    TLS12,
    AlertDescription,
    HandshakeType,
    KeyUpdateRequest,
)
from .extensions import Extensions, decode_extensions, encode_extensions


class Handshake(NamedTuple):
    """A whole handshake message as received: its type, body and raw bytes (a named
    tuple: one is made per message received)."""

    msg_type: int
    body: bytes
    raw: bytes


def frame(msg_type: int, body: bytes) -> bytes:
    """``struct { HandshakeType msg_type; uint24 length; ... } Handshake`` (§4)."""
    if len(body) > 0xFFFFFF:
        raise ValueError(f"handshake body of {len(body)} bytes")
    return (msg_type << 24 | len(body)).to_bytes(4, "big") + body


def _read_extensions(reader: Reader, minimum: int) -> Extensions:
    return decode_extensions(reader.vector(2, minimum, 0xFFFF))


def _write_extensions(writer: Writer, extensions: Extensions, minimum: int) -> None:
    writer.vector(encode_extensions(extensions), 2, minimum, 0xFFFF)


@dataclass(frozen=True)
class ClientHello:
    """§4.1.2."""

    random: bytes
    legacy_session_id: bytes
    cipher_suites: list[int]
    extensions: Extensions
    legacy_version: int = TLS12
    legacy_compression_methods: bytes = b"\x00"

    def encode(self) -> bytes:
        """The whole message."""
        writer = Writer().u16(self.legacy_version).raw(self.random)
        writer.vector(self.legacy_session_id, 1, 0, 32)
        suites = b"".join(s.to_bytes(2, "big") for s in self.cipher_suites)
        writer.vector(suites, 2, 2, 0xFFFE)
        writer.vector(self.legacy_compression_methods, 1, 1, 255)
        _write_extensions(writer, self.extensions, 8)
        return frame(HandshakeType.CLIENT_HELLO, writer.getvalue())

    @classmethod
    def decode(cls, body: bytes) -> ClientHello:
        """Parse a body; a hello without extensions (TLS 1.2 and older) gets none."""
        reader = Reader(body)
        legacy_version = reader.u16()
        random = reader.raw(32)
        session_id = reader.vector(1, 0, 32)
        suites = u16_values(reader.vector(2, 2, 0xFFFE))
        compression = reader.vector(1, 1, 255)
        extensions: Extensions = {}
        if reader.remaining:
            extensions = _read_extensions(reader, 0)
        reader.finish()
        return cls(random, session_id, suites, extensions, legacy_version, compression)


@dataclass(frozen=True)
class ServerHello:
    """§4.1.3; a HelloRetryRequest is a ServerHello with a special random (§4.1.4)."""

    random: bytes
    legacy_session_id_echo: bytes
    cipher_suite: int
    extensions: Extensions
    legacy_version: int = TLS12
    legacy_compression_method: int = 0

    @property
    def is_hello_retry_request(self) -> bool:
        """True for a HelloRetryRequest."""
        return self.random == HELLO_RETRY_REQUEST_RANDOM

    def encode(self) -> bytes:
        """The whole message."""
        writer = Writer().u16(self.legacy_version).raw(self.random)
        writer.vector(self.legacy_session_id_echo, 1, 0, 32)
        writer.u16(self.cipher_suite).u8(self.legacy_compression_method)
        if self.extensions:  # a TLS 1.2 ServerHello may have none, and then no block
            _write_extensions(writer, self.extensions, 0)
        return frame(HandshakeType.SERVER_HELLO, writer.getvalue())

    @classmethod
    def decode(cls, body: bytes) -> ServerHello:
        """Parse a body."""
        reader = Reader(body)
        legacy_version = reader.u16()
        random = reader.raw(32)
        session_id = reader.vector(1, 0, 32)
        suite = reader.u16()
        compression = reader.u8()
        # A TLS 1.2 ServerHello may lack extensions; the caller then refuses the version.
        extensions = _read_extensions(reader, 0) if reader.remaining else {}
        reader.finish()
        return cls(random, session_id, suite, extensions, legacy_version, compression)


@dataclass(frozen=True)
class EncryptedExtensions:
    """§4.3.1."""

    extensions: Extensions

    def encode(self) -> bytes:
        """The whole message."""
        writer = Writer()
        _write_extensions(writer, self.extensions, 0)
        return frame(HandshakeType.ENCRYPTED_EXTENSIONS, writer.getvalue())

    @classmethod
    def decode(cls, body: bytes) -> EncryptedExtensions:
        """Parse a body."""
        reader = Reader(body)
        extensions = _read_extensions(reader, 0)
        reader.finish()
        return cls(extensions)


@dataclass(frozen=True)
class CertificateRequest:
    """§4.3.2."""

    context: bytes
    extensions: Extensions

    def encode(self) -> bytes:
        """The whole message."""
        writer = Writer().vector(self.context, 1, 0, 255)
        _write_extensions(writer, self.extensions, 2)
        return frame(HandshakeType.CERTIFICATE_REQUEST, writer.getvalue())

    @classmethod
    def decode(cls, body: bytes) -> CertificateRequest:
        """Parse a body."""
        reader = Reader(body)
        context = reader.vector(1, 0, 255)
        extensions = _read_extensions(reader, 2)
        reader.finish()
        return cls(context, extensions)


@dataclass(frozen=True)
class CertificateEntry:
    """One certificate (DER) and its extensions (§4.4.2)."""

    cert_data: bytes
    extensions: Extensions = field(default_factory=dict)


@dataclass(frozen=True)
class Certificate:
    """§4.4.2."""

    context: bytes
    entries: list[CertificateEntry]

    def encode(self) -> bytes:
        """The whole message."""
        entries = Writer()
        for entry in self.entries:
            entries.vector(entry.cert_data, 3, 1, 0xFFFFFF)
            _write_extensions(entries, entry.extensions, 0)
        writer = Writer().vector(self.context, 1, 0, 255)
        writer.vector(entries.getvalue(), 3, 0, 0xFFFFFF)
        return frame(HandshakeType.CERTIFICATE, writer.getvalue())

    @classmethod
    def decode(cls, body: bytes) -> Certificate:
        """Parse a body."""
        reader = Reader(body)
        context = reader.vector(1, 0, 255)
        entries: list[CertificateEntry] = []
        with reader.sub(3, 0, 0xFFFFFF) as inner:
            while inner.remaining:
                cert = inner.vector(3, 1, 0xFFFFFF)
                entries.append(CertificateEntry(cert, _read_extensions(inner, 0)))
        reader.finish()
        return cls(context, entries)


@dataclass(frozen=True)
class CertificateVerify:
    """§4.4.3."""

    algorithm: int
    signature: bytes

    def encode(self) -> bytes:
        """The whole message."""
        writer = Writer().u16(self.algorithm).vector(self.signature, 2, 0, 0xFFFF)
        return frame(HandshakeType.CERTIFICATE_VERIFY, writer.getvalue())

    @classmethod
    def decode(cls, body: bytes) -> CertificateVerify:
        """Parse a body."""
        reader = Reader(body)
        algorithm = reader.u16()
        signature = reader.vector(2, 0, 0xFFFF)
        reader.finish()
        return cls(algorithm, signature)


@dataclass(frozen=True)
class Finished:
    """§4.4.4; the length of verify_data is checked against the suite's hash."""

    verify_data: bytes

    def encode(self) -> bytes:
        """The whole message."""
        return frame(HandshakeType.FINISHED, self.verify_data)

    @classmethod
    def decode(cls, body: bytes, hash_length: int) -> Finished:
        """Parse a body of exactly ``hash_length`` bytes."""
        if len(body) != hash_length:
            raise ProtocolError(AlertDescription.DECODE_ERROR, "Finished of the wrong length")
        return cls(body)


@dataclass(frozen=True)
class NewSessionTicket:
    """§4.6.1."""

    lifetime: int
    age_add: int
    nonce: bytes
    ticket: bytes
    extensions: Extensions

    def encode(self) -> bytes:
        """The whole message."""
        writer = Writer().uint(self.lifetime, 4).uint(self.age_add, 4)
        writer.vector(self.nonce, 1, 0, 255).vector(self.ticket, 2, 1, 0xFFFF)
        writer.vector(encode_extensions(self.extensions), 2, 0, 0xFFFE)
        return frame(HandshakeType.NEW_SESSION_TICKET, writer.getvalue())

    @classmethod
    def decode(cls, body: bytes) -> NewSessionTicket:
        """Parse a body."""
        reader = Reader(body)
        lifetime = reader.u32()
        age_add = reader.u32()
        nonce = reader.vector(1, 0, 255)
        ticket = reader.vector(2, 1, 0xFFFF)
        extensions = decode_extensions(reader.vector(2, 0, 0xFFFE))
        reader.finish()
        if lifetime > 604800:  # §4.6.1: at most seven days
            raise ProtocolError(AlertDescription.ILLEGAL_PARAMETER, "ticket lifetime over 7 days")
        return cls(lifetime, age_add, nonce, ticket, extensions)


@dataclass(frozen=True)
class KeyUpdate:
    """§4.6.3."""

    request_update: KeyUpdateRequest

    def encode(self) -> bytes:
        """The whole message."""
        return frame(HandshakeType.KEY_UPDATE, bytes((self.request_update,)))

    @classmethod
    def decode(cls, body: bytes) -> KeyUpdate:
        """Parse a body; a value other than 0 or 1 is illegal."""
        reader = Reader(body)
        value = reader.u8()
        reader.finish()
        try:
            return cls(KeyUpdateRequest(value))
        except ValueError:
            raise ProtocolError(AlertDescription.ILLEGAL_PARAMETER, "bad KeyUpdate value") from None


def message_hash(client_hello_digest: bytes) -> bytes:
    """The synthetic message that replaces ClientHello1 after a HelloRetryRequest (§4.4.1)."""
    return frame(HandshakeType.MESSAGE_HASH, client_hello_digest)
