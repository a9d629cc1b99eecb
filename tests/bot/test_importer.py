"""`netwerkbot import`: the cooperation's spreadsheets read into the bot, safely and only once."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app import Bot
from bot.core.clock import ManualClock
from bot.importer import run_import
from tests.support import actor, run, text_of

NETWERKBOT = Path(sys.executable).with_name("netwerkbot")  # the console script next to this Python

SCHOOLS = """\
Naam;Soort;Werkgebied;Opmerking
Baeken;school;Alkmaar-Noord;sinds 2019
Sterrenwachter;;Alkmaar-Noord;
SBO De Vlindertuin;SBO;Alkmaar-Noord;
CJG Alkmaar;organisatie;Alkmaar;
;;;
"""

MEMBERS = """\
Naam,E-mailadres,Functie,School,Slack ID,Matrix ID
Ingrid Smit,ingrid@baeken.nl,IB'er,Baeken,U0INGRID,
Fatima Bouzid,Fatima@Sterrenwachter.nl,ib-er,Sterrenwachter,,@fatima:matrix.example.nl
Els van Dijk,els@vlindertuin.nl,expert,SBO De Vlindertuin,,
Marlinda Koster,,jeugdwerker,CJG Alkmaar,U0MARLINDA,
"""

EXPERTISE = """\
houder;onderwerp;omschrijving;bevestigd
fatima@sterrenwachter.nl;gedragsspecialist;Observaties in de klas en handelingsadviezen.;03-02-2022
Els van Dijk;gedrag;Coaching vanuit het SBO bij gedragsvragen.;
CJG Alkmaar;thuiszitters;Gezinsgerichte aanpak bij verzuim.;2026-10-01
"""


def write(folder: Path, name: str, text: str, *, encoding: str = "utf-8-sig") -> Path:
    """A CSV as Excel saves it: with a byte order mark unless another encoding is asked for."""
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


async def load(bot: Bot, kind: str, path: Path) -> tuple[int, str, str]:
    """Runs the import as the CLI does; returns exit code, summary, and what the progress bar wrote."""
    out, progress = io.StringIO(), io.StringIO()
    code = await run_import(bot, kind, str(path), out=out, progress=progress)
    return code, out.getvalue(), progress.getvalue()


async def counts(bot: Bot) -> tuple[int, int, int]:
    """Organisations, members and expertise entries in the database."""
    async with bot.db.transaction() as repos:
        organisations = len(await repos.organisations.all())
        members = len(await repos.members.all())
        entries = sum(c.members + c.organisations for c in await repos.expertise.topic_counts())
    return organisations, members, entries


async def load_network(bot: Bot, folder: Path) -> None:
    for kind, text in (("schools", SCHOOLS), ("members", MEMBERS), ("expertise", EXPERTISE)):
        code, out, _ = await load(bot, kind, write(folder, f"{kind}.csv", text))
        assert code == 0 and "0 geweigerd" in out, out


async def test_schools_from_a_semicolon_file_with_a_byte_order_mark(bot: Bot, tmp_path: Path) -> None:
    code, out, progress = await load(bot, "schools", write(tmp_path, "scholen.csv", SCHOOLS))
    assert code == 0
    assert "Gelezen: " in out and "(4 rijen, scheidingsteken ;, tekenset UTF-8)" in out
    assert "Scholen: 4 nieuw, 0 bijgewerkt, 0 ongewijzigd, 0 geweigerd." in out
    assert "Deze kolommen ken ik niet, ze zijn overgeslagen: Opmerking." in out
    assert "Scholen" in progress and "/4" in progress  # the progress bar went to its own stream
    async with bot.db.transaction() as repos:
        by_name = {o.name: (o.kind, o.werkgebied) for o in await repos.organisations.all()}
    assert by_name == {
        "Baeken": ("school", "Alkmaar-Noord"), "Sterrenwachter": ("school", "Alkmaar-Noord"),
        "SBO De Vlindertuin": ("sbo", "Alkmaar-Noord"), "CJG Alkmaar": ("organisatie", "Alkmaar"),
    }


async def test_members_from_a_comma_file_get_role_school_and_chat_accounts(bot: Bot, tmp_path: Path) -> None:
    await load(bot, "schools", write(tmp_path, "scholen.csv", SCHOOLS))
    code, out, _ = await load(bot, "members", write(tmp_path, "leden.csv", MEMBERS, encoding="utf-8"))
    assert code == 0
    assert "scheidingsteken ," in out and "Leden: 4 nieuw, 0 bijgewerkt, 0 ongewijzigd, 0 geweigerd." in out
    # an imported Slack user is recognised on first contact, with the school and role from the list
    profile = text_of(await run(bot, "/netwerkbot profiel", actor("U0INGRID", platform="slack")))
    assert "Naam: Ingrid Smit" in profile and "Rol: IB-er" in profile and "School of organisatie: Baeken" in profile
    profile = text_of(await run(bot, "/netwerkbot profiel", actor("@fatima:matrix.example.nl", platform="matrix")))
    assert "Fatima Bouzid" in profile and "Sterrenwachter" in profile
    async with bot.db.transaction() as repos:
        fatima = await repos.members.by_email("fatima@sterrenwachter.nl")
        marlinda = await repos.members.by_identity("slack", "U0MARLINDA")
    assert fatima is not None and fatima.email == "fatima@sterrenwachter.nl" and fatima.role == "ib-er"
    assert marlinda is not None and marlinda.email is None and marlinda.role == "jeugdwerker"


async def test_names_split_over_columns_and_excels_sep_line_are_understood(bot: Bot, tmp_path: Path) -> None:
    members = "sep=,\nVoornaam,Tussenvoegsel,Achternaam,E-mail\nEls,van,Dijk,els@vlindertuin.nl\nJoost,,Visser,\n"
    code, out, _ = await load(bot, "members", write(tmp_path, "leden.csv", members))
    assert code == 0 and "Leden: 1 nieuw, 0 bijgewerkt, 0 ongewijzigd, 1 geweigerd." in out
    assert "rij 3 (Joost Visser): Geen e-mailadres, Slack-ID of Matrix-ID" in out  # Excel hides the sep line
    async with bot.db.transaction() as repos:
        els = await repos.members.by_email("els@vlindertuin.nl")
    assert els is not None and els.name == "Els van Dijk"


async def test_bad_rows_are_refused_with_a_reason_and_the_good_rows_still_go_in(bot: Bot, tmp_path: Path) -> None:
    await load(bot, "schools", write(tmp_path, "scholen.csv", SCHOOLS))
    members = """\
