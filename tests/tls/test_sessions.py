"""Ticket keys and the session cache (tls/sessions.py), through every provider."""

from __future__ import annotations

import pytest

from tlsbench.tls.constants import TLS12, TLS13, CipherSuite
from tlsbench.tls.sessions import (
    KEY_ROTATION,
    TICKET_LIFETIME,
    ServerSession,
    Session,
    SessionCache,
    TicketKeys,
)

PROVIDERS = ["rust", "python", "cryptography"]


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def session(issued: float, secret: bytes = b"s" * 32) -> ServerSession:
    return ServerSession(TLS13, 0x1301, secret, issued, 12345, False, "localhost", b"h2")


def test_server_session_round_trips_and_refuses_garbage() -> None:
    s = ServerSession(TLS12, 0xC02B, b"m" * 48, 5.5, 0, True, "", b"")
    assert ServerSession.decode(s.encode()) == s
    encoded = s.encode()
    assert ServerSession.decode(encoded[:-1]) is None
    assert ServerSession.decode(encoded + b"x") is None
    assert ServerSession.decode(b"\x02" + encoded[1:]) is None
    assert ServerSession.decode(b"") is None


@pytest.mark.parametrize("provider", PROVIDERS)
def test_ticket_opens_with_the_keys_that_sealed_it(provider: str) -> None:
    clock = Clock()
    keys = TicketKeys(clock=clock)
    ticket = keys.seal(session(clock.now), provider)
    assert keys.open(ticket, provider) == session(clock.now)
    # Another provider opens it too: the keys are bytes, the AEAD is the same.
    other = "cryptography" if provider != "cryptography" else "rust"
    assert keys.open(ticket, other) == session(clock.now)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_forged_or_foreign_tickets_do_not_open(provider: str) -> None:
    clock = Clock()
    keys = TicketKeys(clock=clock)
    ticket = keys.seal(session(clock.now), provider)
    for i in (0, 4, 16, len(ticket) - 1):  # key id, nonce, ciphertext, tag
        forged = bytearray(ticket)
        forged[i] ^= 1
        assert keys.open(bytes(forged), provider) is None
    assert TicketKeys(clock=clock).open(ticket, provider) is None  # another server's keys
    assert keys.open(ticket[:31], provider) is None
    assert keys.open(b"", provider) is None


def test_keys_rotate_and_the_previous_key_still_opens() -> None:
    clock = Clock(KEY_ROTATION * 100.0)
    keys = TicketKeys(lifetime=10 * KEY_ROTATION, clock=clock)
    first = keys.seal(session(clock.now))
    clock.now += KEY_ROTATION
    second = keys.seal(session(clock.now))
    assert first[:4] != second[:4]  # a new key id seals
    assert keys.open(first) is not None and keys.open(second) is not None
    clock.now += KEY_ROTATION  # the first key is now two periods old: dropped
    assert keys.open(first) is None
    assert keys.open(second) is not None


def test_expired_tickets_do_not_open() -> None:
    clock = Clock()
    keys = TicketKeys(rotation=10 * TICKET_LIFETIME, clock=clock)
    ticket = keys.seal(session(clock.now))
    clock.now += TICKET_LIFETIME - 1
    assert keys.open(ticket) is not None
    clock.now += 1
    assert keys.open(ticket) is None
    ahead = keys.seal(session(clock.now + 3600))  # issued in the future: refused
    assert keys.open(ahead) is None


def test_session_cache_is_bounded_and_expires() -> None:
    cache = SessionCache(size=2, lifetime=100)
    cache.put(b"a", session(0.0))
    cache.put(b"b", session(0.0))
    assert cache.get(b"a", now=1.0) is not None  # a is now the most recent
    cache.put(b"c", session(0.0))
    assert cache.get(b"b", now=1.0) is None and len(cache) == 2
    assert cache.get(b"a", now=100.0) is None  # expired, and dropped
    assert len(cache) == 1


def test_client_session_age() -> None:
    s = Session(TLS13, CipherSuite.TLS_AES_128_GCM_SHA256, b"p", 100.0, 7200, age_add=0xFFFFFFFF)
    assert s.obfuscated_age(now=100.5) == 499  # 500 ms + (2^32 - 1), mod 2^32
    assert not s.expired(now=7299.0) and s.expired(now=7300.0)
