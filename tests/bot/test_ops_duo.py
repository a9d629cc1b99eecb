"""`netwerkbot import duo FILE --swv CODE`: the cooperation's schools from DUO's file of schools per
samenwerkingsverband (`data/duo_swv_po_vestigingen.csv`: DUO's column layout and conventions —
`;`, CRLF, upper-case names, BRIN + vestiging — with made-up schools)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from bot.app import Bot
from bot.core.clock import ManualClock
from bot.duo import import_duo, summary
from storage.brin import SchoolRegister
from tests.conftest import started_bot

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = Path(__file__).parent / "data" / "duo_swv_po_vestigingen.csv"


async def schools(bot: Bot) -> dict[str, tuple[str, str]]:
    async with bot.db.transaction() as repos:
        return {s.brin or s.name: (s.name, s.kind) for s in await SchoolRegister(repos.session).all()}


async def test_the_cooperations_schools_are_added_once(bot: Bot) -> None:
    async with bot.db.transaction() as repos:  # entered by hand before, with the school's own spelling
        await repos.organisations.upsert(name="De Regenboog", name_key="de regenboog", kind="school",
                                         werkgebied="Alkmaar-Noord", now=bot.clock.now())

    report = await import_duo(bot, SAMPLE, "po 27-99")
    text = summary(report, bot.catalog, str(SAMPLE))

    assert f"{SAMPLE}: 6 rijen, 5 van samenwerkingsverband PO2799 (Samenwerkingsverband Passend" in text
    assert "Nieuw: 4, bijgewerkt: 1, ongewijzigd: 0, geweigerd: 0." in text
    assert "~ 99AA00 De Regenboog: gekoppeld aan 99AA00" in text
    assert await schools(bot) == {
        "99AA00": ("De Regenboog", "school"),  # linked, its spelling and werkgebied kept
        "99AB00": ("DE WEGWIJZER", "school"),
        "99AB01": ("DE WEGWIJZER (Alkmaar)", "school"),  # the same name in another place is another school
        "99AC00": ("SBO DE SPRINGPLANK", "sbo"),
        "99AD00": ("DE BOEG (V)SO", "so"),
    }
    async with bot.db.transaction() as repos:
        assert (await repos.organisations.by_key("de regenboog")).werkgebied == "Alkmaar-Noord"  # type: ignore[union-attr]

    again = summary(await import_duo(bot, SAMPLE, "PO2799"), bot.catalog, str(SAMPLE))

    assert "Nieuw: 0, bijgewerkt: 0, ongewijzigd: 5, geweigerd: 0." in again
    assert len(await schools(bot)) == 5


async def test_a_renamed_school_is_renamed_and_one_that_left_is_listed(bot: Bot, tmp_path: Path) -> None:
    await import_duo(bot, SAMPLE, "PO2799")
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    changed = [line.replace("SBO DE SPRINGPLANK", "SBO HET KOMPAS").replace(";Sbo", ";(V)so")
               for line in lines if "99AD00" not in line]
    changed.append("PO2799;Samenwerkingsverband;99XY;99XY00;;Weg;1;1811 ZZ;ALKMAAR;0361;ALKMAAR;Bo")
    changed.append("PO2799;Samenwerkingsverband;9;9;DE FOUT;Weg;1;1811 ZZ;ALKMAAR;0361;ALKMAAR;Bo")
    newer = tmp_path / "duo.csv"
    newer.write_text("\r\n".join(changed), encoding="cp1252")

    text = summary(await import_duo(bot, newer, "PO2799"), bot.catalog, str(newer))

    assert "Nieuw: 0, bijgewerkt: 1, ongewijzigd: 3, geweigerd: 2." in text
    assert "~ 99AC00 SBO HET KOMPAS: naam SBO DE SPRINGPLANK → SBO HET KOMPAS; soort sbo → so" in text
    assert "! rij 7: de naam van de vestiging is leeg" in text
    assert '! rij 8: ongeldig BRIN-nummer "9"' in text
    assert "Niet meer in het bestand" in text
    assert "  - 99AD00 DE BOEG (V)SO" in text
    assert (await schools(bot))["99AD00"] == ("DE BOEG (V)SO", "so")  # not deleted
    assert (await schools(bot))["99AC00"] == ("SBO HET KOMPAS", "so")


async def netwerkbot(*args: str, cwd: Path) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NETWERKBOT_", "SLACK_", "MATRIX_"))}
    env |= {"DATABASE_URL": f"sqlite+aiosqlite:///{cwd / 'netwerkbot.db'}", "PYTHONPATH": str(ROOT)}
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", *args, cwd=cwd, env=env,
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await process.communicate()
    return int(process.returncode or 0), output.decode()


async def test_the_command_refuses_another_cooperation_and_another_file(tmp_path: Path, clock: ManualClock) -> None:
    code, text = await netwerkbot("import", "duo", str(SAMPLE), "--swv", "PO2701", cwd=tmp_path)
    assert code == 1
    assert "Geen scholen van samenwerkingsverband PO2701 in dit bestand; er is niets veranderd." in text
    assert "In het bestand staan: PO2798, PO2799" in text

    members = tmp_path / "leden.csv"
    members.write_text("naam;e-mail;rol\nAnna;anna@school.nl;ib-er\n", encoding="utf-8")
    code, text = await netwerkbot("import", "duo", str(members), "--swv", "PO2799", cwd=tmp_path)
    assert code == 1
    assert "de kolommen ADMINISTRATIENUMMER, BRIN NUMMER, VESTIGINGSNAAM, PLAATSNAAM ontbreken" in text

    code, text = await netwerkbot("import", "duo", str(SAMPLE), cwd=tmp_path)
    assert code == 2
    assert "--swv PO2701" in text

    code, text = await netwerkbot("import", "duo", str(SAMPLE), "--swv", "PO2799", cwd=tmp_path)
    assert code == 0, text
    assert "Nieuw: 5" in text
    async with started_bot(f"sqlite+aiosqlite:///{tmp_path / 'netwerkbot.db'}", clock) as bot:
        assert len(await schools(bot)) == 5
