"""Sessions to resume: what a client keeps, and how a server seals or caches its own.

A client keeps :class:`Session` objects (TLS 1.3 tickets with their PSK, TLS 1.2
session IDs or RFC 5077 tickets with the master secret) and offers one through
``ClientConfig.session``. A server turns its side of a session into an opaque ticket
with :class:`TicketKeys` (an AEAD key of its own, through the provider, rotated on a
schedule) or remembers it by session ID in a :class:`SessionCache`. Nothing here
imports either side's package.
"""

from __future__ import annotations

import os
import struct
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from tlsbench.crypto import get_provider
from tlsbench.crypto.base import AeadCipher, Provider
from tlsbench.errors import TlsError

from .constants import CipherSuite

TICKET_LIFETIME = 7200
"""Seconds a ticket or cached session is good for (two hours, OpenSSL's default)."""
KEY_ROTATION = 3600
"""Seconds one ticket key seals new tickets; the one before it still opens them."""


@dataclass(frozen=True)
class Session:
    """What a client keeps to resume (RFC 8446 §4.6.1; RFC 5246 §7.4.1.2; RFC 5077)."""

    version: int
    """0x0304 or 0x0303."""
    cipher_suite: CipherSuite
    secret: bytes
    """TLS 1.3: the PSK of §4.6.1; TLS 1.2: the master secret."""
    received: float
    """time.time() when the ticket (or the session) arrived."""
    lifetime: int
    """Seconds the server said it keeps the session."""
    ticket: bytes = b""
    """TLS 1.3 PSK identity, or the RFC 5077 ticket; empty for a session ID alone."""
    session_id: bytes = b""
    """TLS 1.2 session ID (also sent beside an RFC 5077 ticket)."""
    age_add: int = 0
    """TLS 1.3 obfuscated_ticket_age addend."""
    extended_master_secret: bool = False
    """TLS 1.2: the session's master secret is RFC 7627's (§5.3 rules apply)."""
    server_name: str | None = None
    alpn_protocol: bytes | None = None

    def obfuscated_age(self, now: float | None = None) -> int:
        """§4.2.11.1: milliseconds since the ticket arrived, plus age_add, mod 2^32."""
        age_ms = int(((time.time() if now is None else now) - self.received) * 1000)
        return (max(age_ms, 0) + self.age_add) & 0xFFFFFFFF

    def expired(self, now: float | None = None) -> bool:
        """True once the lifetime has passed."""
        return (time.time() if now is None else now) - self.received >= self.lifetime


@dataclass(frozen=True)
class ServerSession:
    """The server's side of a session, sealed into a ticket or cached by session ID."""

    version: int
    cipher_suite: int
    secret: bytes
    """TLS 1.3 PSK, or TLS 1.2 master secret."""
    issued: float
    age_add: int = 0
    extended_master_secret: bool = False
    server_name: str = ""
    alpn_protocol: bytes = b""

    def encode(self) -> bytes:
        """A private, versioned encoding (only this server reads it back)."""
        name = self.server_name.encode()
        head = struct.pack(
            "!BHHdIB", 1, self.version, self.cipher_suite, self.issued, self.age_add,
            int(self.extended_master_secret),
        )  # fmt: skip
        parts = (self.secret, name, self.alpn_protocol)
        return head + b"".join(struct.pack("!H", len(p)) + p for p in parts)

    @classmethod
    def decode(cls, data: bytes) -> ServerSession | None:
        """The session, or None for anything malformed."""
        size = struct.calcsize("!BHHdIB")
        if len(data) < size:
            return None
        form, version, suite, issued, age_add, ems = struct.unpack("!BHHdIB", data[:size])
        if form != 1:
            return None
        parts: list[bytes] = []
        at = size
        for _ in range(3):
            if at + 2 > len(data):
                return None
            (n,) = struct.unpack("!H", data[at : at + 2])
            parts.append(data[at + 2 : at + 2 + n])
            at += 2 + n
        if at != len(data) or not parts[0]:
            return None
        try:
            name = parts[1].decode()
        except UnicodeDecodeError:
            return None
        return cls(version, suite, parts[0], issued, age_add, bool(ems), name, parts[2])

    def expired(self, lifetime: int, now: float | None = None) -> bool:
        """True once ``lifetime`` seconds have passed since it was issued (or issued ahead)."""
        age = (time.time() if now is None else now) - self.issued
        return age >= lifetime or age < -60


