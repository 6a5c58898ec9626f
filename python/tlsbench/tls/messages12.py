"""TLS 1.2 handshake messages (RFC 5246 §7.4, RFC 8422 §5): strict decoders and encoders.

ClientHello, ServerHello and Finished have the same layout in both versions and
live in ``messages``; these are the ones TLS 1.2 has alone or lays out differently.
``encode()`` returns the whole message; ``decode(body)`` refuses trailing bytes
and out-of-bounds vectors with ``decode_error``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .alerts import ProtocolError
from .codec import Reader, Writer
from .constants import AlertDescription, ECCurveType, HandshakeType
from .messages import frame

VERIFY_DATA_LENGTH = 12
"""RFC 5246 §7.4.9: verify_data is 12 bytes for every suite here."""


def _empty(body: bytes, name: str) -> None:
    if body:
        raise ProtocolError(AlertDescription.DECODE_ERROR, f"{name} is not empty")


@dataclass(frozen=True)
class HelloRequest:
    """§7.4.1.1: a server's request to renegotiate (which this engine refuses)."""

    def encode(self) -> bytes:
        """The whole message."""
        return frame(HandshakeType.HELLO_REQUEST, b"")

    @classmethod
    def decode(cls, body: bytes) -> HelloRequest:
        """An empty body."""
        _empty(body, "HelloRequest")
        return cls()


@dataclass(frozen=True)
class Certificate:
    """§7.4.2: ``ASN.1Cert certificate_list<0..2^24-1>``, leaf first (no extensions)."""

    certificate_list: tuple[bytes, ...]

    def encode(self) -> bytes:
        """The whole message."""
        entries = Writer()
        for der in self.certificate_list:
            entries.vector(der, 3, 1, 0xFFFFFF)
        body = Writer().vector(entries.getvalue(), 3, 0, 0xFFFFFF).getvalue()
        return frame(HandshakeType.CERTIFICATE, body)

    @classmethod
    def decode(cls, body: bytes) -> Certificate:
        """Parse a body."""
        reader = Reader(body)
        certs: list[bytes] = []
        with reader.sub(3, 0, 0xFFFFFF) as inner:
            while inner.remaining:
                certs.append(inner.vector(3, 1, 0xFFFFFF))
        reader.finish()
        return cls(tuple(certs))


@dataclass(frozen=True)
class ServerECDHParams:
    """RFC 8422 §5.4: a named curve and the server's ephemeral public point."""

    named_curve: int
    public: bytes

    def encode(self) -> bytes:
        """``ECParameters curve_params; ECPoint public``."""
        writer = Writer().u8(ECCurveType.NAMED_CURVE).u16(self.named_curve)
        return writer.vector(self.public, 1, 1, 255).getvalue()

    @classmethod
    def read(cls, reader: Reader) -> ServerECDHParams:
        """Read the parameters; explicit curves are refused (RFC 8422 §5.4)."""
        if reader.u8() != ECCurveType.NAMED_CURVE:
            raise ProtocolError(AlertDescription.ILLEGAL_PARAMETER, "not a named curve")
        curve = reader.u16()
        return cls(curve, reader.public_value(1, 255))


@dataclass(frozen=True)
class ServerKeyExchange:
    """RFC 8422 §5.4: ECDH parameters and a signature over both randoms and them."""

    params: ServerECDHParams
    algorithm: int
    signature: bytes

    def encode(self) -> bytes:
        """The whole message."""
        writer = Writer().raw(self.params.encode()).u16(self.algorithm)
        writer.vector(self.signature, 2, 0, 0xFFFF)
        return frame(HandshakeType.SERVER_KEY_EXCHANGE, writer.getvalue())

    @classmethod
    def decode(cls, body: bytes) -> ServerKeyExchange:
        """Parse a body (ECDHE suites only)."""
        reader = Reader(body)
        params = ServerECDHParams.read(reader)
        algorithm = reader.u16()
        signature = reader.vector(2, 0, 0xFFFF)
        reader.finish()
        return cls(params, algorithm, signature)


