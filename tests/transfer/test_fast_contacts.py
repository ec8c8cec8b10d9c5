"""The fast normalisers give exactly what voronka.client.contact gives (its output is the
expected value), on the shapes they take a shortcut for and on the ones they hand over."""

from __future__ import annotations

import random

import pytest

from voronka.client.contact import normalize_email, normalize_phone
from voronka.transfer.bulk import fast

PHONES = [
    "8 (999) 123-45-67", "+7 999 1234567", "79991234567", "89991234567", "8-800-555-35-35",
    "+7 (495) 123-45-67", "8 495 123 45 67", "+7 383 123 45 67", "８９９９１２３４５６７",
    " +79991234567 ", "+375 29 123 45 67", "+1 202 555 0143", "8 123 456 78 90",
    "+7 999 123 45", "12", "phone",
]
EMAILS = [
    "Ivan@Example.RU", " a.b-c+d@mail.ru ", "user@пример.рф", "x@b.test", "x@localhost",
    "a..b@x.ru", ".a@x.ru", "a@-x.ru", "a@x.r", "a@xn--80ak6aa92e.com", "Ω@x.ru",
    "very.long." + "x" * 60 + "@x.ru", "a@b.c0m", "a_b@sub.domain.example.org",
]


def outcome(function, raw):  # type: ignore[no-untyped-def]
    try:
        return function(raw)
    except ValueError:
        return ValueError


@pytest.mark.parametrize("raw", PHONES)
def test_phones_match_the_library(raw):
    assert outcome(lambda r: fast.phone(r, "RU"), raw) == outcome(
        lambda r: normalize_phone(r, region="RU"), raw)


@pytest.mark.parametrize("raw", EMAILS)
def test_emails_match_the_library(raw):
    assert outcome(fast.email, raw) == outcome(normalize_email, raw)


def test_random_russian_numbers_in_every_spelling_match_the_library():
    generator = random.Random(20261122)
    for _ in range(500):
        digits = generator.choice("3489") + "".join(generator.choice("0123456789")
                                                    for _ in range(9))
        spelled = generator.choice(["+7{}", "8{}", "7{}", "8 ({}", "+7-{}"]).format(digits)
        assert fast.phone(spelled, "RU") == normalize_phone(spelled, region="RU")
