"""Checks shared by the Python-side AEAD wrappers."""

from __future__ import annotations

from tlsbench.crypto.base import Buffer
from tlsbench.crypto.suites import AEAD_KEY_LEN


def check_aead(algorithm: str, key: Buffer) -> str:
    """Normalise an AEAD name and check the key length; ValueError otherwise."""
    name = algorithm.upper()
    if name not in AEAD_KEY_LEN:
        raise ValueError(
            f"unknown AEAD {algorithm!r} (AES-128-GCM, AES-256-GCM, CHACHA20-POLY1305)"
        )
    if len(key) != AEAD_KEY_LEN[name]:
        raise ValueError(f"{algorithm} needs a {AEAD_KEY_LEN[name]}-byte key")
    return name


def check_nonce(nonce: Buffer) -> None:
    if len(nonce) != 12:
        raise ValueError("the nonce must be 12 bytes")
