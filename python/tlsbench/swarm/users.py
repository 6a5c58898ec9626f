"""Locust users that load a TLS server with tlsbench's clients.

Each connection reports its phases to Locust as separate request types: ``tcp connect``,
``tls handshake``, ``first byte`` (a request sent, the first reply bytes read) and, for
bulk, ``transfer``. The request name is the user's kind (``full``, ``bulk``); a failed
phase is named, and its error is, the alert or socket error (``handshake_failure``,
``timeout``, ``connection reset``), so failures never mix into the good rows' percentiles.

Locust monkey-patches sockets for gevent before this module is imported; our engine is
sans-I/O, so it runs over those sockets unchanged (its crypto holds the loop while it runs).
"""

from __future__ import annotations

import csv
import logging
import os
import random
import socket
import sys
import time
from collections import Counter
from typing import Any

import click
from locust import User, constant, events, task
from locust.exception import StopUser
from locust.runners import MasterRunner, WorkerRunner
from locust.stats import PERCENTILES_TO_REPORT, StatsCSV

from tlsbench.harness.clients import Client, open_client
from tlsbench.harness.load import MISBEHAVIOURS, LoadSpec, _Client
from tlsbench.harness.params import OUR_IMPLS

from .settings import BULK_CHUNK, Plan, add_options, failure_name, plan_from, ssl_conf_problem

logger = logging.getLogger("tlsbench")


def _add_options(parser: Any, **_: Any) -> None:
    add_options(parser, web_ui=True)


events.init_command_line_parser.add_listener(_add_options)  # type: ignore[no-untyped-call]


_plans: dict[tuple[Any, ...], Plan] = {}


def current_plan(environment: Any) -> Plan:
    """The plan of the run's options (the master's, on a worker); click.UsageError if none."""
    options = environment.parsed_options
    key = tuple(
        getattr(options, name, None)
        for name in (
            "target",
            "impl",
            "tls",
            "suite",
            "group",
            "alpn",
            "ca_file",
            "insecure",
            "server_name",
            "bulk_bytes",
            "tls_timeout",
        )
    )
    plan = _plans.get(key)
    if plan is None:
        plan = _plans[key] = plan_from(options)
        if plan.setup.impl == "ssl":
            problem = ssl_conf_problem(plan.setup.profile)
            if problem:
                raise click.UsageError(problem)
    return plan


class TlsUser(User):
    """What every tlsbench user shares: the plan, and reporting a phase to Locust."""

    abstract = True
    wait_time = constant(0)
    kind = ""

    def on_start(self) -> None:
        """Take the run's plan; a bad one is one failure naming the problem, then stop."""
        try:
            self.plan = current_plan(self.environment)
        except click.UsageError as exc:
            self._report("setup", exc.format_message(), time.perf_counter(), 0, exc.message)
            raise StopUser() from None

    def _report(
        self, request_type: str, name: str, start: float, length: int, error: str | None
    ) -> None:
        self.environment.events.request.fire(
            request_type=request_type,
            name=name,
            response_time=(time.perf_counter() - start) * 1e3,
            response_length=length,
            exception=error,
            context={},
        )

    def _ok(self, request_type: str, start: float, length: int = 0) -> None:
        self._report(request_type, self.kind, start, length, None)

    def _fail(self, request_type: str, start: float, exc: BaseException) -> None:
        name = failure_name(exc)
        self._report(request_type, name, start, 0, name)

    def _open(self) -> Client | None:
        """TCP connect and TLS handshake, each reported; the client, or None after a failure."""
        plan = self.plan
        start = time.perf_counter()
        try:
            sock = socket.create_connection((plan.host, plan.port), timeout=plan.setup.timeout)
        except OSError as exc:
            self._fail("tcp connect", start, exc)
            return None
        self._ok("tcp connect", start)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        start = time.perf_counter()
        client: Client | None = None
        try:
            client = open_client(plan.setup, sock)
            client.handshake()
        except Exception as exc:
            self._fail("tls handshake", start, exc)
            if client is not None:
                client.abort()
            sock.close()
            return None
        self._ok("tls handshake", start)
        return client

    @staticmethod
    def _close(client: Client) -> None:
        try:
            client.close()
        except (OSError, EOFError, ConnectionError):
            client.abort()


class Handshake(TlsUser):
    """A full handshake per connection, one request, the first reply bytes, close_notify."""

    kind = "full"

    @task
    def handshake(self) -> None:
        """One connection."""
        client = self._open()
        if client is None:
            return
        start = time.perf_counter()
        try:
            client.send(self.plan.request)
            first = client.recv(1 << 16)
            if not first:
                raise EOFError("closed before replying")
        except Exception as exc:
            self._fail("first byte", start, exc)
            client.abort()
            return
        self._ok("first byte", start, len(first))
        self._close(client)


class Bulk(TlsUser):
    """A handshake, then --bytes sent and read back from an echo server, in 64 KiB round trips."""

    kind = "bulk"

    @task
    def bulk(self) -> None:
        """One connection."""
        client = self._open()
        if client is None:
            return
        total = self.plan.bulk_bytes
        chunk = bytes(BULK_CHUNK)
        start = time.perf_counter()
        try:
            left = total
            while left:
                size = min(left, BULK_CHUNK)
                client.send(chunk[:size])
                got = 0
                while got < size:
                    data = client.recv(size - got)
                    if not data:
                        raise EOFError("closed during the transfer")
                    got += len(data)
                left -= size
        except Exception as exc:
            self._fail("transfer", start, exc)
            client.abort()
            return
        self._ok("transfer", start, total)
        self._close(client)


