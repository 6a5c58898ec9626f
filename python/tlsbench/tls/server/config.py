"""The server's certificates and what it accepts, in preference order."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ..certs import PrivateKey, load_certificate_chain, load_private_key
from ..constants import (
    DEFAULT_GROUPS,
    DEFAULT_SERVER_VERSIONS,
    DEFAULT_SUITES,
    CipherSuite,
    NamedGroup,
    SignatureScheme,
    suite_version,
)
from ..record import MAX_HANDSHAKE_MESSAGE
from ..sessions import SessionCache, TicketKeys
from ..signatures import schemes_for_key, schemes_for_key_tls12

_CURVE_GROUPS = {"secp256r1": NamedGroup.SECP256R1, "secp384r1": NamedGroup.SECP384R1}

ClientAuth = Literal["none", "optional", "require"]


@dataclass(frozen=True)
class ServerCertificate:
    """One certificate chain (DER, leaf first) with its private key."""

    chain: tuple[bytes, ...]
    key: PrivateKey

    # What negotiation asks of the key on every handshake, worked out once.
    @functools.cached_property
    def is_rsa(self) -> bool:
        """An RSA key (RSA key transport, ECDHE_RSA); else an EC key."""
        return isinstance(self.key, rsa.RSAPrivateKey)

    @functools.cached_property
    def curve_group(self) -> NamedGroup | None:
        """The group of an EC key's curve (RFC 8422 §5.1), if we know it."""
        key = self.key
        return (
            _CURVE_GROUPS.get(key.curve.name)
            if isinstance(key, ec.EllipticCurvePrivateKey)
            else None
        )

    @functools.cached_property
    def schemes(self) -> tuple[SignatureScheme, ...]:
        """The TLS 1.3 CertificateVerify schemes the key signs with, best first."""
        return tuple(schemes_for_key(self.key))

    @functools.cached_property
    def schemes_tls12(self) -> tuple[SignatureScheme, ...]:
        """The TLS 1.2 ServerKeyExchange schemes the key signs with, best first."""
        return tuple(schemes_for_key_tls12(self.key))

    @classmethod
    def from_files(cls, cert_file: Path | str, key_file: Path | str) -> ServerCertificate:
        """Load a PEM chain (leaf first) and a PEM private key."""
        return cls(tuple(load_certificate_chain(cert_file)), load_private_key(key_file))


@dataclass(frozen=True)
class ServerConfig:
    """The server's certificate chain and key, and what it accepts, in preference order."""

    certificate_chain: tuple[bytes, ...]
    """DER certificates, leaf first."""
    private_key: PrivateKey
    cipher_suites: tuple[CipherSuite, ...] = DEFAULT_SUITES
    groups: tuple[NamedGroup, ...] = DEFAULT_GROUPS
    alpn_protocols: tuple[bytes, ...] = ()
    provider: str = "cryptography"
    middlebox_compat: bool = True
    """Answer a client's legacy_session_id with a dummy ChangeCipherSpec (Appendix D.4)."""
    signature_schemes: tuple[SignatureScheme, ...] = ()
    """Schemes we may sign with; empty means every scheme the key allows."""
    versions: tuple[int, ...] = DEFAULT_SERVER_VERSIONS
    """Versions accepted: TLS13 (0x0304) and/or TLS12 (0x0303); the highest offered wins."""
    extended_master_secret: bool = True
    """TLS 1.2: use the RFC 7627 extended master secret when the client offers it."""
    max_handshake_message: int = MAX_HANDSHAKE_MESSAGE
    """Longest handshake message accepted (64 KiB); a longer one is decode_error."""
    more_certificates: tuple[ServerCertificate, ...] = ()
    """Further certificates (say RSA beside ECDSA), as OpenSSL's ``-dcert``: each handshake
    uses the first, in this order after the main one, that the negotiation allows."""
    tickets: int = 2
    """TLS 1.3: NewSessionTickets sent after each full handshake (OpenSSL sends 2);
    TLS 1.2: an RFC 5077 ticket when the client asks and this is above 0. 0: none."""
    session_ids: bool = True
    """TLS 1.2: give each session an ID and resume it from ``session_cache``."""
    ticket_keys: TicketKeys = field(default_factory=TicketKeys, compare=False, repr=False)
    """Seal and open tickets; one per config, so every connection of a server shares it."""
    session_cache: SessionCache = field(default_factory=SessionCache, compare=False, repr=False)
    """TLS 1.2 sessions by ID, shared like ``ticket_keys``."""
    client_auth: ClientAuth = "none"
    """Ask for a client certificate: ``optional`` accepts none, ``require`` refuses that."""
    client_ca_file: Path | str | None = None
    """PEM CA(s) a client certificate must chain to (needed unless client_auth is none)."""

    def __post_init__(self) -> None:
        """Refuse a client_auth the server could not honour (ValueError)."""
        if self.client_auth not in ("none", "optional", "require"):
            raise ValueError(
                f"client_auth must be none, optional or require, not {self.client_auth!r}"
            )
        if self.client_auth != "none" and self.client_ca_file is None:
            raise ValueError(f"client_auth={self.client_auth!r} needs client_ca_file")

    @functools.cached_property
    def spoken_versions(self) -> frozenset[int]:
        """The versions accepted that have a suite configured (made once per config)."""
        return frozenset(suite_version(s) for s in self.cipher_suites) & frozenset(self.versions)

    @functools.cached_property
    def certificates(self) -> tuple[ServerCertificate, ...]:
        """Every certificate, the main one first (made once per config)."""
        return (
            ServerCertificate(self.certificate_chain, self.private_key),
            *self.more_certificates,
        )

    @classmethod
    def from_files(
        cls,
        cert_file: Path | str,
        key_file: Path | str,
        *,
        cipher_suites: Sequence[CipherSuite] = DEFAULT_SUITES,
        groups: Sequence[NamedGroup] = DEFAULT_GROUPS,
        alpn_protocols: Sequence[bytes] = (),
        provider: str = "cryptography",
        middlebox_compat: bool = True,
        versions: Sequence[int] = DEFAULT_SERVER_VERSIONS,
        more: Sequence[tuple[Path | str, Path | str]] = (),
    ) -> ServerConfig:
        """Load a PEM chain (leaf first) and a PEM private key, and ``more`` such pairs."""
        main = ServerCertificate.from_files(cert_file, key_file)
        return cls(
            main.chain,
            main.key,
            tuple(cipher_suites),
            tuple(groups),
            tuple(alpn_protocols),
            provider,
            middlebox_compat,
            versions=tuple(versions),
            more_certificates=tuple(ServerCertificate.from_files(c, k) for c, k in more),
        )


def spoken_versions(config: ServerConfig) -> frozenset[int]:
    """The versions accepted that have a suite configured (worked out once per config)."""
    return config.spoken_versions
