"""Dates as people write and read them, in the user's language (Babel)."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache

import dateparser
from babel.dates import format_date
from dateutil.relativedelta import relativedelta


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


RELATIVE_WORDS = ("vandaag", "morgen", "overmorgen", "maandag", "dinsdag", "woensdag", "donderdag", "vrijdag",
                  "zaterdag", "zondag", "ma ", "di ", "wo ", "do ", "vr ", "za ", "zo ", "over ", "volgende",
                  "today", "tomorrow", "monday", "tuesday", "wednesday", "thursday", "friday", "in ")


def parse_moment(text: str, now: datetime, language: str) -> datetime | None:
    """A date or moment as people type it ("8 december", "vrijdag 17:00", "15-12 10:00", "over 3
    dagen"), aware in the zone of `now`; the future is preferred ("3 maart" in November is next
    year's). None when it is not a date. A date without a time is midnight."""
    text = text.strip()
    if not any(ch.isdigit() for ch in text) and not text.lower().startswith(RELATIVE_WORDS):
        return None  # "december" alone would be the first of the month: too easy to mistake
    zone = now.tzinfo
    settings = {"PREFER_DATES_FROM": "future", "RELATIVE_BASE": now.replace(tzinfo=None), "DATE_ORDER": "DMY",
                "RETURN_AS_TIMEZONE_AWARE": False, "PREFER_DAY_OF_MONTH": "first"}
    languages = ["nl", "en"] if language == "en" else ["nl"]
    found = dateparser.parse(text, languages=languages, settings=settings)
    return found.replace(tzinfo=zone) if found is not None else None
