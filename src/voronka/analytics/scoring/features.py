"""The feature table of lead scoring: one row per deal, built by the engine as one expression.

Features describe what is known about a deal a day after it arrived, so that a model learnt
on closed deals applies to open ones without peeking at the outcome:

* the deal: channel, campaign, manager (owner), pipeline (categories), amount (log);
* the client: person or company, revenue orders paid and deals won before the deal;
* the activity of the first ``HORIZON_HOURS`` hours: outbound contacts (calls, e-mails,
  messages, meetings) and the hours until the first one (the horizon when there was none).

Categories carry the entity's name and id (``"Yandex Direct #3"``), so explanations read
well and two entities with one name stay apart.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from voronka.analytics import facts
from voronka.analytics.metrics.measures import count_where
from voronka.analytics.sources import Sources

HORIZON_HOURS = 24
CATEGORICAL = ("channel", "campaign", "manager", "pipeline", "client_kind")
NUMERIC = ("log_amount", "prior_orders", "prior_won", "contacts", "response_hours")
FEATURES = (*CATEGORICAL, *NUMERIC)
NONE = "none"


def _named(ids: ir.IntegerColumn, names: ir.StringColumn) -> ir.StringColumn:
    text = ibis.coalesce(names, ibis.literal("?")) + " #" + ids.cast("string")
    return ids.isnull().ifelse(ibis.literal(NONE), text)


def _labels(sources: Sources, table: str, prefix: str) -> ir.Table:
    t = sources[table]
    return t.select(**{f"{prefix}_key": t.id, f"{prefix}_name": t.name})


def _prior_history(sources: Sources, deals: ir.Table) -> ir.Table:
    """Per deal: revenue orders paid and other deals won by its client before it arrived."""
    keys = deals.select(hist_deal=deals.id, hist_client=deals.client_id,
                        hist_created=deals.created_at)
    orders = facts.orders(sources)
    paid = orders.select(buyer=orders.client_id, paid=orders.paid_at)
    with_orders = keys.left_join(paid, (keys.hist_client == paid.buyer)
                                 & (paid.paid < keys.hist_created))
    order_counts = with_orders.group_by("hist_deal").aggregate(
        prior_orders=with_orders.paid.count())
    won = deals.filter(deals.status == "won", deals.closed_at.notnull())
    won = won.select(winner=won.client_id, won_at=won.closed_at)
    with_won = keys.left_join(won, (keys.hist_client == won.winner)
                              & (won.won_at < keys.hist_created))
    won_counts = with_won.group_by(won_deal=with_won.hist_deal).aggregate(
        prior_won=with_won.won_at.count())
    return order_counts.join(won_counts, order_counts.hist_deal == won_counts.won_deal)


def _early_contacts(sources: Sources, deals: ir.Table) -> ir.Table:
    """Per deal: outbound contacts in the first hours and the hours to the first one."""
    a = sources["activity"]
    outbound = a.filter(~a.is_deleted, a.client_id.notnull(),
                        (a.direction == "outbound") | (a.kind == "meeting"))
    outbound = outbound.select(contact_client=outbound.client_id, contact_at=outbound.occurred_at)
    keys = deals.select(early_deal=deals.id, early_client=deals.client_id,
                        early_created=deals.created_at)
    horizon = keys.early_created + ibis.interval(hours=HORIZON_HOURS)
    joined = keys.left_join(outbound, (keys.early_client == outbound.contact_client)
                            & (outbound.contact_at >= keys.early_created)
                            & (outbound.contact_at < horizon))
    seconds = joined.contact_at.epoch_seconds() - joined.early_created.epoch_seconds()
    return joined.group_by("early_deal").aggregate(
        contacts=joined.contact_at.count(),
        first_contact_seconds=seconds.min(),
    )


def deal_features(sources: Sources) -> ir.Table:
    """Every live deal with its outcome columns and the features in ``FEATURES``."""
    deals = facts.deals(sources)
    clients = sources["client"].select(kind_key=ibis._.id, client_kind=ibis._.kind)
    managers = sources["user_account"].select(manager_key=ibis._.id, manager_name=ibis._.name)
    channels = _labels(sources, "channel", "channel")
    campaigns = _labels(sources, "campaign", "campaign")
    pipelines = _labels(sources, "pipeline", "pipeline")
    history, early = _prior_history(sources, deals), _early_contacts(sources, deals)
    t = deals.left_join(clients, deals.client_id == clients.kind_key)
    t = t.left_join(channels, t.channel_id == channels.channel_key)
    t = t.left_join(campaigns, t.campaign_id == campaigns.campaign_key)
    t = t.left_join(pipelines, t.pipeline_id == pipelines.pipeline_key)
    t = t.left_join(managers, t.owner_id == managers.manager_key)
    t = t.left_join(history, t.id == history.hist_deal)
    t = t.left_join(early, t.id == early.early_deal)
    response = ibis.coalesce(t.first_contact_seconds / 3600.0, float(HORIZON_HOURS))
    return t.select(
        deal_id=t.id,
        workspace_id=t.workspace_id,
        created_at=t.created_at,
        closed_at=t.closed_at,
        status=t.status,
        won=(t.status == "won").ifelse(1, 0),
        channel=_named(t.channel_id, t.channel_name),
        campaign=_named(t.campaign_id, t.campaign_name),
        manager=_named(t.owner_id, t.manager_name),
        pipeline=_named(t.pipeline_id, t.pipeline_name),
        client_kind=ibis.coalesce(t.client_kind, ibis.literal(NONE)),
        log_amount=(ibis.greatest(t.amount_minor, 0).cast("float64") / 100.0 + 1.0).ln(),
        prior_orders=ibis.coalesce(t.prior_orders, 0).cast("int64"),
        prior_won=ibis.coalesce(t.prior_won, 0).cast("int64"),
        contacts=ibis.coalesce(t.contacts, 0).cast("int64"),
        response_hours=response.cast("float64"),
    )


def outcome_counts(features: ir.Table) -> ir.Table:
    """Closed deals and won deals (a cheap check before training)."""
    closed = features.filter(features.status.isin(("won", "lost")))
    return closed.aggregate(closed=closed.count(), won=count_where(closed.status == "won"))
