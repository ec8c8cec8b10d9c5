"""What the order and deal loaders share: the client a staged row names, its campaign by UTM
values, and the values every row of a group (an order's lines) must agree on.

The statements run over a staging table with the columns ``row_no``, ``client_id``,
``phone``, ``email``, ``unknown_client``, ``utm_source``, ``utm_campaign``, ``campaign_id``
and ``channel_id``; the table name is ours, never the file's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import text

from voronka.access.policy import Scope
from voronka.transfer.bulk.activities import NO_CLIENT
from voronka.transfer.bulk.base import Context
from voronka.transfer.bulk.clients import ClientLoader
from voronka.transfer.bulk.columns import Columns

UNKNOWN_ID = "no client with this id"
# one join for the whole batch (a correlated subquery per row is several times slower on
# PostgreSQL); CROSS JOIN keeps SQLite's join order: the staging table outside
_BY_CONTACT = """UPDATE {table} SET client_id = m.client_id
    FROM (SELECT s.row_no, min(cp.client_id) AS client_id
          FROM {table} AS s CROSS JOIN contact_point AS cp CROSS JOIN client AS c
          WHERE s.client_id IS NULL AND cp.workspace_id = :ws AND cp.kind = '{kind}'
            AND cp.value = s.{kind} AND c.id = cp.client_id AND c.is_deleted = false
          GROUP BY s.row_no) AS m
    WHERE m.row_no = {table}.row_no"""
_UNKNOWN_ID = """UPDATE {table} SET unknown_client = true
    WHERE client_id IS NOT NULL AND NOT EXISTS (
      SELECT 1 FROM client c WHERE c.id = {table}.client_id
        AND c.workspace_id = :ws AND c.is_deleted = false)"""
_CAMPAIGN = """UPDATE {table} SET campaign_id = (
      SELECT min(c.id) FROM campaign c
      WHERE c.workspace_id = :ws AND lower(c.utm_campaign) = lower({table}.utm_campaign)
        AND (c.utm_source IS NULL OR {table}.utm_source IS NULL
             OR lower(c.utm_source) = lower({table}.utm_source)))
    WHERE utm_campaign IS NOT NULL"""
_CHANNEL = """UPDATE {table} SET channel_id = (
      SELECT c.channel_id FROM campaign c WHERE c.id = {table}.campaign_id)
    WHERE channel_id IS NULL AND campaign_id IS NOT NULL"""


def link(ctx: Context, table: str) -> None:
    """Clients by id (unknown ids flagged), else phone, else e-mail; campaigns by UTM."""
    for statement in (
        _UNKNOWN_ID,
        _BY_CONTACT.replace("{kind}", "phone"),
        _BY_CONTACT.replace("{kind}", "email"),
        _CAMPAIGN,
        _CHANNEL,
    ):
        ctx.conn.execute(text(statement.format(table=table)), {"ws": ctx.actor.workspace_id})


def client_problems(ctx: Context, table: str) -> dict[int, tuple[str, str]]:
    """Staged rows whose client is unknown, outside the importer's scope or not named:
    row → (field, message). Records attached to a client are visible exactly when it is."""
    found = ctx.conn.execute(
        text(
            f"SELECT row_no, client_id, unknown_client, phone, email FROM {table}"  # noqa: S608
        )
    ).all()
    visible = visible_clients(
        ctx, {r.client_id for r in found if r.client_id is not None and not r.unknown_client}
    )
    problems: dict[int, tuple[str, str]] = {}
    for row in found:
        if row.unknown_client:
            problems[row.row_no] = ("client_id", UNKNOWN_ID)
        elif row.client_id is None or row.client_id not in visible:
            named_by = "phone" if row.phone else "email" if row.email else "client_id"
            problems[row.row_no] = (named_by, NO_CLIENT)
    return problems


def visible_clients(ctx: Context, ids: set[int]) -> set[int]:
    """Those of ``ids`` within the importer's scope."""
    return ids if ctx.scope is Scope.ALL else ClientLoader._visible(ctx, ids)


def agreed(columns: Columns, group: Sequence[int], field: str, values: Sequence[Any]) -> Any:
    """The one value the rows ``group`` (batch indices) give for ``field``; blanks inherit,
    a different value is an error of its row."""
    chosen, first = None, 0
    for index in group:
        value = values[index]
        if value is None:
            continue
        if chosen is None:
            chosen, first = value, index
        elif value != chosen:
            columns.fail(
                index,
                field,
                f"differs from row {columns.rows[first].number} of the same record",
                str(value),
            )
    return chosen
