"""AES-128/192/256 encryption (FIPS-197), the forward direction only.

GCM needs nothing but the block encryption of counter blocks, so there is no
decryption here.  Two implementations of the same function:

* ``encrypt_block`` and short counter runs use the classic 32-bit T-tables
  (one table lookup per state byte per round, key expanded once per key).
* Long counter runs (``keystream``) are computed "byte-sliced": state byte ``q``
  of *all* counter blocks is held in one ``bytes`` object, so SubBytes (with the
  round key folded in) is one ``bytes.translate`` per state byte, ShiftRows is a
  relabelling of those objects, and MixColumns is a few XORs and shifts of
  Python integers as wide as the whole keystream.  The per-block work is then
  done by C loops inside CPython, which is several times faster than the
  T-table loop once there are more than a handful of blocks.

Neither path is constant-time; this is a benchmark baseline, not a library.
"""

from __future__ import annotations

import struct
from functools import lru_cache
from typing import Final

# ---------------------------------------------------------------------------
# Tables computed at import time (FIPS-197 §4, §5.1.1, §5.1.3)
# ---------------------------------------------------------------------------


def _xtime(a: int) -> int:
    """Multiply by x in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1 (FIPS-197 §4.2.1)."""
    a <<= 1
    return a ^ 0x11B if a & 0x100 else a


def _make_sbox() -> list[int]:
    """The S-box: multiplicative inverse, then the affine map (FIPS-197 §5.1.1)."""
    exp = [0] * 255
    log = [0] * 256
    x = 1
    for i in range(255):  # 0x03 generates the multiplicative group
        exp[i] = x
        log[x] = i
        x ^= _xtime(x)
    sbox = []
    for b in range(256):
        inv = exp[(255 - log[b]) % 255] if b else 0
        s = inv
        for k in range(1, 5):
            s ^= ((inv << k) | (inv >> (8 - k))) & 0xFF
        sbox.append(s ^ 0x63)
    return sbox


_SBOX: Final = _make_sbox()
_MUL2: Final = [_xtime(s) for s in _SBOX]  # 2 * S[x]
_MUL3: Final = [m ^ s for m, s in zip(_MUL2, _SBOX, strict=True)]  # 3 * S[x]

# T-tables: SubBytes + MixColumns (§5.1.3) of one byte in row j, as a column word
# with row 0 in the top byte.  T1..T3 are byte rotations of T0.
_T0: Final = [
    (a << 24) | (s << 16) | (s << 8) | b for s, a, b in zip(_SBOX, _MUL2, _MUL3, strict=True)
]
_T1: Final = [((t >> 8) | (t << 24)) & 0xFFFFFFFF for t in _T0]
_T2: Final = [((t >> 16) | (t << 16)) & 0xFFFFFFFF for t in _T0]
_T3: Final = [((t >> 24) | (t << 8)) & 0xFFFFFFFF for t in _T0]
# The last round has no MixColumns: the S-box shifted into each row.
_S24: Final = [s << 24 for s in _SBOX]
_S16: Final = [s << 16 for s in _SBOX]
_S8: Final = [s << 8 for s in _SBOX]

# Byte-sliced path: translate tables.  _XOR_TABLES[k][b] == b ^ k, so
# ``_XOR_TABLES[k].translate(t)`` is the table b -> t[b ^ k] (a round key byte
# folded into a lookup), and ``t.translate(_XOR_TABLES[k])`` is b -> t[b] ^ k.
_SBOX_B: Final = bytes(_SBOX)
_MUL_B: Final = {1: _SBOX_B, 2: bytes(_MUL2), 3: bytes(_MUL3)}
_XOR_TABLES: Final = [bytes(b ^ k for b in range(256)) for k in range(256)]

# MixColumns matrix (FIPS-197 §5.1.3, eq. 5.6): out[r] = XOR_j MIX[r][j] * in[j].
_MIX: Final = ((2, 3, 1, 1), (1, 2, 3, 1), (1, 1, 2, 3), (3, 1, 1, 2))

# Byte-sliced layout.  State byte q = r + 4c (row r, column c, as in §3.4).
# Each round consumes its 16 slices in row-major output order k = 4r + c; the
# slice for output (r, c) is state byte (r, c + r) of the previous round, which
# is ShiftRows (§5.1.2).
_SRC: Final = [r + 4 * ((c + r) % 4) for r in range(4) for c in range(4)]
# Position of output (r, c) in the block (the last round writes blocks out).
_DEST: Final = [r + 4 * c for r in range(4) for c in range(4)]
# A middle round's output is one big integer holding the 16 slices in row-major
# order; the next round's k-th input is chunk _NEXT[k] of it.
_NEXT: Final = [4 * r + (c + r) % 4 for r in range(4) for c in range(4)]

