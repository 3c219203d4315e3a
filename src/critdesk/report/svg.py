"""Charts as inline SVG, drawn on the server: no script, no network, no front-end build.

Two kinds, both horizontal so that long labels (organisations, bug titles) stay readable:

* ``bar_chart`` — one bar per category, split into stacked segments by series (met / breached
  / running, …), each segment labelled with its value when it is wide enough and each bar with
  its total;
* ``box_chart`` — one row per category of a duration's distribution: whiskers from the minimum
  to the maximum, a box from the 25th to the 75th percentile, the median as a bar across it and
  the 90th percentile as a diamond, with the median and the 90th percentile written out.

Every chart is ``<svg role="img">`` named by its ``<title>`` and described by a ``<desc>`` that
states the figures in words, with axis labels and a legend. Colours come from presentation
attributes only, never ``style``: the pages' Content-Security-Policy allows no inline styles.
All text is escaped here; the functions return ``Markup`` for the templates.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from critdesk.templating import duration

WIDTH = 760
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', Arial, sans-serif"
TEXT = "#1b2330"
MUTED = "#5d6878"
GRID = "#dfe3ea"
CHAR_WIDTH = 6.6  # at the 12 px label size: enough to size the label column
MAX_LABEL_CHARS = 32
BAR_ROW = 30
BAR_HEIGHT = 18
BOX_ROW = 44
TOP = 40  # room for the legend
BOTTOM = 52  # room for the ticks and the axis label
RIGHT = 56  # room for the bar totals
MIN_SEGMENT_LABEL = 26  # px: narrower segments carry no number (the total and table do)

# Colours that carry meaning across the pages (critdesk.css): green met, red breached, ...
MET = "#1d7a3a"
BREACHED = "#c62828"
RUNNING = "#a86400"

Formatter = Callable[[float], str]


def plain_number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def short_duration(seconds: float) -> str:
    """A duration for an axis or a label, as the pages write one ("1 h 30 min"), rounded to the
    second rather than cut (an axis tick at 59.6 s reads "1 min")."""
    return duration(round(seconds))


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    colour: str


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    values: tuple[float, ...]  # one per series

    @property
    def total(self) -> float:
        return float(sum(self.values))


@dataclass(frozen=True, slots=True)
class Box:
    label: str
    count: int
    minimum: float | None
    p25: float | None
    median: float | None
    p75: float | None
    p90: float | None
    maximum: float | None


# --- scales -------------------------------------------------------------------------------------


def nice_ticks(maximum: float, target: int = 5) -> list[float]:
    """0 and steps of 1, 2 or 5 × 10^n up to at least ``maximum``, about ``target`` of them."""
    if maximum <= 0:
        return [0.0, 1.0]
    raw = maximum / target
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    if step < 1 and maximum >= 1:
        step = 1.0
    return _steps(maximum, step, lambda i: round(i * step, 10))


DURATION_STEPS = (
    1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 14_400, 21_600,
    43_200, 86_400, 172_800, 259_200, 604_800, 1_209_600, 2_592_000,
)  # fmt: skip


def duration_ticks(maximum: float, target: int = 5) -> list[float]:
    """Ticks at round durations (minutes, hours, days) up to at least ``maximum`` seconds."""
    if maximum <= 0:
        return [0.0, 60.0]
    step = next(
        (s for s in DURATION_STEPS if maximum / s <= target),
        DURATION_STEPS[-1] * math.ceil(maximum / DURATION_STEPS[-1] / target),
    )
    return _steps(maximum, step, lambda i: float(i * step))


def _steps(maximum: float, step: float, tick: Callable[[int], float]) -> list[float]:
    """Ticks 0, 1 step, 2 steps, … until one reaches ``maximum`` (whatever the rounding)."""
    ticks = [tick(i) for i in range(max(1, math.ceil(maximum / step)) + 1)]
    while ticks[-1] < maximum:
        ticks.append(tick(len(ticks)))
    return ticks


# --- markup helpers -------------------------------------------------------------------------------


def _n(value: float) -> str:
    """A coordinate: short, and the same on every platform."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _text(x: float, y: float, content: str, **attributes: str | float) -> str:
    attrs = {"x": _n(x), "y": _n(y), "font-size": "12", "fill": TEXT} | {
        key.rstrip("_").replace("_", "-"): str(value) for key, value in attributes.items()
    }
    rendered = " ".join(f'{key}="{escape(value)}"' for key, value in attrs.items())
    return f"<text {rendered}>{escape(content)}</text>"


