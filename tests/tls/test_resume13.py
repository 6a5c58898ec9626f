"""TLS 1.3 resumption in memory, our client against our server, on every provider."""

from __future__ import annotations

from dataclasses import replace

import pytest
from tls_peers import alerts, closed, pump

from tlsbench.tls import (
    AlertDescription,
    ClientConfig,
    ClientConnection,
    HandshakeComplete,
    NamedGroup,
    ServerConfig,
    ServerConnection,
)
from tlsbench.tls.certs import CredentialFiles
from tlsbench.tls.constants import ExtensionType, PskKeyExchangeMode
from tlsbench.tls.events import Event, SessionTicketReceived
from tlsbench.tls.messages import ClientHello
from tlsbench.tls.sessions import Session, TicketKeys

PROVIDERS = ("rust", "python", "cryptography")


def _configs(
    files: CredentialFiles, provider: str, **server: object
) -> tuple[ClientConfig, ServerConfig]:
    client = ClientConfig(server_name="localhost", ca_file=files.ca_file, provider=provider)
    base = ServerConfig.from_files(files.cert_file, files.key_file, provider=provider)
    return client, replace(base, **server)  # type: ignore[arg-type]


def _handshake(
    client: ClientConfig,
    server: ServerConfig,
    client_class: type[ClientConnection] = ClientConnection,
) -> tuple[ClientConnection, ServerConnection, list[Event], list[Event]]:
    c, s = client_class(client), ServerConnection(server)
    client_events, server_events = pump(c, s)
    return c, s, client_events, server_events


def _complete(events: list[Event]) -> HandshakeComplete:
    return next(e for e in events if isinstance(e, HandshakeComplete))


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("mode", [PskKeyExchangeMode.PSK_DHE_KE, PskKeyExchangeMode.PSK_KE])
def test_resume_both_modes(
    credentials: dict[str, CredentialFiles], provider: str, mode: PskKeyExchangeMode
) -> None:
    client, server = _configs(credentials["ecdsa-p256"], provider)
    client = replace(client, psk_modes=(mode,))
    c, s, events, _ = _handshake(client, server)
    tickets = [e for e in events if isinstance(e, SessionTicketReceived)]
    assert len(tickets) == 2 and all(t.session is not None for t in tickets)
    assert tickets[0].session != tickets[1].session and c.session == tickets[1].session
    assert not c.resumed and not s.resumed
    first = tickets[0].session
    assert first is not None and first.lifetime == 7200
    c2, s2, events2, server_events2 = _handshake(replace(client, session=first), server)
    assert c2.resumed and s2.resumed
    assert _complete(events2).resumed and _complete(server_events2).resumed
    assert _complete(events2).peer_certificates == ()
    assert (c2.group is None) == (mode == PskKeyExchangeMode.PSK_KE)
    # one fresh ticket after a resumed handshake, itself resumable
    assert len([e for e in events2 if isinstance(e, SessionTicketReceived)]) == 1
    c3, s3, _, _ = _handshake(replace(client, session=c2.session), server)
    assert c3.resumed and s3.resumed
    c2.send_data(b"ping")
    assert b"ping" in b"".join(getattr(e, "data", b"") for e in s2.receive_data(c2.data_to_send()))


@pytest.mark.parametrize("provider", PROVIDERS)
def test_resume_after_hello_retry_request(
    credentials: dict[str, CredentialFiles], provider: str
) -> None:
    client, server = _configs(credentials["ecdsa-p256"], provider, groups=(NamedGroup.X25519,))
    client = replace(
        client,
        groups=(NamedGroup.SECP256R1, NamedGroup.X25519),
        key_share_groups=(NamedGroup.SECP256R1,),
    )
    c, _, _, _ = _handshake(client, server)
    assert c.hello_retry_request and c.session is not None
    c2, s2, events, _ = _handshake(replace(client, session=c.session), server)
    assert c2.hello_retry_request and c2.resumed and s2.resumed and _complete(events).resumed


def _session(credentials: dict[str, CredentialFiles], server: ServerConfig) -> Session:
    client, _ = _configs(credentials["ecdsa-p256"], server.provider)
    c, _, _, _ = _handshake(client, server)
    assert c.session is not None
    return c.session


