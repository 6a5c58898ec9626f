"""Record real handshakes between the engine and OpenSSL and write the fuzz seed corpus.

    python3 fuzz/make_corpus.py            # rewrites fuzz/corpus/ (needs the openssl command)

Each scenario runs our server against ``openssl s_client`` or our client against
``openssl s_server -www`` over 127.0.0.1. The bytes each side sent are captured inside
the engine (``Connection.receive_data`` / ``data_to_send`` wrapped for the run) and so are
the plaintext handshake messages, TLS 1.3's encrypted ones included. They are written as:

- ``server/``, ``client/``: the whole stream the engine received (a split byte first);
- ``record/``, ``core_open/``: single records, plaintext as captured and re-sealed under
  the fixed keys of the record targets (a mode byte first);
- ``handshake/``: each handshake message, and each flight's messages together;
- ``extensions/``: every extension block seen.

Handshakes are random, so the files change on every run; their number and kinds do not.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from fuzz_targets import CORPUS, RECORD_SUITES, digest, record_keys, records

from tlsbench.crypto import get_provider
from tlsbench.tls import messages as m13
from tlsbench.tls.alerts import ProtocolError
from tlsbench.tls.certs import CredentialFiles, write_credentials
from tlsbench.tls.client import ClientConfig
from tlsbench.tls.connection import Connection
from tlsbench.tls.constants import (
    TLS12,
    CipherSuite,
    ContentType,
    HandshakeType,
    KeyUpdateRequest,
    NamedGroup,
)
from tlsbench.tls.driver import TlsConnectionError, accept, connect
from tlsbench.tls.extensions import encode_extensions
from tlsbench.tls.record import HandshakeBuffer
from tlsbench.tls.server import ServerConfig


@dataclass
class Capture:
    """What the engine received and sent during one scenario."""

    received: bytearray = field(default_factory=bytearray)
    sent: bytearray = field(default_factory=bytearray)
    messages: list[bytes] = field(default_factory=list)
    """Whole handshake messages, received and sent, in plaintext."""


CAPTURE = Capture()


def _install_capture() -> None:
    """Wrap the engine's byte and message entry points to log into ``CAPTURE``."""
    receive, take, send, pop = (
        Connection.receive_data,
        Connection.data_to_send,
        Connection.send_handshake,
        HandshakeBuffer.pop,
    )

    def receive_data(self: Connection, data: bytes) -> list:  # type: ignore[type-arg]
        CAPTURE.received += data
        return receive(self, data)

    def data_to_send(self: Connection) -> bytes:
        out = take(self)
        CAPTURE.sent += out
        return out

    def send_handshake(self: Connection, raw: bytes) -> None:
        CAPTURE.messages.append(raw)
        send(self, raw)

    def pop_message(self: HandshakeBuffer) -> m13.Handshake | None:
        message = pop(self)
        if message is not None:
            CAPTURE.messages.append(message.raw)
        return message

    Connection.receive_data = receive_data  # type: ignore[method-assign]
    Connection.data_to_send = data_to_send  # type: ignore[method-assign]
    Connection.send_handshake = send_handshake  # type: ignore[method-assign]
    HandshakeBuffer.pop = pop_message  # type: ignore[method-assign]


@dataclass(frozen=True)
class Scenario:
    """One handshake: which side is ours, its settings, and OpenSSL's arguments."""

    name: str
    ours: str  # "server" (against s_client) or "client" (against s_server)
    kind: str  # certificate kind
    openssl: tuple[str, ...]
    suites: tuple[CipherSuite, ...] = ()
    groups: tuple[NamedGroup, ...] = ()
    versions: tuple[int, ...] = (0x0304, 0x0303)
    alpn: tuple[bytes, ...] = ()


