"""The overview's reads: every profile's sources once, a few profiles at a time, bounded."""

from __future__ import annotations

import concurrent.futures
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import requests

from console import metrics
from console.alert_rules import RuleSpec
from console.overview import (
    ShopRow,
    SourceRead,
    failed_profile,
    summarise_profile,
    worst_first,
)
from console.profile import Profile, ProfileError
from console.shop_history import ShopHistory
from services.collectors import build_collectors
from services.collectors.base import Collector
from services.errors import CollectorError
from services.local.profiles import list_profiles, load_profile

log = logging.getLogger(__name__)

#: How many profiles are read at once (each reads its own sources one after another).
MAX_PARALLEL = 4
#: The most one source read may take; a profile's whole read is bounded by its sources'.
SOURCE_TIMEOUT_S = 5.0
#: Sources the overview does not read: a database's statistics are no cheap summary.
SKIPPED_KINDS = frozenset({"database"})
#: What a Prometheus server is asked for a shop's row: its p95, its errors over its
#: requests, its cache hit rate and queue depth (not p50/p99, consumers, business rates).
SUMMARY_METRICS = frozenset({metrics.LATENCY_P95, metrics.REQUEST_RATE, metrics.ERROR_RATE,
                             metrics.CACHE_HIT_RATE, metrics.QUEUE_DEPTH})


@dataclass(slots=True)
class _Shop:
    """A profile as last read from disk, with its collectors kept between reads (so a
    Prometheus server's plan, its scrape interval and histogram, is learnt once)."""

    stamp: tuple[float, int]
    profile: Profile
    collectors: list[Collector]
    session: requests.Session
    busy: threading.Lock = field(default_factory=threading.Lock)

    def close(self) -> None:
        for collector in self.collectors:
            try:
                collector.close()
            except Exception:  # closing is best effort; the next read builds afresh
                log.debug("closing %s failed", collector.name, exc_info=True)
        self.session.close()


def _stamp(path: Path) -> tuple[float, int]:
    stat = path.stat()
    return stat.st_mtime, stat.st_size


