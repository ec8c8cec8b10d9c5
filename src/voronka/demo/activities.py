"""Activities around deals: the lead's call, the manager's response, calls before each move,
the proposal e-mail, meetings, follow-up tasks and closing notes.

Each kind is built as a *part*: a dict of columns for some rows. ``activity_rows`` joins the
parts into one table, filling the columns a part does not have with NULL.

A returning client's later leads get only the lead's own call (when it came by phone) and the
manager's first call back, so the response-time truths hold per lead while the activity table
does not triple with the leads; the stage calls, e-mails, meetings, tasks and notes belong to
each client's first lead.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import DTypeLike

from voronka.demo.calls import inbound_calls, outbound_calls
from voronka.demo.clients import ClientBatch
from voronka.demo.deals import DealBatch
from voronka.demo.rows import VERSION, TableRows, nullable, nullable_text, rows
from voronka.demo.timeline import days, seconds
from voronka.demo.world import World

Part = dict[str, np.ndarray]

_TEXT = ("subject", "direction", "from_number", "to_number", "tracking_number", "call_status")
_NUMBERS = ("deal_id", "wait_seconds", "talk_seconds")
_TIMES = ("queued_at", "answered_at", "ended_at", "due_at", "remind_at", "completed_at")
NAT = np.datetime64("NaT", "us")
#: Proposal stage (index 2) sends an e-mail, Negotiation (index 3) may bring a meeting.
PROPOSAL, NEGOTIATION = 2, 3


def deal_activities(
    world: World, rng: np.random.Generator, batch: ClientBatch, deals: DealBatch
) -> list[Part]:
    """Every activity of a chunk's deals that happened before the end of the window."""
    parts = [
        _lead_calls(world, rng, batch, deals),
        _response_calls(world, rng, batch, deals),
        _stage_calls(world, rng, batch, deals),
        _proposal_emails(world, batch, deals),
        _meetings(world, rng, batch, deals),
        _tasks(world, rng, batch, deals),
        _closing_notes(world, rng, batch, deals),
    ]
    return [_before(part, world.window.end) for part in parts]


def _about(batch: ClientBatch, deals: DealBatch, deal: np.ndarray, world: World) -> Part:
    """The client, deal and owner columns of activities about ``deal`` (batch indices)."""
    client = deals.client[deal]
    return {
        "client_id": batch.ids[client],
        "deal_id": deals.ids[deal],
        "owner_id": world.manager_ids[batch.manager[client]],
    }


def _lead_calls(
    world: World, rng: np.random.Generator, batch: ClientBatch, deals: DealBatch
) -> Part:
    deal = np.flatnonzero(deals.by_call)
    number = world.tracking_number(deals.channel[deal], deals.campaign[deal])
    phone = batch.phone[deals.client[deal]]
    call = inbound_calls(world, rng, deals.created_at[deal], phone, number)
    return {**call, **_about(batch, deals, deal, world)}


def _response_calls(
    world: World, rng: np.random.Generator, batch: ClientBatch, deals: DealBatch
) -> Part:
    """The manager's first call back; its delay is the planted response time."""
    deal = np.arange(len(deals))
    call = outbound_calls(world, rng, deals.responded_at, batch.phone[deals.client])
    return {**call, **_about(batch, deals, deal, world)}


def _stage_calls(
    world: World, rng: np.random.Generator, batch: ClientBatch, deals: DealBatch
) -> Part:
    """A call shortly before every move of a deal (never before the first call back)."""
    history = deals.history
    moved = np.flatnonzero((history.step > 0) & deals.is_first[history.deal])
    deal = history.deal[moved]
    before = seconds(rng.uniform(600, 4 * 3600, len(moved)))
    at = np.maximum(history.at[moved] - before, deals.responded_at[deal] + seconds(60.0))
    call = outbound_calls(world, rng, at, batch.phone[deals.client[deal]])
    return {**call, **_about(batch, deals, deal, world)}


def _proposal_emails(world: World, batch: ClientBatch, deals: DealBatch) -> Part:
    entered = np.flatnonzero(_of_first_leads(deals) & (deals.history.stage == PROPOSAL))
    deal = deals.history.deal[entered]
    return {
        "kind": np.full(len(deal), "email"),
        "subject": np.full(len(deal), "Commercial proposal"),
        "direction": np.full(len(deal), "outbound"),
        "occurred_at": deals.history.at[entered] + seconds(900.0),
        **_about(batch, deals, deal, world),
    }


