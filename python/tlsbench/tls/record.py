"""The record layer (RFC 8446 §5, RFC 5246 §6): framing, protection, handshake reassembly.

Bytes flow in through :meth:`RecordLayer.feed` and come out as whole records
(``(content_type, payload, protected)``), decrypted by the current read cipher
(TLS 1.3: the inner type of application_data records; TLS 1.2: every record, by its
own outer type).
Outgoing data is fragmented to 2^14 bytes and sealed by the current write cipher.
Handshake messages split across records or coalesced in one are put back
together by :class:`HandshakeBuffer`.
"""

from __future__ import annotations

import struct

from tlsbench.crypto.base import Provider
from tlsbench.errors import TlsError

from .alerts import ProtocolError
from .constants import (
    AEAD_TAG,
    MAX_CIPHERTEXT,
    MAX_EMPTY_RECORDS,
    MAX_FRAGMENT,
    MAX_SKIPPED_EARLY_DATA,
    TLS12,
    TLS13,
    AlertDescription,
    CipherSuite,
    ContentType,
    HandshakeType,
)
from .messages import Handshake

HEADER = 5
MAX_HANDSHAKE_MESSAGE = 1 << 16
"""Default cap on one handshake message (ours, not the RFC's 2^24 - 1): a DoS bound.

A ClientHello has a cap of its own, the largest its syntax allows (MAX_CLIENT_HELLO)."""
GCM_EXPLICIT_NONCE = 8
"""TLS 1.2 AES-GCM records start with an 8-byte explicit nonce (RFC 5288 §3)."""
_TYPES = frozenset(int(t) for t in ContentType)
_RECORD_HEADER = struct.Struct(">BBxH")
"""A record header as (content type, major version, length)."""

Record = tuple[int, bytes, bool]
"""A received record: content type, plaintext, and whether it was protected."""

# Enum members as module globals: on Python 3.11 each Enum class attribute read
# costs ~0.13 µs (EnumType's __getattr__ hook), and these are read for every record.
_HANDSHAKE = ContentType.HANDSHAKE
_CHANGE_CIPHER_SPEC = ContentType.CHANGE_CIPHER_SPEC
_APPLICATION_DATA = ContentType.APPLICATION_DATA
_CLIENT_HELLO = HandshakeType.CLIENT_HELLO


class _Direction:
    """One direction's cipher, rebuilt from its keys when a batch must be replayed."""

    def __init__(
        self, provider: Provider, suite: CipherSuite, key: bytes, iv: bytes, version: int
    ) -> None:
        self._provider = provider
        self._suite = suite
        self.suite = suite
        self._key = key
        self._iv = iv
        self.version = version
        self.explicit_nonce = version == TLS12 and "CHACHA20" not in suite.name
        """TLS 1.2 AES-GCM records carry an 8-byte explicit nonce (RFC 5288 §3)."""
        self.cipher = provider.RecordCipher(version, int(suite), key, iv)

    def rewind(self, sequence: int) -> None:
        """Start again at ``sequence`` (after a failed batch)."""
        self.cipher = self._provider.RecordCipher(
            self.version, int(self._suite), self._key, self._iv, sequence
        )


