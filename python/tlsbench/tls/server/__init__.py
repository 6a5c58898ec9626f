"""The TLS server, one module per layer.

``config`` (certificates and preferences) and ``base`` (the hooks) below; ``tls13``
and ``tls12`` hold each version's states; ``connection`` on top picks the version.
No module imports one above it.
"""

from __future__ import annotations

from .config import ServerCertificate, ServerConfig, spoken_versions
from .connection import ExpectClientHello, ServerConnection, select_version

__all__ = [
    "ExpectClientHello",
    "ServerCertificate",
    "ServerConfig",
    "ServerConnection",
    "select_version",
    "spoken_versions",
]
