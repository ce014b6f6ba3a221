"""Turning config values and content into safe Markdown and HTML.

Config values are data, never markup: every value printed into Markdown is escaped so a
school name such as ``<script>`` or ``[x](javascript:alert(1))`` prints as text. We escape
with numeric HTML entities rather than backslashes because entities survive both
Markdown inline text and raw HTML blocks, and every renderer (MkDocs, Zensical,
WeasyPrint via python-markdown) shows them as the original character.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import markdown as md
from markupsafe import Markup

from .cache import seal, sealed
from .resources import TEMPLATES_DIR

# Characters that start Markdown or HTML syntax inline: & < > and the Markdown markers.
_MD_ACTIVE = re.compile(r"[&<>\\`*_\[\]{}#|~^:]")
_LINE_START = re.compile(r"^([-+=>]|\d+[.)])(?=\s|$)")
_SPACE = re.compile(r"\s+")
_SPACE_BUT_NO_BREAK = re.compile(r"[^\S\u00a0]+")  # a no-break space keeps a name whole
_PLAIN_SPACE = re.compile(r"[ \t\r\n\f\v]+")

# No "toc": print needs no made-up heading ids (every link is to an id the content sets
# with attr_list), and fragments converted one by one must not number repeated headings.
MARKDOWN_EXTENSIONS = ["abbr", "admonition", "attr_list", "def_list", "md_in_html", "tables"]


def md_escape(value: Any) -> str:
    """A config value as inert Markdown text (one line, every active character encoded)."""
    if isinstance(value, Markup):
        return str(value)
    text = _SPACE_BUT_NO_BREAK.sub(" ", format_value(value))
    text = _MD_ACTIVE.sub(lambda m: f"&#{ord(m.group())};", text)
    # A value that starts a line must not start a list, heading or quote.
    return _LINE_START.sub(lambda m: f"&#{ord(m.group()[0])};{m.group()[1:]}", text)


def format_value(value: Any) -> str:
    if isinstance(value, dt.date):
        return format_date(value)
    return str(value)


def format_date(day: dt.date) -> str:
    """6 October 2026 (the way UK schools write dates)."""
    return f"{day.day} {day:%B %Y}"


def mailto(address: str | None, text: str | None = None) -> Markup:
    """A mailto link; the address was validated when the config was loaded."""
    if not address:
        return Markup("")
    label = html.escape(text or address, quote=False)
    return Markup(f'<a href="mailto:{html.escape(address)}">{label}</a>')


_DIALLABLE = re.compile(r"^\s*(\+?[\d\s().-]*\d)")


def tel(number: str | None, text: str | None = None) -> Markup:
    """A tap-to-call link: ``01632 960412`` -> ``<a href="tel:01632960412">``. Only the
    number's leading digits are dialled (not an "ext. 2" after it); the text shows as given,
    escaped. A value with no number to dial prints as plain text."""
    if not number:
        return Markup("")
    label = md_escape(text if text is not None else number)
    # "+44 (0)1632 ...": the bracketed 0 is dialled only from inside the country.
    found = _DIALLABLE.match(number.replace("(0)", "") if "+" in number else number)
    digits = re.sub(r"[^\d+]", "", found.group(1)) if found else ""
    if len(digits.lstrip("+")) < 3:
        return Markup(label)
    return Markup(f'<a href="tel:{digits}">{label}</a>')


def link(url: str, text: str | None = None) -> Markup:
    """A plain link (http/https only, checked at load time), text escaped."""
    if not url.startswith(("https://", "http://")):
        raise ValueError(f"refusing to link to {url!r}")
    label = md_escape(text if text is not None else url)
    return Markup(f'<a href="{html.escape(url)}">{label}</a>')


def bare_url(url: str) -> str:
    """A web address as a reader writes it: "https://www.school.org/" -> "www.school.org"
    (and a line is never left ending in "https://")."""
    return str(url).split("//", 1)[-1].rstrip("/")


def to_html(markdown_text: str) -> Markup:
    """Render a composed Markdown fragment to HTML for the print templates."""
    return Markup(_convert(str(markdown_text)))


_converted: dict[str, str] = {}  # fragment -> HTML, converted by this process
_kept: dict[str, str] | None = None  # what this build converted, to keep for the next
# What this school's last build converted (read from its cache: used for this school only,
# never put in ``_converted``, so one school's cache file cannot reach another's pack).
_saved: dict[str, str] = {}
MAX_CONVERTED = 20_000


def _convert(markdown_text: str) -> str:
    """Most fragments recur: on a school's pages and its PDFs, and across a trust's
    schools (the same words, or the same names), so each is converted once."""
    converted = _converted.get(markdown_text) or _saved.get(markdown_text)
    if converted is None:
        if len(_converted) >= MAX_CONVERTED:
            _converted.clear()
        converted = _converted[markdown_text] = _renderer().reset().convert(markdown_text)
    if _kept is not None:
        _kept[markdown_text] = converted
    return converted


@contextmanager
def conversions_kept(path: Path) -> Iterator[None]:
    """Fragments converted by the last build are read from ``path`` (in the school's build
    cache), and those this build converts are written back if it succeeds: a rebuild
    converts only the words that changed (Markdown was a third of a rebuild's time)."""
    global _kept, _saved
    kept = _saved = _read_conversions(path)
    _kept = {}
    try:
        yield
        if _kept != kept:
            _write_conversions(path, _kept)
    finally:
        _kept, _saved = None, {}


@cache
def _converter_version() -> str:
    from importlib.metadata import version

    return f"markdown {version('markdown')} {MARKDOWN_EXTENSIONS}"


def _read_conversions(path: Path) -> dict[str, str]:
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(saved, dict) or saved.get("converter") != _converter_version():
        return {}
    conversions = saved.get("conversions")
    if not isinstance(conversions, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in conversions.items()
    ):
        return {}
    # Written by our own build (the school's folder holds this file: it could say anything).
    if not sealed(saved.get("seal"), json.dumps(conversions, sort_keys=True)):
        return {}
    return conversions


def _write_conversions(path: Path, conversions: dict[str, str]) -> None:
    saved = {
        "converter": _converter_version(),
        "conversions": conversions,
        "seal": seal(json.dumps(conversions, sort_keys=True)),
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(saved, ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass  # a cache: the next build converts them again


def to_inline_html(markdown_text: str) -> Markup:
    """Like to_html, without the wrapping <p> of a one-paragraph fragment."""
    out = str(to_html(markdown_text))
    if out.startswith("<p>") and out.endswith("</p>") and out.count("<p>") == 1:
        out = out[3:-4]
    return Markup(out)


# A name after its title ("Ms Harriet Lowe") and a UK postcode ("WX3 7NP") read as one
# unit: in print they never break across lines.
_TITLED_NAME = re.compile(
    r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Revd|Rev|Prof|Sir|Dame)\.?(?: [A-Z][\w'’-]*){1,3}"
)


def to_plain_text(markdown_text: str) -> str:
    """Visible text of a Markdown fragment (for reading-level checks and comparisons)."""
    text = re.sub(r"<[^>]+>", "", str(to_html(markdown_text)))
    # Plain spaces only: a no-break space keeps a name whole (in a flowchart's box too).
    return _PLAIN_SPACE.sub(" ", html.unescape(text)).strip()


@cache
def _renderer() -> md.Markdown:
    return md.Markdown(extensions=MARKDOWN_EXTENSIONS, output_format="html")


# A UK postcode's two halves ("LE18 0AA"), kept on one line.
_POSTCODE = re.compile(r"\b([A-Z]{1,2}[0-9][A-Z0-9]?) ([0-9][A-Z]{2})\b")
# A UK phone number written in groups ("01632 960412", "0800 1111", "+44 1632 960412").
PHONE_NUMBER = re.compile(r"(?<![\w+])(?:0\d{2,4}|\+44 \d{2,4})(?: \d{3,6}){1,2}(?![\w])")
# How a character of a name may be written in print HTML (Jinja escapes ' and &).
_ESCAPED = {"'": "(?:'|&#39;|&#x27;)", "&": "(?:&|&amp;)", "’": "(?:’|&#8217;)"}


def unbreakable_names(config: Any) -> re.Pattern[str] | None:
    """Every person's name in the config, as a pattern that matches it however it was
    escaped and wherever the text was broken between its words."""
    people = config.people
    persons = [people.headteacher, people.dsl, *people.deputy_dsls, people.online_safety_lead,
               people.online_safety_governor, people.chair_of_governors,
               people.computing_lead, people.lado,
               config.technology.filtering.senior_leader]  # fmt: skip
    names = sorted({p.name for p in persons if p and " " in p.name.strip()}, key=len)
    if not names:
        return None
    words = [
        r"(?:\s|&nbsp;)+".join(
            "".join(_ESCAPED.get(ch, re.escape(ch)) for ch in word) for word in name.split()
        )
        for name in reversed(names)  # the longest first
    ]
    return re.compile("|".join(f"(?<![\\w])(?:{w})(?![\\w])" for w in words))


def keep_together(html: str, names: re.Pattern[str] | None = None, web: bool = False) -> str:
    """Names (the config's people, and any name after its title), postcodes and phone
    numbers never split across lines: their spaces (and a name's hyphens) made
    non-breaking in the text of print HTML (not inside tags, whose attributes stay as they
    were). On a web page (``web``) a name may still wrap at its spaces, which a phone at
    400% zoom needs, but never at its hyphen ("Lloyd-" / "Williams")."""
    parts = re.split(r"(<[^>]*>)", html)
    for i in range(0, len(parts), 2):  # the text between tags
        text = _POSTCODE.sub("\\1\u00a0\\2", parts[i])
        text = PHONE_NUMBER.sub(lambda m: m.group().replace(" ", "\u00a0"), text)
        if not web:
            text = _TITLED_NAME.sub(lambda m: m.group().replace(" ", "\u00a0"), text)
        if names:  # a double-barrelled name keeps its hyphen: a non-breaking one
            text = names.sub(lambda m: _unbroken(m.group(), spaces=not web), text)
        parts[i] = text
    return "".join(parts)


def _unbroken(name: str, spaces: bool = True) -> str:
    name = re.sub(r"\s+", "\u00a0", name) if spaces else name
    return name.replace("-", "\u2011")


ICONS_DIR = TEMPLATES_DIR / "icons"
_ICON_BODY = re.compile(r"<svg[^>]*>(.*)</svg>", re.S)
_ICON_FRAME = re.compile(r'<path stroke="none" d="M0 0h24v24H0z" fill="none"\s*/>')


@cache
def icon_svg(name: str) -> str:
    """A Tabler icon (``templates/icons``, MIT) as one line of SVG: its strokes in a group
    that sets their look, so a page's CSS ``fill`` on the <svg> cannot fill them in."""
    path = ICONS_DIR / f"{name}.svg"
    if "/" in name or not path.is_file():
        raise KeyError(f"no icon called {name!r} in templates/icons")
    found = _ICON_BODY.search(path.read_text(encoding="utf-8"))
    if not found:
        raise KeyError(f"templates/icons/{name}.svg: not an SVG")
    body = _SPACE.sub(" ", _ICON_FRAME.sub("", found.group(1))).strip()
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">'
        '<g fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"'
        f' stroke-linejoin="round">{body}</g></svg>'
    )


def inline_icon(name: str, css_class: str = "esafety-icon") -> Markup:
    """An icon to sit beside text on a web page: decorative, so hidden from screen readers."""
    svg = icon_svg(name).replace(
        "<svg ", f'<svg class="{css_class}" aria-hidden="true" focusable="false" ', 1
    )
    return Markup(svg)


# ---------------------------------------------------------------- a school's own Markdown

# What an override's Markdown may hold of HTML: the tags and attributes the tool's own
# content uses, and links to web pages, email addresses and the pack's own pages. Python-
# Markdown passes raw HTML and attribute lists ({: key=value }) through as they are, so
# anything else (a script, an event handler, a javascript: link) would reach the page.
SCHOOL_TAGS = {
    "a", "abbr", "aside", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl",
    "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "ins",
    "li", "mark", "ol", "p", "section", "small", "span", "strong", "sub", "summary",
    "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
SCHOOL_ATTRIBUTES = {
    "aria-hidden", "aria-label", "aria-labelledby", "class", "colspan", "id", "lang",
    "markdown", "role", "rowspan", "start", "title",
}  # fmt: skip
_TAG_START = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)")
_TAG = re.compile(
    r"<(/?)([A-Za-z][A-Za-z0-9-]*)((?:\s+[^\s=>/\"']+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>\"'`=]+))?)*)\s*/?>"
)
_ATTRIBUTE = re.compile(r"([^\s=>/\"']+)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>\"'`=]+)))?")
_ATTR_LIST = re.compile(r"\{:?\s*([#.][^}\n]*|:[^}\n]*)\}|\{:([^}\n]*)\}")
_LINK_TARGET = re.compile(r"\]\(\s*<?([^)\s>]*)|^ {0,3}\[[^\]\n]+\]:\s*<?([^\s>]+)", re.M)
# A config value in a link is escaped (":" as "&#58;"): https&#58;// is a web address too.
_SAFE_TARGET = re.compile(
    r"(?:https?(?::|&#58;)//\S*|mailto(?::|&#58;)[^\s]*|(?!//)[#./A-Za-z0-9_][^\s:&]*)?", re.I
)
# A picture in Markdown: only one of the pack's own files (an outside one is a tracker).
_IMAGE_TARGET = re.compile(r"!\[[^\]\n]*\]\(\s*<?([^)\s>]*)")
_OWN_FILE = re.compile(r"(?!//)[./A-Za-z0-9_][^\s:&]*")
# ![alt][label], ![label][] and ![label]: pictures whose address is a reference's.
_IMAGE_REFERENCE = re.compile(r"!\[([^\]\n]*)\](?:\[([^\]\n]*)\])?(?!\()")
_REFERENCE = re.compile(r"^ {0,3}\[([^\]\n]+)\]:\s*<?([^\s>]+)", re.M)


def school_markup_problem(text: str) -> str | None:
    """What in a school's Markdown (an override's source) could act on a page (None:
    nothing). A link may be to a placeholder ``{{ name }}``, never to an expression."""
    for start in _TAG_START.finditer(text):
        name = start.group(2).lower()
        if name in ("http", "https", "mailto") and text[start.end() :].startswith(":"):
            continue  # an autolink, <https://...>
        tag = _TAG.match(text, start.start())
        if tag is None:
            return f"<{start.group(2)}: not a tag that can be read safely"
        if name not in SCHOOL_TAGS:
            return f"<{name}> is not allowed (HTML tags allowed: {', '.join(sorted(SCHOOL_TAGS))})"
        for attribute in _ATTRIBUTE.finditer(tag.group(3)):
            problem = _attribute_problem(name, attribute)
            if problem:
                return problem
    for match in _ATTR_LIST.finditer(text):
        for attribute in _ATTRIBUTE.finditer(match.group(1) or match.group(2) or ""):
            key = attribute.group(1)
            if "=" in attribute.group(0) and key.lower() not in SCHOOL_ATTRIBUTES:
                return f"{{: {key}=... }} is not allowed (attributes allowed: {_allowed()})"
    for image in _IMAGE_TARGET.finditer(text):
        if not _OWN_FILE.fullmatch(image.group(1)):
            return f"a picture from {image.group(1)[:60]!r}: only the pack's own files"
    pictured = {(b or a).casefold() for a, b in _IMAGE_REFERENCE.findall(text)}
    for label, target in _REFERENCE.findall(text):
        if label.casefold() in pictured and not _OWN_FILE.fullmatch(target):
            return f"a picture from {target[:60]!r}: only the pack's own files"
    return link_problem(_PLACEHOLDER_TARGET.sub("](placeholder", text))


def site_template_problem(text: str) -> str | None:
    """What in a school's copy of a site template (the stylesheet, the embed block, the
    trust's index) could run script or reach outside the pack: the same promise as pages."""
    if found := _SITE_ACTIVE.search(text):
        what = found.group(0)[:40]
        return (
            f"{what!r} is not allowed in a site template (nothing that runs or loads from outside)"
        )
    for url in _CSS_URL.finditer(text):
        if not _OWN_FILE.fullmatch(url.group(1)):
            return f"url({url.group(1)[:60]}): only the pack's own files"
    for attribute in _SRC.finditer(text):
        target = attribute.group(2)
        if attribute.group(1).lower() == "href" and _SAFE_TARGET.fullmatch(target):
            continue
        if not _OWN_FILE.fullmatch(target) and not target.startswith("{{"):
            return f"{attribute.group(1)}={target[:60]!r}: only the pack's own files"
    return None


_SITE_ACTIVE = re.compile(
    r"<\s*(?:script|iframe|object|embed|link|base|form)\b|<\s*meta\s+http-equiv|\son\w+\s*="
    r"|javascript\s*:"
    r"|@import|expression\s*\(",
    re.I,
)
_CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")\s]*)", re.I)
_SRC = re.compile(r"\b(src|href|srcset|action|data|poster)\s*=\s*['\"]?([^'\"\s>]*)", re.I)


def link_problem(text: str) -> str | None:
    """A Markdown link in ``text`` (rendered content) to anything but a web address, an
    email address or the pack's own pages (a javascript: link, however encoded)."""
    # Our drawings (flowcharts) hold values as SVG text, where Markdown makes no links (an
    # override's source cannot hold an <svg>: see school_markup_problem).
    for match in _LINK_TARGET.finditer(_SVG.sub("", text)):
        target = match.group(1) or match.group(2) or ""
        if not _SAFE_TARGET.fullmatch(target):
            return f"a link to {target[:60]!r}: only https://, mailto: and the pack's own pages"
    return None


_SVG = re.compile(r"<svg\b.*?</svg>", re.S)
_PLACEHOLDER_TARGET = re.compile(r"\]\(\s*\{\{\s*[A-Za-z_][\w.]*(?:\s*\|\s*[A-Za-z_]\w*)*\s*\}\}")


def _attribute_problem(tag: str, attribute: re.Match[str]) -> str | None:
    key = attribute.group(1).lower()
    value = next((g for g in attribute.groups()[1:] if g is not None), "")
    if key == "href" and tag == "a":
        if not _SAFE_TARGET.fullmatch(value):
            return f"a link to {value[:60]!r}: only https://, mailto: and the pack's own pages"
        return None
    if key not in SCHOOL_ATTRIBUTES:
        return f"the attribute {key} is not allowed (attributes allowed: {_allowed()}, a href)"
    return None


def _allowed() -> str:
    return ", ".join(sorted(SCHOOL_ATTRIBUTES))
