"""RabbitMQ queues: the management HTTP API, or an AMQP passive declare when it is absent."""

from __future__ import annotations

import contextlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import pika
import pika.exceptions
import requests

from console import metrics
from console.domain import CollectorReport, Reading, series_name
from console.own_cost import count_request
from console.redaction import mask_url
from services.errors import (
    AuthFailed,
    BadResponse,
    CollectorError,
    SourceTimeout,
    SourceUnreachable,
)
from services.http.client import check_status, fetch, verify_option

MAX_QUEUES = 50
#: The fields of a queue the readings use: a queue listed with them is about 240 bytes of
#: JSON, not 1.4 KB (RabbitMQ 3.6 and later; an older server answers every field).
QUEUE_COLUMNS = ("name,messages,messages_ready,messages_unacknowledged,consumers,"
                 "message_stats.publish_details.rate,message_stats.deliver_get_details.rate")
MAX_ANSWER_BYTES = 32 * 1024 * 1024
#: A management API guessed from an amqp:// URL that failed is tried again after this long.
GUESSED_API_RETRY_S = 300.0


def amqp_url_for(api_url: str, user: str | None, password: str | None, vhost: str) -> str:
    """The AMQP URL of the broker behind a management API URL (same host, port 5672)."""
    parts = urlsplit(api_url)
    scheme = "amqps" if parts.scheme == "https" else "amqp"
    port = 5671 if scheme == "amqps" else 5672
    host = parts.hostname or "localhost"
    if ":" in host:
        host = f"[{host}]"
    auth = ""
    if user:
        auth = quote(user, safe="") + (":" + quote(password, safe="") if password else "") + "@"
    return urlunsplit((scheme, f"{auth}{host}:{port}", "/" + quote(vhost, safe=""), "", ""))


@dataclass(frozen=True, slots=True)
class AmqpSource:
    """What an amqp:// source connects with: the URL's own user, password and vhost, else the
    profile's (pika's defaults, guest and /, only when neither names one), and the
    management API guessed on the same host."""

    amqp_url: str
    api_url: str
    user: str
    password: str
    vhost: str


def amqp_source(url: str, user: str | None, password: str | None, vhost: str) -> AmqpSource:
    """Put the profile's ``user``, ``password`` and ``vhost`` into an amqp:// URL that lacks
    them; a URL and a profile naming two different vhosts is a mistake (ValueError)."""
    parts = urlsplit(url)
    url_user = unquote(parts.username) if parts.username else None
    url_password = unquote(parts.password) if parts.password is not None else None
    url_vhost = unquote(parts.path[1:]) if len(parts.path) > 1 else None
    if url_vhost is not None and vhost not in ("/", url_vhost):
        raise ValueError(f"the URL names vhost {url_vhost!r} and the profile vhost "
                         f"{vhost!r}; give one")
    name = url_user or user or "guest"
    secret = url_password if url_password is not None else (
        password if password is not None else ("guest" if name == "guest" else ""))
    vhost = url_vhost or vhost or "/"
    tls = parts.scheme == "amqps"
    host = parts.hostname or "localhost"
    if ":" in host:
        host = f"[{host}]"
    port = parts.port or (5671 if tls else 5672)
    netloc = f"{quote(name, safe='')}:{quote(secret, safe='')}@{host}:{port}"
    amqp = urlunsplit((parts.scheme, netloc, "/" + quote(vhost, safe=""), parts.query, ""))
    api = f"{'https' if tls else 'http'}://{host}:{15671 if tls else 15672}"
    return AmqpSource(amqp, api, name, secret, vhost)


