"""The ``python`` provider: pure-Python ciphers, PRF and HKDF over stdlib ``hmac``."""

from __future__ import annotations

import hmac as _hmac

from tlsbench.crypto import _agreement, _kdf, _record
from tlsbench.crypto._aead import check_aead, check_nonce
from tlsbench.crypto.base import Buffer
from tlsbench.crypto.pure import AESGCM, ChaCha20Poly1305
from tlsbench.crypto.suites import HASH_LEN


class AeadCipher:
    """AES-GCM or ChaCha20-Poly1305 written in Python."""

    def __init__(self, algorithm: str, key: Buffer) -> None:
        name = check_aead(algorithm, key)
        cls = ChaCha20Poly1305 if name == "CHACHA20-POLY1305" else AESGCM
        self._cipher = cls(bytes(key))

    def encrypt(self, nonce: Buffer, data: Buffer, aad: Buffer) -> bytes:
        check_nonce(nonce)
        return self._cipher.encrypt(bytes(nonce), bytes(data), bytes(aad))

    def decrypt(self, nonce: Buffer, data: Buffer, aad: Buffer) -> bytes:
        check_nonce(nonce)
        return self._cipher.decrypt(bytes(nonce), bytes(data), bytes(aad))


class Kdf(_kdf.Kdf):
    """HMAC and HKDF-Expand from the standard library."""

    def hmac(self, hash: str, key: Buffer, data: Buffer) -> bytes:
        return _hmac.digest(key, data, hash)

    def hkdf_expand(self, hash: str, prk: Buffer, info: Buffer, length: int) -> bytes:
        h = self.check_expand_length(hash, length)
        if length <= HASH_LEN[h]:  # one block, as every TLS 1.3 key, IV and secret
            return _hmac.digest(prk, bytes(info) + b"\x01", h)[:length]
        key, info_b = bytes(prk), bytes(info)
        out, t = b"", b""
        for i in range(1, -(-length // HASH_LEN[h]) + 1):  # RFC 5869 §2.3
            t = _hmac.digest(key, t + info_b + bytes([i]), h)
            out += t
        return out[:length]


class RecordCipher(_record.RecordCipher):
    make_aead = AeadCipher


class KeySchedule(_kdf.KeySchedule):
    kdf = Kdf()


class Provider(Kdf):
    """The ``python`` provider."""

    NAME = "python"
    AeadCipher = AeadCipher
    KeyAgreement = _agreement.KeyAgreement  # pyca's, like its signatures
    RecordCipher = RecordCipher
    KeySchedule = KeySchedule
