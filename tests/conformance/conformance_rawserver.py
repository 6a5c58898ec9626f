"""A raw TLS server on 127.0.0.1 for the client-side conformance tests: it reads one
ClientHello, answers with hand-made bytes, and records every record the client sends
back (a TLS 1.3 alert after the ServerHello is decrypted with the handshake keys the
raw server derives itself)."""

from __future__ import annotations

import hashlib
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from conformance_wire import (
    ALERT,
    APPDATA,
    CCS,
    EXT_KEY_SHARE,
    EXT_SUPPORTED_VERSIONS,
    HANDSHAKE,
    Answer,
    extension,
    handshake,
    parse_records,
    read_answer,
    record,
    u16,
    vec,
)
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa, x25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tlsbench.crypto import get_provider
from tlsbench.tls.constants import TLS13


@dataclass
class Hello:
    """What the raw server needs of a ClientHello."""

    raw: bytes
    """The whole handshake message (for the transcript)."""
    random: bytes
    session_id: bytes
    extensions: dict[int, bytes]

    def key_shares(self) -> dict[int, bytes]:
        data = self.extensions.get(EXT_KEY_SHARE, b"\x00\x00")[2:]
        out = {}
        while len(data) >= 4:
            n = int.from_bytes(data[2:4], "big")
            out[int.from_bytes(data[0:2], "big")] = data[4 : 4 + n]
            data = data[4 + n :]
        return out


def parse_hello(message: bytes) -> Hello:
    body = message[4:]
    random = body[2:34]
    sid_len = body[34]
    session_id = body[35 : 35 + sid_len]
    at = 35 + sid_len
    at += 2 + int.from_bytes(body[at : at + 2], "big")
    at += 1 + body[at]
    end = at + 2 + int.from_bytes(body[at : at + 2], "big")
    at += 2
    exts = {}
    while at < end:
        ext_type = int.from_bytes(body[at : at + 2], "big")
        n = int.from_bytes(body[at + 2 : at + 4], "big")
        exts[ext_type] = body[at + 4 : at + 4 + n]
        at += 4 + n
    return Hello(message, random, session_id, exts)


def server_hello(
    session_id: bytes,
    suite: int,
    extensions: bytes,
    legacy_version: int = 0x0303,
    random: bytes | None = None,
) -> bytes:
    """A ServerHello message with these (already encoded) extensions."""
    body = (
        u16(legacy_version)
        + (random if random is not None else os.urandom(32))
        + vec(session_id, 1)
        + u16(suite)
        + b"\x00"
        + vec(extensions, 2)
    )
    return handshake(2, body)


def tls13_server_hello(hello: Hello, share: tuple[int, bytes], version: int = TLS13) -> bytes:
    entry = u16(share[0]) + vec(share[1], 2)
    exts = extension(EXT_SUPPORTED_VERSIONS, u16(version)) + extension(EXT_KEY_SHARE, entry)
    return server_hello(hello.session_id, 0x1301, exts)


Responder = Callable[[Hello, "RawServer"], bytes]


@dataclass
class RawServer:
    """Accepts one connection in a thread; ``respond`` says what to send to its hello."""

    respond: Responder
    sock: socket.socket = field(default_factory=socket.socket)
    answer: Answer | None = None
    hello: Hello | None = None
    error: str = ""
    client_keys: tuple[bytes, bytes] | None = None
    """TLS_AES_128_GCM_SHA256 client handshake (key, iv), when ``respond`` sets them."""
    second: Callable[[bytes, RawServer], bytes] | None = None
    """TLS 1.2: called with the client's second flight (through its first protected
    record); what it returns is sent, then the answer is read."""
    flight2: bytes = b""
    tls12_client_keys: tuple[int, bytes, bytes] | None = None
    """(suite, key, iv) of the client's TLS 1.2 records, when ``second`` sets them."""

    def __post_init__(self) -> None:
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.sock.settimeout(15)
        self.port = int(self.sock.getsockname()[1])
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            conn, _ = self.sock.accept()
        except OSError as exc:
            self.error = f"no connection: {exc}"
            return
        with conn:
            conn.settimeout(5)
            data = b""
            message = b""
            while True:
                chunk = conn.recv(1 << 16)
                if not chunk:
                    self.error = "client closed before its hello"
                    return
                data += chunk
                # the hello's records (type 22), reassembled
                payload, rest = b"", data
                while len(rest) >= 5 and len(rest) >= 5 + int.from_bytes(rest[3:5], "big"):
                    n = int.from_bytes(rest[3:5], "big")
                    if rest[0] == HANDSHAKE:
                        payload += rest[5 : 5 + n]
                    rest = rest[5 + n :]
                if len(payload) >= 4 and len(payload) >= 4 + int.from_bytes(payload[1:4], "big"):
                    message = payload[: 4 + int.from_bytes(payload[1:4], "big")]
                    break
            self.hello = parse_hello(message)
            conn.sendall(self.respond(self.hello, self))
            if self.second is not None:
                self.flight2 = _through_first_protected(conn)
                conn.sendall(self.second(self.flight2, self))
            self.answer = read_answer(conn, 6.0)

    def result(self) -> Answer:
        self.thread.join(20)
        self.sock.close()
        assert self.answer is not None, f"raw server: {self.error or 'no answer'}"
        return self.answer

    def alerts(self) -> list[int]:
        """Descriptions of the client's alerts: plaintext ones, and protected ones opened
        with the client handshake key when the responder derived it."""
        answer = self.result()
        out = [d for _lvl, d in answer.alerts]
        if self.tls12_client_keys is not None:
            suite, key, iv = self.tls12_client_keys
            cipher = get_provider("cryptography").RecordCipher(0x0303, suite, key, iv)
            recs, _ = parse_records(self.flight2)
            cipher.open(record(*recs[-1][::2]))  # the client's Finished, sequence 0
            for content_type, version, payload in answer.records:
                if content_type == ALERT and len(payload) > 2:
                    _outer, plaintext = cipher.open(record(content_type, payload, version))
                    out.append(plaintext[1])
        if self.client_keys is not None:
            provider = get_provider("cryptography")
            cipher = provider.RecordCipher(TLS13, 0x1301, *self.client_keys)
            for content_type, version, payload in answer.records:
                if content_type != APPDATA:
                    continue
                inner, plaintext = cipher.open(record(APPDATA, payload, version))
                if inner == ALERT:
                    out.append(plaintext[1])
        return out