@pytest.mark.parametrize("provider", PROVIDERS)
def test_refused_tickets_are_full_handshakes(
    credentials: dict[str, CredentialFiles], provider: str
) -> None:
    client, server = _configs(credentials["ecdsa-p256"], provider)
    session = _session(credentials, server)
    forged = replace(session, ticket=bytes([session.ticket[0] ^ 1]) + session.ticket[1:])
    other = replace(server, ticket_keys=TicketKeys())
    for config, offered in ((server, forged), (other, session)):
        c, s, events, _ = _handshake(replace(client, session=offered), config)
        assert _complete(events).resumed is False and not c.resumed and not s.resumed
        assert _complete(events).peer_certificates  # the full handshake's Certificate


@pytest.mark.parametrize("provider", PROVIDERS)
def test_expired_ticket_is_a_full_handshake(
    credentials: dict[str, CredentialFiles], provider: str
) -> None:
    now = [1_000_000.0]
    keys = TicketKeys(rotation=1e9, lifetime=60, clock=lambda: now[0])
    client, server = _configs(credentials["ecdsa-p256"], provider, ticket_keys=keys)
    session = _session(credentials, server)
    assert session.lifetime == 60
    now[0] += 61  # the server's clock: the client's still thinks the ticket young
    c, s, events, _ = _handshake(replace(client, session=session), server)
    assert not c.resumed and not s.resumed and not _complete(events).resumed


@pytest.mark.parametrize("provider", PROVIDERS)
def test_wrong_age_is_a_full_handshake(
    credentials: dict[str, CredentialFiles], provider: str
) -> None:
    client, server = _configs(credentials["ecdsa-p256"], provider)
    session = _session(credentials, server)
    aged = replace(session, received=session.received - 30)  # client says 30 s, server ~0 s
    c, s, _, _ = _handshake(replace(client, session=aged), server)
    assert not c.resumed and not s.resumed


class _BadBinder(ClientConnection):
    def psk_binder(self, session: Session, transcript_hash: bytes) -> bytes:
        binder = super().psk_binder(session, transcript_hash)
        return binder[:-1] + bytes([binder[-1] ^ 1])


@pytest.mark.parametrize("provider", PROVIDERS)
def test_binder_wrong_by_one_bit_is_decrypt_error(
    credentials: dict[str, CredentialFiles], provider: str
) -> None:
    client, server = _configs(credentials["ecdsa-p256"], provider)
    session = _session(credentials, server)
    _, _, client_events, server_events = _handshake(
        replace(client, session=session), server, _BadBinder
    )
    assert closed(server_events).error == AlertDescription.DECRYPT_ERROR
    assert alerts(client_events) == [AlertDescription.DECRYPT_ERROR]


class _EarlyData(ClientConnection):
    def _bind_psk(self, hello: ClientHello) -> ClientHello:
        exts = dict(hello.extensions)
        exts[ExtensionType.EARLY_DATA] = b""
        self.sent_extensions = frozenset((*exts, ExtensionType.PRE_SHARED_KEY))
        return super()._bind_psk(replace(hello, extensions=exts))


@pytest.mark.parametrize("provider", PROVIDERS)
def test_early_data_with_a_psk_is_not_accepted(
    credentials: dict[str, CredentialFiles], provider: str
) -> None:
    client, server = _configs(credentials["ecdsa-p256"], provider)
    session = _session(credentials, server)
    c = _EarlyData(replace(client, session=session))
    s = ServerConnection(server)
    hello = c.data_to_send()
    # an early-data record (opaque to a server that refuses 0-RTT) right after the hello
    early = bytes((23, 3, 3, 0, 40)) + bytes(40)
    server_events = s.receive_data(hello + early)
    flight = s.data_to_send()
    assert s.records.skip_early_data
    client_events = c.receive_data(flight)
    more_client, more_server = pump(c, s)
    client_events += more_client
    server_events += more_server
    assert c.resumed and s.resumed and _complete(server_events).resumed
    assert _complete(client_events).resumed
    assert ExtensionType.EARLY_DATA in ClientHello.decode(hello[9:]).extensions


def test_no_tickets_when_off_or_without_modes(credentials: dict[str, CredentialFiles]) -> None:
    client, server = _configs(credentials["ecdsa-p256"], "cryptography")
    _, _, events, _ = _handshake(client, replace(server, tickets=0))
    assert not any(isinstance(e, SessionTicketReceived) for e in events)
    c, _, events, _ = _handshake(replace(client, psk_modes=()), server)
    assert not any(isinstance(e, SessionTicketReceived) for e in events) and c.session is None
