"""Pupils' rules and posters: how many rules, the phone rule, one-page posters that carry
every rule of their page, the SMART poster, and reading levels."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pypdf
import pytest
from conftest import ROOT, SCHOOL_NAMES, school_path
from helpers import normalise_space, parse_html, pdf_text, pdf_text_in_order, rules_on_page, squash

from generator.compose import Composer, RuleSet, compose
from generator.config import RULE_SETS, load_config
from generator.markup import to_plain_text
from generator.pdf import render_pdf
from generator.readability import GRADE_LIMITS, flesch_kincaid_grade

MM = 72 / 25.4
PAPER_MM = {"A3": (297, 420), "A4": (210, 297)}  # portrait width, height
PHONE_RULES = ["not_allowed", "handed_in", "locked_away", "off_and_away", "allowed"]
SETS_OF = {name: load_config(school_path(name)).rule_sets for name in SCHOOL_NAMES}
SCHOOL_SETS = [(name, key) for name in SCHOOL_NAMES for key in SETS_OF[name]]


def composer_for(config_path: Path) -> Composer:
    return Composer(load_config(config_path), config_path.parent)


def plain_rules(rule_set: RuleSet) -> list[str]:
    return [to_plain_text(rule.text) for rule in rule_set.rules]


def poster_lines(rule_set: RuleSet) -> list[str]:
    """What a poster shows of each rule: its headline and its short line."""
    return [to_plain_text(t) for rule in rule_set.rules for t in (rule.headline, rule.line)]


# ------------------------------------------------------------------ how many rules


@pytest.mark.parametrize(("school", "key"), SCHOOL_SETS)
def test_rules_page_has_6_to_12_rules_as_composed(built_sites: Any, school: str, key: str) -> None:
    page = built_sites(school).site_dir / "rules" / key / "index.html"
    on_page = rules_on_page(page)
    assert 6 <= len(on_page) <= 12
    assert on_page == plain_rules(composer_for(school_path(school)).rule_set(key))
    assert parse_html(page).find("h1"), "the page has a title"


# ------------------------------------------------------------------ the phone rule

PUPILS = {
    "who_may_bring": "Year 6 pupils who walk home alone",
    "handed_to": "school office",
    "details": "at lunchtime in the library, to call home or use learning apps",
}
OFF = r"\b(turn it off|switch it off|stays switched off)\b"
# What each rule must say (every pattern) and must never say (any pattern), in lower case.
MUST = {
    "not_allowed": [r"\bdo not bring a phone\b"],
    "handed_in": [OFF, r"\bhand it in\b"],
    "locked_away": [OFF, r"\block it away\b"],
    "off_and_away": [OFF, r"\bin my bag\b"],
    "allowed": [r"\bwhen and where\b"],
}
NEVER = {
    "not_allowed": [
        r"\bhand(ed)? (it )?in\b",
        r"\block",
        r"\bin my bag\b",
        r"\bmay bring\b",
        r"\bi (only )?use my phone\b",
        OFF,
    ],
    "handed_in": [r"\bdo not bring\b", r"\block", r"\bin my bag\b", r"\bi (only )?use my phone\b"],
    "locked_away": [
        r"\bdo not bring\b",
        r"\bhand(ed)? (it )?in\b",
        r"\bin my bag\b",
        r"\bi (only )?use my phone\b",
    ],
    "off_and_away": [
        r"\bdo not bring\b",
        r"\bhand(ed)? (it )?in\b",
        r"\block",
        r"\bi (only )?use my phone\b",
    ],
    "allowed": [r"\bdo not bring\b", r"\bhand(ed)? (it )?in\b", r"\block", r"\bin my bag\b", OFF],
}
# The school's own words each rule must carry (phones.pupils.<field>), when given.
SHOWN = {
    "not_allowed": (),
    "handed_in": ("who_may_bring", "handed_to"),
    "locked_away": ("who_may_bring", "handed_to"),
    "off_and_away": ("who_may_bring",),
    "allowed": ("details",),
}
MENTIONS_PHONE = re.compile(r"\b(phones?|smart ?watch(es)?|mobile)\b", re.I)


def check_phone_rule(rules: list[str], rule: str, pupils: Any) -> None:
    """Exactly one rule is about phones; it says what ``rule`` means, with the school's own
    words, and nothing another rule would say."""
    phone = [r for r in rules if MENTIONS_PHONE.search(r)]
    assert len(phone) == 1, f"expected one phone rule, found {phone}"
    text = phone[0].lower()
    for pattern in MUST[rule]:
        assert re.search(pattern, text), f"{rule}: {pattern!r} missing from {phone[0]!r}"
    for pattern in NEVER[rule]:
        assert not re.search(pattern, text), f"{rule}: {pattern!r} contradicts {phone[0]!r}"
    for name in SHOWN[rule]:
        given = getattr(pupils, name)
        if given:
            assert given.lower() in text, f"{rule}: {name} {given!r} missing from {phone[0]!r}"


@pytest.mark.parametrize("key", ["ks2", "ks3"])
@pytest.mark.parametrize("rule", PHONE_RULES)
def test_phone_rule_wording(make_school: Any, rule: str, key: str) -> None:
    config = make_school({"phones": {"pupils": {"rule": rule, **PUPILS}}})
    composer = composer_for(config)
    check_phone_rule(plain_rules(composer.rule_set(key)), rule, composer.config.phones.pupils)


def test_no_rule_asks_a_child_to_keep_a_secret() -> None:
    """Children are taught that no one should ask them to keep a secret: their own
    information is "private", never "a secret"."""
    for path in sorted((ROOT / "content" / "rules").glob("*.yaml")):
        found = re.search(r"(?i)\b(I keep|keep it)\b[^.\n]*\bsecret", path.read_text("utf-8"))
        assert not found, f"{path.name}: {found and found.group()}"


def test_ks1_rules_have_no_phone_rule(make_school: Any) -> None:
    for rule in PHONE_RULES:
        config = make_school({"phones": {"pupils": {"rule": rule, **PUPILS}}})
        rules = plain_rules(composer_for(config).rule_set("ks1"))
        assert not [r for r in rules if MENTIONS_PHONE.search(r)]


def test_allowed_without_details_leaves_no_gap(make_school: Any) -> None:
    config = make_school({"phones": {"pupils": {"rule": "allowed", "details": ""}}})
    for key in ("ks2", "ks3"):
        rules = plain_rules(composer_for(config).rule_set(key))
        phone = [r for r in rules if MENTIONS_PHONE.search(r)]
        assert len(phone) == 1 and ":" not in phone[0], phone


@pytest.mark.parametrize(("school", "key"), [(s, k) for s, k in SCHOOL_SETS if k != "ks1"])
def test_phone_rule_on_built_pages(built_sites: Any, school: str, key: str) -> None:
    """A set whose stages share one rule says that rule; one whose stages differ says each
    stage's rule in turn, led in by its years, and nothing else."""
    config = load_config(school_path(school))
    groups = config.phone_groups(RULE_SETS[key])
    rules = rules_on_page(built_sites(school).site_dir / "rules" / key / "index.html")
    if len(groups) == 1:
        check_phone_rule(rules, groups[0][1].rule, groups[0][1])
        return
    composer = composer_for(school_path(school))
    phone = [r for r in rules if MENTIONS_PHONE.search(r)]
    assert len(phone) == 1, phone
    parts = re.split(r"(?=\b(?:In|From) [^,]+, )", phone[0])[1:]
    assert len(parts) == len(groups), parts
    for part, (stages, rule) in zip(parts, groups, strict=True):
        assert composer.stage_span(stages) in part
        check_phone_rule([part], rule.rule, rule)


