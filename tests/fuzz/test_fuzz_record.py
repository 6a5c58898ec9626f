"""Record framing, handshake reassembly and the core's open/open_many on any bytes."""

from __future__ import annotations

import pytest
from fuzz_targets import RECORD_SUITES, corpus, fuzz_core_open, fuzz_record, record_keys
from fuzzing import examples, seeds_or_bytes
from hypothesis import given

from tlsbench.crypto import PROVIDERS, get_provider


@pytest.mark.parametrize("provider", PROVIDERS)
@given(data=seeds_or_bytes("record"))
@examples(1)
def test_record_layer(provider: str, data: bytes) -> None:
    fuzz_record(data, provider)


@given(seeds_or_bytes("core_open"))
@examples(2)
def test_core_open_matches_python(data: bytes) -> None:
    fuzz_core_open(data)


def test_sealed_seeds_open() -> None:
    """The sealed corpus records are valid, so the targets reach past authentication."""
    seeds = corpus("core_open")
    assert seeds
    for data in seeds:
        version, suite = RECORD_SUITES[(data[0] & 3) - 1]
        cipher = get_provider("rust").RecordCipher(
            version, int(suite), *record_keys(version, suite)
        )
        content_type, _ = cipher.open(data[1:])
        assert content_type in (22, 23)
        fuzz_core_open(data)
        fuzz_record(data)
