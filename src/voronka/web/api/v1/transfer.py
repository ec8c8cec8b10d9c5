"""Import (multipart upload) of clients and deals, and export (streamed file) of every entity.

Imports need the IMPORT action and exports the EXPORT action on the resource; rows are limited
to the caller's record scope either way. An upload is saved under a server-chosen name in a
temporary directory that is removed when the request ends; its file name is used only to
tell CSV from XLSX.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from voronka import clock
from voronka.access.policy import Action
from voronka.config import get_settings
from voronka.db.session import unit_of_work
from voronka.errors import PayloadTooLarge
from voronka.transfer import exporter, importer
from voronka.transfer.errors import UnreadableFile
from voronka.transfer.exporter import ExportEntity, ExportFilter
from voronka.transfer.mapping import Entity, parse_pairs
from voronka.transfer.options import ImportMode, ImportOptions, OnDuplicate
from voronka.transfer.reading import FileFormat, format_of
from voronka.transfer.report import ImportReport, errors_csv
from voronka.web.deps import DbSession, Grant, grant

router = APIRouter(tags=["import and export"])

#: Largest upload an import accepts (the app-wide request body limit applies as well).
COPY_CHUNK = 1024 * 1024
IMPORT_ERRORS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The report (JSON), or its problems as CSV with report_format=csv",
        "content": {"text/csv": {}},
    },
    403: {"description": "Your role may not import these records, or owner outside your scope"},
    413: {"description": "The file is over a size limit"},
    422: {"description": "Unreadable file, unsupported type, or columns that cannot be mapped"},
}
EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The file, streamed",
        "content": {media: {} for media in exporter.MEDIA_TYPES.values()},
    },
    403: {"description": "Your role may not export these records, or owner outside your scope"},
}


class ReportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"


Upload = Annotated[UploadFile, File(description="CSV or XLSX; row 1 names the columns.")]
Mode = Annotated[ImportMode, Form(description="atomic: all or nothing; per-row: good rows.")]
DryRun = Annotated[bool, Form(description="Report what would happen; write nothing.")]
Duplicates = Annotated[OnDuplicate, Form(description="What to do with a matching record.")]
Owner = Annotated[
    str | None, Form(max_length=254, description="E-mail of the owner of new records.")
]
Mapping = Annotated[
    list[str] | None, Form(description="'Column=field' pairs for columns not recognised.")
]
Report = Annotated[ReportFormat, Form(description="json (default) or csv (the problems).")]


@router.post(
    "/imports/clients",
    response_model=ImportReport,
    summary="Import clients from CSV or XLSX",
    responses=IMPORT_ERRORS,
)
def import_clients(
    session: DbSession,
    g: Annotated[Grant, grant("client", Action.IMPORT)],
    file: Upload,
    mode: Mode = ImportMode.ATOMIC,
    dry_run: DryRun = False,
    on_duplicate: Duplicates = OnDuplicate.SKIP,
    owner: Owner = None,
    mapping: Mapping = None,
    report_format: Report = ReportFormat.JSON,
) -> Any:
    options = _options(mode, dry_run, on_duplicate, owner, mapping)
    return _import(session, g, Entity.CLIENTS, file, options, report_format)


@router.post(
    "/imports/deals",
    response_model=ImportReport,
    summary="Import deals from CSV or XLSX",
    responses=IMPORT_ERRORS,
)
def import_deals(
    session: DbSession,
    g: Annotated[Grant, grant("deal", Action.IMPORT)],
    file: Upload,
    mode: Mode = ImportMode.ATOMIC,
    dry_run: DryRun = False,
    on_duplicate: Duplicates = OnDuplicate.SKIP,
    owner: Owner = None,
    mapping: Mapping = None,
    report_format: Report = ReportFormat.JSON,
) -> Any:
    options = _options(mode, dry_run, on_duplicate, owner, mapping)
    return _import(session, g, Entity.DEALS, file, options, report_format)


def _options(
    mode: ImportMode,
    dry_run: bool,
    on_duplicate: OnDuplicate,
    owner: str | None,
    mapping: list[str] | None,
) -> ImportOptions:
    return ImportOptions(
        mode=mode,
        dry_run=dry_run,
        on_duplicate=on_duplicate,
        default_owner_email=owner or None,
        mapping=parse_pairs(mapping or []),
    )


def _import(
    session: Session,
    g: Grant,
    entity: Entity,
    upload: UploadFile,
    options: ImportOptions,
    report_format: ReportFormat,
) -> Any:
    file_format = format_of(upload.filename or "")
    with tempfile.TemporaryDirectory(prefix="voronka-import-") as folder:
        path = Path(folder) / f"upload.{file_format.value}"
        _save(upload, path)
        report = importer.import_file(
            session,
            actor=g.actor,
            scope=g.scope,
            entity=entity,
            path=path,
            file_format=file_format,
            options=options,
        )
    if report_format is ReportFormat.CSV:
        return Response(
            ("\ufeff" + errors_csv(report)).encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="import-report.csv"'},
        )
    return report


def _save(upload: UploadFile, path: Path) -> None:
    """Copy the upload to ``path``, refusing it past the upload limit setting."""
    limit, copied = get_settings().max_upload_bytes, 0
    with path.open("wb") as target:
        while chunk := upload.file.read(COPY_CHUNK):
            copied += len(chunk)
            if copied > limit:
                raise PayloadTooLarge(f"the file is over {limit} bytes")
            target.write(chunk)
    if copied == 0:
        raise UnreadableFile("the file is empty")


class ExportQuery(BaseModel):
    """The filters of an export; which ones an entity takes is checked (422 naming the
    field). Unknown query parameters are refused too, so a typo never widens an export."""

    model_config = ConfigDict(extra="forbid")

    date_from: datetime | None = Field(None, description="Period start, included.")
    date_to: datetime | None = Field(None, description="Period end, excluded.")
    created_from: datetime | None = Field(None, description="Older name of date_from.")
    created_to: datetime | None = Field(None, description="Older name of date_to.")
    owner_id: int | None = Field(None, description="Only records of this owner.")
    pipeline_id: int | None = Field(None, description="deals, deal-stages: this pipeline.")
    status: str | None = Field(None, description="deals: open|won|lost; orders: new, paid, …")
    kind: str | None = Field(None, description="activities: call, …; touchpoints: visit, …")

    def as_filter(self) -> ExportFilter:
        return ExportFilter(
            owner_id=self.owner_id,
            date_from=self.date_from or self.created_from,
            date_to=self.date_to or self.created_to,
            pipeline_id=self.pipeline_id,
            status=self.status,
            kind=self.kind,
        )


def _export_route(entity: ExportEntity) -> None:
    """Register ``GET /exports/<entity>.<csv|xlsx>`` behind the resource's EXPORT policy."""
    spec = exporter.spec_of(entity)

    def export(
        file_format: FileFormat,
        request: Request,
        session: Session,
        g: Grant,
        query: ExportQuery,
    ) -> StreamingResponse:
        return _export(request, session, g, entity, file_format, query.as_filter())

    # Real objects, not this module's postponed (string) annotations: the grant depends on
    # the entity, which a string could not name.
    export.__annotations__ = {
        "file_format": FileFormat,
        "request": Request,
        "session": DbSession,
        "g": Annotated[Grant, grant(spec.resource, Action.EXPORT)],
        "query": Annotated[ExportQuery, Query()],
        "return": StreamingResponse,
    }
    export.__name__ = f"export_{entity.value.replace('-', '_')}"
    router.add_api_route(
        f"/exports/{entity.value}.{{file_format}}",
        export,
        methods=["GET"],
        response_class=StreamingResponse,
        summary=f"Export the {entity.value.replace('-', ' ')} you may see (CSV or XLSX)",
        description=f"Columns: {', '.join(spec.columns)}. The period filters on "
        f"{spec.date_column}.",
        responses=EXPORT_RESPONSES,
    )


