"""Celery, inside: workers by broadcast ping/inspect, their tasks, task rates from events, purge."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import redis
import redis.exceptions

from console.redaction import mask_url
from services.collectors.celery_redis import ANY_STEP, DOCS_SEP, KOMBU_SEP, queue_keys
from services.collectors.rabbitmq import amqp_source, amqp_url_for
from services.collectors.redis_source import redis_client, redis_error
from services.local.secrets import resolve_secret

#: What the console says when Celery itself is not installed (purge and depth need only kombu).
CELERY_MISSING = ("Celery is not installed beside the console, so its workers cannot be asked "
                  "(ping, inspect, events). Install the optional extra: "
                  "pip install 'backroom[celery]' (Celery 5.3 or newer).")
ENABLE_EVENTS = ("Task events are off on {workers}: tasks ran there in the window and no "
                 "event came. Turn them on without a restart with "
                 "`celery -A <your app> control enable_events` (off again with "
                 "`disable_events`), or start the workers with -E; then watch again.")
#: Seconds a broadcast waits for replies when the source's timeout is longer.
INSPECT_WAIT_S = 1.0
#: Arguments of a task beyond this many characters are cut.
ARGS_CHARS = 160
#: Event kinds counted per task name.
COUNTED = ("task-received", "task-started", "task-succeeded", "task-failed", "task-retried")


class CeleryMissing(RuntimeError):
    """Celery is not importable: the view says :data:`CELERY_MISSING`."""


@dataclass(frozen=True, slots=True)
class Broker:
    """Where a Celery source's broker is and how kombu should talk to it."""

    source: str
    kind: str  # "redis" or "amqp"
    url: str
    transport_options: dict[str, Any]
    queues: tuple[str, ...]
    timeout_s: float
    key_prefix: str = ""
    seps: tuple[str, ...] = (KOMBU_SEP, DOCS_SEP)
    steps: tuple[int, ...] = ANY_STEP

    @property
    def where(self) -> str:
        return mask_url(self.url)


def broker_of(source: Any, password: str | None) -> Broker:
    """The broker of a ``celery-redis`` or ``rabbitmq`` profile source."""
    queues = tuple(source.queues) or ("celery",)
    if source.kind == "celery-redis":
        url = source.url
        if password is not None and "@" not in url.split("//", 1)[-1].split("/", 1)[0]:
            url = url.replace("//", f"//:{quote(password, safe='')}@", 1)
        options: dict[str, Any] = {"socket_timeout": source.timeout_s,
                                   "socket_connect_timeout": source.timeout_s,
                                   "max_retries": 0}
        if source.key_prefix:
            options["global_keyprefix"] = source.key_prefix
        if source.priority_sep is not None:
            options["sep"] = source.priority_sep
        if source.priority_steps:
            options["priority_steps"] = list(source.priority_steps)
        return Broker(source.name, "redis", url, options, queues, source.timeout_s,
                      source.key_prefix or "",
                      (source.priority_sep,) if source.priority_sep is not None
                      else (KOMBU_SEP, DOCS_SEP),
                      tuple(source.priority_steps) or ANY_STEP)
    if source.kind == "rabbitmq":
        if source.url.startswith(("http://", "https://")):
            url = amqp_url_for(source.url, source.user or "guest", password or "guest",
                               source.vhost)
        else:
            url = amqp_source(source.url, source.user, password, source.vhost).amqp_url
        return Broker(source.name, "amqp", url, {"max_retries": 0}, queues, source.timeout_s)
    raise ValueError(f"{source.name} is a {source.kind} source, not a Celery broker")


def celery_sources(profile: Any) -> list[Any]:
    return [s for s in getattr(profile, "sources", ()) if s.kind in ("celery-redis", "rabbitmq")]


