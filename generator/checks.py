"""Warnings about a valid config: things a DSL should fix before an inspector asks.

``esafety check`` prints them; ``--strict`` makes any of them fail. "Today" can be set
with the ESAFETY_TODAY environment variable (YYYY-MM-DD) so results are repeatable.
"""

from __future__ import annotations

import datetime as dt
import os

from .brand import darken_for_white_text
from .config import Config, add_months
from .markup import format_date

REVIEW_SOON_DAYS = 30


def today() -> dt.date:
    given = os.environ.get("ESAFETY_TODAY")
    return dt.date.fromisoformat(given) if given else dt.date.today()


def findings(config: Config, on: dt.date | None = None) -> list[str]:
    """Every warning for ``config`` as of ``on`` (default: today), each with what to do."""
    day = on or today()
    found: list[str] = []
    found += _review_dates(config, day)
    found += _filtering_and_monitoring(config, day)
    if not config.people.deputy_dsls:
        found.append("people.deputy_dsls: no deputy DSL is named; name at least one so "
                     "concerns can be raised when the DSL is away")
    pupils = config.phones.pupils
    if pupils.rule == "allowed" and not pupils.details:
        found.append("phones.pupils.details: the rule is 'allowed' but says nothing about "
                     "where and when; add details so pupils and parents know the limits")
    colour = config.school.colour
    if colour and darken_for_white_text(colour) != colour:
        found.append(f"school.colour: {colour} is too light for white text; the pack uses "
                     f"{darken_for_white_text(colour)} instead (choose a darker colour to "
                     "silence this)")
    return found


def _review_dates(config: Config, day: dt.date) -> list[str]:
    due = config.next_review
    if due < day:
        return [f"review.next_review: the policy review was due on {format_date(due)}; "
                "review it, then update review.version and review.approved_on"]
    if (due - day).days <= REVIEW_SOON_DAYS:
        return [f"review.next_review: the policy review is due on {format_date(due)}, "
                f"within {REVIEW_SOON_DAYS} days; put it on the governors' agenda"]
    return []


def _filtering_and_monitoring(config: Config, day: dt.date) -> list[str]:
    tech = config.technology
    found = []
    if not tech.filtering.provider:
        found.append("technology.filtering.provider: no filtering provider is named; the DfE "
                     "filtering standard expects the school to know and record its system")
    if not tech.monitoring.provider:
        found.append("technology.monitoring.provider: no monitoring provider is named; say "
                     "how devices and networks are monitored (software, physical or both)")
    reviewed = tech.filtering.last_reviewed
    if reviewed is None:
        found.append("technology.filtering.last_reviewed: no date for the annual filtering "
                     "and monitoring review; hold one with the DSL, SLT and IT provider")
    elif add_months(reviewed, 12) < day:
        found.append(f"technology.filtering.last_reviewed: the filtering and monitoring "
                     f"review of {format_date(reviewed)} is over 12 months old; review again")
    return found

