"""The one view: hands the request to the contract's core and the answer back to Django."""

from __future__ import annotations

import functools
from typing import Any

from backroom_connect_core import handle, parse_config
from backroom_connect_core.contract import Mapping, MappingError
from django.apps import apps
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from backroom_connect import __version__
from backroom_connect.store import DjangoStore

SERVER = f"backroom-connect-django {__version__}"


@functools.cache
def connector() -> tuple[DjangoStore, dict[str, Mapping], str]:
    """The store, the mappings and the token from settings.BACKROOM_CONNECT (read once)."""
    config = getattr(settings, "BACKROOM_CONNECT", None)
    if config is None:
        raise ImproperlyConfigured("backroom_connect is installed but settings has no "
                                   "BACKROOM_CONNECT dict (see docs/connect.md)")
    try:
        mappings = parse_config(config, _model, id_attr="pk")
        _check_lines(mappings)
    except MappingError as exc:
        raise ImproperlyConfigured(str(exc)) from None
    return DjangoStore(), mappings, config["token"]


def _check_lines(mappings: dict[str, Mapping]) -> None:
    """Order lines reach their order and product by foreign keys to the mapped models."""
    lines = mappings.get("order_lines")
    if lines is None:
        return
    for name, to in (("order", "orders"), ("product", "products")):
        target = mappings.get(to)
        if not lines.has(name) or (target is None and name == "product"):
            continue
        try:
            found = lines.model._meta.get_field(lines.columns[name])
        except FieldDoesNotExist:
            found = None
        if found is None or not found.is_relation or target is None \
                or found.related_model is not target.model:
            raise MappingError(f"BACKROOM_CONNECT['order_lines']['fields']['{name}'] must "
                               f"name a foreign key to the {to} model")


def _model(label: Any) -> Any:
    if not isinstance(label, str):
        return label
    try:
        return apps.get_model(label)
    except (LookupError, ValueError) as exc:
        raise MappingError(f"BACKROOM_CONNECT names model {label!r}, which Django does not "
                           f"know ({exc})") from None


@csrf_exempt
def serve(request: HttpRequest, path: str = "") -> JsonResponse:
    store, mappings, token = connector()
    answer = handle(store, mappings, token, request.method or "GET", path, request.GET,
                    request.headers.get, request.body, server=SERVER)
    response = JsonResponse(answer.body, status=answer.status, safe=False)
    for key, value in answer.headers.items():
        response[key] = value
    response["Cache-Control"] = "no-store"
    return response
