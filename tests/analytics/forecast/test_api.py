"""Forecast reports over HTTP: the caller's record scope and query errors naming fields."""

from __future__ import annotations

import json

from tests.analytics.test_analytics_api import MARCH, _deals


def test_weighted_pipeline_follows_the_callers_scope(people, engine):
    """Six open deals of amount 1 in stage "new": C1 (M1) 2, C2 (M2) 1, C3 (other team) 3."""
    _deals(people, engine)
    expected = {"X": 6, "H": 3, "M1": 2}
    found = {}
    for who in expected:
        response = people.http(who).get("/api/v1/analytics/pipeline_forecast",
                                        params={"q": json.dumps({"period": MARCH})})
        assert response.status_code == 200, response.text
        total = response.json()["rows"][-1]
        found[who] = (total["open_deals"], total["open_amount"])
    assert found == {who: (n, float(n)) for who, n in expected.items()}


def test_unknown_model_names_the_field(people):
    query = {"period": MARCH, "models": ["prophet"]}
    response = people.http("A").get("/api/v1/analytics/forecast", params={"q": json.dumps(query)})
    assert response.status_code == 422, response.text
    assert any(d["field"].startswith("models") for d in response.json()["error"]["details"])
