"""The TLS 1.2 ladder in memory: our client and server, bytes rewritten at will."""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from dataclasses import replace

import pytest
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from tls_peers import alert_record, first_body, pump, records

from tlsbench.tls import (
    AlertDescription,
    AlertReceived,
    ApplicationData,
    CipherSuite,
    ClientConfig,
    ClientConnection,
    ConnectionClosed,
    Event,
    HandshakeComplete,
    ServerConfig,
    ServerConnection,
    TlsUsageError,
)
from tlsbench.tls import extensions as ext
from tlsbench.tls.certs import CredentialFiles
from tlsbench.tls.constants import (
    DOWNGRADE_TLS12,
    TLS12,
    TLS12_SUITES,
    TLS13,
    ContentType,
    ExtensionType,
    NamedGroup,
)
from tlsbench.tls.messages import ClientHello, ServerHello
from tlsbench.tls.messages12 import HelloRequest

PROVIDERS = ("rust", "python", "cryptography")
RSA_KX = CipherSuite.TLS_RSA_WITH_AES_128_GCM_SHA256
ECDHE_RSA = CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256


def make_pair(
    credentials: dict[str, CredentialFiles],
    suite: CipherSuite = ECDHE_RSA,
    provider: str = "cryptography",
    client_class: type[ClientConnection] = ClientConnection,
    client_versions: tuple[int, ...] = (TLS12,),
    server_versions: tuple[int, ...] = (TLS13, TLS12),
    **client_options: object,
) -> tuple[ClientConnection, ServerConnection]:
    files = credentials["ecdsa-p256" if "ECDSA" in suite.name else "rsa2048"]
    client = client_class(
        ClientConfig(
            server_name="localhost",
            ca_file=files.ca_file,
            cipher_suites=(suite, CipherSuite.TLS_AES_128_GCM_SHA256),
            groups=(NamedGroup.X25519, NamedGroup.SECP256R1),
            provider=provider,
            versions=client_versions,
            **client_options,  # type: ignore[arg-type]
        )
    )
    server = ServerConnection(
        ServerConfig.from_files(
            files.cert_file, files.key_file, provider=provider, versions=server_versions
        )
    )
    return client, server


def closed(events: list[Event]) -> ConnectionClosed:
    last = events[-1]
    assert isinstance(last, ConnectionClosed), events
    return last


def up_to_second_flight(
    client: ClientConnection, server: ServerConnection
) -> tuple[bytes, list[bytes]]:
    """Run the hellos; return the server's first flight and the client's second (as records)."""
    first = server.receive_data(client.data_to_send())
    assert first == []
    flight = server.data_to_send()
    assert client.receive_data(flight) == []
    return flight, records(client.data_to_send())


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("suite", TLS12_SUITES, ids=lambda s: s.name[4:])
def test_handshake_data_close(
    credentials: dict[str, CredentialFiles], provider: str, suite: CipherSuite
) -> None:
    client, server = make_pair(credentials, suite, provider)
    client_events, server_events = pump(client, server)
    for events in (client_events, server_events):
        hs = events[-1]
        assert isinstance(hs, HandshakeComplete), events
        assert (hs.version, hs.cipher_suite, hs.extended_master_secret) == (TLS12, suite, True)
    assert client.state_name == server.state_name == "ExpectTraffic"
    data = os.urandom(70000)
    client.send_data(data)
    server.send_data(data[::-1])
    client_events, server_events = pump(client, server)
    assert b"".join(e.data for e in server_events if isinstance(e, ApplicationData)) == data
    assert b"".join(e.data for e in client_events if isinstance(e, ApplicationData)) == data[::-1]
    client.close()
    client_events, server_events = pump(client, server)
    assert closed(server_events).error is None and closed(client_events).error is None


