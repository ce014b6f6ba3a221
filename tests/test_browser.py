"""The built sites in a real browser: Debian's Chromium, driven by Playwright.

Every page is served from 127.0.0.1 and must load with no console error, no failed request,
no request to any other host and no script dialog, and must have a heading. Search and the
navigation work offline, every link within the site leads to a page or a file, every PDF
link serves a PDF, and every page prints without the site's header, menus and footer.
The pages are visited once per school (helpers.tour) and the tests read what was recorded.
"""

from __future__ import annotations

import re
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urlsplit

import pytest
from conftest import TOURED_SCHOOLS
from helpers import NEEDS_CHROMIUM, serve, site_paths, tour, visit_all, visitor

pytestmark = NEEDS_CHROMIUM


@pytest.fixture(scope="module")
def tours(browser: Any, built_sites: Any) -> Any:
    return lambda school: tour(browser, built_sites(school).site_dir)


@pytest.mark.parametrize("school", TOURED_SCHOOLS)
def test_every_page_loads_cleanly_with_a_heading(tours: Any, school: str) -> None:
    pages = tours(school).pages
    assert len(pages) >= 5
    problems = {path: v.problems for path, v in pages.items() if v.problems}
    assert problems == {}
    no_heading = [path for path, v in pages.items() if not any(v.h1)]
    assert no_heading == []


NAMES = [
    ("primary", "rules/ks2/", "Mr Daniel O'Connor"),
    ("secondary", "rules/ks3/", "Ms Siobhán Ní Bhriain"),
    ("welsh_middle", "rules/ks2/", "Ysgol Gymraeg Llŷn"),
    ("all_through", "rules/ks1/", "St Mary's C of E All-Through School"),
]


@pytest.mark.parametrize(("school", "path", "name"), NAMES, ids=[n for *_, n in NAMES])
def test_names_read_exactly_in_the_browser(
    browser: Any, built_sites: Any, school: str, path: str, name: str
) -> None:
    with visitor(browser, built_sites(school).site_dir) as (v, page):
        # People's names are written with no-break spaces and hyphens: they look the same.
        text = v.visit(page, path).text.replace("\u00a0", " ").replace("\u2011", "-")
        assert name in text


@pytest.mark.parametrize("school", TOURED_SCHOOLS)
def test_every_link_within_the_site_leads_somewhere(
    tours: Any, built_sites: Any, school: str
) -> None:
    """Every link on every page (navigation, footer, content) that stays on the site opens
    a page that loaded cleanly, or a file that exists (a download)."""
    visited = tours(school)
    site = built_sites(school).site_dir
    pages = {v.url for v in visited.pages.values()}
    broken = set()
    for path, v in visited.pages.items():
        assert v.page["nav_links"], f"{path}: no navigation links"
        for link in v.page["links"]:
            target = urldefrag(link).url
            if not target.startswith(visited.base) or target in pages:
                continue
            if not (site / target.removeprefix(visited.base)).is_file():
                broken.add(f"{path}: {link}")
    assert sorted(broken) == []


@pytest.mark.parametrize("school", TOURED_SCHOOLS)
def test_every_pdf_link_serves_a_pdf(tours: Any, built_sites: Any, school: str) -> None:
    """Every href ending .pdf, on any page, returns 200, application/pdf and a PDF's bytes;
    and every PDF the build made is linked from at least one page."""
    visited = tours(school)
    result = built_sites(school)
    links = {
        urldefrag(link).url.removeprefix(visited.base)
        for v in visited.pages.values()
        for link in v.page["links"]
        if urlsplit(link).path.endswith(".pdf")
    }
    assert {f"downloads/{pdf.filename}" for pdf in result.pdfs} <= links
    with serve(result.site_dir) as base:
        for link in sorted(links):
            with urllib.request.urlopen(base + link, timeout=10) as response:
                assert response.status == 200, link
                assert response.headers.get_content_type() == "application/pdf", link
                assert response.read(5) == b"%PDF-", link


@pytest.mark.parametrize("school", TOURED_SCHOOLS)
def test_every_page_prints_without_the_site_chrome(tours: Any, school: str) -> None:
    """With print media emulated, no header, navigation, search, footer or button shows,
    and the page's own content does, every heading of it."""
    for path, v in tours(school).pages.items():
        printed = v.printed
        assert printed["chrome"] == [], path
        assert printed["content_shows"], path
        assert printed["headings_shown"] == printed["headings"] > 0, path
        assert v.h1[0].rstrip("¶").strip() in printed["content_text"], path


SEARCHES = [("phone", "phone"), ("parental controls", "parental controls")]


