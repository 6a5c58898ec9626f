"""Key agreement vectors on every provider's KeyAgreement: Wycheproof x25519 and
secp256r1 (ECDH over uncompressed points), RFC 7748 §6.1, RFC 8448 §3's shares;
and keys of different providers agree with each other."""

from __future__ import annotations

import pytest

from tlsbench.crypto import Provider, get_provider
from vectorlib import h, load

X25519, SECP256R1, SECP384R1 = 0x001D, 0x0017, 0x0018


def test_wycheproof_x25519(provider: Provider) -> None:
    data = load("wycheproof/x25519_test.json")
    n = refused = 0
    for g in data["testGroups"]:
        for t in g["tests"]:
            key = provider.KeyAgreement(X25519, h(t["private"]))
            shared = h(t["shared"])
            if not any(shared):
                # RFC 8446 §7.4.2: an all-zero secret (a low-order public key) is refused.
                with pytest.raises(ValueError, match="all-zero"):
                    key.exchange(h(t["public"]))
                refused += 1
            else:
                # "acceptable" cases (twist points, non-canonical u) must still agree:
                # RFC 7748 §5 masks the top bit and TLS accepts any 32-byte u.
                assert key.exchange(h(t["public"])) == shared, t["tcId"]
            n += 1
    assert (n, refused) == (518, 31)


def test_wycheproof_secp256r1_ecpoint(provider: Provider) -> None:
    data = load("wycheproof/ecdh_secp256r1_ecpoint_test.json")
    n = 0
    for g in data["testGroups"]:
        for t in g["tests"]:
            scalar = int(t["private"], 16).to_bytes(32, "big")
            key = provider.KeyAgreement(SECP256R1, scalar)
            public = h(t["public"])
            if t["result"] == "valid":
                assert key.exchange(public) == h(t["shared"]), t["tcId"]
            else:
                # Invalid: off the curve, a wrong curve, bad encoding. The one "acceptable"
                # case is a compressed point, which RFC 8446 §4.2.8.2 does not allow.
                with pytest.raises(ValueError):
                    key.exchange(public)
            n += 1
    assert n == 355


def test_rfc7748_and_rfc8448(provider: Provider) -> None:
    alice = provider.KeyAgreement(
        X25519, h("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
    )
    bob = provider.KeyAgreement(
        X25519, h("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
    )
    assert alice.public == h("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
    assert bob.public == h("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
    shared = h("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742")
    assert alice.exchange(bob.public) == bob.exchange(alice.public) == shared

    rfc8448 = load("rfc8448/rfc8448_s3_simple_1rtt.json")
    keys = {k["owner"]: k for k in rfc8448["ephemeral_keys"]}
    client = provider.KeyAgreement(X25519, h(keys["client"]["private_key"]))
    server = provider.KeyAgreement(X25519, h(keys["server"]["private_key"]))
    assert client.public == h(keys["client"]["public_key"])
    assert server.public == h(keys["server"]["public_key"])
    expected = h(rfc8448["key_schedule_inputs"]["ecdhe_shared_secret"])
    assert client.exchange(server.public) == server.exchange(client.public) == expected


@pytest.mark.parametrize("group", [X25519, SECP256R1, SECP384R1])
def test_providers_agree_with_each_other(group: int) -> None:
    names = ("rust", "python", "cryptography")
    keys = [get_provider(name).KeyAgreement(group) for name in names for _ in range(2)]
    for a in keys:
        assert a.group == group
        size = {X25519: 32, SECP256R1: 65, SECP384R1: 97}[group]
        assert len(a.public) == size
        for b in keys:
            if a is not b:
                assert a.exchange(b.public) == b.exchange(a.public)
    assert len({k.public for k in keys}) == len(keys)  # fresh keys each time


def test_bad_arguments(provider: Provider) -> None:
    with pytest.raises(ValueError, match="unsupported group"):
        provider.KeyAgreement(0x0019)
    with pytest.raises(ValueError, match="wrong length"):
        provider.KeyAgreement(X25519, bytes(31))
    with pytest.raises(ValueError, match="scalar"):
        provider.KeyAgreement(SECP256R1, bytes(32))  # zero is not a private key
    p256 = provider.KeyAgreement(SECP256R1)
    point = bytearray(provider.KeyAgreement(SECP256R1).public)
    point[0] = 2
    with pytest.raises(ValueError, match="uncompressed"):
        p256.exchange(bytes(point))
    point[0] = 4
    point[-1] ^= 1
    with pytest.raises(ValueError, match="curve"):
        p256.exchange(memoryview(point))
    with pytest.raises(ValueError, match="uncompressed"):
        p256.exchange(provider.KeyAgreement(SECP384R1).public)  # another curve's length
