"""``tlsbench run --metric instructions``: instructions per handshake and per MB, per side.

Every case runs in memory (both sides in one thread, ``memory.py``) inside a process
started under valgrind's callgrind (``icount_worker.py``). Each side's calls go through
its own C function of the interpreter and callgrind collects only inside those two
(``--toggle-collect``), so setup, imports and the warm-up connections are never counted
and each side gets exactly the instructions of its own calls. Each case is measured in
``rounds`` rounds (default 5 for handshakes, 3 for bulk; tlslite-ng: 3 and 1):

- handshake: instructions inside the side's gate over a round's ``n`` connections, minus
  ``n`` times the cost of entering the gate (measured per process with empty calls),
  over ``n``;
- bulk: the same for ``n`` connections moving ``bulk_bytes`` each, minus ``n``
  connections moving nothing (``n_subtracted``, with the same random bytes), over the MB
  moved: the transfer alone.

The figure is the median of the rounds' figures, so a rare event inside one round
(OpenSSL renews its RSA blinding every 32 private-key operations: ~4.4 M instructions)
does not move it. The cases sharing an OpenSSL config and workload (``ssl`` reads its
TLS 1.3 suite and group from ``OPENSSL_CONF``) share one valgrind process, two
processes at a time; ``ssl``'s handshakes run in three processes of their own, their
median the figure (:data:`PROCESSES`). The counts are checked: callgrind's call counts
of the gates must equal the calls made, and the two sides must add up to everything
collected.

Each process runs under ``setarch -R`` where that works, starts uninstrumented and is
instrumented (through vgdb) only for a case's measured part, and every run uses the
same kept certificates (:func:`kept_credentials`).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from .params import Case, Tls, kx_label

CLIENT_GATE = "_operator_call"
SERVER_GATE = "context_run"
MARKER = "sys_getswitchinterval"
INSTALL_HINT = "--metric instructions needs valgrind: apt-get install valgrind"
VGDB_ENV = "TLSBENCH_ICOUNT_VGDB"
"""The worker's variable for vgdb's path (``icount_worker.VGDB_ENV``)."""

HANDSHAKE_OPS = {"rust": 6, "cryptography": 6, "ssl": 6, "python": 2, "tlslite": 1}
"""Connections per round of a handshake case (a mixed pair takes the smaller)."""
RSA_KX_HANDSHAKE_OPS = {"rust": 32, "cryptography": 32, "ssl": 32, "python": 32, "tlslite": 1}
"""The same for TLS 1.2 RSA key exchange, whose client draws randomness no seed pins:
OpenSSL's PKCS#1 v1.5 padding (3,148 instructions per zero byte drawn again, and the
heap state those draws leave), and with it a random ClientKeyExchange that the rest of
the handshake hashes and, on ``python``, encrypts in pure Python (whose integer
arithmetic costs depend on the values). 32 connections average that out to 0.1% over
reruns, and 32 is OpenSSL's RSA blinding period, so every round holds exactly one
renewal of the server's blinding (~4.3 M instructions) and the median cannot pick
rounds with and without one. tlslite-ng draws only pinned randomness."""
BULK_OPS = {"rust": 1, "cryptography": 1, "ssl": 1, "python": 1, "tlslite": 1}
"""Connections per round of a bulk case (and as many moving nothing)."""
BULK_BYTES = {"rust": 4 << 20, "cryptography": 4 << 20, "ssl": 4 << 20, "python": 32 << 10}
BULK_BYTES["tlslite"] = 4 << 10
"""Bytes per bulk connection under valgrind, at most (``--bytes`` may ask for fewer).

