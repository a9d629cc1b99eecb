"""Dates as people write and read them, in the user's language (Babel)."""

from __future__ import annotations

from datetime import datetime

from babel.dates import format_date
from dateutil.relativedelta import relativedelta


def long_date(moment: datetime, language: str, zone_now: datetime) -> str:
    """"3 maart 2026", in the cooperation's timezone."""
    return format_date(moment.astimezone(zone_now.tzinfo).date(), format="long", locale=language)


def older_than_months(moment: datetime, months: int, now: datetime) -> bool:
    return moment < now - relativedelta(months=months)
