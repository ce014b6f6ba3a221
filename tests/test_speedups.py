"""generator/speedups.py: faster WeasyPrint and pydyf, the same bytes."""

from __future__ import annotations

import io
import re
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from generator import speedups
from generator.compose import compose
from generator.config import load_config
from generator.pdf import PrintJob
from generator.render import PdfTask, render_task


def test_pdf_streams_are_deflated_at_zlibs_default_level() -> None:
    """pydyf's level 9 took four times as long for files 2% smaller; the worker uses 6."""
    html = "<html><head><title>t</title></head><body>" + "<p>Words to set.</p>" * 200
    pdf = render_task(PdfTask("t.pdf", html + "</body></html>", "file:///", (), "0")).data
    streams = re.findall(rb"/FlateDecode.*?stream\n(.*?)\nendstream", pdf, re.S)
    assert streams
    for stream in streams:
        raw = zlib.decompress(stream)
        default = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION)
        assert stream == default.compress(raw) + default.flush()


def test_page_references_are_built_once_per_page_count_with_the_same_bytes() -> None:
    """WeasyPrint asks pydyf for every page's reference once per tagged element; the
    worker keeps the list until a page is added. A PDF made with the plain property and
    one made with the kept list must be the same, byte for byte."""
    import pydyf

    html = (
        "<html><head><title>t</title></head><body>"
        + "".join(f"<h2>Part {n}</h2><p>Words to set on page {n}.</p>" for n in range(40))
        + "<style>h2 { break-before: page }</style></body></html>"
    )
    task = PdfTask("t.pdf", html, "file:///", (), "0")
    kept_pdf = render_task(task)  # the worker's patches are in place from here on
    kept = pydyf.PDF.page_references
    assert hasattr(kept.fget, "plain")
    speedups.install()  # a second call does not wrap it again
    assert pydyf.PDF.page_references is kept

    try:
        pydyf.PDF.page_references = property(kept.fget.plain)  # pydyf's own
        plain_pdf = render_task(task)
    finally:
        pydyf.PDF.page_references = kept
    assert kept_pdf.pages == 40
    assert kept_pdf.data == plain_pdf.data


@pytest.mark.parametrize(
    "value",
    [
        0,
        7,
        -12,
        2**40,
        1.0,
        -3.0,
        1.5,
        -0.25,
        1e-7,
        123456.789,
        2.5e-12,
        True,
        False,
        "Tf",
        b"BT",
        Decimal("1.50"),
        3 + 0j,
    ],
)
def test_operands_become_the_same_bytes_as_pydyfs(installed: None, value: Any) -> None:
    import pydyf

    by_type = pydyf._to_bytes
    assert hasattr(by_type, "plain")
    assert by_type(value) == by_type.plain(value)


def test_pdf_objects_become_the_same_bytes_as_pydyfs(installed: None) -> None:
    import pydyf

    dictionary = pydyf.Dictionary({"Type": "/Page", "Size": 2.0, "Scale": 0.75, "N": 3})
    array = pydyf.Array([1, 2.5, b"/Name", dictionary, "/Fit", -0.125])
    by_type = pydyf._to_bytes
    fast = array.data
    pydyf._to_bytes = by_type.plain  # pydyf's own, all the way down
    try:
        plain = array.data
    finally:
        pydyf._to_bytes = by_type
    assert fast == plain == b"[1 2.5 /Name <</Type /Page/Size 2/Scale 0.75/N 3>> /Fit -0.125]"


# ------------------------------------------------------------------ line breaks


@contextmanager
def plain_line_breaks() -> Iterator[None]:
    """WeasyPrint's own split_first_line, everywhere the speed-up put the remembering one."""
    from weasyprint.layout import inline, preferred
    from weasyprint.text import line_break

    remembering = line_break.split_first_line
    plain = remembering.plain
    modules = (line_break, inline, preferred)
    for module in modules:
        module.split_first_line = plain
    try:
        yield
    finally:
        for module in modules:
            module.split_first_line = remembering


