"""Touchpoints in bulk: visits, ad clicks, calls, forms… linked to clients and campaigns.

A row is linked to a client by ``client_id`` or by a phone or e-mail a stored client holds,
and to a campaign by its UTM values (``utm_campaign``, and ``utm_source`` when both sides
have one, compared case-insensitively); the channel comes from the row or the campaign. A
row equal to a stored touchpoint (same time, kind, visitor and client) is a duplicate, so
re-importing a file adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from voronka.campaign.models import TouchpointKind
from voronka.transfer import cells
from voronka.transfer.bulk import fast
from voronka.transfer.bulk.base import SAMPLE_ROWS, BatchResult, Context, prepared_of
from voronka.transfer.bulk.columns import Columns
from voronka.transfer.bulk.matching import CLIENT_COLUMNS, client_joins
from voronka.transfer.bulk.staging import Encoded, Stage
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
        ("utm_source", "text"),
        ("utm_medium", "text"),
        ("utm_campaign", "text"),
        ("referrer", "text"),
        ("landing_page", "text"),
        ("pages", "int"),
        ("seconds_on_site", "int"),
    ),
    indexed=False,
)
# Every staged row matched in one pass of joins: the client named by id must exist in the
# workspace, else the client holding the row's phone, else its e-mail; the campaign by UTM
# values (case-insensitive; utm_source compared when both sides have one); the channel from
# the row, else the campaign. ``duplicate``: a stored touchpoint with the same time, kind,
# visitor and client.
_MATCHED = f"""
  m AS (
    SELECT s.row_no, s.visitor_id, s.kind, s.occurred_at, s.utm_source, s.utm_medium,
      s.utm_campaign, s.referrer, s.landing_page, s.pages, s.seconds_on_site,
      {CLIENT_COLUMNS},
      cm.id AS campaign_id, coalesce(s.channel_id, cm.channel_id) AS channel_id
    FROM import_stage_touchpoint s{client_joins("import_stage_touchpoint")}
    LEFT JOIN (
      SELECT s2.row_no, min(c.id) AS id
      FROM import_stage_touchpoint s2 JOIN campaign c ON c.workspace_id = :ws
        AND lower(c.utm_campaign) = lower(s2.utm_campaign)
        AND (c.utm_source IS NULL OR s2.utm_source IS NULL
             OR lower(c.utm_source) = lower(s2.utm_source))
      GROUP BY s2.row_no) found ON found.row_no = s.row_no
    LEFT JOIN campaign cm ON cm.id = found.id
  ),
  f AS (
    SELECT m.*, {{duplicate}} AS duplicate FROM m
  )"""  # noqa: S608 - table names are ours
#: the columns of ``touchpoint`` the duplicate probe looks at (``Context.wrote_into``)
_LOOKED_UP = ("workspace_id", "occurred_at", "kind", "visitor_id", "client_id")
# a correlated probe of the (workspace, time) index per row, never a hash of every stored
# touchpoint of the workspace (which the planner picks on stale statistics: quadratic)
_DUPLICATE = """CASE WHEN m.unknown_client = 0 AND (
      SELECT 1 FROM touchpoint t
      WHERE t.workspace_id = :ws AND t.occurred_at = m.occurred_at AND t.kind = m.kind
        AND coalesce(t.visitor_id, '') = coalesce(m.visitor_id, '')
        AND coalesce(t.client_id, 0) = coalesce(m.client_id, 0) LIMIT 1) IS NOT NULL
      THEN 1 ELSE 0 END"""
_INSERT = """INSERT INTO touchpoint (workspace_id, visitor_id, client_id, kind, occurred_at,
      channel_id, campaign_id, utm_source, utm_medium, utm_campaign, referrer, landing_page,
      pages, seconds_on_site)
    SELECT :ws, visitor_id, client_id, kind, occurred_at, channel_id, campaign_id, utm_source,
      utm_medium, utm_campaign, referrer, landing_page, pages, seconds_on_site
    FROM f WHERE duplicate = 0 AND unknown_client = 0 ORDER BY row_no"""
_FLAGGED = "SELECT row_no, unknown_client FROM f WHERE unknown_client = 1 OR duplicate = 1"


@dataclass
class _Prepared:
    columns: Columns
    kept: list[tuple[Any, ...]]
    in_file: set[int]
    encoded: Encoded | None  # ``kept`` as PostgreSQL's COPY reads it


class TouchpointLoader:
    """Bulk writer of touchpoint rows."""

    resource = "touchpoint"

    def parts(self, rows: list[SourceRow], mapping: ColumnMapping) -> list[list[SourceRow]]:
        return [rows]

    def prepare_ahead(self, mapping: ColumnMapping) -> bool:
        return True  # prepare reads only users and channels, which an import never changes

    def prepare(self, ctx: Context, rows: list[SourceRow]) -> _Prepared:
        """Parse and check the batch, and drop rows repeated in it (no database writes)."""
        columns = Columns(rows, ctx.mapping)
        staged = self._parse(ctx, columns)
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
        return _Prepared(columns, kept, in_file, None if ctx.sqlite else STAGE.encode(kept))

    def write(self, ctx: Context, rows: list[SourceRow]) -> BatchResult:
        ready = prepared_of(rows) or self.prepare(ctx, rows)
        columns, in_file = ready.columns, set(ready.in_file)
        STAGE.reset(ctx.conn)
        STAGE.load(ctx.conn, ready.kept, ready.encoded, analyzed=ctx.staged_shapes)
        duplicate = "0" if ctx.on_duplicate is OnDuplicate.CREATE else _DUPLICATE
        matched = _MATCHED.format(duplicate=duplicate)
        ws = {"ws": ctx.actor.workspace_id}
        if ctx.sqlite:  # no INSERT inside WITH: the matching is run twice
            flagged = ctx.conn.execute(text(f"WITH {matched} {_FLAGGED}"), ws).all()
            ctx.conn.execute(text(f"WITH {matched} {_INSERT}"), ws)
        else:
            flagged = ctx.conn.execute(
                text(f"WITH {matched}, written AS ({_INSERT}) {_FLAGGED}"), ws
            ).all()
        index_of = {number: i for i, number in enumerate(columns.numbers)}
        for row_no, unknown in flagged:
            if unknown:
                columns.fail(index_of[row_no], "client_id", "no client with this id")
            else:
                in_file.add(row_no)
        ctx.wrote_into("touchpoint", _LOOKED_UP)
        result = BatchResult(rows=len(columns))
        result.created = len(ready.kept) - len(flagged)
        result.duplicates = len(in_file)
        result.errors = {columns.numbers[i]: e for i, e in columns.errors.items()}
        result.sample = [
            {
                "row": n,
                "outcome": "error"
                if n in result.errors
                else "duplicate"
                if n in in_file
                else "create",
            }
            for n in columns.numbers[:SAMPLE_ROWS]
        ]
        return result

    def _parse(self, ctx: Context, columns: Columns) -> list[tuple[Any, ...]]:
        moments = columns.parse("occurred_at", fast.Moments(ctx.zone))
        for index, moment in enumerate(moments):
            if moment is None and not columns.failed(index):
                columns.fail(index, "occurred_at", "required")
        kinds = columns.parse("kind", _kind, once_per_value=True)
        visitors = columns.text("visitor_id", 64)
        client_ids = columns.parse("client_id", _whole, once_per_value=True)
        phones = columns.parse(
            "phone", lambda v: fast.phone(cells.text(v), ctx.region), once_per_value=True
        )
        emails = columns.parse("email", lambda v: fast.email(cells.text(v)), once_per_value=True)
        channels = columns.parse(
            "source", lambda v: ctx.lookups.channel_id(cells.text(v)), once_per_value=True
        )
        utm = {f: columns.text(f, 200) for f in ("utm_source", "utm_medium", "utm_campaign")}
        referrers = columns.text("referrer", 1000)
        landings = columns.text("landing_page", 1000)
        pages = columns.parse("pages", _count, once_per_value=True)
        seconds = columns.parse("seconds_on_site", _count, once_per_value=True)
        staged: list[tuple[Any, ...]] = []
        stored_time = _time_for(ctx)
        failed = columns.errors
        for i, number in enumerate(columns.numbers):
            if i in failed:
                continue
            kind = kinds[i]
            staged.append(
                (
                    number,
                    visitors[i],
                    client_ids[i],
                    phones[i],
                    emails[i],
                    kind.value if kind is not None else _VISIT,
                    stored_time(moments[i]),
                    channels[i],
                    utm["utm_source"][i],
                    utm["utm_medium"][i],
                    utm["utm_campaign"][i],
                    referrers[i],
                    landings[i],
                    pages[i] or 0,
                    seconds[i] or 0,
                )
            )
        return staged


_VISIT = TouchpointKind.VISIT.value


def _time_for(ctx: Context) -> Any:
    """How this store takes a UTC instant: the driver's own on PostgreSQL."""
    if ctx.sqlite:
        return lambda moment: _stored_time(ctx, moment)
    return lambda moment: moment


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
