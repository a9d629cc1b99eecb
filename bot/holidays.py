"""`netwerkbot vakanties bijwerken`: the school holidays from the government's open data, into the holiday file.

The source is the Rijksoverheid open-data feed of school holidays, one JSON document per school year
(`…/infotypes/schoolholidays/schoolyear/2026-2027?output=json`): `content[0].vacations[]`, each with
a `type` ("Herfstvakantie ", often with stray whitespace), `compulsorydates` and `regions[]` of
`region` ("noord", "midden", "zuid" or "heel Nederland") with `startdate`/`enddate` as instants
("2026-10-16T22:00:00.000Z": midnight in Amsterdam). Instants are turned into Amsterdam calendar
days, so the feed's choice of midnight UTC or midnight local gives the same day.

A year is taken only when it is whole (the five holidays, every region, sane dates); years the
feed does not have (yet) keep what the file says. The file is written in one go (a temporary file,
checked by the same loader the bot uses, then renamed), with the source of every school year.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

import aiohttp

from bot.core.clock import Clock, SystemClock
from config.i18n import Catalog
from config.settings import Settings
from handlers.meetings.rhythm import REGIONS, ConfigError, load_holidays

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
HOLIDAYS = ("herfstvakantie", "kerstvakantie", "voorjaarsvakantie", "meivakantie", "zomervakantie")
YEARS_AHEAD = 3  # the current school year and the two after it (the government publishes years ahead)
LONGEST = timedelta(days=70)
YEAR_HEADER = re.compile(r"^# -- schooljaar (\d{4}-\d{4}) --\s*$")
SOURCE_LINE = re.compile(r"^# bron: (.*)$")
MORE_SOURCE = re.compile(r"^#   (\S.*)$")
Span = tuple[date, date]


class FeedError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class SchoolYear:
    name: str  # "2026-2027"
    source: str
    holidays: dict[str, dict[str, Span]] = field(default_factory=dict)  # holiday → region → span


def school_year_of(day: date) -> str:
    first = day.year if day.month >= 8 else day.year - 1
    return f"{first}-{first + 1}"


def coming_years(today: date) -> list[str]:
    first = int(school_year_of(today)[:4])
    return [f"{y}-{y + 1}" for y in range(first, first + YEARS_AHEAD)]


def local_day(value: Any, t: Catalog, where: str) -> date:
    text = str(value or "").strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise FeedError(t("ops.feed_bad_date", where=where, value=text[:40])) from None
    return moment.astimezone(AMSTERDAM).date() if moment.tzinfo else moment.date()


def parse_year(document: Any, year: str, t: Catalog, source: str) -> SchoolYear:
    """One school year from the feed's JSON, validated; FeedError says what is wrong, in Dutch."""
    try:
        content = document["content"][0]
        vacations = content["vacations"]
        published = re.sub(r"\s+", "", str(content.get("schoolyear", year)))
    except (KeyError, IndexError, TypeError):
        raise FeedError(t("ops.feed_bad_shape", year=year)) from None
    if published != year:
        raise FeedError(t("ops.feed_wrong_year", year=year, found=published[:20]))
    found = SchoolYear(year, source)
    for vacation in vacations:
        name = " ".join(str(vacation.get("type", "")).split()).lower()
        if name not in HOLIDAYS:
            continue  # the feed may list more than the five (it never has so far); they do not skip meetings
        for item in vacation.get("regions") or []:
            region = " ".join(str(item.get("region", "")).split()).lower()
            targets = REGIONS if region == "heel nederland" else (region,)
            if region != "heel nederland" and region not in REGIONS:
                raise FeedError(t("ops.feed_bad_region", year=year, holiday=name, region=region[:30]))
            where = f"{year} {name} {region}"
            span = (local_day(item.get("startdate"), t, where), local_day(item.get("enddate"), t, where))
            if not span[0] <= span[1] <= span[0] + LONGEST:
                raise FeedError(t("ops.feed_bad_span", where=where, first=span[0], last=span[1]))
            for target in targets:
                found.holidays.setdefault(name, {})[target] = span
    first, last = date(int(year[:4]), 8, 1), date(int(year[5:]), 9, 30)
    for name in HOLIDAYS:
        spans = found.holidays.get(name, {})
        if missing := [r for r in REGIONS if r not in spans]:
            raise FeedError(t("ops.feed_incomplete", year=year, holiday=name, regions=", ".join(missing)))
        if any(not first <= s[0] <= last for s in spans.values()):
            raise FeedError(t("ops.feed_bad_span", where=f"{year} {name}", first=min(s[0] for s in spans.values()),
                              last=max(s[1] for s in spans.values())))
    return found


async def fetch(base_url: str, years: Sequence[str], t: Catalog, today: date) -> tuple[list[SchoolYear], list[str]]:
    """The published years, and those the feed does not have (yet)."""
    published: list[SchoolYear] = []
    absent: list[str] = []
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        for year in years:
            url = f"{base_url.rstrip('/')}/{year}"
            try:
                async with session.get(url, params={"output": "json"}) as response:
                    if response.status == 404:
                        absent.append(year)
                        continue
                    if response.status != 200:
                        raise FeedError(t("ops.feed_http", url=url, status=response.status))
                    body = await response.read()
            except (aiohttp.ClientError, TimeoutError) as error:
                raise FeedError(t("ops.feed_unreachable", url=url, error=type(error).__name__)) from None
            try:
                document = json.loads(body)
            except ValueError:
                raise FeedError(t("ops.feed_bad_shape", year=year)) from None
            source = t("ops.feed_source", url=url, day=today.isoformat())
            published.append(parse_year(document, year, t, source))
    return published, absent