def signed_params(client_random: bytes, server_random: bytes, params: ServerECDHParams) -> bytes:
    """What ServerKeyExchange signs: ClientHello.random + ServerHello.random + params."""
    return client_random + server_random + params.encode()


@dataclass(frozen=True)
class CertificateRequest:
    """§7.4.4: types, signature algorithms and CA names the server would accept."""

    certificate_types: bytes
    signature_algorithms: tuple[int, ...]
    certificate_authorities: bytes

    def encode(self) -> bytes:
        """The whole message."""
        writer = Writer().vector(self.certificate_types, 1, 1, 255)
        schemes = b"".join(s.to_bytes(2, "big") for s in self.signature_algorithms)
        writer.vector(schemes, 2, 2, 0xFFFE).vector(self.certificate_authorities, 2, 0, 0xFFFF)
        return frame(HandshakeType.CERTIFICATE_REQUEST, writer.getvalue())

    @classmethod
    def decode(cls, body: bytes) -> CertificateRequest:
        """Parse a body."""
        reader = Reader(body)
        types = reader.vector(1, 1, 255)
        raw = reader.vector(2, 2, 0xFFFE)
        if len(raw) % 2:
            raise ProtocolError(AlertDescription.DECODE_ERROR, "odd signature algorithms length")
        schemes = tuple(int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2))
        authorities = reader.vector(2, 0, 0xFFFF)
        reader.finish()
        return cls(types, schemes, authorities)


@dataclass(frozen=True)
class NewSessionTicket:
    """RFC 5077 §3.3: ``uint32 ticket_lifetime_hint; opaque ticket<0..2^16-1>``."""

    lifetime_hint: int
    ticket: bytes

    def encode(self) -> bytes:
        """The whole message."""
        body = Writer().uint(self.lifetime_hint, 4).vector(self.ticket, 2, 0, 0xFFFF).getvalue()
        return frame(HandshakeType.NEW_SESSION_TICKET, body)

    @classmethod
    def decode(cls, body: bytes) -> NewSessionTicket:
        """Parse a body."""
        reader = Reader(body)
        hint = reader.u32()
        ticket = reader.vector(2, 0, 0xFFFF)
        reader.finish()
        return cls(hint, ticket)


@dataclass(frozen=True)
class ServerHelloDone:
    """§7.4.5: the end of the server's first flight."""

    def encode(self) -> bytes:
        """The whole message."""
        return frame(HandshakeType.SERVER_HELLO_DONE, b"")

    @classmethod
    def decode(cls, body: bytes) -> ServerHelloDone:
        """An empty body."""
        _empty(body, "ServerHelloDone")
        return cls()


@dataclass(frozen=True)
class ClientKeyExchange:
    """§7.4.7: the RSA-encrypted pre-master secret, or the client's ECDH point (RFC 8422 §5.7).

    RSA: ``opaque EncryptedPreMasterSecret<0..2^16-1>`` (§7.4.7.1); ECDHE:
    ``opaque point<1..2^8-1>``.
    """

    exchange_keys: bytes
    ecdhe: bool

    def encode(self) -> bytes:
        """The whole message."""
        if self.ecdhe:
            body = Writer().vector(self.exchange_keys, 1, 1, 255).getvalue()
        else:
            body = Writer().vector(self.exchange_keys, 2, 0, 0xFFFF).getvalue()
        return frame(HandshakeType.CLIENT_KEY_EXCHANGE, body)

    @classmethod
    def decode(cls, body: bytes, ecdhe: bool) -> ClientKeyExchange:
        """Parse a body for the negotiated key exchange."""
        reader = Reader(body)
        data = reader.public_value(1, 255) if ecdhe else reader.vector(2, 0, 0xFFFF)
        reader.finish()
        return cls(data, ecdhe)
