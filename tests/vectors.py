"""Loading the published test vectors in ``../shared/vectors`` (see its README)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest


def vectors_dir() -> Path:
    """TLSBENCH_VECTORS, else ``<repo>/../shared/vectors``; fails loudly when missing."""
    env = os.environ.get("TLSBENCH_VECTORS")
    d = Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "vectors"
    if not (d / "README.md").is_file():
        pytest.fail(f"test vectors not found at {d}; set TLSBENCH_VECTORS to the vectors folder")
    return d


def load(relpath: str) -> Any:
    with open(vectors_dir() / relpath) as f:
        return json.load(f)


def h(s: str | None) -> bytes:
    return bytes.fromhex(s or "")


def hash_name(s: str) -> str:
    """'SHA-256' / 'SHA2-256' -> 'sha256'."""
    return s.lower().replace("sha2-", "sha").replace("-", "")
