"""Clients: who they are, when and through which channel their lead arrived, who owns them.

A chunk's top-level clients (persons and companies) take consecutive ids; the contact persons
of its companies follow them. Every top-level client arrives with a lead (a deal) at
``lead_at`` (returning clients bring more later, see ``leads``); contact persons only exist as
people to talk to.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from voronka.demo import names
from voronka.demo.rows import VERSION, TableRows, nullable, nullable_text, pick, rows
from voronka.demo.timeline import at_local_time
from voronka.demo.world import World

#: Days after a fair's opening by which most of its leads are in (exponential mean), and
#: the latest day a fair still brings leads.
FAIR_LEAD_LAG_DAYS = 3.0
FAIR_LEAD_LAST_DAY = 20


@dataclass(frozen=True)
class ClientBatch:
    """Facts about a chunk's top-level clients that the later steps build on."""

    ids: np.ndarray
    is_company: np.ndarray
    lead_at: np.ndarray
    channel: np.ndarray
    campaign: np.ndarray  # global campaign index, -1 when the channel has none
    manager: np.ndarray  # manager index
    lead_by_call: np.ndarray
    phone: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)


def draw_clients(world: World, rng: np.random.Generator, first_id: int, count: int) -> ClientBatch:
    """Draw ``count`` top-level clients and the lead each arrives with."""
    channels = world.params.channels
    channel = rng.choice(len(channels), size=count, p=[c.lead_share for c in channels])
    campaign = draw_campaigns(world, rng, channel)
    call_share = np.asarray([c.lead_by_call_share for c in channels])[channel]
    ids = first_id + np.arange(count)
    return ClientBatch(
        ids=ids,
        is_company=rng.random(count) < world.params.company_share,
        lead_at=draw_lead_times(world, rng, campaign),
        channel=channel,
        campaign=campaign,
        manager=rng.integers(0, len(world.params.managers), size=count),
        lead_by_call=rng.random(count) < call_share,
        phone=phone_numbers(world, ids),
    )


def draw_campaigns(world: World, rng: np.random.Generator, channel: np.ndarray) -> np.ndarray:
    """Return a campaign of each channel drawn by campaign share (-1 for channels without)."""
    campaign = np.full(len(channel), -1)
    for index in range(len(world.params.channels)):
        mine = np.flatnonzero(channel == index)
        options = world.campaigns.of_channel(index)
        if len(options) and len(mine):
            shares = world.campaigns.share[options]
            campaign[mine] = rng.choice(options, size=len(mine), p=shares / shares.sum())
    return campaign


def draw_lead_times(world: World, rng: np.random.Generator, campaign: np.ndarray) -> np.ndarray:
    """Online leads follow the seasonal day weights; fair leads come in the days after a fair."""
    window = world.window
    day = rng.choice(window.days, size=len(campaign), p=world.lead_day_p)
    fair_day = world.campaigns.event_day[np.maximum(campaign, 0)]
    at_fair = (campaign >= 0) & ~np.isnat(fair_day)
    lag = np.minimum(rng.exponential(FAIR_LEAD_LAG_DAYS, len(campaign)), FAIR_LEAD_LAST_DAY)
    fair_index = (fair_day - window.first_day).astype("int64") + lag.astype("int64")
    day = np.where(at_fair, np.minimum(fair_index, window.days - 1), day)
    return at_local_time(window, rng, window.local_day(day), world.hour_p)


def phone_numbers(world: World, client_ids: np.ndarray) -> np.ndarray:
    """Return one distinct Russian mobile number (+79XXXXXXXXX) per client id.

    ``(id * a + b) mod 10**9`` with ``a`` coprime to 10 is a bijection, so numbers look
    random (``a`` and ``b`` come from the seed) and never collide.
    """
    rng = np.random.default_rng([world.seed, 7])
    a = int(rng.integers(10**7, 10**8)) * 10 + 3
    b = int(rng.integers(0, 10**9))
    local = (client_ids.astype(np.int64) * a + b) % 10**9
    return np.strings.add("+", (79_000_000_000 + local).astype(str))


@dataclass(frozen=True)
class People:
    """Every client row of a chunk: the top-level clients, then their contact persons."""

    ids: np.ndarray
    top: np.ndarray  # index of the top-level client in the batch each row belongs to
    company_of: np.ndarray  # for a contact person, the batch index of their company; else -1
    is_company: np.ndarray
    phone: np.ndarray
    email: np.ndarray  # object array, None for no e-mail
    messenger: np.ndarray  # object array, None for no messenger id

    @property
    def is_contact_person(self) -> np.ndarray:
        return self.company_of >= 0


