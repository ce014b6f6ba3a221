"""The site for its three audiences: help one tap away, ways in by audience, pages made
for children, flowcharts that read on a phone, a calendar of what is still to come."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import yaml
from conftest import school_path
from helpers import parse_html

from generator import flowcharts
from generator.compose import CONTENT_DIR, compose
from generator.config import load_config
from generator.errors import BuildError
from generator.markup import tel
from generator.site import mkdocs_settings

NATIONAL_LINES = {"999", "0800 1111", "0808 800 5000"}
CEOP = "https://www.ceop.police.uk/ceop-reporting/"
FIRST_IN_CONTENT = re.compile(r"</h1>\s*<(\w+)([^>]*)>")
SVG_TEXT = re.compile(
    r'<text x="([\d.]+)" y="[\d.]+" text-anchor="(\w+)"'
    r'[^>]*?(?:font-size="([\d.]+)")?[^>]*>([^<]*)<'
)
TEL = re.compile(r'<a href="tel:([^"]*)">([^<]*)</a>')


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


@pytest.mark.parametrize(
    ("number", "dialled"),
    [
        ("01632 960412", "01632960412"),
        ("+44 (0)1632 960412", "+441632960412"),
        ("(01632) 960412 ext. 2", "01632960412"),
        ("999", "999"),
    ],
)
def test_tel_dials_the_number_shown(number: str, dialled: str) -> None:
    assert tel(number) == f'<a href="tel:{dialled}">{number}</a>'


def test_tel_prints_text_that_is_not_a_number_as_text() -> None:
    assert tel("ask the office") == "ask the office"
    assert "<b>" not in tel("<b>0800</b>") and "href" not in tel("<b>0800</b>")
    assert tel(None) == ""


@pytest.mark.parametrize("school", ["primary", "infant_minimal"])
@pytest.mark.parametrize("page", ["index.html", "parents/index.html"])
def test_worried_box_comes_first_with_tap_to_call_numbers(
    built_sites: Any, school: str, page: str
) -> None:
    html = (built_sites(school).site_dir / page).read_text(encoding="utf-8")
    tag, attrs = FIRST_IN_CONTENT.search(html).groups()
    assert tag == "aside" and 'class="esafety-worried"' in attrs
    box = html[html.index('class="esafety-worried"') : html.index("</aside>")]
    assert "Worried about a child?" in box
    calls = TEL.findall(box)
    for href, shown in calls:
        assert href == digits(shown), shown  # what is dialled is what is shown
    shown = {text.replace("\u00a0", " ") for _, text in calls}  # no-break spaces
    assert shown >= NATIONAL_LINES
    phone = load_config(school_path(school)).school.phone
    assert (phone in shown) if phone else shown == NATIONAL_LINES
    assert f'href="{CEOP}"' in box


def test_parents_page_puts_reporting_near_the_top(built_sites: Any) -> None:
    text = parse_html(built_sites("primary").site_dir / "parents" / "index.html").text
    headings = ["How to report a worry", "Who to talk to at school", "What your child learns"]
    places = [text.index(h) for h in headings]
    assert places == sorted(places)
    assert text.index("How to report a worry") < text.index("Setting up parental controls")


def test_pupil_pages_hide_the_adult_navigation_and_contents(built_sites: Any) -> None:
    site = built_sites("primary").site_dir
    for page in ("rules/ks1", "rules/ks2", "smart"):
        html = (site / page / "index.html").read_text(encoding="utf-8")
        sidebars = re.findall(r'<div class="md-sidebar md-sidebar--(\w+)"[^>]*?( hidden)?>', html)
        assert sidebars == [("primary", " hidden"), ("secondary", " hidden")], page
        assert 'class="esafety-pupil"' in html
    fonts = site / "assets" / "fonts"
    assert {p.name for p in fonts.iterdir()} == {"Andika-Regular.ttf", "Andika-Bold.ttf", "OFL.txt"}
    home = (site / "index.html").read_text(encoding="utf-8")
    assert not re.search(r'<div class="md-sidebar md-sidebar--primary[^>]*hidden', home)


def test_navigation_is_grouped_by_audience(make_school: Any) -> None:
    path = make_school()
    pack = compose(load_config(path), path.parent)
    nav = mkdocs_settings(pack)["nav"]
    assert [next(iter(entry)) for entry in nav] == [
        "Home",
        "Parents and carers",
        "Pupils",
        "Staff and governors",
        "About this site",
    ]
    groups = {next(iter(e)): next(iter(e.values())) for e in nav}
    assert groups["Parents and carers"][0] == {"Help and advice": "parents.md"}
    pupils = [next(iter(e.values())) for e in groups["Pupils"]]
    assert pupils[:3] == ["rules/ks1.md", "rules/ks2.md", "smart.md"]
    policy = groups["Staff and governors"][0]["Online Safety Policy"]
    assert all(next(iter(e.values())).startswith("policy/") for e in policy)
    listed = re.findall(r"[\w/-]+\.md", yaml.safe_dump(nav))
    assert sorted(listed) == sorted(page.path for page in pack.pages)  # each page once


def test_a_page_no_audience_lists_still_reaches_the_navigation(make_school: Any) -> None:
    path = make_school()
    override = path.parent / "overrides" / "content" / "site.yaml"
    override.parent.mkdir(parents=True)
    names = yaml.safe_load((CONTENT_DIR / "site.yaml").read_text(encoding="utf-8"))
    names["audiences"]["about"]["pages"] = ["accessibility.md"]
    override.write_text(yaml.safe_dump(names), encoding="utf-8")
    pack = compose(load_config(path), path.parent)
    nav = mkdocs_settings(pack)["nav"]
    assert nav[-1] == {"About this site": [{"Privacy": "privacy.md"}]}


def test_a_group_without_a_name_is_a_clear_error(make_school: Any) -> None:
    path = make_school()
    override = path.parent / "overrides" / "content" / "site.yaml"
    override.parent.mkdir(parents=True)
    names = yaml.safe_load((CONTENT_DIR / "site.yaml").read_text(encoding="utf-8"))
    del names["audiences"]["parents"]["group"]
    override.write_text(yaml.safe_dump(names), encoding="utf-8")
    with pytest.raises(BuildError, match=r"^content/site.yaml: audiences.parents.group: missing$"):
        compose(load_config(path), path.parent)


def test_home_page_has_a_way_in_for_each_audience(built_sites: Any) -> None:
    html = (built_sites("primary").site_dir / "index.html").read_text(encoding="utf-8")
    ways = re.findall(r'<section class="esafety-way">\s*<h2 id="([\w-]+)"', html)
    assert ways == ["for-parents", "for-pupils", "for-staff"]
    assert html.index("esafety-worried") < html.index("esafety-way")


def test_calendar_page_starts_today(make_school: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    path = make_school()
    monkeypatch.setenv("ESAFETY_TODAY", "2027-03-01")
    pack = compose(load_config(path), path.parent)
    page = next(p for p in pack.pages if p.path == "calendar.md").markdown
    rows = re.findall(r"^\| (\d{1,2} \w+ \d{4})", page, re.MULTILINE)
    dates = [dt.datetime.strptime(row, "%d %B %Y").date() for row in rows]
    assert dates and min(dates) >= dt.date(2027, 3, 1)
    ics = next(f for f in pack.files if f.filename == "calendar.ics").data.decode()
    assert "DTSTART;VALUE=DATE:2027020" in ics  # Safer Internet Day 2027 stays in the file


def test_vertical_flowchart_fits_a_phone_column() -> None:
    chart = flowcharts.Chart(
        "t",
        "A concern",
        "What staff do.",
        (
            flowcharts.Step("A pupil tells you something.", "start"),
            flowcharts.Step(
                "Is the pupil in immediate danger?",
                "decision",
                flowcharts.Branch("Yes", "Call 999, then tell the DSL.", rejoin=True),
                "No",
            ),
            flowcharts.Step("Tell the DSL the same day.", "end"),
        ),
    )
    svg = flowcharts.draw_vertical(chart, flowcharts.Colours("#245c3a", "#e9efeb"))
    assert f'width="{flowcharts.V_WIDTH}"' in svg and 'role="img"' in svg
    for x, anchor, size, text in re.findall(SVG_TEXT, svg):
        width = flowcharts.text_width(text, float(size or flowcharts.FONT_SIZE), bold=True)
        left = float(x) - (width / 2 if anchor == "middle" else 0)
        assert left >= 0 and left + width <= flowcharts.V_WIDTH, text
    for words in ("Call 999, then tell the DSL.", "Yes", "No", "Tell the DSL the same day."):
        assert words in svg


@pytest.mark.parametrize("school", ["primary", "secondary"])
def test_a_broken_link_leads_home_and_to_help(built_sites: Any, school: str) -> None:
    """The theme's 404 page said only "404 - Not found": ours says what happened, links
    home as the header's logo does, and says who to call about a worried child."""
    html = (built_sites(school).site_dir / "404.html").read_text(encoding="utf-8")
    config = load_config(school_path(school))
    assert "404 - Not found" not in html and "Sorry, this page is not here" in html
    logo = re.search(r'<a href="([^"]*)"[^>]*class="md-header__button md-logo"', html)
    assert logo and f'<a href="{logo.group(1)}">Go to the ' in html
    box = html[html.index('class="esafety-worried"') : html.index("</aside>")]
    shown = {text for _, text in TEL.findall(box)}
    assert {"999", "0808 800 5000", config.school.phone} <= shown
    assert config.people.dsl.name in box.replace("&#x27;", "'")
