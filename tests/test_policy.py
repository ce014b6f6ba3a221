"""The Online Safety Policy: web pages under policy/ and downloads/policy.pdf.

Every test school is built once per session (conftest.built_sites). The PDF is read back
with pypdf (pages, page size, bookmarks, tags, metadata) and poppler's pdftotext (text,
cropped to the body, the running header or the footer). Variants of one school (each phone
rule, each photo rule, missing roles, hostile values) are only composed, which is fast.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pypdf
import pytest
import yaml
from conftest import SCHOOL_NAMES, school_data, school_path

from generator import markup
from generator.compose import CONTENT_DIR, Composer, capitalise_first, compose
from generator.config import load_config

POLICY = yaml.safe_load((CONTENT_DIR / "policy" / "policy.yaml").read_text(encoding="utf-8"))
NATIONS = yaml.safe_load((CONTENT_DIR / "nations.yaml").read_text(encoding="utf-8"))
GUIDANCE = yaml.safe_load((CONTENT_DIR / "guidance.yaml").read_text(encoding="utf-8"))
A4 = (595.28, 841.89)
HEADER = (0, 58)  # points from the top of an A4 page: running header band
BODY = (58, 795)
FOOTER = (795, 842)

pdftotext_missing = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) is not installed"
)


# ------------------------------------------------------------------ helpers


def squash(text: str) -> str:
    """Text as a reader sees it: any run of spaces as one, and the non-breaking hyphen
    names are written with (U+2011) as a hyphen."""
    return re.sub(r"\s+", " ", text.replace("\u2011", "-")).strip()


def fmt(day: dt.date) -> str:
    return markup.format_date(day)


def html_text(page_html: str) -> str:
    """The visible text of a page's main article (navigation and footer left out)."""
    match = re.search(r'<article class="md-content__inner[^"]*">(.*?)</article>', page_html, re.S)
    assert match, "no article in page"
    body = re.sub(r'<a class="headerlink"[^>]*>.*?</a>', "", match.group(1), flags=re.S)
    body = re.sub(r"<(script|style)\b.*?</\1>", "", body, flags=re.S)
    body = re.sub(
        r"</?(p|li|td|th|h\d|br|div|tr|table|ul|ol|figure|figcaption|svg|text|title|"
        r"desc|dt|dd|blockquote|hr)\b[^>]*>",
        " ",
        body,
    )
    return squash(html.unescape(re.sub(r"<[^>]+>", "", body)))


def part_slugs() -> list[str]:
    return [part["slug"] for part in POLICY["parts"]]


def web_pages(site: Path) -> dict[str, str]:
    pages = {"index": (site / "policy" / "index.html").read_text(encoding="utf-8")}
    for slug in part_slugs():
        pages[slug] = (site / "policy" / slug / "index.html").read_text(encoding="utf-8")
    return pages


@cache
def web_text(site: Path) -> str:
    return " ".join(html_text(page) for page in web_pages(site).values())


def pdf_path(site: Path) -> Path:
    return site / "downloads" / "policy.pdf"


@cache
def pdf_band(
    path: Path, band: tuple[int, int], page: int | None = None, layout: bool = False
) -> list[str]:
    """Text of every page (or one page), cropped to a horizontal band, one string per page
    (with ``layout``, laid out as on the page, so each line reads across)."""
    top, bottom = band
    args = [
        "pdftotext",
        *(["-layout"] if layout else []),
        "-enc",
        "UTF-8",
        "-x",
        "0",
        "-y",
        str(top),
        "-W",
        "600",
        "-H",
        str(bottom - top),
    ]
    if page is not None:
        args += ["-f", str(page), "-l", str(page)]
    out = subprocess.run([*args, str(path), "-"], check=True, capture_output=True).stdout
    pages = out.decode("utf-8").split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages


def pdf_body(site: Path) -> str:
    """The PDF's words without running headers or footers."""
    text = squash(" ".join(pdf_band(pdf_path(site), BODY)))
    return re.sub(r"\.{4,}", " ", text)


def config_of(name: str) -> Any:
    return load_config(school_path(name))