def celery_app(broker: Broker) -> Any:
    """A Celery app of the console's own on the shop's broker (never the current app), whose
    connections give up after the source's timeout."""
    try:
        from celery import Celery
    except ImportError as err:
        raise CeleryMissing(CELERY_MISSING) from err
    app = Celery("backroom-inside", broker=broker.url, set_as_current=False)
    app.conf.broker_transport_options = dict(broker.transport_options)
    app.conf.broker_connection_timeout = broker.timeout_s
    app.conf.broker_connection_retry = False
    app.conf.broker_connection_max_retries = 0
    app.conf.broker_pool_limit = 2
    return app


# -- workers and their tasks ----------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class TaskInfo:
    """A task a worker holds: running now (active) or prefetched, waiting (reserved)."""

    worker: str
    state: str  # "active" or "reserved"
    id: str
    name: str
    args: str
    started: float | None
    queue: str


@dataclass(frozen=True, slots=True)
class WorkerInfo:
    name: str
    pool: str = ""
    concurrency: int | None = None
    processed: int | None = None  # tasks done since the worker started, by name summed
    queues: tuple[str, ...] = ()
    active: int = 0
    reserved: int = 0


@dataclass(frozen=True, slots=True)
class CeleryInside:
    """What the workers on one broker answered within ``waited_s``."""

    source: str
    where: str
    workers: tuple[WorkerInfo, ...] = ()
    tasks: tuple[TaskInfo, ...] = ()
    queues: tuple[str, ...] = ()  # the profile's, then those the workers consume
    waited_s: float = 0.0
    problems: tuple[str, ...] = ()


def _text(value: Any, limit: int = ARGS_CHARS) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _arguments(args: Any, kwargs: Any) -> str:
    """A task's arguments as Python would write the call's inside: ``3, 'x', retry=True``."""
    shown = [repr(a) for a in args] if isinstance(args, list | tuple) else \
        ([] if args in (None, "", "()", "[]") else [str(args)])
    if isinstance(kwargs, dict):
        shown += [f"{k}={v!r}" for k, v in kwargs.items()]
    elif kwargs not in (None, "", "{}"):
        shown.append(str(kwargs))
    return ", ".join(shown)


def _tasks(worker: str, state: str, items: Iterable[Any]) -> list[TaskInfo]:
    found = []
    for item in items or ():
        if not isinstance(item, dict):
            continue
        request = item.get("request", item)  # reserved/scheduled wrap the request
        started = request.get("time_start")
        queue = (request.get("delivery_info") or {}).get("routing_key") or ""
        found.append(TaskInfo(worker, state, _text(request.get("id", ""), 64),
                              _text(request.get("name") or request.get("type") or "?", 120),
                              _text(_arguments(request.get("args"), request.get("kwargs"))),
                              float(started) if isinstance(started, int | float) else None,
                              _text(queue, 120)))
    return found


def read_workers(broker: Broker, *, app: Any = None) -> CeleryInside:
    """A broadcast ``ping`` waiting ``min(timeout, INSPECT_WAIT_S)`` s for every worker;
    then ``stats``, ``active_queues``, ``active`` and ``reserved`` of those that answered,
    each ending as soon as all of them replied."""
    app = app or celery_app(broker)
    wait_s = min(broker.timeout_s, INSPECT_WAIT_S)
    started = time.monotonic()
    problems: list[str] = []
    try:
        pings = app.control.inspect(timeout=wait_s).ping() or {}
        names = sorted(pings)
        replies: dict[str, dict[str, Any]] = {}
        if names:
            asked = app.control.inspect(destination=names, timeout=max(wait_s, 2.0),
                                        limit=len(names))
            for what in ("stats", "active_queues", "active", "reserved"):
                answer = getattr(asked, what)() or {}
                replies[what] = answer
                missing = [n for n in names if n not in answer]
                if missing:
                    problems.append(f"{', '.join(missing)} did not answer {what} in time")
    finally:
        app.close()
    workers, tasks, queues = [], [], list(broker.queues)
    for name in names:
        stats = replies.get("stats", {}).get(name) or {}
        pool = stats.get("pool") or {}
        consumed = tuple(str(q.get("name", "")) for q in
                         replies.get("active_queues", {}).get(name) or () if isinstance(q, dict))
        queues += [q for q in consumed if q and q not in queues]
        active = _tasks(name, "active", replies.get("active", {}).get(name) or ())
        reserved = _tasks(name, "reserved", replies.get("reserved", {}).get(name) or ())
        tasks += active + reserved
        total = stats.get("total")
        workers.append(WorkerInfo(
            name, str(pool.get("implementation", "")).rsplit(":", 1)[-1],
            pool.get("max-concurrency") if isinstance(pool.get("max-concurrency"), int)
            else None,
            sum(v for v in total.values() if isinstance(v, int))
            if isinstance(total, dict) else None,
            consumed, len(active), len(reserved)))
    return CeleryInside(broker.source, broker.where, tuple(workers), tuple(tasks),
                        tuple(queues), time.monotonic() - started, tuple(problems))


