"""The parents' and carers' page and the printable parents' leaflet.

Both are laid out from the same composed pieces (contacts, teaching, the phone rule, how
the school keeps children safe, tips, where to report and trusted links), so the leaflet
in the book bag can never disagree with the page. Links are data in content/resources.yaml.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlparse

from jinja2 import TemplateError
from markupsafe import Markup

from .. import markup
from ..compose import (
    TEMPLATE_FAILURES,
    Composer,
    Page,
    PrintDoc,
    Section,
    sandboxed_environment,
)
from ..config import Config
from ..errors import BuildError
from ..qr import qr_data_uri

PAGE_PATH = "parents.md"
LEAFLET_FILE = "parents-leaflet.pdf"
# Where the pack is assumed to live on the school's own website, until the config says
# where it is published (see parents_page_url).
# Sites that closed or moved; a link to them is a bug (content and config alike).
RETIRED_HOSTS = (
    "thinkuknow.co.uk",
    "kidsmart.org.uk",
    "digizen.org",
    "teachernet.gov.uk",
    "becta.org.uk",
)
TRACKING_PARAMETERS = ("utm_", "fbclid", "gclid", "mc_cid", "mc_eid")


@dataclass(frozen=True)
class Link:
    """A trusted website or a place to report: where it goes and what it is for."""

    title: str
    url: str | None
    about: Markup
    print_as: str | None = None
    phone: str | None = None
    last_checked: dt.date | None = None
    key: str = ""
    leaflet: bool = False
    from_school: bool = False


@dataclass(frozen=True)
class Tip:
    heading: Markup
    text: Markup
    leaflet: bool


def compose(composer: Composer) -> Section:
    info = parents_info(composer)
    leaflet_words = composed_words(composer, "parents/leaflet.yaml")
    names = composer.names("parents")
    return Section(
        pages=[
            Page(
                PAGE_PATH,
                names["page"],
                composer.page("pages/parents.md", parents=info, helplines=info["helplines"]),
            )
        ],
        prints=[
            PrintDoc(
                filename=LEAFLET_FILE,
                title=names["pdf"],
                audience=names["pdf_for"],
                template="print/leaflet.html",
                context={"parents": info, "words": leaflet_words},
                max_pages=2,
            )
        ],
        home_links=[{"title": names["home"], "path": PAGE_PATH, "about": names["about"]}],
    )


def embed_block(composer: Composer, prints: list[PrintDoc], template_dirs: list[Path]) -> str:
    """site/embed/parents.html: the parents' essentials as one block of HTML to paste into
    a page of a school website run on a hosted CMS (no script, no stylesheet, inline
    styles). Its links are absolute when the pack's address is known (see site_url)."""
    words = composed_words(composer, "parents/embed.yaml")
    base = composer.config.site_url or "../"
    titles = {doc.filename: doc.title for doc in prints}
    documents = [
        {"href": f"{base}downloads/{name}", "title": titles[name]}
        for name in words["documents"]
        if name in titles
    ]
    # Sandboxed: a school's overrides/templates/site/embed-parents.html runs here too.
    env = sandboxed_environment(
        template_dirs, "embed", autoescape=True, trim_blocks=True, lstrip_blocks=True
    )
    env.filters.update(markdown=markup.to_html, inline_markdown=markup.to_inline_html)
    values = {
        "words": words,
        "school_name": composer.config.school.name,
        "version": composer.config.review.version,
        "colour": composer.brand.strong,
        "contacts": Markup(composer.page("parents/contacts.md")),
        "phones": Markup(composer.page("parents/phones.md")),
        "documents": documents,
        "more_href": f"{base}parents/",
    }
    try:
        html = env.get_template("site/embed-parents.html").render(values)
    except (TemplateError, *TEMPLATE_FAILURES) as exc:
        raise BuildError(f"templates/site/embed-parents.html: {exc}") from None
    # Letters beyond ASCII as character references: a fragment carries no charset, and
    # "Llŷn" opened on its own (or pasted by a CMS that guesses) showed as "LlÅ·n".
    return html.encode("ascii", "xmlcharrefreplace").decode("ascii")


def parents_page_url(config: Config) -> str | None:
    """The public address of the parents' page, for the QR code on the leaflet.

    ``publish.url`` says where the pack is published; without it the pack is taken to sit
    at ``<school.website>/online-safety/``. With neither, the leaflet has no QR code.
    """
    return f"{config.site_url}parents/" if config.site_url else None


def parents_info(composer: Composer) -> dict[str, Any]:
    """Every piece of the parents' page, composed once for the page and the leaflet."""
    config = composer.config
    url = parents_page_url(config)
    data = composer.data("resources.yaml")
    return {
        "helplines": helplines(composer),
        "contacts": Markup(composer.page("parents/contacts.md")),
        "teaching": teaching(composer),
        "phones": Markup(composer.page("parents/phones.md")),
        "phones_brief": Markup(composer.page("parents/phones.md", brief=True)),
        "safety": Markup(composer.page("parents/safety.md")),
        "tips": tips(composer),
        "reporting": [link(composer, item, "reporting") for item in data["reporting"]],
        "resources": [link(composer, item, "resources") for item in data["resources"]],
        "extras": school_links(config),
        "url": url,
        "url_host": urlparse(url).hostname if url else None,
        "url_path": urlparse(url).path if url else None,
        "qr": qr_data_uri(url) if url else None,
    }


