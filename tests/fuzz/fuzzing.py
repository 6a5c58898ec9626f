"""Settings and strategies of the fuzz tests: bounded profiles, corpus seeds and mutations."""

from __future__ import annotations

import os

from fuzz_targets import corpus
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

settings.register_profile(
    "fuzz-ci",
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
    # CI feeds the same examples every run (repeatable); elsewhere every run explores anew.
    derandomize=bool(os.environ.get("CI")),
)
settings.register_profile("fuzz-long", settings.get_profile("fuzz-ci"), max_examples=15000)
PROFILE = settings.get_profile(os.environ.get("TLSBENCH_FUZZ_PROFILE", "fuzz-ci"))
"""Applied to every fuzz test with ``@settings(PROFILE)``; scale with ``examples``."""


def examples(factor: float) -> settings:
    """PROFILE with ``factor`` times its examples (cheap targets get more)."""
    return settings(PROFILE, max_examples=max(1, int(PROFILE.max_examples * factor)))


# A mutation: (operation, position, value); positions wrap around the data's length.
_OPS = st.tuples(st.integers(0, 6), st.integers(0, 1 << 20), st.integers(0, 0xFFFF))


def mutate(data: bytes, ops: list[tuple[int, int, int]]) -> bytes:
    """Apply byte-level mutations: flip, truncate, insert, delete, set u8/u16, repeat."""
    out = bytearray(data)
    for op, pos, value in ops:
        at = pos % (len(out) + 1)
        if op == 0 and out:
            out[at % len(out)] ^= value & 0xFF or 1
        elif op == 1:
            del out[at:]
        elif op == 2:
            out[at:at] = value.to_bytes(2, "big")[: 1 + value % 2]
        elif op == 3:
            del out[at : at + 1 + value % 64]
        elif op == 4 and len(out) >= 2:  # a length or type field set to an edge value
            at = min(at, len(out) - 2)
            out[at : at + 2] = (0, 1, 0xFF, 0x100, 0xFFFF, value)[value % 6].to_bytes(2, "big")
        elif op == 5 and out:
            out[at % len(out)] = value & 0xFF
        elif op == 6:
            out[at:at] = out[at : at + 1 + value % 300]
    return bytes(out)


def seeds_or_bytes(target: str, max_size: int = 2048) -> st.SearchStrategy[bytes]:
    """Arbitrary bytes, or a corpus seed of ``target`` with a few mutations."""
    seeds = corpus(target)
    arbitrary = st.binary(max_size=max_size)
    if not seeds:
        return arbitrary
    mutated = st.builds(mutate, st.sampled_from(seeds), st.lists(_OPS, max_size=4))
    return st.one_of(arbitrary, mutated)
