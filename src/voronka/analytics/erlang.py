"""Erlang C staffing maths for inbound call queues (the M/M/N queue).

Given how many calls arrive per hour and how long an agent is busy with each (the average
handle time, AHT: talk plus after-call work), these functions tell how likely a caller is
to wait, how many callers are answered within a target time, how long they wait on
average, how busy the agents are, and how many agents a target service level needs.

The model is Erlang's delay system: calls arrive as a Poisson process, handle times are
exponential, there are ``N`` identical agents and one first-come-first-served queue with
unlimited room, and nobody hangs up while waiting (no abandonment). Under those
assumptions the formulas here are exact; real queues with abandonment do somewhat better
than Erlang C predicts, so its staffing advice errs on the safe side.

Erlang C is computed from Erlang B by the forward recursion, which involves no powers or
factorials and so stays accurate for loads of hundreds or thousands of Erlangs, where the
closed form overflows floating point. Only the standard library is used. The maths is
described, with a worked example, in ``docs/erlang.md``.

References
----------
.. [1] A. K. Erlang, "Løsning af nogle Problemer fra Sandsynlighedsregningen af Betydning
   for de automatiske Telefoncentraler", Elektroteknikeren 13 (1917), 5-13.
.. [2] G. Koole, *Call Center Optimization*, MG books, Amsterdam (2013), ch. 5.
.. [3] N. Gans, G. Koole and A. Mandelbaum, "Telephone Call Centers: Tutorial, Review,
   and Research Prospects", Manufacturing & Service Operations Management 5 (2003),
   79-141.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "StaffingAdvice",
    "agents_needed",
    "average_speed_of_answer",
    "erlang_c",
    "occupancy",
    "offered_load",
    "service_level",
]

SECONDS_PER_HOUR = 3600.0
#: Relative slack when rounding scheduled staff up, so that 21 / (1 - 0.3), which floating
#: point makes 30.000000000000004, schedules 30 agents rather than 31.
_ROUNDING_SLACK = 1e-9


@dataclass(frozen=True, slots=True)
class StaffingAdvice:
    """How many agents an hour needs, and how the queue performs with them.

    Attributes
    ----------
    agents : int
        Agents who must be logged in and taking calls (the "raw" staff).
    scheduled_agents : int
        Agents to put on the schedule so that ``agents`` remain after shrinkage
        (breaks, training, absence): ``ceil(agents / (1 - shrinkage))``.
    load : float
        Offered load in Erlangs.
    service_level : float
        Share of calls answered within the target time with ``agents`` agents.
    average_speed_of_answer : float
        Mean wait in seconds over all calls, including those answered at once.
    occupancy : float
        Share of logged-in time the agents spend handling calls.
    probability_of_waiting : float
        Erlang C: the share of calls that have to queue at all.
    """

    agents: int
    scheduled_agents: int
    load: float
    service_level: float
    average_speed_of_answer: float
    occupancy: float
    probability_of_waiting: float


def _check_number(name: str, value: float, *, positive: bool = False) -> float:
    """``value`` as a float, or ``ValueError`` naming ``name`` if it is not finite and >= 0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if value < 0 or (positive and value == 0):
        bound = "positive" if positive else "zero or positive"
        raise ValueError(f"{name} must be {bound}, got {value!r}")
    return float(value)


def _check_agents(agents: int) -> int:
    if isinstance(agents, bool) or not isinstance(agents, int):
        raise ValueError(f"agents must be a whole number, got {agents!r}")
    if agents < 0:
        raise ValueError(f"agents must be zero or positive, got {agents!r}")
    return agents


def _next_erlang_b(agents: int, load: float, previous: float) -> float:
    """Erlang B for ``agents`` agents from Erlang B for ``agents - 1``."""
    return load * previous / (agents + load * previous)


def _erlang_b(agents: int, load: float) -> float:
    """Erlang B (blocking probability of the loss system) by the forward recursion."""
    b = 1.0
    for n in range(1, agents + 1):
        b = _next_erlang_b(n, load, b)
    return b


def _erlang_c_from_b(agents: int, load: float, b: float) -> float:
    """Erlang C from Erlang B, for a stable queue (``agents > load``)."""
    return agents * b / (agents - load * (1.0 - b))


def offered_load(calls_per_hour: float, average_handle_seconds: float) -> float:
    """Offered load in Erlangs: the average number of calls in progress at once.

    Parameters
    ----------
    calls_per_hour : float
        Arrival rate, calls per hour (zero or positive).
    average_handle_seconds : float
        Average handle time in seconds: talk plus after-call work (zero or positive).

    Returns
    -------
    float
        ``calls_per_hour * average_handle_seconds / 3600``.

    Raises
    ------
    ValueError
        If an argument is negative, infinite or not a number; the message names it.

    References
    ----------
    .. [1] G. Koole, *Call Center Optimization* (2013), §5.1.

    Examples
    --------
    >>> offered_load(720, 240)
    48.0
    """
    calls = _check_number("calls_per_hour", calls_per_hour)
    aht = _check_number("average_handle_seconds", average_handle_seconds)
    return calls * aht / SECONDS_PER_HOUR


