"""ChaCha20 (RFC 8439 §2.3, §2.4), 32-bit words held in Python ints.

``ChaCha20.block`` is the plain block function: one state word per local
variable, quarter rounds written out (§2.1, §2.2).  Keystreams of several blocks
are computed for all blocks at once, "SIMD within a register": every block gets
a 40-bit lane of a big int, so one big-int addition, XOR or shift does a step
for all of them, and only the eight spare bits per lane need masking.

* ``_keystream_lanes`` keeps state word k of every block in one int (16 ints);
  fastest for long keystreams.
* ``_keystream_rows`` keeps a whole state row, four words, in one int (4 ints):
  a quarter round then covers four columns or diagonals at once, at the price
  of rotating rows between the two; fastest below ~48 blocks (3 KiB), and even
  for a single block it is twice as fast as the plain block function.
"""

from __future__ import annotations

import struct
from functools import lru_cache
from typing import Final

M: Final = 0xFFFFFFFF
# "expand 32-byte k" (§2.3)
_SIGMA: Final = (0x61707865, 0x3320646E, 0x79622D32, 0x6B206574)
# From this many blocks on, one int per state word beats one per row (measured).
_LANES_MIN_BLOCKS: Final = 48
_LANE: Final = 40  # bits per block in the wide representation
_pack16: Final = struct.Struct("<16I").pack


def _block_words(
    s0: int, s1: int, s2: int, s3: int, s4: int, s5: int, s6: int, s7: int,
    s8: int, s9: int, s10: int, s11: int, s12: int, s13: int, s14: int, s15: int,
) -> tuple[int, ...]:  # fmt: skip
    """20 rounds on one state, plus the input state (§2.3)."""
    x0, x1, x2, x3, x4, x5, x6, x7 = s0, s1, s2, s3, s4, s5, s6, s7
    x8, x9, x10, x11, x12, x13, x14, x15 = s8, s9, s10, s11, s12, s13, s14, s15
    for _ in range(10):
        # column round (RFC 8439 §2.3)
        x0 = (x0 + x4) & M
        x12 ^= x0
        x12 = ((x12 << 16) & M) | (x12 >> 16)
        x8 = (x8 + x12) & M
        x4 ^= x8
        x4 = ((x4 << 12) & M) | (x4 >> 20)
        x0 = (x0 + x4) & M
        x12 ^= x0
        x12 = ((x12 << 8) & M) | (x12 >> 24)
        x8 = (x8 + x12) & M
        x4 ^= x8
        x4 = ((x4 << 7) & M) | (x4 >> 25)
        x1 = (x1 + x5) & M
        x13 ^= x1
        x13 = ((x13 << 16) & M) | (x13 >> 16)
        x9 = (x9 + x13) & M
        x5 ^= x9
        x5 = ((x5 << 12) & M) | (x5 >> 20)
        x1 = (x1 + x5) & M
        x13 ^= x1
        x13 = ((x13 << 8) & M) | (x13 >> 24)
        x9 = (x9 + x13) & M
        x5 ^= x9
        x5 = ((x5 << 7) & M) | (x5 >> 25)
        x2 = (x2 + x6) & M
        x14 ^= x2
        x14 = ((x14 << 16) & M) | (x14 >> 16)
        x10 = (x10 + x14) & M
        x6 ^= x10
        x6 = ((x6 << 12) & M) | (x6 >> 20)
        x2 = (x2 + x6) & M
        x14 ^= x2
        x14 = ((x14 << 8) & M) | (x14 >> 24)
        x10 = (x10 + x14) & M
        x6 ^= x10
        x6 = ((x6 << 7) & M) | (x6 >> 25)
        x3 = (x3 + x7) & M
        x15 ^= x3
        x15 = ((x15 << 16) & M) | (x15 >> 16)
        x11 = (x11 + x15) & M
        x7 ^= x11
        x7 = ((x7 << 12) & M) | (x7 >> 20)
        x3 = (x3 + x7) & M
        x15 ^= x3
        x15 = ((x15 << 8) & M) | (x15 >> 24)
        x11 = (x11 + x15) & M
        x7 ^= x11
        x7 = ((x7 << 7) & M) | (x7 >> 25)
        # diagonal round
        x0 = (x0 + x5) & M
        x15 ^= x0
        x15 = ((x15 << 16) & M) | (x15 >> 16)
        x10 = (x10 + x15) & M
        x5 ^= x10
        x5 = ((x5 << 12) & M) | (x5 >> 20)
        x0 = (x0 + x5) & M
        x15 ^= x0
        x15 = ((x15 << 8) & M) | (x15 >> 24)
        x10 = (x10 + x15) & M
        x5 ^= x10
        x5 = ((x5 << 7) & M) | (x5 >> 25)
        x1 = (x1 + x6) & M
        x12 ^= x1
        x12 = ((x12 << 16) & M) | (x12 >> 16)
        x11 = (x11 + x12) & M
        x6 ^= x11
        x6 = ((x6 << 12) & M) | (x6 >> 20)
        x1 = (x1 + x6) & M
        x12 ^= x1
        x12 = ((x12 << 8) & M) | (x12 >> 24)
        x11 = (x11 + x12) & M
        x6 ^= x11
        x6 = ((x6 << 7) & M) | (x6 >> 25)
        x2 = (x2 + x7) & M
        x13 ^= x2
        x13 = ((x13 << 16) & M) | (x13 >> 16)
        x8 = (x8 + x13) & M
        x7 ^= x8
        x7 = ((x7 << 12) & M) | (x7 >> 20)
        x2 = (x2 + x7) & M
        x13 ^= x2
        x13 = ((x13 << 8) & M) | (x13 >> 24)
        x8 = (x8 + x13) & M
        x7 ^= x8
        x7 = ((x7 << 7) & M) | (x7 >> 25)
        x3 = (x3 + x4) & M
        x14 ^= x3
        x14 = ((x14 << 16) & M) | (x14 >> 16)
        x9 = (x9 + x14) & M
        x4 ^= x9
        x4 = ((x4 << 12) & M) | (x4 >> 20)
        x3 = (x3 + x4) & M
        x14 ^= x3
        x14 = ((x14 << 8) & M) | (x14 >> 24)
        x9 = (x9 + x14) & M
        x4 ^= x9
        x4 = ((x4 << 7) & M) | (x4 >> 25)
    return (
        (x0 + s0) & M, (x1 + s1) & M, (x2 + s2) & M, (x3 + s3) & M,
        (x4 + s4) & M, (x5 + s5) & M, (x6 + s6) & M, (x7 + s7) & M,
        (x8 + s8) & M, (x9 + s9) & M, (x10 + s10) & M, (x11 + s11) & M,
        (x12 + s12) & M, (x13 + s13) & M, (x14 + s14) & M, (x15 + s15) & M,
    )  # fmt: skip


