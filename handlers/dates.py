"""Dates as people write and read them, in the user's language (Babel).

Reading a date the way a Dutch colleague means it (`parse_moment`), against the clock's `now`:

- today counts: "4 december" typed on 4 December is today, "vrijdag" typed on a Friday is today,
  and "vrijdag 17:00" typed on a Friday morning is this afternoon (after 17:00 it is next week's);
- "vandaag", "morgen", "overmorgen"; a weekday ("dinsdag", "di", "aanstaande dinsdag", "komende
  dinsdag") is the first such day from today; "volgende week dinsdag" (or "dinsdag volgende week")
  is the Tuesday of next calendar week (Monday to Sunday);
- "over 3 dagen", "over een week", "over 2 weken", "over een maand" is that day (a date, no time
  of day: a deadline takes `DEFAULT_TIME`); "over 2 uur", "over 30 minuten" is that moment;
- "eind van de maand" (or "einde van de maand", "eind deze maand") is the last day of this month;
- a date ("4 december", "4 dec", "31-12", "15-12-2026", "2 januari 2027") through dateparser, with
  the day first and the future preferred: "3 maart" typed in November is next year's;
- a time of day anywhere: "17:00", "9.30", "om 9 uur", "17u";
- ambiguous phrasings are refused with the question to answer (`UnclearDate`): "volgende vrijdag"
  (this coming one or next week's?), "volgende week" or "deze week" without a day, a weekday that
  does not match the date ("dinsdag 4 december" when that is a Friday), an hour past 23.

A month alone ("december") is not a date: it would silently be the first of the month.
"""

from __future__ import annotations

import re
from calendar import monthrange
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from itertools import groupby

import dateparser
from babel.dates import format_date
from babel.lists import format_list
from dateutil.relativedelta import relativedelta

from bot.core.errors import UserError
from config.i18n import Catalog

DEFAULT_TIME = time(17, 0)  # a deadline typed as a day only ("over 3 dagen", "vrijdag") closes at 17:00


def long_date(moment: datetime, language: str, zone_now: datetime) -> str:
    """"3 maart 2026", in the cooperation's timezone."""
    return _long_date(moment.astimezone(zone_now.tzinfo).date(), language)


@lru_cache(maxsize=4096)
def _long_date(day: date, language: str) -> str:
    return format_date(day, format="long", locale=language)


def older_than_months(moment: datetime, months: int, now: datetime) -> bool:
    return moment < _months_before(now, months)


@lru_cache(maxsize=64)  # one `now` per input, asked for every entry it shows
def _months_before(now: datetime, months: int) -> datetime:
    return now - relativedelta(months=months)


def day_list(days: Sequence[date], lang: str) -> str:
    """"22 en 29 december", "29 december en 5 januari": the days, the month once per month."""
    groups: list[str] = []
    for _, same_month in groupby(days, key=lambda d: (d.year, d.month)):
        in_month = list(same_month)
        groups.append(f"{format_list([str(d.day) for d in in_month], locale=lang)} "
                      f"{format_date(in_month[0], 'MMMM', locale=lang)}")
    return format_list(groups, locale=lang)


class UnclearDate(UserError):
    """A phrasing that could mean two days: the message asks which one."""


@dataclass(frozen=True)
class Moment:
    day: date
    at: time | None  # None: only a day was typed


WEEKDAYS = {"maandag": 0, "ma": 0, "dinsdag": 1, "di": 1, "woensdag": 2, "wo": 2, "donderdag": 3, "do": 3,
            "vrijdag": 4, "vr": 4, "zaterdag": 5, "za": 5, "zondag": 6, "zo": 6}
ENGLISH = {"today": "vandaag", "tomorrow": "morgen", "monday": "maandag", "tuesday": "dinsdag",
           "wednesday": "woensdag", "thursday": "donderdag", "friday": "vrijdag", "saturday": "zaterdag",
           "sunday": "zondag", "next week": "volgende week", "next": "volgende", "in": "over", "days": "dagen",
           "day": "dag", "weeks": "weken", "week": "week", "hours": "uur", "hour": "uur", "minutes": "minuten",
           "at": "om", "end of the month": "eind van de maand", "a": "een", "an": "een", "this": "deze"}
NUMBERS = {"een": 1, "één": 1, "twee": 2, "drie": 3, "vier": 4, "vijf": 5, "zes": 6, "zeven": 7, "acht": 8,
           "negen": 9, "tien": 10, "elf": 11, "twaalf": 12, "veertien": 14}
THIS = ("aanstaande", "komende", "deze")

_TIME = re.compile(r"(?:\bom\s+)?\b(\d{1,2})(?:[:.](\d{2})(?:\s*uur)?|\s*uur|u(\d{2})?)(?![\w.:/-])")
_IN = re.compile(r"^over\s+(\S+)\s+(dag|dagen|week|weken|maand|maanden|uur|minuut|minuten|kwartier)$")
_END_OF_MONTH = re.compile(r"^eind(?:e)?\s+(?:van\s+)?(?:de|deze)\s+maand$")


def parse_moment(text: str, now: datetime, language: str) -> datetime | None:
    """A date or moment as people type it, aware in the zone of `now`; a day without a time is
    midnight (`read_moment` tells the two apart). None when it is not a date; `UnclearDate` when
    it could be two."""
    found = read_moment(text, now, language)
    if found is None:
        return None
    return datetime.combine(found.day, found.at or time(0, 0), tzinfo=now.tzinfo)


def parse_deadline(text: str, now: datetime, language: str, default: time = DEFAULT_TIME) -> tuple[datetime, bool]:
    """A deadline: a day without a time closes at `default` (17:00). Returns the moment and whether
    the time was filled in (the confirmation says so). Raises UnclearDate; ValueError when no date."""
    found = read_moment(text, now, language)
    if found is None:
        raise ValueError(text)
    return datetime.combine(found.day, found.at or default, tzinfo=now.tzinfo), found.at is None


