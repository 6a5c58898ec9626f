"""``tlsbench serve`` and ``tlsbench connect``: a server and a client for any other stack.

By default both take the whole profile the engine has, as real servers and clients do:
TLS 1.3 and 1.2, every suite (the server: every suite one of its certificates allows) and
every group, in preference order. ``--tls``, ``--suite`` and ``--group`` take lists that
restrict and order. The client verifies the server's chain and name against the system's
trust store (or ``--ca-file``); ``--insecure`` turns that off and says so.
"""

from __future__ import annotations

import dataclasses
import json
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from tlsbench.server.limits import MAX_HANDSHAKE_MESSAGE, ServerLimits, Stats

from .commands import split_list
from .options import impl_option
from .params import ALL_SUITES, CERTS, GROUPS, IMPLS, OUR_IMPLS, TLS13_SUITES, suite_version

# What the engine has, in the order a server prefers it: forward secrecy first, then
# AES-128-GCM (the cheapest with AES-NI), AES-256-GCM, ChaCha20-Poly1305; RSA key
# transport last. Groups: X25519 first (the fastest), then the NIST curves.
PREFERRED_SUITES = (
    *TLS13_SUITES,
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384",
)
assert sorted(PREFERRED_SUITES) == sorted(ALL_SUITES)
VERIFY_ALERTS = {"bad_certificate", "unknown_ca", "certificate_expired", "unsupported_certificate"}


@dataclass(frozen=True)
class Profile:
    """What one side accepts or offers, in preference order (IANA and RFC names)."""

    versions: tuple[str, ...]
    suites: tuple[str, ...]
    groups: tuple[str, ...]
    alpn: tuple[str, ...] = ()

    def describe(self) -> str:
        """One line for logs."""
        alpn = f"; ALPN {', '.join(self.alpn)}" if self.alpn else ""
        return (
            f"TLS {', '.join(self.versions)}; suites {', '.join(self.suites)}; "
            f"groups {', '.join(self.groups)}{alpn}"
        )


def profile_from_options(
    versions: tuple[str, ...],
    suites: tuple[str, ...],
    groups: tuple[str, ...],
    alpn: tuple[str, ...],
    fits: Callable[[str], bool] = lambda suite: True,
) -> Profile:
    """The lists given (each restricts and orders), else everything; suites must ``fit``."""
    chosen_versions = split_list(versions, ("1.3", "1.2"), "TLS version")
    chosen_suites = split_list(suites, ALL_SUITES, "suite")
    for suite in chosen_suites:
        if not fits(suite):
            raise click.UsageError(f"{suite} needs a certificate this server does not have")
    if chosen_suites and chosen_versions:
        left = [s for s in chosen_suites if suite_version(s) in chosen_versions]
        if not left:
            raise click.UsageError("none of the suites is of the TLS versions given")
        chosen_suites = left
    if not chosen_suites:
        chosen_suites = [
            s
            for s in PREFERRED_SUITES
            if fits(s) and (not chosen_versions or suite_version(s) in chosen_versions)
        ]
    # A version is offered only with a suite of its own.
    spoken = {suite_version(s) for s in chosen_suites}
    final_versions = [v for v in (chosen_versions or ["1.3", "1.2"]) if v in spoken]
    if not final_versions:
        raise click.UsageError("no suite of the TLS versions given fits the certificates")
    chosen_groups = split_list(groups, GROUPS, "group") or list(GROUPS)
    names = [a.strip() for value in alpn for a in value.split(",") if a.strip()]
    return Profile(tuple(final_versions), tuple(chosen_suites), tuple(chosen_groups), tuple(names))


