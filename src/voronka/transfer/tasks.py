"""The bulk-import job: run (or resume) an ``import_run`` as the user who started it.

A crash or a lost worker leaves the job to be retried; the retry resumes a per-row run
after its checkpoint and starts an atomic run over (its transaction was rolled back). Input
problems (unreadable file, mapping, rights) fail at once and are not retried. The uploaded
file is removed once the run is finished.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from voronka.access.actor import Actor
from voronka.config import get_settings
from voronka.db.session import unit_of_work
from voronka.errors import VoronkaError
from voronka.jobs import JobContext, JobFailed, enqueue, job
from voronka.transfer.bulk import runner
from voronka.transfer.models import ImportRun, RunStatus
from voronka.transfer.options import ImportMode
from voronka.user.models import User

KIND = "transfer.bulk_import"


def queue_run(session: Any, run: ImportRun) -> None:
    """Queue the job of ``run`` in the caller's transaction (it exists only if that commits)."""
    enqueue(session, KIND, {"run_id": run.id}, key=f"import-run:{run.id}",
            workspace_id=run.workspace_id, created_by_id=run.created_by_id)


@job(KIND)
def bulk_import(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    run_id = int(payload["run_id"])
    actor, per_row = _actor_and_mode(ctx.engine, run_id)
    sqlite = ctx.engine.dialect.name == "sqlite"

    def progress(done: int, total: int | None, checkpoint: int) -> None:
        # SQLite has one writer: an all-or-nothing run holds it until the end
        if per_row or not sqlite:
            ctx.progress(done, total, state={"checkpoint_row": checkpoint})

    try:
        run = runner.execute(ctx.engine, run_id, actor=actor, progress=progress)
    except VoronkaError as exc:
        _discard_upload(ctx.engine, run_id)
        raise JobFailed(exc.message) from exc
    _discard_upload(ctx.engine, run_id)
    return {"run_id": run.id, "status": run.status.value, "total": run.total,
            "created": run.created, "duplicates": run.duplicates, "failed": run.failed}


def _actor_and_mode(engine: Engine, run_id: int) -> tuple[Actor, bool]:
    with unit_of_work(engine, write=False) as session:
        run = session.get(ImportRun, run_id)
        if run is None:
            raise JobFailed(f"no import run {run_id}")
        per_row = run.mode == ImportMode.PER_ROW and not run.dry_run
        if run.created_by_id is None:
            return Actor.system(run.workspace_id), per_row
        user = session.get(User, run.created_by_id)
        if user is None or not user.is_active:
            raise JobFailed("the user who started the import is no longer active")
        return Actor(user.id, user.workspace_id, user.role, user.team_id), per_row


def _discard_upload(engine: Engine, run_id: int) -> None:
    """Remove an uploaded file once its run is over (never a file outside the upload folder)."""
    with unit_of_work(engine, write=False) as session:
        run = session.get(ImportRun, run_id)
        if run is None or run.stored_path is None or run.status is RunStatus.RUNNING:
            return
        path = Path(run.stored_path)
    folder = get_settings().import_dir.resolve()
    if path.resolve().parent == folder:
        path.unlink(missing_ok=True)