def _export(
    request: Request,
    session: Session,
    g: Grant,
    entity: ExportEntity,
    file_format: FileFormat,
    export_filter: ExportFilter,
) -> StreamingResponse:
    """Check the filter and audit the export in the request's transaction, then stream the
    rows in a read-only transaction of its own (the request's ends before the body is
    sent): a large export is never held in memory."""
    exporter.check(session, actor=g.actor, scope=g.scope, entity=entity,
                   export_filter=export_filter)
    row_count = exporter.count(
        session, actor=g.actor, scope=g.scope, entity=entity, export_filter=export_filter
    )
    exporter.record(
        session,
        actor=g.actor,
        entity=entity,
        file_format=file_format,
        row_count=row_count,
        export_filter=export_filter,
    )
    engine = request.app.state.engine

    def body() -> Iterator[bytes]:
        with unit_of_work(engine, write=False) as stream_session:
            yield from exporter.chunks(
                stream_session,
                actor=g.actor,
                scope=g.scope,
                entity=entity,
                file_format=file_format,
                export_filter=export_filter,
            )

    filename = f"{entity.value}-{clock.now():%Y-%m-%d}.{file_format.value}"
    return StreamingResponse(
        body(),
        media_type=exporter.MEDIA_TYPES[file_format],
        headers={"Content-Disposition": f'attachment; filename="{filename}"',
                 "Cache-Control": "no-store"},
    )


for _entity in ExportEntity:
    _export_route(_entity)