@lru_cache(maxsize=32)
def _lane_masks(n: int) -> tuple[int, ...]:
    """Per-lane constants for ``n`` lanes: ones, M, the rotation masks, 0..n-1."""
    ones = int.from_bytes(b"\x01\x00\x00\x00\x00" * n, "little")
    ramp = int.from_bytes(b"".join(i.to_bytes(5, "little") for i in range(n)), "little")
    masks = [ones * M]
    for r in (16, 12, 8, 7):
        masks += (ones * ((1 << (32 - r)) - 1), ones * ((1 << r) - 1))
    return (ones, *masks, ramp)


def _keystream_lanes(state: tuple[int, ...], n: int) -> bytes:
    """``n`` consecutive blocks from ``state`` (counter in word 12), one int per word.

    Words 0-3 and 8-11 (the "a" and "c" of every quarter round) only ever get
    added to, never rotated, so they are left unreduced: 40 additions of values
    below 2^32 stay below 2^38, inside a 40-bit lane.  Words 4-7 and 12-15 are
    rotated, and the two masks of each rotation also reduce them mod 2^32 and
    drop what the shifts move in from the neighbouring lanes.
    """
    ones, m, lo16, hi16, lo12, hi12, lo8, hi8, lo7, hi7, ramp = _lane_masks(n)
    init = [s * ones for s in state]
    init[12] = (init[12] + ramp) & m  # block counters, mod 2^32 per lane
    x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15 = init
    for _ in range(10):
        # column round (RFC 8439 §2.3)
        x0 += x4
        t = x12 ^ x0
        x12 = ((t & lo16) << 16) | ((t >> 16) & hi16)
        x8 += x12
        t = x4 ^ x8
        x4 = ((t & lo12) << 12) | ((t >> 20) & hi12)
        x0 += x4
        t = x12 ^ x0
        x12 = ((t & lo8) << 8) | ((t >> 24) & hi8)
        x8 += x12
        t = x4 ^ x8
        x4 = ((t & lo7) << 7) | ((t >> 25) & hi7)
        x1 += x5
        t = x13 ^ x1
        x13 = ((t & lo16) << 16) | ((t >> 16) & hi16)
        x9 += x13
        t = x5 ^ x9
        x5 = ((t & lo12) << 12) | ((t >> 20) & hi12)
        x1 += x5
        t = x13 ^ x1
        x13 = ((t & lo8) << 8) | ((t >> 24) & hi8)
        x9 += x13
        t = x5 ^ x9
        x5 = ((t & lo7) << 7) | ((t >> 25) & hi7)
        x2 += x6
        t = x14 ^ x2
        x14 = ((t & lo16) << 16) | ((t >> 16) & hi16)
        x10 += x14
        t = x6 ^ x10
        x6 = ((t & lo12) << 12) | ((t >> 20) & hi12)
        x2 += x6
        t = x14 ^ x2
        x14 = ((t & lo8) << 8) | ((t >> 24) & hi8)
        x10 += x14
        t = x6 ^ x10
        x6 = ((t & lo7) << 7) | ((t >> 25) & hi7)
        x3 += x7
        t = x15 ^ x3
        x15 = ((t & lo16) << 16) | ((t >> 16) & hi16)
        x11 += x15
        t = x7 ^ x11
        x7 = ((t & lo12) << 12) | ((t >> 20) & hi12)
        x3 += x7
        t = x15 ^ x3
        x15 = ((t & lo8) << 8) | ((t >> 24) & hi8)
        x11 += x15
        t = x7 ^ x11
        x7 = ((t & lo7) << 7) | ((t >> 25) & hi7)
        # diagonal round
        x0 += x5
        t = x15 ^ x0
        x15 = ((t & lo16) << 16) | ((t >> 16) & hi16)
        x10 += x15
        t = x5 ^ x10
        x5 = ((t & lo12) << 12) | ((t >> 20) & hi12)
        x0 += x5
        t = x15 ^ x0
        x15 = ((t & lo8) << 8) | ((t >> 24) & hi8)
        x10 += x15
        t = x5 ^ x10
        x5 = ((t & lo7) << 7) | ((t >> 25) & hi7)
        x1 += x6
        t = x12 ^ x1
        x12 = ((t & lo16) << 16) | ((t >> 16) & hi16)
        x11 += x12
        t = x6 ^ x11
        x6 = ((t & lo12) << 12) | ((t >> 20) & hi12)
        x1 += x6
        t = x12 ^ x1
        x12 = ((t & lo8) << 8) | ((t >> 24) & hi8)
        x11 += x12
        t = x6 ^ x11
        x6 = ((t & lo7) << 7) | ((t >> 25) & hi7)
        x2 += x7
        t = x13 ^ x2
        x13 = ((t & lo16) << 16) | ((t >> 16) & hi16)
        x8 += x13
        t = x7 ^ x8
        x7 = ((t & lo12) << 12) | ((t >> 20) & hi12)
        x2 += x7
        t = x13 ^ x2
        x13 = ((t & lo8) << 8) | ((t >> 24) & hi8)
        x8 += x13
        t = x7 ^ x8
        x7 = ((t & lo7) << 7) | ((t >> 25) & hi7)
        x3 += x4
        t = x14 ^ x3
        x14 = ((t & lo16) << 16) | ((t >> 16) & hi16)
        x9 += x14
        t = x4 ^ x9
        x4 = ((t & lo12) << 12) | ((t >> 20) & hi12)
        x3 += x4
        t = x14 ^ x3
        x14 = ((t & lo8) << 8) | ((t >> 24) & hi8)
        x9 += x14
        t = x4 ^ x9
        x4 = ((t & lo7) << 7) | ((t >> 25) & hi7)
    final = (x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15)
    size = 5 * n
    return _serialize(
        b"".join(
            [((f + i) & m).to_bytes(size, "little") for f, i in zip(final, init, strict=True)]
        ),
        n,
    )


