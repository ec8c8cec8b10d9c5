"""The columnar CSV reader, the cached time-zone conversion and the COPY encoding of staged
rows give exactly what the slower paths give. Expected values are the ``csv`` module's rows
(``reading.open_csv_table``) and ``cells.moment``'s instants, computed in the test."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from voronka.transfer import cells, columnar
from voronka.transfer.bulk.fast import Moments
from voronka.transfer.bulk.staging import Stage
from voronka.transfer.errors import FileLimitExceeded
from voronka.transfer.reading import FileFormat, ReadLimits, open_table

# every file the columnar reader accepts must read as the csv module reads it
SAME = {
    "plain": "name,phone\nАнна,8 999 123-45-67\nПётр,+7 999 765-43-21\n",
    "crlf and spaces": "a;b\r\n1;2\r\n 3 ; 4 \r\n",
    "blank cells, kept numbers": "a,b\n1,2\n,\n \u3000,\x1c\n\u00a0,\t\n5,6",
    "quotes": 'a,b\n"1,5","q""x"\nx"y,z\n"",""\n',
    "byte order mark": "\ufeffname,phone\nАнна,8 999\n",
    "apostrophes kept": "a,b\n'=1+2,'x\n",
}
# and every file it cannot vouch for is left to the csv module
FALLBACK = {
    "blank line": "a,b\n1,2\n\n3,4\n",
    "value over two lines": 'a,b\n1,"x\ny"\n3,4\n',
    "short row": "a,b\n1\n3,4\n",
    "long row": "a,b\n1,2,3\n",
    "bare CR": "a,b\r1,2\r3,4\r",
    "unnamed trailing column": "a,b,\n1,2,3\n",
}


def rows_of(path: Path, **options: bool) -> tuple[list[str], int | None, list[tuple]]:
    with open_table(path, FileFormat.CSV, **options) as table:
        rows = [(r.number, r.values, r.overflow) for b in table.batches(2) for r in b]
        return table.columns, table.row_count_hint, rows


@pytest.mark.parametrize("name", sorted(SAME))
def test_columnar_reader_gives_the_csv_modules_rows(tmp_path, name):
    path = tmp_path / "f.csv"
    path.write_text(SAME[name], encoding="utf-8")
    assert columnar.open_plain_csv(path, ReadLimits()) is not None
    assert rows_of(path, columnar=True) == rows_of(path)


@pytest.mark.parametrize("name", sorted(FALLBACK))
def test_files_the_columnar_reader_cannot_vouch_for_are_read_by_the_csv_module(tmp_path, name):
    path = tmp_path / "f.csv"
    path.write_text(FALLBACK[name], encoding="utf-8")
    assert columnar.open_plain_csv(path, ReadLimits()) is None
    assert rows_of(path, columnar=True) == rows_of(path)


def test_non_utf8_files_use_the_csv_module(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes("Имя;Телефон\nАнна;1\n".encode("cp1251"))
    assert columnar.open_plain_csv(path, ReadLimits()) is None


def test_columnar_batches_resume_after_a_checkpoint_and_keep_row_numbers(tmp_path):
    path = tmp_path / "f.csv"
    # rows 2..11; row 5 is blank and is skipped but keeps its number
    lines = ["n"] + [("" if i == 5 else str(i)) + "," for i in range(2, 12)]
    path.write_text("\n".join(["n,x", *lines[1:]]) + "\n", encoding="utf-8")
    with open_table(path, FileFormat.CSV, columnar=True) as table:
        assert table.row_count_hint == 9
        batches = [b.numbers for b in table.batches(3, after=6)]
        assert batches == [[7, 8, 9], [10, 11]]
        assert [b.column("n") for b in table.batches(4, after=3)] == [
            ["4", "6", "7", "8"], ["9", "10", "11"]]


def test_columnar_reader_keeps_the_row_limit(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("a,b\n" + "1,2\n" * 5, encoding="utf-8")
    with pytest.raises(FileLimitExceeded, match="more than 4 data rows"):
        columnar.open_plain_csv(path, ReadLimits(max_rows=4))


@pytest.mark.parametrize("zone", ["Europe/Moscow", "America/New_York", "Australia/Lord_Howe"])
def test_cached_offsets_give_cells_moment_for_every_time(zone):
    tz = ZoneInfo(zone)
    moments = Moments(tz)
    random.seed(7)
    values = []
    for _ in range(3000):  # random times over 120 years of the zone's rules
        at = datetime(1900, 1, 1) + timedelta(minutes=random.randrange(120 * 365 * 24 * 60))
        values += [at.isoformat(" "), at.isoformat()]
    for year in (2009, 2010, 2024):  # every hour around the year's transitions, both ways
        for day in range(1, 366):
            start = datetime(year, 1, 1) + timedelta(days=day - 1)
            values += [(start + timedelta(minutes=m)).isoformat(" ") for m in range(0, 1440, 30)]
    values += ["01.11.2026 10:00", "2026-11-01T10:00:00+05:00", " 2026-11-01 10:00 "]
    assert [moments(v) for v in values] == [cells.moment(v, tz) for v in values]
    with pytest.raises(ValueError, match="not a date"):
        moments("2026-13-01")


STAGE = Stage(
    "import_stage_roundtrip",
    (("row_no", "int"), ("note", "text"), ("at", "time"), ("flag", "bool"), ("n", "id")),
    indexed=False,
)


def test_encoded_copy_reads_back_every_value(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("COPY's CSV encoding is PostgreSQL's; SQLite stages by executemany")
    moscow = timezone(timedelta(hours=3))
    rows = [
        (2, 'a "quoted", two\nlines\\ and\ttab', datetime(2026, 1, 1, 10, tzinfo=moscow), True, 5),
        (3, None, datetime(2026, 7, 1, 0, 0, 0, 123456, tzinfo=UTC), False, None),
        (4, "'=1+2", None, None, 10**17),
    ]
    with engine.connect() as conn, conn.begin():
        conn.exec_driver_sql("SET LOCAL TimeZone = 'America/New_York'")
        STAGE.reset(conn)
        STAGE.load(conn, rows, STAGE.encode(rows))
        stored = conn.execute(text(
            "SELECT row_no, note, at, flag, n FROM import_stage_roundtrip ORDER BY row_no"
        )).all()
        # times are sent as UTC marked "Z": the COPY never touches the session's zone
        assert conn.execute(text("SELECT current_setting('TimeZone')")).scalar() == (
            "America/New_York")
    assert [tuple(r) for r in stored] == rows



def test_batches_of_growing_sizes_across_arrow_blocks_match_the_csv_modules(
    tmp_path, monkeypatch
):
    # blocks of about three lines, so batches start and end inside and across blocks
    monkeypatch.setattr(columnar, "ARROW_BLOCK_BYTES", 24)
    path = tmp_path / "f.csv"
    lines = ["," if i == 9 else f"{i},x" for i in range(2, 42)]  # row 9 blank
    path.write_text("\n".join(["n,x", *lines]) + "\n", encoding="utf-8")

    def batches(columnar_reader: bool) -> list[list[int]]:
        with open_table(path, FileFormat.CSV, columnar=columnar_reader) as table:
            return [b.numbers for b in table.batches(iter([1, 2, 4, 8, 100]), after=3)]

    assert batches(columnar_reader=True) == batches(columnar_reader=False) == [
        [4], [5, 6], [7, 8, 10, 11], list(range(12, 20)), list(range(20, 42))]



def test_a_record_longer_than_an_arrow_block_is_left_to_the_csv_module(tmp_path, monkeypatch):
    monkeypatch.setattr(columnar, "ARROW_BLOCK_BYTES", 1024)
    path = tmp_path / "f.csv"
    path.write_text("a,b\n1," + "x" * 5000 + "\n2,y\n", encoding="utf-8")
    assert columnar.open_plain_csv(path, ReadLimits()) is None
    assert rows_of(path, columnar=True) == rows_of(path)


SHAPED = Stage("import_stage_shape", (("row_no", "int"), ("phone", "text")), indexed=False)


def test_staging_statistics_are_gathered_again_only_when_the_shape_changes(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("statistics are PostgreSQL's planner's")
    analyzed: dict[str, tuple[bool, ...]] = {}
    null_share = text(
        "SELECT null_frac FROM pg_stats WHERE tablename = 'import_stage_shape'"
        " AND attname = 'phone'"
    )
    with engine.connect() as conn, conn.begin():
        for first in (1, 101):  # two batches without phones: gathered once
            rows = [(n, None) for n in range(first, first + 100)]
            SHAPED.reset(conn)
            SHAPED.load(conn, rows, SHAPED.encode(rows), analyzed=analyzed)
        assert conn.execute(null_share).scalar() == 1.0
        assert analyzed == {"import_stage_shape": (True, False)}
        rows = [(n, f"+7999{n:07d}") for n in range(201, 301)]  # now with phones: again
        SHAPED.reset(conn)
        SHAPED.load(conn, rows, SHAPED.encode(rows), analyzed=analyzed)
        assert conn.execute(null_share).scalar() == 0.0
        assert analyzed == {"import_stage_shape": (True, True)}