def changed_pdfs(
    tasks: dict[str, PdfTask],
    plain: Callable[[], AbstractContextManager[None]],
    fresh: bool = False,
) -> list[str]:
    """The PDFs whose bytes differ with a speed-up and inside ``plain()`` (without it);
    ``fresh``: each pass starts with nothing remembered."""

    def rendered() -> dict[str, bytes]:
        if fresh:
            speedups.forget_line_breaks()
        return {name: render_task(task).data for name, task in tasks.items()}

    faster = rendered()
    with plain():
        slower = rendered()
    return [name for name in tasks if faster[name] != slower[name]]


def computed_styles_of(html: str) -> tuple[dict[Any, Any], Any]:
    """The computed styles WeasyPrint made for ``html``, and the PDF."""
    from weasyprint.css import StyleFor

    made: list[Any] = []
    remember = StyleFor.__init__

    def spy(self: Any, *args: Any, **kwargs: Any) -> None:
        remember(self, *args, **kwargs)
        made.append(self)

    StyleFor.__init__ = spy
    try:
        pdf = render_task(PdfTask("t.pdf", html, "file:///", (), "0"))
    finally:
        StyleFor.__init__ = remember
    return made[-1].get_computed_styles(), pdf


def print_tasks(make_school: Any, changes: dict[str, Any], base: str) -> dict[str, PdfTask]:
    path = make_school(changes, base=base)
    pack = compose(load_config(path), path.parent)
    return {doc.filename: PrintJob(pack, doc).task() for doc in pack.prints}


@pytest.fixture(scope="module")
def installed() -> None:
    render_task(PdfTask("t.pdf", "<title>t</title><p>x</p>", "file:///", (), "0"))
    assert hasattr(__import__("weasyprint").text.line_break.split_first_line, "plain")


@pytest.mark.parametrize("base", ["primary", "secondary"])
def test_remembered_line_breaks_give_the_same_pdfs(
    installed: None, make_school: Any, base: str
) -> None:
    """Every PDF of a school, rendered after another school's PDFs were remembered (the
    way a trust's batch runs), is byte for byte the PDF WeasyPrint makes on its own."""
    other = print_tasks(make_school, {"school": {"name": "Hollins Park School"}}, base)
    tasks = print_tasks(make_school, {"people": {"dsl": {"name": "Ms Ruth Okafor"}}}, base)
    for task in other.values():
        render_task(task)
    assert changed_pdfs(tasks, plain_line_breaks) == []


def test_lines_already_measured_are_not_measured_again(installed: None) -> None:
    html = (
        "<title>t</title><style>p { width: 40mm }</style>"
        + "<p>Ask a grown-up before you go online, and tell them if you feel worried.</p>"
    )
    speedups.forget_line_breaks()
    render_task(PdfTask("t.pdf", html, "file:///", (), "0"))
    measured = len(speedups._lines)
    assert measured > 1  # the paragraph breaks over several lines
    render_task(PdfTask("t.pdf", html.replace("40mm", "40.0mm"), "file:///", (), "0"))
    assert len(speedups._lines) == measured
    render_task(PdfTask("t.pdf", html.replace("40mm", "41mm"), "file:///", (), "0"))
    assert len(speedups._lines) > measured  # another width: measured again


def test_each_text_style_and_set_of_fonts_is_its_own(installed: None, tmp_path: Path) -> None:
    """Text in another style, or after a new @font-face rule, is measured afresh."""
    from weasyprint import CSS

    from generator import render

    speedups.forget_line_breaks()
    fonts, _ = render._shared_resources()
    html = "<title>t</title><p>Words to set</p>"
    render_task(PdfTask("t.pdf", html, "file:///", (), "0"))
    styles = len(speedups._styles)
    render_task(
        PdfTask("t.pdf", html.replace("<p>", '<p style="font-size: 9pt">'), "file:///", (), "0")
    )
    assert len(speedups._styles) > styles
    styles = len(speedups._styles)
    font = Path(render.__file__).parent.parent / "templates" / "fonts" / "Andika-Regular.ttf"
    CSS(
        string=f'@font-face {{ font-family: "Test Face"; src: url("{font.as_uri()}") }}',
        font_config=fonts,
    )
    render_task(PdfTask("t.pdf", html, "file:///", (), "0"))
    assert len(speedups._styles) > styles  # the same style, but the fonts changed


# ------------------------------------------------------------------ drawing lines


