"""The demo company's calendar: the two-year window, seasonality, and timestamps as text.

Times are numpy ``datetime64[us]`` in UTC throughout; NaT means NULL. Hours of the day and
weekdays are the company's local time (``utc_offset_hours``), because that is where the
rhythm of leads and calls lives.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from voronka.demo.params import DemoParams

MICROSECONDS_PER_SECOND = 1_000_000
SECONDS_PER_DAY = 86_400
WINDOW_DAYS = 730
#: The last local day of the demo data: fixed so that a seed always builds the same company.
DEFAULT_END = date(2026, 10, 31)
NAT = np.datetime64("NaT", "us")


@dataclass(frozen=True)
class Window:
    """The span of the demo data: ``days`` local days, the last one ``end_day``."""

    start: np.datetime64  # first local midnight, as UTC
    end: np.datetime64  # the local midnight after ``end_day``, as UTC (exclusive)
    first_day: np.datetime64  # local date of the first day (datetime64[D])
    days: int
    utc_offset: np.timedelta64

    @property
    def first_weekday(self) -> int:
        """Monday=0 .. Sunday=6 of the first local day."""
        return int(weekday(np.asarray([self.first_day]))[0])

    def local_day(self, day_index: np.ndarray) -> np.ndarray:
        """Return the local dates (datetime64[D]) of day indices."""
        return self.first_day + day_index.astype("timedelta64[D]")


def make_window(end_day: date, offset_hours: int, days: int = WINDOW_DAYS) -> Window:
    """Build the window of ``days`` local days ending with ``end_day``."""
    first_day = np.datetime64(end_day, "D") - np.timedelta64(days - 1, "D")
    offset = np.timedelta64(offset_hours, "h").astype("timedelta64[us]")
    start = first_day.astype("datetime64[us]") - offset
    return Window(start, start + np.timedelta64(days, "D"), first_day, days, offset)


def seconds(values: np.ndarray | float) -> np.ndarray:
    """Turn seconds (float) into ``timedelta64[us]``."""
    return (np.asarray(values) * MICROSECONDS_PER_SECOND).astype("int64").astype("timedelta64[us]")


def days(values: np.ndarray | float) -> np.ndarray:
    """Turn days (float) into ``timedelta64[us]``."""
    return seconds(np.asarray(values) * SECONDS_PER_DAY)


def weekday(local_dates: np.ndarray) -> np.ndarray:
    """Return Monday=0 .. Sunday=6 of local dates (1970-01-01 was a Thursday)."""
    return (local_dates.astype("datetime64[D]").astype("int64") + 3) % 7


def local_hour_of_week(window: Window, at: np.ndarray) -> np.ndarray:
    """Return weekday * 24 + local hour of UTC instants."""
    local = at + window.utc_offset
    hour = (local.astype("datetime64[h]").astype("int64")) % 24
    return weekday(local.astype("datetime64[D]")) * 24 + hour


def lead_day_weights(params: DemoParams, window: Window) -> np.ndarray:
    """Relative lead volume of each day: growth trend x month x weekday multipliers."""
    index = np.arange(window.days)
    local_dates = window.local_day(index)
    months = local_dates.astype("datetime64[M]").astype("int64") % 12
    trend = (1 + params.annual_growth) ** (index / 365.0)
    month = np.asarray(params.month_multipliers)[months]
    week = np.asarray(params.weekday_multipliers)[weekday(local_dates)]
    return trend * month * week


def hour_of_week_load(params: DemoParams) -> np.ndarray:
    """Intensity of inbound contacts per hour of the week, scaled so the busiest hour is 1."""
    load = np.outer(params.weekday_multipliers, params.hour_weights).ravel()
    return load / load.max()


def at_local_time(
    window: Window, rng: np.random.Generator, local_dates: np.ndarray, hour_p: np.ndarray
) -> np.ndarray:
    """Place events on local dates at an hour drawn from ``hour_p`` and a uniform second."""
    hours = rng.choice(24, size=len(local_dates), p=hour_p)
    within = rng.integers(0, 3600 * MICROSECONDS_PER_SECOND, size=len(local_dates))
    local = local_dates.astype("datetime64[us]") + (hours * 3600 * MICROSECONDS_PER_SECOND + within)
    return local.astype("datetime64[us]") - window.utc_offset


def _byte_table(strings: list[str], width: int) -> np.ndarray:
    return np.frombuffer("".join(strings).encode("ascii"), dtype=np.uint8).reshape(-1, width)


#: Text of every second of a day and of 0..999, gathered by index: formatting millions of
#: timestamps this way is several times faster than ``np.datetime_as_string``.
_TIME_OF_DAY = _byte_table(
    [f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)], 8
)
_THREE_DIGITS = _byte_table([f"{i:03d}" for i in range(1000)], 3)
_DAY_MICROSECONDS = SECONDS_PER_DAY * MICROSECONDS_PER_SECOND


def to_text(at: np.ndarray) -> np.ndarray:
    """Format UTC instants (no NaT) as the naive text ``YYYY-MM-DD HH:MM:SS.ffffff``."""
    if len(at) == 0:
        return np.empty(0, dtype="U26")
    day, micro = np.divmod(at.astype("datetime64[us]").astype("int64"), _DAY_MICROSECONDS)
    first = int(day.min())
    dates = np.arange(first, int(day.max()) + 1).astype("datetime64[D]")
    date_table = _byte_table(np.datetime_as_string(dates, unit="D").tolist(), 10)
    second, fraction = np.divmod(micro, MICROSECONDS_PER_SECOND)
    milli, micro_rest = np.divmod(fraction, 1000)
    out = np.empty((len(day), 26), dtype=np.uint8)
    out[:, 0:10] = date_table[day - first]
    out[:, 10] = ord(" ")
    out[:, 11:19] = _TIME_OF_DAY[second]
    out[:, 19] = ord(".")
    out[:, 20:23] = _THREE_DIGITS[milli]
    out[:, 23:26] = _THREE_DIGITS[micro_rest]
    return out.view("S26").ravel().astype("U26")


def date_text(days_: np.ndarray) -> np.ndarray:
    """Format dates as ``YYYY-MM-DD``."""
    return np.datetime_as_string(days_.astype("datetime64[D]"), unit="D")
