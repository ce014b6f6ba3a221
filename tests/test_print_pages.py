"""The policy and the governors' report read back from their PDFs: parts that run on
without near-empty pages, a cover with the key people, names never split, and a
changes report with the counts first and no tool commands."""

from __future__ import annotations

import re
from typing import Any

import pypdf
import pytest
from conftest import school_path
from helpers import normalise_space, page_fill, pdf_text, text_pieces

from generator.compose import Composer
from generator.config import load_config
from generator.documents.policy import policy_composer
from generator.markup import to_plain_text

POLICY_MARGINS_MM = (21, 18)  # templates/print/policy.html's @page margins (top, bottom)


@pytest.mark.parametrize("school", ["primary", "secondary"])
def test_no_part_leaves_a_near_empty_page_before_it(built_sites: Any, school: str) -> None:
    """A part starts where the one before it ends, and a flowchart shares its page with its
    steps in words: every page but the cover and the last is at least 40% used (a forced
    page break per part, and charts drawn at full size, left pages of three lines)."""
    config = load_config(school_path(school))
    pdf = built_sites(school).site_dir / "downloads" / "policy.pdf"
    titles = {
        to_plain_text(part["title"])
        for part in policy_composer(Composer(config, school_path(school).parent)).parts
    }
    pages = len(pypdf.PdfReader(pdf).pages)
    starts = [
        page
        for page in range(2, pages)
        if any(text.strip() in titles and size > 18 for text, size, _ in text_pieces(pdf, page))
    ]
    assert len(starts) >= len(titles) - 1  # the first part may start on the contents' next page
    # and no page between the cover and the last (flowcharts included) is near-empty
    for page in range(1, pages - 1):
        assert page_fill(pdf, page, POLICY_MARGINS_MM) >= 0.4, f"page {page + 1} of {pages}"


@pytest.mark.parametrize("school", ["primary", "all_through"])
def test_policy_cover_names_the_school_and_its_key_people(built_sites: Any, school: str) -> None:
    config = load_config(school_path(school))
    pdf = built_sites(school).site_dir / "downloads" / "policy.pdf"
    cover = normalise_space(pypdf.PdfReader(pdf).pages[0].extract_text())
    people = config.people
    for name in (config.school.name, people.headteacher.name, people.dsl.name,
                 people.online_safety_governor.name):  # fmt: skip
        assert name in cover, name


@pytest.mark.parametrize("school", ["primary", "secondary", "welsh_middle"])
def test_names_and_postcodes_are_never_split_across_lines(built_sites: Any, school: str) -> None:
    config = load_config(school_path(school))
    text = pdf_text(built_sites(school).site_dir / "downloads" / "policy.pdf")
    lines = [line.strip() for line in text.splitlines()]
    people = config.people
    names = {p.name for p in (people.headteacher, people.dsl, *people.deputy_dsls) if p}
    for name in names:
        words = name.split()
        for cut in range(1, len(words)):
            head, tail = " ".join(words[:cut]), " ".join(words[cut:])
            for here, after in zip(lines, lines[1:], strict=False):
                assert not (here.endswith(head) and after.startswith(tail)), name
    for here, after in zip(lines, lines[1:], strict=False):  # "LE18" then "0AA"
        split = re.search(r"\b[A-Z]{1,2}[0-9][A-Z0-9]?$", here) and re.match(
            r"[0-9][A-Z]{2}\b", after
        )
        assert not split, (here, after)


def test_changes_report_is_for_governors(built_sites: Any) -> None:
    """No comparison yet in a fresh school: the report says so in plain words, with no
    command to type and no monospace type."""
    pdf = built_sites("primary").site_dir / "downloads" / "changes.pdf"
    text = pdf_text(pdf)
    assert "esafety" not in text and "review --" not in text
    assert "Version history" in text
    fonts = {
        str(font["/BaseFont"])
        for page in pypdf.PdfReader(pdf).pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert not [f for f in fonts if re.search(r"mono|courier", f, re.I)], fonts


def test_an_address_on_paper_is_never_broken_at_its_hyphen(built_sites: Any) -> None:
    """ "dsl@stmarys-" / "eastwick.example.org" reads as one word broken over two lines,
    and a parent types it wrong: on paper, addresses break after a "/" or ".", or not at all."""
    config = load_config(school_path("all_through"))
    host = config.school.website.split("//", 1)[-1].split("/", 1)[0]
    addresses = [host, config.people.dsl.email]
    assert all("-" in address for address in addresses)  # the sample has the hard case
    downloads = built_sites("all_through").site_dir / "downloads"
    for pdf in sorted(downloads.glob("*.pdf")):
        text = pdf_text(pdf)  # pdftotext joins a word broken at a line's end hyphen
        for address in addresses:
            joined = address.replace("-", "")
            assert joined not in text, (pdf.name, joined)
