"""Providers of key derivation and record protection: ``rust``, ``python``, ``cryptography``.

>>> from tlsbench.crypto import get_provider
>>> p = get_provider("rust")
>>> p.RecordCipher("1.3", "TLS_AES_128_GCM_SHA256", bytes(16), bytes(12)).sequence
0
"""

from __future__ import annotations

from tlsbench.crypto.base import Provider

PROVIDERS = ("rust", "python", "cryptography")


def get_provider(name: str) -> Provider:
    """The provider called ``name``; ValueError for an unknown name."""
    if name == "rust":
        from tlsbench.crypto import rust

        return rust
    if name == "python":
        from tlsbench.crypto import python

        return python.Provider()
    if name == "cryptography":
        from tlsbench.crypto import pyca

        return pyca.Provider()
    raise ValueError(f"unknown provider {name!r} (choose from {', '.join(PROVIDERS)})")


__all__ = ["PROVIDERS", "Provider", "get_provider"]
