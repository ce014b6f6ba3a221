"""Stage 4, write PDFs: print templates -> HTML -> WeasyPrint -> tagged PDF bytes.

WeasyPrint reads only local files (our templates, fonts and the school's logo) and data:
URIs; anything else is refused. Its warnings are collected so a build can fail on them.
Posters must be one page: if the composed text does not fit, the type is scaled down in
small steps until it does (a cut-off rule is a bug, not a layout choice).
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError
from markupsafe import Markup

from . import markup
from .compose import TEMPLATES_DIR, Pack, PrintDoc
from .errors import BuildError

PDF_VARIANT = "pdf/ua-1"
BASE_URL = (TEMPLATES_DIR / "print").as_uri() + "/"
FIT_STEP = 0.92
FIT_ATTEMPTS = 10
MAX_SCALE = 1.6
FILL_ENOUGH = 0.94
# Poster type sizes (points, at scale 1) on A3; A4 posters are scaled by PAPER_FACTOR.
POSTER_BASE_PT = {"ks1": 36.0, "ks2": 28.0, "ks3": 24.0, "smart": 30.0}
PAPER_FACTOR = {"A3": 1.0, "A4": 0.70}


@dataclass(frozen=True)
class RenderedPdf:
    filename: str
    data: bytes
    pages: int
    warnings: tuple[str, ...]
    html: str = ""  # the print HTML as finally laid out (for caching and benchmarks)


def print_environment(template_dirs: list[Path]) -> Environment:
    env = Environment(
        loader=FileSystemLoader([str(d) for d in template_dirs]),
        undefined=StrictUndefined,
        autoescape=True,
    )
    env.filters.update(
        markdown=markup.to_html,
        inline_markdown=markup.to_inline_html,
        date=markup.format_date,
        icon_uri=icon_data_uri,
        css_string=css_string,
    )
    return env


def css_string(value: object) -> Markup:
    """A value as the inside of a CSS string ("..."): everything but plain letters, digits
    and spaces is hex-escaped, so no value can end the string or the <style> element."""
    return Markup(
        "".join(
            ch if ch.isalnum() or ch == " " else f"\\{ord(ch):x} "
            for ch in markup.format_value(value)
        )
    )


@cache
def icon_data_uri(name: str, colour: str) -> str:
    """A Material icon as an SVG data URI, filled with ``colour``."""
    svg = markup.icon_svg(name).replace("<svg ", f'<svg fill="{colour}" ', 1)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")


def print_context(pack: Pack, doc: PrintDoc) -> dict[str, Any]:
    paper = pack.config.posters.paper
    return {
        "config": pack.config,
        "brand": pack.brand,
        "logo": pack.brand.logo_data_uri(),
        "doc_title": f"{doc.title}, {pack.config.school.name}",
        "fonts_url": (TEMPLATES_DIR / "fonts").as_uri(),
        "paper_factor": PAPER_FACTOR[paper],
        "page_margin": "12mm" if paper == "A3" else "9mm",
        "icon_em": 1.0,
        **doc.context,
    }


def render_html(env: Environment, doc: PrintDoc, context: dict[str, Any]) -> str:
    try:
        return env.get_template(doc.template).render(context)
    except TemplateError as exc:
        raise BuildError(f"templates/{doc.template}: {exc}") from None


class PrintJob:
    """One document's print HTML, ready to lay out at any type scale."""

    def __init__(self, pack: Pack, doc: PrintDoc):
        self.pack, self.doc = pack, doc
        self.env = print_environment(pack.search_dirs)
        self.context = print_context(pack, doc)
        self.base_pt = POSTER_BASE_PT.get(_poster_key(doc), 11.0) * self.context["paper_factor"]

    def html(self, scale: float = 1.0) -> str:
        return render_html(
            self.env, self.doc, {**self.context, "scale": scale, "base_pt": self.base_pt}
        )

    def cache_key(self) -> str:
        """Changes whenever anything that could change the PDF's bytes changes."""
        digest = hashlib.sha256()
        for part in (
            self.doc.filename,
            f"{self.doc.one_page}{self.doc.max_pages}",
            PDF_VARIANT,
            _weasyprint_version(),
            _folder_fingerprint(tuple(self.pack.search_dirs)),
            self.html(),
        ):
            digest.update(part.encode("utf-8"))
            digest.update(b"\0")
        return digest.hexdigest()


