"""Python ``ssl`` (OpenSSL) and tlslite-ng as sans-I/O server connections for the loop.

:class:`SslServerConnection` and :class:`TlsliteServerConnection` have the interface the
loop uses of our ``ServerConnection`` (:class:`~.loop.ServerSide`): bytes in, events out,
bytes to send. So ``tlsbench serve`` runs them under the same limits, deadlines, stats
and log lines as our engine. :func:`ssl_factory` and :func:`tlslite_factory` build a
stack's server side once (context, or parsed keys and settings) and return what makes
one connection per accepted socket.

What the stacks do not report is read from our own first flight as it leaves
(:class:`_FlightWatch`): the group (ServerHello key_share in TLS 1.3, ServerKeyExchange
in TLS 1.2), a HelloRetryRequest, extended_master_secret and the TLS 1.2 signature
scheme. Both stacks write whole records, and those messages are sent in plaintext.

Alerts. A ConnectionClosed carries the alert number as exactly as the stack lets us tell:

- tlslite raises TLSLocalAlert / TLSRemoteAlert with the number itself.
- OpenSSL names the received alert in its error reason (reason code 1000 + alert, its
  ``SSL_AD_REASON_OFFSET``; e.g. SSLV3_ALERT_HANDSHAKE_FAILURE = 1040).
- For an alert OpenSSL sent, the plaintext alert record it queued is read (every
  TLS 1.2 handshake alert, and TLS 1.3 ones before ServerHello, e.g. NO_SHARED_CIPHER ->
  handshake_failure 40). An encrypted one (TLS 1.3 after ServerHello, or after the
  handshake) is taken from :data:`OPENSSL_REASON_ALERT`; an unknown reason counts as
  internal_error. The reason text says which of these it was, and says so when OpenSSL
  sent no alert at all (as for an HTTP request).

Our engine's other limits (``max_handshake_message``) do not reach into these stacks;
their own limits apply.
"""

from __future__ import annotations

import errno
import os
import ssl
import warnings
from _ssl import err_names_to_codes
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from tlsbench.tls.connection import TlsUsageError
from tlsbench.tls.constants import (
    TLS12,
    TLS12_SUITES,
    TLS13,
    TLS13_SUITES,
    AlertDescription,
    CipherSuite,
    ContentType,
    ExtensionType,
    HandshakeType,
    KeyExchange,
    NamedGroup,
    SignatureScheme,
    key_exchange,
)
from tlsbench.tls.events import ApplicationData, ConnectionClosed, Event, HandshakeComplete
from tlsbench.tls.extensions import (
    decode_key_share_server,
    decode_supported_versions_server,
)
from tlsbench.tls.messages import ServerHello
from tlsbench.tls.messages12 import ServerKeyExchange

from .loop import ConnectionFactory

SUITE_NAMES: tuple[str, ...] = tuple(s.name for s in (*TLS13_SUITES, *TLS12_SUITES))
"""Every suite ``serve`` knows, as IANA names, in our engine's order of preference."""
GROUP_NAMES: tuple[str, ...] = ("x25519", "secp256r1", "secp384r1")
"""Every group ``serve`` knows."""
VERSIONS: tuple[int, ...] = (TLS13, TLS12)

OPENSSL_GROUP = {"x25519": "X25519", "secp256r1": "P-256", "secp384r1": "P-384"}
"""Our group names as OpenSSL's ``Groups`` setting spells them."""
_SSL_CURVE = {"x25519": "X25519", "secp256r1": "prime256v1", "secp384r1": "secp384r1"}
"""... and as ``SSLContext.set_ecdh_curve`` takes them (OpenSSL short names)."""

_READ_SIZE = 1 << 16
_WATCH_LIMIT = 1 << 17
"""Bytes of our first flight kept for :class:`_FlightWatch`, at most (a long chain fits)."""

_ALERT_RECEIVED_OFFSET = 1000
"""OpenSSL's SSL_AD_REASON_OFFSET: reason 1000 + n means "received alert n"."""

_A = AlertDescription
OPENSSL_REASON_ALERT: dict[str, int] = {
    # The alert OpenSSL sends for a failure it detects, by its error reason, where the
    # record itself cannot be read (encrypted). From OpenSSL's own SSLfatal() calls.
    "NO_SHARED_CIPHER": _A.HANDSHAKE_FAILURE,
    "NO_SHARED_GROUPS": _A.HANDSHAKE_FAILURE,
    "NO_SUITABLE_KEY_SHARE": _A.HANDSHAKE_FAILURE,
    "NO_SHARED_SIGNATURE_ALGORITHMS": _A.HANDSHAKE_FAILURE,
    "NO_SUITABLE_SIGNATURE_ALGORITHM": _A.HANDSHAKE_FAILURE,
    "UNSUPPORTED_PROTOCOL": _A.PROTOCOL_VERSION,
    "WRONG_VERSION_NUMBER": _A.PROTOCOL_VERSION,
    "VERSION_TOO_LOW": _A.PROTOCOL_VERSION,
    "DECRYPTION_FAILED_OR_BAD_RECORD_MAC": _A.BAD_RECORD_MAC,
    "DIGEST_CHECK_FAILED": _A.DECRYPT_ERROR,  # a wrong Finished (RFC 8446 §4.4.4)
    "BAD_SIGNATURE": _A.DECRYPT_ERROR,
    "UNEXPECTED_MESSAGE": _A.UNEXPECTED_MESSAGE,
    "UNEXPECTED_RECORD": _A.UNEXPECTED_MESSAGE,
    "UNEXPECTED_CCS_MESSAGE": _A.UNEXPECTED_MESSAGE,
    "CCS_RECEIVED_EARLY": _A.UNEXPECTED_MESSAGE,
    "NOT_ON_RECORD_BOUNDARY": _A.UNEXPECTED_MESSAGE,
    "LENGTH_MISMATCH": _A.DECODE_ERROR,
    "BAD_LENGTH": _A.DECODE_ERROR,
    "LENGTH_TOO_SHORT": _A.DECODE_ERROR,
    "BAD_PACKET_LENGTH": _A.DECODE_ERROR,
    "BAD_EXTENSION": _A.DECODE_ERROR,
    "BAD_KEY_UPDATE": _A.DECODE_ERROR,
    "PACKET_LENGTH_TOO_LONG": _A.RECORD_OVERFLOW,
    "ENCRYPTED_LENGTH_TOO_LONG": _A.RECORD_OVERFLOW,
    "DATA_LENGTH_TOO_LONG": _A.RECORD_OVERFLOW,
    "EXCESSIVE_MESSAGE_SIZE": _A.ILLEGAL_PARAMETER,
    "MISSING_SIGALGS_EXTENSION": _A.MISSING_EXTENSION,
    "PEER_DID_NOT_RETURN_A_CERTIFICATE": _A.CERTIFICATE_REQUIRED,
    "HTTP_REQUEST": _A.UNEXPECTED_MESSAGE,  # OpenSSL sends nothing; the text says so
    "HTTPS_PROXY_REQUEST": _A.UNEXPECTED_MESSAGE,
}

