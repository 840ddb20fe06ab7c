"""DemoShop: one embedded demo back end (server, database, cache, queue, workers, customers)."""

from __future__ import annotations

import contextlib
import logging
import secrets
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

log = logging.getLogger(__name__)


class DemoShop:
    """A real little shop back end on 127.0.0.1, started in background threads.

    Nothing heavy is imported until :meth:`start`, so ``import demo`` stays cheap.
    Several shops may run in one process (each has its own registry, cache and threads).
    """

    def __init__(self, db_path: Path, port: int = 0, traffic: bool = True,
                 traffic_rate: float = 5.0, redis_url: str | None = None,
                 amqp_url: str | None = None, workers: int = 2, token: str | None = None,
                 *, seed_scale: float = 1.0, amqp_queue: str = "demo.jobs",
                 redis_prefix: str | None = None, http_threads: int = 6,
                 traffic_threads: int = 3, rush: bool = True) -> None:
        self.db_path = Path(db_path)
        self.token = token or secrets.token_urlsafe(24)
        self._port = port
        self._traffic_on = traffic
        self._traffic_rate = float(traffic_rate)
        self._redis_url = redis_url
        self._amqp_url = amqp_url
        self._workers = workers
        self._seed_scale = seed_scale
        self._amqp_queue = amqp_queue
        self._redis_prefix = redis_prefix or f"backroom-demo:{secrets.token_hex(4)}:"
        self._http_threads = http_threads
        self._traffic_threads = traffic_threads
        self._rush = rush
        self._lock = threading.Lock()
        self._state = "new"  # new -> running -> stopped
        self._parts: dict[str, Any] = {}
        self._listener: socket.socket | None = None
        self._starter: threading.Thread | None = None
        self.seeded: dict[str, int] = {}

    # -- what callers read ---------------------------------------------------------------
    @property
    def port(self) -> int:
        server = self._parts.get("server")
        if server is not None:
            return int(server.port)
        if self._listener is not None:
            return int(self._listener.getsockname()[1])
        raise RuntimeError("the demo shop is not started")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def metrics_url(self) -> str:
        return f"{self.base_url}/metrics"

    @property
    def running(self) -> bool:
        return self._state == "running"

    @property
    def scenario(self) -> dict[str, Any]:
        return dict(self._parts["ctx"].scenario.as_dict())

    # -- lifecycle -----------------------------------------------------------------------
    def reserve(self) -> DemoShop:
        """Bind the shop's port now and start later: its URL is known before anything heavy is
        imported, and requests made meanwhile wait in the listen queue until it serves."""
        with self._lock:
            if self._state != "new":
                raise RuntimeError(f"a demo shop can be reserved before it starts (it is "
                                   f"{self._state})")
            if self._listener is None:
                self._listener = socket.create_server(("127.0.0.1", self._port), backlog=128)
        return self

    def start_in_background(self, done: Callable[[BaseException | None], None] | None = None
                            ) -> None:
        """:meth:`start` on a thread of its own ("demo-start"); ``done`` is called on that
        thread with None once the shop serves, or with the error. :meth:`stop` waits for it."""

        def run() -> None:
            error: BaseException | None = None
            try:
                self.start()
            except BaseException as exc:  # reported to done(); the shop is stopped again
                error = exc
                refused_after_stop = isinstance(exc, RuntimeError) and self._state == "stopped"
                if not refused_after_stop:
                    log.error("the demo shop could not start: %s", exc)
            if done is not None:
                done(error)

        self._starter = threading.Thread(target=run, name="demo-start", daemon=True)
        self._starter.start()

    def start(self) -> DemoShop:
        """Seed if needed, bind, start server, workers and traffic; return when serving."""
        with self._lock:
            if self._state != "new":
                raise RuntimeError(f"a demo shop can be started once (it is {self._state})")
            self._state = "running"
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        from demo.app import create_app
        from demo.cache import MemoryStore, ReadThroughCache, RedisStore
        from demo.context import ShopContext
        from demo.db import Database, metadata
        from demo.jobs import AmqpQueue, JobQueue, JobRunner, MemoryQueue, WorkerPool
        from demo.metrics import ShopMetrics
        from demo.scans import FullScanCounter, count_rows
        from demo.scenario import EventLog, Scenario
        from demo.seed import seed_or_top_up
        from demo.server import WsgiServer

        parts = self._parts
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        db = parts["db"] = Database(self.db_path)
        self.seeded = seed_or_top_up(db, self._seed_scale)
        db.set_booking_time_index(True)

        metrics = ShopMetrics()
        # the bookings count from zero at once (the index switch is about them: their rate
        # needs a before); other tables show once first read whole
        parts["scans"] = FullScanCounter(db.engine, metrics.full_scans, ["bookings"])
        count_rows(self.db_path, [table.name for table in metadata.sorted_tables],
                   metrics.table_rows)
        scenario = Scenario(workers=self._workers, traffic_rate=self._traffic_rate)
        store: Any
        if self._redis_url:
            store = RedisStore(self._redis_url, self._redis_prefix)
            store.entries()  # fail now, clearly, if Redis is not there
        else:
            store = MemoryStore()
        parts["store"] = store
        cache = ReadThroughCache(store, metrics, lambda: scenario.cache)
        jobs: JobQueue
        if self._amqp_url:
            jobs = AmqpQueue(self._amqp_url, self._amqp_queue)
        else:
            jobs = MemoryQueue(self._amqp_queue)
        parts["jobs"] = jobs
        pool = parts["pool"] = WorkerPool(jobs, JobRunner(db, secrets.token_bytes(32)), metrics)
        metrics.queue_depth.labels(queue=jobs.name).set_function(jobs.depth)
        metrics.scenario_cache.set_function(lambda: float(scenario.cache))
        metrics.scenario_index.set_function(lambda: float(scenario.booking_time_index))
        events = EventLog()
        ctx = parts["ctx"] = ShopContext(
            db=db, metrics=metrics, cache=cache, jobs=jobs, scenario=scenario, events=events,
            token=self.token, change_scenario=self._apply, workers=lambda: pool.size,
            started_monotonic=time.monotonic())
        server = parts["server"] = WsgiServer(create_app(ctx), port=self._port,
                                              sock=self._listener,
                                              threads=self._http_threads)
        pool.resize(self._workers)
        server.start()
        self._wait_serving()
        if self._traffic_on:
            self._start_traffic()
        events.add("demo started")

    def _wait_serving(self, timeout: float = 10.0) -> None:
        import urllib.request

        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(self.base_url + "/health", timeout=2.0) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.02)

    def _start_traffic(self) -> None:
        from demo.traffic import TrafficGenerator

        scenario = self._parts["ctx"].scenario
        traffic = TrafficGenerator(self.base_url, self.token, lambda: scenario.traffic_rate,
                                   threads=self._traffic_threads, rush=self._rush)
        self._parts["traffic"] = traffic
        traffic.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop traffic, server, workers and connections; join every thread. Idempotent."""
        deadline = time.monotonic() + timeout
        with self._lock:
            if self._state == "stopped":
                return
            starter = self._starter
            starting = (self._state == "running" and starter is not None
                        and starter is not threading.current_thread())
            if not starting:
                self._state = "stopped"
        if starting and starter is not None:
            # A start under way on its own thread: let it finish, then take it all down.
            starter.join(max(0.5, deadline - time.monotonic()))
            with self._lock:
                self._state = "stopped"
        if self._listener is not None and "server" not in self._parts:
            self._listener.close()  # reserved, never served
        parts = self._parts

        def left() -> float:
            return max(0.5, deadline - time.monotonic())

        ctx = parts.get("ctx")
        if ctx is not None:
            ctx.stopping.set()
        failed: list[BaseException] = []

        def each(name: str, stop: Callable[[], object]) -> None:
            # One part that fails to stop must not leave the others running.
            try:
                stop()
            except Exception as err:
                log.exception("demo shop: stopping its %s failed", name)
                failed.append(err)

        if "traffic" in parts:
            each("customers", lambda: parts["traffic"].stop(left()))
        if "server" in parts:
            each("HTTP server", lambda: parts["server"].stop(left()))
        if "pool" in parts:
            each("workers", lambda: parts["pool"].stop(left()))
        if "jobs" in parts:
            each("job queue", parts["jobs"].close)
        store = parts.get("store")
        if store is not None:
            if hasattr(store, "clear"):
                with contextlib.suppress(Exception):
                    store.clear()
            each("cache", store.close)
        if "db" in parts:
            each("database", parts["db"].dispose)
        if failed:
            raise failed[0]

    def __enter__(self) -> DemoShop:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # -- live switches ---------------------------------------------------------------------
    def set_scenario(self, **changes: Any) -> dict[str, Any]:
        """Change scenario switches from Python (same rules as ``POST /admin/scenario``)."""
        from demo.scenario import validate_scenario

        valid, errors = validate_scenario(changes)
        if errors:
            raise ValueError("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self._apply(valid)
        return self.scenario

    def _apply(self, changes: dict[str, Any]) -> None:
        ctx = self._parts["ctx"]
        scenario, events = ctx.scenario, ctx.events
        with ctx.scenario_lock:
            if "cache" in changes and changes["cache"] != scenario.cache:
                scenario.cache = changes["cache"]
                events.add(f"cache {'on' if scenario.cache else 'off'}")
            if "booking_time_index" in changes:
                want = changes["booking_time_index"]
                if self._parts["db"].set_booking_time_index(want):
                    self._parts["scans"].forget()
                    events.add(f"index ix_bookings_start_at {'created' if want else 'dropped'}")
                scenario.booking_time_index = want
            if "workers" in changes and changes["workers"] != scenario.workers:
                before = scenario.workers
                self._parts["pool"].resize(changes["workers"])
                scenario.workers = changes["workers"]
                events.add(f"workers {before} -> {scenario.workers}")
            slow = (changes.get("slow_endpoint", scenario.slow_endpoint),
                    changes.get("slow_ms", scenario.slow_ms))
            if slow != (scenario.slow_endpoint, scenario.slow_ms):
                scenario.slow_endpoint, scenario.slow_ms = slow
                if scenario.slow_endpoint and scenario.slow_ms:
                    events.add(f"slow endpoint {scenario.slow_endpoint} +{scenario.slow_ms} ms")
                else:
                    events.add("slow endpoint off")
            if "error_ratio" in changes and changes["error_ratio"] != scenario.error_ratio:
                scenario.error_ratio = changes["error_ratio"]
                events.add(f"back-end errors {scenario.error_ratio:.0%}" if scenario.error_ratio
                           else "back-end errors off")
            if "traffic_rate" in changes and changes["traffic_rate"] != scenario.traffic_rate:
                before_rate = scenario.traffic_rate
                scenario.traffic_rate = changes["traffic_rate"]
                events.add(f"traffic rate {before_rate:g} -> {scenario.traffic_rate:g}/s")
                if scenario.traffic_rate > 0 and "traffic" not in self._parts \
                        and self._state == "running":
                    self._start_traffic()
