"""Visits from tracker hits: start, continue and close visits, count pages and seconds,
record goals, link visitors to clients, and write each finished visit as a touchpoint.

Touchpoints are append-only (the analytics snapshot copies only new rows), so a visit is
written once, when it ends: ``tracking_visit_idle_minutes`` after its last activity, found
by the ``tracking.close_visits`` job or by the visitor's next hit, whichever comes first.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from voronka.campaign.models import Touchpoint, TouchpointKind
from voronka.campaign.service import match_campaign
from voronka.config import get_settings
from voronka.errors import ErrorDetail, NotFound
from voronka.tracking import pool, repository
from voronka.tracking.guard import check_origin, check_page_url
from voronka.tracking.models import Site, SiteGoal, SitePageView, SiteVisit, SiteVisitor
from voronka.tracking.schemas import Hit, HitType

UTM_NAMES = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")
#: Seconds a page may claim beyond the time since it was shown (clock jitter, slow beacons).
SECONDS_SLACK = 60


@dataclass(frozen=True)
class Landing:
    """Where a visit came from: the first page's URL, its UTM values and the referrer."""

    url: str
    referrer: str | None
    utm: dict[str, str | None]

    @classmethod
    def of(cls, url: str, referrer: str | None) -> Landing:
        query = dict(parse_qsl(urlsplit(url).query, keep_blank_values=False))
        utm = {name: (query.get(name) or None) for name in UTM_NAMES}
        utm = {k: v[:200] if v else None for k, v in utm.items()}
        return cls(url[:1000], (referrer or None) and referrer[:1000], utm)

    @property
    def has_campaign(self) -> bool:
        return any(self.utm[name] for name in UTM_NAMES[:3])

    def same_campaign(self, visit: SiteVisit) -> bool:
        return all(self.utm[name] == getattr(visit, name) for name in UTM_NAMES[:3])


def new_key() -> str:
    """A random public key for sites and forms."""
    return secrets.token_urlsafe(18)


@dataclass(frozen=True)
class SiteRef:
    """What hits need of a site, cached briefly so that a hit does not read it every time."""

    id: int
    site_key: str
    workspace_id: int
    allowed_origins: tuple[str, ...]
    default_number: str | None
    is_active: bool

    @classmethod
    def of(cls, site: Site) -> SiteRef:
        return cls(site.id, site.site_key, site.workspace_id, tuple(site.allowed_origins),
                   site.default_number, site.is_active)


#: Seconds a site's settings are reused by this process; a change made in another process is
#: seen after at most this long (a change made here at once: :func:`forget_site`).
SITE_CACHE_SECONDS = 30.0
_MAX_CACHED_SITES = 10_000
_sites: dict[str, tuple[float, SiteRef]] = {}


def cached_site(site_key: str) -> SiteRef | None:
    found = _sites.get(site_key)
    if found is None or time.monotonic() - found[0] > SITE_CACHE_SECONDS:
        return None
    return found[1]


def forget_site(site_key: str) -> None:
    _sites.pop(site_key, None)


def check_site(site: SiteRef | None, *, origin_header: str | None, url: str) -> SiteRef:
    """The site if active and the page is on one of its origins; else 404/403."""
    if site is None or not site.is_active:
        raise NotFound("site: no such site", [ErrorDetail("unknown site key", field="site")])
    check_origin(list(site.allowed_origins), origin_header, check_page_url(url))
    return site


def site_for(session: Session, site_key: str, *, origin_header: str | None, url: str) -> SiteRef:
    """The active site of this key whose allowed origins include the page; else 404/403."""
    site = cached_site(site_key)
    if site is None:
        row = repository.site_by_key(session, site_key)
        if row is not None:
            site = SiteRef.of(row)
            if len(_sites) >= _MAX_CACHED_SITES:
                _sites.clear()
            _sites[site_key] = (time.monotonic(), site)
    return check_site(site, origin_header=origin_header, url=url)


