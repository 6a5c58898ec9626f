"""Each engine and server limit, hit by a raw or crafted peer over a real socket."""

from __future__ import annotations

import dataclasses
import hashlib
import socket
import threading
import time
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from reliability_helpers import (
    Running,
    client_hello,
    plaintext_alert,
    raw_connect,
    read_until_closed,
)

from tlsbench.server import ServerLimits
from tlsbench.tls import AlertDescription, ClientConfig, ClientConnection, ServerConfig
from tlsbench.tls.certs import CredentialFiles, load_certificate_chain
from tlsbench.tls.driver import TlsConnectionError, TlsStream, connect

RECORD_OVERFLOW = AlertDescription.RECORD_OVERFLOW
DECODE_ERROR = AlertDescription.DECODE_ERROR


def _alert_for(port: int, data: bytes) -> tuple[int | None, str]:
    with raw_connect(port) as sock:
        sock.sendall(data)
        received, how = read_until_closed(sock)
    return plaintext_alert(received), how


def _wait_for(condition: object, timeout: float = 3.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if callable(condition) and condition():
            return
        time.sleep(0.01)
    raise AssertionError("condition not met in time")


def test_plaintext_record_over_2_14_is_record_overflow(
    start_server: Callable[..., Running],
) -> None:
    run = start_server()
    # The header alone is enough: the server does not wait for 2^14 + 1 bytes.
    assert _alert_for(run.port, b"\x16\x03\x01\x40\x01" + b"\x01" * 100) == (RECORD_OVERFLOW, "eof")
    # At exactly 2^14 the server waits for the body: no alert within the wait.
    with raw_connect(run.port) as sock:
        sock.sendall(b"\x16\x03\x01\x40\x00" + b"\x01\x00\x3f\xfc" + b"\x00" * 100)
        sock.settimeout(0.3)
        with pytest.raises(TimeoutError):
            sock.recv(100)
    _wait_for(lambda: run.failures().get("sent record_overflow") == 1)
    assert any("failed: sent record_overflow" in line for line in run.log)


def test_ciphertext_record_over_2_14_plus_256_is_record_overflow(
    start_server: Callable[..., Running],
) -> None:
    run = start_server()
    assert _alert_for(run.port, b"\x17\x03\x03\x41\x01") == (RECORD_OVERFLOW, "eof")
    # 2^14 + 256 itself passes the length check (and fails later: no keys yet).
    alert, _ = _alert_for(run.port, b"\x17\x03\x03\x41\x00" + b"\x00" * 0x4100)
    assert alert == AlertDescription.UNEXPECTED_MESSAGE


def test_protected_records_over_the_limits_after_the_handshake(
    start_server: Callable[..., Running], client_config: ClientConfig
) -> None:
    run = start_server()
    # A ciphertext header over 2^14 + 256: the alert comes back encrypted.
    stream = connect("127.0.0.1", run.port, client_config)
    stream.sock.sendall(b"\x17\x03\x03\x41\x01")
    with pytest.raises(TlsConnectionError) as info:
        stream.recv()
    assert info.value.alert == RECORD_OVERFLOW and info.value.by_peer
    # A well-formed record whose inner plaintext is 2^14 + 1 bytes (RFC 8446 §5.4).
    stream = connect("127.0.0.1", run.port, client_config)
    direction = stream.conn.records._write
    assert direction is not None
    inner = b"x" * (1 << 14) + b"\x01" + b"\x17"  # content, then the inner type
    header = b"\x17\x03\x03" + (len(inner) + 16).to_bytes(2, "big")
    nonce = (int.from_bytes(direction._iv, "big") ^ direction.cipher.sequence).to_bytes(12, "big")
    stream.sock.sendall(header + AESGCM(direction._key).encrypt(nonce, inner, header))
    with pytest.raises(TlsConnectionError) as info:
        stream.recv()
    assert info.value.alert == RECORD_OVERFLOW and info.value.by_peer
    _wait_for(lambda: run.failures().get("sent record_overflow") == 2)


def test_handshake_message_cap_on_the_server(
    start_server: Callable[..., Running], client_config: ClientConfig
) -> None:
    run = start_server()
    # A ClientHello claiming 131,397 bytes, one more than its syntax allows: refused from
    # its 4-byte header.
    assert _alert_for(run.port, b"\x16\x03\x01\x00\x04\x01\x02\x01\x45") == (DECODE_ERROR, "eof")
    # The knob caps the other messages; a ClientHello keeps its own cap (RFC 8446 §4.1.2),
    # so a server with a 100-byte cap still completes a handshake whose hello is larger.
    small = start_server(config={"max_handshake_message": 100})
    assert len(client_hello(client_config)) - 9 > 100
    stream = connect("127.0.0.1", small.port, client_config)
    assert stream.conn.handshake_complete
    stream.close()


def test_handshake_message_cap_on_the_client(
    start_server: Callable[..., Running], client_config: ClientConfig
) -> None:
    run = start_server()
    config = dataclasses.replace(client_config, max_handshake_message=200)
    with pytest.raises(TlsConnectionError) as info:
        connect("127.0.0.1", run.port, config)  # our Certificate message is larger
    assert info.value.alert == DECODE_ERROR and not info.value.by_peer
    _wait_for(lambda: run.failures().get("received decode_error") == 1)


@pytest.mark.parametrize("version", [0x0304, 0x0303], ids=["tls1.3", "tls1.2"])
@pytest.mark.parametrize("cap", ["count", "bytes"])
def test_certificate_chain_cap_on_the_client(
    start_server: Callable[..., Running],
    client_config: ClientConfig,
    server_config: ServerConfig,
    creds: CredentialFiles,
    version: int,
    cap: str,
) -> None:
    ca = load_certificate_chain(creds.ca_file)
    if cap == "count":  # 11 certificates: over the default 10
        run = start_server(
            config={"certificate_chain": server_config.certificate_chain + tuple(ca) * 10}
        )
        config = dataclasses.replace(client_config, versions=(version,))
    else:
        run = start_server()
        config = dataclasses.replace(client_config, versions=(version,), max_certificate_chain=300)
    with pytest.raises(TlsConnectionError) as info:
        connect("127.0.0.1", run.port, config)
    assert info.value.alert == AlertDescription.BAD_CERTIFICATE and not info.value.by_peer
    assert ("certificates (limit 10)" if cap == "count" else "(limit 300)") in str(info.value)
    _wait_for(lambda: run.failures().get("received bad_certificate") == 1)


def test_default_chain_limits() -> None:
    config = ClientConfig(verify=False)
    assert config.max_certificates == 10 and config.max_certificate_chain == 1 << 16
    assert ServerConfig.max_handshake_message == 1 << 16


def test_handshake_timeout(
    start_server: Callable[..., Running], client_config: ClientConfig
) -> None:
    run = start_server(ServerLimits(handshake_timeout=0.3))
    hello = client_hello(client_config)
    start = time.monotonic()
    with raw_connect(run.port) as stalled, raw_connect(run.port) as silent:
        stalled.sendall(hello[:40])  # stalls mid-ClientHello
        assert read_until_closed(stalled) == (b"", "eof")  # closed without an alert
        assert read_until_closed(silent) == (b"", "eof")
    assert 0.25 < time.monotonic() - start < 3
    _wait_for(lambda: run.failures().get("handshake timeout") == 2)
    assert sum("127.0.0.1:" in line and "handshake timeout" in line for line in run.log) == 2


def test_idle_timeout(start_server: Callable[..., Running], client_config: ClientConfig) -> None:
    run = start_server(ServerLimits(idle_timeout=0.4))
    stream = connect("127.0.0.1", run.port, client_config)
    for _ in range(4):  # traffic keeps it open past the timeout
        time.sleep(0.2)
        stream.send(b"ping")
        assert stream.recv_exactly(4) == b"ping"
    start = time.monotonic()
    assert stream.recv() == b""  # then the server's close_notify
    assert stream.closed is not None and stream.closed.error is None and stream.closed.by_peer
    assert 0.3 < time.monotonic() - start < 3
    stream.close()
    _wait_for(lambda: run.failures().get("idle timeout") == 1)


def test_connection_cap_refuses_cleanly(
    start_server: Callable[..., Running], client_config: ClientConfig
) -> None:
    run = start_server(ServerLimits(max_connections=2))
    held = [raw_connect(run.port) for _ in range(2)]
    _wait_for(lambda: run.server.active == 2)
    start = time.monotonic()
    with raw_connect(run.port) as refused:
        assert read_until_closed(refused)[0] == b""  # closed at once, nothing sent
    assert time.monotonic() - start < 1
    _wait_for(lambda: run.failures().get("refused: connection cap") == 1)
    for sock in held:
        sock.close()
    _wait_for(lambda: run.server.active == 0)
    with connect("127.0.0.1", run.port, client_config) as stream:  # served again
        stream.send(b"back")
        assert stream.recv_exactly(4) == b"back"
    assert run.server.stats.connections == 4


def test_unsent_data_is_bounded_and_nothing_is_lost(
    start_server: Callable[..., Running], client_config: ClientConfig
) -> None:
    limit = 128 << 10
    run = start_server(ServerLimits(max_buffer=limit))
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 16)
    sock.connect(("127.0.0.1", run.port))
    stream = TlsStream(sock, ClientConnection(client_config))
    stream.do_handshake()
    peak = 0
    sampling = True

    def sample() -> None:  # the server's unsent bytes for this connection, seen from outside
        nonlocal peak
        while sampling:
            for client in list(run.server._clients.values()):
                peak = max(peak, len(client.out))
            time.sleep(0.001)

    sampler = threading.Thread(target=sample)
    sampler.start()
    chunk = bytes(range(256)) * 4096  # 1 MiB
    sealed = bytearray()
    for _ in range(48):
        stream.conn.send_data(chunk)
        sealed += stream.conn.data_to_send()
    sock.setblocking(False)
    offset, stuck_since = 0, time.monotonic()
    while offset < len(sealed) and time.monotonic() - stuck_since < 0.5:
        try:
            offset += sock.send(sealed[offset : offset + (1 << 20)])
            stuck_since = time.monotonic()
        except BlockingIOError:
            time.sleep(0.01)
    assert offset < len(sealed)  # the server stopped reading: we cannot send it all
    assert peak >= limit  # it stopped because its buffer reached the bound ...
    assert peak <= limit + 3 * ServerLimits().read_size  # ... and not much past it
    sock.setblocking(True)
    sock.settimeout(10)
    sender = threading.Thread(target=lambda: sock.sendall(sealed[offset:]))
    sender.start()
    received = stream.recv_exactly(48 * len(chunk))
    sender.join()
    sampling = False
    sampler.join()
    assert hashlib.sha256(received).digest() == hashlib.sha256(chunk * 48).digest()
    stream.close()
