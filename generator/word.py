"""Stage 4c: the policy as a Word document (policy.docx), for governors' tracked changes.

Made from the same composed policy as the PDF: the policy's print document (its parts,
sections and key people), each fragment converted from Markdown to HTML once, as for the
PDF, then walked into Word's own structure: Heading 1 for each part, Heading 2 for each
section (Word's navigation pane and a generated contents use them), Word lists, Word
tables, and each flowchart as a picture with its title and description as alternative
text (its steps follow in words, as in the PDF). Styles, fonts, page size and margins come
from ``templates/word/reference.docx`` (a school's ``overrides/templates/`` first), which a
designer edits in Word; headings take the school's colour.

python-docx has no calls for hyperlinks, bookmarks, fields or restarting a numbered list,
so those few elements are written with its XML helpers (``OxmlElement``, ``qn``) into
the elements it made. Same input, same bytes: the document's dates and every zip entry's
time are the approval date. Built once per change: the bytes are kept in the school's
build cache under a digest of everything they are made from.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import logging
import re
import zipfile
from dataclasses import dataclass, field, replace
from functools import cache, lru_cache
from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path
from typing import Any

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_TAB_ALIGNMENT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, RGBColor
from docx.table import _Cell
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from . import flowcharts, markup
from .cache import BuildCache
from .compose import Pack
from .documents.policy import PDF_FILE as POLICY_PDF  # what the Word copy is made from
from .documents.policy import WORD_FILE
from .errors import BuildError

log = logging.getLogger(__name__)

REFERENCE = Path("word") / "reference.docx"
MAX_REFERENCE_BYTES = 5_000_000  # a school's own reference document is untrusted input
MAX_UNZIPPED_BYTES = 50_000_000
CHART_WIDTH = Mm(150)
CHART_ZOOM = 1.5  # the flowchart's pixels per SVG unit: 160 dpi at CHART_WIDTH
LOGO_WIDTH = Mm(28)
_SPACE = re.compile(r"\s+")
_VOID = {"br", "hr", "img", "input", "meta", "link", "col", "wbr", "source", "area", "base"}
_HEADING_STYLES = {"h1": "Heading 1", "h2": "Heading 2", "h3": "Heading 3", "h4": "Heading 4"}
_INLINE = {"a", "abbr", "b", "br", "code", "em", "i", "kbd", "mark", "s", "small", "span"}
_INLINE |= {"strong", "sub", "sup", "u", "del", "ins", "q", "cite", "time"}


# ------------------------------------------------------------------ the build's hook


def word_copy(pack: Pack, cache: BuildCache | None) -> None:
    """Fill in the bytes of the pack's Word copy (declared by the policy, made here from
    the composed pack), from the school's build cache when nothing it is made from changed."""
    for i, download in enumerate(pack.files):
        if download.filename != WORD_FILE:
            continue
        key = cache_key(pack)
        data = cache.file(WORD_FILE, key) if cache else None
        if data is None:
            data = policy_docx(pack, cache)
            if cache:
                cache.store_file(WORD_FILE, key, data)
        pack.files[i] = replace(download, data=data)


def policy_docx(pack: Pack, cache: BuildCache | None = None) -> bytes:
    """The policy as a .docx document (its flowcharts' pictures kept in ``cache``: drawing
    them is half the work, and most edits change words, not charts)."""
    source = _inputs(pack)
    doc = _open_reference(_reference_path(pack))
    _DocxWriter(doc, source, cache).write()
    approved = pack.config.review.approved_on
    out = BytesIO()
    doc.save(out)
    return normalise_zip(out.getvalue(), (max(approved.year, 1980), approved.month, approved.day))


def cache_key(pack: Pack) -> str:
    """Changes whenever anything that could change the document's bytes changes."""
    digest = hashlib.sha256()
    for part in (
        json.dumps(_inputs(pack), sort_keys=True, ensure_ascii=False),
        _code_fingerprint(),
        hashlib.sha256(_reference_path(pack).read_bytes()).hexdigest(),
    ):
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


