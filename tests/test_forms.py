"""The agreements and forms, read back from built sites: which exist, their paper and
length, what they say, that they print in black and white with nothing cut off, and that
pupil agreements carry the very same rules as the rules pages (and the posters their
headlines)."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pypdf
import pytest
from conftest import ROOT, SCHOOL_NAMES, school_data, school_path
from helpers import page_fill, parse_html, pdf_text, pdf_text_in_order, squash, text_pieces

from generator.compose import Composer
from generator.config import Config, load_config
from generator.documents import forms
from generator.errors import BuildError
from generator.markup import format_date, to_plain_text

ADULT_FORMS = ("aup-parent", "aup-staff", "photo-consent")
# The policy's appendices: records the DSL keeps, printed beside the forms.
RECORDS = (
    "record-incidents",
    "record-filtering-changes",
    "record-filtering-review",
    "record-training",
)
MM = 72 / 25.4


def config_of(school: str) -> Config:
    path = school_path(school)
    return load_config(path, path.parent)


def expected_forms(config: Config) -> set[str]:
    return {f"aup-pupil-{key}" for key in config.rule_sets} | set(ADULT_FORMS)


def form_pdfs(built_sites: Any, school: str) -> dict[str, Path]:
    downloads = built_sites(school).site_dir / "downloads"
    return {
        p.stem: p
        for p in downloads.glob("*.pdf")
        if p.stem.startswith("aup-") or p.stem == "photo-consent"
    }


def article_text(path: Path) -> str:
    html = path.read_text(encoding="utf-8")
    return parse_html(html[html.index("<article") : html.index("</article>")]).text


# ------------------------------------------------------------------ which forms


@pytest.mark.parametrize("school", SCHOOL_NAMES)
def test_every_form_exists_for_the_right_key_stages(built_sites: Any, school: str) -> None:
    config, site = config_of(school), built_sites(school).site_dir
    names = expected_forms(config)
    assert set(form_pdfs(built_sites, school)) == names
    index = parse_html(site / "forms" / "index.html")
    hrefs = {a.attrs.get("href", "") for a in index.find("a")}
    for name in names:
        assert (site / "forms" / name / "index.html").is_file()
        assert f"../downloads/{name}.pdf" in hrefs
        assert any(h.rstrip("/").endswith(name) for h in hrefs if "downloads" not in h)


# ------------------------------------------------------------------ paper and words


# Records kept by hand with six or seven columns: on A4 portrait each column was about
# 25 mm, too narrow to write what happened; landscape gives them room.
LANDSCAPE = {"record-incidents", "record-filtering-changes", "record-training"}


@pytest.mark.parametrize("school", SCHOOL_NAMES)
def test_forms_are_a4_one_or_two_pages_logs_on_their_side(built_sites: Any, school: str) -> None:
    downloads = built_sites(school).site_dir / "downloads"
    records = {name: downloads / f"{name}.pdf" for name in LANDSCAPE}
    for name, path in {**form_pdfs(built_sites, school), **records}.items():
        reader = pypdf.PdfReader(path)
        assert 1 <= len(reader.pages) <= (1 if name in LANDSCAPE else 2), name
        a4 = (841.9, 595.3) if name in LANDSCAPE else (595.3, 841.9)
        for page in reader.pages:
            box = page.mediabox
            assert (round(float(box.width), 1), round(float(box.height), 1)) == a4, name


@pytest.mark.parametrize("school", SCHOOL_NAMES)
def test_forms_name_the_school_version_review_and_who_to_ask(built_sites: Any, school: str) -> None:
    config = config_of(school)
    for name, path in form_pdfs(built_sites, school).items():
        text = squash(pdf_text(path))
        for value in (
            config.school.name,
            config.review.version,
            format_date(config.next_review),
            config.people.dsl.name,
            "Questions?",
        ):
            assert squash(value) in text, (name, value)
        for label in ("signature", "date"):
            assert label in text.lower(), (name, label)


@pytest.mark.parametrize("school", SCHOOL_NAMES)
def test_each_form_has_its_own_lines_to_fill_in(built_sites: Any, school: str) -> None:
    pdfs = form_pdfs(built_sites, school)
    wanted = {
        "aup-pupil-ks1": [
            "My name",
            "My class",
            "My signature or my mark",
            "Date",
            "Parent or carer's signature",
        ],
        "aup-pupil-ks2": ["My name", "My class", "My signature", "Date"],
        "aup-pupil-ks3": ["Full name", "Class or tutor group", "Signature", "Date"],
        "aup-parent": [
            "Child's name",
            "Class",
            "Parent or carer's signature",
            "Date",
            "I give permission",
        ],
        "aup-staff": [
            "Full name",
            "Role",
            "Signature",
            "Date",
            "a governor",
            "a volunteer",
            "a visitor",
        ],
        "photo-consent": [
            "Child's name",
            "Class",
            "Parent or carer's signature",
            "Yes",
            "No",
            "Where people see them",
        ],
    }
    for name, path in pdfs.items():
        text = squash(pdf_text(path))
        for label in wanted[name]:
            assert squash(label) in text, (name, label)


@pytest.mark.parametrize("school", SCHOOL_NAMES)
def test_staff_code_names_the_people_to_report_to(built_sites: Any, school: str) -> None:
    config = config_of(school)
    text = squash(pdf_text(form_pdfs(built_sites, school)["aup-staff"]))
    people = config.people
    named = [people.dsl.name, people.headteacher.name, *(d.name for d in people.deputy_dsls)]
    if people.chair_of_governors:
        named.append(people.chair_of_governors.name)
    if people.lado:
        named.append(people.lado.name)
    for name in named:
        assert squash(name) in text, name


def test_parents_are_promised_only_what_a_dsl_can_keep(built_sites: Any) -> None:
    """A DSL may hold back from parents when telling them would put a child at risk
    (KCSIE, UKCIS), and a school can tell only what it knows of."""
    text = squash(pdf_text(form_pdfs(built_sites, "primary")["aup-parent"]))
    assert squash("unless telling you would put a child at risk") in text
    assert squash("if it knows my child has come across something harmful") in text
    staff = squash(pdf_text(form_pdfs(built_sites, "primary")["aup-staff"]))
    assert squash(config_of("primary").people.dpo.name) in staff  # breaches reach the DPO


# ------------------------------------------------------------------ one source of rules


@pytest.mark.parametrize("school", SCHOOL_NAMES)
def test_pupil_agreements_carry_the_same_rules(built_sites: Any, school: str) -> None:
    config, site = config_of(school), built_sites(school).site_dir
    composer = Composer(config, school_path(school).parent)
    for key in config.rule_sets:
        rule_set = composer.rule_set(key)
        rules = [to_plain_text(rule.text) for rule in rule_set.rules]
        form_pdf = squash(pdf_text(site / "downloads" / f"aup-pupil-{key}.pdf"))
        poster = squash(pdf_text_in_order(site / "downloads" / f"poster-{key}.pdf"))
        form_page = article_text(site / "forms" / f"aup-pupil-{key}" / "index.html")
        rules_page = article_text(site / "rules" / key / "index.html")
        for rule in rules:
            assert squash(rule) in form_pdf, rule
            assert rule in form_page and rule in rules_page, rule
        # The poster shows each rule's headline and short line (the sentence is above).
        for rule in rule_set.rules:
            for words in (rule.headline, rule.line):
                assert squash(to_plain_text(words)) in poster, words


def test_pupil_forms_use_the_composers_rule_set() -> None:
    config = Config.model_validate(school_data("primary"))
    composer = Composer(config, ROOT)
    built = {f.name: f for f in forms.all_forms(composer)}
    assert set(built) == {"aup-pupil-ks1", "aup-pupil-ks2", *ADULT_FORMS, *RECORDS}
    assert built["aup-pupil-ks2"].rule_set == composer.rule_set("ks2")
    rules_part = next(p for p in built["aup-pupil-ks2"].parts if p.style == "rules")
    assert rules_part.items == composer.rule_set("ks2").rules


# ------------------------------------------------------------------ how they print


def page_images(pdf: Path, dpi: int = 36) -> list[Any]:
    from PIL import Image

    out = subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-png", str(pdf)], capture_output=True, check=True
    ).stdout
    # pdftoppm writes one PNG after another to stdout; split on the PNG signature.
    signature = b"\x89PNG\r\n\x1a\n"
    chunks = [signature + c for c in out.split(signature) if c]
    return [Image.open(io.BytesIO(c)).convert("RGB") for c in chunks]


needs_poppler = pytest.mark.skipif(not shutil.which("pdftoppm"), reason="needs poppler-utils")


@needs_poppler
@pytest.mark.parametrize("school", SCHOOL_NAMES)
def test_nothing_is_cut_off_at_the_edges(built_sites: Any, school: str) -> None:
    """A strip inside every edge stays blank: no line, box or word runs off the paper.
    (8 mm at the sides and top; 4 mm at the bottom, under the running footer.)"""
    for name, path in [
        *form_pdfs(built_sites, school).items(),
        ("leaflet", built_sites(school).site_dir / "downloads" / "parents-leaflet.pdf"),
    ]:
        for number, image in enumerate(page_images(path), start=1):
            width, height = image.size
            paper_width = 595.28 if width < height else 841.89  # A4 portrait or landscape
            edge, foot = (round(mm * MM * width / paper_width) for mm in (8, 4))
            grey = image.convert("L")
            strips = {
                "left": (0, 0, edge, height),
                "right": (width - edge, 0, width, height),
                "top": (0, 0, width, edge),
                "bottom": (0, height - foot, width, height),
            }
            for side, box in strips.items():
                assert grey.crop(box).getextrema()[0] > 200, (name, number, side)


def most_colour(image: Any) -> int:
    """The strongest colour (max - min channel) on a page, outside the logo's corner."""
    from PIL import ImageChops

    image = image.copy()
    logo = round(40 * MM * image.size[0] / 595.28)
    image.paste((255, 255, 255), (0, 0, logo, logo))
    r, g, b = image.split()
    chroma = ImageChops.subtract(
        ImageChops.lighter(ImageChops.lighter(r, g), b),
        ImageChops.darker(ImageChops.darker(r, g), b),
    )
    return chroma.getextrema()[1]


