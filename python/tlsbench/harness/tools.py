"""Companion commands: ``serve``, ``connect``, ``trace`` and ``certs``."""

from __future__ import annotations

import json
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import click

from tlsbench.server.limits import MAX_HANDSHAKE_MESSAGE, ServerLimits, Stats

from .params import ALL_SUITES, CERTS, GROUPS, OUR_IMPLS, VERSIONS, Tls, default_suite, suite_fits


def _tls_options(fn: Any) -> Any:
    options = [
        click.option("--provider", type=click.Choice(OUR_IMPLS), default="rust", show_default=True),
        click.option(
            "--tls", "version", type=click.Choice(VERSIONS), default="1.3", show_default=True
        ),
        click.option(
            "--suite",
            type=click.Choice(ALL_SUITES),
            default=None,
            help="[AES-128-GCM with ECDHE for the version and certificate]",
        ),
        click.option("--group", type=click.Choice(GROUPS), default="x25519", show_default=True),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _tls(version: str, suite: str | None, group: str, cert: str, files: Any) -> Tls:
    from .params import suite_version

    suite = suite or default_suite(version, cert)
    if suite_version(suite) != version:
        raise click.UsageError(f"{suite} is not a TLS {version} suite")
    if not suite_fits(suite, cert):
        raise click.UsageError(f"{suite} cannot be used with an {cert} certificate")
    return Tls(
        version, suite, group, cert, str(files.ca_file), str(files.cert_file), str(files.key_file)
    )


def _check_ours(tls: Tls, provider: str) -> None:
    from .impls import Unsupported, check_supported

    try:
        check_supported(provider, tls, "tcp")
    except Unsupported as exc:
        raise click.UsageError(str(exc)) from None


@click.command()
@_tls_options
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=4433, show_default=True)
@click.option("--cert", type=click.Choice(CERTS), default="ecdsa-p256", show_default=True)
@click.option(
    "--cert-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Where to write the CA and leaf [a temporary directory].",
)
@click.option("--http", is_flag=True, help="Answer each HTTP/1.1 request instead of echoing.")
@click.option("--count", type=click.IntRange(min=1), default=None, help="Stop after N connections.")
@click.option(
    "--max-connections",
    type=click.IntRange(min=1),
    default=ServerLimits.max_connections,
    show_default=True,
    help="Connections at once (per worker); past it a connection is closed unanswered.",
)
@click.option(
    "--handshake-timeout",
    type=click.FloatRange(min=0.01),
    default=ServerLimits.handshake_timeout,
    show_default=True,
    help="Seconds from accept to a complete handshake.",
)
@click.option(
    "--idle-timeout",
    type=click.FloatRange(min=0.01),
    default=ServerLimits.idle_timeout,
    show_default=True,
    help="Seconds without traffic after the handshake.",
)
@click.option(
    "--max-buffer",
    type=click.IntRange(min=1),
    default=ServerLimits.max_buffer,
    show_default=True,
    help="Unsent bytes per connection before reading from it pauses.",
)
@click.option(
    "--max-handshake-message",
    type=click.IntRange(min=4),
    default=MAX_HANDSHAKE_MESSAGE,
    show_default=True,
    help="Longest handshake message accepted (decode_error past it).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Processes sharing the port (SO_REUSEPORT).",
)
@click.option("--quiet", is_flag=True, help="No line per good handshake (failures still logged).")
@click.option(
    "--stats-json",
    type=click.Path(dir_okay=False),
    default=None,
    help="At exit, write the summary figures here as JSON.",
)
def serve(
    provider: str,
    version: str,
    suite: str | None,
    group: str,
    host: str,
    port: int,
    cert: str,
    cert_dir: str | None,
    http: bool,
    count: int | None,
    max_connections: int,
    handshake_timeout: float,
    idle_timeout: float,
    max_buffer: int,
    max_handshake_message: int,
    workers: int,
    quiet: bool,
    stats_json: str | None,
) -> None:
    """Our server alone: echo application data (or HTTP/1.1), many connections at once.

    One line per handshake (unless --quiet) and per failed connection (reason, peer);
    on SIGINT/SIGTERM (or after --count connections) a summary line, and exit 0.
    """
    import dataclasses
    import signal

    from tlsbench.server.log import LineLog
    from tlsbench.server.loop import Server
    from tlsbench.server.workers import reuseport_listeners, run_workers
    from tlsbench.tls.certs import write_credentials

    from .impls import our_server_config

    if count is not None and workers > 1:
        raise click.UsageError("--count works with one worker only")
    directory = Path(cert_dir or tempfile.mkdtemp(prefix="tlsbench-serve-"))
    files = write_credentials(directory, cert)  # type: ignore[arg-type]
    tls = _tls(version, suite, group, cert, files)
    _check_ours(tls, provider)
    config = dataclasses.replace(
        our_server_config(tls, provider), max_handshake_message=max_handshake_message
    )
    limits = ServerLimits(
        max_connections=max_connections,
        handshake_timeout=handshake_timeout,
        idle_timeout=idle_timeout,
        max_buffer=max_buffer,
    )
    try:
        listeners = reuseport_listeners(host, port, workers, backlog=1024)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    _log(
        f"listening on {host}:{listeners[0].getsockname()[1]} (TLS {version}, {tls.suite}, "
        f"{group}, provider {provider}); CA file {files.ca_file}"
    )

    def serve_one(listener: socket.socket) -> Stats:
        log = LineLog()
        server = Server(
            listener, config, limits, http=http, count=count, log=log, log_handshakes=not quiet
        )
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: server.stop())
        try:
            return server.serve()
        finally:
            listener.close()
            log.close()
            server.stats.dropped_log_lines = log.dropped

    stats = serve_one(listeners[0]) if workers == 1 else run_workers(listeners, serve_one)
    if stats_json:
        Path(stats_json).write_text(json.dumps(stats.to_dict()) + "\n")
    _log(stats.summary())


