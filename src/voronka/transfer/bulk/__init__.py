"""Set-based bulk import: many rows per statement, matching and deduplication done in SQL.

A batch of rows is parsed and validated column by column in Python (``prepare``), loaded
into a temporary staging table (``COPY`` on PostgreSQL, ``executemany`` on SQLite), matched
against the stored data with a few ``UPDATE … SET … = (SELECT …)`` statements, and written
with ``INSERT … SELECT``. ``runner`` drives the batches, the modes (atomic, per row, dry run),
the checkpoint of a resumable run and its progress.
"""