S13 = ("-tls1_3",)
S12 = ("-tls1_2",)
SCENARIOS = (
    Scenario("s-tls13-x25519-aes128-ecdsa", "server", "ecdsa-p256", (*S13, "-groups", "X25519")),
    Scenario(
        "s-tls13-p256-chacha-rsa",
        "server",
        "rsa2048",
        (*S13, "-groups", "P-256", "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256"),
    ),
    Scenario(
        "s-tls13-hrr-p384-aes256",
        "server",
        "rsa2048",
        (*S13, "-groups", "X25519:P-384", "-ciphersuites", "TLS_AES_256_GCM_SHA384"),
        groups=(NamedGroup.SECP384R1,),
    ),
    Scenario(
        "s-tls13-alpn-sni",
        "server",
        "ecdsa-p256",
        (*S13, "-alpn", "h2,http/1.1", "-servername", "localhost"),
        alpn=(b"http/1.1",),
    ),
    Scenario(
        "s-tls12-ecdhe-rsa", "server", "rsa2048", (*S12, "-cipher", "ECDHE-RSA-AES128-GCM-SHA256")
    ),
    Scenario(
        "s-tls12-ecdhe-ecdsa-p384",
        "server",
        "ecdsa-p256",
        (*S12, "-cipher", "ECDHE-ECDSA-AES256-GCM-SHA384", "-groups", "P-384:P-256"),
        suites=(CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,),
    ),
    Scenario("s-tls12-rsa-kx", "server", "rsa2048", (*S12, "-cipher", "AES256-GCM-SHA384")),
    Scenario("c-tls13-x25519-ecdsa", "client", "ecdsa-p256", S13),
    Scenario(
        "c-tls13-hrr-p256-rsa",
        "client",
        "rsa2048",
        (*S13, "-groups", "P-256"),
        groups=(NamedGroup.X25519, NamedGroup.SECP256R1),
    ),
    Scenario("c-tls13-certreq", "client", "ecdsa-p256", (*S13, "-verify", "1")),
    Scenario("c-tls12-ecdhe-rsa", "client", "rsa2048", S12, versions=(TLS12,)),
    Scenario(
        "c-tls12-rsa-kx-certreq",
        "client",
        "rsa2048",
        (*S12, "-verify", "1"),
        suites=(CipherSuite.TLS_RSA_WITH_AES_128_GCM_SHA256,),
        versions=(TLS12,),
    ),
    Scenario(
        "c-tls12-ecdhe-ecdsa",
        "client",
        "ecdsa-p256",
        S12,
        suites=(CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,),
        versions=(TLS12,),
    ),
)


