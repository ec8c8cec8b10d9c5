"""The batch writer: the rows of a whole batch of call events, written with one statement
per table at the end of the batch.

One event at a time, a new caller cost some thirty statements (each row flushed on its own,
the owner, client, deal, channel and pipeline asked again for each event, a savepoint per
event). :class:`Deferred` takes the rows ``service.apply`` hands it (see ``writes``) and
checks each against the domain rules with facts asked once for the batch (:meth:`prepare`):
the users who may own records, the workspace's channels, the default pipeline's first stage,
the activities of calls already open and whether their client and deal are still live,
provider ids taken by other activities, numbers held by clients. New rows get their ids
before they are written (``_IdPool``), so later events of the batch refer to them at once,
and :meth:`write` inserts them table by table (one ``executemany`` each, which psycopg sends
as one pipeline) and updates the stored activities the batch advanced, checking the version
each was read with.

Anything the facts cannot settle (a rule that would refuse the row, a fact not asked for)
raises :class:`NotInBulk`: the caller rolls the batch's savepoint back and processes its
events one at a time, where the domain services give each failing event its own error.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import count
from typing import Any, cast

from sqlalchemy import JSON, Table, bindparam, func, insert, literal, select, union_all, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from voronka import clock
from voronka.access.actor import Actor
from voronka.access.policy import Action, Scope, scope_for
from voronka.activity.models import Activity, ActivityKind
from voronka.activity.schemas import (
    ActivityCreate,
    ActivityFields,
    ActivityUpdate,
    check_kind_rules,
)
from voronka.activity.service import DURATION_INPUTS
from voronka.audit import service as audit
from voronka.audit.models import AuditEvent
from voronka.campaign.models import Campaign, Channel, Touchpoint
from voronka.client import repository as client_repository
from voronka.client.models import Client, ContactKind, ContactPoint
from voronka.client.schemas import ClientCreate
from voronka.deal import service as deal_service
from voronka.deal.models import Deal, DealStageChange
from voronka.deal.schemas import DealCreate
from voronka.integrations.telephony.lookups import Lookups
from voronka.integrations.telephony.models import TelephonyCall
from voronka.pipeline import repository as pipeline_repository
from voronka.pipeline.models import Stage, StageKind
from voronka.pipeline.service import active_stages
from voronka.user.models import User


class NotInBulk(Exception):
    """The batch cannot be written in bulk; process its events one at a time."""


class _IdPool:
    """Ids for rows not written yet: drawn from the table's sequence on PostgreSQL (one
    statement for every table of the batch); on SQLite, whose one writer holds the store,
    counted on from the largest id, as SQLite itself would."""

    def __init__(self, session: Session, wanted: dict[Any, int]) -> None:
        self.session = session
        self._free: dict[str, Iterator[int]] = {}
        self._postgresql = session.get_bind().dialect.name == "postgresql"
        self._draw({table: n for table, n in wanted.items() if n > 0})

    def _draw(self, wanted: dict[Any, int]) -> None:
        if not wanted:
            return
        if not self._postgresql:
            largest = self.session.execute(
                select(*(select(func.max(t.c.id)).scalar_subquery() for t in wanted))
            ).one()
            for table, top in zip(wanted, largest, strict=True):
                self._free[table.name] = count((top or 0) + 1)
            return
        parts = [
            select(
                literal(t.name), func.nextval(func.pg_get_serial_sequence(t.name, "id"))
            ).select_from(func.generate_series(1, n))
            for t, n in wanted.items()
        ]
        drawn: dict[str, list[int]] = {t.name: [] for t in wanted}
        for name, value in self.session.execute(union_all(*parts)):
            drawn[name].append(value)
        for name, values in drawn.items():
            self._free[name] = iter(sorted(values))

    def next(self, table: Any) -> int:
        found = next(self._free.get(table.name, iter(())), None)
        if found is None:  # more rows than foreseen: draw another handful
            self._draw({table: 16})
            found = next(self._free[table.name])
        return found


#: The order rows are inserted in: a row's foreign keys point at rows of earlier phases.
_PHASES = ("clients", "deals", "activities", "calls")


class Deferred:
    """Rows of one workspace's batch, checked now and written by :meth:`write`."""

    def __init__(self, session: Session, look: Lookups) -> None:
        self.session = session
        self.workspace_id = look.workspace_id
        self._rows: dict[str, list[Any]] = {name: [] for name in _PHASES}
        self._live_clients: set[int] = set()
        self._deal_client: dict[int, int] = {}
        self._users: dict[int, bool] = {}
        self._channels: set[int] = set()
        self._campaigns: dict[int, int | None] = {}
        self._stage: Stage | None = None
        self._taken_external_ids: set[str] = set()
        self._held_numbers: set[str] = set()
        self._ids: _IdPool | None = None
        self._activities: dict[int, Activity] = {}  # stored ones and the batch's new ones
        self._stored_versions: dict[int, int] = {}
        self._stored_changes: dict[int, set[str]] = {}
        self._audits: list[AuditEvent] = []

    # -- facts, asked once --------------------------------------------------------------------

    def prepare(self, look: Lookups) -> None:
        """Ask what the rules need for the batch ``look`` was prefetched for."""
        calls = look.prefetched_calls()
        clients = look.prefetched_clients()
        self._prepare_open_calls([c for c in calls.values() if c is not None])
        for client in clients.values():
            if client is not None:
                self._live_clients.add(client.id)
        for client_id, deal_id in look.prefetched_open_deals().items():
            if deal_id is not None:
                self._deal_client[deal_id] = client_id
        self._prepare_people(look)
        new_calls = [key for key, call in calls.items() if call is None]
        self._prepare_new_calls(new_calls, [n for n, c in clients.items() if c is None])
        new_numbers = sum(1 for c in clients.values() if c is None)
        self._ids = _IdPool(
            self.session,
            {
                Client.__table__: new_numbers,
                Deal.__table__: new_numbers,
                Activity.__table__: len(new_calls),
                Touchpoint.__table__: len(new_calls),
                TelephonyCall.__table__: len(new_calls),
            },
        )

    def _prepare_open_calls(self, calls: list[TelephonyCall]) -> None:
        """Load the activities of calls already open (``get_activity`` then finds them) and
        note which of their clients and deals are still live."""
        ids = {c.activity_id for c in calls}
        if not ids:
            return
        activities = list(self.session.scalars(select(Activity).where(Activity.id.in_(ids))))
        # kept here: the session's identity map holds rows only while someone refers to them
        self._activities.update((a.id, a) for a in activities)
        self._stored_versions = {a.id: a.version for a in activities}
        client_ids = {a.client_id for a in activities if a.client_id is not None}
        deal_ids = {a.deal_id for a in activities if a.deal_id is not None}
        if client_ids:
            self._live_clients |= set(
                self.session.scalars(
                    select(Client.id).where(
                        Client.id.in_(client_ids),
                        Client.workspace_id == self.workspace_id,
                        Client.is_deleted.is_(False),
                    )
                )
            )
        if deal_ids:
            self._deal_client |= dict(
                self.session.execute(
                    select(Deal.id, Deal.client_id).where(
                        Deal.id.in_(deal_ids),
                        Deal.workspace_id == self.workspace_id,
                        Deal.is_deleted.is_(False),
                    )
                ).all()
            )

    def _prepare_people(self, look: Lookups) -> None:
        ws = self.workspace_id
        user_ids = {u for u in look.prefetched_extensions().values() if u is not None}
        if user_ids:
            rows = self.session.execute(
                select(User.id, User.is_active).where(
                    User.id.in_(user_ids), User.workspace_id == ws
                )
            )
            self._users = {user_id: active for user_id, active in rows}
        # every channel and campaign of the workspace (a few hundred rows at most): a site
        # visit that reserved a dynamic number may name any campaign
        self._channels = set(
            self.session.scalars(select(Channel.id).where(Channel.workspace_id == ws))
        )
        self._campaigns = dict(
            self.session.execute(
                select(Campaign.id, Campaign.channel_id).where(Campaign.workspace_id == ws)
            ).all()
        )

    def _prepare_new_calls(self, keys: list[tuple[str, str]], unknown: list[str]) -> None:
        if keys:
            wanted = {f"{provider}:{call_id}"[:128] for provider, call_id in keys}
            self._taken_external_ids = set(
                self.session.scalars(
                    select(Activity.external_id).where(
                        Activity.workspace_id == self.workspace_id,
                        Activity.kind == ActivityKind.CALL,
                        Activity.external_id.in_(wanted),
                    )
                )
            )
        if unknown:  # numbers no live unmerged client holds: held by someone else all the same?
            holders = client_repository.holders_of(
                self.session, self.workspace_id, [(ContactKind.PHONE, n) for n in unknown]
            )
            self._held_numbers = {value for _, _, value in holders}
            pipeline = pipeline_repository.default_pipeline(
                self.session, Actor.system(self.workspace_id)
            )
            if pipeline is not None and not pipeline.is_archived:
                first = next((s for s in active_stages(pipeline) if s.kind is StageKind.OPEN), None)
                self._stage = first

    # -- the rules, on the facts ----------------------------------------------------------------

    def _check_owner(self, owner_id: int | None) -> None:
        if owner_id is not None and not self._users.get(owner_id, False):
            raise NotInBulk(f"owner {owner_id} is not a known active user")

    def _next_id(self, model: Any) -> int:
        assert self._ids is not None, "prepare() first"
        return self._ids.next(model.__table__)

    def client(self, actor: Actor, data: ClientCreate) -> Client:
        owner_id = data.owner_id if "owner_id" in data.model_fields_set else actor.user_id
        self._check_owner(owner_id)
        if data.company_id is not None or data.tags:
            raise NotInBulk("a company or tags")
        values = [c.value for c in data.contacts]
        if (
            any(c.kind is not ContactKind.PHONE for c in data.contacts)
            or set(values) & self._held_numbers
        ):
            raise NotInBulk("a contact another client holds")
        client = Client(
            id=self._next_id(Client),
            workspace_id=actor.workspace_id,
            kind=data.kind,
            name=data.name,
            job_title=data.job_title,
            owner_id=owner_id,
            source_channel_id=data.source_channel_id,
            source_campaign_id=data.source_campaign_id,
            custom_fields=data.custom_fields,
            created_by_id=actor.user_id,
            search_text=" ".join([data.name, *values]).casefold(),
        )
        for contact in data.contacts:
            self._rows["deals"].append(  # after their client
                ContactPoint(
                    client_id=client.id,
                    workspace_id=actor.workspace_id,
                    kind=contact.kind,
                    value=contact.value,
                    label=contact.label,
                    is_primary=contact.is_primary,
                )
            )
        self._held_numbers.update(values)
        self._live_clients.add(client.id)
        self._rows["clients"].append(client)
        self._audit(actor, "create", "client", client.id)
        return client

    def lead_deal(self, actor: Actor, data: DealCreate) -> int:
        owner_id = data.owner_id if "owner_id" in data.model_fields_set else actor.user_id
        self._check_owner(owner_id)
        if data.client_id not in self._live_clients:
            raise NotInBulk("a client not known live")
        if data.pipeline_id is not None or data.stage_id is not None or data.lost_reason:
            raise NotInBulk("a chosen pipeline or stage")
        if data.external_id is not None:  # its uniqueness is the service's to check
            raise NotInBulk("an external id")
        channel_id = self._channel_of(data.channel_id, data.campaign_id)
        if self._stage is None:
            raise NotInBulk("no default pipeline with an open stage")
        now = clock.now()
        deal = deal_service.new_deal(actor, data, owner_id=owner_id, channel_id=channel_id,
                                     stage=self._stage, at=now)
        deal.id = self._next_id(Deal)
        self._rows["deals"].append(deal)
        self._rows["activities"].append(
            DealStageChange(
                workspace_id=deal.workspace_id,
                deal_id=deal.id,
                from_stage_id=None,
                to_stage_id=deal.stage_id,
                changed_at=now,
                changed_by_id=actor.user_id,
            )
        )
        self._deal_client[deal.id] = deal.client_id
        self._audit(
            actor,
            "create",
            "deal",
            deal.id,
            detail={"client_id": deal.client_id, "stage_id": deal.stage_id},
        )
        return deal.id

    def _channel_of(self, channel_id: int | None, campaign_id: int | None) -> int | None:
        """As ``deal.service``: the channel and campaign exist and agree."""
        if channel_id is not None and channel_id not in self._channels:
            raise NotInBulk("an unknown channel")
        if campaign_id is None:
            return channel_id
        if campaign_id not in self._campaigns:
            raise NotInBulk("an unknown campaign")
        campaign_channel = self._campaigns[campaign_id]
        if channel_id is not None and campaign_channel != channel_id:
            raise NotInBulk("a campaign of another channel")
        return campaign_channel

    def _check_links(self, values: dict[str, Any]) -> None:
        client_id, deal_id = values.get("client_id"), values.get("deal_id")
        if client_id is not None and client_id not in self._live_clients:
            raise NotInBulk("a client not known live")
        if deal_id is not None and (
            client_id is None or self._deal_client.get(deal_id) != client_id
        ):
            raise NotInBulk("a deal not known to be the client's")
        if client_id is None and values.get("owner_id") is None:
            raise NotInBulk("an activity without client or owner")

    def activity(self, actor: Actor, data: ActivityCreate) -> Activity:
        if data.external_id is None or data.external_id in self._taken_external_ids:
            raise NotInBulk("a provider id another activity holds")
        values = data.model_dump(exclude={"kind", "external_id"})
        if "owner_id" not in data.model_fields_set:
            values["owner_id"] = actor.user_id
        self._check_owner(values["owner_id"])
        self._check_links(values)
        try:
            check_kind_rules(data.kind, values)
        except Exception as exc:
            raise NotInBulk("the activity breaks a rule of its kind") from exc
        values["occurred_at"] = values["occurred_at"] or values["queued_at"] or clock.now()
        activity = Activity(
            id=self._next_id(Activity),
            workspace_id=actor.workspace_id,
            kind=data.kind,
            external_id=data.external_id,
            **values,
        )
        self._taken_external_ids.add(data.external_id)
        self._activities[activity.id] = activity
        self._rows["activities"].append(activity)
        self._audit(actor, "create", "activity", activity.id)
        return activity

    def get_activity(self, activity_id: int) -> Activity | None:
        found = self._activities.get(activity_id)
        return found if found is not None else self.session.get(Activity, activity_id)

    def touchpoint(self, touchpoint: Touchpoint) -> int:
        touchpoint.id = self._next_id(Touchpoint)
        self._rows["deals"].append(touchpoint)
        return touchpoint.id

    def call(self, call: TelephonyCall) -> None:
        call.id = self._next_id(TelephonyCall)
        self._rows["calls"].append(call)

    def update_activity(self, actor: Actor, activity: Activity, data: ActivityUpdate) -> None:
        """As ``activity.service.update``, the change kept in memory until :meth:`write`."""
        patch = data.model_dump(exclude_unset=True)
        if "occurred_at" in patch and patch["occurred_at"] is None:
            raise NotInBulk("occurred_at cannot be null")
        if patch.get("owner_id", activity.owner_id) != activity.owner_id:
            if scope_for(actor, "activity", Action.REASSIGN) is not Scope.ALL:
                raise NotInBulk("an owner change outside the actor's rights")
            self._check_owner(patch["owner_id"])
        values = {name: getattr(activity, name) for name in ActivityFields.model_fields}
        values.update(patch)
        for name, inputs in DURATION_INPUTS.items():
            if name not in patch and inputs & patch.keys():
                values[name] = None
        self._check_links(values)
        try:
            check_kind_rules(activity.kind, values)
        except Exception as exc:
            raise NotInBulk("the change breaks a rule of the activity's kind") from exc
        changes = {
            n: (getattr(activity, n), v) for n, v in values.items() if getattr(activity, n) != v
        }
        stored = activity.id in self._stored_versions
        for name, (_, value) in changes.items():
            if stored:  # written by _update_stored_activities, not one UPDATE per row
                set_committed_value(activity, name, value)
                self._stored_changes.setdefault(activity.id, set()).add(name)
            else:
                setattr(activity, name, value)
        if changes:
            self._audit(
                actor,
                "update",
                "activity",
                activity.id,
                changes=audit.redact_changes(Activity, changes),
            )

    def flush(self) -> None:
        """Nothing: the rows wait for :meth:`write`."""

    def _audit(self, actor: Actor, action: str, entity: str, entity_id: int, **extra: Any) -> None:
        self._audits.append(
            AuditEvent(
                workspace_id=actor.workspace_id,
                occurred_at=clock.now(),
                actor_id=actor.user_id,
                actor_kind=actor.kind.value,
                action=action,
                entity=entity,
                entity_id=entity_id,
                request_id=actor.request_id,
                ip=actor.ip,
                **extra,
            )
        )

    # -- the write ------------------------------------------------------------------------------

    def write(self) -> None:
        """Insert the batch's rows phase by phase (see ``_PHASES``), then flush the changes
        of rows already stored (activities and calls advanced, the events' statuses)."""
        self._rows["calls"] += self._audits
        for phase in _PHASES:
            _insert(self.session, self._rows[phase])
        self._update_stored_activities()
        self.session.flush()

    def _update_stored_activities(self) -> None:
        """One ``executemany`` per set of columns changed, each row checked against the
        version read (the unit of work sends versioned rows one UPDATE at a time)."""
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        now = clock.now()
        for activity_id, names in self._stored_changes.items():
            activity, version = self._activities[activity_id], self._stored_versions[activity_id]
            row = {f"new_{n}": getattr(activity, n) for n in names}
            row |= {"row_id": activity_id, "old_version": version, "now": now}
            groups.setdefault(tuple(sorted(names)), []).append(row)
        table = cast(Table, Activity.__table__)
        for columns, params in groups.items():
            statement = (
                update(table)
                .where(
                    table.c.id == bindparam("row_id"), table.c.version == bindparam("old_version")
                )
                .values({table.c[_column_of(Activity, n)]: bindparam(f"new_{n}") for n in columns})
                .values(version=table.c.version + 1, updated_at=bindparam("now"))
            )
            if self.session.execute(statement, params).rowcount != len(params):  # type: ignore[attr-defined]
                raise StaleDataError("an activity of the batch was changed meanwhile")
        for activity_id in self._stored_changes:
            activity = self._activities[activity_id]
            set_committed_value(activity, "version", self._stored_versions[activity_id] + 1)
            set_committed_value(activity, "updated_at", now)


