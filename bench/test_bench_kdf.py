"""Key derivation, per provider: what one handshake asks of the KDF."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tlsbench.crypto import Provider

R1, R2, PMS, SH = bytes(range(32)), bytes(range(32, 64)), bytes(48), bytes(32)


def test_tls12_prf_key_block(run: Callable[..., Any], provider: Provider) -> None:
    """Master secret and key block of TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256."""

    def derive() -> tuple[bytes, bytes, bytes, bytes]:
        ms = provider.tls12_master_secret("sha256", PMS, R1, R2)
        return provider.tls12_key_block(0xC02F, ms, R1, R2)

    run(derive)


def test_tls12_ems(run: Callable[..., Any], provider: Provider) -> None:
    run(provider.tls12_extended_master_secret, "sha256", PMS, SH)


def test_tls13_handshake_stage(run: Callable[..., Any], provider: Provider) -> None:
    """Early and handshake secrets, both traffic secrets, keys, IVs and finished keys."""

    def stage() -> object:
        return provider.KeySchedule(0x1301).handshake_stage(SH, SH)

    run(stage)


def test_tls13_application_stage(run: Callable[..., Any], provider: Provider) -> None:
    def stages() -> object:
        ks = provider.KeySchedule(0x1301)
        ks.handshake_stage(SH, SH)
        return ks.application_stage(SH)

    run(stages)