@pytest.mark.parametrize(("client_ems", "server_ems"), [(False, True), (True, False)])
def test_extended_master_secret_needs_both(
    credentials: dict[str, CredentialFiles], client_ems: bool, server_ems: bool
) -> None:
    client, server = make_pair(credentials, extended_master_secret=client_ems)
    server = ServerConnection(replace(server.config, extended_master_secret=server_ems))
    client_events, server_events = pump(client, server)
    for events in (client_events, server_events):
        assert isinstance(events[-1], HandshakeComplete)
        assert not events[-1].extended_master_secret


# -- versions ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("client_versions", "server_versions", "version", "sentinel"),
    [
        ((TLS13, TLS12), (TLS13, TLS12), TLS13, False),
        ((TLS12,), (TLS13, TLS12), TLS12, True),
        ((TLS13, TLS12), (TLS12,), TLS12, False),
        ((TLS12,), (TLS12,), TLS12, False),
    ],
    ids=["both-both", "1.2-both", "both-1.2", "1.2-1.2"],
)
def test_version_negotiation(
    credentials: dict[str, CredentialFiles],
    client_versions: tuple[int, ...],
    server_versions: tuple[int, ...],
    version: int,
    sentinel: bool,
) -> None:
    client, server = make_pair(
        credentials, client_versions=client_versions, server_versions=server_versions
    )
    server.receive_data(client.data_to_send())
    flight = server.data_to_send()
    hello = ServerHello.decode(first_body(records(flight)[0]))
    assert (hello.random[-8:] == DOWNGRADE_TLS12) is sentinel
    client_events = client.receive_data(flight)
    more_client, server_events = pump(client, server)
    for events in (client_events + more_client, server_events):
        hs = [e for e in events if isinstance(e, HandshakeComplete)]
        assert hs and hs[0].version == version, events


def test_no_common_version(credentials: dict[str, CredentialFiles]) -> None:
    client, server = make_pair(credentials, client_versions=(TLS13,), server_versions=(TLS12,))
    events = server.receive_data(client.data_to_send())
    assert closed(events).error == AlertDescription.PROTOCOL_VERSION


def _strip_supported_versions(record: bytes) -> bytes:
    hello = ClientHello.decode(record[9:])
    exts = {k: v for k, v in hello.extensions.items() if k != ExtensionType.SUPPORTED_VERSIONS}
    raw = replace(hello, extensions=exts).encode()
    return record[:3] + len(raw).to_bytes(2, "big") + raw


def test_client_detects_downgrade_sentinel(credentials: dict[str, CredentialFiles]) -> None:
    """A middlebox strips supported_versions; our TLS 1.3 server answers 1.2 and marks it."""
    client, server = make_pair(credentials, client_versions=(TLS13, TLS12))
    server.receive_data(_strip_supported_versions(client.data_to_send()))
    events = client.receive_data(server.data_to_send())
    assert closed(events).error == AlertDescription.ILLEGAL_PARAMETER
    assert "downgrade" in closed(events).reason


# -- Finished, records, ChangeCipherSpec -------------------------------------------------
class WrongFinishedClient(ClientConnection):
    def finished_verify_data_tls12(self, master_secret: bytes) -> bytes:
        good = super().finished_verify_data_tls12(master_secret)
        return good[:-1] + bytes((good[-1] ^ 1,))


class WrongFinishedServer(ServerConnection):
    def finished_verify_data_tls12(self, master_secret: bytes) -> bytes:
        good = super().finished_verify_data_tls12(master_secret)
        return good[:-1] + bytes((good[-1] ^ 1,))


def test_bad_client_finished(credentials: dict[str, CredentialFiles]) -> None:
    client, server = make_pair(credentials, client_class=WrongFinishedClient)
    client_events, server_events = pump(client, server)
    assert closed(server_events).error == AlertDescription.DECRYPT_ERROR
    assert AlertReceived(2, AlertDescription.DECRYPT_ERROR) in client_events