class RecordLayer:
    """TLSPlaintext / TLSCiphertext framing over a byte buffer, both directions."""

    def __init__(self, provider: Provider) -> None:
        self._provider = provider
        self._buf: bytes | bytearray = b""
        """Received bytes, read from ``_at`` on: the ``bytes`` of a feed itself, read in
        place, or a ``bytearray`` where a record cut between feeds is put back together."""
        self._at = 0
        self._more = b""
        """The rest of the latest feed, read from ``_more_at`` once ``_buf`` (which then ends
        on a record boundary) is read up."""
        self._more_at = 0
        self._out: list[bytes] = []
        """Records queued for the peer, joined once by take_output (sealed bytes not copied)."""
        self._handshake_out = bytearray()
        """Handshake messages waiting to share records: §5.1 lets a flight coalesce."""
        self._read: _Direction | None = None
        self._write: _Direction | None = None
        self.legacy_version = TLS12
        """The record version we write; 0x0301 is allowed for an initial ClientHello (§5.1)."""
        self.ccs_pending = False
        """Send a dummy ChangeCipherSpec before the next protected record (Appendix D.4)."""
        self.ignore_record_version = False
        """TLS 1.3 is negotiated: legacy_record_version is ignored for all purposes (§5.1)."""
        self.skip_early_data = False
        """Skip 0-RTT records we do not accept (§4.2.10), up to MAX_SKIPPED_EARLY_DATA bytes."""
        self.early_data_skipped = 0
        """Ciphertext bytes of early data skipped so far."""
        self._empty_records = 0

    # -- keys ----------------------------------------------------------------
    @property
    def read_protected(self) -> bool:
        """True once records from the peer are decrypted."""
        return self._read is not None

    @property
    def write_protected(self) -> bool:
        """True once our records are encrypted."""
        return self._write is not None

    @property
    def write_sequence(self) -> int:
        """Records sealed with the current write key."""
        return 0 if self._write is None else self._write.cipher.sequence

    def set_read_key(self, suite: CipherSuite, key: bytes, iv: bytes, version: int = TLS13) -> None:
        """Decrypt from the next record on with (key, iv), sequence 0."""
        self._read = _Direction(self._provider, suite, key, iv, version)

    def set_write_key(
        self, suite: CipherSuite, key: bytes, iv: bytes, version: int = TLS13
    ) -> None:
        """Encrypt from the next record on with (key, iv), sequence 0."""
        self.flush_handshake()  # what was written before is sealed with the old key
        self._write = _Direction(self._provider, suite, key, iv, version)

    # -- output --------------------------------------------------------------
    def write(self, content_type: ContentType, data: bytes | memoryview) -> None:
        """Queue ``data`` as records of ``content_type`` (fragmented, sealed if keyed).

        Handshake messages wait until something else is written, the write key changes
        or the output is taken, so that a flight goes out in as few records as fit.
        """
        if content_type == _HANDSHAKE:
            self._handshake_out += data
            return
        self.flush_handshake()
        self._emit(content_type, data)

    def flush_handshake(self) -> None:
        """Seal the handshake messages waiting, under the current write key."""
        if self._handshake_out:
            data = bytes(self._handshake_out)
            self._handshake_out.clear()
            self._emit(_HANDSHAKE, data)

    def _emit(self, content_type: ContentType, data: bytes | memoryview) -> None:
        if self._write is None:
            if not data:
                raise ValueError("empty plaintext record")
            for start in range(0, len(data), MAX_FRAGMENT):
                chunk = data[start : start + MAX_FRAGMENT]
                self._header(content_type, len(chunk))
                self._out.append(bytes(chunk))  # the same object when it is bytes
            return
        if self.ccs_pending:
            self.write_change_cipher_spec()
        self._out.append(self._write.cipher.seal_many(content_type, data, MAX_FRAGMENT))

    def write_change_cipher_spec(self) -> None:
        """The dummy ChangeCipherSpec of middlebox compatibility mode (Appendix D.4)."""
        self.ccs_pending = False
        self.flush_handshake()  # the messages before it go first
        self._header(_CHANGE_CIPHER_SPEC, 1)
        self._out.append(b"\x01")

    def _header(self, content_type: int, length: int) -> None:
        self._out.append(
            bytes((content_type,))
            + self.legacy_version.to_bytes(2, "big")
            + length.to_bytes(2, "big")
        )

    def take_output(self) -> bytes:
        """Everything queued for the peer, once."""
        self.flush_handshake()
        out = b"".join(self._out)  # one sealed flight or write: that object, uncopied
        self._out.clear()
        return out

    # -- input ---------------------------------------------------------------
    def unread(self) -> bytes:
        """A copy of the unread input up to where the latest feed is read in place (from
        which harness/trace.py reads the coming records' lengths)."""
        return bytes(self._buf[self._at :])

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Append bytes received from the peer.

        ``bytes`` are read in place, not copied, but for the start that completes a
        record the previous feed cut; other buffers (which the caller may reuse) are
        copied.
        """
        if self._more:  # the feed before was not read up (reading stopped early)
            self._append(memoryview(self._more)[self._more_at :])
            self._more, self._more_at = b"", 0
        if type(data) is not bytes:
            self._append(data)
        elif self._at == len(self._buf):  # nothing waits: read this feed in place
            self._buf, self._at = data, 0
        else:
            cut = self._cut_short(data)
            if cut >= len(data):
                self._append(data)
                return
            if cut:
                self._append(memoryview(data)[:cut])
            self._more, self._more_at = data, cut

    def _append(self, data: bytes | bytearray | memoryview) -> None:
        """Copy ``data`` after the unread input, into a bytearray of its own."""
        if self._at or type(self._buf) is bytes:
            self._buf, self._at = bytearray(memoryview(self._buf)[self._at :]), 0
        assert isinstance(self._buf, bytearray)
        self._buf += data

    def _cut_short(self, data: bytes) -> int:
        """How many bytes of ``data`` complete the last record of the unread input
        (0 if it ends on a record boundary); framing only, the checks come later."""
        buf, at, size = self._buf, self._at, len(self._buf)
        while size - at >= HEADER:
            at += HEADER + (buf[at + 3] << 8 | buf[at + 4])
        if at >= size:
            return at - size
        head = bytes(buf[at:]) + data[: HEADER - (size - at)]  # a header cut in two
        if len(head) < HEADER:
            return len(data)
        return at + HEADER + (head[3] << 8 | head[4]) - size

    def _consume(self, length: int) -> None:
        """Move past ``length`` bytes read; a read-up buffer makes way for the next."""
        self._at += length
        if self._at == len(self._buf):
            self._buf, self._at = self._more, self._more_at
            self._more, self._more_at = b"", 0

    def _keep_rest(self) -> None:
        """No whole record is left: copy what remains of a feed read in place, so that
        the feed is freed (its memory is then reused by the next receive)."""
        if self._at and type(self._buf) is bytes:
            self._buf, self._at = bytearray(memoryview(self._buf)[self._at :]), 0

    def _next_length(self) -> int | None:
        """Length of the next record if it is whole, after header checks."""
        buf, start = self._buf, self._at
        if len(buf) - start < HEADER:
            return None
        content_type = buf[start]
        length = buf[start + 3] << 8 | buf[start + 4]
        if content_type not in _TYPES:
            raise ProtocolError(AlertDescription.UNEXPECTED_MESSAGE, f"content type {content_type}")
        # §5.1: legacy_record_version is ignored under TLS 1.3; until then (and under
        # TLS 1.2, RFC 5246 Appendix E.1) it must look like TLS, {03,XX}.
        if buf[start + 1] != 3 and not self.ignore_record_version:
            raise ProtocolError(AlertDescription.PROTOCOL_VERSION, "not a TLS record")
        # TLS 1.2 protects every content type; TLS 1.3 hides them all in application_data.
        read = self._read
        protected = content_type == _APPLICATION_DATA or (
            read is not None and read.version == TLS12
        )
        limit = MAX_CIPHERTEXT if protected else MAX_FRAGMENT
        if length > limit:
            raise ProtocolError(AlertDescription.RECORD_OVERFLOW, "record too long")
        if len(buf) - start - HEADER < length:
            return None
        return length

    def read_records(self, batch: bool = False) -> list[Record]:
        """The next whole record, or with ``batch`` the run of whole application_data
        records at the read position (consecutive data joined into one record).

        A batch is opened in one provider call; if that fails (a KeyUpdate inside
        it, or a bad record) the cipher is rewound and one record is returned.
        """
        while True:
            length = self._next_length()
            if length is None:
                self._keep_rest()
                return []
            if batch and self._read is not None:
                opened = self._open_batch()
                if opened:
                    return opened
                if opened is not None:  # empty records only: on to what follows
                    continue
            record = bytes(self._buf[self._at : self._at + HEADER + length])
            self._consume(HEADER + length)
            one = self._open(record)
            if one is not None:
                return [one]

    def _batch_end(self) -> int:
        """End of the run of whole application_data records at the read position, if
        there are two or more; else 0. A header _next_length would refuse ends the run,
        so that the one-by-one path raises its alert."""
        buf, size = self._buf, len(self._buf)
        any_version = self.ignore_record_version
        end, count = self._at, 0
        header, app_data = _RECORD_HEADER.unpack_from, int(_APPLICATION_DATA)
        while size - end >= HEADER:
            content_type, major, length = header(buf, end)
            if content_type != app_data or length > MAX_CIPHERTEXT:
                break
            if (major != 3 and not any_version) or size - end - HEADER < length:
                break
            end += HEADER + length
            count += 1
        return end if count > 1 else 0

    def _open_batch(self) -> list[Record] | None:
        """Every whole application_data record buffered, opened in one call into one bytes
        object; consecutive application data comes back as one record (none for empty
        records). None to go one by one."""
        direction = self._read
        end = self._batch_end() if direction is not None else 0
        if direction is None or not end:
            return None
        sequence = direction.cipher.sequence
        try:
            with memoryview(self._buf)[self._at : end] as records:
                packed, spans = direction.cipher.open_many_packed(records)
        except Exception:  # replay one by one to find where it fails
            direction.rewind(sequence)
            return None
        self._consume(end - self._at)
        if all(t == _APPLICATION_DATA and 0 < n <= MAX_FRAGMENT for t, _, n in spans):
            self._empty_records = 0  # the usual run: data only, handed out as it is
            return [(_APPLICATION_DATA, packed, True)]
        out: list[Record] = []
        data = stop = 0  # the plaintexts are packed: data not yet handed out is [data:offset]
        with memoryview(packed) as plain:
            for content_type, offset, length in spans:
                self._check_span(content_type, length, direction.version)
                stop = offset + length
                if content_type == _APPLICATION_DATA:
                    continue
                if offset > data:
                    out.append((_APPLICATION_DATA, bytes(plain[data:offset]), True))
                out.append((content_type, bytes(plain[offset:stop]), True))
                data = stop
            if stop > data:
                out.append((_APPLICATION_DATA, bytes(plain[data:stop]), True))
        return out

    def _short(self, payload: bytes, version: int) -> None:
        """§5.2 / RFC 5246 §6.2.3.3: a ciphertext too short for its tag fails decryption."""
        if version == TLS13:  # the tag over at least the inner content type
            overhead = AEAD_TAG + 1
        elif self._read is not None and self._read.explicit_nonce:
            overhead = AEAD_TAG + GCM_EXPLICIT_NONCE
        else:
            overhead = AEAD_TAG
        if len(payload) < overhead:
            raise ProtocolError(AlertDescription.BAD_RECORD_MAC, "record shorter than its tag")

    def _skip(self, payload: bytes) -> None:
        """Count one skipped early-data record against the bound (§4.2.10)."""
        self.early_data_skipped += len(payload)
        if self.early_data_skipped > MAX_SKIPPED_EARLY_DATA:
            self.skip_early_data = False
            raise ProtocolError(
                AlertDescription.BAD_RECORD_MAC,
                f"over {MAX_SKIPPED_EARLY_DATA} bytes of records that do not decrypt",
            )

    def _open(self, record: bytes) -> Record | None:
        """One record opened; None when it is early data skipped unread."""
        content_type = record[0]
        payload = record[HEADER:]
        if self._read is not None and self._read.version == TLS12:
            if content_type == _CHANGE_CIPHER_SPEC and payload == b"\x01":
                # Too short to be protected: a second ChangeCipherSpec, refused as such.
                raise ProtocolError(AlertDescription.UNEXPECTED_MESSAGE, "change_cipher_spec")
            # RFC 5246 §6.2.3: after ChangeCipherSpec every record is protected.
            self._short(payload, TLS12)
            outer_type, plaintext = self._read.cipher.open(record)
            return self._check_inner(outer_type, plaintext, TLS12)
        if content_type == _APPLICATION_DATA:
            if self._read is None:
                if self.skip_early_data:  # after a HelloRetryRequest: skipped unread
                    self._skip(payload)
                    return None
                raise ProtocolError(
                    AlertDescription.UNEXPECTED_MESSAGE, "protected record before keys"
                )
            if self.skip_early_data:
                return self._trial_open(record)
            self._short(payload, TLS13)
            inner_type, plaintext = self._read.cipher.open(record)
            return self._check_inner(inner_type, plaintext, TLS13)
        if self._read is not None and content_type == _HANDSHAKE:
            raise ProtocolError(
                AlertDescription.UNEXPECTED_MESSAGE, "plaintext handshake after keys"
            )
        if not payload:  # §5.1: no zero-length handshake, alert or CCS fragments
            raise ProtocolError(AlertDescription.UNEXPECTED_MESSAGE, "empty plaintext record")
        return content_type, payload, False

    def _trial_open(self, record: bytes) -> Record | None:
        """§4.2.10: a record the handshake key does not open is early data, skipped."""
        direction = self._read
        assert direction is not None
        sequence = direction.cipher.sequence
        try:
            self._short(record[HEADER:], TLS13)
            inner_type, plaintext = direction.cipher.open(record)
        except TlsError:
            direction.rewind(sequence)
            self._skip(record[HEADER:])
            return None
        self.skip_early_data = False  # the first record that opens starts the second flight
        return self._check_inner(inner_type, plaintext, TLS13)

    def _check_inner(self, content_type: int, plaintext: bytes, version: int) -> Record:
        self._check_span(content_type, len(plaintext), version)
        return content_type, bytes(plaintext), True

    def _check_span(self, content_type: int, length: int, version: int) -> None:
        """An opened record's inner type and length, and the run of empty records."""
        # §5.2: the inner plaintext is at most 2^14 bytes; §5.4: a real type is required.
        # A protected TLS 1.2 ChangeCipherSpec is passed on, for the connection to refuse.
        if length > MAX_FRAGMENT:
            raise ProtocolError(AlertDescription.RECORD_OVERFLOW, "inner plaintext too long")
        if content_type not in _TYPES or (content_type == _CHANGE_CIPHER_SPEC and version == TLS13):
            raise ProtocolError(AlertDescription.UNEXPECTED_MESSAGE, f"inner type {content_type}")
        if not length:
            if content_type != _APPLICATION_DATA:
                raise ProtocolError(AlertDescription.UNEXPECTED_MESSAGE, "empty protected record")
            self._empty_records += 1
            if self._empty_records > MAX_EMPTY_RECORDS:
                raise ProtocolError(
                    AlertDescription.UNEXPECTED_MESSAGE,
                    f"more than {MAX_EMPTY_RECORDS} empty records in a row",
                )
        else:
            self._empty_records = 0


