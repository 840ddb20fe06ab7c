"""Celery on a Redis broker: tasks waiting per queue (every priority list), and live workers."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import redis
import redis.exceptions

from console import metrics
from console.domain import CollectorReport, Reading, series_name
from console.own_cost import count_request
from services.collectors._cache import OwnLookups
from services.collectors.redis_source import redis_error

log = logging.getLogger(__name__)

#: kombu's Redis transport keeps priority n of queue q in the list "q" + sep + "n"; its default
#: separator and priority steps, and the separator of the Celery docs' priority setup
#: (``broker_transport_options={'sep': ':', 'priority_steps': list(range(10))}``).
KOMBU_SEP = "\x06\x16"
DOCS_SEP = ":"
KOMBU_STEPS = (0, 3, 6, 9)
#: The steps looked at when the profile names none: every priority Celery can give (0..9).
ANY_STEP = tuple(range(10))
DEFAULT_QUEUES = ("celery",)
#: kombu keeps the bindings of exchange e in the set "<global_keyprefix>_kombu.binding.e".
BINDING_MARK = "_kombu.binding."
#: Binding sets read a collect to learn the separator the workers use (their members are
#: routing_key + sep + pattern + sep + queue): the ping's reply is bound with it.
BINDINGS_READ_PER_COLLECT = 5
#: The keyspace is searched with SCAN (never KEYS): this many keys a call, this many calls a
#: collect; a large database is gone through over several collects.
SCAN_COUNT = 1000
SCAN_CALLS_PER_COLLECT = 10
CONTROL_EXCHANGE = "celery"


def queue_keys(queue: str, steps: Iterable[int] = KOMBU_STEPS, prefix: str = "",
               seps: Iterable[str] = (KOMBU_SEP,)) -> list[str]:
    """The Redis lists that can hold ``queue``: the queue itself and one per non-zero priority
    step and separator (kombu's ``_q_for_pri``), each with the global key prefix."""
    keys = [prefix + queue]
    for sep in seps:
        keys += [f"{prefix}{queue}{sep}{step}" for step in steps if step]
    return list(dict.fromkeys(keys))


@dataclass(slots=True)
class _Found:
    """What SCAN has shown of the broker's keys so far."""

    prefixes: set[str] = field(default_factory=set)
    lists: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    bindings: set[str] = field(default_factory=set)
    bindings_read: set[str] = field(default_factory=set)
    seps: set[str] = field(default_factory=set)
    cursor: int = 0
    scan_refused: bool = False


class CeleryRedisCollector:
    """LLEN of every list a queue can use, in one pipeline round trip.

    The lists are those of kombu's naming with the profile's options (``global_keyprefix``,
    ``sep``, ``priority_steps``); without options, those of kombu's default and of the Celery
    docs' priority setup, under every key prefix that kombu's binding keys show, plus any other
    priority list SCAN finds. The console's own LLENs are recorded in ``own_lookups`` so the
    Redis hit rate can leave them out.
    """

    kind = "celery-redis"

    def __init__(self, name: str, client: redis.Redis, queues: tuple[str, ...] = (), *,
                 url: str = "", interval_s: float = 10.0, timeout_s: float = 5.0,
                 key_prefix: str | None = None, sep: str | None = None,
                 priority_steps: tuple[int, ...] = (), password: str | None = None,
                 own_lookups: OwnLookups | None = None,
                 ping: Callable[[], int] | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.name = name
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self.queues = queues or DEFAULT_QUEUES
        self._client = client
        self._url = url
        self._prefix = key_prefix
        self._sep = sep
        self._seps = (sep,) if sep is not None else (KOMBU_SEP, DOCS_SEP)
        self._steps = priority_steps or ANY_STEP
        self._own = own_lookups or OwnLookups()
        self._ping = ping if ping is not None else self._kombu_ping
        self._password = password
        self._clock = clock
        self._found = _Found()
        self._priority_list = re.compile(
            "(?P<prefix>.*?)(?P<queue>" + "|".join(re.escape(q) for q in self.queues)
            + ")(?:" + "|".join(re.escape(s) for s in self._seps) + r")\d{1,3}\Z", re.DOTALL)

    # -- discovery -------------------------------------------------------------------------
    def _scan(self) -> None:
        """Go on with the SCAN of the database: binding keys give the key prefixes in use,
        and lists named like a watched queue's priority list are counted from now on."""
        found = self._found
        if found.scan_refused:
            return
        for _ in range(SCAN_CALLS_PER_COLLECT):
            try:
                count_request()
                cursor, keys = self._client.scan(cursor=found.cursor, count=SCAN_COUNT)
            except redis.exceptions.ResponseError as err:  # SCAN renamed or not allowed
                log.info("%s: no SCAN (%s); the profile's options and kombu's defaults are "
                         "read", self.name, err)
                found.scan_refused = True
                return
            found.cursor = int(cursor)
            for raw in keys:
                key = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
                mark = key.find(BINDING_MARK)
                if mark >= 0:
                    found.prefixes.add(key[:mark])
                    found.bindings.add(key)
                    continue
                match = self._priority_list.match(key)
                if match is not None:  # counted under a prefix in use (see _lists)
                    found.lists.setdefault((match["prefix"], match["queue"]), set()).add(key)
            if found.cursor == 0:
                break

    def _read_bindings(self, own: OwnLookups) -> None:
        """The separator in the members of binding sets not read yet (call while ``own`` is
        held: SMEMBERS is a key lookup)."""
        found = self._found
        todo = sorted(found.bindings - found.bindings_read)[:BINDINGS_READ_PER_COLLECT]
        if self._sep is not None or not todo:
            return
        pipe = self._client.pipeline(transaction=False)
        for key in todo:
            pipe.smembers(key)
        count_request()  # one round trip
        answers = pipe.execute(raise_on_error=False)
        found.bindings_read.update(todo)
        members = [m for a in answers if isinstance(a, set) for m in a]
        read = [a for a in answers if isinstance(a, set)]  # the others were refused
        own.record(sum(1 for a in read if a), sum(1 for a in read if not a))
        for raw in members:
            member = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
            for sep in self._seps:
                parts = member.split(sep)
                if len(parts) == 3 and parts[2] in self.queues:
                    found.seps.add(sep)

    def _candidate_seps(self) -> tuple[str, ...]:
        """The separators whose lists are read: the profile's, else those the bindings show,
        else both kombu's and the docs' (fewer LLENs of lists that cannot exist)."""
        if self._sep is not None or not self._found.seps:
            return self._seps
        return tuple(sep for sep in self._seps if sep in self._found.seps)

    def _workers_sep(self) -> str:
        """The separator the workers use: the profile's, else the one their bindings show."""
        if self._sep is not None:
            return self._sep
        seps = self._found.seps
        return DOCS_SEP if seps == {DOCS_SEP} else KOMBU_SEP

    def _prefixes(self) -> list[str]:
        if self._prefix is not None:
            return [self._prefix]
        return sorted(self._found.prefixes) or [""]

    def _lists(self) -> dict[tuple[str, str], list[str]]:
        lists: dict[tuple[str, str], list[str]] = {}
        for prefix in self._prefixes():
            for queue in self.queues:
                keys = queue_keys(queue, self._steps, prefix, self._candidate_seps())
                seen = self._found.lists.get((prefix, queue), set())
                lists[(prefix, queue)] = keys + sorted(seen.difference(keys))
        return lists

    # -- workers -----------------------------------------------------------------------------
    def _kombu_ping(self) -> int:
        """Celery's broadcast ping through kombu's mailbox: the number of workers that answer
        within the timeout (a worker of the solo pool busy with a task does not answer)."""
        from kombu import Connection
        from kombu.pidbox import Mailbox

        url = self._url.replace("unix://", "redis+socket://", 1)
        options: dict[str, object] = {"socket_timeout": self.timeout_s,
                                      "socket_connect_timeout": self.timeout_s}
        prefix = self._prefixes()[0]
        if prefix:
            options["global_keyprefix"] = prefix
        options["sep"] = self._workers_sep()
        wait_s = min(1.0, self.timeout_s / 2)
        with Connection(url, password=self._password, transport_options=options,
                        connect_timeout=self.timeout_s) as connection:
            mailbox = Mailbox(CONTROL_EXCHANGE, type="fanout", accept=["json"])(connection)
            replies = mailbox.multi_call("ping", timeout=wait_s)
        return len(replies or ())

    def _workers(self, waiting: int) -> tuple[float | None, str]:
        """Workers are pinged only while tasks wait: that is when "no workers" matters, and a
        ping makes a dozen key lookups of its own (kombu's reply queue) that the Redis hit
        rate cannot tell from the shop's."""
        if waiting == 0:
            return None, ""
        try:
            workers = self._ping()
        except Exception as err:  # the ping is a nicety: the queue depths stand without it
            log.debug("%s: worker ping failed", self.name, exc_info=True)
            return None, f"; workers unknown (ping failed: {type(err).__name__})"
        return float(workers), f"; {workers} workers answered ping"

    # -- collect -----------------------------------------------------------------------------
    def collect(self) -> CollectorReport:
        try:
            self._scan()
            lists = self._lists()
            with self._own.held() as own:
                self._read_bindings(own)
                # MULTI/EXEC: every list of a queue read at one instant.
                pipe = self._client.pipeline(transaction=True)
                for keys in lists.values():
                    for key in keys:
                        pipe.llen(key)
                count_request()  # one round trip
                answers = pipe.execute(raise_on_error=False)
                # Redis deletes an emptied list: LLEN > 0 found a key, 0 found none; a key of
                # another type (WRONGTYPE) was found too, and holds no task.
                refused = [a for a in answers if isinstance(a, redis.exceptions.RedisError)
                           and not str(a).startswith("WRONGTYPE")]
                if refused:  # no permission, a read-only replica's error...: no figure
                    raise refused[0]
                lengths = [n if isinstance(n, int) else 0 for n in answers]
                misses = sum(1 for n in answers if n == 0)
                own.record(len(answers) - misses, misses)
        except redis.exceptions.RedisError as err:
            raise redis_error(err, self._url, self.timeout_s) from err
        ts = self._clock()
        readings = [Reading(series_name(self.name, metrics.UP), ts, 1.0)]
        parts, facts = [], []
        several = len({prefix for prefix, _ in lists}) > 1
        position = 0
        total = 0
        for (prefix, queue), keys in lists.items():
            counts = lengths[position:position + len(keys)]
            position += len(keys)
            depth = sum(counts)
            total += depth
            label = prefix + queue if several else queue
            readings.append(Reading(series_name(self.name, metrics.QUEUE_DEPTH,
                                                {"queue": label}), ts, float(depth)))
            parts.append(f"{label}: {depth}")
            facts += [(f"LLEN {key!r}", str(n)) for key, n in zip(keys, counts, strict=True)
                      if n]
        workers, workers_text = self._workers(total)
        if workers is not None:
            readings.append(Reading(series_name(self.name, metrics.WORKERS), ts, workers))
        prefixes = ", ".join(repr(p) for p in self._prefixes())
        facts.append(("key prefix", prefixes))
        return CollectorReport(readings=tuple(readings),
                               detail="waiting " + ", ".join(parts) + workers_text,
                               facts=tuple(facts))

    def close(self) -> None:
        self._client.close()