def weasyprints_own(function: Any) -> Any:
    """The function a chain of speed-ups stands in for (each keeps the one it replaced)."""
    while hasattr(function, "plain"):
        function = function.plain
    return function


@contextmanager
def plain_drawing() -> Iterator[None]:
    """WeasyPrint's own draw_text and draw_first_line, no drawing remembered."""
    from weasyprint import draw
    from weasyprint.draw import text

    remembering, first_line = text.draw_text, text.draw_first_line
    text.draw_text = draw.draw_text = remembering.plain
    text.draw_first_line = weasyprints_own(first_line)
    try:
        yield
    finally:
        text.draw_text = draw.draw_text = remembering
        text.draw_first_line = first_line


def test_lines_drawn_before_give_the_same_pdfs(installed: None, make_school: Any) -> None:
    """A worker's PDFs in the order a build gives them (longest first), after another
    school's: the same bytes as WeasyPrint draws them line by line. A PDF font keeps each
    glyph's width as first measured, at whatever size; replaying the widths a drawing
    was recorded with, not those of this document, changed the agreements and forms of
    a secondary school (its posters first) by a byte or two."""
    other = print_tasks(make_school, {"school": {"name": "Hollins Park School"}}, "primary")
    tasks = print_tasks(make_school, {}, "secondary")
    del other["policy.pdf"], tasks["policy.pdf"]  # rendered by the other worker
    speedups.forget_line_breaks()
    for task in [*other.values(), *other.values()]:  # drawn, then recorded
        render_task(task)
    assert changed_pdfs(tasks, plain_drawing) == []


def test_drawings_recorded_at_first_sight_give_the_same_pdfs(
    installed: None, make_school: Any
) -> None:
    """In a batch each line's drawing is recorded the first time it is drawn, so the
    next school replays it: the same bytes, for that school and for the first."""
    first = print_tasks(make_school, {"school": {"name": "Hollins Park School"}}, "primary")
    second = print_tasks(make_school, {}, "primary")
    speedups.forget_line_breaks()
    recorded = {
        name: render_task(replace(task, alike_follow=True)).data for name, task in first.items()
    }
    assert sum(drawing is not None for drawing in speedups._drawings.values()) > 1000
    assert changed_pdfs(second, plain_drawing) == []
    with plain_drawing():
        assert [n for n, task in first.items() if render_task(task).data != recorded[n]] == []


def test_a_batch_tells_the_workers_that_more_schools_follow(make_school: Any) -> None:
    """Every school of a batch but the last asks for drawings recorded at first sight."""
    from generator.build import SchoolJob, prepare
    from generator.pool import PdfRenderer

    asked: list[bool] = []

    class Renderer(PdfRenderer):
        def _render(self, job: PrintJob, alike_follow: bool) -> Future[Any]:
            asked.append(alike_follow)
            return Future()

    config = make_school({})
    for more in (True, False):
        asked.clear()
        prepare(SchoolJob(config, config.parent / "site"), False, Renderer(1), more_follow=more)
        assert asked and set(asked) == {more}


def test_a_drawing_is_replayed_only_where_the_glyph_widths_it_used_hold() -> None:
    """A PDF font keeps each glyph's width as first measured (at any size), and the
    operators' spacing comes from it. A drawing that used width 605 for a glyph this
    line's size measures as 606 (kept from another size) fits only a document that kept
    605 too; where the glyph is new, this document would use 606, so it is drawn afresh."""

    class Font:
        def __init__(self, widths: dict[int, int]):
            self.widths, self.to_unicode = widths, {}

    class Stream:
        def __init__(self, font: Font):
            self.font = font

        def add_font(self, pango_font: object) -> tuple[Font, float]:
            return self.font, 11.0

        def set_text_matrix(self, *values: float) -> None:
            pass

    drawing = (("matrix",), ("font", "pango font", [(19, "2")], [(19, 605, 606), (20, 600, 600)]))
    for kept, fits in (({19: 605}, True), ({}, False), ({19: 606}, False), ({20: 600}, False)):
        assert (speedups._fonts_if_it_fits(Stream(Font(kept)), drawing) is not None) is fits

    new_glyphs = Font({19: 605})
    speedups._replay(Stream(new_glyphs), drawing, [new_glyphs], type("M", (), {"values": ()}))
    assert new_glyphs.widths == {19: 605, 20: 600}  # measured here, as WeasyPrint would
    assert new_glyphs.to_unicode == {19: "2"}