def test_search_works_offline(browser: Any, built_sites: Any) -> None:
    """Type into the search box: results appear from the site's own index, and a result
    opens its page. Nothing is fetched from another host on the way."""
    site = built_sites("primary").site_dir
    with visitor(browser, site) as (v, page), v.recording("search") as record:
        for words, expect in SEARCHES:
            page.goto(v.base, wait_until="load")
            page.locator(".md-search__input").click()
            page.keyboard.type(words)
            results = page.locator(".md-search-result__item a.md-search-result__link")
            # Results update as each letter is typed: wait for those of the whole query (a
            # result's link carries its query, ?h=...), or the first may change under us.
            page.wait_for_function(
                "h => [...document.querySelectorAll('.md-search-result__item a')]"
                ".some(a => new URL(a.href).searchParams.get('h') === h)",
                arg=words,
                timeout=10_000,
            )
            results.first.wait_for(state="visible", timeout=10_000)
            meta = page.locator(".md-search-result__meta").inner_text()
            assert re.fullmatch(r"\d+ matching documents?", meta.strip()), meta
            href = results.first.get_attribute("href")
            results.first.click()
            page.wait_for_load_state("load")
            assert urldefrag(page.url).url == urldefrag(href).url
            assert expect in page.locator("article").inner_text().lower()
    assert record.problems == []
    assert all(url.startswith(v.base) for url in record.requests)
    assert any(url.endswith("search/search_index.json") for url in record.requests)


# The id of the toggle of the sub-menu a navigation link sits in.
OPEN_MENU = "a => a.closest('nav.md-nav').parentElement.querySelector('.md-nav__toggle').id"


def test_navigation_links_open_their_pages(browser: Any, built_sites: Any) -> None:
    """Click links of the navigation (on a desktop-sized screen), every other one from top
    to bottom: each opens a page with one heading, where the same link is marked as the
    current page. (Where every link leads is checked above, for every page.)"""
    site = built_sites("primary").site_dir
    links = '.md-nav--primary a.md-nav__link[href]:not([href^="#"])'
    with (
        visitor(browser, site, viewport={"width": 1280, "height": 900}) as (v, page),
        v.recording("navigation") as record,
    ):
        page.goto(v.base, wait_until="load")
        count = page.locator(links).count()
        assert count == len(site_paths(site)) - 1  # every page but the 404 page
        for i in range(0, count, 2):  # the same links, in the same order, on every page
            assert page.locator(links).count() == count, page.url
            link = page.locator(links).nth(i)
            if not link.is_visible():  # in a closed sub-menu (the policy's parts): open it
                page.locator(f"label.md-nav__link[for='{link.evaluate(OPEN_MENU)}']").click()
            title = link.inner_text().strip()
            link.click()
            page.wait_for_load_state("load")
            assert page.locator("article h1").count() == 1, page.url
            active = page.locator(f"{links}.md-nav__link--active").first.text_content()
            assert active and active.strip() == title, page.url
            if page.locator(".md-sidebar--primary[hidden]").count():
                page.go_back(wait_until="load")  # a pupils' page hides the navigation
    assert record.problems == []


def test_hostile_values_are_text_in_the_browser(browser: Any, hostile_site: Any) -> None:
    from conftest import HOSTILE_CHANGES

    school = HOSTILE_CHANGES["school"]
    pages = visit_all(browser, hostile_site.site_dir)
    assert {p: v.problems for p, v in pages.items() if v.problems} == {}  # no alert() dialog
    for path, v in pages.items():
        assert school["name"] in v.text, path
        assert school["short_name"] in v.text, path
        assert "alert(" not in v.script_text, path
    dsl = HOSTILE_CHANGES["people"]["dsl"]["name"]
    assert dsl in pages["rules/ks2/"].text
    assert HOSTILE_CHANGES["phones"]["pupils"]["handed_to"] in pages["rules/ks2/"].text


def test_visitor_notices_problems(browser: Any, tmp_path: Path) -> None:
    """The checks above would catch a broken script, a missing file and another host."""
    (tmp_path / "index.html").write_text(
        "<!doctype html><title>t</title><h1>Broken</h1>"
        "<img src='missing.png' alt=''>"
        "<script src='https://cdn.example.com/x.js'></script>"
        "<script>nosuchfunction(); </script>",
        encoding="utf-8",
    )
    (tmp_path / "alert.html").write_text(
        "<!doctype html><title>t</title><p>no heading</p><script>alert(1)</script>",
        encoding="utf-8",
    )
    pages = visit_all(browser, tmp_path)
    problems = "\n".join(pages[""].problems)
    assert "HTTP 404" in problems and "missing.png" in problems
    assert "request to another host: https://cdn.example.com/x.js" in problems
    assert "nosuchfunction" in problems
    assert pages[""].h1 == ["Broken"]
    assert pages["alert.html"].h1 == []
    assert any("script dialog" in p for p in pages["alert.html"].problems)


def test_a_long_school_name_is_not_cut_in_the_phone_header(browser: Any, built_sites: Any) -> None:
    """The infant sample has no short name: "Little Acorns Infant School online safety"
    was cut to "Little Acorns Infant Sch..." at 390 px. It may take two lines there."""
    site = built_sites("infant_minimal").site_dir
    with visitor(browser, site, viewport={"width": 390, "height": 800}) as (v, page):
        page.goto(v.base, wait_until="load")
        name = page.locator(".md-header__topic .md-ellipsis").first
        assert name.inner_text().strip() == "Little Acorns Infant School online safety"
        cut = name.evaluate("e => e.scrollWidth > e.clientWidth || e.scrollHeight > e.clientHeight")
        assert not cut
