"""Per-client and per-visitor state derived from all history, kept instead of recomputed.

Some questions need all of a client's history however short the period asked about: which
order was the client's first ever, when a deal first entered each stage, when a deal's client
was first contacted after it arrived, which client stands behind a tracker visitor id, which
touches came before a first purchase, which visitors never belonged to a paying client — and
which channel, campaign, manager and pipeline each revenue order is attributed to (a join of
every order with its deal and client). Recomputing them in every report means a rescan of every
order or touchpoint per report. Each is declared here once, as an ibis expression over the
sources, and:

* on the snapshot engines (DuckDB, Spark) it is **materialised** into the snapshot when the
  tables it reads change (:func:`materialise`, called by ``snapshot.refresh``), so reports
  read a small table;
* on PostgreSQL in place (no snapshot) the same expression is used as a view.

Both give the same rows, so every engine keeps giving the same numbers. Derived tables are
computed over every client and then restricted by the record scope like the other
client-bound tables, so a scoped user sees each client's true first order and visitor owner.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import ibis
import ibis.expr.types as ir

from voronka.analytics.columns import REVENUE_STATUSES

DERIVED_DIR = "derived"


@dataclass(frozen=True)
class Derived:
    name: str
    inputs: tuple[str, ...]  # snapshot tables it is computed from
    client_column: str | None  # the column the record scope restricts (None: not restricted)
    build: Callable[[dict[str, ir.Table]], ir.Table]
    #: Aggregates over many clients cannot be restricted afterwards: a scoped user gets the
    #: same expression over the scoped tables instead.
    rebuilt_when_scoped: bool = False
    #: Kept rows are written in this order, so that the Parquet row groups' min/max let the
    #: engines skip what a filter on these columns excludes.
    order: tuple[str, ...] = ()


def revenue_rows(orders: ir.Table) -> ir.Table:
    """The orders that bring revenue: paid, neither cancelled nor returned, not deleted."""
    o = orders
    return o.filter(~o.is_deleted, o.paid_at.notnull(), o.status.isin(REVENUE_STATUSES))


def client_first_order(t: dict[str, ir.Table]) -> ir.Table:
    """``(client_id, first_order_id, first_paid_at)``: each client's first revenue order."""
    o = revenue_rows(t["sales_order"])
    ranked = o.mutate(rank=ibis.row_number().over(group_by=o.client_id,
                                                  order_by=[o.paid_at, o.id]))
    first = ranked.filter(ranked.rank == 0)
    return first.select(client_id=first.client_id, first_order_id=first.id,
                        first_paid_at=first.paid_at)


def revenue_order(t: dict[str, ir.Table]) -> ir.Table:
    """Revenue orders (paid, neither cancelled nor returned, not deleted), every column, with
    their attribution: the order's own channel and campaign when it names either (an
    imported shop or marketplace order), else its deal's, else the client's source — the
    campaign always with the channel it came from; the manager is the order's owner, else
    the client's; the pipeline is the deal's."""
    o, d, c = revenue_rows(t["sales_order"]), t["deal"], t["client"]
    deal_dims = d.select(deal_key=d.id, deal_channel=d.channel_id,
                         deal_campaign=d.campaign_id, deal_pipeline=d.pipeline_id)
    client_dims = c.select(client_key=c.id, client_channel=c.source_channel_id,
                           client_campaign=c.source_campaign_id, client_owner=c.owner_id)
    j = o.left_join(deal_dims, o.deal_id == deal_dims.deal_key)
    j = j.left_join(client_dims, j.client_id == client_dims.client_key)
    own = j.channel_id.notnull() | j.campaign_id.notnull()
    return j.select(
        *o.columns,
        dim_channel=own.ifelse(j.channel_id, ibis.coalesce(j.deal_channel, j.client_channel)),
        dim_campaign=own.ifelse(j.campaign_id,
                                ibis.coalesce(j.deal_campaign, j.client_campaign)),
        dim_manager=ibis.coalesce(j.owner_id, j.client_owner),
        dim_pipeline=j.deal_pipeline,
    )


def visitor_owner(t: dict[str, ir.Table]) -> ir.Table:
    """``(visitor_id, owner)``: the one client ever seen with a visitor id.

    A visitor id seen with two or more clients (a shared computer) names nobody.
    """
    touch = t["touchpoint"]
    known = touch.filter(touch.visitor_id.notnull(), touch.client_id.notnull())
    ranges = known.group_by("visitor_id").aggregate(lowest=known.client_id.min(),
                                                   highest=known.client_id.max())
    return ranges.filter(ranges.lowest == ranges.highest).select(
        visitor_id=ranges.visitor_id, owner=ranges.lowest)


