"""The compliance check: what a DSL should put right before an inspector asks.

Each finding names the config key (or content file) it is about, what is wrong and what
to do. ``esafety check`` prints them, ``--strict`` makes any of them fail, and the site's
staff page "Review status" shows the same list. "Today" can be set with the ESAFETY_TODAY
environment variable (YYYY-MM-DD) so results are repeatable.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .brand import darken_for_white_text
from .config import KEY_STAGES_BY_PHASE, Config, add_months
from .markup import format_date
from .schoolyear import academic_year_start

REVIEW_SOON_DAYS = 30
LINK_CHECK_MONTHS = 12


@dataclass(frozen=True)
class Finding:
    path: str  # the config key or content file it is about
    problem: str
    action: str  # what the person running the tool does
    staff_action: str | None = None  # the same for the staff page's readers, with no tool

    @property
    def for_staff(self) -> str:
        return self.staff_action or self.action

    def __str__(self) -> str:
        return f"{self.path}: {self.problem}; {self.action}"


def today() -> dt.date:
    """Today, or ESAFETY_TODAY when set (raises ValueError if it is not a date)."""
    given = os.environ.get("ESAFETY_TODAY")
    return dt.date.fromisoformat(given) if given else dt.date.today()


def _draft(config: Config, day: dt.date) -> Finding:
    review = config.review
    if review.status == "draft":
        return Finding(
            "review.status",
            f"version {review.version} is a draft, so every page and PDF says 'Draft for approval'",
            "once governors approve it, set status: approved (or remove the line)",
            "the marks go once governors have approved it",
        )
    return Finding(
        "review.approved_on",
        f"version {review.version} goes to governors for approval on "
        f"{format_date(review.approved_on)}, after today, so every page and PDF says "
        "'Draft for approval' until then",
        "build again on or after that day (nothing else to change); if the meeting moves, "
        "change the date",
        "the marks go when the pack is rebuilt on or after that day; if the meeting moves, "
        "the date in the pack must move with it",
    )


def findings(
    config: Config, on: dt.date | None = None, data: Callable[[str], Any] | None = None
) -> list[Finding]:
    """Every finding for ``config`` as of ``on`` (default: today).

    ``data`` reads a content data file (``Composer.data``); with it, the trusted links
    and guidance editions the pack prints are checked too.
    """
    day = on or today()
    found = _review_dates(config, day) + _filtering_and_monitoring(config, day)
    found += _trust_outside_england(config)
    found += _governors_without_a_board(config)
    if not config.people.deputy_dsls:
        found.append(
            Finding(
                "people.deputy_dsls",
                "no deputy DSL is named",
                "name at least one so concerns can be raised when the DSL is away",
            )
        )
    found += _key_stages(config)
    if config.is_draft(day):
        found.append(_draft(config, day))
    for stage in config.key_stages:
        pupils = config.phone_rule(stage)
        if pupils.rule == "allowed" and not pupils.details:
            where = f"by_stage.{stage}." if stage in config.phones.pupils.by_stage else ""
            found.append(
                Finding(
                    f"phones.pupils.{where}details",
                    "the rule is 'allowed' but says nothing about where and when",
                    "add details so pupils and parents know the limits",
                )
            )
            break
    found += _exceptions_dropped(config)
    colour = config.school.colour
    if colour and darken_for_white_text(colour) != colour:
        found.append(
            Finding(
                "school.colour",
                f"{colour} is too light for white text, so the "
                f"pack uses {darken_for_white_text(colour)} instead",
                "whoever looks after this site can choose a darker colour",
            )
        )
    found += made_up(config) + _missing_contacts(config) + _two_roles(config)
    found += _extra_links(config, day)
    if data is not None:
        found += _trusted_links(data("resources.yaml"), day)
        guidance = data("guidance.yaml")
        found += _currency(guidance, day) + _guidance(guidance, config, day)
        found += _england_words(config, data("nations.yaml"), guidance)
    return found


# England's words a school elsewhere may have copied into its config, and the term
# (content/nations.yaml) its own nation uses instead; None: its safeguarding guidance.
_ENGLAND_WORDS = (
    (re.compile(r"\bLADO\b"), "LADO"),
    (re.compile(r"\bSENCO\b", re.I), "senco"),
    (re.compile(r"\bSEND\b"), "sen"),
    (re.compile(r"\bOfsted\b"), "inspectorate"),
    (re.compile(r"\bKCSIE\b|keeping children safe in education", re.I), None),
)


_ENGLISH_YEAR = re.compile(r"\bYears? \d{1,2}\b")


def _england_words(config: Config, nations: Any, guidance: Any) -> list[Finding]:
    """A value in a Welsh, Scottish or Northern Irish config that uses England's word
    ("LADO", "SEND", "Ofsted") where its own nation has another: the pack would read as
    two nations' at once."""
    from .scaffold import leaves

    nation = nations.get(config.school.nation, {})
    if config.school.nation == "england" or not nation:
        return []
    safeguarding = guidance["documents"][nation["guidance"]["safeguarding"]]["title"]
    found = []
    for path, value in leaves(config.model_dump(mode="json", exclude_none=True)):
        for pattern, key in _ENGLAND_WORDS if isinstance(value, str) else ():
            ours = nation["terms"][key] if key else safeguarding
            match = pattern.search(value)
            if match and match.group().lower() not in ours.lower():
                found.append(
                    Finding(
                        path,
                        f'"{match.group()}" is England\'s word; in {config.nation_name} the '
                        f'pack says "{ours}"',
                        "use that, or your area's own name for it, so the pack reads as one "
                        "nation's",
                    )
                )
        year = _ENGLISH_YEAR.search(value) if isinstance(value, str) else None
        if year and config.school.nation == "scotland":
            found.append(
                Finding(
                    path,
                    f'"{year.group()}" counts school years as England, Wales and Northern '
                    "Ireland do; in Scotland the pack says P1 to P7 and S1 to S6",
                    "use those, so pupils and parents read the rule as it is meant",
                )
            )
    return found