# Below this many blocks the T-table loop beats the byte-sliced one (measured).
_SLICED_MIN_BLOCKS: Final = 5
_SLICE_TABLES_FROM: Final = 12
"""A key builds its sliced tables (~90 µs, ~6 T-table blocks) on the first keystream this
long: below it the T-table loop is cheaper than building them."""

_ROUNDS: Final = {16: 10, 24: 12, 32: 14}


@lru_cache(maxsize=16)
def _byte_masks(nbytes: int) -> tuple[int, int]:
    """0x7f7f... and 0x0101... over ``nbytes`` bytes."""
    return int.from_bytes(b"\x7f" * nbytes, "big"), int.from_bytes(b"\x01" * nbytes, "big")


def expand_key(key: bytes) -> list[int]:
    """The key schedule (FIPS-197 §5.2) as 4 * (Nr + 1) big-endian 32-bit words."""
    nk = len(key) // 4
    if len(key) not in _ROUNDS:
        raise ValueError("AES key must be 16, 24 or 32 bytes")
    nr = _ROUNDS[len(key)]
    sbox = _SBOX
    w = list(struct.unpack(f">{nk}I", key))
    rcon = 1
    for i in range(nk, 4 * (nr + 1)):
        t = w[i - 1]
        if i % nk == 0:
            t = ((t << 8) & 0xFFFFFFFF) | (t >> 24)  # RotWord
            t = (
                (sbox[t >> 24] << 24)
                | (sbox[(t >> 16) & 255] << 16)
                | (sbox[(t >> 8) & 255] << 8)
                | sbox[t & 255]
            ) ^ (rcon << 24)
            rcon = _xtime(rcon)
        elif nk > 6 and i % nk == 4:
            t = (
                (sbox[t >> 24] << 24)
                | (sbox[(t >> 16) & 255] << 16)
                | (sbox[(t >> 8) & 255] << 8)
                | sbox[t & 255]
            )
        w.append(w[i - nk] ^ t)
    return w


