"""Redis, inside: SLOWLOG, clients, memory by key pattern from a bounded SCAN sample, keyspace."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import redis
import redis.exceptions

from console.redaction import mask_url
from services.collectors.redis_source import redis_client, redis_error
from services.errors import CollectorError
from services.local.secrets import SecretError, resolve_secret

#: SLOWLOG entries read (Redis keeps ``slowlog-max-len``, 128 by default).
SLOWLOG_ENTRIES = 50
#: A slow command's text beyond this many characters is cut (Redis itself keeps 32 arguments
#: of at most 128 bytes each).
COMMAND_CHARS = 200
#: The memory sample: SCAN this many keys a call, at most this many keys in all, at most this
#: many calls (an almost empty database is not walked to its end one key at a time), and the
#: nested values MEMORY USAGE looks at per key.
SCAN_COUNT = 500
SAMPLE_KEYS = 2000
SCAN_CALLS = 40
MEMORY_SAMPLES = 5
#: Key patterns listed; the rest are summed into one row.
PATTERNS_SHOWN = 30
PATTERN_CHARS = 120

_UUID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.I)
_HEX = re.compile(r"\b[0-9a-f]{16,}\b", re.I)
_DIGITS = re.compile(r"\d+")
#: How Redis marks what it cut of a logged argument, or of the arguments after the 32nd.
_REDIS_CUT = re.compile(r"(.*)\.\.\. \((\d+ more (?:bytes|arguments))\)", re.DOTALL)


def key_pattern(key: str) -> str:
    """The pattern a key is counted under: uuids, long hex ids and digit runs become ``*``,
    and a key of more than four ``:`` parts keeps its first three (``session:*:cart:…`` ->
    ``session:*:cart:*``)."""
    parts = key.split(":")
    if len(parts) > 4:
        parts = [*parts[:3], "*"]
    out = []
    for part in parts:
        out.append(re.sub(r"\*+", "*", _DIGITS.sub("*", _HEX.sub("*", _UUID.sub("*", part)))))
    pattern = ":".join(out)
    return pattern if len(pattern) <= PATTERN_CHARS else pattern[:PATTERN_CHARS - 1] + "…"


def shown_text(raw: Any, limit: int = COMMAND_CHARS) -> str:
    """Bytes from the server as text (undecodable bytes escaped), cut at ``limit``."""
    text = raw.decode("utf-8", "backslashreplace") if isinstance(raw, bytes) else str(raw)
    return text if len(text) <= limit else text[:limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class SlowCommand:
    """One SLOWLOG entry: when, how long (µs), the command and who sent it."""

    id: int
    started: float
    duration_us: int
    command: str
    client_addr: str
    client_name: str


@dataclass(frozen=True, slots=True)
class RedisClientInfo:
    """One line of CLIENT LIST."""

    id: str
    addr: str
    name: str
    age_s: int
    idle_s: int
    db: int
    cmd: str
    ours: bool  # the console's own connection, reading this list


@dataclass(frozen=True, slots=True)
class KeyPattern:
    """The sampled keys of one pattern and their estimate over the whole database."""

    pattern: str
    sampled_keys: int
    sampled_bytes: int
    estimated_keys: float
    estimated_bytes: float


@dataclass(frozen=True, slots=True)
class MemorySample:
    """Memory by key pattern from the first keys SCAN gives (hash order, not by name)."""

    db: int
    keys_in_db: int
    sampled: int
    scan_calls: int
    patterns: tuple[KeyPattern, ...]

    @property
    def fraction(self) -> float:
        return self.sampled / self.keys_in_db if self.keys_in_db else 1.0

    @property
    def complete(self) -> bool:
        return self.sampled >= self.keys_in_db


@dataclass(frozen=True, slots=True)
class KeyspaceDb:
    db: int
    keys: int
    expires: int
    avg_ttl_ms: int


@dataclass(frozen=True, slots=True)
class RedisInside:
    """What one Redis source showed: every part read once; a part the server refused is
    named in ``problems`` and the rest stands."""

    source: str
    where: str  # the URL, password masked
    db: int
    server_version: str = ""
    slowlog: tuple[SlowCommand, ...] = ()
    slowlog_len: int | None = None
    slower_than_us: int | None = None
    clients: tuple[RedisClientInfo, ...] = ()
    keyspace: tuple[KeyspaceDb, ...] = ()
    memory: MemorySample | None = None
    used_memory: int = 0
    maxmemory: int = 0
    maxmemory_policy: str = ""
    evicted_keys: int = 0
    expired_keys: int = 0
    problems: tuple[str, ...] = ()
    elapsed_ms: float = 0.0


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _argument(raw: Any) -> str:
    """One argument of a slow command: quoted when it holds a space or is empty; Redis' own
    marks of a cut (``... (872 more bytes)``, ``... (3 more arguments)``) kept unquoted."""
    text = shown_text(raw, COMMAND_CHARS)
    cut = _REDIS_CUT.fullmatch(text)
    if cut is not None:
        if cut.group(1) == "":
            return text
        text, mark = cut.group(1), f"… ({cut.group(2)})"
    else:
        mark = ""
    return (f'"{text}"' if " " in text or not text else text) + mark


def read_slowlog(client: redis.Redis, entries: int = SLOWLOG_ENTRIES) -> list[SlowCommand]:
    """``SLOWLOG GET entries``, each command's arguments as text (quoted when they hold a
    space) and cut at :data:`COMMAND_CHARS`."""
    raw = client.execute_command("SLOWLOG", "GET", entries)
    found = []
    for item in raw or ():
        if isinstance(item, dict):  # a client that parses it (redis-py joins the arguments)
            args: Sequence[Any] = [item.get("command", b"")]
            addr, name = item.get("client_address", b""), item.get("client_name", b"")
            entry_id, started, duration = item.get("id"), item.get("start_time"), \
                item.get("duration")
        else:
            entry_id, started, duration = item[0], item[1], item[2]
            args = item[3] if isinstance(item[3], list) else item[4]
            rest = item[4:] if isinstance(item[3], list) else item[5:]
            addr, name = (rest[0], rest[1]) if len(rest) >= 2 else (b"", b"")
        text = " ".join(_argument(a) for a in args) if len(args) > 1 else shown_text(args[0])
        found.append(SlowCommand(_int(entry_id), float(_int(started)), _int(duration),
                                 shown_text(text), shown_text(addr, 64), shown_text(name, 64)))
    return found


def read_clients(client: redis.Redis) -> list[RedisClientInfo]:
    """CLIENT LIST, oldest connection first; the console's own connection marked."""
    own = str(client.client_id())
    rows = [RedisClientInfo(str(c.get("id", "")), shown_text(c.get("addr", ""), 64),
                            shown_text(c.get("name", ""), 64), _int(c.get("age")),
                            _int(c.get("idle")), _int(c.get("db")),
                            shown_text(c.get("cmd", ""), 64), str(c.get("id")) == own)
            for c in client.client_list()]
    return sorted(rows, key=lambda c: -c.age_s)


