"""AES-128/192/256 encryption (FIPS-197), the forward direction only.

GCM needs nothing but the block encryption of counter blocks, so there is no
decryption here.  Two implementations of the same function:

* ``encrypt_block`` and short counter runs hold the whole 128-bit state as one
  Python int.  A round is ``to_bytes`` of the state, then one lookup per state
  byte in 16 tables (:data:`_ROUND`: SubBytes, ShiftRows and MixColumns of that
  byte, already shifted to where it lands in the block) XORed together with the
  round key.  The tables do not depend on the key, so a new key costs only its
  schedule.  This takes about a third fewer instructions than the classic four
  32-bit T-tables, whose word shifts and masks cost more than one ``to_bytes``.
* Long counter runs (``keystream``) are computed "byte-sliced": state byte ``q``
  of *all* counter blocks is held in one ``bytes`` object, so SubBytes (with the
  round key folded in) is one ``bytes.translate`` per state byte, ShiftRows is a
  relabelling of those objects, and MixColumns is a few XORs and shifts of
  Python integers as wide as the whole keystream.  The per-block work is then
  done by C loops inside CPython, which is several times faster than the
  table loop once there are more than a handful of blocks.

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


def _byte_ones(nbytes: int) -> int:
    """0x0101...01 over ``nbytes`` bytes."""
    return int.from_bytes(b"\x01" * nbytes, "big")


_MUL2: Final = [_xtime(s) for s in _SBOX]  # 2 * S[x]
_MUL3: Final = [m ^ s for m, s in zip(_MUL2, _SBOX, strict=True)]  # 3 * S[x]


def _make_round_tables() -> tuple[list[list[int]], list[list[int]]]:
    """_ROUND[i][x], _LAST[i][x]: what state byte i (row r = i % 4, column i // 4,
    §3.4) holding x adds to the next state, as a 128-bit block read big-endian.

    ShiftRows (§5.1.2) moves the byte to column c = (i // 4 - r) % 4; MixColumns
    (§5.1.3) then spreads S(x) over that column as (2, 1, 1, 3) * S(x) rotated down
    by r rows.  The last round has no MixColumns: S(x) alone at row r, column c.
    """
    column = [
        (a << 24) | (s << 16) | (s << 8) | b for s, a, b in zip(_SBOX, _MUL2, _MUL3, strict=True)
    ]
    round_tables, last_tables = [], []
    for i in range(16):
        r = i % 4
        c = (i // 4 - r) % 4
        col_shift = 32 * (3 - c)
        rot = [((t >> (8 * r)) | (t << (32 - 8 * r))) & 0xFFFFFFFF for t in column]
        round_tables.append([t << col_shift for t in rot])
        byte_shift = 8 * (15 - (r + 4 * c))
        last_tables.append([s << byte_shift for s in _SBOX])
    return round_tables, last_tables


_ROUND, _LAST = _make_round_tables()

# Byte-sliced path: translate tables.  _XOR_TABLES[k][b] == b ^ k, so
# ``_XOR_TABLES[k].translate(t)`` is the table b -> t[b ^ k] (a round key byte
# folded into a lookup), and ``t.translate(_XOR_TABLES[k])`` is b -> t[b] ^ k.
_SBOX_B: Final = bytes(_SBOX)
_MUL_B: Final = {1: _SBOX_B, 2: bytes(_MUL2), 3: bytes(_MUL3)}
_IDENTITY = int.from_bytes(bytes(range(256)), "big")
_XOR_TABLES: Final = [(_IDENTITY ^ k * _byte_ones(256)).to_bytes(256, "big") for k in range(256)]
# _SUB_XOR[k] is the table b -> S(b ^ k): a round key byte folded into SubBytes.  A
# key's sliced tables are mostly these, so building them is mostly list indexing.
_SUB_XOR: Final = [t.translate(_SBOX_B) for t in _XOR_TABLES]

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

# Below this many blocks the round-table loop beats the byte-sliced one: in callgrind
# ~79k instructions a block against ~415k a call plus ~7.5k a block.
_SLICED_MIN_BLOCKS: Final = 6
_SLICE_TABLES_FROM: Final = 9
"""A key builds its sliced tables (~230k instructions, ~3 blocks of the round-table loop)
on the first keystream this long: below it the round-table loop is cheaper than building
them and running the sliced path once."""

_ROUNDS: Final = {16: 10, 24: 12, 32: 14}


def _make_rcon24() -> list[int]:
    """Rcon[1..10] (FIPS-197 §5.2) in the top byte of a word."""
    out, rcon = [], 1
    for _ in range(10):
        out.append(rcon << 24)
        rcon = _xtime(rcon)
    return out


_RCON24: Final = _make_rcon24()


@lru_cache(maxsize=16)
def _byte_masks(nbytes: int) -> tuple[int, int]:
    """0x7f7f... and 0x0101... over ``nbytes`` bytes."""
    return int.from_bytes(b"\x7f" * nbytes, "big"), int.from_bytes(b"\x01" * nbytes, "big")


def expand_key(key: bytes) -> list[int]:
    """The key schedule (FIPS-197 §5.2) as Nr + 1 round keys, 128-bit big-endian ints."""
    if len(key) not in _ROUNDS:
        raise ValueError("AES key must be 16, 24 or 32 bytes")
    nk = len(key) // 4
    nr = _ROUNDS[len(key)]
    sbox = _SBOX_B
    if nk == 4:
        # A round key's words are the running XOR of the previous key's words, each
        # XORed with t = SubWord(RotWord(last word)) ^ Rcon.
        k = int.from_bytes(key, "big")
        keys = [k]
        for rcon in _RCON24:
            last = (k & 0xFFFFFFFF).to_bytes(4, "big")
            t = int.from_bytes((last[1:] + last[:1]).translate(sbox), "big") ^ rcon
            k ^= (k >> 32) ^ (k >> 64) ^ (k >> 96) ^ (t * _WORD_ONES)
            keys.append(k)
        return keys
    w = list(struct.unpack(f">{nk}I", key))
    rcon = 1
    for i in range(nk, 4 * (nr + 1)):
        t = w[i - 1]
        if i % nk == 0:
            b = t.to_bytes(4, "big")
            t = int.from_bytes((b[1:] + b[:1]).translate(sbox), "big") ^ (rcon << 24)
            rcon = _xtime(rcon)
        elif nk > 6 and i % nk == 4:
            t = int.from_bytes(t.to_bytes(4, "big").translate(sbox), "big")
        w.append(w[i - nk] ^ t)
    return [w[i] << 96 | w[i + 1] << 64 | w[i + 2] << 32 | w[i + 3] for i in range(0, len(w), 4)]


_WORD_ONES: Final = 0x00000001_00000001_00000001_00000001


class AES:
    """An AES key, ready to encrypt blocks and counter-mode keystream."""

    __slots__ = ("_last", "_mids", "_nr", "_r1", "_rk", "_sliced")

    def __init__(self, key: bytes) -> None:
        self._rk = expand_key(key)
        self._nr = len(self._rk) - 1
        self._sliced = False

    def _slice_tables(self) -> None:
        """Byte-sliced tables, round key bytes folded in (see module docstring); built on
        the first long keystream, as a handshake key never needs them."""
        nr = self._nr
        kb = [k.to_bytes(16, "big") for k in self._rk]
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
        sx = _SUB_XOR
        self._mids = [[sx[kb[r - 1][q]] for q in _SRC] for r in range(2, nr)]
        # Round Nr: S(b ^ k[Nr-1]) ^ k[Nr], output (r, c) = block byte _DEST[k].
        self._last = [
            sx[kb[nr - 1][q]].translate(xt[kb[nr][d]]) for q, d in zip(_SRC, _DEST, strict=True)
        ]
        self._sliced = True

    def encrypt_block(self, block: bytes) -> bytes:
        """Encrypt one 16-byte block (FIPS-197 §5.1)."""
        if len(block) != 16:
            raise ValueError("AES block must be 16 bytes")
        return self.encrypt_int(int.from_bytes(block, "big")).to_bytes(16, "big")

    def encrypt_int(self, block: int) -> int:
        """:meth:`encrypt_block` of a block read as a big-endian int."""
        rk = self._rk
        return _rounds(block ^ rk[0], rk, 1)

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
            return b"".join(
                [b.to_bytes(16, "big") for b in self.counter_blocks(nonce, counter, nblocks)]
            )
        if not self._sliced:
            self._slice_tables()
        return self._keystream_sliced(nonce, counter, nblocks)

    def keystream_int(self, nonce: bytes, counter: int, nblocks: int) -> int:
        """:meth:`keystream` as one big-endian int (``nblocks`` >= 1)."""
        if nblocks < (_SLICED_MIN_BLOCKS if self._sliced else _SLICE_TABLES_FROM):
            v = 0
            for b in self.counter_blocks(nonce, counter, nblocks):
                v = v << 128 | b
            return v
        return int.from_bytes(self.keystream(nonce, counter, nblocks), "big")

    def counter_blocks(self, nonce: bytes, counter: int, nblocks: int) -> list[int]:
        """E(nonce || ctr) for ``nblocks`` counters as ints, one block at a time; round 1
        is shared: only its four counter bytes differ between the blocks."""
        rk = self._rk
        k0 = rk[0]
        R = _ROUND
        b = ((int.from_bytes(nonce, "big") << 32) ^ k0).to_bytes(16, "big")
        c1 = (
            R[0][b[0]] ^ R[1][b[1]] ^ R[2][b[2]] ^ R[3][b[3]] ^ R[4][b[4]] ^ R[5][b[5]]
            ^ R[6][b[6]] ^ R[7][b[7]] ^ R[8][b[8]] ^ R[9][b[9]] ^ R[10][b[10]] ^ R[11][b[11]]
            ^ rk[1]
        )  # fmt: skip
        R12, R13, R14, R15 = R[12], R[13], R[14], R[15]
        k0 &= 0xFFFFFFFF
        out = []
        for ctr in range(counter, counter + nblocks):
            x12, x13, x14, x15 = ((ctr & 0xFFFFFFFF) ^ k0).to_bytes(4, "big")
            out.append(_rounds(c1 ^ R12[x12] ^ R13[x13] ^ R14[x14] ^ R15[x15], rk, 2))
        return out

    def _keystream_sliced(self, nonce: bytes, counter: int, n: int) -> bytes:
        """Counter blocks computed byte-sliced over all ``n`` blocks at once."""
        if counter + n <= 1 << 32:
            ctrs = struct.pack(f">{n}I", *range(counter, counter + n))
        else:
            ctrs = struct.pack(f">{n}I", *[c & 0xFFFFFFFF for c in range(counter, counter + n)])
        varying = [ctrs[j::4] for j in range(4)]  # state bytes 12..15

        # Round 1 (§5.1): output (r, c) = const ^ MIX[r][j] * S(ctr byte j ^ k),
        # j = 3 - c; the constants come from the nonce bytes via the round tables.
        R = _ROUND
        b = ((int.from_bytes(nonce, "big") << 32) ^ self._rk[0]).to_bytes(16, "big")
        c = 0
        for i in range(12):
            c ^= R[i][b[i]]
        consts = c.to_bytes(16, "big")
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


def _rounds(s: int, rk: list[int], first: int) -> int:
    """Rounds ``first`` .. Nr of the state ``s`` (round key ``first - 1`` already added)."""
    (R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10, R11, R12, R13, R14, R15) = _ROUND
    for k in rk[first:-1]:
        b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11, b12, b13, b14, b15 = s.to_bytes(16, "big")
        s = (
            R0[b0] ^ R1[b1] ^ R2[b2] ^ R3[b3] ^ R4[b4] ^ R5[b5] ^ R6[b6] ^ R7[b7]
            ^ R8[b8] ^ R9[b9] ^ R10[b10] ^ R11[b11] ^ R12[b12] ^ R13[b13] ^ R14[b14] ^ R15[b15]
            ^ k
        )  # fmt: skip
    (L0, L1, L2, L3, L4, L5, L6, L7, L8, L9, L10, L11, L12, L13, L14, L15) = _LAST
    b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11, b12, b13, b14, b15 = s.to_bytes(16, "big")
    return (
        L0[b0] ^ L1[b1] ^ L2[b2] ^ L3[b3] ^ L4[b4] ^ L5[b5] ^ L6[b6] ^ L7[b7]
        ^ L8[b8] ^ L9[b9] ^ L10[b10] ^ L11[b11] ^ L12[b12] ^ L13[b13] ^ L14[b14] ^ L15[b15]
        ^ rk[-1]
    )  # fmt: skip
