"""Deals and their stage history.

Each lead's outcome is decided first: won with probability channel win rate x campaign
multiplier x manager multiplier. A won deal walks every open stage and closes as Won; a lost
deal walks to the open stage it is lost in (drawn from the stages' ``lost_share``) and closes
as Lost. Stage dwell times are exponential around each stage's mean. History that would fall
after the end of the window is cut, which leaves recent deals open where they stand.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from voronka.demo import ragged
from voronka.demo.clients import ClientBatch
from voronka.demo.leads import Leads
from voronka.demo.rows import VERSION, TableRows, nullable, nullable_text, rows, when
from voronka.demo.timeline import days
from voronka.demo.world import World


@dataclass(frozen=True)
class StageHistory:
    """The kept stage changes of a chunk's deals, flat and ordered by deal then time."""

    deal: np.ndarray  # index of the deal in the batch
    step: np.ndarray  # 0 for creation, then 1, 2, ...
    stage: np.ndarray  # stage index
    at: np.ndarray


@dataclass(frozen=True)
class DealBatch:
    """A chunk's deals (one per lead, same order) and their history."""

    ids: np.ndarray
    client: np.ndarray  # batch index of the client
    channel: np.ndarray
    campaign: np.ndarray  # global campaign index, -1 when the channel has none
    by_call: np.ndarray  # the lead came in as a phone call
    is_first: np.ndarray  # the client's first lead (False: a returning client's later one)
    created_at: np.ndarray
    amount: np.ndarray  # whole roubles
    stage: np.ndarray  # current stage index
    closed_at: np.ndarray  # NaT while open
    is_won: np.ndarray
    #: When the owner first called the lead back (may fall after the window end).
    responded_at: np.ndarray
    history: StageHistory

    def __len__(self) -> int:
        return len(self.ids)


def draw_deals(
    world: World, rng: np.random.Generator, batch: ClientBatch, leads: Leads, first_id: int
) -> DealBatch:
    """Decide every lead's outcome, walk it through the pipeline and cut it at the window end."""
    open_stages = world.params.open_stages
    manager = batch.manager[leads.client]
    will_win = rng.random(len(leads)) < _win_probability(world, leads, manager)
    lost_p = [s.lost_share for s in open_stages]
    last_open = np.where(
        will_win, len(open_stages) - 1, rng.choice(len(open_stages), size=len(leads), p=lost_p)
    )
    responded_at = leads.at + days(_response_days(world, rng, manager))
    planned = _planned_history(world, rng, leads.at, will_win, last_open, responded_at)
    kept = planned.at < world.window.end
    history = StageHistory(
        planned.deal[kept], planned.step[kept], planned.stage[kept], planned.at[kept]
    )
    last = ragged.last_child(np.bincount(history.deal, minlength=len(leads)))
    stage = history.stage[last]
    is_closed = stage >= len(open_stages)
    return DealBatch(
        ids=first_id + np.arange(len(leads)),
        client=leads.client,
        channel=leads.channel,
        campaign=leads.campaign,
        by_call=leads.by_call,
        is_first=leads.is_first,
        created_at=leads.at,
        amount=_amounts(world, rng, batch.is_company[leads.client]),
        stage=stage,
        closed_at=when(history.at[last], is_closed),
        is_won=stage == len(open_stages),
        responded_at=responded_at,
        history=history,
    )


def _win_probability(world: World, leads: Leads, manager: np.ndarray) -> np.ndarray:
    params = world.params
    channel_rate = np.asarray([c.win_rate for c in params.channels])[leads.channel]
    campaign = np.append(world.campaigns.win_multiplier, 1.0)[leads.campaign]
    owner = np.asarray([m.win_multiplier for m in params.managers])[manager]
    return channel_rate * campaign * owner


