"""Deals in bulk, one row per deal, with the stage history the funnel reads.

A deal is keyed by ``external_id`` (its id in the system it comes from, unique in the
workspace): a stored deal with that id is a duplicate and skipped, so re-importing a file
changes nothing. The client is found like an order's (id, phone, e-mail, within the
importer's scope); the owner is the row's, else the run's default, else the client's.

**Stage history.** ``stage_history`` lists the stages the deal went through, oldest first:
``New 2026-03-02 10:00; Qualified 03.03.2026 10:00; Won 2026-03-09 10:00`` (entries split by
``;`` or line breaks, each a stage name then a time, optionally joined by ``:``, ``@``,
``=`` or a dash). The history must be consistent or the row is reported: every stage one of
the deal's pipeline, times in order and not in the future, no entry repeating the stage
before it, the first entry at the deal's ``created_at`` (which it gives when blank) and the
last one in the deal's current ``stage`` (which it gives when blank). It is written as the
deal's ``deal_stage_change`` rows exactly — the first with no previous stage — so the funnel
counts an imported deal as it would one moved by hand. History is written once, with the
deal: it is append-only (and the analytics snapshot copies it incrementally), so a stored
deal's history is never rewritten by a later import.

Without a history the deal entered its current stage when it was created. A won or lost
deal is closed when it entered that stage (``closed_at``, when given, must fall on the same
day); a lost deal needs its ``lost_reason``, a won one may give ``won_reason`` (kept in the
deal's custom fields).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, text

from voronka.config import get_settings
from voronka.db.types import UTCDateTime, to_minor
from voronka.pipeline.models import Pipeline, Stage, StageKind
from voronka.transfer import cells
from voronka.transfer.bulk import fast, linking
from voronka.transfer.bulk.base import SAMPLE_ROWS, BatchResult, Context, prepared_of
from voronka.transfer.bulk.columns import Columns
from voronka.transfer.bulk.order_lines import money
from voronka.transfer.bulk.orders import FUTURE_TOLERANCE
from voronka.transfer.bulk.products import _currency
from voronka.transfer.bulk.staging import Encoded
from voronka.transfer.bulk.staging import Stage as StagingTable
from voronka.transfer.bulk.touchpoints import _stored_time, _whole
from voronka.transfer.lookups import Lookups
from voronka.transfer.mapping import ColumnMapping
from voronka.transfer.reading import SourceRow

MAX_HISTORY = 200
_ENTRY_SEPARATORS = re.compile(r"[;\n]+")
# a history entry: the stage name, an optional joiner, then an ISO or Russian date-time
_ENTRY = re.compile(
    r"(?P<stage>.+?)\s*[:@=—–-]?\s*"
    r"(?P<at>\d{4}-\d{2}-\d{2}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
    r"(?:Z|[+-]\d{2}:?\d{2})?|\d{2}\.\d{2}\.\d{4}(?: \d{1,2}:\d{2}(?::\d{2})?)?)$"
)
DEALS = StagingTable(
    "import_stage_deal",
    (
        ("row_no", "int"),
        ("external_id", "text"),
        ("title", "text"),
        ("client_id", "id"),
        ("phone", "text"),
        ("email", "text"),
        ("unknown_client", "bool"),
        ("pipeline_id", "id"),
        ("stage_id", "id"),
        ("status", "text"),
        ("owner_id", "id"),
        ("amount_minor", "int"),
        ("currency", "text"),
        ("channel_id", "id"),
        ("campaign_id", "id"),
        ("utm_source", "text"),
        ("utm_campaign", "text"),
        ("created_at", "time"),
        ("stage_entered_at", "time"),
        ("closed_at", "time"),
        ("lost_reason", "text"),
        ("custom_fields", "text"),
        ("outcome", "text"),
        ("deal_id", "id"),
    ),
)
HISTORY = StagingTable(
    "import_stage_deal_history",
    (
        ("row_no", "int"),
        ("step", "int"),
        ("from_stage_id", "id"),
        ("to_stage_id", "id"),
        ("changed_at", "time"),
    ),
)
_TAKE_TURNS = text("SELECT pg_advisory_xact_lock(hashtext('voronka.bulk_deals'), :ws)")
# stored deals with the row's external id: skipped (a join, not a subquery per row)
_MATCH = """UPDATE import_stage_deal SET deal_id = d.id, outcome = 'skip'
    FROM deal AS d
    WHERE d.workspace_id = :ws AND d.external_id = import_stage_deal.external_id"""
_STORED = """SELECT s.row_no, d.id, d.client_id, d.is_deleted
    FROM import_stage_deal s JOIN deal d ON d.id = s.deal_id"""
_INSERT = """INSERT INTO deal (workspace_id, title, client_id, pipeline_id, stage_id, status,
      owner_id, amount_minor, currency, channel_id, campaign_id, stage_entered_at, closed_at,
      expected_close_on, lost_reason, external_id, custom_fields, created_by_id, is_deleted,
      created_at, updated_at, version)
    SELECT :ws, s.title, s.client_id, s.pipeline_id, s.stage_id, s.status,
      coalesce(s.owner_id, :default_owner, c.owner_id), s.amount_minor, s.currency,
      s.channel_id, s.campaign_id, s.stage_entered_at, s.closed_at, NULL, s.lost_reason,
      s.external_id, {custom}, :by, false, s.created_at, :now, 1
    FROM import_stage_deal s JOIN client c ON c.id = s.client_id
    WHERE s.outcome = 'create' ORDER BY s.row_no"""
_NEW_IDS = """UPDATE import_stage_deal SET deal_id = d.id
    FROM deal AS d
    WHERE import_stage_deal.outcome = 'create' AND d.workspace_id = :ws
      AND d.external_id = import_stage_deal.external_id"""
# PostgreSQL writes the deals and their history in one statement: the history of a new deal
# finds it by its external id (unique in the batch and the workspace) among the rows the
# insert returns, instead of a second pass writing each new id into the staging table; the
# history's foreign key to the deal is checked when the statement ends
_INSERT_WITH_HISTORY_PG = """WITH created AS ({insert} RETURNING id, external_id)
    INSERT INTO deal_stage_change (workspace_id, deal_id, from_stage_id, to_stage_id,
      changed_at, changed_by_id)
    SELECT :ws, d.id, h.from_stage_id, h.to_stage_id, h.changed_at, :by
    FROM created d
    JOIN import_stage_deal s ON s.external_id = d.external_id AND s.outcome = 'create'
    JOIN import_stage_deal_history h ON h.row_no = s.row_no
    ORDER BY h.row_no, h.step"""
_INSERT_HISTORY = """INSERT INTO deal_stage_change (workspace_id, deal_id, from_stage_id,
      to_stage_id, changed_at, changed_by_id)
    SELECT :ws, s.deal_id, h.from_stage_id, h.to_stage_id, h.changed_at, :by
    FROM import_stage_deal_history h JOIN import_stage_deal s ON s.row_no = h.row_no
    WHERE s.outcome = 'create' ORDER BY h.row_no, h.step"""


@dataclass
class _Prepared:
    """A batch parsed ahead of its write: the rows to stage, their stage history, and both
    as PostgreSQL's COPY reads them."""

    columns: Columns
    kept: list[tuple[Any, ...]]
    history: list[tuple[Any, ...]]
    encoded: tuple[Encoded, Encoded] | None


