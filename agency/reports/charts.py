"""Charts a council officer can drop into a paper: title, axes with units, period and scope.

Drawn with matplotlib's object API (no pyplot, so no global state between requests) on the
Agg canvas, with the bundled DejaVu fonts; SVG keeps text as text so it stays searchable.
"""

from __future__ import annotations

import hashlib
import io
import json
import textwrap
import threading
from collections import OrderedDict
from typing import Any

import matplotlib

matplotlib.use("Agg")
# Set once at import (rc_context per request would change global state under threads).
matplotlib.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "agency-reports"})

from matplotlib.figure import Figure  # noqa: E402

CONTENT_TYPES = {"png": "image/png", "svg": "image/svg+xml"}
COLOURS = ["#1b6ca8", "#5aa9e6", "#f2a541", "#c8553d", "#7a9e7e", "#8f6593"]


def _figure(title: str, report: dict[str, Any], panels: int, note: str = "") -> tuple[Figure, Any]:
    figure = Figure(figsize=(12.5, 5.6), dpi=100, layout="constrained")
    figure.suptitle(title, fontsize=14, fontweight="bold")
    scope = report["scope"]
    period = f"{_day(scope['period_start'])} to {_day(scope['period_end'])}"
    subtitle = f"{period} · {scope['description']}" + (f" · {note}" if note else "")
    axes = figure.subplots(1, panels, squeeze=False)[0]
    figure.text(0.5, 0.005, subtitle, ha="center", va="bottom", fontsize=9, color="#444")
    figure.get_layout_engine().set(rect=(0, 0.04, 1, 0.96))  # type: ignore[union-attr]
    return figure, axes


def _day(value: Any) -> str:
    return f"{value.day} {value:%b %Y}" if hasattr(value, "day") else str(value)


def render(figure: Figure, fmt: str) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt, metadata={"Date": None} if fmt == "svg" else None)
    return buffer.getvalue()


_DRAWN: OrderedDict[tuple[str, str, str], bytes] = OrderedDict()
_DRAWN_LOCK = threading.Lock()
DRAWN_KEPT = 64  # charts kept per process (~20-90 KB each)


def drawn(name: str, report: dict[str, Any], fmt: str) -> bytes:
    """The chart ``name`` of ``report`` as ``fmt`` bytes, drawn once per distinct report.

    Drawing is the costly part of a chart request (matplotlib: 50-250 ms; the report's
    figures are a few ms), and the same figures are asked for again and again (a console
    page reloaded, a council's dashboard polling). The figures are computed afresh every
    request; only the drawing of figures already drawn is reused, keyed by every value of
    the report except ``scope.generated_at``, which no chart draws.
    """
    scope = {k: v for k, v in report["scope"].items() if k != "generated_at"}
    canonical = json.dumps({**report, "scope": scope}, sort_keys=True, default=str)
    key = (name, fmt, hashlib.sha256(canonical.encode()).hexdigest())
    with _DRAWN_LOCK:
        if key in _DRAWN:
            _DRAWN.move_to_end(key)
            return _DRAWN[key]
    image = render(CHARTS[name](report), fmt)
    with _DRAWN_LOCK:
        _DRAWN[key] = image
        while len(_DRAWN) > DRAWN_KEPT:
            _DRAWN.popitem(last=False)
    return image


def _pounds(pence: int) -> str:
    return f"£{pence / 100:,.0f}"


def _bars(axis: Any, labels: list[str], values: list[float], texts: list[str], **kw: Any) -> None:
    positions = range(len(labels))
    axis.barh(list(positions), values, color=kw.get("color", COLOURS[0]))
    axis.set_yticks(list(positions), [textwrap.fill(label, 24) for label in labels])
    axis.invert_yaxis()
    top = max(values, default=0) or 1
    for y, (value, text) in enumerate(zip(values, texts, strict=True)):
        axis.text(value + top * 0.01, y, text, va="center", fontsize=8)
    axis.set_xlim(0, top * 1.35)
    axis.grid(axis="x", alpha=0.3)
    axis.locator_params(axis="x", nbins=4)


def local_spend_chart(report: dict[str, Any]) -> Figure:
    total = report["total"]
    note = (
        f"total paid {_pounds(total['amount_pence'])}; VCSE {total['vcse_share']:.0%}; "
        f"micro and sole traders {total['micro_share']:.0%}"
    )
    figure, axes = _figure("Local spend: where ISF money paid to providers went", report, 3, note)
    for axis, dimension, heading in zip(
        axes,
        ["locality", "size", "sector"],
        ["Provider's base (concentric circles)", "Provider size", "Provider sector"],
        strict=True,
    ):
        items = total[f"by_{dimension}"]
        _bars(
            axis,
            [i["category"].replace("_", " ") for i in items],
            [i["amount_pence"] / 100 for i in items],
            [f"{_pounds(i['amount_pence'])} ({i['share']:.0%})" for i in items],
            color=COLOURS[["locality", "size", "sector"].index(dimension)],
        )
        axis.set_title(heading, fontsize=10)
        axis.set_xlabel("Paid to providers (£)")
        axis.xaxis.set_major_formatter(lambda v, _: f"£{v:,.0f}")
    return figure


