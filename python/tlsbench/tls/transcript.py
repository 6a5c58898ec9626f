"""The handshake transcript hash (RFC 8446 §4.4.1)."""

from __future__ import annotations

import hashlib

from .messages import message_hash

_CONSTRUCTORS = {"sha256": hashlib.sha256, "sha384": hashlib.sha384}


def _new(hash_name: str) -> hashlib._Hash:
    # The named constructors skip hashlib.new's lookup (one per handshake, on both sides).
    make = _CONSTRUCTORS.get(hash_name)
    return make() if make is not None else hashlib.new(hash_name)


class Transcript:
    """Running hash over handshake messages; messages are kept until the hash is known."""

    def __init__(self) -> None:
        self._pending: list[bytes] = []
        self._hash: hashlib._Hash | None = None

    def add(self, raw: bytes) -> None:
        """Append one whole handshake message."""
        if self._hash is None:
            self._pending.append(raw)
        else:
            self._hash.update(raw)

    def start(self, hash_name: str) -> None:
        """Fix the hash once the suite is known and hash what was held."""
        self._hash = _new(hash_name)
        for raw in self._pending:
            self._hash.update(raw)
        self._pending.clear()

    def digest(self) -> bytes:
        """Hash of everything added so far."""
        assert self._hash is not None, "transcript hash used before the suite is known"
        return self._hash.copy().digest()

    def digest_with(self, raw: bytes, hash_name: str) -> bytes:
        """Hash of everything added so far and ``raw`` (``hash_name`` if not yet started)."""
        if self._hash is None:
            h = _new(hash_name)
            for held in self._pending:
                h.update(held)
        else:
            h = self._hash.copy()
        h.update(raw)
        return h.digest()

    def restart_for_retry(self, hash_name: str) -> None:
        """§4.4.1: after a HelloRetryRequest, ClientHello1 becomes message_hash(Hash(CH1))."""
        self.start(hash_name)
        first = self.digest()
        self._hash = _new(hash_name)
        self._hash.update(message_hash(first))