def sample_memory(client: redis.Redis, db: int, *, max_keys: int = SAMPLE_KEYS,
                  count: int = SCAN_COUNT, max_calls: int = SCAN_CALLS,
                  samples: int = MEMORY_SAMPLES,
                  cancelled: Callable[[], bool] = lambda: False) -> MemorySample:
    """Walk SCAN (never KEYS) for at most ``max_keys`` keys in ``max_calls`` calls, ask
    ``MEMORY USAGE key SAMPLES n`` of each in pipelines, group by :func:`key_pattern` and
    scale each group by the database's size over the sample's."""
    keys_in_db = _int(client.dbsize())
    cursor, calls = 0, 0
    keys: list[Any] = []
    while calls < max_calls and len(keys) < max_keys and not cancelled():
        cursor, batch = client.scan(cursor=cursor, count=count)
        calls += 1
        keys += batch[:max_keys - len(keys)]
        if int(cursor) == 0:
            break
    groups: dict[str, list[int]] = {}
    sampled = 0
    for start in range(0, len(keys), 200):
        chunk = keys[start:start + 200]
        pipe = client.pipeline(transaction=False)
        for key in chunk:
            pipe.memory_usage(key, samples=samples)
        for key, size in zip(chunk, pipe.execute(), strict=True):
            if size is None:  # gone since SCAN saw it
                continue
            sampled += 1
            group = groups.setdefault(key_pattern(shown_text(key, 1024)), [0, 0])
            group[0] += 1
            group[1] += int(size)
    scale = max(keys_in_db, sampled) / sampled if sampled else 0.0
    patterns = sorted((KeyPattern(p, n, b, n * scale, b * scale) for p, (n, b) in groups.items()),
                      key=lambda k: -k.sampled_bytes)
    if len(patterns) > PATTERNS_SHOWN:
        rest = patterns[PATTERNS_SHOWN - 1:]
        patterns = [*patterns[:PATTERNS_SHOWN - 1],
                    KeyPattern(f"({len(rest)} other patterns)", sum(k.sampled_keys for k in rest),
                               sum(k.sampled_bytes for k in rest),
                               sum(k.estimated_keys for k in rest),
                               sum(k.estimated_bytes for k in rest))]
    return MemorySample(db, keys_in_db, sampled, calls, tuple(patterns))


def _keyspace(info: dict[str, Any]) -> list[KeyspaceDb]:
    found = []
    for name, value in info.items():
        if re.fullmatch(r"db\d+", str(name)) and isinstance(value, dict):
            found.append(KeyspaceDb(int(str(name)[2:]), _int(value.get("keys")),
                                    _int(value.get("expires")), _int(value.get("avg_ttl"))))
    return sorted(found, key=lambda d: d.db)


