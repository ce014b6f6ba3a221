"""The online-safety calendar: a page on the site and calendar.ics to import."""

from __future__ import annotations

import datetime as dt

from .. import schoolyear
from ..checks import today
from ..compose import Composer, DownloadFile, Page, Section
from ..config import Config, add_months
from ..markup import to_plain_text
from ..schoolyear import Event


def compose(composer: Composer) -> Section:
    events = calendar_events(composer)
    config = composer.config
    names = composer.names("calendar")
    ics = schoolyear.to_icalendar(names["calendar_name"], events, config.review.approved_on)
    return Section(
        pages=[
            Page(
                "calendar.md",
                names["page"],
                composer.page(
                    "pages/calendar.md", events=upcoming(events), **window_context(config)
                ),
            )
        ],
        files=[DownloadFile("calendar.ics", names["file"], names["file_for"], "iCalendar", ics)],
        home_links=[{"title": names["home"], "path": "calendar.md", "about": names["about"]}],
    )


def upcoming(events: list[Event]) -> list[Event]:
    """The events not yet over, as of today (ESAFETY_TODAY when set): the page shows
    what is coming, while calendar.ics keeps the whole window for calendar apps."""
    now = today()
    return [e for e in events if e.end >= now]


def window(config: Config) -> tuple[dt.date, dt.date]:
    """From the September before approval to the August after the next review."""
    start = schoolyear.academic_year_start(config.review.approved_on)
    end_year = schoolyear.academic_year_start(config.next_review).year + 1
    return start, dt.date(end_year, 8, 31)


def window_context(config: Config) -> dict[str, dt.date]:
    start, end = window(config)
    return {"window_start": start, "window_end": end}


def calendar_events(composer: Composer) -> list[Event]:
    config = composer.config
    data = composer.data("calendar.yaml")
    start, end = window(config)

    def event(key: str, first: dt.date, last: dt.date | None = None) -> Event:
        words = data["events"][key]
        where = f"content/calendar.yaml: events.{key}"
        # Plain text: the .ics wants it so, and the page escapes it again as it prints it.
        return Event(
            key,
            first,
            last or first,
            to_plain_text(composer.text(words["title"], where)),
            to_plain_text(composer.text(words["description"], where)),
        )

    events = [event("policy_review", config.next_review)]
    reviewed = config.technology.filtering.last_reviewed
    if reviewed:
        events.append(event("filtering_review", add_months(reviewed, 12)))
    for year in range(start.year, end.year + 1):
        events.append(event("safer_internet_day", schoolyear.safer_internet_day(year)))
        autumn = schoolyear.first_weekday_of_september(year)
        events += [event("agreements", autumn), event("staff_training", autumn)]
    for week in data["anti_bullying_week"]:
        events.append(event("anti_bullying_week", week["start"], week["end"]))
    inside = [e for e in events if start <= e.start <= end or e.key.endswith("review")]
    return sorted(inside, key=lambda e: (e.start, e.key))