def unmet_need_chart(report: dict[str, Any]) -> Figure:
    note = f"{report['requests']} open requests, {report['hours_per_week']:g} hours a week"
    figure, (left, right) = _figure("Unmet need for care at home", report, 2, note)
    areas = report["areas"][:12]
    _bars(
        left,
        [a["label"] for a in areas],
        [a["hours_per_week"] for a in areas],
        [f"{a['requests']} req., median wait {a['median_wait_days']:g} d" for a in areas],
        color=COLOURS[3],
    )
    left.set_title("Unmet hours by neighbourhood", fontsize=10)
    left.set_xlabel("Requested hours per week (unmet)")
    short = report["shortest"]
    labels = [f"{s['neighbourhood_name']}: {s['service'].replace('_', ' ')}" for s in short]
    _bars(
        right,
        labels,
        [s["requested_hours"] for s in short],
        [f"{s['available_hours']:g} h spare" for s in short],
        color=COLOURS[2],
    )
    right.set_title("Where supply is shortest (label: spare provider hours)", fontsize=10)
    right.set_xlabel("Requested hours per week (unmet)")
    return figure


def funnel_chart(report: dict[str, Any]) -> Figure:
    medians = report["median_hours"]
    note = "median hours to first suggestion {}, introduction {}, arrangement {}".format(
        *(_hours(medians[k]) for k in medians)
    )
    figure, (left, right) = _figure("The matching funnel", report, 2, note)
    steps = report["steps"]
    _bars(
        left,
        [s["step"] for s in steps],
        [s["count"] for s in steps],
        [f"{s['count']} ({s['conversion_from_previous']:.0%} of previous)" for s in steps],
    )
    left.set_title("Care requests made in the period that reached each step", fontsize=10)
    left.set_xlabel("Care requests (count)")
    reasons = [
        (f"{side.split('_')[0]}: {r['reason']}"[:48], r["count"])
        for side, items in report["decline_reasons"].items()
        for r in items[:5]
    ]
    _bars(
        right,
        [r[0] for r in reasons],
        [r[1] for r in reasons],
        [str(r[1]) for r in reasons],
        color=COLOURS[3],
    )
    right.set_title("Reasons given for declines (top 5 per side)", fontsize=10)
    right.set_xlabel("Declined introductions (count)")
    return figure


def _hours(value: float | None) -> str:
    return "n/a" if value is None else f"{value:g}"


def prompt_payment_chart(report: dict[str, Any]) -> Figure:
    total, overdue = report["total"], report["overdue"]
    note = (
        f"{total['invoices']} paid invoices, median {_hours(total['median_days'])} d; "
        f"{overdue['invoices']} unpaid > {report['threshold_days']} d"
    )
    figure, (axis,) = _figure(
        "Prompt payment: days from approval to provider paid", report, 1, note
    )
    months = report["months"]
    positions = list(range(len(months)))
    for offset, key, label, colour in [
        (-0.27, "median_days", "median", COLOURS[0]),
        (0.0, "p90_days", "90th percentile", COLOURS[2]),
        (0.27, "worst_days", "worst", COLOURS[3]),
    ]:
        axis.bar(
            [p + offset for p in positions],
            [m[key] for m in months],
            0.27,
            label=label,
            color=colour,
        )
    axis.axhline(
        report["threshold_days"],
        color="#444",
        linestyle="--",
        linewidth=1,
        label=f"threshold ({report['threshold_days']} days)",
    )
    axis.set_xticks(positions, [m["month"] for m in months], rotation=45, ha="right")
    axis.set_xlabel("Month paid (UTC)")
    axis.set_ylabel("Days from approval to paid")
    axis.legend(fontsize=8)
    axis.grid(axis="y", alpha=0.3)
    return figure


def fairness_chart(report: dict[str, Any]) -> Figure:
    total = report["total"]
    note = (
        f"Gini {total['gini']:.2f}; top 10 % of providers get {total['top_decile_share']:.0%} "
        f"of hours; {total['providers_with_work']} of {total['providers']} providers have work"
    )
    figure, (axis,) = _figure(
        "Fairness of work: how hours spread across providers", report, 1, note
    )
    xs, ys, people, hours = [0.0], [0.0], 0, 0.0
    for decile in total["deciles"]:
        people += decile["providers"]
        hours += decile["hours_per_week"]
        xs.append(people / (total["providers"] or 1))
        ys.append(hours / (total["hours_per_week"] or 1))
    axis.plot([0, 1], [0, 1], color="#888", linestyle="--", label="perfect equality")
    axis.plot(xs, ys, marker="o", color=COLOURS[0], label="Lorenz curve (by tenth of providers)")
    axis.fill_between(xs, ys, xs, alpha=0.15, color=COLOURS[0])
    axis.set_xlabel("Share of providers, fewest hours first (%)")
    axis.set_ylabel("Share of weekly hours in active arrangements (%)")
    axis.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    axis.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    axis.set_aspect("equal")
    axis.legend(fontsize=8, loc="upper left")
    return figure


def outcomes_chart(report: dict[str, Any]) -> Figure:
    from agency.outcomes.chart import outcomes_chart as chart  # it draws with this module

    return chart(report)


def equal_access_chart(report: dict[str, Any]) -> Figure:
    from agency.equality.chart import equal_access_chart as chart  # it draws with this module

    return chart(report)


CHARTS = {
    "local-spend": local_spend_chart,
    "unmet-need": unmet_need_chart,
    "funnel": funnel_chart,
    "prompt-payment": prompt_payment_chart,
    "fairness": fairness_chart,
    "outcomes": outcomes_chart,
    "equal-access": equal_access_chart,
}