def expected_values(config: Any) -> list[str]:
    """Every name, provider, platform and phone-rule detail the school gave."""
    people = config.people
    values = [
        config.school.name,
        config.review.version,
        fmt(config.review.approved_on),
        fmt(config.next_review),
        people.headteacher.name,
        people.dsl.name,
        people.online_safety_governor.name,
        config.online_safety_lead.name,
    ]
    values += [d.name for d in people.deputy_dsls]
    for role in ("chair_of_governors", "computing_lead", "technical_support", "lado"):
        person = getattr(people, role)
        if person:
            values.append(person.name)
    if people.lado and people.lado.phone:
        values.append(people.lado.phone)
    if people.dsl.email:
        values.append(people.dsl.email)
    tech = config.technology
    values += [
        v
        for v in (
            tech.filtering.provider,
            tech.monitoring.provider,
            tech.incident_log,
            tech.staff_email,
        )
        if v
    ]
    values += tech.pupil_platforms + tech.parent_communication + tech.monitoring.alerts_to
    if tech.filtering.last_reviewed:
        values.append(fmt(tech.filtering.last_reviewed))
    if tech.generative_ai:
        values.append(tech.generative_ai.rstrip("."))
    staff = config.phones.staff
    values += [staff.personal_use.rstrip(".")] if staff.personal_use else []
    for pupils in {config.phone_rule(stage) for stage in config.key_stages}:
        values += [
            v.rstrip(".") for v in (pupils.handed_to, pupils.details, pupils.exceptions) if v
        ]
        if pupils.who_may_bring:  # may be written with a first letter of another case
            values.append(pupils.who_may_bring[1:].rstrip("."))
    if config.review.approved_by:
        values.append(config.review.approved_by)
    values += config.linked_policies
    return values


def composed_policy_text(path: Path) -> str:
    """Compose (no MkDocs, no PDF) and return the policy web pages as plain text."""
    config = load_config(path)
    pack = compose(config, path.parent)
    pages = [p for p in pack.pages if p.path.startswith("policy/")]
    assert pages, "no policy pages composed"
    return squash(" ".join(markup.to_plain_text(p.markdown) for p in pages))


def composed_policy_print(path: Path) -> Any:
    config = load_config(path)
    pack = compose(config, path.parent)
    return next(doc for doc in pack.prints if doc.filename == "policy.pdf")


# ------------------------------------------------------------------ web pages


@pytest.mark.parametrize("name", SCHOOL_NAMES)
def test_every_config_value_appears_on_the_web_pages(built_sites, name):
    text = web_text(built_sites(name).site_dir)
    missing = [v for v in expected_values(config_of(name)) if squash(v) not in text]
    assert not missing


@pytest.mark.parametrize("name", SCHOOL_NAMES)
def test_no_gaps_or_unrendered_placeholders(built_sites, name):
    site = built_sites(name).site_dir
    for label, text in (("web", web_text(site)), ("pdf", pdf_body(site))):
        if label == "pdf" and shutil.which("pdftotext") is None:
            continue
        for pattern in (
            r"\bNone\b",
            r"\bnull\b",
            r"\{\{",
            r"\}\}",
            r"\{%",
            r"%\}",
            r"\{#",
            r"&#\d+;",
            r"&amp;",
            r"\[\s*\]",
            r"\(\s*\)",
            r" ,",
            r",,",
            r"\.\s\.",
            r"(?<!\.)\.\.(?!\.)",
            r"\b(the|a|an|and|of|to) \.",
            r"\bTODO\b",
            r"\[insert",
            r"(?i)lorem ipsum",
            r"\bthe the\b",
        ):
            found = re.search(pattern, text)
            near = text[found.start() - 60 : found.end() + 60] if found else ""
            assert not found, f"{label}: {pattern!r} near {near!r}"