def read_file(path: Path) -> dict[str, SchoolYear]:
    """The holiday file by school year, with the source each year names (the bot's loader checks it first)."""
    load_holidays(path)
    text = path.read_text(encoding="utf-8")
    sources: dict[str, str] = {}
    current, in_source = "", False
    for line in text.splitlines():
        source = SOURCE_LINE.match(line) or (MORE_SOURCE.match(line) if in_source else None)
        if header := YEAR_HEADER.match(line):
            current = header[1]
        elif source and current:
            sources[current] = (sources.get(current, "") + " " + source[1]).strip()
        in_source = bool(source)
    years: dict[str, SchoolYear] = {}
    for item in tomllib.loads(text).get("vakantie", []):
        spans = {r: (item[r][0], item[r][1]) for r in REGIONS if r in item}
        if not spans:
            continue
        year = school_year_of(min(s[0] for s in spans.values()))
        entry = years.setdefault(year, SchoolYear(year, sources.get(year, "")))
        entry.holidays.setdefault(str(item["naam"]).strip(), {}).update(spans)
    return years


def differences(old: Mapping[str, SchoolYear], new: Mapping[str, SchoolYear], t: Catalog) -> list[str]:
    lines: list[str] = []
    for year in sorted(new):
        before = old.get(year)
        for name in HOLIDAYS:
            for region in REGIONS:
                was = before.holidays.get(name, {}).get(region) if before else None
                now = new[year].holidays[name][region]
                if was == now:
                    continue
                shown = t("ops.feed_span", first=now[0].isoformat(), last=now[1].isoformat())
                if was is None:
                    lines.append(t("ops.feed_added", year=year, holiday=name, region=region, span=shown))
                else:
                    earlier = t("ops.feed_span", first=was[0].isoformat(), last=was[1].isoformat())
                    lines.append(t("ops.feed_changed", year=year, holiday=name, region=region, old=earlier,
                                   new=shown))
    return lines


def render(years: Mapping[str, SchoolYear], t: Catalog) -> str:
    parts = [t("ops.holidays_file_header").rstrip("\n"), ""]
    for year in sorted(years):
        entry = years[year]
        parts.append(f"# -- schooljaar {year} --")
        lines = _wrap(entry.source or t("ops.feed_source_unknown"))
        parts += [f"# bron: {lines[0]}", *(f"#   {line}" for line in lines[1:])]
        for name in sorted(entry.holidays, key=lambda n: (HOLIDAYS.index(n) if n in HOLIDAYS else 99, n)):
            parts += ["[[vakantie]]", f'naam = "{name}"']
            for region in REGIONS:
                if span := entry.holidays[name].get(region):
                    parts.append(f"{region} = [{span[0].isoformat()}, {span[1].isoformat()}]")
            parts.append("")
    return "\n".join(parts).rstrip("\n") + "\n"


def _wrap(text: str, width: int = 100) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return [*lines, line] if line else lines


def write(path: Path, text: str) -> None:
    """Written beside the file, checked with the bot's own loader, then put in place in one rename."""
    partial = path.with_name(path.name + ".nieuw")
    partial.write_text(text, encoding="utf-8")
    try:
        load_holidays(partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


async def update(settings: Settings, out: TextIO, *, dry_run: bool, clock: Clock | None = None) -> int:
    t = Catalog(settings.language)
    today = (clock or SystemClock(settings.zone)).now().date()
    path = settings.school_holidays_file
    try:
        old = read_file(path) if path.exists() else {}
        published, absent = await fetch(settings.holidays_api_url, coming_years(today), t, today)
    except (FeedError, ConfigError) as error:
        print(getattr(error, "message", str(error)), file=out)
        print(t("ops.feed_nothing_written"), file=out)
        return 1
    for year in absent:
        print(t("ops.feed_absent", year=year), file=out)
    if not published:
        print(t("ops.feed_none"), file=out)
        return 1
    new = dict(old) | {y.name: y for y in published}
    for entry in published:
        print(t("ops.feed_published", year=entry.name), file=out)
    changes = differences(old, {y.name: y for y in published}, t)
    print("\n".join(changes) if changes else t("ops.feed_no_changes"), file=out)
    if dry_run:
        print(t("ops.feed_dry_run"), file=out)
        return 0
    text = render(new, t)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return 0
    try:
        write(path, text)
    except (OSError, ConfigError) as error:
        print(t("ops.feed_write_failed", file=path, error=error), file=out)
        return 1
    print(t("ops.feed_written", file=path), file=out)
    return 0


def run_update(settings: Settings, out: TextIO, *, dry_run: bool) -> int:
    return asyncio.run(update(settings, out, dry_run=dry_run))
