"""Reader and writer for TLS presentation-language vectors (RFC 8446 §3).

Every read is checked against the bytes left and against the bounds the RFC
gives the field; a short or overlong field is a ``decode_error``.
"""

from __future__ import annotations

import struct

from .alerts import ProtocolError
from .constants import AlertDescription


def _decode_error(message: str) -> ProtocolError:
    return ProtocolError(AlertDescription.DECODE_ERROR, message)


def u16_values(data: bytes) -> list[int]:
    """The uint16 values of an even-length run of bytes (in one struct call)."""
    if len(data) % 2:
        raise _decode_error("odd length in a uint16 list")
    return list(struct.unpack(f">{len(data) // 2}H", data))


class Reader:
    """Reads big-endian integers and length-prefixed vectors from a buffer.

    The handshake's hottest code: each read checks its bounds inline rather than
    through the other methods. A reader is also the context manager :meth:`sub` returns.
    """

    __slots__ = ("_data", "_end", "_pos")

    def __init__(self, data: bytes, pos: int = 0, end: int | None = None) -> None:
        self._data = data
        self._pos = pos
        self._end = len(data) if end is None else end

    @property
    def remaining(self) -> int:
        """Bytes not read yet."""
        return self._end - self._pos

    def uint(self, size: int) -> int:
        """A big-endian unsigned integer of ``size`` bytes."""
        pos = self._pos
        stop = pos + size
        if stop > self._end:
            raise _decode_error("message truncated")
        self._pos = stop
        return int.from_bytes(self._data[pos:stop], "big")

    def u8(self) -> int:
        """uint8."""
        pos = self._pos
        if pos >= self._end:
            raise _decode_error("message truncated")
        self._pos = pos + 1
        return self._data[pos]

    def u16(self) -> int:
        """uint16."""
        pos = self._pos
        if pos + 2 > self._end:
            raise _decode_error("message truncated")
        self._pos = pos + 2
        data = self._data
        return data[pos] << 8 | data[pos + 1]

    def u24(self) -> int:
        """uint24."""
        return self.uint(3)

    def u32(self) -> int:
        """uint32."""
        return self.uint(4)

    def raw(self, size: int) -> bytes:
        """Exactly ``size`` bytes."""
        pos = self._pos
        stop = pos + size
        if stop > self._end:
            raise _decode_error("message truncated")
        self._pos = stop
        return self._data[pos:stop]

    def vector(self, prefix: int, minimum: int, maximum: int) -> bytes:
        """``opaque x<minimum..maximum>`` with a ``prefix``-byte length."""
        pos = self._pos
        start = pos + prefix
        if start > self._end:
            raise _decode_error("message truncated")
        data = self._data
        if prefix == 1:
            length = data[pos]
        elif prefix == 2:
            length = data[pos] << 8 | data[pos + 1]
        else:
            length = int.from_bytes(data[pos:start], "big")
        if not minimum <= length <= maximum:
            raise _decode_error(f"vector length {length} outside {minimum}..{maximum}")
        stop = start + length
        if stop > self._end:
            raise _decode_error("message truncated")
        self._pos = stop
        return data[start:stop]

    def public_value(self, prefix: int, maximum: int) -> bytes:
        """An (EC)DH public value ``<1..maximum>``; an empty one is illegal_parameter.

        RFC 8446 §4.2.8 and RFC 8422 §5.11 make a share that is not a valid value for its
        group illegal_parameter; an empty one is that too (OpenSSL says so in TLS 1.2, and
        decode_error for the empty TLS 1.3 share).
        """
        value = self.vector(prefix, 0, maximum)
        if not value:
            raise ProtocolError(AlertDescription.ILLEGAL_PARAMETER, "empty key share")
        return value

    def sub(self, prefix: int, minimum: int, maximum: int) -> Reader:
        """A reader over one vector; used in ``with``, which checks it was consumed whole."""
        return Reader(self.vector(prefix, minimum, maximum))

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if exc_type is None:
            self.finish()

    def finish(self) -> None:
        """Refuse trailing bytes."""
        if self._pos != self._end:
            raise _decode_error("trailing bytes")


class Writer:
    """Builds a message; vectors are length-prefixed and bound-checked."""

    __slots__ = ("_parts",)

    def __init__(self) -> None:
        self._parts = bytearray()

    def uint(self, value: int, size: int) -> Writer:
        """A big-endian unsigned integer of ``size`` bytes."""
        self._parts += value.to_bytes(size, "big")
        return self

    def u8(self, value: int) -> Writer:
        """uint8."""
        self._parts += value.to_bytes(1, "big")
        return self

    def u16(self, value: int) -> Writer:
        """uint16."""
        self._parts += value.to_bytes(2, "big")
        return self

    def u24(self, value: int) -> Writer:
        """uint24."""
        return self.uint(value, 3)

    def raw(self, data: bytes) -> Writer:
        """Bytes as they are."""
        self._parts += data
        return self

    def vector(self, data: bytes, prefix: int, minimum: int, maximum: int) -> Writer:
        """``opaque x<minimum..maximum>``; a value out of bounds is a bug, so ValueError."""
        length = len(data)
        if not minimum <= length <= maximum:
            raise ValueError(f"vector length {length} outside {minimum}..{maximum}")
        parts = self._parts
        parts += length.to_bytes(prefix, "big")
        parts += data
        return self

    def getvalue(self) -> bytes:
        """Everything written."""
        return bytes(self._parts)
