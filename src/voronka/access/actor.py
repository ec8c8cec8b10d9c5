"""The actor: who is making a request or running a job."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from voronka.user.models import Role


class ActorKind(StrEnum):
    USER = "user"  # a person with a sign-in session
    TOKEN = "token"  # a machine with an API token acting as its user
    SYSTEM = "system"  # a job or CLI command run by the operator


@dataclass(frozen=True)
class Actor:
    """The identity a service call runs as; passed explicitly, never global."""

    user_id: int | None
    workspace_id: int
    role: Role
    team_id: int | None
    kind: ActorKind = ActorKind.USER
    read_only: bool = False
    request_id: str | None = None
    ip: str | None = None

    @classmethod
    def system(cls, workspace_id: int = 1) -> Actor:
        """The operator's identity for CLI commands and jobs: administrator rights."""
        return cls(None, workspace_id, Role.ADMIN, None, ActorKind.SYSTEM)
