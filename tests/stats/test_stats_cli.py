"""``compare --markdown``, the NOISY note and the A/B mode through the real command."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from stats_docs import case, cli, doc, icount_case, write

from tlsbench.harness import report
from tlsbench.harness.metrics import NOISY_SPREAD

AB = (
    "run", "--impl", "rust", "--tls", "1.3", "--workload", "handshake", "--transport", "memory",
    "--repeat", "2", "--duration", "0.05", "--warmup", "0", "--no-progress",
)  # fmt: skip


def test_compare_markdown_puts_regressions_first_and_fails(tmp_path: Path) -> None:
    base = write(
        tmp_path / "b.json",
        doc(case("ssl", [500, 505, 495, 502.0]), case("rust", [1000, 990, 1010, 1005.0])),
    )
    new = write(
        tmp_path / "n.json",
        doc(case("ssl", [510, 500, 505, 499.0]), case("rust", [700, 690, 710, 705.0])),
    )
    md = tmp_path / "summary.md"
    r = cli("compare", base, new, "--max-regression", "10", "--markdown", str(md))
    assert r.returncode == 1, r.stdout + r.stderr
    assert "regression: rust -29.9% handshakes/s" in r.stderr and "compare: FAILED" in r.stdout
    text = md.read_text()
    assert "| case | impl | metric | base | new | change | interval | verdict |" in text
    rows = [line for line in text.splitlines() if line.startswith("| handshake")]
    assert len(rows) == 2 and "**REGRESSION**" in rows[0] and "| rust |" in rows[0]
    assert "not significant" in rows[1] and "| ssl |" in rows[1]
    assert "**1 regression**" in text
    r = cli("compare", base, base, "--max-regression", "10", "--markdown", str(md))
    assert r.returncode == 0 and "No regression in 2 comparisons." in md.read_text()


def test_compare_instruction_counts_names_side_and_unit(tmp_path: Path) -> None:
    base = write(tmp_path / "b.json", doc(icount_case("rust", 7.3e6, 6.1e6), metric="instructions"))
    new = write(
        tmp_path / "n.json", doc(icount_case("rust", 7.3e6 * 1.031, 6.1e6), metric="instructions")
    )
    r = cli("compare", base, new)
    assert r.returncode == 1
    assert "regression: rust client +3.1% instructions per handshake [handshake | TLS 1.3" in (
        r.stderr
    )
    r = cli("compare", base, write(tmp_path / "w.json", doc(case("rust", [1.0, 2.0]))))
    assert r.returncode == 2 and "cannot compare an instructions run" in r.stderr
    assert "Traceback" not in r.stderr


def test_the_noisy_note_says_why_and_the_table_gives_the_remedy() -> None:
    wide = [100.0, 100.0 * (1 + NOISY_SPREAD * 2), 100.0]
    data = doc(case("rust", wide), case("ssl", [100.0, 100.5, 99.8]))
    for c in data["cases"]:
        c.update(
            latency_ms={
                k: {"p50": 1.0, "p90": 1.0, "p99": 1.0, "max": 1.0} for k in ("handshake",)
            },
            cpu_us_per_op={"client": 1.0, "server": 1.0},
            peak_rss_mb={"client": 1.0, "server": 1.0},
            ops=10,
            errors=0,
            timeouts=0,
        )
    text = report.table(data)
    spread = f"{NOISY_SPREAD * 2:.0%}"
    assert f"NOISY: spread {spread} > {NOISY_SPREAD:.0%}" in text
    assert "--repeat" in text and "--duration" in text and "--metric instructions" in text
    assert text.count("NOISY: spread") == 1  # the quiet ssl case is not flagged


def test_ab_mode_end_to_end_with_this_interpreter_as_both_builds(tmp_path: Path) -> None:
    out, md = tmp_path / "ab.json", tmp_path / "ab.md"
    r = cli(*AB, "--ab", sys.executable, "--json", str(out), "--markdown", str(md))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "new/base per repeat:" in r.stdout and "A/B: ok" in r.stdout
    data = json.loads(out.read_text())
    ab = data["ab"]
    assert ab["base_python"] == sys.executable and ab["base_version"] == ab["new_version"]
    [ratios] = ab["ratios"].values()
    assert len(ratios) == 2 and all(r > 0 for r in ratios)
    [v] = ab["verdicts"]
    assert v["label"] == "rust" and v["metric"] == "rate" and v["low"] <= v["high"]
    assert len(data["cases"][0]["rate"]["samples"]) == len(ab["base_cases"][0]["rate"]["samples"])
    paired = data["cases"][0]["paired"]  # what the verdict judged: the p10 handshake per repeat
    assert paired["unit"] == "handshakes/s at p10 time" and len(paired["samples"]) == 2
    assert v["unit"] == paired["unit"] and v["new"] == paired["median"]
    assert "## tlsbench A/B" in md.read_text()


def test_ab_mode_refuses_a_build_without_tlsbench_or_with_another_protocol(
    tmp_path: Path,
) -> None:
    r = cli(*AB, "--ab", "/bin/true")
    assert r.returncode == 2 and "has no installed tlsbench" in r.stderr
    assert "Traceback" not in r.stderr
    other = tmp_path / "other-python"
    other.write_text('#!/bin/sh\nif [ "$1" = -c ]; then echo 0.0.1; echo role,case; exit; fi\n')
    other.chmod(0o755)
    r = cli(*AB, "--ab", str(other))
    assert r.returncode == 2 and "worker protocols differ" in r.stderr


def test_ab_mode_warns_when_only_the_version_differs(tmp_path: Path) -> None:
    """A build that reports another version but speaks the same protocol is measured."""
    older = tmp_path / "older-python"
    older.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = -c ]; then {sys.executable} "$@" | sed 1s/.*/0.0.1/; exit; fi\n'
        f'exec {sys.executable} "$@"\n'
    )
    older.chmod(0o755)
    r = cli(*AB, "--ab", str(older), "--max-regression", "99")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "warning: base build is tlsbench 0.0.1" in r.stderr and "A/B: ok" in r.stdout
    r = cli(*AB[:1], "--max-regression", "5", "--impl", "rust")
    assert r.returncode == 2 and "need --ab BASE_PY" in r.stderr
