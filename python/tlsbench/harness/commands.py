"""The harness commands: run, report, compare, serve, connect, trace, certs.

Heavy modules (the engine, matplotlib) are imported inside the commands, so that
``tlsbench info`` and ``--help`` stay quick.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import click

from .params import (
    ALL_SUITES,
    ALL_WORKLOADS,
    CERTS,
    GROUPS,
    IMPLS,
    OUR_IMPLS,
    REFERENCES,
    RESUMPTIONS,
    TRANSPORTS,
    VERSIONS,
    WORKLOADS,
    default_suite,
    kx_label,
    suite_fits,
    suite_version,
)
from .report import kx_rank

_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


def parse_size(text: str) -> int:
    """``16384``, ``64K``, ``8M``, ``1G`` (binary units); UsageError otherwise."""
    t = text.strip().lower().removesuffix("ib").removesuffix("b")
    unit = t[-1:] if t[-1:] in _UNITS else ""
    try:
        value = float(t[: len(t) - len(unit)]) * _UNITS[unit]
    except ValueError:
        raise click.UsageError(f"bad size {text!r} (e.g. 16384, 64K, 8M)") from None
    if value < 1:
        raise click.UsageError(f"size must be positive: {text!r}")
    return int(value)


def split_list(values: tuple[str, ...], allowed: tuple[str, ...], what: str) -> list[str]:
    """Comma-separated and repeatable options, checked against ``allowed``."""
    out: list[str] = []
    for value in values:
        for item in value.split(","):
            item = item.strip()
            if not item:
                continue
            if item not in allowed:
                raise click.UsageError(
                    f"unknown {what} {item!r} (choose from {', '.join(allowed)})"
                )
            if item not in out:
                out.append(item)
    return out


class Progress:
    """A one-line progress bar on stderr, shown once a run has lasted two seconds."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.start = time.monotonic()
        self.shown = False

    def __call__(self, done: int, total: int, label: str) -> None:
        """Update after one repeat of one case."""
        if not self.enabled or (time.monotonic() - self.start < 2 and done < total):
            return
        width = 30
        filled = int(width * done / max(total, 1))
        elapsed = time.monotonic() - self.start
        eta = elapsed / done * (total - done) if done else 0
        sys.stderr.write(
            f"\\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {label[:20]:<20} "
            f"{elapsed:4.0f}s, ~{eta:.0f}s left "
        )
        if done >= total:
            sys.stderr.write("\\n")
        sys.stderr.flush()
        self.shown = True


# The default matrix where the user does not narrow it: per TLS version, each key
# exchange measured (in table order) with the certificate it uses without --cert.
DEFAULT_ROWS = {
    "1.2": (("rsa", "rsa2048"), ("ecdhe", "ecdsa-p256")),
    "1.3": (("tls13", "ecdsa-p256"),),
}


def default_row_suite(tls: str, kx: str, cert: str) -> str | None:
    """The AES-128-GCM suite of a default row, or None when ``cert`` cannot serve ``kx``."""
    if kx == "rsa":
        return "TLS_RSA_WITH_AES_128_GCM_SHA256" if cert == "rsa2048" else None
    return default_suite(tls, cert)


def suite_cert(suite: str) -> str:
    """The certificate a listed suite gets without ``--cert``: rsa2048 only if it needs RSA."""
    return "ecdsa-p256" if suite_fits(suite, "ecdsa-p256") else "rsa2048"


def chosen_versions(versions: list[str], suites: list[str]) -> list[str]:
    """``--tls`` as given, else the versions of ``--suite``, else both."""
    return versions or sorted({suite_version(s) for s in suites}) or list(VERSIONS)


def protocol_rows(
    versions: list[str], suites: list[str], certs: list[str]
) -> list[tuple[str, str, str]]:
    """(version, suite, certificate) of each section, in table order.

    A version whose suites are listed gets exactly those; any other gets its
    :data:`DEFAULT_ROWS` (TLS 1.2: RSA key exchange and ECDHE; TLS 1.3). Each row runs
    with every one of ``certs`` that fits it, or, when none is given, with its own.
    """
    rows: list[tuple[str, str, str]] = []
    for version in chosen_versions(versions, suites):
        listed = [s for s in suites if suite_version(s) == version]
        for suite in listed:
            rows += [
                (version, suite, c) for c in certs or [suite_cert(suite)] if suite_fits(suite, c)
            ]
        for kx, own_cert in () if listed else DEFAULT_ROWS[version]:
            for cert in certs or [own_cert]:
                default = default_row_suite(version, kx, cert)
                if default is not None:
                    rows.append((version, default, cert))
    return sorted(rows, key=lambda row: kx_rank(row[1]))