def test_a_line_drawn_twice_before_is_not_set_in_pango_again(installed: None) -> None:
    from weasyprint.text.line_break import Layout

    html = "<title>t</title>" + "".join(f"<p>Line number {n} to draw.</p>" for n in range(40))
    task = PdfTask("t.pdf", html, "file:///", (), "0")
    speedups.forget_line_breaks()
    reactivate = Layout.reactivate
    drawn: list[str] = []

    def counting(self: Any, style: Any) -> None:
        drawn.append(self.text)
        reactivate(self, style)

    Layout.reactivate = counting  # what WeasyPrint does to draw a line afresh
    try:
        first = render_task(task).data
        assert len(drawn) >= 40
        drawn.clear()
        second = render_task(task).data  # drawn again, and recorded
        assert len(drawn) >= 40
        drawn.clear()
        third = render_task(task).data
    finally:
        Layout.reactivate = reactivate
    assert first == second == third
    assert drawn == []


# ------------------------------------------------------------------ computed styles


@contextmanager
def plain_computed_styles() -> Iterator[None]:
    from weasyprint.css import StyleFor

    shared = StyleFor.set_computed_styles
    StyleFor.set_computed_styles = shared.plain
    try:
        yield
    finally:
        StyleFor.set_computed_styles = shared


@pytest.mark.parametrize("base", ["primary", "secondary"])
def test_shared_styles_give_the_same_pdfs(installed: None, make_school: Any, base: str) -> None:
    """Every PDF of a school is the same, byte for byte, whether its styles are shared
    (with the documents rendered before, and list markers, page numbers, pages and margin
    boxes among themselves) or WeasyPrint works each out on its own."""
    tasks = print_tasks(make_school, {}, base)
    assert changed_pdfs(tasks, plain_computed_styles) == []


def test_styles_shared_across_schools_give_the_same_pdfs(installed: None, make_school: Any) -> None:
    """A school's PDFs rendered after another school's (another phase, other colours),
    whose styles are kept, are the same as with every style worked out afresh."""
    first = print_tasks(make_school, {"school": {"colour": "#7a1f5c"}}, "secondary")
    for task in first.values():
        render_task(task)
    tasks = print_tasks(make_school, {}, "primary")
    assert changed_pdfs(tasks, plain_computed_styles) == []


def test_the_next_document_with_the_same_stylesheets_takes_the_kept_styles(
    installed: None,
) -> None:
    def html(colour: str, words: str) -> str:
        return (  # an underline is declared as a set, which is kept as itself
            "<html><head><title>t</title><style>p { margin: 2mm }"
            " h1 { text-decoration: underline }</style>"
            f"<style>:root {{ --brand: {colour} }}</style></head>"
            f"<body><h1 id='top'>Rules <em>now</em></h1><ol><li>{words}</li></ol></body></html>"
        )

    def styles_of(document: str) -> dict[tuple[str, str | None], int]:
        styles, _pdf = computed_styles_of(document)
        kept = (None, *speedups.KEPT_PSEUDO_ELEMENTS)
        elements = ((e, p, s) for (e, p), s in styles.items() if hasattr(e, "tag"))
        return {(e.tag, p): id(s) for e, p, s in elements if p in kept}

    first = styles_of(html("#245c3a", "Be kind online."))
    assert {("em", None), ("li", "marker")} <= set(first)
    assert styles_of(html("#245c3a", "Tell an adult you trust.")) == first
    other_colours = styles_of(html("#7a1f5c", "Be kind online."))
    assert set(other_colours.values()).isdisjoint(first.values())  # the root differs


def test_a_root_or_body_style_with_hidden_overflow_is_not_kept(installed: None) -> None:
    """WeasyPrint moves the body's overflow to the page and sets the body's to visible: a
    kept body style would give the next document's pages visible overflow."""
    html = (
        "<html><head><title>t</title><style>@page { size: 80mm 40mm; margin: 5mm }"
        " body { overflow: hidden; margin: 0 } div { width: 200mm; height: 9mm;"
        " background: #c00 }</style></head><body><div></div><p>x</p></body></html>"
    )
    task = PdfTask("t.pdf", html, "file:///", (), "0")
    kept = [render_task(task).data, render_task(task).data]
    with plain_computed_styles():
        assert kept == [render_task(task).data] * 2


