"""Failures against OpenSSL: each ends in the right alert, seen by the peer, and a clean close.

Faults come from the wire (a relay that tampers with, truncates or repeats records) or
from our own engine told to misbehave (a wrong Finished, a bad signature).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tls_peers import OpenSSL, Proxy, RecordHook, listener, openssl_client, openssl_server

from tlsbench.tls import AlertDescription, ClientConfig, ServerConfig
from tlsbench.tls.certs import CredentialFiles
from tlsbench.tls.client import ClientConnection
from tlsbench.tls.constants import ContentType, SignatureScheme
from tlsbench.tls.driver import TlsConnectionError, accept, connect
from tlsbench.tls.server import ServerConnection

PROVIDER = "cryptography"


def _client_config(files: CredentialFiles) -> ClientConfig:
    return ClientConfig(server_name="localhost", ca_file=files.ca_file, provider=PROVIDER)


def _assert_peer_saw(peer: OpenSSL, alert: AlertDescription) -> None:
    """OpenSSL reports a fatal alert it received as 'SSL alert number N'."""
    assert peer.stderr.wait_contains(f"SSL alert number {int(alert)}".encode()), peer.output()
    peer.wait()  # the peer ends on its own: a clean close


def _assert_we_sent(exc: pytest.ExceptionInfo[TlsConnectionError], alert: AlertDescription) -> None:
    assert exc.value.alert == alert and not exc.value.by_peer, str(exc.value)


def _assert_we_got(exc: pytest.ExceptionInfo[TlsConnectionError], alert: AlertDescription) -> None:
    assert exc.value.alert == alert and exc.value.by_peer, str(exc.value)


def _flip_last_byte(record: bytes) -> bytes:
    return record[:-1] + bytes((record[-1] ^ 1,))


def _with_trailing_byte(record: bytes) -> bytes:
    """One handshake message per record: add a byte to its body and fix both lengths."""
    body = record[9:] + b"\x00"
    message = record[5:6] + len(body).to_bytes(3, "big") + body
    return record[:3] + len(message).to_bytes(2, "big") + message


def tamper_first_protected(index: int, record: bytes) -> list[bytes]:
    """Flip a bit of record 2: the first protected one, after the hello and the dummy CCS."""
    if index == 2 and record[0] == ContentType.APPLICATION_DATA:
        return [_flip_last_byte(record)]
    return [record]


def malform_hello(index: int, record: bytes) -> list[bytes]:
    """Add a byte after the hello's extensions (record 0)."""
    return [_with_trailing_byte(record) if index == 0 else record]


def repeat_hello(index: int, record: bytes) -> list[bytes]:
    """Send the hello twice: the second comes when a protected message is expected."""
    return [record, record] if index == 0 else [record]


WIRE_FAULTS = [
    pytest.param(tamper_first_protected, AlertDescription.BAD_RECORD_MAC, id="tampered record"),
    pytest.param(malform_hello, AlertDescription.DECODE_ERROR, id="malformed hello"),
    pytest.param(repeat_hello, AlertDescription.UNEXPECTED_MESSAGE, id="hello out of order"),
]


# -- our client detects ---------------------------------------------------------------
def test_client_unknown_ca(credentials: dict[str, CredentialFiles], other_ca: Path) -> None:
    files = credentials["rsa2048"]
    with openssl_server(files.cert_file, files.key_file) as (server, port):
        config = ClientConfig(server_name="localhost", ca_file=other_ca, provider=PROVIDER)
        with pytest.raises(TlsConnectionError) as exc:
            connect("127.0.0.1", port, config)
        _assert_we_sent(exc, AlertDescription.UNKNOWN_CA)
        _assert_peer_saw(server, AlertDescription.UNKNOWN_CA)


def test_client_wrong_name(credentials: dict[str, CredentialFiles]) -> None:
    files = credentials["ecdsa-p256"]
    with openssl_server(files.cert_file, files.key_file) as (server, port):
        config = ClientConfig(server_name="example.com", ca_file=files.ca_file, provider=PROVIDER)
        with pytest.raises(TlsConnectionError) as exc:
            connect("127.0.0.1", port, config)
        _assert_we_sent(exc, AlertDescription.BAD_CERTIFICATE)
        _assert_peer_saw(server, AlertDescription.BAD_CERTIFICATE)


def test_client_verification_switched_off(credentials: dict[str, CredentialFiles]) -> None:
    files = credentials["ecdsa-p256"]
    with openssl_server(files.cert_file, files.key_file) as (server, port):
        config = ClientConfig(server_name="example.com", verify=False, provider=PROVIDER)
        stream = connect("127.0.0.1", port, config)
        stream.send(b"unverified\n")
        assert server.stdout.wait_for(11) == b"unverified\n"
        stream.close()


