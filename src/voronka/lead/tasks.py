"""Jobs of lead forms: replaying a submission whose processing failed."""

from __future__ import annotations

from voronka.integrations import intake
from voronka.jobs import job
from voronka.lead import service

job(service.HANDLER)(intake.replay_handler(service.process_submission, service.HANDLER))
