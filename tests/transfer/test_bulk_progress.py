"""``voronka import … --bulk`` shows its progress after every batch: rows read of the rows
in the file, and the last row committed (a real process on the test database)."""

from __future__ import annotations

from tests.transfer.files import write_csv
from tests.transfer.test_transfer_cli import voronka  # noqa: F401  (the fixture)


def test_bulk_import_prints_progress_after_every_batch(voronka, tmp_path):  # noqa: F811
    rows = [["occurred_at", "kind", "visitor_id"]]
    rows += [[f"2026-11-0{day} 10:00", "visit", f"v{day}"] for day in range(1, 6)]
    path = write_csv(tmp_path / "t.csv", rows)
    result = voronka("import", "touchpoints", str(path), "--batch-size", "2", "--mode", "per-row")
    assert result.returncode == 0, result.stderr
    progress = [line for line in result.stderr.splitlines() if line.startswith("read ")]
    # five data rows (file rows 2-6) in batches of two: 2-3, 4-5, 6
    assert progress == [
        "read 2 of 5 rows (committed through row 3)",
        "read 4 of 5 rows (committed through row 5)",
        "read 5 of 5 rows (committed through row 6)",
    ]
