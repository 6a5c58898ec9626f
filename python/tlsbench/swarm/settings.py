"""The options of ``tlsbench locust`` and what they become: one :class:`Plan` a user runs.

Nothing here imports Locust, so ``tlsbench locust`` can check the options before it
starts Locust, and the user classes can turn the same options into a plan there.
"""

from __future__ import annotations

import os
import re
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from tlsbench.harness.clients import ClientSetup
from tlsbench.harness.params import OUR_IMPLS
from tlsbench.harness.standalone import Profile, parse_address, profile_from_options

IMPLS = (*OUR_IMPLS, "ssl")
BULK_CHUNK = 1 << 16
"""Bulk transfers go out and come back in round trips of this many bytes."""

# (flags, argparse keywords): Locust's parser and tlsbench's own pre-check take the same list.
# String options default to "" (not None) so Locust's web UI keeps their type.
OPTIONS: tuple[tuple[tuple[str, ...], dict[str, Any]], ...] = (
    (("--target",), {"default": "", "metavar": "HOST:PORT", "help": "The TLS server to load."}),
    (
        ("--impl",),
        {
            "default": "rust",
            "choices": IMPLS,
            "help": "Client: our engine on rust, python or cryptography, or Python's ssl [rust].",
        },
    ),
    (("--tls",), {"default": "", "metavar": "LIST", "help": "TLS versions, e.g. 1.3 [1.3,1.2]."}),
    (("--suite",), {"default": "", "metavar": "LIST", "help": "IANA suite names [all]."}),
    (("--group",), {"default": "", "metavar": "LIST", "help": "Key exchange groups [all]."}),
    (("--alpn",), {"default": "", "metavar": "LIST", "help": "ALPN protocols to offer."}),
    (
        ("--ca-file",),
        {"default": "", "metavar": "PEM", "help": "Trust these CAs [the system store]."},
    ),
    (
        ("--insecure",),
        {"action": "store_true", "default": False, "help": "Do not verify the server."},
    ),
    (("--server-name",), {"default": "", "help": "SNI and the name to verify [the host]."}),
    (
        ("--bytes",),
        {
            "dest": "bulk_bytes",
            "type": int,
            "default": 1 << 20,
            "help": "Bytes each Bulk connection sends and reads back (an echo server) [1 MiB].",
        },
    ),
    (
        ("--tls-timeout",),
        {"type": float, "default": 10.0, "help": "Seconds a socket operation may take [10]."},
    ),
)
OWN_FLAGS = frozenset(flag for flags, _ in OPTIONS for flag in flags)


def add_options(parser: Any, web_ui: bool) -> None:
    """Add the options to an argparse parser (Locust's with ``web_ui``: shown in its UI)."""
    group = parser.add_argument_group("tlsbench") if not web_ui else parser
    for flags, keywords in OPTIONS:
        extra = {"include_in_web_ui": True} if web_ui else {}
        group.add_argument(*flags, **keywords, **extra)


@dataclass(frozen=True)
class Plan:
    """Where to connect and how, for every user of a run."""

    host: str
    port: int
    setup: ClientSetup
    bulk_bytes: int
    request: bytes
    """What a Handshake user sends for its first byte (any echo or HTTP server answers it)."""


def _given(value: str) -> tuple[str, ...]:
    return (value,) if value else ()


def profile_of(options: Any) -> Profile:
    """What the client offers (--tls, --suite, --group, --alpn); click.UsageError if nothing."""
    return profile_from_options(
        _given(options.tls), _given(options.suite), _given(options.group), _given(options.alpn)
    )


