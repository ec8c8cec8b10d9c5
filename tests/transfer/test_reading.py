"""Reading CSV and XLSX: encodings, delimiters, row numbers, limits and hostile files.

RELIABILITY 44 (XML entities) and 45 (zip bombs, huge sheets, formulas never evaluated).
"""

from __future__ import annotations

import zipfile
from datetime import datetime
from pathlib import Path

import pytest

from tests.transfer.files import (
    declare_huge_size,
    member_text,
    replace_member,
    write_csv,
    write_xlsx,
)
from voronka.transfer.errors import FileLimitExceeded, UnreadableFile
from voronka.transfer.reading import FileFormat, ReadLimits, format_of, open_table

ROWS = [["Имя", "Телефон"], ["Анна Ёлкина", "8 999 123-45-67"], ["Пётр", "+7 999 765-43-21"]]


def read(path: Path, limits: ReadLimits | None = None) -> tuple[list[str], list[tuple]]:
    with open_table(path, format_of(path.name), limits) as table:
        return table.columns, [(row.number, row.values, row.overflow) for row in table.rows]


def values(path: Path) -> list[list[object]]:
    columns, rows = read(path)
    return [columns, *([row[1][c] for c in columns] for row in rows)]


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [
        ("utf-8", ","),
        ("utf-8-sig", ","),
        ("utf-8", ";"),
        ("cp1251", ";"),
        ("cp1251", "\t"),
        ("utf-16", "\t"),
    ],
)
def test_csv_encodings_and_delimiters(tmp_path, encoding, delimiter):
    path = write_csv(tmp_path / "c.csv", ROWS, delimiter=delimiter, encoding=encoding)
    assert values(path) == ROWS


def test_semicolon_file_with_decimal_commas(tmp_path):
    rows = [["Название", "Сумма", "Телефон"], ["Окна", "1 500,50", "+79990000001"]]
    path = write_csv(tmp_path / "d.csv", rows, delimiter=";", encoding="cp1251")
    assert values(path) == rows


def test_row_numbers_count_the_header_and_blank_rows(tmp_path):
    path = write_csv(
        tmp_path / "c.csv",
        [["name", "note"], ["A", "x"], ["", ""], ["B", "two\nlines"], ["C", "y"]],
    )
    columns, rows = read(path)
    assert columns == ["name", "note"]
    assert [(number, vals["name"]) for number, vals, _ in rows] == [(2, "A"), (4, "B"), (5, "C")]


def test_short_rows_are_padded_and_extra_values_flagged(tmp_path):
    path = write_csv(tmp_path / "c.csv", [["name", "phone"], ["A"], ["B", "1", "surprise"]])
    _, rows = read(path)
    assert rows == [
        (2, {"name": "A", "phone": None}, False),
        (3, {"name": "B", "phone": "1"}, True),
    ]


def test_header_problems(tmp_path):
    with pytest.raises(UnreadableFile, match="appears twice"):
        read(write_csv(tmp_path / "a.csv", [["name", "name"], ["A", "B"]]))
    with pytest.raises(UnreadableFile, match="row 1 must hold the column names"):
        read(write_csv(tmp_path / "b.csv", [["", ""], ["A", "B"]]))
    empty = tmp_path / "c.csv"
    empty.touch()
    with pytest.raises(UnreadableFile, match="the file is empty"):
        read(empty)
    columns, _ = read(
        write_csv(tmp_path / "d.csv", [["name", "", "phone", ""], ["A", "", "1", ""]])
    )
    assert columns == ["name", "(column 2)", "phone"]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("clients.php", "unsupported file type .php"),
        ("clients.csv.exe", "unsupported file type .exe"),
        ("clients", "unsupported file type (none)"),
        ("clients.xls", "old .xls workbooks are not supported"),
    ],
)
def test_unsupported_file_types(name, message):
    with pytest.raises(UnreadableFile, match=message.replace("(", r"\(").replace(")", r"\)")):
        format_of(name)


