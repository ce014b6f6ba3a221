"""Small helpers the tests share: reading built HTML, PDFs and folders back."""

from __future__ import annotations

import functools
import hashlib
import http.server
import math
import os
import re
import shutil
import subprocess
import tempfile
import threading
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pypdf
import pytest

# Elements whose content a reader never sees as text.
_INVISIBLE = {"script", "style", "template", "noscript", "svg", "title", "head"}
_VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""  # direct and nested text (for script, style and li elements)


@dataclass
class ParsedHtml:
    """What a test needs from one page: visible text, every element, inline CSS."""

    text: str
    elements: list[Element] = field(default_factory=list)
    styles: list[str] = field(default_factory=list)

    def find(self, tag: str, **attrs: str) -> list[Element]:
        return [
            e
            for e in self.elements
            if e.tag == tag and all(attr_has(e, k.rstrip("_"), v) for k, v in attrs.items())
        ]


def attr_has(element: Element, name: str, value: str) -> bool:
    """True when the attribute equals ``value`` or, for class, lists it."""
    got = element.attrs.get(name)
    if got is None:
        return False
    return value in got.split() if name == "class" else got == value


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self.open: list[Element] = []
        self.hidden = 0
        self.text: list[str] = []
        self.styles: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.elements.append(element)
        if "style" in element.attrs:
            self.styles.append(element.attrs["style"])
        if tag in _VOID:
            return
        self.open.append(element)
        if tag in _INVISIBLE:
            self.hidden += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.elements.append(element)

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.open) - 1, -1, -1):
            if self.open[i].tag == tag:
                for closed in self.open[i:]:
                    if closed.tag in _INVISIBLE:
                        self.hidden -= 1
                    if closed.tag == "style":
                        self.styles.append(closed.text)
                del self.open[i:]
                return

    def handle_data(self, data: str) -> None:
        for element in self.open:
            element.text += data
        if not self.hidden:
            self.text.append(data)


def parse_html(source: str | Path) -> ParsedHtml:
    html = source.read_text(encoding="utf-8") if isinstance(source, Path) else source
    parser = _Parser()
    parser.feed(html)
    parser.close()
    return ParsedHtml(normalise_space("".join(parser.text)), parser.elements, parser.styles)


def normalise_space(text: str) -> str:
    """Text as a reader sees it: any run of spaces as one, and the non-breaking hyphen
    names are written with (U+2011) as a hyphen."""
    return re.sub(r"\s+", " ", text.replace("\u2011", "-")).strip()


def html_pages(site: Path) -> list[Path]:
    """The site's web pages (not embed/, which holds blocks to paste into other sites)."""
    return sorted(p for p in site.rglob("*.html") if p.relative_to(site).parts[0] != "embed")


def squash(text: str) -> str:
    """Text with layout undone, for finding composed text in a PDF: NFKC (ligatures), soft
    hyphens and line-end hyphenation removed, then every hyphen and every space dropped
    (a line may break after a real hyphen, or where the source had no space, as in "[x](")."""
    text = unicodedata.normalize("NFKC", text).replace("\u00ad", "")
    text = text.replace("\u2010", "-").replace("\u2011", "-")
    text = re.sub(r"-\s*\n\s*", "", text)
    return re.sub(r"[-\s]+", "", text)


def pdf_text(path: Path) -> str:
    """The text of a PDF in reading order (pdftotext when installed, else pypdf)."""
    if shutil.which("pdftotext"):
        out = subprocess.run(
            ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
        )
        return out.stdout.decode("utf-8")
    return "\n".join(page.extract_text() or "" for page in pypdf.PdfReader(path).pages)


def tree_digest(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder``, keyed by relative path (symlinks included)."""
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() or path.is_symlink():
            out[path.relative_to(folder).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def is_external(url: str) -> bool:
    """True for a URL that would make the browser contact another host."""
    url = url.strip()
    if url.startswith("//"):
        return True
    scheme = urlsplit(url).scheme.lower()
    return scheme not in ("", "data", "blob", "about", "mailto", "tel", "javascript")


_CSS_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)'"\s]*))\s*\)""", re.I)
_CSS_IMPORT = re.compile(r"""@import\s+["']([^"']+)["']""", re.I)  # @import url(...) is a url()


def css_urls(css: str) -> list[str]:
    """Every url(...) and @import target in a stylesheet."""
    urls = [next(g for g in m.groups() if g is not None) for m in _CSS_URL.finditer(css)]
    return urls + _CSS_IMPORT.findall(css)


def line_of(text: str, needle: str, *, start: bool = False) -> int:
    """The 1-based number of the only line of ``text`` containing (or, with ``start``,
    starting with) ``needle``."""
    hits = [
        i
        for i, line in enumerate(text.splitlines(), start=1)
        if (line.startswith(needle) if start else needle in line)
    ]
    assert len(hits) == 1, f"{needle!r} is on lines {hits}, expected exactly one"
    return hits[0]