class AES:
    """An AES key, ready to encrypt blocks and counter-mode keystream."""

    __slots__ = (
        "_first",
        "_last",
        "_mid_keys",
        "_mids",
        "_nr",
        "_r1",
        "_rk",
        "_rk_last",
        "_sliced",
    )

    def __init__(self, key: bytes) -> None:
        rk = expand_key(key)
        nr = len(rk) // 4 - 1
        self._nr = nr
        self._rk = rk
        self._first = (rk[0], rk[1], rk[2], rk[3])
        self._mid_keys = [
            (rk[4 * r], rk[4 * r + 1], rk[4 * r + 2], rk[4 * r + 3]) for r in range(1, nr)
        ]
        self._rk_last = (rk[4 * nr], rk[4 * nr + 1], rk[4 * nr + 2], rk[4 * nr + 3])
        self._sliced = False

    def _slice_tables(self) -> None:
        """Byte-sliced tables, round key bytes folded in (see module docstring); built on
        the first long keystream, as a handshake key never needs them."""
        rk, nr = self._rk, self._nr
        kb = [struct.pack(">4I", *rk[4 * r : 4 * r + 4]) for r in range(nr + 1)]
        xt = _XOR_TABLES
        # Round 1: only state bytes 12..15 (the counter) vary.  Output (r, c),
        # listed in _SRC order, is const ^ m * S(b ^ k0[12 + j]) of counter byte
        # j = 3 - c, m = MIX[r][j]; const is byte 4c + r of the packed constants.
        r1: list[tuple[int, bytes, int]] = []
        for q in _SRC:
            r, j = q & 3, 3 - (q >> 2)
            r1.append((j, xt[kb[0][12 + j]].translate(_MUL_B[_MIX[r][j]]), q))
        self._r1 = r1
        # Rounds 2 .. Nr-1: S(b ^ previous round key), in _SRC order.
        self._mids = [[xt[kb[r - 1][q]].translate(_SBOX_B) for q in _SRC] for r in range(2, nr)]
        # Round Nr: S(b ^ k[Nr-1]) ^ k[Nr], output (r, c) = block byte _DEST[k].
        self._last = [
            xt[kb[nr - 1][q]].translate(_SBOX_B).translate(xt[kb[nr][d]])
            for q, d in zip(_SRC, _DEST, strict=True)
        ]
        self._sliced = True

    def encrypt_block(self, block: bytes) -> bytes:
        """Encrypt one 16-byte block (FIPS-197 §5.1, T-table form)."""
        if len(block) != 16:
            raise ValueError("AES block must be 16 bytes")
        w = struct.unpack(">4I", block)
        return struct.pack(">4I", *self._encrypt_words(w[0], w[1], w[2], w[3]))

    def _encrypt_words(self, s0: int, s1: int, s2: int, s3: int) -> tuple[int, int, int, int]:
        T0, T1, T2, T3 = _T0, _T1, _T2, _T3
        k0, k1, k2, k3 = self._first
        s0 ^= k0
        s1 ^= k1
        s2 ^= k2
        s3 ^= k3
        for k0, k1, k2, k3 in self._mid_keys:
            s0, s1, s2, s3 = (
                T0[s0 >> 24] ^ T1[(s1 >> 16) & 255] ^ T2[(s2 >> 8) & 255] ^ T3[s3 & 255] ^ k0,
                T0[s1 >> 24] ^ T1[(s2 >> 16) & 255] ^ T2[(s3 >> 8) & 255] ^ T3[s0 & 255] ^ k1,
                T0[s2 >> 24] ^ T1[(s3 >> 16) & 255] ^ T2[(s0 >> 8) & 255] ^ T3[s1 & 255] ^ k2,
                T0[s3 >> 24] ^ T1[(s0 >> 16) & 255] ^ T2[(s1 >> 8) & 255] ^ T3[s2 & 255] ^ k3,
            )
        S24, S16, S8, S = _S24, _S16, _S8, _SBOX
        k0, k1, k2, k3 = self._rk_last
        return (
            (S24[s0 >> 24] ^ S16[(s1 >> 16) & 255] ^ S8[(s2 >> 8) & 255] ^ S[s3 & 255]) ^ k0,
            (S24[s1 >> 24] ^ S16[(s2 >> 16) & 255] ^ S8[(s3 >> 8) & 255] ^ S[s0 & 255]) ^ k1,
            (S24[s2 >> 24] ^ S16[(s3 >> 16) & 255] ^ S8[(s0 >> 8) & 255] ^ S[s1 & 255]) ^ k2,
            (S24[s3 >> 24] ^ S16[(s0 >> 16) & 255] ^ S8[(s1 >> 8) & 255] ^ S[s2 & 255]) ^ k3,
        )

    def keystream(self, nonce: bytes, counter: int, nblocks: int) -> bytes:
        """E(nonce || ctr) for ctr = counter, counter + 1, ... (mod 2^32), concatenated.

        ``nonce`` is 12 bytes and the counter is the last 32 bits of the block,
        big-endian, as in GCM's inc32 (NIST SP 800-38D §6.2, §6.5).
        """
        if len(nonce) != 12:
            raise ValueError("counter-mode nonce must be 12 bytes")
        if nblocks <= 0:
            return b""
        if nblocks < (_SLICED_MIN_BLOCKS if self._sliced else _SLICE_TABLES_FROM):
            return self._keystream_ttable(nonce, counter, nblocks)
        if not self._sliced:
            self._slice_tables()
        return self._keystream_sliced(nonce, counter, nblocks)

    def _keystream_ttable(self, nonce: bytes, counter: int, nblocks: int) -> bytes:
        """Counter blocks through the T-tables, round 1 partly precomputed."""
        T0, T1, T2, T3 = _T0, _T1, _T2, _T3
        S24, S16, S8, S = _S24, _S16, _S8, _SBOX
        n0, n1, n2 = struct.unpack(">3I", nonce)
        k0, k1, k2, k3 = self._first
        a0, a1, a2 = n0 ^ k0, n1 ^ k1, n2 ^ k2
        # Round 1 of every block shares the 12 nonce bytes: each output column
        # needs only one lookup of a counter byte on top of these constants.
        m0, m1, m2, m3 = self._mid_keys[0]
        c0 = T0[a0 >> 24] ^ T1[(a1 >> 16) & 255] ^ T2[(a2 >> 8) & 255] ^ m0
        c1 = T0[a1 >> 24] ^ T1[(a2 >> 16) & 255] ^ T3[a0 & 255] ^ m1
        c2 = T0[a2 >> 24] ^ T2[(a0 >> 8) & 255] ^ T3[a1 & 255] ^ m2
        c3 = T1[(a0 >> 16) & 255] ^ T2[(a1 >> 8) & 255] ^ T3[a2 & 255] ^ m3
        rest = self._mid_keys[1:]
        l0, l1, l2, l3 = self._rk_last
        out: list[int] = []
        for ctr in range(counter, counter + nblocks):
            a3 = (ctr & 0xFFFFFFFF) ^ k3
            s0 = c0 ^ T3[a3 & 255]
            s1 = c1 ^ T2[(a3 >> 8) & 255]
            s2 = c2 ^ T1[(a3 >> 16) & 255]
            s3 = c3 ^ T0[a3 >> 24]
            for r0, r1, r2, r3 in rest:
                s0, s1, s2, s3 = (
                    T0[s0 >> 24] ^ T1[(s1 >> 16) & 255] ^ T2[(s2 >> 8) & 255] ^ T3[s3 & 255] ^ r0,
                    T0[s1 >> 24] ^ T1[(s2 >> 16) & 255] ^ T2[(s3 >> 8) & 255] ^ T3[s0 & 255] ^ r1,
                    T0[s2 >> 24] ^ T1[(s3 >> 16) & 255] ^ T2[(s0 >> 8) & 255] ^ T3[s1 & 255] ^ r2,
                    T0[s3 >> 24] ^ T1[(s0 >> 16) & 255] ^ T2[(s1 >> 8) & 255] ^ T3[s2 & 255] ^ r3,
                )
            out += (
                (S24[s0 >> 24] ^ S16[(s1 >> 16) & 255] ^ S8[(s2 >> 8) & 255] ^ S[s3 & 255]) ^ l0,
                (S24[s1 >> 24] ^ S16[(s2 >> 16) & 255] ^ S8[(s3 >> 8) & 255] ^ S[s0 & 255]) ^ l1,
                (S24[s2 >> 24] ^ S16[(s3 >> 16) & 255] ^ S8[(s0 >> 8) & 255] ^ S[s1 & 255]) ^ l2,
                (S24[s3 >> 24] ^ S16[(s0 >> 16) & 255] ^ S8[(s1 >> 8) & 255] ^ S[s2 & 255]) ^ l3,
            )
        return struct.pack(f">{len(out)}I", *out)

    def _keystream_sliced(self, nonce: bytes, counter: int, n: int) -> bytes:
        """Counter blocks computed byte-sliced over all ``n`` blocks at once."""
        if counter + n <= 1 << 32:
            ctrs = struct.pack(f">{n}I", *range(counter, counter + n))
        else:
            ctrs = struct.pack(f">{n}I", *[c & 0xFFFFFFFF for c in range(counter, counter + n)])
        varying = [ctrs[j::4] for j in range(4)]  # state bytes 12..15

        # Round 1 (§5.1): output (r, c) = const ^ MIX[r][j] * S(ctr byte j ^ k),
        # j = 3 - c; the constants come from the nonce bytes via the T-tables.
        k0, k1, k2, _ = self._first
        n0, n1, n2 = struct.unpack(">3I", nonce)
        a0, a1, a2 = n0 ^ k0, n1 ^ k1, n2 ^ k2
        T0, T1, T2, T3 = _T0, _T1, _T2, _T3
        consts = struct.pack(
            ">4I",
            T0[a0 >> 24] ^ T1[(a1 >> 16) & 255] ^ T2[(a2 >> 8) & 255],
            T0[a1 >> 24] ^ T1[(a2 >> 16) & 255] ^ T3[a0 & 255],
            T0[a2 >> 24] ^ T2[(a0 >> 8) & 255] ^ T3[a1 & 255],
            T1[(a0 >> 16) & 255] ^ T2[(a1 >> 8) & 255] ^ T3[a2 & 255],
        )
        xt = _XOR_TABLES
        xs = [varying[j].translate(t.translate(xt[consts[i]])) for j, t, i in self._r1]

        # Rounds 2 .. Nr-1.  With A = S(x) as a row-major integer, A2 = 2*A, and
        # rho = "row r takes row r + 1", MixColumns (§5.1.3) is
        #   B = 2A + 3 rho A + rho^2 A + rho^3 A = W ^ rho W ^ A,  W = A2 ^ A ^ rho^2 A.
        nbytes = 16 * n
        rb = 32 * n  # bits in one row (4 slices of n bytes)
        low2 = (1 << (2 * rb)) - 1
        low3 = (1 << (3 * rb)) - 1
        rb2, rb3 = 2 * rb, 3 * rb
        fb = int.from_bytes
        join = b"".join
        translate = bytes.translate
        offs = [(n * i, n * (i + 1)) for i in _NEXT]
        m7f, m01 = _byte_masks(nbytes)
        for ts in self._mids:
            a = fb(join(map(translate, xs, ts)), "big")
            # 2*A by xtime on every byte at once (FIPS-197 §4.2.1)
            a2 = ((a & m7f) << 1) ^ (((a >> 7) & m01) * 0x1B)
            w = a2 ^ a ^ ((a & low2) << rb2) ^ (a >> rb2)
            ob = (w ^ ((w & low3) << rb) ^ (w >> rb3) ^ a).to_bytes(nbytes, "big")
            xs = [ob[i:j] for i, j in offs]

        # Round Nr (no MixColumns), written straight into block order.
        ks = bytearray(nbytes)
        for x, t, d in zip(xs, self._last, _DEST, strict=True):
            ks[d::16] = x.translate(t)
        return bytes(ks)