def draw_people(
    world: World, rng: np.random.Generator, batch: ClientBatch, first_person_id: int
) -> People:
    """Add the companies' contact persons (ids from ``first_person_id``) and contact values."""
    n = len(batch)
    persons = _contact_persons(world, rng, batch)
    ids = np.concatenate([batch.ids, first_person_id + np.arange(len(persons))])
    is_company = np.concatenate([batch.is_company, np.zeros(len(persons), dtype=bool)])
    company_of = np.concatenate([np.full(n, -1), persons])
    email_share = np.where(
        is_company, 1.0, np.where(company_of >= 0, 0.9, world.params.email_share)
    )
    has_email = rng.random(len(ids)) < email_share
    domain = pick(names.EMAIL_DOMAINS, rng.integers(0, len(names.EMAIL_DOMAINS), len(ids)))
    local = np.strings.add(np.where(is_company, "office", "user"), ids.astype(str))
    email = np.strings.add(np.strings.add(local, "@"), domain)
    has_messenger = (company_of < 0) & ~is_company
    has_messenger &= rng.random(len(ids)) < world.params.messenger_share
    messenger = np.strings.add("telegram:user", ids.astype(str))
    return People(
        ids=ids,
        top=np.concatenate([np.arange(n), persons]),
        company_of=company_of,
        is_company=is_company,
        phone=phone_numbers(world, ids),
        email=nullable_text(email, has_email),
        messenger=nullable_text(messenger, has_messenger),
    )


def client_rows(
    world: World, rng: np.random.Generator, batch: ClientBatch, people: People
) -> TableRows:
    """Rows of the top-level clients followed by their companies' contact persons."""
    top, count = people.top, len(people.ids)
    name = np.where(people.is_company, _company_names(rng, count), _person_names(rng, count))
    owner = world.manager_ids[batch.manager][top]
    job = pick(names.JOB_TITLES, rng.integers(0, len(names.JOB_TITLES), count))
    city = pick(names.CITIES, rng.choice(len(names.CITIES), count, p=names.CITY_WEIGHTS))
    campaign = batch.campaign[top]
    return rows(
        "client",
        people.ids,
        kind=np.where(people.is_company, "company", "person"),
        name=name,
        company_id=nullable(batch.ids[np.maximum(people.company_of, 0)], people.is_contact_person),
        job_title=nullable_text(job, people.is_contact_person),
        owner_id=owner,
        source_channel_id=batch.channel[top] + 1,
        source_campaign_id=nullable(campaign + 1, campaign >= 0),
        custom_fields=np.strings.add(np.strings.add('{"city": "', city), '"}'),
        search_text=_search_text(name, people),
        created_by_id=owner,
        merged_into_id=None,
        is_deleted=False,
        deleted_at=None,
        created_at=batch.lead_at[top],
        updated_at=batch.lead_at[top],
        version=VERSION,
    )


def _search_text(name: np.ndarray, people: People) -> np.ndarray:
    """Case-folded name and contact values, as the client service keeps them."""
    email = np.where(people.email == None, "", people.email).astype(str)  # noqa: E711
    text = np.strings.add(np.strings.add(np.strings.lower(name), " "), people.phone)
    return np.strings.strip(np.strings.add(np.strings.add(text, " "), email))


def _contact_persons(world: World, rng: np.random.Generator, batch: ClientBatch) -> np.ndarray:
    """Return, per contact person, the index of their company in the batch."""
    extra = rng.poisson(world.params.contact_persons_mean - 1, len(batch))
    count = np.where(batch.is_company, 1 + np.minimum(extra, 2), 0)
    return np.repeat(np.arange(len(batch)), count)


def _person_names(rng: np.random.Generator, count: int) -> np.ndarray:
    female = rng.random(count) < 0.5
    surname = pick(names.SURNAMES, rng.integers(0, len(names.SURNAMES), count))
    surname = np.where(female, np.strings.add(surname, "а"), surname)
    first_index = rng.integers(0, len(names.MALE_FIRST_NAMES), count)
    first = np.where(
        female,
        pick(names.FEMALE_FIRST_NAMES, first_index),
        pick(names.MALE_FIRST_NAMES, first_index),
    )
    return np.strings.add(np.strings.add(surname, " "), first)


def _company_names(rng: np.random.Generator, count: int) -> np.ndarray:
    form = pick(names.COMPANY_FORMS, rng.integers(0, len(names.COMPANY_FORMS), count))
    word = pick(names.COMPANY_WORDS, rng.integers(0, len(names.COMPANY_WORDS), count))
    number = rng.integers(10, 100, count).astype(str)
    quoted = np.strings.add(np.strings.add(np.strings.add(" «", word), "-"), number)
    return np.strings.add(np.strings.add(form, quoted), "»")
