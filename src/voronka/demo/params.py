"""The planted truths of the demo company, in one frozen value.

Every number an analysis is expected to recover lives here, so that tests and docs can compare
what an analysis finds with what was built. Money is in roubles (whole units; the generator
stores kopecks), durations in days unless a name says otherwise, and clock hours are the
company's local time (Moscow, UTC+3, no daylight saving).

The story: a retailer of home appliances and electronics that sells through a sales team.
A lead arrives through a channel and campaign, is assigned uniformly at random to one of the
sales managers, and is won with probability ``channel.win_rate x campaign.win_multiplier x
manager.win_multiplier``. The multipliers average to 1 (campaigns by their share within the
channel, managers over the team), so the win rate of a channel over all its deals is its
``win_rate``. A won deal becomes the client's first order; later orders follow BG/NBD
(how many, when) and Gamma-Gamma (how much).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class CampaignSpec:
    """A campaign of a channel, recognised by its UTM values."""

    #: ``utm_campaign`` value and the campaign's short name.
    slug: str
    name: str
    #: Share of the channel's leads that come through this campaign.
    share: float
    #: Multiplies the channel's win rate; shares x multipliers average to 1 per channel.
    win_multiplier: float = 1.0


@dataclass(frozen=True)
class ChannelSpec:
    """Where leads come from, with the truths planted per channel."""

    slug: str
    name: str
    #: ``ChannelKind`` value (paid_search, paid_social, organic, direct, referral, email, offline).
    kind: str
    #: Share of all leads that arrive through this channel.
    lead_share: float
    #: Probability that a lead of this channel is eventually won (average campaign and manager).
    win_rate: float
    #: Ad spend per lead in roubles; daily spend is this x the expected leads of the day, so
    #: CPL stays at this value whatever the number of clients. 0 for free channels.
    cost_per_lead: float = 0.0
    #: Roubles per click: ``ad_spend.clicks`` is the day's cost divided by it.
    cost_per_click: float = 0.0
    #: Clicks per impression: ``ad_spend.impressions`` is clicks divided by it.
    click_through_rate: float = 0.0
    #: Share of this channel's leads that arrive as an inbound phone call (the rest by form).
    lead_by_call_share: float = 0.3
    #: ``utm_source`` and ``utm_medium`` of the channel's campaigns and tracked touches.
    utm_source: str | None = None
    utm_medium: str | None = None
    #: Referrer of the channel's site visits (None: typed in or app).
    referrer: str | None = None
    campaigns: tuple[CampaignSpec, ...] = ()

    @property
    def is_paid(self) -> bool:
        return self.cost_per_lead > 0


@dataclass(frozen=True)
class ManagerSpec:
    """A sales manager and the behaviour built into them."""

    name: str
    #: 0 or 1: which of the two sales teams the manager belongs to.
    team: int
    #: Multiplies the win probability of every deal the manager owns (the team averages 1).
    win_multiplier: float
    #: Median minutes from lead creation to the manager's first outbound call (log-normal,
    #: sigma 0.9, capped at ``DemoParams.response_cap_hours``); deals leave "New lead" after it.
    response_minutes: float
    #: Share of the manager's tasks completed after their due time (or still open past it).
    task_overdue_share: float


@dataclass(frozen=True)
class StageSpec:
    """A stage of the sales pipeline."""

    name: str
    #: ``StageKind`` value: open, won or lost.
    kind: str
    #: The company's own default probability (0-100), deliberately rounder than the truth
    #: (see ``DemoParams.calibrated_stage_probability``).
    probability: int
    #: Mean days a deal stays in this open stage (exponential, capped at ``dwell_cap``x).
    mean_days: float = 0.0
    #: Share of lost deals that are lost while in this open stage.
    lost_share: float = 0.0


@dataclass(frozen=True)
class ProductGroupSpec:
    """A group of the catalogue: products with log-spaced list prices between two bounds."""

    name: str
    sku_prefix: str
    product_names: tuple[str, ...]
    min_price: float
    max_price: float
    #: Cost price as a share of the list price (gross margin is 1 minus this).
    cost_share: float


@dataclass(frozen=True)
class ProductPairSpec:
    """A planted co-purchase: when ``anchor_sku`` is bought, ``partner_sku`` joins the order."""

    anchor_sku: str
    partner_sku: str
    #: P(partner in the order | anchor in the order).
    probability: float


@dataclass(frozen=True)
class RepeatPurchaseSpec:
    """BG/NBD (Fader, Hardie & Lee 2005) parameters of repeat orders, time unit one day.

    Each paying client buys at rate ``lambda ~ Gamma(shape=r, rate=alpha)`` per day and, after
    each repeat order, stops buying for good with probability ``p ~ Beta(a, b)``. The first
    order (from the won deal) starts the clock and is not a repeat order.
    """

    r: float = 0.75
    alpha: float = 90.0
    a: float = 0.8
    b: float = 2.8


@dataclass(frozen=True)
class SpendSpec:
    """Gamma-Gamma (Fader, Hardie & Lee 2005) parameters of repeat order values, in roubles.

    Each client has ``nu ~ Gamma(shape=q, rate=v)``; each repeat order is worth
    ``z ~ Gamma(shape=p, rate=nu)``, so the mean order value is ``p * v / (q - 1)``.
    """

    p: float = 6.0
    q: float = 4.0
    v: float = 7500.0


# The default truths are tables; they are kept aligned by hand, so the formatter stays out.
# fmt: off
def _default_channels() -> tuple[ChannelSpec, ...]:
    yandex = (CampaignSpec("brand", "Brand queries", 0.3, 1.3),
              CampaignSpec("generic", "Generic queries", 0.5, 0.82),
              CampaignSpec("retargeting", "Retargeting", 0.2, 1.0))
    # An A/B test: creative B converts 15% above the channel, creative A 15% below.
    vk = (CampaignSpec("lookalike-a", "Lookalike, creative A", 0.5, 0.85),
          CampaignSpec("lookalike-b", "Lookalike, creative B", 0.5, 1.15))
    google = (CampaignSpec("search", "Search", 0.7), CampaignSpec("shopping", "Shopping", 0.3))
    newsletter = (CampaignSpec("newsletter", "Monthly newsletter", 1.0),)
    return (
        #           slug             name              kind          share  win
        ChannelSpec("yandex_direct", "Yandex Direct", "paid_search", 0.28, 0.18,
                    cost_per_lead=1800, cost_per_click=45, click_through_rate=0.05,
                    lead_by_call_share=0.35, utm_source="yandex", utm_medium="cpc",
                    referrer="https://yandex.ru/search/", campaigns=yandex),
        ChannelSpec("vk_ads", "VK Ads", "paid_social", 0.14, 0.10,
                    cost_per_lead=1200, cost_per_click=22, click_through_rate=0.008,
                    lead_by_call_share=0.15, utm_source="vk", utm_medium="paid_social",
                    referrer="https://vk.com/", campaigns=vk),
        ChannelSpec("google_ads", "Google Ads", "paid_search", 0.08, 0.16,
                    cost_per_lead=2200, cost_per_click=60, click_through_rate=0.04,
                    lead_by_call_share=0.30, utm_source="google", utm_medium="cpc",
                    referrer="https://www.google.com/", campaigns=google),
        ChannelSpec("seo", "Organic search", "organic", 0.20, 0.22,
                    lead_by_call_share=0.30, referrer="https://yandex.ru/"),
        ChannelSpec("direct", "Direct", "direct", 0.12, 0.30, lead_by_call_share=0.45),
        ChannelSpec("referral", "Referral", "referral", 0.06, 0.38,
                    lead_by_call_share=0.25, referrer="https://partner.example.org/"),
        ChannelSpec("email", "E-mail", "email", 0.06, 0.25, lead_by_call_share=0.10,
                    utm_source="newsletter", utm_medium="email", campaigns=newsletter),
        # The exhibition channel's campaigns are the fairs inside the window.
        ChannelSpec("exhibition", "Exhibitions", "offline", 0.06, 0.28, cost_per_lead=4000,
                    lead_by_call_share=0.0, utm_source="expo", utm_medium="offline"),
    )


def _default_managers() -> tuple[ManagerSpec, ...]:
    return (
        #          name               team  win   response min  overdue tasks
        ManagerSpec("Анна Смирнова",   0,   1.00, 20,           0.12),
        ManagerSpec("Игорь Кузнецов",  0,   0.85, 35,           0.25),
        # The best manager, built best on every count: wins most, calls back first, on time.
        ManagerSpec("Мария Волкова",   0,   1.60,  6,           0.04),
        ManagerSpec("Дмитрий Соколов", 0,   0.95, 25,           0.15),
        ManagerSpec("Елена Попова",    1,   1.05, 18,           0.10),
        ManagerSpec("Павел Лебедев",   1,   0.80, 45,           0.35),
        ManagerSpec("Ольга Морозова",  1,   0.90, 30,           0.20),
        ManagerSpec("Сергей Новиков",  1,   0.85, 40,           0.30),
    )


def _default_stages() -> tuple[StageSpec, ...]:
    return (
        #         name           kind    default %  mean days       share of lost
        StageSpec("New lead",    "open",  10, mean_days=1.0, lost_share=0.40),
        StageSpec("Qualified",   "open",  25, mean_days=3.0, lost_share=0.30),
        StageSpec("Proposal",    "open",  50, mean_days=5.0, lost_share=0.18),
        StageSpec("Negotiation", "open",  75, mean_days=7.0, lost_share=0.12),
        StageSpec("Won",         "won",  100),
        StageSpec("Lost",        "lost",   0),
    )


def _default_catalogue() -> tuple[ProductGroupSpec, ...]:
    # Products of a group are listed cheapest first: list prices are log-spaced min..max.
    return (
        ProductGroupSpec("Coffee machines", "CM", (
            "Barista Mini", "Barista One", "Barista Pro", "Crema 200", "Crema 300", "Crema 500",
            "Latte Max", "Latte Max Plus"), 9_000, 95_000, 0.62),
        ProductGroupSpec("Kitchen appliances", "KA", (
            "Kettle", "Toaster", "Blender", "Hand mixer", "Multicooker", "Air fryer",
            "Food processor", "Microwave", "Induction hob", "Dishwasher"), 1_500, 55_000, 0.58),
        ProductGroupSpec("Vacuum cleaners", "VC", (
            "Stick 10", "Stick 20", "Robot R1", "Robot R2", "Robot R3", "Cyclone",
            "Cyclone Pro", "Wet and dry"), 6_000, 60_000, 0.60),
        ProductGroupSpec("Smartphones", "PH", (
            "Nova 5", "Nova 6", "Nova 7", "Orbit S", "Orbit S Plus", "Orbit Ultra", "Zen Lite",
            "Zen Max"), 11_000, 110_000, 0.70),
        ProductGroupSpec("Accessories", "ACC", (
            "Descaling kit", "Phone case", "Screen protector", "Charger 65 W",
            "Vacuum filter set", "Spare brush", "Power bank", "Extended warranty"),
            500, 6_000, 0.35),
        ProductGroupSpec("Coffee and consumables", "COF", (
            "Cleaning tablets", "Milk frother cups", "Coffee beans 250 g", "Water filter",
            "Coffee beans 1 kg", "Espresso blend 1 kg"), 400, 3_200, 0.45),
    )


def _default_pairs() -> tuple[ProductPairSpec, ...]:
    return (
        ProductPairSpec("CM-04", "COF-05", 0.60),  # Crema 200 with Coffee beans 1 kg
        ProductPairSpec("PH-05", "ACC-02", 0.55),  # Orbit S Plus with a Phone case
        ProductPairSpec("VC-04", "ACC-05", 0.50),  # Robot R2 with a Vacuum filter set
    )
# fmt: on


@dataclass(frozen=True)
class DemoParams:
    """Everything planted in the demo company; the defaults are the documented truths."""

    #: Lead channels: share, win rate, cost per lead and click, UTM values, campaigns.
    channels: tuple[ChannelSpec, ...] = field(default_factory=_default_channels)
    #: Sales managers: team, win multiplier, response time, task discipline.
    managers: tuple[ManagerSpec, ...] = field(default_factory=_default_managers)
    #: Names of the two sales teams (each has one head of sales).
    team_names: tuple[str, str] = ("North team", "South team")
    #: Pipeline stages in order: four open stages, then Won and Lost.
    stages: tuple[StageSpec, ...] = field(default_factory=_default_stages)
    #: Dwell times are capped at this multiple of the stage mean, so every deal created more
    #: than ``max_cycle_days`` before the end is closed.
    dwell_cap: float = 4.0
    #: The first call back comes within this many hours, however slow the manager.
    response_cap_hours: float = 24.0
    #: Deal amount: log-normal with this median (roubles) and sigma of its logarithm,
    #: rounded to 100 roubles; companies' deals are ``company_amount_multiplier`` x larger.
    deal_amount_median: float = 30_000.0
    deal_amount_sigma: float = 0.75
    company_amount_multiplier: float = 2.5
    #: Why lost deals were lost, with shares.
    lost_reasons: tuple[tuple[str, float], ...] = (
        ("Too expensive", 0.35), ("Chose a competitor", 0.25), ("No budget", 0.15),
        ("Stopped responding", 0.20), ("Not the right time", 0.05))  # fmt: skip
    #: Product catalogue and the co-purchases planted in it.
    catalogue: tuple[ProductGroupSpec, ...] = field(default_factory=_default_catalogue)
    product_pairs: tuple[ProductPairSpec, ...] = field(default_factory=_default_pairs)
    #: Probability that an order also holds one random extra product (the noise around pairs).
    extra_item_probability: float = 0.25
    #: Spread (sigma of the logarithm) of an order's main product price around its value.
    basket_price_jitter: float = 0.08
    repeat_purchase: RepeatPurchaseSpec = field(default_factory=RepeatPurchaseSpec)
    spend: SpendSpec = field(default_factory=SpendSpec)
    #: Only with ``leads_per_client`` above 1: the BG/NBD purchase rate of the repeat orders
    #: after each won deal of a client who brought more than one lead is this many times the
    #: planted one (returning clients are the loyal ones). 1.5 gives the analytics benchmark's
    #: shape, about 2 orders per 3 deals at 3 leads per client.
    returning_client_order_rate: float = 1.5
    #: Orders cancelled before payment, per paying client (extra to the BG/NBD orders).
    cancelled_orders_per_client: float = 0.04
    #: Lead seasonality: multipliers by month (Jan..Dec) and weekday (Mon..Sun), and the
    #: exponential growth of lead volume per year.
    month_multipliers: tuple[float, ...] = (
        0.75, 0.90, 1.05, 1.00, 0.95, 0.80, 0.75, 0.85, 1.05, 1.15, 1.25, 1.45)  # fmt: skip
    weekday_multipliers: tuple[float, ...] = (1.15, 1.10, 1.08, 1.05, 1.00, 0.42, 0.35)
    annual_growth: float = 0.25
    #: Relative intensity of leads and inbound calls per local hour 0..23 (peaks 11:00, 15:00).
    hour_weights: tuple[float, ...] = (
        0.05, 0.03, 0.02, 0.02, 0.02, 0.03, 0.08, 0.25, 0.60, 1.00, 1.40, 1.60,
        1.35, 1.20, 1.45, 1.50, 1.30, 1.00, 0.75, 0.55, 0.40, 0.28, 0.15, 0.08)  # fmt: skip
    utc_offset_hours: int = 3
    #: Inbound calls are missed with probability ``base + (peak - base) * load**2``, where
    #: load is the hour-of-week intensity (weekday x hour weight) divided by its maximum.
    missed_call_base: float = 0.04
    missed_call_peak: float = 0.22
    #: Outbound calls: share not answered (missed) and share busy.
    outbound_missed_share: float = 0.20
    outbound_busy_share: float = 0.08
    #: Medians (seconds) of waiting before an answer and of talk time (log-normal).
    wait_seconds_median: float = 12.0
    talk_seconds_median: float = 150.0
    #: Service calls per paying client over their life (Poisson mean).
    service_calls_per_paying_client: float = 1.5
    #: Fairs (the exhibition channel's campaigns): month and day they open, and length.
    exhibition_months: tuple[int, ...] = (3, 10)
    exhibition_day: int = 15
    exhibition_length_days: int = 3
    #: Clients: share of companies, mean number of contact persons per company (>= 1),
    #: shares with an e-mail and a messenger id.
    company_share: float = 0.10
    contact_persons_mean: float = 1.6
    email_share: float = 0.70
    messenger_share: float = 0.15
    #: Marketing e-mail consent: share granted, and share of those withdrawn later.
    marketing_consent_share: float = 0.55
    consent_withdrawal_share: float = 0.12
    #: Touchpoints: mean per client before the lead (including the first touch and the
    #: lead-creating touch), after it, and anonymous (never linked) per client.
    touches_before_lead_mean: float = 7.0
    touches_after_lead_mean: float = 8.0
    anonymous_touches_per_client: float = 4.0
    #: Mean days from a client's first touch to their lead.
    first_touch_days_mean: float = 10.0
    #: Share of the touches between the first touch and the lead that come back through the
    #: lead's own channel and campaign; the others, and every touch after the lead, come
    #: through these channels with these shares.
    same_channel_share_before_lead: float = 0.45
    return_visit_channels: tuple[tuple[str, float], ...] = (
        ("direct", 0.5), ("seo", 0.3), ("email", 0.2))  # fmt: skip
    #: Mean pages per visit and median seconds per page.
    pages_per_visit_mean: float = 3.5
    seconds_per_page_median: float = 45.0
    #: Support: tickets per delivered order; response rates and score distributions of CSAT
    #: (scores 1..5) and NPS (scores 0..10).
    ticket_rate_per_order: float = 0.08
    csat_response_rate: float = 0.45
    csat_distribution: tuple[float, ...] = (0.04, 0.06, 0.12, 0.33, 0.45)
    nps_response_rate: float = 0.20
    nps_distribution: tuple[float, ...] = (
        0.02, 0.01, 0.02, 0.02, 0.03, 0.05, 0.05, 0.12, 0.18, 0.22, 0.28)  # fmt: skip

    def __post_init__(self) -> None:
        _check_shares("channel lead shares", [c.lead_share for c in self.channels])
        for channel in self.channels:
            if channel.campaigns:
                _check_shares(
                    f"{channel.slug} campaign shares", [c.share for c in channel.campaigns]
                )
                _check_mean_one(
                    f"{channel.slug} campaign multipliers",
                    [c.share * c.win_multiplier for c in channel.campaigns],
                )
        _check_mean_one(
            "manager win multipliers",
            [m.win_multiplier / len(self.managers) for m in self.managers],
        )
        _check_shares("stage lost shares", [s.lost_share for s in self.open_stages])
        _check_shares("lost reasons", [share for _, share in self.lost_reasons])
        _check_shares("return visit channels", [share for _, share in self.return_visit_channels])
        _check_shares("CSAT distribution", self.csat_distribution)
        _check_shares("NPS distribution", self.nps_distribution)
        if len(self.month_multipliers) != 12 or len(self.weekday_multipliers) != 7:
            raise ValueError("month_multipliers needs 12 values and weekday_multipliers 7")
        if len(self.hour_weights) != 24:
            raise ValueError("hour_weights needs 24 values")
        if self.returning_client_order_rate <= 0:
            raise ValueError("returning_client_order_rate must be positive")
        if self.highest_win_probability > 0.95:
            raise ValueError("channel x campaign x manager win probability exceeds 0.95")

    @property
    def open_stages(self) -> tuple[StageSpec, ...]:
        return tuple(s for s in self.stages if s.kind == "open")

    @property
    def best_manager(self) -> int:
        """Index (0-based) of the manager built best: ``manager{index + 1}@demo.voronka.local``."""
        return max(range(len(self.managers)), key=lambda i: self.managers[i].win_multiplier)

    @property
    def overall_win_rate(self) -> float:
        """Expected share of all leads that are won."""
        return sum(c.lead_share * c.win_rate for c in self.channels)

    @property
    def highest_win_probability(self) -> float:
        best_manager = max(m.win_multiplier for m in self.managers)
        return (
            max(
                c.win_rate * max((k.win_multiplier for k in c.campaigns), default=1.0)
                for c in self.channels
            )
            * best_manager
        )

    @property
    def max_cycle_days(self) -> float:
        """Longest possible time from lead to close."""
        stages = sum(s.mean_days for s in self.open_stages) * self.dwell_cap
        return stages + self.response_cap_hours / 24

    def expected_stage_reach(self) -> list[float]:
        """Share of leads that ever reach each open stage, then the won share."""
        won = self.overall_win_rate
        reach = []
        for index in range(len(self.open_stages)):
            lost_later = sum(s.lost_share for s in self.open_stages[index:])
            reach.append(won + (1 - won) * lost_later)
        return [*reach, won]

    def expected_step_conversion(self) -> list[float]:
        """Share of deals reaching each stage that go on to the next (the last: to Won)."""
        reach = self.expected_stage_reach()
        return [after / before for before, after in zip(reach, reach[1:], strict=False)]

    def calibrated_stage_probability(self) -> list[float]:
        """True P(won | the deal reached this open stage), what calibration should find."""
        won = self.overall_win_rate
        return [won / reach for reach in self.expected_stage_reach()[:-1]]

    def mean_repeat_order_value(self) -> float:
        """Expected value of a repeat order under Gamma-Gamma, in roubles."""
        return self.spend.p * self.spend.v / (self.spend.q - 1)


def _check_shares(what: str, shares: list[float] | tuple[float, ...]) -> None:
    if any(s < 0 for s in shares) or not math.isclose(sum(shares), 1.0, abs_tol=1e-9):
        raise ValueError(f"{what} must be non-negative and sum to 1, got {sum(shares)}")


def _check_mean_one(what: str, weighted: list[float]) -> None:
    if not math.isclose(sum(weighted), 1.0, abs_tol=1e-9):
        raise ValueError(f"{what} must average to 1, got {sum(weighted)}")
