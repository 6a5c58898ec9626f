#!/usr/bin/env python3
"""The experiments behind docs/ci.md: false alarms of each gate on an unchanged build, and
a deliberate regression (``TLSBENCH_TEST_HANDICAP``) caught or not.

    python3 scripts/ci_experiments.py unpaired --python PY --out DIR     # 6 runs, 30 compares
    python3 scripts/ci_experiments.py unpaired --instructions --limits 1 --out DIR  # icount
    python3 scripts/ci_experiments.py ab --base PY --new PY --out DIR    # 6 A/B runs
    python3 scripts/ci_experiments.py handicap --base PY --new PY --handicap N --out DIR
    python3 scripts/ci_experiments.py icount --base PY --new PY --handicap N --out DIR

PY is the interpreter of an installed build (a virtualenv's bin/python). Every run is
the real ``tlsbench`` command; the script prints one line per run and the figures.
"""

from __future__ import annotations

import argparse
import itertools
import json
import stat
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

MATRIX = ["--impl", "rust,ssl", "--tls", "1.3", "--workload", "handshake,bulk"]


def tlsbench(python: str, *args: str, env: dict[str, str] | None = None) -> int:
    """Run ``python -m tlsbench ARGS``; its exit code (output to our stderr on failure)."""
    out = subprocess.run(
        [python, "-m", "tlsbench", *args, "--no-progress"],
        capture_output=True,
        text=True,
        env=env,
        timeout=1800,
        check=False,
    )
    if out.returncode not in (0, 1):
        sys.stderr.write(out.stdout + out.stderr)
        raise SystemExit(f"tlsbench {' '.join(args)} exited {out.returncode}")
    return out.returncode


