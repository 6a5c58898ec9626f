"""One self-contained HTML page of a run: ``tlsbench report/run --html FILE``.

The page is a Jinja2 template (``templates/report.html.j2``) filled with the sections
of :mod:`.report` (same grouping, titles and table cells) and matplotlib charts
inlined as SVG. It has no script and loads nothing: every chart is in the file, so it
opens from a CI artifact with no network and with JavaScript off.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from . import report
from .metrics import NOISY_SPREAD, percentile

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .compare import Verdict

Case = dict[str, Any]

# Okabe & Ito's colour-blind-safe palette; the five implementations keep their colour
# on every chart, and each also has its own marker and line style.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#000000", "#D55E00", "#CC79A7", "#56B4E9")
IMPL_STYLE = {
    "rust": ("#0072B2", "o", "-"),
    "python": ("#E69F00", "s", "--"),
    "cryptography": ("#009E73", "D", "-."),
    "ssl": ("#000000", "^", ":"),
    "tlslite": ("#D55E00", "v", (0, (5, 1, 1, 1))),
    "tcp": ("#56B4E9", "x", (0, (1, 1))),
}
_MORE_MARKERS = ("P", "X", "*", "h", "<", ">", "p")
LATENCY_KINDS = (
    ("connect", "TCP connect"),
    ("handshake", "TLS handshake"),
    ("ttfb", "time to first byte"),
)
_QUANTILES = (0, 1, 2, 5, *range(10, 91, 5), 95, 97, 98, 99, 99.5, 100)
"""Percentiles each latency curve is drawn through (the samples are sorted and thinned)."""
CHART_WIDTH = 4.8
"""Inches; the page scales every chart to its column."""
_SHORT = re.compile(r"(\d\.\d)\d+")


def fmt(x: float | None) -> str:
    """A rate or count as the tables print it: thousands separated, 3 digits below 100."""
    if x is None:
        return ""
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


class Styles:
    """A colour, marker and line style per label (implementation or client:server)."""

    def __init__(self) -> None:
        self.known: dict[str, tuple[str, str, Any]] = {}

    def __call__(self, label: str) -> tuple[str, str, Any]:
        """The style of ``label``: fixed for the five implementations, then in turn."""
        if label in IMPL_STYLE:
            return IMPL_STYLE[label]
        if label not in self.known:
            n = len(self.known)
            colour = OKABE_ITO[(n + 5) % len(OKABE_ITO)]
            self.known[label] = (colour, _MORE_MARKERS[n % len(_MORE_MARKERS)], "-")
        return self.known[label]


@dataclass
class Charts:
    """Turns matplotlib figures into inline SVG with ids unique in the page."""

    count: int = 0
    styles: Styles = field(default_factory=Styles)

    def figure(self, height: float, width: float = CHART_WIDTH) -> tuple[Figure, Axes]:
        """A new figure (inches), one axes."""
        from matplotlib.figure import Figure

        fig = Figure(figsize=(width, max(height, 1.6)), layout="constrained")
        ax = fig.add_subplot()
        ax.grid(True, which="major", axis="x", color="#d0d0d0", linewidth=0.6)
        ax.set_axisbelow(True)
        return fig, ax

    def svg(self, fig: Figure, alt: str) -> Markup:
        """The figure as an ``<svg>`` element: ids prefixed, metadata dropped, a title."""
        import matplotlib

        self.count += 1
        name = f"c{self.count}"
        buf = io.StringIO()
        with matplotlib.rc_context({"svg.hashsalt": name}):
            fig.savefig(buf, format="svg", metadata={"Date": None})
        text = buf.getvalue()
        text = text[text.index("<svg") :]
        text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
        text = re.sub(r"\s*\n\s*(?=[LMCQz])", " ", text)  # path data on one line
        text = re.sub(r"\n\s*", "\n", text)
        text = text.replace(' transform="rotate(-0 ', ' data-r="')  # a no-op rotation
        text = re.sub(r' data-r="[^"]*"', "", text)
        # Coordinates to 0.1 pt; ids only where something refers to them.
        text = re.sub(r'="([^"]*)"', lambda m: '="' + _SHORT.sub(r"\1", m[1]) + '"', text)
        used = set(re.findall(r'(?:href="#|url\(#)([^")]+)', text))
        text = re.sub(r' id="([^"]+)"', lambda m: m[0] if m[1] in used else "", text)
        text = _unwrap_plain_groups(re.sub(r"<!--.*?-->\n?", "", text, flags=re.S))
        text = re.sub(r'\bid="([^"]+)"', rf'id="{name}-\1"', text)
        text = re.sub(r'href="#([^"]+)"', rf'href="#{name}-\1"', text)
        text = re.sub(r"url\(#([^)]+)\)", rf"url(#{name}-\1)", text)
        title = str(Markup("<title>{}</title>").format(alt))
        text = re.sub(r"(<svg[^>]*>)", lambda m: f'{m[1][:-1]} role="img">{title}', text, count=1)
        return Markup(text)


def _unwrap_plain_groups(svg: str) -> str:
    """Drop the ``<g>`` elements without attributes (no-ops), keeping what they hold."""
    out: list[str] = []
    plain: list[bool] = []
    pos = 0
    for m in re.finditer(r"<g>\n?|<g\s[^>]*>|</g>\n?", svg):
        out.append(svg[pos : m.start()])
        pos = m.end()
        if m[0].startswith("</g>"):
            if not plain.pop():
                out.append(m[0])
        else:
            plain.append(m[0].startswith("<g>"))
            if not plain[-1]:
                out.append(m[0])
    out.append(svg[pos:])
    return "".join(out)


def _log_if_wide(ax: Axes, values: Iterable[float]) -> None:
    """A log x axis when the values span more than 10x, labelled 1-2-5 in plain numbers."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    v = [x for x in values if x > 0]
    if v and max(v) > 10 * min(v):
        ax.set_xscale("log")
        subs = (1.0, 2.0, 5.0) if max(v) < 1000 * min(v) else (1.0,)
        ax.xaxis.set_major_locator(LogLocator(subs=subs))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: fmt(x)))
        ax.xaxis.set_minor_formatter(NullFormatter())


