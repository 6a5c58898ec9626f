"""TLS 1.2 resumption in memory (RFC 5246 §7.3, RFC 5077, RFC 7627 §5.3): our client and
our server, every provider."""

from __future__ import annotations

import dataclasses

import pytest
from tls_peers import closed, pump, records

from tlsbench.tls import (
    AlertDescription,
    CipherSuite,
    ClientConfig,
    ClientConnection,
    ServerConfig,
    ServerConnection,
)
from tlsbench.tls.certs import CredentialFiles
from tlsbench.tls.constants import TLS12, TLS13, ContentType, HandshakeType, NamedGroup
from tlsbench.tls.sessions import Session, TicketKeys

PROVIDERS = ("rust", "python", "cryptography")
ECDHE_RSA = CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
ECDHE_RSA_256 = CipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384


def server_config(
    credentials: dict[str, CredentialFiles], provider: str = "cryptography", **options: object
) -> ServerConfig:
    files = credentials["rsa2048"]
    config = ServerConfig.from_files(
        files.cert_file, files.key_file, provider=provider, versions=(TLS13, TLS12)
    )
    return dataclasses.replace(config, **options)  # type: ignore[arg-type]


def handshake(
    credentials: dict[str, CredentialFiles],
    server: ServerConfig,
    session: Session | None = None,
    **options: object,
) -> tuple[ClientConnection, ServerConnection, bytes]:
    """One connection; also the server's first flight (to look at what it sent)."""
    files = credentials["rsa2048"]
    options.setdefault("cipher_suites", (ECDHE_RSA, ECDHE_RSA_256))
    client = ClientConnection(
        ClientConfig(
            server_name="localhost",
            ca_file=files.ca_file,
            groups=(NamedGroup.X25519,),
            provider=server.provider,
            versions=(TLS12,),
            session=session,
            **options,  # type: ignore[arg-type]
        )
    )
    conn = ServerConnection(server)
    conn.receive_data(client.data_to_send())
    flight = conn.data_to_send()
    client_events = client.receive_data(flight)
    more_client, server_events = pump(client, conn)
    client_events += more_client
    assert client.handshake_complete, client_events
    assert conn.handshake_complete, server_events
    return client, conn, flight


def handshake_types(flight: bytes) -> list[int]:
    """Types of the plaintext handshake messages before a ChangeCipherSpec (our server
    coalesces a flight, so a record may hold several)."""
    data = bytearray()
    for record in records(flight):
        if record[0] == ContentType.CHANGE_CIPHER_SPEC:
            break
        if record[0] == ContentType.HANDSHAKE:
            data += record[5:]
    types, at = [], 0
    while at + 4 <= len(data):
        types.append(data[at])
        at += 4 + int.from_bytes(data[at + 1 : at + 4], "big")
    assert at == len(data), "a handshake message was cut short"
    return types


@pytest.mark.parametrize("provider", PROVIDERS)
def test_session_id_resumption(credentials: dict[str, CredentialFiles], provider: str) -> None:
    config = server_config(credentials, provider)
    first, server, flight = handshake(credentials, config, session_tickets=False)
    assert not first.resumed and not server.resumed
    session = first.session
    assert session is not None and session.version == TLS12
    assert len(session.session_id) == 32 and session.ticket == b""
    assert session.extended_master_secret and session.cipher_suite == ECDHE_RSA
    assert HandshakeType.CERTIFICATE in handshake_types(flight)
    assert len(config.session_cache) == 1

    again, server, flight = handshake(credentials, config, session, session_tickets=False)
    assert again.resumed and server.resumed
    # §7.3: ServerHello, then at once ChangeCipherSpec and the (sealed) Finished.
    kinds = [r[0] for r in records(flight)]
    assert kinds == [ContentType.HANDSHAKE, ContentType.CHANGE_CIPHER_SPEC, ContentType.HANDSHAKE]
    assert handshake_types(flight) == [HandshakeType.SERVER_HELLO]
    assert again.session is session  # the same session resumes again
    assert again.peer_certificates == ()
    again.send_data(b"ping")
    assert [getattr(e, "data", None) for e in server.receive_data(again.data_to_send())] == [
        b"ping"
    ]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_ticket_resumption(credentials: dict[str, CredentialFiles], provider: str) -> None:
    """RFC 5077 without session IDs: the ticket alone resumes; the client's fresh ID echoed."""
    config = server_config(credentials, provider, session_ids=False)
    first, _, flight = handshake(credentials, config)
    types = handshake_types(flight)
    assert HandshakeType.NEW_SESSION_TICKET not in types  # it comes after the client's Finished
    session = first.session
    assert session is not None and session.ticket and session.session_id == b""
    assert session.lifetime == config.ticket_keys.lifetime
    assert len(config.session_cache) == 0

    again, server, flight = handshake(credentials, config, session)
    assert again.resumed and server.resumed
    assert handshake_types(flight) == [HandshakeType.SERVER_HELLO]


