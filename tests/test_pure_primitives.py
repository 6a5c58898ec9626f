"""The pure-Python AEADs and their primitives against published test vectors.

Vectors come from ``tests/vectors`` (``$TLSBENCH_VECTORS`` overrides); when that
folder is missing every vector test fails (it does not skip).
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM as PycaAESGCM

from tlsbench.crypto.pure import AESGCM, ChaCha20Poly1305
from tlsbench.crypto.pure.aes import _SLICE_TABLES_FROM, AES
from tlsbench.crypto.pure.chacha20 import ChaCha20, chacha20_block
from tlsbench.crypto.pure.gcm import first_table, ghash, ghash_one_table, ghash_tables
from tlsbench.crypto.pure.poly1305 import poly1305_mac
from tlsbench.errors import BadRecordMac
from vectorlib import VECTORS


def vectors_dir() -> Path:
    """TLSBENCH_VECTORS if set, else ``tests/vectors``."""
    env = os.environ.get("TLSBENCH_VECTORS")
    return Path(env) if env else VECTORS


def _missing_message() -> str:
    return (
        f"test vectors not found: {vectors_dir()} is not a directory; "
        "the vectors belong in tests/vectors"
    )


def _load(relpath: str) -> Any:
    with open(vectors_dir() / relpath) as f:
        return json.load(f)


def _cases(relpath: str, group_ok: Any = None) -> list[Any]:
    """pytest params, one per test case; a single failing param if the folder is missing."""
    if not vectors_dir().is_dir():
        return [pytest.param(None, id="vectors-missing")]
    data = _load(relpath)
    if "testGroups" not in data:  # the folder's own JSON format
        return [pytest.param(t, id=f"tc{t['tcId']}") for t in data["tests"]]
    out = []
    for g in data["testGroups"]:
        if group_ok is None or group_ok(g):
            for t in g["tests"]:
                out.append(pytest.param(t, id=f"k{g['keySize']}-tc{t['tcId']}"))
    return out


def _need(case: Any) -> dict[str, Any]:
    if case is None:
        pytest.fail(_missing_message())
    assert isinstance(case, dict)
    return case


def h(s: str) -> bytes:
    return bytes.fromhex(s)


def test_vectors_present() -> None:
    if not vectors_dir().is_dir():
        pytest.fail(_missing_message())


# --- AES block function: FIPS-197 Appendix B and C.1-C.3 -------------------

PT_C = "00112233445566778899aabbccddeeff"


@pytest.mark.parametrize(
    ("key", "plaintext", "ciphertext"),
    [
        ("2b7e151628aed2a6abf7158809cf4f3c", "3243f6a8885a308d313198a2e0370734",
         "3925841d02dc09fbdc118597196a0b32"),  # Appendix B
        ("000102030405060708090a0b0c0d0e0f", PT_C,
         "69c4e0d86a7b0430d8cdb78070b4c55a"),  # C.1 AES-128
        ("000102030405060708090a0b0c0d0e0f1011121314151617", PT_C,
         "dda97ca4864cdfe06eaf70a0ec0d7191"),  # C.2 AES-192
        ("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", PT_C,
         "8ea2b7ca516745bfeafc49904b496089"),  # C.3 AES-256
    ],
    ids=["B", "C.1", "C.2", "C.3"],
)  # fmt: skip
def test_aes_fips197(key: str, plaintext: str, ciphertext: str) -> None:
    assert AES(h(key)).encrypt_block(h(plaintext)).hex() == ciphertext


@pytest.mark.parametrize("key_len", [16, 24, 32])
@pytest.mark.parametrize("nblocks", [1, 2, 5, 6, 7, 8, 9, 33, 300])
@pytest.mark.parametrize("warm", [False, True], ids=["fresh key", "sliced tables built"])
def test_aes_keystream_matches_block_function(key_len: int, nblocks: int, warm: bool) -> None:
    """Both keystream paths (T-table and byte-sliced) equal E(nonce || ctr), on a fresh
    key (short keystreams stay on the T-tables) and once a long one built the tables."""
    aes = AES(bytes(range(7, 7 + key_len)))
    nonce = bytes(range(100, 112))
    if warm:
        aes.keystream(nonce, 0, _SLICE_TABLES_FROM)
    for counter in (1, 0xFFFFFFFF - 3):  # the second one wraps mod 2^32
        expected = b"".join(
            aes.encrypt_block(nonce + ((counter + i) & 0xFFFFFFFF).to_bytes(4, "big"))
            for i in range(nblocks)
        )
        assert aes.keystream(nonce, counter, nblocks) == expected
    assert aes._sliced == (warm or nblocks >= _SLICE_TABLES_FROM)  # which path ran


def test_ghash_one_table_equals_sixteen() -> None:
    """GHASH with table 0 alone (a fresh key) equals the 16-table form, any state."""
    rng = random.Random(7)
    for _ in range(40):
        h = rng.getrandbits(128)
        y = rng.getrandbits(128)
        data = rng.randbytes(16 * rng.randint(0, 9))
        assert ghash_one_table(first_table(h), y, data) == ghash(ghash_tables(h), y, data)


def test_aesgcm_same_on_both_sides_of_the_table_switch() -> None:
    """One key's records before and after it builds all 16 GHASH tables match pyca."""
    key = bytes(range(16))
    ours, theirs = AESGCM(key), PycaAESGCM(key)
    for i, n in enumerate([5, 600, 17, 3000, 0, 40, 700, 1]):
        nonce = i.to_bytes(12, "big")
        data = bytes((3 * j + i) & 255 for j in range(n))
        sealed = ours.encrypt(nonce, data, b"aad")
        assert sealed == theirs.encrypt(nonce, data, b"aad"), n
        assert ours.decrypt(nonce, sealed, b"aad") == data
        if i == 1:
            assert ours._tables is None
    assert ours._tables is not None


