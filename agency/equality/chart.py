"""The equal-access chart: matched share per category beside the whole population's."""

from __future__ import annotations

import textwrap
from typing import Any

from matplotlib.figure import Figure

from agency.reports.charts import COLOURS, _day


def equal_access_chart(report: dict[str, Any]) -> Figure:
    figure = Figure(figsize=(15, 9), dpi=100, layout="constrained")
    figure.suptitle("Equal access: share of requests matched, by characteristic", fontsize=14)
    scope = report["scope"]
    figure.text(
        0.5,
        0.005,
        f"{_day(scope['period_start'])} to {_day(scope['period_end'])} · {scope['description']}"
        f"\nSuppression: {report['suppression_rule']}.",
        ha="center",
        va="bottom",
        fontsize=9,
        color="#444",
    )
    figure.get_layout_engine().set(rect=(0, 0.06, 1, 0.94))  # type: ignore[union-attr]
    axes = figure.subplots(2, 4).flatten()
    overall = report["population"]["matched_share"]
    for axis, block in zip(axes, report["characteristics"], strict=False):
        cells = [c for c in block["categories"] if c["suppressed"] or c["people"]]
        labels = [c["category"].replace("_", " ") for c in cells]
        shares = [(c["matched_share"] or 0) * 100 for c in cells]
        axis.barh(range(len(cells)), shares, color=COLOURS[1])
        for y, cell in enumerate(cells):
            if cell["suppressed"]:
                text = "suppressed"
            elif cell["matched_share"] is None:
                text = f"n={cell['people']}, share withheld"
            else:
                text = f"{shares[y]:.0f} % (n={cell['people']})"
            axis.text(shares[y] + 1, y, text, va="center", fontsize=7)
        if overall is not None:
            axis.axvline(overall * 100, color=COLOURS[3], linestyle="--", linewidth=1)
        axis.set_yticks(range(len(cells)), [textwrap.fill(label, 18) for label in labels])
        axis.set_ylim(len(cells) - 0.5, -0.5)
        axis.set_xlim(0, 130)
        axis.set_title(block["characteristic"].replace("_", " "), fontsize=10)
        axis.tick_params(labelsize=7)
    legend = axes[-1]
    legend.axis("off")
    legend.text(
        0,
        0.5,
        textwrap.fill(
            "Bars: % of requests matched per category. Dashed line: the whole population"
            f" ({'suppressed' if overall is None else f'{overall * 100:.0f} %'}). "
            + report["suppression_rule"]
            + ".",
            40,
        ),
        fontsize=9,
        va="center",
    )
    return figure
