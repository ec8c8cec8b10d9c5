"""Deal rows: find the client, create the deal with its first stage change, or update it.

Writes go through ``voronka.deal.service`` (client scope, owner scope, stage rules, history,
audit). A row duplicates an existing deal of the same client with the same title (and, when
the row gives ``created_at``, created in the same second); on update, filled cells change
amount, currency, owner and source, and a different stage moves the deal by the pipeline's
rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import update

from voronka.client import repository as client_repository
from voronka.client.contact import normalize_email, normalize_phone
from voronka.client.models import Client, ContactKind
from voronka.config import get_settings
from voronka.deal import repository as deal_repository
from voronka.deal import service as deal_service
from voronka.deal.models import Deal, DealStageChange
from voronka.deal.schemas import DealCreate, DealMove, DealUpdate
from voronka.pipeline.models import Pipeline, Stage
from voronka.transfer import cells
from voronka.transfer.lookups import Lookups
from voronka.transfer.options import OnDuplicate
from voronka.transfer.rows import Outcome, RowHandler, RowReader

_CURRENCY = re.compile(r"[A-Z]{3}")


@dataclass
class DealRow:
    """A parsed deal row with its client and stage resolved (``None`` = blank cell)."""

    reader: RowReader
    title: str | None = None
    client_id: int | None = None
    client_owner_id: int | None = None
    stage: Stage | None = None
    amount: Decimal | None = None
    currency: str | None = None
    owner_id: int | None = None
    channel_id: int | None = None
    created_at: datetime | None = None
    lost_reason: str | None = None


class DealImport(RowHandler):
    """Writes deal rows for one import."""

    entity = "deal"
    api_fields = {
        "owner_id": "owner",
        "channel_id": "source",
        "stage_id": "stage",
        "pipeline_id": "pipeline",
    }

    def prepare(self, reader: RowReader) -> DealRow:
        """Parse the row and resolve client, stage, owner and source; no writes."""
        zone = ZoneInfo(get_settings().timezone)
        row = DealRow(reader, title=reader.text("title", 300))
        if row.title is None and not reader.errors:
            reader.fail("title", "required")
        row.amount = reader.get("amount", cells.amount)
        row.currency = reader.get("currency", _currency)
        row.created_at = reader.get("created_at", lambda v: cells.moment(v, zone))
        row.lost_reason = reader.text("lost_reason", 300)
        row.owner_id = reader.get("owner", lambda v: self.lookups.user_id(cells.text(v)))
        row.channel_id = reader.get("source", lambda v: self.lookups.channel_id(cells.text(v)))
        row.stage = self._stage(reader)
        found = self._client(reader)
        if found is not None:
            row.client_id, row.client_owner_id = found
        return row

    def apply(self, prepared: DealRow) -> Outcome:
        """Create, update or skip; raises ``RowFailure`` or a domain error."""
        if self.on_duplicate is not OnDuplicate.CREATE:
            existing = self._duplicates(prepared)
            if existing and self.on_duplicate is OnDuplicate.SKIP:
                return Outcome.SKIPPED
            if len(existing) > 1:
                ids = ", ".join(str(d.id) for d in existing)
                raise prepared.reader.failure("title", f"the row matches several deals ({ids})")
            if existing:
                return self._update(prepared, existing[0])
        self._create(prepared)
        return Outcome.CREATED

    def _stage(self, reader: RowReader) -> Stage | None:
        """The stage named (in the pipeline named, or the default one), else ``None``."""
        pipeline: Pipeline | None = reader.get(
            "pipeline", lambda v: self.lookups.pipeline(cells.text(v))
        )
        if reader.has("pipeline") and pipeline is None:
            return None  # the pipeline's error is already reported
        if pipeline is None and not reader.has("stage"):
            return None  # the service starts the deal in the default pipeline's first stage
        try:
            base = pipeline or self.lookups.pipeline(None)
        except ValueError as exc:
            reader.fail("pipeline", str(exc))
            return None
        stage_name = cells.text(reader.raw("stage")) if reader.has("stage") else None
        try:
            return Lookups.stage(base, stage_name)
        except ValueError as exc:
            reader.fail("stage" if stage_name else "pipeline", str(exc))
            return None

    def _client(self, reader: RowReader) -> tuple[int, int | None] | None:
        """(id, owner id) of the one visible client the row names by id, phone or e-mail."""
        tried: list[tuple[str, str]] = []
        for field_name in ("client_id", "phone", "email"):
            if not reader.has(field_name):
                continue
            try:
                ids = self._clients_by(field_name, cells.text(reader.raw(field_name)))
            except ValueError as exc:
                tried.append((field_name, str(exc)))
                continue
            if len(ids) == 1:
                return self._client_and_owner(ids.pop())
            tried.append((field_name, _no_single_client(field_name, ids)))
        for field_name, message in tried or [("client_id", "name the client: id, phone or email")]:
            reader.fail(field_name, message)
        return None

    def _clients_by(self, field_name: str, raw: str) -> set[int]:
        if field_name == "client_id":
            if not raw.isdigit():
                raise ValueError("client_id must be a whole number")
            return self.lookups.visible_client_ids({int(raw)})
        kind = ContactKind.PHONE if field_name == "phone" else ContactKind.EMAIL
        value = (
            normalize_phone(raw, region=get_settings().default_phone_region)
            if kind is ContactKind.PHONE
            else normalize_email(raw)
        )
        holders = client_repository.holders_of(
            self.session, self.actor.workspace_id, [(kind, value)]
        )
        return self.lookups.visible_client_ids({h[0] for h in holders})

    def _client_and_owner(self, client_id: int) -> tuple[int, int | None]:
        owner_id = self.session.get_one(Client, client_id).owner_id
        return client_id, owner_id

    def _duplicates(self, row: DealRow) -> list[Deal]:
        """Visible live deals of the row's client with its title (and creation second)."""
        assert row.title is not None and row.client_id is not None  # prepared without errors
        query = deal_repository.visible_to(self.actor, self.scope).where(
            Deal.client_id == row.client_id
        )
        wanted_second = row.created_at.replace(microsecond=0) if row.created_at else None
        return [
            deal
            for deal in self.session.scalars(query.order_by(Deal.id))
            if deal.title.casefold() == row.title.casefold()
            and (wanted_second is None or deal.created_at.replace(microsecond=0) == wanted_second)
        ]

    def _create(self, row: DealRow) -> None:
        values: dict[str, Any] = {
            "title": row.title,
            "client_id": row.client_id,
            "owner_id": row.owner_id or self.default_owner_id or row.client_owner_id,
            "currency": row.currency,
            "channel_id": row.channel_id,
            "lost_reason": row.lost_reason,
        }
        if row.stage is not None:
            values.update(stage_id=row.stage.id, pipeline_id=row.stage.pipeline_id)
        if row.amount is not None:
            values["amount"] = row.amount
        data = self.validated(DealCreate, row.reader, values)
        deal = deal_service.create(self.session, actor=self.actor, scope=self.scope, data=data)
        if row.created_at is not None:
            self._backdate(deal, row.created_at)

    def _backdate(self, deal: Deal, at: datetime) -> None:
        """Give a new deal the creation time from the file (the service stamps "now").

        The deal and its one stage change were inserted in this transaction, so a direct
        UPDATE is safe; it keeps ``version`` at 1 for a record nobody else has seen.
        """
        closed_at = at if deal.closed_at is not None else None
        self.session.execute(
            update(Deal)
            .where(Deal.id == deal.id)
            .values(created_at=at, stage_entered_at=at, closed_at=closed_at)
        )
        self.session.execute(
            update(DealStageChange).where(DealStageChange.deal_id == deal.id).values(changed_at=at)
        )

    def _update(self, row: DealRow, deal: Deal) -> Outcome:
        version = deal.version
        fields = {
            name: getattr(row, name)
            for name in ("amount", "currency", "owner_id", "channel_id")
            if getattr(row, name) is not None
        }
        data = self.validated(DealUpdate, row.reader, fields)
        deal_service.update_deal(
            self.session, actor=self.actor, scope=self.scope, deal=deal, data=data
        )
        if row.stage is not None and row.stage.id != deal.stage_id:
            move = {"stage_id": row.stage.id, "lost_reason": row.lost_reason}
            if row.stage.pipeline_id != deal.pipeline_id:
                move["pipeline_id"] = row.stage.pipeline_id
            data_move = self.validated(DealMove, row.reader, move)
            deal_service.move_to_stage(self.session, actor=self.actor, deal=deal, data=data_move)
        return Outcome.UPDATED if deal.version != version else Outcome.UNCHANGED


def _currency(value: object) -> str:
    code = cells.text(value).upper()  # type: ignore[arg-type]
    if not _CURRENCY.fullmatch(code):
        raise ValueError("currency must be a three-letter ISO code such as RUB")
    return code


def _no_single_client(field_name: str, ids: set[int]) -> str:
    what = "id" if field_name == "client_id" else field_name
    if not ids:
        return f"no client with this {what} visible to you"
    return f"several clients have this {what} ({', '.join(str(i) for i in sorted(ids))})"
