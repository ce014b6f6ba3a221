"""Stage 4b, in a PDF worker: print HTML -> WeasyPrint -> tagged PDF bytes.

Everything a worker needs travels in a ``PdfTask`` (the finished print HTML and a few
settings), so workers hold no school's data. WeasyPrint is used through its public API
only: ``HTML``, ``FontConfiguration``, ``write_pdf`` and a URL fetcher.

WeasyPrint reads only local files (our templates, fonts and the school's logo) and data:
URIs; anything else is refused. Its warnings are collected so a build can fail on them.
Posters must be one page: if the composed text does not fit, the type is scaled until it
does (a cut-off rule is a bug, not a layout choice).
"""

from __future__ import annotations

import gc
import logging
import math
import os
import re
import signal
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from .errors import BuildError

PDF_VARIANT = "pdf/ua-1"
FIT_ATTEMPTS = 10
FIT_STEP = 0.92
CLOSE_ENOUGH = 0.03  # type sizes this close look the same: stop fitting
MAX_SCALE = 1.6
FILL_ENOUGH = 0.94  # a poster that fills this much of its page is kept
FILL_TARGET = 0.975  # what the next guess aims for
FIXED_SHARE = 0.25  # of the height a poster used, the part taken not to grow with its type
GC_THRESHOLDS = (2000, 10, 10)  # see start_worker (Python's default: 700, 10, 10)


@dataclass(frozen=True)
class RenderedPdf:
    filename: str
    data: bytes
    pages: int
    warnings: tuple[str, ...]
    html: str = ""  # the print HTML as finally laid out (read back by the tests)
    scale: float = 1.0  # a poster's type scale: below 1, smaller than its readable floor


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

    def html_at(self, scale: float, spare: float = 0.0) -> str:
        """The HTML with its type scaled: the templates size poster text with
        ``var(--fit-scale)``, which this sets after every other rule, and give ``spare``
        height (CSS px) to their cards with ``var(--fit-spare)``."""
        values = [f"--fit-scale: {scale:.4f};"] if scale != 1.0 else []
        values += [f"--fit-spare: {spare:.1f}px;"] if spare else []
        if not values:
            return self.html
        rule = f"<style>:root {{ {' '.join(values)} }}</style>"
        return self.html.replace("</head>", rule + "</head>", 1)


