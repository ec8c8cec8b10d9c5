"""The permission matrix, declared once.

Each resource × action maps every role to a record scope: ``none`` (forbidden), ``own``
(records the actor owns), ``team`` (records owned by the actor's team, plus unassigned
ones) or ``all``. docs/permissions.md is generated from this table and a test checks both
agree; every API route names its (resource, action) and a test fails when one does not.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum

from voronka.access.actor import Actor
from voronka.errors import Forbidden
from voronka.user.models import Role


class Scope(IntEnum):
    """Record scope; larger is wider."""

    NONE = 0
    OWN = 1
    TEAM = 2
    ALL = 3


class Action(StrEnum):
    READ = "read"  # list, search, detail, timeline
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    EXPORT = "export"
    IMPORT = "import"
    REASSIGN = "reassign"  # change the owner of a record
    MERGE = "merge"  # merge duplicate clients


A, H, M, K, N = Role.ADMIN, Role.HEAD_OF_SALES, Role.SALES_MANAGER, Role.MARKETER, Role.ANALYST
ALL, TEAM, OWN, NONE = Scope.ALL, Scope.TEAM, Scope.OWN, Scope.NONE


def _row(admin: Scope, head: Scope, manager: Scope, marketer: Scope, analyst: Scope):  # type: ignore[no-untyped-def]
    return {A: admin, H: head, M: manager, K: marketer, N: analyst}


# Client-bound records: scoped by the owner of their client.
_CRM = {
    Action.READ: _row(ALL, TEAM, OWN, NONE, NONE),
    Action.CREATE: _row(ALL, TEAM, OWN, NONE, NONE),
    Action.UPDATE: _row(ALL, TEAM, OWN, NONE, NONE),
    Action.DELETE: _row(ALL, TEAM, NONE, NONE, NONE),
    Action.EXPORT: _row(ALL, TEAM, NONE, NONE, NONE),
    Action.IMPORT: _row(ALL, TEAM, NONE, NONE, NONE),
    Action.REASSIGN: _row(ALL, TEAM, NONE, NONE, NONE),
}
_CATALOG = {  # reference data everyone reads and administrators maintain
    Action.READ: _row(ALL, ALL, ALL, ALL, ALL),
    Action.CREATE: _row(ALL, NONE, NONE, NONE, NONE),
    Action.UPDATE: _row(ALL, NONE, NONE, NONE, NONE),
    Action.DELETE: _row(ALL, NONE, NONE, NONE, NONE),
}
_MARKETING_SETUP = {  # channels, campaigns, tracking numbers
    Action.READ: _row(ALL, ALL, ALL, ALL, ALL),
    Action.CREATE: _row(ALL, NONE, NONE, ALL, NONE),
    Action.UPDATE: _row(ALL, NONE, NONE, ALL, NONE),
    Action.DELETE: _row(ALL, NONE, NONE, ALL, NONE),
}

POLICY: dict[str, dict[Action, dict[Role, Scope]]] = {
    "client": {**_CRM, Action.MERGE: _row(ALL, TEAM, NONE, NONE, NONE)},
    "deal": _CRM,
    "activity": {**_CRM, Action.DELETE: _row(ALL, TEAM, OWN, NONE, NONE)},
    "order": _CRM,
    "ticket": _CRM,
    "feedback": {k: v for k, v in _CRM.items() if k is not Action.REASSIGN},
    "consent": {
        Action.READ: _row(ALL, TEAM, OWN, NONE, NONE),
        Action.CREATE: _row(ALL, TEAM, OWN, NONE, NONE),
    },
    "touchpoint": {
        Action.READ: _row(ALL, TEAM, OWN, ALL, NONE),
        Action.CREATE: _row(ALL, NONE, NONE, ALL, NONE),
        Action.IMPORT: _row(ALL, NONE, NONE, ALL, NONE),
        Action.EXPORT: _row(ALL, TEAM, NONE, ALL, NONE),
    },
    "pipeline": _CATALOG,
    "product": {
        **_CATALOG,
        Action.CREATE: _row(ALL, ALL, NONE, NONE, NONE),
        Action.UPDATE: _row(ALL, ALL, NONE, NONE, NONE),
        Action.IMPORT: _row(ALL, ALL, NONE, NONE, NONE),
        Action.EXPORT: _row(ALL, ALL, NONE, ALL, ALL),  # the catalogue: no personal data
    },
    "stock_level": {**_CATALOG, Action.IMPORT: _row(ALL, NONE, NONE, NONE, NONE)},
    "channel": _MARKETING_SETUP,
    "campaign": _MARKETING_SETUP,
    "tracking_number": _MARKETING_SETUP,
    "site": _MARKETING_SETUP,  # sites with the tracker (docs/site-tracker.md)
    "lead_form": _MARKETING_SETUP,
    "ad_spend": {
        Action.READ: _row(ALL, ALL, NONE, ALL, ALL),
        Action.CREATE: _row(ALL, NONE, NONE, ALL, NONE),
        Action.UPDATE: _row(ALL, NONE, NONE, ALL, NONE),
        Action.DELETE: _row(ALL, NONE, NONE, ALL, NONE),
        Action.IMPORT: _row(ALL, NONE, NONE, ALL, NONE),
        Action.EXPORT: _row(ALL, ALL, NONE, ALL, ALL),
    },
    # bulk import runs (their error reports quote the file) and saved column mappings
    "import_run": {Action.READ: _row(ALL, OWN, NONE, OWN, NONE)},
    "import_mapping": {
        Action.READ: _row(ALL, ALL, NONE, ALL, NONE),
        Action.CREATE: _row(ALL, ALL, NONE, ALL, NONE),
    },
    "user": {
        Action.READ: _row(ALL, TEAM, OWN, OWN, OWN),
        Action.CREATE: _row(ALL, NONE, NONE, NONE, NONE),
        Action.UPDATE: _row(ALL, NONE, NONE, NONE, NONE),
        Action.DELETE: _row(ALL, NONE, NONE, NONE, NONE),
    },
    "team": _CATALOG,
    "api_token": {
        Action.READ: _row(ALL, OWN, OWN, OWN, OWN),
        Action.CREATE: _row(ALL, OWN, OWN, OWN, OWN),
        Action.DELETE: _row(ALL, OWN, OWN, OWN, OWN),
    },
    "audit_event": {Action.READ: _row(ALL, TEAM, NONE, NONE, NONE)},
    # live events (screen pop): every signed-in user reads their own stream, nobody else's
    "live_event": {Action.READ: _row(OWN, OWN, OWN, OWN, OWN)},
    # Background jobs (imports, refits): people follow the progress of the jobs they started.
    "job": {Action.READ: _row(ALL, OWN, OWN, OWN, OWN)},
    # Reports: aggregates over the facts of the clients in scope. Marketers and analysts see
    # company-wide aggregates; drilling down to the records behind a figure follows the
    # records' own policy (they have none on client records, so they get no drill-down).
    "report": {Action.READ: _row(ALL, TEAM, OWN, ALL, ALL)},
    # Lead-scoring model runs: quality figures and per-channel/manager effects (aggregates,
    # but they rank managers company-wide, so not for managers); heads may trigger a retrain.
    # A deal's own score follows the deal policy.
    "model_run": {
        Action.READ: _row(ALL, ALL, NONE, ALL, ALL),
        Action.CREATE: _row(ALL, ALL, NONE, NONE, NONE),
    },
    # Stored alerts are company-wide figures: only roles with company-wide report scope list
    # them (others run the "alerts" report, which applies their own scope).
    "alert": {Action.READ: _row(ALL, NONE, NONE, ALL, ALL)},
    # Saved segments (target lists): marketers and heads save them; own/team is by creator.
    # Exported members follow the client policy (contacts within client scope, else ids).
    "segment": {
        Action.READ: _row(ALL, ALL, NONE, ALL, ALL),
        Action.CREATE: _row(ALL, ALL, NONE, ALL, NONE),
        Action.DELETE: _row(ALL, OWN, NONE, OWN, NONE),
        Action.EXPORT: _row(ALL, ALL, NONE, ALL, NONE),
    },
}

WRITE_ACTIONS = frozenset(set(Action) - {Action.READ, Action.EXPORT})


def scope_for(actor: Actor, resource: str, action: Action) -> Scope:
    """Return the actor's scope for ``action`` on ``resource`` (NONE when not declared)."""
    if actor.read_only and action in WRITE_ACTIONS:
        return Scope.NONE
    return POLICY.get(resource, {}).get(action, {}).get(actor.role, Scope.NONE)


def require(actor: Actor, resource: str, action: Action) -> Scope:
    """Return the scope, or raise ``Forbidden`` when the actor may not do this at all."""
    scope = scope_for(actor, resource, action)
    if scope is Scope.NONE:
        raise Forbidden(f"your role may not {action.value} {resource.replace('_', ' ')} records")
    return scope
