"""The TLS client, one module per layer.

``config`` (what it offers) and ``base`` (the ClientHello and the hooks) below;
``tls13`` and ``tls12`` hold each version's states; ``connection`` on top picks the
version. No module imports one above it.
"""

from __future__ import annotations

from .config import DEFAULT_SIGNATURE_SCHEMES, ClientConfig
from .connection import ClientConnection, ExpectServerHello

__all__ = ["DEFAULT_SIGNATURE_SCHEMES", "ClientConfig", "ClientConnection", "ExpectServerHello"]
