"""Test certificates and verification of the server's chain (RFC 8446 §4.4.2.4).

``make_credentials`` makes a CA and a leaf for 127.0.0.1 and localhost, with an
RSA-2048 or ECDSA P-256 key (``"rsa2048"`` / ``"ecdsa-p256"``), and
``write_credentials`` puts them in PEM files that OpenSSL and Python ``ssl`` read.
"""

from __future__ import annotations

import datetime
import functools
import ipaddress
import os
import ssl
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import (
    PolicyBuilder,
    Store,
    VerificationError,
)

from .alerts import ProtocolError
from .constants import AlertDescription

if TYPE_CHECKING:  # types only: ClientVerifier is newer than the pyca we accept
    from cryptography.x509.verification import ClientVerifier, ServerVerifier

CertKind = Literal["rsa2048", "ecdsa-p256"]
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
CERT_KINDS: tuple[CertKind, ...] = ("rsa2048", "ecdsa-p256")


class ChainPolicy(Protocol):
    """How a peer's chain is checked (a ``ClientConfig`` is one)."""

    @property
    def ca_file(self) -> Path | str | None: ...
    @property
    def server_name(self) -> str | None: ...
    @property
    def verify(self) -> bool: ...
    @property
    def verify_time(self) -> datetime.datetime | None: ...
    @property
    def max_certificate_chain(self) -> int: ...
    @property
    def max_certificates(self) -> int: ...


@dataclass(frozen=True)
class Credentials:
    """A certificate and its private key."""

    certificate: x509.Certificate
    key: PrivateKey


@dataclass(frozen=True)
class CredentialFiles:
    """PEM files: the CA certificate, the server chain (leaf first) and the server key."""

    ca_file: Path
    cert_file: Path
    key_file: Path


def _new_key(kind: CertKind) -> PrivateKey:
    if kind == "rsa2048":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if kind == "ecdsa-p256":
        return ec.generate_private_key(ec.SECP256R1())
    raise ValueError(f"unknown certificate kind {kind!r}")


def _builder(
    subject: x509.Name, issuer: x509.Name, key: PrivateKey, now: datetime.datetime, days: int
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )


def make_ca(kind: CertKind, now: datetime.datetime | None = None, days: int = 3650) -> Credentials:
    """A self-signed CA certificate and key of ``kind``."""
    now = now or datetime.datetime.now(datetime.UTC)
    key = _new_key(kind)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"tlsbench test CA ({kind})")])
    cert = (
        _builder(name, name, key, now, days)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return Credentials(cert, key)


def make_leaf(
    ca: Credentials,
    kind: CertKind,
    names: Sequence[str] = ("localhost", "127.0.0.1"),
    now: datetime.datetime | None = None,
    days: int = 825,
) -> Credentials:
    """A server certificate for ``names`` (DNS names or IP addresses) issued by ``ca``."""
    now = now or datetime.datetime.now(datetime.UTC)
    key = _new_key(kind)
    alt: list[x509.GeneralName] = []
    for name in names:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt.append(x509.DNSName(name))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    ski = ca.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (
        _builder(subject, ca.certificate.subject, key, now, days)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=kind == "rsa2048",  # TLS 1.2 RSA key transport uses the same certs
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )
        .sign(ca.key, hashes.SHA256())
    )
    return Credentials(cert, key)


def make_credentials(kind: CertKind) -> tuple[Credentials, Credentials]:
    """A fresh (CA, leaf) pair of ``kind`` for 127.0.0.1 and localhost."""
    ca = make_ca(kind)
    return ca, make_leaf(ca, kind)


