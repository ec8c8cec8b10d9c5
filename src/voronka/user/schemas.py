"""API shapes for users, teams, sign-in and tokens."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from voronka.fields import Strict
from voronka.user.models import Role


class LoginIn(Strict):
    email: str = Field(max_length=254)
    password: str = Field(max_length=200)


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    name: str
    role: Role
    team_id: int | None
    is_active: bool
    language: str
    version: int


class LoginOut(BaseModel):
    token: str = Field(description="Session secret; also set as an HttpOnly cookie.")
    user: UserOut


class UserCreate(Strict):
    email: str = Field(max_length=254)
    name: str = Field(min_length=1, max_length=200)
    role: Role
    team_id: int | None = None
    password: str | None = Field(None, min_length=10, max_length=200)


class UserUpdate(Strict):
    name: str | None = Field(None, min_length=1, max_length=200)
    role: Role | None = None
    team_id: int | None = None
    is_active: bool | None = None
    language: str | None = Field(None, pattern="^(ru|en)$")


class MeUpdate(Strict):
    """What users may change about themselves."""

    name: str | None = Field(None, min_length=1, max_length=200)
    language: str | None = Field(None, pattern="^(ru|en)$")


class PasswordIn(Strict):
    password: str = Field(min_length=10, max_length=200)


class TeamIn(Strict):
    name: str = Field(min_length=1, max_length=200)


class TeamOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str


class TokenIn(Strict):
    name: str = Field(min_length=1, max_length=100)
    read_only: bool = False
    days: int | None = Field(None, ge=1, le=3650, description="Lifetime; none = no expiry.")


class TokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    read_only: bool
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    secret: str = Field(description="Shown once; store it in the integration's settings.")
