"""Contact points, tags and consent records of a chunk's clients."""

from __future__ import annotations

import numpy as np

from voronka.demo import names
from voronka.demo.clients import ClientBatch, People
from voronka.demo.rows import TableRows, nullable, nullable_text, rows
from voronka.demo.timeline import seconds
from voronka.demo.world import World


def contact_point_rows(people: People, first_id: int) -> TableRows:
    """Phones for everyone, e-mails and messenger ids where drawn, ordered by client."""
    has_email = people.email != None  # noqa: E711
    has_messenger = people.messenger != None  # noqa: E711
    client = np.concatenate([people.ids, people.ids[has_email], people.ids[has_messenger]])
    kind = np.repeat(
        ["phone", "email", "messenger"],
        [len(people.ids), int(has_email.sum()), int(has_messenger.sum())],
    )
    value = np.concatenate(
        [people.phone.astype(object), people.email[has_email], people.messenger[has_messenger]]
    )
    label = np.where(kind == "phone", "mobile", np.where(kind == "email", "work", "telegram"))
    order = np.argsort(client, kind="stable")
    return rows(
        "contact_point",
        first_id + np.arange(len(client)),
        client_id=client[order],
        kind=kind[order],
        value=value[order],
        label=label[order],
        is_primary=True,
    )


def tag_rows(
    world: World, rng: np.random.Generator, batch: ClientBatch, first_id: int
) -> TableRows:
    """Up to two distinct free tags per client, plus ``b2b`` on every company."""
    count = rng.choice(3, size=len(batch), p=[0.5, 0.35, 0.15])
    tags = len(names.CLIENT_TAGS)
    first = rng.integers(0, tags, len(batch))
    second = (first + 1 + rng.integers(0, tags - 1, len(batch))) % tags
    pool = np.asarray([*names.CLIENT_TAGS, names.COMPANY_TAG])
    parts = [
        (batch.ids[count >= 1], first[count >= 1]),
        (batch.ids[count >= 2], second[count >= 2]),
        (batch.ids[batch.is_company], np.full(int(batch.is_company.sum()), tags)),
    ]
    client = np.concatenate([p[0] for p in parts])
    tag = np.concatenate([p[1] for p in parts])
    order = np.argsort(client, kind="stable")
    return rows(
        "client_tag",
        first_id + np.arange(len(client)),
        client_id=client[order],
        tag=pool[tag[order]],
    )


def consent_rows(
    world: World,
    rng: np.random.Generator,
    batch: ClientBatch,
    people: People,
    lead_touch: np.ndarray,
    first_id: int,
) -> TableRows:
    """Data-processing consent for every person; marketing e-mail consent, some withdrawn."""
    person = ~people.is_company
    granted_at = batch.lead_at[people.top]
    method = _consent_method(lead_touch[people.top])
    wants_mail = (people.email != None) & person  # noqa: E711
    wants_mail &= rng.random(len(person)) < world.params.marketing_consent_share
    withdraws = wants_mail & (rng.random(len(person)) < world.params.consent_withdrawal_share)
    span = (world.window.end - granted_at).astype("int64") / 1e6
    withdrawn_at = granted_at + seconds(rng.random(len(person)) * span)
    parts = [
        (person, "data_processing", True, granted_at, method),
        (wants_mail, "marketing_email", True, granted_at + seconds(1.0), method),
        (withdraws, "marketing_email", False, withdrawn_at, np.full(len(person), "email")),
    ]
    return _consent_table(world, batch, people, parts, first_id)


def _consent_table(
    world: World, batch: ClientBatch, people: People, parts: list[tuple], first_id: int
) -> TableRows:
    client = np.concatenate([people.ids[mask] for mask, *_ in parts])
    top = np.concatenate([people.top[mask] for mask, *_ in parts])
    purpose = np.concatenate([np.full(int(mask.sum()), p) for mask, p, *_ in parts])
    granted = np.concatenate([np.full(int(mask.sum()), g) for mask, _, g, *_ in parts])
    occurred = np.concatenate([at[mask] for mask, _, _, at, _ in parts])
    method = np.concatenate([m[mask] for mask, *_, m in parts])
    halfway = world.window.start + (world.window.end - world.window.start) // 2
    by_manager = np.isin(method, ["call", "paper"])
    order = np.lexsort((occurred, client))
    return rows(
        "consent_record",
        first_id + np.arange(len(client)),
        client_id=client[order],
        purpose=purpose[order],
        granted=granted[order],
        method=method[order],
        text_version=np.where(occurred < halfway, "v1", "v2")[order],
        evidence=nullable_text(np.full(len(client), "form /contacts"), method == "web_form")[order],
        occurred_at=occurred[order],
        recorded_by_id=nullable(world.manager_ids[batch.manager[top]], by_manager)[order],
    )


def _consent_method(lead_touch: np.ndarray) -> np.ndarray:
    """How a lead gave consent: a form on the site, on the phone, or on paper at a fair."""
    return np.where(
        lead_touch == "call", "call", np.where(lead_touch == "offline", "paper", "web_form")
    )
