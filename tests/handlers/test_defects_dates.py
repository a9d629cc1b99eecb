"""Dates as a Dutch colleague means them (handlers/dates.py), on real phrasings against a fixed clock.

Friday 4 December 2026 09:00 is the usual "now"; others are around a weekend, a month end, the
year end and the switch to summer time. A day without a time is a day (`at` None): a vote's
deadline then closes at 17:00 (`parse_deadline`).
"""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from bot.core.clock import ManualClock
from handlers.dates import UnclearDate, parse_deadline, read_moment
from tests.conftest import AMS

FRI_MORNING = datetime(2026, 12, 4, 9, 0, tzinfo=AMS)  # Friday 4 December 2026
FRI_EVENING = datetime(2026, 12, 4, 18, 0, tzinfo=AMS)
SATURDAY = datetime(2026, 12, 5, 11, 0, tzinfo=AMS)
SUNDAY = datetime(2026, 12, 6, 20, 0, tzinfo=AMS)
TUESDAY = datetime(2026, 11, 24, 9, 0, tzinfo=AMS)
MONTH_END = datetime(2026, 11, 30, 10, 0, tzinfo=AMS)  # Monday 30 November
NEW_YEARS_EVE = datetime(2026, 12, 31, 14, 0, tzinfo=AMS)  # Thursday
BEFORE_DST = datetime(2027, 3, 26, 10, 0, tzinfo=AMS)  # Friday; summer time starts Sunday 28 March

D = date
T = time
TABLE: list[tuple[datetime, str, date, time | None]] = [
    # today still counts
    (FRI_MORNING, "4 december", D(2026, 12, 4), None),
    (FRI_MORNING, "4 dec", D(2026, 12, 4), None),
    (FRI_MORNING, "vrijdag 4 december", D(2026, 12, 4), None),
    (FRI_MORNING, "4 december 10:20", D(2026, 12, 4), T(10, 20)),
    (FRI_MORNING, "vrijdag 17:00", D(2026, 12, 4), T(17, 0)),
    (FRI_MORNING, "vrijdag om 17:00", D(2026, 12, 4), T(17, 0)),
    (FRI_MORNING, "vr 17u", D(2026, 12, 4), T(17, 0)),
    (FRI_MORNING, "vandaag 16:30", D(2026, 12, 4), T(16, 30)),
    (FRI_MORNING, "17:00", D(2026, 12, 4), T(17, 0)),
    (FRI_MORNING, "vrijdag", D(2026, 12, 4), None),
    # ...unless its time has passed
    (FRI_EVENING, "vrijdag 17:00", D(2026, 12, 11), T(17, 0)),
    (FRI_EVENING, "17:00", D(2026, 12, 5), T(17, 0)),
    (FRI_MORNING, "8:30", D(2026, 12, 5), T(8, 30)),
    # relative days
    (FRI_MORNING, "morgen", D(2026, 12, 5), None),
    (FRI_MORNING, "morgen 9.30", D(2026, 12, 5), T(9, 30)),
    (FRI_MORNING, "morgen om 9 uur", D(2026, 12, 5), T(9, 0)),
    (FRI_MORNING, "overmorgen", D(2026, 12, 6), None),
    (FRI_MORNING, "maandag", D(2026, 12, 7), None),
    (FRI_MORNING, "aanstaande maandag 9:00", D(2026, 12, 7), T(9, 0)),
    (FRI_MORNING, "komende dinsdag", D(2026, 12, 8), None),
    (FRI_MORNING, "volgende week vrijdag 17:00", D(2026, 12, 11), T(17, 0)),
    (FRI_MORNING, "volgende week dinsdag 9:00", D(2026, 12, 8), T(9, 0)),
    (FRI_MORNING, "dinsdag volgende week", D(2026, 12, 8), None),
    (FRI_MORNING, "volgende vrijdag", D(2026, 12, 11), None),  # on a Friday there is only one
    (FRI_MORNING, "over 3 dagen", D(2026, 12, 7), None),
    (FRI_MORNING, "over een week", D(2026, 12, 11), None),
    (FRI_MORNING, "over twee weken", D(2026, 12, 18), None),
    (FRI_MORNING, "over 2 uur", D(2026, 12, 4), T(11, 0)),
    (FRI_MORNING, "over 30 minuten", D(2026, 12, 4), T(9, 30)),
    # dates
    (FRI_MORNING, "15-12 10:00", D(2026, 12, 15), T(10, 0)),
    (FRI_MORNING, "31-12", D(2026, 12, 31), None),
    (FRI_MORNING, "2 januari", D(2027, 1, 2), None),
    (FRI_MORNING, "2 januari 2027 10:00", D(2027, 1, 2), T(10, 0)),
    (FRI_MORNING, "3 december", D(2027, 12, 3), None),  # yesterday's date: next year's (the future is preferred)
    (FRI_MORNING, "4-12-2026", D(2026, 12, 4), None),
    (FRI_MORNING, "eind van de maand", D(2026, 12, 31), None),
    # around a weekend
    (SATURDAY, "maandag", D(2026, 12, 7), None),
    (SATURDAY, "volgende maandag", D(2026, 12, 7), None),  # on a Saturday there is only one
    (SATURDAY, "zaterdag", D(2026, 12, 5), None),
    (SUNDAY, "morgen 8:00", D(2026, 12, 7), T(8, 0)),
    (SUNDAY, "volgende week maandag", D(2026, 12, 7), None),  # the week runs Monday to Sunday
    (SUNDAY, "zondag 21:00", D(2026, 12, 6), T(21, 0)),
    (TUESDAY, "vrijdag 17:00", D(2026, 11, 27), T(17, 0)),
    # month end
    (MONTH_END, "eind van de maand", D(2026, 11, 30), None),
    (MONTH_END, "eind deze maand", D(2026, 11, 30), None),
    (MONTH_END, "morgen", D(2026, 12, 1), None),
    (MONTH_END, "over 3 dagen", D(2026, 12, 3), None),
    (MONTH_END, "1 december 9:00", D(2026, 12, 1), T(9, 0)),
    # year end
    (NEW_YEARS_EVE, "31-12", D(2026, 12, 31), None),
    (NEW_YEARS_EVE, "morgen", D(2027, 1, 1), None),
    (NEW_YEARS_EVE, "maandag", D(2027, 1, 4), None),
    (NEW_YEARS_EVE, "2 januari", D(2027, 1, 2), None),
    (NEW_YEARS_EVE, "volgende week dinsdag 9:00", D(2027, 1, 5), T(9, 0)),
    (NEW_YEARS_EVE, "over een week", D(2027, 1, 7), None),
    # across the switch to summer time: still 09:00 on the wall clock
    (BEFORE_DST, "maandag 9:00", D(2027, 3, 29), T(9, 0)),
]


