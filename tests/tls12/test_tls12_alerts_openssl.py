"""TLS 1.2 failures against OpenSSL: each ends in the right alert, seen by the peer, and a
clean close. Faults come from a relay that rewrites records, or from our engine told to
misbehave (a wrong Finished, a malformed pre-master secret)."""

from __future__ import annotations

import os
from contextlib import AbstractContextManager

import pytest
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from tls_peers import (
    OPENSSL_CIPHER,
    OpenSSL,
    PeerThread,
    Proxy,
    RecordHook,
    listener,
    openssl_client,
)
from tls_peers import openssl_server as _openssl_server

from tlsbench.tls import AlertDescription, CipherSuite, ClientConfig, ServerConfig
from tlsbench.tls.certs import CredentialFiles
from tlsbench.tls.client import ClientConnection
from tlsbench.tls.constants import TLS12, ContentType
from tlsbench.tls.driver import TlsConnectionError, accept, connect

RSA_KX = CipherSuite.TLS_RSA_WITH_AES_128_GCM_SHA256
ECDHE_RSA = CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
CCS = bytes((20, 3, 3, 0, 1, 1))


def _client_config(files: CredentialFiles, suite: CipherSuite = ECDHE_RSA) -> ClientConfig:
    return ClientConfig(
        server_name="localhost", ca_file=files.ca_file, cipher_suites=(suite,), versions=(TLS12,)
    )


def _server_config(files: CredentialFiles) -> ServerConfig:
    return ServerConfig.from_files(files.cert_file, files.key_file, versions=(TLS12,))


def openssl_server(
    files: CredentialFiles, suite: CipherSuite = ECDHE_RSA
) -> AbstractContextManager[tuple[OpenSSL, int]]:
    """``openssl s_server -tls1_2`` with one suite."""
    return _openssl_server(
        files.cert_file, files.key_file, ["-cipher", OPENSSL_CIPHER[suite]], version="-tls1_2"
    )


def _assert_peer_saw(peer: OpenSSL, alert: AlertDescription) -> None:
    """OpenSSL reports a fatal alert it received as 'SSL alert number N'."""
    assert peer.stderr.wait_contains(f"SSL alert number {int(alert)}".encode()), peer.output()
    peer.wait()  # the peer ends on its own: a clean close


def _flip_last_byte(record: bytes) -> bytes:
    return record[:-1] + bytes((record[-1] ^ 1,))


def _with_trailing_byte(record: bytes) -> bytes:
    body = record[9:] + b"\x00"
    message = record[5:6] + len(body).to_bytes(3, "big") + body
    return record[:3] + len(message).to_bytes(2, "big") + message


def _is_handshake(record: bytes, msg_type: int) -> bool:
    return record[0] == ContentType.HANDSHAKE and len(record) > 5 and record[5] == msg_type


class TamperFinished:
    """Flip a bit of the protected Finished: the first handshake record after the CCS.

    Found by position, not by content: a ChaCha20 Finished has no explicit nonce, so its
    first byte is ciphertext and can look like any plaintext message type.
    """

    def __init__(self) -> None:
        self.after_ccs = False

    def __call__(self, index: int, record: bytes) -> list[bytes]:
        if record[0] == ContentType.CHANGE_CIPHER_SPEC:
            self.after_ccs = True
        elif self.after_ccs and record[0] == ContentType.HANDSHAKE:
            self.after_ccs = False
            return [_flip_last_byte(record)]
        return [record]


def lengthen_client_key_exchange(index: int, record: bytes) -> list[bytes]:
    return [_with_trailing_byte(record) if _is_handshake(record, 16) else record]


def early_ccs_to_server(index: int, record: bytes) -> list[bytes]:
    """A ChangeCipherSpec before ClientKeyExchange."""
    return [CCS, record] if _is_handshake(record, 16) else [record]


def early_ccs_to_client(index: int, record: bytes) -> list[bytes]:
    """A ChangeCipherSpec before the server's Certificate."""
    return [CCS, record] if _is_handshake(record, 11) else [record]


# -- our server, OpenSSL client ------------------------------------------------------------
@pytest.mark.parametrize(
    ("hook", "alert"),
    [
        (TamperFinished(), AlertDescription.BAD_RECORD_MAC),
        (lengthen_client_key_exchange, AlertDescription.DECODE_ERROR),
        (early_ccs_to_server, AlertDescription.UNEXPECTED_MESSAGE),
    ],
    ids=["tampered Finished", "ClientKeyExchange too long", "early CCS"],
)
def test_server_detects_on_the_wire(
    credentials: dict[str, CredentialFiles], hook: RecordHook, alert: AlertDescription
) -> None:
    files = credentials["rsa2048"]
    with listener() as sock:
        proxy = Proxy(sock.getsockname()[1], to_server=hook)
        try:
            args = ["-cipher", OPENSSL_CIPHER[RSA_KX]]
            with openssl_client(proxy.port, args, version="-tls1_2") as client:
                with pytest.raises(TlsConnectionError) as exc:
                    accept(sock, _server_config(files))
                assert exc.value.alert == alert and not exc.value.by_peer, str(exc.value)
                _assert_peer_saw(client, alert)
        finally:
            proxy.close()