def test_built_schools_cover_every_phone_rule() -> None:
    configs = [load_config(school_path(n)) for n in SCHOOL_NAMES]
    rules = {c.phone_rule(stage).rule for c in configs for stage in c.key_stages}
    assert rules == set(PHONE_RULES)


# ------------------------------------------------------------------ rules by key stage

ACADEMY = "academy_sixth_form"  # Nursery to Year 13; phones differ by stage
SIXTH_FORM = re.compile(r"sixth|post-16|year 1[23]\b|study centre", re.I)


def test_academy_has_a_different_rule_for_younger_pupils_and_the_sixth_form() -> None:
    config = load_config(school_path(ACADEMY))
    rules = [config.phone_rule(s).rule for s in config.key_stages]
    assert len(set(rules)) >= 3 and config.phone_rule("ks5").rule == "allowed"


@pytest.mark.parametrize("key", ["ks1", "ks2"])
def test_younger_pupils_documents_never_mention_the_sixth_form(built_sites: Any, key: str) -> None:
    """The KS1 and KS2 page, poster and agreement give only their own stages' rule."""
    site = built_sites(ACADEMY).site_dir
    texts = {
        f"rules/{key}": article_text(site / "rules" / key / "index.html"),
        f"forms/aup-pupil-{key}": article_text(site / "forms" / f"aup-pupil-{key}" / "index.html"),
        f"poster-{key}.pdf": pdf_text(site / "downloads" / f"poster-{key}.pdf"),
        f"aup-pupil-{key}.pdf": pdf_text(site / "downloads" / f"aup-pupil-{key}.pdf"),
    }
    for name, text in texts.items():
        assert not SIXTH_FORM.search(text), f"{name}: {SIXTH_FORM.search(text)}"
    if key == "ks2":
        config = load_config(school_path(ACADEMY))
        rules = rules_on_page(site / "rules" / "ks2" / "index.html")
        check_phone_rule(rules, config.phone_rule("ks2").rule, config.phone_rule("ks2"))


