"""Soak: 200 targets (100 health probes, 100 /metrics pages) polled at 1 Hz by the real Poller
into the store and the history for minutes; RSS growth per minute, thread count, poll lateness.

    python -m tests.benchmarks soak [--quick]       (15 minutes; --quick: 1 minute)
    BACKROOM_SOAK_S=1800 python -m tests.benchmarks soak

The targets are served by a child process (asyncio, keep-alive, 20 ports x 10 targets), so
their threads and memory are not counted against the console. Memory is the process's RSS
sampled every second; growth per minute is the slope of a least-squares line through the
samples after a warm-up, and again after 10 minutes: the history holds each series' newest
512 samples in memory until their chunk is written, so RSS climbs for 8.5 minutes at 1 Hz and
is flat after (the steady figure is the one to watch). Lateness is how long after its due
time each ``collect()`` started (the due time read from the poller's own schedule), which
includes waiting for a free worker.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.benchmarks.harness import Figure, percentile

AREA = "soak"
#: The history keeps each series' newest samples in memory until a chunk of 512 is full
#: (8.5 minutes at 1 Hz): RSS grows until then and is flat after.
STEADY_AFTER_S = 600.0
PORTS = 20
PER_PORT = 10

TARGETS = textwrap.dedent(
    """
    import asyncio, sys, time

    PORTS, PER_PORT = int(sys.argv[1]), int(sys.argv[2])
    BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
    served = {}

    def page(target):
        n = served[target] = served.get(target, 0) + 1
        lines = ["# TYPE http_request_duration_seconds histogram"]
        for handler in ("/menu", "/book"):
            total = 0
            for i, le in enumerate(BUCKETS):
                total = n * 10 * (i + 1)
                lines.append(f'http_request_duration_seconds_bucket{{handler="{handler}",'
                             f'le="{le}"}} {total}')
            lines.append(f'http_request_duration_seconds_bucket{{handler="{handler}",'
                         f'le="+Inf"}} {total + n}')
            lines.append(f'http_request_duration_seconds_count{{handler="{handler}"}} '
                         f'{total + n}')
            lines.append(f'http_request_duration_seconds_sum{{handler="{handler}"}} {n * 3.5}')
        lines += ["# TYPE http_requests_total counter",
                  f'http_requests_total{{status="200"}} {n * 120}',
                  f'http_requests_total{{status="500"}} {n}',
                  "# TYPE cache_hits counter", f"cache_hits {n * 90}",
                  "# TYPE cache_misses counter", f"cache_misses {n * 10}",
                  "# TYPE celery_queue_length gauge",
                  f'celery_queue_length{{queue_name="emails"}} {n % 7}']
        return ("\\n".join(lines) + "\\n").encode()

    async def serve(reader, writer, port):
        try:
            while True:
                head = await reader.readuntil(b"\\r\\n\\r\\n")
                path = head.split(b" ", 2)[1].decode()
                target = (port, path.split("/")[2] if path.startswith("/t/") else "")
                body = page(target) if path.endswith("/metrics") else b'{"status": "ok"}'
                writer.write(b"HTTP/1.1 200 OK\\r\\nContent-Type: text/plain\\r\\n"
                             b"Content-Length: " + str(len(body)).encode() + b"\\r\\n\\r\\n"
                             + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, IndexError):
            pass
        finally:
            writer.close()

    async def main():
        servers = []
        for _ in range(PORTS):
            holder = {}
            server = await asyncio.start_server(
                lambda r, w, h=holder: serve(r, w, h["port"]), "127.0.0.1", 0)
            holder["port"] = server.sockets[0].getsockname()[1]
            servers.append(server)
        print(" ".join(str(s.sockets[0].getsockname()[1]) for s in servers), flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())
    """
)


@dataclass
class SoakResult:
    """What a soak run measured."""

    duration_s: float
    targets: int
    polls: int
    failures: int
    rss_start_mb: float
    rss_end_mb: float
    rss_growth_mb_per_min: float
    rss_steady_mb_per_min: float | None
    threads_min: int
    threads_max: int
    lateness_p50_s: float
    lateness_p99_s: float
    lateness_max_s: float
    states: dict[str, int] = field(default_factory=dict)


def _rss_mb() -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # peak, not current


def _slope_per_min(samples: list[tuple[float, float]]) -> float:
    if len(samples) < 2:
        return 0.0
    n = len(samples)
    mean_t = sum(t for t, _ in samples) / n
    mean_v = sum(v for _, v in samples) / n
    var = sum((t - mean_t) ** 2 for t, _ in samples)
    if var == 0:
        return 0.0
    cov = sum((t - mean_t) * (v - mean_v) for t, v in samples)
    return cov / var * 60.0


class _Timed:
    """A collector wrapped to note how late each of its collects started."""

    def __init__(self, inner: Any, lateness: array[float], lock: threading.Lock) -> None:
        self.inner = inner
        self.name = inner.name
        self.kind = inner.kind
        self.interval_s = inner.interval_s
        self.timeout_s = inner.timeout_s
        self.poller: Any = None
        self._lateness = lateness
        self._lock = lock

    def collect(self) -> Any:
        started = time.monotonic()
        if self.poller is not None:
            # the dispatch moved next_due one interval on: this call was due one before it
            due = self.poller.status(self.name).next_due - self.interval_s
            with self._lock:
                self._lateness.append(max(0.0, started - due))
        return self.inner.collect()

    def close(self) -> None:
        self.inner.close()


def soak(duration_s: float, *, targets: int = PORTS * PER_PORT, interval_s: float = 1.0,
         warmup_s: float = 10.0, directory: Path | None = None,
         progress: bool = False) -> SoakResult:
    """Poll ``targets`` local targets at ``interval_s`` for ``warmup_s + duration_s`` and
    measure the last ``duration_s``."""
    from console.store import MetricStore
    from services.collectors.http_probe import HttpProbe
    from services.collectors.prometheus import PrometheusCollector
    from services.http.client import new_session
    from services.monitoring.history_writer import History
    from services.monitoring.poller import Poller

    child = subprocess.Popen([sys.executable, "-c", TARGETS, str(PORTS), str(PER_PORT)],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    own_dir = None
    if directory is None:
        own_dir = tempfile.TemporaryDirectory(prefix="backroom-soak-")
        directory = Path(own_dir.name)
    session = new_session(pool_size=targets)
    history = History(directory / "history.sqlite")
    poller = None
    try:
        assert child.stdout is not None
        ports = [int(p) for p in child.stdout.readline().split()]
        if len(ports) != PORTS:
            raise RuntimeError("the soak targets did not start")
        lateness = array("d")  # 8 bytes a poll: the bench must not grow the RSS it measures
        lock = threading.Lock()
        collectors: list[_Timed] = []
        for i in range(targets):
            base = f"http://127.0.0.1:{ports[i % PORTS]}/t/{i}"
            inner: Any
            if i % 2:
                inner = PrometheusCollector(f"web{i}", base + "/metrics", session,
                                            interval_s=interval_s, timeout_s=2.0)
            else:
                inner = HttpProbe(f"health{i}", base + "/health", session,
                                  interval_s=interval_s, timeout_s=2.0)
            collectors.append(_Timed(inner, lateness, lock))
        store = MetricStore()
        poller = Poller(collectors, store, history)
        for collector in collectors:
            collector.poller = poller
        history.start()
        poller.start()
        began = time.monotonic()
        warm_until = began + warmup_s
        end = warm_until + duration_s
        rss: list[tuple[float, float]] = []
        threads: list[int] = []
        next_report = began + 30
        while (now := time.monotonic()) < end:
            if now >= warm_until:
                if not rss:
                    with lock:
                        del lateness[:]  # the first polls all start at once
                rss.append((now, _rss_mb()))
                threads.append(threading.active_count())
            if progress and now >= next_report:
                print(f"  soak: {now - began:.0f} s, RSS {_rss_mb():.1f} MB, "
                      f"{threading.active_count()} threads", file=sys.stderr, flush=True)
                next_report += 30
            time.sleep(max(0.0, min(1.0, end - time.monotonic())))
        statuses = poller.statuses()
        with lock:
            late = sorted(lateness)
        states: dict[str, int] = {}
        for status in statuses:
            states[str(status.state)] = states.get(str(status.state), 0) + 1
        return SoakResult(
            duration_s=duration_s, targets=targets, polls=len(late),
            failures=sum(1 for s in statuses if s.failures), rss_start_mb=rss[0][1],
            rss_end_mb=rss[-1][1], rss_growth_mb_per_min=_slope_per_min(rss),
            rss_steady_mb_per_min=(_slope_per_min([(t, v) for t, v in rss
                                                   if t >= began + STEADY_AFTER_S])
                                   if warmup_s + duration_s >= STEADY_AFTER_S + 120 else None),
            threads_min=min(threads), threads_max=max(threads),
            lateness_p50_s=percentile(late, 50), lateness_p99_s=percentile(late, 99),
            lateness_max_s=late[-1] if late else float("nan"), states=states)
    finally:
        if poller is not None:
            poller.stop(timeout=10)
        history.stop(timeout=30)
        session.close()
        child.kill()
        child.wait(timeout=10)
        if child.stdout is not None:
            child.stdout.close()
        if own_dir is not None:
            own_dir.cleanup()


def run(quick: bool = False) -> list[Figure]:
    duration = float(os.environ.get("BACKROOM_SOAK_S", "60" if quick else "900"))
    result = soak(duration, progress=True)
    minutes = duration / 60
    return [
        Figure(AREA, f"targets polled at 1 Hz for {minutes:g} min", result.targets, "targets"),
        Figure(AREA, "polls measured", result.polls, "polls",
               target=f"~{result.targets * duration:.0f}",
               met=result.polls >= 0.95 * result.targets * duration),
        Figure(AREA, "RSS after warm-up", result.rss_start_mb, "MB"),
        Figure(AREA, "RSS growth per minute, whole run", result.rss_growth_mb_per_min,
               "MB/min"),
        *([Figure(AREA, f"RSS growth per minute after {STEADY_AFTER_S / 60:g} min",
                  result.rss_steady_mb_per_min, "MB/min", target="< 0.5 MB/min",
                  met=result.rss_steady_mb_per_min < 0.5)]
          if result.rss_steady_mb_per_min is not None else []),
        Figure(AREA, "RSS at the end", result.rss_end_mb, "MB"),
        Figure(AREA, "threads, min", result.threads_min, "threads"),
        Figure(AREA, "threads, max", result.threads_max, "threads",
               target="<= 16 workers + 4", met=result.threads_max <= result.threads_min + 4),
        Figure(AREA, "poll lateness p50", result.lateness_p50_s * 1000, "ms"),
        Figure(AREA, "poll lateness p99", result.lateness_p99_s * 1000, "ms",
               target="< 250 ms", met=result.lateness_p99_s < 0.25),
        Figure(AREA, "poll lateness max", result.lateness_max_s * 1000, "ms"),
        Figure(AREA, "sources failing at the end", result.failures, "sources", target="0",
               met=result.failures == 0),
    ]