# -- task rates from events ---------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class TaskRate:
    """Events of one task name over the window, and what they make per minute."""

    name: str
    received: int = 0
    succeeded: int = 0
    failed: int = 0
    retried: int = 0
    runtime_s: float = 0.0  # summed over the succeeded ones
    window_s: float = 1.0

    @property
    def done_per_minute(self) -> float:
        return (self.succeeded + self.failed) * 60.0 / self.window_s

    @property
    def mean_runtime_s(self) -> float | None:
        return self.runtime_s / self.succeeded if self.succeeded else None


@dataclass(frozen=True, slots=True)
class EventWindow:
    """What Celery's task events said in ``window_s`` seconds. ``silent_workers`` ran tasks
    in the window (their ``processed`` count went up) yet sent no task event: their task
    events are off, and ``advice`` says how to turn them on."""

    window_s: float
    events: int
    heard_from: tuple[str, ...]  # workers that sent task events
    rates: tuple[TaskRate, ...]
    silent_workers: tuple[str, ...] = ()
    processed: int = 0  # tasks the asked workers finished in the window, events or not
    advice: str = ""


UNKNOWN_NAME = "(received before the window)"
IDLE_ADVICE = ("No task ran in the window, so there is nothing to rate: watch again while the "
               "shop is busy. If rates stay empty then, task events are off "
               "(`celery -A <your app> control enable_events`).")


def _processed(app: Any, workers: list[str], wait_s: float) -> dict[str, int]:
    """Tasks each worker finished since it started (``inspect stats``), those that answer."""
    if not workers:
        return {}
    replies = app.control.inspect(destination=workers, timeout=wait_s,
                                  limit=len(workers)).stats() or {}
    done = {}
    for name, stats in replies.items():
        total = stats.get("total") if isinstance(stats, dict) else None
        if isinstance(total, dict):
            done[name] = sum(v for v in total.values() if isinstance(v, int))
    return done