def article_text(page: Path) -> str:
    """A page's own words (its <article>), without the site's navigation."""
    html = page.read_text(encoding="utf-8")
    found = re.findall(r"<article\b.*?</article>", html, re.S)
    assert len(found) == 1, page
    return parse_html(found[0]).text


def test_older_pupils_rules_give_each_stage_its_rule(built_sites: Any) -> None:
    """The KS3 page and agreement give each stage's rule in turn; the poster each stage's
    rule in a few words."""
    site = built_sites(ACADEMY).site_dir
    poster = squash(pdf_text_in_order(site / "downloads" / "poster-ks3.pdf"))
    assert squash("Years 7\u201311: handed in. Sixth form: as allowed.") in poster
    for text in (
        squash(parse_html(site / "rules" / "ks3" / "index.html").text),
        squash(pdf_text(site / "downloads" / "aup-pupil-ks3.pdf")),
    ):
        for lead_in in (
            "In Years 7 to 11, if I bring a phone",
            "In the sixth form, I use my phone",
        ):
            assert squash(lead_in) in text


def test_policy_and_parents_set_out_every_stage(built_sites: Any) -> None:
    site = built_sites(ACADEMY).site_dir
    config = load_config(school_path(ACADEMY))
    policy = normalise_space(parse_html(site / "policy" / "technology" / "index.html").text)
    parents = normalise_space(parse_html(site / "parents" / "index.html").text)
    leaflet = squash(pdf_text(site / "downloads" / "parents-leaflet.pdf"))
    for label in ("Early Years to Year 2", "Years 3 to 6", "Years 7 to 11", "The sixth form"):
        assert label in policy and label in parents and squash(label) in leaflet, label
    for stage in config.key_stages:
        for value in config.phone_rule(stage).model_dump().values():
            if isinstance(value, str) and value not in PHONE_RULES:
                shown = value.rstrip(".")
                assert shown in policy or shown in parents, value
                assert squash(shown) in leaflet, value
    assert "The sixth form" in parents and "study centre" in parents


# ------------------------------------------------------------------ posters


def page_size_mm(pdf: Path) -> tuple[float, float]:
    box = pypdf.PdfReader(pdf).pages[0].mediabox
    return float(box.width) / MM, float(box.height) / MM


def expected_size_mm(paper: str, orientation: str) -> tuple[float, float]:
    short, long = PAPER_MM[paper]
    return (long, short) if orientation == "landscape" else (short, long)


def assert_poster(pdf: Path, paper: str, orientation: str, texts: list[str]) -> None:
    reader = pypdf.PdfReader(pdf)
    assert len(reader.pages) == 1, f"{pdf.name}: {len(reader.pages)} pages"
    width, height = page_size_mm(pdf)
    want = expected_size_mm(paper, orientation)
    assert abs(width - want[0]) < 0.5 and abs(height - want[1]) < 0.5, (
        f"{pdf.name}: {width:.1f} x {height:.1f} mm, expected {paper} {orientation}"
    )
    found = squash(pdf_text_in_order(pdf))
    missing = [t for t in texts if squash(t) not in found]
    assert missing == [], f"{pdf.name} lacks: {missing}"


@pytest.mark.parametrize(("school", "key"), SCHOOL_SETS)
def test_rules_poster_is_one_page_of_the_right_paper_with_every_rule(
    built_sites: Any, school: str, key: str
) -> None:
    site = built_sites(school).site_dir
    config = load_config(school_path(school))
    rule_set = composer_for(school_path(school)).rule_set(key)
    assert rules_on_page(site / "rules" / key / "index.html") == plain_rules(rule_set)
    assert_poster(
        site / "downloads" / f"poster-{key}.pdf",
        config.posters.paper,
        config.posters.orientation,
        poster_lines(rule_set),
    )


def test_test_schools_cover_each_paper_and_orientation() -> None:
    """The cases above only mean something if the test schools vary the poster settings."""
    settings = {
        (c.posters.paper, c.posters.orientation)
        for c in (load_config(school_path(n)) for n in SCHOOL_NAMES)
    }
    assert {("A3", "landscape"), ("A4", "landscape"), ("A3", "portrait")} <= settings


