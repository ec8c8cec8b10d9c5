"""``voronka demo``: build the demo company (evaluation only)."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy import update

from voronka.cli.output import fail
from voronka.config import get_settings
from voronka.db import migrate
from voronka.db.session import get_engine, unit_of_work
from voronka.user.models import User
from voronka.user.password import hash_password

DEMO_PASSWORD = "voronka-demo"


def demo(
    clients: Annotated[int, typer.Option(help="Number of clients to generate.", min=10,
                                         max=10_000_000)] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same data.")] = 42,
    leads_per_client: Annotated[float, typer.Option(
        help="Mean leads (deals) per client; above 1, returning clients come back with new "
             "leads (3 gives the analytics benchmark's shape).", min=1.0, max=20.0)] = 1.0,
) -> None:
    """Replace the store's data with a generated demo company (users sign in with the
    password `voronka-demo`)."""
    from voronka.demo import generate

    if get_settings().profile == "production":
        fail("`voronka demo` wipes data and is refused in the production profile")
    engine = get_engine()
    migrate.upgrade(engine)

    def progress(done: int, total: int) -> None:
        typer.echo(f"\r{done:,} / {total:,} clients", err=True, nl=done >= total)

    summary = generate(engine, clients=clients, seed=seed, progress=progress,
                       leads_per_client=leads_per_client)
    with unit_of_work(engine) as session:
        session.execute(update(User).values(password_hash=hash_password(DEMO_PASSWORD)))
    typer.echo(f"demo built in {summary.seconds:.1f} s: "
               + ", ".join(f"{n} {t}" for t, n in summary.rows.items()))
    typer.echo(f"sign in as admin@demo.voronka.local / {DEMO_PASSWORD}")