def paying_visitor(t: dict[str, ir.Table]) -> ir.Table:
    """``(visitor_id, client_id)``: visitor ids seen with a client who ever paid an order.

    ``client_id`` is the lowest such client. The record scope does not restrict this table:
    a visitor who bought as another team's client has still bought (only aggregates of
    visits are built from it).
    """
    touch, o = t["touchpoint"], revenue_rows(t["sales_order"])
    known = touch.filter(touch.visitor_id.notnull(), touch.client_id.isin(o.client_id))
    return known.group_by("visitor_id").aggregate(client_id=known.client_id.min())


#: The longest lookback a pre-sale question may ask for (``JourneyQuery.lookback_days``).
PRESALE_DAYS = 366


def presale_touch(t: dict[str, ir.Table]) -> ir.Table:
    """Each buyer's touchpoints in the ``PRESALE_DAYS`` up to their first revenue order.

    Columns ``client_id, first_paid_at, id, occurred_at, kind, channel_id, pages,
    seconds_on_site``. A touchpoint is the buyer's through its client, else through the one
    client known behind its visitor id (``visitor_owner``).
    """
    touch, owners = t["touchpoint"], visitor_owner(t)
    owners = owners.select(owned_visitor=owners.visitor_id, owner=owners.owner)
    j = touch.left_join(owners, touch.visitor_id == owners.owned_visitor)
    people = j.mutate(person=ibis.coalesce(j.client_id, j.owner))
    first = client_first_order(t)
    k = people.join(first, people.person == first.client_id)
    before = k.first_paid_at.epoch_seconds() - k.occurred_at.epoch_seconds()
    k = k.filter(before >= 0, before <= PRESALE_DAYS * 86400)
    return k.select(client_id=k.person, first_paid_at=k.first_paid_at, id=k.id,
                    occurred_at=k.occurred_at, kind=k.kind, channel_id=k.channel_id,
                    pages=k.pages, seconds_on_site=k.seconds_on_site)


def stranger_visit_hour(t: dict[str, ir.Table]) -> ir.Table:
    """Visits of visitors never matched to a paying client, per UTC hour and landing page.

    Periods of company-local days are unions of whole UTC hours when the zone's offset is a
    whole number of hours; other zones use :func:`stranger_visits` by the minute.
    """
    return stranger_visits(t, "h")


def stranger_visits(t: dict[str, ir.Table], unit: str) -> ir.Table:
    """Columns ``hour, landing_page, channel_id, campaign_id, visits, bounces``.

    ``hour`` is the visit time truncated to ``unit`` (``h`` or ``m``); a bounce is a visit of
    at most one page; a visitor never matched to a paying client is one whose visit has no
    paying client and whose visitor id was never seen with one.
    """
    touch, paid = t["touchpoint"], revenue_rows(t["sales_order"])
    bought = paying_visitor(t)
    visits = touch.filter(touch.kind == "visit")
    strangers = visits.filter(
        visits.client_id.isnull() | ~visits.client_id.isin(paid.client_id),
        visits.visitor_id.isnull() | ~visits.visitor_id.isin(bought.visitor_id),
    )
    return strangers.group_by(
        hour=strangers.occurred_at.truncate(unit), landing_page=strangers.landing_page,
        channel_id=strangers.channel_id, campaign_id=strangers.campaign_id,
    ).aggregate(visits=strangers.count(),
                bounces=(strangers.pages <= 1).ifelse(1, 0).sum())


def deal_stage_entry(t: dict[str, ir.Table]) -> ir.Table:
    """``(deal_id, client_id, to_stage_id, first_at, entries, next_at)`` per live deal and
    stage (deleted deals left out).

    ``first_at`` is when the deal first entered the stage, ``entries`` how many changes led
    into it, ``next_at`` the deal's next change after that first entry (NULL while it stays).
    A deal that entered each of a funnel's stages once has its whole path in these rows, so
    the funnel reads them instead of the stage history (``reports/funnel.py``).
    """
    changes, deals = t["deal_stage_change"], t["deal"]
    ordered = changes.mutate(next_at=changes.changed_at.lead().over(
        group_by=changes.deal_id, order_by=[changes.changed_at, changes.id]))
    # Along a deal's history the next change's time never decreases, so the smallest next
    # time of a stage's entries is the first entry's.
    first = ordered.group_by("deal_id", "to_stage_id").aggregate(
        first_at=ordered.changed_at.min(), entries=ordered.count().cast("int64"),
        next_at=ordered.next_at.min())
    live = deals.filter(~deals.is_deleted)  # a deleted deal is in no funnel
    owners = live.select(entry_deal=live.id, client_id=live.client_id)
    j = first.join(owners, first.deal_id == owners.entry_deal)
    return j.select("deal_id", "client_id", "to_stage_id", "first_at", "entries", "next_at")


