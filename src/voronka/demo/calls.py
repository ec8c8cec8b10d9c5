"""Phone calls with full timing, and the rhythm that makes inbound calls missed at peaks.

An inbound call is missed with probability ``missed_call_base + (missed_call_peak -
missed_call_base) * load**2``, where load is the intensity of its hour of the week relative
to the busiest hour; callers who get through also wait longer at peaks.
"""

from __future__ import annotations

import numpy as np

from voronka.demo.timeline import hour_of_week_load, local_hour_of_week, seconds
from voronka.demo.world import OFFICE_NUMBER, World

#: Medians (seconds) of how long an unanswered call rings and an outbound call waits.
RING_SECONDS_MEDIAN = 30.0
OUTBOUND_WAIT_SECONDS_MEDIAN = 8.0
INBOUND_BUSY_SHARE = 0.02


def inbound_calls(
    world: World,
    rng: np.random.Generator,
    at: np.ndarray,
    client_phone: np.ndarray,
    tracking_number: np.ndarray,
) -> dict[str, np.ndarray]:
    """Calls from clients to a tracking number, answered less often at busy hours."""
    params = world.params
    load = hour_of_week_load(params)[local_hour_of_week(world.window, at)]
    missed_p = (
        params.missed_call_base + (params.missed_call_peak - params.missed_call_base) * load**2
    )
    draw = rng.random(len(at))
    status = np.where(
        draw < missed_p,
        "missed",
        np.where(draw < missed_p + INBOUND_BUSY_SHARE, "busy", "answered"),
    )
    wait_median = params.wait_seconds_median * (1 + 2 * load**2)
    return _call(
        rng,
        at,
        status,
        wait_median,
        params.talk_seconds_median,
        direction="inbound",
        from_number=client_phone,
        to_number=tracking_number,
        tracking_number=tracking_number,
    )


def outbound_calls(
    world: World, rng: np.random.Generator, at: np.ndarray, client_phone: np.ndarray
) -> dict[str, np.ndarray]:
    """Calls from the office to clients; some are not picked up or busy."""
    params = world.params
    draw = rng.random(len(at))
    missed = params.outbound_missed_share
    status = np.where(
        draw < missed,
        "missed",
        np.where(draw < missed + params.outbound_busy_share, "busy", "answered"),
    )
    wait_median = np.full(len(at), OUTBOUND_WAIT_SECONDS_MEDIAN)
    return _call(
        rng,
        at,
        status,
        wait_median,
        params.talk_seconds_median,
        direction="outbound",
        from_number=np.full(len(at), OFFICE_NUMBER),
        to_number=client_phone,
        tracking_number=np.full(len(at), None, dtype=object),
    )


def _call(
    rng: np.random.Generator,
    at: np.ndarray,
    status: np.ndarray,
    wait_median: np.ndarray,
    talk_median: float,
    *,
    direction: str,
    from_number: np.ndarray,
    to_number: np.ndarray,
    tracking_number: np.ndarray,
) -> dict[str, np.ndarray]:
    answered = status == "answered"
    ring = rng.lognormal(np.log(RING_SECONDS_MEDIAN), 0.5, len(at))
    waited = rng.lognormal(np.log(wait_median), 0.7)
    wait = np.where(answered, waited, np.where(status == "missed", ring, 0.0)).round()
    talk = np.where(answered, rng.lognormal(np.log(talk_median), 0.8, len(at)), 0.0).round()
    return {
        "kind": np.full(len(at), "call"),
        "subject": np.full(len(at), "Incoming call" if direction == "inbound" else "Outgoing call"),
        "occurred_at": at,
        "direction": np.full(len(at), direction),
        "from_number": from_number,
        "to_number": to_number,
        "tracking_number": tracking_number,
        "queued_at": at,
        "answered_at": np.where(answered, at + seconds(wait), np.datetime64("NaT", "us")),
        "ended_at": at + seconds(wait + talk),
        "wait_seconds": wait,
        "talk_seconds": talk,
        "call_status": status,
    }
