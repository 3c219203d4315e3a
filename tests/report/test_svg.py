"""The SVG charts: well-formed, accessible (role, title, desc, labels), escaped, to scale."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from critdesk.report import svg

NS = {"svg": "http://www.w3.org/2000/svg"}
SLA = (
    svg.Series("Met", svg.MET),
    svg.Series("Breached", svg.BREACHED),
    svg.Series("Running", svg.RUNNING),
)


def parse(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))


def texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]


def sla_chart(bars: list[svg.Bar]) -> ET.Element:
    return parse(
        svg.bar_chart(
            chart_id="chart-sla",
            title="SLA compliance per package",
            bars=bars,
            series=SLA,
            value_axis="Cases",
            category_axis="Package",
        )
    )


def test_a_bar_chart_is_an_image_named_and_described_by_its_figures() -> None:
    root = sla_chart([svg.Bar("Business", (3, 1, 0)), svg.Bar("Enterprise", (5, 0, 2))])
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "chart-sla-title chart-sla-desc"
    title = root.find("svg:title", NS)
    desc = root.find("svg:desc", NS)
    assert title is not None and title.text == "SLA compliance per package"
    assert title.get("id") == "chart-sla-title"
    assert desc is not None
    assert desc.text == (
        "Business: met 3, breached 1, running 0. Enterprise: met 5, breached 0, running 2."
    )
    shown = texts(root)
    # axis labels, category labels, the legend, segment values and bar totals
    for label in ("Cases", "Package", "Business", "Enterprise", "Met", "Breached", "Running"):
        assert label in shown
    assert shown.count("4") >= 1 and "7" in shown  # the totals
    assert "style" not in str(ET.tostring(root))  # the pages' CSP allows no inline styles


def test_bars_are_drawn_to_scale_and_stacked_in_series_order() -> None:
    root = sla_chart([svg.Bar("Business", (3, 1, 0)), svg.Bar("Enterprise", (6, 0, 2))])
    bars = {g.get("data-label"): g for g in root.iter("{http://www.w3.org/2000/svg}g")}
    business = [r for r in bars["Business"].iter("{http://www.w3.org/2000/svg}rect")]
    enterprise = [r for r in bars["Enterprise"].iter("{http://www.w3.org/2000/svg}rect")]
    assert [r.get("data-series") for r in business] == ["Met", "Breached"]  # no empty segment
    assert [r.get("data-series") for r in enterprise] == ["Met", "Running"]
    width = {r.get("data-series"): float(r.get("width") or 0) for r in enterprise}
    assert width["Met"] == pytest.approx(3 * width["Running"], abs=0.2)
    met_business = float(business[0].get("width") or 0)
    assert width["Met"] == pytest.approx(2 * met_business, abs=0.2)
    # the breached segment starts where the met one ends
    assert float(business[1].get("x") or 0) == pytest.approx(
        float(business[0].get("x") or 0) + met_business, abs=0.2
    )


def test_labels_are_escaped_and_long_ones_clipped_with_the_full_text_kept() -> None:
    name = "<script>alert(1)</script> & Sons Holding Company International Limited"
    markup = svg.bar_chart(
        chart_id="x",
        title="A & B <c>",
        bars=[svg.Bar(name, (2.0,))],
        series=(svg.Series("Cases", "#2450c8"),),
        value_axis="Cases",
        category_axis="Organisation",
    )
    assert "<script>" not in markup
    root = parse(markup)  # still well-formed
    assert root.find("svg:title", NS).text == "A & B <c>"  # type: ignore[union-attr]
    clipped = [t for t in texts(root) if t.startswith("<script>")]
    assert clipped and clipped[0].endswith("…") and len(clipped[0]) == svg.MAX_LABEL_CHARS
    group = next(root.iter("{http://www.w3.org/2000/svg}g"))
    assert group.get("data-label") == name
    assert name in (group.find("svg:title", NS).text or "")  # type: ignore[union-attr]


def test_a_chart_without_figures_says_so() -> None:
    root = sla_chart([])
    assert root.get("role") == "img"
    assert "No cases in this period." in texts(root)
    root = sla_chart([svg.Bar("Business", (0, 0, 0))])
    assert "No cases in this period." in texts(root)


def test_bars_must_match_their_series() -> None:
    with pytest.raises(ValueError):
        sla_chart([svg.Bar("Business", (1, 2))])
    with pytest.raises(ValueError):
        sla_chart([svg.Bar("Business", (1, -2, 0))])


def test_a_box_chart_shows_median_and_p90_per_row() -> None:
    boxes = [
        svg.Box("S1", 4, 600, 1050, 1950, 4725, 8370, 10800),
        svg.Box("S4", 0, None, None, None, None, None, None),
    ]
    root = parse(
        svg.box_chart(
            chart_id="chart-tti",
            title="Business time to start investigating",
            boxes=boxes,
            value_axis="Business time",
            category_axis="Severity",
        )
    )
    assert root.get("role") == "img"
    assert root.find("svg:desc", NS).text == (  # type: ignore[union-attr]
        "S1: 4 cases, median 32 min, 90th percentile 2 h 19 min. S4: no cases."
    )
    shown = texts(root)
    assert "median 32 min · p90 2 h 19 min" in shown
    assert "no cases" in shown
    assert {"Business time", "Severity", "S1", "S4", "0 s", "1 h", "3 h"} <= set(shown)
    rows = {g.get("data-label"): g for g in root.iter("{http://www.w3.org/2000/svg}g")}
    s1 = rows["S1"]
    box = next(s1.iter("{http://www.w3.org/2000/svg}rect"))
    median = next(e for e in s1.iter("{http://www.w3.org/2000/svg}line") if e.get("class"))
    left, width = float(box.get("x") or 0), float(box.get("width") or 0)
    assert left < float(median.get("x1") or 0) < left + width  # the median is inside the box


def test_a_box_chart_without_cases_says_so() -> None:
    markup = svg.box_chart(
        chart_id="x",
        title="t",
        boxes=[svg.Box("S1", 0, None, None, None, None, None, None)],
        value_axis="v",
        category_axis="c",
    )
    assert "No cases in this period." in texts(parse(markup))


@given(st.floats(min_value=0.01, max_value=1e7))
def test_value_ticks_start_at_zero_and_cover_the_maximum(maximum) -> None:
    ticks = svg.nice_ticks(maximum)
    assert ticks[0] == 0 and ticks[-1] >= maximum
    assert 2 <= len(ticks) <= 12
    steps = {round(b - a, 6) for a, b in itertools.pairwise(ticks)}
    assert len(steps) == 1


@given(st.floats(min_value=1, max_value=1e8))
def test_duration_ticks_fall_on_round_durations(maximum) -> None:
    ticks = svg.duration_ticks(maximum)
    assert ticks[0] == 0 and ticks[-1] >= maximum
    assert 2 <= len(ticks) <= 7
    assert ticks[1] in svg.DURATION_STEPS or ticks[1] % svg.DURATION_STEPS[-1] == 0


def test_durations_read_shortly() -> None:
    assert [svg.short_duration(s) for s in (45, 1800, 3600, 8370, 86400 * 2 + 3600)] == [
        "45 s",
        "30 min",
        "1 h",
        "2 h 19 min",
        "2 d 1 h",
    ]
