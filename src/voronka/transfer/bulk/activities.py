"""Activities in bulk: calls, e-mails, meetings, messages, notes and tasks of clients.

The client is named by ``client_id``, phone or e-mail and must be within the importer's
scope (an activity is visible exactly when its client is); only a role with company-wide
scope may import activities without a client. A row with the ``external_id`` of a stored
activity of the same kind — or, without one, the same kind, time, client and subject — is a
duplicate, so re-importing a file adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, text

from voronka.access.policy import Scope
from voronka.access.scope import visible_client_ids
from voronka.activity.models import ActivityKind, CallStatus, Direction
from voronka.db.types import UTCDateTime
from voronka.transfer import cells
from voronka.transfer.bulk import fast
from voronka.transfer.bulk.base import SAMPLE_ROWS, BatchResult, Context, prepared_of
from voronka.transfer.bulk.columns import Columns
from voronka.transfer.bulk.matching import CLIENT_COLUMNS, client_joins
from voronka.transfer.bulk.staging import Encoded, Stage
from voronka.transfer.bulk.touchpoints import _time_for, _whole
from voronka.transfer.mapping import ColumnMapping
from voronka.transfer.options import OnDuplicate
from voronka.transfer.reading import SourceRow

MAX_SECONDS = 10_000_000
KIND_WORDS = {
    **{k.value: k for k in ActivityKind},
    "звонок": ActivityKind.CALL,
    "письмо": ActivityKind.EMAIL,
    "встреча": ActivityKind.MEETING,
    "сообщение": ActivityKind.MESSAGE,
    "заметка": ActivityKind.NOTE,
    "задача": ActivityKind.TASK,
}
DIRECTION_WORDS = {
    **{d.value: d for d in Direction},
    "входящий": Direction.INBOUND,
    "исходящий": Direction.OUTBOUND,
}
STATUS_WORDS = {
    **{s.value: s for s in CallStatus},
    "отвечен": CallStatus.ANSWERED,
    "пропущен": CallStatus.MISSED,
    "занято": CallStatus.BUSY,
}
STAGE = Stage(
    "import_stage_activity",
    (
        ("row_no", "int"),
        ("kind", "text"),
        ("occurred_at", "time"),
        ("client_id", "id"),
        ("phone", "text"),
        ("email", "text"),
        ("owner_id", "id"),
        ("subject", "text"),
        ("body", "text"),
        ("external_id", "text"),
        ("direction", "text"),
        ("call_status", "text"),
        ("wait_seconds", "int"),
        ("talk_seconds", "int"),
        ("due_at", "time"),
    ),
    indexed=False,
)
#: rows already reported (an unknown client, or one outside the importer's scope)
REFUSED = Stage("import_stage_activity_refused", (("row_no", "int"),), indexed=False)
# Every staged row with its client: the one named by id (which must exist in the
# workspace), else the holder of its phone, else of its e-mail.
_LINKED = f"""
  m AS (
    SELECT s.row_no, s.kind, s.occurred_at, s.owner_id, s.subject, s.body, s.external_id,
      s.direction, s.call_status, s.wait_seconds, s.talk_seconds, s.due_at,
      {CLIENT_COLUMNS}
    FROM import_stage_activity s{client_joins("import_stage_activity")}
  )"""  # noqa: S608 - table names are ours
# A stored activity of the same kind with the row's external id — or, without one, the same
# time, client and subject — makes the row a duplicate: one index probe per row.
_FLAGGED = """
  f AS (
    SELECT m.*, {refused} AS refused, {duplicate} AS duplicate FROM m
  )"""
_REFUSED = (
    "CASE WHEN m.row_no IN (SELECT row_no FROM import_stage_activity_refused) THEN 1 ELSE 0 END"
)
#: the columns of ``activity`` the duplicate probes look at (``Context.wrote_into``)
_LOOKED_UP = ("workspace_id", "kind", "external_id", "occurred_at", "client_id", "subject")
_DUPLICATE = """CASE WHEN m.external_id IS NOT NULL THEN (
        SELECT 1 FROM activity a WHERE a.workspace_id = :ws AND a.kind = m.kind
          AND a.external_id = m.external_id LIMIT 1)
      ELSE (
        SELECT 1 FROM activity a WHERE a.workspace_id = :ws AND a.kind = m.kind
          AND a.occurred_at = m.occurred_at
          AND coalesce(a.client_id, 0) = coalesce(m.client_id, 0)
          AND coalesce(a.subject, '') = coalesce(m.subject, '') LIMIT 1)
      END IS NOT NULL"""
_INSERT = """INSERT INTO activity (workspace_id, kind, client_id, owner_id, subject, body,
         occurred_at, external_id, direction, call_status, wait_seconds, talk_seconds, due_at,
         is_deleted, created_at, updated_at, version)
       SELECT :ws, kind, client_id, owner_id, subject, body, occurred_at, external_id,
         direction, call_status, wait_seconds, talk_seconds, due_at, false, :now, :now, 1
       FROM f
       WHERE duplicate = 0 AND unknown_client = 0 AND refused = 0 ORDER BY row_no"""
_OUTCOMES = """SELECT row_no, unknown_client, refused, duplicate FROM f
    WHERE unknown_client = 1 OR refused = 1 OR duplicate = 1"""
NO_CLIENT = "name the client (client_id, phone or e-mail of a client you may see)"


@dataclass
class _Prepared:
    columns: Columns
    kept: list[tuple[Any, ...]]
    in_file: set[int]
    encoded: Encoded | None  # ``kept`` as PostgreSQL's COPY reads it


class ActivityLoader:
    """Bulk writer of activity rows."""

    resource = "activity"

    def parts(self, rows: list[SourceRow], mapping: ColumnMapping) -> list[list[SourceRow]]:
        return [rows]

    def prepare_ahead(self, mapping: ColumnMapping) -> bool:
        return True  # prepare reads only users (owners), which an import never changes

    def prepare(self, ctx: Context, rows: list[SourceRow]) -> _Prepared:
        """Parse and check the batch, and drop rows repeated in it (no database writes)."""
        columns = Columns(rows, ctx.mapping)
        staged = self._parse(ctx, columns)
        seen: set[tuple[Any, ...]] = set()
        kept: list[tuple[Any, ...]] = []
        in_file: set[int] = set()
        for values in staged:
            key = (
                (values[1], values[9])
                if values[9]
                else (values[1], values[2], values[3], values[4], values[5], values[7])
            )
            if key in seen and ctx.on_duplicate is not OnDuplicate.CREATE:
                in_file.add(values[0])
                continue
            seen.add(key)
            kept.append(values)
        return _Prepared(columns, kept, in_file, None if ctx.sqlite else STAGE.encode(kept))

    def write(self, ctx: Context, rows: list[SourceRow]) -> BatchResult:
        ready = prepared_of(rows) or self.prepare(ctx, rows)
        columns, in_file = ready.columns, set(ready.in_file)
        index_of = {number: i for i, number in enumerate(columns.numbers)}
        STAGE.reset(ctx.conn)
        STAGE.load(ctx.conn, ready.kept, ready.encoded, analyzed=ctx.staged_shapes)
        ws = {"ws": ctx.actor.workspace_id, "now": ctx.now}
        reported = set()
        if ctx.scope is not Scope.ALL:
            reported = self._check_scope(ctx, columns, index_of)
        duplicate = "0" if ctx.on_duplicate is OnDuplicate.CREATE else _DUPLICATE
        refused = _REFUSED if ctx.scope is not Scope.ALL else "0"
        flagged = _FLAGGED.format(
            refused=refused, duplicate=f"CASE WHEN {duplicate} THEN 1 ELSE 0 END"
        )
        matched = f"WITH {_LINKED}, {flagged}"
        if ctx.sqlite:  # no INSERT inside WITH: the matching is run twice
            outcomes = ctx.conn.execute(text(f"{matched} {_OUTCOMES}"), ws).all()
            ctx.conn.execute(text(f"{matched} {_INSERT}").bindparams(_NOW), ws)
        else:
            outcomes = ctx.conn.execute(
                text(f"{matched}, written AS ({_INSERT}) {_OUTCOMES}").bindparams(_NOW), ws
            ).all()
        written = len(ready.kept)
        for row_no, unknown, refuse, dup in outcomes:
            written -= 1
            if row_no in reported:
                continue
            if unknown or refuse:
                columns.fail(index_of[row_no], "client_id", "no client with this id")
            elif dup:
                in_file.add(row_no)
        ctx.wrote_into("activity", _LOOKED_UP)
        result = BatchResult(rows=len(columns), created=written)
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

    @staticmethod
    def _check_scope(ctx: Context, columns: Columns, index_of: dict[int, int]) -> set[int]:
        """Unknown clients, clients outside the scope and missing clients become errors;
        their rows are staged as refused. Returns their numbers."""
        found = ctx.conn.execute(
            text(f"WITH {_LINKED} SELECT row_no, client_id, unknown_client FROM m"),  # noqa: S608
            {"ws": ctx.actor.workspace_id},
        ).all()
        ids = {client for _, client, unknown in found if client is not None and not unknown}
        query = visible_client_ids(ctx.actor, ctx.scope)
        visible = (
            set(ctx.session.scalars(query.where(query.selected_columns[0].in_(sorted(ids)))))
            if ids
            else set()
        )
        refused: list[tuple[int]] = []
        for row_no, client, unknown in found:
            if unknown:
                columns.fail(index_of[row_no], "client_id", "no client with this id")
            elif client is None or client not in visible:
                columns.fail(index_of[row_no], "client_id", NO_CLIENT)
            else:
                continue
            refused.append((row_no,))
        REFUSED.reset(ctx.conn)
        REFUSED.load(ctx.conn, refused)
        return {n for (n,) in refused}

    def _parse(self, ctx: Context, columns: Columns) -> list[tuple[Any, ...]]:
        kinds = columns.parse("kind", lambda v: _word(v, KIND_WORDS, "kind"), once_per_value=True)
        moments = columns.parse("occurred_at", fast.Moments(ctx.zone))
        client_ids = columns.parse("client_id", _whole, once_per_value=True)
        phones = columns.parse(
            "phone", lambda v: fast.phone(cells.text(v), ctx.region), once_per_value=True
        )
        emails = columns.parse("email", lambda v: fast.email(cells.text(v)), once_per_value=True)
        owners = columns.parse(
            "owner", lambda v: ctx.lookups.user_id(cells.text(v)), once_per_value=True
        )
        subjects = columns.text("subject", 300)
        bodies = columns.text("body", 100_000)
        external = columns.text("external_id", 128)
        directions = columns.parse(
            "direction", lambda v: _word(v, DIRECTION_WORDS, "direction"), once_per_value=True
        )
        statuses = columns.parse(
            "call_status", lambda v: _word(v, STATUS_WORDS, "call_status"), once_per_value=True
        )
        waits = columns.parse("wait_seconds", _seconds, once_per_value=True)
        talks = columns.parse("talk_seconds", _seconds, once_per_value=True)
        dues = columns.parse("due_at", fast.Moments(ctx.zone))
        stored_time = _time_for(ctx)
        staged: list[tuple[Any, ...]] = []
        for i, number in enumerate(columns.numbers):
            for field, value in (("kind", kinds[i]), ("occurred_at", moments[i])):
                if value is None and not columns.failed(i):
                    columns.fail(i, field, "required")
            owner_id = owners[i] or ctx.default_owner_id
            if not columns.failed(i) and not ctx.owner_allowed(owner_id):
                columns.fail(
                    i, "owner" if owners[i] else None, "you may not give an activity to that owner"
                )
            if columns.failed(i):
                continue
            kind, direction, status, due = kinds[i], directions[i], statuses[i], dues[i]
            assert kind is not None  # a row without a kind failed above
            staged.append(
                (
                    number,
                    kind.value,
                    stored_time(moments[i]),
                    client_ids[i],
                    phones[i],
                    emails[i],
                    owner_id,
                    subjects[i],
                    bodies[i],
                    external[i],
                    direction.value if direction is not None else None,
                    status.value if status is not None else None,
                    waits[i],
                    talks[i],
                    stored_time(due) if due is not None else None,
                )
            )
        return staged


_NOW = bindparam("now", type_=UTCDateTime())


def _word(value: object, words: dict[str, Any], field: str) -> Any:
    word = cells.text(value).casefold().replace(" ", "")  # type: ignore[arg-type]
    if word not in words:
        raise ValueError(
            f"{field} must be one of {', '.join(sorted({w.value for w in words.values()}))}"
        )
    return words[word]


def _seconds(value: object) -> int:
    number = _whole(value)
    if number > MAX_SECONDS:
        raise ValueError(f"at most {MAX_SECONDS}")
    return number
