"""A school's free text reads well wherever the pack prints it (property-based, Hypothesis).

Each free-text value is set where any phrase reads (a labelled line, a question and its
answer, a sentence of its own, brackets that never nest), so no phrase a school writes can
break the sentence around it: plural or singular, "all ...", with commas, brackets or a
full stop, in lower or upper case. Hypothesis writes such phrases into every free-text
field of a school whose stages have different phone rules, and every composed page,
rule and leaflet text is read back.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, SCHOOL_NAMES, SCHOOLS_DIR, school_data
from helpers import parse_html, pdf_text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.build import build
from generator.compose import as_aside, as_clause, as_sentence, compose, with_definite_article
from generator.config import Config
from generator.markup import keep_together, to_plain_text
from generator.pdf import PrintJob
from generator.site import write_project

BASE = school_data("academy_sixth_form")
PHONE_RULES = ["not_allowed", "handed_in", "locked_away", "off_and_away", "allowed"]
# Every free-text field a sentence of ours holds, as a key path into the config.
FIELDS: list[tuple[Any, ...]] = [
    ("phones", "pupils", "who_may_bring"),
    ("phones", "pupils", "handed_to"),
    ("phones", "pupils", "details"),
    ("phones", "pupils", "exceptions"),
    ("phones", "pupils", "by_stage", "ks2", "who_may_bring"),
    ("phones", "pupils", "by_stage", "ks2", "handed_to"),
    ("phones", "pupils", "by_stage", "ks2", "details"),
    ("phones", "pupils", "by_stage", "ks5", "details"),
    ("phones", "pupils", "by_stage", "ks5", "handed_to"),
    ("phones", "staff", "personal_use"),
    ("people", "headteacher", "role"),
    ("people", "dsl", "role"),
    ("people", "deputy_dsls", 0, "role"),
    ("review", "approved_by"),
    ("technology", "filtering", "provider"),
    ("technology", "monitoring", "provider"),
    ("technology", "incident_log"),
    ("technology", "generative_ai"),
]
# Sentences a value must never break.
BROKEN = {
    "a double full stop": re.compile(r"(?<!\.)\.\s*\.(?!\.)"),
    '"Only all"': re.compile(r"\bonly all\b", re.I),
    "brackets inside brackets": re.compile(r"\([^()]*\(|\)[^()]*\)(?![^(]*\()"),
    "a comma before a full stop": re.compile(r",\s*\."),
    "a full stop before a comma": re.compile(r"\.\s*,"),
    '"the the"': re.compile(r"\bthe the\b", re.I),
}
CAPITAL_AFTER_COLON = re.compile(r":\s*[A-Z]")

phrases = st.builds(
    lambda prefix, core, suffix, end, case: case(prefix + core + suffix + end),
    st.sampled_from(["", "all ", "All ", "only ", "the ", "The ", "our "]),
    st.sampled_from(
        [
            "students",
            "Year 6 pupils",
            "pupils in Years 5 and 6",
            "Sixth-form students may use phones in the study centre",
            "form tutor",
            "school office",
            "Assistant Principal (Safeguarding)",
            "governing board",
        ]
    ),
    st.sampled_from(["", ", at registration", " (with a letter from home)", ", or the office"]),
    st.sampled_from(["", ".", ". ", ",", ";"]),
    st.sampled_from(
        [lambda s: s, str.lower, str.upper, lambda s: s[:1].upper() + s[1:], str.title]
    ),
)


def with_values(values: list[str], rules: list[str]) -> Config:
    data = copy.deepcopy(BASE)
    for path, value in zip(FIELDS, values, strict=True):
        target = data
        for key in path[:-1]:
            target = target[key] if isinstance(key, int) else target.setdefault(key, {})
        target[path[-1]] = value
    by_stage = data["phones"]["pupils"]["by_stage"]
    data["phones"]["pupils"]["rule"], by_stage["ks2"]["rule"], by_stage["ks5"]["rule"] = rules
    return Config.model_validate(data)


def texts(config: Config) -> tuple[dict[str, str], list[str]]:
    """Every composed page and leaflet text, and the children's rules on their own."""
    pack = compose(config, SCHOOLS_DIR)
    found = {page.path: to_plain_text(page.markdown) for page in pack.pages}
    rules: list[str] = []
    for doc in pack.prints:
        if "ruleset" in doc.context:
            rules += [to_plain_text(rule.text) for rule in doc.context["ruleset"].rules]
        if "parents" in doc.context:
            found[doc.filename] = to_plain_text(doc.context["parents"]["phones_brief"])
    return found, rules


def broken(text: str) -> list[str]:
    out = []
    for name, pattern in BROKEN.items():
        for match in pattern.finditer(text):
            out.append(f"{name}: ...{text[max(0, match.start() - 60) : match.end() + 40]}...")
    return out


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=st.lists(phrases, min_size=len(FIELDS), max_size=len(FIELDS)),
    rules=st.lists(st.sampled_from(PHONE_RULES), min_size=3, max_size=3),
)
def test_free_text_never_breaks_a_sentence(values: list[str], rules: list[str]) -> None:
    pages, child_rules = texts(with_values(values, rules))
    problems = [f"{path}: {p}" for path, text in pages.items() for p in broken(text)]
    problems += [f"rule: {p}" for text in child_rules for p in broken(text)]
    problems += [
        f"capital after a colon: {t}" for t in child_rules if CAPITAL_AFTER_COLON.search(t)
    ]
    assert not problems, "\n".join(problems[:10])


