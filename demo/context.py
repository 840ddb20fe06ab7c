"""What the demo's request handlers share: database, metrics, cache, queue, switches."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from demo.cache import ReadThroughCache
from demo.db import Database
from demo.jobs import Job, JobQueue
from demo.metrics import ShopMetrics
from demo.scenario import EventLog, Scenario

log = logging.getLogger(__name__)


@dataclass
class ShopContext:
    """One shop's parts, passed to the Flask app factory (no module-level state)."""

    db: Database
    metrics: ShopMetrics
    cache: ReadThroughCache
    jobs: JobQueue
    scenario: Scenario
    events: EventLog
    token: str
    change_scenario: Callable[[dict[str, Any]], None]
    workers: Callable[[], int]
    started_monotonic: float
    stopping: threading.Event = field(default_factory=threading.Event)
    scenario_lock: threading.Lock = field(default_factory=threading.Lock)

    def enqueue(self, kind: str, payload: dict[str, Any]) -> None:
        """Queue a job; a full or broken queue loses the job but never fails the request."""
        try:
            self.jobs.publish(Job(kind, payload))
        except Exception as exc:
            log.warning("could not queue %s job: %s", kind, exc)
