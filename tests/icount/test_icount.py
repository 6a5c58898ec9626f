"""``--metric instructions``: real callgrind runs, the parser, the CLI around them."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from tlsbench.cli import main as cli
from tlsbench.harness import icount
from tlsbench.harness.params import Case

CASE = Case(
    "rust", "rust", "1.3", "TLS_AES_128_GCM_SHA256", "x25519", "ecdsa-p256", "handshake", "memory"
)
OPS = 5
HANDICAP = 290  # about +5% client instructions on this case (docs/benchmarks.md)


def _valgrind() -> None:
    if shutil.which("valgrind") is None:
        pytest.fail("valgrind is needed for these tests: apt-get install valgrind")


def _counts(tmp: Path, reruns: int) -> list[tuple[float, float]]:
    measured, _ = icount.run_instructions([CASE], tmp, OPS, reruns)
    outcome, block = measured[0]
    assert not outcome.failed and not outcome.unsupported, outcome.failed or outcome.unsupported
    assert block is not None and block["n"] == OPS and block["reruns"] == reruns
    return outcome.samples


def test_counts_per_side_are_positive_repeatable_and_see_the_handicap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _valgrind()
    (c1, s1), (c2, s2) = _counts(tmp_path / "a", reruns=2)
    assert c1 > 1e6 and s1 > 1e6  # a TLS 1.3 handshake is millions of instructions a side
    # two processes of one build: a whole process can still shift by up to ~0.3% (another
    # heap layout, cause not found: docs/benchmarks.md "Instruction counts")
    assert abs(c1 - c2) / c1 < 0.003, (c1, c2)
    assert abs(s1 - s2) / s1 < 0.003, (s1, s2)
    monkeypatch.setenv("TLSBENCH_TEST_HANDICAP", str(HANDICAP))
    [(ch, sh)] = _counts(tmp_path / "b", reruns=1)
    assert ch > c1 * 1.01, (ch, c1)  # the handicap is the client's work...
    # ...and not the server's: it moved 0.03% with the handicap, but the handicap's run
    # is another process, and a process can shift by up to ~0.3% (0.11% seen here on a
    # frozen build); both far below what the client gained (+6%).
    assert abs(sh - s1) / s1 < 0.004, (sh, s1)
    assert abs(sh - s1) < 0.05 * (ch - c1), (sh, s1, ch, c1)


def _segments(
    kinds: list[tuple[str, int, int]],
) -> tuple[list[dict[str, object]], dict[int, icount.Part]]:
    """Worker segments and callgrind parts: calibration (100 instructions a call), then
    ``(kind, round, client instructions)`` per segment, 2 connections of 2 calls a side."""
    segments: list[dict[str, object]] = [
        {"kind": "calibrate", "part": 1, "client_calls": 4, "server_calls": 4}
    ]
    parts = {1: icount.Part(800, 400, 400, 4, 4)}
    for i, (kind, round_, client) in enumerate(kinds, start=2):
        segments.append(
            {"kind": kind, "round": round_, "part": i, "ops": 2, "client_calls": 4,
             "server_calls": 4}
        )  # fmt: skip
        parts[i] = icount.Part(client + 1400, client, 1400, 4, 4)
    return segments, parts


def test_the_figure_is_the_median_of_the_rounds_so_one_odd_round_does_not_move_it() -> None:
    rounds = [1000400, 1000400, 1900400, 1000600, 1000200]  # round 2: a one-off event
    segments, parts = _segments([("main", r, c) for r, c in enumerate(rounds)])
    figures = icount.per_round(CASE, segments, parts, "test")
    assert figures == [(500000, 500), (500000, 500), (950000, 500), (500100, 500), (499900, 500)]
    assert icount.per_side(figures) == (500000, 500)


def test_bulk_rounds_subtract_their_own_zero_byte_segment() -> None:
    bulk = dataclasses.replace(CASE, workload="bulk", bulk_bytes=500_000)
    kinds = [("main", 0, 3_000_400), ("zero", 0, 1_000_400)]
    kinds += [("main", 1, 3_100_400), ("zero", 1, 1_100_400)]  # a dearer round, both segments
    kinds += [("main", 2, 9_000_400), ("zero", 2, 1_000_400)]
    segments, parts = _segments(kinds)
    figures = icount.per_round(bulk, segments, parts, "test")
    assert [c for c, _ in figures] == [2e6, 2e6, 8e6]  # per MB: 2 connections of 0.5 MB
    assert icount.per_side(figures)[0] == 2e6


def test_rsa_key_exchange_handshakes_count_rounds_of_32() -> None:
    """RSA-kx handshakes: 32 a round (OpenSSL's blinding period) but tlslite's 1; the
    other handshakes keep their tables, and ``--handshakes`` overrides every one."""
    rsa = dataclasses.replace(
        CASE, tls="1.2", suite="TLS_RSA_WITH_AES_128_GCM_SHA256", cert="rsa2048"
    )
    assert icount.case_ops(rsa, None) == 32
    assert icount.case_ops(dataclasses.replace(rsa, server_impl="tlslite"), None) == 1
    assert icount.case_ops(CASE, None) == icount.HANDSHAKE_OPS["rust"] == 6
    assert icount.case_ops(rsa, 5) == 5


def test_ssl_handshakes_take_the_median_of_three_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OpenSSL's own randomness can shift one whole ``ssl`` process: three processes a
    rerun, each case's figure their median per side; other cases one process, apart."""
    ssl = dataclasses.replace(CASE, client_impl="ssl", server_impl="ssl")
    bulk = dataclasses.replace(ssl, workload="bulk")
    tls = icount.Tls("1.3", CASE.suite, CASE.group, CASE.cert, "", "", "")
    jobs = [icount.Job(c, tls, 6, "conf", 5, icount.case_processes(c)) for c in (CASE, ssl, bulk)]
    assert [j.processes for j in jobs] == [3 if j.case is ssl else 1 for j in jobs]
    figures = iter([(101.0, 50.0), (99.0, 52.0), (140.0, 51.0), (100.0, 60.0)] * 2)
    calls: list[tuple[str, list[str]]] = []

    def fake(tool: str, group: list[icount.Job], workdir: Path, tag: str) -> list[dict]:
        calls.append((tag, [j.case.label + j.case.workload for j in group]))
        out = []
        for _ in group:
            sides = next(figures) if group[0].processes == 3 else (7.0, 8.0)
            out.append({"unsupported": "", "error": "", "sides": sides, "rounds": [sides],
                        "collections": 0})  # fmt: skip
        return out

    monkeypatch.setattr(icount, "run_group", fake)
    monkeypatch.setattr(icount, "PARALLEL", 1)  # the fake's figures in task order
    rust, ssl_out, bulk_out = icount.measure("valgrind", jobs, tmp_path, reruns=2)
    # each rerun: the rust case alone, ssl's handshake in three processes, bulk alone
    assert sorted(calls) == sorted(
        [(f"g{i}p{p}", [name]) for _ in range(2)
         for i, name, procs in [(0, "sslbulk", 1), (1, "rusthandshake", 1), (2, "sslhandshake", 3)]
         for p in range(procs)]
    )  # fmt: skip
    assert rust.samples == [(7.0, 8.0)] * 2 and bulk_out.samples == [(7.0, 8.0)] * 2
    # rerun 0: (101, 50), (99, 52), (140, 51) -> 101 | 51; rerun 1: (100, 60), (101, 50),
    # (99, 52) -> 100 | 52; the figure averages the reruns' medians
    assert ssl_out.samples == [(101.0, 51.0), (100.0, 52.0)]
    assert (ssl_out.client, ssl_out.server, ssl_out.processes) == (100.5, 51.5, 3)
    assert len(ssl_out.round_samples) == 6
    assert icount.block(ssl_out, "v")["processes"] == 3
    assert icount._n_cell(icount.block(ssl_out, "v")) == "6x5x3"


def test_read_part_sums_inclusive_cost_of_the_gates(tmp_path: Path) -> None:
    out = tmp_path / "cg.out.3"
    out.write_text(
        "events: Ir\nsummary: 175\n\n"
        "fn=(1) caller\n0 5\ncfn=(2) _operator_call\ncalls=2 0\n0 100\n"
        "fn=(2)\n0 30\ncfn=(4) work\ncalls=1 0\n+2 70\n"
        "fn=(3) context_run\n0 75\n"
        "fn=(1)\ncfn=(3)\ncalls=3 0\n0 75\n"
    )
    part = icount.read_part(out)
    assert (part.total, part.client, part.server) == (175, 100, 75)
    assert (part.client_calls, part.server_calls) == (2, 3)


def test_missing_valgrind_is_one_line_and_exit_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    result = CliRunner().invoke(
        cli, ["run", "--metric", "instructions", "--impl", "rust", "--tls", "1.3"]
    )
    assert result.exit_code == 2, result.output
    assert result.output.strip() == f"tlsbench: {icount.INSTALL_HINT}"


def _doc(client: float, server: float) -> dict[str, object]:
    from tlsbench.harness.results import instructions_case_json

    block = {
        "tool": "callgrind",
        "valgrind": "valgrind-3.19.0",
        "unit": "instructions/handshake",
        "n": 20,
        "n_subtracted": 0,
        "rounds": 5,
        "client": client,
        "server": server,
        "reruns": 1,
    }
    cases = [
        instructions_case_json(CASE, block, "ok", ""),
        instructions_case_json(
            Case("ssl", "ssl", *CASE.key()[2:8]), dict(block, client=2e6, server=4e6), "ok", ""
        ),
    ]
    return {"schema": 1, "environment": {}, "config": {"metric": "instructions"}, "cases": cases}


def test_report_renders_an_instructions_file(tmp_path: Path) -> None:
    path = tmp_path / "ic.json"
    path.write_text(json.dumps(_doc(4e6, 2e6)))
    result = CliRunner().invoke(cli, ["report", str(path), "--csv", str(tmp_path / "ic.csv")])
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.strip().startswith("rust"))
    assert line.split()[1:5] == ["4.000", "2.000", "2.00|0.50", "20x5"]
    assert "instructions run" in result.output
    assert (tmp_path / "ic.csv").read_text().count("\n") == 3


