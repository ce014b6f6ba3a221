"""Small helpers the tests share: reading built HTML, PDFs and folders back."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import unicodedata
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pypdf

# Elements whose content a reader never sees as text.
_INVISIBLE = {"script", "style", "template", "noscript", "svg", "title", "head"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
         "track", "wbr"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""          # direct and nested text (for script, style and li elements)


@dataclass
class ParsedHtml:
    """What a test needs from one page: visible text, every element, inline CSS."""

    text: str
    elements: list[Element] = field(default_factory=list)
    styles: list[str] = field(default_factory=list)

    def find(self, tag: str, **attrs: str) -> list[Element]:
        return [e for e in self.elements if e.tag == tag
                and all(attr_has(e, k.rstrip("_"), v) for k, v in attrs.items())]


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
    return re.sub(r"\s+", " ", text).strip()


def html_pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


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
        out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"],
                             capture_output=True, check=True)
        return out.stdout.decode("utf-8")
    return "\n".join(page.extract_text() or "" for page in pypdf.PdfReader(path).pages)


def tree_digest(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder``, keyed by relative path (symlinks included)."""
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() or path.is_symlink():
            out[path.relative_to(folder).as_posix()] = hashlib.sha256(
                path.read_bytes()).hexdigest()
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
    hits = [i for i, line in enumerate(text.splitlines(), start=1)
            if (line.startswith(needle) if start else needle in line)]
    assert len(hits) == 1, f"{needle!r} is on lines {hits}, expected exactly one"
    return hits[0]


def edit(text: str, old: str, new: str) -> str:
    """Replace the one occurrence of ``old`` (fail loudly if the sample changed)."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in the sample"
    return text.replace(old, new)


def rules_on_page(page: Path) -> list[str]:
    """The visible text of each rule in a rules page's <ol class="esafety-rules">."""
    html = page.read_text(encoding="utf-8")
    lists = re.findall(r'<ol class="esafety-rules">(.*?)</ol>', html, re.S)
    assert len(lists) == 1, f"{page}: {len(lists)} rule lists"
    return [normalise_space(e.text) for e in parse_html(lists[0]).find("li")]