@cache
def _code_fingerprint() -> str:
    """This module, the chart fonts and the versions of the libraries that write bytes."""
    from importlib.metadata import version

    digest = hashlib.sha256(Path(__file__).read_bytes())
    for font in sorted(flowcharts.FONT_DIR.glob("*.ttf")):
        digest.update(font.read_bytes())
    digest.update(f"python-docx {version('python-docx')} resvg {version('resvg-py')}".encode())
    return digest.hexdigest()


# ------------------------------------------------------------------ what it is made from


def _inputs(pack: Pack) -> dict[str, Any]:
    """Everything the document shows, as plain data (HTML fragments and text)."""
    docs = [d for d in pack.prints if d.filename == POLICY_PDF]
    if not docs:
        raise BuildError(f"{WORD_FILE}: the pack has no {POLICY_PDF} to make it from")
    policy = docs[0].context["policy"]
    config, brand = pack.config, pack.brand
    labels = {key: str(markup.to_inline_html(value)) for key, value in policy["labels"].items()}
    return {
        "title": str(policy["title"]),
        "labels": labels,
        "key_people": str(markup.to_html(policy["key_people"])),
        "parts": [
            {
                "anchor": f"part-{part['slug']}",
                "title": str(markup.to_inline_html(part["title"])),
                "sections": [str(markup.to_html(text)) for text in part["markdown"]],
            }
            for part in policy["parts"]
        ],
        "figures": [str(svg) for svg in policy.get("figures", ())],
        "school": config.school.name,
        "trust": config.school.trust or "",
        "version": pack.draft["version"] if pack.draft else config.review.version,
        "draft": pack.draft is not None,
        "approved_on": markup.format_date(config.review.approved_on),
        "approved_iso": config.review.approved_on.isoformat(),
        "approved_by": config.review.approved_by or "",
        "next_review": markup.format_date(config.next_review),
        "footer": labels["word_footer"],
        "colour": brand.strong,
        "pale": brand.pale,
        "logo": brand.logo_data_uri() or "",
    }


def _reference_path(pack: Pack) -> Path:
    for folder in pack.search_dirs:
        path = folder / REFERENCE
        if path.is_file():
            return path
    raise BuildError(f"templates/{REFERENCE.as_posix()}: file not found")


def _open_reference(path: Path) -> DocxDocument:
    """The reference document, checked for size first (it may be a school's own file)."""
    where = f"{path}: the Word reference document"
    if path.stat().st_size > MAX_REFERENCE_BYTES:
        raise BuildError(f"{where} is larger than {MAX_REFERENCE_BYTES // 1_000_000} MB")
    data = path.read_bytes()
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNZIPPED_BYTES:
                raise BuildError(f"{where} unpacks to more than 50 MB")
        doc = Document(BytesIO(data))
    except BuildError:
        raise
    except Exception as exc:  # python-docx raises many kinds for a damaged file
        raise BuildError(f"{where} cannot be read: {exc}") from None
    body = doc.element.body
    for child in list(body):  # keep its styles, page and margins; write the policy anew
        if child.tag != qn("w:sectPr"):
            body.remove(child)
    return doc


def normalise_zip(data: bytes, day: tuple[int, ...]) -> bytes:
    """The same package with every entry dated ``day`` (zip otherwise stamps the time of
    writing), in the order it was written."""
    date_time = (*day, 0, 0, 0)[:6]
    out = BytesIO()
    with zipfile.ZipFile(BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=date_time)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, src.read(info.filename))
    return out.getvalue()


# ------------------------------------------------------------------ HTML as a tree


@dataclass
class _Node:
    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[_Node | str] = field(default_factory=list)

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def find(self, tag: str) -> _Node | None:
        for child in self.children:
            if isinstance(child, _Node):
                if child.tag == tag:
                    return child
                found = child.find(tag)
                if found is not None:
                    return found
        return None


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Node("root")
        self.open = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = _Node(tag, {k: v or "" for k, v in attrs})
        self.open[-1].children.append(node)
        if tag not in _VOID:
            self.open.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.open[-1].children.append(_Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.open) - 1, 0, -1):
            if self.open[i].tag == tag:
                del self.open[i:]
                return

    def handle_data(self, data: str) -> None:
        self.open[-1].children.append(data)


def parse(html: str) -> _Node:
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


