"""Celery on a Redis broker: queue depth per queue from LLEN, priority sub-queues included."""

from __future__ import annotations

import time
from collections.abc import Callable

import redis
import redis.exceptions

from console import metrics
from console.domain import CollectorReport, Reading, series_name
from services.collectors.redis_source import redis_error

#: kombu's Redis transport keeps priority n of queue q in the list "q\x06\x16n".
PRIORITY_SEPARATOR = "\x06\x16"
PRIORITY_STEPS = (0, 3, 6, 9)
DEFAULT_QUEUES = ("celery",)


def queue_keys(queue: str, steps: tuple[int, ...] = PRIORITY_STEPS,
               prefix: str = "") -> list[str]:
    """The Redis lists holding ``queue``: the queue itself and one per non-zero priority."""
    return [prefix + (queue if step == 0 else f"{queue}{PRIORITY_SEPARATOR}{step}")
            for step in steps]


class CeleryRedisCollector:
    """LLEN of every queue key, all in one pipeline round trip."""

    kind = "celery-redis"

    def __init__(self, name: str, client: redis.Redis, queues: tuple[str, ...] = (), *,
                 url: str = "", interval_s: float = 10.0, timeout_s: float = 5.0,
                 key_prefix: str = "", clock: Callable[[], float] = time.time) -> None:
        self.name = name
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self.queues = queues or DEFAULT_QUEUES
        self._client = client
        self._url = url
        self._prefix = key_prefix
        self._clock = clock

    def collect(self) -> CollectorReport:
        keys = {queue: queue_keys(queue, prefix=self._prefix) for queue in self.queues}
        try:
            pipe = self._client.pipeline(transaction=False)
            for names in keys.values():
                for key in names:
                    pipe.llen(key)
            lengths = pipe.execute()
        except redis.exceptions.RedisError as err:
            raise redis_error(err, self._url, self.timeout_s) from err
        ts = self._clock()
        readings = [Reading(series_name(self.name, metrics.UP), ts, 1.0)]
        parts = []
        position = 0
        for queue, names in keys.items():
            depth = sum(int(n) for n in lengths[position:position + len(names)])
            position += len(names)
            readings.append(Reading(series_name(self.name, metrics.QUEUE_DEPTH,
                                                {"queue": queue}), ts, float(depth)))
            parts.append(f"{queue}: {depth}")
        return CollectorReport(readings=tuple(readings), detail="waiting " + ", ".join(parts))

    def close(self) -> None:
        self._client.close()
