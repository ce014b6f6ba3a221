"""The procedures the policy sets out, the law and guidance it follows, and the checks that
keep it honest: each pinned so a wording change cannot quietly undo it (issue 22).

The policy is composed (no MkDocs, no PDF) so these tests are quick.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT, school_data, write_school
from test_policy import composed_policy_text, squash

from generator import markup
from generator.checks import findings
from generator.compose import CONTENT_DIR, Composer, compose
from generator.config import load_config
from generator.errors import ConfigError
from generator.pdf import PrintJob

CHARTS = {
    c["key"]: c
    for c in yaml.safe_load((CONTENT_DIR / "policy" / "flowcharts.yaml").read_text("utf-8"))[
        "charts"
    ]
}
GUIDANCE = yaml.safe_load((CONTENT_DIR / "guidance.yaml").read_text("utf-8"))
TODAY = dt.date(2026, 12, 3)
SCHOOLS = Path(__file__).parent / "schools"


def chart_words(key: str) -> list[str]:
    """Each step of a chart as text, a decision's branch right after it."""
    words = []
    for step in CHARTS[key]["steps"]:
        words.append(step["text"])
        if step.get("branch"):
            words.append(f"{step['branch']['label']}: {step['branch']['text']}")
    return words


# ------------------------------------------------------------------ the flowcharts


def test_the_nudes_chart_follows_the_ukcis_steps_in_order():
    steps = chart_words("nudes")
    order = [
        r"made with AI",
        r"Do not view, copy, forward, save or delete it",
        r"Tell the \{\{ DSL \}\}, .*immediately",
        r"initial review.*not by looking at the image",
        r"an adult involved, coercion, blackmail or grooming, a child unable to consent, acts "
        r"that are violent or unusual for the child's age, sexual acts with any child in the "
        r"images under 13, or a risk of immediate harm",
        r"^Yes: .*refers at once to the police and/or \{\{ social_care \}\}",
        r"support the children.*Report Remove.*With no referral, the school manages it",
        r"child pictured is supported as a victim.*passed an image on, or pressured",
        r"records each decision",
    ]
    at = 0
    for pattern in order:
        found = [i for i, text in enumerate(steps) if i >= at and re.search(pattern, text)]
        assert found, pattern
        at = found[0]
    # A referral rejoins the steps every case goes through (support as a victim, records),
    # and what follows it never offers to "manage it in school" as if it had not been made.
    steps = CHARTS["nudes"]["steps"]
    at = next(i for i, s in enumerate(steps) if s.get("branch"))
    assert steps[at]["branch"].get("rejoin") is True
    assert "may manage" not in steps[at + 1]["text"]
    assert "With no referral" in steps[at + 1]["text"]


def test_the_illegal_content_chart_hands_childrens_images_to_the_nudes_chart():
    steps = CHARTS["illegal"]["steps"]
    nudes = next(i for i, s in enumerate(steps) if "nude image" in s["text"])
    police = next(i for i, s in enumerate(steps) if "reports to the police" in s["text"])
    assert nudes < police  # decided before anything goes to the police
    assert "chart for nude and semi-nude images" in steps[nudes]["branch"]["text"]
    assert steps[nudes]["branch"]["kind"] == "end"
    assert "no adult involved" in steps[nudes]["text"]


def test_staff_pass_on_concerns_immediately_not_the_same_day():
    for path in (CONTENT_DIR / "policy").rglob("*"):
        if path.is_file():
            passed_on = r"(DSL|[Tt]ell|report|contacts)[^.\n]*the same day"
            assert not re.search(passed_on, path.read_text("utf-8")), path
    for key in ("child", "illegal", "inappropriate", "nudes", "staff"):
        assert any("immediately" in w for w in chart_words(key)), key


# ------------------------------------------------------------------ the words, composed


@pytest.fixture(scope="module")
def primary_text() -> str:
    return composed_policy_text(Path(__file__).parent.parent / "school_config.yaml")


def test_sanctions_separate_the_child_pictured_from_a_sharer_or_coercer(primary_text):
    rows = [
        r"The child pictured, including in a fake or AI-made image Supported as a victim\. "
        r"Never sanctioned",
        r"shared an image of themselves, without pressure from anyone Safeguarding support",
        r"passed on, showed or saved an image of someone else Level 4",
        r"pressured, coerced or blackmailed someone for an image.*Level 5: the DSL refers to "
        r"the police and/or children's social care",
    ]
    for row in rows:
        assert re.search(row, primary_text), row
    assert "sharing nudes or semi-nudes;" not in primary_text  # no longer a level-4 example


