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
  its size and when it was produced (sender) or processed (receiver).

Times per category are thread CPU time, outermost call only; "the rest" is the
side's thread CPU for the whole handshake minus the three.
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
from typing import Any

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
ASYMMETRIC_NAMES = ("verify_server_chain", "parse_certificate")


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


@dataclass
class SideLog:
    """What one side saw: messages (type, size, time) in transcript order, CPU, bytes."""

    messages: list[tuple[int, int, float]] = field(default_factory=list)
    cpu: float = 0.0
    spent: dict[str, float] = field(default_factory=dict)
    negotiated: dict[str, str] = field(default_factory=dict)
    error: str = ""


_current = threading.local()


def _note(kind: int, size: int) -> None:
    log = getattr(_current, "log", None)
    if log is not None:
        log.messages.append((kind, size, time.perf_counter()))


@contextmanager
def watching_transcripts() -> Iterator[None]:
    """Note, in the log of the calling thread, every handshake message added to a
    transcript and every ChangeCipherSpec record written or read, in ladder order."""
    from tlsbench.tls.connection import Connection
    from tlsbench.tls.record import RecordLayer
    from tlsbench.tls.transcript import Transcript

    add = Transcript.add
    write_ccs = RecordLayer.write_change_cipher_spec
    on_record = Connection._record

    def noting(self: Any, raw: bytes) -> Any:
        _note(raw[0] if raw else -1, len(raw))
        return add(self, raw)

    def writing_ccs(self: Any) -> None:
        _note(CCS, 1)
        write_ccs(self)

    def reading(self: Any, content_type: int, payload: bytes, protected: bool) -> None:
        if content_type == 20:  # change_cipher_spec
            _note(CCS, len(payload))
        on_record(self, content_type, payload, protected)

    Transcript.add = noting  # type: ignore[method-assign]
    RecordLayer.write_change_cipher_spec = writing_ccs  # type: ignore[method-assign]
    Connection._record = reading  # type: ignore[method-assign]
    try:
        yield
    finally:
        Transcript.add = add  # type: ignore[method-assign]
        RecordLayer.write_change_cipher_spec = write_ccs  # type: ignore[method-assign]
        Connection._record = on_record  # type: ignore[method-assign]


def _one(tls: Tls, provider: str, clock: Clock | None) -> tuple[SideLog, SideLog, float, float]:
    """One traced handshake: client and server logs, connect start and end times."""
    from tlsbench.tls import ClientConnection, ServerConnection
    from tlsbench.tls.driver import TlsStream

    from .impls import OurSession

    client_config = our_client_config(tls, provider)
    server_config = our_server_config(tls, provider)
    server_log, client_log = SideLog(), SideLog()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(20)
    port = listener.getsockname()[1]

    def serve() -> None:
        try:
            sock, _ = listener.accept()
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
            stream.send(stream.recv(1))
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
        stream.send(b"x")
        stream.recv(1)
        stream.close()
    except Exception as exc:
        client_log.error = f"{type(exc).__name__}: {exc}"
        sock.close()
    thread.join(20)
    listener.close()
    _current.log = None
    return client_log, server_log, t0, t1


def trace(tls: Tls, provider: str, warmup: int = 3) -> dict[str, Any]:
    """Warm up, then trace one handshake; the ladder and the time split as a dict."""
    clock = Clock()
    with instrumented(clock), watching_transcripts():
        for _ in range(warmup):
            _one(tls, provider, None)
        clock.reset()
        client, server, t0, t1 = _one(tls, provider, clock)
    error = client.error or server.error
    if error:
        raise ConnectionError(f"the traced handshake failed: {error}")
    messages = []
    # Handshake messages pair up in transcript order, ChangeCipherSpec records in record
    # order; a sender may note a message before the CCS that precedes it on the wire
    # (TLS 1.3's dummy CCS goes out with the first protected record), so the rows are
    # put in the order the receivers processed them (one process, one clock).
    for is_ccs in (False, True):
        ours = [m for m in client.messages if (m[0] == CCS) == is_ccs]
        theirs = [m for m in server.messages if (m[0] == CCS) == is_ccs]
        for (ctype, size, ctime), (_, _, stime) in zip(ours, theirs, strict=False):
            from_client = ctime <= stime
            messages.append(
                {
                    "name": MESSAGE_NAMES.get(ctype, f"type {ctype}"),
                    "from": "client" if from_client else "server",
                    "size": size,
                    "sent_ms": ((ctime if from_client else stime) - t0) * 1e3,
                    "received_ms": ((stime if from_client else ctime) - t0) * 1e3,
                }
            )
    messages.sort(key=lambda m: m["received_ms"])
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
        "negotiated": client.negotiated,
        "connect_ms": {"start": 0.0, "end": (t1 - t0) * 1e3},
        "messages": messages,
        "cpu_ms": split,
    }


def render(data: dict[str, Any]) -> str:
    """The ladder and the time split as text."""
    width = 44
    neg = data["negotiated"]
    lines = [
        f"TLS {neg.get('version', data['tls'])} {neg.get('suite', data['suite'])} "
        f"{neg.get('group', data['group'])}, {data['cert']} certificate, "
        f"provider {data['provider']}",
        "",
        f"{'ms':>9}  {'client':<{width // 2}}{'server':>{width // 2}}  {'ms':<9}",
    ]
    c = data["connect_ms"]
    label = " TCP connect "
    lines.append(f"{c['start']:9.3f}  {label.center(width - 1, '-')}>  {c['end']:<9.3f}")
    for m in data["messages"]:
        label = f" {m['name']} {m['size']} B "
        if m["from"] == "client":
            arrow = label.center(width - 1, "-") + ">"
            left, right = m["sent_ms"], m["received_ms"]
        else:
            arrow = "<" + label.center(width - 1, "-")
            left, right = m["received_ms"], m["sent_ms"]
        lines.append(f"{left:9.3f}  {arrow}  {right:<9.3f}")
    lines += [
        "",
        "(left: client's clock, right: server's; a message is stamped when its sender",
        " built it and when its receiver processed it)",
        "",
        f"{'CPU time, ms':<22}{'client':>10}{'server':>10}",
    ]
    for part in (*CATEGORIES, "the rest", "total"):
        cl, sv = data["cpu_ms"]["client"][part], data["cpu_ms"]["server"][part]
        lines.append(f"{part:<22}{cl:>10.3f}{sv:>10.3f}")
    return "\n".join(lines) + "\n"