OPENSSL_VERIFY_ALERT: dict[int, int] = {
    # The alert OpenSSL sends for a certificate it refuses, by X509_V_ERR_* code (its
    # ssl_x509err2alert table); anything else is certificate_unknown.
    2: _A.UNKNOWN_CA,  # UNABLE_TO_GET_ISSUER_CERT
    7: _A.DECRYPT_ERROR,  # CERT_SIGNATURE_FAILURE
    9: _A.BAD_CERTIFICATE,  # CERT_NOT_YET_VALID
    10: _A.CERTIFICATE_EXPIRED,  # CERT_HAS_EXPIRED
    18: _A.UNKNOWN_CA,  # DEPTH_ZERO_SELF_SIGNED_CERT
    19: _A.UNKNOWN_CA,  # SELF_SIGNED_CERT_IN_CHAIN
    20: _A.UNKNOWN_CA,  # UNABLE_TO_GET_ISSUER_CERT_LOCALLY
    21: _A.UNKNOWN_CA,  # UNABLE_TO_VERIFY_LEAF_SIGNATURE
    23: _A.CERTIFICATE_REVOKED,  # CERT_REVOKED
    24: _A.UNKNOWN_CA,  # INVALID_CA
}

_TLSLITE_EXCEPTION_ALERT = {
    # tlslite's protocol exceptions that may end a connection without a TLSLocalAlert.
    "TLSIllegalParameterException": _A.ILLEGAL_PARAMETER,
    "TLSDecodeError": _A.DECODE_ERROR,
    "TLSUnexpectedMessage": _A.UNEXPECTED_MESSAGE,
    "TLSRecordOverflow": _A.RECORD_OVERFLOW,
    "TLSDecryptionFailed": _A.BAD_RECORD_MAC,
    "TLSBadRecordMAC": _A.BAD_RECORD_MAC,
    "TLSInsufficientSecurity": _A.INSUFFICIENT_SECURITY,
    "TLSUnknownPSKIdentity": _A.UNKNOWN_PSK_IDENTITY,
    "TLSHandshakeFailure": _A.HANDSHAKE_FAILURE,
}


# -- what both adapters share ---------------------------------------------------------


def _named(enum: Any, value: int) -> Any:
    """``enum(value)``, or None for a value our enums do not know (say x448)."""
    try:
        return enum(value)
    except ValueError:
        return None


class _FlightWatch:
    """Reads our first flight as it leaves, for what the stacks do not report.

    Only plaintext handshake records are parsed: the ServerHello (and a
    HelloRetryRequest) in TLS 1.3, ServerHello to ServerHelloDone in TLS 1.2. Anything
    unexpected just ends the watching; the fields keep their honest defaults.
    """

    def __init__(self) -> None:
        self.done = False
        self.group: NamedGroup | None = None
        self.hello_retry_request = False
        self.extended_master_secret = False
        self.psk = False
        """TLS 1.3: the ServerHello accepted a pre_shared_key (a resumed handshake)."""
        self.signature_scheme: SignatureScheme | None = None
        self._records = bytearray()
        self._messages = bytearray()

    def see(self, data: bytes) -> None:
        """The next bytes we send."""
        if self.done:
            return
        self._records += data
        try:
            self._parse_records()
        except Exception:  # not a flight we understand: stop, keep what was found
            self.done = True
        if self.done or len(self._records) + len(self._messages) > _WATCH_LIMIT:
            self.done = True
            self._records.clear()
            self._messages.clear()

    def _parse_records(self) -> None:
        while not self.done and len(self._records) >= 5:
            length = int.from_bytes(self._records[3:5], "big")
            if len(self._records) < 5 + length:
                return
            content_type = self._records[0]
            body = bytes(self._records[5 : 5 + length])
            del self._records[: 5 + length]
            if content_type == ContentType.HANDSHAKE:
                self._messages += body
                self._parse_messages()
            elif content_type != ContentType.CHANGE_CIPHER_SPEC:
                self.done = True  # an alert, or protected records: nothing more to read
            # A CCS: TLS 1.3's dummy one (Appendix D.4) after a HelloRetryRequest goes on
            # to the second ServerHello; a TLS 1.2 one comes after ServerHelloDone.

    def _parse_messages(self) -> None:
        while not self.done and len(self._messages) >= 4:
            length = int.from_bytes(self._messages[1:4], "big")
            if len(self._messages) < 4 + length:
                return
            msg_type = self._messages[0]
            body = bytes(self._messages[4 : 4 + length])
            del self._messages[: 4 + length]
            if msg_type == HandshakeType.SERVER_HELLO:
                self._server_hello(ServerHello.decode(body))
            elif msg_type == HandshakeType.SERVER_KEY_EXCHANGE:
                exchange = ServerKeyExchange.decode(body)  # RFC 8422 §5.4
                self.group = _named(NamedGroup, exchange.params.named_curve)
                self.signature_scheme = _named(SignatureScheme, exchange.algorithm)
                self.done = True
            elif msg_type == HandshakeType.SERVER_HELLO_DONE:
                self.done = True  # TLS 1.2 RSA key transport: no group

    def _server_hello(self, hello: ServerHello) -> None:
        if hello.is_hello_retry_request:
            self.hello_retry_request = True  # the group is in the ServerHello to come
            return
        extensions = hello.extensions
        versions = extensions.get(ExtensionType.SUPPORTED_VERSIONS)
        if versions is not None and decode_supported_versions_server(versions) == TLS13:
            self.psk = ExtensionType.PRE_SHARED_KEY in extensions
            share = extensions.get(ExtensionType.KEY_SHARE)
            if share is not None:
                self.group = _named(NamedGroup, decode_key_share_server(share).group)
            self.done = True  # RFC 8446 §4.1.3: everything after it is encrypted
        else:
            self.extended_master_secret = ExtensionType.EXTENDED_MASTER_SECRET in extensions


