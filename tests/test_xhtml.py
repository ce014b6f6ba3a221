"""generator/xhtml.py: the print HTML parsed fast gives the tree tinyhtml5 would.

WeasyPrint lays out whatever tree it is given, so a tree that differs in one text node
could move a line. These tests hold the fast parser to tinyhtml5's tree for every
document of the sample schools (each must take the fast path) and for random markup
(each document it accepts), and check that markup html5 builds its own way falls back.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest
import tinyhtml5
from conftest import SCHOOL_NAMES, school_path
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from generator import speedups, xhtml
from generator.compose import compose
from generator.config import load_config
from generator.pdf import PrintJob
from generator.render import PdfTask, _without_stylesheets, render_task


def html5_tree(html: str) -> ET.Element:
    return tinyhtml5.parse(html, namespace_html_elements=False)


def difference(fast: ET.Element, html5: ET.Element, path: str = "html") -> str | None:
    """Where two trees first differ (tags, attributes, text, tails, children), or None."""
    if fast.tag != html5.tag:
        return f"{path}: <{fast.tag}> where html5 has <{html5.tag}>"
    if dict(fast.attrib) != dict(html5.attrib):
        return f"{path}: attributes {fast.attrib} where html5 has {html5.attrib}"
    for part in ("text", "tail"):
        if (getattr(fast, part) or None) != (getattr(html5, part) or None):
            return f"{path}: {part} {getattr(fast, part)!r}, html5 {getattr(html5, part)!r}"
    if len(fast) != len(html5):
        return f"{path}: {len(fast)} children where html5 has {len(html5)}"
    for i, (a, b) in enumerate(zip(fast, html5, strict=True)):
        found = difference(a, b, f"{path}/{a.tag}[{i}]")
        if found:
            return found
    return None


def print_tasks(school: str) -> dict[str, PdfTask]:
    path = school_path(school)
    pack = compose(load_config(path), path.parent)
    return {doc.filename: PrintJob(pack, doc).task() for doc in pack.prints}


@pytest.mark.parametrize("school", SCHOOL_NAMES)
def test_every_print_document_is_parsed_fast_into_html5s_tree(school: str) -> None:
    for filename, task in print_tasks(school).items():
        html = _without_stylesheets(task.html)[0]  # as WeasyPrint is given it
        fast = xhtml.parse(html)
        assert fast is not None, f"{filename}: not parsed fast (its markup is not plain)"
        assert difference(fast, html5_tree(html)) is None, filename


def test_the_worker_parses_documents_fast_and_falls_back_for_the_rest() -> None:
    import weasyprint

    speedups.install()
    html = (
        "<!DOCTYPE html><html><head><title>t</title></head><body><p>One &amp; two</p></body></html>"
    )
    parser = weasyprint.tinyhtml5
    assert isinstance(parser, speedups._FastParser)
    calls: list[str] = []
    plain_parse = parser.plain.parse

    def spy(source: Any, **options: Any) -> Any:
        calls.append(source.getvalue())
        return plain_parse(source, **options)

    parser.plain = type("Plain", (), {"parse": staticmethod(spy)})()
    try:
        weasyprint.HTML(string=html)
        assert calls == []  # parsed fast
        weasyprint.HTML(string=html.replace("One", "One&nbsp;"))
        assert len(calls) == 1  # an HTML entity: tinyhtml5's
    finally:
        parser.plain = tinyhtml5


PAGE = (
    "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<title>T</title>\n</head>\n"
    "<body>\n{}\n</body>\n</html>\n"
)

# Markup html5 builds otherwise than the nesting as written, or reads otherwise.
FALLS_BACK = [
    "<p>Words <div>a block</div></p>",
    "<p><span><ul><li>x</li></ul></span></p>",
    "<ul><li>one<div><li>two</li></div></li></ul>",
    "<dl><dt>term<dd>x</dd></dt></dl>",
    "<h2>Title <h3>inside</h3></h2>",
    "<a href='#x'>out <a href='#y'>in</a></a>",
    "<div/>",
    "<p>a<br></br>b</p>",
    "<p>One&nbsp;two</p>",
    "<p>&#150;</p>",
    "<!-- a note --><p>x</p>",
    "<p title='two\nlines'>x</p>",
    "<table><td>cell</td></table>",
    "<table>words</table>",
    "<table><svg xmlns='http://www.w3.org/2000/svg'></svg></table>",
    "<table>text<tr><td>x</td></tr></table>",
    "<table><tr><td>x</td></tr><col/></table>",
    "<tbody><tr><td>x</td></tr></tbody>",
    "<svg><rect/></svg>",
    "<svg xmlns='http://www.w3.org/2000/svg'><p>x</p></svg>",
    "<svg xmlns='http://www.w3.org/2000/svg'><clippath/></svg>",
    "<svg xmlns='http://www.w3.org/2000/svg' viewbox='0 0 1 1'></svg>",
    "<style>p { content: '&amp;' }</style>",
    "<textarea>x</textarea>",
    "<P>shouting</P>",
]


@pytest.mark.parametrize("body", FALLS_BACK)
def test_markup_html5_reads_its_own_way_is_left_to_tinyhtml5(body: str) -> None:
    assert xhtml.parse(PAGE.format(body)) is None


# Markup the fast path takes, with html5's own rules applied.
PARSED_FAST = [
    "<table>\n<col class='a'/><col/>\n<tr><td>x</td></tr>\n<tr><td>y</td></tr>\n</table>",
    "<table><thead><tr><th>h</th></tr></thead>\n<tr><td>x</td></tr></table>",
    "<pre>\nfirst line kept, the newline before it not</pre>",
    "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 2 2'><title>t</title>"
    "<rect width='1' height='1'/><polyline points='0,0 1,1'/></svg>",
    "<ul><li>one<ul><li>nested</li></ul></li><li>two &amp; &lt;three&gt; &#39;</li></ul>",
    "<p>a<br />b <img src='x.png' alt='x' /> <strong><em>c</em></strong></p>",
    "<div><p>one</p><p>two</p></div><figure><div><p>x</p></div></figure>",
]


@pytest.mark.parametrize("body", PARSED_FAST)
def test_well_formed_markup_gets_html5s_tree(body: str) -> None:
    html = PAGE.format(body)
    fast = xhtml.parse(html)
    assert fast is not None
    assert difference(fast, html5_tree(html)) is None


# Random markup from pieces that html5 and XML read alike and pieces they do not.
PIECES = [
    "<p>",
    "</p>",
    "<div>",
    "</div>",
    "<ul>",
    "</ul>",
    "<li>",
    "</li>",
    "<span>",
    "</span>",
    "<strong>",
    "</strong>",
    "<h2>",
    "</h2>",
    "<table>",
    "</table>",
    "<tr>",
    "</tr>",
    "<td>",
    "</td>",
    "<tbody>",
    "</tbody>",
    "<col/>",
    "<br />",
    "<br>",
    "<a href='#x'>",
    "</a>",
    "<pre>",
    "</pre>",
    "<dl>",
    "<dt>",
    "<dd>",
    "</dl>",
    "</dt>",
    "</dd>",
    "\n",
    " ",
    "words",
    "&amp;",
    "&nbsp;",
    "&#160;",
    "&#128;",
    "<!-- c -->",
    "<div/>",
    "<svg xmlns='http://www.w3.org/2000/svg'>",
    "</svg>",
    "<rect/>",
    "<title>",
    "</title>",
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PIECES), max_size=30))
@example(["<table>", "<tr>", "<td>", "words", "</td>", "</tr>", "</table>"])
@example(["<p>", "<span>", "<div>", "</div>", "</span>", "</p>"])
def test_any_markup_parsed_fast_has_html5s_tree(pieces: list[str]) -> None:
    html = PAGE.format("".join(pieces))
    fast = xhtml.parse(html)
    if fast is not None:
        assert difference(fast, html5_tree(html)) is None


# Well-formed markup, nested at random: html5 keeps some of it as written and rebuilds
# the rest (a <div> in a <p>, a <td> straight in a <table>...).
TAG_NAMES = (
    "p div span strong em a ul ol li dl dt dd h2 h3 table thead tbody tr td th caption "
    "section figure blockquote pre title style br img col colgroup hr svg g rect desc"
)
TAGS = TAG_NAMES.split()
TEXTS = ["", " ", "\n", "words", "a &amp; b", "&lt;x&gt;", "&#39;", "&#150;", "&nbsp;", "\nx"]


def _element(tag: str, children: list[str]) -> str:
    if tag in ("br", "img", "col", "hr"):
        return f"<{tag} />"
    if tag == "svg":
        return f"<svg xmlns='http://www.w3.org/2000/svg'>{''.join(children)}</svg>"
    return f"<{tag}>{''.join(children)}</{tag}>"


MARKUP = st.recursive(
    st.sampled_from(TEXTS),
    lambda inner: st.builds(_element, st.sampled_from(TAGS), st.lists(inner, max_size=4)),
    max_leaves=25,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(MARKUP, max_size=4))
def test_any_nesting_parsed_fast_has_html5s_tree(parts: list[str]) -> None:
    html = PAGE.format("".join(parts))
    fast = xhtml.parse(html)
    if fast is not None:
        assert difference(fast, html5_tree(html)) is None


def test_documents_parsed_fast_render_to_the_same_bytes() -> None:
    """The PDF from the fast tree is the PDF from tinyhtml5's, byte for byte."""
    import weasyprint

    speedups.install()
    wanted = ("policy.pdf", "parents-leaflet.pdf", "aup-parent.pdf")
    tasks = {name: task for name, task in print_tasks("secondary").items() if name in wanted}
    assert len(tasks) == len(wanted)
    fast = {name: render_task(task).data for name, task in tasks.items()}
    parser = weasyprint.tinyhtml5
    weasyprint.tinyhtml5 = parser.plain
    try:
        plain = {name: render_task(task).data for name, task in tasks.items()}
    finally:
        weasyprint.tinyhtml5 = parser
    assert [name for name in tasks if fast[name] != plain[name]] == []
