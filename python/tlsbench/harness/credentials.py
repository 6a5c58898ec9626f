"""Credential files for the harness: a CA, a server leaf and a client leaf under it.

``tlsbench certs``, ``run`` and ``trace`` write these; the client certificate is issued
by the same CA as the server's (its extended key usage has clientAuth), so one CA file
verifies either side.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from tlsbench.tls.certs import CertKind, Credentials, make_ca, make_leaf

CLIENT_NAME = "tlsbench-client"
"""The client certificate's subject CN (and its one SAN DNS name)."""


@dataclass(frozen=True)
class HarnessFiles:
    """PEM files: the CA, the server chain and key, the client chain and key."""

    ca_file: Path
    cert_file: Path
    key_file: Path
    client_cert_file: Path
    client_key_file: Path


def _write(cred: Credentials, cert_file: Path, key_file: Path) -> None:
    cert_file.write_bytes(cred.certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        cred.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def write_harness_credentials(
    directory: Path | str, kind: CertKind, prefix: str = ""
) -> HarnessFiles:
    """Make a CA, a server leaf (localhost, 127.0.0.1) and a client leaf of ``kind``, all
    as PEM files named ``{prefix}{kind}-ca.pem``, ``-cert.pem``, ``-key.pem``,
    ``-client-cert.pem``, ``-client-key.pem`` in ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    ca = make_ca(kind)
    server = make_leaf(ca, kind)
    client = make_leaf(ca, kind, names=(CLIENT_NAME,))
    stem = f"{prefix}{kind}"
    files = HarnessFiles(
        directory / f"{stem}-ca.pem",
        directory / f"{stem}-cert.pem",
        directory / f"{stem}-key.pem",
        directory / f"{stem}-client-cert.pem",
        directory / f"{stem}-client-key.pem",
    )
    files.ca_file.write_bytes(ca.certificate.public_bytes(serialization.Encoding.PEM))
    _write(server, files.cert_file, files.key_file)
    _write(client, files.client_cert_file, files.client_key_file)
    return files
