"""Certificates made by certs.py, and verification of a server chain."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tlsbench.tls.alerts import ProtocolError
from tlsbench.tls.certs import (
    CredentialFiles,
    client_public_key,
    load_certificate_chain,
    load_private_key,
    verify_client_chain,
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


def _self_signed(
    tmp_path: Path, names: list[x509.GeneralName] | None, cn: str = "localhost", days: int = 2
) -> tuple[bytes, Path]:
    """A self-signed leaf with CA:TRUE, as `openssl req -x509` makes it; (DER, PEM file)."""
    import datetime

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=days + 1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    )
    if names is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    cert = builder.sign(key, hashes.SHA256())
    path = tmp_path / "self.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert.public_bytes(serialization.Encoding.DER), path


def test_a_trusted_self_signed_leaf_is_trusted_as_itself(tmp_path: Path) -> None:
    import ipaddress

    names: list[x509.GeneralName] = [
        x509.DNSName("*.example.org"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
    ]
    der, path = _self_signed(tmp_path, names)
    assert (
        verify_server_chain([der], path, "www.example.org").public_bytes(serialization.Encoding.DER)
        == der
    )
    verify_server_chain([der], path, "127.0.0.1")
    for wrong in ("example.org", "a.b.example.org", "127.0.0.2", "localhost"):
        with pytest.raises(ProtocolError) as exc:
            verify_server_chain([der], path, wrong)
        assert exc.value.alert == AlertDescription.BAD_CERTIFICATE, wrong


def test_a_self_signed_leaf_without_san_matches_its_common_name(tmp_path: Path) -> None:
    der, path = _self_signed(tmp_path, None, cn="LocalHost")
    verify_server_chain([der], path, "localhost")
    with pytest.raises(ProtocolError):
        verify_server_chain([der], path, "127.0.0.1")  # IP addresses only from SANs


def test_a_self_signed_leaf_is_still_checked_for_its_dates(tmp_path: Path) -> None:
    import datetime

    der, path = _self_signed(tmp_path, [x509.DNSName("localhost")])
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=30)
    with pytest.raises(ProtocolError) as exc:
        verify_server_chain([der], path, "localhost", when=later)
    assert exc.value.alert == AlertDescription.BAD_CERTIFICATE


def test_a_self_signed_leaf_not_in_the_ca_file_is_unknown_ca(
    tmp_path: Path, credentials: dict[str, CredentialFiles]
) -> None:
    der, _ = _self_signed(tmp_path, [x509.DNSName("localhost")])
    with pytest.raises(ProtocolError) as exc:
        verify_server_chain([der], credentials["rsa2048"].ca_file, "localhost")
    assert exc.value.alert == AlertDescription.UNKNOWN_CA


@pytest.mark.parametrize("kind", ["rsa2048", "ecdsa-p256"])
def test_client_chain_verifies_without_a_name(
    credentials: dict[str, CredentialFiles], kind: str
) -> None:
    files = credentials[kind]
    chain = load_certificate_chain(files.cert_file)
    assert verify_client_chain(chain, files.ca_file) == x509.load_der_x509_certificate(chain[0])
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    pem = serialization.Encoding.PEM
    ours = load_private_key(files.key_file).public_key().public_bytes(pem, spki)
    assert client_public_key(chain, files.ca_file).public_bytes(pem, spki) == ours


def test_client_chain_of_another_ca_is_unknown_ca(
    credentials: dict[str, CredentialFiles], other_ca: Path
) -> None:
    chain = load_certificate_chain(credentials["ecdsa-p256"].cert_file)
    with pytest.raises(ProtocolError) as exc:
        client_public_key(chain, other_ca)
    assert exc.value.alert == AlertDescription.UNKNOWN_CA


def test_client_chain_outside_its_dates_is_bad_certificate(
    credentials: dict[str, CredentialFiles],
) -> None:
    files = credentials["rsa2048"]
    chain = load_certificate_chain(files.cert_file)
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=3000)
    with pytest.raises(ProtocolError) as exc:
        verify_client_chain(chain, files.ca_file, later)
    assert exc.value.alert == AlertDescription.BAD_CERTIFICATE


def test_client_chain_over_the_caps_is_bad_certificate(
    credentials: dict[str, CredentialFiles],
) -> None:
    files = credentials["rsa2048"]
    chain = load_certificate_chain(files.cert_file)
    with pytest.raises(ProtocolError) as exc:
        client_public_key(chain * 3, files.ca_file, max_certificates=2)
    assert exc.value.alert == AlertDescription.BAD_CERTIFICATE
