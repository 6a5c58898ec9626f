"""Key derivation written once over two primitives, HMAC and HKDF-Expand.

The ``python`` and ``cryptography`` providers subclass :class:`Kdf` with their
own primitives; everything above them (PRF, EMS, key block, HKDF-Expand-Label,
the TLS 1.3 key schedule) is shared, so the two differ only where they should.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import ClassVar

from tlsbench.crypto.base import Buffer, SuiteName
from tlsbench.crypto.suites import HASH_LEN, Suite, check_hash, get_suite


@dataclass(frozen=True)
class Tls13Stage:
    """Secrets, keys and IVs of one TLS 1.3 stage, both directions."""

    client_secret: bytes
    server_secret: bytes
    client_key: bytes
    client_iv: bytes
    server_key: bytes
    server_iv: bytes
    client_finished_key: bytes
    server_finished_key: bytes


class Kdf:
    """TLS 1.2 PRF and TLS 1.3 HKDF functions over ``hmac`` and ``hkdf_expand``."""

    def hmac(self, hash: str, key: Buffer, data: Buffer) -> bytes:
        raise NotImplementedError

    def hkdf_expand(self, hash: str, prk: Buffer, info: Buffer, length: int) -> bytes:
        raise NotImplementedError

    def check_expand_length(self, hash: str, length: int) -> str:
        h = check_hash(hash)
        if not 0 <= length <= 255 * HASH_LEN[h]:
            raise ValueError("HKDF-Expand output is limited to 255 * HashLen")
        return h

    def hkdf_extract(self, hash: str, salt: Buffer, ikm: Buffer) -> bytes:
        # An empty salt is HashLen zeros (RFC 5869 §2.2); HMAC's key padding does that.
        return self.hmac(check_hash(hash), salt, ikm)

    def tls12_prf(
        self, hash: str, secret: Buffer, label: Buffer, seed: Buffer, length: int
    ) -> bytes:
        """P_hash(secret, label || seed), RFC 5246 §5."""
        h = check_hash(hash)
        ls = bytes(label) + bytes(seed)
        out = bytearray()
        a = self.hmac(h, secret, ls)
        while len(out) < length:
            out += self.hmac(h, secret, a + ls)
            a = self.hmac(h, secret, a)
        return bytes(out[:length])

    def tls12_master_secret(
        self, hash: str, pre_master_secret: Buffer, client_random: Buffer, server_random: Buffer
    ) -> bytes:
        seed = bytes(client_random) + bytes(server_random)
        return self.tls12_prf(hash, pre_master_secret, b"master secret", seed, 48)

    def tls12_extended_master_secret(
        self, hash: str, pre_master_secret: Buffer, session_hash: Buffer
    ) -> bytes:
        """RFC 7627 §4."""
        return self.tls12_prf(hash, pre_master_secret, b"extended master secret", session_hash, 48)

    def tls12_key_block(
        self, suite: SuiteName, master_secret: Buffer, client_random: Buffer, server_random: Buffer
    ) -> tuple[bytes, bytes, bytes, bytes]:
        """(client_key, server_key, client_iv, server_iv), RFC 5246 §6.3."""
        s = get_suite(suite)
        if s.version != 0x0303:
            raise ValueError("a TLS 1.2 suite is needed")
        k, i = s.key_len, s.iv_len
        seed = bytes(server_random) + bytes(client_random)
        b = self.tls12_prf(s.hash, master_secret, b"key expansion", seed, 2 * (k + i))
        return b[:k], b[k : 2 * k], b[2 * k : 2 * k + i], b[2 * k + i :]

    def tls12_verify_data(
        self, hash: str, master_secret: Buffer, label: Buffer, handshake_hash: Buffer
    ) -> bytes:
        return self.tls12_prf(hash, master_secret, label, handshake_hash, 12)

    def hkdf_expand_label(
        self, hash: str, secret: Buffer, label: Buffer, context: Buffer, length: int
    ) -> bytes:
        """RFC 8446 §7.1; ``label`` without the "tls13 " prefix."""
        full = b"tls13 " + bytes(label)
        ctx = bytes(context)
        if length > 0xFFFF or len(full) > 255 or len(ctx) > 255:
            raise ValueError("HkdfLabel field out of range")
        info = length.to_bytes(2, "big") + bytes([len(full)]) + full + bytes([len(ctx)]) + ctx
        return self.hkdf_expand(hash, secret, info, length)

    def derive_secret(
        self, hash: str, secret: Buffer, label: Buffer, transcript_hash: Buffer
    ) -> bytes:
        h = check_hash(hash)
        return self.hkdf_expand_label(h, secret, label, transcript_hash, HASH_LEN[h])

    def tls13_traffic_keys(self, suite: SuiteName, secret: Buffer) -> tuple[bytes, bytes]:
        """(key, iv) of a traffic secret, RFC 8446 §7.3."""
        s = get_suite(suite)
        return (
            self.hkdf_expand_label(s.hash, secret, b"key", b"", s.key_len),
            self.hkdf_expand_label(s.hash, secret, b"iv", b"", 12),
        )

    def tls13_next_secret(self, suite: SuiteName, secret: Buffer) -> bytes:
        """application_traffic_secret_N+1, RFC 8446 §7.2."""
        s = get_suite(suite)
        return self.hkdf_expand_label(s.hash, secret, b"traffic upd", b"", HASH_LEN[s.hash])

    def tls13_verify_data(self, hash: str, finished_key: Buffer, transcript_hash: Buffer) -> bytes:
        return self.hmac(check_hash(hash), finished_key, transcript_hash)

    def tls13_resumption_psk(
        self, suite: SuiteName, resumption_master_secret: Buffer, ticket_nonce: Buffer
    ) -> bytes:
        """The PSK a ticket stands for, RFC 8446 §4.6.1."""
        s = get_suite(suite)
        if s.version != 0x0304:
            raise ValueError("a TLS 1.3 suite is needed")
        return self.hkdf_expand_label(
            s.hash, resumption_master_secret, b"resumption", ticket_nonce, HASH_LEN[s.hash]
        )

    def stage(
        self, suite: Suite, secret: bytes, labels: tuple[bytes, bytes], th: Buffer
    ) -> Tls13Stage:
        h, n = suite.hash, HASH_LEN[suite.hash]
        c = self.derive_secret(h, secret, labels[0], th)
        s = self.derive_secret(h, secret, labels[1], th)
        ck, civ = self.tls13_traffic_keys(suite.code, c)
        sk, siv = self.tls13_traffic_keys(suite.code, s)
        return Tls13Stage(
            client_secret=c,
            server_secret=s,
            client_key=ck,
            client_iv=civ,
            server_key=sk,
            server_iv=siv,
            client_finished_key=self.hkdf_expand_label(h, c, b"finished", b"", n),
            server_finished_key=self.hkdf_expand_label(h, s, b"finished", b"", n),
        )


class KeySchedule:
    """The RFC 8446 §7.1 key schedule; each stage is one call, and stages only move forward."""

    kdf: ClassVar[Kdf]

    def __init__(self, suite: SuiteName, psk: Buffer | None = None) -> None:
        s = get_suite(suite)
        if s.version != 0x0304:
            raise ValueError("a TLS 1.3 suite is needed")
        self._suite = s
        zeros = bytes(HASH_LEN[s.hash])
        self.early_secret: bytes = self.kdf.hkdf_extract(
            s.hash, zeros, zeros if psk is None else psk
        )
        self.handshake_secret: bytes | None = None
        self.master_secret: bytes | None = None
        self._empty_hash = hashlib.new(s.hash).digest()

    def handshake_stage(self, shared_secret: Buffer, transcript_hash: Buffer) -> Tls13Stage:
        if self.handshake_secret is not None:
            raise RuntimeError("the handshake stage was already derived")
        h = self._suite.hash
        derived = self.kdf.derive_secret(h, self.early_secret, b"derived", self._empty_hash)
        hs = self.kdf.hkdf_extract(h, derived, shared_secret)
        stage = self.kdf.stage(self._suite, hs, (b"c hs traffic", b"s hs traffic"), transcript_hash)
        self.handshake_secret = hs
        return stage

    def application_stage(self, transcript_hash: Buffer) -> Tls13Stage:
        if self.handshake_secret is None:
            raise RuntimeError("the handshake stage comes first")
        if self.master_secret is not None:
            raise RuntimeError("the application stage was already derived")
        h = self._suite.hash
        derived = self.kdf.derive_secret(h, self.handshake_secret, b"derived", self._empty_hash)
        ms = self.kdf.hkdf_extract(h, derived, bytes(HASH_LEN[h]))
        stage = self.kdf.stage(self._suite, ms, (b"c ap traffic", b"s ap traffic"), transcript_hash)
        self.master_secret = ms
        return stage

    def key_update(self, secret: Buffer) -> tuple[bytes, bytes, bytes]:
        """KeyUpdate (RFC 8446 §7.2): (next traffic secret, its key, its IV)."""
        nxt = self.kdf.tls13_next_secret(self._suite.code, secret)
        key, iv = self.kdf.tls13_traffic_keys(self._suite.code, nxt)
        return nxt, key, iv

    def _from_master(self, label: bytes, transcript_hash: Buffer) -> bytes:
        if self.master_secret is None:
            raise RuntimeError("the application stage comes first")
        return self.kdf.derive_secret(self._suite.hash, self.master_secret, label, transcript_hash)

    def exporter_master_secret(self, transcript_hash: Buffer) -> bytes:
        return self._from_master(b"exp master", transcript_hash)

    def resumption_master_secret(self, transcript_hash: Buffer) -> bytes:
        return self._from_master(b"res master", transcript_hash)

    def binder(self, transcript_hash: Buffer, external: bool = False) -> bytes:
        """The PSK binder (RFC 8446 §4.2.11.2) over the truncated ClientHello's hash."""
        h = self._suite.hash
        label = b"ext binder" if external else b"res binder"
        binder_key = self.kdf.derive_secret(h, self.early_secret, label, self._empty_hash)
        finished_key = self.kdf.hkdf_expand_label(h, binder_key, b"finished", b"", HASH_LEN[h])
        return self.kdf.hmac(h, finished_key, transcript_hash)