def test_bad_server_finished(credentials: dict[str, CredentialFiles]) -> None:
    client, _ = make_pair(credentials)
    server = WrongFinishedServer(make_pair(credentials)[1].config)
    client_events, server_events = pump(client, server)
    assert closed(client_events).error == AlertDescription.DECRYPT_ERROR
    assert AlertReceived(2, AlertDescription.DECRYPT_ERROR) in server_events


def test_tampered_finished_record(credentials: dict[str, CredentialFiles]) -> None:
    client, server = make_pair(credentials)
    _, flight = up_to_second_flight(client, server)
    cke, ccs, finished = flight
    events = server.receive_data(cke + ccs + finished[:-1] + bytes((finished[-1] ^ 1,)))
    assert closed(events).error == AlertDescription.BAD_RECORD_MAC
    assert server.data_to_send() == alert_record(AlertDescription.BAD_RECORD_MAC)


def test_tampered_application_record(credentials: dict[str, CredentialFiles]) -> None:
    client, server = make_pair(credentials)
    pump(client, server)
    client.send_data(b"hello")
    record = client.data_to_send()
    events = server.receive_data(record[:-1] + bytes((record[-1] ^ 1,)))
    assert closed(events).error == AlertDescription.BAD_RECORD_MAC


def _with_trailing_byte(record: bytes) -> bytes:
    """One handshake message per record: add a byte to its body and fix both lengths."""
    body = record[9:] + b"\x00"
    message = record[5:6] + len(body).to_bytes(3, "big") + body
    return record[:3] + len(message).to_bytes(2, "big") + message


@pytest.mark.parametrize("suite", [RSA_KX, ECDHE_RSA], ids=["rsa", "ecdhe"])
def test_client_key_exchange_of_the_wrong_length(
    credentials: dict[str, CredentialFiles], suite: CipherSuite
) -> None:
    client, server = make_pair(credentials, suite)
    _, (cke, ccs, finished) = up_to_second_flight(client, server)
    events = server.receive_data(_with_trailing_byte(cke) + ccs + finished)
    assert closed(events).error == AlertDescription.DECODE_ERROR
    assert server.data_to_send() == alert_record(AlertDescription.DECODE_ERROR)


@pytest.mark.parametrize(
    ("where", "side"),
    [("before ClientKeyExchange", "server"), ("twice", "server"), ("after ServerHello", "client")],
)
def test_unexpected_change_cipher_spec(
    credentials: dict[str, CredentialFiles], where: str, side: str
) -> None:
    client, server = make_pair(credentials)
    ccs_record = bytes((20, 3, 3, 0, 1, 1))
    server.receive_data(client.data_to_send())
    server_flight = records(server.data_to_send())
    if side == "client":
        events = client.receive_data(server_flight[0] + ccs_record)
        assert closed(events).error == AlertDescription.UNEXPECTED_MESSAGE
        return
    client.receive_data(b"".join(server_flight))
    cke, ccs, _finished = records(client.data_to_send())
    wire = ccs_record + cke if where == "before ClientKeyExchange" else cke + ccs + ccs_record
    events = server.receive_data(wire)
    assert closed(events).error == AlertDescription.UNEXPECTED_MESSAGE, events


def test_protected_change_cipher_spec_after_handshake(
    credentials: dict[str, CredentialFiles],
) -> None:
    client, server = make_pair(credentials)
    pump(client, server)
    client.records.write(ContentType.CHANGE_CIPHER_SPEC, b"\x01")
    events = server.receive_data(client.data_to_send())
    assert closed(events).error == AlertDescription.UNEXPECTED_MESSAGE