4 MiB for the fast implementations dilutes the handshake noise that the zero-byte
subtraction leaves in the per-MB figure (RSA key exchange: PKCS#1 v1.5 padding draws a
variable number of random bytes) four times against 1 MiB."""
HANDSHAKE_ROUNDS = {"rust": 5, "cryptography": 5, "ssl": 5, "python": 5, "tlslite": 3}
"""Rounds of ``n`` measured connections per handshake case (a mixed pair takes the
smaller); the figure is the median of the rounds' figures."""
BULK_ROUNDS = {"rust": 3, "cryptography": 3, "ssl": 3, "python": 3, "tlslite": 1}
"""Rounds per bulk case: ``n`` connections moving ``bulk_bytes`` minus ``n`` moving none
(tlslite-ng: one, for the time budget; all its randomness is pinned, it repeats exactly)."""
PROCESSES = {"ssl": 3}
"""Processes per rerun of a handshake case (a mixed pair takes the larger; default 1),
each its own: the figure is the median of theirs, per side. ``ssl``'s randomness is
OpenSSL's own (its DRBG inside libssl: the RSA-kx client's padding and premaster
secret, the TLS 1.3 server's ECDSA nonces and key shares), which nothing in Python can
seed: one process of its RSA-kx client sat 0.15% below the others, every round alike,
and its TLS 1.3 server's rounds wander by 0.08%. The median of three processes leaves
one such process out (docs/benchmarks.md)."""
WARMUP = {"rust": 2, "cryptography": 2, "ssl": 2, "python": 1, "tlslite": 1}
"""Uncounted connections per handshake case before the counted ones (bulk: one, moving
``bulk_bytes``: the zero-byte connections' path is part of it)."""
PARALLEL = 2
"""valgrind processes at a time."""
TIMEOUT = 900.0
"""Seconds one valgrind process may take."""


class IcountError(Exception):
    """Instruction counting cannot run or its counts do not add up (the message says why)."""


def valgrind() -> tuple[str, str]:
    """The valgrind executable and its version (``valgrind-3.19.0``); IcountError if missing."""
    path = shutil.which("valgrind")
    if path is None:
        raise IcountError(INSTALL_HINT)
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        raise IcountError(f"valgrind does not run ({exc}): apt-get install valgrind") from None
    return path, out.stdout.strip() or "valgrind"


@dataclasses.dataclass
class Job:
    """One case as the worker gets it, and the OpenSSL config its process needs."""

    case: Case
    tls: Tls
    ops: int
    conf: str
    rounds: int = 1
    processes: int = 1

    def to_json(self) -> dict[str, Any]:
        """What the worker reads."""
        return {
            "case": dataclasses.asdict(self.case),
            "tls": dataclasses.asdict(self.tls),
            "ops": self.ops,
            "rounds": self.rounds,
            "warmup": 1
            if self.case.workload == "bulk"
            else min(WARMUP.get(self.case.client_impl, 1), WARMUP.get(self.case.server_impl, 1)),
        }


def icount_case(case: Case) -> Case:
    """The case as measured: in memory, its bulk bytes capped for valgrind."""
    size = case.bulk_bytes
    for impl in (case.client_impl, case.server_impl):
        size = min(size, BULK_BYTES.get(impl, size))
    return dataclasses.replace(case, transport="memory", bulk_bytes=size)


def case_rounds(case: Case) -> int:
    """Rounds of measured connections for ``case``."""
    table = BULK_ROUNDS if case.workload == "bulk" else HANDSHAKE_ROUNDS
    return min(table.get(case.client_impl, 3), table.get(case.server_impl, 3))


def case_processes(case: Case) -> int:
    """Processes per rerun of ``case``: :data:`PROCESSES` for handshakes, else one."""
    if case.workload == "bulk":
        return 1
    return max(PROCESSES.get(case.client_impl, 1), PROCESSES.get(case.server_impl, 1))


def case_ops(case: Case, override: int | None) -> int:
    """Connections to measure: ``override`` (``--handshakes``) or the per-impl table."""
    if override is not None:
        return override
    if case.workload == "bulk":
        table = BULK_OPS
    else:
        table = RSA_KX_HANDSHAKE_OPS if kx_label(case.suite) == "rsa" else HANDSHAKE_OPS
    return min(table.get(case.client_impl, 2), table.get(case.server_impl, 2))


# -- callgrind's output ---------------------------------------------------------------------


@dataclasses.dataclass
class Part:
    """What one callgrind dump says about the two gates."""

    total: int
    client: int
    server: int
    client_calls: int
    server_calls: int


