"""The governors' Word copy (downloads/policy.docx), read back with python-docx: the
policy's parts and sections as Word headings in order, real lists, tables and pictures,
the footer, no template code, same bytes, the build cache, and LibreOffice opening it."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
import subprocess
import sys
import zipfile
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import (
    HOSTILE_CHANGES,
    ROOT,
    SCHOOL_NAMES,
    deep_merge,
    school_data,
    school_path,
    write_school,
)
from docx import Document
from helpers import parse_html, pdf_text, squash

from generator import markup, word
from generator.build import build
from generator.cache import BuildCache, school_cache_dir
from generator.compose import CONTENT_DIR, compose
from generator.config import load_config
from generator.errors import BuildError

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
LISTS = ("List Bullet", "List Number")


def docx_of(site: Path) -> Any:
    return Document(str(site / "downloads" / word.WORD_FILE))


def policy_of(config_path: Path) -> dict[str, Any]:
    """The composed policy the PDF is made from (parts, sections, key people, labels)."""
    pack = compose(load_config(config_path), config_path.parent)
    doc = next(d for d in pack.prints if d.filename == word.POLICY_PDF)
    return doc.context["policy"]


def composed_html(policy: dict[str, Any]) -> str:
    fragments = [policy["key_people"], *(s for part in policy["parts"] for s in part["markdown"])]
    return "".join(str(markup.to_html(fragment)) for fragment in fragments)


def all_text(doc: Any) -> str:
    """Every word of the document: body, tables (nested too), headers and footers."""
    root = doc.element.body
    parts = ["".join(root.itertext())]
    for section in doc.sections:
        parts.append("".join(section.footer._element.itertext()))
        parts.append("".join(section.header._element.itertext()))
    return "\n".join(parts)


def styled(doc: Any, prefix: str) -> list[str]:
    return [p.text for p in doc.paragraphs if p.style.name.startswith(prefix)]


# ------------------------------------------------------------------ structure


@pytest.mark.parametrize("school", ["primary", "secondary"])
def test_headings_are_the_policys_parts_and_sections_in_order(
    built_sites: Any, school: str
) -> None:
    policy = policy_of(school_path(school))
    doc = docx_of(built_sites(school).site_dir)
    parts = [markup.to_plain_text(part["title"]) for part in policy["parts"]]
    key_people = markup.to_plain_text(policy["labels"]["key_people"])
    assert [p.text for p in doc.paragraphs if p.style.name == "Heading 1"] == [key_people, *parts]
    sections = [
        f"{s.number}. {markup.to_plain_text(s.title)}"
        for part in policy["parts"]
        for s in part["sections"]
    ]
    assert [p.text for p in doc.paragraphs if p.style.name == "Heading 2"] == sections
    # Each heading carries a bookmark, so the contents and "see section N" links work.
    names = set(doc.element.body.xpath(".//w:bookmarkStart/@w:name"))
    anchors = set(doc.element.body.xpath(".//w:hyperlink/@w:anchor"))
    assert anchors and anchors <= names
    toc = doc.element.body.xpath(".//w:instrText/text()")
    assert any(" TOC " in text for text in toc)
    assert styled(doc, "TOC 2") == sections


def test_names_the_dsl_governors_and_key_people(built_sites: Any) -> None:
    config = load_config(school_path("primary"))
    text = all_text(docx_of(built_sites("primary").site_dir))
    people = config.people
    for person in (people.dsl, people.online_safety_governor, people.headteacher):
        assert person.name in text
    assert people.chair_of_governors and people.chair_of_governors.name in text
    assert config.review.approved_by and config.review.approved_by in text


def test_every_table_list_and_chart_is_a_real_word_one(built_sites: Any) -> None:
    policy = policy_of(school_path("primary"))
    html = composed_html(policy)
    doc = docx_of(built_sites("primary").site_dir)
    # Tables: the cover's, then one per table of the composed policy, each with its header.
    headers = re.findall(r"<thead>\s*<tr>(.*?)</tr>", html, re.S)
    assert len(doc.tables) == 1 + html.count("<table")
    assert len(headers) >= 3  # key people, filtering standards, sanctions at least
    for table, header in zip(doc.tables[1:], headers, strict=True):
        cells = [parse_html(c).text.strip() for c in re.findall(r"<th>(.*?)</th>", header)]
        assert [cell.text.strip() for cell in table.rows[0].cells] == cells
        assert table.rows[0]._tr.xpath("./w:trPr/w:tblHeader")  # repeats on each page
    assert [c.text for c in doc.tables[1].rows[0].cells] == ["Role", "Name", "Contact"]
    # Lists: one Word list paragraph per item; each numbered list starts again at 1.
    items = [p for p in doc.paragraphs if p.style.name.startswith(LISTS)]
    assert len(items) == html.count("<li>")
    numbered = {
        p._p.xpath("./w:pPr/w:numPr/w:numId/@w:val")[0]
        for p in items
        if p.style.name.startswith("List Number")
    }
    assert len(numbered) == html.count("<ol>") > 0
    # Charts: a picture each, with its title and description as alternative text.
    charts = re.findall(r"<title id=\"[^\"]+\">(.*?)</title><desc id=\"[^\"]+\">(.*?)</desc>", html)
    described = doc.element.body.xpath(".//wp:docPr/@descr")
    expected = yaml.safe_load((CONTENT_DIR / "policy" / "flowcharts.yaml").read_text("utf-8"))
    assert len(charts) == len(expected["charts"]) > 0
    assert len(doc.inline_shapes) == 1 + len(charts)  # and the logo
    for title, desc in charts:
        alt = f"{parse_html(title).text}. {parse_html(desc).text}"
        assert alt in described


def test_footer_has_version_next_review_and_page_numbers(built_sites: Any) -> None:
    config = load_config(school_path("primary"))
    footer = docx_of(built_sites("primary").site_dir).sections[0].footer
    text = "".join(footer._element.itertext())
    assert config.review.version in text
    assert markup.format_date(config.next_review) in text
    fields = footer._element.xpath(".//w:fldSimple/@w:instr")
    assert [f.strip() for f in fields] == ["PAGE", "NUMPAGES"]


def test_headings_take_the_schools_colour(built_sites: Any) -> None:
    from generator.brand import make_brand

    config = load_config(school_path("secondary"))
    colour = make_brand(config.school.colour, None, Path()).strong
    doc = docx_of(built_sites("secondary").site_dir)
    for name in ("Title", "Heading 1", "Heading 2"):
        assert str(doc.styles[name].font.color.rgb) == colour[1:].upper()


@pytest.mark.parametrize("school", SCHOOL_NAMES)
def test_no_template_code_left(built_sites: Any, school: str) -> None:
    text = all_text(docx_of(built_sites(school).site_dir))
    for code in ("{{", "}}", "{%", "%}", "{#"):
        assert code not in text, school


def test_hostile_values_print_as_text(hostile_site: Any) -> None:
    doc = docx_of(hostile_site.site_dir)
    text = all_text(doc)
    assert HOSTILE_CHANGES["school"]["name"] in text
    assert HOSTILE_CHANGES["people"]["dsl"]["name"] in text
    assert HOSTILE_CHANGES["school"]["short_name"] in text  # never run as a template
    targets = [rel.target_ref for rel in doc.part.rels.values() if rel.is_external]
    assert targets and all(t.startswith(("https://", "http://", "mailto:")) for t in targets)


EXTRA_SECTION = """\
Some words with **bold**, *italic*, `code` and [a link](https://www.example.org/).

1. First step.
2. Second step, with a list inside:
    - a point
    - another point
3. Third step.

Then:

- A loose item.

    Its second paragraph.

- The next item.

> A quotation from {{ school.name }}.

| Column A | Column B |
| --- | --- |
| one | two |

Term
:   What the term means.

!!! note "Remember"
    Tell the {{ DSL }}.
"""


def test_any_section_converts_generically(make_school: Any) -> None:
    """A part and a section the tool does not ship (as another branch or a school may add),
    with every kind of Markdown the content uses, become Word's own structures."""
    config_path = make_school()
    content = config_path.parent / "overrides" / "content" / "policy"
    (content / "sections").mkdir(parents=True)
    structure = yaml.safe_load((ROOT / "content" / "policy" / "policy.yaml").read_text())
    structure["parts"].append(
        {"slug": "extra", "title": "An extra part", "sections": [{"id": "extra", "title": "More"}]}
    )
    (content / "policy.yaml").write_text(yaml.safe_dump(structure), encoding="utf-8")
    (content / "sections" / "extra.md").write_text(EXTRA_SECTION, encoding="utf-8")
    pack = compose(load_config(config_path), config_path.parent)
    doc = Document(BytesIO(word.policy_docx(pack)))
    assert styled(doc, "Heading 1")[-1] == "An extra part"
    assert styled(doc, "Heading 2")[-1].endswith(". More")
    paragraphs = doc.paragraphs
    start = max(i for i, p in enumerate(paragraphs) if p.style.name == "Heading 2")
    tail = paragraphs[start + 1 :]
    said = [(p.style.name, p.text) for p in tail if p.text]
    assert said[0] == ("Normal", "Some words with bold, italic, code and a link.")
    runs = {r.text: r for r in tail[0].runs}
    assert runs["bold"].bold and runs["italic"].italic
    assert said[1:5] == [
        ("List Number", "First step."),
        ("List Number", "Second step, with a list inside:"),
        ("List Bullet 2", "a point"),
        ("List Bullet 2", "another point"),
    ]
    assert said[5:11] == [
        ("List Number", "Third step."),
        ("Normal", "Then:"),
        ("List Bullet", "A loose item."),
        ("List Continue", "Its second paragraph."),
        ("List Bullet", "The next item."),
        ("Quote", f"A quotation from {load_config(config_path).school.name}."),
    ]
    assert [c.text for c in doc.tables[-1].rows[1].cells] == ["one", "two"]
    assert [text for _style, text in said[11:]] == [
        "Term",
        "What the term means.",
        "Remember",
        "Tell the DSL.",
    ]
    links = [r.target_ref for r in doc.part.rels.values() if r.is_external]
    assert "https://www.example.org/" in links


# ------------------------------------------------------------------ bytes and cache


def test_same_bytes_and_dates_from_the_approval_date(built_sites: Any) -> None:
    """Made again from nothing, in another process, the Word copy has the built one's bytes."""
    built = built_sites("primary")
    config_path = built.site_dir.parent / "school_config.yaml"
    pack = compose(load_config(config_path), config_path.parent)
    data = word.policy_docx(pack)
    assert data == (built.site_dir / "downloads" / word.WORD_FILE).read_bytes()
    approved = pack.config.review.approved_on
    with zipfile.ZipFile(BytesIO(data)) as archive:
        assert archive.namelist()[0] == "[Content_Types].xml"
        assert {info.date_time for info in archive.infolist()} == {
            (approved.year, approved.month, approved.day, 0, 0, 0)
        }
    props = Document(BytesIO(data)).core_properties
    midnight = dt.datetime(approved.year, approved.month, approved.day, tzinfo=dt.UTC)
    assert props.created == props.modified == midnight


def test_an_unchanged_policy_is_not_made_again(
    make_school: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_path = make_school()  # with the sample primary's build cache, Word copy and all

    def refuse(pack: Any, cache: Any = None) -> bytes:
        raise AssertionError("the Word copy was made again although nothing changed")

    monkeypatch.setattr(word, "policy_docx", refuse)
    site = build(config_path).site_dir
    made = (site / "downloads" / word.WORD_FILE).read_bytes()
    cache = BuildCache(school_cache_dir(config_path))
    write_school(config_path.parent, deep_merge(school_data(), {"review": {"version": "2026.2"}}))
    pack = compose(load_config(config_path), config_path.parent)
    with pytest.raises(AssertionError, match="made again"):
        word.word_copy(pack, cache)
    # A new version is made again, with the flowcharts' pictures from the cache.
    monkeypatch.undo()

    def no_drawing(svg: str) -> bytes:
        raise AssertionError("an unchanged flowchart was drawn again")

    monkeypatch.setattr(word, "_chart_png", no_drawing)
    word.word_copy(pack, cache)
    remade = next(f.data for f in pack.files if f.filename == word.WORD_FILE)
    assert remade != made
    remade_doc = Document(BytesIO(remade))
    assert (
        "2026.2" in all_text(remade_doc) and len(remade_doc.inline_shapes) == 6
    )  # 5 charts, a logo


# ------------------------------------------------------------------ offered and listed


def test_manifest_policy_page_and_downloads_page_offer_it(built_sites: Any) -> None:
    site = built_sites("primary").site_dir
    downloads = site / "downloads"
    manifest = json.loads((downloads / "manifest.json").read_text(encoding="utf-8"))
    entry = next(e for e in manifest["files"] if e["file"] == word.WORD_FILE)
    data = (downloads / word.WORD_FILE).read_bytes()
    assert entry["bytes"] == len(data) > 0
    assert entry["sha256"] == hashlib.sha256(data).hexdigest()
    assert entry["kind"] == "Word" and "governors" in entry["title"].lower()
    for page in (site / "downloads" / "index.html", site / "policy" / "index.html"):
        parsed = parse_html(page)
        links = [a for a in parsed.find("a") if a.attrs.get("href", "").endswith(word.WORD_FILE)]
        assert links and "Word copy for governors' review" in parsed.text, page


# ------------------------------------------------------------------ the reference document


def test_a_schools_own_reference_document_sets_the_look(make_school: Any) -> None:
    config_path = make_school()
    own = config_path.parent / "overrides" / "templates" / word.REFERENCE
    own.parent.mkdir(parents=True)
    reference = Document(str(ROOT / "templates" / word.REFERENCE))
    reference.styles["Normal"].font.name = "Georgia"
    reference.save(str(own))
    pack = compose(load_config(config_path), config_path.parent)
    doc = Document(BytesIO(word.policy_docx(pack)))
    assert doc.styles["Normal"].font.name == "Georgia"
    assert styled(doc, "Heading 1")  # the policy is written into it all the same

    own.write_bytes(b"not a Word document")
    with pytest.raises(BuildError, match=r"reference\.docx: the Word reference document"):
        word.policy_docx(pack)


def test_the_reference_document_is_what_the_script_makes(tmp_path: Path) -> None:
    """templates/word/reference.docx is committed; the script that made it makes it again."""
    script = ROOT / "scripts" / "make_word_reference.py"
    out = tmp_path / "reference.docx"
    subprocess.run([sys.executable, str(script), str(out)], check=True, capture_output=True)
    assert out.read_bytes() == (ROOT / "templates" / word.REFERENCE).read_bytes()


# ------------------------------------------------------------------ LibreOffice


@pytest.mark.skipif(
    SOFFICE is None,
    reason="LibreOffice is not installed (about 260 MB, so not among the test packages): "
    "make libreoffice installs it",
)
def test_libreoffice_opens_it_and_prints_the_whole_policy(built_sites: Any, tmp_path: Path) -> None:
    source = built_sites("primary").site_dir / "downloads" / word.WORD_FILE
    profile = (tmp_path / "profile").as_uri()
    subprocess.run(
        [SOFFICE, f"-env:UserInstallation={profile}", "--headless", "--norestore",
         "--convert-to", "pdf", "--outdir", str(tmp_path), str(source)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    printed = tmp_path / "policy.pdf"
    assert printed.is_file()
    text = squash(pdf_text(printed))
    policy = policy_of(school_path("primary"))
    for part in policy["parts"]:
        for section in part["sections"]:
            assert squash(markup.to_plain_text(section.title)) in text
    assert squash("Page 2 of") in text