TOPICS = [
    (
        "purpose and scope",
        [
            r"Purpose, scope and aims",
            r"Who the policy covers",
            r"volunteers",
            r"contractors",
            r"remote and online learning",
            r"personal devices",
        ],
    ),
    ("online safety is safeguarding", [r"Online safety is safeguarding", r"child protection"]),
    (
        "the 4 Cs",
        [
            r"Content:",
            r"Contact:",
            r"Conduct:",
            r"Commerce:",
            r"misinformation",
            r"disinformation",
            r"conspiracy theories",
        ],
    ),
    (
        "roles",
        [
            r"governor for online safety",
            r"[Hh]eadteacher|[Pp]rincipal",
            r"{dsl_full}",
            r"online safety lead",
            r"computing",
            r"Technical support",
            r"All staff and volunteers",
            r"Parents and carers",
            r"Visitors and community users",
            r"chair of governors",
        ],
    ),
    (
        "filtering and monitoring",
        [
            r"Filtering and monitoring",
            r"once every academic year",
            r"over-block",
            r"Internet Watch Foundation's list",
            r"cannot switch these off|can switch these off",
            r"blocked or allowed",
            r"new AI tool",
            r"Alerts go to|go to the",
        ],
    ),
    (
        "curriculum",
        [
            r"Education for a Connected World",
            r"special educational needs|additional learning needs|additional support needs",
            r"Safer Internet Day",
            r"Anti-Bullying Week",
        ],
    ),
    ("parents", [r"Working with parents and carers", r"raise a concern"]),
    ("training", [r"Induction", r"training {dsl_refresher}", r"Governors receive"]),
    ("online bullying", [r"Online bullying", r"bystander", r"anti-bullying"]),
    ("nudes", [r"semi-nudes", r"AI", r"[Nn]ever view", r"Report Remove", r"[Ss]extortion"]),
    ("radicalisation", [r"Prevent", r"extremis"]),
    ("searching", [r"[Ss]earch", r"[Cc]onfiscat", r"indecent images of children are never viewed"]),
    (
        "phones",
        [
            r"Mobile phones and smart devices",
            r"smart watch",
            r"Trips and visits",
            r"[Ee]xception",
            r"Staff phones",
        ],
    ),
    ("communication", [r"Email, messaging and communication", r"personal phone numbers"]),
    (
        "images and social media",
        [r"school website", r"full name", r"consent", r"friend or follow requests"],
    ),
    ("remote learning", [r"Remote learning and video calls", r"Live lessons"]),
    (
        "emerging technology and AI",
        [r"Generative AI", r"product safety standards", r"data protection impact assessment"],
    ),
    ("data protection", [r"UK GDPR", r"Data Protection Act 2018", r"encrypted", r"password"]),
    (
        "incidents",
        [
            r"Reporting and recording concerns",
            r"CEOP",
            r"Internet Watch Foundation",
            r"Report Harmful Content",
            r"police",
            r"The incident log",
            r"Incident flowcharts",
            r"Level",
            r"allegation",
            r"{lado}",
            r"What we do if",
            r"whistleblowing",
        ],
    ),
    ("complaints", [r"Complaints", r"complaints procedure"]),
    (
        "review",
        [
            r"Monitoring and review",
            r"review it sooner|review this policy straight away",
            r"Linked policies and guidance",
        ],
    ),
]


@pytest.mark.parametrize("name", SCHOOL_NAMES)
def test_policy_covers_every_topic(built_sites, name):
    text = web_text(built_sites(name).site_dir)
    terms = NATIONS[config_of(name).school.nation]["terms"]
    missing = []
    for topic, patterns in TOPICS:
        for pattern in patterns:
            pattern = (
                pattern.replace("{dsl_full}", terms["dsl_full"])
                .replace("{lado}", re.escape(terms["LADO"]))
                .replace("{dsl_refresher}", re.escape(terms["dsl_refresher"]))
            )
            if not re.search(pattern, text, re.I if "{" in pattern else 0):
                missing.append(f"{topic}: {pattern}")
    assert not missing


def test_every_section_is_a_linkable_heading(built_sites):
    pages = web_pages(built_sites("primary").site_dir)
    number = 0
    for part in POLICY["parts"]:
        page = pages[part["slug"]]
        for section in part["sections"]:
            number += 1
            heading = re.search(rf'<h2 id="{re.escape(section["id"])}">(.*?)</h2>', page, re.S)
            assert heading, section["id"]
            assert squash(re.sub(r"<[^>]+>", " ", heading.group(1))).startswith(f"{number}. ")
            assert f'href="{part["slug"]}/#{section["id"]}"' in pages["index"]
        assert re.search(r"<h3 id=\"[a-z0-9-]+\"", page) or part["slug"] in ("roles",)


