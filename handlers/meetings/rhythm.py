"""The rhythm of a meeting series, as pure functions: which dates, which type, which are skipped.

A weekly series meets on its weekday in every `interval_weeks`-th week counted from the anchor's
week. Its types take turns: by calendar week (a holiday week uses up its type: the default, as the
consultants count it) or by meetings held (`count_held`: after a holiday the next type). A meeting
on a school holiday of the series' region or a Dutch public holiday is skipped, and stays in the
list with the reason, so people see why. Coordinators' exceptions (skip one, move one) come in as
`Change`s. Everything is local calendar time: a Tuesday 09:00 is 09:00 in both summer and winter.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import holidays

WEEKDAYS = {"maandag": 0, "dinsdag": 1, "woensdag": 2, "donderdag": 3, "vrijdag": 4, "zaterdag": 5, "zondag": 6}
REGIONS = ("noord", "midden", "zuid")
SEARCH_WEEKS = 110  # next_meetings looks this far ahead (two school years)


class ConfigError(ValueError):
    """A meetings or holidays file that is wrong; the message says where and how to fix it, in Dutch."""


@dataclass(frozen=True)
class Reminder:
    """When a reminder goes out: `days_before` the meeting's date at local time `at`, or
    `minutes_before` its start."""

    key: str
    days_before: int | None = None
    at: time | None = None
    minutes_before: int | None = None
    agenda: bool = False  # the reminder shows the agenda

    def due(self, start: datetime) -> datetime:
        if self.minutes_before is not None:
            return start - timedelta(minutes=self.minutes_before)
        assert self.days_before is not None and self.at is not None
        day = start.date() - timedelta(days=self.days_before)
        return datetime.combine(day, self.at, tzinfo=start.tzinfo)


@dataclass(frozen=True)
class TrimesterDate:
    day: date
    pitch_deadline: datetime | None = None


@dataclass(frozen=True)
class Series:
    key: str
    title: str
    channel: str  # a channel role (consultants, inner_circle, outer_circle, proposals) or a channel id
    weekday: int  # 0 = Monday
    start: time
    end: time
    zone: ZoneInfo
    interval_weeks: int = 1
    types: tuple[str, ...] = ()
    anchor: date | None = None  # a date in a week with a meeting of types[0]
    region: str | None = None
    count_held: bool = False
    reminders: tuple[Reminder, ...] = ()
    dates: tuple[TrimesterDate, ...] = ()  # fixed dates instead of a weekly rhythm


@dataclass(frozen=True)
class Change:
    """A coordinator's exception to the rhythm, for the meeting the rhythm puts on `planned`."""

    planned: date
    skip_reason: str | None = None
    moved_to: datetime | None = None  # aware local start


@dataclass(frozen=True)
class Meeting:
    series: str
    planned: date  # the date the rhythm gives it: its identity, also when moved
    start: datetime
    end: datetime
    type: str
    skipped: str | None  # the reason, or None when it is held
    moved: bool = False
    pitch_deadline: datetime | None = None


@dataclass
class HolidayCalendar:
    """School holidays per region (from the cooperation's file) and Dutch public holidays."""

    school: Mapping[str, Sequence[tuple[str, date, date]]] = field(default_factory=dict)

    def reason(self, day: date, region: str | None) -> str | None:
        for name, first, last in self.school.get(region or "", ()):
            if first <= day <= last:
                return name
        return _public_holidays(day.year).get(day)


@lru_cache(maxsize=16)
def _public_holidays(year: int) -> dict[date, str]:
    return dict(holidays.country_holidays("NL", years=year, language="nl").items())


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def meetings(series: Series, calendar: HolidayCalendar, first: date, last: date,
             changes: Iterable[Change] = ()) -> list[Meeting]:
    """Every meeting the rhythm plans from `first` to `last` (inclusive), skipped ones included."""
    by_day = {c.planned: c for c in changes}
    if series.dates:
        return [_meeting(series, calendar, d.day, "", by_day.get(d.day), d.pitch_deadline)
                for d in sorted(series.dates, key=lambda d: d.day) if first <= d.day <= last]
    found = []
    for day, index in _planned(series, calendar, first, last, by_day):
        kind = series.types[index % len(series.types)] if series.types else ""
        found.append(_meeting(series, calendar, day, kind, by_day.get(day), None))
    return found


