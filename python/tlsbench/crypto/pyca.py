"""The ``cryptography`` provider: pyca primitives called once per record or derivation."""

from __future__ import annotations

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as _hmac
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from tlsbench.crypto import _agreement, _kdf, _record
from tlsbench.crypto._aead import check_aead, check_nonce
from tlsbench.crypto.base import Buffer
from tlsbench.errors import BadRecordMac

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {"sha256": hashes.SHA256, "sha384": hashes.SHA384}


class AeadCipher:
    """pyca ``AESGCM`` or ``ChaCha20Poly1305``."""

    def __init__(self, algorithm: str, key: Buffer) -> None:
        name = check_aead(algorithm, key)
        self._cipher = ChaCha20Poly1305(key) if name == "CHACHA20-POLY1305" else AESGCM(key)

    def encrypt(self, nonce: Buffer, data: Buffer, aad: Buffer) -> bytes:
        check_nonce(nonce)
        return self._cipher.encrypt(nonce, data, aad)

    def decrypt(self, nonce: Buffer, data: Buffer, aad: Buffer) -> bytes:
        check_nonce(nonce)
        try:
            return self._cipher.decrypt(nonce, data, aad)
        except InvalidTag:
            raise BadRecordMac() from None


class Kdf(_kdf.Kdf):
    """HMAC and HKDF-Expand from pyca ``cryptography``."""

    def hmac(self, hash: str, key: Buffer, data: Buffer) -> bytes:
        h = _hmac.HMAC(key, _HASHES[hash]())
        h.update(data)
        return h.finalize()

    def hkdf_expand(self, hash: str, prk: Buffer, info: Buffer, length: int) -> bytes:
        h = self.check_expand_length(hash, length)
        if length == 0:
            return b""
        return HKDFExpand(_HASHES[h](), length, bytes(info)).derive(prk)


class RecordCipher(_record.RecordCipher):
    make_aead = AeadCipher


class KeySchedule(_kdf.KeySchedule):
    kdf = Kdf()


class Provider(Kdf):
    """The ``cryptography`` provider."""

    NAME = "cryptography"
    AeadCipher = AeadCipher
    KeyAgreement = _agreement.KeyAgreement
    RecordCipher = RecordCipher
    KeySchedule = KeySchedule
