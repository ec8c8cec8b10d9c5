"""Ad-spend reports of Yandex Direct, VK Ads, Google Ads and the generic layout (the sample
files in docs/samples): parsed, matched to campaigns by UTM value, stored once per campaign
and day. Every expected figure is read off the sample files by hand."""

from __future__ import annotations

import csv
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.transfer.files import write_csv, write_xlsx
from voronka.access.actor import Actor
from voronka.audit.models import AuditEvent
from voronka.campaign.models import AdSpend, Campaign, Channel, ChannelKind
from voronka.db.session import unit_of_work
from voronka.transfer.ad_spend.formats import AdFormat
from voronka.transfer.ad_spend.loader import import_report
from voronka.transfer.errors import MappingProblem, UnreadableFile
from voronka.transfer.models import RunStatus
from voronka.transfer.options import ImportMode
from voronka.transfer.reading import format_of

SAMPLES = Path(__file__).parents[2] / "docs" / "samples"


@pytest.fixture
def campaigns(engine, people):
    """utm_campaign → campaign id, for the campaigns the samples name."""
    with unit_of_work(engine) as session:
        channel = Channel(workspace_id=1, slug="ads", name="Ads", kind=ChannelKind.PAID_SEARCH,
                          is_paid=True)
        session.add(channel)
        session.flush()
        made = {}
        for name, utm in [("Бренд", "brand_search"), ("Общие", "generic_search"),
                          ("VK", "vk_retargeting"), ("Search | Brand", "g_brand"),
                          ("Рассылка", "newsletter_nov")]:
            campaign = Campaign(workspace_id=1, channel_id=channel.id, name=name,
                                utm_campaign=utm)
            session.add(campaign)
            session.flush()
            made[utm] = campaign.id
        return made


def run_import(engine, path, platform, who=None, people=None, **options):
    actor = people.actor(who) if who else Actor.system()
    with unit_of_work(engine) as session:
        return import_report(session, actor=actor, path=path, file_name=path.name,
                             file_format=format_of(path.name), ad_format=AdFormat(platform),
                             **options)


def spend(engine):
    with unit_of_work(engine, write=False) as session:
        rows = session.execute(
            select(AdSpend.campaign_id, AdSpend.day, AdSpend.cost, AdSpend.impressions,
                   AdSpend.clicks, AdSpend.currency, AdSpend.source)
            .order_by(AdSpend.campaign_id, AdSpend.day)
        ).all()
    return [tuple(r) for r in rows]


def test_yandex_direct_wizard_export(engine, campaigns):
    run = run_import(engine, SAMPLES / "yandex_direct.csv", "yandex")
    # five data rows; «Итого» skipped; old_campaign matches no campaign
    assert (run.status, run.total, run.created, run.updated, run.failed) == (
        RunStatus.DONE, 5, 4, 0, 1)
    assert run.errors == [{"row": 7, "column": None, "field": "campaign",
                           "value": "old_campaign",
                           "message": "no campaign has utm_campaign or name 'old_campaign'"}]
    brand, generic = campaigns["brand_search"], campaigns["generic_search"]
    assert spend(engine) == [
        (brand, date(2026, 11, 1), Decimal("4512.30"), 12480, 315, "RUB", "yandex"),
        (brand, date(2026, 11, 2), Decimal("4380.75"), 11020, 298, "RUB", "yandex"),
        (generic, date(2026, 11, 1), Decimal("2100.00"), 8002, 120, "RUB", "yandex"),
        (generic, date(2026, 11, 2), Decimal("2090.50"), 7950, 118, "RUB", "yandex"),
    ]


def test_vk_ads_export_adds_up_rows_of_the_same_day(engine, campaigns):
    run = run_import(engine, SAMPLES / "vk_ads.csv", "vk")
    assert (run.total, run.created, run.failed) == (3, 2, 0)
    vk = campaigns["vk_retargeting"]
    # 3 200,40 + 99,60 = 3 300,00; 25 000 + 1 000 impressions; 410 + 10 clicks
    assert spend(engine) == [
        (vk, date(2026, 11, 1), Decimal("3300.00"), 26000, 420, "RUB", "vk"),
        (vk, date(2026, 11, 2), Decimal("3150.00"), 24100, 388, "RUB", "vk"),
    ]


def test_google_ads_utf16_export_with_totals_rows(engine, campaigns):
    run = run_import(engine, SAMPLES / "google_ads.csv", "google")
    assert (run.total, run.created, run.failed) == (2, 2, 0)
    brand = campaigns["g_brand"]  # matched by the campaign's name «Search | Brand»
    assert spend(engine) == [
        (brand, date(2026, 11, 1), Decimal("1204.50"), 10250, 512, "USD", "google"),
        (brand, date(2026, 11, 2), Decimal("998.10"), 9870, 470, "USD", "google"),
    ]


def test_generic_layout(engine, campaigns):
    run = run_import(engine, SAMPLES / "ad_spend_generic.csv", "generic")
    assert (run.total, run.created) == (2, 2)
    news = campaigns["newsletter_nov"]
    assert spend(engine) == [
        (news, date(2026, 11, 1), Decimal("150.00"), 0, 320, "RUB", "generic"),
        (news, date(2026, 11, 2), Decimal("0.00"), 0, 95, "RUB", "generic"),
    ]


def test_xlsx_export_gives_the_same_result(engine, campaigns, tmp_path):
    with (SAMPLES / "yandex_direct.csv").open(encoding="utf-8-sig", newline="") as source:
        rows = list(csv.reader(source, delimiter=";"))
    rows[2][3] = 12480  # a number cell, as Excel stores it
    path = write_xlsx(tmp_path / "yandex.xlsx", rows)
    run = run_import(engine, path, "yandex")
    assert (run.total, run.created, run.failed) == (5, 4, 1)
    assert spend(engine)[0][2:5] == (Decimal("4512.30"), 12480, 315)