@lru_cache(maxsize=32)
def _row_masks(n: int) -> tuple[int, ...]:
    """``_lane_masks`` for ``_keystream_rows``: 4n lanes, and the group masks."""
    ones, *_, ramp = _lane_masks(n)
    _, *masks, _ = _lane_masks(4 * n)
    g = _LANE * n
    return (ones, *masks, (1 << g) - 1, (1 << (2 * g)) - 1, (1 << (3 * g)) - 1, ramp)


def _keystream_rows(state: tuple[int, ...], n: int) -> bytes:
    """Like ``_keystream_lanes``, with a whole row of the state in one int.

    Row r (words 4r .. 4r+3) is one int of four 40n-bit groups, group g holding
    word 4r + g of the n blocks.  A column round is then one quarter round on
    the four rows; for the diagonal round rows 1-3 are first rotated by 1, 2
    and 3 groups (§2.2: QR(0,5,10,15), QR(1,6,11,12), ...) and afterwards
    rotated back.  Fewer, wider operations: faster when ``n`` is small.
    """
    (ones, m, lo16, hi16, lo12, hi12, lo8, hi8, lo7, hi7,
     low1, low2, low3, ramp) = _row_masks(n)  # fmt: skip
    g = _LANE * n
    g2, g3 = 2 * g, 3 * g
    rows = [
        (state[k] | state[k + 1] << g | state[k + 2] << g2 | state[k + 3] << g3) * ones
        for k in (0, 4, 8, 12)
    ]
    rows[3] = (rows[3] + ramp) & m  # block counters in group 0 of row 3
    a, b, c, d = rows
    for _ in range(10):
        # column round: QR(a, b, c, d) on all four columns
        a += b
        t = d ^ a
        d = ((t & lo16) << 16) | ((t >> 16) & hi16)
        c += d
        t = b ^ c
        b = ((t & lo12) << 12) | ((t >> 20) & hi12)
        a += b
        t = d ^ a
        d = ((t & lo8) << 8) | ((t >> 24) & hi8)
        c += d
        t = b ^ c
        b = ((t & lo7) << 7) | ((t >> 25) & hi7)
        # diagonal round: group j of b, c, d takes group j + 1, j + 2, j + 3
        b = (b >> g) | ((b & low1) << g3)
        c = (c >> g2) | ((c & low2) << g2)
        d = (d >> g3) | ((d & low3) << g)
        a += b
        t = d ^ a
        d = ((t & lo16) << 16) | ((t >> 16) & hi16)
        c += d
        t = b ^ c
        b = ((t & lo12) << 12) | ((t >> 20) & hi12)
        a += b
        t = d ^ a
        d = ((t & lo8) << 8) | ((t >> 24) & hi8)
        c += d
        t = b ^ c
        b = ((t & lo7) << 7) | ((t >> 25) & hi7)
        b = (b >> g3) | ((b & low3) << g)
        c = (c >> g2) | ((c & low2) << g2)
        d = (d >> g) | ((d & low1) << g3)
    size = 20 * n
    return _serialize(
        b"".join(
            [
                ((x + i) & m).to_bytes(size, "little")
                for x, i in zip((a, b, c, d), rows, strict=True)
            ]
        ),
        n,
    )


