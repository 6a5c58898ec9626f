"""AES-GCM (NIST SP 800-38D) with a 96-bit IV and a 128-bit tag.

GHASH multiplies by the hash key H with 16 per-key tables of 256 entries
(table j maps a byte at position j of the block to that byte times H), so one
block costs 16 lookups and XORs of Python ints.  That was the fastest of the
variants measured: 4-bit Shoup tables with a reduction table were ~5.7x slower,
8-bit tables indexed by shifts instead of ``to_bytes`` ~15% slower, and 8
tables of 65536 entries no faster (cache misses) at ~20 ms and ~30 MB per key.

The 16 tables take ~1 ms to build, while a handshake key protects a record or two:
a key starts with the first table only (Horner over the bytes, reduced by x^8 per
step, ~6x slower a block) and builds the rest once it has hashed _FULL_TABLES_AFTER
blocks.
"""

from __future__ import annotations

import hmac
import struct
from typing import Final

from tlsbench.crypto.pure.aes import AES
from tlsbench.errors import BadRecordMac

# GCM bit order (SP 800-38D §6.3): a block read big-endian has the coefficient
# of x^0 in its most significant bit, so multiplying by x is a right shift,
# reduced by R = 11100001 || 0^120 when x^127 falls off.
_R: Final = 0xE1 << 120


def _make_r8() -> list[int]:
    """_R8[w]: the reduction term when the low byte w is shifted out (times x^8)."""
    table = []
    for w in range(256):
        v = w
        for _ in range(8):
            v = (v >> 1) ^ _R if v & 1 else v >> 1
        table.append(v)
    return table


_R8: Final = _make_r8()
_iter_qq: Final = struct.Struct(">QQ").iter_unpack

# 2^36 - 32 bytes: the plaintext limit of SP 800-38D §5.2.1.1.
_MAX_DATA: Final = (1 << 36) - 32


def ghash_tables(h: int, t0: list[int] | None = None) -> list[list[int]]:
    """The 16 x 256 multiplication tables for hash key ``h`` (a big-endian int)."""
    tables = [first_table(h) if t0 is None else t0]
    r8 = _R8
    for _ in range(15):  # the next byte is 8 powers of x further along
        tables.append([(v >> 8) ^ r8[v & 255] for v in tables[-1]])
    return tables


_FULL_TABLES_AFTER: Final = 128
"""Blocks a key hashes with one table before it builds all 16: building them costs
about as much as hashing ~120 blocks with one table instead of sixteen."""


def first_table(h: int) -> list[int]:
    """Table 0 of :func:`ghash_tables`: each value of the block's first byte times H."""
    pows = [h]  # x^i * H for i = 0..7
    for _ in range(7):
        v = pows[-1]
        pows.append((v >> 1) ^ _R if v & 1 else v >> 1)
    t0 = [0]
    for p in reversed(pows):  # bit k of the byte (from the low end) is the coefficient of
        t0 += [v ^ p for v in t0]  # x^(7-k): the entries with bit k set are t0[i] ^ pows[7-k]
    return t0


def ghash_one_table(t0: list[int], y: int, data: bytes) -> int:
    """:func:`ghash` with table 0 alone: X*H = t0[b0] ^ x^8 (t0[b1] ^ x^8 (... t0[b15]))."""
    r8 = _R8
    for c in [hi << 64 | lo for hi, lo in _iter_qq(data)]:
        acc = 0
        for b in (y ^ c).to_bytes(16, "little"):  # the last byte first
            acc = (acc >> 8) ^ r8[acc & 255] ^ t0[b]
        y = acc
    return y


def ghash(tables: list[list[int]], y: int, data: bytes) -> int:
    """Fold ``data`` (a multiple of 16 bytes) into the GHASH state ``y`` (§6.4)."""
    (T0, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14, T15) = tables
    for c in [hi << 64 | lo for hi, lo in _iter_qq(data)]:
        b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11, b12, b13, b14, b15 = (y ^ c).to_bytes(
            16, "big"
        )
        y = (
            T0[b0] ^ T1[b1] ^ T2[b2] ^ T3[b3] ^ T4[b4] ^ T5[b5] ^ T6[b6] ^ T7[b7]
            ^ T8[b8] ^ T9[b9] ^ T10[b10] ^ T11[b11] ^ T12[b12] ^ T13[b13] ^ T14[b14] ^ T15[b15]
        )  # fmt: skip
    return y


