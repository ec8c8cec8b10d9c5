"""Client rows: parse, find duplicates by normalised phone/e-mail, create or update.

Creation and updates go through ``voronka.client.service`` so the same rules apply as in
the API (owner scope, company check, search text, audit). On update, filled cells overwrite
the field, blank cells leave it alone, and phones, e-mails and tags are added to the
client's own (never removed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from voronka.client import repository
from voronka.client import service as client_service
from voronka.client.contact import normalize_email, normalize_phone
from voronka.client.models import Client, ClientKind, ContactKind
from voronka.client.schemas import ClientCreate, ClientUpdate, ContactIn
from voronka.config import get_settings
from voronka.transfer import cells
from voronka.transfer.options import OnDuplicate
from voronka.transfer.rows import Outcome, RowHandler, RowReader

KIND_WORDS = {
    "person": ClientKind.PERSON,
    "человек": ClientKind.PERSON,
    "физлицо": ClientKind.PERSON,
    "физическоелицо": ClientKind.PERSON,
    "company": ClientKind.COMPANY,
    "компания": ClientKind.COMPANY,
    "организация": ClientKind.COMPANY,
    "юрлицо": ClientKind.COMPANY,
    "юридическоелицо": ClientKind.COMPANY,
}
CONTACT_FIELD = {ContactKind.PHONE: "phone", ContactKind.EMAIL: "email"}


@dataclass
class ClientRow:
    """A parsed client row: the values given (``None`` = blank cell) with resolved ids."""

    reader: RowReader
    name: str | None = None
    kind: ClientKind | None = None
    contacts: list[tuple[ContactKind, str]] = field(default_factory=list)
    company_id: int | None = None
    job_title: str | None = None
    tags: list[str] = field(default_factory=list)
    owner_id: int | None = None
    source_channel_id: int | None = None


class ClientImport(RowHandler):
    """Writes client rows for one import."""

    entity = "client"
    api_fields = {"owner_id": "owner", "company_id": "company", "source_channel_id": "source"}

    def prepare(self, reader: RowReader) -> ClientRow:
        """Parse the row and resolve its references; problems land in ``reader.errors``."""
        row = ClientRow(reader, name=reader.text("name", 300))
        row.job_title = reader.text("job_title", 200)
        row.kind = reader.get("kind", _kind)
        row.contacts = self._contacts(reader)
        row.tags = reader.get("tags", _tags) or []
        row.owner_id = reader.get("owner", lambda v: self.lookups.user_id(cells.text(v)))
        row.source_channel_id = reader.get(
            "source", lambda v: self.lookups.channel_id(cells.text(v))
        )
        row.company_id = reader.get("company", lambda v: self.lookups.company_id(cells.text(v)))
        return row

    def apply(self, prepared: ClientRow) -> Outcome:
        """Create, update or skip; raises ``RowFailure`` or a domain error."""
        holders = self._holders(prepared) if self.on_duplicate is not OnDuplicate.CREATE else {}
        if not holders:
            self._create(prepared)
            return Outcome.CREATED
        if self.on_duplicate is OnDuplicate.SKIP:
            return Outcome.SKIPPED
        return self._update(prepared, holders)

    def field_of(self, api_field: str | None, message: str) -> str | None:
        if api_field is not None and api_field.startswith("contacts"):
            return "email" if "email" in message else "phone"
        return super().field_of(api_field, message)

    def _contacts(self, reader: RowReader) -> list[tuple[ContactKind, str]]:
        region = get_settings().default_phone_region
        found: dict[tuple[ContactKind, str], None] = {}
        for kind, normalise in (
            (ContactKind.PHONE, lambda raw: normalize_phone(raw, region=region)),
            (ContactKind.EMAIL, normalize_email),
        ):
            for item in reader.get(CONTACT_FIELD[kind], cells.items) or []:
                try:
                    found.setdefault((kind, normalise(item)), None)
                except ValueError as exc:
                    reader.fail(CONTACT_FIELD[kind], str(exc), value=item)
        return list(found)

    def _holders(self, row: ClientRow) -> dict[int, tuple[ContactKind, str]]:
        """Clients holding any of the row's contacts: id → the first contact matched."""
        holders: dict[int, tuple[ContactKind, str]] = {}
        for client_id, kind, value in repository.holders_of(
            self.session, self.actor.workspace_id, row.contacts
        ):
            holders.setdefault(client_id, (kind, value))
        return holders

    def _update(self, row: ClientRow, holders: dict[int, tuple[ContactKind, str]]) -> Outcome:
        visible = self.lookups.visible_client_ids(set(holders))
        hidden = [holders[i] for i in sorted(set(holders) - visible)]
        if hidden:
            kind, value = hidden[0]
            raise row.reader.failure(
                CONTACT_FIELD.get(kind),
                f"a client outside your scope has this {kind.value}; it was not changed",
                value=value,
            )
        if len(visible) > 1:
            ids = ", ".join(str(i) for i in sorted(visible))
            raise row.reader.failure(
                None, f"the row matches several clients ({ids}); merge them first"
            )
        client = repository.get_visible(self.session, self.actor, self.scope, visible.pop())
        assert client is not None  # its id was just found visible
        version = client.version
        data = self.validated(ClientUpdate, row.reader, _changes(row, client))
        client_service.update_client(
            self.session, actor=self.actor, scope=self.scope, client=client, data=data
        )
        return Outcome.UPDATED if client.version != version else Outcome.UNCHANGED

    def _create(self, row: ClientRow) -> None:
        if row.name is None:
            raise row.reader.failure("name", "required")
        values: dict[str, Any] = {
            "name": row.name,
            "kind": row.kind or ClientKind.PERSON,
            "job_title": row.job_title,
            "company_id": row.company_id,
            "source_channel_id": row.source_channel_id,
            "tags": row.tags,
            "contacts": _contact_models(row.contacts, []),
        }
        owner_id = row.owner_id or self.default_owner_id
        if owner_id is not None:
            values["owner_id"] = owner_id  # otherwise the service makes the importer the owner
        client_service.create(
            self.session,
            actor=self.actor,
            scope=self.scope,
            data=self.validated(ClientCreate, row.reader, values),
            allow_duplicate=True,  # duplicates were decided above, by --on-duplicate
        )