def edit(text: str, old: str, new: str) -> str:
    """Replace the one occurrence of ``old`` (fail loudly if the sample changed)."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in the sample"
    return text.replace(old, new)


def rules_on_page(page: Path) -> list[str]:
    """The visible sentence of each rule in a rules page's <ol class="esafety-rules"> (each
    card shows the poster's headline above it)."""
    html = page.read_text(encoding="utf-8")
    lists = re.findall(r'<ol class="esafety-rules">(.*?)</ol>', html, re.S)
    assert len(lists) == 1, f"{page}: {len(lists)} rule lists"
    cards = parse_html(lists[0])
    assert len(cards.find("li")) == len(cards.find("span", **{"class": "esafety-rule-text"}))
    return [normalise_space(e.text) for e in cards.find("span", **{"class": "esafety-rule-text"})]


# ---------------------------------------------------------------- a built site in a browser
# Debian's Chromium, driven by Playwright (never a downloaded browser), over a site served on
# 127.0.0.1. One tour of a site visits every page once and records all a page does; the
# browser, accessibility and privacy tests all read the same tour.

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
# The WCAG 2.0, 2.1 and 2.2 rules at levels A and AA.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# What the site's chrome is: none of it may show on paper.
SITE_CHROME = (
    ".md-header",
    ".md-tabs",
    ".md-sidebar",
    ".md-search",
    ".md-footer",
    ".md-top",
    ".md-skip",
    ".md-overlay",
    ".md-content__button",
    ".headerlink",
)
# Icons drawn by the theme (Material for MkDocs) inside its own named buttons and links.
THEME_ICONS = ".md-icon, .md-logo, .md-top, .md-footer__button, .md-nav__icon, .md-content__button"
# Turns transitions off, so a test sees where things end up, not where they are mid-slide.
NO_MOTION = "*, *::before, *::after { transition: none !important; animation: none !important; }"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (base signature)
        pass


def published_path(site: Path) -> str:
    """The path a site is published under, as its sitemap gives it ('/online-safety/'),
    or '/' when the school gave no address (then the sitemap lists nothing)."""
    sitemap = site / "sitemap.xml"
    text = sitemap.read_text(encoding="utf-8") if sitemap.is_file() else ""
    paths = [urlsplit(loc).path for loc in re.findall(r"<loc>\s*([^<\s]+)\s*</loc>", text)]
    if not paths:
        return "/"
    common = os.path.commonprefix(paths)
    return common[: common.rfind("/") + 1] or "/"


@contextmanager
def serve(site: Path) -> Iterator[str]:
    """Serve ``site`` on 127.0.0.1 at a free port, under the path it is published at (as a
    school's web server would); yield its base URL."""
    prefix = published_path(site)
    with tempfile.TemporaryDirectory(prefix="esafety-serve-") as tmp:
        root = Path(tmp)
        if prefix != "/":
            mount = root / prefix.strip("/")
            mount.parent.mkdir(parents=True, exist_ok=True)
            mount.symlink_to(site.resolve(), target_is_directory=True)
        else:
            root = site
        handler = functools.partial(_QuietHandler, directory=str(root))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}{prefix}"
        finally:
            server.shutdown()
            server.server_close()
            thread.join()


NEEDS_CHROMIUM = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"{CHROMIUM} is missing: install Debian's chromium (make test-system-deps)",
)


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium under Playwright (for a module-scoped ``browser`` fixture)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Visit:
    """What happened while one page loaded, and what it showed."""

    url: str
    problems: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)  # every URL the page asked for
    h1: list[str] = field(default_factory=list)
    text: str = ""
    script_text: str = ""
    page: dict[str, Any] = field(default_factory=dict)  # see _PAGE_FACTS
    printed: dict[str, Any] = field(default_factory=dict)  # see _PRINT_FACTS
    axe: list[dict[str, Any]] | None = None  # axe-core's violations, if run


# Facts read from a loaded page in one call: cookies and storage, pictures without a text
# alternative, and every link.
_PAGE_FACTS = """(themeIcons) => {
  const named = s => {
    const title = s.querySelector(':scope > title');
    return s.getAttribute('role') === 'img' && title && title.textContent.trim() !== '';
  };
  return {
    cookie: document.cookie,
    storage: localStorage.length + sessionStorage.length,
    imgs_without_alt: [...document.images].filter(i => !i.hasAttribute('alt'))
      .map(i => i.outerHTML.slice(0, 120)),
    svgs_without_text: [...document.querySelectorAll('svg')]
      .filter(s => s.getAttribute('aria-hidden') !== 'true' && !named(s)
                   && !s.closest(themeIcons))
      .map(s => s.outerHTML.slice(0, 120)),
    theme_svgs_named_as_images: [...document.querySelectorAll('svg[role=img]')]
      .filter(s => s.closest(themeIcons) && !named(s)).length,
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    nav_links: [...document.querySelectorAll('.md-nav--primary a.md-nav__link[href]')]
      .map(a => a.href),
  };
}"""