def _planned(series: Series, calendar: HolidayCalendar, first: date, last: date,
             changes: Mapping[date, Change]) -> Iterable[tuple[date, int]]:
    """(date, turn) of each planned meeting; the turn picks its type.

    By calendar weeks the turn is the number of intervals since the anchor's week. By held
    meetings it is the number of meetings held since the anchor's (turn 0), counted backwards
    before it; a skipped meeting gets the turn the next held one will have.
    """
    anchor = _monday(series.anchor) if series.anchor else _monday(first)
    step = 7 * series.interval_weeks

    def day_of(n: int) -> date:
        return anchor + timedelta(days=n * step + series.weekday)

    first_n = (_monday(first) - anchor).days // step
    if not series.count_held:
        n = first_n
        while day_of(n) <= last:
            if day_of(n) >= first:
                yield day_of(n), n
            n += 1
        return
    n = min(first_n, 0)
    turn = -sum(1 for k in range(n, 0) if not _skipped(series, calendar, day_of(k), changes.get(day_of(k))))
    while day_of(n) <= last:
        day = day_of(n)
        if day >= first:
            yield day, turn
        if not _skipped(series, calendar, day, changes.get(day)):
            turn += 1
        n += 1


def _skipped(series: Series, calendar: HolidayCalendar, day: date, change: Change | None) -> str | None:
    if change is not None and change.moved_to is not None:
        return None  # a moved meeting is held, wherever the rhythm had put it
    if change is not None and change.skip_reason is not None:
        return change.skip_reason
    return calendar.reason(day, series.region)


def _meeting(series: Series, calendar: HolidayCalendar, day: date, kind: str, change: Change | None,
             deadline: datetime | None) -> Meeting:
    start = datetime.combine(day, series.start, tzinfo=series.zone)
    end = datetime.combine(day, series.end, tzinfo=series.zone)
    if change is not None and change.moved_to is not None:
        moved = change.moved_to.astimezone(series.zone)
        return Meeting(series.key, day, moved, moved + (end - start), kind, None, True, deadline)
    return Meeting(series.key, day, start, end, kind, _skipped(series, calendar, day, change), False, deadline)


def next_meetings(series: Series, calendar: HolidayCalendar, after: datetime, count: int,
                  changes: Iterable[Change] = ()) -> list[Meeting]:
    """The next `count` meetings that end after `after`, skipped ones included."""
    changes = list(changes)
    today = after.astimezone(series.zone).date()
    found = meetings(series, calendar, today - timedelta(days=7), today + timedelta(weeks=SEARCH_WEEKS), changes)
    return [m for m in sorted(found, key=lambda m: m.start) if m.end > after][:count]


# -- the files ----------------------------------------------------------------------------------------


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except OSError as error:
        raise ConfigError(f"{path}: kan het bestand niet lezen ({error.strerror}).") from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path.name}: geen geldige TOML: {error}.") from error


def _time(value: Any, where: str, name: str) -> time:
    try:
        return time.fromisoformat(str(value).zfill(5))
    except ValueError:
        raise ConfigError(f"{where}: {name} '{value}' is geen tijd; schrijf bijvoorbeeld \"09:00\".") from None


def _local(value: Any, zone: ZoneInfo, where: str, name: str) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=zone) if value.tzinfo is None else value.astimezone(zone)
    if isinstance(value, date):
        return datetime.combine(value, time(23, 59), tzinfo=zone)
    raise ConfigError(f"{where}: {name} '{value}' is geen datum en tijd; schrijf bijvoorbeeld 2026-09-22T17:00:00.")


def _reminder(raw: Any, where: str) -> Reminder:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: elke herinnering is een tabel, bijvoorbeeld "
                          f"{{ days_before = 1, at = \"16:00\" }}.")
    agenda = bool(raw.get("agenda", False))
    if "minutes_before" in raw:
        minutes = raw["minutes_before"]
        if not isinstance(minutes, int) or not 0 <= minutes <= 24 * 60:
            raise ConfigError(f"{where}: minutes_before moet een aantal minuten zijn (0 tot 1440).")
        return Reminder(str(raw.get("key") or f"{minutes}m"), minutes_before=minutes, agenda=agenda)
    days, at = raw.get("days_before"), raw.get("at")
    if not isinstance(days, int) or not 0 <= days <= 60 or at is None:
        raise ConfigError(f"{where}: een herinnering heeft minutes_before, of days_before (0 tot 60) met at.")
    moment = _time(at, where, "at")
    return Reminder(str(raw.get("key") or f"{days}d-{moment:%H%M}"), days_before=days, at=moment, agenda=agenda)