def test_the_overview_has_key_people_and_dates(built_sites):
    config = config_of("primary")
    index = html_text(web_pages(built_sites("primary").site_dir)["index"])
    for value in (
        config.people.headteacher.name,
        config.people.dsl.name,
        config.people.online_safety_governor.name,
        config.review.version,
        fmt(config.review.approved_on),
        fmt(config.next_review),
        config.review.approved_by,
    ):
        assert value in index
    assert "../downloads/policy.pdf" in web_pages(built_sites("primary").site_dir)["index"]


def test_flowcharts_are_inline_accessible_svg_with_a_text_version(built_sites):
    page = web_pages(built_sites("primary").site_dir)["incidents"]
    svgs = re.findall(r'<svg\b[^>]*class="esafety-flowchart".*?</svg>', page, re.S)
    assert len(svgs) >= 4
    for svg in svgs:
        assert 'role="img"' in svg and "<title id=" in svg and "<desc id=" in svg
        assert "<text" in svg and "<script" not in svg
    assert "<script" not in "".join(svgs)
    text = html_text(page)
    for title in (
        "A concern about a pupil's safety online",
        "Illegal content or activity",
        "Inappropriate content or misuse by a pupil",
        "A member of staff as victim or instigator",
    ):
        assert title in text
    assert text.count("The same steps in words") == len(svgs)
    # drawn from the school's people, the name kept whole (no-break spaces)
    assert "Mr\u00a0Daniel\u00a0O'Connor" in " ".join(svgs)


# ------------------------------------------------------------------ what varies with the config

PHONE_CONTRADICTIONS = {
    "not_allowed": [
        r"hand(s|ed)? (it )?in",
        r"locked away|locks it away",
        r"in their bag",
        r"may use (it|their phone)",
        r"may bring a phone",
    ],
    "handed_in": [
        r"locked away|locks it away",
        r"in their bag",
        r"may use (it|their phone)",
        r"do not bring mobile phones",
    ],
    "locked_away": [
        r"hand(s|ed)? (it )?in",
        r"in their bag",
        r"may use (it|their phone)",
        r"do not bring mobile phones",
    ],
    "off_and_away": [
        r"hand(s|ed)? (it )?in",
        r"locked away|locks it away",
        r"may use (it|their phone)",
        r"do not bring mobile phones",
    ],
    "allowed": [
        r"hand(s|ed)? (it )?in",
        r"locked away|locks it away",
        r"in their bag",
        r"do not bring mobile phones",
    ],
}
PHONE_SAYS = {
    "not_allowed": r"do not bring mobile phones",
    "handed_in": r"hands it in as soon as they arrive",
    "locked_away": r"switched off and locked away for the whole school day",
    "off_and_away": r"out of sight in their bag for the whole school day",
    "allowed": r"may use it only",
}


def assert_phone_rule(text: str, rule: str) -> None:
    assert re.search(PHONE_SAYS[rule], text), rule
    for pattern in PHONE_CONTRADICTIONS[rule]:
        found = re.search(pattern, text)
        assert not found, f"{rule}: {pattern!r} in {text[found.start() - 80 : found.end() + 80]!r}"


@pytest.mark.parametrize("name", SCHOOL_NAMES)
def test_built_policy_states_the_schools_phone_rule_and_no_other(built_sites, name):
    """One rule for the whole school; or, where stages differ, each stage under its own
    heading with its own rule and no other."""
    config, text = config_of(name), web_text(built_sites(name).site_dir)
    groups = config.phone_groups()
    if len(groups) == 1:
        assert_phone_rule(text, groups[0][1].rule)
        return
    composer = Composer(config, school_path(name).parent)
    start = text.index("The rule for pupils")
    text = text[start : text.index("Exceptions", start)]
    labels = [capitalise_first(composer.stage_span(stages)) for stages, _ in groups]
    bounds = [text.index(label) for label in labels] + [len(text)]
    assert bounds[:-1] == sorted(bounds[:-1]), labels
    for (_, rule), begin, end in zip(groups, bounds, bounds[1:], strict=False):
        assert_phone_rule(text[begin:end], rule.rule)


