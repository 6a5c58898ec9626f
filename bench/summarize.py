"""Turn a pytest-benchmark JSON file into the Markdown tables of docs/benchmarks.md.

python3 bench/summarize.py /tmp/bench.json
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict

PROVIDERS = ("rust", "cryptography", "python")


def per_op(bench: dict) -> float:
    """Median seconds per operation (open benchmarks time a batch of records)."""
    return bench["stats"]["median"] / bench["extra_info"].get("records_per_round", 1)


def fmt_time(s: float) -> str:
    return f"{s * 1e6:.3g} µs" if s < 1e-3 else f"{s * 1e3:.3g} ms"


def cell(bench: dict) -> str:
    s = per_op(bench)
    n = bench["extra_info"].get("bytes")
    return f"{fmt_time(s)} ({n / s / 1e6:,.4g} MB/s)" if n else fmt_time(s)


def main(path: str) -> None:
    data = json.load(open(path))
    rows: dict[str, dict[str, dict]] = defaultdict(dict)
    refs = []
    for b in data["benchmarks"]:
        m = re.match(r"(test_\w+)\[(\w+)-?(.*)\]", b["name"])
        if m and m.group(2) in PROVIDERS:
            rows[f"{m.group(1)[5:]} {m.group(3)}".strip()][m.group(2)] = b
        else:
            refs.append(b)
    print("| operation | rust | cryptography | python | speed-up vs cryptography | vs python |")
    print("|---|---|---|---|---|---|")
    for op, by in rows.items():
        cells = [cell(by[p]) if p in by else "" for p in PROVIDERS]
        ratios = [
            f"{per_op(by[p]) / per_op(by['rust']):.3g}x" if p in by and "rust" in by else ""
            for p in ("cryptography", "python")
        ]
        print(f"| {op} | " + " | ".join(cells + ratios) + " |")
    print()
    print("| reference | median |")
    print("|---|---|")
    for b in refs:
        print(f"| {b['name'][5:]} | {cell(b)} |")
    info = data["machine_info"]
    print(
        f"\nMachine: {info.get('cpu', {}).get('brand_raw', '?')}, "
        f"Python {info.get('python_version')}; {data['datetime']}"
    )


if __name__ == "__main__":
    main(sys.argv[1])