class AESGCM:
    """AES-GCM with pyca ``cryptography``'s call shape: 12-byte nonces, 16-byte tags."""

    __slots__ = ("_aes", "_blocks", "_h", "_t0", "_tables")

    def __init__(self, key: bytes) -> None:
        if len(key) not in (16, 24, 32):
            raise ValueError("AES-GCM key must be 16, 24 or 32 bytes")
        self._aes = AES(bytes(key))
        self._h = self._aes.encrypt_int(0)
        self._t0 = first_table(self._h)
        self._tables: list[list[int]] | None = None
        self._blocks = 0

    def _keystream(self, nonce: bytes, n: int) -> tuple[int, int]:
        """E(J0) and the first ``n`` bytes of keystream (counters 2, 3, ...), as ints."""
        nb = (n + 15) >> 4
        if nb > 64:  # cutting bytes is cheaper than masking an int this long
            blocks = self._aes.keystream(nonce, 1, nb + 1)
            return int.from_bytes(blocks[:16], "big"), int.from_bytes(blocks[16 : 16 + n], "big")
        ks = self._aes.keystream_int(nonce, 1, nb + 1)
        if not n:
            return ks, 0
        rest = 128 * nb
        return ks >> rest, (ks >> (rest - 8 * n)) & ((1 << 8 * n) - 1)

    def encrypt(self, nonce: bytes, data: bytes, aad: bytes | None) -> bytes:
        """Ciphertext || tag (SP 800-38D §7.1, IV || 0^31 || 1 as J0)."""
        if len(nonce) != 12:
            raise ValueError("AES-GCM nonce must be 12 bytes")
        aad = b"" if aad is None else bytes(aad)
        n = len(data)
        if n > _MAX_DATA:
            raise OverflowError("AES-GCM data too long")
        e0, ks = self._keystream(bytes(nonce), n)
        ct = (int.from_bytes(data, "big") ^ ks).to_bytes(n, "big") if n else b""
        return ct + self._tag(e0, aad, ct)

    def decrypt(self, nonce: bytes, data: bytes, aad: bytes | None) -> bytes:
        """The plaintext, or BadRecordMac if the tag does not verify (§7.2)."""
        if len(nonce) != 12:
            raise ValueError("AES-GCM nonce must be 12 bytes")
        aad = b"" if aad is None else bytes(aad)
        n = len(data) - 16
        if n < 0:
            raise BadRecordMac()
        data = bytes(data)
        ct = data[:n]
        e0, ks = self._keystream(bytes(nonce), n)
        if not hmac.compare_digest(self._tag(e0, aad, ct), data[n:]):
            raise BadRecordMac()
        return (int.from_bytes(ct, "big") ^ ks).to_bytes(n, "big") if n else b""

    def _tag(self, e0: int, aad: bytes, ct: bytes) -> bytes:
        """GHASH(A || pad || C || pad || [len(A)]64 || [len(C)]64) ^ E(J0) (§7.1 steps 5-6)."""
        buf = b"".join(
            (
                aad,
                bytes(-len(aad) % 16),
                ct,
                bytes(-len(ct) % 16),
                struct.pack(">QQ", 8 * len(aad), 8 * len(ct)),
            )
        )
        if self._tables is not None:
            s = ghash(self._tables, 0, buf)
        else:
            self._blocks += len(buf) // 16
            if self._blocks > _FULL_TABLES_AFTER:
                self._tables = ghash_tables(self._h, self._t0)
                s = ghash(self._tables, 0, buf)
            else:
                s = ghash_one_table(self._t0, 0, buf)
        return (s ^ e0).to_bytes(16, "big")
