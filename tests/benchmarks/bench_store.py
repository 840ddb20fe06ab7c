"""The in-memory metric store: samples/s in, window reads, change tracking, bytes per sample.

    python -m tests.benchmarks store [--quick]

Data is synthetic and latency-like (a lognormal AR(1) process with rare spikes); the store's
cost does not depend on the values, only on how many there are and how they arrive.
"""

from __future__ import annotations

import numpy as np

from console.domain import Reading
from console.store import DEFAULT_TIERS, MetricStore
from tests.benchmarks.harness import Figure, median_time

AREA = "store"
T0 = 1_699_999_200.0


def latency_like(n: int, rng: np.random.Generator) -> np.ndarray:
    """Lognormal around 45 ms, AR(1) in log space, with 1 % spikes of 3-20x."""
    noise = rng.normal(0.0, 0.25, n)
    log_level = np.empty(n)
    level = 0.0
    for i in range(n):  # small n only; the day-long series below use a vectorised filter
        level = 0.9 * level + noise[i]
        log_level[i] = level
    values = 0.045 * np.exp(log_level + rng.normal(0.0, 0.15, n))
    spikes = rng.random(n) < 0.01
    values[spikes] *= rng.uniform(3, 20, int(spikes.sum()))
    return values


def run(quick: bool = False) -> list[Figure]:
    rng = np.random.default_rng(5)
    repeat = 3 if quick else 5
    figures: list[Figure] = []

    # poll-sized appends: one scrape of 15 series per call, as the poller does
    n_series, scrapes = 15, 2000 if quick else 10000
    scrape_values = latency_like(n_series * 50, rng)
    batches = [
        [
            Reading(f"web/m{k}", T0 + s, float(scrape_values[(s * n_series + k) % 750]))
            for k in range(n_series)
        ]
        for s in range(scrapes)
    ]

    def poll_sized() -> None:
        store = MetricStore()
        for batch in batches:
            store.append(batch)

    t = median_time(poll_sized, repeat=repeat)
    figures.append(
        Figure(
            AREA, "append(): one 15-reading scrape per call", n_series * scrapes / t, "samples/s"
        )
    )

    # a big append of many series at once
    big = [r for batch in batches for r in batch]

    def big_append() -> None:
        MetricStore().append(big)

    t = median_time(big_append, repeat=repeat)
    figures.append(
        Figure(AREA, "append(): one call of 30k-150k readings", len(big) / t, "samples/s")
    )

    # a day of one series at 1 s, as loaded back from history at start
    day = 86_400
    day_ts = T0 + np.arange(day, dtype=np.float64)
    day_values = np.exp(rng.normal(np.log(0.045), 0.4, day))
    series_count = 5 if quick else 20

    def load_day() -> None:
        store = MetricStore()
        for k in range(series_count):
            store.append_many(f"web/p{k}", day_ts, day_values)

    t = median_time(load_day, repeat=repeat)
    figures.append(
        Figure(
            AREA,
            "append_many(): a day at 1 s per call (history reload)",
            series_count * day / t,
            "samples/s",
        )
    )

    # reads, on a store holding 200 series with a day each
    store = MetricStore()
    for k in range(200):
        store.append_many(f"web/p{k}", day_ts, day_values)
    end = day_ts[-1]
    hour = median_time(lambda: store.window("web/p7", end - 3599, end), repeat=50)
    figures.append(Figure(AREA, "window(): last hour at 1 s (3600 points)", hour * 1e3, "ms"))
    full_day = median_time(
        lambda: store.window("web/p7", end - 86_400, end, max_points=1000), repeat=50
    )
    figures.append(
        Figure(AREA, "window(): last day, max_points=1000 (1-min tier)", full_day * 1e3, "ms")
    )
    version = store.version
    store.append([Reading("web/p3", end + 1, 0.05)])
    changed = median_time(lambda: store.changed_since(version), repeat=200)
    figures.append(Figure(AREA, "changed_since(): 200 series, 1 changed", changed * 1e6, "us"))

    # memory
    one = MetricStore()
    one.append([Reading("a/b", T0, 1.0)])
    finest = DEFAULT_TIERS[0]
    ring_bytes = MetricStore(tiers=(finest,))
    ring_bytes.append([Reading("a/b", T0, 1.0)])
    per_sample = ring_bytes.nbytes("a/b") / finest.capacity
    figures.append(
        Figure(
            AREA,
            "memory per sample, finest tier (1 s x 1 h)",
            per_sample,
            "B",
            target="<= 8 B",
            met=per_sample <= 8,
        )
    )
    figures.append(
        Figure(AREA, "memory per series, all tiers (1 h + 1 d + 7 d)", one.nbytes() / 1024, "KiB")
    )
    return figures


if __name__ == "__main__":
    for figure in run(quick=True):
        print(figure)
