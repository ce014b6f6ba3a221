"""Stage 4b, in a PDF worker: print HTML -> WeasyPrint -> tagged PDF bytes.

Everything a worker needs travels in a ``PdfTask`` (the finished print HTML and a few
settings), so workers hold no school's data and can be started before any school is
loaded: they are forked from a server that has already imported WeasyPrint (see
``workers.py``). This module imports nothing heavy of ours, only WeasyPrint, made faster
by ``speedups.py`` (the same bytes).

WeasyPrint reads only local files (our templates, fonts and the school's logo) and data:
URIs; anything else is refused. Its warnings are collected so a build can fail on them.
Posters must be one page: if the composed text does not fit, the type is scaled until it
does (a cut-off rule is a bug, not a layout choice).
"""

from __future__ import annotations

import atexit
import gc
import logging
import math
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.util import Finalize
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from . import speedups
from .errors import BuildError
from .stack import call_in_big_chunk

PDF_VARIANT = "pdf/ua-1"
FIT_ATTEMPTS = 10
FIT_STEP = 0.92
MAX_SCALE = 1.6
FILL_ENOUGH = 0.94  # a poster that fills this much of its page is kept
FILL_TARGET = 0.975  # what the next guess aims for
FIXED_SHARE = 0.25  # of the height a poster used, the part taken not to grow with its type


@dataclass(frozen=True)
class RenderedPdf:
    filename: str
    data: bytes
    pages: int
    warnings: tuple[str, ...]
    html: str = ""  # the print HTML as finally laid out (for caching and benchmarks)


@dataclass(frozen=True)
class PdfTask:
    """One PDF to render: its print HTML (at type scale 1) and how to lay it out."""

    filename: str
    html: str
    base_url: str  # where the HTML's relative URLs point
    readable: tuple[str, ...]  # folders WeasyPrint may read files from
    source_date_epoch: str  # stamped into the PDF (same input, same bytes)
    one_page: bool = False  # a poster: its type is scaled to fill exactly one page
    max_pages: int | None = None
    alike_follow: bool = False  # a batch: documents much like this one come next

    def html_at(self, scale: float) -> str:
        """The HTML with its type scaled: the templates size poster text with
        ``var(--fit-scale)``, which this sets after every other rule."""
        if scale == 1.0:
            return self.html
        rule = f"<style>:root {{ --fit-scale: {scale:.4f}; }}</style>"
        return self.html.replace("</head>", rule + "</head>", 1)


def render_task(task: PdfTask) -> RenderedPdf:
    """Render one PDF; posters are fitted to one page."""
    with _collector_paused():
        # its document is garbage by the time the collector runs
        return call_in_big_chunk(_render, task)


def _render(task: PdfTask) -> RenderedPdf:
    from weasyprint import HTML

    fetcher = _local_fetcher(task.readable)
    fonts, images = _shared_resources()
    speedups.record_drawings_at_first_sight(task.alike_follow)
    sources: dict[int, str] = {}

    def layout(scale: float) -> Any:
        html = task.html_at(scale)
        page, sheets = _without_stylesheets(html)
        stylesheets = [_stylesheet(css, task, fetcher, fonts, warnings) for css in sheets]
        document = HTML(string=page, base_url=task.base_url, url_fetcher=fetcher).render(
            pdf_variant=PDF_VARIANT, font_config=fonts, cache=images, stylesheets=stylesheets
        )
        sources[id(document)] = html
        return document

    with source_date(task.source_date_epoch), _captured_warnings() as warnings:
        document = fit_one_page(layout, task.filename) if task.one_page else layout(1.0)
        if task.max_pages and len(document.pages) > task.max_pages:
            raise BuildError(
                f"{task.filename}: runs to {len(document.pages)} pages; it must "
                f"fit on {task.max_pages} (shorten the longest values in the "
                "config)"
            )
        data = document.write_pdf(pdf_variant=PDF_VARIANT)
    return RenderedPdf(
        task.filename, data, len(document.pages), tuple(warnings), sources[id(document)]
    )


# ------------------------------------------------------------------ stylesheets


_stylesheets: dict[tuple[str, str], tuple[Any, tuple[str, ...]]] = {}
MAX_CACHED_STYLESHEETS = 64


def _without_stylesheets(html: str) -> tuple[str, list[str]]:
    """The HTML without the <style> elements of its head, and their stylesheets in document
    order: the template's, the school's colours, a poster's type scale. Each is parsed
    once per worker, and given back to WeasyPrint in the same order (it cascades them
    after the document's own, of which none are left)."""
    head_end = html.find("</head>")
    sheets: list[str] = []
    kept: list[str] = []
    position = 0
    while (start := html.find("<style>", position, head_end)) >= 0:
        end = html.find("</style>", start, head_end)
        if end < 0:
            break
        kept.append(html[position:start])
        sheets.append(html[start + len("<style>") : end])
        position = end + len("</style>")
    if not sheets:
        return html, []
    kept.append(html[position:])
    return "".join(kept), sheets


