"""Certificates made by certs.py, and verification of a server chain."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tlsbench.tls.alerts import ProtocolError
from tlsbench.tls.certs import (
    CredentialFiles,
    load_certificate_chain,
    load_private_key,
    verify_server_chain,
)
from tlsbench.tls.constants import AlertDescription


@pytest.mark.parametrize("kind", ["rsa2048", "ecdsa-p256"])
@pytest.mark.parametrize("name", ["localhost", "127.0.0.1"])
def test_verifies_for_its_names(
    credentials: dict[str, CredentialFiles], kind: str, name: str
) -> None:
    files = credentials[kind]
    chain = load_certificate_chain(files.cert_file)
    leaf = verify_server_chain(chain, files.ca_file, name)
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    ours = load_private_key(files.key_file).public_key()
    pem = serialization.Encoding.PEM
    assert leaf.public_key().public_bytes(pem, spki) == ours.public_bytes(pem, spki)
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]


def test_wrong_name_is_bad_certificate(credentials: dict[str, CredentialFiles]) -> None:
    files = credentials["rsa2048"]
    with pytest.raises(ProtocolError) as exc:
        verify_server_chain(load_certificate_chain(files.cert_file), files.ca_file, "example.com")
    assert exc.value.alert == AlertDescription.BAD_CERTIFICATE


def test_other_ca_is_unknown_ca(credentials: dict[str, CredentialFiles], other_ca: Path) -> None:
    files = credentials["rsa2048"]
    with pytest.raises(ProtocolError) as exc:
        verify_server_chain(load_certificate_chain(files.cert_file), other_ca, "localhost")
    assert exc.value.alert == AlertDescription.UNKNOWN_CA


def test_garbage_is_bad_certificate(credentials: dict[str, CredentialFiles]) -> None:
    with pytest.raises(ProtocolError) as exc:
        verify_server_chain([b"\x30\x03\x02\x01\x00"], credentials["rsa2048"].ca_file, "localhost")
    assert exc.value.alert == AlertDescription.BAD_CERTIFICATE


def test_a_rewritten_ca_file_is_read_again(
    credentials: dict[str, CredentialFiles], tmp_path: Path
) -> None:
    """The CA file is cached per version of the file, not for good."""
    rsa_files, ec_files = credentials["rsa2048"], credentials["ecdsa-p256"]
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(rsa_files.ca_file.read_bytes())
    chain = load_certificate_chain(rsa_files.cert_file)
    verify_server_chain(chain, ca_file, "localhost")
    verify_server_chain(chain, ca_file, "localhost")  # from the cache
    ca_file.write_bytes(ec_files.ca_file.read_bytes())  # another CA: the chain is unknown now
    with pytest.raises(ProtocolError) as exc:
        verify_server_chain(chain, ca_file, "localhost")
    assert exc.value.alert == AlertDescription.UNKNOWN_CA
