"""Exceptions shared by every provider and the protocol engine.

Each error names the TLS alert (RFC 8446 §6.2) that the engine sends when it
stops a connection because of it.
"""

from __future__ import annotations


class TlsError(Exception):
    """Base class: a failure that ends a connection with ``alert``."""

    alert: int = 80  # internal_error


class BadRecordMac(TlsError):
    """Authentication failed (no detail is given, on purpose)."""

    alert = 20


class RecordOverflow(TlsError):
    """A record's plaintext or ciphertext is longer than the protocol allows."""

    alert = 22


class TruncatedRecord(TlsError):
    """A record is shorter than its header or its cipher's minimum says."""

    alert = 50  # decode_error


class MissingContentType(TlsError):
    """A TLS 1.3 inner plaintext is all padding (RFC 8446 §5.4)."""

    alert = 10  # unexpected_message


class SequenceOverflow(TlsError):
    """The record sequence number would wrap; the keys must be updated."""

    alert = 80
