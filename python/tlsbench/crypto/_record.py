"""Record protection written once over a raw AEAD (RFC 5288, RFC 7905, RFC 8446 §5).

The ``python`` and ``cryptography`` providers subclass :class:`RecordCipher`
with their own AEAD; the framing, nonces, AAD, limits and sequence numbers
here are shared.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import ClassVar

from tlsbench.crypto.base import AeadCipher, Buffer, SuiteName, Version
from tlsbench.crypto.suites import get_suite, get_version
from tlsbench.errors import (
    MissingContentType,
    RecordOverflow,
    SequenceOverflow,
    TruncatedRecord,
)

HEADER_LEN = 5
TAG_LEN = 16
MAX_PLAINTEXT = 1 << 14
MAX_CIPHERTEXT = MAX_PLAINTEXT + 256
SEQ_LIMIT = (1 << 64) - 1  # never used, so the counter cannot wrap
_HEADER = struct.Struct(">BHH")
_AAD12 = struct.Struct(">QBHH")


class RecordCipher:
    """One direction of a protected connection: whole records, one sequence number."""

    make_aead: ClassVar[type[AeadCipher]]

    def __init__(
        self, version: Version, suite: SuiteName, key: Buffer, iv: Buffer, sequence: int = 0
    ) -> None:
        v, s = get_version(version), get_suite(suite)
        if s.version != v:
            raise ValueError(f"{s.name} is not a TLS {'1.2' if v == 0x0303 else '1.3'} suite")
        if len(key) != s.key_len:
            raise ValueError(f"{s.name} needs a {s.key_len}-byte key")
        if len(iv) != s.iv_len:
            raise ValueError(f"{s.name} needs a {s.iv_len}-byte IV")
        if not 0 <= sequence < 1 << 64:
            raise OverflowError("sequence must fit in 64 bits")
        self._v13 = v == 0x0304
        self._explicit = s.explicit_nonce_len
        self._aead = self.make_aead(s.aead, bytes(key))
        self._iv = bytes(iv)
        self._iv_int = int.from_bytes(iv, "big") if len(iv) == 12 else 0
        self._version, self._suite = v, s.code
        self._seq = sequence
        self.overhead = HEADER_LEN + self._explicit + TAG_LEN + (1 if self._v13 else 0)

    @property
    def sequence(self) -> int:
        """The sequence number of the next record."""
        return self._seq

    @property
    def version(self) -> int:
        return self._version

    @property
    def suite(self) -> int:
        return self._suite

    def _next_seq(self) -> int:
        if self._seq >= SEQ_LIMIT:
            raise SequenceOverflow("sequence number exhausted; update the keys")
        return self._seq

    def _xor_nonce(self, seq: int) -> bytes:
        # RFC 7905 §2, RFC 8446 §5.3: IV XOR left-padded sequence number.
        return (self._iv_int ^ seq).to_bytes(12, "big")

    def seal(self, content_type: int, data: Buffer, padding: int = 0) -> bytes:
        """Seal ``data`` (at most 2^14 bytes) into one record, header included."""
        n = len(data)
        if n > MAX_PLAINTEXT:
            raise RecordOverflow("plaintext longer than 2^14 bytes")
        if padding < 0:
            raise ValueError("padding must not be negative")
        seq = self._next_seq()
        if self._v13:
            if n + 1 + padding > MAX_PLAINTEXT + 1:
                raise RecordOverflow("TLSInnerPlaintext longer than 2^14 + 1 bytes")
            header = _HEADER.pack(23, 0x0303, n + 1 + padding + TAG_LEN)
            inner = bytearray(data)  # one copy: content || type || zeros
            inner.append(content_type)
            if padding:
                inner += bytes(padding)
            body = self._aead.encrypt(self._xor_nonce(seq), inner, header)
            self._seq = seq + 1
            return header + body
        if padding:
            raise ValueError("padding is a TLS 1.3 feature")
        aad = _AAD12.pack(seq, content_type, 0x0303, n)
        if self._explicit:
            explicit = seq.to_bytes(8, "big")  # RFC 5288 §3: we send the sequence number
            body = explicit + self._aead.encrypt(self._iv + explicit, data, aad)
        else:
            body = self._aead.encrypt(self._xor_nonce(seq), data, aad)
        self._seq = seq + 1
        return _HEADER.pack(content_type, 0x0303, len(body)) + body

    def open(self, record: Buffer) -> tuple[int, bytes]:
        """Open one whole record: (content type, plaintext)."""
        rec = bytes(record)
        if len(rec) < HEADER_LEN:
            raise TruncatedRecord("record shorter than its header")
        outer, version, length = _HEADER.unpack_from(rec)
        if length > MAX_CIPHERTEXT:
            raise RecordOverflow("ciphertext longer than 2^14 + 256 bytes")
        if len(rec) < HEADER_LEN + length:
            raise TruncatedRecord("record shorter than its header says")
        if len(rec) > HEADER_LEN + length:
            raise TruncatedRecord("trailing bytes after the record")
        if length < self.overhead - HEADER_LEN:
            raise TruncatedRecord("record shorter than its cipher's overhead")
        seq = self._next_seq()
        if self._v13:
            inner = self._aead.decrypt(self._xor_nonce(seq), rec[HEADER_LEN:], rec[:HEADER_LEN])
            self._seq = seq + 1
            if len(inner) > MAX_PLAINTEXT + 1:
                raise RecordOverflow("TLSInnerPlaintext longer than 2^14 + 1 bytes")
            end = len(inner.rstrip(b"\x00"))
            if end == 0:
                raise MissingContentType("no content type in TLSInnerPlaintext")
            return inner[end - 1], inner[: end - 1]
        e = self._explicit
        body = rec[HEADER_LEN + e :]
        aad = _AAD12.pack(seq, outer, version, len(body) - TAG_LEN)
        nonce = self._iv + rec[HEADER_LEN : HEADER_LEN + e] if e else self._xor_nonce(seq)
        plain = self._aead.decrypt(nonce, body, aad)
        self._seq = seq + 1
        if len(plain) > MAX_PLAINTEXT:
            raise RecordOverflow("plaintext longer than 2^14 bytes")
        return outer, plain

    def seal_many(
        self, content_type: int, data: Buffer, max_fragment: int = MAX_PLAINTEXT
    ) -> bytes:
        """Seal a buffer of any size into records of at most ``max_fragment`` bytes."""
        if not 1 <= max_fragment <= MAX_PLAINTEXT:
            raise ValueError("max_fragment must be between 1 and 16384")
        view = memoryview(data).cast("B")
        return b"".join(
            self.seal(content_type, view[i : i + max_fragment])
            for i in range(0, len(view), max_fragment)
        )

    def open_many(self, records: Buffer) -> list[tuple[int, bytes]]:
        """Open a buffer of whole records: [(content type, plaintext), ...]."""
        view = memoryview(records).cast("B")
        return [self.open(view[at:end]) for at, end in _spans(view)]

    def sealed_size(self, length: int, max_fragment: int = MAX_PLAINTEXT, padding: int = 0) -> int:
        """Bytes ``seal_many`` (or ``seal`` with ``padding``) writes for ``length`` bytes."""
        if not 1 <= max_fragment <= MAX_PLAINTEXT:
            raise ValueError("max_fragment must be between 1 and 16384")
        if padding:
            return length + padding + self.overhead
        full, rest = divmod(length, max_fragment)
        return full * (max_fragment + self.overhead) + (rest + self.overhead if rest else 0)

    def seal_into(self, content_type: int, data: Buffer, out: Buffer, padding: int = 0) -> int:
        """Seal one record into the start of ``out``; returns bytes written."""
        dst = _writable(out)
        need = len(data) + padding + self.overhead
        _check_room(dst, need)
        rec = self.seal(content_type, data, padding)
        dst[: len(rec)] = rec
        return len(rec)

    def seal_many_into(
        self, content_type: int, data: Buffer, out: Buffer, max_fragment: int = MAX_PLAINTEXT
    ) -> int:
        """``seal_many`` written into the start of ``out``; returns bytes written."""
        dst = _writable(out)
        need = self.sealed_size(len(memoryview(data).cast("B")), max_fragment)
        _check_room(dst, need)
        sealed = self.seal_many(content_type, data, max_fragment)
        dst[: len(sealed)] = sealed
        return len(sealed)

    def _room(self, length: int) -> int:
        """Most plaintext bytes a record of ``length`` ciphertext bytes can hold."""
        return max(0, length - (self.overhead - HEADER_LEN - (1 if self._v13 else 0)))

    def open_into(self, record: Buffer, out: Buffer) -> tuple[int, int]:
        """Open one record, its plaintext written at the start of ``out``: (type, length)."""
        dst = _writable(out)
        at, end = next(_spans(memoryview(record).cast("B")), (0, -1))
        if end < 0:
            raise TruncatedRecord("record shorter than its header")
        _check_room(dst, self._room(end - at - HEADER_LEN))
        t, plain = self.open(record)
        dst[: len(plain)] = plain
        return t, len(plain)

    def open_many_into(self, records: Buffer, out: Buffer) -> list[tuple[int, int, int]]:
        """Open whole records, plaintexts packed into ``out``: [(type, offset, length), ...]."""
        dst = _writable(out)
        frames = list(_spans(memoryview(records).cast("B")))
        need = sum(self._room(end - at - HEADER_LEN) for at, end in frames)
        # A TLS 1.3 plaintext drops its type byte; the next one is packed over it.
        if self._v13 and frames:
            need -= len(frames) - 1
        _check_room(dst, need)
        packed, spans = self.open_many_packed(records)
        dst[: len(packed)] = packed
        return spans

    def open_many_packed(self, records: Buffer) -> tuple[bytes, list[tuple[int, int, int]]]:
        """Open whole records into one new bytes object, plaintexts packed one after another:
        (plaintexts, [(type, offset, length), ...])."""
        opened = self.open_many(records)
        res = []
        at = 0
        for t, plain in opened:
            res.append((t, at, len(plain)))
            at += len(plain)
        return b"".join(plain for _, plain in opened), res


def _writable(out: Buffer) -> memoryview:
    view = memoryview(out)
    if view.readonly:
        raise TypeError("a writable bytes-like object is required, not a read-only buffer")
    if not view.c_contiguous:
        raise TypeError("a C-contiguous buffer is required")
    return view.cast("B")


def _check_room(dst: memoryview, need: int) -> None:
    if len(dst) < need:
        raise ValueError(f"output buffer too small: {need} bytes needed, {len(dst)} given")


def _spans(view: memoryview) -> Iterator[tuple[int, int]]:
    """(start, end) of each record in ``view``, checked as it is reached: one cut short
    or over 2^14 + 256 bytes raises then, after the ones before it were yielded."""
    at = 0
    while at < len(view):
        if len(view) - at < HEADER_LEN:
            raise TruncatedRecord("record shorter than its header")
        length = int.from_bytes(view[at + 3 : at + 5], "big")
        if length > MAX_CIPHERTEXT:
            raise RecordOverflow("ciphertext longer than 2^14 + 256 bytes")
        end = at + HEADER_LEN + length
        if end > len(view):
            raise TruncatedRecord("record shorter than its header says")
        yield at, end
        at = end