def test_kept_styles_are_dropped_when_a_document_starts_with_too_many(
    installed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = (
        PdfTask("t.pdf", f"<title>t</title>{body}", "file:///", (), "0")
        for body in ("<p>One</p>", "<ul><li>Two</li></ul>")
    )
    speedups.forget_shared_styles()
    render_task(second)
    second_alone = len(speedups._shared_styles)
    speedups.forget_shared_styles()
    render_task(first)
    monkeypatch.setattr(speedups, "MAX_SHARED_STYLES", len(speedups._shared_styles))
    render_task(second)
    assert len(speedups._shared_styles) == len(speedups._shared_ids) == second_alone


def test_print_templates_use_no_viewport_units() -> None:
    """A kept style keeps the page size of the document that first worked its values out,
    which only viewport units (vw, vh...) would read."""
    units = re.compile(r"\d(?:[sld]?v(?:w|h|i|b|min|max)|p?v(?:w|h))\b")
    for template in Path("templates/print").glob("*.html"):
        assert not units.search(template.read_text(encoding="utf-8")), template.name


def test_list_markers_of_items_that_share_a_style_share_theirs(installed: None) -> None:
    items = "".join(f"<li>Item {n}</li>" for n in range(30))
    styles, _pdf = computed_styles_of(f"<title>t</title><ul>{items}</ul><ol>{items}</ol>")
    item_styles = {
        id(s) for (e, p), s in styles.items() if p is None and getattr(e, "tag", "") == "li"
    }
    markers = [s for (e, p), s in styles.items() if p == "marker" and e.tag == "li"]
    assert len(markers) == 60
    assert len({id(s) for s in markers}) == len(item_styles) < 10


def test_pages_and_their_margin_boxes_share_their_styles(installed: None) -> None:
    from weasyprint.layout.page import PageType

    styles, pdf = computed_styles_of(
        "<title>t</title><style>@page { @bottom-right { content: counter(page) } }"
        "p { break-after: page }</style>" + "<p>A page.</p>" * 6
    )
    pages = {key[0].index for key in styles if isinstance(key[0], PageType)}
    assert pdf.pages == len(pages) == 6
    for pseudo_type in (None, "@bottom-right", "@top-left"):
        shared = {
            id(s) for (e, p), s in styles.items() if isinstance(e, PageType) and p == pseudo_type
        }
        assert len(shared) == 1, pseudo_type
    numbers = [page.extract_text().split()[-1] for page in PdfReader(io.BytesIO(pdf.data)).pages]
    assert numbers == ["1", "2", "3", "4", "5", "6"]  # one shared style, counted on every page


# ------------------------------------------------------------------ layouts and struts


@contextmanager
def plain_layouts_and_struts() -> Iterator[None]:
    """WeasyPrint's own layout reactivation, struts and font descriptions."""
    from weasyprint.css import computed_values, units
    from weasyprint.layout import inline
    from weasyprint.text import line_break

    layout = line_break.Layout
    faster = (layout.deactivate, layout.reactivate, line_break.strut)
    describe = line_break.get_font_description
    modules = (line_break, inline, units, computed_values)
    layout.deactivate, layout.reactivate = faster[0].plain, faster[1].plain
    for module in modules:
        module.strut = faster[2].plain
    line_break.get_font_description = describe.plain
    try:
        yield
    finally:
        layout.deactivate, layout.reactivate = faster[0], faster[1]
        for module in modules:
            module.strut = faster[2]
        line_break.get_font_description = describe


@pytest.mark.parametrize("base", ["primary", "secondary"])
def test_kept_layouts_and_struts_give_the_same_pdfs(
    installed: None, make_school: Any, base: str
) -> None:
    tasks = print_tasks(make_school, {}, base)
    # every line measured, and drawn, afresh
    assert changed_pdfs(tasks, plain_layouts_and_struts, fresh=True) == []


def test_a_measured_line_is_drawn_from_its_kept_layout_unless_justified(installed: None) -> None:
    """No line is set in Pango again to be drawn, but a justified one (drawn with extra
    word spacing); the remembered lines hold no Pango objects."""
    from weasyprint.document import Document
    from weasyprint.text import line_break

    words = " ".join(f"word{n}" for n in range(120))
    setup, write_pdf = line_break.Layout.setup, Document.write_pdf
    drawing, set_while_drawing = [False], []

    def spy_setup(self: Any, style: Any) -> None:
        if drawing[0]:
            set_while_drawing.append(style)
        setup(self, style)

    def spy_write_pdf(self: Any, *args: Any, **kwargs: Any) -> Any:
        drawing[0] = True
        try:
            return write_pdf(self, *args, **kwargs)
        finally:
            drawing[0] = False

    counts = {}
    line_break.Layout.setup, Document.write_pdf = spy_setup, spy_write_pdf
    try:
        for align in ("left", "justify"):
            speedups.forget_line_breaks()
            set_while_drawing.clear()
            html = f"<title>t</title><p style='text-align: {align}; width: 60mm'>{words}</p>"
            render_task(PdfTask("t.pdf", html, "file:///", (), "0"))
            counts[align] = len(set_while_drawing)
    finally:
        line_break.Layout.setup, Document.write_pdf = setup, write_pdf
    assert counts["left"] == 0
    assert counts["justify"] > 5
    assert speedups._lines
    assert all(speedups.KEPT_LAYOUT not in found[0].__dict__ for found in speedups._lines.values())


def test_a_styles_strut_is_worked_out_once(
    installed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from weasyprint.layout import inline

    kept = inline.strut
    worked_out: list[int] = []

    def spy(style: Any, plain: Any = kept.plain) -> Any:
        worked_out.append(id(style))
        return plain(style)

    monkeypatch.setattr(kept, "plain", spy)
    speedups.forget_line_breaks()
    words = " ".join(f"word{n}" for n in range(200))
    render_task(
        PdfTask("t.pdf", f"<title>t</title><p style='width: 40mm'>{words}</p>", "file:///", (), "0")
    )
    assert 0 < len(worked_out) == len(set(worked_out)) < 10  # not once a line: 40 lines


@contextmanager
def plain_percentages() -> Iterator[None]:
    """WeasyPrint's own resolve_percentages, everywhere the speed-up put the kept one."""
    from weasyprint.layout import absolute, block, column, grid, inline, page, percent, table
    from weasyprint.layout import float as floats

    kept = percent.resolve_percentages
    modules = (percent, absolute, block, column, floats, grid, inline, page, table)
    for module in modules:
        module.resolve_percentages = kept.plain
    try:
        yield
    finally:
        for module in modules:
            module.resolve_percentages = kept


@pytest.mark.parametrize("base", ["primary", "secondary"])
def test_kept_box_sizes_give_the_same_pdfs(installed: None, make_school: Any, base: str) -> None:
    tasks = print_tasks(make_school, {}, base)
    assert changed_pdfs(tasks, plain_percentages) == []


def test_box_sizes_are_kept_per_style_and_containing_block(installed: None) -> None:
    """Percentages follow the containing block: the same style in two widths of column
    gives two sizes, each worked out once however many boxes use it."""
    from weasyprint.layout import percent

    kept = percent.resolve_percentages
    worked_out: list[tuple[int, Any]] = []

    def spy(box: Any, containing_block: Any, plain: Any = kept.plain) -> None:
        worked_out.append((id(box.style), getattr(containing_block, "width", None)))
        plain(box, containing_block)

    item = "<p style='margin-left: 10%; width: 50%'>A short line.</p>"
    html = (
        "<title>t</title><div style='width: 100mm'>" + item * 12 + "</div>"
        "<div style='width: 60mm'>" + item * 12 + "</div>"
    )
    kept.plain = spy
    try:
        pdf = render_task(PdfTask("t.pdf", html, "file:///", (), "0"))
    finally:
        kept.plain = spy.__defaults__[0]
    assert pdf.pages == 1
    assert len(worked_out) == len(set(worked_out))  # each pair once
    paragraphs = [key for key in worked_out if key[1] is not None and key[1] < 400]
    assert len({width for _style, width in paragraphs}) >= 2  # both columns' widths


# ------------------------------------------------------------------ foreseen overflows


@contextmanager
def plain_line_setting() -> Iterator[None]:
    from weasyprint.text.line_break import Layout

    foreseeing = Layout.set_text, Layout.get_first_line
    Layout.set_text, Layout.get_first_line = foreseeing[0].plain, foreseeing[1].plain
    try:
        yield
    finally:
        Layout.set_text, Layout.get_first_line = foreseeing


def random_paragraphs(seed: int) -> str:
    """Paragraphs of words of every length, in several widths, sizes and weights."""
    import random

    rng = random.Random(seed)
    words = [
        "".join(rng.choice("abcdefghijklmnopqrstuvwxyzWAVfi") for _ in range(rng.randint(1, 14)))
        for _ in range(400)
    ]
    paragraphs = []
    for _n in range(40):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(5, 60)))
        style = (
            f"width: {rng.randint(25, 170)}mm; font-size: {rng.choice((8, 9.5, 10.5, 12, 17))}pt;"
            f" font-weight: {rng.choice((400, 700))}"
        )
        paragraphs.append(f"<p style='{style}'>{text} <b>{rng.choice(words)}</b> {text[:40]}</p>")
    return "<title>t</title>" + "".join(paragraphs)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_foreseen_overflows_break_lines_where_pango_does(installed: None, seed: int) -> None:
    task = PdfTask("t.pdf", random_paragraphs(seed), "file:///", (), "0")
    speedups.forget_line_breaks()
    foreseen = render_task(task).data
    speedups.forget_line_breaks()
    with plain_line_setting():
        plain = render_task(task).data
    assert foreseen == plain