def write_credentials(directory: Path | str, kind: CertKind, prefix: str = "") -> CredentialFiles:
    """Make a CA and a leaf of ``kind`` and write them as PEM files in ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    ca, leaf = make_credentials(kind)
    files = CredentialFiles(
        directory / f"{prefix}{kind}-ca.pem",
        directory / f"{prefix}{kind}-cert.pem",
        directory / f"{prefix}{kind}-key.pem",
    )
    files.ca_file.write_bytes(ca.certificate.public_bytes(serialization.Encoding.PEM))
    files.cert_file.write_bytes(leaf.certificate.public_bytes(serialization.Encoding.PEM))
    files.key_file.write_bytes(
        leaf.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


def load_certificate_chain(path: Path | str) -> list[bytes]:
    """DER certificates of a PEM file, leaf first."""
    certs = x509.load_pem_x509_certificates(Path(path).read_bytes())
    return [c.public_bytes(serialization.Encoding.DER) for c in certs]


def load_private_key(path: Path | str) -> PrivateKey:
    """An RSA or EC private key from a PEM file."""
    key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        raise ValueError("only RSA and EC private keys are supported")
    return key


def check_chain_limits(chain: Sequence[bytes], max_certificates: int, max_bytes: int) -> None:
    """Refuse a peer chain past our caps (bad_certificate), before any of it is parsed."""
    if len(chain) > max_certificates:
        raise ProtocolError(
            AlertDescription.BAD_CERTIFICATE,
            f"{len(chain)} certificates (limit {max_certificates})",
        )
    size = sum(len(der) for der in chain)
    if size > max_bytes:
        raise ProtocolError(
            AlertDescription.BAD_CERTIFICATE,
            f"certificate chain of {size} bytes (limit {max_bytes})",
        )


def parse_certificate(der: bytes) -> x509.Certificate:
    """One DER certificate; garbage is a bad_certificate."""
    try:
        return x509.load_der_x509_certificate(der)
    except (ValueError, x509.InvalidVersion):  # InvalidVersion is not a ValueError
        raise ProtocolError(
            AlertDescription.BAD_CERTIFICATE, "certificate does not parse"
        ) from None


@functools.lru_cache(maxsize=64)
def ip_literal(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """``name`` as an IP address, or None for a DNS name (cached: asked per handshake)."""
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        return None


def _trust_anchors(ca_file: str) -> tuple[list[x509.Certificate], Store]:
    """The CA file's certificates and their store, read once per file version rather
    than per handshake (a rewritten file is read again at the next handshake)."""
    stat = os.stat(ca_file)
    return _load_anchors(ca_file, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=16)
def _load_anchors(ca_file: str, _mtime_ns: int, _size: int) -> tuple[list[x509.Certificate], Store]:
    with warnings.catch_warnings():
        # System stores hold a few old roots pyca warns about (a serial number not positive).
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        anchors = x509.load_pem_x509_certificates(Path(ca_file).read_bytes())
    return anchors, Store(anchors)


def _verify_time(when: datetime.datetime | None) -> datetime.datetime:
    """``when``, or now to the second (X.509 times have no finer resolution)."""
    if when is not None:
        return when
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0)


# A verifier is policy only (trust store, name, time): it is built once per store, name
# and second and reused, and every chain is still checked in full by its verify(). A
# fresh store and verifier per handshake cost ~40 µs a client handshake here.
@functools.lru_cache(maxsize=64)
def _server_verifier(store: Store, server_name: str, when: datetime.datetime) -> ServerVerifier:
    ip = ip_literal(server_name)
    subject = x509.DNSName(server_name) if ip is None else x509.IPAddress(ip)
    return PolicyBuilder().store(store).time(when).build_server_verifier(subject)


@functools.lru_cache(maxsize=16)
def _client_verifier(store: Store, when: datetime.datetime) -> ClientVerifier:
    return PolicyBuilder().store(store).time(when).build_client_verifier()


def verify_server_chain(
    chain: Sequence[bytes],
    ca_file: Path | str,
    server_name: str,
    when: datetime.datetime | None = None,
) -> x509.Certificate:
    """Check ``chain`` (leaf first) against the CAs of ``ca_file`` and ``server_name``.

    Returns the leaf. A chain that leads to none of the CAs is ``unknown_ca``;
    one that does but fails otherwise (name, validity, usage) is ``bad_certificate``.
    ``when`` defaults to the current time (to the second).
    """
    certs = [parse_certificate(der) for der in chain]
    anchors, store = _trust_anchors(str(ca_file))
    try:
        _server_verifier(store, server_name, _verify_time(when)).verify(certs[0], certs[1:])
    except VerificationError as exc:
        if certs[0] in anchors:
            # A certificate the user trusts as itself (``openssl req -x509``, often with
            # CA:TRUE on the leaf): trusted as curl --cacert and OpenSSL trust it, once
            # its name and dates fit.
            _check_trusted_leaf(certs[0], server_name, when)
            return certs[0]
        if not any(_issued_by(c, a) for c in certs for a in anchors):
            raise ProtocolError(AlertDescription.UNKNOWN_CA, str(exc)) from None
        raise ProtocolError(AlertDescription.BAD_CERTIFICATE, str(exc)) from None
    return certs[0]


def _check_trusted_leaf(
    leaf: x509.Certificate, server_name: str, when: datetime.datetime | None
) -> None:
    """Validity dates and name of a leaf that is itself a trust anchor (bad_certificate)."""
    now = when or datetime.datetime.now(datetime.UTC)
    if not leaf.not_valid_before_utc <= now <= leaf.not_valid_after_utc:
        raise ProtocolError(AlertDescription.BAD_CERTIFICATE, "certificate is not valid now")
    if not name_matches(leaf, server_name):
        raise ProtocolError(
            AlertDescription.BAD_CERTIFICATE, f"certificate is not for {server_name!r}"
        )


def name_matches(cert: x509.Certificate, server_name: str) -> bool:
    """RFC 6125 §6.4: an IP address against the IP SANs; a DNS name against the DNS SANs
    (a wildcard covers one leftmost label), or the common name when there is no SAN."""
    try:
        san: x509.SubjectAlternativeName | None = cert.extensions.get_extension_for_class(
            x509.SubjectAlternativeName
        ).value
    except x509.ExtensionNotFound:
        san = None
    ip = ip_literal(server_name)
    if ip is not None:
        return san is not None and ip in san.get_values_for_type(x509.IPAddress)
    if san is not None:
        names = san.get_values_for_type(x509.DNSName)
    else:
        names = [str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    wanted = server_name.lower().rstrip(".").split(".")
    for name in names:
        labels = name.lower().rstrip(".").split(".")
        if len(labels) != len(wanted):
            continue
        if labels == wanted or (labels[0] == "*" and len(labels) > 2 and labels[1:] == wanted[1:]):
            return True
    return False


def verify_client_chain(
    chain: Sequence[bytes], ca_file: Path | str, when: datetime.datetime | None = None
) -> x509.Certificate:
    """Check a client's ``chain`` (leaf first) against the CAs of ``ca_file``; the leaf.

    No CA leads to it: ``unknown_ca``; it leads to one but fails otherwise (validity,
    usage): ``bad_certificate`` (RFC 8446 §4.4.2.4, RFC 5246 §7.4.6).
    """
    certs = [parse_certificate(der) for der in chain]
    anchors, store = _trust_anchors(str(ca_file))
    try:
        _client_verifier(store, _verify_time(when)).verify(certs[0], certs[1:])
    except VerificationError as exc:
        if not any(_issued_by(c, a) for c in certs for a in anchors):
            raise ProtocolError(AlertDescription.UNKNOWN_CA, str(exc)) from None
        raise ProtocolError(AlertDescription.BAD_CERTIFICATE, str(exc)) from None
    return certs[0]


def client_public_key(
    chain: Sequence[bytes],
    ca_file: Path | str,
    max_certificates: int = 10,
    max_bytes: int = 1 << 16,
    when: datetime.datetime | None = None,
) -> CertificatePublicKeyTypes:
    """The client leaf's public key for either version's server: the chain within the
    caps, verified against ``ca_file``, and a key pyca can use."""
    check_chain_limits(chain, max_certificates, max_bytes)
    leaf = verify_client_chain(chain, ca_file, when)
    try:
        return leaf.public_key()
    except (ValueError, UnsupportedAlgorithm):
        raise ProtocolError(
            AlertDescription.UNSUPPORTED_CERTIFICATE, "unusable public key"
        ) from None


def system_ca_file() -> str | None:
    """The system's trust store as one PEM file (what OpenSSL uses by default), if any."""
    paths = ssl.get_default_verify_paths()
    for candidate in (os.environ.get(paths.openssl_cafile_env), paths.cafile, paths.openssl_cafile):
        if candidate and os.path.isfile(candidate):
            return candidate
    return None


def _issued_by(cert: x509.Certificate, anchor: x509.Certificate) -> bool:
    if cert.issuer != anchor.subject:
        return False
    try:
        cert.verify_directly_issued_by(anchor)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def server_public_key(chain: Sequence[bytes], config: ChainPolicy) -> CertificatePublicKeyTypes:
    """The server leaf's public key, for either version's client: the chain within the
    config's caps, verified unless that is switched off, and a key pyca can use
    (``unsupported_certificate`` otherwise)."""
    check_chain_limits(chain, config.max_certificates, config.max_certificate_chain)
    if config.verify:
        assert config.ca_file is not None and config.server_name is not None
        leaf = verify_server_chain(chain, config.ca_file, config.server_name, config.verify_time)
    else:
        leaf = parse_certificate(chain[0])
    try:
        return leaf.public_key()
    except (ValueError, UnsupportedAlgorithm):  # a key type or curve pyca does not know
        raise ProtocolError(
            AlertDescription.UNSUPPORTED_CERTIFICATE, "unusable public key"
        ) from None
