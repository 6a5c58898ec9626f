"""The in-memory transport: client and server engines back to back in one thread.

No sockets and no kernel: the bytes one side queues are handed to the other, as
rustls's own benchmark does, so the figures are protocol and crypto alone. Each side's
share of the CPU is the time spent inside its own calls, scaled per connection to the
thread's CPU time (:class:`SideClock`).
"""

from __future__ import annotations

import contextlib
import time
import zlib
from collections.abc import Callable, Iterator
from typing import TypeVar

from .handicap import handicap, iterations
from .impls import Endpoint
from .params import Case
from .workloads import OpTimes

T = TypeVar("T")
MAX_ROUNDS = 64


class SideClock:
    """Thread CPU seconds spent in each side's calls.

    A call is timed with the monotonic clock (a vDSO read, ~0.07 µs); each operation's
    spans are then scaled by that operation's thread CPU time over its wall time, so a
    moment the thread was not running counts for neither side. The thread CPU clock is
    a system call (~1.1 µs here), read twice an operation: reading it around each of a
    handshake's ~36 calls cost ~80 µs a handshake, charged to both sides alike.
    """

    def __init__(self) -> None:
        self.client = 0.0
        self.server = 0.0
        self._client_span = 0.0
        self._server_span = 0.0

    @contextlib.contextmanager
    def operation(self) -> Iterator[None]:
        """One operation: when it ends, its calls' spans are booked, scaled by its thread
        CPU / wall ratio (at most 1)."""
        self._client_span = self._server_span = 0.0
        cpu, wall = time.thread_time(), time.perf_counter()
        try:
            yield
        finally:
            cpu = time.thread_time() - cpu
            wall = time.perf_counter() - wall
            scale = min(1.0, cpu / wall) if wall > 0 else 1.0
            self.client += self._client_span * scale
            self.server += self._server_span * scale

    def client_call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the client's account."""
        start = time.perf_counter()
        try:
            return fn()
        finally:
            self._client_span += time.perf_counter() - start

    def server_call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the server's account."""
        start = time.perf_counter()
        try:
            return fn()
        finally:
            self._server_span += time.perf_counter() - start


def pump(client: Endpoint, server: Endpoint, clock: SideClock) -> None:
    """Move bytes both ways until neither side has anything to send."""
    for _ in range(MAX_ROUNDS):
        to_server = clock.client_call(client.take)
        if to_server:
            clock.server_call(lambda: server.feed(to_server))  # noqa: B023
        to_client = clock.server_call(server.take)
        if to_client:
            clock.client_call(lambda: client.feed(to_client))  # noqa: B023
        if not to_server and not to_client:
            return
    raise RuntimeError("the two sides kept talking for too long")


def memory_op(
    new_client: Callable[[], Endpoint],
    new_server: Callable[[], Endpoint],
    case: Case,
    block: bytes,
    digest: bytes,
    clock: SideClock,
) -> OpTimes:
    """One connection of ``case.workload`` with both sides in this thread."""
    with clock.operation():
        start = time.perf_counter()
        client = clock.client_call(new_client)
        server = clock.server_call(new_server)
        pump(client, server, clock)
        if not (client.handshake_done and server.handshake_done):
            raise ConnectionError("the handshake did not complete")
        if iterations():
            clock.client_call(handicap)
        shaken = time.perf_counter()
        times = OpTimes(0.0, shaken - start, 0.0)
        if case.workload == "handshake":
            clock.client_call(lambda: client.write(b"x"))
            pump(client, server, clock)
            data = clock.server_call(server.read)
            clock.server_call(lambda: server.write(data))
            pump(client, server, clock)
            if clock.client_call(client.read) != b"x":
                raise ValueError("echo mismatch")
            times.ttfb = time.perf_counter() - start
        else:
            crc, left = 0, case.bulk_bytes
            while left > 0:
                chunk = block if left >= len(block) else block[:left]
                clock.client_call(lambda: client.write(chunk))  # noqa: B023
                wire = clock.client_call(client.take)
                clock.server_call(lambda: server.feed(wire))  # noqa: B023
                crc = clock.server_call(lambda: zlib.crc32(server.read(), crc))  # noqa: B023
                left -= len(chunk)
            clock.server_call(lambda: server.write(crc.to_bytes(4, "big")))
            pump(client, server, clock)
            if clock.client_call(client.read) != digest:
                raise ValueError("digest mismatch")
            end = time.perf_counter()
            times.ttfb = end - start
            times.transfer = end - shaken
            times.bytes = case.bulk_bytes
        clock.client_call(client.close)
        pump(client, server, clock)
        clock.server_call(server.close)
        pump(client, server, clock)
        return times
