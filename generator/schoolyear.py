"""Dates in a school's online-safety year: computed where a rule exists, data where not.

Safer Internet Day is the Tuesday that falls between 5 and 11 February (not "the second
Tuesday", which is wrong in years such as 2029). Anti-Bullying Week is set each year by the
Anti-Bullying Alliance, so it is read from content/calendar.yaml, never computed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

TUESDAY = 1


def safer_internet_day(year: int) -> dt.date:
    day = dt.date(year, 2, 5)
    return day + dt.timedelta(days=(TUESDAY - day.weekday()) % 7)


def academic_year_start(day: dt.date) -> dt.date:
    """1 September of the school year that ``day`` falls in."""
    return dt.date(day.year if day.month >= 9 else day.year - 1, 9, 1)


def first_weekday_of_september(year: int) -> dt.date:
    day = dt.date(year, 9, 1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


@dataclass(frozen=True)
class Event:
    key: str
    start: dt.date
    end: dt.date  # inclusive
    title: str
    description: str

    @property
    def uid(self) -> str:
        digest = hashlib.sha256(f"{self.key}:{self.start.isoformat()}".encode()).hexdigest()
        return f"{digest[:24]}@esafety-pack"


def _escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")  # a lone CR ends a line for many readers: never a new field
    )


def _fold(line: str) -> str:
    """RFC 5545: lines longer than 75 octets continue on the next line after a space."""
    out, current = [], b""
    for char in line:
        encoded = char.encode("utf-8")
        if len(current) + len(encoded) > (75 if not out else 74):
            out.append(current.decode("utf-8"))
            current = b""
        current += encoded
    out.append(current.decode("utf-8"))
    return "\r\n ".join(out)


def to_icalendar(name: str, events: list[Event], stamp: dt.date) -> bytes:
    """A valid iCalendar file of all-day events (imports into Outlook and Google Calendar)."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//esafety-pack//Online safety calendar//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{_escape(name)}",
    ]
    dtstamp = stamp.strftime("%Y%m%dT000000Z")
    for event in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{event.uid}",
            f"DTSTAMP:{dtstamp}",
            f"DTSTART;VALUE=DATE:{event.start:%Y%m%d}",
            f"DTEND;VALUE=DATE:{event.end + dt.timedelta(days=1):%Y%m%d}",
            f"SUMMARY:{_escape(event.title)}",
            f"DESCRIPTION:{_escape(event.description)}",
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(_fold(line) for line in lines) + "\r\n").encode("utf-8")