def bookmark_name(anchor: str) -> str:
    """A Word bookmark name for an HTML id (letters, digits and underscores, at most 40)."""
    return ("_" + re.sub(r"[^A-Za-z0-9]", "_", anchor))[:40]


# ------------------------------------------------------------------ writing Word


@dataclass
class _Format:
    bold: bool = False
    italic: bool = False
    code: bool = False
    link: str | None = None  # an external address or "#anchor"


class _DocxWriter:
    """Walks the composed HTML into the document, block by block."""

    def __init__(self, doc: DocxDocument, source: dict[str, Any], cache: BuildCache | None):
        self.doc, self.source, self.cache = doc, source, cache
        self.figures = {_svg_title_id(svg): svg for svg in source["figures"]}
        self.bookmarks = 0
        # Style ids by name, read once: python-docx looks a name up among all the styles.
        self.style_ids = {style.name: style.style_id for style in doc.styles}
        section = doc.sections[0]
        self.text_width = section.page_width - section.left_margin - section.right_margin

    def write(self) -> None:
        self._style_headings()
        self._properties()
        self._footer()
        self._cover()
        labels = self.source["labels"]
        self._heading(self.doc, parse(labels["key_people"]), "Heading 1", "key-people")
        self._blocks(self.doc, parse(self.source["key_people"]))
        self._contents()
        for part in self.source["parts"]:
            self._heading(self.doc, parse(part["title"]), "Heading 1", part["anchor"])
            for section in part["sections"]:
                self._blocks(self.doc, parse(section))

    # ------------------------------------------------------------ document-wide
    def _style_headings(self) -> None:
        colour = RGBColor.from_string(self.source["colour"][1:])
        for name in ("Title", "Subtitle", "Heading 1", "Heading 2", "TOC Heading"):
            self.doc.styles[name].font.color.rgb = colour
        if "Hyperlink" in self.style_ids:
            self.doc.styles["Hyperlink"].font.color.rgb = colour

    def _properties(self) -> None:
        src = self.source
        props = self.doc.core_properties
        approved = dt.datetime.fromisoformat(src["approved_iso"])
        props.title = f"{src['title']}, {src['school']}"
        props.subject = src["title"]
        props.author = props.last_modified_by = src["school"]
        props.comments = markup.to_plain_text(src["footer"])
        props.keywords = props.category = ""
        props.created = props.modified = approved
        props.revision = 1
        props.version = src["version"]

    def _footer(self) -> None:
        footer = self.doc.sections[0].footer
        footer.is_linked_to_previous = False
        para = footer.paragraphs[0] if footer.paragraphs else footer.add_paragraph()
        for child in list(para._p):
            if child.tag != qn("w:pPr"):
                para._p.remove(child)
        para.style = self.doc.styles["Footer"]
        stops = para.paragraph_format.tab_stops  # page numbers at the right margin
        for stop in self.doc.styles["Footer"].paragraph_format.tab_stops:
            if stop.position != self.text_width:
                stops.add_tab_stop(stop.position, WD_TAB_ALIGNMENT.CLEAR)
        stops.add_tab_stop(self.text_width, WD_TAB_ALIGNMENT.RIGHT)
        self._inline(para, parse(self.source["footer"]), _Format())
        labels = self.source["labels"]
        para.add_run("\t")
        self._inline(para, parse(labels["page"]), _Format())
        para.add_run(" ")
        _field(para, "PAGE", "1")
        para.add_run(" ")
        self._inline(para, parse(labels["page_of"]), _Format())
        para.add_run(" ")
        _field(para, "NUMPAGES", "1")

    def _cover(self) -> None:
        src, labels = self.source, self.source["labels"]
        if src["logo"]:
            png = self._logo(src["logo"])
            if png:
                logo = (
                    self.doc.add_paragraph().add_run().add_picture(BytesIO(png), width=LOGO_WIDTH)
                )
                _describe(logo, f"{src['school']} logo", "")
        self._paragraph(self.doc, "Subtitle").add_run(src["school"])
        if src["trust"]:
            self.doc.add_paragraph(src["trust"])
        self._paragraph(self.doc, "Title").add_run(src["title"])
        rows = [("version", src["version"])]
        if src["draft"]:  # never "Approved" before the governors have approved it
            rows.append(("status", markup.to_plain_text(labels["word_draft_status"])))
        else:
            rows.append(("approved", src["approved_on"]))
            if src["approved_by"]:
                rows.append(("approved_by", src["approved_by"]))
        rows.append(("next_review", src["next_review"]))
        table = self.doc.add_table(rows=0, cols=2)
        table.style = self.doc.styles["Table Grid"]
        for key, value in rows:
            cells = table.add_row().cells
            self._inline(cells[0].paragraphs[0], parse(labels[key]), _Format(bold=True))
            cells[1].paragraphs[0].add_run(value)
        note = self._paragraph(self.doc)
        note.paragraph_format.space_before = Mm(8)
        self._inline(note, parse(labels["word_cover"]), _Format())

    def _contents(self) -> None:
        """A Word table of contents: the field Word fills in (Update Field adds the page
        numbers), already holding a linked entry for every part and section."""
        heading = self._paragraph(self.doc, "TOC Heading")
        heading.add_run(markup.to_plain_text(self.source["labels"]["contents"]))
        entries: list[tuple[str, str, str]] = [
            ("TOC 1", markup.to_plain_text(self.source["labels"]["key_people"]), "key-people")
        ]
        for part in self.source["parts"]:
            entries.append(("TOC 1", markup.to_plain_text(part["title"]), part["anchor"]))
            for section in part["sections"]:
                heading = parse(section).find("h2")
                if heading is not None:
                    text = _SPACE.sub(" ", heading.text()).strip()
                    entries.append(("TOC 2", text, heading.attrs.get("id", "")))
        paras = []
        for style, text, anchor in entries:
            para = self._paragraph(self.doc, style)
            self._text(para, text, _Format(link=f"#{anchor}" if anchor else None))
            paras.append(para)
        _field_around(paras[0], paras[-1], 'TOC \\o "1-2" \\h \\z \\u')

    # ------------------------------------------------------------ blocks
    def _blocks(self, container: Any, node: _Node, style: str | None = None) -> None:
        """Each child of ``node`` as paragraphs, lists, tables or pictures."""
        loose: list[_Node | str] = []  # inline content between blocks gathers in one paragraph

        def flush() -> None:
            if any(c.strip() if isinstance(c, str) else True for c in loose):
                para = self._paragraph(container, style)
                self._inline(para, _Node("span", children=list(loose)), _Format())
            loose.clear()

        for child in node.children:
            if isinstance(child, str) or child.tag in _INLINE:
                loose.append(child)
                continue
            flush()
            self._block(container, child, style)
        flush()

    def _block(self, container: Any, node: _Node, style: str | None) -> None:
        tag = node.tag
        if tag in _HEADING_STYLES or tag in ("h5", "h6"):
            style = _HEADING_STYLES.get(tag, "Heading 4")
            self._heading(container, node, style, node.attrs.get("id"))
        elif tag == "p":
            self._inline(self._paragraph(container, style), node, _Format())
        elif tag in ("ul", "ol"):
            self._list(container, node, 1)
        elif tag == "table":
            self._table(container, node)
        elif tag == "figure":
            self._figure(container, node)
        elif tag == "blockquote":
            self._blocks(container, node, "Quote")
        elif tag == "dt":
            self._inline(self._paragraph(container, style), node, _Format(bold=True))
        elif tag == "dd":
            para = self._paragraph(container, style)
            para.paragraph_format.left_indent = Mm(6)
            self._inline(para, node, _Format())
        elif tag in ("hr", "svg", "script", "style"):
            return
        elif "admonition-title" in node.attrs.get("class", "").split():
            self._inline(self._paragraph(container, style), node, _Format(bold=True))
        else:  # div, section, dl, details...: their content, in order
            self._blocks(container, node, style)

    def _paragraph(self, container: Any, style: str | None = None) -> Paragraph:
        """A new paragraph in ``container``; a table cell's first, empty one is used first."""
        para = None
        if isinstance(container, _Cell):
            first = container.paragraphs[0]
            if len(container.paragraphs) == 1 and not first.text and not first.runs:
                para = first
        para = para or container.add_paragraph()
        if style:
            if style not in self.style_ids:
                raise BuildError(f"templates/{REFERENCE.as_posix()}: no style called {style!r}")
            para._p.get_or_add_pPr().style = self.style_ids[style]
        return para

    def _heading(self, container: Any, node: _Node, style: str, anchor: str | None) -> None:
        para = self._paragraph(container, style)
        if anchor:
            self._bookmark(para, anchor)
        self._inline(para, node, _Format())

    def _bookmark(self, para: Paragraph, anchor: str) -> None:
        self.bookmarks += 1
        start = OxmlElement("w:bookmarkStart")
        start.set(qn("w:id"), str(self.bookmarks))
        start.set(qn("w:name"), bookmark_name(anchor))
        end = OxmlElement("w:bookmarkEnd")
        end.set(qn("w:id"), str(self.bookmarks))
        para._p.append(start)
        para._p.append(end)

    def _list(self, container: Any, node: _Node, depth: int) -> None:
        kind = "List Number" if node.tag == "ol" else "List Bullet"
        style = kind if depth == 1 else f"{kind} {min(depth, 3)}"
        num_id = self._restart(style) if node.tag == "ol" else None
        for item in node.children:
            if not isinstance(item, _Node) or item.tag != "li":
                continue
            para = self._paragraph(container, style)
            if num_id is not None:
                _number(para, num_id)
            open_para = True  # ``para`` takes the item's next words
            for child in item.children:
                if isinstance(child, str) and not child.strip() and not open_para:
                    continue  # the line break between two of the item's paragraphs
                if isinstance(child, _Node) and child.tag in ("ul", "ol"):
                    self._list(container, child, depth + 1)
                    open_para = False
                    continue
                if not open_para:  # the item goes on after a paragraph or a nested list
                    para = self._paragraph(container, "List Continue")
                if isinstance(child, _Node) and child.tag not in _INLINE:
                    self._inline(para, child, _Format())  # a <p> of a loose list
                    open_para = False
                else:
                    self._inline(para, _Node("span", children=[child]), _Format())
                    open_para = True

    def _restart(self, style: str) -> int | None:
        """A new Word list that starts again at 1, numbered like ``style``."""
        style_el = self.doc.styles[style].element
        found = style_el.xpath("./w:pPr/w:numPr/w:numId/@w:val")
        if not found:
            return None  # the designer's style is not numbered: plain paragraphs
        numbering = self.doc.part.numbering_part.element
        abstract = numbering.xpath(f'./w:num[@w:numId="{found[0]}"]/w:abstractNumId/@w:val')
        if not abstract:
            return None
        used = [int(n) for n in numbering.xpath("./w:num/@w:numId")]
        num_id = max(used, default=0) + 1
        num = OxmlElement("w:num")
        num.set(qn("w:numId"), str(num_id))
        abstract_id = OxmlElement("w:abstractNumId")
        abstract_id.set(qn("w:val"), abstract[0])
        override = OxmlElement("w:lvlOverride")
        override.set(qn("w:ilvl"), "0")
        start = OxmlElement("w:startOverride")
        start.set(qn("w:val"), "1")
        override.append(start)
        num.append(abstract_id)
        num.append(override)
        # After the last list, before anything Word keeps at the end (numIdMacAtCleanup).
        numbering.xpath("./w:num")[-1].addnext(num)
        return num_id

    def _table(self, container: Any, node: _Node) -> None:
        rows = [
            [c for c in row.children if isinstance(c, _Node) and c.tag in ("th", "td")]
            for row in _rows(node)
        ]
        rows = [cells for cells in rows if cells]
        if not rows:
            return
        cols = max(len(cells) for cells in rows)
        table = container.add_table(rows=len(rows), cols=cols)
        table.style = self.doc.styles["Table Grid"]
        table.alignment = WD_TABLE_ALIGNMENT.LEFT
        for r, cells in enumerate(rows):
            header = all(c.tag == "th" for c in cells)
            word_row = table.rows[r]
            _row_property(word_row, "w:cantSplit")
            if header and r == 0:
                _row_property(word_row, "w:tblHeader")  # repeated on each page
            for c, cell in enumerate(cells):
                target = word_row.cells[c]
                if header:
                    _shade(target, self.source["pale"])
                if any(isinstance(k, _Node) and k.tag not in _INLINE for k in cell.children):
                    self._blocks(target, cell)
                else:
                    fmt = _Format(bold=header)
                    self._inline(target.paragraphs[0], cell, fmt)
        if not isinstance(container, _Cell):
            self.doc.add_paragraph()  # Word joins two tables that touch

    def _figure(self, container: Any, node: _Node) -> None:
        svg_node = node.find("svg")
        title = svg_node.find("title") if svg_node else None
        svg = self.figures.get(title.attrs.get("id", "")) if title else None
        if svg is None:  # not one of our charts: its caption and words, if any
            self._blocks(container, node)
            return
        desc = svg_node.find("desc") if svg_node else None
        png, width, height = self._chart(svg)
        para = self._paragraph(container)
        para.paragraph_format.keep_with_next = True
        shape_height = int(CHART_WIDTH * height / width)
        shape = para.add_run().add_picture(BytesIO(png), width=CHART_WIDTH, height=shape_height)
        alt_title = _SPACE.sub(" ", title.text()).strip() if title else ""
        alt = _SPACE.sub(" ", desc.text()).strip() if desc else ""
        _describe(shape, alt_title, alt)

    def _logo(self, data_uri: str) -> bytes | None:
        """The school's logo as PNG for the cover (an SVG logo drawn like the charts)."""
        head, _, data = data_uri.partition(",")
        raw = base64.b64decode(data)
        if head.startswith("data:image/png"):
            return raw
        try:
            return self._chart(raw.decode("utf-8"))[0]
        except (ValueError, UnicodeDecodeError) as exc:
            log.warning("%s: the logo cannot be drawn for the Word copy (%s)", WORD_FILE, exc)
            return None

    def _chart(self, svg: str) -> tuple[bytes, int, int]:
        key = hashlib.sha256(f"{_code_fingerprint()}\0{svg}".encode()).hexdigest()
        png = self.cache.file("chart.png", key) if self.cache else None
        if png is None:
            png = _chart_png(svg)
            if self.cache:
                self.cache.store_file("chart.png", key, png)
        return (png, *_png_size(png))

    # ------------------------------------------------------------ inline
    def _inline(self, para: Paragraph, node: _Node, fmt: _Format) -> None:
        for child in node.children:
            if isinstance(child, str):
                self._text(para, child, fmt)
                continue
            tag = child.tag
            if tag == "br":
                para.add_run().add_break()
            elif tag in ("strong", "b"):
                self._inline(para, child, replace(fmt, bold=True))
            elif tag in ("em", "i", "cite"):
                self._inline(para, child, replace(fmt, italic=True))
            elif tag in ("code", "kbd"):
                self._inline(para, child, replace(fmt, code=True))
            elif tag == "a" and child.attrs.get("href"):
                self._inline(para, child, replace(fmt, link=child.attrs["href"]))
            elif tag in ("svg", "script", "style", "img"):
                continue
            else:
                self._inline(para, child, fmt)

    def _text(self, para: Paragraph, text: str, fmt: _Format) -> None:
        text = _SPACE.sub(" ", text)
        before = para._p.xpath("(.//w:t)[last()]")
        if not before or (before[0].text or "").endswith(" ") or _ends_in_break(para):
            text = text.lstrip()  # HTML's line breaks between tags are not text
        if not text:
            return
        parent = para._p if fmt.link is None else self._hyperlink(para, fmt.link)
        run = Run(OxmlElement("w:r"), para)
        parent.append(run._r)
        run.text = text
        if fmt.bold:
            run.bold = True
        if fmt.italic:
            run.italic = True
        if fmt.code:
            run.font.name = "Consolas"
        if fmt.link is not None and "Hyperlink" in self.style_ids:
            run._r.get_or_add_rPr().style = self.style_ids["Hyperlink"]

    def _hyperlink(self, para: Paragraph, href: str) -> Any:
        """The paragraph's last link element if it goes to ``href`` (runs of one link in
        different formatting), else a new one."""
        if href.startswith("#"):
            attr, target = qn("w:anchor"), bookmark_name(href[1:])
        else:  # the same address gets the same relationship id
            attr, target = qn("r:id"), para.part.relate_to(href, RT.HYPERLINK, is_external=True)
        last = para._p[-1] if len(para._p) else None
        if last is not None and last.tag == qn("w:hyperlink") and last.get(attr) == target:
            return last
        link = OxmlElement("w:hyperlink")
        link.set(attr, target)
        link.set(qn("w:history"), "1")
        para._p.append(link)
        return link


