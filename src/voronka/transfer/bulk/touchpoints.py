"""Touchpoints in bulk: visits, ad clicks, calls, forms… linked to clients and campaigns.

A row is linked to a client by ``client_id`` or by a phone or e-mail a stored client holds,
and to a campaign by its UTM values (``utm_campaign``, and ``utm_source`` when both sides
have one, compared case-insensitively); the channel comes from the row or the campaign. A
row equal to a stored touchpoint (same time, kind, visitor and client) is a duplicate, so
re-importing a file adds nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from voronka.campaign.models import TouchpointKind
from voronka.transfer import cells
from voronka.transfer.bulk import fast
from voronka.transfer.bulk.base import SAMPLE_ROWS, BatchResult, Context
from voronka.transfer.bulk.columns import Columns
from voronka.transfer.bulk.staging import Stage
from voronka.transfer.mapping import ColumnMapping
from voronka.transfer.options import OnDuplicate
from voronka.transfer.reading import SourceRow

MAX_COUNT = 10_000_000
KIND_WORDS = {
    **{kind.value.replace("_", ""): kind for kind in TouchpointKind},
    "click": TouchpointKind.AD_CLICK,
    "клик": TouchpointKind.AD_CLICK,
    "визит": TouchpointKind.VISIT,
    "посещение": TouchpointKind.VISIT,
    "звонок": TouchpointKind.CALL,
    "форма": TouchpointKind.FORM,
    "заявка": TouchpointKind.FORM,
    "письмо": TouchpointKind.EMAIL_CLICK,
    "офлайн": TouchpointKind.OFFLINE,
}
STAGE = Stage(
    "import_stage_touchpoint",
    (
        ("row_no", "int"),
        ("visitor_id", "text"),
        ("client_id", "id"),
        ("phone", "text"),
        ("email", "text"),
        ("kind", "text"),
        ("occurred_at", "time"),
        ("channel_id", "id"),
        ("campaign_id", "id"),
        ("utm_source", "text"),
        ("utm_medium", "text"),
        ("utm_campaign", "text"),
        ("referrer", "text"),
        ("landing_page", "text"),
        ("pages", "int"),
        ("seconds_on_site", "int"),
        ("unknown_client", "bool"),
        ("duplicate", "bool"),
    ),
)
_STATEMENTS = [
    # a client named by id must exist in the workspace
    """UPDATE import_stage_touchpoint SET unknown_client = true
       WHERE client_id IS NOT NULL AND NOT EXISTS (
         SELECT 1 FROM client c WHERE c.id = import_stage_touchpoint.client_id
           AND c.workspace_id = :ws AND c.is_deleted = false)""",
    """UPDATE import_stage_touchpoint SET client_id = (
         SELECT min(cp.client_id) FROM contact_point cp
         JOIN client c ON c.id = cp.client_id AND c.is_deleted = false
         WHERE cp.workspace_id = :ws AND cp.kind = 'phone'
           AND cp.value = import_stage_touchpoint.phone)
       WHERE client_id IS NULL AND phone IS NOT NULL""",
    """UPDATE import_stage_touchpoint SET client_id = (
         SELECT min(cp.client_id) FROM contact_point cp
         JOIN client c ON c.id = cp.client_id AND c.is_deleted = false
         WHERE cp.workspace_id = :ws AND cp.kind = 'email'
           AND cp.value = import_stage_touchpoint.email)
       WHERE client_id IS NULL AND email IS NOT NULL""",
    """UPDATE import_stage_touchpoint SET campaign_id = (
         SELECT min(c.id) FROM campaign c
         WHERE c.workspace_id = :ws
           AND lower(c.utm_campaign) = lower(import_stage_touchpoint.utm_campaign)
           AND (c.utm_source IS NULL OR import_stage_touchpoint.utm_source IS NULL
                OR lower(c.utm_source) = lower(import_stage_touchpoint.utm_source)))
       WHERE utm_campaign IS NOT NULL""",
    """UPDATE import_stage_touchpoint SET channel_id = (
         SELECT c.channel_id FROM campaign c WHERE c.id = import_stage_touchpoint.campaign_id)
       WHERE channel_id IS NULL AND campaign_id IS NOT NULL""",
]
_DUPLICATES = """UPDATE import_stage_touchpoint SET duplicate = true WHERE EXISTS (
      SELECT 1 FROM touchpoint t
      WHERE t.workspace_id = :ws AND t.occurred_at = import_stage_touchpoint.occurred_at
        AND t.kind = import_stage_touchpoint.kind
        AND coalesce(t.visitor_id, '') = coalesce(import_stage_touchpoint.visitor_id, '')
        AND coalesce(t.client_id, 0) = coalesce(import_stage_touchpoint.client_id, 0))"""
_INSERT = """INSERT INTO touchpoint (workspace_id, visitor_id, client_id, kind, occurred_at,
      channel_id, campaign_id, utm_source, utm_medium, utm_campaign, referrer, landing_page,
      pages, seconds_on_site)
    SELECT :ws, visitor_id, client_id, kind, occurred_at, channel_id, campaign_id, utm_source,
      utm_medium, utm_campaign, referrer, landing_page, pages, seconds_on_site
    FROM import_stage_touchpoint
    WHERE duplicate = false AND unknown_client = false ORDER BY row_no"""


class TouchpointLoader:
    """Bulk writer of touchpoint rows."""

    resource = "touchpoint"

    def parts(self, rows: list[SourceRow], mapping: ColumnMapping) -> list[list[SourceRow]]:
        return [rows]

    def write(self, ctx: Context, rows: list[SourceRow]) -> BatchResult:
        columns = Columns(rows, ctx.mapping)
        staged = self._prepare(ctx, columns)
        result = BatchResult(rows=len(rows))
        seen: set[tuple[Any, ...]] = set()
        kept: list[tuple[Any, ...]] = []
        in_file: set[int] = set()
        for values in staged:
            key = (values[1], values[2], values[3], values[4], values[5], values[6])
            if key in seen and ctx.on_duplicate is not OnDuplicate.CREATE:
                in_file.add(values[0])
                continue
            seen.add(key)
            kept.append(values)
        STAGE.reset(ctx.conn)
        STAGE.load(ctx.conn, kept)
        ws = {"ws": ctx.actor.workspace_id}
        for statement in _STATEMENTS:
            ctx.conn.execute(text(statement), ws)
        if ctx.on_duplicate is not OnDuplicate.CREATE:
            ctx.conn.execute(text(_DUPLICATES), ws)
        flags = {
            row_no: (bool(unknown), bool(duplicate))
            for row_no, unknown, duplicate in ctx.conn.execute(
                text("SELECT row_no, unknown_client, duplicate FROM import_stage_touchpoint "
                     "WHERE unknown_client = true OR duplicate = true")
            )
        }
        by_number = {row.number: i for i, row in enumerate(rows)}
        for row_no, (unknown, duplicate) in flags.items():
            if unknown:
                columns.fail(by_number[row_no], "client_id", "no client with this id")
            elif duplicate:
                in_file.add(row_no)
        result.created = ctx.conn.execute(text(_INSERT), ws).rowcount
        result.duplicates = len(in_file)
        result.errors = {rows[i].number: e for i, e in columns.errors.items()}
        result.sample = [
            {"row": r.number, "outcome": "error" if r.number in result.errors
             else "duplicate" if r.number in in_file else "create"}
            for r in rows[:SAMPLE_ROWS]
        ]
        return result

    def _prepare(self, ctx: Context, columns: Columns) -> list[tuple[Any, ...]]:
        moments = columns.parse("occurred_at", lambda v: cells.moment(v, ctx.zone))
        for index, moment in enumerate(moments):
            if moment is None and not columns.failed(index):
                columns.fail(index, "occurred_at", "required")
        kinds = columns.parse("kind", _kind)
        visitors = columns.text("visitor_id", 64)
        client_ids = columns.parse("client_id", _whole)
        phones = columns.parse("phone", lambda v: fast.phone(cells.text(v), ctx.region))
        emails = columns.parse("email", lambda v: fast.email(cells.text(v)))
        channels = columns.parse("source", lambda v: ctx.lookups.channel_id(cells.text(v)))
        utm = {f: columns.text(f, 200) for f in ("utm_source", "utm_medium", "utm_campaign")}
        referrers = columns.text("referrer", 1000)
        landings = columns.text("landing_page", 1000)
        pages = columns.parse("pages", _count)
        seconds = columns.parse("seconds_on_site", _count)
        staged: list[tuple[Any, ...]] = []
        for i, row in enumerate(columns.rows):
            if columns.failed(i):
                continue
            staged.append((
                row.number, visitors[i], client_ids[i], phones[i], emails[i],
                (kinds[i] or TouchpointKind.VISIT).value, _stored_time(ctx, moments[i]),
                channels[i], None, utm["utm_source"][i], utm["utm_medium"][i],
                utm["utm_campaign"][i], referrers[i], landings[i], pages[i] or 0,
                seconds[i] or 0, False, False,
            ))
        return staged


def _stored_time(ctx: Context, moment: datetime | None) -> Any:
    """A UTC instant as the driver stores it (naive UTC text on SQLite, as the ORM does)."""
    assert moment is not None
    if ctx.sqlite:
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return moment


def _kind(value: object) -> TouchpointKind:
    word = cells.text(value).casefold().replace(" ", "").replace("_", "").replace("-", "")  # type: ignore[arg-type]
    if word not in KIND_WORDS:
        raise ValueError(f"kind must be one of {', '.join(k.value for k in TouchpointKind)}")
    return KIND_WORDS[word]


def _whole(value: object) -> int:
    raw = cells.text(value)  # type: ignore[arg-type]
    if not raw.isdigit() or len(raw) > 18:
        raise ValueError("must be a whole number")
    return int(raw)


def _count(value: object) -> int:
    number = _whole(value)
    if number > MAX_COUNT:
        raise ValueError(f"at most {MAX_COUNT}")
    return number
