"""site/embed/parents.html: a block to paste into a hosted CMS page (no theme, no script)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from helpers import parse_html

from generator.compose import compose
from generator.config import load_config

EMBED = "embed/parents.html"


def embed_of(config: Path) -> str:
    return compose(load_config(config), config.parent).extras[EMBED]


def test_the_block_is_plain_html_linking_to_the_published_pdfs(built_sites: Any) -> None:
    result = built_sites("primary")
    html = (result.site_dir / EMBED).read_text(encoding="utf-8")
    page = parse_html(html)
    assert not page.find("script") and not page.find("style") and not page.find("link")
    assert not any("class" in e.attrs or "id" in e.attrs for e in page.elements)
    assert not any(attr.startswith("on") for e in page.elements for attr in e.attrs)
    base = "https://www.willowbank.example.org/online-safety/"
    hrefs = [a.attrs["href"] for a in page.find("a")]
    pdfs = [h for h in hrefs if h.endswith(".pdf")]
    assert pdfs == [
        f"{base}downloads/{name}"
        for name in ("parents-leaflet.pdf", "aup-parent.pdf", "photo-consent.pdf", "policy.pdf")
    ]
    for href in pdfs:  # each one is in the site as published
        assert (result.site_dir / href.removeprefix(base)).is_file()
    assert hrefs[-1] == f"{base}parents/"
    assert "Mr Daniel O'Connor" in page.text and "call 999" in page.text
    assert "Parent and carer agreement (PDF)" in page.text
    # Not a page of the site: no theme, and not in its sitemap.
    assert "embed" not in (result.site_dir / "sitemap.xml").read_text(encoding="utf-8")


def test_values_are_escaped(make_school: Any) -> None:
    html = embed_of(
        make_school(
            {
                "school": {"name": "--><script>alert(1)</script> & Co"},
                "people": {"dsl": {"name": "<img src=x onerror=alert(2)>"}},
            }
        )
    )
    page = parse_html(html)
    assert not page.find("script") and not page.find("img")
    assert "<img src=x onerror=alert(2)>" in page.text
    assert html.count("-->") == 1  # the comment at the top ends where it should
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in html


def test_links_are_relative_when_the_address_is_not_known(make_school: Any) -> None:
    config = make_school({"school": {"website": None}, "publish": {"url": None}})
    hrefs = [a.attrs["href"] for a in parse_html(embed_of(config)).find("a")]
    assert "../downloads/policy.pdf" in hrefs and hrefs[-1] == "../parents/"


def test_a_publish_url_is_used_for_every_link(make_school: Any) -> None:
    config = make_school({"publish": {"url": "https://esafety.example.org/pack"}})
    hrefs = [a.attrs["href"] for a in parse_html(embed_of(config)).find("a")]
    assert "https://esafety.example.org/pack/downloads/policy.pdf" in hrefs
    assert hrefs[-1] == "https://esafety.example.org/pack/parents/"


def test_letters_beyond_ascii_survive_a_page_that_guesses_the_charset(make_school: Any) -> None:
    html = embed_of(make_school({"school": {"name": "Ysgol Gymraeg Llŷn"}}))
    assert html.isascii()
    assert "Ysgol Gymraeg Llŷn" in parse_html(html).text