class HandshakeBuffer:
    """Reassembles handshake messages from record payloads (§5.1)."""

    def __init__(self, max_message: int = MAX_HANDSHAKE_MESSAGE) -> None:
        self._buf = bytearray()
        self.max_message = max_message
        """A longer message is refused as soon as its header is seen (decode_error)."""
        self.max_client_hello = max_message
        """The cap on a ClientHello; a server raises it to the syntax's own maximum."""

    @property
    def empty(self) -> bool:
        """True when no partial message is held."""
        return not self._buf

    def append(self, payload: bytes) -> None:
        """Add one record's payload."""
        self._buf += payload

    def pop(self) -> Handshake | None:
        """The next whole message, or None until more bytes arrive."""
        if len(self._buf) < 4:
            return None
        length = int.from_bytes(self._buf[1:4], "big")
        hello = self._buf[0] == _CLIENT_HELLO
        limit = self.max_client_hello if hello else self.max_message
        if length > limit:
            raise ProtocolError(
                AlertDescription.DECODE_ERROR,
                f"handshake message of {length} bytes (limit {limit})",
            )
        if len(self._buf) < 4 + length:
            return None
        raw = bytes(self._buf[: 4 + length])
        del self._buf[: 4 + length]
        return Handshake(raw[0], raw[4:], raw)
