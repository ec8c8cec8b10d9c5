"""The report layouts of the ad platforms, as their web interfaces export them.

Each layout names, per field, the header spellings the platform uses (compared after
``mapping.normalise_header``: case, spaces and punctuation ignored). A file's header row is
the first row, among its first ``HEADER_SEARCH_ROWS``, that names the day, the campaign and
the cost; title lines above it (report name, period, account) are skipped, and so are the
totals rows below it.

* **Yandex Direct** — the report wizard («Мастер отчётов») exports «Дата», «Кампания»,
  «№ Кампании», «Показы», «Клики», «Расход (руб.)» under a title line with the period and
  ends with «Итого»; the Reports API gives TSV with ``Date``, ``CampaignName``,
  ``CampaignId``, ``Impressions``, ``Clicks``, ``Cost`` (in millionths of the currency
  unless the request asked otherwise), a title line first and ``Total rows: N`` last.
* **VK Ads** — statistics export with «Дата», «Кампания» (or «Название кампании»),
  «ID кампании», «Показы», «Клики», «Потрачено» (or «Расход»), often «Всего» / «Итого» rows.
* **Google Ads** — report download: a title line («Campaign report»), a period line, then
  ``Day``, ``Campaign``, ``Campaign ID``, ``Currency code``, ``Cost``, ``Impr.``,
  ``Clicks``; totals rows ``Total: Account``, ``Total: Campaigns``…; the «CSV for Excel»
  variant is UTF-16 with tabs; numbers use thousands commas (``1,234.56``).
* **generic** — ``day``, ``campaign`` (or ``utm_campaign``), ``cost``, ``impressions``,
  ``clicks``, optional ``currency`` and ``campaign_id``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from voronka.transfer.mapping import normalise_header

HEADER_SEARCH_ROWS = 30
FIELDS = ("day", "campaign", "campaign_id", "impressions", "clicks", "cost", "currency")
REQUIRED = ("day", "campaign", "cost")


class AdFormat(StrEnum):
    YANDEX = "yandex"
    VK = "vk"
    GOOGLE = "google"
    GENERIC = "generic"


@dataclass(frozen=True)
class Layout:
    """Header spellings per field, totals markers, and how the cost is scaled."""

    headers: dict[str, frozenset[str]]
    totals: tuple[str, ...]
    #: header → the cost divisor it implies (Yandex API ``Cost`` is in millionths)
    cost_divisors: dict[str, Decimal]
    #: header → the currency it implies («Расход (руб.)»)
    header_currency: dict[str, str]


def _spellings(*names: str) -> frozenset[str]:
    return frozenset(normalise_header(n) for n in names)


_GENERIC = {
    "day": _spellings("day", "date", "дата", "день"),
    "campaign": _spellings("campaign", "campaign name", "utm_campaign", "кампания"),
    "campaign_id": _spellings("campaign id", "campaign_id", "id кампании"),
    "impressions": _spellings("impressions", "показы"),
    "clicks": _spellings("clicks", "клики"),
    "cost": _spellings("cost", "spend", "amount", "расход", "стоимость"),
    "currency": _spellings("currency", "валюта"),
}


def _with(base: dict[str, frozenset[str]], **extra: tuple[str, ...]) -> dict[str, frozenset[str]]:
    return {field: base[field] | _spellings(*extra.get(field, ())) for field in FIELDS}


LAYOUTS: dict[AdFormat, Layout] = {
    AdFormat.YANDEX: Layout(
        _with(
            _GENERIC,
            campaign=("CampaignName", "Название кампании"),
            campaign_id=("CampaignId", "№ Кампании", "№ кампании", "Номер кампании"),
            cost=("Cost", "Расход (руб.)", "Расход, руб.", "Расход (руб)", "Расход (у.е.)",
                  "Расход всего (руб.)"),
        ),
        totals=("итого", "всего", "totalrows", "total"),
        cost_divisors={normalise_header("Cost"): Decimal(1_000_000)},
        header_currency={
            normalise_header(h): "RUB"
            for h in ("Расход (руб.)", "Расход, руб.", "Расход (руб)", "Расход всего (руб.)")
        },
    ),
    AdFormat.VK: Layout(
        _with(
            _GENERIC,
            campaign=("Название кампании", "Кампания"),
            campaign_id=("ID кампании", "Id кампании"),
            cost=("Потрачено", "Потрачено, ₽", "Потрачено, руб.", "Расход, ₽", "Списано"),
        ),
        totals=("итого", "всего", "total"),
        cost_divisors={},
        header_currency={
            normalise_header(h): "RUB" for h in ("Потрачено, ₽", "Потрачено, руб.", "Расход, ₽")
        },
    ),
    AdFormat.GOOGLE: Layout(
        _with(
            _GENERIC,
            campaign=("Campaign",),
            campaign_id=("Campaign ID",),
            impressions=("Impr.", "Impressions"),
            cost=("Cost",),
            currency=("Currency code", "Currency"),
        ),
        totals=("total",),
        cost_divisors={},
        header_currency={},
    ),
    AdFormat.GENERIC: Layout(_GENERIC, totals=("total", "итого", "всего"), cost_divisors={},
                             header_currency={}),
}