def long_dark_rows(image: Any) -> int:
    """How many pixel rows are at least a quarter dark: lines to write on, rules, boxes."""
    from PIL import Image

    dark = image.convert("L").point(lambda v: 255 if v < 100 else 0)
    rows = dark.resize((1, dark.size[1]), Image.Resampling.BOX)
    return sum(1 for y in range(rows.size[1]) if rows.getpixel((0, y)) > 255 * 0.25)


@needs_poppler
@pytest.mark.parametrize("school", SCHOOL_NAMES)
def test_forms_print_in_black_and_white(built_sites: Any, school: str) -> None:
    """No colour outside the school's logo, and real black lines to write on."""
    for name, path in form_pdfs(built_sites, school).items():
        images = page_images(path, dpi=72)
        for image in images:
            assert most_colour(image) <= 24, f"{name}: coloured ink outside the logo"
        assert long_dark_rows(images[-1]) >= 3, f"{name}: no lines long enough to write on"
    leaflet = built_sites(school).site_dir / "downloads" / "parents-leaflet.pdf"
    assert most_colour(page_images(leaflet, dpi=72)[0]) > 24, "the colour detector is blind"


def test_a_form_with_an_unknown_style_is_refused() -> None:
    config = Config.model_validate(school_data("primary"))
    composer = Composer(config, ROOT)
    with pytest.raises(BuildError, match="unknown style 'boxes'"):
        forms.load_part(
            composer,
            {"heading": "x", "style": "boxes", "items": ["a"]},
            None,
            "content/forms/x.yaml: parts[0]",
        )