def read_part(path: Path) -> Part:
    """Inclusive cost and calls of the two gates in one callgrind output file."""
    names: dict[str, str] = {}
    own: dict[str, int] = {}
    called: dict[str, int] = {}
    calls: dict[str, int] = {}
    fn = cfn = ""
    pending = False
    total = 0
    with open(path) as f:
        for line in f:
            head = line[:1]
            if head.isdigit() or head in "+-*":
                fields = line.split()
                cost = int(fields[1]) if len(fields) > 1 else 0
                if pending:
                    called[fn] = called.get(fn, 0) + cost
                    pending = False
                else:
                    own[fn] = own.get(fn, 0) + cost
            elif line.startswith(("fn=", "cfn=")):
                key, _, rest = line.partition("=")
                ident, _, name = rest.strip().partition(" ")
                if name:
                    names[name] = ident
                if key == "fn":
                    fn = ident
                else:
                    cfn = ident
            elif line.startswith("calls="):
                pending = True
                calls[cfn] = calls.get(cfn, 0) + int(line[6:].split()[0])
            elif line.startswith("summary:"):
                total = int(line.split()[1])

    def inclusive(name: str) -> tuple[int, int]:
        ident = names.get(name)
        if ident is None:
            return 0, 0
        return own.get(ident, 0) + called.get(ident, 0), calls.get(ident, 0)

    client, client_calls = inclusive(CLIENT_GATE)
    server, server_calls = inclusive(SERVER_GATE)
    return Part(total, client, server, client_calls, server_calls)


def _check(part: Part, segment: dict[str, Any], where: str) -> None:
    """The gates were entered exactly as often as the worker says, and nothing else counted."""
    want = (segment["client_calls"], segment["server_calls"])
    if (part.client_calls, part.server_calls) != want:
        raise IcountError(
            f"{where}: callgrind saw {part.client_calls}/{part.server_calls} client/server "
            f"gate calls, the worker made {want[0]}/{want[1]} (something else calls "
            f"{CLIENT_GATE} or {SERVER_GATE})"
        )
    if part.client + part.server != part.total:
        raise IcountError(
            f"{where}: the sides add up to {part.client + part.server} of {part.total} "
            "instructions collected (the gates nest?)"
        )


def per_round(
    case: Case, segments: list[dict[str, Any]], parts: dict[int, Part], where: str
) -> list[tuple[float, float]]:
    """Client and server instructions per connection (bulk: per MB moved), each round's."""
    cal_segment = next(s for s in segments if s["kind"] == "calibrate")
    cal = parts[cal_segment["part"]]
    entry_client = cal.client / max(cal.client_calls, 1)
    entry_server = cal.server / max(cal.server_calls, 1)

    def net(segment: dict[str, Any]) -> tuple[float, float]:
        part = parts[segment["part"]]
        _check(part, segment, f"{where} ({segment['kind']} {segment.get('round', 0)})")
        return (
            part.client - entry_client * part.client_calls,
            part.server - entry_server * part.server_calls,
        )

    rounds: dict[int, dict[str, dict[str, Any]]] = {}
    for s in segments:
        if s["kind"] != "calibrate":
            rounds.setdefault(s.get("round", 0), {})[s["kind"]] = s
    out = []
    for _, kinds in sorted(rounds.items()):
        main = kinds["main"]
        client, server = net(main)
        if case.workload != "bulk":
            out.append((client / main["ops"], server / main["ops"]))
            continue
        zero_client, zero_server = net(kinds["zero"])
        mb = main["ops"] * case.bulk_bytes / 1e6
        out.append(((client - zero_client) / mb, (server - zero_server) / mb))
    return out


def per_side(rounds: list[tuple[float, float]]) -> tuple[float, float]:
    """The median of the rounds' figures, per side: one odd round cannot move it."""
    return (
        statistics.median(r[0] for r in rounds),
        statistics.median(r[1] for r in rounds),
    )


# -- running --------------------------------------------------------------------------------


@dataclasses.dataclass
class Outcome:
    """One case's result: per-side counts (averaged over reruns) or why there are none."""

    case: Case
    ops: int
    client: float = 0.0
    server: float = 0.0
    reruns: int = 0
    unsupported: str = ""
    failed: str = ""
    rounds: int = 1
    processes: int = 1
    samples: list[tuple[float, float]] = dataclasses.field(default_factory=list)
    """Each rerun's per-side figures (the median of its rounds; with several processes,
    the median of theirs)."""
    round_samples: list[list[tuple[float, float]]] = dataclasses.field(default_factory=list)
    """Each process's rounds' figures, reruns in order."""
    by_rerun: dict[int, list[tuple[float, float]]] = dataclasses.field(default_factory=dict)
    """Each rerun's processes' per-side figures, as they come in."""
    collections: int = 0
    """Collector runs inside measured segments, all reruns (0: the collector was off)."""


