"""Every message the interface shows has a Russian translation; formats follow the language."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from voronka.web.ui import i18n

UI = Path(i18n.__file__).parent
IN_TEMPLATES = re.compile(r"""\bt\((["'])(.+?)\1\)""")
IN_CODE = re.compile(r"""(?:Column\("[^"]+", |Table\("[^"]+", |title=|label": |"title": )"([^"{}]+)\"""")
NOT_TEXT = {"MASE", "sMAPE, %", "CPL", "CAC", "ROMI, %", "UTM"}


def _messages() -> set[str]:
    found = set()
    for template in (UI / "templates").glob("*.html"):
        found |= {m.group(2) for m in IN_TEMPLATES.finditer(template.read_text())}
    for module in (UI / "pages").glob("*.py"):
        found |= {m.group(1) for m in IN_CODE.finditer(module.read_text())}
    return found


def test_every_message_has_a_russian_translation():
    messages = _messages()
    assert len(messages) > 150  # the scan sees the templates and the page modules
    missing = sorted(m for m in messages - NOT_TEXT if m not in i18n.RU and m[:1].isupper())
    assert missing == []


def test_numbers_money_and_dates_follow_the_language():
    ru, en = i18n.Formatter("ru", "RUB"), i18n.Formatter("en", "RUB")
    # Babel's CLDR data: Russian groups with a no-break space and puts ₽ after the amount
    assert ru.money(1234567.4) == "1\xa0234\xa0567\xa0₽"
    assert en.money(1234567.4) == "₽1,234,567" and en.money(-5) == "-₽5.00"
    assert ru.money(12.5) == "12,50\xa0₽"
    assert ru.percent(12.345) == "12,3 %" and en.percent(12.345) == "12.3 %"
    assert ru.signed_percent(-3.21) == "−3,2 %" and en.signed_percent(4) == "+4.0 %"
    assert ru.number(None) == "—" and ru.number(float("nan")) == "—"
    assert ru.date(date(2026, 3, 8)) == "8 мар. 2026\u202fг."
    assert en.date(date(2026, 3, 8)) == "Mar 8, 2026"


def test_the_language_is_chosen_from_the_request_when_nobody_is_signed_in():
    assert i18n.choose("en", "ru-RU,ru;q=0.9") == "en"
    assert i18n.choose(None, "en-GB,en;q=0.9") == "en"
    assert i18n.choose("de", "de-DE") == "ru"
