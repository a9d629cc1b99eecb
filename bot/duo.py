"""`netwerkbot import duo FILE.csv --swv CODE`: the cooperation's schools from DUO's open education data.

DUO publishes, per kind of education, the schools (vestigingen) of every samenwerkingsverband passend
onderwijs as a `;`-separated CSV with upper-case headers: `ADMINISTRATIENUMMER` (the SWV's code, such
as `PO2701`), `BRIN NUMMER`, `VESTIGINGSNUMMER` (`00` or BRIN + `00`), `VESTIGINGSNAAM`,
`PLAATSNAAM`, and for primary education `SOORT PRIMAIR ONDERWIJS` (Bo, Sbo, (V)so). Older files
spell some headers differently (`BRINNUMMER`, `INSTELLINGSNAAM`); both are read.

A school is known by its BRIN code with vestiging, so a second import changes nothing and a renamed
school is renamed, not doubled. A school entered by hand before (same name) is linked, keeping its
spelling. Schools that left the file are listed, never deleted: members and votes refer to them.
"""

from __future__ import annotations

import csv
import io
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from bot.app import Bot
from config.i18n import Catalog
from handlers.text import fold
from storage.brin import School, SchoolRegister
from storage.db import is_unavailable

COLUMNS = {  # canonical → the header spellings DUO used
    "swv": ("ADMINISTRATIENUMMER",),
    "swv_name": ("NAAM SAMENWERKINGSVERBAND", "SAMENWERKINGSVERBAND"),
    "brin": ("BRIN NUMMER", "BRINNUMMER"),
    "vestiging": ("VESTIGINGSNUMMER", "VESTIGINGS NUMMER"),
    "name": ("VESTIGINGSNAAM", "INSTELLINGSNAAM VESTIGING", "INSTELLINGSNAAM"),
    "place": ("PLAATSNAAM", "PLAATSNAAM VESTIGING"),
    "kind": ("SOORT PRIMAIR ONDERWIJS", "SOORT ONDERWIJS"),
}
REQUIRED = ("swv", "brin", "name", "place")
KINDS = {"bo": "school", "sbo": "sbo", "so": "so", "vso": "so", "vo": "vo"}
BRIN = re.compile(r"\d{2}[A-Z0-9]{2}")
MAX_NAME = 200