class DealLoader:
    """Bulk writer of deal rows (with their stage history)."""

    resource = "deal"

    def __init__(self) -> None:
        # (pipeline, case-folded name) → stage or why not: histories repeat a few stages
        self._stages: dict[tuple[int, str | None], Stage | str] = {}

    def _stage(self, pipeline: Pipeline, name: str | None) -> Stage:
        """``Lookups.stage``, remembered."""
        key = (pipeline.id, name.casefold() if name else None)
        if key not in self._stages:
            try:
                self._stages[key] = Lookups.stage(pipeline, name)
            except ValueError as exc:
                self._stages[key] = str(exc)
        found = self._stages[key]
        if isinstance(found, str):
            raise ValueError(found)
        return found

    def parts(self, rows: list[SourceRow], mapping: ColumnMapping) -> list[list[SourceRow]]:
        return [rows]

    def prepare_ahead(self, mapping: ColumnMapping) -> bool:
        # parsing reads users, channels and pipelines (loaded with their stages once per
        # import), which an import of deals never changes
        return True

    def prepare(self, ctx: Context, rows: list[SourceRow]) -> _Prepared:
        """Parse and check the batch, and refuse an external id repeated in it (no writes)."""
        columns = Columns(rows, ctx.mapping)
        staged, history = self._prepare(ctx, columns)
        kept: list[tuple[Any, ...]] = []
        first: dict[str, int] = {}
        by_number = {row.number: i for i, row in enumerate(columns.rows)}
        for values in staged:
            row_no, external_id = values[0], values[1]
            if external_id in first:
                columns.fail(
                    by_number[row_no],
                    "external_id",
                    f"the same external id is on row {first[external_id]}",
                    external_id,
                )
                continue
            first[external_id] = row_no
            kept.append(values)
        kept_rows = set(first.values())
        steps = [h for h in history if h[0] in kept_rows]
        encoded = None if ctx.sqlite else (DEALS.encode(kept), HISTORY.encode(steps))
        return _Prepared(columns, kept, steps, encoded)

    def write(self, ctx: Context, rows: list[SourceRow]) -> BatchResult:
        ready: _Prepared = prepared_of(rows) or self.prepare(ctx, rows)
        columns, kept = ready.columns, ready.kept
        deals, steps = ready.encoded or (None, None)
        if not ctx.sqlite:
            ctx.conn.execute(_TAKE_TURNS, {"ws": ctx.actor.workspace_id})
        DEALS.reset(ctx.conn)
        HISTORY.reset(ctx.conn)
        DEALS.load(ctx.conn, kept, deals, analyzed=ctx.staged_shapes)
        HISTORY.load(ctx.conn, ready.history, steps, analyzed=ctx.staged_shapes)
        outcomes = self._decide(ctx, columns) if kept else {}
        params = {
            "ws": ctx.actor.workspace_id,
            "by": ctx.actor.user_id,
            "now": ctx.now,
            "default_owner": ctx.default_owner_id,
        }
        now = bindparam("now", type_=UTCDateTime())
        if not ctx.sqlite:
            insert = _INSERT.format(custom="CAST(s.custom_fields AS JSONB)")
            statement = _INSERT_WITH_HISTORY_PG.format(insert=insert)
            ctx.conn.execute(text(statement).bindparams(now), params)
        else:
            ctx.conn.execute(text(_INSERT.format(custom="s.custom_fields")).bindparams(now), params)
            ctx.conn.execute(text(_NEW_IDS), params)
            ctx.conn.execute(text(_INSERT_HISTORY), params)
        result = BatchResult(rows=len(rows))
        result.created = sum(1 for o in outcomes.values() if o == "create")
        result.duplicates = sum(1 for o in outcomes.values() if o == "skip")
        result.errors = {rows[i].number: e for i, e in columns.errors.items()}
        result.sample = [
            {
                "row": r.number,
                "outcome": "error"
                if r.number in result.errors
                else outcomes.get(r.number, "error"),
            }
            for r in rows[:SAMPLE_ROWS]
        ]
        return result

    def _decide(self, ctx: Context, columns: Columns) -> dict[int, str]:
        """create or skip per staged row; unknown or hidden clients and hidden or deleted
        stored deals become errors of the row."""
        linking.link(ctx, DEALS.name)
        problems = linking.client_problems(ctx, DEALS.name)
        ctx.conn.execute(text(_MATCH), {"ws": ctx.actor.workspace_id})
        stored = {r.row_no: r for r in ctx.conn.execute(text(_STORED))}
        visible = linking.visible_clients(ctx, {r.client_id for r in stored.values()})
        by_number = {row.number: i for i, row in enumerate(columns.rows)}
        outcomes: dict[int, str] = {}
        staged = list(ctx.conn.execute(text("SELECT row_no FROM import_stage_deal")).scalars())
        for row_no in staged:
            index, found = by_number[row_no], stored.get(row_no)
            if found is not None and (found.is_deleted or found.client_id not in visible):
                columns.fail(
                    index,
                    "external_id",
                    "a deal you may not see (or a deleted one) "
                    "has this external id; it was not changed",
                )
            elif found is not None:
                outcomes[row_no] = "skip"
            elif row_no in problems:
                columns.fail(index, *problems[row_no])
            else:
                outcomes[row_no] = "create"
        refused = [{"row": row_no} for row_no in staged if row_no not in outcomes]
        if refused:  # errors only: a statement per row is slow on a server
            ctx.conn.execute(
                text("UPDATE import_stage_deal SET outcome = 'error' WHERE row_no = :row"),
                refused,
            )
        return outcomes

    def _prepare(
        self, ctx: Context, columns: Columns
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        moment = lambda v: cells.moment(v, ctx.zone)  # noqa: E731
        external = columns.text("external_id", 128, required=True)
        titles = columns.text("title", 300, required=True)
        client_ids = columns.parse("client_id", _whole, once_per_value=True)
        phones = columns.parse(
            "phone", lambda v: fast.phone(cells.text(v), ctx.region), once_per_value=True
        )
        emails = columns.parse("email", lambda v: fast.email(cells.text(v)), once_per_value=True)
        pipelines = columns.parse("pipeline", lambda v: ctx.lookups.pipeline(cells.text(v)))
        stage_names = columns.text("stage", 200)
        amounts = columns.parse("amount", money, once_per_value=True)
        currencies = columns.parse("currency", _currency, once_per_value=True)
        owners = columns.parse(
            "owner", lambda v: ctx.lookups.user_id(cells.text(v)), once_per_value=True
        )
        channels = columns.parse(
            "source", lambda v: ctx.lookups.channel_id(cells.text(v)), once_per_value=True
        )
        utm_sources = columns.text("utm_source", 200)
        utm_campaigns = columns.text("utm_campaign", 200)
        created = columns.parse("created_at", moment)
        closed = columns.parse("closed_at", moment)
        lost_reasons = columns.text("lost_reason", 300)
        won_reasons = columns.text("won_reason", 300)
        histories = columns.parse("stage_history", lambda v: _entries(cells.text(v), ctx))
        currency = get_settings().default_currency
        staged: list[tuple[Any, ...]] = []
        changes: list[tuple[Any, ...]] = []
        for i, row in enumerate(columns.rows):
            owner = owners[i]
            if owner is not None and not columns.failed(i) and not ctx.owner_allowed(owner):
                columns.fail(i, "owner", "you may not give a deal to that owner")
            if columns.failed(i):
                continue
            try:
                pipeline = pipelines[i] or ctx.lookups.pipeline(None)
            except ValueError as exc:
                columns.fail(i, "pipeline", str(exc))
                continue
            path = _path(
                ctx, columns, i, pipeline, stage_names[i], histories[i], created[i], self._stage
            )
            if path is None:
                continue
            stage, entered = path[-1]
            closed_at = _closing(ctx, columns, i, stage, entered, closed[i])
            reasons = _reasons(columns, i, stage, lost_reasons[i], won_reasons[i])
            if columns.failed(i) or reasons is None:
                continue
            staged.append(
                (
                    row.number,
                    external[i],
                    titles[i],
                    client_ids[i],
                    phones[i],
                    emails[i],
                    False,
                    pipeline.id,
                    stage.id,
                    stage.kind.value,
                    owner,
                    to_minor(amounts[i] or 0),
                    currencies[i] or currency,
                    channels[i],
                    None,
                    utm_sources[i],
                    utm_campaigns[i],
                    _stored_time(ctx, path[0][1]),
                    _stored_time(ctx, entered),
                    _stored_time(ctx, closed_at) if closed_at else None,
                    reasons[0],
                    json.dumps(reasons[1], ensure_ascii=False),
                    "create",
                    None,
                )
            )
            changes.extend(
                (
                    row.number,
                    step,
                    path[step - 1][0].id if step else None,
                    stage_.id,
                    _stored_time(ctx, at),
                )
                for step, (stage_, at) in enumerate(path)
            )
        return staged, changes


def _entries(raw: str, ctx: Context) -> list[tuple[str, datetime]]:
    """``[(stage name, moment), …]`` of a ``stage_history`` cell (``ValueError`` names the
    entry that is not "stage, time")."""
    entries = []
    for part in _ENTRY_SEPARATORS.split(raw):
        part = part.strip()
        if not part:
            continue
        match = _ENTRY.fullmatch(part)
        if match is None:
            raise ValueError(f"{part!r} is not a stage followed by a date and time")
        entries.append((match["stage"].strip(), cells.moment(match["at"], ctx.zone)))
    if len(entries) > MAX_HISTORY:
        raise ValueError(f"at most {MAX_HISTORY} entries")
    return entries


def _path(
    ctx: Context,
    columns: Columns,
    i: int,
    pipeline: Pipeline,
    stage_name: str | None,
    history: list[tuple[str, datetime]] | None,
    created_at: datetime | None,
    stage_of: Callable[[Pipeline, str | None], Stage],
) -> list[tuple[Stage, datetime]] | None:
    """The deal's stages with the moments it entered them, checked; ``None`` after an error."""
    try:
        current = stage_of(pipeline, stage_name) if stage_name or not history else None
    except ValueError as exc:
        columns.fail(i, "stage", str(exc), stage_name)
        return None
    if not history:
        assert current is not None
        return [(current, created_at or ctx.now)]
    path: list[tuple[Stage, datetime]] = []
    for name, at in history:
        try:
            stage = stage_of(pipeline, name)
        except ValueError as exc:
            return _refuse(columns, i, "stage_history", f"{name}: {exc}")
        if path and at < path[-1][1]:
            return _refuse(
                columns,
                i,
                "stage_history",
                f"{name} at {at:%Y-%m-%d %H:%M} UTC is before the entry before it",
            )
        if path and stage.id == path[-1][0].id:
            return _refuse(columns, i, "stage_history", f"{name} follows itself")
        path.append((stage, at))
    if max(at for _, at in path) > ctx.now + FUTURE_TOLERANCE:
        return _refuse(columns, i, "stage_history", "an entry is in the future")
    if current is not None and current.id != path[-1][0].id:
        return _refuse(
            columns,
            i,
            "stage_history",
            f"ends in {path[-1][0].name}, but the deal's stage is {current.name}",
        )
    if created_at is not None and created_at != path[0][1]:
        return _refuse(
            columns,
            i,
            "created_at",
            "the stage history starts at "
            f"{path[0][1]:%Y-%m-%d %H:%M} UTC: a deal enters its first stage when "
            "it is created",
        )
    return path


def _refuse(columns: Columns, i: int, field: str, message: str) -> Any:
    """Record the row's error; ``None``, for ``return _refuse(…)`` in the checks."""
    columns.fail(i, field, message)
    return None


def _closing(
    ctx: Context,
    columns: Columns,
    i: int,
    stage: Stage,
    entered: datetime,
    given: datetime | None,
) -> datetime | None:
    """When the deal closed: when it entered its won or lost stage."""
    if stage.kind is StageKind.OPEN:
        if given is not None:
            columns.fail(i, "closed_at", "an open deal has no closing date")
        return None
    if (
        given is not None
        and given.astimezone(ctx.zone).date() != entered.astimezone(ctx.zone).date()
    ):
        columns.fail(
            i,
            "closed_at",
            f"the deal entered {stage.name} on {entered.astimezone(ctx.zone):%Y-%m-%d}",
        )
    return entered


def _reasons(
    columns: Columns, i: int, stage: Stage, lost: str | None, won: str | None
) -> tuple[str | None, dict[str, str]] | None:
    """(lost_reason, custom fields) of the deal, as the deal service keeps them."""
    if stage.kind is StageKind.LOST and not lost:
        return _refuse(columns, i, "lost_reason", "required for a lost deal")
    if stage.kind is not StageKind.LOST and lost:
        return _refuse(columns, i, "lost_reason", "only a lost deal has a lost reason")
    if stage.kind is not StageKind.WON and won:
        return _refuse(columns, i, "won_reason", "only a won deal has a won reason")
    return lost, ({"won_reason": won} if won else {})