def erlang_c(agents: int, load: float) -> float:
    """Probability that a call has to wait, P(W > 0), in the M/M/N queue.

    Computed as ``C = N·B / (N − A·(1 − B))`` from Erlang B, which comes from the
    recursion ``B(0) = 1``, ``B(n) = A·B(n−1) / (n + A·B(n−1))``. Every step stays within
    [0, 1], so the result is accurate for any load, unlike the closed form
    ``(A^N/N!)·N/(N−A) / (Σ_{k<N} A^k/k! + (A^N/N!)·N/(N−A))``, which overflows once ``A``
    is in the hundreds.

    Parameters
    ----------
    agents : int
        Number of agents ``N`` (zero or positive).
    load : float
        Offered load ``A`` in Erlangs (zero or positive).

    Returns
    -------
    float
        The probability of waiting, in [0, 1]. When ``agents <= load`` the queue grows
        without bound and every call waits: 1.0 (this includes no agents and no load).

    Raises
    ------
    ValueError
        If ``agents`` is not a whole number >= 0 or ``load`` is negative or not finite.

    References
    ----------
    .. [1] A. K. Erlang (1917).
    .. [2] G. Koole, *Call Center Optimization* (2013), §5.2.
    .. [3] N. Gans, G. Koole and A. Mandelbaum (2003), §4.1.

    Examples
    --------
    >>> round(erlang_c(2, 1.0), 6)
    0.333333
    """
    n = _check_agents(agents)
    a = _check_number("load", load)
    if n <= a:
        return 1.0
    return _erlang_c_from_b(n, a, _erlang_b(n, a))


def service_level(
    agents: int, load: float, average_handle_seconds: float, target_seconds: float
) -> float:
    """Share of calls answered within ``target_seconds``: P(W <= t).

    ``1 − C·exp(−(N − A)·t / AHT)``, where ``C`` is :func:`erlang_c`. Calls answered at
    once count as answered within any target.

    Parameters
    ----------
    agents : int
        Number of agents ``N``.
    load : float
        Offered load ``A`` in Erlangs.
    average_handle_seconds : float
        Average handle time in seconds (positive).
    target_seconds : float
        Target answer time ``t`` in seconds (zero or positive); 20 for "80/20".

    Returns
    -------
    float
        The service level in [0, 1]; 0.0 when ``agents <= load`` (the queue is unstable).

    Raises
    ------
    ValueError
        If an argument is out of range; the message names it.

    References
    ----------
    .. [1] G. Koole, *Call Center Optimization* (2013), §5.2.
    .. [2] N. Gans, G. Koole and A. Mandelbaum (2003), eq. (4.2).

    Examples
    --------
    >>> round(service_level(55, 48.0, 240, 20), 4)
    0.8668
    """
    n = _check_agents(agents)
    a = _check_number("load", load)
    aht = _check_number("average_handle_seconds", average_handle_seconds, positive=True)
    t = _check_number("target_seconds", target_seconds)
    if n <= a:
        return 0.0
    waiting = erlang_c(n, a)
    return max(0.0, 1.0 - waiting * math.exp(-(n - a) * t / aht))


def average_speed_of_answer(agents: int, load: float, average_handle_seconds: float) -> float:
    """Average speed of answer (ASA): mean wait in seconds over all calls.

    ``ASA = C·AHT / (N − A)``; calls answered at once count with a wait of zero.

    Parameters
    ----------
    agents : int
        Number of agents ``N``.
    load : float
        Offered load ``A`` in Erlangs.
    average_handle_seconds : float
        Average handle time in seconds (positive).

    Returns
    -------
    float
        The ASA in seconds; ``math.inf`` when ``agents <= load`` (the queue is unstable).

    Raises
    ------
    ValueError
        If an argument is out of range; the message names it.

    References
    ----------
    .. [1] G. Koole, *Call Center Optimization* (2013), §5.2.
    .. [2] N. Gans, G. Koole and A. Mandelbaum (2003), §4.1.

    Examples
    --------
    >>> round(average_speed_of_answer(55, 48.0, 240), 2)
    8.18
    """
    n = _check_agents(agents)
    a = _check_number("load", load)
    aht = _check_number("average_handle_seconds", average_handle_seconds, positive=True)
    if n <= a:
        return math.inf
    return erlang_c(n, a) * aht / (n - a)


