"""The reads of call processing, answered for a whole batch of events at once.

Processing one new caller's event asked the store seven small questions (the manager on the
extension, the tracking number and its campaign, the client holding the number, their open
deal, whether the number called lately, whether the call is already open). A
:class:`Lookups` asks each question once for all the events of a batch (``prefetch``) and
keeps the answers in step with what the batch itself writes (``remember_*``), so the second
event of a new caller in the same batch finds the client the first one created. A question
not prefetched is asked of the store as before, so the same code serves one event alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from voronka.campaign import repository as campaign_repository
from voronka.campaign.models import Campaign, TrackingNumber
from voronka.client.models import Client, ContactKind, ContactPoint
from voronka.deal.models import Deal, DealStatus
from voronka.integrations.telephony import repository
from voronka.integrations.telephony.models import TelephonyCall, TelephonyExtension
from voronka.integrations.telephony.writes import Immediate, Writes

_MISSING = object()
_LOCKS = "voronka.telephony.phone_locks"
#: Every key of a batch in one statement, taken in ascending order (the sorted subquery).
_LOCK_IN_ORDER = text(
    "SELECT count(pg_advisory_xact_lock(key)) FROM "
    "(SELECT unnest(CAST(:keys AS bigint[])) AS key ORDER BY 1) AS keys"
)


def phone_lock_key(workspace_id: int, e164: str) -> int:
    """The advisory-lock key of a phone number; the same key as lead intake's
    (``voronka.lead.intake``), so a form lead and a call from one number take turns too."""
    digest = hashlib.blake2b(f"{workspace_id}:{ContactKind.PHONE}:{e164}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big", signed=True)


def lock_phones(session: Session, workspace_id: int, numbers: Iterable[str]) -> None:
    """On PostgreSQL, hold each number's lock until the transaction ends, in a fixed order
    (no deadlock between two batches). Two workers processing calls of one unknown number
    then take turns, and the second finds the client the first created. SQLite writers are
    serial already (``BEGIN IMMEDIATE``). A number locked already in this transaction is
    not asked again."""
    if session.get_bind().dialect.name != "postgresql":
        return
    held = _held_locks(session)
    keys = sorted({phone_lock_key(workspace_id, n) for n in numbers} - held)
    if keys:
        session.execute(_LOCK_IN_ORDER, {"keys": keys})
        held.update(keys)


def _held_locks(session: Session) -> set[int]:
    """The phone locks this session's current transaction holds."""
    transaction = session.get_transaction()
    kept = session.info.get(_LOCKS)
    if kept is None or kept[0] is not transaction:
        kept = session.info[_LOCKS] = (transaction, set())
    return kept[1]


