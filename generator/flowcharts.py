"""Incident flowcharts drawn at build time as accessible SVG (no JavaScript, no CDN).

The words of each chart live in ``content/`` (see ``content/policy/flowcharts.yaml``);
this module only lays boxes and arrows out. A chart is a column of steps read top to
bottom; a question step may have one side branch to its right (drawn with a labelled
arrow), which either ends there or rejoins the next step of the column.
On the web the same chart is drawn in one narrower column (``draw_vertical``), each side
step beneath its question, so its words stay readable on a phone.

The SVG has real ``<text>`` (so it can be searched, copied and zoomed), ``role="img"``
and a ``<title>``/``<desc>`` text alternative; every string is XML-escaped here. The PDF
gets the same picture with its words as positioned HTML (``draw_for_print``). Text is
wrapped with the metrics of the Andika font the PDFs use, which is wider than the
fallback fonts a browser picks, so wrapped lines fit on the web too.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
from dataclasses import dataclass
from functools import cache, lru_cache
from xml.sax.saxutils import quoteattr

from .cache import user_cache_dir, write_atomic
from .markup import md_escape
from .resources import TEMPLATES_DIR

FONT_DIR = TEMPLATES_DIR / "fonts"
FONT_FAMILY = "Andika, Arial, Helvetica, sans-serif"
KINDS = ("start", "step", "decision", "end")

WIDTH = 640
MARGIN = 6
MAIN_W = 344
GAP = 60  # between the main column and the side column (arrow and its label)
SIDE_W = WIDTH - 2 * MARGIN - MAIN_W - GAP
FONT_SIZE = 14.0
LINE_H = 18.0
PAD_X = 12.0
PAD_Y = 9.0
POINT = 12.0  # how far a question's pointed ends reach in
ROW_GAP = 30.0  # vertical space for the arrow between two steps
LABEL_SIZE = 13.0
ARROW = 7.0
# The web's vertical variant: one column as wide as a phone, each side step beneath its
# question, indented, with the other way on down the gutter to its left.
V_WIDTH = 340
INDENT = 40
# In print, charts are drawn at 80% (words at 8.4 pt), so the tallest fits its page with
# its title and a page of the policy is never mostly one chart's overflow.
PRINT_SCALE = 0.8


@dataclass(frozen=True)
class Branch:
    """A side step to the right of a question, reached by the arrow labelled ``label``."""

    label: str
    text: str
    kind: str = "step"
    rejoin: bool = False  # an arrow leads back into the next step of the column


@dataclass(frozen=True)
class Step:
    text: str
    kind: str = "step"  # start | step | decision | end
    branch: Branch | None = None
    down_label: str = ""  # label on the arrow to the next step (e.g. "No")


@dataclass(frozen=True)
class Chart:
    key: str  # used for element ids; unique within a page
    title: str
    description: str
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Colours:
    stroke: str  # box borders and arrows (the school's strong colour)
    fill: str  # start and end boxes (the school's pale colour)
    question: str = "#fff4cc"
    ink: str = "#1b1b1b"


class ChartError(ValueError):
    """The chart description cannot be drawn (wrong kind, a rejoin with nowhere to go)."""


# ------------------------------------------------------------------ text measuring


FontMetrics = tuple[dict[int, float], float, float, float]  # widths, fallback, ascent, descent


def _metrics(bold: bool) -> tuple[dict[int, float], float]:
    """Advance width of each character, in em, from the bundled Andika font."""
    widths, fallback, _ascent, _descent = _font_metrics(bold)
    return widths, fallback


def _vertical_metrics(bold: bool) -> tuple[float, float]:
    """The font's ascent and descent, in em (where text sits in its line box)."""
    _widths, _fallback, ascent, descent = _font_metrics(bold)
    return ascent, descent


@cache
def _font_metrics(bold: bool) -> FontMetrics:
    """The font's metrics, kept in the user's cache under the font file's digest: reading
    them with fontTools took 0.15 s of every build, before the policy could be drawn."""
    font = FONT_DIR / ("Andika-Bold.ttf" if bold else "Andika-Regular.ttf")
    data = font.read_bytes()
    kept = user_cache_dir() / f"metrics-{font.stem}-{hashlib.sha256(data).hexdigest()[:24]}.json"
    try:
        widths, fallback, ascent, descent = json.loads(kept.read_text(encoding="utf-8"))
        return {int(code): float(w) for code, w in widths.items()}, fallback, ascent, descent
    except (OSError, ValueError, TypeError, AttributeError):
        pass  # not measured yet on this machine, or damaged: measure again
    metrics = _measure(data)
    with contextlib.suppress(OSError):
        kept.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(kept, json.dumps(metrics).encode("utf-8"))
    return metrics


