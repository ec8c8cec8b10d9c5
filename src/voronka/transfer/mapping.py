"""Which file column feeds which field: explicit ``Column=field`` pairs or header matching.

Headers are matched case-insensitively in English or Russian, ignoring spaces, dashes, dots
and underscores (``E-mail`` = ``email`` = ``Почта``). Columns that match no field are
reported; export-only columns (``id``, ``created_at`` of a client…) are recognised and
reported as ignored, so a file exported by Voronka imports without surprises.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from voronka.errors import ErrorDetail
from voronka.transfer.errors import MappingProblem


class Entity(StrEnum):
    CLIENTS = "clients"
    DEALS = "deals"
    TOUCHPOINTS = "touchpoints"
    PRODUCTS = "products"
    ACTIVITIES = "activities"
    ORDERS = "orders"


@dataclass(frozen=True)
class FieldSpec:
    """A field an import fills; ``aliases`` are normalised header spellings."""

    name: str
    aliases: frozenset[str]
    importable: bool = True


def normalise_header(text: str) -> str:
    """Case-folded header without spaces, dashes, dots, underscores; ё is е."""
    return re.sub(r"[\s_\-.:№#()]+", "", text.casefold().replace("ё", "е"))


def _spec(name: str, aliases: str = "", importable: bool = True) -> FieldSpec:
    """A field with its header spellings, given as one ``|``-separated string."""
    spellings = (name, *(a for a in aliases.split("|") if a))
    return FieldSpec(name, frozenset(normalise_header(a) for a in spellings), importable)


_OWNER = _spec("owner", "owner email|manager|responsible|ответственный|менеджер")
_SOURCE = _spec("source", "channel|источник|канал")
_PHONE = "phones|telephone|tel|mobile|phone number|телефон|телефоны|мобильный|тел|номер телефона"
_EMAIL = "emails|e-mail|mail|email address|почта|эл почта|электронная почта|емейл|имейл"

FIELDS: dict[Entity, tuple[FieldSpec, ...]] = {
    Entity.CLIENTS: (
        _spec("name", "full name|client|client name|имя|фио|клиент|наименование|название"),
        _spec("kind", "type|тип|вид"),
        _spec("phone", _PHONE),
        _spec("email", _EMAIL),
        _spec("company", "organization|organisation|компания|организация"),
        _spec("job_title", "position|job|должность"),
        _spec("tags", "tag|labels|теги|тег|метки"),
        _OWNER,
        _SOURCE,
        _spec("id", "client id", importable=False),
        _spec("created_at", "created|дата создания|создан", importable=False),
    ),
    Entity.DEALS: (
        _spec("title", "deal|deal name|name|название|сделка|название сделки"),
        _spec("client_id", "client id|id клиента"),
        _spec("phone", f"client phone|телефон клиента|{_PHONE}"),
        _spec("email", f"client email|почта клиента|email клиента|{_EMAIL}"),
        _spec("pipeline", "funnel|воронка"),
        _spec("stage", "этап|стадия"),
        _spec("amount", "sum|total|value|budget|сумма|бюджет"),
        _spec("currency", "валюта"),
        _OWNER,
        _SOURCE,
        _spec("created_at", "created|date|дата|дата создания|создана"),
        _spec("lost_reason", "lost reason|причина отказа|причина проигрыша"),
        _spec("external_id", "external id|внешний id|id сделки|номер сделки|deal number"),
        _spec("closed_at", "closed|дата закрытия"),
        _spec("won_reason", "won reason|причина успеха|причина выигрыша"),
        _spec("stage_history", "history|stage history|история|история этапов"),
        _spec("utm_source", "utmsource|источник utm"),
        _spec("utm_campaign", "utmcampaign|campaign|кампания"),
        _spec("id", "deal id", importable=False),
        _spec("client_name", "client|клиент|имя клиента", importable=False),
        _spec("status", "статус", importable=False),
    ),
    Entity.ORDERS: (
        _spec("number", "order|order number|order no|order id|номер|номер заказа|заказ"),
        _spec("client_id", "client id|id клиента"),
        _spec("phone", f"client phone|телефон клиента|{_PHONE}"),
        _spec("email", f"client email|почта клиента|{_EMAIL}"),
        _spec("sku", "article|code|product code|артикул|код|код товара"),
        _spec("product_name", "product|product name|item|товар|название товара|наименование"
                              "|наименование товара"),
        _spec("quantity", "qty|count|количество|кол-во|кол во"),
        _spec("unit_price", "price|unit price|цена|цена за единицу|цена за шт"),
        _spec("unit_cost", "cost|unit cost|cost price|себестоимость|закупочная цена"),
        _spec("discount", "line discount|скидка|скидка на позицию"),
        _spec("line_total", "line total|line amount|subtotal|сумма строки|сумма позиции|стоимость"),
        _spec("total", "order total|amount|итого|сумма заказа|сумма"),
        _spec("currency", "валюта"),
        _spec("status", "order status|state|статус|статус заказа"),
        _spec("ordered_at", "date|order date|created|created at|дата|дата заказа|дата создания"),
        _spec("paid_at", "paid|payment date|дата оплаты|оплачен"),
        _spec("status_at", "status date|status changed at|дата статуса|дата смены статуса"),
        _OWNER,
        _SOURCE,
        _spec("utm_source", "utmsource|источник utm"),
        _spec("utm_medium", "utmmedium|тип трафика"),
        _spec("utm_campaign", "utmcampaign|campaign|кампания"),
        _spec("deal", "deal id|deal external id|сделка|id сделки|номер сделки"),
    ),
    Entity.TOUCHPOINTS: (
        _spec("occurred_at", "time|date|datetime|timestamp|время|дата|дата и время"),
        _spec("kind", "type|event|тип|событие"),
        _spec("visitor_id", "visitor|visitor id|cookie|посетитель|id посетителя"),
        _spec("client_id", "id клиента"),
        _spec("phone", _PHONE),
        _spec("email", _EMAIL),
        _SOURCE,
        _spec("utm_source", "utmsource|источник utm"),
        _spec("utm_medium", "utmmedium|тип трафика"),
        _spec("utm_campaign", "utmcampaign|campaign|кампания"),
        _spec("referrer", "referer|реферер|откуда"),
        _spec("landing_page", "landing|url|page|страница входа|посадочная страница"),
        _spec("pages", "page views|pageviews|просмотры|глубина"),
        _spec("seconds_on_site", "duration|seconds|время на сайте|длительность"),
    ),
    Entity.ACTIVITIES: (
        _spec("kind", "type|тип|вид"),
        _spec("occurred_at", "time|date|datetime|when|время|дата|дата и время"),
        _spec("client_id", "id клиента"),
        _spec("phone", f"client phone|телефон клиента|{_PHONE}"),
        _spec("email", f"client email|почта клиента|{_EMAIL}"),
        _OWNER,
        _spec("subject", "title|тема|заголовок"),
        _spec("body", "text|note|comment|текст|комментарий|описание"),
        _spec("external_id", "external id|внешний id|id звонка"),
        _spec("direction", "направление"),
        _spec("call_status", "status|статус|статус звонка"),
        _spec("wait_seconds", "wait|ожидание"),
        _spec("talk_seconds", "talk|duration|длительность|разговор"),
        _spec("due_at", "due|deadline|срок"),
    ),
    Entity.PRODUCTS: (
        _spec("sku", "article|code|артикул|код|код товара"),
        _spec("name", "product|title|товар|наименование|название"),
        _spec("group", "category|группа|категория"),
        _spec("price", "list price|цена|цена продажи"),
        _spec("cost_price", "cost|purchase price|себестоимость|закупочная цена"),
        _spec("currency", "валюта"),
        _spec("unit", "units|ед изм|единица|единица измерения"),
    ),
}
REQUIRED: dict[Entity, tuple[str, ...]] = {
    Entity.CLIENTS: ("name",),
    Entity.DEALS: ("title",),
    Entity.TOUCHPOINTS: ("occurred_at",),
    Entity.PRODUCTS: ("sku", "name", "price"),
    Entity.ACTIVITIES: ("kind", "occurred_at"),
    Entity.ORDERS: ("number", "sku", "quantity", "ordered_at"),
}
DEAL_CLIENT_KEYS = ("client_id", "phone", "email")
#: Fields only the set-based loader fills (the row-by-row deal import ignores their columns).
BULK_ONLY = {
    Entity.DEALS: frozenset(
        {"external_id", "closed_at", "won_reason", "stage_history", "utm_source", "utm_campaign"}
    ),
}


@dataclass
class ColumnMapping:
    """The decided mapping: file column → field, plus the columns that feed nothing."""

    fields: dict[str, str] = field(default_factory=dict)
    unknown_columns: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    def column_of(self, field_name: str) -> str | None:
        return next((c for c, f in self.fields.items() if f == field_name), None)


def parse_pairs(pairs: Iterable[str]) -> dict[str, str]:
    """``["Column=field", …]`` as a dict; the column name may itself contain ``=``."""
    explicit: dict[str, str] = {}
    for pair in pairs:
        column, sep, field_name = pair.rpartition("=")
        if not sep or not column.strip() or not field_name.strip():
            raise MappingProblem(f"mapping {pair!r} must look like 'Column=field'")
        explicit[column.strip()] = field_name.strip()
    return explicit


def resolve(
    entity: Entity,
    columns: list[str],
    explicit: Mapping[str, str],
    *,
    updating: bool = False,
    bulk: bool = False,
) -> ColumnMapping:
    """Decide the mapping of ``columns``; explicit pairs win over header matching.

    ``updating`` (on_duplicate=update) lets a client file without names through when it has
    a phone or e-mail column to find the clients by; ``bulk`` admits the fields only the
    set-based loaders fill (``BULK_ONLY``).
    """
    skipped = frozenset() if bulk else BULK_ONLY.get(entity, frozenset())
    specs = {
        spec.name: spec if spec.name not in skipped else FieldSpec(spec.name, spec.aliases, False)
        for spec in FIELDS[entity]
    }
    _check_explicit(entity, columns, explicit, specs)
    mapping = ColumnMapping()
    claimed = set(explicit.values())
    for column in columns:
        name = explicit.get(column) or _match(column, specs.values())
        if name is None or (column not in explicit and name in claimed):
            mapping.unknown_columns.append(column)
        elif not specs[name].importable:
            mapping.ignored_columns.append(column)
        else:
            mapping.fields[column] = name
    _check_unique(mapping)
    _check_required(entity, mapping, updating)
    return mapping


def _match(column: str, specs: Iterable[FieldSpec]) -> str | None:
    key = normalise_header(column)
    return next((spec.name for spec in specs if key in spec.aliases), None)


def _check_explicit(
    entity: Entity, columns: list[str], explicit: Mapping[str, str], specs: Mapping[str, FieldSpec]
) -> None:
    for column, name in explicit.items():
        if column not in columns:
            raise MappingProblem(
                f"the file has no column {column!r} (its columns: {', '.join(columns)})",
                [ErrorDetail("no such column", field=column)],
            )
        if name not in specs or not specs[name].importable:
            known = ", ".join(s.name for s in specs.values() if s.importable)
            raise MappingProblem(
                f"{entity.value} have no field {name!r} to import into (fields: {known})",
                [ErrorDetail("no such field", field=name)],
            )


def _check_unique(mapping: ColumnMapping) -> None:
    by_field: dict[str, list[str]] = {}
    for column, name in mapping.fields.items():
        by_field.setdefault(name, []).append(column)
    for name, columns in by_field.items():
        if len(columns) > 1:
            raise MappingProblem(
                f"columns {', '.join(repr(c) for c in columns)} all map to field {name!r}; "
                "map one of them explicitly",
                [ErrorDetail("mapped twice", field=name)],
            )


def _check_required(entity: Entity, mapping: ColumnMapping, updating: bool) -> None:
    mapped = set(mapping.fields.values())
    if entity is Entity.CLIENTS and updating and mapped & {"phone", "email"}:
        return
    for name in REQUIRED[entity]:
        if name not in mapped:
            raise MappingProblem(
                f"no column gives the required field {name!r}; name a column with --map "
                f"'Column={name}'",
                [ErrorDetail("required", field=name)],
            )
    if entity in (Entity.DEALS, Entity.ORDERS) and not mapped & set(DEAL_CLIENT_KEYS):
        raise MappingProblem(
            f"{entity.value} need a column naming the client: client_id, phone or email",
            [ErrorDetail("required", field="client_id")],
        )