@pytest.mark.parametrize(
    ("paper", "orientation"), [("A4", "portrait"), ("A4", "landscape"), ("A3", "portrait")]
)
def test_poster_paper_settings(make_school: Any, paper: str, orientation: str) -> None:
    config_path = make_school({"posters": {"paper": paper, "orientation": orientation}})
    config = load_config(config_path)
    pack = compose(config, config_path.parent)
    ruleset = composer_for(config_path).rule_set("ks2")
    doc = next(d for d in pack.prints if d.filename == "poster-ks2.pdf")
    rendered = render_pdf(pack, doc)
    assert rendered.warnings == ()
    pdf = config_path.parent / doc.filename
    pdf.write_bytes(rendered.data)
    assert_poster(pdf, paper, orientation, poster_lines(ruleset))


@pytest.mark.parametrize("school", SCHOOL_NAMES)
def test_smart_poster(built_sites: Any, school: str) -> None:
    site = built_sites(school).site_dir
    config = load_config(school_path(school))
    smart = composer_for(school_path(school)).smart_tips()
    words = [tip["word"] for tip in smart["tips"]]
    assert words == ["Safe", "Meet", "Accepted", "Reliable", "Tell"]
    assert [tip["letter"] for tip in smart["tips"]] == ["S", "M", "A", "R", "T"]
    tips = [to_plain_text(tip["text"]) for tip in smart["tips"]]
    lines = [to_plain_text(tip["line"]) for tip in smart["tips"]]
    pdf = site / "downloads" / "poster-smart.pdf"
    assert_poster(
        pdf, config.posters.paper, config.posters.orientation, words + lines + ["Childnet"]
    )
    page = parse_html(site / "smart" / "index.html")
    for text in words + tips + ["Childnet"]:
        assert text in page.text
    assert any(
        a.attrs.get("href", "").startswith("https://www.childnet.com/") for a in page.find("a")
    )


# ------------------------------------------------------------------ reading level


def grade(rule_set: RuleSet) -> float:
    texts = plain_rules(rule_set) + [to_plain_text(rule_set.tell), to_plain_text(rule_set.help)]
    return flesch_kincaid_grade(texts)


@pytest.mark.parametrize(("school", "key"), SCHOOL_SETS)
def test_reading_level_of_each_school(school: str, key: str) -> None:
    rule_set = composer_for(school_path(school)).rule_set(key)
    assert grade(rule_set) <= GRADE_LIMITS[key], f"{school} {key}: grade {grade(rule_set):.2f}"


@pytest.mark.parametrize("key", ["ks2", "ks3"])
@pytest.mark.parametrize("rule", PHONE_RULES)
def test_reading_level_with_each_phone_rule(make_school: Any, rule: str, key: str) -> None:
    config = make_school({"phones": {"pupils": {"rule": rule, **PUPILS}}})
    rule_set = composer_for(config).rule_set(key)
    assert grade(rule_set) <= GRADE_LIMITS[key], f"{rule} {key}: grade {grade(rule_set):.2f}"


def test_reading_level_check_can_fail() -> None:
    """A grown-up sentence is well above every limit, so the checks above are not vacuous."""
    text = (
        "Notwithstanding the aforementioned considerations, responsibility for "
        "safeguarding arrangements remains collectively distributed among designated "
        "institutional representatives."
    )
    assert flesch_kincaid_grade([text]) > max(GRADE_LIMITS.values())
    assert normalise_space(to_plain_text("I *stop* and\n**tell**.")) == "I stop and tell."


@pytest.mark.parametrize(
    ("nation", "key_stages", "expected"),
    [
        ("england", ["ks2", "ks3"], {"ks2": "Key Stage 2", "ks3": "Key Stage 3"}),
        ("england", ["ks3", "ks4"], {"ks3": "Key Stage 3 and Key Stage 4"}),
        ("england", ["eyfs"], {"ks1": "Early Years"}),
        ("england", ["eyfs", "ks1", "ks2"], {"ks1": "Early Years and Key Stage 1"}),
        ("wales", ["ks2", "ks3"], {"ks2": "Years 3 to 6", "ks3": "Years 7 to 9"}),
        ("scotland", ["ks3", "ks4", "ks5"], {"ks3": "S1 to S6"}),
        ("northern-ireland", ["ks1", "ks2"], {"ks1": "Key Stage 1"}),
    ],
)
def test_rules_are_named_for_the_stages_the_school_has(
    nation: str, key_stages: list[str], expected: dict[str, str]
) -> None:
    """A middle school's older rules are not "for the sixth form" it does not have."""
    from conftest import school_data

    from generator.config import Config

    data = school_data("primary")
    data["school"].update(nation=nation, key_stages=key_stages)
    composer = Composer(Config.model_validate(data), Path(__file__).parent.parent)
    assert {key: composer.rule_set(key).audience for key in expected} == expected
