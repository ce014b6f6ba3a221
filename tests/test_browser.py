"""The built sites in a real browser: Debian's Chromium, driven by Playwright.

Every page is served from 127.0.0.1 and must load with no console error, no failed request,
no request to any other host and no script dialog, and must have a heading.
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from conftest import SCHOOL_NAMES
from helpers import html_pages

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update"]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"{CHROMIUM} is missing: install Debian's chromium (make test-system-deps)")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (base signature)
        pass


@contextmanager
def serve(site: Path) -> Iterator[str]:
    """Serve ``site`` on 127.0.0.1 at a free port; yield its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Visit:
    """What happened while one page loaded."""

    url: str
    problems: list[str] = field(default_factory=list)
    h1: list[str] = field(default_factory=list)
    text: str = ""
    script_text: str = ""


@dataclass
class Visitor:
    """One browser context for one served site; records everything a page does."""

    context: Any
    base: str
    current: Visit | None = None
    in_flight: set[Any] = field(default_factory=set)

    def _note(self, problem: str) -> None:
        if self.current is not None:
            self.current.problems.append(problem)

    def route(self, route: Any) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and parts.netloc != urlsplit(self.base).netloc:
            self._note(f"request to another host: {url}")
            route.abort()
        else:
            route.continue_()

    def watch(self, page: Any) -> None:
        page.on("console", lambda m: m.type == "error" and self._note(f"console: {m.text}"))
        page.on("pageerror", lambda e: self._note(f"page error: {e}"))
        page.on("request", lambda r: self.in_flight.add(r))
        page.on("requestfinished", lambda r: self.in_flight.discard(r))

        def failed(request: Any) -> None:
            self.in_flight.discard(request)
            self._note(f"failed: {request.url} ({request.failure})")

        page.on("requestfailed", failed)
        page.on("response", lambda r: r.status >= 400 and self._note(f"HTTP {r.status}: {r.url}"))

        def dialog(d: Any) -> None:
            self._note(f"script dialog: {d.type} {d.message!r}")
            d.dismiss()

        page.on("dialog", dialog)

    def settle(self, page: Any, step_ms: int = 50, limit_ms: int = 15_000) -> None:
        """Wait until no request has been in flight for two steps (the search worker fetches
        its index after the load event). Like Playwright's networkidle, but 100 ms, not 500."""
        quiet = waited = 0
        while quiet < 2:
            page.wait_for_timeout(step_ms)
            waited += step_ms
            quiet = 0 if self.in_flight else quiet + 1
            if waited >= limit_ms:
                self._note(f"still loading after {limit_ms} ms: "
                           f"{sorted(r.url for r in self.in_flight)}")
                return

    def visit(self, page: Any, path: str) -> Visit:
        self.current = Visit(self.base + path)
        page.goto(self.current.url, wait_until="load")
        self.settle(page)
        self.current.h1 = [t.strip() for t in page.locator("h1").all_inner_texts()]
        self.current.text = page.evaluate("document.body.innerText")
        self.current.script_text = page.evaluate(
            "Array.from(document.scripts).map(s => s.text).join('\\n')")
        visit, self.current = self.current, None
        return visit


@contextmanager
def visitor(browser: Any, site: Path) -> Iterator[tuple[Visitor, Any]]:
    with serve(site) as base:
        context = browser.new_context()
        v = Visitor(context, base)
        context.route("**/*", v.route)
        page = context.new_page()
        v.watch(page)
        try:
            yield v, page
        finally:
            context.close()


def site_paths(site: Path) -> list[str]:
    """URL path of every page: 'index.html' as '', 'rules/ks1/index.html' as 'rules/ks1/'."""
    paths = []
    for page in html_pages(site):
        rel = page.relative_to(site).as_posix()
        paths.append(rel.removesuffix("index.html"))
    return paths


def visit_all(browser: Any, site: Path) -> dict[str, Visit]:
    with visitor(browser, site) as (v, page):
        return {path: v.visit(page, path) for path in site_paths(site)}


@pytest.fixture(scope="module")
def visits(browser: Any, built_sites: Any) -> Any:
    cache: dict[str, dict[str, Visit]] = {}

    def get(school: str) -> dict[str, Visit]:
        if school not in cache:
            cache[school] = visit_all(browser, built_sites(school).site_dir)
        return cache[school]

    return get


@pytest.mark.parametrize("school", SCHOOL_NAMES)
def test_every_page_loads_cleanly_with_a_heading(visits: Any, school: str) -> None:
    pages = visits(school)
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
def test_names_read_exactly_in_the_browser(visits: Any, school: str, path: str,
                                           name: str) -> None:
    assert name in visits(school)[path].text


def test_hostile_values_are_text_in_the_browser(browser: Any, hostile_site: Any) -> None:
    from conftest import HOSTILE_CHANGES

    school = HOSTILE_CHANGES["school"]
    pages = visit_all(browser, hostile_site.site_dir)
    assert {p: v.problems for p, v in pages.items() if v.problems} == {}   # no alert() dialog
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
        "<script>nosuchfunction(); </script>", encoding="utf-8")
    (tmp_path / "alert.html").write_text("<!doctype html><title>t</title><p>no heading</p>"
                                         "<script>alert(1)</script>", encoding="utf-8")
    pages = visit_all(browser, tmp_path)
    problems = "\n".join(pages[""].problems)
    assert "HTTP 404" in problems and "missing.png" in problems
    assert "request to another host: https://cdn.example.com/x.js" in problems
    assert "nosuchfunction" in problems
    assert pages[""].h1 == ["Broken"]
    assert pages["alert.html"].h1 == []
    assert any("script dialog" in p for p in pages["alert.html"].problems)