def test_binary_file_named_csv_is_refused(tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes(b"MZ\x90\x00\x03\x00\x00\x00" * 10)
    with pytest.raises(UnreadableFile, match="binary"):
        read(path)


def test_csv_limits(tmp_path):
    many_rows = write_csv(tmp_path / "rows.csv", [["name"]] + [[f"c{i}"] for i in range(11)])
    with pytest.raises(FileLimitExceeded, match="more than 10 data rows"):
        read(many_rows, ReadLimits(max_rows=10))
    assert len(read(many_rows, ReadLimits(max_rows=11))[1]) == 11
    wide = write_csv(tmp_path / "wide.csv", [[f"c{i}" for i in range(6)]])
    with pytest.raises(FileLimitExceeded, match="row 1 has 6 columns; the limit is 5"):
        read(wide, ReadLimits(max_columns=5))


def test_xlsx_values_keep_their_types(tmp_path):
    moment = datetime(2026, 3, 2, 9, 30)
    path = write_xlsx(tmp_path / "c.xlsx", [["Имя", "Сумма", "Дата"], ["Анна", 1500.5, moment]])
    assert values(path) == [["Имя", "Сумма", "Дата"], ["Анна", 1500.5, moment]]


def test_xlsx_formulas_are_never_evaluated(tmp_path):
    path = write_xlsx(
        tmp_path / "f.xlsx",
        [["name", "note"], ["=1+1", '=HYPERLINK("http://evil.example","x")'], ["Anna", "ok"]],
    )
    # openpyxl stores no cached value, so the formula text arrives as literal text
    assert values(path)[1] == ["=1+1", '=HYPERLINK("http://evil.example","x")']


def test_xlsx_formula_with_a_cached_value_gives_the_value(tmp_path):
    path = write_xlsx(tmp_path / "f.xlsx", [["name"], ['=CONCAT("An","na")']])
    sheet = member_text(path, "xl/worksheets/sheet1.xml")
    # what Excel writes after calculating: the formula and its result as a string
    cached = sheet.replace("<v />", "<v>Anna</v>").replace('<c r="A2">', '<c r="A2" t="str">')
    assert "<v>Anna</v>" in cached
    replace_member(path, "xl/worksheets/sheet1.xml", cached.encode())
    assert values(path)[1] == ["Anna"]


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
)
EXTERNAL = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


@pytest.mark.parametrize("prolog", [BILLION_LAUGHS, EXTERNAL], ids=["billion-laughs", "external"])
@pytest.mark.parametrize(
    "member", ["xl/worksheets/sheet1.xml", "xl/workbook.xml", "[Content_Types].xml"]
)
def test_xlsx_with_xml_entities_is_refused(tmp_path, prolog, member):
    path = write_xlsx(tmp_path / "e.xlsx", [["name"], ["Anna"]])
    original = member_text(path, member)
    body = original.split("?>", 1)[1] if original.startswith("<?xml") else original
    reference = "&lol3;" if prolog is BILLION_LAUGHS else "&xxe;"
    body = body.replace("Anna", reference) if "Anna" in body else body
    replace_member(path, member, (prolog + body).encode())
    with pytest.raises(UnreadableFile, match="XML entities"):
        read(path)


def test_xlsx_zip_bomb_is_refused_before_unpacking(tmp_path):
    path = declare_huge_size(
        write_xlsx(tmp_path / "bomb.xlsx", [["name"], ["Anna"]]), "xl/worksheets/sheet1.xml"
    )
    with pytest.raises(FileLimitExceeded, match=r"would unpack to \d+ bytes; the limit is"):
        read(path)


def test_xlsx_with_too_many_entries_is_refused(tmp_path):
    path = write_xlsx(tmp_path / "many.xlsx", [["name"], ["Anna"]])
    with zipfile.ZipFile(path, "a") as archive:
        for index in range(30):
            archive.writestr(f"junk/{index}.txt", "x")
    with pytest.raises(FileLimitExceeded, match="entries; the limit is 20"):
        read(path, ReadLimits(max_zip_entries=20))


def test_xlsx_declared_dimension_over_the_limits_is_refused(tmp_path):
    path = write_xlsx(tmp_path / "big.xlsx", [["name"], ["Anna"]])
    sheet = member_text(path, "xl/worksheets/sheet1.xml")
    replace_member(
        path, "xl/worksheets/sheet1.xml", sheet.replace('ref="A1:A2"', 'ref="A1:A1048576"').encode()
    )
    with pytest.raises(FileLimitExceeded, match="more than 200000 data rows"):
        read(path)
    wide = write_xlsx(tmp_path / "wide.xlsx", [["name"], ["Anna"]])
    sheet = member_text(wide, "xl/worksheets/sheet1.xml")
    replace_member(
        wide, "xl/worksheets/sheet1.xml", sheet.replace('ref="A1:A2"', 'ref="A1:XFD2"').encode()
    )
    with pytest.raises(FileLimitExceeded, match="16384 columns; the limit is 200"):
        read(wide)


def test_xlsx_understating_its_size_is_still_stopped(tmp_path):
    path = write_xlsx(tmp_path / "liar.xlsx", [["name"]] + [[f"c{i}"] for i in range(20)])
    sheet = member_text(path, "xl/worksheets/sheet1.xml")
    replace_member(
        path, "xl/worksheets/sheet1.xml", sheet.replace('ref="A1:A21"', 'ref="A1:A2"').encode()
    )
    with pytest.raises(FileLimitExceeded, match="more than 10 data rows"):
        read(path, ReadLimits(max_rows=10))


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "not an XLSX workbook"), (b"name\nAnna\n", "not an XLSX workbook")],
)
def test_not_a_workbook(tmp_path, content, message):
    path = tmp_path / "x.xlsx"
    path.write_bytes(content)
    with pytest.raises(UnreadableFile, match=message):
        read(path)


def test_format_is_decided_by_extension():
    assert format_of("Клиенты.XLSX") is FileFormat.XLSX
    assert format_of("export.tsv") is FileFormat.CSV
