"""A bounded load generator that logs every request it makes: the suite's first ground truth."""

from __future__ import annotations

import concurrent.futures
import contextlib
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import requests

from console.quantiles import sample_quantile


@dataclass(frozen=True, slots=True)
class Sent:
    """One request as the client saw it."""

    url: str
    status: int
    started: float  # wall clock (epoch seconds)
    duration_s: float
    cache: str = ""  # the app's X-Cache header: hit / miss


@dataclass(slots=True)
class LoadLog:
    """Every request of a run, in the order they finished."""

    sent: list[Sent] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, item: Sent) -> None:
        with self.lock:
            self.sent.append(item)

    def where(self, part: str = "") -> list[Sent]:
        with self.lock:
            return [s for s in self.sent if part in s.url]

    def count(self, part: str = "") -> int:
        return len(self.where(part))

    def errors(self, part: str = "") -> int:
        return sum(1 for s in self.where(part) if s.status >= 500)

    def hits(self, part: str = "") -> tuple[int, int]:
        rows = self.where(part)
        return (sum(1 for s in rows if s.cache == "hit"),
                sum(1 for s in rows if s.cache == "miss"))

    def quantile(self, q: float, part: str = "") -> float:
        value = sample_quantile([s.duration_s for s in self.where(part)], q)
        assert value is not None, f"no request to {part!r} in the log"
        return value

    def between(self, start: float, end: float) -> list[Sent]:
        with self.lock:
            return [s for s in self.sent if start <= s.started + s.duration_s <= end]


#: Every request of the whole run, whichever generator sent it.
TRAFFIC = LoadLog()


def _send(session: requests.Session, url: str, log: LoadLog) -> None:
    started, mono = time.time(), time.perf_counter()
    response = session.get(url, timeout=10)
    sent = Sent(url, response.status_code, started, time.perf_counter() - mono,
                response.headers.get("X-Cache", ""))
    log.add(sent)
    TRAFFIC.add(sent)


def run_load(urls: Sequence[str], log: LoadLog | None = None, workers: int = 4) -> LoadLog:
    """Send each URL once (``workers`` at a time) and log every answer."""
    log = log if log is not None else LoadLog()
    local = threading.local()
    sessions: list[requests.Session] = []

    def send(url: str) -> None:
        if not hasattr(local, "session"):
            local.session = requests.Session()
            sessions.append(local.session)
        _send(local.session, url, log)

    try:
        with concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="load") as pool:
            for future in [pool.submit(send, url) for url in urls]:
                future.result()
    finally:
        for session in sessions:
            session.close()
    return log


class SteadyLoad:
    """Cycles through a plan at a fixed pace in a thread until stopped (or ``limit`` sent)."""

    def __init__(self, plan: Sequence[str], per_second: float, limit: int = 20_000) -> None:
        self.plan = list(plan)
        self.pause_s = 1.0 / per_second
        self.limit = limit
        self.log = LoadLog()
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._busy = threading.Semaphore(64)
        self._threads: list[threading.Thread] = []

    def start(self, workers: int = 3) -> None:
        for index in range(workers):
            thread = threading.Thread(target=self._run, args=(index, workers),
                                      name=f"steady-load-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _run(self, index: int, workers: int) -> None:
        with requests.Session() as session:
            step = index
            while not self._stop.is_set() and self.log.count() < self.limit:
                if not self._running.wait(0.2):
                    continue
                # The app may go away at the end of the session.
                with self._busy, contextlib.suppress(requests.RequestException):
                    _send(session, self.plan[step % len(self.plan)], self.log)
                step += workers
                self._stop.wait(self.pause_s * workers)

    def pause(self) -> None:
        """Stop sending and wait for the requests under way to finish."""
        self._running.clear()
        for _ in range(64):
            self._busy.acquire()
        for _ in range(64):
            self._busy.release()

    def resume(self) -> None:
        self._running.set()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=15)
