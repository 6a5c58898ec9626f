"""``tlsbench load``: many fresh handshakes at high concurrency, a share of them hostile.

The parent (:func:`run_load`) optionally spawns ``tlsbench serve``, starts client
processes (``python -m tlsbench.harness.load SPEC_JSON``), samples the server's RSS
while they run, and merges their JSON-line reports. Each client process runs threads
over blocking sockets; connection *i* behaves well or, with probability ``misbehave``,
as one of :data:`MISBEHAVIOURS` (chosen from a seeded generator, so runs repeat):

- ``garbage``: random bytes, then half-close and read until the server closes;
- ``truncated``: part of a real ClientHello record, then half-close;
- ``stall``: part of a ClientHello, then silence until the server closes (or ``stall`` s);
- ``rst``: a whole ClientHello, the first server bytes, then an abrupt TCP reset (SO_LINGER 0).

A good client handshakes with our engine (``rust`` provider by default), echoes 4 bytes
and closes with close_notify; anything else is a failure, counted by reason.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

MISBEHAVIOURS = ("garbage", "truncated", "stall", "rst")
PROGRESS_EVERY = 0.5


@dataclass(frozen=True)
class LoadSpec:
    """What one client process does."""

    host: str
    port: int
    handshakes: int
    threads: int
    misbehave: float
    seed: int
    deadline: float
    """Seconds from start after which no new connection is begun."""
    provider: str = "rust"
    tls: str = "1.3"
    ca_file: str | None = None
    stall: float = 2.0
    timeout: float = 10.0


# -- the client process ------------------------------------------------------------------


def _say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def _reason(exc: BaseException) -> str:
    """A short counting key for a failed good handshake."""
    from tlsbench.tls.alerts import describe
    from tlsbench.tls.driver import TlsConnectionError

    if isinstance(exc, TlsConnectionError):
        if exc.alert is None:
            return "eof" if "end of stream" in str(exc) else str(exc)
        return f"{'received' if exc.by_peer else 'sent'} {describe(int(exc.alert))}"
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, ConnectionResetError):
        return "reset"
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(exc, EOFError):
        return "eof"
    return type(exc).__name__


def _drain(sock: socket.socket, limit: float) -> str:
    """Read until the server closes; what it did: ``alert <n>``, ``eof``, ``reset``, ``timeout``."""
    sock.settimeout(limit)
    seen = bytearray()
    try:
        while True:
            data = sock.recv(1 << 16)
            if not data:
                break
            seen += data[: max(0, 64 - len(seen))]
    except TimeoutError:
        return "timeout"
    except ConnectionResetError:
        return "reset"
    # A plaintext alert record (type 21, two-byte body) is what a hostile peer should get.
    if len(seen) >= 7 and seen[0] == 21:
        return f"alert {seen[6]}"
    return "eof" if not seen else "data then eof"


class _Client:
    """One client process: threads taking connection numbers from a shared counter."""

    def __init__(self, spec: LoadSpec) -> None:
        from tlsbench.harness.impls import our_client_config
        from tlsbench.harness.params import Tls, default_suite
        from tlsbench.tls import ClientConnection

        self.spec = spec
        tls = Tls(
            spec.tls,
            default_suite(spec.tls, "ecdsa-p256"),
            "x25519",
            "ecdsa-p256",
            spec.ca_file or "",
            "",
            "",
        )
        config = our_client_config(tls, spec.provider)
        if spec.ca_file is None:
            import dataclasses

            config = dataclasses.replace(config, verify=False)
        self.config = config
        self.hello = ClientConnection(config).data_to_send()
        """A real ClientHello record, reused by the misbehaving clients."""
        self.lock = threading.Lock()
        self.next = 0
        self.good = 0
        self.failures: Counter[str] = Counter()
        self.misbehaved: dict[str, Counter[str]] = {k: Counter() for k in MISBEHAVIOURS}
        self.latencies: list[float] = []
        self.start = time.monotonic()

    def _take(self) -> int | None:
        with self.lock:
            if self.next >= self.spec.handshakes:
                return None
            if time.monotonic() - self.start > self.spec.deadline:
                return None
            self.next += 1
            return self.next - 1

    def run(self) -> None:
        threads = [threading.Thread(target=self._thread) for _ in range(self.spec.threads)]
        for t in threads:
            t.start()
        done = False
        while not done:
            for t in threads:
                t.join(PROGRESS_EVERY / len(threads))
            done = not any(t.is_alive() for t in threads)
            with self.lock:
                _say({"event": "progress", "good": self.good, "started": self.next})
        _say(
            {
                "event": "result",
                "started": self.next,
                "good": self.good,
                "failures": dict(self.failures),
                "misbehaved": {k: dict(v) for k, v in self.misbehaved.items()},
                "latencies_ms": self.latencies,
            }
        )

    def _thread(self) -> None:
        while (index := self._take()) is not None:
            rng = random.Random(self.spec.seed * 1_000_003 + index)
            if rng.random() < self.spec.misbehave:
                kind = MISBEHAVIOURS[index % len(MISBEHAVIOURS)]
                try:
                    outcome = self._misbehave(kind, rng)
                except OSError as exc:
                    outcome = _reason(exc)
                with self.lock:
                    self.misbehaved[kind][outcome] += 1
                continue
            try:
                took = self._good()
            except Exception as exc:
                with self.lock:
                    self.failures[_reason(exc)] += 1
            else:
                with self.lock:
                    self.good += 1
                    self.latencies.append(took)

    def _good(self) -> float:
        """One good connection: handshake, 4-byte echo, close_notify; handshake ms."""
        from tlsbench.tls import ClientConnection
        from tlsbench.tls.driver import TlsStream

        start = time.perf_counter()
        sock = socket.create_connection((self.spec.host, self.spec.port), self.spec.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        stream = TlsStream(sock, ClientConnection(self.config))
        try:
            stream.do_handshake()
            took = (time.perf_counter() - start) * 1e3
            stream.send(b"ping")
            if stream.recv_exactly(4) != b"ping":
                raise EOFError("echo differs")
        finally:
            stream.close()
        return took

    def _misbehave(self, kind: str, rng: random.Random) -> str:
        sock = socket.create_connection((self.spec.host, self.spec.port), self.spec.timeout)
        try:
            if kind == "garbage":
                sock.sendall(rng.randbytes(rng.randrange(1, 512)))
                sock.shutdown(socket.SHUT_WR)
                return _drain(sock, self.spec.timeout)
            cut = rng.randrange(1, len(self.hello))
            if kind == "truncated":
                sock.sendall(self.hello[:cut])
                sock.shutdown(socket.SHUT_WR)
                return _drain(sock, self.spec.timeout)
            if kind == "stall":
                sock.sendall(self.hello[:cut])
                outcome = _drain(sock, self.spec.stall)
                return "gave up" if outcome == "timeout" else f"server closed: {outcome}"
            sock.sendall(self.hello)
            sock.settimeout(self.spec.timeout)
            sock.recv(rng.randrange(1, 200))
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return "reset sent"
        finally:
            sock.close()


# -- the parent ----------------------------------------------------------------------------


def _tree_rss(pid: int) -> float:
    """RSS in MB of a process and its children (``--workers``)."""
    import psutil  # type: ignore[import-untyped]

    proc = psutil.Process(pid)
    total = int(proc.memory_info().rss)
    for child in proc.children(recursive=True):
        try:
            total += int(child.memory_info().rss)
        except psutil.Error:
            pass
    return total / 1e6


def _percentiles(values: list[float]) -> dict[str, float]:
    from .metrics import latency_summary

    return latency_summary(values) if values else {}


def spawn_server(
    cert_dir: Path, handshake_timeout: float, extra: tuple[str, ...] = ()
) -> tuple[subprocess.Popen[str], int]:
    """``tlsbench serve`` (rust provider, quiet) on a free port; the process and its port."""
    stats = cert_dir / "server-stats.json"
    log_path = cert_dir / "server.log"
    log = log_path.open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tlsbench",
            "serve",
            "--port",
            "0",
            "--quiet",
            "--provider",
            "rust",
            "--cert-dir",
            str(cert_dir),
            "--handshake-timeout",
            str(handshake_timeout),
            "--stats-json",
            str(stats),
            *extra,
        ],
        stdout=log,  # a file: the server never waits for us to read its log
        text=True,
    )
    log.close()
    end = time.monotonic() + 30
    while time.monotonic() < end and proc.poll() is None:
        line = log_path.read_text().partition("\n")[0]
        if "listening on" in line:
            return proc, int(line.split()[2].rpartition(":")[2])
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    raise RuntimeError(f"tlsbench serve did not start: {log_path.read_text()[:500]!r}")


def run_load(
    host: str,
    port: int,
    *,
    handshakes: int,
    concurrency: int,
    processes: int,
    misbehave: float,
    duration_limit: float,
    server_pid: int | None,
    provider: str = "rust",
    tls: str = "1.3",
    ca_file: str | None = None,
    stall: float = 2.0,
    seed: int = 1,
    warmup: float = 0.1,
    sample_every: float = 0.5,
) -> dict[str, Any]:
    """Run the clients, sample the server's RSS, and return the merged report."""
    processes = max(1, min(processes, concurrency))
    procs: list[subprocess.Popen[str]] = []
    progress = [0] * processes
    results: list[dict[str, Any] | None] = [None] * processes
    for i in range(processes):
        share = handshakes // processes + (1 if i < handshakes % processes else 0)
        threads = concurrency // processes + (1 if i < concurrency % processes else 0)
        spec = LoadSpec(
            host,
            port,
            share,
            threads,
            misbehave,
            seed * 1000 + i,
            duration_limit,
            provider,
            tls,
            ca_file,
            stall,
        )
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "tlsbench.harness.load", json.dumps(asdict(spec))],
                stdout=subprocess.PIPE,
                text=True,
            )
        )

    def reader(i: int, stream: IO[str]) -> None:
        for line in stream:
            message = json.loads(line)
            if message["event"] == "progress":
                progress[i] = message["started"]
            elif message["event"] == "result":
                results[i] = message
                progress[i] = message["started"]

    readers = []
    for i, proc in enumerate(procs):
        assert proc.stdout is not None
        t = threading.Thread(target=reader, args=(i, proc.stdout), daemon=True)
        t.start()
        readers.append(t)
    start = time.monotonic()
    samples: list[dict[str, float]] = []
    try:
        while any(t.is_alive() for t in readers):
            if server_pid is not None:
                try:
                    rss = _tree_rss(server_pid)
                except Exception:
                    rss = float("nan")
                samples.append(
                    {
                        "t": round(time.monotonic() - start, 2),
                        "rss_mb": round(rss, 2),
                        "connections": sum(progress),
                    }
                )
            if time.monotonic() - start > duration_limit + 60:
                break
            for t in readers:
                t.join(sample_every / len(readers))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
    elapsed = time.monotonic() - start
    return _merge(
        results,
        samples,
        elapsed,
        handshakes,
        warmup,
        locals_config={
            "host": host,
            "port": port,
            "handshakes": handshakes,
            "concurrency": concurrency,
            "processes": processes,
            "misbehave": misbehave,
            "duration_limit": duration_limit,
            "provider": provider,
            "tls": tls,
            "verify": ca_file is not None,
            "stall": stall,
            "seed": seed,
            "warmup": warmup,
        },
        server_pid=server_pid,
    )


