"""Activities in bulk: calls, e-mails, meetings, messages, notes and tasks of clients.

The client is named by ``client_id``, phone or e-mail and must be within the importer's
scope (an activity is visible exactly when its client is); only a role with company-wide
scope may import activities without a client. A row with the ``external_id`` of a stored
activity of the same kind — or, without one, the same kind, time, client and subject — is a
duplicate, so re-importing a file adds nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, text

from voronka.access.policy import Scope
from voronka.access.scope import visible_client_ids
from voronka.activity.models import ActivityKind, CallStatus, Direction
from voronka.db.types import UTCDateTime
from voronka.transfer import cells
from voronka.transfer.bulk import fast
from voronka.transfer.bulk.base import SAMPLE_ROWS, BatchResult, Context
from voronka.transfer.bulk.columns import Columns
from voronka.transfer.bulk.staging import Stage
from voronka.transfer.bulk.touchpoints import _stored_time, _whole
from voronka.transfer.mapping import ColumnMapping
from voronka.transfer.options import OnDuplicate
from voronka.transfer.reading import SourceRow

MAX_SECONDS = 10_000_000
KIND_WORDS = {
    **{k.value: k for k in ActivityKind},
    "звонок": ActivityKind.CALL, "письмо": ActivityKind.EMAIL, "встреча": ActivityKind.MEETING,
    "сообщение": ActivityKind.MESSAGE, "заметка": ActivityKind.NOTE, "задача": ActivityKind.TASK,
}
DIRECTION_WORDS = {**{d.value: d for d in Direction}, "входящий": Direction.INBOUND,
                   "исходящий": Direction.OUTBOUND}
STATUS_WORDS = {**{s.value: s for s in CallStatus}, "отвечен": CallStatus.ANSWERED,
                "пропущен": CallStatus.MISSED, "занято": CallStatus.BUSY}
STAGE = Stage(
    "import_stage_activity",
    (
        ("row_no", "int"), ("kind", "text"), ("occurred_at", "time"), ("client_id", "id"),
        ("phone", "text"), ("email", "text"), ("owner_id", "id"), ("subject", "text"),
        ("body", "text"), ("external_id", "text"), ("direction", "text"),
        ("call_status", "text"), ("wait_seconds", "int"), ("talk_seconds", "int"),
        ("due_at", "time"), ("unknown_client", "bool"), ("duplicate", "bool"),
    ),
)
_LINK = [
    """UPDATE import_stage_activity SET unknown_client = true
       WHERE client_id IS NOT NULL AND NOT EXISTS (
         SELECT 1 FROM client c WHERE c.id = import_stage_activity.client_id
           AND c.workspace_id = :ws AND c.is_deleted = false)""",
    """UPDATE import_stage_activity SET client_id = (
         SELECT min(cp.client_id) FROM contact_point cp
         JOIN client c ON c.id = cp.client_id AND c.is_deleted = false
         WHERE cp.workspace_id = :ws AND cp.kind = 'phone'
           AND cp.value = import_stage_activity.phone)
       WHERE client_id IS NULL AND phone IS NOT NULL""",
    """UPDATE import_stage_activity SET client_id = (
         SELECT min(cp.client_id) FROM contact_point cp
         JOIN client c ON c.id = cp.client_id AND c.is_deleted = false
         WHERE cp.workspace_id = :ws AND cp.kind = 'email'
           AND cp.value = import_stage_activity.email)
       WHERE client_id IS NULL AND email IS NOT NULL""",
]
_DUPLICATES = """UPDATE import_stage_activity SET duplicate = true WHERE EXISTS (
      SELECT 1 FROM activity a
      WHERE a.workspace_id = :ws AND a.kind = import_stage_activity.kind AND (
        (import_stage_activity.external_id IS NOT NULL
         AND a.external_id = import_stage_activity.external_id)
        OR (import_stage_activity.external_id IS NULL
            AND a.occurred_at = import_stage_activity.occurred_at
            AND coalesce(a.client_id, 0) = coalesce(import_stage_activity.client_id, 0)
            AND coalesce(a.subject, '') = coalesce(import_stage_activity.subject, ''))))"""
_INSERT = text(
    """INSERT INTO activity (workspace_id, kind, client_id, owner_id, subject, body,
         occurred_at, external_id, direction, call_status, wait_seconds, talk_seconds, due_at,
         is_deleted, created_at, updated_at, version)
       SELECT :ws, kind, client_id, owner_id, subject, body, occurred_at, external_id,
         direction, call_status, wait_seconds, talk_seconds, due_at, false, :now, :now, 1
       FROM import_stage_activity
       WHERE duplicate = false AND unknown_client = false ORDER BY row_no"""
).bindparams(bindparam("now", type_=UTCDateTime()))
NO_CLIENT = "name the client (client_id, phone or e-mail of a client you may see)"


class ActivityLoader:
    """Bulk writer of activity rows."""

    resource = "activity"

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
            key = (values[1], values[9]) if values[9] else (values[1], values[2], values[3],
                                                              values[4], values[5], values[7])
            if key in seen and ctx.on_duplicate is not OnDuplicate.CREATE:
                in_file.add(values[0])
                continue
            seen.add(key)
            kept.append(values)
        STAGE.reset(ctx.conn)
        STAGE.load(ctx.conn, kept)
        ws = {"ws": ctx.actor.workspace_id}
        for statement in _LINK:
            ctx.conn.execute(text(statement), ws)
        by_number = {row.number: i for i, row in enumerate(rows)}
        self._check_scope(ctx, columns, by_number)
        if ctx.on_duplicate is not OnDuplicate.CREATE:
            ctx.conn.execute(text(_DUPLICATES), ws)
        in_file |= set(ctx.conn.execute(text(
            "SELECT row_no FROM import_stage_activity WHERE duplicate = true")).scalars())
        result.created = ctx.conn.execute(_INSERT, {**ws, "now": ctx.now}).rowcount
        result.duplicates = len(in_file)
        result.errors = {rows[i].number: e for i, e in columns.errors.items()}
        result.sample = [
            {"row": r.number, "outcome": "error" if r.number in result.errors
             else "duplicate" if r.number in in_file else "create"}
            for r in rows[:SAMPLE_ROWS]
        ]
        return result

    @staticmethod
    def _check_scope(ctx: Context, columns: Columns, by_number: dict[int, int]) -> None:
        """Unknown clients, clients outside the scope and missing clients become errors."""
        found = ctx.conn.execute(text(
            "SELECT row_no, client_id, unknown_client FROM import_stage_activity")).all()
        ids = {client for _, client, unknown in found if client is not None and not unknown}
        visible = ids
        if ctx.scope is not Scope.ALL and ids:
            query = visible_client_ids(ctx.actor, ctx.scope)
            visible = set(ctx.session.scalars(
                query.where(query.selected_columns[0].in_(sorted(ids)))))
        refused = []
        for row_no, client, unknown in found:
            if unknown:
                columns.fail(by_number[row_no], "client_id", "no client with this id")
            elif (client is None and ctx.scope is not Scope.ALL) or (
                client is not None and client not in visible
            ):
                columns.fail(by_number[row_no], "client_id", NO_CLIENT)
                refused.append(row_no)
        if refused:
            ctx.conn.execute(
                text("UPDATE import_stage_activity SET unknown_client = true WHERE row_no = :n"),
                [{"n": n} for n in refused],
            )

    def _prepare(self, ctx: Context, columns: Columns) -> list[tuple[Any, ...]]:
        kinds = columns.parse("kind", lambda v: _word(v, KIND_WORDS, "kind"))
        moments = columns.parse("occurred_at", lambda v: cells.moment(v, ctx.zone))
        client_ids = columns.parse("client_id", _whole)
        phones = columns.parse("phone", lambda v: fast.phone(cells.text(v), ctx.region))
        emails = columns.parse("email", lambda v: fast.email(cells.text(v)))
        owners = columns.parse("owner", lambda v: ctx.lookups.user_id(cells.text(v)))
        subjects = columns.text("subject", 300)
        bodies = columns.text("body", 100_000)
        external = columns.text("external_id", 128)
        directions = columns.parse("direction", lambda v: _word(v, DIRECTION_WORDS, "direction"))
        statuses = columns.parse("call_status", lambda v: _word(v, STATUS_WORDS, "call_status"))
        waits = columns.parse("wait_seconds", _seconds)
        talks = columns.parse("talk_seconds", _seconds)
        dues = columns.parse("due_at", lambda v: cells.moment(v, ctx.zone))
        staged: list[tuple[Any, ...]] = []
        for i, row in enumerate(columns.rows):
            for field, value in (("kind", kinds[i]), ("occurred_at", moments[i])):
                if value is None and not columns.failed(i):
                    columns.fail(i, field, "required")
            owner_id = owners[i] or ctx.default_owner_id
            if not columns.failed(i) and not ctx.owner_allowed(owner_id):
                columns.fail(i, "owner" if owners[i] else None,
                             "you may not give an activity to that owner")
            if columns.failed(i):
                continue
            kind, direction, status, due = kinds[i], directions[i], statuses[i], dues[i]
            assert kind is not None  # a row without a kind failed above
            staged.append((
                row.number, kind.value, _stored_time(ctx, moments[i]), client_ids[i],
                phones[i], emails[i], owner_id, subjects[i], bodies[i], external[i],
                direction.value if direction is not None else None,
                status.value if status is not None else None, waits[i], talks[i],
                _stored_time(ctx, due) if due is not None else None, False, False,
            ))
        return staged


def _word(value: object, words: dict[str, Any], field: str) -> Any:
    word = cells.text(value).casefold().replace(" ", "")  # type: ignore[arg-type]
    if word not in words:
        raise ValueError(f"{field} must be one of {', '.join(sorted({w.value for w in words.values()}))}")
    return words[word]


def _seconds(value: object) -> int:
    number = _whole(value)
    if number > MAX_SECONDS:
        raise ValueError(f"at most {MAX_SECONDS}")
    return number