@pytest.mark.parametrize("base", ["primary", "secondary"])
def test_foreseen_overflows_give_the_same_pdfs(
    installed: None, make_school: Any, base: str
) -> None:
    tasks = print_tasks(make_school, {}, base)
    assert changed_pdfs(tasks, plain_line_setting, fresh=True) == []


def test_most_second_settings_of_a_broken_line_are_foreseen(installed: None) -> None:
    from weasyprint.text.line_break import Layout

    asked = {"pango": 0, "foreseen": 0}
    get_first_line = Layout.get_first_line

    def spy(self: Any) -> Any:
        asked["foreseen" if speedups.FORESEEN in self.__dict__ else "pango"] += 1
        return get_first_line(self)

    Layout.get_first_line = spy
    try:
        speedups.forget_line_breaks()
        render_task(PdfTask("t.pdf", random_paragraphs(4), "file:///", (), "0"))
    finally:
        Layout.get_first_line = get_first_line
    assert asked["foreseen"] > 50


# ------------------------------------------------------------------ drawing images


@contextmanager
def plain_images() -> Iterator[None]:
    """WeasyPrint's own SVGImage.draw, no image drawing remembered."""
    from weasyprint.images import SVGImage

    remembering = SVGImage.draw
    SVGImage.draw = remembering.plain
    try:
        yield
    finally:
        SVGImage.draw = remembering