def test_searching_follows_the_law(primary_text):
    assert "section 550ZB of the Education Act 1996" in primary_text
    assert "must be the same sex as the pupil" in primary_text
    assert "Wherever possible the search" not in primary_text
    assert re.search(r"only exception is when there is a risk of serious harm", primary_text)


def test_prevent_referrals_are_made_by_the_dsl_and_channel_decides(primary_text):
    assert "a Prevent referral, made by the DSL" in primary_text
    assert "Channel panel" in primary_text
    assert "does not refer to Channel directly" in primary_text
    assert "or to Channel" not in primary_text


def test_one_owner_decides_filtering_changes_and_each_is_recorded(primary_text):
    assert "One person decides every change to what our filtering blocks or allows: the DSL" in (
        primary_text
    )
    assert "record of filtering changes" in primary_text
    assert "the DSL or headteacher has agreed" not in primary_text
    assert "approves any change to what is filtered" not in primary_text


def test_the_senior_leader_for_the_filtering_standards_is_the_schools_choice(
    make_school, primary_text
):
    role = "is the member of the senior leadership team responsible for making sure they are met"
    assert f"The headteacher, Mrs Joanna Whitfield, {role}" in primary_text
    leader = {"name": "Mrs Priya Shah", "role": "Deputy Headteacher"}
    given = {"technology": {"filtering": {"senior_leader": leader}}}
    text = composed_policy_text(make_school(given))
    assert f"Mrs Priya Shah (Deputy Headteacher) {role}" in text
    assert f"Mrs Joanna Whitfield, {role}" not in text


def test_out_of_hours_alerts_are_the_schools_words_or_a_duty(make_school):
    given = composed_policy_text(make_school())
    assert "Out of hours: urgent alerts are phoned by Senso" in given
    none = {"technology": {"monitoring": {"out_of_hours": None}}}
    text = composed_policy_text(make_school(none))
    assert "The DSL is responsible for agreeing with the headteacher" in text


def test_eyfs_phones_and_cameras_as_the_framework_asks(make_school, primary_text):
    assert "requires our safeguarding policy and procedures to cover how mobile phones" in (
        primary_text
    )
    assert "away from children altogether" not in primary_text
    secondary = composed_policy_text(make_school(base="secondary"))
    assert "Phones and cameras in the early years" not in secondary


# ------------------------------------------------------------------ the kind of school


@pytest.mark.parametrize(
    ("changes", "law", "allegations"),
    [
        ({}, "Education Act 2002, section 175", "the chair of governors, Dr Margaret Ellis"),
        (
            {"school": {"trust": "Oak Trust"}},
            "Education Act 2002, section 157",
            "unless the procedures of Oak Trust name someone else",
        ),
        ({"school": {"type": "independent"}}, "section 157", "goes to the proprietor"),
    ],
)
def test_the_law_and_who_hears_allegations_follow_the_school_type(
    make_school, changes, law, allegations
):
    text = composed_policy_text(make_school(changes))
    assert law in text
    assert allegations in text


def test_phones_section_states_the_duty_to_have_regard(make_school, primary_text):
    assert re.search(
        r"Since 29 June 2026 .*section 550C of the Education Act 1996, added by section 36 of "
        r"the Children's Wellbeing and Schools Act 2026, says that the headteacher must have "
        r"regard",
        primary_text,
    )
    academy = composed_policy_text(make_school({"school": {"trust": "Oak Trust"}}))
    assert "says that the academy's proprietor (Oak Trust) must have regard" in academy


# ------------------------------------------------------------------ guidance editions


@pytest.mark.parametrize(
    ("key", "field", "value"),
    [
        ("kcsie", "title", "Keeping children safe in education 2025"),
        ("kcsie", "in_force", dt.date(2025, 9, 1)),
        ("genai_safety", "title", "Generative AI: product safety standards"),
        ("genai_safety", "edition", "updated 19 January 2026"),
        ("mobile_phones", "edition", "updated January 2026"),
        ("cwsa", "in_force", dt.date(2026, 6, 29)),
        ("rshe", "in_force", dt.date(2026, 9, 1)),
        ("rshe", "edition", "July 2025 edition, in force from 1 September 2026"),
        ("sharing_nudes", "edition", "updated March 2024"),
        ("duaa", "in_force", dt.date(2026, 6, 19)),
        ("osa", "title", "Online Safety Act 2023"),
        ("ofsted_framework", "edition", "in use from 10 November 2025"),
    ],
)
def test_guidance_editions(key, field, value):
    assert GUIDANCE["documents"][key][field] == value


