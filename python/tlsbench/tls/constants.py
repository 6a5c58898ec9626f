"""Code points of TLS 1.3 (RFC 8446 §4-§6, Appendix B.4) and TLS 1.2 (RFC 5246) used here."""

from __future__ import annotations

from enum import IntEnum
from typing import Generic, TypeVar

SSL3 = 0x0300
TLS12 = 0x0303
TLS13 = 0x0304

# RFC 8446 §5.1: plaintext fragments are at most 2^14 bytes; §5.2: ciphertext
# adds at most 256 bytes of expansion (RFC 5246 §6.2.3 allows 2048, but no AEAD
# suite of TLS 1.2 adds more than 24, so the same bound serves both versions).
MAX_FRAGMENT = 1 << 14
MAX_CIPHERTEXT = MAX_FRAGMENT + 256

# The largest ClientHello the syntax allows (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2):
# version 2 + random 32 + session id 1+32 + cipher suites 2+(2^16-2) + compression
# methods 1+255 + extensions 2+(2^16-1) bytes of body; OpenSSL's limit is the same.
MAX_CLIENT_HELLO = 2 + 32 + 1 + 32 + 2 + 0xFFFE + 1 + 255 + 2 + 0xFFFF

# Early data a server that does not accept it skips (RFC 8446 §4.2.10): the
# ciphertext bytes of records it could not decrypt (or, after a HelloRetryRequest,
# of application_data records), in all. OpenSSL's default max_early_data is 16384
# plaintext bytes; 256 more cover the records' expansion.
MAX_SKIPPED_EARLY_DATA = MAX_FRAGMENT + 256

# Consecutive empty application_data records accepted (RFC 8446 §5.4 allows them,
# RFC 5246 §6.2.1 too); each costs a decryption, so a stream of them is refused
# with unexpected_message past this many, as OpenSSL does past 32.
MAX_EMPTY_RECORDS = 32

# The AEAD tag of every suite here. A shorter protected record fails decryption
# (bad_record_mac): TLS 1.3 needs the tag and at least the inner content type (RFC 8446
# §5.2), TLS 1.2 AES-GCM the tag and an 8-byte explicit nonce (RFC 5288 §3).
AEAD_TAG = 16

# RFC 8446 §4.1.3: the last 8 bytes of ServerHello.random when a TLS 1.3 server
# negotiates TLS 1.2 (and 1.1 or below).
DOWNGRADE_TLS12 = b"DOWNGRD\x01"
DOWNGRADE_TLS11 = b"DOWNGRD\x00"

# RFC 5746 §3.3: the signalling cipher suite value, same meaning as an empty renegotiation_info.
TLS_EMPTY_RENEGOTIATION_INFO_SCSV = 0x00FF

# RFC 8446 §4.1.3: the random of a HelloRetryRequest is SHA-256("HelloRetryRequest").
HELLO_RETRY_REQUEST_RANDOM = bytes.fromhex(
    "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c"
)


class ContentType(IntEnum):
    """RFC 8446 §5.1."""

    CHANGE_CIPHER_SPEC = 20
    ALERT = 21
    HANDSHAKE = 22
    APPLICATION_DATA = 23


class HandshakeType(IntEnum):
    """RFC 8446 §4 and RFC 5246 §7.4."""

    HELLO_REQUEST = 0
    CLIENT_HELLO = 1
    SERVER_HELLO = 2
    NEW_SESSION_TICKET = 4
    END_OF_EARLY_DATA = 5
    ENCRYPTED_EXTENSIONS = 8
    CERTIFICATE = 11
    SERVER_KEY_EXCHANGE = 12
    CERTIFICATE_REQUEST = 13
    SERVER_HELLO_DONE = 14
    CERTIFICATE_VERIFY = 15
    CLIENT_KEY_EXCHANGE = 16
    FINISHED = 20
    KEY_UPDATE = 24
    MESSAGE_HASH = 254


class AlertLevel(IntEnum):
    """RFC 8446 §6."""

    WARNING = 1
    FATAL = 2


