"""The kanban board: exact sums per currency, counts and cards within the caller's scope."""

from __future__ import annotations

from tests.pipeline.sample import create_deal


def _columns(board):
    return {c["name"]: c for c in board["columns"]}


def _board(people, who, sales, **params):
    response = people.http(who).get(f"/api/v1/pipelines/{sales.id}/board", params=params)
    assert response.status_code == 200, response.text
    return _columns(response.json())


def test_sums_are_exact_per_currency(people, sales):
    create_deal(people, "M1", "C1", amount="0.10")
    create_deal(people, "M1", "C1", amount=0.2)
    create_deal(people, "M1", "C1", amount="5", currency="USD")
    create_deal(people, "M1", "C1", amount="1000000000.01", stage_id=sales.stages["Qualified"])
    columns = _board(people, "M1", sales)
    assert list(columns) == ["New", "Qualified", "Proposal", "Won", "Lost"]
    assert columns["New"]["count"] == 3
    assert columns["New"]["amounts"] == [
        {"currency": "RUB", "amount": "0.30"},
        {"currency": "USD", "amount": "5.00"},
    ]
    assert columns["Qualified"]["amounts"] == [{"currency": "RUB", "amount": "1000000000.01"}]
    assert (columns["Proposal"]["count"], columns["Proposal"]["amounts"]) == (0, [])
    assert [c["probability"] for c in columns.values()] == [10, 30, 60, 100, 0]


def test_cards_are_the_newest_per_stage(people, sales, frozen):
    create_deal(people, "M1", "C1", title="first")
    frozen.advance(minutes=1)
    create_deal(people, "M1", "C1", title="second")
    frozen.advance(minutes=1)
    third = create_deal(people, "M1", "C1", title="third")
    columns = _board(people, "M1", sales, per_stage=2)
    assert [d["title"] for d in columns["New"]["deals"]] == ["third", "second"]
    assert columns["New"]["count"] == 3
    card = columns["New"]["deals"][0]
    assert card == {
        "id": third["id"],
        "title": "third",
        "client_id": people.clients["C1"],
        "owner_id": people.users["M1"],
        "status": "open",
        "amount": "0.00",
        "currency": "RUB",
        "stage_entered_at": "2026-03-02T09:02:00Z",
    }
    empty = _board(people, "M1", sales, per_stage=0)
    assert (empty["New"]["deals"], empty["New"]["count"]) == ([], 3)


def test_board_respects_the_deal_scope(people, sales):
    create_deal(people, "M1", "C1", amount="1.00")
    create_deal(people, "M2", "C2", amount="2.00")
    create_deal(people, "M3", "C3", amount="4.00")

    def new_column(who, **params):
        column = _board(people, who, sales, **params)["New"]
        return column["count"], column["amounts"], sorted(d["client_id"] for d in column["deals"])

    c1, c2, c3 = (people.clients[c] for c in ("C1", "C2", "C3"))
    assert new_column("M1") == (1, [{"currency": "RUB", "amount": "1.00"}], [c1])
    assert new_column("H") == (2, [{"currency": "RUB", "amount": "3.00"}], [c1, c2])
    assert new_column("H2") == (1, [{"currency": "RUB", "amount": "4.00"}], [c3])
    assert new_column("X") == (3, [{"currency": "RUB", "amount": "7.00"}], [c1, c2, c3])
    assert new_column("H", owner_id=people.users["M2"]) == (
        1,
        [{"currency": "RUB", "amount": "2.00"}],
        [c2],
    )


def test_board_refuses_roles_without_deals_and_foreign_owner_filters(people, sales):
    for who in ("K", "A"):
        response = people.http(who).get(f"/api/v1/pipelines/{sales.id}/board")
        assert response.status_code == 403, who
    for who, owner in (("M1", "M2"), ("H", "M3")):
        response = people.http(who).get(
            f"/api/v1/pipelines/{sales.id}/board", params={"owner_id": people.users[owner]}
        )
        assert response.status_code == 403, (who, owner)
        assert response.json()["error"]["details"][0]["field"] == "owner_id"