def test_the_policy_says_which_editions_it_follows(primary_text):
    assert "as they stood for the 2026–27 school year" in primary_text
    assert "Generative AI: product safety standards (Department for Education, updated 19 " in (
        primary_text
    )


# ------------------------------------------------------------------ nothing invented


def test_nothing_the_config_does_not_give(make_school):
    text = composed_policy_text(
        make_school(
            {"people": {"computing_lead": None}, "phones": {"staff": {"photos_of_pupils": "never"}}}
        )
    )
    invented = (
        "guest Wi-Fi",
        "guest access",
        "once a term",
        "each term",
        "professional photographer",
        "agreed by governors",
        "by a named teacher",
        "is named in this version",  # a note to the school, not policy
    )
    assert [phrase for phrase in invented if phrase in text] == []


# Practices, services and facilities a DSL found stated as fact in December 2026, none of
# them in the sample config: each is now a rule, an expectation or the school's own words.
NEVER_GIVEN = (
    "school mobile phone",
    "information sessions",
    "written into our agreement",
    "Nursery",
    "can lock or wipe",
    "kept securely in the school office",
    "usually treated as gross misconduct",
    "serious breach of the behaviour policy",
    "is the senior leader responsible",
    "data protection lead",
    "The school's own social media accounts are run",
)


# And anywhere in the pack (the parents' page, the forms): periods, accounts and routes no
# key of the config gives.
NEVER_GIVEN_IN_THE_PACK = (
    "Taken down within two years",
    "no more than three years",
    "at the end of the school year",
    "check them each September",
    "official social media",
    "owner's risk",
    "an adult is always with",
    "clerk to the governors",
    "trained to the same level",
    "does not accept liability",
    "A simple watch",
    "in the school office until the end of the day",
    "same day",
    "aged 12 and over",
    "We mark Safer Internet Day",
    "how quickly they can expect an answer",
    "meets the DSL",
    "give their family the school's number",
    "We mark Anti-Bullying Week",
    "designated senior person",
    "voice groups",
    "contact a parent or carer first",
    "tested by restoring",
    "where the facts are proved",
    "the data protection officer decides",
)


def pack_text(path: Path) -> str:
    """Every web page of a school's pack, composed, as plain text."""
    pack = compose(load_config(path), path.parent)
    return squash(" ".join(markup.to_plain_text(page.markdown) for page in pack.pages))


def test_no_practice_the_school_did_not_give(primary_text):
    assert [phrase for phrase in NEVER_GIVEN if phrase in primary_text] == []
    for school in (ROOT / "school_config.yaml", *sorted((ROOT / "tests/schools").glob("*.yaml"))):
        text = pack_text(school)
        assert [phrase for phrase in NEVER_GIVEN_IN_THE_PACK if phrase in text] == [], school


def test_the_photo_form_asks_about_social_media_and_periods_only_as_given(make_school):
    text = pack_text(ROOT / "school_config.yaml")
    assert "social media pages" not in text
    assert "set out in our data protection policy" in text
    config = make_school(
        {
            "images": {
                "social_media": ["https://www.facebook.com/brookside.example"],
                "retention": "class messages until the end of the school year.",
            }
        }
    )
    text = pack_text(config)
    assert "The school's social media pages www.facebook.com/brookside.example: open to" in text
    assert "How long we keep images: class messages until the end of the school year." in text


def test_an_absent_dsl_never_delays_action(primary_text):
    assert "If nobody who leads on safeguarding can be reached, that never delays action" in (
        primary_text
    )
    assert "take advice from children's social care directly, and tell the DSL" in primary_text
    assert "Anyone can also refer a worry about a child straight to" in primary_text


def test_illegal_material_about_the_headteacher_goes_to_the_chair():
    steps = " ".join(chart_words("illegal"))
    head = "{{ the_head }}"
    assert f"If it involves {head}, go instead to {{{{ say.head_allegations_short }}}}" in steps
    assert f"tells {{{{ say.lado_short }}}} at once. If it is about {head}, that falls to" in steps
    assert "lado_within" not in steps  # illegal material: the police and LADO at once