naam;e-mail;rol;school;slack_id
Goed Lid;goed@baeken.nl;leerkracht;Baeken;
Onbekende School;a@b.nl;leerkracht;De Zonnebloem;
Iedereen <!channel>;c@b.nl;;;
Geen Adres;;;;
Raar Adres;niet-een-adres;;;
Verkeerde Rol;d@b.nl;conciërge;;
Dubbel;goed@baeken.nl;;;
Stuur\x07teken;e@b.nl;;;
Verkeerde Slack;f@b.nl;;;<@U123>
Ook Goed;ook@baeken.nl;IB-er;baeken;U0OOK
"""
    code, out, _ = await load(bot, "members", write(tmp_path, "leden.csv", members))
    assert code == 0
    assert "Leden: 2 nieuw, 0 bijgewerkt, 0 ongewijzigd, 8 geweigerd." in out
    assert 'rij 3 (Onbekende School): De school of organisatie "De Zonnebloem" ken ik niet.' in out
    assert "rij 4 (Iedereen <!channel>): De naam bevat Slack-opmaak" in out
    assert "rij 5 (Geen Adres): Geen e-mailadres, Slack-ID of Matrix-ID" in out
    assert 'rij 6 (Raar Adres): "niet-een-adres" is geen geldig e-mailadres.' in out
    assert 'rij 7 (Verkeerde Rol): De rol "conciërge" ken ik niet. Kies uit: consulent, ib-er,' in out
    assert "rij 8 (Dubbel): Deze staat al op rij 2" in out
    assert "rij 9 (Stuurteken): De naam bevat onzichtbare stuurtekens." in out
    assert "rij 10 (Verkeerde Slack): De Slack-ID bevat Slack-opmaak" in out
    async with bot.db.transaction() as repos:
        names = sorted(m.name for m in await repos.members.all())
        ook = await repos.members.by_identity("slack", "U0OOK")
    assert names == ["Goed Lid", "Ook Goed"]
    assert ook is not None and ook.role == "ib-er" and ook.organisation is not None
    assert ook.organisation.name == "Baeken"


async def test_someone_who_already_chatted_is_completed_by_the_list_not_doubled(bot: Bot, tmp_path: Path) -> None:
    await load(bot, "schools", write(tmp_path, "scholen.csv", SCHOOLS))
    await run(bot, "/netwerkbot", actor("U0CHAT", platform="slack", name="ingrid.s"))  # first contact
    members = """\
