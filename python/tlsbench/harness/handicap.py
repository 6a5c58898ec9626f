"""A test-only switch that makes a build slower on purpose: ``TLSBENCH_TEST_HANDICAP``.

``TLSBENCH_TEST_HANDICAP=N`` makes every measured client connection of our harness
do N extra iterations of a small loop after its handshake (on the client's account).
It exists so that the CI gates can be shown to catch a real regression; it is read
once per process and costs one comparison when unset.
"""

from __future__ import annotations

import os

_ITERATIONS = int(os.environ.get("TLSBENCH_TEST_HANDICAP", "0") or 0)


def iterations() -> int:
    """The extra loop iterations per handshake this process adds (0: none)."""
    return _ITERATIONS


def handicap() -> int:
    """Do the extra work, if any; returns a value so the loop cannot be optimised away."""
    acc = 0
    for i in range(_ITERATIONS):
        acc ^= i * 2654435761
    return acc
