"""Real shops with Backroom's connector installed: a Django site and a Flask café, on free ports."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from services.shop.api import ApiShopRepository
from tests import servers
from tests.integration.local_servers import process_on_port

HERE = Path(__file__).resolve().parent
DJANGO_SITE = HERE / "django_bistro"
FLASK_SITE = HERE / "flask_cafe"
CONNECTORS = HERE.parents[1] / "connectors"
#: A second interpreter with another Django (e.g. Django 6 on Python 3.12; .ci/run makes
#: one when it finds Python 3.12): the site runs on it, the connector from this checkout.
OTHER_DJANGO_PYTHON = os.environ.get("BACKROOM_TEST_DJANGO_PYTHON", "")


@dataclass
class Shop:
    """One running shop: its connector's URL (the profile's base_url) and token."""

    name: str
    base_url: str
    token: str

    def repo(self) -> ApiShopRepository:
        return ApiShopRepository(self.base_url, self.token, timeout=10.0)


def _needs(module: str) -> None:
    try:
        __import__(module)
    except ImportError:
        servers.missing(f"{module} is not installed (pip install -e ./connectors/core "
                        "-e ./connectors/django -e ./connectors/flask)")


@contextmanager
def postgres_database() -> Iterator[str]:
    """A database of our own on the machine's PostgreSQL, dropped afterwards."""
    servers.require_port("PostgreSQL", "127.0.0.1", 5432)
    import psycopg

    name = f"connect_{secrets.token_hex(4)}"
    admin = "postgresql://postgres@127.0.0.1:5432/postgres"
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def database(kind: str, tmp: Path) -> Iterator[str]:
    if kind == "postgresql":
        with postgres_database() as url:
            yield url
    else:
        yield str(tmp / "shop.sqlite3")


def _waitress(app: str, port: int) -> list[str]:
    return [sys.executable, "-m", "waitress", "--listen", f"127.0.0.1:{port}", "--threads", "4",
            app]


@contextmanager
def django_site(kind: str, tmp: Path, python: str = sys.executable) -> Iterator[Shop]:
    _needs("backroom_connect")
    token = secrets.token_urlsafe(24)
    paths = [DJANGO_SITE]
    if python != sys.executable:
        paths += [CONNECTORS / "core", CONNECTORS / "django"]
    with database(kind, tmp) as db:
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bistro.settings", "BISTRO_DB": db,
               "BACKROOM_TOKEN": token, "PYTHONPATH": os.pathsep.join(map(str, paths))}
        for step in (["-m", "django", "migrate", "-v", "0"], ["-m", "bistro.seed"]):
            subprocess.run([python, *step], env=env, cwd=DJANGO_SITE, check=True,
                           timeout=120)
        port = servers.free_port()
        command = [python, *_waitress("bistro.wsgi:application", port)[1:]]
        with process_on_port(command, port, "Django site", timeout_s=30, env=env):
            yield Shop(f"django-{kind}", f"http://127.0.0.1:{port}/backroom", token)


@contextmanager
def flask_site(kind: str, tmp: Path) -> Iterator[Shop]:
    _needs("backroom_connect_flask")
    token = secrets.token_urlsafe(24)
    with database(kind, tmp) as db:
        url = (db.replace("postgresql://", "postgresql+psycopg://") if kind == "postgresql"
               else f"sqlite:///{db}")
        env = {**os.environ, "CAFE_DB": url, "BACKROOM_TOKEN": token,
               "PYTHONPATH": str(FLASK_SITE)}
        port = servers.free_port()
        with process_on_port([*_waitress("cafe:create_app", port)[:-1], "--call",
                              "cafe:create_app"], port, "Flask café", timeout_s=30, env=env):
            yield Shop(f"flask-{kind}", f"http://127.0.0.1:{port}/backroom", token)


SHOPS = [pytest.param(("django", "sqlite"), id="django-sqlite"),
         pytest.param(("django-other", "sqlite"), id="django-other-sqlite"),
         pytest.param(("django-other", "postgresql"), id="django-other-postgresql",
                      marks=pytest.mark.integration),
         pytest.param(("django", "postgresql"), id="django-postgresql",
                      marks=pytest.mark.integration),
         pytest.param(("flask", "sqlite"), id="flask-sqlite"),
         pytest.param(("flask", "postgresql"), id="flask-postgresql",
                      marks=pytest.mark.integration)]


@pytest.fixture(scope="session", params=SHOPS)
def shop(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[Shop]:
    framework, kind = request.param
    tmp = tmp_path_factory.mktemp(f"{framework}-{kind}")
    if framework == "django-other":
        if not OTHER_DJANGO_PYTHON:
            pytest.skip("no second Django: set BACKROOM_TEST_DJANGO_PYTHON to a Python with "
                        "another Django, waitress and psycopg (.ci/run makes one)")
        with django_site(kind, tmp, OTHER_DJANGO_PYTHON) as running:
            running.name = f"django-other-{kind}"
            yield running
        return
    site = django_site if framework == "django" else flask_site
    with site(kind, tmp) as running:
        yield running


@pytest.fixture(scope="session")
def django_shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    with django_site("sqlite", tmp_path_factory.mktemp("django-gui")) as running:
        yield running
