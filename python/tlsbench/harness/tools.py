"""Companion commands: ``serve``, ``connect``, ``trace`` and ``certs``."""

from __future__ import annotations

import json
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

import click

from .params import ALL_SUITES, CERTS, GROUPS, OUR_IMPLS, VERSIONS, Tls, default_suite, suite_fits

HTTP_BODY = b"tlsbench\n"


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
) -> None:
    """Our server alone: echo application data (or HTTP/1.1), one connection at a time."""
    from tlsbench.tls import ServerConnection
    from tlsbench.tls.certs import write_credentials
    from tlsbench.tls.driver import TlsStream

    from .impls import OurSession, our_server_config

    directory = Path(cert_dir or tempfile.mkdtemp(prefix="tlsbench-serve-"))
    files = write_credentials(directory, cert)  # type: ignore[arg-type]
    tls = _tls(version, suite, group, cert, files)
    _check_ours(tls, provider)
    config = our_server_config(tls, provider)
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    listener.listen(16)
    click.echo(
        f"listening on {host}:{listener.getsockname()[1]} (TLS {version}, {tls.suite}, "
        f"{group}, provider {provider}); CA file {files.ca_file}",
        err=False,
    )
    served = 0
    try:
        while count is None or served < count:
            sock, peer = listener.accept()
            sock.settimeout(30)
            served += 1
            start = time.perf_counter()
            stream = TlsStream(sock, ServerConnection(config))
            try:
                stream.do_handshake()
                neg = OurSession(stream).negotiated()
                took = (time.perf_counter() - start) * 1e3
                click.echo(
                    f"{peer[0]}:{peer[1]} TLS {neg['version']} {neg['suite']} {neg['group']} "
                    f"handshake {took:.2f} ms"
                )
                _answer(stream, http)
            except (OSError, EOFError) as exc:
                click.echo(f"{peer[0]}:{peer[1]} failed: {exc}")
            finally:
                stream.close()
    finally:
        listener.close()


def _answer(stream: Any, http: bool) -> None:
    buffer = b""
    while True:
        data = stream.recv(1 << 16)
        if not data:
            return
        if not http:
            stream.send(data)
            continue
        buffer += data
        while b"\r\n\r\n" in buffer:
            head, _, buffer = buffer.partition(b"\r\n\r\n")
            keep = b"connection: close" not in head.lower()
            stream.send(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: "
                + str(len(HTTP_BODY)).encode()
                + (b"\r\n\r\n" if keep else b"\r\nconnection: close\r\n\r\n")
                + HTTP_BODY
            )
            if not keep:
                return


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