naam;e-mail;rol;school;slack_id
Ingrid Smit;ingrid@baeken.nl;IB-er;Baeken;U0CHAT
Iemand Anders;anders@baeken.nl;;;U0CHAT
Joost Visser;joost@lierenland.nl;leerkracht;;
"""
    code, out, _ = await load(bot, "members", write(tmp_path, "leden.csv", members))
    assert code == 0 and "Leden: 1 nieuw, 1 bijgewerkt, 0 ongewijzigd, 1 geweigerd." in out
    assert "rij 3 (Iemand Anders): Deze staat al op rij 2" in out
    profile = text_of(await run(bot, "/netwerkbot profiel", actor("U0CHAT", platform="slack")))
    assert "Naam: Ingrid Smit" in profile and "Rol: IB-er" in profile and "Baeken" in profile
    conflicts = """\
naam;e-mail;slack_id
Joost Visser;joost@lierenland.nl;U0CHAT
Ingrid Smit;ingrid@baeken.nl;U0ANDERS
Ingrid Smit;ingrid@school.nl;U0CHAT
"""
    code, out, _ = await load(bot, "members", write(tmp_path, "conflicten.csv", conflicts))
    assert code == 0 and "Leden: 0 nieuw, 0 bijgewerkt, 0 ongewijzigd, 3 geweigerd." in out
    assert "rij 2 (Joost Visser): Slack-ID U0CHAT hoort al bij Ingrid Smit." in out
    assert "rij 3 (Ingrid Smit): Ingrid Smit heeft al een andere Slack-ID: U0CHAT." in out
    assert "rij 4 (Ingrid Smit): Dit lid staat er al, als Ingrid Smit met e-mailadres ingrid@baeken.nl." in out
    assert await counts(bot) == (4, 2, 0)


async def test_an_unquoted_delimiter_inside_a_cell_refuses_that_row(bot: Bot, tmp_path: Path) -> None:
    schools = "naam,soort,werkgebied\nBaeken,school,Alkmaar-Noord\nDe Burijn, locatie Noord,school,Alkmaar\n"
    code, out, _ = await load(bot, "schools", write(tmp_path, "scholen.csv", schools))
    assert code == 0 and "Scholen: 1 nieuw, 0 bijgewerkt, 0 ongewijzigd, 1 geweigerd." in out
    assert "rij 3 (De Burijn): Deze rij heeft meer vakjes dan er kolommen zijn." in out
    assert await counts(bot) == (1, 0, 0)


async def test_running_the_same_files_twice_doubles_nothing(bot: Bot, clock: ManualClock, tmp_path: Path) -> None:
    await load_network(bot, tmp_path)
    before = await counts(bot)
    assert before == (4, 4, 3)
    first_search = text_of(await run(bot, "/expertise gedrag", actor("U9")))
    clock.advance(timedelta(days=30))  # a month later: re-importing must not re-confirm old expertise
    for kind, expected in (("schools", "Scholen: 0 nieuw, 0 bijgewerkt, 4 ongewijzigd, 0 geweigerd."),
                           ("members", "Leden: 0 nieuw, 0 bijgewerkt, 4 ongewijzigd, 0 geweigerd."),
                           ("expertise", "Expertise: 0 nieuw, 0 bijgewerkt, 3 ongewijzigd, 0 geweigerd.")):
        code, out, _ = await load(bot, kind, tmp_path / f"{kind}.csv")
        assert code == 0 and expected in out, out
    assert await counts(bot) == before  # U9's search was a question: it made no member (an adapter names U9 after)
    assert text_of(await run(bot, "/expertise gedrag", actor("U9"))) == first_search


async def test_changed_rows_are_updated_in_place_and_empty_cells_erase_nothing(bot: Bot, tmp_path: Path) -> None:
    await load_network(bot, tmp_path)
    schools = "naam;soort;werkgebied\nbaeken;;Alkmaar-Zuid\nSterrenwachter;;\n"
    code, out, _ = await load(bot, "schools", write(tmp_path, "scholen2.csv", schools))
    assert code == 0
    assert "Scholen: 0 nieuw, 1 bijgewerkt, 1 ongewijzigd, 0 geweigerd." in out
    members = "naam;e-mail;rol;school\nIngrid Smit-de Vries;INGRID@baeken.nl;directeur;\n"
    code, out, _ = await load(bot, "members", write(tmp_path, "leden2.csv", members))
    assert code == 0
    assert "Leden: 0 nieuw, 1 bijgewerkt, 0 ongewijzigd, 0 geweigerd." in out
    expertise = "houder;onderwerp;omschrijving\nEls van Dijk;Gedrag;Nu ook groepsdynamiek.\n"
    code, out, _ = await load(bot, "expertise", write(tmp_path, "expertise2.csv", expertise))
    assert code == 0
    assert "Expertise: 0 nieuw, 1 bijgewerkt, 0 ongewijzigd, 0 geweigerd." in out
    assert await counts(bot) == (4, 4, 3)
    async with bot.db.transaction() as repos:
        baeken = next(o for o in await repos.organisations.all() if o.name == "baeken")
        ingrid = await repos.members.by_email("ingrid@baeken.nl")
    assert (baeken.kind, baeken.werkgebied) == ("school", "Alkmaar-Zuid")
    assert ingrid is not None and ingrid.name == "Ingrid Smit-de Vries" and ingrid.role == "directeur"
    assert ingrid.organisation is not None and ingrid.organisation.name == "baeken"  # empty cell: school kept
    assert ingrid.identities == (("slack", "U0INGRID"),)
    found = text_of(await run(bot, "/expertise groepsdynamiek", actor("U9")))
    assert "Els van Dijk" in found and "Gedrag: Nu ook groepsdynamiek." in found


async def test_imported_expertise_is_found_with_the_expertise_command(bot: Bot, tmp_path: Path) -> None:
    await load_network(bot, tmp_path)
    found = text_of(await run(bot, "/expertise gedrag", actor("U9")))
    assert "Els van Dijk" in found and "Fatima Bouzid" in found
    assert "IB-er · Sterrenwachter · Alkmaar-Noord" in found
    assert ("gedragsspecialist: Observaties in de klas en handelingsadviezen. · bevestigd 3 februari 2022 "
            "(mogelijk verouderd)") in found
    assert "gedrag: Coaching vanuit het SBO bij gedragsvragen. · bevestigd 24 november 2026" in found
    cjg = text_of(await run(bot, "/expertise thuiszitters", actor("U9")))
    assert "CJG Alkmaar" in cjg and "bevestigd 1 oktober 2026" in cjg


async def test_expertise_rows_with_unknown_holders_or_bad_dates_are_refused(bot: Bot, tmp_path: Path) -> None:
    await load(bot, "schools", write(tmp_path, "scholen.csv", SCHOOLS))
    await load(bot, "members", write(tmp_path, "leden.csv", MEMBERS))
    expertise = """\