class ImportFileError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def decode(path: Path, t: Catalog) -> str:
    """DUO's files are UTF-8 (older ones Windows-1252); a spreadsheet or image is no CSV."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ImportFileError(t("ops.duo_unreadable", file=path, error=error.strerror or error)) from None
    if b"\x00" in data:
        raise ImportFileError(t("ops.duo_columns", file=path, columns=", ".join(COLUMNS[n][0] for n in REQUIRED)))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def code(text: str) -> str:
    """An SWV code as DUO writes it in any form: "PO 27-01", "po2701" → "PO2701"."""
    return re.sub(r"[^A-Z0-9]", "", text.upper())


@dataclass
class DuoReport:
    swv: str
    swv_name: str = ""
    rows: int = 0
    mine: int = 0
    new: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    refused: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    other_codes: set[str] = field(default_factory=set)


def read_rows(path: Path, t: Catalog) -> list[dict[str, str]]:
    text = decode(path, t)
    first = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text), delimiter=";" if first.count(";") >= first.count(",") else ",")
    header = [" ".join(cell.split()).upper() for cell in next(reader, [])]
    positions: dict[str, int] = {}
    for name, spellings in COLUMNS.items():
        found = next((header.index(s) for s in spellings if s in header), None)
        if found is not None:
            positions[name] = found
    if missing := [COLUMNS[name][0] for name in REQUIRED if name not in positions]:
        raise ImportFileError(t("ops.duo_columns", file=path, columns=", ".join(missing)))
    return [{name: row[i].strip() if i < len(row) else "" for name, i in positions.items()}
            for row in reader if any(cell.strip() for cell in row)]


def school_code(row: dict[str, str], t: Catalog) -> str:
    brin = row["brin"].upper().replace(" ", "")
    if not BRIN.fullmatch(brin):
        raise ValueError(t("ops.duo_bad_brin", value=row["brin"][:20]))
    vestiging = row.get("vestiging", "").upper().replace(" ", "") or "00"
    vestiging = vestiging.removeprefix(brin) if len(vestiging) == 6 else vestiging
    if not re.fullmatch(r"\d{1,2}", vestiging):
        raise ValueError(t("ops.duo_bad_vestiging", value=row.get("vestiging", "")[:20]))
    return brin + vestiging.zfill(2)


def kind_of(row: dict[str, str], swv: str) -> str:
    given = re.sub(r"[^a-z]", "", row.get("kind", "").lower())
    return KINDS.get(given, "vo" if swv.startswith("VO") else "school")


async def import_duo(bot: Bot, file: str | Path, swv: str) -> DuoReport:
    t, path = bot.catalog, Path(file)
    report = DuoReport(code(swv))
    rows = read_rows(path, t)
    report.rows = len(rows)
    async with bot.db.transaction() as repos:
        register = SchoolRegister(repos.session)
        schools = await register.all()
        by_brin = {s.brin: s for s in schools if s.brin}
        by_key = {s.name_key: s for s in schools}
        seen: set[str] = set()
        for number, row in enumerate(rows, start=2):  # the header is line 1
            if code(row["swv"]) != report.swv:
                report.other_codes.add(code(row["swv"]))
                continue
            report.mine += 1
            report.swv_name = report.swv_name or row.get("swv_name", "")
            try:
                key = school_code(row, t)
                name = " ".join(row["name"].split())
                if not name or len(name) > MAX_NAME:
                    raise ValueError(t("ops.duo_bad_name"))
            except ValueError as refused:
                report.refused.append(t("ops.duo_refused", row=number, reason=str(refused)))
                continue
            if key in seen:
                report.refused.append(t("ops.duo_refused", row=number, reason=t("ops.duo_twice", brin=key)))
                continue
            seen.add(key)
            kind = kind_of(row, report.swv)
            school = by_brin.get(key)
            if school is None and (same := by_key.get(fold(name))) is not None and same.brin is None:
                school = same  # entered by hand before: link it, keep its spelling
                name = same.name
            if school is not None and fold(school.name) == fold(name):
                name = school.name  # DUO's capitals do not overwrite a spelling someone chose
            name_key = fold(name)
            holder = by_key.get(name_key)
            if holder is not None and (school is None or holder.id != school.id):  # another school, same name
                name = f"{name} ({' '.join(row['place'].split()).title()})"
                name_key = fold(name)
            changes = _changes(school, name, kind, key, t)
            if school is not None and not changes:
                report.unchanged += 1
                continue
            saved = await register.save(school_id=school.id if school else None, name=name, name_key=name_key,
                                        kind=kind, brin=key, now=bot.clock.now())
            if school is None:
                report.new.append(t("ops.duo_new", brin=key, name=name, kind=kind))
            else:
                by_key.pop(school.name_key, None)
                report.updated.append(t("ops.duo_updated", brin=key, name=name, changes="; ".join(changes)))
            by_brin[key], by_key[saved.name_key] = saved, saved
        if report.mine:
            # one bot serves one cooperation: a school with a BRIN code the file no longer has has left it
            report.gone = [t("ops.duo_gone_school", brin=s.brin, name=s.name)
                           for s in schools if s.brin and s.brin not in seen]
    return report


def _changes(school: School | None, name: str, kind: str, brin: str, t: Catalog) -> list[str]:
    if school is None:
        return []
    found = []
    if school.name != name:
        found.append(t("ops.duo_change", what=t("ops.duo_what_name"), old=school.name, new=name))
    if school.kind != kind:
        found.append(t("ops.duo_change", what=t("ops.duo_what_kind"), old=school.kind, new=kind))
    if school.brin != brin:
        found.append(t("ops.duo_linked", brin=brin))
    return found


def summary(report: DuoReport, t: Catalog, file: str) -> str:
    lines = [t("ops.duo_read", file=file, rows=report.rows, mine=report.mine, swv=report.swv,
               name=f" ({report.swv_name})" if report.swv_name else "")]
    lines.append(t("ops.duo_summary", new=len(report.new), updated=len(report.updated), unchanged=report.unchanged,
                   refused=len(report.refused)))
    lines += report.new + report.updated + report.refused
    if report.gone:
        lines.append(t("ops.duo_gone"))
        lines += report.gone
    return "\n".join(lines)


async def run_duo(bot: Bot, file: str, swv: str | None, *, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    t = bot.catalog
    if not swv or not code(swv):
        print(t("ops.duo_no_swv"), file=out)
        return 2
    await bot.start()
    try:
        report = await import_duo(bot, file, swv)
    except ImportFileError as error:
        print(error.message, file=out)
        return 1
    except Exception as error:
        if not is_unavailable(error):
            raise
        print(t("errors.database_unavailable"), file=out)
        return 1
    finally:
        await bot.stop()
    if not report.mine:
        print(t("ops.duo_none", swv=report.swv, codes=", ".join(sorted(report.other_codes)[:10]) or "—"), file=out)
        return 1
    print(summary(report, t, file), file=out)
    return 0