@pytest.mark.parametrize("base", ["primary", "secondary"])
@pytest.mark.parametrize("rule", list(PHONE_SAYS))
def test_every_phone_rule_with_its_details(make_school, rule, base):
    pupils = {
        "rule": rule,
        "who_may_bring": "Pupils in Years 5 and 6",
        "handed_to": "form tutor",
        "details": "Lost phones go to reception.",
        "exceptions": "Pupils who use an insulin pump app",
    }
    if rule == "allowed":
        pupils["details"] = "at lunchtime in the canteen only"
    if rule == "not_allowed":
        pupils.pop("who_may_bring")
        pupils.pop("handed_to")
    path = make_school({"phones": {"pupils": pupils}}, base=base)
    text = composed_policy_text(path)
    assert_phone_rule(text, rule)
    for key, value in pupils.items():
        if key == "rule" or (key == "handed_to" and rule == "off_and_away"):
            continue  # phones kept in bags are handed to nobody
        value = value.rstrip(".")
        assert (value if key != "who_may_bring" else value[1:]) in text, key


@pytest.mark.parametrize(
    "rule, says, never",
    [
        (
            "school_devices_only",
            "only on school-owned devices, never on personal",
            ["personal device only with permission", "on any device"],
        ),
        (
            "with_permission",
            "personal device only with permission, as the school arranges it",
            [
                "only on school-owned devices, never",
                "do not take photographs or videos of pupils on",
            ],
        ),
        (
            "never",
            "do not take photographs or videos of pupils on any device",
            ["only on school-owned devices", "personal device only with"],
        ),
    ],
)
def test_staff_photo_rule(make_school, rule, says, never):
    text = composed_policy_text(make_school({"phones": {"staff": {"photos_of_pupils": rule}}}))
    assert says in text
    for phrase in never:
        assert phrase not in text


def test_missing_optional_roles_are_worded_gracefully(built_sites):
    text = web_text(built_sites("infant_minimal").site_dir)
    assert "chair of governors" in text
    assert "technical support" in text
    assert "the school's secure safeguarding records" in text
    assert "Mrs Karen Bright" in text
    assert "The last review was held on" not in text  # no date given, none printed
    for phrase in (
        "deputy DSLs are",
        "Chair of governors |",
        "LADO service",
        "(LADO) |",
        "in this version of the policy",  # a note to the school is not policy
    ):
        assert phrase not in text


def test_every_optional_value_removed(make_school):
    data = school_data("primary")
    for role in (
        "chair_of_governors",
        "computing_lead",
        "technical_support",
        "lado",
        "online_safety_lead",
    ):
        data["people"].pop(role)
    data["people"]["deputy_dsls"] = []
    data["technology"] = {}
    data["phones"] = {"pupils": {"rule": "handed_in"}}
    data["review"].pop("approved_by")
    data["school"] = {k: v for k, v in data["school"].items() if k in ("name", "phase", "logo")}
    path = make_school()
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    text = composed_policy_text(path)
    assert not re.search(r"\bNone\b|\bnull\b|\(\s*\)| ,", text)
    assert_phone_rule(text, "handed_in")


def test_a_headteacher_who_is_also_the_dsl_is_named_once_per_step(built_sites):
    text = web_text(built_sites("infant_minimal").site_dir)
    assert "Tell the DSL and headteacher, Mrs Karen Bright, immediately." in text


@pytest.mark.parametrize(
    "name, has, has_not",
    [
        (
            "primary",
            [
                "Early Years Foundation Stage",
                "Key Stage 1",
                "Key Stage 2",
                "Younger children most often",
            ],
            ["Key Stage 3", "Key Stage 4", "sixth form", "Older pupils are more likely"],
        ),
        (
            "secondary",
            ["Key Stage 3", "Key Stage 4", "the sixth form", "Older pupils are more likely"],
            ["Early Years", "Key Stage 1", "Key Stage 2", "Younger children most often"],
        ),
        (
            "all_through",
            [
                "Early Years Foundation Stage",
                "Key Stage 2",
                "Key Stage 4",
                "Younger children most often",
                "Older pupils are more likely",
            ],
            [],
        ),
        ("infant_minimal", ["Key Stage 1"], ["Key Stage 2", "Key Stage 3"]),
    ],
)
def test_wording_follows_the_phase(built_sites, name, has, has_not):
    text = web_text(built_sites(name).site_dir)
    for phrase in has:
        assert phrase in text, phrase
    for phrase in has_not:
        assert phrase not in text, phrase


