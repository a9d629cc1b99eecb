"""`netwerkbot backup` / `restore`: a backup taken while the bot acknowledges writes holds every write
acknowledged before it began, and is one consistent moment (no write missing before one that is there)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from pathlib import Path

from bot.core.clock import ManualClock
from storage.repositories import Repositories
from tests.conftest import PG_URL, started_bot

ROOT = Path(__file__).resolve().parents[2]


async def netwerkbot(*args: str, database_url: str, cwd: Path) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NETWERKBOT_", "SLACK_", "MATRIX_"))}
    env |= {"DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)}
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", *args, cwd=cwd, env=env,
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await process.communicate()
    return int(process.returncode or 0), output.decode()


async def write(repos: Repositories, number: int, clock: ManualClock) -> None:
    await repos.organisations.upsert(name=f"School {number}", name_key=f"school {number}", kind="school",
                                     werkgebied="", now=clock.now())


def schools(path: Path) -> list[int]:
    with sqlite3.connect(path) as db:
        return sorted(int(name.split()[1]) for (name,) in db.execute("SELECT name FROM organisations"))


async def test_a_backup_under_load_restores_every_acknowledged_write(tmp_path: Path, clock: ManualClock) -> None:
    live, copy = tmp_path / "netwerkbot.db", tmp_path / "kopie.db"
    url = f"sqlite+aiosqlite:///{live}"
    acknowledged: list[int] = []
    stop, started = asyncio.Event(), asyncio.Event()

    async with started_bot(url, clock) as bot:
        async def writer() -> None:
            number = 0
            while not stop.is_set():
                async with bot.db.transaction() as repos:
                    await write(repos, number, clock)
                acknowledged.append(number)  # committed: what the bot would now acknowledge
                if number == 49:
                    started.set()
                number += 1
                await asyncio.sleep(0)

        task = asyncio.create_task(writer())
        await started.wait()
        before = len(acknowledged)
        code, output = await netwerkbot("backup", str(copy), database_url=url, cwd=tmp_path)
        during = len(acknowledged)
        stop.set()
        await task

    assert code == 0, output
    assert f"Reservekopie gemaakt: {copy}" in output
    assert during > before  # the bot went on acknowledging writes while the backup ran
    saved = schools(copy)
    assert saved == list(range(len(saved)))  # one moment: no acknowledged write missing before a saved one
    assert before <= len(saved) <= during

    restored = tmp_path / "terug.db"
    code, output = await netwerkbot("restore", str(copy), database_url=f"sqlite+aiosqlite:///{restored}",
                                    cwd=tmp_path)
    assert code == 0, output
    assert "Teruggezet" in output
    async with started_bot(f"sqlite+aiosqlite:///{restored}", clock) as bot, bot.db.transaction() as repos:
        names = {o.name for o in await repos.organisations.all()}
    assert names == {f"School {n}" for n in saved}


async def test_restore_over_a_database_keeps_the_old_one_and_refuses_what_is_no_backup(
        tmp_path: Path, clock: ManualClock) -> None:
    live, copy = tmp_path / "netwerkbot.db", tmp_path / "kopie.db"
    url = f"sqlite+aiosqlite:///{live}"
    async with started_bot(url, clock) as bot, bot.db.transaction() as repos:
        await write(repos, 1, clock)
    assert (await netwerkbot("backup", str(copy), database_url=url, cwd=tmp_path))[0] == 0
    code, output = await netwerkbot("backup", str(copy), database_url=url, cwd=tmp_path)
    assert code == 1
    assert "bestaat al" in output
    async with started_bot(url, clock) as bot, bot.db.transaction() as repos:
        await write(repos, 2, clock)

    garbage = tmp_path / "notities.txt"
    garbage.write_text("geen database", encoding="utf-8")
    code, output = await netwerkbot("restore", str(garbage), database_url=url, cwd=tmp_path)
    assert code == 1
    assert "geen (heel) netwerkbot-database; er is niets veranderd" in output
    assert schools(live) == [1, 2]

    code, output = await netwerkbot("restore", str(copy), database_url=url, cwd=tmp_path)
    assert code == 0, output
    assert schools(live) == [1]
    kept = await asyncio.to_thread(lambda: sorted(tmp_path.glob("netwerkbot.db.voor-herstel-*")))
    assert len(kept) == 1
    assert schools(kept[0]) == [1, 2]


async def test_postgresql_gets_the_pg_dump_routine(tmp_path: Path) -> None:
    code, output = await netwerkbot("backup", str(tmp_path / "x.db"), database_url=PG_URL, cwd=tmp_path)

    assert code == 2
    assert "pg_dump --format=custom" in output
    assert "pg_restore --clean --if-exists" in output
    assert not (tmp_path / "x.db").exists()


async def test_the_matrix_crypto_store_goes_along_and_comes_back(tmp_path: Path, clock: ManualClock) -> None:
    live, copy = tmp_path / "netwerkbot.db", tmp_path / "kopie.db"
    url = f"sqlite+aiosqlite:///{live}"
    store = tmp_path / "netwerkbot-matrix-store"  # MATRIX_STORE_PATH's default: beside the database
    store.mkdir()
    with sqlite3.connect(store / "crypto.db") as db:
        db.execute("CREATE TABLE keys (session TEXT)")
        db.execute("INSERT INTO keys VALUES ('megolm van maandag')")
    (store / "@bot:swv.nl_DEVICE.trusted_devices").write_text("@anna:swv.nl PHONE ed25519 abc\n", encoding="utf-8")
    async with started_bot(url, clock) as bot, bot.db.transaction() as repos:
        await write(repos, 1, clock)

    code, output = await netwerkbot("backup", str(copy), database_url=url, cwd=tmp_path)
    assert code == 0, output
    assert "kopie.db.matrix-store" in output
    with sqlite3.connect(store / "crypto.db") as db:  # the keys move on after the backup
        db.execute("INSERT INTO keys VALUES ('megolm van dinsdag')")
    code, output = await netwerkbot("restore", str(copy), database_url=url, cwd=tmp_path)

    assert code == 0, output
    assert "Matrix-sleutels" in output
    with sqlite3.connect(store / "crypto.db") as db:
        assert db.execute("SELECT session FROM keys").fetchall() == [("megolm van maandag",)]
    assert "PHONE" in (store / "@bot:swv.nl_DEVICE.trusted_devices").read_text(encoding="utf-8")
    kept = await asyncio.to_thread(lambda: sorted(tmp_path.glob("netwerkbot-matrix-store.voor-herstel-*")))
    assert len(kept) == 1
