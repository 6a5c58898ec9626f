"""KDF vectors: Wycheproof HKDF/HMAC, RFC 5869, TLS 1.2 PRF and EMS, Illustrated TLS 1.2."""

from __future__ import annotations

import pytest

from tlsbench.crypto import Provider
from vectorlib import h, hash_name, load


@pytest.mark.parametrize("hash", ["sha256", "sha384"])
def test_wycheproof_hkdf(provider: Provider, hash: str) -> None:
    data = load(f"wycheproof/hkdf_{hash}_test.json")
    n = 0
    for g in data["testGroups"]:
        for t in g["tests"]:
            prk = provider.hkdf_extract(hash, h(t["salt"]), h(t["ikm"]))
            if t["result"] == "invalid":
                # The only invalid cases ask for more than 255 * HashLen bytes.
                assert t["size"] > 255 * len(prk)
                with pytest.raises(ValueError):
                    provider.hkdf_expand(hash, prk, h(t["info"]), t["size"])
            else:
                assert provider.hkdf_expand(hash, prk, h(t["info"]), t["size"]) == h(t["okm"])
            n += 1
    assert n > 80


@pytest.mark.parametrize("hash", ["sha256", "sha384"])
def test_wycheproof_hmac(provider: Provider, hash: str) -> None:
    data = load(f"wycheproof/hmac_{hash}_test.json")
    n = 0
    for g in data["testGroups"]:
        size = g["tagSize"] // 8
        for t in g["tests"]:
            tag = provider.hmac(hash, h(t["key"]), h(t["msg"]))[:size]
            assert (tag == h(t["tag"])) == (t["result"] == "valid"), t["tcId"]
            n += 1
    assert n == 174


def test_rfc5869(provider: Provider) -> None:
    tests = load("rfc5869/rfc5869_hkdf_sha256.json")["tests"]
    assert len(tests) == 3
    for t in tests:
        prk = provider.hkdf_extract("sha256", h(t["salt"]), h(t["ikm"]))
        assert prk == h(t["prk"])
        assert provider.hkdf_expand("sha256", prk, h(t["info"]), int(t["length"])) == h(t["okm"])


def test_tls12_prf_ietf(provider: Provider) -> None:
    tests = [
        t
        for t in load("tls12_prf/tls12_prf_ietf.json")["tests"]
        if hash_name(t["hash"]) in ("sha256", "sha384")
    ]
    assert len(tests) == 2
    for t in tests:
        out = provider.tls12_prf(
            hash_name(t["hash"]),
            h(t["secret"]),
            h(t["label"]),
            h(t["seed"]),
            int(t["output_length"]),
        )
        assert out == h(t["output"])


def test_tls12_ems_acvp(provider: Provider) -> None:
    tests = load("tls12_prf/tls12_ems_acvp_rfc7627_subset.json")["tests"]
    assert len(tests) == 6
    for t in tests:
        hash = hash_name(t["hash"])
        ms = provider.tls12_extended_master_secret(
            hash, h(t["pre_master_secret"]), h(t["session_hash"])
        )
        assert ms == h(t["master_secret"])
        kb = provider.tls12_prf(
            hash,
            ms,
            b"key expansion",
            h(t["server_random"]) + h(t["client_random"]),
            int(t["key_block_length"]),
        )
        assert kb == h(t["key_block"])


def test_tls12_ems_openssl(provider: Provider) -> None:
    tests = load("tls12_prf/tls12_ems_openssl_generated.json")["tests"]
    assert len(tests) == 2
    for t in tests:
        hash = hash_name(t["hash"])
        pms, cr, sr = h(t["pre_master_secret"]), h(t["client_random"]), h(t["server_random"])
        ems = provider.tls12_extended_master_secret(hash, pms, h(t["session_hash"]))
        assert ems == h(t["extended_master_secret"])
        assert provider.tls12_master_secret(hash, pms, cr, sr) == h(t["master_secret_without_ems"])
        kb = t["key_block_from_extended_master_secret"]
        assert provider.tls12_prf(hash, ems, b"key expansion", sr + cr, int(kb["length"])) == h(
            kb["value"]
        )
        assert provider.tls12_verify_data(hash, ems, b"client finished", h(t["session_hash"])) == h(
            t["client_finished_verify_data_over_session_hash"]
        )


def test_illustrated_tls12(provider: Provider) -> None:
    d = load("illustrated_tls/illustrated_tls12_ecdhe_rsa_aes128cbc_sha.json")
    cr, sr = h(d["client_random"]), h(d["server_random"])
    ms = provider.tls12_master_secret("sha256", h(d["pre_master_secret"]), cr, sr)
    assert ms == h(d["master_secret"])
    kb = h(d["key_block"])
    assert provider.tls12_prf("sha256", ms, b"key expansion", sr + cr, len(kb)) == kb
    f = d["finished"]
    assert provider.tls12_verify_data(
        "sha256", ms, b"client finished", h(f["handshake_hash_for_client_finished"])
    ) == h(f["client_verify_data"])
    assert provider.tls12_verify_data(
        "sha256", ms, b"server finished", h(f["handshake_hash_for_server_finished"])
    ) == h(f["server_verify_data"])