def test_the_lado_is_told_in_the_time_each_nation_sets(primary_text):
    assert "within one working day, before any investigation" in primary_text  # KCSIE
    welsh = composed_policy_text(ROOT / "tests" / "schools" / "welsh_middle.yaml")
    assert "within 24 hours (by the next working day if it arises out of hours)" in welsh
    assert "within one working day" not in welsh


def test_an_image_is_viewed_only_as_ukcis_allows(primary_text):
    for condition in (
        "Only where viewing is unavoidable",
        "with the headteacher's agreement",
        "another senior member of staff in the room who does not view it",
        "same sex as the child pictured",
        "never copied, printed or saved",
    ):
        assert condition in primary_text, condition


def test_students_of_18_are_adults_in_law(primary_text):
    sixth_form = composed_policy_text(SCHOOLS / "academy_sixth_form.yaml")
    assert "Students aged 18 or over are adults in law" in sixth_form
    assert "An adult student who shares, makes, asks for or keeps a nude" in sixth_form
    assert "an adult is involved (a student aged 18 or over included)" in sixth_form
    assert "adult social care" in sixth_form
    assert "aged 18 or over" not in primary_text  # no sixth form, nothing to say


def test_fraud_is_reported_to_report_fraud_not_action_fraud(primary_text):
    assert "Report Fraud" in primary_text and "0300 123 2040" in primary_text
    assert "Action Fraud" not in primary_text


def test_guest_wifi_is_mentioned_only_when_the_school_has_it(make_school):
    text = composed_policy_text(make_school({"technology": {"guest_wifi": True}}))
    assert "including guest Wi-Fi" in text and "They use the guest Wi-Fi" in text


def test_key_contacts_use_the_config_or_say_who_holds_them(make_school, primary_text):
    assert "Kingsbridge Children's Front Door" in primary_text and "01632 960123" in primary_text
    assert "Kingsbridge Schools Data Protection Service" in primary_text
    bare = composed_policy_text(
        make_school({"people": {"dpo": None}, "contacts": {"childrens_services": None}})
    )
    assert "usually through the DSL, though anyone can make a referral" in bare
    assert "Our data protection policy names our data protection officer" in bare


# ------------------------------------------------------------------ esafety check


def paths(config: Path, on: dt.date = TODAY) -> set[str]:
    loaded = load_config(config)
    return {f.path for f in findings(loaded, on, Composer(loaded, config.parent).data)}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"people": {"dpo": None}}, "people.dpo"),
        ({"people": {"lado": {"name": "LADO team", "phone": None}}}, "people.lado"),
        ({"people": {"chair_of_governors": None}}, "people.chair_of_governors"),
        ({"contacts": {"childrens_services": None}}, "contacts.childrens_services"),
        (
            {"technology": {"monitoring": {"out_of_hours": None}}},
            "technology.monitoring.out_of_hours",
        ),
    ],
)
def test_check_warns_when_a_key_that_strengthens_the_policy_is_missing(
    make_school, changes, expected
):
    assert paths(make_school(changes)) == {expected}


def test_physical_monitoring_needs_no_out_of_hours_arrangement(make_school):
    changes = {"technology": {"monitoring": {"method": "physical", "out_of_hours": None}}}
    assert paths(make_school(changes)) == set()


@pytest.mark.parametrize(
    ("people", "expected"),
    [
        ({"online_safety_governor": {"name": "Mr Daniel O'Connor"}}, "people.dsl"),
        ({"chair_of_governors": {"name": "mrs  joanna whitfield"}}, "people.headteacher"),
        ({"deputy_dsls": [{"name": "Mr Daniel O'Connor"}]}, "people.deputy_dsls"),
        ({"dpo": {"name": "Mrs Joanna Whitfield"}}, "people.headteacher"),
    ],
)
def test_check_warns_when_one_person_holds_two_roles_that_clash(make_school, people, expected):
    found = findings(load_config(make_school({"people": people})), TODAY)
    clash = [f for f in found if "is given as both" in f.problem]
    assert len(clash) == 1 and expected in clash[0].problem
    if "online_safety_governor" in people:  # the name as written, not as compared
        assert clash[0].problem.startswith('"Mr Daniel O\'Connor" is given as both')


