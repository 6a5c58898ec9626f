"""Record layers keyed alike, for the record-layer tests (batch and feed)."""

from __future__ import annotations

import os

from tlsbench.crypto import get_provider
from tlsbench.tls.constants import TLS12, TLS13, CipherSuite, ContentType
from tlsbench.tls.record import RecordLayer

PROVIDERS = ["rust", "python", "cryptography"]
SUITES = {
    TLS13: (CipherSuite.TLS_AES_128_GCM_SHA256, 12),
    TLS12: (CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, 4),
}
DATA = ContentType.APPLICATION_DATA
HANDSHAKE = ContentType.HANDSHAKE
Keys = tuple[CipherSuite, bytes, bytes, int]


def keyed_pair(provider: str, version: int) -> tuple[RecordLayer, RecordLayer, Keys]:
    """A writer, a reader keyed alike, and the keys (for more readers)."""
    suite, iv_len = SUITES[version]
    key, iv = os.urandom(16), os.urandom(iv_len)
    writer, reader = RecordLayer(get_provider(provider)), RecordLayer(get_provider(provider))
    writer.set_write_key(suite, key, iv, version)
    reader.set_read_key(suite, key, iv, version)
    return writer, reader, (suite, key, iv, version)
