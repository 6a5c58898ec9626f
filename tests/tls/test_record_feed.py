"""Feeding the record layer: a received ``bytes`` is read in place, a record cut between
feeds is put back together, and other buffers are copied.

Every provider, TLS 1.3 and TLS 1.2: however a stream of records is cut into feeds (at
every byte offset, byte by byte, in random pieces; bytes, bytearray or memoryview), what
comes out is what reading it whole gives, and a bad record still ends in its alert.
"""

from __future__ import annotations

import os
import random

import pytest
from record_pairs import DATA, HANDSHAKE, PROVIDERS, Keys
from record_pairs import keyed_pair as pair

from tlsbench.errors import TlsError
from tlsbench.tls.alerts import ProtocolError
from tlsbench.tls.constants import TLS12, TLS13, AlertDescription
from tlsbench.tls.record import RecordLayer

Layers = tuple[RecordLayer, RecordLayer, Keys]


def fresh(layers: Layers) -> RecordLayer:
    reader = RecordLayer(layers[1]._provider)
    reader.set_read_key(*layers[2])
    return reader


def drain(reader: RecordLayer, batch: bool) -> list[tuple[int, bytes]]:
    out = []
    while records := reader.read_records(batch=batch):
        out += [(t, p) for t, p, _ in records]
    return out


def joined(records: list[tuple[int, bytes]]) -> list[tuple[int, bytes]]:
    """Consecutive application data as one record, as a batch gives it."""
    out: list[tuple[int, bytes]] = []
    for content_type, payload in records:
        if content_type == DATA and out and out[-1][0] == DATA:
            out[-1] = (DATA, out[-1][1] + payload)
        elif content_type != DATA or payload:
            out.append((content_type, payload))
    return out


def read_in_pieces(reader: RecordLayer, wire: bytes, cuts: list[int], batch: bool, kind=bytes):
    out = []
    for start, end in zip([0, *cuts], [*cuts, len(wire)], strict=True):
        reader.feed(kind(wire[start:end]))
        out += drain(reader, batch)
    return joined(out)


@pytest.fixture(params=[(p, v) for p in PROVIDERS for v in (TLS13, TLS12)], ids=str)
def layers(request: pytest.FixtureRequest) -> Layers:
    return pair(*request.param)


def small_stream(writer: RecordLayer) -> bytes:
    """Short records of both kinds, so that every byte offset can be tried."""
    writer.write(DATA, b"a")
    writer.write(DATA, os.urandom(90))
    writer.write(HANDSHAKE, b"\x04\x00\x00\x02hi")
    writer.write(DATA, os.urandom(40))
    return writer.take_output()


@pytest.mark.parametrize("batch", [True, False], ids=["batch", "one-by-one"])
def test_a_stream_cut_at_every_offset(layers: Layers, batch: bool) -> None:
    writer, reader, _ = layers
    wire = small_stream(writer)
    whole = read_in_pieces(reader, wire, [], batch)
    assert [t for t, _ in whole] == [DATA, HANDSHAKE, DATA]
    for cut in range(len(wire) + 1):
        assert read_in_pieces(fresh(layers), wire, [cut], batch) == whole, cut


def test_every_two_cuts_and_byte_by_byte(layers: Layers) -> None:
    writer, _, _ = layers
    wire = small_stream(writer)
    whole = read_in_pieces(fresh(layers), wire, [], True)
    # Two cuts inside one record, or in neighbouring records (a record completed by a
    # feed that itself ends in a cut record).
    for first in range(0, len(wire), 7):
        for second in range(first, len(wire), 11):
            assert read_in_pieces(fresh(layers), wire, [first, second], True) == whole
    assert read_in_pieces(fresh(layers), wire, list(range(1, len(wire))), True) == whole


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_big_records_in_random_pieces(layers: Layers, kind: type) -> None:
    writer, _, _ = layers
    data = os.urandom(70_000)  # five records, the last one short
    writer.write(DATA, data)
    writer.write(HANDSHAKE, b"\x04\x00\x00\x00")
    writer.write(DATA, b"end")
    wire = writer.take_output()
    want = [(DATA, data), (HANDSHAKE, b"\x04\x00\x00\x00"), (DATA, b"end")]
    rng = random.Random(13)
    for _ in range(6):
        cuts = sorted(rng.sample(range(1, len(wire)), rng.randint(1, 8)))
        assert read_in_pieces(fresh(layers), wire, cuts, True, kind) == want, cuts


def test_one_record_per_feed(layers: Layers) -> None:
    writer, reader, _ = layers
    records = []
    for size in (1, 16384, 300):
        writer.write(DATA, os.urandom(size))
        records.append(writer.take_output())
    for record in records:
        reader.feed(record)
        [(content_type, payload, protected)] = reader.read_records(batch=True)
        assert content_type == DATA and protected and payload
        assert reader.read_records(batch=True) == []


