"""Test files made on the fly: CSV in any encoding and delimiter, XLSX, hostile archives.

Nothing binary is committed; every fixture file is generated in the test's temporary folder.
"""

from __future__ import annotations

import csv
import io
import struct
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook


def write_csv(
    path: Path,
    rows: Sequence[Sequence[Any]],
    *,
    delimiter: str = ",",
    encoding: str = "utf-8",
) -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, rows: Sequence[Sequence[Any]]) -> Path:
    """A workbook with one sheet; strings starting with ``=`` become formulas (as in Excel)."""
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(list(row))
    workbook.save(path)
    return path


def read_xlsx(path: Path) -> list[list[Any]]:
    """Cell values of the first sheet (formulas as text), and their data types."""
    workbook = load_workbook(path)
    try:
        return [[cell.value for cell in row] for row in workbook.worksheets[0].iter_rows()]
    finally:
        workbook.close()


def xlsx_types(path: Path) -> list[list[str]]:
    workbook = load_workbook(path)
    try:
        return [[cell.data_type for cell in row] for row in workbook.worksheets[0].iter_rows()]
    finally:
        workbook.close()


def replace_member(path: Path, member: str, content: bytes) -> Path:
    """Rewrite one file inside an XLSX archive."""
    with zipfile.ZipFile(path) as source:
        entries = [(info, source.read(info.filename)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in entries:
            target.writestr(info, content if info.filename == member else data)
    return path


def member_text(path: Path, member: str) -> str:
    with zipfile.ZipFile(path) as archive:
        return archive.read(member).decode("utf-8")


def declare_huge_size(path: Path, member: str, size: int = 0xF000_0000) -> Path:
    """Make the zip's central directory claim ``member`` unpacks to ``size`` bytes.

    The data stay small: a reader that trusts the directory refuses the file without
    inflating anything, which is what the test checks.
    """
    data = bytearray(path.read_bytes())
    offset = 0
    name = member.encode()
    while (offset := data.find(b"PK\x01\x02", offset)) != -1:
        name_length = struct.unpack_from("<H", data, offset + 28)[0]
        if bytes(data[offset + 46 : offset + 46 + name_length]) == name:
            struct.pack_into("<I", data, offset + 24, size)  # uncompressed size
            path.write_bytes(bytes(data))
            return path
        offset += 4
    raise AssertionError(f"{member} not found in {path}")
