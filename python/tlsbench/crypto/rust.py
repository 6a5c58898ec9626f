"""The ``rust`` provider: everything in the PyO3 core, ``tlsbench._core``."""

from tlsbench._core import (
    AeadCipher,
    KeyAgreement,
    KeySchedule,
    RecordCipher,
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
    tls13_resumption_psk,
    tls13_traffic_keys,
    tls13_verify_data,
)

NAME = "rust"

__all__ = [
    "NAME",
    "AeadCipher",
    "KeyAgreement",
    "KeySchedule",
    "RecordCipher",
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
    "tls13_resumption_psk",
    "tls13_traffic_keys",
    "tls13_verify_data",
]
