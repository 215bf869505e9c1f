"""Write an export zip: one JSON document, the same rows as CSV files, and the stored files.

Pure: plain dicts in, zip bytes out (no Flask, no database). CSV cells that a spreadsheet
would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return) are
prefixed with an apostrophe, so opening the file never executes what a client typed.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
EXTENSIONS = {
    "application/pdf": "pdf",
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
    "image/gif": "gif",
}


@dataclass
class Stored:
    """A binary value (a PDF, a photo) written as its own file in the zip."""

    path: str
    data: bytes


@dataclass
class ExportContent:
    """What goes into one export: rows per table, stored files, and a few facts about it."""

    root: str
    about: dict[str, Any]
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # Each table's column names, so an empty table still gets its CSV header.
    columns: dict[str, list[str]] = field(default_factory=dict)
    files: list[Stored] = field(default_factory=list)


def neutralise(cell: str) -> str:
    """A CSV cell a spreadsheet shows as text, never runs as a formula."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def plain(value: Any) -> Any:
    """A column value as JSON: times as ISO 8601 UTC, dates as ISO dates."""
    if isinstance(value, datetime):
        return value.isoformat() + ("Z" if value.tzinfo is None else "")
    if isinstance(value, date):
        return value.isoformat()
    return value


def csv_cell(value: Any) -> str:
    value = plain(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return neutralise(str(value))


def table_csv(rows: list[dict[str, Any]], header: list[str] | None = None) -> str:
    """The rows as CSV (header given, or the first row's keys), every cell neutralised."""
    out = io.StringIO()
    header = header or (list(rows[0]) if rows else [])
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralise(name) for name in header])
    for row in rows:
        writer.writerow([csv_cell(row.get(name)) for name in header])
    return out.getvalue()


README = """\
{title}

data.json   everything in one document: each table's rows, keyed by table name
csv/        the same rows, one CSV file per table (UTF-8; cells that a spreadsheet would read
            as a formula start with an apostrophe)
files/      stored documents (plan PDFs, photos); the rows name them in their "file" fields

Times are UTC (ISO 8601). This export was made {made} and is kept for download until {until}.
"""


def build_zip(content: ExportContent) -> bytes:
    """The zip of an export (deflated; the same content gives the same members)."""
    buffer = io.BytesIO()
    document = {
        "about": {key: plain(value) for key, value in content.about.items()},
        "tables": {
            name: [{key: plain(value) for key, value in row.items()} for row in rows]
            for name, rows in content.tables.items()
        },
        "files": [stored.path for stored in content.files],
    }
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            f"{content.root}/README.txt",
            README.format(
                title=content.about.get("title", "Data export"),
                made=plain(content.about.get("exported_at")),
                until=plain(content.about.get("available_until")),
            ),
        )
        archive.writestr(
            f"{content.root}/data.json",
            json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True, default=str),
        )
        for name, rows in content.tables.items():
            header = content.columns.get(name)
            archive.writestr(f"{content.root}/csv/{name}.csv", table_csv(rows, header))
        for stored in content.files:
            archive.writestr(f"{content.root}/{stored.path}", stored.data)
    return buffer.getvalue()