def _alert(code: int) -> AlertDescription | int:
    """Our enum member for an alert number when there is one."""
    found = _named(AlertDescription, code)
    return code if found is None else found


def _plaintext_alert(data: bytes) -> int | None:
    """The description of the last plaintext alert record in ``data`` (whole records)."""
    found = None
    offset = 0
    while offset + 5 <= len(data):
        length = int.from_bytes(data[offset + 3 : offset + 5], "big")
        if data[offset] == ContentType.ALERT and length == 2 and offset + 7 <= len(data):
            found = data[offset + 6]
        offset += 5 + length
    return found


def _complete(
    version: int,
    suite: CipherSuite,
    watch: _FlightWatch,
    alpn: bytes | None,
    group: NamedGroup | None = None,
    resumed: bool = False,
    peer_certificates: tuple[bytes, ...] = (),
) -> HandshakeComplete:
    """The event, with what the stack and our flight told (defaults for the rest)."""
    return HandshakeComplete(
        version=version,
        cipher_suite=suite,
        group=watch.group if watch.group is not None else group,
        signature_scheme=watch.signature_scheme,
        alpn_protocol=alpn,
        server_name=None,  # SNI is not asked of either stack
        hello_retry_request=watch.hello_retry_request,
        peer_certificates=peer_certificates,
        extended_master_secret=version == TLS12 and watch.extended_master_secret,
        resumed=resumed,
    )


def _split_suites(
    versions: Sequence[int], suites: Sequence[str]
) -> tuple[tuple[int, ...], list[CipherSuite], list[CipherSuite]]:
    """Versions still served, and the TLS 1.3 and TLS 1.2 suites, checked.

    A version none of whose suites is listed is not offered at all (its clients then get
    protocol_version, where our engine would answer handshake_failure).
    """
    unknown = [name for name in suites if name not in CipherSuite.__members__]
    if unknown:
        raise ValueError(f"unknown suites {unknown} (known: {', '.join(SUITE_NAMES)})")
    if not set(versions) <= {TLS13, TLS12} or not versions:
        raise ValueError(f"versions must be among 0x0304, 0x0303, not {list(versions)}")
    chosen = [CipherSuite[name] for name in dict.fromkeys(suites)]
    tls13 = [s for s in chosen if s in TLS13_SUITES]
    tls12 = [s for s in chosen if s in TLS12_SUITES]
    served = tuple(v for v in (TLS13, TLS12) if v in versions and (tls13 if v == TLS13 else tls12))
    if not served:
        raise ValueError("no listed suite belongs to a listed version")
    return served, tls13 if TLS13 in served else [], tls12 if TLS12 in served else []


def _check_groups(groups: Sequence[str]) -> list[str]:
    unknown = [g for g in groups if g not in GROUP_NAMES]
    if unknown or not groups:
        raise ValueError(f"groups must be among {', '.join(GROUP_NAMES)}, not {list(groups)}")
    return list(dict.fromkeys(groups))


Certificates = Sequence[tuple[Path | str, Path | str]]
"""(certificate chain PEM, private key PEM) pairs, the main one first."""


@dataclass(frozen=True)
class Resumption:
    """What a server does beyond full handshakes: tickets per TLS 1.3 handshake (0: no
    tickets in either version; TLS 1.2 session IDs stay on) and client certificates
    (``none``, ``optional``, ``require``, verified against ``client_ca``)."""

    tickets: int = 2
    client_auth: str = "none"
    client_ca: Path | str | None = None


# -- Python ssl -------------------------------------------------------------------------


