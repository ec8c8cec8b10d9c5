"""Sign-in sessions and API tokens: random secrets of which only a SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from voronka import clock
from voronka.config import get_settings
from voronka.user.models import ApiToken, User, UserSession

SESSION_PREFIX = "vs_"
TOKEN_PREFIX = "vt_"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def open_session(session: Session, user: User, *, ip: str | None) -> str:
    """Create a sign-in session for ``user`` and return its secret (shown once)."""
    secret = SESSION_PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    ttl = timedelta(hours=get_settings().session_ttl_hours)
    session.add(
        UserSession(
            user_id=user.id, token_hash=digest(secret), created_at=now, expires_at=now + ttl, ip=ip
        )
    )
    return secret


def issue_token(
    session: Session, user: User, *, name: str, read_only: bool, days: int | None
) -> tuple[ApiToken, str]:
    """Create an API token for ``user``; return the row and the secret (shown once)."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    token = ApiToken(
        workspace_id=user.workspace_id,
        user_id=user.id,
        name=name,
        prefix=secret[:10],
        token_hash=digest(secret),
        read_only=read_only,
        created_at=now,
        expires_at=now + timedelta(days=days) if days else None,
    )
    session.add(token)
    session.flush()
    return token, secret


def resolve(session: Session, secret: str) -> tuple[User, ApiToken | None] | None:
    """Return the active user behind a session or token secret, or ``None``."""
    now = clock.now()
    hashed = digest(secret)
    if secret.startswith(SESSION_PREFIX):
        row = session.scalar(select(UserSession).where(UserSession.token_hash == hashed))
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            return None
        user = session.get(User, row.user_id)
        token = None
    elif secret.startswith(TOKEN_PREFIX):
        token = session.scalar(select(ApiToken).where(ApiToken.token_hash == hashed))
        if token is None or token.revoked_at is not None:
            return None
        if token.expires_at is not None and token.expires_at <= now:
            return None
        user = session.get(User, token.user_id)
    else:
        return None
    if user is None or not user.is_active:
        return None
    return user, token


def revoke_all(session: Session, user: User) -> None:
    """Invalidate every session and token of ``user`` (role change, deactivation)."""
    now = clock.now()
    for row in session.scalars(
        select(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
    ):
        row.revoked_at = now
    for token in session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ):
        token.revoked_at = now
