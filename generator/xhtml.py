"""The print HTML parsed by Python's XML parser, when that gives the tree html5 would.

WeasyPrint parses every document with tinyhtml5, an html5 parser in pure Python: 5% of a
school's PDF time (0.2 s for the eleven documents), where Expat takes a hundredth of it.
The print templates write well-formed markup (void elements closed with ``/>``, tables
with their row groups), and for such markup an html5 parser builds the same tree as an
XML parser but for a few rules of its own, which ``parse`` applies: no whitespace before
<head>, trailing whitespace inside <body>, implied <tbody> and <colgroup>, <svg> in the SVG
namespace keeping its ``xmlns`` as an attribute, and the first newline of a <pre>
dropped.

Anything else html5 treats its own way (a block inside a <p>, a list item inside a list
item, ``&nbsp;``, a comment, an attribute with a line break, a self-closed <div>...) makes
``parse`` return None, and the document is parsed by tinyhtml5 as before: a school's own
raw HTML in its content is always parsed right, if not always fast. The tests compare
the two trees for every document of the sample schools and for generated markup.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from tinyhtml5.constants import adjust_svg_attributes


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


SVG = "{http://www.w3.org/2000/svg}"
XMLNS_ATTRIBUTE = "{http://www.w3.org/2000/xmlns/}xmlns"
VOID = _names("area base br col embed hr img input link meta param source track wbr")
# Elements whose start tag closes an open <p> (so html5 never nests them in one).
CLOSES_P = _names(
    "address article aside blockquote center details dialog dir div dl dd dt fieldset "
    "figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr li listing main "
    "menu nav ol p plaintext pre search section summary table ul xmp"
)
HEADINGS = _names("h1 h2 h3 h4 h5 h6")
# Special elements (html5) other than address, div and p: where the search for an open
# <li>, <dd> or <dt> to close stops.
STOPS_ITEM_SEARCH = _names(
    "applet area article aside base basefont bgsound blockquote body br button caption "
    "center col colgroup dd details dir dl dt embed fieldset figcaption figure footer form "
    "frame frameset h1 h2 h3 h4 h5 h6 head header hgroup hr html iframe img input keygen "
    "li link listing main marquee menu meta nav noembed noframes noscript object ol "
    "param plaintext pre script search section select source style summary table tbody td "
    "template textarea tfoot th thead title tr track ul wbr xmp"
)
# Elements html5 builds its own way (or whose text it does not parse as markup).
NOT_HANDLED = _names(
    "applet body button frame frameset head html iframe image isindex keygen marquee math "
    "form listing noembed noframes noscript nobr object optgroup option plaintext rb rp rt "
    "rtc ruby script select template textarea xmp"
)
TABLE_PARTS = {
    "table": _names("caption colgroup col thead tbody tfoot tr"),
    "thead": frozenset(["tr"]),
    "tbody": frozenset(["tr"]),
    "tfoot": frozenset(["tr"]),
    "tr": frozenset(["td", "th"]),
    "colgroup": frozenset(["col"]),
}
# Inside <svg>, these start tags take html5 back to HTML.
LEAVES_SVG = _names(
    "b big blockquote body br center code dd div dl dt em embed font h1 h2 h3 h4 h5 h6 "
    "head hr i img li listing menu meta nobr ol p pre ruby s small span strong strike sub "
    "sup table tt u ul var foreignobject"
)
# SVG elements whose names html5 gives capitals to (``clippath`` -> ``clipPath``).
SVG_CAPITALISED = _names(
    "altglyph altglyphdef altglyphitem animatecolor animatemotion animatetransform "
    "clippath feblend fecolormatrix fecomponenttransfer fecomposite feconvolvematrix "
    "fediffuselighting fedisplacementmap fedistantlight feflood fefunca fefuncb fefuncg "
    "fefuncr fegaussianblur feimage femerge femergenode femorphology feoffset "
    "fepointlight fespecularlighting fespotlight fetile feturbulence foreignobject "
    "glyphref lineargradient radialgradient textpath"
)
_DOCTYPE = re.compile(r"\s*<!DOCTYPE html>", re.IGNORECASE)
_CHAR_REF = re.compile(r"&#(x[0-9a-fA-F]+|[0-9]+);")
_SELF_CLOSED = re.compile(r"<([a-zA-Z][\w:-]*)\b[^<>]*/>")
_VOID_END = re.compile(r"</(?:" + "|".join(sorted(VOID)) + r")\s*>", re.IGNORECASE)
_RAW_TEXT = re.compile(r"<style\b[^>]*>([^<]*)</style>", re.IGNORECASE)
_SPACED_ATTRIBUTE = re.compile(r"""=\s*(?:"[^"]*[\t\n\r][^"]*"|'[^']*[\t\n\r][^']*')""")
_HTML_END = re.compile(r"</html\s*>(\s*)\Z")
_SVG_WITH_XMLNS = re.compile(r"""<svg\s[^>]*?\bxmlns=(["'])http://www\.w3\.org/2000/svg\1""")


def parse(html: str) -> ET.Element | None:
    """The tree tinyhtml5 would build for ``html`` (HTML elements not namespaced), or None
    when this parser cannot be sure of it."""
    if not _markup_is_plain(html):
        return None
    try:
        root = ET.fromstring(html)
    except ET.ParseError:
        return None
    end = _HTML_END.search(html)
    if end is None or not _html5_would_keep(root, html):
        return None
    _apply_html5_rules(root, after_html=end[1])
    return root


def _markup_is_plain(html: str) -> bool:
    """No markup whose meaning an XML parser and html5 do not share."""
    if not _DOCTYPE.match(html) or "<!--" in html or "<?" in html[1:] or "<![" in html:
        return False
    if _VOID_END.search(html) or _SPACED_ATTRIBUTE.search(html):
        return False
    if any("&" in css for css in _RAW_TEXT.findall(html)):  # html5 keeps it as written
        return False
    if html.count("xmlns") != len(_SVG_WITH_XMLNS.findall(html)):
        return False
    return all(_same_character(ref) for ref in _CHAR_REF.findall(html))


def _same_character(ref: str) -> bool:
    """html5 replaces a few numbers with other characters (0x80-0x9F as Windows-1252)."""
    code = int(ref[1:], 16) if ref[0] == "x" else int(ref)
    return (
        code in (9, 10, 13)
        or 32 <= code < 127
        or 160 <= code < 0xD800
        or (0xE000 <= code < 0xFDD0 or 0xFDF0 <= code < 0x10FFFE and code & 0xFFFE != 0xFFFE)
    )


def _html5_would_keep(root: ET.Element, html: str) -> bool:
    """Whether html5 builds the nesting this tree has (see CLOSES_P and the rest)."""
    if root.tag != "html" or len(root) != 2 or root[0].tag != "head" or root[1].tag != "body":
        return False
    if (root.text or "").strip() or (root[0].tail or "").strip() or (root[1].tail or "").strip():
        return False
    head, body = root
    if any(e.tag not in ("meta", "title", "style", "link", "base") for e in head):
        return False
    svg_names: set[str] = set()
    parents = {child: parent for parent in root.iter() for child in parent}
    for element in body.iter():
        if element is body:
            continue
        tag = element.tag
        if not isinstance(tag, str):
            return False
        if tag == "svg":  # no xmlns: html5 puts it in the SVG namespace all the same
            return False
        if tag.startswith(SVG):
            if not _svg_kept(element, parents):
                return False
            svg_names.add(tag.removeprefix(SVG))
            continue
        if not _html_element_kept(element, tag, parents):
            return False
    self_closed = {name for name in _SELF_CLOSED.findall(html) if name.lower() not in VOID}
    return self_closed <= svg_names


def _html_element_kept(element: ET.Element, tag: str, parents: dict) -> bool:
    if tag != tag.lower() or "{" in tag or tag in NOT_HANDLED:
        return False
    if any(name != name.lower() or ":" in name or "{" in name for name in element.attrib):
        return False
    if tag in VOID and (len(element) or element.text):
        return False
    parent = parents[element]
    parent_tag = parent.tag
    allowed = TABLE_PARTS.get(parent_tag) if isinstance(parent_tag, str) else None
    if allowed is not None:
        if tag not in allowed or (parent.text or "").strip() or (element.tail or "").strip():
            return False
        if tag == "col" and parent_tag == "table" and _after_rows(element, parent):
            return False
    elif tag in ("td", "th", "tr", "thead", "tbody", "tfoot", "col", "colgroup", "caption"):
        return False  # a table part outside its table: html5 drops or moves it
    if tag in TABLE_PARTS and (element.text or "").strip():
        return False
    if tag in HEADINGS and any(child.tag in HEADINGS for child in element):
        return False
    if tag == "p" and any(e.tag in CLOSES_P for e in element.iter() if e is not element):
        return False
    if tag == "a" and any(e.tag == "a" for e in element.iter() if e is not element):
        return False
    if tag in ("li", "dd", "dt") and not _item_kept(element, tag, parents):
        return False
    return not (tag in ("title", "style") and len(element))


def _after_rows(col: ET.Element, table: ET.Element) -> bool:
    for child in table:
        if child is col:
            return False
        if child.tag in ("tr", "thead", "tbody", "tfoot"):
            return True
    return False


def _item_kept(element: ET.Element, tag: str, parents: dict) -> bool:
    """html5 closes an open <li> (<dd>, <dt>) when another starts, looking up through
    everything but special elements."""
    same = ("li",) if tag == "li" else ("dd", "dt")
    node = parents.get(element)
    while node is not None:
        if node.tag in same:
            return False
        if node.tag in STOPS_ITEM_SEARCH or not isinstance(node.tag, str):
            return True
        node = parents.get(node)
    return True


def _svg_kept(element: ET.Element, parents: dict) -> bool:
    name = element.tag.removeprefix(SVG)
    if name != name.lower() or name in LEAVES_SVG or name in SVG_CAPITALISED or "{" in name:
        return False
    parent = parents[element]
    parent_is_svg = isinstance(parent.tag, str) and parent.tag.startswith(SVG)
    if name == "svg" and (parent_is_svg or parent.tag in TABLE_PARTS):
        return False  # an <svg> in an <svg>, or moved out of a table by html5
    if name != "svg" and not parent_is_svg:
        return False
    if name in ("title", "desc") and len(element):  # their content is parsed as HTML
        return False
    return all(
        adjust_svg_attributes.get(attribute.lower(), attribute.lower()) == attribute
        for attribute in element.attrib
    )


def _apply_html5_rules(root: ET.Element, after_html: str) -> None:
    root.text = None
    body = root[1]
    after_body = (body.tail or "") + after_html
    if after_body:  # whitespace after </body> and </html> is appended to the body
        if len(body):
            body[-1].tail = (body[-1].tail or "") + after_body
        else:
            body.text = (body.text or "") + after_body
        body.tail = None
    for element in body.iter():
        tag = element.tag
        if tag == "table":
            _group_rows(element)
        elif tag == "pre" and element.text and element.text.startswith("\n"):
            element.text = element.text[1:]
        elif tag == f"{SVG}svg":  # html5 keeps its xmlns as an attribute
            element.attrib = {XMLNS_ATTRIBUTE: SVG[1:-1], **element.attrib}


def _group_rows(table: ET.Element) -> None:
    """Rows directly in a table go into an implied <tbody>, columns into a <colgroup>."""
    if not any(child.tag in ("tr", "col") for child in table):
        return
    children = list(table)
    grouped: list[ET.Element] = []
    group: ET.Element | None = None
    for child in children:
        wanted = "tbody" if child.tag == "tr" else "colgroup" if child.tag == "col" else None
        if wanted is None:
            group = None
            grouped.append(child)
            continue
        if group is None or group.tag != wanted:
            group = ET.Element(wanted)
            grouped.append(group)
        group.append(child)
    for child in children:
        table.remove(child)
    table.extend(grouped)