class Lookups:
    """Answers of one workspace's call-processing reads, prefetched per batch."""

    def __init__(self, session: Session, workspace_id: int) -> None:
        self.session = session
        self.workspace_id = workspace_id
        self._extensions: dict[str, int | None] | None = None
        self._tracking: dict[str, TrackingNumber | None] = {}
        self._campaigns: dict[int, Campaign | None] = {}
        self._clients: dict[str, Client | None] = {}
        self._open_deal: dict[int, int | None] = {}
        self._calls: dict[tuple[str, str], TelephonyCall | None] = {}
        self._inbound_starts: dict[str, list[datetime]] = {}
        self._starts_window: tuple[datetime, datetime] | None = None
        #: where the rows go: at once, or kept for the batch's write (``telephony.batch``)
        self.writes: Writes = Immediate(session)

    # -- prefetch ----------------------------------------------------------------------------

    def prefetch(
        self,
        *,
        provider_calls: Iterable[tuple[str, str]],
        numbers: Iterable[str],
        tracking: Iterable[str],
        started: Iterable[datetime],
        unique_days: int,
    ) -> None:
        """Ask every question of the batch once (each a single query)."""
        session, ws = self.session, self.workspace_id
        rows = session.execute(
            select(TelephonyExtension.extension, TelephonyExtension.user_id).where(
                TelephonyExtension.workspace_id == ws
            )
        )
        self._extensions = {extension: user_id for extension, user_id in rows}
        tracking = set(tracking)
        if tracking:
            found = session.scalars(
                campaign_repository.numbers_of(ws).where(TrackingNumber.number.in_(tracking))
            )
            self._tracking = dict.fromkeys(tracking) | {n.number: n for n in found}
            ids = {n.campaign_id for n in self._tracking.values() if n and n.campaign_id}
            if ids:
                self._campaigns = {
                    c.id: c for c in session.scalars(select(Campaign).where(Campaign.id.in_(ids)))
                }
        self._prefetch_calls(set(provider_calls))
        numbers = set(numbers)
        if numbers:
            self._prefetch_clients(numbers)
            starts = list(started)
            if starts:
                self._prefetch_starts(
                    numbers, min(starts) - timedelta(days=unique_days), max(starts)
                )

    def _prefetch_calls(self, keys: set[tuple[str, str]]) -> None:
        if not keys:
            return
        rows = self.session.scalars(
            select(TelephonyCall).where(
                TelephonyCall.workspace_id == self.workspace_id,
                TelephonyCall.provider_call_id.in_({call_id for _, call_id in keys}),
            )
        )
        self._calls = dict.fromkeys(keys)
        for call in rows:
            if (call.provider, call.provider_call_id) in self._calls:
                self._calls[(call.provider, call.provider_call_id)] = call

    def _prefetch_clients(self, numbers: set[str]) -> None:
        rows = self.session.execute(
            select(ContactPoint.value, Client)
            .join(Client, ContactPoint.client_id == Client.id)
            .where(
                ContactPoint.workspace_id == self.workspace_id,
                ContactPoint.kind == ContactKind.PHONE,
                ContactPoint.value.in_(numbers),
                Client.is_deleted.is_(False),
                Client.merged_into_id.is_(None),
            )
            .order_by(Client.id)
        )
        self._clients = dict.fromkeys(numbers)
        for number, client in rows:  # oldest first: keep the first holder of each number
            if self._clients[number] is None:
                self._clients[number] = client
        ids = [c.id for c in self._clients.values() if c is not None]
        if not ids:
            return
        self._open_deal = dict.fromkeys(ids)
        deals = self.session.execute(
            select(Deal.client_id, Deal.id)
            .where(
                Deal.client_id.in_(ids), Deal.status == DealStatus.OPEN, Deal.is_deleted.is_(False)
            )
            .order_by(Deal.created_at.desc(), Deal.id.desc())
        )
        for client_id, deal_id in deals:  # most recent first
            if self._open_deal[client_id] is None:
                self._open_deal[client_id] = deal_id

    def _prefetch_starts(self, numbers: set[str], since: datetime, before: datetime) -> None:
        rows = self.session.execute(
            select(TelephonyCall.caller, TelephonyCall.started_at).where(
                TelephonyCall.workspace_id == self.workspace_id,
                TelephonyCall.caller.in_(numbers),
                TelephonyCall.is_inbound.is_(True),
                TelephonyCall.started_at >= since,
                TelephonyCall.started_at < before,
            )
        )
        self._inbound_starts = {n: [] for n in numbers}
        for caller, started_at in rows:
            if caller is not None:  # the query asked for these numbers only
                self._inbound_starts[caller].append(started_at)
        self._starts_window = (since, before)

    # -- questions ----------------------------------------------------------------------------

    def user_for_extension(self, extension: str) -> int | None:
        if self._extensions is not None:
            return self._extensions.get(extension)
        return repository.user_for_extension(self.session, self.workspace_id, extension)

    def tracking_number(self, e164: str) -> TrackingNumber | None:
        found = self._tracking.get(e164, _MISSING)
        if found is _MISSING:
            found = campaign_repository.find_number(self.session, self.workspace_id, e164)
        return found  # type: ignore[return-value]

    def campaign(self, campaign_id: int) -> Campaign | None:
        found = self._campaigns.get(campaign_id, _MISSING)
        return self.session.get(Campaign, campaign_id) if found is _MISSING else found  # type: ignore[return-value]

    def client_with_phone(self, e164: str) -> Client | None:
        found = self._clients.get(e164, _MISSING)
        if found is _MISSING:
            return repository.client_with_phone(self.session, self.workspace_id, e164)
        return found  # type: ignore[return-value]

    def open_deal(self, client_id: int) -> int | None:
        """The client's most recent open deal."""
        found = self._open_deal.get(client_id, _MISSING)
        if found is _MISSING:
            deals = repository.open_deals(self.session, client_id, limit=1)
            return deals[0].id if deals else None
        return found  # type: ignore[return-value]

    def call(self, provider: str, call_id: str) -> TelephonyCall | None:
        found = self._calls.get((provider, call_id), _MISSING)
        if found is _MISSING:
            return repository.call_by_provider_id(
                self.session, self.workspace_id, provider, call_id
            )
        return found  # type: ignore[return-value]

    def called_since(self, number: str, since: datetime, before: datetime) -> bool:
        """Whether ``number`` called in ``[since, before)`` (the repeat-call rule)."""
        window = self._starts_window
        if number in self._inbound_starts and window and since >= window[0] and before <= window[1]:
            return any(since <= at < before for at in self._inbound_starts[number])
        return repository.called_since(self.session, self.workspace_id, number, since, before)

    # -- what was prefetched (for the batch writer) ------------------------------------------

    def prefetched_calls(self) -> dict[tuple[str, str], TelephonyCall | None]:
        """The calls asked for by ``prefetch`` (None: not stored yet)."""
        return dict(self._calls)

    def prefetched_clients(self) -> dict[str, Client | None]:
        """The clients of the numbers asked for by ``prefetch`` (None: nobody holds it)."""
        return dict(self._clients)

    def prefetched_open_deals(self) -> dict[int, int | None]:
        """Each prefetched client's most recent open deal."""
        return dict(self._open_deal)

    def prefetched_extensions(self) -> dict[str, int | None]:
        return dict(self._extensions or {})

    # -- what the batch wrote -----------------------------------------------------------------

    def remember_client(self, e164: str, client: Client, deal_id: int | None) -> None:
        self._clients[e164] = client
        if deal_id is not None:
            self._open_deal[client.id] = deal_id

    def remember_call(self, call: TelephonyCall) -> None:
        self._calls[(call.provider, call.provider_call_id)] = call
        if call.is_inbound and call.caller in self._inbound_starts:
            self._inbound_starts[call.caller].append(call.started_at)