def watch_events(broker: Broker, seconds: float, *, workers: Iterable[str] = (),
                 known: dict[str, str] | None = None,
                 cancelled: Callable[[], bool] = lambda: False,
                 clock: Callable[[], float] = time.monotonic, app: Any = None) -> EventWindow:
    """Listen to the broker's event exchange for ``seconds`` (a wall-clock bound, however
    many events come; cancel is seen within a second) and count task events by task name.
    ``workers`` (from :func:`read_workers`) are asked how many tasks they finished before
    and after, so a worker that ran tasks without sending events is named. ``known`` maps
    task ids to names for tasks received before the window."""
    app = app or celery_app(broker)
    asked = sorted(workers)
    wait_s = max(min(broker.timeout_s, INSPECT_WAIT_S), 1.0)
    names = dict(known or {})
    counts: dict[str, dict[str, float]] = {}
    heard: set[str] = set()
    total = 0

    def on_event(event: dict[str, Any]) -> None:
        nonlocal total
        kind = str(event.get("type", ""))
        if kind not in COUNTED:
            return
        total += 1
        if event.get("hostname"):
            heard.add(str(event["hostname"]))
        task_id = str(event.get("uuid", ""))
        if event.get("name"):
            names[task_id] = str(event["name"])
        row = counts.setdefault(names.get(task_id, UNKNOWN_NAME), {})
        row[kind] = row.get(kind, 0) + 1
        if kind == "task-succeeded" and isinstance(event.get("runtime"), int | float):
            row["runtime"] = row.get("runtime", 0.0) + float(event["runtime"])

    try:
        before = _processed(app, asked, wait_s)
        start = clock()
        deadline = start + seconds
        with app.connection_for_read() as connection:
            receiver = app.events.Receiver(connection, handlers={"*": on_event})

            def stop_when_due() -> None:
                receiver.should_stop = clock() >= deadline or cancelled()

            receiver.on_iteration = stop_when_due
            try:
                for _ in receiver.itercapture(limit=None, timeout=seconds, wakeup=False):
                    if clock() >= deadline or cancelled():
                        break
            except TimeoutError:  # socket.timeout: the window passed without an event
                pass
        window = max(clock() - start, 1e-3)
        after = _processed(app, asked, wait_s) if not cancelled() else {}
    finally:
        app.close()
    ran = {name: after[name] - before[name] for name in after if name in before}
    rates = [TaskRate(name, int(row.get("task-received", 0)),
                      int(row.get("task-succeeded", 0)), int(row.get("task-failed", 0)),
                      int(row.get("task-retried", 0)), float(row.get("runtime", 0.0)), window)
             for name, row in counts.items()]
    rates.sort(key=lambda r: (-(r.succeeded + r.failed), -r.received, r.name))
    silent = tuple(sorted(name for name, n in ran.items() if n > 0 and name not in heard))
    advice = ENABLE_EVENTS.format(workers=", ".join(silent)) if silent else ""
    if not silent and not counts:
        advice = IDLE_ADVICE
    return EventWindow(window, total, tuple(sorted(heard)), tuple(rates), silent,
                       sum(max(0, n) for n in ran.values()), advice)


# -- a queue's depth, and its purge --------------------------------------------------------

@dataclass(frozen=True, slots=True)
class QueueDepth:
    queue: str
    depth: int
    lists: tuple[str, ...] = ()  # on Redis: the lists that hold it (priorities included)


def _redis_lists(client: redis.Redis, broker: Broker, queue: str) -> list[str]:
    keys = queue_keys(queue, broker.steps, broker.key_prefix, broker.seps)
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.type(key)
    kinds = pipe.execute()
    return [k for k, kind in zip(keys, kinds, strict=True) if kind in (b"list", "list")]


def queue_depth(broker: Broker, queue: str) -> QueueDepth:
    """Tasks waiting in ``queue``: on Redis the LLEN of every list kombu can keep it in (each
    priority, the source's key prefix and separators); on RabbitMQ the ready messages a
    passive declare reports (those a worker holds unacknowledged cannot be purged)."""
    if broker.kind == "redis":
        client = redis_client(broker.url, broker.timeout_s)
        try:
            lists = _redis_lists(client, broker, queue)
            pipe = client.pipeline(transaction=False)
            for key in lists:
                pipe.llen(key)
            return QueueDepth(queue, sum(int(n) for n in pipe.execute()), tuple(lists))
        except redis.exceptions.RedisError as err:
            raise redis_error(err, broker.url, broker.timeout_s) from err
        finally:
            client.close()
    with _amqp_channel(broker) as channel:
        ok = channel.queue_declare(queue=queue, passive=True)
        return QueueDepth(queue, int(ok.message_count))


