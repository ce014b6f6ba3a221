"""Accessibility of the built sites: WCAG 2.2 AA as far as a machine can tell.

axe-core (bundled with axe-playwright-python, so offline) checks every page of several
varied schools against the WCAG 2.0, 2.1 and 2.2 A and AA rules, once per page. Keyboard
use is checked by pressing keys as a person would: the skip link, a visible focus on every
element the Tab key reaches (on a desktop and a phone-sized screen), and the small-screen
menu. Every picture has a text alternative, pages reflow at 320px, and the accessibility
statement says what it must, for each school.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import SCHOOL_NAMES, TOURED_SCHOOLS, school_data
from helpers import (
    NEEDS_CHROMIUM,
    NO_MOTION,
    axe_summary,
    normalise_space,
    parse_html,
    run_axe,
    serve,
    site_paths,
    tour,
    visitor,
)

from generator.brand import contrast
from generator.build import build
from generator.compose import compose
from generator.config import Config
from generator.markup import format_date
from generator.site import zensical_command

pytestmark = NEEDS_CHROMIUM

# axe on every page of the sample primary (green, with a logo; about a minute), and on each
# kind of page of a Welsh school in bright red. Every other check here runs on the sample
# schools toured in Chromium (conftest.TOURED_SCHOOLS).
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def tours(browser: Any, built_sites: Any) -> Any:
    return lambda school, axe=False: tour(browser, built_sites(school).site_dir, axe=axe)


# ---------------------------------------------------------------- axe-core


def test_no_axe_violations_on_any_page(tours: Any) -> None:
    pages = tours("primary", axe=True).pages
    assert len(pages) >= 20
    found = {path: axe_summary(v.axe) for path, v in pages.items() if v.axe}
    assert found == {}


@pytest.mark.parametrize("path", ["", "parents/", "rules/ks2/", "policy/", "policy/incidents/"])
def test_no_axe_violations_in_a_school_in_bright_red(
    browser: Any, built_sites: Any, path: str
) -> None:
    """A Welsh school's red (#c8102e, darkened for white text) on each kind of page."""
    with visitor(browser, built_sites("welsh_middle").site_dir) as (v, page):
        assert axe_summary(v.visit(page, path, axe=True).axe) == []


def test_no_axe_violations_in_search_results(browser: Any, built_sites: Any) -> None:
    """The search box open, with results and highlighted words, on a phone and a desktop."""
    site = built_sites("secondary").site_dir
    for viewport in (DESKTOP, PHONE):
        with visitor(browser, site, viewport=viewport) as (v, page):
            page.goto(v.base, wait_until="load")
            page.locator(".md-search__input").focus()
            page.keyboard.type("phone")
            page.locator(".md-search-result__item").first.wait_for(state="visible")
            page.add_style_tag(content=NO_MOTION)
            assert axe_summary(run_axe(page)) == [], viewport


def test_axe_is_not_blind(browser: Any, tmp_path: Path) -> None:
    """The same axe run reports the kinds of problem it is there to catch."""
    (tmp_path / "index.html").write_text(
        "<!doctype html><html><head><title>t</title></head><body><main><h1>Bad</h1>"
        '<p style="color:#aaa">pale text</p><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
        '<a href="x"></a></main></body></html>',
        encoding="utf-8",
    )
    with serve(tmp_path) as base:
        page = browser.new_page()
        page.goto(base)
        rules = {v["id"] for v in run_axe(page)}
        page.close()
    assert {"color-contrast", "image-alt", "link-name", "html-has-lang"} <= rules


# ---------------------------------------------------------------- text alternatives


@pytest.mark.parametrize("school", TOURED_SCHOOLS)
def test_every_picture_has_a_text_alternative(tours: Any, school: str) -> None:
    """Every <img> has alt; every inline <svg> is hidden from screen readers or is a named
    image (role=img with a <title>). The theme's own icons sit inside its named buttons
    and links, and none of them claims to be an image."""
    pages = tours(school).pages
    for path, v in pages.items():
        assert v.page["imgs_without_alt"] == [], path
        assert v.page["svgs_without_text"] == [], path
        assert v.page["theme_svgs_named_as_images"] == 0, path


def test_flowcharts_are_named_images_with_the_steps_in_words(built_sites: Any) -> None:
    page = parse_html(built_sites("primary").site_dir / "policy" / "incidents" / "index.html")
    charts = page.find("svg", class_="esafety-flowchart")
    assert len(charts) >= 3
    titles = {e.attrs["id"]: e.text for e in page.find("title") if "id" in e.attrs}
    for chart in charts:
        assert chart.attrs["role"] == "img"
        assert titles[chart.attrs["aria-labelledby"]].strip()
    assert len(page.find("div", class_="esafety-words")) == len(charts)