def build_cases(
    *,
    impls: list[str] | None = None,
    clients: list[str] | None = None,
    servers: list[str] | None = None,
    versions: list[str] | None = None,
    suites: list[str] | None = None,
    groups: list[str] | None = None,
    certs: list[str] | None = None,
    workloads: list[str] | None = None,
    transports: list[str] | None = None,
    bulk_bytes: int = 8 << 20,
    record_size: int = 16384,
    resumption: str = "tickets",
    client_auth: bool = False,
) -> list[Any]:
    """The matrix of cases, in table order; an empty or missing list means the default.

    Defaults: every implementation on both sides, the rows of :func:`protocol_rows`,
    x25519, handshake and bulk (``resume`` only when named), tcp. The RSA key exchange
    uses no group: it runs once, with the first group. Suites that fit no given
    certificate are left out. A resume case resumes TLS 1.3 by ticket, TLS 1.2 by
    ``resumption``; ``client_auth`` makes every server of every case require a client
    certificate.
    """
    from .params import BULK_CAP, Case

    all_impls = impls or list(IMPLS)
    if clients or servers:
        pairs = [(c, s) for c in (clients or all_impls) for s in (servers or all_impls)]
    else:
        pairs = [(i, i) for i in all_impls]
    rows = protocol_rows(versions or [], suites or [], certs or [])
    all_groups = groups or ["x25519"]
    cases = []
    for workload in workloads or list(WORKLOADS):
        for transport in transports or ["tcp"]:
            for version, suite, cert in rows:
                for group in all_groups[:1] if kx_label(suite) == "rsa" else all_groups:
                    for client, server in pairs:
                        size = bulk_bytes
                        for impl in (client, server):
                            size = min(size, BULK_CAP.get(impl, size))
                        resumes = ""
                        if workload == "resume":
                            resumes = "tickets" if version == "1.3" else resumption
                        cases.append(
                            Case(
                                client,
                                server,
                                version,
                                suite,
                                group,
                                cert,
                                workload,
                                transport,
                                size if workload == "bulk" else 0,
                                record_size,
                                resumes,
                                client_auth,
                            )
                        )
    return cases


def _impl_options(fn: Any) -> Any:
    for option in reversed(
        [
            click.option(
                "--impl",
                "--provider",
                "impls",
                multiple=True,
                metavar="LIST",
                help=f"Implementations on both sides: {', '.join(IMPLS)} [all] "
                "(--provider is an alias); also tcp, plain TCP with no TLS, as a "
                "reference (only when named).",
            ),
            click.option(
                "--client-impl",
                "clients",
                multiple=True,
                metavar="LIST",
                help="Client implementations (each against every server).",
            ),
            click.option(
                "--server-impl",
                "servers",
                multiple=True,
                metavar="LIST",
                help="Server implementations.",
            ),
        ]
    ):
        fn = option(fn)
    return fn


