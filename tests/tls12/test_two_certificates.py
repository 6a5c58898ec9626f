"""One server with an ECDSA and an RSA certificate: each handshake presents the one it can use."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from tls_peers import pump

from tlsbench.tls import (
    AlertDescription,
    CipherSuite,
    ClientConfig,
    ClientConnection,
    ConnectionClosed,
    HandshakeComplete,
    ServerConfig,
    ServerConnection,
)
from tlsbench.tls.certs import CredentialFiles
from tlsbench.tls.constants import TLS12, TLS13, NamedGroup, SignatureScheme


def _server(credentials: dict[str, CredentialFiles], first: str = "ecdsa-p256") -> ServerConfig:
    second = "rsa2048" if first == "ecdsa-p256" else "ecdsa-p256"
    a, b = credentials[first], credentials[second]
    return ServerConfig.from_files(a.cert_file, a.key_file, more=[(b.cert_file, b.key_file)])


def _handshake(
    credentials: dict[str, CredentialFiles],
    server: ServerConfig,
    suites: tuple[CipherSuite, ...],
    kind: str,
    **options: object,
) -> tuple[HandshakeComplete, str]:
    client = ClientConnection(
        ClientConfig(
            server_name="localhost",
            ca_file=credentials[kind].ca_file,
            cipher_suites=suites,
            groups=(NamedGroup.X25519, NamedGroup.SECP256R1),
            versions=(TLS13, TLS12),
            **options,  # type: ignore[arg-type]
        )
    )
    client_events, _ = pump(client, ServerConnection(server))
    done = next(e for e in client_events if isinstance(e, HandshakeComplete))
    key = x509.load_der_x509_certificate(done.peer_certificates[0]).public_key()
    return done, "rsa" if isinstance(key, rsa.RSAPublicKey) else "ec"


@pytest.mark.parametrize(
    ("suite", "kind", "key_type"),
    [
        (CipherSuite.TLS_RSA_WITH_AES_128_GCM_SHA256, "rsa2048", "rsa"),
        (CipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, "rsa2048", "rsa"),
        (
            CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            "ecdsa-p256",
            "ec",
        ),
    ],
)
def test_tls12_suite_picks_the_certificate(
    credentials: dict[str, CredentialFiles], suite: CipherSuite, kind: str, key_type: str
) -> None:
    # The client verifies against the CA of the kind it expects: the wrong leaf would fail.
    done, got = _handshake(credentials, _server(credentials), (suite,), kind)
    assert (done.version, done.cipher_suite, got) == (TLS12, suite, key_type)


def test_tls12_server_preference_over_both_certificates(
    credentials: dict[str, CredentialFiles],
) -> None:
    # Both kinds offered: the server's suite order (ECDHE-ECDSA first) decides.
    suites = (
        CipherSuite.TLS_RSA_WITH_AES_128_GCM_SHA256,
        CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    )
    done, got = _handshake(credentials, _server(credentials, "rsa2048"), suites, "ecdsa-p256")
    assert done.cipher_suite == CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
    assert got == "ec"


@pytest.mark.parametrize(
    ("schemes", "kind", "key_type"),
    [
        ((SignatureScheme.RSA_PSS_RSAE_SHA256,), "rsa2048", "rsa"),
        ((SignatureScheme.ECDSA_SECP256R1_SHA256,), "ecdsa-p256", "ec"),
    ],
)
def test_tls13_signature_schemes_pick_the_certificate(
    credentials: dict[str, CredentialFiles],
    schemes: tuple[SignatureScheme, ...],
    kind: str,
    key_type: str,
) -> None:
    done, got = _handshake(
        credentials,
        _server(credentials),
        (CipherSuite.TLS_AES_128_GCM_SHA256,),
        kind,
        signature_schemes=schemes,
    )
    assert (done.version, done.signature_scheme, got) == (TLS13, schemes[0], key_type)


def test_no_certificate_fits(credentials: dict[str, CredentialFiles]) -> None:
    files = credentials["ecdsa-p256"]
    server = ServerConnection(ServerConfig.from_files(files.cert_file, files.key_file))
    client = ClientConnection(
        ClientConfig(
            server_name="localhost",
            ca_file=files.ca_file,
            cipher_suites=(CipherSuite.TLS_RSA_WITH_AES_128_GCM_SHA256,),
            versions=(TLS12,),
        )
    )
    client_events, server_events = pump(client, server)
    ends = [e for e in client_events + server_events if isinstance(e, ConnectionClosed)]
    assert [e.error for e in ends] == [AlertDescription.HANDSHAKE_FAILURE] * 2
