"""Leads: the deals a chunk's clients open, one per client or, for returning clients, more.

By default every top-level client brings exactly one lead, the one ``draw_clients`` drew.
With ``leads_per_client`` above 1 a client brings ``1 + Poisson(leads_per_client - 1)`` leads;
the extra ones are drawn exactly as a new client's lead is (channel by lead share, campaign,
seasonal or fair-following day, by call or by form), from a random stream of their own so
that the default company does not change. A client's leads are then ordered in time: the
earliest is the one the client arrived with (it sets the client's source, creation time and
first touches) and the later ones are the client coming back.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from voronka.demo import clients
from voronka.demo.clients import ClientBatch
from voronka.demo.world import World


@dataclass(frozen=True)
class Leads:
    """A chunk's leads, ordered by client then time; each becomes one deal."""

    client: np.ndarray  # batch index of the client
    at: np.ndarray
    channel: np.ndarray
    campaign: np.ndarray  # global campaign index, -1 when the channel has none
    by_call: np.ndarray
    #: True for a client's first lead, False for the leads of a returning client.
    is_first: np.ndarray

    def __len__(self) -> int:
        return len(self.client)


def one_per_client(batch: ClientBatch) -> Leads:
    """The lead each client arrived with, and no other."""
    return Leads(
        client=np.arange(len(batch)),
        at=batch.lead_at,
        channel=batch.channel,
        campaign=batch.campaign,
        by_call=batch.lead_by_call,
        is_first=np.ones(len(batch), dtype=bool),
    )


def with_returning(
    world: World, rng: np.random.Generator, batch: ClientBatch, mean: float
) -> tuple[ClientBatch, Leads]:
    """Draw the returning clients' extra leads; return the batch as of each first lead, and all leads.

    ``rng`` must be a stream of its own: the default company draws nothing from it.
    """
    extra = rng.poisson(mean - 1, len(batch))
    client = np.repeat(np.arange(len(batch)), extra)
    channels = world.params.channels
    channel = rng.choice(len(channels), size=len(client), p=[c.lead_share for c in channels])
    campaign = clients.draw_campaigns(world, rng, channel)
    at = clients.draw_lead_times(world, rng, campaign)
    call_share = np.asarray([c.lead_by_call_share for c in channels])[channel]
    by_call = rng.random(len(client)) < call_share
    every = Leads(
        client=np.concatenate([np.arange(len(batch)), client]),
        at=np.concatenate([batch.lead_at, at]),
        channel=np.concatenate([batch.channel, channel]),
        campaign=np.concatenate([batch.campaign, campaign]),
        by_call=np.concatenate([batch.lead_by_call, by_call]),
        is_first=np.zeros(len(batch) + len(client), dtype=bool),
    )
    order = np.lexsort((every.at, every.client))
    leads = Leads(*(getattr(every, name)[order] for name in _FIELDS))
    first = np.searchsorted(leads.client, np.arange(len(batch)))
    leads.is_first[first] = True
    arrived = replace(
        batch,
        lead_at=leads.at[first],
        channel=leads.channel[first],
        campaign=leads.campaign[first],
        lead_by_call=leads.by_call[first],
    )
    return arrived, leads


_FIELDS = ("client", "at", "channel", "campaign", "by_call", "is_first")