class ShopOverview:
    """Reads the summary of many shops: for each profile one read of each of its sources
    (never its database), ``max_parallel`` profiles at a time, each source read bounded by
    ``timeout_s``, the whole by the sum of a profile's. Every read's rows go into
    ``history`` (the last hour, in memory: what Compare draws of whole shops). Thread-safe;
    :meth:`close` ends it."""

    def __init__(self, *, max_parallel: int = MAX_PARALLEL,
                 timeout_s: float = SOURCE_TIMEOUT_S,
                 clock: Callable[[], float] = time.time,
                 history: ShopHistory | None = None) -> None:
        self.max_parallel = max(1, max_parallel)
        self.timeout_s = timeout_s
        self.history = history or ShopHistory()
        self._clock = clock
        self._lock = threading.Lock()
        self._reading = threading.Lock()  # one read of every shop at a time
        self._last: tuple[float, list[ShopRow]] | None = None  # (monotonic, rows)
        self._shops: dict[str, _Shop] = {}
        self._closed = False

    def read_if_due(self, folder: Path | None, extra: Sequence[tuple[str, Profile]],
                    pace_s: float) -> list[ShopRow]:
        """The rows of the last read when it is younger than ``pace_s`` seconds (the one under
        way, when there is one), else a new read: two views that want every shop at one pace
        share one read."""
        with self._reading:
            last = self._last
            if last is not None and time.monotonic() - last[0] < pace_s:
                return last[1]
            return self._read_locked([str(p.resolve()) for p in list_profiles(folder)], extra)

    def read_folder(self, folder: Path | None = None,
                    extra: Sequence[tuple[str, Profile]] = ()) -> list[ShopRow]:
        """Every profile in the config folder (``folder``, else the user's), plus ``extra``
        (key, profile) pairs such as the open demo shop: their rows, worst first."""
        return self.read([str(p.resolve()) for p in list_profiles(folder)], extra)

    def read(self, paths: Sequence[str], extra: Sequence[tuple[str, Profile]] = ()
             ) -> list[ShopRow]:
        """The rows of the profile files ``paths`` and the ``extra`` profiles, worst first.
        A profile that cannot be loaded, or does not answer in time, is a failing row."""
        with self._reading:
            return self._read_locked(paths, extra)

    def _read_locked(self, paths: Sequence[str], extra: Sequence[tuple[str, Profile]]
                     ) -> list[ShopRow]:
        jobs: list[tuple[str, Callable[[], list[ShopRow]]]] = [
            (path, partial(self._read_path, path)) for path in paths]
        jobs += [(key, partial(self._read_profile, key, profile)) for key, profile in extra]
        if not jobs:
            self._last = (time.monotonic(), [])
            return []
        pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=min(self.max_parallel, len(jobs)), thread_name_prefix="overview")
        rows: list[ShopRow] = []
        try:
            futures = {pool.submit(fn): key for key, fn in jobs}
            # Every profile waits at most its sources' timeouts after the slowest queue slot.
            rounds = -(-len(jobs) // self.max_parallel)
            budget = rounds * (self.timeout_s * 3 + 2.0)
            done, late = concurrent.futures.wait(futures, timeout=budget)
            for future in done:
                try:
                    rows += future.result()
                except Exception as err:  # one shop's fault must not blank the others
                    key = futures[future]
                    log.warning("overview: %s could not be read", key, exc_info=True)
                    rows.append(failed_profile(Path(key).stem or key, key,
                                               f"could not be read: {type(err).__name__}: "
                                               f"{err}"))
            for future in late:
                key = futures[future]
                rows.append(failed_profile(Path(key).stem or key, key,
                                           f"no answer within {budget:.0f} s"))
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        rows = worst_first(rows)
        self.history.add(rows, self._clock())
        self._last = (time.monotonic(), rows)
        return rows

    def _read_path(self, path: str) -> list[ShopRow]:
        try:
            stamp = _stamp(Path(path))
            with self._lock:
                shop = self._shops.get(path)
            if shop is None or shop.stamp != stamp:
                profile = load_profile(path)
                return self._read_profile(path, profile, stamp)
            return self._summarise(path, shop)
        except ProfileError as err:
            return [failed_profile(Path(path).stem, path,
                                   "profile not valid: " + "; ".join(err.problems))]
        except OSError as err:
            return [failed_profile(Path(path).stem, path,
                                   f"cannot read the profile: {err.strerror or err}")]

    def _read_profile(self, key: str, profile: Profile,
                      stamp: tuple[float, int] = (0.0, 0)) -> list[ShopRow]:
        with self._lock:
            if self._closed:
                return [failed_profile(profile.name, key, "the overview was closed")]
            shop = self._shops.get(key)
            if shop is None or shop.stamp != stamp or shop.profile != profile:
                if shop is not None:
                    shop.close()
                shop = self._build(profile, stamp)
                self._shops[key] = shop
        return self._summarise(key, shop)

    def _build(self, profile: Profile, stamp: tuple[float, int]) -> _Shop:
        from services.http.client import new_session

        session = new_session(pool_size=max(2, len(profile.sources) + len(profile.probes)))
        collectors = [c for c in build_collectors(profile, session=session,
                                                  timeout_cap_s=self.timeout_s)
                      if c.kind not in SKIPPED_KINDS]
        for collector in collectors:
            keep_only = getattr(collector, "keep_only", None)  # a Prometheus server's
            if callable(keep_only):
                keep_only(SUMMARY_METRICS)
        return _Shop(stamp, profile, collectors, session)

    def _summarise(self, key: str, shop: _Shop) -> list[ShopRow]:
        profile = shop.profile
        if not shop.busy.acquire(blocking=False):  # the last read has not come back yet
            return [failed_profile(profile.name, key, "still reading from the last refresh")]
        try:
            reads = [_read_source(c) for c in shop.collectors]
        finally:
            shop.busy.release()
        groups = {s.name: tuple(s.group_by) for s in profile.sources}
        reads = [SourceRead(r.source, r.readings, r.error, groups.get(r.source, ()))
                 for r in reads]
        rules = [RuleSpec.from_rule(rule) for rule in profile.alerts]
        if not reads:
            return [failed_profile(profile.name, key, "nothing to read: the profile has no "
                                   "source or probe besides its database")]
        return summarise_profile(profile.name, key, reads, rules, self._clock(),
                                 profile.sources)

    def close(self) -> None:
        """Close every shop's collectors and sessions; a read still under way ends with
        failing rows, and nothing is built after this."""
        with self._lock:
            self._closed = True
            shops, self._shops = list(self._shops.values()), {}
        for shop in shops:
            shop.close()


def _read_source(collector: Collector) -> SourceRead:
    """One read of one source: its readings, or the error words."""
    try:
        report = collector.collect()
    except CollectorError as err:
        return SourceRead(collector.name, error=f"{err.kind}: {err}")
    except Exception as err:  # a reader's bug must not blank every other shop
        log.warning("overview: %s failed: %s", collector.name, err, exc_info=True)
        return SourceRead(collector.name, error=f"error: {type(err).__name__}: {err}")
    return SourceRead(collector.name, tuple(report.readings))