def _merge(
    results: list[dict[str, Any] | None],
    samples: list[dict[str, float]],
    elapsed: float,
    handshakes: int,
    warmup: float,
    locals_config: dict[str, Any],
    server_pid: int | None,
) -> dict[str, Any]:
    failures: Counter[str] = Counter()
    misbehaved: dict[str, Counter[str]] = {k: Counter() for k in MISBEHAVIOURS}
    latencies: list[float] = []
    good = started = 0
    for i, result in enumerate(results):
        if result is None:
            failures[f"client process {i} died"] += 1
            continue
        good += result["good"]
        started += result["started"]
        failures.update(result["failures"])
        for kind, outcomes in result["misbehaved"].items():
            misbehaved[kind].update(outcomes)
        latencies += result["latencies_ms"]
    bad = sum(sum(c.values()) for c in misbehaved.values())
    report: dict[str, Any] = {
        "schema": 1,
        "kind": "load",
        "config": locals_config,
        "elapsed_s": round(elapsed, 3),
        "connections": started,
        "good": {
            "attempted": good + sum(failures.values()),
            "handshakes": good,
            "failed": sum(failures.values()),
            "failures": dict(failures),
            "rate_per_s": round(good / elapsed, 1) if elapsed else 0.0,
            "latency_ms": {k: round(v, 3) for k, v in _percentiles(latencies).items()},
        },
        "misbehaving": {
            "connections": bad,
            "outcomes": {k: dict(v) for k, v in misbehaved.items() if v},
        },
    }
    if server_pid is not None:
        report["server"] = {"pid": server_pid, **rss_summary(samples, handshakes, warmup)}
    return report