def _through_first_protected(conn: socket.socket) -> bytes:
    """The client's bytes up to and including the first whole record after its CCS."""
    data = b""
    while True:
        recs, _rest = parse_records(data)
        types = [t for t, _v, _p in recs]
        if CCS in types and types.index(CCS) < len(types) - 1:
            return data[: sum(5 + len(p) for _t, _v, p in recs)]
        chunk = conn.recv(1 << 16)
        if not chunk:
            raise AssertionError(f"client closed in its second flight: {types}")
        data += chunk


def tls12_keys(
    flight2: bytes, server: RawServer, private: x25519.X25519PrivateKey, server_random: bytes
) -> None:
    """The client's TLS 1.2 key and IV for TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 (RFC 5246
    §8.1, §6.3; no extended master secret, as the raw ServerHello does not offer it)."""
    assert server.hello is not None
    recs, _ = parse_records(flight2)
    point = recs[0][2][5:]  # ClientKeyExchange: header 4, point length 1
    shared = private.exchange(x25519.X25519PublicKey.from_public_bytes(point))
    provider = get_provider("cryptography")
    master = provider.tls12_master_secret("sha256", shared, server.hello.random, server_random)
    key, _skey, iv, _siv = provider.tls12_key_block(
        0xC02F, master, server.hello.random, server_random
    )
    server.tls12_client_keys = (0xC02F, key, iv)


def tls13_keys(
    hello: Hello, server: RawServer, sh: bytes, private: x25519.X25519PrivateKey
) -> None:
    """Derive the client's handshake key for TLS_AES_128_GCM_SHA256 (RFC 8446 §7.1)."""
    client_public = x25519.X25519PublicKey.from_public_bytes(hello.key_shares()[0x001D])
    shared = private.exchange(client_public)
    provider = get_provider("cryptography")
    schedule = provider.KeySchedule(0x1301)
    stage = schedule.handshake_stage(shared, hashlib.sha256(hello.raw + sh).digest())
    server.client_keys = (stage.client_key, stage.client_iv)


def x25519_pair() -> tuple[x25519.X25519PrivateKey, bytes]:
    private = x25519.X25519PrivateKey.generate()
    return private, private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def tls12_flight(
    hello: Hello,
    cert_dir: Path,
    curve: int,
    point: bytes,
    suite: int = 0xC02F,
    random: bytes | None = None,
) -> bytes:
    """ServerHello, Certificate (serve's RSA leaf), a correctly signed ServerKeyExchange
    carrying ``point`` as it is, ServerHelloDone: TLS 1.2 ECDHE_RSA."""
    random = random if random is not None else os.urandom(32)
    exts = extension(0xFF01, b"\x00")  # RFC 5746: empty renegotiation_info
    sh = server_hello(b"", suite, exts, random=random)
    der = x509.load_pem_x509_certificate((cert_dir / "rsa2048-cert.pem").read_bytes()).public_bytes(
        Encoding.DER
    )
    cert = handshake(11, vec(vec(der, 3), 3))
    params = b"\x03" + u16(curve) + vec(point, 1)
    key = serialization.load_pem_private_key((cert_dir / "rsa2048-key.pem").read_bytes(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    signature = key.sign(hello.random + random + params, padding.PKCS1v15(), hashes.SHA256())
    ske = handshake(12, params + u16(0x0401) + vec(signature, 2))
    return record(HANDSHAKE, sh + cert + ske + handshake(14, b""))
