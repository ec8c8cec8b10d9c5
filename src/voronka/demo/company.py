"""Reference rows: workspace, teams, users, pipeline, channels, campaigns, catalogue, ad spend."""

from __future__ import annotations

import numpy as np

from voronka.demo.rows import VERSION, TableRows, nullable, rows
from voronka.demo.timeline import days
from voronka.demo.world import World

EMAIL_DOMAIN = "demo.voronka.local"


def reference_rows(world: World) -> list[TableRows]:
    """Return the company's fixed rows, parents before children."""
    since = world.window.start - days(30)
    stamped = {"created_at": since, "updated_at": since, "version": VERSION}
    return [
        TableRows(
            "workspace",
            {
                "id": 1,
                "name": "Voronka demo company",
                "timezone": "Europe/Moscow",
                "currency": "RUB",
                "created_at": since,
            },
            1,
        ),
        rows(
            "team",
            np.array([1, 2]),
            name=np.asarray(world.params.team_names),
            created_at=since,
            updated_at=since,
        ),
        _users(world, stamped),
        rows(
            "pipeline",
            np.array([1]),
            name="Sales",
            position=0,
            is_default=True,
            strict_order=False,
            is_archived=False,
            **stamped,
        ),
        _stages(world, stamped),
        _channels(world, stamped),
        _campaigns(world, stamped),
        _tracking_numbers(world, stamped),
        rows(
            "product_group",
            np.arange(1, len(world.params.catalogue) + 1),
            name=np.asarray([g.name for g in world.params.catalogue]),
            parent_id=None,
            **stamped,
        ),
        _products(world, stamped),
    ]


def _users(world: World, stamped: dict[str, object]) -> TableRows:
    managers = world.params.managers
    heads = [f"Руководитель отдела {n}" for n in (1, 2)]
    people: list[tuple[str, str, str, int | None]] = [("admin", "Администратор", "admin", None)]
    people += [(f"head{n + 1}", heads[n], "head_of_sales", n + 1) for n in range(2)]
    people += [
        (f"manager{n + 1}", m.name, "sales_manager", m.team + 1) for n, m in enumerate(managers)
    ]
    people += [
        ("marketer", "Маркетолог", "marketer", None),
        ("analyst", "Аналитик", "analyst", None),
    ]
    return rows(
        "user_account",
        np.arange(1, len(people) + 1),
        email=np.asarray([f"{login}@{EMAIL_DOMAIN}" for login, *_ in people]),
        name=np.asarray([name for _, name, *_ in people]),
        password_hash=None,
        role=np.asarray([role for *_, role, _ in people]),
        team_id=np.asarray([team for *_, team in people], dtype=object),
        is_active=True,
        language="ru",
        last_login_at=None,
        **stamped,
    )


def _stages(world: World, stamped: dict[str, object]) -> TableRows:
    stages = world.params.stages
    return rows(
        "stage",
        world.stage_ids,
        pipeline_id=1,
        name=np.asarray([s.name for s in stages]),
        position=np.arange(len(stages)),
        kind=np.asarray([s.kind for s in stages]),
        probability=np.asarray([s.probability for s in stages]),
        is_archived=False,
        **stamped,
    )


def _channels(world: World, stamped: dict[str, object]) -> TableRows:
    channels = world.params.channels
    return rows(
        "channel",
        np.arange(1, len(channels) + 1),
        slug=np.asarray([c.slug for c in channels]),
        name=np.asarray([c.name for c in channels]),
        kind=np.asarray([c.kind for c in channels]),
        is_paid=np.asarray([c.is_paid for c in channels]),
        **stamped,
    )


