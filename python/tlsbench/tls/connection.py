"""What client and server share: the sans-I/O connection and its state machine.

Bytes in: :meth:`Connection.receive_data` feeds the record layer, which yields
records; handshake records are reassembled into messages and handed to the
current :class:`State`, whose ``handle`` returns the next state. Bytes out:
whatever the states, ``send_data``, ``key_update`` and ``close`` queue in the
record layer, collected by :meth:`Connection.data_to_send`. A protocol
violation never escapes: it queues our alert and ends in ``ConnectionClosed``.
"""

from __future__ import annotations

import hashlib
import time

from tlsbench.crypto import get_provider
from tlsbench.crypto.base import KeySchedule, Provider, Tls13Stage
from tlsbench.errors import TlsError

from . import extensions as ext
from .alerts import Alert, ProtocolError, describe
from .constants import (
    SUITE_HASH,
    TLS12,
    TLS13,
    AlertDescription,
    AlertLevel,
    CipherSuite,
    ContentType,
    ExtensionType,
    HandshakeType,
    KeyUpdateRequest,
    NamedGroup,
    SignatureScheme,
)
from .events import (
    AlertReceived,
    ApplicationData,
    ConnectionClosed,
    Event,
    HandshakeComplete,
    KeyUpdateReceived,
    SessionTicketReceived,
)
from .messages import Handshake, KeyUpdate, NewSessionTicket
from .messages12 import HelloRequest
from .record import MAX_HANDSHAKE_MESSAGE, HandshakeBuffer, RecordLayer
from .sessions import Session, resumption_psk
from .transcript import Transcript

# §5.5: AES-GCM keys should protect at most 2^24.5 full records; update well before.
KEY_UPDATE_AFTER_RECORDS = 1 << 24

# ContentType members as module globals: on Python 3.11 each Enum class attribute read
# costs ~0.13 µs (EnumType's __getattr__ hook), and these are read for every record.
_HANDSHAKE = ContentType.HANDSHAKE
_CHANGE_CIPHER_SPEC = ContentType.CHANGE_CIPHER_SPEC
_APPLICATION_DATA = ContentType.APPLICATION_DATA
_ALERT = ContentType.ALERT


class TlsUsageError(RuntimeError):
    """The API was misused (e.g. sending before the handshake or after closing)."""


class State:
    """One handshake step, named after the message it expects."""

    def handle(self, message: Handshake) -> State:
        """Process ``message`` and return the next state; anything unexpected is an alert."""
        raise ProtocolError(
            AlertDescription.UNEXPECTED_MESSAGE,
            f"{_message_name(message.msg_type)} in {type(self).__name__}",
        )

    def change_cipher_spec(self) -> State:
        """A TLS 1.2 ChangeCipherSpec (RFC 5246 §7.1); only ExpectChangeCipherSpec wants one."""
        raise ProtocolError(
            AlertDescription.UNEXPECTED_MESSAGE, f"change_cipher_spec in {type(self).__name__}"
        )


class Closed(State):
    """No more handshake messages are accepted."""


_DIGEST_SIZE = {"sha256": 32, "sha384": 48}


def _alert_of(exc: TlsError) -> AlertDescription:
    try:
        return AlertDescription(exc.alert)
    except ValueError:
        return AlertDescription.INTERNAL_ERROR


def _message_name(msg_type: int) -> str:
    try:
        return HandshakeType(msg_type).name.lower()
    except ValueError:
        return f"handshake type {msg_type}"