def _series(raw: Any, zone: ZoneInfo, source: str) -> Series:
    if not isinstance(raw, dict) or not isinstance(raw.get("key"), str) or not raw["key"].strip():
        raise ConfigError(f"{source}: elke [[series]] heeft een key, bijvoorbeeld key = \"consulenten\".")
    key = raw["key"].strip().lower()
    where = f"{source}, serie '{key}'"
    title = str(raw.get("title") or key)
    dates: list[TrimesterDate] = []
    for item in raw.get("dates", []):
        if not isinstance(item, dict) or not isinstance(item.get("date"), date):
            raise ConfigError(f"{where}: dates is een lijst van {{ date = 2026-10-06, pitch_deadline = … }}.")
        deadline = item.get("pitch_deadline")
        dates.append(TrimesterDate(item["date"], _local(deadline, zone, where, "pitch_deadline")
                                   if deadline is not None else None))
    weekday_name = str(raw.get("weekday", "")).strip().lower()
    if not dates and weekday_name not in WEEKDAYS:
        raise ConfigError(f"{where}: weekday '{weekday_name}' onbekend; gebruik maandag … zondag.")
    start, end = _time(raw.get("start", ""), where, "start"), _time(raw.get("end", ""), where, "end")
    if end <= start:
        raise ConfigError(f"{where}: end ({end:%H:%M}) moet na start ({start:%H:%M}) liggen.")
    interval = raw.get("interval_weeks", 1)
    if not isinstance(interval, int) or not 1 <= interval <= 52:
        raise ConfigError(f"{where}: interval_weeks moet een geheel aantal weken zijn van 1 tot 52.")
    types = raw.get("types", [])
    if not isinstance(types, list) or not all(isinstance(x, str) and x.strip() for x in types):
        raise ConfigError(f"{where}: types is een lijst van namen, bijvoorbeeld [\"afstemmingsoverleg\", "
                          f"\"de verdieping\"].")
    anchor = raw.get("anchor")
    if anchor is not None and not isinstance(anchor, date):
        raise ConfigError(f"{where}: anchor '{anchor}' is geen datum; schrijf bijvoorbeeld 2026-08-25.")
    if not dates and anchor is None and (len(types) > 1 or interval > 1):
        raise ConfigError(f"{where}: anchor ontbreekt; met afwisseling of interval_weeks > 1 is een datum nodig "
                          f"in een week met de eerste soort, bijvoorbeeld anchor = 2026-08-25.")
    region = raw.get("region")
    if region is not None and region not in REGIONS:
        raise ConfigError(f"{where}: region '{region}' onbekend; gebruik noord, midden of zuid.")
    alternation = raw.get("alternation", "weken")
    if alternation not in ("weken", "overleggen"):
        raise ConfigError(f"{where}: alternation '{alternation}' onbekend; gebruik \"weken\" of \"overleggen\".")
    reminders = raw.get("reminders", [])
    if not isinstance(reminders, list):
        raise ConfigError(f"{where}: reminders is een lijst van herinneringen.")
    channel = str(raw.get("channel", "")).strip()
    if not channel:
        raise ConfigError(f"{where}: channel ontbreekt (consultants, inner_circle, outer_circle, proposals of een "
                          f"kanaal-id).")
    return Series(key=key, title=title, channel=channel, weekday=WEEKDAYS.get(weekday_name, 0), start=start, end=end,
                  zone=zone, interval_weeks=interval, types=tuple(t.strip() for t in types),
                  anchor=anchor if isinstance(anchor, date) else None, region=region,
                  count_held=alternation == "overleggen",
                  reminders=tuple(_reminder(r, where) for r in reminders), dates=tuple(dates))


def load_series(path: Path, zone: ZoneInfo) -> list[Series]:
    raw = _read(path)
    found = [_series(item, zone, path.name) for item in raw.get("series", [])]
    keys = [s.key for s in found]
    if len(keys) != len(set(keys)):
        raise ConfigError(f"{path.name}: elke serie heeft een eigen key; dubbel: "
                          f"{sorted({k for k in keys if keys.count(k) > 1})}.")
    return found


def load_holidays(path: Path) -> HolidayCalendar:
    raw = _read(path)
    school: dict[str, list[tuple[str, date, date]]] = {region: [] for region in REGIONS}
    for item in raw.get("vakantie", []):
        name = str(item.get("naam", "")).strip() if isinstance(item, dict) else ""
        if not name:
            raise ConfigError(f"{path.name}: elke [[vakantie]] heeft een naam, bijvoorbeeld naam = \"kerstvakantie\".")
        for region in REGIONS:
            span = item.get(region)
            if span is None:
                continue
            if (not isinstance(span, list) or len(span) != 2 or not all(isinstance(d, date) for d in span)
                    or span[1] < span[0]):
                raise ConfigError(f"{path.name}, {name}: {region} is [eerste dag, laatste dag], bijvoorbeeld "
                                  f"[2026-12-19, 2027-01-03].")
            school[region].append((name, span[0], span[1]))
    return HolidayCalendar(school)
