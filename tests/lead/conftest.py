"""Lead-form test world: the tracker's shop plus a contact form made by the lead service."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.pipeline.sample import FrozenClock
from tests.tracking.support import Shop, clock_fixture, shop_fixture
from voronka.access.actor import Actor
from voronka.db.session import unit_of_work
from voronka.lead import service
from voronka.lead.schemas import LeadFormCreate

CONTACT_FIELDS = [
    {"name": "name", "kind": "name", "required": True, "label": "Имя / Name"},
    {"name": "phone", "kind": "phone"},
    {"name": "email", "kind": "email"},
    {"name": "comment", "kind": "text", "label": "Comment", "max_length": 500},
    {"name": "agree", "kind": "consent", "required": True, "purpose": "data_processing"},
    {"name": "news", "kind": "consent", "purpose": "marketing_email"},
]


def make_form(shop: Shop, **settings: Any) -> dict[str, Any]:
    """Create a form as the system actor; returns its id and public key."""
    data = LeadFormCreate(**{"name": "Contact us", "fields": CONTACT_FIELDS,
                             "site_id": shop.site_id, "consent_text_version": "2026-01",
                             **settings})
    with unit_of_work(shop.engine) as session:
        form = service.create_form(session, actor=Actor.system(1), data=data)
        return {"id": form.id, "key": form.form_key}


@pytest.fixture
def frozen() -> Iterator[FrozenClock]:
    yield from clock_fixture()


@pytest.fixture
def shop(engine, frozen) -> Iterator[Shop]:
    yield from shop_fixture(engine)


@pytest.fixture
def form(shop: Shop) -> dict[str, Any]:
    return make_form(shop)
