"""The TLS 1.3 resumption stage on every provider: the ticket's PSK (RFC 8446 §4.6.1) and
the PSK binder (§4.2.11.2), against RFC 8448 §3/§4 and a stdlib reference for SHA-256 and
SHA-384 suites."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import pytest

from tlsbench.crypto import PROVIDERS, Provider, get_provider
from vectorlib import h, load


def s4() -> Any:
    return load("rfc8448/rfc8448_s4_resumed_0rtt.json")["resumption"]


# -- a reference written here from RFC 5869 / RFC 8446 §7.1 with hmac and hashlib only --


def _expand(hash: str, prk: bytes, info: bytes, length: int) -> bytes:
    out, t, i = b"", b"", 1
    while len(out) < length:
        t = hmac.digest(prk, t + info + bytes([i]), hash)
        out += t
        i += 1
    return out[:length]


def _expand_label(hash: str, secret: bytes, label: bytes, context: bytes, length: int) -> bytes:
    full = b"tls13 " + label
    info = length.to_bytes(2, "big") + bytes([len(full)]) + full + bytes([len(context)]) + context
    return _expand(hash, secret, info, length)


def ref_binder(hash: str, psk: bytes, transcript_hash: bytes, external: bool) -> bytes:
    n = hashlib.new(hash).digest_size
    early = hmac.digest(bytes(n), psk, hash)
    label = b"ext binder" if external else b"res binder"
    binder_key = _expand_label(hash, early, label, hashlib.new(hash).digest(), n)
    finished_key = _expand_label(hash, binder_key, b"finished", b"", n)
    return hmac.digest(finished_key, transcript_hash, hash)


def ref_resumption_psk(hash: str, rms: bytes, nonce: bytes) -> bytes:
    return _expand_label(hash, rms, b"resumption", nonce, hashlib.new(hash).digest_size)


SUITES_13 = [
    ("TLS_AES_128_GCM_SHA256", "sha256"),
    ("TLS_CHACHA20_POLY1305_SHA256", "sha256"),
    ("TLS_AES_256_GCM_SHA384", "sha384"),
]


# -- RFC 8448 -------------------------------------------------------------------------


def test_rfc8448_section3_resumption_master_secret_to_psk(provider: Provider) -> None:
    s3 = load("rfc8448/rfc8448_s3_simple_1rtt.json")
    rms = h(s3["key_schedule"]["resumption_master_secret"])
    nonce = h(s3["derived_ticket_nonce"])
    v = s4()
    assert nonce == h(v["section_3_ticket_nonce"])
    psk = provider.tls13_resumption_psk("TLS_AES_128_GCM_SHA256", rms, nonce)
    assert psk == h(v["psk"]) == h(s3["key_schedule"]["resumption_psk"])
    # the code point names the suite as well, and any bytes-like argument is read
    assert provider.tls13_resumption_psk(0x1301, bytearray(rms), memoryview(nonce)) == psk


def test_rfc8448_section4_binder(provider: Provider) -> None:
    v = s4()
    prefix = h(v["client_hello_prefix"])
    transcript_hash = hashlib.sha256(prefix).digest()
    assert transcript_hash == h(v["binder_hash"])
    ks = provider.KeySchedule("TLS_AES_128_GCM_SHA256", psk=h(v["psk"]))
    assert ks.early_secret == h(v["early_secret"])
    binder = ks.binder(transcript_hash)
    assert binder == h(v["binder"])
    # the ClientHello as sent ends with the binders list holding exactly this binder
    assert h(v["client_hello"]) == prefix + b"\x00\x21\x20" + binder
    # the intermediate values the RFC prints, recomputed through the provider's primitives
    binder_key = provider.derive_secret(
        "sha256", ks.early_secret, b"res binder", hashlib.sha256().digest()
    )
    assert binder_key == h(v["binder_key"])
    finished_key = provider.hkdf_expand_label("sha256", binder_key, b"finished", b"", 32)
    assert finished_key == h(v["binder_finished_key"])


def test_binder_is_the_same_after_later_stages(provider: Provider) -> None:
    v = s4()
    ks = provider.KeySchedule("TLS_AES_128_GCM_SHA256", psk=h(v["psk"]))
    ks.handshake_stage(bytes(32), bytes(32))
    ks.application_stage(bytes(32))
    assert ks.binder(h(v["binder_hash"])) == h(v["binder"])


# -- stdlib reference, SHA-256 and SHA-384 ------------------------------------------


@pytest.mark.parametrize(("suite", "hash"), SUITES_13)
@pytest.mark.parametrize("external", [False, True])
def test_binder_matches_stdlib_reference(
    provider: Provider, suite: str, hash: str, external: bool
) -> None:
    n = hashlib.new(hash).digest_size
    psk = bytes(range(7, 7 + n))
    # after a HelloRetryRequest the caller hashes message_hash || HRR || truncated CH2
    transcript_hash = hashlib.new(hash, b"truncated ClientHello").digest()
    ks = provider.KeySchedule(suite, psk=psk)
    got = ks.binder(transcript_hash, external=external)
    assert len(got) == n
    assert got == ref_binder(hash, psk, transcript_hash, external)
    assert got != ks.binder(transcript_hash, external=not external)
    assert ks.binder(bytearray(transcript_hash), external) == got


@pytest.mark.parametrize(("suite", "hash"), SUITES_13)
@pytest.mark.parametrize("nonce", [b"", b"\x00\x00", bytes(range(255))])
def test_resumption_psk_matches_stdlib_reference(
    provider: Provider, suite: str, hash: str, nonce: bytes
) -> None:
    rms = hashlib.new(hash, b"resumption master secret").digest()
    got = provider.tls13_resumption_psk(suite, rms, nonce)
    assert got == ref_resumption_psk(hash, rms, nonce)
    assert len(got) == hashlib.new(hash).digest_size


def test_the_early_secret_uses_the_psk(provider: Provider) -> None:
    for suite, hash in SUITES_13:
        n = hashlib.new(hash).digest_size
        psk = b"\x42" * n
        assert provider.KeySchedule(suite, psk=psk).early_secret == hmac.digest(bytes(n), psk, hash)
        assert provider.KeySchedule(suite).early_secret == hmac.digest(bytes(n), bytes(n), hash)


def test_bad_arguments_are_value_errors(provider: Provider) -> None:
    with pytest.raises(ValueError):
        provider.tls13_resumption_psk("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", bytes(32), b"")
    with pytest.raises(ValueError):  # HkdfLabel's context is at most 255 bytes
        provider.tls13_resumption_psk("TLS_AES_128_GCM_SHA256", bytes(32), bytes(256))
    with pytest.raises(ValueError):
        provider.tls13_resumption_psk("TLS_NO_SUCH_SUITE", bytes(32), b"")


def test_providers_agree() -> None:
    out = []
    for name in PROVIDERS:
        p = get_provider(name)
        ks = p.KeySchedule("TLS_AES_256_GCM_SHA384", psk=b"\x01" * 48)
        th = b"\x02" * 48
        out.append(
            (
                ks.binder(th),
                ks.binder(th, external=True),
                p.tls13_resumption_psk("TLS_AES_256_GCM_SHA384", b"\x03" * 48, b"\x04"),
            )
        )
    assert all(o == out[0] for o in out[1:])
