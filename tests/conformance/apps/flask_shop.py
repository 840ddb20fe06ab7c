"""A Flask shop with prometheus-flask-exporter reading dishes from memcached (conformance suite)."""

from __future__ import annotations

import os
import time

from flask import Flask, Response
from prometheus_flask_exporter import PrometheusMetrics
from pymemcache.client.base import PooledClient

host, port = os.environ["SHOP_MEMCACHED"].rsplit(":", 1)
cache = PooledClient((host, int(port)), connect_timeout=2, timeout=2, max_pool_size=8)
#: Dishes 0..STOCKED-1 are in memcached; the rest miss.
STOCKED = 3
for _number in range(STOCKED):
    cache.set(f"dish:{_number}", f"dish {_number}".encode())

app = Flask(__name__)
PrometheusMetrics(app)


@app.get("/dish/<int:number>")
def dish(number: int) -> Response:
    time.sleep(0.01)
    found = cache.get(f"dish:{number}")
    response = Response(found or b"not cached")
    response.headers["X-Cache"] = "hit" if found is not None else "miss"
    return response


@app.get("/fail")
def fail() -> Response:
    return Response("no table", status=500)