def svg_uri(body: str, view_box: str = "0 0 24 24") -> str:
    import base64

    svg = f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{view_box}">{body}</svg>'
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


# Path and paint only: replayed. The others tie their drawing to the page or document.
REPLAYED_SVG = {
    "icon": '<path d="M12 2 L22 22 H2 Z M12 8 a2 2 0 1 0 0.1 0" fill="#1b1b1b"/>',
    "strokes": (
        '<g fill="none" stroke="#0b5394" stroke-width="2" stroke-linecap="round">'
        '<polyline points="2,12 8,18 22,4"/><circle cx="12" cy="12" r="9"/></g>'
    ),
    "see-through": '<rect x="2" y="2" width="20" height="20" fill="#c00" fill-opacity="0.5"/>',
}
DRAWN_AFRESH_SVG = {
    "group opacity": '<g opacity="0.4"><rect width="24" height="24" fill="#0a0"/></g>',
    "clip path": (
        '<clipPath id="c"><circle cx="12" cy="12" r="8"/></clipPath>'
        '<rect width="24" height="24" fill="#00c" clip-path="url(#c)"/>'
    ),
    "gradient": (
        '<linearGradient id="g"><stop offset="0" stop-color="#fff"/>'
        '<stop offset="1" stop-color="#000"/></linearGradient>'
        '<rect width="24" height="24" fill="url(#g)"/>'
    ),
    "text": '<text x="2" y="18" font-size="14" fill="#333">Hi</text>',
}


