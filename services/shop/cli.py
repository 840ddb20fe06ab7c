"""``backroom db init`` and ``backroom db seed``: what the entry point calls, with exit codes."""

from __future__ import annotations

import time
from typing import TextIO

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from services.shop.db import SUPPORTED_BACKENDS, SchemaError, init_db, with_driver
from services.shop.seed import seed

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 3
BAR_WIDTH = 30
#: The most rows of one kind ``db seed`` makes: far more than any test or demo needs (10
#: million bookings take minutes on SQLite); a bigger count is a typo that would run for days.
MAX_SEED_ROWS = 10_000_000
EXAMPLES = ("e.g. sqlite:///shop.db, postgresql+psycopg://user@host/db or "
            "mysql+pymysql://user@host/db")


def _safe(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except sa_exc.ArgumentError:
        return "<unparsable URL>"


def _why(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()
    return text[0] if text else type(orig).__name__


def _url_problem(url: str) -> str | None:
    """Why ``url`` cannot be used for the shop schema (one line), or None when it can."""
    try:
        parsed = with_driver(url)
    except sa_exc.ArgumentError:
        return f"not a database URL: {url!r} ({EXAMPLES})"
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED_BACKENDS:
        return (f"{backend} is not supported for the shop schema; supported: sqlite, "
                f"postgresql and mysql/mariadb ({EXAMPLES})")
    try:
        parsed.get_dialect().import_dbapi()
    except (sa_exc.NoSuchModuleError, ImportError) as exc:
        return (f"the database driver for {parsed.drivername} is not installed ({exc}); "
                f"{EXAMPLES}")
    return None


def db_init_main(url: str, stdout: TextIO, stderr: TextIO) -> int:
    """Create or upgrade the shop schema at ``url``: exit 0 ok, 1 failed, 3 bad URL."""
    problem = _url_problem(url)
    if problem is not None:
        stderr.write(f"backroom db init: {problem}\n")
        return EXIT_USAGE
    try:
        revision = init_db(url)
    except SchemaError as exc:
        stderr.write(f"backroom db init: {exc}\n")
        return EXIT_FAILED
    except (sa_exc.SQLAlchemyError, OSError) as exc:
        stderr.write(f"backroom db init: could not migrate {_safe(url)}: {_why(exc)}\n")
        return EXIT_FAILED
    stdout.write(f"shop schema at {_safe(url)} is at revision {revision}\n")
    return EXIT_OK


class ProgressBar:
    """A one-line text progress bar redrawn with carriage returns (throttled to ~10 Hz)."""

    def __init__(self, stream: TextIO, width: int = BAR_WIDTH) -> None:
        self.stream = stream
        self.width = width
        self._last = 0.0
        self._started = time.monotonic()
        self._longest = 0

    def __call__(self, done: int, total: int, what: str) -> None:
        now = time.monotonic()
        if done < total and now - self._last < 0.1:
            return
        self._last = now
        fraction = done / total if total else 1.0
        filled = round(fraction * self.width)
        bar = "#" * filled + "-" * (self.width - filled)
        elapsed = now - self._started
        line = f"[{bar}] {fraction:4.0%} {done:,}/{total:,} rows ({what}, {elapsed:.1f} s)"
        # Pad over what a longer previous line left behind (no terminal escapes: stderr
        # may be a file).
        self.stream.write("\r" + line.ljust(self._longest))
        self._longest = max(self._longest, len(line))
        self.stream.flush()

    def finish(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


def db_seed_main(url: str, bookings: int, products: int, orders: int, stdout: TextIO,
                 stderr: TextIO) -> int:
    """Seed the shop database at ``url`` with a progress bar on ``stderr``."""
    counts = {"bookings": bookings, "products": products, "orders": orders}
    if min(counts.values()) < 0:
        stderr.write("backroom db seed: counts cannot be negative\n")
        return EXIT_USAGE
    too_many = [name for name, count in counts.items() if count > MAX_SEED_ROWS]
    if too_many:
        stderr.write(f"backroom db seed: --{too_many[0]} must be at most {MAX_SEED_ROWS:,}\n")
        return EXIT_USAGE
    problem = _url_problem(url)
    if problem is not None:
        stderr.write(f"backroom db seed: {problem}\n")
        return EXIT_USAGE
    bar = ProgressBar(stderr)
    try:
        result = seed(url, bookings=bookings, products=products, orders=orders, progress=bar)
    except SchemaError as exc:
        bar.finish()
        stderr.write(f"backroom db seed: {exc}\n")
        return EXIT_FAILED
    except (sa_exc.SQLAlchemyError, OSError) as exc:
        bar.finish()
        stderr.write(f"backroom db seed: could not seed {_safe(url)}: {_why(exc)}\n")
        return EXIT_FAILED
    bar.finish()
    stdout.write(f"seeded {_safe(url)} in {result.seconds:.1f} s: {result.customers:,} customers, "
                 f"{result.bookings:,} bookings, {result.products:,} products, "
                 f"{result.orders:,} orders ({result.order_items:,} order lines)\n")
    return EXIT_OK