class Connection:
    """Sans-I/O TLS connection; see :class:`ClientConnection` and :class:`ServerConnection`."""

    is_client = False
    key_schedule: KeySchedule
    """Set when the ServerHello is sent or received."""
    handshake_stage: Tls13Stage
    """Handshake traffic secrets and Finished keys, set with ``key_schedule``."""

    def __init__(
        self,
        provider: str,
        middlebox_compat: bool,
        max_handshake_message: int = MAX_HANDSHAKE_MESSAGE,
    ) -> None:
        self.provider_name = provider
        self.crypto: Provider = get_provider(provider)
        self.records = RecordLayer(self.crypto)
        self.transcript = Transcript()
        self.middlebox_compat = middlebox_compat
        if max_handshake_message < 4:
            raise ValueError("max_handshake_message must be at least 4")
        self._handshake = HandshakeBuffer(max_handshake_message)
        self._events: list[Event] = []
        self._state: State = Closed()
        self._closed = False
        self._close_sent = False
        self._app_read = False
        self.ccs_allowed = False
        self.handshake_complete = False
        # Negotiated values, filled in by the states.
        self.version: int | None = None
        """TLS13 or TLS12 once the hellos are exchanged."""
        self.extended_master_secret = False
        """TLS 1.2: the master secret is the RFC 7627 one."""
        self.suite = CipherSuite.TLS_AES_128_GCM_SHA256
        self.hash_name = "sha256"
        self.group: NamedGroup | None = None
        self.signature_scheme: SignatureScheme | None = None
        self.alpn_protocol: bytes | None = None
        self.server_name: str | None = None
        self.hello_retry_request = False
        self.peer_certificates: tuple[bytes, ...] = ()
        self.resumed = False
        """The handshake resumed a session (TLS 1.3 PSK, TLS 1.2 session ID or ticket)."""
        self.session: Session | None = None
        """Client: the newest session this connection can be resumed with."""
        self.resumption_master_secret = b""
        """TLS 1.3: set once both Finished messages are in the transcript (§7.1)."""
        self._read_secret = b""
        self._write_secret = b""

    # -- public API ------------------------------------------------------------
    @property
    def state_name(self) -> str:
        """Name of the current state (e.g. ``ExpectServerHello``)."""
        return type(self._state).__name__

    @property
    def closed(self) -> bool:
        """True once nothing more will be read."""
        return self._closed

    def data_to_send(self) -> bytes:
        """Bytes queued for the peer, once; empty when there are none."""
        return self.records.take_output()

    def receive_data(self, data: bytes) -> list[Event]:
        """Feed bytes received from the peer; ``b""`` means the stream ended."""
        if self._closed:
            return self._take_events()
        if not data:
            self._closed = True
            self._state = Closed()
            self._events.append(ConnectionClosed(None, True, "end of stream without close_notify"))
            return self._take_events()
        self.records.feed(data)
        try:
            self._process()
        except TlsError as exc:
            self.fail(_alert_of(exc), str(exc) or type(exc).__name__)
        except Exception as exc:  # a bug must still end in an alert, not a crash (§6.2)
            self.fail(AlertDescription.INTERNAL_ERROR, f"{type(exc).__name__}: {exc}")
        return self._take_events()

    def send_data(self, data: bytes | memoryview) -> None:
        """Queue application data (a memoryview is sealed in place, not copied); only after
        the handshake and before close."""
        if not self.handshake_complete:
            raise TlsUsageError("send_data before the handshake is complete")
        if self._close_sent:
            raise TlsUsageError("send_data after close")
        if data:
            self.records.write(_APPLICATION_DATA, data)
            if self.version == TLS13 and self.records.write_sequence >= KEY_UPDATE_AFTER_RECORDS:
                self._send_key_update(False)

    def key_update(self, request_peer: bool = True) -> None:
        """Send a KeyUpdate and move to our next write secret (§4.6.3); TLS 1.3 only."""
        if not self.handshake_complete or self._close_sent:
            raise TlsUsageError("key_update outside an established connection")
        if self.version != TLS13:
            raise TlsUsageError("key_update is a TLS 1.3 message")
        self._send_key_update(request_peer)

    def close(self) -> None:
        """Queue close_notify (§6.1); idempotent."""
        if not self._close_sent:
            self._send_alert(AlertLevel.WARNING, AlertDescription.CLOSE_NOTIFY)

    # -- used by the states ------------------------------------------------------
    def set_suite(self, suite: CipherSuite) -> None:
        """Fix the suite and with it the transcript hash (and the TLS 1.2 PRF hash)."""
        self.suite = suite
        self.hash_name = SUITE_HASH[suite]

    @property
    def hash_length(self) -> int:
        """Output length of the suite's hash."""
        return _DIGEST_SIZE.get(self.hash_name) or hashlib.new(self.hash_name).digest_size

    def send_handshake(self, raw: bytes) -> None:
        """Add a whole handshake message to the transcript and queue it."""
        self.transcript.add(raw)
        self.records.write(_HANDSHAKE, raw)

    def set_read_secret(
        self, secret: bytes, application: bool = False, keys: tuple[bytes, bytes] | None = None
    ) -> None:
        """Decrypt from the next record with ``secret``; §5.1: only on a record boundary.

        ``keys`` is its (key, iv) when a key-schedule stage already derived them (§7.3).
        """
        if not self._handshake.empty:
            raise ProtocolError(AlertDescription.UNEXPECTED_MESSAGE, "key change inside a record")
        key, iv = keys or self.crypto.tls13_traffic_keys(int(self.suite), secret)
        self.records.set_read_key(self.suite, key, iv)
        self._read_secret = secret
        self._app_read = application

    def set_write_secret(self, secret: bytes, keys: tuple[bytes, bytes] | None = None) -> None:
        """Encrypt from the next record with ``secret`` (``keys``: as for set_read_secret)."""
        key, iv = keys or self.crypto.tls13_traffic_keys(int(self.suite), secret)
        self.records.set_write_key(self.suite, key, iv)
        self._write_secret = secret

    def set_tls12_keys(
        self, write: tuple[bytes, bytes] | None, read: tuple[bytes, bytes] | None
    ) -> None:
        """Protect our records (``write``) or the peer's (``read``) with a (key, iv) pair."""
        if write is not None:
            self.records.set_write_key(self.suite, *write, version=TLS12)
        if read is not None:
            self.records.set_read_key(self.suite, *read, version=TLS12)

    def complete_handshake(self) -> None:
        """Report the negotiated parameters; application data may now flow."""
        self.handshake_complete = True
        self.ccs_allowed = False
        self._app_read = True
        assert self.version is not None
        self._events.append(
            HandshakeComplete(
                self.version,
                self.suite,
                self.group,
                self.signature_scheme,
                self.alpn_protocol,
                self.server_name,
                self.hello_retry_request,
                self.peer_certificates,
                self.extended_master_secret,
                self.resumed,
            )
        )

    def fail(self, alert: AlertDescription, reason: str) -> None:
        """Queue our fatal alert and close (§6.2)."""
        if self._closed and self._close_sent:
            return
        if not self._close_sent:
            self._send_alert(AlertLevel.FATAL, alert)
        self._closed = True
        self._state = Closed()
        self._events.append(ConnectionClosed(alert, False, reason))

    # -- internals -----------------------------------------------------------------
    def _take_events(self) -> list[Event]:
        events, self._events = self._events, []
        return events

    def _send_alert(self, level: AlertLevel, description: AlertDescription) -> None:
        self.records.write(_ALERT, Alert(level, description).encode())
        self._close_sent = True

    def _send_key_update(self, request_peer: bool) -> None:
        request = (
            KeyUpdateRequest.UPDATE_REQUESTED
            if request_peer
            else KeyUpdateRequest.UPDATE_NOT_REQUESTED
        )
        self.records.write(_HANDSHAKE, KeyUpdate(request).encode())
        self.set_write_secret(self.crypto.tls13_next_secret(int(self.suite), self._write_secret))

    def _process(self) -> None:
        while not self._closed:
            batch = self._app_read and self._handshake.empty
            records = self.records.read_records(batch)
            if not records:
                return
            data: list[bytes] = []
            for content_type, payload, protected in records:
                if content_type == _APPLICATION_DATA:
                    if not self._app_read:
                        raise ProtocolError(
                            AlertDescription.UNEXPECTED_MESSAGE, "data before Finished"
                        )
                    if not self._handshake.empty:
                        raise ProtocolError(
                            AlertDescription.UNEXPECTED_MESSAGE, "data inside a message"
                        )
                    if payload:
                        data.append(payload)
                    continue
                if data:
                    self._events.append(ApplicationData(b"".join(data)))
                    data = []
                self._record(content_type, payload, protected)
                if self._closed:
                    return
            if data:
                self._events.append(ApplicationData(b"".join(data)))

    def _record(self, content_type: int, payload: bytes, protected: bool) -> None:
        # §5.1: a handshake message split over records admits no other records between.
        if content_type != _HANDSHAKE and not self._handshake.empty:
            raise ProtocolError(
                AlertDescription.UNEXPECTED_MESSAGE, "record inside a handshake message"
            )
        if content_type == _CHANGE_CIPHER_SPEC:
            if self.version == TLS12:
                # RFC 5246 §7.1: one byte 0x01, where the ladder has it, under the old keys
                # (which on a first handshake means unprotected).
                if protected or payload != b"\x01":
                    raise ProtocolError(AlertDescription.UNEXPECTED_MESSAGE, "change_cipher_spec")
                self._state = self._state.change_cipher_spec()
                return
            # RFC 8446 §5: one byte 0x01, unprotected, between ClientHello and the peer's Finished.
            if protected or payload != b"\x01" or not self.ccs_allowed:
                raise ProtocolError(AlertDescription.UNEXPECTED_MESSAGE, "change_cipher_spec")
            return
        if content_type == _ALERT:
            if not protected and self.handshake_complete:
                raise ProtocolError(
                    AlertDescription.UNEXPECTED_MESSAGE, "plaintext alert after handshake"
                )
            self._alert(Alert.decode(payload))
            return
        self._handshake.append(payload)
        while not self._closed:
            message = self._handshake.pop()
            if message is None:
                return
            self._state = self._state.handle(message)

    def _alert(self, alert: Alert) -> None:
        self._events.append(AlertReceived(alert.level, alert.description))
        self._closed = True
        self._state = Closed()
        if alert.is_closure:
            self.close()  # §6.1: answer close_notify with our own
            self._events.append(ConnectionClosed(None, True, describe(alert.description)))
        else:
            self._events.append(
                ConnectionClosed(alert.description, True, describe(alert.description))
            )

    # -- post-handshake messages (§4.6), shared by both ExpectTraffic states --------
    def post_handshake(self, message: Handshake) -> None:
        """KeyUpdate on both sides; NewSessionTicket on the client (kept as ``session``).

        TLS 1.2: a HelloRequest (client) or ClientHello (server) asks to renegotiate,
        which is refused with a no_renegotiation warning (RFC 5246 §7.2.2).
        """
        if self.version == TLS12:
            request = HandshakeType.HELLO_REQUEST if self.is_client else HandshakeType.CLIENT_HELLO
            if message.msg_type != request:
                State.handle(self._state, message)
            if message.msg_type == HandshakeType.HELLO_REQUEST:
                HelloRequest.decode(message.body)
            if not self._close_sent:
                alert = Alert(AlertLevel.WARNING, AlertDescription.NO_RENEGOTIATION)
                self.records.write(_ALERT, alert.encode())
            return
        if message.msg_type == HandshakeType.KEY_UPDATE:
            update = KeyUpdate.decode(message.body)
            self.set_read_secret(
                self.crypto.tls13_next_secret(int(self.suite), self._read_secret), True
            )
            requested = update.request_update == KeyUpdateRequest.UPDATE_REQUESTED
            if requested and not self._close_sent:
                self._send_key_update(False)
            self._events.append(KeyUpdateReceived(requested))
            return
        if message.msg_type == HandshakeType.NEW_SESSION_TICKET and self.is_client:
            self._events.append(SessionTicketReceived(*self._new_session(message)))
            return
        State.handle(self._state, message)

    def _new_session(self, message: Handshake) -> tuple[int, Session | None]:
        """§4.6.1: a NewSessionTicket's lifetime and the Session it makes (None for 0 s)."""
        ticket = NewSessionTicket.decode(message.body)
        for ext_type, body in ticket.extensions.items():
            if ext_type == ExtensionType.EARLY_DATA:  # checked; we never send early data
                ext.decode_early_data_ticket(body)
        if ticket.lifetime == 0 or not self.resumption_master_secret:
            return ticket.lifetime, None  # §4.6.1: zero means discard at once
        psk = resumption_psk(self.crypto, self.suite, self.resumption_master_secret, ticket.nonce)
        self.session = Session(
            TLS13,
            self.suite,
            psk,
            time.time(),
            ticket.lifetime,
            ticket.ticket,
            age_add=ticket.age_add,
            server_name=self.server_name,
            alpn_protocol=self.alpn_protocol,
        )
        return ticket.lifetime, self.session


class ExpectTraffic(State):
    """After the handshake: only post-handshake messages (§4.6) are accepted."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def handle(self, message: Handshake) -> State:
        """KeyUpdate, or NewSessionTicket on a client."""
        self.conn.post_handshake(message)
        return self