def _kind(value: object) -> ClientKind:
    word = cells.text(value).casefold().replace(" ", "").replace("-", "")  # type: ignore[arg-type]
    if word not in KIND_WORDS:
        raise ValueError("kind must be person or company")
    return KIND_WORDS[word]


def _tags(value: object) -> list[str]:
    tags = cells.items(value)  # type: ignore[arg-type]
    if any(len(t) > 64 for t in tags):
        raise ValueError("a tag has at most 64 characters")
    return tags


def _contact_models(
    contacts: list[tuple[ContactKind, str]], existing: list[ContactIn]
) -> list[ContactIn]:
    """Existing contacts first, then the new ones; the first of each kind is primary."""
    have_primary = {c.kind for c in existing if c.is_primary}
    known = {(c.kind, c.value) for c in existing}
    models = list(existing)
    for kind, value in contacts:
        if (kind, value) not in known:
            models.append(ContactIn(kind=kind, value=value, is_primary=kind not in have_primary))
            have_primary.add(kind)
            known.add((kind, value))
    return models


def _changes(row: ClientRow, client: Client) -> dict[str, Any]:
    """The ``ClientUpdate`` fields a row sets: filled cells only; contacts and tags added."""
    changes: dict[str, Any] = {
        name: getattr(row, name)
        for name in ("name", "kind", "job_title", "company_id", "owner_id", "source_channel_id")
        if getattr(row, name) is not None
    }
    existing = [
        ContactIn(kind=c.kind, value=c.value, label=c.label, is_primary=c.is_primary)
        for c in client.contacts
    ]
    contacts = _contact_models(row.contacts, existing)
    if len(contacts) != len(existing):
        changes["contacts"] = contacts
    current_tags = [t.tag for t in client.tags]
    wanted = sorted({*current_tags, *(t.casefold()[:64] for t in row.tags)})
    if wanted != sorted(current_tags):
        changes["tags"] = wanted
    return changes
