"""Queries of lead forms and their submissions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from voronka.lead.models import FormSubmission, LeadForm, SubmissionStatus


def form_by_key(session: Session, form_key: str) -> LeadForm | None:
    return session.scalar(select(LeadForm).where(LeadForm.form_key == form_key))


def forms_of(workspace_id: int) -> Select[LeadForm]:
    return select(LeadForm).where(LeadForm.workspace_id == workspace_id).order_by(LeadForm.id)


def get_form(session: Session, workspace_id: int, form_id: int) -> LeadForm | None:
    return session.scalar(
        select(LeadForm).where(LeadForm.workspace_id == workspace_id, LeadForm.id == form_id)
    )


def submission(session: Session, form_id: int, submission_key: str) -> FormSubmission | None:
    return session.scalar(
        select(FormSubmission).where(
            FormSubmission.form_id == form_id, FormSubmission.submission_key == submission_key
        )
    )


def submissions_of(form_id: int) -> Select[FormSubmission]:
    return (
        select(FormSubmission)
        .where(FormSubmission.form_id == form_id)
        .order_by(FormSubmission.received_at.desc(), FormSubmission.id.desc())
    )


def spam_count(session: Session, form_id: int, since: datetime) -> int:
    return int(
        session.scalar(
            select(func.count()).where(
                FormSubmission.form_id == form_id,
                FormSubmission.status == SubmissionStatus.SPAM,
                FormSubmission.received_at >= since,
            )
        )
        or 0
    )
