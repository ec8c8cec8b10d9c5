"""``voronka db``: schema migrations."""

from __future__ import annotations

from typing import Annotated

import typer
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from voronka.cli.output import fail
from voronka.db import migrate
from voronka.db.models import Base
from voronka.db.session import get_engine

app = typer.Typer(help="Database schema: upgrade, downgrade, check.", no_args_is_help=True)


@app.command()
def upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    engine = get_engine()
    migrate.upgrade(engine, revision)
    typer.echo(f"schema at {migrate.current_revision(engine)}")


@app.command()
def downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision; `base` empties the schema.")],
) -> None:
    """Revert migrations down to REVISION."""
    engine = get_engine()
    migrate.downgrade(engine, revision)
    typer.echo(f"schema at {migrate.current_revision(engine) or 'base (empty)'}")


@app.command()
def check() -> None:
    """Exit non-zero unless the schema is at the newest revision and matches the models."""
    engine = get_engine()
    current, head = migrate.current_revision(engine), migrate.head_revision(engine)
    if current != head:
        fail(f"schema is at {current or 'nothing'}, the code needs {head}: run `voronka db upgrade`")
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        drift = compare_metadata(context, Base.metadata)
    if drift:
        fail(f"schema differs from the models in {len(drift)} place(s): {drift[0]}")
    typer.echo(f"schema is current ({head})")