def _stylesheet(css: str, task: PdfTask, fetcher: Any, fonts: Any, warnings: list[str]) -> Any:
    """A stylesheet of the document's head, parsed once per worker: every school's posters,
    forms and policy share a few templates' (6% of the time of a small PDF, the same bytes),
    and the schools of a trust often share their colours. Its warnings are
    reported with every document that uses it, not only the first."""
    from weasyprint import CSS

    # Not keyed by the folders a document may read: parsing reads only the @font-face
    # files, which the same text finds in the same place for every school.
    key = (css, task.base_url)
    if key in _stylesheets:
        parsed, parse_warnings = _stylesheets[key]
        warnings.extend(parse_warnings)
        return parsed
    if len(_stylesheets) >= MAX_CACHED_STYLESHEETS:
        _stylesheets.clear()
    already = len(warnings)
    parsed = CSS(string=css, base_url=task.base_url, url_fetcher=fetcher, font_config=fonts)
    _stylesheets[key] = parsed, tuple(warnings[already:])
    return parsed


def html_to_pdf(html: str, base_url: str) -> bytes:
    """Plain WeasyPrint, no fitting: the raw cost the benchmark compares against."""
    from weasyprint import HTML

    return HTML(string=html, base_url=base_url).write_pdf(pdf_variant=PDF_VARIANT)


# ------------------------------------------------------------------ fitting posters


def fit_one_page(layout: Callable[[float], Any], filename: str) -> Any:
    """Lay a poster out as large as fits on one page, in as few layouts as possible.

    Scale 1 is the smallest readable type (the templates' sizes), laid out first: a poster
    that fits there is only ever scaled up. One that does not (more or longer rules than
    the page holds at that size) is scaled down rather than cut off.
    Each layout tells how much of the page the poster used (from its #poster-end mark,
    counting any overflow onto later pages). The height used is modelled as a fixed part
    plus a part growing with the square of the type size (lines get longer and wrap more):
    one layout gives a first guess, two fix both parts. Guesses stay between the largest
    size known to fit and the smallest known not to. A layout filling 94% of the page is
    kept at once.
    """
    scale, best = 1.0, None
    low, high = 0.0, math.inf
    seen: list[tuple[float, float]] = []  # (scale, height used / height available)
    document = layout(scale)
    for _ in range(FIT_ATTEMPTS):
        used = 1.0 / _free_space_ratio(document)
        seen.append((scale, used))
        if len(document.pages) == 1:
            best, low = document, scale
            if used > FILL_ENOUGH or scale >= MAX_SCALE:
                return document
        else:
            high = scale
        guess = _next_scale(seen)
        if not low < guess < high:
            guess = (low + high) / 2 if low else scale * FIT_STEP
        guess = min(guess, MAX_SCALE)
        if best is not None and (high - low) < 0.02:
            break
        scale = guess
        document = layout(scale)
    if best is None and len(document.pages) == 1:
        best = document
    if best is None:
        raise BuildError(
            f"{filename}: does not fit on one page even with the type scaled "
            f"to {scale:.0%}; shorten the text"
        )
    return best


def _next_scale(seen: list[tuple[float, float]]) -> float:
    """The scale expected to use FILL_TARGET of the page, from the layouts so far.

    Height used = fixed + growth * scale². Two layouts fix both parts; after one, the
    fixed part (heading, margins, spacing) is taken as FIXED_SHARE of what was used."""
    (s1, u1) = seen[-1]
    if len(seen) >= 2:
        (s0, u0) = seen[-2]
        if abs(s1 * s1 - s0 * s0) > 1e-6:
            growth = (u1 - u0) / (s1 * s1 - s0 * s0)
            fixed = u1 - growth * s1 * s1
            if growth > 0 and fixed < FILL_TARGET:
                return ((FILL_TARGET - fixed) / growth) ** 0.5
    fixed = FIXED_SHARE * u1
    if u1 <= 0 or fixed >= FILL_TARGET:
        return s1 * FIT_STEP
    return s1 * ((FILL_TARGET - fixed) / (u1 - fixed)) ** 0.5


def _free_space_ratio(document: Any) -> float:
    """Available height / used height (from the #poster-end mark on the last page)."""
    last = document.pages[-1]
    end = last.anchors.get("poster-end")
    if not end:
        return 1.0
    top, bottom = _page_margins_px(last)
    available = last.height - bottom - top
    used = available * (len(document.pages) - 1) + end[1] - top
    return available / used if used > 0 else 1.0


