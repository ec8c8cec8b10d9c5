"""Bulk touchpoint import: linked to clients by contact, to campaigns by UTM values, and
never doubled by a re-import. Expected values are read off the rows by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from tests.transfer.files import write_csv
from voronka.campaign.models import Campaign, Channel, ChannelKind, Touchpoint, TouchpointKind
from voronka.db.session import unit_of_work
from voronka.errors import Forbidden
from voronka.transfer.models import RunStatus
from voronka.transfer.options import ImportMode


def marketing(engine):
    with unit_of_work(engine) as session:
        channel = Channel(workspace_id=1, slug="yandex_direct", name="Яндекс Директ",
                          kind=ChannelKind.PAID_SEARCH, is_paid=True)
        seo = Channel(workspace_id=1, slug="seo", name="SEO", kind=ChannelKind.ORGANIC)
        session.add_all([channel, seo])
        session.flush()
        campaign = Campaign(workspace_id=1, channel_id=channel.id, name="Бренд",
                            utm_source="yandex", utm_campaign="brand_search")
        session.add(campaign)
        session.flush()
        return channel.id, seo.id, campaign.id


def test_touchpoints_are_linked_and_stored_in_utc(engine, people, bulk_import, tmp_path):
    channel_id, seo_id, campaign_id = marketing(engine)
    path = write_csv(tmp_path / "t.csv", [
        ["Дата и время", "Тип", "visitor_id", "Телефон", "utm_source", "utm_campaign",
         "Источник", "Просмотры", "Время на сайте"],
        ["01.11.2026 10:00", "визит", "v1", "8 999 000-00-01", "Yandex", "BRAND_search", "", "3", "120"],
        ["2026-11-01T12:30:00+00:00", "ad_click", "v2", "", "google", "brand_search", "", "", ""],
        ["2026-11-02 09:00", "form", "", "", "", "", "seo", "1", "15"],
    ])
    run = bulk_import(path, "touchpoints", who="K")
    assert (run.status, run.total, run.created, run.duplicates, run.failed) == (
        RunStatus.DONE, 3, 3, 0, 0)
    with unit_of_work(engine, write=False) as session:
        found = session.execute(
            select(Touchpoint.kind, Touchpoint.occurred_at, Touchpoint.client_id,
                   Touchpoint.campaign_id, Touchpoint.channel_id, Touchpoint.pages,
                   Touchpoint.seconds_on_site).order_by(Touchpoint.occurred_at)
        ).all()
    assert found == [
        # 10:00 Moscow is 07:00 UTC; the phone is C1's; utm values match case-insensitively
        (TouchpointKind.VISIT, datetime(2026, 11, 1, 7, tzinfo=UTC), people.clients["C1"],
         campaign_id, channel_id, 3, 120),
        # utm_source google differs from the campaign's yandex: no campaign
        (TouchpointKind.AD_CLICK, datetime(2026, 11, 1, 12, 30, tzinfo=UTC), None, None, None,
         0, 0),
        (TouchpointKind.FORM, datetime(2026, 11, 2, 6, tzinfo=UTC), None, None, seo_id, 1, 15),
    ]
    again = bulk_import(path, "touchpoints", who="K")
    assert (again.created, again.duplicates) == (0, 3)


def test_bad_touchpoint_rows_are_reported_by_row_and_field(engine, people, bulk_import, tmp_path):
    marketing(engine)
    path = write_csv(tmp_path / "t.csv", [
        ["occurred_at", "kind", "client_id", "pages", "landing_page", "source"],
        ["2026-13-01", "visit", "", "", "", ""],
        ["2026-11-01 10:00", "teleport", "", "", "", ""],
        ["2026-11-01 10:00", "visit", "999999", "", "", ""],
        ["2026-11-01 10:00", "visit", "", "-1", "", ""],
        ["2026-11-01 10:00", "visit", "", "1e309", "", ""],
        ["2026-11-01 10:00", "visit", "", "", "x" * 1001, ""],
        ["2026-11-01 10:00", "visit", "", "", "", "no-such-channel"],
        ["2026-11-01 11:00", "call", "", "2", "", ""],
    ])
    run = bulk_import(path, "touchpoints", mode=ImportMode.PER_ROW)
    assert (run.total, run.created, run.failed) == (8, 1, 7)
    assert [(e["row"], e["field"], e["message"]) for e in run.errors] == [
        (2, "occurred_at", "not a date: use YYYY-MM-DD or DD.MM.YYYY, optionally with HH:MM"),
        (3, "kind", "kind must be one of ad_click, visit, call, form, email_click, offline"),
        (4, "client_id", "no client with this id"),
        (5, "pages", "must be a whole number"),
        (6, "pages", "must be a whole number"),
        (7, "landing_page", "at most 1000 characters"),
        (8, "source", "no channel with this slug"),
    ]



def test_a_repeated_cell_is_parsed_once_and_reported_on_every_row(
    engine, people, bulk_import, tmp_path
):
    # kinds, counts and phones are parsed once per distinct text in a batch: a bad text
    # must still be an error of each row holding it, a good one the value of each
    path = write_csv(tmp_path / "t.csv", [
        ["occurred_at", "kind", "phone", "pages"],
        ["2026-11-01 10:00", "teleport", "", "x"],
        ["2026-11-01 11:00", "visit", "8 999 000-00-01", "3"],
        ["2026-11-01 12:00", "teleport", "", "3"],
        ["2026-11-01 13:00", "visit", "8 999 000-00-01", "x"],
    ])
    run = bulk_import(path, "touchpoints", mode=ImportMode.PER_ROW)
    assert (run.total, run.created, run.failed) == (4, 1, 3)
    assert [(e["row"], e["field"], e["value"]) for e in run.errors] == [
        (2, "kind", "teleport"), (2, "pages", "x"), (4, "kind", "teleport"), (5, "pages", "x"),
    ]
    with unit_of_work(engine, write=False) as session:
        stored = session.execute(select(Touchpoint.client_id, Touchpoint.pages)).all()
    assert stored == [(people.clients["C1"], 3)]  # the phone is C1's (people fixture)

def test_marketers_may_import_touchpoints_but_managers_may_not(
    engine, people, bulk_import, tmp_path
):
    path = write_csv(tmp_path / "t.csv", [["occurred_at"], ["2026-11-01 10:00"]])
    with pytest.raises(Forbidden):
        bulk_import(path, "touchpoints", who="M1")
    with unit_of_work(engine, write=False) as session:
        assert session.scalars(select(Touchpoint)).all() == []
