"""The meeting rhythm as pure functions: alternation, holidays, DST, coordinators' changes, the files."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import date, datetime, time, timedelta
from pathlib import Path

import icalendar
import pytest

from config.settings import CONFIG_DIR
from handlers.meetings.ical import feed
from handlers.meetings.rhythm import (
    Change,
    ConfigError,
    HolidayCalendar,
    Meeting,
    load_holidays,
    load_series,
    meetings,
    next_meetings,
)
from tests.conftest import AMS

CALENDAR = load_holidays(CONFIG_DIR / "school_holidays.toml")
SERIES = {s.key: s for s in load_series(CONFIG_DIR / "meetings.toml", AMS)}
CONSULTANTS = SERIES["consulenten"]
TWO_YEARS = (date(2026, 8, 24), date(2028, 7, 16))
AFSTEMMING, VERDIEPING = "afstemmingsoverleg", "de verdieping"


def on(found: list[Meeting], day: date) -> Meeting:
    return next(m for m in found if m.planned == day)


def test_every_tuesday_of_two_school_years_is_listed_and_the_types_alternate_by_week() -> None:
    found = meetings(CONSULTANTS, CALENDAR, *TWO_YEARS)
    tuesdays = [TWO_YEARS[0] + timedelta(days=1 + 7 * n) for n in range(99)]
    assert [m.planned for m in found] == [d for d in tuesdays if d <= TWO_YEARS[1]]
    assert all(m.start.time() == time(9, 0) and m.end.time() == time(11, 30) for m in found)
    for previous, current in itertools.pairwise(found):
        assert previous.type != current.type  # week by week, holidays included
    assert on(found, date(2026, 8, 25)).type == AFSTEMMING  # the anchor
    assert on(found, date(2027, 1, 5)).type == VERDIEPING  # after two Christmas weeks
    assert on(found, date(2028, 7, 11)).type == AFSTEMMING  # 98 weeks on, in the summer holiday


def test_meetings_in_the_regions_holidays_are_skipped_with_the_holidays_name() -> None:
    found = meetings(CONSULTANTS, CALENDAR, *TWO_YEARS)
    skipped = {m.planned: m.skipped for m in found if m.skipped}
    assert skipped[date(2026, 10, 20)] == "herfstvakantie"
    assert skipped[date(2026, 12, 22)] == skipped[date(2026, 12, 29)] == "kerstvakantie"
    assert skipped[date(2027, 2, 16)] == "voorjaarsvakantie"
    assert skipped[date(2027, 4, 27)] == "meivakantie"
    assert skipped[date(2027, 8, 24)] == "zomervakantie"
    assert date(2026, 9, 1) not in skipped and date(2027, 1, 5) not in skipped
    zuid = meetings(dataclasses.replace(CONSULTANTS, region="zuid"), CALENDAR, *TWO_YEARS)
    assert on(zuid, date(2026, 10, 13)).skipped == "herfstvakantie"  # the south has it a week earlier
    assert on(zuid, date(2026, 10, 20)).skipped is None


def test_counting_held_meetings_keeps_the_alternation_across_holidays() -> None:
    by_weeks = meetings(CONSULTANTS, CALENDAR, *TWO_YEARS)
    by_held = meetings(dataclasses.replace(CONSULTANTS, count_held=True), CALENDAR, *TWO_YEARS)
    # one week of autumn holiday: by weeks, the same type twice in a row around it
    assert [on(by_weeks, date(2026, 10, d)).type for d in (13, 27)] == [VERDIEPING, VERDIEPING]
    assert [on(by_held, date(2026, 10, d)).type for d in (13, 27)] == [VERDIEPING, AFSTEMMING]
    held = [m for m in by_held if not m.skipped]
    assert all(a.type != b.type for a, b in itertools.pairwise(held))
    assert on(by_held, date(2026, 8, 25)).type == AFSTEMMING
    before = meetings(dataclasses.replace(CONSULTANTS, count_held=True), CALENDAR, date(2026, 6, 1),
                      date(2026, 8, 25))
    held_before = [m for m in before if not m.skipped]
    assert held_before[-2].type == VERDIEPING and held_before[-1].planned == date(2026, 8, 25)  # backwards too


def test_a_public_holiday_skips_a_meeting_outside_school_holidays() -> None:
    tuesdays = dataclasses.replace(CONSULTANTS, region=None)
    assert on(meetings(tuesdays, CALENDAR, date(2027, 4, 26), date(2027, 4, 28)), date(2027, 4, 27)).skipped == \
        "Koningsdag"
    mondays = dataclasses.replace(CONSULTANTS, weekday=0, region="noord")
    easter = meetings(mondays, CALENDAR, date(2027, 3, 29), date(2027, 3, 29))
    assert easter[0].skipped == "Tweede paasdag"


@pytest.mark.parametrize("switch", [date(2026, 3, 29), date(2026, 10, 25), date(2027, 3, 28), date(2027, 10, 31)])
def test_tuesday_0900_stays_0900_across_the_dst_switch(switch: date) -> None:
    before, after = meetings(CONSULTANTS, HolidayCalendar(), switch - timedelta(days=6), switch + timedelta(days=3))
    assert before.start.time() == after.start.time() == time(9, 0)
    assert before.start.utcoffset() != after.start.utcoffset()
    for meeting in (before, after):
        day_before, half_hour = CONSULTANTS.reminders
        assert day_before.due(meeting.start) == datetime.combine(meeting.planned - timedelta(days=1), time(16, 0), AMS)
        assert half_hour.due(meeting.start).astimezone(AMS).time() == time(8, 30)
    mondays = dataclasses.replace(CONSULTANTS, weekday=0)
    [monday] = meetings(mondays, HolidayCalendar(), switch + timedelta(days=1), switch + timedelta(days=1))
    sunday_reminder = CONSULTANTS.reminders[0].due(monday.start)
    assert sunday_reminder.date() == switch and sunday_reminder.astimezone(AMS).time() == time(16, 0)


def test_a_coordinator_can_skip_or_move_one_meeting() -> None:
    moved_to = datetime(2026, 12, 3, 13, 0, tzinfo=AMS)
    changes = [Change(date(2026, 11, 24), skip_reason="studiedag"), Change(date(2026, 12, 1), moved_to=moved_to)]
    found = meetings(CONSULTANTS, CALENDAR, date(2026, 11, 20), date(2026, 12, 10), changes)
    assert on(found, date(2026, 11, 24)).skipped == "studiedag"
    moved = on(found, date(2026, 12, 1))
    assert (moved.start, moved.end, moved.moved, moved.skipped) == (moved_to, moved_to + timedelta(hours=2.5), True,
                                                                     None)
    assert on(found, date(2026, 12, 8)).skipped is None and not on(found, date(2026, 12, 8)).moved


def test_a_six_weekly_series_meets_every_sixth_week_also_before_its_anchor() -> None:
    inner = SERIES["binnenkring"]
    found = meetings(inner, CALENDAR, date(2026, 6, 1), date(2027, 3, 1))
    days = [m.planned for m in found]
    assert date(2026, 9, 10) in days and date(2026, 7, 30) in days  # the anchor, and six weeks before
    assert all((b - a).days == 42 for a, b in itertools.pairwise(days))
    assert all(d.weekday() == 3 for d in days)


def test_trimester_meetings_are_fixed_dates_with_a_pitch_deadline() -> None:
    found = meetings(SERIES["trimester"], CALENDAR, date(2026, 8, 1), date(2027, 7, 31))
    assert [m.planned for m in found] == [date(2026, 10, 6), date(2027, 2, 2), date(2027, 6, 1)]
    assert found[0].pitch_deadline == datetime(2026, 9, 22, 17, 0, tzinfo=AMS)
    assert all(m.skipped is None for m in found)


def test_next_meetings_counts_skipped_ones_and_starts_after_the_moment() -> None:
    found = next_meetings(CONSULTANTS, CALENDAR, datetime(2026, 12, 15, 10, 0, tzinfo=AMS), 4)
    assert [(m.planned.day, m.skipped) for m in found] == [(15, None), (22, "kerstvakantie"), (29, "kerstvakantie"),
                                                           (5, None)]
    after = next_meetings(CONSULTANTS, CALENDAR, datetime(2026, 12, 15, 11, 30, tzinfo=AMS), 1)
    assert after[0].planned == date(2026, 12, 22)


SERIES_BODY = '''[[series]]
key = "x"
title = "X"
channel = "consultants"
weekday = "{weekday}"
start = "09:00"
end = "{end}"
types = {types}
{anchor}
region = "{region}"
'''


@pytest.mark.parametrize(("changes", "named"), [
    ({"weekday": "dinsdg"}, "weekday 'dinsdg' onbekend"),
    ({"end": "08:00"}, "end (08:00) moet na start (09:00) liggen"),
    ({"region": "oost"}, "region 'oost' onbekend"),
    ({"anchor": ""}, "anchor ontbreekt"),
    ({"types": '"afstemmingsoverleg"'}, "types is een lijst"),
])
def test_a_broken_meetings_file_names_what_is_wrong(tmp_path: Path, changes: dict[str, str], named: str) -> None:
    values = {"weekday": "dinsdag", "end": "11:30", "types": '["a", "b"]', "anchor": "anchor = 2026-08-25",
              "region": "noord"} | changes
    path = tmp_path / "overleg.toml"
    path.write_text(SERIES_BODY.format(**values), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"overleg\.toml, serie 'x'") as raised:
        load_series(path, AMS)
    assert named in str(raised.value)


def test_a_broken_holidays_file_names_the_holiday(tmp_path: Path) -> None:
    path = tmp_path / "vakanties.toml"
    path.write_text('[[vakantie]]\nnaam = "kerstvakantie"\nnoord = [2027-01-03, 2026-12-19]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"vakanties.toml, kerstvakantie: noord is \[eerste dag, laatste dag\]"):
        load_holidays(path)


def test_the_calendar_feed_has_every_meeting_with_cancelled_holidays_and_local_times() -> None:
    moved_to = datetime(2027, 3, 25, 13, 0, tzinfo=AMS)
    found = meetings(CONSULTANTS, CALENDAR, date(2026, 12, 1), date(2027, 4, 30),
                     [Change(date(2027, 3, 23), moved_to=moved_to)])
    parsed = icalendar.Calendar.from_ical(feed(CONSULTANTS, found, now=datetime(2026, 11, 24, 9, 0, tzinfo=AMS)))
    events = list(parsed.walk("VEVENT"))
    assert len(events) == len(found) == 22
    assert [c.name for c in parsed.walk("VTIMEZONE")] == ["VTIMEZONE"]
    by_day = {e.decoded("DTSTART").date(): e for e in events}
    christmas = by_day[date(2026, 12, 22)]
    assert (str(christmas["STATUS"]), str(christmas["SUMMARY"])) == ("CANCELLED",
                                                                     "Geen Consulentenoverleg: kerstvakantie")
    assert str(by_day[date(2026, 12, 1)]["SUMMARY"]) == "Consulentenoverleg – afstemmingsoverleg"
    winter, summer = by_day[date(2027, 3, 16)].decoded("DTSTART"), by_day[date(2027, 3, 30)].decoded("DTSTART")
    assert winter.time() == summer.time() == time(9, 0) and winter.utcoffset() != summer.utcoffset()
    assert str(winter.tzinfo) == "Europe/Amsterdam"
    moved = by_day[date(2027, 3, 25)]
    assert str(moved["UID"]) == "consulenten-20270323@netwerkbot"
    assert str(moved["DESCRIPTION"]) == "Verplaatst van dinsdag 23 maart 2027"
