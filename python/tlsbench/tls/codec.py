"""Reader and writer for TLS presentation-language vectors (RFC 8446 §3).

Every read is checked against the bytes left and against the bounds the RFC
gives the field; a short or overlong field is a ``decode_error``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from .alerts import ProtocolError
from .constants import AlertDescription


def _decode_error(message: str) -> ProtocolError:
    return ProtocolError(AlertDescription.DECODE_ERROR, message)


class Reader:
    """Reads big-endian integers and length-prefixed vectors from a buffer."""

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
        return int.from_bytes(self.raw(size), "big")

    def u8(self) -> int:
        """uint8."""
        return self.uint(1)

    def u16(self) -> int:
        """uint16."""
        return self.uint(2)

    def u24(self) -> int:
        """uint24."""
        return self.uint(3)

    def u32(self) -> int:
        """uint32."""
        return self.uint(4)

    def raw(self, size: int) -> bytes:
        """Exactly ``size`` bytes."""
        if size > self.remaining:
            raise _decode_error("message truncated")
        start = self._pos
        self._pos += size
        return self._data[start : self._pos]

    def vector(self, prefix: int, minimum: int, maximum: int) -> bytes:
        """``opaque x<minimum..maximum>`` with a ``prefix``-byte length."""
        length = self.uint(prefix)
        if not minimum <= length <= maximum:
            raise _decode_error(f"vector length {length} outside {minimum}..{maximum}")
        return self.raw(length)

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

    @contextmanager
    def sub(self, prefix: int, minimum: int, maximum: int) -> Iterator[Reader]:
        """A reader over one vector, which must be consumed whole."""
        inner = Reader(self.vector(prefix, minimum, maximum))
        yield inner
        inner.finish()

    def finish(self) -> None:
        """Refuse trailing bytes."""
        if self.remaining:
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
        return self.uint(value, 1)

    def u16(self, value: int) -> Writer:
        """uint16."""
        return self.uint(value, 2)

    def u24(self, value: int) -> Writer:
        """uint24."""
        return self.uint(value, 3)

    def raw(self, data: bytes) -> Writer:
        """Bytes as they are."""
        self._parts += data
        return self

    def vector(self, data: bytes, prefix: int, minimum: int, maximum: int) -> Writer:
        """``opaque x<minimum..maximum>``; a value out of bounds is a bug, so ValueError."""
        if not minimum <= len(data) <= maximum:
            raise ValueError(f"vector length {len(data)} outside {minimum}..{maximum}")
        return self.uint(len(data), prefix).raw(data)

    def getvalue(self) -> bytes:
        """Everything written."""
        return bytes(self._parts)