def _measure(font: bytes) -> FontMetrics:
    from fontTools.ttLib import TTFont

    ttf = TTFont(io.BytesIO(font), lazy=True)
    units = ttf["head"].unitsPerEm
    hmtx = ttf["hmtx"].metrics
    widths = {code: hmtx[glyph][0] / units for code, glyph in ttf.getBestCmap().items()}
    fallback = hmtx[".notdef"][0] / units if ".notdef" in hmtx else 0.6
    return widths, fallback, ttf["hhea"].ascent / units, -ttf["hhea"].descent / units


def text_width(text: str, size: float = FONT_SIZE, bold: bool = False) -> float:
    widths, fallback = _metrics(bold)
    return sum(widths.get(ord(ch), fallback) for ch in text) * size


def wrap(text: str, width: float, size: float = FONT_SIZE, bold: bool = False) -> list[str]:
    """Greedy word wrap to ``width`` user units; a word longer than a line is split.
    Words are split at plain spaces only: a no-break space (in a name) holds."""
    lines: list[str] = []
    line = ""
    for word in text.replace("\n", " ").split(" "):
        if not word:
            continue
        candidate = f"{line} {word}" if line else word
        if text_width(candidate, size, bold) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = word
        while text_width(line, size, bold) > width and len(line) > 1:
            cut = len(line) - 1
            while cut > 1 and text_width(line[:cut] + "-", size, bold) > width:
                cut -= 1
            lines.append(line[:cut] + "-")
            line = line[cut:]
    if line:
        lines.append(line)
    return lines or [""]


# ------------------------------------------------------------------ layout


@dataclass(frozen=True)
class _Box:
    x: float
    y: float
    w: float
    h: float
    kind: str
    lines: tuple[str, ...]

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def bottom(self) -> float:
        return self.y + self.h

    @property
    def right(self) -> float:
        return self.x + self.w


def _box(x: float, y: float, w: float, kind: str, text: str) -> _Box:
    inset = PAD_X + (POINT if kind == "decision" else 0)
    lines = wrap(text, w - 2 * inset, bold=kind == "decision")
    return _Box(x, y, w, len(lines) * LINE_H + 2 * PAD_Y, kind, tuple(lines))


def check(chart: Chart) -> None:
    """Raise ChartError if the description cannot be drawn as a column with side steps."""
    if not chart.steps:
        raise ChartError(f"{chart.key}: a chart needs at least one step")
    for i, step in enumerate(chart.steps):
        for kind in (step.kind, step.branch.kind if step.branch else "step"):
            if kind not in KINDS:
                raise ChartError(
                    f"{chart.key}: step {i + 1}: kind {kind!r} is not one of {', '.join(KINDS)}"
                )
        if step.branch and step.branch.rejoin:
            following = chart.steps[i + 1] if i + 1 < len(chart.steps) else None
            if following is None or following.branch is not None:
                raise ChartError(
                    f"{chart.key}: step {i + 1}: a side step can only rejoin a "
                    "next step that has no side step of its own"
                )


@dataclass(frozen=True)
class _Text:
    """Lines of text, one under another: ``x`` is their anchor (start or middle), ``y`` the
    first line's baseline."""

    lines: tuple[str, ...]
    x: float
    y: float
    anchor: str = "middle"
    size: float = FONT_SIZE
    bold: bool = False

    @property
    def line_height(self) -> float:
        return LINE_H * self.size / FONT_SIZE


def draw(chart: Chart, colours: Colours) -> str:
    """The chart as one line of inline SVG markup (no blank lines, safe inside Markdown)."""
    items, height = _layout(chart, colours)
    parts = [item if isinstance(item, str) else _svg_text(item, colours) for item in items]
    return _svg(chart, parts, height)


def draw_vertical(chart: Chart, colours: Colours) -> str:
    """The chart for the web: one column (``V_WIDTH``), so its words stay readable when
    the picture is scaled to a 390 px phone screen."""
    items, height = _layout_vertical(chart, colours)
    parts = [item if isinstance(item, str) else _svg_text(item, colours) for item in items]
    return _svg(chart, parts, height, V_WIDTH)


def draw_for_print(chart: Chart, colours: Colours) -> str:
    """The chart for WeasyPrint: the same picture, with its words as positioned HTML.

    WeasyPrint lays SVG text out one letter at a time, which made the four charts cost half
    a second of every policy PDF; HTML text costs next to nothing. The SVG keeps its
    title, so the PDF still tags the chart as a /Figure with that alternative text.
    """
    items, height = _layout(chart, colours)
    shapes = [item for item in items if isinstance(item, str)]
    words = [_html_text(item, PRINT_SCALE) for item in items if isinstance(item, _Text)]
    width, height = WIDTH * PRINT_SCALE, height * PRINT_SCALE
    svg = _svg(chart, shapes, height / PRINT_SCALE, size=(width, height))
    return (
        f'<div class="esafety-flowchart-print" style="width: {_n(width)}px; '
        f'height: {_n(height)}px">' + svg + "".join(words) + "</div>"
    )


