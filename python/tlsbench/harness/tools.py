"""Companion commands: ``load``, ``trace`` and ``certs`` (``serve``/``connect``: standalone)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import click

from .options import impl_option
from .params import (
    ALL_SUITES,
    CERTS,
    GROUPS,
    IMPLS,
    OUR_IMPLS,
    RESUMPTIONS,
    VERSIONS,
    Tls,
    default_suite,
    suite_fits,
)


def _tls_options(fn: Any) -> Any:
    options = [
        impl_option(IMPLS, what=" (trace: our engine on rust, python or cryptography)"),
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


def _tls(
    version: str,
    suite: str | None,
    group: str,
    cert: str,
    files: Any,
    resumption: str = "",
    client_auth: bool = False,
) -> Tls:
    from .params import suite_version

    suite = suite or default_suite(version, cert)
    if suite_version(suite) != version:
        raise click.UsageError(f"{suite} is not a TLS {version} suite")
    if not suite_fits(suite, cert):
        raise click.UsageError(f"{suite} cannot be used with an {cert} certificate")
    return Tls(
        version, suite, group, cert, str(files.ca_file), str(files.cert_file), str(files.key_file),
        str(getattr(files, "client_cert_file", "")), str(getattr(files, "client_key_file", "")),
        resumption, client_auth,
    )  # fmt: skip


def _check_ours(tls: Tls, impl: str) -> None:
    from .impls import Unsupported, check_supported

    if impl not in OUR_IMPLS:
        raise click.UsageError(
            f"trace instruments our engine: --impl must be one of {', '.join(OUR_IMPLS)}, "
            f"not {impl} (whose handshake cannot be watched from inside)"
        )
    try:
        check_supported(impl, tls, "tcp")
    except Unsupported as exc:
        raise click.UsageError(str(exc)) from None


@click.command()
@click.option("--server", "address", metavar="HOST:PORT", help="A server already running.")
@click.option("--spawn", is_flag=True, help="Start `tlsbench serve` (rust) and use it.")
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
@impl_option(OUR_IMPLS, what=" of the good clients (our engine)")
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
    impl: str,
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
            provider=impl,
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
@click.option(
    "--resume",
    is_flag=True,
    help="Trace a resumed handshake (a full one first gets the session, untraced).",
)
@click.option(
    "--resumption",
    type=click.Choice(RESUMPTIONS),
    default="tickets",
    show_default=True,
    help="With --resume, TLS 1.2: by RFC 5077 ticket or by session ID.",
)
@click.option(
    "--client-auth",
    is_flag=True,
    help="The server requires a client certificate (made under the same CA).",
)
def trace(
    impl: str,
    version: str,
    suite: str | None,
    group: str,
    cert: str,
    warmup: int,
    json_path: str | None,
    resume: bool,
    resumption: str,
    client_auth: bool,
) -> None:
    """One handshake as a ladder, from the TCP connect to the first request and response
    (message, size, times, the key that protected it), then where each side spent its time.
    --resume draws a resumed one, --client-auth one with a client certificate."""
    from .credentials import write_harness_credentials
    from .trace import render
    from .trace import trace as run_trace

    if (
        not resume
        and click.get_current_context().get_parameter_source("resumption")
        == click.core.ParameterSource.COMMANDLINE
    ):
        raise click.UsageError("--resumption goes with --resume")
    how = ("tickets" if version == "1.3" else resumption) if resume else ""
    with tempfile.TemporaryDirectory(prefix="tlsbench-trace-") as tmp:
        files = write_harness_credentials(tmp, cert)  # type: ignore[arg-type]
        tls = _tls(version, suite, group, cert, files, how, client_auth)
        _check_ours(tls, impl)
        data = run_trace(tls, impl, warmup, resume)
    click.echo(render(data), nl=False)
    if json_path:
        Path(json_path).write_text(json.dumps(data, indent=1) + "\n")


@click.command()
@click.option(
    "--out", "directory", type=click.Path(file_okay=False), default=".", show_default=True
)
@click.option("--kind", "kinds", type=click.Choice(CERTS), multiple=True, help="[both]")
def certs(directory: str, kinds: tuple[str, ...]) -> None:
    """Make a CA, a server leaf for localhost/127.0.0.1 and a client leaf (CN
    tlsbench-client, for --client-auth) under it: RSA-2048 and ECDSA P-256, PEM files."""
    from .credentials import CLIENT_NAME, write_harness_credentials

    for kind in kinds or CERTS:
        files = write_harness_credentials(directory, kind)  # type: ignore[arg-type]
        click.echo(f"{kind}: CA {files.ca_file}, chain {files.cert_file}, key {files.key_file}")
        click.echo(
            f"{kind}: client certificate (CN {CLIENT_NAME}, same CA) {files.client_cert_file}, "
            f"key {files.client_key_file}"
        )
