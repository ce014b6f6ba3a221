"""Stage 4a, print HTML: print templates + composed documents -> the HTML of each PDF.

This side runs in the build's own process: it renders each document's print HTML once,
keys it for the PDF cache and hands it to the workers as a ``PdfTask`` (``render.py``
turns it into PDF bytes). Posters size their type with ``var(--fit-scale)``, so fitting
them to one page needs no template rendering in the workers.
"""

from __future__ import annotations

import base64
import calendar
import hashlib
import itertools
import re
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, TemplateError
from markupsafe import Markup, escape

from . import markup, render
from .brand import poster_colours
from .compose import TEMPLATES_DIR, Pack, PrintDoc, sandboxed_environment
from .config import Config
from .errors import BuildError
from .render import PDF_VARIANT, PdfTask, RenderedPdf, render_task

BASE_URL = (TEMPLATES_DIR / "print").as_uri() + "/"
# Posters' smallest body text (points on A3, readable at five metres): their type is laid
# out at this size and only ever scaled up to fill the page. A4 is scaled by PAPER_FACTOR.
POSTER_BASE_PT = {"ks1": 48.0, "ks2": 36.0, "ks3": 30.0, "smart": 36.0}
# Pictograms' size in em of the body text: 2.7 x 48 pt is 45.7 mm on an A3 KS1 poster.
POSTER_ICON_EM = {"ks1": 2.7, "ks2": 2.4, "ks3": 2.4}
# Headlines' size in em of the body text (KS1's body is already as large as fits).
POSTER_HEADLINE_EM = {"ks1": 1.0, "ks2": 1.05, "ks3": 1.05, "smart": 1.0}
PAPER_FACTOR = {"A3": 1.0, "A4": 0.707}


@cache
def print_environment(template_dirs: tuple[Path, ...]) -> Environment:
    """One environment per set of template folders (templates compile once per run)."""
    env = sandboxed_environment(template_dirs, "print", autoescape=True)
    env.filters.update(
        markdown=markup.to_html,
        inline_markdown=markup.to_inline_html,
        date=markup.format_date,
        icon_uri=icon_data_uri,
        css_string=css_string,
        whole_words=whole_words,
        hyphenated_whole=hyphenated_whole,
        address=printed_address,
    )
    return env


def hyphenated_whole(value: object) -> Markup:
    """A value whose hyphenated words never end a line at their hyphen ("All-Through"):
    each is kept on one line by a span (not U+2011, so the PDF's text still searches)."""
    text = str(escape(markup.format_value(value)))
    return Markup(re.sub(r"\S*\w-\w\S*", r'<span class="nowrap">\g<0></span>', text))


def printed_address(value: object) -> Markup:
    """A web or email address on paper: it may break after a "/", "." or "@", never at a
    hyphen ("stmarys-" / "eastwick.org" reads as one word broken over two lines). A piece
    with a hyphen is kept on one line as ``hyphenated_whole`` keeps a name, so the PDF's
    text still has the real hyphen to search or copy."""
    pieces = re.split(r"(?<=[/.@])(?=.)", markup.format_value(value))
    return Markup("\u200b").join(  # a place to break (WeasyPrint ignores <wbr>)
        Markup('<span class="nowrap">{}</span>').format(p) if "-" in p else escape(p)
        for p in pieces
    )


# A word's marks: its span's start, and an empty span at its end (an empty span on each
# side of a space would stop WeasyPrint breaking the line there).
WORD_START, WORD_END = '<span class="word-start">', '<span class="word-end"></span></span>'


def whole_words(value: object) -> Markup:
    """Poster text with each word in a span that ends with an empty span, both given ids
    in the finished HTML (``number_words``), so the fitter can refuse a type size that
    breaks a word across lines (render.fit_one_page). A hyphenated word is a word too:
    its hyphens become non-breaking, so a child never reads "grown-" at the end of one
    line and "up" on the next. Other text (a dash, 7–11) is left as it is."""
    text = value if isinstance(value, Markup) else escape(markup.format_value(value))
    if "<" in text:
        return Markup(text)
    words = re.split(r"([ \t\n]+)", str(text))
    return Markup("".join(_marked(w) if _PLAIN_WORD.match(w) else w for w in words))


def _marked(word: str) -> str:
    return WORD_START + word.replace("-", NON_BREAKING_HYPHEN) + WORD_END


NON_BREAKING_HYPHEN = "\u2011"
_PLAIN_WORD = re.compile(r"[\w'’]+(-[\w'’]+)*[.,!?;:)]*\Z")