@lru_cache(maxsize=64)  # each chart is drawn twice: for its web page and for the PDF
def _layout(chart: Chart, colours: Colours) -> tuple[tuple[str | _Text, ...], float]:
    """The chart's shapes (SVG markup) and lines of text, in reading order, and its height."""
    check(chart)
    parts: list[str | _Text] = []
    side_x = MARGIN + MAIN_W + GAP
    y = MARGIN
    previous: _Box | None = None
    pending_rejoin: _Box | None = None
    for step in chart.steps:
        main = _box(MARGIN, y, MAIN_W, step.kind, step.text)
        side = _box(side_x, y, SIDE_W, step.branch.kind, step.branch.text) if step.branch else None
        if previous is not None:
            parts += _arrow([(previous.cx, previous.bottom), (main.cx, main.y)], colours)
        if pending_rejoin is not None:
            mid = main.y + main.h / 2
            parts += _arrow(
                [
                    (pending_rejoin.cx, pending_rejoin.bottom),
                    (pending_rejoin.cx, mid),
                    (main.right, mid),
                ],
                colours,
            )
            pending_rejoin = None
        parts += _shape(main, colours)
        if side is not None and step.branch is not None:
            parts += _shape(side, colours)
            level = y + min(main.h, side.h) / 2
            parts += _arrow([(main.right, level), (side.x, level)], colours)
            parts.append(
                _Text(
                    (step.branch.label,),
                    (main.right + side.x) / 2,
                    level - 5,
                    size=LABEL_SIZE,
                    bold=True,
                )
            )
            if step.branch.rejoin:
                pending_rejoin = side
        row_h = max(main.h, side.h if side else 0)
        if step.down_label:
            parts.append(_label(step.down_label, main.cx, main.bottom))
        previous = main
        y += row_h + ROW_GAP
    return tuple(parts), y - ROW_GAP + MARGIN


@lru_cache(maxsize=64)
def _layout_vertical(chart: Chart, colours: Colours) -> tuple[tuple[str | _Text, ...], float]:
    """Like ``_layout``, in one column: a question's side step sits beneath it, indented;
    the arrow past it runs down the gutter, and a side step that rejoins points down into
    the next step too."""
    check(chart)
    parts: list[str | _Text] = []
    full = V_WIDTH - 2 * MARGIN
    gutter = MARGIN + INDENT / 2
    into_next: list[tuple[float, float]] = []  # arrows to the next step: (x, from y)
    y = MARGIN
    for step in chart.steps:
        main = _box(MARGIN, y, full, step.kind, step.text)
        for x, top in into_next:
            parts += _arrow([(x, top), (x, main.y)], colours)
        parts += _shape(main, colours)
        down_x, into_next = main.cx, []
        y = main.bottom + ROW_GAP
        if step.branch is not None:
            side = _box(MARGIN + INDENT, y, full - INDENT, step.branch.kind, step.branch.text)
            parts += _arrow([(side.cx, main.bottom), (side.cx, side.y)], colours)
            parts.append(_label(step.branch.label, side.cx, main.bottom))
            parts += _shape(side, colours)
            if step.branch.rejoin:
                into_next.append((side.cx, side.bottom))
            down_x, y = gutter, side.bottom + ROW_GAP
        into_next.insert(0, (down_x, main.bottom))
        if step.down_label:
            parts.append(_label(step.down_label, down_x, main.bottom))
    return tuple(parts), y - ROW_GAP + MARGIN


def _label(text: str, x: float, top: float) -> _Text:
    """An arrow's label, just right of the arrow that leaves a box's foot at ``top``."""
    return _Text((text,), x + 8, top + ROW_GAP / 2 + 4, anchor="start", size=LABEL_SIZE, bold=True)


def _svg(
    chart: Chart,
    parts: list[str],
    height: float,
    width: int = WIDTH,
    size: tuple[float, float] | None = None,  # as drawn, if not the viewBox's own size
) -> str:
    title_id, desc_id = f"fc-{chart.key}-title", f"fc-{chart.key}-desc"
    drawn_w, drawn_h = size or (width, height)
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="esafety-flowchart" '
        f'viewBox="0 0 {width} {_n(height)}" width="{_n(drawn_w)}" height="{_n(drawn_h)}" '
        f'role="img" aria-labelledby="{title_id}" aria-describedby="{desc_id}" '
        f'font-family={quoteattr(FONT_FAMILY)} font-size="{_n(FONT_SIZE)}">'
    )
    meta = (
        f'<title id="{title_id}">{_text(chart.title)}</title>'
        f'<desc id="{desc_id}">{_text(chart.description)}</desc>'
    )
    return head + meta + "".join(parts) + "</svg>"


