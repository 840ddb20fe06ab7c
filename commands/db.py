"""`backroom db init`, `db seed` and `db check`: what the entry point calls, with exit codes."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, TextIO

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from services.shop.db import SUPPORTED_BACKENDS, SchemaError, init_db, with_driver
from services.shop.seed import seed

if TYPE_CHECKING:
    from console.profile import Profile

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


def db_check_main(profile: Profile, stdout: TextIO, stderr: TextIO) -> int:
    """Check the profile's ``[database.map.*]`` against the live database: exit 0 when it
    fits (advice such as a missing index is printed, never acted on), 1 when something is
    missing, 3 when the profile has no map to check."""
    from services.local.secrets import SecretError, resolve_secret
    from services.shop.db import make_engine
    from services.shop.mapping import check_map

    database = profile.database
    if database is None or database.map is None:
        stderr.write("backroom db check: the profile has no [database.map.*] to check "
                     "(see docs/connect.md)\n")
        return EXIT_USAGE
    problem = _url_problem(database.url)
    if problem is not None:
        stderr.write(f"backroom db check: {problem}\n")
        return EXIT_USAGE
    try:
        password = resolve_secret(database.password) if database.password else None
    except SecretError as exc:
        stderr.write(f"backroom db check: {exc}\n")
        return EXIT_USAGE
    engine = make_engine(database.url, password=password, timeout=database.timeout_s)
    try:
        result = check_map(engine, database.map)
    except (sa_exc.SQLAlchemyError, OSError) as exc:
        stderr.write(f"backroom db check: could not reach {_safe(database.url)}: {_why(exc)}\n")
        return EXIT_FAILED
    finally:
        engine.dispose()
    for line in result.found:
        stdout.write(f"ok       {line}\n")
    for line in result.advice:
        stdout.write(f"advice   {line}\n")
    for line in result.problems:
        stdout.write(f"missing  {line}\n")
    if result.problems:
        stderr.write(f"backroom db check: the map does not fit {_safe(database.url)} "
                     f"({len(result.problems)} missing)\n")
        return EXIT_FAILED
    stdout.write(f"the map fits {_safe(database.url)}\n")
    return EXIT_OK
