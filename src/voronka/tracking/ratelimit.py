"""Token buckets for public endpoints: in this process, or shared through Redis.

A bucket holds up to ``burst`` tokens and gains ``rate_per_second`` tokens per second; a
request takes one token and is refused when none is left. In-process buckets are enough for
one web process; with several processes behind a load balancer set
``VORONKA_RATE_LIMIT_BACKEND=redis`` so they share the buckets. Time comes from
``voronka.clock`` (tests pin it; no sleeping).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from voronka import clock
from voronka.config import get_settings

#: Most buckets kept in memory; the least recently used are dropped first (a dropped bucket
#: is full again, which only ever lets a little more through).
MAX_BUCKETS = 100_000


@dataclass(frozen=True)
class Limit:
    """``burst`` requests at once, then ``rate_per_second`` on average."""

    burst: int
    rate_per_second: float

    def wait_after_refusal(self, tokens: float) -> int:
        """Whole seconds until one token is back (for ``Retry-After``)."""
        return max(1, math.ceil((1 - tokens) / self.rate_per_second))


class Buckets(Protocol):
    def take(self, key: str, limit: Limit) -> int | None:
        """Take a token from ``key``'s bucket; ``None`` when allowed, else seconds to wait."""


class MemoryBuckets:
    """Buckets in a dictionary guarded by a lock (one process)."""

    def __init__(self, max_buckets: int = MAX_BUCKETS) -> None:
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_buckets

    def take(self, key: str, limit: Limit) -> int | None:
        now = clock.now().timestamp()
        with self._lock:
            tokens, at = self._buckets.pop(key, (float(limit.burst), now))
            tokens = min(float(limit.burst), tokens + max(0.0, now - at) * limit.rate_per_second)
            allowed = tokens >= 1
            self._buckets[key] = (tokens - 1 if allowed else tokens, now)
            while len(self._buckets) > self._max:
                self._buckets.popitem(last=False)
        return None if allowed else limit.wait_after_refusal(tokens)

    def clear(self) -> None:
        with self._lock:
            self._buckets.clear()


# KEYS[1] bucket; ARGV: burst, rate per second, now (seconds). Returns {allowed, tokens*1000}.
_TAKE_SCRIPT = """
local burst = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
return {allowed, math.floor(tokens * 1000)}
"""


class RedisBuckets:
    """Buckets kept in Redis, updated atomically by one Lua script per request."""

    prefix = "voronka:rl:"

    def __init__(self, url: str) -> None:
        import redis

        self._client: Any = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        self._script = self._client.register_script(_TAKE_SCRIPT)

    def take(self, key: str, limit: Limit) -> int | None:
        now = clock.now().timestamp()
        allowed, milli_tokens = self._script(
            keys=[self.prefix + key], args=[limit.burst, limit.rate_per_second, repr(now)]
        )
        return None if allowed else limit.wait_after_refusal(int(milli_tokens) / 1000)

    def clear(self) -> None:
        for key in self._client.scan_iter(match=self.prefix + "*", count=1000):
            self._client.delete(key)


@lru_cache(maxsize=4)
def _buckets_for(backend: str, url: str) -> MemoryBuckets | RedisBuckets:
    return RedisBuckets(url) if backend == "redis" else MemoryBuckets()


def buckets() -> MemoryBuckets | RedisBuckets:
    """The process's buckets for the configured backend."""
    settings = get_settings()
    return _buckets_for(settings.rate_limit_backend, settings.rate_limit_redis_url)


#: An IP address may send this many times a visitor's requests (offices behind one NAT).
IP_FACTOR = 10


def tracking_limit() -> Limit:
    """Per visitor."""
    settings = get_settings()
    return Limit(settings.tracking_rate_burst, settings.tracking_rate_per_minute / 60)


def tracking_ip_limit() -> Limit:
    settings = get_settings()
    return Limit(
        settings.tracking_rate_burst * IP_FACTOR,
        settings.tracking_rate_per_minute * IP_FACTOR / 60,
    )


def form_limit() -> Limit:
    settings = get_settings()
    return Limit(settings.form_rate_burst, settings.form_rate_per_hour / 3600)