def number_words(html: str) -> str:
    """Give each pair of word marks its ids: ``word-N`` and ``word-N-end``."""
    starts, ends = itertools.count(), itertools.count()
    html = re.sub(re.escape(WORD_START), lambda _: f'<span id="word-{next(starts)}">', html)
    end = re.escape(WORD_END)
    return re.sub(end, lambda _: f'<span id="word-{next(ends)}-end"></span></span>', html)


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
    """An icon (templates/icons) as an SVG data URI, drawn in ``colour``."""
    svg = markup.icon_svg(name).replace('stroke="currentColor"', f'stroke="{colour}"')
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")


def print_context(pack: Pack, doc: PrintDoc) -> dict[str, Any]:
    paper = pack.config.posters.paper
    return {
        "config": pack.config,
        "brand": pack.brand,
        "logo": pack.brand.logo_data_uri(),
        "doc_title": f"{doc.title}, {pack.config.school.name}",
        "doc_audience": doc.audience,
        "fonts_url": (TEMPLATES_DIR / "fonts").as_uri(),
        "paper_factor": PAPER_FACTOR[paper],
        "page_margin": "10mm" if paper == "A3" else "7mm",
        "colours": poster_colours(),
        "draft": pack.draft,  # its mark is in the HTML, so in the cache key too
        "version": pack.draft["version"] if pack.draft else pack.config.review.version,
        **doc.context,
    }


def render_html(env: Environment, doc: PrintDoc, context: dict[str, Any]) -> str:
    try:
        return env.get_template(doc.template).render(context)
    except TemplateError as exc:
        raise BuildError(f"templates/{doc.template}: {exc}") from None


class PrintJob:
    """One document's print HTML (rendered once), its cache key and its worker task."""

    def __init__(self, pack: Pack, doc: PrintDoc):
        self.pack, self.doc = pack, doc
        self._html: str | None = None

    def html(self) -> str:
        if self._html is None:
            context = print_context(self.pack, self.doc)
            key = _poster_key(self.doc.filename)
            base_pt = POSTER_BASE_PT.get(key, 11.0) * context["paper_factor"]
            sizes = {
                "base_pt": base_pt,
                "headline_em": POSTER_HEADLINE_EM.get(key, 1.0),
                "icon_em": POSTER_ICON_EM.get(key, 1.0),
            }
            env = print_environment(tuple(self.pack.search_dirs))
            html = render_html(env, self.doc, {**context, **sizes})
            html = markup.keep_together(html, markup.unbreakable_names(self.pack.config))
            self._html = number_words(html) if self.doc.one_page else html
        return self._html

    def task(self) -> PdfTask:
        """The PDF for a worker."""
        readable = [str(d.resolve()) for d in self.pack.search_dirs]  # the logo is data
        return PdfTask(
            filename=self.doc.filename,
            html=self.html(),
            base_url=BASE_URL,
            readable=tuple(readable),
            source_date_epoch=source_date_epoch(self.pack.config),
            one_page=self.doc.one_page,
            max_pages=self.doc.max_pages,
        )

    def cache_key(self) -> str:
        """Changes whenever anything that could change the PDF's bytes changes."""
        digest = hashlib.sha256()
        for part in (
            self.doc.filename,
            f"{self.doc.one_page}{self.doc.max_pages}",
            PDF_VARIANT,
            _weasyprint_version(),
            _renderer_fingerprint(),
            _folder_fingerprint(tuple(self.pack.search_dirs)),
            self.html(),
        ):
            digest.update(part.encode("utf-8"))
            digest.update(b"\0")
        return digest.hexdigest()


def source_date_epoch(config: Config) -> str:
    """The approval date as seconds since 1970: the date every output is stamped with."""
    return str(calendar.timegm(config.review.approved_on.timetuple()))


def render_pdf(pack: Pack, doc: PrintDoc) -> RenderedPdf:
    """Render one print document here, in this process (posters are fitted to one page)."""
    return render_task(PrintJob(pack, doc).task())


@cache
def _renderer_fingerprint() -> str:
    """Our own rendering code (fitting, options) can change bytes too, so it is in the key."""
    return hashlib.sha256(Path(render.__file__).read_bytes()).hexdigest()


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


def small_posters(config: Config, pdfs: list[RenderedPdf]) -> list[str]:
    """A line for each poster whose words had to shrink below their readable size to fit
    one page (more or longer rules than the paper holds at that size)."""
    posters = config.posters
    lines = []
    for pdf in pdfs:
        floor = POSTER_BASE_PT.get(_poster_key(pdf.filename), 0) * PAPER_FACTOR[posters.paper]
        if floor and pdf.scale < 0.995:
            lines.append(
                f"{pdf.filename}: fits one {posters.paper} {posters.orientation} page only with "
                f"its words at {floor * pdf.scale:.0f} pt, under the {floor:.0f} pt a class "
                "reads from five metres (landscape, or fewer or shorter rules, keep that size)"
            )
    return lines


def _poster_key(filename: str) -> str:
    if filename.startswith("poster-"):
        return filename.removeprefix("poster-").removesuffix(".pdf")
    return ""
