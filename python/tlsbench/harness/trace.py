"""``tlsbench trace``: one handshake of our engine drawn as a ladder, and where the time went.

Client (this thread) and server (a second thread) run in this process over a real
loopback TCP connection. Three kinds of instrumentation, all from outside the engine
and only in this process:

- the provider handed to the engine is wrapped (``get_provider`` is replaced in the
  engine's modules): its key-derivation calls and its record ciphers are timed;
- the engine's asymmetric operations (key shares, signatures, certificate checks:
  the functions and classes of ``tlsbench.tls.keyexchange``/``signatures`` and the
  certificate checks of ``certs``, all pyca underneath) are wrapped where referenced;
- each connection's transcript ``add`` is wrapped to note each handshake message,
  its size and when it was produced (sender) or processed (receiver); the record
  layer's ``write``/``read_records`` to note the application data records (bytes on
  the wire); the connection's write key changes to name the key of each record sent.

The ladder starts with the client's TCP connect() and ends with one HTTP-like request
and its response after the handshake. Times per category are thread CPU time,
outermost call only; "the rest" is the side's thread CPU for the whole handshake minus
the three.
"""

from __future__ import annotations

import functools
import inspect
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .impls import our_client_config, our_server_config
from .params import Tls

CATEGORIES = ("key derivation", "record protection", "asymmetric crypto")
CCS = -20  # a ChangeCipherSpec record: not a handshake message, but a step of the ladder
MESSAGE_NAMES = {
    0: "HelloRequest",
    1: "ClientHello",
    2: "ServerHello",
    4: "NewSessionTicket",
    5: "EndOfEarlyData",
    8: "EncryptedExtensions",
    11: "Certificate",
    12: "ServerKeyExchange",
    13: "CertificateRequest",
    14: "ServerHelloDone",
    15: "CertificateVerify",
    16: "ClientKeyExchange",
    20: "Finished",
    24: "KeyUpdate",
    254: "message_hash",
    CCS: "ChangeCipherSpec",
}
ASYMMETRIC_MODULES = ("tlsbench.tls.keyexchange", "tlsbench.tls.signatures")
ASYMMETRIC_NAMES = (
    "verify_server_chain",
    "verify_client_chain",
    "client_public_key",
    "parse_certificate",
)
TCP_CONNECT = "TCP connect (SYN, SYN-ACK, ACK)"
REQUEST = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n"
APPLICATION_DATA = 23
RECORD_HEADER = 5