def _labels(ax: Axes, labels: Sequence[str]) -> None:
    ax.set_yticks(range(len(labels)), list(labels))
    ax.set_ylim(len(labels) - 0.5, -0.5)


def rate_chart(charts: Charts, group: list[Case]) -> Markup | None:
    """Median, 95% interval and every repeat of each case's rate."""
    ok = [c for c in group if c["status"] == "ok" and c.get("rate")]
    if not ok:
        return None
    fig, ax = charts.figure(0.42 * len(ok) + 0.9)
    every = [s for c in ok for s in c["rate"]["samples"]]
    floor = min(every) / 2 if every and min(every) > 0 else 0.0
    for i, c in enumerate(ok):
        colour, marker, _ = charts.styles(c["label"])
        r = c["rate"]
        low, high = (max(r["ci95"][0], floor), r["ci95"][1])
        ax.plot([low, high], [i, i], color=colour, linewidth=5, alpha=0.3, solid_capstyle="butt")
        ax.plot(
            r["samples"],
            [i] * len(r["samples"]),
            linestyle="none",
            marker=marker,
            markersize=4,
            markerfacecolor="none",
            markeredgecolor=colour,
        )
        ax.plot(
            [r["median"]],
            [i],
            linestyle="none",
            marker="|",
            markersize=16,
            markeredgewidth=2.5,
            color=colour,
        )
    _labels(ax, [c["label"] for c in ok])
    _log_if_wide(ax, every)
    ax.set_xlabel(f"{ok[0]['rate']['unit']}: | median, ○ each repeat, band 95% interval")
    return charts.svg(fig, f"rate per implementation: {report.scenario_title(ok[0])}")


def per_side_chart(
    charts: Charts,
    group: list[Case],
    values: Sequence[tuple[float, float] | None],
    xlabel: str,
    alt: str,
) -> Markup | None:
    """Two markers per case: client (filled) and server (open), on one axis."""
    shown = [(c, v) for c, v in zip(group, values, strict=True) if v is not None]
    if not shown:
        return None
    fig, ax = charts.figure(0.42 * len(shown) + 0.9)
    for i, (c, (client, server)) in enumerate(shown):
        colour, marker, _ = charts.styles(c["label"])
        ax.plot([client, server], [i, i], color=colour, linewidth=0.8)
        ax.plot(
            [client],
            [i],
            marker=marker,
            markersize=7,
            color=colour,
            linestyle="none",
            label="client" if i == 0 else None,
        )
        ax.plot(
            [server],
            [i],
            marker=marker,
            markersize=7,
            markerfacecolor="white",
            markeredgecolor=colour,
            linestyle="none",
            label="server" if i == 0 else None,
        )
    _labels(ax, [c["label"] for c, _ in shown])
    _log_if_wide(ax, [x for _, v in shown for x in v])
    ax.set_xlabel(xlabel)
    ax.legend(loc="best", fontsize=8, frameon=False)
    return charts.svg(fig, alt)


