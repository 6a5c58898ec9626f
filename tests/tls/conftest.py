"""Fixtures of the TLS 1.3 engine tests: certificates per kind, made once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tlsbench.tls.certs import CERT_KINDS, CredentialFiles, write_credentials


@pytest.fixture(scope="session")
def credentials(tmp_path_factory: pytest.TempPathFactory) -> dict[str, CredentialFiles]:
    """A CA and a localhost/127.0.0.1 leaf for each kind (rsa2048, ecdsa-p256)."""
    directory = tmp_path_factory.mktemp("certs")
    return {kind: write_credentials(directory, kind) for kind in CERT_KINDS}


@pytest.fixture(scope="session")
def other_ca(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CA file that issued none of the test certificates."""
    return write_credentials(tmp_path_factory.mktemp("other"), "ecdsa-p256").ca_file
