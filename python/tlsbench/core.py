"""The Rust core, ``tlsbench._core``, under its public name.

>>> from tlsbench import core
>>> core.RecordCipher("1.3", "TLS_AES_128_GCM_SHA256", bytes(16), bytes(12)).sequence
0
"""

from tlsbench._core import (
    AeadCipher,
    KeySchedule,
    RecordCipher,
    Tls13Stage,
    __version__,
    build_info,
    derive_secret,
    hkdf_expand,
    hkdf_expand_label,
    hkdf_extract,
    hmac,
    tls12_extended_master_secret,
    tls12_key_block,
    tls12_master_secret,
    tls12_prf,
    tls12_verify_data,
    tls13_next_secret,
    tls13_traffic_keys,
    tls13_verify_data,
)

__all__ = [
    "AeadCipher",
    "KeySchedule",
    "RecordCipher",
    "Tls13Stage",
    "__version__",
    "build_info",
    "derive_secret",
    "hkdf_expand",
    "hkdf_expand_label",
    "hkdf_extract",
    "hmac",
    "tls12_extended_master_secret",
    "tls12_key_block",
    "tls12_master_secret",
    "tls12_prf",
    "tls12_verify_data",
    "tls13_next_secret",
    "tls13_traffic_keys",
    "tls13_verify_data",
]