def _exceptions_dropped(config: Config) -> list[Finding]:
    """A by_stage entry stands alone: one that lets phones into school but gives no
    exceptions leaves its pupils without the school-wide ones (medical needs, young
    carers...), likely by oversight."""
    pupils = config.phones.pupils
    if not pupils.exceptions:
        return []
    return [
        Finding(
            f"phones.pupils.by_stage.{stage}.exceptions",
            "not given, so the school-wide exceptions (phones.pupils.exceptions) do not "
            "apply to these pupils",
            "repeat them there if they should, or say none apply",
            "ask whoever keeps the pack's config whether these pupils have the same "
            "exceptions as the rest of the school",
        )
        for stage, rule in pupils.by_stage.items()
        if stage in config.key_stages and rule.exceptions is None and rule.rule != "not_allowed"
    ]


def made_up(config: Config) -> list[Finding]:
    """Values still as ``esafety new`` wrote them: made-up people, places and numbers."""
    from .scaffold import leaves, made_up_values

    examples = made_up_values()
    where = " (here, or in the shared file this config extends)" if config.shared_folders else ""
    return [
        Finding(
            path,
            f'"{value}" is a made-up example from esafety new',
            f"put your own in its place{where}",
            "ask whoever keeps the pack's config to put the school's own in its place",
        )
        for path, value in leaves(config.model_dump(mode="json"))
        if value in examples.get(re.sub(r"\[\d+\]", "[]", path), ())
    ]


def _missing_contacts(config: Config) -> list[Finding]:
    """Optional keys whose absence leaves the policy naming a duty but not a person."""
    people, tech = config.people, config.technology
    found = []
    if not (people.dsl.email or people.dsl.phone):
        found.append(
            Finding(
                "people.dsl",
                "no email or phone number for the DSL: the policy and the parents' page "
                "name them but cannot say how to reach them",
                "add people.dsl.email (or phone)",
            )
        )
    if not (config.school.phone or config.school.email):
        found.append(
            Finding(
                "school.phone",
                "no phone number or email for the school: the parents' page, the leaflet "
                "and the policy tell people to contact the school office but cannot say how",
                "add school.phone (and school.email)",
            )
        )
    if people.lado is None or not (people.lado.phone or people.lado.email):
        found.append(
            Finding(
                "people.lado",
                "no phone number or email for the LADO",
                "add their phone so staff can reach them without delay",
            )
        )
    if config.contacts.childrens_services is None:
        found.append(
            Finding(
                "contacts.childrens_services",
                "no children's social care front door is given",
                "add its name and phone so the key contacts list it",
            )
        )
    if people.dpo is None:
        found.append(
            Finding(
                "people.dpo",
                "no data protection officer is named",
                "name one so staff know who to tell about a data breach",
            )
        )
    if people.chair_of_governors is None and config.has_governors:
        found.append(
            Finding(
                "people.chair_of_governors",
                "no chair of governors is named",
                "add one: they hear allegations about the headteacher",
            )
        )
    if tech.monitoring.method in ("software", "both") and not tech.monitoring.out_of_hours:
        found.append(
            Finding(
                "technology.monitoring.out_of_hours",
                "nothing says who sees monitoring alerts outside school hours and in holidays",
                "agree it with the DSL and the provider, and add it",
            )
        )
    return found


