"""The Celery 5 app the broker conformance tests run workers of (configured by environment)."""

from __future__ import annotations

import json
import os
import time

from celery import Celery

#: Environment the tests set: the broker URL, broker_transport_options as JSON, the queue.
BROKER_ENV = "CONFORMANCE_BROKER"
OPTIONS_ENV = "CONFORMANCE_TRANSPORT_OPTIONS"
QUEUE_ENV = "CONFORMANCE_QUEUE"

app = Celery("conformance", broker=os.environ.get(BROKER_ENV, "redis://127.0.0.1:6379/0"))
app.conf.broker_transport_options = json.loads(os.environ.get(OPTIONS_ENV, "{}"))
app.conf.task_default_queue = os.environ.get(QUEUE_ENV, "celery")
app.conf.worker_hijack_root_logger = False
app.conf.broker_connection_retry_on_startup = True


@app.task(name="conformance.work")
def work(seconds: float) -> float:
    """A task that takes a known time."""
    time.sleep(seconds)
    return seconds
