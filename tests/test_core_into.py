"""The *_into record calls write into caller buffers and give exactly what seal/seal_many/
open/open_many give, on every provider; bad buffers fail before the sequence moves."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tlsbench.crypto import PROVIDERS, Provider, get_provider
from tlsbench.crypto.base import RecordCipher
from tlsbench.crypto.suites import SUITES, Suite
from tlsbench.errors import BadRecordMac, TruncatedRecord

settings.register_profile(
    "tlsbench-into", max_examples=25, deadline=None, derandomize=bool(os.environ.get("CI"))
)
settings.load_profile("tlsbench-into")

ALL = [get_provider(n) for n in PROVIDERS]
suites = st.sampled_from(SUITES)
keys = st.binary(min_size=32, max_size=32)
ivs = st.binary(min_size=12, max_size=12)
# 0, 1, one full record, one past it, several records.
sizes = st.sampled_from([0, 1, 16384, 16385, 40000]) | st.integers(0, 3000)


def pair(suite: Suite, key: bytes, iv: bytes, p: Provider) -> tuple[RecordCipher, RecordCipher]:
    args = (suite.version, suite.code, key[: suite.key_len], iv[: suite.iv_len])
    return p.RecordCipher(*args), p.RecordCipher(*args)


@given(suites, keys, ivs, sizes, st.integers(1, 16384), st.integers(0, 7))
def test_seal_many_into_equals_seal_many(
    suite: Suite, key: bytes, iv: bytes, n: int, frag: int, at: int
) -> None:
    data = os.urandom(n)
    for p in ALL:
        a, _ = pair(suite, key, iv, p)
        b, rx = pair(suite, key, iv, p)
        want = a.seal_many(23, data, max_fragment=frag)
        assert b.sealed_size(n, frag) == len(want)
        buf = bytearray(at + len(want) + 3)
        wrote = b.seal_many_into(23, data, memoryview(buf)[at:], max_fragment=frag)
        assert wrote == len(want) and bytes(buf[at : at + wrote]) == want
        assert a.sequence == b.sequence
        plain = bytearray(n + 1)
        opened = rx.open_many_into(buf[at : at + wrote], plain)
        assert [(t, ln) for t, _, ln in opened] == [
            (t, len(d)) for t, d in a_open(suite, key, iv, p, want)
        ]
        assert bytes(plain[:n]) == data
        assert [o for _, o, _ in opened] == sorted(o for _, o, _ in opened)


def a_open(
    suite: Suite, key: bytes, iv: bytes, p: Provider, recs: bytes
) -> list[tuple[int, bytes]]:
    return pair(suite, key, iv, p)[1].open_many(recs)


@given(suites, keys, ivs, st.sampled_from([0, 1, 100, 16383, 16384]), st.integers(0, 30))
def test_seal_into_open_into_equal_seal_open(
    suite: Suite, key: bytes, iv: bytes, n: int, pad: int
) -> None:
    data = os.urandom(n)
    if suite.version == 0x0303:
        pad = 0
    pad = min(pad, 16384 - n)
    for p in ALL:
        a, ra = pair(suite, key, iv, p)
        b, rb = pair(suite, key, iv, p)
        want = a.seal(22, data, padding=pad)
        buf = bytearray(len(want))
        assert n + pad + b.overhead == len(want)
        assert b.seal_into(22, data, buf, padding=pad) == len(want)
        assert bytes(buf) == want
        plain = bytearray(len(want))
        t, ln = rb.open_into(want, memoryview(plain)[1:])
        assert (t, bytes(plain[1 : 1 + ln])) == ra.open(want) == (22, data)
        assert ra.sequence == rb.sequence == 1


@pytest.mark.parametrize("name", PROVIDERS)
@pytest.mark.parametrize("suite", SUITES, ids=lambda s: s.name)
def test_bad_buffers_leave_the_sequence(name: str, suite: Suite) -> None:
    tx, rx = pair(suite, bytes(32), bytes(12), get_provider(name))
    rec = tx.seal_many(23, b"x" * 20000)
    with pytest.raises(ValueError, match="needed"):
        tx.seal_many_into(23, b"x" * 20000, bytearray(len(rec) - 1))
    with pytest.raises(ValueError, match="needed"):
        tx.seal_into(23, b"abc", bytearray(3))
    with pytest.raises(TypeError):
        tx.seal_into(23, b"abc", bytes(100))
    with pytest.raises(ValueError, match="needed"):
        rx.open_many_into(rec, bytearray(100))
    with pytest.raises(ValueError, match="needed"):
        rx.open_into(rec[: 5 + int.from_bytes(rec[3:5], "big")], bytearray(10))
    with pytest.raises(TypeError):
        rx.open_many_into(rec, b"\0" * 30000)
    assert tx.sequence == 2 and rx.sequence == 0
    bad = bytearray(rec)
    bad[10] ^= 1
    first = bytes(bad[: 5 + int.from_bytes(bad[3:5], "big")])
    with pytest.raises(BadRecordMac):
        rx.open_into(first, bytearray(20000))
    with pytest.raises(BadRecordMac):
        rx.open_many_into(bytes(bad), bytearray(30000))
    assert rx.sequence == 0
    out = bytearray(30000)
    assert [(t, ln) for t, _, ln in rx.open_many_into(rec, out)] == [(23, 16384), (23, 3616)]
    assert bytes(out[:20000]) == b"x" * 20000


@pytest.mark.parametrize("p", ALL, ids=PROVIDERS)
def test_in_place_calls_read_their_input_first(p: Provider) -> None:
    # The same bytearray as input and output: the result is what a separate one gives.
    suite = next(s for s in SUITES if s.name == "TLS_AES_128_GCM_SHA256")
    a, rx = pair(suite, bytes(32), bytes(12), p)
    b, _ = pair(suite, bytes(32), bytes(12), p)
    data = os.urandom(40000)
    want = a.seal_many(23, data)
    buf = bytearray(data) + bytearray(len(want) - len(data))
    view = memoryview(buf)
    assert b.seal_many_into(23, view[: len(data)], buf) == len(want)
    assert bytes(buf) == want
    opened = rx.open_many_into(view, buf)
    assert bytes(buf[: len(data)]) == data and sum(n for _, _, n in opened) == len(data)
    one = bytearray(a.seal(22, b"in place"))
    assert rx.open_into(one, one) == (22, 8) and bytes(one[:8]) == b"in place"


# A run of records as (content type, length, padding): data, handshake, alerts, empty data.
runs = st.lists(
    st.tuples(st.sampled_from([21, 22, 23]), st.integers(0, 3000), st.integers(0, 40))
    | st.tuples(st.just(23), st.sampled_from([16384, 16383, 1]), st.just(0)),
    min_size=1,
    max_size=6,
)


@given(suites, keys, ivs, runs)
def test_open_many_packed_equals_open_many(
    suite: Suite, key: bytes, iv: bytes, run: list[tuple[int, int, int]]
) -> None:
    # Whatever the types, lengths and TLS 1.3 padding (which the core's first guess at the
    # size leaves out), the bytes are the plaintexts of open_many, joined, and no longer.
    tls13 = suite.version == 0x0304
    for p in ALL:
        tx, ra = pair(suite, key, iv, p)
        _, rb = pair(suite, key, iv, p)
        records = []
        for t, n, pad in run:
            n = n if t == 23 or n else 1  # only application data may be empty
            records.append(tx.seal(t, os.urandom(n), padding=pad if tls13 else 0))
        wire = b"".join(records)
        want = ra.open_many(wire)
        packed, spans = rb.open_many_packed(memoryview(wire))
        assert type(packed) is bytes and packed == b"".join(d for _, d in want)
        assert [(t, packed[o : o + n]) for t, o, n in spans] == want
        assert [o for _, o, _ in spans] == [
            sum(len(d) for _, d in want[:i]) for i in range(len(want))
        ]
        assert ra.sequence == rb.sequence == len(run)


@pytest.mark.parametrize("name", PROVIDERS)
@pytest.mark.parametrize("suite", SUITES, ids=lambda s: s.name)
def test_open_many_packed_refuses_a_bad_record(name: str, suite: Suite) -> None:
    tx, rx = pair(suite, bytes(32), bytes(12), get_provider(name))
    wire = bytearray(tx.seal_many(23, b"x" * 40000))
    wire[-1] ^= 1  # the last record's tag
    with pytest.raises(BadRecordMac):
        rx.open_many_packed(wire)
    assert rx.sequence == 2  # the two records before it were opened, as open_many counts them
    with pytest.raises(TruncatedRecord):  # a record cut short
        rx.open_many_packed(bytes(wire[:100]))


@pytest.mark.parametrize("name", PROVIDERS)
@pytest.mark.parametrize("suite", SUITES, ids=lambda s: s.name)
def test_a_record_shorter_than_its_overhead_is_truncated(name: str, suite: Suite) -> None:
    # Found by the core_open fuzz target: the core sized open_many_packed's output by
    # subtracting the type byte from a record too short to have one (SystemError).
    tx, _ = pair(suite, bytes(32), bytes(12), get_provider(name))
    good = tx.seal(23, b"ok")
    for short in (b"\x17\x03\x03\x00\x05" + bytes(5), b"\x17\x03\x03\x00\x00"):
        for wire in (short, short + short, good + short):
            _, rx = pair(suite, bytes(32), bytes(12), get_provider(name))
            with pytest.raises(TruncatedRecord):
                rx.open_many_packed(wire)
            _, rx = pair(suite, bytes(32), bytes(12), get_provider(name))
            with pytest.raises(TruncatedRecord):
                rx.open_many_into(wire, bytearray(100))
