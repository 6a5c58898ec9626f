"""Every handshake-message and extension decoder: a message or a ProtocolError, never more.

Bodies come from arbitrary bytes, and from the messages and extensions of real
handshakes with OpenSSL (fuzz/corpus), mutated.
"""

from __future__ import annotations

import pytest
from fuzz_targets import (
    BY_EXTENSION_TYPE,
    BY_HANDSHAKE_TYPE,
    DECODERS,
    corpus,
    fuzz_decoder,
    fuzz_extensions,
    fuzz_handshake,
)
from fuzzing import examples, mutate, seeds_or_bytes
from hypothesis import given
from hypothesis import strategies as st

from tlsbench.tls.extensions import decode_extensions
from tlsbench.tls.messages import ClientHello, ServerHello


def _bodies() -> dict[str, list[bytes]]:
    """Real bodies for each decoder, taken from the handshake and extension corpora."""
    out: dict[str, list[bytes]] = {name: [] for name in DECODERS}
    for raw in corpus("handshake"):
        for name in BY_HANDSHAKE_TYPE.get(raw[0], ()):
            out[name].append(raw[4 : 4 + int.from_bytes(raw[1:4], "big")])
    for block in corpus("extensions"):
        out["extensions"].append(block)
        for ext_type, body in decode_extensions(block).items():
            for name in BY_EXTENSION_TYPE.get(ext_type, ()):
                out[name].append(body)
    return out


BODIES = _bodies()
_OPS = st.lists(st.tuples(st.integers(0, 6), st.integers(0, 1 << 20), st.integers(0, 0xFFFF)))


def test_the_corpus_has_real_bodies_for_the_main_decoders() -> None:
    for name in (
        "client_hello",
        "server_hello",
        "certificate13",
        "certificate12",
        "server_key_exchange",
        "client_key_exchange_ecdhe",
        "new_session_ticket",
        "key_share_client",
        "supported_versions_client",
        "alpn",
        "server_name",
    ):
        assert BODIES[name], name


@pytest.mark.parametrize("name", sorted(DECODERS))
@given(data=st.data())
@examples(1)
def test_decoder(name: str, data: st.DataObject) -> None:
    seeds = BODIES[name] or [b""]
    choice = data.draw(
        st.one_of(
            st.binary(max_size=600),
            st.builds(mutate, st.sampled_from(seeds), _OPS),
        )
    )
    fuzz_decoder(name, choice)


@pytest.mark.parametrize("name", sorted(DECODERS))
def test_decoder_on_real_bodies(name: str) -> None:
    for body in BODIES[name]:
        fuzz_decoder(name, body)


@given(seeds_or_bytes("handshake"))
@examples(3)
def test_handshake_stream(data: bytes) -> None:
    fuzz_handshake(data)


@given(seeds_or_bytes("extensions"))
@examples(3)
def test_extension_block(data: bytes) -> None:
    fuzz_extensions(data)


def test_real_messages_round_trip() -> None:
    single = [r for r in corpus("handshake") if len(r) == 4 + int.from_bytes(r[1:4], "big")]
    hellos = [raw for raw in single if raw[0] in (1, 2)]
    assert hellos
    for raw in hellos:
        cls = ClientHello if raw[0] == 1 else ServerHello
        assert cls.decode(raw[4:]).encode() == raw