# -- our client, OpenSSL server -------------------------------------------------------------
@pytest.mark.parametrize(
    ("hook", "alert"),
    [
        (TamperFinished(), AlertDescription.BAD_RECORD_MAC),
        (early_ccs_to_client, AlertDescription.UNEXPECTED_MESSAGE),
    ],
    ids=["tampered Finished", "early CCS"],
)
def test_client_detects_on_the_wire(
    credentials: dict[str, CredentialFiles], hook: RecordHook, alert: AlertDescription
) -> None:
    files = credentials["rsa2048"]
    with openssl_server(files) as (server, port):
        proxy = Proxy(port, to_client=hook)
        try:
            with pytest.raises(TlsConnectionError) as exc:
                connect("127.0.0.1", proxy.port, _client_config(files))
            assert exc.value.alert == alert and not exc.value.by_peer, str(exc.value)
            _assert_peer_saw(server, alert)
        finally:
            proxy.close()


def test_openssl_refuses_early_ccs(credentials: dict[str, CredentialFiles]) -> None:
    files = credentials["rsa2048"]
    with openssl_server(files) as (_server, port):
        proxy = Proxy(port, to_server=early_ccs_to_server)
        try:
            with pytest.raises(TlsConnectionError) as exc:
                connect("127.0.0.1", proxy.port, _client_config(files))
            assert exc.value.alert == AlertDescription.UNEXPECTED_MESSAGE and exc.value.by_peer
        finally:
            proxy.close()


class WrongFinishedClient(ClientConnection):
    def finished_verify_data_tls12(self, master_secret: bytes) -> bytes:
        return _flip_last_byte(super().finished_verify_data_tls12(master_secret))


class MalformedPreMasterClient(ClientConnection):
    """RSA without PKCS#1 padding: the server cannot tell until Finished."""

    def encrypt_pre_master_secret(
        self, public_key: rsa.RSAPublicKey, pre_master_secret: bytes
    ) -> bytes:
        numbers = public_key.public_numbers()
        value = pow(int.from_bytes(os.urandom(200), "big"), numbers.e, numbers.n)
        return value.to_bytes((public_key.key_size + 7) // 8, "big")


class WrongPreMasterClient(ClientConnection):
    """A well-formed pre-master secret, but not the one our keys come from."""

    def encrypt_pre_master_secret(
        self, public_key: rsa.RSAPublicKey, pre_master_secret: bytes
    ) -> bytes:
        return public_key.encrypt(pre_master_secret[:2] + os.urandom(46), padding.PKCS1v15())


@pytest.mark.parametrize(
    ("connection_class", "suite", "alert"),
    [
        (WrongFinishedClient, ECDHE_RSA, AlertDescription.DECRYPT_ERROR),
        (MalformedPreMasterClient, RSA_KX, AlertDescription.BAD_RECORD_MAC),
        (WrongPreMasterClient, RSA_KX, AlertDescription.BAD_RECORD_MAC),
    ],
    ids=["wrong Finished", "malformed pre-master", "wrong pre-master"],
)
def test_openssl_server_answers(
    credentials: dict[str, CredentialFiles],
    connection_class: type[ClientConnection],
    suite: CipherSuite,
    alert: AlertDescription,
) -> None:
    """OpenSSL's own answers, which ours match: a bad pre-master fails at Finished's record."""
    files = credentials["rsa2048"]
    with openssl_server(files, suite) as (_server, port):
        with pytest.raises(TlsConnectionError) as exc:
            connect(
                "127.0.0.1", port, _client_config(files, suite), connection_class=connection_class
            )
        assert exc.value.alert == alert and exc.value.by_peer, str(exc.value)


@pytest.mark.parametrize(
    "connection_class",
    [MalformedPreMasterClient, WrongPreMasterClient],
    ids=["malformed pre-master", "wrong pre-master"],
)
def test_our_server_answers_like_openssl(
    credentials: dict[str, CredentialFiles], connection_class: type[ClientConnection]
) -> None:
    files = credentials["rsa2048"]
    with listener() as sock:
        port = sock.getsockname()[1]

        def client() -> TlsConnectionError:
            with pytest.raises(TlsConnectionError) as exc:
                connect(
                    "127.0.0.1",
                    port,
                    _client_config(files, RSA_KX),
                    connection_class=connection_class,
                )
            return exc.value

        peer = PeerThread(client)
        with pytest.raises(TlsConnectionError) as ours:
            accept(sock, _server_config(files))
        theirs = peer.outcome()
    assert ours.value.alert == AlertDescription.BAD_RECORD_MAC and not ours.value.by_peer
    assert theirs.alert == AlertDescription.BAD_RECORD_MAC and theirs.by_peer
