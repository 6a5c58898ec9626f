"""Fixtures of the TLS 1.2 tests; the peer helpers are shared with tests/tls (tls_peers)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tls"))

from tlsbench.tls.certs import CERT_KINDS, CredentialFiles, write_credentials


@pytest.fixture(scope="session")
def credentials(tmp_path_factory: pytest.TempPathFactory) -> dict[str, CredentialFiles]:
    """A CA and a localhost/127.0.0.1 leaf for each kind (rsa2048, ecdsa-p256)."""
    directory = tmp_path_factory.mktemp("certs12")
    return {kind: write_credentials(directory, kind) for kind in CERT_KINDS}