@pytest.mark.parametrize("side", ["server", "client"])
def test_application_data_before_finished(
    credentials: dict[str, CredentialFiles], side: str
) -> None:
    """Data under the new keys, but before the Finished it must follow, is refused."""
    client, server = make_pair(credentials, session_tickets=False)
    _, (cke, ccs, finished) = up_to_second_flight(client, server)
    provider = client.crypto
    if side == "server":
        secrets = client._state.plan.secrets  # type: ignore[attr-defined]
        early = provider.RecordCipher("1.2", int(client.suite), *secrets.client_write)
        events = server.receive_data(cke + ccs + early.seal(23, b"too early"))
        assert closed(events).error == AlertDescription.UNEXPECTED_MESSAGE
        assert "before Finished" in closed(events).reason
        return
    server.receive_data(cke + ccs + finished)
    server_ccs, _server_finished = records(server.data_to_send())
    secrets = client._state.plan.secrets  # type: ignore[attr-defined]
    early = provider.RecordCipher("1.2", int(client.suite), *secrets.server_write)
    events = client.receive_data(server_ccs + early.seal(23, b"too early"))
    assert closed(events).error == AlertDescription.UNEXPECTED_MESSAGE


def test_key_update_is_not_tls12(credentials: dict[str, CredentialFiles]) -> None:
    client, server = make_pair(credentials)
    pump(client, server)
    with pytest.raises(TlsUsageError):
        client.key_update()


# -- renegotiation (RFC 5746) -----------------------------------------------------------
def test_renegotiation_refused_by_client(credentials: dict[str, CredentialFiles]) -> None:
    """A HelloRequest gets a no_renegotiation warning; the client stays open."""
    client, server = make_pair(credentials)
    pump(client, server)
    server.records.write(ContentType.HANDSHAKE, HelloRequest().encode())
    assert client.receive_data(server.data_to_send()) == []
    client.send_data(b"still here")
    assert not client.closed
    events = server.receive_data(client.data_to_send())
    assert events[0] == AlertReceived(1, AlertDescription.NO_RENEGOTIATION)


def test_renegotiation_refused_by_server(credentials: dict[str, CredentialFiles]) -> None:
    """A second ClientHello gets a no_renegotiation warning; the server stays open."""
    client, server = make_pair(credentials)
    pump(client, server)
    client.records.write(ContentType.HANDSHAKE, client.hello.encode())
    assert server.receive_data(client.data_to_send()) == []
    server.send_data(b"still here")
    assert not server.closed
    events = client.receive_data(server.data_to_send())
    assert events[0] == AlertReceived(1, AlertDescription.NO_RENEGOTIATION)


def test_client_requires_renegotiation_info(credentials: dict[str, CredentialFiles]) -> None:
    client, server = make_pair(credentials)
    server.receive_data(client.data_to_send())
    hello_record = records(server.data_to_send())[0]
    hello = ServerHello.decode(first_body(hello_record))
    exts = {k: v for k, v in hello.extensions.items() if k != ExtensionType.RENEGOTIATION_INFO}
    raw = replace(hello, extensions=exts).encode()
    events = client.receive_data(bytes((22, 3, 3)) + len(raw).to_bytes(2, "big") + raw)
    assert closed(events).error == AlertDescription.HANDSHAKE_FAILURE


def test_server_refuses_renegotiation_info_with_data(
    credentials: dict[str, CredentialFiles],
) -> None:
    client, server = make_pair(credentials)
    hello = client.hello
    exts = {
        **hello.extensions,
        ExtensionType.RENEGOTIATION_INFO: ext.encode_renegotiation_info(b"x"),
    }
    raw = replace(hello, extensions=exts).encode()
    events = server.receive_data(bytes((22, 3, 1)) + len(raw).to_bytes(2, "big") + raw)
    assert closed(events).error == AlertDescription.HANDSHAKE_FAILURE