def test_new_session_ticket_comes_before_the_server_ccs(
    credentials: dict[str, CredentialFiles],
) -> None:
    config = server_config(credentials)
    client = ClientConnection(
        ClientConfig(
            server_name="localhost",
            ca_file=credentials["rsa2048"].ca_file,
            cipher_suites=(ECDHE_RSA,),
            versions=(TLS12,),
        )
    )
    server = ServerConnection(config)
    server.receive_data(client.data_to_send())
    client.receive_data(server.data_to_send())
    server.receive_data(client.data_to_send())
    last = records(server.data_to_send())
    assert [r[0] for r in last] == [
        ContentType.HANDSHAKE,
        ContentType.CHANGE_CIPHER_SPEC,
        ContentType.HANDSHAKE,
    ]
    assert last[0][5] == HandshakeType.NEW_SESSION_TICKET
    client.receive_data(b"".join(last))
    assert client.handshake_complete and client.session is not None and client.session.ticket


@pytest.mark.parametrize("provider", PROVIDERS)
def test_forged_ticket_is_a_full_handshake(
    credentials: dict[str, CredentialFiles], provider: str
) -> None:
    config = server_config(credentials, provider)
    first, _, _ = handshake(credentials, config)
    session = first.session
    assert session is not None
    ticket = bytearray(session.ticket)
    ticket[-1] ^= 1
    forged = dataclasses.replace(session, ticket=bytes(ticket), session_id=b"")
    again, server, flight = handshake(credentials, config, forged)
    assert not again.resumed and not server.resumed
    assert HandshakeType.CERTIFICATE in handshake_types(flight)
    assert again.session is not None and len(again.session.session_id) == 32
    assert again.session.session_id != session.session_id


def test_ticket_of_another_server_is_a_full_handshake(
    credentials: dict[str, CredentialFiles],
) -> None:
    first, _, _ = handshake(credentials, server_config(credentials))
    assert first.session is not None
    other = server_config(credentials)  # its own TicketKeys and cache
    again, server, _ = handshake(credentials, other, first.session)
    assert not again.resumed and not server.resumed


def test_expired_ticket_is_a_full_handshake(credentials: dict[str, CredentialFiles]) -> None:
    now = [1_000_000.0]
    keys = TicketKeys(clock=lambda: now[0])
    config = server_config(credentials, ticket_keys=keys, session_ids=False)
    first, _, _ = handshake(credentials, config)
    assert first.session is not None
    now[0] += keys.lifetime + 1
    again, server, _ = handshake(credentials, config, first.session)
    assert not again.resumed and not server.resumed


def test_no_tickets_when_the_server_sends_none(credentials: dict[str, CredentialFiles]) -> None:
    config = server_config(credentials, tickets=0)
    first, _, _ = handshake(credentials, config)
    assert first.session is not None and first.session.ticket == b""
    again, server, _ = handshake(credentials, config, first.session)
    assert again.resumed and server.resumed  # by session ID


def test_nothing_to_resume_without_ids_or_tickets(credentials: dict[str, CredentialFiles]) -> None:
    config = server_config(credentials, tickets=0, session_ids=False)
    first, _, _ = handshake(credentials, config)
    assert first.session is None


def test_session_without_ems_offered_without_it_is_refused(
    credentials: dict[str, CredentialFiles],
) -> None:
    """RFC 7627 §5.3: the session used EMS, the new ClientHello lacks it: handshake_failure."""
    config = server_config(credentials)
    first, _, _ = handshake(credentials, config, session_tickets=False)
    assert first.session is not None and first.session.extended_master_secret
    files = credentials["rsa2048"]
    client = ClientConnection(
        ClientConfig(
            server_name="localhost",
            ca_file=files.ca_file,
            cipher_suites=(ECDHE_RSA,),
            versions=(TLS12,),
            session=first.session,
            extended_master_secret=False,
            session_tickets=False,
        )
    )
    server = ServerConnection(config)
    events = server.receive_data(client.data_to_send())
    assert closed(events).error == AlertDescription.HANDSHAKE_FAILURE


def test_old_session_offered_with_ems_is_a_full_handshake(
    credentials: dict[str, CredentialFiles],
) -> None:
    """RFC 7627 §5.3: a session without EMS is not resumed by a ClientHello with it."""
    config = server_config(credentials, extended_master_secret=False)
    first, _, _ = handshake(credentials, config)
    assert first.session is not None and not first.session.extended_master_secret
    with_ems = dataclasses.replace(config, extended_master_secret=True)  # same cache and keys
    again, server, _ = handshake(credentials, with_ems, first.session)
    assert not again.resumed and not server.resumed
    assert again.extended_master_secret