@click.command()
@click.option("--server", "address", metavar="HOST:PORT", help="A server already running.")
@click.option("--spawn", is_flag=True, help="Start `tlsbench serve` (rust provider) and use it.")
@click.option("--server-pid", type=int, default=None, help="With --server: sample this RSS.")
@click.option(
    "--ca-file",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="With --server: verify its chain (else no verification).",
)
@click.option(
    "--handshakes",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="Connections in all, well-behaved and misbehaving.",
)
@click.option("--concurrency", type=click.IntRange(min=1), default=64, show_default=True)
@click.option(
    "--processes",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Client processes (the threads are split among them).",
)
@click.option(
    "--misbehave",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Share of clients that send garbage, truncate, stall or reset.",
)
@click.option(
    "--duration-limit",
    type=click.FloatRange(min=0.1),
    default=600.0,
    show_default=True,
    help="No new connection after this many seconds.",
)
@click.option(
    "--stall",
    type=click.FloatRange(min=0.01),
    default=2.0,
    show_default=True,
    help="How long a stalling client waits for the server to close it.",
)
@click.option(
    "--handshake-timeout",
    type=click.FloatRange(min=0.01),
    default=1.0,
    show_default=True,
    help="With --spawn: the server's handshake timeout.",
)
@click.option("--provider", type=click.Choice(OUR_IMPLS), default="rust", show_default=True)
@click.option("--tls", "version", type=click.Choice(VERSIONS), default="1.3", show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Write the report.")
def load(
    address: str | None,
    spawn: bool,
    server_pid: int | None,
    ca_file: str | None,
    handshakes: int,
    concurrency: int,
    processes: int,
    misbehave: float,
    duration_limit: float,
    stall: float,
    handshake_timeout: float,
    provider: str,
    version: str,
    seed: int,
    json_path: str | None,
) -> None:
    """Load and soak: many fresh handshakes at once, some clients hostile; the server's RSS.

    Prints the JSON report; exits 1 if any well-behaved client failed.
    """
    from .load import run_load, spawn_server, stop_server

    if spawn == (address is not None):
        raise click.UsageError("give either --server HOST:PORT or --spawn")
    proc = None
    host, port = "127.0.0.1", 0
    tmp = Path(tempfile.mkdtemp(prefix="tlsbench-load-"))
    if spawn:
        proc, port = spawn_server(tmp, handshake_timeout)
        server_pid = proc.pid
        ca_file = str(tmp / "ecdsa-p256-ca.pem")
    else:
        assert address is not None
        host, sep, port_text = address.rpartition(":")
        if not sep or not port_text.isdigit():
            raise click.UsageError(f"expected HOST:PORT, not {address!r}")
        port = int(port_text)
    try:
        report = run_load(
            host,
            port,
            handshakes=handshakes,
            concurrency=concurrency,
            processes=processes,
            misbehave=misbehave,
            duration_limit=duration_limit,
            server_pid=server_pid,
            provider=provider,
            tls=version,
            ca_file=ca_file,
            stall=stall,
            seed=seed,
        )
    finally:
        if proc is not None:
            server_stats = stop_server(proc, tmp / "server-stats.json")
    if proc is not None:
        report.setdefault("server", {})["stats"] = server_stats
    text = json.dumps(report, indent=1)
    if json_path:
        Path(json_path).write_text(text + "\n")
    short = {k: v for k, v in report.items() if k != "server"}
    short["server"] = {k: v for k, v in report.get("server", {}).items() if k != "rss_samples"}
    click.echo(json.dumps(short, indent=1))
    if report["good"]["failed"]:
        raise click.ClickException(f"{report['good']['failed']} good handshakes failed")


def _log(line: str) -> None:
    """One whole line on stdout, flushed (workers share it)."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


@click.command()
@click.argument("address", metavar="HOST:PORT")
@_tls_options
@click.option(
    "--ca-file",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="CA to verify the server with; without it, no verification.",
)
@click.option("--server-name", default=None, help="SNI and name to verify [HOST].")
@click.option(
    "--cert",
    type=click.Choice(CERTS),
    default="ecdsa-p256",
    help="Only picks the default TLS 1.2 suite's signature kind.",
)
@click.option("--data", default="", help="Send this and print the reply.")
@click.option("--http", is_flag=True, help="Send GET / and print the response head.")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=10.0, show_default=True)
def connect(
    address: str,
    provider: str,
    version: str,
    suite: str | None,
    group: str,
    ca_file: str | None,
    server_name: str | None,
    cert: str,
    data: str,
    http: bool,
    timeout: float,
) -> None:
    """Our client alone: handshake with HOST:PORT, print what was negotiated and timing."""
    import dataclasses

    from tlsbench.tls import ClientConnection
    from tlsbench.tls.driver import TlsStream

    from .impls import OurSession, our_client_config

    host, sep, port_text = address.rpartition(":")
    if not sep or not host or not port_text.isdigit():
        raise click.UsageError(f"expected HOST:PORT, not {address!r}")
    fake = type("F", (), {"ca_file": ca_file or "", "cert_file": "", "key_file": ""})
    tls = _tls(version, suite, group, cert, fake)
    _check_ours(tls, provider)
    config = dataclasses.replace(
        our_client_config(tls, provider),
        server_name=server_name or host,
        verify=ca_file is not None,
        ca_file=ca_file,
    )
    start = time.perf_counter()
    try:
        sock = socket.create_connection((host, int(port_text)), timeout=timeout)
    except OSError as exc:
        raise click.ClickException(f"cannot connect to {address}: {exc.strerror or exc}") from None
    connected = time.perf_counter()
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    stream = TlsStream(sock, ClientConnection(config))
    try:
        stream.do_handshake()
    except (OSError, EOFError) as exc:
        raise click.ClickException(f"handshake with {address} failed: {exc}") from None
    done = time.perf_counter()
    neg = OurSession(stream).negotiated()
    click.echo(
        f"version   TLS {neg['version']}\nsuite     {neg['suite']}\ngroup     {neg['group']}"
    )
    click.echo(
        f"connect   {(connected - start) * 1e3:.3f} ms\nhandshake {(done - connected) * 1e3:.3f} ms"
    )
    try:
        if http:
            stream.send(f"GET / HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n\r\n".encode())
            reply = stream.recv(1 << 16)
            click.echo(reply.partition(b"\r\n\r\n")[0].decode("latin-1"))
        elif data:
            stream.send(data.encode())
            click.echo(stream.recv(1 << 16).decode("utf-8", "replace"))
    finally:
        stream.close()


@click.command()
@_tls_options
@click.option("--cert", type=click.Choice(CERTS), default="ecdsa-p256", show_default=True)
@click.option(
    "--warmup",
    type=click.IntRange(min=0),
    default=3,
    show_default=True,
    help="Untraced handshakes first (imports, caches).",
)
@click.option(
    "--json", "json_path", type=click.Path(dir_okay=False), help="Write the trace as JSON."
)
def trace(
    provider: str,
    version: str,
    suite: str | None,
    group: str,
    cert: str,
    warmup: int,
    json_path: str | None,
) -> None:
    """One handshake as a ladder (message, size, times), then where each side spent its time."""
    from tlsbench.tls.certs import write_credentials

    from .trace import render
    from .trace import trace as run_trace

    with tempfile.TemporaryDirectory(prefix="tlsbench-trace-") as tmp:
        files = write_credentials(tmp, cert)  # type: ignore[arg-type]
        tls = _tls(version, suite, group, cert, files)
        _check_ours(tls, provider)
        data = run_trace(tls, provider, warmup)
    click.echo(render(data), nl=False)
    if json_path:
        Path(json_path).write_text(json.dumps(data, indent=1) + "\n")


@click.command()
@click.option(
    "--out", "directory", type=click.Path(file_okay=False), default=".", show_default=True
)
@click.option("--kind", "kinds", type=click.Choice(CERTS), multiple=True, help="[both]")
def certs(directory: str, kinds: tuple[str, ...]) -> None:
    """Make a CA and a leaf for localhost/127.0.0.1: RSA-2048 and ECDSA P-256, PEM files."""
    from tlsbench.tls.certs import write_credentials

    for kind in kinds or CERTS:
        files = write_credentials(directory, kind)  # type: ignore[arg-type]
        click.echo(f"{kind}: CA {files.ca_file}, chain {files.cert_file}, key {files.key_file}")
