"""Every PDF is a tagged PDF (PDF/UA-1) that a screen reader can follow.

Read back with pypdf: the catalog marks the file as tagged, names its language and asks
viewers to show its title; the title is in the document info and the XMP metadata, which
also claims PDF/UA-1. The structure tree has a heading tag for every heading of the print
HTML, list tags for its lists, table tags for its tables, and a /Figure with alternative
text for every picture. And the tree's order is the page's order: the text of its elements,
taken in tree order, reads in the same order as the text on the pages.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from dataclasses import dataclass, field
from html import unescape
from typing import Any

import pypdf
import pytest
from conftest import SCHOOL_NAMES, school_data
from helpers import parse_html, pdf_text, squash
from pypdf.generic import (
    ArrayObject,
    BooleanObject,
    DictionaryObject,
    IndirectObject,
    NumberObject,
)


@dataclass
class Element:
    """One structure element: its type, its /Alt, and its marked content (page, MCID)."""

    kind: str
    alt: str | None
    heading: str | None  # the /Hn it is inside, if any
    content: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class Tagged:
    reader: pypdf.PdfReader
    elements: list[Element]  # in the structure tree's order

    @property
    def kinds(self) -> Counter[str]:
        return Counter(e.kind for e in self.elements)


def read_tags(data: bytes) -> Tagged:
    reader = pypdf.PdfReader(io.BytesIO(data))
    page_of = {p.indirect_reference.idnum: i for i, p in enumerate(reader.pages)}
    elements: list[Element] = []

    def walk(node: Any, page: int | None, current: Element | None) -> None:
        if isinstance(node, IndirectObject):
            node = node.get_object()
        if isinstance(node, int | NumberObject):  # marked content by MCID
            if current is not None and page is not None:
                current.content.append((page, int(node)))
            return
        if not isinstance(node, DictionaryObject):
            return
        if "/Pg" in node:
            page = page_of.get(node.raw_get("/Pg").idnum)
        if node.get("/Type") == "/MCR":
            walk(node["/MCID"], page, current)
            return
        if "/S" in node:
            kind = str(node["/S"]).lstrip("/")
            inherited = current.heading if current else None
            heading = kind if kind[:1] == "H" and kind[1:].isdigit() else inherited
            alt = node.get("/Alt")
            current = Element(kind, str(alt) if alt is not None else None, heading)
            elements.append(current)
        kids = node.get("/K")
        if isinstance(kids, IndirectObject):
            kids = kids.get_object()
        for kid in kids if isinstance(kids, ArrayObject) else [kids]:
            if kid is not None:
                walk(kid, page, current)

    walk(reader.trailer["/Root"]["/StructTreeRoot"], None, None)
    return Tagged(reader, elements)


def marked_text(reader: pypdf.PdfReader) -> dict[tuple[int, int], str]:
    """The text drawn inside each marked-content sequence: (page, MCID) -> text."""
    texts: dict[tuple[int, int], str] = {}
    for index, page in enumerate(reader.pages):
        stack: list[int | None] = []

        def before(op: bytes, args: Any, *_: Any, stack: list[int | None] = stack) -> None:
            if op == b"BDC":
                props = args[1] if len(args) > 1 else None
                mcid = props.get("/MCID") if isinstance(props, DictionaryObject) else None
                stack.append(None if mcid is None else int(mcid))
            elif op == b"BMC":
                stack.append(None)
            elif op == b"EMC" and stack:
                stack.pop()

        def text(words: str, *_: Any, stack: list[int | None] = stack, index: int = index) -> None:
            mcid = next((m for m in reversed(stack) if m is not None), None)
            if mcid is not None and words:
                texts[(index, mcid)] = texts.get((index, mcid), "") + words

        page.extract_text(visitor_operand_before=before, visitor_text=text)
    return texts


@pytest.fixture(scope="module")
def tagged(built_sites: Any) -> Any:
    cache: dict[str, list[tuple[Any, Tagged]]] = {}

    def get(school: str) -> list[tuple[Any, Tagged]]:
        if school not in cache:
            cache[school] = [(pdf, read_tags(pdf.data)) for pdf in built_sites(school).pdfs]
        return cache[school]

    return get


@pytest.mark.parametrize("school", SCHOOL_NAMES)
def test_every_pdf_is_tagged_with_title_and_language(tagged: Any, school: str) -> None:
    school_name = school_data(school)["school"]["name"]
    for pdf, tags in tagged(school):
        reader = tags.reader
        catalog = reader.trailer["/Root"]
        yes = BooleanObject(True)  # (pypdf's false is truthy: compare, do not test)
        assert catalog["/MarkInfo"]["/Marked"] == yes, pdf.filename
        assert str(catalog["/Lang"]) == "en-GB", pdf.filename
        assert catalog["/ViewerPreferences"]["/DisplayDocTitle"] == yes, pdf.filename
        title = str(reader.metadata["/Title"])
        html_title = parse_html(pdf.html).find("title")[0].text
        assert title == html_title.strip() and title, pdf.filename
        subject = str(reader.metadata["/Subject"])  # what it is and who it is for, once each
        assert subject.startswith(title + ". For: ") and subject.count(school_name) == 1, subject
        xmp = catalog["/Metadata"].get_object().get_data().decode("utf-8")
        assert "<pdfuaid:part>1</pdfuaid:part>" in xmp or 'pdfuaid:part="1"' in xmp, pdf.filename
        assert tags.elements[0].kind == "Document", pdf.filename


@pytest.mark.parametrize("school", SCHOOL_NAMES)
def test_headings_lists_tables_and_pictures_are_tagged(tagged: Any, school: str) -> None:
    """What the print HTML has, the structure tree has: a tag per heading level, lists,
    list items, tables, rows and cells; a /Figure with the same alternative text for every
    picture (an <img>'s alt, an inline SVG's <title>)."""
    for pdf, tags in tagged(school):
        html = parse_html(pdf.html)
        kinds = tags.kinds
        name = pdf.filename
        for level in range(1, 7):
            assert kinds[f"H{level}"] >= len(html.find(f"h{level}")), f"{name}: h{level}"
        assert kinds["H1"] >= 1, name
        assert kinds["L"] >= len(html.find("ul")) + len(html.find("ol")), name
        assert kinds["LI"] >= len(html.find("li")), name
        for tag, kind in (("table", "Table"), ("tr", "TR"), ("th", "TH"), ("td", "TD")):
            assert kinds[kind] >= len(html.find(tag)), f"{name}: {tag}"
        svg_titles = [e.text.strip() for e in html.find("title") if "id" in e.attrs]
        pictures = [e.attrs.get("alt", "") for e in html.find("img")] + svg_titles
        figures = [e.alt for e in tags.elements if e.kind == "Figure"]
        assert all(figures), f"{name}: a /Figure without /Alt"
        assert sorted(figures) == sorted(pictures), name


# Documents whose layout has one reading order: the policy (headings, lists, tables and
# flowcharts over many pages), an agreement and a consent form. (The leaflet and the
# posters are left out: their panels and cards side by side may be read across or down;
# their tags read each panel or card whole, where pdftotext reads a row's lines across.)
ORDERED = ["policy.pdf", "aup-pupil-ks2.pdf", "photo-consent.pdf"]


@pytest.mark.parametrize("filename", ORDERED)
def test_structure_reads_in_the_order_of_the_page(
    tagged: Any, tmp_path: Any, filename: str
) -> None:
    pdf, tags = next((p, t) for p, t in tagged("primary") if p.filename == filename)
    path = tmp_path / filename
    path.write_bytes(pdf.data)
    page = squash(pdf_text(path))
    texts = marked_text(tags.reader)
    pieces = [(e, squash(texts.get(c, ""))) for e in tags.elements for c in e.content]
    # A flowchart's words are placed on a picture, so the page has no single order for
    # them; the same steps follow in words, in order, and are checked with the rest.
    charts = "".join(re.findall(r'<div class="esafety-flowchart-print".*?</div>', pdf.html))
    drawn = [
        squash(unescape(text.replace("<br/>", " ")))
        for text in re.findall(r"<span style=[^>]*>(.*?)</span>", charts)
    ]
    pieces = [(e, t) for e, t in pieces if len(t) >= 4 and not any(t in d for d in drawn)]
    assert len(pieces) >= 15
    at = 0
    out_of_order, missing = [], []
    for element, piece in pieces:
        found = page.find(piece, at)
        if found >= 0:
            at = found + len(piece)
        elif piece in page:
            out_of_order.append(f"{element.kind}: {piece[:50]}")
        else:
            missing.append(f"{element.kind}: {piece[:50]}")
    assert out_of_order == []
    assert len(missing) <= len(pieces) // 50, missing
    headings = [e for e, _ in pieces if e.heading]
    assert headings, "no heading text found in the structure tree"


def test_the_tag_reader_sees_a_picture_without_text() -> None:
    """The checks above are not blind: WeasyPrint tags an image with an empty alt as a
    /Figure without /Alt, and a list as /L with /LI."""
    from weasyprint import HTML

    pixel = "data:image/gif;base64,R0lGODlhAQABAIAAAP///wAAACwAAAAAAQABAAACAkQBADs="
    html = (
        f'<html lang="en-GB"><title>t</title><h1>Title</h1><img src="{pixel}" alt="">'
        "<ul><li>one</li><li>two</li></ul></html>"
    )
    tags = read_tags(HTML(string=html).write_pdf(pdf_variant="pdf/ua-1"))
    assert [e.alt for e in tags.elements if e.kind == "Figure"] in ([None], [""])
    assert tags.kinds["L"] == 1 and tags.kinds["LI"] == 2 and tags.kinds["H1"] == 1