# ------------------------------------------------------------------ small XML helpers


def _ends_in_break(para: Paragraph) -> bool:
    last = para._p.xpath("(.//w:r)[last()]/*[last()]")
    return bool(last) and last[0].tag == qn("w:br")


def _rows(table: _Node) -> list[_Node]:
    rows = []
    for child in table.children:
        if isinstance(child, _Node):
            if child.tag == "tr":
                rows.append(child)
            elif child.tag in ("thead", "tbody", "tfoot"):
                rows += [r for r in child.children if isinstance(r, _Node) and r.tag == "tr"]
    return rows


def _row_property(row: Any, name: str) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    tr_pr.append(OxmlElement(name))


def _shade(cell: _Cell, colour: str) -> None:
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), colour[1:].upper())
    cell._tc.get_or_add_tcPr().append(shd)


def _number(para: Paragraph, num_id: int) -> None:
    num_pr = para._p.get_or_add_pPr().get_or_add_numPr()  # in the order Word requires
    num_pr.get_or_add_ilvl().val = 0
    num_pr.get_or_add_numId().val = num_id


def _field(para: Paragraph, instruction: str, shown: str) -> None:
    """A simple field (PAGE, NUMPAGES) showing ``shown`` until Word updates it."""
    simple = OxmlElement("w:fldSimple")
    simple.set(qn("w:instr"), f" {instruction} ")
    run = Run(OxmlElement("w:r"), para)
    run.text = shown
    simple.append(run._r)
    para._p.append(simple)


