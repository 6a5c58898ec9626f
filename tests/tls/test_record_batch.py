"""The record layer's batch path: records opened in one call into a reused buffer.

Every provider, TLS 1.3 and TLS 1.2: what comes out of a batch is what opening the
records one by one gives (in order, types kept apart, consecutive data joined), and
a bad header or a bad record after good ones still ends in its alert.
"""

from __future__ import annotations

import os
import socket
import threading

import pytest
from record_pairs import DATA, HANDSHAKE, PROVIDERS, keyed_pair

from tlsbench.tls import ClientConfig, ServerConfig
from tlsbench.tls.alerts import ProtocolError
from tlsbench.tls.certs import CredentialFiles
from tlsbench.tls.constants import TLS12, TLS13, AlertDescription
from tlsbench.tls.driver import accept, connect
from tlsbench.tls.record import RecordLayer


def pair(provider: str, version: int) -> tuple[RecordLayer, RecordLayer]:
    """A writer and a reader keyed alike."""
    writer, reader, _ = keyed_pair(provider, version)
    return writer, reader


def read_all(reader: RecordLayer) -> list[tuple[int, bytes, bool]]:
    out = []
    while records := reader.read_records(batch=True):
        out += records
    return out


@pytest.fixture(params=[(p, v) for p in PROVIDERS for v in (TLS13, TLS12)], ids=str)
def layers(request: pytest.FixtureRequest) -> tuple[RecordLayer, RecordLayer]:
    return pair(*request.param)


def test_types_kept_apart_and_data_joined(layers: tuple[RecordLayer, RecordLayer]) -> None:
    writer, reader = layers
    big = os.urandom(40_000)  # three records
    writer.write(DATA, big)
    writer.write(DATA, b"tail")
    writer.write(HANDSHAKE, b"\x04\x00\x00\x00")
    writer.write(DATA, b"after")
    reader.feed(writer.take_output())
    assert read_all(reader) == [
        (DATA, big + b"tail", True),
        (HANDSHAKE, b"\x04\x00\x00\x00", True),
        (DATA, b"after", True),
    ]


def test_records_split_across_feeds(layers: tuple[RecordLayer, RecordLayer]) -> None:
    writer, reader = layers
    data = os.urandom(50_000)
    writer.write(DATA, data)
    wire = writer.take_output()
    got = b""
    for start in range(0, len(wire), 7_000):  # cuts inside records and inside headers
        reader.feed(wire[start : start + 7_000])
        got += b"".join(payload for _, payload, _ in read_all(reader))
    assert got == data


def test_empty_records_in_a_batch(layers: tuple[RecordLayer, RecordLayer]) -> None:
    writer, reader = layers
    for piece in (b"", b"", b"ab", b"", b"cd"):
        writer._emit(DATA, piece)  # one record each, empty ones included
    reader.feed(writer.take_output())
    assert read_all(reader) == [(DATA, b"abcd", True)]


def test_only_empty_records_then_data(layers: tuple[RecordLayer, RecordLayer]) -> None:
    writer, reader = layers
    for _ in range(3):
        writer._emit(DATA, b"")
    reader.feed(writer.take_output())
    assert read_all(reader) == []
    writer.write(DATA, b"x")
    reader.feed(writer.take_output())
    assert read_all(reader) == [(DATA, b"x", True)]


def test_bad_header_after_good_records(layers: tuple[RecordLayer, RecordLayer]) -> None:
    writer, reader = layers
    writer.write(DATA, os.urandom(20_000))
    good = writer.take_output()
    reader.feed(good + b"\x17\x02\x03\x00\x20" + bytes(32))  # not a TLS record version
    first = reader.read_records(batch=True)
    assert b"".join(p for _, p, _ in first) and len(first) == 1
    with pytest.raises(ProtocolError) as info:
        reader.read_records(batch=True)
    assert info.value.alert == AlertDescription.PROTOCOL_VERSION


def test_bad_record_inside_a_batch(layers: tuple[RecordLayer, RecordLayer]) -> None:
    writer, reader = layers
    writer.write(DATA, b"one")
    writer.write(DATA, b"two")
    writer.write(DATA, b"three")
    wire = bytearray(writer.take_output())
    wire[-1] ^= 1  # the last record's tag
    reader.feed(bytes(wire))
    got = []
    with pytest.raises(Exception) as info:
        while records := reader.read_records(batch=True):
            got += records
    assert [p for _, p, _ in got] == [b"one", b"two"]
    assert getattr(info.value, "alert", None) == AlertDescription.BAD_RECORD_MAC


def test_stream_recv_in_pieces(credentials: dict[str, CredentialFiles]) -> None:
    """TlsStream.recv gives at most max_bytes, in order, across what arrived in chunks."""
    files = credentials["ecdsa-p256"]
    data = os.urandom(100_000)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        config = ServerConfig.from_files(files.cert_file, files.key_file, provider="rust")
        with accept(listener, config) as stream:
            stream.send(data[:60_000])
            stream.send(data[60_000:])
            stream.recv(1)  # the client's "done"

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        config = ClientConfig(server_name="localhost", ca_file=files.ca_file, provider="rust")
        with connect("127.0.0.1", port, config) as stream:
            sizes = [1, 3, 16_000, 7, 50_000]
            got = [stream.recv(n) for n in sizes]
            assert all(0 < len(g) <= n for g, n in zip(got, sizes, strict=True))
            got.append(stream.recv_exactly(len(data) - sum(map(len, got))))
            assert b"".join(got) == data
            stream.send(b"done")
    finally:
        thread.join(10)
        listener.close()
    assert not thread.is_alive()