class _Hostile(TlsUser):
    """A misbehaving client of ``tlsbench load``; its request is named after what the server
    did (``garbage: alert decode_error``). A server that never closes on garbage or a cut
    ClientHello (``timeout``) is a failure."""

    abstract = True

    def on_start(self) -> None:
        """The plan, and load's client (its ClientHello) for the plan's first version."""
        super().on_start()
        setup = self.plan.setup
        provider = setup.impl if setup.impl in OUR_IMPLS else "rust"
        spec = LoadSpec(
            self.plan.host,
            self.plan.port,
            handshakes=0,
            threads=0,
            misbehave=1.0,
            seed=0,
            deadline=0.0,
            provider=provider,
            tls=setup.profile.versions[0],
            timeout=setup.timeout,
        )
        self.load_client = _Client(spec)
        self.rng = random.Random()

    @task
    def misbehave(self) -> None:
        """One hostile connection."""
        from tlsbench.tls.alerts import describe

        start = time.perf_counter()
        try:
            outcome = self.load_client._misbehave(self.kind, self.rng)
        except OSError as exc:
            outcome = failure_name(exc)
        if outcome.startswith("alert "):
            outcome = f"alert {describe(int(outcome.split()[1]))}"
        name = f"{self.kind}: {outcome}"
        if outcome == "timeout":
            self._report("hostile", name, start, 0, "server kept the connection open")
        else:
            self._report("hostile", name, start, 0, None)


class Garbage(_Hostile):
    """Random bytes, half-close, read until the server closes."""

    kind = "garbage"


class Truncated(_Hostile):
    """Part of a ClientHello, half-close."""

    kind = "truncated"


class Stall(_Hostile):
    """Part of a ClientHello, then silence (gives up after 2 s)."""

    kind = "stall"


class Reset(_Hostile):
    """A ClientHello, the first server bytes, then a TCP reset."""

    kind = "rst"


assert {Garbage.kind, Truncated.kind, Stall.kind, Reset.kind} == set(MISBEHAVIOURS)

USERS = (Handshake, Bulk, Garbage, Truncated, Stall, Reset)
DEFAULT_USERS = ("Handshake",)


# -- the master: what each worker reported, and the final CSV -------------------------------

_by_worker: dict[str, Counter[str]] = {}
_environment: list[Any] = []


def _on_init(environment: Any, **_: Any) -> None:
    """Keep the environment; a headless master or lone process with options that make no
    plan (from any of Locust's sources) stops here: one line, exit 2."""
    _environment.append(environment)
    options = environment.parsed_options
    if options is None or isinstance(environment.runner, WorkerRunner) or not options.headless:
        return  # a worker takes the master's options; the web UI can still fill them in
    try:
        current_plan(environment)
    except click.UsageError as exc:
        sys.stderr.write(f"tlsbench: error: {exc.format_message()}\n")
        sys.stderr.flush()
        os._exit(2)


def _on_worker_report(client_id: str, data: dict[str, Any], **_: Any) -> None:
    counts = _by_worker.setdefault(client_id, Counter())
    for entry in data.get("stats", []):
        counts[f"{entry['method']} requests"] += entry["num_requests"]
        counts[f"{entry['method']} failures"] += entry["num_failures"]


def _replace(path: str, write: Any) -> None:
    """Write a CSV file whole, then put it in place (Locust may still hold the old one)."""
    temporary = f"{path}.tlsbench-tmp"
    with open(temporary, "w", newline="") as f:
        write(csv.writer(f))
    os.replace(temporary, path)


def _on_quit(**_: Any) -> None:
    """After the run, on the master (or a lone process): with ``--csv PREFIX``, the stats and
    failures CSV again with the final figures (Locust's own lag up to a second behind the
    summary it prints, locust#1806), and ``PREFIX_workers.csv``; a log line per worker."""
    if not _environment or isinstance(_environment[0].runner, WorkerRunner):
        return
    environment = _environment[0]
    prefix = getattr(environment.parsed_options, "csv_prefix", None)
    if prefix:
        final = StatsCSV(environment, PERCENTILES_TO_REPORT)
        _replace(f"{prefix}_stats.csv", final.requests_csv)
        _replace(f"{prefix}_failures.csv", final.failures_csv)
    if not isinstance(environment.runner, MasterRunner):
        return
    logger.info("tlsbench: %d workers reported", len(_by_worker))
    rows = []
    for worker, counts in sorted(_by_worker.items()):
        logger.info(
            "tlsbench: worker %s: %d tls handshakes", worker, counts["tls handshake requests"]
        )
        for key, value in sorted(counts.items()):
            request_type, _sep, what = key.rpartition(" ")
            rows.append((worker, request_type, what, value))
    if prefix:

        def workers_csv(writer: Any) -> None:
            writer.writerow(("Worker", "Type", "Count of", "Count"))
            writer.writerows(rows)

        _replace(f"{prefix}_workers.csv", workers_csv)


events.init.add_listener(_on_init)  # type: ignore[no-untyped-call]
events.worker_report.add_listener(_on_worker_report)  # type: ignore[no-untyped-call]
events.quit.add_listener(_on_quit)  # type: ignore[no-untyped-call]
