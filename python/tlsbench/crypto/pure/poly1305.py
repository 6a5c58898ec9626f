"""Poly1305 (RFC 8439 §2.5) over Python ints.

Horner's rule mod p = 2^130 - 5, eight blocks per step: with r1..r8 the powers
of r, eight blocks c1..c8 fold in as

    acc = (acc + c1) * r^8 + c2 * r^7 + ... + c8 * r + (2^128 bits) * (r^8 + ... + r)

so the modular reduction runs once per 128 bytes, and the blocks are read with
``struct.iter_unpack`` (two 64-bit halves each), which is cheaper than one
``int.from_bytes`` per block.  Not constant-time.
"""

from __future__ import annotations

import struct
from typing import Final

P: Final = (1 << 130) - 5
_CLAMP: Final = 0x0FFFFFFC0FFFFFFC0FFFFFFC0FFFFFFF  # §2.5.1
_HI: Final = 1 << 128  # the 0x01 byte appended to every full block
_MASK128: Final = (1 << 128) - 1
_iter_16q: Final = struct.Struct("<16Q").iter_unpack
# Below this many bytes, plain one-block-per-step Horner is faster (measured).
_WIDE_MIN: Final = 256


def _blocks(r: int, acc: int, data: bytes) -> int:
    """Fold the full 16-byte blocks of ``data`` into ``acc`` (§2.5.1)."""
    hi = _HI
    fb = int.from_bytes
    n = len(data) - len(data) % 16
    start = 0
    if n >= _WIDE_MIN:
        pw = [r]
        for _ in range(7):
            pw.append(pw[-1] * r % P)
        r1, r2, r3, r4, r5, r6, r7, r8 = pw
        k = hi * sum(pw) % P
        start = n - n % 128
        for (l1, h1, l2, h2, l3, h3, l4, h4,
             l5, h5, l6, h6, l7, h7, l8, h8) in _iter_16q(data[:start]):  # fmt: skip
            acc = (
                (acc + l1 + (h1 << 64)) * r8 + (l2 | h2 << 64) * r7 + (l3 | h3 << 64) * r6
                + (l4 | h4 << 64) * r5 + (l5 | h5 << 64) * r4 + (l6 | h6 << 64) * r3
                + (l7 | h7 << 64) * r2 + (l8 | h8 << 64) * r1 + k
            ) % P  # fmt: skip
    for i in range(start, n, 16):
        acc = (acc + fb(data[i : i + 16], "little") + hi) * r % P
    return acc


class Poly1305:
    """A one-time Poly1305 key; ``mac(msg)`` is the 16-byte tag."""

    __slots__ = ("_r", "_s")

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("Poly1305 key must be 32 bytes")
        self._r = int.from_bytes(key[:16], "little") & _CLAMP
        self._s = int.from_bytes(key[16:], "little")

    def mac(self, msg: bytes) -> bytes:
        """The tag of ``msg`` (§2.5.1); a short last block gets its 0x01 byte in place."""
        r = self._r
        acc = _blocks(r, 0, msg)
        tail = len(msg) % 16
        if tail:
            last = int.from_bytes(msg[-tail:], "little") | (1 << (8 * tail))
            acc = (acc + last) * r % P
        return ((acc + self._s) & _MASK128).to_bytes(16, "little")

    def mac_padded(self, aad: bytes, ct: bytes) -> bytes:
        """The AEAD tag input of RFC 8439 §2.8: aad, ct (each zero-padded), lengths."""
        msg = b"".join(
            (aad, bytes(-len(aad) % 16), ct, bytes(-len(ct) % 16),
             struct.pack("<QQ", len(aad), len(ct)))
        )  # fmt: skip
        acc = _blocks(self._r, 0, msg)
        return ((acc + self._s) & _MASK128).to_bytes(16, "little")


def poly1305_mac(key: bytes, msg: bytes) -> bytes:
    """Poly1305 of ``msg`` under the 32-byte one-time ``key`` (§2.5)."""
    return Poly1305(key).mac(msg)