def _campaigns(world: World, stamped: dict[str, object]) -> TableRows:
    campaigns, channels = world.campaigns, world.params.channels
    fair = ~np.isnat(campaigns.event_day)
    length = np.timedelta64(world.params.exhibition_length_days - 1, "D")
    return rows(
        "campaign",
        np.arange(1, len(campaigns) + 1),
        channel_id=campaigns.channel + 1,
        name=np.asarray(campaigns.name),
        utm_source=np.asarray([channels[c].utm_source for c in campaigns.channel], dtype=object),
        utm_medium=np.asarray([channels[c].utm_medium for c in campaigns.channel], dtype=object),
        utm_campaign=np.asarray(campaigns.slug),
        utm_content=None,
        utm_term=None,
        starts_on=np.where(fair, campaigns.event_day, world.window.first_day),
        ends_on=np.where(fair, campaigns.event_day + length, np.datetime64("NaT", "D")),
        is_active=~fair,
        **stamped,
    )


def _tracking_numbers(world: World, stamped: dict[str, object]) -> TableRows:
    """One number per campaign, then one per channel (for its untracked callers)."""
    campaigns, channels = world.campaigns, len(world.params.channels)
    channel = np.concatenate([campaigns.channel, np.arange(channels)])
    campaign = np.concatenate([np.arange(len(campaigns)), np.full(channels, -1)])
    is_campaign = campaign >= 0
    return rows(
        "tracking_number",
        np.arange(1, len(channel) + 1),
        number=world.tracking_number(channel, campaign),
        kind="static",
        channel_id=channel + 1,
        campaign_id=nullable(campaign + 1, is_campaign),
        description=np.where(is_campaign, "Campaign number", "Channel number"),
        is_active=True,
        **stamped,
    )


def _products(world: World, stamped: dict[str, object]) -> TableRows:
    products = world.products
    return rows(
        "product",
        np.arange(1, len(products) + 1),
        sku=np.asarray(products.sku),
        name=np.asarray(products.name),
        group_id=products.group + 1,
        price_minor=products.price * 100,
        cost_price_minor=products.cost * 100,
        currency="RUB",
        unit="pcs",
        is_active=True,
        **stamped,
    )


def ad_spend_rows(world: World, rng: np.random.Generator) -> TableRows:
    """Daily cost, clicks and impressions of paid campaigns; CPL sits at the planted value."""
    campaign, day, cost = _daily_costs(world, rng)
    channels = world.params.channels
    channel = world.campaigns.channel[campaign]
    cpc = np.asarray([c.cost_per_click for c in channels])[channel]
    ctr = np.asarray([c.click_through_rate for c in channels])[channel]
    clicks = np.where(cpc > 0, np.round(cost / np.where(cpc > 0, cpc, 1)), 0).astype(int)
    impressions = np.where(ctr > 0, np.round(clicks / np.where(ctr > 0, ctr, 1)), 0).astype(int)
    source = np.asarray([f"{c.slug}_api" if c.cost_per_click else "manual" for c in channels])
    return rows(
        "ad_spend",
        np.arange(1, len(campaign) + 1),
        campaign_id=campaign + 1,
        day=day,
        cost_minor=np.round(cost * 100).astype(np.int64),
        currency="RUB",
        impressions=impressions,
        clicks=clicks,
        source=source[channel],
    )


def _daily_costs(world: World, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Return (campaign index, local day, cost in roubles) of every paid campaign-day."""
    campaigns, window = world.campaigns, world.window
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for index in range(len(campaigns)):
        spec = world.params.channels[campaigns.channel[index]]
        if not spec.is_paid:
            continue
        expected_leads = world.clients * spec.lead_share * campaigns.share[index]
        if np.isnat(campaigns.event_day[index]):
            day_index = np.arange(window.days)
            leads = expected_leads * world.lead_day_p
        else:  # a fair is paid for once, on its opening day
            day_index = np.array([(campaigns.event_day[index] - window.first_day).astype(int)])
            leads = np.array([expected_leads])
        noise = np.exp(rng.normal(0.0, 0.15, len(day_index)) - 0.15**2 / 2)
        cost = np.round(spec.cost_per_lead * leads * noise, 2)
        parts.append((np.full(len(day_index), index), window.local_day(day_index), cost))
    return tuple(np.concatenate(column) for column in zip(*parts, strict=True))
