"""``generate``: build the whole demo company into an empty store, fast and reproducibly.

Clients are generated in chunks of ``CHUNK_CLIENTS`` with numpy, each chunk from its own
random stream (``[seed, chunk number]``), so memory stays bounded at millions of clients and a
seed always gives the same rows. A worker thread draws the next chunk while the current one
is written; ids are explicit and consecutive per table.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date

import numpy as np
from sqlalchemy import Engine

from voronka.demo import activities, clients, contacts, deals, leads, orders, support, touchpoints
from voronka.demo.company import ad_spend_rows, reference_rows
from voronka.demo.loader import Loader, bulk_load
from voronka.demo.params import DemoParams
from voronka.demo.rows import TableRows
from voronka.demo.stock import stock_rows
from voronka.demo.timeline import DEFAULT_END
from voronka.demo.world import World, build_world

#: Top-level clients per chunk: large enough that numpy's per-call overhead is noise, small
#: enough that two chunks in flight stay near 1.3 GB of memory at any number of clients.
CHUNK_CLIENTS = 20_000
#: Highest mean of leads per client: past it, the leads of one client crowd the two years.
MAX_LEADS_PER_CLIENT = 20.0
#: Random streams besides the chunks' own: the reference data's, and (with the chunk number
#: after it) the returning clients' extra leads, kept apart so the default company is unchanged.
_REFERENCE_STREAM = 1_000_000_000
_RETURNING_STREAM = 1_000_000_001

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class DemoSummary:
    """What ``generate`` wrote: rows per table, write seconds per table, total seconds."""

    clients: int
    seed: int
    end: date
    rows: dict[str, int]
    leads_per_client: float = 1.0
    write_seconds: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    @property
    def rows_per_second(self) -> float:
        return self.total_rows / self.seconds if self.seconds else 0.0


class _Ids:
    """Hands out consecutive explicit ids per table."""

    def __init__(self) -> None:
        self._next: dict[str, int] = {}

    def next_id(self, table: str) -> int:
        """Return the id the next row of ``table`` gets."""
        return self._next.get(table, 1)

    def reserve(self, table: str, count: int) -> int:
        """Reserve ``count`` ids of ``table`` and return the first."""
        first = self.next_id(table)
        self._next[table] = first + count
        return first

    def taken(self, table: str, rows: TableRows) -> TableRows:
        """Record that ``rows`` used ids from the table's next id on, and return them."""
        self.reserve(table, rows.count)
        return rows


def generate(
    engine: Engine,
    *,
    clients: int = 10_000,
    seed: int = 42,
    params: DemoParams | None = None,
    progress: Progress | None = None,
    end: date = DEFAULT_END,
    leads_per_client: float = 1.0,
) -> DemoSummary:
    """Empty the store's data and write a demo company of ``clients`` clients over two years.

    Parameters
    ----------
    engine
        A migrated SQLite or PostgreSQL store; its rows are deleted, its schema kept.
    clients
        Number of top-level clients (persons and companies); each arrives with a lead.
    seed
        Seed of every random draw: the same seed, size and ``end`` give the same rows.
    params
        The planted truths; ``DemoParams()`` by default.
    progress
        Called with (clients written, clients in total) after each chunk.
    end
        The last day of the data (company local time).
    leads_per_client
        Mean number of leads (deals) per client. 1 (the default) gives every client exactly
        one; above 1 a client brings ``1 + Poisson(leads_per_client - 1)``, the later ones as a
        returning client (see ``voronka.demo.leads``), and returning clients' repeat orders
        come ``params.returning_client_order_rate`` times as often.
    """
    if clients < 1:
        raise ValueError("clients must be at least 1")
    if not 1 <= leads_per_client <= MAX_LEADS_PER_CLIENT:
        raise ValueError(f"leads_per_client must be between 1 and {MAX_LEADS_PER_CLIENT}")
    started = time.perf_counter()
    world = build_world(
        params or DemoParams(),
        seed=seed,
        clients=clients,
        end=end,
        leads_per_client=leads_per_client,
    )
    with bulk_load(engine) as loader:
        _write_company(world, loader)
        sold = _write_clients(world, loader, progress)
        loader.write(stock_rows(world, sold))
    return DemoSummary(
        clients,
        seed,
        end,
        dict(loader.rows),
        leads_per_client,
        dict(loader.seconds),
        time.perf_counter() - started,
    )


def _write_company(world: World, loader: Loader) -> None:
    for table in reference_rows(world):
        loader.write(table)
    loader.write(ad_spend_rows(world, np.random.default_rng([world.seed, _REFERENCE_STREAM])))


