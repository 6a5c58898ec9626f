"""``--html``: the page of a real run, opened in headless chromium with the network off.

One browser for the module. Screenshots go to $TLSBENCH_SCREENSHOTS (else a temporary
directory, printed); look at them.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from html_browser import PHONE, WIDE, Loaded, left_the_page, load, start

from tlsbench.harness import icount, report


def tlsbench(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """The real command line in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "tlsbench", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    driver = start()
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = os.environ.get("TLSBENCH_SCREENSHOTS")
    path = Path(where) if where else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    print(f"screenshots in {path}")
    return path


@pytest.fixture(scope="module")
def run_page(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A real quick run of three implementations, TLS 1.3, and a real trace: (json, html, trace)."""
    d = tmp_path_factory.mktemp("run")
    trace = d / "trace.json"
    r = tlsbench("trace", "--json", str(trace), timeout=120)
    assert r.returncode == 0, r.stderr
    results, page = d / "run.json", d / "run.html"
    r = tlsbench(
        "run",
        "--quick",
        "--impl",
        "rust,python,ssl",
        "--tls",
        "1.3",
        "--no-progress",
        "--json",
        str(results),
        "--html",
        str(page),
        "--trace",
        str(trace),
    )
    assert r.returncode == 0, r.stderr
    return results, page, trace


def _check_offline(loaded: Loaded) -> None:
    assert loaded.console_errors == [], loaded.console_errors
    assert left_the_page(loaded) == [], f"requests left the page: {left_the_page(loaded)}"
    assert loaded.requests == [loaded.url]  # the recorder saw the page itself
    assert loaded.scripts == 0
    assert loaded.scroll_width <= loaded.viewport_width, (
        f"the page is {loaded.scroll_width}px wide in a {loaded.viewport_width}px viewport"
    )


def _cases_shown(data: dict[str, Any], text: str) -> int:
    """Assert each section's title and each case's rate, as the terminal prints them."""
    shown = 0
    for group in report.grouped(data["cases"]):
        assert report.scenario_title(group[0]) in text
        for row in report.rows(group, "ssl"):
            assert row[1] != "-", row  # every case of the run succeeded
            assert row[1] in text, row
            shown += 1
    return shown


@pytest.mark.parametrize("size", [PHONE, WIDE], ids=["phone", "wide"])
def test_run_page_offline_every_case_and_the_ladder(
    browser: Any, run_page: tuple[Path, Path, Path], shots: Path, size: tuple[int, int]
) -> None:
    results, page, trace = run_page
    data = json.loads(results.read_text())
    loaded = load(browser, page, size, shots / f"run-{size[0]}.png")
    _check_offline(loaded)
    assert _cases_shown(data, loaded.text) == 6
    assert "Intel" in loaded.text or data["environment"]["cpu"] in loaded.text
    assert data["environment"]["commit"] in loaded.text
    # The ladder: every step of the trace, drawn and as the walkthrough prints it.
    ladder = json.loads(trace.read_text())["ladder"]
    assert "Handshake ladder" in loaded.text
    for step in ladder:
        assert step["name"] in loaded.text
    # Charts: per section rate, CPU and three latency charts (bulk: the handshake one),
    # and the ladder; each drawn at a readable size and within the viewport.
    assert len(loaded.charts) == 5 + 3 + 1, loaded.charts
    for w, h in loaded.charts:
        assert 300 <= w <= size[0] and h > 100, (w, h)


def test_comparison_worst_regression_first(
    browser: Any, run_page: tuple[Path, Path, Path], shots: Path, tmp_path: Path
) -> None:
    results, _, _ = run_page
    base = json.loads(results.read_text())
    new = copy.deepcopy(base)
    # NEW is BASE with python's TLS 1.3 handshakes 10x slower and rust's bulk 5x: far past
    # what two noisy repeats can hide (the whole bootstrap interval must pass the limit).
    factors = {("python", "handshake"): 1 / 10, ("rust", "bulk"): 1 / 5}
    for c in new["cases"]:
        f = factors.get((c["label"], c["workload"]))
        if f:
            r = c["rate"]
            r.update({k: r[k] * f for k in ("median", "min", "max")})
            r["samples"] = [s * f for s in r["samples"]]
            r["ci95"] = [x * f for x in r["ci95"]]
    (tmp_path / "new.json").write_text(json.dumps(new))
    page = tmp_path / "compare.html"
    r = tlsbench(
        "report", str(results), str(tmp_path / "new.json"), "--html", str(page),
        "--max-regression", "5",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    loaded = load(browser, page, PHONE, shots / "compare-390.png")
    _check_offline(loaded)
    _cases_shown(new, loaded.text)
    rows = browser.execute_script(
        "return [...document.querySelectorAll('#comparison tbody tr')]"
        ".map(tr => [...tr.cells].map(td => td.textContent))"
    )
    assert len(rows) == 6
    # Both slowed cases are regressions, the worse (python, -90%) on top.
    assert [(row[0], row[-1]) for row in rows[:2]] == [
        ("python", "REGRESSION"),
        ("rust", "REGRESSION"),
    ]
    assert rows[0][6] == "-90.0%" and rows[1][6] == "-80.0%"
    assert "2 regressions past the limit" in loaded.text
    assert all(row[-1] != "REGRESSION" for row in rows[2:])


def test_instructions_run_shows_counts_per_side(browser: Any, shots: Path, tmp_path: Path) -> None:
    """A real ``--metric instructions`` run (valgrind): no rates, counts per side."""
    results, page = tmp_path / "icount.json", tmp_path / "icount.html"
    r = tlsbench(
        "run", "--metric", "instructions", "--impl", "rust,ssl", "--tls", "1.3",
        "--workload", "handshake", "--handshakes", "2", "--repeat", "1", "--no-progress",
        "--json", str(results), "--html", str(page),
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    data = json.loads(results.read_text())
    assert data["config"]["metric"] == "instructions"
    loaded = load(browser, page, WIDE, shots / "instructions-1280.png")
    _check_offline(loaded)
    for group in report.grouped(data["cases"]):
        assert report.scenario_title(group[0]) in loaded.text
        for row, case in zip(icount.rows(group, "ssl"), group, strict=True):
            assert case["rate"] is None and row[1] != "-", case
            assert row[1] in loaded.text and row[2] in loaded.text, row  # as the terminal
    assert "instructions/handshake" in loaded.text
    assert len(loaded.charts) == 1  # the counts per side; no rate, CPU or latency


def test_the_recorder_sees_requests_and_console_errors(browser: Any, tmp_path: Path) -> None:
    """The checks above can fail: a page that asks loopback for an image and logs an error."""
    page = tmp_path / "leaky.html"
    page.write_text(
        "<!DOCTYPE html><title>leaky</title><img src='http://127.0.0.1:9/probe.png'>"
        "<script>console.error('deliberate')</script>"
    )
    loaded = load(browser, page, WIDE)
    assert "http://127.0.0.1:9/probe.png" in left_the_page(loaded)
    assert any("deliberate" in e for e in loaded.console_errors)
    assert loaded.scripts == 1


def test_bad_inputs_are_one_line_errors(run_page: tuple[Path, Path, Path], tmp_path: Path) -> None:
    results, _, trace = run_page
    out = str(tmp_path / "x.html")
    cases = [
        (("report", str(results), "--trace", str(trace)), "--trace needs --html"),
        (("report", str(results), "--html", out, "--trace", str(results)), "not a tlsbench trace"),
        (("report", str(results), "--html", out, "--trace", str(tmp_path / "no")), "cannot read"),
        (("run", "--quick", "--html", out, "--trace", str(tmp_path / "no")), "cannot read"),
        (("report", str(trace), "--html", out), "not a tlsbench results file"),
        (("report", str(results), "--html", out, "--max-regression", "5"), "two runs of the same"),
    ]
    for args, words in cases:
        r = tlsbench(*args, timeout=60)
        assert r.returncode == 2, (args, r.stderr)
        assert words in r.stderr and "Traceback" not in r.stderr, (args, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not Path(out).exists()