def _clip(label: str) -> str:
    return label if len(label) <= MAX_LABEL_CHARS else label[: MAX_LABEL_CHARS - 1] + "…"


def _label_width(labels: Sequence[str]) -> float:
    longest = max((len(_clip(label)) for label in labels), default=4)
    return min(max(longest * CHAR_WIDTH + 16, 70), 250)


def _frame(chart_id: str, title: str, description: str, height: float, body: list[str]) -> Markup:
    ident = escape(chart_id)
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" id="{ident}" '
        f'viewBox="0 0 {WIDTH} {_n(height)}" width="100%" '
        f'preserveAspectRatio="xMinYMin meet" font-family="{escape(FONT)}" '
        f'aria-labelledby="{ident}-title {ident}-desc">'
        f'<title id="{ident}-title">{escape(title)}</title>'
        f'<desc id="{ident}-desc">{escape(description)}</desc>'
    )
    return Markup(head + "".join(body) + "</svg>")


def _legend(items: Sequence[tuple[str, str]], x: float) -> list[str]:
    parts = []
    for name, colour in items:
        parts.append(
            f'<rect x="{_n(x)}" y="12" width="12" height="12" rx="2" fill="{escape(colour)}"/>'
        )
        parts.append(_text(x + 17, 22.5, name))
        x += 17 + len(name) * CHAR_WIDTH + 18
    return parts


