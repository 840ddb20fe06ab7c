"""Settings of the test restaurant site; BISTRO_DB: SQLite (a path), a PostgreSQL or MySQL URL."""

import os
from urllib.parse import urlsplit

BASE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECRET_KEY = "test-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
TIME_ZONE = os.environ.get("BISTRO_TZ", "UTC")
ROOT_URLCONF = "bistro.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = [
    "django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
    "django.contrib.sessions", "django.contrib.messages",
    "reservations", "kitchen",
    "backroom_connect",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages"]},
}]

_db = os.environ.get("BISTRO_DB", os.path.join(BASE_DIR, "bistro.sqlite3"))
if _db.startswith("postgresql://"):
    _url = urlsplit(_db)
    DATABASES = {"default": {
        "ENGINE": "django.db.backends.postgresql", "NAME": _url.path.lstrip("/"),
        "USER": _url.username or "postgres", "HOST": _url.hostname, "PORT": _url.port or 5432,
    }}
elif _db.startswith("mysql"):  # MariaDB through PyMySQL, standing in for mysqlclient
    import pymysql

    pymysql.install_as_MySQLdb()
    _url = urlsplit(_db)
    DATABASES = {"default": {
        "ENGINE": "django.db.backends.mysql", "NAME": _url.path.lstrip("/"),
        "USER": _url.username or "root", "HOST": _url.hostname, "PORT": _url.port or 3306,
        "OPTIONS": {"charset": "utf8mb4"},
    }}
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": _db,
                             "OPTIONS": {"timeout": 10}}}

BACKROOM_CONNECT = {
    "token": os.environ.get("BACKROOM_TOKEN", ""),
    "bookings": {
        "model": "reservations.Reservation",
        "fields": {"start_at": "time", "guest_name": "name", "party_size": "covers",
                   "phone": "phone", "table": "table_no", "notes": "notes", "status": "state"},
        "status_values": {"confirmed": "C", "seated": "S", "cancelled": "X", "no_show": "N"},
        "version": "updated_at",
    },
    "products": {
        "model": "kitchen.Dish",
        "fields": {"sku": "code", "name": "title", "category": "section",
                   "price_cents": "price_pence", "stock": "portions_left",
                   "low_stock_threshold": "reorder_at", "active": "on_menu"},
        "version": "revision",
    },
    "orders": {
        "model": "kitchen.Ticket",
        "fields": {"customer_name": "guest", "placed_at": "opened", "status": "stage",
                   "total_cents": "bill_pence", "item_count": "dishes"},
        "status_values": {"pending": "open", "paid": "paid", "preparing": "cooking",
                          "ready": "pass", "completed": "served", "cancelled": "void",
                          "refunded": "refund"},
        # no version: tickets are read-only in Backroom
    },
    "tables": {
        "model": "reservations.DiningTable",
        "fields": {"number": "number", "label": "label", "seats": "seats", "room": "room"},
        "floor": {"opens_at": "11:00", "closes_at": "23:00", "slot_minutes": 30,
                  "covers_per_slot": 20, "turn_minutes": 90},
    },
    "waitlist": {
        "model": "reservations.WaitingParty",
        "fields": {"guest_name": "guest", "phone": "mobile", "party_size": "people",
                   "quoted": "quoted", "added_at": "joined", "seated_at": "seated",
                   "removed_at": "left", "booking_id": "reservation", "state": "state"},
        "status_values": {"waiting": "W", "seated": "S", "removed": "G"},
    },
    "order_lines": {
        "model": "kitchen.TicketLine",
        "fields": {"order": "ticket", "product": "dish", "quantity": "qty",
                   "price_cents": "price_pence"},
    },
}
