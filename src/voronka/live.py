"""Live events for signed-in browsers (screen pop), delivered over Server-Sent Events.

A :class:`Broker` keeps, per user, the queues of that user's open event streams. Publishing
is thread-safe (webhook handlers run in worker threads). With one web process the broker
delivers in the process; with several, set ``VORONKA_EVENTS_REDIS_URL``: every publish goes
through a Redis pub/sub channel and each process delivers what it hears to its own streams.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

CHANNEL = "voronka:live-events"
QUEUE_SIZE = 100
log = logging.getLogger(__name__)


class Broker:
    """Fan-out of events to the streams of one user; optionally across processes via Redis."""

    def __init__(self, redis_url: str | None = None, *, channel: str = CHANNEL) -> None:
        self.redis_url = redis_url
        self.channel = channel
        self._streams: dict[int, set[tuple[asyncio.AbstractEventLoop, asyncio.Queue[dict[str, Any]]]]] = {}
        self._lock = threading.Lock()
        self._redis: Any = None
        self._listener: threading.Thread | None = None
        self._stop = threading.Event()

    def publish(self, user_id: int, event: dict[str, Any]) -> None:
        """Send ``event`` to every open stream of ``user_id`` (in any process with Redis)."""
        if self.redis_url is None:
            self.deliver(user_id, event)
            return
        message = json.dumps({"user_id": user_id, "event": event}, default=str)
        self._client().publish(self.channel, message)

    def deliver(self, user_id: int, event: dict[str, Any]) -> None:
        """Hand ``event`` to this process's streams of ``user_id``; full queues drop it."""
        with self._lock:
            targets = list(self._streams.get(user_id, ()))
        for loop, queue in targets:
            try:
                loop.call_soon_threadsafe(_offer, queue, event)
            except RuntimeError:  # the stream's loop has closed
                continue

    @asynccontextmanager
    async def subscribe(self, user_id: int) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        """A queue receiving ``user_id``'s events while the block runs."""
        if self.redis_url is not None:
            self._ensure_listener()
        entry = (asyncio.get_running_loop(), asyncio.Queue[dict[str, Any]](QUEUE_SIZE))
        with self._lock:
            self._streams.setdefault(user_id, set()).add(entry)
        try:
            yield entry[1]
        finally:
            with self._lock:
                streams = self._streams.get(user_id, set())
                streams.discard(entry)
                if not streams:
                    self._streams.pop(user_id, None)

    def listening(self) -> bool:
        """Whether any stream may receive an event (always, when Redis relays to others)."""
        if self.redis_url is not None:
            return True
        with self._lock:
            return bool(self._streams)

    def subscribers(self, user_id: int) -> int:
        with self._lock:
            return len(self._streams.get(user_id, ()))

    def close(self) -> None:
        self._stop.set()
        if self._listener is not None:
            self._listener.join(timeout=3)
        if self._redis is not None:
            self._redis.close()

    def _client(self) -> Any:
        if self._redis is None:
            import redis

            self._redis = redis.Redis.from_url(str(self.redis_url), socket_timeout=5)
        return self._redis

    def _ensure_listener(self) -> None:
        with self._lock:
            if self._listener is not None:
                return
            pubsub = self._client().pubsub(ignore_subscribe_messages=True)
            pubsub.subscribe(self.channel)
            self._listener = threading.Thread(
                target=self._listen, args=(pubsub,), name="voronka-live-events", daemon=True
            )
            self._listener.start()

    def _listen(self, pubsub: Any) -> None:
        while not self._stop.is_set():
            try:
                message = pubsub.get_message(timeout=0.5)
            except Exception:  # Redis went away: log once per failure and keep trying
                log.warning("live events: Redis subscription failed; retrying")
                self._stop.wait(1.0)
                continue
            if message is None or message.get("type") != "message":
                continue
            data = json.loads(message["data"])
            self.deliver(int(data["user_id"]), data["event"])
        pubsub.close()


def _offer(queue: asyncio.Queue[dict[str, Any]], event: dict[str, Any]) -> None:
    try:
        queue.put_nowait(event)
    except asyncio.QueueFull:
        log.warning("live events: a slow stream dropped an event")
