"""Dates as people write and read them, in the user's language (Babel)."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache

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
