"""The attribution report over HTTP: through the catalogue, spend needs company-wide scope,
query mistakes name the field."""

from __future__ import annotations

import json

MARCH = {"start": "2026-03-01", "end": "2026-03-31"}


def _get(api, **query):  # type: ignore[no-untyped-def]
    return api.get("/api/v1/analytics/attribution",
                   params={"q": json.dumps({"period": MARCH, **query})})


def test_marketer_gets_every_model_on_an_empty_march(people):
    response = _get(people.http("K"), models=["first_touch", "markov"], level="campaign",
                    basis="paid_orders", order=2)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["report"], body["rows"]) == ("attribution", [])
    assert body["row_counts"] == {"conversions": 0, "touched_conversions": 0,
                                  "untouched_conversions": 0, "non_converting_journeys": 0}
    assert body["formula"]["markov"].startswith("Markov chain (removal effect) / Цепь Маркова")


def test_spend_figures_need_company_wide_scope(people):
    manager = people.http("M1")
    assert _get(manager).status_code == 403  # ad_spend and romi by default
    assert _get(manager, metrics=[]).status_code == 200


def test_query_mistakes_name_the_field(people):
    response = _get(people.http("K"), models=["magic"])
    assert response.status_code == 422
    assert "models.0" in {d["field"] for d in response.json()["error"]["details"]}
    shares = _get(people.http("K"), first_share=0.7, last_share=0.7)
    assert shares.status_code == 422
    assert "first_share + last_share must be at most 1" in shares.text