def cpu_chart(charts: Charts, group: list[Case]) -> Markup | None:
    """CPU time per operation on each side."""
    values: list[tuple[float, float] | None] = []
    for c in group:
        cpu = c.get("cpu_us_per_op") or {}
        usable = c["status"] == "ok" and cpu.get("client", 0) > 0 and cpu.get("server", 0) > 0
        values.append((cpu["client"], cpu["server"]) if usable else None)
    per = group[0].get("cpu_per", "op")
    return per_side_chart(
        charts,
        group,
        values,
        f"CPU µs per {per}: ● client, ○ server",
        f"CPU per side: {report.scenario_title(group[0])}",
    )


def instructions_chart(charts: Charts, group: list[Case]) -> Markup | None:
    """Instructions per operation on each side."""
    values: list[tuple[float, float] | None] = []
    unit = "instructions"
    for c in group:
        block = c.get("instructions") or {}
        good = c["status"] == "ok" and block.get("client") and block.get("server")
        values.append((block["client"] / 1e6, block["server"] / 1e6) if good else None)
        unit = block.get("unit") or unit
    return per_side_chart(
        charts,
        group,
        values,
        f"millions of {unit}: ● client, ○ server",
        f"instructions per side: {report.scenario_title(group[0])}",
    )


def _curve(case: Case, kind: str) -> tuple[list[float], list[float]] | None:
    """(latencies, percentiles) of one case: from the samples, else the summary."""
    samples = [v for v in (case.get("latency_samples_ms") or {}).get(kind, []) if v > 0]
    if samples:
        s = sorted(samples)
        return [percentile(s, q) for q in _QUANTILES], list(_QUANTILES)
    summary = (case.get("latency_ms") or {}).get(kind) or {}
    points = [
        (summary[k], q)
        for k, q in (("p50", 50), ("p90", 90), ("p99", 99), ("max", 100))
        if summary.get(k, 0) > 0
    ]
    return ([p for p, _ in points], [q for _, q in points]) if points else None


def latency_chart(charts: Charts, group: list[Case], kind: str, what: str) -> Markup | None:
    """Percentile curves of one latency of every case in a section."""
    curves = [(c, _curve(c, kind)) for c in group if c["status"] == "ok"]
    drawn = [(c, cv) for c, cv in curves if cv is not None]
    if not drawn:
        return None
    fig, ax = charts.figure(3.0, width=4.3)
    for c, (xs, qs) in drawn:
        colour, marker, style = charts.styles(c["label"])
        few = len(xs) < 6
        ax.plot(
            xs,
            qs,
            color=colour,
            linestyle=style,
            linewidth=1.6,
            label=c["label"],
            marker=marker if few else None,
            markersize=4,
        )
    _log_if_wide(ax, [x for _, (xs, _) in drawn for x in xs])
    ax.grid(True, which="major", axis="y", color="#d0d0d0", linewidth=0.6)
    ax.set_ylim(0, 100)
    ax.set_yticks([0, 25, 50, 75, 90, 100])
    ax.set_ylabel("percentile")
    ax.set_xlabel(f"{what}, ms")
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    return charts.svg(fig, f"{what} percentiles: {report.scenario_title(group[0])}")


def noisy_reason(case: Case) -> str:
    """Why a case is flagged noisy, or ''."""
    if not case.get("noisy"):
        return ""
    samples = ", ".join(fmt(s) for s in (case.get("rate") or {}).get("samples", []))
    return (
        f"NOISY: its repeats spread {case['spread']:.0%} of the median (max - min; the flag "
        f"is raised past {NOISY_SPREAD:.0%}); repeats: {samples}"
    )


DETAIL_HEADER = (
    "impl",
    "rate (median)",
    "95% interval",
    "each repeat",
    "connect ms p50/p90/p99/max",
    "handshake ms p50/p90/p99/max",
    "ttfb ms p50/p90/p99/max",
    "CPU client | server",
    "instructions client | server",
    "note",
)


