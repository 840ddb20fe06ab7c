"""Backroom's entry point: arguments, the demo shop when asked, then the GUI or a command."""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn

EXIT_OK = 0
EXIT_USAGE = 3
COMMANDS = ("gui", "diagnose", "demo", "db", "package")
PAGES = ("today", "dashboard", "bookings", "floor", "orders", "products", "diagnostics", "alerts",
         "overview", "settings", "past_days")
#: Bounds of the numbers the command line takes: beyond them a run would never end (a
#: --window of inf sleeps forever), overflow Qt's timer, or be a typo.
MAX_QUIT_AFTER_S = 7 * 86_400.0
MAX_SAMPLES = 100
MAX_WINDOW_S = 3_600.0

log = logging.getLogger("backroom")


def _version() -> str:
    from console import __version__

    return __version__


class UsageError(Exception):
    """A bad argument or an unreadable profile: one line on stderr, exit 3."""


class CliParser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line and exits 3 (monitoring 'unknown')."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> CliParser:
    parser = CliParser(
        prog="backroom",
        description="Backroom: the admin console for a restaurant's or shop's web back end.",
    )
    parser.add_argument("--version", action="version", version=f"backroom {_version()}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    gui = sub.add_parser("gui", help="open the console window (the default command)")
    _add_profile_options(gui)
    gui.add_argument("--page", choices=PAGES, help="open on this page")
    gui.add_argument("--quit-after", type=_ranged_float(0.0, MAX_QUIT_AFTER_S, above_low=True),
                     metavar="SECONDS", help="quit cleanly after this many seconds (exit 0)")
    gui.add_argument("--screenshot", type=Path, metavar="PATH",
                     help="save a PNG of the window just before quitting (with --quit-after)")
    gui.add_argument("--no-traffic", action="store_true",
                     help="demo shop: no simulated customers")
    gui.add_argument("--view", choices=("manager", "support"), help="start in this view")

    diag = sub.add_parser("diagnose", help="check every probe and source once, headless")
    _add_profile_options(diag)
    diag.add_argument("--json", action="store_true", help="print one JSON object")
    diag.add_argument("--all", action="store_true",
                      help="every profile in the config folder, one line per shop, worst first")
    diag.add_argument("--samples", type=_ranged_int(1, MAX_SAMPLES), default=5,
                      help=f"requests per probe, 1 to {MAX_SAMPLES} (default 5)")
    diag.add_argument("--window", type=_ranged_float(0.0, MAX_WINDOW_S), default=0.0,
                      metavar="SECONDS",
                      help=f"take two readings this far apart for rates (at most {MAX_WINDOW_S:g})")
    diag.add_argument("--html", type=Path, metavar="PATH", help="also write an HTML report")
    diag.add_argument("--bundle", type=Path, metavar="PATH",
                      help="also write a redacted support bundle (zip)")

    demo = sub.add_parser("demo", help="the embedded demo shop")
    demo_sub = demo.add_subparsers(dest="demo_command", metavar="ACTION", required=True)
    serve = demo_sub.add_parser("serve", help="run the demo shop standalone")
    serve.add_argument("args", nargs=argparse.REMAINDER,
                       help="--port P --db PATH --no-traffic --rate R --redis-url U --amqp-url U")

    db = sub.add_parser("db", help="the shop database for direct SQL (migrations, seed data)")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    init = db_sub.add_parser("init", help="create or upgrade the shop schema")
    init.add_argument("--url", required=True, help="SQLAlchemy URL of the database")
    seed = db_sub.add_parser("seed", help="fill the shop database with believable data")
    seed.add_argument("--url", required=True, help="SQLAlchemy URL of the database")
    seed.add_argument("--bookings", type=_count, default=10_000)
    seed.add_argument("--products", type=_count, default=300)
    seed.add_argument("--orders", type=_count, default=5_000)
    check = db_sub.add_parser("check", help="check the profile's [database.map.*] against the "
                              "live database (tables, columns, types, status values, indexes)")
    check.add_argument("--profile", type=Path, required=True, metavar="PATH",
                       help="the profile whose map to check")

    package = sub.add_parser("package", help="build the installer bundle under dist/")
    package.add_argument("--skip-tarball", action="store_true", help="only the folder")
    return parser


def _add_profile_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--profile", type=Path, metavar="PATH", help="a shop profile (TOML)")
    group.add_argument("--demo", action="store_true", help="use the embedded demo shop")


def _ranged_float(low: float, high: float, *, above_low: bool = False
                  ) -> Callable[[str], float]:
    """An argparse type: a finite number from ``low`` (or more than it) to ``high``."""
    def parse(text: str) -> float:
        try:
            value = float(text) if text.isascii() else math.nan
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"not a finite number: {text!r}")
        if value > high or value < low or (above_low and value == low):
            span = f"more than {low:g} and at most" if above_low else f"from {low:g} to"
            raise argparse.ArgumentTypeError(f"must be {span} {high:g}: {text!r}")
        return value

    return parse