@cache
def _openssl_names() -> dict[int, str]:
    """OpenSSL's name of each cipher suite code point it has (TLS 1.2 and 1.3)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.set_ciphers("ALL")
    return {int(c["id"]) & 0xFFFF: str(c["name"]) for c in ctx.get_ciphers()}


def openssl_suites(context: ssl.SSLContext) -> dict[str, CipherSuite]:
    """The context's enabled suites, OpenSSL name -> our code point (from OpenSSL's ids)."""
    out: dict[str, CipherSuite] = {}
    for cipher in context.get_ciphers():
        suite = _named(CipherSuite, int(cipher["id"]) & 0xFFFF)  # id is 0x0300_0000 | code
        if suite is not None:
            out[str(cipher["name"])] = suite
    return out


def ssl_openssl_conf(suites: Sequence[str], groups: Sequence[str]) -> str:
    """An OpenSSL config giving ``ssl`` these TLS 1.3 suites and groups (order kept).

    Python's ``ssl`` cannot set either list itself; OpenSSL reads the file named by
    ``OPENSSL_CONF`` once, when the process first loads it, so it must be in the
    environment before anything (``hashlib`` included) is imported.
    """
    tls13 = [s for s in dict.fromkeys(suites) if s in (x.name for x in TLS13_SUITES)]
    lines = [
        "openssl_conf = openssl_init",
        "[openssl_init]",
        "ssl_conf = ssl_sect",
        "[ssl_sect]",
        "system_default = system_default_sect",
        "[system_default_sect]",
        f"Groups = {':'.join(OPENSSL_GROUP[g] for g in _check_groups(groups))}",
    ]
    if tls13:
        lines.append(f"Ciphersuites = {':'.join(tls13)}")
    return "\n".join(lines) + "\n"


def ssl_server_context(
    certificates: Certificates,
    versions: Sequence[int] = VERSIONS,
    suites: Sequence[str] = SUITE_NAMES,
    groups: Sequence[str] = GROUP_NAMES,
    alpn: Sequence[str] = (),
    resumption: Resumption | None = None,
) -> ssl.SSLContext:
    """An ``ssl`` server context for these versions, suites, groups, ALPN protocols and
    certificates, resuming and asking for client certificates as ``resumption`` says.

    TLS 1.2 suites are set exactly, in order (``set_ciphers`` with their OpenSSL names,
    which also enables RSA key transport). TLS 1.3 suites cannot be set from Python 3.11:
    the context's (OpenSSL's defaults, or ``OPENSSL_CONF``'s, see :func:`ssl_openssl_conf`)
    must be the listed ones, else ValueError; their order is OpenSSL's (by default
    TLS_AES_256_GCM_SHA384 first, with server preference). One group is set exactly
    (``set_ecdh_curve``); all of ours leaves OpenSSL's list (by default it also has x448,
    P-521 and, for TLS 1.3, ffdhe groups); any other choice needs ``OPENSSL_CONF`` (which
    cannot be read back, so it is trusted). Each certificate is loaded with
    ``load_cert_chain``: OpenSSL keeps one per key type (RSA, ECDSA) and picks per
    handshake. ``resumption.tickets``: TLS 1.3 tickets per handshake (``num_tickets``;
    OpenSSL's default is two), and 0 also turns TLS 1.2 tickets off (``OP_NO_TICKET``);
    TLS 1.2 session IDs stay on (OpenSSL's server cache). ``client_auth``: ``CERT_OPTIONAL``
    or ``CERT_REQUIRED`` against ``client_ca``.
    """
    resumption = resumption or Resumption()
    served, tls13, tls12 = _split_suites(versions, suites)
    chosen_groups = _check_groups(groups)
    if not certificates:
        raise ValueError("at least one certificate and key are needed")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2 if TLS12 in served else ssl.TLSVersion.TLSv1_3
    ctx.maximum_version = ssl.TLSVersion.TLSv1_3 if TLS13 in served else ssl.TLSVersion.TLSv1_2
    if tls12:
        names = _openssl_names()
        ctx.set_ciphers(":".join(names[int(s)] for s in tls12))
    if tls13:
        enabled = {s for s in openssl_suites(ctx).values() if s in TLS13_SUITES}
        if enabled != set(tls13):
            have = ", ".join(s.name for s in TLS13_SUITES if s in enabled)
            raise ValueError(
                f"Python ssl cannot choose TLS 1.3 suites; OpenSSL has {have}. Start the "
                "process with OPENSSL_CONF naming a file from ssl_openssl_conf()"
            )
    if len(chosen_groups) == 1:
        ctx.set_ecdh_curve(_SSL_CURVE[chosen_groups[0]])
    elif set(chosen_groups) != set(GROUP_NAMES) and "OPENSSL_CONF" not in os.environ:
        raise ValueError(
            "Python ssl sets one group, or keeps OpenSSL's list; for "
            f"{', '.join(chosen_groups)} start the process with OPENSSL_CONF naming a "
            "file from ssl_openssl_conf()"
        )
    if alpn:
        ctx.set_alpn_protocols(list(alpn))
    for cert_file, key_file in certificates:
        ctx.load_cert_chain(str(cert_file), str(key_file))
    ctx.num_tickets = resumption.tickets
    if resumption.tickets == 0:
        ctx.options |= ssl.OP_NO_TICKET
    if resumption.client_auth != "none":
        if not resumption.client_ca:
            raise ValueError("client certificates need a CA file to verify them against")
        ctx.verify_mode = (
            ssl.CERT_REQUIRED if resumption.client_auth == "require" else ssl.CERT_OPTIONAL
        )
        ctx.load_verify_locations(str(resumption.client_ca))
    return ctx


def _ssl_failure(exc: ssl.SSLError, sent: bytes) -> ConnectionClosed:
    """The ConnectionClosed of an OpenSSL error; ``sent``: what it queued meanwhile."""
    reason = str(exc.reason or type(exc).__name__)
    code = err_names_to_codes.get(reason, (0, 0))[1]
    if _ALERT_RECEIVED_OFFSET <= code < _ALERT_RECEIVED_OFFSET + 256:
        return ConnectionClosed(_alert(code - _ALERT_RECEIVED_OFFSET), True, f"OpenSSL: {reason}")
    alert = _plaintext_alert(sent)
    if alert is not None:
        return ConnectionClosed(_alert(alert), False, f"OpenSSL: {reason}")
    how = "alert encrypted" if sent else "OpenSSL sent no alert"
    if isinstance(exc, ssl.SSLCertVerificationError):  # a client certificate refused
        code = OPENSSL_VERIFY_ALERT.get(exc.verify_code, _A.CERTIFICATE_UNKNOWN)
        why = f"OpenSSL: {reason}: {exc.verify_message} ({how}; number from the verify error)"
        return ConnectionClosed(_alert(code), False, why)
    mapped = OPENSSL_REASON_ALERT.get(reason, AlertDescription.INTERNAL_ERROR)
    return ConnectionClosed(mapped, False, f"OpenSSL: {reason} ({how}; number from the reason)")


class _Queued:
    """What both adapters keep alike: the bytes queued for the peer, watched on the way
    out (:class:`_FlightWatch`), and where the connection stands."""

    def __init__(self) -> None:
        self._watch = _FlightWatch()
        self._out = bytearray()
        self._handshake_done = False
        self._closed = False
        self._close_sent = False

    @property
    def closed(self) -> bool:
        """True once nothing more will be read."""
        return self._closed

    def data_to_send(self) -> bytes:
        """Bytes for the peer, once."""
        self._drain()
        data = bytes(self._out)
        self._out.clear()
        return data

    def _written(self) -> bytes:
        """What the stack wrote since the last call."""
        raise NotImplementedError

    def _drain(self) -> bytes:
        """Move what the stack wrote into our queue; the new bytes."""
        data = self._written()
        if data:
            self._watch.see(data)
            self._out += data
        return data


class SslServerConnection(_Queued):
    """Python ``ssl`` server side over two ``MemoryBIO`` objects, as a loop connection.

    A received close_notify is answered with ours at once, as our engine does.
    """

    def __init__(
        self, context: ssl.SSLContext, suites: Mapping[str, CipherSuite] | None = None
    ) -> None:
        """``suites``: :func:`openssl_suites` of ``context``, computed once by the factory."""
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._tls = context.wrap_bio(self._incoming, self._outgoing, server_side=True)
        self._suites = suites if suites is not None else openssl_suites(context)
        super().__init__()

    def _written(self) -> bytes:
        return self._outgoing.read()

    def receive_data(self, data: bytes) -> list[Event]:
        """Feed bytes from the peer; ``b""`` means the stream ended."""
        if self._closed:
            return []
        if not data:
            self._closed = True
            self._incoming.write_eof()
            return [ConnectionClosed(None, True, "end of stream without close_notify")]
        self._drain()  # so that what a failing call queues can be told apart
        self._incoming.write(data)
        events: list[Event] = []
        if not self._handshake_done:
            try:
                self._tls.do_handshake()
            except ssl.SSLWantReadError:
                return events
            except ssl.SSLError as exc:
                return [self._fail(exc)]
            self._handshake_done = True
            self._drain()
            events.append(self._handshake_event())
        chunks: list[bytes] = []
        closed: ConnectionClosed | None = None
        while closed is None:
            try:
                chunk = self._tls.read(_READ_SIZE)
            except ssl.SSLWantReadError:
                break
            except ssl.SSLZeroReturnError:
                chunk = b""
            except ssl.SSLError as exc:
                closed = self._fail(exc)
                break
            if chunk:
                chunks.append(chunk)
                continue
            # Python's read gives b"" once close_notify is read (an end of stream without
            # it would be an SSLEOFError); RFC 8446 §6.1: answer with ours at once.
            self._shutdown()
            self._closed = True
            closed = ConnectionClosed(None, True, "close_notify")
        if chunks:
            events.append(ApplicationData(b"".join(chunks)))
        if closed is not None:
            events.append(closed)
        return events

    def _handshake_event(self) -> HandshakeComplete:
        version = {"TLSv1.3": TLS13, "TLSv1.2": TLS12}[str(self._tls.version())]
        cipher = self._tls.cipher()
        assert cipher is not None
        alpn = self._tls.selected_alpn_protocol()
        peer = self._tls.getpeercert(binary_form=True)  # OpenSSL keeps the leaf only
        return _complete(
            version,
            self._suites[cipher[0]],
            self._watch,
            None if alpn is None else alpn.encode(),
            resumed=self._tls.session_reused,
            peer_certificates=(peer,) if peer else (),
        )

    def _fail(self, exc: ssl.SSLError) -> ConnectionClosed:
        self._closed = True
        return _ssl_failure(exc, self._drain())

    def _shutdown(self) -> None:
        try:
            self._tls.unwrap()  # SSL_shutdown: queues close_notify
        except ssl.SSLError:  # SSLWantReadError: ours is sent, the peer's not yet read
            pass
        self._close_sent = True

    def send_data(self, data: bytes) -> None:
        """Queue application data; only after the handshake and before close."""
        if not self._handshake_done:
            raise TlsUsageError("send_data before the handshake is complete")
        if self._close_sent:
            raise TlsUsageError("send_data after close")
        view = memoryview(data)
        while view:
            view = view[self._tls.write(view) :]

    def close(self) -> None:
        """Queue close_notify; before the handshake, just stop (OpenSSL cannot shut down
        a connection in its handshake)."""
        if self._close_sent or self._closed:
            return
        if not self._handshake_done:
            self._closed = self._close_sent = True
            return
        self._shutdown()


def ssl_factory(
    certificates: Certificates,
    versions: Sequence[int] = VERSIONS,
    suites: Sequence[str] = SUITE_NAMES,
    groups: Sequence[str] = GROUP_NAMES,
    alpn: Sequence[str] = (),
    resumption: Resumption | None = None,
) -> ConnectionFactory:
    """One context for the process (:func:`ssl_server_context`), so its session cache and
    ticket keys serve every connection; a connection per call."""
    context = ssl_server_context(certificates, versions, suites, groups, alpn, resumption)
    names = openssl_suites(context)
    return lambda: SslServerConnection(context, names)


# -- tlslite-ng -------------------------------------------------------------------------


def tlslite_package() -> Any:
    """The tlslite-ng package, with its ``api``, ``constants``, ``errors`` and
    ``handshakesettings`` modules loaded (0.8.2 imports the deprecated asyncore)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import tlslite.api  # type: ignore[import-untyped]
        import tlslite.constants  # type: ignore[import-untyped]
        import tlslite.errors  # type: ignore[import-untyped]
        import tlslite.handshakesettings  # type: ignore[import-untyped]
    return tlslite


_TLSLITE_CIPHER = {
    "AES_128_GCM": "aes128gcm",
    "AES_256_GCM": "aes256gcm",
    "CHACHA20": "chacha20-poly1305",
}
_TLSLITE_KEY_EXCHANGE = {
    KeyExchange.RSA: "rsa",
    KeyExchange.ECDHE_RSA: "ecdhe_rsa",
    KeyExchange.ECDHE_ECDSA: "ecdhe_ecdsa",
}
_TLSLITE_VERSION = {TLS13: (3, 4), TLS12: (3, 3)}


def _tlslite_cipher(suite: CipherSuite) -> str:
    return next(name for part, name in _TLSLITE_CIPHER.items() if part in suite.name)


def tlslite_settings(
    versions: Sequence[int] = VERSIONS,
    suites: Sequence[str] = SUITE_NAMES,
    groups: Sequence[str] = GROUP_NAMES,
) -> Any:
    """tlslite-ng HandshakeSettings serving exactly these versions, suites and groups.

    tlslite chooses suites as AEADs x key exchanges, the AEADs shared by TLS 1.3 and
    1.2; a list that is no such product (say TLS_AES_128_GCM_SHA256 with
    TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, which would serve both AES-GCMs in both
    versions) is a ValueError naming the suites that would come with it. The order of
    preference is tlslite's own (AES-256-GCM first in TLS 1.3), not the list's. Only
    ECDHE groups, no finite-field ones; no session tickets (the factory adds ticket keys).
    """
    served, tls13, tls12 = _split_suites(versions, suites)
    chosen_groups = _check_groups(groups)
    settings = tlslite_package().api.HandshakeSettings()
    settings.minVersion = _TLSLITE_VERSION[min(served)]
    settings.maxVersion = _TLSLITE_VERSION[max(served)]
    settings.cipherNames = list(dict.fromkeys(_tlslite_cipher(s) for s in tls13 + tls12))
    settings.macNames = ["aead"]
    settings.keyExchangeNames = list(
        dict.fromkeys(_TLSLITE_KEY_EXCHANGE[key_exchange(s)] for s in tls12)
    ) or ["ecdhe_rsa"]  # TLS 1.3 only: the setting cannot be empty, and is not used
    settings.eccCurves = list(chosen_groups)
    settings.keyShares = list(chosen_groups)
    settings.dhGroups = []
    settings = settings.validate()
    would_serve = set(_tlslite_suites(settings, served))
    extra = would_serve - set(tls13 + tls12)
    if extra:
        raise ValueError(
            "tlslite-ng serves AEADs x key exchanges; this list would also serve "
            + ", ".join(s.name for s in CipherSuite if s in extra)
        )
    return settings


def _tlslite_suites(settings: Any, served: Sequence[int]) -> list[CipherSuite]:
    """The suites of ours tlslite would serve with ``settings`` (its own selection)."""
    table = tlslite_package().constants.CipherSuite
    out: list[CipherSuite] = []
    for version in served:
        ids: list[int] = []
        if version == TLS13:
            ids += table.getTLS13Suites(settings, (3, 4))
        else:
            for select in (table.getEcdsaSuites, table.getEcdheCertSuites, table.getCertSuites):
                ids += select(settings, (3, 3))
        out += [s for s in map(lambda i: _named(CipherSuite, i), ids) if s is not None]
    return out


class _MemorySocket:
    """The socket tlslite's TLSConnection reads and writes: two buffers, no descriptor."""

    def __init__(self) -> None:
        self.incoming = bytearray()
        self.outgoing = bytearray()
        self.eof = False

    def recv(self, size: int) -> bytes:
        """Buffered bytes; b"" once the peer ended the stream; else "would block"."""
        if self.incoming:
            data = bytes(self.incoming[:size])
            del self.incoming[:size]
            return data
        if self.eof:
            return b""
        # tlslite's record layer yields 0 ("waiting to read") on EWOULDBLOCK/EAGAIN and
        # retries when resumed: that is how its async generators wait for us.
        raise BlockingIOError(errno.EWOULDBLOCK, "no bytes buffered")

    def send(self, data: bytes) -> int:
        """Queue everything (so tlslite never waits to write)."""
        self.outgoing += data
        return len(data)

    def sendall(self, data: bytes) -> None:
        """Queue everything."""
        self.outgoing += data

    def close(self) -> None:
        """Nothing: the loop owns the real socket (tlslite closes its socket on shutdown)."""

    def shutdown(self, how: int) -> None:
        """Nothing, as :meth:`close`."""


class TlsliteServerConnection(_Queued):
    """tlslite-ng's server side driven by its async generators, as a loop connection.

    The handshake is ``handshakeServerAsync``; then ``readAsync`` runs whenever bytes
    arrive and stays suspended while it waits for the rest of a record. ``writeAsync``
    and ``closeAsync`` finish at once, since our socket never blocks. A write may so run
    while a read waits (tlslite's own asyncore glue allows one operation at a time): the
    read is then suspended inside the record layer's ``recv``, which shares no state with
    writing; ``close`` drops the waiting read first. tlslite answers close_notify itself.
    """

    def __init__(
        self,
        chain: Any,
        key: Any,
        settings: Any,
        alpn: Sequence[bytes] = (),
        cache: Any = None,
        resumption: Resumption | None = None,
    ) -> None:
        """``chain``: an X509CertChain, ``key``: its parsed private key, ``settings``: a
        HandshakeSettings (more certificates go in its ``virtual_hosts``, ticket keys in
        its ``ticketKeys``); ``alpn``: the protocols to accept, in order; ``cache``: the
        process's tlslite SessionCache (TLS 1.2 session IDs); ``resumption``: whether to
        ask for a client certificate, checked against its CA by our verifier (tlslite
        checks no chain)."""
        self._lib = tlslite_package()
        self._sock = _MemorySocket()
        self._tls = self._lib.api.TLSConnection(self._sock)
        self._resumption = resumption or Resumption()
        self._op: Generator[Any, None, None] | None = self._tls.handshakeServerAsync(
            certChain=chain,
            privateKey=key,
            settings=settings,
            alpn=[bytearray(p) for p in alpn] or None,
            sessionCache=cache,
            reqCert=self._resumption.client_auth != "none",
        )
        super().__init__()

    def _written(self) -> bytes:
        data = bytes(self._sock.outgoing)
        self._sock.outgoing.clear()
        return data

    def _step(self) -> tuple[bool, Any]:
        """Run the operation until it waits for bytes (False) or ends (True, its result)."""
        assert self._op is not None
        while True:
            try:
                value = next(self._op)
            except StopIteration:
                self._op = None
                return True, None
            if isinstance(value, int):
                if value == 0:
                    return False, None  # waiting to read
                continue  # 1, waiting to write: our socket takes everything at once
            self._op.close()
            self._op = None
            return True, value

    def receive_data(self, data: bytes) -> list[Event]:
        """Feed bytes from the peer; ``b""`` means the stream ended."""
        if self._closed:
            return []
        if data:
            self._sock.incoming += data
        else:
            self._sock.eof = True
        self._drain()  # so that what a failing call queues can be told apart
        events: list[Event] = []
        errors = self._lib.errors
        try:
            if not self._handshake_done:
                finished, _ = self._step()
                if not finished:
                    return events
                self._handshake_done = True
                self._drain()
                refused = self._check_client()
                if refused is not None:
                    return [refused]
                events.append(self._handshake_event())
            while not self._tls.closed:
                if self._op is None:
                    self._op = self._tls.readAsync()
                finished, result = self._step()
                if not finished:
                    break
                if result:
                    events.append(ApplicationData(bytes(result)))
            if self._tls.closed:  # readAsync returns once close_notify is read and answered
                events.append(self._end(None, True, "close_notify"))
        except errors.TLSRemoteAlert as exc:
            description = int(exc.description)
            if description == AlertDescription.CLOSE_NOTIFY:
                events.append(self._end(None, True, "close_notify"))
            else:
                events.append(self._end(description, True, f"tlslite: {exc}"))
        except errors.TLSLocalAlert as exc:
            events.append(self._end(int(exc.description), False, f"tlslite: {exc.message or exc}"))
        except errors.TLSAbruptCloseError:
            events.append(self._end(None, True, "end of stream without close_notify"))
        except errors.BaseTLSException as exc:
            events.append(self._unalerted(exc))
        return events

    def _client_chain(self) -> tuple[bytes, ...]:
        chain = self._tls.session.clientCertChain
        return tuple(bytes(c.bytes) for c in chain.x509List) if chain is not None else ()

    def _check_client(self) -> ConnectionClosed | None:
        """Our verdict on the client's chain (tlslite has none): the alert sent, or None.

        None sent under ``require``: certificate_required (TLS 1.3) or handshake_failure
        (TLS 1.2, RFC 5246 §7.4.6); a chain no CA of ``client_ca`` issued: unknown_ca."""
        from tlsbench.tls.alerts import ProtocolError
        from tlsbench.tls.certs import verify_client_chain

        wanted = self._resumption
        if wanted.client_auth == "none":
            return None
        chain = self._client_chain()
        try:
            if not chain:
                if wanted.client_auth == "optional":
                    return None
                tls13 = tuple(self._tls.version) == (3, 4)
                alert = _A.CERTIFICATE_REQUIRED if tls13 else _A.HANDSHAKE_FAILURE
                raise ProtocolError(alert, "no client certificate")
            assert wanted.client_ca is not None
            verify_client_chain(chain, wanted.client_ca)
        except ProtocolError as exc:
            try:
                for _ in self._tls._sendError(int(exc.alert), str(exc)):
                    pass
            except self._lib.errors.TLSLocalAlert:
                pass  # _sendError raises the alert it sent
            self._drain()
            return self._end(int(exc.alert), False, f"client certificate: {exc}")
        return None

    def _handshake_event(self) -> HandshakeComplete:
        version = {(3, 4): TLS13, (3, 3): TLS12}[tuple(self._tls.version)]
        group = _named(NamedGroup, self._tls.ecdhCurve) if self._tls.ecdhCurve else None
        session = self._tls.session
        alpn = bytes(session.appProto) if session.appProto else None
        return _complete(
            version,
            CipherSuite(session.cipherSuite),
            self._watch,
            alpn,
            group,
            resumed=bool(self._tls.resumed) or self._watch.psk,  # tlslite: 1.2 only
            peer_certificates=self._client_chain(),
        )

    def _end(self, error: int | None, by_peer: bool, reason: str) -> ConnectionClosed:
        self._closed = True
        if self._op is not None:
            self._op.close()
            self._op = None
        return ConnectionClosed(None if error is None else _alert(error), by_peer, reason)

    def _unalerted(self, exc: Exception) -> ConnectionClosed:
        """A tlslite exception other than an alert: the alert it queued, if any."""
        name = type(exc).__name__
        sent = self._drain()
        alert = _plaintext_alert(sent)
        if alert is not None:
            return self._end(alert, False, f"tlslite: {name}: {exc}")
        how = "alert encrypted" if sent else "tlslite sent no alert"
        mapped = _TLSLITE_EXCEPTION_ALERT.get(name, AlertDescription.INTERNAL_ERROR)
        return self._end(mapped, False, f"tlslite: {name}: {exc} ({how})")

    def send_data(self, data: bytes) -> None:
        """Queue application data; only after the handshake and before close."""
        if not self._handshake_done:
            raise TlsUsageError("send_data before the handshake is complete")
        if self._close_sent or self._closed:
            raise TlsUsageError("send_data after close")
        for value in self._tls.writeAsync(data):
            if value == 0:  # cannot happen: writing never reads
                raise RuntimeError("tlslite waited to read while writing")

    def close(self) -> None:
        """Queue close_notify (tlslite does not wait for the peer's: ``closeSocket``)."""
        if self._close_sent or self._closed:
            return
        self._close_sent = True
        if self._op is not None:  # tlslite runs one operation at a time: drop the read
            self._op.close()
            self._op = None
        if not self._handshake_done:
            self._closed = True  # nothing was agreed; nothing to close
            return
        for _ in self._tls.closeAsync():
            pass
        self._closed = True


def tlslite_factory(
    certificates: Certificates,
    versions: Sequence[int] = VERSIONS,
    suites: Sequence[str] = SUITE_NAMES,
    groups: Sequence[str] = GROUP_NAMES,
    alpn: Sequence[str] = (),
    resumption: Resumption | None = None,
) -> ConnectionFactory:
    """Chain, key and :func:`tlslite_settings` parsed once; a connection per call.

    The first certificate is the main one; the others go in a virtual host of the
    settings, which tlslite 0.8.2 tries in order when the main one cannot serve a
    handshake (say an RSA suite with an ECDSA main certificate). One session cache (TLS
    1.2 session IDs) and, with ``resumption.tickets`` above 0, one random AES-256-GCM
    ticket key (never rotated) for the process.
    """
    resumption = resumption or Resumption()
    lib = tlslite_package()
    api = lib.api
    if not certificates:
        raise ValueError("at least one certificate and key are needed")
    settings = tlslite_settings(versions, suites, groups)
    pairs = []
    for cert_file, key_file in certificates:
        chain = api.X509CertChain()
        chain.parsePemList(Path(cert_file).read_text())
        pairs.append((chain, api.parsePEMKey(Path(key_file).read_text(), private=True)))
    (chain, key), more = pairs[0], pairs[1:]
    if more:
        host = lib.handshakesettings.VirtualHost()
        host.keys = [lib.handshakesettings.Keypair(k, c.x509List) for c, k in more]
        settings.virtual_hosts = [host]
    if resumption.tickets:
        settings.ticketKeys = [bytearray(os.urandom(32))]
        settings.ticketCipher = "aes256gcm"
        settings.ticket_count = resumption.tickets
    if resumption.client_auth != "none" and not resumption.client_ca:
        raise ValueError("client certificates need a CA file to verify them against")
    cache = api.SessionCache()
    protocols = [p.encode() for p in alpn]
    return lambda: TlsliteServerConnection(chain, key, settings, protocols, cache, resumption)


def factory(
    impl: str,
    certificates: Certificates,
    versions: Sequence[int] = VERSIONS,
    suites: Sequence[str] = SUITE_NAMES,
    groups: Sequence[str] = GROUP_NAMES,
    alpn: Sequence[str] = (),
    resumption: Resumption | None = None,
) -> ConnectionFactory:
    """:func:`ssl_factory` or :func:`tlslite_factory` by name (``ssl``, ``tlslite``)."""
    makers: dict[str, Callable[..., ConnectionFactory]] = {
        "ssl": ssl_factory,
        "tlslite": tlslite_factory,
    }
    if impl not in makers:
        raise ValueError(f"unknown foreign implementation {impl!r} (ssl, tlslite)")
    return makers[impl](certificates, versions, suites, groups, alpn, resumption)


class Profile(Protocol):
    """What a server accepts, in preference order: versions as ``"1.3"``/``"1.2"``, IANA
    suite names, group names, ALPN protocols."""

    @property
    def versions(self) -> Sequence[str]: ...
    @property
    def suites(self) -> Sequence[str]: ...
    @property
    def groups(self) -> Sequence[str]: ...
    @property
    def alpn(self) -> Sequence[str]: ...


def server_factory(
    impl: str,
    profile: Profile,
    certificates: Certificates,
    resumption: Resumption | None = None,
) -> ConnectionFactory:
    """:func:`factory` from a profile (versions by name)."""
    names = {"1.3": TLS13, "1.2": TLS12}
    unknown = [v for v in profile.versions if v not in names]
    if unknown:
        raise ValueError(f"unknown TLS versions {unknown} (1.3, 1.2)")
    versions = [names[v] for v in profile.versions]
    return factory(
        impl, certificates, versions, profile.suites, profile.groups, profile.alpn, resumption
    )