def _insert(session: Session, rows: list[Any]) -> None:
    """Insert rows (ORM objects never added to the session) with one ``executemany`` per
    table and set of columns given: psycopg sends the rows of one in a single pipeline
    round trip, the statement prepared once. (A multi-row ``INSERT … VALUES`` measured
    slower: psycopg parses its long text anew each time.)"""
    groups: dict[tuple[Any, frozenset[str]], list[dict[str, Any]]] = {}
    for row in rows:
        values = _column_values(row)
        groups.setdefault((type(row), frozenset(values)), []).append(values)
    for (model, _), params in groups.items():
        table = model.__table__
        session.execute(insert(table), params)


_COLUMNS: dict[Any, list[tuple[str, str, bool]]] = {}


def _column_values(row: Any) -> dict[str, Any]:
    """The row's column values as the unit of work would send them: an attribute never set
    or None is left out where the column has a default, or is JSON (None is SQL NULL then,
    not JSON ``null``), or is the generated key."""
    columns = _COLUMNS.get(type(row))
    if columns is None:
        columns = _COLUMNS[type(row)] = [
            (attr.key, attr.columns[0].key, _left_out_when_none(attr.columns[0]))
            for attr in sa_inspect(type(row)).column_attrs
        ]
    state = row.__dict__
    values = {}
    for attribute, column, left_out in columns:
        value = state.get(attribute)
        if value is not None or not left_out:
            values[column] = value
    return values


def _column_of(model: Any, attribute: str) -> str:
    return str(sa_inspect(model).column_attrs[attribute].columns[0].key)


def _left_out_when_none(column: Any) -> bool:
    return column.default is not None or column.primary_key or isinstance(column.type, JSON)