class RabbitMQCollector:
    """Depth, ready, unacked and consumers per queue (and publish/deliver rates from the API).

    With ``api_url`` it asks the management API; when that cannot be reached (or there is no
    ``api_url``) it opens an AMQP connection to ``amqp_url`` and passively declares each
    queue, which gives ready messages and consumers. The management API refreshes its
    figures every few seconds (collect_statistics_interval, 5 s by default). With
    ``api_guessed`` (an amqp:// source) any failure of the API falls back to AMQP.

    Depth is ready + unacked, as the management API counts ``messages``. A passive declare
    sees ready messages only, so over AMQP the depth is given only where it is exact: a queue
    without consumers has no unacknowledged messages.
    """

    kind = "rabbitmq"

    def __init__(self, name: str, *, api_url: str | None, amqp_url: str | None,
                 session: requests.Session | None = None, queues: tuple[str, ...] = (),
                 vhost: str = "/", user: str | None = None, password: str | None = None,
                 interval_s: float = 10.0, timeout_s: float = 5.0, verify_tls: bool = True,
                 ca_bundle: str | None = None, clock: Callable[[], float] = time.time,
                 api_guessed: bool = False,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self.queues = queues
        self.vhost = vhost
        self._api = api_url.rstrip("/") if api_url else None
        self._amqp = amqp_url
        self._session = session
        self._auth = (user or "guest", password or "guest") if self._api else None
        self._verify = verify_option(verify_tls, ca_bundle)
        self._clock = clock
        self._connection: Any = None
        self.via = "api" if self._api else "amqp"
        self._api_guessed = api_guessed
        self._monotonic = monotonic
        self._api_retry_at = 0.0

    # -- management API ------------------------------------------------------------------
    def _get(self, path: str) -> Any:
        assert self._api is not None and self._session is not None
        url = self._api + path
        fetched = fetch(self._session, url, timeout_s=self.timeout_s, verify=self._verify,
                        auth=self._auth, headers={"Accept": "application/json"},
                        max_bytes=MAX_ANSWER_BYTES)
        if fetched.status == 404 and path.startswith("/api/queues/") and path.count("/") > 3:
            queue = path.rsplit("/", 1)[1]
            raise BadResponse(f"no queue named {_unquote(queue)!r} in vhost {self.vhost!r} "
                              f"at {mask_url(self._api)}; check the queue names in the profile")
        check_status(fetched, url, "RabbitMQ management API")
        if fetched.truncated:  # never parsed: 32 MiB of JSON is one C call holding the GIL
            raise BadResponse(f"{mask_url(url)} answered more than "
                              f"{MAX_ANSWER_BYTES // (1024 * 1024)} MiB; name the queues to "
                              "watch in the profile (an older RabbitMQ lists every queue)")
        try:
            return json.loads(fetched.body)
        except (ValueError, RecursionError) as err:  # nesting too deep is not JSON we read
            raise BadResponse(f"{mask_url(url)} did not answer JSON; is this the RabbitMQ "
                              "management API (port 15672)?") from err

    def _from_api(self) -> list[dict[str, Any]]:
        vhost = quote(self.vhost, safe="")
        if self.queues:
            found = [self._get(f"/api/queues/{vhost}/{quote(q, safe='')}") for q in self.queues]
        else:
            # the deepest MAX_QUEUES, sorted and cut by the server: the list of a vhost with
            # 100,000 queues is 100+ MB (a server without paging still answers the list)
            found = self._get(f"/api/queues/{vhost}?page=1&page_size={MAX_QUEUES}"
                              f"&sort=messages&sort_reverse=true&columns={QUEUE_COLUMNS}")
            if isinstance(found, dict) and isinstance(found.get("items"), list):
                found = found["items"]
            if not isinstance(found, list):
                raise BadResponse(f"{mask_url(self._api or '')} gave no list of queues")
        if not all(isinstance(q, dict) for q in found):
            raise BadResponse(f"{mask_url(self._api or '')} described a queue in a shape the "
                              "RabbitMQ management API does not use")
        if self.queues:
            return found
        return sorted(found, key=lambda q: -_count(q.get("messages")))[:MAX_QUEUES]

    # -- AMQP fallback ---------------------------------------------------------------------
    def _channel(self) -> Any:
        if self._connection is None or not self._connection.is_open:
            assert self._amqp is not None
            params = pika.URLParameters(self._amqp)
            params.socket_timeout = self.timeout_s
            params.blocked_connection_timeout = self.timeout_s
            params.stack_timeout = self.timeout_s
            params.connection_attempts = 1
            params.retry_delay = 0
            self._connection = pika.BlockingConnection(params)
        return self._connection.channel()

    def _from_amqp(self) -> list[dict[str, Any]]:
        if not self.queues:
            raise BadResponse("without the management API the queues must be named "
                              "(queues = [...] in the profile)")
        where = mask_url(self._amqp or "")
        found = []
        try:
            for queue in self.queues:
                channel = self._channel()
                try:
                    count_request()
                    ok = channel.queue_declare(queue=queue, passive=True)
                except pika.exceptions.ChannelClosedByBroker as err:
                    if err.reply_code == 404:
                        raise BadResponse(f"no queue named {queue!r} in vhost {self.vhost!r} "
                                          f"at {where}") from err
                    raise BadResponse(f"{where} refused to describe {queue!r}: "
                                      f"{err.reply_text}") from err
                ready, consumers = ok.method.message_count, ok.method.consumer_count
                found.append({"name": queue, "messages_ready": ready, "consumers": consumers,
                              "messages": ready if consumers == 0 else None})
                if channel.is_open:
                    channel.close()
        except pika.exceptions.ProbableAuthenticationError as err:
            self._drop()
            raise AuthFailed(f"RabbitMQ at {where} refused our credentials; check user and "
                             "password") from err
        except pika.exceptions.AMQPConnectionError as err:
            self._drop()
            raise SourceUnreachable(f"cannot open an AMQP connection to {where} "
                                    f"({err!r}); check the host and port 5672") from err
        except (TimeoutError, pika.exceptions.AMQPError) as err:
            self._drop()
            if isinstance(err, CollectorError):
                raise
            raise SourceTimeout(f"RabbitMQ at {where} did not answer within "
                                f"{self.timeout_s:g} s ({err!r})") from err
        except CollectorError:
            self._drop()
            raise
        return found

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and connection.is_open:
            with contextlib.suppress(Exception):  # closing a broken connection
                connection.close()

    # -- collect ---------------------------------------------------------------------------
    def collect(self) -> CollectorReport:
        note = ""
        if self._api is not None and self._monotonic() >= self._api_retry_at:
            try:
                queues = self._from_api()
                self.via = "api"
            except CollectorError as err:
                unreachable = isinstance(err, SourceUnreachable | SourceTimeout)
                if self._amqp is None or not (unreachable or self._api_guessed):
                    raise
                if self._api_guessed and (unreachable or isinstance(err, AuthFailed)):
                    # No management API there, or not for this user: ask again much later.
                    # (A queue it does not know yet may be one it has not caught up with.)
                    self._api_retry_at = self._monotonic() + GUESSED_API_RETRY_S
                queues = self._from_amqp()
                self.via = "amqp"
                state = "unreachable" if unreachable else "not usable"
                note = f" (management API {state}: {err}; read by AMQP passive declare)"
        else:
            queues = self._from_amqp()
            self.via = "amqp"
        ts = self._clock()
        readings = [Reading(series_name(self.name, metrics.UP), ts, 1.0)]
        parts = []
        for queue in queues:
            name = str(queue.get("name", "?"))
            labels = {"queue": name}

            def add(metric: str, value: Any, labels: dict[str, str] = labels) -> None:
                number = _number(value)
                if number is not None:
                    readings.append(Reading(series_name(self.name, metric, labels), ts,
                                            number))

            add(metrics.QUEUE_DEPTH, queue.get("messages"))
            add(metrics.QUEUE_READY, queue.get("messages_ready"))
            add(metrics.QUEUE_UNACKED, queue.get("messages_unacknowledged"))
            add(metrics.QUEUE_CONSUMERS, queue.get("consumers"))
            stats = _table(queue.get("message_stats"))
            add(metrics.QUEUE_PUBLISH_RATE, _table(stats.get("publish_details")).get("rate"))
            add(metrics.QUEUE_DELIVER_RATE,
                _table(stats.get("deliver_get_details")).get("rate"))
            if queue.get("messages") is None:
                parts.append(f"{name}: {_count(queue.get('messages_ready'))} ready (unacked "
                             f"unknown over AMQP), {queue.get('consumers', '?')} consumers")
            else:
                parts.append(f"{name}: {_count(queue.get('messages'))} waiting, "
                             f"{queue.get('consumers', '?')} consumers")
        detail = ("; ".join(parts) or "no queues in this vhost") + note
        return CollectorReport(readings=tuple(readings), detail=detail,
                               facts=(("via", self.via),))

    def close(self) -> None:
        self._drop()


def _unquote(text: str) -> str:
    return unquote(text)


def _number(value: Any) -> float | None:
    """A figure of the API as a finite float, or None for anything else (the management
    API is read as it comes; a proxy or another server may answer anything)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _count(value: Any) -> int:
    number = _number(value)
    return int(number) if number is not None else 0


def _table(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