# Facts read with print media emulated: which parts of the site's chrome would print, and
# how much of the page's own content would.
_PRINT_FACTS = """(chrome) => {
  const shows = e => e.checkVisibility({opacityProperty: true, visibilityProperty: true})
    && e.getBoundingClientRect().width > 0 && e.getBoundingClientRect().height > 0;
  const article = document.querySelector('article');
  return {
    chrome: chrome.flatMap(sel => [...document.querySelectorAll(sel)].filter(shows)
      .map(e => sel + ': ' + (e.innerText || e.outerHTML).trim().slice(0, 60))),
    content_shows: !!article && shows(article),
    content_text: article ? article.innerText : '',
    headings_shown: [...document.querySelectorAll('article h1, article h2')].filter(shows)
      .length,
    headings: document.querySelectorAll('article h1, article h2').length,
  };
}"""


@dataclass
class Visitor:
    """One browser context for one served site; records everything a page does."""

    context: Any
    base: str
    current: Visit | None = None
    in_flight: set[Any] = field(default_factory=set)

    def _note(self, problem: str) -> None:
        if self.current is not None:
            self.current.problems.append(problem)

    def route(self, route: Any) -> None:
        url = route.request.url
        if self.current is not None:
            self.current.requests.append(url)
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and parts.netloc != urlsplit(self.base).netloc:
            self._note(f"request to another host: {url}")
            route.abort()
        else:
            route.continue_()

    def watch(self, page: Any) -> None:
        page.on("console", lambda m: m.type == "error" and self._note(f"console: {m.text}"))
        page.on("pageerror", lambda e: self._note(f"page error: {e}"))
        page.on("request", lambda r: self.in_flight.add(r))
        page.on("requestfinished", lambda r: self.in_flight.discard(r))

        def failed(request: Any) -> None:
            self.in_flight.discard(request)
            # ERR_ABORTED: the page navigated away while it loaded (a test clicked on);
            # a request refused by route() above fails as ERR_FAILED and is noted there.
            if "ERR_ABORTED" not in str(request.failure):
                self._note(f"failed: {request.url} ({request.failure})")

        page.on("requestfailed", failed)
        page.on("response", lambda r: r.status >= 400 and self._note(f"HTTP {r.status}: {r.url}"))

        def dialog(d: Any) -> None:
            self._note(f"script dialog: {d.type} {d.message!r}")
            d.dismiss()

        page.on("dialog", dialog)

    def settle(self, page: Any, step_ms: int = 50, limit_ms: int = 15_000) -> None:
        """Wait until no request has been in flight for two steps (the search worker fetches
        its index after the load event). Like Playwright's networkidle, but 100 ms, not 500."""
        quiet = waited = 0
        while quiet < 2:
            page.wait_for_timeout(step_ms)
            waited += step_ms
            quiet = 0 if self.in_flight else quiet + 1
            if waited >= limit_ms:
                self._note(
                    f"still loading after {limit_ms} ms: {sorted(r.url for r in self.in_flight)}"
                )
                return

    @contextmanager
    def recording(self, label: str) -> Iterator[Visit]:
        """Record problems and requests during an interaction (typing, clicking...)."""
        self.current = Visit(label)
        try:
            yield self.current
        finally:
            self.current = None

    def visit(self, page: Any, path: str, *, audit: bool = False, axe: bool = False) -> Visit:
        """Load one page and record it; ``audit`` adds the page facts and the print view,
        ``axe`` an axe-core run."""
        self.current = Visit(self.base + path)
        page.goto(self.current.url, wait_until="load")
        self.settle(page)
        self.current.h1 = [t.strip() for t in page.locator("h1").all_inner_texts()]
        self.current.text = page.evaluate("document.body.innerText")
        self.current.script_text = page.evaluate(
            "Array.from(document.scripts).map(s => s.text).join('\\n')"
        )
        if audit:
            self.current.page = page.evaluate(_PAGE_FACTS, THEME_ICONS)
            page.emulate_media(media="print")
            self.current.printed = page.evaluate(_PRINT_FACTS, list(SITE_CHROME))
            page.emulate_media(media="screen")
        if axe:
            self.current.axe = run_axe(page)
        visit, self.current = self.current, None
        return visit


