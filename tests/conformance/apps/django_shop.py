"""A small Django shop with django-prometheus, served by gunicorn in the conformance suite."""

from __future__ import annotations

import os
import time

from django.conf import settings

settings.configure(
    DEBUG=False,
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    SECRET_KEY="conformance-only",
    INSTALLED_APPS=["django_prometheus"],
    MIDDLEWARE=[
        "django_prometheus.middleware.PrometheusBeforeMiddleware",
        "django_prometheus.middleware.PrometheusAfterMiddleware",
    ],
    CACHES={"default": {"BACKEND": "django_prometheus.cache.backends.redis.RedisCache",
                        "LOCATION": os.environ["SHOP_REDIS_URL"]}},
    DATABASES={"default": {"ENGINE": "django_prometheus.db.backends.postgresql",
                           "NAME": os.environ["SHOP_PG_DB"], "USER": "postgres",
                           "HOST": "127.0.0.1", "PORT": "5432"}},
    LOGGING_CONFIG=None,
)

import django  # noqa: E402

django.setup()

from django.core.cache import cache  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import HttpRequest, HttpResponse  # noqa: E402
from django.urls import include, path  # noqa: E402

#: Dishes 0..STOCKED-1 are in the cache; the rest miss.
STOCKED = 3


def menu(request: HttpRequest) -> HttpResponse:
    time.sleep(0.02)
    return HttpResponse("menu")


def slow(request: HttpRequest) -> HttpResponse:
    time.sleep(0.2)
    return HttpResponse("slow")


def dish(request: HttpRequest, number: int) -> HttpResponse:
    found = cache.get(f"dish:{number}")
    response = HttpResponse(found or "not cached")
    response["X-Cache"] = "hit" if found is not None else "miss"
    return response


def orders(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM conform_orders WHERE total > %s", [10])
        (count,) = cursor.fetchone()
    return HttpResponse(str(count))


def boom(request: HttpRequest) -> HttpResponse:
    return HttpResponse("kitchen on fire", status=503)


urlpatterns = [
    path("menu/", menu, name="menu"),
    path("slow/", slow, name="slow"),
    path("dish/<int:number>/", dish, name="dish"),
    path("orders/", orders, name="orders"),
    path("boom/", boom, name="boom"),
    path("", include("django_prometheus.urls")),
]

for _number in range(STOCKED):
    cache.set(f"dish:{_number}", f"dish {_number}", timeout=3600)

application = get_wsgi_application()