# Roles one person should not hold together: a governor who checks the staff, a head who
# hears allegations about themselves, a deputy who covers for themselves, a DPO who judges
# their own decisions. (A headteacher who is also the DSL is common and allowed.)
_GOVERNOR_ROLES = ("online_safety_governor", "chair_of_governors")
_STAFF_ROLES = ("headteacher", "dsl", "deputy_dsls", "online_safety_lead", "computing_lead")
_CLASHES = (
    *((g, s) for g in _GOVERNOR_ROLES for s in _STAFF_ROLES),
    ("dsl", "deputy_dsls"),
    ("dpo", "headteacher"),
    ("dpo", "dsl"),
)


def _two_roles(config: Config) -> list[Finding]:
    names: dict[str, dict[str, str]] = {}  # role: {name compared: name as written}
    for role in {r for pair in _CLASHES for r in pair}:
        value = getattr(config.people, role)
        for person in value if isinstance(value, list) else [value]:
            if person is not None:
                key = " ".join(person.name.casefold().split())
                names.setdefault(role, {})[key] = person.name
    found = []
    for first, second in _CLASHES:
        for key in sorted(names.get(first, {}).keys() & names.get(second, {}).keys()):
            found.append(
                Finding(
                    f"people.{second}",
                    f'"{names[first][key]}" is given as both people.{first} and people.{second}',
                    "give each role its own person, or correct the name if it is a mistake",
                )
            )
    return found


def _currency(guidance: dict[str, Any], day: dt.date) -> list[Finding]:
    """The content was reviewed for one school year; a new one starts each 1 September."""
    year = guidance.get("reviewed_for")
    if not isinstance(year, int) or day < dt.date(year + 1, 9, 1):
        return []
    return [
        Finding(
            "content/guidance.yaml",
            f"this version of esafety-pack follows law and guidance as reviewed for the "
            f"{year}–{(year + 1) % 100:02d} school year, and a new school year began on "
            f"{format_date(dt.date(year + 1, 9, 1))}",
            "update esafety-pack (a new KCSIE usually takes effect each September), then rebuild",
        )
    ]


def _key_stages(config: Config) -> list[Finding]:
    """Key stages a school of its phase does not teach (a secondary school's config
    started from a primary's still listing KS1 and KS2 gets their rules and posters)."""
    phase = config.school.phase
    unusual = [ks for ks in config.school.key_stages or () if ks not in KEY_STAGES_BY_PHASE[phase]]
    if not unusual:
        return []
    names = " and ".join([", ".join(ks.upper() for ks in unusual[:-1]), unusual[-1].upper()])
    names = names.removeprefix(" and ")
    return [
        Finding(
            "school.key_stages",
            f"lists {names}, which a {phase} school does not usually teach, so the pack "
            f"has rules and posters for {'it' if len(unusual) == 1 else 'them'}",
            "check the list, or leave key_stages out to follow the phase",
        )
    ]


def _review_dates(config: Config, day: dt.date) -> list[Finding]:
    due = config.next_review
    if due < day:
        return [
            Finding(
                "review.next_review",
                f"the policy review was due on {format_date(due)}",
                "review it, then run esafety review to record the new version",
                "governors review the policy and approve its next version",
            )
        ]
    if (due - day).days <= REVIEW_SOON_DAYS:
        return [
            Finding(
                "review.next_review",
                f"the policy review is due on {format_date(due)}, within {REVIEW_SOON_DAYS} days",
                "put it on the governors' agenda",
            )
        ]
    return []


