"""Background jobs, read-only: the status and progress of a job (imports, refits…)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from voronka.access.policy import Action
from voronka.access.scope import owner_condition
from voronka.errors import NotFound
from voronka.jobs.models import Job, JobStatus
from voronka.web.deps import DbSession, Grant, grant

router = APIRouter(tags=["jobs"])
JobRead = Annotated[Grant, grant("job", Action.READ)]


class JobOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    status: JobStatus
    attempts: int
    progress_done: int
    progress_total: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    result: dict[str, Any] | None
    error: str | None


@router.get("/jobs/{job_id}", response_model=JobOut,
            responses={404: {"description": "No such job visible to you"}})
def get_job(job_id: int, session: DbSession, grant_: JobRead) -> Job:
    """A job you started (administrators: any job of the workspace), with its progress."""
    actor = grant_.actor
    found = session.execute(select(Job).where(
        Job.id == job_id,
        Job.workspace_id == actor.workspace_id,
        owner_condition(Job.created_by_id, actor, grant_.scope),
    )).scalar_one_or_none()
    if found is None:
        raise NotFound(f"no job {job_id}")
    return found