def _vgdb(tool: str) -> str | None:
    """vgdb beside valgrind (it switches instrumentation on for the measured part)."""
    return shutil.which("vgdb", path=os.path.dirname(tool)) or shutil.which("vgdb")


def _no_aslr() -> list[str]:
    """``setarch -R``, where it works: the same addresses in every rerun.

    With address randomisation the same build's counts moved by up to 0.3% between
    processes (the interpreter hashes some objects by address, and copies take other
    paths at other alignments); without, they repeat (docs/benchmarks.md). Where the
    personality call is refused (some containers), nothing: the counts still agree to
    about that much."""
    setarch = shutil.which("setarch")
    if setarch is None:
        return []
    try:
        done = subprocess.run([setarch, "-R", "true"], capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return []
    return [setarch, "-R"] if done.returncode == 0 else []


def _command(tool: str, out: Path, jobs: Path, result: Path) -> list[str]:
    return [
        *_no_aslr(),
        tool,
        "--tool=callgrind",
        "-q",
        *(["--instr-atstart=no"] if _vgdb(tool) else []),
        "--collect-atstart=no",
        f"--toggle-collect={CLIENT_GATE}",
        f"--toggle-collect={SERVER_GATE}",
        f"--dump-before={MARKER}",
        f"--callgrind-out-file={out}",
        sys.executable,
        "-m",
        "tlsbench.harness.icount_worker",
        str(jobs),
        str(result),
    ]


def run_group(tool: str, jobs: list[Job], workdir: Path, tag: str) -> list[dict[str, Any]]:
    """One valgrind process for ``jobs``: each case's per-side counts or its failure."""
    workdir.mkdir(parents=True, exist_ok=True)
    jobs_file, result_file = workdir / f"{tag}-jobs.json", workdir / f"{tag}-result.json"
    conf = workdir / f"{tag}-openssl.cnf"
    conf.write_text(jobs[0].conf)
    jobs_file.write_text(json.dumps([j.to_json() for j in jobs]))
    out = workdir / f"{tag}.callgrind"
    env = dict(os.environ)
    env["OPENSSL_CONF"] = str(conf)
    env["PYTHONHASHSEED"] = "0"
    env.pop(VGDB_ENV, None)
    vgdb = _vgdb(tool)
    if vgdb:
        env[VGDB_ENV] = vgdb
    env["PYTHONPATH"] = (
        str(Path(__file__).resolve().parents[2]) + os.pathsep + env.get("PYTHONPATH", "")
    )
    proc = subprocess.Popen(
        _command(tool, out, jobs_file, result_file),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _, err = proc.communicate(timeout=TIMEOUT)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    results: list[dict[str, Any]] = []
    if result_file.exists():
        results = json.loads(result_file.read_text())
    if proc.returncode != 0 or len(results) < len(jobs):
        last = (err.strip().splitlines() or ["no message"])[-1]
        why = f"the callgrind process exited with {proc.returncode}: {last}"
        results += [{"error": why, "segments": []}] * (len(jobs) - len(results))
    parts: dict[int, Part] = {}
    for path in workdir.glob(f"{tag}.callgrind.*"):
        suffix = path.name.rsplit(".", 1)[1]
        if suffix.isdigit():
            parts[int(suffix)] = read_part(path)
    counted = []
    for job, res in zip(jobs, results, strict=False):
        entry: dict[str, Any] = {"unsupported": res.get("unsupported", "")}
        entry["error"] = res.get("error", "")
        if res.get("segments"):
            wanted = [s["part"] for s in res["segments"]]
            if any(p not in parts for p in wanted):
                raise IcountError(
                    f"callgrind wrote no dump at {MARKER}: this Python's binary "
                    f"({sys.executable}) has no symbols for {CLIENT_GATE}/{SERVER_GATE}/{MARKER}"
                )
            where = f"{job.case.label} {job.case.workload} TLS {job.case.tls}"
            entry["rounds"] = per_round(job.case, res["segments"], parts, where)
            entry["sides"] = per_side(entry["rounds"])
            entry["collections"] = sum(s.get("collections", 0) for s in res["segments"])
        counted.append(entry)
    for path in workdir.glob(f"{tag}.callgrind*"):
        path.unlink()
    return counted


def groups_of(jobs: list[Job]) -> list[list[Job]]:
    """Jobs by OpenSSL config, workload and processes per rerun, bulk first (the longer
    processes start first, so the two at a time end about together); first-seen order
    otherwise."""
    out: dict[tuple[str, str, int], list[Job]] = {}
    for job in jobs:
        out.setdefault((job.conf, job.case.workload, job.processes), []).append(job)
    return [g for key, g in out.items() if key[1] == "bulk"] + [
        g for key, g in out.items() if key[1] != "bulk"
    ]


def measure(
    tool: str,
    jobs: list[Job],
    workdir: Path,
    reruns: int = 1,
    progress: Callable[[int, int, str], None] | None = None,
) -> list[Outcome]:
    """Run every job ``reruns`` times (fresh processes, ``job.processes`` of them a rerun:
    their median); counts averaged over the reruns."""
    outcomes = {id(j): Outcome(j.case, j.ops, rounds=j.rounds, processes=j.processes) for j in jobs}
    groups = groups_of(jobs)
    tasks = [
        (r, i, p, g)
        for r in range(reruns)
        for i, g in enumerate(groups)
        for p in range(g[0].processes)
    ]
    done = [0]

    def one(task: tuple[int, int, int, list[Job]]) -> None:
        rerun, index, process, group = task
        counted = run_group(tool, group, workdir / f"r{rerun}", f"g{index}p{process}")
        for job, entry in zip(group, counted, strict=True):
            o = outcomes[id(job)]
            if entry["unsupported"]:
                o.unsupported = entry["unsupported"]
            elif entry["error"]:
                o.failed = entry["error"]
            else:
                o.by_rerun.setdefault(rerun, []).append(entry["sides"])
                o.round_samples.append(entry["rounds"])
                o.collections += entry["collections"]
        done[0] += 1
        if progress is not None:
            progress(done[0], len(tasks), group[0].case.label)

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        for future in [pool.submit(one, t) for t in tasks]:
            future.result()
    for o in outcomes.values():
        for _, sides in sorted(o.by_rerun.items()):
            o.samples.append(
                (statistics.median(c for c, _ in sides), statistics.median(s for _, s in sides))
            )
        if o.samples and not (o.failed or o.unsupported):
            o.reruns = len(o.samples)
            o.client = sum(s[0] for s in o.samples) / o.reruns
            o.server = sum(s[1] for s in o.samples) / o.reruns
    return [outcomes[id(j)] for j in jobs]


def block(outcome: Outcome, version: str) -> dict[str, Any]:
    """The ``instructions`` object of a case in the results JSON."""
    bulk = outcome.case.workload == "bulk"
    return {
        "tool": "callgrind",
        "valgrind": version,
        "unit": "instructions/MB" if bulk else "instructions/handshake",
        "n": outcome.ops,
        "n_subtracted": outcome.ops if bulk else 0,
        "rounds": outcome.rounds,
        "processes": outcome.processes,
        "client": outcome.client,
        "server": outcome.server,
        "reruns": outcome.reruns,
    }


CREDENTIALS_ENV = "TLSBENCH_ICOUNT_CREDENTIALS"
"""Where the instruction counts keep their certificates (default: the user's cache)."""


def credentials_dir() -> Path:
    """``$TLSBENCH_ICOUNT_CREDENTIALS``, else ``$XDG_CACHE_HOME`` (``~/.cache``)
    ``/tlsbench/icount-credentials``."""
    if os.environ.get(CREDENTIALS_ENV):
        return Path(os.environ[CREDENTIALS_ENV])
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "tlsbench" / "icount-credentials"


def kept_credentials(cert: str, workdir: Path) -> Any:
    """The CA, leaf and key files of ``cert``, the same in every run on this machine.

    RSA costs depend on the key (OpenSSL's big-number code): between two runs with fresh
    rsa2048 credentials the client's certificate check alone differed by ~5 K
    instructions a handshake (0.3%), so the counts keep one set per kind, made on first
    use and again when the leaf has less than 30 days left. Where the directory cannot
    be written, fresh ones in ``workdir``."""
    import datetime

    from cryptography import x509

    from tlsbench.tls.certs import CredentialFiles, write_credentials

    home = credentials_dir() / cert
    files = CredentialFiles(
        home / f"{cert}-ca.pem", home / f"{cert}-cert.pem", home / f"{cert}-key.pem"
    )
    soon = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=30)
    try:
        leaf = x509.load_pem_x509_certificate(files.cert_file.read_bytes())
        if leaf.not_valid_after_utc > soon and files.key_file.is_file() and files.ca_file.is_file():
            return files
    except (OSError, ValueError):
        pass
    fresh = home.parent / f".{cert}-{os.getpid()}"
    try:
        write_credentials(fresh, cert)  # type: ignore[arg-type]
        shutil.rmtree(home, ignore_errors=True)  # expired or incomplete
    except OSError:
        return write_credentials(workdir, cert)  # type: ignore[arg-type]
    try:
        fresh.rename(home)  # the set as a whole
    except OSError:
        shutil.rmtree(fresh, ignore_errors=True)  # a concurrent run's set came first
    return files


def run_instructions(
    cases: list[Case],
    workdir: Path,
    ops: int | None,
    reruns: int,
    progress: Callable[[int, int, str], None] | None = None,
) -> tuple[list[tuple[Outcome, dict[str, Any] | None]], float]:
    """Measure ``cases``; per case its outcome and instructions block, and the seconds taken."""
    from .impls import openssl_conf

    tool, version = valgrind()
    start = time.monotonic()
    creds: dict[str, Tls] = {}
    jobs = []
    for case in cases:
        measured = icount_case(case)
        if measured.cert not in creds:
            files = kept_credentials(measured.cert, workdir)
            creds[measured.cert] = Tls(
                "", "", "", measured.cert, str(files.ca_file), str(files.cert_file),
                str(files.key_file),
            )  # fmt: skip
        c = creds[measured.cert]
        tls = Tls(
            measured.tls, measured.suite, measured.group, measured.cert,
            c.ca_file, c.cert_file, c.key_file,
        )  # fmt: skip
        jobs.append(
            Job(
                measured,
                tls,
                case_ops(measured, ops),
                openssl_conf(tls),
                rounds=case_rounds(measured),
                processes=case_processes(measured),
            )
        )
    outcomes = measure(tool, jobs, workdir, reruns, progress)
    out = [(o, block(o, version) if o.reruns else None) for o in outcomes]
    return out, time.monotonic() - start


# -- rendering ------------------------------------------------------------------------------


def _side_ratio(case: dict[str, Any], group: list[dict[str, Any]], baseline: str) -> str:
    base = [c for c in group if c["label"] == baseline and c.get("instructions")]
    mine = case.get("instructions")
    if not base or not mine:
        return ""
    b = base[0]["instructions"]
    if not b["client"] or not b["server"]:
        return ""
    return f"{mine['client'] / b['client']:.2f}|{mine['server'] / b['server']:.2f}"


def _bytes_note(case: dict[str, Any], first: dict[str, Any]) -> str:
    """The bytes per connection of a bulk case that moved fewer than the section title says."""
    size = case.get("bulk_bytes", 0)
    return f"{size >> 10} KiB per connection" if size != first.get("bulk_bytes", 0) else ""


def _n_cell(ins: dict[str, Any]) -> str:
    """Connections counted: ``n`` per round times the rounds (``6x5``), times the
    processes when there are several (``6x5x3``)."""
    rounds, processes = int(ins.get("rounds", 1)), int(ins.get("processes", 1))
    cell = str(ins["n"]) if rounds == 1 else f"{ins['n']}x{rounds}"
    return cell if processes == 1 else f"{cell}x{processes}"


HEADER = ("impl (client:server)", "client M", "server M", "ratio c|s", "n", "note")


def rows(group: list[dict[str, Any]], baseline: str) -> list[list[str]]:
    """Cells per case of one scenario: instructions per op per side and the ratios."""
    out = []
    for c in group:
        ins = c.get("instructions")
        if c["status"] != "ok" or not ins:
            out.append([c["label"], "-", "-", "", "0", f"{c['status']}: {c['reason']}"])
            continue
        out.append(
            [
                c["label"],
                f"{ins['client'] / 1e6:.3f}",
                f"{ins['server'] / 1e6:.3f}",
                _side_ratio(c, group, baseline),
                _n_cell(ins),
                _bytes_note(c, group[0]),
            ]
        )
    return out


def is_instructions(data: dict[str, Any]) -> bool:
    """Whether a results document is an instructions run."""
    return bool(data.get("config", {}).get("metric") == "instructions")


def table(data: dict[str, Any], baseline: str = "ssl") -> str:
    """The terminal table of an instructions run."""
    from .report import grouped, scenario_title

    lines = []
    for group in grouped(data["cases"]):
        unit = "per MB" if group[0]["workload"] == "bulk" else "per handshake"
        lines.append(f"{scenario_title(group[0])} | instructions {unit}")
        body = [list(HEADER), *rows(group, baseline)]
        widths = [max(len(row[i]) for row in body) for i in range(len(HEADER) - 1)]
        for row in body:
            cells = [cell.ljust(w) for cell, w in zip(row, widths, strict=False)]
            lines.append("  " + "  ".join(cells) + "  " + row[-1])
        lines.append("")
    version = next(
        (c["instructions"]["valgrind"] for c in data["cases"] if c.get("instructions")), "valgrind"
    )
    lines.append(
        f"instructions run ({version} callgrind, in memory): millions of instructions per "
        f"handshake (bulk: per MB) on each side; ratio: against {baseline} per side "
        "(above 1: more instructions); n: connections counted, per round x rounds [x "
        "processes] (the figure is the rounds' median [the processes' median of those])"
    )
    return "\n".join(lines).rstrip() + "\n"


def markdown(data: dict[str, Any], baseline: str = "ssl") -> str:
    """The same as Markdown."""
    from .report import grouped, scenario_title

    out = ["## tlsbench instruction counts", ""]
    for group in grouped(data["cases"]):
        out += [f"### {scenario_title(group[0])}", ""]
        out.append("| " + " | ".join(h.replace("|", "\\|") for h in HEADER) + " |")
        out.append("|" + "---|" * len(HEADER))
        for row in rows(group, baseline):
            out.append("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |")
        out.append("")
    out.append(
        f"Millions of instructions per handshake (bulk: per MB) per side under callgrind; "
        f"ratios against `{baseline}`; n: connections per round x rounds [x processes], the "
        "figure the rounds' median [the processes' median of those]."
    )
    return "\n".join(out) + "\n"


CSV_FIELDS = (
    "label",
    "client_impl",
    "server_impl",
    "workload",
    "tls",
    "suite",
    "group",
    "cert",
    "bulk_bytes",
    "unit",
    "client",
    "server",
    "n",
    "n_subtracted",
    "reruns",
    "status",
)


def to_csv(data: dict[str, Any]) -> str:
    """One row per case of an instructions run."""
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_FIELDS)
    for c in data["cases"]:
        ins = c.get("instructions") or {}
        writer.writerow(
            [c.get(k, "") for k in CSV_FIELDS[:9]]
            + [ins.get(k, "") for k in ("unit", "client", "server", "n", "n_subtracted", "reruns")]
            + [c["status"]]
        )
    return buf.getvalue()


def plot(data: dict[str, Any], path: str) -> None:
    """PNG: client and server instructions per op, one panel per scenario."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .report import grouped, scenario_title

    groups = [[c for c in g if c.get("instructions")] for g in grouped(data["cases"])]
    groups = [g for g in groups if g]
    fig, axes = plt.subplots(
        max(len(groups), 1), 1, figsize=(10, 2.6 * max(len(groups), 1)), squeeze=False
    )
    for ax, group in zip(axes[:, 0], groups, strict=False):
        labels = [c["label"] for c in group]
        client = [c["instructions"]["client"] / 1e6 for c in group]
        server = [c["instructions"]["server"] / 1e6 for c in group]
        ax.barh(labels, client, label="client")
        ax.barh(labels, server, left=client, label="server")
        ax.set_xlabel("M " + group[0]["instructions"]["unit"])
        ax.set_title(scenario_title(group[0]), fontsize=8)
        ax.invert_yaxis()
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
