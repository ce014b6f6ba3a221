"""The online-safety calendar: dates that are right, and a file calendars can import."""

from __future__ import annotations

import datetime as dt

import icalendar
import pytest

from generator import schoolyear
from generator.config import add_months


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (2026, dt.date(2026, 2, 10)),
        (2027, dt.date(2027, 2, 9)),
        (2028, dt.date(2028, 2, 8)),
        (2029, dt.date(2029, 2, 6)),  # "the second Tuesday" would wrongly say 13 February
        (2030, dt.date(2030, 2, 5)),
    ],
)
def test_safer_internet_day_is_the_tuesday_between_5_and_11_february(year, expected):
    assert schoolyear.safer_internet_day(year) == expected


def read_calendar(built) -> icalendar.Calendar:
    data = (built.site_dir / "downloads" / "calendar.ics").read_bytes()
    return icalendar.Calendar.from_ical(data)


def events_by_summary(calendar: icalendar.Calendar) -> dict[str, list[dt.date]]:
    found: dict[str, list[dt.date]] = {}
    for event in calendar.walk("VEVENT"):
        found.setdefault(str(event.get("SUMMARY")), []).append(event.decoded("DTSTART"))
    return found


def test_calendar_parses_and_holds_the_school_year(built_sites):
    built = built_sites("primary")
    calendar = read_calendar(built)
    assert calendar.get("VERSION") == "2.0"
    events = events_by_summary(calendar)
    # Willowbank: approved 6 October 2026, filtering reviewed 22 September 2026.
    assert events["Online safety policy review due"] == [dt.date(2027, 10, 6)]
    assert events["Annual filtering and monitoring review due"] == [
        add_months(dt.date(2026, 9, 22), 12)
    ]
    assert dt.date(2027, 2, 9) in events["Safer Internet Day"]
    assert events["Anti-Bullying Week"] == [dt.date(2026, 11, 16)]
    assert "Staff online safety training refresher" in events
    assert "Send home this year's acceptable use agreements" in events
    uids = [str(e.get("UID")) for e in calendar.walk("VEVENT")]
    assert len(uids) == len(set(uids))


def test_calendar_has_no_filtering_event_without_a_review_date(built_sites):
    events = events_by_summary(read_calendar(built_sites("infant_minimal")))
    assert "Annual filtering and monitoring review due" not in events
    assert events["Online safety policy review due"] == [dt.date(2027, 9, 1)]


def test_calendar_page_lists_the_same_events(built_sites):
    built = built_sites("primary")
    page = (built.site_dir / "calendar" / "index.html").read_text(encoding="utf-8")
    assert "Safer Internet Day" in page and "6 October 2027" in page
    assert 'href="../downloads/calendar.ics"' in page


def test_icalendar_lines_are_folded_and_escaped():
    event = schoolyear.Event(
        "k", dt.date(2027, 1, 1), dt.date(2027, 1, 1), "Title; with, commas", "ß" * 80
    )
    data = schoolyear.to_icalendar("Cal", [event], dt.date(2026, 1, 1)).decode("utf-8")
    assert all(len(line.encode("utf-8")) <= 75 for line in data.split("\r\n"))
    parsed = icalendar.Calendar.from_ical(data)
    (only,) = parsed.walk("VEVENT")
    assert str(only.get("SUMMARY")) == "Title; with, commas"
    assert str(only.get("DESCRIPTION")) == "ß" * 80
