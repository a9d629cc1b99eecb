"""`netwerkbot import` writes accepted rows a thousand at a time (storage/imports.py): lists longer than a
batch go in whole, with every account on the right member, every entry findable, and nothing twice."""

from __future__ import annotations

import io
from pathlib import Path

from bot.app import Bot
from bot.importer import run_import
from tests.support import actor, run, text_of

MEMBERS = 1_500  # a batch and a half
TOPICS = ("gedrag", "dyslexie")


async def load(bot: Bot, kind: str, path: Path) -> str:
    out = io.StringIO()
    assert await run_import(bot, kind, str(path), out=out, progress=io.StringIO()) == 0
    return out.getvalue()


async def test_a_list_longer_than_a_batch_goes_in_whole_and_only_once(bot: Bot, tmp_path: Path) -> None:
    members, expertise = tmp_path / "members.csv", tmp_path / "expertise.csv"
    lines = ["naam;e-mail;slack_id"]
    for n in range(1, MEMBERS + 1):  # the last ten have no e-mail, only a Slack account
        email = f"lid{n}@school.nl" if n <= MEMBERS - 10 else ""
        lines.append(f"Lid {n};{email};U{n:07d}")
    lines.append("Lid 1 dubbel;lid1@school.nl;")  # refused: the address was in an accepted row
    members.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows = ["houder;onderwerp;omschrijving"]
    rows += [f"lid{n}@school.nl;{topic};Observaties in de klas" for n in range(1, MEMBERS - 9) for topic in TOPICS]
    rows += [f"Lid {MEMBERS};gedrag;"]
    expertise.write_text("\n".join(rows) + "\n", encoding="utf-8")

    report = await load(bot, "members", members)
    assert f"{MEMBERS} nieuw, 0 bijgewerkt, 0 ongewijzigd, 1 geweigerd" in report, report
    report = await load(bot, "expertise", expertise)
    entries = 2 * (MEMBERS - 10) + 1
    assert f"{entries} nieuw, 0 bijgewerkt, 0 ongewijzigd, 0 geweigerd" in report, report

    assert f"{MEMBERS - 9} gevonden" in text_of(await run(bot, "/expertise gedrag"))
    assert f"{MEMBERS - 10} gevonden" in text_of(await run(bot, "/expertise dyslexie"))
    for n in (1, 1001, MEMBERS):  # each account on its own member, also past the first batch
        async with bot.db.transaction() as repos:
            member = await repos.members.by_identity("slack", f"U{n:07d}")
        assert member is not None and member.name == f"Lid {n}"
    assert "Lid 1001" in text_of(await run(bot, "/netwerkbot profiel", actor(f"U{1001:07d}", platform="slack")))

    assert f"0 nieuw, 0 bijgewerkt, {MEMBERS} ongewijzigd" in await load(bot, "members", members)
    assert f"0 nieuw, 0 bijgewerkt, {entries} ongewijzigd" in await load(bot, "expertise", expertise)
    assert f"{MEMBERS - 9} gevonden" in text_of(await run(bot, "/expertise gedrag"))