def _closing_notes(
    world: World, rng: np.random.Generator, batch: ClientBatch, deals: DealBatch
) -> Part:
    closed = ~np.isnat(deals.closed_at) & deals.is_first
    closed = np.flatnonzero(closed & (rng.random(len(deals)) < 0.4))
    subject = np.where(deals.is_won[closed], "Deal won", "Deal lost")
    return {
        "kind": np.full(len(closed), "note"),
        "subject": subject,
        "occurred_at": deals.closed_at[closed] + seconds(300.0),
        **_about(batch, deals, closed, world),
    }


def _meetings(world: World, rng: np.random.Generator, batch: ClientBatch, deals: DealBatch) -> Part:
    entered = np.flatnonzero(_of_first_leads(deals) & (deals.history.stage == NEGOTIATION))
    deal = deals.history.deal[entered]
    keep = rng.random(len(deal)) < np.where(batch.is_company[deals.client[deal]], 0.9, 0.5)
    deal, due = deal[keep], deals.history.at[entered][keep] + days(2.0)
    done = due + seconds(3600.0)
    return {
        "kind": np.full(len(deal), "meeting"),
        "subject": np.full(len(deal), "Meeting"),
        "occurred_at": due,
        "due_at": due,
        "completed_at": np.where(done < world.window.end, done, NAT),
        **_about(batch, deals, deal, world),
    }


def _tasks(world: World, rng: np.random.Generator, batch: ClientBatch, deals: DealBatch) -> Part:
    """A call-back task at creation and a follow-up at Proposal; some are done late."""
    history = deals.history
    row = (history.step == 0) | (history.stage == PROPOSAL)
    row = np.flatnonzero(_of_first_leads(deals) & row)
    deal, created = history.deal[row], history.at[row]
    due = created + days(np.where(history.step[row] == 0, 1.0, 3.0))
    late_share = np.asarray([m.task_overdue_share for m in world.params.managers])
    late = rng.random(len(row)) < late_share[batch.manager[deals.client[deal]]]
    early = rng.uniform(0, 20 * 3600, len(row))
    completed = np.where(
        late,
        due + days(rng.exponential(2.0, len(row))),
        np.maximum(due - seconds(early), created + seconds(60.0)),
    )
    subject = np.where(history.step[row] == 0, "Call the client back", "Follow up on the proposal")
    return {
        "kind": np.full(len(row), "task"),
        "subject": subject,
        "occurred_at": created,
        "due_at": due,
        "remind_at": due - seconds(3600.0),
        "completed_at": np.where(completed < world.window.end, completed, NAT),
        **_about(batch, deals, deal, world),
    }


def _of_first_leads(deals: DealBatch) -> np.ndarray:
    """Whether each stage change belongs to a client's first lead."""
    return deals.is_first[deals.history.deal]


def _before(part: Part, end: np.datetime64) -> Part:
    keep = part["occurred_at"] < end
    return {name: values[keep] for name, values in part.items()}


def activity_rows(parts: list[Part], first_id: int) -> TableRows:
    """Join activity parts into the activity table; calls get an external id and recording."""
    count = sum(len(part["kind"]) for part in parts)
    ids = first_id + np.arange(count)
    column = {
        name: np.concatenate([part[name] for part in parts])
        for name in ("kind", "client_id", "owner_id", "occurred_at")
    }
    text = {name: _joined(parts, name, None, object) for name in _TEXT}
    times = {name: _joined(parts, name, NAT, "datetime64[us]") for name in _TIMES}
    numbers = {name: _joined(parts, name, np.nan, float) for name in _NUMBERS}
    is_call = column["kind"] == "call"
    answered = text["call_status"] == "answered"
    updated = np.fmax(np.fmax(column["occurred_at"], times["ended_at"]), times["completed_at"])
    return rows(
        "activity",
        ids,
        **column,
        body=None,
        external_id=nullable_text(np.strings.add("pbx-", ids.astype(str)), is_call),
        recording_url=nullable_text(
            np.strings.add(
                np.strings.add("https://pbx.example.com/records/", ids.astype(str)), ".mp3"
            ),
            answered,
        ),
        **text,
        **times,
        **{
            name: nullable(np.nan_to_num(v).astype(np.int64), ~np.isnan(v))
            for name, v in numbers.items()
        },
        is_deleted=False,
        created_at=column["occurred_at"],
        updated_at=updated,
        version=VERSION,
    )


def _joined(parts: list[Part], name: str, missing: object, dtype: DTypeLike) -> np.ndarray:
    return np.concatenate(
        [
            np.asarray(part[name], dtype=dtype)
            if name in part
            else np.full(len(part["kind"]), missing, dtype=dtype)
            for part in parts
        ]
    )