def visitor_for(session: Session, site: SiteRef, visitor_key: str, now: datetime) -> SiteVisitor:
    """The visitor with this cookie id, created on first sight, locked for this request."""
    visitor = repository.visitor_by_key(session, site.id, visitor_key, lock=True)
    if visitor is None:
        try:
            with session.begin_nested():
                visitor = SiteVisitor(
                    workspace_id=site.workspace_id,
                    site_id=site.id,
                    visitor_key=visitor_key,
                    first_seen_at=now,
                    last_seen_at=now,
                )
                session.add(visitor)
        except IntegrityError:  # the same browser's other request created it just now
            visitor = repository.visitor_by_key(session, site.id, visitor_key, lock=True)
            if visitor is None:
                raise
    visitor.last_seen_at = max(visitor.last_seen_at, now)
    return visitor


def _idle_limit() -> timedelta:
    return timedelta(minutes=get_settings().tracking_visit_idle_minutes)


def is_open(visit: SiteVisit, now: datetime) -> bool:
    return visit.ended_at is None and now - visit.last_activity_at < _idle_limit()


def close_visit(session: Session, visit: SiteVisit, visitor: SiteVisitor) -> Touchpoint:
    """End the visit at its last activity and write its touchpoint (once)."""
    visit.ended_at = visit.last_activity_at
    touchpoint = Touchpoint(
        workspace_id=visit.workspace_id,
        visitor_id=visitor.visitor_key,
        client_id=visitor.client_id,
        kind=TouchpointKind.VISIT,
        occurred_at=visit.started_at,
        channel_id=visit.channel_id,
        campaign_id=visit.campaign_id,
        utm_source=visit.utm_source,
        utm_medium=visit.utm_medium,
        utm_campaign=visit.utm_campaign,
        referrer=visit.referrer,
        landing_page=visit.landing_page,
        pages=visit.pages,
        seconds_on_site=visit.seconds_on_site,
    )
    session.add(touchpoint)
    session.flush()
    visit.touchpoint_id = touchpoint.id
    return touchpoint


def _start_visit(
    session: Session, site: SiteRef, visitor: SiteVisitor, landing: Landing, now: datetime
) -> SiteVisit:
    campaign = (
        match_campaign(session, workspace_id=site.workspace_id, values=landing.utm)
        if landing.has_campaign
        else None
    )
    visit = SiteVisit(
        workspace_id=site.workspace_id,
        site_id=site.id,
        visitor_id=visitor.id,
        started_at=now,
        last_activity_at=now,
        landing_page=landing.url,
        referrer=landing.referrer,
        campaign_id=campaign.id if campaign else None,
        channel_id=campaign.channel_id if campaign else None,
        pages=0,
        seconds_on_site=0,
        **landing.utm,
    )
    session.add(visit)
    session.flush()
    return visit


def current_visit(
    session: Session, site: SiteRef, visitor: SiteVisitor, landing: Landing, now: datetime
) -> SiteVisit:
    """The visitor's open visit, or a new one (closing the previous one if it was idle).

    A page arriving with other UTM campaign values than the open visit's starts a new visit,
    as web analytics tools do, so each ad click is its own touchpoint.
    """
    visit = repository.latest_visit(session, visitor.id)
    if visit is not None and is_open(visit, now):
        if not landing.has_campaign or landing.same_campaign(visit):
            return visit
        visit.last_activity_at = min(visit.last_activity_at, now)
    if visit is not None and visit.ended_at is None:
        close_visit(session, visit, visitor)
    return _start_visit(session, site, visitor, landing, now)


def _page_view(session: Session, visit: SiteVisit, hit: Hit, now: datetime) -> SitePageView:
    view = SitePageView(
        workspace_id=visit.workspace_id,
        visit_id=visit.id,
        view_key=hit.view,
        url=hit.url[:1000],
        title=hit.title[:300] if hit.title else None,
        viewed_at=now,
        seconds=0,
    )
    session.add(view)
    session.flush()
    visit.pages += 1
    return view


def _count_seconds(visit: SiteVisit, view: SitePageView, claimed: int, now: datetime) -> None:
    """Raise the page's visible seconds to ``claimed`` (never beyond the time since it was
    shown, plus slack) and the visit's total with it."""
    possible = int((now - view.viewed_at).total_seconds()) + SECONDS_SLACK
    seconds = min(claimed, max(possible, 0))
    if seconds > view.seconds:
        visit.seconds_on_site += seconds - view.seconds
        view.seconds = seconds


