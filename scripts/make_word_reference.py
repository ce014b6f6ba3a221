"""Write templates/word/reference.docx: the styles, fonts, page and margins of policy.docx.

The build opens this document, empties its body and writes the policy into it, so a
designer changes the Word copy's look by opening templates/word/reference.docx in Word or
LibreOffice and editing its styles (Normal, Title, Heading 1-4, List Bullet, List Number,
Table Grid, Quote, Caption, TOC 1-2, Footer, Hyperlink), page size and margins, then
saving it over this file (or as overrides/templates/word/reference.docx beside a school's
config). Headings take the school's colour at build time. This script only makes the
first version, from python-docx's own default document:

    .venv/bin/python scripts/make_word_reference.py [OUT]
"""

from __future__ import annotations

import datetime as dt
import sys
from io import BytesIO
from pathlib import Path

from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generator.word import normalise_zip  # noqa: E402 (after the path is set)

OUT = ROOT / "templates" / "word" / "reference.docx"
FONT = "Arial"  # on every Windows and Mac; LibreOffice uses the same-width Liberation Sans
INK = RGBColor(0x1B, 0x1B, 0x1B)
BRAND = RGBColor(0x1D, 0x4F, 0x91)  # replaced by the school's colour in each build
HEADINGS = {"Title": 30, "Heading 1": 20, "Heading 2": 14, "Heading 3": 11.5, "Heading 4": 10.5}


def set_font(style, size: float | None = None) -> None:
    """One named font (no theme font, which would win over it), optionally a size."""
    rpr = style.element.get_or_add_rPr()
    for old in rpr.findall(qn("w:rFonts")):
        rpr.remove(old)
    fonts = OxmlElement("w:rFonts")
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attr), FONT)
    rpr.insert(0, fonts)
    if size:
        style.font.size = Pt(size)


def main(out_path: Path = OUT) -> None:
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(21), Mm(18)
    section.left_margin = section.right_margin = Mm(17)
    section.header_distance, section.footer_distance = Mm(9), Mm(8)

    # British English for the spelling checker, in every style that does not say otherwise.
    defaults = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault"))
    rpr = defaults.find(qn("w:rPr"))
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), "en-GB")

    styles = doc.styles
    normal = styles["Normal"]
    set_font(normal, 10.5)
    normal.font.color.rgb = INK
    normal.paragraph_format.space_after = Pt(6)
    normal.paragraph_format.line_spacing = 1.15
    for name, size in HEADINGS.items():
        style = styles[name]
        set_font(style, size)
        style.font.bold = True
        style.font.color.rgb = BRAND
        fmt = style.paragraph_format
        fmt.space_before = Pt({"Title": 0, "Heading 1": 0, "Heading 2": 18}.get(name, 10))
        fmt.space_after = Pt(8 if name in ("Title", "Heading 1") else 4)
        fmt.keep_with_next = True
    styles["Heading 1"].paragraph_format.page_break_before = True
    title = styles["Title"].element.get_or_add_pPr()
    for border in title.findall(qn("w:pBdr")):  # the default's rule under the title
        title.remove(border)
    for name in ("Heading 3", "Heading 4"):
        styles[name].font.color.rgb = INK
        styles[name].font.italic = False
    for name in ("Subtitle", "Quote", "Caption", "Footer", "Header", "TOC Heading"):
        set_font(styles[name])
    styles["Subtitle"].font.size = Pt(16)
    styles["Subtitle"].font.italic = False
    styles["Caption"].font.size = Pt(9)
    styles["Footer"].font.size = Pt(8.5)
    text_width = section.page_width - section.left_margin - section.right_margin
    for name in ("Header", "Footer"):
        stops = styles[name].paragraph_format.tab_stops
        stops.clear_all()
        stops.add_tab_stop(text_width // 2, WD_TAB_ALIGNMENT.CENTER)
        stops.add_tab_stop(text_width, WD_TAB_ALIGNMENT.RIGHT)
    styles["Quote"].paragraph_format.left_indent = Mm(6)

    for level in (1, 2):
        if f"TOC {level}" not in [s.name for s in styles]:
            toc = styles.add_style(f"TOC {level}", WD_STYLE_TYPE.PARAGRAPH)
            toc.base_style = normal
            toc.next_paragraph_style = normal
            toc.paragraph_format.left_indent = Mm(6 * (level - 1))
            toc.paragraph_format.space_after = Pt(2 if level == 2 else 1)
            toc.paragraph_format.space_before = Pt(6 if level == 1 else 0)
            toc.font.bold = level == 1
    if "Hyperlink" not in [s.name for s in styles]:
        link = styles.add_style("Hyperlink", WD_STYLE_TYPE.CHARACTER)
        link.font.underline = True
        link.font.color.rgb = BRAND

    # The table style the key people, filtering and sanctions tables use.
    grid = styles["Table Grid"]
    set_font(grid, 9.5)

    # Only the table styles the policy uses (the default has a hundred, which Word and
    # LibreOffice add back on demand), no Word 2010 copy of the styles, no thumbnail of
    # the default document: a smaller file, and quicker for the build to read.
    for style in list(styles):
        if style.type == WD_STYLE_TYPE.TABLE and style.name not in ("Normal Table", "Table Grid"):
            style.element.getparent().remove(style.element)
    for rels in (doc.part.rels, doc.part.package.rels):
        for r_id, rel in list(rels.items()):
            if rel.reltype.endswith(("/stylesWithEffects", "/thumbnail")):
                rels.pop(r_id)

    # Keep the body empty: the build writes the policy into it.
    body = doc.element.body
    for child in list(body):
        if child.tag != qn("w:sectPr"):
            body.remove(child)
    props = doc.core_properties
    props.author = props.last_modified_by = ""
    props.title = "Online Safety Policy"
    props.comments = props.keywords = props.subject = props.category = ""
    props.created = props.modified = dt.datetime(2026, 1, 1)
    props.revision = 1
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out = BytesIO()
    doc.save(out)
    out_path.write_bytes(normalise_zip(out.getvalue(), (2026, 1, 1)))
    print(f"wrote {out_path}")  # noqa: T201 (a script's one line of output)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
