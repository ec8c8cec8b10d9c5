"""Bulk imports run as jobs, the list of import runs, saved mappings, ad-spend reports.

``POST /imports/bulk/{entity}`` stores the upload under a server-chosen name in
the import folder, records an ``import_run`` and queues its job in the request's
transaction; the answer (202) is the run, whose progress and result are read from
``/imports/runs/{id}``. A run — and its error report, which quotes the file — is visible to
the user who started it and to administrators only.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import Response

from voronka.access.policy import Action
from voronka.config import get_settings
from voronka.errors import NotFound, PayloadTooLarge
from voronka.transfer import runs, tasks
from voronka.transfer.ad_spend import loader as ad_spend
from voronka.transfer.ad_spend.formats import AdFormat
from voronka.transfer.errors import UnreadableFile
from voronka.transfer.mapping import Entity, parse_pairs
from voronka.transfer.options import ImportMode, OnDuplicate
from voronka.transfer.reading import format_of
from voronka.transfer.report import RowError, rows_csv
from voronka.web.deps import DbSession, Grant, grant
from voronka.web.listing import Page, Paging

router = APIRouter(tags=["import and export"])
COPY_CHUNK = 1024 * 1024
UPLOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    403: {"description": "Your role may not import these records"},
    409: {"description": "A saved mapping of this name exists"},
    413: {"description": "The file is over the upload limit"},
    422: {"description": "Unreadable file, unsupported type, unknown saved mapping or field"},
}
NOT_YOURS: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such run, or not one you may see"}
}

Upload = Annotated[UploadFile, File(description="CSV or XLSX; row 1 names the columns.")]
Mode = Annotated[ImportMode, Form(description="atomic: all or nothing; per-row: good rows.")]
DryRun = Annotated[bool, Form(description="Report what would happen; write nothing.")]
Duplicates = Annotated[OnDuplicate, Form(description="skip (default) or create duplicates.")]
Pairs = Annotated[
    list[str] | None, Form(description="'Column=field' pairs for columns not recognised.")
]
MappingName = Annotated[
    str | None, Form(max_length=100, description="A saved mapping to start from.")
]
Owner = Annotated[str | None, Form(max_length=254, description="Owner of new clients.")]


@router.post(
    "/imports/bulk/clients",
    response_model=runs.RunOut,
    status_code=202,
    summary="Queue a bulk import of clients (set-based, resumable)",
    responses=UPLOAD_RESPONSES,
)
def bulk_clients(
    session: DbSession,
    g: Annotated[Grant, grant("client", Action.IMPORT)],
    file: Upload,
    mode: Mode = ImportMode.ATOMIC,
    dry_run: DryRun = False,
    on_duplicate: Duplicates = OnDuplicate.SKIP,
    mapping: Pairs = None,
    mapping_name: MappingName = None,
    owner: Owner = None,
) -> Any:
    return _queue(session, g, Entity.CLIENTS, file, mode, dry_run, on_duplicate, mapping,
                  mapping_name, owner)


@router.post(
    "/imports/bulk/touchpoints",
    response_model=runs.RunOut,
    status_code=202,
    summary="Queue a bulk import of touchpoints (set-based, resumable)",
    responses=UPLOAD_RESPONSES,
)
def bulk_touchpoints(
    session: DbSession,
    g: Annotated[Grant, grant("touchpoint", Action.IMPORT)],
    file: Upload,
    mode: Mode = ImportMode.ATOMIC,
    dry_run: DryRun = False,
    on_duplicate: Duplicates = OnDuplicate.SKIP,
    mapping: Pairs = None,
    mapping_name: MappingName = None,
) -> Any:
    return _queue(session, g, Entity.TOUCHPOINTS, file, mode, dry_run, on_duplicate, mapping,
                  mapping_name, None)


@router.post(
    "/imports/bulk/products",
    response_model=runs.RunOut,
    status_code=202,
    summary="Queue a bulk import of products by SKU (skip or update known SKUs)",
    responses=UPLOAD_RESPONSES,
)
def bulk_products(
    session: DbSession,
    g: Annotated[Grant, grant("product", Action.IMPORT)],
    file: Upload,
    mode: Mode = ImportMode.ATOMIC,
    dry_run: DryRun = False,
    on_duplicate: Annotated[
        OnDuplicate, Form(description="skip (default) or update known SKUs.")
    ] = OnDuplicate.SKIP,
    mapping: Pairs = None,
    mapping_name: MappingName = None,
) -> Any:
    return _queue(session, g, Entity.PRODUCTS, file, mode, dry_run, on_duplicate, mapping,
                  mapping_name, None)


@router.post(
    "/imports/bulk/activities",
    response_model=runs.RunOut,
    status_code=202,
    summary="Queue a bulk import of activities (calls, notes, tasks…) of visible clients",
    responses=UPLOAD_RESPONSES,
)
def bulk_activities(
    session: DbSession,
    g: Annotated[Grant, grant("activity", Action.IMPORT)],
    file: Upload,
    mode: Mode = ImportMode.ATOMIC,
    dry_run: DryRun = False,
    on_duplicate: Duplicates = OnDuplicate.SKIP,
    mapping: Pairs = None,
    mapping_name: MappingName = None,
    owner: Owner = None,
) -> Any:
    return _queue(session, g, Entity.ACTIVITIES, file, mode, dry_run, on_duplicate, mapping,
                  mapping_name, owner)


@router.post(
    "/imports/bulk/orders",
    response_model=runs.RunOut,
    status_code=202,
    summary="Queue a bulk import of orders, one row per line (skip or update known numbers)",
    responses=UPLOAD_RESPONSES,
)
def bulk_orders(
    session: DbSession,
    g: Annotated[Grant, grant("order", Action.IMPORT)],
    file: Upload,
    mode: Mode = ImportMode.ATOMIC,
    dry_run: DryRun = False,
    on_duplicate: Annotated[
        OnDuplicate, Form(description="skip (default) or update known order numbers.")
    ] = OnDuplicate.SKIP,
    mapping: Pairs = None,
    mapping_name: MappingName = None,
    create_products: Annotated[
        bool, Form(description="Create a product for an unknown SKU instead of an error.")
    ] = False,
) -> Any:
    return _queue(session, g, Entity.ORDERS, file, mode, dry_run, on_duplicate, mapping,
                  mapping_name, None, {"create_products": True} if create_products else None)


@router.post(
    "/imports/bulk/deals",
    response_model=runs.RunOut,
    status_code=202,
    summary="Queue a bulk import of deals with their stage history, keyed by external_id",
    responses=UPLOAD_RESPONSES,
)
def bulk_deals(
    session: DbSession,
    g: Annotated[Grant, grant("deal", Action.IMPORT)],
    file: Upload,
    mode: Mode = ImportMode.ATOMIC,
    dry_run: DryRun = False,
    mapping: Pairs = None,
    mapping_name: MappingName = None,
    owner: Owner = None,
) -> Any:
    return _queue(session, g, Entity.DEALS, file, mode, dry_run, OnDuplicate.SKIP, mapping,
                  mapping_name, owner)


@router.post(
    "/imports/ad-spend",
    response_model=runs.RunDetail,
    summary="Import daily ad spend from a Yandex Direct, VK Ads, Google Ads or generic report",
    responses=UPLOAD_RESPONSES,
)
def import_ad_spend(
    session: DbSession,
    g: Annotated[Grant, grant("ad_spend", Action.IMPORT)],
    file: Upload,
    platform: Annotated[AdFormat, Form(description="Whose export the file is.")],
    mode: Annotated[ImportMode, Form(description="per-row (default) or atomic.")] = (
        ImportMode.PER_ROW
    ),
    dry_run: DryRun = False,
    currency: Annotated[
        str | None, Form(min_length=3, max_length=3, description="When the report names none.")
    ] = None,
) -> Any:
    file_format = format_of(file.filename or "")
    folder = _upload_folder()
    path = folder / f"{secrets.token_hex(16)}.{file_format.value}"
    try:
        _save(file, path)
        run = ad_spend.import_report(
            session, actor=g.actor, path=path, file_name=file.filename or path.name,
            file_format=file_format, ad_format=platform, mode=mode, dry_run=dry_run,
            currency=currency.upper() if currency else None,
        )
    finally:
        path.unlink(missing_ok=True)
    return runs.RunDetail.of(run)


@router.get(
    "/imports/runs",
    response_model=Page[runs.RunOut],
    summary="List import runs (yours; all of them for administrators)",
)
def list_runs(
    session: DbSession, g: Annotated[Grant, grant("import_run", Action.READ)], paging: Paging
) -> Any:
    found, total = runs.list_runs(
        session, actor=g.actor, scope=g.scope, limit=paging.page_size, offset=paging.offset
    )
    return Page(items=[runs.RunOut.model_validate(r) for r in found], total=total,
                page=paging.page, page_size=paging.page_size)


@router.get(
    "/imports/runs/{run_id}",
    response_model=runs.RunDetail,
    summary="One import run: status, progress, counts, errors, sample",
    responses=NOT_YOURS,
)
def get_run(
    run_id: int, session: DbSession, g: Annotated[Grant, grant("import_run", Action.READ)]
) -> Any:
    return runs.RunDetail.of(_visible(session, g, run_id))


@router.get(
    "/imports/runs/{run_id}/errors.csv",
    response_class=Response,
    summary="The error report of a run as CSV (row, column, field, value, message)",
    responses={200: {"content": {"text/csv": {}}}, **NOT_YOURS},
)
def run_errors(
    run_id: int, session: DbSession, g: Annotated[Grant, grant("import_run", Action.READ)]
) -> Response:
    run = _visible(session, g, run_id)
    report = rows_csv([RowError(**e) for e in run.errors])
    return Response(
        ("\ufeff" + report).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="import-{run.id}-errors.csv"'},
    )


@router.get(
    "/imports/mappings",
    response_model=list[runs.MappingOut],
    summary="Saved column mappings",
)
def list_mappings(
    session: DbSession, g: Annotated[Grant, grant("import_mapping", Action.READ)]
) -> Any:
    return [runs.MappingOut.model_validate(m) for m in runs.list_mappings(session, actor=g.actor)]


@router.post(
    "/imports/mappings",
    response_model=runs.MappingOut,
    status_code=201,
    summary="Save a column mapping for later imports",
    responses={409: UPLOAD_RESPONSES[409], 422: {"description": "Unknown field"}},
)
def save_mapping(
    data: runs.MappingIn,
    session: DbSession,
    g: Annotated[Grant, grant("import_mapping", Action.CREATE)],
) -> Any:
    return runs.MappingOut.model_validate(runs.save_mapping(session, actor=g.actor, data=data))


def _queue(
    session: DbSession,
    g: Grant,
    entity: Entity,
    upload: UploadFile,
    mode: ImportMode,
    dry_run: bool,
    on_duplicate: OnDuplicate,
    pairs: list[str] | None,
    mapping_name: str | None,
    owner: str | None,
    extra: dict[str, Any] | None = None,
) -> Any:
    file_format = format_of(upload.filename or "")
    explicit = parse_pairs(pairs or [])
    if mapping_name:
        saved = runs.mapping_named(session, actor=g.actor, entity=entity, name=mapping_name)
        explicit = {**saved, **explicit}
    path = _upload_folder() / f"{secrets.token_hex(16)}.{file_format.value}"
    _save(upload, path)
    try:
        run = runs.create_run(
            session, actor=g.actor, entity=entity, file_name=upload.filename or path.name,
            file_format=file_format, stored_path=path, mode=mode, dry_run=dry_run,
            on_duplicate=on_duplicate, explicit_mapping=explicit, default_owner_email=owner,
            extra=extra,
        )
        tasks.queue_run(session, run)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return runs.RunOut.model_validate(run)


def _visible(session: DbSession, g: Grant, run_id: int) -> Any:
    run = runs.get_run(session, actor=g.actor, scope=g.scope, run_id=run_id)
    if run is None:
        raise NotFound("no such import run")
    return run


def _upload_folder() -> Path:
    folder = get_settings().import_dir.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _save(upload: UploadFile, path: Path) -> None:
    """Copy the upload to ``path``, refusing it past the upload limit setting."""
    limit, copied = get_settings().max_upload_bytes, 0
    try:
        with path.open("wb") as target:
            while chunk := upload.file.read(COPY_CHUNK):
                copied += len(chunk)
                if copied > limit:
                    raise PayloadTooLarge(f"the file is over {limit} bytes")
                target.write(chunk)
        if copied == 0:
            raise UnreadableFile("the file is empty")
    except BaseException:
        path.unlink(missing_ok=True)
        raise
