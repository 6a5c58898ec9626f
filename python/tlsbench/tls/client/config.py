"""What the client offers and how it checks the server."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from ..certs import PrivateKey
from ..constants import (
    DEFAULT_GROUPS,
    DEFAULT_SUITES,
    DEFAULT_VERSIONS,
    CipherSuite,
    NamedGroup,
    PskKeyExchangeMode,
    SignatureScheme,
)
from ..sessions import Session

# The RSASSA-PKCS1-v1_5 schemes are offered for certificate signatures only (§4.2.3).
DEFAULT_SIGNATURE_SCHEMES = (
    SignatureScheme.ECDSA_SECP256R1_SHA256,
    SignatureScheme.ECDSA_SECP384R1_SHA384,
    SignatureScheme.RSA_PSS_RSAE_SHA256,
    SignatureScheme.RSA_PSS_RSAE_SHA384,
    SignatureScheme.RSA_PSS_RSAE_SHA512,
    SignatureScheme.RSA_PKCS1_SHA256,
    SignatureScheme.RSA_PKCS1_SHA384,
    SignatureScheme.RSA_PKCS1_SHA512,
)


@dataclass(frozen=True)
class ClientConfig:
    """What the client offers and how it checks the server."""

    server_name: str | None = None
    """Sent as SNI (unless an IP address) and checked against the certificate."""
    ca_file: Path | str | None = None
    verify: bool = True
    """False switches certificate verification off (the signature is still checked)."""
    cipher_suites: tuple[CipherSuite, ...] = DEFAULT_SUITES
    groups: tuple[NamedGroup, ...] = DEFAULT_GROUPS
    key_share_groups: tuple[NamedGroup, ...] | None = None
    """Groups to send key shares for in the first ClientHello; default: the first group."""
    signature_schemes: tuple[SignatureScheme, ...] = DEFAULT_SIGNATURE_SCHEMES
    alpn_protocols: tuple[bytes, ...] = ()
    provider: str = "cryptography"
    middlebox_compat: bool = True
    """Send a legacy_session_id and a dummy ChangeCipherSpec, as OpenSSL does (Appendix D.4)."""
    verify_time: datetime.datetime | None = None
    """Time for certificate validity; None lets the verifier use the current time."""
    versions: tuple[int, ...] = DEFAULT_VERSIONS
    """Versions to offer: TLS13 (0x0304) and/or TLS12 (0x0303); TLS 1.3 only by default."""
    extended_master_secret: bool = True
    """TLS 1.2: offer the RFC 7627 extended master secret."""
    max_handshake_message: int = 1 << 17
    """Longest handshake message accepted (128 KiB, room for a full chain); else decode_error."""
    max_certificate_chain: int = 1 << 16
    """Most certificate bytes (DER, summed) the server may send; else bad_certificate."""
    max_certificates: int = 10
    """Most certificates in the server's chain; else bad_certificate."""
    session: Session | None = None
    """A session to offer: a TLS 1.3 ticket (PSK), or a TLS 1.2 session ID or ticket."""
    psk_modes: tuple[PskKeyExchangeMode, ...] = (PskKeyExchangeMode.PSK_DHE_KE,)
    """TLS 1.3 PSK key exchange modes offered (§4.2.9); PSK_KE alone resumes without
    a fresh key share."""
    session_tickets: bool = True
    """TLS 1.2: ask for an RFC 5077 ticket; False resumes by session ID only."""
    certificate_chain: tuple[bytes, ...] = ()
    """Our certificate (DER, leaf first) for a server that asks; empty sends none."""
    private_key: PrivateKey | None = None
    """The key of ``certificate_chain``'s leaf (RSA-2048 or ECDSA P-256)."""