# The sample's own words name "the headteacher" (out-of-hours alerts, phone exceptions).
OWN_WORDS = {
    "technology": {"monitoring": {"out_of_hours": "alerts are phoned to the DSL"}},
    "phones": {"pupils": {"exceptions": "Pupils with medical needs"}},
}


def test_the_head_is_called_by_their_own_title(make_school):
    """An academy's "Principal" is the Principal throughout, never "the headteacher"; only
    the statute's own duty keeps the law's word."""
    principal = {"name": "Mr Amos Reed", "role": "Principal"}
    text = composed_policy_text(make_school({"people": {"headteacher": principal}, **OWN_WORDS}))
    assert text.count("the Principal") > 20
    assert "Tell the Principal, Mr Amos Reed, immediately" in text
    statutory = re.findall(r"[^.]*\bheadteacher\b[^.]*", text)
    assert all("must have regard" in sentence for sentence in statutory), statutory


def test_northern_ireland_calls_the_head_the_principal(make_school):
    head = {"name": "Ms Ann Dale"}
    school = {"school": {"nation": "northern-ireland"}, "people": {"headteacher": head}}
    text = composed_policy_text(make_school({**school, **OWN_WORDS}))
    assert "the principal, Ms Ann Dale" in text
    assert "headteacher" not in text.replace("must have regard", "")


def test_a_headteacher_who_is_the_dsl_is_not_a_clash(make_school):
    same = make_school({"people": {"dsl": {"name": "Mrs Joanna Whitfield"}}})
    assert not [f for f in findings(load_config(same), TODAY) if "is given as both" in f.problem]


def test_check_warns_once_a_new_school_year_begins_after_the_review_year(make_school):
    config = make_school()
    year = GUIDANCE["reviewed_for"]
    assert "content/guidance.yaml" not in paths(config, dt.date(year + 1, 8, 31))
    loaded = load_config(config)
    late = findings(loaded, dt.date(year + 1, 9, 1), Composer(loaded, config.parent).data)
    currency = [f for f in late if "update esafety-pack" in f.action]
    assert len(currency) == 1
    assert f"{year}–{(year + 1) % 100:02d} school year" in currency[0].problem


