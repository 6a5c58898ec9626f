"""The tables that stand in for Enum calls and name parsing on the handshake path."""

from __future__ import annotations

from enum import IntEnum
from typing import Any

import pytest

from tlsbench.tls.alerts import describe
from tlsbench.tls.constants import (
    TLS13_SUITES,
    AlertDescription,
    ByValue,
    CipherSuite,
    KeyExchange,
    NamedGroup,
    SignatureScheme,
    group_of,
    key_exchange,
    scheme_of,
    suite_of,
)


@pytest.mark.parametrize(
    ("lookup", "enum"),
    [(suite_of, CipherSuite), (group_of, NamedGroup), (scheme_of, SignatureScheme)],
)
def test_by_value_gives_the_enums_own_members(lookup: ByValue[Any], enum: type[IntEnum]) -> None:
    for member in enum:
        assert lookup(int(member)) is enum(int(member))
    with pytest.raises(ValueError):
        lookup(0xFEFE)


def test_key_exchange_of_every_tls12_suite() -> None:
    for suite in CipherSuite:
        if suite in TLS13_SUITES:
            with pytest.raises(ValueError, match=r"not a TLS 1\.2 suite"):
                key_exchange(suite)
            continue
        expected = (
            KeyExchange.ECDHE_ECDSA
            if suite.name.startswith("TLS_ECDHE_ECDSA_")
            else KeyExchange.ECDHE_RSA
            if suite.name.startswith("TLS_ECDHE_RSA_")
            else KeyExchange.RSA
        )
        assert key_exchange(suite) is expected


def test_describe_names_known_alerts_and_numbers_the_rest() -> None:
    assert describe(0) == "close_notify"
    assert describe(int(AlertDescription.BAD_RECORD_MAC)) == "bad_record_mac"
    assert describe(250) == "alert_250"
