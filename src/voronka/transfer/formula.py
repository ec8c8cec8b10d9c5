"""Spreadsheet formula injection: neutralise text on export, undo it exactly on import.

A spreadsheet treats a cell as a formula when its first visible character is ``=``, ``+``,
``-`` or ``@`` — also after invisible characters (spaces, no-break and zero-width spaces,
tabs, CR, other control characters) — and some treat a leading TAB or CR specially. Such
text is written with a leading apostrophe. Text that starts with apostrophes in front of
such text gets one more, so that stripping exactly one apostrophe on import gives back the
original value in every case: export then import is the identity.
"""

from __future__ import annotations

import unicodedata

PREFIX = "'"
FORMULA_STARTS = frozenset("=+-@")
_INVISIBLE_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf"})


def _invisible(char: str) -> bool:
    return unicodedata.category(char) in _INVISIBLE_CATEGORIES


def _looks_like_formula(text: str) -> bool:
    if not text:
        return False
    if unicodedata.category(text[0]) == "Cc":  # TAB, CR, NUL, … in first position
        return True
    for char in text:
        if not _invisible(char):
            # NFKC folds look-alikes such as the full-width equals sign onto ASCII.
            return unicodedata.normalize("NFKC", char)[:1] in FORMULA_STARTS
    return False


def needs_prefix(text: str) -> bool:
    """Whether ``text`` would be read as a formula, now or once one apostrophe is stripped."""
    if text[:1].isalnum():  # fast path: letters and digits never fold onto = + - @
        return False
    return _looks_like_formula(text.lstrip(PREFIX))


def neutralise(text: str) -> str:
    """``text`` made safe for a spreadsheet cell (a leading apostrophe when needed)."""
    return PREFIX + text if needs_prefix(text) else text


def restore(text: str) -> str:
    """Undo :func:`neutralise`: strip exactly one apostrophe that it would have added."""
    if text.startswith(PREFIX) and needs_prefix(text[1:]):
        return text[1:]
    return text