def test_school_type_is_validated_with_a_suggestion(make_school, capsys: Any):
    from generator.cli import main

    config = make_school({"school": {"type": "acadamy"}})
    assert main(["check", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert re.search(r"school_config\.yaml:\d+: school\.type: .*did you mean 'academy'", err)


def test_sixth_form_students_and_staff_have_the_law_that_applies_to_them(primary_text):
    """With students of 16 and over: abuse of a position of trust is named, and an
    intimate image of a student aged 18 or over has its own route (StopNCII, the Revenge
    Porn Helpline), since Report Remove and the UKCIS advice are for under-18s."""
    sixth = composed_policy_text(SCHOOLS / "academy_sixth_form.yaml")
    assert "abuse of a position of trust" in sixth
    assert re.search(r"StopNCII\.org and the Revenge Porn Helpline \(0345 6000 459\) for an "
                     r"image taken when they were 18 or over", sixth)  # fmt: skip
    assert (
        "that agreement is asked for wherever this policy says that parents or carers are told"
        in sixth
    )
    assert "StopNCII" not in primary_text and "position of trust" not in primary_text
    for text in (sixth, primary_text):
        assert "genitals to cause alarm, distress or humiliation" in text  # cyberflashing
        assert "without their consent (cyberflashing)" not in text


@pytest.mark.parametrize(
    ("nation", "sanction", "prevent"),
    [
        ("scotland", "exclusion or exclusion with removal from the register", True),
        ("northern-ireland", "suspension or expulsion", False),
        ("wales", "fixed-term exclusion or permanent exclusion", True),
    ],
)
def test_each_nations_school_is_governed_and_sanctioned_in_its_own_terms(
    make_school, nation: str, sanction: str, prevent: bool
):
    """A secondary in a trust, moved out of England: no academy, proprietor or scheme of
    delegation (trusts are England's), the nation's own words for exclusions, a title
    never said twice, and the Prevent duty where it applies (not Northern Ireland)."""
    config = make_school({"school": {"nation": nation}}, base="secondary")
    text = composed_policy_text(config)
    for english in ("proprietor", "scheme of delegation", "academy", "permanent exclusion"):
        if not (english == "permanent exclusion" and nation == "wales"):
            assert english not in text, english
    assert sanction in text
    assert "child protection coordinator (child protection coordinator)" not in text
    assert ("the Prevent duty" in text) is prevent
    if nation == "scotland":  # the Home Office's guidance for Scotland (updated 8 May 2024)
        assert "Prevent duty guidance: for Scotland" in text
        assert "passes it to a Prevent Multi-Agency Panel (PMAP), led by the local" in text
        assert "Channel" not in text
    found = [f.path for f in findings(load_config(config), TODAY)]
    assert "school.trust" in found
    for words in NATIONAL_GUIDANCE[nation]:
        assert words in text, words
    for english in ("at least every two years", "meant to hurt someone"):
        assert english not in text or nation == "wales", english
    assert "sent to: DSL" not in text  # alerts_to's "DSL" in the nation's words
    consent = pack_words(config)  # the forms too
    assert ("aged 12 or over is presumed able to decide" in consent) is (nation == "scotland")
    scots_capacity = "a young person of 16 or over has the legal capacity to give or refuse"
    assert (scots_capacity in consent) is (nation == "scotland")  # the 1991 Act, s1


# What each nation's own guidance and law say (checked with `search`, December 2026;
# editions in content/guidance.yaml): phones, bullying, the DSL's refresher training.
NATIONAL_GUIDANCE = {
    "scotland": [
        "Mobile phones: guidance for Scotland's schools (August 2024), does not set a national ban",
        "It does not have to be intended, or repeated, to be bullying",
        "formal safeguarding training as often as local child protection procedures require",
        "It is part of technologies and health and wellbeing, and teachers return",  # as the
        # parents' page says (the policy said "computing ... personal and social education")
        "support under Getting it right for every child (GIRFEC)",  # not England's "early help"
        "Adult Support and Protection procedures",
        # Included, engaged and involved part 2 (2017): searches are consensual only
        "In Scotland, school staff have no power to search a pupil without consent",
        # National Guidance 2021 (updated 2023), para 4.244: not "manage it in school"
        "still reports the incident to Police Scotland or social work services, so that an "
        "inter-agency referral discussion (IRD) can be considered",
        "cyberflashing, apply only in England and Wales; Scotland has its own criminal law",
        "Civic Government (Scotland) Act 1982, sections 52 and 52A",
        "Abusive Behaviour and Sexual Harm (Scotland) Act 2016, section 2",
    ],  # and in the photo consent form: a pupil of 12 or over decides (DPA 2018 s208)
    "northern-ireland": [
        "recommends that pupils do not use their phones during the school day, and that "
        "phones are not normally brought into primary schools",
        "the law defines bullying (Addressing Bullying in Schools Act (Northern Ireland) 2016",
        "as the law requires for every incident of bullying or alleged bullying, with its "
        "motivation",
        "formal safeguarding training at least every three years",
        "It is part of ICT and personal development, and teachers return",
        "early intervention support, for example through a Family Support Hub",
        # failing to tell the police of an arrestable offence is itself an offence in NI
        "only after taking advice from the Education Authority's Child Protection Support "
        "Service or the PSNI",
        "Criminal Law Act (Northern Ireland) 1967, section 5",
        "Protection of Children (Northern Ireland) Order 1978, article 3",
        "whose designated officers advise schools on child protection",  # not "manages"
        "cyberflashing, apply only in England and Wales; Northern Ireland has its own",
    ],
    "wales": [
        "In Wales, each school sets its own rule on phones",
        "as often as the national safeguarding training standards for Wales require",
    ],
}


def test_englands_dsl_training_and_bullying_follow_the_dfe(primary_text):
    assert "formal safeguarding training at least every two years" in primary_text
    assert "usually repeated, that is meant to hurt someone" in primary_text
    for words in ("Respect for All", "Addressing Bullying", "three years"):
        assert words not in primary_text


def test_the_bullying_act_binds_only_grant_aided_schools_in_northern_ireland(make_school):
    """An independent school in Northern Ireland is not bound by the 2016 Act."""
    config = make_school(
        {"school": {"nation": "northern-ireland", "type": "independent"}}, base="secondary"
    )
    text = composed_policy_text(config)
    assert "Addressing Bullying" not in text
    assert "usually repeated, that is meant to hurt someone" in text


def test_a_school_with_no_phone_or_email_is_told_parents_cannot_reach_it():
    bare = [f.path for f in findings(load_config(SCHOOLS / "infant_minimal.yaml"), TODAY)]
    assert "school.phone" in bare
    sample = [f.path for f in findings(load_config(ROOT / "school_config.yaml"), TODAY)]
    assert "school.phone" not in sample


def test_a_dsl_role_that_is_a_safeguarding_title_is_not_said_twice():
    """A Welsh school's DSP whose job title is "Designated Senior Person" read as
    "Designated safeguarding person (DSP); Designated Senior Person"; a job that says more
    (the default school's) is still given."""
    welsh = composed_policy_text(SCHOOLS / "welsh_middle.yaml")
    assert "Designated Senior Person" not in welsh
    assert "Mrs Nia Ffion Hughes" in welsh
    default = yaml.safe_load((ROOT / "school_config.yaml").read_text("utf-8"))
    assert default["people"]["dsl"]["role"] in composed_policy_text(ROOT / "school_config.yaml")


def pack_words(config: Path) -> str:
    """Every page's Markdown and every print document's HTML, composed (no PDF made)."""
    pack = compose(load_config(config), config.parent)
    return "\n".join(
        [p.markdown for p in pack.pages] + [PrintJob(pack, d).html() for d in pack.prints]
    )


def test_a_scottish_council_school_has_no_governors(tmp_path: Path):
    """A council school in Scotland has no governing body: its education authority is
    responsible (Education (Scotland) Act 1980, s1) and the head teacher runs it. No page or
    form names governors; an allegation about the head goes to the authority; the config
    needs no online safety governor, and check says one given is not printed."""
    data = school_data("all_through")
    data["school"].update(nation="scotland", local_authority="Eastwick Council")
    governor = data["people"].pop("online_safety_governor")
    data["people"].pop("chair_of_governors")
    council = write_school(tmp_path / "council", data)
    words = pack_words(council)
    assert re.findall(r"(?i)governor|governing", words) == ["governing"] * 2  # page and PDF
    assert "Eastwick Council is responsible for education at St Mary's, a council school " in words
    assert "goes to Eastwick Council, under its procedure for allegations against staff" in words

    data["people"]["online_safety_governor"] = governor
    warned = [f.path for f in findings(load_config(write_school(tmp_path / "c2", data)), TODAY)]
    assert "people.online_safety_governor" in warned
    data["school"]["type"] = "independent"  # Scotland's independent schools have boards
    assert "The governor responsible for online safety" in pack_words(
        write_school(tmp_path / "independent", data)
    )


def test_everywhere_else_the_online_safety_governor_is_required(tmp_path: Path):
    data = school_data("primary")
    data["people"].pop("online_safety_governor")
    with pytest.raises(ConfigError, match=r"people\.online_safety_governor: required, but missing"):
        load_config(write_school(tmp_path / "school", data))


def test_check_names_englands_words_in_another_nations_config(tmp_path: Path):
    data = school_data("secondary")  # its LADO is "Northam LADO Team"
    data["phones"]["pupils"]["exceptions"] = "SEND plans agreed with the SENCo"
    data["school"]["type"] = "maintained"

    def flagged(nation: str) -> dict[str, str]:
        data["school"]["nation"] = nation
        config = load_config(write_school(tmp_path / nation, data))
        found = findings(config, TODAY, Composer(config, tmp_path / nation).data)
        return {f.problem: f.path for f in found if "England" in f.problem}

    assert flagged("england") == {}
    scottish = flagged("scotland")
    said = '"{}" is England\'s word; in Scotland the pack says "{}"'.format
    assert scottish[said("LADO", "local authority")] == ("people.lado.name")
    assert scottish[said("SEND", "additional support needs")] == "phones.pupils.exceptions"
    assert len(scottish) == 4  # and "SENCo", and a deputy who is "Head of Year ..."
    data["phones"]["pupils"]["who_may_bring"] = "Pupils in Years 10 and 11"
    assert '"Years 10" counts school years as England' in " ".join(flagged("scotland"))
    data["phones"]["pupils"]["who_may_bring"] = "Pupils in S4 and S5"
    assert sorted(flagged("northern-ireland").values()) == [  # SENCo is NI's word too
        "people.lado.name",
        "phones.pupils.exceptions",
    ]