def _page_margins_px(page: Any) -> tuple[float, float]:
    box = page._page_box  # WeasyPrint is pinned to one major version (see pyproject)
    return box.margin_top, box.margin_bottom


# ------------------------------------------------------------------ shared per process

_fonts: Any = None  # WeasyPrint's FontConfiguration: each @font-face file is read once
_images: dict[str, Any] = {}  # decoded images (logos, icons) by URL
MAX_CACHED_IMAGES = 256
_cleaned_up_by: int | None = None  # the process that will remove the fonts' folder


def _shared_resources() -> tuple[Any, dict[str, Any]]:
    """One font configuration and image cache for every PDF this process renders (about
    15% faster for small documents; the bytes are the same). WeasyPrint copies @font-face
    fonts into a temporary folder, removed when the process ends."""
    global _fonts, _cleaned_up_by
    if _fonts is None:
        from weasyprint.text.fonts import FontConfiguration

        _fonts = FontConfiguration()
        speedups.install()
    if _cleaned_up_by != os.getpid():  # also in a worker forked with the configuration made
        _cleaned_up_by = os.getpid()
        Finalize(None, release_fonts, exitpriority=10)  # a pool worker's exit
        atexit.register(release_fonts)  # this process's own exit
    if len(_images) > MAX_CACHED_IMAGES:
        _images.clear()
    return _fonts, _images


def prepare_for_workers() -> None:
    """Done once in the PDF server before it forks its workers, rather than in each
    worker's first PDF (the policy's, which every build waits for): Fontconfig loads the
    system's font list, and WeasyPrint imports the mail-header modules it reads a file's
    headers with. The @font-face files themselves are added by each worker, into its own
    temporary folder."""
    from email.message import EmailMessage

    _shared_resources()
    EmailMessage()  # imports email.policy and the header registry


def release_fonts() -> None:
    """Remove the fonts' temporary folder (pool workers end without running ``__del__``)."""
    global _fonts
    folder = getattr(_fonts, "_folder", None)  # WeasyPrint's own folder for @font-face files
    _fonts = None
    _stylesheets.clear()  # their @font-face fonts were registered in that configuration
    speedups.forget_line_breaks()  # measured with those fonts
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


# ------------------------------------------------------------------ safety and warnings


def _local_fetcher(readable: tuple[str, ...]) -> Any:
    from weasyprint.urls import URLFetcher

    allowed = [Path(folder) for folder in readable]

    class LocalOnly(URLFetcher):
        """Fetch data: URIs and files under our own folders; refuse the network."""

        def fetch(self, url: str, headers: Any = None) -> Any:
            parsed = urlparse(url)
            if parsed.scheme == "file":
                path = Path(unquote(parsed.path)).resolve()
                if not any(path.is_relative_to(root) for root in allowed):
                    raise ValueError(f"refusing to read {path} (outside the project)")
            elif parsed.scheme != "data":
                raise ValueError(f"refusing to fetch {url} (no network at build time)")
            return super().fetch(url, headers)

    return LocalOnly(allowed_protocols=("file", "data"))


_collections_deferred = False  # in a PDF worker: see collect_when_the_next_document_starts
_documents_collected = 0


def collect_when_the_next_document_starts() -> None:
    """In a PDF worker (its only work is rendering): the collector stays off, and each
    document's garbage is collected when the next document starts, so no finished PDF
    waits for it on its way back (the policy, the last PDF of a build, never does)."""
    global _collections_deferred
    _collections_deferred = True
    gc.disable()


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off while WeasyPrint lays a document out, and one
    collection of the young objects after (or, in a worker, before the next): WeasyPrint
    makes millions of short-lived objects, which the collector kept scanning (3–5% of
    every PDF). The document's own cycles are all young, so they go in that collection."""
    global _documents_collected
    if _collections_deferred:
        # Every 10th document the middle generation too, every 100th all three, as often
        # as Python's own thresholds would: a cleared cache's cycles are in the older ones.
        _documents_collected += 1
        gc.collect(0 if _documents_collected % 10 else 1 if _documents_collected % 100 else 2)
        yield
        return
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
            gc.collect(0)


@contextmanager
def source_date(epoch: str) -> Iterator[None]:
    """Same input, same bytes: tools that stamp a date take this one (SOURCE_DATE_EPOCH)."""
    old = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = epoch
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = old


class _ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def _captured_warnings() -> Iterator[list[str]]:
    """Collect WeasyPrint's warnings instead of letting them scroll past."""
    logger = logging.getLogger("weasyprint")
    handler = _ListHandler()
    logger.addHandler(handler)
    old_propagate = logger.propagate
    logger.propagate = False
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)
        logger.propagate = old_propagate