def case_detail(case: Case) -> list[str]:
    """One case's cells of the detail table (:data:`DETAIL_HEADER`)."""
    rate = case.get("rate") or {}
    lat = case.get("latency_ms") or {}
    cpu = case.get("cpu_us_per_op") or {}
    block = case.get("instructions") or {}

    def pcts(kind: str) -> str:
        s = lat.get(kind) or {}
        return " / ".join(f"{s.get(k, 0):.3g}" for k in ("p50", "p90", "p99", "max")) if s else ""

    notes = [n for n in (noisy_reason(case),) if n]
    if case["status"] != "ok":
        notes.append(f"{case['status']}: {case.get('reason', '')}")
    elif case.get("errors") or case.get("timeouts"):
        notes.append(f"{case['errors']} failed, {case['timeouts']} timed out")
    ok = case["status"] == "ok"
    return [
        case["label"],
        f"{fmt(rate['median'])} {rate['unit']}" if rate and ok else "",
        f"{fmt(rate['ci95'][0])} .. {fmt(rate['ci95'][1])}" if rate and ok else "",
        ", ".join(fmt(s) for s in rate.get("samples", [])),
        pcts("connect") if ok else "",
        pcts("handshake") if ok else "",
        pcts("ttfb") if ok else "",
        f"{fmt(cpu['client'])} | {fmt(cpu['server'])} µs/{case.get('cpu_per', 'op')}"
        if cpu and ok
        else "",
        f"{fmt(block.get('client'))} | {fmt(block.get('server'))} {block.get('unit', '')}"
        if block and ok
        else "",
        "; ".join(notes),
    ]


def _section(
    charts: Charts, group: list[Case], baseline: str, index: int, instructions: bool
) -> dict[str, Any]:
    title = report.scenario_title(group[0])
    ok = [c for c in group if c["status"] == "ok"]
    has_rates = all(c.get("rate") for c in ok) and (bool(ok) or not instructions)
    tables = []
    if instructions:
        from . import icount

        per = "MB" if group[0]["workload"] == "bulk" else "handshake"
        tables.append(
            {
                "caption": f"as the terminal shows it: millions of instructions per {per} on "
                f"each side (ratio: against {baseline} per side)",
                "header": icount.HEADER,
                "rows": icount.rows(group, baseline),
            }
        )
    if has_rates:
        tables.append(
            {
                "caption": f"as the terminal shows it (ratio: against {baseline})",
                "header": report.HEADER,
                "rows": report.rows(group, baseline),
            }
        )
    figures = [
        (instructions_chart(charts, group) if instructions else None, "instructions per side"),
        (rate_chart(charts, group) if has_rates else None, "rate"),
        (cpu_chart(charts, group), "CPU per side"),
    ]
    # A bulk repeat makes a few connections: its handshakes alone get a chart.
    bulk = group[0]["workload"] == "bulk"
    latency = [
        (latency_chart(charts, group, kind, what), f"{what} percentiles")
        for kind, what in LATENCY_KINDS
        if not bulk or kind == "handshake"
    ]
    return {
        "id": f"s{index}",
        "title": title,
        "tables": tables,
        "figures": [{"svg": svg, "caption": cap} for svg, cap in figures if svg is not None],
        "latency": [{"svg": svg, "caption": cap} for svg, cap in latency if svg is not None],
        "detail_header": DETAIL_HEADER,
        "details": [case_detail(c) for c in group],
        "noisy": [c["label"] for c in group if c.get("noisy")],
    }


def environment_rows(data: dict[str, Any]) -> list[tuple[str, str]]:
    """(name, value) of where and how the run was measured."""
    env = data.get("environment", {})
    config = data.get("config", {})
    build = env.get("core_build") or {}
    rows = [
        ("CPU", f"{env.get('cpu', '?')}, {env.get('cores', '?')} cores"),
        ("CPU flags", " ".join(env.get("cpu_flags", [])) or "none listed"),
        ("OS", str(env.get("os", "?"))),
        ("Python", str(env.get("python", "?"))),
        ("OpenSSL (ssl)", str(env.get("openssl", "?"))),
        ("cryptography", str(env.get("cryptography", "?"))),
        ("tlslite-ng", str(env.get("tlslite", "?"))),
        ("tlsbench", str(env.get("tlsbench", "?"))),
        ("core build", ", ".join(f"{k} {v}" for k, v in build.items()) or "?"),
        ("commit", str(env.get("commit", "?"))),
        ("date", str(env.get("date", "?"))),
        ("metric", str(config.get("metric", "wall"))),
        ("repeats", str(config.get("repeat", "?"))),
        ("command", " ".join(["tlsbench", *config.get("argv", ["run"])])),
    ]
    return rows


def _short(title: str) -> str:
    return " ".join(title.split(" | ")[:2])