def _profile_options(fn: Any) -> Any:
    options = [
        click.option(
            "--tls",
            "versions",
            multiple=True,
            metavar="LIST",
            help="TLS versions, e.g. 1.3,1.2 [both; the highest both sides speak wins].",
        ),
        click.option(
            "--suite",
            "suites",
            multiple=True,
            metavar="LIST",
            help="IANA suite names, in preference order [all; see the command's help].",
        ),
        click.option(
            "--group",
            "groups",
            multiple=True,
            metavar="LIST",
            help=f"Key exchange groups in preference order [{','.join(GROUPS)}].",
        ),
        click.option(
            "--alpn", multiple=True, metavar="LIST", help="ALPN protocols, e.g. h2,http/1.1."
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _log(line: str) -> None:
    """One whole line on stdout, flushed (workers share it)."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


# -- serve ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServedCertificate:
    """A chain and key file to serve, and the key's kind (``rsa`` or ``ec``)."""

    cert_file: str
    key_file: str
    kind: str


def _key_kind(key_file: str) -> str:
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    from tlsbench.tls.certs import load_private_key

    try:
        key = load_private_key(key_file)
    except (ValueError, TypeError, OSError) as exc:
        raise click.UsageError(f"cannot use the key {key_file}: {exc}") from None
    if isinstance(key, rsa.RSAPrivateKey):
        return "rsa"
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return "ec"


def suite_fits_kinds(suite: str, kinds: set[str]) -> bool:
    """Whether one of the key kinds can serve ``suite`` (TLS 1.3 suites fit any)."""
    if suite in TLS13_SUITES:
        return True
    return ("ec" if "_ECDSA_" in suite else "rsa") in kinds


def served_certificates(
    kinds: tuple[str, ...],
    cert_files: tuple[str, ...],
    key_files: tuple[str, ...],
    directory: Path,
) -> tuple[list[ServedCertificate], str]:
    """The user's PEM pairs, else generated ones of ``kinds``; and the CA file to print."""
    if len(cert_files) != len(key_files):
        raise click.UsageError("give --cert-file and --key-file in pairs (one key per chain)")
    if cert_files:
        return [
            ServedCertificate(c, k, _key_kind(k))
            for c, k in zip(cert_files, key_files, strict=True)
        ], ""
    from tlsbench.tls.certs import write_credentials

    chosen = split_list(kinds, CERTS, "certificate kind") or ["ecdsa-p256", "rsa2048"]
    served, cas = [], []
    for kind in chosen:
        files = write_credentials(directory, kind)  # type: ignore[arg-type]
        served.append(
            ServedCertificate(
                str(files.cert_file), str(files.key_file), "rsa" if kind == "rsa2048" else "ec"
            )
        )
        cas.append(files.ca_file.read_bytes())
    bundle = directory / "ca.pem"  # one file a client can trust for every leaf served
    bundle.write_bytes(b"".join(cas))
    return served, str(bundle)


def server_factory(
    impl: str,
    profile: Profile,
    served: list[ServedCertificate],
    max_handshake_message: int,
    resumption: Any = None,
) -> Callable[[], Any]:
    """What makes one server connection (sans-I/O) per accepted socket. One config (or
    context) for the process, so tickets and session IDs resume across its connections;
    ``resumption``: a :class:`tlsbench.server.foreign.Resumption` (tickets, client
    certificates), its defaults without one."""
    from tlsbench.server.foreign import Resumption

    resumption = resumption or Resumption()
    if impl in OUR_IMPLS:
        from tlsbench.tls import CipherSuite, NamedGroup, ServerConfig, ServerConnection

        first, *more = served
        config = dataclasses.replace(
            ServerConfig.from_files(
                first.cert_file,
                first.key_file,
                cipher_suites=[CipherSuite[s] for s in profile.suites],
                groups=[NamedGroup[g.upper()] for g in profile.groups],
                alpn_protocols=[a.encode() for a in profile.alpn],
                provider=impl,
                versions=[0x0304 if v == "1.3" else 0x0303 for v in profile.versions],
                more=[(c.cert_file, c.key_file) for c in more],
            ),
            max_handshake_message=max_handshake_message,
            tickets=resumption.tickets,
            client_auth=resumption.client_auth,
            client_ca_file=resumption.client_ca,
        )
        return lambda: ServerConnection(config)
    from tlsbench.server import foreign

    return foreign.server_factory(
        impl, profile, [(c.cert_file, c.key_file) for c in served], resumption
    )


@click.command()
@impl_option(IMPLS)
@_profile_options
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=4433, show_default=True)
@click.option(
    "--cert",
    "kinds",
    multiple=True,
    metavar="LIST",
    help="Generated certificates to serve: ecdsa-p256, rsa2048 [both, one CA].",
)
@click.option(
    "--cert-file",
    "cert_files",
    multiple=True,
    type=click.Path(dir_okay=False, exists=True),
    help="Serve this PEM chain (leaf first) instead; repeat for a second one (RSA and ECDSA).",
)
@click.option(
    "--key-file",
    "key_files",
    multiple=True,
    type=click.Path(dir_okay=False, exists=True),
    help="The PEM private key of each --cert-file, in the same order.",
)
@click.option(
    "--cert-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Where to write the generated CA and leaves [a temporary directory].",
)
@click.option(
    "--tickets",
    type=click.IntRange(min=0),
    default=2,
    show_default=True,
    help="TLS 1.3 session tickets after each full handshake (OpenSSL's default); also "
    "TLS 1.2 RFC 5077 tickets when asked for; 0: none (TLS 1.2 session IDs still resume).",
)
@click.option(
    "--client-auth",
    type=click.Choice(["optional", "require"]),
    default=None,
    help="Ask each client for a certificate; require: refuse a client without one "
    "(certificate_required in TLS 1.3, handshake_failure in TLS 1.2). Needs --client-ca.",
)
@click.option(
    "--client-ca",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="PEM CA(s) a client certificate must chain to (with --client-auth).",
)
@click.option("--http", is_flag=True, help="Answer each HTTP/1.x request instead of echoing.")
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
    help=(
        "Longest handshake message accepted but a ClientHello, which may be as long as its "
        "syntax allows, 131,396 bytes (decode_error past it; our engine only)."
    ),
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
    impl: str,
    versions: tuple[str, ...],
    suites: tuple[str, ...],
    groups: tuple[str, ...],
    alpn: tuple[str, ...],
    host: str,
    port: int,
    kinds: tuple[str, ...],
    cert_files: tuple[str, ...],
    key_files: tuple[str, ...],
    cert_dir: str | None,
    tickets: int,
    client_auth: str | None,
    client_ca: str | None,
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
    """A TLS server: echo application data (or answer HTTP), many connections at once.

    By default it accepts TLS 1.3 and 1.2, every group (x25519, secp256r1, secp384r1) and
    every suite one of its certificates allows, preferring: TLS_AES_128_GCM_SHA256,
    TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256; then ECDHE (ECDSA before RSA)
    with AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305; RSA key exchange last. It serves a
    generated ECDSA P-256 and RSA-2048 leaf (one CA, printed) unless given --cert-file.
    --impl ssl or tlslite serves with Python's ssl or tlslite-ng under the same limits.

    Sessions resume across connections: two TLS 1.3 tickets per full handshake (--tickets),
    TLS 1.2 tickets and session IDs. --client-auth asks for a client certificate, checked
    against --client-ca.

    One line per handshake (unless --quiet; it says "resumed" and the client
    certificate's subject when there are) and per failed connection (reason, peer); on
    SIGINT/SIGTERM (or after --count connections) a summary line, and exit 0.
    """
    import signal

    from tlsbench.server.foreign import Resumption
    from tlsbench.server.log import LineLog
    from tlsbench.server.loop import Server
    from tlsbench.server.workers import reuseport_listeners, run_workers

    if count is not None and workers > 1:
        raise click.UsageError("--count works with one worker only")
    if client_auth is not None and client_ca is None:
        raise click.UsageError("--client-auth needs --client-ca FILE (the CA to verify against)")
    if client_ca is not None and client_auth is None:
        raise click.UsageError("--client-ca is used with --client-auth optional|require")
    resumption = Resumption(tickets, client_auth or "none", client_ca)
    if alpn and http and "http/1.1" not in ",".join(alpn).split(","):
        raise click.UsageError("--http answers HTTP/1.x: include http/1.1 in --alpn")
    directory = Path(cert_dir or tempfile.mkdtemp(prefix="tlsbench-serve-"))
    served, ca_file = served_certificates(kinds, cert_files, key_files, directory)
    present = {c.kind for c in served}
    profile = profile_from_options(
        versions,
        suites,
        groups,
        alpn or (("http/1.1",) if http else ()),
        lambda suite: suite_fits_kinds(suite, present),
    )
    if impl == "ssl":
        from .clients import ensure_openssl_conf

        ensure_openssl_conf(profile)  # may run this command again, with OPENSSL_CONF set
    try:
        factory = server_factory(impl, profile, served, max_handshake_message, resumption)
    except (ValueError, OSError) as exc:
        raise click.UsageError(f"cannot serve with {impl}: {exc}") from None
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
    trust = ""
    if client_auth is not None:
        asked = "required" if client_auth == "require" else "optional"
        trust = f"; client certificates {asked}, their CA {client_ca}"
    trust += f"; CA file {ca_file}" if ca_file else ""  # last: scripts read the path
    _log(
        f"listening on {host}:{listeners[0].getsockname()[1]} ({impl}; {profile.describe()}; "
        f"certificates {', '.join(Path(c.cert_file).name for c in served)}){trust}"
    )

    def serve_one(listener: socket.socket) -> Stats:
        log = LineLog()
        server = Server(
            listener,
            factory,
            limits,
            http=http,
            count=count,
            log=log,
            log_handshakes=not quiet,
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


# -- connect ----------------------------------------------------------------------------


def parse_address(address: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6); UsageError otherwise."""
    host, sep, port_text = address.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise click.UsageError(f"expected HOST:PORT, not {address!r}")
    return host, int(port_text)


@dataclass
class Negotiated:
    """What a client learnt of one connection, for printing."""

    version: str = "-"
    suite: str = "-"
    group: str = "-"
    signature: str = "-"
    certificate: str = "-"
    alpn: str = "-"


def describe_leaf(der: bytes) -> str:
    """``subject (issuer ...)`` of a DER certificate."""
    from cryptography import x509

    cert = x509.load_der_x509_certificate(der)
    return f"{cert.subject.rfc4514_string()} (issuer {cert.issuer.rfc4514_string()})"


@click.command()
@click.argument("address", metavar="HOST:PORT")
@impl_option(IMPLS)
@_profile_options
@click.option(
    "--ca-file",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="Trust these CAs (PEM; a self-signed server certificate is trusted as itself) "
    "[the system's trust store].",
)
@click.option("--insecure", is_flag=True, help="Do not verify the server (says so on stderr).")
@click.option("--server-name", default=None, help="SNI and the name to verify [HOST].")
@click.option("--cert", hidden=True, default=None, help="Ignored: the client offers every suite.")
@click.option("--data", default="", help="Send this and print the reply.")
@click.option("--http", is_flag=True, help="Send GET / and print the response head.")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=10.0, show_default=True)
@click.option(
    "--reconnect",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="After the first handshake, N more connections, each offering the newest session "
    "(one line each: resumed or not, version, handshake time).",
)
@click.option(
    "--resumption",
    type=click.Choice(["tickets", "session-id"]),
    default="tickets",
    show_default=True,
    help="TLS 1.2: ask for an RFC 5077 ticket, or resume by session ID only.",
)
@click.option(
    "--cert-file",
    "client_cert",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="Present this PEM client certificate chain (leaf first) when the server asks.",
)
@click.option(
    "--key-file",
    "client_key",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="The PEM private key of --cert-file (RSA-2048 or ECDSA P-256).",
)
def connect(
    address: str,
    impl: str,
    versions: tuple[str, ...],
    suites: tuple[str, ...],
    groups: tuple[str, ...],
    alpn: tuple[str, ...],
    ca_file: str | None,
    insecure: bool,
    server_name: str | None,
    cert: str | None,
    data: str,
    http: bool,
    timeout: float,
    reconnect: int,
    resumption: str,
    client_cert: str | None,
    client_key: str | None,
) -> None:
    """A TLS client: handshake with HOST:PORT, print what was negotiated and the timing.

    It offers what a modern client offers (TLS 1.3 and 1.2, every suite and group; a key
    share for the first group) and verifies the server's chain and name against the
    system's trust store, or --ca-file; --insecure skips that. A failed verification is
    one line and exit 1, naming the alert sent. --impl ssl or tlslite connects with
    Python's ssl or tlslite-ng instead of our engine. --reconnect N then makes N more
    connections that offer the session (TLS 1.3 ticket, TLS 1.2 ticket or session ID);
    --cert-file/--key-file present a client certificate.
    """
    from .clients import ClientSetup, open_client, prepare

    host, port = parse_address(address)
    if (client_cert is None) != (client_key is None):
        raise click.UsageError("give --cert-file and --key-file together (chain and its key)")
    if client_key is not None:
        _key_kind(client_key)  # a clear usage error for a key we cannot use
    profile = profile_from_options(
        versions, suites, groups, alpn or (("http/1.1",) if http else ())
    )
    trust = None
    if not insecure:
        from tlsbench.tls.certs import system_ca_file

        trust = ca_file or system_ca_file()
        if trust is None:
            raise click.UsageError("no system trust store found; give --ca-file or --insecure")
    setup = ClientSetup(
        impl, profile, trust, server_name or host, timeout, client_cert, client_key, resumption
    )
    prepare(setup)
    if insecure:
        click.echo(
            "tlsbench: warning: --insecure: the server's certificate is not verified", err=True
        )
    start = time.perf_counter()
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        raise click.ClickException(f"cannot connect to {address}: {exc.strerror or exc}") from None
    connected = time.perf_counter()
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    client = open_client(setup, sock)
    try:
        negotiated = client.handshake()
    except ConnectionError as exc:
        client.abort()
        raise click.ClickException(_handshake_failure(address, exc)) from None
    except (OSError, EOFError) as exc:
        client.abort()
        raise click.ClickException(f"handshake with {address} failed: {exc}") from None
    done = time.perf_counter()
    click.echo(f"{'connected':<13}{address} ({impl})")
    for name, value in dataclasses.asdict(negotiated).items():
        click.echo(f"{name:<13}{value}")
    verified = "not verified (--insecure)" if trust is None else f"verified against {trust}"
    click.echo(f"{'trust':<13}{verified}")
    click.echo(f"{'tcp connect':<13}{(connected - start) * 1e3:.3f} ms")
    click.echo(f"{'handshake':<13}{(done - connected) * 1e3:.3f} ms")
    try:
        request = data.encode()
        if http:
            request = (
                f"GET / HTTP/1.1\r\nhost: {server_name or host}\r\nconnection: close\r\n\r\n"
            ).encode()
        if request:
            sent = time.perf_counter()
            client.send(request)
            try:
                reply = client.recv(1 << 16)
            except TimeoutError:
                raise click.ClickException(f"no reply from {address} in {timeout} s") from None
            first = time.perf_counter()
            click.echo(f"{'first byte':<13}{(first - sent) * 1e3:.3f} ms")
            text = reply.partition(b"\r\n\r\n")[0] if http else reply
            click.echo(text.decode("utf-8", "replace"))
        session = client.session() if reconnect else None
    finally:
        client.close()
    for i in range(1, reconnect + 1):
        session = _reconnect(setup, host, port, address, i, session)


def _reconnect(setup: Any, host: str, port: int, address: str, number: int, session: Any) -> Any:
    """One more connection offering ``session``; one line; the newest session after it."""
    from .clients import open_client

    if session is None:
        raise click.ClickException(
            f"reconnect {number}: no session to offer (the server sent no ticket and no session ID)"
        )
    try:
        sock = socket.create_connection((host, port), timeout=setup.timeout)
    except OSError as exc:
        raise click.ClickException(f"cannot connect to {address}: {exc.strerror or exc}") from None
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    start = time.perf_counter()
    client = open_client(setup, sock, session)
    try:
        negotiated = client.handshake()
    except ConnectionError as exc:
        client.abort()
        raise click.ClickException(_handshake_failure(address, exc)) from None
    except (OSError, EOFError) as exc:
        client.abort()
        raise click.ClickException(f"handshake with {address} failed: {exc}") from None
    took = (time.perf_counter() - start) * 1e3
    resumed = client.resumed()
    how = "resumed" if resumed else "not resumed (full handshake)"
    click.echo(f"reconnect {number}: {how}, {negotiated.version}, handshake {took:.3f} ms")
    try:
        newest = client.session()
    finally:
        client.close()
    return newest or session


def _handshake_failure(address: str, exc: ConnectionError) -> str:
    """One line for a failed handshake; verification failures say so first."""
    from tlsbench.tls.alerts import describe

    from .clients import VerificationFailed

    alert = getattr(exc, "alert", None)
    if isinstance(exc, VerificationFailed):
        sent = f"sent {describe(exc.alert)}: " if exc.alert is not None else ""
        return f"certificate verification failed for {address}: {sent}{exc}"
    if alert is not None and not getattr(exc, "by_peer", True):
        name = describe(int(alert))
        if name in VERIFY_ALERTS:
            closed = getattr(exc, "closed", None)
            reason = getattr(closed, "reason", "") or str(exc)
            return f"certificate verification failed for {address}: sent {name}: {reason}"
    return f"handshake with {address} failed: {exc}"