def images_page(colour: str) -> str:
    """Every test image at two sizes on each of three pages, after text of ``colour``."""
    images = "".join(
        f'<img src="{svg_uri(body)}" style="width: {size}mm" alt="{name}">'
        for name, body in {**REPLAYED_SVG, **DRAWN_AFRESH_SVG}.items()
        for size in (8, 15)
    )
    pages = "".join(
        f'<section style="break-before: page"><p style="color: {colour}">Page {n}</p>'
        f"<p>{images}</p></section>"
        for n in range(3)
    )
    return f"<html><head><title>t</title></head><body>{pages}</body></html>"


def test_images_drawn_before_give_the_same_pdfs(installed: None) -> None:
    """Icons drawn again (at the same size, on other pages, in other documents) are
    replayed, byte for byte as WeasyPrint draws them; images whose drawing depends on
    where it is drawn or on the document (groups, clips, gradients, text) never are."""
    speedups.forget_line_breaks()
    tasks = {
        colour: PdfTask(f"{colour}.pdf", images_page(colour), "file:///", (), "0")
        for colour in ("#000000", "#1b1b1b", "#0b5394")
    }
    # Drawn once per document, so kept from the second and replayed in the third: a
    # transparent paint's graphics state, new to each document, must be added there too.
    see_through = svg_uri(REPLAYED_SVG["see-through"])
    alone = f'<title>t</title><p><img src="{see_through}" style="width: 11mm" alt="x"></p>'
    tasks |= {f"alone {n}": PdfTask(f"{n}.pdf", alone, "file:///", (), "0") for n in range(3)}
    assert changed_pdfs(tasks, plain_images) == []
    drawings = [d for kept in speedups._image_drawings.values() for d in kept.values()]
    replayable = [d for d in drawings if isinstance(d, tuple)]
    # Each replayable image at each size, from each stream state it was met in again.
    assert len(replayable) >= 2 * len(REPLAYED_SVG)
    assert sum(d is None for d in drawings) >= 2 * len(DRAWN_AFRESH_SVG)
    assert any(added for _, _, added, _ in replayable)  # fill-opacity's graphics state
    with plain_images():  # and the first document, drawn with nothing remembered
        first = {name: render_task(task).data for name, task in tasks.items()}
    speedups.forget_line_breaks()
    assert [n for n, task in tasks.items() if render_task(task).data != first[n]] == []


def test_an_image_drawn_once_is_neither_recorded_nor_kept(installed: None) -> None:
    """An inline <svg> is an image of its own document (a policy's flowcharts): it is not
    recorded, and the drawings kept do not keep its document alive."""
    import gc

    speedups.forget_line_breaks()
    svg = REPLAYED_SVG["icon"].replace("<path", '<path id="inline"')
    inline = f'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40">{svg}</svg>'
    html = f"<title>t</title>{inline}"
    render_task(PdfTask("t.pdf", html, "file:///", (), "0"))
    gc.collect()
    assert len(speedups._image_drawings) == 0


def test_a_schools_images_drawn_before_give_the_same_pdfs(
    installed: None, make_school: Any
) -> None:
    """A school's logo, QR code and rule icons, after another school's PDFs."""
    other = print_tasks(make_school, {"school": {"name": "Hollins Park School"}}, "primary")
    tasks = print_tasks(make_school, {}, "primary")
    del other["policy.pdf"], tasks["policy.pdf"]
    speedups.forget_line_breaks()
    for task in other.values():
        render_task(task)
    for task in other.values():  # drawn again: recorded
        render_task(task)
    kept = [d for drawings in speedups._image_drawings.values() for d in drawings.values()]
    assert sum(isinstance(d, tuple) for d in kept) >= 10
    assert changed_pdfs(tasks, plain_images) == []
