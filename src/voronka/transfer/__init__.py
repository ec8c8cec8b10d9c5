"""CSV/XLSX import and export of clients and deals.

``reading`` turns a file into numbered rows, ``mapping`` decides which column feeds which
field, ``importer`` writes the rows (atomic or per row, with dry run and deduplication) and
``exporter`` streams what the actor may see back out, safe to open in a spreadsheet.
"""