# ------------------------------------------------------------------ sizes and fill


@pytest.mark.parametrize("school", ["primary", "all_through", "infant_minimal"])
def test_ks1_agreement_is_big_enough_for_a_five_year_old(built_sites: Any, school: str) -> None:
    """The child's side (page 1, and page 2 down to the grown-up's part) is at least 16 pt,
    with a picture and a face to colour in for every rule, all on the first page, and a
    large box for the name."""
    config = config_of(school)
    pdf = built_sites(school).site_dir / "downloads" / "aup-pupil-ks1.pdf"
    rules = Composer(config, school_path(school).parent).rule_set("ks1").rules
    reader = pypdf.PdfReader(pdf)
    assert len(reader.pages) == 2
    small = [(t, round(s, 1)) for t, s, _ in text_pieces(pdf, 0) if s < 15.95]
    assert small == []
    second = text_pieces(pdf, 1)
    grown_up = next(y for t, _, y in second if "My grown-up" in t)
    assert [t for t, s, y in second if y > grown_up and s < 15.95] == []
    assert min(s for _, s, _ in second) >= 11 - 0.05  # the grown-up's part: no small print
    figures = [
        sum(
            1 for args, op in pypdf.generic.ContentStream(page.get_contents(), reader).operations
            if op == b"BDC" and args[0] == "/Figure"
        )
        for page in reader.pages
    ]  # fmt: skip
    logo = 1 if config.school.logo else 0
    # Every rule's picture and face on the first page; "If I am worried" opens the second.
    assert figures == [2 * len(rules) + logo, 1]
    text = pdf_text(pdf)
    assert "staff member" not in text  # no adult small print about staff records


@pytest.mark.parametrize("school", SCHOOL_NAMES)
def test_ks2_and_ks3_agreements_are_11_pt_and_fill_their_pages(
    built_sites: Any, school: str
) -> None:
    config = config_of(school)
    for key in ("ks2", "ks3"):
        if key not in config.rule_sets:
            continue
        pdf = built_sites(school).site_dir / "downloads" / f"aup-pupil-{key}.pdf"
        pages = len(pypdf.PdfReader(pdf).pages)
        for page in range(pages):
            small = [(t, round(s, 1)) for t, s, _ in text_pieces(pdf, page) if s < 10.95]
            assert small == [], (key, page)
            if pages > 1:
                assert page_fill(pdf, page, (13, 15)) >= 0.5, (key, page)
