"""Cipher suites known to every provider, with the parameters record protection needs."""

from __future__ import annotations

from dataclasses import dataclass

from tlsbench.crypto.base import SuiteName, Version

HASH_LEN = {"sha256": 32, "sha384": 48}
AEAD_KEY_LEN = {"AES-128-GCM": 16, "AES-256-GCM": 32, "CHACHA20-POLY1305": 32}


@dataclass(frozen=True)
class Suite:
    """A cipher suite: IANA code point and name, version, AEAD and hash."""

    code: int
    name: str
    version: int
    aead: str
    hash: str

    @property
    def key_len(self) -> int:
        return AEAD_KEY_LEN[self.aead]

    @property
    def iv_len(self) -> int:
        """12 bytes, but a 4-byte salt for TLS 1.2 AES-GCM (RFC 5288 §3)."""
        return 4 if self.version == 0x0303 and self.aead != "CHACHA20-POLY1305" else 12

    @property
    def explicit_nonce_len(self) -> int:
        """TLS 1.2 AES-GCM records carry an 8-byte explicit nonce."""
        return 12 - self.iv_len


SUITES = [
    Suite(0x1301, "TLS_AES_128_GCM_SHA256", 0x0304, "AES-128-GCM", "sha256"),
    Suite(0x1302, "TLS_AES_256_GCM_SHA384", 0x0304, "AES-256-GCM", "sha384"),
    Suite(0x1303, "TLS_CHACHA20_POLY1305_SHA256", 0x0304, "CHACHA20-POLY1305", "sha256"),
    Suite(0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256", 0x0303, "AES-128-GCM", "sha256"),
    Suite(0x009D, "TLS_RSA_WITH_AES_256_GCM_SHA384", 0x0303, "AES-256-GCM", "sha384"),
    Suite(0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", 0x0303, "AES-128-GCM", "sha256"),
    Suite(0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", 0x0303, "AES-256-GCM", "sha384"),
    Suite(
        0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", 0x0303, "CHACHA20-POLY1305", "sha256"
    ),
    Suite(0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", 0x0303, "AES-128-GCM", "sha256"),
    Suite(0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", 0x0303, "AES-256-GCM", "sha384"),
    Suite(
        0xCCA9,
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        0x0303,
        "CHACHA20-POLY1305",
        "sha256",
    ),
]
_BY_CODE = {s.code: s for s in SUITES}
_BY_NAME = {s.name: s for s in SUITES}


def get_suite(suite: SuiteName) -> Suite:
    """Look a suite up by IANA name or code point; ValueError if unknown."""
    found = _BY_CODE.get(suite) if isinstance(suite, int) else _BY_NAME.get(suite.upper())
    if found is None:
        raise ValueError(f"unsupported cipher suite {suite!r}")
    return found


def get_version(version: Version) -> int:
    """0x0303 or 0x0304 from "1.2"/"1.3" or the code point; ValueError otherwise."""
    codes = {"1.2": 0x0303, "1.3": 0x0304, 0x0303: 0x0303, 0x0304: 0x0304}
    if version not in codes:
        raise ValueError(f"unsupported TLS version {version!r} (use '1.2' or '1.3')")
    return codes[version]


def check_hash(name: str) -> str:
    """Normalise a hash name; ValueError if it is not sha256 or sha384."""
    norm = name.lower().replace("-", "")
    if norm not in HASH_LEN:
        raise ValueError(f"unknown hash {name!r} (use 'sha256' or 'sha384')")
    return norm
