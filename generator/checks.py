"""The compliance check: what a DSL should put right before an inspector asks.

Each finding names the config key (or content file) it is about, what is wrong and what
to do. ``esafety check`` prints them, ``--strict`` makes any of them fail, and the site's
staff page "Review status" shows the same list. "Today" can be set with the ESAFETY_TODAY
environment variable (YYYY-MM-DD) so results are repeatable.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .brand import darken_for_white_text
from .config import Config, add_months
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
        "build again on or after that day (nothing else to change), or correct the date",
        "the marks go once governors have approved it",
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
    if not config.people.deputy_dsls:
        found.append(
            Finding(
                "people.deputy_dsls",
                "no deputy DSL is named",
                "name at least one so concerns can be raised when the DSL is away",
            )
        )
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
    colour = config.school.colour
    if colour and darken_for_white_text(colour) != colour:
        found.append(
            Finding(
                "school.colour",
                f"{colour} is too light for white text, so the "
                f"pack uses {darken_for_white_text(colour)} instead",
                "choose a darker colour to silence this",
                "whoever looks after this site can choose a darker colour",
            )
        )
    found += _extra_links(config, day)
    if data is not None:
        found += _trusted_links(data("resources.yaml"), day)
        found += _guidance(data("guidance.yaml"), config, day)
    return found


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
    if not tech.monitoring.provider:
        found.append(
            Finding(
                "technology.monitoring.provider",
                "no monitoring provider is named",
                "say how devices and networks are monitored (software, physical or both)",
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