@pytest.mark.parametrize("key_len", [16, 24, 32])
def test_aes_random_keys_match_pyca(key_len: int) -> None:
    """The round-table block function and each key schedule (AES-128 has its own, a round
    key at a time) against pyca's AES-ECB, random keys and blocks."""
    rng = random.Random(key_len)
    for _ in range(50):
        key, block = rng.randbytes(key_len), rng.randbytes(16)
        expected = Cipher(algorithms.AES(key), modes.ECB()).encryptor().update(block)
        aes = AES(key)
        assert aes.encrypt_block(block) == expected
        assert aes.encrypt_int(int.from_bytes(block, "big")) == int.from_bytes(expected, "big")


def test_aesgcm_keystream_as_int_or_bytes_matches_pyca() -> None:
    """GCM takes keystreams of up to 64 blocks as one int and longer ones as bytes; lengths
    on both sides of that switch and of the AES paths' thresholds match pyca."""
    for n in [0, 1, 16, 17, 80, 81, 127, 128, 129, 1008, 1009, 1023, 1024, 1025, 1040]:
        key = bytes((n + i) & 255 for i in range(16))
        data = bytes((5 * j + n) & 255 for j in range(n))
        ours, theirs = AESGCM(key), PycaAESGCM(key)
        nonce = n.to_bytes(12, "big")
        sealed = theirs.encrypt(nonce, data, b"hdr")
        assert ours.encrypt(nonce, data, b"hdr") == sealed, n
        assert ours.decrypt(nonce, sealed, b"hdr") == data, n


def test_aes_bad_key() -> None:
    with pytest.raises(ValueError):
        AES(bytes(15))


# --- ChaCha20 and Poly1305: RFC 8439 §2.3.2, §2.4.2, §2.5.2 ----------------

RFC_KEY = bytes(range(32))
SUNSCREEN = (
    b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for "
    b"the future, sunscreen would be it."
)


def test_chacha20_block_rfc8439_2_3_2() -> None:
    block = chacha20_block(RFC_KEY, 1, h("000000090000004a00000000"))
    assert block.hex() == (
        "10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e"
        "d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e"
    )


def test_chacha20_encrypt_rfc8439_2_4_2() -> None:
    ct = ChaCha20(RFC_KEY).encrypt(h("000000000000004a00000000"), 1, SUNSCREEN)
    assert ct.hex() == (
        "6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0b"
        "f91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d8"
        "07ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab7793736"
        "5af90bbf74a35be6b40b8eedf2785e42874d"
    )


@pytest.mark.parametrize("nblocks", [1, 2, 3, 17, 47, 48, 49, 300])
def test_chacha20_keystream_matches_block_function(nblocks: int) -> None:
    """Both many-blocks-at-once paths (rows, lanes) equal the plain block function."""
    c = ChaCha20(bytes(range(50, 82)))
    nonce = bytes(range(12))
    for counter in (0, 0xFFFFFFFF - 1):  # the second one wraps mod 2^32
        expected = b"".join(c.block((counter + i) & 0xFFFFFFFF, nonce) for i in range(nblocks))
        assert c.keystream(nonce, counter, nblocks) == expected


def test_poly1305_rfc8439_2_5_2() -> None:
    key = h("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b")
    tag = poly1305_mac(key, b"Cryptographic Forum Research Group")
    assert tag.hex() == "a8061dc1305136c6c22b8baf0c0127a9"


# --- AEADs: RFC 8439, NIST CAVP, Wycheproof --------------------------------