def resumption_psk(
    crypto: Provider, suite: CipherSuite, resumption_master_secret: bytes, nonce: bytes
) -> bytes:
    """§4.6.1: the PSK a ticket stands for, from the provider."""
    return crypto.tls13_resumption_psk(int(suite), resumption_master_secret, nonce)


def resumption_binder(
    crypto: Provider, suite: CipherSuite, psk: bytes, transcript_hash: bytes
) -> bytes:
    """§4.2.11.2: the resumption binder over ``transcript_hash``, from the provider."""
    return crypto.KeySchedule(int(suite), psk=psk).binder(transcript_hash)


class TicketKeys:
    """The server's ticket keys: 32-byte AES-256-GCM keys, rotated every ``rotation`` s.

    A ticket is key id (4) || nonce (12) || AEAD(session, aad = key id), sealed and
    opened through the connection's provider. The current key seals; it and the one
    before it open. A ticket no key opens, or one past its lifetime, is ``None``: the
    caller does a full handshake.
    """

    def __init__(
        self,
        rotation: float = KEY_ROTATION,
        lifetime: int = TICKET_LIFETIME,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.rotation = rotation
        self.lifetime = lifetime
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: OrderedDict[int, bytes] = OrderedDict()
        self._ciphers: dict[tuple[str, int], AeadCipher] = {}
        self._epoch: int | None = None

    def now(self) -> float:
        """The clock tickets are issued and aged by."""
        return self._clock()

    def _rotate(self) -> int:
        """Make a new key when a rotation period begins; the current key's id."""
        epoch = int(self._clock() // self.rotation)
        with self._lock:
            if epoch != self._epoch:
                self._epoch = epoch
                self._keys[int.from_bytes(os.urandom(4), "big")] = os.urandom(32)
                while len(self._keys) > 2:
                    old, _ = self._keys.popitem(last=False)
                    for name_id in [k for k in self._ciphers if k[1] == old]:
                        del self._ciphers[name_id]
            return next(reversed(self._keys))

    def _cipher(self, provider: str, key_id: int) -> AeadCipher | None:
        with self._lock:
            key = self._keys.get(key_id)
            if key is None:
                return None
            cipher = self._ciphers.get((provider, key_id))
            if cipher is None:
                cipher = get_provider(provider).AeadCipher("AES-256-GCM", key)
                self._ciphers[(provider, key_id)] = cipher
            return cipher

    def seal(self, session: ServerSession, provider: str = "cryptography") -> bytes:
        """An opaque ticket for ``session``."""
        key_id = self._rotate()
        cipher = self._cipher(provider, key_id)
        assert cipher is not None
        head = key_id.to_bytes(4, "big")
        nonce = os.urandom(12)
        return head + nonce + cipher.encrypt(nonce, session.encode(), head)

    def open(self, ticket: bytes, provider: str = "cryptography") -> ServerSession | None:
        """The session inside ``ticket``, or None (unknown key, forged, expired, malformed)."""
        self._rotate()  # so that a key past its two periods stops opening on time
        if len(ticket) < 4 + 12 + 16:
            return None
        cipher = self._cipher(provider, int.from_bytes(ticket[:4], "big"))
        if cipher is None:
            return None
        try:
            plain = cipher.decrypt(ticket[4:16], ticket[16:], ticket[:4])
        except TlsError:
            return None
        session = ServerSession.decode(plain)
        if session is None or session.expired(self.lifetime, self._clock()):
            return None
        return session


class SessionCache:
    """TLS 1.2 sessions by session ID: bounded, least recently used dropped first."""

    def __init__(self, size: int = 20000, lifetime: int = TICKET_LIFETIME) -> None:
        self.size = size
        self.lifetime = lifetime
        self._lock = threading.Lock()
        self._sessions: OrderedDict[bytes, ServerSession] = OrderedDict()

    def put(self, session_id: bytes, session: ServerSession) -> None:
        """Remember ``session`` under ``session_id``."""
        with self._lock:
            self._sessions[session_id] = session
            self._sessions.move_to_end(session_id)
            while len(self._sessions) > self.size:
                self._sessions.popitem(last=False)

    def get(self, session_id: bytes, now: float | None = None) -> ServerSession | None:
        """The live session for ``session_id``, or None."""
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                return None
            if session.expired(self.lifetime, now):
                del self._sessions[session_id]
                return None
            self._sessions.move_to_end(session_id)
            return session

    def __len__(self) -> int:
        return len(self._sessions)
