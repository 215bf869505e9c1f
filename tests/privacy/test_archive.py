"""The export zip: JSON, CSV with formula-looking cells neutralised, stored files."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date, datetime

import pytest

from trainer_app.privacy.archive import ExportContent, Stored, build_zip, neutralise


@pytest.mark.parametrize(
    "cell", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tstart", "\rstart"]
)
def test_cells_a_spreadsheet_would_run_start_with_an_apostrophe(cell):
    assert neutralise(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["Maria", "", "1+1", "a=b", "'quoted"])
def test_other_cells_are_left_alone(cell):
    assert neutralise(cell) == cell


def test_the_zip_has_the_json_document_the_csv_files_and_the_stored_files():
    content = ExportContent(
        root="client-7",
        about={"title": "Data", "exported_at": datetime(2026, 12, 1, 15, 0)},
        tables={
            "clients": [{"id": 7, "name": "=cmd|' /C calc'!A0", "born": date(1990, 1, 2)}],
            "assessments": [],
        },
        columns={"assessments": ["id", "answers"]},
        files=[Stored("files/plan_documents-3-pdf.pdf", b"%PDF-1.4 x")],
    )
    with zipfile.ZipFile(io.BytesIO(build_zip(content))) as archive:
        names = set(archive.namelist())
        document = json.loads(archive.read("client-7/data.json"))
        clients = list(csv.reader(io.StringIO(archive.read("client-7/csv/clients.csv").decode())))
        empty = archive.read("client-7/csv/assessments.csv").decode()
        pdf = archive.read("client-7/files/plan_documents-3-pdf.pdf")
    assert {"client-7/README.txt", "client-7/data.json"} <= names
    assert document["tables"]["clients"][0] == {
        "id": 7,
        "name": "=cmd|' /C calc'!A0",
        "born": "1990-01-02",
    }
    assert document["about"]["exported_at"] == "2026-12-01T15:00:00Z"
    assert clients == [["id", "name", "born"], ["7", "'=cmd|' /C calc'!A0", "1990-01-02"]]
    assert empty == "id,answers\r\n"
    assert pdf == b"%PDF-1.4 x"
