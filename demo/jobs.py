"""The shop's job queue (in-process or RabbitMQ), its worker threads and the jobs they do."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import func, select

from demo.db import (
    Database,
    bookings,
    messages,
    order_items,
    orders,
    products,
    stock_counts,
    utcnow,
)
from demo.metrics import ShopMetrics

log = logging.getLogger(__name__)

# A guest's "manage my booking" link is signed with a key derived per message. PBKDF2's cost
# is deliberate (it is what makes such links expensive to forge) and it is most of a job's time.
SIGNING_ITERATIONS = 100_000
POLL_S = 0.25


@dataclass(frozen=True, slots=True)
class Job:
    """One unit of background work: what to do, on what, and when it was queued (epoch s)."""

    kind: str
    payload: dict[str, Any]
    enqueued_at: float = field(default_factory=time.time)

    def to_bytes(self) -> bytes:
        return json.dumps({"kind": self.kind, "payload": self.payload,
                           "enqueued_at": self.enqueued_at}).encode()

    @staticmethod
    def from_bytes(raw: bytes) -> Job:
        data = json.loads(raw)
        return Job(str(data["kind"]), dict(data["payload"]), float(data["enqueued_at"]))


@dataclass(slots=True)
class Delivery:
    """A job handed to one worker, with what its queue needs to acknowledge it."""

    job: Job
    tag: Any = None


class Consumer(Protocol):
    def get(self, timeout: float) -> Delivery | None: ...
    def ack(self, delivery: Delivery) -> None: ...
    def close(self) -> None: ...


class JobQueue(Protocol):
    """Where jobs wait: ``publish`` from request threads, one ``consumer()`` per worker."""

    backend: str
    name: str

    def publish(self, job: Job) -> None: ...
    def depth(self) -> int: ...
    def consumer(self) -> Consumer: ...
    def status(self) -> dict[str, Any]: ...
    def close(self) -> None: ...


class MemoryQueue:
    """An in-process FIFO (``queue.Queue``); its depth is exactly the jobs waiting."""

    backend = "memory"

    def __init__(self, name: str) -> None:
        self.name = name
        self._q: queue.Queue[Job] = queue.Queue()

    def publish(self, job: Job) -> None:
        self._q.put(job)

    def depth(self) -> int:
        return self._q.qsize()

    def consumer(self) -> Consumer:
        return _MemoryConsumer(self._q)

    def status(self) -> dict[str, Any]:
        return {"status": "ok", "backend": self.backend, "name": self.name, "depth": self.depth()}

    def close(self) -> None:
        pass


class _MemoryConsumer:
    def __init__(self, q: queue.Queue[Job]) -> None:
        self._q = q

    def get(self, timeout: float) -> Delivery | None:
        try:
            return Delivery(self._q.get(timeout=timeout))
        except queue.Empty:
            return None

    def ack(self, delivery: Delivery) -> None:
        pass

    def close(self) -> None:
        pass


def _amqp_params(url: str) -> Any:
    import pika

    params = pika.URLParameters(url)
    params.socket_timeout = 3.0
    params.blocked_connection_timeout = 5.0
    params.connection_attempts = 1
    params.heartbeat = 30
    return params


class AmqpQueue:
    """A RabbitMQ queue (durable, default exchange). pika connections are not thread-safe, so
    one publisher thread owns the publishing connection (and polls the depth by a passive
    declare); each worker opens its own consuming connection."""

    backend = "amqp"

    def __init__(self, url: str, name: str, thread_name: str = "demo-amqp-publisher") -> None:
        import pika

        self.name = name
        self._url = url
        self._outbox: queue.Queue[Job] = queue.Queue(maxsize=100_000)
        self._stop = threading.Event()
        self._broker_depth = 0
        self.last_error: str | None = None
        self._ready = threading.Event()
        # Fail fast on a wrong URL or a missing broker, and declare the queue once.
        conn = pika.BlockingConnection(_amqp_params(url))
        try:
            conn.channel().queue_declare(queue=name, durable=True)
        finally:
            conn.close()
        self._thread = threading.Thread(target=self._run, name=thread_name)
        self._thread.start()

    def publish(self, job: Job) -> None:
        try:
            self._outbox.put_nowait(job)
        except queue.Full:
            self.last_error = "publisher outbox full"
            raise

    def depth(self) -> int:
        return self._broker_depth + self._outbox.qsize()

    def consumer(self) -> Consumer:
        return _AmqpConsumer(self._url, self.name)

    def status(self) -> dict[str, Any]:
        return {"status": "down" if self.last_error else "ok", "backend": self.backend,
                "name": self.name, "depth": self.depth(),
                **({"error": self.last_error} if self.last_error else {})}

    def close(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        import pika

        conn = None
        next_poll = 0.0
        while True:
            stopping = self._stop.is_set()
            if stopping and self._outbox.empty():
                break
            try:
                if conn is None or conn.is_closed:
                    conn = pika.BlockingConnection(_amqp_params(self._url))
                    channel = conn.channel()
                    self.last_error = None
                try:
                    job = self._outbox.get(timeout=0.1)
                except queue.Empty:
                    job = None
                if job is not None:
                    channel.basic_publish(
                        exchange="", routing_key=self.name, body=job.to_bytes(),
                        properties=pika.BasicProperties(content_type="application/json"))
                if time.monotonic() >= next_poll:
                    ok = channel.queue_declare(queue=self.name, passive=True)
                    self._broker_depth = int(ok.method.message_count)
                    next_poll = time.monotonic() + 0.5
                conn.process_data_events(0)
            except Exception as exc:  # broker gone: say so, keep jobs, retry
                self.last_error = f"{type(exc).__name__}: {exc}"
                if job is not None:
                    self._outbox.put(job)
                _close_quietly(conn)
                conn = None
                if stopping:
                    break
                self._stop.wait(1.0)
        _close_quietly(conn)


class _AmqpConsumer:
    def __init__(self, url: str, name: str) -> None:
        self._url = url
        self._name = name
        self._conn: Any = None
        self._channel: Any = None
        self._stream: Any = None

    def get(self, timeout: float) -> Delivery | None:
        import pika

        try:
            if self._conn is None or self._conn.is_closed:
                self._conn = pika.BlockingConnection(_amqp_params(self._url))
                self._channel = self._conn.channel()
                self._channel.basic_qos(prefetch_count=1)
                self._stream = self._channel.consume(self._name, inactivity_timeout=timeout)
            method, _props, body = next(self._stream)
        except Exception as exc:
            log.warning("AMQP consumer: %s", type(exc).__name__)
            self.close()
            time.sleep(timeout)
            return None
        if method is None:
            return None
        try:
            job = Job.from_bytes(body)
        except (ValueError, KeyError, TypeError):
            self._channel.basic_reject(method.delivery_tag, requeue=False)
            return None
        return Delivery(job, method.delivery_tag)

    def ack(self, delivery: Delivery) -> None:
        try:
            self._channel.basic_ack(delivery.tag)
        except Exception:
            self.close()

    def close(self) -> None:
        if self._channel is not None:
            with contextlib.suppress(Exception):
                self._channel.cancel()
        _close_quietly(self._conn)
        self._conn = self._channel = self._stream = None


def _close_quietly(conn: Any) -> None:
    if conn is None:
        return
    try:
        if not conn.is_closed:
            conn.close()
    except Exception:
        pass


class JobRunner:
    """Does the work of each job kind against the database."""

    def __init__(self, db: Database, secret: bytes) -> None:
        self._db = db
        self._secret = secret
        #: Table searches per (date, party size): the demand report the search log feeds.
        self.demand: dict[tuple[str, int], int] = {}
        self._demand_lock = threading.Lock()

    def run(self, job: Job) -> None:
        if job.kind == "booking_message":
            self._booking_message(int(job.payload["booking_id"]), str(job.payload["event"]))
        elif job.kind == "order_message":
            self._order_message(int(job.payload["order_id"]))
        elif job.kind == "stock_recount":
            self._stock_recount([int(p) for p in job.payload["product_ids"]])
        elif job.kind == "search_log":
            key = (str(job.payload["date"]), int(job.payload["party_size"]))
            with self._demand_lock:
                if key in self.demand or len(self.demand) < 10_000:
                    self.demand[key] = self.demand.get(key, 0) + 1
        else:
            raise ValueError(f"unknown job kind {job.kind!r}")

    def _sign(self, what: str) -> str:
        return hashlib.pbkdf2_hmac("sha256", self._secret, what.encode(), SIGNING_ITERATIONS,
                                   dklen=16).hex()

    def _booking_message(self, booking_id: int, event: str) -> None:
        with self._db.read() as conn:
            b = conn.execute(select(bookings).where(bookings.c.id == booking_id)).first()
        if b is None:
            raise LookupError(f"booking {booking_id} is gone")
        signature = self._sign(f"booking:{b.id}:{b.version}")
        when = b.start_at.strftime("%A %d %B at %H:%M")
        if event == "cancelled":
            subject = f"Your booking for {when} is cancelled"
            body = (f"Dear {b.customer_name},\n\nyour table for {b.party_size} on {when} has "
                    f"been cancelled. We hope to see you another time.\n")
        else:
            subject = f"Table for {b.party_size} on {when}"
            body = (f"Dear {b.customer_name},\n\nthank you for booking a table for "
                    f"{b.party_size} on {when}.\n"
                    + (f"Your notes: {b.notes}\n" if b.notes else "")
                    + f"Change or cancel: /manage/booking/{b.id}?sig={signature}\n")
        with self._db.write() as conn:
            conn.execute(messages.insert().values(
                kind=f"booking_{event}", booking_id=b.id, recipient=b.phone or b.customer_name,
                subject=subject, body=body, signature=signature, created_at=utcnow()))

    def _order_message(self, order_id: int) -> None:
        with self._db.read() as conn:
            o = conn.execute(select(orders).where(orders.c.id == order_id)).first()
            if o is None:
                raise LookupError(f"order {order_id} is gone")
            lines = conn.execute(
                select(products.c.name, order_items.c.quantity, order_items.c.unit_price_cents)
                .join(products, products.c.id == order_items.c.product_id)
                .where(order_items.c.order_id == order_id)).all()
        signature = self._sign(f"order:{o.id}:{o.total_cents}")
        receipt = "\n".join(
            f"{q:>3} x {name:<40} {q * p / 100:>9.2f}" for name, q, p in lines)
        body = (f"Hello {o.customer_name},\n\nwe have your order #{o.id}:\n{receipt}\n"
                f"{'Total':<46} {o.total_cents / 100:>9.2f}\n"
                f"Track it: /orders/{o.id}?sig={signature}\n")
        with self._db.write() as conn:
            conn.execute(messages.insert().values(
                kind="order_confirmation", order_id=o.id, recipient=o.customer_name,
                subject=f"Order #{o.id} received", body=body, signature=signature,
                created_at=utcnow()))

    def _stock_recount(self, product_ids: list[int]) -> None:
        now = utcnow()
        since = now - timedelta(days=7)
        with self._db.read() as conn:
            sold = dict(conn.execute(
                select(order_items.c.product_id, func.coalesce(func.sum(order_items.c.quantity), 0))
                .join(orders, orders.c.id == order_items.c.order_id)
                .where(order_items.c.product_id.in_(product_ids), orders.c.placed_at >= since,
                       orders.c.status.not_in(("cancelled",)))
                .group_by(order_items.c.product_id)).all())
            stock = dict(conn.execute(
                select(products.c.id, products.c.stock).where(products.c.id.in_(product_ids))
            ).all())
        rows = []
        for pid, on_hand in stock.items():
            sold_7d = int(sold.get(pid, 0))
            rows.append({"product_id": pid, "counted_at": now, "stock": on_hand,
                         "sold_7d": sold_7d,
                         "days_of_cover": None if sold_7d == 0 else int(on_hand * 7 / sold_7d)})
        if rows:
            with self._db.write() as conn:
                conn.execute(stock_counts.insert(), rows)


class WorkerPool:
    """Worker threads named ``demo-worker-N`` taking jobs off one queue; resizable live."""

    def __init__(self, jobs: JobQueue, runner: JobRunner, metrics: ShopMetrics) -> None:
        self._jobs = jobs
        self._runner = runner
        self._metrics = metrics
        self._lock = threading.Lock()
        self._workers: list[tuple[threading.Thread, threading.Event]] = []
        self._serial = 0
        metrics.queue_workers.labels(queue=jobs.name).set_function(lambda: self.size)

    @property
    def size(self) -> int:
        return len(self._workers)

    def resize(self, count: int, timeout: float = 10.0) -> None:
        """Start or stop workers until ``count`` run; stopped ones finish their job first."""
        with self._lock:
            leaving: list[tuple[threading.Thread, threading.Event]] = []
            while len(self._workers) > count:
                leaving.append(self._workers.pop())
            while len(self._workers) < count:
                self._serial += 1
                stop = threading.Event()
                thread = threading.Thread(target=self._work, args=(stop,),
                                          name=f"demo-worker-{self._serial}")
                self._workers.append((thread, stop))
                thread.start()
        for _thread, stop in leaving:
            stop.set()
        deadline = time.monotonic() + timeout
        for thread, _stop in leaving:
            thread.join(max(0.0, deadline - time.monotonic()))

    def stop(self, timeout: float = 10.0) -> None:
        self.resize(0, timeout)

    def _work(self, stop: threading.Event) -> None:
        consumer = self._jobs.consumer()
        queue_name = self._jobs.name
        try:
            while not stop.is_set():
                delivery = consumer.get(POLL_S)
                if delivery is None:
                    continue
                job = delivery.job
                self._metrics.job_wait.labels(queue=queue_name).observe(
                    max(0.0, time.time() - job.enqueued_at))
                start = time.perf_counter()
                try:
                    self._runner.run(job)
                except Exception as exc:
                    self._metrics.jobs_failed.labels(queue=queue_name, job=job.kind).inc()
                    log.info("job %s failed: %s", job.kind, exc)
                else:
                    self._metrics.jobs_processed.labels(queue=queue_name, job=job.kind).inc()
                finally:
                    self._metrics.job_duration.labels(queue=queue_name, job=job.kind).observe(
                        time.perf_counter() - start)
                    consumer.ack(delivery)
        finally:
            consumer.close()
