"""`netwerkbot vakanties bijwerken` against a local server that answers as the Rijksoverheid open-data feed.

`data/schoolvakanties_2026-2027.json` has the feed's real shape (envelope, `content[0].vacations`,
types with stray whitespace, "heel Nederland", instants at Amsterdam midnight in UTC); its dates
are test data, chosen to differ from the shipped file in two places.
"""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.core.clock import ManualClock
from bot.holidays import update
from config.settings import CONFIG_DIR
from handlers.meetings.rhythm import load_holidays
from tests.conftest import make_settings

RECORDED = json.loads((Path(__file__).parent / "data" / "schoolvakanties_2026-2027.json").read_text(encoding="utf-8"))
PATH = "/v1/sources/rijksoverheid/infotypes/schoolholidays/schoolyear"


class Feed:
    def __init__(self) -> None:
        self.years: dict[str, Any] = {"2026-2027": RECORDED}
        self.asked: list[str] = []
        self.url = ""

    async def answer(self, request: web.Request) -> web.StreamResponse:
        year = request.match_info["year"]
        self.asked.append(f"{year}?output={request.query.get('output')}")
        if year not in self.years:
            raise web.HTTPNotFound()
        found = self.years[year]
        return web.Response(text=found) if isinstance(found, str) else web.json_response(found)


@pytest.fixture
async def feed() -> AsyncIterator[Feed]:
    served = Feed()
    app = web.Application()
    app.router.add_get(PATH + "/{year}", served.answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    served.url = f"http://127.0.0.1:{runner.addresses[0][1]}{PATH}/"
    try:
        yield served
    finally:
        await runner.cleanup()


@pytest.fixture
def holidays_file(tmp_path: Path) -> Path:
    copy = tmp_path / "school_holidays.toml"
    shutil.copy(CONFIG_DIR / "school_holidays.toml", copy)
    return copy


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


async def bijwerken(feed: Feed, path: Path, clock: ManualClock, *, dry_run: bool = False) -> tuple[int, str]:
    out = io.StringIO()
    settings = make_settings("sqlite://", school_holidays_file=path, holidays_api_url=feed.url)
    return await update(settings, out, dry_run=dry_run, clock=clock), out.getvalue()


async def test_the_coming_years_are_fetched_shown_and_written(feed: Feed, holidays_file: Path,
                                                             clock: ManualClock) -> None:
    before = load_holidays(holidays_file)

    code, text = await bijwerken(feed, holidays_file, clock)

    assert code == 0, text
    assert feed.asked == ["2026-2027?output=json", "2027-2028?output=json", "2028-2029?output=json"]
    assert "Schooljaar 2026-2027: opgehaald en compleet." in text
    assert "Schooljaar 2027-2028: nog niet gepubliceerd." in text
    assert "~ 2026-2027 herfstvakantie zuid: 2026-10-10 t/m 2026-10-18 → 2026-10-17 t/m 2026-10-25" in text
    assert "~ 2026-2027 voorjaarsvakantie zuid: 2027-02-13 t/m 2027-02-21 → 2027-02-06 t/m 2027-02-14" in text
    assert text.count("~ ") == 2  # the rest of the year was already right
    after = load_holidays(holidays_file)
    assert after.reason(date(2026, 10, 20), "zuid") == "herfstvakantie"  # a Tuesday meeting in zuid is skipped
    assert after.reason(date(2026, 10, 13), "zuid") is None  # and the week before it is not any more
    assert after.reason(date(2026, 12, 19), "midden") == "kerstvakantie"  # "heel Nederland", Amsterdam midnight
    untouched = [(n, f, last) for n, f, last in before.school["noord"] if f.year == 2028 or f < date(2026, 8, 1)]
    assert all(entry in after.school["noord"] for entry in untouched)  # other years keep what the file said
    written = read(holidays_file)
    year = written.split("# -- schooljaar 2026-2027 --")[1].split("[[vakantie]]")[0]
    assert f"# bron: open data van de Rijksoverheid ({feed.url}2026-2027)" in year.replace("\n#   ", " ")
    assert "uit het geheugen getypt" in written.split("# -- schooljaar 2027-2028 --")[1]

    code, text = await bijwerken(feed, holidays_file, clock)
    assert code == 0
    assert "Geen wijzigingen in de data." in text
    assert read(holidays_file) == written


async def test_a_trial_writes_nothing(feed: Feed, holidays_file: Path, clock: ManualClock) -> None:
    original = read(holidays_file)

    code, text = await bijwerken(feed, holidays_file, clock, dry_run=True)

    assert code == 0
    assert "~ 2026-2027 herfstvakantie zuid" in text
    assert "Proef: er is niets geschreven." in text
    assert read(holidays_file) == original


@pytest.mark.parametrize(("answer", "message"), [
    ("incomplete", "Schooljaar 2026-2027 is niet compleet: zomervakantie ontbreekt voor zuid."),
    ("region", "onbekende regio \"oost\""),
    ("date", "geen datum maar \"morgen\""),
    ("html", "heeft niet de vorm van de open data"),
])
async def test_a_bad_answer_changes_nothing(feed: Feed, holidays_file: Path, clock: ManualClock, answer: str,
                                            message: str) -> None:
    broken = json.loads(json.dumps(RECORDED))
    summer = broken["content"][0]["vacations"][4]
    if answer == "incomplete":
        summer["regions"] = summer["regions"][:2]
    elif answer == "region":
        summer["regions"][2]["region"] = "oost"
    elif answer == "date":
        summer["regions"][0]["startdate"] = "morgen"
    feed.years["2026-2027"] = "<html>Onderhoud</html>" if answer == "html" else broken
    original = read(holidays_file)

    code, text = await bijwerken(feed, holidays_file, clock)

    assert code == 1
    assert message in text
    assert "Er is niets veranderd aan het vakantiebestand." in text
    assert read(holidays_file) == original


async def test_an_unreachable_feed_changes_nothing(holidays_file: Path, clock: ManualClock) -> None:
    dead = Feed()
    dead.url = "http://127.0.0.1:1/schoolyear/"
    original = read(holidays_file)

    code, text = await bijwerken(dead, holidays_file, clock)

    assert code == 1
    assert "is niet bereikbaar" in text
    assert read(holidays_file) == original