# ---------------------------------------------------------------- keyboard

# Where the keyboard focus is, and whether a person can see it: on screen, not covered,
# not transparent, and its outline and its shadow ring with the colours behind them.
FOCUS_FACTS = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const s = getComputedStyle(e), r = e.getBoundingClientRect();
  let opacity = 1;
  for (let n = e; n; n = n.parentElement) opacity *= parseFloat(getComputedStyle(n).opacity);
  const rgba = c => {
    const m = c.match(/[\\d.]+/g).map(Number);
    return [m[0], m[1], m[2], m.length > 3 ? m[3] : 1];
  };
  const behind = start => {          // the colour showing through at ``start``
    const layers = [];
    for (let n = start; n; n = n.parentElement) {
      const c = rgba(getComputedStyle(n).backgroundColor);
      if (c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let colour = [255, 255, 255];
    for (const c of layers.reverse()) colour = colour.map((v, i) => c[i] * c[3] + v * (1 - c[3]));
    return colour;
  };
  const shadow = s.boxShadow === 'none' ? null : s.boxShadow.split(/,(?![^(]*\\))/)[0];
  const cx = Math.min(Math.max(r.left + r.width / 2, 0), innerWidth - 1);
  const cy = Math.min(Math.max(r.top + r.height / 2, 0), innerHeight - 1);
  const top = document.elementFromPoint(cx, cy);
  return {
    what: e.tagName + '.' + e.className + ' ' + (e.getAttribute('href') || '') + ' '
          + (e.innerText || '').trim().slice(0, 40),
    in_article: !!e.closest('article'),
    in_drawer: !!e.closest('.md-sidebar--primary'),
    on_screen: r.width > 0 && r.height > 0 && r.right > 0 && r.bottom > 0
               && r.left < innerWidth && r.top < innerHeight,
    uncovered: !!top && (e === top || e.contains(top) || top.contains(e)),
    shown: s.visibility === 'visible' && opacity > 0.9,
    outline: s.outlineStyle !== 'none' ? parseFloat(s.outlineWidth) : 0,
    outline_colour: rgba(s.outlineColor).slice(0, 3),
    outline_behind: behind(parseFloat(s.outlineOffset) < 0 ? e : e.parentElement),
    ring: shadow ? parseFloat(shadow.trim().split(/\\s+/).pop()) : 0,
    ring_colour: shadow ? rgba(shadow).slice(0, 3) : [0, 0, 0],
    ring_behind: behind(e.parentElement),
  };
}"""


def _hex(rgb: list[float]) -> str:
    return "#" + "".join(f"{round(c):02x}" for c in rgb)


def focus_problem(facts: dict[str, Any]) -> str | None:
    """Why a person could not see where the focus is, or None: the element must show, and
    its outline or its ring must be 2px or more with 3:1 contrast against what is behind."""
    if not (facts["on_screen"] and facts["shown"] and facts["uncovered"]):
        return "not visible"
    outline = contrast(_hex(facts["outline_colour"]), _hex(facts["outline_behind"]))
    ring = contrast(_hex(facts["ring_colour"]), _hex(facts["ring_behind"]))
    if (facts["outline"] >= 2 and outline >= 3) or (facts["ring"] >= 2 and ring >= 3):
        return None
    return f"no visible outline (outline {outline:.1f}:1, ring {ring:.1f}:1)"


def tab_through(page: Any, limit: int = 400) -> Iterator[dict[str, Any]]:
    """Press Tab until the focus leaves the page; yield what each press focused. Material
    reacts to some focus changes in script (the search box opens), so a doubtful reading
    is taken again for up to a second."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        facts = page.evaluate(FOCUS_FACTS)
        if facts is None:
            return
        for _retry in range(5):
            if not focus_problem(facts):
                break
            page.wait_for_timeout(200)
            facts = page.evaluate(FOCUS_FACTS)
        yield facts
    raise AssertionError(f"the focus never left the page after {limit} presses of Tab")


def open_page(v: Any, page: Any, path: str) -> None:
    page.goto(v.base + path, wait_until="load")
    page.add_style_tag(content=NO_MOTION)


FOCUS_PAGES = ["", "policy/incidents/", "parents/", "accessibility/"]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_keyboard_focus_is_always_visible(
    browser: Any, built_sites: Any, viewport: dict[str, int]
) -> None:
    """Tab through whole pages: every element that takes the focus is on screen, not
    covered or transparent, and outlined in a colour with 3:1 contrast against what is
    behind it (WCAG 2.4.7, 2.4.11 and 1.4.11)."""
    site = built_sites("welsh_middle").site_dir
    with visitor(browser, site, viewport=viewport) as (v, page):
        for path in FOCUS_PAGES:
            open_page(v, page, path)
            reached = list(tab_through(page))
            assert len(reached) > 20, path
            assert sum(f["in_article"] for f in reached) >= 1, path
            problems = [f"{f['what']}: {p}" for f in reached if (p := focus_problem(f))]
            assert problems == [], path


def test_skip_link_comes_first_and_moves_focus_to_the_content(
    browser: Any, built_sites: Any
) -> None:
    site = built_sites("primary").site_dir
    with visitor(browser, site, viewport=DESKTOP) as (v, page):
        for path in ["", "smart/", "policy/incidents/"]:
            open_page(v, page, path)
            page.keyboard.press("Tab")
            skip = page.evaluate(FOCUS_FACTS)
            assert skip["what"].startswith("A.md-skip"), skip
            assert "Skip to content" in skip["what"]
            assert focus_problem(skip) is None, skip
            target = page.evaluate("document.activeElement.hash")
            page.keyboard.press("Enter")
            assert page.evaluate("location.hash") == target
            assert page.evaluate(f"!!document.querySelector('article {target}')")
            page.keyboard.press("Tab")
            after = page.evaluate(FOCUS_FACTS)
            assert after["in_article"], after  # past the header and the navigation


def test_phone_menu_opens_with_the_keyboard(browser: Any, built_sites: Any) -> None:
    """On a 390px screen the navigation is a drawer. Tabbing into it slides it open with
    the focused link on screen; Enter on a link opens that page."""
    site = built_sites("secondary").site_dir
    with visitor(browser, site, viewport=PHONE) as (v, page):
        open_page(v, page, "smart/")
        drawer = page.locator(".md-sidebar--primary")
        assert drawer.bounding_box()["x"] + drawer.bounding_box()["width"] <= 0  # closed
        for facts in tab_through(page):
            if facts["in_drawer"]:
                break
        assert drawer.bounding_box()["x"] >= 0, "the drawer did not open"
        for facts in tab_through(page):
            assert facts["in_drawer"], f"left the drawer before the parents' link: {facts}"
            assert focus_problem(facts) is None, facts
            if "../parents/" in facts["what"]:
                break
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.url == v.base + "parents/"
        assert "parents and carers" in page.locator("article h1").inner_text().lower()


def test_zensical_build_keeps_contrast_and_keyboard_use(
    browser: Any, built_sites: Any, tmp_path: Path
) -> None:
    """The same project built by Zensical: axe finds nothing, and the focus stays visible
    while tabbing through a whole page, on a desktop and on a phone-sized screen (the
    site's CSS relies only on markup both engines write)."""
    if zensical_command() is None:
        pytest.skip("Zensical is not installed (make test sets up .venv-zensical)")
    config = built_sites("welsh_middle").site_dir.parent / "school_config.yaml"
    site = build(config, tmp_path / "site", engine="zensical").site_dir
    for viewport, path in ((DESKTOP, "policy/incidents/"), (PHONE, "accessibility/")):
        with visitor(browser, site, viewport=viewport) as (v, page):
            open_page(v, page, path)
            assert axe_summary(run_axe(page)) == [], path
            problems = [f"{f['what']}: {p}" for f in tab_through(page) if (p := focus_problem(f))]
            assert problems == [], path


REFLOW_PAGES = [
    "",
    "parents/",
    "policy/incidents/",
    "rules/ks3/",
    "downloads/",
    "calendar/",
    "accessibility/",
]


def test_pages_reflow_at_320_pixels(browser: Any, built_sites: Any) -> None:
    """At 320 CSS pixels wide (a 1280px screen zoomed to 400%) nothing but a data table
    scrolls sideways (WCAG 1.4.10)."""
    site = built_sites("secondary").site_dir
    with visitor(browser, site, viewport={"width": 320, "height": 640}) as (v, page):
        for path in REFLOW_PAGES:
            page.goto(v.base + path, wait_until="load")
            wide = page.evaluate("""() => [...document.querySelectorAll('article *')]
                .filter(e => e.getBoundingClientRect().right > innerWidth + 1
                             && !e.closest('.md-typeset__scrollwrap'))
                .map(e => e.tagName + '.' + e.className)""")
            assert page.evaluate("document.documentElement.scrollWidth") <= 320, path
            assert wide == [], path


def test_every_table_fits_a_phone_screen(browser: Any, built_sites: Any) -> None:
    """At 390px no table is wider than the page (nothing hidden off to the side), and
    that without cutting words: only web addresses, emails and code break anywhere."""
    site = built_sites("primary").site_dir
    with visitor(browser, site, viewport=PHONE) as (v, page):
        for path in site_paths(site):
            page.goto(v.base + path, wait_until="load")
            wide = page.evaluate("""() => [...document.querySelectorAll('.md-typeset table')]
                .filter(t => t.scrollWidth > t.parentElement.clientWidth + 1)
                .map(t => t.rows[0].textContent.trim().slice(0, 40))""")
            assert wide == [], path
            cut = page.evaluate("""() => [...document.querySelectorAll('.md-typeset td')]
                .filter(td => getComputedStyle(td).overflowWrap === 'anywhere')
                .map(td => td.textContent.trim().slice(0, 40))""")
            assert cut == [], path


# ---------------------------------------------------------------- the statement


@pytest.mark.parametrize("school", SCHOOL_NAMES)
def test_accessibility_statement_is_specific_to_the_school(built_sites: Any, school: str) -> None:
    config = Config.model_validate(school_data(school))
    page = parse_html(built_sites(school).site_dir / "accessibility" / "index.html")
    article = normalise_space(page.find("article")[0].text)
    for words in [
        "WCAG) version 2.2 at level AA",
        "partially compliant",
        "Known limitations",
        "axe-core",
        "keyboard",
        "Public Sector Bodies (Websites and Mobile Applications) (No. 2) "
        "Accessibility Regulations 2018",
        "Equality Act 2010",
        f"last reviewed on {format_date(config.review.approved_on)}",
        f"due by {format_date(config.next_review)}",
        config.school.name,
    ]:
        assert words in article, words
    mailto = [
        a.attrs["href"] for a in page.find("a") if a.attrs.get("href", "").startswith("mailto:")
    ]
    if config.school.email:
        assert f"mailto:{config.school.email}" in mailto
    if config.school.phone:
        assert config.school.phone in article
    if not (config.school.email or config.school.phone):
        assert f"speak to the school office, or to {config.people.headteacher.name}" in article
    assert "None" not in article and "{{" not in article


def test_accessibility_and_privacy_pages_are_in_the_navigation_and_on_the_home_page(
    built_sites: Any,
) -> None:
    site = built_sites("infant_minimal").site_dir
    home = parse_html(site / "index.html")
    links = {a.attrs.get("href") for a in home.find("a")}
    assert {"accessibility/", "privacy/"} <= links
    html = (site / "index.html").read_text(encoding="utf-8")
    section = html[html.index("About this site") :]
    assert section.index("accessibility/") < section.index("privacy/")


def test_statement_names_northern_irelands_law_and_enforcer(tmp_path: Path) -> None:
    data = school_data("primary")
    data["school"]["nation"] = "northern-ireland"
    pack = compose(Config.model_validate(data), tmp_path)
    words = normalise_space(next(p.markdown for p in pack.pages if p.path == "accessibility.md"))
    assert "Disability Discrimination Act 1995" in words
    assert "Equality Commission for Northern Ireland" in words
    assert "Equality Act 2010" not in words and "EHRC" not in words


# ---------------------------------------------------------------- trust index and CMS block


def test_no_axe_violations_on_the_trust_index_or_the_cms_block(
    browser: Any, built_sites: Any, tmp_path: Path
) -> None:
    """The index page of a trust's packs, and the parents' block pasted into a plain page
    (as a CMS page would hold it), at desktop and phone widths."""
    from generator.trust import write_index

    for name in ("primary", "secondary"):
        shutil.copytree(built_sites(name).site_dir / "downloads", tmp_path / name / "downloads")
    write_index(tmp_path, [tmp_path / "primary", tmp_path / "secondary"])
    block = (built_sites("primary").site_dir / "embed" / "parents.html").read_text("utf-8")
    (tmp_path / "cms.html").write_text(
        '<!doctype html><html lang="en-GB"><head><meta charset="utf-8"><title>Parents</title>'
        f"</head><body><main><h1>Parents</h1>{block}</main></body></html>",
        encoding="utf-8",
    )
    with serve(tmp_path) as base:
        for viewport in (DESKTOP, PHONE):
            page = browser.new_page(viewport=viewport)
            for path in ("", "cms.html"):
                page.goto(base + path, wait_until="load")
                assert axe_summary(run_axe(page)) == [], (path, viewport)
            page.close()