def purge_queue(broker: Broker, queue: str) -> int:
    """Delete every task waiting in ``queue``; the number deleted. On Redis the lists are
    counted and deleted in one MULTI, so the number is exact."""
    if broker.kind == "redis":
        client = redis_client(broker.url, broker.timeout_s)
        try:
            lists = _redis_lists(client, broker, queue)
            if not lists:
                return 0
            pipe = client.pipeline(transaction=True)
            for key in lists:
                pipe.llen(key)
            pipe.delete(*lists)
            return sum(int(n) for n in pipe.execute()[:-1])
        except redis.exceptions.RedisError as err:
            raise redis_error(err, broker.url, broker.timeout_s) from err
        finally:
            client.close()
    with _amqp_channel(broker) as channel:
        channel.queue_declare(queue=queue, passive=True)  # a missing queue is an error
        return int(channel.queue_purge(queue=queue) or 0)


class _amqp_channel:  # noqa: N801 - used as a context manager
    """A kombu channel to the broker, connected within the source's timeout, closed after."""

    def __init__(self, broker: Broker) -> None:
        from kombu import Connection

        self._connection = Connection(broker.url, connect_timeout=broker.timeout_s,
                                      transport_options={"max_retries": 0})

    def __enter__(self) -> Any:
        self._connection.ensure_connection(max_retries=1, timeout=self._connection.connect_timeout)
        return self._connection.default_channel

    def __exit__(self, *exc: object) -> None:
        self._connection.release()


# -- every Celery source of a profile ------------------------------------------------------

@dataclass(frozen=True, slots=True)
class CeleryReadings:
    sources: tuple[tuple[Broker, CeleryInside], ...] = ()
    problems: tuple[str, ...] = field(default_factory=tuple)


def brokers_of(profile: Any, resolve: Callable[[Any], str] = resolve_secret
               ) -> tuple[list[Broker], list[str]]:
    """The brokers of the profile's Celery sources; a source whose secret or URL is wrong is
    a problem line."""
    found, problems = [], []
    for source in celery_sources(profile):
        try:
            password = resolve(source.password) if source.password is not None else None
            found.append(broker_of(source, password))
        except Exception as err:  # a SecretError or a URL the profile check let through
            problems.append(f"{source.name}: {err}")
    return found, problems


def read_profile_celery(profile: Any, *, cancelled: Callable[[], bool] = lambda: False,
                        resolve: Callable[[Any], str] = resolve_secret) -> CeleryReadings:
    """:func:`read_workers` of every Celery source of the profile."""
    brokers, problems = brokers_of(profile, resolve)
    found = []
    for broker in brokers:
        if cancelled():
            break
        try:
            found.append((broker, read_workers(broker)))
        except CeleryMissing:
            raise
        except Exception as err:  # kombu and amqp raise their own (OSError, AccessRefused…)
            problems.append(f"{broker.source}: the workers could not be asked at "
                            f"{broker.where}: {type(err).__name__}: {err}")
    return CeleryReadings(tuple(found), tuple(problems))


class CeleryTools:
    """What the Diagnostics page's Celery view calls; the composition root hands it in."""

    def sources(self, profile: Any) -> list[Any]:
        return celery_sources(profile)

    def brokers(self, profile: Any) -> tuple[list[Broker], list[str]]:
        return brokers_of(profile)

    def read(self, profile: Any, *, cancelled: Callable[[], bool]) -> CeleryReadings:
        return read_profile_celery(profile, cancelled=cancelled)

    def watch_events(self, broker: Broker, seconds: float, *, workers: Iterable[str],
                     known: dict[str, str], cancelled: Callable[[], bool]) -> EventWindow:
        return watch_events(broker, seconds, workers=workers, known=known, cancelled=cancelled)

    def queue_depth(self, broker: Broker, queue: str) -> int:
        return queue_depth(broker, queue).depth

    def purge(self, broker: Broker, queue: str) -> int:
        return purge_queue(broker, queue)

    def empty(self) -> CeleryReadings:
        return CeleryReadings()

    def says_it_all(self, exc: BaseException) -> bool:
        """The error is a whole sentence for the user (Celery is not installed, and how)."""
        return isinstance(exc, CeleryMissing)