@click.command()
@_impl_options
@click.option(
    "--tls",
    "versions",
    multiple=True,
    metavar="LIST",
    help="1.2, 1.3 [both; with --suite, the suites' versions].",
)
@click.option(
    "--suite",
    "suites",
    multiple=True,
    metavar="LIST",
    help="IANA suite names; replace the default rows of their version [AES-128-GCM: "
    "TLS 1.2 RSA key exchange and ECDHE, TLS 1.3].",
)
@click.option(
    "--group",
    "groups",
    multiple=True,
    metavar="LIST",
    help="x25519, secp256r1, secp384r1 [x25519]; RSA key exchange uses none and runs "
    "once, with the first.",
)
@click.option(
    "--cert",
    "certs",
    multiple=True,
    metavar="LIST",
    help="rsa2048, ecdsa-p256; every row runs with each that fits it [rsa2048 for RSA key "
    "exchange, else ecdsa-p256].",
)
@click.option(
    "--workload",
    "workloads",
    multiple=True,
    metavar="LIST",
    help="handshake, bulk, resume [handshake and bulk]; resume: each connection resumes a "
    "session one full handshake per client process got beforehand.",
)
@click.option(
    "--resumption",
    type=click.Choice(RESUMPTIONS),
    default="tickets",
    show_default=True,
    help="How TLS 1.2 resume cases resume (TLS 1.3 always by ticket).",
)
@click.option(
    "--client-auth",
    is_flag=True,
    help="Every server requires a client certificate (the harness makes one under the CA).",
)
@click.option("--transport", "transports", multiple=True, metavar="LIST", help="tcp, memory [tcp].")
@click.option(
    "--handshakes",
    type=click.IntRange(min=1),
    default=None,
    help="Connections per repeat (bounded by --budget) instead of --duration.",
)
@click.option(
    "--duration",
    type=click.FloatRange(min=0.01),
    default=0.4,
    show_default=True,
    help="Seconds measured per repeat.",
)
@click.option(
    "--bytes",
    "size",
    default="8M",
    show_default=True,
    help="Bulk bytes per connection (capped at 1M for python, 64K for tlslite).",
)
@click.option(
    "--record-size",
    type=click.IntRange(64, 16384),
    default=16384,
    show_default=True,
    help="Bulk: 16384 writes 1 MiB at a time; smaller writes one record of this size each.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Client processes.",
)
@click.option(
    "--server-workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Server processes sharing the port (SO_REUSEPORT).",
)
@click.option(
    "--warmup",
    type=click.FloatRange(min=0),
    default=0.1,
    show_default=True,
    help="Seconds of uncounted connections before each repeat.",
)
@click.option(
    "--repeat",
    type=click.IntRange(1, 100),
    default=3,
    show_default=True,
    help="Repeats, each in fresh processes.",
)
@click.option(
    "--budget",
    type=click.FloatRange(min=0.1),
    default=10.0,
    show_default=True,
    help="Hard cap in seconds on one repeat's measurement.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=10.0,
    show_default=True,
    help="Seconds before a connection counts as timed out.",
)
@click.option("--baseline", default="ssl", show_default=True, help="Label the ratios are against.")
@click.option("--quick", is_flag=True, help="Tiny run: 0.25 s per repeat, 2 repeats, 1 MiB bulk.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Write results JSON.")
@click.option("--markdown", "md_path", type=click.Path(dir_okay=False), help="Write Markdown.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False), help="Write CSV.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), help="Write a PNG plot.")
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False),
    help="Write one self-contained HTML page.",
)
@click.option(
    "--trace",
    "trace_path",
    type=click.Path(dir_okay=False),
    help="With --html: add the ladder of a `tlsbench trace --json` file.",
)
@click.option(
    "--progress/--no-progress", default=None, help="Progress bar [when stderr is a terminal]."
)
@click.option(
    "--metric",
    type=click.Choice(["wall", "instructions"]),
    default="wall",
    show_default=True,
    help="wall: rates over tcp or memory; instructions: per-side instructions per "
    "handshake and per MB under valgrind's callgrind, in memory (docs/benchmarks.md).",
)
@click.option(
    "--ab",
    "ab_base",
    metavar="BASE_PY",
    help="A/B: also run every repeat on the build that BASE_PY imports, interleaved, and "
    "judge this build against it from the paired repeats (docs/ci.md).",
)
@click.option(
    "--ab-new",
    metavar="NEW_PY",
    help="A/B: the new build's interpreter [this tlsbench's].",
)
@click.option(
    "--max-regression",
    type=click.FloatRange(min=0),
    default=None,
    help="A/B: fail when a case is surely slower by more than this many percent.",
)
def run(
    impls: tuple[str, ...],
    clients: tuple[str, ...],
    servers: tuple[str, ...],
    versions: tuple[str, ...],
    suites: tuple[str, ...],
    groups: tuple[str, ...],
    certs: tuple[str, ...],
    workloads: tuple[str, ...],
    resumption: str,
    client_auth: bool,
    transports: tuple[str, ...],
    handshakes: int | None,
    duration: float,
    size: str,
    record_size: int,
    concurrency: int,
    server_workers: int,
    warmup: float,
    repeat: int,
    budget: float,
    timeout: float,
    baseline: str,
    quick: bool,
    json_path: str | None,
    md_path: str | None,
    csv_path: str | None,
    plot_path: str | None,
    html_path: str | None,
    trace_path: str | None,
    progress: bool | None,
    metric: str,
    ab_base: str | None,
    ab_new: str | None,
    max_regression: float | None,
) -> int:
    """Measure handshakes and bulk transfer of every implementation over loopback.

    \b
    With no options: all five implementations, handshake and bulk, x25519, tcp, over
      TLS 1.2 RSA key exchange  TLS_RSA_WITH_AES_128_GCM_SHA256          rsa2048
      TLS 1.2 ECDHE             TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256  ecdsa-p256
      TLS 1.3                   TLS_AES_128_GCM_SHA256                   ecdsa-p256
    shown in that order, handshakes first, then bulk.

    An option narrows only what it names; the rest stays the default. --tls 1.2 keeps
    both TLS 1.2 rows. --cert runs each row with every certificate given that fits it:
    --cert rsa2048 gives RSA key exchange, ECDHE-RSA and TLS 1.3 with RSA-2048;
    --cert ecdsa-p256 gives ECDHE-ECDSA and TLS 1.3 (RSA key exchange needs an RSA
    certificate). --suite replaces the rows of its version, each suite with the
    certificate it needs unless --cert is given.
    """
    from .params import Bounds
    from .results import results_json
    from .runner import Setup, run_cases

    bulk = parse_size(size)
    if quick:
        duration, repeat, warmup, bulk = 0.25, 2, 0.05, min(bulk, 1 << 20)
    chosen_suites = split_list(suites, ALL_SUITES, "suite")
    versions_given = split_list(versions, VERSIONS, "TLS version")
    cases = build_cases(
        impls=split_list(impls, IMPLS + REFERENCES, "implementation"),
        clients=split_list(clients, IMPLS + REFERENCES, "implementation"),
        servers=split_list(servers, IMPLS + REFERENCES, "implementation"),
        versions=versions_given,
        suites=chosen_suites,
        groups=split_list(groups, GROUPS, "group"),
        certs=split_list(certs, CERTS, "certificate kind"),
        workloads=split_list(workloads, ALL_WORKLOADS, "workload"),
        transports=split_list(transports, TRANSPORTS, "transport"),
        bulk_bytes=bulk,
        record_size=record_size,
        resumption=resumption,
        client_auth=client_auth,
    )
    if not cases:
        raise click.UsageError("no case to run: the suites fit none of the certificates")
    bounds = Bounds(handshakes, duration, budget, warmup, timeout)
    config = {
        "impls": list(impls),
        "client_impls": list(clients),
        "server_impls": list(servers),
        "tls": chosen_versions(versions_given, chosen_suites),
        "suites": chosen_suites,
        "groups": list(groups),
        "certs": list(certs),
        "workloads": list(workloads),
        "resumption": resumption,
        "client_auth": client_auth,
        "transports": list(transports),
        "handshakes": handshakes,
        "duration": duration,
        "bytes": bulk,
        "record_size": record_size,
        "concurrency": concurrency,
        "server_workers": server_workers,
        "warmup": warmup,
        "repeat": repeat,
        "budget": budget,
        "timeout": timeout,
        "baseline": baseline,
        "quick": quick,
        "argv": sys.argv[1:],
        "metric": metric,
    }
    show = sys.stderr.isatty() if progress is None else progress
    trace = _load_trace(trace_path, html_path)
    if metric == "instructions":
        if ab_base is not None:
            raise click.UsageError("--metric instructions takes no --ab")
        if client_auth or any(c.workload == "resume" for c in cases):
            raise click.UsageError(
                "--metric instructions measures full handshakes and bulk: no resume "
                "workload, no --client-auth"
            )
        return _run_instructions(
            cases, config, handshakes, baseline, show, (json_path, md_path, csv_path, plot_path),
            html_path, trace,
        )  # fmt: skip
    if html_path and ab_base is not None:
        raise click.UsageError("--html with --ab: save both runs and use tlsbench report --html")
    if ab_base is None and (ab_new or max_regression is not None):
        raise click.UsageError("--ab-new and --max-regression need --ab BASE_PY")
    if ab_base is not None:
        from .ab import run_ab_command

        with tempfile.TemporaryDirectory(prefix="tlsbench-") as tmp:
            setup = Setup(bounds, concurrency, server_workers, handshakes, workdir=Path(tmp))
            return run_ab_command(
                setup, cases, repeat, config, ab_base, ab_new, max_regression,
                json_path, md_path, Progress(show),
            )  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="tlsbench-") as tmp:
        setup = Setup(bounds, concurrency, server_workers, handshakes, workdir=Path(tmp))
        runs = run_cases(setup, cases, repeat, Progress(show))
    data = results_json(config, runs)
    _emit(data, baseline, json_path, md_path, csv_path, plot_path)
    if html_path:
        _write_html(html_path, data, baseline, trace=trace)
    failed = [r for r in runs if r.failed]
    for r in failed:
        click.echo(
            f"tlsbench: case {r.case.label} {r.case.workload} TLS {r.case.tls} failed: {r.failed}",
            err=True,
        )
    return 1 if failed else 0