def _serialize(words: bytes, n: int) -> bytes:
    """Keystream bytes from word k of block i at ``words[5(kn + i) : 5(kn + i) + 4]``.

    Block i is words 0..15 of block i, little-endian (§2.3).  Four strided
    copies drop the spare fifth byte of every lane, then 32-bit strided copies
    put the words in block order.
    """
    units = bytearray(64 * n)
    units[0::4] = words[0::5]
    units[1::4] = words[1::5]
    units[2::4] = words[2::5]
    units[3::4] = words[3::5]
    src = memoryview(units).cast("I")
    out = bytearray(64 * n)
    dst = memoryview(out).cast("I")
    for k in range(16):
        dst[k::16] = src[k * n : (k + 1) * n]
    return bytes(out)


class ChaCha20:
    """A ChaCha20 key (RFC 8439 §2.3): block function, keystream and XOR."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("ChaCha20 key must be 32 bytes")
        self._key = struct.unpack("<8I", key)

    def _state(self, counter: int, nonce: bytes) -> tuple[int, ...]:
        if len(nonce) != 12:
            raise ValueError("ChaCha20 nonce must be 12 bytes")
        return (*_SIGMA, *self._key, counter & M, *struct.unpack("<3I", nonce))

    def block(self, counter: int, nonce: bytes) -> bytes:
        """The 64-byte block for this counter and nonce (§2.3)."""
        return _pack16(*_block_words(*self._state(counter, nonce)))

    def keystream(self, nonce: bytes, counter: int, nblocks: int) -> bytes:
        """Blocks ``counter`` .. ``counter + nblocks - 1`` (mod 2^32), concatenated."""
        state = self._state(counter, nonce)
        if nblocks >= _LANES_MIN_BLOCKS:
            return _keystream_lanes(state, nblocks)
        if nblocks > 0:
            return _keystream_rows(state, nblocks)
        return b""

    def encrypt(self, nonce: bytes, counter: int, data: bytes) -> bytes:
        """``data`` XOR the keystream from block ``counter`` on (§2.4); also decrypts."""
        n = len(data)
        if not n:
            return b""
        ks = self.keystream(nonce, counter, (n + 63) // 64)
        return (int.from_bytes(data, "little") ^ int.from_bytes(ks[:n], "little")).to_bytes(
            n, "little"
        )


def chacha20_block(key: bytes, counter: int, nonce: bytes) -> bytes:
    """The ChaCha20 block function (§2.3): 64 bytes of keystream."""
    return ChaCha20(key).block(counter, nonce)
