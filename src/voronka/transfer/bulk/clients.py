"""Clients (people and companies) in bulk, deduplicated by normalised phone and e-mail.

A row whose phone or e-mail a stored client (or an earlier row of the same batch) already
holds is a duplicate: it is skipped and counted (``on_duplicate=skip``), or created anyway
(``create``). A duplicate of a client outside the importer's scope is an error of the row,
so the import neither changes that client nor says who it is. New clients get the same
stored form as through the API: normalised contacts (the first of each kind primary),
case-folded tags, ``search_text``, the owner (the row's, the default one, else the importer)
checked against the importer's scope.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, text

from voronka.access.policy import Scope
from voronka.access.scope import visible_client_ids
from voronka.client.models import ClientKind, ContactKind
from voronka.db.types import UTCDateTime
from voronka.transfer import cells
from voronka.transfer.bulk import fast
from voronka.transfer.bulk.base import SAMPLE_ROWS, BatchResult, Context, prepared_of
from voronka.transfer.bulk.columns import Columns
from voronka.transfer.bulk.staging import Encoded, Stage
from voronka.transfer.client_rows import KIND_WORDS
from voronka.transfer.mapping import ColumnMapping
from voronka.transfer.options import OnDuplicate
from voronka.transfer.reading import RowBatch, SourceRow

STAGE = Stage(
    "import_stage_client",
    (
        ("row_no", "int"),
        ("name", "text"),
        ("kind", "text"),
        ("job_title", "text"),
        ("owner_id", "id"),
        ("channel_id", "id"),
        ("company_id", "id"),
        ("search_text", "text"),
        ("match_id", "id"),
        ("new_id", "id"),
    ),
)
CONTACTS = Stage(
    "import_stage_contact",
    (("row_no", "int"), ("kind", "text"), ("value", "text"), ("is_primary", "bool")),
)
TAGS = Stage("import_stage_tag", (("row_no", "int"), ("tag", "text")))
PHONE, EMAIL = ContactKind.PHONE.value, ContactKind.EMAIL.value
#: characters that separate several values in one cell (``cells.items``)
_SEPARATORS = frozenset(",;\n")
HIDDEN = "a client outside your scope has this phone or e-mail; it was not changed"
OWNER_REFUSED = "you may not give a client to that owner"

# CROSS JOIN fixes SQLite's join order (the small staging table outside, the contact index
# inside); PostgreSQL plans it like any inner join.
_MATCH = text(
    """
    SELECT sc.row_no, min(cp.client_id)
    FROM import_stage_contact AS sc
    CROSS JOIN contact_point AS cp
    CROSS JOIN client AS c
    WHERE cp.workspace_id = :ws AND cp.kind = sc.kind AND cp.value = sc.value
      AND c.id = cp.client_id AND c.is_deleted = false
    GROUP BY sc.row_no
    """
)
_TAKE_TURNS = text("SELECT pg_advisory_xact_lock(hashtext('voronka.bulk_clients'), :ws)")
# PostgreSQL writes the new clients, their contacts and tags in one statement: their ids come
# from the sequence in row order (nextval is computed after the sort), and the foreign keys
# of the contacts and tags are checked when the whole statement ends, when the clients
# exist. It saves rewriting every staged row with its new id, and three round trips.
_INSERT_ALL_PG = text(
    """
    WITH fresh AS (
      SELECT row_no, nextval(pg_get_serial_sequence('client', 'id')) AS id
      FROM import_stage_client WHERE match_id IS NULL ORDER BY row_no
    ), clients AS (
      INSERT INTO client (id, workspace_id, kind, name, company_id, job_title, owner_id,
          source_channel_id, custom_fields, search_text, created_by_id, is_deleted,
          created_at, updated_at, version)
      SELECT f.id, :ws, s.kind, s.name, s.company_id, s.job_title, s.owner_id, s.channel_id,
          '{}', s.search_text, :by, false, :now, :now, 1
      FROM fresh f JOIN import_stage_client s ON s.row_no = f.row_no ORDER BY f.row_no
    ), contacts AS (
      INSERT INTO contact_point (workspace_id, client_id, kind, value, is_primary)
      SELECT :ws, f.id, sc.kind, sc.value, sc.is_primary
      FROM import_stage_contact sc JOIN fresh f ON f.row_no = sc.row_no
    ), tags AS (
      INSERT INTO client_tag (workspace_id, client_id, tag)
      SELECT :ws, f.id, st.tag FROM import_stage_tag st JOIN fresh f ON f.row_no = st.row_no
    )
    SELECT count(*) FROM fresh
    """
).bindparams(bindparam("now", type_=UTCDateTime()))
_NEW_IDS_SQLITE = text(
    """
    UPDATE import_stage_client SET new_id = :base + ranked.rn
    FROM (SELECT row_no, row_number() OVER (ORDER BY row_no) AS rn
          FROM import_stage_client WHERE match_id IS NULL) AS ranked
    WHERE ranked.row_no = import_stage_client.row_no
    """
)
_INSERT_CLIENTS = text(
    """
    INSERT INTO client (id, workspace_id, kind, name, company_id, job_title, owner_id,
        source_channel_id, custom_fields, search_text, created_by_id, is_deleted,
        created_at, updated_at, version)
    SELECT new_id, :ws, kind, name, company_id, job_title, owner_id, channel_id, '{}',
        search_text, :by, false, :now, :now, 1
    FROM import_stage_client WHERE new_id IS NOT NULL ORDER BY row_no
    """
).bindparams(bindparam("now", type_=UTCDateTime()))
_INSERT_CONTACTS = text(
    """
    INSERT INTO contact_point (workspace_id, client_id, kind, value, is_primary)
    SELECT :ws, s.new_id, sc.kind, sc.value, sc.is_primary
    FROM import_stage_contact sc JOIN import_stage_client s ON s.row_no = sc.row_no
    WHERE s.new_id IS NOT NULL
    """
)
_INSERT_TAGS = text(
    """
    INSERT INTO client_tag (workspace_id, client_id, tag)
    SELECT :ws, s.new_id, st.tag
    FROM import_stage_tag st JOIN import_stage_client s ON s.row_no = st.row_no
    WHERE s.new_id IS NOT NULL
    """
)


@dataclass
class _Prepared:
    columns: Columns
    kept: list[tuple[Any, ...]]
    contacts: list[tuple[Any, ...]]
    tags: list[tuple[Any, ...]]
    in_file: dict[int, int]  # row number → earlier row number holding its contact
    encoded: tuple[Encoded, Encoded, Encoded] | None  # the stages as COPY reads them


class ClientLoader:
    """Bulk writer of client rows."""

    resource = "client"

    def parts(self, rows: list[SourceRow], mapping: ColumnMapping) -> list[list[SourceRow]]:
        """Companies first, so that contact persons of the same batch find them."""
        ready = prepared_of(rows)
        if isinstance(ready, list):
            return ready  # split and prepared ahead
        column = next((c for c, f in mapping.fields.items() if f == "kind"), None)
        if column is None:
            return [rows]
        batch = RowBatch.of_rows(rows, list(mapping.fields))
        kinds = [_kind_word(v) is ClientKind.COMPANY for v in batch.column(column)]
        if not any(kinds):
            return [rows]
        companies = batch.take(i for i, company in enumerate(kinds) if company)
        others = batch.take(i for i, company in enumerate(kinds) if not company)
        return [companies, others]  # type: ignore[list-item]  # sequences of rows

    def prepare_ahead(self, mapping: ColumnMapping) -> bool:
        # a contact person's company may be created by an earlier part or batch: its look-up
        # must see this import's writes, so such files are prepared batch by batch
        return "company" not in mapping.fields.values()

    def prepare(self, ctx: Context, rows: list[SourceRow]) -> list[RowBatch]:
        """The batch's parts, each parsed and checked (no database writes)."""
        parts = []
        for part in self.parts(rows, ctx.mapping):
            whole = RowBatch.of_rows(part, list(ctx.mapping.fields))
            batch = RowBatch(whole.numbers, whole.columns, whole.overflow)  # not ``rows``
            batch.prepared = self._prepare_part(ctx, batch)  # type: ignore[attr-defined]
            parts.append(batch)
        return parts

    def _prepare_part(self, ctx: Context, rows: Sequence[SourceRow]) -> _Prepared:
        columns = Columns(rows, ctx.mapping)
        staged, contacts, tags = self._prepare(ctx, columns)
        first_holder: dict[tuple[str, str], int] = {}
        kept: list[tuple[Any, ...]] = []
        in_file: dict[int, int] = {}
        for values in staged:
            row_no = values[0]
            keys = contacts.get(row_no, [])
            earlier = next((first_holder[k[:2]] for k in keys if k[:2] in first_holder), None)
            if earlier is not None and ctx.on_duplicate is not OnDuplicate.CREATE:
                in_file[row_no] = earlier
                continue
            for key in keys:
                first_holder.setdefault(key[:2], row_no)
            kept.append(values)
        kept_rows = {v[0] for v in kept}
        points = [
            (n, k, v, p) for n, items in contacts.items() if n in kept_rows for k, v, p in items
        ]
        labels = [(n, t) for n, items in tags.items() if n in kept_rows for t in items]
        encoded = None
        if not ctx.sqlite:
            encoded = (STAGE.encode(kept), CONTACTS.encode(points), TAGS.encode(labels))
        return _Prepared(columns, kept, points, labels, in_file, encoded)

    def write(self, ctx: Context, rows: list[SourceRow]) -> BatchResult:
        ready: _Prepared = prepared_of(rows) or self._prepare_part(ctx, rows)
        columns, in_file = ready.columns, ready.in_file
        result = BatchResult(rows=len(columns))
        if not ctx.sqlite:
            # Two bulk imports must not both find a phone free and both insert it: batches of
            # client imports of a workspace take turns (SQLite writers always do).
            ctx.conn.execute(_TAKE_TURNS, {"ws": ctx.actor.workspace_id})
        STAGE.reset(ctx.conn)
        CONTACTS.reset(ctx.conn)
        TAGS.reset(ctx.conn)
        stage, contacts, tags = ready.encoded or (None, None, None)
        STAGE.load(ctx.conn, ready.kept, stage, analyzed=ctx.staged_shapes)
        CONTACTS.load(ctx.conn, ready.contacts, contacts, analyzed=ctx.staged_shapes)
        TAGS.load(ctx.conn, ready.tags, tags, analyzed=ctx.staged_shapes)
        matched = self._match(ctx, columns, result)
        self._insert(ctx, result)
        result.errors.update({columns.numbers[i]: e for i, e in columns.errors.items()})
        result.duplicates += len(in_file)
        result.sample = _sample(columns.numbers, result, matched, in_file)
        return result

    def _prepare(
        self, ctx: Context, columns: Columns
    ) -> tuple[list[tuple[Any, ...]], dict[int, list[tuple[str, str, bool]]], dict[int, list[str]]]:
        names = columns.text("name", 300, required=True)
        kinds = columns.parse("kind", _kind, once_per_value=True)
        titles = columns.text("job_title", 200)
        tag_lists = columns.parse("tags", _tags)
        owners = columns.parse(
            "owner", lambda v: ctx.lookups.user_id(cells.text(v)), once_per_value=True
        )
        channels = columns.parse(
            "source", lambda v: ctx.lookups.channel_id(cells.text(v)), once_per_value=True
        )
        companies = columns.parse("company", lambda v: ctx.lookups.company_id(cells.text(v)))
        phones = self._contact_column(ctx, columns, "phone")
        emails = self._contact_column(ctx, columns, "email")
        staged: list[tuple[Any, ...]] = []
        contacts: dict[int, list[tuple[str, str, bool]]] = {}
        tags: dict[int, list[str]] = {}
        for i, number in enumerate(columns.numbers):
            owner_id = owners[i] or ctx.default_owner_id
            if not columns.failed(i) and not ctx.owner_allowed(owner_id):
                columns.fail(i, "owner" if owners[i] else None, OWNER_REFUSED)
            if columns.failed(i):
                continue
            points = [(PHONE, value, n == 0) for n, value in enumerate(phones[i])]
            points += [(EMAIL, value, n == 0) for n, value in enumerate(emails[i])]
            row_tags = sorted({t.casefold()[:64] for t in tag_lists[i] or []})
            name = names[i] or ""
            search = " ".join([name, *(p[1] for p in points), *row_tags]).casefold()
            kind = (kinds[i] or ClientKind.PERSON).value
            staged.append(
                (
                    number,
                    name,
                    kind,
                    titles[i],
                    owner_id,
                    channels[i],
                    companies[i],
                    search,
                    None,
                    None,
                )
            )
            if points:
                contacts[number] = points
            if row_tags:
                tags[number] = row_tags
        return staged, contacts, tags

    @staticmethod
    def _contact_column(ctx: Context, columns: Columns, field: str) -> list[list[str]]:
        """Every row's normalised phones (or e-mails), without repeats, in cell order."""
        normalise = (lambda raw: fast.phone(raw, ctx.region)) if field == "phone" else fast.email
        out: list[list[str]] = []
        for index, cell in enumerate(columns.raw(field)):
            found: dict[str, None] = {}
            if cell is None or cell == "":
                out.append([])
                continue
            if isinstance(cell, str) and cell[:1] != "'" and _SEPARATORS.isdisjoint(cell):
                items = [cell.strip()] if cell.strip() else []  # one value: the common case
            else:
                items = cells.items(cell)
            for item in items:
                try:
                    found.setdefault(normalise(item), None)
                except ValueError as exc:
                    columns.fail(index, field, str(exc), item)
            out.append(list(found))
        return out

    def _match(self, ctx: Context, columns: Columns, result: BatchResult) -> dict[int, int]:
        """Mark stored duplicates; hidden ones become errors. Returns row → matched client."""
        if ctx.on_duplicate is OnDuplicate.CREATE:
            return {}
        ws = ctx.actor.workspace_id
        matched: dict[int, int] = dict(ctx.conn.execute(_MATCH, {"ws": ws}).all())
        if not matched:
            return {}
        ctx.conn.execute(
            text("UPDATE import_stage_client SET match_id = :client WHERE row_no = :row"),
            [{"client": client, "row": row} for row, client in matched.items()],
        )
        visible = self._visible(ctx, set(matched.values()))
        by_number = {number: i for i, number in enumerate(columns.numbers)}
        for row_no, client_id in matched.items():
            if client_id in visible:
                result.duplicates += 1
            else:
                columns.fail(
                    by_number[row_no], "phone" if columns.mapped("phone") else "email", HIDDEN
                )
        return {n: c for n, c in matched.items() if c in visible}

    @staticmethod
    def _visible(ctx: Context, ids: set[int]) -> set[int]:
        if ctx.scope is Scope.ALL:
            return ids
        query = visible_client_ids(ctx.actor, ctx.scope)
        found: set[int] = set()
        ordered = sorted(ids)
        for start in range(0, len(ordered), 5000):
            part = ordered[start : start + 5000]
            found.update(ctx.session.scalars(query.where(query.selected_columns[0].in_(part))))
        return found

    def _insert(self, ctx: Context, result: BatchResult) -> None:
        ws = ctx.actor.workspace_id
        params = {"ws": ws, "by": ctx.actor.user_id, "now": ctx.now}
        if not ctx.sqlite:
            result.created += ctx.conn.execute(_INSERT_ALL_PG, params).scalar_one()
            return
        base = ctx.conn.execute(text("SELECT coalesce(max(id), 0) FROM client")).scalar_one()
        ctx.conn.execute(_NEW_IDS_SQLITE, {"base": base})
        result.created += ctx.conn.execute(_INSERT_CLIENTS, params).rowcount
        ctx.conn.execute(_INSERT_CONTACTS, {"ws": ws})
        ctx.conn.execute(_INSERT_TAGS, {"ws": ws})


