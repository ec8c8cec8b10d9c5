"""Sites that run the tracker: settings kept by marketers and administrators."""

from __future__ import annotations

from html import escape
from typing import Any

from sqlalchemy.orm import Session

from voronka.access.actor import Actor
from voronka.audit import service as audit
from voronka.client.contact import normalize_phone
from voronka.config import get_settings
from voronka.errors import ErrorDetail, InvalidInput
from voronka.tracking.guard import origin_of
from voronka.tracking.models import Site
from voronka.tracking.schemas import SiteCreate, SiteOut, SiteUpdate
from voronka.tracking.service import forget_site, new_key


def _invalid(field: str, message: str, value: Any = None) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", [ErrorDetail(message, field=field, value=value)])


def _origins(values: list[str]) -> list[str]:
    out: list[str] = []
    for index, value in enumerate(values):
        origin = origin_of(value)
        if origin is None or value.rstrip("/").lower() != origin:
            raise _invalid(
                f"allowed_origins.{index}", "must be an origin like https://shop.example",
                value[:300],
            )
        if origin not in out:
            out.append(origin)
    return out


def _number(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return normalize_phone(value, region=get_settings().default_phone_region)
    except ValueError as exc:
        raise _invalid("default_number", str(exc), value[:40]) from exc


def create_site(session: Session, *, actor: Actor, data: SiteCreate) -> Site:
    """Register a site; its public key goes into the snippet."""
    site = Site(
        workspace_id=actor.workspace_id,
        site_key=new_key(),
        name=data.name,
        allowed_origins=_origins(data.allowed_origins),
        default_number=_number(data.default_number),
        is_active=data.is_active,
    )
    session.add(site)
    session.flush()
    audit.record(session, actor, action="create", entity="site", entity_id=site.id)
    return site


def update_site(session: Session, *, actor: Actor, site: Site, data: SiteUpdate) -> Site:
    fields = data.model_dump(exclude_unset=True)
    for name in ("name", "allowed_origins", "is_active"):
        if name in fields and fields[name] is None:
            raise _invalid(name, "cannot be null")
    if "allowed_origins" in fields:
        fields["allowed_origins"] = _origins(fields["allowed_origins"])
    if "default_number" in fields:
        fields["default_number"] = _number(fields["default_number"])
    audit.apply_changes(session, actor, site, fields, entity="site")
    forget_site(site.site_key)  # this process sees the change at once, others within 30 s
    return site


def snippet(site: Site, base_url: str) -> str:
    """The HTML tag to put on every page of the site."""
    base = escape(base_url.rstrip("/"), quote=True)
    return (
        f'<script async src="{base}/t.js" data-site="{escape(site.site_key, quote=True)}" '
        f'data-endpoint="{base}"></script>'
    )


def site_out(site: Site, base_url: str) -> SiteOut:
    out = SiteOut.model_validate(site)
    return out.model_copy(update={"snippet": snippet(site, base_url)})