class AlertDescription(IntEnum):
    """RFC 8446 §6."""

    CLOSE_NOTIFY = 0
    UNEXPECTED_MESSAGE = 10
    BAD_RECORD_MAC = 20
    RECORD_OVERFLOW = 22
    HANDSHAKE_FAILURE = 40
    BAD_CERTIFICATE = 42
    UNSUPPORTED_CERTIFICATE = 43
    CERTIFICATE_REVOKED = 44
    CERTIFICATE_EXPIRED = 45
    CERTIFICATE_UNKNOWN = 46
    ILLEGAL_PARAMETER = 47
    UNKNOWN_CA = 48
    ACCESS_DENIED = 49
    DECODE_ERROR = 50
    DECRYPT_ERROR = 51
    PROTOCOL_VERSION = 70
    INSUFFICIENT_SECURITY = 71
    INTERNAL_ERROR = 80
    INAPPROPRIATE_FALLBACK = 86
    USER_CANCELED = 90
    NO_RENEGOTIATION = 100  # RFC 5246 §7.2.2, always a warning
    MISSING_EXTENSION = 109
    UNSUPPORTED_EXTENSION = 110
    UNRECOGNIZED_NAME = 112
    BAD_CERTIFICATE_STATUS_RESPONSE = 113
    UNKNOWN_PSK_IDENTITY = 115
    CERTIFICATE_REQUIRED = 116
    NO_APPLICATION_PROTOCOL = 120


class ExtensionType(IntEnum):
    """RFC 8446 §4.2 (and RFC 6066, RFC 7301 for server_name and ALPN)."""

    SERVER_NAME = 0
    MAX_FRAGMENT_LENGTH = 1
    STATUS_REQUEST = 5
    SUPPORTED_GROUPS = 10
    EC_POINT_FORMATS = 11
    SIGNATURE_ALGORITHMS = 13
    USE_SRTP = 14
    HEARTBEAT = 15
    APPLICATION_LAYER_PROTOCOL_NEGOTIATION = 16
    SIGNED_CERTIFICATE_TIMESTAMP = 18
    CLIENT_CERTIFICATE_TYPE = 19
    SERVER_CERTIFICATE_TYPE = 20
    PADDING = 21
    ENCRYPT_THEN_MAC = 22
    EXTENDED_MASTER_SECRET = 23
    RECORD_SIZE_LIMIT = 28
    SESSION_TICKET = 35
    PRE_SHARED_KEY = 41
    EARLY_DATA = 42
    SUPPORTED_VERSIONS = 43
    COOKIE = 44
    PSK_KEY_EXCHANGE_MODES = 45
    CERTIFICATE_AUTHORITIES = 47
    OID_FILTERS = 48
    POST_HANDSHAKE_AUTH = 49
    SIGNATURE_ALGORITHMS_CERT = 50
    KEY_SHARE = 51
    RENEGOTIATION_INFO = 0xFF01


class NamedGroup(IntEnum):
    """RFC 8446 §4.2.7 (the groups this engine can use)."""

    SECP256R1 = 0x0017
    SECP384R1 = 0x0018
    X25519 = 0x001D


class SignatureScheme(IntEnum):
    """RFC 8446 §4.2.3."""

    RSA_PKCS1_SHA256 = 0x0401
    RSA_PKCS1_SHA384 = 0x0501
    RSA_PKCS1_SHA512 = 0x0601
    ECDSA_SECP256R1_SHA256 = 0x0403
    ECDSA_SECP384R1_SHA384 = 0x0503
    RSA_PSS_RSAE_SHA256 = 0x0804
    RSA_PSS_RSAE_SHA384 = 0x0805
    RSA_PSS_RSAE_SHA512 = 0x0806


class CipherSuite(IntEnum):
    """RFC 8446 §B.4 (TLS 1.3); RFC 5288, RFC 5289, RFC 7905 (TLS 1.2 AEAD suites)."""

    TLS_AES_128_GCM_SHA256 = 0x1301
    TLS_AES_256_GCM_SHA384 = 0x1302
    TLS_CHACHA20_POLY1305_SHA256 = 0x1303
    TLS_RSA_WITH_AES_128_GCM_SHA256 = 0x009C
    TLS_RSA_WITH_AES_256_GCM_SHA384 = 0x009D
    TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 = 0xC02F
    TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 = 0xC030
    TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 = 0xCCA8
    TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 = 0xC02B
    TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 = 0xC02C
    TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 = 0xCCA9


