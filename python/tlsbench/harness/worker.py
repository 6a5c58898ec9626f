"""A measuring process: ``python -m tlsbench.harness.worker SPEC_JSON``.

Roles: ``server`` (accepts and serves until SIGTERM), ``client`` (warms up, says
``ready``, waits for ``go`` on stdin, measures, says ``done``) and ``memory`` (both
sides in one thread, no sockets). Messages are JSON lines on stdout. A worker dies
with its parent (PR_SET_PDEATHSIG) and exits by itself at its deadline, so no run
can leave one behind.
"""

from __future__ import annotations

import ctypes
import json
import os
import select
import signal
import socket
import sys
import threading
import time
from typing import Any

from tlsbench.heap import steady_heap

from .impls import (
    Unsupported,
    check_supported,
    client_factory,
    memory_endpoint_factory,
    server_factory,
)
from .memory import SideClock, memory_op
from .metrics import peak_rss_mb
from .params import WorkerSpec
from .workloads import OpTimes, client_op, expected_digest, obtain_session, payload, server_op


def say(**message: Any) -> None:
    """One JSON line to the runner."""
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def _die_with_parent(deadline: float) -> None:
    """SIGKILL when the parent dies; and a watchdog for the deadline."""
    parent = os.getppid()
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        os._exit(3)

    def watchdog() -> None:
        time.sleep(deadline)
        os._exit(4)

    threading.Thread(target=watchdog, daemon=True).start()


def _cpu() -> float:
    """User + system CPU seconds of this process, at nanosecond resolution.

    psutil's ``cpu_times`` counts 10 ms clock ticks, too coarse for short repeats;
    CLOCK_PROCESS_CPUTIME_ID is the same kernel accounting, exact.
    """
    return time.process_time()


def run_server(spec: WorkerSpec) -> None:
    """Serve connections one at a time until SIGTERM, then report errors."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    factory = server_factory(spec.case.server_impl, spec.tls)
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if spec.reuse_port:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    listener.bind(("127.0.0.1", spec.port))
    listener.listen(1024)
    listener.settimeout(0.1)
    say(event="ready", port=listener.getsockname()[1], pid=os.getpid())
    threading.Thread(target=_answer_marks, daemon=True).start()
    served = errors = 0
    last_error = ""
    while not stop.is_set():
        try:
            sock, _ = listener.accept()
        except TimeoutError:
            continue
        except InterruptedError:
            continue
        sock.settimeout(spec.bounds.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            server_op(factory(sock), spec.case)
            served += 1
        except Exception as exc:
            errors += 1
            last_error = f"{type(exc).__name__}: {exc}"
        finally:
            sock.close()
    listener.close()
    say(event="stopped", served=served, errors=errors, last_error=last_error)


def _answer_marks() -> None:
    """Each ``mark`` line on stdin is answered with this process's CPU seconds so far."""
    for line in sys.stdin:
        if line.strip() == "mark":
            say(event="mark", cpu=_cpu())


def _wait_go(deadline: float) -> bool:
    ready, _, _ = select.select([sys.stdin], [], [], deadline)
    return bool(ready) and sys.stdin.readline().strip() == "go"


class Tally:
    """Counts and latencies of the measured operations."""

    def __init__(self) -> None:
        self.ops = self.errors = self.timeouts = self.bytes = self.resumed = 0
        self.transfer = 0.0
        self.lat: dict[str, list[float]] = {"connect": [], "handshake": [], "ttfb": []}
        self.last_error = ""

    def add(self, t: OpTimes) -> None:
        """One successful operation."""
        self.ops += 1
        self.resumed += t.resumed
        self.bytes += t.bytes
        self.transfer += t.transfer
        self.lat["connect"].append(t.connect * 1e3)
        self.lat["handshake"].append(t.handshake * 1e3)
        self.lat["ttfb"].append(t.ttfb * 1e3)

    def fail(self, exc: BaseException) -> None:
        """One failed or timed-out operation."""
        if isinstance(exc, TimeoutError):
            self.timeouts += 1
        else:
            self.errors += 1
        self.last_error = f"{type(exc).__name__}: {exc}"