@pytest.mark.parametrize(("now", "typed", "day", "at"), TABLE, ids=[f"{n:%a %d %b %H:%M}: {p}" for n, p, *_ in TABLE])
def test_a_dutch_phrasing_means_what_a_colleague_means(now: datetime, typed: str, day: date,
                                                        at: time | None) -> None:
    clock = ManualClock(now)
    found = read_moment(typed, clock.now(), "nl")
    assert found is not None and (found.day, found.at) == (day, at)


def test_the_table_has_at_least_forty_phrasings() -> None:
    assert len({typed for _, typed, *_ in TABLE}) >= 40


UNCLEAR = [
    (TUESDAY, "volgende vrijdag",
     "\"volgende vrijdag\" kan twee dagen zijn: vrijdag 27 november of vrijdag 4 december"),
    (FRI_MORNING, "volgende week", "Welke dag bedoel je met \"volgende week\"?"),
    (FRI_MORNING, "dit weekend", "Welke dag bedoel je met \"dit weekend\"?"),
    (FRI_MORNING, "dinsdag 4 december", "4 december 2026 is een vrijdag, geen dinsdag."),
    (FRI_MORNING, "vrijdag 25:00", "\"25:00\" is geen tijd."),
]


@pytest.mark.parametrize(("now", "typed", "message"), UNCLEAR, ids=[p for _, p, _ in UNCLEAR])
def test_what_could_be_two_days_is_refused_with_the_question(now: datetime, typed: str, message: str) -> None:
    with pytest.raises(UnclearDate) as refused:
        read_moment(typed, now, "nl")
    assert message in refused.value.message


@pytest.mark.parametrize("typed", ["december", "binnenkort", "ooit", "", "3 appels"])
def test_what_is_no_date_is_none(typed: str) -> None:
    assert read_moment(typed, FRI_MORNING, "nl") is None


def test_a_deadline_of_a_day_closes_at_five_and_says_it_filled_that_in() -> None:
    assert parse_deadline("over 3 dagen", FRI_MORNING, "nl") == (datetime(2026, 12, 7, 17, 0, tzinfo=AMS), True)
    assert parse_deadline("vrijdag 12:00", FRI_MORNING, "nl") == (datetime(2026, 12, 4, 12, 0, tzinfo=AMS), False)
    assert parse_deadline("maandag 9:00", BEFORE_DST, "nl")[0].utcoffset().total_seconds() == 7200  # type: ignore[union-attr]


def test_english_words_in_the_english_locale() -> None:
    assert read_moment("friday 17:00", FRI_MORNING, "en") == read_moment("vrijdag 17:00", FRI_MORNING, "nl")
    assert read_moment("in 3 days", FRI_MORNING, "en") == read_moment("over 3 dagen", FRI_MORNING, "nl")