def _value_axis(
    ticks: Sequence[float],
    left: float,
    plot_width: float,
    top: float,
    bottom: float,
    axis_label: str,
    formatter: Formatter,
) -> list[str]:
    parts = []
    scale = plot_width / ticks[-1]
    for tick in ticks:
        x = left + tick * scale
        parts.append(
            f'<line x1="{_n(x)}" y1="{_n(top)}" x2="{_n(x)}" y2="{_n(bottom)}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        parts.append(_text(x, bottom + 16, formatter(tick), text_anchor="middle", fill=MUTED))
    parts.append(
        f'<line x1="{_n(left)}" y1="{_n(bottom)}" x2="{_n(left + plot_width)}" '
        f'y2="{_n(bottom)}" stroke="{MUTED}" stroke-width="1"/>'
    )
    parts.append(
        _text(
            left + plot_width / 2,
            bottom + 38,
            axis_label,
            text_anchor="middle",
            font_weight="600",
            class_="axis-label",
        )
    )
    return parts


def _category_axis(label: str, top: float, bottom: float) -> str:
    middle = (top + bottom) / 2
    return _text(
        14,
        middle,
        label,
        text_anchor="middle",
        font_weight="600",
        class_="axis-label",
        transform=f"rotate(-90 14 {_n(middle)})",
    )


def _empty(chart_id: str, title: str, description: str, message: str) -> Markup:
    return _frame(
        chart_id,
        title,
        description or message,
        70,
        [_text(WIDTH / 2, 40, message, text_anchor="middle", fill=MUTED, font_size="14")],
    )


# --- bar charts -----------------------------------------------------------------------------------


def describe_bars(bars: Sequence[Bar], series: Sequence[Series], formatter: Formatter) -> str:
    """The figures in words, for the ``<desc>``: "Business: met 3, breached 1. …"."""
    sentences = []
    for bar in bars:
        if len(series) == 1:
            sentences.append(f"{bar.label}: {formatter(bar.values[0])}.")
        else:
            parts = ", ".join(
                f"{s.name.lower()} {formatter(v)}" for s, v in zip(series, bar.values, strict=True)
            )
            sentences.append(f"{bar.label}: {parts}.")
    return " ".join(sentences)


def bar_chart(
    *,
    chart_id: str,
    title: str,
    bars: Sequence[Bar],
    series: Sequence[Series],
    value_axis: str,
    category_axis: str,
    formatter: Formatter = plain_number,
    empty_message: str = "No cases in this period.",
) -> Markup:
    """Horizontal (stacked) bars, one per category; see the module's notes."""
    for bar in bars:
        if len(bar.values) != len(series):
            raise ValueError(f"bar {bar.label!r} has {len(bar.values)} values for {len(series)}")
        if any(v < 0 for v in bar.values):
            raise ValueError("bar values must not be negative")
    description = describe_bars(bars, series, formatter)
    if not bars or all(bar.total == 0 for bar in bars):
        return _empty(chart_id, title, description, empty_message)
    left = 34 + _label_width([b.label for b in bars])
    plot_width = WIDTH - left - RIGHT
    ticks = nice_ticks(max(bar.total for bar in bars))
    scale = plot_width / ticks[-1]
    bottom = TOP + len(bars) * BAR_ROW
    body = _legend([(s.name, s.colour) for s in series], left) if len(series) > 1 else []
    body += _value_axis(ticks, left, plot_width, TOP - 4, bottom, value_axis, formatter)
    body.append(_category_axis(category_axis, TOP, bottom))
    for index, bar in enumerate(bars):
        y = TOP + index * BAR_ROW + (BAR_ROW - BAR_HEIGHT) / 2
        body.append(f'<g class="bar" data-label="{escape(bar.label)}">')
        body.append(f"<title>{escape(describe_bars([bar], series, formatter))}</title>")
        body.append(
            _text(
                left - 8,
                y + BAR_HEIGHT / 2 + 4,
                _clip(bar.label),
                text_anchor="end",
                class_="category-label",
            )
        )
        x = left
        for value, serie in zip(bar.values, series, strict=True):
            width = value * scale
            if width <= 0:
                continue
            body.append(
                f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(width)}" height="{BAR_HEIGHT}" '
                f'fill="{escape(serie.colour)}" data-series="{escape(serie.name)}"/>'
            )
            if len(series) > 1 and width >= MIN_SEGMENT_LABEL:
                body.append(
                    _text(
                        x + width / 2,
                        y + BAR_HEIGHT / 2 + 4,
                        formatter(value),
                        text_anchor="middle",
                        fill="#ffffff",
                        font_size="11",
                        class_="value-label",
                    )
                )
            x += width
        body.append(
            _text(
                x + 6,
                y + BAR_HEIGHT / 2 + 4,
                formatter(bar.total),
                font_weight="600",
                class_="value-label total",
            )
        )
        body.append("</g>")
    return _frame(chart_id, title, description, bottom + BOTTOM, body)


# --- box charts ---------------------------------------------------------------------------------


def describe_boxes(boxes: Sequence[Box], formatter: Formatter) -> str:
    sentences = []
    for box in boxes:
        if not box.count or box.median is None or box.p90 is None:
            sentences.append(f"{box.label}: no cases.")
            continue
        sentences.append(
            f"{box.label}: {box.count} cases, median {formatter(box.median)}, "
            f"90th percentile {formatter(box.p90)}."
        )
    return " ".join(sentences)


BOX_LEGEND = (
    ("box: 25th–75th percentile", "#c9d6f5"),
    ("bar: median", "#2450c8"),
    ("◆: 90th percentile", "#dd5a12"),
    ("whiskers: min–max", "#5d6878"),
)
BOX_FILL = "#c9d6f5"
BOX_STROKE = "#2450c8"
P90_COLOUR = "#dd5a12"
BOX_NOTE_WIDTH = 200


