"""REST API v1: one router per domain."""

from fastapi import APIRouter

from voronka.web.api.v1 import (
    activities,
    alerts,
    analytics,
    audit,
    auth,
    clients,
    collect,
    deals,
    events,
    hooks,
    import_runs,
    jobs,
    marketing,
    orders,
    pipelines,
    products,
    scoring,
    segments,
    sites,
    support,
    transfer,
    users,
)

router = APIRouter()
for module in (
    auth,
    users,
    clients,
    deals,
    pipelines,
    activities,
    orders,
    products,
    marketing,
    support,
    audit,
    transfer,
    import_runs,
    analytics,
    segments,
    jobs,
    hooks,
    events,
    collect,
    sites,
    scoring,
    alerts,
):
    router.include_router(module.router)
