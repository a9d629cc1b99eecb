"""`netwerkbot import members` and `import expertise`: rows per second, against a floor in the same run.

    .venv/bin/python bench/imports.py [--postgres] [--members 10000] [--entries 50000]

Writes the cooperation's lists as a coordinator's spreadsheet would hold them (a schools file, a
members file with e-mail, role, school and for most a Slack id, an expertise file with holder by
e-mail, topic, description and for some a date) and imports them into a fresh database exactly as
the command line does (bot.importer.run_import: the per-row checks and report, the progress bar,
one transaction per file). Then the same files again, which must change nothing ("nothing twice").

Floor: the same rows, already checked and indexed, inserted in bulk in one transaction
(bench/bulk.py) into another fresh database: what the database itself needs for them.
Goal: >= 2,000 rows/s for members and for expertise, on both databases.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import io
import random
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ack_latency import FIRST, LAST, PHRASES, TOPICS  # noqa: E402
from bench.bulk import bulk_insert  # noqa: E402
from bench.postgres import fresh_database  # noqa: E402
from bot.app import build  # noqa: E402
from bot.importer import run_import  # noqa: E402
from config.settings import Settings  # noqa: E402
from handlers.expertise.analysis import index_terms, topic_key  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.models import Expertise, ExpertiseTerm, Identity, Member, Organisation, SearchTerm  # noqa: E402

SCHOOLS = 120
GOAL = 2000.0
NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
ROLES = ["IB'er", "leerkracht", "consulent", "directeur", "expert"]


def write_files(folder: Path, members: int, entries: int, rng: random.Random) -> dict[str, Path]:
    schools = [f"Basisschool {n}" for n in range(1, SCHOOLS + 1)]
    people = [(f"{rng.choice(FIRST)} {rng.choice(LAST)} {n}", f"lid{n}@school.nl") for n in range(1, members + 1)]
    files = {kind: folder / f"{kind}.csv" for kind in ("schools", "members", "expertise")}
    with files["schools"].open("w", newline="", encoding="utf-8-sig") as fh:
        out = csv.writer(fh, delimiter=";")
        out.writerow(["naam", "soort", "werkgebied"])
        out.writerows([name, "school", "Alkmaar"] for name in schools)
    with files["members"].open("w", newline="", encoding="utf-8-sig") as fh:
        out = csv.writer(fh, delimiter=";")
        out.writerow(["naam", "e-mail", "rol", "school", "slack_id"])
        for n, (name, email) in enumerate(people, start=1):
            slack = f"U{n:08d}" if rng.random() < 0.8 else ""
            out.writerow([name, email, rng.choice(ROLES), rng.choice(schools), slack])
    with files["expertise"].open("w", newline="", encoding="utf-8-sig") as fh:
        out = csv.writer(fh, delimiter=";")
        out.writerow(["houder", "onderwerp", "omschrijving", "bevestigd"])
        taken: set[tuple[int, str]] = set()
        while len(taken) < entries:
            holder, topic = rng.randrange(members), rng.choice(TOPICS)
            if (holder, topic_key(topic)) in taken:
                continue
            taken.add((holder, topic_key(topic)))
            description = ", ".join(rng.sample(PHRASES, k=rng.randint(0, 3)))
            date = f"{rng.randint(1, 28):02d}-{rng.randint(1, 12):02d}-2025" if rng.random() < 0.5 else ""
            out.writerow([people[holder][1], topic, description, date])
    return files


async def imported(url: str, files: dict[str, Path]) -> dict[str, float]:
    """Seconds per file, first run and the same files again; asserts that the second run changed nothing."""
    seconds: dict[str, float] = {}
    for attempt in ("", " again"):
        for kind, path in files.items():
            out = io.StringIO()
            bot = build(Settings(_env_file=None, database_url=url))  # as the command line: a bot per file
            started = time.perf_counter()
            code = await run_import(bot, kind, str(path), out=out, progress=io.StringIO())
            seconds[kind + attempt] = time.perf_counter() - started
            report = out.getvalue()
            assert code == 0 and ", 0 geweigerd" in report, report
            if attempt:
                assert " 0 nieuw, 0 bijgewerkt" in report, report
    return seconds


async def floor(url: str, files: dict[str, Path]) -> dict[str, float]:
    """The same rows inserted in bulk (checked and indexed beforehand): seconds per kind."""
    db = Database(url)
    await db.upgrade()
    rows = {kind: list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig")), delimiter=";"))
            for kind, path in files.items()}
    schools = {r["naam"]: n for n, r in enumerate(rows["schools"], start=1)}
    members, identities, by_email = [], [], {}
    for n, r in enumerate(rows["members"], start=1):
        members.append({"id": n, "name": r["naam"], "email": r["e-mail"], "role": "ib-er", "title": "",
                        "organisation_id": schools[r["school"]], "created_at": NOW})
        by_email[r["e-mail"]] = n
        if r["slack_id"]:
            identities.append({"platform": "slack", "user_id": r["slack_id"], "member_id": n})
    entries: list[dict[str, Any]] = []
    terms: list[dict[str, Any]] = []
    vocabulary: set[str] = set()
    for n, r in enumerate(rows["expertise"], start=1):
        entries.append({"id": n, "member_id": by_email[r["houder"]], "topic": r["onderwerp"],
                        "topic_key": topic_key(r["onderwerp"]), "description": r["omschrijving"],
                        "created_at": NOW, "confirmed_at": NOW})
        found = index_terms(r["onderwerp"], r["omschrijving"])
        terms += [{"expertise_id": n, "term": t, "weight": w} for t, w in found.items()]
        vocabulary.update(found)
    seconds = {}
    for kind, tables in (
        ("schools", [(Organisation, [{"id": n, "name": s, "name_key": s.lower(), "kind": "school",
                                      "werkgebied": "Alkmaar", "created_at": NOW} for s, n in schools.items()])]),
        ("members", [(Member, members), (Identity, identities)]),
        ("expertise", [(Expertise, entries), (ExpertiseTerm, terms),
                       (SearchTerm, [{"term": t} for t in sorted(vocabulary)])]),
    ):
        started = time.perf_counter()
        await bulk_insert(db, tables)
        seconds[kind] = time.perf_counter() - started
    await db.dispose()
    return seconds


@contextlib.asynccontextmanager
async def database(kind: str, folder: Path, name: str) -> AsyncIterator[str]:
    if kind == "PostgreSQL":
        async with fresh_database() as url:
            yield url
    else:
        yield f"sqlite+aiosqlite:///{folder / name}.db"


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--postgres", action="store_true", help="also on a fresh local PostgreSQL database")
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--entries", type=int, default=50_000)
    args = parser.parse_args()
    ok = True
    with tempfile.TemporaryDirectory(prefix="imports-") as tmp:
        folder = Path(tmp)
        files = write_files(folder, args.members, args.entries, random.Random(20261204))
        counts = {"members": args.members, "expertise": args.entries}
        print(f"{args.members:,} members, {args.entries:,} expertise rows, {SCHOOLS} schools\n")
        print("| database | file | rows | import s | rows/s | again s | again rows/s | floor s | import / floor |")
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for label in ("SQLite", *(["PostgreSQL"] if args.postgres else [])):
            async with database(label, folder, "import") as url:
                seconds = await imported(url, files)
            async with database(label, folder, "floor") as url:
                bulk = await floor(url, files)
            for kind, rows in counts.items():
                rate = rows / seconds[kind]
                ok &= rate >= GOAL
                print(f"| {label} | {kind} | {rows:,} | {seconds[kind]:.2f} | **{rate:,.0f}** | "
                      f"{seconds[kind + ' again']:.2f} | {rows / seconds[kind + ' again']:,.0f} | {bulk[kind]:.2f} | "
                      f"{seconds[kind] / bulk[kind]:.1f}× |")
    print(f"\ngoal >= {GOAL:,.0f} rows/s for members and expertise: {'MET' if ok else 'NOT MET'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
