"""Whole connections fed arbitrary and mutated byte streams: never an exception to the
caller, always one ConnectionClosed with a real alert (never internal_error), no hang.

Besides the recorded OpenSSL streams (fuzz/corpus), each example can run a live
handshake between our client and server and mutate one side's flight before the other
reads it, so that mutations reach the states after ServerHello with valid keys.
"""

from __future__ import annotations

import pytest
from fuzz_targets import (
    TARGETS,
    client_config,
    corpus,
    feed,
    fuzz_client,
    fuzz_server,
    records,
    server_config,
    split,
)
from fuzzing import examples, mutate, seeds_or_bytes
from hypothesis import given
from hypothesis import strategies as st

from tlsbench.tls import ClientConnection, ConnectionClosed, HandshakeComplete, ServerConnection
from tlsbench.tls.constants import TLS12, TLS13

PROVIDERS = ("cryptography", "rust")


@pytest.mark.parametrize("provider", PROVIDERS)
@given(data=seeds_or_bytes("server", max_size=1024))
@examples(1)
def test_server_stream(provider: str, data: bytes) -> None:
    fuzz_server(data, provider)


@pytest.mark.parametrize("provider", PROVIDERS)
@given(data=seeds_or_bytes("client", max_size=1024))
@examples(1)
def test_client_stream(provider: str, data: bytes) -> None:
    fuzz_client(data, provider)


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_corpus_replays(target: str) -> None:
    """Every seed through its target, as atheris starts with them."""
    seeds = corpus(target)
    assert seeds, f"fuzz/corpus/{target} is empty: run fuzz/make_corpus.py"
    for data in seeds:
        TARGETS[target](data)


# Record-level mutations: drop, duplicate or swap records, or mutate bytes inside one.
_RECORD_OPS = st.lists(
    st.tuples(st.integers(0, 3), st.integers(0, 63), st.integers(0, 63), st.binary(max_size=3)),
    max_size=3,
)


def mutate_records(stream: bytes, ops: list[tuple[int, int, int, bytes]], byte_ops: list) -> bytes:  # type: ignore[type-arg]
    """``stream`` with its records dropped, duplicated, swapped or mutated."""
    recs = records(stream)
    for op, i, j, _ in ops:
        if not recs:
            break
        i, j = i % len(recs), j % len(recs)
        if op == 0:
            del recs[i]
        elif op == 1:
            recs.insert(j, recs[i])
        elif op == 2:
            recs[i], recs[j] = recs[j], recs[i]
        else:
            recs[i] = mutate(recs[i], byte_ops)
    return b"".join(recs)


_VERSIONS = st.sampled_from([(TLS13,), (TLS12,), (TLS13, TLS12)])
_BYTE_OPS = st.lists(
    st.tuples(st.integers(0, 6), st.integers(0, 1 << 20), st.integers(0, 0xFFFF)), max_size=2
)


def _pair(
    provider: str, versions: tuple[int, ...], kind: str
) -> tuple[ClientConnection, ServerConnection]:
    client = ClientConnection(client_config(provider, versions))
    server = ServerConnection(server_config(kind, provider))  # type: ignore[arg-type]
    return client, server


@given(
    versions=_VERSIONS,
    kind=st.sampled_from(["ecdsa-p256", "rsa2048"]),
    ops=_RECORD_OPS,
    byte_ops=_BYTE_OPS,
    seed=st.integers(0, 3),
)
@examples(0.5)
def test_client_reads_a_mutated_server_flight(
    versions: tuple[int, ...],
    kind: str,
    ops: list,
    byte_ops: list,
    seed: int,  # type: ignore[type-arg]
) -> None:
    client, server = _pair("cryptography", versions, kind)
    server.receive_data(client.data_to_send())
    flight = mutate_records(server.data_to_send(), ops, byte_ops)
    events = feed(client, split(flight, seed))
    if not ops and client.version == TLS13:  # a TLS 1.2 client still waits for Finished
        assert isinstance(events[0], HandshakeComplete), events


@given(
    versions=_VERSIONS,
    kind=st.sampled_from(["ecdsa-p256", "rsa2048"]),
    ops=_RECORD_OPS,
    byte_ops=_BYTE_OPS,
    seed=st.integers(0, 3),
)
@examples(0.5)
def test_server_reads_a_mutated_client_flight(
    versions: tuple[int, ...],
    kind: str,
    ops: list,
    byte_ops: list,
    seed: int,  # type: ignore[type-arg]
) -> None:
    client, server = _pair("cryptography", versions, kind)
    server.receive_data(client.data_to_send())
    client.receive_data(server.data_to_send())
    flight = mutate_records(client.data_to_send(), ops, byte_ops)
    events = feed(server, split(flight, seed))
    if not ops:
        assert isinstance(events[0], HandshakeComplete), events
    assert isinstance(events[-1], ConnectionClosed)
