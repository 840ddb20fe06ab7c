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
from typing import Any

import pytest

from services.shop.api import ApiShopRepository
from tests import servers
from tests.integration.local_servers import process_on_port
from tests.support.databases import throwaway_mariadb

HERE = Path(__file__).resolve().parent
DJANGO_SITE = HERE / "django_bistro"
FLASK_SITE = HERE / "flask_cafe"
CONNECTORS = HERE.parents[1] / "connectors"
#: A second interpreter with other versions: the current Django (6, on Python 3.12) and the
#: previous Flask major (2.3); .ci/run makes one when it finds Python 3.12. The sites run on
#: it with the connectors from this checkout on their path.
OTHER_PYTHON = os.environ.get("BACKROOM_TEST_OTHER_PYTHON", "")


@dataclass
class Shop:
    """One running shop: its connector's URL (the profile's base_url) and token."""

    name: str
    base_url: str
    token: str
    database: str = ""
    """The shop's database as a SQLAlchemy URL: what a test checks the connector against."""
    admin_password: str = ""
    """The Django site's owner's password for its admin (user ``owner``)."""

    def repo(self, user: str = "") -> ApiShopRepository:
        return ApiShopRepository(self.base_url, self.token, timeout=10.0, user=user)


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
def mariadb_database() -> Iterator[str]:
    """A database of our own on the machine's MariaDB, in the server's default collation
    for utf8mb4, dropped afterwards: its SQLAlchemy URL (PyMySQL)."""
    url, drop = throwaway_mariadb("connect", collation=None)
    try:
        yield url
    finally:
        drop()


@contextmanager
def database(kind: str, tmp: Path) -> Iterator[str]:
    if kind == "postgresql":
        with postgres_database() as url:
            yield url
    elif kind == "mariadb":
        with mariadb_database() as url:
            yield url
    else:
        yield str(tmp / "shop.sqlite3")


def _site_env(python: str, site: Path, connector: str, **extra: str) -> dict[str, str]:
    # The connectors of this checkout, ahead of any installed copy (an editable install of
    # another checkout would otherwise be what the site runs).
    paths = [site, CONNECTORS / "core", CONNECTORS / connector]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(map(str, paths)), **extra}


@contextmanager
def django_site(kind: str, tmp: Path, python: str = sys.executable,
                zone: str = "UTC") -> Iterator[Shop]:
    """The bistro; ``zone`` is its TIME_ZONE (the days its reports count)."""
    _needs("backroom_connect")
    token, password = secrets.token_urlsafe(24), secrets.token_urlsafe(12)
    with database(kind, tmp) as db:
        env = _site_env(python, DJANGO_SITE, "django", DJANGO_SETTINGS_MODULE="bistro.settings",
                        BISTRO_DB=db, BACKROOM_TOKEN=token, BISTRO_TZ=zone,
                        BISTRO_ADMIN_PASSWORD=password)
        for step in (["-m", "django", "migrate", "-v", "0"], ["-m", "bistro.seed"]):
            subprocess.run([python, *step], env=env, cwd=DJANGO_SITE, check=True,
                           timeout=120)
        port = servers.free_port()
        with process_on_port([python, *_waitress("bistro.wsgi:application", port)], port,
                             "Django site", timeout_s=30, env=env):
            yield Shop(f"django-{kind}", f"http://127.0.0.1:{port}/backroom", token,
                       _sqlalchemy_url(kind, db), password)


@contextmanager
def flask_site(kind: str, tmp: Path, python: str = sys.executable,
               orm: str = "sqlalchemy") -> Iterator[Shop]:
    """The café; ``orm`` is ``sqlalchemy`` (a plain sessionmaker) or ``flask-sqlalchemy``."""
    _needs("backroom_connect_flask")
    token = secrets.token_urlsafe(24)
    with database(kind, tmp) as db:
        url = _sqlalchemy_url(kind, db)
        env = _site_env(python, FLASK_SITE, "flask", CAFE_DB=url, CAFE_ORM=orm,
                        BACKROOM_TOKEN=token)
        port = servers.free_port()
        with process_on_port([python, *_waitress("cafe:create_app", port)[:-1], "--call",
                              "cafe:create_app"], port, "Flask café", timeout_s=30, env=env):
            yield Shop(f"flask-{kind}", f"http://127.0.0.1:{port}/backroom", token, url)


def _sqlalchemy_url(kind: str, db: str) -> str:
    if kind == "postgresql":
        return db.replace("postgresql://", "postgresql+psycopg://")
    return db if kind == "mariadb" else f"sqlite:///{db}"


def _waitress(app: str, port: int) -> list[str]:
    return ["-m", "waitress", "--listen", f"127.0.0.1:{port}", "--threads", "4", app]


def _shop(framework: str, kind: str) -> Any:
    return pytest.param((framework, kind), id=f"{framework}-{kind}",
                        marks=[pytest.mark.integration] if kind != "sqlite" else [])


SHOPS = [_shop("django", "sqlite"), _shop("django", "postgresql"), _shop("django", "mariadb"),
         _shop("flask", "sqlite"), _shop("flask", "postgresql"), _shop("flask", "mariadb"),
         _shop("flask-sqlalchemy", "sqlite"),
         _shop("django-other", "sqlite"), _shop("django-other", "postgresql"),
         _shop("flask-other", "sqlite")]


@pytest.fixture(scope="session", params=SHOPS)
def shop(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[Shop]:
    framework, kind = request.param
    tmp = tmp_path_factory.mktemp(f"{framework}-{kind}")
    python = sys.executable
    if framework.endswith("-other"):
        if not OTHER_PYTHON:
            pytest.skip("no second interpreter: set BACKROOM_TEST_OTHER_PYTHON to a Python "
                        "with Django 6, Flask 2.3, SQLAlchemy, waitress and psycopg "
                        "(.ci/run makes one)")
        python = OTHER_PYTHON
    if framework == "flask-sqlalchemy":
        _needs("flask_sqlalchemy")
    site = (django_site(kind, tmp, python) if framework.startswith("django")
            else flask_site(kind, tmp, python,
                            "flask-sqlalchemy" if framework == "flask-sqlalchemy"
                            else "sqlalchemy"))
    with site as running:
        running.name = f"{framework}-{kind}"
        yield running


@pytest.fixture(scope="session")
def django_shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    with django_site("sqlite", tmp_path_factory.mktemp("django-gui")) as running:
        yield running