def _run_instructions(
    cases: list[Any],
    config: dict[str, Any],
    handshakes: int | None,
    baseline: str,
    show: bool,
    paths: tuple[str | None, str | None, str | None, str | None],
    html_path: str | None = None,
    trace: dict[str, Any] | None = None,
) -> int:
    """``run --metric instructions``: every case under callgrind (harness/icount.py)."""
    from .icount import IcountError, run_instructions, valgrind
    from .results import instructions_case_json, instructions_json

    try:
        valgrind()
    except IcountError as exc:
        click.echo(f"tlsbench: {exc}", err=True)
        return 2
    source = click.get_current_context().get_parameter_source("repeat")
    reruns = config["repeat"] if source == click.core.ParameterSource.COMMANDLINE else 1
    config.update(repeat=reruns, transports=["memory"])
    with tempfile.TemporaryDirectory(prefix="tlsbench-") as tmp:
        try:
            measured, seconds = run_instructions(
                cases, Path(tmp), handshakes, reruns, Progress(show)
            )
        except IcountError as exc:
            click.echo(f"tlsbench: {exc}", err=True)
            return 1
    config["seconds"] = round(seconds, 1)
    docs = []
    for outcome, block in measured:
        status = "unsupported" if outcome.unsupported else "failed" if outcome.failed else "ok"
        reason = outcome.unsupported or outcome.failed
        docs.append(instructions_case_json(outcome.case, block, status, reason))
    data = instructions_json(config, docs)
    _emit(data, baseline, *paths)
    if html_path:
        _write_html(html_path, data, baseline, trace=trace)
    failed = [o for o, _ in measured if o.failed]
    for o in failed:
        c = o.case
        click.echo(
            f"tlsbench: case {c.label} {c.workload} TLS {c.tls} failed: {o.failed}", err=True
        )
    return 1 if failed else 0


