"""Lead scoring results: each training run of a model, and the scores it gave open deals."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from voronka import clock
from voronka.db.base import Base, IdMixin, WorkspaceMixin
from voronka.db.columns import JsonType, enum_column_type, pd
from voronka.db.types import IdType, UTCDateTime


class RunStatus(StrEnum):
    RUNNING = "running"
    READY = "ready"
    FAILED = "failed"


class ModelRun(IdMixin, WorkspaceMixin, Base):
    """One training of a model (``kind``, e.g. ``lead_scoring``), its backtest and artefact.

    ``version`` counts the runs of a kind (1, 2, …); ``metrics`` holds the backtest (AUC,
    Brier score, log loss, lift by decile, calibration table) and the fitted coefficients;
    ``artefact`` is the model file under the analytics folder.
    """

    __tablename__ = "model_run"
    __table_args__ = (
        UniqueConstraint("workspace_id", "kind", "version"),
        Index("ix_model_run_kind_status", "kind", "status"),
    )

    kind: Mapped[str] = mapped_column(String(50), info=pd("none"))
    version: Mapped[int] = mapped_column(Integer, info=pd("none"))
    status: Mapped[RunStatus] = mapped_column(
        enum_column_type(RunStatus, "model_run_status"), default=RunStatus.RUNNING,
        info=pd("none"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now,
                                                 info=pd("none"))
    trained_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), info=pd("none"))
    training_rows: Mapped[int] = mapped_column(Integer, default=0, info=pd("none"))
    scored_rows: Mapped[int] = mapped_column(Integer, default=0, info=pd("none"))
    metrics: Mapped[dict[str, Any] | None] = mapped_column(JsonType, info=pd("none"))
    artefact: Mapped[str | None] = mapped_column(String(500), info=pd("none"))
    error: Mapped[str | None] = mapped_column(Text, info=pd("none"))
    created_by_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("user_account.id", ondelete="SET NULL"), info=pd("none"))


class DealScore(IdMixin, WorkspaceMixin, Base):
    """The probability (0–1) that an open deal will be won, by one model run.

    ``contributions`` explain it: ``[{"feature", "value", "contribution"}]`` in log-odds
    against the average deal, largest first.
    """

    __tablename__ = "deal_score"
    __table_args__ = (
        UniqueConstraint("deal_id", "model_run_id"),
        Index("ix_deal_score_run_probability", "model_run_id", "probability"),
    )

    deal_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("deal.id", ondelete="CASCADE"), info=pd("none"))
    model_run_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("model_run.id", ondelete="CASCADE"), info=pd("none"))
    probability: Mapped[float] = mapped_column(Float, info=pd("none"))
    contributions: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, info=pd("none"))
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now,
                                                info=pd("none"))
