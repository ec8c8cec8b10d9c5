"""Fixtures for the marketing tests: channels and campaigns created over HTTP by the marketer."""

from __future__ import annotations

from dataclasses import dataclass

import pytest


@dataclass
class Setup:
    """Ids of the seeded channels and campaigns by a short name."""

    channels: dict[str, int]
    campaigns: dict[str, int]


CHANNELS = {
    "direct": {
        "slug": "yandex-direct",
        "name": "Yandex Direct",
        "kind": "paid_search",
        "is_paid": True,
    },
    "vk": {"slug": "vk-ads", "name": "VK Ads", "kind": "paid_social", "is_paid": True},
}
CAMPAIGNS = {  # name: (channel, UTM values)
    "brand": ("direct", {"utm_source": "yandex", "utm_medium": "cpc"}),
    "spring": ("direct", {"utm_source": "yandex", "utm_medium": "cpc", "utm_campaign": "spring"}),
    "stories": ("vk", {"utm_source": "vk", "utm_medium": "social", "utm_campaign": "stories"}),
}


@pytest.fixture
def setup(people) -> Setup:
    marketer = people.http("K")
    channels, campaigns = {}, {}
    for key, body in CHANNELS.items():
        response = marketer.post("/api/v1/channels", json=body)
        assert response.status_code == 201, response.text
        channels[key] = response.json()["id"]
    for name, (channel, utm) in CAMPAIGNS.items():
        response = marketer.post(
            "/api/v1/campaigns", json={"channel_id": channels[channel], "name": name, **utm}
        )
        assert response.status_code == 201, response.text
        campaigns[name] = response.json()["id"]
    return Setup(channels, campaigns)