def _emit(
    data: dict[str, Any],
    baseline: str,
    json_path: str | None,
    md_path: str | None,
    csv_path: str | None,
    plot_path: str | None,
) -> None:
    from . import report
    from .results import save

    click.echo(report.table(data, baseline), nl=False)
    if json_path:
        save(json_path, data)
    if md_path:
        Path(md_path).write_text(report.markdown(data, baseline))
    if csv_path:
        Path(csv_path).write_text(report.to_csv(data))
    if plot_path:
        report.plot(data, plot_path)


def _load_all(files: tuple[str, ...]) -> dict[str, Any]:
    from .results import load

    docs = []
    for f in files:
        try:
            docs.append(load(f))
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
    merged = dict(docs[0])
    merged["cases"] = [c for d in docs for c in d["cases"]]
    return merged


def _load_trace(trace_path: str | None, html_path: str | None) -> dict[str, Any] | None:
    """The ``--trace`` file, checked before anything runs; None without one."""
    if trace_path is None:
        return None
    if not html_path:
        raise click.UsageError("--trace needs --html (the ladder is drawn on the page)")
    from .html import load_trace

    try:
        return load_trace(trace_path)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


def _write_html(
    path: str,
    data: dict[str, Any],
    baseline: str,
    base: dict[str, Any] | None = None,
    trace: dict[str, Any] | None = None,
    max_regression: float | None = None,
) -> None:
    from . import html

    try:
        html.write(
            path, data, baseline=baseline, base=base, trace=trace, max_regression=max_regression
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--baseline", default="ssl", show_default=True)
@click.option("--markdown", "md_path", type=click.Path(dir_okay=False), help="Write Markdown.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False), help="Write CSV.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), help="Write a PNG plot.")
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False),
    help="Write one self-contained HTML page; given BASE NEW of the same cases, with each "
    "case's change and verdict.",
)
@click.option(
    "--trace",
    "trace_path",
    type=click.Path(dir_okay=False),
    help="With --html: add the ladder of a `tlsbench trace --json` file.",
)
@click.option(
    "--max-regression",
    type=click.FloatRange(min=0),
    default=None,
    help="With --html and BASE NEW: the limit (percent) the verdicts judge by, as compare's.",
)
def report(
    files: tuple[str, ...],
    baseline: str,
    md_path: str | None,
    csv_path: str | None,
    plot_path: str | None,
    html_path: str | None,
    trace_path: str | None,
    max_regression: float | None,
) -> None:
    """Re-render saved results (several files are shown as one).

    With --html and two files that measure the same cases, the page shows the second
    (NEW) with each case's change against the first (BASE), as tlsbench compare judges it.
    """
    from .html import same_cases

    trace = _load_trace(trace_path, html_path)
    merged = _load_all(files)
    docs = [_load_all((f,)) for f in files]
    compared = bool(html_path) and len(docs) == 2 and same_cases(docs[0], docs[1])
    if max_regression is not None and not compared:
        raise click.UsageError("--max-regression needs --html and two runs of the same cases")
    _emit(merged, baseline, None, md_path, csv_path, plot_path)
    if html_path and compared:
        _write_html(html_path, docs[1], baseline, docs[0], trace, max_regression)
    elif html_path:
        _write_html(html_path, merged, baseline, None, trace)