def _goal(session: Session, visit: SiteVisit, hit: Hit, now: datetime) -> None:
    event_key = hit.event or hit.view
    if hit.goal is None or repository.goal_exists(session, visit.id, event_key):
        return
    session.add(
        SiteGoal(
            workspace_id=visit.workspace_id,
            visit_id=visit.id,
            event_key=event_key,
            name=hit.goal,
            url=hit.url[:1000],
            properties=hit.properties,
            occurred_at=now,
        )
    )


def record_hit(
    session: Session, *, hit: Hit, origin_header: str | None, now: datetime
) -> SiteVisit | None:
    """Apply one tracker hit; returns the visit it belongs to (``None``: a late beacon of
    a visit already written as a touchpoint, ignored)."""
    site = site_for(session, hit.site, origin_header=origin_header, url=hit.url)
    visitor = visitor_for(session, site, hit.visitor, now)
    found = repository.view_of_visitor(session, visitor.id, hit.view)
    if found is not None and not is_open(found[1], now):
        if found[1].ended_at is None:
            close_visit(session, found[1], visitor)
        return None
    if found is None:
        visit = current_visit(session, site, visitor, Landing.of(hit.url, hit.referrer), now)
        view = _page_view(session, visit, hit, now)
    else:
        view, visit = found
    if hit.type in (HitType.HEARTBEAT, HitType.LEAVE):
        _count_seconds(visit, view, hit.seconds, now)
    elif hit.type is HitType.GOAL:
        _goal(session, visit, hit, now)
    visit.last_activity_at = max(visit.last_activity_at, now)
    session.flush()
    pool.extend_hold(session, visit=visit, now=now)
    return visit


def close_idle_visits(
    session: Session, *, now: datetime, limit: int = 500, workspace_id: int | None = None
) -> int:
    """Close up to ``limit`` visits idle for the configured minutes; returns how many.

    The visitor is locked before the visit, the order in which a hit locks them, so that
    closing waits for a hit in flight instead of deadlocking with it; the visit is checked
    again afterwards (the hit may have made it active).
    """
    idle_since = now - _idle_limit()
    ids = repository.idle_visit_ids(session, idle_since, limit, workspace_id)
    closed = 0
    for visit_id in ids:
        visit = session.get(SiteVisit, visit_id)
        if visit is None or visit.ended_at is not None:
            continue
        visitor = repository.lock_row(session, SiteVisitor, visit.visitor_id)
        visit = repository.lock_row(session, SiteVisit, visit_id)
        if visitor is None or visit is None or visit.ended_at is not None \
                or visit.last_activity_at > idle_since:
            continue
        close_visit(session, visit, visitor)
        closed += 1
    session.flush()
    return closed



def link_visitor(
    session: Session, *, visitor: SiteVisitor, client_id: int, how: str, at: datetime
) -> bool:
    """Tie the browser to the client now known behind it (a form, a call to a reserved
    number). A visitor already tied to another client keeps the first link (a shared
    computer must not move one client's history to another). Returns whether it changed."""
    if visitor.client_id is not None:
        return False
    visitor.client_id = client_id
    visitor.linked_at = at
    visitor.linked_by = how[:20]
    session.flush()
    return True


def link_visitors_from_calls(session: Session, *, limit: int = 500) -> int:
    """Link visitors to the clients who called the number their visit was shown.

    Call processing (docs/integrations.md) writes a ``call`` touchpoint carrying the visitor
    id that :func:`voronka.tracking.pool.reservation_for` returned; this finds such visitors
    still without a client and links them (run by the ``tracking.close_visits`` job).
    """
    linked = 0
    for visitor, client_id, at in repository.unlinked_call_visitors(session, limit):
        linked += link_visitor(session, visitor=visitor, client_id=client_id, how="call", at=at)
    return linked


def visitor_of(session: Session, workspace_id: int, visitor_key: str) -> SiteVisitor | None:
    """The visitor with this cookie id in the workspace (the most recently seen one)."""
    return repository.visitor_in_workspace(session, workspace_id, visitor_key)