def rss_summary(samples: list[dict[str, float]], handshakes: int, warmup: float) -> dict[str, Any]:
    """RSS after warm-up (first sample past ``warmup`` of the connections), at the end, growth."""
    valid = [s for s in samples if s["rss_mb"] == s["rss_mb"]]
    out: dict[str, Any] = {"rss_samples": valid}
    if not valid:
        return out
    after = next((s for s in valid if s["connections"] >= warmup * handshakes), valid[-1])
    end = valid[-1]
    out["rss_after_warmup_mb"] = after["rss_mb"]
    out["rss_end_mb"] = end["rss_mb"]
    out["rss_max_mb"] = max(s["rss_mb"] for s in valid)
    out["rss_growth_pct"] = round((end["rss_mb"] - after["rss_mb"]) / after["rss_mb"] * 100, 2)
    return out


def stop_server(proc: subprocess.Popen[str], stats_file: Path) -> dict[str, Any]:
    """SIGTERM a spawned server; its stats (``--stats-json``) and summary line."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    out = (stats_file.parent / "server.log").read_text()
    summary = [line for line in out.splitlines() if line.startswith("summary:")]
    stats: dict[str, Any] = {}
    if stats_file.exists():
        stats = json.loads(stats_file.read_text())
    stats["summary"] = summary[-1] if summary else ""
    stats["log"] = str(stats_file.parent / "server.log")
    stats["exit_code"] = proc.returncode
    return stats


def main() -> None:
    """Entry of a client process."""
    from tlsbench.heap import steady_heap

    steady_heap()
    spec = LoadSpec(**json.loads(sys.argv[1]))
    _Client(spec).run()
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