def read_moment(text: str, now: datetime, language: str) -> Moment | None:
    words = " ".join(text.casefold().replace(",", " ").split())
    if language == "en":
        for english, dutch in sorted(ENGLISH.items(), key=lambda kv: -len(kv[0])):
            words = re.sub(rf"\b{english}\b", dutch, words)
    if not words:
        return None
    if (relative := _in(words, now)) is not None:
        return relative
    at, rest = _time_of(words, language)
    rest = rest.strip()
    today = now.date()
    if not rest:  # only a time: today, or tomorrow when it has passed
        if at is None:
            return None
        return Moment(today if at > now.time() else today + timedelta(days=1), at)
    day = _day_of(rest, now, at, language)
    return Moment(day, at) if day is not None else None


def _time_of(words: str, language: str) -> tuple[time | None, str]:
    """The time of day in `words` ("17:00", "9.30", "om 9 uur", "17u") and what is left of them."""
    found = list(_TIME.finditer(words))
    if not found:
        return None, words
    match = found[-1]  # the last one: "15-12 10:00"
    hour, minute = int(match.group(1)), int(match.group(2) or match.group(3) or 0)
    if hour > 23 or minute > 59:
        raise UnclearDate(_t(language)("defects.bad_time", typed=match.group(0).strip()))
    return time(hour, minute), words[:match.start()] + " " + words[match.end():]


def _in(words: str, now: datetime) -> Moment | None:
    """"over 3 dagen" (a day), "over 2 uur" (a moment)."""
    match = _IN.match(words)
    if match is None:
        return None
    amount_text, unit = match.groups()
    amount = int(amount_text) if amount_text.isdigit() else NUMBERS.get(amount_text)
    if amount is None:
        return None
    if unit in ("uur", "minuut", "minuten", "kwartier"):
        minutes = amount * {"uur": 60, "kwartier": 15}.get(unit, 1)
        moment = now + timedelta(minutes=minutes)
        return Moment(moment.date(), moment.time().replace(second=0, microsecond=0))
    if unit.startswith("maand"):
        return Moment(now.date() + relativedelta(months=amount), None)
    days = amount * (7 if unit.startswith("week") or unit == "weken" else 1)
    return Moment(now.date() + timedelta(days=days), None)


def _day_of(rest: str, now: datetime, at: time | None, language: str) -> date | None:
    t = _t(language)
    today = now.date()
    words = rest.split()
    if rest == "vandaag":
        return today
    if rest == "morgen":
        return today + timedelta(days=1)
    if rest == "overmorgen":
        return today + timedelta(days=2)
    if _END_OF_MONTH.match(rest):
        return today.replace(day=monthrange(today.year, today.month)[1])
    if rest in ("volgende week", "deze week", "komende week", "volgende maand", "deze maand", "weekend",
                "het weekend", "dit weekend"):
        raise UnclearDate(t("defects.which_day", typed=rest))
    weekday = [WEEKDAYS[w] for w in words if w in WEEKDAYS]
    others = [w for w in words if w not in WEEKDAYS]
    if weekday and others in ([], *([w] for w in THIS)):  # "vrijdag", "aanstaande vrijdag"
        ahead = (weekday[0] - today.weekday()) % 7
        if ahead == 0 and at is not None and at <= now.time():
            ahead = 7  # "vrijdag 9:00" typed on a Friday at 10: next week's
        return today + timedelta(days=ahead)
    if weekday and others in (["volgende", "week"], ["komende", "week"]):  # "volgende week vrijdag"
        return today - timedelta(days=today.weekday()) + timedelta(days=7 + weekday[0])
    if weekday and others == ["volgende"]:
        ahead = (weekday[0] - today.weekday()) % 7 or 7
        first = today + timedelta(days=ahead)
        next_week = today - timedelta(days=today.weekday()) + timedelta(days=7 + weekday[0])
        if first == next_week:  # "volgende maandag" typed on a Saturday: there is only one
            return first
        raise UnclearDate(t("defects.which_weekday", typed=rest, first=_short(first, language),
                            second=_short(next_week, language)))
    if not any(ch.isdigit() for ch in rest):
        return None  # "december" alone would be the first of the month: too easy to mistake
    found = _absolute(" ".join(others), today, language)
    if found is None:
        return None
    if weekday and weekday[0] != found.weekday():
        raise UnclearDate(t("defects.weekday_mismatch", day=format_date(found, "d MMMM y", locale=language),
                            weekday=format_date(found, "EEEE", locale=language),
                            typed=next(w for w in words if w in WEEKDAYS)))
    return found


def _absolute(text: str, today: date, language: str) -> date | None:
    """"4 december", "31-12", "2 januari 2027": the first such day from today (today included)."""
    # dateparser prefers dates after its base: the last second of yesterday, so that today counts
    base = datetime.combine(today, time(0, 0)) - timedelta(seconds=1)
    settings = {"PREFER_DATES_FROM": "future", "RELATIVE_BASE": base,
                "DATE_ORDER": "DMY", "RETURN_AS_TIMEZONE_AWARE": False, "PREFER_DAY_OF_MONTH": "first",
                "REQUIRE_PARTS": ["day", "month"]}
    languages = ["nl", "en"] if language == "en" else ["nl"]
    found = dateparser.parse(text, languages=languages, settings=settings)
    return found.date() if found is not None else None


def _short(day: date, language: str) -> str:
    return format_date(day, "EEEE d MMMM", locale=language)


@lru_cache(maxsize=4)
def _t(language: str) -> Catalog:
    return Catalog(language)
