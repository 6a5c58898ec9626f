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

from tlsbench.crypto.base import Provider

from .alerts import ProtocolError
from .constants import (
    MAX_CIPHERTEXT,
    MAX_FRAGMENT,
    TLS12,
    TLS13,
    AlertDescription,
    CipherSuite,
    ContentType,
)
from .messages import Handshake

HEADER = 5
MAX_HANDSHAKE_MESSAGE = 1 << 16
"""Default cap on one handshake message (ours, not the RFC's 2^24 - 1): a DoS bound."""
_TYPES = frozenset(int(t) for t in ContentType)

Record = tuple[int, bytes, bool]
"""A received record: content type, plaintext, and whether it was protected."""


class _Direction:
    """One direction's cipher, rebuilt from its keys when a batch must be replayed."""

    def __init__(
        self, provider: Provider, suite: CipherSuite, key: bytes, iv: bytes, version: int
    ) -> None:
        self._provider = provider
        self._suite = suite
        self._key = key
        self._iv = iv
        self.version = version
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
        self._in = bytearray()
        self._out = bytearray()
        self._read: _Direction | None = None
        self._write: _Direction | None = None
        self.legacy_version = TLS12
        """The record version we write; 0x0301 is allowed for an initial ClientHello (§5.1)."""
        self.ccs_pending = False
        """Send a dummy ChangeCipherSpec before the next protected record (Appendix D.4)."""

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
        self._write = _Direction(self._provider, suite, key, iv, version)

    @property
    def _read_tls12(self) -> bool:
        return self._read is not None and self._read.version == TLS12

    # -- output --------------------------------------------------------------
    def write(self, content_type: ContentType, data: bytes) -> None:
        """Queue ``data`` as records of ``content_type`` (fragmented, sealed if keyed)."""
        if self._write is None:
            if not data:
                raise ValueError("empty plaintext record")
            for start in range(0, len(data), MAX_FRAGMENT):
                chunk = data[start : start + MAX_FRAGMENT]
                self._header(content_type, len(chunk))
                self._out += chunk
            return
        if self.ccs_pending:
            self.write_change_cipher_spec()
        self._out += self._write.cipher.seal_many(content_type, data, MAX_FRAGMENT)

    def write_change_cipher_spec(self) -> None:
        """The dummy ChangeCipherSpec of middlebox compatibility mode (Appendix D.4)."""
        self.ccs_pending = False
        self._header(ContentType.CHANGE_CIPHER_SPEC, 1)
        self._out += b"\x01"

    def _header(self, content_type: int, length: int) -> None:
        self._out += bytes((content_type,)) + self.legacy_version.to_bytes(2, "big")
        self._out += length.to_bytes(2, "big")

    def take_output(self) -> bytes:
        """Everything queued for the peer, once."""
        out = bytes(self._out)
        self._out.clear()
        return out

    # -- input ---------------------------------------------------------------
    def feed(self, data: bytes) -> None:
        """Append bytes received from the peer."""
        self._in += data

    def _next_length(self, start: int) -> int | None:
        """Length of the record at ``start`` if it is whole, after header checks."""
        if len(self._in) - start < HEADER:
            return None
        content_type = self._in[start]
        length = int.from_bytes(self._in[start + 3 : start + 5], "big")
        if content_type not in _TYPES:
            raise ProtocolError(AlertDescription.UNEXPECTED_MESSAGE, f"content type {content_type}")
        # §5.1: legacy_record_version is otherwise ignored, but must look like TLS.
        if self._in[start + 1] != 3:
            raise ProtocolError(AlertDescription.PROTOCOL_VERSION, "not a TLS record")
        # TLS 1.2 protects every content type; TLS 1.3 hides them all in application_data.
        protected = content_type == ContentType.APPLICATION_DATA or self._read_tls12
        limit = MAX_CIPHERTEXT if protected else MAX_FRAGMENT
        if length > limit:
            raise ProtocolError(AlertDescription.RECORD_OVERFLOW, "record too long")
        if len(self._in) - start - HEADER < length:
            return None
        return length

    def read_records(self, batch: bool = False) -> list[Record]:
        """The next whole record, or with ``batch`` every whole protected record buffered.

        A batch is opened in one provider call; if that fails (a KeyUpdate inside
        it, or a bad record) the cipher is rewound and one record is returned.
        """
        length = self._next_length(0)
        if length is None:
            return []
        if batch and self._read is not None:
            end = 0
            count = 0
            while True:
                n = self._next_length(end)
                if n is None or self._in[end] != ContentType.APPLICATION_DATA:
                    break
                end += HEADER + n
                count += 1
            if count > 1:
                direction = self._read
                sequence = direction.cipher.sequence
                try:
                    opened = direction.cipher.open_many(bytes(self._in[:end]))
                except Exception:  # replay one by one to find where it fails
                    direction.rewind(sequence)
                else:
                    del self._in[:end]
                    return [self._check_inner(t, p, direction.version) for t, p in opened]
        record = bytes(self._in[: HEADER + length])
        del self._in[: HEADER + length]
        return [self._open(record)]

    def _open(self, record: bytes) -> Record:
        content_type = record[0]
        payload = record[HEADER:]
        if self._read is not None and self._read.version == TLS12:
            if content_type == ContentType.CHANGE_CIPHER_SPEC and payload == b"\x01":
                # Too short to be protected: a second ChangeCipherSpec, refused as such.
                raise ProtocolError(AlertDescription.UNEXPECTED_MESSAGE, "change_cipher_spec")
            # RFC 5246 §6.2.3: after ChangeCipherSpec every record is protected.
            outer_type, plaintext = self._read.cipher.open(record)
            return self._check_inner(outer_type, plaintext, TLS12)
        if content_type == ContentType.APPLICATION_DATA:
            if self._read is None:
                raise ProtocolError(
                    AlertDescription.UNEXPECTED_MESSAGE, "protected record before keys"
                )
            inner_type, plaintext = self._read.cipher.open(record)
            return self._check_inner(inner_type, plaintext, TLS13)
        if self._read is not None and content_type == ContentType.HANDSHAKE:
            raise ProtocolError(
                AlertDescription.UNEXPECTED_MESSAGE, "plaintext handshake after keys"
            )
        if not payload:  # §5.1: no zero-length handshake, alert or CCS fragments
            raise ProtocolError(AlertDescription.UNEXPECTED_MESSAGE, "empty plaintext record")
        return content_type, payload, False

    @staticmethod
    def _check_inner(content_type: int, plaintext: bytes, version: int) -> Record:
        # §5.2: the inner plaintext is at most 2^14 bytes; §5.4: a real type is required.
        # A protected TLS 1.2 ChangeCipherSpec is passed on, for the connection to refuse.
        if len(plaintext) > MAX_FRAGMENT:
            raise ProtocolError(AlertDescription.RECORD_OVERFLOW, "inner plaintext too long")
        if content_type not in _TYPES or (
            content_type == ContentType.CHANGE_CIPHER_SPEC and version == TLS13
        ):
            raise ProtocolError(AlertDescription.UNEXPECTED_MESSAGE, f"inner type {content_type}")
        if content_type != ContentType.APPLICATION_DATA and not plaintext:
            raise ProtocolError(AlertDescription.UNEXPECTED_MESSAGE, "empty protected record")
        return content_type, bytes(plaintext), True


class HandshakeBuffer:
    """Reassembles handshake messages from record payloads (§5.1)."""

    def __init__(self, max_message: int = MAX_HANDSHAKE_MESSAGE) -> None:
        self._buf = bytearray()
        self.max_message = max_message
        """A longer message is refused as soon as its header is seen (decode_error)."""

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
        if length > self.max_message:
            raise ProtocolError(
                AlertDescription.DECODE_ERROR,
                f"handshake message of {length} bytes (limit {self.max_message})",
            )
        if len(self._buf) < 4 + length:
            return None
        raw = bytes(self._buf[: 4 + length])
        del self._buf[: 4 + length]
        return Handshake(raw[0], raw[4:], raw)