def test_wales_uses_its_own_terms_and_guidance(built_sites):
    text = web_text(built_sites("welsh_middle").site_dir)
    for phrase in (
        "learners",
        "designated safeguarding person",
        "DSP",
        "Keeping learners safe",
        "Wales",
        "Estyn" if "Estyn" in text else "learners",
    ):
        assert phrase in text
    for pattern in (
        r"\bpupils?\b",
        r"\bDSL\b",
        r"\bLADO\b",
        r"Ofsted",
        r"Key Stage",
        r"(?i)designated safeguarding lead",  # the home page's heading too
        r"special educational needs",  # additional learning needs, since the 2018 Act
        r"considers suspension|include suspension",  # "fixed-term exclusion" in Wales
        r"Department for Education\)",
        r"local safeguarding partners",
        r"exam boards",  # Years 3 to 9: no coursework
    ):
        assert not re.search(pattern, text), pattern
    for phrase in ("additional learning needs", "fixed-term exclusion", "Digital Competence"):
        assert phrase in text, phrase
    # England's phone guidance does not apply in Wales; Wales has its own filtering standards
    assert "phone-free by default" not in text
    assert "web filtering and online safeguarding" in text


def test_england_cites_the_current_kcsie_from_the_guidance_file(built_sites):
    kcsie = GUIDANCE["documents"]["kcsie"]
    page = web_pages(built_sites("primary").site_dir)["about"]
    assert kcsie["title"] in html_text(page)
    assert f'href="{kcsie["url"]}"' in page
    for area in GUIDANCE["four_cs"]["areas"]:
        assert squash(area["wording"]) in html_text(page)


def test_guidance_editions_are_not_written_into_the_words():
    """A new KCSIE edition must mean changing content/guidance.yaml only."""
    for path in (CONTENT_DIR / "policy").rglob("*"):
        if path.is_file():
            words = path.read_text(encoding="utf-8")
            assert not re.search(r"KCSIE \d{4}|education \d{4}|20\d\d edition", words), path
            assert "gov.uk/" not in words and "gov.wales/" not in words, path


def test_monitoring_wording_follows_the_method(built_sites):
    assert "Monitoring is physical" in web_text(built_sites("welsh_middle").site_dir)
    assert "Monitoring combines software (Impero)" in web_text(built_sites("secondary").site_dir)
    assert "Monitoring is done by software (Senso Cloud)" in web_text(
        built_sites("primary").site_dir
    )


def test_config_values_print_as_text(make_school):
    hostile = "<script>alert(1)</script> [x](javascript:alert(1)) *Bold* {{ 7*7 }}"
    path = make_school(
        {
            "school": {"name": hostile},
            "people": {"dsl": {"name": hostile, "email": "dsl@example.org"}},
            "technology": {"incident_log": hostile},
        }
    )
    config = load_config(path)
    pack = compose(config, path.parent)
    for page in (p for p in pack.pages if p.path.startswith("policy/")):
        rendered = str(markup.to_html(page.markdown))
        assert "<script>alert" not in rendered
        assert 'href="javascript' not in rendered
        assert "<em>Bold</em>" not in rendered
    text = composed_policy_text(path)
    assert hostile in text  # printed exactly, {{ 7*7 }} included (never evaluated)
    parts = composed_policy_print(path).context["policy"]["parts"]
    body = "".join(str(section) for part in parts for section in part["markdown"])
    assert "<script" not in body
    assert "&#60;script&#62;alert(1)&#60;/script&#62;" in body


def test_a_second_school_converts_only_the_policy_sections_that_name_it(make_school):
    """The print policy is converted section by section, and no fragment twice: the next
    school of a trust converts only what differs (here, what names the school)."""
    from generator.pdf import PrintJob

    def policy_html(name: str) -> str:
        path = make_school({"school": {"name": name}})
        pack = compose(load_config(path), path.parent)
        return PrintJob(pack, composed_policy_print(path)).html()

    markup._converted.clear()
    policy_html("Hollins Park School")
    before = set(markup._converted)
    html_text = policy_html("Ashgrove Academy")
    converted = [fragment for fragment in markup._converted if fragment not in before]
    assert converted and all("Ashgrove" in fragment for fragment in converted)
    parts = composed_policy_print(make_school({})).context["policy"]["parts"]
    policy_size = sum(len(section) for part in parts for section in part["markdown"])
    assert sum(map(len, converted)) < policy_size / 2
    assert "Ashgrove Academy" in html_text and "Hollins" not in html_text