class KeyExchange(IntEnum):
    """How a TLS 1.2 suite agrees on the pre-master secret and authenticates the server."""

    RSA = 1  # RFC 5246 §7.4.7.1: RSA key transport
    ECDHE_RSA = 2  # RFC 8422 §2.1: ephemeral ECDH, parameters signed with RSA
    ECDHE_ECDSA = 3  # ... or with ECDSA


class ECCurveType(IntEnum):
    """RFC 8422 §5.4 (only named curves are allowed)."""

    NAMED_CURVE = 3


class KeyUpdateRequest(IntEnum):
    """RFC 8446 §4.6.3."""

    UPDATE_NOT_REQUESTED = 0
    UPDATE_REQUESTED = 1


class PskKeyExchangeMode(IntEnum):
    """RFC 8446 §4.2.9."""

    PSK_KE = 0
    PSK_DHE_KE = 1


SUITE_HASH: dict[CipherSuite, str] = {
    s: "sha384" if s.name.endswith("SHA384") else "sha256" for s in CipherSuite
}
"""The transcript hash and, for TLS 1.2, the PRF hash (RFC 5246 §5) of each suite."""

TLS13_SUITES = (
    CipherSuite.TLS_AES_128_GCM_SHA256,
    CipherSuite.TLS_AES_256_GCM_SHA384,
    CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
)
TLS12_SUITES = (
    CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    CipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    CipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    CipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    CipherSuite.TLS_RSA_WITH_AES_128_GCM_SHA256,
    CipherSuite.TLS_RSA_WITH_AES_256_GCM_SHA384,
)


def suite_version(suite: int) -> int:
    """TLS13 for a TLS 1.3 suite, TLS12 for any other."""
    return TLS13 if suite in TLS13_SUITES else TLS12


def _key_exchange_of(name: str) -> KeyExchange | None:
    for prefix, kx in (
        ("TLS_ECDHE_ECDSA_", KeyExchange.ECDHE_ECDSA),
        ("TLS_ECDHE_RSA_", KeyExchange.ECDHE_RSA),
        ("TLS_RSA_", KeyExchange.RSA),
    ):
        if name.startswith(prefix):
            return kx
    return None


# Read several times a handshake: a table, not an Enum name and three prefixes each time.
_KEY_EXCHANGE = {s: kx for s in CipherSuite if (kx := _key_exchange_of(s.name)) is not None}


def key_exchange(suite: CipherSuite) -> KeyExchange:
    """The key exchange of a TLS 1.2 suite."""
    kx = _KEY_EXCHANGE.get(suite)
    if kx is None:
        raise ValueError(f"{CipherSuite(suite).name} is not a TLS 1.2 suite")
    return kx


# What our client offers and our server accepts unless configured otherwise, in order
# of preference; each side uses only the suites of the versions it offers or negotiates.
DEFAULT_SUITES = TLS13_SUITES + TLS12_SUITES
DEFAULT_VERSIONS = (TLS13,)
"""Versions our client offers unless configured otherwise."""
DEFAULT_SERVER_VERSIONS = (TLS13, TLS12)
"""Versions our server accepts unless configured otherwise (it prefers the highest)."""
DEFAULT_GROUPS = (NamedGroup.X25519, NamedGroup.SECP256R1, NamedGroup.SECP384R1)


E = TypeVar("E", bound=IntEnum)


class ByValue(Generic[E]):
    """``enum(value)`` as one dict lookup: calling an Enum class costs ~3 µs on Python
    3.11 (its metaclass's ``__call__``), and a handshake converts several received values."""

    def __init__(self, enum: type[E]) -> None:
        self._enum = enum
        self._members: dict[int, E] = {int(m): m for m in enum}

    def __call__(self, value: int) -> E:
        member = self._members.get(value)
        return self._enum(value) if member is None else member  # unknown: its ValueError


suite_of = ByValue(CipherSuite)
group_of = ByValue(NamedGroup)
scheme_of = ByValue(SignatureScheme)
