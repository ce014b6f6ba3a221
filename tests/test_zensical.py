"""A second engine: the same generated project builds with Zensical, with the same text."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from helpers import html_pages

from generator.build import build
from generator.site import zensical_command

pytestmark = pytest.mark.skipif(
    zensical_command() is None,
    reason="Zensical is not installed (make test sets up .venv-zensical when it can)",
)


def article_text(page: Path) -> str:
    """The visible words of a page's main article, without permalink anchors."""
    source = page.read_text(encoding="utf-8")
    article = source.split('<article class="md-content__inner md-typeset">', 1)[1]
    article = article.split("</article>", 1)[0]
    article = re.sub(r'<a class="headerlink"[^>]*>.*?</a>', "", article, flags=re.S)
    article = re.sub(r"<(script|style)\b.*?</\1>", "", article, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", article))).strip()


@pytest.fixture(scope="module")
def both_engines(tmp_path_factory: pytest.TempPathFactory, built_sites):
    mkdocs_site = built_sites("secondary").site_dir
    config = mkdocs_site.parent / "school_config.yaml"
    zensical_site = tmp_path_factory.mktemp("zensical") / "site"
    build(config, zensical_site, engine="zensical")
    return mkdocs_site, zensical_site


def pages(site: Path) -> set[str]:
    return {str(p.relative_to(site)) for p in html_pages(site) if p.name != "404.html"}


def test_zensical_builds_the_same_pages(both_engines) -> None:
    mkdocs_site, zensical_site = both_engines
    assert pages(mkdocs_site) == pages(zensical_site)
    assert len(pages(mkdocs_site)) > 15


def test_pages_carry_the_same_text(both_engines) -> None:
    mkdocs_site, zensical_site = both_engines
    different = [
        page
        for page in sorted(pages(mkdocs_site))
        if article_text(mkdocs_site / page) != article_text(zensical_site / page)
    ]
    assert not different, f"text differs between engines on: {different}"


def test_downloads_are_the_same_files(both_engines) -> None:
    mkdocs_site, zensical_site = both_engines
    for pdf in (mkdocs_site / "downloads").glob("*.pdf"):
        assert (zensical_site / "downloads" / pdf.name).read_bytes() == pdf.read_bytes()
