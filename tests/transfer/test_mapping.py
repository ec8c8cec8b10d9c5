"""Column mapping: Russian and English headers, explicit pairs, and what is reported."""

from __future__ import annotations

import pytest

from voronka.transfer.errors import MappingProblem
from voronka.transfer.mapping import FIELDS, Entity, parse_pairs, resolve


def test_russian_headers_map_to_client_fields():
    columns = ["ФИО", "Телефон", "E-mail", "Компания", "Теги", "Ответственный", "Источник"]
    mapping = resolve(Entity.CLIENTS, columns, {})
    assert mapping.fields == {
        "ФИО": "name",
        "Телефон": "phone",
        "E-mail": "email",
        "Компания": "company",
        "Теги": "tags",
        "Ответственный": "owner",
        "Источник": "source",
    }
    assert mapping.unknown_columns == []


@pytest.mark.parametrize("header", ["Имя", "name", " Name ", "Full_Name", "ФИО"])
def test_name_spellings(header):
    assert resolve(Entity.CLIENTS, [header], {}).fields == {header: "name"}


@pytest.mark.parametrize("header", ["Email", "E-mail", "e.mail", "Почта", "Электронная почта"])
def test_email_spellings(header):
    mapping = resolve(Entity.CLIENTS, ["Имя", header], {})
    assert mapping.fields[header] == "email"


def test_unknown_columns_are_reported_and_export_only_ones_ignored():
    mapping = resolve(Entity.CLIENTS, ["id", "Имя", "Любимый цвет", "created_at"], {})
    assert mapping.fields == {"Имя": "name"}
    assert mapping.unknown_columns == ["Любимый цвет"]
    assert mapping.ignored_columns == ["id", "created_at"]


def test_explicit_pairs_win_over_header_matching():
    columns = ["Клиент", "Имя", "Мобила"]
    mapping = resolve(Entity.CLIENTS, columns, parse_pairs(["Клиент=name", "Мобила=phone"]))
    assert mapping.fields == {"Клиент": "name", "Мобила": "phone"}
    assert mapping.unknown_columns == ["Имя"]


@pytest.mark.parametrize(
    ("columns", "pairs", "message"),
    [
        (["Имя"], ["Нет такой=name"], "the file has no column 'Нет такой'"),
        (["Имя", "X"], ["X=colour"], "clients have no field 'colour'"),
        (["Имя", "X"], ["X=id"], "clients have no field 'id'"),
        (["Телефон"], [], "required field 'name'"),
        (["Name", "Имя"], [], "all map to field 'name'"),
    ],
)
def test_mapping_problems_are_one_sentence(columns, pairs, message):
    with pytest.raises(MappingProblem) as caught:
        resolve(Entity.CLIENTS, columns, parse_pairs(pairs))
    assert message in caught.value.message


def test_deals_need_a_client_column():
    with pytest.raises(MappingProblem, match="client_id, phone or email"):
        resolve(Entity.DEALS, ["Название", "Сумма"], {})
    mapping = resolve(Entity.DEALS, ["Название", "Телефон", "Воронка", "Этап", "Сумма"], {})
    assert list(mapping.fields.values()) == ["title", "phone", "pipeline", "stage", "amount"]


def test_a_pair_must_have_both_sides():
    with pytest.raises(MappingProblem, match="Column=field"):
        parse_pairs(["Имя"])
    assert parse_pairs(["a=b=name"]) == {"a=b": "name"}


@pytest.mark.parametrize("entity", list(Entity))
def test_no_spelling_belongs_to_two_fields(entity):
    seen: dict[str, str] = {}
    for spec in FIELDS[entity]:
        for alias in spec.aliases:
            assert seen.setdefault(alias, spec.name) == spec.name, alias