@pytest.mark.parametrize(("hook", "alert"), WIRE_FAULTS)
def test_client_detects_on_the_wire(
    credentials: dict[str, CredentialFiles], hook: RecordHook, alert: AlertDescription
) -> None:
    files = credentials["ecdsa-p256"]
    with openssl_server(files.cert_file, files.key_file) as (server, port):
        proxy = Proxy(port, to_client=hook)
        try:
            with pytest.raises(TlsConnectionError) as exc:
                connect("127.0.0.1", proxy.port, _client_config(files))
            _assert_we_sent(exc, alert)
            _assert_peer_saw(server, alert)
        finally:
            proxy.close()


# -- OpenSSL detects our (deliberately) wrong messages --------------------------------
class WrongFinishedClient(ClientConnection):
    def finished_verify_data(self, finished_key: bytes) -> bytes:
        return _flip_last_byte(super().finished_verify_data(finished_key))


class WrongFinishedServer(ServerConnection):
    def finished_verify_data(self, finished_key: bytes) -> bytes:
        return _flip_last_byte(super().finished_verify_data(finished_key))


class BadSignatureServer(ServerConnection):
    def certificate_verify_signature(
        self, scheme: SignatureScheme, transcript_hash: bytes
    ) -> bytes:
        return _flip_last_byte(super().certificate_verify_signature(scheme, transcript_hash))


def test_client_wrong_finished(credentials: dict[str, CredentialFiles]) -> None:
    files = credentials["rsa2048"]
    with openssl_server(files.cert_file, files.key_file) as (server, port):
        stream = connect(
            "127.0.0.1", port, _client_config(files), connection_class=WrongFinishedClient
        )
        with pytest.raises(TlsConnectionError) as exc:
            stream.recv()
        _assert_we_got(exc, AlertDescription.DECRYPT_ERROR)
        assert server.stderr.wait_contains(b"digest check failed"), server.output()
        server.wait()


@pytest.mark.parametrize(
    ("connection_class", "alert", "reason"),
    [
        (WrongFinishedServer, AlertDescription.DECRYPT_ERROR, b"digest check failed"),
        (BadSignatureServer, AlertDescription.DECRYPT_ERROR, b"bad signature"),
    ],
    ids=["wrong Finished", "bad signature"],
)
def test_server_faults_seen_by_openssl(
    credentials: dict[str, CredentialFiles],
    connection_class: type[ServerConnection],
    alert: AlertDescription,
    reason: bytes,
) -> None:
    for kind in ("rsa2048", "ecdsa-p256"):
        files = credentials[kind]
        config = ServerConfig.from_files(files.cert_file, files.key_file, provider=PROVIDER)
        with (
            listener() as sock,
            openssl_client(sock.getsockname()[1], ["-CAfile", str(files.ca_file)]) as client,
        ):
            with pytest.raises(TlsConnectionError) as exc:
                accept(sock, config, connection_class=connection_class)
            _assert_we_got(exc, alert)
            assert client.stderr.wait_contains(reason), client.output()
            client.wait()


def test_server_unknown_ca_seen_by_openssl(
    credentials: dict[str, CredentialFiles], other_ca: Path
) -> None:
    files = credentials["ecdsa-p256"]
    config = ServerConfig.from_files(files.cert_file, files.key_file, provider=PROVIDER)
    args = ["-CAfile", str(other_ca), "-verify_return_error"]
    with listener() as sock, openssl_client(sock.getsockname()[1], args) as client:
        with pytest.raises(TlsConnectionError) as exc:
            accept(sock, config)
        _assert_we_got(exc, AlertDescription.UNKNOWN_CA)
        assert client.stderr.wait_contains(b"certificate verify failed"), client.output()
        client.wait()


# -- our server detects -----------------------------------------------------------------
@pytest.mark.parametrize(("hook", "alert"), WIRE_FAULTS)
def test_server_detects_on_the_wire(
    credentials: dict[str, CredentialFiles], hook: RecordHook, alert: AlertDescription
) -> None:
    files = credentials["rsa2048"]
    config = ServerConfig.from_files(files.cert_file, files.key_file, provider=PROVIDER)
    with listener() as sock:
        proxy = Proxy(sock.getsockname()[1], to_server=hook)
        try:
            with openssl_client(proxy.port, ["-CAfile", str(files.ca_file)]) as client:
                with pytest.raises(TlsConnectionError) as exc:
                    accept(sock, config)
                _assert_we_sent(exc, alert)
                _assert_peer_saw(client, alert)
        finally:
            proxy.close()