@click.command()
@click.argument("base", type=click.Path())
@click.argument("new", type=click.Path())
@click.option(
    "--max-regression",
    type=click.FloatRange(min=0),
    default=None,
    help="Fail when a case is surely worse by more than this many percent (the whole 95% "
    "interval past it) [wall clock: report only; instructions: 1].",
)
@click.option(
    "--require",
    "requires",
    multiple=True,
    metavar="A/B>=X",
    help="Ratio the NEW results must meet, e.g. rust/python>=20 (repeatable).",
)
@click.option(
    "--markdown",
    "md_path",
    type=click.Path(dir_okay=False),
    help="Write the comparison as Markdown.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the bootstrap.")
def compare(
    base: str,
    new: str,
    max_regression: float | None,
    requires: tuple[str, ...],
    md_path: str | None,
    seed: int,
) -> int:
    """Each case of NEW against BASE with its 95% interval; exit 1 on a regression or a
    failed requirement (see docs/ci.md)."""
    from .compare import check, headline, lines, markdown, metric_of, parse_requirement, verdicts

    try:
        reqs = [parse_requirement(r) for r in requires]
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    b, n = _load_all((base,)), _load_all((new,))
    try:
        found = verdicts(b, n, max_regression, seed)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    for line in lines(found, max_regression):
        click.echo(line)
    if md_path:
        Path(md_path).write_text(markdown(found))
    failures = [v for v in found if v.regression]
    ok = not failures
    if reqs:
        if metric_of(n) != "wall":
            raise click.UsageError("--require needs wall-clock results (a rate per case)")
        click.echo("requirements")
    for req in reqs:
        req_lines, good = check(n, req)
        for line in req_lines:
            click.echo(line)
        ok = ok and good
    for v in failures:
        click.echo(f"regression: {headline(v)}", err=True)
    click.echo("compare: " + ("ok" if ok else "FAILED"))
    return 0 if ok else 1


def register(group: click.Group) -> None:
    """Add the harness commands to the ``tlsbench`` group."""
    from .standalone import connect, serve
    from .tools import certs, load, trace

    for command in (run, report, compare, serve, connect, trace, certs, load):
        group.add_command(command)


__all__ = ["OUR_IMPLS", "register"]