def box_chart(
    *,
    chart_id: str,
    title: str,
    boxes: Sequence[Box],
    value_axis: str,
    category_axis: str,
    formatter: Formatter = short_duration,
    empty_message: str = "No cases in this period.",
) -> Markup:
    """One row per category: min–max whiskers, 25th–75th percentile box, median, p90."""
    description = describe_boxes(boxes, formatter)
    filled = [b for b in boxes if b.count and b.maximum is not None]
    if not filled:
        return _empty(chart_id, title, description, empty_message)
    left = 34 + _label_width([b.label for b in boxes])
    plot_width = WIDTH - left - BOX_NOTE_WIDTH
    ticks = duration_ticks(max(float(b.maximum or 0) for b in filled))
    scale = plot_width / ticks[-1]
    bottom = TOP + len(boxes) * BOX_ROW
    body = _legend(BOX_LEGEND, 10)
    body += _value_axis(ticks, left, plot_width, TOP - 4, bottom, value_axis, formatter)
    body.append(_category_axis(category_axis, TOP, bottom))
    for index, box in enumerate(boxes):
        middle = TOP + index * BOX_ROW + BOX_ROW / 2
        body.append(f'<g class="box" data-label="{escape(box.label)}">')
        body.append(f"<title>{escape(describe_boxes([box], formatter))}</title>")
        body.append(
            _text(
                left - 8, middle + 4, _clip(box.label), text_anchor="end", class_="category-label"
            )
        )
        body += _box_marks(box, left, scale, middle, formatter)
        body.append("</g>")
    return _frame(chart_id, title, description, bottom + BOTTOM, body)


def _box_marks(
    box: Box, left: float, scale: float, middle: float, formatter: Formatter
) -> list[str]:
    if not box.count or None in (box.minimum, box.p25, box.median, box.p75, box.p90, box.maximum):
        return [_text(left + 6, middle + 4, "no cases", fill=MUTED, class_="value-label")]

    def at(value: float | None) -> float:
        return left + float(value or 0) * scale

    low, high = at(box.minimum), at(box.maximum)
    q1, q3, median, p90 = at(box.p25), at(box.p75), at(box.median), at(box.p90)
    half = 9
    parts = [
        f'<line x1="{_n(low)}" y1="{_n(middle)}" x2="{_n(high)}" y2="{_n(middle)}" '
        f'stroke="{MUTED}" stroke-width="1.5"/>',
        *(
            f'<line x1="{_n(x)}" y1="{_n(middle - 6)}" x2="{_n(x)}" y2="{_n(middle + 6)}" '
            f'stroke="{MUTED}" stroke-width="1.5"/>'
            for x in (low, high)
        ),
        f'<rect x="{_n(q1)}" y="{_n(middle - half)}" width="{_n(max(q3 - q1, 1.5))}" '
        f'height="{2 * half}" fill="{BOX_FILL}" stroke="{BOX_STROKE}" stroke-width="1"/>',
        f'<line x1="{_n(median)}" y1="{_n(middle - half)}" x2="{_n(median)}" '
        f'y2="{_n(middle + half)}" stroke="{BOX_STROKE}" stroke-width="3" class="median"/>',
        f'<path d="M{_n(p90)} {_n(middle - 6)} L{_n(p90 + 6)} {_n(middle)} '
        f'L{_n(p90)} {_n(middle + 6)} L{_n(p90 - 6)} {_n(middle)} Z" fill="{P90_COLOUR}" '
        f'class="p90"/>',
        _text(
            WIDTH - BOX_NOTE_WIDTH + 12,
            middle + 4,
            f"median {formatter(float(box.median or 0))} · p90 {formatter(float(box.p90 or 0))}",
            class_="value-label",
            font_size="11.5",
        ),
        _text(
            WIDTH - BOX_NOTE_WIDTH + 12,
            middle + 18,
            f"{box.count} cases",
            fill=MUTED,
            font_size="10.5",
        ),
    ]
    return parts
