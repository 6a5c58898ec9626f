"""The default matrix of ``tlsbench run`` and its table order, without measuring anything."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tlsbench.harness import commands, report, runner
from tlsbench.harness.commands import build_cases, protocol_rows
from tlsbench.harness.params import IMPLS, WORKLOADS, Case
from tlsbench.harness.results import results_json
from tlsbench.harness.runner import CaseRun, Repeat

RSA = ("1.2", "TLS_RSA_WITH_AES_128_GCM_SHA256", "rsa2048")
ECDHE_ECDSA = ("1.2", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ecdsa-p256")
ECDHE_RSA = ("1.2", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "rsa2048")
TLS13 = ("1.3", "TLS_AES_128_GCM_SHA256", "ecdsa-p256")
TLS13_RSA = ("1.3", "TLS_AES_128_GCM_SHA256", "rsa2048")

HEADINGS = [
    "handshake | TLS 1.2 RSA key exchange | TLS_RSA_WITH_AES_128_GCM_SHA256 | rsa2048 | tcp",
    "handshake | TLS 1.2 ECDHE | TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 | x25519 | ecdsa-p256"
    " | tcp",
    "handshake | TLS 1.3 | TLS_AES_128_GCM_SHA256 | x25519 | ecdsa-p256 | tcp",
    "bulk | TLS 1.2 RSA key exchange | TLS_RSA_WITH_AES_128_GCM_SHA256 | rsa2048 | tcp"
    " | 8192 KiB per connection",
    "bulk | TLS 1.2 ECDHE | TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 | x25519 | ecdsa-p256"
    " | tcp | 8192 KiB per connection",
    "bulk | TLS 1.3 | TLS_AES_128_GCM_SHA256 | x25519 | ecdsa-p256 | tcp | 8192 KiB per connection",
]


def _rows(cases: list[Case]) -> list[tuple[str, str, str]]:
    out: list[tuple[str, str, str]] = []
    for c in cases:
        if (c.tls, c.suite, c.cert) not in out:
            out.append((c.tls, c.suite, c.cert))
    return out


def test_default_has_rsa_key_exchange_for_every_impl_and_workload() -> None:
    cases = build_cases()
    rsa = {
        (c.client_impl, c.server_impl, c.workload)
        for c in cases
        if (c.tls, c.suite, c.cert) == RSA and c.transport == "tcp"
    }
    assert rsa == {(i, i, w) for i in IMPLS for w in WORKLOADS}
    assert _rows(cases) == [RSA, ECDHE_ECDSA, TLS13]
    assert {c.group for c in cases} == {"x25519"}
    assert len(cases) == 3 * len(IMPLS) * len(WORKLOADS)


def test_default_cases_come_in_table_order() -> None:
    cases = build_cases()
    assert cases[0].workload == "handshake" and (cases[0].tls, cases[0].suite) == RSA[:2]
    order = []
    for c in cases:
        if (c.workload, c.suite) not in order:
            order.append((c.workload, c.suite))
    assert order == [
        (w, row[1]) for w in ("handshake", "bulk") for row in (RSA, ECDHE_ECDSA, TLS13)
    ]


@pytest.mark.parametrize(
    ("versions", "suites", "certs", "expected"),
    [
        (["1.2"], [], [], [RSA, ECDHE_ECDSA]),
        (["1.3"], [], [], [TLS13]),
        ([], [], ["rsa2048"], [RSA, ECDHE_RSA, TLS13_RSA]),
        ([], [], ["ecdsa-p256"], [ECDHE_ECDSA, TLS13]),
        (["1.2"], [], ["rsa2048"], [RSA, ECDHE_RSA]),
        ([], [RSA[1]], [], [RSA]),
        ([], [ECDHE_RSA[1]], [], [ECDHE_RSA]),
        (["1.3", "1.2"], [ECDHE_ECDSA[1]], [], [ECDHE_ECDSA, TLS13]),
        ([], [RSA[1]], ["ecdsa-p256"], []),
        ([], [TLS13[1], RSA[1]], ["rsa2048", "ecdsa-p256"], [RSA, TLS13_RSA, TLS13]),
    ],
)
def test_an_option_narrows_only_what_it_names(
    versions: list[str],
    suites: list[str],
    certs: list[str],
    expected: list[tuple[str, str, str]],
) -> None:
    assert protocol_rows(versions, suites, certs) == expected


def test_rsa_key_exchange_runs_once_whatever_the_groups() -> None:
    cases = build_cases(impls=["ssl"], workloads=["handshake"], groups=["secp384r1", "x25519"])
    assert [(c.suite, c.group) for c in cases] == [
        (RSA[1], "secp384r1"),
        (ECDHE_ECDSA[1], "secp384r1"),
        (ECDHE_ECDSA[1], "x25519"),
        (TLS13[1], "secp384r1"),
        (TLS13[1], "x25519"),
    ]


def _repeat(rate: float) -> Repeat:
    lat = {"connect": [0.2], "handshake": [1.0], "ttfb": [1.1]}
    return Repeat(rate, 10, 0, 0, 0, 10 << 20, 0.01, 0.01, 30.0, 30.0, lat, 0.5)


def _headings(text: str, prefix: str = "") -> list[str]:
    return [
        line.removeprefix(prefix)
        for line in text.splitlines()
        if line.startswith(prefix) and line.removeprefix(prefix).startswith(WORKLOADS)
    ]


def test_sections_are_ordered_whatever_order_the_cases_come_in() -> None:
    sections: dict[tuple[str, str], list[Case]] = {}
    for c in build_cases():
        sections.setdefault((c.workload, c.suite), []).append(c)
    backwards = [c for section in reversed(sections.values()) for c in section]
    assert backwards[0].workload == "bulk" and backwards[0].tls == "1.3"
    runs = [CaseRun(c, [_repeat(100.0)]) for c in backwards]
    data = results_json({"repeat": 1}, runs)
    assert _headings(report.table(data)) == HEADINGS
    assert _headings(report.markdown(data), "### ") == HEADINGS


def test_run_with_no_options_measures_and_shows_the_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen: list[tuple[runner.Setup, list[Case], int]] = []

    def fake_run_cases(setup: runner.Setup, cases: list[Case], repeat: int, *_: Any) -> Any:
        seen.append((setup, cases, repeat))
        return [CaseRun(c, [_repeat(100.0 + i)]) for i, c in enumerate(cases)]

    monkeypatch.setattr(runner, "run_cases", fake_run_cases)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(commands.run, [])
    assert result.exit_code == 0, result.output
    setup, cases, repeat = seen[0]
    assert cases == build_cases()
    assert repeat >= 3 and setup.bounds.duration > 0 and setup.bounds.warmup > 0
    lines = result.output.splitlines()
    assert lines[0] == HEADINGS[0]
    assert _headings(result.output) == HEADINGS

    result = CliRunner().invoke(commands.run, ["--markdown", "r.md"])
    assert result.exit_code == 0, result.output
    assert _headings((tmp_path / "r.md").read_text(), "### ") == HEADINGS