def test_without_signature_algorithms_only_rsa_key_transport(
    credentials: dict[str, CredentialFiles],
) -> None:
    """RFC 5246 §7.4.1.4.1 would mean SHA-1 signatures; we do not sign those."""
    for suites, outcome in [((ECDHE_RSA,), None), ((ECDHE_RSA, RSA_KX), RSA_KX)]:
        client, server = make_pair(credentials)
        hello = client.hello
        exts = {
            k: v for k, v in hello.extensions.items() if k != ExtensionType.SIGNATURE_ALGORITHMS
        }
        raw = replace(hello, extensions=exts, cipher_suites=[int(s) for s in suites]).encode()
        events = server.receive_data(bytes((22, 3, 1)) + len(raw).to_bytes(2, "big") + raw)
        if outcome is None:
            assert closed(events).error == AlertDescription.HANDSHAKE_FAILURE
        else:
            assert events == [] and server.suite == outcome


# -- Bleichenbacher (RFC 5246 §7.4.7.1) ---------------------------------------------------
def _raw_rsa(public_key: rsa.RSAPublicKey, message: bytes) -> bytes:
    numbers = public_key.public_numbers()
    size = (public_key.key_size + 7) // 8
    value = pow(int.from_bytes(message, "big"), numbers.e, numbers.n)
    return value.to_bytes(size, "big")


def _pkcs1_type2(public_key: rsa.RSAPublicKey, payload: bytes, block_type: int = 2) -> bytes:
    size = (public_key.key_size + 7) // 8
    filler = bytes(random.randrange(1, 256) for _ in range(size - 3 - len(payload)))
    return _raw_rsa(public_key, bytes((0, block_type)) + filler + b"\x00" + payload)


PRE_MASTER_VARIANTS: dict[str, Callable[[rsa.RSAPublicKey, bytes], bytes]] = {
    # well formed, but not the secret the client derives its keys from
    "well-formed but wrong": lambda key, pms: key.encrypt(
        pms[:2] + os.urandom(46), padding.PKCS1v15()
    ),
    "no padding at all": lambda key, pms: _raw_rsa(key, os.urandom(200)),
    "wrong block type": lambda key, pms: _pkcs1_type2(key, pms, block_type=1),
    "47 bytes": lambda key, pms: _pkcs1_type2(key, pms[:47]),
    "wrong version": lambda key, pms: _pkcs1_type2(key, b"\x03\x02" + pms[2:]),
    "one byte short": lambda key, pms: key.encrypt(pms, padding.PKCS1v15())[:-1],
}


class _Seeded:
    """os.urandom made repeatable, so that two runs of the server can be compared byte by byte."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)

    def __call__(self, size: int) -> bytes:
        return self._rng.randbytes(size)


def _bad_pre_master_run(
    credentials: dict[str, CredentialFiles], variant: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[bytes, list[Event], str]:
    """Everything our server says and reports when the client sends ``variant``."""
    make = PRE_MASTER_VARIANTS[variant]

    class BadPreMasterClient(ClientConnection):
        def encrypt_pre_master_secret(
            self, public_key: rsa.RSAPublicKey, pre_master_secret: bytes
        ) -> bytes:
            return make(public_key, pre_master_secret)

    monkeypatch.setattr(os, "urandom", _Seeded(7))  # the same randoms in every run
    client, server = make_pair(credentials, RSA_KX, client_class=BadPreMasterClient)
    first_flight, second = up_to_second_flight(client, server)
    state_before = server.state_name
    events = server.receive_data(b"".join(second))
    return first_flight + server.data_to_send(), events, state_before


def test_malformed_pre_master_secret_is_indistinguishable(
    credentials: dict[str, CredentialFiles], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A malformed pre-master secret ends like a wrong one: same bytes, alert and step."""
    reference = _bad_pre_master_run(credentials, "well-formed but wrong", monkeypatch)
    wire, events, state = reference
    assert state == "ExpectClientKeyExchange"
    assert wire.endswith(alert_record(AlertDescription.BAD_RECORD_MAC))  # at Finished
    assert closed(events).error == AlertDescription.BAD_RECORD_MAC
    for variant in PRE_MASTER_VARIANTS:
        assert _bad_pre_master_run(credentials, variant, monkeypatch) == reference, variant