def unpaired(args: argparse.Namespace) -> None:
    """Six runs of one build, then every ordered pair compared (30 compares) per limit."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
    from tlsbench.harness.compare import verdicts

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    how = ["--metric", "instructions"] if args.instructions else ["--repeat", "5"]
    for i in range(args.runs):
        path = out / f"run{i + 1}.json"
        if not path.exists():
            t = time.monotonic()
            tlsbench(args.python, "run", *MATRIX, *how, "--json", str(path))
            print(f"run {i + 1}: {time.monotonic() - t:.0f} s", flush=True)
            time.sleep(args.pause)
    docs = [json.loads((out / f"run{i + 1}.json").read_text()) for i in range(args.runs)]
    if args.instructions:
        sides = [
            (v.label, v.metric, v.change)
            for a, b in itertools.permutations(range(len(docs)), 2)
            for v in verdicts(docs[a], docs[b], None)
        ]
        worst = max(abs(c) for _, _, c in sides if c is not None)
        print(f"instructions: the largest change between two runs, any side: {worst:.3%}")
        _gate(docs, args.limits)
        return
    spreads = [c["spread"] for d in docs for c in d["cases"] if c["status"] == "ok"]
    by_case: dict[str, list[float]] = {}
    for d in docs:
        for c in d["cases"]:
            by_case.setdefault(f"{c['label']} {c['workload']}", []).append(c["rate"]["median"])
    drift = max(max(v) / min(v) for v in by_case.values())
    print(
        f"spread of the repeats over {len(spreads)} case runs: median "
        f"{statistics.median(spreads):.0%}, max {max(spreads):.0%}; medians drift up to "
        f"{drift:.2f}x between runs"
    )
    _gate(docs, args.limits)


def _gate(docs: list[dict[str, Any]], limits: list[float]) -> None:
    """Every ordered pair of runs compared at each limit: false alarms and significant verdicts."""
    from tlsbench.harness.compare import verdicts

    pairs = list(itertools.permutations(range(len(docs)), 2))
    for limit in limits:
        alarms = sig = 0
        for a, b in pairs:
            found = verdicts(docs[a], docs[b], limit)
            alarms += any(v.regression for v in found)
            sig += sum(v.significant for v in found)
        print(
            f"--max-regression {limit:g}: {alarms} false alarms in {len(pairs)} compares; "
            f"{sig} of {len(pairs) * len(docs[0]['cases'])} case verdicts significant"
        )


def _ab(
    base: str, new: str, path: Path, repeat: int, limit: float, workloads: str, extra: list[str]
) -> dict[str, Any]:
    args = [*MATRIX[:4], "--workload", workloads, "--repeat", str(repeat), *extra]
    tlsbench(
        sys.executable,
        "run",
        *args,
        "--ab",
        base,
        "--ab-new",
        new,
        "--max-regression",
        f"{limit:g}",
        "--json",
        str(path),
    )
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _summary(data: dict[str, Any]) -> str:
    return ", ".join(
        f"{v['label']} {v['title'].split(' |')[0]} {v['change']:+.1%} "
        f"[{v['low']:+.1%}, {v['high']:+.1%}] {v['verdict']}"
        for v in data["ab"]["verdicts"]
        if v["change"] is not None and v["low"] is not None
    )


def ab(args: argparse.Namespace) -> None:
    """Six A/B runs of two installs of one tree (roles swapped every other run)."""
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    alarms = 0
    for i in range(args.runs):
        base, new = (args.base, args.new) if i % 2 == 0 else (args.new, args.base)
        data = _ab(
            base, new, out / f"ab{i + 1}.json", args.repeat, args.limit, args.workloads,
            args.extra.split(),
        )  # fmt: skip
        bad = any(v["regression"] for v in data["ab"]["verdicts"])
        alarms += bad
        print(f"A/B {i + 1}: {'FALSE ALARM' if bad else 'ok'}: {_summary(data)}", flush=True)
    print(f"A/B --max-regression {args.limit:g}: {alarms} false alarms in {args.runs} runs")


def _handicapped(out: Path, python: str, n: int) -> str:
    """A wrapper interpreter: ``python`` with TLSBENCH_TEST_HANDICAP=n."""
    path = out / f"handicap-{n}-python"
    path.write_text(f'#!/bin/sh\nTLSBENCH_TEST_HANDICAP={n} exec {python} "$@"\n')
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def handicap(args: argparse.Namespace) -> None:
    """A/B runs of a build against itself made slower (wall gate): caught every time?"""
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    slow = _handicapped(out, args.new, args.handicap)
    caught, failed, changes = 0, 0, []
    for i in range(args.runs):
        data = _ab(
            args.base, slow, out / f"hc{i + 1}.json", args.repeat, args.limit, "handshake",
            args.extra.split(),
        )  # fmt: skip
        got = [v for v in data["ab"]["verdicts"] if v["change"] is not None]
        changes += [1 / (1 + v["change"]) - 1 for v in got]
        hit = bool(got) and all(v["regression"] for v in got)
        caught += hit
        failed += any(v["regression"] for v in got)  # the A/B run exits 1
        print(f"handicap {i + 1}: {'caught' if hit else 'MISSED'}: {_summary(data)}", flush=True)
    print(
        f"TLSBENCH_TEST_HANDICAP={args.handicap}: wall time per handshake "
        f"+{statistics.median(changes):.0%} (median); the --max-regression {args.limit:g} A/B "
        f"gate failed in {failed} of {args.runs} runs, on every case in {caught}"
    )


def icount(args: argparse.Namespace) -> None:
    """Instruction counts of a build and of the same build made slower: the 1% gate."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
    from tlsbench.harness.compare import verdicts

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    matrix = ["--impl", args.impls, "--tls", "1.3", "--workload", "handshake"]
    slow = _handicapped(out, args.new, args.handicap)
    caught, clean, changes = 0, 0, []
    for i in range(args.runs):
        paths = {}
        for name, python in (("base", args.base), ("new", args.new), ("slow", slow)):
            paths[name] = out / f"ic-{name}{i + 1}.json"
            tlsbench(python, "run", *matrix, "--metric", "instructions", "--json", str(paths[name]))
        docs = {k: json.loads(p.read_text()) for k, p in paths.items()}
        same = verdicts(docs["base"], docs["new"])
        worse = verdicts(docs["base"], docs["slow"])
        clean += not any(v.regression for v in same)
        client = [v for v in worse if v.metric == "instructions:client" and v.change is not None]
        changes += [v.change for v in client if v.change is not None]
        hit = bool(client) and all(v.regression for v in client)
        caught += hit
        print(
            f"icount {i + 1}: unchanged {'ok' if not any(v.regression for v in same) else 'ALARM'}"
            f"; handicapped client "
            + ", ".join(f"{v.label} {v.change:+.2%} {v.verdict}" for v in client),
            flush=True,
        )
    print(
        f"TLSBENCH_TEST_HANDICAP={args.handicap}: client instructions "
        f"+{statistics.median(changes):.1%} (median); caught by the 1% gate in {caught} of "
        f"{args.runs} runs; unchanged build passed in {clean} of {args.runs}"
    )


def main() -> None:
    """Parse the command line and run one experiment."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = p.add_subparsers(dest="what", required=True)
    u = sub.add_parser("unpaired")
    u.add_argument("--python", default=sys.executable)
    u.add_argument("--runs", type=int, default=6)
    u.add_argument("--pause", type=float, default=20.0, help="seconds between runs")
    u.add_argument("--limits", type=float, nargs="+", default=[10, 15, 25, 50])
    u.add_argument("--instructions", action="store_true", help="--metric instructions runs")
    for name in ("ab", "handicap", "icount"):
        s = sub.add_parser(name)
        s.add_argument("--base", required=True, help="interpreter of the base build")
        s.add_argument("--new", required=True, help="interpreter of the new build")
        s.add_argument("--runs", type=int, default=6 if name == "ab" else 5)
        s.add_argument("--repeat", type=int, default=8)
        s.add_argument("--limit", type=float, default=10.0)
        s.add_argument("--workloads", default="handshake,bulk")
        s.add_argument("--handicap", type=int, default=0)
        s.add_argument("--impls", default="rust,ssl")
        s.add_argument("--extra", default="", help="more tlsbench run options, one string")
        s.add_argument("--out", required=True)
    u.add_argument("--out", required=True)
    args = p.parse_args()
    {"unpaired": unpaired, "ab": ab, "handicap": handicap, "icount": icount}[args.what](args)


if __name__ == "__main__":
    main()