def _field_around(first: Paragraph, last: Paragraph, instruction: str) -> None:
    """A complex field whose current result is the paragraphs ``first`` to ``last``."""

    def char(kind: str) -> Any:
        run = OxmlElement("w:r")
        mark = OxmlElement("w:fldChar")
        mark.set(qn("w:fldCharType"), kind)
        run.append(mark)
        return run

    instr = OxmlElement("w:r")
    text = OxmlElement("w:instrText")
    text.set(qn("xml:space"), "preserve")
    text.text = f" {instruction} "
    instr.append(text)
    p_pr = first._p.pPr
    at = 1 if p_pr is not None else 0
    for offset, element in enumerate((char("begin"), instr, char("separate"))):
        first._p.insert(at + offset, element)
    last._p.append(char("end"))


def _describe(shape: Any, title: str, description: str) -> None:
    """Alternative text for a picture (what Word shows under Alt Text)."""
    doc_pr = shape._inline.docPr
    doc_pr.set("title", title)
    doc_pr.set("descr", f"{title}. {description}" if description else title)


def _svg_title_id(svg: str) -> str:
    match = re.search(r'<title id="([^"]+)"', svg)
    return match.group(1) if match else ""


def _png_size(png: bytes) -> tuple[int, int]:
    """Width and height in pixels, from the PNG's header."""
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


@lru_cache(maxsize=32)  # ``esafety serve`` rebuilds with the same charts
def _chart_png(svg: str) -> bytes:
    """A flowchart drawn as PNG (Word and LibreOffice show PNG everywhere), with its own
    font files, never the machine's, so every machine draws the same pixels."""
    import resvg_py

    # The charts' words are regular or bold, never italic: only those faces are loaded.
    fonts = [str(flowcharts.FONT_DIR / f"Andika-{face}.ttf") for face in ("Regular", "Bold")]
    png = bytes(
        resvg_py.svg_to_bytes(
            svg_string=svg,
            zoom=CHART_ZOOM,
            background="#ffffff",
            skip_system_fonts=True,
            font_files=fonts,
            font_family="Andika",
            sans_serif_family="Andika",
        )
    )
    return png
