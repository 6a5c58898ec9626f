"""What the client offers and how it checks the server."""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass
from pathlib import Path

from .. import extensions as ext
from ..certs import PrivateKey, ip_literal
from ..constants import (
    DEFAULT_GROUPS,
    DEFAULT_SUITES,
    DEFAULT_VERSIONS,
    TLS12,
    TLS13,
    CipherSuite,
    ExtensionType,
    NamedGroup,
    PskKeyExchangeMode,
    SignatureScheme,
    suite_version,
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

    # What every ClientHello of this config offers, worked out once per config (the
    # config is frozen): a handshake then adds only its own randoms, shares and session.
    @functools.cached_property
    def offered_suites(self) -> tuple[CipherSuite, ...]:
        """The suites offered: those of the versions offered."""
        return tuple(s for s in self.cipher_suites if suite_version(s) in self.versions)

    @functools.cached_property
    def offered_versions(self) -> tuple[int, ...]:
        """The versions offered: those of ``versions`` that have a suite offered."""
        have = {suite_version(s) for s in self.offered_suites}
        return tuple(v for v in self.versions if v in have)

    @functools.cached_property
    def hello_extensions(self) -> tuple[ext.Extensions, ext.Extensions]:
        """The ClientHello's extensions fixed by the config, encoded: those before the
        TLS 1.2 session_ticket, and the TLS 1.3 ones after it (§4.1.2, RFC 5246 §7.4.1.4)."""
        head: ext.Extensions = {}
        if self.server_name and ip_literal(self.server_name) is None:  # RFC 6066 §3
            head[ExtensionType.SERVER_NAME] = ext.encode_server_name(self.server_name)
        head[ExtensionType.SUPPORTED_GROUPS] = ext.encode_supported_groups(
            [int(g) for g in self.groups]
        )
        tls12 = TLS12 in self.offered_versions
        if tls12:  # RFC 8422 §5.1.2: only uncompressed points
            head[ExtensionType.EC_POINT_FORMATS] = ext.encode_ec_point_formats([0])
        head[ExtensionType.SIGNATURE_ALGORITHMS] = ext.encode_signature_algorithms(
            [int(s) for s in self.signature_schemes]
        )
        if self.alpn_protocols:
            head[ExtensionType.APPLICATION_LAYER_PROTOCOL_NEGOTIATION] = ext.encode_alpn(
                list(self.alpn_protocols)
            )
        if tls12:
            if self.extended_master_secret:  # RFC 7627 §5.1
                head[ExtensionType.EXTENDED_MASTER_SECRET] = b""
            head[ExtensionType.RENEGOTIATION_INFO] = ext.encode_renegotiation_info()  # RFC 5746
        tail: ext.Extensions = {}
        if TLS13 in self.offered_versions:
            offered = [v for v in (TLS13, TLS12) if v in self.offered_versions]
            tail[ExtensionType.SUPPORTED_VERSIONS] = ext.encode_supported_versions_client(offered)
            if self.psk_modes:  # §4.2.9: without it a server sends no tickets
                tail[ExtensionType.PSK_KEY_EXCHANGE_MODES] = ext.encode_psk_key_exchange_modes(
                    [int(m) for m in self.psk_modes]
                )
        return head, tail
