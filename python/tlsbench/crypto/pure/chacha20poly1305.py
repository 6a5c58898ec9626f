"""AEAD_CHACHA20_POLY1305 (RFC 8439 §2.8) with a 12-byte nonce and 16-byte tag."""

from __future__ import annotations

import hmac

from tlsbench.crypto.pure.chacha20 import ChaCha20
from tlsbench.crypto.pure.poly1305 import Poly1305
from tlsbench.errors import BadRecordMac

# RFC 8439 §2.8: up to 2^32 - 1 64-byte blocks after the one that makes the MAC key.
_MAX_DATA = 64 * ((1 << 32) - 1)


class ChaCha20Poly1305:
    """ChaCha20-Poly1305 with pyca ``cryptography``'s call shape."""

    __slots__ = ("_chacha",)

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("ChaCha20-Poly1305 key must be 32 bytes")
        self._chacha = ChaCha20(bytes(key))

    def _keystream(self, nonce: bytes, n: int) -> bytes:
        if len(nonce) != 12:
            raise ValueError("ChaCha20-Poly1305 nonce must be 12 bytes")
        if n > _MAX_DATA:
            raise OverflowError("ChaCha20-Poly1305 data too long")
        # Block 0 gives the Poly1305 key (§2.6), blocks 1.. encrypt (§2.8).
        return self._chacha.keystream(bytes(nonce), 0, 1 + (n + 63) // 64)

    def encrypt(self, nonce: bytes, data: bytes, aad: bytes | None) -> bytes:
        """Ciphertext || tag (§2.8)."""
        aad = b"" if aad is None else bytes(aad)
        n = len(data)
        ks = self._keystream(nonce, n)
        if n:
            ct = (
                int.from_bytes(data, "little") ^ int.from_bytes(ks[64 : 64 + n], "little")
            ).to_bytes(n, "little")
        else:
            ct = b""
        return ct + Poly1305(ks[:32]).mac_padded(aad, ct)

    def decrypt(self, nonce: bytes, data: bytes, aad: bytes | None) -> bytes:
        """The plaintext, or BadRecordMac if the tag does not verify."""
        aad = b"" if aad is None else bytes(aad)
        n = len(data) - 16
        if len(nonce) != 12:
            raise ValueError("ChaCha20-Poly1305 nonce must be 12 bytes")
        if n < 0:
            raise BadRecordMac()
        data = bytes(data)
        ct = data[:n]
        ks = self._keystream(nonce, n)
        if not hmac.compare_digest(Poly1305(ks[:32]).mac_padded(aad, ct), data[n:]):
            raise BadRecordMac()
        if not n:
            return b""
        return (int.from_bytes(ct, "little") ^ int.from_bytes(ks[64 : 64 + n], "little")).to_bytes(
            n, "little"
        )