def _openssl(args: list[str]) -> subprocess.Popen[bytes]:
    path = shutil.which("openssl")
    if path is None:
        sys.exit("the openssl command is needed (apt-get install openssl)")
    return subprocess.Popen(
        [path, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


@contextmanager
def _reaped(proc: subprocess.Popen[bytes]) -> Iterator[subprocess.Popen[bytes]]:
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(5)


def _run_server(s: Scenario, files: CredentialFiles) -> None:
    """Our server against ``openssl s_client``."""
    kwargs: dict[str, object] = {}
    if s.groups:
        kwargs["groups"] = s.groups
    if s.suites:
        kwargs["cipher_suites"] = s.suites
    config = ServerConfig.from_files(
        files.cert_file, files.key_file, alpn_protocols=s.alpn, versions=s.versions, **kwargs
    )  # type: ignore[arg-type]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        sock.settimeout(20)
        port = sock.getsockname()[1]
        args = ["s_client", "-connect", f"127.0.0.1:{port}", "-CAfile", str(files.ca_file)]
        with _reaped(_openssl([*args, *s.openssl])) as proc:
            writer = threading.Thread(target=_write_and_wait, args=(proc, b"ping\n"), daemon=True)
            writer.start()
            stream = accept(sock, config)
            try:
                stream.recv()
                stream.send(b"pong\n")
            finally:
                stream.close()
            writer.join(10)


def _write_and_wait(proc: subprocess.Popen[bytes], data: bytes) -> None:
    assert proc.stdin is not None
    time.sleep(0.3)
    try:
        proc.stdin.write(data)
        proc.stdin.flush()
        time.sleep(0.3)
        proc.stdin.close()
    except BrokenPipeError:  # s_client already gone: the handshake is what matters
        pass


def _run_client(s: Scenario, files: CredentialFiles) -> None:
    """Our client against ``openssl s_server -www`` (which sends tickets and a page)."""
    port = _free_port()
    args = ["s_server", "-accept", f"127.0.0.1:{port}", "-naccept", "1", "-www"]
    args += ["-cert", str(files.cert_file), "-key", str(files.key_file)]
    with _reaped(_openssl([*args, *s.openssl])) as proc:
        assert proc.stdout is not None
        line = b""
        while b"ACCEPT" not in line:
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError("openssl s_server did not start")
        kwargs: dict[str, object] = {}
        if s.suites:
            kwargs["cipher_suites"] = s.suites
        if s.groups:
            kwargs["groups"] = s.groups
        config = ClientConfig(
            server_name="localhost",
            ca_file=files.ca_file,
            versions=s.versions,
            **kwargs,  # type: ignore[arg-type]
        )
        stream = connect("127.0.0.1", port, config)
        try:
            stream.send(b"GET / HTTP/1.0\r\n\r\n")
            while stream.recv():
                pass
        finally:
            stream.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


_WITH_EXTENSIONS = {
    HandshakeType.CLIENT_HELLO: m13.ClientHello,
    HandshakeType.SERVER_HELLO: m13.ServerHello,
    HandshakeType.ENCRYPTED_EXTENSIONS: m13.EncryptedExtensions,
    HandshakeType.CERTIFICATE_REQUEST: m13.CertificateRequest,
    HandshakeType.NEW_SESSION_TICKET: m13.NewSessionTicket,
}


def extension_blocks(raw: bytes) -> list[bytes]:
    """The extension blocks (contents, without the outer length) of one whole message."""
    blocks: list[dict[int, bytes]] = []
    try:
        if raw[0] in _WITH_EXTENSIONS:
            blocks.append(_WITH_EXTENSIONS[raw[0]].decode(raw[4:]).extensions)  # type: ignore[attr-defined]
        elif raw[0] == HandshakeType.CERTIFICATE:
            blocks += [e.extensions for e in m13.Certificate.decode(raw[4:]).entries]
    except ProtocolError:  # e.g. a TLS 1.2 CertificateRequest read as a TLS 1.3 one
        pass
    return [encode_extensions(b) for b in blocks if b]


def sealed_records(plaintexts: list[bytes]) -> list[bytes]:
    """Each plaintext sealed as one record under the record targets' fixed keys, mode byte first."""
    out = []
    for mode, (version, suite) in enumerate(RECORD_SUITES, start=1):
        key, iv = record_keys(version, suite)
        for i, plaintext in enumerate(plaintexts):
            # Sequence 0 each time: the targets read every input with a fresh cipher.
            cipher = get_provider("cryptography").RecordCipher(version, int(suite), key, iv)
            content = ContentType.HANDSHAKE if i % 2 == 0 else ContentType.APPLICATION_DATA
            flags = mode | (0x80 if i % 3 == 0 else 0)
            out.append(bytes((flags,)) + cipher.seal(content, plaintext))
    return out


def write(target: str, name: str, data: bytes) -> None:
    """One corpus file."""
    directory = CORPUS / target
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{name}-{digest(data)}").write_bytes(data)


def main() -> None:
    """Run every scenario and write the corpus."""
    _install_capture()
    if CORPUS.exists():
        shutil.rmtree(CORPUS)
    runners: dict[str, Callable[[Scenario, CredentialFiles], None]] = {
        "server": _run_server,
        "client": _run_client,
    }
    with tempfile.TemporaryDirectory() as tmp:
        files = {k: write_credentials(tmp, k) for k in ("rsa2048", "ecdsa-p256")}  # type: ignore[arg-type]
        all_messages: list[bytes] = []
        for s in SCENARIOS:
            CAPTURE.received.clear()
            CAPTURE.sent.clear()
            CAPTURE.messages.clear()
            try:
                runners[s.ours](s, files[s.kind])
            except (TlsConnectionError, OSError) as exc:  # what was captured is still useful
                print(f"{s.name}: {type(exc).__name__}: {exc}")
            received, sent = bytes(CAPTURE.received), bytes(CAPTURE.sent)
            assert received and CAPTURE.messages, f"{s.name}: nothing captured"
            write(s.ours, s.name, b"\x00" + received)
            for i, record in enumerate(records(received) + records(sent)):
                if record[0] != ContentType.APPLICATION_DATA:
                    write("record", f"{s.name}-{i}", b"\x00" + record)
            flight = b"".join(CAPTURE.messages)
            write("handshake", f"{s.name}-all", flight)
            for raw in CAPTURE.messages:
                write("handshake", f"{s.name}-{raw[0]}", raw)
                for block in extension_blocks(raw):
                    write("extensions", f"{s.name}-{raw[0]}", block)
            all_messages += CAPTURE.messages
            print(
                f"{s.name}: {len(received)} bytes in, {len(sent)} out, "
                f"{len(CAPTURE.messages)} messages"
            )
        for update in KeyUpdateRequest:  # KeyUpdate goes through no captured path
            write("handshake", "key-update", m13.KeyUpdate(update).encode())
        small = [raw for raw in all_messages if len(raw) < 600][:12]
        for i, record in enumerate(sealed_records(small)):
            write("record", f"sealed-{i}", record)
            write("core_open", f"sealed-{i}", record)
    total = sum(p.stat().st_size for p in CORPUS.rglob("*") if p.is_file())
    count = sum(1 for p in CORPUS.rglob("*") if p.is_file())
    print(f"{count} files, {total} bytes in {CORPUS}")


if __name__ == "__main__":
    main()