def _planned_history(
    world: World,
    rng: np.random.Generator,
    created_at: np.ndarray,
    will_win: np.ndarray,
    last_open: np.ndarray,
    responded_at: np.ndarray,
) -> StageHistory:
    """Every stage change each deal would make if time did not stop at the window end.

    A deal leaves its first stage only after the owner's first call back.
    """
    open_stages = world.params.open_stages
    counts = last_open + 2  # the open stages walked, then the close
    deal = ragged.parent_of(counts)
    step = ragged.position_in_parent(counts)
    close_stage = np.where(will_win, len(open_stages), len(open_stages) + 1)
    stage = np.where(step <= last_open[deal], step, close_stage[deal])
    mean = np.append([s.mean_days for s in open_stages], [0.0, 0.0])[stage]
    dwell = np.minimum(rng.exponential(1.0, len(stage)), world.params.dwell_cap) * mean
    waited = ragged.cumsum_within(dwell, counts) - dwell
    start = np.where(step > 0, responded_at[deal], created_at[deal])
    return StageHistory(deal, step, stage, start + days(waited))


def _response_days(world: World, rng: np.random.Generator, manager: np.ndarray) -> np.ndarray:
    """Delay of the first call back: log-normal around the owner's planted median, capped."""
    params = world.params
    median = np.asarray([m.response_minutes for m in params.managers])[manager]
    minutes = np.minimum(rng.lognormal(np.log(median), 0.9), params.response_cap_hours * 60)
    return minutes / (24 * 60)


def _amounts(world: World, rng: np.random.Generator, is_company: np.ndarray) -> np.ndarray:
    params = world.params
    amount = rng.lognormal(
        np.log(params.deal_amount_median), params.deal_amount_sigma, len(is_company)
    )
    amount *= np.where(is_company, params.company_amount_multiplier, 1.0)
    return np.maximum(np.round(amount / 100) * 100, 100).astype(np.int64)


def deal_rows(
    world: World, rng: np.random.Generator, batch: ClientBatch, deals: DealBatch
) -> TableRows:
    """The deals as they stand at the end of the window."""
    params = world.params
    stage_kind = np.asarray([s.kind for s in params.stages])[deals.stage]
    is_lost = stage_kind == "lost"
    reasons = np.asarray([reason for reason, _ in params.lost_reasons])
    reason = reasons[rng.choice(len(reasons), len(deals), p=[s for _, s in params.lost_reasons])]
    last = ragged.last_child(np.bincount(deals.history.deal, minlength=len(deals)))
    entered = deals.history.at[last]
    owner = world.manager_ids[batch.manager[deals.client]]
    return rows(
        "deal",
        deals.ids,
        title=np.strings.add("Inquiry ", deals.ids.astype(str)),
        client_id=batch.ids[deals.client],
        pipeline_id=1,
        stage_id=world.stage_ids[deals.stage],
        status=stage_kind,
        owner_id=owner,
        amount_minor=deals.amount * 100,
        currency="RUB",
        channel_id=deals.channel + 1,
        campaign_id=nullable(deals.campaign + 1, deals.campaign >= 0),
        stage_entered_at=entered,
        closed_at=deals.closed_at,
        expected_close_on=(deals.created_at + np.timedelta64(30, "D")).astype("datetime64[D]"),
        lost_reason=nullable_text(reason, is_lost),
        custom_fields="{}",
        created_by_id=owner,
        is_deleted=False,
        created_at=deals.created_at,
        updated_at=entered,
        version=VERSION,
    )


def stage_change_rows(
    world: World, batch: ClientBatch, deals: DealBatch, first_id: int
) -> TableRows:
    """One row per kept move; the first row of a deal has no ``from_stage_id``."""
    history = deals.history
    previous = np.roll(history.stage, 1)
    return rows(
        "deal_stage_change",
        first_id + np.arange(len(history.deal)),
        deal_id=deals.ids[history.deal],
        from_stage_id=nullable(world.stage_ids[previous], history.step > 0),
        to_stage_id=world.stage_ids[history.stage],
        changed_at=history.at,
        changed_by_id=world.manager_ids[batch.manager[deals.client[history.deal]]],
    )
