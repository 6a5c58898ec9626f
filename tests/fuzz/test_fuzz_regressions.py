"""Bugs the fuzzers found, one test each."""

from __future__ import annotations

import pytest
from fuzz_targets import client_config, feed, server_config
from hypothesis import given, settings
from hypothesis import strategies as st

from tlsbench.tls import ClientConnection, ConnectionClosed, ServerConnection
from tlsbench.tls.constants import TLS12, TLS13, AlertDescription
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


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=64))
def test_feed_checks_hold_on_garbage(data: bytes) -> None:
    """The connection contract helper itself: garbage ends in exactly one ConnectionClosed."""
    events = feed(ServerConnection(server_config()), [b"\x16\x03\x01" + data])
    assert isinstance(events[-1], ConnectionClosed)
