"""The demo shop's Flask app: auth, request metrics, errors, health, metrics, admin switches."""

from __future__ import annotations

import hmac
import random
import re
import time
from typing import Any

from flask import Flask, Response, g, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from demo import (
    api_bookings,
    api_guests,
    api_orders,
    api_products,
    api_reads,
    api_reports,
    api_waitlist,
    history,
)
from demo.context import ShopContext
from demo.scenario import validate_scenario
from demo.web import ApiError, invalid, json_body

VERSION = "0.1.0"
UNMATCHED = "<unmatched>"
_CONVERTER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
_EPOCH = re.compile(r"[0-9]{1,12}(\.[0-9]{1,9})?")


class RowIdConverter(IntegerConverter):
    """``<int:...>`` in a route: ASCII digits that fit a BIGINT. Werkzeug's own matches any
    Unicode digit (``/api/bookings/١٢`` was booking 12) and any length (an id too big for
    SQLite was a 500); these are simply no such resource (404)."""

    regex = r"[0-9]{1,18}"


def endpoint_label(rule: str | None) -> str:
    """The ``endpoint`` label of a request: its route with converters dropped."""
    if rule is None:
        return UNMATCHED
    return _CONVERTER.sub(r"<\1>", rule)


def create_app(ctx: ShopContext) -> Flask:
    """A Flask app serving one shop (its own metrics registry, token and database)."""
    app = Flask(__name__)
    app.url_map.converters["int"] = RowIdConverter
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.config["MAX_CONTENT_LENGTH"] = 1 << 20
    token = ctx.token.encode()
    metrics = ctx.metrics

    @app.before_request
    def _start() -> Response | None:
        g.t0 = time.perf_counter()
        path = request.path
        if path.startswith(("/api/", "/admin/")) or path in ("/api", "/admin"):
            header = request.headers.get("Authorization", "")
            scheme, _, given = header.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(),
                                                                      token):
                raise ApiError(401, {"error": "missing or invalid bearer token"},
                               {"WWW-Authenticate": 'Bearer realm="demo shop"'})
        scenario = ctx.scenario
        if scenario.slow_endpoint and scenario.slow_ms > 0:
            label = endpoint_label(request.url_rule.rule if request.url_rule else None)
            if label == scenario.slow_endpoint or (
                    scenario.slow_endpoint == "*" and label.startswith("/api/")):
                # The injected slowness of the scenario switch; cut short when the shop stops.
                ctx.stopping.wait(scenario.slow_ms / 1000)
        if scenario.error_ratio > 0 and path.startswith("/api/") \
                and random.random() < scenario.error_ratio:
            # The back-end-errors switch: a dependency failing under the API.
            raise ApiError(503, {"error": "the shop's back end failed (demo switch)"})
        return None

    @app.after_request
    def _record(resp: Response) -> Response:
        t0 = g.get("t0")
        if t0 is not None:
            label = endpoint_label(request.url_rule.rule if request.url_rule else None)
            labels = {"method": request.method, "endpoint": label,
                      "status": str(resp.status_code)}
            metrics.http_duration.labels(**labels).observe(time.perf_counter() - t0)
            metrics.http_requests.labels(**labels).inc()
        return resp

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        return exc.response()

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        messages = {404: "not found", 405: "method not allowed"}
        resp = jsonify({"error": messages.get(exc.code or 500, exc.description)})
        resp.status_code = exc.code or 500
        return resp

    @app.errorhandler(OperationalError)
    def _database_busy(exc: OperationalError) -> Response:
        if "locked" not in str(exc.orig) and "busy" not in str(exc.orig):
            return _bug(exc)
        app.logger.warning("database busy: %s", exc.orig)
        resp = jsonify({"error": "the database is busy, try again"})
        resp.status_code = 503
        resp.headers["Retry-After"] = "1"
        return resp

    @app.errorhandler(Exception)
    def _bug(exc: Exception) -> Response:
        app.logger.exception("unhandled error: %s", exc)
        resp = jsonify({"error": "internal error"})
        resp.status_code = 500
        return resp

    @app.get("/health")
    def health() -> Response:
        body: dict[str, Any] = {"status": "ok"}
        try:
            latency = ctx.db.ping()
            body["database"] = {"status": "ok", "latency_ms": round(latency * 1000, 3),
                                "path": str(ctx.db.path)}
        except Exception as exc:
            body["database"] = {"status": "down", "error": type(exc).__name__,
                                "path": str(ctx.db.path)}
        body["cache"] = ctx.cache.status()
        queue = ctx.jobs.status()
        queue["workers"] = ctx.workers()
        if queue["status"] == "ok" and queue["workers"] == 0 and queue["depth"] > 0:
            queue["status"] = "stalled"
        body["queue"] = queue
        body["uptime_s"] = round(time.monotonic() - ctx.started_monotonic, 3)
        body["version"] = VERSION
        if body["database"]["status"] != "ok":
            body["status"] = "down"
        elif body["cache"]["status"] not in ("ok", "disabled") or queue["status"] != "ok":
            body["status"] = "degraded"
        resp = jsonify(body)
        resp.status_code = 503 if body["status"] == "down" else 200
        return resp

    @app.get("/metrics")
    def prometheus_metrics() -> Response:
        return Response(generate_latest(metrics.registry), mimetype=None,
                        headers={"Content-Type": CONTENT_TYPE_LATEST})

    @app.get("/admin/scenario")
    def get_scenario() -> Response:
        return jsonify(ctx.scenario.as_dict())

    @app.post("/admin/scenario")
    def set_scenario() -> Response:
        changes, errors = validate_scenario(json_body())
        if errors:
            raise invalid(errors)
        ctx.change_scenario(changes)
        return jsonify(ctx.scenario.as_dict())

    @app.get("/admin/events")
    def events() -> Response:
        raw = request.args.get("since")
        since = None
        if raw:
            # ASCII digits only: float() also takes 'nan', 'inf' and '١٢'.
            if not _EPOCH.fullmatch(raw):
                raise invalid({"since": "must be UTC epoch seconds"})
            since = float(raw)
        return jsonify(ctx.events.since(since))

    for module in (api_bookings, api_products, api_orders, api_reads, api_reports,
                   api_guests, api_waitlist, history):
        module.register(app, ctx)
    return app