# ------------------------------------------------------------------ the PDF


def pdf_reader(site: Path) -> pypdf.PdfReader:
    return pypdf.PdfReader(pdf_path(site))


def outline_titles(reader: pypdf.PdfReader) -> list[tuple[int, str, int]]:
    """(depth, title, page number) for every bookmark."""
    found: list[tuple[int, str, int]] = []

    def walk(items: list[Any], depth: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            else:
                found.append(
                    (depth, squash(item.title), reader.get_destination_page_number(item) + 1)
                )

    walk(reader.outline, 0)
    return found


@pytest.mark.parametrize("name", SCHOOL_NAMES)
def test_pdf_was_rendered_without_warnings(built_sites, name):
    rendered = {pdf.filename: pdf for pdf in built_sites(name).pdfs}
    assert rendered["policy.pdf"].warnings == ()
    assert rendered["policy.pdf"].pages == len(pdf_reader(built_sites(name).site_dir).pages)


@pytest.mark.parametrize("name", SCHOOL_NAMES)
def test_pdf_is_a4_tagged_titled_and_long_enough(built_sites, name):
    reader = pdf_reader(built_sites(name).site_dir)
    assert len(reader.pages) >= 20
    for page in reader.pages:
        size = (float(page.mediabox.width), float(page.mediabox.height))
        assert size == pytest.approx(A4, abs=0.5)
    root = reader.trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in root
    assert root["/Lang"] == "en-GB"
    config = config_of(name)
    assert reader.metadata.title == f"{POLICY['title']}, {config.school.name}"


@pytest.mark.parametrize("name", SCHOOL_NAMES)
def test_pdf_bookmarks_list_every_part_and_section(built_sites, name):
    site = built_sites(name).site_dir
    bookmarks = outline_titles(pdf_reader(site))
    top = [title for depth, title, _ in bookmarks if depth == 0]
    second = [title for depth, title, _ in bookmarks if depth == 1]
    web = web_pages(site)
    number = 0
    for part in POLICY["parts"]:
        heading = re.search(r"<h1[^>]*>(.*?)</h1>", web[part["slug"]], re.S).group(1)
        heading = re.sub(r'<a class="headerlink".*?</a>', "", heading, flags=re.S)
        part_title = html.unescape(squash(re.sub(r"<[^>]+>", "", heading)))
        assert part_title in top
        for _ in part["sections"]:
            number += 1
            assert any(t.startswith(f"{number}. ") for t in second), number
    pages = [page for _, _, page in bookmarks]
    assert pages == sorted(pages)


@pdftotext_missing
@pytest.mark.parametrize("name", SCHOOL_NAMES)
def test_pdf_cover(built_sites, name):
    config = config_of(name)
    cover = squash(pdf_band(pdf_path(built_sites(name).site_dir), (0, 842), page=1)[0])
    for value in (
        config.school.name,
        POLICY["title"],
        config.review.version,
        fmt(config.review.approved_on),
        fmt(config.next_review),
    ):
        assert value in cover


@pdftotext_missing
@pytest.mark.parametrize("name", SCHOOL_NAMES)
def test_pdf_contents_page_numbers_are_right(built_sites, name):
    path = pdf_path(built_sites(name).site_dir)
    bodies = pdf_band(path, BODY, layout=True)
    contents_page = next(i for i, text in enumerate(bodies) if text.lstrip().startswith("Contents"))
    entries = re.findall(r"^\s*(\d+\. .+?)\s{2,}(\d+)\s*$", bodies[contents_page], re.M)
    sections = [s for part in POLICY["parts"] for s in part["sections"]]
    assert len(entries) == len(sections)
    for title, page in entries:
        page_lines = [squash(line) for line in bodies[int(page) - 1].splitlines()]
        start = squash(title)[:40]
        assert any(line.startswith(start) for line in page_lines), (title, page)
        earlier = [
            squash(line)
            for body in bodies[contents_page + 1 : int(page) - 1]
            for line in body.splitlines()
        ]
        assert not any(line.startswith(start) for line in earlier), (title, page)


@pdftotext_missing
@pytest.mark.parametrize("name", SCHOOL_NAMES)
def test_pdf_running_header_and_page_x_of_y(built_sites, name):
    config = config_of(name)
    path = pdf_path(built_sites(name).site_dir)
    headers = pdf_band(path, HEADER)
    footers = pdf_band(path, FOOTER)
    total = len(headers)
    assert "Page" not in footers[0] and config.school.name not in headers[0]  # the cover
    for number in range(2, total + 1):
        header = squash(headers[number - 1])
        assert config.school.name in header
        assert f"{POLICY['title']} · version {config.review.version}" in header
        assert f"Page {number} of {total}" in squash(footers[number - 1])


@pdftotext_missing
@pytest.mark.parametrize("name", SCHOOL_NAMES)
def test_pdf_text_has_every_config_value(built_sites, name):
    text = pdf_body(built_sites(name).site_dir)
    missing = [v for v in expected_values(config_of(name)) if squash(v) not in text]
    assert not missing


@pdftotext_missing
@pytest.mark.parametrize("name", ["primary", "infant_minimal"])
def test_pdf_flowcharts_and_tables_are_not_split_across_pages(built_sites, name):
    path = pdf_path(built_sites(name).site_dir)
    bodies = [squash(b) for b in pdf_band(path, BODY)]
    for title, first, last in (
        (
            "A concern about a pupil's safety online",
            "Is the pupil in immediate danger?",
            "checks later that the pupil is safe and supported",
        ),
        ("Illegal content or activity", "Do not open, view again", "Review filtering and"),
        (
            "Inappropriate content or misuse by a pupil",
            "Stop the activity",
            "changes teaching or filtering",
        ),
        (
            "A member of staff as victim or instigator",
            "A concern involves a member of staff",
            "The headteacher records what was done",
        ),
    ):
        # The figure's text sits between the chart's title and its text version.
        drawn = [
            b[b.index(title) :].split("The same steps in words")[0] for b in bodies if title in b
        ]
        assert any(first in segment and last in segment for segment in drawn), title
    key_people = next(b for b in bodies if "Key people and dates" in b)
    config = config_of(name)
    for person in (config.people.headteacher.name, config.people.online_safety_governor.name):
        assert person in key_people


def test_content_lines_ending_in_a_tag_keep_their_line_break():
    """Jinja's trim_blocks eats the newline after a tag that ends a line of text, which glues
    that paragraph to the next one (or breaks a list); such lines must end in '+%}'."""
    files = [*(CONTENT_DIR / "policy").rglob("*.md"), *(CONTENT_DIR / "pages").glob("policy*.md")]
    exempt = {"flowcharts.md", "policy-part.md"}  # list items, and the last line of a page
    for path in files:
        if path.name in exempt:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            text_then_tag = line.endswith("%}") and not re.fullmatch(r"\s*\{%[^%]*%\}", line)
            assert not text_then_tag or line.endswith(("+%}", "{% else %}")), (
                f"{path.name}:{number}"
            )


@pytest.mark.parametrize(
    "words, message",
    [
        ('See {{ ref("nowhere") }}.', "ref('nowhere'): no such section"),
        ('See {{ guide("kcsie_1999") }}.', "guide('kcsie_1999'): no such document"),
        ("Ask {{ people.bursar.name }}.", "people has no 'bursar'"),
    ],
)
def test_a_mistake_in_overridden_words_names_the_file(make_school, words, message):
    """A school or trust may override any policy file; a mistake there is a one-line error."""
    from generator.errors import EsafetyError

    path = make_school()
    override = path.parent / "overrides" / "content" / "policy" / "sections" / "purpose.md"
    override.parent.mkdir(parents=True)
    override.write_text(words, encoding="utf-8")
    with pytest.raises(EsafetyError, match="purpose.md") as caught:
        compose(load_config(path), path.parent)
    assert message in str(caught.value)


def test_a_school_can_override_one_section(make_school):
    path = make_school()
    override = path.parent / "overrides" / "content" / "policy" / "sections" / "complaints.md"
    override.parent.mkdir(parents=True)
    override.write_text(
        "Complaints go to {{ say.head }}, as {{ ref('review') }} explains.", encoding="utf-8"
    )
    text = composed_policy_text(path)
    number = [s["id"] for part in POLICY["parts"] for s in part["sections"]].index("review") + 1
    assert (
        f"Complaints go to the headteacher, Mrs Joanna Whitfield, as section {number} explains."
        in text
    )