def test_the_base_school_reads_well_as_written() -> None:
    """The sample school itself (values with full stops and brackets) breaks nothing."""
    pages, child_rules = texts(Config.model_validate(BASE))
    assert not [p for text in [*pages.values(), *child_rules] for p in broken(text)]


@pytest.mark.parametrize(
    ("value", "clause", "sentence", "aside", "definite"),
    [
        ("All students.", "All students", "All students.", "(All students)", "the All students"),
        (
            "form tutor, at registration",
            "form tutor, at registration",
            "Form tutor, at registration.",
            "(form tutor, at registration)",
            "the form tutor, at registration",
        ),
        (
            "Assistant Principal (Safeguarding)",
            "Assistant Principal (Safeguarding)",
            "Assistant Principal (Safeguarding).",
            "(Assistant Principal, Safeguarding)",
            "the Assistant Principal (Safeguarding)",
        ),
        (
            "The Governing Board.",
            "The Governing Board",
            "The Governing Board.",
            "(The Governing Board)",
            "the Governing Board",
        ),
        ("(Deputy DSL)", "(Deputy DSL)", "(Deputy DSL).", "(Deputy DSL)", "the (Deputy DSL)"),
        ("Where? ", "Where?", "Where?", "(Where?)", "the Where?"),
    ],
)
def test_how_a_value_is_set(value, clause, sentence, aside, definite) -> None:
    assert as_clause(value) == clause
    assert as_sentence(value) == sentence
    assert as_aside(value) == aside
    assert with_definite_article(value) == definite


# ------------------------------------------------------------------ public pages

# What only the person running the tool needs: its commands, config keys and file names.
TOOL_TALK = re.compile(
    r"\besafety (build|check|review|new|serve|schema)\b|school_config|"
    r"\b(school|people|technology|phones|review|publish|posters)\.[a-z_]+\.?[a-z_]*\b"
)


@pytest.mark.parametrize("school", SCHOOL_NAMES)
def test_public_pages_and_pdfs_never_speak_to_the_tool(built_sites: Any, school: str) -> None:
    """No page or PDF a parent, pupil or governor reads names a command or a config key
    (the staff page "Review status" included: its findings are in the readers' words)."""
    site = built_sites(school).site_dir
    found = []
    for page in sorted(site.rglob("index.html")):
        text = " ".join(parse_html(page).text.split())
        found += [f"{page.relative_to(site)}: {m.group()}" for m in TOOL_TALK.finditer(text)]
    for pdf in sorted((site / "downloads").glob("*.pdf")):
        found += [f"{pdf.name}: {m.group()}" for m in TOOL_TALK.finditer(pdf_text(pdf))]
    assert not found, found[:10]


def test_staff_page_findings_are_in_the_readers_words(
    make_school: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A review that is overdue, a draft and a stale link: each said without the tool."""
    monkeypatch.setenv("ESAFETY_TODAY", "2028-01-10")
    config = make_school({"review": {"status": "draft"}, "publish": {"staff_pages": True}})
    page = build(config, config.parent / "site").site_dir / "staff" / "review-status"
    text = " ".join(parse_html(page / "index.html").text.split())
    assert "The policy review was due on" in text and "Draft for approval" in text
    assert not TOOL_TALK.search(text), TOOL_TALK.search(text)


def test_a_double_barrelled_name_is_never_split_on_a_page(tmp_path: Path) -> None:
    """On a phone a name broke at its hyphen ("Lloyd-" / "Williams"): the pages' Markdown
    writes each person's name with a non-breaking hyphen (U+2011, which the site's search
    treats as a separator, so "Williams" still finds it); phone numbers with no-break
    spaces."""
    data = copy.deepcopy(BASE)
    data["people"]["online_safety_governor"] = {"name": "Mrs Rhian Lloyd-Williams"}
    pack = compose(Config.model_validate(data), SCHOOLS_DIR)
    write_project(pack, tmp_path)
    pages = "".join(p.read_text("utf-8") for p in (tmp_path / "docs").rglob("*.md"))
    assert "Mrs Rhian Lloyd\u2011Williams" in pages  # its spaces wrap at 400% zoom
    assert "Lloyd-Williams" not in pages
    assert "\u2011" in (ROOT / "mkdocs.yml").read_text("utf-8")  # a search separator


def test_names_and_postcodes_never_split_in_print() -> None:
    """The print HTML joins a titled name, a postcode and a phone number with non-breaking
    spaces."""
    config = Config.model_validate(BASE)
    pack = compose(config, SCHOOLS_DIR)
    leaflet = next(d for d in pack.prints if d.filename == "parents-leaflet.pdf")
    html = PrintJob(pack, leaflet).html()
    assert "Ms\u00a0Harriet\u00a0Lowe" in html and "WX3\u00a07NP" in html
    assert "Ms Harriet" not in html and "WX3 7NP" not in html
    assert keep_together('<p title="Mr A B">Mr A B</p>') == '<p title="Mr A B">Mr\u00a0A\u00a0B</p>'
    assert keep_together("<p>call 01632 960412 or 0800 1111, on 2 May 2027</p>") == (
        "<p>call 01632\u00a0960412 or 0800\u00a01111, on 2 May 2027</p>"
    )
