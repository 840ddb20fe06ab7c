"""Demo shop figures: seeding time, availability p95 per scenario, queue climb and drain."""

from __future__ import annotations

import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

from tests.benchmarks.harness import Figure, percentile

AREA = "demo"


def _availability_latencies(shop: object, session: requests.Session, n: int) -> list[float]:
    rng = random.Random(11)
    today = datetime.now(UTC).date()
    out = []
    for _ in range(n):
        day = (today + timedelta(days=rng.randrange(7))).isoformat()
        start = time.perf_counter()
        r = session.get(shop.base_url + "/api/availability",  # type: ignore[attr-defined]
                        params={"date": day, "party_size": "4"}, timeout=10)
        out.append(time.perf_counter() - start)
        r.raise_for_status()
    return out


def _queue_depth(session: requests.Session, metrics_url: str) -> float:
    text = session.get(metrics_url, timeout=10).text
    return next(float(line.split()[-1]) for line in text.splitlines()
                if line.startswith("job_queue_depth{"))


def _jobs_processed(session: requests.Session, metrics_url: str) -> float:
    text = session.get(metrics_url, timeout=10).text
    return sum(float(line.split()[-1]) for line in text.splitlines()
               if line.startswith("jobs_processed_total{"))


def run(quick: bool = False) -> list[Figure]:
    from demo import DemoShop

    figures: list[Figure] = []
    n = 120 if quick else 400
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        shop = DemoShop(Path(tmp) / "bench.sqlite3", traffic=False, seed_scale=1.0)
        shop.start()
        figures.append(Figure(AREA, "seed (scale 1.0) + start", time.perf_counter() - start,
                              "s", target="< 2 s", met=time.perf_counter() - start < 2))
        try:
            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {shop.token}"
            p95 = {}
            for cache, index in ((False, False), (False, True), (True, False), (True, True)):
                shop.set_scenario(cache=cache, booking_time_index=index)
                p95[(cache, index)] = percentile(_availability_latencies(shop, session, n), 95)
            base = p95[(False, False)]
            names = {(False, True): "index only", (True, False): "cache only",
                     (True, True): "cache + index"}
            figures.append(Figure(AREA, "availability p95, cache off + index off", base * 1000,
                                  "ms"))
            for key, label in names.items():
                figures.append(Figure(
                    AREA, f"availability p95, {label}", p95[key] * 1000, "ms",
                    baseline_name="cache off + index off", baseline=base * 1000,
                    target=">= 40% lower" if key == (True, True) else "",
                    met=(p95[key] <= 0.6 * base) if key == (True, True) else None))

            # Queue: no workers while 40 bookings arrive; then one worker drains them, which
            # measures what one worker can do (jobs/s).
            shop.set_scenario(workers=0)
            at = (datetime.now(UTC).date() + timedelta(days=9)).isoformat() + "T12:00:00Z"
            for i in range(40):
                session.post(shop.base_url + "/api/bookings", timeout=10, json={
                    "customer_name": f"Bench {i}", "party_size": 2, "start_at": at})
            depth = _queue_depth(session, shop.metrics_url)
            figures.append(Figure(AREA, "queue depth after 40 bookings, 0 workers", depth,
                                  "jobs", target="climbs (> 0)", met=depth > 0))
            start = time.perf_counter()
            shop.set_scenario(workers=1)
            while _queue_depth(session, shop.metrics_url) > 0 \
                    and time.perf_counter() - start < 30:
                time.sleep(0.01)
            capacity = depth / (time.perf_counter() - start)
            figures.append(Figure(AREA, "one worker's capacity (drain 40 jobs)", capacity,
                                  "jobs/s"))

            # The heaviest traffic the simulated customers make here, against one worker:
            # how fast jobs arrive (processed + still waiting) and how deep the queue gets.
            shop.set_scenario(workers=1, traffic_rate=120.0)
            seconds = 4 if quick else 8
            done_before = _jobs_processed(session, shop.metrics_url)
            time.sleep(seconds)
            behind = _queue_depth(session, shop.metrics_url)
            arrived = _jobs_processed(session, shop.metrics_url) - done_before + behind
            figures.append(Figure(
                AREA, "jobs arriving, traffic rate 120, 1 worker", arrived / seconds, "jobs/s",
                baseline_name="one worker's capacity", baseline=capacity))
            figures.append(Figure(AREA, f"queue depth after {seconds} s of that", behind,
                                  "jobs"))
            if behind > 2:
                shop.set_scenario(workers=4)
                start = time.perf_counter()
                while _queue_depth(session, shop.metrics_url) > 2 \
                        and time.perf_counter() - start < 30:
                    time.sleep(0.05)
                figures.append(Figure(AREA, "time for 4 workers to catch up (depth <= 2)",
                                      time.perf_counter() - start, "s"))
            shop.set_scenario(traffic_rate=0.0)
            session.close()
        finally:
            start = time.perf_counter()
            shop.stop()
            figures.append(Figure(AREA, "stop()", time.perf_counter() - start, "s",
                                  target="< 5 s", met=time.perf_counter() - start < 5))
    return figures
