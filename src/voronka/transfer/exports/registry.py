"""Every export by entity."""

from __future__ import annotations

from voronka.transfer.exports.catalog import PRODUCTS
from voronka.transfer.exports.events import ACTIVITIES, TOUCHPOINTS
from voronka.transfer.exports.people import CLIENTS, COMPANIES
from voronka.transfer.exports.sales import DEAL_STAGES, DEALS, ORDERS
from voronka.transfer.exports.spec import ExportEntity, ExportSpec

EXPORTS: dict[ExportEntity, ExportSpec] = {
    spec.entity: spec
    for spec in (CLIENTS, COMPANIES, DEALS, DEAL_STAGES, ACTIVITIES, ORDERS, PRODUCTS, TOUCHPOINTS)
}