def _measure(spec: WorkerSpec, op: Any, warm: bool) -> tuple[Tally, float]:
    """Run ``op`` for the warm-up or the measured share; the tally and the wall seconds.

    At least one operation; then the warm-up stops after ``warmup`` seconds, the
    measurement after ``ops`` operations or ``duration`` seconds, never after ``budget``.
    """
    b = spec.bounds
    tally = Tally()
    start = time.perf_counter()
    tried = 0
    while True:
        if tried:
            elapsed = time.perf_counter() - start
            if warm:
                if elapsed >= b.warmup:
                    break
            elif elapsed >= b.budget:
                break
            elif spec.ops is not None:
                if tried >= spec.ops:
                    break
            elif elapsed >= b.duration:
                break
            if tally.ops == 0 and tried >= 3:
                break  # the peer is not working: stop early, report the errors
        tried += 1
        try:
            tally.add(op())
        except Exception as exc:
            tally.fail(exc)
    return tally, time.perf_counter() - start


def _report(tally: Tally, wall: float, cpu: float, **extra: Any) -> None:
    say(
        event="done",
        ops=tally.ops,
        errors=tally.errors,
        timeouts=tally.timeouts,
        bytes=tally.bytes,
        transfer=tally.transfer,
        wall=wall,
        cpu=cpu,
        latency_ms=tally.lat,
        last_error=tally.last_error,
        peak_rss_mb=peak_rss_mb(os.getpid()),
        resumed=tally.resumed,
        **extra,
    )


def run_client(spec: WorkerSpec) -> None:
    """Warm up, wait for ``go``, measure, report."""
    case = spec.case
    offered: list[Any] = [None]
    factory = client_factory(case.client_impl, spec.tls, lambda: offered[0])
    if case.workload == "resume":  # one full handshake, then every connection resumes it
        offered[0] = obtain_session(factory, spec.port, spec.bounds.timeout)
    block = payload(case) if case.workload == "bulk" else b""
    digest = expected_digest(case, block) if case.workload == "bulk" else b""

    def op() -> OpTimes:
        return client_op(factory, spec.port, case, spec.bounds.timeout, block, digest)

    warm, _ = _measure(spec, op, warm=True)
    say(
        event="ready",
        warm_ops=warm.ops,
        warm_errors=warm.errors + warm.timeouts,
        last_error=warm.last_error,
    )
    if warm.ops == 0 or not _wait_go(spec.deadline):
        return
    cpu0 = _cpu()
    tally, wall = _measure(spec, op, warm=False)
    _report(tally, wall, _cpu() - cpu0)


def run_memory(spec: WorkerSpec) -> None:
    """Both sides in this thread: warm up, measure, report with each side's CPU."""
    case = spec.case
    new_client = memory_endpoint_factory(case.client_impl, spec.tls, server=False)
    new_server = memory_endpoint_factory(case.server_impl, spec.tls, server=True)
    block = payload(case) if case.workload == "bulk" else b""
    digest = expected_digest(case, block) if case.workload == "bulk" else b""
    clock = SideClock()

    def op() -> OpTimes:
        return memory_op(new_client, new_server, case, block, digest, clock)

    warm, _ = _measure(spec, op, warm=True)
    say(
        event="ready",
        warm_ops=warm.ops,
        warm_errors=warm.errors + warm.timeouts,
        last_error=warm.last_error,
    )
    if warm.ops == 0:
        return
    clock.client = clock.server = 0.0
    tally, wall = _measure(spec, op, warm=False)
    _report(tally, wall, clock.client, server_cpu=clock.server)


def main() -> None:
    """Entry point: the spec is the JSON first argument."""
    spec = WorkerSpec.from_json(json.loads(sys.argv[1]))
    _die_with_parent(spec.deadline)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the runner decides; it reaps us
    steady_heap()
    try:
        for impl in {spec.case.client_impl, spec.case.server_impl}:
            check_supported(impl, spec.tls, spec.case.transport)
        if spec.role == "server":
            run_server(spec)
        elif spec.role == "client":
            run_client(spec)
        else:
            run_memory(spec)
    except Unsupported as exc:
        say(event="unsupported", reason=str(exc))
    except Exception as exc:
        say(event="error", reason=f"{type(exc).__name__}: {exc}")
        sys.exit(1)


if __name__ == "__main__":
    main()