def _write_clients(world: World, loader: Loader, progress: Progress | None) -> np.ndarray:
    """Write every chunk of clients; return units sold per product and week.

    The next chunk is drawn in a worker thread while this one is written: numpy and SQLite
    both release the GIL for their heavy parts, so the two cores share the work. Chunks are
    still drawn one after the other, so ids and random streams do not depend on timing.
    """
    ids = _Ids()
    starts = list(range(0, world.clients, CHUNK_CLIENTS))
    sold = np.zeros((len(world.products), world.window.days // 7 + 1))
    with ThreadPoolExecutor(max_workers=1) as worker:
        pending = worker.submit(_draw_chunk, world, ids, 0)
        for number, first in enumerate(starts):
            tables, chunk_sold = pending.result()
            if number + 1 < len(starts):
                pending = worker.submit(_draw_chunk, world, ids, number + 1)
            for table in tables:
                loader.write(table)
            sold += chunk_sold
            if progress is not None:
                progress(min(first + CHUNK_CLIENTS, world.clients), world.clients)
    return sold


def _draw_chunk(world: World, ids: _Ids, number: int) -> tuple[list[TableRows], np.ndarray]:
    """Draw chunk ``number`` of clients and everything that happens to them, parents first."""
    count = min(CHUNK_CLIENTS, world.clients - number * CHUNK_CLIENTS)
    rng = np.random.default_rng([world.seed, number])
    batch = clients.draw_clients(world, rng, ids.reserve("client", count), count)
    people = clients.draw_people(world, rng, batch, ids.next_id("client"))
    ids.reserve("client", len(people.ids) - count)
    batch, lead_batch = _leads(world, batch, number)
    deal_batch = deals.draw_deals(
        world, rng, batch, lead_batch, ids.reserve("deal", len(lead_batch))
    )
    order_batch = orders.draw_orders(world, rng, deal_batch, ids.next_id("sales_order"))
    ids.reserve("sales_order", len(order_batch))
    tables = [
        clients.client_rows(world, rng, batch, people),
        *_contact_tables(world, rng, ids, batch, people),
        deals.deal_rows(world, rng, batch, deal_batch),
        ids.taken(
            "deal_stage_change",
            deals.stage_change_rows(world, batch, deal_batch, ids.next_id("deal_stage_change")),
        ),
        *_marketing_and_activity(world, rng, ids, batch, deal_batch, order_batch),
        *_orders_and_support(world, rng, ids, batch, deal_batch, order_batch),
    ]
    return tables, orders.sold_units(world, order_batch)


def _leads(
    world: World, batch: clients.ClientBatch, number: int
) -> tuple[clients.ClientBatch, leads.Leads]:
    """Every lead of chunk ``number``'s clients, and the clients as of their first lead."""
    if world.leads_per_client == 1:
        return batch, leads.one_per_client(batch)
    returning = np.random.default_rng([world.seed, _RETURNING_STREAM, number])
    return leads.with_returning(world, returning, batch, world.leads_per_client)


def _contact_tables(
    world: World,
    rng: np.random.Generator,
    ids: _Ids,
    batch: clients.ClientBatch,
    people: clients.People,
) -> list[TableRows]:
    lead_touch = touchpoints.lead_touch_kind(world, batch)
    return [
        ids.taken(
            "contact_point", contacts.contact_point_rows(people, ids.next_id("contact_point"))
        ),
        ids.taken("client_tag", contacts.tag_rows(world, rng, batch, ids.next_id("client_tag"))),
        ids.taken(
            "consent_record",
            contacts.consent_rows(
                world, rng, batch, people, lead_touch, ids.next_id("consent_record")
            ),
        ),
    ]


def _marketing_and_activity(
    world: World,
    rng: np.random.Generator,
    ids: _Ids,
    batch: clients.ClientBatch,
    deal_batch: deals.DealBatch,
    order_batch: orders.OrderBatch,
) -> list[TableRows]:
    touches, visitors = touchpoints.touchpoint_rows(
        world,
        rng,
        batch,
        deal_batch,
        order_batch,
        ids.next_id("touchpoint"),
        ids.next_id("visitor"),
    )
    ids.reserve("visitor", visitors)
    parts = activities.deal_activities(world, rng, batch, deal_batch)
    parts.append(support.service_calls(world, rng, batch, order_batch))
    return [
        ids.taken("touchpoint", touches),
        ids.taken("activity", activities.activity_rows(parts, ids.next_id("activity"))),
    ]


def _orders_and_support(
    world: World,
    rng: np.random.Generator,
    ids: _Ids,
    batch: clients.ClientBatch,
    deal_batch: deals.DealBatch,
    order_batch: orders.OrderBatch,
) -> list[TableRows]:
    tickets, resolved_at = support.ticket_rows(
        world, rng, batch, order_batch, ids.next_id("ticket")
    )
    ids.taken("ticket", tickets)
    return [
        orders.order_rows(world, batch, deal_batch, order_batch),
        ids.taken("order_line", orders.line_rows(order_batch, ids.next_id("order_line"))),
        ids.taken(
            "order_status_change",
            orders.status_change_rows(
                world, batch, order_batch, ids.next_id("order_status_change")
            ),
        ),
        tickets,
        ids.taken(
            "feedback",
            support.feedback_rows(
                world, rng, batch, order_batch, tickets, resolved_at, ids.next_id("feedback")
            ),
        ),
    ]
