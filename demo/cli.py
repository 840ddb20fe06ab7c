"""``backroom demo serve``: run the demo shop in the foreground until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import math
import re
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from demo.scenario import MAX_TRAFFIC_RATE, MAX_WORKERS

MAX_SEED_SCALE = 100.0


class _Parser(argparse.ArgumentParser):
    """A bad argument is one line on stderr and exit 3, as everywhere in the command line."""

    def error(self, message: str) -> NoReturn:
        self.exit(3, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _whole(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: ASCII digits (``int()`` also takes '١٢') from ``low`` to ``high``."""
    def parse(text: str) -> int:
        if not re.fullmatch(r"[+-]?[0-9]{1,30}", text.strip()):
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}")
        if not low <= int(text) <= high:
            raise argparse.ArgumentTypeError(f"must be from {low} to {high}: {text!r}")
        return int(text)

    return parse


def _number(low: float, high: float) -> Callable[[str], float]:
    """An argparse type: a finite number from ``low`` to ``high``."""
    def parse(text: str) -> float:
        try:
            value = float(text) if text.isascii() else math.nan
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not math.isfinite(value) or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be a number from {low:g} to {high:g}: "
                                             f"{text!r}")
        return value

    return parse


def _default_db() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("backroom")) / "demo-shop.sqlite3"


def serve_main(argv: list[str]) -> int:
    """Parse ``[serve] [--port P] [--db PATH] [--no-traffic] [--rate R] ...`` and serve."""
    from demo.shop import DemoShop

    args_in = list(argv)
    if args_in[:1] == ["serve"]:
        args_in = args_in[1:]
    parser = _Parser(prog="backroom demo serve",
                     description="Run the embedded demo shop back end.")
    parser.add_argument("--port", type=_whole(0, 65_535), default=8765,
                        help="TCP port on 127.0.0.1 (0: any)")
    parser.add_argument("--db", type=Path, default=None, help="SQLite file (created and seeded)")
    parser.add_argument("--no-traffic", action="store_true", help="no simulated customers")
    parser.add_argument("--rate", type=_number(0.0, MAX_TRAFFIC_RATE), default=5.0,
                        help="customer actions per second")
    parser.add_argument("--workers", type=_whole(0, MAX_WORKERS), default=2,
                        help="job worker threads")
    parser.add_argument("--redis-url", default=None, help="use Redis as the cache")
    parser.add_argument("--amqp-url", default=None, help="use RabbitMQ as the job queue")
    parser.add_argument("--amqp-queue", default="demo.jobs", help="RabbitMQ queue name")
    parser.add_argument("--token", default=None, help="API bearer token (default: random)")
    parser.add_argument("--seed-scale", type=_number(0.0, MAX_SEED_SCALE), default=1.0,
                        help=argparse.SUPPRESS)
    args = parser.parse_args(args_in)

    shop = DemoShop(args.db or _default_db(), port=args.port, traffic=not args.no_traffic,
                    traffic_rate=args.rate, redis_url=args.redis_url, amqp_url=args.amqp_url,
                    workers=args.workers, token=args.token, seed_scale=args.seed_scale,
                    amqp_queue=args.amqp_queue)
    done = threading.Event()

    def _on_signal(_signum: int, _frame: Any) -> None:
        done.set()

    previous = {s: signal.signal(s, _on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            shop.start()
        except Exception as exc:
            print(f"demo shop could not start: {exc}", file=sys.stderr)
            return 1
        print(f"Demo shop serving at {shop.base_url}", flush=True)
        print(f"API token: {shop.token}", flush=True)
        print(f"Metrics:   {shop.metrics_url}   Health: {shop.base_url}/health", flush=True)
        print(f"Database:  {shop.db_path}", flush=True)
        print("Press Ctrl+C to stop.", flush=True)
        while not done.wait(0.5):
            pass
        return 0
    finally:
        shop.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
