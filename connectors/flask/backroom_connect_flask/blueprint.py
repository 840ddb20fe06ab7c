"""``make_blueprint(BACKROOM_CONNECT, session)``: the contract's routes under one blueprint."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from collections.abc import Mapping as AnyMapping
from typing import Any

from backroom_connect_core import handle, parse_config
from backroom_connect_core.contract import MappingError
from flask import Blueprint, Response, json, request
from sqlalchemy.orm import Session

from backroom_connect_flask.store import SqlAlchemyStore

SERVER = "backroom-connect-flask 0.1.0"


def make_blueprint(config: AnyMapping[str, Any], session: Callable[[], Session], *,
                   name: str = "backroom_connect") -> Blueprint:
    """The blueprint to register with ``url_prefix="/backroom"``.

    ``session`` gives a SQLAlchemy session: Flask-SQLAlchemy's ``db.session``, a
    ``scoped_session`` or a ``sessionmaker``. Each request uses one and closes it.
    ``config`` is the same dict as Django's ``BACKROOM_CONNECT``; ``"model"`` is the model
    class or ``"package.module:Class"``. A bad mapping raises ``MappingError`` here.
    """
    mappings = parse_config(config, _model)
    token = str(config["token"])
    store = SqlAlchemyStore(session)
    bp = Blueprint(name, __name__)
    methods = ["GET", "POST", "PATCH", "PUT", "DELETE"]

    @bp.route("/", defaults={"path": ""}, methods=methods)
    @bp.route("/<path:path>", methods=methods)
    def serve(path: str) -> Response:
        answer = handle(store, mappings, token, request.method, path, request.args,
                        request.headers.get, request.get_data(cache=False), server=SERVER)
        response = Response(json.dumps(answer.body), status=answer.status,
                            mimetype="application/json")
        for key, value in answer.headers.items():
            response.headers[key] = value
        response.headers["Cache-Control"] = "no-store"
        return response

    return bp


def _model(spec: Any) -> Any:
    if not isinstance(spec, str):
        return spec
    module, _, attr = spec.partition(":")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError, ValueError) as exc:
        raise MappingError(f"BACKROOM_CONNECT names model {spec!r}, which does not import "
                           f"({exc}); write 'package.module:Class'") from None
