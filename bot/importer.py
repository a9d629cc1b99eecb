"""`netwerkbot import members|schools|expertise FILE.csv`: the cooperation's own lists, read in.

The rules of each kind of row live with the features (handlers/directory/); here the file is read,
its rows are imported in one transaction with a progress bar, and the coordinator gets the report.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from tqdm import tqdm

from bot.app import Bot
from bot.core.errors import UserError
from bot.core.text import safe
from config.i18n import Catalog
from handlers.directory.rules import ROW_IMPORTERS, SPECS, Change, Kind, Run
from handlers.directory.tables import ImportFileError, Row, Spec, Table, read_table
from storage.db import is_unavailable

LABEL_LENGTH = 40


@dataclass(frozen=True)
class Refusal:
    row: int
    label: str
    reason: str


@dataclass
class ImportReport:
    kind: Kind
    file: str
    table: Table
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: list[Refusal] = field(default_factory=list)

    def count(self, change: Change) -> None:
        if change is Change.NEW:
            self.new += 1
        elif change is Change.UPDATED:
            self.updated += 1
        else:
            self.unchanged += 1



def row_label(row: Row, spec: Spec) -> str:
    label = " ".join(safe(row.cells.get(spec.label, "")).split())
    return label if len(label) <= LABEL_LENGTH else label[:LABEL_LENGTH - 1] + "…"


async def import_file(bot: Bot, kind: str, file: str | Path, *, progress: TextIO | None = None) -> ImportReport:
    """Reads the whole file, then imports it in one transaction, refusing bad rows one by one.

    Raises ImportFileError (nothing written) when the file itself is unusable. `progress`
    receives the progress bar; None means stderr.
    """
    t, path = bot.catalog, Path(file)
    chosen = Kind(kind)
    spec = SPECS[chosen]
    table = read_table(path, spec, t)
    report = ImportReport(chosen, str(path), table)
    importer = ROW_IMPORTERS[chosen]
    async with bot.db.transaction() as repos:
        run = Run(repos, t, bot.clock.now())
        await run.load(chosen)
        bar = tqdm(table.rows, total=len(table.rows), desc=t(f"import.kind_{chosen}"), unit=t("import.unit"),
                   file=progress or sys.stderr, leave=False, dynamic_ncols=True)
        with bar:
            for row in bar:
                try:
                    if row.overflow:
                        raise UserError(t("import.too_many_cells", delimiter=table.delimiter))
                    report.count(await importer(run, row))
                except UserError as refused:
                    report.refused.append(Refusal(row.number, row_label(row, spec), refused.message))
        await run.writer.flush()  # the last rows' writes (the others went a thousand at a time)
    return report


def summary(report: ImportReport, t: Catalog) -> str:
    """What a coordinator reads after an import: the counts, then each refused row with its reason."""
    table = report.table
    delimiter = "tab" if table.delimiter == "\t" else table.delimiter
    lines = [
        t("import.read", file=report.file, rows=len(table.rows), delimiter=delimiter, encoding=table.encoding),
        t("import.summary", kind=t(f"import.kind_{report.kind}"), new=report.new, updated=report.updated,
          unchanged=report.unchanged, refused=len(report.refused)),
    ]
    if table.ignored_columns:
        lines.append(t("import.ignored_columns", columns=", ".join(safe(c) for c in table.ignored_columns)))
    if report.refused:
        lines.append(t("import.refused_heading"))
        for refusal in report.refused:
            label = f" ({refusal.label})" if refusal.label else ""
            lines.append("  " + t("import.refused_row", row=refusal.row, label=label, reason=refusal.reason))
    return "\n".join(lines)


async def run_import(bot: Bot, kind: str, file: str, *, out: TextIO | None = None,
                     progress: TextIO | None = None) -> int:
    """The CLI's entry: 0 when the file was read (refused rows included), 1 when it could not be."""
    out = out or sys.stdout
    await bot.start()
    try:
        report = await import_file(bot, kind, file, progress=progress)
    except ImportFileError as error:
        print(error.message, file=out)
        return 1
    except Exception as error:
        if not is_unavailable(error):
            raise
        print(bot.catalog("errors.database_unavailable"), file=out)
        return 1
    finally:
        await bot.stop()
    print(summary(report, bot.catalog), file=out)
    return 0