def test_a_trailing_partial_record_waits(layers: Layers) -> None:
    writer, reader, _ = layers
    writer.write(DATA, b"x" * 20_000)  # a full record and a short one
    wire = writer.take_output()
    reader.feed(wire[:-10])
    assert joined(drain(reader, True)) == [(DATA, b"x" * 16384)]
    assert reader.read_records(batch=True) == []
    reader.feed(wire[-10:])
    assert joined(drain(reader, True)) == [(DATA, b"x" * (20_000 - 16384))]


def test_a_reused_buffer_is_copied(layers: Layers) -> None:
    """A bytearray or memoryview may be overwritten once feed returns."""
    writer, reader, _ = layers
    writer.write(DATA, b"y" * 20_000)
    wire = writer.take_output()
    buf = bytearray(wire[:-100])
    reader.feed(buf)
    buf[:] = bytes(len(buf))
    reader.feed(memoryview(bytearray(wire[-100:])))
    assert joined(drain(reader, True)) == [(DATA, b"y" * 20_000)]


def test_bytes_are_read_in_place(layers: Layers) -> None:
    """Whole records fed as bytes are not copied into the layer's own buffer."""
    writer, reader, _ = layers
    writer.write(DATA, b"z" * 40_000)
    wire = writer.take_output()
    reader.feed(wire)
    assert reader._buf is wire
    assert joined(drain(reader, True)) == [(DATA, b"z" * 40_000)]


def test_reading_stopped_early_then_more_fed(layers: Layers) -> None:
    writer, reader, _ = layers
    for size in (100, 200, 300, 400):
        writer.write(DATA, b"q" * size)
    wire = writer.take_output()
    cut = len(wire) // 2 + 3
    reader.feed(wire[:cut])
    [first] = reader.read_records()  # one record only; more are whole
    reader.feed(wire[cut:])
    rest = drain(reader, False)
    assert joined([(first[0], first[1]), *rest]) == [(DATA, b"q" * 1000)]
    assert [len(p) for _, p in rest] == [200, 300, 400]


def test_the_tracer_sees_the_next_record(layers: Layers) -> None:
    """harness/trace.py reads the coming records' lengths from ``unread()``."""
    writer, reader, _ = layers
    writer.write(DATA, b"a" * 10)
    first = writer.take_output()
    writer.write(DATA, b"b" * 20)
    wire = first + writer.take_output()
    reader.feed(wire[:5])
    reader.feed(wire[5:])
    assert reader.unread() == first  # up to where the second feed is read in place
    reader.read_records()
    assert reader.unread() == wire[len(first) :]


@pytest.mark.parametrize("where", ["completed", "in place"])
def test_a_bad_record_after_a_cut_fails(layers: Layers, where: str) -> None:
    """A forged record, either the one completed across feeds or one read in place after
    it: the good records before it come out, then bad_record_mac."""
    writer, reader, _ = layers
    for size in (500, 600, 700):
        writer.write(DATA, os.urandom(size))
    wire = bytearray(writer.take_output())
    first = 5 + (wire[3] << 8 | wire[4])
    second = first + 5 + (wire[first + 3] << 8 | wire[first + 4])
    wire[(first + 20) if where == "completed" else (second + 20)] ^= 1
    cut = first + 10  # the second record is completed by the second feed
    reader.feed(bytes(wire[:cut]))
    assert len(drain(reader, True)) == 1
    reader.feed(bytes(wire[cut:]))
    with pytest.raises(TlsError) as failed:
        drain(reader, True)
    assert failed.value.alert == AlertDescription.BAD_RECORD_MAC


def test_a_bad_header_cut_in_two_fails(layers: Layers) -> None:
    writer, reader, _ = layers
    writer.write(DATA, b"ok")
    good = writer.take_output()
    bad = b"\x63\x03\x03\x00\x10" + bytes(16)  # content type 99
    reader.feed(good + bad[:2])
    assert drain(reader, True) == [(DATA, b"ok")]
    reader.feed(bad[2:] + good)
    with pytest.raises(ProtocolError) as failed:
        drain(reader, True)
    assert failed.value.alert == AlertDescription.UNEXPECTED_MESSAGE


def test_an_overlong_length_cut_in_two_fails(layers: Layers) -> None:
    """A header promising more than a record may hold, cut before its length: the
    framing waits for nothing, the header check refuses it."""
    _, reader, _ = layers
    header = b"\x17\x03\x03\xff\xff"
    reader.feed(header[:3])
    assert reader.read_records(batch=True) == []
    reader.feed(header[3:] + os.urandom(70_000))
    with pytest.raises(ProtocolError) as failed:
        reader.read_records(batch=True)
    assert failed.value.alert == AlertDescription.RECORD_OVERFLOW