def deal_first_response(t: dict[str, ir.Table]) -> ir.Table:
    """``(deal_id, client_id, first_contact_at)``: the first outbound contact with the deal's
    client (an outbound call, e-mail or message, or a meeting) at or after the deal's creation.

    Deals never contacted have no row.
    """
    d, a = t["deal"], t["activity"]
    outbound = a.filter(
        ~a.is_deleted, a.client_id.notnull(),
        (a.direction == "outbound") | (a.kind == "meeting"),  # an inbound e-mail is no reply
    ).select(contact_client=a.client_id, contact_at=a.occurred_at)
    j = d.join(outbound, (d.client_id == outbound.contact_client)
               & (outbound.contact_at >= d.created_at))
    return j.group_by(deal_id=j.id, client_id=j.client_id).aggregate(
        first_contact_at=j.contact_at.min())


DERIVED = {
    d.name: d
    for d in (
        Derived("client_first_order", ("sales_order",), "client_id", client_first_order),
        Derived("revenue_order", ("sales_order", "deal", "client"), "client_id",
                revenue_order, order=("paid_at",)),
        Derived("deal_stage_entry", ("deal_stage_change", "deal"), "client_id",
                deal_stage_entry, order=("to_stage_id", "first_at")),
        Derived("deal_first_response", ("deal", "activity"), "client_id",
                deal_first_response),
        Derived("visitor_owner", ("touchpoint", "client"), "owner", visitor_owner),
        Derived("presale_touch", ("touchpoint", "client", "sales_order"), "client_id",
                presale_touch),
        Derived("stranger_visit_hour", ("touchpoint", "client", "sales_order"), None,
                stranger_visit_hour, rebuilt_when_scoped=True),
    )
}


def views(tables: dict[str, ir.Table]) -> dict[str, ir.Table]:
    """Every derived table as an expression over ``tables`` (PostgreSQL, or no snapshot)."""
    return {name: d.build(tables) for name, d in DERIVED.items()}


def folder(directory: Path, name: str) -> Path:
    return directory / DERIVED_DIR / name


def materialise(backend: ibis.BaseBackend, tables: dict[str, ir.Table], directory: Path,
                changed: set[str]) -> dict[str, str]:
    """Write the derived tables whose inputs are in ``changed`` (or missing) as Parquet.

    ``tables`` are the snapshot's tables (merged clients resolved) on a DuckDB backend. The
    new file is written beside the old one and swapped in, so readers never see half a file.
    A kept table whose definition changed since it was written (a new release) is rewritten.
    """
    done = {}
    for stale in (directory / DERIVED_DIR).glob("*"):  # no longer declared (or half-written)
        if stale.name not in DERIVED:
            shutil.rmtree(stale, ignore_errors=True)
    for name, d in DERIVED.items():
        target = folder(directory, name)
        expression = d.build(tables)
        if d.order:
            expression = expression.order_by(*d.order)
        fingerprint = _fingerprint(backend, expression)
        if (target.exists() and not changed.intersection(d.inputs)
                and _kept_fingerprint(target) == fingerprint):
            continue
        fresh = target.with_name(name + ".new")
        shutil.rmtree(fresh, ignore_errors=True)
        fresh.mkdir(parents=True)
        backend.to_parquet(expression, fresh / "part-00000.parquet")
        (fresh / DEFINITION_FILE).write_text(fingerprint)
        shutil.rmtree(target, ignore_errors=True)
        fresh.rename(target)
        done[name] = "rewritten"
    return done


#: Beside each kept table: a hash of the SQL it was computed with (Spark skips "_" files).
DEFINITION_FILE = "_definition.sha256"


def _fingerprint(backend: ibis.BaseBackend, expression: ir.Table) -> str:
    return hashlib.sha256(str(backend.compile(expression)).encode()).hexdigest()


def _kept_fingerprint(target: Path) -> str | None:
    path = target / DEFINITION_FILE
    return path.read_text().strip() if path.exists() else None