def plan_from(options: Any) -> Plan:
    """The plan of parsed options; click.UsageError (one line) when they make none."""
    if not options.target:
        raise click.UsageError("give --target HOST:PORT (the server to load)")
    host, port = parse_address(options.target)
    if options.impl not in IMPLS:
        raise click.UsageError(f"--impl must be one of {', '.join(IMPLS)}, not {options.impl!r}")
    profile = profile_of(options)
    trust: str | None = None
    if not options.insecure:
        from tlsbench.tls.certs import system_ca_file

        if options.ca_file and not Path(options.ca_file).is_file():
            raise click.UsageError(f"--ca-file {options.ca_file}: no such file")
        trust = options.ca_file or system_ca_file()
        if trust is None:
            raise click.UsageError("no system trust store found; give --ca-file or --insecure")
    if options.bulk_bytes < 1:
        raise click.UsageError("--bytes must be at least 1")
    if options.tls_timeout <= 0:
        raise click.UsageError("--tls-timeout must be positive")
    name = options.server_name or host
    request = f"GET / HTTP/1.1\r\nhost: {name}\r\nconnection: close\r\n\r\n".encode()
    setup = ClientSetup(options.impl, profile, trust, name, options.tls_timeout)
    return Plan(host, port, setup, options.bulk_bytes, request)


def ssl_conf_problem(profile: Profile) -> str | None:
    """Why Python's ``ssl`` in this process cannot offer ``profile`` (None: it can).

    OpenSSL reads its TLS 1.3 suites and groups from ``OPENSSL_CONF`` once, at start, so
    ``tlsbench locust`` writes that file before Locust starts; a worker must be started with
    the master's --impl/--tls/--suite/--group for its file to say the same.
    """
    from tlsbench.server.foreign import ssl_openssl_conf

    wanted = ssl_openssl_conf(profile.suites, profile.groups)
    path = os.environ.get("OPENSSL_CONF", "")
    if path and Path(path).is_file() and Path(path).read_text() == wanted:
        return None
    return (
        "ssl: this process was not started with the master's --impl ssl, --tls, --suite and "
        "--group (OpenSSL reads them at start): start it with `tlsbench locust` and those options"
    )


def write_openssl_conf(profile: Profile, directory: Path) -> str:
    """The OpenSSL config file for ``profile`` (see :func:`ssl_conf_problem`)."""
    from tlsbench.server.foreign import ssl_openssl_conf

    path = directory / "openssl.cnf"
    path.write_text(ssl_openssl_conf(profile.suites, profile.groups))
    return str(path)


_OPENSSL_ALERT = re.compile(r"(?:SSLV3|TLSV1|TLSV13)_ALERT_([A-Z_]+)")


def failure_name(exc: BaseException) -> str:
    """A short name for what went wrong: the TLS alert, or the socket error, never a traceback.

    A peer's alert is its RFC name (``handshake_failure``); one we sent says so
    (``unknown_ca (sent)``).
    """
    from tlsbench.harness.clients import VerificationFailed
    from tlsbench.tls.alerts import describe
    from tlsbench.tls.driver import TlsConnectionError

    if isinstance(exc, TlsConnectionError):
        if exc.alert is None:
            return "eof" if "end of stream" in str(exc) else str(exc)
        name = describe(int(exc.alert))
        return name if exc.by_peer else f"{name} (sent)"
    if isinstance(exc, VerificationFailed):
        if exc.alert is None:
            return "certificate verification failed"
        return f"{describe(exc.alert)} (sent)"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return "certificate verification failed"
    text = str(exc)
    match = _OPENSSL_ALERT.search(text)
    if match:
        return match.group(1).lower()
    if isinstance(exc, ssl.SSLError):
        return (exc.reason or "ssl error").lower()
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, BrokenPipeError):
        return "broken pipe"
    if isinstance(exc, EOFError):
        return "eof"
    if isinstance(exc, socket.gaierror):
        return "unknown host"
    if isinstance(exc, click.ClickException):
        return exc.format_message()
    if isinstance(exc, ConnectionError) and text.startswith("OpenSSL: "):
        return text.removeprefix("OpenSSL: ").lower()
    if isinstance(exc, OSError):
        return (exc.strerror or type(exc).__name__).lower()
    return type(exc).__name__