def occupancy(agents: int, load: float) -> float:
    """Share of the agents' logged-in time spent handling calls: ``A / N``.

    Parameters
    ----------
    agents : int
        Number of agents ``N``.
    load : float
        Offered load ``A`` in Erlangs.

    Returns
    -------
    float
        ``load / agents`` in [0, 1]: 0.0 without load, 1.0 when ``agents <= load`` (the
        agents never get a break and the queue keeps growing).

    Raises
    ------
    ValueError
        If an argument is out of range; the message names it.

    References
    ----------
    .. [1] G. Koole, *Call Center Optimization* (2013), §5.1.

    Examples
    --------
    >>> occupancy(60, 48.0)
    0.8
    """
    n = _check_agents(agents)
    a = _check_number("load", load)
    if a == 0:
        return 0.0
    if n <= a:
        return 1.0
    return a / n


def _scheduled(agents: int, shrinkage: float) -> int:
    """``ceil(agents / (1 − shrinkage))``, not pushed up a whole agent by rounding error."""
    exact = agents / (1.0 - shrinkage)
    nearest = round(exact)
    if abs(exact - nearest) <= _ROUNDING_SLACK * max(1.0, exact):
        return int(nearest)
    return math.ceil(exact)


def agents_needed(
    calls_per_hour: float,
    average_handle_seconds: float,
    *,
    target_level: float,
    target_seconds: float,
    max_occupancy: float | None = None,
    shrinkage: float = 0.0,
) -> StaffingAdvice:
    """The fewest agents that answer ``target_level`` of calls within ``target_seconds``.

    Searches upwards from the smallest stable staff, ``floor(A) + 1``, for the first ``N``
    whose :func:`service_level` is at least ``target_level`` and, when ``max_occupancy``
    is given, whose :func:`occupancy` is at most it. Then adds shrinkage:
    ``scheduled_agents = ceil(N / (1 − shrinkage))``. The search updates Erlang B one agent
    at a time, so it costs ``O(N)`` however many agents it tries.

    Parameters
    ----------
    calls_per_hour : float
        Arrival rate, calls per hour (zero or positive).
    average_handle_seconds : float
        Average handle time in seconds; positive when there are calls (with no calls it
        may be zero, as for an hour without answered calls).
    target_level : float
        Required service level, strictly between 0 and 1 (0.8 for "80/20").
    target_seconds : float
        Target answer time in seconds, zero or positive (20 for "80/20").
    max_occupancy : float or None, optional
        Highest acceptable occupancy, in (0, 1]; ``None`` (the default) for no cap.
    shrinkage : float, optional
        Share of paid time agents are not available for calls, in [0, 1); default 0.

    Returns
    -------
    StaffingAdvice
        The staff and the queue's performance with it. With no calls: 0 agents, service
        level 1.0, no wait, occupancy 0.

    Raises
    ------
    ValueError
        If an argument is out of range; the message names it.

    References
    ----------
    .. [1] G. Koole, *Call Center Optimization* (2013), §5.3.
    .. [2] N. Gans, G. Koole and A. Mandelbaum (2003), §4.1.

    Examples
    --------
    >>> advice = agents_needed(720, 240, target_level=0.8, target_seconds=20, shrinkage=0.3)
    >>> advice.agents, advice.scheduled_agents
    (54, 78)
    """
    calls = _check_number("calls_per_hour", calls_per_hour)
    aht = _check_number("average_handle_seconds", average_handle_seconds, positive=calls > 0)
    level = _check_number("target_level", target_level)
    if not 0 < level < 1:
        raise ValueError(f"target_level must be between 0 and 1 (exclusive), got {level!r}")
    t = _check_number("target_seconds", target_seconds)
    if max_occupancy is not None:
        cap = _check_number("max_occupancy", max_occupancy)
        if not 0 < cap <= 1:
            raise ValueError(f"max_occupancy must be in (0, 1], got {max_occupancy!r}")
    shrink = _check_number("shrinkage", shrinkage)
    if not shrink < 1:
        raise ValueError(f"shrinkage must be in [0, 1), got {shrinkage!r}")

    load = calls * aht / SECONDS_PER_HOUR
    if load == 0:
        return StaffingAdvice(
            agents=0,
            scheduled_agents=0,
            load=0.0,
            service_level=1.0,
            average_speed_of_answer=0.0,
            occupancy=0.0,
            probability_of_waiting=0.0,
        )

    n = math.floor(load) + 1
    b = _erlang_b(n, load)
    while True:
        waiting = _erlang_c_from_b(n, load, b)
        level_met = 1.0 - waiting * math.exp(-(n - load) * t / aht) >= level
        occupancy_met = max_occupancy is None or load / n <= max_occupancy
        if level_met and occupancy_met:
            break
        n += 1
        b = _next_erlang_b(n, load, b)

    return StaffingAdvice(
        agents=n,
        scheduled_agents=_scheduled(n, shrink),
        load=load,
        service_level=service_level(n, load, aht, t),
        average_speed_of_answer=average_speed_of_answer(n, load, aht),
        occupancy=occupancy(n, load),
        probability_of_waiting=erlang_c(n, load),
    )