def test_reimport_replaces_and_never_doubles(engine, campaigns, tmp_path):
    first = run_import(engine, SAMPLES / "yandex_direct.csv", "yandex")
    again = run_import(engine, SAMPLES / "yandex_direct.csv", "yandex")
    assert (first.created, again.created, again.updated, again.duplicates) == (4, 0, 0, 4)
    corrected = write_csv(tmp_path / "fix.csv", [
        ["Отчёт за 02.11.2026"],
        ["Дата", "Кампания", "Показы", "Клики", "Расход (руб.)"],
        ["02.11.2026", "brand_search", "11 020", "298", "4 000,00"],
    ], delimiter=";")
    fixed = run_import(engine, corrected, "yandex")
    assert (fixed.created, fixed.updated) == (0, 1)
    brand_days = [row for row in spend(engine) if row[0] == campaigns["brand_search"]]
    assert [row[2] for row in brand_days] == [Decimal("4512.30"), Decimal("4000.00")]
    assert len(spend(engine)) == 4


def test_atomic_mode_writes_nothing_when_a_row_fails(engine, campaigns):
    run = run_import(engine, SAMPLES / "yandex_direct.csv", "yandex", mode=ImportMode.ATOMIC)
    assert (run.status, run.failed) == (RunStatus.REFUSED, 1)
    assert spend(engine) == []


def test_dry_run_counts_but_writes_nothing(engine, campaigns):
    run = run_import(engine, SAMPLES / "vk_ads.csv", "vk", dry_run=True)
    assert (run.dry_run, run.created, run.failed) == (True, 2, 0)
    assert spend(engine) == []
    with unit_of_work(engine, write=False) as session:
        assert session.scalars(select(AuditEvent)).all() == []


BAD_CELLS = [
    ("-5,00", "cost", "spend must be a number of at least 0"),
    ("NaN", "cost", "not a number"),
    ("Infinity", "cost", "not a number"),
    ("1e309", "cost", "not a number"),
    ("123456789012345678901234567890", "cost", "spend must be below 10 000 000 000 000"),
]


@pytest.mark.parametrize(("cost", "fld", "message"), BAD_CELLS)
def test_bad_numbers_fail_the_whole_campaign_day(engine, campaigns, tmp_path, cost, fld, message):
    path = write_csv(tmp_path / "bad.csv", [
        ["day", "campaign", "cost", "clicks"],
        ["2026-11-01", "brand_search", "100", "1"],
        ["2026-11-01", "brand_search", cost, "1"],
        ["2026-11-02", "brand_search", "50", "1"],
    ])
    run = run_import(engine, path, "generic")
    assert [(e["row"], e["field"], e["message"]) for e in run.errors] == [
        (2, None, "another row of this campaign and day could not be read; the day was left "
                  "as stored"),
        (3, fld, message),
    ]
    # only 2026-11-02 is stored: a half-read day is left alone
    assert [(row[1], row[2]) for row in spend(engine)] == [(date(2026, 11, 2), Decimal("50.00"))]


def test_dates_counts_and_currencies_are_checked(engine, campaigns, tmp_path):
    path = write_csv(tmp_path / "bad.csv", [
        ["day", "campaign", "cost", "impressions", "clicks", "currency"],
        ["31.02.2026", "brand_search", "1", "1", "1", "RUB"],
        ["2026-11-03", "brand_search", "1", "1.5", "1", "RUB"],
        ["2026-11-04", "brand_search", "1", "1", "1", "рублей"],
        ["2026-11-05", "", "1", "1", "1", "RUB"],
        ["2026-11-06", "brand_search", "1", "1", "1", "RUB"],
        ["2026-11-06", "brand_search", "1", "1", "1", "USD"],
    ])
    run = run_import(engine, path, "generic")
    assert [(e["row"], e["field"]) for e in run.errors] == [
        (2, "day"), (3, "impressions"), (4, "currency"), (5, "campaign"), (6, None),
        (7, "currency")]
    assert spend(engine) == []


def test_wrong_platform_names_the_missing_header(engine, campaigns):
    with pytest.raises(MappingProblem, match="no header row with the columns day, campaign, cost"):
        run_import(engine, SAMPLES / "yandex_direct.csv", "google")


def test_broken_files_are_refused(engine, campaigns, tmp_path):
    binary = tmp_path / "x.csv"
    binary.write_bytes(b"\x00\x01\x02")
    with pytest.raises(UnreadableFile):
        run_import(engine, binary, "generic")
    not_xlsx = tmp_path / "x.xlsx"
    shutil.copy(SAMPLES / "vk_ads.csv", not_xlsx)
    with pytest.raises(UnreadableFile):
        run_import(engine, not_xlsx, "vk")
    assert spend(engine) == []


def test_one_audit_event_per_import(engine, campaigns, people):
    run = run_import(engine, SAMPLES / "vk_ads.csv", "vk", who="K", people=people)
    with unit_of_work(engine, write=False) as session:
        events = session.scalars(select(AuditEvent)).all()
    assert [(e.action, e.entity, e.row_count, e.actor_id) for e in events] == [
        ("import", "ad_spend", 3, people.users["K"])]
    assert events[0].detail == {"run_id": run.id, "format": "vk", "mode": "per-row",
                                "status": "done", "created": 2, "updated": 0, "unchanged": 0,
                                "failed": 0}