def render_pdf(pack: Pack, doc: PrintDoc) -> RenderedPdf:
    """Render one print document; posters are fitted to one page."""
    from weasyprint import HTML  # imported here: ~0.4 s, and only PDF workers need it

    job = PrintJob(pack, doc)
    fetcher = _local_fetcher(pack)
    sources: dict[int, str] = {}

    def layout(scale: float) -> Any:
        html = job.html(scale)
        document = HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher).render(
            pdf_variant=PDF_VARIANT
        )
        sources[id(document)] = html
        return document

    with _captured_warnings() as warnings:
        document = fit_one_page(layout, doc.filename) if doc.one_page else layout(1.0)
        if doc.max_pages and len(document.pages) > doc.max_pages:
            raise BuildError(
                f"{doc.filename}: runs to {len(document.pages)} pages; it must fit "
                f"on {doc.max_pages} (shorten the longest values in the config)"
            )
        data = document.write_pdf(pdf_variant=PDF_VARIANT)
    return RenderedPdf(
        doc.filename, data, len(document.pages), tuple(warnings), sources[id(document)]
    )


@cache
def _weasyprint_version() -> str:
    from importlib.metadata import version

    return version("weasyprint")


def _folder_fingerprint(folders: tuple[Path, ...]) -> str:
    """Hash of every template, stylesheet and font file the print HTML can use.

    Files are re-read only when their size or modification time changes, so a long
    ``esafety serve`` session notices edits without hashing the fonts every build.
    """
    files = tuple(
        (str(p), p.stat().st_mtime_ns, p.stat().st_size)
        for folder in folders
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    )
    return _hash_files(files)


@cache
def _hash_files(files: tuple[tuple[str, int, int], ...]) -> str:
    digest = hashlib.sha256()
    for name, _mtime, _size in files:
        digest.update(Path(name).name.encode())
        digest.update(Path(name).read_bytes())
    return digest.hexdigest()


def html_to_pdf(html: str) -> bytes:
    """Plain WeasyPrint, no fitting: the raw cost the benchmark compares against."""
    from weasyprint import HTML

    return HTML(string=html, base_url=BASE_URL).write_pdf(pdf_variant=PDF_VARIANT)


def fit_one_page(layout: Callable[[float], Any], filename: str) -> Any:
    """Lay a poster out as large as fits on one page, in as few layouts as possible.

    Each layout tells how much of the page the poster used (from its #poster-end mark,
    counting any overflow onto later pages). Text height grows with the square of the type
    size when lines wrap, so the next size is the current one times the square root of
    the free space, kept between the largest size known to fit and the smallest known not
    to. A layout that fills at least 94% of the page is kept at once.
    """
    scale, best = 1.0, None
    low, high = 0.0, MAX_SCALE * 1.01
    document = layout(scale)
    for _ in range(FIT_ATTEMPTS):
        room = _free_space_ratio(document)
        if len(document.pages) == 1:
            best, low = document, scale
            if room < 1.0 / FILL_ENOUGH or scale >= MAX_SCALE:
                return document
        else:
            high = scale
        guess = scale * room**0.5 * 0.99
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


def _poster_key(doc: PrintDoc) -> str:
    if doc.filename.startswith("poster-"):
        return doc.filename.removeprefix("poster-").removesuffix(".pdf")
    return ""


def _local_fetcher(pack: Pack) -> Any:
    from weasyprint.urls import URLFetcher

    allowed = [d.resolve() for d in pack.search_dirs]
    if pack.brand.logo_path:
        allowed.append(pack.brand.logo_path.parent)

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
