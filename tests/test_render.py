"""generator/render.py: fitting a poster to one page, and the task a PDF worker gets."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pytest

from generator.errors import BuildError
from generator.render import (
    CLOSE_ENOUGH,
    FILL_ENOUGH,
    FILL_TARGET,
    MAX_SCALE,
    PdfTask,
    fill_spare,
    fit_one_page,
)

PAGE_HEIGHT, TOP, BOTTOM = 1000.0, 50.0, 50.0
AVAILABLE = PAGE_HEIGHT - TOP - BOTTOM


@dataclass
class FakePage:
    anchors: dict[str, tuple[float, float]]
    height: float = PAGE_HEIGHT


@dataclass
class FakeDocument:
    scale: float
    pages: list[FakePage]


class Poster:
    """A poster whose height (in pages' worth of room) is fixed + growth * scale²,
    rounded up to whole lines of ``line`` pages, the way wrapped text grows."""

    def __init__(
        self, fixed: float, growth: float, line: float = 0.0, widest: float = math.inf
    ) -> None:
        self.fixed, self.growth, self.line = fixed, growth, line
        self.widest = widest  # above this scale a word breaks across lines
        self.layouts: list[float] = []

    def used(self, scale: float) -> float:
        text = self.growth * scale * scale
        if self.line:
            text = math.ceil(text / self.line) * self.line
        return self.fixed + text

    def __call__(self, scale: float, spare: float = 0.0) -> FakeDocument:
        self.layouts.append(scale)
        used = self.used(scale) + spare / AVAILABLE  # the cards grow by ``spare``
        pages = max(1, math.ceil(used - 1e-9))
        end = TOP + (used - (pages - 1)) * AVAILABLE
        start = {"poster-start": (0.0, TOP)}
        if scale > self.widest:  # pdf.number_words' marks, the end a line lower
            start |= {"word-7": (0.0, TOP + 10), "word-7-end": (0.0, TOP + 40)}
        if pages == 1:
            return FakeDocument(scale, [FakePage({**start, "poster-end": (0.0, end)})])
        blank = [FakePage({}) for _ in range(pages - 2)]
        return FakeDocument(scale, [FakePage(start), *blank, FakePage({"poster-end": (0.0, end)})])


@pytest.mark.parametrize(
    ("fixed", "growth", "line"),
    [(0.3, 0.95, 0.0), (0.2, 1.1, 0.0), (0.35, 0.9, 0.03), (0.1, 0.6, 0.02), (0.25, 1.3, 0.04)],
)
def test_a_poster_is_fitted_to_fill_one_page_in_a_few_layouts(
    fixed: float, growth: float, line: float
) -> None:
    poster = Poster(fixed, growth, line)
    document = fit_one_page(poster, "poster.pdf")
    assert len(document.pages) == 1
    used = poster.used(document.scale)
    assert used <= 1.0
    assert used > FILL_ENOUGH or document.scale >= MAX_SCALE
    assert len(poster.layouts) <= 4, poster.layouts


def test_the_largest_fitting_layout_is_kept_when_a_later_guess_overflows() -> None:
    poster = Poster(0.3, 0.95, line=0.09)  # coarse lines: guesses overshoot
    document = fit_one_page(poster, "poster.pdf")
    fitting = [s for s in poster.layouts if poster.used(s) <= 1.0]
    assert document.scale == max(fitting)


@pytest.mark.parametrize("widest", [1.05, 1.2, 1.33])
def test_type_grows_only_while_every_word_stays_whole(widest: float) -> None:
    poster = Poster(0.1, 0.3, widest=widest)  # room to grow far past the widest word
    document = fit_one_page(poster, "poster.pdf")
    assert widest - CLOSE_ENOUGH <= document.scale <= widest
    assert len(poster.layouts) <= 7, poster.layouts  # halving 1..1.6 down to 0.03


def test_height_the_type_could_not_use_goes_to_the_cards() -> None:
    poster = Poster(0.1, 0.3, widest=1.2)  # stops at 1.2, the page a third empty
    document = fit_one_page(poster, "poster.pdf")
    filled = fill_spare(poster, document, document.scale)
    assert filled is not document and filled.scale == document.scale
    end = filled.pages[0].anchors["poster-end"][1]
    assert (end - TOP) / AVAILABLE == pytest.approx(FILL_TARGET)


def test_a_full_poster_is_not_laid_out_again() -> None:
    poster = Poster(0.3, 0.95)
    document = fit_one_page(poster, "poster.pdf")
    layouts = len(poster.layouts)
    assert fill_spare(poster, document, document.scale) is document
    assert len(poster.layouts) == layouts


def test_a_word_broken_even_at_the_smallest_type_is_better_than_no_poster() -> None:
    poster = Poster(0.3, 0.5, widest=0.5)
    document = fit_one_page(poster, "poster.pdf")
    assert len(document.pages) == 1


def test_short_text_grows_no_larger_than_the_largest_type() -> None:
    poster = Poster(0.1, 0.2)
    document = fit_one_page(poster, "poster.pdf")
    assert document.scale == pytest.approx(MAX_SCALE)
    assert len(document.pages) == 1


def test_a_poster_that_can_never_fit_is_an_error_not_a_cut_off_page() -> None:
    with pytest.raises(BuildError, match=r"poster\.pdf: does not fit on one page"):
        fit_one_page(Poster(1.2, 0.5), "poster.pdf")


def test_the_same_poster_gets_the_same_layouts() -> None:
    first, second = Poster(0.3, 1.1, 0.03), Poster(0.3, 1.1, 0.03)
    fit_one_page(first, "poster.pdf")
    fit_one_page(second, "poster.pdf")
    assert first.layouts == second.layouts


def task(html: str) -> PdfTask:
    return PdfTask("poster.pdf", html, "file:///", (), "0", one_page=True)


def test_type_scale_is_a_css_variable_set_after_every_other_rule() -> None:
    html = "<html><head><style>body { font-size: calc(20pt * var(--fit-scale, 1)) }</style></head>"
    assert task(html).html_at(1.0) == html
    scaled = task(html).html_at(0.8125)
    assert scaled.endswith("<style>:root { --fit-scale: 0.8125; }</style></head>")
    assert scaled.index("--fit-scale: 0.8125") > scaled.index("var(--fit-scale, 1)")


def test_the_fit_scale_reaches_the_real_layout() -> None:
    """WeasyPrint applies the variable: the same text set at a smaller scale is smaller."""
    from weasyprint import HTML

    html = (
        "<html><head><style>@page { size: A6; margin: 5mm }"
        "body { margin: 0; font-size: calc(40pt * var(--fit-scale, 1)) }</style></head>"
        "<body><p>Some words that wrap over several lines at this size.</p>"
        '<div id="poster-end"></div></body></html>'
    )

    def end(scale: float) -> Any:
        document = HTML(string=task(html).html_at(scale)).render()
        return len(document.pages), document.pages[-1].anchors["poster-end"][1]

    assert end(0.5) < end(1.0)


def test_a_stylesheet_warning_fails_the_pdf() -> None:
    from generator import render

    html = (
        "<html><head><title>t</title><style>p { colr: red; margin: 0 }</style></head>"
        "<body><p>text</p></body></html>"
    )
    pdf = render.render_task(PdfTask("a.pdf", html, "file:///", (), "0"))
    assert any("colr" in warning for warning in pdf.warnings), pdf.warnings


def test_a_schools_pdfs_read_only_the_templates(make_school: Any) -> None:
    """The logo is in the print HTML as data (cleaned first): no PDF reads a school's folder."""
    from generator.compose import compose
    from generator.config import load_config
    from generator.pdf import PrintJob

    path = make_school({"school": {"name": "Alder Grove School"}})
    pack = compose(load_config(path), path.parent)
    tasks = [PrintJob(pack, doc).task() for doc in pack.prints]
    assert all(folder.endswith("templates") for task in tasks for folder in task.readable)
