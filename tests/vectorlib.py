"""Loading the published test vectors kept in ``tests/vectors`` (see its README)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

VECTORS = Path(__file__).resolve().parent / "vectors"


def vectors_dir() -> Path:
    """``tests/vectors`` (or TLSBENCH_VECTORS, to try other copies); fails loudly when missing."""
    env = os.environ.get("TLSBENCH_VECTORS")
    d = Path(env) if env else VECTORS
    if not (d / "README.md").is_file():
        pytest.fail(f"test vectors not found at {d} (expected a README.md there)")
    return d


def load(relpath: str) -> Any:
    """One vector file, parsed."""
    with open(vectors_dir() / relpath) as f:
        return json.load(f)


def h(s: str | None) -> bytes:
    """Hex to bytes; None is empty."""
    return bytes.fromhex(s or "")


def hash_name(s: str) -> str:
    """'SHA-256' / 'SHA2-256' -> 'sha256'."""
    return s.lower().replace("sha2-", "sha").replace("-", "")
