"""The parents' page and the parents' leaflet, read back from built sites: contacts, key
stages, the phone rule, reporting routes, trusted links, and the leaflet's QR code."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pypdf
import pytest
import yaml
from conftest import ROOT, SCHOOL_NAMES, school_data, school_path
from helpers import parse_html, pdf_text, squash, text_pieces

from generator.compose import CONTENT_DIR
from generator.config import Config, load_config
from generator.documents import parents
from generator.errors import BuildError
from generator.qr import qr_svg

NATIONS = yaml.safe_load((CONTENT_DIR / "nations.yaml").read_text(encoding="utf-8"))

RESOURCES = yaml.safe_load((ROOT / "content" / "resources.yaml").read_text(encoding="utf-8"))
NATIONS = yaml.safe_load((ROOT / "content" / "nations.yaml").read_text(encoding="utf-8"))
RETIRED = (
    "thinkuknow.co.uk",
    "kidsmart.org.uk",
    "digizen.org",
    "teachernet.gov.uk",
    "becta.org.uk",
)
TRACKERS = ("utm_", "fbclid", "gclid", "mc_cid", "mc_eid")
# What every parent must be able to find on the page and the leaflet.
REPORTING = (
    "CEOP",
    "Report Remove",
    "Internet Watch Foundation",
    "Childline",
    "0800 1111",
    "Report Harmful Content",
    "NSPCC",
    "0808 800 5000",
    "999",
)
TRUSTED = (
    "CEOP Education",
    "Childnet",
    "UK Safer Internet Centre",
    "Internet Matters",
    "NSPCC",
    "Parent Zone",
    "Internet Watch Foundation",
    "Childline",
    "Get Safe Online",
)
A4 = (595.28, 841.89)


def config_of(school: str) -> Config:
    path = school_path(school)
    return load_config(path, path.parent)


def parents_page(built_sites: Any, school: str) -> Any:
    """The article of the parents' page (without the theme's header, navigation and footer)."""
    html = (built_sites(school).site_dir / "parents" / "index.html").read_text(encoding="utf-8")
    start, end = html.index("<article"), html.index("</article>")
    return parse_html(html[start:end])


def content_links(page: Any) -> list[str]:
    return [
        a.attrs["href"]
        for a in page.find("a")
        if a.attrs.get("href", "").startswith(("http://", "https://"))
    ]


# ------------------------------------------------------------------ the page


@pytest.mark.parametrize("school", SCHOOL_NAMES)
def test_page_names_the_dsl_and_the_school_contacts(built_sites: Any, school: str) -> None:
    config, text = config_of(school), parents_page(built_sites, school).text
    dsl = config.people.dsl
    assert dsl.name in text
    title = NATIONS[config.school.nation]["terms"]["dsl_full"]
    if dsl.role and not (dsl.role.lower() in title or dsl.role.lower().startswith("designated")):
        assert dsl.role in text  # a role that only repeats the title is not said twice
    for value in (
        dsl.email,
        config.school.phone,
        config.school.email,
        config.school.address,
    ):
        if value:
            assert value in text
    for deputy in config.people.deputy_dsls:
        assert deputy.name in text
    if config.school.website:
        assert config.school.website in content_links(parents_page(built_sites, school))


@pytest.mark.parametrize("school", SCHOOL_NAMES)
def test_page_teaches_only_the_schools_key_stages(built_sites: Any, school: str) -> None:
    """Each stage under the name its nation gives it ("P5 to P7" in Scotland)."""
    config, text = config_of(school), parents_page(built_sites, school).text
    for key, name in NATIONS[config.school.nation]["stage_names"].items():
        label = name[:1].upper() + name[1:] + ":"
        assert (label in text) == (key in config.key_stages), label


@pytest.mark.parametrize("school", SCHOOL_NAMES)
def test_page_gives_the_phone_rule_in_plain_words(built_sites: Any, school: str) -> None:
    config, text = config_of(school), parents_page(built_sites, school).text
    pupils = config.phones.pupils
    expected = {
        "not_allowed": "do not bring mobile phones",
        "handed_in": "hands it in",
        "locked_away": "locked away",
        "off_and_away": "in their bag",
        "allowed": "only at the times and in the places",
    }[pupils.rule]
    assert expected in text
    for value in (pupils.who_may_bring, pupils.exceptions, pupils.details, pupils.handed_to):
        if value:
            assert value in text


@pytest.mark.parametrize("school", SCHOOL_NAMES)
def test_page_says_how_school_keeps_children_safe(built_sites: Any, school: str) -> None:
    config, text = config_of(school), parents_page(built_sites, school).text
    for word in ("Filtering:", "Monitoring:", "Supervision:"):
        assert word in text
    for provider in (config.technology.filtering.provider, config.technology.monitoring.provider):
        if provider:
            assert provider in text


@pytest.mark.parametrize("school", SCHOOL_NAMES)
def test_page_mentions_every_reporting_route(built_sites: Any, school: str) -> None:
    text = parents_page(built_sites, school).text
    for route in REPORTING:
        assert route in text, route
    assert "parental controls" in text.lower()


@pytest.mark.parametrize("school", SCHOOL_NAMES)
def test_page_links_trusted_resources_and_the_schools_extras(built_sites: Any, school: str) -> None:
    page = parents_page(built_sites, school)
    links = content_links(page)
    trusted = [r["url"] for r in RESOURCES["resources"]]
    assert len([url for url in trusted if url in links]) >= 8
    for name in TRUSTED:
        assert name in page.text
    for extra in config_of(school).extra_resources:
        if extra.audience in ("parents", "all"):
            assert extra.url in links
            assert extra.title in page.text
    for route in RESOURCES["reporting"]:
        if "url" in route:
            assert route["url"] in links


@pytest.mark.parametrize("school", SCHOOL_NAMES)
def test_links_open_plainly_and_avoid_retired_sites(built_sites: Any, school: str) -> None:
    page = parents_page(built_sites, school)
    externals = [a for a in page.find("a") if a.attrs.get("href", "").startswith("http")]
    assert len(externals) >= 15
    for a in externals:
        href = a.attrs["href"]
        host = (urlsplit(href).hostname or "").lower()
        assert not any(host == r or host.endswith("." + r) for r in RETIRED), href
        assert not any(k.lower().startswith(TRACKERS) for k, _ in parse_qsl(urlsplit(href).query))
        assert "target" not in a.attrs and "onclick" not in a.attrs, href


def test_resources_are_data_with_a_checked_date() -> None:
    entries = RESOURCES["resources"] + RESOURCES["reporting"]
    for entry in entries:
        assert isinstance(entry["last_checked"], dt.date), entry["title"]
        assert entry["about"].strip()
        if "url" in entry:
            assert entry["url"].startswith("https://"), entry["url"]
            assert not any(r in entry["url"] for r in RETIRED)
    assert any("ceopeducation.co.uk" in e.get("url", "") for e in entries)
    assert any("reportharmfulcontent.com" in e.get("url", "") for e in entries)


def test_retired_and_tracked_links_are_refused() -> None:
    parents.check_url("https://www.childnet.com/parents-and-carers/", "here")
    with pytest.raises(BuildError, match="thinkuknow.co.uk, which has closed"):
        parents.check_url("https://www.thinkuknow.co.uk/parents/", "extra_resources[0]")
    with pytest.raises(BuildError, match="tracking parameter"):
        parents.check_url("https://example.org/?utm_source=leaflet", "extra_resources[0]")


def test_only_extras_for_parents_reach_the_page() -> None:
    data = school_data("primary")
    data["extra_resources"] = [
        {"title": "For parents", "url": "https://a.example.org/", "audience": "parents"},
        {"title": "For staff", "url": "https://b.example.org/", "audience": "staff"},
        {"title": "For all", "url": "https://c.example.org/x", "audience": "all"},
    ]
    config = Config.model_validate(data)
    assert [link.title for link in parents.school_links(config)] == ["For parents", "For all"]
    assert parents.school_links(config)[1].print_as == "c.example.org/x"


# ------------------------------------------------------------------ the page's address


@pytest.mark.parametrize(
    ("website", "expected"),
    [
        ("https://www.school.example.org", "https://www.school.example.org/online-safety/parents/"),
        ("https://school.example.org/", "https://school.example.org/online-safety/parents/"),
        (None, None),
    ],
)
def test_parents_page_url_follows_the_website(website: str | None, expected: str | None) -> None:
    data = school_data("primary")
    data.pop("publish", None)
    data["school"]["website"] = website
    assert parents.parents_page_url(Config.model_validate(data)) == expected


@pytest.mark.parametrize("website", ["https://www.school.example.org", None])
def test_parents_page_url_follows_publish_url_first(website: str | None) -> None:
    data = school_data("primary")
    data["school"]["website"] = website
    data["publish"] = {"url": "https://safety.example.org/pack"}
    assert (
        parents.parents_page_url(Config.model_validate(data))
        == "https://safety.example.org/pack/parents/"
    )


# ------------------------------------------------------------------ the leaflet


def leaflet(built_sites: Any, school: str) -> Path:
    return built_sites(school).site_dir / "downloads" / "parents-leaflet.pdf"


def decode_qr(pdf: Path, folder: Path) -> list[str]:
    """Every QR code zbarimg finds on the leaflet's pages, rendered at 150 dpi."""
    subprocess.run(["pdftoppm", "-png", "-r", "150", str(pdf), str(folder / "page")], check=True)
    found = []
    for png in sorted(folder.glob("page*.png")):
        out = subprocess.run(
            ["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(png)],
            capture_output=True,
            text=True,
        )
        found += [line for line in out.stdout.splitlines() if line]
    return found


@pytest.mark.parametrize("school", SCHOOL_NAMES)
def test_leaflet_is_a_two_sided_a4_tri_fold_with_the_essentials(
    built_sites: Any, school: str
) -> None:
    """One A4 sheet, both sides, landscape (folded in three): help numbers, the school's
    safeguarding lead and the QR code on the outside, so they show when it is folded."""
    config, path = config_of(school), leaflet(built_sites, school)
    reader = pypdf.PdfReader(path)
    assert len(reader.pages) == 2
    for page in reader.pages:
        box = page.mediabox
        assert (round(float(box.width), 1), round(float(box.height), 1)) == (841.9, 595.3)
    outside = squash(reader.pages[0].extract_text())
    for value in ("999", "0800 1111", "0808 800 5000", config.people.dsl.name):
        assert squash(value) in outside, value
    if config.school.website:
        figures = [
            args for args, op in
            pypdf.generic.ContentStream(reader.pages[0].get_contents(), reader).operations
            if op == b"BDC" and args[0] == "/Figure"
        ]  # fmt: skip
        assert figures, "the QR code is on the outside"
    smallest = min(size for _, size, _ in text_pieces(path, 1))
    assert smallest >= 9.5, f"inside text at {smallest:.1f} pt"
    text = squash(pdf_text(path))
    for value in (
        config.school.name,
        config.people.dsl.name,
        config.school.phone,
        config.school.email,
        *REPORTING,
    ):
        if value:
            assert squash(value) in text, value
    for name in TRUSTED:
        assert squash(name) in text, name


@pytest.mark.skipif(
    not (shutil.which("zbarimg") and shutil.which("pdftoppm")),
    reason="needs zbar-tools and poppler-utils",
)
@pytest.mark.parametrize("school", SCHOOL_NAMES)
def test_leaflet_qr_code_opens_the_parents_page(
    built_sites: Any, school: str, tmp_path: Path
) -> None:
    config = config_of(school)
    codes = decode_qr(leaflet(built_sites, school), tmp_path)
    if config.school.website:
        url = parents.parents_page_url(config)
        assert codes == [url]
        assert url.startswith(config.school.website.rstrip("/") + "/")
        assert url.endswith("/parents/")
    else:
        assert codes == []


def test_qr_code_is_the_same_every_time() -> None:
    url = "https://www.example.org/online-safety/parents/"
    assert qr_svg(url) == qr_svg(url)
    assert qr_svg(url).startswith(b"<svg") and b"viewBox" in qr_svg(url)


@pytest.mark.parametrize("nation", ["england", "wales", "scotland", "northern-ireland"])
def test_pages_and_forms_use_the_nations_title_for_the_safeguarding_lead(nation: str) -> None:
    from generator.compose import Composer
    from generator.documents import forms

    data = school_data("primary")
    data["school"]["nation"] = nation
    composer = Composer(Config.model_validate(data), ROOT)
    title = composer.terms["dsl_full"]
    page = parents.compose(composer).pages[0].markdown
    assert f"**{title[:1].upper()}{title[1:]}:** {data['people']['dsl']['name']}" in page
    staff = next(f for f in forms.all_forms(composer) if f.name == "aup-staff")
    reporting = next(p for p in staff.parts if p.heading == "Reporting concerns")
    assert f"the {title}, " in reporting.items[0]


@pytest.mark.parametrize("nation", ["england", "wales", "scotland", "northern-ireland"])
def test_parents_read_the_subjects_their_nation_teaches_online_safety_in(nation: str) -> None:
    """RSHE and PSHE are England's: other nations' parents read their own subjects."""
    from generator.compose import Composer
    from generator.documents import forms

    data = school_data("primary")
    data["school"]["nation"] = nation
    composer = Composer(Config.model_validate(data), ROOT)
    subjects = NATIONS[nation]["terms"]["subjects"]
    intro = str(parents.parents_info(composer)["teaching"]["intro"])
    parent_form = next(f for f in forms.all_forms(composer) if f.name == "aup-parent")
    promises = " ".join(str(item) for part in parent_form.parts for item in part.items)
    for text in (intro, promises):
        assert f"{subjects} lessons" in text
        assert ("RSHE" in text) == (nation == "england")
