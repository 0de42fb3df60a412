"""The two figures of the site, drawn as inline SVG in plain Python at build time.

No Mermaid, no chart library and no script: the SVG is built with :mod:`xml.etree.ElementTree`, so
every text and attribute is escaped by construction, and it is embedded in the page itself, so the
site needs no request to draw it. Colours come from CSS classes (``docs/assets/css/site.css``) that
follow the light/dark palette; the presentation attributes written here are the fallback.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"

# Colour-blind-safe categorical palette (Tableau 10), readable on white and on Material's slate.
SERIES_COLOURS = (
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
)


@dataclass(frozen=True)
class DiagramNode:
    """One box of the taxonomy diagram: a category (depth 1+) under its facet (depth 0)."""

    label: str
    url: str
    count: int
    depth: int
    tooltip: str = ""


@dataclass(frozen=True)
class DiagramColumn:
    """One facet: its header box and its categories in tree order."""

    header: DiagramNode
    nodes: Sequence[DiagramNode]


def _el(parent: ET.Element | None, tag: str, text: str | None = None, **attrs: object) -> ET.Element:
    clean = {k.rstrip("_").replace("_", "-"): _fmt(v) for k, v in attrs.items() if v is not None}
    el = ET.Element(tag, clean) if parent is None else ET.SubElement(parent, tag, clean)
    if text is not None:
        el.text = text
    return el


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.1f}".rstrip("0").rstrip(".")
    return str(value)


def _text_width(text: str, size: float) -> float:
    """A rough advance width for a sans-serif font; only used to decide when to squeeze."""
    return len(text) * size * 0.56


def _fit_text(parent: ET.Element, text: str, *, x: float, y: float, size: float, max_width: float,
              cls: str, anchor: str = "start", weight: str | None = None) -> None:
    too_wide = _text_width(text, size) > max_width
    _el(parent, "text", text, x=x, y=y, class_=cls, font_size=size, text_anchor=anchor,
        font_weight=weight,
        textLength=max_width if too_wide else None,
        lengthAdjust="spacingAndGlyphs" if too_wide else None)


def _svg_string(svg: ET.Element) -> str:
    return ET.tostring(svg, encoding="unicode", short_empty_elements=True)


def taxonomy_diagram(root_label: str, columns: Sequence[DiagramColumn],
                     link: Callable[[str], str]) -> str:
    """The taxonomy as one column per facet under a root box; every box links to its page.

    ``link`` turns a site URL into the href written on the page that embeds the SVG.
    """
    col_w, gap, margin = 200.0, 14.0, 8.0
    box_h, row_h, indent = 36.0, 44.0, 16.0
    root_h, root_w = 40.0, 340.0
    top = margin + root_h + 36.0  # facet headers start here
    rows = max(1 + len(c.nodes) for c in columns) if columns else 1
    width = margin * 2 + len(columns) * col_w + max(len(columns) - 1, 0) * gap
    height = top + rows * row_h + margin

    # role "group", not "img": an image's children are hidden from screen readers, and every box
    # of this diagram is a link.
    svg = _el(None, "svg", xmlns=SVG_NS, viewBox=f"0 0 {_fmt(width)} {_fmt(height)}",
              width="100%", role="group", class_="pa-taxonomy-svg", aria_labelledby="pa-taxonomy-title")
    svg.set("xmlns:xlink", XLINK_NS)
    _el(svg, "title", f"Taxonomy of {root_label}: {len(columns)} facets", id="pa-taxonomy-title")

    # Root box and the elbow connectors down to each facet header.
    root_x = (width - root_w) / 2
    _el(svg, "rect", x=root_x, y=margin, width=root_w, height=root_h, rx=8, class_="pa-root",
        fill="#3f51b5")
    _fit_text(svg, root_label, x=width / 2, y=margin + 26, size=16, max_width=root_w - 16,
              cls="pa-root-text", anchor="middle", weight="bold")
    bus_y = margin + root_h + 18
    lines = _el(svg, "g", class_="pa-edges", stroke="#9e9e9e", fill="none", stroke_width=1.5)
    _el(lines, "path", d=f"M{_fmt(width / 2)} {_fmt(margin + root_h)} V{_fmt(bus_y)}")
    for i in range(len(columns)):
        cx = margin + i * (col_w + gap) + col_w / 2
        _el(lines, "path", d=f"M{_fmt(width / 2)} {_fmt(bus_y)} H{_fmt(cx)} V{_fmt(top)}")

    for i, column in enumerate(columns):
        x0 = margin + i * (col_w + gap)
        _node(svg, column.header, x=x0, y=top, w=col_w, h=box_h, link=link, cls="pa-facet")
        # Tree connectors: a vertical spine per parent, a short stub into every child.
        spine_x = {0: x0 + 8}
        for j, node in enumerate(column.nodes, start=1):
            y = top + j * row_h
            x = x0 + node.depth * indent
            sx = spine_x.get(node.depth - 1, x0 + 8)
            _el(lines, "path", d=f"M{_fmt(sx)} {_fmt(y - row_h + box_h)} V{_fmt(y + box_h / 2)} H{_fmt(x)}")
            spine_x[node.depth] = x + 8
            _node(svg, node, x=x, y=y, w=col_w - node.depth * indent, h=box_h, link=link,
                  cls="pa-category")
    return _svg_string(svg)


def _node(svg: ET.Element, node: DiagramNode, *, x: float, y: float, w: float, h: float,
          link: Callable[[str], str], cls: str) -> None:
    # xlink:href, not href: Material's instant navigation rewrites every element's `href` property
    # after a page swap, and an SVG link's `href` property is read-only (a TypeError in the console).
    a = _el(svg, "a", class_=f"pa-node {cls}")
    a.set("xlink:href", link(node.url))
    _el(a, "title", node.tooltip or node.label)
    _el(a, "rect", x=x, y=y, width=w, height=h, rx=6, fill="#ffffff", stroke="#3f51b5",
        stroke_width=1.2)
    _fit_text(a, node.label, x=x + 8, y=y + 15, size=12.5, max_width=w - 16, cls="pa-node-label",
              weight="bold" if cls == "pa-facet" else None)
    count = f"{node.count} paper" + ("" if node.count == 1 else "s")
    _el(a, "text", count, x=x + 8, y=y + 29, class_="pa-node-count", font_size=10.5)


def _nice_step(max_value: int, ticks: int = 5) -> int:
    raw = max(max_value, 1) / ticks
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000):
        if step >= raw:
            return step
    return int(raw) + 1


def timeline_chart(years: Sequence[int], series: Sequence[tuple[str, Sequence[int]]]) -> str:
    """A stacked bar chart: one bar per year, one coloured segment per series (method category).

    ``series`` is ``[(label, counts per year aligned with years), ...]``.
    """
    left, right, top, bottom = 44.0, 12.0, 16.0, 34.0
    legend_row = 20.0
    per_row = 3
    legend_h = legend_row * ((len(series) + per_row - 1) // per_row)
    bar_slot = max(28.0, min(64.0, 720.0 / max(len(years), 1)))
    plot_w = bar_slot * max(len(years), 1)
    plot_h = 220.0
    width = left + plot_w + right
    width = max(width, 560.0)
    height = top + legend_h + 8 + plot_h + bottom
    totals = [sum(s[1][i] for s in series) for i in range(len(years))]
    step = _nice_step(max(totals, default=0))
    y_max = step * max(1, -(-max(totals, default=0) // step))

    svg = _el(None, "svg", xmlns=SVG_NS, viewBox=f"0 0 {_fmt(width)} {_fmt(height)}", width="100%",
              role="img", class_="pa-timeline-svg", aria_labelledby="pa-timeline-title")
    _el(svg, "title", "Papers per year for each prompt type", id="pa-timeline-title")

    # Legend.
    for k, (label, _) in enumerate(series):
        lx = left + (k % per_row) * 200
        ly = top + (k // per_row) * legend_row
        _el(svg, "rect", x=lx, y=ly, width=12, height=12, rx=2,
            fill=SERIES_COLOURS[k % len(SERIES_COLOURS)])
        _el(svg, "text", label, x=lx + 18, y=ly + 11, class_="pa-chart-text", font_size=12)

    plot_top = top + legend_h + 8
    base_y = plot_top + plot_h
    axes = _el(svg, "g", class_="pa-chart-axis", stroke="#9e9e9e", stroke_width=1)
    for tick in range(0, y_max + 1, step):
        y = base_y - plot_h * tick / y_max
        _el(axes, "line", x1=left, x2=left + plot_w, y1=y, y2=y, class_="pa-grid",
            stroke_opacity=0.35)
        _el(svg, "text", str(tick), x=left - 6, y=y + 4, class_="pa-chart-text", font_size=11,
            text_anchor="end")
    _el(axes, "line", x1=left, x2=left + plot_w, y1=base_y, y2=base_y)

    for i, year in enumerate(years):
        x = left + i * bar_slot + bar_slot * 0.15
        w = bar_slot * 0.7
        y = base_y
        for k, (label, counts) in enumerate(series):
            n = counts[i]
            if not n:
                continue
            h = plot_h * n / y_max
            y -= h
            rect = _el(svg, "rect", x=x, y=y, width=w, height=h,
                       fill=SERIES_COLOURS[k % len(SERIES_COLOURS)], class_="pa-bar")
            _el(rect, "title", f"{year}, {label}: {n}")
        if totals[i]:
            _el(svg, "text", str(totals[i]), x=x + w / 2, y=y - 4, class_="pa-chart-text",
                font_size=11, text_anchor="middle")
        _el(svg, "text", str(year), x=x + w / 2, y=base_y + 16, class_="pa-chart-text",
            font_size=11, text_anchor="middle")
    _el(svg, "text", "papers (a paper counts once per prompt type it uses)", x=left,
        y=height - 4, class_="pa-chart-text pa-chart-note", font_size=10.5)
    return _svg_string(svg)
