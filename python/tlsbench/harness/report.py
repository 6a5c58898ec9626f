"""Results rendered: terminal table, Markdown, CSV and a PNG plot."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from .params import kx_label

Case = dict[str, Any]


def scenario(case: Case) -> tuple[str, ...]:
    """What the implementations of one table section share."""
    return (
        case["workload"],
        case["tls"],
        case["suite"],
        case["group"],
        case["cert"],
        case.get("transport", "tcp"),
        str(case.get("record_size", 0)),
        *([case["resumption"]] if case.get("resumption") else []),
        *(["mtls"] if case.get("client_auth") else []),
    )


KEY_EXCHANGES = {"rsa": "RSA key exchange", "ecdhe": "ECDHE", "tls13": ""}
"""Section order and heading words per key exchange: the walkthrough's RSA key exchange first."""
WORKLOAD_ORDER = ("handshake", "resume", "bulk")


def kx_rank(suite: str) -> int:
    """0 for TLS 1.2 RSA key exchange, 1 for TLS 1.2 ECDHE, 2 for TLS 1.3."""
    return list(KEY_EXCHANGES).index(kx_label(suite))


def scenario_title(case: Case) -> str:
    """A section heading: workload, version and key exchange, suite, group, cert, transport.

    The group is left out for the RSA key exchange, which uses none.
    """
    kx = kx_label(case["suite"])
    parts = [
        case["workload"],
        f"TLS {case['tls']} {KEY_EXCHANGES[kx]}".rstrip(),
        case["suite"],
        *([] if kx == "rsa" else [case["group"]]),
        case["cert"],
        case.get("transport", "tcp"),
    ]
    if case["workload"] == "bulk":
        parts.append(f"{case.get('bulk_bytes', 0) >> 10} KiB per connection")
    if case.get("resumption"):
        parts.append(f"resumed by {case['resumption']}")
    if case.get("client_auth"):
        parts.append("client certificate required")
    return " | ".join(parts)


def grouped(cases: Iterable[Case]) -> list[list[Case]]:
    """Cases by scenario, sections in reading order.

    Handshakes before bulk; within a workload, transports in first-seen order; within
    a transport TLS 1.2 RSA key exchange, TLS 1.2 ECDHE, TLS 1.3; otherwise first-seen.
    """
    groups: dict[tuple[str, ...], list[Case]] = {}
    transports: dict[str, int] = {}
    for case in cases:
        groups.setdefault(scenario(case), []).append(case)
        transports.setdefault(case.get("transport", "tcp"), len(transports))

    def order(group: list[Case]) -> tuple[int, int, int]:
        first = group[0]
        workload = first["workload"]
        return (
            WORKLOAD_ORDER.index(workload) if workload in WORKLOAD_ORDER else len(WORKLOAD_ORDER),
            transports[first.get("transport", "tcp")],
            kx_rank(first["suite"]),
        )

    return sorted(groups.values(), key=order)


def ratio(case: Case, group: list[Case], baseline: str) -> float | None:
    """Median rate of ``case`` over the baseline's in the same scenario."""
    base = [c for c in group if c["label"] == baseline and c["status"] == "ok"]
    if not base or case["status"] != "ok" or not base[0]["rate"]["median"]:
        return None
    return float(case["rate"]["median"]) / float(base[0]["rate"]["median"])


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:.3g}"


def _note(case: Case) -> str:
    if case["status"] != "ok":
        return f"{case['status']}: {case['reason']}"
    notes = []
    if case["noisy"]:
        why = case.get("noisy_reason") or f"spread {case['spread']:.0%}"
        notes.append(f"NOISY: {why}")
    bad = case["errors"] + case["timeouts"]
    if bad:
        notes.append(f"{case['errors']} failed, {case['timeouts']} timed out")
    return ", ".join(notes)


def noisy_footer() -> str:
    """What NOISY means and what to do about it."""
    from .metrics import NOISY_REMEDY, NOISY_SPREAD

    return (
        f"NOISY: the repeats spread (max-min)/median more than {NOISY_SPREAD:.0%}, too much "
        f"to see a 10% change; remedy: {NOISY_REMEDY}"
    )


HEADER = (
    "impl (client:server)",
    "rate",
    "min..max",
    "ratio",
    "hs p50/p99 ms",
    "cpu µs/op c|s",
    "rss MB c|s",
    "ops",
    "note",
)


def rows(group: list[Case], baseline: str) -> list[list[str]]:
    """Table cells for one scenario."""
    out = []
    for c in group:
        if c["status"] != "ok":
            out.append([c["label"], "-", "", "", "", "", "", "0", _note(c)])
            continue
        r = c["rate"]
        lat = c["latency_ms"]["handshake"]
        q = ratio(c, group, baseline)
        cpu = c["cpu_us_per_op"]
        unit = "µs/MB" if c["workload"] == "bulk" else ""
        out.append(
            [
                c["label"],
                f"{_fmt(r['median'])} {r['unit']}",
                f"{_fmt(r['min'])}..{_fmt(r['max'])}",
                f"{q:.2f}x" if q is not None else "",
                f"{lat['p50']:.2f}/{lat['p99']:.2f}",
                f"{cpu['client']:,.0f}|{cpu['server']:,.0f}{unit}",
                f"{c['peak_rss_mb']['client']:.0f}|{c['peak_rss_mb']['server']:.0f}",
                str(c["ops"]),
                _note(c),
            ]
        )
    return out