def comparison(
    charts: Charts, base: dict[str, Any], new: dict[str, Any], max_regression: float | None
) -> dict[str, Any]:
    """The change of every case of NEW against BASE, worst regressions first."""
    from .compare import verdicts

    found = verdicts(base, new, max_regression)
    cells = [
        [
            v.label,
            v.title,
            v.metric,
            fmt(v.base),
            fmt(v.new),
            v.unit,
            "" if v.change is None else f"{v.change:+.1%}",
            "" if v.low is None or v.high is None else f"{v.low:+.1%} .. {v.high:+.1%}",
            v.verdict,
        ]
        for v in found
    ]
    env = base.get("environment", {})
    return {
        "header": COMPARISON_HEADER,
        "cells": cells,
        "classes": [_verdict_class(v) for v in found],
        "regressions": sum(v.regression for v in found),
        "limit": max_regression,
        "base": f"commit {env.get('commit', '?')}, {env.get('date', '?')}",
        "chart": change_chart(charts, found),
    }


COMPARISON_HEADER = (
    "impl",
    "section",
    "metric",
    "base",
    "new",
    "unit",
    "change",
    "95% interval",
    "verdict",
)


def _verdict_class(v: Verdict) -> str:
    if v.regression:
        return "v-regression"
    return {
        "faster": "v-better",
        "fewer instructions": "v-better",
        "slower": "v-worse",
        "more instructions": "v-worse",
        "missing": "v-missing",
    }.get(v.verdict, "v-same")


VERDICT_COLOURS = {
    "v-regression": "#D55E00",
    "v-worse": "#E69F00",
    "v-better": "#0072B2",
    "v-same": "#777777",
}


def change_chart(charts: Charts, found: list[Verdict]) -> Markup | None:
    """Each change with its interval, in the table's order (worst regressions on top)."""
    shown = [v for v in found if v.change is not None]
    if not shown:
        return None
    fig, ax = charts.figure(0.3 * len(shown) + 1.0)
    for i, v in enumerate(shown):
        assert v.change is not None
        colour = VERDICT_COLOURS[_verdict_class(v)]
        if v.low is not None and v.high is not None:
            ax.plot(
                [v.low * 100, v.high * 100],
                [i, i],
                color=colour,
                linewidth=4,
                alpha=0.35,
                solid_capstyle="butt",
            )
        ax.plot(
            [v.change * 100],
            [i],
            marker="D" if v.regression else "o",
            color=colour,
            linestyle="none",
            markersize=5,
        )
    ax.axvline(0, color="#333333", linewidth=0.8)
    metric = {"rate": ""}
    _labels(
        ax, [f"{v.label} · {_short(v.title)}{metric.get(v.metric, ' ' + v.metric)}" for v in shown]
    )
    ax.tick_params(axis="y", labelsize=7)
    ax.set_xlabel("change NEW vs BASE, % (band: 95% interval; rates: + is faster)")
    return charts.svg(fig, "change per case against the base run")


def ladder_chart(charts: Charts, trace: dict[str, Any]) -> Markup:
    """The trace's ladder as the walkthrough draws it: one row per step, times at both ends,
    the message above its arrow and the key that protected it below."""
    rows = trace["ladder"]
    fig, ax = charts.figure(0.5 * len(rows) + 0.5, width=4.8)
    ax.grid(False)
    ax.set_xlim(-0.34, 1.34)
    ax.set_ylim(len(rows) - 0.3, -1.0)
    ax.axis("off")
    for x, who in ((0, "client"), (1, "server")):
        ax.plot([x, x], [-0.55, len(rows) - 0.4], color="#555555", linewidth=1)
        ax.text(x, -0.65, who, ha="center", va="bottom", fontsize=9.5, weight="bold")
    ax.text(-0.05, -0.65, "ms", ha="right", va="bottom", fontsize=8.5)
    ax.text(1.05, -0.65, "ms", ha="left", va="bottom", fontsize=8.5)
    for i, m in enumerate(rows):
        client_to_server = m["from"] == "client"
        start, end = (0.0, 1.0) if client_to_server else (1.0, 0.0)
        key = m.get("key")
        colour = "#555555" if m["kind"] == "tcp" else "#0072B2" if key else "#000000"
        ax.annotate(
            "",
            xy=(end, i),
            xytext=(start, i),
            arrowprops={
                "arrowstyle": "-|>",
                "color": colour,
                "linewidth": 1.2,
                "linestyle": "--" if m["kind"] == "tcp" else "-",
            },
        )
        if m["kind"] == "tcp":
            label = f"{m['name']} {m['duration_ms']:.3f} ms"
        elif m["kind"] == "application_data":
            label = f"{m['name']} {m['size']} B: {m.get('content', '')}"
        else:
            label = f"{m['name']} {m['size']} B"
        ax.text(0.5, i - 0.08, label, ha="center", va="bottom", fontsize=8.5, color=colour)
        if m["kind"] != "tcp":
            ax.text(0.5, i + 0.1, key or "plaintext", ha="center", va="top", fontsize=7,
                    color=colour, style="italic")  # fmt: skip
        left, right = (
            (m["sent_ms"], m["received_ms"])
            if client_to_server
            else (m["received_ms"], m["sent_ms"])
        )
        ax.text(-0.05, i, f"{left:.3f}", ha="right", va="center", fontsize=8.5)
        ax.text(1.05, i, f"{right:.3f}", ha="left", va="center", fontsize=8.5)
    return charts.svg(fig, "handshake ladder of the traced connection")