houder;onderwerp;omschrijving;bevestigd
Pietje Puk;gedrag;;
els@vlindertuin.nl;!!!;;
els@vlindertuin.nl;dyslexie;;31-02-2024
els@vlindertuin.nl;rekenen;;01-01-2027
els@vlindertuin.nl;autisme;Zie <http://evil.example|hier>;
els@vlindertuin.nl;speciaal basisonderwijs;Arrangementen.;1-3-2026
"""
    code, out, _ = await load(bot, "expertise", write(tmp_path, "expertise.csv", expertise))
    assert code == 0 and "Expertise: 1 nieuw, 0 bijgewerkt, 0 ongewijzigd, 5 geweigerd." in out
    assert 'rij 2 (Pietje Puk): Ik ken geen lid (e-mailadres of naam) en geen school of organisatie "Pietje Puk"' in out
    assert 'rij 3 (els@vlindertuin.nl): "!!!" is geen onderwerp.' in out
    assert 'rij 4 (els@vlindertuin.nl): "31-02-2024" is geen datum. Schrijf dd-mm-jjjj of jjjj-mm-dd' in out
    assert "rij 5 (els@vlindertuin.nl): De datum 01-01-2027 ligt in de toekomst." in out
    assert "rij 6 (els@vlindertuin.nl): De omschrijving bevat Slack-opmaak" in out
    found = text_of(await run(bot, "/expertise speciaal basisonderwijs", actor("U9")))
    assert "Els van Dijk" in found and "bevestigd 1 maart 2026" in found
    assert "Niemand" in text_of(await run(bot, "/expertise autisme", actor("U9")))


async def test_a_windows_1252_file_is_read_with_its_accents(bot: Bot, tmp_path: Path) -> None:
    schools = "Naam;Soort\nIdeeënschool;basisschool\nCoöperatie Één;samenwerkingsverband\n"
    code, out, _ = await load(bot, "schools", write(tmp_path, "scholen.csv", schools, encoding="cp1252"))
    assert code == 0 and "tekenset Windows-1252" in out and "Scholen: 2 nieuw" in out
    async with bot.db.transaction() as repos:
        assert {(o.name, o.kind) for o in await repos.organisations.all()} == {
            ("Ideeënschool", "school"), ("Coöperatie Één", "swv")}


@pytest.mark.parametrize(("content", "message"), [
    (None, "Het bestand {file} bestaat niet. Er is niets geïmporteerd."),
    (b"", "Het bestand {file} is leeg. Er is niets geïmporteerd."),
    (b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00", "is geen CSV-bestand (misschien een Excel-bestand?)"),
    (b"e-mail;rol\nals@baeken.nl;ib-er\n", "ontbreekt de kolom naam. De eerste regel moet de kolomnamen"),
    (b"naam;rol;school\nIngrid;ib-er;Baeken\n", "ontbreekt de kolom e-mail / slack_id / matrix_id"),
])
async def test_a_file_that_cannot_be_read_imports_nothing(bot: Bot, tmp_path: Path, content: bytes | None,
                                                          message: str) -> None:
    path = tmp_path / "leden.csv"
    if content is not None:
        path.write_bytes(content)
    code, out, _ = await load(bot, "members", path)
    assert code == 1
    assert message.format(file=path) in out
    assert await counts(bot) == (0, 0, 0)


def test_the_real_command_line_imports_and_reports(tmp_path: Path) -> None:
    """`netwerkbot import schools FILE` as a coordinator types it, on a fresh SQLite file."""
    write(tmp_path, "scholen.csv", SCHOOLS)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NETWERKBOT_", "SLACK_"))}
    env["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'import.db'}"

    def netwerkbot(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(NETWERKBOT), *args], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=120, check=False)

    first = netwerkbot("import", "schools", "scholen.csv")
    assert first.returncode == 0, first.stderr
    assert "Scholen: 4 nieuw, 0 bijgewerkt, 0 ongewijzigd, 0 geweigerd." in first.stdout
    assert "Scholen:" in first.stderr and "/4" in first.stderr  # the progress bar
    again = netwerkbot("import", "schools", "scholen.csv")
    assert again.returncode == 0 and "Scholen: 0 nieuw, 0 bijgewerkt, 4 ongewijzigd" in again.stdout
    missing = netwerkbot("import", "schools", "bestaat-niet.csv")
    assert missing.returncode == 1
    assert "Het bestand bestaat-niet.csv bestaat niet. Er is niets geïmporteerd." in missing.stdout
    assert not (tmp_path / "netwerkbot.db").exists()  # DATABASE_URL was used, not the default file
