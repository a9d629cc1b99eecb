"""Reading the cooperation's spreadsheets: CSV as Dutch Excel writes it, by canonical column.

Forgiving about what Dutch Excel produces (`;` or `,` between cells, a UTF-8 byte order mark or
Windows-1252, column names in any case, "E-mailadres" for "e-mail"); a file that cannot be read
as a whole is an ImportFileError with a Dutch message, and nothing of it is written.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from config.i18n import Catalog
from handlers.text import fold

SAMPLE_SIZE = 64 * 1024  # enough of the file for csv.Sniffer to see several rows
DELIMITERS = (";", ",", "\t")
ENCODINGS = (("utf-8-sig", "UTF-8"), ("cp1252", "Windows-1252"))
SEP_LINE = re.compile(r"^sep=([;,\t])$", re.IGNORECASE)


def squash(text: str) -> str:
    """Folded and stripped of everything but letters and digits: "E-mail adres" → "emailadres"."""
    return re.sub(r"[^a-z0-9]", "", fold(text))



@dataclass(frozen=True)
class Column:
    """A canonical column and the names people give it in their spreadsheets."""

    name: str
    aliases: tuple[str, ...] = ()

    def matches(self, header: str) -> bool:
        wanted = squash(header)
        return wanted == squash(self.name) or wanted in {squash(a) for a in self.aliases}


@dataclass(frozen=True)
class Composite:
    """A column that some lists split in parts: naam as voornaam, tussenvoegsel, achternaam."""

    name: str
    parts: tuple[Column, ...]
    needed: tuple[str, ...]  # the parts that must be there for the composite to count

    def join(self, cells: Mapping[str, str]) -> str:
        return " ".join(value for part in self.parts if (value := cells.get(part.name, "").strip()))


@dataclass(frozen=True)
class Spec:
    columns: tuple[Column, ...]
    required: tuple[str, ...]  # every one of these columns must be present
    one_of: tuple[str, ...] = ()  # at least one of these columns must be present
    label: str = ""  # the column that names a row in the report
    composites: tuple[Composite, ...] = ()

    @property
    def all_columns(self) -> tuple[Column, ...]:
        return self.columns + tuple(part for composite in self.composites for part in composite.parts)

    @property
    def example(self) -> str:
        return ";".join(c.name for c in self.columns)

class ImportFileError(Exception):
    """The file as a whole cannot be imported; `message` is for the user, nothing was written."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Row:
    number: int  # as a spreadsheet shows it: the header is row 1
    cells: dict[str, str]  # canonical column name → raw cell text
    overflow: bool = False  # more filled cells than there are columns


@dataclass(frozen=True)
class Table:
    rows: tuple[Row, ...]
    delimiter: str
    encoding: str
    ignored_columns: tuple[str, ...]



def decode(path: Path, t: Catalog) -> tuple[str, str]:
    """The file's text and the name of its encoding: UTF-8 (with or without BOM), else Windows-1252."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImportFileError(t("import.file_missing", file=path)) from None
    except OSError as error:
        raise ImportFileError(t("import.file_unreadable", file=path, error=error.strerror or error)) from None
    if b"\x00" in data:  # spreadsheets (.xlsx is a zip), images, UTF-16 exports: not a CSV we can read
        raise ImportFileError(t("import.file_not_text", file=path))
    for codec, name in ENCODINGS:
        try:
            return data.decode(codec), name
        except UnicodeDecodeError:
            continue
    raise ImportFileError(t("import.file_not_text", file=path))


def sniff(text: str) -> str:
    """The delimiter csv.Sniffer sees, or the one the header line holds most of."""
    sample = text[:SAMPLE_SIZE]
    try:
        return csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        header = sample.splitlines()[0] if sample.splitlines() else ""
        return max(DELIMITERS, key=header.count)


def map_header(header: Sequence[str], spec: Spec) -> tuple[dict[int, str], list[str]]:
    """Cell position → canonical column, and the header names nobody asked for."""
    positions: dict[int, str] = {}
    ignored: list[str] = []
    for index, name in enumerate(header):
        if not name.strip():
            continue
        column = next((c for c in spec.all_columns if c.matches(name) and c.name not in positions.values()), None)
        if column is None:
            ignored.append(name.strip())
        else:
            positions[index] = column.name
    return positions, ignored


def missing(positions: Mapping[int, str], spec: Spec) -> list[str]:
    present = set(positions.values())
    present |= {c.name for c in spec.composites if present.issuperset(c.needed)}
    absent = [name for name in spec.required if name not in present]
    if spec.one_of and not present.intersection(spec.one_of):
        absent.append(" / ".join(spec.one_of))
    return absent


def read_table(path: Path, spec: Spec, t: Catalog) -> Table:
    """The file's rows by canonical column name, or an ImportFileError saying what is wrong with it.

    The sniffed delimiter is tried first; when its header lacks a required column the other
    delimiters are tried too, because Sniffer can be misled by commas inside Dutch text.
    """
    text, encoding = decode(path, t)
    if not text.strip():
        raise ImportFileError(t("import.file_empty", file=path))
    first_line, _, rest = text.partition("\n")
    stated = SEP_LINE.match(first_line.strip())
    if stated:  # Excel's "sep=;" line names the delimiter; Excel hides it, so rows count without it
        text = rest
    best: tuple[list[list[str]], int, dict[int, str], list[str], str] | None = None
    for delimiter in dict.fromkeys((stated.group(1) if stated else sniff(text), *DELIMITERS)):
        try:
            records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
        except csv.Error as error:
            raise ImportFileError(t("import.file_unreadable", file=path, error=error)) from None
        # the header is the first row with something in it (some exports start with blank lines)
        start = next((i for i, record in enumerate(records) if any(cell.strip() for cell in record)), None)
        if start is None:
            raise ImportFileError(t("import.file_empty", file=path))
        positions, ignored = map_header(records[start], spec)
        if best is None or not missing(positions, spec):
            best = (records, start, positions, ignored, delimiter)
        if not missing(positions, spec):
            break
    assert best is not None
    records, start, positions, ignored, delimiter = best
    if absent := missing(positions, spec):
        raise ImportFileError(t("import.missing_columns", file=path, columns=", ".join(absent),
                                example=spec.example))
    width = len(records[start])
    rows = []
    for index, record in enumerate(records[start + 1:], start=start + 2):
        if not any(cell.strip() for cell in record):
            continue  # spreadsheets end with empty rows such as ";;;"
        cells = {name: record[i] if i < len(record) else "" for i, name in positions.items()}
        for composite in spec.composites:
            if composite.name not in positions.values():
                cells[composite.name] = composite.join(cells)
        rows.append(Row(index, cells, overflow=any(cell.strip() for cell in record[width:])))
    return Table(tuple(rows), delimiter, encoding, tuple(ignored))