@pytest.mark.parametrize("case", _cases("rfc8439/rfc8439_chacha20_poly1305_aead.json"))
def test_chacha20poly1305_rfc8439(case: Any) -> None:
    t = _need(case)
    key, nonce, aad = h(t["key"]), h(t["nonce"]), h(t["aad"])
    pt, ct, tag = h(t["plaintext"]), h(t["ciphertext"]), h(t["tag"])
    # §2.6: the one-time key is the first half of block 0.
    assert chacha20_block(key, 0, nonce)[:32].hex() == t["poly1305_one_time_key"]
    if "poly1305_mac_data" in t:
        assert poly1305_mac(h(t["poly1305_one_time_key"]), h(t["poly1305_mac_data"])) == tag
    aead = ChaCha20Poly1305(key)
    assert aead.encrypt(nonce, pt, aad) == ct + tag
    assert aead.decrypt(nonce, ct + tag, aad) == pt


def _check_aead(aead: AESGCM | ChaCha20Poly1305, t: dict[str, Any], pt: bytes) -> None:
    nonce, aad = h(t["iv"]), h(t["aad"])
    ct, tag = h(t["ct"]), h(t["tag"])
    assert t["result"] in ("valid", "invalid")
    if t["result"] == "valid":
        assert aead.encrypt(nonce, pt, aad) == ct + tag
        assert aead.decrypt(nonce, ct + tag, aad) == pt
    else:
        with pytest.raises(BadRecordMac):
            aead.decrypt(nonce, ct + tag, aad)


@pytest.mark.parametrize("case", _cases("nist_gcm/nist_gcm_subset.json"))
def test_aesgcm_nist(case: Any) -> None:
    t = _need(case)
    t = {**t, "ct": t["ciphertext"]}  # invalid (decrypt-only) cases have no plaintext
    _check_aead(AESGCM(h(t["key"])), t, h(t.get("plaintext", "")))


@pytest.mark.parametrize(
    "case",
    _cases(
        "wycheproof/aes_gcm_test.json",
        lambda g: g["ivSize"] == 96 and g["tagSize"] == 128 and g["keySize"] in (128, 192, 256),
    ),
)
def test_aesgcm_wycheproof(case: Any) -> None:
    t = _need(case)
    _check_aead(AESGCM(h(t["key"])), t, h(t["msg"]))


@pytest.mark.parametrize(
    "case", _cases("wycheproof/chacha20_poly1305_test.json", lambda g: g["ivSize"] == 96)
)
def test_chacha20poly1305_wycheproof(case: Any) -> None:
    t = _need(case)
    _check_aead(ChaCha20Poly1305(h(t["key"])), t, h(t["msg"]))


# --- API edges ---------------------------------------------------------------


@pytest.mark.parametrize(("cls", "key_len"), [(AESGCM, 16), (AESGCM, 32), (ChaCha20Poly1305, 32)])
def test_aead_api_edges(cls: type[AESGCM | ChaCha20Poly1305], key_len: int) -> None:
    aead = cls(bytes(range(key_len)))
    nonce = bytes(12)
    for bad_nonce in (bytes(8), bytes(11), bytes(13), bytes(16)):
        with pytest.raises(ValueError):
            aead.encrypt(bad_nonce, b"data", b"")
        with pytest.raises(ValueError):
            aead.decrypt(bad_nonce, bytes(32), b"")
    sealed = aead.encrypt(nonce, b"hello", b"hdr")
    assert len(sealed) == 5 + 16
    assert aead.decrypt(nonce, sealed, b"hdr") == b"hello"
    assert aead.encrypt(nonce, b"hello", None) == aead.encrypt(nonce, b"hello", b"")
    for bad in (sealed[:-1] + bytes([sealed[-1] ^ 1]), sealed[:15], b""):
        with pytest.raises(BadRecordMac) as info:
            aead.decrypt(nonce, bad, b"hdr")
        assert info.value.args == ()  # no detail, on purpose
    with pytest.raises(BadRecordMac):
        aead.decrypt(nonce, sealed, b"other")
    with pytest.raises(ValueError):
        cls(bytes(key_len + 1))


@pytest.mark.parametrize(
    "n", [0, 1, 15, 16, 17, 63, 64, 65, 95, 96, 255, 256, 257, 3007, 3008, 4000, 16384, 16640]
)
def test_aead_roundtrip_lengths(n: int) -> None:
    """Every length crosses the small/large code-path thresholds both ways."""
    data = bytes((7 * i) & 255 for i in range(n))
    aad = bytes(range(n % 40))
    nonce = bytes(range(12))
    for aead in (AESGCM(bytes(16)), AESGCM(bytes(24)), ChaCha20Poly1305(bytes(32))):
        sealed = aead.encrypt(nonce, data, aad)
        assert len(sealed) == n + 16
        assert aead.decrypt(nonce, sealed, aad) == data
