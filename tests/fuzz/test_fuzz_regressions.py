"""Bugs the fuzzers found, one test each."""

from __future__ import annotations

import pytest
from fuzz_targets import client_config, feed, server_config
from hypothesis import given, settings
from hypothesis import strategies as st

from tlsbench.tls import ClientConnection, ConnectionClosed, ServerConnection
from tlsbench.tls.constants import TLS12, TLS13, AlertDescription, CipherSuite
from tlsbench.tls.server import ServerConfig

RSA_ENCRYPTION = bytes.fromhex("06092a864886f70d010101")  # OID 1.2.840.113549.1.1.1
UNKNOWN_KEY_OID = bytes.fromhex("06090086f70d0101010101")  # OID 0.0.840.113549.1.1.1


@pytest.mark.parametrize("version", [TLS13, TLS12])
def test_unknown_key_algorithm_is_unsupported_certificate(version: int) -> None:
    good = server_config("rsa2048")
    leaf = good.certificate_chain[0]
    assert leaf.count(RSA_ENCRYPTION) == 1
    config = ServerConfig(
        (leaf.replace(RSA_ENCRYPTION, UNKNOWN_KEY_OID),), good.private_key, versions=(version,)
    )
    client = ClientConnection(client_config(versions=(version,)))
    server = ServerConnection(config)
    server.receive_data(client.data_to_send())
    events = client.receive_data(server.data_to_send())
    closed = [e for e in events if isinstance(e, ConnectionClosed)]
    assert closed and closed[0].error == AlertDescription.UNSUPPORTED_CERTIFICATE, closed


def _tiny_rsa_leaf() -> bytes:
    """A certificate for a 400-bit RSA key: too small for a PKCS#1 v1.5 pre-master secret."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import Encoding
    from cryptography.x509.oid import NameOID

    def prime_after(n: int) -> int:
        while pow(2, n - 1, n) != 1 or pow(3, n - 1, n) != 1:  # Fermat: enough for a test key
            n += 1
        return n

    tiny = rsa.RSAPublicNumbers(65537, prime_after(2**199) * prime_after(2**200)).public_key()
    issuer_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(tiny)
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(issuer_key, hashes.SHA256())
    )
    return cert.public_bytes(Encoding.DER)


def test_rsa_key_too_small_for_the_pre_master_is_unsupported_certificate() -> None:
    """Found by atheris (fuzz_client): pyca's "Encryption failed" was an internal_error."""
    good = server_config("rsa2048")
    config = ServerConfig(
        (_tiny_rsa_leaf(),),
        good.private_key,
        versions=(TLS12,),
        cipher_suites=(CipherSuite.TLS_RSA_WITH_AES_128_GCM_SHA256,),
    )
    client = ClientConnection(client_config(versions=(TLS12,)))
    server = ServerConnection(config)
    server.receive_data(client.data_to_send())
    events = client.receive_data(server.data_to_send())
    closed = [e for e in events if isinstance(e, ConnectionClosed)]
    assert closed and closed[0].error == AlertDescription.UNSUPPORTED_CERTIFICATE, closed


@pytest.mark.parametrize("version", [TLS13, TLS12])
def test_unknown_x509_version_is_bad_certificate(version: int) -> None:
    """Found by atheris (fuzz_client): pyca's InvalidVersion is no ValueError, so it was an
    internal_error."""
    good = server_config("rsa2048")
    leaf = good.certificate_chain[0]
    v3 = bytes.fromhex("a003020102")  # [0] EXPLICIT INTEGER 2: X.509 v3
    assert leaf.count(v3) == 1
    config = ServerConfig(
        (leaf.replace(v3, bytes.fromhex("a00302011d")),), good.private_key, versions=(version,)
    )
    client = ClientConnection(client_config(versions=(version,)))
    server = ServerConnection(config)
    server.receive_data(client.data_to_send())
    events = client.receive_data(server.data_to_send())
    closed = [e for e in events if isinstance(e, ConnectionClosed)]
    assert closed and closed[0].error == AlertDescription.BAD_CERTIFICATE, closed


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=64))
def test_feed_checks_hold_on_garbage(data: bytes) -> None:
    """The connection contract helper itself: garbage ends in exactly one ConnectionClosed."""
    events = feed(ServerConnection(server_config()), [b"\x16\x03\x01" + data])
    assert isinstance(events[-1], ConnectionClosed)
