"""AEAD vectors (Wycheproof, NIST CAVP, RFC 8439) through every provider's AeadCipher."""

from __future__ import annotations

import pytest

from tlsbench.crypto import Provider
from tlsbench.errors import BadRecordMac
from vectorlib import h, load

AES_NAMES = {128: "AES-128-GCM", 256: "AES-256-GCM"}


def wycheproof_cases(path: str, name_of_group: object) -> list[tuple[str, dict[str, str]]]:
    cases = []
    for g in load(path)["testGroups"]:
        name = name_of_group(g)  # type: ignore[operator]
        if name is None:
            continue
        cases += [(name, t) for t in g["tests"]]
    return cases


def aes_group(g: dict[str, int]) -> str | None:
    # TLS uses 96-bit IVs and 128-bit tags; AES-192 has no TLS suite.
    if g["ivSize"] != 96 or g["tagSize"] != 128:
        return None
    return AES_NAMES.get(g["keySize"])


def chacha_group(g: dict[str, int]) -> str | None:
    return "CHACHA20-POLY1305" if g["ivSize"] == 96 and g["tagSize"] == 128 else None


def check(
    provider: Provider,
    name: str,
    key: bytes,
    nonce: bytes,
    aad: bytes,
    msg: bytes,
    sealed: bytes,
    valid: bool,
) -> None:
    aead = provider.AeadCipher(name, key)
    if valid:
        assert aead.encrypt(nonce, msg, aad) == sealed
        assert aead.decrypt(nonce, sealed, aad) == msg
    else:
        with pytest.raises(BadRecordMac):
            aead.decrypt(nonce, sealed, aad)


def test_wycheproof_aes_gcm(provider: Provider) -> None:
    cases = wycheproof_cases("wycheproof/aes_gcm_test.json", aes_group)
    assert len(cases) == 133  # 96-bit IV, 128-bit tag, AES-128/256
    for name, t in cases:
        check(
            provider,
            name,
            h(t["key"]),
            h(t["iv"]),
            h(t["aad"]),
            h(t["msg"]),
            h(t["ct"]) + h(t["tag"]),
            t["result"] != "invalid",
        )


def test_wycheproof_chacha20_poly1305(provider: Provider) -> None:
    cases = wycheproof_cases("wycheproof/chacha20_poly1305_test.json", chacha_group)
    assert len(cases) > 250
    for name, t in cases:
        check(
            provider,
            name,
            h(t["key"]),
            h(t["iv"]),
            h(t["aad"]),
            h(t["msg"]),
            h(t["ct"]) + h(t["tag"]),
            t["result"] != "invalid",
        )


def test_nist_gcm(provider: Provider) -> None:
    tests = load("nist_gcm/nist_gcm_subset.json")["tests"]
    assert len(tests) == 58
    for t in tests:
        name = AES_NAMES[int(t["keylen_bits"])]
        check(
            provider,
            name,
            h(t["key"]),
            h(t["iv"]),
            h(t["aad"]),
            h(t.get("plaintext")),
            h(t["ciphertext"]) + h(t["tag"]),
            t["result"] == "valid",
        )


def test_rfc8439(provider: Provider) -> None:
    tests = load("rfc8439/rfc8439_chacha20_poly1305_aead.json")["tests"]
    assert len(tests) == 2
    for t in tests:
        check(
            provider,
            "CHACHA20-POLY1305",
            h(t["key"]),
            h(t["nonce"]),
            h(t["aad"]),
            h(t["plaintext"]),
            h(t["ciphertext"]) + h(t["tag"]),
            t["result"] == "valid",
        )


def test_bad_arguments(provider: Provider) -> None:
    with pytest.raises(ValueError):
        provider.AeadCipher("AES-128-GCM", bytes(32))
    with pytest.raises(ValueError):
        provider.AeadCipher("AES-128-CBC", bytes(16))
    aead = provider.AeadCipher("AES-128-GCM", bytes(16))
    with pytest.raises(ValueError):
        aead.encrypt(bytes(8), b"x", b"")
    with pytest.raises(BadRecordMac):
        aead.decrypt(bytes(12), bytes(15), b"")
