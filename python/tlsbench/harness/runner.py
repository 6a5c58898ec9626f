"""Orchestration: worker processes per repeat, bounded in time, always reaped.

For each repeat of a case over ``tcp``: start the server worker(s) (sharing one port
with SO_REUSEPORT when there are several), then ``concurrency`` client workers; each
client warms up and says ``ready``; the runner notes the servers' CPU time, tells every
client ``go``, collects their ``done`` reports, notes the servers' CPU and peak RSS
again and stops them. Over ``memory`` one worker runs both sides. Repeats are
interleaved across cases (repeat 1 of every case, then repeat 2, ...) so that drift of
the machine spreads over all implementations. A repeat's servers are told to stop
when it is measured and are waited for while the next repeat's servers start (a
stopping server only sleeps out its accept timeout), never later than the next
repeat's clients. Every process started is tracked and reaped on success, failure,
Ctrl-C and SIGTERM. In an A/B run (:func:`run_ab`) each repeat of a case runs on two
builds back to back, one build's workers started with its own interpreter.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, ClassVar

from .credentials import write_harness_credentials
from .impls import Unsupported, check_supported, openssl_conf
from .metrics import cpu_seconds, peak_rss_mb
from .params import Bounds, Case, Tls, WorkerSpec

START_TIMEOUT = 30.0
GRACE = 30.0


class RunError(Exception):
    """A repeat could not be measured (a peer failed, hung or could not start)."""


class Worker:
    """One worker process and the JSON lines it writes."""

    live: ClassVar[set[Worker]] = set()

    def __init__(self, spec: WorkerSpec, env: dict[str, str], python: str | None = None) -> None:
        self.spec = spec
        self.proc = subprocess.Popen(
            [python or sys.executable, "-m", "tlsbench.harness.worker", json.dumps(spec.to_json())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
            start_new_session=True,  # a terminal's Ctrl-C reaches the runner, which reaps
        )
        Worker.live.add(self)
        self.messages: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.stderr: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()

    @property
    def pid(self) -> int:
        """The process id."""
        return self.proc.pid

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                self.messages.put(json.loads(line))
            except json.JSONDecodeError:
                self.stderr.append(line)
        self.messages.put(None)

    def _read_err(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line)

    def expect(self, event: str, timeout: float) -> dict[str, Any]:
        """The next message, which must be ``event``; RunError or Unsupported otherwise."""
        try:
            message = self.messages.get(timeout=timeout)
        except queue.Empty:
            raise RunError(
                f"{self.spec.role} worker gave no '{event}' within {timeout:.0f} s"
            ) from None
        if message is None:
            tail = "".join(self.stderr[-3:]).strip().splitlines()
            why = tail[-1] if tail else f"exit code {self.proc.poll()}"
            raise RunError(f"{self.spec.role} worker ended early: {why}")
        if message["event"] == "unsupported":
            raise Unsupported(message["reason"])
        if message["event"] == "error":
            raise RunError(f"{self.spec.role} worker failed: {message['reason']}")
        if message["event"] != event:
            raise RunError(f"{self.spec.role} worker said {message['event']!r}, not {event!r}")
        return message

    def tell(self, line: str) -> None:
        """A line on its stdin."""
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(line + "\n")
            self.proc.stdin.flush()
        except (OSError, ValueError):
            pass

    def stop(self) -> None:
        """SIGTERM (a server reports and exits)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def reap(self, timeout: float = 3.0) -> None:
        """Terminate if still running, kill if it lingers, collect the exit status."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                if pipe is not None:
                    pipe.close()
            except OSError:
                pass
        Worker.live.discard(self)


def reap_all() -> None:
    """Reap every worker still alive (used on interruption)."""
    for worker in list(Worker.live):
        worker.reap(timeout=1.0)


@contextmanager
def reaping_on_signals() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt and reap every worker on the way out."""
    previous = signal.getsignal(signal.SIGTERM)

    def on_term(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    in_main = threading.current_thread() is threading.main_thread()
    if in_main:
        signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    finally:
        reap_all()
        if in_main:
            signal.signal(signal.SIGTERM, previous)


@dataclass
class Repeat:
    """What one repeat of a case measured, both sides."""

    rate: float
    ops: int
    errors: int
    timeouts: int
    server_errors: int
    bytes: int
    cpu_client: float
    cpu_server: float
    rss_client: float
    rss_server: float
    latency_ms: dict[str, list[float]]
    wall: float
    last_error: str = ""
    resumed: int = 0
    """Measured connections the clients saw resumed (resume workload)."""


@dataclass
class CaseRun:
    """A case and its repeats (or why it did not run)."""

    case: Case
    repeats: list[Repeat] = field(default_factory=list)
    unsupported: str = ""
    failed: str = ""


@dataclass
class Setup:
    """How to run: bounds, processes per side, where credentials live."""

    bounds: Bounds
    concurrency: int = 1
    server_workers: int = 1
    handshakes: int | None = None
    credentials: dict[str, Tls] = field(default_factory=dict)
    workdir: Path = field(default_factory=lambda: Path(tempfile.gettempdir()))
    python: str | None = None
    """The interpreter of another installed build whose workers to run (A/B); None: this one."""


def credentials_for(setup: Setup, cert: str) -> Tls:
    """CA, server and client leaf files of ``cert`` kind, made once per run."""
    if cert not in setup.credentials:
        files = write_harness_credentials(setup.workdir, cert)  # type: ignore[arg-type]
        setup.credentials[cert] = Tls(
            "", "", "", cert, str(files.ca_file), str(files.cert_file), str(files.key_file),
            str(files.client_cert_file), str(files.client_key_file),
        )  # fmt: skip
    base = setup.credentials[cert]
    return base


def _env(setup: Setup, tls: Tls) -> dict[str, str]:
    conf = setup.workdir / f"openssl-{tls.version}-{tls.suite}-{tls.group}.cnf"
    if not conf.exists():
        conf.write_text(openssl_conf(tls))
    env = dict(os.environ)
    env["OPENSSL_CONF"] = str(conf)
    if setup.python is None:  # another build must import its own tlsbench, not this tree's
        python_dir = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = python_dir + os.pathsep + env.get("PYTHONPATH", "")
    return env


def case_tls(setup: Setup, case: Case) -> Tls:
    """The case's protocol parameters with its credential files."""
    c = credentials_for(setup, case.cert)
    return Tls(
        case.tls, case.suite, case.group, case.cert, c.ca_file, c.cert_file, c.key_file,
        c.client_cert_file, c.client_key_file, case.resumption, case.client_auth,
    )  # fmt: skip


@dataclass
class Stopping:
    """The workers of a measured repeat, its servers told to stop but not yet waited for."""

    repeat: Repeat
    servers: list[Worker]
    workers: list[Worker]
    finished: bool = False

    def finish(self) -> None:
        """Add the servers' error counts to the repeat, then reap every worker (once)."""
        if self.finished:
            return
        self.finished = True
        try:
            for worker in self.servers:
                try:
                    self.repeat.server_errors += int(worker.expect("stopped", 5.0)["errors"])
                except RunError:
                    pass
        finally:
            for worker in self.workers:
                worker.reap()


def run_repeat(setup: Setup, case: Case, previous: Stopping | None = None) -> Stopping:
    """Measure one repeat of ``case`` in fresh processes.

    ``previous`` is finished once this repeat's servers are up (at the latest before
    any client starts); the returned repeat's own servers are left stopping.
    """
    started: list[Worker] = []
    try:
        return _run_repeat(setup, case, previous, started)
    except BaseException:
        for worker in started:
            worker.reap()
        raise
    finally:
        if previous is not None:
            previous.finish()


def _run_repeat(
    setup: Setup, case: Case, previous: Stopping | None, started: list[Worker]
) -> Stopping:
    tls = case_tls(setup, case)
    for impl in (case.client_impl, case.server_impl):
        check_supported(impl, tls, case.transport)
    if "tcp" in (case.client_impl, case.server_impl) and case.client_impl != case.server_impl:
        raise Unsupported("tcp is the plain-TCP reference: it pairs only with tcp")
    env = _env(setup, tls)
    b = setup.bounds
    deadline = b.warmup + b.budget + START_TIMEOUT + GRACE
    if case.transport == "memory":
        if previous is not None:
            previous.finish()
        spec = WorkerSpec("memory", case, tls, b, ops=setup.handshakes, deadline=deadline)
        worker = Worker(spec, env, setup.python)
        started.append(worker)
        worker.expect("ready", START_TIMEOUT + b.warmup)
        done = worker.expect("done", b.budget + GRACE)
        rss = [peak_rss_mb(worker.pid)]
        return Stopping(_repeat(case, [done], done["server_cpu"], rss, 0), [], started)
    servers: list[Worker] = []
    port = 0
    for _ in range(setup.server_workers):
        spec = WorkerSpec(
            "server",
            case,
            tls,
            b,
            port=port,
            reuse_port=setup.server_workers > 1,
            deadline=deadline,
        )
        worker = Worker(spec, env, setup.python)
        started.append(worker)
        servers.append(worker)
        port = int(worker.expect("ready", START_TIMEOUT)["port"])
    if previous is not None:
        previous.finish()
    clients = []
    for i in range(setup.concurrency):
        share = None
        if setup.handshakes is not None:
            share = setup.handshakes // setup.concurrency
            share += 1 if i < setup.handshakes % setup.concurrency else 0
            share = max(share, 1)
        spec = WorkerSpec("client", case, tls, b, port=port, ops=share, deadline=deadline)
        worker = Worker(spec, env, setup.python)
        started.append(worker)
        clients.append(worker)
    for worker in clients:
        ready = worker.expect("ready", START_TIMEOUT + b.warmup)
        if ready["warm_ops"] == 0:
            raise RunError(f"no connection succeeded: {ready['last_error']}")
    server_pids = [w.pid for w in servers]
    cpu0 = _server_cpu(servers)
    for worker in clients:
        worker.tell("go")
    reports = [w.expect("done", b.budget + GRACE) for w in clients]
    cpu1 = _server_cpu(servers)
    rss = [peak_rss_mb(pid) for pid in server_pids]
    for worker in servers:
        worker.stop()
    measured = _repeat(case, reports, cpu1 - cpu0, rss, 0)
    if case.workload == "resume" and measured.resumed < measured.ops:
        raise RunError(
            f"only {measured.resumed} of {measured.ops} connections resumed (a full "
            "handshake is not a resumed one)"
        )
    return Stopping(measured, servers, started)


def _server_cpu(servers: list[Worker]) -> float:
    """CPU seconds of the servers so far, as each measures itself (psutil's if it cannot)."""
    total = 0.0
    for worker in servers:
        worker.tell("mark")
    for worker in servers:
        try:
            total += float(worker.expect("mark", 5.0)["cpu"])
        except RunError:
            total += cpu_seconds([worker.pid])
    return total


def _repeat(
    case: Case,
    reports: list[dict[str, Any]],
    server_cpu: float,
    server_rss: list[float],
    server_errors: int,
) -> Repeat:
    ops = sum(int(r["ops"]) for r in reports)
    if case.workload == "bulk":
        rate = sum(r["bytes"] / r["transfer"] / 1e6 for r in reports if r["transfer"] > 0)
    else:
        rate = sum(r["ops"] / r["wall"] for r in reports if r["wall"] > 0)
    latency: dict[str, list[float]] = {"connect": [], "handshake": [], "ttfb": []}
    for r in reports:
        for key in latency:
            latency[key] += r["latency_ms"][key]
    errors = [r["last_error"] for r in reports if r["last_error"]]
    return Repeat(
        rate=rate,
        ops=ops,
        errors=sum(int(r["errors"]) for r in reports),
        timeouts=sum(int(r["timeouts"]) for r in reports),
        server_errors=server_errors,
        bytes=sum(int(r["bytes"]) for r in reports),
        cpu_client=sum(float(r["cpu"]) for r in reports),
        cpu_server=server_cpu,
        rss_client=max(float(r["peak_rss_mb"]) for r in reports),
        rss_server=max(server_rss) if server_rss else 0.0,
        latency_ms=latency,
        wall=max(float(r["wall"]) for r in reports),
        last_error=errors[-1] if errors else "",
        resumed=sum(int(r.get("resumed", 0)) for r in reports),
    )


Progress = Callable[[int, int, str], None]


def run_cases(
    setup: Setup, cases: list[Case], repeat: int, progress: Progress | None = None
) -> list[CaseRun]:
    """Every case ``repeat`` times, interleaved; failures are recorded, not raised."""
    runs = [CaseRun(case) for case in cases]
    total = len(cases) * repeat
    done = 0
    with reaping_on_signals():
        stopping: Stopping | None = None
        for _ in range(repeat):
            for run in runs:
                done += 1
                if run.unsupported or run.failed:
                    if progress:
                        progress(done, total, run.case.label)
                    continue
                previous, stopping = stopping, None
                try:
                    stopping = run_repeat(setup, run.case, previous)
                    run.repeats.append(stopping.repeat)
                except Unsupported as exc:
                    run.unsupported = str(exc)
                except RunError as exc:
                    run.failed = str(exc)
                if progress:
                    progress(done, total, run.case.label)
        if stopping is not None:
            stopping.finish()
    return runs


def run_ab(
    base: Setup, new: Setup, cases: list[Case], repeat: int, progress: Progress | None = None
) -> tuple[list[CaseRun], list[CaseRun]]:
    """Every case ``repeat`` times on two builds, paired: repeat i of a case runs on one
    build and right after on the other, the order alternating so neither always goes
    first. Both builds share one credential set; a pair with a failed side is dropped."""
    new.credentials = base.credentials
    runs = {"base": [CaseRun(c) for c in cases], "new": [CaseRun(c) for c in cases]}
    setups = {"base": base, "new": new}
    total, done = len(cases) * repeat, 0
    with reaping_on_signals():
        for i in range(repeat):
            for j in range(len(cases)):
                done += 1
                order = ("base", "new") if (i + j) % 2 == 0 else ("new", "base")
                pair = {side: runs[side][j] for side in order}
                measured: dict[str, Repeat] = {}
                for side in order:
                    run = pair[side]
                    if any(r.unsupported or r.failed for r in pair.values()):
                        break
                    try:
                        stopping = run_repeat(setups[side], run.case)
                        stopping.finish()
                        measured[side] = stopping.repeat
                    except Unsupported as exc:
                        run.unsupported = f"{side} build: {exc}"
                    except RunError as exc:
                        run.failed = f"{side} build: {exc}"
                if len(measured) == 2:
                    for side, rep in measured.items():
                        pair[side].repeats.append(rep)
                if progress:
                    progress(done, total, cases[j].label)
    return runs["base"], runs["new"]


def probe_build(python: str) -> tuple[str, str]:
    """(version, protocol) of the tlsbench that ``python`` imports: RunError if none.

    The protocol is the field names of the worker spec (what a worker parses); builds
    with different ones cannot run each other's cases.
    """
    code = (
        "import dataclasses as d, tlsbench, tlsbench.harness.worker\n"
        "from tlsbench.harness.params import Bounds, Case, Tls, WorkerSpec\n"
        "print(tlsbench.__version__)\n"
        "print(';'.join(','.join(f.name for f in d.fields(k)) "
        "for k in (WorkerSpec, Case, Tls, Bounds)))"
    )
    env = dict(os.environ)
    try:
        out = subprocess.run(
            [python, "-c", code], capture_output=True, text=True, timeout=60, env=env, check=False
        )
    except OSError as exc:
        raise RunError(f"cannot run {python}: {exc.strerror}") from None
    except subprocess.TimeoutExpired:
        raise RunError(f"{python} did not answer within 60 s") from None
    got = out.stdout.split("\n")
    if out.returncode != 0 or len(got) < 2:
        tail = (out.stderr.strip().splitlines() or ["no output"])[-1]
        raise RunError(f"{python} has no installed tlsbench with a harness worker ({tail})")
    return got[0].strip(), got[1].strip()


def protocol() -> str:
    """This build's worker protocol, as :func:`probe_build` reports it."""
    import dataclasses

    from .params import Bounds, Case, Tls, WorkerSpec

    kinds = (WorkerSpec, Case, Tls, Bounds)
    return ";".join(",".join(f.name for f in dataclasses.fields(k)) for k in kinds)