# The places to report that the "Worried about a child?" box names (content/pages/_worried.md).
HELPLINES = ("police", "nspcc", "childline", "ceop")


def helplines(composer: Composer) -> dict[str, Link]:
    """The reporting routes of content/resources.yaml by key, for the worried box on the
    home page and the parents' page (composed once per build)."""
    if "helplines" not in composer.memo:
        items = composer.data("resources.yaml")["reporting"]
        found = {item.get("key"): link(composer, item, "reporting") for item in items}
        missing = [key for key in HELPLINES if key not in found]
        if missing:
            raise BuildError(f"content/resources.yaml: reporting: no entry with key {missing[0]}")
        composer.memo["helplines"] = found
    return composer.memo["helplines"]


def teaching(composer: Composer) -> dict[str, Any]:
    raw = composer.data("parents/teaching.yaml")
    where = "content/parents/teaching.yaml"
    stages = [
        {
            "key": ks,
            "name": _capitalised(composer.nation["stage_names"][ks]),
            "text": composer.text(raw["stages"][ks], f"{where}: stages.{ks}"),
        }
        for ks in composer.config.key_stages
    ]
    return {"intro": composer.text(raw["intro"], f"{where}: intro"), "stages": stages}


def _capitalised(text: str) -> str:
    """'sixth form' -> 'Sixth form' (unlike str.capitalize, the rest is left alone)."""
    return text[:1].upper() + text[1:]


def tips(composer: Composer) -> dict[str, list[Tip]]:
    raw = composer.data("parents/tips.yaml")
    where = "content/parents/tips.yaml"
    return {
        group: [
            Tip(
                composer.text(t["heading"], f"{where}: {group}[{i}]"),
                composer.text(t["text"], f"{where}: {group}[{i}]"),
                bool(t.get("leaflet")),
            )
            for i, t in enumerate(items)
        ]
        for group, items in raw.items()
    }


def link(composer: Composer, item: dict[str, Any], group: str) -> Link:
    where = f"content/resources.yaml: {group}: {item.get('title', '?')}"
    url = item.get("url")
    if url:
        check_url(url, where)
    if not isinstance(item.get("last_checked"), dt.date):
        raise BuildError(f"{where}: last_checked must be a date (YYYY-MM-DD)")
    return Link(
        title=item["title"],
        url=url,
        about=composer.text(item["about"], where),
        print_as=item.get("print_as") or (display_address(url) if url else None),
        phone=item.get("phone"),
        last_checked=item["last_checked"],
        key=item.get("key", ""),
        leaflet=bool(item.get("leaflet")),
    )


def school_links(config: Config) -> list[Link]:
    """The config's extra_resources meant for parents (audience parents or all)."""
    links = []
    for i, extra in enumerate(config.extra_resources):
        if extra.audience not in ("parents", "all"):
            continue
        check_url(extra.url, f"extra_resources[{i}]")
        links.append(
            Link(
                title=extra.title,
                url=extra.url,
                about=Markup(""),
                print_as=display_address(extra.url),
                from_school=True,
            )
        )
    return links


def check_url(url: str, where: str) -> None:
    """Refuse links to retired sites, and links that carry tracking parameters."""
    parsed = urlparse(url)
    if parsed.scheme != "https" and parsed.scheme != "http":
        raise BuildError(f"{where}: {url} is not a web address")
    host = (parsed.hostname or "").lower()
    for retired in RETIRED_HOSTS:
        if host == retired or host.endswith("." + retired):
            raise BuildError(
                f"{where}: {url} points to {retired}, which has closed; "
                "link to its replacement (for Thinkuknow: ceopeducation.co.uk)"
            )
    for name, _ in parse_qsl(parsed.query, keep_blank_values=True):
        if name.lower().startswith(TRACKING_PARAMETERS):
            raise BuildError(
                f"{where}: {url} carries a tracking parameter ({name}); "
                "remove it so the link opens plainly"
            )


def display_address(url: str) -> str:
    """https://www.example.org/a/ -> example.org/a (how an address is printed on paper)."""
    parsed = urlparse(url)
    host = (parsed.hostname or "").removeprefix("www.")
    return (host + parsed.path).rstrip("/")


def composed_words(composer: Composer, name: str) -> dict[str, Any]:
    """A YAML file of words, each string composed with the school's values."""
    where = f"content/{name}"

    def walk(value: Any, path: str) -> Any:
        if isinstance(value, str):
            return composer.text(value, f"{where}: {path}")
        if isinstance(value, dict):
            return {k: walk(v, f"{path}.{k}" if path else k) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, f"{path}[{i}]") for i, v in enumerate(value)]
        return value

    return walk(composer.data(name), "")