def _kind_word(value: object) -> ClientKind | None:
    if value is None:
        return None
    word = cells.text(value).casefold().replace(" ", "").replace("-", "")  # type: ignore[arg-type]
    return KIND_WORDS.get(word)


def _kind(value: object) -> ClientKind:
    kind = _kind_word(value)
    if kind is None:
        raise ValueError("kind must be person or company")
    return kind


def _tags(value: object) -> list[str]:
    tags = cells.items(value)  # type: ignore[arg-type]
    if any(len(t) > 64 for t in tags):
        raise ValueError("a tag has at most 64 characters")
    return tags


def _sample(
    numbers: list[int], result: BatchResult, matched: dict[int, int], in_file: dict[int, int]
) -> list[dict[str, Any]]:
    """The first rows' outcomes, without personal values (row numbers and ids only)."""
    sample: list[dict[str, Any]] = []
    for number in numbers[:SAMPLE_ROWS]:
        if number in result.errors:
            sample.append({"row": number, "outcome": "error"})
        elif number in matched:
            sample.append({"row": number, "outcome": "duplicate", "client_id": matched[number]})
        elif number in in_file:
            sample.append({"row": number, "outcome": "duplicate", "of_row": in_file[number]})
        else:
            sample.append({"row": number, "outcome": "create"})
    return sample
