"""Record protection, per provider: seal and open at 64 B, 1350 B and 16 KiB, and
seal_many / open_many / open_many_packed of 1 MiB; pyca's bare AEAD calls alongside as
the reference."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from tlsbench.crypto import Provider

SIZES = [64, 1350, 16384]
SUITES = {
    "aes128gcm-1.3": ("1.3", 0x1301),
    "chacha-1.3": ("1.3", 0x1303),
    "aes128gcm-1.2": ("1.2", 0xC02F),
}
MIB = 1 << 20


def cipher(provider: Provider, suite: str, seq: int = 0) -> Any:
    version, code = SUITES[suite]
    key_len = 16 if code in (0x1301, 0xC02F) else 32
    iv_len = 4 if code == 0xC02F else 12
    return provider.RecordCipher(version, code, bytes(key_len), bytes(iv_len), sequence=seq)


@pytest.mark.parametrize("suite", list(SUITES))
@pytest.mark.parametrize("size", SIZES)
def test_seal(
    run: Callable[..., Any], provider: Provider, suite: str, size: int, benchmark: Any
) -> None:
    benchmark.extra_info["bytes"] = size
    run(cipher(provider, suite).seal, 23, bytes(size), heavy=size > 2000)


BATCH = 100


@pytest.mark.parametrize("suite", list(SUITES))
@pytest.mark.parametrize("size", SIZES)
def test_open(benchmark: Any, provider: Provider, suite: str, size: int) -> None:
    """Opens BATCH records per round (sequence numbers 0..BATCH-1): divide by BATCH.

    Each round gets a fresh receiver, made outside the timed part.
    """
    benchmark.extra_info["bytes"] = size
    benchmark.extra_info["records_per_round"] = BATCH
    tx = cipher(provider, suite)
    records = [tx.seal(23, bytes(size)) for _ in range(BATCH)]

    def fresh() -> tuple[tuple[Any], dict[str, Any]]:
        return (cipher(provider, suite),), {}

    def open_all(rx: Any) -> None:
        for r in records:
            rx.open(r)

    rounds = 3 if provider.NAME == "python" else 200
    benchmark.pedantic(open_all, setup=fresh, rounds=rounds, warmup_rounds=1)


@pytest.mark.parametrize("suite", list(SUITES))
def test_seal_many_1mib(
    run: Callable[..., Any], provider: Provider, suite: str, benchmark: Any
) -> None:
    benchmark.extra_info["bytes"] = MIB
    run(cipher(provider, suite).seal_many, 23, bytes(MIB), heavy=True)


@pytest.mark.parametrize("call", ["open_many", "open_many_packed"])
@pytest.mark.parametrize("suite", list(SUITES))
def test_open_many_1mib(
    run: Callable[..., Any], provider: Provider, suite: str, call: str, benchmark: Any
) -> None:
    """open_many (a bytes per record) and open_many_packed (one bytes for the run, what the
    record layer calls on received records)."""
    benchmark.extra_info["bytes"] = MIB
    records = cipher(provider, suite).seal_many(23, bytes(MIB))
    run(lambda: getattr(cipher(provider, suite), call)(records), heavy=True)


@pytest.mark.parametrize("aead", ["AESGCM", "ChaCha20Poly1305"])
@pytest.mark.parametrize("size", [64, 16384])
def test_reference_pyca_encrypt(benchmark: Any, aead: str, size: int) -> None:
    """pyca's bare AEAD call: no record header, no sequence number."""
    benchmark.extra_info["bytes"] = size
    c = AESGCM(bytes(16)) if aead == "AESGCM" else ChaCha20Poly1305(bytes(32))
    benchmark(c.encrypt, bytes(12), bytes(size), None)


@pytest.mark.parametrize("aead", ["AESGCM", "CHACHA20"])
def test_reference_tlslite_seal(benchmark: Any, aead: str) -> None:
    """tlslite-ng's pure-Python AEAD on 16 KiB: the bar for the python provider."""
    from tlslite.utils import cipherfactory

    benchmark.extra_info["bytes"] = 16384
    if aead == "AESGCM":
        c = cipherfactory.createAESGCM(bytes(16), ["python"])
    else:
        c = cipherfactory.createCHACHA20(bytes(32), ["python"])
    assert c.implementation == "python"
    benchmark.pedantic(c.seal, args=(bytes(12), bytes(16384), b""), rounds=5, warmup_rounds=1)