def url_db(url: str) -> int:
    """The database number a redis:// URL names (``/3`` or ``?db=3``), 0 when none."""
    parts = urlsplit(url)
    match = re.search(r"(?:^|&)db=(\d+)", parts.query)
    if match:
        return int(match.group(1))
    path = parts.path.strip("/")
    return int(path) if parts.scheme != "unix" and path.isdigit() else 0


def read_redis_inside(name: str, url: str, password: str | None = None, *,
                      timeout_s: float = 5.0, max_keys: int = SAMPLE_KEYS,
                      slowlog_entries: int = SLOWLOG_ENTRIES,
                      cancelled: Callable[[], bool] = lambda: False,
                      client: redis.Redis | None = None) -> RedisInside:
    """Every part once over one client whose calls are bounded by ``timeout_s``. INFO must
    answer (else the source's typed error is raised); SLOWLOG, CONFIG, CLIENT LIST and the
    memory sample may each be refused (an ACL, a managed Redis): that part is named in
    ``problems``."""
    started = time.monotonic()
    own = client is None
    client = client or redis_client(url, timeout_s, password)
    db = url_db(url)
    problems: list[str] = []

    def part(what: str, read: Callable[[], Any]) -> Any:
        if cancelled():
            return None
        try:
            return read()
        except redis.exceptions.ResponseError as err:
            problems.append(f"{what}: the server refused ({shown_text(err, 160)})")
        except redis.exceptions.RedisError as err:
            problems.append(f"{what}: {redis_error(err, url, timeout_s)}")
        return None

    try:
        try:
            info = client.info()
        except redis.exceptions.RedisError as err:
            raise redis_error(err, url, timeout_s) from err
        slowlog = part("SLOWLOG", lambda: read_slowlog(client, slowlog_entries)) or []
        slowlog_len = part("SLOWLOG LEN", client.slowlog_len)
        config = part("CONFIG GET slowlog-log-slower-than",
                      lambda: client.config_get("slowlog-log-slower-than")) or {}
        clients = part("CLIENT LIST", lambda: read_clients(client)) or []
        memory = part("memory sample", lambda: sample_memory(client, db, max_keys=max_keys,
                                                             cancelled=cancelled))
    finally:
        if own:
            client.close()
    threshold = config.get("slowlog-log-slower-than")
    return RedisInside(
        source=name, where=mask_url(url), db=db,
        server_version=str(info.get("redis_version", "")), slowlog=tuple(slowlog),
        slowlog_len=None if slowlog_len is None else _int(slowlog_len),
        slower_than_us=None if threshold is None else _int(threshold),
        clients=tuple(clients), keyspace=tuple(_keyspace(info)), memory=memory,
        used_memory=_int(info.get("used_memory")), maxmemory=_int(info.get("maxmemory")),
        maxmemory_policy=str(info.get("maxmemory_policy", "")),
        evicted_keys=_int(info.get("evicted_keys")), expired_keys=_int(info.get("expired_keys")),
        problems=tuple(problems), elapsed_ms=(time.monotonic() - started) * 1000)


@dataclass(frozen=True, slots=True)
class RedisReadings:
    """Every Redis source of a profile, read; a source that could not be read at all is a
    line in ``problems``."""

    sources: tuple[RedisInside, ...] = ()
    problems: tuple[str, ...] = field(default_factory=tuple)


def redis_sources(profile: Any) -> list[Any]:
    """The profile's Redis servers: caches and Celery brokers on Redis."""
    return [s for s in getattr(profile, "sources", ()) if s.kind in ("redis", "celery-redis")]


def read_profile_redis(profile: Any, *, cancelled: Callable[[], bool] = lambda: False,
                       resolve: Callable[[Any], str] = resolve_secret) -> RedisReadings:
    """:func:`read_redis_inside` of each Redis source of the profile, one after another."""
    found, problems = [], []
    for source in redis_sources(profile):
        if cancelled():
            break
        try:
            password = resolve(source.password) if source.password is not None else None
            found.append(read_redis_inside(source.name, source.url, password,
                                           timeout_s=source.timeout_s, cancelled=cancelled))
        except (CollectorError, SecretError, ValueError) as err:
            problems.append(f"{source.name}: {err}")
    return RedisReadings(tuple(found), tuple(problems))


class RedisTools:
    """What the Diagnostics page's Redis view calls; the composition root hands it in."""

    def sources(self, profile: Any) -> list[Any]:
        return redis_sources(profile)

    def read(self, profile: Any, *, cancelled: Callable[[], bool]) -> RedisReadings:
        return read_profile_redis(profile, cancelled=cancelled)

    def empty(self) -> RedisReadings:
        return RedisReadings()