def render_task(task: PdfTask) -> RenderedPdf:
    """Render one PDF; posters are fitted to one page."""
    from weasyprint import HTML

    fetcher = _local_fetcher(task.readable)

    sources: dict[int, tuple[str, float]] = {}

    def layout(scale: float, spare: float = 0.0) -> Any:
        source = task.html_at(scale, spare)
        html = HTML(string=source, base_url=task.base_url, url_fetcher=fetcher)
        document = html.render(pdf_variant=PDF_VARIANT, font_config=_fonts(), cache=_images)
        sources[id(document)] = source, scale
        return document

    with source_date(task.source_date_epoch), _captured_warnings() as warnings:
        document = fit_one_page(layout, task.filename) if task.one_page else layout(1.0)
        if task.one_page and "--fit-spare" in task.html:
            document = fill_spare(layout, document, sources[id(document)][1])
        if task.max_pages and len(document.pages) > task.max_pages:
            raise BuildError(
                f"{task.filename}: runs to {len(document.pages)} pages; it must "
                f"fit on {task.max_pages} (shorten the longest values in the "
                "config)"
            )
        data = document.write_pdf(pdf_variant=PDF_VARIANT)
    html, scale = sources[id(document)]
    return RenderedPdf(task.filename, data, len(document.pages), tuple(warnings), html, scale)


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
    kept at once. A layout that breaks a word (too wide for its card at that size) bounds
    the type from above but says nothing of the height, so the gap is halved instead;
    fitting stops once the gap is under CLOSE_ENOUGH.
    """
    scale, best, broken = 1.0, None, None
    low, high = 0.0, math.inf
    seen: list[tuple[float, float]] = []  # (scale, height used / height available)
    document = layout(scale)
    for _ in range(FIT_ATTEMPTS):
        used = 1.0 / _free_space_ratio(document)
        seen.append((scale, used))
        word_broken = len(document.pages) == 1 and not _words_whole(document)
        if word_broken:
            broken, high = broken or document, scale  # a word too wide for its card
        elif len(document.pages) == 1:
            best, low = document, scale
            if used > FILL_ENOUGH or scale >= MAX_SCALE:
                return document
        else:
            high = scale
        if best is not None and (high - low) < CLOSE_ENOUGH:
            break
        guess = 0.0 if word_broken else _next_scale(seen)  # a broken word: no model
        if not low < guess < high:
            guess = (low + high) / 2 if low else scale * FIT_STEP
        scale = min(guess, MAX_SCALE)
        document = layout(scale)
    best = best or broken  # better a broken word than a poster cut off
    if best is None:
        raise BuildError(
            f"{filename}: does not fit on one page even with the type scaled "
            f"to {scale:.0%}; shorten the text"
        )
    return best


def fill_spare(layout: Callable[[float, float], Any], document: Any, scale: float) -> Any:
    """A poster whose type stopped growing before its page was full (a larger size would
    break a word) gives the rest of the height to its cards (``var(--fit-spare)``), so no
    empty band is left at the foot of the page. One more layout; kept only if it still
    fits one page with every word whole."""
    used = 1.0 / _free_space_ratio(document)
    if len(document.pages) != 1 or used >= FILL_ENOUGH:
        return document
    page = document.pages[0]
    available = page.height - 2 * page.anchors["poster-start"][1]
    filled = layout(scale, (FILL_TARGET - used) * available)
    fits = len(filled.pages) == 1 and 1.0 / _free_space_ratio(filled) <= 1.0
    return filled if fits and _words_whole(filled) else document


_WORD_MARK = re.compile(r"word-\d+")  # pdf.number_words' ids


def _words_whole(document: Any) -> bool:
    """No marked word broken across lines: each word's start (``word-N``, set by
    pdf.number_words) is on the line of its end (``word-N-end``)."""
    for page in document.pages:
        for name, start in page.anchors.items():  # (x, y, ...) from the page's top left
            end = page.anchors.get(name + "-end")
            if _WORD_MARK.fullmatch(name) and end is not None and end[1] > start[1] + 1:
                return False
    return True


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
    """Available height / used height, from the #poster-start mark on the first page and
    the #poster-end mark on the last (poster pages have equal top and bottom margins)."""
    first, last = document.pages[0], document.pages[-1]
    start, end = first.anchors.get("poster-start"), last.anchors.get("poster-end")
    if not start or not end:
        return 1.0
    top = start[1]
    available = last.height - 2 * top
    used = available * (len(document.pages) - 1) + end[1] - top
    return available / used if used > 0 else 1.0


# ------------------------------------------------------------------ shared per process

_font_config: Any = None  # WeasyPrint's FontConfiguration: each @font-face file read once
_images: dict[str, Any] = {}  # decoded images (logos, icons) by URL, for WeasyPrint's cache


def _fonts() -> Any:
    """One font configuration for every PDF this process renders (small documents are
    about 15% faster; the bytes are the same)."""
    global _font_config
    if _font_config is None:
        from weasyprint.text.fonts import FontConfiguration

        _font_config = FontConfiguration()
    if len(_images) > 256:
        _images.clear()
    return _font_config


def start_worker(scratch: str) -> None:
    """A PDF worker's first act: temporary files (WeasyPrint's copies of the @font-face
    fonts) go into ``scratch``, a folder the build removes when the workers stop. Ctrl+C
    is the main process's to handle (it stops the pool): a worker ignores it, so a stopped
    ``esafety serve`` prints no worker's traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    tempfile.tempdir = scratch
    _fonts()
    # Python's cycle collector took 0.6 s of CPU over a pack's PDFs, most of it in full
    # collections walking every object. The imports (from the fork server) live as long
    # as the worker, so it never walks them again; and it runs a third as often, which
    # halves what is left. Higher thresholds saved little more but let memory grow.
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


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
