"""The outcomes chart: mean change per ONS4 measure with its 95 % interval, and share improving."""

from __future__ import annotations

from typing import Any

from matplotlib.figure import Figure

from agency.reports.charts import COLOURS, _figure

LABELS = {
    "life_satisfaction": "Life satisfaction",
    "worthwhile": "Worthwhile",
    "happiness": "Happiness yesterday",
    "anxiety": "Anxiety yesterday (lower is better)",
}


def outcomes_chart(report: dict[str, Any]) -> Figure:
    total = report["total"]
    note = (
        f"{total['with_follow_up'] if total['with_follow_up'] is not None else '<5'} with baseline"
        f" and follow-up · fewer than {report['suppression_threshold']} pairs: suppressed"
        " · ONS4 (OGL v3.0)"
    )
    figure, (left, right) = _figure("Wellbeing change (ONS4), 0-10 scale", report, 2, note)
    measures = total["measures"]
    labels = [LABELS[m["measure"]] for m in measures]
    for y, m in enumerate(measures):
        if m["suppressed"] or m["mean_change"] is None:
            left.text(0, y, "suppressed" if m["suppressed"] else "no pairs", va="center")
            continue
        left.errorbar(
            m["mean_change"],
            y,
            xerr=[[m["mean_change"] - m["ci_low"]], [m["ci_high"] - m["mean_change"]]],
            fmt="o",
            color=COLOURS[0],
            capsize=4,
        )
        left.text(m["ci_high"], y + 0.2, f" {m['mean_change']:+.2f} (n={m['pairs']})", fontsize=8)
    left.axvline(0, color="#999", linewidth=1)
    left.set_yticks(range(len(labels)), labels)
    left.set_ylim(len(labels) - 0.5, -0.5)
    left.set_xlabel("Mean change, follow-up minus baseline (points; 95 % CI)")
    left.grid(axis="x", alpha=0.3)
    shares = [(m["share_improving"] or 0) * 100 for m in measures]
    right.barh(range(len(labels)), shares, color=COLOURS[4])
    for y, m in enumerate(measures):
        text = "suppressed" if m["suppressed"] else f"{shares[y]:.0f} %"
        right.text(shares[y] + 1, y, text, va="center", fontsize=8)
    right.set_yticks(range(len(labels)), labels)
    right.set_ylim(len(labels) - 0.5, -0.5)
    right.set_xlim(0, 110)
    right.set_xlabel("Share improving (%)")
    right.grid(axis="x", alpha=0.3)
    return figure