def _trust_outside_england(config: Config) -> list[Finding]:
    if not config.school.trust or config.school.nation == "england" or config.school.type:
        return []
    return [
        Finding(
            "school.trust",
            f"academy trusts are England's, so in {config.nation_name} the policy treats "
            "the school as maintained by its education authority",
            "remove school.trust, or set school.type if the school is independent",
        )
    ]


def _governors_without_a_board(config: Config) -> list[Finding]:
    """A Scottish council school has no governing body: governors given are not printed."""
    if config.has_governors:
        return []
    return [
        Finding(
            f"people.{role}",
            "a council school in Scotland has no governing body, so the pack names no "
            "governors: this person is not printed",
            "remove it, or set school.type: independent if the school has a board of governors",
        )
        for role in ("online_safety_governor", "chair_of_governors")
        if getattr(config.people, role) is not None
    ]


def _filtering_and_monitoring(config: Config, day: dt.date) -> list[Finding]:
    tech = config.technology
    found = []
    if not tech.filtering.provider:
        found.append(
            Finding(
                "technology.filtering.provider",
                "no filtering provider is named",
                "the DfE filtering standard expects the school to know and record its system",
            )
        )
    monitoring = tech.monitoring
    if monitoring.method is None:
        assumed = (
            f"software from {monitoring.provider} with staff supervision"
            if monitoring.provider
            else "staff supervising pupils and watching screens, with no software"
        )
        found.append(
            Finding(
                "technology.monitoring.method",
                f"how monitoring is done is not given, so the policy says it is {assumed}",
                "set it to software, physical or both",
                "ask whoever keeps the pack's config to say how monitoring is done",
            )
        )
    elif monitoring.method != "physical" and not monitoring.provider:
        found.append(
            Finding(
                "technology.monitoring.provider",
                f"monitoring is '{monitoring.method}' but no monitoring software is named",
                "name it, so staff and governors know what flags concerns",
            )
        )
    reviewed = tech.filtering.last_reviewed
    if reviewed is None:
        found.append(
            Finding(
                "technology.filtering.last_reviewed",
                "no date for the annual filtering and monitoring review",
                "hold one with the DSL, SLT and IT provider, and record the date",
            )
        )
    elif add_months(reviewed, 12) < day:
        found.append(
            Finding(
                "technology.filtering.last_reviewed",
                f"the filtering and monitoring review of {format_date(reviewed)} "
                "is over 12 months old",
                "review again",
            )
        )
    return found


def _stale(checked: dt.date | None, day: dt.date) -> bool:
    return checked is not None and add_months(checked, LINK_CHECK_MONTHS) < day


def _extra_links(config: Config, day: dt.date) -> list[Finding]:
    return [
        Finding(
            f"extra_resources[{i}].last_checked",
            f"the link to {resource.title} was last checked on "
            f"{format_date(resource.last_checked)}, over a year ago",
            "open it, make sure it still works, and update the date",
            "someone opens it and makes sure it still works",
        )
        for i, resource in enumerate(config.extra_resources)
        if _stale(resource.last_checked, day)
    ]


def _trusted_links(resources: dict[str, Any], day: dt.date) -> list[Finding]:
    return [
        Finding(
            "content/resources.yaml",
            f"the link to {item['title']} was last checked on "
            f"{format_date(item['last_checked'])}, over a year ago",
            "open it, make sure it still goes to the right page, and update last_checked",
            "someone opens it and makes sure it still goes to the right page",
        )
        for item in resources["resources"]
        if _stale(item.get("last_checked"), day)
    ]


def _guidance(guidance: dict[str, Any], config: Config, day: dt.date) -> list[Finding]:
    """Editions older than this school year, unless someone checked since it began."""
    year_start = academic_year_start(day)
    checked = guidance.get("checked")
    if isinstance(checked, dt.date) and checked >= year_start:
        return []
    nation = config.school.nation
    old = [
        doc
        for doc in guidance["documents"].values()
        if doc.get("year")
        and doc["year"] < year_start.year
        and nation in doc.get("nations", [nation])
    ]
    return [
        Finding(
            "content/guidance.yaml",
            f"{doc['title']} is older than the {year_start.year}–"
            f"{(year_start.year + 1) % 100:02d} school year",
            "check for a newer edition, update its title, year and link, then set checked to today",
            "someone checks for a newer edition, so the policy cites the current one",
        )
        for doc in old
    ]