@contextmanager
def visitor(browser: Any, site: Path, **context_options: Any) -> Iterator[tuple[Visitor, Any]]:
    with serve(site) as base:
        context = browser.new_context(**context_options)
        v = Visitor(context, base)
        context.route("**/*", v.route)
        page = context.new_page()
        v.watch(page)
        try:
            yield v, page
        finally:
            context.close()


def site_paths(site: Path) -> list[str]:
    """URL path of every page: 'index.html' as '', 'rules/ks1/index.html' as 'rules/ks1/'."""
    paths = []
    for page in html_pages(site):
        rel = page.relative_to(site).as_posix()
        paths.append(rel.removesuffix("index.html"))
    return paths


def visit_all(browser: Any, site: Path) -> dict[str, Visit]:
    with visitor(browser, site) as (v, page):
        return {path: v.visit(page, path) for path in site_paths(site)}


@dataclass
class Tour:
    """Every page of one site, visited once with ``audit``, and what the browser kept."""

    base: str
    pages: dict[str, Visit]
    cookies: list[dict[str, Any]]  # the browser context's cookies after the last page


_TOURS: dict[Path, Tour] = {}


def tour(browser: Any, site: Path, *, axe: bool = False) -> Tour:
    """Visit every page of ``site`` once per test session, with axe-core if asked. The
    result is kept for the browser, accessibility and privacy tests alike: the
    accessibility tests (first in the run) ask for axe, the others take the same tour."""
    kept = _TOURS.get(site)
    if kept is None or (axe and any(v.axe is None for v in kept.pages.values())):
        with visitor(browser, site) as (v, page):
            pages = {path: v.visit(page, path, audit=True, axe=axe) for path in site_paths(site)}
            _TOURS[site] = Tour(v.base, pages, v.context.cookies())
    return _TOURS[site]


def run_axe(page: Any, context: str | None = None) -> list[dict[str, Any]]:
    """axe-core's WCAG A and AA violations on the page as it is now (bundled, offline)."""
    from axe_playwright_python.sync_playwright import Axe

    options = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
    return Axe().run(page, context=context, options=options).response["violations"]


def axe_summary(violations: list[dict[str, Any]]) -> list[str]:
    """One line per problem: rule, impact, element and axe's advice."""
    return [
        f"{v['id']} ({v['impact']}): {' '.join(node['target'][-1:])}: "
        + normalise_space(node.get("failureSummary", ""))[:240]
        for v in violations
        for node in v["nodes"]
    ]


def _matrix(m: list[float], n: list[float]) -> list[float]:
    a, b, c, d, e, f = m
    A, B, C, D, E, F = n
    return [a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D,
            e * A + f * C + E, e * B + f * D + F]  # fmt: skip


def pdf_reader(pdf: Path) -> pypdf.PdfReader:
    """A PDF opened once per version of the file (a 46-page policy read page by page)."""
    stat = Path(pdf).stat()
    return _reader(str(pdf), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=16)
def _reader(path: str, mtime_ns: int, size: int) -> pypdf.PdfReader:
    return pypdf.PdfReader(path)


@functools.lru_cache(maxsize=256)
def _text_pieces(path: str, mtime_ns: int, size: int, page: int) -> tuple:
    pieces: list[tuple[str, float, float]] = []

    def visit(text: str, cm: Any, tm: Any, font: Any, size: float) -> None:
        if text.strip():
            m = _matrix([float(v) for v in tm], [float(v) for v in cm])
            pieces.append((text, size * math.hypot(m[2], m[3]), m[5]))

    _reader(path, mtime_ns, size).pages[page].extract_text(visitor_text=visit)
    return tuple(pieces)


def text_pieces(pdf: Path, page: int = 0) -> list[tuple[str, float, float]]:
    """Each piece of text on a page: its text, its size on paper in points and the height
    of its baseline above the page's foot (points), read with pypdf's text matrices."""
    stat = Path(pdf).stat()
    return list(_text_pieces(str(pdf), stat.st_mtime_ns, stat.st_size, page))


def page_fill(pdf: Path, page: int, margins_mm: tuple[float, float]) -> float:
    """How much of a page's height between its top and bottom margins its text reaches
    down to (a running footer, in the bottom margin, does not count)."""
    box = pdf_reader(pdf).pages[page].mediabox
    top, bottom = (m * 72 / 25.4 for m in margins_mm)
    usable = float(box.height) - top - bottom
    lowest = min(y for _, _, y in text_pieces(pdf, page) if y > bottom)
    return (float(box.height) - top - lowest) / usable


def pdf_text_in_order(path: Path) -> str:
    """The text of a PDF in the order it was drawn (pypdf): a poster's cards stay whole,
    where pdftotext reads across the cards of a row line by line."""
    return "\n".join(page.extract_text() or "" for page in pypdf.PdfReader(path).pages)
