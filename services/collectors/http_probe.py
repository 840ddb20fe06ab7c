"""HTTP probes: one timed request per collect, up/status, and latency quantiles over a window."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime

import requests

from console import metrics
from console.domain import CollectorReport, Reading, Status, series_name
from console.quantiles import sample_quantile
from console.redaction import mask_url
from services.http.client import MIB, fetch, verify_option

#: At most this many requests are kept for the quantiles, however short the interval.
MAX_WINDOW_REQUESTS = 1000


def expand_url(url: str, now: datetime | None = None) -> str:
    """Fill ``{today}`` with today's UTC date (YYYY-MM-DD)."""
    if "{today}" not in url:
        return url
    day = (now or datetime.now(UTC)).date().isoformat()
    return url.replace("{today}", day)


class HttpProbe:
    """Times ``GET url`` end to end (connect, headers, body up to ``max_bytes``).

    Each :meth:`collect` makes one request and reports ``up``, ``status_code`` and the
    single ``latency``, plus ``latency_p50/p95/p99`` over the requests of the last
    ``window_s`` seconds (default: one interval, as a Prometheus source's quantiles are over
    the interval between two scrapes), so a fix shows within one interval.
    """

    kind = "http"

    def __init__(self, name: str, url: str, session: requests.Session, *,
                 interval_s: float = 5.0, timeout_s: float = 5.0,
                 expect_status: tuple[int, ...] = (), verify_tls: bool = True,
                 ca_bundle: str | None = None, token: str | None = None,
                 window_s: float | None = None, max_bytes: int = MIB,
                 clock: Callable[[], float] = time.time,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self.url = url
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self.expect_status = expect_status
        self._session = session
        self._verify = verify_option(verify_tls, ca_bundle)
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._max_bytes = max_bytes
        self._clock = clock
        self._monotonic = monotonic
        self.window_s = interval_s if window_s is None else window_s
        self._latencies: deque[tuple[float, float]] = deque(maxlen=MAX_WINDOW_REQUESTS)

    @property
    def recent_latencies(self) -> tuple[float, ...]:
        """The latencies (seconds) of the requests in the current window, oldest first."""
        return tuple(latency for _mono, latency in self._latencies)

    def _keep_window(self) -> None:
        """Drop requests older than the window; the newest one always stays."""
        start = self._monotonic() - self.window_s
        while len(self._latencies) > 1 and self._latencies[0][0] <= start:
            self._latencies.popleft()

    def _expected(self, status: int) -> bool:
        if self.expect_status:
            return status in self.expect_status
        return 200 <= status < 400

    def collect(self) -> CollectorReport:
        url = expand_url(self.url)
        fetched = fetch(self._session, url, timeout_s=self.timeout_s, verify=self._verify,
                        headers=self._headers, max_bytes=self._max_bytes)
        ts = self._clock()
        self._latencies.append((self._monotonic(), fetched.elapsed_s))
        self._keep_window()
        ok = self._expected(fetched.status)

        def reading(metric: str, value: float) -> Reading:
            return Reading(series_name(self.name, metric), ts, value)

        readings = [
            reading(metrics.UP, 1.0 if ok else 0.0),
            reading(metrics.STATUS_CODE, float(fetched.status)),
            reading(metrics.LATENCY, fetched.elapsed_s),
        ]
        window = list(self.recent_latencies)
        for metric, q in metrics.LATENCY_QUANTILES:
            value = sample_quantile(window, q)
            if value is not None:
                readings.append(reading(metric, value))
        size = f"{len(fetched.body) / 1024:.1f} kB" + (" (capped)" if fetched.truncated else "")
        detail = f"HTTP {fetched.status} in {fetched.elapsed_s * 1000:.1f} ms, {size}"
        if not ok:
            wanted = ", ".join(map(str, self.expect_status)) or "2xx/3xx"
            detail += f"; expected {wanted} from {mask_url(url)}"
        return CollectorReport(readings=tuple(readings), detail=detail,
                               status=Status.OK if ok else Status.FAIL)

    def close(self) -> None:
        """The session is shared and closed by whoever made it."""
