"""A policy is a draft until governors approve it: review.status: draft, or a
review.approved_on after the build date ("today": ESAFETY_TODAY in tests). A draft says so
on every web page and across every PDF page, shows its version as a draft and never says
"approved"; `esafety check` says so and `--strict` fails. Once the day comes, or the status
says approved, the marks go with no other edit, PDFs from the cache included."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import docx
import pypdf
import pytest
from helpers import parse_html

from generator.build import build
from generator.cli import main
from generator.compose import compose
from generator.config import load_config
from generator.pdf import PrintJob

TODAY = "2026-12-03"
MEETING = "2027-09-29"  # the governors' meeting that is to approve the new version
APPROVED_DATE = re.compile(
    r"\bapproved( on)?:? *\d{1,2} (January|February|March|April|May|June|July|August|"
    r"September|October|November|December) \d{4}",
    re.I,
)
MARK = "draft for approval"


def article(page: Path) -> str:
    found = re.findall(r"<article\b.*?</article>", page.read_text(encoding="utf-8"), re.S)
    assert len(found) == 1, page
    return " ".join(parse_html(found[0]).text.split())


def whole_page(page: Path) -> str:
    return " ".join(parse_html(page).text.split())


def pdf_pages(pdf: Path) -> list[str]:
    return [" ".join((p.extract_text() or "").split()) for p in pypdf.PdfReader(pdf).pages]


def site_pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("index.html") if not p.parent.name.startswith("404"))


def assert_draft(site: Path) -> None:
    for page in site_pages(site):
        text = whole_page(page)
        assert MARK in article(page).lower(), f"{page}: no draft banner"
        assert not APPROVED_DATE.search(text), f"{page}: {APPROVED_DATE.search(text)}"
    pdfs = sorted((site / "downloads").glob("*.pdf"))
    assert pdfs
    for pdf in pdfs:
        for number, text in enumerate(pdf_pages(pdf), start=1):
            assert MARK in text.lower(), f"{pdf.name} page {number}: no draft mark"
            assert not APPROVED_DATE.search(text), f"{pdf.name}: {APPROVED_DATE.search(text)}"
    policy = whole_page(site / "policy" / "index.html")
    assert "(draft)" in policy


def assert_approved(site: Path, on: str) -> None:
    for page in site_pages(site):
        assert MARK not in whole_page(page).lower(), page
    for pdf in sorted((site / "downloads").glob("*.pdf")):
        assert not any(MARK in t.lower() for t in pdf_pages(pdf)), pdf.name
    assert f"approved {on}" in whole_page(site / "index.html")


@pytest.fixture
def today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ESAFETY_TODAY", TODAY)


def test_a_future_approval_date_is_a_draft_until_that_day(
    make_school: Any, monkeypatch: pytest.MonkeyPatch, today: None
) -> None:
    config = make_school({"review": {"approved_on": MEETING}})
    site = config.parent / "site"
    build(config, site)
    assert_draft(site)
    # The meeting has happened: the same config, built again into the same folder (so
    # the PDF cache is asked for every PDF), is approved everywhere.
    monkeypatch.setenv("ESAFETY_TODAY", MEETING)
    build(config, site)
    assert_approved(site, "29 September 2027")


def test_status_draft_marks_a_past_date_too(make_school: Any, today: None) -> None:
    """The same marks as a future date (whose build the test above reads back): on every
    page's Markdown and in every PDF's print HTML."""
    config = make_school({"review": {"status": "draft"}})
    pack = compose(load_config(config), config.parent)
    assert pack.draft
    for page in pack.pages:
        assert MARK in page.markdown.lower(), page.path
    for doc in pack.prints:
        html = PrintJob(pack, doc).html()
        assert MARK in html.lower(), doc.filename
        assert not APPROVED_DATE.search(html), doc.filename


def test_check_says_it_is_a_draft_and_strict_fails(
    make_school: Any, today: None, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_school({"review": {"approved_on": MEETING}})
    assert main(["check", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert (
        "review.approved_on: version 2026.1 goes to governors for approval on 29 September 2027"
        in out
    )
    assert "Draft for approval" in out
    assert main(["check", "--strict", "--config", str(config)]) == 1
    capsys.readouterr()
    approved = make_school({"review": {"status": "approved"}})
    main(["check", "--config", str(approved)])
    assert "Draft for approval" not in capsys.readouterr().out


def test_the_governors_papers_for_a_review_never_call_it_approved(
    make_school: Any, today: None
) -> None:
    """changes.pdf and the Word copy, the papers sent for the meeting, show the new version
    as a draft for approval, never as approved, until the meeting's day."""
    config = make_school()
    assert main(["review", "-f", str(config), "--version", "2027.1", "--approved-on", MEETING]) == 0
    site = build(config).site_dir
    changes = " ".join(pdf_pages(site / "downloads" / "changes.pdf"))
    assert "the draft of version 2027.1, for approval by the Full Governing Board on 29 " in changes
    approvals = [m.group() for m in APPROVED_DATE.finditer(changes)]
    assert approvals == ["approved on 6 October 2026"], approvals  # the version compared with
    assert "2027.1 (draft) draft for approval" in changes  # its row in the version history
    word = docx.Document(str(site / "downloads" / "policy.docx"))
    cover = [[cell.text for cell in row.cells] for row in word.tables[0].rows]
    status = "draft for approval by the Full Governing Board on 29 September 2027"
    assert ["Version", "2027.1 (draft)"] in cover and ["Status", status] in cover, cover
    assert not [row for row in cover if row[0].startswith("Approved")], cover
    assert "version 2027.1 (draft)" in word.sections[0].footer.paragraphs[0].text
