"""Property tests: the three providers agree byte for byte, and records round-trip
and refuse any flipped bit or truncation."""

from __future__ import annotations

import os
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tlsbench.crypto import PROVIDERS, Provider, get_provider
from tlsbench.crypto.base import RecordCipher
from tlsbench.crypto.suites import SUITES, Suite
from tlsbench.errors import BadRecordMac, TlsError, TruncatedRecord

ALL = [get_provider(n) for n in PROVIDERS]
suites = st.sampled_from(SUITES)
hashes = st.sampled_from(["sha256", "sha384"])
small = st.binary(max_size=64)
# The python provider is pure Python: keep records small enough to stay quick.
payloads = st.binary(max_size=1500)
# CI feeds the same examples every run (repeatable); elsewhere every run explores anew.
settings.register_profile(
    "tlsbench", max_examples=40, deadline=None, derandomize=bool(os.environ.get("CI"))
)
settings.load_profile("tlsbench")


def agree(results: Sequence[object]) -> None:
    assert all(r == results[0] for r in results[1:]), results


@given(hashes, small, small, small, st.integers(0, 200))
def test_prf_agrees(hash: str, secret: bytes, label: bytes, seed: bytes, n: int) -> None:
    agree([p.tls12_prf(hash, secret, label, seed, n) for p in ALL])


@given(hashes, small, small, small, small)
def test_tls12_secrets_agree(hash: str, pms: bytes, cr: bytes, sr: bytes, sh: bytes) -> None:
    agree([p.tls12_master_secret(hash, pms, cr, sr) for p in ALL])
    agree([p.tls12_extended_master_secret(hash, pms, sh) for p in ALL])
    agree([p.tls12_verify_data(hash, pms, b"client finished", sh) for p in ALL])


@given(
    suites.filter(lambda s: s.version == 0x0303),
    st.binary(min_size=48, max_size=48),
    st.binary(min_size=32, max_size=32),
    st.binary(min_size=32, max_size=32),
)
def test_key_block_agrees(suite: Suite, ms: bytes, cr: bytes, sr: bytes) -> None:
    agree([p.tls12_key_block(suite.name, ms, cr, sr) for p in ALL])


@given(hashes, small, small, small, st.integers(0, 300))
def test_hkdf_agrees(hash: str, salt: bytes, ikm: bytes, info: bytes, n: int) -> None:
    agree([p.hkdf_extract(hash, salt, ikm) for p in ALL])
    agree([p.hkdf_expand(hash, ikm, info, n) for p in ALL])
    agree([p.hkdf_expand_label(hash, ikm, info[:200], salt, n) for p in ALL])


@given(suites.filter(lambda s: s.version == 0x0304), small, small, small, st.booleans())
def test_key_schedule_agrees(
    suite: Suite, shared: bytes, th1: bytes, th2: bytes, with_psk: bool
) -> None:
    stages = []
    for p in ALL:
        ks = p.KeySchedule(suite.code, psk=shared if with_psk else None)
        hs = ks.handshake_stage(shared, th1)
        ap = ks.application_stage(th2)
        stages.append(
            [ks.early_secret, ks.exporter_master_secret(th1), ks.resumption_master_secret(th2)]
            + [
                getattr(s, f)
                for s in (hs, ap)
                for f in (
                    "client_secret",
                    "server_secret",
                    "client_key",
                    "client_iv",
                    "server_key",
                    "server_iv",
                    "client_finished_key",
                    "server_finished_key",
                )
            ]
        )
        nxt = p.tls13_next_secret(suite.code, ap.client_secret)
        assert ks.key_update(ap.client_secret) == (nxt, *p.tls13_traffic_keys(suite.code, nxt))
        stages[-1] += [
            nxt,
            ks.key_update(ap.server_secret),
            p.tls13_traffic_keys(suite.code, ap.server_secret),
        ]
    agree(stages)


def ciphers(
    suite: Suite, key: bytes, iv: bytes, seq: int, provider: Provider
) -> tuple[RecordCipher, RecordCipher]:
    args = (suite.version, suite.code, key[: suite.key_len], iv[: suite.iv_len])
    return (provider.RecordCipher(*args, sequence=seq), provider.RecordCipher(*args, sequence=seq))


keys = st.binary(min_size=32, max_size=32)
ivs = st.binary(min_size=12, max_size=12)
seqs = st.integers(0, 2**64 - 3)
types = st.sampled_from([21, 22, 23])


@given(suites, keys, ivs, seqs, types, payloads, st.integers(0, 40))
def test_records_agree_and_round_trip(
    suite: Suite, key: bytes, iv: bytes, seq: int, ctype: int, data: bytes, padding: int
) -> None:
    pad = padding if suite.version == 0x0304 else 0
    sealed = []
    for p in ALL:
        tx, rx = ciphers(suite, key, iv, seq, p)
        rec = tx.seal(ctype, data, padding=pad)
        assert rx.open(rec) == (ctype, data)
        assert tx.sequence == rx.sequence == seq + 1
        sealed.append(rec)
    agree(sealed)


@given(suites, keys, ivs, st.binary(min_size=1, max_size=5000), st.integers(1, 2000))
def test_seal_many_agrees_and_round_trips(
    suite: Suite, key: bytes, iv: bytes, data: bytes, frag: int
) -> None:
    out = []
    for p in ALL:
        tx, rx = ciphers(suite, key, iv, 0, p)
        buf = tx.seal_many(23, data, max_fragment=frag)
        opened = rx.open_many(buf)
        assert b"".join(d for _, d in opened) == data
        assert {t for t, _ in opened} == {23}
        assert len(opened) == -(-len(data) // frag)
        out.append(buf)
    agree(out)


@pytest.mark.parametrize("name", PROVIDERS)
@given(suite=suites, key=keys, iv=ivs, data=payloads, bit=st.integers(0, 10**6))
def test_any_flipped_bit_is_refused(
    name: str, suite: Suite, key: bytes, iv: bytes, data: bytes, bit: int
) -> None:
    tx, rx = ciphers(suite, key, iv, 0, get_provider(name))
    rec = bytearray(tx.seal(23, data))
    bit %= len(rec) * 8
    rec[bit // 8] ^= 1 << (bit % 8)
    # A flip in the length field makes the record too short or too long: also refused.
    with pytest.raises(TlsError):
        rx.open(bytes(rec))


@pytest.mark.parametrize("name", PROVIDERS)
@given(suite=suites, key=keys, iv=ivs, data=payloads, cut=st.integers(1, 2000))
def test_any_truncation_is_refused(
    name: str, suite: Suite, key: bytes, iv: bytes, data: bytes, cut: int
) -> None:
    tx, rx = ciphers(suite, key, iv, 0, get_provider(name))
    rec = tx.seal(23, data)
    short = rec[: len(rec) - min(cut, len(rec))]
    with pytest.raises(TruncatedRecord):
        rx.open(short)
    # A record cut short but with its length field fixed up fails authentication.
    if len(short) >= tx.overhead:
        fixed = short[:3] + (len(short) - 5).to_bytes(2, "big") + short[5:]
        with pytest.raises((BadRecordMac, TruncatedRecord)):
            rx.open(fixed)