@pytest.mark.parametrize("session_ems", [True, False])
def test_client_refuses_a_resumption_that_changes_ems(
    credentials: dict[str, CredentialFiles], session_ems: bool
) -> None:
    """RFC 7627 §5.3: the resumed ServerHello carries EMS iff the session had it."""
    config = server_config(credentials, extended_master_secret=not session_ems)
    first, _, _ = handshake(credentials, config, session_tickets=False)
    assert first.session is not None
    # The client believes otherwise of the session than the server, which resumes it.
    believed = dataclasses.replace(first.session, extended_master_secret=session_ems)
    files = credentials["rsa2048"]
    client = ClientConnection(
        ClientConfig(
            server_name="localhost",
            ca_file=files.ca_file,
            cipher_suites=(ECDHE_RSA,),
            versions=(TLS12,),
            session=believed,
            session_tickets=False,
        )
    )
    server = ServerConnection(config)
    server.receive_data(client.data_to_send())
    assert server.resumed
    events = client.receive_data(server.data_to_send())
    assert closed(events).error == AlertDescription.HANDSHAKE_FAILURE


def test_client_refuses_a_resumption_with_another_suite(
    credentials: dict[str, CredentialFiles],
) -> None:
    config = server_config(credentials)
    first, _, _ = handshake(credentials, config, session_tickets=False)
    assert first.session is not None and first.session.cipher_suite == ECDHE_RSA
    believed = dataclasses.replace(first.session, cipher_suite=ECDHE_RSA_256)
    files = credentials["rsa2048"]
    client = ClientConnection(
        ClientConfig(
            server_name="localhost",
            ca_file=files.ca_file,
            cipher_suites=(ECDHE_RSA, ECDHE_RSA_256),
            versions=(TLS12,),
            session=believed,
            session_tickets=False,
        )
    )
    server = ServerConnection(config)
    server.receive_data(client.data_to_send())
    assert server.resumed
    events = client.receive_data(server.data_to_send())
    assert closed(events).error == AlertDescription.ILLEGAL_PARAMETER


def test_server_does_not_resume_a_suite_no_longer_offered(
    credentials: dict[str, CredentialFiles],
) -> None:
    config = server_config(credentials)
    first, _, _ = handshake(credentials, config)
    assert first.session is not None
    # Offered anyway (a client that kept the ID but now offers other suites).
    renamed = dataclasses.replace(first.session, cipher_suite=ECDHE_RSA_256)
    again, server, _ = handshake(credentials, config, renamed, cipher_suites=(ECDHE_RSA_256,))
    assert not again.resumed and not server.resumed
    assert again.suite == ECDHE_RSA_256


def test_server_does_not_resume_for_another_server_name(
    credentials: dict[str, CredentialFiles],
) -> None:
    config = server_config(credentials)
    first, _, _ = handshake(credentials, config)
    assert first.session is not None
    files = credentials["rsa2048"]
    client = ClientConnection(
        ClientConfig(
            server_name="127.0.0.1",  # no SNI for an IP address
            ca_file=files.ca_file,
            cipher_suites=(ECDHE_RSA,),
            versions=(TLS12,),
            session=first.session,
        )
    )
    server = ServerConnection(config)
    pump(client, server)
    assert client.handshake_complete and not client.resumed and not server.resumed


def test_a_server_resuming_a_session_never_offered_is_refused(
    credentials: dict[str, CredentialFiles],
) -> None:
    """Our client offering TLS 1.3 and 1.2 sends a random legacy_session_id; an echo of it
    from a TLS 1.2 server would resume a session the client never had."""
    config = server_config(credentials)
    first, _, _ = handshake(credentials, config, session_tickets=False)
    assert first.session is not None
    files = credentials["rsa2048"]
    client = ClientConnection(
        ClientConfig(
            server_name="localhost",
            ca_file=files.ca_file,
            cipher_suites=(ECDHE_RSA, CipherSuite.TLS_AES_128_GCM_SHA256),
            versions=(TLS13, TLS12),
        )
    )
    # Put the client's random ID in the server's cache: the server resumes it.
    config.session_cache.put(client.session_id, config.session_cache.get(first.session.session_id))  # type: ignore[arg-type]
    server = ServerConnection(dataclasses.replace(config, versions=(TLS12,)))
    server.receive_data(client.data_to_send())
    assert server.resumed
    events = client.receive_data(server.data_to_send())
    assert closed(events).error == AlertDescription.ILLEGAL_PARAMETER