def _shape(box: _Box, colours: Colours) -> list[str | _Text]:
    stroke = f'stroke="{colours.stroke}" stroke-width="2"'
    if box.kind == "decision":
        x, y, w, h, p = box.x, box.y, box.w, box.h, POINT
        points = [
            (x + p, y),
            (x + w - p, y),
            (x + w, y + h / 2),
            (x + w - p, y + h),
            (x + p, y + h),
            (x, y + h / 2),
        ]
        outline = (
            f'<polygon points="{" ".join(f"{_n(a)},{_n(b)}" for a, b in points)}" '
            f'fill="{colours.question}" {stroke}/>'
        )
    else:
        fill = colours.fill if box.kind in ("start", "end") else "#ffffff"
        radius = 14 if box.kind in ("start", "end") else 3
        outline = (
            f'<rect x="{_n(box.x)}" y="{_n(box.y)}" width="{_n(box.w)}" '
            f'height="{_n(box.h)}" rx="{radius}" fill="{fill}" {stroke}/>'
        )
    text = _Text(box.lines, box.cx, box.y + PAD_Y + LINE_H * 0.75, bold=box.kind == "decision")
    return [outline, text]


def _svg_text(item: _Text, colours: Colours) -> str:
    """One SVG <text> per line."""
    size = "" if item.size == FONT_SIZE else f' font-size="{_n(item.size)}"'
    weight = ' font-weight="bold"' if item.bold else ""
    return "".join(
        f'<text x="{_n(item.x)}" y="{_n(item.y + item.line_height * i)}" '
        f'text-anchor="{item.anchor}"{weight}{size} fill="{colours.ink}">{_text(line)}</text>'
        for i, line in enumerate(item.lines)
    )


def _html_text(item: _Text, scale: float = 1.0) -> str:
    """The lines as one absolutely placed span (WeasyPrint lays each such box out on its
    own, so one per box, not per line), its first baseline where the SVG's would be when
    the SVG is drawn at ``scale``."""
    ascent, descent = _vertical_metrics(item.bold)
    line_h = item.line_height
    top = item.y - (line_h - (ascent + descent) * item.size) / 2 - ascent * item.size
    if item.anchor == "middle":
        half = min(item.x, WIDTH - item.x)
        left, box_w = item.x - half, 2 * half
    else:
        left, box_w = item.x, WIDTH - item.x
    align = "center" if item.anchor == "middle" else "left"
    weight = "; font-weight: 700" if item.bold else ""
    left, top, box_w, size, line_h = (v * scale for v in (left, top, box_w, item.size, line_h))
    return (
        f'<span style="left: {_n(left)}px; top: {_n(top)}px; width: {_n(box_w)}px; '
        f"text-align: {align}; font-size: {_n(size)}px; line-height: {_n(line_h)}px"
        f'{weight}">{"<br/>".join(_text(line) for line in item.lines)}</span>'
    )


def _arrow(points: list[tuple[float, float]], colours: Colours) -> list[str]:
    """A line through ``points`` ending in an arrowhead at the last point."""
    (x1, y1), (x2, y2) = points[-2], points[-1]
    dx, dy = x2 - x1, y2 - y1
    length = (dx * dx + dy * dy) ** 0.5 or 1.0
    ux, uy = dx / length, dy / length
    base = (x2 - ux * ARROW * 1.4, y2 - uy * ARROW * 1.4)
    left = (base[0] - uy * ARROW * 0.75, base[1] + ux * ARROW * 0.75)
    right = (base[0] + uy * ARROW * 0.75, base[1] - ux * ARROW * 0.75)
    line_points = [*points[:-1], base]
    path = " ".join(f"{_n(a)},{_n(b)}" for a, b in line_points)
    head = " ".join(f"{_n(a)},{_n(b)}" for a, b in (points[-1], left, right))
    return [
        f'<polyline points="{path}" fill="none" stroke="{colours.stroke}" stroke-width="2"/>',
        f'<polygon points="{head}" fill="{colours.stroke}"/>',
    ]


def _n(value: float) -> str:
    """A coordinate with at most one decimal place (same input, same bytes)."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _text(value: str) -> str:
    """Words for the SVG or print HTML, escaped for XML and with Markdown's characters as
    numeric references: a page's Markdown can never make a link of a school's words."""
    return md_escape(value)
