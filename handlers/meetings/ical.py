"""A meeting series as an iCalendar feed, so people see the rhythm in Outlook or any calendar app.

Each planned meeting is one event whose UID is the series and its planned date, so a calendar
updates it in place when it is moved; skipped ones are CANCELLED events with the reason in the
title, and the meeting's type is in the title of the others.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import icalendar
from babel.dates import format_date

from handlers.meetings.rhythm import Meeting, Series


def feed(series: Series, meetings: Iterable[Meeting], *, now: datetime, language: str = "nl") -> bytes:
    cal = icalendar.Calendar()
    cal.add("prodid", "-//netwerkbot//NL")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", series.title)
    cal.add("x-wr-timezone", series.zone.key)
    for meeting in meetings:
        event = icalendar.Event()
        event.add("uid", f"{series.key}-{meeting.planned:%Y%m%d}@netwerkbot")
        event.add("dtstamp", now.astimezone(UTC))
        event.add("dtstart", meeting.start.astimezone(series.zone))
        event.add("dtend", meeting.end.astimezone(series.zone))
        if meeting.skipped:
            event.add("summary", f"Geen {series.title}: {meeting.skipped}")
            event.add("status", "CANCELLED")
        else:
            event.add("summary", f"{series.title} – {meeting.type}" if meeting.type else series.title)
            event.add("status", "CONFIRMED")
        if meeting.moved:
            event.add("description", f"Verplaatst van {format_date(meeting.planned, 'EEEE d MMMM y', locale=language)}")
        cal.add_component(event)
    cal.add_missing_timezones()
    return bytes(cal.to_ical())
