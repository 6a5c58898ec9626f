"""``report`` and ``compare`` on real results, including a real regression."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import TINY, tlsbench
from tlsbench.harness.report import scenario


def test_report_rerenders_saved_results(mixed_results: Path, tmp_path: Path) -> None:
    r = tlsbench(
        "report",
        str(mixed_results),
        "--baseline",
        "rust",
        "--markdown",
        str(tmp_path / "r.md"),
        "--plot",
        str(tmp_path / "r.png"),
    )
    assert r.returncode == 0, r.stderr
    assert "rust:ssl" in r.stdout and "1.00x" in r.stdout
    assert "rust:tlslite" in (tmp_path / "r.md").read_text()
    assert (tmp_path / "r.png").stat().st_size > 1000


def test_compare_passes_against_itself_and_checks_requirements(mixed_results: Path) -> None:
    # The bounds come from the run's own ratios: a tiny wall-clock run on a shared machine
    # cannot promise any fixed ratio, but the check must pass just below the lowest one
    # and fail just above it.
    cases = json.loads(mixed_results.read_text())["cases"]
    rate = {(c["label"], *scenario(c)): c["rate"]["median"] for c in cases}
    lowest = min(rate[key] / rate[("rust:tlslite", *key[1:])] for key in rate if key[0] == "rust")
    r = tlsbench(
        "compare",
        str(mixed_results),
        str(mixed_results),
        "--max-regression",
        "5",
        "--require",
        f"rust/rust:tlslite>={lowest * 0.99:.6f}",
    )
    assert r.returncode == 0, r.stdout + r.stderr
    # One repeat per side: no interval, so nothing can be judged significant.
    assert "compare: ok" in r.stdout and "+0.0%" in r.stdout and "not significant" in r.stdout
    r = tlsbench(
        "compare",
        str(mixed_results),
        str(mixed_results),
        "--require",
        f"rust/rust:tlslite>={lowest * 1.01:.6f}",
    )
    # The lowest scenario fails (and the summary line); others may fail too.
    assert r.returncode == 1 and "compare: FAILED" in r.stdout, r.stdout
    assert f"{lowest:.3f} FAILED" in r.stdout, r.stdout


def test_compare_fails_on_a_real_regression(tmp_path: Path) -> None:
    """The same case measured on the rust and on the python provider: python is the regression."""
    runs = {}
    for impl in ("rust", "python"):
        path = tmp_path / f"{impl}.json"
        r = tlsbench(
            "run",
            *TINY,
            "--repeat",
            "3",
            "--impl",
            impl,
            "--tls",
            "1.3",
            "--workload",
            "bulk",
            "--json",
            str(path),
        )
        assert r.returncode == 0, r.stderr
        runs[impl] = json.loads(path.read_text())
    # Present the python run as a new build of the same implementation.
    for case in runs["python"]["cases"]:
        case["client_impl"] = case["server_impl"] = case["label"] = "rust"
    (tmp_path / "new.json").write_text(json.dumps(runs["python"]))
    r = tlsbench(
        "compare", str(tmp_path / "rust.json"), str(tmp_path / "new.json"), "--max-regression", "10"
    )
    assert r.returncode == 1, r.stdout
    assert "REGRESSION" in r.stdout and "regression:" in r.stderr
    r = tlsbench(
        "compare",
        str(tmp_path / "rust.json"),
        str(tmp_path / "rust.json"),
        "--max-regression",
        "10",
    )
    assert r.returncode == 0
