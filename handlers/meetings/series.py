"""The meeting series as they are now: the file's series with coordinators' edits from the database over
them, their meetings between two dates (holidays, skips and moves applied), and a series as iCalendar.

`Meetings` (the `/overleg` feature) is this service with its commands; pitches, circles and the holiday
watch use the service part.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from bot.core.errors import UserError
from bot.core.numbers import number_of
from handlers.context import HandlerContext
from handlers.dates import UnclearDate, parse_moment
from handlers.meetings import ical
from handlers.meetings.rhythm import (
    REGIONS,
    WEEKDAYS,
    Change,
    HolidayCalendar,
    Meeting,
    Series,
    meetings,
    next_meetings,
)
from handlers.text import clean, fold
from storage.repositories import Repositories

FEED_BACK, FEED_AHEAD = timedelta(weeks=8), timedelta(weeks=52)


class MeetingSeries:
    def __init__(self, series: Sequence[Series], calendar: HolidayCalendar) -> None:
        self.file_series = list(series)
        self.calendar = calendar

    async def all_series(self, repos: Repositories) -> list[Series]:
        edits = await repos.meetings.settings()
        return [apply_edits(s, edits[s.key]) if s.key in edits else s for s in self.file_series]

    async def meetings_between(self, repos: Repositories, series: Series, first: date, last: date) -> list[Meeting]:
        return meetings(series, self.calendar, first, last, await self._changes(repos, series))

    async def upcoming(self, repos: Repositories, series: Series, after: datetime, count: int) -> list[Meeting]:
        return next_meetings(series, self.calendar, after, count, await self._changes(repos, series))

    @staticmethod
    async def _changes(repos: Repositories, series: Series) -> list[Change]:
        return [Change(c.planned, c.skip_reason, c.moved_to.astimezone(series.zone) if c.moved_to else None)
                for c in await repos.meetings.changes(series.key)]

    async def ical_feed(self, repos: Repositories, key: str, now: datetime) -> bytes | None:
        """The iCalendar feed of a series: two months back, a year ahead, skipped dates as cancelled."""
        series = {s.key: s for s in await self.all_series(repos)}.get(key)
        if series is None:
            return None
        today = now.astimezone(series.zone).date()
        found = await self.meetings_between(repos, series, today - FEED_BACK, today + FEED_AHEAD)
        return ical.feed(series, found, now=now)


def read_settings(values: Mapping[str, str], ctx: HandlerContext) -> tuple[dict[str, Any], dict[str, str]]:
    """The form's values as series settings, or a Dutch message per wrong field."""
    t = ctx.t
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    try:
        out["title"] = clean(values.get("title", ""), t, what=t("meetings.field_title"), max_length=100)
    except UserError as error:
        errors["title"] = error.message
    weekday = fold(values.get("weekday", ""))
    if weekday not in WEEKDAYS:
        errors["weekday"] = t("meetings.bad_weekday", days=", ".join(WEEKDAYS))
    out["weekday"] = weekday
    start, _, end = values.get("time", "").replace("–", "-").partition("-")
    try:
        first, last = time.fromisoformat(start.strip().zfill(5)), time.fromisoformat(end.strip().zfill(5))
        if last <= first:
            raise ValueError
        out["start"], out["end"] = f"{first:%H:%M}", f"{last:%H:%M}"
    except ValueError:
        errors["time"] = t("meetings.bad_time")
    interval = number_of(values.get("interval", ""))
    if interval is None or not 1 <= interval <= 52:
        errors["interval"] = t("meetings.bad_interval")
    else:
        out["interval_weeks"] = interval
    types = [x.strip() for x in values.get("types", "").split(",") if x.strip()]
    if len(types) > 8 or any(len(x) > 60 for x in types):
        errors["types"] = t("meetings.bad_types")
    try:
        types = [clean(x, t, what=t("meetings.field_types"), max_length=60) for x in types]
    except UserError as error:
        errors["types"] = error.message
    out["types"] = types
    anchor_text = values.get("anchor", "").strip()
    if anchor_text:
        try:
            anchor = parse_moment(anchor_text, ctx.now - timedelta(days=3650), ctx.settings.language)
        except UnclearDate:
            anchor = None
        if anchor is None:
            errors["anchor"] = t("meetings.bad_anchor")
        else:
            out["anchor"] = anchor.date().isoformat()
    elif len(types) > 1 or out.get("interval_weeks", 1) > 1:
        errors["anchor"] = t("meetings.anchor_needed")
    region = values.get("region", "").strip()
    if region not in REGIONS:
        errors["region"] = t("meetings.bad_region", regions=", ".join(REGIONS))
    out["region"] = region
    out["count_held"] = values.get("alternation", "") == "overleggen"
    return out, errors


def apply_edits(series: Series, values: dict[str, Any]) -> Series:
    """A series with a coordinator's saved edits over the file's values."""
    changed: dict[str, Any] = {}
    if "title" in values:
        changed["title"] = values["title"]
    if "weekday" in values:
        changed["weekday"] = WEEKDAYS[values["weekday"]]
    if "start" in values:
        changed["start"], changed["end"] = time.fromisoformat(values["start"]), time.fromisoformat(values["end"])
    if "interval_weeks" in values:
        changed["interval_weeks"] = int(values["interval_weeks"])
    if "types" in values:
        changed["types"] = tuple(values["types"])
    if "anchor" in values:
        changed["anchor"] = date.fromisoformat(values["anchor"])
    if "region" in values:
        changed["region"] = values["region"] or None
    if "count_held" in values:
        changed["count_held"] = bool(values["count_held"])
    return dataclasses.replace(series, **changed)