_SIGN_TWICE = """
import sys
from cryptography.hazmat.primitives.asymmetric import ec
from tlsbench.harness import icount_worker
from tlsbench.tls import signatures
from tlsbench.tls.constants import SignatureScheme

if sys.argv[1] == "pinned":
    icount_worker.pin_randomness()
key = ec.generate_private_key(ec.SECP256R1())
scheme = SignatureScheme.ECDSA_SECP256R1_SHA256
a = signatures.sign(key, scheme, bytes(32))
b = signatures.sign(key, scheme, bytes(32))
signatures.verify(key.public_key(), scheme, a, bytes(32))
c = signatures.sign_tls12(key, scheme, b"params")
d = signatures.sign_tls12(key, scheme, b"params")
signatures.verify_tls12(key.public_key(), scheme, c, b"params")
print(a == b, c == d)
"""


def test_worker_pins_engine_ecdsa_signatures_and_the_engine_alone_does_not() -> None:
    import subprocess
    import sys

    def run(mode: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", _SIGN_TWICE, mode], capture_output=True, text=True, check=True
        )
        return done.stdout.strip()

    assert run("pinned") == "True True"
    assert run("plain") == "False False"


def test_credentials_are_kept_between_runs_and_remade_when_broken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(icount.CREDENTIALS_ENV, str(tmp_path / "kept"))
    first = icount.kept_credentials("rsa2048", tmp_path / "work")
    pem = first.cert_file.read_bytes()
    again = icount.kept_credentials("rsa2048", tmp_path / "work2")
    assert again == first and again.cert_file.read_bytes() == pem  # the same key and chain
    first.key_file.unlink()
    remade = icount.kept_credentials("rsa2048", tmp_path / "work3")
    assert remade.key_file.is_file() and remade.cert_file.read_bytes() != pem
    assert not (tmp_path / "work").exists()  # nothing written beside the run
