"""Users and teams (administrators manage; others see themselves or their team)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response
from sqlalchemy import select

from voronka.access.policy import Action
from voronka.audit import service as audit
from voronka.errors import ErrorDetail, InvalidInput, NotFound
from voronka.user import repository
from voronka.user import service as user_service
from voronka.user.models import Team, User
from voronka.user.schemas import PasswordIn, TeamIn, TeamOut, UserCreate, UserOut, UserUpdate
from voronka.web.deps import DbSession, Grant, grant
from voronka.web.etag import require_match, set_etag
from voronka.web.listing import Page, Paging, apply_sort, fetch_page

router = APIRouter(tags=["users"])
NOT_FOUND = {404: {"description": "No such user visible to you"}}


def _visible_user(session: DbSession, g: Grant, user_id: int) -> User:
    user = session.scalar(repository.visible_to(g.actor, g.scope).where(User.id == user_id))
    if user is None:
        raise NotFound("no such user")
    return user


@router.get("/users", response_model=Page[UserOut], summary="List users")
def list_users(
    session: DbSession,
    g: Annotated[Grant, grant("user", Action.READ)],
    paging: Paging,
    sort: str | None = None,
) -> Page[UserOut]:
    query = apply_sort(
        repository.visible_to(g.actor, g.scope),
        sort,
        {"name": User.name, "email": User.email, "role": User.role},
        [User.name],
        User.id,
    )
    rows, total = fetch_page(session, query, paging)
    return Page(
        items=[UserOut.model_validate(u) for u in rows],
        total=total,
        page=paging.page,
        page_size=paging.page_size,
    )


@router.post(
    "/users",
    response_model=UserOut,
    status_code=201,
    summary="Create a user",
    responses={409: {"description": "E-mail taken"}},
)
def create_user(
    body: UserCreate,
    session: DbSession,
    g: Annotated[Grant, grant("user", Action.CREATE)],
    response: Response,
) -> UserOut:
    user = user_service.create_user(
        session,
        actor=g.actor,
        email=body.email,
        name=body.name,
        role=body.role,
        password=body.password,
        team_id=body.team_id,
    )
    set_etag(response, user.id, user.version)
    return UserOut.model_validate(user)


@router.get("/users/{user_id}", response_model=UserOut, summary="Read a user", responses=NOT_FOUND)
def read_user(
    user_id: int,
    session: DbSession,
    g: Annotated[Grant, grant("user", Action.READ)],
    response: Response,
) -> UserOut:
    user = _visible_user(session, g, user_id)
    set_etag(response, user.id, user.version)
    return UserOut.model_validate(user)


@router.patch(
    "/users/{user_id}",
    response_model=UserOut,
    summary="Change a user",
    responses={
        **NOT_FOUND,
        409: {"description": "Last administrator"},
        412: {"description": "Stale If-Match"},
        428: {"description": "If-Match missing"},
    },
)
def update_user(
    user_id: int,
    body: UserUpdate,
    request: Request,
    response: Response,
    session: DbSession,
    g: Annotated[Grant, grant("user", Action.UPDATE)],
) -> UserOut:
    user = _visible_user(session, g, user_id)
    require_match(request, user.id, user.version)
    changes = body.model_dump(exclude_unset=True)
    for required in ("role", "is_active", "name", "language"):
        if required in changes and changes[required] is None:
            raise InvalidInput(
                f"{required} cannot be null", [ErrorDetail("required", field=required)]
            )
    if changes.get("role") is not None:
        user_service.set_role(session, actor=g.actor, user=user, role=changes.pop("role"))
    if changes.get("is_active") is not None:
        user_service.set_active(session, actor=g.actor, user=user, active=changes.pop("is_active"))
    recorded: dict[str, tuple[object, object]] = {}
    for field, value in changes.items():
        if field == "team_id" and value is not None and session.get(Team, value) is None:
            raise NotFound("no such team")
        if getattr(user, field) != value:
            recorded[field] = (getattr(user, field), value)
            setattr(user, field, value)
    session.flush()
    if recorded:
        audit.record(
            session,
            g.actor,
            action="update",
            entity="user",
            entity_id=user.id,
            changes=audit.redact_changes(User, recorded),
        )
    set_etag(response, user.id, user.version)
    return UserOut.model_validate(user)


@router.post(
    "/users/{user_id}/password",
    status_code=204,
    summary="Set a user's password",
    responses=NOT_FOUND,
)
def set_password(
    user_id: int,
    body: PasswordIn,
    session: DbSession,
    g: Annotated[Grant, grant("user", Action.UPDATE)],
) -> Response:
    user = _visible_user(session, g, user_id)
    user_service.set_password(session, actor=g.actor, user=user, password=body.password)
    return Response(status_code=204)


@router.get("/teams", response_model=list[TeamOut], summary="List teams")
def list_teams(session: DbSession, g: Annotated[Grant, grant("team", Action.READ)]):  # type: ignore[no-untyped-def]
    rows = session.scalars(
        select(Team).where(Team.workspace_id == g.actor.workspace_id).order_by(Team.name)
    )
    return [TeamOut.model_validate(t) for t in rows]


@router.post("/teams", response_model=TeamOut, status_code=201, summary="Create a team")
def create_team(
    body: TeamIn, session: DbSession, g: Annotated[Grant, grant("team", Action.CREATE)]
) -> TeamOut:
    team = Team(workspace_id=g.actor.workspace_id, name=body.name)
    session.add(team)
    session.flush()
    return TeamOut.model_validate(team)