class Clock:
    """Thread CPU seconds per category, per thread, outermost call only."""

    def __init__(self) -> None:
        self.spent: dict[int, dict[str, float]] = {}
        self._depth = threading.local()

    def timed(self, category: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        """``fn`` with its time booked to ``category``."""

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            depth = getattr(self._depth, "n", 0)
            if depth:
                return fn(*args, **kwargs)
            self._depth.n = 1
            start = time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self._depth.n = 0
                book = self.spent.setdefault(threading.get_ident(), {})
                book[category] = book.get(category, 0.0) + time.thread_time() - start

        return wrapper

    def reset(self) -> None:
        """Forget everything booked so far."""
        self.spent.clear()


class TimedObject:
    """An object whose method calls are booked to one category."""

    def __init__(self, inner: Any, category: str, clock: Clock) -> None:
        self._inner = inner
        self._category = category
        self._clock = clock

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if callable(attr):
            return self._clock.timed(self._category, attr)
        return attr


class TimedProvider:
    """A provider whose key derivation and record protection are timed."""

    def __init__(self, inner: Any, clock: Clock) -> None:
        self._inner = inner
        self._clock = clock

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name in ("RecordCipher", "AeadCipher"):
            return self._factory(attr, "record protection")
        if name == "KeySchedule":
            return self._factory(attr, "key derivation")
        if callable(attr):
            return self._clock.timed("key derivation", attr)
        return attr

    def _factory(self, cls: Any, category: str) -> Callable[..., Any]:
        def make(*args: Any, **kwargs: Any) -> TimedObject:
            inner = self._clock.timed(category, cls)(*args, **kwargs)
            return TimedObject(inner, category, self._clock)

        return make


def _engine_modules() -> list[Any]:
    import tlsbench.tls  # noqa: F401  (loads the engine's modules)

    return [m for n, m in list(sys.modules.items()) if n.startswith("tlsbench.tls.") and m]


@contextmanager
def instrumented(clock: Clock) -> Iterator[None]:
    """Wrap the provider and the asymmetric operations in every engine module; undo after."""
    from tlsbench.crypto import get_provider

    undo: list[tuple[Any, str, Any]] = []

    def patch(owner: Any, name: str, value: Any) -> None:
        undo.append((owner, name, getattr(owner, name)))
        setattr(owner, name, value)

    def timed_get_provider(name: str) -> Any:
        return TimedProvider(get_provider(name), clock)

    replaced: dict[int, Any] = {}
    for module_name in ASYMMETRIC_MODULES:
        module = sys.modules.get(module_name)
        for name, obj in list(vars(module).items()) if module else []:
            if name.startswith("_") or getattr(obj, "__module__", None) != module_name:
                continue
            if inspect.isfunction(obj):
                replaced[id(obj)] = clock.timed("asymmetric crypto", obj)
            elif inspect.isclass(obj):
                for attr, fn in list(vars(obj).items()):
                    if inspect.isfunction(fn) and (attr == "__init__" or not attr.startswith("_")):
                        patch(obj, attr, clock.timed("asymmetric crypto", fn))
    for module in _engine_modules():
        for name, obj in list(vars(module).items()):
            if obj is get_provider:
                patch(module, name, timed_get_provider)
            elif id(obj) in replaced and inspect.isfunction(obj):
                patch(module, name, replaced[id(obj)])
            elif name in ASYMMETRIC_NAMES and inspect.isfunction(obj):
                patch(module, name, clock.timed("asymmetric crypto", obj))
    try:
        yield
    finally:
        for owner, name, value in reversed(undo):
            setattr(owner, name, value)


class Note(NamedTuple):
    """A handshake message (or CCS) as one side saw it, with that side's write key then
    (the key of the record when this side is the sender), and what of note it carries
    (a hello's pre_shared_key)."""

    kind: int
    size: int
    at: float
    key: str | None
    detail: str = ""


NOTED_EXTENSIONS = {41: "pre_shared_key"}
"""Hello extensions the ladder names (RFC 8446 §4.2.11: what makes a handshake resumed)."""


def hello_extensions(raw: bytes) -> list[int]:
    """The extension types of a whole ClientHello or ServerHello message (empty if it
    cannot be read: this only labels the ladder)."""
    try:
        at = 4 + 2 + 32  # type and length, legacy_version, random
        at += 1 + raw[at]  # legacy_session_id
        if raw[0] == 1:
            at += 2 + int.from_bytes(raw[at : at + 2], "big")  # cipher_suites
            at += 1 + raw[at]  # legacy_compression_methods
        else:
            at += 2 + 1  # cipher_suite, legacy_compression_method
        end = at + 2 + int.from_bytes(raw[at : at + 2], "big")
        at += 2
        types = []
        while at + 4 <= end:
            types.append(int.from_bytes(raw[at : at + 2], "big"))
            at += 4 + int.from_bytes(raw[at + 2 : at + 4], "big")
        return types
    except IndexError:
        return []


class DataNote(NamedTuple):
    """Application data: one ``write`` call (sender, with its key) or one record opened
    (receiver)."""

    plaintext: int
    wire: int
    records: int
    at: float
    key: str | None
    content: str


@dataclass
class SideLog:
    """What one side saw: messages in transcript order, data records, its write key, CPU."""

    messages: list[Note] = field(default_factory=list)
    sent: list[DataNote] = field(default_factory=list)
    received: list[DataNote] = field(default_factory=list)
    write_key: str | None = None
    generations: dict[str, int] = field(default_factory=dict)
    accepted: float = 0.0
    cpu: float = 0.0
    spent: dict[str, float] = field(default_factory=dict)
    negotiated: dict[str, str] = field(default_factory=dict)
    error: str = ""


_current = threading.local()


def _log() -> SideLog | None:
    return getattr(_current, "log", None)


def _note(kind: int, size: int, keyed: bool = True, detail: str = "") -> None:
    log = _log()
    if log is not None:
        key = log.write_key if keyed else None
        log.messages.append(Note(kind, size, time.perf_counter(), key, detail))


def _tls13_key_name(log: SideLog, conn: Any, secret: bytes) -> str:
    """RFC 8446 §7.1 name of the write ``secret`` of ``conn``: its handshake traffic
    secret, else its next application traffic secret (0 at Finished, +1 per KeyUpdate)."""
    side = "client" if conn.is_client else "server"
    stage = getattr(conn, "handshake_stage", None)
    if stage is not None and secret == getattr(stage, f"{side}_secret"):
        return f"{side}_handshake_traffic_secret"
    n = log.generations.get(side, 0)
    log.generations[side] = n + 1
    return f"{side}_application_traffic_secret_{n}"


def _records(wire: bytes | bytearray) -> list[int]:
    """Lengths (header included) of the whole records at the start of ``wire``."""
    lengths, at = [], 0
    while len(wire) - at >= RECORD_HEADER:
        length = RECORD_HEADER + int.from_bytes(wire[at + 3 : at + 5], "big")
        if len(wire) - at < length:
            break
        lengths.append(length)
        at += length
    return lengths


def _first_line(data: bytes) -> str:
    return data.split(b"\r\n", 1)[0].decode("ascii", "replace")


@contextmanager
def watching_transcripts() -> Iterator[None]:
    """Note, in the log of the calling thread, every handshake message added to a
    transcript, every ChangeCipherSpec record written or read and every application
    data record, in ladder order, and name each key as it is installed."""
    from tlsbench.tls.connection import Connection
    from tlsbench.tls.record import RecordLayer
    from tlsbench.tls.transcript import Transcript

    add = Transcript.add
    write_ccs = RecordLayer.write_change_cipher_spec
    write = RecordLayer.write
    read_records = RecordLayer.read_records
    on_record = Connection._record
    set_write_secret = Connection.set_write_secret
    set_tls12_keys = Connection.set_tls12_keys

    def noting(self: Any, raw: bytes) -> Any:
        detail = ""
        if raw and raw[0] in (1, 2):
            found = [NOTED_EXTENSIONS[t] for t in hello_extensions(raw) if t in NOTED_EXTENSIONS]
            detail = ", ".join(found)
        _note(raw[0] if raw else -1, len(raw), detail=detail)
        return add(self, raw)

    # A ChangeCipherSpec record is always written and read in plaintext (a protected one
    # is refused), whatever keys are current: no key on its row.
    def writing_ccs(self: Any) -> None:
        _note(CCS, 1, keyed=False)
        write_ccs(self)

    def reading(self: Any, content_type: int, payload: bytes, protected: bool) -> None:
        if content_type == 20:  # change_cipher_spec
            _note(CCS, len(payload), keyed=False)
        on_record(self, content_type, payload, protected)

    def writing(self: Any, content_type: Any, data: bytes) -> None:
        log = _log()
        if log is None or content_type != APPLICATION_DATA:
            write(self, content_type, data)
            return
        self.flush_handshake()  # only this data's records are counted
        at, before = time.perf_counter(), len(self._out)  # the record layer's queued writes
        write(self, content_type, data)
        lengths = _records(b"".join(self._out[before:]))
        log.sent.append(
            DataNote(len(data), sum(lengths), len(lengths), at, log.write_key, _first_line(data))
        )

    def reading_records(self: Any, batch: bool = False) -> Any:
        log = _log()
        if log is None:
            return read_records(self, batch)
        lengths = _records(self.unread())
        # One record at a time, so that each record on the wire gets its note: a batch
        # hands consecutive application data out as one.
        records = read_records(self, False)
        now = time.perf_counter()
        for (content_type, payload, _), wire in zip(records, lengths, strict=False):
            if content_type == APPLICATION_DATA:
                log.received.append(DataNote(len(payload), wire, 1, now, None, ""))
        return records

    def writing_secret(self: Any, secret: bytes, keys: tuple[bytes, bytes] | None = None) -> None:
        set_write_secret(self, secret, keys)
        log = _log()
        if log is not None:
            log.write_key = _tls13_key_name(log, self, secret)

    def tls12_keys(self: Any, write: Any, read: Any) -> None:
        set_tls12_keys(self, write, read)
        log = _log()
        if log is not None:
            # RFC 5246 §6.3: each side writes with its own write key.
            if write is not None:
                log.write_key = f"{'client' if self.is_client else 'server'} write key"

    patches: list[tuple[Any, str, Any, Any]] = [
        (Transcript, "add", add, noting),
        (RecordLayer, "write_change_cipher_spec", write_ccs, writing_ccs),
        (RecordLayer, "write", write, writing),
        (RecordLayer, "read_records", read_records, reading_records),
        (Connection, "_record", on_record, reading),
        (Connection, "set_write_secret", set_write_secret, writing_secret),
        (Connection, "set_tls12_keys", set_tls12_keys, tls12_keys),
    ]
    for owner, name, _, wrapper in patches:
        setattr(owner, name, wrapper)
    try:
        yield
    finally:
        for owner, name, original, _ in reversed(patches):
            setattr(owner, name, original)


class Traced(NamedTuple):
    """One connection's client and server logs, connect start and end times, whether it
    resumed and the session the client kept."""

    client: SideLog
    server: SideLog
    t0: float
    t1: float
    resumed: bool
    session: Any


def _one(client_config: Any, server_config: Any, clock: Clock | None) -> Traced:
    """One traced connection (handshake, request, response, close) between these configs
    (the server's shared by every connection, so its tickets and sessions carry over)."""
    from tlsbench.tls import ClientConnection, ServerConnection
    from tlsbench.tls.driver import TlsStream

    from .impls import OurSession

    server_log, client_log = SideLog(), SideLog()
    kept: dict[str, Any] = {"resumed": False, "session": None}
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(20)
    port = listener.getsockname()[1]

    def serve() -> None:
        try:
            sock, _ = listener.accept()
            server_log.accepted = time.perf_counter()
            sock.settimeout(20)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            _current.log = server_log
            conn = ServerConnection(server_config)
            start = time.thread_time()
            stream = TlsStream(sock, conn)
            stream.do_handshake()
            server_log.cpu = time.thread_time() - start
            server_log.negotiated = OurSession(stream).negotiated()
            if clock is not None:
                server_log.spent = dict(clock.spent.get(threading.get_ident(), {}))
            stream.recv_exactly(len(REQUEST))
            stream.send(RESPONSE)
            while stream.recv(1 << 16):
                pass
            stream.close()
        except Exception as exc:
            server_log.error = f"{type(exc).__name__}: {exc}"

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    t0 = time.perf_counter()
    sock = socket.create_connection(("127.0.0.1", port), timeout=20)
    t1 = time.perf_counter()
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        start = time.thread_time()
        _current.log = client_log
        conn = ClientConnection(client_config)
        stream = TlsStream(sock, conn)
        stream.do_handshake()
        client_log.cpu = time.thread_time() - start
        client_log.negotiated = OurSession(stream).negotiated()
        if clock is not None:
            client_log.spent = dict(clock.spent.get(threading.get_ident(), {}))
        stream.send(REQUEST)
        stream.recv_exactly(len(RESPONSE))  # a TLS 1.3 ticket comes before the response
        kept.update(resumed=OurSession(stream).resumed(), session=OurSession(stream).saved())
        stream.close()
    except Exception as exc:
        client_log.error = f"{type(exc).__name__}: {exc}"
        sock.close()
    thread.join(20)
    listener.close()
    _current.log = None
    return Traced(client_log, server_log, t0, t1, kept["resumed"], kept["session"])


def _data_rows(sender: SideLog, receiver: SideLog, who: str, t0: float) -> list[dict[str, Any]]:
    """One row per ``write`` of application data, with the receiver's records of it."""
    rows = []
    received = iter(receiver.received)
    for sent in sender.sent:
        got = [r for _, r in zip(range(sent.records), received, strict=False)]
        if not got:
            break
        rows.append(
            {
                "kind": "application_data",
                "name": "application data",
                "from": who,
                "size": sent.wire,
                "plaintext": sent.plaintext,
                "records": sent.records,
                "content": sent.content,
                "key": sent.key,
                "sent_ms": (sent.at - t0) * 1e3,
                "received_ms": (got[-1].at - t0) * 1e3,
            }
        )
    return rows


def trace(tls: Tls, provider: str, warmup: int = 3, resume: bool = False) -> dict[str, Any]:
    """Warm up, then trace one connection; the ladder and the time split as a dict.

    ``resume``: a full handshake first gets a session (``tls.resumption`` says how in TLS
    1.2), then every connection (warm-up and traced) offers the newest one; the traced
    one must resume (ConnectionError otherwise). ``tls.client_auth``: the server requires
    the client certificate of ``tls``.
    """
    import dataclasses

    clock = Clock()
    client_config = our_client_config(tls, provider)
    server_config = our_server_config(tls, provider)
    with instrumented(clock), watching_transcripts():
        session = None
        if resume:
            first = _one(client_config, server_config, None)
            session = first.session
            if first.client.error or first.server.error or session is None:
                why = first.client.error or first.server.error or "the server gave no session"
                raise ConnectionError(f"the full handshake before the resumed one: {why}")
        for i in range(warmup + 1):
            offered = dataclasses.replace(client_config, session=session) if resume else None
            if i == warmup:
                clock.reset()
            traced = _one(offered or client_config, server_config, clock if i == warmup else None)
            session = traced.session or session
    client, server, t0, t1 = traced.client, traced.server, traced.t0, traced.t1
    error = client.error or server.error
    if error:
        raise ConnectionError(f"the traced connection failed: {error}")
    if resume and not traced.resumed:
        raise ConnectionError("the traced connection did not resume (a full handshake)")
    messages: list[dict[str, Any]] = []
    # Handshake messages pair up in transcript order, ChangeCipherSpec records in record
    # order; a sender may note a message before the CCS that precedes it on the wire
    # (TLS 1.3's dummy CCS goes out with the first protected record), so the rows are
    # put in the order the receivers processed them (one process, one clock).
    for is_ccs in (False, True):
        ours = [m for m in client.messages if (m.kind == CCS) == is_ccs]
        theirs = [m for m in server.messages if (m.kind == CCS) == is_ccs]
        for mine, peer in zip(ours, theirs, strict=False):
            sender, receiver = (mine, peer) if mine.at <= peer.at else (peer, mine)
            messages.append(
                {
                    "name": MESSAGE_NAMES.get(mine.kind, f"type {mine.kind}"),
                    "from": "client" if sender is mine else "server",
                    "size": mine.size,
                    "sent_ms": (sender.at - t0) * 1e3,
                    "received_ms": (receiver.at - t0) * 1e3,
                    "kind": "change_cipher_spec" if is_ccs else "handshake",
                    "key": sender.key,
                    "detail": sender.detail,
                }
            )
    messages.sort(key=lambda m: m["received_ms"])
    # The three-way handshake is the kernel's: its row spans the client's connect() call.
    # accepted_ms (the server thread's accept() returning) is kept apart: it waits for
    # that thread to be scheduled and to get the GIL, not for the network.
    connect: dict[str, Any] = {
        "kind": "tcp",
        "name": TCP_CONNECT,
        "from": "client",
        "duration_ms": (t1 - t0) * 1e3,
        "sent_ms": 0.0,
        "received_ms": (t1 - t0) * 1e3,
        "accepted_ms": (server.accepted - t0) * 1e3,
        "key": None,
    }
    data = _data_rows(client, server, "client", t0) + _data_rows(server, client, "server", t0)
    data.sort(key=lambda m: m["received_ms"])
    split = {}
    for side, log in (("client", client), ("server", server)):
        parts = {c: log.spent.get(c, 0.0) * 1e3 for c in CATEGORIES}
        parts["the rest"] = max(log.cpu * 1e3 - sum(parts.values()), 0.0)
        parts["total"] = log.cpu * 1e3
        split[side] = parts
    return {
        "tls": tls.version,
        "suite": tls.suite,
        "group": tls.group,
        "cert": tls.cert,
        "provider": provider,
        "resumed": traced.resumed,
        "client_auth": tls.client_auth,
        "negotiated": client.negotiated,
        "connect_ms": {"start": 0.0, "end": (t1 - t0) * 1e3},
        "messages": messages,
        "cpu_ms": split,
        "ladder": [connect, *messages, *data],
    }


def render(data: dict[str, Any]) -> str:
    """The ladder and the time split as text."""
    width = 46
    neg = data["negotiated"]
    lines = [
        f"TLS {neg.get('version', data['tls'])} {neg.get('suite', data['suite'])} "
        f"{neg.get('group', data['group'])}, {data['cert']} certificate, "
        f"provider {data['provider']}"
        + (", resumed" if data.get("resumed") else "")
        + (", client certificate" if data.get("client_auth") else ""),
        "",
        f"{'ms':>9}  {'client':<{width // 2}}{'server':>{width // 2}}  {'ms':<9}  key",
    ]
    for m in data["ladder"]:
        if m["kind"] == "tcp":
            label = f" {m['name']} {m['duration_ms']:.3f} ms "
        elif m["kind"] == "application_data":
            label = f" {m['name']} {m['size']} B: {m['content']} "
        else:
            detail = f" ({m['detail']})" if m.get("detail") else ""
            label = f" {m['name']} {m['size']} B{detail} "
        if m["from"] == "client":
            arrow = label.center(width - 1, "-") + ">"
            left, right = m["sent_ms"], m["received_ms"]
        else:
            arrow = "<" + label.center(width - 1, "-")
            left, right = m["received_ms"], m["sent_ms"]
        key = "" if m["kind"] == "tcp" else m["key"] or "plaintext"
        lines.append(f"{left:9.3f}  {arrow}  {right:<9.3f}  {key}".rstrip())
    lines += [
        "",
        "(left: client's clock, right: server's; a message is stamped when its sender",
        " built it and when its receiver processed it; TCP connect: the client's",
        " connect() call. Sizes: handshake messages without their record header,",
        " application data as records on the wire. key: what protected the record)",
        "",
        f"{'CPU time, ms':<22}{'client':>10}{'server':>10}",
    ]
    for part in (*CATEGORIES, "the rest", "total"):
        cl, sv = data["cpu_ms"]["client"][part], data["cpu_ms"]["server"][part]
        lines.append(f"{part:<22}{cl:>10.3f}{sv:>10.3f}")
    return "\n".join(lines) + "\n"
