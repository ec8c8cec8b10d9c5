"""Reference data rows name in words (owner e-mail, channel slug, company, pipeline, stage).

Everything is cached for one import. Users, channels and pipelines do not change during an
import; companies may be created by earlier rows, so only found companies are cached and a
miss asks the database again — the result is the same whatever the batch size.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from voronka.access.actor import Actor
from voronka.access.policy import Scope
from voronka.campaign.models import Channel
from voronka.client import repository as client_repository
from voronka.client.models import Client, ClientKind
from voronka.pipeline import repository as pipeline_repository
from voronka.pipeline.models import Pipeline, Stage, StageKind
from voronka.pipeline.service import active_stages
from voronka.user.models import User


class Lookups:
    """Resolve names to ids for one import; each resolver raises ``ValueError`` on a miss."""

    def __init__(self, session: Session, actor: Actor, scope: Scope) -> None:
        self.session, self.actor, self.scope = session, actor, scope
        self._users: dict[str, int | None] = {}
        self._channels: dict[str, int | None] = {}
        self._companies: dict[str, int] = {}
        self._pipelines: list[Pipeline] | None = None

    def prefetch(self, emails: Iterable[str], slugs: Iterable[str]) -> None:
        """Load the users and channels a batch names, in one query each."""
        wanted_emails = {e.strip().lower() for e in emails} - set(self._users)
        if wanted_emails:
            found = dict(
                self.session.execute(
                    select(User.email, User.id).where(
                        User.workspace_id == self.actor.workspace_id,
                        User.is_active.is_(True),
                        User.email.in_(wanted_emails),
                    )
                ).all()
            )
            self._users.update({email: found.get(email) for email in wanted_emails})
        wanted_slugs = {s.strip() for s in slugs} - set(self._channels)
        if wanted_slugs:
            found = dict(
                self.session.execute(
                    select(Channel.slug, Channel.id).where(
                        Channel.workspace_id == self.actor.workspace_id,
                        Channel.slug.in_(wanted_slugs),
                    )
                ).all()
            )
            self._channels.update({slug: found.get(slug) for slug in wanted_slugs})

    def user_id(self, email: str) -> int:
        key = email.strip().lower()
        if key not in self._users:
            self.prefetch([key], [])
        user_id = self._users[key]
        if user_id is None:
            raise ValueError("no active user with this e-mail")
        return user_id

    def channel_id(self, slug: str) -> int:
        key = slug.strip()
        if key not in self._channels:
            self.prefetch([], [key])
        channel_id = self._channels[key]
        if channel_id is None:
            raise ValueError("no channel with this slug")
        return channel_id

    def company_id(self, name: str) -> int:
        """The one company client with exactly this name visible to the importer."""
        if name in self._companies:
            return self._companies[name]
        ids = list(
            self.session.scalars(
                client_repository.visible_to(self.actor, self.scope)
                .with_only_columns(Client.id)
                .options()
                .where(Client.kind == ClientKind.COMPANY, Client.name == name)
                .order_by(Client.id)
                .limit(2)
            )
        )
        if not ids:
            raise ValueError("no company with this name (import companies first, kind=company)")
        if len(ids) > 1:
            raise ValueError("several companies have this name")
        self._companies[name] = ids[0]
        return ids[0]

    def visible_client_ids(self, ids: set[int]) -> set[int]:
        """Those of ``ids`` that are clients within the importer's scope."""
        if not ids:
            return set()
        query = client_repository.visible_to(self.actor, self.scope).with_only_columns(Client.id)
        return set(self.session.scalars(query.options().where(Client.id.in_(ids))))

    def pipeline(self, name: str | None) -> Pipeline:
        """The active pipeline with this name (case-insensitive), or the default one."""
        pipelines = self._load_pipelines()
        if name is None:
            if not pipelines:
                raise ValueError("there is no active pipeline; create one first")
            return pipelines[0]
        match = [p for p in pipelines if p.name.casefold() == name.casefold()]
        if not match:
            raise ValueError("no pipeline with this name")
        return match[0]

    @staticmethod
    def stage(pipeline: Pipeline, name: str | None) -> Stage:
        """The stage of ``pipeline`` with this name, or its first open stage."""
        stages = active_stages(pipeline)
        if name is None:
            first_open = next((s for s in stages if s.kind is StageKind.OPEN), None)
            if first_open is None:
                raise ValueError("the pipeline has no open stage")
            return first_open
        match = [s for s in stages if s.name.casefold() == name.casefold()]
        if not match:
            raise ValueError(f"pipeline {pipeline.name!r} has no stage with this name")
        return match[0]

    def _load_pipelines(self) -> list[Pipeline]:
        if self._pipelines is None:
            # the default pipeline first, as pipeline_repository.default_pipeline orders them
            # with their stages: a bulk import's batches use them after the session closed
            query = pipeline_repository.of_workspace(self.actor).order_by(
                Pipeline.is_default.desc(), Pipeline.position, Pipeline.id
            ).options(selectinload(Pipeline.stages))
            self._pipelines = list(self.session.scalars(query))
        return self._pipelines