def table(data: dict[str, Any], baseline: str = "ssl") -> str:
    """The terminal table: one section per scenario, ratios against ``baseline``."""
    if data.get("config", {}).get("metric") == "instructions":
        from . import icount

        return icount.table(data, baseline)
    lines = []
    for group in grouped(data["cases"]):
        lines.append(scenario_title(group[0]))
        body = [list(HEADER), *rows(group, baseline)]
        widths = [max(len(row[i]) for row in body) for i in range(len(HEADER) - 1)]
        for row in body:
            cells = [cell.ljust(w) for cell, w in zip(row, widths, strict=False)]
            lines.append("  " + "  ".join(cells) + "  " + row[-1])
        lines.append("")
    repeats = data.get("config", {}).get("repeat", "?")
    if any(c.get("noisy") for c in data["cases"]):
        lines.append(noisy_footer())
    lines.append(
        f"rate: median of {repeats} repeats; ratio: against {baseline} in the same section; "
        "hs: TLS handshake latency; cpu per handshake (bulk: per MB)"
    )
    return "\n".join(lines).rstrip() + "\n"


def markdown(data: dict[str, Any], baseline: str = "ssl") -> str:
    """The same as Markdown (fits a CI step summary)."""
    if data.get("config", {}).get("metric") == "instructions":
        from . import icount

        return icount.markdown(data, baseline)
    env = data.get("environment", {})
    out = [
        "## tlsbench results",
        "",
        f"{env.get('cpu', '?')}, {env.get('cores', '?')} cores; Python {env.get('python', '?')}, "
        f"{env.get('openssl', '?')}; commit `{env.get('commit', '?')}`",
        "",
    ]
    for group in grouped(data["cases"]):
        out.append(f"### {scenario_title(group[0])}")
        out.append("")
        out.append("| " + " | ".join(HEADER) + " |")
        out.append("|" + "---|" * len(HEADER))
        for row in rows(group, baseline):
            out.append("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |")
        out.append("")
    if any(c.get("noisy") for c in data["cases"]):
        out += [noisy_footer(), ""]
    out.append(f"Ratios against `{baseline}`; rates are medians of the repeats.")
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
    "transport",
    "bulk_bytes",
    "record_size",
    "unit",
    "median",
    "min",
    "max",
    "ci95_low",
    "ci95_high",
    "noisy",
    "hs_p50_ms",
    "hs_p90_ms",
    "hs_p99_ms",
    "hs_max_ms",
    "connect_p50_ms",
    "ttfb_p50_ms",
    "cpu_us_client",
    "cpu_us_server",
    "rss_mb_client",
    "rss_mb_server",
    "ops",
    "errors",
    "timeouts",
    "status",
)


def to_csv(data: dict[str, Any]) -> str:
    """One row per case."""
    if data.get("config", {}).get("metric") == "instructions":
        from . import icount

        return icount.to_csv(data)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_FIELDS)
    for c in data["cases"]:
        r, lat = c["rate"], c["latency_ms"]
        writer.writerow(
            [
                c["label"],
                c["client_impl"],
                c["server_impl"],
                c["workload"],
                c["tls"],
                c["suite"],
                c["group"],
                c["cert"],
                c.get("transport", "tcp"),
                c.get("bulk_bytes", 0),
                c.get("record_size", 0),
                r["unit"],
                r["median"],
                r["min"],
                r["max"],
                r["ci95"][0],
                r["ci95"][1],
                c["noisy"],
                lat["handshake"]["p50"],
                lat["handshake"]["p90"],
                lat["handshake"]["p99"],
                lat["handshake"]["max"],
                lat["connect"]["p50"],
                lat["ttfb"]["p50"],
                c["cpu_us_per_op"]["client"],
                c["cpu_us_per_op"]["server"],
                c["peak_rss_mb"]["client"],
                c["peak_rss_mb"]["server"],
                c["ops"],
                c["errors"],
                c["timeouts"],
                c["status"],
            ]
        )
    return buf.getvalue()


def plot(data: dict[str, Any], path: str) -> None:
    """PNG: rate per implementation with min..max error bars per scenario, and the
    distribution of handshake latencies (box plots) for the first handshake scenario."""
    if data.get("config", {}).get("metric") == "instructions":
        from . import icount

        return icount.plot(data, path)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = [g for g in grouped(data["cases"]) if any(c["status"] == "ok" for c in g)]
    hs_groups = [g for g in groups if g[0]["workload"] == "handshake"]
    n = len(groups) + (1 if hs_groups else 0)
    fig, axes = plt.subplots(n, 1, figsize=(10, 2.6 * max(n, 1)), squeeze=False)
    for ax, group in zip(axes[:, 0], groups, strict=False):
        ok = [c for c in group if c["status"] == "ok"]
        labels = [c["label"] for c in ok]
        med = [c["rate"]["median"] for c in ok]
        low = [c["rate"]["median"] - c["rate"]["min"] for c in ok]
        high = [c["rate"]["max"] - c["rate"]["median"] for c in ok]
        colors = ["tab:red" if c["noisy"] else "tab:blue" for c in ok]
        ax.barh(labels, med, xerr=[low, high], color=colors, capsize=3)
        ax.set_xlabel(ok[0]["rate"]["unit"])
        ax.set_title(scenario_title(ok[0]), fontsize=8)
        ax.invert_yaxis()
        ax.set_xscale("log" if max(med) > 50 * max(min(med), 1e-9) else "linear")
    if hs_groups:
        ax = axes[-1, 0]
        ok = [c for c in hs_groups[0] if c["status"] == "ok"]
        values = [c.get("latency_samples_ms", {}).get("handshake", []) or [0.0] for c in ok]
        ax.boxplot(values, vert=False, showfliers=False)
        ax.set_yticks(range(1, len(ok) + 1), [c["label"] for c in ok])
        ax.set_xscale("log")
        ax.set_xlabel("handshake latency, ms (box: p25..p75, whiskers 1.5 IQR)")
        ax.set_title("latency: " + scenario_title(ok[0]), fontsize=8)
        ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
