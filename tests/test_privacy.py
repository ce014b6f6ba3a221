"""Privacy of the built sites, as the privacy note promises it.

Every page of every sample school is loaded in Chromium (helpers.tour, shared with the
browser and accessibility tests) and every request it makes is recorded: none may go to
any host but the site's own. No page sets a cookie or keeps anything in the browser's
storage. The privacy note says so, in words specific to the school.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import TOURED_SCHOOLS, school_data
from helpers import (
    NEEDS_CHROMIUM,
    normalise_space,
    parse_html,
    site_paths,
    tour,
)

from generator.config import Config
from generator.markup import format_date

pytestmark = NEEDS_CHROMIUM


@pytest.mark.parametrize("school", TOURED_SCHOOLS)
def test_no_page_asks_any_other_host_for_anything(
    browser: Any, built_sites: Any, school: str
) -> None:
    site = built_sites(school).site_dir
    visited = tour(browser, site)
    assert sorted(visited.pages) == sorted(site_paths(site))
    requests = [url for v in visited.pages.values() for url in v.requests]
    assert len(requests) > 5 * len(visited.pages)  # pages, styles, scripts, search index
    elsewhere = sorted({url for url in requests if not url.startswith(visited.base)})
    assert elsewhere == []


@pytest.mark.parametrize("school", TOURED_SCHOOLS)
def test_no_cookies_and_nothing_stored_in_the_browser(
    browser: Any, built_sites: Any, school: str
) -> None:
    visited = tour(browser, built_sites(school).site_dir)
    assert visited.cookies == []
    assert {path: v.page["cookie"] for path, v in visited.pages.items() if v.page["cookie"]} == {}
    assert {path: v.page["storage"] for path, v in visited.pages.items() if v.page["storage"]} == {}


def test_the_recorder_sees_other_hosts_cookies_and_storage(browser: Any, tmp_path: Path) -> None:
    """The checks above are not blind: a page that does all three is caught."""
    (tmp_path / "index.html").write_text(
        "<!doctype html><title>t</title><h1>Tracker</h1>"
        "<img src='https://tracker.example.com/pixel.gif' alt='x'>"
        "<script>document.cookie = 'id=1; path=/'; localStorage.setItem('seen', '1');</script>",
        encoding="utf-8",
    )
    visited = tour(browser, tmp_path)
    page = visited.pages[""]
    assert "https://tracker.example.com/pixel.gif" in page.requests
    assert any("request to another host" in p for p in page.problems)
    assert page.page["cookie"] == "id=1"
    assert [c["name"] for c in visited.cookies] == ["id"]
    assert page.page["storage"] == 1


@pytest.mark.parametrize("school", TOURED_SCHOOLS)
def test_privacy_note_is_specific_and_honest(built_sites: Any, school: str) -> None:
    config = Config.model_validate(school_data(school))
    page = parse_html(built_sites(school).site_dir / "privacy" / "index.html")
    text = normalise_space(page.find("article")[0].text)
    for words in [
        "does not set any cookies",
        "no visitor statistics",
        "Google Fonts",
        "stores nothing in your browser",
        "searches it on your own device",
        "may keep routine technical logs",
        "UK General Data Protection Regulation",
        f"last reviewed on {format_date(config.review.approved_on)}",
        f"by {format_date(config.next_review)}",
        config.school.name,
    ]:
        assert words in text, words
    links = {a.attrs.get("href") for a in page.find("a")}
    if config.school.email:
        assert f"mailto:{config.school.email}" in links
    if config.school.phone:
        assert config.school.phone in text
    if config.school.website:
        assert config.school.website in links
    assert "None" not in text and "{{" not in text
