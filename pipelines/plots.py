"""The run report's charts, as inline SVG: no script, no font file, no request, so the page is
one file that opens offline, prints, and can be mailed.

Every bar is a `<g class="bar">` carrying `data-chart`, `data-series`, `data-label` and
`data-value` (the exact number, unrounded by the drawing) and a `<title>` a browser shows on
hover: what a reader sees is what a test can read back.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from markupsafe import Markup, escape

# colour-blind-safe (Okabe-Ito)
COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")


def number(value: float | None) -> str:
    """A figure as a person reads it: 12,345 / 0.0421 / 3.2e-05; "n/a" when unknown."""
    if value is None:
        return "n/a"
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    if value != 0 and abs(value) < 0.001:
        return f"{value:.2e}"
    return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"


def _nice(top: float) -> float:
    """The axis maximum: 1, 2 or 5 times a power of ten at or above `top`."""
    if top <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(top))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= top)


def _bar(chart: str, series: str, label: str, value: float, x: float, y: float, w: float,
         h: float, colour: str) -> str:  # fmt: skip
    return (
        f'<g class="bar" data-chart="{escape(chart)}" data-series="{escape(series)}" '
        f'data-label="{escape(label)}" data-value="{value}">'
        f"<title>{escape(label)}{' (' + escape(series) + ')' if series else ''}: "
        f"{number(value)}</title>"
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{h:.1f}" '
        f'fill="{colour}"/></g>'
    )


def bars(chart: str, rows: Sequence[tuple[str, float]], *, colour: str = COLOURS[0]) -> Markup:
    """Horizontal bars, one per (label, value), each labelled with its value."""
    label_w, plot_w, row_h, pad = 200, 380, 24, 6
    top = _nice(max((v for _, v in rows), default=0))
    height = row_h * len(rows) + 2 * pad
    parts = [
        f'<svg class="chart" data-chart="{escape(chart)}" role="img" aria-label="'
        f'{escape(chart)}" viewBox="0 0 {label_w + plot_w + 110} {height}" '
        f'width="{label_w + plot_w + 110}" height="{height}">'
    ]
    for i, (label, value) in enumerate(rows):
        y = pad + i * row_h
        w = plot_w * (value or 0) / top
        parts.append(f'<text x="{label_w - 8}" y="{y + row_h * 0.65:.1f}" '
                     f'text-anchor="end">{escape(label)}</text>')  # fmt: skip
        parts.append(_bar(chart, "", label, value, label_w, y + 3, w, row_h - 6, colour))
        parts.append(f'<text x="{label_w + w + 6:.1f}" y="{y + row_h * 0.65:.1f}" '
                     f'class="value">{number(value)}</text>')  # fmt: skip
    parts.append("</svg>")
    return Markup("".join(parts))


def columns(
    chart: str,
    categories: Sequence[str],
    series: Mapping[str, Sequence[float]],
    *,
    stacked: bool = False,
    x_title: str = "",
    colours: Sequence[str] = COLOURS,
) -> Markup:
    """Vertical columns per category: several series side by side, or `stacked`; a legend when
    there is more than one series, a y axis with three ticks."""
    names = list(series)
    plot_h, left, bottom, legend = 200, 64, 46, 24 if len(names) > 1 else 6
    slot = max(18, min(64, 640 // max(len(categories), 1)))
    width = left + slot * len(categories) + 16
    height = legend + plot_h + bottom
    totals = [sum(series[n][i] for n in names) if stacked else max(series[n][i] for n in names)
              for i in range(len(categories))]  # fmt: skip
    top = _nice(max(totals, default=0))
    parts = [
        f'<svg class="chart" data-chart="{escape(chart)}" role="img" aria-label="'
        f'{escape(chart)}" viewBox="0 0 {width} {height}" width="{width}" height="{height}">'
    ]
    for k, name in enumerate(names if len(names) > 1 else []):  # legend
        x = left + k * 130
        parts.append(f'<rect x="{x}" y="6" width="12" height="12" fill="{colours[k]}"/>'
                     f'<text x="{x + 16}" y="16">{escape(name)}</text>')  # fmt: skip
    base = legend + plot_h
    for tick in (0, top / 2, top):  # y axis
        y = base - plot_h * tick / top
        parts.append(f'<line x1="{left - 4}" x2="{width - 8}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'class="grid"/><text x="{left - 8}" y="{y + 4:.1f}" '
                     f'text-anchor="end" class="tick">{number(tick)}</text>')  # fmt: skip
    gap = 0.2 * slot
    for i, category in enumerate(categories):
        x0, stack = left + i * slot + gap / 2, 0.0
        w = (slot - gap) if stacked else (slot - gap) / len(names)
        for k, name in enumerate(names):
            value = series[name][i]
            h = plot_h * value / top
            if stacked:
                y, x = base - plot_h * stack / top - h, x0
                stack += value
            else:
                y, x = base - h, x0 + k * w
            parts.append(_bar(chart, name if len(names) > 1 else "", category, value, x, y, w,
                              h, colours[k % len(colours)]))  # fmt: skip
        cx = left + i * slot + slot / 2
        parts.append(
            f'<text x="{cx:.1f}" y="{base + 14}" text-anchor="end" class="tick" '
            f'transform="rotate(-35 {cx:.1f} {base + 14})">{escape(category)}</text>'
        )
    if x_title:
        parts.append(f'<text x="{left + (width - left) / 2:.1f}" y="{height - 2}" '
                     f'text-anchor="middle" class="tick">{escape(x_title)}</text>')  # fmt: skip
    parts.append("</svg>")
    return Markup("".join(parts))