def _ranged_int(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number in ASCII digits (``int()`` also takes '١٢') from
    ``low`` to ``high``."""
    def parse(text: str) -> int:
        if not re.fullmatch(r"[+-]?[0-9]{1,30}", text.strip()):
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}")
        value = int(text)
        if value < low or (high is not None and value > high):
            span = f"from {low:,} to {high:,}" if high is not None else f"{low:,} or more"
            raise argparse.ArgumentTypeError(f"must be {span}: {text!r}")
        return value

    return parse


_count = _ranged_int(0)  # db seed checks the upper bound, where seeding knows its limits


def _normalise(argv: list[str]) -> list[str]:
    """``backroom [--demo ...]`` means ``backroom gui [--demo ...]``."""
    if any(arg in ("-h", "--help", "--version") for arg in argv[:1]):
        return argv
    head = [a for a in argv if a in ("-v", "--verbose")]
    rest = [a for a in argv if a not in ("-v", "--verbose")]
    if not rest or rest[0] not in COMMANDS:
        rest = ["gui", *rest]
    return head + rest


def _parse(argv: list[str]) -> argparse.Namespace:
    """Parse the command line. ``demo serve`` hands everything after it to the demo shop's own
    parser (argparse's REMAINDER cannot take a first argument that looks like an option)."""
    at = next((i for i, arg in enumerate(argv) if arg not in ("-v", "--verbose")), len(argv))
    if argv[at:at + 2] == ["demo", "serve"]:
        args = build_parser().parse_args(argv[:at + 2])
        args.args = argv[at + 2:]
        return args
    return build_parser().parse_args(argv)


def _demo_db_path() -> Path:
    import platformdirs

    directory = Path(platformdirs.user_data_dir("backroom", appauthor=False))
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as err:  # the console still opens; its window says the history is off
        import tempfile

        fallback = Path(tempfile.mkdtemp(prefix="backroom-demo-"))
        log.warning("cannot create %s (%s): the demo shop keeps its data in %s this time",
                    directory, err.strerror or err, fallback)
        directory = fallback
    return directory / "demo-shop.sqlite"


@contextlib.contextmanager
def _demo_shop(traffic: bool, deferred: bool = False) -> Iterator[Any]:
    """The embedded demo shop in this process, stopped on the way out. ``deferred``: only its
    port is bound here; the caller starts it (the GUI does once its window has painted, so
    the shop's imports and seeding are not paid before the first frame)."""
    from demo import DemoShop

    shop = DemoShop(_demo_db_path(), port=0, traffic=traffic)
    if deferred:
        shop.reserve()
    else:
        shop.start()
    try:
        yield shop
    finally:
        shop.stop()


def _load_profile(path: Path) -> Any:
    from console.profile import ProfileError
    from services.local.profiles import load_profile

    try:
        return load_profile(path)
    except ProfileError as exc:
        problems = "; ".join(exc.problems)
        raise UsageError(f"profile {path} is not valid: {problems}") from None
    except OSError as exc:
        raise UsageError(f"cannot read profile {path}: {exc.strerror or exc}") from None


def _default_profile_path() -> Path | None:
    """The user's one configured profile, or None: then the console opens on the demo."""
    from services.local.profiles import default_profile_path

    return default_profile_path()


@contextlib.contextmanager
def _profile_for(args: argparse.Namespace, traffic: bool, deferred: bool = False,
                 broken: list[tuple[Path, str]] | None = None) -> Iterator[tuple[Any, Any]]:
    """Yield (profile, demo shop or None) for the command: --profile, --demo, the default,
    or the demo. With ``broken`` (the GUI), a default profile that cannot be loaded is noted
    there as (path, fault) and the demo opens instead: the window says what is wrong."""
    path = args.profile
    if path is None and not args.demo:
        path = _default_profile_path()
    if path is not None:
        try:
            profile = _load_profile(path)
        except UsageError as exc:
            if args.profile is not None or broken is None:
                raise
            log.warning("%s; opening the demo shop instead", exc)
            broken.append((path, str(exc)))
        else:
            yield profile, None
            return
    from services.local.profiles import demo_profile

    with _demo_shop(traffic, deferred) as shop:
        yield demo_profile(shop.base_url, shop.token, shop.db_path), shop


def _run_gui(args: argparse.Namespace) -> int:
    from ui.platform_libs import platform_problem

    problem = platform_problem()  # before Qt aborts naming one library, or the wrong one
    if problem is not None:
        raise UsageError(problem)
    from ui.app import run_gui

    broken: list[tuple[Path, str]] = []
    with _profile_for(args, traffic=not args.no_traffic, deferred=True,
                      broken=broken) as (profile, shop):
        is_demo = shop is not None
        return run_gui(profile, is_demo=is_demo,
                       first_run=is_demo and not args.demo and not broken,
                       broken_profile=broken[0] if broken else None,
                       page=args.page, quit_after=args.quit_after, screenshot=args.screenshot,
                       view=args.view, masking=args.masking,
                       start_demo=shop.start_in_background if is_demo else None,
                       demo_on_demand=None if is_demo else _demo_on_demand(not args.no_traffic))


def _demo_on_demand(traffic: bool) -> Callable[[], tuple[Any, Any, Callable[[], None]]]:
    """For a window opened on a real shop: the embedded demo shop, made when the user picks
    it in the switcher (its port bound then; it starts once its window has painted)."""
    def make() -> tuple[Any, Any, Callable[[], None]]:
        from demo import DemoShop
        from services.local.profiles import demo_profile

        shop = DemoShop(_demo_db_path(), port=0, traffic=traffic)
        shop.reserve()
        return demo_profile(shop.base_url, shop.token, shop.db_path), \
            shop.start_in_background, shop.stop

    return make


def _run_diagnose(args: argparse.Namespace) -> int:
    from commands.diagnose import diagnose_main

    if args.all:
        return _run_diagnose_all(args)
    with _profile_for(args, traffic=False) as (profile, _shop):
        return diagnose_main(profile, as_json=args.json, samples=args.samples,
                             window_s=args.window, html_path=args.html,
                             bundle_path=args.bundle, stdout=sys.stdout, stderr=sys.stderr)


def _run_diagnose_all(args: argparse.Namespace) -> int:
    """``diagnose --all``: the config folder's profiles; a single-shop option is refused."""
    from commands.diagnose_all import diagnose_all_main

    alone = [flag for flag, given in (("--profile", args.profile is not None),
                                      ("--demo", args.demo), ("--html", args.html is not None),
                                      ("--bundle", args.bundle is not None),
                                      ("--window", args.window > 0)) if given]
    if alone:
        raise UsageError(f"--all reads every profile in the config folder; it does not take "
                         f"{', '.join(alone)}")
    return diagnose_all_main(as_json=args.json, stdout=sys.stdout, stderr=sys.stderr)


def _run_demo(args: argparse.Namespace) -> int:
    from demo import serve_main

    return serve_main(list(args.args))


def _run_package(args: argparse.Namespace) -> int:
    from commands.package import UnusableSource, package_main

    try:
        return package_main(Path(__file__).resolve().parent, skip_tarball=args.skip_tarball)
    except UnusableSource as exc:
        raise UsageError(str(exc)) from None


def _run_db(args: argparse.Namespace) -> int:
    from commands import db as cli

    if args.db_command == "init":
        return cli.db_init_main(args.url, sys.stdout, sys.stderr)
    if args.db_command == "check":
        return cli.db_check_main(_load_profile(args.profile), sys.stdout, sys.stderr)
    return cli.db_seed_main(args.url, args.bookings, args.products, args.orders,
                            sys.stdout, sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the process exit status."""
    if getattr(sys, "frozen", False):
        import multiprocessing

        # a bundled console (PyInstaller) starts its page reader (services/collectors/
        # page_process.py) as itself: that child must run the reader, not the console
        # (from source there is nothing to do, and multiprocessing is not imported yet)
        multiprocessing.freeze_support()
    argv = _normalise(list(sys.argv[1:] if argv is None else argv))
    args = _parse(argv)
    from services.local.logsetup import log_dir, setup_logging

    args.masking = setup_logging(verbose=args.verbose)
    runners = {"gui": _run_gui, "diagnose": _run_diagnose, "demo": _run_demo, "db": _run_db,
               "package": _run_package}
    try:
        return runners[args.command](args)
    except UsageError as exc:
        print(f"backroom: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the last line of defence: one line for the user, detail in the log
        log.error("internal error", exc_info=True, extra={"file_only": True})
        print(f"backroom: internal error: {type(exc).__name__}: {exc} "
              f"(details in {log_dir() / 'backroom.log'})", file=sys.stderr)
        # 3, "unknown": never 1, which diagnose's callers (Nagios, Icinga) read as a warning.
        return EXIT_USAGE


if __name__ == "__main__":
    raise SystemExit(main())