def trace_view(charts: Charts, trace: dict[str, Any]) -> dict[str, Any]:
    """The ladder (chart and the walkthrough's text) and the CPU split of a trace."""
    from .trace import render

    neg = trace.get("negotiated") or {}
    cpu = trace.get("cpu_ms") or {}
    parts = list(cpu.get("client", {}))
    return {
        "title": (
            f"TLS {neg.get('version', trace['tls'])} {neg.get('suite', trace['suite'])} "
            f"{neg.get('group', trace['group'])}, {trace['cert']} certificate, "
            f"provider {trace['provider']}"
        ),
        "svg": ladder_chart(charts, trace),
        "text": render(trace),
        "cpu": [(p, f"{cpu['client'][p]:.3f}", f"{cpu['server'].get(p, 0):.3f}") for p in parts],
    }


def load_trace(path: str | Path) -> dict[str, Any]:
    """A ``tlsbench trace --json`` file; ValueError naming what is wrong."""
    try:
        trace = json.loads(Path(path).read_text())
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not JSON: {exc}") from None
    needed = ("ladder", "tls", "suite", "group", "cert", "provider", "cpu_ms")
    if not isinstance(trace, dict) or any(k not in trace for k in needed):
        raise ValueError(f"{path} is not a tlsbench trace --json file (it has no ladder)")
    return trace


def same_cases(base: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether two results documents share a case (so NEW can be judged against BASE)."""

    def keys(data: dict[str, Any]) -> set[tuple[str, ...]]:
        return {(c["client_impl"], c["server_impl"], *report.scenario(c)) for c in data["cases"]}

    return bool(keys(base) & keys(new))


def render(
    data: dict[str, Any],
    baseline: str = "ssl",
    base: dict[str, Any] | None = None,
    trace: dict[str, Any] | None = None,
    max_regression: float | None = None,
) -> str:
    """The page of ``data``; with ``base``, each case's change against it; with ``trace``,
    the ladder. ValueError when ``base`` cannot be compared with ``data``."""
    import matplotlib

    with matplotlib.rc_context(
        {
            "svg.fonttype": "none",  # text stays text: small, and searchable in the page
            "font.family": "sans-serif",
            "font.sans-serif": ["DejaVu Sans"],
            "font.size": 9,
        }
    ):
        return _render(data, baseline, base, trace, max_regression)


def _render(
    data: dict[str, Any],
    baseline: str,
    base: dict[str, Any] | None,
    trace: dict[str, Any] | None,
    max_regression: float | None,
) -> str:
    charts = Charts()
    instructions = data.get("config", {}).get("metric") == "instructions"
    env = Environment(
        loader=PackageLoader("tlsbench.harness", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    compared = comparison(charts, base, data, max_regression) if base is not None else None
    sections = [
        _section(charts, group, baseline, i, instructions)
        for i, group in enumerate(report.grouped(data["cases"]), 1)
    ]
    return env.get_template("report.html.j2").render(
        environment=environment_rows(data),
        sections=sections,
        comparison=compared,
        trace=trace_view(charts, trace) if trace is not None else None,
        baseline=baseline,
        instructions=instructions,
        noisy_limit=f"{NOISY_SPREAD:.0%}",
        commit=data.get("environment", {}).get("commit", "?"),
        date=data.get("environment", {}).get("date", "?"),
    )


def write(path: str | Path, data: dict[str, Any], **kwargs: Any) -> None:
    """Write :func:`render` of ``data`` to ``path``."""
    Path(path).write_text(render(data, **kwargs), encoding="utf-8")
