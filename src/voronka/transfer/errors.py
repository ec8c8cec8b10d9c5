"""Errors of whole files (as opposed to bad rows, which go into the import report)."""

from __future__ import annotations

from voronka.errors import InvalidInput, PayloadTooLarge


class UnreadableFile(InvalidInput):
    """The file is not a CSV/XLSX table we can read safely (encoding, syntax, XML entities…)."""

    code = "unreadable_file"


class FileLimitExceeded(PayloadTooLarge):
    """The file is over one of the documented limits; the message names the limit."""

    code = "file_limit_exceeded"


class MappingProblem(InvalidInput):
    """The columns cannot be mapped to fields (unknown column, missing required field…)."""

    code = "invalid_mapping"
