"""Extensions (RFC 8446 §4.2): the block that carries them and each body we use.

Every ``decode_*`` consumes its body whole and checks the RFC's bounds;
``encode_*`` produces the ``extension_data`` only (no type or length).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from .alerts import ProtocolError
from .codec import Reader, Writer, u16_values
from .constants import AlertDescription

Extensions = dict[int, bytes]
"""An extension block: type -> extension_data, in wire order."""
_EXTENSION_HEADER = struct.Struct(">HH")


def decode_extensions(data: bytes) -> Extensions:
    """Split an extension block's contents; duplicates are illegal (§4.2).

    Read inline (each extension's 4-byte header, then its body), as every hello has several.
    """
    out: Extensions = {}
    pos, end = 0, len(data)
    while pos < end:
        if end - pos < 4:
            raise ProtocolError(AlertDescription.DECODE_ERROR, "message truncated")
        ext_type, length = _EXTENSION_HEADER.unpack_from(data, pos)
        start = pos + 4
        pos = start + length
        if pos > end:
            raise ProtocolError(AlertDescription.DECODE_ERROR, "message truncated")
        if ext_type in out:
            raise ProtocolError(
                AlertDescription.ILLEGAL_PARAMETER, f"duplicate extension {ext_type}"
            )
        out[ext_type] = data[start:pos]
    return out


def encode_extensions(extensions: Extensions) -> bytes:
    """Join an extension block's contents (without the outer length)."""
    parts = []
    for ext_type, body in extensions.items():
        if len(body) > 0xFFFF:
            raise ValueError(f"extension {ext_type} of {len(body)} bytes")
        parts.append(_EXTENSION_HEADER.pack(ext_type, len(body)))
        parts.append(body)
    return b"".join(parts)


def _u16_list(data: bytes, minimum: int, maximum: int) -> list[int]:
    reader = Reader(data)
    values = u16_values(reader.vector(2, minimum, maximum))
    reader.finish()
    return values


def _encode_u16_list(values: list[int], maximum: int) -> bytes:
    body = b"".join(v.to_bytes(2, "big") for v in values)
    return Writer().vector(body, 2, 2, maximum).getvalue()


# RFC 8446 §4.2.1 supported_versions
def encode_supported_versions_client(versions: list[int]) -> bytes:
    """ClientHello form: ``ProtocolVersion versions<2..254>``."""
    body = b"".join(v.to_bytes(2, "big") for v in versions)
    return Writer().vector(body, 1, 2, 254).getvalue()


def decode_supported_versions_client(data: bytes) -> list[int]:
    """ClientHello form: ``ProtocolVersion versions<2..254>``."""
    reader = Reader(data)
    versions = u16_values(reader.vector(1, 2, 254))
    reader.finish()
    return versions


def encode_supported_versions_server(version: int) -> bytes:
    """ServerHello / HelloRetryRequest form: ``ProtocolVersion selected_version``."""
    return version.to_bytes(2, "big")


def decode_supported_versions_server(data: bytes) -> int:
    """ServerHello / HelloRetryRequest form."""
    reader = Reader(data)
    version = reader.u16()
    reader.finish()
    return version


# RFC 8446 §4.2.7 supported_groups, §4.2.3 signature_algorithms
def encode_supported_groups(groups: list[int]) -> bytes:
    """``NamedGroup named_group_list<2..2^16-1>``."""
    return _encode_u16_list(groups, 0xFFFF)


def decode_supported_groups(data: bytes) -> list[int]:
    """``NamedGroup named_group_list<2..2^16-1>``."""
    return _u16_list(data, 2, 0xFFFF)


def encode_signature_algorithms(schemes: list[int]) -> bytes:
    """``SignatureScheme supported_signature_algorithms<2..2^16-2>``."""
    return _encode_u16_list(schemes, 0xFFFE)


def decode_signature_algorithms(data: bytes) -> list[int]:
    """``SignatureScheme supported_signature_algorithms<2..2^16-2>``."""
    return _u16_list(data, 2, 0xFFFE)


# RFC 8446 §4.2.8 key_share
@dataclass(frozen=True)
class KeyShareEntry:
    """One ``KeyShareEntry``: a group and its public value."""

    group: int
    key_exchange: bytes

    def encode(self) -> bytes:
        """``NamedGroup group; opaque key_exchange<1..2^16-1>``."""
        return Writer().u16(self.group).vector(self.key_exchange, 2, 1, 0xFFFF).getvalue()

    @classmethod
    def read(cls, reader: Reader) -> KeyShareEntry:
        """Read one entry."""
        group = reader.u16()
        return cls(group, reader.public_value(2, 0xFFFF))


def encode_key_share_client(shares: list[KeyShareEntry]) -> bytes:
    """``KeyShareEntry client_shares<0..2^16-1>``."""
    body = b"".join(s.encode() for s in shares)
    return Writer().vector(body, 2, 0, 0xFFFF).getvalue()


def decode_key_share_client(data: bytes) -> list[KeyShareEntry]:
    """ClientHello form; one share per group at most (§4.2.8)."""
    reader = Reader(data)
    shares: list[KeyShareEntry] = []
    with reader.sub(2, 0, 0xFFFF) as inner:
        while inner.remaining:
            shares.append(KeyShareEntry.read(inner))
    reader.finish()
    if len({s.group for s in shares}) != len(shares):
        raise ProtocolError(AlertDescription.ILLEGAL_PARAMETER, "two key shares for one group")
    return shares


def decode_key_share_server(data: bytes) -> KeyShareEntry:
    """ServerHello form: ``KeyShareEntry server_share``."""
    reader = Reader(data)
    share = KeyShareEntry.read(reader)
    reader.finish()
    return share


def encode_key_share_hrr(group: int) -> bytes:
    """HelloRetryRequest form: ``NamedGroup selected_group``."""
    return group.to_bytes(2, "big")


def decode_key_share_hrr(data: bytes) -> int:
    """HelloRetryRequest form: ``NamedGroup selected_group``."""
    reader = Reader(data)
    group = reader.u16()
    reader.finish()
    return group


# RFC 6066 §3 server_name
def encode_server_name(host: str) -> bytes:
    """A ServerNameList with one host_name."""
    name = Writer().u8(0).vector(host.encode("ascii"), 2, 1, 0xFFFF).getvalue()
    return Writer().vector(name, 2, 1, 0xFFFF).getvalue()


def decode_server_name(data: bytes) -> str | None:
    """The host_name of a ServerNameList (None if it has none)."""
    reader = Reader(data)
    host: str | None = None
    seen: set[int] = set()
    with reader.sub(2, 1, 0xFFFF) as inner:
        while inner.remaining:
            name_type = inner.u8()
            name = inner.vector(2, 1, 0xFFFF)
            if name_type in seen:
                raise ProtocolError(AlertDescription.ILLEGAL_PARAMETER, "two names of one type")
            seen.add(name_type)
            if name_type == 0:
                try:
                    host = name.decode("ascii")
                except UnicodeDecodeError:
                    raise ProtocolError(
                        AlertDescription.DECODE_ERROR, "host_name not ASCII"
                    ) from None
    reader.finish()
    return host


# RFC 7301 §3.1 application_layer_protocol_negotiation
def encode_alpn(protocols: list[bytes]) -> bytes:
    """``ProtocolName protocol_name_list<2..2^16-1>``."""
    body = b"".join(Writer().vector(p, 1, 1, 255).getvalue() for p in protocols)
    return Writer().vector(body, 2, 2, 0xFFFF).getvalue()


def decode_alpn(data: bytes) -> list[bytes]:
    """``ProtocolName protocol_name_list<2..2^16-1>``; empty names refused."""
    reader = Reader(data)
    names: list[bytes] = []
    with reader.sub(2, 2, 0xFFFF) as inner:
        while inner.remaining:
            names.append(inner.vector(1, 1, 255))
    reader.finish()
    return names


# RFC 8446 §4.2.2 cookie, §4.2.9 psk_key_exchange_modes
def encode_cookie(cookie: bytes) -> bytes:
    """``opaque cookie<1..2^16-1>``."""
    return Writer().vector(cookie, 2, 1, 0xFFFF).getvalue()


def decode_cookie(data: bytes) -> bytes:
    """``opaque cookie<1..2^16-1>``."""
    reader = Reader(data)
    cookie = reader.vector(2, 1, 0xFFFF)
    reader.finish()
    return cookie


def encode_psk_key_exchange_modes(modes: list[int]) -> bytes:
    """``PskKeyExchangeMode ke_modes<1..255>``."""
    return Writer().vector(bytes(modes), 1, 1, 255).getvalue()


def decode_psk_key_exchange_modes(data: bytes) -> list[int]:
    """``PskKeyExchangeMode ke_modes<1..255>``."""
    reader = Reader(data)
    modes = list(reader.vector(1, 1, 255))
    reader.finish()
    return modes


# RFC 8422 §5.1.2 ec_point_formats
def encode_ec_point_formats(formats: list[int]) -> bytes:
    """``ECPointFormat ec_point_format_list<1..2^8-1>``."""
    return Writer().vector(bytes(formats), 1, 1, 255).getvalue()


def decode_ec_point_formats(data: bytes) -> list[int]:
    """``ECPointFormat ec_point_format_list<1..2^8-1>``."""
    reader = Reader(data)
    formats = list(reader.vector(1, 1, 255))
    reader.finish()
    return formats


# RFC 5746 §3.2 renegotiation_info
def encode_renegotiation_info(renegotiated_connection: bytes = b"") -> bytes:
    """``opaque renegotiated_connection<0..255>``; empty on an initial handshake."""
    return Writer().vector(renegotiated_connection, 1, 0, 255).getvalue()


def decode_renegotiation_info(data: bytes) -> bytes:
    """``opaque renegotiated_connection<0..255>``."""
    reader = Reader(data)
    value = reader.vector(1, 0, 255)
    reader.finish()
    return value


# RFC 7627 §5.1 extended_master_secret
def decode_empty(data: bytes, name: str) -> None:
    """An extension whose ``extension_data`` must be empty (extended_master_secret)."""
    if data:
        raise ProtocolError(AlertDescription.DECODE_ERROR, f"{name} is not empty")


# RFC 5077 §3.2 session_ticket
def encode_session_ticket(ticket: bytes = b"") -> bytes:
    """``extension_data`` is the ticket itself (no length prefix); empty asks for one."""
    return ticket


def decode_session_ticket(data: bytes) -> bytes:
    """The ticket a ClientHello offers (empty: none, but one is wanted)."""
    return data


# RFC 8446 §4.2.11 pre_shared_key
@dataclass(frozen=True)
class PskIdentity:
    """One ``PskIdentity``: the ticket (or external identity) and its obfuscated age."""

    identity: bytes
    obfuscated_ticket_age: int


def encode_pre_shared_key_client(identities: list[PskIdentity], binders: list[bytes]) -> bytes:
    """``OfferedPsks``: ``identities<7..2^16-1>`` then ``binders<33..2^16-1>``."""
    ids = Writer()
    for entry in identities:
        ids.vector(entry.identity, 2, 1, 0xFFFF).uint(entry.obfuscated_ticket_age, 4)
    writer = Writer().vector(ids.getvalue(), 2, 7, 0xFFFF)
    writer.vector(encode_psk_binders(binders)[2:], 2, 33, 0xFFFF)
    return writer.getvalue()


def encode_psk_binders(binders: list[bytes]) -> bytes:
    """The ``binders`` vector with its length: what §4.2.11.2 truncates off a ClientHello."""
    body = b"".join(Writer().vector(b, 1, 32, 255).getvalue() for b in binders)
    return Writer().vector(body, 2, 33, 0xFFFF).getvalue()


def decode_pre_shared_key_client(data: bytes) -> tuple[list[PskIdentity], list[bytes]]:
    """``OfferedPsks``; as many binders as identities, or illegal_parameter."""
    reader = Reader(data)
    identities: list[PskIdentity] = []
    binders: list[bytes] = []
    with reader.sub(2, 7, 0xFFFF) as inner:
        while inner.remaining:
            identity = inner.vector(2, 1, 0xFFFF)
            identities.append(PskIdentity(identity, inner.u32()))
    with reader.sub(2, 33, 0xFFFF) as inner:
        while inner.remaining:
            binders.append(inner.vector(1, 32, 255))
    reader.finish()
    if len(binders) != len(identities):
        raise ProtocolError(AlertDescription.ILLEGAL_PARAMETER, "binders do not match identities")
    return identities, binders


def encode_pre_shared_key_server(selected_identity: int) -> bytes:
    """ServerHello form: ``uint16 selected_identity``."""
    return selected_identity.to_bytes(2, "big")


def decode_pre_shared_key_server(data: bytes) -> int:
    """ServerHello form: ``uint16 selected_identity``."""
    reader = Reader(data)
    selected = reader.u16()
    reader.finish()
    return selected


# RFC 8446 §4.2.10 early_data (NewSessionTicket form; empty elsewhere)
def decode_early_data_ticket(data: bytes) -> int:
    """NewSessionTicket form: ``uint32 max_early_data_size``."""
    reader = Reader(data)
    size = reader.u32()
    reader.finish()
    return size


# RFC 8446 §4.2.4 certificate_authorities
def encode_certificate_authorities(names: list[bytes]) -> bytes:
    """``DistinguishedName authorities<3..2^16-1>``, each DER ``opaque<1..2^16-1>``."""
    body = b"".join(Writer().vector(n, 2, 1, 0xFFFF).getvalue() for n in names)
    return Writer().vector(body, 2, 3, 0xFFFF).getvalue()


def decode_certificate_authorities(data: bytes) -> list[bytes]:
    """``DistinguishedName authorities<3..2^16-1>`` (DER names, not parsed)."""
    reader = Reader(data)
    names: list[bytes] = []
    with reader.sub(2, 3, 0xFFFF) as inner:
        while inner.remaining:
            names.append(inner.vector(2, 1, 0xFFFF))
    reader.finish()
    return names
